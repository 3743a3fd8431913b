/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * polyhostd: the appliance. `polyhostd -c FILE` brings up the host the file
 * describes (ports, contexts, addresses, routes) and the built-in services of
 * its [service] sections, runs until SIGINT or SIGTERM, then shuts down,
 * prints its counters and exits 0, or 1 when a packet buffer went missing,
 * 2 when the configuration is wrong.
 *
 * The services (echo and discard over UDP and TCP, http) are the code of
 * apps/common that ph-echo and ph-httpd run: every worker lcore runs one
 * loop serving all of them, with one socket per listen address.
 *
 * It starts through the public API like any application; only the summary it
 * prints reads the host's internals.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "api/api.h"
#include "common/echo_service.h"
#include "common/http_service.h"
#include "conf/conf.h"
#include "core/host.h"
#include "polyhost/polyhost.h"

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "usage: %s -c FILE [--lcores LIST] [--eal ARGS] [--fault PORT=SPEC]...\n"
	        "  -c FILE            host configuration (INI; see config/demo.ini and README.md)\n"
	        "  --lcores LIST      lcores to run on, instead of [eal] lcores\n"
	        "  --eal ARGS         more EAL arguments\n"
	        "  --fault PORT=SPEC  fault injection on [port PORT], over its 'fault' key\n"
	        "                     (e.g. drop=1%%,dup=0.1%%,seed=7; see README.md)\n"
	        "  -h                 this help\n",
	        prog);
}

static void
print_ip(uint32_t ip)
{
	printf("%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* Every [service] of the configuration, as the workers serve them. */
struct services {
	struct echo_config echo;
	struct http_config http;
	struct http_site sites[PH_CONF_MAX_SERVICES]; /* one per http service */
	unsigned n_sites;
};

static void
print_summary(const struct ph_host *h, const struct services *svc)
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
	for (unsigned i = 0; i < svc->echo.n_listen; i++) {
		const struct echo_listen *l = &svc->echo.listen[i];

		printf("polyhostd: service %s: %s on %s:", l->name, l->discard ? "discard" : "echo",
		       l->proto == IPPROTO_TCP ? "tcp" : "udp");
		print_ip(l->ip);
		printf(":%u, context %s\n", l->port, h->ctxs[l->ctx]->name);
	}
	for (unsigned i = 0; i < svc->http.n_listen; i++) {
		const struct http_listen *l = &svc->http.listen[i];

		printf("polyhostd: service %s: http on tcp:", l->name);
		print_ip(l->ip);
		printf(":%u, context %s, root %s (%zu files), body size %" PRIu64 "\n", l->port,
		       h->ctxs[l->ctx]->name, l->site->root[0] != '\0' ? l->site->root : "none",
		       l->site->n_files, l->site->body_size);
	}
	printf("polyhostd: ready: pid %d, %u lcores (%u workers), telemetry prefix %s\n",
	       (int)getpid(), h->n_lcores, h->n_workers, h->conf->file_prefix);
	fflush(stdout);
}

/* Every listen address of every [service] section, for the workers; the
 * files of the http services are indexed here, before the workers start.
 * 0, or -1 with the reason printed. */
static int
services_from_conf(const struct ph_conf *conf, struct services *svc)
{
	for (unsigned i = 0; i < conf->n_services; i++) {
		const struct ph_conf_service *s = &conf->services[i];
		bool http = strcmp(s->type, "http") == 0;
		struct http_site *site = NULL;

		if (http) {
			char err[512];

			site = &svc->sites[svc->n_sites];
			if (http_site_load(site, s->root, s->body_size, err, sizeof(err)) < 0) {
				fprintf(stderr, "polyhostd: service %s: %s\n", s->name, err);
				return -1;
			}
			svc->n_sites++;
		}
		for (unsigned k = 0; k < s->n_listen; k++) {
			const struct ph_conf_listen *cl = &s->listen[k];

			if (http && svc->http.n_listen < HTTP_MAX_LISTEN) {
				struct http_listen *l = &svc->http.listen[svc->http.n_listen++];

				*l = (struct http_listen){.ip = cl->ip,
				                          .port = cl->port,
				                          .ctx = conf->ctxs[s->ctx].id,
				                          .site = site};
				strlcpy(l->name, s->name, sizeof(l->name));
			} else if (!http && svc->echo.n_listen < ECHO_MAX_LISTEN) {
				struct echo_listen *l = &svc->echo.listen[svc->echo.n_listen++];

				*l = (struct echo_listen){.proto = cl->proto,
				                          .ip = cl->ip,
				                          .port = cl->port,
				                          .ctx = conf->ctxs[s->ctx].id,
				                          .discard =
				                                  strcmp(s->type, "discard") == 0};
				strlcpy(l->name, s->name, sizeof(l->name));
			} else {
				fprintf(stderr,
				        "polyhostd: service %s: too many listen addresses\n",
				        s->name);
				return -1;
			}
		}
	}
	return 0;
}

static void
services_free(struct services *svc)
{
	for (unsigned i = 0; i < svc->n_sites; i++)
		http_site_free(&svc->sites[i]);
	svc->n_sites = 0;
}

/* The ph_run() function: every service on this worker lcore, one loop. */
static int
services_worker(void *arg)
{
	const struct services *svc = arg;
	struct svc_service run[2];
	unsigned n = 0;

	if (svc->echo.n_listen > 0)
		run[n++] = (struct svc_service){.ops = &echo_ops, .cfg = &svc->echo};
	if (svc->http.n_listen > 0)
		run[n++] = (struct svc_service){.ops = &http_ops, .cfg = &svc->http};
	return svc_run("polyhostd", run, n);
}

int
main(int argc, char **argv)
{
	static struct services svc;
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
	if (services_from_conf(api_host->conf, &svc) < 0) {
		services_free(&svc);
		ph_fini(NULL);
		return 1;
	}
	print_summary(api_host, &svc);
	rc = ph_run(svc.echo.n_listen + svc.http.n_listen > 0 ? services_worker : NULL, &svc);
	printf("polyhostd: stopping\n");
	services_free(&svc);
	if (ph_fini(stdout) < 0)
		return 1;
	return rc != 0 ? 1 : 0;
}
