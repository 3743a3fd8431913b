/* SPDX-License-Identifier: BSD-3-Clause */
/* The published neighbour table (see neigh_pub.h). */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_rcu_qsbr.h>

#include "arp/neigh_pub.h"
#include "core/host.h"

/* Bit 48 marks a valid entry, so that a zero MAC is still a value. */
#define NEIGH_PUB_VALID (1ULL << 48)

static uint64_t
mac_to_word(const struct rte_ether_addr *mac)
{
	uint64_t w = 0;

	memcpy(&w, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	return w | NEIGH_PUB_VALID;
}

int
neigh_pub_create(struct ph_host *h, uint32_t entries)
{
	struct rte_hash_parameters hp = {
	        .name = "ph_neigh",
	        .entries = entries < 64 ? 64 : entries,
	        .key_len = sizeof(struct ph_ctx_key),
	        .hash_func = rte_jhash,
	        .socket_id = SOCKET_ID_ANY,
	        .extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash_rcu_config rcu = {.v = h->qsbr, .mode = RTE_HASH_QSBR_MODE_DQ};

	h->neigh = rte_hash_create(&hp);
	if (h->neigh == NULL)
		return -rte_errno;
	if (rte_hash_rcu_qsbr_add(h->neigh, &rcu) != 0)
		return -rte_errno;
	return 0;
}

void
neigh_pub_destroy(struct ph_host *h)
{
	rte_hash_free(h->neigh);
	h->neigh = NULL;
}

int
neigh_pub_set(struct ph_host *h, uint16_t ctx, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct ph_ctx_key k = {.ip = ip, .ctx = ctx};

	return rte_hash_add_key_data(h->neigh, &k, (void *)(uintptr_t)mac_to_word(mac));
}

void
neigh_pub_del(struct ph_host *h, uint16_t ctx, uint32_t ip)
{
	struct ph_ctx_key k = {.ip = ip, .ctx = ctx};

	rte_hash_del_key(h->neigh, &k);
}

bool
neigh_pub_lookup(const struct ph_host *h, uint16_t ctx, uint32_t ip, struct rte_ether_addr *mac)
{
	struct ph_ctx_key k = {.ip = ip, .ctx = ctx};
	void *data;
	uint64_t w;

	if (rte_hash_lookup_data(h->neigh, &k, &data) < 0)
		return false;
	w = (uint64_t)(uintptr_t)data;
	if (!(w & NEIGH_PUB_VALID))
		return false;
	memcpy(mac->addr_bytes, &w, RTE_ETHER_ADDR_LEN);
	return true;
}
