/* SPDX-License-Identifier: BSD-3-Clause */
/* Toeplitz hash and redirection table of a port (see rss.h). */
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <rte_thash.h>

#include "drivers/rss.h"

uint32_t
rss_hash_ipv4(const struct ph_rss *r, uint32_t src, uint32_t dst)
{
	uint32_t t[2] = {src, dst};

	return rte_softrss(t, 2, r->key);
}

uint32_t
rss_hash_ipv4_l4(const struct ph_rss *r, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint32_t t[3] = {src, dst, (uint32_t)sport << 16 | dport};

	return rte_softrss(t, 3, r->key);
}

void
rss_reta_spread(struct ph_rss *r, uint16_t reta_size, uint16_t n_queues)
{
	if (reta_size == 0 || reta_size > PH_RETA_MAX)
		reta_size = 128;
	r->reta_size = reta_size;
	for (uint16_t i = 0; i < reta_size; i++)
		r->reta[i] = n_queues == 0 ? 0 : i % n_queues;
}

void
rss_key_symmetric(struct ph_rss *r, uint8_t len)
{
	for (uint8_t i = 0; i < len; i++)
		r->key[i] = (i & 1) ? 0x5a : 0x6d;
	r->key_len = len;
}

void
rss_key_random(struct ph_rss *r, uint8_t len)
{
	arc4random_buf(r->key, len);
	r->key_len = len;
}
