/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP for IPv4 over Ethernet (RFC 826) on the wire: parse and emit the 28-byte
 * packet. Reached from Ethernet input for ethertype 0x0806.
 */
#ifndef PH_WIRE_ARP_H
#define PH_WIRE_ARP_H

#include <stdint.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>

#include "core/counters.h"

#define ARP_PKT_LEN 28

struct arp_repr {
	uint16_t op;               /* RTE_ARP_OP_REQUEST or RTE_ARP_OP_REPLY */
	struct rte_ether_addr sha; /* sender hardware address */
	struct rte_ether_addr tha; /* target hardware address */
	uint32_t spa;              /* sender protocol address, host order */
	uint32_t tpa;              /* target protocol address, host order */
};

/*
 * Validate an ARP packet. Only Ethernet/IPv4 (htype 1, hlen 6, ptype 0x0800,
 * plen 4) is understood: RFC 826 says to drop what does not match.
 */
static inline enum ph_drop
arp_parse(const uint8_t *buf, uint32_t len, struct arp_repr *r)
{
	uint16_t htype, ptype, op;
	uint32_t a;

	if (len < ARP_PKT_LEN)
		return PH_DROP_ARP_TRUNCATED;
	memcpy(&htype, buf, 2);
	memcpy(&ptype, buf + 2, 2);
	if (rte_be_to_cpu_16(htype) != RTE_ARP_HRD_ETHER || buf[4] != RTE_ETHER_ADDR_LEN)
		return PH_DROP_ARP_BAD_HW;
	if (rte_be_to_cpu_16(ptype) != RTE_ETHER_TYPE_IPV4 || buf[5] != 4)
		return PH_DROP_ARP_BAD_PROTO;
	memcpy(&op, buf + 6, 2);
	r->op = rte_be_to_cpu_16(op);
	if (r->op != RTE_ARP_OP_REQUEST && r->op != RTE_ARP_OP_REPLY)
		return PH_DROP_ARP_BAD_OP;
	memcpy(&r->sha, buf + 8, 6);
	memcpy(&a, buf + 14, 4);
	r->spa = rte_be_to_cpu_32(a);
	memcpy(&r->tha, buf + 18, 6);
	memcpy(&a, buf + 24, 4);
	r->tpa = rte_be_to_cpu_32(a);
	return PH_DROP_NONE;
}

static inline void
arp_emit(uint8_t *buf, const struct arp_repr *r)
{
	uint16_t v;
	uint32_t a;

	v = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	memcpy(buf, &v, 2);
	v = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memcpy(buf + 2, &v, 2);
	buf[4] = RTE_ETHER_ADDR_LEN;
	buf[5] = 4;
	v = rte_cpu_to_be_16(r->op);
	memcpy(buf + 6, &v, 2);
	memcpy(buf + 8, &r->sha, 6);
	a = rte_cpu_to_be_32(r->spa);
	memcpy(buf + 14, &a, 4);
	memcpy(buf + 18, &r->tha, 6);
	a = rte_cpu_to_be_32(r->tpa);
	memcpy(buf + 24, &a, 4);
}

#endif
