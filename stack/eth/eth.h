/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet: the first and the last step of the packet path. Input takes an RX
 * burst from a port, finds the interface (port, or port + 802.1Q VLAN) and so
 * the routing context of every frame, tags it, and passes IPv4 on in a burst
 * and ARP to the lead core. Output prepends the link-layer header (with the
 * interface's tag) and queues the frame on the lcore's own TX queue.
 */
#ifndef PH_ETH_ETH_H
#define PH_ETH_ETH_H

#include <stdint.h>

#include <rte_ether.h>

struct ph_lcore;
struct ph_port;
struct rte_mbuf;

/* Frames of one RX burst from PORT. Consumes every packet. */
void eth_input(struct ph_lcore *lc, struct ph_port *port, struct rte_mbuf **pkts, uint16_t n);

/*
 * Send M (data at the layer-3 header) to DST out of interface IFINDEX with
 * ethertype TYPE. Consumes M: queued, or dropped and counted.
 */
void eth_output(struct ph_lcore *lc, struct rte_mbuf *m, uint16_t ifindex,
                const struct rte_ether_addr *dst, uint16_t type);

/* Allocate the lcore's TX buffers (one per port); 0 or -ENOMEM. */
int eth_tx_init(struct ph_lcore *lc);
void eth_tx_fini(struct ph_lcore *lc);
/* Send what is buffered; returns how many frames went out. */
unsigned eth_tx_flush(struct ph_lcore *lc);

#endif
