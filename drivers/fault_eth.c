/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ethdev side of fault injection (see fault.h): an RX burst and a TX
 * buffer call with the faults of fault.c between the port and Ethernet. Only
 * reached when a port has faults configured (host.c and eth.c test the
 * port's pointer first).
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "drivers/fault.h"

/* A burst's outputs and a TX packet's (itself, a copy, released ones). */
#define FAULT_RX_MAX   64
#define FAULT_TX_OUT   8
#define FAULT_TX_BURST 32
/* Held TX packets released per loop iteration, at most this many bursts. */
#define FAULT_TX_ROUNDS 8

uint16_t
fault_rx_burst(struct fault_port *fp, uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts,
               uint16_t cap, uint64_t now)
{
	struct fault_q *q = fp->rx != NULL ? fp->rx[queue] : NULL;
	struct rte_mbuf *in[FAULT_RX_MAX];
	uint16_t n, room, got;

	if (q == NULL)
		return rte_eth_rx_burst(port_id, queue, pkts, cap);
	cap = RTE_MIN(cap, (uint16_t)FAULT_RX_MAX);
	/* Released packets first: they arrived before anything still in the NIC. */
	n = fault_q_release(q, pkts, cap, now);
	/* Then only as many new ones as can come out (duplicates included). */
	room = fault_q_room(q, cap - n);
	if (room == 0)
		return n;
	got = rte_eth_rx_burst(port_id, queue, in, room);
	return n + fault_q_apply(q, in, got, pkts + n, cap - n, now);
}

void
fault_tx_buffer(struct fault_port *fp, uint16_t port_id, uint16_t queue,
                struct rte_eth_dev_tx_buffer *b, struct rte_mbuf *m, uint64_t now)
{
	struct fault_q *q = fp->tx != NULL ? fp->tx[queue] : NULL;
	struct rte_mbuf *out[FAULT_TX_OUT];
	uint16_t n;

	if (q == NULL) {
		rte_eth_tx_buffer(port_id, queue, b, m);
		return;
	}
	n = fault_q_release(q, out, FAULT_TX_OUT - 2, now);
	n += fault_q_apply(q, &m, 1, out + n, FAULT_TX_OUT - n, now);
	for (uint16_t i = 0; i < n; i++)
		rte_eth_tx_buffer(port_id, queue, b, out[i]);
}

unsigned
fault_tx_release(struct fault_port *fp, uint16_t port_id, uint16_t queue,
                 struct rte_eth_dev_tx_buffer *b, uint64_t now)
{
	struct fault_q *q = fp->tx != NULL ? fp->tx[queue] : NULL;
	struct rte_mbuf *out[FAULT_TX_BURST];
	unsigned total = 0;

	for (unsigned r = 0; q != NULL && r < FAULT_TX_ROUNDS; r++) {
		uint16_t n = fault_q_release(q, out, FAULT_TX_BURST, now);

		for (uint16_t i = 0; i < n; i++)
			rte_eth_tx_buffer(port_id, queue, b, out[i]);
		total += n;
		if (n < FAULT_TX_BURST)
			break;
	}
	return total;
}
