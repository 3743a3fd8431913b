/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host start-up, the per-lcore loop and shutdown (see host.h). The loop is
 * where a packet's life starts and ends: RX burst -> Ethernet input -> ... ->
 * TX buffers flushed once per iteration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <bsd/string.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "arp/neigh_pub.h"
#include "core/host.h"
#include "core/pkt.h"
#include "drivers/fault.h"
#include "eth/eth.h"
#include "host/host.h"
#include "host/lead.h"
#include "icmp/icmp.h"
#include "flow/flow.h"
#include "ipv4/ipv4.h"
#include "sock/sock.h"
#include "tcp/tcp_glue.h"
#include "tcp/tcp_share.h"
#include "udp/udp.h"

#define POOL_CACHE     256
#define TO_LEAD_RING   1024
#define LEAD_MBOX_RING 64
#define INBOX_RING     1024
#define LOOP_RING      1024
#define INDIRECT_MBUFS 8192
#define RCU_DQ_SIZE    4096
/* Datagrams queued on sockets, host-wide, that the pool is sized for. */
#define SOCKET_MBUFS         8192
#define FRAG_EXPIRE_EVERY_MS 100
/* Empty iterations before an idle lcore starts to sleep. */
#define IDLE_SPIN    256
#define EAL_MAX_ARGS 128

static int __attribute__((format(printf, 4, 5)))
host_err(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc < 0 ? rc : -EINVAL;
}

/* EAL's argv: the configured arguments, the lcores, and one device per port. */
static int
host_eal_init(const struct ph_conf *conf, const char *argv0, char *err, size_t errlen)
{
	static char args[sizeof(conf->eal_args)];
	char *argv[EAL_MAX_ARGS];
	int argc = 0;
	char *save = NULL;

	strlcpy(args, conf->eal_args, sizeof(args));
	argv[argc++] = (char *)(uintptr_t)argv0;
	for (char *t = strtok_r(args, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
		if (argc >= EAL_MAX_ARGS - 2 * PH_CONF_MAX_PORTS - 3)
			return host_err(err, errlen, -E2BIG, "%s: [eal] args: too many",
			                conf->path);
		argv[argc++] = t;
	}
	if (conf->lcores[0] != '\0') {
		argv[argc++] = (char *)"--lcores";
		argv[argc++] = (char *)(uintptr_t)conf->lcores;
	}
	for (unsigned i = 0; i < conf->n_ports; i++) {
		argv[argc++] = (char *)(conf->ports[i].is_pci ? "-a" : "--vdev");
		argv[argc++] = (char *)(uintptr_t)conf->ports[i].device;
	}
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0)
		return host_err(err, errlen, -rte_errno, "EAL: %s (arguments from %s, [eal])",
		                rte_strerror(rte_errno), conf->path);
	return 0;
}

static unsigned
host_pool_size(const struct ph_host *h, const struct ph_conf *conf)
{
	const struct ph_conf_host *c = &conf->host;
	unsigned n = 0;

	if (c->mbufs != 0)
		return c->mbufs;
	for (unsigned i = 0; i < conf->n_ports; i++)
		n += h->n_workers * conf->ports[i].rx_desc + h->n_lcores * conf->ports[i].tx_desc;
	n += h->n_lcores * (POOL_CACHE + PH_BURST * (conf->n_ports + 2));
	n += h->n_workers * (TO_LEAD_RING + RTE_MIN(c->frag_max_datagrams * 8u, 4096u));
	n += c->neigh_queue_total;
	n += h->n_lcores * (INBOX_RING + LOOP_RING) + SOCKET_MBUFS;
	if (h->n_workers > 1)
		n += (unsigned)h->n_workers * (h->n_workers - 1u) * FLOW_STEER_RING;
	/* What fault injection may hold, on every RX and TX queue. */
	for (unsigned i = 0; i < conf->n_ports; i++)
		n += fault_spec_mbufs(&conf->ports[i].fault) * (h->n_workers + h->n_lcores);
	return n + 4096;
}

/* The main lcore is the lead and comes first; the others are workers. With a
 * single lcore, the lead is its own worker. */
static int
host_lcores(struct ph_host *h)
{
	unsigned ids[RTE_MAX_LCORE], id;
	uint16_t n = 0, rxq = 0;

	ids[n++] = rte_get_main_lcore();
	RTE_LCORE_FOREACH_WORKER(id)
	ids[n++] = id;
	h->n_lcores = n;
	h->n_workers = n == 1 ? 1 : (uint16_t)(n - 1);
	for (uint16_t i = 0; i < n; i++) {
		struct ph_lcore *lc =
		        rte_zmalloc_socket("ph_lcore", sizeof(*lc), RTE_CACHE_LINE_SIZE,
		                           rte_lcore_to_socket_id(ids[i]));

		if (lc == NULL)
			return -ENOMEM;
		lc->host = h;
		lc->lcore_id = ids[i];
		lc->index = i;
		lc->txq = i;
		lc->is_lead = i == 0;
		lc->is_worker = i != 0 || n == 1;
		lc->rxq = lc->is_worker ? rxq++ : PH_NO_QUEUE;
		lc->ip_id = (uint16_t)arc4random();
		h->lcores[i] = lc;
		h->by_eal_id[ids[i]] = lc;
	}
	return 0;
}

static int
host_lcore_init(struct ph_host *h, struct ph_lcore *lc, char *err, size_t errlen)
{
	const struct ph_conf_host *c = &h->conf->host;
	char name[RTE_RING_NAMESIZE];
	int rc;

	if ((rc = eth_tx_init(lc)) != 0)
		return host_err(err, errlen, rc, "lcore %u: TX buffers: %s", lc->lcore_id,
		                strerror(-rc));
	if (!lc->is_lead) {
		snprintf(name, sizeof(name), "ph_to_lead_%u", lc->index);
		lc->to_lead =
		        rte_ring_create(name, TO_LEAD_RING, rte_lcore_to_socket_id(lc->lcore_id),
		                        RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (lc->to_lead == NULL)
			return host_err(err, errlen, -rte_errno, "lcore %u: ring: %s", lc->lcore_id,
			                rte_strerror(rte_errno));
	}
	snprintf(name, sizeof(name), "ph_inbox_%u", lc->index);
	lc->inbox = rte_ring_create(name, INBOX_RING, rte_lcore_to_socket_id(lc->lcore_id),
	                            RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "ph_loop_%u", lc->index);
	lc->loop = rte_ring_create(name, LOOP_RING, rte_lcore_to_socket_id(lc->lcore_id),
	                           RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (lc->inbox == NULL || lc->loop == NULL)
		return host_err(err, errlen, -rte_errno, "lcore %u: ring: %s", lc->lcore_id,
		                rte_strerror(rte_errno));
	if ((rc = sock_table_init(lc, c->sockets)) != 0)
		return host_err(err, errlen, rc, "lcore %u: socket table: %s", lc->lcore_id,
		                strerror(-rc));
	if ((rc = tcp_lcore_init(lc)) != 0)
		return host_err(err, errlen, rc, "lcore %u: TCP: %s", lc->lcore_id, strerror(-rc));
	if (lc->is_worker) {
		rc = ipv4_frag_init(lc, c->frag_max_datagrams, c->frag_timeout_ms, h->tsc_hz);
		if (rc != 0)
			return host_err(err, errlen, rc, "lcore %u: reassembly table: %s",
			                lc->lcore_id, strerror(-rc));
	}
	if (lc->is_lead && (rc = lead_init(lc)) != 0)
		return host_err(err, errlen, rc, "lead lcore: neighbour table: %s", strerror(-rc));
	if (rte_rcu_qsbr_thread_register(h->qsbr, lc->index) != 0)
		return host_err(err, errlen, -rte_errno, "lcore %u: RCU: %s", lc->lcore_id,
		                rte_strerror(rte_errno));
	return 0;
}

/* Fault injection on port P, as its configuration asks: said in the log,
 * since a lossy link made on purpose should never be a surprise. */
static int
host_fault(struct ph_host *h, struct ph_port *p, const struct ph_conf_port *cp)
{
	char spec[FAULT_SPEC_LEN];

	p->fault = fault_port_create(&cp->fault, p->index, p->n_rxq, p->n_txq, h->pool, h->tsc_hz,
	                             h->start_tsc, (int)rte_socket_id());
	if (p->fault == NULL)
		return -errno;
	fault_spec_format(&cp->fault, spec, sizeof(spec));
	RTE_LOG(NOTICE, USER1, "port %s: fault injection: %s\n", p->name, spec);
	return 0;
}

static int
host_ports(struct ph_host *h, const struct ph_conf *conf, char *err, size_t errlen)
{
	struct ph_rss key = {0};

	switch (conf->host.rss_key_kind) {
	case PH_RSS_KEY_SYMMETRIC:
		rss_key_symmetric(&key, 40);
		break;
	case PH_RSS_KEY_GIVEN:
		memcpy(key.key, conf->host.rss_key, conf->host.rss_key_len);
		key.key_len = conf->host.rss_key_len;
		break;
	default:
		rss_key_random(&key, 40);
		break;
	}
	for (unsigned i = 0; i < conf->n_ports; i++) {
		const struct ph_conf_port *cp = &conf->ports[i];
		struct ph_port_setup s = {
		        .name = cp->name,
		        .device = cp->device,
		        .is_pci = cp->is_pci,
		        .n_rxq = cp->queues ? cp->queues : h->n_workers,
		        .n_txq = h->n_lcores,
		        .lead_relay_ok = h->n_lcores > 1,
		        .rx_desc = cp->rx_desc,
		        .tx_desc = cp->tx_desc,
		        .mtu = cp->mtu,
		        /* Faults are drawn per frame on the wire: a TSO send
		         * would be one frame to the injector. */
		        .tso = cp->tso && !fault_spec_active(&cp->fault),
		        .pool = h->pool,
		        .rss_key = &key,
		};
		int rc;

		if (s.n_rxq > h->n_workers)
			return host_err(err, errlen, -EINVAL,
			                "%s:%d: key 'queues': %u is more than the %u worker lcores",
			                conf->path, cp->line, s.n_rxq, h->n_workers);
		h->ports[i].index = (uint16_t)i;
		rc = ph_port_open(&h->ports[i], &s, err, errlen);
		if (rc != 0)
			return rc;
		h->n_ports = (uint16_t)(i + 1);
		if (fault_spec_active(&cp->fault) && (rc = host_fault(h, &h->ports[i], cp)) != 0)
			return host_err(err, errlen, rc, "port %s: fault injection: %s", cp->name,
			                strerror(-rc));
	}
	return 0;
}

static void
host_defer_free_fn(void *p, void *e, unsigned n)
{
	(void)p;
	for (unsigned i = 0; i < n; i++) {
		void *obj;

		memcpy(&obj, (char *)e + i * sizeof(void *), sizeof(obj));
		free(obj);
	}
}

void
ph_defer_free(struct ph_host *h, void *p)
{
	struct ph_lcore *lc = ph_host_this_lcore(h);

	if (rte_rcu_qsbr_dq_enqueue(h->rcu_dq, &p) == 0)
		return;
	/* The queue is full of entries some lcore still holds up: wait for it,
	 * reporting our own quiescence so as not to wait for ourselves. */
	rte_rcu_qsbr_synchronize(h->qsbr, lc != NULL ? lc->index : RTE_QSBR_THRID_INVALID);
	free(p);
}

struct ph_lcore *
ph_host_this_lcore(struct ph_host *h)
{
	unsigned id = rte_lcore_id();

	return id < RTE_MAX_LCORE ? h->by_eal_id[id] : NULL;
}

int
ph_host_start(struct ph_host **out, const struct ph_conf *conf, const char *argv0, char *err,
              size_t errlen)
{
	struct ph_host *h;
	size_t qs;
	int rc;

	if ((rc = host_eal_init(conf, argv0, err, errlen)) != 0)
		return rc;
	h = rte_zmalloc("ph_host", sizeof(*h), RTE_CACHE_LINE_SIZE);
	if (h == NULL)
		return host_err(err, errlen, -ENOMEM, "out of memory for the host");
	h->conf = conf;
	h->tsc_hz = rte_get_tsc_hz();
	h->start_tsc = rte_rdtsc();
	if ((rc = ph_pkt_meta_register()) != 0)
		return host_err(err, errlen, rc, "mbuf dynamic field: %s", strerror(-rc));
	if ((rc = host_lcores(h)) != 0)
		return host_err(err, errlen, rc, "lcores: %s", strerror(-rc));
	h->pool = rte_pktmbuf_pool_create("ph_pool", host_pool_size(h, conf), POOL_CACHE, 0,
	                                  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (h->pool == NULL)
		return host_err(err, errlen, -rte_errno,
		                "packet pool of %u mbufs: %s (set [host] mbufs, or give EAL more "
		                "memory with -m)",
		                host_pool_size(h, conf), rte_strerror(rte_errno));
	qs = rte_rcu_qsbr_get_memsize(h->n_lcores);
	h->qsbr = rte_zmalloc("ph_qsbr", qs, RTE_CACHE_LINE_SIZE);
	if (h->qsbr == NULL || rte_rcu_qsbr_init(h->qsbr, h->n_lcores) != 0)
		return host_err(err, errlen, -ENOMEM, "RCU state: out of memory");
	h->lead_mbox =
	        rte_ring_create("ph_lead_mbox", LEAD_MBOX_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (h->lead_mbox == NULL)
		return host_err(err, errlen, -rte_errno, "lead mailbox: %s",
		                rte_strerror(rte_errno));
	if ((rc = host_ports(h, conf, err, errlen)) != 0)
		return rc;
	if ((rc = ctx_build(h, conf, err, errlen)) != 0)
		return rc;
	if ((rc = neigh_pub_create(h, conf->host.neigh_max)) != 0)
		return host_err(err, errlen, rc, "neighbour table: %s", strerror(-rc));
	h->indirect_pool = rte_pktmbuf_pool_create("ph_indirect", INDIRECT_MBUFS, POOL_CACHE, 0, 0,
	                                           (int)rte_socket_id());
	if (h->indirect_pool == NULL)
		return host_err(err, errlen, -rte_errno, "indirect mbuf pool: %s",
		                rte_strerror(rte_errno));
	{
		struct rte_rcu_qsbr_dq_parameters dp = {
		        .name = "ph_defer",
		        .size = RCU_DQ_SIZE,
		        .esize = sizeof(void *),
		        .trigger_reclaim_limit = RCU_DQ_SIZE / 4,
		        .max_reclaim_size = RCU_DQ_SIZE / 4,
		        .free_fn = host_defer_free_fn,
		        .v = h->qsbr,
		};

		h->rcu_dq = rte_rcu_qsbr_dq_create(&dp);
		if (h->rcu_dq == NULL)
			return host_err(err, errlen, -rte_errno, "RCU defer queue: %s",
			                rte_strerror(rte_errno));
	}
	if ((rc = udp_init(h)) != 0)
		return host_err(err, errlen, rc, "UDP bindings: %s", strerror(-rc));
	if ((rc = tcp_host_init(h)) != 0)
		return host_err(err, errlen, rc, "TCP: %s", strerror(-rc));
	h->ip_proto[IPPROTO_ICMP] = icmp_rx;
	h->ip_proto[IPPROTO_UDP] = udp_input;
	h->ip_proto[IPPROTO_TCP] = tcp_ip_input;
	h->icmp_err[IPPROTO_UDP] = udp_icmp_error;
	h->icmp_err[IPPROTO_TCP] = tcp_icmp_error;
	for (uint16_t i = 0; i < h->n_lcores; i++)
		if ((rc = host_lcore_init(h, h->lcores[i], err, errlen)) != 0)
			return rc;
	if ((rc = flow_host_init(h)) != 0)
		return host_err(err, errlen, rc, "flow steering rings: %s", strerror(-rc));
	if ((rc = ph_telemetry_register(h)) != 0)
		return host_err(err, errlen, rc, "telemetry: %s", strerror(-rc));
	*out = h;
	return 0;
}

void
ph_lcore_idle(struct ph_lcore *lc)
{
	unsigned max_us = lc->host->conf->host.idle_sleep_us;
	struct timespec ts = {0};
	unsigned us;

	/* idle_sleep_us = 0: poll without pause. A nanosleep(0) is still a
	 * system call, and on a VM it can take tens of microseconds. */
	if (++lc->idle_polls < IDLE_SPIN || max_us == 0)
		return;
	/* Sleep longer the longer nothing happens, up to max_us. */
	us = RTE_MIN((lc->idle_polls - IDLE_SPIN) / 16 + 1, max_us);
	ts.tv_nsec = (long)us * 1000;
	nanosleep(&ts, NULL);
}

unsigned
ph_lcore_poll(struct ph_lcore *lc)
{
	struct ph_host *h = lc->host;
	unsigned work = 0;

	lc->now_tsc = rte_rdtsc();
	lc->now_ms = (lc->now_tsc - h->start_tsc) / (h->tsc_hz / 1000);
	/* Before RX: a host-wide listener has its queue here before the first
	 * SYN this lcore could take for it. */
	if (unlikely(__atomic_load_n(&h->tcp_share_epoch, __ATOMIC_ACQUIRE) != lc->tcp_share_seen))
		tcp_share_sync(lc);
	if (lc->is_worker) {
		for (uint16_t p = 0; p < h->n_ports; p++) {
			struct ph_port *port = &h->ports[p];

			/* A port may have more RX queues than there are workers. */
			for (uint16_t q = lc->rxq; q < port->n_rxq; q += h->n_workers) {
				struct rte_mbuf *pkts[PH_BURST];
				uint16_t n = unlikely(port->fault != NULL)
				                     ? fault_rx_burst(port->fault, port->port_id, q,
				                                      pkts, PH_BURST, lc->now_tsc)
				                     : rte_eth_rx_burst(port->port_id, q, pkts,
				                                        PH_BURST);

				if (n > 0) {
					eth_input(lc, port, pkts, n);
					work += n;
				}
			}
		}
		if (lc->now_ms >= lc->frag_next_expire_ms) {
			ipv4_frag_expire(lc);
			lc->frag_next_expire_ms = lc->now_ms + FRAG_EXPIRE_EVERY_MS;
		}
	}
	work += flow_poll(lc);
	work += ipv4_loop_poll(lc);
	work += sock_inbox_poll(lc);
	work += tcp_lcore_poll(lc);
	if (lc->is_lead) {
		work += lead_poll(lc);
		/* Once a millisecond: a call costs a few hundred instructions
		 * (and a debug log line) even when nothing is queued. */
		if (lc->now_ms != lc->rcu_reclaimed_ms) {
			lc->rcu_reclaimed_ms = lc->now_ms;
			rte_rcu_qsbr_dq_reclaim(h->rcu_dq, RCU_DQ_SIZE / 4, NULL, NULL, NULL);
		}
	}
	flow_flush(lc);
	ph_lead_flush(lc);
	work += eth_tx_flush(lc);
	rte_rcu_qsbr_quiescent(h->qsbr, lc->index);
	if (work != 0)
		lc->idle_polls = 0;
	return work;
}

/* Run LC's loop until the host stops. */
int
ph_lcore_loop(void *arg)
{
	struct ph_lcore *lc = arg;
	struct ph_host *h = lc->host;

	ph_lcore_online(lc);
	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED))
		if (ph_lcore_poll(lc) == 0)
			ph_lcore_idle(lc);
	ph_lcore_offline(lc);
	return 0;
}

void
ph_lcore_online(struct ph_lcore *lc)
{
	struct ph_host *h = lc->host;

	if (lc->online)
		return;
	lc->online = true;
	/* nanosleep() is precise only with a small timer slack (default 50 us). */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	rte_rcu_qsbr_thread_online(h->qsbr, lc->index);
	/* Once: an lcore goes offline when ph_run() returns and online again at
	 * the next call, which must not announce the addresses anew. */
	if (lc->is_lead && !lc->lead_started) {
		lc->lead_started = true;
		lead_start(lc);
	}
}

void
ph_lcore_offline(struct ph_lcore *lc)
{
	if (!lc->online)
		return;
	lc->online = false;
	rte_rcu_qsbr_thread_offline(lc->host->qsbr, lc->index);
}

int
ph_host_run(struct ph_host *h)
{
	for (uint16_t i = 1; i < h->n_lcores; i++) {
		int rc = rte_eal_remote_launch(ph_lcore_loop, h->lcores[i], h->lcores[i]->lcore_id);

		if (rc != 0) {
			ph_host_stop(h);
			rte_eal_mp_wait_lcore();
			return rc;
		}
	}
	ph_lcore_loop(h->lcores[0]);
	rte_eal_mp_wait_lcore();
	return 0;
}

void
ph_host_stop(struct ph_host *h)
{
	__atomic_store_n(&h->stop, true, __ATOMIC_RELAXED);
}

uint64_t
ph_host_ctr_sum(const struct ph_host *h, int lcore, const struct ph_ctr_family *f, unsigned i)
{
	size_t off = f->offset + i * sizeof(uint64_t);
	uint64_t sum = 0;

	for (uint16_t k = 0; k < h->n_lcores; k++)
		if (lcore < 0 || lcore == k)
			sum += ph_ctr_read(
			        (const uint64_t *)((const char *)&h->lcores[k]->ctr + off));
	return sum;
}

static void
host_print_counters(const struct ph_host *h, FILE *out)
{
	for (unsigned k = 0; k < PH_CTR_FAMILIES; k++) {
		const struct ph_ctr_family *f = &ph_ctr_families[k];

		fprintf(out, "%s (all lcores):\n", f->title);
		for (unsigned i = 1; i < f->n; i++) {
			uint64_t sum = ph_host_ctr_sum(h, -1, f, i);

			if (sum != 0)
				fprintf(out, "  %-28s %" PRIu64 "\n", f->names[i], sum);
		}
	}
	for (uint16_t p = 0; p < h->n_ports; p++)
		if (h->ports[p].fault != NULL)
			fault_port_print(h->ports[p].fault, h->ports[p].name, out);
}

int
ph_host_finish(struct ph_host *h, FILE *out)
{
	struct ph_lcore *lead = h->lcores[0];
	unsigned in_use;
	int rc = 0;

	ph_telemetry_unregister();
	/* Sockets still open give their queued datagrams back, and TCP closes
	 * (a FIN or RST may be staged for the lead: dropped below, counted). */
	for (uint16_t i = 0; i < h->n_lcores; i++) {
		sock_table_fini(h->lcores[i]);
		tcp_lcore_fini(h->lcores[i]);
	}
	/* Requests still on their way to the lead are dropped, counted by the lead:
	 * staged ones too (a worker may have sent after its last loop turn).
	 * Then whatever is still in flight between lcores. */
	for (uint16_t i = 1; i < h->n_lcores; i++) {
		struct rte_mbuf *m;

		ph_drop_bulk(lead, h->lcores[i]->lead_stage, h->lcores[i]->n_lead_stage,
		             PH_DROP_SHUTDOWN);
		h->lcores[i]->n_lead_stage = 0;
		while (h->lcores[i]->to_lead != NULL &&
		       rte_ring_sc_dequeue(h->lcores[i]->to_lead, (void **)&m) == 0)
			ph_drop(lead, m, PH_DROP_SHUTDOWN);
	}
	for (uint16_t i = 0; i < h->n_lcores; i++) {
		struct rte_mbuf *m;

		while (rte_ring_sc_dequeue(h->lcores[i]->inbox, (void **)&m) == 0)
			ph_drop(h->lcores[i], m, PH_DROP_SHUTDOWN);
		while (rte_ring_sc_dequeue(h->lcores[i]->loop, (void **)&m) == 0)
			ph_drop(h->lcores[i], m, PH_DROP_SHUTDOWN);
	}
	flow_host_fini(h);
	lead_fini(lead);
	for (uint16_t i = 0; i < h->n_lcores; i++) {
		eth_tx_flush(h->lcores[i]);
		eth_tx_fini(h->lcores[i]);
		ipv4_frag_fini(h->lcores[i]);
	}
	for (uint16_t p = 0; p < h->n_ports; p++) {
		/* What fault injection still holds never reaches the wire. */
		if (h->ports[p].fault != NULL)
			ph_drop_count(&lead->ctr, PH_DROP_SHUTDOWN,
			              fault_port_drain(h->ports[p].fault));
		ph_port_close(&h->ports[p]);
	}
	in_use = rte_mempool_in_use_count(h->pool);
	host_print_counters(h, out);
	fprintf(out, "mempool %s: %u of %u mbufs in use after shutdown\n", h->pool->name, in_use,
	        h->pool->size);
	if (in_use != 0) {
		fprintf(out, "error: %u mbufs leaked\n", in_use);
		rc = 1;
	}
	for (uint16_t p = 0; p < h->n_ports; p++) {
		fault_port_free(h->ports[p].fault);
		h->ports[p].fault = NULL;
	}
	neigh_pub_destroy(h);
	udp_fini(h);
	tcp_host_fini(h);
	rte_rcu_qsbr_dq_delete(h->rcu_dq);
	ctx_destroy(h);
	for (uint16_t i = 0; i < h->n_lcores; i++) {
		rte_ring_free(h->lcores[i]->to_lead);
		rte_ring_free(h->lcores[i]->inbox);
		rte_ring_free(h->lcores[i]->loop);
		rte_free(h->lcores[i]);
	}
	rte_ring_free(h->lead_mbox);
	rte_free(h->qsbr);
	rte_mempool_free(h->pool);
	rte_mempool_free(h->indirect_pool);
	rte_free(h);
	rte_eal_cleanup();
	return rc;
}
