/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour table state machine (see neigh_table.h). Lookup is a red-black
 * tree keyed by (context, address); a tail queue keeps entries in order of
 * their last confirmation, for eviction. The timer walk visits every entry:
 * the table is bounded and the walk runs on the lead core a few times a
 * second, never on a worker.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/queue.h>
/* libbsd's tree.h marks generated functions __unused, which only its overlay mode defines. */
#ifndef __unused
#define __unused __attribute__((unused))
#endif
#include <bsd/sys/tree.h>

#include "arp/neigh_table.h"

struct neigh_entry {
	RB_ENTRY(neigh_entry) node;
	TAILQ_ENTRY(neigh_entry) lru; /* in use: by confirmation time; free: free list */
	uint32_t ip;
	uint16_t ctx;
	uint16_t ifindex;
	uint8_t state;
	uint8_t probes;
	uint16_t n_pending;
	struct rte_ether_addr mac;
	uint64_t confirmed_ms;
	uint64_t next_ms; /* next timer event */
	struct rte_mbuf *pending[];
};

RB_HEAD(neigh_tree, neigh_entry);
TAILQ_HEAD(neigh_list, neigh_entry);

struct neigh_table {
	struct neigh_params p;
	struct neigh_ops ops;
	void *arg;
	struct neigh_tree tree;
	struct neigh_list used; /* least recently confirmed first */
	struct neigh_list free;
	unsigned n_used;
	unsigned n_pending;
	size_t entry_size;
	uint8_t *mem;
};

static int
neigh_cmp(const struct neigh_entry *a, const struct neigh_entry *b)
{
	if (a->ctx != b->ctx)
		return a->ctx < b->ctx ? -1 : 1;
	if (a->ip != b->ip)
		return a->ip < b->ip ? -1 : 1;
	return 0;
}

RB_GENERATE_STATIC(neigh_tree, neigh_entry, node, neigh_cmp)

struct neigh_table *
neigh_table_create(const struct neigh_params *p, const struct neigh_ops *ops, void *arg)
{
	struct neigh_table *t;

	if (p->max_entries == 0 || p->max_pending == 0 || p->retrans_ms == 0 ||
	    p->mcast_probes == 0 || ops->publish == NULL || ops->unpublish == NULL ||
	    ops->solicit == NULL || ops->transmit == NULL || ops->drop == NULL) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->p = *p;
	t->ops = *ops;
	t->arg = arg;
	RB_INIT(&t->tree);
	TAILQ_INIT(&t->used);
	TAILQ_INIT(&t->free);
	t->entry_size = sizeof(struct neigh_entry) + p->max_pending * sizeof(struct rte_mbuf *);
	t->entry_size = (t->entry_size + 7) & ~(size_t)7;
	t->mem = calloc(p->max_entries, t->entry_size);
	if (t->mem == NULL) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < p->max_entries; i++)
		TAILQ_INSERT_TAIL(&t->free, (struct neigh_entry *)(t->mem + i * t->entry_size),
		                  lru);
	return t;
}

static struct neigh_entry *
neigh_find(const struct neigh_table *t, uint16_t ctx, uint32_t ip)
{
	struct neigh_entry key = {.ctx = ctx, .ip = ip};

	return RB_FIND(neigh_tree, (struct neigh_tree *)(uintptr_t)&t->tree, &key);
}

static void
neigh_drop_pending(struct neigh_table *t, struct neigh_entry *e, enum ph_drop why)
{
	for (uint16_t i = 0; i < e->n_pending; i++)
		t->ops.drop(t->arg, e->pending[i], why);
	t->n_pending -= e->n_pending;
	e->n_pending = 0;
}

static void
neigh_free(struct neigh_table *t, struct neigh_entry *e, enum ph_drop why)
{
	neigh_drop_pending(t, e, why);
	if (e->state != NEIGH_INCOMPLETE)
		t->ops.unpublish(t->arg, e->ctx, e->ip);
	RB_REMOVE(neigh_tree, &t->tree, e);
	TAILQ_REMOVE(&t->used, e, lru);
	TAILQ_INSERT_HEAD(&t->free, e, lru);
	t->n_used--;
}

void
neigh_table_destroy(struct neigh_table *t)
{
	struct neigh_entry *e;

	if (t == NULL)
		return;
	while ((e = TAILQ_FIRST(&t->used)) != NULL)
		neigh_free(t, e, PH_DROP_SHUTDOWN);
	free(t->mem);
	free(t);
}

/* A free entry, evicting the least recently confirmed resolved one if need be. */
static struct neigh_entry *
neigh_alloc(struct neigh_table *t)
{
	struct neigh_entry *e = TAILQ_FIRST(&t->free);

	if (e == NULL) {
		TAILQ_FOREACH(e, &t->used, lru)
		if (e->state != NEIGH_INCOMPLETE)
			break;
		if (e == NULL)
			return NULL;
		neigh_free(t, e, PH_DROP_NEIGH_TABLE_FULL);
		e = TAILQ_FIRST(&t->free);
	}
	TAILQ_REMOVE(&t->free, e, lru);
	return e;
}

static struct neigh_entry *
neigh_insert(struct neigh_table *t, uint16_t ctx, uint16_t ifindex, uint32_t ip)
{
	struct neigh_entry *e = neigh_alloc(t);

	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->ctx = ctx;
	e->ip = ip;
	e->ifindex = ifindex;
	RB_INSERT(neigh_tree, &t->tree, e);
	TAILQ_INSERT_TAIL(&t->used, e, lru);
	t->n_used++;
	return e;
}

static void
neigh_hold(struct neigh_table *t, struct neigh_entry *e, struct rte_mbuf *m)
{
	if (e->n_pending == t->p.max_pending || t->n_pending >= t->p.max_pending_total) {
		if (e->n_pending == 0) {
			t->ops.drop(t->arg, m, PH_DROP_NEIGH_QUEUE_FULL);
			return;
		}
		/* Oldest first out: the newest packet is the most useful one. */
		t->ops.drop(t->arg, e->pending[0], PH_DROP_NEIGH_QUEUE_FULL);
		memmove(&e->pending[0], &e->pending[1], (e->n_pending - 1) * sizeof(e->pending[0]));
		e->n_pending--;
		t->n_pending--;
	}
	e->pending[e->n_pending++] = m;
	t->n_pending++;
}

void
neigh_resolve(struct neigh_table *t, uint16_t ctx, uint16_t ifindex, uint32_t ip,
              struct rte_mbuf *m, uint64_t now_ms)
{
	struct neigh_entry *e = neigh_find(t, ctx, ip);

	if (e != NULL && e->state != NEIGH_INCOMPLETE) {
		t->ops.transmit(t->arg, m, e->ifindex, &e->mac);
		return;
	}
	if (e == NULL) {
		e = neigh_insert(t, ctx, ifindex, ip);
		if (e == NULL) {
			t->ops.drop(t->arg, m, PH_DROP_NEIGH_TABLE_FULL);
			return;
		}
		e->state = NEIGH_INCOMPLETE;
		e->probes = 1;
		e->next_ms = now_ms + t->p.retrans_ms;
		t->ops.solicit(t->arg, ctx, ifindex, ip, NULL);
	}
	neigh_hold(t, e, m);
}

static void
neigh_confirm(struct neigh_table *t, struct neigh_entry *e, uint16_t ifindex,
              const struct rte_ether_addr *mac, uint64_t now_ms)
{
	bool changed = e->state == NEIGH_INCOMPLETE || !rte_is_same_ether_addr(&e->mac, mac);

	e->mac = *mac;
	e->ifindex = ifindex;
	e->state = NEIGH_REACHABLE;
	e->probes = 0;
	e->confirmed_ms = now_ms;
	e->next_ms = now_ms + t->p.reachable_ms;
	TAILQ_REMOVE(&t->used, e, lru);
	TAILQ_INSERT_TAIL(&t->used, e, lru);
	if (changed)
		t->ops.publish(t->arg, e->ctx, e->ip, &e->mac);
	for (uint16_t i = 0; i < e->n_pending; i++)
		t->ops.transmit(t->arg, e->pending[i], e->ifindex, &e->mac);
	t->n_pending -= e->n_pending;
	e->n_pending = 0;
}

bool
neigh_input(struct neigh_table *t, uint16_t ctx, uint16_t ifindex, uint32_t ip,
            const struct rte_ether_addr *mac, bool target_is_us, uint64_t now_ms)
{
	struct neigh_entry *e = neigh_find(t, ctx, ip);

	if (e == NULL) {
		if (!target_is_us)
			return false;
		e = neigh_insert(t, ctx, ifindex, ip);
		if (e == NULL)
			return false;
		e->state = NEIGH_INCOMPLETE; /* so that confirm publishes it */
	}
	neigh_confirm(t, e, ifindex, mac, now_ms);
	return true;
}

void
neigh_link_up(struct neigh_table *t, uint16_t ifindex, uint64_t now_ms)
{
	struct neigh_entry *e;

	TAILQ_FOREACH(e, &t->used, lru)
	if (e->state == NEIGH_INCOMPLETE && e->ifindex == ifindex) {
		e->probes = 0;
		e->next_ms = now_ms;
	}
}

void
neigh_tick(struct neigh_table *t, uint64_t now_ms)
{
	struct neigh_entry *e, *next;

	TAILQ_FOREACH_SAFE(e, &t->used, lru, next)
	{
		if (now_ms < e->next_ms)
			continue;
		switch (e->state) {
		case NEIGH_INCOMPLETE:
			if (e->probes >= t->p.mcast_probes) {
				neigh_free(t, e, PH_DROP_NEIGH_FAILED);
				break;
			}
			e->probes++;
			e->next_ms = now_ms + t->p.retrans_ms;
			t->ops.solicit(t->arg, e->ctx, e->ifindex, e->ip, NULL);
			break;
		case NEIGH_REACHABLE:
			e->state = NEIGH_PROBE;
			e->probes = 0;
			/* the first unicast probe goes now */
			__attribute__((fallthrough));
		case NEIGH_PROBE:
			if (e->probes >= t->p.ucast_probes) {
				neigh_free(t, e, PH_DROP_NEIGH_FAILED);
				break;
			}
			e->probes++;
			e->next_ms = now_ms + t->p.retrans_ms;
			t->ops.solicit(t->arg, e->ctx, e->ifindex, e->ip, &e->mac);
			break;
		}
	}
}

int
neigh_delete(struct neigh_table *t, uint16_t ctx, uint32_t ip)
{
	struct neigh_entry *e = neigh_find(t, ctx, ip);

	if (e == NULL)
		return -ENOENT;
	neigh_free(t, e, PH_DROP_NEIGH_FAILED);
	return 0;
}

unsigned
neigh_list(const struct neigh_table *t, uint16_t ctx, unsigned skip, struct neigh_info *out,
           unsigned max)
{
	const struct neigh_entry *e;
	unsigned n = 0;

	/* Tree order: by context, then address, so pages are stable. */
	for (e = RB_MIN(neigh_tree, (struct neigh_tree *)(uintptr_t)&t->tree); e != NULL;
	     e = RB_NEXT(neigh_tree, NULL, (struct neigh_entry *)(uintptr_t)e)) {
		if (n == max)
			break;
		if (ctx != UINT16_MAX && e->ctx != ctx)
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		out[n++] = (struct neigh_info){
		        .ctx = e->ctx,
		        .ifindex = e->ifindex,
		        .ip = e->ip,
		        .state = e->state,
		        .mac = e->mac,
		        .confirmed_ms = e->confirmed_ms,
		        .pending = e->n_pending,
		        .probes = e->probes,
		};
	}
	return n;
}

unsigned
neigh_count(const struct neigh_table *t)
{
	return t->n_used;
}

unsigned
neigh_pending_count(const struct neigh_table *t)
{
	return t->n_pending;
}

const char *
neigh_state_name(enum neigh_state s)
{
	switch (s) {
	case NEIGH_INCOMPLETE:
		return "INCOMPLETE";
	case NEIGH_REACHABLE:
		return "REACHABLE";
	case NEIGH_PROBE:
		return "PROBE";
	}
	return "?";
}
