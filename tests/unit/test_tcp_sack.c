/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scripted TCP tests, part 3: loss recovery with SACK (RFC 2018, RFC 6675),
 * D-SACK (RFC 2883) sent and used, and the undoing of spurious
 * retransmissions (Eifel detection, RFC 3522; D-SACK, RFC 3708). The peer
 * is played by the harness: it reports holes with SACK blocks, and every
 * case checks which segments went again, and that the ones the peer holds
 * did not.
 *
 * Segment K (from 1) of a case covers [1 + S * (K - 1), 1 + S * K) of the
 * stack's sequence space, S being the MSS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_harness.h"
#include "wire/tcp.h"

/* Established, with NewReno's window arithmetic (the figures below are
 * RFC 6675's with ssthresh = FlightSize / 2), whatever the default is. */
static void
established(struct th *t)
{
	th_established(t);
	t->c->cc = &tcp_cc_newreno;
}

static uint32_t
mss(const struct th *t)
{
	return tcp_data_mss(t->c);
}

/* The stack's sequence number where segment K starts. */
static uint32_t
seg(const struct th *t, unsigned k)
{
	return L(t, 1 + mss(t) * (k - 1));
}

/* An ACK of ACK from the peer with N SACK blocks given as segment ranges
 * [from, to] (inclusive, segment numbers), no timestamps. */
static void
sack_ack(struct th *t, uint32_t ack, unsigned n, const unsigned (*blk)[2])
{
	uint8_t opt[40] = {TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, (uint8_t)(2 + 8 * n)};

	for (unsigned i = 0; i < n; i++) {
		tcp_wr32(opt + 4 + 8 * i, seg(t, blk[i][0]));
		tcp_wr32(opt + 8 + 8 * i, seg(t, blk[i][1] + 1));
	}
	th_inject(t, TCP_ACK, R(t, 1), ack, (uint16_t)t->peer_wnd, NULL, 0, opt,
	          (uint8_t)(4 + 8 * n));
}

/* One SACK block of segments FROM..TO with the cumulative ACK at segment
 * ACKSEG. */
static void
sack1(struct th *t, unsigned ackseg, unsigned from, unsigned to)
{
	const unsigned b[1][2] = {{from, to}};

	sack_ack(t, seg(t, ackseg), 1, b);
}

/* Write N full segments with TCP_NODELAY. */
static void
write_segs(struct th *t, unsigned n)
{
	static uint8_t buf[1460 * 40];

	assert_true(n * mss(t) <= sizeof(buf));
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, n * mss(t)), (ssize_t)(n * mss(t)));
}

/* Segment K, whatever PSH says. */
static void
expect_data(struct th *t, unsigned k)
{
	const struct th_rec *r;

	assert_true(th_pending(t) > 0);
	r = &t->rec[t->next_rec];
	assert_int_equal(r->o.seq, seg(t, k));
	assert_int_equal(r->o.len, mss(t));
	assert_true(r->o.flags & TCP_ACK);
	t->next_rec++;
}

static void
drain_and_close(struct th *t, unsigned last)
{
	th_send(t, TCP_ACK, R(t, 1), seg(t, last + 1), NULL, 0);
	th_flush(t);
}

/* ---- cases ---- */

/* One segment lost out of twelve: limited transmit on the first two
 * duplicates, the fast retransmit on the third, then new data only as pipe
 * falls below cwnd = ssthresh = FlightSize / 2 (RFC 6675 5 (4), (C)). */
static void
single_loss(void **state)
{
	struct th *t = *state;

	established(t);
	write_segs(t, 20);
	for (unsigned k = 1; k <= 10; k++)
		expect_data(t, k);
	th_expect_none(t);
	sack1(t, 1, 2, 2);
	expect_data(t, 11); /* RFC 3042 */
	sack1(t, 1, 2, 3);
	expect_data(t, 12);
	th_expect_none(t);
	sack1(t, 1, 2, 4);
	expect_data(t, 1); /* fast retransmit */
	th_expect_none(t);
	assert_true(t->c->flags & TF_RECOVERY);
	assert_int_equal(t->c->ssthresh, 6 * mss(t));
	assert_int_equal(t->c->cwnd, 6 * mss(t));
	/* pipe: segment 1 resent, 5..12 out: 9 > 6. */
	assert_int_equal(tcp_rec_pipe(t->c), 9 * mss(t));
	for (unsigned k = 5; k <= 7; k++) {
		sack1(t, 1, 2, k);
		th_expect_none(t);
	}
	sack1(t, 1, 2, 8); /* pipe 5: room for one */
	expect_data(t, 13);
	th_expect_none(t);
	sack1(t, 1, 2, 9);
	expect_data(t, 14);
	th_expect_none(t);
	/* The retransmission arrived: a partial ACK; pipe 10..14 is 5. */
	th_send(t, TCP_ACK, R(t, 1), seg(t, 10), NULL, 0);
	expect_data(t, 15);
	th_expect_none(t);
	assert_true(t->c->flags & TF_RECOVERY);
	/* The full ACK ends recovery at cwnd = ssthresh. */
	th_send(t, TCP_ACK, R(t, 1), seg(t, 16), NULL, 0);
	assert_false(t->c->flags & TF_RECOVERY);
	assert_int_equal(t->c->cwnd, 6 * mss(t));
	assert_int_equal(th_mib(t, PH_MIB_tcpRetransSegs), 1);
	assert_int_equal(th_mib(t, PH_MIB_tcp_sack_recoveries), 1);
	assert_int_equal(th_mib(t, PH_MIB_tcp_rto_timeouts), 0);
	th_flush(t);
	drain_and_close(t, 20);
}

/* Segments 1 and 4 lost: 4 is resent as soon as the scoreboard calls it
 * lost (three segments SACKed above it), without waiting for the partial
 * ACK that NewReno would need; nothing SACKed goes again. */
static void
two_losses(void **state)
{
	struct th *t = *state;
	const unsigned b2[2][2] = {{5, 5}, {2, 3}};
	const unsigned b3[2][2] = {{5, 6}, {2, 3}};
	const unsigned b4[2][2] = {{5, 7}, {2, 3}};
	const unsigned b5[2][2] = {{5, 8}, {2, 3}};

	established(t);
	write_segs(t, 10);
	for (unsigned k = 1; k <= 10; k++)
		expect_data(t, k);
	sack1(t, 1, 2, 2);
	sack1(t, 1, 2, 3);
	th_expect_none(t); /* nothing new to send: limited transmit has none */
	sack_ack(t, seg(t, 1), 2, b2);
	expect_data(t, 1);
	th_expect_none(t);
	/* pipe: 1 resent, 4 (not yet lost), 6..10: 7 against cwnd 5. */
	assert_int_equal(tcp_rec_pipe(t->c), 7 * mss(t));
	sack_ack(t, seg(t, 1), 2, b3);
	th_expect_none(t);
	sack_ack(t, seg(t, 1), 2, b4); /* three above 4: lost, and room */
	expect_data(t, 4);
	th_expect_none(t);
	sack_ack(t, seg(t, 1), 2, b5);
	th_expect_none(t); /* 9, 10 are above every SACK: not resent (rule 3) */
	th_send(t, TCP_ACK, R(t, 1), seg(t, 4), NULL, 0);
	th_expect_none(t);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0);
	assert_false(t->c->flags & TF_RECOVERY);
	assert_int_equal(th_mib(t, PH_MIB_tcpRetransSegs), 2);
	th_flush(t);
}

/* The retransmission is lost too: the RTO resends it, and only it, since
 * the peer SACKed all the rest (RFC 6675 5.1). */
static void
lost_retransmission(void **state)
{
	struct th *t = *state;

	established(t);
	write_segs(t, 10);
	th_flush(t);
	for (unsigned k = 2; k <= 4; k++)
		sack1(t, 1, 2, k);
	expect_data(t, 1);
	th_expect_none(t);
	for (unsigned k = 5; k <= 10; k++)
		sack1(t, 1, 2, k);
	th_expect_none(t);
	th_advance(t, t->c->rto);
	expect_data(t, 1);
	th_expect_none(t);
	assert_int_equal(th_mib(t, PH_MIB_tcp_rto_timeouts), 1);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0);
	assert_false(t->c->flags & TF_RECOVERY);
	assert_int_equal(th_mib(t, PH_MIB_tcpRetransSegs), 2);
	th_expect_none(t);
}

/* Reordering without loss: two duplicates, then the ACK of all. No
 * retransmission, no reduction. */
static void
reordering_no_loss(void **state)
{
	struct th *t = *state;
	uint32_t cwnd;

	established(t);
	write_segs(t, 10);
	th_flush(t);
	cwnd = t->c->cwnd;
	sack1(t, 1, 2, 2);
	sack1(t, 1, 2, 3);
	th_expect_none(t);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0);
	assert_int_equal(th_mib(t, PH_MIB_tcpRetransSegs), 0);
	assert_false(t->c->flags & TF_RECOVERY);
	assert_true(t->c->cwnd >= cwnd);
}

/* Three duplicates from deeper reordering: a needless fast retransmit. The
 * peer's D-SACK of segment 1 shows it, and the reduction is undone when
 * recovery ends (RFC 3708). */
static void
spurious_fast_retransmit_undone_by_dsack(void **state)
{
	struct th *t = *state;
	const unsigned d[1][2] = {{1, 1}};
	uint32_t cwnd;

	established(t);
	write_segs(t, 10);
	th_flush(t);
	cwnd = t->c->cwnd;
	for (unsigned k = 2; k <= 4; k++)
		sack1(t, 1, 2, k);
	expect_data(t, 1);
	assert_true(t->c->cwnd < cwnd);
	/* The original arrived: the ACK of all, then the duplicate's D-SACK. */
	th_send(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0);
	sack_ack(t, seg(t, 11), 1, d);
	assert_int_equal(th_mib(t, PH_MIB_tcp_dsack_received), 1);
	assert_int_equal(th_mib(t, PH_MIB_tcp_undo_dsack), 1);
	assert_int_equal(t->c->cwnd, cwnd);
	assert_int_equal(t->c->ssthresh, UINT32_MAX);
	th_flush(t);
}

/* A needless RTO (a delay spike): the first ACK after it echoes the
 * timestamp of the original transmission, so the retransmission was not
 * needed (Eifel detection, RFC 3522): cwnd and ssthresh come back. */
static void
spurious_rto_undone_by_eifel(void **state)
{
	struct th *t = *state;
	uint32_t cwnd, ts_orig;
	const struct th_rec *r;

	established(t);
	write_segs(t, 10);
	r = th_expect(t, TCP_ACK, seg(t, 1), R(t, 1), mss(t));
	ts_orig = r->opts.tsval;
	th_flush(t);
	cwnd = t->c->cwnd;
	th_advance(t, t->c->rto);
	r = th_expect(t, TCP_ACK, seg(t, 1), R(t, 1), mss(t));
	assert_true(seq_gt(r->opts.tsval, ts_orig));
	assert_int_equal(t->c->cwnd, mss(t));
	th_send_ts(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0, t->peer_ts + 1, ts_orig);
	assert_int_equal(th_mib(t, PH_MIB_tcp_undo_eifel), 1);
	assert_int_equal(t->c->cwnd, cwnd);
	assert_false(t->c->flags & TF_RECOVERY);
	th_flush(t);
}

/* A real loss with timestamps: the ACK of the retransmission echoes its
 * timestamp, and nothing is undone. */
static void
real_loss_not_undone(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;
	uint32_t ts_rx;

	established(t);
	write_segs(t, 10);
	th_flush(t);
	th_advance(t, t->c->rto);
	r = th_expect(t, TCP_ACK, seg(t, 1), R(t, 1), mss(t));
	ts_rx = r->opts.tsval;
	th_send_ts(t, TCP_ACK, R(t, 1), seg(t, 2), NULL, 0, t->peer_ts + 1, ts_rx);
	assert_int_equal(th_mib(t, PH_MIB_tcp_undo_eifel), 0);
	assert_int_equal(t->c->cwnd, 2 * mss(t)); /* slow start from one segment */
	th_flush(t);
	th_send_ts(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0, t->peer_ts + 2, ts_rx);
	assert_false(t->c->flags & TF_RECOVERY);
	th_flush(t);
}

/* As receiver: a segment we hold already comes again; the ACK carries it as
 * a D-SACK, first (RFC 2883 4), once. Also for data held out of order. */
static void
dsack_sent(void **state)
{
	struct th *t = *state;
	static const uint8_t data[300];
	const struct th_rec *r;

	established(t);
	th_send(t, TCP_ACK | TCP_PSH, R(t, 1), L(t, 1), data, 100);
	th_advance(t, 200); /* the delayed ACK */
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 101), 0);
	assert_int_equal(r->opts.n_sack, 0);
	th_send(t, TCP_ACK | TCP_PSH, R(t, 1), L(t, 1), data, 100);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 101), 0);
	assert_int_equal(r->opts.n_sack, 1);
	assert_int_equal(r->opts.sack[0].l, R(t, 1));
	assert_int_equal(r->opts.sack[0].r, R(t, 101));
	/* Out of order, then the same again: D-SACK, then the range. */
	th_send(t, TCP_ACK | TCP_PSH, R(t, 201), L(t, 1), data, 100);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 101), 0);
	assert_int_equal(r->opts.n_sack, 1);
	th_send(t, TCP_ACK | TCP_PSH, R(t, 201), L(t, 1), data, 100);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 101), 0);
	assert_int_equal(r->opts.n_sack, 2);
	assert_int_equal(r->opts.sack[0].l, R(t, 201));
	assert_int_equal(r->opts.sack[0].r, R(t, 301));
	assert_int_equal(r->opts.sack[1].l, R(t, 201));
	assert_int_equal(r->opts.sack[1].r, R(t, 301));
	assert_int_equal(th_mib(t, PH_MIB_tcp_dsack_sent), 2);
	/* Fill the hole: one block of 200 in order, no SACK left. */
	th_send(t, TCP_ACK | TCP_PSH, R(t, 101), L(t, 1), data, 100);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 301), 0);
	assert_int_equal(r->opts.n_sack, 0);
	th_expect_none(t);
	assert_int_equal(th_read(t, (void *)(uintptr_t)data, 0), 0);
	th_flush(t);
}

/* The scoreboard: blocks merge, blocks past SND.MAX are ignored, at most
 * TCP_SACK_MAX ranges are kept (the lowest), and a second RTO without
 * progress forgets them all (the receiver may have reneged, RFC 2018 8). */
static void
scoreboard_bounds_and_reneging(void **state)
{
	struct th *t = *state;
	const unsigned beyond[1][2] = {{30, 31}};
	const unsigned merge[1][2] = {{3, 6}};

	established(t);
	t->peer_wnd = 65535;
	write_segs(t, 40);
	th_flush(t);
	sack_ack(t, seg(t, 1), 1, beyond); /* never sent yet: ignored */
	assert_int_equal(t->c->n_sacked, 0);
	sack1(t, 1, 3, 3);
	sack1(t, 1, 5, 5);
	sack_ack(t, seg(t, 1), 1, merge);
	assert_int_equal(t->c->n_sacked, 1);
	assert_int_equal(t->c->sacked[0].l, seg(t, 3));
	assert_int_equal(t->c->sacked[0].r, seg(t, 7));
	th_flush(t);
	th_advance(t, t->c->rto);
	th_flush(t);
	assert_int_equal(t->c->n_sacked, 1);
	th_advance(t, 2 * t->c->rto); /* backed off once */
	assert_int_equal(t->c->n_sacked, 0);
	assert_int_equal(th_mib(t, PH_MIB_tcp_sack_reneging), 1);
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0);
	th_flush(t);
	/* Every other segment of 11..: more ranges than the table holds. */
	for (unsigned k = 12; k < 12 + 2 * (TCP_SACK_MAX + 2) && k <= 40; k += 2)
		sack1(t, 11, k, k);
	assert_true(t->c->n_sacked <= TCP_SACK_MAX);
	assert_int_equal(t->c->sacked[0].l, seg(t, 12));
	th_flush(t);
}

/* A D-SACK for data below the episode is no evidence: nothing undone. */
static void
dsack_outside_episode_ignored(void **state)
{
	struct th *t = *state;
	const unsigned d[1][2] = {{1, 1}};

	established(t);
	write_segs(t, 10);
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0);
	sack_ack(t, seg(t, 11), 1, d);
	assert_int_equal(th_mib(t, PH_MIB_tcp_dsack_received), 1);
	assert_int_equal(th_mib(t, PH_MIB_tcp_undo_dsack), 0);
	th_flush(t);
}

/* Without SACK the old path holds: NewReno recovery after three
 * duplicates (test_tcp.c has its cases); with SACK a lone hole needs only
 * the scoreboard: three SACKed segments above the head make it lost even
 * if duplicates were fewer (a window update hid one). */
static void
islost_enters_recovery(void **state)
{
	struct th *t = *state;

	established(t);
	write_segs(t, 10);
	th_flush(t);
	sack1(t, 1, 2, 4); /* one ACK SACKs three segments: IsLost(SND.UNA) */
	expect_data(t, 1);
	assert_true(t->c->flags & TF_RECOVERY);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0);
	th_flush(t);
}

/* RFC 8985: the last five segments are lost. The tail loss probe (the
 * last segment again, nothing new to send) after 2 SRTT brings a SACK; the
 * holes below it are lost once the reordering window passes, and recovery
 * starts without waiting for the RTO. */
static void
tail_loss_probe_then_reordering_window(void **state)
{
	struct th *t = *state;

	t->st.cfg.rack_tlp = true;
	established(t);
	write_segs(t, 10);
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 6), NULL, 0);
	th_expect_none(t);
	assert_int_equal(t->c->rexmt_mode, TCP_REXMT_TLP);
	th_advance(t, t->c->rto - 1);
	expect_data(t, 10); /* the probe */
	th_expect_none(t);
	assert_int_equal(th_mib(t, PH_MIB_tcp_tlp_probes), 1);
	sack1(t, 6, 10, 10);
	th_expect_none(t); /* one SACKed segment: not DupThresh */
	assert_int_equal(t->c->rexmt_mode, TCP_REXMT_REO);
	th_advance(t, 2);
	expect_data(t, 6);
	assert_int_equal(th_mib(t, PH_MIB_tcp_reorder_timeouts), 1);
	assert_true(t->c->flags & TF_RECOVERY);
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0);
	assert_false(t->c->flags & TF_RECOVERY);
	assert_int_equal(th_mib(t, PH_MIB_tcp_rto_timeouts), 0);
	th_flush(t);
}

/* A probe with new data when the windows allow it. */
static void
tail_loss_probe_sends_new_data(void **state)
{
	struct th *t = *state;

	t->st.cfg.rack_tlp = true;
	established(t);
	write_segs(t, 12);
	th_flush(t); /* 10 out, 2 held by cwnd */
	th_advance(t, t->c->rto - 1);
	expect_data(t, 11);
	th_expect_none(t);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 12), NULL, 0);
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 13), NULL, 0);
	assert_int_equal(th_mib(t, PH_MIB_tcp_rto_timeouts), 0);
	th_flush(t);
}

/* The fast retransmission of segment 1 is lost too. Once the peer SACKs
 * data sent DupThresh segments after it, it goes again, without the RTO. */
static void
lost_retransmission_detected(void **state)
{
	struct th *t = *state;
	unsigned again = 0;

	t->st.cfg.rack_tlp = true;
	established(t);
	write_segs(t, 30);
	th_flush(t);
	for (unsigned k = 2; k <= 4; k++)
		sack1(t, 1, 2, k);
	expect_data(t, 11); /* limited transmit */
	expect_data(t, 12);
	expect_data(t, 1);
	th_flush(t);
	for (unsigned k = 5; k <= 20; k++) {
		sack1(t, 1, 2, k);
		while (th_pending(t) > 0) {
			if (t->rec[t->next_rec].o.seq == seg(t, 1))
				again++;
			t->next_rec++;
		}
	}
	assert_int_equal(again, 1);
	assert_int_equal(th_mib(t, PH_MIB_tcp_lost_retransmits), 1);
	assert_int_equal(th_mib(t, PH_MIB_tcp_rto_timeouts), 0);
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 31), NULL, 0);
	th_flush(t);
}

/* A real loss, and the network duplicates a segment that was never resent:
 * the receiver D-SACKs the duplicate. That is no evidence about our
 * retransmission (RFC 3708 2 counts only retransmitted data), so the
 * reduction stands. */
static void
dsack_of_network_duplicate_not_undone(void **state)
{
	struct th *t = *state;
	const unsigned dup[2][2] = {{5, 5}, {2, 10}};
	uint32_t cwnd;

	established(t);
	write_segs(t, 10);
	th_flush(t);
	cwnd = t->c->cwnd;
	for (unsigned k = 2; k <= 4; k++)
		sack1(t, 1, 2, k);
	expect_data(t, 1);
	th_flush(t);
	sack_ack(t, seg(t, 1), 2, dup); /* D-SACK of 5, inside the SACK of 2..10 */
	assert_int_equal(th_mib(t, PH_MIB_tcp_dsack_received), 1);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0);
	assert_false(t->c->flags & TF_RECOVERY);
	assert_int_equal(th_mib(t, PH_MIB_tcp_undo_dsack), 0);
	assert_true(t->c->cwnd < cwnd);
	assert_true(t->c->ssthresh != UINT32_MAX);
	th_flush(t);
}

/* The hole at SND.UNA is smaller than a segment (the peer holds the rest):
 * the fast retransmit resends the hole only. */
static void
fast_retransmit_small_hole(void **state)
{
	struct th *t = *state;
	uint8_t opt[12] = {TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 10};

	established(t);
	write_segs(t, 10);
	th_flush(t);
	tcp_wr32(opt + 4, seg(t, 1) + 100);
	tcp_wr32(opt + 8, seg(t, 11));
	for (unsigned k = 0; k < 3; k++)
		th_inject(t, TCP_ACK, R(t, 1), seg(t, 1), (uint16_t)t->peer_wnd, NULL, 0, opt,
		          sizeof(opt));
	assert_true(t->c->flags & TF_RECOVERY);
	th_expect(t, TCP_ACK, seg(t, 1), R(t, 1), 100);
	th_expect_none(t);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0);
	th_flush(t);
}

/* A tail loss probe resends data that was already out: the user timeout
 * still counts from when that data was last acknowledged. */
static void
loss_probe_keeps_user_timeout_start(void **state)
{
	struct th *t = *state;
	uint64_t sent;

	t->st.cfg.rack_tlp = true;
	established(t);
	sent = t->st.now;
	write_segs(t, 2);
	th_flush(t);
	th_advance(t, 300); /* the probe, then the RTO */
	assert_true(th_mib(t, PH_MIB_tcp_tlp_probes) >= 1);
	assert_int_equal(t->c->rexmt_since, sent);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 3), NULL, 0);
	th_flush(t);
}

static int
setup_ts_no_sack(void **state)
{
	struct th *t = malloc(sizeof(*t));
	struct th_opts o = {.ts = true, .rmem = 262144, .wmem = 262144};

	if (t == NULL)
		return -1;
	th_init(t, &o);
	t->peer_wnd = 65535;
	*state = t;
	return 0;
}

/* A peer without SACK (NewReno): a needless RTO's go-back-N resend carries
 * a newer timestamp, so the ACK echoing the original's undoes it (Eifel). */
static void
newreno_spurious_rto_undone_by_eifel(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;
	uint32_t cwnd, ts_orig;

	established(t);
	assert_false(t->c->flags & TF_SACK_OK);
	write_segs(t, 10);
	r = th_expect(t, TCP_ACK, seg(t, 1), R(t, 1), mss(t));
	ts_orig = r->opts.tsval;
	th_flush(t);
	cwnd = t->c->cwnd;
	th_advance(t, t->c->rto);
	r = th_expect(t, TCP_ACK, seg(t, 1), R(t, 1), mss(t));
	assert_true(seq_gt(r->opts.tsval, ts_orig));
	th_flush(t);
	th_send_ts(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0, t->peer_ts + 1, ts_orig);
	assert_int_equal(th_mib(t, PH_MIB_tcp_undo_eifel), 1);
	assert_int_equal(t->c->cwnd, cwnd);
	assert_int_equal(t->c->snd_nxt, t->c->snd_max);
	th_flush(t);
}

/* Ten segments out, the ACK of eight, then the loss probe: segment 10
 * again (nothing new to send). Returns cwnd before the probe. */
static uint32_t
probe_last_segment(struct th *t)
{
	uint32_t cwnd;

	t->st.cfg.rack_tlp = true;
	established(t);
	write_segs(t, 10);
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 9), NULL, 0);
	cwnd = t->c->cwnd;
	th_advance(t, t->c->rto - 1);
	expect_data(t, 10); /* the probe */
	th_expect_none(t);
	return cwnd;
}

/* New data after a probe episode, and its ACK. */
static void
send_one_more(struct th *t)
{
	write_segs(t, 1);
	expect_data(t, 11);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 12), NULL, 0);
}

/* The tail is lost and the probe (the last segment again) repairs it: the
 * ACK of the data after it, with no D-SACK of the probe on the way, shows
 * the loss, and cwnd is cut as for fast recovery (RFC 8985 7.4.2). */
static void
loss_repaired_by_probe_cuts_cwnd(void **state)
{
	struct th *t = *state;
	uint32_t cwnd = probe_last_segment(t); /* 9 was late, 10 lost */

	th_send(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0);
	assert_int_equal(t->c->cwnd, cwnd); /* not yet: a D-SACK may follow */
	send_one_more(t);
	assert_int_equal(th_mib(t, PH_MIB_tcp_tlp_recoveries), 1);
	/* NewReno: max(FlightSize / 2, 2 SMSS), one segment being out. */
	assert_int_equal(t->c->ssthresh, 2 * mss(t));
	assert_true(t->c->cwnd < cwnd);
	assert_int_equal(th_mib(t, PH_MIB_tcp_rto_timeouts), 0);
	th_flush(t);
}

/* The original was only late: the receiver D-SACKs the probe, and nothing
 * is cut. */
static void
needless_probe_dsacked_no_cut(void **state)
{
	struct th *t = *state;
	const unsigned d[1][2] = {{10, 10}};
	uint32_t cwnd;

	probe_last_segment(t);
	th_send(t, TCP_ACK, R(t, 1), seg(t, 11), NULL, 0); /* the originals */
	sack_ack(t, seg(t, 11), 1, d);                     /* the probe, a duplicate */
	cwnd = t->c->cwnd;
	send_one_more(t);
	assert_int_equal(th_mib(t, PH_MIB_tcp_tlp_recoveries), 0);
	assert_true(t->c->cwnd >= cwnd);
	assert_int_equal(t->c->ssthresh, UINT32_MAX);
	th_flush(t);
}

#define T(f)  cmocka_unit_test_setup_teardown(f, th_setup_sack, th_teardown)
#define TS(f) cmocka_unit_test_setup_teardown(f, th_setup_sack_ts, th_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        T(single_loss),
	        T(two_losses),
	        T(lost_retransmission),
	        T(reordering_no_loss),
	        T(spurious_fast_retransmit_undone_by_dsack),
	        TS(spurious_rto_undone_by_eifel),
	        TS(real_loss_not_undone),
	        T(dsack_sent),
	        T(scoreboard_bounds_and_reneging),
	        T(dsack_outside_episode_ignored),
	        T(islost_enters_recovery),
	        T(tail_loss_probe_then_reordering_window),
	        T(tail_loss_probe_sends_new_data),
	        T(lost_retransmission_detected),
	        T(dsack_of_network_duplicate_not_undone),
	        T(fast_retransmit_small_hole),
	        T(loss_probe_keeps_user_timeout_start),
	        T(loss_repaired_by_probe_cuts_cwnd),
	        T(needless_probe_dsacked_no_cut),
	        cmocka_unit_test_setup_teardown(newreno_spurious_rto_undone_by_eifel,
	                                        setup_ts_no_sack, th_teardown),
	};

	return cmocka_run_group_tests_name("tcp_sack", tests, NULL, NULL);
}
