/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-packet metadata carried in an mbuf dynamic field.
 *
 * Ethernet input sets the routing context and the interface from the port (and
 * VLAN) the frame arrived on; every later step reads the context from here, so
 * two contexts with the same addresses never meet. When a worker hands a packet
 * to the lead core (ARP, ICMP, a next hop to resolve, an ICMP error to send),
 * the request travels in the same field. Past Ethernet input, the mbuf data
 * starts at the layer-3 header.
 */
#ifndef PH_CORE_PKT_H
#define PH_CORE_PKT_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

/* What the lead core is asked to do with a packet a worker hands it. */
enum ph_lead_op {
	PH_LEAD_NONE = 0,
	PH_LEAD_ARP_INPUT,  /* an ARP packet received on meta.ifindex */
	PH_LEAD_ICMP_INPUT, /* an ICMP message for us (data at the IP header) */
	PH_LEAD_RESOLVE,    /* an IPv4 packet to send to meta.nexthop on meta.ifindex */
	PH_LEAD_ICMP_ERROR, /* send ICMP meta.icmp_type/code about this packet */
};

/* What an lcore is asked to do with a packet in its inbox (meta.lead_op). */
enum ph_inbox_op {
	PH_INBOX_SOCK_DATA = 1, /* a datagram for socket meta.sock (data at the payload) */
	PH_INBOX_SOCK_ERROR,    /* ICMP meta.icmp_type/code for socket meta.sock */
	PH_INBOX_TCP_SEG,       /* a TCP segment (data at the IPv4 header) for this lcore's TCP */
	PH_INBOX_TCP_ICMP,      /* an ICMP error (data at its IPv4 header) about a TCP segment */
};

/* meta.flags */
#define PH_PKT_L2_BCAST 0x01 /* arrived in a link-layer broadcast frame */
#define PH_PKT_L2_MCAST 0x02 /* arrived in a link-layer multicast frame */
#define PH_PKT_IP_BCAST 0x04 /* IPv4 destination is a broadcast address */
#define PH_PKT_LOOPED   0x08 /* sent by this host to itself: checksums are known good */
#define PH_PKT_STEERED  0x10 /* handed to its owner lcore (flow/flow.h): not again */

struct ph_pkt_meta {
	uint16_t ctx;      /* routing context: from the interface on receive */
	uint16_t ifindex;  /* interface it arrived on / leaves by */
	uint8_t lead_op;   /* enum ph_lead_op */
	uint8_t icmp_type; /* PH_LEAD_ICMP_ERROR */
	uint8_t icmp_code;
	uint8_t flags; /* PH_PKT_* */
	union {
		uint32_t nexthop; /* PH_LEAD_RESOLVE: next hop, host order */
		int32_t sock;     /* PH_INBOX_*: the socket (descriptor) it is for */
	};
	uint32_t local; /* the local address an input packet was sent to, host order */
};

/* Offset of the field in struct rte_mbuf; set once by ph_pkt_meta_register(). */
extern int ph_pkt_meta_offset;

static inline struct ph_pkt_meta *
ph_pkt_meta(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, ph_pkt_meta_offset, struct ph_pkt_meta *);
}

/* Register the dynamic field (needs EAL). Returns 0 or -errno. */
int ph_pkt_meta_register(void);

#endif
