/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SYN cookies (RFC 4987 3.6), between a listener's SYN input and its
 * queues (tcp_input.c listen_input). When the SYN queue is full (or always,
 * with syncookies = 2) a SYN is answered with a SYN-ACK whose ISN encodes
 * what the connection needs, and no state is kept; the ACK that completes
 * the handshake carries it back (ACK - 1), and the connection is made then.
 *
 * The cookie, 32 bits:
 *     bits 31..27  the 64-second period it was made in (mod 32)
 *     bits 26..24  the MSS, as an index into cookie_mss[]
 *     bits 23..0   SipHash-2-4 of the 4-tuple, the peer's ISN and the period,
 *                  keyed with the stack's secret, truncated
 * It is accepted for two periods (64 to 128 s). When the peer sent
 * timestamps, our TSval's low 6 bits carry its window scale (4 bits, 15 for
 * none) and SACK-permitted (1 bit), and come back in its TSecr (the scheme
 * Linux uses); without timestamps a cookie connection has neither option,
 * as RFC 4987 says. The timestamp offset of a connection is a keyed hash of
 * its 4-tuple (RFC 7323 5.4 allows it) so that it can be found again.
 */
#include <string.h>

#include "tcp/tcp.h"
#include "wire/tcp.h"

#define COOKIE_PERIOD_MS 64000
#define TS_OPT_BITS      6
#define TS_WS_NONE       0xf
#define TS_SACK_BIT      0x10

/* MSS values a cookie can say; an index of 3 bits. */
static const uint16_t cookie_mss[8] = {536, 1200, 1300, 1400, 1440, 1452, 1460, 8960};

uint64_t tcp_siphash(const uint8_t key[16], const void *data, size_t len);

static uint32_t
cookie_hash(const struct tcp_stack *st, const struct tcp_seg *seg, uint32_t peer_isn,
            uint32_t period)
{
	/* The tuple as the listener sees it: local = the segment's dest. */
	uint32_t d[6] = {seg->daddr, seg->saddr, (uint32_t)seg->dport << 16 | seg->sport,
	                 peer_isn,   period,     0x636f6f6b /* a domain tag */};

	return (uint32_t)tcp_siphash(st->secret, d, sizeof(d)) & 0xffffff;
}

uint32_t
tcp_ts_offset(const struct tcp_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
              uint16_t rport)
{
	uint32_t d[4] = {laddr, raddr, (uint32_t)lport << 16 | rport, 0x7473 /* "ts" */};

	return st->ts_base + (uint32_t)tcp_siphash(st->ts_secret, d, sizeof(d));
}

uint32_t
tcp_cookie_make(const struct tcp_stack *st, const struct tcp_seg *seg, uint16_t mss)
{
	uint32_t period = (uint32_t)(st->now / COOKIE_PERIOD_MS);
	uint32_t idx = 0;

	/* The largest MSS we can say that is not above the one to use. */
	for (uint32_t i = 0; i < 8; i++)
		if (cookie_mss[i] <= mss)
			idx = i;
	return (period & 0x1f) << 27 | idx << 24 | cookie_hash(st, seg, seg->seq, period);
}

int
tcp_cookie_check(const struct tcp_stack *st, const struct tcp_seg *seg, uint16_t *mss)
{
	uint32_t cookie = seg->ack - 1, peer_isn = seg->seq - 1;
	uint32_t now = (uint32_t)(st->now / COOKIE_PERIOD_MS);

	for (uint32_t age = 0; age < 2; age++) {
		uint32_t period = now - age;

		if (now < age || (cookie >> 27) != (period & 0x1f))
			continue;
		if ((cookie & 0xffffff) != cookie_hash(st, seg, peer_isn, period))
			return -1;
		*mss = cookie_mss[(cookie >> 24) & 7];
		return 0;
	}
	return -1;
}

uint32_t
tcp_cookie_tsval(uint32_t tsval, bool ws_ok, uint8_t ws, bool sack_ok)
{
	uint32_t bits = (ws_ok ? ws : TS_WS_NONE) | (sack_ok ? TS_SACK_BIT : 0);

	/* Lower the clock to the options rather than raise it: a TSval from
	 * the future could break the peer's PAWS later. */
	if ((tsval & ((1u << TS_OPT_BITS) - 1)) < bits)
		tsval -= 1u << TS_OPT_BITS;
	return (tsval & ~((1u << TS_OPT_BITS) - 1)) | bits;
}

void
tcp_cookie_ts_decode(uint32_t tsecr, bool *ws_ok, uint8_t *ws, bool *sack_ok)
{
	uint8_t w = tsecr & 0xf;

	*ws_ok = w != TS_WS_NONE;
	*ws = *ws_ok ? (w > 14 ? 14 : w) : 0;
	*sack_ok = tsecr & TS_SACK_BIT;
}
