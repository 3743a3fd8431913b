/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration loader: the shipped demo loads, and every mistake is
 * reported as FILE:LINE: key 'K': what, with the right line and key.
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
	assert_int_equal(c->ctxs[0].routes[0].gw, 0xc6120001);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(demo_loads),
	        cmocka_unit_test(minimal_and_defaults),
	        cmocka_unit_test(errors_name_file_line_key),
	        cmocka_unit_test(missing_file),
	        cmocka_unit_test(address_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
