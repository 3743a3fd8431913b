/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the stack knows of a port's receive-side scaling: the Toeplitz key and
 * the redirection table (RETA) it programmed and read back from the device,
 * or, for a device without RSS (or one that spreads flows by a hash of its
 * own, like net_tap), the same key and a software table that stand for what
 * the device should have done. This is the only place that knows them: flow
 * ownership, steering and RSS-aware port choice all ask rss_queue_of().
 * Pure logic, no EAL.
 */
#ifndef PH_DRIVERS_RSS_H
#define PH_DRIVERS_RSS_H

#include <stdbool.h>
#include <stdint.h>

#define PH_RSS_KEY_MAX 52
#define PH_RETA_MAX    512

struct ph_rss {
	uint8_t key[PH_RSS_KEY_MAX] __attribute__((aligned(4))); /* as the NIC takes it */
	uint8_t key_len;
	uint16_t reta_size;         /* a power of two */
	uint16_t reta[PH_RETA_MAX]; /* bucket -> RX queue */
	uint64_t hf;                /* hashed flow types (RTE_ETH_RSS_*) */
	bool hw;                    /* the device itself hashes with key and reta */
};

/* The Toeplitz hash of an IPv4 address pair, and of an IPv4 TCP/UDP 4-tuple
 * (addresses and ports host order, source first, as RSS defines the input). */
uint32_t rss_hash_ipv4(const struct ph_rss *r, uint32_t src, uint32_t dst);
uint32_t rss_hash_ipv4_l4(const struct ph_rss *r, uint32_t src, uint32_t dst, uint16_t sport,
                          uint16_t dport);

/* The RX queue a packet with hash H lands on: NICs index the RETA with the
 * low bits of the hash. */
static inline uint16_t
rss_queue_of(const struct ph_rss *r, uint32_t h)
{
	return r->reta[h & (uint32_t)(r->reta_size - 1)];
}

/* A table spreading RETA_SIZE buckets round-robin over N_QUEUES queues. */
void rss_reta_spread(struct ph_rss *r, uint16_t reta_size, uint16_t n_queues);

/* The well-known symmetric key (0x6d5a repeated), and a fresh random one. */
void rss_key_symmetric(struct ph_rss *r, uint8_t len);
void rss_key_random(struct ph_rss *r, uint8_t len);

#endif
