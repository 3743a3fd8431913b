/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP for IPv4 (RFC 792) on the wire: the 8-byte header every message starts
 * with, and the type/code numbers the stack sends or understands.
 */
#ifndef PH_WIRE_ICMP_H
#define PH_WIRE_ICMP_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#include "core/counters.h"

#define ICMP_HDR_LEN 8

enum {
	ICMP_ECHOREPLY = 0,
	ICMP_DEST_UNREACH = 3,
	ICMP_SOURCE_QUENCH = 4,
	ICMP_REDIRECT = 5,
	ICMP_ECHO = 8,
	ICMP_TIME_EXCEEDED = 11,
	ICMP_PARAMETERPROB = 12,
	ICMP_TIMESTAMP = 13,
	ICMP_TIMESTAMPREPLY = 14,
};

/* Destination unreachable codes (RFC 792, RFC 1122 3.2.2.1, RFC 1812 5.2.7.1). */
enum {
	ICMP_NET_UNREACH = 0,
	ICMP_HOST_UNREACH = 1,
	ICMP_PROT_UNREACH = 2,
	ICMP_PORT_UNREACH = 3,
	ICMP_FRAG_NEEDED = 4,
	ICMP_NET_PROHIBITED = 9,
	ICMP_HOST_PROHIBITED = 10,
	ICMP_PKT_FILTERED = 13,
};

struct icmp_repr {
	uint8_t type;
	uint8_t code;
	uint16_t csum; /* as on the wire */
	uint32_t rest; /* bytes 4..7 as on the wire: id/seq for echo, MTU for frag-needed */
};

/*
 * Read the fixed header. The checksum covers the whole message and may span
 * segments: the caller verifies it over the mbuf chain.
 */
static inline enum ph_drop
icmp_parse(const uint8_t *buf, uint32_t len, struct icmp_repr *r)
{
	if (len < ICMP_HDR_LEN)
		return PH_DROP_ICMP_TRUNCATED;
	r->type = buf[0];
	r->code = buf[1];
	memcpy(&r->csum, buf + 2, 2);
	memcpy(&r->rest, buf + 4, 4);
	return PH_DROP_NONE;
}

/* An ICMP error message, as opposed to a query (RFC 1122 3.2.2). */
static inline int
icmp_is_error(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

#endif
