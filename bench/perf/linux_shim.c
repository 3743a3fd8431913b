/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Linux kernel's side of the TCP benchmarks: the ph_* calls ph-perf uses,
 * mapped one to one onto Linux sockets and epoll, so the very same program
 * (apps/ph-perf/main.c) measures the kernel on the same path as polyhost and
 * the two figures differ only in the stack underneath. Not part of
 * libpolyhost: bench/perf/tcp.sh builds it with
 *
 *     cc -O2 -Iapi/include apps/ph-perf/main.c bench/perf/linux_shim.c -lm
 *
 * One thread does everything (ph_run calls the worker once, like a host with
 * a single lcore); epoll_wait blocks as a Linux application's would.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include <polyhost/polyhost.h>

static volatile sig_atomic_t stopping;

int
ph_init(int argc, char **argv)
{
	/* No host options: what follows the program name (and a "--" if the
	 * bench passes one, as for polyhost) is the application's. */
	(void)argv;
	return argc > 1 && argv[1][0] == '-' && argv[1][1] == '-' && argv[1][2] == '\0' ? 2 : 1;
}

const char *
ph_init_error(void)
{
	return "";
}

int
ph_run(ph_worker_fn fn, void *arg)
{
	return fn != NULL ? fn(arg) : 0;
}

void
ph_stop(void)
{
	stopping = 1;
}

bool
ph_stopping(void)
{
	return stopping;
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int
ph_stop_on_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	/* SIGPIPE too: a reset peer is an error to report, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	return sigaction(SIGINT, &sa, NULL) | sigaction(SIGTERM, &sa, NULL);
}

int
ph_fini(FILE *report)
{
	if (report != NULL)
		fprintf(report, "linux: no host to shut down\n");
	return 0;
}

int
ph_lcore_index(void)
{
	return 0;
}

unsigned
ph_lcore_count(void)
{
	return 1;
}

unsigned
ph_worker_count(void)
{
	return 1;
}

int
ph_socket(int domain, int type, int protocol)
{
	return socket(domain, type, protocol);
}

int
ph_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return bind(fd, addr, len);
}

int
ph_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return connect(fd, addr, len);
}

int
ph_listen(int fd, int backlog)
{
	return listen(fd, backlog);
}

int
ph_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return accept4(fd, addr, len, flags);
}

ssize_t
ph_send(int fd, const void *buf, size_t len, int flags)
{
	return send(fd, buf, len, flags | MSG_NOSIGNAL);
}

ssize_t
ph_recv(int fd, void *buf, size_t len, int flags)
{
	return recv(fd, buf, len, flags);
}

ssize_t
ph_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
          socklen_t tolen)
{
	return sendto(fd, buf, len, flags | MSG_NOSIGNAL, to, tolen);
}

ssize_t
ph_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	return recvfrom(fd, buf, len, flags, from, fromlen);
}

int
ph_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return setsockopt(fd, level, name, val, len);
}

int
ph_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return getsockopt(fd, level, name, val, len);
}

int
ph_shutdown(int fd, int how)
{
	return shutdown(fd, how);
}

int
ph_close(int fd)
{
	return close(fd);
}

int
ph_epoll_create1(int flags)
{
	return epoll_create1(flags);
}

int
ph_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	return epoll_ctl(epfd, op, fd, ev);
}

int
ph_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms)
{
	int n;

	/* polyhost's contract: -1 with EINTR once stopped, never otherwise. */
	if (stopping) {
		errno = EINTR;
		return -1;
	}
	n = epoll_wait(epfd, events, max, timeout_ms);
	return n < 0 && errno == EINTR ? 0 : n;
}
