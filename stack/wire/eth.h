/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet II and IEEE 802.1Q on the wire: parse a frame's link-layer header
 * into a host-order repr, with every length checked. First step of receive.
 */
#ifndef PH_WIRE_ETH_H
#define PH_WIRE_ETH_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "core/counters.h"

struct eth_repr {
	struct rte_ether_addr dst;
	struct rte_ether_addr src;
	uint16_t type;    /* ethertype of the payload, host order */
	uint16_t vlan;    /* 802.1Q VLAN id, 0 when untagged */
	uint16_t hdr_len; /* 14, or 18 with one tag */
};

/*
 * Parse the link-layer header at BUF (LEN contiguous bytes). One 802.1Q tag is
 * understood; a frame with a second tag (QinQ) keeps 0x8100/0x88a8 as its type
 * and is dropped by the caller as an unknown ethertype.
 */
static inline enum ph_drop
eth_parse(const uint8_t *buf, uint32_t len, struct eth_repr *r)
{
	uint16_t type;

	if (len < RTE_ETHER_HDR_LEN)
		return PH_DROP_ETH_TRUNCATED;
	memcpy(&r->dst, buf, RTE_ETHER_ADDR_LEN);
	memcpy(&r->src, buf + 6, RTE_ETHER_ADDR_LEN);
	memcpy(&type, buf + 12, 2);
	r->type = rte_be_to_cpu_16(type);
	r->vlan = 0;
	r->hdr_len = RTE_ETHER_HDR_LEN;
	if (r->type == RTE_ETHER_TYPE_VLAN) {
		uint16_t tci;

		if (len < RTE_ETHER_HDR_LEN + 4)
			return PH_DROP_ETH_TRUNCATED;
		memcpy(&tci, buf + 14, 2);
		memcpy(&type, buf + 16, 2);
		r->vlan = rte_be_to_cpu_16(tci) & 0x0fff;
		r->type = rte_be_to_cpu_16(type);
		r->hdr_len = RTE_ETHER_HDR_LEN + 4;
	}
	return PH_DROP_NONE;
}

/* Write an Ethernet header (with a tag when VLAN != 0) at BUF; returns its length. */
static inline uint16_t
eth_emit(uint8_t *buf, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
         uint16_t vlan, uint16_t type)
{
	uint16_t be;

	memcpy(buf, dst, RTE_ETHER_ADDR_LEN);
	memcpy(buf + 6, src, RTE_ETHER_ADDR_LEN);
	if (vlan == 0) {
		be = rte_cpu_to_be_16(type);
		memcpy(buf + 12, &be, 2);
		return RTE_ETHER_HDR_LEN;
	}
	be = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
	memcpy(buf + 12, &be, 2);
	be = rte_cpu_to_be_16(vlan & 0x0fff);
	memcpy(buf + 14, &be, 2);
	be = rte_cpu_to_be_16(type);
	memcpy(buf + 16, &be, 2);
	return RTE_ETHER_HDR_LEN + 4;
}

#endif
