/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scripted TCP tests, part 4: a stack under attack. SYN cookies (RFC 4987)
 * made and checked, with the options they carry in the timestamp; forged or
 * stale cookies reset; the SYN queue bounded; the PMTU black-hole fallback
 * (RFC 4821 / RFC 2923); ICMP errors validated (RFC 5927); the SYN cases of
 * RFC 5961 4 that trimming hid; a closed port answering nonsense with a RST.
 * The RFC 5961 matrix of RSTs and ACKs is in test_tcp.c, the challenge-ACK
 * budget in test_tcp_more.c.
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

/* A SYN from port RPORT with MSS 1460, SACK-permitted, timestamps (TSVAL)
 * and window scale 7 when TS is set; only MSS otherwise. */
static void
syn_from(struct th *t, uint16_t rport, uint32_t seq, bool ts, uint32_t tsval)
{
	uint8_t opt[20] = {TCPOPT_MSS, 4, 0x05, 0xb4};
	uint8_t n = 4;

	if (ts) {
		opt[n++] = TCPOPT_SACK_OK;
		opt[n++] = TCPOLEN_SACK_OK;
		opt[n++] = TCPOPT_TIMESTAMPS;
		opt[n++] = TCPOLEN_TIMESTAMPS;
		tcp_wr32(opt + n, tsval);
		tcp_wr32(opt + n + 4, 0);
		n += 8;
		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_WSCALE;
		opt[n++] = TCPOLEN_WSCALE;
		opt[n++] = 7;
	}
	th_inject_from(t, rport, TCP_SYN, seq, 0, 65535, NULL, 0, opt, n);
}

/* The ACK that completes a handshake: ACK = ISS + 1, and a timestamp option
 * echoing TSECR when TS. */
static void
ack_from(struct th *t, uint16_t rport, uint32_t seq, uint32_t ack, bool ts, uint32_t tsval,
         uint32_t tsecr)
{
	uint8_t opt[12] = {TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMPS, TCPOLEN_TIMESTAMPS};
	struct tcp_seg s = {
	        .saddr = TH_RADDR,
	        .daddr = TH_LADDR,
	        .sport = rport,
	        .dport = TH_LPORT,
	        .seq = seq,
	        .ack = ack,
	        .flags = TCP_ACK,
	        .wnd = 1000,
	};

	if (ts) {
		tcp_wr32(opt + 4, tsval);
		tcp_wr32(opt + 8, tsecr);
		s.opt = opt;
		s.optlen = 12;
	}
	tcp_input(&t->st, &s);
}

/* The next segment: a SYN-ACK acknowledging ACK, whatever its ISN. */
static const struct th_rec *
expect_synack(struct th *t, uint32_t ack)
{
	const struct th_rec *r;

	assert_true(th_pending(t) > 0);
	r = &t->rec[t->next_rec++];
	assert_int_equal(r->o.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(r->o.ack, ack);
	assert_int_equal(r->o.len, 0);
	return r;
}

static int
setup_opts(void **state)
{
	return th_setup_opts(state);
}

/* syncookies = 2: no state for the SYN; the ACK makes the connection with
 * the MSS, window scale, SACK and timestamps the SYN had. */
static void
cookie_round_trip_with_options(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;
	uint32_t cookie, tsval;
	struct tcp_conn *c;

	t->st.cfg.syncookies = 2;
	th_listen(t);
	syn_from(t, 40001, 5000, true, 777);
	r = expect_synack(t, 5001);
	cookie = r->o.seq;
	assert_true(r->opts.mss_ok && r->opts.ts_ok && r->opts.ws_ok && r->opts.sack_ok);
	assert_int_equal(r->opts.tsecr, 777);
	tsval = r->opts.tsval;
	assert_int_equal(tsval & 0xf, 7);     /* the peer's scale */
	assert_int_equal(tsval & 0x10, 0x10); /* its SACK-permitted */
	assert_int_equal(t->lsn->n_synq, 0);
	assert_int_equal(t->st.n_conns, 1); /* the listener only */
	assert_int_equal(th_mib(t, PH_MIB_tcp_syncookies_sent), 1);
	/* The ACK. */
	ack_from(t, 40001, 5001, cookie + 1, true, 778, tsval);
	assert_int_equal(th_mib(t, PH_MIB_tcp_syncookies_recv), 1);
	assert_int_equal(t->lsn->n_acceptq, 1);
	c = tcp_accept(t->lsn, &t->user);
	assert_non_null(c);
	t->c = c;
	assert_int_equal(c->state, TCPS_ESTABLISHED);
	assert_int_equal(c->iss, cookie);
	assert_int_equal(c->snd_ws, 7);
	assert_true(c->flags & TF_SACK_OK);
	assert_true(c->flags & TF_TS_OK);
	assert_int_equal(c->peer_mss, 1460);
	assert_int_equal(c->ts_recent, 778);
	th_expect_none(t);
}

/* Without timestamps, a cookie carries only the MSS: the SYN-ACK offers
 * neither window scale nor SACK (RFC 4987 3.6). */
static void
cookie_without_timestamps(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	t->st.cfg.syncookies = 2;
	th_listen(t);
	syn_from(t, 40002, 9000, false, 0);
	r = expect_synack(t, 9001);
	assert_true(r->opts.mss_ok);
	assert_false(r->opts.ts_ok || r->opts.ws_ok || r->opts.sack_ok);
	ack_from(t, 40002, 9001, r->o.seq + 1, false, 0, 0);
	t->c = tcp_accept(t->lsn, &t->user);
	assert_non_null(t->c);
	assert_false(t->c->flags & (TF_TS_OK | TF_WS_OK | TF_SACK_OK));
	assert_int_equal(t->c->peer_mss, 1460);
	/* No SYN-ACK was timed: no RTT sample of ~0 ms, the RTO stays 1 s. */
	assert_int_equal(t->c->srtt, 0);
	assert_int_equal(t->c->rto, 1000);
	th_expect_none(t);
}

/* A forged cookie, a cookie for another tuple and a stale one: RST, and
 * no connection. */
static void
cookie_forged_or_stale_reset(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;
	uint32_t cookie;

	t->st.cfg.syncookies = 2;
	th_listen(t);
	syn_from(t, 40003, 100, false, 0);
	r = expect_synack(t, 101);
	cookie = r->o.seq;
	ack_from(t, 40003, 101, cookie + 2, false, 0, 0); /* off by one */
	th_expect(t, TCP_RST, cookie + 2, -1, 0);
	ack_from(t, 40004, 101, cookie + 1, false, 0, 0); /* another port */
	th_expect(t, TCP_RST, cookie + 1, -1, 0);
	ack_from(t, 40003, 201, cookie + 1, false, 0, 0); /* another ISN */
	th_expect(t, TCP_RST, cookie + 1, -1, 0);
	th_advance(t, 3 * 64000);
	th_flush(t);
	ack_from(t, 40003, 101, cookie + 1, false, 0, 0); /* too old */
	th_expect(t, TCP_RST, cookie + 1, -1, 0);
	assert_int_equal(th_mib(t, PH_MIB_tcp_syncookies_failed), 4);
	assert_int_equal(t->lsn->n_acceptq, 0);
	assert_int_equal(t->st.n_conns, 1);
}

/* syncookies = 1 (the default): state while the SYN queue has room,
 * cookies once it is full; none once the accept queue alone is full. */
static void
cookies_only_when_queue_full(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	t->st.cfg.syncookies = 1;
	th_listen(t);
	assert_int_equal(tcp_listen(t->lsn, 1), 0);
	syn_from(t, 40010, 1, false, 0);
	r = expect_synack(t, 2);
	(void)r;
	assert_int_equal(t->lsn->n_synq, 1);
	assert_int_equal(th_mib(t, PH_MIB_tcp_syncookies_sent), 0);
	syn_from(t, 40011, 1, false, 0);
	expect_synack(t, 2);
	assert_int_equal(t->lsn->n_synq, 1);
	assert_int_equal(th_mib(t, PH_MIB_tcp_syncookies_sent), 1);
	th_flush(t);
}

/* With syncookies = 1 a cookie is taken only while cookies are being given
 * out: at other times a right guess of 24 bits buys no connection. */
static void
cookie_refused_without_overflow(void **state)
{
	struct th *t = *state;
	struct tcp_seg syn = {
	        .saddr = TH_RADDR,
	        .daddr = TH_LADDR,
	        .sport = 40030,
	        .dport = TH_LPORT,
	        .seq = 7000,
	        .flags = TCP_SYN,
	};
	uint32_t cookie;

	t->st.cfg.syncookies = 1;
	th_listen(t);
	cookie = tcp_cookie_make(&t->st, &syn, 1460); /* what a flood would have made */
	ack_from(t, 40030, 7001, cookie + 1, false, 0, 0);
	th_expect(t, TCP_RST, cookie + 1, -1, 0);
	assert_int_equal(t->lsn->n_acceptq, 0);
	assert_int_equal(th_mib(t, PH_MIB_tcp_syncookies_recv), 0);
}

/* Full-sized segments vanish after the handshake (a PMTU black hole):
 * after TCP_BLACKHOLE_RTOS timeouts the MSS halves, and the smaller
 * segment gets through. */
static void
blackhole_clamps_mss(void **state)
{
	struct th *t = *state;
	static uint8_t buf[1448 * 4];
	uint32_t mss;

	th_established(t);
	mss = t->c->mss;
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	th_flush(t);
	for (unsigned i = 0; i < TCP_BLACKHOLE_RTOS; i++) {
		th_advance(t, t->c->rto << t->c->backoff);
		th_flush(t);
	}
	assert_int_equal(th_mib(t, PH_MIB_tcp_blackhole_mss_clamps), 1);
	assert_int_equal(t->c->mss, mss / 2);
	th_advance(t, t->c->rto << t->c->backoff);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), tcp_data_mss(t->c));
	th_flush(t);
	/* While clamped, ICMP names a path MTU below the old MSS: the retry
	 * after TCP_BLACKHOLE_RETRY_MS goes to that, not back above it. */
	mss = t->c->mss; /* clamped again by the last RTO */
	tcp_icmp_input(&t->st, 0, TH_LADDR, TH_LPORT, TH_RADDR, TH_RPORT, L(t, 1), 3, 4, 1200);
	assert_int_equal(t->c->mss, mss);
	assert_int_equal(t->c->mss_unclamped, 1160);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + sizeof(buf)), NULL, 0);
	th_flush(t);
	th_advance(t, TCP_BLACKHOLE_RETRY_MS + 1);
	assert_int_equal(th_write(t, buf, 10), 10);
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 11 + sizeof(buf)), NULL, 0);
	assert_int_equal(t->c->mss, 1160);
	th_flush(t);
}

/* RFC 5927: an ICMP error quoting a sequence number outside what is in
 * flight is ignored (it may be forged); source quench is ignored; a
 * "fragmentation needed" with an absurd MTU is ignored. */
static void
icmp_validated(void **state)
{
	struct th *t = *state;
	static uint8_t buf[1000];
	uint32_t mss;

	th_established(t);
	mss = t->c->mss;
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	th_flush(t);
	/* Outside [SND.UNA, SND.MAX). */
	tcp_icmp_input(&t->st, 0, TH_LADDR, TH_LPORT, TH_RADDR, TH_RPORT, L(t, 5000), 3, 4, 576);
	assert_int_equal(t->c->mss, mss);
	/* Source quench (type 4): deprecated (RFC 6633), ignored. */
	tcp_icmp_input(&t->st, 0, TH_LADDR, TH_LPORT, TH_RADDR, TH_RPORT, L(t, 1), 4, 0, 0);
	assert_int_equal(t->c->soft_error, 0);
	/* An MTU below 68 (RFC 791's minimum). */
	tcp_icmp_input(&t->st, 0, TH_LADDR, TH_LPORT, TH_RADDR, TH_RPORT, L(t, 1), 3, 4, 60);
	assert_int_equal(t->c->mss, mss);
	/* A real one. */
	tcp_icmp_input(&t->st, 0, TH_LADDR, TH_LPORT, TH_RADDR, TH_RPORT, L(t, 1), 3, 4, 400);
	assert_int_equal(t->c->mss, 360);
	assert_int_equal(th_mib(t, PH_MIB_tcp_pmtu_updates), 1);
	th_flush(t);
}

/* The peer's first SYN again on an established connection that has
 * received nothing yet (it ends at RCV.NXT, so trimming makes it old):
 * still a challenge ACK (RFC 5961 4.2). */
static void
first_syn_again_challenged(void **state)
{
	struct th *t = *state;

	th_established(t);
	th_send(t, TCP_SYN, R(t, 0), 0, NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(th_mib(t, PH_MIB_tcp_challenge_acks), 1);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
}

/* A closed port answers SYN+FIN with a RST as Linux does (so it looks like
 * any closed port to a scanner); a listener drops it. */
static void
synfin_closed_port_reset(void **state)
{
	struct th *t = *state;
	struct tcp_seg s = {
	        .saddr = TH_RADDR,
	        .daddr = TH_LADDR,
	        .sport = 40020,
	        .dport = 9,
	        .seq = 1000,
	        .flags = TCP_SYN | TCP_FIN,
	        .wnd = 1000,
	};

	tcp_input(&t->st, &s);
	th_expect(t, TCP_RST | TCP_ACK, 0, 1002, 0);
	th_listen(t);
	s.dport = TH_LPORT;
	tcp_input(&t->st, &s);
	th_expect_none(t);
	assert_int_equal(th_dropped(t, PH_DROP_TCP_BAD_FLAGS), 1);
}

#define T(f)  cmocka_unit_test_setup_teardown(f, th_setup, th_teardown)
#define TO(f) cmocka_unit_test_setup_teardown(f, setup_opts, th_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        TO(cookie_round_trip_with_options), T(cookie_without_timestamps),
	        T(cookie_forged_or_stale_reset),    T(cookies_only_when_queue_full),
	        TO(blackhole_clamps_mss),           T(icmp_validated),
	        T(first_syn_again_challenged),      T(synfin_closed_port_reset),
	        T(cookie_refused_without_overflow),
	};

	return cmocka_run_group_tests_name("tcp_attack", tests, NULL, NULL);
}
