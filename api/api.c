/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The public API's start-up, poll loop, runner, contexts and counters (see
 * <polyhost/polyhost.h>). The application's thread enters the stack here:
 * ph_poll() and the runner turn the same per-lcore loop that polyhostd runs.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>

#include "api/api.h"
#include "conf/conf.h"
#include "core/host.h"
#include "host/host.h"
#include "polyhost/polyhost.h"
#include "sock/sock.h"
#include "tcp/tcp_share.h"

/* --fault options one ph_init() takes. */
#define API_MAX_FAULTS 64

struct ph_host *api_host;
static struct ph_conf *api_conf;
static char api_init_err[512];
static volatile bool api_stop_early; /* ph_stop() before the host existed */
static __thread uint16_t api_thread_ctx;

struct ph_lcore *
api_lcore(void)
{
	struct ph_lcore *lc;

	if (api_host == NULL) {
		errno = ENODEV;
		return NULL;
	}
	lc = ph_host_this_lcore(api_host);
	if (lc == NULL) {
		errno = EPERM;
		return NULL;
	}
	/* It reads the lock-free tables from now on: RCU must wait for it. Between
	 * two calls an application holds nothing of them: each call starts in a
	 * quiescent state, so an lcore busy with its own work between calls does
	 * not hold up the writers for long. */
	ph_lcore_online(lc);
	rte_rcu_qsbr_quiescent(api_host->qsbr, lc->index);
	return lc;
}

struct ph_sock *
api_sock(int fd, struct ph_lcore **lcp)
{
	struct ph_lcore *lc = api_lcore();
	struct ph_sock *s;

	if (lc == NULL)
		return NULL;
	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	if (sock_fd_owner(fd) != lc->index) {
		if (sock_fd_owner(fd) >= api_host->n_lcores) {
			errno = EBADF;
			return NULL;
		}
		/* A host-wide listener: this worker's own accept queue. */
		if ((s = tcp_share_find(lc, fd)) == NULL)
			return NULL;
		*lcp = lc;
		return s;
	}
	s = sock_get(lc, fd);
	if (s == NULL) {
		errno = EBADF;
		return NULL;
	}
	*lcp = lc;
	return s;
}

uint16_t
api_ctx(void)
{
	return api_thread_ctx;
}

int
api_wait(struct ph_lcore *lc, struct ph_sock *s, int (*ready)(const struct ph_sock *s))
{
	lc->wait_sock = s;
	while (!ready(s)) {
		if (ph_stopping()) {
			lc->wait_sock = NULL;
			errno = EINTR;
			return -1;
		}
		if (ph_lcore_poll(lc) == 0 && !ready(s))
			ph_lcore_idle(lc);
	}
	lc->wait_sock = NULL;
	return 0;
}

static int
api_init_fail(int err, const char *fmt, const char *msg)
{
	snprintf(api_init_err, sizeof(api_init_err), fmt, msg);
	errno = err;
	return -1;
}

/* ARG is "--NAME" or "--NAME=VALUE" (or SHORT, or SHORTVALUE): its value, from
 * ARGV[*I + 1] when separate (then *I moves on), "" when missing; NULL when
 * ARG is another option. */
static const char *
api_opt(char **argv, int argc, int *i, const char *name, const char *shrt)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) == 0 && a[n] == '=')
		return a + n + 1;
	if (shrt != NULL && strncmp(a, shrt, 2) == 0 && a[2] != '\0')
		return a + 2;
	if (strcmp(a, name) != 0 && (shrt == NULL || strcmp(a, shrt) != 0))
		return NULL;
	if (*i + 1 >= argc)
		return "";
	return argv[++*i];
}

int
ph_init(int argc, char **argv)
{
	const char *path = getenv("POLYHOST_CONFIG"), *lcores = NULL, *eal = NULL;
	/* --fault PORT=SPEC, repeatable: applied over the file, in order. */
	const char *faults[API_MAX_FAULTS];
	unsigned n_faults = 0;
	char err[512];
	struct ph_host *h;
	int used, rc, i;

	api_init_err[0] = '\0';
	if (api_host != NULL)
		return api_init_fail(EALREADY, "%s", "the host is already running");
	if (argc < 1 || argv == NULL)
		return api_init_fail(EINVAL, "%s", "argv must hold at least the program name");
	/* Ours up to "--" (taken too) or the first argument that is not ours: the
	 * rest is the application's, whatever it looks like. */
	for (i = 1; i < argc; i++) {
		const char *v;

		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if ((v = api_opt(argv, argc, &i, "--config", "-c")) != NULL)
			path = v;
		else if ((v = api_opt(argv, argc, &i, "--lcores", NULL)) != NULL)
			lcores = v;
		else if ((v = api_opt(argv, argc, &i, "--eal", NULL)) != NULL)
			eal = v;
		else if ((v = api_opt(argv, argc, &i, "--fault", NULL)) != NULL) {
			if (n_faults == API_MAX_FAULTS)
				return api_init_fail(EINVAL, "more than %s --fault options",
				                     RTE_STR(API_MAX_FAULTS));
			faults[n_faults++] = v;
		} else
			break;
		if (*v == '\0')
			return api_init_fail(EINVAL, "option '%s' needs a value", argv[i]);
	}
	used = i;
	if (path == NULL && used < argc && argv[used][0] == '-')
		return api_init_fail(EINVAL,
		                     "unknown option '%s' (the host takes -c FILE, --lcores LIST, "
		                     "--eal ARGS, --fault PORT=SPEC; the application's come after "
		                     "them or after --)",
		                     argv[used]);
	if (path == NULL)
		return api_init_fail(EINVAL, "%s",
		                     "no configuration: give -c FILE or set POLYHOST_CONFIG");
	api_conf = ph_conf_load(path, err, sizeof(err));
	if (api_conf == NULL)
		return api_init_fail(access(path, R_OK) == 0 ? EINVAL : ENOENT, "%s", err);
	rc = ph_conf_override(api_conf, lcores, eal, err, sizeof(err));
	for (unsigned k = 0; rc == 0 && k < n_faults; k++)
		rc = ph_conf_fault_override(api_conf, faults[k], err, sizeof(err));
	if (rc != 0) {
		ph_conf_free(api_conf);
		api_conf = NULL;
		return api_init_fail(EINVAL, "%s", err);
	}
	rc = ph_host_start(&h, api_conf, argv[0], err, sizeof(err));
	if (rc != 0) {
		ph_conf_free(api_conf);
		api_conf = NULL;
		return api_init_fail(-rc, "%s", err);
	}
	api_host = h;
	if (api_stop_early)
		ph_host_stop(h);
	/* EAL parsed its arguments with getopt: the application's own getopt
	 * starts afresh. */
	optind = 0;
	return used;
}

const char *
ph_init_error(void)
{
	return api_init_err;
}

int
ph_poll(void)
{
	struct ph_lcore *lc = api_lcore();

	if (lc == NULL)
		return -1;
	if (ph_stopping()) {
		errno = EINTR;
		return -1;
	}
	return (int)ph_lcore_poll(lc);
}

struct api_run {
	ph_worker_fn fn;
	void *arg;
	uint16_t ctx;
	int rc;
};

static int
api_run_lcore(void *p)
{
	struct api_run *r = p;
	struct ph_lcore *lc = ph_host_this_lcore(api_host);

	api_thread_ctx = r->ctx;
	if (lc->is_worker && r->fn != NULL) {
		ph_lcore_online(lc);
		r->rc = r->fn(r->arg);
	}
	return ph_lcore_loop(lc);
}

int
ph_run(ph_worker_fn fn, void *arg)
{
	struct api_run runs[RTE_MAX_LCORE];
	struct ph_lcore *lc = api_lcore();
	struct ph_host *h = api_host;
	int rc = 0;

	if (lc == NULL)
		return -1;
	if (!lc->is_lead) {
		errno = EPERM;
		return -1;
	}
	for (uint16_t i = 0; i < h->n_lcores; i++)
		runs[i] = (struct api_run){.fn = fn, .arg = arg, .ctx = api_thread_ctx};
	for (uint16_t i = 1; i < h->n_lcores; i++)
		if (rte_eal_remote_launch(api_run_lcore, &runs[i], h->lcores[i]->lcore_id) != 0) {
			ph_stop();
			errno = EBUSY;
			rc = -1;
			break;
		}
	if (rc == 0)
		api_run_lcore(&runs[0]);
	rte_eal_mp_wait_lcore();
	for (uint16_t i = 0; rc == 0 && i < h->n_lcores; i++)
		if (runs[i].rc != 0)
			rc = runs[i].rc;
	return rc;
}

void
ph_stop(void)
{
	api_stop_early = true;
	if (api_host != NULL)
		ph_host_stop(api_host);
}

bool
ph_stopping(void)
{
	return api_stop_early ||
	       (api_host != NULL && __atomic_load_n(&api_host->stop, __ATOMIC_RELAXED));
}

static void
api_on_signal(int sig)
{
	(void)sig;
	ph_stop();
}

int
ph_stop_on_signals(void)
{
	struct sigaction sa = {.sa_handler = api_on_signal};

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
		return -1;
	return 0;
}

int
ph_fini(FILE *report)
{
	struct ph_host *h = api_host;
	int rc;

	if (h == NULL) {
		errno = ENODEV;
		return -1;
	}
	ph_host_stop(h);
	for (uint16_t i = 0; i < h->n_lcores; i++)
		ph_lcore_offline(h->lcores[i]);
	api_host = NULL;
	if (report == NULL) {
		FILE *null = fopen("/dev/null", "w");

		rc = ph_host_finish(h, null != NULL ? null : stderr);
		if (null != NULL)
			fclose(null);
	} else {
		rc = ph_host_finish(h, report);
	}
	ph_conf_free(api_conf);
	api_conf = NULL;
	api_stop_early = false;
	if (rc != 0) {
		errno = EBUSY;
		return -1;
	}
	return 0;
}

int
ph_lcore_index(void)
{
	struct ph_lcore *lc = api_host ? ph_host_this_lcore(api_host) : NULL;

	return lc ? lc->index : -1;
}

unsigned
ph_lcore_count(void)
{
	return api_host ? api_host->n_lcores : 0;
}

unsigned
ph_worker_count(void)
{
	return api_host ? api_host->n_workers : 0;
}

int
ph_ctx_set(int ctx)
{
	if (api_host == NULL) {
		errno = ENODEV;
		return -1;
	}
	if (ctx < 0 || ctx >= PH_MAX_CTX || api_host->ctxs[ctx] == NULL) {
		errno = ENODEV;
		return -1;
	}
	api_thread_ctx = (uint16_t)ctx;
	return 0;
}

int
ph_ctx_get(void)
{
	return api_thread_ctx;
}

int
ph_ctx_lookup(const char *name)
{
	if (api_host == NULL) {
		errno = ENODEV;
		return -1;
	}
	int ctx = name != NULL ? ctx_find(api_host, name, strlen(name)) : -1;

	if (ctx < 0)
		errno = ENOENT;
	return ctx;
}

int
ph_counter(const char *name, uint64_t *value)
{
	if (api_host == NULL) {
		errno = ENODEV;
		return -1;
	}
	for (unsigned k = 0; k < PH_CTR_FAMILIES; k++) {
		const struct ph_ctr_family *f = &ph_ctr_families[k];

		for (unsigned i = 1; i < f->n; i++)
			if (strcmp(f->names[i], name) == 0) {
				*value = ph_host_ctr_sum(api_host, -1, f, i);
				return 0;
			}
	}
	errno = ENOENT;
	return -1;
}
