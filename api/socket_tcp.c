/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket calls for SOCK_STREAM (see <polyhost/socket.h>): argument
 * checks, POSIX errno and blocking here; the protocol in stack/tcp. Every
 * call first brings the lcore's TCP clock up to date (tcp_glue_now), since
 * the state machine takes time as an argument.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>

#include <rte_common.h>

#include "api/api.h"
#include "core/host.h"
#include "polyhost/polyhost.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "tcp/tcp_glue.h"
#include "tcp/tcp_share.h"
#include "wire/ipv4.h"

#define API_FAIL(err)                                                                              \
	do {                                                                                       \
		errno = (err);                                                                     \
		return -1;                                                                         \
	} while (0)

/* Largest SO_RCVBUF/SO_SNDBUF accepted for TCP (before doubling). */
#define TCP_API_BUF_MAX (32u << 20)
#define TCP_API_BUF_MIN 4608u /* Linux's SOCK_MIN_RCVBUF-like floor, doubled */
#define TCP_CC_NAME_MAX 16    /* TCP_CONGESTION names: Linux's TCP_CA_NAME_MAX */

int
api_tcp_socket(struct ph_lcore *lc, int type)
{
	struct ph_sock *s = sock_alloc(lc, SOCK_KIND_TCP);

	if (s == NULL)
		return -1;
	s->ctx = api_ctx();
	tcp_glue_now(lc);
	s->tcp = tcp_conn_new(lc->tcp, s->ctx, s);
	if (s->tcp == NULL) {
		int e = errno;

		sock_free(lc, s);
		API_FAIL(e);
	}
	s->nonblock = (type & SOCK_NONBLOCK) != 0;
	return s->fd;
}

#define API_IOV 64

/* MSG's iovec from byte DONE on (a blocking call resumes there), at most
 * API_IOV pieces at a time. Returns how many. */
static int
iov_from(const struct msghdr *msg, size_t done, struct iovec *iov)
{
	int cnt = 0;

	for (size_t i = 0; i < msg->msg_iovlen && cnt < API_IOV; i++) {
		size_t l = msg->msg_iov[i].iov_len;

		if (done >= l) {
			done -= l;
			continue;
		}
		iov[cnt].iov_base = (uint8_t *)msg->msg_iov[i].iov_base + done;
		iov[cnt].iov_len = l - done;
		done = 0;
		cnt++;
	}
	return cnt;
}

static struct ph_sock *
api_tcp(int fd, struct ph_lcore **lc)
{
	struct ph_sock *s = api_sock(fd, lc);

	if (s == NULL)
		return NULL;
	if (s->kind != SOCK_KIND_TCP) {
		errno = s->kind == SOCK_KIND_UDP ? EOPNOTSUPP : ENOTSOCK;
		return NULL;
	}
	tcp_glue_now(*lc);
	return s;
}

int
api_tcp_bind(struct ph_lcore *lc, struct ph_sock *s, const struct sockaddr *addr, socklen_t len)
{
	uint32_t ip;
	uint16_t port;
	int rc;

	tcp_glue_now(lc);
	if ((rc = api_sin(addr, len, &ip, &port)) != 0)
		API_FAIL(-rc);
	if ((rc = tcp_bind(s->tcp, ip, port)) != 0)
		API_FAIL(-rc);
	return 0;
}

int
ph_listen(int fd, int backlog)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_tcp(fd, &lc);
	int rc;

	if (s == NULL)
		return -1;
	if ((rc = tcp_listen(s->tcp, backlog)) != 0)
		API_FAIL(-rc);
	tcp_share_listen(lc, s);
	return 0;
}

static int
acceptable(const struct ph_sock *s)
{
	return s->share_ended || (tcp_poll(s->tcp) & EPOLLIN) != 0;
}

int
ph_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct ph_lcore *lc;
	struct ph_sock *s = api_tcp(fd, &lc), *ns;
	struct tcp_conn *c;

	if (s == NULL)
		return -1;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		API_FAIL(EINVAL);
	if (s->tcp->state != TCPS_LISTEN)
		API_FAIL(EINVAL);
	if (addr != NULL && len == NULL)
		API_FAIL(EFAULT);
	while (TAILQ_EMPTY(&s->tcp->acceptq)) {
		if (s->nonblock) {
			/* A worker's queue of a host-wide listener may end in
			 * this poll: kept until we return (see api_wait). */
			lc->wait_sock = s;
			ph_lcore_poll(lc);
			lc->wait_sock = NULL;
			if (s->share_ended)
				API_FAIL(EINVAL);
			if (TAILQ_EMPTY(&s->tcp->acceptq))
				API_FAIL(EAGAIN);
		} else if (api_wait(lc, s, acceptable) != 0) {
			return -1;
		}
		if (s->share_ended || s->tcp->state != TCPS_LISTEN)
			API_FAIL(EINVAL);
	}
	ns = sock_alloc(lc, SOCK_KIND_TCP);
	if (ns == NULL)
		return -1;
	c = tcp_accept(s->tcp, ns);
	ns->tcp = c;
	ns->ctx = c->ctx;
	ns->nonblock = (flags & SOCK_NONBLOCK) != 0;
	api_put_sin(addr, len, c->raddr, c->rport);
	/* Readiness that came before the socket existed. */
	sock_wakeup(ns);
	return ns->fd;
}

int
ph_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return ph_accept4(fd, addr, len, 0);
}

static int
connect_done(const struct ph_sock *s)
{
	return s->tcp->state != TCPS_SYN_SENT && s->tcp->state != TCPS_SYN_RECEIVED;
}

int
api_tcp_connect(struct ph_lcore *lc, struct ph_sock *s, const struct sockaddr *addr, socklen_t len)
{
	struct tcp_conn *c = s->tcp;
	uint32_t ip;
	uint16_t port;
	int rc;

	tcp_glue_now(lc);
	if (addr != NULL && len >= (socklen_t)sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC)
		API_FAIL(EOPNOTSUPP); /* dissolving a TCP association: not supported */
	if ((rc = api_sin(addr, len, &ip, &port)) != 0)
		API_FAIL(-rc);
	if (c->state == TCPS_LISTEN)
		API_FAIL(EISCONN); /* as Linux */
	rc = tcp_connect(c, ip, port);
	if (rc != -EINPROGRESS)
		API_FAIL(rc == 0 ? EISCONN : -rc);
	if (s->nonblock)
		API_FAIL(EINPROGRESS);
	if (api_wait(lc, s, connect_done) != 0)
		return -1;
	if (c->error != 0) {
		int e = c->error;

		c->error = 0;
		API_FAIL(e);
	}
	return 0;
}

static int
writable(const struct ph_sock *s)
{
	return (tcp_poll(s->tcp) & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0;
}

ssize_t
api_tcp_sendmsg(struct ph_lcore *lc, struct ph_sock *s, const struct msghdr *msg, int flags,
                size_t len)
{
	struct tcp_conn *c = s->tcp;
	struct iovec iov[API_IOV];
	size_t done = 0;
	ssize_t n;

	if (flags & MSG_OOB)
		API_FAIL(EOPNOTSUPP);
	/* An address given to a connection-mode socket is ignored (POSIX,
	 * as Linux does). */
	if (len == 0) {
		tcp_glue_now(lc);
		if (c->error != 0) {
			int e = c->error;

			c->error = 0;
			API_FAIL(e);
		}
		if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED)
			API_FAIL(EAGAIN);
		if (c->state != TCPS_ESTABLISHED && c->state != TCPS_CLOSE_WAIT)
			API_FAIL(EPIPE);
		return 0;
	}
	for (;;) {
		int cnt = iov_from(msg, done, iov);

		tcp_glue_now(lc);
		n = tcp_send(c, iov, cnt, (flags & MSG_MORE) != 0);
		if (n > 0) {
			done += (size_t)n;
			if (done >= len || s->nonblock || (flags & MSG_DONTWAIT))
				return (ssize_t)done;
			continue;
		}
		if (n == -EAGAIN && c->state != TCPS_SYN_SENT && c->state != TCPS_SYN_RECEIVED &&
		    (s->nonblock || (flags & MSG_DONTWAIT))) {
			/* Take the ACKs that have arrived since the last poll. */
			ph_lcore_poll(lc);
			tcp_glue_now(lc);
			n = tcp_send(c, iov, cnt, (flags & MSG_MORE) != 0);
			if (n > 0)
				return (ssize_t)(done + (size_t)n);
		}
		if (n != -EAGAIN) {
			if (done > 0)
				return (ssize_t)done;
			if (n == -c->error)
				c->error = 0;
			API_FAIL((int)-n);
		}
		if (s->nonblock || (flags & MSG_DONTWAIT)) {
			if (done > 0)
				return (ssize_t)done;
			API_FAIL(EAGAIN);
		}
		if (api_wait(lc, s, writable) != 0)
			return done > 0 ? (ssize_t)done : -1;
	}
}

static int
readable(const struct ph_sock *s)
{
	return (tcp_poll(s->tcp) & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0;
}

ssize_t
api_tcp_recvmsg(struct ph_lcore *lc, struct ph_sock *s, struct msghdr *msg, int flags)
{
	struct tcp_conn *c = s->tcp;
	size_t len = 0, done = 0;
	struct iovec iov[API_IOV];
	ssize_t n;

	/* No urgent data is ever held: Linux without SO_OOBINLINE says EINVAL. */
	if (flags & MSG_OOB)
		API_FAIL(EINVAL);
	if (msg->msg_iovlen > IOV_MAX)
		API_FAIL(EMSGSIZE);
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		if (msg->msg_iov[i].iov_len > SSIZE_MAX - len)
			API_FAIL(EINVAL);
		len += msg->msg_iov[i].iov_len;
	}
	if (c->state == TCPS_LISTEN)
		API_FAIL(ENOTCONN);
	msg->msg_flags = 0;
	msg->msg_controllen = 0;
	msg->msg_namelen = 0; /* a stream has no per-message source (Linux) */
	if (len == 0)
		return 0;
	for (;;) {
		int cnt = iov_from(msg, done, iov);

		tcp_glue_now(lc);
		n = tcp_recv(c, iov, cnt, len - done, (flags & MSG_PEEK) != 0);
		if (n == -EAGAIN && (s->nonblock || (flags & MSG_DONTWAIT)) && done == 0) {
			ph_lcore_poll(lc);
			tcp_glue_now(lc);
			n = tcp_recv(c, iov, cnt, len - done, (flags & MSG_PEEK) != 0);
		}
		if (n > 0) {
			done += (size_t)n;
			if (!(flags & MSG_WAITALL) || done >= len || (flags & MSG_PEEK) ||
			    s->nonblock || (flags & MSG_DONTWAIT))
				return (ssize_t)done;
			continue;
		}
		if (n == 0 || (done > 0 && n != -EAGAIN))
			return (ssize_t)done; /* end of stream or an error after some data */
		if (n != -EAGAIN) {
			if (n == -c->error)
				c->error = 0;
			API_FAIL((int)-n);
		}
		if (s->nonblock || (flags & MSG_DONTWAIT))
			API_FAIL(EAGAIN);
		/* MSG_WAITALL with part of it read: wait for the rest. */
		if (api_wait(lc, s, readable) != 0)
			return done > 0 ? (ssize_t)done : -1;
	}
}

int
api_tcp_getname(struct ph_sock *s, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct tcp_conn *c = s->tcp;

	if (peer) {
		if (c->raddr == 0 || c->state == TCPS_LISTEN ||
		    (c->state == TCPS_CLOSED && c->error != 0) || c->state == TCPS_SYN_SENT)
			API_FAIL(ENOTCONN);
		api_put_sin(addr, len, c->raddr, c->rport);
	} else {
		api_put_sin(addr, len, c->laddr, c->lport);
	}
	return 0;
}

static uint32_t
buf_size(int v)
{
	uint32_t u = v < 0 ? 0 : (uint32_t)v;

	u = RTE_MIN(u, TCP_API_BUF_MAX) * 2;
	return RTE_MAX(u, TCP_API_BUF_MIN);
}

static int
tcp_setsockopt(struct ph_lcore *lc, struct ph_sock *s, int level, int name, const void *val,
               socklen_t len)
{
	struct tcp_conn *c = s->tcp;
	int v;

	tcp_glue_now(lc); /* some options arm timers or send at once */
	if (val == NULL)
		API_FAIL(EFAULT);
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l;

		if (len < (socklen_t)sizeof(l))
			API_FAIL(EINVAL);
		memcpy(&l, val, sizeof(l));
		if (l.l_onoff && l.l_linger == 0)
			c->flags |= TF_LINGER0;
		else
			c->flags &= ~TF_LINGER0;
		s->linger = l; /* reported as set; only 0 changes close() */
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		/* A name, not an int: up to 15 bytes of OPTLEN, no NUL needed
		 * (Linux). Any state: a connection starts the new algorithm
		 * from its window; a listener's children inherit it. */
		char cc[TCP_CC_NAME_MAX];
		socklen_t n = RTE_MIN(len, (socklen_t)sizeof(cc) - 1);
		int rc;

		if (len < 1)
			API_FAIL(EINVAL);
		memcpy(cc, val, n);
		cc[n] = '\0';
		if ((rc = tcp_cc_set(c, cc)) != 0)
			API_FAIL(-rc);
		return 0;
	}
	if (len < (socklen_t)sizeof(int))
		API_FAIL(EINVAL);
	memcpy(&v, val, sizeof(v));
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
			c->flags = v ? c->flags | TF_REUSEADDR : c->flags & ~TF_REUSEADDR;
			return 0;
		case SO_REUSEPORT:
			c->flags = v ? c->flags | TF_REUSEPORT : c->flags & ~TF_REUSEPORT;
			return 0;
		case SO_KEEPALIVE:
			tcp_set_keepalive(c, v != 0);
			return 0;
		case SO_RCVBUF:
		case SO_SNDBUF:
			tcp_set_bufsize(c, name == SO_RCVBUF, buf_size(v));
			return 0;
		default:
			API_FAIL(ENOPROTOOPT);
		}
	}
	if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			tcp_set_nodelay(c, v != 0);
			return 0;
		case TCP_CORK:
			tcp_set_cork(c, v != 0);
			return 0;
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
			if (v < 1 || v > 32767)
				API_FAIL(EINVAL);
			if (name == TCP_KEEPIDLE)
				c->keepidle_ms = (uint32_t)v * 1000;
			else
				c->keepintvl_ms = (uint32_t)v * 1000;
			tcp_keep_arm(c);
			return 0;
		case TCP_KEEPCNT:
			if (v < 1 || v > 127)
				API_FAIL(EINVAL);
			c->keepcnt = (uint32_t)v;
			return 0;
		case TCP_USER_TIMEOUT:
			if (v < 0)
				API_FAIL(EINVAL);
			c->user_timeout_ms = (uint32_t)v;
			return 0;
		case TCP_MAXSEG:
			if (v < 88 || v > 65495)
				API_FAIL(EINVAL);
			if (c->state != TCPS_CLOSED && c->state != TCPS_LISTEN)
				return 0; /* as Linux: only before the connection starts */
			c->adv_mss = (uint16_t)v;
			c->flags |= TF_USER_MSS;
			return 0;
		default:
			API_FAIL(ENOPROTOOPT);
		}
	}
	if (level == IPPROTO_IP) {
		int rc = api_ip_setopt(name, v, &c->tos, &c->ttl);

		if (rc != 0)
			API_FAIL(-rc);
		return 0;
	}
	if (level == PH_SOL_POLYHOST && name == PH_SO_CONTEXT) {
		if (v != PH_CTX_ANY && (v < 0 || v >= PH_MAX_CTX || api_host->ctxs[v] == NULL))
			API_FAIL(ENODEV);
		if (c->state != TCPS_CLOSED || (c->flags & TF_BOUND))
			API_FAIL(EISCONN);
		c->ctx = v == PH_CTX_ANY ? TCP_CTX_ANY : (uint16_t)v;
		s->ctx = c->ctx;
		return 0;
	}
	API_FAIL(ENOPROTOOPT);
}

int
api_tcp_setsockopt(struct ph_lcore *lc, struct ph_sock *s, int level, int name, const void *val,
                   socklen_t len)
{
	int rc = tcp_setsockopt(lc, s, level, name, val, len);

	/* A host-wide listener's queues on the other workers follow. */
	if (rc == 0 && s->share == SOCK_SHARE_OWNER)
		tcp_share_listen(lc, s);
	return rc;
}

int
api_tcp_getsockopt(struct ph_lcore *lc, struct ph_sock *s, int level, int name, void *val,
                   socklen_t *len)
{
	struct tcp_conn *c = s->tcp;
	int v;

	tcp_glue_now(lc); /* TCP_INFO reports times relative to now */
	if (val == NULL || len == NULL)
		API_FAIL(EFAULT);
	if (level == IPPROTO_TCP && name == TCP_INFO) {
		struct tcp_info ti;

		tcp_get_info(c, &ti);
		*len = RTE_MIN(*len, (socklen_t)sizeof(ti));
		memcpy(val, &ti, *len);
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		/* The name NUL-padded to min(OPTLEN, 16) bytes (Linux). */
		char cc[TCP_CC_NAME_MAX] = "";

		memcpy(cc, c->cc->name, strnlen(c->cc->name, sizeof(cc) - 1));
		*len = RTE_MIN(*len, (socklen_t)sizeof(cc));
		memcpy(val, cc, *len);
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l = s->linger;

		*len = RTE_MIN(*len, (socklen_t)sizeof(l));
		memcpy(val, &l, *len);
		return 0;
	}
	if (*len < (socklen_t)sizeof(int))
		API_FAIL(EINVAL);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
			v = (c->flags & TF_REUSEADDR) != 0;
			break;
		case SO_REUSEPORT:
			v = (c->flags & TF_REUSEPORT) != 0;
			break;
		case SO_KEEPALIVE:
			v = (c->flags & TF_KEEPALIVE) != 0;
			break;
		case SO_RCVBUF:
			v = (int)c->rcvbuf;
			break;
		case SO_SNDBUF:
			v = (int)c->sndbuf;
			break;
		case SO_ERROR:
			v = c->error;
			c->error = 0;
			break;
		case SO_TYPE:
			v = SOCK_STREAM;
			break;
		case SO_ACCEPTCONN:
			v = c->state == TCPS_LISTEN;
			break;
		default:
			API_FAIL(ENOPROTOOPT);
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			v = (c->flags & TF_NODELAY) != 0;
			break;
		case TCP_CORK:
			v = (c->flags & TF_CORK) != 0;
			break;
		case TCP_KEEPIDLE:
			v = (int)(c->keepidle_ms / 1000);
			break;
		case TCP_KEEPINTVL:
			v = (int)(c->keepintvl_ms / 1000);
			break;
		case TCP_KEEPCNT:
			v = (int)c->keepcnt;
			break;
		case TCP_USER_TIMEOUT:
			v = (int)c->user_timeout_ms;
			break;
		case TCP_MAXSEG:
			v = c->state >= TCPS_ESTABLISHED ? (int)tcp_data_mss(c)
			                                 : (c->adv_mss ? c->adv_mss : 536);
			break;
		default:
			API_FAIL(ENOPROTOOPT);
		}
	} else if (level == IPPROTO_IP) {
		if ((v = api_ip_getopt(name, c->tos, c->ttl)) < 0)
			API_FAIL(-v);
	} else if (level == PH_SOL_POLYHOST && name == PH_SO_CONTEXT) {
		v = c->ctx == TCP_CTX_ANY ? PH_CTX_ANY : c->ctx;
	} else {
		API_FAIL(ENOPROTOOPT);
	}
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

int
api_tcp_shutdown(struct ph_lcore *lc, struct ph_sock *s, int how)
{
	int rc;

	tcp_glue_now(lc);
	if ((rc = tcp_shutdown(s->tcp, how)) != 0)
		API_FAIL(-rc);
	return 0;
}

void
api_tcp_close(struct ph_lcore *lc, struct ph_sock *s)
{
	tcp_share_close(lc, s);
	tcp_glue_now(lc);
	tcp_close(s->tcp);
	s->tcp = NULL;
	sock_free(lc, s);
}

int
api_tcp_ioctl(struct ph_sock *s, unsigned long request, int *arg)
{
	switch (request) {
	case FIONREAD:
		if (s->tcp->state == TCPS_LISTEN)
			API_FAIL(EINVAL);
		*arg = (int)tcp_readable(s->tcp);
		return 0;
	case TIOCOUTQ:
		*arg = (int)s->tcp->sbuf.len;
		return 0;
	case FIONBIO:
		s->nonblock = *arg != 0;
		return 0;
	default:
		API_FAIL(ENOTTY);
	}
}
