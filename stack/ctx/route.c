/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routes of a context (see ctx.h): the control side of IPv4 output and
 * forwarding. The lead core (or start-up) is the only writer; it keeps each
 * context's RIB (a red-black tree, libbsd tree(3)) and mirrors it into the
 * context's rte_fib, whose values are indexes into the host's next-hop table.
 * Readers on every lcore look up the FIB and read the next hop without a lock.
 *
 * 22.11's rte_fib has no RCU of its own, so the next hops carry it: a route
 * whose next hops change gets a new entry, the FIB is pointed at it, and the
 * old entry is retired with an rte_rcu_qsbr token; its slot is taken again
 * only when every lcore has reported a quiescent state since.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_rcu_qsbr.h>

#include "core/host.h"
#include "core/lcore.h"
#include "ctx/ctx.h"
#include "wire/ipv4.h"

static int
route_cmp(const struct ph_route *a, const struct ph_route *b)
{
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	return (int)a->plen - (int)b->plen;
}

/* libbsd's tree.h marks generated functions __unused, which only its overlay mode defines. */
#ifndef __unused
#define __unused __attribute__((unused))
#endif
RB_GENERATE_STATIC(ph_rib, ph_route, link, route_cmp)

static void nexthop_put(struct ph_host *h, uint16_t i);

const struct ph_route *
ctx_rib_next(const struct ph_ctx *c, const struct ph_route *after)
{
	struct ph_rib *rib = (struct ph_rib *)&c->rib;

	return after == NULL ? RB_MIN(ph_rib, rib) : RB_NEXT(ph_rib, rib, (struct ph_route *)after);
}

static uint16_t
ranges_find(const struct ph_ranges *r, uint32_t ip)
{
	uint32_t lo = 0, hi = r->n; /* start[lo] <= ip < start[hi] */

	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;

		if (r->start[mid] <= ip)
			lo = mid;
		else
			hi = mid;
	}
	return r->nh[lo];
}

void
ctx_fib_lookup_bulk(const struct ph_ctx *c, const uint32_t *ip, uint64_t *nh, unsigned n)
{
	if (c->fib_kind == PH_FIB_RANGES) {
		const struct ph_ranges *r = __atomic_load_n(&c->ranges, __ATOMIC_ACQUIRE);

		for (unsigned i = 0; i < n; i++)
			nh[i] = ranges_find(r, ip[i]);
		return;
	}
	struct rte_fib *fib = __atomic_load_n(&c->fib, __ATOMIC_ACQUIRE);

	rte_fib_lookup_bulk(fib, (uint32_t *)(uintptr_t)ip, nh, n);
	for (unsigned i = 0; i < n; i++) {
		if (likely(nh[i] != PH_NH_NONE))
			continue;
		/* 255.255.255.255 is in no piece (dir24_pieces()). A tbl8 group
		 * DIR-24-8 gives up while we read it reads as zeros, but its tbl24
		 * entry was rewritten first: any other miss is read once more. */
		if (ip[i] == UINT32_MAX) {
			nh[i] = __atomic_load_n(&c->top_nh, __ATOMIC_ACQUIRE);
		} else {
			/* The second read of tbl24 after the zeros (free on x86; DPDK
			 * itself orders its stores only there). */
			rte_atomic_thread_fence(__ATOMIC_ACQUIRE);
			rte_fib_lookup_bulk(fib, (uint32_t *)(uintptr_t)&ip[i], &nh[i], 1);
		}
	}
}

/* The next-hop index for DST in CTX, PH_NH_NONE when there is no route. */
static uint64_t
route_index(const struct ph_host *h, uint16_t ctx, uint32_t dst)
{
	const struct ph_ctx *c = ctx < PH_MAX_CTX ? h->ctxs[ctx] : NULL;
	uint64_t nh = PH_NH_NONE;

	if (c != NULL)
		ctx_fib_lookup_bulk(c, &dst, &nh, 1);
	return nh < PH_MAX_NEXTHOPS ? nh : PH_NH_NONE;
}

const struct ph_nexthop *
ctx_route_flow(const struct ph_host *h, uint16_t ctx, uint32_t dst, uint32_t hash)
{
	uint64_t nh = route_index(h, ctx, dst);

	return nh == PH_NH_NONE ? NULL : ctx_nh_pick(h->nexthops, nh, hash);
}

const struct ph_nexthop *
ctx_route(const struct ph_host *h, uint16_t ctx, uint32_t dst)
{
	uint64_t nh = route_index(h, ctx, dst);

	if (nh == PH_NH_NONE)
		return NULL;
	/* The hash only where there is a choice. */
	if (unlikely(h->nexthops[nh].kind == PH_NH_GROUP))
		return ctx_nh_pick(h->nexthops, nh, ctx_l3_hash(0, dst));
	return &h->nexthops[nh];
}

/* One allocation: the struct, then start[], then nh[]. */
static struct ph_ranges *
ranges_alloc(uint32_t cap)
{
	struct ph_ranges *r =
	        malloc(sizeof(*r) + (size_t)cap * (sizeof(uint32_t) + sizeof(uint16_t)));

	if (r == NULL)
		return NULL;
	r->n = 0;
	r->start = (uint32_t *)(r + 1);
	r->nh = (uint16_t *)(r->start + cap);
	return r;
}

/* Range [AT, ...) goes to NH: merged with the range before when that has
 * the same next hop, replacing it when it starts at the same address. */
static void
ranges_emit(struct ph_ranges *r, uint64_t at, uint16_t nh)
{
	if (at > UINT32_MAX)
		return;
	if (r->n > 0 && r->start[r->n - 1] == at) {
		r->n--;
		if (r->n > 0 && r->nh[r->n - 1] == nh)
			return;
	} else if (r->n > 0 && r->nh[r->n - 1] == nh) {
		return;
	}
	r->start[r->n] = (uint32_t)at;
	r->nh[r->n++] = nh;
}

/* The RIB as ranges, into R (capacity 2 * routes + 1). The RIB's order puts
 * a prefix before every prefix it covers; a stack of the prefixes that
 * cover the current address gives the next hop where an inner one ends. */
static void
ranges_build(const struct ph_ctx *c, struct ph_ranges *r)
{
	struct {
		uint64_t end;
		uint16_t nh;
	} stack[33];
	int top = 0;
	const struct ph_route *rt = NULL;

	r->n = 0;
	ranges_emit(r, 0, PH_NH_NONE);
	while ((rt = ctx_rib_next(c, rt)) != NULL) {
		while (top > 0 && stack[top - 1].end <= rt->prefix) {
			top--;
			ranges_emit(r, stack[top].end, top > 0 ? stack[top - 1].nh : PH_NH_NONE);
		}
		ranges_emit(r, rt->prefix, rt->nh);
		stack[top].end = (uint64_t)rt->prefix + (1ull << (32 - rt->plen));
		stack[top++].nh = rt->nh;
	}
	while (top > 0) {
		top--;
		ranges_emit(r, stack[top].end, top > 0 ? stack[top - 1].nh : PH_NH_NONE);
	}
}

/* Publish NEW for C and free the old table once no reader can hold it. */
static void
ranges_publish(struct ph_host *h, struct ph_ctx *c, struct ph_ranges *new)
{
	struct ph_ranges *old = c->ranges;

	__atomic_store_n(&c->ranges, new, __ATOMIC_RELEASE);
	if (old == NULL)
		return;
	if (h->rcu_dq != NULL) {
		ph_defer_free(h, old);
		return;
	}
	/* Start-up (or a test's host): no defer queue yet. */
	if (h->qsbr != NULL)
		rte_rcu_qsbr_synchronize(h->qsbr, RTE_QSBR_THRID_INVALID);
	free(old);
}

void
ctx_routes_begin(struct ph_host *h, uint16_t ctx)
{
	if (ctx < PH_MAX_CTX && h->ctxs[ctx] != NULL)
		h->ctxs[ctx]->batch = true;
}

int
ctx_routes_commit(struct ph_host *h, uint16_t ctx)
{
	struct ph_ctx *c = ctx < PH_MAX_CTX ? h->ctxs[ctx] : NULL;
	struct ph_ranges *r;

	if (c == NULL || !c->batch)
		return 0;
	c->batch = false;
	if (c->fib_kind != PH_FIB_RANGES)
		return 0;
	r = ranges_alloc(2 * c->n_routes + 1);
	if (r != NULL) {
		ranges_build(c, r);
		ranges_publish(h, c, r);
	}
	/* Unpublished, the batch's table is lost, and so is the old table's
	 * last word on these next hops only if it was published: keep them. */
	for (unsigned i = 0; r != NULL && i < c->n_batch_puts; i++)
		nexthop_put(h, c->batch_puts[i]);
	free(c->batch_puts);
	c->batch_puts = NULL;
	c->n_batch_puts = c->cap_batch_puts = 0;
	return r == NULL ? -ENOMEM : 0;
}

/*
 * DPDK 22.11's DIR-24-8 computes the end of a prefix in 32 bits: a prefix
 * that reaches 255.255.255.255 (the default route, 128.0.0.0/1, ...) wraps
 * to 0 and, once longer routes sit inside it, overwrites them (found by
 * test_route's comparison with the RIB). Such "top" prefixes never go into
 * the rte_fib. Their addresses are covered instead by 32 fixed pieces that
 * end below the top (0.0.0.0/1, 128.0.0.0/2, ... 255.255.255.254/32), each
 * holding the RIB's best route no longer than itself; the one address left,
 * 255.255.255.255, is a word of its own (top_nh).
 */
static bool
prefix_is_top(uint32_t prefix, uint8_t plen)
{
	return (uint64_t)prefix + (1ull << (32 - plen)) == 1ull << 32;
}

static uint32_t
piece_prefix(uint8_t plen)
{
	return plen == 1 ? 0 : ~0u << (33 - plen);
}

/* A route the pieces stand for (a top prefix), or one with a piece's prefix:
 * either way dir24_pieces() writes it, never rte_fib_add() directly. */
static bool
dir24_in_pieces(uint32_t prefix, uint8_t plen)
{
	return prefix_is_top(prefix, plen) || (plen > 0 && prefix == piece_prefix(plen));
}

/* C's best route for PREFIX/PLEN no longer than PLEN, or NULL (control side:
 * the RIB answers, the FIB may lag behind it inside a batch). */
static const struct ph_route *
rib_cover(const struct ph_ctx *c, uint32_t prefix, int plen)
{
	for (; plen >= 0; plen--) {
		struct ph_route key = {.prefix = prefix & ipv4_mask((uint8_t)plen),
		                       .plen = (uint8_t)plen};
		const struct ph_route *rt = RB_FIND(ph_rib, (struct ph_rib *)&c->rib, &key);

		if (rt != NULL)
			return rt;
	}
	return NULL;
}

static int
dir24_pieces(struct ph_ctx *c, struct rte_fib *fib)
{
	const struct ph_route *top = rib_cover(c, UINT32_MAX, 32);

	rte_atomic_thread_fence(__ATOMIC_RELEASE);
	/* Longest first: /25../32 share the one tbl8 group of 255.255.255.0/24,
	 * the only allocation here, so a full table fails before any change. */
	for (uint8_t plen = 32; plen >= 1; plen--) {
		const struct ph_route *rt = rib_cover(c, piece_prefix(plen), plen);
		int rc = rt != NULL ? rte_fib_add(fib, piece_prefix(plen), plen, rt->nh)
		                    : rte_fib_delete(fib, piece_prefix(plen), plen);

		if (rc != 0 && rt != NULL)
			return rc;
	}
	__atomic_store_n(&c->top_nh, top != NULL ? top->nh : PH_NH_NONE, __ATOMIC_RELEASE);
	return 0;
}

/* Tables of 32 MiB: one per context, a second one while it is rebuilt. */
#define PH_FIB_TBL8 4096

static struct rte_fib *
dir24_create(const struct ph_ctx *c)
{
	static unsigned gen; /* lead only: names must be unique */
	struct rte_fib_conf fc = {
	        .type = RTE_FIB_DIR24_8,
	        .default_nh = PH_NH_NONE,
	        .max_routes = c->max_routes + 32, /* the pieces */
	        .dir24_8 = {.nh_sz = RTE_FIB_DIR24_8_2B, .num_tbl8 = PH_FIB_TBL8},
	};
	char name[RTE_MEMZONE_NAMESIZE];

	snprintf(name, sizeof(name), "ph_fib_%u_%u", c->id, gen++);
	return rte_fib_create(name, SOCKET_ID_ANY, &fc);
}

/*
 * DPDK 22.11's DIR-24-8 also loses count of the tbl8 groups it reserves
 * when covering routes go before the routes inside them (fixed upstream
 * later): it can say "full" with groups to spare. A table built afresh from
 * the RIB knows the truth; it replaces the old one once readers have left.
 */
static int
dir24_rebuild(struct ph_host *h, struct ph_ctx *c)
{
	struct rte_fib *fib = dir24_create(c), *old = c->fib;
	const struct ph_route *rt = NULL;
	struct ph_lcore *lc;
	int rc = 0;

	if (fib == NULL)
		return -ENOMEM;
	while (rc == 0 && (rt = ctx_rib_next(c, rt)) != NULL)
		if (!dir24_in_pieces(rt->prefix, rt->plen))
			rc = rte_fib_add(fib, rt->prefix, rt->plen, rt->nh);
	if (rc == 0)
		rc = dir24_pieces(c, fib);
	if (rc != 0) {
		rte_fib_free(fib);
		return rc;
	}
	__atomic_store_n(&c->fib, fib, __ATOMIC_RELEASE);
	lc = ph_host_this_lcore(h);
	if (h->qsbr != NULL)
		rte_rcu_qsbr_synchronize(h->qsbr, lc != NULL ? lc->index : RTE_QSBR_THRID_INVALID);
	rte_fib_free(old);
	return 0;
}

int
ctx_rib_init(struct ph_host *h, struct ph_ctx *c)
{
	RB_INIT(&c->rib);
	c->n_routes = 0;
	if (c->fib_kind == PH_FIB_RANGES) {
		struct ph_ranges *r = ranges_alloc(1);

		if (r == NULL)
			return -ENOMEM;
		ranges_build(c, r);
		ranges_publish(h, c, r);
		return 0;
	}
	c->fib = dir24_create(c);
	return c->fib != NULL ? 0 : (rte_errno ? -rte_errno : -ENOMEM);
}

/* Give up a route's reference to next hop I. Inside a batch a ranges context
 * still publishes its table of before the batch, which may name I: the
 * reference goes when the batch's table is published. */
static void
nh_release(struct ph_host *h, struct ph_ctx *c, uint16_t i)
{
	if (c->batch && c->fib_kind == PH_FIB_RANGES && i != PH_NH_NONE) {
		if (c->n_batch_puts == c->cap_batch_puts) {
			unsigned cap = c->cap_batch_puts ? 2 * c->cap_batch_puts : 64;
			uint16_t *v = reallocarray(c->batch_puts, cap, sizeof(*v));

			if (v == NULL)
				return; /* kept for good: safer than too soon */
			c->batch_puts = v;
			c->cap_batch_puts = cap;
		}
		c->batch_puts[c->n_batch_puts++] = i;
		return;
	}
	nexthop_put(h, i);
}

/* After a failed change of a top or piece prefix of a DIR-24-8 context, the
 * pieces again as the (restored) RIB says. */
static void
fib_resync(struct ph_ctx *c, const struct ph_route *key)
{
	if (c->fib_kind == PH_FIB_DIR24_8 && dir24_in_pieces(key->prefix, key->plen))
		(void)dir24_pieces(c, c->fib);
}

/* Mirror a change of C's RIB into its FIB (dir24_8: the prefix; ranges: all
 * of it, into NEW, allocated before the RIB changed). */
static int
fib_apply(struct ph_host *h, struct ph_ctx *c, const struct ph_route *key, int nh,
          struct ph_ranges *new)
{
	int rc;

	if (c->fib_kind == PH_FIB_RANGES) {
		if (new != NULL) {
			ranges_build(c, new);
			ranges_publish(h, c, new);
		}
		return 0;
	}
	if (dir24_in_pieces(key->prefix, key->plen))
		rc = dir24_pieces(c, c->fib);
	else if (nh < 0)
		rc = rte_fib_delete(c->fib, key->prefix, key->plen);
	else {
		/* The next hop's fields before the FIB entry that names it. */
		rte_atomic_thread_fence(__ATOMIC_RELEASE);
		rc = rte_fib_add(c->fib, key->prefix, key->plen, (uint64_t)nh);
	}
	/* The RIB already holds the change: a fresh table is built from it. */
	if (rc == -ENOSPC)
		rc = dir24_rebuild(h, c);
	return rc;
}

/* A free slot: never used, or retired long enough ago that no reader holds it. */
static int
nexthop_slot(struct ph_host *h)
{
	for (int i = 1; i < PH_MAX_NEXTHOPS; i++) {
		struct ph_nexthop *nh = &h->nexthops[i];

		if (nh->state == PH_NH_FREE)
			return i;
		if (nh->state == PH_NH_RETIRED &&
		    rte_rcu_qsbr_check(h->qsbr, nh->retired_token, false) == 1) {
			nh->state = PH_NH_FREE;
			return i;
		}
	}
	return -ENOSPC;
}

/* An existing identical next hop with one more reference, or a new one. */
static int
nexthop_get(struct ph_host *h, const struct ph_nexthop *want)
{
	int slot;

	for (int i = 1; i < PH_MAX_NEXTHOPS; i++) {
		struct ph_nexthop *nh = &h->nexthops[i];

		if (nh->state != PH_NH_USED || nh->kind != want->kind)
			continue;
		if (want->kind == PH_NH_GROUP
		            ? nh->n_paths == want->n_paths &&
		                      memcmp(nh->paths, want->paths,
		                             want->n_paths * sizeof(want->paths[0])) == 0
		            : nh->ctx == want->ctx && nh->gw == want->gw &&
		                      nh->ifindex == want->ifindex) {
			nh->refs++;
			return i;
		}
	}
	slot = nexthop_slot(h);
	if (slot < 0)
		return slot;
	h->nexthops[slot] = *want;
	h->nexthops[slot].state = PH_NH_USED;
	h->nexthops[slot].refs = 1;
	/* A group holds its paths. */
	for (unsigned p = 0; want->kind == PH_NH_GROUP && p < want->n_paths; p++)
		h->nexthops[want->paths[p]].refs++;
	return slot;
}

static void
nexthop_put(struct ph_host *h, uint16_t i)
{
	struct ph_nexthop *nh = &h->nexthops[i];

	if (i == PH_NH_NONE || nh->state != PH_NH_USED || --nh->refs > 0)
		return;
	if (h->qsbr != NULL) {
		nh->state = PH_NH_RETIRED;
		nh->retired_token = rte_rcu_qsbr_start(h->qsbr);
	} else {
		nh->state = PH_NH_FREE; /* no reader thread exists yet */
	}
	for (unsigned p = 0; nh->kind == PH_NH_GROUP && p < nh->n_paths; p++)
		nexthop_put(h, nh->paths[p]);
}

/* The single next hop HOP of a route stands for, in context NH_CTX. */
static int
hop_resolve(const struct ph_host *h, uint16_t nh_ctx, const struct ph_conf_hop *hop,
            struct ph_nexthop *out, char *err, size_t errlen)
{
	char ip[IPV4_STR_LEN];

	*out = (struct ph_nexthop){
	        .gw = hop->gw, .ctx = nh_ctx, .kind = hop->gw != 0 ? PH_NH_GATEWAY : PH_NH_ONLINK};
	if (hop->dev[0] != '\0') {
		int ifc = ctx_iface_find(h, hop->dev);

		if (ifc < 0) {
			snprintf(err, errlen, "no interface '%s'", hop->dev);
			return -ENODEV;
		}
		if (h->ifaces[ifc].ctx != nh_ctx) {
			snprintf(err, errlen, "interface '%s' is not in context '%s'", hop->dev,
			         h->ctxs[nh_ctx]->name);
			return -EINVAL;
		}
		out->ifindex = (uint16_t)ifc;
	} else {
		/* Through a gateway on a subnet of the context: its connected
		 * route names the interface (a recursive route would not). The
		 * RIB answers: the FIB may lag behind it inside a batch. */
		const struct ph_route *via = rib_cover(h->ctxs[nh_ctx], hop->gw, 32);
		const struct ph_nexthop *on = via != NULL ? &h->nexthops[via->nh] : NULL;

		if (on == NULL || on->kind != PH_NH_ONLINK) {
			snprintf(err, errlen,
			         "gateway %s is not on a subnet of context '%s' (add 'dev IFACE')",
			         ipv4_str(hop->gw, ip), h->ctxs[nh_ctx]->name);
			return -ENETUNREACH;
		}
		out->ifindex = on->ifindex;
	}
	if (hop->gw != 0 && ctx_local_lookup(h, nh_ctx, hop->gw) != NULL) {
		snprintf(err, errlen, "gateway %s is an address of this host",
		         ipv4_str(hop->gw, ip));
		return -EINVAL;
	}
	return 0;
}

/* The next-hop index for R's hops (a new reference), or -errno. */
static int
route_nexthop(struct ph_host *h, uint16_t ctx, const struct ph_conf_route *r, char *err,
              size_t errlen)
{
	struct ph_nexthop group = {.kind = PH_NH_GROUP};
	uint16_t nh_ctx = ctx;
	int rc, idx = 0;

	if (r->ctx[0] != '\0') {
		rc = ctx_find(h, r->ctx, strlen(r->ctx));
		if (rc < 0) {
			snprintf(err, errlen, "no context '%s'", r->ctx);
			return -ENOENT;
		}
		nh_ctx = (uint16_t)rc;
	}
	if (r->n_hops == 0 || r->n_hops > PH_ECMP_MAX) {
		snprintf(err, errlen, "a route needs 1 to %d next hops", PH_ECMP_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i < r->n_hops; i++) {
		struct ph_nexthop one;

		rc = hop_resolve(h, nh_ctx, &r->hops[i], &one, err, errlen);
		idx = rc == 0 ? nexthop_get(h, &one) : rc;
		if (idx < 0) {
			for (unsigned p = 0; p < group.n_paths; p++)
				nexthop_put(h, group.paths[p]);
			goto full;
		}
		group.paths[group.n_paths++] = (uint16_t)idx;
	}
	if (r->n_hops == 1)
		return group.paths[0];
	/* The group takes its own reference on each path: drop ours. */
	idx = nexthop_get(h, &group);
	for (unsigned p = 0; p < group.n_paths; p++)
		nexthop_put(h, group.paths[p]);
full:
	if (idx == -ENOSPC)
		snprintf(err, errlen, "next-hop table full (%d)", PH_MAX_NEXTHOPS);
	return idx;
}

int
ctx_route_change(struct ph_host *h, uint16_t ctx, enum ph_route_op op,
                 const struct ph_conf_route *r, enum ph_route_origin origin, char *err,
                 size_t errlen)
{
	struct ph_ctx *c = ctx < PH_MAX_CTX ? h->ctxs[ctx] : NULL;
	struct ph_route key = {.prefix = r->prefix, .plen = r->plen}, *rt;
	struct ph_ranges *new = NULL;
	uint16_t old_nh;
	int nh, rc;

	if (c == NULL) {
		snprintf(err, errlen, "no context %u", ctx);
		return -ENOENT;
	}
	if (r->plen > 32 || (r->prefix & ~ipv4_mask(r->plen)) != 0) {
		snprintf(err, errlen, "prefix has host bits set");
		return -EINVAL;
	}
	rt = RB_FIND(ph_rib, &c->rib, &key);
	/* A ranges table for the RIB after the change, taken before it: the
	 * change cannot then fail half done. */
	if (c->fib_kind == PH_FIB_RANGES && !c->batch &&
	    (new = ranges_alloc(2 * (c->n_routes + 1) + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (op == PH_ROUTE_DEL) {
		if (rt == NULL) {
			free(new);
			snprintf(err, errlen, "no such route");
			return -ESRCH;
		}
		RB_REMOVE(ph_rib, &c->rib, rt);
		rc = fib_apply(h, c, &key, -1, new);
		if (rc != 0) {
			RB_INSERT(ph_rib, &c->rib, rt);
			fib_resync(c, &key);
			snprintf(err, errlen, "FIB: %s", strerror(-rc));
			return rc;
		}
		__atomic_store_n(&c->n_routes, c->n_routes - 1, __ATOMIC_RELAXED);
		nh_release(h, c, rt->nh);
		/* The record is control-side only: no reader holds it. */
		free(rt);
		return 0;
	}
	if (rt != NULL && op == PH_ROUTE_ADD) {
		free(new);
		snprintf(err, errlen, "route exists");
		return -EEXIST;
	}
	if (rt == NULL && c->n_routes >= c->max_routes) {
		free(new);
		snprintf(err, errlen, "context full (max_routes %u)", c->max_routes);
		return -ENOSPC;
	}
	nh = route_nexthop(h, ctx, r, err, errlen);
	if (nh < 0) {
		free(new);
		return nh;
	}
	if (rt == NULL) {
		rt = calloc(1, sizeof(*rt));
		if (rt == NULL) {
			free(new);
			nexthop_put(h, (uint16_t)nh);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		*rt = key;
		rt->nh = PH_NH_NONE;
		RB_INSERT(ph_rib, &c->rib, rt);
		__atomic_store_n(&c->n_routes, c->n_routes + 1, __ATOMIC_RELAXED);
	}
	old_nh = rt->nh;
	rt->nh = (uint16_t)nh; /* the ranges table is built from the RIB */
	rc = fib_apply(h, c, &key, nh, new);
	if (rc != 0) {
		snprintf(err, errlen, "FIB: %s", rc == -ENOSPC ? "full" : strerror(-rc));
		rt->nh = old_nh;
		if (old_nh == PH_NH_NONE) {
			RB_REMOVE(ph_rib, &c->rib, rt);
			__atomic_store_n(&c->n_routes, c->n_routes - 1, __ATOMIC_RELAXED);
			free(rt);
		}
		/* No FIB entry may name NH when it goes. */
		fib_resync(c, &key);
		nexthop_put(h, (uint16_t)nh);
		return rc;
	}
	nh_release(h, c, old_nh);
	rt->origin = (uint8_t)origin;
	return 0;
}

void
ctx_rib_free(struct ph_host *h, struct ph_ctx *c)
{
	struct ph_route *rt, *next;

	for (rt = RB_MIN(ph_rib, &c->rib); rt != NULL; rt = next) {
		next = RB_NEXT(ph_rib, &c->rib, rt);
		RB_REMOVE(ph_rib, &c->rib, rt);
		nexthop_put(h, rt->nh);
		free(rt);
	}
	c->n_routes = 0;
	free(c->ranges); /* the host is going away: no reader is left */
	c->ranges = NULL;
}
