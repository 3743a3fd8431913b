/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routing contexts, the interfaces bound to them, their addresses and FIBs.
 *
 * Ethernet input maps (port, VLAN) to an interface and so to a context; IPv4
 * input asks ctx_local_lookup() whether a destination is ours in that
 * context; IPv4 output asks ctx_route() for the next hop in the packet's
 * context. Two contexts may hold the same addresses: every key here includes
 * the context number.
 *
 * Writers: the lead core (start-up today, runtime changes later). Readers: all
 * lcores, without locks. The local-address table is an rte_hash in lock-free
 * read/write mode whose freed slots wait for RCU quiescence; each FIB is an
 * rte_fib (DIR-24-8) whose next hops index the host's next-hop table. The
 * control-side view (which routes were configured, and why) is kept apart, in
 * struct ph_ctx's route list.
 */
#ifndef PH_CTX_CTX_H
#define PH_CTX_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include <bsd/sys/tree.h>
#include <rte_ether.h>

#include "conf/conf.h"

struct ph_host;
struct rte_fib;

#define PH_MAX_IFACES   PH_CONF_MAX_IFACES
#define PH_MAX_CTX      PH_CONF_MAX_CTX
#define PH_MAX_NEXTHOPS 4096
#define PH_IFACE_NONE   UINT16_MAX
#define PH_NH_NONE      0 /* next-hop index 0 means "no route" */

struct ph_ifaddr {
	uint32_t ip; /* host order */
	uint8_t plen;
};

struct ph_iface {
	uint16_t index;
	uint16_t port; /* index in host->ports */
	uint16_t vlan; /* 0 when untagged */
	uint16_t ctx;  /* context number */
	uint16_t mtu;  /* largest IPv4 datagram it sends */
	struct rte_ether_addr mac;
	char name[PH_NAME_LEN];
	struct ph_ifaddr addrs[PH_CONF_MAX_ADDRS];
	uint8_t n_addrs;
};

enum ph_local_kind {
	PH_LOCAL_UNICAST,   /* one of our addresses */
	PH_LOCAL_BROADCAST, /* the directed broadcast of one of our subnets */
};

/* What the local-address table says about (ctx, ip). */
struct ph_local {
	uint32_t ip;
	uint16_t ctx;
	uint16_t ifindex;
	uint8_t kind;
	uint8_t plen;
};

enum ph_nh_kind {
	PH_NH_ONLINK,  /* the destination itself is the next hop */
	PH_NH_GATEWAY, /* through gw */
	PH_NH_GROUP,   /* ECMP: one of paths[], chosen by the flow's hash */
};

#define PH_ECMP_MAX PH_CONF_ECMP_MAX

enum ph_nh_state {
	PH_NH_FREE,
	PH_NH_USED,
	PH_NH_RETIRED, /* unreferenced: reusable once every reader has moved on */
};

/*
 * A next hop, immutable while any FIB entry holds its index: a change of a
 * route's next hops publishes a new entry, points the FIB at it and retires
 * the old one, whose slot is reused only after an RCU grace period (so a
 * reader that looked the index up before the change still reads what it
 * looked up).
 */
struct ph_nexthop {
	uint32_t gw; /* PH_NH_GATEWAY */
	uint16_t ifindex;
	uint16_t ctx; /* of the interface: not the route's own for a leaked route */
	uint8_t kind;
	uint8_t n_paths;             /* PH_NH_GROUP */
	uint16_t paths[PH_ECMP_MAX]; /* PH_NH_GROUP: indexes of single next hops */
	/* Control side, lead only. */
	uint8_t state; /* enum ph_nh_state */
	uint32_t refs; /* routes and groups that hold it */
	uint64_t retired_token;
};

enum ph_route_origin {
	PH_ROUTE_CONNECTED, /* from an interface address */
	PH_ROUTE_STATIC,    /* from the configuration or phctl */
};

/* Control-side record of one route (the FIB holds only prefix -> next hop):
 * the context's RIB, ordered by prefix then length. */
struct ph_route {
	RB_ENTRY(ph_route) link;
	uint32_t prefix;
	uint8_t plen;
	uint8_t origin;
	uint16_t nh;
};
RB_HEAD(ph_rib, ph_route);

/* A FIB of kind PH_FIB_RANGES: the address space cut into ranges, each with
 * one next hop; range i is [start[i], start[i + 1]), start[0] is 0. Built
 * whole from the RIB on every change and never written once published:
 * readers follow the pointer, the old one is freed after a grace period. */
struct ph_ranges {
	uint32_t n;
	uint32_t *start;
	uint16_t *nh;
};

struct ph_ctx {
	uint16_t id;
	char name[PH_NAME_LEN];
	bool forwarding;
	uint8_t fib_kind;         /* enum ph_fib_kind */
	struct rte_fib *fib;      /* PH_FIB_DIR24_8 */
	uint64_t top_nh;          /* PH_FIB_DIR24_8: 255.255.255.255's (route.c) */
	struct ph_ranges *ranges; /* PH_FIB_RANGES (RCU-published) */
	bool batch;               /* ranges: rebuild at ctx_routes_commit() only */
	uint16_t *batch_puts;     /* next hops to give up at the commit */
	unsigned n_batch_puts, cap_batch_puts;
	uint32_t max_routes;
	struct ph_rib rib;
	unsigned n_routes;
};

/* Key of the per-context tables (local addresses, neighbours). */
struct ph_ctx_key {
	uint32_t ip;
	uint16_t ctx;
	uint16_t pad; /* zero: keys are hashed as bytes */
};

/*
 * Build contexts, interfaces, addresses and routes from the configuration
 * (ports must be open: interfaces take their MAC). 0 or -errno with ERR filled.
 */
int ctx_build(struct ph_host *h, const struct ph_conf *conf, char *err, size_t errlen);
void ctx_destroy(struct ph_host *h);

/* The local address entry for (CTX, IP), or NULL. Any lcore. */
const struct ph_local *ctx_local_lookup(const struct ph_host *h, uint16_t ctx, uint32_t ip);
/* Bulk form: OUT[i] for (CTX[i], IP[i]); N <= 64. */
void ctx_local_lookup_bulk(const struct ph_host *h, const uint16_t *ctx, const uint32_t *ip,
                           const struct ph_local **out, unsigned n);

/* The hash that picks among a route's ECMP paths for the host's own
 * datagrams and for forwarded ones without an RSS hash: by addresses, as
 * Linux's default multipath policy. */
static inline uint32_t
ctx_l3_hash(uint32_t src, uint32_t dst)
{
	uint64_t x = ((uint64_t)src << 32 | dst) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(x >> 32);
}

/* The single next hop index NH stands for under HASH (a group picks one). */
static inline const struct ph_nexthop *
ctx_nh_pick(const struct ph_nexthop *tbl, uint64_t nh, uint32_t hash)
{
	const struct ph_nexthop *n = &tbl[nh];

	if (n->kind == PH_NH_GROUP)
		n = &tbl[n->paths[((uint64_t)hash * n->n_paths) >> 32]];
	return n;
}

/* The next hop for DST in context CTX (a path of an ECMP route by HASH), or
 * NULL when there is no route. Any lcore. */
const struct ph_nexthop *ctx_route_flow(const struct ph_host *h, uint16_t ctx, uint32_t dst,
                                        uint32_t hash);
/* The same for the host's own datagrams: an ECMP path by the destination
 * (TCP's route, its source address and RSS's reply steering then agree). */
const struct ph_nexthop *ctx_route(const struct ph_host *h, uint16_t ctx, uint32_t dst);

/* The number of the context named by NAME's first LEN characters, or -1. */
int ctx_find(const struct ph_host *h, const char *name, size_t len);
/* The index of the interface named NAME, or -1. */
int ctx_iface_find(const struct ph_host *h, const char *name);

/* The source address to use on IFINDEX toward DST: one in DST's subnet if
 * any, else the first address. 0 when the interface has none. */
uint32_t ctx_iface_source(const struct ph_host *h, uint16_t ifindex, uint32_t dst);

enum ph_route_op {
	PH_ROUTE_ADD,     /* EEXIST when the prefix has a route */
	PH_ROUTE_REPLACE, /* add, or change the next hops of the route there */
	PH_ROUTE_DEL,     /* ESRCH when there is none; next hops need not be given */
};

/*
 * Change context CTX's routes (lead core, or start-up): R names interfaces and
 * a leak context as the configuration does. Readers see the old route or the
 * new one, never a half-built one. 0, or -errno with ERR saying why.
 */
int ctx_route_change(struct ph_host *h, uint16_t ctx, enum ph_route_op op,
                     const struct ph_conf_route *r, enum ph_route_origin origin, char *err,
                     size_t errlen);

/* Next-hop indexes of N destinations of context C (PH_NH_NONE: no route),
 * whatever its FIB's kind. Any lcore. */
void ctx_fib_lookup_bulk(const struct ph_ctx *c, const uint32_t *ip, uint64_t *nh, unsigned n);

/* Many changes to one context: a ranges FIB is rebuilt once, at the commit
 * (readers see the routes of before the begin until then). Lead core. */
void ctx_routes_begin(struct ph_host *h, uint16_t ctx);
int ctx_routes_commit(struct ph_host *h, uint16_t ctx);

/* Routes and next hops: set up empty, free (route.c). */
/* An empty RIB and a FIB of C's kind holding nothing yet. 0 or -errno. */
int ctx_rib_init(struct ph_host *h, struct ph_ctx *c);
void ctx_rib_free(struct ph_host *h, struct ph_ctx *c);
/* The first route of C at or after (PREFIX, PLEN) in RIB order, or NULL. */
const struct ph_route *ctx_rib_next(const struct ph_ctx *c, const struct ph_route *after);

#endif
