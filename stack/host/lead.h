/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lead core's own work: the packets workers hand it (ARP, ICMP, next hops
 * to resolve, ICMP errors to send), the neighbour table and its timers, and
 * requests from other threads (telemetry) that must run where the state they
 * read lives, and the ports' link state (a link that comes up gets our
 * announcements and pending requests again). Workers never wait on the
 * lead: they enqueue and go on.
 */
#ifndef PH_HOST_LEAD_H
#define PH_HOST_LEAD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/lcore.h"

struct ph_lcore;
struct ph_host;
struct rte_mbuf;
struct neigh_table;

struct ph_lead {
	struct neigh_table *neigh;
	uint64_t next_neigh_tick_ms;
	/* ICMP error rate limit: thousandths of a token, refilled per ms. */
	uint64_t icmp_tokens;
	uint64_t icmp_last_ms;
	/* Link state of each port as last seen, checked every LINK_CHECK_MS:
	 * what was sent while a link was down (ARP) is sent again when it
	 * comes up. */
	bool link_up[PH_MAX_PORTS];
	uint64_t next_link_check_ms;
};

int lead_init(struct ph_lcore *lead);
void lead_fini(struct ph_lcore *lead);

/* One request handed over by ph_to_lead() (data and op in its metadata). */
void lead_dispatch(struct ph_lcore *lead, struct rte_mbuf *m);

/* Once the ports are up, on the lead: gratuitous ARP for every address. */
void lead_start(struct ph_lcore *lead);

/* Drain the workers' rings and the mailbox, run timers. Returns work done. */
unsigned lead_poll(struct ph_lcore *lead);

/*
 * Run FN(lead, ARG) on the lead core and wait for it, from any other thread.
 * 0, or -ETIMEDOUT when the lead did not take it within TIMEOUT_MS (it then
 * never runs), or -ENOMEM/-ENOBUFS.
 */
typedef void (*lead_call_fn)(struct ph_lcore *lead, void *arg);
int lead_call(struct ph_host *h, lead_call_fn fn, void *arg, unsigned timeout_ms);

#endif
