/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside tcp_cc.c: CUBIC's per-connection state (it lives in c->cc_priv)
 * and its two formulas, for the unit tests that check them against RFC
 * 9438. Nothing else in the stack needs this header.
 */
#ifndef PH_TCP_TCP_CC_H
#define PH_TCP_TCP_CC_H

#include <stdint.h>

/* cubic.flags */
#define CUBIC_EPOCH   0x01 /* a congestion avoidance stage is running (epoch_start, k valid) */
#define CUBIC_LIMITED 0x02 /* the window is not in use since limited_at: the curve waits */
#define CUBIC_RTO     0x04 /* the next stage follows a timeout: K = 0 (RFC 9438 4.8) */
#define CUBIC_SAVED   0x08 /* the u_ fields hold the state before the last reduction */

/* Windows in bytes, times in ms (the low 32 bits of st->now: a stage
 * longer than 49 days starts its curve again). It overlays c->cc_priv (an
 * array of uint64_t), hence may_alias. */
struct __attribute__((__may_alias__)) tcp_cubic {
	uint32_t w_max;       /* W_max: where the curve levels off (4.1.2, 4.7) */
	uint32_t cwnd_prior;  /* cwnd just before the last reduction (4.6) */
	uint32_t cwnd_epoch;  /* cwnd when the stage began (4.2) */
	uint32_t k;           /* K: the time from epoch_start to W_max (4.2) */
	uint32_t w_est;       /* W_est, the Reno-friendly estimate (4.3) */
	uint32_t acc;         /* remainder of the cubic increments, < cwnd */
	uint32_t epoch_start; /* t_epoch, moved on by the time the window was unused */
	uint32_t limited_at;  /* with CUBIC_LIMITED */
	uint32_t last_ack;    /* the last ACK of the stage: a gap beyond the RTO is idle time */
	uint16_t w_est_frac;  /* W_est's fraction of a byte, in 1/65536 */
	uint8_t flags;
	uint8_t u_flags;
	/* Before the last ssthresh(), for undo (RFC 9438 4.9). */
	uint32_t u_w_max, u_cwnd_prior, u_cwnd_epoch, u_k, u_w_est, u_epoch_start;
};

/* K in ms for a climb of WDIFF bytes back to W_max: cbrt(WDIFF / MSS / C)
 * seconds (RFC 9438 eq. 2), rounded down. */
uint32_t tcp_cubic_k(uint32_t wdiff, uint32_t mss);
/* W_cubic(T) in bytes, T ms after the stage began (RFC 9438 eq. 1). */
uint64_t tcp_cubic_w(const struct tcp_cubic *cu, uint32_t mss, uint64_t t);

#endif
