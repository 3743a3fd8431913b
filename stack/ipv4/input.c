/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 input (see ipv4.h): Ethernet -> here -> the flow's owner lcore
 * (flow/flow.h) -> reassembly -> ICMP (lead core) or a transport's handler;
 * or, not for us in a context that forwards, -> forward.c. Works on the
 * burst Ethernet input collected: the
 * headers are validated one by one, then the destinations are looked up in
 * the local-address table in one bulk call.
 */
#include <rte_mbuf.h>

#include "core/host.h"
#include "core/pkt.h"
#include "flow/flow.h"
#include "ipv4/frag.h"
#include "ipv4/ipv4.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

static enum ipv4_csum_state
ipv4_rx_csum(const struct rte_mbuf *m)
{
	switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
	case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
	case RTE_MBUF_F_RX_IP_CKSUM_NONE: /* not in the data, but the NIC verified it */
		return IPV4_CSUM_GOOD;
	case RTE_MBUF_F_RX_IP_CKSUM_BAD:
		return IPV4_CSUM_BAD;
	default:
		return IPV4_CSUM_UNKNOWN;
	}
}

/* Cut link-layer padding so the packet is exactly LEN bytes. */
static void
ipv4_trim(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *s = m;
	uint32_t left = len;
	uint16_t segs = 1;

	if (rte_pktmbuf_pkt_len(m) == len)
		return;
	if (rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - len)) == 0)
		return;
	/* The padding spans segments: cut the chain where the datagram ends. */
	while (left > s->data_len) {
		left -= s->data_len;
		s = s->next;
		segs++;
	}
	s->data_len = (uint16_t)left;
	rte_pktmbuf_free(s->next);
	s->next = NULL;
	m->nb_segs = segs;
	m->pkt_len = len;
}

/* A transport's handler for a run of packets with the same protocol. */
static void
ipv4_deliver(struct ph_lcore *lc, struct rte_mbuf **pkts, const uint8_t *proto, uint16_t n)
{
	struct ph_host *h = lc->host;
	uint16_t i = 0;

	while (i < n) {
		uint16_t j = i + 1;
		ph_input_fn fn = h->ip_proto[proto[i]];

		while (j < n && proto[j] == proto[i])
			j++;
		if (fn != NULL) {
			ph_mib_add(&lc->ctr, PH_MIB_ipInDelivers, j - i);
			fn(lc, pkts + i, j - i);
		} else {
			for (uint16_t k = i; k < j; k++) {
				struct ph_pkt_meta *meta = ph_pkt_meta(pkts[k]);

				/* Counted here; the lead core answers and frees it. */
				ph_drop_count(&lc->ctr, PH_DROP_IP_UNKNOWN_PROTO, 1);
				meta->icmp_type = ICMP_DEST_UNREACH;
				meta->icmp_code = ICMP_PROT_UNREACH;
				ph_to_lead(lc, pkts[k], PH_LEAD_ICMP_ERROR);
			}
		}
		i = j;
	}
}

/* The rest of input for M, a datagram for us: on to its owner if that is
 * another lcore, else reassembly. Returns what goes to a transport here,
 * or NULL. */
static struct rte_mbuf *
ipv4_local(struct ph_lcore *lc, struct rte_mbuf *m, const struct ipv4_repr *r)
{
	bool steered = ph_pkt_meta(m)->flags & PH_PKT_STEERED;
	struct ipv4_repr whole;
	uint16_t owner;

	if (ipv4_is_fragment(r)) {
		if (!ipv4_fragment_valid(r)) {
			ph_drop(lc, m, PH_DROP_IP_BAD_FRAG);
			return NULL;
		}
		/* Every fragment of a datagram to the owner of its address
		 * pair, which reassembles it ... */
		if (!steered && (owner = flow_owner_of(lc, m, r)) != lc->index) {
			flow_steer(lc, m, owner);
			return NULL;
		}
		m = ipv4_reassemble(lc, m, r, ph_pkt_meta(m)->ctx);
		if (m == NULL)
			return NULL;
		/* ... and hands the whole datagram to the owner of its ports:
		 * its header now says it is whole, and the NIC's hash was of
		 * a fragment's address pair. */
		if (ipv4_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
		               rte_pktmbuf_pkt_len(m), IPV4_CSUM_GOOD, &whole) != PH_DROP_NONE) {
			ph_drop(lc, m, PH_DROP_IP_BAD_FRAG);
			return NULL;
		}
		r = &whole;
		m->ol_flags &= ~RTE_MBUF_F_RX_RSS_HASH;
		ph_pkt_meta(m)->flags &= (uint8_t)~PH_PKT_STEERED;
		steered = false;
	}
	if (!steered && (owner = flow_owner_of(lc, m, r)) != lc->index) {
		flow_steer(lc, m, owner);
		return NULL;
	}
	return m;
}

void
ipv4_input(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	struct ph_host *h = lc->host;
	struct rte_mbuf *ok[PH_BURST], *deliver[PH_BURST], *fwd[PH_BURST];
	struct ipv4_repr hdr[PH_BURST];
	const struct ph_local *local[PH_BURST];
	uint16_t ctx[PH_BURST];
	uint32_t dst[PH_BURST];
	uint8_t proto[PH_BURST];
	uint16_t n_ok = 0, n_deliver = 0, n_fwd = 0;

	ph_mib_add(&lc->ctr, PH_MIB_ipInReceives, n);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct ipv4_repr *r = &hdr[n_ok];
		enum ph_drop why;

		why = ipv4_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
		                 rte_pktmbuf_pkt_len(m), ipv4_rx_csum(m), r);
		if (why == PH_DROP_NONE && ipv4_is_martian_src(r->src))
			why = PH_DROP_IP_MARTIAN_SRC;
		if (why == PH_DROP_NONE && ipv4_is_martian_dst(r->dst))
			why = PH_DROP_IP_MARTIAN_DST;
		if (why != PH_DROP_NONE) {
			ph_drop(lc, m, why);
			continue;
		}
		ipv4_trim(m, r->total_len);
		ctx[n_ok] = ph_pkt_meta(m)->ctx;
		ph_ctr_add(&lc->ctx_stats[ctx[n_ok]].in_pkts, 1);
		dst[n_ok] = r->dst;
		ok[n_ok++] = m;
	}
	ctx_local_lookup_bulk(h, ctx, dst, local, n_ok);

	for (uint16_t i = 0; i < n_ok; i++) {
		struct rte_mbuf *m = ok[i];
		struct ph_pkt_meta *meta = ph_pkt_meta(m);
		const struct ipv4_repr *r = &hdr[i];

		if (r->dst == IPV4_BCAST || (local[i] && local[i]->kind == PH_LOCAL_BROADCAST)) {
			meta->flags |= PH_PKT_IP_BCAST;
		} else if (ipv4_is_multicast(r->dst)) {
			ph_drop(lc, m, PH_DROP_IP_MULTICAST);
			continue;
		} else if (local[i] == NULL) {
			/* RFC 1812 5.3.4: never forward what came in a link
			 * broadcast; a context that does not forward is a host. */
			if (meta->flags & (PH_PKT_L2_BCAST | PH_PKT_L2_MCAST)) {
				ph_drop(lc, m, PH_DROP_IP_L2_BCAST_UNICAST);
			} else if (h->ctxs[meta->ctx]->forwarding &&
			           !(meta->flags & PH_PKT_LOOPED)) {
				fwd[n_fwd++] = m;
			} else {
				ph_ctr_add(&lc->ctx_stats[meta->ctx].fwd_refused, 1);
				ph_drop(lc, m, PH_DROP_IP_NOT_FOR_US);
			}
			continue;
		} else if (meta->flags & (PH_PKT_L2_BCAST | PH_PKT_L2_MCAST)) {
			/* RFC 1122 3.3.6: a unicast datagram in a link broadcast is discarded. */
			ph_drop(lc, m, PH_DROP_IP_L2_BCAST_UNICAST);
			continue;
		}
		meta->local = r->dst;
		meta->flags &= (uint8_t)~PH_PKT_STEERED;
		ph_ctr_add(&lc->ctx_stats[meta->ctx].in_local, 1);
		m = ipv4_local(lc, m, r);
		if (m == NULL)
			continue;
		proto[n_deliver] = r->proto;
		deliver[n_deliver++] = m;
	}
	if (n_fwd > 0)
		ipv4_forward(lc, fwd, n_fwd);
	if (n_deliver > 0)
		ipv4_deliver(lc, deliver, proto, n_deliver);
}

void
ipv4_steered_input(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *deliver[PH_BURST];
	uint8_t proto[PH_BURST];
	uint16_t n_deliver = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct ipv4_repr r;
		/* Validated by the lcore it arrived on: this only reads it. */
		enum ph_drop why =
		        ipv4_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
		                   rte_pktmbuf_pkt_len(m), IPV4_CSUM_GOOD, &r);

		if (why != PH_DROP_NONE) {
			ph_drop(lc, m, why);
			continue;
		}
		m = ipv4_local(lc, m, &r);
		if (m == NULL)
			continue;
		proto[n_deliver] = r.proto;
		deliver[n_deliver++] = m;
	}
	if (n_deliver > 0)
		ipv4_deliver(lc, deliver, proto, n_deliver);
}
