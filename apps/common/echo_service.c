/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Echo/discard worker (see echo_service.h), an application on the public
 * API: on every worker lcore, a UDP socket per listen address bound with
 * SO_REUSEPORT and the worker's accept queue of each host-wide TCP
 * listener (svc_listen()), so that each lcore serves the flows it owns, all
 * watched by one epoll instance together with the TCP connections the lcore accepted.
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

#include <polyhost/polyhost.h>

#include "echo_service.h"

/* Datagrams handled per UDP socket per event. */
#define ECHO_BUDGET 64
/* TCP: bytes read per connection event, and the per-connection buffer (what
 * may wait for EPOLLOUT). */
#define ECHO_TCP_BUDGET (256 * 1024)
#define ECHO_TCP_BUF    (16 * 1024)

/* A UDP socket or a TCP listener of one listen address. */
struct echo_sock {
	struct svc_handler h; /* first: epoll's data.ptr points here */
	struct echo_worker *w;
	const struct echo_listen *l;
	int fd;
};

/* An accepted TCP connection, watched for EPOLLIN, or EPOLLOUT while bytes
 * wait. */
struct echo_conn {
	struct svc_conn sc; /* first */
	bool discard;
	bool eof;          /* the peer's FIN came: close once all is echoed */
	uint32_t off, len; /* bytes buf[off, len) are still to be sent */
	char buf[ECHO_TCP_BUF];
};

struct echo_worker {
	const struct echo_config *cfg;
	struct echo_sock socks[ECHO_MAX_LISTEN];
	unsigned n_socks;
	struct svc_conns conns;
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
conn_event(struct svc_handler *h, uint32_t events)
{
	struct echo_conn *c = (struct echo_conn *)h;
	size_t budget = ECHO_TCP_BUDGET;

	/* A reset or an error: nothing more can be delivered either way. */
	if (events & (EPOLLERR | EPOLLHUP)) {
		svc_conn_close(&c->sc);
		return;
	}
	for (;;) {
		ssize_t n;

		if (c->off < c->len) {
			n = ph_send(c->sc.fd, c->buf + c->off, c->len - c->off, 0);
			if (n < 0) {
				if (errno == EAGAIN)
					svc_conn_watch(&c->sc, EPOLLOUT);
				else
					svc_conn_close(&c->sc);
				return;
			}
			c->off += (uint32_t)n;
			if (c->off < c->len) {
				/* The send buffer is full: wait until it drains. */
				svc_conn_watch(&c->sc, EPOLLOUT);
				return;
			}
			c->off = c->len = 0;
		}
		if (c->eof) {
			/* RFC 862: the peer is done and has every byte back. */
			svc_conn_close(&c->sc);
			return;
		}
		if (budget == 0) {
			/* Level-triggered: unread bytes bring the next event. */
			svc_conn_watch(&c->sc, EPOLLIN);
			return;
		}
		n = ph_recv(c->sc.fd, c->buf, sizeof(c->buf), 0);
		if (n > 0) {
			budget -= (size_t)n < budget ? (size_t)n : budget;
			if (!c->discard)
				c->len = (uint32_t)n;
		} else if (n == 0) {
			c->eof = true;
		} else if (errno == EAGAIN) {
			svc_conn_watch(&c->sc, EPOLLIN);
			return;
		} else {
			svc_conn_close(&c->sc);
			return;
		}
	}
}

/* A new connection of the listener ARG, before svc_accept() fills in the rest. */
static void
conn_init(struct svc_conn *sc, void *arg)
{
	const struct echo_sock *s = arg;

	*(struct echo_conn *)sc = (struct echo_conn){.discard = s->l->discard};
}

static void
listener_event(struct svc_handler *h, uint32_t events)
{
	struct echo_sock *s = (struct echo_sock *)h;

	(void)events;
	svc_accept(&s->w->conns, s->fd, sizeof(struct echo_conn), conn_event, conn_init, s);
}

static void
echo_worker_stop(void *arg)
{
	struct echo_worker *w = arg;

	svc_conns_close(&w->conns);
	for (unsigned i = 0; i < w->n_socks; i++)
		ph_close(w->socks[i].fd);
	free(w);
}

static void *
echo_worker_start(const void *arg, int ep)
{
	const struct echo_config *cfg = arg;
	struct echo_worker *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		fprintf(stderr, "echo: lcore %d: out of memory\n", ph_lcore_index());
		return NULL;
	}
	w->cfg = cfg;
	w->conns.ep = ep;
	for (unsigned i = 0; i < cfg->n_listen; i++) {
		const struct echo_listen *l = &cfg->listen[i];
		struct echo_sock *s = &w->socks[i];
		bool tcp = l->proto == IPPROTO_TCP;
		const char *what;

		s->h.on_event = tcp ? listener_event : udp_event;
		s->w = w;
		s->l = l;
		s->fd = svc_listen(ep, &s->h, tcp ? SOCK_STREAM : SOCK_DGRAM, l->ip, l->port,
		                   l->ctx, cfg->rcvbuf, &what);
		if (s->fd < 0) {
			int e = errno;

			print_listen_error(l, what);
			echo_worker_stop(w);
			errno = e;
			return NULL;
		}
		w->n_socks++;
	}
	return w;
}

const struct svc_ops echo_ops = {.start = echo_worker_start, .stop = echo_worker_stop};

int
echo_service_worker(void *arg)
{
	struct svc_service s = {.ops = &echo_ops, .cfg = arg};

	return svc_run("echo", &s, 1);
}
