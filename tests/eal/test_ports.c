/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drivers/ on real DPDK ports without a NIC (EAL --no-huge): net_ring (a
 * loopback) and net_tap in a private network namespace. (net_memif is left
 * out: a server/client pair in one process connects but refuses TX in 22.11;
 * stack-to-stack memif tests use two processes, with the TCP issues.) Each port is opened with ph_port_open, carries
 * packets, and gives every buffer back when closed.
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "drivers/port.h"

static struct rte_mempool *pool;
static struct ph_rss key;
static bool have_netns;

static void
open_port(struct ph_port *p, const char *name, const char *device, uint16_t queues)
{
	struct ph_port_setup s = {
	        .name = name,
	        .device = device,
	        .n_rxq = queues,
	        .n_txq = queues,
	        .rx_desc = 256,
	        .tx_desc = 256,
	        .mtu = 1500,
	        .pool = pool,
	        .rss_key = &key,
	};
	char err[256] = "";
	int rc = ph_port_open(p, &s, err, sizeof(err));

	if (rc != 0)
		fail_msg("%s: %s", device, err);
	assert_true(p->started);
}

/* Send N numbered frames on TX and expect them on RX, bounded in time. */
static void
carry(uint16_t tx_port, uint16_t rx_port, unsigned n)
{
	unsigned got = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint8_t *d;

		if (m == NULL || (d = (uint8_t *)rte_pktmbuf_append(m, 64)) == NULL) {
			fail_msg("no mbuf");
			return;
		}
		memset(d, 0, 64);
		memset(d, 0xff, 6);         /* broadcast: the tap must not filter it */
		d[12] = 0x88, d[13] = 0xb5; /* local experimental ethertype */
		d[14] = (uint8_t)i;
		/* A port may refuse TX for a moment after it starts. */
		for (int t = 0; rte_eth_tx_burst(tx_port, 0, &m, 1) == 0; t++) {
			if (t == 1000) {
				rte_pktmbuf_free(m);
				fail_msg("port %u: TX refused", tx_port);
				return;
			}
			usleep(1000);
		}
	}
	for (int spin = 0; spin < 2000 && got < n; spin++) {
		struct rte_mbuf *pkts[32];
		uint16_t k = rte_eth_rx_burst(rx_port, 0, pkts, 32);

		for (uint16_t j = 0; j < k; j++) {
			const uint8_t *d = rte_pktmbuf_mtod(pkts[j], const uint8_t *);

			if (d[12] == 0x88 && d[13] == 0xb5) {
				assert_int_equal(d[14], (uint8_t)got);
				got++;
			}
			rte_pktmbuf_free(pkts[j]);
		}
		if (k == 0)
			usleep(1000);
	}
	assert_int_equal(got, n);
}

static void
ring_loopback(void **state)
{
	struct ph_port p = {0};
	uint16_t id;
	char link[64];

	(void)state;
	assert_int_equal(ph_port_find("net_ring0", false, &id), 0);
	assert_int_equal(ph_port_find("net_nothing0", false, &id), -ENODEV);
	open_port(&p, "r0", "net_ring0", 1);
	assert_string_equal(p.driver, "net_ring");
	assert_false(p.rss.hw); /* no RSS: the software table stands in */
	assert_int_equal(ph_port_owner_of(&p, 0x51ccc178), 0);
	ph_port_link_string(&p, link, sizeof(link));
	assert_true(strlen(link) > 0);
	carry(p.port_id, p.port_id, 100);
	ph_port_close(&p);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

static void
tap_port(void **state)
{
	struct ph_port p = {0};

	(void)state;
	if (!have_netns)
		skip();
	open_port(&p, "t0", "net_tap0", 2);
	assert_string_equal(p.driver, "net_tap");
	assert_true(p.ol.tx_multiseg);
	assert_false(rte_is_zero_ether_addr(&p.mac));
	assert_int_equal(p.n_rxq, 2);
	ph_port_close(&p);
	/* A tap keeps buffers posted while started; all return on close. */
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

int
main(int argc, char **argv)
{
	char prefix[64], rundir[96];
	char *eal[] = {argv[0],
	               "--no-huge",
	               "-m",
	               "256",
	               "--no-pci",
	               "--no-shconf",
	               prefix,
	               "-l",
	               "0",
	               "--vdev",
	               "net_ring0",
	               "--vdev",
	               "net_tap0,iface=phe0",
	               "--log-level",
	               "*:warning",
	               NULL};
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(ring_loopback),
	        cmocka_unit_test(tap_port),
	};
	int n = (int)(sizeof(eal) / sizeof(eal[0])) - 1, rc;

	(void)argc;
	if (getuid() != 0) {
		printf("SKIP: EAL and tap devices need root\n");
		return 77;
	}
	/* The tap appears in this process's own network namespace, nowhere else. */
	have_netns = unshare(CLONE_NEWNET) == 0;
	if (!have_netns) { /* then no tap at all */
		n -= 2;
		eal[n] = NULL;
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=ph-eal-%d", (int)getpid());
	if (rte_eal_init(n, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("test_pool", 8192, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	rss_key_symmetric(&key, 40);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	/* EAL leaves its runtime directory behind even with --no-shconf. */
	snprintf(rundir, sizeof(rundir), "rm -rf /var/run/dpdk/ph-eal-%d", (int)getpid());
	if (system(rundir) != 0)
		fprintf(stderr, "could not remove /var/run/dpdk/ph-eal-%d\n", (int)getpid());
	return rc;
}
