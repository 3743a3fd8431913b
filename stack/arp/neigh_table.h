/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour table's state machine: which IPv4 neighbours (per routing
 * context) have a known link-layer address, which are being resolved, and the
 * packets waiting for them.
 *
 * It sits behind IPv4 output (a next hop without a published address lands
 * here with its packet) and ARP input (a sender's address lands here). It is
 * owned by the lead core and is pure logic: time is an argument, and every
 * side effect (publish an address for the workers' lock-free lookups, send an
 * ARP request, release or drop a held packet) goes through the ops given at
 * creation, so unit tests drive it with a virtual clock and record the calls.
 *
 * Bounded everywhere: entries are preallocated; each unresolved entry holds at
 * most max_pending packets (the oldest is dropped first, as Linux does), and
 * the whole table at most max_pending_total. When the table is full the least
 * recently confirmed resolved entry is evicted; unresolved ones are never
 * evicted, so a flood of new destinations cannot flush live neighbours faster
 * than one per resolution timeout.
 *
 * States (a subset of RFC 4861's NUD, which Linux also uses for ARP):
 *   INCOMPLETE  broadcast requests every retrans_ms, up to mcast_probes, then
 *               the entry fails and its packets are dropped;
 *   REACHABLE   confirmed less than reachable_ms ago;
 *   PROBE       confirmation too old: still used, while unicast requests
 *               re-validate it, up to ucast_probes; then the entry is removed.
 */
#ifndef PH_ARP_NEIGH_TABLE_H
#define PH_ARP_NEIGH_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "core/counters.h"

struct rte_mbuf;
struct neigh_table;

enum neigh_state {
	NEIGH_INCOMPLETE,
	NEIGH_REACHABLE,
	NEIGH_PROBE,
};

struct neigh_params {
	uint32_t max_entries;       /* whole table, all contexts */
	uint16_t max_pending;       /* packets held per unresolved neighbour */
	uint32_t max_pending_total; /* packets held in the whole table */
	uint32_t reachable_ms;      /* how long a confirmation is trusted */
	uint32_t retrans_ms;        /* between two requests */
	uint8_t mcast_probes;       /* broadcast requests before giving up */
	uint8_t ucast_probes;       /* unicast re-validations before removal */
};

struct neigh_ops {
	/* The workers may now use MAC for (CTX, IP); replaces any earlier one. */
	void (*publish)(void *arg, uint16_t ctx, uint32_t ip, const struct rte_ether_addr *mac);
	/* The workers must stop using (CTX, IP). */
	void (*unpublish)(void *arg, uint16_t ctx, uint32_t ip);
	/* Send an ARP request for IP on IFINDEX: broadcast when DST is NULL. */
	void (*solicit)(void *arg, uint16_t ctx, uint16_t ifindex, uint32_t ip,
	                const struct rte_ether_addr *dst);
	/* A held packet may go: to MAC on IFINDEX. */
	void (*transmit)(void *arg, struct rte_mbuf *m, uint16_t ifindex,
	                 const struct rte_ether_addr *mac);
	/* A held packet is dropped, for WHY. */
	void (*drop)(void *arg, struct rte_mbuf *m, enum ph_drop why);
};

/* A copy of one entry, for listings. */
struct neigh_info {
	uint16_t ctx;
	uint16_t ifindex;
	uint32_t ip;
	enum neigh_state state;
	struct rte_ether_addr mac;
	uint64_t confirmed_ms; /* 0 if never */
	uint16_t pending;
	uint8_t probes;
};

/* NULL and errno set (EINVAL, ENOMEM) on failure. */
struct neigh_table *neigh_table_create(const struct neigh_params *p, const struct neigh_ops *ops,
                                       void *arg);
/* Drops every held packet (PH_DROP_SHUTDOWN) and unpublishes every address. */
void neigh_table_destroy(struct neigh_table *t);

/*
 * M must go to next hop IP (context CTX) out of IFINDEX. Transmits it at once
 * when the address is known, holds it and starts resolution otherwise. The
 * packet is always consumed.
 */
void neigh_resolve(struct neigh_table *t, uint16_t ctx, uint16_t ifindex, uint32_t ip,
                   struct rte_mbuf *m, uint64_t now_ms);

/*
 * ARP input heard IP at MAC on IFINDEX. Following RFC 826's merge rule, an
 * existing entry is updated (and confirmed, releasing held packets); a new one
 * is created only when the packet was addressed to us (TARGET_IS_US).
 * Returns true when an entry was updated or created.
 */
bool neigh_input(struct neigh_table *t, uint16_t ctx, uint16_t ifindex, uint32_t ip,
                 const struct rte_ether_addr *mac, bool target_is_us, uint64_t now_ms);

/*
 * The link under IFINDEX came up: requests sent while it was down were lost,
 * so every unresolved neighbour there asks again at the next neigh_tick(),
 * with its full count of tries, instead of waiting out retrans_ms.
 */
void neigh_link_up(struct neigh_table *t, uint16_t ifindex, uint64_t now_ms);

/* Run the timers: retransmissions, failures, re-validation, removal. */
void neigh_tick(struct neigh_table *t, uint64_t now_ms);

/* Remove one entry (its held packets are dropped). Returns 0 or -ENOENT. */
int neigh_delete(struct neigh_table *t, uint16_t ctx, uint32_t ip);

/* Copy up to MAX entries of context CTX (or of every context if CTX is
 * UINT16_MAX), skipping the first SKIP, into OUT. Returns how many were copied. */
unsigned neigh_list(const struct neigh_table *t, uint16_t ctx, unsigned skip,
                    struct neigh_info *out, unsigned max);

unsigned neigh_count(const struct neigh_table *t);
unsigned neigh_pending_count(const struct neigh_table *t);
const char *neigh_state_name(enum neigh_state s);

#endif
