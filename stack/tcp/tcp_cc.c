/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control behind struct tcp_cc_ops: how cwnd grows and how far
 * it falls on a congestion event. Loss detection and recovery (fast
 * retransmit, SACK recovery, NewReno's partial ACKs, RTO) live in
 * tcp_recovery.c and call these. Both algorithms share slow start (RFC
 * 5681 with appropriate byte counting, RFC 3465, L = 2) and grow only a
 * window that is in use.
 *
 * NewReno: congestion avoidance of one SMSS per RTT, ssthresh at half the
 * flight (RFC 5681).
 *
 * CUBIC (RFC 9438): after a reduction the window follows
 * W_cubic(t) = C (t - K)^3 + W_max, concave up to the window where the loss
 * came (W_max, reached at t = K), convex beyond it, and never slower than
 * the Reno-friendly estimate W_est. All in integers: windows in bytes, t
 * and K in ms, C = 0.4 segments/s^3 as 4 / 10^10 segments/ms^3, beta = 7/10,
 * alpha = 3 (1 - beta) / (1 + beta) = 9/17. The curve's offset
 * C (t - K)^3 is computed exactly (64-bit with the quotient and remainder
 * split), K by an exact integer cube root, so the window is within a byte
 * of the RFC's formula and no libm or floating point is needed.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "tcp/tcp.h"
#include "tcp/tcp_cc.h"

#define CWND_MAX (1u << 30)

uint32_t
tcp_initial_window(const struct tcp_conn *c)
{
	uint32_t mss = tcp_data_mss(c);
	uint32_t cap = 2 * mss > 14600 ? 2 * mss : 14600;

	return 10 * mss < cap ? 10 * mss : cap;
}

/* Grow only a window that is in use (RFC 7661): an application that sends
 * less than cwnd allows has not shown the path takes more. */
static bool
cwnd_in_use(const struct tcp_conn *c, uint32_t flight)
{
	return flight >= c->cwnd / 2;
}

/* Slow start, at most 2 SMSS per ACK (RFC 3465 2.2). */
static void
slow_start(struct tcp_conn *c, uint32_t acked)
{
	uint32_t mss = tcp_data_mss(c);

	c->cwnd += acked < 2 * mss ? acked : 2 * mss;
	if (c->cwnd > CWND_MAX)
		c->cwnd = CWND_MAX;
}

/* ---- NewReno ---- */

static void
nr_init(struct tcp_conn *c)
{
	c->cwnd = tcp_initial_window(c);
	c->ssthresh = UINT32_MAX;
}

static void
nr_cong_avoid(struct tcp_conn *c, uint32_t acked, uint32_t flight)
{
	uint32_t mss = tcp_data_mss(c);

	if (!cwnd_in_use(c, flight))
		return;
	if (c->cwnd < c->ssthresh) {
		slow_start(c, acked);
	} else {
		/* Congestion avoidance: about one SMSS per RTT (RFC 5681 eq. 3). */
		uint32_t inc = (uint32_t)((uint64_t)mss * mss / c->cwnd);

		c->cwnd += inc ? inc : 1;
		if (c->cwnd > CWND_MAX)
			c->cwnd = CWND_MAX;
	}
}

/* RFC 5681 3.1 eq. 4: half the flight, at least two segments. */
static uint32_t
nr_ssthresh(struct tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una;
	uint32_t mss = tcp_data_mss(c);

	return flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
}

const struct tcp_cc_ops tcp_cc_newreno = {
        .name = "newreno",
        .init = nr_init,
        .cong_avoid = nr_cong_avoid,
        .ssthresh = nr_ssthresh,
};

/* ---- CUBIC (RFC 9438) ---- */

static_assert(sizeof(struct tcp_cubic) <= TCP_CC_PRIV_SIZE, "CUBIC's state must fit cc_priv");

#define CUBIC_BETA_NUM  7 /* beta_cubic = 0.7 (4.6) */
#define CUBIC_BETA_DEN  10
#define CUBIC_ALPHA_NUM 9 /* alpha_cubic = 3 * 0.3 / 1.7 = 9/17 (4.3) */
#define CUBIC_ALPHA_DEN 17
/* C = 0.4 segments/s^3 = 4 / 10^10 segments/ms^3 (5.1). */
#define CUBIC_C_NUM 4
#define CUBIC_C_DEN 10000000000ull
/* A curve this far (~17 min) from K is beyond any window: it stops there. */
#define CUBIC_T_MAX (1u << 20)
/* A cumulative ACK counted for at most this many bytes (keeps the
 * products below in 64 bits; a bigger one is a window beyond reason). */
#define CUBIC_ACKED_MAX (1u << 24)

static struct tcp_cubic *
cubic(struct tcp_conn *c)
{
	return (struct tcp_cubic *)c->cc_priv;
}

/* floor(cbrt(x)), one result bit per step: y grows from its top bit down
 * while (2y + 1)^3 still fits under what is left of x. */
static uint32_t
icbrt(uint64_t x)
{
	uint64_t y = 0;

	for (int s = 63; s >= 0; s -= 3) {
		uint64_t b;

		y <<= 1;
		b = 3 * y * (y + 1) + 1; /* (y + 1)^3 - y^3 */
		if ((x >> s) >= b) {
			x -= b << s;
			y++;
		}
	}
	return (uint32_t)y;
}

uint32_t
tcp_cubic_k(uint32_t wdiff, uint32_t mss)
{
	/* K^3 = wdiff / mss / C s^3 = wdiff * 2.5e9 / mss ms^3; wdiff < 2^30
	 * keeps the product below 2^62. */
	return icbrt((uint64_t)wdiff * (CUBIC_C_DEN / CUBIC_C_NUM) / (mss ? mss : 1));
}

/* C * D^3 segments, in bytes, for D ms: 4 * mss * D^3 / 10^10, exactly
 * (D^3 split into quotient and remainder of 10^10 so nothing overflows). */
static uint64_t
cubic_offset(uint64_t d, uint32_t mss)
{
	uint64_t d3, m = (uint64_t)CUBIC_C_NUM * mss;

	if (d > CUBIC_T_MAX)
		d = CUBIC_T_MAX;
	d3 = d * d * d;
	return d3 / CUBIC_C_DEN * m + d3 % CUBIC_C_DEN * m / CUBIC_C_DEN;
}

uint64_t
tcp_cubic_w(const struct tcp_cubic *cu, uint32_t mss, uint64_t t)
{
	uint64_t off;

	if (t >= cu->k)
		return cu->w_max + cubic_offset(t - cu->k, mss);
	off = cubic_offset(cu->k - t, mss);
	return off < cu->w_max ? cu->w_max - off : 0;
}

static void
cubic_init(struct tcp_conn *c)
{
	memset(c->cc_priv, 0, sizeof(c->cc_priv));
	c->cwnd = tcp_initial_window(c);
	c->ssthresh = UINT32_MAX;
}

/* The first ACK of a congestion avoidance stage: t_epoch, cwnd_epoch, K
 * and W_est (4.2, 4.3). After a timeout the curve starts flat at the
 * current window (K = 0, W_max = cwnd_epoch, 4.8); so it does when no loss
 * has set W_max yet or the window already passed it (as Linux does: a K
 * from a negative climb would hold cwnd still until the curve caught up). */
static void
cubic_epoch_start(struct tcp_conn *c, struct tcp_cubic *cu, uint32_t now)
{
	cu->epoch_start = now;
	cu->last_ack = now;
	cu->cwnd_epoch = c->cwnd;
	cu->w_est = c->cwnd;
	cu->w_est_frac = 0;
	cu->acc = 0;
	if ((cu->flags & CUBIC_RTO) || cu->w_max <= c->cwnd) {
		cu->w_max = c->cwnd;
		cu->k = 0;
	} else {
		cu->k = tcp_cubic_k(cu->w_max - c->cwnd, tcp_data_mss(c));
	}
	cu->flags = (uint8_t)((cu->flags | CUBIC_EPOCH) & ~(CUBIC_RTO | CUBIC_LIMITED));
}

/* t MUST NOT include time the window was not in use (4.2, 5.8): the stage
 * start moves on by it. Two signs: ACKs that showed the window unused
 * (LIMITED), and a silence between ACKs longer than the RTO (the sender
 * was idle; a loss that long would have been a timeout, which ends the
 * stage anyway). */
static void
cubic_skip_unused(struct tcp_conn *c, struct tcp_cubic *cu, uint32_t now)
{
	if (cu->flags & CUBIC_LIMITED) {
		cu->epoch_start += now - cu->limited_at;
		cu->flags &= (uint8_t)~CUBIC_LIMITED;
	} else if (now - cu->last_ack > c->rto) {
		cu->epoch_start += now - cu->last_ack;
	}
	cu->last_ack = now;
}

static void
cubic_cong_avoid(struct tcp_conn *c, uint32_t acked, uint32_t flight)
{
	struct tcp_cubic *cu = cubic(c);
	uint32_t now = (uint32_t)c->st->now, mss = tcp_data_mss(c);
	uint32_t rtt = c->srtt >> 3, t;
	uint64_t w_t, target, inc;

	if (!cwnd_in_use(c, flight)) {
		if ((cu->flags & (CUBIC_EPOCH | CUBIC_LIMITED)) == CUBIC_EPOCH) {
			cu->flags |= CUBIC_LIMITED;
			cu->limited_at = now;
		}
		return;
	}
	if (c->cwnd < c->ssthresh) {
		slow_start(c, acked); /* 4.10: without HyStart++, as NewReno */
		return;
	}
	if (!(cu->flags & CUBIC_EPOCH))
		cubic_epoch_start(c, cu, now);
	else
		cubic_skip_unused(c, cu, now);
	if (acked > CUBIC_ACKED_MAX)
		acked = CUBIC_ACKED_MAX;
	t = now - cu->epoch_start;

	/* 4.3: W_est grows by alpha segments per window of ACKs, alpha = 1
	 * once it has reached the window of the last loss. In bytes per acked
	 * byte: alpha * mss / cwnd, kept in 1/65536 of a byte. */
	{
		uint64_t num = cu->w_est >= cu->cwnd_prior ? CUBIC_ALPHA_DEN : CUBIC_ALPHA_NUM;
		uint64_t fp = ((num * mss * acked) << 16) / ((uint64_t)CUBIC_ALPHA_DEN * c->cwnd);
		uint64_t w = cu->w_est + ((cu->w_est_frac + fp) >> 16);

		cu->w_est_frac = (uint16_t)(cu->w_est_frac + fp);
		cu->w_est = w > CWND_MAX ? CWND_MAX : (uint32_t)w;
	}

	w_t = tcp_cubic_w(cu, mss, t);
	if (w_t < cu->w_est) {
		/* The Reno-friendly region (4.3): cwnd = W_est, never lowered. */
		if (c->cwnd < cu->w_est)
			c->cwnd = cu->w_est;
		return;
	}
	/* Concave (4.4) and convex (4.5) regions: toward the window the curve
	 * has one RTT ahead, held within [cwnd, 1.5 cwnd] (4.2), by
	 * (target - cwnd) / cwnd per acked segment, i.e. per acked byte in
	 * bytes; the remainder carries to the next ACK. */
	target = tcp_cubic_w(cu, mss, (uint64_t)t + rtt);
	if (target <= c->cwnd)
		return;
	if (target > c->cwnd + c->cwnd / 2)
		target = c->cwnd + c->cwnd / 2;
	inc = (target - c->cwnd) * acked + cu->acc;
	cu->acc = (uint32_t)(inc % c->cwnd);
	inc /= c->cwnd;
	if (inc > target - c->cwnd)
		inc = target - c->cwnd;
	c->cwnd = c->cwnd + inc > CWND_MAX ? CWND_MAX : c->cwnd + (uint32_t)inc;
}

/*
 * A congestion event (4.6, 4.7). ssthresh = max(0.7 cwnd, 2 SMSS) from
 * cwnd, not the flight: W_max and cwnd_prior are the window too, so the
 * curve climbs back to where the loss came from the window the reduction
 * started at; the flight at the third duplicate ACK is cwnd plus limited
 * transmit, or less by a partial segment. The RFC allows cwnd when the
 * window cannot grow unused: cwnd_in_use() holds it while less than half
 * is in flight (as NewReno's and Linux's checks do), so cwnd stays within
 * twice what the path carried.
 */
static uint32_t
cubic_ssthresh(struct tcp_conn *c)
{
	struct tcp_cubic *cu = cubic(c);
	uint32_t mss = tcp_data_mss(c);
	uint32_t ss = (uint32_t)((uint64_t)c->cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN);

	/* Keep what this changes, should the event prove spurious (4.9). */
	cu->u_w_max = cu->w_max;
	cu->u_cwnd_prior = cu->cwnd_prior;
	cu->u_cwnd_epoch = cu->cwnd_epoch;
	cu->u_k = cu->k;
	cu->u_w_est = cu->w_est;
	cu->u_epoch_start = cu->epoch_start;
	cu->u_flags = cu->flags & (uint8_t)~CUBIC_SAVED;

	/* Fast convergence (4.7): a loss before the last W_max was regained
	 * means another flow took a share: leave it more room. */
	if (c->cwnd < cu->w_max)
		cu->w_max = (uint32_t)((uint64_t)c->cwnd * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) /
		                       (2 * CUBIC_BETA_DEN));
	else
		cu->w_max = c->cwnd;
	cu->cwnd_prior = c->cwnd;
	cu->flags =
	        (uint8_t)((cu->flags | CUBIC_SAVED) & ~(CUBIC_EPOCH | CUBIC_LIMITED | CUBIC_RTO));
	return ss > 2 * mss ? ss : 2 * mss;
}

/* 4.8: the stage after a timeout starts flat where slow start leaves it. */
static void
cubic_rto(struct tcp_conn *c)
{
	struct tcp_cubic *cu = cubic(c);

	cu->flags = (uint8_t)((cu->flags | CUBIC_RTO) & ~(CUBIC_EPOCH | CUBIC_LIMITED));
}

/* 4.9: the reduction was spurious (tcp_recovery.c restored cwnd and
 * ssthresh): the curve it replaced goes on. */
static void
cubic_undo(struct tcp_conn *c)
{
	struct tcp_cubic *cu = cubic(c);

	if (!(cu->flags & CUBIC_SAVED))
		return;
	cu->w_max = cu->u_w_max;
	cu->cwnd_prior = cu->u_cwnd_prior;
	cu->cwnd_epoch = cu->u_cwnd_epoch;
	cu->k = cu->u_k;
	cu->w_est = cu->u_w_est;
	cu->w_est_frac = 0;
	cu->epoch_start = cu->u_epoch_start;
	cu->flags = cu->u_flags;
	cu->acc = 0;
	cu->last_ack = (uint32_t)c->st->now;
}

/* No .recovered: ssthresh() ended the stage already and no ACK of fast
 * recovery reaches cong_avoid, so the next stage starts at the first ACK
 * after it, as 4.2 puts t_epoch. */
const struct tcp_cc_ops tcp_cc_cubic = {
        .name = "cubic",
        .init = cubic_init,
        .cong_avoid = cubic_cong_avoid,
        .ssthresh = cubic_ssthresh,
        .rto = cubic_rto,
        .undo = cubic_undo,
};

/* ---- the table ---- */

const struct tcp_cc_ops *
tcp_cc_find(const char *name)
{
	static const struct tcp_cc_ops *const all[] = {&tcp_cc_newreno, &tcp_cc_cubic};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}

int
tcp_cc_set(struct tcp_conn *c, const char *name)
{
	const struct tcp_cc_ops *ops = tcp_cc_find(name);

	if (ops == NULL)
		return -ENOENT;
	if (ops == c->cc)
		return 0; /* as Linux: the same algorithm keeps its state */
	c->cc = ops;
	memset(c->cc_priv, 0, sizeof(c->cc_priv));
	/* Before the handshake completes the window is not in use yet
	 * (established() initializes it again); after, the new algorithm
	 * starts from the current cwnd and ssthresh. */
	if (c->state < TCPS_ESTABLISHED)
		ops->init(c);
	return 0;
}
