/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The public API's contract, through libpolyhost.so and its headers only:
 * every call's errno on misuse, datagrams through the host's own loopback
 * path (sendto one of our addresses), epoll level/edge/one-shot behaviour,
 * zero-copy ownership, SO_ERROR from ICMP, receive-buffer overflow, contexts
 * and the threading rule. One host (EAL --no-huge, a net_ring port, one
 * lcore) for the whole run; ph_fini() at the end must find every buffer back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include <polyhost/polyhost.h>

#define ADDR      "198.18.0.2"
#define BLUE_ADDR "198.18.5.2" /* on VLAN 5 of r0, in context blue */

static char conf_path[] = "/tmp/ph-test-api-XXXXXX";

static struct sockaddr_in
sin_of(const char *ip, uint16_t port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, ip, &s.sin_addr);
	return s;
}

#define SA(x) ((struct sockaddr *)&(x))

#define assert_fails(call, err)                                                                    \
	do {                                                                                       \
		errno = 0;                                                                         \
		assert_int_equal((call), -1);                                                      \
		assert_int_equal(errno, (err));                                                    \
	} while (0)

static int
udp_bound(const char *ip, uint16_t port)
{
	struct sockaddr_in a = sin_of(ip, port);
	int fd = ph_socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(ph_bind(fd, SA(a), sizeof(a)), 0);
	return fd;
}

/* Let the loopback queue, the lead and the inbox run. */
static void
poll_n(int n)
{
	for (int i = 0; i < n; i++)
		assert_true(ph_poll() >= 0);
}

/* recvfrom that gives up (EAGAIN) after a bounded number of loop turns, so
 * that a datagram which never comes fails the case instead of hanging it. */
static ssize_t
recv_soon(int fd, void *buf, size_t len, struct sockaddr *from, socklen_t *fl)
{
	for (int i = 0; i < 1000; i++) {
		ssize_t n = ph_recvfrom(fd, buf, len, MSG_DONTWAIT, from, fl);

		if (n >= 0 || errno != EAGAIN)
			return n;
		ph_poll();
	}
	return -1;
}

static int
setup(void **state)
{
	FILE *f;
	int fd = mkstemp(conf_path);
	char *argv[] = {(char *)"test_api", (char *)"-c", conf_path, NULL};

	(void)state;
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL)
		return -1;
	fprintf(f,
	        "[eal]\nargs = --no-huge -m 256 --no-pci --no-shconf "
	        "--file-prefix=ph-test-api-%d --log-level=4\nlcores = 0\n"
	        "[host]\nephemeral_ports = 40000-40009\n"
	        "[port r0]\ndevice = net_ring0\naddress = " ADDR "/24\n"
	        "[vlan v5]\nport = r0\nid = 5\ncontext = blue\naddress = " BLUE_ADDR "/24\n"
	        "[context blue]\nid = 7\n",
	        (int)getpid());
	fclose(f);
	if (ph_init(3, argv) != 3) {
		fprintf(stderr, "ph_init: %s\n", ph_init_error());
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char dir[128];
	int rc = ph_fini(NULL);

	(void)state;
	unlink(conf_path);
	snprintf(dir, sizeof(dir), "rm -rf /var/run/dpdk/ph-test-api-%d", (int)getpid());
	if (system(dir) != 0)
		return -1;
	return rc; /* -1 (EBUSY) if a packet buffer was lost */
}

static void
test_init_errors(void **state)
{
	char *argv[] = {(char *)"x", (char *)"-c", conf_path, NULL};

	(void)state;
	assert_fails(ph_init(3, argv), EALREADY);
	assert_int_equal(ph_lcore_index(), 0);
	assert_int_equal(ph_lcore_count(), 1);
}

static void
test_socket_errors(void **state)
{
	(void)state;
	assert_fails(ph_socket(AF_INET6, SOCK_DGRAM, 0), EAFNOSUPPORT);
	assert_fails(ph_socket(AF_UNIX, SOCK_DGRAM, 0), EAFNOSUPPORT);
	assert_fails(ph_socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	assert_fails(ph_socket(AF_INET, SOCK_RAW, 0), ESOCKTNOSUPPORT);
	assert_fails(ph_socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
}

static void
test_ebadf(void **state)
{
	struct sockaddr_in a = sin_of(ADDR, 1);
	char b[4];
	int fd = ph_socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	assert_int_equal(ph_close(fd), 0);
	assert_fails(ph_close(fd), EBADF);
	assert_fails(ph_bind(fd, SA(a), sizeof(a)), EBADF);
	assert_fails(ph_send(-1, b, 1, 0), EBADF);
	assert_fails(ph_recv(fd, b, 1, MSG_DONTWAIT), EBADF);
	assert_fails(ph_connect(4242, SA(a), sizeof(a)), EBADF);
	assert_fails(ph_epoll_wait(fd, NULL, 1, 0), EBADF);
	assert_fails(ph_fcntl(fd, F_GETFL), EBADF);
}

static void
test_bind(void **state)
{
	struct sockaddr_in a = sin_of(ADDR, 5000), any = sin_of("0.0.0.0", 5000);
	struct sockaddr_in other = sin_of("198.18.0.99", 5000), got;
	socklen_t gl = sizeof(got);
	int one = 1, fd = ph_socket(AF_INET, SOCK_DGRAM, 0), fd2, fd3, fd4;

	(void)state;
	assert_fails(ph_bind(fd, SA(a), sizeof(a) - 1), EINVAL);
	a.sin_family = AF_INET6;
	assert_fails(ph_bind(fd, SA(a), sizeof(a)), EAFNOSUPPORT);
	a.sin_family = AF_INET;
	assert_fails(ph_bind(fd, SA(other), sizeof(other)), EADDRNOTAVAIL);
	assert_int_equal(ph_bind(fd, SA(a), sizeof(a)), 0);
	assert_fails(ph_bind(fd, SA(a), sizeof(a)), EINVAL); /* bound already */
	assert_int_equal(ph_getsockname(fd, SA(got), &gl), 0);
	assert_int_equal(gl, sizeof(got));
	assert_int_equal(ntohs(got.sin_port), 5000);
	assert_int_equal(got.sin_addr.s_addr, a.sin_addr.s_addr);

	/* The same port, specific or wildcard: in use, unless both sides reuse. */
	fd2 = ph_socket(AF_INET, SOCK_DGRAM, 0);
	assert_fails(ph_bind(fd2, SA(a), sizeof(a)), EADDRINUSE);
	assert_fails(ph_bind(fd2, SA(any), sizeof(any)), EADDRINUSE);
	assert_int_equal(ph_setsockopt(fd2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_fails(ph_bind(fd2, SA(any), sizeof(any)), EADDRINUSE);
	assert_int_equal(ph_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	/* Flags count when set before bind: fd's entry still says no. */
	fd3 = ph_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(ph_setsockopt(fd3, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	assert_fails(ph_bind(fd3, SA(a), sizeof(a)), EADDRINUSE);
	ph_close(fd);
	assert_int_equal(ph_bind(fd3, SA(a), sizeof(a)), 0);
	fd4 = ph_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(ph_setsockopt(fd4, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	assert_int_equal(ph_bind(fd4, SA(a), sizeof(a)), 0);
	ph_close(fd2);
	ph_close(fd3);
	ph_close(fd4);
}

static void
test_ephemeral(void **state)
{
	int fds[10], extra = ph_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = sin_of("0.0.0.0", 0), got;
	socklen_t gl = sizeof(got);

	(void)state;
	/* [host] ephemeral_ports = 40000-40009: ten, then none left. */
	for (int i = 0; i < 10; i++) {
		fds[i] = udp_bound("0.0.0.0", 0);
		gl = sizeof(got);
		assert_int_equal(ph_getsockname(fds[i], SA(got), &gl), 0);
		assert_in_range(ntohs(got.sin_port), 40000, 40009);
	}
	assert_fails(ph_bind(extra, SA(any), sizeof(any)), EADDRINUSE);
	for (int i = 0; i < 10; i++)
		ph_close(fds[i]);
	assert_int_equal(ph_bind(extra, SA(any), sizeof(any)), 0);
	ph_close(extra);
}

static void
test_send_errors(void **state)
{
	static char big[65508];
	struct sockaddr_in dst = sin_of(ADDR, 6000), bc = sin_of("198.18.0.255", 6000);
	struct sockaddr_in got;
	socklen_t gl = sizeof(got);
	int fd = ph_socket(AF_INET, SOCK_DGRAM, 0), v = 0;
	socklen_t vl = sizeof(v);
	char b[8];

	(void)state;
	assert_fails(ph_send(fd, "x", 1, 0), EDESTADDRREQ);
	assert_fails(ph_getpeername(fd, SA(got), &gl), ENOTCONN);
	{
		/* Linux: ENOTCONN, and shut all the same. */
		int u = ph_socket(AF_INET, SOCK_DGRAM, 0);

		assert_fails(ph_shutdown(u, SHUT_WR), ENOTCONN);
		assert_fails(ph_sendto(u, "x", 1, 0, SA(dst), sizeof(dst)), EPIPE);
		assert_fails(ph_shutdown(u, 42), EINVAL);
		ph_close(u);
	}
	assert_fails(ph_sendto(fd, big, sizeof(big), 0, SA(dst), sizeof(dst)), EMSGSIZE);
	assert_fails(ph_sendto(fd, "x", 1, 0, SA(bc), sizeof(bc)), EACCES);
	assert_fails(ph_recv(fd, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	assert_fails(ph_setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)), ENOPROTOOPT);
	assert_fails(ph_setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	assert_fails(ph_setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &v, 1), EINVAL);
	assert_fails(ph_ioctl(fd, SIOCATMARK, &v), ENOTTY);
	assert_fails(ph_fcntl(fd, F_DUPFD, 0), EINVAL);
	assert_int_equal(ph_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl), 0);
	assert_int_equal(v, SOCK_DGRAM);
	/* Non-blocking through fcntl. */
	assert_int_equal(ph_fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(ph_fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(ph_fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	assert_fails(ph_recv(fd, b, sizeof(b), 0), EAGAIN);
	/* Broadcast with SO_BROADCAST goes out (the ring brings it back; nobody listens). */
	v = 1;
	assert_int_equal(ph_setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &v, sizeof(v)), 0);
	assert_int_equal(ph_sendto(fd, "x", 1, 0, SA(bc), sizeof(bc)), 1);
	poll_n(4);
	ph_close(fd);
}

static void
test_loopback_data(void **state)
{
	int a = udp_bound(ADDR, 5100), b = udp_bound(ADDR, 5101), n = 0;
	struct sockaddr_in to = sin_of(ADDR, 5100), from;
	socklen_t fl = sizeof(from);
	char p1[] = "hello ", p2[] = "world", out[64] = "";
	struct iovec iov[2] = {{p1, 6}, {p2, 5}}, riov[2];
	struct msghdr m = {
	        .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = iov, .msg_iovlen = 2};
	char r1[4], r2[64];

	(void)state;
	assert_int_equal(ph_sendmsg(b, &m, 0), 11);
	/* Blocking receive: it drives the stack until the datagram is there. */
	assert_int_equal(ph_ioctl(a, FIONREAD, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ph_recvfrom(a, out, sizeof(out), MSG_PEEK, SA(from), &fl), 11);
	assert_int_equal(ph_ioctl(a, FIONREAD, &n), 0);
	assert_int_equal(n, 11);
	assert_memory_equal(out, "hello world", 11);
	assert_int_equal(ntohs(from.sin_port), 5101);
	assert_string_equal(inet_ntoa(from.sin_addr), ADDR);
	/* Scatter into 4 + 64 bytes. */
	riov[0] = (struct iovec){r1, sizeof(r1)};
	riov[1] = (struct iovec){r2, sizeof(r2)};
	m = (struct msghdr){
	        .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = riov, .msg_iovlen = 2};
	assert_int_equal(ph_recvmsg(a, &m, 0), 11);
	assert_memory_equal(r1, "hell", 4);
	assert_memory_equal(r2, "o world", 7);
	assert_int_equal(m.msg_flags, 0);
	/* Truncation: the rest of the datagram is gone; MSG_TRUNC gives its length. */
	assert_int_equal(ph_sendto(b, "0123456789", 10, 0, SA(to), sizeof(to)), 10);
	assert_int_equal(ph_recv(a, out, 4, MSG_TRUNC), 10);
	assert_int_equal(ph_sendto(b, "0123456789", 10, 0, SA(to), sizeof(to)), 10);
	riov[0] = (struct iovec){r1, sizeof(r1)};
	m = (struct msghdr){.msg_iov = riov, .msg_iovlen = 1};
	assert_int_equal(ph_recvmsg(a, &m, 0), 4);
	assert_int_equal(m.msg_flags, MSG_TRUNC);
	/* An empty datagram is a datagram. */
	assert_int_equal(ph_sendto(b, "", 0, 0, SA(to), sizeof(to)), 0);
	assert_int_equal(ph_recv(a, out, sizeof(out), 0), 0);
	/* A large one: fragments are not needed on loopback, but chains are. */
	{
		static char big[60000], back[60000];

		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (char)(i * 31 + 7);
		assert_int_equal(ph_sendto(b, big, sizeof(big), 0, SA(to), sizeof(to)),
		                 (int)sizeof(big));
		assert_int_equal(ph_recv(a, back, sizeof(back), 0), (int)sizeof(back));
		assert_memory_equal(big, back, sizeof(big));
	}
	/* Connected: send() without an address, recv() sees the peer's. */
	to = sin_of(ADDR, 5101);
	assert_int_equal(ph_connect(a, SA(to), sizeof(to)), 0);
	fl = sizeof(from);
	assert_int_equal(ph_getpeername(a, SA(from), &fl), 0);
	assert_int_equal(ntohs(from.sin_port), 5101);
	assert_int_equal(ph_send(a, "ok", 2, 0), 2);
	assert_int_equal(ph_recv(b, out, sizeof(out), 0), 2);
	/* SHUT_WR: EPIPE; SHUT_RD: end of file. */
	assert_int_equal(ph_shutdown(a, SHUT_WR), 0);
	assert_fails(ph_send(a, "x", 1, 0), EPIPE);
	assert_int_equal(ph_shutdown(a, SHUT_RD), 0);
	assert_int_equal(ph_recv(a, out, sizeof(out), 0), 0);
	ph_close(a);
	ph_close(b);
}

static void
test_epoll(void **state)
{
	int ep = ph_epoll_create1(0), a = udp_bound(ADDR, 5200), b = udp_bound(ADDR, 5201);
	struct sockaddr_in to = sin_of(ADDR, 5200);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77}, out[4];
	char buf[16];

	(void)state;
	assert_fails(ph_epoll_create(0), EINVAL);
	assert_fails(ph_epoll_ctl(a, EPOLL_CTL_ADD, b, &ev), EINVAL);
	assert_fails(ph_epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	assert_fails(ph_epoll_ctl(ep, EPOLL_CTL_DEL, a, NULL), ENOENT);
	assert_fails(ph_epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev), ENOENT);
	assert_fails(ph_recv(ep, buf, 1, 0), ENOTSOCK);
	assert_int_equal(ph_epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev), 0);
	assert_fails(ph_epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev), EEXIST);

	/* Level-triggered: reported while unread. */
	assert_int_equal(ph_epoll_wait(ep, out, 4, 0), 0);
	ph_sendto(b, "1", 1, 0, SA(to), sizeof(to));
	assert_int_equal(ph_epoll_wait(ep, out, 4, 1000), 1);
	assert_int_equal(out[0].events, EPOLLIN);
	assert_int_equal(out[0].data.u64, 77);
	assert_int_equal(ph_epoll_wait(ep, out, 4, 0), 1);
	assert_int_equal(ph_recv(a, buf, sizeof(buf), 0), 1);
	assert_int_equal(ph_epoll_wait(ep, out, 4, 0), 0);

	/* Edge-triggered: once per arrival, even if unread. */
	ev.events = EPOLLIN | EPOLLET;
	assert_int_equal(ph_epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev), 0);
	ph_sendto(b, "2", 1, 0, SA(to), sizeof(to));
	assert_int_equal(ph_epoll_wait(ep, out, 4, 1000), 1);
	assert_int_equal(ph_epoll_wait(ep, out, 4, 0), 0);
	ph_sendto(b, "3", 1, 0, SA(to), sizeof(to));
	assert_int_equal(ph_epoll_wait(ep, out, 4, 1000), 1);
	assert_int_equal(ph_recv(a, buf, sizeof(buf), 0), 1);
	assert_int_equal(ph_recv(a, buf, sizeof(buf), 0), 1);

	/* One-shot: one report, then nothing until EPOLL_CTL_MOD rearms it. */
	ev.events = EPOLLIN | EPOLLONESHOT;
	assert_int_equal(ph_epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev), 0);
	ph_sendto(b, "4", 1, 0, SA(to), sizeof(to));
	assert_int_equal(ph_epoll_wait(ep, out, 4, 1000), 1);
	ph_sendto(b, "5", 1, 0, SA(to), sizeof(to));
	assert_int_equal(ph_epoll_wait(ep, out, 4, 50), 0);
	assert_int_equal(ph_epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev), 0);
	assert_int_equal(ph_epoll_wait(ep, out, 4, 0), 1);

	/* EPOLLOUT is always there for UDP; RDHUP and HUP follow shutdown. */
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	assert_int_equal(ph_epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev), 0);
	assert_int_equal(ph_epoll_wait(ep, out, 4, 0), 1);
	assert_int_equal(out[0].events, EPOLLIN | EPOLLOUT);
	to = sin_of(ADDR, 5201);
	assert_int_equal(ph_connect(a, SA(to), sizeof(to)), 0);
	assert_int_equal(ph_shutdown(a, SHUT_RDWR), 0);
	assert_int_equal(ph_epoll_wait(ep, out, 4, 0), 1);
	assert_int_equal(out[0].events, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);
	assert_int_equal(ph_epoll_ctl(ep, EPOLL_CTL_DEL, a, NULL), 0);
	assert_int_equal(ph_epoll_wait(ep, out, 4, 0), 0);
	/* Closing a watched socket removes it from the epoll instance. */
	assert_int_equal(ph_epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev), 0);
	ph_close(b);
	assert_int_equal(ph_epoll_wait(ep, out, 4, 0), 0);
	ph_close(a);
	ph_close(ep);
}

/* A level-triggered EPOLLOUT is always ready: the stack must still turn, so
 * that the datagram on its way comes in. */
static void
test_epoll_always_ready(void **state)
{
	int ep = ph_epoll_create1(0), a = udp_bound(ADDR, 5210), b = udp_bound(ADDR, 5211);
	struct sockaddr_in to = sin_of(ADDR, 5210);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT}, out[4];
	uint32_t seen = 0;

	(void)state;
	assert_int_equal(ph_epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev), 0);
	assert_int_equal(ph_sendto(b, "in", 2, 0, SA(to), sizeof(to)), 2);
	for (int i = 0; i < 100 && !(seen & EPOLLIN); i++)
		if (ph_epoll_wait(ep, out, 4, 0) == 1)
			seen = out[0].events;
	assert_int_equal(seen, EPOLLIN | EPOLLOUT);
	ph_close(a);
	ph_close(b);
	ph_close(ep);
}

/* Broadcast to every socket on the port; a binding for the very address
 * does not hide the wildcard one; a broadcast address is never a source. */
static void
test_bcast_and_wildcard(void **state)
{
	/* Ports no earlier case used: a receiver must not read a stale header. */
	struct sockaddr_in any = sin_of("0.0.0.0", 6050), bc = sin_of("198.18.0.255", 6050);
	struct sockaddr_in from, got, self = sin_of(ADDR, 6100), wild = sin_of("0.0.0.0", 6100);
	struct sockaddr_in elsewhere = sin_of(ADDR, 6999), to6100 = sin_of(ADDR, 6100);
	socklen_t fl, gl = sizeof(got);
	int one = 1, a, b, c, w, e, s;
	char buf[16];

	(void)state;
	a = ph_socket(AF_INET, SOCK_DGRAM, 0);
	b = ph_socket(AF_INET, SOCK_DGRAM, 0);
	c = udp_bound("0.0.0.0", 6051);
	assert_int_equal(ph_setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(ph_setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(ph_bind(a, SA(any), sizeof(any)), 0);
	assert_int_equal(ph_bind(b, SA(any), sizeof(any)), 0);
	assert_int_equal(ph_setsockopt(c, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)), 0);
	/* Connected to the subnet's broadcast: the source is our unicast address. */
	assert_int_equal(ph_connect(c, SA(bc), sizeof(bc)), 0);
	assert_int_equal(ph_getsockname(c, SA(got), &gl), 0);
	assert_string_equal(inet_ntoa(got.sin_addr), ADDR);
	/* The ring brings the broadcast back: both sockets get it, from us. */
	assert_int_equal(ph_send(c, "bcast", 5, 0), 5);
	for (int i = 0, sock[2] = {a, b}; i < 2; i++) {
		fl = sizeof(from);
		memset(&from, 0, sizeof(from));
		assert_int_equal(recv_soon(sock[i], buf, sizeof(buf), SA(from), &fl), 5);
		assert_memory_equal(buf, "bcast", 5);
		assert_string_equal(inet_ntoa(from.sin_addr), ADDR);
		assert_int_equal(from.sin_port, got.sin_port);
	}
	ph_close(a);
	ph_close(b);
	ph_close(c);

	w = ph_socket(AF_INET, SOCK_DGRAM, 0);
	e = ph_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(ph_setsockopt(w, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(ph_setsockopt(e, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(ph_bind(w, SA(wild), sizeof(wild)), 0);
	assert_int_equal(ph_bind(e, SA(self), sizeof(self)), 0);
	assert_int_equal(ph_connect(e, SA(elsewhere), sizeof(elsewhere)), 0);
	/* E takes only its peer's datagrams: this one is W's, as in Linux. */
	s = udp_bound(ADDR, 6101);
	assert_int_equal(ph_sendto(s, "wild", 4, 0, SA(to6100), sizeof(to6100)), 4);
	assert_int_equal(recv_soon(w, buf, sizeof(buf), NULL, NULL), 4);
	assert_fails(ph_recv(e, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	ph_close(w);
	/* Nobody else takes it now: port unreachable, as if no socket were bound. */
	assert_int_equal(ph_connect(s, SA(to6100), sizeof(to6100)), 0);
	assert_int_equal(ph_send(s, "none", 4, 0), 4);
	assert_fails(recv_soon(s, buf, sizeof(buf), NULL, NULL), ECONNREFUSED);
	ph_close(e);
	ph_close(s);
}

/* Options set after bind count for later binds; connect(AF_UNSPEC) gives back
 * a port only connect chose; zero-copy receive cannot peek. */
static void
test_after_bind(void **state)
{
	struct sockaddr_in at = sin_of(ADDR, 6200), peer = sin_of(ADDR, 6299), got;
	struct sockaddr_in unspec = {.sin_family = AF_UNSPEC};
	socklen_t gl = sizeof(got);
	int one = 1, x = udp_bound(ADDR, 6200), y = ph_socket(AF_INET, SOCK_DGRAM, 0), z;
	struct ph_zbuf *zb;

	(void)state;
	assert_int_equal(ph_setsockopt(y, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	assert_fails(ph_bind(y, SA(at), sizeof(at)), EADDRINUSE);
	assert_int_equal(ph_setsockopt(x, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	assert_int_equal(ph_bind(y, SA(at), sizeof(at)), 0);
	ph_close(y);

	z = ph_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(ph_connect(z, SA(peer), sizeof(peer)), 0);
	assert_int_equal(ph_getsockname(z, SA(got), &gl), 0);
	assert_int_not_equal(got.sin_port, 0);
	assert_int_equal(ph_connect(z, (struct sockaddr *)&unspec, sizeof(unspec)), 0);
	gl = sizeof(got);
	assert_int_equal(ph_getsockname(z, SA(got), &gl), 0);
	assert_int_equal(got.sin_port, 0);
	assert_fails(ph_getpeername(z, SA(got), &gl), ENOTCONN);
	/* A port the application bound stays. */
	assert_int_equal(ph_connect(x, SA(peer), sizeof(peer)), 0);
	assert_int_equal(ph_connect(x, (struct sockaddr *)&unspec, sizeof(unspec)), 0);
	gl = sizeof(got);
	assert_int_equal(ph_getsockname(x, SA(got), &gl), 0);
	assert_int_equal(ntohs(got.sin_port), 6200);

	assert_fails(ph_zc_recvfrom(x, &zb, MSG_PEEK | MSG_DONTWAIT, NULL, NULL), EINVAL);
	ph_close(x);
	ph_close(z);
}

static void
test_zero_copy(void **state)
{
	int a = udp_bound(ADDR, 5300), b = udp_bound(ADDR, 5301), u;
	struct sockaddr_in to = sin_of(ADDR, 5300), from;
	socklen_t fl = sizeof(from);
	struct ph_zbuf *z;
	size_t seglen;
	char *p, out[32];

	(void)state;
	assert_null(ph_zbuf_alloc(b, ph_zbuf_max() + 1));
	assert_int_equal(errno, EMSGSIZE);
	z = ph_zbuf_alloc(b, 5);
	assert_non_null(z);
	p = ph_zbuf_data(z, &seglen);
	assert_int_equal(seglen, 5);
	memcpy(p, "zeroc", 5);
	/* A failed send leaves the buffer with us, unchanged. */
	assert_fails(ph_zc_sendto(b, z, 0, NULL, 0), EDESTADDRREQ);
	assert_int_equal(ph_zbuf_len(z), 5);
	assert_int_equal(ph_zc_sendto(b, z, 0, SA(to), sizeof(to)), 5);
	/* Received without a copy; sent back as it is. */
	assert_int_equal(ph_zc_recvfrom(a, &z, 0, SA(from), &fl), 5);
	assert_memory_equal(ph_zbuf_data(z, NULL), "zeroc", 5);
	assert_null(ph_zbuf_next(z));
	assert_int_equal(ph_zc_sendto(a, z, 0, SA(from), fl), 5);
	assert_int_equal(ph_recv(b, out, sizeof(out), 0), 5);
	assert_memory_equal(out, "zeroc", 5);
	/* A buffer that failed (no route in context 7) is still ours to free. */
	u = ph_socket(AF_INET, SOCK_DGRAM, 0);
	{
		int blue = 7;

		assert_int_equal(
		        ph_setsockopt(u, PH_SOL_POLYHOST, PH_SO_CONTEXT, &blue, sizeof(blue)), 0);
	}
	z = ph_zbuf_alloc(u, 3);
	assert_fails(ph_zc_sendto(u, z, 0, SA(to), sizeof(to)), ENETUNREACH);
	ph_zbuf_free(z);
	ph_close(u);
	ph_close(a);
	ph_close(b);
}

static void
test_icmp_so_error(void **state)
{
	int fd = ph_socket(AF_INET, SOCK_DGRAM, 0), e = 0;
	struct sockaddr_in closed = sin_of(ADDR, 5999);
	socklen_t el = sizeof(e);
	uint64_t before, after;
	char b[4];

	(void)state;
	assert_int_equal(ph_counter("udpNoPorts", &before), 0);
	assert_int_equal(ph_connect(fd, SA(closed), sizeof(closed)), 0);
	assert_int_equal(ph_send(fd, "x", 1, 0), 1);
	/* Our own port unreachable comes back through ICMP: ECONNREFUSED. */
	assert_fails(ph_recv(fd, b, sizeof(b), 0), ECONNREFUSED);
	assert_int_equal(ph_counter("udpNoPorts", &after), 0);
	assert_int_equal(after, before + 1);
	/* Once reported, it is cleared. */
	assert_int_equal(ph_getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el), 0);
	assert_int_equal(e, 0);
	assert_int_equal(ph_send(fd, "y", 1, 0), 1);
	poll_n(8);
	assert_int_equal(ph_getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el), 0);
	assert_int_equal(e, ECONNREFUSED);
	assert_fails(ph_counter("no_such_counter", &after), ENOENT);
	ph_close(fd);
}

static void
test_rcvbuf_overflow(void **state)
{
	int a = udp_bound(ADDR, 5400), b = udp_bound(ADDR, 5401), v = 1, got = 0;
	struct sockaddr_in to = sin_of(ADDR, 5400);
	socklen_t vl = sizeof(v);
	uint64_t before, after;
	char buf[8];

	(void)state;
	assert_int_equal(ph_setsockopt(a, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	assert_int_equal(ph_getsockopt(a, SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
	assert_int_equal(v, 2304); /* the minimum, as Linux reports it */
	assert_int_equal(ph_counter("udp_receive_buffer_full", &before), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(ph_sendto(b, "overflow", 8, 0, SA(to), sizeof(to)), 8);
	poll_n(8);
	while (ph_recv(a, buf, sizeof(buf), MSG_DONTWAIT) == 8)
		got++;
	assert_int_equal(ph_counter("udp_receive_buffer_full", &after), 0);
	assert_in_range(got, 1, 2);
	assert_int_equal(after - before, (uint64_t)(20 - got));
	ph_close(a);
	ph_close(b);
}

static void
test_contexts(void **state)
{
	struct sockaddr_in a = sin_of(ADDR, 5500);
	int fd, v = 0;
	socklen_t vl = sizeof(v);

	(void)state;
	assert_int_equal(ph_ctx_lookup("default"), 0);
	assert_int_equal(ph_ctx_lookup("blue"), 7);
	assert_fails(ph_ctx_lookup("red"), ENOENT);
	assert_fails(ph_ctx_set(3), ENODEV);
	assert_int_equal(ph_ctx_set(7), 0);
	fd = ph_socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(ph_ctx_set(0), 0);
	/* Inherited at creation, not at use. */
	assert_int_equal(ph_getsockopt(fd, PH_SOL_POLYHOST, PH_SO_CONTEXT, &v, &vl), 0);
	assert_int_equal(v, 7);
	/* 198.18.0.2 is the default context's, not blue's. */
	assert_fails(ph_bind(fd, SA(a), sizeof(a)), EADDRNOTAVAIL);
	v = 0;
	assert_int_equal(ph_setsockopt(fd, PH_SOL_POLYHOST, PH_SO_CONTEXT, &v, sizeof(v)), 0);
	assert_int_equal(ph_bind(fd, SA(a), sizeof(a)), 0);
	v = 7;
	assert_fails(ph_setsockopt(fd, PH_SOL_POLYHOST, PH_SO_CONTEXT, &v, sizeof(v)), EISCONN);
	v = 3;
	ph_close(fd);
	fd = ph_socket(AF_INET, SOCK_DGRAM, 0);
	assert_fails(ph_setsockopt(fd, PH_SOL_POLYHOST, PH_SO_CONTEXT, &v, sizeof(v)), ENODEV);
	ph_close(fd);
}

struct other_thread {
	int fd, sock_err, poll_err, socket_err;
};

static void *
other_thread_main(void *arg)
{
	struct other_thread *t = arg;
	char b[4];

	errno = 0;
	if (ph_recv(t->fd, b, sizeof(b), MSG_DONTWAIT) == -1)
		t->sock_err = errno;
	errno = 0;
	if (ph_poll() == -1)
		t->poll_err = errno;
	errno = 0;
	if (ph_socket(AF_INET, SOCK_DGRAM, 0) == -1)
		t->socket_err = errno;
	return NULL;
}

static void
test_other_thread(void **state)
{
	struct other_thread t = {.fd = ph_socket(AF_INET, SOCK_DGRAM, 0)};
	pthread_t th;

	(void)state;
	assert_int_equal(pthread_create(&th, NULL, other_thread_main, &t), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(t.sock_err, EPERM);
	assert_int_equal(t.poll_err, EPERM);
	assert_int_equal(t.socket_err, EPERM);
	/* Untouched: still ours and usable. */
	assert_int_equal(ph_close(t.fd), 0);
}

/* ---- TCP through the host's own loopback path ---- */

static int
tcp_listener_at(const char *addr, uint16_t port)
{
	struct sockaddr_in a = sin_of(addr, port);
	int fd = ph_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(ph_bind(fd, SA(a), sizeof(a)), 0);
	assert_int_equal(ph_listen(fd, 4), 0);
	return fd;
}

static int
tcp_listener(uint16_t port, int backlog)
{
	struct sockaddr_in a = sin_of(ADDR, port);
	int fd = ph_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;

	assert_true(fd >= 0);
	assert_int_equal(ph_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(ph_bind(fd, SA(a), sizeof(a)), 0);
	assert_int_equal(ph_listen(fd, backlog), 0);
	return fd;
}

/* A connected pair: *CLI from connect, *SRV from accept. */
static void
tcp_pair(uint16_t port, int *lsn, int *cli, int *srv)
{
	struct sockaddr_in a = sin_of(ADDR, port), peer;
	socklen_t pl = sizeof(peer);
	int err = -1;
	socklen_t el = sizeof(err);

	*lsn = tcp_listener(port, 4);
	*cli = ph_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(*cli >= 0);
	assert_fails(ph_connect(*cli, SA(a), sizeof(a)), EINPROGRESS);
	*srv = -1;
	for (int i = 0; i < 1000 && *srv < 0; i++) {
		poll_n(1);
		*srv = ph_accept4(*lsn, SA(peer), &pl, SOCK_NONBLOCK);
	}
	assert_true(*srv >= 0);
	poll_n(4);
	assert_int_equal(ph_getsockopt(*cli, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	assert_int_equal(err, 0);
	assert_int_equal(peer.sin_addr.s_addr, a.sin_addr.s_addr);
}

static ssize_t tcp_read_soon(int fd, void *buf, size_t len);

/* Connect from context CTX to ADDR:PORT and accept on LSN: the accepted socket. */
static int
tcp_accept_from(int ctx, const char *addr, uint16_t port, int lsn, int *cli)
{
	struct sockaddr_in a = sin_of(addr, port);
	int srv = -1;

	assert_int_equal(ph_ctx_set(ctx), 0);
	*cli = ph_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(ph_ctx_set(0), 0);
	assert_true(*cli >= 0);
	assert_fails(ph_connect(*cli, SA(a), sizeof(a)), EINPROGRESS);
	for (int i = 0; i < 1000 && srv < 0; i++) {
		poll_n(1);
		srv = ph_accept4(lsn, NULL, NULL, SOCK_NONBLOCK);
	}
	return srv;
}

static int
sock_ctx(int fd)
{
	int v = -2;
	socklen_t vl = sizeof(v);

	assert_int_equal(ph_getsockopt(fd, PH_SOL_POLYHOST, PH_SO_CONTEXT, &v, &vl), 0);
	return v;
}

/* A listener of every context (PH_CTX_ANY) is an opt-in; its accepted
 * sockets carry the context their connection came in; a listener of the
 * context itself is preferred. */
static void
test_tcp_any_context(void **state)
{
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(5600)};
	struct sockaddr_in own = sin_of(ADDR, 5600);
	int lsn, blue_lsn, cli, srv, v = PH_CTX_ANY;
	char buf[8];

	(void)state;
	/* Without the opt-in a default-context listener never sees blue. */
	lsn = tcp_listener(5600, 4);
	assert_int_equal(tcp_accept_from(7, BLUE_ADDR, 5600, lsn, &cli), -1);
	ph_close(cli);
	ph_close(lsn);

	lsn = ph_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(ph_setsockopt(lsn, PH_SOL_POLYHOST, PH_SO_CONTEXT, &v, sizeof(v)), 0);
	assert_int_equal(sock_ctx(lsn), PH_CTX_ANY);
	/* Addresses belong to one context: only the wildcard. */
	assert_fails(ph_bind(lsn, SA(own), sizeof(own)), EADDRNOTAVAIL);
	assert_int_equal(ph_bind(lsn, SA(any), sizeof(any)), 0);
	assert_int_equal(ph_listen(lsn, 4), 0);
	srv = tcp_accept_from(7, BLUE_ADDR, 5600, lsn, &cli);
	assert_true(srv >= 0);
	assert_int_equal(sock_ctx(srv), 7);
	assert_int_equal(ph_send(srv, "blue", 4, 0), 4);
	assert_int_equal(tcp_read_soon(cli, buf, sizeof(buf)), 4);
	ph_close(srv);
	ph_close(cli);
	srv = tcp_accept_from(0, ADDR, 5600, lsn, &cli);
	assert_true(srv >= 0);
	assert_int_equal(sock_ctx(srv), 0);
	ph_close(srv);
	ph_close(cli);
	/* blue's own listener on the port takes blue's connections. */
	assert_int_equal(ph_ctx_set(7), 0);
	blue_lsn = tcp_listener_at(BLUE_ADDR, 5600);
	assert_int_equal(ph_ctx_set(0), 0);
	srv = tcp_accept_from(7, BLUE_ADDR, 5600, lsn, &cli);
	assert_int_equal(srv, -1);
	ph_close(cli);
	ph_close(blue_lsn);
	/* It cannot connect anywhere. */
	cli = ph_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(ph_setsockopt(cli, PH_SOL_POLYHOST, PH_SO_CONTEXT, &v, sizeof(v)), 0);
	assert_fails(ph_connect(cli, SA(own), sizeof(own)), ENETUNREACH);
	ph_close(cli);
	/* UDP has no such option. */
	cli = ph_socket(AF_INET, SOCK_DGRAM, 0);
	assert_fails(ph_setsockopt(cli, PH_SOL_POLYHOST, PH_SO_CONTEXT, &v, sizeof(v)), ENODEV);
	ph_close(cli);
	ph_close(lsn);
}

static ssize_t
tcp_read_soon(int fd, void *buf, size_t len)
{
	for (int i = 0; i < 1000; i++) {
		ssize_t n = ph_recv(fd, buf, len, MSG_DONTWAIT);

		if (n >= 0 || errno != EAGAIN)
			return n;
		poll_n(1);
	}
	return -1;
}

static void
test_tcp_errors(void **state)
{
	struct sockaddr_in a = sin_of(ADDR, 7000);
	int u = ph_socket(AF_INET, SOCK_DGRAM, 0);
	int t = ph_socket(AF_INET, SOCK_STREAM, 0);
	char b[4];
	int v;
	socklen_t vl = sizeof(v);

	(void)state;
	assert_fails(ph_listen(u, 4), EOPNOTSUPP);
	assert_fails(ph_accept(u, NULL, NULL), EOPNOTSUPP);
	assert_fails(ph_accept(t, NULL, NULL), EINVAL); /* not listening */
	assert_fails(ph_send(t, "x", 1, 0), EPIPE);     /* Linux's answer, not ENOTCONN */
	assert_fails(ph_recv(t, b, sizeof(b), 0), ENOTCONN);
	assert_fails(ph_getpeername(t, SA(a), &vl), ENOTCONN);
	assert_fails(ph_shutdown(t, SHUT_WR), ENOTCONN);
	assert_fails(ph_sendto(t, "x", 1, 0, SA(a), sizeof(a)), EPIPE); /* the address is ignored */
	assert_fails(ph_accept4(t, NULL, NULL, 0x4000000), EINVAL);
	vl = sizeof(v);
	assert_int_equal(ph_getsockopt(t, SOL_SOCKET, SO_TYPE, &v, &vl), 0);
	assert_int_equal(v, SOCK_STREAM);
	assert_fails(ph_setsockopt(t, IPPROTO_TCP, TCP_KEEPCNT, &(int){0}, sizeof(int)), EINVAL);
	a = sin_of("198.18.9.9", 80);
	assert_fails(ph_bind(t, SA(a), sizeof(a)), EADDRNOTAVAIL);
	a = sin_of("203.0.113.1", 80);
	assert_fails(ph_connect(t, SA(a), sizeof(a)), ENETUNREACH);
	assert_int_equal(ph_close(t), 0);
	assert_int_equal(ph_close(u), 0);
}

static void
test_tcp_refused(void **state)
{
	struct sockaddr_in a = sin_of(ADDR, 7001);
	int t = ph_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	/* Nobody listens: the loopback RST makes a blocking connect fail. */
	assert_fails(ph_connect(t, SA(a), sizeof(a)), ECONNREFUSED);
	assert_int_equal(ph_close(t), 0);
	uint64_t fails = 0;
	assert_int_equal(ph_counter("tcpAttemptFails", &fails), 0);
	assert_true(fails >= 1);
}

static void
test_tcp_loopback_transfer(void **state)
{
	int lsn, cli, srv, ep;
	static char out[300000], in[300000];
	size_t sent = 0, got = 0;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);

	(void)state;
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + i / 251);
	tcp_pair(7002, &lsn, &cli, &srv);
	ep = ph_epoll_create1(0);
	ev.data.fd = srv;
	assert_int_equal(ph_epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev), 0);
	/* More than both buffers: writes and reads must interleave. */
	for (int i = 0; i < 100000 && got < sizeof(out); i++) {
		if (sent < sizeof(out)) {
			ssize_t n = ph_send(cli, out + sent, sizeof(out) - sent, 0);

			if (n > 0)
				sent += (size_t)n;
			else
				assert_int_equal(errno, EAGAIN);
			if (sent == sizeof(out))
				assert_int_equal(ph_shutdown(cli, SHUT_WR), 0);
		}
		struct epoll_event e;
		if (ph_epoll_wait(ep, &e, 1, 0) == 1) {
			ssize_t n = ph_recv(srv, in + got, sizeof(in) - got, 0);

			if (n > 0)
				got += (size_t)n;
		}
	}
	assert_int_equal(got, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	/* The FIN: end of stream and RDHUP. */
	char b[4];
	assert_int_equal(tcp_read_soon(srv, b, sizeof(b)), 0);
	assert_int_equal(ph_epoll_wait(ep, &ev, 1, 0), 1);
	assert_true(ev.events & EPOLLRDHUP);
	assert_int_equal(ph_getsockopt(srv, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
	assert_int_equal(ti.tcpi_state, 8); /* CLOSE-WAIT */
	assert_true(ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	assert_true(ti.tcpi_options & TCPI_OPT_WSCALE);
	assert_true(ti.tcpi_options & TCPI_OPT_SACK);
	assert_int_equal(ph_close(srv), 0);
	poll_n(8);
	assert_int_equal(tcp_read_soon(cli, b, sizeof(b)), 0);
	assert_int_equal(ph_close(cli), 0);
	assert_int_equal(ph_close(ep), 0);
	assert_int_equal(ph_close(lsn), 0);
}

static void
test_tcp_reset_seen(void **state)
{
	int lsn, cli, srv;
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	char b[4];

	(void)state;
	tcp_pair(7003, &lsn, &cli, &srv);
	assert_int_equal(ph_setsockopt(srv, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	assert_int_equal(ph_close(srv), 0);
	errno = 0;
	assert_int_equal(tcp_read_soon(cli, b, sizeof(b)), -1);
	assert_int_equal(errno, ECONNRESET);
	poll_n(2);
	assert_fails(ph_send(cli, "x", 1, 0), EPIPE);
	assert_int_equal(ph_close(cli), 0);
	assert_int_equal(ph_close(lsn), 0);
}

static void
test_tcp_msg_more_and_maxseg(void **state)
{
	static char buf[400000];
	int lsn, cli, srv, v = 600;
	size_t got = 0;
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	struct sockaddr_in a = sin_of(ADDR, 7005), peer;
	socklen_t pl = sizeof(peer);

	(void)state;
	/* TCP_MAXSEG before connect lowers the MSS both ends use. */
	lsn = tcp_listener(7005, 4);
	cli = ph_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(ph_setsockopt(cli, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)), 0);
	assert_fails(ph_connect(cli, SA(a), sizeof(a)), EINPROGRESS);
	srv = -1;
	for (int i = 0; i < 1000 && srv < 0; i++) {
		poll_n(1);
		srv = ph_accept4(lsn, SA(peer), &pl, SOCK_NONBLOCK);
	}
	assert_true(srv >= 0);
	poll_n(4);
	assert_int_equal(ph_getsockopt(cli, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
	assert_int_equal(ti.tcpi_advmss, 600);
	assert_int_equal(ph_getsockopt(srv, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
	assert_true(ti.tcpi_snd_mss <= 600);
	/* MSG_MORE holds only a short tail: a full ring still drains. */
	ssize_t n = ph_send(cli, buf, sizeof(buf), MSG_MORE | MSG_DONTWAIT);
	assert_true(n > 0);
	for (int i = 0; i < 20000 && got < (size_t)n - 600; i++) {
		char b[65536];
		ssize_t r = ph_recv(srv, b, sizeof(b), MSG_DONTWAIT);

		if (r > 0)
			got += (size_t)r;
		else
			poll_n(1);
	}
	assert_true(got >= (size_t)n - 600);
	assert_int_equal(ph_close(srv), 0);
	assert_int_equal(ph_close(cli), 0);
	assert_int_equal(ph_close(lsn), 0);
}

static void
test_tcp_connect_again(void **state)
{
	struct sockaddr_in a = sin_of(ADDR, 7006);
	int t = ph_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), lsn, err = 0;
	socklen_t el = sizeof(err);

	(void)state;
	assert_fails(ph_connect(t, SA(a), sizeof(a)), EINPROGRESS);
	poll_n(8); /* refused by the loopback RST */
	/* The "connect again to learn the result" idiom gets the error... */
	assert_fails(ph_connect(t, SA(a), sizeof(a)), ECONNREFUSED);
	assert_int_equal(ph_getsockopt(t, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	assert_int_equal(err, 0);
	/* ... and a further connect is a new attempt, which now succeeds. */
	lsn = tcp_listener(7006, 4);
	assert_fails(ph_connect(t, SA(a), sizeof(a)), EINPROGRESS);
	poll_n(8);
	assert_int_equal(ph_getsockopt(t, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	assert_int_equal(err, 0);
	assert_fails(ph_connect(t, SA(a), sizeof(a)), EISCONN);
	assert_int_equal(ph_close(t), 0);
	assert_int_equal(ph_close(lsn), 0);
}

static void
test_tcp_congestion(void **state)
{
	int t = ph_socket(AF_INET, SOCK_STREAM, 0);
	char name[32];
	socklen_t l;

	(void)state;
	memset(name, 'x', sizeof(name));
	l = sizeof(name);
	assert_int_equal(ph_getsockopt(t, IPPROTO_TCP, TCP_CONGESTION, name, &l), 0);
	assert_int_equal(l, 16);
	assert_string_equal(name, "cubic");
	assert_int_equal(name[15], 0);
	assert_int_equal(name[16], 'x');
	assert_int_equal(ph_setsockopt(t, IPPROTO_TCP, TCP_CONGESTION, "newrenoXYZ", 7), 0);
	l = 3;
	assert_int_equal(ph_getsockopt(t, IPPROTO_TCP, TCP_CONGESTION, name, &l), 0);
	assert_int_equal(l, 3);
	assert_memory_equal(name, "new", 3);
	l = sizeof(name);
	assert_int_equal(ph_getsockopt(t, IPPROTO_TCP, TCP_CONGESTION, name, &l), 0);
	assert_string_equal(name, "newreno");
	assert_fails(ph_setsockopt(t, IPPROTO_TCP, TCP_CONGESTION, "vegas", 5), ENOENT);
	assert_fails(ph_setsockopt(t, IPPROTO_TCP, TCP_CONGESTION, "cubic", 0), EINVAL);
	assert_int_equal(ph_setsockopt(t, IPPROTO_TCP, TCP_CONGESTION, "cubic\0junk", 10), 0);
	assert_int_equal(
	        ph_setsockopt(t, IPPROTO_TCP, TCP_CONGESTION, "cubicaaaaaaaaaaaaaaaaaa", 23), -1);
	assert_int_equal(errno, ENOENT);
	l = sizeof(name);
	assert_int_equal(ph_getsockopt(t, IPPROTO_TCP, TCP_CONGESTION, name, &l), 0);
	assert_string_equal(name, "cubic");
	assert_int_equal(ph_close(t), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_init_errors),
	        cmocka_unit_test(test_socket_errors),
	        cmocka_unit_test(test_ebadf),
	        cmocka_unit_test(test_bind),
	        cmocka_unit_test(test_ephemeral),
	        cmocka_unit_test(test_send_errors),
	        cmocka_unit_test(test_loopback_data),
	        cmocka_unit_test(test_epoll),
	        cmocka_unit_test(test_zero_copy),
	        cmocka_unit_test(test_icmp_so_error),
	        cmocka_unit_test(test_rcvbuf_overflow),
	        cmocka_unit_test(test_contexts),
	        cmocka_unit_test(test_tcp_any_context),
	        cmocka_unit_test(test_other_thread),
	        cmocka_unit_test(test_epoll_always_ready),
	        cmocka_unit_test(test_bcast_and_wildcard),
	        cmocka_unit_test(test_after_bind),
	        cmocka_unit_test(test_tcp_errors),
	        cmocka_unit_test(test_tcp_congestion),
	        cmocka_unit_test(test_tcp_refused),
	        cmocka_unit_test(test_tcp_loopback_transfer),
	        cmocka_unit_test(test_tcp_reset_seen),
	        cmocka_unit_test(test_tcp_msg_more_and_maxseg),
	        cmocka_unit_test(test_tcp_connect_again),
	};

	return cmocka_run_group_tests_name("api", tests, setup, teardown);
}
