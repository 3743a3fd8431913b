/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 (RFC 791, RFC 1122 3.2.1): between Ethernet and the transports.
 *
 * Input takes a burst of tagged packets from Ethernet, validates each header,
 * decides in the packet's routing context whether it is for us (unicast or
 * broadcast), reassembles fragments (rte_ip_frag, one table per lcore,
 * bounded and timed out), and delivers by protocol through the host's
 * handler table; an unknown protocol earns an ICMP protocol unreachable.
 *
 * Output takes a transport payload and its addresses, routes it in its
 * context's FIB, adds the header, fragments above the interface MTU (or
 * refuses when DF is set), and hands it to Ethernet once the next hop's
 * link-layer address is known; an unresolved next hop goes to the lead core,
 * which holds the packet while ARP runs.
 */
#ifndef PH_IPV4_IPV4_H
#define PH_IPV4_IPV4_H

#include <stdbool.h>
#include <stdint.h>

struct ph_lcore;
struct rte_mbuf;

void ipv4_input(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n);
/* Datagrams another lcore validated and handed to this one, their owner
 * (flow/flow.h): reassembly and the transports, as ipv4_input() goes on. */
void ipv4_steered_input(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n);

/* Datagrams not for us, received in contexts that forward (forward.c):
 * routed, checked and sent on, or answered with an ICMP error. */
void ipv4_forward(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n);

/* Datagrams this lcore sent to one of the host's own addresses: fed to
 * ipv4_input() on the next poll, as a loopback interface would. */
unsigned ipv4_loop_poll(struct ph_lcore *lc);

struct ipv4_out {
	uint32_t src; /* host order; 0: the outgoing interface's address toward dst */
	uint32_t dst; /* host order */
	uint16_t ctx;
	uint8_t proto;
	uint8_t tos;
	uint8_t ttl; /* 0: the default (64) */
	bool df;
	/* Offset in the L4 header of a TCP/UDP checksum to fill (pseudo-header
	 * included, by the NIC when it can), 0 for none. */
	uint8_t l4_csum_off;
	/* A TCP send of several segments for the NIC to cut (TSO): payload
	 * bytes per segment, 0 for an ordinary datagram; l4_len is the TCP
	 * header with options, repeated on every segment. */
	uint16_t tso_segsz;
	uint8_t l4_len;
};

/*
 * Send M, whose data starts at the transport header, as one IPv4 datagram.
 * Always consumes M. Returns 0 when it was queued or held for resolution,
 * or -ENETUNREACH, -EADDRNOTAVAIL, -EMSGSIZE, -ENOBUFS (counted drops).
 * -EMSGSIZE for a TSO send means its port cannot cut it (the route moved
 * to one without TSO): send single segments from then on.
 */
int ipv4_output(struct ph_lcore *lc, struct rte_mbuf *m, const struct ipv4_out *o);

/* Send M (data at a complete IPv4 header) to NEXTHOP on IFINDEX, resolving its
 * link-layer address (on this lcore when published, else via the lead core). */
void ipv4_resolve_send(struct ph_lcore *lc, struct rte_mbuf *m, uint16_t ifindex, uint32_t nexthop);

/* Cut M (data at its IPv4 header, DF clear) into fragments of IFC's MTU and
 * send them to NEXTHOP. Consumes M. 0, or -ENOBUFS (counted). */
struct ph_iface;
int ipv4_fragment(struct ph_lcore *lc, struct rte_mbuf *m, const struct ph_iface *ifc,
                  uint32_t nexthop);

/* Per-lcore reassembly table: create, expire old datagrams, destroy. */
int ipv4_frag_init(struct ph_lcore *lc, uint32_t max_datagrams, uint32_t timeout_ms,
                   uint64_t tsc_hz);
void ipv4_frag_expire(struct ph_lcore *lc);
void ipv4_frag_fini(struct ph_lcore *lc);

#endif
