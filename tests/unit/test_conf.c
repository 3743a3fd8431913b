/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration loader: the shipped demo loads, and every mistake is
 * reported as FILE:LINE: key 'K': what, with the right line and key. Also
 * [tcp] (defaults, every key, ranges) and [service] sections with TCP
 * listen addresses and the http type's keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "conf/conf.h"

static char path[64];

static struct ph_conf *
load(const char *text, char *err, size_t errlen)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/ph-conf-test-%d.ini", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return ph_conf_load(path, err, errlen);
}

static const char *base = "[eal]\n"                                    /* 1 */
                          "args = --no-huge -m 512 --file-prefix=t1\n" /* 2 */
                          "lcores = 0-1\n"                             /* 3 */
                          "[port p0]\n"                                /* 4 */
                          "device = net_tap0,iface=ph0\n"              /* 5 */
                          "address = 198.18.0.2/24\n";                 /* 6 */

static void
demo_loads(void **state)
{
	char err[512] = "";
	struct ph_conf *c = ph_conf_load("config/demo.ini", err, sizeof(err));

	(void)state;
	assert_non_null(c);
	assert_string_equal(err, "");
	assert_int_equal(c->n_ports, 1);
	assert_string_equal(c->ports[0].name, "p0");
	assert_false(c->ports[0].is_pci);
	assert_int_equal(c->n_ifaces, 1);
	assert_int_equal(c->ifaces[0].n_addrs, 1);
	assert_int_equal(c->ifaces[0].addrs[0].ip, 0xc6120002);
	assert_int_equal(c->ifaces[0].addrs[0].plen, 24);
	assert_string_equal(c->file_prefix, "polyhost-demo");
	assert_int_equal(ph_conf_ctx_by_name(c, "default"), 0);
	assert_int_equal(c->ctxs[0].n_routes, 1);
	assert_int_equal(c->ctxs[0].routes[0].hops[0].gw, 0xc6120001);
	ph_conf_free(c);
}

static void
minimal_and_defaults(void **state)
{
	char err[512] = "";
	struct ph_conf *c = load(base, err, sizeof(err));

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->ports[0].mtu, 1500);
	assert_int_equal(c->ports[0].queues, 0);
	assert_true(c->ports[0].tso);
	assert_string_equal(c->file_prefix, "t1");
	/* The port's interface is in the implicit default context. */
	assert_int_equal(c->ifaces[0].ctx, (unsigned)ph_conf_ctx_by_name(c, "default"));
	ph_conf_free(c);
	unlink(path);
}

/* Append EXTRA to the base config and expect an error starting "path:LINE: key 'KEY'". */
static void
expect_error(const char *extra, int line, const char *key, const char *words)
{
	char text[2048], err[512] = "", want[256];
	struct ph_conf *c;

	snprintf(text, sizeof(text), "%s%s", base, extra);
	c = load(text, err, sizeof(err));
	if (c != NULL)
		fail_msg("accepted: %s", extra);
	if (key)
		snprintf(want, sizeof(want), "%s:%d: key '%s': ", path, line, key);
	else
		snprintf(want, sizeof(want), "%s:%d: ", path, line);
	if (strncmp(err, want, strlen(want)) != 0 || strstr(err, words) == NULL)
		fail_msg("for %s\n got: %s\nwant: %s...%s", extra, err, want, words);
	unlink(path);
}

static void
errors_name_file_line_key(void **state)
{
	(void)state;
	expect_error("mtu = 99999\n", 7, "mtu", "68..9600");
	expect_error("mtu = abc\n", 7, "mtu", "");
	expect_error("tso = sometimes\n", 7, "tso", "'sometimes' is not yes or no");
	expect_error("address = 198.18.0.300/24\n", 7, "address", "");
	expect_error("address = 198.18.0.3/33\n", 7, "address", "");
	expect_error("colour = blue\n", 7, "colour", "unknown key");
	expect_error("mtu = 1500\nmtu = 9000\n", 8, "mtu", "twice");
	expect_error("context = nowhere\n", 7, "context", "");
	expect_error("this is not ini\n", 7, NULL, "syntax");
	expect_error("[context default]\nroute = 198.19.0.0/16 via 198.18.5.1\n", 8, "route", "");
	expect_error("[context default]\nroute = 198.19.0.0/16 sideways\n", 8, "route", "");
	expect_error("[port p1]\naddress = 198.18.1.2/24\n", 7, NULL, "device");
	expect_error("[port p1]\ndevice = net_tap1\naddress = 198.18.0.2/24\n", 9, "address", "");
	expect_error("[host]\nicmp_rate = 0\n", 8, "icmp_rate", "");
	expect_error("[vlan v1]\nport = p9\nid = 10\n", 8, "port", "");
	expect_error("[vlan v1]\nport = p0\nid = 4095\n", 9, "id", "");
}

/* Without a [tcp] section: the defaults conf.h documents. */
static void
tcp_defaults(void **state)
{
	char err[512] = "";
	struct ph_conf *c = load(base, err, sizeof(err));

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->tcp.msl_ms, 30000);
	assert_int_equal(c->tcp.rto_init_ms, 1000);
	assert_int_equal(c->tcp.rto_min_ms, 200);
	assert_int_equal(c->tcp.rto_max_ms, 120000);
	assert_int_equal(c->tcp.delack_ms, 40);
	assert_int_equal(c->tcp.rmem, 262144);
	assert_int_equal(c->tcp.wmem, 262144);
	assert_int_equal(c->tcp.max_backlog, 4096);
	assert_int_equal(c->tcp.syn_retries, 6);
	assert_int_equal(c->tcp.synack_retries, 5);
	assert_int_equal(c->tcp.retries, 15);
	assert_int_equal(c->tcp.keepidle_s, 7200);
	assert_int_equal(c->tcp.keepintvl_s, 75);
	assert_int_equal(c->tcp.keepcnt, 9);
	assert_int_equal(c->tcp.max_conns, 65536);
	assert_true(c->tcp.timestamps);
	assert_true(c->tcp.window_scaling);
	assert_true(c->tcp.sack);
	assert_string_equal(c->tcp.cc, "cubic"); /* as Linux */
	ph_conf_free(c);
	unlink(path);
}

/* Every [tcp] key, given. */
static void
tcp_keys(void **state)
{
	char text[2048], err[512] = "";
	struct ph_conf *c;

	(void)state;
	snprintf(text, sizeof(text),
	         "%s[tcp]\n"
	         "msl_ms = 1000\nrto_init_ms = 500\nrto_min_ms = 100\nrto_max_ms = 60000\n"
	         "delack_ms = 10\nrmem = 1048576\nwmem = 65536\nmax_backlog = 128\n"
	         "syn_retries = 3\nsynack_retries = 2\nretries = 8\nkeepidle_s = 60\n"
	         "keepintvl_s = 5\nkeepcnt = 3\nmax_conns = 1000\ntimestamps = no\n"
	         "window_scaling = off\nsack = false\ncc = newreno\n",
	         base);
	c = load(text, err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	assert_int_equal(c->tcp.msl_ms, 1000);
	assert_int_equal(c->tcp.rto_init_ms, 500);
	assert_int_equal(c->tcp.rto_min_ms, 100);
	assert_int_equal(c->tcp.rto_max_ms, 60000);
	assert_int_equal(c->tcp.delack_ms, 10);
	assert_int_equal(c->tcp.rmem, 1048576);
	assert_int_equal(c->tcp.wmem, 65536);
	assert_int_equal(c->tcp.max_backlog, 128);
	assert_int_equal(c->tcp.syn_retries, 3);
	assert_int_equal(c->tcp.synack_retries, 2);
	assert_int_equal(c->tcp.retries, 8);
	assert_int_equal(c->tcp.keepidle_s, 60);
	assert_int_equal(c->tcp.keepintvl_s, 5);
	assert_int_equal(c->tcp.keepcnt, 3);
	assert_int_equal(c->tcp.max_conns, 1000);
	assert_false(c->tcp.timestamps);
	assert_false(c->tcp.window_scaling);
	assert_false(c->tcp.sack);
	assert_string_equal(c->tcp.cc, "newreno");
	ph_conf_free(c);
	unlink(path);

	/* yes/on/true/1 and their opposites, any case. */
	snprintf(text, sizeof(text), "%s[tcp]\ntimestamps = YES\nwindow_scaling = 1\nsack = On\n",
	         base);
	c = load(text, err, sizeof(err));
	assert_non_null(c);
	assert_true(c->tcp.timestamps && c->tcp.window_scaling && c->tcp.sack);
	ph_conf_free(c);
	unlink(path);

	/* Each congestion control tcp_cc_find knows. */
	snprintf(text, sizeof(text), "%s[tcp]\ncc = cubic\n", base);
	c = load(text, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(c->tcp.cc, "cubic");
	ph_conf_free(c);
	unlink(path);
}

static void
tcp_errors(void **state)
{
	(void)state;
	/* Each numeric key below and above its range; line 8 is the key. */
	expect_error("[tcp]\nmsl_ms = 99\n", 8, "msl_ms", "100..600000");
	expect_error("[tcp]\nmsl_ms = 600001\n", 8, "msl_ms", "100..600000");
	expect_error("[tcp]\nrto_init_ms = 9\n", 8, "rto_init_ms", "10..60000");
	expect_error("[tcp]\nrto_min_ms = 0\n", 8, "rto_min_ms", "1..60000");
	expect_error("[tcp]\nrto_max_ms = 999\n", 8, "rto_max_ms", "1000..3600000");
	expect_error("[tcp]\ndelack_ms = 500\n", 8, "delack_ms", "1..499");
	expect_error("[tcp]\ndelack_ms = 0\n", 8, "delack_ms", "1..499");
	expect_error("[tcp]\nrmem = 4095\n", 8, "rmem", "4096..1073741824");
	expect_error("[tcp]\nwmem = 1073741825\n", 8, "wmem", "4096..1073741824");
	expect_error("[tcp]\nmax_backlog = 0\n", 8, "max_backlog", "1..65535");
	expect_error("[tcp]\nsyn_retries = 128\n", 8, "syn_retries", "1..127");
	expect_error("[tcp]\nsynack_retries = 0\n", 8, "synack_retries", "1..127");
	expect_error("[tcp]\nretries = 256\n", 8, "retries", "1..255");
	expect_error("[tcp]\nkeepidle_s = 32768\n", 8, "keepidle_s", "1..32767");
	expect_error("[tcp]\nkeepintvl_s = 0\n", 8, "keepintvl_s", "1..32767");
	expect_error("[tcp]\nkeepcnt = 128\n", 8, "keepcnt", "1..127");
	expect_error("[tcp]\nmax_conns = 15\n", 8, "max_conns", "16..16777216");
	expect_error("[tcp]\nmsl_ms = 30s\n", 8, "msl_ms", "not a number");
	expect_error("[tcp]\nmsl_ms = -1\n", 8, "msl_ms", "not a number");
	/* Booleans, the congestion control, unknown and repeated keys. */
	expect_error("[tcp]\ntimestamps = maybe\n", 8, "timestamps", "'maybe' is not yes or no");
	expect_error("[tcp]\nwindow_scaling = 2\n", 8, "window_scaling", "not yes or no");
	expect_error("[tcp]\nsack = \"yes\"\n", 8, "sack", "not yes or no");
	expect_error("[tcp]\ncc = vegas\n", 8, "cc",
	             "unknown congestion control 'vegas' (newreno, cubic)");
	expect_error("[tcp]\ncc = CUBIC\n", 8, "cc",
	             "unknown congestion control 'CUBIC' (newreno, cubic)");
	expect_error("[tcp]\nnodelay = yes\n", 8, "nodelay", "unknown key in [tcp]");
	expect_error("[tcp]\nmsl_ms = 1000\nmsl_ms = 2000\n", 9, "msl_ms", "twice");
	/* The retransmission timeouts must nest: the given key is named. */
	expect_error("[tcp]\nrto_min_ms = 2000\n", 8, "rto_min_ms", "above rto_init_ms 1000");
	expect_error("[tcp]\nrto_init_ms = 100\n", 8, "rto_init_ms", "rto_min_ms 200 is above");
	expect_error("[tcp]\nrto_max_ms = 1000\nrto_init_ms = 3000\n", 9, "rto_init_ms",
	             "above rto_max_ms 1000");
	expect_error("[tcp]\nrto_max_ms = 1000\nrto_min_ms = 500\nrto_init_ms = 2000\n", 10,
	             "rto_init_ms", "above rto_max_ms");
	/* [tcp] takes no name, and appears once. */
	expect_error("[tcp fast]\n", 7, NULL, "unknown section [tcp fast]");
	expect_error("[tcp]\n[tcp]\n", 8, NULL, "appears twice");
}

/* [service] with TCP listen addresses and the http type. */
static void
services(void **state)
{
	char text[2048], err[512] = "";
	struct ph_conf *c;

	(void)state;
	snprintf(text, sizeof(text),
	         "%s[service echo]\ntype = echo\nlisten = tcp:198.18.0.2:7, udp:198.18.0.2:7\n"
	         "[service web]\ntype = http\nlisten = tcp:0.0.0.0:80\nlisten = tcp:0.0.0.0:8080\n"
	         "root = /tmp/\nbody_size = 1048576\n"
	         "[service bench]\ntype = http\nlisten = tcp:198.18.0.2:81\nbody_size = 0x10\n"
	         "[service sink]\ntype = discard\nlisten = tcp:0.0.0.0:9\n",
	         base);
	c = load(text, err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	assert_int_equal(c->n_services, 4);
	assert_string_equal(c->services[0].type, "echo");
	assert_int_equal(c->services[0].n_listen, 2);
	assert_int_equal(c->services[0].listen[0].proto, IPPROTO_TCP);
	assert_int_equal(c->services[0].listen[0].ip, 0xc6120002);
	assert_int_equal(c->services[0].listen[0].port, 7);
	assert_int_equal(c->services[0].listen[1].proto, IPPROTO_UDP);
	assert_string_equal(c->services[0].root, "");
	assert_int_equal(c->services[0].body_size, 0);
	assert_string_equal(c->services[1].type, "http");
	assert_int_equal(c->services[1].n_listen, 2);
	assert_int_equal(c->services[1].listen[1].port, 8080);
	assert_string_equal(c->services[1].root, "/tmp/");
	assert_int_equal(c->services[1].body_size, 1048576);
	assert_string_equal(c->services[2].root, "");
	assert_int_equal(c->services[2].body_size, 16);
	assert_string_equal(c->services[3].type, "discard");
	assert_int_equal(c->services[3].listen[0].proto, IPPROTO_TCP);
	ph_conf_free(c);
	unlink(path);
}

static void
service_errors(void **state)
{
	(void)state;
	expect_error("[service e]\ntype = chargen\nlisten = tcp:0.0.0.0:19\n", 8, "type",
	             "'chargen' is not a service type (echo, discard, http)");
	expect_error("[service e]\ntype = echo\nlisten = sctp:0.0.0.0:7\n", 9, "listen",
	             "protocol 'sctp' is not udp or tcp");
	expect_error("[service e]\ntype = echo\nlisten = tcp:198.18.0.3:7\n", 9, "listen",
	             "198.18.0.3 is not an address of context 'default'");
	expect_error("[service e]\ntype = echo\nlisten = tcp:0.0.0.0:0\n", 9, "listen",
	             "port '0' is not in 1..65535");
	/* http: TCP only, and its keys. */
	expect_error("[service w]\ntype = http\nlisten = udp:0.0.0.0:80\n", 9, "listen",
	             "http is served over tcp");
	expect_error("[service w]\ntype = http\nlisten = tcp:0.0.0.0:80\nroot = /nonexistent-dir\n",
	             10, "root", "'/nonexistent-dir': No such file or directory");
	expect_error("[service w]\ntype = http\nlisten = tcp:0.0.0.0:80\nroot = /dev/null\n", 10,
	             "root", "'/dev/null' is not a directory");
	expect_error("[service w]\ntype = http\nlisten = tcp:0.0.0.0:80\nbody_size = 1M\n", 10,
	             "body_size", "'1M' is not a number in 0..1099511627776");
	expect_error("[service w]\ntype = http\nlisten = tcp:0.0.0.0:80\nbody_size = -5\n", 10,
	             "body_size", "not a number");
	expect_error("[service w]\ntype = http\nlisten = tcp:0.0.0.0:80\n"
	             "body_size = 1099511627777\n",
	             10, "body_size", "0..1099511627776");
	expect_error("[service w]\ntype = http\nlisten = tcp:0.0.0.0:80\nroot = /tmp\nroot = /\n",
	             11, "root", "twice");
	expect_error("[service e]\ntype = echo\nlisten = tcp:0.0.0.0:7\nroot = /tmp\n", 10, "root",
	             "only for type = http, not echo");
	expect_error("[service e]\ntype = discard\nbody_size = 10\nlisten = tcp:0.0.0.0:9\n", 9,
	             "body_size", "only for type = http, not discard");
	expect_error("[service w]\ntype = http\nlisten = tcp:0.0.0.0:80\nport = 80\n", 10, "port",
	             "unknown key in [service w]");
	expect_error("[service w]\ntype = http\n", 7, "listen", "missing in [service w]");
	/* Overlaps, in one service and across services: the same address and
	 * port, or the wildcard over one of the context's addresses. */
	expect_error("[service e]\ntype = echo\nlisten = tcp:0.0.0.0:7, tcp:198.18.0.2:7\n", 9,
	             "listen", "tcp:198.18.0.2:7 overlaps tcp:0.0.0.0:7 of [service e]");
	expect_error("[service e]\ntype = echo\nlisten = tcp:198.18.0.2:7\n"
	             "[service w]\ntype = http\nlisten = tcp:0.0.0.0:7\n",
	             12, "listen", "tcp:0.0.0.0:7 overlaps tcp:198.18.0.2:7 of [service e]");
	expect_error("[service e]\ntype = echo\nlisten = udp:0.0.0.0:7\nlisten = udp:0.0.0.0:7\n",
	             10, "listen", "overlaps");
}

static void
missing_file(void **state)
{
	char err[512] = "";

	(void)state;
	assert_null(ph_conf_load("/nonexistent/polyhost.ini", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/polyhost.ini: "));
}

static void
address_parsers(void **state)
{
	uint32_t ip, u;
	uint8_t plen;

	(void)state;
	assert_int_equal(ph_parse_ipv4("198.18.0.1", &ip), 0);
	assert_int_equal(ip, 0xc6120001);
	assert_int_equal(ph_parse_ipv4("198.18.0", &ip), -1);
	assert_int_equal(ph_parse_ipv4("198.18.0.1 ", &ip), -1);
	assert_int_equal(ph_parse_prefix("198.18.0.0/15", &ip, &plen), 0);
	assert_int_equal(plen, 15);
	assert_int_equal(ph_parse_prefix("198.18.0.0/", &ip, &plen), -1);
	assert_int_equal(ph_parse_u32("42", 0, 100, &u), 0);
	assert_int_equal(ph_parse_u32("101", 0, 100, &u), -1);
	assert_int_equal(ph_parse_u32("-1", 0, 100, &u), -1);
}

/* The route grammar shared by the configuration and phctl. */
static void
route_grammar(void **state)
{
	struct ph_conf_route r;
	char err[256];

	(void)state;
	assert_int_equal(ph_parse_route("198.18.5.0/24 via 198.18.1.1", &r, err, sizeof(err)), 0);
	assert_int_equal(r.prefix, 0xc6120500);
	assert_int_equal(r.plen, 24);
	assert_int_equal(r.n_hops, 1);
	assert_int_equal(r.hops[0].gw, 0xc6120101);
	assert_string_equal(r.hops[0].dev, "");
	assert_string_equal(r.ctx, "");
	/* ECMP: one hop per via, a dev binds to the via before it. */
	assert_int_equal(ph_parse_route("default via 198.18.1.1 dev p0 via 198.18.2.1 dev p1", &r,
	                                err, sizeof(err)),
	                 0);
	assert_int_equal(r.plen, 0);
	assert_int_equal(r.n_hops, 2);
	assert_string_equal(r.hops[0].dev, "p0");
	assert_int_equal(r.hops[1].gw, 0xc6120201);
	assert_string_equal(r.hops[1].dev, "p1");
	/* Linux's order too: "dev IF via GW" is one hop; a repeated keyword starts the next. */
	assert_int_equal(ph_parse_route("default dev p0 via 198.18.1.1", &r, err, sizeof(err)), 0);
	assert_int_equal(r.n_hops, 1);
	assert_string_equal(r.hops[0].dev, "p0");
	assert_int_equal(r.hops[0].gw, 0xc6120101);
	assert_int_equal(ph_parse_route("default via 198.18.1.1 dev p0 via 198.18.1.2", &r, err,
	                                sizeof(err)),
	                 0);
	assert_int_equal(r.n_hops, 2);
	assert_string_equal(r.hops[1].dev, "");
	assert_int_equal(ph_parse_route("default dev p0 dev p1", &r, err, sizeof(err)), 0);
	assert_int_equal(r.n_hops, 2);
	assert_int_equal(ph_parse_route("default ctx blue dev p0", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "after the next hops"));
	/* A leak: the next hops are in another context ("leak" says the same). */
	assert_int_equal(ph_parse_route("198.18.9.0/24 dev v9 ctx blue", &r, err, sizeof(err)), 0);
	assert_int_equal(r.n_hops, 1);
	assert_int_equal(r.hops[0].gw, 0);
	assert_string_equal(r.hops[0].dev, "v9");
	assert_string_equal(r.ctx, "blue");
	assert_int_equal(ph_parse_route("198.18.9.0/24 dev v9 leak blue", &r, err, sizeof(err)), 0);
	assert_string_equal(r.ctx, "blue");
	assert_int_equal(ph_parse_route("198.18.9.0/24 ctx blue", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no next hop"));
	assert_int_equal(ph_parse_route("198.18.9.1/24 dev p0", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "host bits"));
	assert_int_equal(ph_parse_route("198.18.9.0/24 via 0.0.0.0", &r, err, sizeof(err)), -1);
	assert_int_equal(ph_parse_route("198.18.9.0/24 via 127.0.0.1", &r, err, sizeof(err)), -1);
	assert_int_equal(ph_parse_route("198.18.9.0/24 via", &r, err, sizeof(err)), -1);
	assert_int_equal(ph_parse_route("198.18.9.0/24 dev p0 ctx a ctx b", &r, err, sizeof(err)),
	                 -1);
	assert_int_equal(ph_parse_route("198.18.9.0/24 via 1.1.1.1 via 1.1.1.2 via 1.1.1.3 via "
	                                "1.1.1.4 via 1.1.1.5 via 1.1.1.6 via 1.1.1.7 via 1.1.1.8 "
	                                "via 1.1.1.9",
	                                &r, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "more than 8"));
}

/* [context]: forwarding, fib, routes that leak into another context. */
static void
context_keys(void **state)
{
	char text[2048], err[512] = "";
	struct ph_conf *c;
	int red, blue;

	(void)state;
	snprintf(text, sizeof(text),
	         "%s[port p1]\ndevice = net_tap1\ncontext = blue\naddress = 198.18.0.2/24\n"
	         "[context red]\nfib = ranges\nforwarding = yes\n"
	         "route = 198.18.0.0/24 via 198.18.0.1 ctx blue\n"
	         "[context blue]\nid = 9\n"
	         "route = default via 198.18.0.1 via 198.18.0.9\n",
	         base);
	c = load(text, err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	red = ph_conf_ctx_by_name(c, "red");
	blue = ph_conf_ctx_by_name(c, "blue");
	assert_true(c->ctxs[red].forwarding);
	assert_int_equal(c->ctxs[red].fib, PH_FIB_RANGES);
	assert_false(c->ctxs[blue].forwarding);
	assert_int_equal(c->ctxs[blue].fib, PH_FIB_DIR24_8);
	assert_int_equal(c->ctxs[red].n_routes, 1);
	assert_string_equal(c->ctxs[red].routes[0].ctx, "blue");
	assert_int_equal(c->ctxs[blue].routes[0].n_hops, 2);
	ph_conf_free(c);
	unlink(path);
	expect_error("[context default]\nforwarding = maybe\n", 8, "forwarding", "yes or no");
	expect_error("[context default]\nfib = hash\n", 8, "fib", "dir24_8 or ranges");
	expect_error("[context default]\nroute = 198.19.0.0/16 via 198.18.0.1 ctx nowhere\n", 8,
	             "route", "no [context nowhere]");
	/* The gateway must be on a subnet of the context the next hops are in. */
	expect_error("[context red]\nroute = 198.19.0.0/16 via 198.18.0.1\n", 8, "route",
	             "not on a subnet of context 'red'");
	expect_error("[context red]\nroute = 198.19.0.0/16 dev p0\n", 8, "route",
	             "not in context 'red'");
	expect_error("[context default]\nroute = 198.19.0.0/16 via 198.18.0.1\n"
	             "route = 198.19.0.0/16 dev p0\n",
	             9, "route", "given twice");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(demo_loads),
	        cmocka_unit_test(minimal_and_defaults),
	        cmocka_unit_test(errors_name_file_line_key),
	        cmocka_unit_test(tcp_defaults),
	        cmocka_unit_test(tcp_keys),
	        cmocka_unit_test(tcp_errors),
	        cmocka_unit_test(services),
	        cmocka_unit_test(service_errors),
	        cmocka_unit_test(missing_file),
	        cmocka_unit_test(address_parsers),
	        cmocka_unit_test(route_grammar),
	        cmocka_unit_test(context_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
