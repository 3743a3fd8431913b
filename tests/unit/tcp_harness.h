/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scripted TCP tests (TESTING.md level 1): one struct tcp_stack with a
 * virtual clock, a fake peer that injects segments with sequence numbers
 * relative to the ISNs, and a recorder of every segment the stack emits.
 * A test puts a connection in a state with one of the th_* set-ups, injects
 * segments, and expects exact segments, then nothing. th_teardown() closes
 * whatever is left, runs the clock past TIME-WAIT and checks that no
 * connection, ring byte or recorded segment is left behind.
 */
#ifndef PH_TESTS_TCP_HARNESS_H
#define PH_TESTS_TCP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "drivers/rss.h"
#include "tcp/tcp.h"
#include "wire/tcp.h"

#define TH_LADDR   0xc6120002u /* 198.18.0.2: the stack */
#define TH_RADDR   0xc6120001u /* 198.18.0.1: the peer */
#define TH_LPORT   80
#define TH_RPORT   40000
#define TH_MAX_REC 512

/* One emitted segment. */
struct th_rec {
	struct tcp_out o;
	struct tcp_opts opts;
	uint8_t *data; /* o.len bytes, malloc'd */
};

struct th {
	struct tcp_stack st;
	struct ph_counters ctr;
	struct ph_conf_tcp cfg;
	struct th_rec rec[TH_MAX_REC];
	unsigned n_rec, next_rec;
	unsigned wakeups;
	uint32_t mtu;
	uint32_t tso_max; /* what the route offers new connections (TSO) */
	int emit_err;     /* what emit returns (the segment is still recorded) */
	/* RSS as a host of N_WORKERS workers would see it, this stack being
	 * lcore LCORE: ops->flow_ours answers by it when N_WORKERS > 1. */
	struct ph_rss rss;
	uint16_t n_workers, lcore;
	int route_err;
	struct tcp_conn *lsn; /* listener of th_listen() */
	struct tcp_conn *c;   /* the connection under test */
	int user;             /* stands for the socket: &user is c->user */
	int lsn_user;
	uint32_t iss, irs;     /* ISNs of the stack and of the peer */
	uint32_t peer_ts;      /* the peer's timestamp clock */
	uint32_t peer_wnd;     /* window the peer advertises (unscaled field) */
	const void *user_case; /* the test's initial_state (table-driven cases) */
};

/* A test's options for the stack, before th_init(). */
struct th_opts {
	bool ts, ws, sack;
	uint32_t rmem, wmem;
	uint32_t irs;
};

int th_setup(void **state);
int th_setup_opts(void **state); /* timestamps, window scale and SACK on */
/* SACK on (and timestamps), 256 KiB buffers, the peer offering 64 KiB. */
int th_setup_sack(void **state);
int th_setup_sack_ts(void **state);
int th_teardown(void **state);
void th_init(struct th *t, const struct th_opts *o);

/* Advance the virtual clock by MS, running timers on the way (1 ms steps
 * near deadlines would be exact; the wheel takes every due slot). */
void th_advance(struct th *t, uint64_t ms);

/* Inject a segment from the peer. SEQ and ACK are absolute. OPT may be NULL. */
void th_inject(struct th *t, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd,
               const void *data, uint32_t len, const uint8_t *opt, uint8_t optlen);
/* The same from the peer's port SPORT (another connection of the same peer). */
void th_inject_from(struct th *t, uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack,
                    uint16_t wnd, const void *data, uint32_t len, const uint8_t *opt,
                    uint8_t optlen);
/* The same with the peer's usual timestamp option when TS was negotiated. */
void th_send(struct th *t, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
             uint32_t len);

/* The next segment the stack emitted: asserts its flags, seq, ack and
 * payload length (-1 for "any" in ack or len). Returns it. */
const struct th_rec *th_expect(struct th *t, uint8_t flags, uint32_t seq, int64_t ack, int64_t len);
/* No (further) segment was emitted. */
void th_expect_none(struct th *t);
/* How many unread segments there are. */
unsigned th_pending(const struct th *t);
/* Forget every recorded segment. */
void th_flush(struct th *t);

/* Set-ups: each leaves t->c in the state named, everything emitted read.
 * Sequence numbers: the stack's ISS is t->iss, the peer's t->irs; data
 * starts at +1 on both sides. */
void th_listen(struct th *t);
void th_syn_received(struct th *t);
void th_established(struct th *t); /* passive */
void th_syn_sent(struct th *t);
void th_established_active(struct th *t);
void th_fin_wait_1(struct th *t);
void th_fin_wait_2(struct th *t);
void th_close_wait(struct th *t);
void th_last_ack(struct th *t);
void th_closing(struct th *t);
void th_time_wait(struct th *t);

/* Move the stack's send sequence space so that its ISS is ISS (t->iss
 * follows), before the handshake completes (SYN-SENT or SYN-RECEIVED): for
 * wraparound tests in the send direction. */
void th_shift_iss(struct th *t, uint32_t iss);

/* Inject a segment with a timestamp option of the peer's choosing. */
void th_send_ts(struct th *t, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
                uint32_t len, uint32_t tsval, uint32_t tsecr);

/* The stack's sequence number N bytes past its ISS, and the peer's. */
static inline uint32_t
L(const struct th *t, uint32_t n)
{
	return t->iss + n;
}

static inline uint32_t
R(const struct th *t, uint32_t n)
{
	return t->irs + n;
}

/* App calls on t->c. */
ssize_t th_write(struct th *t, const void *buf, size_t len);
ssize_t th_read(struct th *t, void *buf, size_t len);

uint64_t th_mib(const struct th *t, enum ph_mib m);
/* 1 if t->rss brings the replies of LADDR:LPORT -> RADDR:RPORT to t->lcore
 * (always with fewer than two workers), else 0. */
int th_owner_is_here(const struct th *t, uint32_t laddr, uint16_t lport, uint32_t raddr,
                     uint16_t rport);
uint64_t th_dropped(const struct th *t, enum ph_drop d);

#endif
