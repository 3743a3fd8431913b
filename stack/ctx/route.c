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

#include <rte_fib.h>
#include <rte_rcu_qsbr.h>

#include "core/host.h"
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

void
ctx_rib_init(struct ph_ctx *c)
{
	RB_INIT(&c->rib);
	c->n_routes = 0;
}

const struct ph_route *
ctx_rib_next(const struct ph_ctx *c, const struct ph_route *after)
{
	struct ph_rib *rib = (struct ph_rib *)&c->rib;

	return after == NULL ? RB_MIN(ph_rib, rib) : RB_NEXT(ph_rib, rib, (struct ph_route *)after);
}

const struct ph_nexthop *
ctx_route(const struct ph_host *h, uint16_t ctx, uint32_t dst, uint32_t hash)
{
	const struct ph_ctx *c = ctx < PH_MAX_CTX ? h->ctxs[ctx] : NULL;
	uint64_t nh = PH_NH_NONE;

	if (c == NULL)
		return NULL;
	rte_fib_lookup_bulk(c->fib, &dst, &nh, 1);
	if (nh == PH_NH_NONE || nh >= PH_MAX_NEXTHOPS)
		return NULL;
	return ctx_nh_pick(h->nexthops, nh, hash);
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

static void nexthop_put(struct ph_host *h, uint16_t i);

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

static int
iface_by_name(const struct ph_host *h, const char *name)
{
	for (unsigned i = 0; i < h->n_ifaces; i++)
		if (strcmp(h->ifaces[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
ctx_by_name(const struct ph_host *h, const char *name)
{
	for (unsigned i = 0; i < PH_MAX_CTX; i++)
		if (h->ctxs[i] != NULL && strcmp(h->ctxs[i]->name, name) == 0)
			return (int)i;
	return -1;
}

/* The single next hop HOP of a route stands for, in context NH_CTX. */
static int
hop_resolve(const struct ph_host *h, uint16_t nh_ctx, const struct ph_conf_hop *hop,
            struct ph_nexthop *out, char *err, size_t errlen)
{
	*out = (struct ph_nexthop){
	        .gw = hop->gw, .ctx = nh_ctx, .kind = hop->gw != 0 ? PH_NH_GATEWAY : PH_NH_ONLINK};
	if (hop->dev[0] != '\0') {
		int ifc = iface_by_name(h, hop->dev);

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
		 * route names the interface (a recursive route would not). */
		const struct ph_nexthop *on = ctx_route(h, nh_ctx, hop->gw, 0);

		if (on == NULL || on->kind != PH_NH_ONLINK) {
			snprintf(err, errlen,
			         "gateway %u.%u.%u.%u is not on a subnet of context '%s' (add 'dev "
			         "IFACE')",
			         hop->gw >> 24, (hop->gw >> 16) & 255, (hop->gw >> 8) & 255,
			         hop->gw & 255, h->ctxs[nh_ctx]->name);
			return -ENETUNREACH;
		}
		out->ifindex = on->ifindex;
	}
	if (hop->gw != 0 && ctx_local_lookup(h, nh_ctx, hop->gw) != NULL) {
		snprintf(err, errlen, "gateway %u.%u.%u.%u is an address of this host",
		         hop->gw >> 24, (hop->gw >> 16) & 255, (hop->gw >> 8) & 255, hop->gw & 255);
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
	int rc, idx;

	if (r->ctx[0] != '\0') {
		rc = ctx_by_name(h, r->ctx);
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
		if (rc == 0 && r->n_hops == 1) {
			idx = nexthop_get(h, &one);
			if (idx < 0)
				snprintf(err, errlen, "next-hop table full (%d)", PH_MAX_NEXTHOPS);
			return idx;
		}
		if (rc == 0) {
			idx = nexthop_get(h, &one);
			rc = idx < 0 ? idx : 0;
			if (idx < 0)
				snprintf(err, errlen, "next-hop table full (%d)", PH_MAX_NEXTHOPS);
		}
		if (rc != 0) {
			for (unsigned p = 0; p < group.n_paths; p++)
				nexthop_put(h, group.paths[p]);
			return rc;
		}
		group.paths[group.n_paths++] = (uint16_t)idx;
	}
	/* The group takes its own reference on each path: drop ours. */
	idx = nexthop_get(h, &group);
	for (unsigned p = 0; p < group.n_paths; p++)
		nexthop_put(h, group.paths[p]);
	if (idx < 0)
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
	if (op == PH_ROUTE_DEL) {
		if (rt == NULL) {
			snprintf(err, errlen, "no such route");
			return -ESRCH;
		}
		rc = rte_fib_delete(c->fib, r->prefix, r->plen);
		if (rc != 0) {
			snprintf(err, errlen, "FIB: %s", strerror(-rc));
			return rc;
		}
		RB_REMOVE(ph_rib, &c->rib, rt);
		c->n_routes--;
		nexthop_put(h, rt->nh);
		/* The record is control-side only: no reader holds it. */
		free(rt);
		return 0;
	}
	if (rt != NULL && op == PH_ROUTE_ADD) {
		snprintf(err, errlen, "route exists");
		return -EEXIST;
	}
	nh = route_nexthop(h, ctx, r, err, errlen);
	if (nh < 0)
		return nh;
	if (rt == NULL) {
		rt = calloc(1, sizeof(*rt));
		if (rt == NULL) {
			nexthop_put(h, (uint16_t)nh);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		*rt = key;
		rt->nh = PH_NH_NONE;
		RB_INSERT(ph_rib, &c->rib, rt);
		c->n_routes++;
	}
	/* rte_fib_add over an existing prefix rewrites its entries in place:
	 * a reader sees the old next hop or the new one. */
	rc = rte_fib_add(c->fib, r->prefix, r->plen, (uint64_t)nh);
	if (rc != 0) {
		snprintf(err, errlen, "FIB: %s", rc == -ENOSPC ? "full" : strerror(-rc));
		nexthop_put(h, (uint16_t)nh);
		if (rt->nh == PH_NH_NONE) {
			RB_REMOVE(ph_rib, &c->rib, rt);
			c->n_routes--;
			free(rt);
		}
		return rc;
	}
	nexthop_put(h, rt->nh);
	rt->nh = (uint16_t)nh;
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
}
