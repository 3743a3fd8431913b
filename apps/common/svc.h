/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the services of apps/common (echo_service.h, http_service.h) share,
 * on the public API only: the worker loop, the listening sockets, the
 * accepted connections, and the start of the programs that run them.
 *
 * A worker owns one epoll instance, and every descriptor in it carries a
 * struct svc_handler (ev.data.ptr) that says what to do with its events. That
 * lets polyhostd run echo, discard and http services on one lcore in one loop
 * (ph_run() gives each worker one function): svc_run() starts them all.
 */
#ifndef PH_APPS_SVC_H
#define PH_APPS_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the worker loop ---- */

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

/* ---- services on a worker lcore ---- */

/* One service, as svc_run() starts and stops it. */
struct svc_ops {
	/* Open the service's sockets on the calling lcore and watch them in
	 * EP; CFG must outlive them. The service's state, or NULL (errno set,
	 * the reason printed) when one cannot be set up. */
	void *(*start)(const void *cfg, int ep);
	/* The service's timers, given its state; NULL for none. */
	svc_tick_fn tick;
	/* Close what START opened; from the same lcore. */
	void (*stop)(void *state);
};

struct svc_service {
	const struct svc_ops *ops;
	const void *cfg;
	void *state; /* svc_run()'s: what ops->start returned */
};

/*
 * The body of a ph_run() worker function: an epoll instance, the N services
 * of SVCS started in it in order, svc_loop() until the host stops, then the
 * services stopped in the same order. WHO starts the message printed when
 * the epoll instance cannot be made. 0, or 1 (and the host stopped) when
 * something could not be set up.
 */
int svc_run(const char *who, struct svc_service *svcs, unsigned n);

/* ---- sockets ---- */

/* listen() backlog; the host bounds it by [tcp] max_backlog. */
#define SVC_BACKLOG 1024

/*
 * A socket of TYPE (SOCK_DGRAM, or SOCK_STREAM: listening) bound to IP:PORT
 * (host order; IP 0 for any address of the context) in routing context CTX,
 * watched for EPOLLIN in EP with handler H. RCVBUF: SO_RCVBUF, 0 for the
 * default. TCP: one listener for the whole host, made by the first worker
 * that asks; on every worker its descriptor names that worker's own accept
 * queue, holding the connections whose flows the worker owns. UDP: a socket
 * per worker with SO_REUSEPORT. The descriptor, or -1 with errno set and
 * *WHAT the call that failed.
 */
int svc_listen(int ep, struct svc_handler *h, int type, uint32_t ip, uint16_t port, int ctx,
               int rcvbuf, const char **what);

/* ---- accepted TCP connections ---- */

/* Connections accepted per listener event. */
#define SVC_ACCEPT_BUDGET 32

/* The part of a connection svc_accept() makes; a service's connection
 * begins with it. */
struct svc_conn {
	struct svc_handler h; /* first: epoll's data.ptr points here */
	struct svc_conns *set;
	struct svc_conn *prev, *next;
	int fd;
	uint32_t watching; /* EPOLLIN or EPOLLOUT */
};

/* One service's connections on one worker lcore. */
struct svc_conns {
	int ep;                /* the worker's epoll instance */
	struct svc_conn *head; /* every open connection, for the stop */
	/* Frees what a connection holds besides its descriptor and memory,
	 * just before they go; NULL when there is nothing. */
	void (*release)(struct svc_conn *c);
};

/*
 * Accept up to SVC_ACCEPT_BUDGET connections waiting on the listening socket
 * LFD into SET: each gets SIZE bytes, which INIT(C, ARG) prepares before the
 * struct svc_conn at their start is filled in, and is watched for EPOLLIN
 * with ON_EVENT. Returns how many were added.
 */
unsigned svc_accept(struct svc_conns *set, int lfd, size_t size,
                    void (*on_event)(struct svc_handler *h, uint32_t events),
                    void (*init)(struct svc_conn *c, void *arg), void *arg);

/* Watch C for EV (EPOLLIN or EPOLLOUT) from now on; false when that failed
 * and C is closed. */
bool svc_conn_watch(struct svc_conn *c, uint32_t ev);

/* Close C (which leaves the epoll instance with it) and free it. */
void svc_conn_close(struct svc_conn *c);

/* Close every connection of SET. */
void svc_conns_close(struct svc_conns *set);

/* ---- the programs ---- */

/*
 * ph_init() for a program with options of its own: 0, with *ARGC and *ARGV
 * what ph_init() left (after its "--", if any) behind the program name; or
 * the exit status (the reason printed, PROG first) when it failed.
 */
int svc_init(const char *prog, int *argc, char ***argv);

/*
 * Make NAME (a routing context's name or number) the default context of the
 * sockets to come. 0, or -1 with "PROG: OPT NAME: no such routing context"
 * printed.
 */
int svc_set_ctx(const char *prog, const char *opt, const char *name);

#endif
