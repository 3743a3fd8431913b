/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One listen() for the whole host (stack/tcp/tcp_share.h), through the public
 * API on a host of three lcores (the lead and two workers, on however many
 * CPUs there are) with a net_ring port: what a worker's descriptor of a
 * listener it did not create names, how the listener's options and
 * O_NONBLOCK reach every queue, what a worker's close and the owner's close
 * do, and that SO_REUSEPORT listeners stay on their lcore. The traffic side
 * (SYNs served by the worker that owns their flow) is tests/integration/
 * multicore.sh, with Linux as the peer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <polyhost/polyhost.h>

#define ADDR "198.18.0.2"

static char conf_path[] = "/tmp/ph-test-share-XXXXXX";

/* Set before ph_run(), read by the workers. */
static int lead_fd, reuse_fd;
/* The workers' findings, read after ph_run() (0: as expected). */
#define N_CHECKS 16
static atomic_int failed[N_CHECKS];
static const char *what[N_CHECKS];
/* Steps of the two workers. */
static atomic_int worker_fd = -1, blocked, done;

static void
expect(int i, const char *w, int cond)
{
	what[i] = w;
	if (!cond)
		atomic_fetch_add(&failed[i], 1);
}

/* -1 with errno E? */
static int
fails_with(int rc, int e)
{
	return rc == -1 && errno == e;
}

static struct sockaddr_in
sin_of(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, ADDR, &a.sin_addr);
	return a;
}

static int
listener(uint16_t port, int type, bool reuseport)
{
	struct sockaddr_in a = sin_of(port);
	int fd = ph_socket(AF_INET, type, 0), one = 1;

	if (fd < 0 || (reuseport && ph_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, 4) < 0) ||
	    ph_bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || ph_listen(fd, 8) < 0)
		return -1;
	return fd;
}

/* Turn the lcore's loop until FLAG is set (bounded: 10 s). */
static void
poll_until(atomic_int *flag)
{
	for (int i = 0; i < 10000 && !atomic_load(flag); i++) {
		ph_poll();
		usleep(1000);
	}
}

static int
worker(void *arg)
{
	int me = ph_lcore_index(), v = 0, fd;
	uint64_t n_refused = 1, n_full = 1;
	socklen_t vl = sizeof(v);
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	(void)arg;
	/* The lead's listener, on this worker: its own accept queue. */
	expect(0, "accept on a worker: its own queue, non-blocking as the descriptor",
	       fails_with(ph_accept(lead_fd, NULL, NULL), EAGAIN));
	expect(1, "getsockname on a worker: the listener's address",
	       ph_getsockname(lead_fd, (struct sockaddr *)&a, &al) == 0 &&
	               ntohs(a.sin_port) == 8080);
	expect(2, "an option set on the listener after listen() reached the queue",
	       ph_getsockopt(lead_fd, IPPROTO_TCP, TCP_NODELAY, &v, &vl) == 0 && v == 1);
	expect(3, "an SO_REUSEPORT listener stays on its lcore (EPERM elsewhere)",
	       fails_with(ph_accept(reuse_fd, NULL, NULL), EPERM));
	expect(4, "every queue opened (tcp_share_refused 0)",
	       ph_counter("tcp_share_refused", &n_refused) == 0 && n_refused == 0 &&
	               ph_counter("tcp_share_full", &n_full) == 0 && n_full == 0);

	if (me == 1) {
		/* Worker 1 gives up its queue: the descriptor is closed here only. */
		expect(5, "a worker's close of the descriptor: 0", ph_close(lead_fd) == 0);
		expect(6, "then accept on that worker: EBADF",
		       fails_with(ph_accept(lead_fd, NULL, NULL), EBADF));
		/* A blocking listener of worker 1's own, closed while worker 2
		 * waits in accept on it. */
		fd = listener(8082, SOCK_STREAM, false);
		expect(7, "a worker's listener", fd >= 0);
		atomic_store(&worker_fd, fd);
		poll_until(&blocked);
		for (int i = 0; i < 50; i++) {
			ph_poll();
			usleep(1000);
		}
		expect(8, "the owner's close: 0", ph_close(fd) == 0);
		poll_until(&done);
		ph_stop();
	} else {
		for (int i = 0; i < 10000 && atomic_load(&worker_fd) < 0; i++) {
			ph_poll();
			usleep(1000);
		}
		expect(9, "worker 2 still has its queue after worker 1 closed its own",
		       fails_with(ph_accept(lead_fd, NULL, NULL), EAGAIN));
		fd = atomic_load(&worker_fd);
		atomic_store(&blocked, 1);
		expect(10, "a blocking accept ends with EINVAL when the owner closes the listener",
		       fails_with(ph_accept(fd, NULL, NULL), EINVAL));
		expect(11, "and the descriptor names nothing here afterwards",
		       ph_accept(fd, NULL, NULL) == -1 && (errno == EBADF || errno == EPERM));
		atomic_store(&done, 1);
	}
	return 0;
}

static void
test_one_listen(void **state)
{
	char *argv[] = {(char *)"test_share", (char *)"-c", conf_path, NULL};
	int one = 1;

	(void)state;
	assert_int_equal(ph_init(3, argv), 3);
	assert_int_equal(ph_worker_count(), 2);
	lead_fd = listener(8080, SOCK_STREAM | SOCK_NONBLOCK, false);
	assert_true(lead_fd >= 0);
	assert_int_equal(ph_setsockopt(lead_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	reuse_fd = listener(8081, SOCK_STREAM | SOCK_NONBLOCK, true);
	assert_true(reuse_fd >= 0);
	assert_int_equal(ph_run(worker, NULL), 0);
	for (int i = 0; i < N_CHECKS; i++) {
		if (what[i] == NULL)
			continue;
		printf("%s - %s\n", atomic_load(&failed[i]) ? "not ok" : "ok", what[i]);
		assert_int_equal(atomic_load(&failed[i]), 0);
	}
	assert_non_null(what[11]); /* worker 2 got to the end */
	assert_int_equal(ph_close(lead_fd), 0);
	assert_int_equal(ph_close(reuse_fd), 0);
	assert_int_equal(ph_fini(NULL), 0); /* every mbuf back */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_one_listen)};
	FILE *f;
	char dir[128];
	int fd = mkstemp(conf_path), rc;

	if (fd < 0 || (f = fdopen(fd, "w")) == NULL)
		return 1;
	/* Three lcores on the first two CPUs (or one): the functional case,
	 * never a measurement. */
	fprintf(f,
	        "[eal]\nargs = --no-huge -m 256 --no-pci --no-shconf "
	        "--file-prefix=ph-test-share-%d --log-level=4\nlcores = 0@0,1@%d,2@%d\n"
	        "[port r0]\ndevice = net_ring0\naddress = " ADDR "/24\n",
	        (int)getpid(), sysconf(_SC_NPROCESSORS_ONLN) > 1,
	        sysconf(_SC_NPROCESSORS_ONLN) > 1);
	fclose(f);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(conf_path);
	snprintf(dir, sizeof(dir), "rm -rf /var/run/dpdk/ph-test-share-%d", (int)getpid());
	if (system(dir) != 0)
		rc = 1;
	return rc;
}
