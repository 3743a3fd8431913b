/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The host: everything the lcores share. polyhost's cores act as one IP host,
 * so ports, interfaces, contexts, addresses, routes and the published
 * neighbour table are host-wide. All of it is read-mostly: written by the
 * lead core (at start-up, or at run time through lock-free tables whose old
 * entries are reclaimed after RCU quiescence), read by every lcore without
 * locks. Nothing here is written on a worker's fast path.
 */
#ifndef PH_CORE_HOST_H
#define PH_CORE_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_lcore.h>

#include "conf/conf.h"
#include "core/lcore.h"
#include "ctx/ctx.h"
#include "drivers/port.h"

struct rte_hash;
struct rte_mempool;
struct rte_rcu_qsbr;
struct rte_ring;

/* Input handler for a burst of packets whose data starts at the L3 (or L4) header. */
typedef void (*ph_input_fn)(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n);
/* ICMP error handler of a transport, on the lead core: M holds the ICMP message
 * from its IPv4 header, QUOTE is the offset of the quoted IPv4 header. */
typedef void (*ph_icmp_err_fn)(struct ph_lcore *lead, struct rte_mbuf *m, uint16_t quote);
struct udp_host;
struct rte_rcu_qsbr_dq;
struct tcp_share;
struct ph_host {
	const struct ph_conf *conf;

	/* lcores: [0] is the lead */
	struct ph_lcore *lcores[RTE_MAX_LCORE];
	struct ph_lcore *by_eal_id[RTE_MAX_LCORE]; /* by EAL's lcore id */
	uint16_t n_lcores;
	uint16_t n_workers;

	struct ph_port ports[PH_MAX_PORTS];
	uint16_t n_ports;
	struct ph_iface ifaces[PH_MAX_IFACES];
	uint16_t n_ifaces;
	struct ph_ctx *ctxs[PH_MAX_CTX]; /* by context number */
	struct ph_nexthop nexthops[PH_MAX_NEXTHOPS];

	/* (ctx, ip) -> struct ph_local *: lock-free readers, lead writes. */
	struct rte_hash *locals;
	/* (ctx, ip) -> MAC (in the data word, see neigh_pub.h): lock-free readers, lead writes. */
	struct rte_hash *neigh;
	/* Quiescent-state reporting of the lcores that read the tables above. */
	struct rte_rcu_qsbr *qsbr;

	struct rte_mempool *pool;          /* packet buffers */
	struct rte_mempool *indirect_pool; /* references to data, for fragmenting chains */
	/* Frees deferred until every lcore has passed a quiescent state. */
	struct rte_rcu_qsbr_dq *rcu_dq;

	/* IPv4 protocol handlers, registered at start-up (ICMP now, UDP and TCP later). */
	ph_input_fn ip_proto[256];
	ph_icmp_err_fn icmp_err[256];

	/* UDP bindings (see udp.h). */
	struct udp_host *udp;
	/* TCP: by port, a bit for every lcore with a listener on it. Each lcore
	 * sets and clears its own bit (atomically); any lcore reads them to
	 * pass a segment it has no socket for to one that listens. */
	uint64_t *tcp_listen_lcores;
	/* Host-wide listeners (tcp/tcp_share.h), and the epoch that moves
	 * whenever one starts, changes or ends: every lcore reads it per poll. */
	struct tcp_share *tcp_share;
	uint32_t tcp_share_epoch __rte_cache_aligned;

	/* Requests for the lead core from other threads (telemetry): MP/SC. */
	struct rte_ring *lead_mbox;

	uint64_t tsc_hz;
	uint64_t start_tsc;
	/* Set by the signal handler, read by every loop. */
	volatile bool stop;
};

/* Free P (malloc'd) once no lcore can still be reading it. */
void ph_defer_free(struct ph_host *h, void *p);

/* The lcore running the calling thread, or NULL for a thread that is none of the host's. */
struct ph_lcore *ph_host_this_lcore(struct ph_host *h);

/* One iteration of LC's loop: RX, inbox, loopback, lead work, TX. Returns the
 * work done (packets), 0 when idle. */
unsigned ph_lcore_poll(struct ph_lcore *lc);
/* Back off after an idle iteration (spin, then sleep up to the configured limit). */
void ph_lcore_idle(struct ph_lcore *lc);
/* Start and end reporting LC's quiescent states (its thread runs the loop). */
void ph_lcore_online(struct ph_lcore *lc);
void ph_lcore_offline(struct ph_lcore *lc);
/* ph_lcore_poll() until the host stops (an rte_eal_remote_launch function). */
int ph_lcore_loop(void *arg);

static inline struct ph_iface *
ph_iface(struct ph_host *h, uint16_t ifindex)
{
	return &h->ifaces[ifindex];
}

static inline struct ph_port *
ph_iface_port(struct ph_host *h, const struct ph_iface *ifc)
{
	return &h->ports[ifc->port];
}

#endif
