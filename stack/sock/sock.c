/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket table, receive queues, readiness and epoll (see sock.h). Everything
 * here runs on the socket's owner lcore, except sock_inbox_send(), which any
 * lcore calls to reach the owner.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "core/host.h"
#include "core/pkt.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "tcp/tcp_glue.h"
#include "udp/udp.h"

/* A receive queue holds at most this many datagrams per byte of rcvbuf: each
 * datagram costs at least one mbuf, which is what SO_RCVBUF counts. */
#define SOCK_MIN_TRUESIZE 2048u

int
sock_table_init(struct ph_lcore *lc, uint32_t size)
{
	struct sock_table *t = &lc->socks;

	if (size > SOCK_FD_SLOTS)
		size = SOCK_FD_SLOTS;
	t->slots = rte_zmalloc("ph_socks", size * sizeof(*t->slots), 0);
	t->free = rte_malloc("ph_sock_free", size * sizeof(*t->free), 0);
	if (t->slots == NULL || t->free == NULL)
		return -ENOMEM;
	t->size = size;
	/* Lowest descriptors first, as POSIX hands them out. */
	for (uint32_t i = 0; i < size; i++)
		t->free[i] = size - 1 - i;
	t->n_free = size;
	return 0;
}

void
sock_table_fini(struct ph_lcore *lc)
{
	struct sock_table *t = &lc->socks;

	/* Epoll instances first, so that closing a socket finds no watcher left. */
	for (int pass = 0; pass < 2 && t->slots != NULL; pass++)
		for (uint32_t i = 0; i < t->size; i++) {
			struct ph_sock *s = t->slots[i];

			if (s == NULL || (pass == 0) != (s->kind == SOCK_KIND_EPOLL))
				continue;
			if (s->kind == SOCK_KIND_UDP) {
				udp_close(lc, s);
			} else {
				if (s->kind == SOCK_KIND_TCP && s->tcp != NULL) {
					tcp_glue_now(lc);
					tcp_close(s->tcp);
				}
				sock_free(lc, s);
			}
		}
	rte_free(t->slots);
	rte_free(t->free);
	memset(t, 0, sizeof(*t));
}

struct ph_sock *
sock_alloc(struct ph_lcore *lc, enum sock_kind kind)
{
	struct sock_table *t = &lc->socks;
	struct ph_sock *s;
	uint32_t slot;

	if (t->n_free == 0) {
		errno = EMFILE;
		return NULL;
	}
	s = rte_zmalloc("ph_sock", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	slot = t->free[--t->n_free];
	s->kind = (uint8_t)kind;
	s->fd = (int)((uint32_t)lc->index << SOCK_FD_SHIFT | slot);
	s->owner = lc->index;
	LIST_INIT(&s->ep_items);
	TAILQ_INIT(&s->ep_ready);
	LIST_INIT(&s->ep_all);
	t->slots[slot] = s;
	return s;
}

static void
ep_item_free(struct ep_item *it)
{
	if (it->on_ready)
		TAILQ_REMOVE(&it->ep->ep_ready, it, ready_link);
	LIST_REMOVE(it, sock_link);
	LIST_REMOVE(it, ep_link);
	free(it);
}

void
sock_free(struct ph_lcore *lc, struct ph_sock *s)
{
	struct sock_table *t = &lc->socks;
	uint32_t slot = (uint32_t)s->fd & (SOCK_FD_SLOTS - 1);
	struct rte_mbuf *m;

	while ((m = sock_rxq_pop(s)) != NULL)
		rte_pktmbuf_free(m);
	while (!LIST_EMPTY(&s->ep_items))
		ep_item_free(LIST_FIRST(&s->ep_items));
	while (!LIST_EMPTY(&s->ep_all))
		ep_item_free(LIST_FIRST(&s->ep_all));
	rte_free(s->rxq);
	t->slots[slot] = NULL;
	t->free[t->n_free++] = slot;
	rte_free(s);
}

struct ph_sock *
sock_get(struct ph_lcore *lc, int fd)
{
	uint32_t slot = (uint32_t)fd & (SOCK_FD_SLOTS - 1);

	if (fd < 0 || sock_fd_owner(fd) != lc->index || slot >= lc->socks.size)
		return NULL;
	return lc->socks.slots[slot];
}

uint32_t
sock_truesize(const struct rte_mbuf *m)
{
	uint32_t n = 0;

	for (; m != NULL; m = m->next)
		n += (uint32_t)m->buf_len + (uint32_t)sizeof(struct rte_mbuf);
	return n;
}

int
sock_rxq_resize(struct ph_sock *s, uint32_t rcvbuf)
{
	uint32_t cap = rte_align32pow2(rcvbuf / SOCK_MIN_TRUESIZE + 2);
	uint32_t n = s->rxq_tail - s->rxq_head;
	struct rte_mbuf **q;

	if (cap <= s->rxq_cap) {
		s->rcvbuf = rcvbuf;
		return 0;
	}
	q = rte_malloc("ph_sock_rxq", cap * sizeof(*q), 0);
	if (q == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		q[i] = s->rxq[(s->rxq_head + i) & (s->rxq_cap - 1)];
	rte_free(s->rxq);
	s->rxq = q;
	s->rxq_cap = cap;
	s->rxq_head = 0;
	s->rxq_tail = n;
	s->rcvbuf = rcvbuf;
	return 0;
}

bool
sock_rxq_push(struct ph_sock *s, struct rte_mbuf *m)
{
	uint32_t size = sock_truesize(m);

	/* Like Linux: refused once what is held exceeds the buffer, so one
	 * datagram larger than the buffer still gets through to an empty queue. */
	if (s->rxq_mem >= s->rcvbuf || s->rxq_tail - s->rxq_head == s->rxq_cap) {
		s->rx_drops++;
		return false;
	}
	s->rxq[s->rxq_tail++ & (s->rxq_cap - 1)] = m;
	s->rxq_mem += size;
	return true;
}

struct rte_mbuf *
sock_rxq_pop(struct ph_sock *s)
{
	struct rte_mbuf *m;

	if (sock_rxq_empty(s))
		return NULL;
	m = s->rxq[s->rxq_head++ & (s->rxq_cap - 1)];
	s->rxq_mem -= sock_truesize(m);
	return m;
}

struct rte_mbuf *
sock_rxq_peek(const struct ph_sock *s)
{
	return sock_rxq_empty(s) ? NULL : s->rxq[s->rxq_head & (s->rxq_cap - 1)];
}

uint32_t
sock_poll(const struct ph_sock *s)
{
	uint32_t ev = 0;

	if (s->kind == SOCK_KIND_EPOLL)
		return TAILQ_EMPTY(&s->ep_ready) ? 0 : EPOLLIN | EPOLLRDNORM;
	if (s->kind == SOCK_KIND_TCP)
		return tcp_poll(s->tcp);
	if (!sock_rxq_empty(s))
		ev |= EPOLLIN | EPOLLRDNORM;
	if (s->shut_rd)
		ev |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (s->shut_rd && s->shut_wr)
		ev |= EPOLLHUP;
	if (s->so_error != 0)
		ev |= EPOLLERR;
	/* A datagram is copied out at once: there is always room to send. */
	ev |= EPOLLOUT | EPOLLWRNORM;
	return ev;
}

static void
ep_mark_ready(struct ep_item *it)
{
	if (it->on_ready || it->disarmed)
		return;
	TAILQ_INSERT_TAIL(&it->ep->ep_ready, it, ready_link);
	it->on_ready = true;
}

void
sock_wakeup(struct ph_sock *s)
{
	struct ep_item *it;

	/* Edge-triggered watchers need every arrival, not only the first. */
	LIST_FOREACH(it, &s->ep_items, sock_link)
	ep_mark_ready(it);
}

int
ep_ctl(struct ph_sock *ep, int op, struct ph_sock *s, const struct epoll_event *ev)
{
	struct ep_item *it;

	LIST_FOREACH(it, &s->ep_items, sock_link)
	if (it->ep == ep)
		break;
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it != NULL)
			return -EEXIST;
		it = calloc(1, sizeof(*it));
		if (it == NULL)
			return -ENOMEM;
		it->ep = ep;
		it->sock = s;
		LIST_INSERT_HEAD(&s->ep_items, it, sock_link);
		LIST_INSERT_HEAD(&ep->ep_all, it, ep_link);
		break;
	case EPOLL_CTL_MOD:
		if (it == NULL)
			return -ENOENT;
		it->disarmed = false;
		break;
	case EPOLL_CTL_DEL:
		if (it == NULL)
			return -ENOENT;
		ep_item_free(it);
		return 0;
	default:
		return -EINVAL;
	}
	it->events = ev->events;
	it->data = ev->data.u64;
	/* As in Linux, a socket that is ready when added (or modified) reports at once. */
	if (sock_poll(s) & (it->events | EPOLLERR | EPOLLHUP))
		ep_mark_ready(it);
	return 0;
}

int
ep_collect(struct ph_sock *ep, struct epoll_event *out, int max)
{
	struct ep_ready_list batch = TAILQ_HEAD_INITIALIZER(batch);
	struct ep_item *it;
	int n = 0;

	/* Take the list as it is: level-triggered items go back to the tail of
	 * the real list and are looked at again next time, not in this pass. */
	TAILQ_CONCAT(&batch, &ep->ep_ready, ready_link);
	while (n < max && (it = TAILQ_FIRST(&batch)) != NULL) {
		uint32_t rev;

		TAILQ_REMOVE(&batch, it, ready_link);
		it->on_ready = false;
		rev = sock_poll(it->sock) & (it->events | EPOLLERR | EPOLLHUP);
		if (rev == 0)
			continue;
		out[n].events = rev;
		out[n].data.u64 = it->data;
		n++;
		if (it->events & EPOLLONESHOT)
			it->disarmed = true;
		else if (!(it->events & EPOLLET))
			ep_mark_ready(it);
	}
	/* What did not fit stays ready, ahead of what was re-queued. */
	while ((it = TAILQ_LAST(&batch, ep_ready_list)) != NULL) {
		TAILQ_REMOVE(&batch, it, ready_link);
		TAILQ_INSERT_HEAD(&ep->ep_ready, it, ready_link);
	}
	return n;
}

bool
sock_inbox_send(struct ph_lcore *lc, int fd, struct rte_mbuf *m, int op)
{
	struct ph_host *h = lc->host;
	uint16_t owner = sock_fd_owner(fd);
	struct ph_pkt_meta *meta = ph_pkt_meta(m);

	meta->lead_op = (uint8_t)op;
	meta->sock = fd;
	if (owner >= h->n_lcores || rte_ring_mp_enqueue(h->lcores[owner]->inbox, m) != 0)
		return false;
	ph_mib(lc, PH_MIB_sockInboxOut);
	return true;
}

unsigned
sock_inbox_poll(struct ph_lcore *lc)
{
	struct rte_mbuf *pkts[PH_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(lc->inbox, (void **)pkts, PH_BURST, NULL);

	ph_mib_add(&lc->ctr, PH_MIB_sockInboxIn, n);
	for (unsigned i = 0; i < n; i++) {
		struct ph_pkt_meta *meta = ph_pkt_meta(pkts[i]);

		if (meta->lead_op == PH_INBOX_SOCK_DATA)
			udp_deliver(lc, meta->sock, pkts[i]);
		else if (meta->lead_op == PH_INBOX_SOCK_ERROR)
			udp_sock_error(lc, meta->sock, pkts[i]);
		else if (meta->lead_op == PH_INBOX_TCP_SEG || meta->lead_op == PH_INBOX_TCP_ICMP)
			tcp_inbox_input(lc, pkts[i]);
		else
			ph_drop(lc, pkts[i], PH_DROP_LEAD_BAD_REQUEST);
	}
	return n;
}
