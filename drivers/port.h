/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK ethdev glue: open a port from a device spec (a PCI address or any vdev
 * string), one RX queue per worker lcore and one TX queue per lcore (or per
 * worker, the lead's frames relayed, on a device short of queues), probe
 * its offloads (IPv4/TCP/UDP checksums, multi-segment TX) and program its RSS
 * key and redirection table, then read them back. The start and the end of
 * the packet path: RX bursts come from here, TX bursts go out here.
 */
#ifndef PH_DRIVERS_PORT_H
#define PH_DRIVERS_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "conf/conf.h"
#include "drivers/rss.h"

struct fault_port;
struct rte_mempool;

struct ph_port_setup {
	const char *name;   /* ours, from [port NAME] */
	const char *device; /* as in the config */
	bool is_pci;
	uint16_t n_rxq; /* one per worker */
	uint16_t n_txq; /* one per lcore */
	/* N_TXQ counts a lead (lcore 0) that may send through the first
	 * worker's queue when the device cannot give every lcore one. */
	bool lead_relay_ok;
	uint16_t rx_desc, tx_desc;
	uint16_t mtu;
	bool tso; /* use TCP segmentation offload if the device has it */
	struct rte_mempool *pool;
	const struct ph_rss *rss_key; /* key to program (key and key_len used) */
};

/* Offloads in use on a port. */
struct ph_port_offloads {
	bool rx_ip_csum; /* RX flags tell IPv4 header checksum good/bad */
	bool rx_l4_csum; /* same for TCP/UDP */
	bool tx_ip_csum; /* the NIC fills IPv4 header checksums */
	bool tx_udp_csum;
	bool tx_tcp_csum;
	bool tx_multiseg; /* chained mbufs may be sent as they are */
	/* TCP segmentation offload: one send of up to tso_max payload bytes
	 * (headers apart) leaves as segments of mbuf->tso_segsz bytes. */
	bool tx_tso;
	uint32_t tso_max;
	/* net_tap cuts a TSO send with rte_gso into frames no longer than its
	 * MTU counting the Ethernet header (a real NIC's limit is the MTU
	 * without it): the frame limit that tso_segsz must respect, 0 for
	 * none beyond the MTU. */
	uint16_t tso_frame_max;
};

struct ph_port {
	uint16_t index;   /* ours */
	uint16_t port_id; /* DPDK's */
	char name[PH_NAME_LEN];
	char driver[32];
	uint16_t n_rxq, n_txq;
	uint16_t mtu;
	struct rte_ether_addr mac;
	struct ph_port_offloads ol;
	struct ph_rss rss;
	bool started;
	/* Interfaces on this port (written at start-up, read by workers). */
	uint16_t untagged_iface; /* PH_IFACE_NONE if untagged frames have none */
	uint16_t *vlan_iface;    /* [4096], NULL when the port has no VLANs */
	/* Fault injection (fault.h), NULL when none: set at start-up; each of
	 * its queues is written by the lcore that owns the queue. */
	struct fault_port *fault;
	/* The device has a TX queue per worker, none for the lead: the lead's
	 * frames go into this ring (single producer) and the first worker
	 * sends them on its queue (single consumer). NULL when every lcore
	 * has a queue. Lcore I sends on queue I - txq_base. */
	struct rte_ring *lead_tx;
	uint16_t txq_base;
};

/* The lcore (the first worker) that sends the lead's frames on ports with
 * lead_tx. */
#define PH_LEAD_RELAY_LCORE 1

/*
 * The DPDK port of a configured device, or -ENODEV. A vdev spec is named by
 * what precedes its first comma; a PCI address is normalized to DDDD:BB:DD.F.
 */
int ph_port_find(const char *device, bool is_pci, uint16_t *port_id);

/* Configure and start. 0, or -errno with ERR filled. */
int ph_port_open(struct ph_port *p, const struct ph_port_setup *s, char *err, size_t errlen);
/* Stop and close; posted RX buffers go back to their pool. */
void ph_port_close(struct ph_port *p);

/* The RX queue (so the worker) that owns a flow with Toeplitz hash H. */
static inline uint16_t
ph_port_owner_of(const struct ph_port *p, uint32_t h)
{
	return rss_queue_of(&p->rss, h);
}

/* "up 10000 Mbps full-duplex" / "down" */
void ph_port_link_string(const struct ph_port *p, char *buf, size_t len);

#endif
