/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routing contexts' control side (stack/ctx) on real rte_fib and rte_rcu_qsbr
 * (EAL --no-huge, no port): contexts built from a configuration, the same
 * subnet in two contexts, interfaces (ports and VLANs) mapped to contexts,
 * longest-prefix match, ECMP by hash, leaked routes, the errors of route
 * changes, the RCU rule for next-hop slots, and lookups on another lcore
 * while routes change under them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "conf/conf.h"
#include "core/host.h"
#include "ctx/ctx.h"
#include "wire/ipv4.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static struct ph_host *h;
static struct ph_conf *conf;
static uint16_t red, blue;

static const char *conf_text =
        "[eal]\nargs = --no-huge\n"
        "[port p0]\ndevice = net_null0\ncontext = red\naddress = 198.18.0.2/24\n"
        "[port p1]\ndevice = net_null1\ncontext = blue\naddress = 198.18.0.2/24\n"
        "[vlan v7]\nport = p0\nid = 7\ncontext = blue\naddress = 198.18.7.2/24\n"
        "[port p2]\ndevice = net_null2\ncontext = red\naddress = 198.18.1.2/24\n"
        "[context red]\nid = 3\nforwarding = yes\n"
        "route = 198.18.100.0/24 via 198.18.0.1 via 198.18.1.1\n"
        "[context blue]\nid = 1000\nfib = ranges\n"
        "route = default via 198.18.7.1\n"
        "[context green]\nid = 5\nfib = ranges\nmax_routes = 16\n";

static int
setup(void **state)
{
	char path[] = "/tmp/ph-test-route-XXXXXX", err[512];
	int fd = mkstemp(path);
	size_t qs;

	(void)state;
	if (fd < 0 || write(fd, conf_text, strlen(conf_text)) != (ssize_t)strlen(conf_text))
		return -1;
	close(fd);
	conf = ph_conf_load(path, err, sizeof(err));
	unlink(path);
	if (conf == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	h = rte_zmalloc("test_host", sizeof(*h), 0);
	if (h == NULL)
		return -1;
	h->conf = conf;
	h->n_ports = (uint16_t)conf->n_ports; /* closed: interfaces only take their MAC */
	h->n_lcores = 2;
	qs = rte_rcu_qsbr_get_memsize(2);
	h->qsbr = rte_zmalloc("test_qsbr", qs, RTE_CACHE_LINE_SIZE);
	if (h->qsbr == NULL || rte_rcu_qsbr_init(h->qsbr, 2) != 0)
		return -1;
	if (ctx_build(h, conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "ctx_build: %s\n", err);
		return -1;
	}
	red = (uint16_t)conf->ctxs[ph_conf_ctx_by_name(conf, "red")].id;
	blue = (uint16_t)conf->ctxs[ph_conf_ctx_by_name(conf, "blue")].id;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ctx_destroy(h);
	rte_free(h->qsbr);
	rte_free(h);
	ph_conf_free(conf);
	return 0;
}

static int
iface_of(const char *name)
{
	for (unsigned i = 0; i < h->n_ifaces; i++)
		if (strcmp(h->ifaces[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const struct ph_nexthop *
lookup(uint16_t ctx, uint32_t ip)
{
	return ctx_route_flow(h, ctx, ip, 0);
}

static int
change(uint16_t ctx, enum ph_route_op op, const char *spec)
{
	struct ph_conf_route r = {0};
	char err[256];
	int rc;

	if (ph_parse_route(spec, &r, err, sizeof(err)) < 0)
		fail_msg("%s: %s", spec, err);
	rc = ctx_route_change(h, ctx, op, &r, PH_ROUTE_STATIC, err, sizeof(err));
	if (rc != 0)
		print_message("  %s: %s\n", spec, err);
	return rc;
}

/* 198.18.0.0/24 is in both contexts, each on its own interface; the VLAN
 * on p0 belongs to blue, not to p0's red. */
static void
same_subnet_two_contexts(void **state)
{
	const struct ph_local *l;

	(void)state;
	assert_int_equal(h->ifaces[iface_of("p0")].ctx, red);
	assert_int_equal(h->ifaces[iface_of("p1")].ctx, blue);
	assert_int_equal(h->ifaces[iface_of("v7")].ctx, blue);
	assert_int_equal(h->ifaces[iface_of("v7")].vlan, 7);
	assert_int_equal(h->ports[0].untagged_iface, iface_of("p0"));
	assert_int_equal(h->ports[0].vlan_iface[7], iface_of("v7"));
	assert_int_equal(h->ports[0].vlan_iface[8], PH_IFACE_NONE);
	assert_int_equal(lookup(red, IP(198, 18, 0, 9))->ifindex, iface_of("p0"));
	assert_int_equal(lookup(blue, IP(198, 18, 0, 9))->ifindex, iface_of("p1"));
	l = ctx_local_lookup(h, red, IP(198, 18, 0, 2));
	assert_non_null(l);
	assert_int_equal(l->ifindex, iface_of("p0"));
	l = ctx_local_lookup(h, blue, IP(198, 18, 0, 2));
	assert_non_null(l);
	assert_int_equal(l->ifindex, iface_of("p1"));
	/* red has no default route; blue's goes out of the VLAN. */
	assert_null(lookup(red, IP(203, 0, 113, 1)));
	assert_null(ctx_local_lookup(h, red, IP(198, 18, 7, 2)));
	assert_int_equal(lookup(blue, IP(203, 0, 113, 1))->gw, IP(198, 18, 7, 1));
	assert_true(h->ctxs[red]->forwarding);
	assert_false(h->ctxs[blue]->forwarding);
}

static void
longest_prefix_match(void **state)
{
	(void)state;
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.19.0.0/16 via 198.18.0.10"), 0);
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.19.5.0/24 via 198.18.0.11"), 0);
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.19.5.128/25 via 198.18.0.12"), 0);
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.19.5.200/32 dev p2"), 0);
	assert_int_equal(lookup(red, IP(198, 19, 9, 9))->gw, IP(198, 18, 0, 10));
	assert_int_equal(lookup(red, IP(198, 19, 5, 1))->gw, IP(198, 18, 0, 11));
	assert_int_equal(lookup(red, IP(198, 19, 5, 129))->gw, IP(198, 18, 0, 12));
	assert_int_equal(lookup(red, IP(198, 19, 5, 200))->kind, PH_NH_ONLINK);
	assert_int_equal(lookup(red, IP(198, 19, 5, 200))->ifindex, iface_of("p2"));
	/* blue is untouched: its default route answers there. */
	assert_int_equal(lookup(blue, IP(198, 19, 5, 1))->gw, IP(198, 18, 7, 1));
	/* Delete the /25: the /24 covers it again. */
	assert_int_equal(change(red, PH_ROUTE_DEL, "198.19.5.128/25 dev p0"), 0);
	assert_int_equal(lookup(red, IP(198, 19, 5, 129))->gw, IP(198, 18, 0, 11));
	assert_int_equal(change(red, PH_ROUTE_DEL, "198.19.5.128/25 dev p0"), -ESRCH);
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.19.5.0/24 via 198.18.0.13"), -EEXIST);
	assert_int_equal(change(red, PH_ROUTE_REPLACE, "198.19.5.0/24 via 198.18.0.13"), 0);
	assert_int_equal(lookup(red, IP(198, 19, 5, 1))->gw, IP(198, 18, 0, 13));
	assert_int_equal(h->ctxs[red]->n_routes, 2 + 1 + 4 - 1);
	assert_int_equal(change(red, PH_ROUTE_DEL, "198.19.0.0/16 dev p0"), 0);
	assert_int_equal(change(red, PH_ROUTE_DEL, "198.19.5.0/24 dev p0"), 0);
	assert_int_equal(change(red, PH_ROUTE_DEL, "198.19.5.200/32 dev p0"), 0);
	assert_null(lookup(red, IP(198, 19, 5, 1)));
}

/* The configured ECMP route: both paths used, each hash always the same one. */
static void
ecmp_by_hash(void **state)
{
	unsigned on_p0 = 0, on_p2 = 0;

	(void)state;
	for (uint32_t i = 0; i < 4096; i++) {
		uint32_t hash = ctx_l3_hash(IP(198, 18, 0, 50), IP(198, 18, 100, 1) + i);
		const struct ph_nexthop *a = ctx_route_flow(h, red, IP(198, 18, 100, 7), hash);
		const struct ph_nexthop *b = ctx_route_flow(h, red, IP(198, 18, 100, 7), hash);

		assert_ptr_equal(a, b);
		assert_int_equal(a->kind, PH_NH_GATEWAY);
		if (a->gw == IP(198, 18, 0, 1)) {
			assert_int_equal(a->ifindex, iface_of("p0"));
			on_p0++;
		} else {
			assert_int_equal(a->gw, IP(198, 18, 1, 1));
			assert_int_equal(a->ifindex, iface_of("p2"));
			on_p2++;
		}
	}
	/* 4096 flows over two paths: each within 10% of half. */
	assert_true(on_p0 > 1843 && on_p2 > 1843);
	/* Four paths: each gets about a quarter of the hashes. */
	assert_int_equal(change(red, PH_ROUTE_ADD,
	                        "198.19.0.0/16 via 198.18.0.21 via 198.18.0.22 via 198.18.0.23 "
	                        "via 198.18.1.24"),
	                 0);
	unsigned seen[4] = {0};
	for (uint32_t i = 0; i < 4096; i++) {
		const struct ph_nexthop *n =
		        ctx_route_flow(h, red, IP(198, 19, 0, 1), i * 0x9e3779b9u);
		uint32_t last = n->gw & 255;

		assert_true(last >= 21 && last <= 24);
		seen[last - 21]++;
	}
	for (int i = 0; i < 4; i++)
		assert_true(seen[i] > 800);
	assert_int_equal(change(red, PH_ROUTE_DEL, "198.19.0.0/16 dev p0"), 0);
}

/* A route in red whose next hop is in blue, and the errors of route changes. */
static void
leaks_and_errors(void **state)
{
	const struct ph_nexthop *n;

	(void)state;
	/* Without the leak, red cannot use blue's gateway. */
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.19.7.0/24 via 198.18.7.1"), -ENETUNREACH);
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.19.7.0/24 dev v7"), -EINVAL);
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.19.7.0/24 via 198.18.7.1 ctx blue"), 0);
	n = lookup(red, IP(198, 19, 7, 1));
	assert_non_null(n);
	assert_int_equal(n->ctx, blue);
	assert_int_equal(n->ifindex, iface_of("v7"));
	/* blue never sees red's route. */
	assert_int_equal(lookup(blue, IP(198, 19, 7, 1))->gw, IP(198, 18, 7, 1));
	assert_int_equal(change(red, PH_ROUTE_DEL, "198.19.7.0/24 dev p0"), 0);
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.19.7.0/24 dev nosuch"), -ENODEV);
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.19.7.0/24 dev p0 ctx nosuch"), -ENOENT);
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.19.7.0/24 via 198.18.0.2"), -EINVAL);
	assert_int_equal(change(6, PH_ROUTE_ADD, "198.19.7.0/24 dev p0"), -ENOENT);
	assert_null(lookup(red, IP(198, 19, 7, 1)));
}

/* A next-hop slot given up while a reader may still hold its index is not
 * taken again until that reader reports a quiescent state. */
static void
retired_nexthop_waits_for_readers(void **state)
{
	uint16_t first, second;
	const struct ph_route *rt;

	(void)state;
	assert_int_equal(rte_rcu_qsbr_thread_register(h->qsbr, 1), 0);
	rte_rcu_qsbr_thread_online(h->qsbr, 1);
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.19.8.0/24 via 198.18.0.31"), 0);
	rt = NULL;
	while ((rt = ctx_rib_next(h->ctxs[red], rt)) != NULL && rt->prefix != IP(198, 19, 8, 0))
		;
	assert_non_null(rt);
	first = rt->nh;
	/* The reader (thread 1) looked it up ... */
	assert_int_equal(lookup(red, IP(198, 19, 8, 1)), &h->nexthops[first]);
	assert_int_equal(change(red, PH_ROUTE_REPLACE, "198.19.8.0/24 via 198.18.0.32"), 0);
	second = rt->nh;
	assert_int_not_equal(first, second);
	assert_int_equal(h->nexthops[first].state, PH_NH_RETIRED);
	/* ... so the old slot still says what it said. */
	assert_int_equal(h->nexthops[first].gw, IP(198, 18, 0, 31));
	assert_int_equal(change(red, PH_ROUTE_REPLACE, "198.19.8.0/24 via 198.18.0.33"), 0);
	assert_int_not_equal(rt->nh, first);
	assert_int_equal(h->nexthops[first].gw, IP(198, 18, 0, 31));
	/* Once the reader has moved on, the slot is free again. */
	rte_rcu_qsbr_quiescent(h->qsbr, 1);
	assert_int_equal(change(red, PH_ROUTE_REPLACE, "198.19.8.0/24 via 198.18.0.34"), 0);
	assert_int_equal(rt->nh, first);
	assert_int_equal(h->nexthops[first].gw, IP(198, 18, 0, 34));
	assert_int_equal(change(red, PH_ROUTE_DEL, "198.19.8.0/24 dev p0"), 0);
	rte_rcu_qsbr_thread_offline(h->qsbr, 1);
	rte_rcu_qsbr_thread_unregister(h->qsbr, 1);
}

/* The FIB of either kind against a brute-force longest match over the RIB:
 * random routes of every length (some deleted again), then addresses at
 * and around every prefix's ends and at random. */
static uint32_t rnd_state = 12345;

static uint32_t
rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) ^ (rnd_state << 20);
}

static uint16_t
brute_lpm(uint16_t ctx, uint32_t ip)
{
	const struct ph_route *rt = NULL, *best = NULL;

	while ((rt = ctx_rib_next(h->ctxs[ctx], rt)) != NULL)
		if ((ip & ipv4_mask(rt->plen)) == rt->prefix &&
		    (best == NULL || rt->plen > best->plen))
			best = rt;
	return best != NULL ? best->nh : PH_NH_NONE;
}

static bool
rib_has(uint16_t ctx, uint32_t prefix, uint8_t plen)
{
	const struct ph_route *rt = NULL;

	while ((rt = ctx_rib_next(h->ctxs[ctx], rt)) != NULL)
		if (rt->prefix == prefix && rt->plen == plen)
			return true;
	return false;
}

static void
check_fib_against_rib(uint16_t ctx, const char *gw_net)
{
	unsigned before = h->ctxs[ctx]->n_routes, n = 0, checked = 0;
	uint32_t prefixes[400];
	uint8_t plens[400];
	char spec[128];

	for (unsigned i = 0; i < 400; i++) {
		uint8_t plen = (uint8_t)(rnd() % 33);
		uint32_t p = rnd() & ipv4_mask(plen);

		/* Around 198.19/16 often, so that prefixes nest; and the prefixes
		 * that reach 255.255.255.255, which DIR-24-8 cannot hold. */
		if (i % 3 == 1) {
			plen = plen < 16 ? 16 : plen;
			p = (0xc6130000u | (rnd() & 0xffff)) & ipv4_mask(plen);
		} else if (i % 5 == 2) {
			p = ~0u & ipv4_mask(plen);
		}
		/* The configured routes stay as they are. */
		if (rib_has(ctx, p, plen))
			continue;
		snprintf(spec, sizeof(spec), "%u.%u.%u.%u/%u via %s.%u", p >> 24, (p >> 16) & 255,
		         (p >> 8) & 255, p & 255, plen, gw_net, 10 + i % 7);
		if (change(ctx, PH_ROUTE_ADD, spec) == 0) {
			plens[n] = plen;
			prefixes[n++] = p;
		}
	}
	for (unsigned i = 0; i < n; i += 3) {
		snprintf(spec, sizeof(spec), "%u.%u.%u.%u/%u dev x", prefixes[i] >> 24,
		         (prefixes[i] >> 16) & 255, (prefixes[i] >> 8) & 255, prefixes[i] & 255,
		         plens[i]);
		assert_int_equal(change(ctx, PH_ROUTE_DEL, spec), 0);
		plens[i] = 99; /* gone */
	}
	for (unsigned i = 0; i < n + 20000; i++) {
		uint32_t ip = i < n ? prefixes[i] : rnd();

		/* Each prefix's first and last address and their neighbours. */
		for (int d = -1; d <= 2; d++) {
			uint64_t got = PH_NH_NONE;
			uint32_t last = i < n && plens[i] <= 32
			                        ? ip + (uint32_t)((1ull << (32 - plens[i])) - 1)
			                        : ip;
			uint32_t a = d < 1 ? ip + (uint32_t)d : last + (uint32_t)(d - 1);

			ctx_fib_lookup_bulk(h->ctxs[ctx], &a, &got, 1);
			if (got != brute_lpm(ctx, a)) {
				const struct ph_route *rt = NULL;

				while ((rt = ctx_rib_next(h->ctxs[ctx], rt)) != NULL)
					if ((a & ipv4_mask(rt->plen)) == rt->prefix)
						print_message("  covering %08x/%u nh %u\n",
						              rt->prefix, rt->plen, rt->nh);
				fail_msg("context %u, %u.%u.%u.%u: FIB %lu, RIB %u", ctx, a >> 24,
				         (a >> 16) & 255, (a >> 8) & 255, a & 255,
				         (unsigned long)got, brute_lpm(ctx, a));
			}
			checked++;
		}
	}
	print_message("  context %u: %u routes, %u lookups agree with the RIB\n", ctx,
	              h->ctxs[ctx]->n_routes, checked);
	for (unsigned i = 0; i < n; i++) {
		if (plens[i] > 32)
			continue;
		snprintf(spec, sizeof(spec), "%u.%u.%u.%u/%u dev x", prefixes[i] >> 24,
		         (prefixes[i] >> 16) & 255, (prefixes[i] >> 8) & 255, prefixes[i] & 255,
		         plens[i]);
		assert_int_equal(change(ctx, PH_ROUTE_DEL, spec), 0);
	}
	assert_int_equal(h->ctxs[ctx]->n_routes, before);
}

static void
fib_matches_rib(void **state)
{
	(void)state;
	check_fib_against_rib(blue, "198.18.7");
	check_fib_against_rib(red, "198.18.0");
	/* blue's configured default route is untouched. */
	assert_int_equal(lookup(blue, IP(203, 0, 113, 1))->gw, IP(198, 18, 7, 1));
}

/* A change that fails leaves the FIB as it was: nothing in it names a next
 * hop the change gave up. DIR-24-8 with every tbl8 group taken by /25s,
 * then a default route, which needs one more for its pieces. */
static void
failed_change_leaves_fib_alone(void **state)
{
	char spec[96];
	unsigned added = 0;
	int rc = 0;

	(void)state;
	for (unsigned i = 0; rc == 0 && i < 5000; i++) {
		snprintf(spec, sizeof(spec), "10.%u.%u.0/25 via 198.18.0.40", i >> 8, i & 255);
		rc = change(red, PH_ROUTE_ADD, spec);
		added += rc == 0;
	}
	assert_int_equal(rc, -ENOSPC);
	print_message("  %u /25s fill the table\n", added);
	assert_int_equal(change(red, PH_ROUTE_ADD, "default via 198.18.0.99"), -ENOSPC);
	assert_null(lookup(red, IP(203, 0, 113, 1)));
	assert_null(lookup(red, UINT32_MAX));
	for (unsigned i = 1; i < PH_MAX_NEXTHOPS; i++)
		assert_false(h->nexthops[i].state == PH_NH_USED &&
		             h->nexthops[i].gw == IP(198, 18, 0, 99));
	for (unsigned i = 0; i < added; i++) {
		snprintf(spec, sizeof(spec), "10.%u.%u.0/25 dev x", i >> 8, i & 255);
		assert_int_equal(change(red, PH_ROUTE_DEL, spec), 0);
	}
	/* With room again it goes in, and leaves again. */
	assert_int_equal(change(red, PH_ROUTE_ADD, "default via 198.18.0.99"), 0);
	assert_int_equal(lookup(red, UINT32_MAX)->gw, IP(198, 18, 0, 99));
	assert_int_equal(lookup(red, IP(203, 0, 113, 1))->gw, IP(198, 18, 0, 99));
	assert_int_equal(change(red, PH_ROUTE_DEL, "default dev x"), 0);
	assert_null(lookup(red, IP(203, 0, 113, 1)));
}

/* max_routes bounds a context: green holds 16. */
static void
context_full(void **state)
{
	uint16_t green = (uint16_t)conf->ctxs[ph_conf_ctx_by_name(conf, "green")].id;
	char spec[96];

	(void)state;
	for (unsigned i = 0; i < 16; i++) {
		snprintf(spec, sizeof(spec), "198.19.%u.0/24 dev p0 ctx red", i);
		assert_int_equal(change(green, PH_ROUTE_ADD, spec), 0);
	}
	assert_int_equal(change(green, PH_ROUTE_ADD, "198.19.99.0/24 dev p0 ctx red"), -ENOSPC);
	/* Replacing one that is there is no new route. */
	assert_int_equal(change(green, PH_ROUTE_REPLACE, "198.19.3.0/24 dev p2 ctx red"), 0);
	for (unsigned i = 0; i < 16; i++) {
		snprintf(spec, sizeof(spec), "198.19.%u.0/24 dev x", i);
		assert_int_equal(change(green, PH_ROUTE_DEL, spec), 0);
	}
}

/* Inside a batch a ranges context still shows its table of before: the next
 * hops that table names stay until the commit publishes the new one. */
static void
batch_keeps_published_next_hops(void **state)
{
	const struct ph_nexthop *before;
	uint16_t idx;

	(void)state;
	assert_int_equal(change(blue, PH_ROUTE_ADD, "198.19.50.0/24 via 198.18.7.51"), 0);
	before = lookup(blue, IP(198, 19, 50, 1));
	idx = (uint16_t)(before - h->nexthops);
	ctx_routes_begin(h, blue);
	assert_int_equal(change(blue, PH_ROUTE_REPLACE, "198.19.50.0/24 via 198.18.7.52"), 0);
	assert_int_equal(change(blue, PH_ROUTE_ADD, "198.19.51.0/24 via 198.18.7.53"), 0);
	/* Readers: the old route, through a next hop still in use. */
	assert_ptr_equal(lookup(blue, IP(198, 19, 50, 1)), before);
	assert_int_equal(h->nexthops[idx].state, PH_NH_USED);
	assert_int_equal(lookup(blue, IP(198, 19, 51, 1))->gw, IP(198, 18, 7, 1)); /* default */
	assert_int_equal(ctx_routes_commit(h, blue), 0);
	assert_int_equal(lookup(blue, IP(198, 19, 50, 1))->gw, IP(198, 18, 7, 52));
	assert_int_equal(lookup(blue, IP(198, 19, 51, 1))->gw, IP(198, 18, 7, 53));
	assert_int_not_equal(h->nexthops[idx].state, PH_NH_USED);
	assert_int_equal(change(blue, PH_ROUTE_DEL, "198.19.50.0/24 dev x"), 0);
	assert_int_equal(change(blue, PH_ROUTE_DEL, "198.19.51.0/24 dev x"), 0);
}

/* Lookups on another lcore while this one replaces and deletes routes, in
 * a dir24_8 context (with prefixes longer than /24, whose tbl8 groups come
 * and go) and in a ranges one. */
static atomic_int reader_stop, reader_bad;
static atomic_ulong reader_lookups;

/* Every route the writer publishes in 198.20.I.0/24 (and its /26s) goes
 * through a gateway whose last byte is 10 + I (or 100 + I); a covering /16
 * stays through .250. Anything else read is a torn or stale read. */
static bool
reader_gw_ok(const struct ph_nexthop *n, uint32_t i, const char *net)
{
	uint32_t base = strcmp(net, "red") == 0 ? IP(198, 18, 0, 0) : IP(198, 18, 7, 0);

	if (n == NULL || n->kind != PH_NH_GATEWAY)
		return false;
	return n->gw == base + 250 || n->gw == base + 10 + i || n->gw == base + 100 + i;
}

static int
reader(void *arg)
{
	(void)arg;
	rte_rcu_qsbr_thread_register(h->qsbr, 1);
	rte_rcu_qsbr_thread_online(h->qsbr, 1);
	while (!atomic_load(&reader_stop)) {
		for (uint32_t i = 0; i < 64; i++) {
			uint32_t ip = IP(198, 20, i, 1 + (i % 4) * 64);

			if (!reader_gw_ok(ctx_route_flow(h, red, ip, i), i, "red"))
				atomic_fetch_add(&reader_bad, 1);
			if (!reader_gw_ok(ctx_route_flow(h, blue, ip, i), i, "blue"))
				atomic_fetch_add(&reader_bad, 1);
		}
		atomic_fetch_add(&reader_lookups, 128);
		rte_rcu_qsbr_quiescent(h->qsbr, 1);
	}
	rte_rcu_qsbr_thread_offline(h->qsbr, 1);
	rte_rcu_qsbr_thread_unregister(h->qsbr, 1);
	return 0;
}

static void
changes_under_concurrent_lookups(void **state)
{
	unsigned worker = rte_get_next_lcore(-1, 1, 0);
	const char *nets[2] = {"198.18.0", "198.18.7"};
	uint16_t ctxs[2] = {red, blue};
	char spec[128];

	(void)state;
	if (worker >= RTE_MAX_LCORE)
		skip();
	assert_int_equal(change(red, PH_ROUTE_ADD, "198.20.0.0/16 via 198.18.0.250"), 0);
	assert_int_equal(change(blue, PH_ROUTE_ADD, "198.20.0.0/16 via 198.18.7.250"), 0);
	assert_int_equal(rte_eal_remote_launch(reader, NULL, worker), 0);
	for (unsigned round = 0; round < 6000; round++) {
		unsigned i = round % 64, k = round % 2;
		enum ph_route_op op = round % 3 == 2 ? PH_ROUTE_DEL : PH_ROUTE_REPLACE;
		/* A /24 or one of its /26s (a tbl8 group in DIR-24-8). */
		unsigned sub = (round / 128) % 5;
		char pfx[32];
		int rc;

		if (sub == 4)
			snprintf(pfx, sizeof(pfx), "198.20.%u.0/24", i);
		else
			snprintf(pfx, sizeof(pfx), "198.20.%u.%u/26", i, sub * 64);
		snprintf(spec, sizeof(spec), "%s via %s.%u", pfx, nets[k],
		         round % 4 ? 10 + i : 100 + i);
		rc = change(ctxs[k], op, spec);
		assert_true(rc == 0 || (op == PH_ROUTE_DEL && rc == -ESRCH));
		/* What the lead does after a change at run time (telemetry.c). */
		rte_rcu_qsbr_synchronize(h->qsbr, RTE_QSBR_THRID_INVALID);
	}
	atomic_store(&reader_stop, 1);
	rte_eal_wait_lcore(worker);
	print_message("  %lu lookups during 6000 changes\n", atomic_load(&reader_lookups));
	assert_true(atomic_load(&reader_lookups) > 0);
	assert_int_equal(atomic_load(&reader_bad), 0);
	for (unsigned k = 0; k < 2; k++) {
		for (unsigned i = 0; i < 64; i++)
			for (unsigned sub = 0; sub < 5; sub++) {
				if (sub == 4)
					snprintf(spec, sizeof(spec), "198.20.%u.0/24 dev x", i);
				else
					snprintf(spec, sizeof(spec), "198.20.%u.%u/26 dev x", i,
					         sub * 64);
				(void)change(ctxs[k], PH_ROUTE_DEL, spec);
			}
		assert_int_equal(change(ctxs[k], PH_ROUTE_DEL, "198.20.0.0/16 dev x"), 0);
	}
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0],       "--no-huge",     "-m",       "256",
	               "--no-pci",    "--no-shconf",   "--lcores", "0-1",
	               "--log-level", "lib.eal:error", NULL};
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(same_subnet_two_contexts),
	        cmocka_unit_test(longest_prefix_match),
	        cmocka_unit_test(ecmp_by_hash),
	        cmocka_unit_test(leaks_and_errors),
	        cmocka_unit_test(retired_nexthop_waits_for_readers),
	        cmocka_unit_test(fib_matches_rib),
	        cmocka_unit_test(failed_change_leaves_fib_alone),
	        cmocka_unit_test(context_full),
	        cmocka_unit_test(batch_keeps_published_next_hops),
	        cmocka_unit_test(changes_under_concurrent_lookups),
	};

	(void)argc;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	int rc = cmocka_run_group_tests(tests, setup, teardown);

	rte_eal_cleanup();
	return rc;
}
