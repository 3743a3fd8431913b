/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bringing a host up and down: EAL from the configuration, the packet pool,
 * ports, contexts and addresses, the lcores and their loops, telemetry, and
 * an orderly shutdown that accounts for every packet buffer. polyhostd is a
 * thin wrapper around these calls; the library's ph_init() (API issue) will be
 * another.
 */
#ifndef PH_HOST_HOST_H
#define PH_HOST_HOST_H

#include <stdint.h>
#include <stdio.h>

struct ph_conf;
struct ph_host;

/* Start EAL and build the host. 0, or -errno with a message in ERR. */
int ph_host_start(struct ph_host **out, const struct ph_conf *conf, const char *argv0, char *err,
                  size_t errlen);

/* Run every lcore's loop; the calling thread is the lead. Returns when stopped. */
int ph_host_run(struct ph_host *h);

/* Ask every loop to stop. Async-signal-safe. */
void ph_host_stop(struct ph_host *h);

/*
 * Tear the host down and print its counters to OUT. Returns 0, or 1 when
 * packet buffers are missing from the pool once every port is closed (a leak).
 */
int ph_host_finish(struct ph_host *h, FILE *out);

/* Counter I of family F summed over every lcore (LCORE < 0) or of one lcore.
 * Any thread: counters are read with relaxed atomic loads. */
struct ph_ctr_family;
uint64_t ph_host_ctr_sum(const struct ph_host *h, int lcore, const struct ph_ctr_family *f,
                         unsigned i);

/* The /polyhost/ telemetry commands (telemetry.c): register for H; forget H
 * (commands then answer with an error) before H goes away. */
int ph_telemetry_register(struct ph_host *h);
void ph_telemetry_unregister(void);

#endif
