/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * polyhost: a user-space TCP/IP stack on DPDK. This is the whole public API:
 * start-up and the poll loop here, sockets in <polyhost/socket.h>, events in
 * <polyhost/epoll.h>, zero-copy buffers in <polyhost/zc.h>. Link with
 * `pkg-config --cflags --libs polyhost`; no DPDK header is needed.
 *
 * THREADING RULES
 *
 * The host runs on the lcores its configuration names ([eal] lcores). The
 * first is the lead lcore (neighbour resolution, ICMP, telemetry); the
 * others are workers, each owning one receive queue per port. With a single
 * lcore it is both.
 *
 *  1. Every call below, except ph_init(), ph_stop(), ph_stopping(),
 *     ph_ctx_lookup() and ph_counter(), must come from one of those lcores:
 *     the thread that called ph_init() (the lead), or a worker running the
 *     function ph_run() gave it (or one the application launched itself with
 *     DPDK). From any other thread they fail with errno EPERM.
 *  2. A socket or epoll instance belongs to the lcore that created it. Only
 *     that lcore may use or close it; from another lcore every call fails
 *     with EPERM and leaves it untouched. Datagrams for it that arrive on
 *     other lcores are passed to its owner inside the stack. The exception
 *     is a TCP listener without SO_REUSEPORT: on every worker its
 *     descriptor names that worker's own accept queue (<polyhost/socket.h>).
 *  3. Nothing blocks the lcore but the calls that wait for the network, and
 *     they drive the stack while they wait: a blocking ph_recv*() or a
 *     ph_epoll_wait() with a timeout polls the calling lcore's queues until
 *     it can return. After ph_stop() they return -1 with errno EINTR.
 *  4. An lcore must keep polling (ph_poll(), ph_epoll_wait() or a blocking
 *     call) for its queues to move: a worker that stops polling stalls the
 *     flows it owns.
 *
 * ROUTING CONTEXTS
 *
 * Every socket lives in one routing context (a VRF): its own addresses,
 * routes and port space. A thread has a current context (0, "default", until
 * ph_ctx_set()); a socket takes the current context of the thread that
 * creates it; ph_run() starts its workers in the caller's context; the
 * PH_SO_CONTEXT socket option moves a socket that is not yet bound.
 *
 * ERRORS
 *
 * Calls returning int or ssize_t return -1 and set errno as POSIX says;
 * calls returning a pointer return NULL and set errno.
 */
#ifndef POLYHOST_POLYHOST_H
#define POLYHOST_POLYHOST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <polyhost/epoll.h>
#include <polyhost/socket.h>
#include <polyhost/zc.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PH_VERSION "0.1.0"

/*
 * Start the host: read the configuration, start DPDK, open the ports, bring
 * up addresses and routes. Options it takes from ARGV (ARGV[0] is the
 * program name and is kept), up to a "--" or the first argument that is not
 * one of them:
 *     -c FILE, --config FILE   the host configuration (INI); required unless
 *                              the POLYHOST_CONFIG environment variable names it
 *     --lcores LIST            instead of [eal] lcores (e.g. "0", "0-1")
 *     --eal ARGS               more EAL arguments, appended to [eal] args
 *     --fault PORT=SPEC        fault injection on [port PORT] (repeatable):
 *                              SPEC's items (drop=P, ge=P:R, dup=P, delay=MS,
 *                              reorder=P, corrupt=P, truncate=P, rate=MBIT,
 *                              acks-only, blackhole=T1-T2, dir=, seed= ...;
 *                              see README.md) replace those of its `fault` key
 * Returns how many arguments it used (so ARGV + that is what is left for the
 * application, after a "--" if one was given), or -1 with errno: EINVAL or
 * ENOENT when the configuration is wrong or missing (ph_init_error() says
 * "FILE:LINE: key 'K': what"), EALREADY when the host is already up, another
 * errno when DPDK or a port fails. The calling thread becomes the lead lcore.
 */
int ph_init(int argc, char **argv);

/* The message of the last ph_init() failure ("" if none). */
const char *ph_init_error(void);

/*
 * One turn of the calling lcore's loop: receive, deliver to sockets, timers,
 * transmit. For applications that own their loop: every lcore of the host
 * must turn, the lead included, since the NIC queues belong to the workers.
 * With one lcore ([eal] lcores = 0, or --lcores 0) the thread that called
 * ph_init() is all there is and may loop on ph_poll() alone; with several,
 * give ph_run() a function that runs the worker's own loop (calling
 * ph_poll(), or the calls that wait) and the runner turns the lead. Returns
 * the packets handled (0 when idle), or -1 with errno EINTR once ph_stop()
 * was called, EPERM from a thread that is not an lcore of the host.
 */
int ph_poll(void);

/* What ph_run() calls on every worker lcore. */
typedef int (*ph_worker_fn)(void *arg);

/*
 * The convenience runner: calls FN(ARG) on every worker lcore (on the lead
 * too when it is the only lcore) while the lead runs host-wide work, each
 * worker starting in the caller's routing context. A worker whose FN returns
 * goes on polling. Returns after ph_stop(), when every lcore has stopped:
 * 0, or the first non-zero value an FN returned. FN may be NULL (the host
 * only answers ARP, ICMP and whatever sockets exist). Call it from the lead.
 */
int ph_run(ph_worker_fn fn, void *arg);

/* Ask every lcore to stop (async-signal-safe). */
void ph_stop(void);
bool ph_stopping(void);
/* Make SIGINT and SIGTERM call ph_stop(). 0 or -1. */
int ph_stop_on_signals(void);

/*
 * Shut the host down after the loops have stopped: close every socket, stop
 * the ports, print the counters to REPORT (if not NULL). Returns 0, or -1
 * with errno EBUSY when some packet buffers did not come back (a leak).
 */
int ph_fini(FILE *report);

/* Index of the calling lcore (0 is the lead), or -1 if it is none of the host's. */
int ph_lcore_index(void);
/* Number of lcores and of worker lcores. */
unsigned ph_lcore_count(void);
unsigned ph_worker_count(void);

/* Routing contexts (see above): numbers as in the configuration. */
int ph_ctx_set(int ctx); /* 0, or -1 with ENODEV for a context that does not exist */
int ph_ctx_get(void);
int ph_ctx_lookup(const char *name); /* number, or -1 with ENOENT */

/*
 * A host-wide counter by the name telemetry and phctl show (a drop reason such
 * as "udp_receive_buffer_full", or a MIB counter such as "udpInDatagrams"),
 * summed over lcores. 0, or -1 with ENOENT.
 */
int ph_counter(const char *name, uint64_t *value);

#ifdef __cplusplus
}
#endif

#endif
