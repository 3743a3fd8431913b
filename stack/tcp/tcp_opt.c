/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP options on receive (RFC 9293 3.2, RFC 7323, RFC 2018). Every option is
 * length-checked before it is read. As in Linux, an option whose length byte
 * is below 2 or runs past the header ends parsing and the segment is dropped;
 * an option of a known kind with the wrong length is ignored (RFC 9293
 * 3.2: "MUST be prepared to handle an illegal option length"); MSS and window
 * scale count only on a SYN (RFC 9293 3.7.1, RFC 7323 2.2).
 */
#include <string.h>

#include "tcp/tcp.h"
#include "wire/tcp.h"

int
tcp_opt_parse(const uint8_t *opt, uint8_t len, bool syn, struct tcp_opts *o)
{
	uint8_t i = 0;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = opt[i], olen;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -1;
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return -1;
		const uint8_t *p = opt + i + 2;
		switch (kind) {
		case TCPOPT_MSS:
			if (olen == TCPOLEN_MSS && syn) {
				o->mss_ok = true;
				o->mss = tcp_rd16(p);
			}
			break;
		case TCPOPT_WSCALE:
			if (olen == TCPOLEN_WSCALE && syn) {
				o->ws_ok = true;
				/* RFC 7323 2.3: a shift above 14 is used as 14. */
				o->ws = p[0] > 14 ? 14 : p[0];
			}
			break;
		case TCPOPT_SACK_OK:
			if (olen == TCPOLEN_SACK_OK && syn)
				o->sack_ok = true;
			break;
		case TCPOPT_TIMESTAMPS:
			if (olen == TCPOLEN_TIMESTAMPS) {
				o->ts_ok = true;
				o->tsval = tcp_rd32(p);
				o->tsecr = tcp_rd32(p + 4);
			}
			break;
		case TCPOPT_SACK:
			if (olen >= 10 && (olen - 2) % 8 == 0 && !syn) {
				o->n_sack = 0;
				for (uint8_t k = 0; k < (olen - 2) / 8 && k < 4; k++) {
					o->sack[k].l = tcp_rd32(p + 8 * k);
					o->sack[k].r = tcp_rd32(p + 8 * k + 4);
					o->n_sack++;
				}
			}
			break;
		default:
			break; /* unknown kinds are skipped by their length */
		}
		i = (uint8_t)(i + olen);
	}
	return 0;
}
