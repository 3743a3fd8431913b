/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wire-format parsers fed truncated and malformed bytes: every verdict is the
 * named drop reason the stack counts, and no length ever reads past the
 * buffer (run under valgrind or ASan to see it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

/* A valid ICMP echo request: 20-byte header, 8 bytes of ICMP. */
static void
make_ipv4(uint8_t *b, uint16_t total, uint8_t ihl_words)
{
	uint16_t c;

	memset(b, 0, 60);
	b[0] = (uint8_t)(0x40 | ihl_words);
	b[2] = (uint8_t)(total >> 8);
	b[3] = (uint8_t)total;
	b[8] = 64;
	b[9] = 1;
	b[12] = 198, b[13] = 18, b[14] = 0, b[15] = 1;
	b[16] = 198, b[17] = 18, b[18] = 0, b[19] = 2;
	c = (uint16_t)~rte_raw_cksum(b, (size_t)ihl_words * 4);
	memcpy(b + 10, &c, 2);
}

static enum ph_drop
parse(const uint8_t *b, uint32_t len, struct ipv4_repr *r)
{
	return ipv4_parse(b, len, len, IPV4_CSUM_UNKNOWN, r);
}

static void
ipv4_verdicts(void **state)
{
	uint8_t b[128];
	struct ipv4_repr r;

	(void)state;
	make_ipv4(b, 28, 5);
	assert_int_equal(parse(b, 28, &r), PH_DROP_NONE);
	assert_int_equal(r.src, 0xc6120001);
	assert_int_equal(r.dst, 0xc6120002);
	assert_int_equal(r.total_len, 28);
	assert_int_equal(r.proto, 1);
	/* Ethernet padding after the datagram is fine. */
	assert_int_equal(parse(b, 60, &r), PH_DROP_NONE);
	/* Every truncation of the header. */
	for (uint32_t len = 0; len < 20; len++)
		assert_int_equal(parse(b, len, &r), PH_DROP_IP_TRUNCATED);
	/* Total length beyond the frame. */
	assert_int_equal(parse(b, 27, &r), PH_DROP_IP_TRUNCATED);
	/* Version 6 in an IPv4 frame. */
	make_ipv4(b, 28, 5);
	b[0] = 0x65;
	assert_int_equal(parse(b, 28, &r), PH_DROP_IP_BAD_VERSION);
	/* IHL below 5, and IHL past the packet. */
	make_ipv4(b, 28, 4);
	assert_int_equal(parse(b, 28, &r), PH_DROP_IP_BAD_IHL);
	make_ipv4(b, 28, 15);
	assert_int_equal(parse(b, 28, &r), PH_DROP_IP_BAD_IHL);
	/* Total length shorter than the header. */
	make_ipv4(b, 16, 5);
	assert_int_equal(parse(b, 28, &r), PH_DROP_IP_BAD_TOTLEN);
	/* One flipped bit anywhere in the header breaks the checksum. */
	for (unsigned bit = 0; bit < 160; bit++) {
		make_ipv4(b, 28, 5);
		if (bit / 8 < 4 || bit / 8 == 10 || bit / 8 == 11)
			continue; /* version/IHL/length have verdicts of their own */
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(parse(b, 28, &r), PH_DROP_IP_BAD_CSUM);
	}
	/* The NIC's verdict wins over the bytes. */
	make_ipv4(b, 28, 5);
	assert_int_equal(ipv4_parse(b, 28, 28, IPV4_CSUM_BAD, &r), PH_DROP_IP_BAD_CSUM);
	b[10] ^= 1;
	assert_int_equal(ipv4_parse(b, 28, 28, IPV4_CSUM_GOOD, &r), PH_DROP_NONE);
}

static void
ipv4_fragments(void **state)
{
	struct ipv4_repr r = {.hdr_len = 20};

	(void)state;
	r.mf = true, r.frag_off = 0, r.total_len = 20 + 1480;
	assert_true(ipv4_is_fragment(&r) && ipv4_fragment_valid(&r));
	r.total_len = 20 + 1481; /* a non-final fragment not a multiple of 8 */
	assert_false(ipv4_fragment_valid(&r));
	r.total_len = 20; /* no payload */
	assert_false(ipv4_fragment_valid(&r));
	r.mf = false, r.frag_off = 65528, r.total_len = 20 + 8; /* past 65535 */
	assert_false(ipv4_fragment_valid(&r));
	r.frag_off = 65512, r.total_len = 20 + 3;
	assert_true(ipv4_fragment_valid(&r));
	r.frag_off = 0, r.mf = false;
	assert_false(ipv4_is_fragment(&r));
}

static void
ipv4_addresses(void **state)
{
	(void)state;
	assert_true(ipv4_is_martian_src(0));
	assert_true(ipv4_is_martian_src(0x7f000001));
	assert_true(ipv4_is_martian_src(0xe0000001));
	assert_true(ipv4_is_martian_src(0xf0000001));
	assert_true(ipv4_is_martian_src(IPV4_BCAST));
	assert_false(ipv4_is_martian_src(0xc6120001));
	assert_false(ipv4_is_martian_dst(IPV4_BCAST));
	assert_true(ipv4_is_martian_dst(0x7f000001));
	assert_true(ipv4_is_martian_dst(0xf0000001));
	assert_false(ipv4_is_martian_dst(0xe0000001)); /* multicast: decided later */
	assert_int_equal(ipv4_mask(0), 0);
	assert_int_equal(ipv4_mask(24), 0xffffff00);
	assert_int_equal(ipv4_mask(32), 0xffffffff);
}

static void
ipv4_emit_roundtrip(void **state)
{
	struct ipv4_repr in = {.src = 0xc6120002,
	                       .dst = 0xc6120001,
	                       .hdr_len = 20,
	                       .total_len = 1500,
	                       .id = 77,
	                       .frag_off = 1480,
	                       .proto = 17,
	                       .ttl = 64,
	                       .tos = 0x10,
	                       .df = false,
	                       .mf = true};
	struct ipv4_repr out;
	uint8_t b[1500] = {0};

	(void)state;
	ipv4_emit(b, &in, false);
	assert_int_equal(parse(b, sizeof(b), &out), PH_DROP_NONE);
	assert_int_equal(out.src, in.src);
	assert_int_equal(out.dst, in.dst);
	assert_int_equal(out.id, 77);
	assert_int_equal(out.frag_off, 1480);
	assert_true(out.mf);
	assert_false(out.df);
	assert_int_equal(out.tos, 0x10);
}

static void
eth_frames(void **state)
{
	uint8_t f[64] = {0};
	struct eth_repr e;

	(void)state;
	for (uint32_t len = 0; len < 14; len++)
		assert_int_equal(eth_parse(f, len, &e), PH_DROP_ETH_TRUNCATED);
	f[12] = 0x08, f[13] = 0x00;
	assert_int_equal(eth_parse(f, 14, &e), PH_DROP_NONE);
	assert_int_equal(e.type, 0x0800);
	assert_int_equal(e.vlan, 0);
	assert_int_equal(e.hdr_len, 14);
	/* 802.1Q: tag 0x8100, PCP 5, VLAN 100, then IPv4. */
	f[12] = 0x81, f[13] = 0x00, f[14] = 0xa0, f[15] = 100, f[16] = 0x08, f[17] = 0x00;
	for (uint32_t len = 14; len < 18; len++)
		assert_int_equal(eth_parse(f, len, &e), PH_DROP_ETH_TRUNCATED);
	assert_int_equal(eth_parse(f, 18, &e), PH_DROP_NONE);
	assert_int_equal(e.vlan, 100);
	assert_int_equal(e.type, 0x0800);
	assert_int_equal(e.hdr_len, 18);
	/* Emit and parse back. */
	{
		struct rte_ether_addr a = {{2, 0, 0, 0, 0, 1}}, b = {{2, 0, 0, 0, 0, 2}};

		assert_int_equal(eth_emit(f, &a, &b, 42, 0x0806), 18);
		assert_int_equal(eth_parse(f, 18, &e), PH_DROP_NONE);
		assert_int_equal(e.vlan, 42);
		assert_int_equal(e.type, 0x0806);
		assert_memory_equal(&e.dst, &a, 6);
		assert_memory_equal(&e.src, &b, 6);
	}
}

static void
arp_packets(void **state)
{
	struct arp_repr a = {
	        .op = 1, .sha = {{2, 0, 0, 0, 0, 1}}, .spa = 0xc6120001, .tpa = 0xc6120002};
	struct arp_repr r;
	uint8_t b[28];

	(void)state;
	arp_emit(b, &a);
	assert_int_equal(arp_parse(b, 28, &r), PH_DROP_NONE);
	assert_int_equal(r.op, 1);
	assert_int_equal(r.spa, a.spa);
	assert_int_equal(r.tpa, a.tpa);
	assert_memory_equal(&r.sha, &a.sha, 6);
	for (uint32_t len = 0; len < 28; len++)
		assert_int_equal(arp_parse(b, len, &r), PH_DROP_ARP_TRUNCATED);
	b[4] = 8; /* hardware length */
	assert_int_equal(arp_parse(b, 28, &r), PH_DROP_ARP_BAD_HW);
	arp_emit(b, &a);
	b[1] = 6; /* hardware type IEEE 802 */
	assert_int_equal(arp_parse(b, 28, &r), PH_DROP_ARP_BAD_HW);
	arp_emit(b, &a);
	b[5] = 16; /* protocol length */
	assert_int_equal(arp_parse(b, 28, &r), PH_DROP_ARP_BAD_PROTO);
	arp_emit(b, &a);
	b[2] = 0x86, b[3] = 0xdd; /* protocol type IPv6 */
	assert_int_equal(arp_parse(b, 28, &r), PH_DROP_ARP_BAD_PROTO);
	arp_emit(b, &a);
	b[7] = 3; /* RARP request */
	assert_int_equal(arp_parse(b, 28, &r), PH_DROP_ARP_BAD_OP);
}

static void
icmp_header(void **state)
{
	uint8_t b[8] = {8, 0, 0x12, 0x34, 0, 1, 0, 2};
	struct icmp_repr r;

	(void)state;
	for (uint32_t len = 0; len < 8; len++)
		assert_int_equal(icmp_parse(b, len, &r), PH_DROP_ICMP_TRUNCATED);
	assert_int_equal(icmp_parse(b, 8, &r), PH_DROP_NONE);
	assert_int_equal(r.type, ICMP_ECHO);
	assert_true(icmp_is_error(ICMP_DEST_UNREACH));
	assert_true(icmp_is_error(ICMP_TIME_EXCEEDED));
	assert_false(icmp_is_error(ICMP_ECHO));
	assert_false(icmp_is_error(ICMP_ECHOREPLY));
}

/* Random bytes of random lengths: never a read out of bounds (valgrind/ASan
 * see those), and whatever is accepted is consistent with the bytes. */
static void
random_garbage(void **state)
{
	uint32_t seed = 1;
	unsigned accepted = 0;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint32_t len;
		uint8_t *b;
		struct ipv4_repr r;
		struct arp_repr a;
		struct eth_repr e;

		seed = seed * 1103515245 + 12345;
		len = (seed >> 16) % 80;
		b = malloc(len ? len : 1);
		for (uint32_t k = 0; k < len; k++) {
			seed = seed * 1103515245 + 12345;
			b[k] = (uint8_t)(seed >> 16);
		}
		if (i % 2 == 1 && len >= 28) {
			/* Every other case: a valid datagram with one byte changed,
			 * so the accepting paths run too. */
			uint8_t v[60], keep = b[(seed >> 8) % 28];

			make_ipv4(v, 28, 5);
			memcpy(b, v, len < 60 ? len : 60);
			b[(seed >> 8) % 28] = keep;
		} else if (len > 0) {
			b[0] = (uint8_t)(0x40 | (b[0] & 0x0f)); /* mostly version 4 */
		}
		if (parse(b, len, &r) == PH_DROP_NONE) {
			accepted++;
			assert_true(r.hdr_len >= 20 && r.hdr_len <= r.total_len);
			assert_true(r.total_len <= len);
			assert_int_equal(rte_raw_cksum(b, r.hdr_len), 0xffff);
		}
		if (arp_parse(b, len, &a) == PH_DROP_NONE) {
			assert_true(len >= ARP_PKT_LEN);
			assert_true(a.op == 1 || a.op == 2);
		}
		if (eth_parse(b, len, &e) == PH_DROP_NONE)
			assert_true(e.hdr_len <= len &&
			            (e.hdr_len == 14 || e.vlan == (e.vlan & 0xfff)));
		free(b);
	}
	assert_true(accepted > 100); /* the invariants above were exercised */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(ipv4_verdicts),  cmocka_unit_test(ipv4_fragments),
	        cmocka_unit_test(ipv4_addresses), cmocka_unit_test(ipv4_emit_roundtrip),
	        cmocka_unit_test(eth_frames),     cmocka_unit_test(arp_packets),
	        cmocka_unit_test(icmp_header),    cmocka_unit_test(random_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
