/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ph-echo: an echo server (RFC 862) over UDP or TCP on polyhost, and a
 * client that checks every echoed byte. Built on the public API only
 * (<polyhost/polyhost.h>).
 *
 *   ph-echo -c CONFIG [-- ] [--tcp] [-a ADDR] [-p PORT] [-x CONTEXT] [--discard]
 *           [--copy] [--rcvbuf BYTES]
 *   ph-echo -c CONFIG [-- ] [--tcp] --client ADDR:PORT [-n COUNT] [--min N] [--max N]
 *           [--window N] [--timeout MS] [--wait MS] [--conns N] [-x CONTEXT]
 *
 * Over TCP the client opens --conns connections and sends COUNT messages of
 * --min..--max bytes on each, at most --window of them unechoed at a time
 * (--window 1: request/response), then shuts its side down and expects every
 * byte back, in order, before the server's FIN.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	bool tcp;
	unsigned conns; /* TCP connections */
	/* results (TCP: messages sent, bytes echoed, bytes corrupted, bytes lost) */
	uint64_t sent, echoed, bad, lost;
	uint64_t sent_bytes, elapsed_ms;
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
	        "  --tcp          echo over TCP instead of UDP (server and client)\n"
	        "client:\n"
	        "  --client ADDR:PORT  send datagrams to an echo server and check the echoes\n"
	        "  -n COUNT       datagrams (default 1000)\n"
	        "  --min N, --max N    payload sizes, uniformly random in [N, M] (default "
	        "1..1400)\n"
	        "  --window N     datagrams in flight (default 16)\n"
	        "  --timeout MS   a datagram not echoed within MS is lost (default 1000)\n"
	        "  --wait MS      before the run, probe until the server answers, at most MS\n"
	        "                 (default 10000)\n"
	        "  --conns N      TCP: connections, each sending COUNT messages (default 1)\n"
	        "  TCP: --window is messages unechoed per connection, --timeout MS the longest\n"
	        "  time without progress (default 10000)\n",
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
	*s = (struct slot){.seq = seq, .len = len, .sent_ms = svc_now_ms(), .busy = true};
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
	uint64_t t0 = svc_now_ms(), last = 0;
	uint8_t in[64];

	while (!ph_stopping() && svc_now_ms() - t0 <= c->wait_ms) {
		ssize_t n;

		if (svc_now_ms() - last >= 200) {
			last = svc_now_ms();
			if (ph_send(fd, &probe, sizeof(probe), 0) < 0 && errno != ECONNREFUSED) {
				fprintf(stderr, "ph-echo: client: send: %s\n", strerror(errno));
				return -1;
			}
		}
		n = ph_recv(fd, in, sizeof(in), MSG_DONTWAIT);
		if (n == (ssize_t)sizeof(probe) && memcmp(in, &probe, sizeof(probe)) == 0)
			return (int64_t)(svc_now_ms() - t0);
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
		uint64_t t = svc_now_ms();
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

/* ---- TCP client ---- */

/* Byte OFF of connection FLOW's stream: what its echo must give back. */
static uint8_t
stream_byte(unsigned flow, uint64_t off)
{
	return (uint8_t)(flow * 7u + off * 13u + (off >> 8) + (off >> 19));
}

struct tcp_flow {
	int fd; /* -1 once done */
	unsigned id;
	uint64_t msgs;     /* messages started */
	uint64_t msg_left; /* bytes of the current message still to send */
	uint64_t sent;     /* bytes sent */
	uint64_t echoed;   /* bytes back and checked */
	uint64_t *ends;    /* ring of --window: where the unechoed messages end */
	unsigned head, n_ends;
	uint32_t watching;
	bool shut; /* everything sent, write side shut down */
};

/* Connect to SIN, retrying while the server refuses or does not answer,
 * for WAIT_MS at most. The connected socket, or -1. */
static int
tcp_connect(const struct client *c, const struct sockaddr_in *sin, int ep)
{
	uint64_t t0 = svc_now_ms();
	int err = ETIMEDOUT;

	while (!ph_stopping() && svc_now_ms() - t0 <= c->wait_ms) {
		int fd = ph_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		struct epoll_event e = {.events = EPOLLOUT};
		uint64_t t;

		if (fd < 0)
			return -1;
		if (ph_connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) == 0)
			return fd;
		err = errno;
		if (err == EINPROGRESS && ph_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == 0) {
			/* Connected or failed: EPOLLOUT, then SO_ERROR says which. */
			socklen_t len = sizeof(err);

			while (svc_now_ms() - t0 <= c->wait_ms &&
			       ph_epoll_wait(ep, &e, 1, 100) == 0)
				;
			ph_epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			if (ph_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				err = errno;
			else if (err == 0 && (e.events & EPOLLOUT))
				return fd;
			else if (err == 0)
				err = ETIMEDOUT;
		}
		ph_close(fd);
		/* The server may not be up yet: try again in a while. */
		for (t = svc_now_ms(); svc_now_ms() - t < 200 && !ph_stopping();)
			ph_poll();
	}
	errno = err;
	return -1;
}

static void
tcp_flow_end(struct client *c, struct tcp_flow *f)
{
	c->lost += f->sent - (f->echoed < f->sent ? f->echoed : f->sent);
	ph_close(f->fd);
	f->fd = -1;
}

/* Read and check what came back. */
static void
tcp_flow_recv(struct client *c, struct tcp_flow *f, uint8_t *in, size_t size)
{
	for (int i = 0; i < 16 && f->fd >= 0; i++) {
		ssize_t n = ph_recv(f->fd, in, size, 0);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* The server's FIN: complete only after our own and every
			 * byte back. */
			if (n < 0 || !f->shut || f->echoed != f->sent) {
				fprintf(stderr,
				        "ph-echo: client: connection %u: %s after %" PRIu64
				        " of %" PRIu64 " bytes\n",
				        f->id, n < 0 ? strerror(errno) : "closed by the server",
				        f->echoed, f->sent);
				c->rc = 1;
			}
			tcp_flow_end(c, f);
			return;
		}
		for (ssize_t k = 0; k < n; k++)
			if (in[k] != stream_byte(f->id, f->echoed + (uint64_t)k))
				c->bad++;
		f->echoed += (uint64_t)n;
		c->echoed += (uint64_t)n;
		if (f->echoed > f->sent) /* more than was sent: corrupt */
			c->bad += f->echoed - f->sent;
		while (f->n_ends > 0 && f->ends[f->head] <= f->echoed) {
			f->head = (f->head + 1) % c->window;
			f->n_ends--;
		}
	}
}

/* Send while the window and the socket allow; shut down when all is sent. */
static void
tcp_flow_send(struct client *c, struct tcp_flow *f, uint8_t *out, size_t size)
{
	while (f->fd >= 0 && !f->shut) {
		uint64_t k;
		ssize_t n;

		if (f->msg_left == 0) {
			uint32_t len;

			if (f->msgs == c->count) {
				if (ph_shutdown(f->fd, SHUT_WR) < 0) {
					fprintf(stderr, "ph-echo: client: shutdown: %s\n",
					        strerror(errno));
					c->rc = 1;
					tcp_flow_end(c, f);
					return;
				}
				f->shut = true;
				return;
			}
			if (f->n_ends == c->window)
				return;
			len = c->min +
			      (c->max > c->min ? arc4random_uniform(c->max - c->min + 1) : 0);
			if (len == 0)
				len = 1; /* an empty message would never be echoed */
			f->msgs++;
			c->sent++;
			f->msg_left = len;
			f->ends[(f->head + f->n_ends++) % c->window] = f->sent + len;
		}
		k = f->msg_left < size ? f->msg_left : size;
		for (uint64_t i = 0; i < k; i++)
			out[i] = stream_byte(f->id, f->sent + i);
		n = ph_send(f->fd, out, k, 0);
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			fprintf(stderr, "ph-echo: client: connection %u: send: %s\n", f->id,
			        strerror(errno));
			c->rc = 1;
			tcp_flow_end(c, f);
			return;
		}
		f->sent += (uint64_t)n;
		f->msg_left -= (uint64_t)n;
		c->sent_bytes += (uint64_t)n;
	}
}

/* EPOLLOUT only while there is something the window lets us send. */
static void
tcp_flow_watch(const struct client *c, struct tcp_flow *f, int ep)
{
	uint32_t want = EPOLLIN;
	struct epoll_event e;

	if (f->fd < 0)
		return;
	if (!f->shut && (f->msg_left > 0 || f->n_ends < c->window || f->msgs == c->count))
		want |= EPOLLOUT;
	if (want == f->watching)
		return;
	e = (struct epoll_event){.events = want, .data.u32 = f->id};
	if (ph_epoll_ctl(ep, EPOLL_CTL_MOD, f->fd, &e) == 0)
		f->watching = want;
}

static int
tcp_client_worker(void *arg)
{
	struct client *c = arg;
	struct sockaddr_in sin = {
	        .sin_family = AF_INET,
	        .sin_port = htons(c->port),
	        .sin_addr.s_addr = htonl(c->ip),
	};
	static uint8_t out[65536], in[65536];
	struct tcp_flow *flows;
	uint64_t t0, last, moved = 0;
	unsigned open = 0;
	int ep;

	/* Only the first worker is the client; the others keep polling. */
	if (ph_lcore_index() != (ph_lcore_count() == 1 ? 0 : 1))
		return 0;
	flows = calloc(c->conns, sizeof(*flows));
	ep = ph_epoll_create1(0);
	if (flows == NULL || ep < 0) {
		fprintf(stderr, "ph-echo: client: %s\n", strerror(errno));
		c->rc = 1;
		free(flows);
		ph_stop();
		return 1;
	}
	/* Every flow not connected yet has no descriptor (0 is a valid one). */
	for (unsigned i = 0; i < c->conns; i++)
		flows[i] = (struct tcp_flow){.fd = -1, .id = i, .watching = EPOLLIN | EPOLLOUT};
	for (unsigned i = 0; i < c->conns; i++) {
		struct tcp_flow *f = &flows[i];
		struct epoll_event e = {.events = EPOLLIN | EPOLLOUT, .data.u32 = i};

		f->ends = calloc(c->window, sizeof(*f->ends));
		if (f->ends == NULL || (f->fd = tcp_connect(c, &sin, ep)) < 0 ||
		    ph_epoll_ctl(ep, EPOLL_CTL_ADD, f->fd, &e) < 0) {
			fprintf(stderr, "ph-echo: client: connection %u to %s:%u: %s\n", i,
			        inet_ntoa(sin.sin_addr), c->port, strerror(errno));
			c->rc = 1;
			break;
		}
		open++;
	}
	if (c->rc == 0) {
		printf("ph-echo: client: %u tcp connections up\n", c->conns);
		fflush(stdout);
	}
	t0 = last = svc_now_ms();
	while (c->rc == 0 && open > 0) {
		struct epoll_event ev[64];
		int n = ph_epoll_wait(ep, ev, 64, 100);
		uint64_t before = c->sent_bytes + c->echoed;

		if (n < 0)
			break; /* stopped */
		for (int i = 0; i < n; i++) {
			struct tcp_flow *f = &flows[ev[i].data.u32];

			/* Echoes first: they open the window for more. */
			tcp_flow_recv(c, f, in, sizeof(in));
			tcp_flow_send(c, f, out, sizeof(out));
			tcp_flow_watch(c, f, ep);
			if (f->fd < 0)
				open--;
		}
		moved = c->sent_bytes + c->echoed - before;
		if (moved > 0) {
			last = svc_now_ms();
		} else if (svc_now_ms() - last > c->timeout_ms) {
			fprintf(stderr, "ph-echo: client: no progress for %u ms\n", c->timeout_ms);
			c->rc = 1;
		}
	}
	c->elapsed_ms = svc_now_ms() - t0;
	for (unsigned i = 0; i < c->conns; i++) {
		if (flows[i].fd >= 0)
			tcp_flow_end(c, &flows[i]);
		free(flows[i].ends);
	}
	free(flows);
	ph_close(ep);
	ph_stop();
	return 0;
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
	        {"tcp", no_argument, NULL, 'T'},
	        {"conns", required_argument, NULL, 'N'},
	        {NULL, 0, NULL, 0},
	};
	static struct echo_config cfg;
	struct client cl = {.count = 1000,
	                    .min = 1,
	                    .max = 1400,
	                    .window = 16,
	                    .timeout_ms = 0,
	                    .wait_ms = 10000,
	                    .conns = 1};
	const char *ctx_name = NULL, *client = NULL;
	uint32_t ip = 0;
	uint16_t port = 7;
	int opt, rc;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout, argv[0]);
		return 0;
	}
	rc = svc_init("ph-echo", &argc, &argv);
	if (rc != 0)
		return rc;
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
		case 'T':
			cl.tcp = true;
			break;
		case 'N':
			cl.conns = (unsigned)atoi(optarg);
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
	if (optind != argc || (!cl.tcp && cl.max > 65507) || cl.min > cl.max || cl.window == 0 ||
	    cl.conns == 0 || cl.conns > 1024)
		goto bad;
	/* TCP retransmits (RFC 6298: the first RTO is a second): wait longer. */
	if (cl.timeout_ms == 0)
		cl.timeout_ms = cl.tcp ? 10000 : 1000;
	if (ctx_name != NULL && svc_set_ctx("ph-echo", "-x", ctx_name) < 0) {
		ph_fini(NULL);
		return 2;
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
		if (cl.tcp) {
			rc = ph_run(tcp_client_worker, &cl);
			printf("ph-echo: client: tcp: %u connections, sent %" PRIu64
			       " messages (%" PRIu64 " bytes), echoed %" PRIu64
			       " bytes, corrupted %" PRIu64 ", lost %" PRIu64 ", %" PRIu64
			       " ms, %.1f Mbit/s\n",
			       cl.conns, cl.sent, cl.sent_bytes, cl.echoed, cl.bad, cl.lost,
			       cl.elapsed_ms,
			       cl.elapsed_ms
			               ? (double)cl.echoed * 8 / 1000.0 / (double)cl.elapsed_ms
			               : 0.0);
			rc = rc || cl.rc || cl.bad || cl.lost || cl.echoed != cl.sent_bytes ||
			     cl.sent != cl.count * cl.conns;
		} else {
			rc = ph_run(client_worker, &cl);
			printf("ph-echo: client: sent %" PRIu64 ", echoed intact %" PRIu64
			       ", corrupted %" PRIu64 ", lost %" PRIu64 "\n",
			       cl.sent, cl.echoed, cl.bad, cl.lost);
			rc = rc || cl.rc || cl.bad || cl.lost || cl.echoed != cl.count;
		}
	} else {
		cfg.n_listen = 1;
		cfg.listen[0].proto = cl.tcp ? IPPROTO_TCP : IPPROTO_UDP;
		cfg.listen[0].ip = ip;
		cfg.listen[0].port = port;
		cfg.listen[0].ctx = ph_ctx_get();
		snprintf(cfg.listen[0].name, sizeof(cfg.listen[0].name), "ph-echo");
		printf("ph-echo: %s on %s port %u, context %d, %u worker lcores, %s\n",
		       cfg.listen[0].discard ? "discard" : "echo", cl.tcp ? "tcp" : "udp", port,
		       ph_ctx_get(), ph_worker_count(),
		       cl.tcp     ? "copying"
		       : cfg.copy ? "copying"
		                  : "zero-copy");
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
