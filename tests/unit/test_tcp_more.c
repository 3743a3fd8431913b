/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scripted TCP tests, part 2 (part 1 is test_tcp.c): what part 1 leaves out.
 * Active-open variants of every close, the peer's FIN and our FIN sent again
 * in each closing state, SYN-ACKs that carry more than a SYN, zero-window
 * probes both ways, window scaling at shifts 0 and 14, receiver and sender
 * SWS avoidance, delayed ACKs, Nagle and cork with a FIN, RTO arithmetic
 * (RFC 6298 with timestamps and with Karn's timed segment), SACK blocks and
 * out-of-order merges, TIME-WAIT and keep-alive timers, malformed options,
 * sequence wraparound in the send direction, tcp_poll() and tcp_get_info().
 *
 * A case marked "Regression" caught a defect review found in the first
 * version of the stack (the comment names the RFC section); each failed
 * then and passes now. Every case ends in th_teardown(): no connection and
 * no buffer left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/tcp.h>

#include <cmocka.h>

#include "tcp_harness.h"

/* ---- helpers ---- */

/* The bits of tcp_poll() that applications act on. */
#define POLL_MASK (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR)

static uint32_t
poll_bits(const struct th *t)
{
	return tcp_poll(t->c) & POLL_MASK;
}

/* Bytes whose value tells their offset in the stream. */
static void
pattern(uint8_t *b, uint32_t off, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		b[i] = (uint8_t)('a' + (off + i) % 26);
}

/* Queue LEN bytes without sending them yet (MSG_MORE). */
static ssize_t
write_more(struct th *t, const void *buf, size_t len)
{
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};

	return tcp_send(t->c, &iov, 1, true);
}

/* The timestamp of the last segment the stack sent. */
static uint32_t
last_tsval(const struct th *t)
{
	assert_true(t->n_rec > 0);
	return t->rec[t->n_rec - 1].opts.tsval;
}

/* SYN options of the peer: MSS 1460, SACK-permitted, timestamps (TSVAL,
 * TSECR) and, when WS >= 0, window scale WS. Returns their length. */
static uint8_t
peer_syn_opts(uint8_t *o, uint32_t tsval, uint32_t tsecr, int ws)
{
	uint8_t n = 0;

	o[n++] = TCPOPT_MSS;
	o[n++] = TCPOLEN_MSS;
	o[n++] = 0x05;
	o[n++] = 0xb4;
	o[n++] = TCPOPT_SACK_OK;
	o[n++] = TCPOLEN_SACK_OK;
	o[n++] = TCPOPT_TIMESTAMPS;
	o[n++] = TCPOLEN_TIMESTAMPS;
	tcp_wr32(o + n, tsval);
	tcp_wr32(o + n + 4, tsecr);
	n += 8;
	if (ws >= 0) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_WSCALE;
		o[n++] = TCPOLEN_WSCALE;
		o[n++] = (uint8_t)ws;
	}
	return n;
}

/* A passive open whose SYN carries OPT; leaves t->c accepted, ESTABLISHED. */
static void
passive_open_with(struct th *t, const uint8_t *opt, uint8_t optlen, uint16_t wnd)
{
	th_listen(t);
	th_inject(t, TCP_SYN, t->irs, 0, wnd, NULL, 0, opt, optlen);
	assert_int_equal(th_pending(t), 1);
	t->iss = t->rec[t->next_rec].o.seq;
	th_expect(t, TCP_SYN | TCP_ACK, L(t, 0), R(t, 1), 0);
	t->c = TAILQ_FIRST(&t->lsn->synq);
	assert_non_null(t->c);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
	th_expect_none(t);
}

/* Fill the 16 KiB receive buffer from the peer (1 KiB segments). */
static void
fill_receive_buffer(struct th *t)
{
	static uint8_t seg[1024];

	for (uint32_t off = 0; off < 16384; off += sizeof(seg)) {
		pattern(seg, off, sizeof(seg));
		th_send(t, TCP_ACK, R(t, 1 + off), L(t, 1), seg, sizeof(seg));
	}
	th_advance(t, t->cfg.delack_ms);
	th_flush(t);
	assert_int_equal(t->c->rbuf.len, 16384);
}

static int
setup_with(void **state, const struct th_opts *o)
{
	struct th *t = malloc(sizeof(*t));

	if (t == NULL)
		return -1;
	th_init(t, o);
	*state = t;
	return 0;
}

static int
setup_sack(void **state)
{
	struct th_opts o = {.sack = true};

	return setup_with(state, &o);
}

static int
setup_ws_64k_minus_1(void **state)
{
	struct th_opts o = {.ws = true, .rmem = 65535};

	return setup_with(state, &o);
}

static int
setup_ws_64k(void **state)
{
	struct th_opts o = {.ws = true, .rmem = 65536};

	return setup_with(state, &o);
}

static int
setup_ws_512m(void **state)
{
	/* 512 MiB of receive ring (malloc'd, never touched but for a byte):
	 * the smallest buffer that needs the largest shift, 14. */
	struct th_opts o = {.ws = true, .ts = true, .rmem = 1u << 29};

	return setup_with(state, &o);
}

/* ==== defects (each fails until the stack is mended) ==== */

/* Regression: RFC 7323 2.2/2.3: window scaling is never enabled on an active open.
 * apply_syn_options() (tcp_input.c) keeps TF_WS_OK only when the flag was set
 * before or the state is LISTEN/SYN-RECEIVED, but an active opener is in
 * SYN-SENT and never set the flag: it offered shift 3 in its SYN, the peer
 * offered 7, and the stack then sends unscaled windows (the peer multiplies
 * them by 8 and overruns the ring) and reads the peer's scaled windows as
 * bytes (128x too small). Once that is mended, the SYN-ACK's window must not
 * be scaled either (RFC 7323 2.2): syn_sent_input() shifts it by snd_ws. */
static void
active_open_window_scale(void **state)
{
	struct th *t = *state;
	const struct th_rec *ack;

	th_established_active(t);
	ack = &t->rec[t->next_rec - 1];
	assert_true(t->c->flags & TF_WS_OK);
	assert_int_equal(t->c->snd_ws, 7);
	assert_int_equal(t->c->rcv_ws, 3);
	assert_int_equal(ack->o.wnd, 262144 >> 3);
	assert_int_equal(t->c->snd_wnd, 65535);
	t->peer_wnd = 100;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->snd_wnd, 100 << 7);
}

/* Regression: RFC 9293 3.10.7.4 (a segment wholly before RCV.NXT is not acceptable:
 * send an ACK) and RFC 5681 4.2. trim_to_window() accepts, as an empty
 * segment, a duplicate whose last byte is RCV.NXT - 1, and nothing answers
 * it: when our ACK was lost, the peer's retransmissions are never ACKed. */
static void
dup_segment_ending_at_rcv_nxt_acked(void **state)
{
	struct th *t = *state;

	th_established(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "0123456789", 10);
	th_advance(t, t->cfg.delack_ms);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 11), 0);
	/* That ACK was lost: the peer sends the segment again. */
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "0123456789", 10);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 11), 0);
	assert_int_equal(t->c->rbuf.len, 10);
}

/* Regression: same cause (trim_to_window): a retransmitted FIN in CLOSE-WAIT is
 * taken as an empty acceptable segment with its FIN cleared, so conn_input()
 * never ACKs it. The peer, stuck in FIN-WAIT-1, retransmits until it gives
 * up (RFC 9293 3.10.7.4: "CLOSE-WAIT STATE ... Remain in the CLOSE-WAIT
 * state" after acknowledging). */
static void
close_wait_fin_retransmit_acked(void **state)
{
	struct th *t = *state;

	th_close_wait(t);
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_CLOSE_WAIT);
}

/* Regression: same cause, in LAST-ACK: the peer's FIN again earns no ACK at once. */
static void
last_ack_fin_retransmit_acked(void **state)
{
	struct th *t = *state;

	th_last_ack(t);
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_LAST_ACK);
}

/* Regression: same cause, in CLOSING. */
static void
closing_fin_retransmit_acked(void **state)
{
	struct th *t = *state;

	th_closing(t);
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_CLOSING);
}

/* Regression: same cause: our ACK of the SYN-ACK was lost and the peer (still in
 * SYN-RECEIVED) sends its SYN-ACK again. RFC 5961 4.2 (a SYN in a
 * synchronized state, whatever its sequence number, draws an ACK) and RFC
 * 9293 3.10.7.4 both want an ACK; none goes, so a server that speaks first
 * (SMTP, FTP, MySQL) never completes its handshake and resets. */
static void
active_synack_retransmit_acked(void **state)
{
	struct th *t = *state;

	th_established_active(t);
	th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 1), (uint16_t)t->peer_wnd, NULL, 0, NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
}

/* Regression: RFC 9293 3.10.7.4 (FIN-WAIT-1: "if the FIN segment is now
 * acknowledged, then enter FIN-WAIT-2"). timer_rexmt() cleared TF_FIN_SENT (since removed)
 * when it goes back to SND.UNA; fin_acked() wants that flag, so when the
 * peer's cumulative ACK covers the FIN before we resend it (only the first
 * segment was lost), the FIN is never seen acknowledged and the connection
 * stays in FIN-WAIT-1 forever, no timer armed. */
static void
fin_wait_1_fin_acked_after_rto(void **state)
{
	struct th *t = *state;
	static uint8_t buf[1000];

	th_established(t);
	assert_int_equal(write_more(t, buf, sizeof(buf)), 1000);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 536);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 537), R(t, 1), 464);
	/* The first segment is lost; the second and the FIN arrived. */
	th_advance(t, 200);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 536);
	th_expect_none(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1002), NULL, 0);
	assert_int_equal(t->c->state, TCPS_FIN_WAIT_2);
}

/* Regression: the same in LAST-ACK, for an application that closed (an orphan):
 * the final ACK is not recognised, nothing is armed, and the connection and
 * its rings are never freed (a leak per lost segment). */
static void
last_ack_orphan_freed_after_rto(void **state)
{
	struct th *t = *state;
	static uint8_t buf[1000];

	th_close_wait(t);
	assert_int_equal(write_more(t, buf, sizeof(buf)), 1000);
	tcp_close(t->c);
	t->c = NULL; /* the stack's now */
	th_expect(t, TCP_ACK, L(t, 1), R(t, 2), 536);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 537), R(t, 2), 464);
	th_advance(t, 200);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 2), 536);
	th_send(t, TCP_ACK, R(t, 2), L(t, 1002), NULL, 0);
	th_expect_none(t);
	assert_int_equal(t->st.n_conns, 1); /* the listener only */
}

/* Regression: RFC 6582 3.2 step 5 (a partial ACK: "retransmit the first
 * unacknowledged segment"). ack_input() sets SND.NXT = SND.UNA and calls
 * tcp_output() with the whole cwnd, which resends every segment the window
 * allows (go-back-N), not one: six segments here, five of them spurious. */
static void
newreno_partial_ack_resends_one_segment(void **state)
{
	struct th *t = *state;
	static uint8_t buf[536 * 8];

	th_established(t);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 8; i++)
		th_expect(t, TCP_ACK, L(t, 1 + 536 * i), R(t, 1), 536);
	for (unsigned i = 0; i < 3; i++)
		th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 536);
	th_expect_none(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + 536 * 2), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1 + 536 * 2), R(t, 1), 536);
	th_expect_none(t);
}

/* Regression: RFC 6582 3.2 step 2 sets RECOVER to "the highest sequence number
 * transmitted" (SND.MAX - 1); nr_dupack() and nr_timeout() (tcp_cc.c) store
 * SND.MAX, so after a recovery that ended with everything acknowledged,
 * the three duplicate ACKs of the next loss (ACK = SND.UNA = RECOVER) do not
 * "cover more than recover" and no fast retransmit happens: an RTO instead. */
static void
fast_retransmit_after_recovery_ended_at_recover(void **state)
{
	struct th *t = *state;
	static uint8_t buf[536 * 8];

	th_established(t);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	th_flush(t);
	for (unsigned i = 0; i < 3; i++)
		th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 536);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + 536 * 8), NULL, 0);
	assert_false(t->c->flags & TF_RECOVERY);
	th_flush(t);
	/* A new flight (cwnd set by hand: this case is about RECOVER). */
	t->c->cwnd = 536 * 8;
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 8; i++)
		th_expect(t, TCP_ACK, L(t, 1 + 536 * (8 + i)), R(t, 1), 536);
	for (unsigned i = 0; i < 3; i++)
		th_send(t, TCP_ACK, R(t, 1), L(t, 1 + 536 * 8), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1 + 536 * 8), R(t, 1), 536);
	assert_int_equal(th_mib(t, PH_MIB_tcp_fast_retransmits), 2);
}

/* Regression: RFC 9293 3.8.6.2.1 / RFC 1122 4.2.3.4 (sender SWS avoidance needs an
 * override timeout, 0.1-1 s) and 3.8.6.1. The peer's window is 100 bytes (less
 * than an MSS and than half its largest window), nothing is in flight and
 * more is queued: worth_sending() holds the data and tcp_output() arms the
 * persist timer only for a window of zero, so nothing is sent and no timer
 * runs. If the peer's later window update is lost, the connection hangs for
 * ever. Linux arms its probe timer whenever data waits and nothing is out,
 * and sends what the window allows when it fires. */
static void
small_window_override_timeout(void **state)
{
	struct th *t = *state;
	static uint8_t buf[1000];
	const struct th_rec *r;

	th_established(t);
	t->peer_wnd = 100;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(th_write(t, buf, sizeof(buf)), 1000);
	th_expect_none(t); /* SWS avoidance: wait a little */
	th_advance(t, 1000);
	assert_true(th_pending(t) > 0);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 1), -1);
	assert_true(r->o.len > 0 && r->o.len <= 100);
}

/* Regression: RFC 9293 3.8.6.1 ("the sending TCP must regularly transmit at least
 * one octet of new data (if available), or retransmit ..." to a zero
 * window). The peer ACKs the first of two segments with a zero window;
 * the second is in flight, so the persist timer is not armed, and when the
 * retransmission timer fires tcp_output() sends nothing (the window is
 * zero). Each RTO counts a retry with nothing sent: if the peer's window
 * update is lost, the connection times out although the peer is alive.
 * Linux retransmits the head segment even into a zero window. */
static void
rto_with_zero_window_sends_something(void **state)
{
	struct th *t = *state;
	static uint8_t buf[1072];

	th_established(t);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), 1072);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 536);
	th_expect(t, TCP_ACK, L(t, 537), R(t, 1), 536);
	t->peer_wnd = 0;
	th_send(t, TCP_ACK, R(t, 1), L(t, 537), NULL, 0);
	th_expect_none(t);
	th_advance(t, 200);
	assert_true(th_pending(t) > 0);
	th_expect(t, TCP_ACK, L(t, 537), R(t, 1), -1);
}

/* Regression: RFC 1122 4.2.2.17 / RFC 9293 3.8.6.1 leave a connection open while
 * the receiver answers probes, but a peer that has gone away answers none:
 * timer_persist() counts nothing and only a user timeout ends it, so the
 * connection and its rings live for ever (here three hours of unanswered
 * probes). Linux aborts after tcp_retries2 (15) unanswered probes (fewer for
 * an orphan). */
static void
persist_unanswered_gives_up(void **state)
{
	struct th *t = *state;

	th_established(t);
	t->peer_wnd = 0;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(th_write(t, "abcdef", 6), 6);
	for (unsigned i = 0; i < 18; i++) {
		th_advance(t, 600000);
		th_flush(t);
	}
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, ETIMEDOUT);
}

/* Regression: TCP_USER_TIMEOUT during persist counts from the last ACK of new data
 * (rexmt_since), not from when the window closed or the first probe went:
 * after an idle minute, the first persist expiry drops the connection
 * without a single probe. Linux measures zero-window time from the first
 * unanswered probe. Fix: set rexmt_since when the persist timer is first
 * armed (tcp_output(), where persist_shift is reset). */
static void
user_timeout_persist_after_idle(void **state)
{
	struct th *t = *state;

	th_established(t);
	t->c->user_timeout_ms = 5000;
	t->peer_wnd = 0;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_advance(t, 60000);
	assert_int_equal(th_write(t, "abcdef", 6), 6);
	th_expect_none(t);
	th_advance(t, 200);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
}

/* Regression: data_input() with SHUT_RD advances RCV.NXT over the discarded data
 * and then compares the segment's SEQ with the new RCV.NXT to decide whether
 * its FIN is in order: it never is, so a FIN that comes with data is lost
 * (the ACK leaves it out; the peer must send it again). */
static void
shut_rd_data_with_fin(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(tcp_shutdown(t->c, SHUT_RD), 0);
	th_send(t, TCP_ACK | TCP_FIN, R(t, 1), L(t, 1), "data", 4);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 6), 0);
	assert_int_equal(t->c->state, TCPS_CLOSE_WAIT);
}

/* Regression: RFC 2018 4: after the block of the latest segment, the SACK option
 * SHOULD repeat the most recently reported blocks. build_options() lists the
 * others in sequence order, so with four ranges and room for three (with
 * timestamps) the second-newest range (301) is never reported again. */
static void
sack_blocks_most_recent_first(void **state)
{
	struct th *t = *state;
	const struct th_rec *r = NULL;

	th_established(t);
	for (unsigned i = 1; i <= 4; i++) {
		th_send(t, TCP_ACK, R(t, 1 + 100 * i), L(t, 1), "0123456789", 10);
		r = th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	}
	assert_int_equal(r->opts.n_sack, 3);
	assert_int_equal(r->opts.sack[0].l, R(t, 401));
	assert_int_equal(r->opts.sack[1].l, R(t, 301));
	assert_int_equal(r->opts.sack[2].l, R(t, 201));
}

/* Regression (minor): RFC 6582 3.2 step 3 option 1 deflates on a full ACK to
 * min(ssthresh, max(FlightSize, SMSS) + SMSS); nr_recovery_ack() leaves out
 * the max(), so with nothing left in flight cwnd drops to one segment
 * instead of two. */
static void
newreno_full_ack_cwnd(void **state)
{
	struct th *t = *state;
	static uint8_t buf[536 * 8];

	th_established(t);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 3; i++)
		th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->ssthresh, 536 * 4);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + 536 * 8), NULL, 0);
	th_flush(t);
	assert_false(t->c->flags & TF_RECOVERY);
	assert_int_equal(t->c->cwnd, 2 * 536);
}

/* Regression (minor): Nagle (RFC 1122 4.2.3.4, RFC 896): a short segment waits while
 * earlier data is unacknowledged. tcp_output() sends whatever data fits when
 * an ACK is due (TF_ACKNOW), so every delayed ACK carries the held byte:
 * Nagle is off for any application that also receives. Linux sends the
 * ACK alone. */
static void
nagle_not_bypassed_by_delayed_ack(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(th_write(t, "a", 1), 1);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 1);
	assert_int_equal(th_write(t, "b", 1), 1);
	th_expect_none(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "x", 1); /* does not ACK "a" */
	th_advance(t, t->cfg.delack_ms);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
}

/* Regression (minor): RFC 6298 5.7: "If the timer expires awaiting the ACK of a SYN
 * segment" RTO is re-initialized to 3 s when data transmission begins. The
 * active side does it (syn_sent_input); the passive side, whose SYN-ACK was
 * retransmitted, keeps the 1 s initial RTO. */
static void
synack_retransmitted_rto_3s(void **state)
{
	struct th *t = *state;

	th_syn_received(t);
	th_advance(t, 1000);
	th_expect(t, TCP_SYN | TCP_ACK, L(t, 0), R(t, 1), 0);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
	assert_int_equal(t->c->rto, 3000);
}

/* Regression (minor): RFC 9293 3.8.6.2.2 / RFC 7323 2.4: the right edge of the
 * window should not move left. tcp_rcv_window() keeps the right edge, then
 * rounds the window down to a multiple of 1 << rcv_ws, which moves the
 * edge left by up to 2^ws - 1 bytes. Linux rounds up (ALIGN) in this case. */
static void
scaled_window_right_edge_never_moves_left(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;
	uint32_t edge;

	th_established(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "abc", 3);
	th_advance(t, t->cfg.delack_ms);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 4), 0);
	edge = R(t, 4) + ((uint32_t)r->o.wnd << 3);
	th_send(t, TCP_ACK, R(t, 4), L(t, 1), "def", 3);
	th_advance(t, t->cfg.delack_ms);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 7), 0);
	assert_true(seq_geq(R(t, 7) + ((uint32_t)r->o.wnd << 3), edge));
}

/* Regression (minor): an ACK loop needs no throttle on our side: every out-of-window
 * pure ACK is answered at once. RFC 9293 3.10.7.4 points to RFC 5961 and
 * Errata 4772 for ACK throttling; Linux answers such segments at most once
 * per 500 ms per connection (tcp_invalid_ratelimit). */
static void
out_of_window_acks_throttled(void **state)
{
	struct th *t = *state;

	th_established(t);
	for (unsigned i = 0; i < 10; i++)
		th_send(t, TCP_ACK, R(t, 100000), L(t, 1), NULL, 0);
	assert_true(th_pending(t) <= 1);
	th_flush(t);
}

/* Regression (minor): cwnd grows by an SMSS per duplicate ACK in fast recovery
 * (nr_dupack) with no bound: about 8 million duplicates (half a gigabyte at
 * line rate) wrap it to a few bytes. nr_ack() clamps at 2^30; the inflation
 * should too. The wrap is shown by starting near the top. */
static void
cwnd_inflation_does_not_wrap(void **state)
{
	struct th *t = *state;
	static uint8_t buf[536 * 8];

	th_established(t);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 3; i++)
		th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_true(t->c->flags & TF_RECOVERY);
	th_flush(t);
	t->c->cwnd = UINT32_MAX - 100;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_flush(t);
	assert_true(t->c->cwnd >= UINT32_MAX - 100);
}

/* Regression (minor): the persist timer outlives the data it probes for. The probe
 * byte was the last queued byte and the peer took it with its window still
 * shut: nothing is left to send, yet timer_persist() keeps sending empty
 * probes (SEG.SEQ = SND.UNA - 1) with back-off, for as long as the window
 * stays shut. Linux stops probing when nothing waits (tcp_probe_timer). */
static void
persist_stops_when_nothing_waits(void **state)
{
	struct th *t = *state;

	th_established(t);
	t->peer_wnd = 0;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(th_write(t, "a", 1), 1);
	th_advance(t, 200);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1);
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0); /* taken, still shut */
	assert_int_equal(t->c->sbuf.len, 0);
	assert_false(tcp_timer_armed(t->c, TCP_T_PERSIST));
	th_advance(t, 600000);
	th_expect_none(t);
}

/* Regression (minor): ISS 0 is a valid initial sequence number (RFC 9293 3.4.1,
 * RFC 6528), but tcp_recv(), tcp_send(), tcp_poll() and tcp_connect() use
 * "c->iss == 0" to mean "never connected": once a connection whose ISS is 0
 * (one in 2^32) has closed, reading gives ENOTCONN instead of end of
 * stream. A flag (or the state history) should say it. */
static void
iss_zero_reads_end_of_stream(void **state)
{
	struct th *t = *state;
	uint8_t b[4];

	th_syn_received(t);
	th_shift_iss(t, 0);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
	th_send(t, TCP_ACK | TCP_FIN, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 2), L(t, 2), NULL, 0);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(th_read(t, b, sizeof(b)), 0);
}

/* ==== closes after an active open ==== */

static void
active_close_to_time_wait(void **state)
{
	struct th *t = *state;

	th_established_active(t);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(t->c->state, TCPS_FIN_WAIT_1);
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_FIN_WAIT_2);
	assert_false(tcp_timer_armed(t->c, TCP_T_REXMT));
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
	th_advance(t, 2 * t->cfg.msl_ms);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, 0);
	th_expect_none(t);
}

static void
active_passive_close(void **state)
{
	struct th *t = *state;
	uint8_t b[4];

	th_established_active(t);
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_CLOSE_WAIT);
	assert_int_equal(th_read(t, b, sizeof(b)), 0);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_LAST_ACK);
	th_send(t, TCP_ACK, R(t, 2), L(t, 2), NULL, 0);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, 0);
}

static void
active_simultaneous_close(void **state)
{
	struct th *t = *state;

	th_established_active(t);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	/* The peer's FIN crosses ours: it does not acknowledge ours. */
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_CLOSING);
	th_send(t, TCP_ACK, R(t, 2), L(t, 2), NULL, 0);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
}

static void
active_fin_wait_1_fin_ack_together(void **state)
{
	struct th *t = *state;

	th_established_active(t);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
	assert_true(tcp_timer_armed(t->c, TCP_T_2MSL));
}

static void
active_close_data_and_fin_one_segment(void **state)
{
	struct th *t = *state;

	th_established_active(t);
	assert_int_equal(write_more(t, "hello", 5), 5);
	th_expect_none(t);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 5);
	th_send(t, TCP_ACK, R(t, 1), L(t, 7), NULL, 0);
	assert_int_equal(t->c->state, TCPS_FIN_WAIT_2);
	assert_int_equal(t->c->sbuf.len, 0);
}

static void
active_orphan_close_freed(void **state)
{
	struct th *t = *state;
	struct tcp_seg s = {
	        .saddr = TH_RADDR,
	        .daddr = TH_LADDR,
	        .sport = TH_RPORT,
	        .flags = TCP_ACK | TCP_FIN,
	        .wnd = 1000,
	};

	th_established_active(t);
	tcp_close(t->c);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	/* The stack owns it now: address it by port, not by pointer. */
	s.dport = t->c->lport;
	s.seq = R(t, 1);
	s.ack = L(t, 2);
	t->c = NULL;
	tcp_input(&t->st, &s);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	assert_int_equal(t->st.n_conns, 1); /* in TIME-WAIT */
	th_advance(t, 2 * t->cfg.msl_ms);
	assert_int_equal(t->st.n_conns, 0);
}

/* ==== SYN-ACKs with more than a SYN; SYN-SENT ==== */

/* Regression (at 306834c): RFC 9293 3.10.7.3 says to go on with
 * the data of a SYN-ACK ("continue processing at the sixth step"); the stack
 * dropped it. Here the SYN-ACK carries more than the ring holds: what fits
 * is taken and ACKed with the SYN, the window closes. */
static void
synack_with_data_beyond_the_ring(void **state)
{
	struct th *t = *state;
	static uint8_t d[16384 + 100], b[16384];
	const struct th_rec *r;

	pattern(d, 0, sizeof(d));
	th_syn_sent(t);
	th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 1), 1000, d, sizeof(d), NULL, 0);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 16385), 0);
	assert_int_equal(r->o.wnd, 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	assert_int_equal(th_read(t, b, sizeof(b)), 16384);
	assert_memory_equal(b, d, 16384);
	th_flush(t); /* the window update */
}

static void
syn_sent_rst_with_wrong_ack_ignored(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	const uint32_t acks[] = {t->iss - 1000, L(t, 0), L(t, 2), L(t, 1000)};

	/* RFC 9293 3.10.7.3: an ACK outside (ISS, SND.NXT] makes the RST
	 * unacceptable: dropped, nothing answers it. */
	for (unsigned i = 0; i < 4; i++) {
		th_inject(t, TCP_RST | TCP_ACK, t->irs, acks[i], 0, NULL, 0, NULL, 0);
		th_expect_none(t);
		assert_int_equal(t->c->state, TCPS_SYN_SENT);
	}
	assert_int_equal(th_dropped(t, PH_DROP_TCP_SYN_SENT_BAD), 4);
	th_inject(t, TCP_RST | TCP_ACK, t->irs, L(t, 1), 0, NULL, 0, NULL, 0);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, ECONNREFUSED);
}

static void
syn_sent_bad_synack_then_good(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 2), 1000, NULL, 0, NULL, 0);
	th_expect(t, TCP_RST, L(t, 2), -1, 0);
	assert_int_equal(t->c->state, TCPS_SYN_SENT);
	th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 1), 1000, NULL, 0, NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	assert_false(tcp_timer_armed(t->c, TCP_T_REXMT));
}

static void
syn_retransmitted_rto_3s(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	th_advance(t, 1000);
	th_expect(t, TCP_SYN, L(t, 0), -1, 0);
	th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 1), 1000, NULL, 0, NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	/* RFC 6298 5.7: no sample from a retransmitted SYN, RTO 3 s. */
	assert_int_equal(t->c->rto, 3000);
	assert_int_equal(t->c->srtt, 0);
	assert_int_equal(th_write(t, "x", 1), 1);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 1);
	th_advance(t, 2999);
	th_expect_none(t);
	th_advance(t, 1);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1);
}

static void
simultaneous_open_rst_refused(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	th_inject(t, TCP_SYN, t->irs, 0, 1000, NULL, 0, NULL, 0);
	th_expect(t, TCP_SYN | TCP_ACK, L(t, 0), R(t, 1), 0);
	assert_int_equal(t->c->state, TCPS_SYN_RECEIVED);
	th_inject(t, TCP_RST, R(t, 1), 0, 0, NULL, 0, NULL, 0);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, ECONNREFUSED);
	th_expect_none(t);
}

static void
active_open_timestamps_echoed(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	th_established_active(t);
	r = &t->rec[t->next_rec - 1];
	assert_true(r->opts.ts_ok);
	assert_int_equal(r->opts.tsecr, 5000); /* the SYN-ACK's TSval */
	assert_true(t->c->flags & TF_TS_OK);
	assert_true(t->c->flags & TF_SACK_OK);
	assert_int_equal(tcp_data_mss(t->c), 1448);
}

/* ==== data and FIN ==== */

static void
data_and_fin_in_one_segment(void **state)
{
	struct th *t = *state;
	uint8_t b[8];

	th_established(t);
	th_send(t, TCP_ACK | TCP_PSH | TCP_FIN, R(t, 1), L(t, 1), "abc", 3);
	/* The FIN is ACKed at once, with the data. */
	th_expect(t, TCP_ACK, L(t, 1), R(t, 5), 0);
	assert_int_equal(t->c->state, TCPS_CLOSE_WAIT);
	assert_int_equal(th_read(t, b, sizeof(b)), 3);
	assert_memory_equal(b, "abc", 3);
	assert_int_equal(th_read(t, b, sizeof(b)), 0);
	assert_false(tcp_timer_armed(t->c, TCP_T_DELACK));
}

static void
handshake_ack_with_data_and_fin(void **state)
{
	struct th *t = *state;
	uint8_t b[8];

	th_syn_received(t);
	th_send(t, TCP_ACK | TCP_PSH | TCP_FIN, R(t, 1), L(t, 1), "abc", 3);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 5), 0);
	assert_int_equal(t->c->state, TCPS_CLOSE_WAIT);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
	assert_int_equal(th_read(t, b, sizeof(b)), 3);
	assert_int_equal(th_read(t, b, sizeof(b)), 0);
}

static void
fin_wait_2_data_and_fin(void **state)
{
	struct th *t = *state;
	uint8_t b[8];

	th_fin_wait_2(t);
	th_send(t, TCP_ACK | TCP_FIN, R(t, 1), L(t, 2), "xyz", 3);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 5), 0);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
	assert_int_equal(th_read(t, b, sizeof(b)), 3);
	assert_int_equal(th_read(t, b, sizeof(b)), 0);
}

/* ==== our FIN sent again in each closing state ==== */

static void
fin_retransmitted_closing(void **state)
{
	struct th *t = *state;

	th_closing(t);
	th_advance(t, 200);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 2), 0);
	th_advance(t, 399);
	th_expect_none(t);
	th_advance(t, 1);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 2), 0);
	th_send(t, TCP_ACK, R(t, 2), L(t, 2), NULL, 0);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
	th_expect_none(t);
}

static void
fin_retransmitted_last_ack(void **state)
{
	struct th *t = *state;

	th_last_ack(t);
	th_advance(t, 200);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 2), 0);
	th_advance(t, 400);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 2), 0);
	th_send(t, TCP_ACK, R(t, 2), L(t, 2), NULL, 0);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	th_expect_none(t);
}

static void
fin_retransmitted_fin_wait_1_active(void **state)
{
	struct th *t = *state;

	th_established_active(t);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	th_advance(t, 200);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	assert_int_equal(t->c->state, TCPS_FIN_WAIT_2);
	th_advance(t, 10000);
	th_expect_none(t);
}

static void
fin_with_data_retransmitted_together(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(write_more(t, "hello", 5), 5);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 5);
	th_advance(t, 200);
	th_expect(t, TCP_FIN | TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 5);
	th_send(t, TCP_ACK, R(t, 1), L(t, 7), NULL, 0);
	assert_int_equal(t->c->state, TCPS_FIN_WAIT_2);
}

static void
last_ack_retries_exhausted(void **state)
{
	struct th *t = *state;
	unsigned fins = 0;

	th_last_ack(t);
	for (unsigned i = 0; i < 20 && t->c->state != TCPS_CLOSED; i++) {
		th_advance(t, tcp_rto_backed_off(t->c));
		while (th_pending(t) > 0) {
			th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 2), 0);
			fins++;
		}
	}
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, ETIMEDOUT);
	assert_int_equal(fins, t->cfg.retries);
}

/* ==== zero-window probes received; window updates ==== */

static void
zero_window_probe_received(void **state)
{
	struct th *t = *state;
	static uint8_t out[16384];
	const struct th_rec *r;

	th_established(t);
	fill_receive_buffer(t);
	th_send(t, TCP_ACK, R(t, 16385), L(t, 1), "z", 1);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 16385), 0);
	assert_int_equal(r->o.wnd, 0);
	assert_int_equal(t->c->rbuf.len, 16384);
	/* The application reads everything: a window update at once. */
	assert_int_equal(th_read(t, out, sizeof(out)), 16384);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 16385), 0);
	assert_int_equal(r->o.wnd, 16384);
	/* The next probe byte is taken. */
	th_send(t, TCP_ACK, R(t, 16385), L(t, 1), "z", 1);
	assert_int_equal(t->c->rbuf.len, 1);
	th_advance(t, t->cfg.delack_ms);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 16386), 0);
}

static void
rcv_window_update_after_reads(void **state)
{
	struct th *t = *state;
	static uint8_t out[16384];
	const struct th_rec *r;

	th_established(t);
	fill_receive_buffer(t);
	/* RFC 9293 3.8.6.2.2: the window opens in steps of at least
	 * min(buffer / 2, MSS) = 1460: 1000 bytes read are not enough. */
	assert_int_equal(th_read(t, out, 1000), 1000);
	th_expect_none(t);
	assert_int_equal(th_read(t, out, 500), 500);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 16385), 0);
	assert_int_equal(r->o.wnd, 1500);
	/* Opening by less than two segments is not worth an update. */
	assert_int_equal(th_read(t, out, 1000), 1000);
	th_expect_none(t);
	assert_int_equal(th_read(t, out, 2000), 2000);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 16385), 0);
	assert_int_equal(r->o.wnd, 4500);
}

static void
receiver_sws_window_in_steps(void **state)
{
	struct th *t = *state;
	static uint8_t out[16384];
	const struct th_rec *r;

	th_established(t);
	fill_receive_buffer(t);
	assert_int_equal(th_read(t, out, 1400), 1400);
	th_expect_none(t);
	/* A segment at the right edge draws an ACK: the window is still 0
	 * (1400 < 1460), not 1400. */
	th_send(t, TCP_ACK, R(t, 16385), L(t, 1), NULL, 0);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "old", 3);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 16385), 0);
	assert_int_equal(r->o.wnd, 0);
}

static void
sender_sws_half_max_window(void **state)
{
	struct th *t = *state;
	static uint8_t buf[1000];

	t->peer_wnd = 600;
	th_established(t);
	assert_int_equal(t->c->max_sndwnd, 600);
	assert_int_equal(th_write(t, buf, sizeof(buf)), 1000);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 536);
	th_expect_none(t); /* 64 bytes of window: not worth a segment */
	t->peer_wnd = 300;
	th_send(t, TCP_ACK, R(t, 1), L(t, 537), NULL, 0);
	/* Half the largest window the peer offered: worth it. */
	th_expect(t, TCP_ACK, L(t, 537), R(t, 1), 300);
	th_send(t, TCP_ACK, R(t, 1), L(t, 837), NULL, 0);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 837), R(t, 1), 164);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1001), NULL, 0);
	th_expect_none(t);
}

/* ==== window scaling at the edges ==== */

static void
ws_shift_0_for_64k_minus_1(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	th_syn_received(t);
	r = &t->rec[t->next_rec - 1];
	assert_true(r->opts.ws_ok);
	assert_int_equal(r->opts.ws, 0);
	assert_int_equal(r->o.wnd, 65535);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
	assert_true(t->c->flags & TF_WS_OK);
	assert_int_equal(t->c->rcv_ws, 0);
	assert_int_equal(t->c->snd_ws, 7);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "a", 1);
	th_advance(t, t->cfg.delack_ms);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 2), 0);
	assert_int_equal(r->o.wnd, 65534);
}

static void
ws_shift_1_for_64k(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	th_syn_received(t);
	r = &t->rec[t->next_rec - 1];
	assert_int_equal(r->opts.ws, 1);
	assert_int_equal(r->o.wnd, 65535); /* a SYN's window is not scaled */
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "a", 1);
	th_advance(t, t->cfg.delack_ms);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 2), 0);
	assert_int_equal(r->o.wnd, 65534 >> 1);
	t->c = NULL; /* never accepted: the listener's close resets it */
}

static void
ws_peer_shift_14_and_15(void **state)
{
	struct th *t = *state;
	uint8_t o[24];

	/* RFC 7323 2.3: a shift above 14 is taken as 14. */
	passive_open_with(t, o, peer_syn_opts(o, 5000, 0, 15), 65535);
	assert_int_equal(t->c->snd_ws, 14);
	t->peer_wnd = 2;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->snd_wnd, 2u << 14);
	t->peer_wnd = 65535;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->snd_wnd, 65535u << 14);
	assert_int_equal(t->c->max_sndwnd, 65535u << 14);
}

static void
ws_peer_shift_0(void **state)
{
	struct th *t = *state;
	uint8_t o[24];

	passive_open_with(t, o, peer_syn_opts(o, 5000, 0, 0), 65535);
	assert_true(t->c->flags & TF_WS_OK);
	assert_int_equal(t->c->snd_ws, 0);
	t->peer_wnd = 1234;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->snd_wnd, 1234);
}

static void
ws_our_shift_14(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	th_syn_received(t);
	r = &t->rec[t->next_rec - 1];
	assert_int_equal(r->opts.ws, 14);
	assert_int_equal(r->o.wnd, 65535);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "a", 1);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
	th_advance(t, t->cfg.delack_ms);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 2), 0);
	/* (2^29 - 1) rounded down to 16 KiB units. */
	assert_int_equal(r->o.wnd, 32767);
}

/* ==== delayed ACK, Nagle, cork ==== */

static void
delack_custom_value(void **state)
{
	struct th *t = *state;

	t->st.cfg.delack_ms = 100;
	th_established(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "a", 1);
	assert_true(tcp_timer_armed(t->c, TCP_T_DELACK));
	th_advance(t, 99);
	th_expect_none(t);
	th_advance(t, 1);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 2), 0);
	assert_false(tcp_timer_armed(t->c, TCP_T_DELACK));
}

static void
delack_every_second_segment(void **state)
{
	struct th *t = *state;

	th_established(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "a", 1);
	th_expect_none(t);
	th_send(t, TCP_ACK, R(t, 2), L(t, 1), "b", 1);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 3), 0);
	th_send(t, TCP_ACK, R(t, 3), L(t, 1), "c", 1);
	th_expect_none(t);
	th_send(t, TCP_ACK, R(t, 4), L(t, 1), "d", 1);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 5), 0);
	th_send(t, TCP_ACK, R(t, 5), L(t, 1), "e", 1);
	th_advance(t, t->cfg.delack_ms - 1);
	th_expect_none(t);
	th_advance(t, 1);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 6), 0);
	/* A second segment before the timer: ACKed at once, timer off. */
	th_send(t, TCP_ACK, R(t, 6), L(t, 1), "f", 1);
	th_advance(t, 20);
	th_send(t, TCP_ACK, R(t, 7), L(t, 1), "g", 1);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 8), 0);
	th_advance(t, 100);
	th_expect_none(t);
}

static void
nagle_with_fin(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(th_write(t, "a", 1), 1);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 1);
	assert_int_equal(th_write(t, "b", 1), 1);
	th_expect_none(t);
	/* Closing pushes the held byte out with the FIN. */
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK | TCP_PSH, L(t, 2), R(t, 1), 1);
	th_send(t, TCP_ACK, R(t, 1), L(t, 4), NULL, 0);
	assert_int_equal(t->c->state, TCPS_FIN_WAIT_2);
}

static void
cork_with_fin(void **state)
{
	struct th *t = *state;

	th_established(t);
	tcp_set_cork(t->c, true);
	assert_int_equal(th_write(t, "ab", 2), 2);
	th_expect_none(t);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 2);
	th_send(t, TCP_ACK, R(t, 1), L(t, 4), NULL, 0);
	assert_int_equal(t->c->state, TCPS_FIN_WAIT_2);
}

static void
cork_full_segments_go(void **state)
{
	struct th *t = *state;
	static uint8_t buf[536 * 2 + 10];

	th_established(t);
	tcp_set_cork(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	/* Full segments go; the 10-byte tail waits, even once all is ACKed. */
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 536);
	th_expect(t, TCP_ACK, L(t, 537), R(t, 1), 536);
	th_expect_none(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1073), NULL, 0);
	th_expect_none(t);
	tcp_set_cork(t->c, false);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1073), R(t, 1), 10);
}

/* ==== RTO from measured RTT (RFC 6298 2.2, 2.3) ==== */

/* Echo the stack's last timestamp in an ACK of everything up to ACK. */
static void
ack_echo(struct th *t, uint32_t ack)
{
	th_send_ts(t, TCP_ACK, R(t, 1), ack, NULL, 0, ++t->peer_ts, last_tsval(t));
}

static void
rto_from_timestamps(void **state)
{
	struct th *t = *state;
	struct tcp_info ti;

	th_syn_received(t);
	t->st.cfg.rto_min_ms = 1; /* to see the arithmetic, not the floor */
	/* The ACK of the SYN-ACK comes 40 ms later and echoes its timestamp:
	 * the first sample (RFC 7323 4.1), SRTT = 40, RTTVAR = 20. */
	th_advance(t, 40);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
	assert_int_equal(t->c->srtt >> 3, 40);
	assert_int_equal(t->c->rttvar >> 2, 20);
	assert_int_equal(t->c->rto, 40 + 4 * 20);
	/* Start the arithmetic below from no sample. */
	t->c->srtt = t->c->rttvar = 0;
	/* R = 100: SRTT = 100, RTTVAR = 50, RTO = 100 + 4 * 50. */
	assert_int_equal(th_write(t, "a", 1), 1);
	th_advance(t, 100);
	ack_echo(t, L(t, 2));
	assert_int_equal(t->c->srtt >> 3, 100);
	assert_int_equal(t->c->rttvar >> 2, 50);
	assert_int_equal(t->c->rto, 300);
	/* R = 200: RTTVAR = 3/4 * 50 + 1/4 * 100 = 62.5, SRTT = 7/8 * 100 +
	 * 1/8 * 200 = 112.5, RTO = 112.5 + 250. */
	assert_int_equal(th_write(t, "b", 1), 1);
	th_advance(t, 200);
	ack_echo(t, L(t, 3));
	assert_int_equal(t->c->srtt, 900);   /* 112.5 << 3 */
	assert_int_equal(t->c->rttvar, 250); /* 62.5 << 2 */
	assert_int_equal(t->c->rto, 362);
	/* R = 50: RTTVAR = 3/4 * 62.5 + 1/4 * 62.5, SRTT = 104.7. */
	assert_int_equal(th_write(t, "c", 1), 1);
	th_advance(t, 50);
	ack_echo(t, L(t, 4));
	assert_int_equal(t->c->srtt >> 3, 104);
	assert_int_equal(t->c->rttvar, 250);
	assert_int_equal(t->c->rto, 354);
	tcp_get_info(t->c, &ti);
	assert_int_equal(ti.tcpi_rtt, 104000);
	assert_int_equal(ti.tcpi_rttvar, 62000);
	assert_int_equal(ti.tcpi_rto, 354000);
	/* The retransmission timer runs at that RTO. */
	th_flush(t);
	assert_int_equal(th_write(t, "d", 1), 1);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 4), R(t, 1), 1);
	th_advance(t, 353);
	th_expect_none(t);
	th_advance(t, 1);
	th_expect(t, TCP_ACK, L(t, 4), R(t, 1), 1);
}

/* The handshake's ACK is the first sample (no timestamps): after 50 ms. */
static void
established_after(struct th *t, uint64_t rtt)
{
	t->st.cfg.rto_min_ms = 1;
	th_syn_received(t);
	th_advance(t, rtt);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
}

static void
rto_from_timed_segment(void **state)
{
	struct th *t = *state;

	established_after(t, 50);
	assert_int_equal(t->c->srtt, 400);   /* 50 << 3 */
	assert_int_equal(t->c->rttvar, 100); /* 25 << 2 */
	assert_int_equal(t->c->rto, 150);
	/* R = 30: RTTVAR = 18.75 + 5, SRTT = 43.75 + 3.75, RTO = 142.5. */
	assert_int_equal(th_write(t, "a", 1), 1);
	assert_true(t->c->flags & TF_RTT_TIMING);
	th_advance(t, 30);
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	assert_false(t->c->flags & TF_RTT_TIMING);
	assert_int_equal(t->c->srtt, 380);
	assert_int_equal(t->c->rttvar, 95);
	assert_int_equal(t->c->rto, 142);
	th_flush(t);
}

static void
karn_no_sample_from_retransmission(void **state)
{
	struct th *t = *state;

	established_after(t, 50);
	assert_int_equal(th_write(t, "a", 1), 1);
	th_advance(t, 150);
	th_flush(t); /* the retransmission */
	assert_int_equal(t->c->backoff, 1);
	assert_false(t->c->flags & TF_RTT_TIMING);
	th_advance(t, 100);
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	/* Ambiguous: no sample; the back-off ends with the new ACK. */
	assert_int_equal(t->c->srtt, 400);
	assert_int_equal(t->c->rttvar, 100);
	assert_int_equal(t->c->rto, 150);
	assert_int_equal(t->c->backoff, 0);
	/* The next new segment is timed again: R = 80. */
	assert_int_equal(th_write(t, "b", 1), 1);
	th_advance(t, 80);
	th_send(t, TCP_ACK, R(t, 1), L(t, 3), NULL, 0);
	assert_int_equal(t->c->srtt, 430);
	assert_int_equal(t->c->rttvar, 105);
	assert_int_equal(t->c->rto, 158);
	th_flush(t);
}

static void
backoff_reset_new_rto(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(th_write(t, "a", 1), 1);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 1);
	th_advance(t, 200);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1);
	th_advance(t, 400);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1);
	assert_int_equal(tcp_rto_backed_off(t->c), 800);
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	assert_int_equal(tcp_rto_backed_off(t->c), 200);
	assert_int_equal(t->c->rexmits, 0);
	assert_int_equal(th_write(t, "b", 1), 1);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 2), R(t, 1), 1);
	th_advance(t, 199);
	th_expect_none(t);
	th_advance(t, 1);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 1), 1);
}

/* ==== SACK blocks and out-of-order merges ==== */

static void
sack_four_blocks_without_timestamps(void **state)
{
	struct th *t = *state;
	const struct th_rec *r = NULL;

	th_established(t);
	assert_true(t->c->flags & TF_SACK_OK);
	assert_false(t->c->flags & TF_TS_OK);
	for (unsigned i = 1; i <= 5; i++) {
		th_send(t, TCP_ACK, R(t, 1 + 100 * i), L(t, 1), "0123456789", 10);
		r = th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
		assert_int_equal(r->opts.n_sack, i < 4 ? i : 4);
		assert_int_equal(r->opts.sack[0].l, R(t, 1 + 100 * i));
		assert_int_equal(r->opts.sack[0].r, R(t, 11 + 100 * i));
	}
	/* Every block is a range held, none repeated. */
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(r->opts.sack[i].l, r->opts.sack[j].l);
}

static void
sack_blocks_shrink_as_holes_fill(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	th_established(t);
	th_send(t, TCP_ACK, R(t, 11), L(t, 1), "0123456789", 10);
	th_send(t, TCP_ACK, R(t, 31), L(t, 1), "0123456789", 10);
	th_flush(t);
	/* The first hole fills: the ACK moves to 21, one block left. */
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "0123456789", 10);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 21), 0);
	assert_true(r->opts.ts_ok);
	assert_int_equal(r->opts.n_sack, 1);
	assert_int_equal(r->opts.sack[0].l, R(t, 31));
	/* The last one: no SACK option any more. */
	th_send(t, TCP_ACK, R(t, 21), L(t, 1), "0123456789", 10);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 41), 0);
	assert_int_equal(r->opts.n_sack, 0);
}

static void
ofo_merge_bridging(void **state)
{
	struct th *t = *state;
	uint8_t d[40], b[64];

	th_established(t);
	pattern(d, 0, 40);
	th_send(t, TCP_ACK, R(t, 11), L(t, 1), d + 10, 10);
	th_send(t, TCP_ACK, R(t, 31), L(t, 1), d + 30, 10);
	assert_int_equal(t->c->ofo.n, 2);
	th_send(t, TCP_ACK, R(t, 21), L(t, 1), d + 20, 10);
	assert_int_equal(t->c->ofo.n, 1);
	assert_int_equal(t->c->ofo.blk[0].l, R(t, 11));
	assert_int_equal(t->c->ofo.blk[0].r, R(t, 41));
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), d, 10);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 41), 0);
	assert_int_equal(t->c->ofo.n, 0);
	assert_int_equal(th_read(t, b, sizeof(b)), 40);
	assert_memory_equal(b, d, 40);
}

static void
ofo_merge_overlaps(void **state)
{
	struct th *t = *state;
	uint8_t d[60], b[64];

	th_established(t);
	pattern(d, 0, 60);
	th_send(t, TCP_ACK, R(t, 21), L(t, 1), d + 20, 10); /* [21, 31) */
	th_send(t, TCP_ACK, R(t, 16), L(t, 1), d + 15, 10); /* overlaps left */
	th_send(t, TCP_ACK, R(t, 26), L(t, 1), d + 25, 10); /* overlaps right */
	assert_int_equal(t->c->ofo.n, 1);
	assert_int_equal(t->c->ofo.blk[0].l, R(t, 16));
	assert_int_equal(t->c->ofo.blk[0].r, R(t, 36));
	th_send(t, TCP_ACK, R(t, 46), L(t, 1), d + 45, 10); /* [46, 56) */
	th_send(t, TCP_ACK, R(t, 11), L(t, 1), d + 10, 40); /* covers both */
	assert_int_equal(t->c->ofo.n, 1);
	assert_int_equal(t->c->ofo.blk[0].l, R(t, 11));
	assert_int_equal(t->c->ofo.blk[0].r, R(t, 56));
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), d, 12); /* runs into the range */
	th_expect(t, TCP_ACK, L(t, 1), R(t, 56), 0);
	assert_int_equal(th_read(t, b, sizeof(b)), 55);
	assert_memory_equal(b, d, 55);
}

static void
ofo_hole_filled_in_two_steps(void **state)
{
	struct th *t = *state;
	uint8_t d[30], b[32];

	th_established(t);
	pattern(d, 0, 30);
	th_send(t, TCP_ACK, R(t, 21), L(t, 1), d + 20, 10);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	/* Part of the hole: ACKed at once (a range is still held). */
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), d, 15);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 16), 0);
	assert_int_equal(t->c->ofo.n, 1);
	th_send(t, TCP_ACK, R(t, 16), L(t, 1), d + 15, 5);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 31), 0);
	assert_int_equal(th_read(t, b, sizeof(b)), 30);
	assert_memory_equal(b, d, 30);
}

static void
ofo_fin_then_data_then_hole(void **state)
{
	struct th *t = *state;
	uint8_t b[16];

	th_established(t);
	th_send(t, TCP_ACK | TCP_FIN, R(t, 7), L(t, 1), "ghi", 3);
	th_send(t, TCP_ACK, R(t, 4), L(t, 1), "def", 3);
	th_flush(t);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "abc", 3);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 11), 0);
	assert_int_equal(t->c->state, TCPS_CLOSE_WAIT);
	assert_int_equal(th_read(t, b, sizeof(b)), 9);
	assert_memory_equal(b, "abcdefghi", 9);
}

/* ==== TIME-WAIT, FIN-WAIT-2 and keep-alive timers ==== */

static void
time_wait_custom_msl(void **state)
{
	struct th *t = *state;

	t->st.cfg.msl_ms = 1000;
	th_time_wait(t);
	assert_true(tcp_timer_armed(t->c, TCP_T_2MSL));
	assert_false(tcp_timer_armed(t->c, TCP_T_REXMT));
	assert_false(tcp_timer_armed(t->c, TCP_T_KEEP));
	assert_false(tcp_timer_armed(t->c, TCP_T_DELACK));
	th_advance(t, 1999);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
	th_advance(t, 1);
	assert_int_equal(t->c->state, TCPS_CLOSED);
}

static void
time_wait_custom_msl_orphan_freed(void **state)
{
	struct th *t = *state;

	t->st.cfg.msl_ms = 500;
	th_time_wait(t);
	tcp_close(t->c);
	t->c = NULL;
	assert_int_equal(t->st.n_conns, 2);
	th_advance(t, 999);
	assert_int_equal(t->st.n_conns, 2);
	th_advance(t, 1);
	assert_int_equal(t->st.n_conns, 1);
}

static void
fin_wait_2_orphan_custom_msl(void **state)
{
	struct th *t = *state;

	t->st.cfg.msl_ms = 2000;
	th_fin_wait_2(t);
	assert_false(tcp_timer_armed(t->c, TCP_T_KEEP)); /* not an orphan yet */
	tcp_close(t->c);
	t->c = NULL;
	th_advance(t, 3999);
	assert_int_equal(t->st.n_conns, 2);
	th_advance(t, 1);
	assert_int_equal(t->st.n_conns, 1);
	th_expect_none(t);
}

static void
keepalive_in_close_wait(void **state)
{
	struct th *t = *state;

	th_close_wait(t);
	t->c->keepidle_ms = 5000;
	t->c->keepintvl_ms = 1000;
	t->c->keepcnt = 2;
	tcp_set_keepalive(t->c, true);
	assert_true(tcp_timer_armed(t->c, TCP_T_KEEP));
	th_advance(t, 5000);
	th_expect(t, TCP_ACK, L(t, 0), R(t, 2), 0);
	th_advance(t, 1000);
	th_expect(t, TCP_ACK, L(t, 0), R(t, 2), 0);
	th_advance(t, 1000);
	th_expect(t, TCP_RST | TCP_ACK, L(t, 1), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, ETIMEDOUT);
}

static void
keepalive_answered_in_close_wait(void **state)
{
	struct th *t = *state;

	th_close_wait(t);
	t->c->keepidle_ms = 5000;
	t->c->keepintvl_ms = 1000;
	tcp_set_keepalive(t->c, true);
	th_advance(t, 5000);
	th_expect(t, TCP_ACK, L(t, 0), R(t, 2), 0);
	th_send(t, TCP_ACK, R(t, 2), L(t, 1), NULL, 0);
	th_expect_none(t);
	assert_int_equal(t->c->keep_probes, 0);
	th_advance(t, 4999);
	th_expect_none(t);
	th_advance(t, 1);
	th_expect(t, TCP_ACK, L(t, 0), R(t, 2), 0);
}

static void
keepalive_stops_after_shutdown(void **state)
{
	struct th *t = *state;

	th_established(t);
	t->c->keepidle_ms = 5000;
	tcp_set_keepalive(t->c, true);
	assert_true(tcp_timer_armed(t->c, TCP_T_KEEP));
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_false(tcp_timer_armed(t->c, TCP_T_KEEP));
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	th_advance(t, 20000);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_FIN_WAIT_2);
}

static void
keepalive_inherited_from_listener(void **state)
{
	struct th *t = *state;

	th_listen(t);
	t->lsn->keepidle_ms = 3000;
	t->lsn->keepintvl_ms = 500;
	t->lsn->keepcnt = 1;
	tcp_set_keepalive(t->lsn, true);
	assert_false(tcp_timer_armed(t->lsn, TCP_T_KEEP));
	th_inject(t, TCP_SYN, t->irs, 0, 1000, NULL, 0, NULL, 0);
	t->iss = t->rec[t->next_rec].o.seq;
	th_flush(t);
	t->c = TAILQ_FIRST(&t->lsn->synq);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
	th_advance(t, 3000);
	th_expect(t, TCP_ACK, L(t, 0), R(t, 1), 0);
	th_advance(t, 500);
	th_expect(t, TCP_RST | TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(t->c->error, ETIMEDOUT);
}

static void
no_timer_when_idle(void **state)
{
	struct th *t = *state;

	th_established(t);
	for (int k = 0; k < TCP_T_MAX; k++)
		assert_false(tcp_timer_armed(t->c, (enum tcp_timer)k));
	assert_int_equal(t->c->t_deadline, 0);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "a", 1);
	assert_true(tcp_timer_armed(t->c, TCP_T_DELACK));
	assert_int_equal(th_write(t, "b", 1), 1); /* carries the ACK */
	assert_false(tcp_timer_armed(t->c, TCP_T_DELACK));
	assert_true(tcp_timer_armed(t->c, TCP_T_REXMT));
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 2), L(t, 2), NULL, 0);
	for (int k = 0; k < TCP_T_MAX; k++)
		assert_false(tcp_timer_armed(t->c, (enum tcp_timer)k));
}

/* ==== user timeout and persist ==== */

static void
user_timeout_during_persist(void **state)
{
	struct th *t = *state;

	th_established(t);
	t->c->user_timeout_ms = 1000;
	t->peer_wnd = 0;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(th_write(t, "abcdef", 6), 6);
	/* The probes are answered (window still shut); the user timeout ends
	 * the connection anyway, as Linux does since 5.11. */
	th_advance(t, 200);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_advance(t, 400);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_advance(t, 800);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, ETIMEDOUT);
}

static void
persist_probe_not_counted_as_dupack(void **state)
{
	struct th *t = *state;

	th_established(t);
	t->peer_wnd = 0;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(th_write(t, "abcdef", 6), 6);
	for (unsigned i = 0; i < 4; i++) {
		th_advance(t, tcp_rto_backed_off(t->c) << i);
		th_flush(t);
		th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	}
	assert_int_equal(t->c->dupacks, 0);
	assert_int_equal(th_mib(t, PH_MIB_tcp_fast_retransmits), 0);
	assert_true(th_mib(t, PH_MIB_tcp_persist_probes) >= 3);
	th_flush(t);
	t->peer_wnd = 1000;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 6);
}

static void
challenge_ack_rate_limited(void **state)
{
	struct th *t = *state;
	unsigned acks = 0;

	th_established(t);
	t->st.cfg.challenge_ack_limit = 100;
	for (unsigned i = 0; i < 1100; i++) {
		th_send(t, TCP_RST, R(t, 100), 0, NULL, 0);
		acks += th_pending(t);
		th_flush(t);
	}
	/* RFC 5961 7: a budget a second, drawn in [limit / 2, 3 limit / 2)
	 * so that it tells an off-path attacker nothing (RFC 5961 10). */
	assert_in_range(acks, 50, 149);
	assert_int_equal(th_mib(t, PH_MIB_tcp_challenge_acks), acks);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	th_advance(t, 1000);
	th_send(t, TCP_RST, R(t, 100), 0, NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
}

static void
ack_of_fin_alone_in_last_ack_with_old_ack(void **state)
{
	struct th *t = *state;

	th_last_ack(t);
	/* An old duplicate ACK (of the SYN) does not end LAST-ACK. */
	th_send(t, TCP_ACK, R(t, 2), L(t, 1), NULL, 0);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_LAST_ACK);
	th_send(t, TCP_ACK, R(t, 2), L(t, 2), NULL, 0);
	assert_int_equal(t->c->state, TCPS_CLOSED);
}

/* ==== options: more malformed and edge cases ==== */

struct optcase {
	const char *name;
	uint8_t opt[40];
	uint8_t len;
	bool syn;
	int parse; /* tcp_opt_parse's answer */
	bool mss_ok, ws_ok, ts_ok, sack_ok;
	uint16_t mss;
	uint8_t ws;
	uint8_t n_sack;
};

static const struct optcase optcases[] = {
        {"sack_blocks_ignored_on_syn", {5, 10, 0, 0, 0, 1, 0, 0, 0, 2}, 10, true, 0},
        {"sack_one_block", {1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2}, 12, false, 0, .n_sack = 1},
        {"sack_four_blocks",
         {5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0,
          4, 0,  0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8},
         34,
         false,
         0,
         .n_sack = 4},
        {"sack_no_block_ignored", {5, 2, 1, 1}, 4, false, 0},
        {"sack_len_past_end", {5, 18, 0, 0, 0, 1, 0, 0, 0, 2}, 10, false, -1},
        {"sackok_ignored_off_syn", {4, 2}, 2, false, 0},
        {"ws_ignored_off_syn", {3, 3, 7}, 3, false, 0},
        {"ws_shift_14", {3, 3, 14}, 3, true, 0, .ws_ok = true, .ws = 14},
        {"ws_shift_255_clamped", {3, 3, 255}, 3, true, 0, .ws_ok = true, .ws = 14},
        {"ts_on_syn", {8, 10, 0, 0, 0, 9, 0, 0, 0, 0}, 10, true, 0, .ts_ok = true},
        {"ts_off_syn", {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7}, 12, false, 0, .ts_ok = true},
        {"ts_len_past_end", {8, 10, 0, 0, 0, 9}, 6, false, -1},
        {"mss_zero_value", {2, 4, 0, 0}, 4, true, 0, .mss_ok = true, .mss = 0},
        {"mss_twice_last_wins",
         {2, 4, 5, 0xb4, 2, 4, 2, 0x18},
         8,
         true,
         0,
         .mss_ok = true,
         .mss = 536},
        {"all_four_on_syn",
         {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7},
         20,
         true,
         0,
         .mss_ok = true,
         .ws_ok = true,
         .ts_ok = true,
         .sack_ok = true,
         .mss = 1460,
         .ws = 7},
        {"forty_nops",
         {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
          1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
         40,
         true,
         0},
        {"unknown_len_zero", {1, 1, 99, 0}, 4, true, -1},
        {"unknown_len_two_empty", {99, 2, 2, 4, 5, 0xb4}, 6, true, 0, .mss_ok = true, .mss = 1460},
        {"lone_kind_at_end", {2, 4, 5, 0xb4, 8}, 5, true, -1},
        {"eol_ends_before_bad_len",
         {2, 4, 5, 0xb4, 0, 2, 0},
         7,
         true,
         0,
         .mss_ok = true,
         .mss = 1460},
        {"len_exactly_to_end", {1, 99, 3, 0}, 4, true, 0},
        {"len_one_past_end", {1, 99, 4, 0}, 4, true, -1},
};

static void
opt_parse_case(void **state)
{
	const struct optcase *oc = *state;
	struct tcp_opts o;

	assert_int_equal(tcp_opt_parse(oc->opt, oc->len, oc->syn, &o), oc->parse);
	if (oc->parse != 0)
		return;
	assert_int_equal(o.mss_ok, oc->mss_ok);
	if (oc->mss_ok)
		assert_int_equal(o.mss, oc->mss);
	assert_int_equal(o.ws_ok, oc->ws_ok);
	if (oc->ws_ok)
		assert_int_equal(o.ws, oc->ws);
	assert_int_equal(o.ts_ok, oc->ts_ok);
	assert_int_equal(o.sack_ok, oc->sack_ok);
	assert_int_equal(o.n_sack, oc->n_sack);
	for (uint8_t k = 0; k < o.n_sack; k++) {
		assert_int_equal(o.sack[k].l, 2u * k + 1);
		assert_int_equal(o.sack[k].r, 2u * k + 2);
	}
}

static void
malformed_options_data_dropped(void **state)
{
	struct th *t = *state;
	const uint8_t bad[4] = {TCPOPT_NOP, TCPOPT_TIMESTAMPS, 12, 0};

	th_established(t);
	th_inject(t, TCP_ACK | TCP_PSH, R(t, 1), L(t, 1), 1000, "data", 4, bad, 4);
	th_expect_none(t);
	assert_int_equal(t->c->rbuf.len, 0);
	assert_int_equal(th_dropped(t, PH_DROP_TCP_BAD_OPTIONS), 1);
	/* The same data with sound options is taken. */
	th_send(t, TCP_ACK | TCP_PSH, R(t, 1), L(t, 1), "data", 4);
	assert_int_equal(t->c->rbuf.len, 4);
	th_flush(t);
}

static void
malformed_options_synack_dropped(void **state)
{
	struct th *t = *state;
	const uint8_t bad[4] = {TCPOPT_MSS, 1, 5, 0xb4};

	th_syn_sent(t);
	th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 1), 1000, NULL, 0, bad, 4);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_SYN_SENT);
	assert_int_equal(th_dropped(t, PH_DROP_TCP_BAD_OPTIONS), 1);
	th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 1), 1000, NULL, 0, NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
}

static void
tiny_mss_floored(void **state)
{
	struct th *t = *state;
	const uint8_t o[4] = {TCPOPT_MSS, 4, 0, 10};
	static uint8_t buf[200];

	passive_open_with(t, o, 4, 1000);
	assert_int_equal(t->c->mss, 88);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), 200);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 88);
	th_expect(t, TCP_ACK, L(t, 89), R(t, 1), 88);
	th_expect(t, TCP_ACK, L(t, 177), R(t, 1), 24);
}

/* ==== sequence wraparound in the send direction ==== */

static void
established_iss(struct th *t, uint32_t iss)
{
	th_syn_received(t);
	th_shift_iss(t, iss);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
}

static void
send_across_wrap(void **state)
{
	struct th *t = *state;
	static uint8_t buf[2000];
	const struct th_rec *r;

	established_iss(t, 0xfffffc00u);
	pattern(buf, 0, sizeof(buf));
	assert_int_equal(th_write(t, buf, sizeof(buf)), 2000);
	for (unsigned i = 0; i < 3; i++) {
		r = th_expect(t, TCP_ACK, L(t, 1 + 536 * i), R(t, 1), 536);
		assert_memory_equal(r->data, buf + 536 * i, 536);
	}
	r = th_expect(t, TCP_ACK | TCP_PSH, L(t, 1609), R(t, 1), 392);
	assert_memory_equal(r->data, buf + 1608, 392);
	assert_true(L(t, 1073) < 0x1000u); /* past the wrap */
	th_send(t, TCP_ACK, R(t, 1), L(t, 1073), NULL, 0);
	assert_int_equal(t->c->snd_una, L(t, 1073));
	assert_int_equal(t->c->sbuf.len, 2000 - 1072);
	th_expect_none(t);
	/* The rest is lost: go back to SND.UNA, after the wrap. */
	th_advance(t, 200);
	r = th_expect(t, TCP_ACK, L(t, 1073), R(t, 1), 536);
	assert_memory_equal(r->data, buf + 1072, 536);
	th_send(t, TCP_ACK, R(t, 1), L(t, 2001), NULL, 0);
	assert_int_equal(t->c->sbuf.len, 0);
	assert_false(tcp_timer_armed(t->c, TCP_T_REXMT));
}

static void
send_wrap_fin_and_close(void **state)
{
	struct th *t = *state;

	established_iss(t, 0xfffffffau); /* data from ...fb, FIN at 0x4 */
	assert_int_equal(write_more(t, "0123456789", 10), 10);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK | TCP_PSH, 0xfffffffbu, R(t, 1), 10);
	th_send(t, TCP_ACK, R(t, 1), L(t, 5), NULL, 0); /* part of the data */
	assert_int_equal(t->c->state, TCPS_FIN_WAIT_1);
	th_send(t, TCP_ACK | TCP_FIN, R(t, 1), L(t, 12), NULL, 0);
	th_expect(t, TCP_ACK, 0x6u, R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
}

static void
send_wrap_iss_all_ones(void **state)
{
	struct th *t = *state;

	established_iss(t, 0xffffffffu); /* the first data byte is 0 */
	assert_int_equal(th_write(t, "ab", 2), 2);
	th_expect(t, TCP_ACK | TCP_PSH, 0, R(t, 1), 2);
	/* An ACK of our ISS (below SND.UNA) is old, not an ACK of 4 GB. */
	th_send(t, TCP_ACK, R(t, 1), 0xffffffffu, NULL, 0);
	assert_int_equal(t->c->snd_una, 0);
	assert_int_equal(t->c->sbuf.len, 2);
	th_send(t, TCP_ACK, R(t, 1), 2, NULL, 0);
	assert_int_equal(t->c->sbuf.len, 0);
}

static void
send_wrap_active(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	th_shift_iss(t, 0xfffffff0u);
	th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 1), 1000, NULL, 0, NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	static uint8_t buf[100];
	assert_int_equal(th_write(t, buf, sizeof(buf)), 100);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 100);
	/* An ACK past what we sent, across the wrap: ACKed, not taken. */
	th_send(t, TCP_ACK, R(t, 1), L(t, 200), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 101), R(t, 1), 0);
	assert_int_equal(t->c->sbuf.len, 100);
	th_send(t, TCP_ACK, R(t, 1), L(t, 101), NULL, 0);
	assert_int_equal(t->c->sbuf.len, 0);
}

static void
fast_retransmit_across_wrap(void **state)
{
	struct th *t = *state;
	static uint8_t buf[536 * 8];

	established_iss(t, 0xfffff000u);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + 536 * 7), NULL, 0); /* across */
	th_flush(t);
	for (unsigned i = 0; i < 3; i++)
		th_send(t, TCP_ACK, R(t, 1), L(t, 1 + 536 * 7), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1 + 536 * 7), R(t, 1), 536);
	assert_true(t->c->flags & TF_RECOVERY);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + 536 * 8), NULL, 0);
	assert_false(t->c->flags & TF_RECOVERY);
	th_flush(t);
}

/* ==== tcp_poll() in each state ==== */

static void
poll_syn_sent_and_refused(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	assert_int_equal(poll_bits(t), 0);
	th_inject(t, TCP_RST | TCP_ACK, 0, L(t, 1), 0, NULL, 0, NULL, 0);
	assert_int_equal(poll_bits(t), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
}

static void
poll_established_data(void **state)
{
	struct th *t = *state;
	uint8_t b[4];

	th_established_active(t);
	assert_int_equal(poll_bits(t), EPOLLOUT);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "ab", 2);
	assert_int_equal(poll_bits(t), EPOLLIN | EPOLLOUT);
	assert_int_equal(tcp_readable(t->c), 2);
	assert_int_equal(th_read(t, b, sizeof(b)), 2);
	assert_int_equal(poll_bits(t), EPOLLOUT);
	th_flush(t);
}

static void
poll_close_wait_and_last_ack(void **state)
{
	struct th *t = *state;

	th_close_wait(t);
	assert_int_equal(poll_bits(t), EPOLLIN | EPOLLRDHUP | EPOLLOUT);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_flush(t);
	assert_int_equal(poll_bits(t), EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLOUT);
	th_send(t, TCP_ACK, R(t, 2), L(t, 2), NULL, 0);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(poll_bits(t), EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLOUT);
	assert_int_equal(th_write(t, "x", 1), -EPIPE);
}

static void
poll_fin_wait_and_time_wait(void **state)
{
	struct th *t = *state;

	th_fin_wait_1(t);
	assert_int_equal(poll_bits(t), EPOLLOUT); /* a write fails at once */
	assert_int_equal(th_write(t, "x", 1), -EPIPE);
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	assert_int_equal(poll_bits(t), EPOLLOUT);
	th_send(t, TCP_ACK | TCP_FIN, R(t, 1), L(t, 2), NULL, 0);
	th_flush(t);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
	assert_int_equal(poll_bits(t), EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLOUT);
}

static void
poll_reset(void **state)
{
	struct th *t = *state;
	uint8_t b[4];

	th_established(t);
	th_send(t, TCP_RST, R(t, 1), 0, NULL, 0);
	assert_int_equal(poll_bits(t), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
	assert_int_equal(th_read(t, b, sizeof(b)), -ECONNRESET);
	assert_int_equal(th_write(t, "x", 1), -ECONNRESET);
}

static void
poll_listener_and_shut_rd(void **state)
{
	struct th *t = *state;

	th_syn_received(t);
	assert_int_equal(tcp_poll(t->lsn), 0);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_true(tcp_poll(t->lsn) & EPOLLIN);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
	assert_int_equal(tcp_poll(t->lsn), 0);
	assert_int_equal(tcp_shutdown(t->c, SHUT_RD), 0);
	assert_int_equal(poll_bits(t), EPOLLIN | EPOLLRDHUP | EPOLLOUT);
}

/* ==== tcp_get_info() ==== */

static void
info_established_with_options(void **state)
{
	struct th *t = *state;
	struct tcp_info ti;
	static uint8_t buf[3000];

	th_established(t);
	tcp_get_info(t->c, &ti);
	assert_int_equal(ti.tcpi_state, 1); /* TCP_ESTABLISHED */
	assert_int_equal(ti.tcpi_options, TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE);
	assert_int_equal(ti.tcpi_snd_wscale, 7);
	assert_int_equal(ti.tcpi_rcv_wscale, 3);
	assert_int_equal(ti.tcpi_snd_mss, 1448);
	assert_int_equal(ti.tcpi_rcv_mss, 1460);
	assert_int_equal(ti.tcpi_advmss, 1460);
	assert_int_equal(ti.tcpi_rto, 200000); /* the handshake's 0 ms sample, floored */
	assert_int_equal(ti.tcpi_snd_cwnd, 10);
	assert_int_equal(ti.tcpi_snd_ssthresh, 0x7fffffff);
	assert_int_equal(ti.tcpi_unacked, 0);
	assert_int_equal(ti.tcpi_total_retrans, 0);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), 3000);
	th_flush(t);
	tcp_get_info(t->c, &ti);
	assert_int_equal(ti.tcpi_unacked, 3);
	th_advance(t, 200);
	th_flush(t);
	tcp_get_info(t->c, &ti);
	assert_int_equal(ti.tcpi_retransmits, 1);
	assert_int_equal(ti.tcpi_backoff, 1);
	assert_int_equal(ti.tcpi_total_retrans, 1);
	assert_int_equal(ti.tcpi_rto, 400000);
	assert_int_equal(ti.tcpi_snd_cwnd, 1);
	assert_int_equal(ti.tcpi_snd_ssthresh, 2); /* max(flight / 2, 2 MSS) */
}

static void
info_state_numbers(void **state)
{
	struct th *t = *state;
	struct tcp_info ti;

	th_closing(t);
	tcp_get_info(t->c, &ti);
	assert_int_equal(ti.tcpi_state, 11); /* TCP_CLOSING */
	tcp_get_info(t->lsn, &ti);
	assert_int_equal(ti.tcpi_state, 10); /* TCP_LISTEN */
	th_send(t, TCP_ACK, R(t, 2), L(t, 2), NULL, 0);
	tcp_get_info(t->c, &ti);
	assert_int_equal(ti.tcpi_state, 6); /* TCP_TIME_WAIT */
	th_advance(t, 2 * t->cfg.msl_ms);
	tcp_get_info(t->c, &ti);
	assert_int_equal(ti.tcpi_state, 7); /* TCP_CLOSE */
}

static void
info_without_options(void **state)
{
	struct th *t = *state;
	struct tcp_info ti;

	th_syn_sent(t);
	tcp_get_info(t->c, &ti);
	assert_int_equal(ti.tcpi_state, 2); /* TCP_SYN_SENT */
	th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 1), 1000, NULL, 0, NULL, 0);
	th_flush(t);
	tcp_get_info(t->c, &ti);
	assert_int_equal(ti.tcpi_options, 0);
	assert_int_equal(ti.tcpi_snd_wscale, 0);
	assert_int_equal(ti.tcpi_snd_mss, 536);
	assert_int_equal(ti.tcpi_rtt, 0);      /* a sample of 0 ms */
	assert_int_equal(ti.tcpi_rto, 200000); /* the floor */
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_flush(t);
	tcp_get_info(t->c, &ti);
	assert_int_equal(ti.tcpi_state, 8); /* TCP_CLOSE_WAIT */
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_flush(t);
	tcp_get_info(t->c, &ti);
	assert_int_equal(ti.tcpi_state, 9); /* TCP_LAST_ACK */
}

/* ==== TSO: several segments in one send ==== */

/* The path cuts sends (TSO): new data leaves as whole segments in one send
 * of tso_segsz = MSS, counted as that many segments; the short tail goes on
 * its own; a retransmission is one segment; a port that turns out not to
 * cut sends (-EMSGSIZE) stops it. */
static void
tso_sends_whole_segments(void **state)
{
	struct th *t = *state;
	static uint8_t buf[1448 * 5 + 100];
	const struct th_rec *r;
	uint32_t mss;
	uint64_t out;

	t->tso_max = 65455;
	th_established(t);
	mss = tcp_data_mss(t->c);
	assert_int_equal(mss, 1448);
	assert_int_equal(t->c->tso_max, 65455);
	out = th_mib(t, PH_MIB_tcpOutSegs);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 5 * mss);
	assert_int_equal(r->o.tso_segsz, mss);
	r = th_expect(t, TCP_ACK | TCP_PSH, L(t, 1 + 5 * mss), R(t, 1), 100);
	assert_int_equal(r->o.tso_segsz, 0); /* one segment: nothing to cut */
	th_expect_none(t);
	assert_int_equal(th_mib(t, PH_MIB_tcpOutSegs) - out, 6);
	assert_int_equal(th_mib(t, PH_MIB_tcp_tso_sends), 1);
	/* Nothing acknowledged: the RTO resends one segment. */
	th_advance(t, t->c->rto);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), mss);
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + sizeof(buf)), NULL, 0);
	th_flush(t);
	/* The route moved to a port without TSO: the send is refused, and
	 * from then on data goes a segment at a time. */
	t->emit_err = -EMSGSIZE;
	assert_int_equal(th_write(t, buf, 3 * mss), (ssize_t)(3 * mss));
	t->emit_err = 0;
	assert_int_equal(t->c->tso_max, 0);
	th_flush(t);
	th_advance(t, t->c->rto);
	th_expect(t, TCP_ACK, L(t, 1 + sizeof(buf)), R(t, 1), mss);
	th_expect_none(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + sizeof(buf) + mss), NULL, 0);
	for (unsigned k = 1; k < 3; k++)
		th_expect(t, TCP_ACK, L(t, 1 + sizeof(buf) + k * mss), R(t, 1), mss);
	th_expect_none(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + sizeof(buf) + 3 * mss), NULL, 0);
	th_flush(t);
}

/* ==== RSS-aware active opens (flow/flow.h) ==== */

/* Lcore 2 of a host with two workers, RSS over four queues: every port
 * connect() takes from the shared range brings the replies back to lcore
 * 2, for many destinations; with the range used up, the lcore's own slice;
 * with that used up too, EADDRNOTAVAIL. */
static void
connect_picks_ports_owned_here(void **state)
{
	struct th *t = *state;
	struct tcp_conn *held[64];
	unsigned n_held = 0, owned = 0;
	int user = 0;

	rss_key_symmetric(&t->rss, 40);
	rss_reta_spread(&t->rss, 128, 4);
	t->n_workers = 2;
	t->lcore = 2;
	t->st.rss_lo = 40000;
	t->st.rss_hi = 60999;
	for (uint32_t d = 0; d < 300; d++) {
		uint32_t raddr = 0xc6130000u + d; /* 198.19.0.0/16 */
		uint16_t rport = (uint16_t)(1000 + d * 7);
		struct tcp_conn *c = tcp_conn_new(&t->st, 0, &user);

		assert_non_null(c);
		assert_int_equal(tcp_connect(c, raddr, rport), -EINPROGRESS);
		assert_true(c->lport >= 40000 && c->lport <= 60999);
		assert_int_equal(th_owner_is_here(t, c->laddr, c->lport, raddr, rport), 1);
		tcp_close(c); /* in SYN-SENT: gone at once */
		th_flush(t);
	}
	/* Exhaustion toward one destination: eight shared ports (those
	 * owned here) and a slice of four. */
	for (uint16_t p = 50000; p < 50008; p++)
		owned += (unsigned)th_owner_is_here(t, TH_LADDR, p, TH_RADDR, 7777);
	t->st.rss_lo = 50000;
	t->st.rss_hi = 50007;
	t->st.eph_lo = 33000;
	t->st.eph_hi = 33003;
	for (;;) {
		struct tcp_conn *c = tcp_conn_new(&t->st, 0, &user);
		int rc;

		assert_non_null(c);
		rc = tcp_connect(c, TH_RADDR, 7777);
		if (rc == -EADDRNOTAVAIL) {
			tcp_close(c);
			break;
		}
		assert_int_equal(rc, -EINPROGRESS);
		assert_true(n_held < 64);
		held[n_held++] = c;
	}
	assert_int_equal(n_held, owned + 4);
	for (unsigned i = 0; i < n_held; i++)
		tcp_close(held[i]);
	th_flush(t);
}

int
main(void)
{
	static struct CMUnitTest tests[256];
	static struct CMUnitTest optests[64];
	size_t n = 0, no = 0;

#define T(f)                                                                                       \
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(f, th_setup, th_teardown)
#define TO(f)                                                                                      \
	tests[n++] =                                                                               \
	        (struct CMUnitTest)cmocka_unit_test_setup_teardown(f, th_setup_opts, th_teardown)
#define TS(f, s) tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(f, s, th_teardown)
	/* defects */
	TO(active_open_window_scale);
	T(dup_segment_ending_at_rcv_nxt_acked);
	T(close_wait_fin_retransmit_acked);
	T(last_ack_fin_retransmit_acked);
	T(closing_fin_retransmit_acked);
	T(active_synack_retransmit_acked);
	T(fin_wait_1_fin_acked_after_rto);
	T(last_ack_orphan_freed_after_rto);
	T(newreno_partial_ack_resends_one_segment);
	T(fast_retransmit_after_recovery_ended_at_recover);
	T(small_window_override_timeout);
	T(rto_with_zero_window_sends_something);
	T(persist_unanswered_gives_up);
	T(user_timeout_persist_after_idle);
	T(shut_rd_data_with_fin);
	TO(sack_blocks_most_recent_first);
	T(newreno_full_ack_cwnd);
	T(nagle_not_bypassed_by_delayed_ack);
	T(synack_retransmitted_rto_3s);
	TO(scaled_window_right_edge_never_moves_left);
	T(out_of_window_acks_throttled);
	T(cwnd_inflation_does_not_wrap);
	T(persist_stops_when_nothing_waits);
	T(iss_zero_reads_end_of_stream);
	/* closes after an active open */
	T(active_close_to_time_wait);
	T(active_passive_close);
	T(active_simultaneous_close);
	T(active_fin_wait_1_fin_ack_together);
	T(active_close_data_and_fin_one_segment);
	T(active_orphan_close_freed);
	/* SYN-SENT */
	T(synack_with_data_beyond_the_ring);
	T(syn_sent_rst_with_wrong_ack_ignored);
	T(syn_sent_bad_synack_then_good);
	T(syn_retransmitted_rto_3s);
	T(simultaneous_open_rst_refused);
	TO(active_open_timestamps_echoed);
	/* data and FIN */
	T(data_and_fin_in_one_segment);
	T(handshake_ack_with_data_and_fin);
	T(fin_wait_2_data_and_fin);
	T(fin_retransmitted_closing);
	T(fin_retransmitted_last_ack);
	T(fin_retransmitted_fin_wait_1_active);
	T(fin_with_data_retransmitted_together);
	T(last_ack_retries_exhausted);
	/* windows */
	T(zero_window_probe_received);
	T(rcv_window_update_after_reads);
	T(receiver_sws_window_in_steps);
	T(sender_sws_half_max_window);
	TS(ws_shift_0_for_64k_minus_1, setup_ws_64k_minus_1);
	TS(ws_shift_1_for_64k, setup_ws_64k);
	TO(ws_peer_shift_14_and_15);
	TO(ws_peer_shift_0);
	TS(ws_our_shift_14, setup_ws_512m);
	/* delayed ACK, Nagle, cork */
	T(delack_custom_value);
	T(delack_every_second_segment);
	T(nagle_with_fin);
	T(cork_with_fin);
	T(cork_full_segments_go);
	/* RTO */
	TO(rto_from_timestamps);
	T(rto_from_timed_segment);
	T(karn_no_sample_from_retransmission);
	T(backoff_reset_new_rto);
	/* SACK and out-of-order data */
	TS(sack_four_blocks_without_timestamps, setup_sack);
	TO(sack_blocks_shrink_as_holes_fill);
	T(ofo_merge_bridging);
	T(ofo_merge_overlaps);
	T(ofo_hole_filled_in_two_steps);
	T(ofo_fin_then_data_then_hole);
	/* timers */
	T(time_wait_custom_msl);
	T(time_wait_custom_msl_orphan_freed);
	T(fin_wait_2_orphan_custom_msl);
	T(keepalive_in_close_wait);
	T(keepalive_answered_in_close_wait);
	T(keepalive_stops_after_shutdown);
	T(keepalive_inherited_from_listener);
	T(no_timer_when_idle);
	T(user_timeout_during_persist);
	T(persist_probe_not_counted_as_dupack);
	T(challenge_ack_rate_limited);
	T(ack_of_fin_alone_in_last_ack_with_old_ack);
	/* options */
	T(malformed_options_data_dropped);
	T(malformed_options_synack_dropped);
	T(tiny_mss_floored);
	/* wraparound, send direction */
	T(send_across_wrap);
	T(send_wrap_fin_and_close);
	T(send_wrap_iss_all_ones);
	T(send_wrap_active);
	T(fast_retransmit_across_wrap);
	/* poll and info */
	T(poll_syn_sent_and_refused);
	T(poll_established_data);
	T(poll_close_wait_and_last_ack);
	T(poll_fin_wait_and_time_wait);
	T(poll_reset);
	T(poll_listener_and_shut_rd);
	TO(info_established_with_options);
	TO(tso_sends_whole_segments);
	T(connect_picks_ports_owned_here);
	T(info_state_numbers);
	T(info_without_options);
	for (size_t i = 0; i < sizeof(optcases) / sizeof(optcases[0]); i++)
		optests[no++] = (struct CMUnitTest){
		        .name = optcases[i].name,
		        .test_func = opt_parse_case,
		        .initial_state = (void *)(uintptr_t)&optcases[i],
		};
	int fails = _cmocka_run_group_tests("tcp_more", tests, n, NULL, NULL);
	fails += _cmocka_run_group_tests("tcp_more_options", optests, no, NULL, NULL);
	return fails;
}
