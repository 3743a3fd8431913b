/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The neighbour table's state machine on a virtual clock: resolution with a
 * bounded queue, retransmission and failure, ageing into re-validation and
 * removal, the merge rule, and the bounds of the table. Packets are stand-in
 * pointers: the table never looks inside them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arp/neigh_table.h"

#define PKT(n) ((struct rte_mbuf *)(uintptr_t)(0x1000 + (n)))

struct rec {
	unsigned publish, unpublish, solicit_bcast, solicit_ucast, transmit, drop;
	enum ph_drop last_drop;
	struct rte_mbuf *sent[64];
	struct rte_mbuf *dropped[64];
	uint32_t last_ip;
};

static void
r_publish(void *arg, uint16_t ctx, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct rec *r = arg;

	(void)ctx, (void)mac;
	r->publish++;
	r->last_ip = ip;
}

static void
r_unpublish(void *arg, uint16_t ctx, uint32_t ip)
{
	struct rec *r = arg;

	(void)ctx;
	r->unpublish++;
	r->last_ip = ip;
}

static void
r_solicit(void *arg, uint16_t ctx, uint16_t ifindex, uint32_t ip, const struct rte_ether_addr *dst)
{
	struct rec *r = arg;

	(void)ctx, (void)ifindex;
	if (dst)
		r->solicit_ucast++;
	else
		r->solicit_bcast++;
	r->last_ip = ip;
}

static void
r_transmit(void *arg, struct rte_mbuf *m, uint16_t ifindex, const struct rte_ether_addr *mac)
{
	struct rec *r = arg;

	(void)ifindex, (void)mac;
	r->sent[r->transmit++ % 64] = m;
}

static void
r_drop(void *arg, struct rte_mbuf *m, enum ph_drop why)
{
	struct rec *r = arg;

	r->dropped[r->drop++ % 64] = m;
	r->last_drop = why;
}

static const struct neigh_ops ops = {r_publish, r_unpublish, r_solicit, r_transmit, r_drop};

static const struct neigh_params params = {
        .max_entries = 4,
        .max_pending = 3,
        .max_pending_total = 5,
        .reachable_ms = 30000,
        .retrans_ms = 1000,
        .mcast_probes = 3,
        .ucast_probes = 3,
};

static const struct rte_ether_addr mac1 = {{2, 0, 0, 0, 0, 1}};

static void
resolve_then_release(void **state)
{
	struct rec r = {0};
	struct neigh_table *t = neigh_table_create(&params, &ops, &r);

	(void)state;
	neigh_resolve(t, 0, 0, 0xc6120001, PKT(1), 0);
	assert_int_equal(r.solicit_bcast, 1);
	neigh_resolve(t, 0, 0, 0xc6120001, PKT(2), 10);
	assert_int_equal(r.solicit_bcast, 1); /* one request in flight */
	assert_int_equal(neigh_pending_count(t), 2);
	assert_int_equal(r.transmit, 0);
	/* The reply: published, and the held packets go in order. */
	assert_true(neigh_input(t, 0, 0, 0xc6120001, &mac1, true, 20));
	assert_int_equal(r.publish, 1);
	assert_int_equal(r.transmit, 2);
	assert_ptr_equal(r.sent[0], PKT(1));
	assert_ptr_equal(r.sent[1], PKT(2));
	assert_int_equal(neigh_pending_count(t), 0);
	/* Resolved: straight out. */
	neigh_resolve(t, 0, 0, 0xc6120001, PKT(3), 30);
	assert_int_equal(r.transmit, 3);
	neigh_table_destroy(t);
	assert_int_equal(r.unpublish, 1);
}

static void
bounded_queue(void **state)
{
	struct rec r = {0};
	struct neigh_table *t = neigh_table_create(&params, &ops, &r);

	(void)state;
	for (unsigned i = 1; i <= 5; i++)
		neigh_resolve(t, 0, 0, 0xc6120001, PKT(i), 0);
	/* Three held per neighbour: the two oldest were dropped. */
	assert_int_equal(neigh_pending_count(t), 3);
	assert_int_equal(r.drop, 2);
	assert_ptr_equal(r.dropped[0], PKT(1));
	assert_ptr_equal(r.dropped[1], PKT(2));
	assert_int_equal(r.last_drop, PH_DROP_NEIGH_QUEUE_FULL);
	/* Five in the whole table. */
	for (unsigned i = 6; i <= 9; i++)
		neigh_resolve(t, 0, 0, 0xc6120002, PKT(i), 0);
	assert_true(neigh_pending_count(t) <= 5);
	neigh_table_destroy(t);
	/* Every packet was either dropped or still held at destroy (then dropped). */
	assert_int_equal(r.drop + r.transmit, 9);
	assert_int_equal(r.last_drop, PH_DROP_SHUTDOWN);
}

/* A request sent while the link was down went nowhere: when it comes up,
 * the neighbours unresolved on it ask again at once, the others wait. */
static void
link_up_asks_again(void **state)
{
	struct rec r = {0};
	struct neigh_table *t = neigh_table_create(&params, &ops, &r);

	(void)state;
	neigh_resolve(t, 0, 0, 0xc6120001, PKT(1), 0); /* on interface 0 */
	neigh_resolve(t, 0, 1, 0xc6120002, PKT(2), 0); /* on interface 1 */
	assert_int_equal(r.solicit_bcast, 2);
	neigh_tick(t, 100);
	assert_int_equal(r.solicit_bcast, 2); /* retrans_ms is 1000 */
	neigh_link_up(t, 0, 150);
	neigh_tick(t, 150);
	assert_int_equal(r.solicit_bcast, 3);
	assert_int_equal(r.last_ip, 0xc6120001);
	/* With its full count of tries: three more before it fails. */
	neigh_tick(t, 1150);
	neigh_tick(t, 2150);
	assert_int_equal(neigh_pending_count(t), 2);
	assert_true(neigh_input(t, 0, 0, 0xc6120001, &mac1, true, 2200));
	assert_int_equal(r.transmit, 1);
	neigh_table_destroy(t);
}

static void
resolution_fails(void **state)
{
	struct rec r = {0};
	struct neigh_table *t = neigh_table_create(&params, &ops, &r);

	(void)state;
	neigh_resolve(t, 0, 0, 0xc6120009, PKT(1), 0);
	for (uint64_t now = 0; now <= 5000; now += 10)
		neigh_tick(t, now);
	/* mcast_probes requests one retrans_ms apart, then the packet is dropped. */
	assert_int_equal(r.solicit_bcast, 3);
	assert_int_equal(r.drop, 1);
	assert_int_equal(r.last_drop, PH_DROP_NEIGH_FAILED);
	assert_int_equal(neigh_count(t), 0);
	assert_int_equal(r.publish, 0);
	neigh_table_destroy(t);
}

static void
ageing(void **state)
{
	struct rec r = {0};
	struct neigh_table *t = neigh_table_create(&params, &ops, &r);
	struct neigh_info info;

	(void)state;
	neigh_resolve(t, 0, 0, 0xc6120001, PKT(1), 0);
	neigh_input(t, 0, 0, 0xc6120001, &mac1, true, 0);
	neigh_tick(t, 29999);
	assert_int_equal(neigh_list(t, 0, 0, &info, 1), 1);
	assert_int_equal(info.state, NEIGH_REACHABLE);
	/* Older than reachable_ms: still used, but re-validated by unicast. */
	neigh_tick(t, 30000);
	assert_int_equal(neigh_list(t, 0, 0, &info, 1), 1);
	assert_int_equal(info.state, NEIGH_PROBE);
	assert_int_equal(r.solicit_ucast, 1);
	neigh_resolve(t, 0, 0, 0xc6120001, PKT(2), 30001);
	assert_int_equal(r.transmit, 2);
	/* A reply confirms it again. */
	neigh_input(t, 0, 0, 0xc6120001, &mac1, false, 30500);
	assert_int_equal(neigh_list(t, 0, 0, &info, 1), 1);
	assert_int_equal(info.state, NEIGH_REACHABLE);
	assert_int_equal(r.publish, 1); /* same MAC: nothing to republish */
	/* No answer to the probes: removed and unpublished. */
	for (uint64_t now = 60500; now <= 70000; now += 100)
		neigh_tick(t, now);
	assert_int_equal(r.solicit_ucast, 1 + 3);
	assert_int_equal(neigh_count(t), 0);
	assert_int_equal(r.unpublish, 1);
	neigh_table_destroy(t);
}

static void
merge_rule(void **state)
{
	struct rec r = {0};
	struct neigh_table *t = neigh_table_create(&params, &ops, &r);
	const struct rte_ether_addr mac2 = {{2, 0, 0, 0, 0, 2}};

	(void)state;
	/* Not addressed to us and unknown: no entry (RFC 826). */
	assert_false(neigh_input(t, 0, 0, 0xc6120005, &mac1, false, 0));
	assert_int_equal(neigh_count(t), 0);
	/* Addressed to us: created. */
	assert_true(neigh_input(t, 0, 0, 0xc6120005, &mac1, true, 0));
	assert_int_equal(r.publish, 1);
	/* Known, even when not to us: updated, a new MAC republished. */
	assert_true(neigh_input(t, 0, 0, 0xc6120005, &mac2, false, 10));
	assert_int_equal(r.publish, 2);
	/* The same address in another context is another neighbour. */
	assert_false(neigh_input(t, 1, 0, 0xc6120005, &mac1, false, 10));
	assert_true(neigh_input(t, 1, 0, 0xc6120005, &mac1, true, 10));
	assert_int_equal(neigh_count(t), 2);
	assert_int_equal(neigh_list(t, 1, 0, (struct neigh_info[2]){0}, 2), 1);
	assert_int_equal(neigh_delete(t, 1, 0xc6120005), 0);
	assert_int_equal(neigh_delete(t, 1, 0xc6120005), -ENOENT);
	neigh_table_destroy(t);
}

static void
table_bounds(void **state)
{
	struct rec r = {0};
	struct neigh_table *t = neigh_table_create(&params, &ops, &r);

	(void)state;
	/* Four resolved neighbours fill the table... */
	for (uint32_t i = 1; i <= 4; i++)
		neigh_input(t, 0, 0, 0xc6120000 + i, &mac1, true, i);
	assert_int_equal(neigh_count(t), 4);
	/* ...a fifth evicts the least recently confirmed (.1). */
	neigh_input(t, 0, 0, 0xc6120005, &mac1, true, 10);
	assert_int_equal(neigh_count(t), 4);
	assert_int_equal(r.unpublish, 1);
	assert_int_equal(r.last_ip, 0xc6120005); /* published after .1 was unpublished */
	/* Unresolved entries are never evicted: with four in flight, a fifth fails. */
	neigh_table_destroy(t);
	memset(&r, 0, sizeof(r));
	t = neigh_table_create(&params, &ops, &r);
	for (uint32_t i = 1; i <= 4; i++)
		neigh_resolve(t, 0, 0, 0xc6120010 + i, PKT(i), 0);
	neigh_resolve(t, 0, 0, 0xc6120020, PKT(9), 0);
	assert_int_equal(r.last_drop, PH_DROP_NEIGH_TABLE_FULL);
	assert_ptr_equal(r.dropped[0], PKT(9));
	neigh_table_destroy(t);
	assert_int_equal(r.drop, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(resolve_then_release),
	        cmocka_unit_test(link_up_asks_again),
	        cmocka_unit_test(bounded_queue),
	        cmocka_unit_test(resolution_fails),
	        cmocka_unit_test(ageing),
	        cmocka_unit_test(merge_rule),
	        cmocka_unit_test(table_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
