/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP input and output on the lead core (see arp.h).
 */
#include <string.h>

#include <rte_mbuf.h>

#include "arp/arp.h"
#include "arp/neigh_table.h"
#include "core/host.h"
#include "core/pkt.h"
#include "eth/eth.h"
#include "host/lead.h"
#include "wire/arp.h"
#include "wire/ipv4.h"

/* Ethernet's minimum frame (without FCS) is 60 bytes; pad ARP up to it, as
 * not every NIC pads short frames itself. */
#define ARP_FRAME_PAD (RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN - RTE_ETHER_HDR_LEN - ARP_PKT_LEN)

static void
arp_send(struct ph_lcore *lead, uint16_t ifindex, const struct arp_repr *a,
         const struct rte_ether_addr *dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(lead->host->pool);
	uint8_t *p;

	if (m == NULL) {
		ph_drop_count(&lead->ctr, PH_DROP_NO_MBUF, 1);
		return;
	}
	p = (uint8_t *)rte_pktmbuf_append(m, ARP_PKT_LEN + ARP_FRAME_PAD);
	if (p == NULL) { /* cannot happen with the pool's 2 KiB buffers */
		ph_drop(lead, m, PH_DROP_NO_MBUF);
		return;
	}
	arp_emit(p, a);
	memset(p + ARP_PKT_LEN, 0, ARP_FRAME_PAD);
	eth_output(lead, m, ifindex, dst, RTE_ETHER_TYPE_ARP);
}

void
arp_solicit(struct ph_lcore *lead, uint16_t ifindex, uint32_t ip, const struct rte_ether_addr *dst)
{
	const struct ph_iface *ifc = ph_iface(lead->host, ifindex);
	struct rte_ether_addr bcast;
	struct arp_repr a = {
	        .op = RTE_ARP_OP_REQUEST,
	        .sha = ifc->mac,
	        .spa = ctx_iface_source(lead->host, ifindex, ip),
	        .tpa = ip,
	};

	memset(&bcast, 0xff, sizeof(bcast));
	ph_mib(lead, PH_MIB_arpOutRequests);
	arp_send(lead, ifindex, &a, dst ? dst : &bcast);
}

void
arp_announce(struct ph_lcore *lead, uint16_t ifindex, uint32_t ip)
{
	const struct ph_iface *ifc = ph_iface(lead->host, ifindex);
	struct rte_ether_addr bcast;
	/* A request with sender and target both our address: every host that
	 * holds an entry for IP updates it, none creates one (RFC 5227 2.3). */
	struct arp_repr a = {.op = RTE_ARP_OP_REQUEST, .sha = ifc->mac, .spa = ip, .tpa = ip};

	memset(&bcast, 0xff, sizeof(bcast));
	ph_mib(lead, PH_MIB_arpOutGratuitous);
	arp_send(lead, ifindex, &a, &bcast);
}

void
arp_input(struct ph_lcore *lead, struct rte_mbuf *m)
{
	struct ph_host *h = lead->host;
	struct ph_pkt_meta *meta = ph_pkt_meta(m);
	const struct ph_iface *ifc = ph_iface(h, meta->ifindex);
	const struct ph_local *target, *sender;
	uint8_t buf[ARP_PKT_LEN];
	const uint8_t *p;
	struct arp_repr a;
	enum ph_drop why;
	bool target_is_us;

	p = rte_pktmbuf_read(m, 0, ARP_PKT_LEN, buf);
	why = p == NULL ? PH_DROP_ARP_TRUNCATED : arp_parse(p, ARP_PKT_LEN, &a);
	if (why != PH_DROP_NONE) {
		ph_drop(lead, m, why);
		return;
	}
	ph_mib(lead, a.op == RTE_ARP_OP_REQUEST ? PH_MIB_arpInRequests : PH_MIB_arpInReplies);
	/* A sender must be a unicast station other than us with a usable address
	 * (0.0.0.0 is allowed: RFC 5227 probes). */
	if (!rte_is_unicast_ether_addr(&a.sha) || rte_is_zero_ether_addr(&a.sha) ||
	    rte_is_same_ether_addr(&a.sha, &ifc->mac) ||
	    (a.spa != 0 && ipv4_is_martian_src(a.spa))) {
		ph_drop(lead, m, PH_DROP_ARP_BAD_SENDER);
		return;
	}
	sender = a.spa != 0 ? ctx_local_lookup(h, meta->ctx, a.spa) : NULL;
	if (sender != NULL) {
		/* Someone else claims an address of ours (or our broadcast). */
		ph_drop(lead, m, PH_DROP_ARP_ADDR_CONFLICT);
		return;
	}
	target = ctx_local_lookup(h, meta->ctx, a.tpa);
	target_is_us = target != NULL && target->kind == PH_LOCAL_UNICAST;
	if (a.spa != 0)
		neigh_input(lead->lead->neigh, meta->ctx, meta->ifindex, a.spa, &a.sha,
		            target_is_us, lead->now_ms);
	if (!target_is_us) {
		ph_drop(lead, m, PH_DROP_ARP_OTHER_TARGET);
		return;
	}
	if (a.op == RTE_ARP_OP_REQUEST) {
		struct arp_repr r = {
		        .op = RTE_ARP_OP_REPLY,
		        .sha = ifc->mac,
		        .spa = a.tpa,
		        .tha = a.sha,
		        .tpa = a.spa,
		};

		ph_mib(lead, PH_MIB_arpOutReplies);
		arp_send(lead, meta->ifindex, &r, &a.sha);
	}
	rte_pktmbuf_free(m);
}
