/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * polyhostd: the appliance. `polyhostd -c FILE` brings up the host the file
 * describes (ports, contexts, addresses, routes), runs it until SIGINT or
 * SIGTERM, then shuts down, prints its counters and exits 0, or 1 when a
 * packet buffer went missing.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/host.h"
#include "host/host.h"
#include "wire/ipv4.h"

static struct ph_host *volatile running_host;
static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	if (running_host != NULL)
		ph_host_stop(running_host);
}

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "usage: %s -c FILE\n"
	        "  -c FILE   host configuration (INI; see config/demo.ini and README.md)\n"
	        "  -h        this help\n",
	        prog);
}

static void
print_summary(const struct ph_host *h)
{
	for (uint16_t i = 0; i < h->n_ifaces; i++) {
		const struct ph_iface *ifc = &h->ifaces[i];

		printf("polyhostd: interface %s (port %s, context %s, mtu %u):", ifc->name,
		       h->ports[ifc->port].name, h->ctxs[ifc->ctx]->name, ifc->mtu);
		for (unsigned a = 0; a < ifc->n_addrs; a++) {
			uint32_t ip = ifc->addrs[a].ip;

			printf(" %u.%u.%u.%u/%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
			       ip & 255, ifc->addrs[a].plen);
		}
		printf("\n");
	}
	printf("polyhostd: ready: pid %d, %u lcores (%u workers), telemetry prefix %s\n",
	       (int)getpid(), h->n_lcores, h->n_workers, h->conf->file_prefix);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	struct sigaction sa = {.sa_handler = on_signal};
	struct ph_conf *conf;
	struct ph_host *h = NULL;
	char err[512];
	int opt, rc;

	while ((opt = getopt(argc, argv, "c:h")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr, argv[0]);
		return 2;
	}
	conf = ph_conf_load(path, err, sizeof(err));
	if (conf == NULL) {
		fprintf(stderr, "polyhostd: %s\n", err);
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = ph_host_start(&h, conf, argv[0], err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "polyhostd: %s\n", err);
		ph_conf_free(conf);
		return 1;
	}
	running_host = h;
	if (stop_requested)
		ph_host_stop(h);
	print_summary(h);
	ph_host_run(h);
	printf("polyhostd: stopping\n");
	running_host = NULL;
	rc = ph_host_finish(h, stdout);
	ph_conf_free(conf);
	return rc;
}
