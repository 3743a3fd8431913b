/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The echo and discard services (RFC 862, RFC 863) over UDP and TCP, written
 * on the public API only. ph-echo runs them from its command line, polyhostd
 * from [service] sections: the same code, one worker loop per lcore.
 *
 * Also the loop the services share: a worker owns one epoll instance, and
 * every descriptor in it carries a struct svc_handler (ev.data.ptr) that says
 * what to do with its events. That lets polyhostd run echo, discard and http
 * services on one lcore in one loop (ph_run() gives each worker one function).
 */
#ifndef PH_APPS_ECHO_SERVICE_H
#define PH_APPS_ECHO_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

/* ---- the worker loop services share ---- */

/* What a descriptor in a worker's epoll instance does with its events. The
 * handler may close its own descriptor (and free itself); no other. */
struct svc_handler {
	void (*on_event)(struct svc_handler *h, uint32_t events);
};

/* Called by svc_loop() about every SVC_TICK_MS with a monotonic clock in
 * milliseconds: the services' timers (idle connections). */
typedef void (*svc_tick_fn)(void *arg, uint64_t now_ms);
#define SVC_TICK_MS 100

/* Wait on EP and dispatch each event to its handler until the host stops
 * (ph_epoll_wait fails with EINTR); TICK may be NULL. */
void svc_loop(int ep, svc_tick_fn tick, void *arg);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t svc_now_ms(void);

/* ---- echo and discard ---- */

#define ECHO_MAX_LISTEN 64

struct echo_listen {
	uint8_t proto; /* IPPROTO_UDP or IPPROTO_TCP */
	uint32_t ip;   /* host order, 0 for any address of the context */
	uint16_t port;
	int ctx;      /* routing context number */
	bool discard; /* RFC 863: read and drop */
	char name[32];
};

struct echo_config {
	struct echo_listen listen[ECHO_MAX_LISTEN];
	unsigned n_listen;
	bool copy;  /* UDP: copy through ph_recvfrom/ph_sendto instead of zero-copy */
	int rcvbuf; /* SO_RCVBUF, 0 for the default */
};

/* One lcore's share of the echo services: its sockets and connections. */
struct echo_worker;

/*
 * On the calling worker lcore: open one socket per listen address of CFG
 * (SO_REUSEPORT, in the address's context), TCP ones listening, and watch
 * them in EP. NULL (errno set, the reason printed) when one cannot be set up.
 * CFG must outlive the worker.
 */
struct echo_worker *echo_worker_start(const struct echo_config *cfg, int ep);
/* Close the worker's connections and sockets; from the same lcore. */
void echo_worker_stop(struct echo_worker *w);

/* A ph_run() worker function: ARG is a struct echo_config. Serves until the
 * host stops; returns 0, or 1 when a socket could not be set up. */
int echo_service_worker(void *arg);

#endif
