/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the services share (see svc.h): the loop a worker lcore runs, the
 * start and stop of its services around it, their sockets, and the list of
 * the TCP connections each one accepted. A connection is closed only by its
 * own event handler, by the service's timer or by the stop, all on the lcore
 * that accepted it, so nothing here takes a lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <polyhost/polyhost.h>

#include "svc.h"

uint64_t
svc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
svc_loop(int ep, svc_tick_fn tick, void *arg)
{
	struct epoll_event ev[64];
	uint64_t last = svc_now_ms();

	for (;;) {
		int n = ph_epoll_wait(ep, ev, 64, SVC_TICK_MS);

		if (n < 0) {
			if (errno != EINTR)
				fprintf(stderr, "service: lcore %d: epoll_wait: %s\n",
				        ph_lcore_index(), strerror(errno));
			return; /* EINTR: the host is stopping */
		}
		/* Each descriptor appears once per batch, and a handler closes
		 * only its own: no event below can name a freed handler. */
		for (int i = 0; i < n; i++) {
			struct svc_handler *h = ev[i].data.ptr;

			h->on_event(h, ev[i].events);
		}
		if (tick != NULL) {
			uint64_t now = svc_now_ms();

			if (now - last >= SVC_TICK_MS) {
				last = now;
				tick(arg, now);
			}
		}
	}
}

/* ---- services on a worker lcore ---- */

struct svc_ticks {
	struct svc_service *svcs;
	unsigned n;
};

/* The timers of every service that has some. */
static void
svc_run_tick(void *arg, uint64_t now_ms)
{
	const struct svc_ticks *t = arg;

	for (unsigned i = 0; i < t->n; i++)
		if (t->svcs[i].ops->tick != NULL)
			t->svcs[i].ops->tick(t->svcs[i].state, now_ms);
}

int
svc_run(const char *who, struct svc_service *svcs, unsigned n)
{
	struct svc_ticks ticks = {.svcs = svcs, .n = n};
	bool timers = false;
	unsigned started;
	int ep = ph_epoll_create1(0);

	if (ep < 0) {
		fprintf(stderr, "%s: lcore %d: epoll: %s\n", who, ph_lcore_index(),
		        strerror(errno));
		ph_stop();
		return 1;
	}
	for (started = 0; started < n; started++) {
		struct svc_service *s = &svcs[started];

		s->state = s->ops->start(s->cfg, ep);
		if (s->state == NULL)
			break;
		timers |= s->ops->tick != NULL;
	}
	if (started == n)
		svc_loop(ep, timers ? svc_run_tick : NULL, &ticks);
	for (unsigned i = 0; i < started; i++)
		svcs[i].ops->stop(svcs[i].state);
	ph_close(ep);
	if (started < n) {
		ph_stop();
		return 1;
	}
	return 0;
}

/* ---- sockets ---- */

/* The TCP listeners of this process, one per address for the whole host:
 * the first worker to start a service's address creates it, the others
 * watch the same descriptor, which on their lcore names their own accept
 * queue (<polyhost/socket.h>). Taken only at start-up. */
#define SVC_SHARED_MAX 64
static pthread_mutex_t svc_shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct svc_shared {
	uint32_t ip;
	uint16_t port;
	int ctx, fd;
} svc_shared[SVC_SHARED_MAX];
static unsigned svc_n_shared;

/* A new socket of TYPE for IP:PORT in CTX; REUSEPORT: one per lcore. */
static int
svc_socket(int type, const struct sockaddr_in *sin, int ctx, int rcvbuf, bool reuseport,
           const char **what)
{
	bool tcp = type == SOCK_STREAM;
	int one = 1, fd, e;

	fd = ph_socket(AF_INET, type | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*what = "socket";
		return -1;
	}
	*what = "setsockopt";
	if (ph_setsockopt(fd, PH_SOL_POLYHOST, PH_SO_CONTEXT, &ctx, sizeof(ctx)) < 0 ||
	    (reuseport && ph_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
	    /* TCP: a restart binds while old connections are in TIME-WAIT. */
	    (tcp && ph_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) ||
	    (!tcp && ph_setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0) ||
	    (rcvbuf > 0 && ph_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0))
		goto fail;
	*what = "bind";
	if (ph_bind(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0)
		goto fail;
	*what = "listen";
	if (tcp && ph_listen(fd, SVC_BACKLOG) < 0)
		goto fail;
	return fd;
fail:
	e = errno;
	ph_close(fd);
	errno = e;
	return -1;
}

/* The host's listener for IP:PORT in CTX, created on the first call. */
static int
svc_shared_listener(const struct sockaddr_in *sin, int ctx, int rcvbuf, const char **what)
{
	uint32_t ip = sin->sin_addr.s_addr;
	uint16_t port = sin->sin_port;
	int fd = -1;

	pthread_mutex_lock(&svc_shared_mu);
	for (unsigned i = 0; i < svc_n_shared && fd < 0; i++)
		if (svc_shared[i].ip == ip && svc_shared[i].port == port &&
		    svc_shared[i].ctx == ctx)
			fd = svc_shared[i].fd;
	if (fd < 0 && svc_n_shared == SVC_SHARED_MAX) {
		errno = ENOSPC;
	} else if (fd < 0) {
		fd = svc_socket(SOCK_STREAM, sin, ctx, rcvbuf, false, what);
		if (fd >= 0)
			svc_shared[svc_n_shared++] = (struct svc_shared){ip, port, ctx, fd};
	}
	pthread_mutex_unlock(&svc_shared_mu);
	return fd;
}

int
svc_listen(int ep, struct svc_handler *h, int type, uint32_t ip, uint16_t port, int ctx, int rcvbuf,
           const char **what)
{
	struct sockaddr_in sin = {
	        .sin_family = AF_INET,
	        .sin_port = htons(port),
	        .sin_addr.s_addr = htonl(ip),
	};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = h};
	int fd, e;

	if (type == SOCK_STREAM) {
		fd = svc_shared_listener(&sin, ctx, rcvbuf, what);
		if (fd >= 0) {
			*what = "epoll_ctl";
			if (ph_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0)
				return fd;
		}
		/* ENOSPC (this table) or EPERM (the host's, which kept the
		 * listener on its lcore): one of this lcore's own, as UDP has. */
		if (errno != ENOSPC && errno != EPERM)
			return -1;
	}
	fd = svc_socket(type, &sin, ctx, rcvbuf, true, what);
	if (fd < 0)
		return -1;
	*what = "epoll_ctl";
	if (ph_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		e = errno;
		ph_close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* ---- accepted TCP connections ---- */

unsigned
svc_accept(struct svc_conns *set, int lfd, size_t size,
           void (*on_event)(struct svc_handler *h, uint32_t events),
           void (*init)(struct svc_conn *c, void *arg), void *arg)
{
	unsigned added = 0;

	for (int i = 0; i < SVC_ACCEPT_BUDGET; i++) {
		int fd = ph_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		struct svc_conn *c;
		struct epoll_event e;

		if (fd < 0) {
			/* EAGAIN: none waiting; out of descriptors or memory:
			 * they wait in the backlog; ECONNABORTED and the like
			 * concern one connection: try the next. */
			if (errno == EAGAIN || errno == EINTR || errno == EMFILE ||
			    errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				break;
			continue;
		}
		c = malloc(size);
		if (c == NULL) {
			ph_close(fd);
			break;
		}
		init(c, arg);
		c->h.on_event = on_event;
		c->set = set;
		c->fd = fd;
		c->watching = EPOLLIN;
		e = (struct epoll_event){.events = EPOLLIN, .data.ptr = c};
		if (ph_epoll_ctl(set->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			ph_close(fd);
			free(c);
			continue;
		}
		c->prev = NULL;
		c->next = set->head;
		if (set->head != NULL)
			set->head->prev = c;
		set->head = c;
		added++;
	}
	return added;
}

bool
svc_conn_watch(struct svc_conn *c, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.ptr = c};

	if (c->watching == ev)
		return true;
	if (ph_epoll_ctl(c->set->ep, EPOLL_CTL_MOD, c->fd, &e) < 0) {
		svc_conn_close(c);
		return false;
	}
	c->watching = ev;
	return true;
}

void
svc_conn_close(struct svc_conn *c)
{
	struct svc_conns *set = c->set;

	if (set->release != NULL)
		set->release(c);
	ph_close(c->fd); /* leaves the epoll instance with it */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		set->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
}

void
svc_conns_close(struct svc_conns *set)
{
	while (set->head != NULL)
		svc_conn_close(set->head);
}

/* ---- the programs ---- */

int
svc_init(const char *prog, int *argc, char ***argv)
{
	int used = ph_init(*argc, *argv);

	if (used < 0) {
		fprintf(stderr, "%s: %s\n", prog, ph_init_error());
		return errno == EINVAL || errno == ENOENT ? 2 : 1;
	}
	(*argv)[used - 1] = (*argv)[0];
	*argc -= used - 1;
	*argv += used - 1;
	return 0;
}

int
svc_set_ctx(const char *prog, const char *opt, const char *name)
{
	char *end;
	long v = strtol(name, &end, 10);
	int ctx = *name != '\0' && *end == '\0' ? (int)v : ph_ctx_lookup(name);

	if (ctx < 0 || ph_ctx_set(ctx) < 0) {
		fprintf(stderr, "%s: %s %s: no such routing context\n", prog, opt, name);
		return -1;
	}
	return 0;
}
