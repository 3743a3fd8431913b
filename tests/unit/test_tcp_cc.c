/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control (tcp_cc.c) against its RFCs. Most cases drive a bare
 * struct tcp_conn through struct tcp_cc_ops the way tcp_recovery.c does
 * (cong_avoid per ACK, ssthresh on a congestion event, rto, undo) with a
 * virtual clock in µs, and compare the window with RFC 9438's formulas
 * computed here in floating point: K, W_cubic(t) and its concave and convex
 * halves, the multiplicative decrease, fast convergence, the Reno-friendly
 * region, the growth per RTT, the stage after a timeout, undo, and slow
 * start equal to NewReno's. NewReno's own rules (RFC 5681) too. The last
 * cases go through the whole stack (the scripted harness): the choice per
 * connection (TCP_CONGESTION's tcp_cc_set), a listener's children
 * inheriting it, and CUBIC's reduction and undo under real loss recovery.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/tcp_cc.h"
#include "tcp_harness.h"

#define MSS 1000u

/* ---- RFC 9438 in floating point, windows in segments, time in s ---- */

static double
cbrt_d(double x)
{
	double y = x > 1 ? x : 1;

	for (int i = 0; i < 200; i++)
		y = (2 * y + x / (y * y)) / 3;
	return y;
}

/* Eq. 2, with cwnd_epoch = beta * W_max. */
static double
k_d(double w_max, double cwnd_epoch)
{
	return cbrt_d((w_max - cwnd_epoch) / 0.4);
}

/* Eq. 1. */
static double
w_cubic_d(double t, double k, double w_max)
{
	double d = t - k;

	return 0.4 * d * d * d + w_max;
}

static void
assert_near(double got, double want, double rel, const char *what)
{
	double err = got > want ? got - want : want - got;

	if (err > rel * want)
		fail_msg("%s: got %.1f, want %.1f (+-%.1f%%)", what, got, want, rel * 100);
}

/* ---- a bare connection and a virtual clock ---- */

struct fx {
	struct tcp_stack st;
	struct tcp_conn c;
	uint64_t us; /* the clock; st.now is it in ms */
};

static struct fx *
fx_new(const struct tcp_cc_ops *cc, uint32_t rtt_ms)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->us = 1000000000ull;
	f->st.now = f->us / 1000;
	f->c.st = &f->st;
	f->c.state = TCPS_ESTABLISHED;
	f->c.mss = MSS;
	f->c.srtt = rtt_ms << 3;
	f->c.rto = 1000;
	f->c.cc = cc;
	cc->init(&f->c);
	return f;
}

static struct tcp_cubic *
cu(struct fx *f)
{
	return (struct tcp_cubic *)f->c.cc_priv;
}

static void
advance_us(struct fx *f, uint64_t us)
{
	f->us += us;
	f->st.now = f->us / 1000;
}

/* One ACK of ACKED new bytes with the window in use. */
static void
ack(struct fx *f, uint32_t acked)
{
	f->c.cc->cong_avoid(&f->c, acked, f->c.cwnd);
}

/* A round trip: the window's bytes come back as ACKs of one MSS (the last
 * one shorter), spread evenly over RTT_MS. */
static void
round_trip(struct fx *f, uint32_t rtt_ms)
{
	uint32_t left = f->c.cwnd, n = (left + MSS - 1) / MSS;
	uint64_t step = rtt_ms * 1000ull / n;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t a = left < MSS ? left : MSS;

		advance_us(f, step);
		ack(f, a);
		left -= a;
	}
	advance_us(f, rtt_ms * 1000ull - step * n);
}

/* A congestion event as SACK recovery makes it (tcp_recovery.c): the
 * window saved for undo, ssthresh from the algorithm, cwnd set to it. The
 * whole window is in flight. */
static void
loss(struct fx *f)
{
	struct tcp_conn *c = &f->c;

	c->prior_cwnd = c->cwnd;
	c->prior_ssthresh = c->ssthresh;
	c->snd_una = 0;
	c->snd_max = c->cwnd;
	c->ssthresh = c->cc->ssthresh(c);
	c->cwnd = c->ssthresh;
	if (c->cc->recovered)
		c->cc->recovered(c);
}

/* The first RTO of an episode (tcp_rec_timeout). */
static void
timeout(struct fx *f)
{
	struct tcp_conn *c = &f->c;

	c->prior_cwnd = c->cwnd;
	c->prior_ssthresh = c->ssthresh;
	c->snd_una = 0;
	c->snd_max = c->cwnd;
	c->ssthresh = c->cc->ssthresh(c);
	c->cwnd = MSS;
	if (c->cc->rto)
		c->cc->rto(c);
}

/* The reduction proved spurious (tcp_recovery.c's undo()). */
static void
undo(struct fx *f)
{
	struct tcp_conn *c = &f->c;

	if (c->cwnd < c->prior_cwnd)
		c->cwnd = c->prior_cwnd;
	if (c->ssthresh < c->prior_ssthresh)
		c->ssthresh = c->prior_ssthresh;
	if (c->cc->undo)
		c->cc->undo(c);
}

/* CUBIC in congestion avoidance just after a loss at W_MAX segments. */
static struct fx *
cubic_after_loss(uint32_t w_max, uint32_t rtt_ms)
{
	struct fx *f = fx_new(&tcp_cc_cubic, rtt_ms);

	f->c.cwnd = w_max * MSS;
	f->c.ssthresh = f->c.cwnd / 2;
	loss(f);
	return f;
}

/* ---- CUBIC: the formulas ---- */

/* K = cbrt((W_max - cwnd_epoch) / C) (RFC 9438 4.2), in ms. */
static void
cubic_k(void **state)
{
	static const uint32_t w[] = {2, 10, 100, 1000, 10000, 100000};
	struct fx *f;

	(void)state;
	/* Known answers: 0.4 segment takes 1 s, 3.2 segments 2 s. */
	assert_int_equal(tcp_cubic_k(400, MSS), 1000);
	assert_int_equal(tcp_cubic_k(3200, MSS), 2000);
	assert_int_equal(tcp_cubic_k(0, MSS), 0);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		double kd = k_d(w[i], 0.7 * w[i]) * 1000;
		uint32_t k = tcp_cubic_k(w[i] * MSS * 3 / 10, MSS);

		if (k > kd + 0.001 || k < kd - 1)
			fail_msg("W_max %u: K %u ms, want %.3f", w[i], k, kd);
	}
	/* The connection's: a loss at 100 segments, the first ACK after it
	 * starts the stage at cwnd 70: K = cbrt(75) s. */
	f = cubic_after_loss(100, 100);
	assert_int_equal(f->c.cwnd, 70 * MSS);
	ack(f, MSS);
	assert_int_equal(cu(f)->w_max, 100 * MSS);
	assert_int_equal(cu(f)->cwnd_epoch, 70 * MSS);
	assert_int_equal(cu(f)->k, 4217); /* 4.2172 s */
	assert_int_equal(cu(f)->epoch_start, (uint32_t)f->st.now);
	free(f);
}

/* W_cubic(t) = C (t - K)^3 + W_max: cwnd_epoch at 0, W_max at K, concave
 * below K, convex above, 1.3 W_max at 2K; within 2 bytes of the formula. */
static void
cubic_curve(void **state)
{
	struct fx *f = cubic_after_loss(100, 100);
	const struct tcp_cubic *s;
	double k, w0, wk2, wk, w3k2, w2k;

	(void)state;
	ack(f, MSS);
	s = cu(f);
	k = s->k;
	w0 = (double)tcp_cubic_w(s, MSS, 0);
	wk2 = (double)tcp_cubic_w(s, MSS, s->k / 2);
	wk = (double)tcp_cubic_w(s, MSS, s->k);
	w3k2 = (double)tcp_cubic_w(s, MSS, s->k * 3 / 2);
	w2k = (double)tcp_cubic_w(s, MSS, 2 * s->k);
	assert_near(w0, 70 * MSS, 0.0005, "W(0)");
	assert_true(w0 >= 70 * MSS); /* K rounds down: never below cwnd_epoch */
	assert_int_equal(wk, 100 * MSS);
	assert_near(wk2, 100 * MSS * (1 - 0.3 / 8), 0.0005, "W(K/2)");
	assert_near(w2k, 130 * MSS, 0.0005, "W(2K)");
	assert_true(wk2 > (w0 + wk) / 2);   /* concave */
	assert_true(w3k2 < (wk + w2k) / 2); /* convex */
	for (uint32_t t = 0; t <= 2 * s->k; t += 97) {
		double want = w_cubic_d(t / 1000.0, k / 1000, 100) * MSS;
		double got = (double)tcp_cubic_w(s, MSS, t);

		if (got > want + 2 || got < want - 2)
			fail_msg("W(%u ms) = %.0f, want %.1f", t, got, want);
	}
	free(f);
}

/* 4.6: ssthresh = cwnd * 0.7, at least 2 SMSS; cwnd follows. */
static void
cubic_decrease(void **state)
{
	struct fx *f = fx_new(&tcp_cc_cubic, 100);

	(void)state;
	f->c.cwnd = 100 * MSS;
	loss(f);
	assert_int_equal(f->c.ssthresh, 70 * MSS);
	assert_int_equal(f->c.cwnd, 70 * MSS);
	f->c.cwnd = 12345;
	loss(f);
	assert_int_equal(f->c.ssthresh, 12345 * 7 / 10);
	f->c.cwnd = 3 * MSS;
	loss(f);
	assert_int_equal(f->c.ssthresh, 2100);
	f->c.cwnd = 2 * MSS;
	loss(f);
	assert_int_equal(f->c.ssthresh, 2 * MSS);
	f->c.cwnd = MSS;
	loss(f);
	assert_int_equal(f->c.ssthresh, 2 * MSS);
	free(f);
}

/* 4.7: a loss before the last W_max is regained lowers W_max to
 * cwnd * (1 + beta) / 2; one at or above it sets W_max = cwnd. */
static void
cubic_fast_convergence(void **state)
{
	struct fx *f = cubic_after_loss(100, 100);

	(void)state;
	assert_int_equal(cu(f)->w_max, 100 * MSS);
	assert_int_equal(cu(f)->cwnd_prior, 100 * MSS);
	/* Regrow to 80 segments: the concave region, still below W_max. */
	while (f->c.cwnd < 80 * MSS)
		round_trip(f, 100);
	f->c.cwnd = 80 * MSS;
	loss(f);
	assert_int_equal(cu(f)->w_max, 68 * MSS);
	assert_int_equal(cu(f)->cwnd_prior, 80 * MSS);
	assert_int_equal(f->c.cwnd, 56 * MSS);
	/* The new stage aims at 68 segments: K = cbrt(12 / 0.4) s. */
	ack(f, MSS);
	assert_int_equal(cu(f)->k, tcp_cubic_k(12 * MSS, MSS));
	/* Beyond W_max now: no convergence. */
	f->c.cwnd = 90 * MSS;
	loss(f);
	assert_int_equal(cu(f)->w_max, 90 * MSS);
	free(f);
}

/* 4.3: at a small RTT and window, W_est (alpha = 9/17 segment per RTT,
 * 1 once it passes cwnd_prior) outgrows the curve, and cwnd follows it. */
static void
cubic_reno_friendly(void **state)
{
	struct fx *f = cubic_after_loss(10, 10);
	double t0 = (double)f->us;

	(void)state;
	for (int r = 0; r < 5; r++)
		round_trip(f, 10);
	assert_near(f->c.cwnd, (7 + 5 * 9.0 / 17) * MSS, 0.03, "cwnd after 5 RTTs");
	assert_true(f->c.cwnd == cu(f)->w_est);
	assert_true(tcp_cubic_w(cu(f), MSS, f->st.now - cu(f)->epoch_start) < f->c.cwnd);
	/* 3 / (9/17) = 5.67 RTTs to cwnd_prior, then one segment per RTT. */
	for (int r = 5; r < 30; r++)
		round_trip(f, 10);
	assert_near(f->c.cwnd, (10 + (30 - 17.0 / 3)) * MSS, 0.03, "cwnd after 30 RTTs");
	/* The curve would be at its plateau still. */
	assert_true(w_cubic_d(((double)f->us - t0) / 1e6, k_d(10, 7), 10) * MSS < f->c.cwnd);
	free(f);
}

/* 4.4, 4.5: where the curve is above W_est, many ACKs per RTT make cwnd
 * follow W_cubic(t) within 0.5% (it lags by under 0.02% in fact: each ACK
 * aims at W_cubic(t + RTT)), and each second's growth within 3% (or a
 * segment, on the plateau), concave then convex. */
static void
cubic_growth_per_rtt(void **state)
{
	struct fx *f = cubic_after_loss(1000, 100);
	double k = k_d(1000, 700), prev_w = 700, prev_cwnd = 700;
	int r = 0;

	(void)state;
	ack(f, MSS); /* the stage starts here: t = 0 */
	for (double t = 0.1; t <= 2 * k; t += 0.1) {
		double w = w_cubic_d(t, k, 1000), cwnd;

		round_trip(f, 100);
		cwnd = (double)f->c.cwnd / MSS;
		assert_near(cwnd, w, 0.005, "cwnd against W_cubic(t)");
		if (++r % 10 == 0) {
			double want = w - prev_w, got = cwnd - prev_cwnd;
			double err = got > want ? got - want : want - got;

			if (err > 0.03 * want && err > 1)
				fail_msg("t %.1f s: grew %.2f segments in 1 s, want %.2f", t, got,
				         want);
			prev_w = w;
			prev_cwnd = cwnd;
		}
	}
	/* 2K: 1.3 W_max. */
	assert_near(f->c.cwnd, 1300 * MSS, 0.02, "cwnd at 2K");
	assert_true(cu(f)->w_est < f->c.cwnd);
	free(f);
}

/* Time the window is not in use does not count in t (4.2): ACKs that show
 * it unused, or an idle gap longer than the RTO, move the stage on. */
static void
cubic_app_limited_freezes_curve(void **state)
{
	struct fx *f = cubic_after_loss(100, 100);
	uint32_t cwnd, start;

	(void)state;
	for (int r = 0; r < 10; r++)
		round_trip(f, 100);
	cwnd = f->c.cwnd;
	start = cu(f)->epoch_start;
	/* 5 s of ACKs with less than half the window in flight. */
	for (int i = 0; i < 50; i++) {
		advance_us(f, 100000);
		f->c.cc->cong_avoid(&f->c, MSS, cwnd / 2 - 1);
	}
	assert_int_equal(f->c.cwnd, cwnd);
	/* From the first ACK that showed it unused to the next in use. */
	ack(f, MSS);
	assert_int_equal(cu(f)->epoch_start, start + 4900);
	/* 3 s of silence (RTO 1 s). */
	advance_us(f, 3000000);
	ack(f, MSS);
	assert_int_equal(cu(f)->epoch_start, start + 7900);
	/* An ordinary gap counts. */
	advance_us(f, 500000);
	ack(f, MSS);
	assert_int_equal(cu(f)->epoch_start, start + 7900);
	free(f);
}

/* 4.8: after a timeout, slow start to ssthresh = 0.7 cwnd, then a stage
 * with K = 0 and W_max = cwnd_epoch: the curve starts flat and convex. */
static void
cubic_rto_restarts_stage(void **state)
{
	struct fx *f = cubic_after_loss(100, 100);
	uint32_t epoch;

	(void)state;
	for (int r = 0; r < 20; r++)
		round_trip(f, 100);
	assert_true(cu(f)->flags & CUBIC_EPOCH);
	f->c.cwnd = 90 * MSS;
	timeout(f);
	assert_int_equal(f->c.ssthresh, 63 * MSS);
	assert_int_equal(f->c.cwnd, MSS);
	assert_false(cu(f)->flags & CUBIC_EPOCH);
	while (f->c.cwnd < f->c.ssthresh) {
		advance_us(f, 10000);
		ack(f, MSS);
	}
	assert_false(cu(f)->flags & CUBIC_EPOCH); /* slow start has no stage */
	ack(f, MSS);
	epoch = cu(f)->cwnd_epoch;
	assert_true(cu(f)->flags & CUBIC_EPOCH);
	assert_int_equal(cu(f)->k, 0);
	assert_int_equal(cu(f)->w_max, epoch);
	/* W_est starts there too, and this ACK's share went on it (4.3). */
	assert_true(cu(f)->w_est > epoch && cu(f)->w_est < epoch + MSS / 10);
	assert_int_equal(cu(f)->epoch_start, (uint32_t)f->st.now);
	/* The curve from there: W(t) = cwnd_epoch + C t^3. */
	assert_int_equal(tcp_cubic_w(cu(f), MSS, 0), epoch);
	assert_near((double)tcp_cubic_w(cu(f), MSS, 3000), epoch + 0.4 * 27 * MSS, 0.0005,
	            "W(3 s)");
	free(f);
}

/* 4.9: undo gives back W_max, cwnd_prior and the stage the reduction
 * ended, whether it was a fast retransmit or a timeout. */
static void
cubic_undo_restores(void **state)
{
	struct fx *f = cubic_after_loss(100, 100);
	struct tcp_cubic before;
	uint32_t cwnd, ssthresh;

	(void)state;
	for (int r = 0; r < 20; r++)
		round_trip(f, 100);
	before = *cu(f);
	cwnd = f->c.cwnd;
	ssthresh = f->c.ssthresh;
	loss(f);
	assert_int_equal(cu(f)->w_max, cwnd * 17 / 20); /* below 100: fast convergence */
	assert_false(cu(f)->flags & CUBIC_EPOCH);
	advance_us(f, 300000);
	undo(f);
	assert_int_equal(f->c.cwnd, cwnd);
	assert_int_equal(f->c.ssthresh, ssthresh);
	assert_int_equal(cu(f)->w_max, before.w_max);
	assert_int_equal(cu(f)->cwnd_prior, before.cwnd_prior);
	assert_int_equal(cu(f)->cwnd_epoch, before.cwnd_epoch);
	assert_int_equal(cu(f)->k, before.k);
	assert_int_equal(cu(f)->w_est, before.w_est);
	assert_int_equal(cu(f)->epoch_start, before.epoch_start);
	assert_int_equal(cu(f)->flags, before.flags & ~CUBIC_SAVED);
	/* The stage goes on: the next ACK does not start another. */
	ack(f, MSS);
	assert_int_equal(cu(f)->epoch_start, before.epoch_start);
	/* A spurious timeout: its K = 0 mark goes too. */
	timeout(f);
	assert_true(cu(f)->flags & CUBIC_RTO);
	undo(f);
	assert_false(cu(f)->flags & CUBIC_RTO);
	assert_true(cu(f)->flags & CUBIC_EPOCH);
	assert_int_equal(cu(f)->w_max, before.w_max);
	/* A second undo has nothing left to restore. */
	cu(f)->w_max = 1;
	undo(f);
	assert_int_equal(cu(f)->w_max, 1);
	free(f);
}

/* 4.10: below ssthresh CUBIC's window grows as NewReno's: by the bytes
 * acknowledged, at most 2 SMSS per ACK, and not while unused. */
static void
slow_start_as_newreno(void **state)
{
	static const uint32_t acks[] = {MSS, 2 * MSS, 5 * MSS, 1, 300, 3 * MSS, MSS, 40 * MSS};
	struct fx *n = fx_new(&tcp_cc_newreno, 50), *c = fx_new(&tcp_cc_cubic, 50);

	(void)state;
	assert_int_equal(n->c.cwnd, 10 * MSS); /* RFC 6928 */
	assert_int_equal(c->c.cwnd, 10 * MSS);
	assert_int_equal(c->c.ssthresh, UINT32_MAX);
	for (int r = 0; r < 4; r++)
		for (size_t i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
			uint32_t before = n->c.cwnd;

			ack(n, acks[i]);
			ack(c, acks[i]);
			assert_int_equal(c->c.cwnd, n->c.cwnd);
			assert_int_equal(n->c.cwnd - before, acks[i] < 2 * MSS ? acks[i] : 2 * MSS);
			/* Less than half the window in flight: no growth. */
			n->c.cc->cong_avoid(&n->c, MSS, n->c.cwnd / 2 - 1);
			c->c.cc->cong_avoid(&c->c, MSS, c->c.cwnd / 2 - 1);
			assert_int_equal(c->c.cwnd, n->c.cwnd);
		}
	/* After a timeout too (ssthresh differs: beta against half). */
	n->c.cwnd = c->c.cwnd = 40 * MSS;
	timeout(n);
	timeout(c);
	assert_int_equal(n->c.ssthresh, 20 * MSS);
	assert_int_equal(c->c.ssthresh, 28 * MSS);
	while (n->c.cwnd < n->c.ssthresh) {
		ack(n, MSS);
		ack(c, MSS);
		assert_int_equal(c->c.cwnd, n->c.cwnd);
	}
	free(n);
	free(c);
}

/* ---- NewReno on the same interface (RFC 5681) ---- */

/* 3.1 eq. 4: ssthresh = max(FlightSize / 2, 2 SMSS), whatever cwnd is. */
static void
newreno_ssthresh(void **state)
{
	struct fx *f = fx_new(&tcp_cc_newreno, 50);
	struct tcp_conn *c = &f->c;

	(void)state;
	c->cwnd = 40 * MSS;
	c->snd_una = 0xfffff000u; /* across the wrap */
	c->snd_max = c->snd_una + 20 * MSS;
	assert_int_equal(c->cc->ssthresh(c), 10 * MSS);
	c->snd_max = c->snd_una + 3 * MSS;
	assert_int_equal(c->cc->ssthresh(c), 2 * MSS);
	c->snd_max = c->snd_una + 4 * MSS + 2;
	assert_int_equal(c->cc->ssthresh(c), 2 * MSS + 1);
	assert_null(c->cc->rto);
	assert_null(c->cc->undo);
	free(f);
}

/* 3.1 eq. 3: in congestion avoidance about one SMSS per RTT. */
static void
newreno_one_mss_per_rtt(void **state)
{
	struct fx *f = fx_new(&tcp_cc_newreno, 50);

	(void)state;
	f->c.cwnd = 20 * MSS;
	f->c.ssthresh = 20 * MSS;
	for (int r = 1; r <= 30; r++) {
		uint32_t before = f->c.cwnd;

		round_trip(f, 50);
		/* Each of the window's ACKs adds MSS^2 / cwnd: a little less
		 * than one segment as cwnd grows within the round. */
		assert_true(f->c.cwnd - before <= MSS);
		assert_true(f->c.cwnd - before >= MSS * 95 / 100);
	}
	assert_near(f->c.cwnd, 50 * MSS, 0.02, "cwnd after 30 RTTs");
	free(f);
}

/* ---- choosing the algorithm (TCP_CONGESTION) ---- */

static void
cc_find(void **state)
{
	(void)state;
	assert_ptr_equal(tcp_cc_find("newreno"), &tcp_cc_newreno);
	assert_ptr_equal(tcp_cc_find("cubic"), &tcp_cc_cubic);
	assert_string_equal(tcp_cc_cubic.name, "cubic");
	assert_null(tcp_cc_find("reno"));
	assert_null(tcp_cc_find("CUBIC"));
	assert_null(tcp_cc_find("cubic "));
	assert_null(tcp_cc_find(""));
	assert_null(tcp_cc_cubic.recovered); /* the next stage starts on its own */
}

static void
cc_set(void **state)
{
	struct fx *f = fx_new(&tcp_cc_newreno, 50);
	struct tcp_conn *c = &f->c;
	uint32_t cwnd;

	(void)state;
	/* Unknown: -ENOENT (Linux's answer), nothing changes. */
	assert_int_equal(tcp_cc_set(c, "vegas"), -ENOENT);
	assert_int_equal(tcp_cc_set(c, ""), -ENOENT);
	assert_ptr_equal(c->cc, &tcp_cc_newreno);
	/* Established: the window stays, CUBIC's state starts empty, and its
	 * first stage starts flat at the window it was given. */
	c->cwnd = 33 * MSS;
	c->ssthresh = 30 * MSS;
	memset(c->cc_priv, 0xa5, sizeof(c->cc_priv));
	assert_int_equal(tcp_cc_set(c, "cubic"), 0);
	assert_ptr_equal(c->cc, &tcp_cc_cubic);
	assert_int_equal(c->cwnd, 33 * MSS);
	assert_int_equal(c->ssthresh, 30 * MSS);
	for (size_t i = 0; i < sizeof(c->cc_priv) / sizeof(c->cc_priv[0]); i++)
		assert_true(c->cc_priv[i] == 0);
	ack(f, MSS);
	assert_int_equal(cu(f)->w_max, 33 * MSS);
	assert_int_equal(cu(f)->k, 0);
	/* The same name again keeps the state. */
	assert_int_equal(tcp_cc_set(c, "cubic"), 0);
	assert_int_equal(cu(f)->w_max, 33 * MSS);
	/* And back, the window kept again. */
	cwnd = c->cwnd;
	assert_int_equal(tcp_cc_set(c, "newreno"), 0);
	assert_ptr_equal(c->cc, &tcp_cc_newreno);
	assert_int_equal(c->cwnd, cwnd);
	assert_int_equal(c->ssthresh, 30 * MSS);
	/* Not yet established: the algorithm's init (the initial window). */
	c->state = TCPS_SYN_SENT;
	c->cwnd = 1;
	c->ssthresh = 1;
	assert_int_equal(tcp_cc_set(c, "cubic"), 0);
	assert_int_equal(c->cwnd, tcp_initial_window(c));
	assert_int_equal(c->ssthresh, UINT32_MAX);
	free(f);
}

/* ---- through the stack ---- */

/* A listener's choice is its children's; each connection may differ. */
static void
listener_children_inherit(void **state)
{
	struct th *t = *state;
	const char *other = strcmp(t->st.cc->name, "cubic") == 0 ? "newreno" : "cubic";

	th_listen(t);
	assert_ptr_equal(t->lsn->cc, t->st.cc); /* the [tcp] cc key's */
	assert_int_equal(tcp_cc_set(t->lsn, "bbr"), -ENOENT);
	assert_int_equal(tcp_cc_set(t->lsn, other), 0);
	th_inject(t, TCP_SYN, t->irs, 0, (uint16_t)t->peer_wnd, NULL, 0, NULL, 0);
	t->iss = th_expect(t, TCP_SYN | TCP_ACK, t->rec[t->next_rec].o.seq, R(t, 1), 0)->o.seq;
	t->c = TAILQ_FIRST(&t->lsn->synq);
	assert_non_null(t->c);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
	assert_string_equal(t->c->cc->name, other);
	assert_int_equal(t->c->cwnd, tcp_initial_window(t->c));
	th_expect_none(t);
}

static uint32_t
seg(const struct th *t, unsigned k)
{
	return L(t, 1 + tcp_data_mss(t->c) * (k - 1));
}

static void
write_segs(struct th *t, unsigned n)
{
	static uint8_t buf[1460 * 20];
	uint32_t len = n * tcp_data_mss(t->c);

	assert_true(len <= sizeof(buf));
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, len), (ssize_t)len);
}

/* SACK blocks of segments [FROM, TO] on an ACK of segment ACKSEG, with the
 * peer's timestamp echoing TSECR. */
static void
sack_ack(struct th *t, unsigned ackseg, unsigned from, unsigned to, uint32_t tsecr)
{
	uint8_t opt[24] = {TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMPS, TCPOLEN_TIMESTAMPS};

	tcp_wr32(opt + 4, ++t->peer_ts);
	tcp_wr32(opt + 8, tsecr);
	opt[12] = TCPOPT_NOP;
	opt[13] = TCPOPT_NOP;
	opt[14] = TCPOPT_SACK;
	opt[15] = 10;
	tcp_wr32(opt + 16, seg(t, from));
	tcp_wr32(opt + 20, seg(t, to + 1));
	th_inject(t, TCP_ACK, R(t, 1), seg(t, ackseg), (uint16_t)t->peer_wnd, NULL, 0, opt, 24);
}

/* Real SACK recovery under CUBIC: ssthresh = 0.7 cwnd; then the ACK
 * echoes the original's timestamp (Eifel): undone, W_max back. */
static void
cubic_fast_retransmit_and_eifel_undo(void **state)
{
	struct th *t = *state;
	uint32_t mss, cwnd, ts_orig;
	const struct th_rec *r;

	th_established(t);
	assert_int_equal(tcp_cc_set(t->c, "cubic"), 0);
	mss = tcp_data_mss(t->c);
	cwnd = t->c->cwnd;
	assert_int_equal(cwnd, 10 * mss);
	write_segs(t, 10);
	r = th_expect(t, TCP_ACK, seg(t, 1), R(t, 1), mss);
	ts_orig = r->opts.tsval;
	th_flush(t);
	th_advance(t, 20);
	for (unsigned k = 2; k <= 4; k++)
		sack_ack(t, 1, 2, k, ts_orig);
	r = th_expect(t, TCP_ACK, seg(t, 1), R(t, 1), mss); /* fast retransmit */
	assert_true(seq_gt(r->opts.tsval, ts_orig));
	assert_true(t->c->flags & TF_RECOVERY);
	assert_int_equal(t->c->ssthresh, cwnd * 7 / 10);
	assert_int_equal(t->c->cwnd, cwnd * 7 / 10);
	assert_int_equal(((struct tcp_cubic *)t->c->cc_priv)->w_max, cwnd);
	th_flush(t);
	/* The ACK of everything echoes the original's timestamp. */
	sack_ack(t, 11, 11, 11, ts_orig);
	assert_int_equal(th_mib(t, PH_MIB_tcp_undo_eifel), 1);
	assert_int_equal(t->c->cwnd, cwnd);
	assert_int_equal(t->c->ssthresh, UINT32_MAX);
	assert_int_equal(((struct tcp_cubic *)t->c->cc_priv)->w_max, 0);
	assert_int_equal(((struct tcp_cubic *)t->c->cc_priv)->flags, 0);
	th_flush(t);
}

/* A real timeout under CUBIC: ssthresh = 0.7 cwnd, slow start from one
 * segment, and the stage after it starts flat (K = 0). */
static void
cubic_timeout_through_stack(void **state)
{
	struct th *t = *state;
	const struct tcp_cubic *s;
	uint32_t mss, cwnd;

	th_established(t);
	assert_int_equal(tcp_cc_set(t->c, "cubic"), 0);
	s = (const struct tcp_cubic *)t->c->cc_priv;
	mss = tcp_data_mss(t->c);
	cwnd = t->c->cwnd;
	write_segs(t, 10);
	th_flush(t);
	th_advance(t, t->c->rto);
	th_expect(t, TCP_ACK, seg(t, 1), R(t, 1), mss);
	th_expect_none(t);
	assert_int_equal(t->c->ssthresh, cwnd * 7 / 10);
	assert_int_equal(t->c->cwnd, mss);
	assert_true(s->flags & CUBIC_RTO);
	assert_int_equal(s->w_max, cwnd);
	th_flush(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(cubic_k),
	        cmocka_unit_test(cubic_curve),
	        cmocka_unit_test(cubic_decrease),
	        cmocka_unit_test(cubic_fast_convergence),
	        cmocka_unit_test(cubic_reno_friendly),
	        cmocka_unit_test(cubic_growth_per_rtt),
	        cmocka_unit_test(cubic_app_limited_freezes_curve),
	        cmocka_unit_test(cubic_rto_restarts_stage),
	        cmocka_unit_test(cubic_undo_restores),
	        cmocka_unit_test(slow_start_as_newreno),
	        cmocka_unit_test(newreno_ssthresh),
	        cmocka_unit_test(newreno_one_mss_per_rtt),
	        cmocka_unit_test(cc_find),
	        cmocka_unit_test(cc_set),
	        cmocka_unit_test_setup_teardown(listener_children_inherit, th_setup, th_teardown),
	        cmocka_unit_test_setup_teardown(cubic_fast_retransmit_and_eifel_undo,
	                                        th_setup_sack_ts, th_teardown),
	        cmocka_unit_test_setup_teardown(cubic_timeout_through_stack, th_setup_sack_ts,
	                                        th_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
