/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP (RFC 9293 3.1) on the wire: the fixed header and its flags, the option
 * kinds (RFC 9293 3.2, RFC 7323, RFC 2018), and a length-checked parse of the
 * fixed header into a host-order repr. Options are parsed by the TCP module
 * (tcp_opt_parse()), since what an option means depends on the segment.
 */
#ifndef PH_WIRE_TCP_H
#define PH_WIRE_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/counters.h"

#define TCP_HDR_LEN     20
#define TCP_MAX_HDR_LEN 60
#define TCP_MAX_OPT_LEN 40

/* Control bits (RFC 9293 3.1, RFC 3168 for ECE/CWR). */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* Option kinds and their lengths. */
#define TCPOPT_EOL         0
#define TCPOPT_NOP         1
#define TCPOPT_MSS         2 /* RFC 9293 3.2: length 4 */
#define TCPOPT_WSCALE      3 /* RFC 7323 2.2: length 3 */
#define TCPOPT_SACK_OK     4 /* RFC 2018 2: length 2 */
#define TCPOPT_SACK        5 /* RFC 2018 3: 2 + 8n */
#define TCPOPT_TIMESTAMPS  8 /* RFC 7323 3.2: length 10 */

#define TCPOLEN_MSS        4
#define TCPOLEN_WSCALE     3
#define TCPOLEN_SACK_OK    2
#define TCPOLEN_TIMESTAMPS 10

/* The TCP header fields, host order. */
struct tcp_hdr_repr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t hdr_len; /* bytes, 20..60 */
	uint8_t flags;
	uint16_t wnd;
	uint16_t urp;
};

static inline uint16_t
tcp_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
tcp_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
tcp_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
tcp_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Validate the fixed header at BUF, LEN bytes of segment (header and data)
 * readable there. The data offset must cover the fixed header and fit the
 * segment; the checksum is the caller's (it needs the pseudo-header).
 */
static inline enum ph_drop
tcp_hdr_parse(const uint8_t *buf, uint32_t len, struct tcp_hdr_repr *r)
{
	if (len < TCP_HDR_LEN)
		return PH_DROP_TCP_TRUNCATED;
	r->sport = tcp_rd16(buf);
	r->dport = tcp_rd16(buf + 2);
	r->seq = tcp_rd32(buf + 4);
	r->ack = tcp_rd32(buf + 8);
	r->hdr_len = (uint8_t)((buf[12] >> 4) * 4);
	r->flags = buf[13];
	r->wnd = tcp_rd16(buf + 14);
	r->urp = tcp_rd16(buf + 18);
	if (r->hdr_len < TCP_HDR_LEN || r->hdr_len > len)
		return PH_DROP_TCP_BAD_OFFSET;
	return PH_DROP_NONE;
}

/* Write the fixed header (checksum 0) and the options that follow it. */
static inline void
tcp_hdr_write(uint8_t *buf, const struct tcp_hdr_repr *r, const uint8_t *opt, uint8_t optlen)
{
	tcp_wr16(buf, r->sport);
	tcp_wr16(buf + 2, r->dport);
	tcp_wr32(buf + 4, r->seq);
	tcp_wr32(buf + 8, r->ack);
	buf[12] = (uint8_t)(((TCP_HDR_LEN + optlen) / 4) << 4);
	buf[13] = r->flags;
	tcp_wr16(buf + 14, r->wnd);
	tcp_wr16(buf + 16, 0);
	tcp_wr16(buf + 18, r->urp);
	for (uint8_t i = 0; i < optlen; i++)
		buf[TCP_HDR_LEN + i] = opt[i];
}

#endif
