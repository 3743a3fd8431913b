/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port set-up (see port.h): the one place that talks to rte_ethdev about
 * configuration. Whatever the device cannot do is done in software by the
 * stack, and what it can do is recorded in struct ph_port for the packet path.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "drivers/port.h"

/* DPDK 22.11's net_tap: see ph_port_open(). */
#define TAP_MAX_QUEUES 4

#define PH_RSS_HF                                                                                  \
	(RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP |                 \
	 RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_NONFRAG_IPV4_OTHER)

int
ph_port_find(const char *device, bool is_pci, uint16_t *port_id)
{
	char name[RTE_ETH_NAME_MAX_LEN];

	if (is_pci && strchr(device, ':') == strrchr(device, ':'))
		snprintf(name, sizeof(name), "0000:%s", device); /* BB:DD.F */
	else
		strlcpy(name, device, sizeof(name));
	if (!is_pci)
		name[strcspn(name, ",")] = '\0';
	if (rte_eth_dev_get_port_by_name(name, port_id) != 0)
		return -ENODEV;
	return 0;
}

static int __attribute__((format(printf, 4, 5)))
port_err(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Program the redirection table: bucket i -> queue i % n_rxq, then read back
 * what the device holds, which is what decides where packets land.
 */
static int
port_program_reta(struct ph_port *p, uint16_t reta_size)
{
	struct rte_eth_rss_reta_entry64 conf[PH_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	unsigned groups = reta_size / RTE_ETH_RETA_GROUP_SIZE;
	int rc;

	if (reta_size == 0 || reta_size > PH_RETA_MAX || reta_size % RTE_ETH_RETA_GROUP_SIZE)
		return -ENOTSUP;
	memset(conf, 0, sizeof(conf));
	for (unsigned i = 0; i < reta_size; i++) {
		conf[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
		conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
		        (uint16_t)(i % p->n_rxq);
	}
	rc = rte_eth_dev_rss_reta_update(p->port_id, conf, reta_size);
	if (rc != 0)
		return rc;
	for (unsigned g = 0; g < groups; g++)
		conf[g].mask = ~0ULL;
	rc = rte_eth_dev_rss_reta_query(p->port_id, conf, reta_size);
	if (rc != 0)
		return rc;
	p->rss.reta_size = reta_size;
	for (unsigned i = 0; i < reta_size; i++)
		p->rss.reta[i] =
		        conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
	return 0;
}

/* Read the key back; the device is trusted to hash only if it kept ours. */
/* TCP segmentation offload: on when asked for and the device can cut TCP
 * sends, fill checksums and take chained mbufs (the stack's large sends are
 * chains). A send is at most what an IPv4 datagram holds, and no more
 * segments of the pool's mbufs than the device takes in one packet. */
static void
port_tso(struct ph_port *p, const struct ph_port_setup *s, const struct rte_eth_dev_info *info)
{
	const uint64_t need = RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
	                      RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	uint32_t room = rte_pktmbuf_data_room_size(s->pool) - RTE_PKTMBUF_HEADROOM;

	p->ol.tx_tso = s->tso && (info->tx_offload_capa & need) == need;
	p->ol.tso_max = 0;
	p->ol.tso_frame_max = 0;
	if (!p->ol.tx_tso)
		return;
	p->ol.tso_max = 65535 - 20 - 60; /* IPv4 total length, largest headers */
	if (info->tx_desc_lim.nb_seg_max > 1 &&
	    (uint32_t)(info->tx_desc_lim.nb_seg_max - 1) * room < p->ol.tso_max)
		p->ol.tso_max = (uint32_t)(info->tx_desc_lim.nb_seg_max - 1) * room;
	if (strcmp(info->driver_name, "net_tap") == 0)
		p->ol.tso_frame_max = s->mtu;
}

static void
port_read_rss(struct ph_port *p, const struct rte_eth_dev_info *info)
{
	uint8_t key[PH_RSS_KEY_MAX] = {0};
	struct rte_eth_rss_conf rc = {.rss_key = key, .rss_key_len = p->rss.key_len};

	p->rss.hw = false;
	if (rte_eth_dev_rss_hash_conf_get(p->port_id, &rc) != 0 || rc.rss_hf == 0)
		return;
	if (memcmp(key, p->rss.key, p->rss.key_len) != 0)
		return;
	p->rss.hf = rc.rss_hf;
	if (port_program_reta(p, info->reta_size) != 0)
		return;
	p->rss.hw = true;
}

int
ph_port_open(struct ph_port *p, const struct ph_port_setup *s, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t rx_desc = s->rx_desc, tx_desc = s->tx_desc, tx_max;
	uint32_t frame;
	bool tap, memif;
	int rc;

	strlcpy(p->name, s->name, sizeof(p->name));
	rc = ph_port_find(s->device, s->is_pci, &p->port_id);
	if (rc != 0)
		return port_err(err, errlen, rc, "port %s: no device '%s' (EAL did not probe it)",
		                s->name, s->device);
	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0)
		return port_err(err, errlen, rc, "port %s: cannot read device info: %s", s->name,
		                rte_strerror(-rc));
	strlcpy(p->driver, info.driver_name, sizeof(p->driver));
	tap = strcmp(info.driver_name, "net_tap") == 0;
	memif = strcmp(info.driver_name, "net_memif") == 0;
	tx_max = info.max_tx_queues;
	/* DPDK 22.11's tap passes every queue's descriptor in one
	 * multi-process message of 8 at start, and overruns it beyond. */
	if (tap)
		tx_max = RTE_MIN(tx_max, TAP_MAX_QUEUES);
	p->n_txq = s->n_txq;
	p->txq_base = 0;
	if (s->n_txq > tx_max && s->lead_relay_ok && s->n_txq - 1 <= tx_max) {
		/* A queue per worker: the lead's few frames (ARP, ICMP, what
		 * waited on ARP) go out through the first worker's. */
		p->n_txq = (uint16_t)(s->n_txq - 1);
		p->txq_base = 1;
	}
	if (tap && RTE_MAX(s->n_rxq, p->n_txq) > tx_max)
		return port_err(err, errlen, -EINVAL,
		                "port %s: net_tap takes at most %u queues in DPDK 22.11 "
		                "(one per worker: use at most %u workers)",
		                s->name, TAP_MAX_QUEUES, TAP_MAX_QUEUES);
	if (s->n_rxq > info.max_rx_queues || p->n_txq > tx_max)
		return port_err(err, errlen, -EINVAL,
		                "port %s: needs %u RX and %u TX queues, %s has %u and %u", s->name,
		                s->n_rxq, p->n_txq, info.driver_name, info.max_rx_queues, tx_max);
	if (s->mtu > info.max_mtu || s->mtu < info.min_mtu)
		return port_err(err, errlen, -EINVAL, "port %s: MTU %u outside %s's %u..%u",
		                s->name, s->mtu, info.driver_name, info.min_mtu, info.max_mtu);
	p->n_rxq = s->n_rxq;
	/* A tap's queues are kernel queue pairs, and a memif's rings are paired
	 * with its peer's the other way round: both want as many RX as TX
	 * queues. The extra RX queues are polled by the workers round-robin
	 * (host.c). */
	if (memif || tap)
		p->n_rxq = p->n_txq = RTE_MAX(p->n_rxq, p->n_txq);
	p->mtu = s->mtu;

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = s->mtu;
	/* Offloads: take what the device has; the stack does the rest in software. */
	p->ol.rx_ip_csum = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	p->ol.rx_l4_csum = (info.rx_offload_capa &
	                    (RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM)) ==
	                   (RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM);
	p->ol.tx_ip_csum = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	p->ol.tx_udp_csum = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	p->ol.tx_tcp_csum = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	p->ol.tx_multiseg = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	port_tso(p, s, &info);
	if (p->ol.rx_ip_csum)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	if (p->ol.rx_l4_csum)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	if (p->ol.tx_ip_csum)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	if (p->ol.tx_udp_csum)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	if (p->ol.tx_tcp_csum)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	if (p->ol.tx_multiseg)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (p->ol.tx_tso)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
	/* Frames larger than one mbuf arrive chained, if the device can do it. */
	frame = s->mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 4 /* one VLAN tag */;
	if (frame > (uint32_t)(rte_pktmbuf_data_room_size(s->pool) - RTE_PKTMBUF_HEADROOM)) {
		if (!(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER))
			return port_err(err, errlen, -EINVAL,
			                "port %s: MTU %u needs RX scatter, which %s lacks", s->name,
			                s->mtu, info.driver_name);
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	}

	/* RSS with our key; the table is programmed once the port is started. */
	p->rss.key_len = s->rss_key->key_len;
	memcpy(p->rss.key, s->rss_key->key, sizeof(p->rss.key));
	if (info.hash_key_size != 0 && info.hash_key_size <= PH_RSS_KEY_MAX &&
	    info.hash_key_size != p->rss.key_len) {
		/* Devices take the length they take: extend or cut our key (40 is the norm). */
		if (info.hash_key_size > p->rss.key_len)
			memcpy(p->rss.key + p->rss.key_len, s->rss_key->key,
			       info.hash_key_size - p->rss.key_len);
		p->rss.key_len = info.hash_key_size;
	}
	p->rss.hf = 0;
	if (p->n_rxq > 1 && (info.flow_type_rss_offloads & PH_RSS_HF) != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = p->rss.key;
		conf.rx_adv_conf.rss_conf.rss_key_len = p->rss.key_len;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & PH_RSS_HF;
	}
	/* Over the queues the host asked for, one per worker: a tap or memif
	 * pairs every TX queue with an RX queue, and the extra RX queues are
	 * polled round-robin, so naming them would give their pollers more
	 * flows than the rest. */
	rss_reta_spread(&p->rss, info.reta_size ? info.reta_size : 128, s->n_rxq);

	rc = rte_eth_dev_configure(p->port_id, p->n_rxq, p->n_txq, &conf);
	if (rc != 0)
		return port_err(err, errlen, rc, "port %s: configure failed: %s", s->name,
		                rte_strerror(-rc));
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rx_desc, &tx_desc);
	if (rc != 0)
		return port_err(err, errlen, rc, "port %s: descriptor counts: %s", s->name,
		                rte_strerror(-rc));
	for (uint16_t q = 0; q < p->n_rxq; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;

		rxc.offloads = conf.rxmode.offloads;
		rc = rte_eth_rx_queue_setup(p->port_id, q, rx_desc,
		                            rte_eth_dev_socket_id(p->port_id), &rxc, s->pool);
		if (rc != 0)
			return port_err(err, errlen, rc, "port %s: RX queue %u: %s", s->name, q,
			                rte_strerror(-rc));
	}
	for (uint16_t q = 0; q < p->n_txq; q++) {
		struct rte_eth_txconf txc = info.default_txconf;

		txc.offloads = conf.txmode.offloads;
		rc = rte_eth_tx_queue_setup(p->port_id, q, tx_desc,
		                            rte_eth_dev_socket_id(p->port_id), &txc);
		if (rc != 0)
			return port_err(err, errlen, rc, "port %s: TX queue %u: %s", s->name, q,
			                rte_strerror(-rc));
	}
	rc = rte_eth_macaddr_get(p->port_id, &p->mac);
	if (rc != 0)
		return port_err(err, errlen, rc, "port %s: no MAC address: %s", s->name,
		                rte_strerror(-rc));
	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0)
		return port_err(err, errlen, rc, "port %s: start failed: %s", s->name,
		                rte_strerror(-rc));
	p->started = true;
	if (p->txq_base != 0) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "ph_lead_tx_%u", p->index);
		p->lead_tx = rte_ring_create(name, 1024, rte_eth_dev_socket_id(p->port_id),
		                             RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (p->lead_tx == NULL) {
			rc = -rte_errno;
			ph_port_close(p);
			return port_err(err, errlen, rc, "port %s: lead's TX ring: %s", s->name,
			                rte_strerror(-rc));
		}
	}
	/* A host wants its own unicast, broadcast and the multicast it joins. */
	rte_eth_promiscuous_disable(p->port_id);
	if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS)
		port_read_rss(p, &info);
	return 0;
}

void
ph_port_close(struct ph_port *p)
{
	if (p->lead_tx != NULL) {
		struct rte_mbuf *m;

		/* Frames the lead queued after the workers stopped. */
		while (rte_ring_sc_dequeue(p->lead_tx, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(p->lead_tx);
		p->lead_tx = NULL;
	}
	if (p->started) {
		rte_eth_dev_stop(p->port_id);
		p->started = false;
	}
	rte_eth_dev_close(p->port_id);
}

void
ph_port_link_string(const struct ph_port *p, char *buf, size_t len)
{
	struct rte_eth_link link;

	if (rte_eth_link_get_nowait(p->port_id, &link) != 0) {
		snprintf(buf, len, "unknown");
		return;
	}
	rte_eth_link_to_str(buf, len, &link);
}
