/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ph-echo: a UDP echo server (RFC 862) on polyhost, and a client that checks
 * every echoed byte. Built on the public API only (<polyhost/polyhost.h>).
 *
 *   ph-echo -c CONFIG [-- ] [-a ADDR] [-p PORT] [-x CONTEXT] [--discard] [--copy]
 *           [--rcvbuf BYTES]
 *   ph-echo -c CONFIG [-- ] --client ADDR:PORT [-n COUNT] [--min N] [--max N]
 *           [--window N] [--timeout MS] [--wait MS] [-x CONTEXT]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <polyhost/polyhost.h>

#include "common/echo_service.h"

struct client {
	uint32_t ip;
	uint16_t port;
	uint64_t count;
	uint32_t min, max;
	unsigned window;
	unsigned timeout_ms;
	unsigned wait_ms; /* for the path to come up before the run */
	int ctx;
	/* results */
	uint64_t sent, echoed, bad, lost;
	int rc;
};

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
	        "usage: %s -c CONFIG [--lcores L] [--] [options]\n"
	        "server (default):\n"
	        "  -a ADDR        listen address (default 0.0.0.0: every address of the context)\n"
	        "  -p PORT        UDP port (default 7)\n"
	        "  -x CONTEXT     routing context, by name or number (default: default)\n"
	        "  --discard      discard service (RFC 863) instead of echo\n"
	        "  --copy         copy through recvfrom/sendto instead of zero-copy buffers\n"
	        "  --rcvbuf BYTES SO_RCVBUF of the server sockets\n"
	        "client:\n"
	        "  --client ADDR:PORT  send datagrams to an echo server and check the echoes\n"
	        "  -n COUNT       datagrams (default 1000)\n"
	        "  --min N, --max N    payload sizes, uniformly random in [N, M] (default "
	        "1..1400)\n"
	        "  --window N     datagrams in flight (default 16)\n"
	        "  --timeout MS   a datagram not echoed within MS is lost (default 1000)\n"
	        "  --wait MS      before the run, probe until the server answers, at most MS\n"
	        "                 (default 10000)\n",
	        prog);
}

/* Payload byte I of datagram SEQ: the echo must give it back. */
static uint8_t
pattern(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 7u + i * 13u + (i >> 8));
}

/* Datagrams too short to carry their number are matched by length alone, so
 * their bytes must not depend on it. */
static uint32_t
pattern_seq(uint32_t seq, uint32_t len)
{
	return len >= 4 ? seq : 0;
}

/* The number of the warm-up probe: no datagram of the run carries it. */
#define PROBE_SEQ UINT32_MAX

struct slot {
	uint32_t seq, len;
	uint64_t sent_ms;
	bool busy;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
client_send(int fd, struct client *c, struct slot *s, uint32_t seq, uint8_t *buf)
{
	uint32_t len = c->min + (c->max > c->min ? arc4random_uniform(c->max - c->min + 1) : 0);

	for (uint32_t i = 0; i < len; i++)
		buf[i] = pattern(pattern_seq(seq, len), i);
	/* The first bytes say which datagram it is, when there is room. */
	if (len >= 4)
		memcpy(buf, &seq, 4);
	if (ph_send(fd, buf, len, 0) < 0)
		return -1;
	*s = (struct slot){.seq = seq, .len = len, .sent_ms = now_ms(), .busy = true};
	c->sent++;
	return 0;
}

static bool
client_check(const uint8_t *buf, uint32_t len, const struct slot *s)
{
	if (len != s->len)
		return false;
	for (uint32_t i = len >= 4 ? 4 : 0; i < len; i++)
		if (buf[i] != pattern(pattern_seq(s->seq, len), i))
			return false;
	return true;
}

/* Before the run, one probe at a time until the server answers: neighbour
 * resolution, a peer still being configured and a server still starting
 * cost probes, not datagrams of the run. Returns the milliseconds it took,
 * or -1 when WAIT_MS passed without an answer. */
static int64_t
client_path_up(int fd, const struct client *c)
{
	const uint32_t probe = PROBE_SEQ;
	uint64_t t0 = now_ms(), last = 0;
	uint8_t in[64];

	while (!ph_stopping() && now_ms() - t0 <= c->wait_ms) {
		ssize_t n;

		if (now_ms() - last >= 200) {
			last = now_ms();
			if (ph_send(fd, &probe, sizeof(probe), 0) < 0 && errno != ECONNREFUSED) {
				fprintf(stderr, "ph-echo: client: send: %s\n", strerror(errno));
				return -1;
			}
		}
		n = ph_recv(fd, in, sizeof(in), MSG_DONTWAIT);
		if (n == (ssize_t)sizeof(probe) && memcmp(in, &probe, sizeof(probe)) == 0)
			return (int64_t)(now_ms() - t0);
		if (n < 0)
			ph_poll();
	}
	return -1;
}

static int
client_worker(void *arg)
{
	struct client *c = arg;
	struct sockaddr_in sin = {
	        .sin_family = AF_INET,
	        .sin_port = htons(c->port),
	        .sin_addr.s_addr = htonl(c->ip),
	};
	static uint8_t out[65536], in[65536];
	struct slot *win = calloc(c->window, sizeof(*win));
	uint32_t next = 0;
	int64_t up;
	int fd;

	/* Only the first worker is the client; the others keep polling. */
	if (ph_lcore_index() != (ph_lcore_count() == 1 ? 0 : 1))
		return 0;
	fd = ph_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (win == NULL || fd < 0 || ph_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "ph-echo: client socket: %s\n", strerror(errno));
		c->rc = 1;
		ph_stop();
		free(win);
		return 1;
	}
	up = client_path_up(fd, c);
	if (up < 0) {
		fprintf(stderr, "ph-echo: client: no answer from the server within %u ms\n",
		        c->wait_ms);
		c->rc = 1;
		ph_close(fd);
		ph_stop();
		free(win);
		return 1;
	}
	printf("ph-echo: client: server answered after %" PRId64 " ms\n", up);
	fflush(stdout);
	while (!ph_stopping()) {
		uint64_t t = now_ms();
		unsigned busy = 0;
		ssize_t n;

		for (unsigned w = 0; w < c->window; w++) {
			struct slot *s = &win[w];

			if (s->busy && t - s->sent_ms > c->timeout_ms) {
				s->busy = false;
				c->lost++;
			}
			if (!s->busy && next < c->count && client_send(fd, c, s, next, out) == 0)
				next++;
			busy += s->busy;
		}
		if (busy == 0 && next >= c->count)
			break;
		n = ph_recv(fd, in, sizeof(in), MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN) {
				fprintf(stderr, "ph-echo: recv: %s\n", strerror(errno));
				c->bad++;
			}
			ph_poll();
			continue;
		}
		/* Which datagram: by its number, or (shorter than 4 bytes) by its length. */
		for (unsigned w = 0; w < c->window; w++) {
			struct slot *s = &win[w];
			uint32_t seq;

			if (!s->busy)
				continue;
			if (n >= 4) {
				memcpy(&seq, in, 4);
				if (seq != s->seq)
					continue;
			} else if ((uint32_t)n != s->len) {
				continue;
			}
			if (client_check(in, (uint32_t)n, s))
				c->echoed++;
			else
				c->bad++;
			s->busy = false;
			break;
		}
	}
	ph_close(fd);
	free(win);
	ph_stop();
	return 0;
}

static int
parse_ctx(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s != '\0' && *end == '\0')
		return (int)v;
	return ph_ctx_lookup(s);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"discard", no_argument, NULL, 'D'},
	        {"copy", no_argument, NULL, 'C'},
	        {"client", required_argument, NULL, 'K'},
	        {"min", required_argument, NULL, 'm'},
	        {"max", required_argument, NULL, 'M'},
	        {"window", required_argument, NULL, 'w'},
	        {"timeout", required_argument, NULL, 't'},
	        {"wait", required_argument, NULL, 'W'},
	        {"help", no_argument, NULL, 'h'},
	        {"rcvbuf", required_argument, NULL, 'R'},
	        {NULL, 0, NULL, 0},
	};
	static struct echo_config cfg;
	struct client cl = {.count = 1000,
	                    .min = 1,
	                    .max = 1400,
	                    .window = 16,
	                    .timeout_ms = 1000,
	                    .wait_ms = 10000};
	const char *ctx_name = NULL, *client = NULL;
	uint32_t ip = 0;
	uint16_t port = 7;
	int used, opt, rc;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout, argv[0]);
		return 0;
	}
	used = ph_init(argc, argv);
	if (used < 0) {
		fprintf(stderr, "ph-echo: %s\n", ph_init_error());
		return errno == EINVAL || errno == ENOENT ? 2 : 1;
	}
	/* What ph_init() left (after its "--", if any), behind the program name. */
	argv[used - 1] = argv[0];
	argc -= used - 1;
	argv += used - 1;
	while ((opt = getopt_long(argc, argv, "a:p:x:n:h", opts, NULL)) != -1) {
		struct in_addr a;

		switch (opt) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				goto bad;
			ip = ntohl(a.s_addr);
			break;
		case 'p':
			port = (uint16_t)atoi(optarg);
			break;
		case 'x':
			ctx_name = optarg;
			break;
		case 'D':
			cfg.listen[0].discard = true;
			break;
		case 'C':
			cfg.copy = true;
			break;
		case 'R':
			cfg.rcvbuf = atoi(optarg);
			break;
		case 'K':
			client = optarg;
			break;
		case 'n':
			cl.count = strtoull(optarg, NULL, 10);
			break;
		case 'm':
			cl.min = (uint32_t)atoi(optarg);
			break;
		case 'M':
			cl.max = (uint32_t)atoi(optarg);
			break;
		case 'w':
			cl.window = (unsigned)atoi(optarg);
			break;
		case 't':
			cl.timeout_ms = (unsigned)atoi(optarg);
			break;
		case 'W':
			cl.wait_ms = (unsigned)atoi(optarg);
			break;
		case 'h':
			usage(stdout, argv[0]);
			ph_fini(NULL);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc || cl.max > 65507 || cl.min > cl.max || cl.window == 0)
		goto bad;
	if (ctx_name != NULL) {
		int ctx = parse_ctx(ctx_name);

		if (ctx < 0 || ph_ctx_set(ctx) < 0) {
			fprintf(stderr, "ph-echo: -x %s: no such routing context\n", ctx_name);
			ph_fini(NULL);
			return 2;
		}
	}
	ph_stop_on_signals();
	if (client != NULL) {
		char host[64], *colon;
		struct in_addr a;

		snprintf(host, sizeof(host), "%s", client);
		colon = strrchr(host, ':');
		if (colon == NULL)
			goto bad;
		*colon = '\0';
		if (inet_pton(AF_INET, host, &a) != 1)
			goto bad;
		cl.ip = ntohl(a.s_addr);
		cl.port = (uint16_t)atoi(colon + 1);
		rc = ph_run(client_worker, &cl);
		printf("ph-echo: client: sent %" PRIu64 ", echoed intact %" PRIu64
		       ", corrupted %" PRIu64 ", lost %" PRIu64 "\n",
		       cl.sent, cl.echoed, cl.bad, cl.lost);
		rc = rc || cl.rc || cl.bad || cl.lost || cl.echoed != cl.count;
	} else {
		cfg.n_listen = 1;
		cfg.listen[0].ip = ip;
		cfg.listen[0].port = port;
		cfg.listen[0].ctx = ph_ctx_get();
		snprintf(cfg.listen[0].name, sizeof(cfg.listen[0].name), "ph-echo");
		printf("ph-echo: %s on udp port %u, context %d, %u worker lcores, %s\n",
		       cfg.listen[0].discard ? "discard" : "echo", port, ph_ctx_get(),
		       ph_worker_count(), cfg.copy ? "copying" : "zero-copy");
		fflush(stdout);
		rc = ph_run(echo_service_worker, &cfg);
	}
	if (ph_fini(stdout) < 0)
		rc = 1;
	return rc ? 1 : 0;
bad:
	usage(stderr, argv[0]);
	ph_fini(NULL);
	return 2;
}
