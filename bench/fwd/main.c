/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ph-fwdbench: IPv4 forwarding rate of one polyhost lcore across routing
 * contexts, on net_ring ports (bench/run's fwd case).
 *
 * The host (ph_init, one lcore) has two net_ring ports. Port "in" carries N
 * ingress contexts: the default context untagged, and contexts c1..cN-1 on
 * VLANs 1..N-1, every one of them with the same address 198.18.0.2/24. Port
 * "out" is in the default context (198.19.255.254/24). Each context gets ROUTES
 * routes (/30s from 198.18.64.0, 8 addresses apart) through 8 gateways
 * 198.19.255.1-8 on "out" in turn: the default context's own, the others'
 * leaked into the default context.
 *
 * A net_ring port's queue is one ring that both its RX and TX use. In this
 * one thread, the generator puts a burst of 64-byte UDP datagrams (contexts
 * in turn, destinations spread over every route) on "in"'s ring, calls
 * ph_poll() (Ethernet, the context's FIB bulk lookup, TTL, checksum,
 * neighbour, TX), then takes what came out of "out"'s ring, checks it (TTL
 * 63, checksum, the gateway's MAC, no VLAN) and answers the router's ARP
 * request for the gateway. Only the time inside ph_poll() is counted: the
 * figure is the stack's forwarding rate on one core, driver included,
 * generator excluded. Prints one JSON object.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <polyhost/polyhost.h>

#include "api.h"
#include "conf/conf.h"
#include "core/host.h"
#include "ctx/ctx.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define GW_IP           IP4(198, 19, 255, 1) /* the first of N_GW */
#define N_GW            8
#define SRC_IP          IP4(198, 18, 0, 1)
#define BURST           32
#define FRAME_LEN       64

/* Gateway g's MAC: 02:00:00:00:19:g+1. */
static struct rte_ether_addr
gw_mac(uint32_t g)
{
	return (struct rte_ether_addr){{0x02, 0, 0, 0, 0x19, (uint8_t)(g + 1)}};
}
static const struct rte_ether_addr src_mac = {{0x02, 0, 0, 0, 0x18, 0x01}};

static struct {
	unsigned contexts, routes, seconds;
	const char *fib;
} opt = {.contexts = 1, .routes = 10000, .seconds = 3, .fib = "dir24_8"};

static void
fail(const char *fmt, const char *what)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, what);
	/* JSON: no quote or backslash inside the string. */
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = '\'';
	printf("{\"ok\":false,\"error\":\"%s\"}\n", msg);
	exit(1);
}

/* Route K is the /30 at 198.18.64.0 + 8 K (gaps between routes, so that no
 * two touch), through gateway K % N_GW: a table with as many ranges as a
 * real one. Destination K is an address inside it. */
static uint32_t
route_dst(uint32_t k)
{
	return IP4(198, 18, 64, 0) + (k << 3) + 1;
}

static char *
write_conf(void)
{
	static char path[] = "/tmp/ph-fwdbench-XXXXXX";
	int fd = mkstemp(path);
	bool ranges = strcmp(opt.fib, "ranges") == 0;
	/* DIR-24-8: 32 MiB of tbl24, 2 MiB of tbl8 and its RIB's nodes per
	 * context. Ranges live in the process's own heap. */
	unsigned max_routes = opt.routes + 64;
	unsigned mem = 512 + (ranges ? 0 : opt.contexts * (35 + (max_routes * 2 * 192 >> 20)));
	FILE *f;

	if (fd < 0 || (f = fdopen(fd, "w")) == NULL)
		fail("cannot write %s", path);
	fprintf(f,
	        "[eal]\nargs = --no-huge -m %u --no-pci --no-shconf --file-prefix=ph-fwd-%d "
	        "--log-level=3\nlcores = 0\n"
	        "[host]\nidle_sleep_us = 0\n"
	        /* "out" first: an lcore polls ports in this order, so it reads
	         * out's ring (the generator has emptied it) before it puts
	         * what it forwards there. */
	        "[port out]\ndevice = net_ring1\naddress = 198.19.255.254/24\n"
	        "[port in]\ndevice = net_ring0\naddress = 198.18.0.2/24\n"
	        "[context default]\nfib = %s\nforwarding = yes\nmax_routes = %u\n",
	        mem, (int)getpid(), opt.fib, max_routes);
	for (unsigned c = 1; c < opt.contexts; c++)
		fprintf(f,
		        "[vlan v%u]\nport = in\nid = %u\ncontext = c%u\naddress = 198.18.0.2/24\n"
		        "[context c%u]\nid = %u\nfib = %s\nforwarding = yes\nmax_routes = %u\n",
		        c, c, c, c, c, opt.fib, max_routes);
	fclose(f);
	return path;
}

/* Every context's routes, through the lead's own route call. Returns routes/s. */
static double
add_routes(struct ph_host *h)
{
	uint64_t t0 = rte_rdtsc();
	char err[256];

	for (unsigned c = 0; c < opt.contexts; c++) {
		struct ph_conf_route r = {.plen = 30, .n_hops = 1};

		strcpy(r.hops[0].dev, "out");
		if (c > 0)
			strcpy(r.ctx, "default");
		ctx_routes_begin(h, (uint16_t)c);
		for (uint32_t k = 0; k < opt.routes; k++) {
			r.prefix = route_dst(k) & ~3u;
			r.hops[0].gw = GW_IP + k % N_GW;
			if (ctx_route_change(h, (uint16_t)c, PH_ROUTE_ADD, &r, PH_ROUTE_STATIC, err,
			                     sizeof(err)) != 0)
				fail("route: %s", err);
		}
		if (ctx_routes_commit(h, (uint16_t)c) != 0)
			fail("route commit%s", "");
	}
	return (double)opt.contexts * opt.routes * (double)rte_get_tsc_hz() /
	       (double)(rte_rdtsc() - t0 + 1);
}

/* A 64-byte UDP datagram from SRC_IP to DST in context CTX (VLAN CTX). */
static void
build_frame(struct rte_mbuf *m, const struct rte_ether_addr *dmac, unsigned ctx, uint32_t dst)
{
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, FRAME_LEN + (ctx ? 4 : 0));
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	eth->dst_addr = *dmac;
	eth->src_addr = src_mac;
	if (ctx) {
		struct rte_vlan_hdr *v = (struct rte_vlan_hdr *)(eth + 1);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		v->vlan_tci = rte_cpu_to_be_16((uint16_t)ctx);
		v->eth_proto = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip = (struct rte_ipv4_hdr *)(v + 1);
	} else {
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip = (struct rte_ipv4_hdr *)(eth + 1);
	}
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(FRAME_LEN - RTE_ETHER_HDR_LEN);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(SRC_IP);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(1024);
	udp->dst_port = rte_cpu_to_be_16(9);
	udp->dgram_len = rte_cpu_to_be_16(FRAME_LEN - RTE_ETHER_HDR_LEN - sizeof(*ip));
	udp->dgram_cksum = 0;
}

/* The router's ARP request for the gateway: turned into the gateway's reply
 * (M is reused) for the caller to put on the router's ring. */
static bool
answer_arp(struct rte_mbuf *m, const struct rte_ether_addr *router_mac)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);

	uint32_t g = rte_be_to_cpu_32(a->arp_data.arp_tip) - GW_IP;

	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) ||
	    a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) || g >= N_GW)
		return false;
	eth->dst_addr = *router_mac;
	eth->src_addr = gw_mac(g);
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = a->arp_data.arp_sha;
	a->arp_data.arp_tip = a->arp_data.arp_sip;
	a->arp_data.arp_sha = gw_mac(g);
	a->arp_data.arp_sip = rte_cpu_to_be_32(GW_IP + g);
	return true;
}

/* A forwarded datagram as RFC 1812 says it leaves: to its route's gateway's
 * MAC, untagged, TTL one less, a valid header checksum. */
static bool
forwarded_ok(struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	uint32_t k = (rte_be_to_cpu_32(ip->dst_addr) - IP4(198, 18, 64, 0)) >> 3;
	struct rte_ether_addr want = gw_mac(k % N_GW);

	return rte_is_same_ether_addr(&eth->dst_addr, &want) &&
	       eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) && ip->time_to_live == 63 &&
	       rte_raw_cksum(ip, sizeof(*ip)) == 0xffff;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {{"contexts", 1, 0, 'n'}, {"routes", 1, 0, 'r'},
	                                   {"fib", 1, 0, 'f'},      {"seconds", 1, 0, 's'},
	                                   {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
	uint64_t fwd = 0, bad = 0, other = 0, sent = 0, poll_tsc = 0, t_end, seq = 1;
	struct rte_mbuf *reply[N_GW];
	unsigned n_reply = 0;
	struct rte_ether_addr in_mac, out_mac;
	struct rte_ring *in_ring, *out_ring;
	struct rte_mempool *pool;
	uint16_t in_port, out_port;
	double add_rate;
	struct ph_host *h;
	char *init_argv[4];
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			opt.contexts = (unsigned)atoi(optarg);
			break;
		case 'r':
			opt.routes = (unsigned)atoi(optarg);
			break;
		case 'f':
			opt.fib = optarg;
			break;
		case 's':
			opt.seconds = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
			        "usage: ph-fwdbench [--contexts N "
			        "(1..1024)] [--routes R (1..16000)] "
			        "[--fib dir24_8|ranges] [--seconds S]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (opt.contexts < 1 || opt.contexts > 1024 || opt.routes < 1 || opt.routes > 16000 ||
	    opt.seconds < 1 || (strcmp(opt.fib, "dir24_8") != 0 && strcmp(opt.fib, "ranges") != 0))
		fail("bad arguments%s", "");
	init_argv[0] = argv[0];
	init_argv[1] = (char *)"-c";
	init_argv[2] = write_conf();
	init_argv[3] = NULL;
	if (ph_init(3, init_argv) < 0) {
		unlink(init_argv[2]);
		fail("ph_init: %s", ph_init_error());
	}
	unlink(init_argv[2]);
	h = api_host;
	add_rate = add_routes(h);
	if (rte_eth_dev_get_port_by_name("net_ring0", &in_port) != 0 ||
	    rte_eth_dev_get_port_by_name("net_ring1", &out_port) != 0)
		fail("no net_ring ports%s", "");
	rte_eth_macaddr_get(in_port, &in_mac);
	rte_eth_macaddr_get(out_port, &out_mac);
	in_ring = rte_ring_lookup("ETH_RXTX0_net_ring0");
	out_ring = rte_ring_lookup("ETH_RXTX0_net_ring1");
	pool = rte_pktmbuf_pool_create("fwdbench", 8192, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                               SOCKET_ID_ANY);
	if (in_ring == NULL || out_ring == NULL || pool == NULL)
		fail("no rings or pool%s", "");

	/* Half a second to resolve the gateway and warm the caches, then the run. */
	for (int phase = 0; phase < 2; phase++) {
		uint64_t hz = rte_get_tsc_hz();

		t_end = rte_rdtsc() + (phase == 0 ? hz / 2 : hz * opt.seconds);
		if (phase == 1)
			fwd = bad = other = sent = poll_tsc = 0;
		while (rte_rdtsc() < t_end) {
			struct rte_mbuf *b[BURST];
			uint64_t t0;
			unsigned n;

			if (rte_pktmbuf_alloc_bulk(pool, b, BURST) == 0) {
				for (unsigned i = 0; i < BURST; i++, seq++) {
					/* Contexts in turn; routes by a multiplicative walk. */
					unsigned ctx = (unsigned)(seq % opt.contexts);
					uint32_t k = (uint32_t)((seq / opt.contexts * 2654435761u) %
					                        opt.routes);

					build_frame(b[i], &in_mac, ctx, route_dst(k));
				}
				n = rte_ring_enqueue_burst(in_ring, (void **)b, BURST, NULL);
				sent += n;
				if (n < BURST)
					rte_pktmbuf_free_bulk(b + n, BURST - n);
			}
			/* Under callgrind (bench/run's cost case): ph_poll() only. */
			if (phase == 1)
				CALLGRIND_TOGGLE_COLLECT;
			t0 = rte_rdtsc();
			ph_poll();
			poll_tsc += rte_rdtsc() - t0;
			if (phase == 1)
				CALLGRIND_TOGGLE_COLLECT;
			/* What left by "out", and anything the host sent back on "in". */
			while ((n = rte_ring_dequeue_burst(out_ring, (void **)b, BURST, NULL)) > 0)
				for (unsigned i = 0; i < n; i++) {
					if (answer_arp(b[i], &out_mac)) {
						other++;
						reply[n_reply++ % N_GW] = b[i];
						continue;
					}
					if (forwarded_ok(b[i]))
						fwd++;
					else
						bad++;
					rte_pktmbuf_free(b[i]);
				}
			while ((n = rte_ring_dequeue_burst(in_ring, (void **)b, BURST, NULL)) > 0) {
				other += n;
				rte_pktmbuf_free_bulk(b, n);
			}
			/* After the drain, or it would take them back out. */
			if (n_reply > N_GW)
				fail("more ARP requests than a resolution needs%s", "");
			for (unsigned i = 0; i < n_reply; i++)
				if (rte_ring_enqueue(out_ring, reply[i]) != 0)
					rte_pktmbuf_free(reply[i]);
			n_reply = 0;
		}
	}
	ph_stop();
	{
		double secs = (double)poll_tsc / (double)rte_get_tsc_hz();
		double mpps = secs > 0 ? (double)fwd / secs / 1e6 : 0;
		bool ok = fwd > 0 && bad == 0 && fwd * 100 >= sent * 99;

		printf("{\"ok\":%s,\"contexts\":%u,\"routes\":%u,\"fib\":\"%s\",\"mpps\":%.3f,"
		       "\"ns_per_pkt\":%.1f,\"sent\":%" PRIu64 ",\"forwarded\":%" PRIu64
		       ",\"bad\":%" PRIu64 ",\"other\":%" PRIu64 ",\"poll_s\":%.3f,"
		       "\"route_adds_per_s\":%.0f%s}\n",
		       ok ? "true" : "false", opt.contexts, opt.routes, opt.fib, mpps,
		       fwd ? secs * 1e9 / (double)fwd : 0.0, sent, fwd, bad, other, secs, add_rate,
		       ok ? "" : ",\"error\":\"datagrams lost or malformed on the way\"");
		ph_fini(stderr);
		return ok ? 0 : 1;
	}
}
