/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 (RFC 791) on the wire: header validation into a host-order repr,
 * header emission, and address classes (RFC 1122 3.2.1.3, RFC 6890). IPv4
 * input parses each datagram once here; nothing later reads header bytes.
 */
#ifndef PH_WIRE_IPV4_H
#define PH_WIRE_IPV4_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "core/counters.h"

#define IPV4_MIN_HDR     20
#define IPV4_MAX_HDR     60
#define IPV4_MAX_LEN     65535
#define IPV4_BCAST       0xffffffffu
#define IPV4_DEFAULT_TTL 64

/* Receive-side checksum knowledge, from the NIC's offload flags. */
enum ipv4_csum_state {
	IPV4_CSUM_UNKNOWN, /* verify in software */
	IPV4_CSUM_GOOD,
	IPV4_CSUM_BAD,
};

struct ipv4_repr {
	uint32_t src, dst;  /* host order */
	uint16_t hdr_len;   /* bytes, 20..60 */
	uint16_t total_len; /* bytes, header included */
	uint16_t id;
	uint16_t frag_off; /* bytes */
	uint8_t proto;
	uint8_t ttl;
	uint8_t tos;
	bool df, mf;
};

/*
 * Validate the header at BUF. AVAIL is how many bytes of it are readable there
 * (at least min(PKT_LEN, 60)); PKT_LEN is the length of the whole packet from
 * this header on, so trailing link-layer padding is allowed. Order and verdicts
 * follow Linux's ip_rcv_core so both stacks count the same packet the same way.
 * TTL is not checked: a host must not drop a datagram for a low TTL
 * (RFC 1122 3.2.1.7).
 */
static inline enum ph_drop
ipv4_parse(const uint8_t *buf, uint32_t avail, uint32_t pkt_len, enum ipv4_csum_state csum,
           struct ipv4_repr *r)
{
	uint16_t v16;
	uint32_t v32;

	if (pkt_len < IPV4_MIN_HDR || avail < IPV4_MIN_HDR)
		return PH_DROP_IP_TRUNCATED;
	if ((buf[0] >> 4) != 4)
		return PH_DROP_IP_BAD_VERSION;
	r->hdr_len = (uint16_t)((buf[0] & 0x0f) * 4);
	if (r->hdr_len < IPV4_MIN_HDR || r->hdr_len > pkt_len || r->hdr_len > avail)
		return PH_DROP_IP_BAD_IHL;
	memcpy(&v16, buf + 2, 2);
	r->total_len = rte_be_to_cpu_16(v16);
	if (r->total_len > pkt_len)
		return PH_DROP_IP_TRUNCATED;
	if (r->total_len < r->hdr_len)
		return PH_DROP_IP_BAD_TOTLEN;
	if (csum == IPV4_CSUM_BAD ||
	    (csum == IPV4_CSUM_UNKNOWN && rte_raw_cksum(buf, r->hdr_len) != 0xffff))
		return PH_DROP_IP_BAD_CSUM;
	r->tos = buf[1];
	memcpy(&v16, buf + 4, 2);
	r->id = rte_be_to_cpu_16(v16);
	memcpy(&v16, buf + 6, 2);
	v16 = rte_be_to_cpu_16(v16);
	r->df = (v16 & RTE_IPV4_HDR_DF_FLAG) != 0;
	r->mf = (v16 & RTE_IPV4_HDR_MF_FLAG) != 0;
	r->frag_off = (uint16_t)((v16 & RTE_IPV4_HDR_OFFSET_MASK) * RTE_IPV4_HDR_OFFSET_UNITS);
	r->ttl = buf[8];
	r->proto = buf[9];
	memcpy(&v32, buf + 12, 4);
	r->src = rte_be_to_cpu_32(v32);
	memcpy(&v32, buf + 16, 4);
	r->dst = rte_be_to_cpu_32(v32);
	return PH_DROP_NONE;
}

static inline bool
ipv4_is_fragment(const struct ipv4_repr *r)
{
	return r->mf || r->frag_off != 0;
}

/*
 * A fragment the reassembler must never see (RFC 791): no payload, a payload
 * that is not a multiple of 8 in a non-final fragment, or an end beyond the
 * largest datagram.
 */
static inline bool
ipv4_fragment_valid(const struct ipv4_repr *r)
{
	uint32_t payload = (uint32_t)r->total_len - r->hdr_len;

	if (payload == 0)
		return false;
	if (r->mf && (payload & 7) != 0)
		return false;
	return (uint32_t)r->frag_off + r->total_len <= IPV4_MAX_LEN;
}

/*
 * Write a 20-byte header (no options) with its checksum, or a zero checksum
 * when the NIC will fill it (CSUM_BY_NIC).
 */
static inline void
ipv4_emit(uint8_t *buf, const struct ipv4_repr *r, bool csum_by_nic)
{
	uint16_t v16;
	uint32_t v32;

	buf[0] = 0x45;
	buf[1] = r->tos;
	v16 = rte_cpu_to_be_16(r->total_len);
	memcpy(buf + 2, &v16, 2);
	v16 = rte_cpu_to_be_16(r->id);
	memcpy(buf + 4, &v16, 2);
	v16 = (uint16_t)((r->df ? RTE_IPV4_HDR_DF_FLAG : 0) | (r->mf ? RTE_IPV4_HDR_MF_FLAG : 0) |
	                 (r->frag_off / RTE_IPV4_HDR_OFFSET_UNITS));
	v16 = rte_cpu_to_be_16(v16);
	memcpy(buf + 6, &v16, 2);
	buf[8] = r->ttl;
	buf[9] = r->proto;
	buf[10] = buf[11] = 0;
	v32 = rte_cpu_to_be_32(r->src);
	memcpy(buf + 12, &v32, 4);
	v32 = rte_cpu_to_be_32(r->dst);
	memcpy(buf + 16, &v32, 4);
	if (!csum_by_nic) {
		v16 = (uint16_t)~rte_raw_cksum(buf, IPV4_MIN_HDR);
		memcpy(buf + 10, &v16, 2);
	}
}

/* Address classes, host order. */
static inline bool
ipv4_is_multicast(uint32_t a)
{
	return (a >> 28) == 0xe;
}

static inline bool
ipv4_is_loopback(uint32_t a)
{
	return (a >> 24) == 127;
}

static inline bool
ipv4_is_this_network(uint32_t a)
{
	return (a >> 24) == 0;
}

static inline bool
ipv4_is_reserved(uint32_t a) /* 240.0.0.0/4, 255.255.255.255 included */
{
	return (a >> 28) == 0xf;
}

/*
 * A source no datagram from the network may carry (RFC 1122 3.2.1.3,
 * RFC 1812 5.3.7): this-network, loopback, multicast, class E, broadcast.
 */
static inline bool
ipv4_is_martian_src(uint32_t a)
{
	return ipv4_is_this_network(a) || ipv4_is_loopback(a) || ipv4_is_multicast(a) ||
	       ipv4_is_reserved(a);
}

/* A destination that cannot be ours on the wire: this-network, loopback, class E. */
static inline bool
ipv4_is_martian_dst(uint32_t a)
{
	return ipv4_is_this_network(a) || ipv4_is_loopback(a) ||
	       (ipv4_is_reserved(a) && a != IPV4_BCAST);
}

/* "a.b.c.d" of IP (host order) into BUF, which holds IPV4_STR_LEN. */
#define IPV4_STR_LEN 16
static inline const char *
ipv4_str(uint32_t ip, char *buf)
{
	snprintf(buf, IPV4_STR_LEN, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
	         ip & 255);
	return buf;
}

static inline uint32_t
ipv4_mask(uint8_t plen)
{
	return plen == 0 ? 0 : ~0u << (32 - plen);
}

#endif
