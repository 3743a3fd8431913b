/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The published neighbour table: (context, IPv4) -> Ethernet address, the
 * part of the neighbour state that IPv4 output on every lcore reads.
 *
 * The lead core's neigh_table decides; it writes here through the publish and
 * unpublish ops. Readers take no lock: the table is an rte_hash in lock-free
 * read/write mode, the address lives in the entry's 64-bit data word (so an
 * update is a single atomic store and needs no memory to reclaim), and a
 * deleted key's slot is reused only after every reader has reported a
 * quiescent state (rte_rcu_qsbr).
 */
#ifndef PH_ARP_NEIGH_PUB_H
#define PH_ARP_NEIGH_PUB_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

struct ph_host;

int neigh_pub_create(struct ph_host *h, uint32_t entries);
void neigh_pub_destroy(struct ph_host *h);

/* Lead core only. */
int neigh_pub_set(struct ph_host *h, uint16_t ctx, uint32_t ip, const struct rte_ether_addr *mac);
void neigh_pub_del(struct ph_host *h, uint16_t ctx, uint32_t ip);

/* Any lcore. True when the address of (CTX, IP) is known; it is copied to MAC. */
bool neigh_pub_lookup(const struct ph_host *h, uint16_t ctx, uint32_t ip,
                      struct rte_ether_addr *mac);

#endif
