/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection (drivers/fault.c) without EAL: the spec parser and its
 * errors (also as the configuration reports them), the generator's
 * reproducibility, Gilbert-Elliott's long-run loss and burstiness, token
 * bucket arithmetic, and every fault on frames from a fake pool with a
 * virtual 1 kHz clock (ticks are milliseconds). After each case every packet
 * buffer is back in the pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "conf/conf.h"
#include "drivers/fault.h"
#include "fake_dpdk.h"

#define HZ       1000 /* the clock of these tests: one tick per ms */
#define POOL_N   8192
#define HDRS     (RTE_ETHER_HDR_LEN + 20 + 20)
#define LOOPS_GE 2000000

static struct rte_mempool *pool;

static int
setup(void **state)
{
	(void)state;
	pool = fake_pool_create(POOL_N);
	return pool == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(fake_pool_in_use(pool), 0);
	fake_pool_destroy(pool);
	return 0;
}

static struct fault_spec
spec_of(const char *text)
{
	struct fault_spec s;
	char err[256] = "";

	fault_spec_init(&s);
	if (fault_spec_parse(&s, text, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", text, err);
	return s;
}

/* ---- the spec ---- */

static void
spec_every_key(void **state)
{
	struct fault_spec s = spec_of("drop=0.01, ge=0.01:0.3:0.5, dup=1%,reorder=0.05,delay=5,"
	                              "corrupt=0.001,truncate=0.1%,rate=100,burst=65536,queue=256,"
	                              "acks-only,dir=rx,blackhole=2000-12000,seed=7");

	(void)state;
	assert_true(fault_spec_active(&s));
	assert_true(s.drop == 0.01);
	assert_true(s.ge && s.ge_p == 0.01 && s.ge_r == 0.3 && s.ge_bad == 0.5 && s.ge_good == 0);
	assert_true(s.dup == 0.01);
	assert_true(s.reorder == 0.05);
	assert_int_equal(s.delay_ms, 5);
	assert_true(s.corrupt == 0.001);
	assert_true(s.truncate == 0.001);
	assert_true(s.rate_mbps == 100);
	assert_int_equal(s.burst, 65536);
	assert_int_equal(s.queue, 256);
	assert_true(s.acks_only);
	assert_int_equal(s.dir, FAULT_RX);
	assert_true(s.blackhole);
	assert_int_equal(s.bh_from_ms, 2000);
	assert_int_equal(s.bh_to_ms, 12000);
	assert_int_equal(s.seed, 7);
}

static void
spec_defaults_merge_none(void **state)
{
	struct fault_spec s, d;
	char err[256];

	(void)state;
	fault_spec_init(&d);
	assert_false(fault_spec_active(&d));
	assert_int_equal(d.seed, 1);
	assert_int_equal(d.dir, FAULT_RX | FAULT_TX);
	s = spec_of("drop=2%");
	/* A second spec replaces only what it names: the command line over the file. */
	assert_int_equal(fault_spec_parse(&s, "seed=0x10,dir=tx", err, sizeof(err)), 0);
	assert_true(s.drop == 0.02);
	assert_int_equal(s.seed, 16);
	assert_int_equal(s.dir, FAULT_TX);
	assert_int_equal(fault_spec_parse(&s, "none", err, sizeof(err)), 0);
	assert_memory_equal(&s, &d, sizeof(s));
	/* Only seed or dir is no fault at all. */
	s = spec_of("seed=3,dir=rx");
	assert_false(fault_spec_active(&s));
	/* The default bucket: 64 KiB, or 2 ms at a high rate. */
	s = spec_of("rate=10");
	assert_int_equal(fault_spec_depth(&s), 65536);
	s = spec_of("rate=10000");
	assert_int_equal(fault_spec_depth(&s), 2500000);
	assert_int_equal(fault_spec_mbufs(&s), 0);
	s = spec_of("rate=10000,queue=100,delay=1");
	assert_int_equal(fault_spec_mbufs(&s), FAULT_HOLD_MAX + 100);
}

static void
spec_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	        {"drop=1.5", "drop=1.5: not a probability (0..1 or 0%..100%)"},
	        {"drop=-0.1", "drop=-0.1: not a probability"},
	        {"drop=101%", "drop=101%: not a probability"},
	        {"drop=abc", "drop=abc: not a probability"},
	        {"drop=nan", "drop=nan: not a probability"},
	        {"drop", "drop needs a value (drop=...)"},
	        {"drop=", "drop needs a value"},
	        {"dorp=0.1", "unknown fault 'dorp' (known: drop, ge, dup,"},
	        {"drop=0.1,drop=0.2", "drop given twice"},
	        {"drop=0.1,,dup=0.1", "an empty item"},
	        {"drop=0.1,", "an empty item"},
	        {"", "empty (give faults like"},
	        {"  ", "empty"},
	        {"ge=0.1", "ge: give P:R[:LOSS_BAD[:LOSS_GOOD]]"},
	        {"ge=0.1:0", "ge: R (bad->good) is 0"},
	        {"ge=0.1:0.2:0.3:0.4:0.5", "ge: '0.5' is one part too many"},
	        {"ge=0.1:2", "ge: '2' is not a probability"},
	        {"delay=-1", "delay=-1: not a number of ms in 0..60000"},
	        {"delay=60001", "delay=60001: not a number of ms"},
	        {"rate=0", "rate=0: not a rate in Mbit/s"},
	        {"rate=fast", "rate=fast: not a rate"},
	        {"rate=10,burst=100", "burst=100: not a number of bytes in 16384..67108864"},
	        {"rate=10,queue=5000", "queue=5000: not a number of packets in 0..4096"},
	        {"queue=10", "burst and queue shape a rate: give rate=MBIT too"},
	        {"blackhole=5", "blackhole=5: give FROM-TO in ms after start"},
	        {"blackhole=5-x", "blackhole=5-x: give FROM-TO"},
	        {"blackhole=20-10", "blackhole=20-10: it ends before it starts"},
	        {"dir=up", "dir=up: not rx, tx or both"},
	        {"seed=-1", "seed=-1: not an unsigned 64-bit number"},
	        {"seed=99999999999999999999", "seed=99999999999999999999: not an unsigned"},
	        {"acks-only=yes", "acks-only takes no value"},
	};
	struct fault_spec s, before;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";

		s = spec_of("dup=0.5");
		before = s;
		if (fault_spec_parse(&s, cases[i].text, err, sizeof(err)) != -1)
			fail_msg("'%s' was accepted", cases[i].text);
		if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("'%s': got '%s', want '%s...'", cases[i].text, err, cases[i].want);
		/* A spec that fails changes nothing. */
		assert_memory_equal(&s, &before, sizeof(s));
	}
}

static void
spec_format_round_trip(void **state)
{
	static const char *const texts[] = {
	        "drop=0.01,dup=0.01,reorder=0.05,delay=5,corrupt=0.001,truncate=0.001",
	        "ge=0.004:0.2,dir=tx,seed=12345678901234",
	        "rate=0.5,burst=20000,queue=7,acks-only,blackhole=1-2",
	        "delay=3",
	};
	char buf[FAULT_SPEC_LEN];
	struct fault_spec s, t;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		s = spec_of(texts[i]);
		fault_spec_format(&s, buf, sizeof(buf));
		t = spec_of(buf);
		assert_memory_equal(&s, &t, sizeof(s));
	}
	fault_spec_init(&s);
	fault_spec_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	s = spec_of("drop=0.25,seed=9");
	fault_spec_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "drop=0.25,dir=both,seed=9");
}

/* The configuration reports a bad spec at its line, and --fault over it. */
static void
spec_in_config(void **state)
{
	char path[64], err[512] = "";
	struct ph_conf *c;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/ph-fault-test-%d.ini", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[port p0]\n"
	      "device = net_tap0\n"
	      "fault = drop=2\n",
	      f);
	fclose(f);
	assert_null(ph_conf_load(path, err, sizeof(err)));
	{
		char want[256];

		snprintf(want, sizeof(want),
		         "%s:3: key 'fault': drop=2: not a probability (0..1 or 0%%..100%%)", path);
		assert_string_equal(err, want);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[port p0]\n"
	      "device = net_tap0\n"
	      "fault = drop=2%, seed=5\n"
	      "[port p1]\n"
	      "device = net_tap1\n",
	      f);
	fclose(f);
	c = ph_conf_load(path, err, sizeof(err));
	assert_non_null(c);
	assert_true(c->ports[0].fault.drop == 0.02);
	assert_int_equal(c->ports[0].fault.seed, 5);
	assert_false(fault_spec_active(&c->ports[1].fault));
	assert_int_equal(ph_conf_fault_override(c, "p0=seed=6,dup=1%", err, sizeof(err)), 0);
	assert_true(c->ports[0].fault.drop == 0.02 && c->ports[0].fault.dup == 0.01);
	assert_int_equal(c->ports[0].fault.seed, 6);
	assert_int_equal(ph_conf_fault_override(c, "p1=acks-only,drop=20%", err, sizeof(err)), 0);
	assert_true(c->ports[1].fault.acks_only);
	assert_int_equal(ph_conf_fault_override(c, "p2=drop=1", err, sizeof(err)), -1);
	assert_true(strstr(err, "--fault 'p2=drop=1': no [port p2] in") == err);
	assert_int_equal(ph_conf_fault_override(c, "drop=1", err, sizeof(err)), -1);
	assert_true(strstr(err, "--fault 'drop=1': no [port drop]") == err);
	assert_int_equal(ph_conf_fault_override(c, "p0", err, sizeof(err)), -1);
	assert_true(strstr(err, "--fault 'p0': give PORT=SPEC") == err);
	assert_int_equal(ph_conf_fault_override(c, "p0=dir=sideways", err, sizeof(err)), -1);
	assert_string_equal(err, "--fault 'p0=dir=sideways': dir=sideways: not rx, tx or both");
	ph_conf_free(c);
	unlink(path);
}

/* ---- building blocks ---- */

static void
rng_reproducible(void **state)
{
	struct fault_rng a, b, c;
	bool differ_seed = false, differ_queue = false;

	(void)state;
	fault_rng_seed(&a, 7, 0, 0, FAULT_RX);
	fault_rng_seed(&b, 7, 0, 0, FAULT_RX);
	for (int i = 0; i < 1000; i++)
		assert_true(fault_rng_next(&a) == fault_rng_next(&b));
	fault_rng_seed(&a, 7, 0, 0, FAULT_RX);
	fault_rng_seed(&b, 8, 0, 0, FAULT_RX);
	fault_rng_seed(&c, 7, 0, 1, FAULT_RX);
	for (int i = 0; i < 16; i++) {
		uint64_t x = fault_rng_next(&a);

		differ_seed |= x != fault_rng_next(&b);
		differ_queue |= x != fault_rng_next(&c);
	}
	assert_true(differ_seed);
	assert_true(differ_queue);
	/* Thresholds: never, always, and a uniform rate close to P. */
	assert_true(fault_threshold(0) == 0);
	assert_true(fault_threshold(-1) == 0);
	assert_true(fault_threshold(1) == UINT64_MAX);
	assert_false(fault_chance(&a, 0));
	assert_true(fault_chance(&a, UINT64_MAX));
	{
		uint64_t t = fault_threshold(0.05);
		unsigned hits = 0;

		for (int i = 0; i < 1000000; i++)
			hits += fault_chance(&a, t);
		assert_in_range(hits, 49000, 51000);
	}
}

/* The long-run loss of Gilbert-Elliott is P/(P+R)*B + R/(P+R)*G, and losses
 * come in bursts: after a loss in the bad state the next packet is lost
 * with about (1-R)*B, far more than the mean. */
static void
ge_long_run(void **state)
{
	static const struct {
		const char *spec;
		double p, r, b, g;
	} cases[] = {
	        {"ge=0.01:0.3:0.5", 0.01, 0.3, 0.5, 0},
	        {"ge=0.004:0.2", 0.004, 0.2, 1, 0},
	        {"ge=0.05:0.5:0.9:0.01", 0.05, 0.5, 0.9, 0.01},
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct fault_spec s = spec_of(cases[k].spec);
		double want = cases[k].p / (cases[k].p + cases[k].r) * cases[k].b +
		              cases[k].r / (cases[k].p + cases[k].r) * cases[k].g;
		unsigned long lost = 0, pairs = 0;
		struct fault_rng r;
		struct fault_ge g;
		bool prev = false;
		double got, after_loss;

		fault_rng_seed(&r, 1, 0, 0, FAULT_RX);
		fault_ge_init(&g, &s);
		for (int i = 0; i < LOOPS_GE; i++) {
			bool l = fault_ge_lose(&g, &r);

			lost += l;
			pairs += prev && l;
			prev = l;
		}
		got = (double)lost / LOOPS_GE;
		after_loss = (double)pairs / (double)lost;
		print_message("%s: loss %.5f (want %.5f), after a loss %.3f\n", cases[k].spec, got,
		              want, after_loss);
		assert_true(got > want * 0.95 && got < want * 1.05);
		assert_true(after_loss > 3 * want);
	}
}

static void
token_bucket(void **state)
{
	struct fault_tb tb;
	unsigned long passed = 0;

	(void)state;
	/* 8 Mbit/s = 1,000,000 bytes/s = 1000 bytes per tick; 16384 deep. */
	fault_tb_init(&tb, 1000000, 16384, HZ, 0);
	assert_true(fault_tb_take(&tb, 16384, 0));
	assert_false(fault_tb_take(&tb, 1, 0));
	assert_false(fault_tb_take(&tb, 1001, 1));
	assert_true(fault_tb_take(&tb, 1000, 1));
	assert_false(fault_tb_take(&tb, 1, 1));
	/* Never above the depth, however long idle (and no overflow). */
	assert_true(fault_tb_take(&tb, 16384, 1000000000000ULL));
	assert_false(fault_tb_take(&tb, 1, 1000000000000ULL));
	/* Time going backwards adds nothing. */
	assert_false(fault_tb_take(&tb, 1, 5));
	/* Saturated for one second: the rate plus the depth it starts with. */
	fault_tb_init(&tb, 1000000, 16384, HZ, 0);
	for (uint64_t t = 0; t <= 1000; t++)
		while (fault_tb_take(&tb, 1500, t))
			passed += 1500;
	assert_in_range(passed, 1000000 + 16384 - 1500, 1000000 + 16384);
	/* A TSC-like clock: 2.5 GHz, 10 Gbit/s, a 2.5 MB bucket. */
	fault_tb_init(&tb, 1250000000ULL, 2500000, 2500000000ULL, 0);
	assert_true(fault_tb_take(&tb, 2500000, 0));
	assert_false(fault_tb_take(&tb, 1500, 2999)); /* 1.2 us: 1499 bytes */
	assert_true(fault_tb_take(&tb, 1500, 3000));
}

/* ---- frames ---- */

/* Ethernet + IPv4 + TCP with FLAGS and LEN payload bytes; ID in the IP ID
 * field names it. Checksums correct. */
static struct rte_mbuf *
tcp_frame(uint16_t id, uint8_t flags, uint16_t len)
{
	uint8_t b[HDRS + 1500] = {0};
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)b;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(e + 1);
	struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(ip + 1);

	e->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(&e->dst_addr, 0x02, sizeof(e->dst_addr));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(40 + len));
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(0xc6120001);
	ip->dst_addr = rte_cpu_to_be_32(0xc6120002);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	t->src_port = rte_cpu_to_be_16(5001);
	t->dst_port = rte_cpu_to_be_16(40000);
	t->data_off = 5 << 4;
	t->tcp_flags = flags;
	t->rx_win = rte_cpu_to_be_16(65535);
	for (unsigned i = 0; i < len; i++)
		b[HDRS + i] = (uint8_t)(id + i);
	t->cksum = rte_ipv4_udptcp_cksum(ip, t);
	return fake_mbuf(pool, b, (uint16_t)(HDRS + len));
}

static uint16_t
frame_id(const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip =
	        rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);

	return rte_be_to_cpu_16(ip->packet_id);
}

static void
free_all(struct rte_mbuf **v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_free(v[i]);
}

static struct fault_q *
queue_of(const char *text, uint8_t dir)
{
	struct fault_spec s = spec_of(text);
	struct fault_q *q = fault_q_create(&s, dir, 0, 0, pool, HZ, 0, -1);

	assert_non_null(q);
	return q;
}

/* One packet in at NOW: how many came out (into OUT). */
static uint16_t
one(struct fault_q *q, struct rte_mbuf *m, struct rte_mbuf **out, uint64_t now)
{
	return fault_q_apply(q, &m, 1, out, 2, now);
}

/* ---- faults on packets ---- */

/* drop=P: about P of them go, each counted; the same seed drops the same
 * ones, another seed others. */
static void
drop_reproducible(void **state)
{
	static bool fate[3][4000];
	const char *specs[3] = {"drop=0.3,seed=42", "drop=0.3,seed=42", "drop=0.3,seed=43"};
	unsigned passed[3] = {0};

	(void)state;
	for (int k = 0; k < 3; k++) {
		struct fault_q *q = queue_of(specs[k], FAULT_RX);

		for (uint16_t i = 0; i < 4000; i++) {
			struct rte_mbuf *out[2];
			uint16_t n = one(q, tcp_frame(i, RTE_TCP_ACK_FLAG, 100), out, i);

			fate[k][i] = n == 1;
			passed[k] += n;
			if (n == 1)
				assert_int_equal(frame_id(out[0]), i);
			free_all(out, n);
		}
		assert_int_equal(fault_q_ctr(q, FAULT_CTR_DROPPED), 4000 - passed[k]);
		assert_int_equal(fault_q_ctr(q, FAULT_CTR_SELECTED), 4000);
		assert_in_range(passed[k], 2600, 3000);
		assert_int_equal(fault_q_free(q), 0);
	}
	assert_memory_equal(fate[0], fate[1], sizeof(fate[0]));
	assert_memory_not_equal(fate[0], fate[2], sizeof(fate[0]));
}

/* dup=1: each packet twice, the second a copy of its own. */
static void
duplicate(void **state)
{
	struct fault_q *q = queue_of("dup=1", FAULT_RX);
	struct rte_mbuf *in[4], *out[8];
	uint16_t n;

	(void)state;
	assert_int_equal(fault_q_room(q, 32), 16);
	for (uint16_t i = 0; i < 4; i++)
		in[i] = tcp_frame(i, RTE_TCP_ACK_FLAG, 200);
	n = fault_q_apply(q, in, 4, out, 8, 0);
	assert_int_equal(n, 8);
	for (uint16_t i = 0; i < 4; i++) {
		assert_ptr_not_equal(out[2 * i], out[2 * i + 1]);
		assert_int_equal(rte_pktmbuf_pkt_len(out[2 * i + 1]), HDRS + 200);
		assert_memory_equal(rte_pktmbuf_mtod(out[2 * i], void *),
		                    rte_pktmbuf_mtod(out[2 * i + 1], void *), HDRS + 200);
		assert_int_equal(rte_mbuf_refcnt_read(out[2 * i]), 1);
	}
	assert_int_equal(fault_q_ctr(q, FAULT_CTR_DUPLICATED), 4);
	free_all(out, n);
	/* Less room than asked for: what does not fit is dropped and counted. */
	in[0] = tcp_frame(9, RTE_TCP_ACK_FLAG, 10);
	in[1] = tcp_frame(10, RTE_TCP_ACK_FLAG, 10);
	n = fault_q_apply(q, in, 2, out, 3, 0);
	assert_int_equal(n, 3);
	assert_int_equal(fault_q_ctr(q, FAULT_CTR_HELD_OVERFLOW), 1);
	free_all(out, n);
	fault_q_free(q);
}

/* Bits of A and B that differ, and where the first is. */
static unsigned
bit_diff(const uint8_t *a, const uint8_t *b, unsigned len, unsigned *first)
{
	unsigned n = 0;

	for (unsigned i = 0; i < len; i++) {
		if (a[i] != b[i] && n == 0)
			*first = i;
		n += (unsigned)__builtin_popcount(a[i] ^ b[i]);
	}
	return n;
}

/* corrupt=1: exactly one bit flips, past the Ethernet header, inside the IP
 * datagram; the NIC's RX checksum verdict is forgotten. On TX a packet
 * someone else still references is copied first, and checksums the NIC was
 * asked to fill are filled in software before the flip. */
static void
corrupt(void **state)
{
	struct fault_q *rx = queue_of("corrupt=1", FAULT_RX), *tx = queue_of("corrupt=1", FAULT_TX);
	uint8_t ref[HDRS + 300];
	unsigned seen_l4 = 0;

	(void)state;
	for (uint16_t i = 0; i < 200; i++) {
		struct rte_mbuf *m = tcp_frame(i, RTE_TCP_ACK_FLAG, 300), *out[2];
		unsigned at = 0;

		memcpy(ref, rte_pktmbuf_mtod(m, void *), sizeof(ref));
		m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		assert_int_equal(one(rx, m, out, 0), 1);
		assert_int_equal(
		        bit_diff(ref, rte_pktmbuf_mtod(out[0], uint8_t *), sizeof(ref), &at), 1);
		assert_true(at >= RTE_ETHER_HDR_LEN && at < sizeof(ref));
		seen_l4 += at >= HDRS;
		assert_int_equal(out[0]->ol_flags & (RTE_MBUF_F_RX_IP_CKSUM_MASK |
		                                     RTE_MBUF_F_RX_L4_CKSUM_MASK),
		                 0);
		free_all(out, 1);
	}
	assert_true(seen_l4 > 100);
	assert_int_equal(fault_q_ctr(rx, FAULT_CTR_CORRUPTED), 200);

	/* TX: a retransmission queue still holds the packet, and the NIC was to
	 * fill both checksums. */
	for (uint16_t i = 0; i < 50; i++) {
		struct rte_mbuf *m = tcp_frame(i, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 300),
		                *out[2];
		struct rte_ipv4_hdr *ip =
		        rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
		struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(ip + 1);
		unsigned at = 0;

		memcpy(ref, rte_pktmbuf_mtod(m, void *), sizeof(ref));
		m->l2_len = RTE_ETHER_HDR_LEN;
		m->l3_len = 20;
		m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
		ip->hdr_checksum = 0;
		t->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
		rte_mbuf_refcnt_update(m, 1);
		assert_int_equal(one(tx, m, out, 0), 1);
		assert_ptr_not_equal(out[0], m);
		/* The sender's packet is as it was; the copy has full checksums and one
		 * bit flipped, and asks nothing of the NIC. */
		assert_int_equal(rte_mbuf_refcnt_read(m), 1);
		assert_int_equal(ip->hdr_checksum, 0);
		assert_int_equal(
		        bit_diff(ref, rte_pktmbuf_mtod(out[0], uint8_t *), sizeof(ref), &at), 1);
		assert_true(at >= RTE_ETHER_HDR_LEN);
		assert_int_equal(
		        out[0]->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK), 0);
		free_all(out, 1);
		rte_pktmbuf_free(m);
	}
	assert_int_equal(fault_q_ctr(tx, FAULT_CTR_CORRUPTED), 50);

	/* Not IPv4 (ARP): no checksum would catch it, so left alone. */
	{
		uint8_t arp[60] = {0};
		struct rte_mbuf *m, *out[2];

		arp[12] = 0x08;
		arp[13] = 0x06;
		m = fake_mbuf(pool, arp, sizeof(arp));
		assert_int_equal(one(rx, m, out, 0), 1);
		assert_memory_equal(rte_pktmbuf_mtod(out[0], void *), arp, sizeof(arp));
		free_all(out, 1);
	}
	assert_int_equal(fault_q_ctr(rx, FAULT_CTR_CORRUPTED), 200);
	fault_q_free(rx);
	fault_q_free(tx);
}

/* truncate=1: at least one byte of the datagram goes, the Ethernet header
 * stays; padding alone is never what is cut. */
static void
truncate_tail(void **state)
{
	struct fault_q *q = queue_of("truncate=1", FAULT_RX);
	unsigned shortest = UINT32_MAX, longest = 0;

	(void)state;
	for (uint16_t i = 0; i < 500; i++) {
		struct rte_mbuf *m = tcp_frame(i, RTE_TCP_ACK_FLAG, 100), *out[2];
		uint32_t len;

		assert_int_equal(one(q, m, out, 0), 1);
		len = rte_pktmbuf_pkt_len(out[0]);
		assert_int_equal(len, out[0]->data_len);
		shortest = len < shortest ? len : shortest;
		longest = len > longest ? len : longest;
		free_all(out, 1);
	}
	assert_true(shortest >= RTE_ETHER_HDR_LEN && shortest < RTE_ETHER_HDR_LEN + 10);
	assert_true(longest < HDRS + 100 && longest > HDRS + 90);
	assert_int_equal(fault_q_ctr(q, FAULT_CTR_TRUNCATED), 500);
	/* A pure ACK padded to 60 bytes: the cut reaches into the TCP header. */
	{
		struct rte_mbuf *m = tcp_frame(1, RTE_TCP_ACK_FLAG, 0), *out[2];

		memset(rte_pktmbuf_append(m, 6), 0, 6);
		for (int k = 0; k < 50; k++) {
			struct rte_mbuf *c = rte_pktmbuf_copy(m, pool, 0, UINT32_MAX);

			assert_int_equal(one(q, c, out, 0), 1);
			assert_true(rte_pktmbuf_pkt_len(out[0]) < HDRS);
			free_all(out, 1);
		}
		rte_pktmbuf_free(m);
	}
	/* A chain: the cut frees the segments past it. */
	for (int k = 0; k < 50; k++) {
		struct rte_mbuf *m = tcp_frame((uint16_t)k, RTE_TCP_ACK_FLAG, 1000), *out[2];
		struct rte_mbuf *tail = fake_mbuf(pool, "0123456789", 10);
		struct rte_ipv4_hdr *ip =
		        rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);

		ip->total_length = rte_cpu_to_be_16(1050);
		assert_int_equal(rte_pktmbuf_chain(m, tail), 0);
		assert_int_equal(one(q, m, out, 0), 1);
		assert_int_equal(out[0]->nb_segs,
		                 rte_pktmbuf_pkt_len(out[0]) > HDRS + 1000 ? 2 : 1);
		free_all(out, 1);
	}
	fault_q_free(q);
}

/* delay=MS holds everything MS ms, in order; reorder=P holds some so later
 * ones overtake them; the hold queue is bounded and its overflow counted. */
static void
delay_and_reorder(void **state)
{
	struct fault_q *q = queue_of("delay=5", FAULT_TX);
	struct rte_mbuf *in[32], *out[64];
	uint16_t n, got = 0, order[100];
	unsigned held;

	(void)state;
	for (uint16_t i = 0; i < 10; i++)
		in[i] = tcp_frame(i, RTE_TCP_ACK_FLAG, 10);
	assert_int_equal(fault_q_apply(q, in, 10, out, 20, 100), 0);
	assert_int_equal(fault_q_held(q), 10);
	assert_int_equal(fault_q_release(q, out, 64, 104), 0);
	assert_int_equal(fault_q_release(q, out, 4, 105), 4); /* at most CAP */
	n = fault_q_release(q, out + 4, 60, 105);
	assert_int_equal(n, 6);
	for (uint16_t i = 0; i < 10; i++)
		assert_int_equal(frame_id(out[i]), i);
	free_all(out, 10);
	assert_int_equal(fault_q_ctr(q, FAULT_CTR_DELAYED), 10);
	fault_q_free(q);

	q = queue_of("reorder=0.3,delay=2,seed=3", FAULT_RX);
	for (uint16_t i = 0; i < 100; i++) {
		struct rte_mbuf *m = tcp_frame(i, RTE_TCP_ACK_FLAG, 10);

		n = fault_q_release(q, out, 64, i);
		n += fault_q_apply(q, &m, 1, out + n, (uint16_t)(64 - n), i);
		for (uint16_t k = 0; k < n; k++)
			order[got++] = frame_id(out[k]);
		free_all(out, n);
	}
	n = fault_q_release(q, out, 64, 1000);
	for (uint16_t k = 0; k < n; k++)
		order[got++] = frame_id(out[k]);
	free_all(out, n);
	assert_int_equal(got, 100);
	held = (unsigned)fault_q_ctr(q, FAULT_CTR_REORDERED);
	assert_in_range(held, 15, 45);
	{
		unsigned late = 0;
		bool seen[100] = {false};

		for (uint16_t k = 0; k < 100; k++) {
			assert_false(seen[order[k]]);
			seen[order[k]] = true;
			late += k > 0 && order[k] < order[k - 1];
		}
		assert_true(late > 0);
	}
	fault_q_free(q);

	/* Bounded: FAULT_HOLD_MAX held, the rest dropped and counted; freeing the
	 * queue frees what it holds. */
	q = queue_of("delay=50", FAULT_RX);
	for (unsigned i = 0; i < FAULT_HOLD_MAX + 100; i++) {
		struct rte_mbuf *m = tcp_frame((uint16_t)i, RTE_TCP_ACK_FLAG, 0);

		assert_int_equal(one(q, m, out, 0), 0);
	}
	assert_int_equal(fault_q_held(q), FAULT_HOLD_MAX);
	assert_int_equal(fault_q_ctr(q, FAULT_CTR_HELD_OVERFLOW), 100);
	assert_int_equal(fault_q_free(q), FAULT_HOLD_MAX);
}

/* rate=8 (1000 bytes a tick), burst 16384, a queue of 10. */
static void
rate_limit(void **state)
{
	struct fault_q *q = queue_of("rate=8,burst=16384,queue=10", FAULT_TX);
	struct rte_mbuf *in[32], *out[64];
	uint16_t n;

	(void)state;
	/* 1000-byte frames: 16 fit the full bucket, 10 wait, 4 go. */
	for (uint16_t i = 0; i < 30; i++)
		in[i] = tcp_frame(i, RTE_TCP_ACK_FLAG, 1000 - HDRS);
	n = fault_q_apply(q, in, 30, out, 64, 0);
	assert_int_equal(n, 16);
	free_all(out, n);
	assert_int_equal(fault_q_held(q), 10);
	assert_int_equal(fault_q_ctr(q, FAULT_CTR_RATE_QUEUED), 10);
	assert_int_equal(fault_q_ctr(q, FAULT_CTR_RATE_DROPPED), 4);
	/* 384 bytes left; one tick adds 1000: one frame, the first queued. */
	n = fault_q_release(q, out, 64, 1);
	assert_int_equal(n, 1);
	assert_int_equal(frame_id(out[0]), 16);
	free_all(out, n);
	/* A new frame waits behind the queue even when tokens would allow it. */
	n = fault_q_release(q, out, 64, 3);
	assert_int_equal(n, 2);
	free_all(out, n);
	in[0] = tcp_frame(99, RTE_TCP_ACK_FLAG, 100);
	assert_int_equal(fault_q_apply(q, in, 1, out, 2, 3), 0);
	n = fault_q_release(q, out, 64, 100);
	assert_int_equal(n, 8);
	assert_int_equal(frame_id(out[6]), 25);
	assert_int_equal(frame_id(out[7]), 99);
	free_all(out, n);
	fault_q_free(q);

	/* A policer (no queue): over the rate is dropped. */
	q = queue_of("rate=8,burst=16384", FAULT_RX);
	for (uint16_t i = 0; i < 20; i++)
		in[i] = tcp_frame(i, RTE_TCP_ACK_FLAG, 1000 - HDRS);
	n = fault_q_apply(q, in, 20, out, 64, 0);
	assert_int_equal(n, 16);
	free_all(out, n);
	assert_int_equal(fault_q_ctr(q, FAULT_CTR_RATE_DROPPED), 4);
	assert_int_equal(fault_q_free(q), 0);
}

/* blackhole=100-200, counted from the queue's start (0 here). */
static void
blackhole(void **state)
{
	struct fault_q *q = queue_of("blackhole=100-200", FAULT_RX);
	static const struct {
		uint64_t t;
		uint16_t out;
	} at[] = {{0, 1}, {99, 1}, {100, 0}, {150, 0}, {199, 0}, {200, 1}, {5000, 1}};

	(void)state;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct rte_mbuf *out[2];
		uint16_t n = one(q, tcp_frame(1, RTE_TCP_ACK_FLAG, 10), out, at[i].t);

		assert_int_equal(n, at[i].out);
		free_all(out, n);
	}
	assert_int_equal(fault_q_ctr(q, FAULT_CTR_BLACKHOLED), 3);
	fault_q_free(q);
}

/* acks-only: only pure ACKs meet the faults; data, SYN, FIN, RST and ARP
 * pass untouched. */
static void
acks_only(void **state)
{
	struct fault_q *q = queue_of("drop=1,acks-only", FAULT_TX);
	static const struct {
		uint8_t flags;
		uint16_t len, out;
	} cases[] = {
	        {RTE_TCP_ACK_FLAG, 0, 0},
	        {RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 0, 0},
	        {RTE_TCP_ACK_FLAG, 1, 1},
	        {RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 1000, 1},
	        {RTE_TCP_SYN_FLAG, 0, 1},
	        {RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 0, 1},
	        {RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, 0, 1},
	        {RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, 0, 1},
	        {RTE_TCP_RST_FLAG, 0, 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rte_mbuf *out[2];
		uint16_t n = one(q, tcp_frame(1, cases[i].flags, cases[i].len), out, 0);

		if (n != cases[i].out)
			fail_msg("flags 0x%x, %u bytes: %u out", cases[i].flags, cases[i].len, n);
		free_all(out, n);
	}
	assert_int_equal(fault_q_ctr(q, FAULT_CTR_SELECTED), 2);
	assert_int_equal(fault_q_ctr(q, FAULT_CTR_DROPPED), 2);
	/* A pure ACK with Ethernet padding is still one. */
	{
		struct rte_mbuf *m = tcp_frame(1, RTE_TCP_ACK_FLAG, 0), *out[2];

		memset(rte_pktmbuf_append(m, 6), 0, 6);
		assert_int_equal(one(q, m, out, 0), 0);
	}
	fault_q_free(q);
}

/* A port: queues for the directions asked only; drained and freed with
 * everything it held; counters summed. */
static void
port_queues(void **state)
{
	struct fault_spec s = spec_of("delay=10,dir=rx");
	struct fault_port *fp = fault_port_create(&s, 0, 2, 3, pool, HZ, 0, -1);
	struct rte_mbuf *out[2];
	char buf[1024] = "";
	FILE *f;

	(void)state;
	assert_non_null(fp);
	assert_non_null(fp->rx);
	assert_null(fp->tx);
	for (uint16_t q = 0; q < 2; q++)
		for (uint16_t i = 0; i < 5; i++)
			assert_int_equal(one(fp->rx[q], tcp_frame(i, RTE_TCP_ACK_FLAG, 10), out, 0),
			                 0);
	assert_int_equal(fault_port_ctr(fp, FAULT_RX | FAULT_TX, FAULT_CTR_DELAYED), 10);
	assert_int_equal(fault_port_ctr(fp, FAULT_TX, FAULT_CTR_DELAYED), 0);
	f = fmemopen(buf, sizeof(buf), "w");
	fault_port_print(fp, "m0", f);
	fclose(f);
	assert_non_null(strstr(buf, "fault injection on port m0 (delay=10,dir=rx,seed=1)"));
	assert_non_null(strstr(buf, "fault_delayed"));
	assert_null(strstr(buf, "fault_dropped"));
	assert_int_equal(fault_port_drain(fp), 10);
	assert_int_equal(fake_pool_in_use(pool), 0);
	fault_port_free(fp);
	fault_port_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(spec_every_key),
	        cmocka_unit_test(spec_defaults_merge_none),
	        cmocka_unit_test(spec_errors),
	        cmocka_unit_test(spec_format_round_trip),
	        cmocka_unit_test(spec_in_config),
	        cmocka_unit_test(rng_reproducible),
	        cmocka_unit_test(ge_long_run),
	        cmocka_unit_test(token_bucket),
	        cmocka_unit_test_setup_teardown(drop_reproducible, setup, teardown),
	        cmocka_unit_test_setup_teardown(duplicate, setup, teardown),
	        cmocka_unit_test_setup_teardown(corrupt, setup, teardown),
	        cmocka_unit_test_setup_teardown(truncate_tail, setup, teardown),
	        cmocka_unit_test_setup_teardown(delay_and_reorder, setup, teardown),
	        cmocka_unit_test_setup_teardown(rate_limit, setup, teardown),
	        cmocka_unit_test_setup_teardown(blackhole, setup, teardown),
	        cmocka_unit_test_setup_teardown(acks_only, setup, teardown),
	        cmocka_unit_test_setup_teardown(port_queues, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
