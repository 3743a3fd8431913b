/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scripted-TCP harness (see tcp_harness.h): a fake host around one
 * struct tcp_stack. The emit callback records segments; route and
 * local-address answers are fixed; time moves only in th_advance(), from
 * one timer deadline to the next, so every timer fires at its exact ms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_harness.h"
#include "flow/flow.h"

static int
th_emit(struct tcp_stack *st, struct tcp_conn *c, const struct tcp_out *o)
{
	struct th *t = st->arg;
	struct th_rec *r;

	(void)c;
	assert_true(t->n_rec < TH_MAX_REC);
	r = &t->rec[t->n_rec++];
	r->o = *o;
	r->data = NULL;
	if (o->len > 0) {
		r->data = malloc(o->len);
		assert_non_null(r->data);
		memcpy(r->data, o->data[0], o->dlen[0]);
		if (o->dlen[1])
			memcpy(r->data + o->dlen[0], o->data[1], o->dlen[1]);
	}
	r->o.data[0] = r->data;
	r->o.dlen[0] = o->len;
	r->o.data[1] = NULL;
	r->o.dlen[1] = 0;
	assert_int_equal(tcp_opt_parse(o->opt, o->optlen, (o->flags & TCP_SYN) != 0, &r->opts), 0);
	return t->emit_err;
}

static void
th_wakeup(struct tcp_stack *st, struct tcp_conn *c)
{
	struct th *t = st->arg;

	(void)c;
	t->wakeups++;
}

static int
th_route(struct tcp_stack *st, uint16_t ctx, uint32_t daddr, struct tcp_path *path)
{
	struct th *t = st->arg;

	(void)ctx;
	(void)daddr;
	if (t->route_err)
		return t->route_err;
	path->saddr = TH_LADDR;
	path->mtu = t->mtu;
	path->tso_max = t->tso_max;
	return 0;
}

int
th_owner_is_here(const struct th *t, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	uint32_t h;

	if (t->n_workers < 2)
		return 1;
	h = rss_hash_ipv4_l4(&t->rss, raddr, laddr, rport, lport);
	return flow_lcore_of_queue((uint16_t)(t->n_workers + 1), t->n_workers,
	                           rss_queue_of(&t->rss, h)) == t->lcore;
}

/* flow_ours as the host's glue answers it, from t->rss. */
static int
th_flow_ours(struct tcp_stack *st, uint16_t ctx, uint32_t laddr, uint16_t lport, uint32_t raddr,
             uint16_t rport)
{
	(void)ctx;
	return th_owner_is_here(st->arg, laddr, lport, raddr, rport);
}

static bool
th_local(struct tcp_stack *st, uint16_t ctx, uint32_t addr)
{
	(void)st;
	(void)ctx;
	return addr == TH_LADDR;
}

static const struct tcp_ops th_ops = {
        .emit = th_emit,
        .wakeup = th_wakeup,
        .route = th_route,
        .local_addr = th_local,
        .flow_ours = th_flow_ours,
};

void
th_init(struct th *t, const struct th_opts *o)
{
	memset(t, 0, sizeof(*t));
	tcp_conf_defaults(&t->cfg);
	t->cfg.timestamps = o->ts;
	t->cfg.window_scaling = o->ws;
	t->cfg.sack = o->sack;
	t->cfg.rmem = o->rmem ? o->rmem : 16384;
	t->cfg.wmem = o->wmem ? o->wmem : 16384;
	t->cfg.max_conns = 64;
	t->cfg.quickack = 0; /* cases see the delayed-ACK rules; quick-ACK has its own */
	/* Cases compute windows with RFC 5681's arithmetic; CUBIC (the
	 * default) has its own in test_tcp_cc.c. */
	strcpy(t->cfg.cc, "newreno");
	/* Cases expect the RTO where they advance the clock by it; the
	 * probes and the reordering window have their own cases. */
	t->cfg.rack_tlp = false;
	t->mtu = 1500;
	t->irs = o->irs ? o->irs : 1000000;
	t->peer_ts = 5000;
	t->peer_wnd = 16384;
	assert_int_equal(tcp_stack_init(&t->st, &t->cfg, 32768, 60999, &th_ops, t, &t->ctr), 0);
	t->st.now = 1000;
	t->st.now_us = 1000000;
	t->st.wheel_now = t->st.now;
}

int
th_setup(void **state)
{
	struct th *t = malloc(sizeof(*t));
	struct th_opts o = {0};

	if (t == NULL)
		return -1;
	th_init(t, &o);
	t->user_case = *state;
	*state = t;
	return 0;
}

int
th_setup_opts(void **state)
{
	struct th *t = malloc(sizeof(*t));
	struct th_opts o = {.ts = true, .ws = true, .sack = true, .rmem = 262144, .wmem = 262144};

	if (t == NULL)
		return -1;
	th_init(t, &o);
	*state = t;
	return 0;
}

static int
setup_sack_with(void **state, bool ts)
{
	struct th *t = malloc(sizeof(*t));
	struct th_opts o = {.sack = true, .ts = ts, .rmem = 262144, .wmem = 262144};

	if (t == NULL)
		return -1;
	th_init(t, &o);
	t->peer_wnd = 65535;
	*state = t;
	return 0;
}

int
th_setup_sack(void **state)
{
	return setup_sack_with(state, false);
}

int
th_setup_sack_ts(void **state)
{
	return setup_sack_with(state, true);
}

void
th_flush(struct th *t)
{
	for (unsigned i = 0; i < t->n_rec; i++)
		free(t->rec[i].data);
	t->n_rec = t->next_rec = 0;
}

unsigned
th_pending(const struct th *t)
{
	return t->n_rec - t->next_rec;
}

static uint64_t
next_deadline(struct th *t)
{
	struct tcp_conn *c;
	uint64_t d = 0;

	LIST_FOREACH(c, &t->st.all, alink)
	if (c->t_deadline != 0 && (d == 0 || c->t_deadline < d))
		d = c->t_deadline;
	return d;
}

void
th_advance(struct th *t, uint64_t ms)
{
	uint64_t end = t->st.now + ms;

	for (;;) {
		uint64_t d = next_deadline(t);

		if (d == 0 || d > end)
			break;
		if (d > t->st.now) {
			t->st.now_us += (d - t->st.now) * 1000;
			t->st.now = d;
		}
		tcp_timers_run(&t->st);
	}
	t->st.now_us += (end - t->st.now) * 1000;
	t->st.now = end;
	tcp_timers_run(&t->st);
}

static uint16_t
th_dport(const struct th *t)
{
	return t->c != NULL ? t->c->lport : TH_LPORT;
}

void
th_inject_from(struct th *t, uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack,
               uint16_t wnd, const void *data, uint32_t len, const uint8_t *opt, uint8_t optlen)
{
	struct tcp_seg s = {
	        .ctx = 0,
	        .saddr = TH_RADDR,
	        .daddr = TH_LADDR,
	        .sport = sport,
	        .dport = th_dport(t),
	        .seq = seq,
	        .ack = ack,
	        .flags = flags,
	        .wnd = wnd,
	        .opt = opt,
	        .optlen = optlen,
	        .data = data,
	        .len = len,
	};

	tcp_input(&t->st, &s);
}

void
th_inject(struct th *t, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd, const void *data,
          uint32_t len, const uint8_t *opt, uint8_t optlen)
{
	th_inject_from(t, TH_RPORT, flags, seq, ack, wnd, data, len, opt, optlen);
}

/* The last timestamp the stack sent, for the peer to echo. */
static uint32_t
stack_tsval(const struct th *t)
{
	for (unsigned i = t->n_rec; i > 0; i--)
		if (t->rec[i - 1].opts.ts_ok)
			return t->rec[i - 1].opts.tsval;
	return 0;
}

void
th_send(struct th *t, uint8_t flags, uint32_t seq, uint32_t ack, const void *data, uint32_t len)
{
	uint8_t opt[12];

	if (t->c != NULL && (t->c->flags & TF_TS_OK)) {
		opt[0] = TCPOPT_NOP;
		opt[1] = TCPOPT_NOP;
		opt[2] = TCPOPT_TIMESTAMPS;
		opt[3] = TCPOLEN_TIMESTAMPS;
		tcp_wr32(opt + 4, ++t->peer_ts);
		tcp_wr32(opt + 8, stack_tsval(t));
		th_inject(t, flags, seq, ack, (uint16_t)t->peer_wnd, data, len, opt, 12);
	} else {
		th_inject(t, flags, seq, ack, (uint16_t)t->peer_wnd, data, len, NULL, 0);
	}
}

void
th_send_ts(struct th *t, uint8_t flags, uint32_t seq, uint32_t ack, const void *data, uint32_t len,
           uint32_t tsval, uint32_t tsecr)
{
	uint8_t opt[12] = {TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMPS, TCPOLEN_TIMESTAMPS};

	tcp_wr32(opt + 4, tsval);
	tcp_wr32(opt + 8, tsecr);
	th_inject(t, flags, seq, ack, (uint16_t)t->peer_wnd, data, len, opt, 12);
}

static const char *
flag_str(uint8_t f, char *buf)
{
	snprintf(buf, 32, "%s%s%s%s%s", f & TCP_SYN ? "S" : "", f & TCP_FIN ? "F" : "",
	         f & TCP_RST ? "R" : "", f & TCP_PSH ? "P" : "", f & TCP_ACK ? "." : "");
	return buf;
}

const struct th_rec *
th_expect(struct th *t, uint8_t flags, uint32_t seq, int64_t ack, int64_t len)
{
	const struct th_rec *r;
	char a[32], b[32];

	if (th_pending(t) == 0) {
		fail_msg("expected a segment [%s] seq %u, got none", flag_str(flags, a), seq);
	}
	r = &t->rec[t->next_rec++];
	/* PSH is the sender's business; tests name it only when they mean it. */
	if ((r->o.flags & ~TCP_PSH) != (flags & ~TCP_PSH) ||
	    ((flags & TCP_PSH) && !(r->o.flags & TCP_PSH)))
		fail_msg("expected flags [%s], got [%s] (seq %u ack %u len %u)", flag_str(flags, a),
		         flag_str(r->o.flags, b), r->o.seq, r->o.ack, r->o.len);
	if (r->o.seq != seq)
		fail_msg("[%s]: expected seq %u (%+d), got %u", flag_str(flags, a), seq,
		         (int)(seq - t->iss), r->o.seq);
	if (ack >= 0 && (r->o.flags & TCP_ACK) && r->o.ack != (uint32_t)ack)
		fail_msg("[%s]: expected ack %u (%+d), got %u (%+d)", flag_str(flags, a),
		         (uint32_t)ack, (int)((uint32_t)ack - t->irs), r->o.ack,
		         (int)(r->o.ack - t->irs));
	if (len >= 0 && r->o.len != (uint32_t)len)
		fail_msg("[%s]: expected %u bytes, got %u", flag_str(flags, a), (uint32_t)len,
		         r->o.len);
	return r;
}

void
th_expect_none(struct th *t)
{
	char a[32];

	if (th_pending(t) != 0) {
		const struct th_rec *r = &t->rec[t->next_rec];

		fail_msg("expected nothing, got [%s] seq %u ack %u len %u", flag_str(r->o.flags, a),
		         r->o.seq, r->o.ack, r->o.len);
	}
}

/* ---- set-ups ---- */

static const uint8_t th_syn_opts[] = {
        TCPOPT_MSS,
        4,
        0x05,
        0xb4, /* 1460 */
        TCPOPT_SACK_OK,
        2, /* */
        TCPOPT_TIMESTAMPS,
        10,
        0,
        0,
        0x13,
        0x88,
        0,
        0,
        0,
        0, /* 5000, 0 */
        TCPOPT_NOP,
        TCPOPT_WSCALE,
        3,
        7, /* */
};

void
th_listen(struct th *t)
{
	t->lsn = tcp_conn_new(&t->st, 0, &t->lsn_user);
	assert_non_null(t->lsn);
	assert_int_equal(tcp_bind(t->lsn, 0, TH_LPORT), 0);
	assert_int_equal(tcp_listen(t->lsn, 8), 0);
}

void
th_syn_received(struct th *t)
{
	const struct th_rec *r;
	bool opts = t->cfg.timestamps || t->cfg.window_scaling || t->cfg.sack;

	th_listen(t);
	if (opts)
		th_inject(t, TCP_SYN, t->irs, 0, 65535, NULL, 0, th_syn_opts, sizeof(th_syn_opts));
	else
		th_inject(t, TCP_SYN, t->irs, 0, (uint16_t)t->peer_wnd, NULL, 0, NULL, 0);
	assert_int_equal(th_pending(t), 1);
	t->iss = t->rec[t->next_rec].o.seq;
	r = th_expect(t, TCP_SYN | TCP_ACK, t->iss, R(t, 1), 0);
	(void)r;
	t->c = TAILQ_FIRST(&t->lsn->synq);
	assert_non_null(t->c);
	assert_int_equal(t->c->state, TCPS_SYN_RECEIVED);
}

void
th_established(struct th *t)
{
	th_syn_received(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	assert_ptr_equal(tcp_accept(t->lsn, &t->user), t->c);
	th_expect_none(t);
}

void
th_syn_sent(struct th *t)
{
	t->c = tcp_conn_new(&t->st, 0, &t->user);
	assert_non_null(t->c);
	assert_int_equal(tcp_connect(t->c, TH_RADDR, TH_RPORT), -EINPROGRESS);
	assert_int_equal(th_pending(t), 1);
	t->iss = t->rec[t->next_rec].o.seq;
	th_expect(t, TCP_SYN, t->iss, -1, 0);
	assert_int_equal(t->c->state, TCPS_SYN_SENT);
}

void
th_established_active(struct th *t)
{
	th_syn_sent(t);
	if (t->cfg.timestamps || t->cfg.window_scaling || t->cfg.sack) {
		uint8_t o[sizeof(th_syn_opts)];

		memcpy(o, th_syn_opts, sizeof(o));
		tcp_wr32(o + 12, stack_tsval(t)); /* echo the SYN's timestamp */
		th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 1), 65535, NULL, 0, o, sizeof(o));
	} else {
		th_inject(t, TCP_SYN | TCP_ACK, t->irs, L(t, 1), (uint16_t)t->peer_wnd, NULL, 0,
		          NULL, 0);
	}
	th_expect(t, TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(t->c->state, TCPS_ESTABLISHED);
	th_expect_none(t);
}

void
th_fin_wait_1(struct th *t)
{
	th_established(t);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 1), 0);
	assert_int_equal(t->c->state, TCPS_FIN_WAIT_1);
}

void
th_fin_wait_2(struct th *t)
{
	th_fin_wait_1(t);
	th_send(t, TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	assert_int_equal(t->c->state, TCPS_FIN_WAIT_2);
	th_expect_none(t);
}

void
th_close_wait(struct th *t)
{
	th_established(t);
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 1), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_CLOSE_WAIT);
}

void
th_last_ack(struct th *t)
{
	th_close_wait(t);
	assert_int_equal(tcp_shutdown(t->c, SHUT_WR), 0);
	th_expect(t, TCP_FIN | TCP_ACK, L(t, 1), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_LAST_ACK);
}

void
th_closing(struct th *t)
{
	th_fin_wait_1(t);
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 1), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_CLOSING);
}

void
th_time_wait(struct th *t)
{
	th_fin_wait_2(t);
	th_send(t, TCP_FIN | TCP_ACK, R(t, 1), L(t, 2), NULL, 0);
	th_expect(t, TCP_ACK, L(t, 2), R(t, 2), 0);
	assert_int_equal(t->c->state, TCPS_TIME_WAIT);
}

void
th_shift_iss(struct th *t, uint32_t iss)
{
	struct tcp_conn *c = t->c;
	uint32_t d = iss - c->iss;

	assert_true(c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED);
	c->iss += d;
	c->snd_una += d;
	c->snd_nxt += d;
	c->snd_max += d;
	c->snd_buf_seq += d;
	c->snd_sml += d;
	c->recover += d;
	c->snd_wl2 += d;
	c->rtt_seq += d;
	t->iss = iss;
}

ssize_t
th_write(struct th *t, const void *buf, size_t len)
{
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};

	return tcp_send(t->c, &iov, 1, false);
}

ssize_t
th_read(struct th *t, void *buf, size_t len)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};

	return tcp_recv(t->c, &iov, 1, len, false);
}

uint64_t
th_mib(const struct th *t, enum ph_mib m)
{
	return t->ctr.mib[m];
}

uint64_t
th_dropped(const struct th *t, enum ph_drop d)
{
	return t->ctr.drop[d];
}

int
th_teardown(void **state)
{
	struct th *t = *state;
	unsigned left;

	if (t->c != NULL && t->c->user != NULL)
		tcp_close(t->c);
	if (t->lsn != NULL && t->lsn->user != NULL)
		tcp_close(t->lsn);
	t->c = NULL;
	/* Let every timer run out: retransmissions give up, TIME-WAIT ends. */
	for (int i = 0; i < 100 && t->st.n_conns > 0; i++) {
		th_advance(t, 600000);
		th_flush(t);
	}
	left = t->st.n_conns;
	assert_int_equal(t->st.mem, 0);
	tcp_stack_fini(&t->st);
	th_flush(t);
	free(t);
	if (left != 0)
		fail_msg("%u connection(s) never ended", left);
	return 0;
}
