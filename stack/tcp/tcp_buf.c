/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connection's byte rings (send: bytes from SND.UNA on; receive: bytes
 * the application has not read, then room for the window) and the ranges of
 * out-of-order data already written into the receive ring beyond a hole.
 * These ranges are also what SACK blocks report (RFC 2018 4).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"

int
tcp_ring_alloc(struct tcp_ring *r, uint32_t cap)
{
	r->buf = malloc(cap);
	if (r->buf == NULL)
		return -ENOMEM;
	r->cap = cap;
	r->head = 0;
	r->len = 0;
	return 0;
}

void
tcp_ring_free(struct tcp_ring *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

int
tcp_ring_pieces(const struct tcp_ring *r, uint32_t off, uint32_t n, const uint8_t *p[2],
                uint32_t l[2])
{
	uint32_t pos = r->head + off;
	uint32_t first;

	if (pos >= r->cap)
		pos -= r->cap;
	first = r->cap - pos < n ? r->cap - pos : n;
	p[0] = r->buf + pos;
	l[0] = first;
	p[1] = r->buf;
	l[1] = n - first;
	return l[1] ? 2 : 1;
}

void
tcp_ring_write(struct tcp_ring *r, uint32_t off, const void *src, uint32_t n)
{
	const uint8_t *p[2];
	uint32_t l[2];

	tcp_ring_pieces(r, off, n, p, l);
	memcpy((uint8_t *)p[0], src, l[0]);
	if (l[1])
		memcpy((uint8_t *)p[1], (const uint8_t *)src + l[0], l[1]);
}

void
tcp_ring_read(const struct tcp_ring *r, uint32_t off, void *dst, uint32_t n)
{
	const uint8_t *p[2];
	uint32_t l[2];

	tcp_ring_pieces(r, off, n, p, l);
	memcpy(dst, p[0], l[0]);
	if (l[1])
		memcpy((uint8_t *)dst + l[0], p[1], l[1]);
}

void
tcp_ring_consume(struct tcp_ring *r, uint32_t n)
{
	r->head += n;
	if (r->head >= r->cap)
		r->head -= r->cap;
	r->len -= n;
	/* head stays where it is even when the ring is empty: out-of-order
	 * data may be held beyond len, at offsets from head. */
}

/* Ranges are kept sorted and disjoint (adjacent ones merged). */
bool
tcp_ofo_add(struct tcp_ofo *o, uint32_t l, uint32_t r)
{
	unsigned i = 0, j;

	while (i < o->n && seq_lt(o->blk[i].r, l))
		i++;
	/* blk[i] is the first range that ends at or after l: merge from it on. */
	j = i;
	while (j < o->n && seq_leq(o->blk[j].l, r)) {
		l = seq_min(l, o->blk[j].l);
		r = seq_max(r, o->blk[j].r);
		j++;
	}
	if (j == i) {
		if (o->n == TCP_OFO_MAX)
			return false;
		memmove(&o->blk[i + 1], &o->blk[i], (o->n - i) * sizeof(o->blk[0]));
		o->n++;
	} else if (j > i + 1) {
		memmove(&o->blk[i + 1], &o->blk[j], (o->n - j) * sizeof(o->blk[0]));
		o->n -= (uint8_t)(j - i - 1);
	}
	o->blk[i].l = l;
	o->blk[i].r = r;
	o->blk[i].stamp = ++o->clock;
	return true;
}

uint32_t
tcp_ofo_advance(struct tcp_ofo *o, uint32_t nxt)
{
	/* Ranges wholly behind NXT are gone; one that starts at or before it
	 * carries it to its end. */
	while (o->n > 0 && seq_leq(o->blk[0].l, nxt)) {
		nxt = seq_max(nxt, o->blk[0].r);
		memmove(&o->blk[0], &o->blk[1], (o->n - 1) * sizeof(o->blk[0]));
		o->n--;
	}
	return nxt;
}
