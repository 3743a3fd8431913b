/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Readiness events with Linux's epoll semantics on polyhost descriptors:
 * EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP; level-triggered by
 * default, EPOLLET for edge-triggered (one report per change: a new datagram,
 * an error, a shutdown), EPOLLONESHOT (disarmed after one report until
 * EPOLL_CTL_MOD). The constants and struct epoll_event are <sys/epoll.h>'s.
 *
 * An epoll instance and the sockets it watches belong to one lcore (see
 * <polyhost/polyhost.h>). ph_epoll_wait() drives that lcore's stack while it
 * waits, so it is the whole event loop of a worker:
 *
 *     while ((n = ph_epoll_wait(ep, ev, 64, 100)) >= 0)
 *             for (int i = 0; i < n; i++)
 *                     handle(ev[i]);
 *
 * It returns -1 with errno EINTR once ph_stop() has been called.
 */
#ifndef POLYHOST_EPOLL_H
#define POLYHOST_EPOLL_H

#include <sys/epoll.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SIZE is ignored but must be positive, as in Linux. */
int ph_epoll_create(int size);
/* FLAGS: 0 or EPOLL_CLOEXEC (accepted, meaningless here). */
int ph_epoll_create1(int flags);
int ph_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
/* TIMEOUT_MS: -1 waits until an event or ph_stop(), 0 polls once. */
int ph_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
