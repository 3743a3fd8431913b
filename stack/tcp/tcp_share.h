/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One listen() for the whole host. A TCP listener without SO_REUSEPORT on a
 * host with several lcores is published here when it starts listening; every
 * worker lcore then opens an accept queue of its own for it: a listener in
 * its own TCP stack with the same context, address, port, backlog and
 * options (a replica). A SYN is handled where RSS (or steering) brings its
 * flow, by that lcore's replica, so an accepted connection never crosses
 * lcores. The application accepts on each worker with the descriptor it got
 * from socket(): on a worker that is not the socket's owner, the descriptor
 * names that worker's replica (api_sock() asks tcp_share_find()).
 *
 * Control path only. The registry is written under a spinlock by the owner
 * (listen, setsockopt, close) and read under it by the workers when its
 * epoch moves; the packet path never looks at it. A worker sees the epoch
 * at the top of every poll (one load of a line written only on a change),
 * before its RX burst, so a replica exists before the first SYN it could
 * take.
 *
 * Closing: the owner's close ends every replica (their unaccepted
 * connections are reset, as closing a listener does). A worker's close of
 * the descriptor ends only its own queue; its flows then go to the lcores
 * that still listen, like any flow that finds no listener where it lands.
 */
#ifndef PH_TCP_TCP_SHARE_H
#define PH_TCP_TCP_SHARE_H

#include <stdbool.h>
#include <stdint.h>

struct ph_host;
struct ph_lcore;
struct ph_sock;

/* Host-wide listeners at once; more stay on their lcore (counted). */
#define TCP_SHARE_MAX 64

int tcp_share_host_init(struct ph_host *h);
void tcp_share_host_fini(struct ph_host *h);
int tcp_share_lcore_init(struct ph_lcore *lc);
void tcp_share_lcore_fini(struct ph_lcore *lc);

/* S (owned by LC) listens now, or changed an option while listening:
 * publish it, or publish the change. Nothing for a listener that stays on
 * its lcore (SO_REUSEPORT, a single lcore, the registry full). */
void tcp_share_listen(struct ph_lcore *lc, struct ph_sock *s);
/* S is being closed on LC: end the listener host-wide (S is the owner's) or
 * give up this worker's queue (S is a replica). */
void tcp_share_close(struct ph_lcore *lc, struct ph_sock *s);
/* The replica on LC of host-wide listener FD (owned by another lcore), or
 * NULL with errno: EBADF when LC closed its queue (or the listener ended
 * while a call on LC was waiting on it), EADDRINUSE when LC's stack refused
 * the queue, EPERM when FD names no host-wide listener (any more). */
struct ph_sock *tcp_share_find(struct ph_lcore *lc, int fd);

/* Bring LC's replicas in line with the registry: ph_lcore_poll() calls it
 * when ph_host.tcp_share_epoch is not the one LC saw last. */
void tcp_share_sync(struct ph_lcore *lc);

#endif
