/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet input and output (see eth.h). Input runs on the worker that polled
 * the burst; output on whichever lcore sends, through that lcore's own TX
 * queue, so no two lcores ever share a queue. On a port with a queue per
 * worker only (port.h: lead_tx), the lead's frames ride a ring to the first
 * worker, which sends them on its queue.
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "core/host.h"
#include "core/pkt.h"
#include "drivers/fault.h"
#include "eth/eth.h"
#include "ipv4/ipv4.h"
#include "wire/eth.h"

static uint16_t
eth_iface_of(const struct ph_port *port, uint16_t vlan)
{
	if (vlan == 0)
		return port->untagged_iface;
	if (port->vlan_iface == NULL)
		return PH_IFACE_NONE;
	return port->vlan_iface[vlan];
}

void
eth_input(struct ph_lcore *lc, struct ph_port *port, struct rte_mbuf **pkts, uint16_t n)
{
	struct ph_host *h = lc->host;
	struct rte_mbuf *ip[PH_BURST];
	uint16_t n_ip = 0;

	ph_mib_add(&lc->ctr, PH_MIB_ethInFrames, n);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct ph_pkt_meta *meta = ph_pkt_meta(m);
		const struct ph_iface *ifc;
		struct eth_repr e;
		enum ph_drop why;
		uint16_t ifindex;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		why = eth_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &e);
		if (why != PH_DROP_NONE) {
			ph_drop(lc, m, why);
			continue;
		}
		if (e.vlan != 0)
			ph_mib(lc, PH_MIB_ethInVlanFrames);
		ifindex = eth_iface_of(port, e.vlan);
		if (ifindex == PH_IFACE_NONE) {
			ph_drop(lc, m, PH_DROP_ETH_NO_IFACE);
			continue;
		}
		ifc = ph_iface(h, ifindex);
		meta->ctx = ifc->ctx;
		meta->ifindex = ifindex;
		meta->lead_op = 0;
		meta->flags = 0;
		if (rte_is_broadcast_ether_addr(&e.dst))
			meta->flags |= PH_PKT_L2_BCAST;
		else if (rte_is_multicast_ether_addr(&e.dst))
			meta->flags |= PH_PKT_L2_MCAST;
		else if (!rte_is_same_ether_addr(&e.dst, &ifc->mac)) {
			/* Promiscuous is off, but a tap or a switch may still flood. */
			ph_drop(lc, m, PH_DROP_ETH_OTHER_HOST);
			continue;
		}
		rte_pktmbuf_adj(m, e.hdr_len);
		switch (e.type) {
		case RTE_ETHER_TYPE_IPV4:
			ip[n_ip++] = m;
			break;
		case RTE_ETHER_TYPE_ARP:
			ph_to_lead(lc, m, PH_LEAD_ARP_INPUT);
			break;
		default:
			ph_drop(lc, m, PH_DROP_ETH_UNKNOWN_TYPE);
			break;
		}
	}
	if (n_ip > 0)
		ipv4_input(lc, ip, n_ip);
}

/* Copy a chained packet into one segment, for ports that cannot send chains. */
static struct rte_mbuf *
eth_flatten(struct ph_lcore *lc, struct rte_mbuf *m)
{
	struct rte_mbuf *flat;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const void *src;
	void *dst;

	if (len > (uint32_t)(rte_pktmbuf_data_room_size(m->pool) - RTE_PKTMBUF_HEADROOM))
		return NULL;
	flat = rte_pktmbuf_alloc(lc->host->pool);
	if (flat == NULL)
		return NULL;
	dst = rte_pktmbuf_append(flat, (uint16_t)len);
	src = rte_pktmbuf_read(m, 0, len, dst);
	if (src != dst) /* the data was contiguous after all: nothing was copied */
		memcpy(dst, src, len);
	flat->ol_flags = m->ol_flags;
	flat->tx_offload = m->tx_offload;
	return flat;
}

/* LC's TX queue on PORT: PH_NO_QUEUE for the lead on a port with a queue
 * per worker only (0 - txq_base wraps to it), whose frames are relayed. */
static inline uint16_t
eth_txq(const struct ph_lcore *lc, const struct ph_port *port)
{
	return (uint16_t)(lc->txq - port->txq_base);
}

/* Into LC's TX buffer for PORT, on queue Q (sent when full, or at the
 * poll's flush). */
static inline void
eth_xmit(struct ph_lcore *lc, const struct ph_port *port, uint16_t q, struct rte_mbuf *m)
{
	if (unlikely(port->fault != NULL))
		fault_tx_buffer(port->fault, port->port_id, q, lc->txb[port->index], m,
		                lc->now_tsc);
	else
		rte_eth_tx_buffer(port->port_id, q, lc->txb[port->index], m);
}

/* The first worker: send what the lead queued for ports without a queue of
 * its own. */
static unsigned
eth_relay_lead(struct ph_lcore *lc)
{
	struct ph_host *h = lc->host;
	unsigned moved = 0;

	for (uint16_t p = 0; p < h->n_ports; p++) {
		const struct ph_port *port = &h->ports[p];
		struct rte_mbuf *pkts[PH_BURST];
		unsigned n;

		if (port->lead_tx == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst(port->lead_tx, (void **)pkts, PH_BURST, NULL);
		for (unsigned i = 0; i < n; i++)
			eth_xmit(lc, port, eth_txq(lc, port), pkts[i]);
		moved += n;
	}
	return moved;
}

void
eth_output(struct ph_lcore *lc, struct rte_mbuf *m, uint16_t ifindex,
           const struct rte_ether_addr *dst, uint16_t type)
{
	struct ph_host *h = lc->host;
	const struct ph_iface *ifc = ph_iface(h, ifindex);
	const struct ph_port *port = ph_iface_port(h, ifc);
	uint16_t hl = ifc->vlan ? RTE_ETHER_HDR_LEN + 4 : RTE_ETHER_HDR_LEN, q;
	uint8_t *hdr;

	if (m->nb_segs > 1 && !port->ol.tx_multiseg) {
		struct rte_mbuf *flat = eth_flatten(lc, m);

		rte_pktmbuf_free(m);
		if (flat == NULL) {
			ph_drop_count(&lc->ctr, PH_DROP_NO_MBUF, 1);
			return;
		}
		m = flat;
	}
	hdr = (uint8_t *)rte_pktmbuf_prepend(m, hl);
	if (hdr == NULL) {
		ph_drop(lc, m, PH_DROP_NO_MBUF);
		return;
	}
	eth_emit(hdr, dst, &ifc->mac, ifc->vlan, type);
	m->l2_len = hl;
	ph_mib(lc, PH_MIB_ethOutFrames);
	q = eth_txq(lc, port);
	if (unlikely(q == PH_NO_QUEUE)) {
		/* No queue of the lead's own here: the relaying worker sends it. */
		if (rte_ring_sp_enqueue(port->lead_tx, m) != 0)
			ph_drop(lc, m, PH_DROP_TX_FULL);
		return;
	}
	eth_xmit(lc, port, q, m);
}

static void
eth_tx_unsent(struct rte_mbuf **pkts, uint16_t unsent, void *arg)
{
	ph_drop_bulk(arg, pkts, unsent, PH_DROP_TX_FULL);
}

int
eth_tx_init(struct ph_lcore *lc)
{
	struct ph_host *h = lc->host;

	for (uint16_t p = 0; p < h->n_ports; p++) {
		struct rte_eth_dev_tx_buffer *b =
		        rte_zmalloc_socket("ph_txb", RTE_ETH_TX_BUFFER_SIZE(PH_BURST), 0,
		                           rte_lcore_to_socket_id(lc->lcore_id));

		if (b == NULL)
			return -ENOMEM;
		rte_eth_tx_buffer_init(b, PH_BURST);
		rte_eth_tx_buffer_set_err_callback(b, eth_tx_unsent, lc);
		lc->txb[p] = b;
	}
	return 0;
}

unsigned
eth_tx_flush(struct ph_lcore *lc)
{
	struct ph_host *h = lc->host;
	unsigned sent = 0;

	if (unlikely(lc->index == PH_LEAD_RELAY_LCORE))
		sent += eth_relay_lead(lc);
	for (uint16_t p = 0; p < h->n_ports; p++) {
		const struct ph_port *port = &h->ports[p];
		uint16_t q = eth_txq(lc, port);

		if (lc->txb[p] == NULL || q == PH_NO_QUEUE)
			continue;
		/* Packets fault injection held whose time has come. */
		if (unlikely(port->fault != NULL))
			fault_tx_release(port->fault, port->port_id, q, lc->txb[p], lc->now_tsc);
		if (lc->txb[p]->length > 0)
			sent += rte_eth_tx_buffer_flush(port->port_id, q, lc->txb[p]);
	}
	return sent;
}

void
eth_tx_fini(struct ph_lcore *lc)
{
	struct ph_host *h = lc->host;

	for (uint16_t p = 0; p < h->n_ports; p++) {
		struct rte_ring *relay = h->ports[p].lead_tx;
		struct rte_mbuf *m;

		/* The relaying worker takes what the lead queued with it. */
		while (relay != NULL && lc->index == PH_LEAD_RELAY_LCORE &&
		       rte_ring_sc_dequeue(relay, (void **)&m) == 0)
			ph_drop(lc, m, PH_DROP_SHUTDOWN);
		if (lc->txb[p] == NULL)
			continue;
		/* What could not be sent by now never will be. */
		ph_drop_bulk(lc, lc->txb[p]->pkts, lc->txb[p]->length, PH_DROP_SHUTDOWN);
		rte_free(lc->txb[p]);
		lc->txb[p] = NULL;
	}
}
