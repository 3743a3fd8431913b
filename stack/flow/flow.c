/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow ownership and steering (see flow.h): IPv4 input asks here which lcore
 * owns a packet it validated, hands the packet over when that is another
 * lcore, and the owner's loop takes it back into IPv4 input
 * (ipv4_steered_input). Active opens ask flow_reply_way() how to choose a
 * source port whose replies land on the opening lcore.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "core/host.h"
#include "core/pkt.h"
#include "ctx/ctx.h"
#include "flow/flow.h"
#include "ipv4/ipv4.h"
#include "wire/ipv4.h"

uint16_t
flow_owner_hash(const struct ph_host *h, const struct ph_port *p, uint32_t hash)
{
	return flow_lcore_of_queue(h->n_lcores, h->n_workers, ph_port_owner_of(p, hash));
}

uint16_t
flow_owner_l4(const struct ph_host *h, const struct ph_port *p, uint32_t src, uint32_t dst,
              uint16_t sport, uint16_t dport)
{
	return flow_owner_hash(h, p, rss_hash_ipv4_l4(&p->rss, src, dst, sport, dport));
}

uint16_t
flow_owner_l3(const struct ph_host *h, const struct ph_port *p, uint32_t src, uint32_t dst)
{
	return flow_owner_hash(h, p, rss_hash_ipv4(&p->rss, src, dst));
}

uint16_t
flow_owner_of(const struct ph_lcore *lc, struct rte_mbuf *m, const struct ipv4_repr *r)
{
	struct ph_host *h = lc->host;
	const struct ph_pkt_meta *meta = ph_pkt_meta(m);
	bool frag = ipv4_is_fragment(r);
	const struct ph_port *port;
	uint8_t buf[4];
	const uint8_t *ports;

	if (h->n_workers < 2 || (r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP) ||
	    (meta->flags & (PH_PKT_LOOPED | PH_PKT_IP_BCAST)))
		return lc->index;
	port = ph_iface_port(h, ph_iface(h, meta->ifindex));
	/* The NIC's own hash, when it hashed this kind of packet as the
	 * software does (the same key and input): a table lookup, no hash. */
	if (port->rss.hw && (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) &&
	    (port->rss.hf & (frag                      ? RTE_ETH_RSS_FRAG_IPV4
	                     : r->proto == IPPROTO_TCP ? RTE_ETH_RSS_NONFRAG_IPV4_TCP
	                                               : RTE_ETH_RSS_NONFRAG_IPV4_UDP)))
		return flow_owner_hash(h, port, m->hash.rss);
	if (frag)
		return flow_owner_l3(h, port, r->src, r->dst);
	ports = rte_pktmbuf_read(m, r->hdr_len, sizeof(buf), buf);
	if (ports == NULL)
		return lc->index; /* truncated: the transport counts it */
	return flow_owner_l4(h, port, r->src, r->dst, (uint16_t)(ports[0] << 8 | ports[1]),
	                     (uint16_t)(ports[2] << 8 | ports[3]));
}

enum flow_reply
flow_reply_way(const struct ph_lcore *lc, uint16_t ctx, uint32_t raddr, const struct ph_port **port)
{
	struct ph_host *h = lc->host;
	const struct ph_local *l;
	const struct ph_nexthop *nh;

	if (!lc->is_worker)
		return FLOW_REPLY_NEVER;
	l = ctx_local_lookup(h, ctx, raddr);
	if (l != NULL && l->kind == PH_LOCAL_UNICAST && h->n_lcores > 1)
		return FLOW_REPLY_NEVER;
	if (h->n_workers < 2)
		return FLOW_REPLY_ANY;
	nh = ctx_route(h, ctx, raddr);
	if (nh == NULL)
		return FLOW_REPLY_ANY; /* the connect fails on the route anyway */
	*port = ph_iface_port(h, ph_iface(h, nh->ifindex));
	if (lc->rxq >= (*port)->n_rxq)
		return FLOW_REPLY_NEVER;
	return FLOW_REPLY_BY_PORT;
}

void
flow_steer(struct ph_lcore *lc, struct rte_mbuf *m, uint16_t owner)
{
	struct flow_stage *s = &lc->steer_out[owner];

	ph_pkt_meta(m)->flags |= PH_PKT_STEERED;
	s->m[s->n++] = m;
	lc->n_steer_staged++;
	if (s->n == PH_BURST)
		flow_flush(lc);
}

void
flow_flush(struct ph_lcore *lc)
{
	struct ph_host *h = lc->host;

	if (lc->n_steer_staged == 0)
		return;
	for (uint16_t i = 0; i < h->n_lcores; i++) {
		struct flow_stage *s = &lc->steer_out[i];
		unsigned sent;

		if (s->n == 0)
			continue;
		sent = rte_ring_sp_enqueue_burst(h->lcores[i]->steer_in[lc->index], (void **)s->m,
		                                 s->n, NULL);
		ph_mib_add(&lc->ctr, PH_MIB_steered_pkts, sent);
		if (sent < s->n)
			ph_drop_bulk(lc, s->m + sent, s->n - sent, PH_DROP_STEER_RING_FULL);
		s->n = 0;
	}
	lc->n_steer_staged = 0;
}

unsigned
flow_poll(struct ph_lcore *lc)
{
	struct ph_host *h = lc->host;
	unsigned total = 0;

	if (lc->steer_in == NULL)
		return 0;
	for (uint16_t i = 0; i < h->n_lcores; i++) {
		struct rte_mbuf *pkts[PH_BURST];
		unsigned n;

		if (lc->steer_in[i] == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst(lc->steer_in[i], (void **)pkts, PH_BURST, NULL);
		if (n == 0)
			continue;
		ph_mib_add(&lc->ctr, PH_MIB_steered_in, n);
		ipv4_steered_input(lc, pkts, (uint16_t)n);
		total += n;
	}
	return total;
}

int
flow_host_init(struct ph_host *h)
{
	if (h->n_workers < 2)
		return 0; /* one worker owns every flow */
	for (uint16_t d = 0; d < h->n_lcores; d++) {
		struct ph_lcore *dst = h->lcores[d];
		int numa = (int)rte_lcore_to_socket_id(dst->lcore_id);

		if (!dst->is_worker)
			continue;
		dst->steer_in = rte_zmalloc_socket("ph_steer_in",
		                                   h->n_lcores * sizeof(*dst->steer_in), 0, numa);
		dst->steer_out =
		        rte_zmalloc_socket("ph_steer_out", h->n_lcores * sizeof(*dst->steer_out),
		                           RTE_CACHE_LINE_SIZE, numa);
		if (dst->steer_in == NULL || dst->steer_out == NULL)
			return -ENOMEM;
		for (uint16_t s = 0; s < h->n_lcores; s++) {
			char name[RTE_RING_NAMESIZE];

			if (s == d || !h->lcores[s]->is_worker)
				continue;
			snprintf(name, sizeof(name), "ph_steer_%u_%u", s, d);
			dst->steer_in[s] = rte_ring_create(name, FLOW_STEER_RING, numa,
			                                   RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (dst->steer_in[s] == NULL)
				return -rte_errno;
		}
	}
	return 0;
}

void
flow_host_fini(struct ph_host *h)
{
	for (uint16_t d = 0; d < h->n_lcores; d++) {
		struct ph_lcore *lc = h->lcores[d];

		if (lc == NULL)
			continue;
		if (lc->steer_out != NULL) {
			for (uint16_t i = 0; i < h->n_lcores; i++) {
				ph_drop_bulk(lc, lc->steer_out[i].m, lc->steer_out[i].n,
				             PH_DROP_SHUTDOWN);
				lc->steer_out[i].n = 0;
			}
			lc->n_steer_staged = 0;
			rte_free(lc->steer_out);
			lc->steer_out = NULL;
		}
		if (lc->steer_in != NULL) {
			for (uint16_t s = 0; s < h->n_lcores; s++) {
				struct rte_mbuf *m;

				if (lc->steer_in[s] == NULL)
					continue;
				while (rte_ring_sc_dequeue(lc->steer_in[s], (void **)&m) == 0)
					ph_drop(lc, m, PH_DROP_SHUTDOWN);
				rte_ring_free(lc->steer_in[s]);
			}
			rte_free(lc->steer_in);
			lc->steer_in = NULL;
		}
	}
}
