/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP (RFC 826) on the lead core: answers requests for our addresses, feeds
 * what it hears to the neighbour table (RFC 826's merge rule), sends the
 * requests the table asks for and gratuitous ARP when an address comes up.
 * Workers never run this: Ethernet input hands every ARP frame to the lead.
 */
#ifndef PH_ARP_ARP_H
#define PH_ARP_ARP_H

#include <stdint.h>

#include <rte_ether.h>

struct ph_lcore;
struct rte_mbuf;

/* M: data at the ARP packet, metadata from Ethernet input. Consumes M. */
void arp_input(struct ph_lcore *lead, struct rte_mbuf *m);

/* A request for IP on IFINDEX: broadcast when DST is NULL, else unicast to DST. */
void arp_solicit(struct ph_lcore *lead, uint16_t ifindex, uint32_t ip,
                 const struct rte_ether_addr *dst);

/* A gratuitous request announcing IP (ours) on IFINDEX. */
void arp_announce(struct ph_lcore *lead, uint16_t ifindex, uint32_t ip);

#endif
