/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scripted TCP tests, part 1: the state machine of RFC 9293 with RFC 5961's
 * challenge ACKs. A matrix puts a connection in every synchronized state and
 * injects each kind of segment at the window edges (exact RST, in-window RST,
 * out-of-window RST, SYN, old SYN, ACK of unsent data, duplicate data, data
 * past the window, data without ACK, in-window data); then opens, closes and
 * sequence arithmetic at the wrap. Every case ends in th_teardown(): no
 * connection and no buffer left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <cmocka.h>

#include "tcp_harness.h"

/* ---- sequence arithmetic (known answers at the wrap) ---- */

static void
seq_wrap(void **state)
{
	(void)state;
	assert_true(seq_lt(0xfffffff0u, 0x10u));
	assert_true(seq_gt(0x10u, 0xfffffff0u));
	assert_true(seq_leq(5, 5) && seq_geq(5, 5));
	assert_false(seq_lt(5, 5));
	assert_true(seq_lt(0x7ffffffeu, 0x7fffffffu));
	assert_true(seq_lt(0xffffffffu, 0));
	assert_int_equal(seq_max(0xfffffff0u, 0x10u), 0x10u);
	assert_int_equal(seq_min(0xfffffff0u, 0x10u), 0xfffffff0u);
	assert_true(seq_in(0, 0xffffff00u, 0x100u));
	assert_false(seq_in(0x100u, 0xffffff00u, 0x100u));
}

/* SipHash-2-4 known answer from the reference implementation: key 00..0f,
 * message 00..0e (15 bytes). */
static void
siphash_known_answer(void **state)
{
	uint8_t key[16], msg[15];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_true(tcp_siphash(key, msg, 15) == 0xa129ca6149be45e5ull);
	assert_true(tcp_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ull);
}

/* ---- the state matrix ---- */

enum kind {
	K_RST_EXACT,
	K_RST_IN_WINDOW,
	K_RST_OUT_OF_WINDOW,
	K_SYN_IN_WINDOW,
	K_SYN_OLD,
	K_ACK_UNSENT,
	K_DATA_OLD,
	K_DATA_PAST_WINDOW,
	K_DATA_NO_ACK,
	K_DATA_IN_WINDOW,
	K_ACK_TOO_OLD,
	K_FIN_PAST_WINDOW,
	K_MAX
};

static const char *const kind_names[K_MAX] = {
        "rst_exact",   "rst_in_window",  "rst_out_of_window", "syn_in_window",
        "syn_old",     "ack_unsent",     "data_old",          "data_past_window",
        "data_no_ack", "data_in_window", "ack_too_old",       "fin_past_window",
};

struct state_row {
	const char *name;
	void (*setup)(struct th *t);
	uint8_t state;
	uint32_t rcv_nxt, snd_nxt; /* relative to the ISNs */
};

static const struct state_row rows[] = {
        {"syn_received", th_syn_received, TCPS_SYN_RECEIVED, 1, 1},
        {"established", th_established, TCPS_ESTABLISHED, 1, 1},
        {"established_active", th_established_active, TCPS_ESTABLISHED, 1, 1},
        {"fin_wait_1", th_fin_wait_1, TCPS_FIN_WAIT_1, 1, 2},
        {"fin_wait_2", th_fin_wait_2, TCPS_FIN_WAIT_2, 1, 2},
        {"close_wait", th_close_wait, TCPS_CLOSE_WAIT, 2, 1},
        {"closing", th_closing, TCPS_CLOSING, 2, 2},
        {"last_ack", th_last_ack, TCPS_LAST_ACK, 2, 2},
        {"time_wait", th_time_wait, TCPS_TIME_WAIT, 2, 2},
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

struct matrix_case {
	const struct state_row *row;
	enum kind kind;
	char name[64];
};

static struct matrix_case cases[N_ROWS * K_MAX];

static bool
receives_data(uint8_t s)
{
	return s == TCPS_ESTABLISHED || s == TCPS_FIN_WAIT_1 || s == TCPS_FIN_WAIT_2;
}

static void
matrix(void **state)
{
	struct th *t = *state;
	const struct matrix_case *mc = (const struct matrix_case *)t->user_case;
	const struct state_row *row = mc->row;
	uint32_t rn, sn;
	uint8_t d[100];
	bool synced;

	memset(d, 'x', sizeof(d));
	row->setup(t);
	th_expect_none(t);
	rn = R(t, row->rcv_nxt);
	sn = L(t, row->snd_nxt);
	synced = row->state != TCPS_SYN_RECEIVED;
	switch (mc->kind) {
	case K_RST_EXACT: {
		uint64_t resets = th_mib(t, PH_MIB_tcpEstabResets);

		th_send(t, TCP_RST, rn, 0, NULL, 0);
		th_expect_none(t);
		if (row->state == TCPS_TIME_WAIT) {
			/* RFC 1337: no TIME-WAIT assassination. */
			assert_int_equal(t->c->state, TCPS_TIME_WAIT);
			assert_int_equal(th_dropped(t, PH_DROP_TCP_RST_TIME_WAIT), 1);
			break;
		}
		if (row->state == TCPS_SYN_RECEIVED) {
			/* Never accepted: the stack freed it; the listener stays. */
			assert_int_equal(t->lsn->n_synq, 0);
			assert_int_equal(t->st.n_conns, 1);
			t->c = NULL;
			break;
		}
		assert_int_equal(t->c->state, TCPS_CLOSED);
		if (row->state == TCPS_ESTABLISHED || row->state == TCPS_CLOSE_WAIT) {
			assert_int_equal(t->c->error, ECONNRESET);
			assert_int_equal(th_mib(t, PH_MIB_tcpEstabResets), resets + 1);
			assert_true(tcp_poll(t->c) & EPOLLHUP);
		} else if (row->state == TCPS_FIN_WAIT_1 || row->state == TCPS_FIN_WAIT_2) {
			assert_int_equal(t->c->error, ECONNRESET);
		} else {
			assert_int_equal(t->c->error, 0);
		}
		break;
	}
	case K_RST_IN_WINDOW:
		th_send(t, TCP_RST, rn + 100, 0, NULL, 0);
		if (row->state == TCPS_TIME_WAIT) {
			th_expect_none(t); /* RFC 1337: ignored, unchallenged */
			assert_int_equal(th_dropped(t, PH_DROP_TCP_RST_TIME_WAIT), 1);
			break;
		}
		th_expect(t, TCP_ACK, sn, rn, 0); /* RFC 5961 3.2 challenge */
		assert_int_equal(t->c->state, row->state);
		assert_int_equal(th_dropped(t, PH_DROP_TCP_RST_IN_WINDOW), 1);
		break;
	case K_RST_OUT_OF_WINDOW:
		th_send(t, TCP_RST, rn + 100000, 0, NULL, 0);
		th_expect_none(t);
		assert_int_equal(t->c->state, row->state);
		assert_int_equal(th_dropped(t, PH_DROP_TCP_RST_OUT_OF_WINDOW), 1);
		break;
	case K_SYN_IN_WINDOW:
		th_send(t, TCP_SYN, rn + 10, 0, NULL, 0);
		if (row->state == TCPS_TIME_WAIT) {
			/* Newer than the old connection: RFC 6191 lets the
			 * listener take it; the old one is gone. */
			th_expect(t, TCP_SYN | TCP_ACK, t->rec[t->next_rec].o.seq, rn + 11, 0);
			assert_int_equal(t->c->state, TCPS_CLOSED);
			break;
		}
		th_expect(t, TCP_ACK, sn, rn, 0); /* RFC 5961 4.2 challenge */
		assert_int_equal(t->c->state, row->state);
		break;
	case K_SYN_OLD:
		th_send(t, TCP_SYN, t->irs - 5000, 0, NULL, 0);
		th_expect(t, TCP_ACK, sn, rn, 0);
		assert_int_equal(t->c->state, row->state);
		break;
	case K_ACK_UNSENT:
		th_send(t, TCP_ACK, rn, sn + 1000, NULL, 0);
		if (!synced) {
			th_expect(t, TCP_RST, sn + 1000, -1, 0); /* RFC 9293 3.10.7.4 */
			assert_int_equal(t->c->state, TCPS_SYN_RECEIVED);
		} else {
			th_expect(t, TCP_ACK, sn, rn, 0); /* RFC 5961 5.2 */
			assert_int_equal(t->c->state, row->state);
		}
		break;
	case K_DATA_OLD:
		/* Wholly before RCV.NXT: a duplicate, answered with an ACK. */
		th_send(t, TCP_ACK, rn - 50, L(t, 1), d, 20);
		if (!synced) {
			/* Unacceptable: ACKed and dropped, ACK field and all. */
			th_expect(t, TCP_ACK, sn, rn, 0);
			assert_int_equal(t->c->state, TCPS_SYN_RECEIVED);
		} else {
			th_expect(t, TCP_ACK, sn, rn, 0);
			assert_int_equal(t->c->state, row->state);
		}
		break;
	case K_DATA_PAST_WINDOW:
		th_send(t, TCP_ACK, rn + 200000, L(t, 1), d, 20);
		th_expect(t, TCP_ACK, sn, rn, 0);
		assert_int_equal(t->c->state, row->state);
		break;
	case K_DATA_NO_ACK:
		th_send(t, TCP_PSH, rn, 0, d, 20);
		th_expect_none(t);
		assert_int_equal(t->c->state, row->state);
		assert_int_equal(th_dropped(t, PH_DROP_TCP_NO_ACK), 1);
		break;
	case K_DATA_IN_WINDOW: {
		/* Acknowledges our SYN, not our FIN: the state stays. */
		uint32_t ack = L(t, 1);

		th_send(t, TCP_ACK | TCP_PSH, rn, ack, d, 20);
		if (!synced) {
			/* The ACK completes the handshake and the data is taken. */
			assert_int_equal(t->c->state, TCPS_ESTABLISHED);
			assert_int_equal(t->c->rbuf.len, 20);
			th_expect_none(t); /* delayed */
			th_advance(t, t->cfg.delack_ms);
			th_expect(t, TCP_ACK, sn, rn + 20, 0);
		} else if (receives_data(row->state)) {
			uint8_t b[100];

			assert_int_equal(t->c->rbuf.len, 20);
			th_expect_none(t); /* delayed ACK */
			th_advance(t, t->cfg.delack_ms - 1);
			th_expect_none(t);
			th_advance(t, 1);
			th_expect(t, TCP_ACK, sn, rn + 20, 0);
			assert_int_equal(th_read(t, b, sizeof(b)), 20);
			assert_memory_equal(b, d, 20);
			if (row->state == TCPS_FIN_WAIT_2 || row->state == TCPS_FIN_WAIT_1)
				assert_int_equal(t->c->state, row->state);
		} else {
			/* After the peer's FIN nothing new can come: ACK it. */
			th_expect(t, TCP_ACK, sn, rn, 0);
			assert_int_equal(t->c->rbuf.len, 0);
		}
		break;
	}
	case K_ACK_TOO_OLD:
		/* RFC 5961 5.2: below SND.UNA - MAX.SND.WND. */
		th_send(t, TCP_ACK, rn, sn - 100000, NULL, 0);
		if (!synced) {
			th_expect(t, TCP_RST, sn - 100000, -1, 0);
		} else {
			th_expect(t, TCP_ACK, sn, rn, 0);
			assert_int_equal(t->c->state, row->state);
		}
		break;
	case K_FIN_PAST_WINDOW:
		th_send(t, TCP_FIN | TCP_ACK, rn + 200000, sn, NULL, 0);
		th_expect(t, TCP_ACK, sn, rn, 0);
		assert_int_equal(t->c->state, row->state);
		break;
	default:
		fail();
	}
	th_expect_none(t);
}

/* ---- opens ---- */

static void
passive_open(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(th_mib(t, PH_MIB_tcpPassiveOpens), 1);
	assert_int_equal(th_mib(t, PH_MIB_tcpCurrEstab), 1);
	assert_true(tcp_poll(t->c) & EPOLLOUT);
	assert_false(tcp_poll(t->c) & EPOLLIN);
}

static void
active_open(void **state)
{
	struct th *t = *state;

	th_established_active(t);
	assert_int_equal(th_mib(t, PH_MIB_tcpActiveOpens), 1);
	assert_true(t->c->lport >= 32768 && t->c->lport <= 60999);
	assert_true(tcp_poll(t->c) & EPOLLOUT);
}

static void
listen_ack_gets_rst(void **state)
{
	struct th *t = *state;

	th_listen(t);
	th_inject(t, TCP_ACK, 5, 777, 1000, NULL, 0, NULL, 0);
	th_expect(t, TCP_RST, 777, -1, 0);
	th_inject(t, TCP_RST, 5, 0, 1000, NULL, 0, NULL, 0);
	th_expect_none(t);
	th_inject(t, TCP_FIN, 5, 0, 1000, NULL, 0, NULL, 0);
	th_expect_none(t);
	assert_int_equal(th_dropped(t, PH_DROP_TCP_LISTEN_BAD), 3);
}

static void
closed_port_rst(void **state)
{
	struct th *t = *state;

	/* No listener: RST <SEQ=0><ACK=SEG.SEQ+SEG.LEN> for a SYN, RST
	 * <SEQ=SEG.ACK> for an ACK (RFC 9293 3.10.7.1). */
	th_inject(t, TCP_SYN, 100, 0, 1000, NULL, 0, NULL, 0);
	th_expect(t, TCP_RST | TCP_ACK, 0, 101, 0);
	th_inject(t, TCP_ACK, 100, 4242, 1000, "ab", 2, NULL, 0);
	th_expect(t, TCP_RST, 4242, -1, 0);
	th_inject(t, TCP_FIN, 100, 0, 1000, "ab", 2, NULL, 0);
	th_expect(t, TCP_RST | TCP_ACK, 0, 103, 0);
	th_inject(t, TCP_RST, 100, 0, 1000, NULL, 0, NULL, 0);
	th_expect_none(t);
	assert_int_equal(th_mib(t, PH_MIB_tcpOutRsts), 3);
	assert_int_equal(th_dropped(t, PH_DROP_TCP_NO_SOCKET), 4);
}

static void
syn_fin_dropped(void **state)
{
	struct th *t = *state;

	th_listen(t);
	th_inject(t, TCP_SYN | TCP_FIN, 100, 0, 1000, NULL, 0, NULL, 0);
	th_inject(t, TCP_SYN | TCP_RST, 100, 0, 1000, NULL, 0, NULL, 0);
	th_expect_none(t);
	assert_int_equal(th_dropped(t, PH_DROP_TCP_BAD_FLAGS), 2);
	assert_int_equal(t->lsn->n_synq, 0);
}

static void
to_broadcast_dropped(void **state)
{
	struct th *t = *state;
	struct tcp_seg s = {
	        .saddr = TH_RADDR,
	        .daddr = 0xc61200ffu,
	        .sport = TH_RPORT,
	        .dport = TH_LPORT,
	        .seq = 1,
	        .flags = TCP_SYN,
	        .not_unicast = true,
	};

	th_listen(t);
	tcp_input(&t->st, &s);
	th_expect_none(t);
	assert_int_equal(th_dropped(t, PH_DROP_TCP_NOT_UNICAST), 1);
}

static void
syn_sent_rst_refused(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	th_inject(t, TCP_RST | TCP_ACK, 0, L(t, 1), 0, NULL, 0, NULL, 0);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, ECONNREFUSED);
	assert_int_equal(th_mib(t, PH_MIB_tcpAttemptFails), 1);
	assert_true(tcp_poll(t->c) & EPOLLERR);
}

static void
syn_sent_rst_without_ack_ignored(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	th_inject(t, TCP_RST, 0, 0, 0, NULL, 0, NULL, 0);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_SYN_SENT);
}

static void
syn_sent_bad_ack(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	/* An ACK that does not cover our SYN: RST <SEQ=SEG.ACK>. */
	th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 5), 1000, NULL, 0, NULL, 0);
	th_expect(t, TCP_RST, L(t, 5), -1, 0);
	th_inject(t, TCP_ACK, t->irs, L(t, 0), 1000, NULL, 0, NULL, 0);
	th_expect(t, TCP_RST, L(t, 0), -1, 0);
	/* ... and with RST set, nothing (and the connection stays). */
	th_inject(t, TCP_RST | TCP_ACK, t->irs, L(t, 5), 1000, NULL, 0, NULL, 0);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_SYN_SENT);
}

static void
syn_sent_plain_ack_dropped(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	th_inject(t, TCP_ACK, t->irs, L(t, 1), 1000, NULL, 0, NULL, 0);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_SYN_SENT);
}

static void
syn_ack_with_data(void **state)
{
	struct th *t = *state;
	uint8_t b[8];

	th_syn_sent(t);
	th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 1), 1000, "hi", 2, NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 3), 0); /* SYN and 2 bytes */
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	assert_int_equal(th_read(t, b, sizeof(b)), 2);
	assert_memory_equal(b, "hi", 2);
	/* SYN with FIN is dropped in every state, as FreeBSD does. */
	th_inject(t, TCP_SYN | TCP_FIN, R(t, 3), 0, 1000, NULL, 0, NULL, 0);
	th_expect_none(t);
	assert_int_equal(th_dropped(t, PH_DROP_TCP_BAD_FLAGS), 1);
}

static void
simultaneous_open(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	/* The peer's SYN crosses ours (RFC 9293 figure 8). */
	th_inject(t, TCP_SYN, t->irs, 0, 1000, NULL, 0, NULL, 0);
	th_expect(t, TCP_SYN | TCP_ACK, L(t, 0), R(t, 1), 0);
	assert_int_equal(t->c->state, TCPS_SYN_RECEIVED);
	th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 1), 1000, NULL, 0, NULL, 0);
	/* Its SYN is old now; the ACK part opens the connection. */
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	th_flush(t);
}

static void
syn_retransmit_and_timeout(void **state)
{
	struct th *t = *state;
	uint64_t start = t->st.now;

	th_syn_sent(t);
	/* RFC 6298: 1 s, then doubling: 1, 2, 4, 8, 16, 32; the 7th expiry
	 * gives up (syn_retries = 6). */
	for (unsigned i = 0; i < 6; i++) {
		th_advance(t, (1000u << i) - 1);
		th_expect_none(t);
		th_advance(t, 1);
		th_expect(t, TCP_SYN, L(t, 0), -1, 0);
	}
	th_advance(t, 64000);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, ETIMEDOUT);
	assert_int_equal(t->st.now - start, 127000);
	assert_int_equal(th_mib(t, PH_MIB_tcpAttemptFails), 1);
}

static void
synack_retransmit_then_given_up(void **state)
{
	struct th *t = *state;

	th_syn_received(t);
	for (unsigned i = 0; i < 5; i++) {
		th_advance(t, 1000u << i);
		th_expect(t, TCP_SYN | TCP_ACK, L(t, 0), R(t, 1), 0);
	}
	th_advance(t, 32000);
	th_expect_none(t);
	assert_int_equal(t->lsn->n_synq, 0);
	assert_int_equal(t->st.n_conns, 1); /* the listener only */
	t->c = NULL;
}

static void
syn_received_dup_syn_resends_synack(void **state)
{
	struct th *t = *state;

	th_syn_received(t);
	th_inject(t, TCP_SYN, t->irs, 0, 1000, NULL, 0, NULL, 0);
	th_expect(t, TCP_SYN | TCP_ACK, L(t, 0), R(t, 1), 0);
	assert_int_equal(t->c->state, TCPS_SYN_RECEIVED);
}

static void
listen_backlog_bounded(void **state)
{
	struct th *t = *state;

	th_listen(t);
	t->st.cfg.syncookies = 0; /* test_tcp_attack.c has the cookies */
	assert_int_equal(tcp_listen(t->lsn, 2), 0);
	for (unsigned i = 0; i < 4; i++) {
		struct tcp_seg s = {
		        .saddr = TH_RADDR,
		        .daddr = TH_LADDR,
		        .sport = (uint16_t)(TH_RPORT + i),
		        .dport = TH_LPORT,
		        .seq = 1000 * i,
		        .flags = TCP_SYN,
		        .wnd = 1000,
		};
		tcp_input(&t->st, &s);
	}
	assert_int_equal(th_pending(t), 2);
	assert_int_equal(t->lsn->n_synq, 2);
	assert_int_equal(th_dropped(t, PH_DROP_TCP_LISTEN_OVERFLOW), 2);
	assert_int_equal(th_mib(t, PH_MIB_tcp_listen_overflows), 2);
	th_flush(t);
}

static void
listener_close_resets_unaccepted(void **state)
{
	struct th *t = *state;

	th_syn_received(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->lsn->n_acceptq, 1);
	assert_true(tcp_poll(t->lsn) & EPOLLIN);
	tcp_close(t->lsn);
	t->lsn = NULL;
	th_expect(t, TCP_RST | TCP_ACK, L(t, 1), R(t, 1), 0);
	t->c = NULL;
}

/* ---- closes ---- */

static void
orderly_close_active(void **state)
{
	struct th *t = *state;

	th_time_wait(t);
	assert_true(tcp_poll(t->c) & EPOLLRDHUP);
	/* 2 MSL (60 s with MSL 30 s) and it is gone. */
	th_advance(t, 2 * t->cfg.msl_ms - 1);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
	th_advance(t, 1);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, 0);
}

static void
orderly_close_passive(void **state)
{
	struct th *t = *state;
	uint8_t b[4];

	th_last_ack(t);
	assert_int_equal(th_read(t, b, 4), 0); /* end of stream */
	th_send(t, TCP_ACK, R(t, 2), L(t, 2), NULL, 0);
	th_expect_none(t);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, 0);
	assert_int_equal(th_mib(t, PH_MIB_tcpCurrEstab), 0);
}

static void
simultaneous_close(void **state)
{
	struct th *t = *state;

	th_closing(t);
	th_send(t, TCP_ACK, R(t, 2), L(t, 2), NULL, 0);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
	th_expect_none(t);
}

static void
fin_wait_1_fin_ack_together(void **state)
{
	struct th *t = *state;

	th_fin_wait_1(t);
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
}

static void
time_wait_refin_acked_and_restarted(void **state)
{
	struct th *t = *state;

	th_time_wait(t);
	th_advance(t, 30000);
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	/* 2 MSL starts again from the retransmitted FIN. */
	th_advance(t, 59999);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
	th_advance(t, 1);
	assert_int_equal(t->c->state, TCPS_CLOSED);
}

static void
fin_retransmitted(void **state)
{
	struct th *t = *state;

	th_fin_wait_1(t);
	/* RTO is the 200 ms floor after the handshake's sample. */
	th_advance(t, 200);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	th_advance(t, 399);
	th_expect_none(t);
	th_advance(t, 1);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(th_mib(t, PH_MIB_tcpRetransSegs), 2);
}

static void
half_close_still_receives(void **state)
{
	struct th *t = *state;
	uint8_t b[16];

	th_fin_wait_2(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), "hello", 5);
	assert_int_equal(th_read(t, b, sizeof(b)), 5);
	assert_memory_equal(b, "hello", 5);
	assert_int_equal(th_write(t, "x", 1), -EPIPE);
	th_flush(t);
}

static void
close_with_unread_data_resets(void **state)
{
	struct th *t = *state;

	th_established(t);
	th_send(t, TCP_ACK | TCP_PSH, R(t, 1), L(t, 1), "abc", 3);
	th_flush(t);
	tcp_close(t->c);
	th_expect(t, TCP_RST | TCP_ACK, L(t, 1), R(t, 4), 0);
	t->c = NULL;
	assert_int_equal(th_dropped(t, PH_DROP_TCP_DATA_AFTER_CLOSE), 1);
}

static void
linger_zero_aborts(void **state)
{
	struct th *t = *state;

	th_established(t);
	t->c->flags |= TF_LINGER0;
	tcp_close(t->c);
	th_expect(t, TCP_RST | TCP_ACK, L(t, 1), R(t, 1), 0);
	t->c = NULL;
	th_expect_none(t);
}

static void
data_after_close_resets(void **state)
{
	struct th *t = *state;

	th_established(t);
	tcp_close(t->c);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), "late", 4);
	th_expect(t, TCP_RST | TCP_ACK, L(t, 2), -1, 0);
	t->c = NULL;
}

/* A server that closes first: TIME-WAIT keeps no rings (they went when the
 * socket did), and the stack's memory count says so. */
static void
orphan_time_wait_frees_rings(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(t->st.mem, t->c->sbuf.cap + t->c->rbuf.cap);
	assert_true(t->st.mem > 0);
	tcp_close(t->c);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	th_send(t, TCP_ACK | TCP_FIN, R(t, 1), L(t, 2), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
	assert_null(t->c->rbuf.buf);
	assert_null(t->c->sbuf.buf);
	assert_int_equal(t->st.mem, 0);
	/* A retransmitted FIN is still acknowledged without them. */
	th_send(t, TCP_ACK | TCP_FIN, R(t, 1), L(t, 2), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	t->c = NULL;
}

/* A socket still open in TIME-WAIT keeps its rings (EOF is still to be
 * read) until it is closed. */
static void
time_wait_rings_freed_at_close(void **state)
{
	struct th *t = *state;

	th_time_wait(t);
	assert_non_null(t->c->rbuf.buf);
	tcp_close(t->c);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
	assert_null(t->c->rbuf.buf);
	assert_int_equal(t->st.mem, 0);
	t->c = NULL;
}

static void
orphan_fin_wait_2_times_out(void **state)
{
	struct th *t = *state;

	th_established(t);
	tcp_close(t->c);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	assert_int_equal(t->st.n_conns, 2);
	th_advance(t, 2 * t->cfg.msl_ms);
	assert_int_equal(t->st.n_conns, 1);
	t->c = NULL;
}

static void
shutdown_rd_discards(void **state)
{
	struct th *t = *state;
	uint8_t b[8];

	th_established(t);
	assert_int_equal(tcp_shutdown(t->c, SHUT_RD), 0);
	assert_int_equal(th_read(t, b, 8), 0);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "data", 4);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 5), 0);
	assert_int_equal(th_read(t, b, 8), 0);
}

static void
abort_sends_rst(void **state)
{
	struct th *t = *state;

	th_established(t);
	tcp_abort(t->c);
	th_expect(t, TCP_RST | TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(t->c->state, TCPS_CLOSED);
}

/* ---- data ---- */

static void
send_and_ack(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(th_write(t, "hello", 5), 5);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 5);
	th_send(t, TCP_ACK, R(t, 1), L(t, 6), NULL, 0);
	assert_int_equal(t->c->sbuf.len, 0);
	assert_false(tcp_timer_armed(t->c, TCP_T_REXMT));
}

static void
send_segments_mss(void **state)
{
	struct th *t = *state;
	static uint8_t buf[5000];

	th_established(t);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(th_write(t, buf, sizeof(buf)), 5000);
	/* MSS 536 (the peer offered none): 9 full segments and a tail. */
	for (unsigned i = 0; i < 9; i++) {
		const struct th_rec *r = th_expect(t, TCP_ACK, L(t, 1 + 536 * i), R(t, 1), 536);

		assert_memory_equal(r->data, buf + 536 * i, 536);
	}
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1 + 536 * 9), R(t, 1), 5000 - 536 * 9);
}

static void
receive_in_order(void **state)
{
	struct th *t = *state;
	uint8_t b[64];

	th_established(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "abc", 3);
	th_send(t, TCP_ACK, R(t, 4), L(t, 1), "def", 3);
	/* The second segment is ACKed at once (every second segment). */
	th_expect(t, TCP_ACK, L(t, 1), R(t, 7), 0);
	assert_true(tcp_poll(t->c) & EPOLLIN);
	assert_int_equal(th_read(t, b, sizeof(b)), 6);
	assert_memory_equal(b, "abcdef", 6);
}

static void
receive_out_of_order(void **state)
{
	struct th *t = *state;
	uint8_t b[64];

	th_established(t);
	th_send(t, TCP_ACK, R(t, 4), L(t, 1), "def", 3);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0); /* a duplicate ACK at once */
	assert_int_equal(th_mib(t, PH_MIB_tcp_ofo_queued), 1);
	assert_false(tcp_poll(t->c) & EPOLLIN);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "abc", 3);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 7), 0); /* the hole filled: at once */
	assert_int_equal(th_read(t, b, sizeof(b)), 6);
	assert_memory_equal(b, "abcdef", 6);
}

static void
ofo_kept_when_reader_drains(void **state)
{
	struct th *t = *state;
	uint8_t b[64];

	th_established(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "abc", 3);
	th_send(t, TCP_ACK, R(t, 7), L(t, 1), "ghi", 3); /* ahead of a hole */
	/* The reader takes everything in order, emptying the ring's front. */
	assert_int_equal(th_read(t, b, sizeof(b)), 3);
	th_send(t, TCP_ACK, R(t, 4), L(t, 1), "def", 3);
	assert_int_equal(th_read(t, b, sizeof(b)), 6);
	assert_memory_equal(b, "defghi", 6);
	th_flush(t);
}

static void
receive_overlapping(void **state)
{
	struct th *t = *state;
	uint8_t b[64];

	th_established(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "abcd", 4);
	th_send(t, TCP_ACK, R(t, 3), L(t, 1), "cdefg", 5); /* overlaps 2 */
	th_flush(t);
	assert_int_equal(th_read(t, b, sizeof(b)), 7);
	assert_memory_equal(b, "abcdefg", 7);
}

static void
fin_out_of_order(void **state)
{
	struct th *t = *state;
	uint8_t b[8];

	th_established(t);
	th_send(t, TCP_ACK | TCP_FIN, R(t, 4), L(t, 1), "def", 3);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "abc", 3);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 8), 0);
	assert_int_equal(t->c->state, TCPS_CLOSE_WAIT);
	assert_int_equal(th_read(t, b, 8), 6);
	assert_int_equal(th_read(t, b, 8), 0);
}

static void
ofo_ranges_bounded(void **state)
{
	struct th *t = *state;

	th_established(t);
	/* Nine disjoint ranges: the ninth does not fit (TCP_OFO_MAX = 8). */
	for (unsigned i = 0; i < 9; i++)
		th_send(t, TCP_ACK, R(t, 11 + 20 * i), L(t, 1), "0123456789", 10);
	assert_int_equal(t->c->ofo.n, TCP_OFO_MAX);
	assert_int_equal(th_dropped(t, PH_DROP_TCP_OFO_FULL), 1);
	th_flush(t);
}

static void
data_trimmed_to_window(void **state)
{
	struct th *t = *state;
	static uint8_t big[20000];

	th_established(t);
	/* The window is the 16 KiB receive buffer: the rest is cut. */
	for (unsigned off = 0; off < sizeof(big); off += 1000)
		th_send(t, TCP_ACK, R(t, 1 + off), L(t, 1), big + off, 1000);
	assert_int_equal(t->c->rbuf.len, 16384);
	th_flush(t);
}

static void
zero_window_advertised_then_update(void **state)
{
	struct th *t = *state;
	static uint8_t big[16384], out[16384];
	const struct th_rec *r;

	th_established(t);
	for (unsigned off = 0; off < sizeof(big); off += 1024)
		th_send(t, TCP_ACK, R(t, 1 + off), L(t, 1), big + off, 1024);
	th_flush(t);
	th_advance(t, 100);
	th_flush(t);
	th_send(t, TCP_ACK, R(t, 1 + 16384), L(t, 1), "z", 1);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 1 + 16384), 0);
	assert_int_equal(r->o.wnd, 0);
	/* Reading half the buffer opens the window: a window update goes out. */
	assert_int_equal(th_read(t, out, 8192), 8192);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 1 + 16384), 0);
	assert_int_equal(r->o.wnd, 8192);
}

static void
window_never_shrinks(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	th_established(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "ab", 2);
	th_advance(t, t->cfg.delack_ms);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 3), 0);
	/* The buffer holds 2 bytes, but the right edge stays where it was:
	 * a 2-byte step is less than min(MSS, buffer/2) (SWS avoidance). */
	assert_int_equal(r->o.wnd, 16384 - 2);
	assert_true(seq_geq(R(t, 3) + r->o.wnd, R(t, 1) + 16384));
}

/* ---- Nagle, cork, SWS ---- */

static void
nagle_holds_small_segment(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(th_write(t, "a", 1), 1);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 1);
	assert_int_equal(th_write(t, "b", 1), 1);
	assert_int_equal(th_write(t, "c", 1), 1);
	th_expect_none(t); /* unacknowledged data is out: wait */
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 2), R(t, 1), 2);
}

static void
nodelay_sends_at_once(void **state)
{
	struct th *t = *state;

	th_established(t);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, "a", 1), 1);
	assert_int_equal(th_write(t, "b", 1), 1);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 1), 1);
}

static void
cork_holds_until_full_or_uncork(void **state)
{
	struct th *t = *state;
	static uint8_t buf[600];

	th_established(t);
	tcp_set_cork(t->c, true);
	assert_int_equal(th_write(t, "ab", 2), 2);
	th_expect_none(t);
	assert_int_equal(th_write(t, buf, 600), 600);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 536);
	th_expect_none(t);
	tcp_set_cork(t->c, false);
	th_expect(t, TCP_ACK, L(t, 537), R(t, 1), 66);
}

/* ---- retransmission ---- */

static void
rto_backoff_doubles(void **state)
{
	struct th *t = *state;

	th_established(t);
	/* The handshake gave an RTT sample of 0: RTO = the 200 ms floor. */
	assert_int_equal(t->c->rto, 200);
	assert_int_equal(th_write(t, "x", 1), 1);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1);
	for (unsigned i = 0; i < 5; i++) {
		th_advance(t, (200u << i) - 1);
		th_expect_none(t);
		th_advance(t, 1);
		th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1);
	}
	assert_int_equal(t->c->backoff, 5);
	assert_int_equal(th_mib(t, PH_MIB_tcpRetransSegs), 5);
	/* An ACK ends the back-off (RFC 6298 5.7 is for SYNs). */
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	assert_int_equal(t->c->backoff, 0);
	assert_false(tcp_timer_armed(t->c, TCP_T_REXMT));
}

static void
rto_capped_at_max(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(th_write(t, "x", 1), 1);
	th_flush(t);
	for (unsigned i = 0; i < 12; i++) {
		th_advance(t, tcp_rto_backed_off(t->c));
		th_flush(t);
	}
	assert_int_equal(tcp_rto_backed_off(t->c), t->cfg.rto_max_ms);
}

static void
retries_exhausted_timeout(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(th_write(t, "x", 1), 1);
	for (unsigned i = 0; i < 16 && t->c->state != TCPS_CLOSED; i++) {
		th_advance(t, tcp_rto_backed_off(t->c));
		th_flush(t);
	}
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, ETIMEDOUT);
	assert_int_equal(t->c->total_retrans, 15);
}

static void
user_timeout(void **state)
{
	struct th *t = *state;

	th_established(t);
	t->c->user_timeout_ms = 1000;
	assert_int_equal(th_write(t, "x", 1), 1);
	th_advance(t, 2000);
	th_flush(t);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, ETIMEDOUT);
}

static void
rto_goes_back_n(void **state)
{
	struct th *t = *state;
	static uint8_t buf[2000];

	th_established(t);
	assert_int_equal(th_write(t, buf, sizeof(buf)), 2000);
	th_flush(t);
	th_advance(t, 200);
	/* After a timeout: one segment (cwnd = 1 MSS) from SND.UNA. */
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 536);
	th_expect_none(t);
	assert_int_equal(t->c->cwnd, 536);
	th_send(t, TCP_ACK, R(t, 1), L(t, 537), NULL, 0);
	/* Slow start: two more. */
	th_expect(t, TCP_ACK, L(t, 537), R(t, 1), 536);
	th_expect(t, TCP_ACK, L(t, 1073), R(t, 1), 536);
	th_expect_none(t);
}

static void
fast_retransmit_newreno(void **state)
{
	struct th *t = *state;
	static uint8_t buf[536 * 8];

	th_established(t);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 8; i++)
		th_expect(t, TCP_ACK, L(t, 1 + 536 * i), R(t, 1), 536);
	/* The first segment is lost: three duplicate ACKs. */
	for (unsigned i = 0; i < 2; i++) {
		th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
		th_expect_none(t);
	}
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 536);
	assert_int_equal(th_mib(t, PH_MIB_tcp_fast_retransmits), 1);
	assert_true(t->c->flags & TF_RECOVERY);
	assert_int_equal(t->c->ssthresh, 536 * 4);
	/* A partial ACK (the third segment was lost too): it goes at once. */
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + 536 * 2), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1 + 536 * 2), R(t, 1), 536);
	assert_true(t->c->flags & TF_RECOVERY);
	/* The full ACK ends recovery with cwnd deflated to ssthresh. */
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + 536 * 8), NULL, 0);
	assert_false(t->c->flags & TF_RECOVERY);
	/* min(ssthresh, max(FlightSize, SMSS) + SMSS), RFC 6582 3.2 step 3 */
	assert_int_equal(t->c->cwnd, 1072);
	th_flush(t);
}

static void
limited_transmit(void **state)
{
	struct th *t = *state;
	static uint8_t buf[536 * 12];

	th_established(t);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 10; i++) /* the initial window */
		th_expect(t, TCP_ACK, L(t, 1 + 536 * i), R(t, 1), 536);
	th_expect_none(t);
	/* RFC 3042: one new segment for each of the first two duplicates. */
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1 + 536 * 10), R(t, 1), 536);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1 + 536 * 11), R(t, 1), 536);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 536); /* the fast retransmit */
	th_flush(t);
}

/* After an RTO with SACK, everything not SACKed is lost and goes again in
 * slow start, but what the receiver holds is skipped (RFC 6675 5.1). */
static void
rto_with_sack_skips_sacked(void **state)
{
	struct th *t = *state;
	static uint8_t buf[536 * 10];
	uint8_t opt[12] = {TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 10};

	th_established(t);
	t->c->flags |= TF_SACK_OK; /* as if negotiated */
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	th_flush(t);
	th_advance(t, 200);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 536);
	th_expect_none(t);
	assert_true(t->c->flags & TF_RTO_REC);
	/* The head arrived; segments 4 and 5 are held: cwnd 2 resends 2, 3. */
	tcp_wr32(opt + 4, L(t, 1 + 536 * 3));
	tcp_wr32(opt + 8, L(t, 1 + 536 * 5));
	th_inject(t, TCP_ACK, R(t, 1), L(t, 537), 16384, NULL, 0, opt, 12);
	th_expect(t, TCP_ACK, L(t, 537), R(t, 1), 536);
	th_expect(t, TCP_ACK, L(t, 1 + 536 * 2), R(t, 1), 536);
	th_expect_none(t);
	/* They arrive: the ACK jumps over 4 and 5, which never went again. */
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + 536 * 5), NULL, 0);
	for (unsigned i = 5; i < 9; i++)
		th_expect(t, TCP_ACK, L(t, 1 + 536 * i), R(t, 1), 536);
	th_expect_none(t);
	assert_int_equal(th_mib(t, PH_MIB_tcp_fast_retransmits), 0);
	assert_int_equal(th_mib(t, PH_MIB_tcp_sack_retransmits), 7);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + 536 * 10), NULL, 0);
	assert_false(t->c->flags & TF_RECOVERY);
	th_flush(t);
}

static void
dupacks_with_window_change_not_counted(void **state)
{
	struct th *t = *state;
	static uint8_t buf[536 * 4];

	th_established(t);
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	th_flush(t);
	for (unsigned i = 0; i < 3; i++) {
		t->peer_wnd = 16000 + i; /* a window update each time */
		th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	}
	th_expect_none(t);
	assert_int_equal(th_mib(t, PH_MIB_tcp_fast_retransmits), 0);
}

/* ---- persist ---- */

static void
persist_probes_back_off(void **state)
{
	struct th *t = *state;

	th_established(t);
	t->peer_wnd = 0;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(th_write(t, "abcdef", 6), 6);
	th_expect_none(t);
	assert_true(tcp_timer_armed(t->c, TCP_T_PERSIST));
	/* Probes at RTO (200 ms) doubling, each one byte beyond the window. */
	uint32_t d = 200;
	for (unsigned i = 0; i < 4; i++) {
		th_advance(t, d);
		th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1);
		th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0); /* still shut */
		th_expect_none(t);
		d *= 2;
	}
	assert_int_equal(th_mib(t, PH_MIB_tcp_persist_probes), 4);
	/* The window opens: everything goes. */
	t->peer_wnd = 1000;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 6);
	assert_false(tcp_timer_armed(t->c, TCP_T_PERSIST));
}

static void
persist_probe_accepted(void **state)
{
	struct th *t = *state;

	th_established(t);
	t->peer_wnd = 0;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(th_write(t, "abc", 3), 3);
	th_advance(t, 200);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1);
	/* The peer took the probe byte and opened its window. */
	t->peer_wnd = 1000;
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 2), R(t, 1), 2);
	th_send(t, TCP_ACK, R(t, 1), L(t, 4), NULL, 0);
	assert_int_equal(t->c->sbuf.len, 0);
}

/* ---- delayed ACK ---- */

static void
delayed_ack_timer(void **state)
{
	struct th *t = *state;

	th_established(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "a", 1);
	th_expect_none(t);
	th_advance(t, t->cfg.delack_ms);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 2), 0);
	assert_int_equal(th_mib(t, PH_MIB_tcp_delayed_acks), 1);
}

static void
quickack_at_start(void **state)
{
	struct th *t = *state;

	t->st.cfg.quickack = 2;
	th_established(t);
	/* The first two segments are ACKed at once, then the delayed-ACK
	 * rules apply (ACK every second segment or after the timer). */
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "a", 1);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 2), 0);
	th_send(t, TCP_ACK, R(t, 2), L(t, 1), "b", 1);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 3), 0);
	th_send(t, TCP_ACK, R(t, 3), L(t, 1), "c", 1);
	th_expect_none(t);
	th_advance(t, t->cfg.delack_ms);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 4), 0);
}

static void
delayed_ack_piggybacked(void **state)
{
	struct th *t = *state;

	th_established(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "a", 1);
	assert_int_equal(th_write(t, "b", 1), 1);
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1), R(t, 2), 1);
	th_advance(t, 1000);
	th_flush(t); /* the retransmission of "b" */
	assert_int_equal(th_mib(t, PH_MIB_tcp_delayed_acks), 0);
}

/* ---- keep-alive ---- */

static void
keepalive_probes_then_reset(void **state)
{
	struct th *t = *state;

	th_established(t);
	t->c->keepidle_ms = 10000;
	t->c->keepintvl_ms = 1000;
	t->c->keepcnt = 3;
	tcp_set_keepalive(t->c, true);
	th_advance(t, 9999);
	th_expect_none(t);
	th_advance(t, 1);
	th_expect(t, TCP_ACK, L(t, 0), R(t, 1), 0); /* SEQ = SND.NXT - 1 */
	for (unsigned i = 0; i < 2; i++) {
		th_advance(t, 1000);
		th_expect(t, TCP_ACK, L(t, 0), R(t, 1), 0);
	}
	th_advance(t, 1000);
	th_expect(t, TCP_RST | TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(t->c->error, ETIMEDOUT);
	assert_int_equal(th_mib(t, PH_MIB_tcp_keepalive_probes), 3);
}

static void
keepalive_answered(void **state)
{
	struct th *t = *state;

	th_established(t);
	t->c->keepidle_ms = 10000;
	t->c->keepintvl_ms = 1000;
	tcp_set_keepalive(t->c, true);
	th_advance(t, 10000);
	th_expect(t, TCP_ACK, L(t, 0), R(t, 1), 0);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect_none(t);
	th_advance(t, 9999);
	th_expect_none(t);
	th_advance(t, 1);
	th_expect(t, TCP_ACK, L(t, 0), R(t, 1), 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
}

static void
keepalive_probe_answered_by_stack(void **state)
{
	struct th *t = *state;

	th_established(t);
	/* A peer's probe (SEQ = RCV.NXT - 1, no data) earns an ACK. */
	th_send(t, TCP_ACK, R(t, 0), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
}

/* ---- options ---- */

static void
options_negotiated(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	th_syn_received(t);
	r = &t->rec[t->next_rec - 1];
	assert_true(r->opts.mss_ok);
	assert_int_equal(r->opts.mss, 1460);
	assert_true(r->opts.ws_ok);
	assert_int_equal(r->opts.ws, 3); /* 256 KiB buffer */
	assert_true(r->opts.ts_ok);
	assert_int_equal(r->opts.tsecr, 5000);
	assert_true(r->opts.sack_ok);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	assert_int_equal(t->c->snd_ws, 7);
	assert_true(t->c->flags & TF_TS_OK);
	assert_true(t->c->flags & TF_SACK_OK);
	assert_int_equal(tcp_data_mss(t->c), 1448);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
}

static void
options_not_offered_not_used(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	th_listen(t);
	th_inject(t, TCP_SYN, t->irs, 0, 1000, NULL, 0, NULL, 0);
	t->iss = t->rec[0].o.seq;
	r = th_expect(t, TCP_SYN | TCP_ACK, L(t, 0), R(t, 1), 0);
	assert_true(r->opts.mss_ok);
	assert_false(r->opts.ws_ok);
	assert_false(r->opts.ts_ok);
	assert_false(r->opts.sack_ok);
	t->c = TAILQ_FIRST(&t->lsn->synq);
	assert_int_equal(t->c->mss, 536);
}

static void
window_scaled_both_ways(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	th_established(t);
	t->peer_wnd = 100; /* << 7 = 12800 */
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->snd_wnd, 12800);
	assert_int_equal(th_write(t, "q", 1), 1);
	r = th_expect(t, TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 1);
	assert_int_equal((uint32_t)r->o.wnd << 3, 262144);
	assert_true(r->opts.ts_ok);
}

static void
timestamps_echoed(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	th_established(t);
	th_advance(t, 500);
	th_send(t, TCP_ACK | TCP_PSH, R(t, 1), L(t, 1), "hi", 2);
	th_advance(t, 40);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 3), 0);
	assert_true(r->opts.ts_ok);
	assert_int_equal(r->opts.tsecr, t->peer_ts);
}

static void
paws_rejects_old_timestamp(void **state)
{
	struct th *t = *state;
	uint8_t opt[12] = {TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMPS, 10};

	th_established(t);
	tcp_wr32(opt + 4, 4000); /* older than the 5001 already seen */
	th_inject(t, TCP_ACK, R(t, 1), L(t, 1), 1000, "old", 3, opt, 12);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(t->c->rbuf.len, 0);
	assert_int_equal(th_dropped(t, PH_DROP_TCP_PAWS), 1);
	assert_int_equal(th_mib(t, PH_MIB_tcp_paws_drops), 1);
}

static void
paws_allows_rst(void **state)
{
	struct th *t = *state;
	uint8_t opt[12] = {TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMPS, 10};

	th_established(t);
	tcp_wr32(opt + 4, 4000);
	th_inject(t, TCP_RST, R(t, 1), 0, 0, NULL, 0, opt, 12);
	assert_int_equal(t->c->state, TCPS_CLOSED);
}

static void
sack_blocks_reported(void **state)
{
	struct th *t = *state;
	const struct th_rec *r;

	th_established(t);
	th_send(t, TCP_ACK, R(t, 101), L(t, 1), "0123456789", 10);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(r->opts.n_sack, 1);
	assert_int_equal(r->opts.sack[0].l, R(t, 101));
	assert_int_equal(r->opts.sack[0].r, R(t, 111));
	th_send(t, TCP_ACK, R(t, 201), L(t, 1), "0123456789", 10);
	r = th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	/* The latest range first (RFC 2018 4). */
	assert_int_equal(r->opts.n_sack, 2);
	assert_int_equal(r->opts.sack[0].l, R(t, 201));
	assert_int_equal(r->opts.sack[1].l, R(t, 101));
}

static void
time_wait_reuse_with_newer_timestamp(void **state)
{
	struct th *t = *state;
	uint8_t opt[20];

	th_time_wait(t);
	/* RFC 6191: a SYN with a newer timestamp reopens even with an
	 * older sequence number. */
	memcpy(opt, (uint8_t[]){TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMPS, 10}, 4);
	tcp_wr32(opt + 4, t->peer_ts + 10);
	tcp_wr32(opt + 8, 0);
	th_inject(t, TCP_SYN, t->irs - 1000, 0, 1000, NULL, 0, opt, 12);
	assert_int_equal(th_pending(t), 1);
	th_expect(t, TCP_SYN | TCP_ACK, t->rec[t->next_rec].o.seq, t->irs - 999, 0);
	assert_int_equal(th_mib(t, PH_MIB_tcp_timewait_reused), 1);
	assert_int_equal(t->c->state, TCPS_CLOSED);
}

static void
time_wait_old_syn_challenged(void **state)
{
	struct th *t = *state;
	uint8_t opt[12] = {TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMPS, 10};

	th_time_wait(t);
	tcp_wr32(opt + 4, 10); /* older timestamp: PAWS, not reuse */
	th_inject(t, TCP_SYN, R(t, 100), 0, 1000, NULL, 0, opt, 12);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
}

/* A segment without options or data from the peer's port SPORT. */
static void
inject_from(struct th *t, uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack)
{
	th_inject_from(t, sport, flags, seq, ack, 16384, NULL, 0, NULL, 0);
}

/* A passive connection from SPORT that the application closes first: it
 * ends in TIME-WAIT, unowned. */
static void
time_wait_from(struct th *t, uint16_t sport)
{
	struct tcp_conn *c;
	uint32_t iss;
	int user;

	inject_from(t, sport, TCP_SYN, t->irs, 0);
	assert_int_equal(th_pending(t), 1);
	iss = t->rec[t->next_rec].o.seq;
	inject_from(t, sport, TCP_ACK, t->irs + 1, iss + 1);
	c = tcp_accept(t->lsn, &user);
	assert_non_null(c);
	tcp_close(c); /* FIN */
	inject_from(t, sport, TCP_ACK | TCP_FIN, t->irs + 1, iss + 2);
	assert_int_equal(c->state, TCPS_TIME_WAIT);
	th_flush(t);
}

static void
time_wait_recycled_when_table_full(void **state)
{
	struct th *t = *state;
	uint16_t first = 50000, n = (uint16_t)(t->cfg.max_conns - 1);

	th_listen(t);
	for (uint16_t i = 0; i < n; i++)
		time_wait_from(t, first + i);
	assert_int_equal(t->st.n_conns, t->cfg.max_conns);
	/* Full of TIME-WAIT: a new peer is still answered, and the oldest
	 * entry made the room. */
	inject_from(t, 60000, TCP_SYN, t->irs, 0);
	assert_int_equal(th_pending(t), 1);
	th_expect(t, TCP_SYN | TCP_ACK, t->rec[t->next_rec].o.seq, t->irs + 1, 0);
	assert_int_equal(th_mib(t, PH_MIB_tcp_timewait_recycled), 1);
	assert_null(tcp_lookup(&t->st, 0, TH_LADDR, TH_LPORT, TH_RADDR, first));
	assert_non_null(tcp_lookup(&t->st, 0, TH_LADDR, TH_LPORT, TH_RADDR, first + 1));
	assert_int_equal(t->st.n_conns, t->cfg.max_conns);
}

static void
time_wait_held_by_socket_not_recycled(void **state)
{
	struct th *t = *state;

	/* The connection under test ends in TIME-WAIT with its socket open;
	 * the rest of the table fills with peers the application closed. */
	th_time_wait(t);
	for (uint16_t i = 0; t->st.n_conns < t->cfg.max_conns; i++)
		time_wait_from(t, (uint16_t)(50000 + i));
	inject_from(t, 60000, TCP_SYN, t->irs, 0);
	th_flush(t);
	/* The unowned one after it went; the held one stays. */
	assert_int_equal(th_mib(t, PH_MIB_tcp_timewait_recycled), 1);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
	assert_null(tcp_lookup(&t->st, 0, TH_LADDR, TH_LPORT, TH_RADDR, 50000));
}

/* ---- malformed options ---- */

struct optcase {
	const char *name;
	uint8_t opt[40];
	uint8_t len;
	int parse; /* tcp_opt_parse's answer */
	bool mss_ok;
	uint16_t mss;
};

static const struct optcase optcases[] = {
        {"empty", {0}, 0, 0, false, 0},
        {"eol_only", {TCPOPT_EOL}, 1, 0, false, 0},
        {"nops", {1, 1, 1, 1}, 4, 0, false, 0},
        {"mss", {2, 4, 0x05, 0xb4}, 4, 0, true, 1460},
        {"mss_after_eol_ignored", {0, 2, 4, 0x05, 0xb4}, 5, 0, false, 0},
        {"len_zero", {2, 0, 0, 0}, 4, -1, false, 0},
        {"len_one", {2, 1, 0, 0}, 4, -1, false, 0},
        {"len_past_end", {2, 8, 0, 0}, 4, -1, false, 0},
        {"kind_without_len", {1, 1, 1, 2}, 4, -1, false, 0},
        {"mss_wrong_len_ignored", {2, 3, 5, 1, 1, 1}, 6, 0, false, 0},
        {"ws_wrong_len_ignored", {3, 4, 7, 0}, 4, 0, false, 0},
        {"ts_wrong_len_ignored", {8, 6, 0, 0, 0, 0}, 6, 0, false, 0},
        {"unknown_kind_skipped", {30, 4, 1, 2, 2, 4, 1, 0}, 8, 0, true, 256},
        {"sackok_wrong_len_ignored", {4, 3, 0}, 3, 0, false, 0},
        {"sack_bad_len_ignored", {5, 7, 0, 0, 0, 0, 0}, 7, 0, false, 0},
        {"ws_shift_clamped", {3, 3, 20}, 3, 0, false, 0},
        {"max_len_unknown", {99, 40}, 40, 0, false, 0},
        {"trailing_garbage_after_eol", {2, 4, 1, 0, 0, 99, 0, 7}, 8, 0, true, 256},
};

static void
opt_parse_case(void **state)
{
	const struct optcase *oc = *state;
	struct tcp_opts o;

	assert_int_equal(tcp_opt_parse(oc->opt, oc->len, true, &o), oc->parse);
	if (oc->parse == 0) {
		assert_int_equal(o.mss_ok, oc->mss_ok);
		if (oc->mss_ok)
			assert_int_equal(o.mss, oc->mss);
		if (strcmp(oc->name, "ws_shift_clamped") == 0)
			assert_true(o.ws_ok && o.ws == 14);
	}
}

static void
malformed_options_syn_dropped(void **state)
{
	struct th *t = *state;
	uint8_t opt[4] = {2, 9, 0, 0};

	th_listen(t);
	th_inject(t, TCP_SYN, 1, 0, 1000, NULL, 0, opt, 4);
	th_expect_none(t);
	assert_int_equal(th_dropped(t, PH_DROP_TCP_BAD_OPTIONS), 1);
	assert_int_equal(t->lsn->n_synq, 0);
}

static void
mss_option_only_on_syn(void **state)
{
	struct tcp_opts o;
	uint8_t opt[4] = {2, 4, 0x01, 0x00};

	(void)state;
	assert_int_equal(tcp_opt_parse(opt, 4, false, &o), 0);
	assert_false(o.mss_ok);
}

/* ---- wraparound ---- */

static int
setup_wrap(void **state)
{
	struct th *t = malloc(sizeof(*t));
	struct th_opts o = {.irs = 0xfffffff0u};

	if (t == NULL)
		return -1;
	th_init(t, &o);
	*state = t;
	return 0;
}

static void
receive_across_wrap(void **state)
{
	struct th *t = *state;
	uint8_t b[64];

	th_established(t);
	assert_int_equal(R(t, 1), 0xfffffff1u);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "0123456789abcdefghij", 20);
	th_send(t, TCP_ACK, R(t, 21), L(t, 1), "KLMNO", 5);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 26), 0);
	assert_int_equal(R(t, 26), 0x0000000au);
	assert_int_equal(th_read(t, b, sizeof(b)), 25);
	assert_memory_equal(b, "0123456789abcdefghijKLMNO", 25);
}

static void
ofo_across_wrap(void **state)
{
	struct th *t = *state;
	uint8_t b[64];

	th_established(t);
	th_send(t, TCP_ACK, R(t, 16), L(t, 1), "PQRST", 5); /* after the wrap */
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "0123456789abcde", 15);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 21), 0);
	assert_int_equal(th_read(t, b, sizeof(b)), 20);
	assert_memory_equal(b, "0123456789abcdePQRST", 20);
}

static void
rst_exact_across_wrap(void **state)
{
	struct th *t = *state;

	th_established(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), "0123456789abcdefghij", 20);
	th_flush(t);
	th_send(t, TCP_RST, R(t, 21), 0, NULL, 0);
	assert_int_equal(t->c->state, TCPS_CLOSED);
}

/* ---- ISN and ports ---- */

static void
isn_differs_per_tuple(void **state)
{
	struct th *t = *state;
	uint32_t a = tcp_isn(&t->st, 1, 2, 3, 4), b = tcp_isn(&t->st, 1, 2, 3, 5);

	assert_true(a != b);
	/* The same tuple later: M moved by 1 per 4 µs. */
	t->st.now_us += 400;
	assert_int_equal(tcp_isn(&t->st, 1, 2, 3, 4), a + 100);
}

static void
ephemeral_ports_distinct(void **state)
{
	struct th *t = *state;
	struct tcp_conn *c[20];

	for (unsigned i = 0; i < 20; i++) {
		c[i] = tcp_conn_new(&t->st, 0, &t->user);
		assert_int_equal(tcp_connect(c[i], TH_RADDR, TH_RPORT), -EINPROGRESS);
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(c[i]->lport, c[j]->lport);
	}
	th_flush(t);
	for (unsigned i = 0; i < 20; i++)
		tcp_close(c[i]);
	th_flush(t);
}

static void
bind_conflicts(void **state)
{
	struct th *t = *state;
	struct tcp_conn *a = tcp_conn_new(&t->st, 0, &t->user);
	struct tcp_conn *b = tcp_conn_new(&t->st, 0, &t->user);

	assert_int_equal(tcp_bind(a, 0, 8080), 0);
	assert_int_equal(tcp_bind(b, TH_LADDR, 8080), -EADDRINUSE);
	assert_int_equal(tcp_bind(b, 0xc6120099u, 8081), -EADDRNOTAVAIL);
	a->flags |= TF_REUSEPORT;
	b->flags |= TF_REUSEPORT;
	assert_int_equal(tcp_bind(b, 0, 8080), 0);
	assert_int_equal(tcp_listen(a, 4), 0);
	assert_int_equal(tcp_listen(b, 4), 0);
	tcp_close(a);
	tcp_close(b);
}

static void
connect_errors(void **state)
{
	struct th *t = *state;

	th_established_active(t);
	assert_int_equal(tcp_connect(t->c, TH_RADDR, 81), -EISCONN);
	struct tcp_conn *c = tcp_conn_new(&t->st, 0, &t->user);
	t->route_err = -ENETUNREACH;
	assert_int_equal(tcp_connect(c, 0x0a000001u, 80), -ENETUNREACH);
	t->route_err = 0;
	assert_int_equal(tcp_connect(c, TH_RADDR, 0), -ECONNREFUSED);
	tcp_close(c);
}

static void
send_before_connect(void **state)
{
	struct th *t = *state;

	t->c = tcp_conn_new(&t->st, 0, &t->user);
	assert_int_equal(th_write(t, "x", 1), -EPIPE); /* as Linux */
	uint8_t b[2];
	assert_int_equal(th_read(t, b, 2), -ENOTCONN);
}

static void
send_buffer_full_then_space(void **state)
{
	struct th *t = *state;
	static uint8_t buf[20000];

	th_established(t);
	t->peer_wnd = 0;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(th_write(t, buf, sizeof(buf)), 16384);
	assert_int_equal(th_write(t, buf, 1), -EAGAIN);
	assert_false(tcp_poll(t->c) & EPOLLOUT);
	t->peer_wnd = 16384;
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_flush(t);
	/* The initial window (10 segments) went out; their ACK frees room. */
	th_send(t, TCP_ACK, R(t, 1), L(t, 1 + 5360), NULL, 0);
	assert_true(tcp_poll(t->c) & EPOLLOUT);
	th_flush(t);
}

/* ---- ICMP errors (RFC 5927, RFC 1191, RFC 1122 4.2.3.9) ---- */

static void
icmp(struct th *t, uint32_t seq, uint8_t type, uint8_t code, uint16_t mtu)
{
	tcp_icmp_input(&t->st, 0, TH_LADDR, t->c->lport, TH_RADDR, TH_RPORT, seq, type, code, mtu);
}

static void
icmp_port_unreachable_refuses_syn(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	icmp(t, L(t, 0), 3, 3, 0);
	assert_int_equal(t->c->state, TCPS_CLOSED);
	assert_int_equal(t->c->error, ECONNREFUSED);
}

static void
icmp_host_unreachable_soft_when_open(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(th_write(t, "x", 1), 1);
	th_flush(t);
	icmp(t, L(t, 1), 3, 1, 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	/* Reported only when the connection gives up. */
	for (unsigned i = 0; i < 16 && t->c->state != TCPS_CLOSED; i++) {
		th_advance(t, tcp_rto_backed_off(t->c));
		th_flush(t);
	}
	assert_int_equal(t->c->error, EHOSTUNREACH);
}

static void
icmp_out_of_window_ignored(void **state)
{
	struct th *t = *state;

	th_syn_sent(t);
	icmp(t, L(t, 1000), 3, 3, 0); /* not a sequence number we sent */
	assert_int_equal(t->c->state, TCPS_SYN_SENT);
	assert_int_equal(th_mib(t, PH_MIB_tcp_icmp_errors), 0);
}

static void
icmp_frag_needed_shrinks_mss(void **state)
{
	struct th *t = *state;
	static uint8_t buf[1448];

	th_established(t);
	t->c->mss = 1460; /* as if the peer had offered 1460 */
	tcp_set_nodelay(t->c, true);
	assert_int_equal(th_write(t, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	th_expect(t, TCP_ACK | TCP_PSH, L(t, 1), R(t, 1), 1448);
	icmp(t, L(t, 1), 3, 4, 1200);
	assert_int_equal(t->c->mss, 1160);
	/* The lost segment again, cut to the new size. */
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 1160);
	assert_int_equal(th_mib(t, PH_MIB_tcp_pmtu_updates), 1);
	th_flush(t);
	/* An MTU too small to be true is ignored. */
	icmp(t, L(t, 1), 3, 4, 60);
	assert_int_equal(t->c->mss, 1160);
}

static void
counters_in_out(void **state)
{
	struct th *t = *state;

	th_established(t);
	assert_int_equal(th_mib(t, PH_MIB_tcpInSegs), 2);
	assert_int_equal(th_mib(t, PH_MIB_tcpOutSegs), 1);
}

int
main(void)
{
	static struct CMUnitTest tests[512];
	static struct CMUnitTest optests[64];
	size_t n = 0, no = 0;

#define T(f)                                                                                       \
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(f, th_setup, th_teardown)
#define TO(f)                                                                                      \
	tests[n++] =                                                                               \
	        (struct CMUnitTest)cmocka_unit_test_setup_teardown(f, th_setup_opts, th_teardown)
#define TW(f)                                                                                      \
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(f, setup_wrap, th_teardown)
#define TP(f) tests[n++] = (struct CMUnitTest)cmocka_unit_test(f)
	TP(seq_wrap);
	TP(siphash_known_answer);
	TP(mss_option_only_on_syn);
	for (size_t r = 0; r < N_ROWS; r++)
		for (int k = 0; k < K_MAX; k++) {
			struct matrix_case *mc = &cases[r * K_MAX + k];

			mc->row = &rows[r];
			mc->kind = (enum kind)k;
			snprintf(mc->name, sizeof(mc->name), "%s/%s", rows[r].name, kind_names[k]);
			tests[n++] = (struct CMUnitTest){
			        .name = mc->name,
			        .test_func = matrix,
			        .setup_func = th_setup,
			        .teardown_func = th_teardown,
			        .initial_state = mc,
			};
		}
	T(passive_open);
	T(active_open);
	T(listen_ack_gets_rst);
	T(closed_port_rst);
	T(syn_fin_dropped);
	T(to_broadcast_dropped);
	T(syn_sent_rst_refused);
	T(syn_sent_rst_without_ack_ignored);
	T(syn_sent_bad_ack);
	T(syn_sent_plain_ack_dropped);
	T(syn_ack_with_data);
	T(simultaneous_open);
	T(syn_retransmit_and_timeout);
	T(synack_retransmit_then_given_up);
	T(syn_received_dup_syn_resends_synack);
	T(listen_backlog_bounded);
	T(listener_close_resets_unaccepted);
	T(orderly_close_active);
	T(orderly_close_passive);
	T(simultaneous_close);
	T(fin_wait_1_fin_ack_together);
	T(time_wait_refin_acked_and_restarted);
	T(fin_retransmitted);
	T(half_close_still_receives);
	T(close_with_unread_data_resets);
	T(linger_zero_aborts);
	T(data_after_close_resets);
	T(orphan_fin_wait_2_times_out);
	T(orphan_time_wait_frees_rings);
	T(time_wait_rings_freed_at_close);
	T(shutdown_rd_discards);
	T(abort_sends_rst);
	T(send_and_ack);
	T(send_segments_mss);
	T(receive_in_order);
	T(receive_out_of_order);
	T(ofo_kept_when_reader_drains);
	T(receive_overlapping);
	T(fin_out_of_order);
	T(ofo_ranges_bounded);
	T(data_trimmed_to_window);
	T(zero_window_advertised_then_update);
	T(window_never_shrinks);
	T(nagle_holds_small_segment);
	T(nodelay_sends_at_once);
	T(cork_holds_until_full_or_uncork);
	T(rto_backoff_doubles);
	T(rto_capped_at_max);
	T(retries_exhausted_timeout);
	T(user_timeout);
	T(rto_goes_back_n);
	T(fast_retransmit_newreno);
	T(limited_transmit);
	T(rto_with_sack_skips_sacked);
	T(dupacks_with_window_change_not_counted);
	T(persist_probes_back_off);
	T(persist_probe_accepted);
	T(delayed_ack_timer);
	T(quickack_at_start);
	T(delayed_ack_piggybacked);
	T(keepalive_probes_then_reset);
	T(keepalive_answered);
	T(keepalive_probe_answered_by_stack);
	TO(options_negotiated);
	T(options_not_offered_not_used);
	TO(window_scaled_both_ways);
	TO(timestamps_echoed);
	TO(paws_rejects_old_timestamp);
	TO(paws_allows_rst);
	TO(sack_blocks_reported);
	TO(time_wait_reuse_with_newer_timestamp);
	TO(time_wait_old_syn_challenged);
	T(time_wait_recycled_when_table_full);
	T(time_wait_held_by_socket_not_recycled);
	T(malformed_options_syn_dropped);
	TW(receive_across_wrap);
	TW(ofo_across_wrap);
	TW(rst_exact_across_wrap);
	T(isn_differs_per_tuple);
	T(ephemeral_ports_distinct);
	T(bind_conflicts);
	T(connect_errors);
	T(send_before_connect);
	T(send_buffer_full_then_space);
	T(counters_in_out);
	T(icmp_port_unreachable_refuses_syn);
	T(icmp_host_unreachable_soft_when_open);
	T(icmp_out_of_window_ignored);
	T(icmp_frag_needed_shrinks_mss);
	for (size_t i = 0; i < sizeof(optcases) / sizeof(optcases[0]); i++)
		optests[no++] = (struct CMUnitTest){
		        .name = optcases[i].name,
		        .test_func = opt_parse_case,
		        .initial_state = (void *)(uintptr_t)&optcases[i],
		};
	int fails = _cmocka_run_group_tests("tcp", tests, n, NULL, NULL);
	fails += _cmocka_run_group_tests("tcp_options", optests, no, NULL, NULL);
	return fails;
}
