/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lead core (see lead.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "arp/arp.h"
#include "arp/neigh_pub.h"
#include "arp/neigh_table.h"
#include "core/host.h"
#include "core/pkt.h"
#include "eth/eth.h"
#include "host/lead.h"
#include "icmp/icmp.h"

#define NEIGH_TICK_MS 10
#define LINK_CHECK_MS 100

static void
lead_publish(void *arg, uint16_t ctx, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct ph_lcore *lead = arg;

	if (neigh_pub_set(lead->host, ctx, ip, mac) != 0)
		RTE_LOG(WARNING, USER1, "neighbour %u.%u.%u.%u: published table full\n", ip >> 24,
		        (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static void
lead_unpublish(void *arg, uint16_t ctx, uint32_t ip)
{
	struct ph_lcore *lead = arg;

	neigh_pub_del(lead->host, ctx, ip);
}

static void
lead_solicit(void *arg, uint16_t ctx, uint16_t ifindex, uint32_t ip,
             const struct rte_ether_addr *dst)
{
	(void)ctx; /* the interface belongs to it */
	arp_solicit(arg, ifindex, ip, dst);
}

static void
lead_transmit(void *arg, struct rte_mbuf *m, uint16_t ifindex, const struct rte_ether_addr *mac)
{
	eth_output(arg, m, ifindex, mac, RTE_ETHER_TYPE_IPV4);
}

static void
lead_drop(void *arg, struct rte_mbuf *m, enum ph_drop why)
{
	ph_drop(arg, m, why);
}

static const struct neigh_ops lead_neigh_ops = {
        .publish = lead_publish,
        .unpublish = lead_unpublish,
        .solicit = lead_solicit,
        .transmit = lead_transmit,
        .drop = lead_drop,
};

int
lead_init(struct ph_lcore *lead)
{
	const struct ph_conf_host *c = &lead->host->conf->host;
	struct neigh_params p = {
	        .max_entries = c->neigh_max,
	        .max_pending = c->neigh_queue,
	        .max_pending_total = c->neigh_queue_total,
	        .reachable_ms = c->neigh_reachable_ms,
	        .retrans_ms = c->neigh_retrans_ms,
	        .mcast_probes = c->neigh_mcast_probes,
	        .ucast_probes = c->neigh_ucast_probes,
	};
	struct ph_lead *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -ENOMEM;
	l->neigh = neigh_table_create(&p, &lead_neigh_ops, lead);
	if (l->neigh == NULL) {
		int rc = -errno;

		free(l);
		return rc;
	}
	l->icmp_tokens = (uint64_t)c->icmp_burst * 1000;
	lead->lead = l;
	return 0;
}

void
lead_fini(struct ph_lcore *lead)
{
	if (lead->lead == NULL)
		return;
	neigh_table_destroy(lead->lead->neigh);
	free(lead->lead);
	lead->lead = NULL;
}

void
lead_dispatch(struct ph_lcore *lead, struct rte_mbuf *m)
{
	struct ph_pkt_meta *meta = ph_pkt_meta(m);

	switch (meta->lead_op) {
	case PH_LEAD_ARP_INPUT:
		arp_input(lead, m);
		break;
	case PH_LEAD_ICMP_INPUT:
		icmp_input(lead, m);
		break;
	case PH_LEAD_RESOLVE:
		neigh_resolve(lead->lead->neigh, meta->ctx, meta->ifindex, meta->nexthop, m,
		              lead->now_ms);
		break;
	case PH_LEAD_ICMP_ERROR:
		icmp_error(lead, m);
		break;
	default:
		/* Only a bug gets here; keep the mbuf accounted for all the same. */
		ph_drop(lead, m, PH_DROP_LEAD_BAD_REQUEST);
		break;
	}
}

/* Mailbox requests from other threads. */
enum { REQ_PENDING, REQ_RUNNING, REQ_DONE, REQ_ABANDONED };

struct lead_req {
	lead_call_fn fn;
	void *arg;
	int state;
};

static unsigned
lead_mbox_poll(struct ph_lcore *lead)
{
	void *reqs[8];
	unsigned n = rte_ring_sc_dequeue_burst(lead->host->lead_mbox, reqs, RTE_DIM(reqs), NULL);

	for (unsigned i = 0; i < n; i++) {
		struct lead_req *r = reqs[i];
		int expect = REQ_PENDING;

		if (!__atomic_compare_exchange_n(&r->state, &expect, REQ_RUNNING, false,
		                                 __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
			free(r); /* the caller gave up: the request is ours to free */
			continue;
		}
		r->fn(lead, r->arg);
		__atomic_store_n(&r->state, REQ_DONE, __ATOMIC_RELEASE);
	}
	return n;
}

int
lead_call(struct ph_host *h, lead_call_fn fn, void *arg, unsigned timeout_ms)
{
	struct lead_req *r = malloc(sizeof(*r));
	const struct timespec tick = {.tv_nsec = 200 * 1000};
	unsigned waited_us = 0;

	if (r == NULL)
		return -ENOMEM;
	*r = (struct lead_req){.fn = fn, .arg = arg, .state = REQ_PENDING};
	if (rte_ring_mp_enqueue(h->lead_mbox, r) != 0) {
		free(r);
		return -ENOBUFS;
	}
	for (;;) {
		int s = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);

		if (s == REQ_DONE) {
			free(r);
			return 0;
		}
		if (s == REQ_PENDING && waited_us >= timeout_ms * 1000u) {
			int expect = REQ_PENDING;

			if (__atomic_compare_exchange_n(&r->state, &expect, REQ_ABANDONED, false,
			                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return -ETIMEDOUT; /* the lead frees it */
			continue;                  /* it started meanwhile: wait for the end */
		}
		nanosleep(&tick, NULL);
		waited_us += 200;
	}
}

static bool
port_link_up(const struct ph_port *p)
{
	struct rte_eth_link link;

	return rte_eth_link_get_nowait(p->port_id, &link) == 0 &&
	       link.link_status == RTE_ETH_LINK_UP;
}

void
lead_start(struct ph_lcore *lead)
{
	const struct ph_host *h = lead->host;

	for (uint16_t p = 0; p < h->n_ports; p++)
		lead->lead->link_up[p] = port_link_up(&h->ports[p]);
	for (uint16_t i = 0; i < h->n_ifaces; i++)
		for (unsigned a = 0; a < h->ifaces[i].n_addrs; a++)
			arp_announce(lead, i, h->ifaces[i].addrs[a].ip);
}

/* A link that came up (a memif whose peer connected, a cable plugged in):
 * announce our addresses on it again and resolve at once what waited, for
 * both went nowhere while it was down. */
static void
lead_link_check(struct ph_lcore *lead)
{
	struct ph_host *h = lead->host;
	struct ph_lead *l = lead->lead;

	for (uint16_t p = 0; p < h->n_ports; p++) {
		bool up = port_link_up(&h->ports[p]);

		if (up == l->link_up[p])
			continue;
		l->link_up[p] = up;
		RTE_LOG(NOTICE, USER1, "port %s: link %s\n", h->ports[p].name, up ? "up" : "down");
		if (!up)
			continue;
		for (uint16_t i = 0; i < h->n_ifaces; i++) {
			const struct ph_iface *ifc = &h->ifaces[i];

			if (ph_iface_port(h, ifc) != &h->ports[p])
				continue;
			for (unsigned a = 0; a < ifc->n_addrs; a++)
				arp_announce(lead, i, ifc->addrs[a].ip);
			neigh_link_up(l->neigh, i, lead->now_ms);
		}
		l->next_neigh_tick_ms = lead->now_ms; /* the requests go now */
	}
}

unsigned
lead_poll(struct ph_lcore *lead)
{
	struct ph_host *h = lead->host;
	struct ph_lead *l = lead->lead;
	unsigned work = 0;

	for (uint16_t i = 0; i < h->n_lcores; i++) {
		struct ph_lcore *w = h->lcores[i];
		struct rte_mbuf *pkts[PH_BURST];
		unsigned n;

		if (w == lead || w->to_lead == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst(w->to_lead, (void **)pkts, PH_BURST, NULL);
		for (unsigned k = 0; k < n; k++)
			lead_dispatch(lead, pkts[k]);
		work += n;
	}
	work += lead_mbox_poll(lead);
	if (lead->now_ms >= l->next_link_check_ms) {
		lead_link_check(lead);
		l->next_link_check_ms = lead->now_ms + LINK_CHECK_MS;
	}
	if (lead->now_ms >= l->next_neigh_tick_ms) {
		neigh_tick(l->neigh, lead->now_ms);
		l->next_neigh_tick_ms = lead->now_ms + NEIGH_TICK_MS;
	}
	return work;
}
