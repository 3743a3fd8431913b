/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Just enough DPDK for unit tests without EAL: a packet pool whose buffers
 * come from calloc() (through a mempool driver of our own) and counts what is
 * in use, and rte_zmalloc_socket()/rte_free() on the C heap, which rte_ip_frag
 * allocates its tables with. Every test checks fake_pool_in_use() == 0 at the
 * end: nothing the code under test held may leak.
 */
#ifndef PH_TESTS_FAKE_DPDK_H
#define PH_TESTS_FAKE_DPDK_H

#include <stdint.h>

struct rte_mempool;
struct rte_mbuf;

/* A pool of N mbufs with 2 KiB of data room each; mbuf dynfields are set up
 * so ph_pkt_meta() works. */
struct rte_mempool *fake_pool_create(unsigned n);
void fake_pool_destroy(struct rte_mempool *mp);
unsigned fake_pool_in_use(const struct rte_mempool *mp);

/* An mbuf holding LEN bytes copied from DATA (data at the usual headroom). */
struct rte_mbuf *fake_mbuf(struct rte_mempool *mp, const void *data, uint16_t len);

#endif
