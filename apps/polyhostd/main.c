/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * polyhostd: the appliance. `polyhostd -c FILE` brings up the host the file
 * describes (ports, contexts, addresses, routes) and the built-in services of
 * its [service] sections, runs until SIGINT or SIGTERM, then shuts down,
 * prints its counters and exits 0, or 1 when a packet buffer went missing,
 * 2 when the configuration is wrong.
 *
 * It starts through the public API like any application; only the summary it
 * prints reads the host's internals.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "api/api.h"
#include "common/echo_service.h"
#include "conf/conf.h"
#include "core/host.h"
#include "polyhost/polyhost.h"

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "usage: %s -c FILE [--lcores LIST] [--eal ARGS]\n"
	        "  -c FILE        host configuration (INI; see config/demo.ini and README.md)\n"
	        "  --lcores LIST  lcores to run on, instead of [eal] lcores\n"
	        "  --eal ARGS     more EAL arguments\n"
	        "  -h             this help\n",
	        prog);
}

static void
print_ip(uint32_t ip)
{
	printf("%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static void
print_summary(const struct ph_host *h, const struct echo_config *svc)
{
	for (uint16_t i = 0; i < h->n_ifaces; i++) {
		const struct ph_iface *ifc = &h->ifaces[i];

		printf("polyhostd: interface %s (port %s, context %s, mtu %u):", ifc->name,
		       h->ports[ifc->port].name, h->ctxs[ifc->ctx]->name, ifc->mtu);
		for (unsigned a = 0; a < ifc->n_addrs; a++) {
			printf(" ");
			print_ip(ifc->addrs[a].ip);
			printf("/%u", ifc->addrs[a].plen);
		}
		printf("\n");
	}
	for (unsigned i = 0; i < svc->n_listen; i++) {
		const struct echo_listen *l = &svc->listen[i];

		printf("polyhostd: service %s: %s on udp:", l->name,
		       l->discard ? "discard" : "echo");
		print_ip(l->ip);
		printf(":%u, context %s\n", l->port, h->ctxs[l->ctx]->name);
	}
	printf("polyhostd: ready: pid %d, %u lcores (%u workers), telemetry prefix %s\n",
	       (int)getpid(), h->n_lcores, h->n_workers, h->conf->file_prefix);
	fflush(stdout);
}

/* Every listen address of every [service] section, for the echo workers. */
static void
services_from_conf(const struct ph_conf *conf, struct echo_config *svc)
{
	for (unsigned i = 0; i < conf->n_services; i++) {
		const struct ph_conf_service *s = &conf->services[i];

		for (unsigned k = 0; k < s->n_listen && svc->n_listen < ECHO_MAX_LISTEN; k++) {
			struct echo_listen *l = &svc->listen[svc->n_listen++];

			l->ip = s->listen[k].ip;
			l->port = s->listen[k].port;
			l->ctx = conf->ctxs[s->ctx].id;
			l->discard = strcmp(s->type, "discard") == 0;
			strlcpy(l->name, s->name, sizeof(l->name));
		}
	}
}

int
main(int argc, char **argv)
{
	static struct echo_config svc;
	int used, rc;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout, argv[0]);
			return 0;
		}
	if (argc == 1) {
		usage(stderr, argv[0]);
		return 2;
	}
	ph_stop_on_signals();
	used = ph_init(argc, argv);
	if (used < 0) {
		fprintf(stderr, "polyhostd: %s\n", ph_init_error());
		return errno == EINVAL || errno == ENOENT ? 2 : 1;
	}
	if (used != argc) {
		fprintf(stderr, "polyhostd: unexpected argument '%s'\n", argv[used]);
		ph_fini(NULL);
		return 2;
	}
	services_from_conf(api_host->conf, &svc);
	print_summary(api_host, &svc);
	rc = ph_run(svc.n_listen > 0 ? echo_service_worker : NULL, &svc);
	printf("polyhostd: stopping\n");
	if (ph_fini(stdout) < 0)
		return 1;
	return rc != 0 ? 1 : 0;
}
