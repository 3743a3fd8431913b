/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state of one lcore, passed explicitly to every function on the packet
 * path. An lcore is the lead (host-wide work: neighbour resolution, ICMP,
 * telemetry requests, timers of shared tables), a worker (it owns one RX
 * queue on every port and the flows that land there), or both when the host
 * runs on a single lcore. Every lcore has its own TX queue on every port.
 *
 * Everything here is written by the owning lcore only. Fields another thread
 * reads say so.
 */
#ifndef PH_CORE_LCORE_H
#define PH_CORE_LCORE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ip_frag.h>

#include "core/counters.h"
#include "sock/sock.h"

#define PH_BURST     32
#define PH_MAX_PORTS 32
#define PH_NO_QUEUE  UINT16_MAX

struct ph_host;
struct ph_lead;
struct rte_ring;
struct rte_mbuf;
struct rte_eth_dev_tx_buffer;
struct tcp_stack;
struct tcp_share_lcore;

/* Packets staged for one other lcore (flow/flow.h). */
struct flow_stage {
	uint16_t n;
	struct rte_mbuf *m[PH_BURST];
};

struct ph_lcore {
	struct ph_host *host;
	unsigned lcore_id; /* EAL's */
	uint16_t index;    /* ours: 0 is the lead */
	uint16_t rxq;      /* RX queue it polls on every port, PH_NO_QUEUE if none */
	uint16_t txq;      /* its TX queue on every port */
	bool is_lead;
	bool is_worker;
	bool online;       /* its thread reports RCU quiescent states */
	bool lead_started; /* the lead announced its addresses */

	/* Refreshed once per loop iteration. */
	uint64_t now_tsc;
	uint64_t now_ms;

	/* Packets for the lead core: staged, then enqueued in bulk. The ring is
	 * single-producer (this lcore), single-consumer (the lead). */
	struct rte_ring *to_lead;
	struct rte_mbuf *lead_stage[PH_BURST];
	uint16_t n_lead_stage;

	/* One TX buffer per port, flushed every loop iteration. */
	struct rte_eth_dev_tx_buffer *txb[PH_MAX_PORTS];

	/* IPv4 reassembly of the fragments this lcore receives. */
	struct rte_ip_frag_tbl *frag_tbl; /* context 0's */
	/* Other contexts' tables, made at their first fragment (ipv4/frag.c). */
	struct rte_ip_frag_tbl **frag_ctx_tbl;
	uint16_t *frag_ctx_list;
	uint16_t frag_n_ctx;
	uint32_t frag_max_datagrams;
	uint64_t frag_ttl_tsc;
	struct rte_ip_frag_death_row frag_dr;
	uint64_t frag_next_expire_ms;
	uint64_t rcu_reclaimed_ms; /* lead: last ms it reclaimed deferred frees */

	uint16_t ip_id;      /* next IPv4 identification (RFC 6864) */
	unsigned idle_polls; /* consecutive empty loop iterations */

	struct ph_lead *lead; /* lead-only state; NULL on workers */

	/* This lcore's TCP (see tcp/tcp.h) and a buffer to linearize a
	 * segment that arrived in pieces. */
	struct tcp_stack *tcp;
	uint8_t *tcp_scratch;

	/* The sockets and epoll instances this lcore owns. */
	struct sock_table socks;
	/* The socket a blocking call waits on (api_wait), or NULL: it must not
	 * be freed under the caller's feet by the poll that call runs. */
	struct ph_sock *wait_sock;
	/* This worker's accept queues of host-wide listeners (tcp/tcp_share.h)
	 * and the registry epoch it last synced with. */
	struct tcp_share_lcore *tcp_share;
	uint32_t tcp_share_seen;
	/* Datagrams and errors for those sockets from other lcores: multi-producer,
	 * single-consumer (this lcore). */
	struct rte_ring *inbox;
	/* Datagrams this lcore sent to the host itself (single producer and consumer). */
	struct rte_ring *loop;
	/* Flow steering (flow/flow.h), workers only, NULL with one worker:
	 * steer_in[i] carries what lcore i hands this one (i produces, this
	 * lcore consumes); steer_out[i] is staged here for lcore i. */
	struct rte_ring **steer_in;
	struct flow_stage *steer_out;
	unsigned n_steer_staged; /* in steer_out: flow_flush() has work */

	/* Written by this lcore; read by the telemetry thread. */
	struct ph_counters ctr __rte_cache_aligned;
	struct ph_ctx_stats ctx_stats[PH_CTX_STATS];
};

static inline void
ph_mib(struct ph_lcore *lc, enum ph_mib m)
{
	ph_mib_inc(&lc->ctr, m);
}

/* Count M under WHY and free it. */
void ph_drop(struct ph_lcore *lc, struct rte_mbuf *m, enum ph_drop why);
/* Count N packets under WHY and free them. */
void ph_drop_bulk(struct ph_lcore *lc, struct rte_mbuf **m, unsigned n, enum ph_drop why);

/*
 * Hand M to the lead core for OP (enum ph_lead_op; the rest of the request is
 * in its metadata). On the lead itself it is handled at once; elsewhere it is
 * staged and enqueued in bulk by ph_lead_flush(), never blocking.
 */
void ph_to_lead(struct ph_lcore *lc, struct rte_mbuf *m, int op);
void ph_lead_flush(struct ph_lcore *lc);

#endif
