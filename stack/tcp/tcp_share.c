/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host-wide listeners (see tcp_share.h): the registry the owner writes, and
 * each worker's replicas of what it holds. Sits beside the socket calls, on
 * the control path: listen(), setsockopt(), close() and the first turn of a
 * worker's poll after one of them.
 */
#include <errno.h>
#include <string.h>

#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_spinlock.h>

#include "core/host.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "tcp/tcp_glue.h"
#include "tcp/tcp_share.h"

/* What a worker needs to open a replica, as the owner last published it. */
struct share_rec {
	int fd;       /* the owner's descriptor; -1: the slot is free */
	uint64_t id;  /* which listener: never reused, so a new one in a reused slot is new */
	uint32_t gen; /* moves with every change of what follows */
	uint16_t ctx;
	uint32_t laddr;
	uint16_t lport;
	uint32_t backlog;
	bool nonblock; /* O_NONBLOCK belongs to the descriptor: every queue follows */
	struct tcp_conn_opts opts;
};

struct tcp_share {
	rte_spinlock_t lock;
	uint64_t next_id;
	struct share_rec rec[TCP_SHARE_MAX];
};

/* One worker's view of a slot. */
struct share_local {
	uint64_t id;          /* the listener it follows; 0: none */
	int fd;               /* its owner's descriptor */
	uint32_t gen;         /* the options it last applied */
	bool declined;        /* this worker closed the descriptor: no queue here */
	bool refused;         /* its stack would not open the replica */
	struct ph_sock *sock; /* the replica, or NULL */
};

struct tcp_share_lcore {
	struct share_local q[TCP_SHARE_MAX];
	struct share_rec snap[TCP_SHARE_MAX]; /* the registry, copied under its lock */
};

int
tcp_share_host_init(struct ph_host *h)
{
	h->tcp_share = rte_zmalloc("ph_tcp_share", sizeof(*h->tcp_share), 0);
	if (h->tcp_share == NULL)
		return -ENOMEM;
	rte_spinlock_init(&h->tcp_share->lock);
	h->tcp_share->next_id = 1;
	for (unsigned i = 0; i < TCP_SHARE_MAX; i++)
		h->tcp_share->rec[i].fd = -1;
	return 0;
}

void
tcp_share_host_fini(struct ph_host *h)
{
	rte_free(h->tcp_share);
	h->tcp_share = NULL;
}

int
tcp_share_lcore_init(struct ph_lcore *lc)
{
	lc->tcp_share = rte_zmalloc("ph_tcp_share_lc", sizeof(*lc->tcp_share), 0);
	return lc->tcp_share == NULL ? -ENOMEM : 0;
}

void
tcp_share_lcore_fini(struct ph_lcore *lc)
{
	/* The replicas themselves went with the lcore's socket table. */
	rte_free(lc->tcp_share);
	lc->tcp_share = NULL;
}

static void
share_changed(struct ph_host *h)
{
	__atomic_fetch_add(&h->tcp_share_epoch, 1, __ATOMIC_RELEASE);
}

void
tcp_share_listen(struct ph_lcore *lc, struct ph_sock *s)
{
	struct ph_host *h = lc->host;
	struct tcp_share *sh = h->tcp_share;
	const struct tcp_conn *c = s->tcp;
	struct share_rec *r = NULL;

	if (s->share == SOCK_SHARE_REPLICA || c->state != TCPS_LISTEN)
		return;
	if (s->share == SOCK_SHARE_NONE && (h->n_workers < 2 || (c->flags & TF_REUSEPORT)))
		return; /* one worker has all flows; SO_REUSEPORT: the application spreads */
	rte_spinlock_lock(&sh->lock);
	if (s->share == SOCK_SHARE_OWNER) {
		r = &sh->rec[s->share_idx];
	} else {
		for (unsigned i = 0; i < TCP_SHARE_MAX && r == NULL; i++)
			if (sh->rec[i].fd < 0) {
				r = &sh->rec[i];
				r->fd = s->fd;
				r->id = sh->next_id++;
				s->share = SOCK_SHARE_OWNER;
				s->share_idx = (uint16_t)i;
			}
	}
	if (r != NULL) {
		r->gen++;
		r->ctx = c->ctx;
		r->laddr = c->laddr;
		r->lport = c->lport;
		r->backlog = c->backlog;
		r->nonblock = s->nonblock;
		tcp_opts_get(c, &r->opts);
	}
	rte_spinlock_unlock(&sh->lock);
	if (r == NULL) {
		/* It still serves the host, through the lcores' inboxes. */
		ph_mib(lc, PH_MIB_tcp_share_full);
		return;
	}
	share_changed(h);
}

void
tcp_share_close(struct ph_lcore *lc, struct ph_sock *s)
{
	struct ph_host *h = lc->host;
	struct tcp_share *sh = h->tcp_share;

	if (s->share == SOCK_SHARE_REPLICA) {
		struct share_local *q = &lc->tcp_share->q[s->share_idx];

		if (q->sock == s) {
			q->sock = NULL;
			q->declined = true;
		}
	} else if (s->share == SOCK_SHARE_OWNER) {
		rte_spinlock_lock(&sh->lock);
		sh->rec[s->share_idx].fd = -1;
		sh->rec[s->share_idx].gen++;
		rte_spinlock_unlock(&sh->lock);
		share_changed(h);
	}
	s->share = SOCK_SHARE_NONE;
}

/* What the owner last published, onto replica S: both at its opening and
 * after every change, so the socket-level copies never go stale. */
static void
replica_apply(struct ph_sock *s, const struct share_rec *r)
{
	tcp_opts_set(s->tcp, &r->opts);
	s->rcvbuf = r->opts.rcvbuf;
	s->sndbuf = r->opts.sndbuf;
	s->nonblock = r->nonblock;
}

/* Open LC's replica of R in slot I. NULL when its stack refuses it (a
 * listener of its own holds the port): counted, and the slot's flows then
 * go where other listeners are. */
static struct ph_sock *
replica_open(struct ph_lcore *lc, unsigned i, const struct share_rec *r)
{
	struct ph_sock *s = sock_alloc(lc, SOCK_KIND_TCP);
	int rc = -ENOMEM;

	if (s == NULL)
		goto fail;
	s->ctx = r->ctx;
	tcp_glue_now(lc);
	s->tcp = tcp_conn_new(lc->tcp, s->ctx, s);
	if (s->tcp == NULL)
		goto fail;
	replica_apply(s, r);
	if ((rc = tcp_bind(s->tcp, r->laddr, r->lport)) != 0 ||
	    (rc = tcp_listen(s->tcp, (int)r->backlog)) != 0)
		goto fail;
	s->share = SOCK_SHARE_REPLICA;
	s->share_idx = (uint16_t)i;
	return s;
fail:
	if (s != NULL) {
		if (s->tcp != NULL)
			tcp_close(s->tcp);
		s->tcp = NULL;
		sock_free(lc, s);
	}
	RTE_LOG(WARNING, USER1, "lcore %u: no accept queue for listener on port %u: %s\n",
	        lc->index, r->lport, strerror(-rc));
	ph_mib(lc, PH_MIB_tcp_share_refused);
	return NULL;
}

static void
replica_close(struct ph_lcore *lc, struct ph_sock *s)
{
	tcp_glue_now(lc);
	tcp_close(s->tcp);
	s->tcp = NULL;
	s->share = SOCK_SHARE_NONE;
	sock_free(lc, s);
}

void
tcp_share_sync(struct ph_lcore *lc)
{
	struct ph_host *h = lc->host;
	struct tcp_share *sh = h->tcp_share;
	struct share_local *q = lc->tcp_share->q;
	uint32_t epoch = __atomic_load_n(&h->tcp_share_epoch, __ATOMIC_ACQUIRE);
	struct share_rec *rs = lc->tcp_share->snap;
	bool again = false;

	if (!lc->is_worker) {
		lc->tcp_share_seen = epoch; /* only workers receive flows */
		return;
	}
	rte_spinlock_lock(&sh->lock);
	memcpy(rs, sh->rec, sizeof(sh->rec));
	rte_spinlock_unlock(&sh->lock);
	/* Ended listeners first: a new one may take the same port in
	 * another slot, and its replica's bind must find the port free. */
	for (unsigned i = 0; i < TCP_SHARE_MAX; i++) {
		const struct share_rec *r = &rs[i];
		bool live = r->fd >= 0 && sock_fd_owner(r->fd) != lc->index;

		if (q[i].id != 0 && (!live || q[i].id != r->id)) {
			/* Its listener ended. A blocking accept on the replica
			 * must see that first: it is freed on a later turn. */
			if (q[i].sock != NULL && q[i].sock == lc->wait_sock) {
				q[i].sock->share_ended = true;
				again = true;
				continue;
			}
			if (q[i].sock != NULL)
				replica_close(lc, q[i].sock);
			q[i] = (struct share_local){0};
		}
	}
	for (unsigned i = 0; i < TCP_SHARE_MAX; i++) {
		const struct share_rec *r = &rs[i];
		bool live = r->fd >= 0 && sock_fd_owner(r->fd) != lc->index;

		if (!live || (q[i].id != 0 && q[i].id != r->id))
			continue; /* free, ours, or an ended one a wait still holds */
		if (q[i].id == 0) {
			q[i].id = r->id;
			q[i].fd = r->fd;
			q[i].gen = r->gen;
			q[i].sock = replica_open(lc, i, r);
			q[i].refused = q[i].declined = q[i].sock == NULL;
		} else if (q[i].gen != r->gen) {
			q[i].gen = r->gen;
			if (q[i].sock != NULL) {
				replica_apply(q[i].sock, r);
				tcp_listen(q[i].sock->tcp, (int)r->backlog);
			}
		}
	}
	/* Seen, unless something waits for a later turn. */
	lc->tcp_share_seen = again ? epoch - 1 : epoch;
}

struct ph_sock *
tcp_share_find(struct ph_lcore *lc, int fd)
{
	const struct share_local *q = lc->tcp_share->q;

	if (__atomic_load_n(&lc->host->tcp_share_epoch, __ATOMIC_ACQUIRE) != lc->tcp_share_seen)
		tcp_share_sync(lc);
	for (unsigned i = 0; i < TCP_SHARE_MAX; i++) {
		if (q[i].id == 0 || q[i].fd != fd)
			continue;
		if (q[i].declined || q[i].sock == NULL || q[i].sock->share_ended) {
			errno = q[i].refused ? EADDRINUSE : EBADF; /* or closed here, or ended */
			return NULL;
		}
		return q[i].sock;
	}
	errno = EPERM; /* another lcore's socket, as rule 2 says */
	return NULL;
}
