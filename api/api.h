/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the public API: the one host a process runs, and the checks every
 * call starts with (which lcore is calling, whether it owns the descriptor).
 */
#ifndef PH_API_API_H
#define PH_API_API_H

#include <stdint.h>

struct ph_host;
struct ph_lcore;
struct ph_sock;

/* Set by ph_init(), cleared by ph_fini(). */
extern struct ph_host *api_host;

/* The calling lcore, online for RCU; NULL with errno ENODEV (no host) or
 * EPERM (not one of the host's lcores). */
struct ph_lcore *api_lcore(void);

/* FD on the calling lcore; NULL with errno EBADF, EPERM (another lcore's). */
struct ph_sock *api_sock(int fd, struct ph_lcore **lc);

/* The calling thread's routing context. */
uint16_t api_ctx(void);

/* Wait on LC, driving its stack, until READY(S) or the host stops. 0, or
 * -1 with errno EINTR. */
int api_wait(struct ph_lcore *lc, struct ph_sock *s, int (*ready)(const struct ph_sock *s));

#endif
