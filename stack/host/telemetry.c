/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /polyhost/ rte_telemetry commands that phctl (and any telemetry client,
 * e.g. dpdk-telemetry.py) reads. They run on DPDK's telemetry thread: they
 * read only what is immutable after start-up (ports, interfaces, contexts,
 * routes), counters (relaxed atomic loads), the UDP bindings (under their
 * writers' lock), and ask the lead core for what it owns (the neighbour
 * table) through lead_call().
 *
 * Telemetry callbacks take no argument, so the host they describe is the one
 * registered here; a rwlock keeps it alive while a command runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_telemetry.h>

#include "arp/neigh_table.h"
#include "drivers/fault.h"
#include "core/host.h"
#include "host/host.h"
#include "host/lead.h"
#include "tcp/tcp.h"
#include "tcp/tcp_glue.h"
#include "udp/udp.h"
#include "wire/ipv4.h"

#define NEIGH_PAGE 64
#define UDP_PAGE   64

static pthread_rwlock_t tel_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct ph_host *tel_host;
static bool tel_registered;

/* Lower case, as ip(8) prints it. */
static void
mac_str(const struct rte_ether_addr *mac, char *buf, size_t len)
{
	const uint8_t *b = mac->addr_bytes;

	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

static const char *
ctx_name(const struct ph_host *h, uint16_t ctx)
{
	if (ctx >= PH_MAX_CTX) /* a TCP listener of every context (PH_CTX_ANY) */
		return "*";
	return h->ctxs[ctx] != NULL ? h->ctxs[ctx]->name : "?";
}

/* -1 for all lcores, else the index given; -2 when PARAMS is not one. */
static int
lcore_param(const struct ph_host *h, const char *params)
{
	char *end;
	long v;

	if (params == NULL || *params == '\0')
		return -1;
	v = strtol(params, &end, 10);
	if (*end != '\0' || v < 0 || v >= h->n_lcores)
		return -2;
	return (int)v;
}

static int
counters_dict(struct ph_host *h, const char *params, struct rte_tel_data *d, unsigned family)
{
	const struct ph_ctr_family *f = &ph_ctr_families[family];
	int lc = lcore_param(h, params);

	if (lc == -2)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	for (unsigned i = 1; i < f->n; i++)
		rte_tel_data_add_dict_u64(d, f->names[i], ph_host_ctr_sum(h, lc, f, i));
	return 0;
}

static int
cmd_stats(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	return counters_dict(h, params, d, 0);
}

static int
cmd_drops(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	return counters_dict(h, params, d, 1);
}

static int
cmd_info(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", "0.1.0");
	rte_tel_data_add_dict_string(d, "config", h->conf->path);
	rte_tel_data_add_dict_int(d, "pid", getpid());
	rte_tel_data_add_dict_u64(d, "uptime_ms",
	                          (rte_rdtsc() - h->start_tsc) / (h->tsc_hz / 1000));
	rte_tel_data_add_dict_int(d, "lcores", h->n_lcores);
	rte_tel_data_add_dict_int(d, "workers", h->n_workers);
	rte_tel_data_add_dict_int(d, "ports", h->n_ports);
	rte_tel_data_add_dict_int(d, "interfaces", h->n_ifaces);
	rte_tel_data_add_dict_int(d, "contexts", (int)h->conf->n_ctxs);
	return 0;
}

static int
cmd_lcore(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	int i = lcore_param(h, params);
	const struct ph_lcore *lc;

	if (i < 0)
		return -EINVAL;
	lc = h->lcores[i];
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "index", lc->index);
	rte_tel_data_add_dict_int(d, "lcore_id", (int)lc->lcore_id);
	rte_tel_data_add_dict_string(d, "role",
	                             lc->is_lead && lc->is_worker ? "lead+worker"
	                             : lc->is_lead                ? "lead"
	                                                          : "worker");
	rte_tel_data_add_dict_int(d, "rxq", lc->rxq == PH_NO_QUEUE ? -1 : lc->rxq);
	/* Its queue on ports with one per lcore; on ports with one per worker
	 * (`phctl ports`: lead tx via lcore 1) a worker's is one lower. */
	rte_tel_data_add_dict_int(d, "txq", lc->txq);
	rte_tel_data_add_dict_u64(d, "frames_in", ph_ctr_read(&lc->ctr.mib[PH_MIB_ethInFrames]));
	rte_tel_data_add_dict_u64(d, "frames_out", ph_ctr_read(&lc->ctr.mib[PH_MIB_ethOutFrames]));
	return 0;
}

static int
cmd_ports(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (uint16_t p = 0; p < h->n_ports; p++)
		rte_tel_data_add_array_string(d, h->ports[p].name);
	return 0;
}

static const struct ph_port *
port_by_name(const struct ph_host *h, const char *name)
{
	for (uint16_t p = 0; p < h->n_ports; p++)
		if (name != NULL && strcmp(h->ports[p].name, name) == 0)
			return &h->ports[p];
	return NULL;
}

static int
cmd_port(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	const struct ph_port *p = port_by_name(h, params);
	struct rte_eth_stats st;
	char buf[64];

	if (p == NULL)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", p->name);
	rte_tel_data_add_dict_int(d, "port_id", p->port_id);
	rte_tel_data_add_dict_string(d, "driver", p->driver);
	mac_str(&p->mac, buf, sizeof(buf));
	rte_tel_data_add_dict_string(d, "mac", buf);
	rte_tel_data_add_dict_int(d, "mtu", p->mtu);
	ph_port_link_string(p, buf, sizeof(buf));
	rte_tel_data_add_dict_string(d, "link", buf);
	rte_tel_data_add_dict_int(d, "rx_queues", p->n_rxq);
	rte_tel_data_add_dict_int(d, "tx_queues", p->n_txq);
	/* A queue per worker only: the lead's frames leave through the
	 * relaying worker's (PH_LEAD_RELAY_LCORE). */
	rte_tel_data_add_dict_string(d, "lead_tx",
	                             p->lead_tx != NULL ? "via lcore 1" : "own queue");
	rte_tel_data_add_dict_string(d, "rss", p->rss.hw ? "hardware" : "software");
	snprintf(buf, sizeof(buf), "%s%s%s%s%s", p->ol.tx_ip_csum ? "tx-ip " : "",
	         p->ol.tx_udp_csum ? "tx-udp " : "", p->ol.tx_tcp_csum ? "tx-tcp " : "",
	         p->ol.tx_multiseg ? "tx-multiseg " : "", p->ol.tx_tso ? "tso" : "");
	rte_tel_data_add_dict_string(d, "offloads", buf);
	if (rte_eth_stats_get(p->port_id, &st) == 0) {
		rte_tel_data_add_dict_u64(d, "rx_packets", st.ipackets);
		rte_tel_data_add_dict_u64(d, "rx_bytes", st.ibytes);
		rte_tel_data_add_dict_u64(d, "rx_missed", st.imissed);
		rte_tel_data_add_dict_u64(d, "rx_errors", st.ierrors);
		rte_tel_data_add_dict_u64(d, "rx_nombuf", st.rx_nombuf);
		rte_tel_data_add_dict_u64(d, "tx_packets", st.opackets);
		rte_tel_data_add_dict_u64(d, "tx_bytes", st.obytes);
		rte_tel_data_add_dict_u64(d, "tx_errors", st.oerrors);
	}
	return 0;
}

static int
cmd_ifaces(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (uint16_t i = 0; i < h->n_ifaces; i++)
		rte_tel_data_add_array_string(d, h->ifaces[i].name);
	return 0;
}

static int
cmd_iface(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	const struct ph_iface *ifc = NULL;
	struct rte_tel_data *addrs;
	char buf[64], ip[20];

	int i = params != NULL ? ctx_iface_find(h, params) : -1;

	if (i < 0)
		return -EINVAL;
	ifc = &h->ifaces[i];
	addrs = rte_tel_data_alloc();
	if (addrs == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", ifc->name);
	rte_tel_data_add_dict_string(d, "port", h->ports[ifc->port].name);
	rte_tel_data_add_dict_int(d, "vlan", ifc->vlan);
	rte_tel_data_add_dict_string(d, "context", ctx_name(h, ifc->ctx));
	mac_str(&ifc->mac, buf, sizeof(buf));
	rte_tel_data_add_dict_string(d, "mac", buf);
	rte_tel_data_add_dict_int(d, "mtu", ifc->mtu);
	rte_tel_data_start_array(addrs, RTE_TEL_STRING_VAL);
	for (unsigned a = 0; a < ifc->n_addrs; a++) {
		ipv4_str(ifc->addrs[a].ip, ip);
		snprintf(buf, sizeof(buf), "%s/%u", ip, ifc->addrs[a].plen);
		rte_tel_data_add_array_string(addrs, buf);
	}
	rte_tel_data_add_dict_container(d, "addresses", addrs, 0);
	return 0;
}

static int
cmd_ctx(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < PH_MAX_CTX; i++)
		if (h->ctxs[i] != NULL)
			rte_tel_data_add_dict_int(d, h->ctxs[i]->name, (int)i);
	return 0;
}

/* 32 routes of 8 ECMP paths fit telemetry's 16 KiB reply. */
#define ROUTE_PAGE 32

struct route_page {
	uint16_t ctx;
	unsigned skip, n, total;
	struct {
		struct ph_route r;
		struct ph_nexthop nh[PH_ECMP_MAX];
		unsigned n_nh;
	} e[ROUTE_PAGE];
};

/* The RIB changes on the lead only: read it there. */
static void
route_page_on_lead(struct ph_lcore *lead, void *arg)
{
	struct route_page *pg = arg;
	const struct ph_host *h = lead->host;
	const struct ph_ctx *c = h->ctxs[pg->ctx];
	const struct ph_route *rt = NULL;
	unsigned i = 0;

	pg->total = c->n_routes;
	while ((rt = ctx_rib_next(c, rt)) != NULL && pg->n < ROUTE_PAGE) {
		const struct ph_nexthop *nh = &h->nexthops[rt->nh];

		if (i++ < pg->skip)
			continue;
		pg->e[pg->n].r = *rt;
		if (nh->kind == PH_NH_GROUP) {
			for (unsigned p = 0; p < nh->n_paths; p++)
				pg->e[pg->n].nh[p] = h->nexthops[nh->paths[p]];
			pg->e[pg->n].n_nh = nh->n_paths;
		} else {
			pg->e[pg->n].nh[0] = *nh;
			pg->e[pg->n].n_nh = 1;
		}
		pg->n++;
	}
}

/* One page of a context's routes. Parameter "CTX [SKIP]". Reply: total, skip,
 * count, and "r<i>" -> ["PREFIX/LEN", "static"|"connected", "[via GW ]dev IF"
 * for each ECMP path..., "ctx OTHER" for a leaked route]: each string stays
 * within telemetry's 127 characters. */
static int
cmd_routes(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	struct route_page *pg;
	size_t len = params != NULL ? strcspn(params, " ") : 0;
	int ctx = params != NULL ? ctx_find(h, params, len) : -1, rc;

	if (ctx < 0)
		return -EINVAL;
	pg = calloc(1, sizeof(*pg));
	if (pg == NULL)
		return -ENOMEM;
	pg->ctx = (uint16_t)ctx;
	pg->skip = params[len] != '\0' ? (unsigned)strtoul(params + len, NULL, 10) : 0;
	rc = lead_call(h, route_page_on_lead, pg, 1000);
	if (rc != 0) {
		free(pg); /* on a timeout too: the lead never runs the call then */
		return rc;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "total", pg->total);
	rte_tel_data_add_dict_u64(d, "skip", pg->skip);
	rte_tel_data_add_dict_u64(d, "count", pg->n);
	for (unsigned r = 0; r < pg->n; r++) {
		const struct ph_route *rt = &pg->e[r].r;
		struct rte_tel_data *a = rte_tel_data_alloc();
		char key[16], val[96], ip[20], gw[20];

		if (a == NULL) {
			free(pg);
			return -ENOMEM;
		}
		rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
		/* Telemetry keys allow no dots: the prefix goes in the value. */
		snprintf(key, sizeof(key), "r%u", r);
		ipv4_str(rt->prefix, ip);
		snprintf(val, sizeof(val), "%s/%u", ip, rt->plen);
		rte_tel_data_add_array_string(a, val);
		rte_tel_data_add_array_string(a, rt->origin == PH_ROUTE_CONNECTED ? "connected"
		                                                                  : "static");
		for (unsigned p = 0; p < pg->e[r].n_nh; p++) {
			const struct ph_nexthop *nh = &pg->e[r].nh[p];

			ipv4_str(nh->gw, gw);
			snprintf(val, sizeof(val), "%s%s%sdev %s",
			         nh->kind == PH_NH_GATEWAY ? "via " : "",
			         nh->kind == PH_NH_GATEWAY ? gw : "",
			         nh->kind == PH_NH_GATEWAY ? " " : "", h->ifaces[nh->ifindex].name);
			rte_tel_data_add_array_string(a, val);
		}
		if (pg->e[r].n_nh > 0 && pg->e[r].nh[0].ctx != ctx) {
			snprintf(val, sizeof(val), "ctx %s", ctx_name(h, pg->e[r].nh[0].ctx));
			rte_tel_data_add_array_string(a, val);
		}
		rte_tel_data_add_dict_container(d, key, a, 0);
	}
	free(pg);
	return 0;
}

struct route_req {
	uint16_t ctx;
	enum ph_route_op op;
	struct ph_conf_route r;
	int rc;
	char err[120]; /* a telemetry string holds 127 characters */
};

static void
route_change_on_lead(struct ph_lcore *lead, void *arg)
{
	struct route_req *q = arg;

	q->rc = ctx_route_change(lead->host, q->ctx, q->op, &q->r, PH_ROUTE_STATIC, q->err,
	                         sizeof(q->err));
	/* A DIR-24-8 tbl8 group the change gave up may be handed out again by
	 * the next one: not before every lcore is past the lookups that may
	 * still be reading it. */
	if (q->rc == 0)
		rte_rcu_qsbr_synchronize(lead->host->qsbr, lead->index);
}

/* Parameter "add|replace|del CTX ROUTE" (ROUTE as in the configuration).
 * Reply: {"ok": 1} or {"ok": 0, "error": why}. */
static int
cmd_route_change(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	static const char *const ops[] = {
	        [PH_ROUTE_ADD] = "add", [PH_ROUTE_REPLACE] = "replace", [PH_ROUTE_DEL] = "del"};
	struct route_req *q;
	const char *p = params, *sp;
	int op = -1, ctx, rc;

	if (p == NULL)
		return -EINVAL;
	for (int i = 0; i < 3; i++)
		if (strncmp(p, ops[i], strlen(ops[i])) == 0 && p[strlen(ops[i])] == ' ')
			op = i;
	if (op < 0)
		return -EINVAL;
	p += strlen(ops[op]) + 1;
	sp = strchr(p, ' ');
	if (sp == NULL || (ctx = ctx_find(h, p, (size_t)(sp - p))) < 0) {
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_int(d, "ok", 0);
		rte_tel_data_add_dict_string(d, "error", "no such context");
		return 0;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	q->ctx = (uint16_t)ctx;
	q->op = (enum ph_route_op)op;
	if (op == PH_ROUTE_DEL && strpbrk(sp + 1, " \t") == NULL) {
		/* "del PREFIX" alone: the next hops do not matter. */
		rc = ph_parse_prefix(sp + 1, &q->r.prefix, &q->r.plen) < 0 ? -1 : 0;
		if (rc != 0)
			snprintf(q->err, sizeof(q->err), "'%s' is not a prefix", sp + 1);
	} else {
		rc = ph_parse_route(sp + 1, &q->r, q->err, sizeof(q->err));
	}
	if (rc == 0) {
		rc = lead_call(h, route_change_on_lead, q, 1000);
		if (rc == 0)
			rc = q->rc;
		else
			snprintf(q->err, sizeof(q->err), "lead core: %s", strerror(-rc));
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "ok", rc == 0);
	if (rc != 0)
		rte_tel_data_add_dict_string(d, "error", q->err);
	free(q);
	return 0;
}

/* A context's counters summed over lcores, and its settings. Parameter: name. */
static int
cmd_ctx_stats(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	int ctx = params != NULL ? ctx_find(h, params, strlen(params)) : -1;
	struct ph_ctx_stats sum = {0};
	const struct ph_ctx *c;
	unsigned n_if = 0;

	if (ctx < 0)
		return -EINVAL;
	c = h->ctxs[ctx];
	for (unsigned l = 0; l < h->n_lcores; l++) {
		const uint64_t *src = (const uint64_t *)&h->lcores[l]->ctx_stats[ctx];
		uint64_t *dst = (uint64_t *)&sum;

		for (size_t k = 0; k < sizeof(sum) / sizeof(uint64_t); k++)
			dst[k] += ph_ctr_read(&src[k]);
	}
	for (unsigned i = 0; i < h->n_ifaces; i++)
		n_if += h->ifaces[i].ctx == ctx;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", c->name);
	rte_tel_data_add_dict_int(d, "id", ctx);
	rte_tel_data_add_dict_int(d, "forwarding", c->forwarding);
	rte_tel_data_add_dict_string(d, "fib", c->fib_kind == PH_FIB_RANGES ? "ranges" : "dir24_8");
	rte_tel_data_add_dict_int(d, "interfaces", (int)n_if);
	/* The lead changes it: one word, read whole. */
	rte_tel_data_add_dict_u64(d, "routes", __atomic_load_n(&c->n_routes, __ATOMIC_RELAXED));
#define CTX_STAT(f) rte_tel_data_add_dict_u64(d, #f, sum.f)
	CTX_STAT(in_pkts);
	CTX_STAT(in_local);
	CTX_STAT(fwd_pkts);
	CTX_STAT(fwd_bytes);
	CTX_STAT(fwd_no_route);
	CTX_STAT(fwd_ttl);
	CTX_STAT(fwd_frag_needed);
	CTX_STAT(fwd_refused);
#undef CTX_STAT
	return 0;
}

struct neigh_page {
	unsigned skip;
	unsigned n;
	unsigned total;
	uint64_t now_ms;
	struct neigh_info e[NEIGH_PAGE];
};

static void
neigh_page_on_lead(struct ph_lcore *lead, void *arg)
{
	struct neigh_page *pg = arg;

	pg->n = neigh_list(lead->lead->neigh, UINT16_MAX, pg->skip, pg->e, NEIGH_PAGE);
	pg->total = neigh_count(lead->lead->neigh);
	pg->now_ms = lead->now_ms;
}

/* One page of the neighbour table: "n<i>" -> "IP MAC STATE IFACE CTX AGE_MS". */
static int
cmd_neigh(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	struct neigh_page *pg = calloc(1, sizeof(*pg));
	int rc;

	if (pg == NULL)
		return -ENOMEM;
	pg->skip = params != NULL ? (unsigned)strtoul(params, NULL, 10) : 0;
	rc = lead_call(h, neigh_page_on_lead, pg, 1000);
	if (rc != 0) {
		free(pg); /* on a timeout too: the lead never runs the call then */
		return rc;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "total", pg->total);
	rte_tel_data_add_dict_u64(d, "skip", pg->skip);
	rte_tel_data_add_dict_u64(d, "count", pg->n);
	for (unsigned i = 0; i < pg->n; i++) {
		const struct neigh_info *e = &pg->e[i];
		char key[16], val[128], ip[20], mac[RTE_ETHER_ADDR_FMT_SIZE];

		ipv4_str(e->ip, ip);
		if (e->state == NEIGH_INCOMPLETE)
			strlcpy(mac, "-", sizeof(mac));
		else
			mac_str(&e->mac, mac, sizeof(mac));
		snprintf(key, sizeof(key), "n%u", i);
		snprintf(val, sizeof(val), "%s %s %s %s %s %" PRIu64, ip, mac,
		         neigh_state_name(e->state), h->ifaces[e->ifindex].name,
		         ctx_name(h, e->ctx),
		         e->confirmed_ms ? pg->now_ms - e->confirmed_ms : (uint64_t)0);
		rte_tel_data_add_dict_string(d, key, val);
	}
	free(pg);
	return 0;
}

/* One page of the UDP sockets: "s<i>" -> "CTX LADDR LPORT RADDR RPORT LCORE FD FLAGS". */
static int
cmd_udp(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	/* By (reuseaddr | reuseport << 1): one word, as phctl reads it. */
	static const char *const opts[] = {"-", "reuseaddr", "reuseport", "reuseaddr,reuseport"};
	struct udp_sock_info e[UDP_PAGE];
	unsigned skip = params != NULL ? (unsigned)strtoul(params, NULL, 10) : 0, total, n;

	n = udp_list(h, skip, e, UDP_PAGE, &total);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "total", total);
	rte_tel_data_add_dict_u64(d, "skip", skip);
	rte_tel_data_add_dict_u64(d, "count", n);
	for (unsigned i = 0; i < n; i++) {
		char key[16], val[160], la[20], ra[20];

		ipv4_str(e[i].laddr, la);
		ipv4_str(e[i].raddr, ra);
		snprintf(key, sizeof(key), "s%u", i);
		snprintf(val, sizeof(val), "%s %s %u %s %u %u %d %s", ctx_name(h, e[i].ctx), la,
		         e[i].lport, ra, e[i].rport, e[i].lcore, e[i].fd,
		         opts[e[i].reuseaddr | e[i].reuseport << 1]);
		rte_tel_data_add_dict_string(d, key, val);
	}
	return 0;
}

#define TCP_PAGE 64

/* One page of the TCP connections of every lcore: "c<i>" -> a dict with the
 * fields of `ss -tni`. Each lcore's list is walked under its lock. */
static int
cmd_tcp(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	struct tcp_conn_info *e = calloc(TCP_PAGE, sizeof(*e));
	unsigned skip = params != NULL ? (unsigned)strtoul(params, NULL, 10) : 0;
	unsigned n = 0, total = 0;

	if (e == NULL)
		return -ENOMEM;
	for (uint16_t i = 0; i < h->n_lcores; i++) {
		unsigned here;

		n += tcp_conn_list(h->lcores[i], skip, e + n, TCP_PAGE - n, &here);
		skip = skip > here ? skip - here : 0;
		total += here;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "total", total);
	rte_tel_data_add_dict_u64(d, "count", n);
	for (unsigned i = 0; i < n; i++) {
		const struct tcp_conn_info *c = &e[i];
		struct rte_tel_data *x = rte_tel_data_alloc();
		char key[16], ip[20], ep[32];

		if (x == NULL)
			break;
		rte_tel_data_start_dict(x);
		rte_tel_data_add_dict_string(x, "context", ctx_name(h, c->ctx));
		rte_tel_data_add_dict_string(x, "state", tcp_state_names[c->state]);
		ipv4_str(c->laddr, ip);
		snprintf(ep, sizeof(ep), "%s:%u", ip, c->lport);
		rte_tel_data_add_dict_string(x, "local", ep);
		ipv4_str(c->raddr, ip);
		snprintf(ep, sizeof(ep), "%s:%u", ip, c->rport);
		rte_tel_data_add_dict_string(x, "peer", ep);
#define TCP_TEL_U64(f) rte_tel_data_add_dict_u64(x, #f, c->f)
		TCP_TEL_U64(lcore);
		TCP_TEL_U64(recvq);
		TCP_TEL_U64(sendq);
		TCP_TEL_U64(ts);
		TCP_TEL_U64(sack);
		TCP_TEL_U64(ws);
		TCP_TEL_U64(snd_ws);
		TCP_TEL_U64(rcv_ws);
		TCP_TEL_U64(rto_ms);
		TCP_TEL_U64(rtt_us);
		TCP_TEL_U64(rttvar_us);
		TCP_TEL_U64(mss);
		TCP_TEL_U64(cwnd);
		TCP_TEL_U64(ssthresh);
		TCP_TEL_U64(retrans);
		TCP_TEL_U64(bytes_acked);
		TCP_TEL_U64(bytes_received);
		TCP_TEL_U64(segs_in);
		TCP_TEL_U64(segs_out);
#undef TCP_TEL_U64
		snprintf(key, sizeof(key), "c%u", i);
		rte_tel_data_add_dict_container(d, key, x, 0);
	}
	free(e);
	return 0;
}

static int
cmd_mempool(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", h->pool->name);
	rte_tel_data_add_dict_u64(d, "size", h->pool->size);
	rte_tel_data_add_dict_u64(d, "in_use", rte_mempool_in_use_count(h->pool));
	rte_tel_data_add_dict_u64(d, "available", rte_mempool_avail_count(h->pool));
	rte_tel_data_add_dict_u64(d, "cache_size", h->pool->cache_size);
	return 0;
}

static void
fault_dict(const struct fault_port *fp, uint8_t dirs, struct rte_tel_data *d)
{
	for (unsigned c = 0; c < FAULT_CTR_MAX; c++)
		rte_tel_data_add_dict_u64(d, fault_ctr_names[c], fault_port_ctr(fp, dirs, c));
}

/* Without a parameter: port -> its fault spec ("none"). With a port name: the
 * spec, every counter summed over its queues, and the same per direction. */
static int
cmd_fault(struct ph_host *h, const char *params, struct rte_tel_data *d)
{
	char spec[FAULT_SPEC_LEN];
	const struct ph_port *p;
	struct rte_tel_data *rx, *tx;

	if (params == NULL || *params == '\0') {
		rte_tel_data_start_dict(d);
		for (uint16_t i = 0; i < h->n_ports; i++) {
			const struct fault_port *fp = h->ports[i].fault;

			if (fp != NULL)
				fault_spec_format(&fp->spec, spec, sizeof(spec));
			rte_tel_data_add_dict_string(d, h->ports[i].name,
			                             fp != NULL ? spec : "none");
		}
		return 0;
	}
	if ((p = port_by_name(h, params)) == NULL)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "port", p->name);
	if (p->fault == NULL) {
		rte_tel_data_add_dict_string(d, "spec", "none");
		return 0;
	}
	fault_spec_format(&p->fault->spec, spec, sizeof(spec));
	rte_tel_data_add_dict_string(d, "spec", spec);
	fault_dict(p->fault, FAULT_RX | FAULT_TX, d);
	rx = rte_tel_data_alloc();
	tx = rte_tel_data_alloc();
	if (rx == NULL || tx == NULL) {
		rte_tel_data_free(rx);
		rte_tel_data_free(tx);
		return -ENOMEM;
	}
	rte_tel_data_start_dict(rx);
	rte_tel_data_start_dict(tx);
	fault_dict(p->fault, FAULT_RX, rx);
	fault_dict(p->fault, FAULT_TX, tx);
	rte_tel_data_add_dict_container(d, "rx", rx, 0);
	rte_tel_data_add_dict_container(d, "tx", tx, 0);
	return 0;
}

typedef int (*tel_cmd_fn)(struct ph_host *h, const char *params, struct rte_tel_data *d);

/* Each callback takes the lock, finds the host, and calls its command. */
#define TEL_COMMANDS(X)                                                                            \
	X(info, "/polyhost/info", "Host summary. No parameters.")                                  \
	X(stats, "/polyhost/stats", "MIB counters (RFC 4293 names). Parameter: lcore index.")      \
	X(drops, "/polyhost/drops", "Drops by reason. Parameter: lcore index.")                    \
	X(lcore, "/polyhost/lcore", "One lcore's role and queues. Parameter: lcore index.")        \
	X(ports, "/polyhost/ports", "Port names. No parameters.")                                  \
	X(port, "/polyhost/port", "One port. Parameter: port name.")                               \
	X(ifaces, "/polyhost/ifaces", "Interface names. No parameters.")                           \
	X(iface, "/polyhost/iface", "One interface. Parameter: interface name.")                   \
	X(ctx, "/polyhost/ctx", "Routing contexts and their numbers. No parameters.")              \
	X(routes, "/polyhost/routes",                                                              \
	  "Routes of a context, 32 per page. Parameter: context name [entries to skip].")          \
	X(route_change, "/polyhost/route_change",                                                  \
	  "Add, replace or delete a route. Parameter: add|replace|del CONTEXT ROUTE.")             \
	X(ctx_stats, "/polyhost/ctx_stats", "A context's settings and counters. Parameter: name.") \
	X(neigh, "/polyhost/neigh", "Neighbour table, 64 per page. Parameter: entries to skip.")   \
	X(udp, "/polyhost/udp", "Bound UDP sockets, 64 per page. Parameter: entries to skip.")     \
	X(tcp, "/polyhost/tcp", "TCP connections, 64 per page. Parameter: entries to skip.")       \
	X(mempool, "/polyhost/mempool", "Packet pool use. No parameters.")                         \
	X(fault, "/polyhost/fault",                                                                \
	  "Fault injection: specs by port, or one port's counters. Parameter: port name.")

#define TEL_CB(name, path, help)                                                                   \
	static int tel_##name(const char *cmd, const char *params, struct rte_tel_data *d)         \
	{                                                                                          \
		int rc = -ENODEV;                                                                  \
		(void)cmd;                                                                         \
		pthread_rwlock_rdlock(&tel_lock);                                                  \
		if (tel_host != NULL)                                                              \
			rc = cmd_##name(tel_host, params, d);                                      \
		pthread_rwlock_unlock(&tel_lock);                                                  \
		return rc;                                                                         \
	}
TEL_COMMANDS(TEL_CB)
#undef TEL_CB

int
ph_telemetry_register(struct ph_host *h)
{
	pthread_rwlock_wrlock(&tel_lock);
	tel_host = h;
	pthread_rwlock_unlock(&tel_lock);
	if (tel_registered)
		return 0;
#define TEL_REG(name, path, help)                                                                  \
	if (rte_telemetry_register_cmd(path, tel_##name, help) != 0)                               \
		return -EINVAL;
	TEL_COMMANDS(TEL_REG)
#undef TEL_REG
	tel_registered = true;
	return 0;
}

void
ph_telemetry_unregister(void)
{
	pthread_rwlock_wrlock(&tel_lock);
	tel_host = NULL;
	pthread_rwlock_unlock(&tel_lock);
}
