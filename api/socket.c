/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket, epoll and zero-copy calls of the public API (see
 * <polyhost/socket.h>): argument checks and errno here, the protocol in
 * stack/udp, the socket state in stack/sock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "api/api.h"
#include "core/host.h"
#include "core/pkt.h"
#include "polyhost/polyhost.h"
#include "sock/sock.h"
#include "tcp/tcp_share.h"
#include "udp/udp.h"
#include "wire/ipv4.h"

/* Largest SO_RCVBUF/SO_SNDBUF value accepted (before doubling). */
#define API_BUF_MAX (8u << 20)
#define API_BUF_MIN 2304u /* what Linux rounds small values up to, doubled */

#define API_FAIL(err)                                                                              \
	do {                                                                                       \
		errno = (err);                                                                     \
		return -1;                                                                         \
	} while (0)

static struct ph_sock *
api_udp(int fd, struct ph_lcore **lc)
{
	struct ph_sock *s = api_sock(fd, lc);

	if (s != NULL && s->kind != SOCK_KIND_UDP) {
		errno = ENOTSOCK;
		return NULL;
	}
	return s;
}

int
api_ip_setopt(int name, int v, uint8_t *tos, uint8_t *ttl)
{
	switch (name) {
	case IP_TOS:
		if (v < 0 || v > 255)
			return -EINVAL;
		*tos = (uint8_t)v;
		return 0;
	case IP_TTL:
		if (v == -1)
			v = 0; /* the default */
		else if (v < 1 || v > 255)
			return -EINVAL;
		*ttl = (uint8_t)v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int
api_ip_getopt(int name, uint8_t tos, uint8_t ttl)
{
	if (name == IP_TOS)
		return tos;
	if (name == IP_TTL)
		return ttl ? ttl : IPV4_DEFAULT_TTL;
	return -ENOPROTOOPT;
}

/* A UDP or TCP socket (not an epoll instance). */
static struct ph_sock *
api_inet(int fd, struct ph_lcore **lc)
{
	struct ph_sock *s = api_sock(fd, lc);

	if (s != NULL && s->kind != SOCK_KIND_UDP && s->kind != SOCK_KIND_TCP) {
		errno = ENOTSOCK;
		return NULL;
	}
	return s;
}

int
api_sin(const struct sockaddr *sa, socklen_t len, uint32_t *ip, uint16_t *port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

	if (sa == NULL || len < (socklen_t)sizeof(*sin))
		return -EINVAL;
	if (sin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	*ip = ntohl(sin->sin_addr.s_addr);
	*port = ntohs(sin->sin_port);
	return 0;
}

void
api_put_sin(struct sockaddr *sa, socklen_t *len, uint32_t ip, uint16_t port)
{
	struct sockaddr_in sin = {
	        .sin_family = AF_INET,
	        .sin_port = htons(port),
	        .sin_addr.s_addr = htonl(ip),
	};

	if (sa == NULL || len == NULL)
		return;
	memcpy(sa, &sin, RTE_MIN((size_t)*len, sizeof(sin)));
	*len = sizeof(sin);
}

int
ph_socket(int domain, int type, int protocol)
{
	struct ph_lcore *lc = api_lcore();
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct ph_sock *s;

	if (lc == NULL)
		return -1;
	if (domain != AF_INET)
		API_FAIL(EAFNOSUPPORT);
	if (base == SOCK_STREAM) {
		if (protocol != 0 && protocol != IPPROTO_TCP)
			API_FAIL(EPROTONOSUPPORT);
		return api_tcp_socket(lc, type);
	}
	if (base != SOCK_DGRAM)
		API_FAIL(ESOCKTNOSUPPORT);
	if (protocol != 0 && protocol != IPPROTO_UDP)
		API_FAIL(EPROTONOSUPPORT);
	s = sock_alloc(lc, SOCK_KIND_UDP);
	if (s == NULL)
		return -1;
	udp_sock_init(s, api_ctx());
	if (sock_rxq_resize(s, s->rcvbuf) != 0) {
		sock_free(lc, s);
		API_FAIL(ENOMEM);
	}
	s->nonblock = (type & SOCK_NONBLOCK) != 0;
	return s->fd;
}

int
ph_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_inet(fd, &lc);
	uint32_t ip;
	uint16_t port;
	int rc;

	if (s == NULL)
		return -1;
	if (s->kind == SOCK_KIND_TCP)
		return api_tcp_bind(lc, s, addr, len);
	if ((rc = api_sin(addr, len, &ip, &port)) != 0)
		API_FAIL(-rc);
	if ((rc = udp_bind(lc, s, ip, port)) != 0)
		API_FAIL(-rc);
	return 0;
}

int
ph_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_inet(fd, &lc);
	uint32_t ip = 0;
	uint16_t port = 0;
	int rc;

	if (s == NULL)
		return -1;
	if (s->kind == SOCK_KIND_TCP)
		return api_tcp_connect(lc, s, addr, len);
	if (addr == NULL || len < (socklen_t)sizeof(sa_family_t))
		API_FAIL(EINVAL);
	if (addr->sa_family != AF_UNSPEC) {
		if ((rc = api_sin(addr, len, &ip, &port)) != 0)
			API_FAIL(-rc);
		if (port == 0 || ip == 0)
			API_FAIL(port == 0 ? EINVAL : ENETUNREACH);
	}
	if ((rc = udp_connect(lc, s, ip, port)) != 0)
		API_FAIL(-rc);
	return 0;
}

ssize_t
ph_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_inet(fd, &lc);
	uint32_t ip = 0;
	uint16_t port = 0;
	size_t len = 0;
	ssize_t rc;

	if (s == NULL)
		return -1;
	if (msg == NULL || (msg->msg_iovlen > 0 && msg->msg_iov == NULL))
		API_FAIL(EINVAL);
	if (msg->msg_iovlen > IOV_MAX)
		API_FAIL(EMSGSIZE); /* as Linux */
	if (flags & MSG_OOB)
		API_FAIL(EOPNOTSUPP);
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		if (msg->msg_iov[i].iov_len > SSIZE_MAX - len)
			API_FAIL(EINVAL);
		len += msg->msg_iov[i].iov_len;
	}
	if (s->kind == SOCK_KIND_TCP)
		return api_tcp_sendmsg(lc, s, msg, flags, len);
	if (msg->msg_name != NULL && (rc = api_sin(msg->msg_name, msg->msg_namelen, &ip, &port)))
		API_FAIL((int)-rc);
	rc = udp_send(lc, s, msg->msg_iov, (int)msg->msg_iovlen, len, msg->msg_name != NULL, ip,
	              port);
	if (rc < 0)
		API_FAIL((int)-rc);
	return rc;
}

ssize_t
ph_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
          socklen_t tolen)
{
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct msghdr msg = {
	        .msg_name = (void *)(uintptr_t)to,
	        .msg_namelen = tolen,
	        .msg_iov = &iov,
	        .msg_iovlen = 1,
	};

	if (buf == NULL && len > 0) {
		errno = EFAULT;
		return -1;
	}
	return ph_sendmsg(fd, &msg, flags);
}

ssize_t
ph_send(int fd, const void *buf, size_t len, int flags)
{
	return ph_sendto(fd, buf, len, flags, NULL, 0);
}

static int
api_readable(const struct ph_sock *s)
{
	return !sock_rxq_empty(s) || s->shut_rd || s->so_error != 0;
}

/* Wait for a datagram (or EOF, or an error) as FLAGS and the socket allow.
 * 1: one is queued; 0: end of file; -1: errno set. */
static int
api_recv_wait(struct ph_lcore *lc, struct ph_sock *s, int flags)
{
	if (!api_readable(s)) {
		if (s->nonblock || (flags & MSG_DONTWAIT)) {
			/* Take what has arrived since the application last polled. */
			ph_lcore_poll(lc);
			if (!api_readable(s)) {
				errno = EAGAIN;
				return -1;
			}
		} else if (api_wait(lc, s, api_readable) != 0) {
			return -1;
		}
	}
	if (s->so_error != 0) {
		errno = s->so_error;
		s->so_error = 0;
		return -1;
	}
	return sock_rxq_empty(s) ? 0 : 1;
}

ssize_t
ph_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_inet(fd, &lc);
	struct rte_mbuf *m;
	uint32_t len, off = 0, ip;
	uint16_t port;
	int rc;

	if (s == NULL)
		return -1;
	if (msg == NULL || (msg->msg_iovlen > 0 && msg->msg_iov == NULL))
		API_FAIL(EINVAL);
	if (s->kind == SOCK_KIND_TCP)
		return api_tcp_recvmsg(lc, s, msg, flags);
	if (flags & MSG_OOB)
		API_FAIL(EOPNOTSUPP);
	rc = api_recv_wait(lc, s, flags);
	if (rc <= 0)
		return rc;
	m = sock_rxq_peek(s);
	len = rte_pktmbuf_pkt_len(m);
	for (size_t i = 0; i < msg->msg_iovlen && off < len; i++) {
		uint32_t n = (uint32_t)RTE_MIN((size_t)(len - off), msg->msg_iov[i].iov_len);
		const void *p;

		if (n == 0)
			continue;
		p = rte_pktmbuf_read(m, off, n, msg->msg_iov[i].iov_base);
		if (p != msg->msg_iov[i].iov_base)
			memcpy(msg->msg_iov[i].iov_base, p, n);
		off += n;
	}
	msg->msg_flags = off < len ? MSG_TRUNC : 0;
	msg->msg_controllen = 0;
	if (msg->msg_name != NULL) {
		udp_peer_of(m, &ip, &port);
		api_put_sin(msg->msg_name, &msg->msg_namelen, ip, port);
	}
	if (!(flags & MSG_PEEK))
		rte_pktmbuf_free(sock_rxq_pop(s));
	return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)off;
}

ssize_t
ph_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg = {
	        .msg_name = from,
	        .msg_namelen = fromlen ? *fromlen : 0,
	        .msg_iov = &iov,
	        .msg_iovlen = 1,
	};
	ssize_t n;

	if (buf == NULL && len > 0) {
		errno = EFAULT;
		return -1;
	}
	if (from != NULL && fromlen == NULL) {
		errno = EFAULT;
		return -1;
	}
	n = ph_recvmsg(fd, &msg, flags);
	if (n >= 0 && fromlen != NULL && from != NULL)
		*fromlen = msg.msg_namelen;
	return n;
}

ssize_t
ph_recv(int fd, void *buf, size_t len, int flags)
{
	return ph_recvfrom(fd, buf, len, flags, NULL, NULL);
}

int
ph_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_inet(fd, &lc);
	uint32_t ip;

	if (s == NULL)
		return -1;
	if (s->kind == SOCK_KIND_TCP) {
		if (addr == NULL || len == NULL)
			API_FAIL(EFAULT);
		return api_tcp_getname(s, addr, len, false);
	}
	if (addr == NULL || len == NULL)
		API_FAIL(EFAULT);
	ip = s->laddr != 0 ? s->laddr : (s->connected ? s->src : 0);
	api_put_sin(addr, len, ip, s->lport);
	return 0;
}

int
ph_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_inet(fd, &lc);

	if (s == NULL)
		return -1;
	if (s->kind == SOCK_KIND_TCP) {
		if (addr == NULL || len == NULL)
			API_FAIL(EFAULT);
		return api_tcp_getname(s, addr, len, true);
	}
	if (!s->connected)
		API_FAIL(ENOTCONN);
	if (addr == NULL || len == NULL)
		API_FAIL(EFAULT);
	api_put_sin(addr, len, s->raddr, s->rport);
	return 0;
}

static int
api_buf_size(int v)
{
	uint32_t u = v < 0 ? 0 : (uint32_t)v;

	u = RTE_MIN(u, API_BUF_MAX) * 2;
	return (int)RTE_MAX(u, API_BUF_MIN);
}

int
ph_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_inet(fd, &lc);
	int v, rc;

	if (s == NULL)
		return -1;
	if (s->kind == SOCK_KIND_TCP)
		return api_tcp_setsockopt(lc, s, level, name, val, len);
	if (val == NULL || len < (socklen_t)sizeof(int))
		API_FAIL(EINVAL);
	memcpy(&v, val, sizeof(v));
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
		case SO_REUSEPORT:
			*(name == SO_REUSEADDR ? &s->reuseaddr : &s->reuseport) = v != 0;
			/* Bound already: binds after this one see the new value. */
			if ((rc = udp_sock_changed(lc, s)) != 0)
				API_FAIL(-rc);
			return 0;
		case SO_BROADCAST:
			s->broadcast = v != 0;
			return 0;
		case SO_RCVBUF:
			if (sock_rxq_resize(s, (uint32_t)api_buf_size(v)) != 0)
				API_FAIL(ENOMEM);
			return 0;
		case SO_SNDBUF:
			s->sndbuf = (uint32_t)api_buf_size(v);
			return 0;
		default:
			API_FAIL(ENOPROTOOPT);
		}
	}
	if (level == IPPROTO_IP) {
		if ((rc = api_ip_setopt(name, v, &s->tos, &s->ttl)) != 0)
			API_FAIL(-rc);
		return 0;
	}
	if (level == PH_SOL_POLYHOST && name == PH_SO_CONTEXT) {
		if (v < 0 || v >= UINT16_MAX)
			API_FAIL(ENODEV);
		if ((rc = udp_set_ctx(lc, s, (uint16_t)v)) != 0)
			API_FAIL(-rc);
		return 0;
	}
	API_FAIL(ENOPROTOOPT);
}

int
ph_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_inet(fd, &lc);
	int v;

	if (s == NULL)
		return -1;
	if (s->kind == SOCK_KIND_TCP)
		return api_tcp_getsockopt(lc, s, level, name, val, len);
	if (val == NULL || len == NULL)
		API_FAIL(EFAULT);
	if (*len < (socklen_t)sizeof(int))
		API_FAIL(EINVAL);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
			v = s->reuseaddr;
			break;
		case SO_REUSEPORT:
			v = s->reuseport;
			break;
		case SO_BROADCAST:
			v = s->broadcast;
			break;
		case SO_RCVBUF:
			v = (int)s->rcvbuf;
			break;
		case SO_SNDBUF:
			v = (int)s->sndbuf;
			break;
		case SO_ERROR:
			v = s->so_error;
			s->so_error = 0;
			break;
		case SO_TYPE:
			v = SOCK_DGRAM;
			break;
		default:
			API_FAIL(ENOPROTOOPT);
		}
	} else if (level == IPPROTO_IP) {
		if ((v = api_ip_getopt(name, s->tos, s->ttl)) < 0)
			API_FAIL(-v);
	} else if (level == PH_SOL_POLYHOST && name == PH_SO_CONTEXT) {
		v = s->ctx;
	} else {
		API_FAIL(ENOPROTOOPT);
	}
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

int
ph_shutdown(int fd, int how)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_inet(fd, &lc);
	int rc;

	if (s == NULL)
		return -1;
	if (s->kind == SOCK_KIND_TCP)
		return api_tcp_shutdown(lc, s, how);
	if ((rc = udp_shutdown(lc, s, how)) != 0)
		API_FAIL(-rc);
	return 0;
}

int
ph_close(int fd)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_sock(fd, &lc);

	if (s == NULL)
		return -1;
	if (s->kind == SOCK_KIND_UDP)
		udp_close(lc, s);
	else if (s->kind == SOCK_KIND_TCP)
		api_tcp_close(lc, s);
	else
		sock_free(lc, s);
	return 0;
}

int
ph_ioctl(int fd, unsigned long request, ...)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_inet(fd, &lc);
	struct rte_mbuf *m;
	va_list ap;
	int *arg;

	if (s == NULL)
		return -1;
	va_start(ap, request);
	arg = va_arg(ap, int *);
	va_end(ap);
	if (arg == NULL)
		API_FAIL(EFAULT);
	if (s->kind == SOCK_KIND_TCP) {
		int rc = api_tcp_ioctl(s, request, arg);

		if (rc == 0 && request == FIONBIO && s->share == SOCK_SHARE_OWNER)
			tcp_share_listen(lc, s); /* its queues on other workers follow */
		return rc;
	}
	switch (request) {
	case FIONREAD:
		/* Linux's answer for UDP: the size of the next datagram. */
		m = sock_rxq_peek(s);
		*arg = m ? (int)rte_pktmbuf_pkt_len(m) : 0;
		return 0;
	case FIONBIO:
		s->nonblock = *arg != 0;
		return 0;
	default:
		API_FAIL(ENOTTY);
	}
}

int
ph_fcntl(int fd, int cmd, ...)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_sock(fd, &lc);
	va_list ap;
	int arg;

	if (s == NULL)
		return -1;
	switch (cmd) {
	case F_GETFL:
		return O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
	case F_SETFL:
		va_start(ap, cmd);
		arg = va_arg(ap, int);
		va_end(ap);
		s->nonblock = (arg & O_NONBLOCK) != 0;
		if (s->share == SOCK_SHARE_OWNER)
			tcp_share_listen(lc, s); /* its queues on other workers follow */
		return 0;
	default:
		API_FAIL(EINVAL);
	}
}

/* ---- epoll ---- */

int
ph_epoll_create1(int flags)
{
	struct ph_lcore *lc = api_lcore();
	struct ph_sock *ep;

	if (lc == NULL)
		return -1;
	if (flags & ~EPOLL_CLOEXEC)
		API_FAIL(EINVAL);
	ep = sock_alloc(lc, SOCK_KIND_EPOLL);
	return ep ? ep->fd : -1;
}

int
ph_epoll_create(int size)
{
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	return ph_epoll_create1(0);
}

int
ph_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct ph_lcore *lc, *lc2;
	struct ph_sock *ep = api_sock(epfd, &lc), *s;
	int rc;

	if (ep == NULL)
		return -1;
	if (ep->kind != SOCK_KIND_EPOLL)
		API_FAIL(EINVAL);
	s = api_sock(fd, &lc2);
	if (s == NULL)
		return -1;
	if (s == ep || s->kind == SOCK_KIND_EPOLL)
		API_FAIL(EINVAL); /* nesting epoll instances is not supported */
	if (op != EPOLL_CTL_DEL && ev == NULL)
		API_FAIL(EFAULT);
	if ((rc = ep_ctl(ep, op, s, ev)) != 0)
		API_FAIL(-rc);
	return 0;
}

int
ph_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout_ms)
{
	struct ph_lcore *lc;
	struct ph_sock *ep = api_sock(epfd, &lc);
	uint64_t deadline = 0;
	int n;

	if (ep == NULL)
		return -1;
	if (ep->kind != SOCK_KIND_EPOLL || max <= 0)
		API_FAIL(EINVAL);
	if (events == NULL)
		API_FAIL(EFAULT);
	if (timeout_ms > 0)
		deadline = rte_rdtsc() + (uint64_t)timeout_ms * (rte_get_tsc_hz() / 1000);
	/* The stack turns at least once per call: a socket that is always ready
	 * (EPOLLOUT, level-triggered) must not keep the lcore from receiving, nor
	 * the loop from seeing ph_stop(). */
	for (;;) {
		unsigned work;

		if (ph_stopping())
			API_FAIL(EINTR);
		work = ph_lcore_poll(lc);
		if ((n = ep_collect(ep, events, max)) > 0)
			return n;
		if (timeout_ms == 0 || (timeout_ms > 0 && rte_rdtsc() >= deadline))
			return 0;
		if (work == 0)
			ph_lcore_idle(lc);
	}
}

/* ---- zero copy ---- */

ssize_t
ph_zc_recvfrom(int fd, struct ph_zbuf **buf, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_udp(fd, &lc);
	struct rte_mbuf *m;
	uint32_t ip;
	uint16_t port;
	int rc;

	if (s == NULL)
		return -1;
	if (buf == NULL || (from != NULL && fromlen == NULL))
		API_FAIL(EFAULT);
	if (flags & ~MSG_DONTWAIT)
		API_FAIL(EINVAL); /* MSG_PEEK cannot hand over a buffer it leaves queued */
	rc = api_recv_wait(lc, s, flags);
	if (rc <= 0) {
		*buf = NULL;
		return rc;
	}
	m = sock_rxq_pop(s);
	if (from != NULL) {
		udp_peer_of(m, &ip, &port);
		api_put_sin(from, fromlen, ip, port);
	}
	*buf = (struct ph_zbuf *)m;
	return (ssize_t)rte_pktmbuf_pkt_len(m);
}

ssize_t
ph_zc_sendto(int fd, struct ph_zbuf *buf, int flags, const struct sockaddr *to, socklen_t tolen)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_udp(fd, &lc);
	struct rte_mbuf *m = (struct rte_mbuf *)buf;
	uint32_t ip = 0, len;
	uint16_t port = 0;
	int rc;

	(void)flags;
	if (s == NULL)
		return -1;
	if (m == NULL)
		API_FAIL(EFAULT);
	if (to != NULL && (rc = api_sin(to, tolen, &ip, &port)) != 0)
		API_FAIL(-rc);
	len = rte_pktmbuf_pkt_len(m);
	if ((rc = udp_send_mbuf(lc, s, m, to != NULL, ip, port)) != 0)
		API_FAIL(-rc);
	return (ssize_t)len;
}

/* Room in front of the data for Ethernet (with a VLAN tag), IPv4 and UDP. */
#define ZBUF_HEADROOM RTE_PKTMBUF_HEADROOM

size_t
ph_zbuf_max(void)
{
	return api_host ? rte_pktmbuf_data_room_size(api_host->pool) - ZBUF_HEADROOM : 0;
}

struct ph_zbuf *
ph_zbuf_alloc(int fd, size_t len)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_sock(fd, &lc);
	struct rte_mbuf *m;

	if (s == NULL)
		return NULL;
	if (len > ph_zbuf_max()) {
		errno = EMSGSIZE;
		return NULL;
	}
	m = rte_pktmbuf_alloc(api_host->pool);
	if (m == NULL) {
		errno = ENOBUFS;
		return NULL;
	}
	rte_pktmbuf_append(m, (uint16_t)len);
	return (struct ph_zbuf *)m;
}

void
ph_zbuf_free(struct ph_zbuf *buf)
{
	rte_pktmbuf_free((struct rte_mbuf *)buf);
}

size_t
ph_zbuf_len(const struct ph_zbuf *buf)
{
	return buf ? rte_pktmbuf_pkt_len((const struct rte_mbuf *)buf) : 0;
}

void *
ph_zbuf_data(struct ph_zbuf *seg, size_t *seglen)
{
	struct rte_mbuf *m = (struct rte_mbuf *)seg;

	if (m == NULL)
		return NULL;
	if (seglen != NULL)
		*seglen = rte_pktmbuf_data_len(m);
	return rte_pktmbuf_mtod(m, void *);
}

struct ph_zbuf *
ph_zbuf_next(struct ph_zbuf *seg)
{
	return seg ? (struct ph_zbuf *)((struct rte_mbuf *)seg)->next : NULL;
}
