/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The echo and discard services (RFC 862, RFC 863) over UDP and TCP, written
 * on the public API only. ph-echo runs them from its command line, polyhostd
 * from [service] sections: the same code, in the worker loop of svc.h.
 */
#ifndef PH_APPS_ECHO_SERVICE_H
#define PH_APPS_ECHO_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "svc.h"

#define ECHO_MAX_LISTEN 64

struct echo_listen {
	uint8_t proto; /* IPPROTO_UDP or IPPROTO_TCP */
	uint32_t ip;   /* host order, 0 for any address of the context */
	uint16_t port;
	int ctx;      /* routing context number */
	bool discard; /* RFC 863: read and drop */
	char name[32];
};

struct echo_config {
	struct echo_listen listen[ECHO_MAX_LISTEN];
	unsigned n_listen;
	bool copy;  /* UDP: copy through ph_recvfrom/ph_sendto instead of zero-copy */
	int rcvbuf; /* SO_RCVBUF, 0 for the default */
};

/*
 * For svc_run(), with a struct echo_config as the cfg: on the calling worker
 * lcore, one socket per listen address as svc_listen() makes it (in the
 * address's context). No timers.
 */
extern const struct svc_ops echo_ops;

/* A ph_run() worker function: ARG is a struct echo_config. Serves until the
 * host stops; returns 0, or 1 when a socket could not be set up. */
int echo_service_worker(void *arg);

#endif
