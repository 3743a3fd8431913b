/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The software Toeplitz hash against the verification vectors Microsoft and
 * Intel publish for RSS (the default key, IPv4 with and without ports), and
 * the queue choice through a redirection table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/rss.h"
#include "flow/flow.h"

static const uint8_t default_key[40] = {
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
        0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
        0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const struct {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t h_ip, h_l4;
} vectors[] = {
        {IP(66, 9, 149, 187), IP(161, 142, 100, 80), 2794, 1766, 0x323e8fc2, 0x51ccc178},
        {IP(199, 92, 111, 2), IP(65, 69, 140, 83), 14230, 4739, 0xd718262a, 0xc626b0ea},
        {IP(24, 19, 198, 95), IP(12, 22, 207, 184), 12898, 38024, 0xd2d0a5de, 0x5c2b394a},
        {IP(38, 27, 205, 30), IP(209, 142, 163, 6), 48228, 2217, 0x82989176, 0xafc7327f},
        {IP(153, 39, 163, 191), IP(202, 188, 127, 2), 44251, 1303, 0x5d1809c5, 0x10e828a2},
};

static void
verification_vectors(void **state)
{
	struct ph_rss r = {.key_len = 40};

	(void)state;
	memcpy(r.key, default_key, sizeof(default_key));
	for (unsigned i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		assert_int_equal(rss_hash_ipv4(&r, vectors[i].src, vectors[i].dst),
		                 vectors[i].h_ip);
		assert_int_equal(rss_hash_ipv4_l4(&r, vectors[i].src, vectors[i].dst,
		                                  vectors[i].sport, vectors[i].dport),
		                 vectors[i].h_l4);
	}
}

static void
symmetric_key(void **state)
{
	struct ph_rss r = {0};

	(void)state;
	rss_key_symmetric(&r, 40);
	assert_int_equal(r.key_len, 40);
	for (unsigned i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		assert_int_equal(rss_hash_ipv4_l4(&r, vectors[i].src, vectors[i].dst,
		                                  vectors[i].sport, vectors[i].dport),
		                 rss_hash_ipv4_l4(&r, vectors[i].dst, vectors[i].src,
		                                  vectors[i].dport, vectors[i].sport));
}

static void
random_keys_differ(void **state)
{
	struct ph_rss a = {0}, b = {0};

	(void)state;
	rss_key_random(&a, 40);
	rss_key_random(&b, 40);
	assert_memory_not_equal(a.key, b.key, 40);
}

static void
reta_owner(void **state)
{
	struct ph_rss r = {.key_len = 40};
	unsigned per_queue[3] = {0};

	(void)state;
	memcpy(r.key, default_key, sizeof(default_key));
	rss_reta_spread(&r, 128, 3);
	assert_int_equal(r.reta_size, 128);
	for (unsigned b = 0; b < 128; b++) {
		assert_true(r.reta[b] < 3);
		per_queue[r.reta[b]]++;
	}
	/* Round-robin: every queue gets a third of the buckets, give or take one. */
	for (unsigned q = 0; q < 3; q++)
		assert_true(per_queue[q] == 42 || per_queue[q] == 43);
	/* NICs index the table with the hash's low bits. */
	assert_int_equal(rss_queue_of(&r, 0x51ccc178), r.reta[0x51ccc178 & 127]);
	/* A reprogrammed table moves the owner. */
	r.reta[0x51ccc178 & 127] = 2;
	assert_int_equal(rss_queue_of(&r, 0x51ccc178), 2);
}

/* Which lcore polls a queue (flow/flow.h): the only lcore owns every queue;
 * with the lead and two workers, queues alternate between lcores 1 and 2. */
static void
queue_to_lcore(void **state)
{
	(void)state;
	assert_int_equal(flow_lcore_of_queue(1, 1, 0), 0);
	assert_int_equal(flow_lcore_of_queue(1, 1, 3), 0);
	assert_int_equal(flow_lcore_of_queue(3, 2, 0), 1);
	assert_int_equal(flow_lcore_of_queue(3, 2, 1), 2);
	assert_int_equal(flow_lcore_of_queue(3, 2, 2), 1);
	assert_int_equal(flow_lcore_of_queue(3, 2, 3), 2);
	assert_int_equal(flow_lcore_of_queue(2, 1, 1), 1);
	assert_int_equal(flow_lcore_of_queue(5, 4, 5), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(verification_vectors), cmocka_unit_test(symmetric_key),
	        cmocka_unit_test(random_keys_differ),   cmocka_unit_test(reta_owner),
	        cmocka_unit_test(queue_to_lcore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
