/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Echo/discard worker (see echo_service.h), an application on the public
 * API: one socket per listen address on every worker lcore, bound with
 * SO_REUSEPORT so that each lcore serves the flows it receives, all watched
 * by one epoll instance together with the TCP connections the lcore accepted.
 *
 * UDP answers each datagram where it came from. TCP echoes a byte stream:
 * what cannot be sent at once stays in the connection's buffer and the
 * connection waits for EPOLLOUT before reading more, so a peer that does not
 * read its echoes stalls only itself (its window closes, as with Linux).
 * Each event handles a bounded amount, so one busy socket cannot starve the
 * others of the lcore.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <polyhost/polyhost.h>

#include "echo_service.h"

/* Datagrams handled per UDP socket per event. */
#define ECHO_BUDGET 64
/* TCP: connections accepted per listener event, bytes read per connection
 * event, and the per-connection buffer (what may wait for EPOLLOUT). */
#define ECHO_ACCEPT_BUDGET 32
#define ECHO_TCP_BUDGET    (256 * 1024)
#define ECHO_TCP_BUF       (16 * 1024)
/* listen() backlog; the host bounds it by [tcp] max_backlog. */
#define ECHO_BACKLOG 1024

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

/* A UDP socket or a TCP listener of one listen address. */
struct echo_sock {
	struct svc_handler h; /* first: epoll's data.ptr points here */
	struct echo_worker *w;
	const struct echo_listen *l;
	int fd;
};

/* An accepted TCP connection. */
struct echo_conn {
	struct svc_handler h; /* first */
	struct echo_worker *w;
	struct echo_conn *prev, *next;
	int fd;
	bool discard;
	bool eof;          /* the peer's FIN came: close once all is echoed */
	uint32_t watching; /* EPOLLIN, or EPOLLOUT while bytes wait */
	uint32_t off, len; /* bytes buf[off, len) are still to be sent */
	char buf[ECHO_TCP_BUF];
};

struct echo_worker {
	const struct echo_config *cfg;
	int ep;
	struct echo_sock socks[ECHO_MAX_LISTEN];
	unsigned n_socks;
	struct echo_conn *conns; /* every open connection, for the stop */
};

static void
print_listen_error(const struct echo_listen *l, const char *what)
{
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = {.s_addr = htonl(l->ip)};

	fprintf(stderr, "echo: %s: %s:%s:%u (context %d): %s: %s\n", l->name,
	        l->proto == IPPROTO_TCP ? "tcp" : "udp", inet_ntop(AF_INET, &a, ip, sizeof(ip)),
	        l->port, l->ctx, what, strerror(errno));
}

static int
echo_open(const struct echo_listen *l, int rcvbuf)
{
	struct sockaddr_in sin = {
	        .sin_family = AF_INET,
	        .sin_port = htons(l->port),
	        .sin_addr.s_addr = htonl(l->ip),
	};
	bool tcp = l->proto == IPPROTO_TCP;
	int one = 1, fd;

	fd = ph_socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		print_listen_error(l, "socket");
		return -1;
	}
	if (ph_setsockopt(fd, PH_SOL_POLYHOST, PH_SO_CONTEXT, &l->ctx, sizeof(l->ctx)) < 0 ||
	    ph_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    /* TCP: a restart binds while old connections are in TIME-WAIT. */
	    (tcp && ph_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) ||
	    (!tcp && ph_setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0) ||
	    (rcvbuf > 0 && ph_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)) {
		print_listen_error(l, "setsockopt");
		goto fail;
	}
	if (ph_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		print_listen_error(l, "bind");
		goto fail;
	}
	if (tcp && ph_listen(fd, ECHO_BACKLOG) < 0) {
		print_listen_error(l, "listen");
		goto fail;
	}
	return fd;
fail : {
	int e = errno;

	ph_close(fd);
	errno = e;
	return -1;
}
}

/* ---- UDP ---- */

static void
echo_zero_copy(int fd, bool discard)
{
	for (int i = 0; i < ECHO_BUDGET; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		struct ph_zbuf *b;
		ssize_t n = ph_zc_recvfrom(fd, &b, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

		if (n < 0)
			return;
		/* The received buffer goes back out as it is. */
		if (discard || ph_zc_sendto(fd, b, 0, (struct sockaddr *)&from, fl) < 0)
			ph_zbuf_free(b);
	}
}

static void
echo_copy(int fd, bool discard)
{
	static __thread char buf[65536];

	for (int i = 0; i < ECHO_BUDGET; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = ph_recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		                        (struct sockaddr *)&from, &fl);

		if (n < 0)
			return;
		if (!discard)
			ph_sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}

static void
udp_event(struct svc_handler *h, uint32_t events)
{
	struct echo_sock *s = (struct echo_sock *)h;

	(void)events;
	if (s->w->cfg->copy)
		echo_copy(s->fd, s->l->discard);
	else
		echo_zero_copy(s->fd, s->l->discard);
}

/* ---- TCP ---- */

static void
conn_close(struct echo_conn *c)
{
	struct echo_worker *w = c->w;

	/* Closing removes the descriptor from the epoll instance. */
	ph_close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
}

/* Watch for EV (EPOLLIN or EPOLLOUT) from now on; false if that failed and
 * the connection is closed. */
static bool
conn_watch(struct echo_conn *c, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.ptr = c};

	if (c->watching == ev)
		return true;
	if (ph_epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &e) < 0) {
		conn_close(c);
		return false;
	}
	c->watching = ev;
	return true;
}

static void
conn_event(struct svc_handler *h, uint32_t events)
{
	struct echo_conn *c = (struct echo_conn *)h;
	size_t budget = ECHO_TCP_BUDGET;

	/* A reset or an error: nothing more can be delivered either way. */
	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_close(c);
		return;
	}
	for (;;) {
		ssize_t n;

		if (c->off < c->len) {
			n = ph_send(c->fd, c->buf + c->off, c->len - c->off, 0);
			if (n < 0) {
				if (errno == EAGAIN)
					conn_watch(c, EPOLLOUT);
				else
					conn_close(c);
				return;
			}
			c->off += (uint32_t)n;
			if (c->off < c->len) {
				/* The send buffer is full: wait until it drains. */
				conn_watch(c, EPOLLOUT);
				return;
			}
			c->off = c->len = 0;
		}
		if (c->eof) {
			/* RFC 862: the peer is done and has every byte back. */
			conn_close(c);
			return;
		}
		if (budget == 0) {
			/* Level-triggered: unread bytes bring the next event. */
			conn_watch(c, EPOLLIN);
			return;
		}
		n = ph_recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (n > 0) {
			budget -= (size_t)n < budget ? (size_t)n : budget;
			if (!c->discard)
				c->len = (uint32_t)n;
		} else if (n == 0) {
			c->eof = true;
		} else if (errno == EAGAIN) {
			conn_watch(c, EPOLLIN);
			return;
		} else {
			conn_close(c);
			return;
		}
	}
}

static void
listener_event(struct svc_handler *h, uint32_t events)
{
	struct echo_sock *s = (struct echo_sock *)h;
	struct echo_worker *w = s->w;

	(void)events;
	for (int i = 0; i < ECHO_ACCEPT_BUDGET; i++) {
		int fd = ph_accept4(s->fd, NULL, NULL, SOCK_NONBLOCK);
		struct echo_conn *c;
		struct epoll_event e;

		if (fd < 0) {
			/* EAGAIN: the queue is empty; ECONNABORTED and the like
			 * concern one connection: try the next. */
			if (errno == EAGAIN || errno == EINTR || errno == EMFILE ||
			    errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				return;
			continue;
		}
		c = malloc(sizeof(*c));
		if (c == NULL) {
			ph_close(fd);
			return;
		}
		*c = (struct echo_conn){
		        .h.on_event = conn_event,
		        .w = w,
		        .fd = fd,
		        .discard = s->l->discard,
		        .watching = EPOLLIN,
		        .next = w->conns,
		};
		e = (struct epoll_event){.events = EPOLLIN, .data.ptr = c};
		if (ph_epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			ph_close(fd);
			free(c);
			continue;
		}
		if (w->conns != NULL)
			w->conns->prev = c;
		w->conns = c;
	}
}

struct echo_worker *
echo_worker_start(const struct echo_config *cfg, int ep)
{
	struct echo_worker *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		fprintf(stderr, "echo: lcore %d: out of memory\n", ph_lcore_index());
		return NULL;
	}
	w->cfg = cfg;
	w->ep = ep;
	for (unsigned i = 0; i < cfg->n_listen; i++) {
		const struct echo_listen *l = &cfg->listen[i];
		struct echo_sock *s = &w->socks[i];
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = s};

		s->h.on_event = l->proto == IPPROTO_TCP ? listener_event : udp_event;
		s->w = w;
		s->l = l;
		s->fd = echo_open(l, cfg->rcvbuf);
		if (s->fd < 0)
			goto fail;
		w->n_socks++;
		if (ph_epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &e) < 0) {
			print_listen_error(l, "epoll_ctl");
			goto fail;
		}
	}
	return w;
fail : {
	int e = errno;

	echo_worker_stop(w);
	errno = e;
	return NULL;
}
}

void
echo_worker_stop(struct echo_worker *w)
{
	if (w == NULL)
		return;
	while (w->conns != NULL)
		conn_close(w->conns);
	for (unsigned i = 0; i < w->n_socks; i++)
		ph_close(w->socks[i].fd);
	free(w);
}

int
echo_service_worker(void *arg)
{
	const struct echo_config *cfg = arg;
	struct echo_worker *w;
	int ep;

	ep = ph_epoll_create1(0);
	if (ep < 0) {
		fprintf(stderr, "echo: lcore %d: epoll: %s\n", ph_lcore_index(), strerror(errno));
		ph_stop();
		return 1;
	}
	w = echo_worker_start(cfg, ep);
	if (w == NULL) {
		ph_close(ep);
		ph_stop();
		return 1;
	}
	svc_loop(ep, NULL, NULL);
	echo_worker_stop(w);
	ph_close(ep);
	return 0;
}
