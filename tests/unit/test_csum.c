/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Internet checksum: RFC 1071's worked example, a real IPv4 header, and
 * RFC 1624 incremental updates against full recomputation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <rte_byteorder.h>
#include <rte_ip.h>

#include "wire/csum.h"

static void
rfc1071_example(void **state)
{
	/* RFC 1071 section 3: the one's complement sum of these is 0xddf2. */
	const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	(void)state;
	assert_int_equal(rte_be_to_cpu_16(rte_raw_cksum(b, sizeof(b))), 0xddf2);
}

static void
ipv4_header(void **state)
{
	/* A captured UDP datagram's header; its checksum on the wire is 0xb861. */
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	                 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint16_t c;

	(void)state;
	/* A header that carries its checksum sums to all ones. */
	assert_int_equal(rte_raw_cksum(h, sizeof(h)), 0xffff);
	h[10] = h[11] = 0;
	c = (uint16_t)~rte_raw_cksum(h, sizeof(h));
	assert_int_equal(rte_be_to_cpu_16(c), 0xb861);
	assert_int_equal(rte_be_to_cpu_16(rte_ipv4_cksum((const struct rte_ipv4_hdr *)h)), 0xb861);
}

static void
incremental_matches_full(void **state)
{
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	                 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint32_t seed = 12345;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		uint16_t csum, old, new;
		unsigned w;

		h[10] = h[11] = 0;
		csum = (uint16_t)~rte_raw_cksum(h, sizeof(h));
		memcpy(&h[10], &csum, 2);
		seed = seed * 1103515245 + 12345;
		w = (seed >> 16) % 10;
		if (w == 5)
			continue; /* the checksum word itself */
		memcpy(&old, &h[2 * w], 2);
		new = (uint16_t)(seed & 0xffff);
		memcpy(&h[2 * w], &new, 2);
		csum = csum_update16(csum, old, new);
		memcpy(&h[10], &csum, 2);
		/* Still valid: the whole header sums to all ones (RFC 1624 avoids -0). */
		assert_int_equal(rte_raw_cksum(h, sizeof(h)), 0xffff);
	}
}

static void
incremental_32(void **state)
{
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x00, 0x00, 0x40, 0x01,
	                 0x00, 0x00, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02};
	uint32_t old, new = rte_cpu_to_be_32(0xc6130a0b);
	uint16_t csum = (uint16_t)~rte_raw_cksum(h, sizeof(h));

	(void)state;
	memcpy(&h[10], &csum, 2);
	/* An address rewritten in place, values as loaded from the wire. */
	memcpy(&old, &h[12], 4);
	memcpy(&h[12], &new, 4);
	csum = csum_update32(csum, old, new);
	memcpy(&h[10], &csum, 2);
	assert_int_equal(rte_raw_cksum(h, sizeof(h)), 0xffff);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(rfc1071_example),
	        cmocka_unit_test(ipv4_header),
	        cmocka_unit_test(incremental_matches_full),
	        cmocka_unit_test(incremental_32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
