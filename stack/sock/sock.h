/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sockets and epoll instances: the end of the receive path and the start of
 * the send path. A transport (UDP now) hands a datagram to sock_rxq_push() on
 * the socket's owner lcore; the application takes it with a recv call on that
 * same lcore; every change of readiness goes through sock_wakeup() to the epoll
 * instances watching the socket.
 *
 * A socket and an epoll instance belong to the lcore that created them and are
 * only ever touched by it: no locks. Their descriptor says which lcore that is
 * (fd >> SOCK_FD_SHIFT), so a call from another thread is refused, and a
 * packet that arrives on another lcore travels to the owner through its inbox
 * ring (see sock_inbox_poll()).
 */
#ifndef PH_SOCK_SOCK_H
#define PH_SOCK_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <bsd/sys/queue.h>

struct ph_lcore;
struct rte_mbuf;
struct udp_bind;
struct tcp_conn;

#define SOCK_FD_SHIFT 16
#define SOCK_FD_SLOTS (1u << SOCK_FD_SHIFT)

enum sock_share {
	SOCK_SHARE_NONE = 0,
	SOCK_SHARE_OWNER,
	SOCK_SHARE_REPLICA,
};

enum sock_kind {
	SOCK_KIND_FREE = 0,
	SOCK_KIND_UDP,
	SOCK_KIND_TCP,
	SOCK_KIND_EPOLL,
};

/* One socket watched by one epoll instance. */
struct ep_item {
	LIST_ENTRY(ep_item) sock_link;   /* in the socket's ep_items */
	LIST_ENTRY(ep_item) ep_link;     /* in the epoll's ep_all */
	TAILQ_ENTRY(ep_item) ready_link; /* in the epoll's ep_ready when on_ready */
	struct ph_sock *ep, *sock;
	uint32_t events; /* what the application asked for, with EPOLLET/EPOLLONESHOT */
	uint64_t data;   /* epoll_data_t, returned as given */
	bool on_ready;   /* in ep->ep_ready */
	bool disarmed;   /* EPOLLONESHOT fired; EPOLL_CTL_MOD rearms */
};

LIST_HEAD(ep_item_list, ep_item);
TAILQ_HEAD(ep_ready_list, ep_item);

struct ph_sock {
	uint8_t kind; /* enum sock_kind */
	int fd;
	uint16_t owner; /* lcore index */
	uint16_t ctx;   /* routing context */

	/* Datagram state: local and peer addresses and ports in host order. */
	uint32_t laddr; /* bound address, 0 for every address of the context */
	uint16_t lport; /* 0 until bound */
	uint32_t raddr; /* connected peer */
	uint16_t rport;
	uint32_t src; /* the source address a connect chose when laddr is 0 */
	bool connected;
	bool bound_port;  /* the application chose the port (bind with a port) */
	bool bound_bcast; /* laddr is a broadcast address: never a source */
	bool reuseaddr, reuseport, broadcast;
	bool nonblock;
	bool shut_rd, shut_wr;
	uint8_t tos, ttl;
	int so_error;            /* pending error (positive errno), cleared when read */
	uint32_t rcvbuf, sndbuf; /* bytes, as getsockopt reports them */
	struct udp_bind *bind;   /* the host-wide binding it is a member of */
	struct tcp_conn *tcp;    /* SOCK_KIND_TCP: its connection (or listener) */
	/* A host-wide listener (tcp/tcp_share.h): SOCK_SHARE_OWNER on the lcore
	 * that created it, SOCK_SHARE_REPLICA for a worker's accept queue;
	 * share_idx is its registry slot. share_ended: the owner closed it. */
	uint8_t share;
	bool share_ended;
	uint16_t share_idx;
	struct linger linger; /* SO_LINGER as set */

	/* Receive queue: datagrams with data at the payload, headers before it. */
	struct rte_mbuf **rxq;
	uint32_t rxq_cap; /* a power of two */
	uint32_t rxq_head, rxq_tail;
	uint32_t rxq_mem; /* buffer memory held, compared with rcvbuf */
	uint64_t rx_drops;

	struct ep_item_list ep_items; /* epoll instances watching it */

	/* SOCK_KIND_EPOLL */
	struct ep_ready_list ep_ready;
	struct ep_item_list ep_all;
};

/* Every lcore's sockets, by the low bits of their descriptor. */
struct sock_table {
	uint32_t size;
	struct ph_sock **slots;
	uint32_t *free; /* stack of free slots */
	uint32_t n_free;
};

int sock_table_init(struct ph_lcore *lc, uint32_t size);
/* Close everything still open (at shutdown). */
void sock_table_fini(struct ph_lcore *lc);

/* A new socket of KIND owned by LC, or NULL with errno (EMFILE, ENOMEM). */
struct ph_sock *sock_alloc(struct ph_lcore *lc, enum sock_kind kind);
/* Release S: queued datagrams, epoll registrations, the descriptor. */
void sock_free(struct ph_lcore *lc, struct ph_sock *s);

/* The socket FD on LC, or NULL. */
struct ph_sock *sock_get(struct ph_lcore *lc, int fd);

static inline uint16_t
sock_fd_owner(int fd)
{
	return (uint16_t)((unsigned)fd >> SOCK_FD_SHIFT);
}

/* Memory an mbuf chain holds, in the way SO_RCVBUF counts it. */
uint32_t sock_truesize(const struct rte_mbuf *m);

/* Queue M on S if its receive buffer has room; false (M untouched) if not. */
bool sock_rxq_push(struct ph_sock *s, struct rte_mbuf *m);
struct rte_mbuf *sock_rxq_pop(struct ph_sock *s);
struct rte_mbuf *sock_rxq_peek(const struct ph_sock *s);
static inline bool
sock_rxq_empty(const struct ph_sock *s)
{
	return s->rxq_head == s->rxq_tail;
}
/* Resize the queue for a new receive buffer size. 0 or -ENOMEM. */
int sock_rxq_resize(struct ph_sock *s, uint32_t rcvbuf);

/* Readiness of S (EPOLLIN, EPOLLOUT, ...), as poll(2) would report it. */
uint32_t sock_poll(const struct ph_sock *s);
/* S changed state: the epoll instances watching it look again. */
void sock_wakeup(struct ph_sock *s);

/* Packets other lcores sent to sockets of LC (PH_INBOX_*). Returns how many. */
unsigned sock_inbox_poll(struct ph_lcore *lc);
/* Send M to socket FD, owned by another lcore, for OP. false if its inbox is full. */
bool sock_inbox_send(struct ph_lcore *lc, int fd, struct rte_mbuf *m, int op);

/* epoll (Linux semantics). 0 or -errno. */
int ep_ctl(struct ph_sock *ep, int op, struct ph_sock *s, const struct epoll_event *ev);
/* Ready events into OUT, at most MAX. */
int ep_collect(struct ph_sock *ep, struct epoll_event *out, int max);

#endif
