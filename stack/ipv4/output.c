/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 output (see ipv4.h): a transport (or ICMP on the lead core) -> here ->
 * FIB of the packet's context -> fragmentation -> neighbour -> Ethernet.
 */
#include <errno.h>

#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "arp/neigh_pub.h"
#include "core/host.h"
#include "core/pkt.h"
#include "eth/eth.h"
#include "ipv4/ipv4.h"
#include "wire/ipv4.h"

/* Fill the header checksum, or ask the port to. */
static void
ipv4_tx_csum(struct rte_mbuf *m, const struct ph_port *port)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	m->l3_len = (uint64_t)rte_ipv4_hdr_len(ip);
	if (port->ol.tx_ip_csum) {
		ip->hdr_checksum = 0;
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	} else {
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
}

/* The link-layer destination is the broadcast address for these. */
static bool
ipv4_is_link_bcast(const struct ph_iface *ifc, uint32_t dst)
{
	if (dst == IPV4_BCAST)
		return true;
	for (unsigned i = 0; i < ifc->n_addrs; i++) {
		uint32_t mask = ipv4_mask(ifc->addrs[i].plen);

		if (ifc->addrs[i].plen < 31 && dst == ((ifc->addrs[i].ip & mask) | ~mask))
			return true;
	}
	return false;
}

void
ipv4_resolve_send(struct ph_lcore *lc, struct rte_mbuf *m, uint16_t ifindex, uint32_t nexthop)
{
	struct ph_host *h = lc->host;
	const struct ph_iface *ifc = ph_iface(h, ifindex);
	struct ph_pkt_meta *meta = ph_pkt_meta(m);
	struct rte_ether_addr mac;

	ph_mib(lc, PH_MIB_ipOutTransmits);
	/* Broadcast addresses are never in the neighbour table: test them only
	 * when the (common) lookup misses. */
	if (neigh_pub_lookup(h, ifc->ctx, nexthop, &mac)) {
		eth_output(lc, m, ifindex, &mac, RTE_ETHER_TYPE_IPV4);
		return;
	}
	if (ipv4_is_link_bcast(ifc, nexthop)) {
		memset(&mac, 0xff, sizeof(mac));
		eth_output(lc, m, ifindex, &mac, RTE_ETHER_TYPE_IPV4);
		return;
	}
	meta->ctx = ifc->ctx;
	meta->ifindex = ifindex;
	meta->nexthop = nexthop;
	ph_to_lead(lc, m, PH_LEAD_RESOLVE);
}

int
ipv4_fragment(struct ph_lcore *lc, struct rte_mbuf *m, const struct ph_iface *ifc, uint32_t nexthop)
{
	struct ph_host *h = lc->host;
	const struct ph_port *port = ph_iface_port(h, ifc);
	/* 65535 bytes in fragments of at least 68 fit in this many. */
	struct rte_mbuf *frags[1024];
	int n;

	/* A chain (a large datagram, or a received one sent back) is cut into
	 * headers plus indirect references to its data; one segment is copied. */
	if (m->nb_segs > 1)
		n = rte_ipv4_fragment_packet(m, frags, RTE_DIM(frags), ifc->mtu, h->pool,
		                             h->indirect_pool);
	else
		n = rte_ipv4_fragment_copy_nonseg_packet(m, frags, RTE_DIM(frags), ifc->mtu,
		                                         h->pool);
	rte_pktmbuf_free(m);
	if (n < 0) {
		ph_drop_count(&lc->ctr, n == -ENOMEM ? PH_DROP_NO_MBUF : PH_DROP_IP_FRAG_FAIL, 1);
		return -ENOBUFS;
	}
	ph_mib(lc, PH_MIB_ipFragOKs);
	ph_mib_add(&lc->ctr, PH_MIB_ipFragCreates, (uint64_t)n);
	for (int i = 0; i < n; i++) {
		ipv4_tx_csum(frags[i], port);
		ipv4_resolve_send(lc, frags[i], ifc->index, nexthop);
	}
	return 0;
}

/* Fill the TCP/UDP checksum, or leave the pseudo-header sum for the NIC. */
static void
ipv4_l4_csum(struct rte_mbuf *m, const struct ipv4_out *o, const struct ph_port *port)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint16_t *field = rte_pktmbuf_mtod_offset(m, uint16_t *, IPV4_MIN_HDR + o->l4_csum_off);
	bool udp = o->proto == IPPROTO_UDP;

	*field = 0;
	if (port != NULL && (udp ? port->ol.tx_udp_csum : port->ol.tx_tcp_csum)) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 |
		               (udp ? RTE_MBUF_F_TX_UDP_CKSUM : RTE_MBUF_F_TX_TCP_CKSUM);
		m->l3_len = IPV4_MIN_HDR;
		*field = rte_ipv4_phdr_cksum(ip, m->ol_flags);
		return;
	}
	*field = rte_ipv4_udptcp_cksum_mbuf(m, ip, IPV4_MIN_HDR);
}

/* A TCP send of several segments: the port cuts it (TSO) and fills every
 * checksum; the TCP field starts as the pseudo-header sum without the
 * length, as DPDK's TSO contract has it. */
static void
ipv4_tso(struct rte_mbuf *m, const struct ipv4_out *o, const struct ph_port *port,
         const struct ph_iface *ifc)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint16_t *field = rte_pktmbuf_mtod_offset(m, uint16_t *, IPV4_MIN_HDR + o->l4_csum_off);
	uint32_t segsz = o->tso_segsz;

	if (port->ol.tso_frame_max != 0) {
		uint32_t l2 = RTE_ETHER_HDR_LEN + (ifc->vlan ? 4u : 0u);
		uint32_t lim = port->ol.tso_frame_max - l2 - IPV4_MIN_HDR - o->l4_len;

		if (segsz > lim)
			segsz = lim;
	}
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM;
	m->l3_len = IPV4_MIN_HDR;
	m->l4_len = o->l4_len;
	m->tso_segsz = (uint16_t)segsz;
	*field = rte_ipv4_phdr_cksum(ip, m->ol_flags);
}

/* Put the IPv4 header from SRC and O in front of M's L4 data; NULL (M
 * dropped) when there is no room. */
static struct rte_ipv4_hdr *
ipv4_push_header(struct ph_lcore *lc, struct rte_mbuf *m, const struct ipv4_out *o, uint32_t src,
                 struct ipv4_repr *r)
{
	uint8_t *hdr = (uint8_t *)rte_pktmbuf_prepend(m, IPV4_MIN_HDR);

	if (hdr == NULL) {
		ph_drop(lc, m, PH_DROP_NO_MBUF);
		return NULL;
	}
	*r = (struct ipv4_repr){
	        .src = src,
	        .dst = o->dst,
	        .hdr_len = IPV4_MIN_HDR,
	        .total_len = (uint16_t)rte_pktmbuf_pkt_len(m),
	        .id = lc->ip_id++,
	        .proto = o->proto,
	        .ttl = o->ttl ? o->ttl : IPV4_DEFAULT_TTL,
	        .tos = o->tos,
	        .df = o->df,
	};
	ipv4_emit(hdr, r, true);
	return (struct rte_ipv4_hdr *)hdr;
}

/* A datagram to one of our own addresses never reaches a port: it waits on
 * this lcore's loopback queue and comes back in through ipv4_input(). */
static int
ipv4_loop(struct ph_lcore *lc, struct rte_mbuf *m, const struct ipv4_out *o,
          const struct ph_local *local)
{
	struct ph_pkt_meta *meta = ph_pkt_meta(m);
	struct ipv4_repr r;
	struct rte_ipv4_hdr *ip;

	ip = ipv4_push_header(lc, m, o, o->src ? o->src : o->dst, &r);
	if (ip == NULL)
		return -ENOBUFS;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (o->l4_csum_off != 0)
		ipv4_l4_csum(m, o, NULL);
	m->ol_flags &= RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
	meta->ctx = o->ctx;
	meta->ifindex = local->ifindex;
	meta->flags = PH_PKT_LOOPED;
	ph_mib(lc, PH_MIB_ipOutTransmits);
	ph_mib(lc, PH_MIB_ipLoopback);
	if (rte_ring_sp_enqueue(lc->loop, m) != 0) {
		ph_drop(lc, m, PH_DROP_LOOP_FULL);
		return -ENOBUFS;
	}
	return 0;
}

unsigned
ipv4_loop_poll(struct ph_lcore *lc)
{
	struct rte_mbuf *pkts[PH_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(lc->loop, (void **)pkts, PH_BURST, NULL);

	if (n > 0)
		ipv4_input(lc, pkts, (uint16_t)n);
	return n;
}

int
ipv4_output(struct ph_lcore *lc, struct rte_mbuf *m, const struct ipv4_out *o)
{
	const struct ph_local *local;
	struct ph_host *h = lc->host;
	const struct ph_nexthop *nh;
	const struct ph_iface *ifc;
	struct ipv4_repr r;
	uint32_t nexthop, src;

	ph_mib(lc, PH_MIB_ipOutRequests);
	if (rte_pktmbuf_pkt_len(m) + IPV4_MIN_HDR > IPV4_MAX_LEN) {
		ph_drop(lc, m, PH_DROP_IP_FRAG_FAIL);
		return -EMSGSIZE;
	}
	local = ctx_local_lookup(h, o->ctx, o->dst);
	if (local != NULL && local->kind == PH_LOCAL_UNICAST)
		return ipv4_loop(lc, m, o, local);
	nh = ctx_route(h, o->ctx, o->dst);
	if (nh == NULL) {
		ph_drop(lc, m, PH_DROP_IP_NO_ROUTE);
		return -ENETUNREACH;
	}
	ifc = ph_iface(h, nh->ifindex);
	nexthop = nh->kind == PH_NH_GATEWAY ? nh->gw : o->dst;
	src = o->src ? o->src : ctx_iface_source(h, nh->ifindex, o->dst);
	if (src == 0) {
		ph_drop(lc, m, PH_DROP_IP_NO_SOURCE);
		return -EADDRNOTAVAIL;
	}
	if (ipv4_push_header(lc, m, o, src, &r) == NULL)
		return -ENOBUFS;
	if (o->tso_segsz != 0 && r.total_len > ifc->mtu) {
		const struct ph_port *port = ph_iface_port(h, ifc);

		if (!port->ol.tx_tso) {
			ph_drop(lc, m, PH_DROP_IP_TSO_NO_OFFLOAD);
			return -EMSGSIZE;
		}
		ipv4_tso(m, o, port, ifc);
		ipv4_tx_csum(m, port);
		ipv4_resolve_send(lc, m, ifc->index, nexthop);
		return 0;
	}
	if (r.total_len > ifc->mtu) {
		if (r.df) {
			ph_drop(lc, m, PH_DROP_IP_FRAG_DF);
			return -EMSGSIZE;
		}
		/* The checksum covers the whole datagram: fill it before cutting. */
		if (o->l4_csum_off != 0)
			ipv4_l4_csum(m, o, NULL);
		return ipv4_fragment(lc, m, ifc, nexthop);
	}
	if (o->l4_csum_off != 0)
		ipv4_l4_csum(m, o, ph_iface_port(h, ifc));
	ipv4_tx_csum(m, ph_iface_port(h, ifc));
	ipv4_resolve_send(lc, m, ifc->index, nexthop);
	return 0;
}
