/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP timers: each connection keeps one deadline per timer kind and sits in
 * one slot of its lcore's timing wheel (1 ms per slot) at the earliest of
 * them, so arming a timer is O(1) and allocates nothing. tcp_timers_run()
 * walks the slots the clock has passed and calls the handler of every kind
 * that is due, from one table (as FreeBSD's tcp_timer.c does).
 *
 * Retransmission follows RFC 6298 (RTO from SRTT and RTTVAR, Karn's rule,
 * doubling back-off, bounds from [tcp]); zero-window probes back off the same
 * way (RFC 9293 3.8.6.1); keep-alive follows RFC 9293 3.8.4 and Linux's
 * TCP_KEEPIDLE/INTVL/CNT; TIME-WAIT lasts 2 MSL (RFC 9293 3.6.1).
 */
#include <errno.h>

#include "tcp/tcp.h"

static void
wheel_remove(struct tcp_conn *c)
{
	if (c->t_deadline != 0) {
		LIST_REMOVE(c, tlink);
		c->t_deadline = 0;
	}
}

static void
wheel_schedule(struct tcp_conn *c)
{
	uint64_t d = 0;

	for (int t = 0; t < TCP_T_MAX; t++)
		if (c->t_when[t] != 0 && (d == 0 || c->t_when[t] < d))
			d = c->t_when[t];
	if (d == c->t_deadline)
		return;
	wheel_remove(c);
	if (d == 0)
		return;
	/* A deadline the wheel has already passed fires on the next run. */
	if (d <= c->st->wheel_now)
		d = c->st->wheel_now + 1;
	c->t_deadline = d;
	LIST_INSERT_HEAD(&c->st->wheel[d & (TCP_WHEEL_SLOTS - 1)], c, tlink);
}

void
tcp_timer_arm(struct tcp_conn *c, enum tcp_timer t, uint64_t delay_ms)
{
	c->t_when[t] = c->st->now + (delay_ms ? delay_ms : 1);
	wheel_schedule(c);
}

void
tcp_timer_stop(struct tcp_conn *c, enum tcp_timer t)
{
	if (c->t_when[t] == 0)
		return;
	c->t_when[t] = 0;
	wheel_schedule(c);
}

void
tcp_timers_stop(struct tcp_conn *c)
{
	for (int t = 0; t < TCP_T_MAX; t++)
		c->t_when[t] = 0;
	wheel_remove(c);
}

uint32_t
tcp_rto_backed_off(const struct tcp_conn *c)
{
	uint64_t rto = (uint64_t)c->rto << c->backoff;

	return rto > c->st->cfg.rto_max_ms ? c->st->cfg.rto_max_ms : (uint32_t)rto;
}

/* When TCP_T_REXMT should fire from now, and as what. */
static uint32_t
rexmt_deadline(const struct tcp_conn *c, uint8_t *mode)
{
	uint32_t rto = tcp_rto_backed_off(c), srtt = c->srtt >> 3, when = rto;

	*mode = TCP_REXMT_RTO;
	if (c->st->cfg.rack_tlp && (c->flags & (TF_SACK_OK | TF_RECOVERY)) == TF_SACK_OK &&
	    c->backoff == 0 && (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT) &&
	    c->snd_max != c->snd_una) {
		if (c->n_sacked > 0) {
			/* RFC 8985 6.2: a quarter of the RTT, at least 2 ms
			 * here (the clock's 1 ms tick). */
			uint32_t reo = srtt / 4 > 2 ? srtt / 4 : 2;

			if (reo < when) {
				when = reo;
				*mode = TCP_REXMT_REO;
			}
		} else if (!c->tlp_out) {
			/* RFC 8985 7.2: PTO = 2 SRTT, plus the worst delayed
			 * ACK when one segment is out; at least 10 ms. */
			uint32_t pto = c->srtt ? 2 * srtt : 1000; /* 7.2: 1 s without SRTT */

			if (c->snd_max - c->snd_una <= tcp_data_mss(c))
				pto += 200;
			if (pto < 10)
				pto = 10;
			if (pto < when) {
				when = pto;
				*mode = TCP_REXMT_TLP;
			}
		}
	}
	return when;
}

void
tcp_rexmt_arm(struct tcp_conn *c)
{
	uint32_t when = rexmt_deadline(c, &c->rexmt_mode);

	tcp_timer_arm(c, TCP_T_REXMT, when);
}

void
tcp_tlp_rearm(struct tcp_conn *c)
{
	uint8_t mode;
	uint32_t when = rexmt_deadline(c, &mode);

	/* New data went out: the probe waits for its ACK too (RFC 8985
	 * 7.2); the RTO itself is not pushed back (RFC 6298 5.1). */
	if (mode == TCP_REXMT_TLP) {
		c->rexmt_mode = mode;
		tcp_timer_arm(c, TCP_T_REXMT, when);
	}
}

void
tcp_keep_arm(struct tcp_conn *c)
{
	if ((c->flags & TF_KEEPALIVE) &&
	    (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT))
		tcp_timer_arm(c, TCP_T_KEEP, c->keepidle_ms);
	else if (c->state != TCPS_FIN_WAIT_2)
		tcp_timer_stop(c, TCP_T_KEEP);
}

/* ---- handlers ---- */

static void
timer_rexmt(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	uint32_t limit;

	if (c->rexmt_mode == TCP_REXMT_TLP) {
		tcp_send_tlp(c);
		tcp_rexmt_arm(c);
		return;
	}
	if (c->rexmt_mode == TCP_REXMT_REO) {
		tcp_rec_reorder_timeout(c);
		tcp_rexmt_arm(c);
		tcp_output(c);
		return;
	}
	if (c->state == TCPS_SYN_SENT)
		limit = st->cfg.syn_retries;
	else if (c->state == TCPS_SYN_RECEIVED)
		limit = st->cfg.synack_retries;
	else
		limit = st->cfg.retries;
	if (c->rexmits >= limit ||
	    (c->user_timeout_ms != 0 && st->now - c->rexmt_since >= c->user_timeout_ms)) {
		if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED)
			tcp_mib(st, PH_MIB_tcpAttemptFails);
		tcp_conn_drop(c, c->soft_error ? c->soft_error : ETIMEDOUT);
		return;
	}
	c->rexmits++;
	tcp_mib(st, PH_MIB_tcp_rto_timeouts);
	/* RFC 6298 5.5: back off; 5.7: after the SYN, a failed handshake
	 * leaves RTO at 3 s when data starts, handled in tcp_input. */
	if (c->backoff < 16)
		c->backoff++;
	c->flags &= ~TF_RTT_TIMING; /* Karn: no sample from a retransmission */
	if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED) {
		c->snd_nxt = c->iss;
	} else {
		tcp_rec_timeout(c);
	}
	c->flags &= ~TF_PROBE_SENT;
	tcp_rexmt_arm(c);
	if (c->snd_wnd == 0 && c->state >= TCPS_ESTABLISHED) {
		/* The peer shrank its window to nothing under data in flight:
		 * the head segment goes anyway, as a probe that can be ACKed. */
		tcp_retransmit_head(c);
		return;
	}
	tcp_output(c);
}

static void
timer_persist(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;

	/* A user timeout also bounds a peer that never opens its window. */
	if (c->user_timeout_ms != 0 && st->now - c->rexmt_since >= c->user_timeout_ms) {
		tcp_conn_drop(c, ETIMEDOUT);
		return;
	}
	/* A peer that answers no probe is gone (RFC 1122 4.2.2.17 lets us
	 * abort then; Linux does after tcp_retries2 probes). */
	if (c->persist_probes >= st->cfg.retries) {
		tcp_conn_drop(c, c->soft_error ? c->soft_error : ETIMEDOUT);
		return;
	}
	c->persist_probes++;
	if (c->snd_wnd > 0) {
		/* The override timer: send what the small window takes. */
		c->flags |= TF_FORCE;
		tcp_output(c);
		c->flags &= ~TF_FORCE;
		return;
	}
	tcp_mib(st, PH_MIB_tcp_persist_probes);
	tcp_send_probe(c);
	if (c->persist_shift < 16)
		c->persist_shift++;
	uint64_t d = (uint64_t)(c->rto ? c->rto : st->cfg.rto_init_ms) << c->persist_shift;
	if (d > st->cfg.rto_max_ms)
		d = st->cfg.rto_max_ms;
	if (d < st->cfg.rto_min_ms)
		d = st->cfg.rto_min_ms;
	tcp_timer_arm(c, TCP_T_PERSIST, d);
}

static void
timer_delack(struct tcp_conn *c)
{
	tcp_mib(c->st, PH_MIB_tcp_delayed_acks);
	c->flags |= TF_ACKNOW;
	tcp_output(c);
}

static void
timer_keep(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	uint64_t idle = st->now - c->last_rcv;

	if (c->state == TCPS_FIN_WAIT_2) {
		/* An orphan in FIN-WAIT-2 does not wait forever for the peer's
		 * FIN (Linux's tcp_fin_timeout, here 2 MSL). */
		tcp_conn_drop(c, 0);
		return;
	}
	if (!(c->flags & TF_KEEPALIVE) ||
	    (c->state != TCPS_ESTABLISHED && c->state != TCPS_CLOSE_WAIT))
		return;
	if (idle < c->keepidle_ms && c->keep_probes == 0) {
		tcp_timer_arm(c, TCP_T_KEEP, c->keepidle_ms - idle);
		return;
	}
	if (c->keep_probes >= c->keepcnt) {
		tcp_mib(st, PH_MIB_tcp_keepalive_timeouts);
		tcp_send_rst(c);
		tcp_conn_drop(c, ETIMEDOUT);
		return;
	}
	c->keep_probes++;
	tcp_mib(st, PH_MIB_tcp_keepalive_probes);
	tcp_send_keepalive(c);
	tcp_timer_arm(c, TCP_T_KEEP, c->keepintvl_ms);
}

static void
timer_2msl(struct tcp_conn *c)
{
	tcp_conn_drop(c, 0);
}

static void (*const timer_handlers[TCP_T_MAX])(struct tcp_conn *c) = {
        [TCP_T_REXMT] = timer_rexmt, [TCP_T_PERSIST] = timer_persist, [TCP_T_DELACK] = timer_delack,
        [TCP_T_KEEP] = timer_keep,   [TCP_T_2MSL] = timer_2msl,
};

unsigned
tcp_timers_run(struct tcp_stack *st)
{
	struct tcp_conn_list due = LIST_HEAD_INITIALIZER(due);
	uint64_t now = st->now, from = st->wheel_now;
	unsigned fired = 0;
	struct tcp_conn *c, *next;

	if (now <= from)
		return 0;
	/* Every slot the clock passed, but each slot at most once. */
	uint64_t steps = now - from < TCP_WHEEL_SLOTS ? now - from : TCP_WHEEL_SLOTS;
	for (uint64_t i = 1; i <= steps; i++) {
		struct tcp_conn_list *slot = &st->wheel[(from + i) & (TCP_WHEEL_SLOTS - 1)];

		for (c = LIST_FIRST(slot); c != NULL; c = next) {
			next = LIST_NEXT(c, tlink);
			if (c->t_deadline > now)
				continue; /* a later turn of the wheel */
			LIST_REMOVE(c, tlink);
			c->t_deadline = 0;
			LIST_INSERT_HEAD(&due, c, tlink);
		}
	}
	st->wheel_now = now;
	while ((c = LIST_FIRST(&due)) != NULL) {
		LIST_REMOVE(c, tlink);
		for (int t = 0; t < TCP_T_MAX && !(c->flags & TF_DEAD); t++) {
			if (c->t_when[t] == 0 || c->t_when[t] > now)
				continue;
			c->t_when[t] = 0;
			fired++;
			timer_handlers[t](c);
			if (c->state == TCPS_CLOSED)
				break;
		}
		if (!(c->flags & TF_DEAD) && c->state != TCPS_CLOSED)
			wheel_schedule(c);
	}
	tcp_reap(st);
	return fired;
}
