/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP in the running host (see tcp_glue.h): the only TCP file that touches
 * mbufs, the FIB and sockets. Input checks the checksum (the NIC's verdict
 * when it gave one, software otherwise), parses the fixed header and hands a
 * struct tcp_seg to the lcore's state machine; the mbuf is freed when
 * tcp_input() returns, since the payload has been copied into the receive
 * ring by then. Output allocates one mbuf per segment (a chain for a TSO
 * send of several), writes header and options, copies the payload from the
 * send ring and calls ipv4_output() with the checksum (and, for TSO, the
 * cutting) left to the NIC when it can.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "core/host.h"
#include "core/pkt.h"
#include "ctx/ctx.h"
#include "flow/flow.h"
#include "ipv4/ipv4.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "tcp/tcp_glue.h"
#include "tcp/tcp_share.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

/* Room before the IPv4 header for Ethernet and a VLAN tag. */
#define GLUE_L2_ROOM (14 + 4)

/* Copy LEN bytes of O's payload, from byte FROM on, to DST. */
static void
glue_copy_payload(uint8_t *dst, const struct tcp_out *o, uint32_t from, uint32_t len)
{
	for (unsigned i = 0; i < 2 && len > 0; i++) {
		uint32_t n;

		if (from >= o->dlen[i]) {
			from -= o->dlen[i];
			continue;
		}
		n = RTE_MIN(o->dlen[i] - from, len);
		memcpy(dst, o->data[i] + from, n);
		dst += n;
		len -= n;
		from = 0;
	}
}

/* The payload after the header in M, which has room for HLEN + what fits;
 * a TSO send larger than one mbuf continues in a chain. 0 or -ENOBUFS. */
static int
glue_fill(struct ph_lcore *lc, struct rte_mbuf *m, const struct tcp_out *o, uint16_t hlen,
          uint8_t *p)
{
	uint32_t first = RTE_MIN(o->len, (uint32_t)rte_pktmbuf_tailroom(m) - hlen);
	uint32_t done = first, room = rte_pktmbuf_data_room_size(lc->host->pool);
	struct rte_mbuf *last = m;

	if (rte_pktmbuf_append(m, (uint16_t)(hlen + first)) == NULL)
		return -ENOBUFS;
	glue_copy_payload(p + hlen, o, 0, first);
	while (done < o->len) {
		struct rte_mbuf *seg = rte_pktmbuf_alloc(lc->host->pool);
		uint32_t n;

		if (seg == NULL)
			return -ENOBUFS;
		seg->data_off = 0; /* no headroom: only the first mbuf gets headers */
		n = RTE_MIN(o->len - done, room);
		glue_copy_payload(rte_pktmbuf_mtod(seg, uint8_t *), o, done, n);
		seg->data_len = (uint16_t)n;
		last->next = seg;
		last = seg;
		m->nb_segs++;
		m->pkt_len += n;
		done += n;
	}
	return 0;
}

static int
glue_emit(struct tcp_stack *st, struct tcp_conn *c, const struct tcp_out *o)
{
	struct ph_lcore *lc = st->arg;
	struct rte_mbuf *m = rte_pktmbuf_alloc(lc->host->pool);
	struct tcp_hdr_repr hdr = {
	        .sport = o->sport,
	        .dport = o->dport,
	        .seq = o->seq,
	        .ack = o->ack,
	        .flags = o->flags,
	        .wnd = o->wnd,
	};
	uint16_t hlen = (uint16_t)(TCP_HDR_LEN + o->optlen);
	struct ipv4_out io = {
	        .src = o->saddr,
	        .dst = o->daddr,
	        .ctx = o->ctx,
	        .proto = IPPROTO_TCP,
	        .tos = o->tos,
	        .ttl = o->ttl,
	        .df = true,
	        .l4_csum_off = 16,
	        .tso_segsz = o->tso_segsz,
	        .l4_len = (uint8_t)hlen,
	};
	uint8_t *p;

	(void)c;
	if (m == NULL) {
		ph_drop_count(&lc->ctr, PH_DROP_NO_MBUF, 1);
		return -ENOBUFS;
	}
	p = rte_pktmbuf_mtod(m, uint8_t *);
	if (io.tso_segsz == 0 && hlen + o->len > rte_pktmbuf_tailroom(m)) {
		/* Cannot happen: glue_route keeps the MSS inside one mbuf. */
		ph_drop(lc, m, PH_DROP_TCP_SEG_TOO_BIG);
		return -EMSGSIZE;
	}
	if (glue_fill(lc, m, o, hlen, p) != 0) {
		ph_drop(lc, m, PH_DROP_NO_MBUF);
		return -ENOBUFS;
	}
	tcp_hdr_write(p, &hdr, o->opt, o->optlen);
	return ipv4_output(lc, m, &io);
}

static void
glue_wakeup(struct tcp_stack *st, struct tcp_conn *c)
{
	(void)st;
	if (c->user != NULL)
		sock_wakeup(c->user);
}

static int
glue_route(struct tcp_stack *st, uint16_t ctx, uint32_t daddr, struct tcp_path *path)
{
	struct ph_lcore *lc = st->arg;
	struct ph_host *h = lc->host;
	const struct ph_local *l = ctx_local_lookup(h, ctx, daddr);
	const struct ph_nexthop *nh = ctx_route(h, ctx, daddr);
	uint32_t room = rte_pktmbuf_data_room_size(h->pool) - RTE_PKTMBUF_HEADROOM - GLUE_L2_ROOM;

	path->tso_max = 0;
	if (l != NULL && l->kind == PH_LOCAL_UNICAST) {
		path->saddr = daddr;
		path->mtu = ph_iface(h, l->ifindex)->mtu;
	} else if (nh != NULL) {
		const struct ph_iface *ifc = ph_iface(h, nh->ifindex);
		const struct ph_port *port = ph_iface_port(h, ifc);

		path->saddr = ctx_iface_source(h, nh->ifindex, daddr);
		path->mtu = ifc->mtu;
		if (port->ol.tx_tso)
			path->tso_max = port->ol.tso_max;
	} else {
		return -ENETUNREACH;
	}
	if (path->saddr == 0)
		return -EADDRNOTAVAIL;
	/* A segment is one mbuf: the MSS never asks for more. */
	if (path->mtu > room)
		path->mtu = room;
	return 0;
}

static bool
glue_local_addr(struct tcp_stack *st, uint16_t ctx, uint32_t addr)
{
	struct ph_lcore *lc = st->arg;
	const struct ph_local *l = ctx_local_lookup(lc->host, ctx, addr);

	return l != NULL && l->kind == PH_LOCAL_UNICAST;
}

static void
glue_listening(struct tcp_stack *st, const struct tcp_conn *c, bool on)
{
	struct ph_lcore *lc = st->arg;
	uint64_t *w = &lc->host->tcp_listen_lcores[c->lport];
	uint64_t bit = 1ull << lc->index; /* tcp_host_init: at most 64 lcores */

	/* Another listener of this lcore may still hold the port. */
	if (!on && tcp_port_listening(st, c->lport))
		return;
	if (on)
		__atomic_fetch_or(w, bit, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(w, ~bit, __ATOMIC_RELEASE);
}

/* tcp_ops.flow_ours: by the RSS of the port the replies arrive on. */
static int
glue_flow_ours(struct tcp_stack *st, uint16_t ctx, uint32_t laddr, uint16_t lport, uint32_t raddr,
               uint16_t rport)
{
	struct ph_lcore *lc = st->arg;
	const struct ph_port *p = NULL;

	switch (flow_reply_way(lc, ctx, raddr, &p)) {
	case FLOW_REPLY_ANY:
		return 1;
	case FLOW_REPLY_NEVER:
		return -1; /* the lcore's slice, found through the inbox */
	default:
		/* Replies arrive with the peer as source (RSS hashes them so). */
		return flow_owner_l4(lc->host, p, raddr, laddr, rport, lport) == lc->index;
	}
}

static const struct tcp_ops glue_ops = {
        .emit = glue_emit,
        .wakeup = glue_wakeup,
        .route = glue_route,
        .local_addr = glue_local_addr,
        .listening = glue_listening,
        .flow_ours = glue_flow_ours,
};

int
tcp_host_init(struct ph_host *h)
{
	const struct ph_conf_host *c = &h->conf->host;

	/* A bit per lcore in the listener map; a slice of ports per lcore. */
	if (h->n_lcores > 64 || (uint32_t)c->ephemeral_hi - c->ephemeral_lo + 1 < 4u * h->n_lcores)
		return -ERANGE;
	h->tcp_listen_lcores = rte_zmalloc("ph_tcp_listen", 65536 * sizeof(uint64_t), 0);
	if (h->tcp_listen_lcores == NULL)
		return -ENOMEM;
	return tcp_share_host_init(h);
}

void
tcp_host_fini(struct ph_host *h)
{
	tcp_share_host_fini(h);
	rte_free(h->tcp_listen_lcores);
	h->tcp_listen_lcores = NULL;
}

/*
 * Each lcore opens connections from its own slice of the ephemeral range, so
 * a reply that lands on another lcore (the NIC spreads flows by its own hash)
 * can be passed to the opener by its destination port alone. Issue 6's RSS
 * work chooses ports whose hash returns to the opener instead.
 */
/*
 * The ephemeral ports: with several lcores, the first quarter is cut into a
 * slice per lcore, for connections whose replies no port choice can bring
 * to their lcore (one on the lead, or on a worker that polls no queue of
 * the way out); the rest is the rss range, where a worker takes only
 * ports whose replies RSS (or steering) sends to it. With one lcore it
 * has the whole range.
 */
/* The first ephemeral port and how many ports each lcore's slice has. */
static uint32_t
eph_slices(const struct ph_host *h, uint32_t *per)
{
	uint32_t l = h->conf->host.ephemeral_lo, n = h->conf->host.ephemeral_hi - l + 1;

	*per = (h->n_lcores > 1 ? n / 4 : n) / h->n_lcores;
	return l;
}

static void
eph_ranges(const struct ph_host *h, uint16_t index, uint16_t *lo, uint16_t *hi, uint16_t *rss_lo,
           uint16_t *rss_hi)
{
	uint32_t per, l = eph_slices(h, &per);

	*lo = (uint16_t)(l + per * index);
	*hi = (uint16_t)(l + per * (index + 1u) - 1);
	*rss_lo = *rss_hi = 0;
	if (h->n_lcores > 1 && h->lcores[index]->is_worker) {
		*rss_lo = (uint16_t)(l + per * h->n_lcores);
		*rss_hi = h->conf->host.ephemeral_hi;
	}
}

/* The lcore whose slice holds PORT, or -1 for a port outside the slices. */
static int
eph_slice_of(const struct ph_host *h, uint16_t port)
{
	uint32_t per, l = eph_slices(h, &per);

	if (port < l || port >= l + per * h->n_lcores)
		return -1;
	return (int)((port - l) / per);
}

/*
 * The lcore that should see a segment this lcore has no connection for, or
 * this lcore itself when there is none left to try. ORIGIN is the lcore it
 * arrived on (after steering: the flow's owner). A port in an lcore's slice
 * belongs to that lcore; otherwise the segment visits the lcores that
 * listen on its port in index order, once each, since any of their
 * listeners may have made the connection. A connection on an rss-range
 * port is where steering brought the segment: nothing to try.
 */
static uint16_t
flow_owner(const struct ph_lcore *lc, const struct tcp_seg *seg, uint16_t origin)
{
	const struct ph_host *h = lc->host;
	uint64_t listeners;
	int slice;

	if (h->n_lcores < 2)
		return lc->index;
	listeners = __atomic_load_n(&h->tcp_listen_lcores[seg->dport], __ATOMIC_ACQUIRE);
	if (listeners != 0) {
		for (uint16_t j = 1; j < h->n_lcores; j++) {
			uint16_t idx = (uint16_t)((lc->index + j) % h->n_lcores);

			if (idx == origin)
				break;
			if (listeners & (1ull << idx))
				return idx;
		}
		return lc->index;
	}
	slice = eph_slice_of(h, seg->dport);
	if (slice >= 0)
		return origin == lc->index ? (uint16_t)slice : lc->index;
	return lc->index;
}

void
tcp_glue_now(struct ph_lcore *lc)
{
	struct ph_host *h = lc->host;
	uint64_t tsc = rte_rdtsc() - h->start_tsc;

	lc->tcp->now = tsc / (h->tsc_hz / 1000);
	lc->tcp->now_us = tsc / (h->tsc_hz / 1000000 ? h->tsc_hz / 1000000 : 1);
}

/* Re-anchor the timestamp clock to the machine's uptime: the stack's ms
 * come from the TSC, whose rate DPDK estimates, so over days they drift
 * from real time by seconds. A connection keeps the offset it was made with
 * (its timestamps stay monotonic); new ones start from the new anchor. It
 * moves only once the drift passes 100 ms, not with every ms of rounding:
 * a SYN cookie's timestamp is checked against the anchor of the moment its
 * ACK comes back. Once a ms, with the timers; FORCE at start. */
#define TS_ANCHOR_SLACK_MS 100

static void
tcp_ts_clock_anchor(struct tcp_stack *st, bool force)
{
	struct timespec ts;
	uint32_t base;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		return;
	base = (uint32_t)((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 - st->now);
	if (force || base - st->ts_base + TS_ANCHOR_SLACK_MS > 2 * TS_ANCHOR_SLACK_MS)
		st->ts_base = base;
}

/* The timestamp clock of a host process: the machine's uptime in ms, and
 * offsets keyed with a secret that lasts as long as the boot. A polyhost
 * process that restarts (a new host, to its peers) then sends each 4-tuple
 * larger timestamps than it did before, and a peer still holding the old
 * connection in TIME-WAIT accepts the new SYN at once (RFC 6191) instead of
 * answering it with an ACK until TIME-WAIT ends. The boot id is readable by
 * every local user and container of the machine, so they could compute the
 * offsets; from the network they stay secret. Without it the secret stays
 * random (restarts then collide with TIME-WAIT half the time, as across a
 * reboot). */
static void
tcp_ts_clock_setup(struct tcp_stack *st)
{
	static const uint8_t k0[16] = "polyhost-tsboot0", k1[16] = "polyhost-tsboot1";
	char id[64];
	size_t n = 0;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	if (f != NULL) {
		n = fread(id, 1, sizeof(id), f);
		fclose(f);
	}
	if (n >= 32) {
		uint64_t a = tcp_siphash(k0, id, n), b = tcp_siphash(k1, id, n);

		memcpy(st->ts_secret, &a, 8);
		memcpy(st->ts_secret + 8, &b, 8);
	}
	tcp_ts_clock_anchor(st, true);
}

unsigned
tcp_lcore_poll(struct ph_lcore *lc)
{
	struct tcp_stack *st = lc->tcp;

	if (lc->now_ms == st->wheel_now)
		return 0;
	tcp_glue_now(lc);
	tcp_ts_clock_anchor(st, false);
	return tcp_timers_run(st);
}

int
tcp_lcore_init(struct ph_lcore *lc)
{
	struct ph_host *h = lc->host;
	const struct ph_conf *conf = h->conf;
	int rc;

	int numa = (int)rte_lcore_to_socket_id(lc->lcore_id);

	lc->tcp = rte_zmalloc_socket("ph_tcp", sizeof(*lc->tcp), RTE_CACHE_LINE_SIZE, numa);
	lc->tcp_scratch = rte_malloc_socket("ph_tcp_scratch", 65536, 0, numa);
	if (lc->tcp == NULL || lc->tcp_scratch == NULL || tcp_share_lcore_init(lc) != 0)
		return -ENOMEM;
	uint16_t lo, hi, rss_lo, rss_hi;

	eph_ranges(h, lc->index, &lo, &hi, &rss_lo, &rss_hi);
	rc = tcp_stack_init(lc->tcp, &conf->tcp, lo, hi, &glue_ops, lc, &lc->ctr);
	if (rc != 0)
		return rc;
	lc->tcp->rss_lo = rss_lo;
	lc->tcp->rss_hi = rss_hi;
	tcp_glue_now(lc);
	lc->tcp->wheel_now = lc->tcp->now;
	tcp_ts_clock_setup(lc->tcp);
	return 0;
}

void
tcp_lcore_fini(struct ph_lcore *lc)
{
	if (lc->tcp != NULL) {
		tcp_stack_fini(lc->tcp);
		rte_free(lc->tcp);
		lc->tcp = NULL;
	}
	rte_free(lc->tcp_scratch);
	lc->tcp_scratch = NULL;
	tcp_share_lcore_fini(lc);
}

static enum ph_drop
glue_check(struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint16_t hl)
{
	uint64_t ol = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (ph_pkt_meta(m)->flags & PH_PKT_LOOPED)
		return PH_DROP_NONE;
	/* As in UDP: CKSUM_NONE means intact data with the field left to us;
	 * a reassembled chain carries one fragment's flags, so check it all. */
	if (m->nb_segs > 1 || ol == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN) {
		if (rte_ipv4_udptcp_cksum_mbuf_verify(m, ip, hl) != 0)
			return PH_DROP_TCP_BAD_CSUM;
	} else if (ol == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
		return PH_DROP_TCP_BAD_CSUM;
	}
	return PH_DROP_NONE;
}

/* One segment (data at its IPv4 header). FORWARDED: another lcore passed it
 * here (meta.sock holds the lcore it arrived on). Consumes M. */
static void
glue_input(struct ph_lcore *lc, struct rte_mbuf *m, bool forwarded)
{
	struct tcp_stack *st = lc->tcp;
	struct ph_pkt_meta *meta = ph_pkt_meta(m);
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint16_t hl = (uint16_t)rte_ipv4_hdr_len(ip);
	uint32_t len = rte_pktmbuf_pkt_len(m) - hl;
	struct tcp_hdr_repr h;
	struct tcp_seg seg;
	const uint8_t *p;
	enum ph_drop why;
	uint16_t owner;

	if (len < TCP_HDR_LEN) {
		ph_mib(lc, PH_MIB_tcpInSegs); /* RFC 4022: errors count as received */
		ph_drop(lc, m, PH_DROP_TCP_TRUNCATED);
		return;
	}
	if (!forwarded && (why = glue_check(m, ip, hl)) != PH_DROP_NONE) {
		ph_mib(lc, PH_MIB_tcpInSegs);
		if (why == PH_DROP_TCP_BAD_CSUM)
			ph_mib(lc, PH_MIB_tcpInErrs); /* and tcpInCsumErrors, by the drop */
		ph_drop(lc, m, why);
		return;
	}
	/* The state machine reads one contiguous segment. */
	if (m->nb_segs == 1)
		p = rte_pktmbuf_mtod_offset(m, const uint8_t *, hl);
	else
		p = rte_pktmbuf_read(m, hl, len, lc->tcp_scratch);
	why = tcp_hdr_parse(p, len, &h);
	if (why != PH_DROP_NONE) {
		ph_mib(lc, PH_MIB_tcpInSegs);
		ph_drop(lc, m, why);
		return;
	}
	seg = (struct tcp_seg){
	        .ctx = meta->ctx,
	        .saddr = rte_be_to_cpu_32(ip->src_addr),
	        .daddr = rte_be_to_cpu_32(ip->dst_addr),
	        .sport = h.sport,
	        .dport = h.dport,
	        .seq = h.seq,
	        .ack = h.ack,
	        .flags = h.flags,
	        .wnd = h.wnd,
	        .opt = p + TCP_HDR_LEN,
	        .optlen = (uint8_t)(h.hdr_len - TCP_HDR_LEN),
	        .data = p + h.hdr_len,
	        .len = len - h.hdr_len,
	        .not_unicast =
	                (meta->flags & (PH_PKT_IP_BCAST | PH_PKT_L2_BCAST | PH_PKT_L2_MCAST)) != 0,
	};
	if (tcp_input_local(st, &seg)) {
		/* Its connection lives here, not on the lcore RSS names (a
		 * listener elsewhere made it, or no port could be owned). */
		if (forwarded)
			ph_mib(lc, PH_MIB_tcp_segs_off_owner);
		rte_pktmbuf_free(m);
		return;
	}
	if (!forwarded)
		meta->sock = lc->index;
	owner = flow_owner(lc, &seg, (uint16_t)meta->sock);
	if (owner != lc->index) {
		meta->lead_op = PH_INBOX_TCP_SEG;
		if (rte_ring_mp_enqueue(lc->host->lcores[owner]->inbox, m) != 0)
			ph_drop(lc, m, PH_DROP_INBOX_FULL);
		else
			ph_mib(lc, PH_MIB_sockInboxOut);
		return;
	}
	tcp_input(st, &seg); /* nobody has it: the closed-port answer */
	rte_pktmbuf_free(m);
}

void
tcp_ip_input(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	tcp_glue_now(lc);
	for (uint16_t i = 0; i < n; i++)
		glue_input(lc, pkts[i], false);
}

static void glue_icmp(struct ph_lcore *lc, struct rte_mbuf *m);

void
tcp_inbox_input(struct ph_lcore *lc, struct rte_mbuf *m)
{
	if (ph_pkt_meta(m)->lead_op == PH_INBOX_TCP_ICMP) {
		glue_icmp(lc, m);
		return;
	}
	tcp_glue_now(lc);
	glue_input(lc, m, true);
}

/* What an ICMP error about one of our segments quotes. */
struct icmp_quote {
	uint32_t laddr, raddr, seq;
	uint16_t lport, rport, mtu;
};

/* Read the quote of the ICMP error in M (data at its IPv4 header; the quote
 * follows the 8-byte ICMP header). false when it is too short to name a
 * connection (RFC 792: the IP header and 8 bytes must be there). */
static bool
icmp_quote_read(struct rte_mbuf *m, struct icmp_quote *iq)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint16_t quote = (uint16_t)(rte_ipv4_hdr_len(ip) + 8), qhl;
	uint8_t buf[IPV4_MAX_HDR + 8], icmp[8];
	const uint8_t *q = rte_pktmbuf_read(m, quote, IPV4_MIN_HDR, buf);
	const uint8_t *h = rte_pktmbuf_read(m, quote - 8u, 8, icmp);

	if (q == NULL || h == NULL || (qhl = (uint16_t)((q[0] & 0xf) * 4)) < IPV4_MIN_HDR ||
	    (q = rte_pktmbuf_read(m, quote, (uint32_t)qhl + 8, buf)) == NULL)
		return false;
	iq->laddr = tcp_rd32(q + 12);
	iq->raddr = tcp_rd32(q + 16);
	iq->lport = tcp_rd16(q + qhl);
	iq->rport = tcp_rd16(q + qhl + 2);
	iq->seq = tcp_rd32(q + qhl + 4);
	iq->mtu = tcp_rd16(h + 6); /* next-hop MTU of "fragmentation needed" */
	return true;
}

/* This lcore's part of an ICMP error the lead checked. Consumes M (a
 * reference to it). */
static void
glue_icmp(struct ph_lcore *lc, struct rte_mbuf *m)
{
	struct ph_pkt_meta *meta = ph_pkt_meta(m);
	struct icmp_quote iq;

	if (icmp_quote_read(m, &iq)) {
		tcp_glue_now(lc);
		tcp_icmp_input(lc->tcp, meta->ctx, iq.laddr, iq.lport, iq.raddr, iq.rport, iq.seq,
		               meta->icmp_type, meta->icmp_code, iq.mtu);
	}
	rte_pktmbuf_free(m);
}

void
tcp_icmp_error(struct ph_lcore *lead, struct rte_mbuf *m, uint16_t quote)
{
	struct ph_host *h = lead->host;
	struct icmp_quote iq;

	(void)quote; /* icmp_quote_read finds it the same way on every lcore */
	if (!icmp_quote_read(m, &iq)) {
		ph_drop(lead, m, PH_DROP_ICMP_TRUNCATED);
		return;
	}
	/* The connection may live on any lcore, and ICMP errors are rare: each
	 * lcore gets a reference and looks in its own table. */
	ph_pkt_meta(m)->lead_op = PH_INBOX_TCP_ICMP; /* before any other lcore sees it */
	for (uint16_t i = 0; i < h->n_lcores; i++) {
		if (i == lead->index)
			continue;
		/* A reference on every segment: a reassembled error is a chain. */
		rte_pktmbuf_refcnt_update(m, 1);
		if (rte_ring_mp_enqueue(h->lcores[i]->inbox, m) != 0)
			ph_drop(lead, m, PH_DROP_INBOX_FULL);
		else
			ph_mib(lead, PH_MIB_sockInboxOut);
	}
	glue_icmp(lead, m);
}

unsigned
tcp_conn_list(struct ph_lcore *lc, unsigned skip, struct tcp_conn_info *out, unsigned max,
              unsigned *total)
{
	struct tcp_stack *st = lc->tcp;
	struct tcp_conn *c;
	unsigned i = 0, n = 0;
	bool full = false;

	if (st == NULL) {
		*total = 0;
		return 0;
	}
	rte_spinlock_lock(&st->all_lock);
	LIST_FOREACH(c, &st->all, alink)
	{
		struct tcp_conn_info *ci;
		uint32_t mss;

		if (c->state == TCPS_CLOSED)
			continue;
		if (n >= max) {
			full = true;
			break; /* the owner waits on this lock: hold it no longer */
		}
		if (i++ < skip)
			continue;
		ci = &out[n++];
		mss = tcp_data_mss(c);
		*ci = (struct tcp_conn_info){
		        .lcore = lc->index,
		        .ctx = c->ctx,
		        .state = c->state,
		        .laddr = c->laddr,
		        .raddr = c->raddr,
		        .lport = c->lport,
		        .rport = c->rport,
		        .recvq = c->state == TCPS_LISTEN ? c->n_acceptq : c->rbuf.len,
		        .sendq = c->state == TCPS_LISTEN ? c->backlog : c->sbuf.len,
		        .rtt_us = (c->srtt >> 3) * 1000,
		        .rttvar_us = (c->rttvar >> 2) * 1000,
		        .rto_ms = c->rto,
		        .cwnd = mss ? c->cwnd / mss : 0,
		        .ssthresh = c->ssthresh == UINT32_MAX || !mss ? 0 : c->ssthresh / mss,
		        .mss = mss,
		        .snd_ws = c->snd_ws,
		        .rcv_ws = c->rcv_ws,
		        .ts = (c->flags & TF_TS_OK) != 0,
		        .sack = (c->flags & TF_SACK_OK) != 0,
		        .ws = (c->flags & TF_WS_OK) != 0,
		        .retrans = c->total_retrans,
		        .backlog = c->backlog,
		        .accept_q = c->n_acceptq,
		        .bytes_acked = c->bytes_acked,
		        .bytes_received = c->bytes_received,
		        .segs_in = c->segs_in,
		        .segs_out = c->segs_out,
		};
	}
	rte_spinlock_unlock(&st->all_lock);
	/* A walk cut short knows only about how many there are (ended ones
	 * still held by a socket count too); a full walk counts exactly, which
	 * the caller's skip arithmetic across lcores needs. */
	*total = full && st->n_conns > i ? st->n_conns : i;
	return n;
}
