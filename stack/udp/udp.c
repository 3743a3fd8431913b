/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP input, output, bindings and ICMP errors (see udp.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bsd/stdlib.h>
#define __unused __attribute__((unused))
#include <bsd/sys/tree.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>
#include <rte_udp.h>

#include "core/host.h"
#include "core/pkt.h"
#include "flow/flow.h"
#include "host/host.h"
#include "ipv4/ipv4.h"
#include "sock/sock.h"
#include "udp/udp.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

struct udp_key {
	uint32_t ip; /* host order, 0 for a wildcard bind */
	uint16_t port;
	uint16_t ctx;
};

struct udp_member {
	int32_t fd;
	uint16_t lcore;
	uint16_t rport; /* connected peer, 0 if none */
	uint32_t raddr;
	bool reuseaddr, reuseport;
};

/* One (context, address, port): never changed once published; replaced. */
struct udp_bind {
	RB_ENTRY(udp_bind) node;
	struct udp_key key;
	uint16_t n;
	struct udp_member m[];
};

static int
udp_bind_cmp(const struct udp_bind *a, const struct udp_bind *b)
{
	if (a->key.ctx != b->key.ctx)
		return a->key.ctx < b->key.ctx ? -1 : 1;
	if (a->key.port != b->key.port)
		return a->key.port < b->key.port ? -1 : 1;
	if (a->key.ip != b->key.ip)
		return a->key.ip < b->key.ip ? -1 : 1;
	return 0;
}

RB_HEAD(udp_tree, udp_bind);
RB_GENERATE_STATIC(udp_tree, udp_bind, node, udp_bind_cmp)

struct udp_host {
	rte_spinlock_t lock;  /* writers: bind, connect, close */
	struct rte_hash *tbl; /* key -> struct udp_bind *: lock-free readers */
	struct udp_tree tree; /* the same bindings by (ctx, port, ip), under lock */
};

int
udp_init(struct ph_host *h)
{
	struct rte_hash_parameters hp = {
	        .name = "ph_udp",
	        .entries = 65536,
	        .key_len = sizeof(struct udp_key),
	        .hash_func = rte_jhash,
	        .socket_id = SOCKET_ID_ANY,
	        .extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash_rcu_config rcu = {.v = h->qsbr, .mode = RTE_HASH_QSBR_MODE_DQ};
	struct udp_host *u = rte_zmalloc("ph_udp", sizeof(*u), 0);

	if (u == NULL)
		return -ENOMEM;
	rte_spinlock_init(&u->lock);
	RB_INIT(&u->tree);
	u->tbl = rte_hash_create(&hp);
	if (u->tbl == NULL || rte_hash_rcu_qsbr_add(u->tbl, &rcu) != 0) {
		rte_hash_free(u->tbl);
		rte_free(u);
		return -rte_errno;
	}
	h->udp = u;
	return 0;
}

void
udp_fini(struct ph_host *h)
{
	struct udp_host *u = h->udp;
	struct udp_bind *b, *next;

	if (u == NULL)
		return;
	RB_FOREACH_SAFE(b, udp_tree, &u->tree, next)
	{
		RB_REMOVE(udp_tree, &u->tree, b);
		free(b);
	}
	rte_hash_free(u->tbl);
	rte_free(u);
	h->udp = NULL;
}

/* ---- bindings (writers hold u->lock) ---- */

static struct udp_bind *
udp_bind_find(struct udp_host *u, uint16_t ctx, uint32_t ip, uint16_t port)
{
	struct udp_bind k = {.key = {.ip = ip, .port = port, .ctx = ctx}};

	return RB_FIND(udp_tree, &u->tree, &k);
}

/* A writer's turn: the lock, and the entries it replaced. They are freed
 * after every reader has moved on, and only once the lock is released: waiting
 * for readers with the lock held would wait for an lcore that is itself
 * spinning on the lock, never to report its quiescence. */
struct udp_writer {
	struct ph_host *h;
	struct udp_bind *retired[4];
	unsigned n_retired;
};

static void
udp_wr_lock(struct udp_writer *w, struct ph_host *h)
{
	w->h = h;
	w->n_retired = 0;
	rte_spinlock_lock(&h->udp->lock);
}

static void
udp_wr_unlock(struct udp_writer *w)
{
	rte_spinlock_unlock(&w->h->udp->lock);
	for (unsigned i = 0; i < w->n_retired; i++)
		ph_defer_free(w->h, w->retired[i]);
}

/* Publish NEW in place of OLD (either may be NULL); OLD is retired. */
static int
udp_bind_replace(struct udp_writer *w, struct udp_bind *old, struct udp_bind *new)
{
	struct udp_host *u = w->h->udp;
	int rc;

	if (new != NULL) {
		rc = rte_hash_add_key_data(u->tbl, &new->key, new);
		if (rc != 0) {
			free(new);
			return rc;
		}
		if (old != NULL)
			RB_REMOVE(udp_tree, &u->tree, old);
		RB_INSERT(udp_tree, &u->tree, new);
	} else if (old != NULL) {
		rte_hash_del_key(u->tbl, &old->key);
		RB_REMOVE(udp_tree, &u->tree, old);
	}
	if (old != NULL) {
		RTE_ASSERT(w->n_retired < RTE_DIM(w->retired));
		w->retired[w->n_retired++] = old;
	}
	return 0;
}

static struct udp_bind *
udp_bind_copy(const struct udp_bind *b, const struct udp_key *key, uint16_t n)
{
	struct udp_bind *c = calloc(1, sizeof(*c) + n * sizeof(c->m[0]));

	if (c == NULL)
		return NULL;
	c->key = *key;
	if (b != NULL) {
		c->n = RTE_MIN(b->n, n);
		memcpy(c->m, b->m, c->n * sizeof(c->m[0]));
	}
	return c;
}

static int
udp_member_index(const struct udp_bind *b, int fd)
{
	for (int i = 0; b != NULL && i < b->n; i++)
		if (b->m[i].fd == fd)
			return i;
	return -1;
}

/* Would S bound to IP:PORT clash with a binding already there? Linux's rule:
 * overlapping addresses (equal, or either a wildcard) may share a port only if
 * both sides set SO_REUSEADDR, or both set SO_REUSEPORT. */
static bool
udp_port_conflict(struct udp_host *u, const struct ph_sock *s, uint32_t ip, uint16_t port)
{
	struct udp_bind k = {.key = {.ip = 0, .port = port, .ctx = s->ctx}};
	struct udp_bind *b;

	for (b = RB_NFIND(udp_tree, &u->tree, &k);
	     b != NULL && b->key.ctx == s->ctx && b->key.port == port;
	     b = RB_NEXT(udp_tree, &u->tree, b)) {
		if (b->key.ip != 0 && ip != 0 && b->key.ip != ip)
			continue;
		for (unsigned i = 0; i < b->n; i++) {
			if (s->reuseaddr && b->m[i].reuseaddr)
				continue;
			if (s->reuseport && b->m[i].reuseport)
				continue;
			return true;
		}
	}
	return false;
}

/* An ephemeral port is one nobody in the context uses at all. */
static bool
udp_port_unused(struct ph_host *h, const struct ph_sock *s, uint16_t port)
{
	struct udp_bind k = {.key = {.ip = 0, .port = port, .ctx = s->ctx}};
	struct udp_bind *b = RB_NFIND(udp_tree, &h->udp->tree, &k);

	return b == NULL || b->key.ctx != s->ctx || b->key.port != port;
}

/*
 * RFC 6056 algorithm 1: a random start in the range, then the next free
 * port. For a connect (RADDR != 0) from SRC, first a port whose replies RSS
 * (or steering) brings to the socket's lcore, so its datagrams need no hop
 * (flow/flow.h); any free one when the lcore can own none.
 */
static uint16_t
udp_pick_port(struct ph_host *h, const struct ph_sock *s, uint32_t src, uint32_t raddr,
              uint16_t rport)
{
	const struct ph_conf_host *c = &h->conf->host;
	uint32_t n = (uint32_t)c->ephemeral_hi - c->ephemeral_lo + 1;
	uint32_t start = arc4random_uniform(n);
	const struct ph_lcore *owner = s->owner < h->n_lcores ? h->lcores[s->owner] : NULL;
	const struct ph_port *p = NULL;

	if (raddr != 0 && owner != NULL &&
	    flow_reply_way(owner, s->ctx, raddr, &p) == FLOW_REPLY_BY_PORT) {
		for (uint32_t i = 0; i < n; i++) {
			uint16_t port = (uint16_t)(c->ephemeral_lo + (start + i) % n);

			if (flow_owner_l4(h, p, raddr, src, rport, port) == owner->index &&
			    udp_port_unused(h, s, port))
				return port;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(c->ephemeral_lo + (start + i) % n);

		if (udp_port_unused(h, s, port))
			return port;
	}
	return 0;
}

static struct udp_member
udp_member_of(const struct ph_sock *s)
{
	return (struct udp_member){
	        .fd = s->fd,
	        .lcore = s->owner,
	        .rport = s->connected ? s->rport : 0,
	        .raddr = s->connected ? s->raddr : 0,
	        .reuseaddr = s->reuseaddr,
	        .reuseport = s->reuseport,
	};
}

/* Bind S to IP:PORT (PORT 0: an ephemeral one, chosen for the peer
 * RADDR:RPORT from SRC when it connects). */
static int
udp_bind_locked(struct udp_writer *w, struct ph_sock *s, uint32_t ip, uint16_t port, uint32_t src,
                uint32_t raddr, uint16_t rport)
{
	struct ph_host *h = w->h;
	struct udp_host *u = h->udp;
	struct udp_key key = {.ip = ip, .ctx = s->ctx};
	struct udp_bind *old, *new;
	int rc;

	if (port == 0) {
		port = udp_pick_port(h, s, src, raddr, rport);
		if (port == 0)
			return -EADDRINUSE;
	} else if (udp_port_conflict(u, s, ip, port)) {
		return -EADDRINUSE;
	}
	key.port = port;
	old = udp_bind_find(u, s->ctx, ip, port);
	new = udp_bind_copy(old, &key, (uint16_t)((old ? old->n : 0) + 1));
	if (new == NULL)
		return -ENOMEM;
	new->m[new->n++] = udp_member_of(s);
	rc = udp_bind_replace(w, old, new);
	if (rc != 0)
		return rc;
	s->laddr = ip;
	s->lport = port;
	return 0;
}

/* Publish S's member entry again after its peer or its options changed. */
static int
udp_member_update_locked(struct udp_writer *w, const struct ph_sock *s)
{
	struct udp_bind *old = udp_bind_find(w->h->udp, s->ctx, s->laddr, s->lport);
	int i = udp_member_index(old, s->fd);
	struct udp_bind *new;

	if (i < 0)
		return -EINVAL;
	new = udp_bind_copy(old, &old->key, old->n);
	if (new == NULL)
		return -ENOMEM;
	new->m[i] = udp_member_of(s);
	return udp_bind_replace(w, old, new);
}

static void
udp_unbind_locked(struct udp_writer *w, const struct ph_sock *s)
{
	struct udp_bind *old = udp_bind_find(w->h->udp, s->ctx, s->laddr, s->lport);
	int i = udp_member_index(old, s->fd);
	struct udp_bind *new = NULL;

	if (i < 0)
		return;
	if (old->n > 1) {
		new = udp_bind_copy(old, &old->key, old->n);
		if (new == NULL) { /* keep the entry: the owner drops its datagrams */
			return;
		}
		/* In order: among unconnected members the latest bind wins. */
		new->n--;
		memmove(&new->m[i], &new->m[i + 1], (new->n - (unsigned)i) * sizeof(new->m[0]));
	}
	udp_bind_replace(w, old, new);
}

void
udp_sock_init(struct ph_sock *s, uint16_t ctx)
{
	s->ctx = ctx;
	s->rcvbuf = UDP_DEFAULT_BUF;
	s->sndbuf = UDP_DEFAULT_BUF;
	s->ttl = 0;
}

static bool
udp_is_bcast(const struct ph_host *h, uint16_t ctx, uint32_t ip)
{
	const struct ph_local *l;

	if (ip == IPV4_BCAST)
		return true;
	l = ctx_local_lookup(h, ctx, ip);
	return l != NULL && l->kind == PH_LOCAL_BROADCAST;
}

static bool
udp_is_unicast_local(const struct ph_host *h, uint16_t ctx, uint32_t ip)
{
	const struct ph_local *l = ctx_local_lookup(h, ctx, ip);

	return l != NULL && l->kind == PH_LOCAL_UNICAST;
}

int
udp_bind(struct ph_lcore *lc, struct ph_sock *s, uint32_t ip, uint16_t port)
{
	struct ph_host *h = lc->host;
	struct udp_writer w;
	int rc;

	if (s->lport != 0)
		return -EINVAL;
	if (ip != 0 && ip != IPV4_BCAST && ctx_local_lookup(h, s->ctx, ip) == NULL)
		return -EADDRNOTAVAIL;
	udp_wr_lock(&w, h);
	rc = udp_bind_locked(&w, s, ip, port, 0, 0, 0);
	udp_wr_unlock(&w);
	if (rc == 0) {
		s->bound_port = port != 0;
		s->bound_bcast = ip != 0 && udp_is_bcast(h, s->ctx, ip);
	}
	return rc;
}

/* The bound address when it can be a source: a socket bound to a broadcast
 * address receives there but sends from its interface's address (decided at
 * bind, not looked up per datagram). */
static uint32_t
udp_unicast_laddr(const struct ph_sock *s)
{
	return s->bound_bcast ? 0 : s->laddr;
}

int
udp_connect(struct ph_lcore *lc, struct ph_sock *s, uint32_t ip, uint16_t port)
{
	struct ph_host *h = lc->host;
	struct udp_writer w;
	uint32_t src = 0;
	int rc = 0;

	if (ip != 0 || port != 0) {
		const struct ph_nexthop *nh;

		if (port == 0)
			return -EINVAL;
		if (!s->broadcast && udp_is_bcast(h, s->ctx, ip))
			return -EACCES;
		/* The source address is chosen now, as getsockname shows. */
		nh = ctx_route(h, s->ctx, ip);
		if (nh == NULL)
			return -ENETUNREACH;
		src = udp_unicast_laddr(s);
		if (src == 0)
			src = udp_is_unicast_local(h, s->ctx, ip)
			              ? ip
			              : ctx_iface_source(h, nh->ifindex, ip);
	}
	udp_wr_lock(&w, h);
	if (ip == 0 && port == 0 && s->lport != 0 && !s->bound_port) {
		/* Dissolving the association gives back a port only connect chose,
		 * as Linux does; an address or port the application bound stays. */
		udp_unbind_locked(&w, s);
		s->lport = 0;
	} else if (s->lport == 0 && (ip != 0 || port != 0)) {
		rc = udp_bind_locked(&w, s, s->laddr, 0, src, ip, port);
	}
	if (rc == 0) {
		s->connected = ip != 0 || port != 0;
		s->raddr = ip;
		s->rport = port;
		s->src = src;
		if (s->lport != 0)
			rc = udp_member_update_locked(&w, s);
	}
	udp_wr_unlock(&w);
	return rc;
}

int
udp_shutdown(struct ph_lcore *lc, struct ph_sock *s, int how)
{
	(void)lc;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (how != SHUT_WR)
		s->shut_rd = true;
	if (how != SHUT_RD)
		s->shut_wr = true;
	/* Like Linux: ENOTCONN for an unconnected socket, but shut all the same,
	 * which is how another waiter on it is woken. */
	sock_wakeup(s);
	return s->connected ? 0 : -ENOTCONN;
}

int
udp_sock_changed(struct ph_lcore *lc, struct ph_sock *s)
{
	struct udp_writer w;
	int rc;

	if (s->lport == 0)
		return 0;
	udp_wr_lock(&w, lc->host);
	rc = udp_member_update_locked(&w, s);
	udp_wr_unlock(&w);
	return rc;
}

void
udp_close(struct ph_lcore *lc, struct ph_sock *s)
{
	struct ph_host *h = lc->host;

	if (s->lport != 0) {
		struct udp_writer w;

		udp_wr_lock(&w, h);
		udp_unbind_locked(&w, s);
		udp_wr_unlock(&w);
	}
	sock_free(lc, s);
}

int
udp_set_ctx(struct ph_lcore *lc, struct ph_sock *s, uint16_t ctx)
{
	if (ctx >= PH_MAX_CTX || lc->host->ctxs[ctx] == NULL)
		return -ENODEV;
	if (s->lport != 0)
		return -EISCONN; /* bound already: Linux says the same for SO_BINDTODEVICE */
	s->ctx = ctx;
	return 0;
}

unsigned
udp_list(struct ph_host *h, unsigned skip, struct udp_sock_info *out, unsigned max, unsigned *total)
{
	struct udp_host *u = h->udp;
	struct udp_bind *b;
	unsigned n = 0, seen = 0;

	rte_spinlock_lock(&u->lock);
	RB_FOREACH(b, udp_tree, &u->tree)
	{
		for (unsigned i = 0; i < b->n; i++, seen++) {
			const struct udp_member *m = &b->m[i];

			if (seen < skip || n == max)
				continue;
			out[n++] = (struct udp_sock_info){
			        .ctx = b->key.ctx,
			        .laddr = b->key.ip,
			        .lport = b->key.port,
			        .raddr = m->raddr,
			        .rport = m->rport,
			        .lcore = m->lcore,
			        .fd = m->fd,
			        .reuseaddr = m->reuseaddr,
			        .reuseport = m->reuseport,
			};
		}
	}
	rte_spinlock_unlock(&u->lock);
	*total = seen;
	return n;
}

/* ---- input ---- */

/* The binding of (CTX, IP, PORT), IP 0 for the wildcard one, or NULL. A
 * datagram looks at the binding of its very address first, then at the
 * wildcard one, and stops at the first that takes it. */
static const struct udp_bind *
udp_lookup(const struct ph_host *h, uint16_t ctx, uint32_t ip, uint16_t port)
{
	struct udp_key k = {.ip = ip, .port = port, .ctx = ctx};
	void *data;

	return rte_hash_lookup_data(h->udp->tbl, &k, &data) >= 0 ? data : NULL;
}

struct udp_flow {
	uint32_t src, dst;
	uint16_t sport, dport;
};

/* The member a unicast datagram of flow F goes to, or -1. */
static int
udp_pick(const struct udp_bind *b, const struct udp_flow *f, uint16_t here)
{
	int last = -1, n_here = 0, n_all = 0, n, pick;
	bool all_reuseport = true;

	for (int i = 0; i < b->n; i++) {
		const struct udp_member *m = &b->m[i];

		if (m->rport != 0) {
			if (m->raddr == f->src && m->rport == f->sport)
				return i;
			continue;
		}
		last = i;
		n_all++;
		n_here += m->lcore == here;
		all_reuseport &= m->reuseport;
	}
	if (n_all <= 1 || !all_reuseport)
		return last; /* Linux: the most recent bind wins */
	/* SO_REUSEPORT: the flow stays on the lcore it arrived on if a member
	 * lives there (one per lcore is the usual case: no hash needed);
	 * otherwise a hash of the flow spreads them. */
	n = n_here ? n_here : n_all;
	pick = n == 1 ? 0
	              : (int)(rte_jhash_3words(f->src, f->dst, (uint32_t)f->sport << 16 | f->dport,
	                                       0) %
	                      (unsigned)n);
	for (int i = 0, k = 0; i < b->n; i++) {
		const struct udp_member *m = &b->m[i];

		if (m->rport != 0 || (n_here && m->lcore != here))
			continue;
		if (k++ == pick)
			return i;
	}
	return last;
}

static void
udp_to_member(struct ph_lcore *lc, const struct udp_member *mb, struct rte_mbuf *m)
{
	if (mb->lcore == lc->index) {
		udp_deliver(lc, mb->fd, m);
		return;
	}
	if (!sock_inbox_send(lc, mb->fd, m, PH_INBOX_SOCK_DATA))
		ph_drop(lc, m, PH_DROP_INBOX_FULL);
}

/* A copy of M (data at the payload) for one more receiver, with the IPv4 and
 * UDP headers in front of the data as receivers expect them; NULL when the
 * pool is empty (counted). */
static struct rte_mbuf *
udp_copy_for(struct ph_lcore *lc, struct rte_mbuf *m)
{
	uint16_t hdrs = (uint16_t)(m->l3_len + m->l4_len);
	struct rte_mbuf *c;

	/* The headers are still in front of the payload: copy them along. */
	rte_pktmbuf_prepend(m, hdrs);
	c = rte_pktmbuf_copy(m, lc->host->pool, 0, UINT32_MAX);
	rte_pktmbuf_adj(m, hdrs);
	if (c == NULL) {
		ph_drop_count(&lc->ctr, PH_DROP_NO_MBUF, 1);
		return NULL;
	}
	rte_pktmbuf_adj(c, hdrs);
	c->l3_len = m->l3_len;
	c->l4_len = m->l4_len;
	*ph_pkt_meta(c) = *ph_pkt_meta(m);
	return c;
}

/* A broadcast goes to every unconnected member of the bindings (and to
 * connected ones whose peer sent it), as Linux delivers it. */
static void
udp_bcast(struct ph_lcore *lc, const struct udp_bind *const b[2], struct rte_mbuf *m, uint32_t src,
          uint16_t sport)
{
	const struct udp_member *last = NULL;

	for (unsigned j = 0; j < 2; j++)
		for (int i = 0; b[j] != NULL && i < b[j]->n; i++) {
			const struct udp_member *mb = &b[j]->m[i];
			struct rte_mbuf *c;

			if (mb->rport != 0 && (mb->raddr != src || mb->rport != sport))
				continue;
			if (last != NULL && (c = udp_copy_for(lc, m)) != NULL)
				udp_to_member(lc, last, c);
			last = mb;
		}
	if (last == NULL)
		ph_drop(lc, m, PH_DROP_UDP_NO_PORT);
	else
		udp_to_member(lc, last, m);
}

static enum ph_drop
udp_check(struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint16_t hl, struct rte_udp_hdr *uh)
{
	uint32_t ip_payload = rte_pktmbuf_pkt_len(m) - hl;
	uint16_t ulen;

	if (ip_payload < UDP_HDR_LEN || rte_pktmbuf_data_len(m) < hl + UDP_HDR_LEN)
		return PH_DROP_UDP_TRUNCATED;
	memcpy(uh, rte_pktmbuf_mtod_offset(m, const void *, hl), sizeof(*uh));
	ulen = rte_be_to_cpu_16(uh->dgram_len);
	if (ulen < UDP_HDR_LEN || ulen > ip_payload)
		return PH_DROP_UDP_BAD_LEN;
	/* RFC 768: a zero checksum means none was computed. */
	if (uh->dgram_cksum != 0 && !(ph_pkt_meta(m)->flags & PH_PKT_LOOPED)) {
		uint64_t ol = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

		/* Software when the NIC did not check, when the flags are those of one
		 * fragment of a reassembled datagram, and when bytes follow the UDP
		 * length: a NIC (net_tap's software check among them) may have
		 * summed the whole IP payload. CKSUM_NONE is not "unchecked": the
		 * data is intact and the field left for us (virtio from a local
		 * sender), so it passes like GOOD. */
		if (m->nb_segs > 1 || ulen != ip_payload || ol == RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN) {
			/* The helper takes the length it sums, and the pseudo-header's,
			 * from the IPv4 total length: make that the UDP length. */
			struct rte_ipv4_hdr ph = *ip;

			ph.total_length = rte_cpu_to_be_16((uint16_t)(hl + ulen));
			if (rte_ipv4_udptcp_cksum_mbuf_verify(m, &ph, hl) != 0)
				return PH_DROP_UDP_BAD_CSUM;
		} else if (ol == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
			return PH_DROP_UDP_BAD_CSUM;
		}
	}
	/* Bytes past the UDP length are not the datagram's (Linux trims them too). */
	if (ulen < ip_payload && rte_pktmbuf_trim(m, (uint16_t)(ip_payload - ulen)) != 0)
		return PH_DROP_UDP_BAD_LEN;
	return PH_DROP_NONE;
}

void
udp_input(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	struct ph_host *h = lc->host;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct ph_pkt_meta *meta = ph_pkt_meta(m);
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
		uint16_t hl = (uint16_t)rte_ipv4_hdr_len(ip);
		const struct udp_member *to = NULL;
		const struct udp_bind *b[2] = {NULL, NULL};
		bool bcast = (meta->flags & PH_PKT_IP_BCAST) != 0;
		struct udp_flow f;
		struct rte_udp_hdr uh;
		enum ph_drop why;

		why = udp_check(m, ip, hl, &uh);
		if (why != PH_DROP_NONE) {
			ph_drop(lc, m, why);
			continue;
		}
		f = (struct udp_flow){
		        .src = rte_be_to_cpu_32(ip->src_addr),
		        .dst = rte_be_to_cpu_32(ip->dst_addr),
		        .sport = rte_be_to_cpu_16(uh.src_port),
		        .dport = rte_be_to_cpu_16(uh.dst_port),
		};
		/* Unicast stops at the first binding with a taker; a broadcast
		 * goes to the members of both. */
		for (unsigned j = 0; j < 2 && to == NULL; j++) {
			int k;

			b[j] = udp_lookup(h, meta->ctx, j == 0 ? f.dst : 0, f.dport);
			if (b[j] != NULL && !bcast && (k = udp_pick(b[j], &f, lc->index)) >= 0)
				to = &b[j]->m[k];
		}
		if (bcast ? b[0] == NULL && b[1] == NULL : to == NULL) {
			if (meta->flags & (PH_PKT_IP_BCAST | PH_PKT_L2_BCAST | PH_PKT_L2_MCAST)) {
				ph_drop(lc, m, PH_DROP_UDP_NO_PORT);
				continue;
			}
			/* Counted here; the lead core answers port unreachable (rate-limited). */
			ph_drop_count(&lc->ctr, PH_DROP_UDP_NO_PORT, 1);
			meta->icmp_type = ICMP_DEST_UNREACH;
			meta->icmp_code = ICMP_PORT_UNREACH;
			ph_to_lead(lc, m, PH_LEAD_ICMP_ERROR);
			continue;
		}
		m->l3_len = hl;
		m->l4_len = UDP_HDR_LEN;
		rte_pktmbuf_adj(m, (uint16_t)(hl + UDP_HDR_LEN));
		if (bcast)
			udp_bcast(lc, b, m, f.src, f.sport);
		else
			udp_to_member(lc, to, m);
	}
}

void
udp_peer_of(const struct rte_mbuf *m, uint32_t *ip, uint16_t *port)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_udp_hdr *uh = (const struct rte_udp_hdr *)(p - UDP_HDR_LEN);
	const struct rte_ipv4_hdr *iph = (const struct rte_ipv4_hdr *)(p - UDP_HDR_LEN - m->l3_len);

	*ip = rte_be_to_cpu_32(iph->src_addr);
	*port = rte_be_to_cpu_16(uh->src_port);
}

void
udp_deliver(struct ph_lcore *lc, int fd, struct rte_mbuf *m)
{
	struct ph_sock *s = sock_get(lc, fd);
	const struct rte_udp_hdr *uh =
	        rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, -UDP_HDR_LEN);

	/* The descriptor may have been closed, even reused, while M travelled. */
	if (s == NULL || s->kind != SOCK_KIND_UDP || s->lport != rte_be_to_cpu_16(uh->dst_port) ||
	    s->ctx != ph_pkt_meta(m)->ctx) {
		ph_drop(lc, m, PH_DROP_UDP_SOCK_GONE);
		return;
	}
	if (s->shut_rd) {
		ph_drop(lc, m, PH_DROP_UDP_SHUT_RD);
		return;
	}
	if (!sock_rxq_push(s, m)) {
		ph_drop(lc, m, PH_DROP_UDP_RCVBUF_FULL);
		return;
	}
	ph_mib(lc, PH_MIB_udpInDatagrams);
	sock_wakeup(s);
}

/* ---- ICMP errors (RFC 1122 4.1.3.3) ---- */

/* Linux's icmp_err_convert: the errno, and whether a connected UDP socket
 * without IP_RECVERR hears about it ("hard" errors only). */
static int
udp_icmp_errno(uint8_t type, uint8_t code, bool *hard)
{
	static const struct {
		int err;
		bool hard;
	} unreach[] = {
	        {ENETUNREACH, false},  {EHOSTUNREACH, false}, {ENOPROTOOPT, true},
	        {ECONNREFUSED, true},  {EMSGSIZE, false},     {EOPNOTSUPP, false},
	        {ENETUNREACH, true},   {EHOSTDOWN, true},     {ENONET, true},
	        {ENETUNREACH, true},   {EHOSTUNREACH, true},  {ENETUNREACH, false},
	        {EHOSTUNREACH, false}, {EHOSTUNREACH, true},  {EHOSTUNREACH, true},
	        {EHOSTUNREACH, true},
	};

	switch (type) {
	case ICMP_DEST_UNREACH:
		if (code >= RTE_DIM(unreach))
			break;
		*hard = unreach[code].hard;
		return unreach[code].err;
	case ICMP_TIME_EXCEEDED:
		*hard = false;
		return EHOSTUNREACH;
	case ICMP_PARAMETERPROB:
		*hard = true;
		return EPROTO;
	default:
		break;
	}
	*hard = false;
	return 0;
}

void
udp_icmp_error(struct ph_lcore *lead, struct rte_mbuf *m, uint16_t quote)
{
	struct ph_pkt_meta *meta = ph_pkt_meta(m);
	uint8_t qbuf[IPV4_MAX_HDR + UDP_HDR_LEN];
	const uint8_t *q;
	const struct udp_member *to = NULL;
	uint32_t qsrc, qdst;
	uint16_t qhl, sport, dport;
	bool hard;

	q = rte_pktmbuf_read(m, quote, IPV4_MIN_HDR, qbuf);
	if (q == NULL)
		goto drop;
	qhl = (uint16_t)((q[0] & 0xf) * 4);
	if (qhl < IPV4_MIN_HDR)
		goto drop;
	q = rte_pktmbuf_read(m, quote, (uint32_t)qhl + UDP_HDR_LEN, qbuf);
	if (q == NULL)
		goto drop;
	memcpy(&qsrc, q + 12, 4);
	memcpy(&qdst, q + 16, 4);
	qsrc = rte_be_to_cpu_32(qsrc);
	qdst = rte_be_to_cpu_32(qdst);
	sport = (uint16_t)(q[qhl] << 8 | q[qhl + 1]);
	dport = (uint16_t)(q[qhl + 2] << 8 | q[qhl + 3]);
	if (udp_icmp_errno(meta->icmp_type, meta->icmp_code, &hard) == 0 || !hard)
		goto drop;
	/* Only a socket connected to the quoted destination hears of it. */
	for (unsigned j = 0; j < 2 && to == NULL; j++) {
		const struct udp_bind *b =
		        udp_lookup(lead->host, meta->ctx, j == 0 ? qsrc : 0, sport);

		for (int k = 0; b != NULL && k < b->n && to == NULL; k++)
			if (b->m[k].rport == dport && b->m[k].raddr == qdst)
				to = &b->m[k];
	}
	if (to == NULL)
		goto drop;
	if (to->lcore == lead->index) {
		udp_sock_error(lead, to->fd, m);
		return;
	}
	if (!sock_inbox_send(lead, to->fd, m, PH_INBOX_SOCK_ERROR))
		ph_drop(lead, m, PH_DROP_INBOX_FULL);
	return;
drop:
	ph_drop(lead, m, PH_DROP_ICMP_UNHANDLED);
}

void
udp_sock_error(struct ph_lcore *lc, int fd, struct rte_mbuf *m)
{
	struct ph_pkt_meta *meta = ph_pkt_meta(m);
	struct ph_sock *s = sock_get(lc, fd);
	bool hard;
	int err = udp_icmp_errno(meta->icmp_type, meta->icmp_code, &hard);

	rte_pktmbuf_free(m);
	if (s == NULL || s->kind != SOCK_KIND_UDP || !s->connected || err == 0)
		return;
	s->so_error = err;
	sock_wakeup(s);
}

/* ---- output ---- */

/* A chain holding LEN bytes from IOV after room for a UDP header, or NULL. */
static struct rte_mbuf *
udp_copy_in(struct ph_host *h, const struct iovec *iov, int iovcnt, size_t len)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(h->pool), *seg = head;
	size_t done = 0;
	int v = 0;
	size_t voff = 0;

	if (head == NULL || rte_pktmbuf_append(head, UDP_HDR_LEN) == NULL)
		goto fail;
	while (done < len) {
		uint16_t room = rte_pktmbuf_tailroom(seg);
		size_t chunk;
		char *dst;

		if (room == 0) {
			struct rte_mbuf *n = rte_pktmbuf_alloc(h->pool);

			if (n == NULL)
				goto fail;
			n->data_off = 0; /* no headers go in front of a later segment */
			seg->next = n;
			seg = n;
			head->nb_segs++;
			continue;
		}
		while (voff == iov[v].iov_len) {
			v++;
			voff = 0;
		}
		chunk = RTE_MIN((size_t)room, iov[v].iov_len - voff);
		chunk = RTE_MIN(chunk, len - done);
		dst = rte_pktmbuf_mtod_offset(seg, char *, seg->data_len);
		memcpy(dst, (const char *)iov[v].iov_base + voff, chunk);
		seg->data_len = (uint16_t)(seg->data_len + chunk);
		head->pkt_len += (uint32_t)chunk;
		voff += chunk;
		done += chunk;
	}
	(void)iovcnt;
	return head;
fail:
	rte_pktmbuf_free(head);
	return NULL;
}

/* Checks shared by both send paths; sets *DST and *DPORT. */
static int
udp_send_prep(struct ph_lcore *lc, struct ph_sock *s, size_t len, bool has_dst, uint32_t *dst,
              uint16_t *dport)
{
	struct ph_host *h = lc->host;
	int rc;

	if (s->so_error != 0) {
		rc = -s->so_error;
		s->so_error = 0;
		return rc;
	}
	if (s->shut_wr)
		return -EPIPE;
	if (!has_dst) {
		if (!s->connected)
			return -EDESTADDRREQ;
		*dst = s->raddr;
		*dport = s->rport;
	}
	if (len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (*dport == 0 || *dst == 0)
		return -EINVAL;
	if (!s->broadcast && udp_is_bcast(h, s->ctx, *dst))
		return -EACCES;
	if (s->lport == 0) {
		struct udp_writer w;

		udp_wr_lock(&w, h);
		rc = udp_bind_locked(&w, s, s->laddr, 0, 0, 0, 0);
		udp_wr_unlock(&w);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
udp_output(struct ph_lcore *lc, struct ph_sock *s, struct rte_mbuf *m, uint32_t dst, uint16_t dport)
{
	struct rte_udp_hdr *uh = rte_pktmbuf_mtod(m, struct rte_udp_hdr *);
	struct ipv4_out o = {
	        .dst = dst,
	        .ctx = s->ctx,
	        .proto = IPPROTO_UDP,
	        .tos = s->tos,
	        .ttl = s->ttl,
	        .l4_csum_off = offsetof(struct rte_udp_hdr, dgram_cksum),
	};
	int rc;

	o.src = udp_unicast_laddr(s);
	if (o.src == 0 && s->connected && dst == s->raddr)
		o.src = s->src;
	uh->src_port = rte_cpu_to_be_16(s->lport);
	uh->dst_port = rte_cpu_to_be_16(dport);
	uh->dgram_len = rte_cpu_to_be_16((uint16_t)rte_pktmbuf_pkt_len(m));
	uh->dgram_cksum = 0;
	rc = ipv4_output(lc, m, &o);
	if (rc == 0)
		ph_mib(lc, PH_MIB_udpOutDatagrams);
	return rc;
}

ssize_t
udp_send(struct ph_lcore *lc, struct ph_sock *s, const struct iovec *iov, int iovcnt, size_t len,
         bool has_dst, uint32_t dst, uint16_t dport)
{
	struct rte_mbuf *m;
	int rc;

	rc = udp_send_prep(lc, s, len, has_dst, &dst, &dport);
	if (rc != 0)
		return rc;
	m = udp_copy_in(lc->host, iov, iovcnt, len);
	if (m == NULL) {
		ph_drop_count(&lc->ctr, PH_DROP_NO_MBUF, 1);
		return -ENOBUFS;
	}
	rc = udp_output(lc, s, m, dst, dport);
	return rc < 0 ? rc : (ssize_t)len;
}

int
udp_send_mbuf(struct ph_lcore *lc, struct ph_sock *s, struct rte_mbuf *m, bool has_dst,
              uint32_t dst, uint16_t dport)
{
	int rc = udp_send_prep(lc, s, rte_pktmbuf_pkt_len(m), has_dst, &dst, &dport);
	uint16_t saved_off, saved_dlen;
	uint32_t saved_plen;

	if (rc != 0)
		return rc;
	if (rte_pktmbuf_headroom(m) < UDP_HDR_LEN + IPV4_MIN_HDR + RTE_ETHER_HDR_LEN + 4)
		return -EINVAL;
	/* Whatever the buffer carried before (offload requests, a received
	 * packet's flags) does not apply to what it carries now. */
	m->ol_flags &= RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
	memset(ph_pkt_meta(m), 0, sizeof(struct ph_pkt_meta));
	/* ipv4_output frees what it cannot send: hold a reference so that a
	 * failed send leaves the buffer, as it was, with the caller. */
	saved_off = m->data_off;
	saved_dlen = m->data_len;
	saved_plen = m->pkt_len;
	for (struct rte_mbuf *seg = m; seg != NULL; seg = seg->next)
		rte_mbuf_refcnt_update(seg, 1);
	rte_pktmbuf_prepend(m, UDP_HDR_LEN);
	rc = udp_output(lc, s, m, dst, dport);
	if (rc < 0) {
		m->data_off = saved_off;
		m->data_len = saved_dlen;
		m->pkt_len = saved_plen;
		return rc;
	}
	rte_pktmbuf_free(m);
	return 0;
}
