/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two ways a packet leaves the fast path without being sent: dropped
 * under a named reason, or handed to the lead core. Every layer of the
 * receive and transmit path ends here for the packets it does not forward.
 */
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "core/host.h"
#include "core/lcore.h"
#include "core/pkt.h"
#include "host/lead.h"

void
ph_drop(struct ph_lcore *lc, struct rte_mbuf *m, enum ph_drop why)
{
	ph_drop_count(&lc->ctr, why, 1);
	rte_pktmbuf_free(m);
}

void
ph_drop_bulk(struct ph_lcore *lc, struct rte_mbuf **m, unsigned n, enum ph_drop why)
{
	if (n == 0)
		return;
	ph_drop_count(&lc->ctr, why, n);
	rte_pktmbuf_free_bulk(m, n);
}

void
ph_to_lead(struct ph_lcore *lc, struct rte_mbuf *m, int op)
{
	ph_pkt_meta(m)->lead_op = (uint8_t)op;
	if (lc->is_lead) {
		lead_dispatch(lc, m);
		return;
	}
	if (lc->n_lead_stage == PH_BURST)
		ph_lead_flush(lc);
	lc->lead_stage[lc->n_lead_stage++] = m;
}

void
ph_lead_flush(struct ph_lcore *lc)
{
	unsigned sent;

	if (lc->n_lead_stage == 0)
		return;
	sent = rte_ring_sp_enqueue_burst(lc->to_lead, (void **)lc->lead_stage, lc->n_lead_stage,
	                                 NULL);
	ph_drop_bulk(lc, lc->lead_stage + sent, lc->n_lead_stage - sent, PH_DROP_LEAD_RING_FULL);
	lc->n_lead_stage = 0;
}
