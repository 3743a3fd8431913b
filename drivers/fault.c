/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection (see fault.h): the spec parser and the per-queue engine
 * that sits between a port's bursts and Ethernet. Needs no EAL: it takes the
 * clock as an argument and mbufs from whatever pool it is given, so the unit
 * tests run it on a virtual clock and a fake pool. The ethdev calls around
 * it are in fault_eth.c.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <rte_common.h>
#include <rte_ether.h>

#include "conf/conf.h"
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "core/counters.h"
#include "drivers/fault.h"

const char *const fault_ctr_names[FAULT_CTR_MAX] = {
#define FAULT_X(name, str) [FAULT_CTR_##name] = str,
        FAULT_COUNTERS(FAULT_X)
#undef FAULT_X
};

/* ---- the spec ---- */

void
fault_spec_init(struct fault_spec *s)
{
	*s = (struct fault_spec){.dir = FAULT_RX | FAULT_TX, .seed = 1, .ge_bad = 1};
}

bool
fault_spec_active(const struct fault_spec *s)
{
	return s->drop > 0 || s->ge || s->dup > 0 || s->delay_ms > 0 || s->reorder > 0 ||
	       s->corrupt > 0 || s->truncate > 0 || s->rate_mbps > 0 || s->blackhole;
}

uint32_t
fault_spec_depth(const struct fault_spec *s)
{
	double two_ms = s->rate_mbps * 1e6 / 8 * 0.002;

	if (s->burst != 0)
		return s->burst;
	if (two_ms > FAULT_BURST_MAX)
		return FAULT_BURST_MAX;
	return two_ms > 65536 ? (uint32_t)two_ms : 65536;
}

unsigned
fault_spec_mbufs(const struct fault_spec *s)
{
	unsigned n = 0;

	if (!fault_spec_active(s))
		return 0;
	if (s->delay_ms > 0 || s->reorder > 0)
		n += FAULT_HOLD_MAX;
	if (s->rate_mbps > 0)
		n += s->queue;
	return n;
}

static int __attribute__((format(printf, 3, 4)))
spec_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* "0.01" or "1%". */
static int
parse_prob(const char *v, double *out)
{
	char *end;
	double d;

	if (*v == '\0' || isspace((unsigned char)*v))
		return -1;
	errno = 0;
	d = strtod(v, &end);
	if (end == v || errno != 0 || !isfinite(d))
		return -1;
	if (*end == '%') {
		d /= 100;
		end++;
	}
	if (*end != '\0' || d < 0 || d > 1)
		return -1;
	*out = d;
	return 0;
}

static int
parse_uint(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long u;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	u = strtoull(v, &end, 0);
	if (*end != '\0' || errno != 0 || u < min || u > max)
		return -1;
	*out = u;
	return 0;
}

enum spec_key {
	K_DROP,
	K_GE,
	K_DUP,
	K_DELAY,
	K_REORDER,
	K_CORRUPT,
	K_TRUNCATE,
	K_RATE,
	K_BURST,
	K_QUEUE,
	K_ACKS_ONLY,
	K_BLACKHOLE,
	K_DIR,
	K_SEED,
	K_MAX
};

static const char *const spec_keys[K_MAX] = {
        [K_DROP] = "drop",
        [K_GE] = "ge",
        [K_DUP] = "dup",
        [K_DELAY] = "delay",
        [K_REORDER] = "reorder",
        [K_CORRUPT] = "corrupt",
        [K_TRUNCATE] = "truncate",
        [K_RATE] = "rate",
        [K_BURST] = "burst",
        [K_QUEUE] = "queue",
        [K_ACKS_ONLY] = "acks-only",
        [K_BLACKHOLE] = "blackhole",
        [K_DIR] = "dir",
        [K_SEED] = "seed",
};

/* In format strings only. */
#define PROB_RANGE "not a probability (0..1 or 0%%..100%%)"

/* "P:R[:B[:G]]" */
static int
parse_ge(struct fault_spec *t, char *v, char *err, size_t len)
{
	double x[4] = {0, 0, 1, 0};
	unsigned n = 0;
	char *save = NULL;

	for (char *p = strtok_r(v, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save)) {
		if (n == 4)
			return spec_err(
			        err, len,
			        "ge: '%s' is one part too many (P:R[:LOSS_BAD[:LOSS_GOOD]])", p);
		if (parse_prob(p, &x[n]) < 0)
			return spec_err(err, len, "ge: '%s' is " PROB_RANGE, p);
		n++;
	}
	if (n < 2)
		return spec_err(err, len,
		                "ge: give P:R[:LOSS_BAD[:LOSS_GOOD]] (good->bad, "
		                "bad->good, loss in each state)");
	if (x[1] == 0)
		return spec_err(err, len, "ge: R (bad->good) is 0: the link would never recover");
	t->ge = true;
	t->ge_p = x[0];
	t->ge_r = x[1];
	t->ge_bad = x[2];
	t->ge_good = x[3];
	return 0;
}

static int
parse_item(struct fault_spec *t, enum spec_key k, const char *key, char *v, char *err, size_t len)
{
	double *prob[K_MAX] = {[K_DROP] = &t->drop,
	                       [K_DUP] = &t->dup,
	                       [K_REORDER] = &t->reorder,
	                       [K_CORRUPT] = &t->corrupt,
	                       [K_TRUNCATE] = &t->truncate};
	uint64_t u, u2;
	char *end;

	if (k == K_ACKS_ONLY) {
		if (v != NULL)
			return spec_err(err, len, "acks-only takes no value");
		t->acks_only = true;
		return 0;
	}
	if (v == NULL || *v == '\0')
		return spec_err(err, len, "%s needs a value (%s=...)", key, key);
	if (prob[k] != NULL) {
		if (parse_prob(v, prob[k]) < 0)
			return spec_err(err, len, "%s=%s: " PROB_RANGE, key, v);
		return 0;
	}
	switch (k) {
	case K_GE:
		return parse_ge(t, v, err, len);
	case K_DELAY:
		if (parse_uint(v, 0, 60000, &u) < 0)
			return spec_err(err, len, "delay=%s: not a number of ms in 0..60000", v);
		t->delay_ms = (uint32_t)u;
		return 0;
	case K_RATE: {
		double d;

		errno = 0;
		d = strtod(v, &end);
		if (end == v || *end != '\0' || errno != 0 || !isfinite(d) || d <= 0 || d > 1e6)
			return spec_err(err, len,
			                "rate=%s: not a rate in Mbit/s (above 0, up to 1e6)", v);
		t->rate_mbps = d;
		return 0;
	}
	case K_BURST:
		if (parse_uint(v, FAULT_BURST_MIN, FAULT_BURST_MAX, &u) < 0)
			return spec_err(err, len, "burst=%s: not a number of bytes in %u..%u", v,
			                FAULT_BURST_MIN, FAULT_BURST_MAX);
		t->burst = (uint32_t)u;
		return 0;
	case K_QUEUE:
		if (parse_uint(v, 0, FAULT_QUEUE_MAX, &u) < 0)
			return spec_err(err, len, "queue=%s: not a number of packets in 0..%u", v,
			                FAULT_QUEUE_MAX);
		t->queue = (uint32_t)u;
		return 0;
	case K_BLACKHOLE: {
		char *dash = strchr(v, '-');

		if (dash == NULL)
			return spec_err(err, len, "blackhole=%s: give FROM-TO in ms after start",
			                v);
		*dash = '\0';
		if (parse_uint(v, 0, UINT32_MAX, &u) < 0 ||
		    parse_uint(dash + 1, 0, UINT32_MAX, &u2) < 0) {
			*dash = '-';
			return spec_err(err, len, "blackhole=%s: give FROM-TO in ms after start",
			                v);
		}
		*dash = '-';
		if (u2 <= u)
			return spec_err(err, len, "blackhole=%s: it ends before it starts", v);
		t->blackhole = true;
		t->bh_from_ms = (uint32_t)u;
		t->bh_to_ms = (uint32_t)u2;
		return 0;
	}
	case K_DIR:
		if (strcmp(v, "rx") == 0)
			t->dir = FAULT_RX;
		else if (strcmp(v, "tx") == 0)
			t->dir = FAULT_TX;
		else if (strcmp(v, "both") == 0)
			t->dir = FAULT_RX | FAULT_TX;
		else
			return spec_err(err, len, "dir=%s: not rx, tx or both", v);
		return 0;
	case K_SEED:
		if (parse_uint(v, 0, UINT64_MAX, &u) < 0)
			return spec_err(err, len, "seed=%s: not an unsigned 64-bit number", v);
		t->seed = u;
		return 0;
	default:
		return spec_err(err, len, "%s: internal error", key);
	}
}

int
fault_spec_parse(struct fault_spec *s, const char *text, char *err, size_t errlen)
{
	char buf[FAULT_SPEC_LEN], *rest, *item;
	struct fault_spec t = *s;
	bool seen[K_MAX] = {false};

	if (strlcpy(buf, text, sizeof(buf)) >= sizeof(buf))
		return spec_err(err, errlen, "longer than %d characters", FAULT_SPEC_LEN - 1);
	rest = ph_trim(buf);
	if (*rest == '\0')
		return spec_err(err, errlen,
		                "empty (give faults like drop=0.01,dup=0.001, or none)");
	if (strcmp(rest, "none") == 0) {
		fault_spec_init(s);
		return 0;
	}
	while ((item = strsep(&rest, ",")) != NULL) {
		char *eq, *key, *v = NULL;
		int k;

		key = ph_trim(item);
		if (*key == '\0')
			return spec_err(err, errlen,
			                "an empty item (two commas, or one at the end)");
		if ((eq = strchr(key, '=')) != NULL) {
			*eq = '\0';
			v = ph_trim(eq + 1);
			key = ph_trim(key);
		}
		for (k = 0; k < K_MAX; k++)
			if (strcmp(key, spec_keys[k]) == 0)
				break;
		if (k == K_MAX)
			return spec_err(
			        err, errlen,
			        "unknown fault '%s' (known: drop, ge, dup, delay, reorder, "
			        "corrupt, truncate, rate, burst, queue, acks-only, blackhole, "
			        "dir, seed, or none)",
			        key);
		if (seen[k])
			return spec_err(err, errlen, "%s given twice", key);
		seen[k] = true;
		if (parse_item(&t, (enum spec_key)k, key, v, err, errlen) < 0)
			return -1;
	}
	if ((t.burst != 0 || t.queue != 0) && t.rate_mbps == 0)
		return spec_err(err, errlen, "burst and queue shape a rate: give rate=MBIT too");
	*s = t;
	return 0;
}

/* Append ",key=value" (no comma first). */
static void __attribute__((format(printf, 3, 4)))
spec_cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n >= len)
		return;
	if (n > 0 && n + 1 < len)
		buf[n++] = ',';
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

void
fault_spec_format(const struct fault_spec *s, char *buf, size_t len)
{
	static const char *const dirs[] = {"none", "rx", "tx", "both"};

	if (len == 0)
		return;
	buf[0] = '\0';
	if (!fault_spec_active(s)) {
		strlcpy(buf, "none", len);
		return;
	}
	if (s->drop > 0)
		spec_cat(buf, len, "drop=%.10g", s->drop);
	if (s->ge)
		spec_cat(buf, len, "ge=%.10g:%.10g:%.10g:%.10g", s->ge_p, s->ge_r, s->ge_bad,
		         s->ge_good);
	if (s->dup > 0)
		spec_cat(buf, len, "dup=%.10g", s->dup);
	if (s->delay_ms > 0)
		spec_cat(buf, len, "delay=%u", s->delay_ms);
	if (s->reorder > 0)
		spec_cat(buf, len, "reorder=%.10g", s->reorder);
	if (s->corrupt > 0)
		spec_cat(buf, len, "corrupt=%.10g", s->corrupt);
	if (s->truncate > 0)
		spec_cat(buf, len, "truncate=%.10g", s->truncate);
	if (s->rate_mbps > 0) {
		spec_cat(buf, len, "rate=%.10g", s->rate_mbps);
		if (s->burst != 0)
			spec_cat(buf, len, "burst=%u", s->burst);
		spec_cat(buf, len, "queue=%u", s->queue);
	}
	if (s->acks_only)
		spec_cat(buf, len, "acks-only");
	if (s->blackhole)
		spec_cat(buf, len, "blackhole=%u-%u", s->bh_from_ms, s->bh_to_ms);
	spec_cat(buf, len, "dir=%s", dirs[s->dir & 3]);
	spec_cat(buf, len, "seed=%" PRIu64, s->seed);
}

/* ---- building blocks ---- */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
fault_rng_seed(struct fault_rng *r, uint64_t seed, uint16_t port, uint16_t queue, uint8_t dir)
{
	/* Mixed in high bits, so small seeds give each queue a stream of its own. */
	uint64_t x = seed ^ ((uint64_t)port << 48 | (uint64_t)queue << 32 | (uint64_t)dir << 24);

	for (unsigned i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

uint64_t
fault_threshold(double p)
{
	if (!(p > 0))
		return 0;
	if (p >= 1)
		return UINT64_MAX;
	/* Below 1 the product stays below 2^64 (p is at most 1 - 2^-53). */
	return (uint64_t)(p * 18446744073709551616.0);
}

void
fault_ge_init(struct fault_ge *g, const struct fault_spec *s)
{
	*g = (struct fault_ge){
	        .p = fault_threshold(s->ge_p),
	        .r = fault_threshold(s->ge_r),
	        .loss_bad = fault_threshold(s->ge_bad),
	        .loss_good = fault_threshold(s->ge_good),
	};
}

bool
fault_ge_lose(struct fault_ge *g, struct fault_rng *r)
{
	bool lose = fault_chance(r, g->bad ? g->loss_bad : g->loss_good);

	if (g->bad) {
		if (fault_chance(r, g->r))
			g->bad = false;
	} else if (fault_chance(r, g->p)) {
		g->bad = true;
	}
	return lose;
}

void
fault_tb_init(struct fault_tb *tb, uint64_t bytes_per_s, uint32_t depth_bytes, uint64_t hz,
              uint64_t now)
{
	tb->rate = bytes_per_s > 0 ? bytes_per_s : 1;
	tb->hz = hz;
	tb->depth = (uint64_t)depth_bytes * hz;
	tb->level = tb->depth;
	tb->last = now;
}

bool
fault_tb_take(struct fault_tb *tb, uint32_t bytes, uint64_t now)
{
	uint64_t cost = (uint64_t)bytes * tb->hz;

	if (now > tb->last) {
		uint64_t dt = now - tb->last, room = tb->depth - tb->level;

		/* Compared before multiplying: a long idle time must not overflow. */
		if (dt > room / tb->rate)
			tb->level = tb->depth;
		else
			tb->level += dt * tb->rate;
		tb->last = now;
	}
	if (tb->level < cost)
		return false;
	tb->level -= cost;
	return true;
}

/* ---- one queue ---- */

struct fault_held {
	struct rte_mbuf *m;
	uint64_t due;
};

struct fault_q {
	/* Set at creation. */
	struct rte_mempool *pool;
	uint64_t start;
	uint64_t t_drop, t_dup, t_reorder, t_corrupt, t_truncate;
	uint64_t hold_ticks;
	uint64_t bh_from, bh_to; /* ticks after start */
	bool hold_all;           /* delay= without reorder=: every packet */
	bool blackhole, acks_only, ge_on, rate_on;
	uint8_t dir;

	/* Written by the owning lcore only. */
	struct fault_rng rng;
	struct fault_ge ge;
	struct fault_tb tb;
	struct fault_held *hold; /* FIFO: one hold time, so due times never decrease */
	uint32_t hold_head, hold_n, hold_cap;
	struct rte_mbuf **rq; /* packets waiting for tokens */
	uint32_t rq_head, rq_n, rq_cap, rq_mask;
	uint64_t ctr[FAULT_CTR_MAX]; /* read by telemetry */
};

static uint64_t
ms_ticks(uint64_t ms, uint64_t hz)
{
	return (uint64_t)((double)ms * (double)hz / 1000.0);
}

struct fault_q *
fault_q_create(const struct fault_spec *s, uint8_t dir, uint16_t port, uint16_t queue,
               struct rte_mempool *pool, uint64_t hz, uint64_t start, int socket)
{
	bool hold = s->delay_ms > 0 || s->reorder > 0;
	uint32_t rq_cap = 1;
	struct fault_q *q;
	size_t sz;

	while (rq_cap < s->queue)
		rq_cap <<= 1;
	sz = sizeof(*q) + (hold ? FAULT_HOLD_MAX * sizeof(struct fault_held) : 0) +
	     (s->queue > 0 ? rq_cap * sizeof(struct rte_mbuf *) : 0);
	q = rte_zmalloc_socket("ph_fault_q", sz, RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	q->pool = pool;
	q->start = start;
	q->dir = dir;
	q->t_drop = fault_threshold(s->drop);
	q->t_dup = fault_threshold(s->dup);
	q->t_reorder = fault_threshold(s->reorder);
	q->t_corrupt = fault_threshold(s->corrupt);
	q->t_truncate = fault_threshold(s->truncate);
	q->hold_all = s->delay_ms > 0 && s->reorder == 0;
	q->hold_ticks = ms_ticks(s->delay_ms > 0 ? s->delay_ms : FAULT_REORDER_MS, hz);
	q->blackhole = s->blackhole;
	q->bh_from = ms_ticks(s->bh_from_ms, hz);
	q->bh_to = ms_ticks(s->bh_to_ms, hz);
	q->acks_only = s->acks_only;
	q->ge_on = s->ge;
	fault_ge_init(&q->ge, s);
	q->rate_on = s->rate_mbps > 0;
	if (q->rate_on)
		fault_tb_init(&q->tb, (uint64_t)(s->rate_mbps * 1e6 / 8), fault_spec_depth(s), hz,
		              start);
	fault_rng_seed(&q->rng, s->seed, port, queue, dir);
	if (hold) {
		q->hold = (struct fault_held *)(q + 1);
		q->hold_cap = FAULT_HOLD_MAX;
	}
	if (s->queue > 0) {
		q->rq = (struct rte_mbuf **)((char *)(q + 1) +
		                             (hold ? FAULT_HOLD_MAX * sizeof(struct fault_held)
		                                   : 0));
		q->rq_cap = s->queue;
		q->rq_mask = rq_cap - 1;
	}
	return q;
}

static unsigned
fault_q_drain(struct fault_q *q)
{
	unsigned n = 0;

	for (; q->hold_n > 0; q->hold_n--, n++) {
		rte_pktmbuf_free(q->hold[q->hold_head].m);
		q->hold_head = (q->hold_head + 1) & (FAULT_HOLD_MAX - 1);
	}
	for (; q->rq_n > 0; q->rq_n--, n++) {
		rte_pktmbuf_free(q->rq[q->rq_head]);
		q->rq_head = (q->rq_head + 1) & q->rq_mask;
	}
	return n;
}

unsigned
fault_q_free(struct fault_q *q)
{
	unsigned n;

	if (q == NULL)
		return 0;
	n = fault_q_drain(q);
	rte_free(q);
	return n;
}

static inline void
fault_count(struct fault_q *q, enum fault_ctr c)
{
	ph_ctr_add(&q->ctr[c], 1);
}

uint64_t
fault_q_ctr(const struct fault_q *q, enum fault_ctr c)
{
	return ph_ctr_read(&q->ctr[c]);
}

unsigned
fault_q_held(const struct fault_q *q)
{
	return q->hold_n + q->rq_n;
}

uint16_t
fault_q_room(const struct fault_q *q, uint16_t cap)
{
	return q->t_dup != 0 ? cap / 2 : cap;
}

/* What the faults need to know of a frame: where L3 starts and ends, and
 * whether it is a pure TCP ACK. Read through rte_pktmbuf_read: any chain. */
struct fault_frame {
	uint32_t l2;     /* Ethernet header, with an 802.1Q tag if any */
	uint32_t l3_end; /* end of the IPv4 datagram (or of the frame) */
	bool ipv4;
	bool pure_ack;
};

static void
fault_frame_parse(const struct rte_mbuf *m, struct fault_frame *f)
{
	uint32_t len = rte_pktmbuf_pkt_len(m), ihl, tot, doff;
	uint8_t eb[18], ib[20], tb[20];
	const uint8_t *e, *ip, *tcp;
	uint16_t type;

	*f = (struct fault_frame){.l2 = RTE_MIN(len, (uint32_t)RTE_ETHER_HDR_LEN), .l3_end = len};
	if (len < RTE_ETHER_HDR_LEN)
		return;
	e = rte_pktmbuf_read(m, 0, RTE_MIN(len, (uint32_t)sizeof(eb)), eb);
	type = (uint16_t)(e[12] << 8 | e[13]);
	if (type == RTE_ETHER_TYPE_VLAN && len >= 18) {
		type = (uint16_t)(e[16] << 8 | e[17]);
		f->l2 = 18;
	}
	if (type != RTE_ETHER_TYPE_IPV4 || (ip = rte_pktmbuf_read(m, f->l2, 20, ib)) == NULL)
		return;
	ihl = (ip[0] & 15u) * 4;
	tot = (uint32_t)ip[2] << 8 | ip[3];
	if (ip[0] >> 4 != 4 || ihl < 20 || tot < ihl)
		return;
	f->ipv4 = true;
	f->l3_end = RTE_MIN(f->l2 + tot, len);
	/* A TCP segment that is not a fragment (nor a first fragment). */
	if (ip[9] != IPPROTO_TCP || ((ip[6] << 8 | ip[7]) & 0x3fff) != 0)
		return;
	if ((tcp = rte_pktmbuf_read(m, f->l2 + ihl, 20, tb)) == NULL)
		return;
	doff = (tcp[12] >> 4) * 4u;
	f->pure_ack = doff >= 20 && tot == ihl + doff && (tcp[13] & RTE_TCP_ACK_FLAG) &&
	              !(tcp[13] & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG));
}

static bool
pkt_exclusive(const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next)
		if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1)
			return false;
	return true;
}

/* M, or a copy of it when anyone else may see its bytes or header (a TX
 * packet still referenced by a retransmission queue must not change). NULL
 * when no copy could be made (M is then untouched). */
static struct rte_mbuf *
fault_private(struct fault_q *q, struct rte_mbuf *m)
{
	struct rte_mbuf *c;

	if (pkt_exclusive(m))
		return m;
	c = rte_pktmbuf_copy(m, q->pool, 0, UINT32_MAX);
	if (c == NULL) {
		fault_count(q, FAULT_CTR_COPY_FAILED);
		return NULL;
	}
	rte_pktmbuf_free(m);
	return c;
}

/*
 * Before the bytes change: on TX, fill the checksums the NIC was asked to
 * (it would otherwise sum the corrupted bytes and hide the fault, or sum
 * past a truncated end); on RX, forget what the NIC said about them.
 */
static void
fault_csum_fixup(struct fault_q *q, struct rte_mbuf *m)
{
	uint64_t ol = m->ol_flags;
	struct rte_ipv4_hdr *ip;
	uint16_t *field = NULL;

	if (q->dir == FAULT_RX) {
		m->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
		return;
	}
	if (!(ol & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK)))
		return;
	m->ol_flags &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK);
	/* The stack keeps every header in the first segment. */
	if (!(ol & RTE_MBUF_F_TX_IPV4) || m->l2_len + m->l3_len + 20u > m->data_len)
		return;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	if (ol & RTE_MBUF_F_TX_IP_CKSUM) {
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	if ((ol & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM)
		field = rte_pktmbuf_mtod_offset(
		        m, uint16_t *, m->l2_len + m->l3_len + offsetof(struct rte_tcp_hdr, cksum));
	else if ((ol & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_UDP_CKSUM)
		field = rte_pktmbuf_mtod_offset(m, uint16_t *,
		                                m->l2_len + m->l3_len +
		                                        offsetof(struct rte_udp_hdr, dgram_cksum));
	if (field != NULL) {
		*field = 0;
		*field = rte_ipv4_udptcp_cksum_mbuf(m, ip, (uint16_t)(m->l2_len + m->l3_len));
	}
}

static uint8_t *
pkt_byte(struct rte_mbuf *m, uint32_t off)
{
	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	return m != NULL ? rte_pktmbuf_mtod_offset(m, uint8_t *, off) : NULL;
}

/* Cut the packet to LEN bytes (0 < LEN < its length), across segments. */
static void
pkt_cut(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *s = m;
	uint32_t off = 0;
	uint16_t segs = 1;

	while (off + s->data_len < len) {
		off += s->data_len;
		s = s->next;
		segs++;
	}
	s->data_len = (uint16_t)(len - off);
	if (s->next != NULL) {
		rte_pktmbuf_free(s->next);
		s->next = NULL;
	}
	m->nb_segs = segs;
	m->pkt_len = len;
}

static struct rte_mbuf *
fault_corrupt(struct fault_q *q, struct rte_mbuf *m)
{
	struct fault_frame f;
	struct rte_mbuf *p;
	uint64_t r;
	uint8_t *b;

	/* Only IPv4: its checksums catch a flipped bit, ARP has none. */
	fault_frame_parse(m, &f);
	if (!f.ipv4 || f.l3_end <= f.l2 || (p = fault_private(q, m)) == NULL)
		return m;
	fault_csum_fixup(q, p);
	r = fault_rng_next(&q->rng);
	b = pkt_byte(p, f.l2 + (uint32_t)((r >> 3) % (f.l3_end - f.l2)));
	if (b != NULL) {
		*b ^= (uint8_t)(1u << (r & 7));
		fault_count(q, FAULT_CTR_CORRUPTED);
	}
	return p;
}

static struct rte_mbuf *
fault_truncate(struct fault_q *q, struct rte_mbuf *m)
{
	struct fault_frame f;
	struct rte_mbuf *p;

	/* At least one byte of the datagram goes: cutting padding alone is no fault. */
	fault_frame_parse(m, &f);
	if (f.l3_end <= f.l2 || (p = fault_private(q, m)) == NULL)
		return m;
	fault_csum_fixup(q, p);
	pkt_cut(p, f.l2 + (uint32_t)(fault_rng_next(&q->rng) % (f.l3_end - f.l2)));
	fault_count(q, FAULT_CTR_TRUNCATED);
	return p;
}

struct fault_out {
	struct rte_mbuf **v;
	uint16_t n, cap;
};

static void
fault_emit(struct fault_q *q, struct rte_mbuf *m, struct fault_out *o)
{
	if (o->n < o->cap) {
		o->v[o->n++] = m;
		return;
	}
	/* The caller gave less room than fault_q_room() asked for. */
	rte_pktmbuf_free(m);
	fault_count(q, FAULT_CTR_HELD_OVERFLOW);
}

/* The last stage: the token bucket, and its queue. */
static void
fault_rate(struct fault_q *q, struct rte_mbuf *m, struct fault_out *o, uint64_t now)
{
	if (!q->rate_on || (q->rq_n == 0 && fault_tb_take(&q->tb, rte_pktmbuf_pkt_len(m), now))) {
		fault_emit(q, m, o);
		return;
	}
	if (q->rq_n < q->rq_cap) {
		q->rq[(q->rq_head + q->rq_n) & q->rq_mask] = m;
		q->rq_n++;
		fault_count(q, FAULT_CTR_RATE_QUEUED);
		return;
	}
	rte_pktmbuf_free(m);
	fault_count(q, FAULT_CTR_RATE_DROPPED);
}

static void
fault_hold(struct fault_q *q, struct rte_mbuf *m, uint64_t now, enum fault_ctr why)
{
	if (q->hold_n == q->hold_cap) {
		rte_pktmbuf_free(m);
		fault_count(q, FAULT_CTR_HELD_OVERFLOW);
		return;
	}
	q->hold[(q->hold_head + q->hold_n) & (FAULT_HOLD_MAX - 1)] =
	        (struct fault_held){.m = m, .due = now + q->hold_ticks};
	q->hold_n++;
	fault_count(q, why);
}

static void
fault_one(struct fault_q *q, struct rte_mbuf *m, struct fault_out *o, uint64_t now)
{
	struct rte_mbuf *pkt[2] = {m, NULL};
	unsigned n = 1;

	if (q->acks_only) {
		struct fault_frame f;

		fault_frame_parse(m, &f);
		if (!f.pure_ack) {
			fault_emit(q, m, o);
			return;
		}
	}
	fault_count(q, FAULT_CTR_SELECTED);
	if (q->blackhole) {
		uint64_t t = now > q->start ? now - q->start : 0;

		if (t >= q->bh_from && t < q->bh_to) {
			rte_pktmbuf_free(m);
			fault_count(q, FAULT_CTR_BLACKHOLED);
			return;
		}
	}
	if ((q->ge_on && fault_ge_lose(&q->ge, &q->rng)) || fault_chance(&q->rng, q->t_drop)) {
		rte_pktmbuf_free(m);
		fault_count(q, FAULT_CTR_DROPPED);
		return;
	}
	if (fault_chance(&q->rng, q->t_dup)) {
		/* A copy, not a reference: the stack rewrites received packets in place. */
		pkt[1] = rte_pktmbuf_copy(m, q->pool, 0, UINT32_MAX);
		if (pkt[1] != NULL) {
			n = 2;
			fault_count(q, FAULT_CTR_DUPLICATED);
		} else {
			fault_count(q, FAULT_CTR_COPY_FAILED);
		}
	}
	for (unsigned k = 0; k < n; k++) {
		struct rte_mbuf *p = pkt[k];

		if (fault_chance(&q->rng, q->t_corrupt))
			p = fault_corrupt(q, p);
		if (fault_chance(&q->rng, q->t_truncate))
			p = fault_truncate(q, p);
		if (q->hold_all)
			fault_hold(q, p, now, FAULT_CTR_DELAYED);
		else if (fault_chance(&q->rng, q->t_reorder))
			fault_hold(q, p, now, FAULT_CTR_REORDERED);
		else
			fault_rate(q, p, o, now);
	}
}

uint16_t
fault_q_apply(struct fault_q *q, struct rte_mbuf **in, uint16_t n, struct rte_mbuf **out,
              uint16_t cap, uint64_t now)
{
	struct fault_out o = {.v = out, .cap = cap};

	for (uint16_t i = 0; i < n; i++)
		fault_one(q, in[i], &o, now);
	return o.n;
}

uint16_t
fault_q_release(struct fault_q *q, struct rte_mbuf **out, uint16_t cap, uint64_t now)
{
	struct fault_out o = {.v = out, .cap = cap};

	/* The rate queue first: its packets passed the hold stage before any
	 * still held. */
	while (q->rq_n > 0 && o.n < cap &&
	       fault_tb_take(&q->tb, rte_pktmbuf_pkt_len(q->rq[q->rq_head]), now)) {
		o.v[o.n++] = q->rq[q->rq_head];
		q->rq_head = (q->rq_head + 1) & q->rq_mask;
		q->rq_n--;
	}
	while (q->hold_n > 0 && o.n < cap && q->hold[q->hold_head].due <= now) {
		struct rte_mbuf *m = q->hold[q->hold_head].m;

		q->hold_head = (q->hold_head + 1) & (FAULT_HOLD_MAX - 1);
		q->hold_n--;
		fault_rate(q, m, &o, now);
	}
	return o.n;
}

/* ---- a port ---- */

struct fault_port *
fault_port_create(const struct fault_spec *s, uint16_t port, uint16_t n_rxq, uint16_t n_txq,
                  struct rte_mempool *pool, uint64_t hz, uint64_t start, int socket)
{
	size_t sz = sizeof(struct fault_port) + ((size_t)n_rxq + n_txq) * sizeof(struct fault_q *);
	struct fault_port *fp = rte_zmalloc_socket("ph_fault", sz, RTE_CACHE_LINE_SIZE, socket);
	struct fault_q **slots;

	if (fp == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	slots = (struct fault_q **)(fp + 1);
	fp->spec = *s;
	fp->n_rxq = n_rxq;
	fp->n_txq = n_txq;
	if (s->dir & FAULT_RX)
		fp->rx = slots;
	if (s->dir & FAULT_TX)
		fp->tx = slots + n_rxq;
	for (uint16_t q = 0; fp->rx != NULL && q < n_rxq; q++)
		if ((fp->rx[q] = fault_q_create(s, FAULT_RX, port, q, pool, hz, start, socket)) ==
		    NULL)
			goto fail;
	for (uint16_t q = 0; fp->tx != NULL && q < n_txq; q++)
		if ((fp->tx[q] = fault_q_create(s, FAULT_TX, port, q, pool, hz, start, socket)) ==
		    NULL)
			goto fail;
	return fp;
fail:
	fault_port_free(fp);
	errno = ENOMEM;
	return NULL;
}

unsigned
fault_port_drain(struct fault_port *fp)
{
	unsigned n = 0;

	for (uint16_t q = 0; fp->rx != NULL && q < fp->n_rxq; q++)
		if (fp->rx[q] != NULL)
			n += fault_q_drain(fp->rx[q]);
	for (uint16_t q = 0; fp->tx != NULL && q < fp->n_txq; q++)
		if (fp->tx[q] != NULL)
			n += fault_q_drain(fp->tx[q]);
	return n;
}

void
fault_port_free(struct fault_port *fp)
{
	if (fp == NULL)
		return;
	for (uint16_t q = 0; fp->rx != NULL && q < fp->n_rxq; q++)
		fault_q_free(fp->rx[q]);
	for (uint16_t q = 0; fp->tx != NULL && q < fp->n_txq; q++)
		fault_q_free(fp->tx[q]);
	rte_free(fp);
}

uint64_t
fault_port_ctr(const struct fault_port *fp, uint8_t dirs, enum fault_ctr c)
{
	uint64_t sum = 0;

	for (uint16_t q = 0; (dirs & FAULT_RX) && fp->rx != NULL && q < fp->n_rxq; q++)
		sum += fault_q_ctr(fp->rx[q], c);
	for (uint16_t q = 0; (dirs & FAULT_TX) && fp->tx != NULL && q < fp->n_txq; q++)
		sum += fault_q_ctr(fp->tx[q], c);
	return sum;
}

void
fault_port_print(const struct fault_port *fp, const char *name, FILE *out)
{
	char spec[FAULT_SPEC_LEN];

	fault_spec_format(&fp->spec, spec, sizeof(spec));
	fprintf(out, "fault injection on port %s (%s), all queues:\n", name, spec);
	for (unsigned c = 0; c < FAULT_CTR_MAX; c++) {
		uint64_t rx = fault_port_ctr(fp, FAULT_RX, c), tx = fault_port_ctr(fp, FAULT_TX, c);

		if (rx + tx != 0)
			fprintf(out, "  %-28s %" PRIu64 " (rx %" PRIu64 ", tx %" PRIu64 ")\n",
			        fault_ctr_names[c], rx + tx, rx, tx);
	}
}
