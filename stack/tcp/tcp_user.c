/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The user side of TCP (RFC 9293 3.10.1-3.10.6: OPEN, SEND, RECEIVE,
 * CLOSE, ABORT, STATUS) and what the connections of one lcore share: the
 * connection table (by 4-tuple and context), the bind table (bound sockets
 * and listeners, by context and port), ISNs (RFC 6528) and ephemeral ports
 * (RFC 6056 algorithm 4), both keyed with a secret from arc4random.
 *
 * The tables are this lcore's alone, so they are plain chained hash tables
 * of intrusive lists: inserting a connection allocates nothing, and no lock
 * or RCU is needed. A connection ends in tcp_conn_drop(): it leaves the
 * tables at once and is freed by tcp_reap() at the end of the input, timer
 * or user call that dropped it, once the application no longer holds it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/tcp.h>

#include <bsd/stdlib.h>
#include <rte_jhash.h>

#include "tcp/tcp.h"
#include "wire/tcp.h"

const char *const tcp_state_names[TCPS_MAX] = {
        [TCPS_CLOSED] = "CLOSED",         [TCPS_LISTEN] = "LISTEN",
        [TCPS_SYN_SENT] = "SYN-SENT",     [TCPS_SYN_RECEIVED] = "SYN-RECV",
        [TCPS_ESTABLISHED] = "ESTAB",     [TCPS_FIN_WAIT_1] = "FIN-WAIT-1",
        [TCPS_FIN_WAIT_2] = "FIN-WAIT-2", [TCPS_CLOSE_WAIT] = "CLOSE-WAIT",
        [TCPS_CLOSING] = "CLOSING",       [TCPS_LAST_ACK] = "LAST-ACK",
        [TCPS_TIME_WAIT] = "TIME-WAIT",
};

void tcp_hash_insert(struct tcp_conn *c);
struct tcp_conn *tcp_child_new(struct tcp_conn *l, const struct tcp_seg *seg);

/* ---- SipHash-2-4 (Aumasson and Bernstein), for keyed hashes ---- */

#define SIP_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND(v0, v1, v2, v3)                                                                  \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = SIP_ROTL(v1, 13);                                                             \
		v1 ^= v0;                                                                          \
		v0 = SIP_ROTL(v0, 32);                                                             \
		v2 += v3;                                                                          \
		v3 = SIP_ROTL(v3, 16);                                                             \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = SIP_ROTL(v3, 21);                                                             \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = SIP_ROTL(v1, 17);                                                             \
		v1 ^= v2;                                                                          \
		v2 = SIP_ROTL(v2, 32);                                                             \
	} while (0)

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t
tcp_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIP_ROUND(v0, v1, v2, v3);
		SIP_ROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		SIP_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t
tcp_isn(struct tcp_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	uint32_t t[4] = {laddr, raddr, (uint32_t)lport << 16 | rport, 0};

	/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
	 * secretkey), M a 4 µs clock. */
	return (uint32_t)(st->now_us / 4) + (uint32_t)tcp_siphash(st->secret, t, sizeof(t));
}

/* ---- the stack ---- */

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

void
tcp_conf_defaults(struct ph_conf_tcp *cfg)
{
	const struct ph_conf_tcp d = {
	        .msl_ms = 30000,
	        .rto_init_ms = 1000,
	        .rto_min_ms = 200,
	        .rto_max_ms = 120000,
	        .delack_ms = 40,
	        .quickack = 16,
	        .rmem = 262144,
	        .wmem = 262144,
	        .max_backlog = 4096,
	        .syn_retries = 6,
	        .synack_retries = 5,
	        .retries = 15,
	        .keepidle_s = 7200,
	        .keepintvl_s = 75,
	        .keepcnt = 9,
	        .max_conns = 65536,
	        .timestamps = true,
	        .window_scaling = true,
	        .sack = true,
	        .rack_tlp = true,
	        .cc = "cubic",
	        .syncookies = 1,
	        .challenge_ack_limit = 1000,
	};

	*cfg = d;
}

int
tcp_stack_init(struct tcp_stack *st, const struct ph_conf_tcp *cfg, uint16_t eph_lo,
               uint16_t eph_hi, const struct tcp_ops *ops, void *arg, struct ph_counters *ctr)
{
	memset(st, 0, sizeof(*st));
	st->cfg = *cfg;
	st->ops = ops;
	st->arg = arg;
	st->ctr = ctr;
	st->eph_lo = eph_lo;
	st->eph_hi = eph_hi;
	/* Chosen once: a connection only copies the pointer. */
	if ((st->cc = tcp_cc_find(cfg->cc)) == NULL)
		return -EINVAL;
	st->conn_mask = pow2_at_least(cfg->max_conns ? cfg->max_conns : 1024) - 1;
	st->bind_mask = 1023;
	st->conns = calloc(st->conn_mask + 1, sizeof(*st->conns));
	st->binds = calloc(st->bind_mask + 1, sizeof(*st->binds));
	if (st->conns == NULL || st->binds == NULL) {
		free(st->conns);
		free(st->binds);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i <= st->conn_mask; i++)
		LIST_INIT(&st->conns[i]);
	for (uint32_t i = 0; i <= st->bind_mask; i++)
		LIST_INIT(&st->binds[i]);
	for (int i = 0; i < TCP_WHEEL_SLOTS; i++)
		LIST_INIT(&st->wheel[i]);
	LIST_INIT(&st->all);
	rte_spinlock_init(&st->all_lock);
	LIST_INIT(&st->reap);
	TAILQ_INIT(&st->time_wait);
	arc4random_buf(st->secret, sizeof(st->secret));
	arc4random_buf(st->ts_secret, sizeof(st->ts_secret));
	arc4random_buf(st->eph_table, sizeof(st->eph_table));
	return 0;
}

static void conn_free(struct tcp_conn *c);

void
tcp_stack_fini(struct tcp_stack *st)
{
	struct tcp_conn *c;

	if (st->conns == NULL)
		return;
	while ((c = LIST_FIRST(&st->all)) != NULL) {
		c->user = NULL;
		if (c->state != TCPS_CLOSED || !(c->flags & TF_DEAD))
			tcp_conn_drop(c, 0);
		tcp_reap(st);
	}
	tcp_reap(st);
	while (st->n_ring_cache > 0)
		free(st->ring_cache[--st->n_ring_cache].buf);
	free(st->conns);
	free(st->binds);
	st->conns = st->binds = NULL;
}

/* ---- connections ---- */

/*
 * The table is full: end the oldest TIME-WAIT connection nobody holds, so
 * that a host serving short connections keeps accepting. A server that
 * closes first keeps each connection 2 MSL (60 s): at 1100 closes a second
 * that alone fills 65536 entries, and new peers would be refused for a
 * minute. TIME-WAIT guards a 4-tuple against old duplicates; the oldest
 * entry is the one whose duplicates are least likely still in flight.
 * (Linux, past tcp_max_tw_buckets, skips TIME-WAIT for new closes instead.)
 * The walk is bounded: entries a socket still holds stay. The ended entry
 * counts until tcp_reap() frees it at the end of the call.
 */
static bool
time_wait_recycle(struct tcp_stack *st)
{
	struct tcp_conn *c = TAILQ_FIRST(&st->time_wait);

	for (int i = 0; i < 16 && c != NULL; i++, c = TAILQ_NEXT(c, twlink)) {
		if (c->user != NULL)
			continue;
		tcp_mib(st, PH_MIB_tcp_timewait_recycled);
		tcp_conn_drop(c, 0);
		return true;
	}
	return false;
}

struct tcp_conn *
tcp_conn_new(struct tcp_stack *st, uint16_t ctx, void *user)
{
	struct tcp_conn *c;

	if (st->n_conns >= (st->cfg.max_conns ? st->cfg.max_conns : UINT32_MAX) &&
	    !time_wait_recycle(st)) {
		errno = ENOBUFS;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	c->st = st;
	c->ctx = ctx;
	c->user = user;
	c->state = TCPS_CLOSED;
	c->rto = st->cfg.rto_init_ms;
	c->cc = st->cc;
	c->sndbuf = st->cfg.wmem;
	c->rcvbuf = st->cfg.rmem;
	c->keepidle_ms = st->cfg.keepidle_s * 1000;
	c->keepintvl_ms = st->cfg.keepintvl_s * 1000;
	c->keepcnt = st->cfg.keepcnt;
	TAILQ_INIT(&c->synq);
	TAILQ_INIT(&c->acceptq);
	rte_spinlock_lock(&st->all_lock);
	LIST_INSERT_HEAD(&st->all, c, alink);
	rte_spinlock_unlock(&st->all_lock);
	st->n_conns++;
	return c;
}

/* Only rings of the configured sizes are kept: others (SO_RCVBUF and
 * SO_SNDBUF) are rare, and would fill the cache with what no new connection
 * takes. */
static void
ring_put(struct tcp_stack *st, struct tcp_ring *r)
{
	if (r->buf != NULL && st->n_ring_cache < TCP_RING_CACHE &&
	    (r->cap == st->cfg.rmem || r->cap == st->cfg.wmem)) {
		st->ring_cache[st->n_ring_cache].buf = r->buf;
		st->ring_cache[st->n_ring_cache].cap = r->cap;
		st->n_ring_cache++;
		r->buf = NULL;
	}
	tcp_ring_free(r);
}

static int
ring_get(struct tcp_stack *st, struct tcp_ring *r, uint32_t cap)
{
	for (unsigned i = st->n_ring_cache; i-- > 0;) {
		if (st->ring_cache[i].cap != cap)
			continue;
		r->buf = st->ring_cache[i].buf;
		r->cap = cap;
		r->head = r->len = 0;
		st->ring_cache[i] = st->ring_cache[--st->n_ring_cache];
		return 0;
	}
	return tcp_ring_alloc(r, cap);
}

/* A connection's rings back to the cache (or the heap). Also called on
 * entering TIME-WAIT without a user: nothing is left to send (our FIN is
 * acked) and nobody will read, so the rings go now rather than after 2 MSL.
 * A server that closes first holds a TIME-WAIT per connection for a minute:
 * with the rings kept, that was 512 KiB each (a gigabyte per 2,000), and as
 * long as none had ended, glibc gave every new connection's rings fresh
 * pages from mmap (its threshold only rises once such a block is freed). */
static void
conn_rings_release(struct tcp_conn *c)
{
	c->st->mem -= c->sbuf.cap + c->rbuf.cap;
	ring_put(c->st, &c->sbuf);
	ring_put(c->st, &c->rbuf);
}

static void
conn_free(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;

	conn_rings_release(c);
	rte_spinlock_lock(&st->all_lock);
	LIST_REMOVE(c, alink);
	rte_spinlock_unlock(&st->all_lock);
	st->n_conns--;
	free(c);
}

void
tcp_reap(struct tcp_stack *st)
{
	struct tcp_conn *c;

	while ((c = LIST_FIRST(&st->reap)) != NULL) {
		LIST_REMOVE(c, hlink);
		conn_free(c);
	}
}

static int
conn_rings(struct tcp_conn *c)
{
	if (c->rbuf.buf == NULL && ring_get(c->st, &c->rbuf, c->rcvbuf) != 0)
		return -ENOMEM;
	if (c->sbuf.buf == NULL && ring_get(c->st, &c->sbuf, c->sndbuf) != 0) {
		ring_put(c->st, &c->rbuf);
		return -ENOMEM;
	}
	c->st->mem += c->sbuf.cap + c->rbuf.cap;
	return 0;
}

/* The smallest shift that lets the window cover the whole receive buffer. */
uint8_t
tcp_wscale_for(uint32_t rcvbuf)
{
	uint8_t ws = 0;

	while (ws < 14 && (rcvbuf >> ws) > 65535)
		ws++;
	return ws;
}

void
tcp_set_state(struct tcp_conn *c, enum tcp_state s)
{
	struct tcp_stack *st = c->st;

	if (s == TCPS_ESTABLISHED && !(c->flags & TF_ESTAB_SEEN)) {
		c->flags |= TF_ESTAB_SEEN;
		tcp_mib(st, PH_MIB_tcpCurrEstab);
	}
	/* tcpCurrEstab counts ESTABLISHED and CLOSE-WAIT (RFC 4022). */
	if ((c->flags & TF_ESTAB_SEEN) && s != TCPS_ESTABLISHED && s != TCPS_CLOSE_WAIT) {
		c->flags &= ~TF_ESTAB_SEEN;
		ph_mib_add(st->ctr, PH_MIB_tcpCurrEstab, (uint64_t)-1);
	}
	if (c->state == TCPS_TIME_WAIT && s != TCPS_TIME_WAIT)
		TAILQ_REMOVE(&st->time_wait, c, twlink);
	else if (c->state != TCPS_TIME_WAIT && s == TCPS_TIME_WAIT)
		TAILQ_INSERT_TAIL(&st->time_wait, c, twlink);
	c->state = (uint8_t)s;
}

static void
bind_remove(struct tcp_conn *c)
{
	if (c->flags & TF_BOUND) {
		LIST_REMOVE(c, hlink);
		c->flags &= ~TF_BOUND;
	}
}

static void
listener_flush(struct tcp_conn *l)
{
	struct tcp_conn *c;

	while ((c = TAILQ_FIRST(&l->synq)) != NULL)
		tcp_conn_drop(c, 0);
	while ((c = TAILQ_FIRST(&l->acceptq)) != NULL) {
		/* Accepted by the stack but never by the application. */
		tcp_send_rst(c);
		tcp_conn_drop(c, 0);
	}
}

void
tcp_conn_drop(struct tcp_conn *c, int err)
{
	struct tcp_stack *st = c->st;

	if (c->flags & TF_DEAD)
		return;
	if (err != 0)
		c->error = err;
	bool was_listening = c->state == TCPS_LISTEN;

	if (was_listening)
		listener_flush(c);
	tcp_set_state(c, TCPS_CLOSED);
	tcp_timers_stop(c);
	if (c->hashed) {
		LIST_REMOVE(c, hlink);
		c->hashed = false;
	}
	bind_remove(c);
	/* After it left the table: the hook looks for other listeners. */
	if (was_listening && st->ops->listening != NULL)
		st->ops->listening(st, c, false);
	if (c->parent != NULL) {
		struct tcp_conn *l = c->parent;

		if (c->in_acceptq) {
			TAILQ_REMOVE(&l->acceptq, c, qlink);
			l->n_acceptq--;
		} else {
			TAILQ_REMOVE(&l->synq, c, qlink);
			l->n_synq--;
		}
		c->parent = NULL;
		c->in_acceptq = false;
	}
	if (c->user != NULL) {
		st->ops->wakeup(st, c);
		return;
	}
	c->flags |= TF_DEAD;
	LIST_INSERT_HEAD(&st->reap, c, hlink);
}

void
tcp_enter_time_wait(struct tcp_conn *c)
{
	tcp_set_state(c, TCPS_TIME_WAIT);
	if (c->user == NULL)
		conn_rings_release(c);
	tcp_timer_stop(c, TCP_T_REXMT);
	tcp_timer_stop(c, TCP_T_PERSIST);
	tcp_timer_stop(c, TCP_T_KEEP);
	tcp_timer_stop(c, TCP_T_DELACK);
	tcp_timer_arm(c, TCP_T_2MSL, 2 * (uint64_t)c->st->cfg.msl_ms);
	tcp_wakeup(c);
}

/* Make a closed connection that has been used ready for a new connect: its
 * options stay, its sequence space, timers' state and buffers go. */
static void
tcp_conn_restart(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	const uint32_t keep = TF_NODELAY | TF_CORK | TF_KEEPALIVE | TF_LINGER0 | TF_REUSEADDR |
	                      TF_REUSEPORT | TF_USER_MSS;
	struct tcp_conn saved = *c;

	conn_rings_release(c);
	memset((uint8_t *)c + offsetof(struct tcp_conn, state), 0,
	       sizeof(*c) - offsetof(struct tcp_conn, state));
	c->state = TCPS_CLOSED;
	c->flags = saved.flags & keep;
	c->tos = saved.tos;
	c->ttl = saved.ttl;
	c->adv_mss = (saved.flags & TF_USER_MSS) ? saved.adv_mss : 0;
	c->rto = st->cfg.rto_init_ms;
	c->cc = saved.cc;
	c->keepidle_ms = saved.keepidle_ms;
	c->keepintvl_ms = saved.keepintvl_ms;
	c->keepcnt = saved.keepcnt;
	c->user_timeout_ms = saved.user_timeout_ms;
	c->sndbuf = saved.sndbuf;
	c->rcvbuf = saved.rcvbuf;
	c->laddr = 0;
	c->lport = 0;
	TAILQ_INIT(&c->synq);
	TAILQ_INIT(&c->acceptq);
}

uint16_t
tcp_offer_mss(const struct tcp_conn *c, uint32_t mtu)
{
	uint32_t path_mss = mtu > 40 + 65535 ? 65535 : mtu - 40;

	/* TCP_MAXSEG lowers what we offer, never raises it past the path. */
	if ((c->flags & TF_USER_MSS) && c->adv_mss != 0 && c->adv_mss < path_mss)
		path_mss = c->adv_mss;
	return (uint16_t)path_mss;
}

/* Options and windows of a connection about to send its first SYN. */
static int
conn_prepare(struct tcp_conn *c, const struct tcp_path *path)
{
	struct tcp_stack *st = c->st;
	int rc;

	if ((rc = conn_rings(c)) != 0)
		return rc;
	c->adv_mss = tcp_offer_mss(c, path->mtu);
	c->mss = c->adv_mss;
	c->tso_max = path->tso_max;
	c->rcv_ws = st->cfg.window_scaling ? tcp_wscale_for(c->rcvbuf) : 0;
	c->ts_offset = tcp_ts_offset(st, c->laddr, c->lport, c->raddr, c->rport);
	c->iss = tcp_isn(st, c->laddr, c->lport, c->raddr, c->rport);
	c->flags |= TF_STARTED;
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_buf_seq = c->iss + 1;
	c->snd_sml = c->iss;
	c->recover = c->iss;
	c->rtt_start = st->now;
	c->rexmt_since = st->now;
	return 0;
}

void
tcp_opts_get(const struct tcp_conn *c, struct tcp_conn_opts *o)
{
	*o = (struct tcp_conn_opts){
	        .flags = c->flags & TCP_OPTS_FLAGS,
	        .sndbuf = c->sndbuf,
	        .rcvbuf = c->rcvbuf,
	        .adv_mss = c->adv_mss,
	        .tos = c->tos,
	        .ttl = c->ttl,
	        .keepidle_ms = c->keepidle_ms,
	        .keepintvl_ms = c->keepintvl_ms,
	        .keepcnt = c->keepcnt,
	        .user_timeout_ms = c->user_timeout_ms,
	        .cc = c->cc,
	};
}

void
tcp_opts_set(struct tcp_conn *c, const struct tcp_conn_opts *o)
{
	c->flags = (c->flags & ~(uint32_t)TCP_OPTS_FLAGS) | (o->flags & TCP_OPTS_FLAGS);
	c->sndbuf = o->sndbuf;
	c->rcvbuf = o->rcvbuf;
	c->adv_mss = o->adv_mss;
	c->tos = o->tos;
	c->ttl = o->ttl;
	c->keepidle_ms = o->keepidle_ms;
	c->keepintvl_ms = o->keepintvl_ms;
	c->keepcnt = o->keepcnt;
	c->user_timeout_ms = o->user_timeout_ms;
	c->cc = o->cc;
}

struct tcp_conn *
tcp_child_new(struct tcp_conn *l, const struct tcp_seg *seg)
{
	struct tcp_stack *st = l->st;
	/* A listener of every context gives each connection the one it came in. */
	struct tcp_conn *c = tcp_conn_new(st, l->ctx == TCP_CTX_ANY ? seg->ctx : l->ctx, NULL);
	struct tcp_path path = {.mtu = 1500};
	struct tcp_conn_opts o;

	if (c == NULL)
		return NULL;
	c->laddr = seg->daddr;
	c->lport = seg->dport;
	c->raddr = seg->saddr;
	c->rport = seg->sport;
	tcp_opts_get(l, &o);
	tcp_opts_set(c, &o);
	c->flags |= TF_PASSIVE;
	st->ops->route(st, c->ctx, c->raddr, &path);
	if (conn_prepare(c, &path) != 0) {
		c->flags |= TF_DEAD;
		LIST_INSERT_HEAD(&st->reap, c, hlink);
		return NULL;
	}
	tcp_set_state(c, TCPS_SYN_RECEIVED);
	tcp_hash_insert(c);
	c->parent = l;
	TAILQ_INSERT_TAIL(&l->synq, c, qlink);
	l->n_synq++;
	tcp_mib(st, PH_MIB_tcpPassiveOpens);
	return c;
}

/* ---- user calls ---- */

static struct tcp_conn_list *
bind_bucket(struct tcp_stack *st, uint16_t ctx, uint16_t port)
{
	return &st->binds[((uint32_t)ctx * 31 + port) & st->bind_mask];
}

/* Linux's rules: two sockets may share (ctx, port) when their addresses
 * differ (neither a wildcard), or both set SO_REUSEPORT, or both set
 * SO_REUSEADDR and neither listens. */
static bool
bind_conflict(struct tcp_conn *c, uint32_t addr, uint16_t port, bool listening)
{
	struct tcp_conn *o;

	LIST_FOREACH(o, bind_bucket(c->st, c->ctx, port), hlink)
	{
		if (o == c || o->lport != port || o->ctx != c->ctx)
			continue;
		if (o->laddr != 0 && addr != 0 && o->laddr != addr)
			continue;
		if ((o->flags & TF_REUSEPORT) && (c->flags & TF_REUSEPORT))
			continue;
		if ((o->flags & TF_REUSEADDR) && (c->flags & TF_REUSEADDR) &&
		    o->state != TCPS_LISTEN && !listening)
			continue;
		return true;
	}
	return false;
}

/* Is PORT free for C toward RADDR:RPORT? */
static bool
port_free(struct tcp_conn *c, uint16_t port, uint32_t raddr, uint16_t rport)
{
	if (raddr != 0 && tcp_lookup(c->st, c->ctx, c->laddr, port, raddr, rport) != NULL)
		return false;
	return !bind_conflict(c, c->laddr, port, false);
}

/*
 * An ephemeral port for C (toward RADDR:RPORT when it connects). RFC 6056
 * 3.3.4 (algorithm 4): a keyed offset per destination plus a perturbed,
 * shared counter, so ports are hard to guess and rarely reused soon. A
 * connect first looks in the shared rss range for a port whose replies the
 * NIC (or steering) brings to this stack, so the connection never crosses
 * lcores: about one in N ports with N workers, so N tries on average. When
 * none is left there (or none can be ours), the stack's own slice.
 */
/* A free port of [LO, HI] for C toward RADDR:RPORT, scanning from START;
 * with OWNED, only one whose replies come to this stack. -1 if none; *NEXT
 * (RFC 6056's shared counter) moves past what was scanned. */
static int
scan_ports(struct tcp_conn *c, uint16_t lo, uint16_t hi, uint32_t start, uint16_t *next,
           uint32_t raddr, uint16_t rport, bool owned)
{
	struct tcp_stack *st = c->st;
	uint32_t n = (uint32_t)hi - lo + 1;

	for (uint32_t i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(lo + (start + *next + i) % n);

		if (owned && st->ops->flow_ours(st, c->ctx, c->laddr, port, raddr, rport) != 1)
			continue;
		if (!port_free(c, port, raddr, rport))
			continue;
		*next = (uint16_t)(*next + i + 1);
		return port;
	}
	return -1;
}

/*
 * An ephemeral port for C (toward RADDR:RPORT when it connects). RFC 6056
 * 3.3.4 (algorithm 4): a keyed offset per destination plus a perturbed,
 * shared counter, so ports are hard to guess and rarely reused soon. A
 * connect first looks in the shared rss range for a port whose replies the
 * NIC (or steering) brings to this stack, so the connection never crosses
 * lcores: about one in N ports with N workers, so N tries on average. When
 * none is left there (or none can be ours), the stack's own slice.
 */
static int
pick_port(struct tcp_conn *c, uint32_t raddr, uint16_t rport)
{
	struct tcp_stack *st = c->st;
	uint32_t key[3] = {c->laddr, raddr, (uint32_t)rport << 16 | c->ctx};
	uint32_t offset = (uint32_t)tcp_siphash(st->secret, key, sizeof(key));
	uint16_t *next = &st->eph_table[(offset >> 16) & 255];
	int port = -1;

	if (raddr != 0 && st->rss_lo != 0 && st->ops->flow_ours != NULL &&
	    st->ops->flow_ours(st, c->ctx, c->laddr, st->rss_lo, raddr, rport) >= 0)
		port = scan_ports(c, st->rss_lo, st->rss_hi, offset, next, raddr, rport, true);
	if (port < 0)
		port = scan_ports(c, st->eph_lo, st->eph_hi, offset, next, raddr, rport, false);
	return port < 0 ? -EADDRNOTAVAIL : port;
}

int
tcp_bind(struct tcp_conn *c, uint32_t addr, uint16_t port)
{
	struct tcp_stack *st = c->st;
	int p;

	if (c->state != TCPS_CLOSED || (c->flags & TF_BOUND) || c->lport != 0)
		return -EINVAL;
	if (addr != 0 && !st->ops->local_addr(st, c->ctx, addr))
		return -EADDRNOTAVAIL;
	c->laddr = addr;
	if (port == 0) {
		p = pick_port(c, 0, 0);
		if (p < 0) {
			c->laddr = 0;
			return p;
		}
		port = (uint16_t)p;
	} else if (bind_conflict(c, addr, port, false)) {
		c->laddr = 0;
		return -EADDRINUSE;
	}
	c->lport = port;
	LIST_INSERT_HEAD(bind_bucket(st, c->ctx, port), c, hlink);
	c->flags |= TF_BOUND;
	return 0;
}

int
tcp_listen(struct tcp_conn *c, int backlog)
{
	struct tcp_stack *st = c->st;
	int rc;

	if (c->state == TCPS_LISTEN) {
		c->backlog = backlog <= 0 ? 1 : (uint32_t)backlog;
		if (c->backlog > st->cfg.max_backlog)
			c->backlog = st->cfg.max_backlog;
		return 0;
	}
	if (c->state != TCPS_CLOSED || c->hashed)
		return -EINVAL;
	if (!(c->flags & TF_BOUND) && (rc = tcp_bind(c, 0, 0)) != 0)
		return rc;
	if (bind_conflict(c, c->laddr, c->lport, true))
		return -EADDRINUSE;
	c->backlog = backlog <= 0 ? 1 : (uint32_t)backlog;
	if (c->backlog > st->cfg.max_backlog)
		c->backlog = st->cfg.max_backlog;
	tcp_set_state(c, TCPS_LISTEN);
	if (st->ops->listening != NULL)
		st->ops->listening(st, c, true);
	return 0;
}

int
tcp_connect(struct tcp_conn *c, uint32_t addr, uint16_t port)
{
	struct tcp_stack *st = c->st;
	struct tcp_path path = {.mtu = 1500};
	int rc;

	switch (c->state) {
	case TCPS_CLOSED:
		break;
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
		return -EALREADY;
	case TCPS_LISTEN:
		return -EINVAL;
	default:
		return -EISCONN;
	}
	if (c->hashed)
		return -EISCONN;
	if (c->flags & TF_STARTED) {
		/* A connection that failed: its error first (the "connect
		 * again to learn the result" idiom), then a new attempt. */
		if (c->error != 0) {
			int e = c->error;

			c->error = 0;
			return -e;
		}
		tcp_conn_restart(c);
	}
	if (addr == 0 || port == 0)
		return -ECONNREFUSED;
	if ((rc = st->ops->route(st, c->ctx, addr, &path)) != 0)
		return rc;
	if (c->laddr == 0) {
		if (c->flags & TF_BOUND) {
			bind_remove(c);
			c->laddr = path.saddr;
			LIST_INSERT_HEAD(bind_bucket(st, c->ctx, c->lport), c, hlink);
			c->flags |= TF_BOUND;
		} else {
			c->laddr = path.saddr;
		}
	}
	if (c->lport == 0) {
		rc = pick_port(c, addr, port);
		if (rc < 0)
			return rc;
		c->lport = (uint16_t)rc;
	} else if (tcp_lookup(st, c->ctx, c->laddr, c->lport, addr, port) != NULL) {
		return -EADDRNOTAVAIL;
	}
	/* A bound socket that connects leaves the bind table: its 4-tuple
	 * identifies it now. */
	bind_remove(c);
	c->raddr = addr;
	c->rport = port;
	if ((rc = conn_prepare(c, &path)) != 0)
		return rc;
	tcp_hash_insert(c);
	tcp_set_state(c, TCPS_SYN_SENT);
	tcp_mib(st, PH_MIB_tcpActiveOpens);
	tcp_output(c);
	tcp_reap(st);
	return -EINPROGRESS;
}

struct tcp_conn *
tcp_accept(struct tcp_conn *l, void *user)
{
	struct tcp_conn *c = TAILQ_FIRST(&l->acceptq);

	if (c == NULL)
		return NULL;
	TAILQ_REMOVE(&l->acceptq, c, qlink);
	l->n_acceptq--;
	c->parent = NULL;
	c->in_acceptq = false;
	c->user = user;
	return c;
}

ssize_t
tcp_send(struct tcp_conn *c, const struct iovec *iov, int iovcnt, bool more)
{
	size_t done = 0;

	if (c->error != 0) {
		int e = c->error;

		c->error = 0; /* reported once, as SO_ERROR would be */
		return -e;
	}
	switch (c->state) {
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
		break;
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
		return -EAGAIN; /* wait for the handshake */
	default:
		return -EPIPE; /* never connected too: Linux says EPIPE, not ENOTCONN */
	}
	if (c->flags & TF_FIN_QUEUED)
		return -EPIPE;
	for (int i = 0; i < iovcnt; i++) {
		uint32_t room = tcp_ring_free_space(&c->sbuf);
		uint32_t n = iov[i].iov_len < room ? (uint32_t)iov[i].iov_len : room;

		if (n == 0)
			break;
		tcp_ring_write(&c->sbuf, c->sbuf.len, iov[i].iov_base, n);
		c->sbuf.len += n;
		done += n;
		if (n < iov[i].iov_len)
			break;
	}
	/* MSG_MORE holds only a short tail (as Linux does): full segments
	 * go, so a full ring always drains. */
	if (more)
		c->flags |= TF_MORE;
	else
		c->flags &= ~TF_MORE;
	if (done == 0)
		return -EAGAIN;
	tcp_output(c);
	tcp_reap(c->st);
	return (ssize_t)done;
}

ssize_t
tcp_recv(struct tcp_conn *c, const struct iovec *iov, int iovcnt, size_t len, bool peek)
{
	uint32_t avail = c->rbuf.len, done = 0;

	if (avail == 0) {
		if (c->error != 0 && !(c->flags & TF_RCVD_FIN)) {
			int e = c->error;

			if (e != ETIMEDOUT || c->state == TCPS_CLOSED)
				return -e;
		}
		if ((c->flags & (TF_RCVD_FIN | TF_SHUT_RD)) || c->state == TCPS_CLOSED)
			return !(c->flags & TF_STARTED) && c->state == TCPS_CLOSED ? -ENOTCONN : 0;
		if (c->state == TCPS_LISTEN)
			return -ENOTCONN;
		return -EAGAIN;
	}
	if (len > avail)
		len = avail;
	for (int i = 0; i < iovcnt && done < len; i++) {
		uint32_t n = iov[i].iov_len < len - done ? (uint32_t)iov[i].iov_len : len - done;

		tcp_ring_read(&c->rbuf, done, iov[i].iov_base, n);
		done += n;
	}
	if (!peek && done > 0) {
		uint32_t before = tcp_rcv_window(c);

		tcp_ring_consume(&c->rbuf, done);
		/* Tell the peer when the window opened by enough to matter
		 * (RFC 9293 3.8.6.2.2): two segments or half the buffer. */
		uint32_t after = tcp_rcv_window(c);
		uint32_t mss = c->adv_mss ? c->adv_mss : 536;
		if (c->state == TCPS_ESTABLISHED || c->state == TCPS_FIN_WAIT_1 ||
		    c->state == TCPS_FIN_WAIT_2) {
			if (after >= before + 2 * mss || (before < mss && after >= mss) ||
			    after >= before + c->rbuf.cap / 2) {
				c->flags |= TF_WND_UPDATE;
				tcp_output(c);
				tcp_reap(c->st);
			}
		}
	}
	return done;
}

int
tcp_shutdown(struct tcp_conn *c, int how)
{
	struct tcp_stack *st = c->st;

	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (c->state == TCPS_LISTEN) {
		/* Linux: SHUT_WR does nothing to a listener; its read side
		 * stops listening but keeps the address (listen() again works). */
		if (how != SHUT_WR) {
			listener_flush(c);
			tcp_set_state(c, TCPS_CLOSED);
			if (st->ops->listening != NULL)
				st->ops->listening(st, c, false);
		}
		return 0;
	}
	if (c->state == TCPS_SYN_SENT) {
		/* Linux aborts the connect. */
		tcp_conn_drop(c, 0);
		tcp_reap(st);
		return 0;
	}
	if (c->state == TCPS_CLOSED)
		return -ENOTCONN;
	if (how != SHUT_WR) {
		c->flags |= TF_SHUT_RD;
		tcp_ring_consume(&c->rbuf, c->rbuf.len);
		tcp_wakeup(c);
	}
	if (how != SHUT_RD && !(c->flags & TF_FIN_QUEUED)) {
		c->flags |= TF_FIN_QUEUED;
		if (c->state == TCPS_ESTABLISHED || c->state == TCPS_SYN_RECEIVED)
			tcp_set_state(c, TCPS_FIN_WAIT_1);
		else if (c->state == TCPS_CLOSE_WAIT)
			tcp_set_state(c, TCPS_LAST_ACK);
		tcp_keep_arm(c);
		tcp_output(c);
		tcp_wakeup(c);
	}
	tcp_reap(c->st);
	return 0;
}

void
tcp_abort(struct tcp_conn *c)
{
	tcp_send_rst(c);
	tcp_conn_drop(c, 0);
	tcp_reap(c->st);
}

void
tcp_close(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;

	c->user = NULL;
	c->flags |= TF_ORPHAN;
	switch (c->state) {
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
		tcp_conn_drop(c, 0);
		break;
	default:
		if ((c->flags & TF_LINGER0) || c->rbuf.len > 0) {
			/* Unread data, or SO_LINGER 0: abort (RFC 2525 2.17). */
			if (c->rbuf.len > 0)
				tcp_drop(st, PH_DROP_TCP_DATA_AFTER_CLOSE);
			if (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT)
				tcp_mib(st, PH_MIB_tcpEstabResets);
			tcp_send_rst(c);
			tcp_conn_drop(c, 0);
			break;
		}
		if (!(c->flags & TF_FIN_QUEUED))
			tcp_shutdown(c, SHUT_WR);
		else if (c->state == TCPS_FIN_WAIT_2)
			tcp_timer_arm(c, TCP_T_KEEP, 2 * (uint64_t)st->cfg.msl_ms);
		/* A connection that already ended is freed now. */
		if (c->state == TCPS_CLOSED)
			tcp_conn_drop(c, 0);
		else if (c->state == TCPS_TIME_WAIT)
			conn_rings_release(c);
		break;
	}
	/* A dropped connection whose user let go before: now unowned. */
	if (c->state == TCPS_CLOSED && !(c->flags & TF_DEAD)) {
		c->flags |= TF_DEAD;
		LIST_INSERT_HEAD(&st->reap, c, hlink);
	}
	tcp_reap(st);
}

void
tcp_set_nodelay(struct tcp_conn *c, bool on)
{
	if (on)
		c->flags |= TF_NODELAY;
	else
		c->flags &= ~TF_NODELAY;
	if (on && c->state >= TCPS_ESTABLISHED) {
		tcp_output(c);
		tcp_reap(c->st);
	}
}

void
tcp_set_cork(struct tcp_conn *c, bool on)
{
	if (on) {
		c->flags |= TF_CORK;
		return;
	}
	c->flags &= ~TF_CORK;
	if (c->state >= TCPS_ESTABLISHED) {
		/* Uncorking sends what was held, whatever Nagle says. */
		uint32_t nd = c->flags & TF_NODELAY;

		c->flags |= TF_NODELAY;
		tcp_output(c);
		c->flags = (c->flags & ~TF_NODELAY) | nd;
		tcp_reap(c->st);
	}
}

void
tcp_set_keepalive(struct tcp_conn *c, bool on)
{
	if (on)
		c->flags |= TF_KEEPALIVE;
	else
		c->flags &= ~TF_KEEPALIVE;
	c->keep_probes = 0;
	tcp_keep_arm(c);
}

int
tcp_set_bufsize(struct tcp_conn *c, bool rcv, uint32_t bytes)
{
	/* The rings are sized when the connection starts. */
	if (rcv)
		c->rcvbuf = bytes;
	else
		c->sndbuf = bytes;
	return 0;
}

bool
tcp_port_listening(struct tcp_stack *st, uint16_t port)
{
	struct tcp_conn *c;

	/* Listeners of every context on PORT share the bind buckets of
	 * (ctx, port): walk the table rather than guess the contexts. */
	for (uint32_t b = 0; b <= st->bind_mask; b++)
		LIST_FOREACH(c, &st->binds[b], hlink)
	if (c->lport == port && c->state == TCPS_LISTEN)
		return true;
	return false;
}

uint32_t
tcp_readable(const struct tcp_conn *c)
{
	return c->rbuf.len;
}

uint32_t
tcp_poll(const struct tcp_conn *c)
{
	uint32_t ev = 0;

	if (c->state == TCPS_LISTEN)
		return TAILQ_EMPTY(&c->acceptq) ? 0 : EPOLLIN | EPOLLRDNORM;
	if (c->error != 0)
		ev |= EPOLLERR;
	if (c->rbuf.len > 0)
		ev |= EPOLLIN | EPOLLRDNORM;
	if (c->flags & (TF_RCVD_FIN | TF_SHUT_RD))
		ev |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (c->state == TCPS_CLOSED && (c->flags & TF_STARTED)) {
		/* Reset, timed out or fully closed. */
		ev |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLHUP | EPOLLOUT;
	} else if (c->state == TCPS_CLOSED) {
		ev |= EPOLLOUT | EPOLLHUP; /* never connected: as Linux */
	}
	if ((c->flags & TF_RCVD_FIN) && (c->flags & TF_FIN_QUEUED))
		ev |= EPOLLHUP;
	if ((c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT) &&
	    !(c->flags & TF_FIN_QUEUED) &&
	    tcp_ring_free_space(&c->sbuf) >= (c->sbuf.cap / 4 ? c->sbuf.cap / 4 : 1))
		ev |= EPOLLOUT | EPOLLWRNORM;
	else if (c->flags & TF_FIN_QUEUED && c->state != TCPS_CLOSED)
		ev |= EPOLLOUT | EPOLLWRNORM; /* a write fails at once with EPIPE */
	return ev;
}

/* Linux's numbering of TCP_INFO's tcpi_state. */
static const uint8_t linux_state[TCPS_MAX] = {
        [TCPS_CLOSED] = 7,       [TCPS_LISTEN] = 10,     [TCPS_SYN_SENT] = 2,
        [TCPS_SYN_RECEIVED] = 3, [TCPS_ESTABLISHED] = 1, [TCPS_FIN_WAIT_1] = 4,
        [TCPS_FIN_WAIT_2] = 5,   [TCPS_CLOSE_WAIT] = 8,  [TCPS_CLOSING] = 11,
        [TCPS_LAST_ACK] = 9,     [TCPS_TIME_WAIT] = 6,
};

void
tcp_get_info(const struct tcp_conn *c, struct tcp_info *ti)
{
	uint32_t mss = tcp_data_mss(c);

	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = linux_state[c->state];
	ti->tcpi_retransmits = c->rexmits;
	ti->tcpi_backoff = c->backoff;
	if (c->flags & TF_TS_OK)
		ti->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (c->flags & TF_SACK_OK)
		ti->tcpi_options |= TCPI_OPT_SACK;
	if (c->flags & TF_WS_OK) {
		ti->tcpi_options |= TCPI_OPT_WSCALE;
		ti->tcpi_snd_wscale = c->snd_ws & 15;
		ti->tcpi_rcv_wscale = c->rcv_ws & 15;
	}
	ti->tcpi_rto = tcp_rto_backed_off(c) * 1000;
	ti->tcpi_snd_mss = mss;
	ti->tcpi_rcv_mss = c->adv_mss;
	ti->tcpi_unacked = mss ? (c->snd_max - c->snd_una + mss - 1) / mss : 0;
	ti->tcpi_last_data_recv = (uint32_t)(c->st->now - c->last_rcv);
	ti->tcpi_pmtu = c->adv_mss + 40u;
	ti->tcpi_rcv_ssthresh = c->rbuf.cap;
	ti->tcpi_rtt = (c->srtt >> 3) * 1000;
	ti->tcpi_rttvar = (c->rttvar >> 2) * 1000;
	ti->tcpi_snd_ssthresh = c->ssthresh == UINT32_MAX ? 0x7fffffff : c->ssthresh / mss;
	ti->tcpi_snd_cwnd = mss ? c->cwnd / mss : 0;
	ti->tcpi_advmss = c->adv_mss;
	ti->tcpi_rcv_space = c->rbuf.cap;
	ti->tcpi_total_retrans = c->total_retrans;
}
