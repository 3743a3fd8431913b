/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Echo/discard worker (see echo_service.h): one socket per listen address on
 * every worker lcore, bound with SO_REUSEPORT so that each lcore answers the
 * flows it receives, all watched by one epoll instance.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <polyhost/polyhost.h>

#include "echo_service.h"

/* Datagrams handled per socket per event, so that one busy socket cannot
 * starve the others. */
#define ECHO_BUDGET 64

static int
echo_open(const struct echo_listen *l, int rcvbuf)
{
	struct sockaddr_in sin = {
	        .sin_family = AF_INET,
	        .sin_port = htons(l->port),
	        .sin_addr.s_addr = htonl(l->ip),
	};
	int one = 1, fd;

	fd = ph_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (ph_setsockopt(fd, PH_SOL_POLYHOST, PH_SO_CONTEXT, &l->ctx, sizeof(l->ctx)) < 0 ||
	    ph_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    ph_setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    (rcvbuf > 0 && ph_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0) ||
	    ph_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int e = errno;

		ph_close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

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

int
echo_service_worker(void *arg)
{
	const struct echo_config *cfg = arg;
	int fds[ECHO_MAX_LISTEN], ep, rc = 0;
	struct epoll_event ev[64];

	ep = ph_epoll_create1(0);
	if (ep < 0) {
		fprintf(stderr, "echo: lcore %d: epoll: %s\n", ph_lcore_index(), strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < cfg->n_listen; i++) {
		const struct echo_listen *l = &cfg->listen[i];
		struct epoll_event e = {.events = EPOLLIN, .data.u32 = i};
		char ip[INET_ADDRSTRLEN];
		struct in_addr a = {.s_addr = htonl(l->ip)};

		fds[i] = echo_open(l, cfg->rcvbuf);
		if (fds[i] < 0 || ph_epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e) < 0) {
			fprintf(stderr, "echo: %s: udp:%s:%u (context %d): %s\n", l->name,
			        inet_ntop(AF_INET, &a, ip, sizeof(ip)), l->port, l->ctx,
			        strerror(errno));
			rc = 1;
			ph_stop();
			break;
		}
	}
	while (rc == 0) {
		int n = ph_epoll_wait(ep, ev, 64, 100);

		if (n < 0)
			break; /* EINTR: the host is stopping */
		for (int i = 0; i < n; i++) {
			const struct echo_listen *l = &cfg->listen[ev[i].data.u32];
			int fd = fds[ev[i].data.u32];

			if (cfg->copy)
				echo_copy(fd, l->discard);
			else
				echo_zero_copy(fd, l->discard);
		}
	}
	/* Sockets and the epoll instance close with the host. */
	return rc;
}
