/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 reassembly on one lcore (see frag.h).
 */
#include <errno.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include "core/lcore.h"
#include "ipv4/frag.h"
#include "ipv4/ipv4.h"

/* rte_ip_frag's buckets: each holds this many datagrams (its example's choice). */
#define FRAG_BUCKET_ENTRIES 16
#define FRAG_MAX_CTX        PH_CTX_STATS

static uint64_t
frag_ms_to_tsc(uint32_t ms, uint64_t tsc_hz)
{
	return (tsc_hz + 999) / 1000 * ms;
}

int
ipv4_frag_init(struct ph_lcore *lc, uint32_t max_datagrams, uint32_t timeout_ms, uint64_t tsc_hz)
{
	uint32_t buckets =
	        rte_align32pow2((max_datagrams + FRAG_BUCKET_ENTRIES - 1) / FRAG_BUCKET_ENTRIES);

	lc->frag_max_datagrams = max_datagrams;
	lc->frag_ttl_tsc = frag_ms_to_tsc(timeout_ms, tsc_hz);
	lc->frag_tbl = rte_ip_frag_table_create(buckets, FRAG_BUCKET_ENTRIES, max_datagrams,
	                                        lc->frag_ttl_tsc, SOCKET_ID_ANY);
	lc->frag_ctx_tbl = calloc(FRAG_MAX_CTX, sizeof(*lc->frag_ctx_tbl));
	lc->frag_ctx_list = calloc(FRAG_MAX_CTX, sizeof(*lc->frag_ctx_list));
	lc->frag_n_ctx = 0;
	if (lc->frag_tbl == NULL || lc->frag_ctx_tbl == NULL || lc->frag_ctx_list == NULL)
		return -ENOMEM;
	lc->frag_dr.cnt = 0;
	return 0;
}

/*
 * rte_ip_frag keys a datagram by addresses, ID and protocol only: two
 * contexts with the same addresses must not share a table, or one network's
 * fragments could complete the other's datagram. Context 0 has the table
 * made at start; another context gets one (a quarter of the size) at its
 * first fragment on this lcore. NULL when there is no memory for it.
 */
static struct rte_ip_frag_tbl *
frag_table(struct ph_lcore *lc, uint16_t ctx)
{
	uint32_t max = lc->frag_max_datagrams / 4 < 64 ? 64 : lc->frag_max_datagrams / 4;
	struct rte_ip_frag_tbl *t;

	if (ctx == 0)
		return lc->frag_tbl;
	if (ctx >= FRAG_MAX_CTX)
		return NULL;
	if ((t = lc->frag_ctx_tbl[ctx]) != NULL)
		return t;
	t = rte_ip_frag_table_create(rte_align32pow2(max / FRAG_BUCKET_ENTRIES),
	                             FRAG_BUCKET_ENTRIES, max, lc->frag_ttl_tsc, SOCKET_ID_ANY);
	if (t != NULL) {
		lc->frag_ctx_tbl[ctx] = t;
		lc->frag_ctx_list[lc->frag_n_ctx++] = ctx;
	}
	return t;
}

/* Free what rte_ip_frag discarded since COUNT_FROM, counting it. */
static void
frag_reap(struct ph_lcore *lc, uint32_t count_from)
{
	if (lc->frag_dr.cnt > count_from) {
		ph_mib(lc, PH_MIB_ipReasmFails);
		ph_drop_count(&lc->ctr, PH_DROP_IP_REASM_FAIL, lc->frag_dr.cnt - count_from);
	}
	rte_ip_frag_free_death_row(&lc->frag_dr, 0);
}

struct rte_mbuf *
ipv4_reassemble(struct ph_lcore *lc, struct rte_mbuf *m, const struct ipv4_repr *r, uint16_t ctx)
{
	struct rte_ip_frag_tbl *t = frag_table(lc, ctx);
	uint32_t before = lc->frag_dr.cnt;
	struct rte_mbuf *whole;

	ph_mib(lc, PH_MIB_ipReasmReqds);
	if (t == NULL) {
		ph_mib(lc, PH_MIB_ipReasmFails);
		ph_drop_count(&lc->ctr, PH_DROP_IP_REASM_FAIL, 1);
		rte_pktmbuf_free(m);
		return NULL;
	}
	m->l2_len = 0;
	m->l3_len = r->hdr_len;
	whole = rte_ipv4_frag_reassemble_packet(t, &lc->frag_dr, m, lc->now_tsc,
	                                        rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *));
	frag_reap(lc, before);
	if (whole != NULL)
		ph_mib(lc, PH_MIB_ipReasmOKs);
	return whole;
}

void
ipv4_frag_expire(struct ph_lcore *lc)
{
	uint32_t before = lc->frag_dr.cnt;

	if (lc->frag_tbl == NULL)
		return;
	rte_ip_frag_table_del_expired_entries(lc->frag_tbl, &lc->frag_dr, lc->now_tsc);
	for (uint16_t i = 0; i < lc->frag_n_ctx; i++)
		rte_ip_frag_table_del_expired_entries(lc->frag_ctx_tbl[lc->frag_ctx_list[i]],
		                                      &lc->frag_dr, lc->now_tsc);
	frag_reap(lc, before);
}

static void
frag_table_fini(struct ph_lcore *lc, struct rte_ip_frag_tbl *t)
{
	/* Expire everything, so each held fragment is counted as it is freed. */
	for (;;) {
		rte_ip_frag_table_del_expired_entries(t, &lc->frag_dr, UINT64_MAX);
		if (lc->frag_dr.cnt == 0)
			break;
		ph_drop_count(&lc->ctr, PH_DROP_SHUTDOWN, lc->frag_dr.cnt);
		rte_ip_frag_free_death_row(&lc->frag_dr, 0);
	}
	rte_ip_frag_table_destroy(t);
}

void
ipv4_frag_fini(struct ph_lcore *lc)
{
	if (lc->frag_tbl == NULL)
		return;
	frag_table_fini(lc, lc->frag_tbl);
	lc->frag_tbl = NULL;
	for (uint16_t i = 0; i < lc->frag_n_ctx; i++)
		frag_table_fini(lc, lc->frag_ctx_tbl[lc->frag_ctx_list[i]]);
	lc->frag_n_ctx = 0;
	free(lc->frag_ctx_tbl);
	free(lc->frag_ctx_list);
	lc->frag_ctx_tbl = NULL;
	lc->frag_ctx_list = NULL;
}
