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
};

/* A next hop, immutable once published; FIB entries hold its index. */
struct ph_nexthop {
	uint32_t gw; /* PH_NH_GATEWAY */
	uint16_t ifindex;
	uint16_t ctx;
	uint8_t kind;
	bool used;
};

enum ph_route_origin {
	PH_ROUTE_CONNECTED, /* from an interface address */
	PH_ROUTE_STATIC,    /* from the configuration */
};

/* Control-side record of one route (the FIB holds only prefix -> next hop). */
struct ph_route {
	uint32_t prefix;
	uint8_t plen;
	uint8_t origin;
	uint16_t nh;
};

struct ph_ctx {
	uint16_t id;
	char name[PH_NAME_LEN];
	struct rte_fib *fib;
	struct ph_route *routes;
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

/* The next hop for DST in context CTX, or NULL when there is no route. Any lcore. */
const struct ph_nexthop *ctx_route(const struct ph_host *h, uint16_t ctx, uint32_t dst);

/* The source address to use on IFINDEX toward DST: one in DST's subnet if
 * any, else the first address. 0 when the interface has none. */
uint32_t ctx_iface_source(const struct ph_host *h, uint16_t ifindex, uint32_t dst);

/* Add a route to a context (lead core). 0 or -errno. */
int ctx_route_add(struct ph_host *h, uint16_t ctx, uint32_t prefix, uint8_t plen,
                  enum ph_route_origin origin, enum ph_nh_kind kind, uint32_t gw, uint16_t ifindex);

#endif
