/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp_upper: an application outside polyhost's tree, built only from what
 * `meson install` puts on the system (headers, libpolyhost.so, polyhost.pc):
 *
 *     cc -o udp_upper udp_upper.c $(pkg-config --cflags --libs polyhost)
 *     ./udp_upper -c host.ini --lcores 0 -- -p 5000
 *
 * It answers every UDP datagram on the port with the same bytes in upper
 * case. It owns its loop: one thread, one lcore, ph_poll() to move the
 * stack between its own calls (the other way in, ph_run(), is what ph-echo
 * uses). Its sockets sit at the top of the packet path: the NIC's burst has
 * gone through Ethernet, IPv4 and UDP inside ph_poll() before ph_recvfrom()
 * sees a datagram, and ph_sendto() goes back down the same way.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <polyhost/polyhost.h>

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
	static char buf[65536];
	unsigned long answered = 0;
	int used, opt, fd, rc = 0;
	unsigned port = 5000;

	used = ph_init(argc, argv);
	if (used < 0) {
		fprintf(stderr, "udp_upper: %s\n", ph_init_error());
		return 2;
	}
	/* What ph_init() did not take is ours: [--] [-p PORT]. */
	argv[used - 1] = argv[0];
	argc -= used - 1;
	argv += used - 1;
	while ((opt = getopt(argc, argv, "p:")) != -1) {
		if (opt != 'p' || (port = (unsigned)atoi(optarg)) == 0 || port > 65535) {
			fprintf(stderr, "usage: udp_upper -c CONFIG [--lcores 0] [--] [-p PORT]\n");
			ph_fini(NULL);
			return 2;
		}
	}
	/* A loop of its own drives one lcore; a host of several needs ph_run(). */
	if (ph_lcore_count() != 1) {
		fprintf(stderr, "udp_upper: runs on one lcore (give --lcores 0)\n");
		ph_fini(NULL);
		return 2;
	}
	ph_stop_on_signals();
	sin.sin_port = htons((uint16_t)port);
	fd = ph_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || ph_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "udp_upper: udp port %u: %s\n", port, strerror(errno));
		ph_fini(NULL);
		return 1;
	}
	printf("udp_upper: answering on udp port %u\n", port);
	fflush(stdout);
	while (ph_poll() >= 0) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = ph_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 0) {
			if (errno != EAGAIN)
				break; /* EINTR: stopping */
			/* Nothing to do: let the other core breathe. */
			nanosleep(&(struct timespec){.tv_nsec = 20000}, NULL);
			continue;
		}
		for (ssize_t i = 0; i < n; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		if (ph_sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) == n)
			answered++;
		else
			fprintf(stderr, "udp_upper: sendto: %s\n", strerror(errno));
	}
	printf("udp_upper: answered %lu datagrams\n", answered);
	ph_close(fd);
	if (ph_fini(stdout) < 0)
		rc = 1;
	return rc;
}
