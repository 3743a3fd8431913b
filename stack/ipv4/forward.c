/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 forwarding (RFC 1812 5.2-5.3): ipv4_input() hands here, on the lcore
 * the datagram arrived on, the burst of datagrams that are not for us in a
 * context with forwarding on -> one rte_fib bulk lookup per run of one
 * context -> ECMP path by flow hash -> TTL and MTU checks (ICMP errors go to
 * the lead core) -> TTL decrement with an incremental checksum -> neighbour
 * -> Ethernet out of an interface of the route's next-hop context: the same
 * context, or another one a leaked route names. A forwarded datagram keeps no
 * state, so it needs no flow owner and is never steered.
 */
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "core/host.h"
#include "core/pkt.h"
#include "ipv4/ipv4.h"
#include "wire/csum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

/* Count M under WHY and ask the lead core to answer with ICMP TYPE/CODE. */
static void
fwd_icmp(struct ph_lcore *lc, struct rte_mbuf *m, enum ph_drop why, uint8_t type, uint8_t code,
         uint16_t mtu)
{
	struct ph_pkt_meta *meta = ph_pkt_meta(m);

	ph_drop_count(&lc->ctr, why, 1);
	meta->icmp_type = type;
	meta->icmp_code = code;
	meta->nexthop = mtu; /* frag needed: the next-hop MTU (RFC 1191) */
	meta->local = 0;     /* from the address toward the source, as traceroute shows */
	ph_to_lead(lc, m, PH_LEAD_ICMP_ERROR);
}

static void
fwd_one(struct ph_lcore *lc, struct rte_mbuf *m, uint64_t nh_idx)
{
	struct ph_host *h = lc->host;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	struct ph_pkt_meta *meta = ph_pkt_meta(m);
	struct ph_ctx_stats *st = &lc->ctx_stats[meta->ctx];
	uint32_t src = rte_be_to_cpu_32(ip->src_addr), dst = rte_be_to_cpu_32(ip->dst_addr);
	uint16_t len = rte_be_to_cpu_16(ip->total_length);
	const struct ph_nexthop *nh;
	const struct ph_iface *ifc;
	uint16_t old, new;

	if (nh_idx == PH_NH_NONE || nh_idx >= PH_MAX_NEXTHOPS) {
		ph_ctr_add(&st->fwd_no_route, 1);
		fwd_icmp(lc, m, PH_DROP_IP_FWD_NO_ROUTE, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0);
		return;
	}
	/* RFC 3927 7: link-local addresses stay on their link. */
	if (src >> 16 == 0xa9fe || dst >> 16 == 0xa9fe) {
		ph_ctr_add(&st->fwd_refused, 1);
		ph_drop(lc, m, PH_DROP_IP_FWD_LINK_LOCAL);
		return;
	}
	nh = &h->nexthops[nh_idx];
	/* A flow's path of an ECMP route: the NIC's hash if it gave one. */
	if (unlikely(nh->kind == PH_NH_GROUP))
		nh = ctx_nh_pick(h->nexthops, nh_idx,
		                 m->ol_flags & RTE_MBUF_F_RX_RSS_HASH ? m->hash.rss
		                                                      : ctx_l3_hash(src, dst));
	ifc = ph_iface(h, nh->ifindex);
	if (nh->ctx != meta->ctx) {
		/* A leaked route: in its next hops' context the destination may
		 * be ours. Its unicast addresses are delivered there, as if the
		 * datagram had come in on that side; a directed broadcast of its
		 * subnets is not forwarded (RFC 1812 5.3.5.2, RFC 2644). */
		const struct ph_local *l = ctx_local_lookup(h, nh->ctx, dst);

		if (l != NULL && l->kind == PH_LOCAL_BROADCAST) {
			ph_ctr_add(&st->fwd_refused, 1);
			ph_drop(lc, m, PH_DROP_IP_FWD_BCAST);
			return;
		}
		if (l != NULL) {
			meta->ctx = nh->ctx;
			meta->ifindex = l->ifindex;
			ipv4_input(lc, &m, 1);
			return;
		}
	}
	/* RFC 1812 5.3.1: a datagram whose TTL would reach 0 is not forwarded
	 * (one leaked to our own address in another context was delivered). */
	if (ip->time_to_live <= 1) {
		ph_ctr_add(&st->fwd_ttl, 1);
		fwd_icmp(lc, m, PH_DROP_IP_FWD_TTL, ICMP_TIME_EXCEEDED, 0, 0);
		return;
	}
	if (len > ifc->mtu && (rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_DF_FLAG)) {
		ph_ctr_add(&st->fwd_frag_needed, 1);
		fwd_icmp(lc, m, PH_DROP_IP_FRAG_DF, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ifc->mtu);
		return;
	}
	/* RFC 1624: TTL is the high byte of its 16-bit word with the protocol.
	 * A port that checked the header but left a bad sum in it (CKSUM_NONE)
	 * gives nothing to update: the sum is computed afresh. */
	memcpy(&old, &ip->time_to_live, 2);
	ip->time_to_live--;
	memcpy(&new, &ip->time_to_live, 2);
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_NONE) {
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		ip->hdr_checksum = csum_update16(ip->hdr_checksum, old, new);
	}
	/* What the receiving port said about the packet means nothing to the
	 * sending one. */
	m->ol_flags &= RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
	ph_ctr_add(&st->fwd_pkts, 1);
	ph_ctr_add(&st->fwd_bytes, len);
	ph_mib(lc, PH_MIB_ipForwDatagrams);
	meta->ctx = nh->ctx;
	if (len > ifc->mtu) {
		ipv4_fragment(lc, m, ifc, nh->kind == PH_NH_GATEWAY ? nh->gw : dst);
		return;
	}
	ipv4_resolve_send(lc, m, ifc->index, nh->kind == PH_NH_GATEWAY ? nh->gw : dst);
}

void
ipv4_forward(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	struct ph_host *h = lc->host;
	uint32_t dst[PH_BURST];
	uint64_t nh[PH_BURST];
	uint16_t i = 0;

	for (uint16_t k = 0; k < n; k++)
		dst[k] = rte_be_to_cpu_32(
		        rte_pktmbuf_mtod(pkts[k], struct rte_ipv4_hdr *)->dst_addr);
	/* A burst from one port is mostly one context: one lookup per run. */
	while (i < n) {
		uint16_t ctx = ph_pkt_meta(pkts[i])->ctx, j = (uint16_t)(i + 1);

		while (j < n && ph_pkt_meta(pkts[j])->ctx == ctx)
			j++;
		ctx_fib_lookup_bulk(h->ctxs[ctx], dst + i, nh + i, (unsigned)(j - i));
		i = j;
	}
	for (uint16_t k = 0; k < n; k++)
		fwd_one(lc, pkts[k], nh[k]);
}
