/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 reassembly (rte_ip_frag behind ipv4_reassemble) without EAL: in order,
 * reversed, overlapping, duplicated, timed out, too many pieces. After every
 * case each packet buffer is back in the pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rte_mbuf.h>

#include "core/lcore.h"
#include "fake_dpdk.h"
#include "ipv4/frag.h"
#include "ipv4/ipv4.h"
#include "wire/ipv4.h"

#define TIMEOUT_MS 1000
#define PAYLOAD    3000

static struct rte_mempool *pool;
static struct ph_lcore *lc;
static uint8_t payload[PAYLOAD];

static int
setup(void **state)
{
	(void)state;
	pool = fake_pool_create(256);
	lc = calloc(1, sizeof(*lc));
	/* A 1 kHz "TSC": timestamps are milliseconds. */
	assert_int_equal(ipv4_frag_init(lc, 64, TIMEOUT_MS, 1000), 0);
	for (unsigned i = 0; i < PAYLOAD; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ipv4_frag_fini(lc);
	assert_int_equal(fake_pool_in_use(pool), 0);
	free(lc);
	fake_pool_destroy(pool);
	return 0;
}

/* Payload bytes [OFF, OFF+LEN) of datagram ID as one fragment. */
static struct rte_mbuf *
frag(uint16_t id, uint16_t off, uint16_t len, bool mf, struct ipv4_repr *r)
{
	uint8_t b[20 + PAYLOAD];

	*r = (struct ipv4_repr){.src = 0xc6120001,
	                        .dst = 0xc6120002,
	                        .hdr_len = 20,
	                        .total_len = (uint16_t)(20 + len),
	                        .id = id,
	                        .frag_off = off,
	                        .proto = 17,
	                        .ttl = 64,
	                        .mf = mf};
	ipv4_emit(b, r, false);
	memcpy(b + 20, payload + off, len);
	assert_true(ipv4_fragment_valid(r));
	return fake_mbuf(pool, b, (uint16_t)(20 + len));
}

static void
check_whole(struct rte_mbuf *m, uint16_t len)
{
	uint8_t *buf = malloc(20u + len);
	const uint8_t *p = rte_pktmbuf_read(m, 0, 20u + len, buf);
	struct ipv4_repr r = {0};

	assert_non_null(p);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 20u + len);
	/* The reassembler rewrote the length and cleared the fragment fields;
	 * its header checksum is stale, which no later step reads. */
	assert_int_equal(ipv4_parse(p, 20, 20u + len, IPV4_CSUM_GOOD, &r), PH_DROP_NONE);
	assert_int_equal(r.total_len, 20u + len);
	assert_false(ipv4_is_fragment(&r));
	assert_memory_equal(p + 20, payload, len);
	free(buf);
	rte_pktmbuf_free(m);
}

static uint64_t
drops(enum ph_drop why)
{
	return lc->ctr.drop[why];
}

static void
in_order(void **state)
{
	struct ipv4_repr r;
	struct rte_mbuf *m;

	(void)state;
	lc->now_tsc = 10;
	assert_null(ipv4_reassemble(lc, frag(1, 0, 1480, true, &r), &r, 0));
	assert_null(ipv4_reassemble(lc, frag(1, 1480, 1480, true, &r), &r, 0));
	m = ipv4_reassemble(lc, frag(1, 2960, 40, false, &r), &r, 0);
	assert_non_null(m);
	check_whole(m, PAYLOAD);
	assert_int_equal(lc->ctr.mib[PH_MIB_ipReasmOKs], 1);
}

/* Two contexts with the same addresses: the same datagram ID in each is two
 * datagrams. Fragments of one never complete the other's. */
static void
contexts_apart(void **state)
{
	struct ipv4_repr r;
	struct rte_mbuf *a, *b;

	(void)state;
	lc->now_tsc = 15;
	assert_null(ipv4_reassemble(lc, frag(9, 0, 1480, true, &r), &r, 0));
	assert_null(ipv4_reassemble(lc, frag(9, 1480, 1480, true, &r), &r, 7));
	assert_null(ipv4_reassemble(lc, frag(9, 2960, 40, false, &r), &r, 7));
	assert_null(ipv4_reassemble(lc, frag(9, 1480, 1480, true, &r), &r, 0));
	/* Each completes with its own pieces only. */
	a = ipv4_reassemble(lc, frag(9, 2960, 40, false, &r), &r, 0);
	assert_non_null(a);
	check_whole(a, PAYLOAD);
	b = ipv4_reassemble(lc, frag(9, 0, 1480, true, &r), &r, 7);
	assert_non_null(b);
	check_whole(b, PAYLOAD);
	assert_int_equal(drops(PH_DROP_IP_REASM_FAIL), 0);
}

static void
reversed(void **state)
{
	struct ipv4_repr r;
	struct rte_mbuf *m;

	(void)state;
	lc->now_tsc = 20;
	assert_null(ipv4_reassemble(lc, frag(2, 2960, 40, false, &r), &r, 0));
	assert_null(ipv4_reassemble(lc, frag(2, 1480, 1480, true, &r), &r, 0));
	m = ipv4_reassemble(lc, frag(2, 0, 1480, true, &r), &r, 0);
	assert_non_null(m);
	check_whole(m, PAYLOAD);
}

static void
interleaved_datagrams(void **state)
{
	struct ipv4_repr r;
	struct rte_mbuf *a, *b;

	(void)state;
	lc->now_tsc = 30;
	assert_null(ipv4_reassemble(lc, frag(3, 0, 1000, true, &r), &r, 0));
	assert_null(ipv4_reassemble(lc, frag(4, 1000, 2000, false, &r), &r, 0));
	a = ipv4_reassemble(lc, frag(3, 1000, 2000, false, &r), &r, 0);
	b = ipv4_reassemble(lc, frag(4, 0, 1000, true, &r), &r, 0);
	assert_non_null(a);
	assert_non_null(b);
	check_whole(a, PAYLOAD);
	check_whole(b, PAYLOAD);
}

static void
overlapping(void **state)
{
	uint64_t before = drops(PH_DROP_IP_REASM_FAIL);
	struct ipv4_repr r;

	(void)state;
	lc->now_tsc = 40;
	assert_null(ipv4_reassemble(lc, frag(5, 0, 1480, true, &r), &r, 0));
	/* Bytes 800..2279 overlap the first piece: the datagram is discarded. */
	assert_null(ipv4_reassemble(lc, frag(5, 800, 1480, true, &r), &r, 0));
	assert_null(ipv4_reassemble(lc, frag(5, 2280, 720, false, &r), &r, 0));
	assert_true(drops(PH_DROP_IP_REASM_FAIL) > before);
	assert_true(lc->ctr.mib[PH_MIB_ipReasmFails] >= 1);
	/* Whatever is still held is freed on expiry. */
	lc->now_tsc = 40 + TIMEOUT_MS + 1;
	ipv4_frag_expire(lc);
	assert_int_equal(fake_pool_in_use(pool), 0);
}

static void
duplicate(void **state)
{
	uint64_t before = drops(PH_DROP_IP_REASM_FAIL);
	struct ipv4_repr r;

	(void)state;
	lc->now_tsc = 5000;
	assert_null(ipv4_reassemble(lc, frag(6, 0, 1480, true, &r), &r, 0));
	assert_null(ipv4_reassemble(lc, frag(6, 0, 1480, true, &r), &r, 0));
	assert_null(ipv4_reassemble(lc, frag(6, 1480, 1520, false, &r), &r, 0));
	assert_true(drops(PH_DROP_IP_REASM_FAIL) > before);
	lc->now_tsc = 5000 + TIMEOUT_MS + 1;
	ipv4_frag_expire(lc);
	assert_int_equal(fake_pool_in_use(pool), 0);
}

static void
timed_out(void **state)
{
	uint64_t before = drops(PH_DROP_IP_REASM_FAIL);
	struct ipv4_repr r;

	(void)state;
	lc->now_tsc = 10000;
	assert_null(ipv4_reassemble(lc, frag(7, 0, 1480, true, &r), &r, 0));
	assert_null(ipv4_reassemble(lc, frag(7, 2960, 40, false, &r), &r, 0));
	lc->now_tsc = 10000 + TIMEOUT_MS / 2;
	ipv4_frag_expire(lc);
	assert_int_equal(fake_pool_in_use(pool), 2); /* not yet */
	lc->now_tsc = 10000 + TIMEOUT_MS + 1;
	ipv4_frag_expire(lc);
	assert_int_equal(fake_pool_in_use(pool), 0);
	assert_int_equal(drops(PH_DROP_IP_REASM_FAIL), before + 2);
	/* The missing piece, late: it starts a new datagram, which never completes. */
	assert_null(ipv4_reassemble(lc, frag(7, 1480, 1480, true, &r), &r, 0));
	assert_int_equal(fake_pool_in_use(pool), 1);
}

static void
too_many_pieces(void **state)
{
	uint64_t before = drops(PH_DROP_IP_REASM_FAIL);
	struct ipv4_repr r;
	struct rte_mbuf *m = NULL;

	(void)state;
	lc->now_tsc = 20000;
	/* More pieces than RTE_LIBRTE_IP_FRAG_MAX_FRAG: refused, nothing leaks. */
	for (uint16_t i = 0; i < RTE_LIBRTE_IP_FRAG_MAX_FRAG + 2; i++) {
		bool last = i == RTE_LIBRTE_IP_FRAG_MAX_FRAG + 1;

		m = ipv4_reassemble(lc, frag(8, (uint16_t)(i * 8), 8, !last, &r), &r, 0);
		assert_null(m);
	}
	assert_true(drops(PH_DROP_IP_REASM_FAIL) > before);
	lc->now_tsc = 20000 + TIMEOUT_MS + 1;
	ipv4_frag_expire(lc);
	assert_int_equal(fake_pool_in_use(pool), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(in_order),    cmocka_unit_test(contexts_apart),
	        cmocka_unit_test(reversed),    cmocka_unit_test(interleaved_datagrams),
	        cmocka_unit_test(overlapping), cmocka_unit_test(duplicate),
	        cmocka_unit_test(timed_out),   cmocka_unit_test(too_many_pieces),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
