/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * See fake_dpdk.h.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "core/pkt.h"
#include "fake_dpdk.h"

#define FAKE_DATA_ROOM (RTE_PKTMBUF_HEADROOM + 2048)

struct fake_pool {
	void **free; /* stack of free objects */
	unsigned n_free;
	unsigned n;
	void **blocks;
};

/* rte_ip_frag allocates with these: serve them from the C heap. */
void *
rte_zmalloc_socket(const char *type, size_t size, unsigned align, int socket)
{
	void *p;

	(void)type;
	(void)socket;
	if (align < sizeof(void *))
		align = sizeof(void *);
	if (posix_memalign(&p, align, size) != 0)
		return NULL;
	memset(p, 0, size);
	return p;
}

void *
rte_zmalloc(const char *type, size_t size, unsigned align)
{
	return rte_zmalloc_socket(type, size, align, -1);
}

void
rte_free(void *p)
{
	free(p);
}

static struct fake_pool *
fp(const struct rte_mempool *mp)
{
	return mp->pool_data;
}

static int
fake_alloc(struct rte_mempool *mp)
{
	(void)mp;
	return 0;
}

static void
fake_free(struct rte_mempool *mp)
{
	(void)mp;
}

static int
fake_enqueue(struct rte_mempool *mp, void *const *objs, unsigned n)
{
	struct fake_pool *p = fp(mp);

	for (unsigned i = 0; i < n; i++)
		p->free[p->n_free++] = objs[i];
	return 0;
}

static int
fake_dequeue(struct rte_mempool *mp, void **objs, unsigned n)
{
	struct fake_pool *p = fp(mp);

	if (p->n_free < n)
		return -ENOBUFS;
	for (unsigned i = 0; i < n; i++)
		objs[i] = p->free[--p->n_free];
	return 0;
}

static unsigned
fake_count(const struct rte_mempool *mp)
{
	return fp(mp)->n_free;
}

static const struct rte_mempool_ops fake_ops = {
        .name = "ph_fake",
        .alloc = fake_alloc,
        .free = fake_free,
        .enqueue = fake_enqueue,
        .dequeue = fake_dequeue,
        .get_count = fake_count,
};
RTE_MEMPOOL_REGISTER_OPS(fake_ops);

struct rte_mempool *
fake_pool_create(unsigned n)
{
	/* No per-lcore caches: the private area follows the header directly. */
	struct rte_mempool *mp = calloc(1, sizeof(*mp) + sizeof(struct rte_pktmbuf_pool_private));
	struct rte_pktmbuf_pool_private *priv = (void *)(mp + 1);
	struct fake_pool *p = calloc(1, sizeof(*p));
	size_t block = sizeof(struct rte_mempool_objhdr) + sizeof(struct rte_mbuf) + FAKE_DATA_ROOM;

	strcpy(mp->name, "fake");
	mp->size = n;
	mp->elt_size = (uint32_t)(sizeof(struct rte_mbuf) + FAKE_DATA_ROOM);
	mp->private_data_size = sizeof(*priv);
	priv->mbuf_data_room_size = FAKE_DATA_ROOM;
	priv->mbuf_priv_size = 0;
	rte_mempool_set_ops_byname(mp, "ph_fake", NULL);
	mp->pool_data = p;
	p->n = n;
	p->free = calloc(n, sizeof(void *));
	p->blocks = calloc(n, sizeof(void *));
	for (unsigned i = 0; i < n; i++) {
		char *b = calloc(1, block);
		struct rte_mbuf *m = (struct rte_mbuf *)(b + sizeof(struct rte_mempool_objhdr));

		p->blocks[i] = b;
		rte_pktmbuf_init(mp, NULL, m, i);
		p->free[p->n_free++] = m;
	}
	/* What ph_pkt_meta_register() would have found with EAL. */
	ph_pkt_meta_offset = offsetof(struct rte_mbuf, dynfield1);
	return mp;
}

unsigned
fake_pool_in_use(const struct rte_mempool *mp)
{
	return fp(mp)->n - fp(mp)->n_free;
}

void
fake_pool_destroy(struct rte_mempool *mp)
{
	struct fake_pool *p = fp(mp);

	for (unsigned i = 0; i < p->n; i++)
		free(p->blocks[i]);
	free(p->blocks);
	free(p->free);
	free(p);
	free(mp);
}

struct rte_mbuf *
fake_mbuf(struct rte_mempool *mp, const void *data, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	if (m != NULL)
		memcpy(rte_pktmbuf_append(m, len), data, len);
	return m;
}
