/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routing contexts, interfaces, local addresses and routes (see ctx.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>
#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "core/host.h"
#include "ctx/ctx.h"
#include "wire/ipv4.h"

#define PH_LOCALS_MAX 4096

static struct ph_ctx_key
ctx_key(uint16_t ctx, uint32_t ip)
{
	return (struct ph_ctx_key){.ip = ip, .ctx = ctx};
}

const struct ph_local *
ctx_local_lookup(const struct ph_host *h, uint16_t ctx, uint32_t ip)
{
	struct ph_ctx_key k = ctx_key(ctx, ip);
	void *data;

	if (rte_hash_lookup_data(h->locals, &k, &data) < 0)
		return NULL;
	return data;
}

void
ctx_local_lookup_bulk(const struct ph_host *h, const uint16_t *ctx, const uint32_t *ip,
                      const struct ph_local **out, unsigned n)
{
	struct ph_ctx_key keys[64];
	const void *kp[64];
	void *data[64];
	uint64_t hits = 0;

	RTE_ASSERT(n <= 64);
	for (unsigned i = 0; i < n; i++) {
		keys[i] = ctx_key(ctx[i], ip[i]);
		kp[i] = &keys[i];
	}
	if (n > 0)
		rte_hash_lookup_bulk_data(h->locals, kp, n, &hits, data);
	for (unsigned i = 0; i < n; i++)
		out[i] = (hits >> i) & 1 ? data[i] : NULL;
}

int
ctx_find(const struct ph_host *h, const char *name, size_t len)
{
	for (unsigned i = 0; i < PH_MAX_CTX; i++)
		if (h->ctxs[i] != NULL && strncmp(h->ctxs[i]->name, name, len) == 0 &&
		    h->ctxs[i]->name[len] == '\0')
			return (int)i;
	return -1;
}

int
ctx_iface_find(const struct ph_host *h, const char *name)
{
	for (unsigned i = 0; i < h->n_ifaces; i++)
		if (strcmp(h->ifaces[i].name, name) == 0)
			return (int)i;
	return -1;
}

uint32_t
ctx_iface_source(const struct ph_host *h, uint16_t ifindex, uint32_t dst)
{
	const struct ph_iface *ifc = &h->ifaces[ifindex];

	for (unsigned i = 0; i < ifc->n_addrs; i++) {
		uint32_t m = ipv4_mask(ifc->addrs[i].plen);

		if ((dst & m) == (ifc->addrs[i].ip & m))
			return ifc->addrs[i].ip;
	}
	return ifc->n_addrs > 0 ? ifc->addrs[0].ip : 0;
}

static void
local_free(void *p, void *key_data)
{
	(void)p;
	rte_free(key_data);
}

static int
local_add(struct ph_host *h, uint16_t ctx, uint32_t ip, uint16_t ifindex, enum ph_local_kind kind,
          uint8_t plen)
{
	struct ph_ctx_key k = ctx_key(ctx, ip);
	struct ph_local *l;
	int rc;

	if (rte_hash_lookup(h->locals, &k) >= 0)
		return -EEXIST;
	l = rte_zmalloc("ph_local", sizeof(*l), 0);
	if (l == NULL)
		return -ENOMEM;
	*l = (struct ph_local){
	        .ip = ip, .ctx = ctx, .ifindex = ifindex, .kind = (uint8_t)kind, .plen = plen};
	rc = rte_hash_add_key_data(h->locals, &k, l);
	if (rc != 0)
		rte_free(l);
	return rc;
}

static int
ctx_create(struct ph_host *h, const struct ph_conf_ctx *cc)
{
	struct ph_ctx *c = rte_zmalloc("ph_ctx", sizeof(*c), 0);
	int rc;

	if (c == NULL)
		return -ENOMEM;
	c->id = cc->id;
	c->forwarding = cc->forwarding;
	c->fib_kind = cc->fib;
	c->max_routes = cc->max_routes;
	strlcpy(c->name, cc->name, sizeof(c->name));
	rc = ctx_rib_init(h, c);
	if (rc != 0) {
		rte_free(c);
		return rc;
	}
	h->ctxs[cc->id] = c;
	return 0;
}

static int
iface_create(struct ph_host *h, const struct ph_conf *conf, unsigned i)
{
	const struct ph_conf_iface *ci = &conf->ifaces[i];
	struct ph_iface *ifc = &h->ifaces[i];
	struct ph_port *port = &h->ports[ci->port];

	*ifc = (struct ph_iface){
	        .index = (uint16_t)i,
	        .port = (uint16_t)ci->port,
	        .vlan = ci->vlan,
	        .ctx = conf->ctxs[ci->ctx].id,
	        .mtu = ci->mtu,
	        .mac = port->mac,
	        .n_addrs = (uint8_t)ci->n_addrs,
	};
	strlcpy(ifc->name, ci->name, sizeof(ifc->name));
	for (unsigned a = 0; a < ci->n_addrs; a++)
		ifc->addrs[a] =
		        (struct ph_ifaddr){.ip = ci->addrs[a].ip, .plen = ci->addrs[a].plen};
	if (ci->vlan == 0) {
		port->untagged_iface = ifc->index;
	} else {
		if (port->vlan_iface == NULL) {
			port->vlan_iface = rte_malloc("ph_vlan_map", 4096 * sizeof(uint16_t), 0);
			if (port->vlan_iface == NULL)
				return -ENOMEM;
			for (unsigned v = 0; v < 4096; v++)
				port->vlan_iface[v] = PH_IFACE_NONE;
		}
		port->vlan_iface[ci->vlan] = ifc->index;
	}
	return 0;
}

/* Local addresses and the connected routes they bring. */
static int
iface_addresses(struct ph_host *h, const struct ph_iface *ifc, char *err, size_t errlen)
{
	for (unsigned a = 0; a < ifc->n_addrs; a++) {
		uint32_t ip = ifc->addrs[a].ip, m = ipv4_mask(ifc->addrs[a].plen);
		uint8_t plen = ifc->addrs[a].plen;
		struct ph_conf_route conn = {.prefix = ip & m, .plen = plen, .n_hops = 1};
		char why[128];
		int rc;

		rc = local_add(h, ifc->ctx, ip, ifc->index, PH_LOCAL_UNICAST, plen);
		if (rc != 0) {
			snprintf(err, errlen, "interface %s: address: %s", ifc->name,
			         strerror(-rc));
			return rc;
		}
		/* A second address in a subnet already present adds nothing more. */
		if (plen < 31)
			(void)local_add(h, ifc->ctx, ip | ~m, ifc->index, PH_LOCAL_BROADCAST, plen);
		strlcpy(conn.hops[0].dev, ifc->name, sizeof(conn.hops[0].dev));
		rc = ctx_route_change(h, ifc->ctx, PH_ROUTE_ADD, &conn, PH_ROUTE_CONNECTED, why,
		                      sizeof(why));
		if (rc != 0 && rc != -EEXIST) {
			snprintf(err, errlen, "interface %s: connected route: %s", ifc->name, why);
			return rc;
		}
	}
	return 0;
}

static int
static_route(struct ph_host *h, const struct ph_conf *conf, const struct ph_conf_ctx *cc,
             const struct ph_conf_route *r, char *err, size_t errlen)
{
	char why[192];
	int rc = ctx_route_change(h, cc->id, PH_ROUTE_ADD, r, PH_ROUTE_STATIC, why, sizeof(why));

	if (rc == -EEXIST)
		rc = 0; /* the same prefix as a connected route: the connected one stays */
	if (rc != 0)
		snprintf(err, errlen, "%s:%d: key 'route': %s", conf->path, r->line, why);
	return rc;
}

int
ctx_build(struct ph_host *h, const struct ph_conf *conf, char *err, size_t errlen)
{
	struct rte_hash_parameters hp = {
	        .name = "ph_locals",
	        .entries = PH_LOCALS_MAX,
	        .key_len = sizeof(struct ph_ctx_key),
	        .hash_func = rte_jhash,
	        .socket_id = SOCKET_ID_ANY,
	        .extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash_rcu_config rcu = {
	        .v = h->qsbr,
	        .mode = RTE_HASH_QSBR_MODE_DQ,
	        .free_key_data_func = local_free,
	};
	int rc;

	h->locals = rte_hash_create(&hp);
	if (h->locals == NULL) {
		snprintf(err, errlen, "local address table: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	rc = rte_hash_rcu_qsbr_add(h->locals, &rcu);
	if (rc != 0) {
		snprintf(err, errlen, "local address table RCU: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	for (unsigned i = 0; i < conf->n_ctxs; i++) {
		rc = ctx_create(h, &conf->ctxs[i]);
		if (rc != 0) {
			snprintf(err, errlen, "context %s: FIB: %s", conf->ctxs[i].name,
			         rte_strerror(-rc));
			return rc;
		}
	}
	for (unsigned p = 0; p < h->n_ports; p++)
		h->ports[p].untagged_iface = PH_IFACE_NONE;
	for (unsigned i = 0; i < conf->n_ifaces; i++) {
		rc = iface_create(h, conf, i);
		if (rc != 0) {
			snprintf(err, errlen, "interface %s: %s", conf->ifaces[i].name,
			         strerror(-rc));
			return rc;
		}
	}
	h->n_ifaces = (uint16_t)conf->n_ifaces;
	for (unsigned i = 0; i < conf->n_ctxs; i++)
		ctx_routes_begin(h, conf->ctxs[i].id);
	for (unsigned i = 0; i < h->n_ifaces; i++)
		if ((rc = iface_addresses(h, &h->ifaces[i], err, errlen)) != 0)
			return rc;
	for (unsigned i = 0; i < conf->n_ctxs; i++)
		for (unsigned r = 0; r < conf->ctxs[i].n_routes; r++)
			if ((rc = static_route(h, conf, &conf->ctxs[i], &conf->ctxs[i].routes[r],
			                       err, errlen)) != 0)
				return rc;
	for (unsigned i = 0; i < conf->n_ctxs; i++)
		if ((rc = ctx_routes_commit(h, conf->ctxs[i].id)) != 0) {
			snprintf(err, errlen, "context %s: FIB: %s", conf->ctxs[i].name,
			         strerror(-rc));
			return rc;
		}
	return 0;
}

void
ctx_destroy(struct ph_host *h)
{
	if (h->locals != NULL) {
		const void *key;
		void *data;
		uint32_t it = 0;

		while (rte_hash_iterate(h->locals, &key, &data, &it) >= 0)
			rte_free(data);
		rte_hash_free(h->locals);
		h->locals = NULL;
	}
	for (unsigned i = 0; i < PH_MAX_CTX; i++) {
		struct ph_ctx *c = h->ctxs[i];

		if (c == NULL)
			continue;
		ctx_rib_free(h, c);
		if (c->fib != NULL)
			rte_fib_free(c->fib);
		rte_free(c);
		h->ctxs[i] = NULL;
	}
	for (unsigned p = 0; p < h->n_ports; p++) {
		rte_free(h->ports[p].vlan_iface);
		h->ports[p].vlan_iface = NULL;
	}
}
