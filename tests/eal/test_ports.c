/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drivers/ on real DPDK ports without a NIC (EAL --no-huge): net_ring (a
 * loopback), net_memif between this process (server) and a child process
 * (client, running this same program with --memif-client) that echoes every
 * frame back, and net_tap in a private network namespace. (A memif
 * server/client pair inside one process connects but refuses TX in 22.11.) Each port is opened with ph_port_open, carries
 * packets, and gives every buffer back when closed.
 */
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "drivers/port.h"

static struct rte_mempool *pool;
static struct ph_rss key;
static bool have_netns;
static char memif_sock[64];
static const char *self_path;

/* Open DEVICE for a host of RXQ workers and TXQ lcores (the lead's frames
 * may be relayed through a worker's queue when TXQ > RXQ). */
static int
try_open(struct ph_port *p, const char *name, const char *device, uint16_t rxq, uint16_t txq,
         char *err, size_t errlen)
{
	struct ph_port_setup s = {
	        .name = name,
	        .device = device,
	        .n_rxq = rxq,
	        .n_txq = txq,
	        .lead_relay_ok = txq > rxq,
	        .rx_desc = 256,
	        .tx_desc = 256,
	        .mtu = 1500,
	        .pool = pool,
	        .rss_key = &key,
	};

	return ph_port_open(p, &s, err, errlen);
}

/* Open DEVICE as try_open() does, or fail the test with the reason. */
static void
open_host_port(struct ph_port *p, const char *name, const char *device, uint16_t rxq, uint16_t txq)
{
	char err[256] = "";

	if (try_open(p, name, device, rxq, txq, err, sizeof(err)) != 0)
		fail_msg("%s: %s", device, err);
	assert_true(p->started);
}

static void
open_port(struct ph_port *p, const char *name, const char *device, uint16_t queues)
{
	open_host_port(p, name, device, queues, queues);
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

/* The child: a memif client that sends back every frame it gets, until the
 * server goes away or 20 s pass. */
static int
memif_client_main(const char *sock, const char *prog)
{
	char dev[160], prefix[64];
	char *eal[] = {(char *)(uintptr_t)prog,
	               "--no-huge",
	               "-m",
	               "128",
	               "--no-pci",
	               "--no-shconf",
	               prefix,
	               "-l",
	               "1",
	               "--vdev",
	               dev,
	               "--log-level",
	               "*:error",
	               NULL};
	struct ph_port p = {0};
	struct rte_eth_link l;
	int was_up = 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=ph-eal-c%d", (int)getpid());
	snprintf(dev, sizeof(dev), "net_memif0,role=client,id=0,socket=%s,socket-abstract=no",
	         sock);
	if (rte_eal_init(13, eal) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("client_pool", 4096, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	rss_key_symmetric(&key, 40);
	open_port(&p, "c0", "net_memif0", 1);
	for (int i = 0; i < 20000; i++) {
		struct rte_mbuf *pkts[32];
		uint16_t n = rte_eth_rx_burst(p.port_id, 0, pkts, 32), sent = 0;

		while (sent < n) {
			uint16_t k = rte_eth_tx_burst(p.port_id, 0, pkts + sent, n - sent);

			sent += k;
			if (k == 0)
				usleep(100);
		}
		rte_eth_link_get_nowait(p.port_id, &l);
		if (l.link_status)
			was_up = 1;
		else if (was_up)
			break; /* the server is gone: done */
		if (n == 0)
			usleep(1000);
	}
	ph_port_close(&p);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	snprintf(dev, sizeof(dev), "rm -rf /var/run/dpdk/ph-eal-c%d", (int)getpid());
	return system(dev) == 0 ? 0 : 1;
}

static void
memif_two_processes(void **state)
{
	struct ph_port srv = {0};
	struct rte_eth_link l = {0};
	char *argv[] = {(char *)(uintptr_t)self_path, "--memif-client", memif_sock, NULL};
	pid_t child;
	int status = 0;

	(void)state;
	open_port(&srv, "m0", "net_memif0", 1);
	/* The server listens before the client starts. */
	if (posix_spawn(&child, self_path, NULL, NULL, argv, environ) != 0)
		fail_msg("cannot start the memif client");
	for (int i = 0; i < 1000 && !l.link_status; i++) {
		rte_eth_link_get_nowait(srv.port_id, &l);
		if (!l.link_status)
			usleep(10000);
	}
	assert_true(l.link_status);
	carry(srv.port_id, srv.port_id, 100); /* out to the client and back */
	/* The server goes first: in 22.11 it may crash if the client leaves first. */
	ph_port_close(&srv);
	for (int i = 0; i < 500 && waitpid(child, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (waitpid(child, &status, WNOHANG) == 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		fail_msg("memif client did not stop");
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
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

/* Flows belong to workers: the RETA names only the queues the host asked
 * for, even where the device pairs RX with TX queues and so has more. */
static void
reta_names_workers_only(const struct ph_port *p, uint16_t workers)
{
	for (uint16_t i = 0; i < p->rss.reta_size; i++)
		if (p->rss.reta[i] >= workers)
			fail_msg("RETA[%u] = %u, past the %u workers", i, p->rss.reta[i], workers);
}

static void
tap_two_workers_three_lcores(void **state)
{
	struct ph_port p = {0};

	(void)state;
	if (!have_netns)
		skip();
	open_host_port(&p, "t1", "net_tap1", 2, 3);
	/* A queue per lcore, each RX paired with a TX: 3 RX queues. */
	assert_int_equal(p.n_txq, 3);
	assert_int_equal(p.n_rxq, 3);
	assert_null(p.lead_tx);
	reta_names_workers_only(&p, 2);
	ph_port_close(&p);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

static void
tap_four_workers_lead_relayed(void **state)
{
	struct ph_port p = {0};

	(void)state;
	if (!have_netns)
		skip();
	/* Five lcores, four workers: the tap's four queues go to the workers,
	 * the lead's frames through the first worker's queue. */
	open_host_port(&p, "t2", "net_tap2", 4, 5);
	assert_int_equal(p.n_txq, 4);
	assert_int_equal(p.n_rxq, 4);
	assert_int_equal(p.txq_base, 1);
	assert_non_null(p.lead_tx);
	reta_names_workers_only(&p, 4);
	/* What the lead queued and nobody sent is freed at close. */
	assert_int_equal(rte_ring_sp_enqueue(p.lead_tx, rte_pktmbuf_alloc(pool)), 0);
	ph_port_close(&p);
	assert_null(p.lead_tx);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

static void
tap_five_workers_refused(void **state)
{
	struct ph_port p = {0};
	char err[256] = "";

	(void)state;
	if (!have_netns)
		skip();
	/* Five workers cannot each have a queue: a clear error, nothing opened. */
	assert_int_equal(try_open(&p, "t3", "net_tap3", 5, 6, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at most 4"));
}

int
main(int argc, char **argv)
{
	char prefix[64], rundir[96], memif_srv[160];
	char *eal[] = {argv[0], "--no-huge", "-m", "256", "--no-pci", "--no-shconf", prefix, "-l",
	               "0", "--vdev", "net_ring0", "--vdev", memif_srv, "--log-level", "*:warning",
	               /* the taps last: dropped without a private netns */
	               "--vdev", "net_tap0,iface=phe0", "--vdev", "net_tap1,iface=phe1", "--vdev",
	               "net_tap2,iface=phe2", "--vdev", "net_tap3,iface=phe3", NULL};
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(ring_loopback),
	        cmocka_unit_test(memif_two_processes),
	        cmocka_unit_test(tap_port),
	        cmocka_unit_test(tap_two_workers_three_lcores),
	        cmocka_unit_test(tap_four_workers_lead_relayed),
	        cmocka_unit_test(tap_five_workers_refused),
	};
	int n = (int)(sizeof(eal) / sizeof(eal[0])) - 1, rc;

	self_path = "/proc/self/exe";
	if (argc == 3 && strcmp(argv[1], "--memif-client") == 0)
		return memif_client_main(argv[2], argv[0]);
	if (getuid() != 0) {
		printf("SKIP: EAL and tap devices need root\n");
		return 77;
	}
	/* The tap appears in this process's own network namespace, nowhere else. */
	have_netns = unshare(CLONE_NEWNET) == 0;
	if (!have_netns) { /* then no tap at all */
		n -= 8;
		eal[n] = NULL;
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=ph-eal-%d", (int)getpid());
	snprintf(memif_sock, sizeof(memif_sock), "/tmp/ph-memif-%d.sock", (int)getpid());
	snprintf(memif_srv, sizeof(memif_srv),
	         "net_memif0,role=server,id=0,socket=%s,socket-abstract=no", memif_sock);
	if (rte_eal_init(n, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("test_pool", 8192, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	rss_key_symmetric(&key, 40);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	unlink(memif_sock);
	/* EAL leaves its runtime directory behind even with --no-shconf. */
	snprintf(rundir, sizeof(rundir), "rm -rf /var/run/dpdk/ph-eal-%d", (int)getpid());
	if (system(rundir) != 0)
		fprintf(stderr, "could not remove /var/run/dpdk/ph-eal-%d\n", (int)getpid());
	return rc;
}
