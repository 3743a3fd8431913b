/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * phctl: look inside a running polyhost host. It speaks DPDK's telemetry
 * protocol (a SOCK_SEQPACKET socket under /var/run/dpdk/<file-prefix>/, JSON
 * replies) to the /polyhost/ commands and prints what it reads the way
 * `ip -s link`, `ip addr`, `ip neigh`, `ip route` and `netstat -s` do.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bsd/string.h>
#include <jansson.h>

#include "conf/conf.h"

#define REPLY_MAX (64 * 1024)

static int tel_fd = -1;
static bool show_all;
/* "ctx NAME" (or "vrf NAME") after a command: show only that context. */
static const char *ctx_filter;

static int
tel_connect(const char *prefix)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *run = getenv("XDG_RUNTIME_DIR");
	char buf[1024];
	ssize_t n;

	if (geteuid() == 0 || run == NULL)
		run = "/var/run";
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dpdk/%s/dpdk_telemetry.v2", run, prefix);
	tel_fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (tel_fd < 0 || connect(tel_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "phctl: cannot reach a host at %s: %s\n", sa.sun_path,
		        strerror(errno));
		return -1;
	}
	/* The server greets with its version and limits. */
	n = recv(tel_fd, buf, sizeof(buf), 0);
	if (n <= 0) {
		fprintf(stderr, "phctl: %s closed the connection\n", sa.sun_path);
		return -1;
	}
	return 0;
}

/* Send CMD[,PARAM] and return the value under the command's name (new reference). */
static json_t *
tel_get(const char *cmd, const char *param)
{
	static char reply[REPLY_MAX];
	char req[256];
	json_error_t jerr;
	json_t *root, *v;
	ssize_t n;

	snprintf(req, sizeof(req), "%s%s%s", cmd, param ? "," : "", param ? param : "");
	if (send(tel_fd, req, strlen(req), 0) < 0)
		return NULL;
	n = recv(tel_fd, reply, sizeof(reply) - 1, 0);
	if (n <= 0)
		return NULL;
	reply[n] = '\0';
	root = json_loads(reply, 0, &jerr);
	if (root == NULL) {
		fprintf(stderr, "phctl: bad reply to %s: %s\n", req, jerr.text);
		return NULL;
	}
	v = json_incref(json_object_get(root, cmd));
	json_decref(root);
	if (v == NULL || json_is_null(v)) {
		fprintf(stderr, "phctl: %s: the host refused the request\n", req);
		json_decref(v);
		return NULL;
	}
	return v;
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "?";
}

static long long
jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static int
cmd_counters(const char *cmd, const char *lcore)
{
	json_t *v = tel_get(cmd, lcore);
	const char *k;
	json_t *x;

	if (v == NULL)
		return 1;
	json_object_foreach(v, k, x)
	{
		if (show_all || json_integer_value(x) != 0)
			printf("%-32s %lld\n", k, json_integer_value(x));
	}
	json_decref(v);
	return 0;
}

/* The value of one counter (MIB or drop reason): for scripts and tests. */
static int
cmd_get(const char *name, const char *lcore)
{
	const char *cmds[] = {"/polyhost/stats", "/polyhost/drops"};

	for (unsigned i = 0; i < 2; i++) {
		json_t *v = tel_get(cmds[i], lcore);
		json_t *x = v ? json_object_get(v, name) : NULL;

		if (x != NULL) {
			printf("%lld\n", json_integer_value(x));
			json_decref(v);
			return 0;
		}
		json_decref(v);
	}
	fprintf(stderr, "phctl: no counter named '%s'\n", name);
	return 1;
}

static int
cmd_info(void)
{
	json_t *v = tel_get("/polyhost/info", NULL);
	json_t *lc;

	if (v == NULL)
		return 1;
	printf("polyhost %s, pid %lld, up %.1f s, config %s\n", jstr(v, "version"), jint(v, "pid"),
	       (double)jint(v, "uptime_ms") / 1000.0, jstr(v, "config"));
	printf("%lld lcores (%lld workers), %lld ports, %lld interfaces, %lld contexts\n",
	       jint(v, "lcores"), jint(v, "workers"), jint(v, "ports"), jint(v, "interfaces"),
	       jint(v, "contexts"));
	for (long long i = 0; i < jint(v, "lcores"); i++) {
		char p[24];

		snprintf(p, sizeof(p), "%lld", i);
		lc = tel_get("/polyhost/lcore", p);
		if (lc == NULL)
			continue;
		printf("  lcore %lld (cpu lcore %lld): %-11s rxq %lld txq %lld frames in %lld out "
		       "%lld\n",
		       i, jint(lc, "lcore_id"), jstr(lc, "role"), jint(lc, "rxq"), jint(lc, "txq"),
		       jint(lc, "frames_in"), jint(lc, "frames_out"));
		json_decref(lc);
	}
	json_decref(v);
	return 0;
}

static int
cmd_ports(void)
{
	json_t *names = tel_get("/polyhost/ports", NULL);
	size_t i;
	json_t *n;

	if (names == NULL)
		return 1;
	json_array_foreach(names, i, n)
	{
		json_t *p = tel_get("/polyhost/port", json_string_value(n));

		if (p == NULL)
			continue;
		printf("%lld: %s: <%s> mtu %lld driver %s rxq %lld txq %lld rss %s lead tx %s\n",
		       jint(p, "port_id"), jstr(p, "name"), jstr(p, "link"), jint(p, "mtu"),
		       jstr(p, "driver"), jint(p, "rx_queues"), jint(p, "tx_queues"),
		       jstr(p, "rss"), jstr(p, "lead_tx"));
		printf("    link/ether %s offloads: %s\n", jstr(p, "mac"), jstr(p, "offloads"));
		printf("    RX: packets %lld bytes %lld missed %lld errors %lld nombuf %lld\n",
		       jint(p, "rx_packets"), jint(p, "rx_bytes"), jint(p, "rx_missed"),
		       jint(p, "rx_errors"), jint(p, "rx_nombuf"));
		printf("    TX: packets %lld bytes %lld errors %lld\n", jint(p, "tx_packets"),
		       jint(p, "tx_bytes"), jint(p, "tx_errors"));
		json_decref(p);
	}
	json_decref(names);
	return 0;
}

static int
cmd_addr(void)
{
	json_t *names = tel_get("/polyhost/ifaces", NULL);
	size_t i, k;
	json_t *n, *a;

	if (names == NULL)
		return 1;
	json_array_foreach(names, i, n)
	{
		json_t *f = tel_get("/polyhost/iface", json_string_value(n));

		if (f == NULL)
			continue;
		if (ctx_filter != NULL && strcmp(jstr(f, "context"), ctx_filter) != 0) {
			json_decref(f);
			continue;
		}
		printf("%zu: %s: port %s", i, jstr(f, "name"), jstr(f, "port"));
		if (jint(f, "vlan") != 0)
			printf(" vlan %lld", jint(f, "vlan"));
		printf(" context %s mtu %lld\n", jstr(f, "context"), jint(f, "mtu"));
		printf("    link/ether %s\n", jstr(f, "mac"));
		json_array_foreach(json_object_get(f, "addresses"), k, a)
		        printf("    inet %s\n", json_string_value(a));
		json_decref(f);
	}
	json_decref(names);
	return 0;
}

/* Every entry of a paged telemetry command (KEY_PREFIX<i> -> an entry),
 * page by page (the parameter "[ARG ]SKIP"), each entry to SHOW. */
static int
tel_pages_of(const char *cmd, const char *arg, char key_prefix, void (*show)(json_t *entry))
{
	unsigned skip = 0;

	for (;;) {
		char p[64];
		json_t *v;
		long long count;

		snprintf(p, sizeof(p), "%s%s%u", arg ? arg : "", arg ? " " : "", skip);
		v = tel_get(cmd, p);
		if (v == NULL)
			return 1;
		count = jint(v, "count");
		for (long long i = 0; i < count; i++) {
			char key[24];

			snprintf(key, sizeof(key), "%c%lld", key_prefix, i);
			show(json_object_get(v, key));
		}
		json_decref(v);
		if (count == 0)
			return 0;
		skip += (unsigned)count;
	}
}

static void
show_neigh(json_t *entry)
{
	const char *line = json_string_value(entry);
	char ip[20], mac[20], state[16], dev[PH_NAME_LEN], ctx[PH_NAME_LEN];
	unsigned long long age;

	if (sscanf(line, "%19s %19s %15s %31s %31s %llu", ip, mac, state, dev, ctx, &age) != 6)
		return;
	if (ctx_filter != NULL && strcmp(ctx, ctx_filter) != 0)
		return;
	printf("%s dev %s ctx %s", ip, dev, ctx);
	if (strcmp(mac, "-") != 0)
		printf(" lladdr %s", mac);
	printf(" %s", state);
	if (strcmp(state, "INCOMPLETE") != 0)
		printf(" (confirmed %llu ms ago)", age);
	printf("\n");
}

static int
cmd_neigh(void)
{
	return tel_pages_of("/polyhost/neigh", NULL, 'n', show_neigh);
}

static void
show_sock(json_t *entry)
{
	const char *line = json_string_value(entry);
	char ctx[PH_NAME_LEN], la[20], ra[20], flags[32], l[32], r[32];
	unsigned lport, rport, lcore;
	int fd;

	if (sscanf(line, "%31s %19s %u %19s %u %u %d %31s", ctx, la, &lport, ra, &rport, &lcore,
	           &fd, flags) != 8)
		return;
	snprintf(l, sizeof(l), "%s:%u", strcmp(la, "0.0.0.0") ? la : "*", lport);
	if (rport != 0)
		snprintf(r, sizeof(r), "%s:%u", ra, rport);
	else
		strlcpy(r, "*:*", sizeof(r));
	printf("%-5s %-12s %-21s %-21s %-5u %-8d %s\n", "udp", ctx, l, r, lcore, fd, flags);
}

/* Bound UDP sockets, like `ss -uan`. */
static int
cmd_socks(void)
{
	printf("%-5s %-12s %-21s %-21s %-5s %-8s %s\n", "proto", "context", "local", "peer",
	       "lcore", "fd", "options");
	return tel_pages_of("/polyhost/udp", NULL, 's', show_sock);
}

/* TCP connections, like `ss -tni`: one line as ss prints it, then the
 * details line. */
static int
cmd_conns(void)
{
	unsigned skip = 0;

	printf("%-10s %-6s %-6s %-21s %-21s %-12s %s\n", "State", "Recv-Q", "Send-Q", "Local",
	       "Peer", "Context", "Lcore");
	for (;;) {
		char p[16];
		long long count;
		json_t *v;

		snprintf(p, sizeof(p), "%u", skip);
		if ((v = tel_get("/polyhost/tcp", p)) == NULL)
			return 1;
		count = jint(v, "count");
		for (long long i = 0; i < count; i++) {
			char key[24];
			json_t *c;

			snprintf(key, sizeof(key), "c%lld", i);
			if ((c = json_object_get(v, key)) == NULL)
				continue;
			printf("%-10s %-6lld %-6lld %-21s %-21s %-12s %lld\n", jstr(c, "state"),
			       jint(c, "recvq"), jint(c, "sendq"), jstr(c, "local"),
			       jstr(c, "peer"), jstr(c, "context"), jint(c, "lcore"));
			if (strcmp(jstr(c, "state"), "LISTEN") == 0)
				continue;
			printf("\t %s%swscale:%lld,%lld rto:%lld rtt:%.3f/%.3f mss:%lld cwnd:%lld",
			       jint(c, "ts") ? "ts " : "", jint(c, "sack") ? "sack " : "",
			       jint(c, "snd_ws"), jint(c, "rcv_ws"), jint(c, "rto_ms"),
			       (double)jint(c, "rtt_us") / 1000,
			       (double)jint(c, "rttvar_us") / 1000, jint(c, "mss"),
			       jint(c, "cwnd"));
			if (jint(c, "ssthresh") > 0)
				printf(" ssthresh:%lld", jint(c, "ssthresh"));
			printf(" bytes_acked:%lld bytes_received:%lld segs_out:%lld segs_in:%lld "
			       "retrans:%lld\n",
			       jint(c, "bytes_acked"), jint(c, "bytes_received"),
			       jint(c, "segs_out"), jint(c, "segs_in"), jint(c, "retrans"));
		}
		json_decref(v);
		if (count == 0)
			return 0;
		skip += (unsigned)count;
	}
}

/* ["198.18.0.0/24", "connected", "dev p0"] or ["0.0.0.0/0", "static",
 * "via 1.2.3.4 dev p0", "via 1.2.3.5 dev p1", "ctx X"], as ip route shows it. */
static void
show_route(json_t *a)
{
	const char *prefix = json_string_value(json_array_get(a, 0));
	const char *proto = json_string_value(json_array_get(a, 1));
	size_t k, hops = 0;
	json_t *x;

	if (prefix == NULL || proto == NULL)
		return;
	printf("%s", strcmp(prefix, "0.0.0.0/0") == 0 ? "default" : prefix);
	json_array_foreach(a, k, x) hops += k >= 2 && strncmp(json_string_value(x), "ctx ", 4) != 0;
	/* ECMP: "nexthop via ... dev ..." each. */
	json_array_foreach(a, k, x)
	{
		bool hop = strncmp(json_string_value(x), "ctx ", 4) != 0;

		if (k >= 2)
			printf(" %s%s", hop && hops > 1 ? "nexthop " : "", json_string_value(x));
	}
	printf(" proto %s\n", strcmp(proto, "connected") == 0 ? "kernel scope link" : "static");
}

static int
print_routes(const char *ctx)
{
	return tel_pages_of("/polyhost/routes", ctx, 'r', show_route);
}

/* "route add|replace|del ROUTE... [ctx NAME]": the last "ctx NAME" names the
 * context the route is in (default: "default"); ROUTE is the configuration's
 * grammar, where "leak OTHER" puts its next hops in another context. */
static int
route_change(const char *op, int argc, char **argv)
{
	const char *table = "default";
	char param[1024];
	size_t off;
	json_t *v;
	int rc;

	if (argc >= 2 &&
	    (strcmp(argv[argc - 2], "ctx") == 0 || strcmp(argv[argc - 2], "vrf") == 0)) {
		table = argv[argc - 1];
		argc -= 2;
	}
	if (argc < 1) {
		fprintf(stderr, "phctl: route %s: which route?\n", op);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "ctx") == 0 || strcmp(argv[i], "vrf") == 0) {
			fprintf(stderr,
			        "phctl: route %s: 'ctx NAME' names the route's context, "
			        "once and last; 'leak OTHER' puts its next hops in another\n",
			        op);
			return 2;
		}
	off = (size_t)snprintf(param, sizeof(param), "%s %s", op, table);
	for (int i = 0; i < argc && off < sizeof(param); i++)
		off += (size_t)snprintf(param + off, sizeof(param) - off, " %s", argv[i]);
	if (off >= sizeof(param)) {
		fprintf(stderr, "phctl: route too long\n");
		return 2;
	}
	v = tel_get("/polyhost/route_change", param);
	if (v == NULL)
		return 1;
	rc = jint(v, "ok") ? 0 : 1;
	if (rc != 0)
		fprintf(stderr, "phctl: route %s: %s\n", op, jstr(v, "error"));
	json_decref(v);
	return rc;
}

static int
cmd_route(int argc, char **argv)
{
	json_t *v;
	const char *k;
	json_t *x;

	if (argc > 0 && (strcmp(argv[0], "add") == 0 || strcmp(argv[0], "del") == 0 ||
	                 strcmp(argv[0], "replace") == 0))
		return route_change(argv[0], argc - 1, argv + 1);
	if (argc > 0 && (strcmp(argv[0], "show") == 0 || strcmp(argv[0], "list") == 0)) {
		argc--;
		argv++;
	}
	if (argc == 2 && (strcmp(argv[0], "ctx") == 0 || strcmp(argv[0], "vrf") == 0))
		ctx_filter = argv[1];
	else if (argc == 1) /* "phctl route NAME", as before */
		ctx_filter = argv[0];
	else if (argc > 0)
		return 2;
	if (ctx_filter != NULL)
		return print_routes(ctx_filter);
	v = tel_get("/polyhost/ctx", NULL);
	if (v == NULL)
		return 1;
	json_object_foreach(v, k, x)
	{
		printf("context %s (%lld):\n", k, json_integer_value(x));
		print_routes(k);
	}
	json_decref(v);
	return 0;
}

/* One context's settings and counters. */
static int
ctx_detail(const char *name)
{
	json_t *v = tel_get("/polyhost/ctx_stats", name);

	if (v == NULL) {
		fprintf(stderr, "phctl: no context '%s'\n", name);
		return 1;
	}
	printf("%s id %lld forwarding %s fib %s interfaces %lld routes %lld\n", jstr(v, "name"),
	       jint(v, "id"), jint(v, "forwarding") ? "on" : "off", jstr(v, "fib"),
	       jint(v, "interfaces"), jint(v, "routes"));
	printf("    in %lld local %lld forwarded %lld (%lld bytes)\n", jint(v, "in_pkts"),
	       jint(v, "in_local"), jint(v, "fwd_pkts"), jint(v, "fwd_bytes"));
	printf("    not forwarded: no route %lld ttl exceeded %lld frag needed %lld refused %lld\n",
	       jint(v, "fwd_no_route"), jint(v, "fwd_ttl"), jint(v, "fwd_frag_needed"),
	       jint(v, "fwd_refused"));
	json_decref(v);
	return 0;
}

/* Contexts, like `ip vrf`: number, interfaces, forwarding; with a name, its
 * counters too. */
static int
cmd_ctx(void)
{
	json_t *v = tel_get("/polyhost/ctx", NULL);
	json_t *names = tel_get("/polyhost/ifaces", NULL);
	const char *k;
	json_t *x, *n;
	size_t i;

	if (v == NULL || names == NULL)
		return 1;
	if (ctx_filter != NULL) {
		json_decref(v);
		json_decref(names);
		return ctx_detail(ctx_filter);
	}
	json_object_foreach(v, k, x)
	{
		json_t *st = tel_get("/polyhost/ctx_stats", k);

		printf("%-16s id %-5lld forwarding %-3s routes %-6lld interfaces:", k,
		       json_integer_value(x), st != NULL && jint(st, "forwarding") ? "on" : "off",
		       st != NULL ? jint(st, "routes") : 0);
		json_decref(st);
		json_array_foreach(names, i, n)
		{
			json_t *f = tel_get("/polyhost/iface", json_string_value(n));

			if (f != NULL && strcmp(jstr(f, "context"), k) == 0)
				printf(" %s", jstr(f, "name"));
			json_decref(f);
		}
		printf("\n");
	}
	json_decref(v);
	json_decref(names);
	return 0;
}

static int
cmd_mempool(void)
{
	json_t *v = tel_get("/polyhost/mempool", NULL);

	if (v == NULL)
		return 1;
	printf("%s: %lld mbufs, %lld in use, %lld available (per-lcore cache %lld)\n",
	       jstr(v, "name"), jint(v, "size"), jint(v, "in_use"), jint(v, "available"),
	       jint(v, "cache_size"));
	json_decref(v);
	return 0;
}

static int
cmd_raw(const char *cmd, const char *param)
{
	json_t *v = tel_get(cmd, param);
	char *s;

	if (v == NULL)
		return 1;
	s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
	printf("%s\n", s);
	free(s);
	json_decref(v);
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: phctl [-p FILE-PREFIX | -c CONFIG] [-a] [-l LCORE] COMMAND [ARG]\n"
	           "  -p PREFIX  the host's EAL --file-prefix (default: rte)\n"
	           "  -c CONFIG  take the prefix from the host's configuration file\n"
	           "  -a         show counters that are zero too\n"
	           "  -l LCORE   counters of one lcore only (index as in 'phctl info')\n"
	           "commands:\n"
	           "  info            host summary and lcores\n"
	           "  stats           MIB counters (RFC 4293 names), like netstat -s\n"
	           "  drops           dropped packets by reason\n"
	           "  get NAME        the value of one counter or drop reason\n"
	           "  ports           ports with link state and NIC counters, like ip -s link\n"
	           "  addr [ctx C]    interfaces and addresses (of context C), like ip addr\n"
	           "  neigh [ctx C]   the neighbour (ARP) table, like ip neigh [vrf C]\n"
	           "  route [show] [ctx C]\n"
	           "                  routes of every context (or of C), like ip route show vrf C\n"
	           "  route add|replace|del ROUTE [ctx C]\n"
	           "                  change a route of C (default: default); ROUTE as in the\n"
	           "                  configuration: PREFIX via GW [dev IF] ... [leak OTHER]\n"
	           "  ctx [C]         routing contexts and their interfaces, like ip vrf; with C,\n"
	           "                  its settings and counters (vrf is the same command)\n"
	           "  socks           bound UDP sockets, like ss -uan\n"
	           "  conns           TCP connections, like ss -tni\n"
	           "  mempool         packet buffer pool use\n"
	           "  raw CMD [PARAM] any telemetry command, as JSON\n");
}

int
main(int argc, char **argv)
{
	const char *prefix = "rte", *lcore = NULL, *cmd;
	char prefix_buf[64];
	int opt, rc;

	while ((opt = getopt(argc, argv, "p:c:al:h")) != -1) {
		switch (opt) {
		case 'p':
			prefix = optarg;
			break;
		case 'c': {
			char err[512];
			struct ph_conf *c = ph_conf_load(optarg, err, sizeof(err));

			if (c == NULL) {
				fprintf(stderr, "phctl: %s\n", err);
				return 2;
			}
			strlcpy(prefix_buf, c->file_prefix, sizeof(prefix_buf));
			prefix = prefix_buf;
			ph_conf_free(c);
			break;
		}
		case 'a':
			show_all = true;
			break;
		case 'l':
			lcore = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	/* A trailing "ctx NAME" filters what the show commands print. */
	if (strcmp(cmd, "route") != 0 && argc - optind >= 3 &&
	    (strcmp(argv[argc - 2], "ctx") == 0 || strcmp(argv[argc - 2], "vrf") == 0)) {
		ctx_filter = argv[argc - 1];
		argc -= 2;
	}
	if ((strcmp(cmd, "ctx") == 0 || strcmp(cmd, "vrf") == 0) && optind + 1 < argc)
		ctx_filter = argv[optind + 1];
	if (tel_connect(prefix) != 0)
		return 1;
	if (strcmp(cmd, "info") == 0)
		rc = cmd_info();
	else if (strcmp(cmd, "stats") == 0)
		rc = cmd_counters("/polyhost/stats", lcore);
	else if (strcmp(cmd, "drops") == 0)
		rc = cmd_counters("/polyhost/drops", lcore);
	else if (strcmp(cmd, "get") == 0 && optind + 1 < argc)
		rc = cmd_get(argv[optind + 1], lcore);
	else if (strcmp(cmd, "ports") == 0)
		rc = cmd_ports();
	else if (strcmp(cmd, "addr") == 0)
		rc = cmd_addr();
	else if (strcmp(cmd, "neigh") == 0)
		rc = cmd_neigh();
	else if (strcmp(cmd, "route") == 0)
		rc = cmd_route(argc - optind - 1, argv + optind + 1);
	else if (strcmp(cmd, "ctx") == 0 || strcmp(cmd, "vrf") == 0)
		rc = cmd_ctx();
	else if (strcmp(cmd, "mempool") == 0)
		rc = cmd_mempool();
	else if (strcmp(cmd, "socks") == 0)
		rc = cmd_socks();
	else if (strcmp(cmd, "conns") == 0)
		rc = cmd_conns();
	else if (strcmp(cmd, "raw") == 0 && optind + 1 < argc)
		rc = cmd_raw(argv[optind + 1], optind + 2 < argc ? argv[optind + 2] : NULL);
	else {
		usage(stderr);
		rc = 2;
	}
	close(tel_fd);
	return rc;
}
