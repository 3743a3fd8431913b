/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ph-perf: TCP bulk, request/response and connection-rate (crr) traffic, and
 * UDP echo (--test udp against a server run with --udp), on polyhost, built
 * on the public API only (<polyhost/polyhost.h>). It sits
 * above the socket layer: every worker lcore runs its own ph_epoll_wait()
 * loop over non-blocking sockets it created (sockets belong to one lcore;
 * the server's listener is the host's, each worker accepting from its own
 * queue), and the lead lcore only does the host-wide work ph_run() gives it.
 *
 *   ph-perf -c CONFIG [--lcores L] [--] server [ADDR:]PORT [options]
 *   ph-perf -c CONFIG [--lcores L] [--] client ADDR:PORT [options]
 *   ph-perf gen --bytes N [--seed S]        the test pattern on stdout (no EAL)
 *   ph-perf sha256 [FILE]                   sha256 of FILE or stdin (no EAL)
 *
 * Between two ph-perf processes a 48-byte header opens each connection and
 * tells the server the test, so one server serves every kind; after a bulk
 * upload the server answers with a 48-byte trailer (bytes, pattern check,
 * sha256) so the client's exit status covers both ends. With --raw there is
 * neither: the stream is only data, for plain Linux peers (socat, nc).
 *
 * The data is a seeded pseudo-random pattern with a prime period, so both
 * ends can check every byte (cheap memcmp) and the sha256 of a stream can be
 * computed elsewhere (`ph-perf gen | sha256sum`).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <polyhost/polyhost.h>

/* Under callgrind (bench/run's instruction counts, started with
 * --collect-atstart=no) the server collects from its first event to the end
 * of its loop: neither start-up nor the idle polls before the client's
 * first packet are counted. Elsewhere the request is a no-op. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define PERF_TOGGLE_COLLECT() CALLGRIND_TOGGLE_COLLECT
#endif
#endif
#ifndef PERF_TOGGLE_COLLECT
#define PERF_TOGGLE_COLLECT() ((void)0)
#endif

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

/* ---- SHA-256 (FIPS 180-4), self-contained: no crypto library needed ---- */

struct sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	uint8_t buf[64];
	uint32_t fill;
};

static const uint32_t sha256_k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
};

static inline uint32_t
ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void
sha256_blocks_c(uint32_t h[8], const uint8_t *p, size_t n)
{
	for (; n > 0; n--, p += 64) {
		uint32_t w[64], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5],
		                g = h[6], hh = h[7];

		for (int i = 0; i < 16; i++)
			w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
			       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
		for (int i = 16; i < 64; i++) {
			uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);

			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		for (int i = 0; i < 64; i++) {
			uint32_t t1 = hh + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) +
			              ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
			uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) +
			              ((a & b) ^ (a & c) ^ (b & c));

			hh = g;
			g = f;
			f = e;
			e = d + t1;
			d = c;
			c = b;
			b = a;
			a = t1 + t2;
		}
		h[0] += a;
		h[1] += b;
		h[2] += c;
		h[3] += d;
		h[4] += e;
		h[5] += f;
		h[6] += g;
		h[7] += hh;
	}
}

#if defined(__x86_64__)
/* The SHA extensions hash about five times faster than the C rounds, which
 * matters when both ends hash a 1 GiB stream. The state lives in two vectors
 * in the order the instructions want: ABEF and CDGH, A in the top lane. */
__attribute__((target("sha,sse4.1,ssse3"))) static void
sha256_blocks_ni(uint32_t h[8], const uint8_t *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);
	__m128i cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B);
	__m128i abef = _mm_alignr_epi8(t, cdgh, 8);

	cdgh = _mm_blend_epi16(cdgh, t, 0xF0);
	for (; n > 0; n--, p += 64) {
		__m128i abef0 = abef, cdgh0 = cdgh, m[4];

		for (int i = 0; i < 4; i++)
			m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)),
			                        bswap);
		/* Four rounds per group; the message schedule runs three groups ahead. */
		for (int g = 0; g < 16; g++) {
			__m128i k = _mm_add_epi32(
			        m[g & 3], _mm_loadu_si128((const __m128i *)&sha256_k[4 * g]));

			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, k);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(k, 0x0E));
			if (g < 12) {
				__m128i w = _mm_sha256msg1_epu32(m[g & 3], m[(g + 1) & 3]);

				w = _mm_add_epi32(
				        w, _mm_alignr_epi8(m[(g + 3) & 3], m[(g + 2) & 3], 4));
				m[g & 3] = _mm_sha256msg2_epu32(w, m[(g + 3) & 3]);
			}
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	t = _mm_shuffle_epi32(abef, 0x1B);
	cdgh = _mm_shuffle_epi32(cdgh, 0xB1);
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, cdgh, 0xF0));
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(cdgh, t, 8));
}

static bool
cpu_has_sha(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
}
#endif

static void (*sha256_blocks)(uint32_t h[8], const uint8_t *p, size_t n) = sha256_blocks_c;

/* Pick the block function once, before any thread hashes. */
static void
sha256_setup(void)
{
#if defined(__x86_64__)
	if (cpu_has_sha() && getenv("PH_PERF_SHA_C") == NULL)
		sha256_blocks = sha256_blocks_ni;
#endif
}

static void
sha256_init(struct sha256 *s)
{
	static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(s->h, h0, sizeof(h0));
	s->len = 0;
	s->fill = 0;
}

static void
sha256_update(struct sha256 *s, const void *data, size_t n)
{
	const uint8_t *p = data;

	s->len += n;
	if (s->fill > 0) {
		size_t k = n < 64 - s->fill ? n : 64 - s->fill;

		memcpy(s->buf + s->fill, p, k);
		s->fill += (uint32_t)k;
		p += k;
		n -= k;
		if (s->fill < 64)
			return;
		sha256_blocks(s->h, s->buf, 1);
		s->fill = 0;
	}
	if (n >= 64) {
		sha256_blocks(s->h, p, n / 64);
		p += n & ~(size_t)63;
		n &= 63;
	}
	memcpy(s->buf, p, n);
	s->fill = (uint32_t)n;
}

static void
sha256_final(struct sha256 *s, uint8_t out[32])
{
	uint64_t bits = s->len * 8;
	uint8_t pad[72] = {0x80};
	size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;

	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_update(s, pad, padlen + 8);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (uint8_t)(s->h[i] >> (24 - 8 * j));
}

static void
hex32(const uint8_t sum[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", sum[i]);
}

static int
unhex32(const char *s, uint8_t out[32])
{
	if (strlen(s) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* ---- the data: a seeded pattern, or a file ---- */

/* A prime period: a stream shifted by a power-of-two amount (a buffer or a
 * window size: the usual TCP reassembly mistakes) never matches itself. */
#define PATTERN_PERIOD 1048573u

struct source {
	const uint8_t *data;
	size_t period; /* byte I of the stream is data[I % period] */
	uint64_t seed;
	bool pattern;
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
pattern_make(struct source *s, uint64_t seed)
{
	uint8_t *d = malloc(PATTERN_PERIOD);
	uint64_t x = seed, v = 0;

	if (d == NULL)
		return -1;
	for (size_t i = 0; i < PATTERN_PERIOD; i++) {
		if (i % 8 == 0)
			v = splitmix64(&x);
		d[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
	*s = (struct source){.data = d, .period = PATTERN_PERIOD, .seed = seed, .pattern = true};
	return 0;
}

/* Patterns by seed, shared by the lcores: a server meets the seed of each
 * client in its header. A handful is plenty; each costs 1 MiB. */
#define MAX_PATTERNS 16
static struct source patterns[MAX_PATTERNS];
static unsigned n_patterns;
static pthread_mutex_t pattern_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct source *
pattern_get(uint64_t seed)
{
	const struct source *s = NULL;

	pthread_mutex_lock(&pattern_lock);
	for (unsigned i = 0; i < n_patterns && s == NULL; i++)
		if (patterns[i].seed == seed)
			s = &patterns[i];
	if (s == NULL && n_patterns < MAX_PATTERNS &&
	    pattern_make(&patterns[n_patterns], seed) == 0)
		s = &patterns[n_patterns++];
	pthread_mutex_unlock(&pattern_lock);
	return s;
}

static int
file_source(struct source *s, const char *path)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "ph-perf: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		fprintf(stderr, "ph-perf: %s: empty file\n", path);
		close(fd);
		return -1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "ph-perf: %s: mmap: %s\n", path, strerror(errno));
		return -1;
	}
	*s = (struct source){.data = p, .period = (size_t)st.st_size};
	return 0;
}

/* The offset of the first byte of P (stream offset OFF) that differs from
 * the source, or UINT64_MAX when all N match. */
static uint64_t
source_mismatch(const struct source *s, uint64_t off, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t o = (size_t)(off % s->period), k = s->period - o < n ? s->period - o : n;

		if (memcmp(s->data + o, p, k) != 0)
			for (size_t i = 0; i < k; i++)
				if (s->data[o + i] != p[i])
					return off + i;
		off += k;
		p += k;
		n -= k;
	}
	return UINT64_MAX;
}

/* ---- small helpers ---- */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "64M", "1G", "1500": K, M, G, T are powers of 1024. */
static int
parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0 || *s == '-')
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (shift > 0)
		end++;
	if (*end != '\0' || (shift > 0 && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (parse_size(s, &v) < 0 || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_addr(const char *s, bool need_ip, uint32_t *ip, uint16_t *port)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	struct in_addr a;
	uint32_t p;

	if (colon == NULL) {
		if (need_ip)
			return -1;
		*ip = 0;
		return parse_u32(s, 1, 65535, &p) < 0 ? -1 : (*port = (uint16_t)p, 0);
	}
	if ((size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (inet_pton(AF_INET, host, &a) != 1 || parse_u32(colon + 1, 1, 65535, &p) < 0)
		return -1;
	*ip = a.s_addr;
	*port = (uint16_t)p;
	return 0;
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ---- latency histogram: log-linear, 32 steps per power of two (< 3.2%) ---- */

#define HIST_SUB     5
#define HIST_BUCKETS (64 << HIST_SUB)

struct hist {
	uint64_t n, sum, max;
	uint64_t b[HIST_BUCKETS];
};

static unsigned
hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < (2u << HIST_SUB))
		return (unsigned)v;
	msb = 63 - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB;
	return (shift << HIST_SUB) + (unsigned)(v >> shift);
}

/* The middle of bucket I. */
static double
hist_value(unsigned i)
{
	unsigned shift;

	if (i < (2u << HIST_SUB))
		return i;
	shift = (i >> HIST_SUB) - 1;
	return ((double)((i & ((1u << HIST_SUB) - 1)) + (1u << HIST_SUB)) + 0.5) *
	       (double)(1ULL << shift);
}

static void
hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->n++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

static void
hist_merge(struct hist *to, const struct hist *from)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		to->b[i] += from->b[i];
	to->n += from->n;
	to->sum += from->sum;
	if (from->max > to->max)
		to->max = from->max;
}

/* The value below which a fraction Q of the samples fall (ns). */
static double
hist_quantile(const struct hist *h, double q)
{
	uint64_t rank = (uint64_t)ceil(q * (double)h->n), seen = 0;

	if (h->n == 0)
		return 0;
	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank)
			return hist_value(i) < (double)h->max ? hist_value(i) : (double)h->max;
	}
	return (double)h->max;
}

/* ---- the wire: header (client to server) and trailer (server to client) ---- */

#define HDR_MAGIC   0x50485046u /* "PHPF" */
#define TRL_MAGIC   0x50485054u /* "PHPT" */
#define HDR_VERSION 1
#define HDR_LEN     48
#define TRL_LEN     48

/* crr: connect, one request/response, close; again, per connection slot. */
/* udp: datagrams echoed by the server (--udp), WINDOW outstanding per socket;
 * no header, no connection: it never reaches the server's TCP side. */
enum test_kind {
	TEST_BULK = 1,
	TEST_RR = 2,
	TEST_CRR = 3,
	TEST_UDP = 4,
	TEST_HTTP = 5,
	TEST_HTTP_CLOSE = 6
};

/* Request/response, one connection or one per transaction. */
static bool
is_rr(int test)
{
	return test == TEST_RR || test == TEST_CRR;
}

/* The name a result line gives a test (not raw, header read). */
static const char *
kind_name(int test, bool reverse)
{
	return test == TEST_RR           ? "rr"
	       : test == TEST_CRR        ? "crr"
	       : test == TEST_UDP        ? "udp"
	       : test == TEST_HTTP       ? "http"
	       : test == TEST_HTTP_CLOSE ? "http-close"
	       : reverse                 ? "bulk-reverse"
	                                 : "bulk";
}

/* Header flags. */
#define HF_REVERSE 0x01 /* the server sends */
#define HF_HASH    0x02 /* the receiver hashes the stream */
#define HF_VERIFY  0x04 /* the stream is the seeded pattern: check every byte */
#define HF_LAST    0x08 /* crr: the last connection of its slot (ends the test) */

/* Trailer flags. */
#define TF_CHECKED 0x01 /* every byte was compared with the pattern */
#define TF_BAD     0x02 /* and one differed */
#define TF_HASH    0x04 /* the sha256 field is valid */

/*
 * Header, all fields big-endian:
 *   0 magic  4 version  5 test  6 flags  7 zero  8 test id  12 conns
 *  14 conn index  16 bytes the sender sends (0: until the duration ends)
 *  24 duration ms (0: none)  28 request size  32 response size  36 zero
 *  40 pattern seed
 * Trailer: 0 magic  4 flags  8 bytes received  16 sha256 of them.
 */
struct hdr {
	uint8_t test, flags;
	uint32_t id;
	uint16_t conns, idx;
	uint64_t bytes;
	uint32_t duration_ms, req, resp;
	uint64_t seed;
};

static void
hdr_encode(const struct hdr *h, uint8_t *p)
{
	memset(p, 0, HDR_LEN);
	put32(p, HDR_MAGIC);
	p[4] = HDR_VERSION;
	p[5] = h->test;
	p[6] = h->flags;
	put32(p + 8, h->id);
	p[12] = (uint8_t)(h->conns >> 8);
	p[13] = (uint8_t)h->conns;
	p[14] = (uint8_t)(h->idx >> 8);
	p[15] = (uint8_t)h->idx;
	put64(p + 16, h->bytes);
	put32(p + 24, h->duration_ms);
	put32(p + 28, h->req);
	put32(p + 32, h->resp);
	put64(p + 40, h->seed);
}

static int
hdr_decode(const uint8_t *p, struct hdr *h)
{
	if (get32(p) != HDR_MAGIC || p[4] != HDR_VERSION)
		return -1;
	h->test = p[5];
	h->flags = p[6];
	h->id = get32(p + 8);
	h->conns = (uint16_t)(p[12] << 8 | p[13]);
	h->idx = (uint16_t)(p[14] << 8 | p[15]);
	h->bytes = get64(p + 16);
	h->duration_ms = get32(p + 24);
	h->req = get32(p + 28);
	h->resp = get32(p + 32);
	h->seed = get64(p + 40);
	if ((h->test != TEST_BULK && !is_rr(h->test)) || h->conns == 0 ||
	    (is_rr(h->test) && (h->req == 0 || h->resp == 0)))
		return -1;
	return 0;
}

/* ---- options ---- */

struct opts {
	bool server, raw, reverse, hash, json, verbose, sink, reuseport;
	bool udp_echo;    /* server: echo UDP datagrams on PORT too */
	uint32_t window;  /* udp client: datagrams outstanding per socket */
	const char *path; /* http client: what to GET */
	int verify;       /* -1: on between ph-perf ends, off with --raw */
	int nodelay;      /* TCP_NODELAY; -1: on for rr, off for bulk */
	int test;
	uint32_t ip; /* network order */
	uint16_t port;
	unsigned conns;
	uint64_t bytes; /* 0: not given */
	double seconds; /* 0: not given */
	uint64_t transactions;
	uint32_t req, resp;
	uint64_t seed;
	uint64_t source; /* raw server: bytes sent to each client */
	bool source_set;
	const char *file;
	bool has_expect;
	uint8_t expect[32];
	unsigned count; /* server: exit after COUNT tests; 0: until a signal */
	unsigned wait_ms, timeout_s;
	uint32_t chunk;
	uint32_t sndbuf, rcvbuf;
};

/* ---- connections ---- */

enum phase { PH_CONNECT, PH_RETRY, PH_HDR_TX, PH_HDR_RX, PH_RUN, PH_DONE };

struct test_rec;
struct worker;

struct conn {
	struct worker *w;
	struct test_rec *rec; /* server: the test this connection belongs to */
	struct conn *next;    /* server: the worker's list */
	int fd;
	unsigned idx;
	enum phase phase;
	uint32_t events; /* what epoll watches now */
	bool client, raw;
	uint8_t test, flags;
	/* what this end does in PH_RUN */
	uint64_t tx_goal;   /* payload to send; UINT64_MAX: until the deadline */
	uint64_t rx_expect; /* payload the peer should send; UINT64_MAX: unknown */
	uint64_t deadline;  /* ns; 0: none */
	uint64_t trans_goal;
	uint32_t req, resp;
	bool rx_trailer;   /* client of a bulk upload: what comes back is the trailer */
	bool send_trailer; /* server of a bulk upload: answer the trailer at EOF */
	const struct source *src;
	const struct source *check; /* what the received stream must be; NULL: unchecked */
	bool hash_tx, hash_rx;
	struct hdr hdr;
	/* progress */
	uint64_t tx_off, rx_off, trans;
	bool tx_fin, rx_eof;
	uint32_t rr_left;
	bool rr_tx;
	uint64_t rr_t0;
	uint8_t msg[64]; /* header or trailer, in or out */
	uint32_t msg_off, msg_len;
	struct sha256 txh, rxh;
	uint64_t bad_at;   /* first byte that differed from the pattern; UINT64_MAX: none */
	char bad_what[96]; /* what came instead */
	/* results */
	uint64_t t_start, t_end, t_open, retry_at, last_io;
	uint32_t peer_flags;
	uint64_t peer_bytes;
	uint8_t peer_sum[32];
	bool have_sum;
	uint8_t sum[32]; /* of the data stream: what was received, or what was sent */
	uint32_t peer_ip;
	uint16_t peer_port;
	bool failed;
	char why[160];
};

/* One per worker lcore. Only that lcore touches it while ph_run() runs; the
 * main thread reads the totals after ph_run() has returned. */
struct worker {
	const struct opts *o;
	unsigned idx;
	int ep, lfd;
	struct conn *conns; /* client: this worker's */
	unsigned n_conns, active;
	struct conn *list; /* server: live connections */
	uint8_t *buf;
	size_t buf_len;
	uint64_t t_begin;
	struct hist lat;
	uint64_t tx_bytes, rx_bytes, trans;
	uint64_t t_first, t_last;
	uint64_t accepted;   /* server */
	int udp_fd;          /* server --udp: the worker's echo socket */
	uint64_t udp_echoed; /* server */
	uint64_t udp_lost;   /* server: echoes not sent; client: datagrams given up */
	unsigned done, failed;
	int rc;
};

/* Shared by the lcores of one run. Set up by the main thread before
 * ph_run() and read-only afterwards, but for the three atomics. */
struct run {
	struct opts *o;
	struct worker *workers;
	unsigned n_workers;
	atomic_uint left;      /* client: workers still running; each decrements once */
	atomic_uint listening; /* server: workers whose listener is up; each increments once */
	atomic_ullong stop_at; /* server: ns after which every worker stops (0: not yet);
	                        * written under rec_lock by the lcore ending the last test */
	struct source src;     /* the client's (or raw server's) data */
	const struct source *pattern;
	uint32_t test_id;
};

static struct run the_run;

static void conn_arm(struct conn *c);
static struct test_rec *rec_get(uint32_t id, bool alone, const struct conn *c);
static void conn_finish(struct conn *c);
static void crr_next(struct conn *c);

/* Take the connection's socket out of the worker's epoll and close it. */
static void
conn_close_fd(struct conn *c)
{
	ph_epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
	ph_close(c->fd);
	c->fd = -1;
	c->events = 0;
}

static void
conn_fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return;
	c->failed = true;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	/* Abort (RST) rather than close: a peer waiting for the rest of the
	 * stream learns at once that it will not come. */
	if (c->fd >= 0) {
		struct linger l = {.l_onoff = 1, .l_linger = 0};

		ph_setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	conn_finish(c);
}

static bool
deadline_passed(const struct conn *c, uint64_t now)
{
	return c->deadline != 0 && now >= c->deadline;
}

/* Results of one I/O call. */
enum io { IO_MOVED, IO_AGAIN, IO_EOF, IO_FAILED };

static enum io
io_errno(struct conn *c, const char *what)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return IO_AGAIN;
	conn_fail(c, "%s: %s", what, strerror(errno));
	return IO_FAILED;
}

/* Send up to MAX payload bytes from the source at the stream offset. */
static enum io
tx_payload(struct conn *c, uint64_t max)
{
	size_t o = (size_t)(c->tx_off % c->src->period);
	size_t n = c->src->period - o;
	ssize_t r;

	if (n > max)
		n = (size_t)max;
	if (n > c->w->o->chunk)
		n = c->w->o->chunk;
	r = ph_send(c->fd, c->src->data + o, n, 0);
	if (r < 0)
		return io_errno(c, "send");
	if (c->hash_tx)
		sha256_update(&c->txh, c->src->data + o, (size_t)r);
	c->tx_off += (uint64_t)r;
	c->w->tx_bytes += (uint64_t)r;
	return IO_MOVED;
}

/* Say what arrived at the first wrong byte P (N bytes follow in the buffer):
 * with a prime period, 32 bytes of the pattern occur at one offset only, so
 * finding them tells a stream shifted by a reassembly mistake (and by how
 * much) from bytes that are not the pattern at all. */
static void
describe_mismatch(struct conn *c, const uint8_t *p, size_t n)
{
	const struct source *s = c->check;
	uint64_t want = c->bad_at % s->period;
	const uint8_t *hit;
	size_t k = n < 32 ? n : 32, zeros = 0;

	for (size_t i = 0; i < k; i++)
		zeros += p[i] == 0;
	if (k < 8) {
		snprintf(c->bad_what, sizeof(c->bad_what), "(only %zu bytes to compare)", k);
		return;
	}
	if (zeros == k) {
		snprintf(c->bad_what, sizeof(c->bad_what), "(%zu zero bytes there)", k);
		return;
	}
	hit = memmem(s->data, s->period, p, k);
	if (hit == NULL) {
		snprintf(c->bad_what, sizeof(c->bad_what),
		         "(not the pattern: %02x %02x %02x %02x ...)", p[0], p[1], p[2], p[3]);
		return;
	}
	/* The nearest copy of those bytes in the stream: the shift. */
	int64_t d = (int64_t)(uint64_t)(hit - s->data) - (int64_t)want;

	if (d > (int64_t)s->period / 2)
		d -= (int64_t)s->period;
	else if (d < -(int64_t)s->period / 2)
		d += (int64_t)s->period;
	snprintf(c->bad_what, sizeof(c->bad_what),
	         "(the stream's bytes from offset %" PRId64 " came there: %+" PRId64 ")",
	         (int64_t)c->bad_at + d, d);
}

/* Receive up to MAX payload bytes: checked against the pattern, hashed. */
static enum io
rx_payload(struct conn *c, uint64_t max)
{
	size_t n = c->w->buf_len < max ? c->w->buf_len : (size_t)max;
	ssize_t r = ph_recv(c->fd, c->w->buf, n, 0);

	if (r < 0)
		return io_errno(c, "recv");
	if (r == 0)
		return IO_EOF;
	if (c->check != NULL && c->bad_at == UINT64_MAX) {
		c->bad_at = source_mismatch(c->check, c->rx_off, c->w->buf, (size_t)r);
		if (c->bad_at != UINT64_MAX)
			describe_mismatch(c, c->w->buf + (c->bad_at - c->rx_off),
			                  (size_t)(c->rx_off + (uint64_t)r - c->bad_at));
	}
	if (c->hash_rx)
		sha256_update(&c->rxh, c->w->buf, (size_t)r);
	c->rx_off += (uint64_t)r;
	c->w->rx_bytes += (uint64_t)r;
	return IO_MOVED;
}

/* Send what is left of msg[] (header or trailer). */
static enum io
tx_msg(struct conn *c)
{
	ssize_t r = ph_send(c->fd, c->msg + c->msg_off, c->msg_len - c->msg_off, 0);

	if (r < 0)
		return io_errno(c, "send");
	c->msg_off += (uint32_t)r;
	return IO_MOVED;
}

/* Receive into msg[] up to LEN bytes. */
static enum io
rx_msg(struct conn *c, uint32_t len)
{
	ssize_t r;

	if (c->msg_off >= len) {
		/* Anything past the message is a protocol error; read one byte to see. */
		uint8_t x;

		r = ph_recv(c->fd, &x, 1, 0);
		if (r < 0)
			return io_errno(c, "recv");
		if (r == 0)
			return IO_EOF;
		conn_fail(c, "the peer sent more than the %u bytes expected", len);
		return IO_FAILED;
	}
	r = ph_recv(c->fd, c->msg + c->msg_off, len - c->msg_off, 0);
	if (r < 0)
		return io_errno(c, "recv");
	if (r == 0)
		return IO_EOF;
	c->msg_off += (uint32_t)r;
	return IO_MOVED;
}

static void
tx_shutdown(struct conn *c)
{
	if (ph_shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN)
		conn_fail(c, "shutdown: %s", strerror(errno));
	c->tx_fin = true;
}

/* One turn of a bulk transfer, either end, either direction; also the raw
 * modes. Returns true when something moved. */
static bool
run_bulk(struct conn *c, uint64_t now)
{
	bool moved = false;
	enum io r;

	if (c->tx_goal > 0 && !c->tx_fin) {
		if (c->tx_off < c->tx_goal && !deadline_passed(c, now)) {
			r = tx_payload(c, c->tx_goal - c->tx_off);
			if (r == IO_FAILED)
				return false;
			moved |= r == IO_MOVED;
		} else {
			tx_shutdown(c);
			moved = true;
		}
	}
	if (c->phase == PH_DONE)
		return false;
	if (!c->rx_eof) {
		r = c->rx_trailer ? rx_msg(c, TRL_LEN) : rx_payload(c, UINT64_MAX);
		if (r == IO_FAILED)
			return false;
		if (r == IO_EOF) {
			c->rx_eof = true;
			if (c->send_trailer) {
				uint32_t f = 0;

				if (c->check != NULL)
					f |= TF_CHECKED | (c->bad_at != UINT64_MAX ? TF_BAD : 0);
				if (c->hash_rx) {
					sha256_final(&c->rxh, c->sum);
					c->have_sum = true;
					memcpy(c->msg + 16, c->sum, 32);
					f |= TF_HASH;
				} else {
					memset(c->msg + 16, 0, 32);
				}
				put32(c->msg, TRL_MAGIC);
				put32(c->msg + 4, f);
				put64(c->msg + 8, c->rx_off);
				c->msg_off = 0;
				c->msg_len = TRL_LEN;
			}
		}
		moved |= r == IO_MOVED || r == IO_EOF;
	}
	if (c->send_trailer && c->rx_eof && c->msg_off < c->msg_len) {
		r = tx_msg(c);
		if (r == IO_FAILED)
			return false;
		moved |= r == IO_MOVED;
	}
	if (c->rx_eof && (c->tx_goal == 0 || c->tx_fin) && c->msg_off >= c->msg_len) {
		conn_finish(c);
		return false;
	}
	return moved;
}

/* Request/response accounting after MOVED bytes of the current request or
 * response. RR_TX says whether this end is sending: the client starts by
 * sending a request, the server by receiving one. */
static void
rr_account(struct conn *c, uint64_t moved, uint64_t now)
{
	c->rr_left -= (uint32_t)moved;
	if (c->rr_left > 0)
		return;
	if (c->rr_tx) {
		/* Client: the request is out, wait for the response. Server: the
		 * response is out, the transaction is over. */
		c->rr_tx = false;
		c->rr_left = c->client ? c->resp : c->req;
		if (!c->client) {
			c->trans++;
			c->w->trans++;
			if (c->test == TEST_CRR)
				conn_finish(c); /* one transaction per connection */
		}
		return;
	}
	if (!c->client) {
		c->rr_tx = true; /* the whole request is in: answer */
		c->rr_left = c->resp;
		return;
	}
	/* crr: the latency is the whole connection's, connect included. */
	hist_add(&c->w->lat, now - (c->test == TEST_CRR ? c->t_open : c->rr_t0));
	c->trans++;
	c->w->trans++;
	if (c->test == TEST_CRR) {
		/* The server closes first (as an HTTP server does after
		 * "Connection: close"), so TIME-WAIT stays at its end and the
		 * client's ports come free at once. */
		c->tx_fin = true;
		return;
	}
	if (c->trans >= c->trans_goal || deadline_passed(c, now)) {
		tx_shutdown(c);
		return;
	}
	c->rr_tx = true;
	c->rr_left = c->req;
	c->rr_t0 = now;
}

/* One turn of request/response: the client sends REQ bytes and waits for
 * RESP bytes back, one transaction outstanding; the server does the mirror
 * image. Both streams are the pattern, so an echo server is a valid peer
 * when REQ == RESP. Returns true when something moved. */
static bool
run_rr(struct conn *c, uint64_t now)
{
	uint64_t before;
	enum io r;

	if (c->tx_fin) {
		/* The client is done and waits for the server's EOF. */
		r = rx_payload(c, UINT64_MAX);
		if (r == IO_EOF) {
			c->rx_eof = true;
			if (c->test == TEST_CRR && !(c->hdr.flags & HF_LAST) &&
			    c->bad_at == UINT64_MAX)
				crr_next(c);
			else
				conn_finish(c);
		} else if (r == IO_MOVED) {
			conn_fail(c, "bytes after the last response");
		}
		return false;
	}
	if (c->rr_tx) {
		before = c->tx_off;
		r = tx_payload(c, c->rr_left);
		if (r != IO_MOVED)
			return false;
		rr_account(c, c->tx_off - before, now);
		return true;
	}
	before = c->rx_off;
	r = rx_payload(c, c->rr_left);
	if (r == IO_EOF) {
		c->rx_eof = true;
		if (!c->client && c->rr_left == c->req)
			conn_finish(c); /* the client ended between transactions */
		else
			conn_fail(c,
			          "the peer closed in the middle of a transaction (%u bytes short)",
			          c->rr_left);
		return false;
	}
	if (r != IO_MOVED)
		return false;
	/* The clock is read again: the latency ends when the response is in. */
	rr_account(c, c->rx_off - before, now_ns());
	return true;
}

/* Set up PH_RUN once the connection is up (client) or the header is in
 * (server). */
static void
conn_run_start(struct conn *c, uint64_t now)
{
	c->phase = PH_RUN;
	c->msg_off = c->msg_len = 0;
	if (is_rr(c->test)) {
		c->rr_tx = c->client; /* the client speaks first */
		c->rr_left = c->req;
		c->rr_t0 = now;
	}
	if (c->hdr.duration_ms > 0)
		c->deadline = now + (uint64_t)c->hdr.duration_ms * 1000000u;
	/* A crr client's slot started with its first connect. */
	if (c->t_start == 0 || c->test != TEST_CRR || !c->client)
		c->t_start = now;
}

static const char *
test_name(const struct conn *c)
{
	return c->raw ? "raw" : kind_name(c->test, c->flags & HF_REVERSE);
}

/* The server learned the test from the header. */
static int
server_setup(struct conn *c, const struct hdr *h)
{
	const struct opts *o = c->w->o;

	c->hdr = *h;
	c->test = h->test;
	c->flags = h->flags;
	c->req = h->req;
	c->resp = h->resp;
	c->src = pattern_get(h->seed);
	if (c->src == NULL)
		return -1;
	c->check = (h->flags & HF_VERIFY) ? c->src : NULL;
	c->hash_rx = (h->flags & HF_HASH) || o->hash || o->has_expect;
	c->hash_tx = c->hash_rx;
	if (is_rr(h->test)) {
		c->tx_goal = UINT64_MAX;
	} else if (h->flags & HF_REVERSE) {
		c->tx_goal = h->bytes > 0 ? h->bytes : UINT64_MAX;
		c->check = NULL; /* nothing comes but the client's EOF */
		c->hash_rx = false;
	} else {
		c->tx_goal = 0;
		c->rx_expect = h->bytes > 0 ? h->bytes : UINT64_MAX;
		c->send_trailer = true;
		c->hash_tx = false;
	}
	if (is_rr(h->test) && o->nodelay != 0) {
		int one = 1;

		ph_setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	c->idx = h->idx;
	c->rec = rec_get(h->id, false, c);
	return c->rec == NULL ? -1 : 0;
}

static void
conn_client_setup(struct conn *c, const struct run *r, uint64_t bytes, uint64_t trans)
{
	const struct opts *o = r->o;

	c->client = true;
	c->raw = o->raw;
	c->test = (uint8_t)o->test;
	c->req = o->req;
	c->resp = o->resp;
	c->src = &r->src;
	c->hash_tx = c->hash_rx = o->hash || o->has_expect;
	c->trans_goal = trans;
	c->flags = (o->reverse ? HF_REVERSE : 0) | (o->hash ? HF_HASH : 0);
	if (o->verify != 0 && r->src.pattern)
		c->flags |= HF_VERIFY;
	/* Between ph-perf ends the pattern is known to both; raw peers send
	 * anything unless --verify says it is our pattern. */
	c->check = (o->raw ? o->verify == 1 : o->verify != 0) ? r->pattern : NULL;
	if (is_rr(o->test)) {
		c->tx_goal = UINT64_MAX;
	} else if (o->reverse) {
		c->tx_goal = 0;
		c->rx_expect = bytes > 0 ? bytes : UINT64_MAX;
	} else {
		c->tx_goal = bytes > 0 ? bytes : UINT64_MAX;
		c->rx_trailer = !o->raw;
		c->check = NULL;
	}
	c->hdr = (struct hdr){
	        .test = c->test,
	        .flags = c->flags,
	        .id = r->test_id,
	        .conns = (uint16_t)o->conns,
	        .idx = (uint16_t)c->idx,
	        .bytes = bytes,
	        /* crr: the client keeps the time; each connection is one transaction. */
	        .duration_ms = o->test == TEST_CRR ? 0 : (uint32_t)(o->seconds * 1000),
	        .req = o->req,
	        .resp = o->resp,
	        .seed = r->src.seed,
	};
}

static void
conn_common_init(struct conn *c, struct worker *w)
{
	c->w = w;
	c->fd = -1;
	c->rx_expect = UINT64_MAX;
	c->bad_at = UINT64_MAX;
	sha256_init(&c->txh);
	sha256_init(&c->rxh);
}

static void
sock_bufs(const struct opts *o, int fd)
{
	int v = 1;

	/* Request/response wants each message out at once: Nagle would hold a
	 * request behind the unacknowledged header, for a delayed ACK. */
	if (o->nodelay == 1 || (o->nodelay == -1 && is_rr(o->test)))
		ph_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));

	if (o->sndbuf > 0) {
		v = (int)o->sndbuf;
		ph_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	}
	if (o->rcvbuf > 0) {
		v = (int)o->rcvbuf;
		ph_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	}
}

/* Client: start (or restart) the non-blocking connect. */
static void
conn_open(struct conn *c)
{
	const struct opts *o = c->w->o;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(o->port)};
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};

	sin.sin_addr.s_addr = o->ip;
	c->fd = ph_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		conn_fail(c, "socket: %s", strerror(errno));
		return;
	}
	sock_bufs(o, c->fd);
	c->phase = PH_CONNECT;
	c->t_open = c->last_io = now_ns();
	if (c->test == TEST_CRR) {
		/* The slot's clock starts with its first connect; the
		 * connection opened once the time is up (or the count is
		 * reached) is its last, and says so to the server. */
		if (c->t_start == 0) {
			c->t_start = c->t_open;
			if (o->seconds > 0)
				c->deadline = c->t_open + (uint64_t)(o->seconds * 1e9);
		}
		if (c->trans + 1 >= c->trans_goal || deadline_passed(c, c->t_open))
			c->hdr.flags |= HF_LAST;
	}
	if (ph_connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
		conn_fail(c, "connect: %s", strerror(errno));
		return;
	}
	if (ph_epoll_ctl(c->w->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		conn_fail(c, "epoll_ctl: %s", strerror(errno));
		return;
	}
	c->events = ev.events;
}

/* crr client: the server closed after the response; open the slot's next
 * connection. */
static void
crr_next(struct conn *c)
{
	conn_close_fd(c);
	c->tx_off = c->rx_off = 0;
	c->tx_fin = c->rx_eof = false;
	c->msg_off = c->msg_len = 0;
	conn_open(c);
}

static bool
connect_retryable(int err)
{
	return err == ECONNREFUSED || err == ETIMEDOUT || err == EHOSTUNREACH ||
	       err == ENETUNREACH || err == ECONNRESET;
}

static void
conn_connected(struct conn *c, uint32_t events, uint64_t now)
{
	int err = 0;
	socklen_t l = sizeof(err);

	if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		return;
	if (ph_getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
		err = errno;
	if (err == 0 && (events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLOUT))
		err = ECONNRESET;
	if (err != 0) {
		/* Before any data moved, a refusal may mean the server is still
		 * starting: try again until --wait passes. */
		if (connect_retryable(err) &&
		    now - c->w->t_begin < (uint64_t)c->w->o->wait_ms * 1000000u) {
			conn_close_fd(c);
			c->phase = PH_RETRY;
			c->retry_at = now + 100000000u;
			return;
		}
		conn_fail(c, "connect: %s", strerror(err));
		return;
	}
	if (c->raw) {
		conn_run_start(c, now);
		return;
	}
	hdr_encode(&c->hdr, c->msg);
	c->msg_off = 0;
	c->msg_len = HDR_LEN;
	c->phase = PH_HDR_TX;
}

/* Do whatever the connection can do now, without waiting. */
static void
conn_step(struct conn *c, uint32_t events)
{
	/* Bounded: one busy connection must not keep the lcore from polling
	 * the NIC or from serving the others. */
	for (int turn = 0; turn < 32 && c->phase != PH_DONE; turn++) {
		uint64_t now = now_ns();
		bool moved = false;
		enum io r;

		switch (c->phase) {
		case PH_CONNECT:
			conn_connected(c, events, now);
			moved = c->phase == PH_HDR_TX || c->phase == PH_RUN;
			break;
		case PH_RETRY:
			break;
		case PH_HDR_TX:
			r = tx_msg(c);
			if (r == IO_MOVED && c->msg_off == c->msg_len)
				conn_run_start(c, now);
			moved = r == IO_MOVED;
			break;
		case PH_HDR_RX: {
			struct hdr h;

			r = rx_msg(c, HDR_LEN);
			if (r == IO_EOF) {
				conn_fail(c, "the peer closed before the header");
			} else if (r == IO_MOVED && c->msg_off == HDR_LEN) {
				if (hdr_decode(c->msg, &h) < 0)
					conn_fail(c,
					          "not a ph-perf header (a raw peer? use --raw)");
				else if (server_setup(c, &h) < 0)
					conn_fail(c, "no memory for the test (seed %" PRIu64 ")",
					          h.seed);
				else
					conn_run_start(c, now);
			}
			moved = r == IO_MOVED;
			break;
		}
		case PH_RUN:
			moved = is_rr(c->test) ? run_rr(c, now) : run_bulk(c, now);
			break;
		case PH_DONE:
			break;
		}
		if (moved)
			c->last_io = now;
		if (!moved)
			break;
		events = 0;
	}
	if (c->phase != PH_DONE)
		conn_arm(c);
}

/* Watch what the connection waits for: EPOLLOUT only while it has
 * something to send (level-triggered, it would fire on every turn). */
static void
conn_arm(struct conn *c)
{
	uint32_t want = 0;
	struct epoll_event ev;

	switch (c->phase) {
	case PH_CONNECT:
	case PH_HDR_TX:
		want = EPOLLOUT;
		break;
	case PH_HDR_RX:
		want = EPOLLIN;
		break;
	case PH_RUN:
		want = c->rx_eof ? 0 : EPOLLIN;
		if (is_rr(c->test)) {
			if (!c->tx_fin && c->rr_tx)
				want |= EPOLLOUT;
		} else if ((c->tx_goal > 0 && !c->tx_fin) ||
		           (c->send_trailer && c->rx_eof && c->msg_off < c->msg_len)) {
			want |= EPOLLOUT;
		}
		break;
	default:
		return;
	}
	if (want == c->events)
		return;
	ev = (struct epoll_event){.events = want, .data.ptr = c};
	if (ph_epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		conn_fail(c, "epoll_ctl: %s", strerror(errno));
	else
		c->events = want;
}

/* ---- server: tests made of several connections ---- */

struct test_rec {
	uint32_t id;
	uint8_t test, flags;
	bool raw, alone;
	unsigned conns, finished, failed;
	unsigned lasts; /* crr: slots whose last connection ended */
	uint64_t tx_bytes, rx_bytes, data_bytes, trans;
	uint64_t t_first, t_last;
	uint32_t req, resp;
	uint32_t peer_ip;
	uint16_t peer_port;
	bool hashed, sums_same, checked;
	uint8_t sum[32];
	char why[192];
	struct test_rec *next;
};

/* The server's tests: a connection may land on any worker lcore, so the
 * records are shared, under rec_lock (taken once per connection, never on
 * the data path). The main thread reads them after ph_run() returns. */
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static struct test_rec *recs;
static unsigned tests_done, tests_failed;
static FILE *out; /* stdout; the human lines go to stderr with --json */

/* The test connection C belongs to: by the id in its header, or (ALONE: a
 * raw connection, or one that failed before its header) a test of its own. */
static struct test_rec *
rec_get(uint32_t id, bool alone, const struct conn *c)
{
	struct test_rec *r;

	pthread_mutex_lock(&rec_lock);
	for (r = recs; r != NULL && !alone; r = r->next)
		if (r->id == id && !r->alone)
			break;
	if (r == NULL && (r = calloc(1, sizeof(*r))) != NULL) {
		r->id = id;
		r->alone = alone;
		r->raw = c->raw;
		r->test = c->test;
		r->flags = c->flags;
		r->conns = alone ? 1 : c->hdr.conns;
		r->req = c->req;
		r->resp = c->resp;
		r->peer_ip = c->peer_ip;
		r->peer_port = c->peer_port;
		r->sums_same = true;
		r->next = recs;
		recs = r;
	}
	pthread_mutex_unlock(&rec_lock);
	return r;
}

static void
json_str(FILE *f, const char *key, const char *s)
{
	fprintf(f, ",\"%s\":\"", key);
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	fputc('"', f);
}

static void
rec_report(const struct test_rec *r, const struct opts *o)
{
	double secs = r->t_last > r->t_first ? (double)(r->t_last - r->t_first) / 1e9 : 0;
	double gbps = secs > 0 ? (double)r->data_bytes * 8 / secs / 1e9 : 0;
	const char *name = r->raw         ? "raw"
	                   : r->test == 0 ? "no-header"
	                                  : kind_name(r->test, r->flags & HF_REVERSE);
	char from[INET_ADDRSTRLEN] = "?", sum[65] = "-";
	struct in_addr a = {.s_addr = r->peer_ip};

	inet_ntop(AF_INET, &a, from, sizeof(from));
	if (r->hashed)
		r->sums_same ? hex32(r->sum, sum) : (void)snprintf(sum, sizeof(sum), "mixed");
	if (o->json) {
		fprintf(out,
		        "{\"role\":\"server\",\"test\":\"%s\",\"from\":\"%s:%u\",\"conns\":%u,"
		        "\"bytes\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
		        ",\"seconds\":%.6f,\"gbps\":%.6f,\"transactions\":%" PRIu64
		        ",\"checked\":%s,\"sha256\":\"%s\",\"ok\":%s",
		        name, from, r->peer_port, r->conns, r->data_bytes, r->rx_bytes, r->tx_bytes,
		        secs, gbps, r->trans, r->checked ? "true" : "false", sum,
		        r->failed ? "false" : "true");
		if (r->test == TEST_CRR)
			fprintf(out, ",\"connections\":%u,\"cps\":%.1f", r->finished,
			        secs > 0 ? r->finished / secs : 0);
		if (r->failed)
			json_str(out, "error", r->why);
		fprintf(out, "}\n");
		return;
	}
	fprintf(out,
	        "ph-perf: server %s from=%s:%u conns=%u bytes=%" PRIu64 " rx_bytes=%" PRIu64
	        " tx_bytes=%" PRIu64 " seconds=%.3f gbps=%.3f",
	        name, from, r->peer_port, r->conns, r->data_bytes, r->rx_bytes, r->tx_bytes, secs,
	        gbps);
	if (is_rr(r->test) && !r->raw)
		fprintf(out, " req=%u resp=%u transactions=%" PRIu64, r->req, r->resp, r->trans);
	if (r->test == TEST_CRR)
		fprintf(out, " connections=%u cps=%.1f", r->finished,
		        secs > 0 ? r->finished / secs : 0);
	fprintf(out, " checked=%s sha256=%s result=%s%s%s\n", r->checked ? "yes" : "no", sum,
	        r->failed ? "FAIL" : "ok", r->failed ? ": " : "", r->failed ? r->why : "");
}

/* Server: a connection ended; the test ends with its last connection. */
static void
rec_conn_done(struct conn *c)
{
	const struct opts *o = c->w->o;
	struct test_rec *r = c->rec, **pp;
	bool complete;

	if (r == NULL)
		return;
	pthread_mutex_lock(&rec_lock);
	r->finished++;
	r->tx_bytes += c->tx_off;
	r->rx_bytes += c->rx_off;
	r->data_bytes += is_rr(c->test)   ? c->rx_off + c->tx_off
	                 : c->rx_off == 0 ? c->tx_off
	                                  : c->rx_off;
	r->trans += c->trans;
	r->checked = c->check != NULL;
	if (r->t_first == 0 || c->t_start < r->t_first)
		r->t_first = c->t_start;
	if (c->t_end > r->t_last)
		r->t_last = c->t_end;
	if (c->have_sum) {
		if (r->hashed && memcmp(r->sum, c->sum, 32) != 0)
			r->sums_same = false;
		memcpy(r->sum, c->sum, 32);
		r->hashed = true;
	}
	if (c->failed && r->failed++ == 0)
		snprintf(r->why, sizeof(r->why), "conn %u: %s", c->idx, c->why);
	if (c->flags & HF_LAST)
		r->lasts++;
	/* A crr test has a connection per transaction: it ends when every
	 * slot's last one has. */
	complete = r->test == TEST_CRR ? r->lasts >= r->conns : r->finished >= r->conns;
	if (complete) {
		for (pp = &recs; *pp != r; pp = &(*pp)->next)
			;
		*pp = r->next;
		tests_done++;
		tests_failed += r->failed > 0;
		rec_report(r, o);
		free(r);
		/* Let the last segments (trailer, FIN, ACKs) leave before stopping. */
		if (o->count > 0 && tests_done >= o->count)
			atomic_store(&the_run.stop_at, now_ns() + 500000000u);
	}
	pthread_mutex_unlock(&rec_lock);
}

/* The checks every connection passes at its end, and its accounting. */
static void
conn_finish(struct conn *c)
{
	const struct opts *o = c->w->o;
	bool data_tx = c->rx_off == 0 && c->tx_off > 0;

	if (c->phase == PH_DONE)
		return;
	c->phase = PH_DONE;
	c->t_end = now_ns();
	if (c->t_start == 0)
		c->t_start = c->t_end;
	if (c->fd >= 0)
		conn_close_fd(c);
	if (!c->failed) {
		if (!c->have_sum && (data_tx ? c->hash_tx : c->hash_rx)) {
			sha256_final(data_tx ? &c->txh : &c->rxh, c->sum);
			c->have_sum = true;
		}
		if (c->bad_at != UINT64_MAX) {
			c->failed = true;
			snprintf(c->why, sizeof(c->why),
			         "byte %" PRIu64 " differs from the pattern %s", c->bad_at,
			         c->bad_what);
		} else if (c->rx_expect != UINT64_MAX && c->rx_off != c->rx_expect) {
			c->failed = true;
			snprintf(c->why, sizeof(c->why),
			         "received %" PRIu64 " of %" PRIu64 " bytes", c->rx_off,
			         c->rx_expect);
		} else if (c->rx_trailer) {
			uint8_t sent[32];

			if (c->msg_off != TRL_LEN || get32(c->msg) != TRL_MAGIC) {
				c->failed = true;
				snprintf(c->why, sizeof(c->why),
				         "no trailer from the server (%u bytes)", c->msg_off);
			} else {
				c->peer_flags = get32(c->msg + 4);
				c->peer_bytes = get64(c->msg + 8);
				memcpy(c->peer_sum, c->msg + 16, 32);
				memcpy(sent, c->sum, 32);
				if (c->peer_bytes != c->tx_off) {
					c->failed = true;
					snprintf(c->why, sizeof(c->why),
					         "the server received %" PRIu64 " of %" PRIu64
					         " bytes",
					         c->peer_bytes, c->tx_off);
				} else if (c->peer_flags & TF_BAD) {
					c->failed = true;
					snprintf(c->why, sizeof(c->why),
					         "the server saw a byte differ from the pattern");
				} else if ((c->peer_flags & TF_HASH) && c->have_sum &&
				           memcmp(sent, c->peer_sum, 32) != 0) {
					c->failed = true;
					snprintf(c->why, sizeof(c->why),
					         "the server's sha256 differs from what was sent");
				}
			}
		} else if (is_rr(c->test) && c->client && c->trans < c->trans_goal &&
		           c->deadline == 0) {
			c->failed = true;
			snprintf(c->why, sizeof(c->why), "%" PRIu64 " of %" PRIu64 " transactions",
			         c->trans, c->trans_goal);
		}
		if (!c->failed && o->has_expect &&
		    (!c->have_sum || memcmp(c->sum, o->expect, 32) != 0)) {
			char got[65] = "none";

			if (c->have_sum)
				hex32(c->sum, got);
			c->failed = true;
			snprintf(c->why, sizeof(c->why), "sha256 %s is not the one expected", got);
		}
	}
	if (c->failed) {
		c->w->failed++;
		fprintf(stderr, "ph-perf: conn %u (%s): %s\n", c->idx, test_name(c), c->why);
	}
	c->w->done++;
	if (c->w->active > 0)
		c->w->active--;
	if (c->w->t_first == 0 || c->t_start < c->w->t_first)
		c->w->t_first = c->t_start;
	if (c->t_end > c->w->t_last)
		c->w->t_last = c->t_end;
	if (!c->client && c->rec == NULL)
		c->rec = rec_get(0, true, c); /* failed before the header said which test */
	if (!c->client)
		rec_conn_done(c);
}

/* Deadlines, retries and the idle limit: what no event would wake. */
static void
conn_tick(struct conn *c, uint64_t now)
{
	const struct opts *o = c->w->o;

	if (c->phase == PH_RETRY) {
		if (now >= c->retry_at)
			conn_open(c);
		return;
	}
	if (c->phase == PH_DONE)
		return;
	if (c->phase == PH_CONNECT && c->client && o->wait_ms > 0 &&
	    now - c->t_open > (uint64_t)o->wait_ms * 1000000u + 1000000000u) {
		conn_fail(c, "connect: no answer within %u ms", o->wait_ms);
		return;
	}
	if (o->timeout_s > 0 && now - c->last_io > (uint64_t)o->timeout_s * 1000000000u) {
		conn_fail(c, "nothing moved for %u s (sent %" PRIu64 ", received %" PRIu64 ")",
		          o->timeout_s, c->tx_off, c->rx_off);
		return;
	}
	if (c->phase == PH_RUN && deadline_passed(c, now))
		conn_step(c, 0);
}

static unsigned
worker_index(void)
{
	return ph_lcore_count() == 1 ? 0 : (unsigned)ph_lcore_index() - 1;
}

static int
worker_init(struct worker *w)
{
	w->ep = ph_epoll_create1(0);
	w->lfd = -1;
	w->udp_fd = -1;
	w->buf_len = 256 * 1024;
	w->buf = malloc(w->buf_len);
	w->t_begin = now_ns();
	if (w->ep < 0 || w->buf == NULL) {
		fprintf(stderr, "ph-perf: worker %u: %s\n", w->idx, strerror(errno));
		return -1;
	}
	return 0;
}

/* Keep the stack turning a little after the last close, so the final ACKs
 * and FINs leave before the host stops. */
static void
worker_linger(struct worker *w, unsigned ms)
{
	struct epoll_event ev[8];
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;

	while (now_ns() < end && ph_epoll_wait(w->ep, ev, 8, 10) >= 0)
		;
}

static int
client_worker(void *arg)
{
	struct run *r = arg;
	struct worker *w = &r->workers[worker_index()];
	struct epoll_event ev[64];
	uint64_t next_tick = 0;

	if (worker_init(w) < 0) {
		w->rc = 1;
		for (unsigned i = 0; i < w->n_conns; i++)
			conn_fail(&w->conns[i], "worker failed to start");
	}
	for (unsigned i = 0; i < w->n_conns && w->rc == 0; i++)
		conn_open(&w->conns[i]);
	while (w->active > 0) {
		int n = ph_epoll_wait(w->ep, ev, 64, 10);
		uint64_t now;

		if (n < 0) {
			for (unsigned i = 0; i < w->n_conns; i++)
				conn_fail(&w->conns[i], "interrupted");
			break;
		}
		for (int i = 0; i < n; i++)
			conn_step(ev[i].data.ptr, ev[i].events);
		now = now_ns();
		if (now >= next_tick) {
			next_tick = now + 10000000u;
			for (unsigned i = 0; i < w->n_conns; i++)
				conn_tick(&w->conns[i], now);
		}
	}
	if (!ph_stopping())
		worker_linger(w, 100);
	if (atomic_fetch_sub(&r->left, 1) == 1)
		ph_stop();
	return 0;
}

/* ---- UDP echo ---- */

/* A worker whose UDP or HTTP run failed: the first reason is kept (on its
 * first connection record, which client_report reads), counted once. */
static void __attribute__((format(printf, 2, 3)))
worker_fail(struct worker *w, const char *fmt, ...)
{
	struct conn *c = &w->conns[0];
	va_list ap;

	if (c->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	c->failed = true;
	w->failed++;
}

/* Each datagram opens with its tag (the window slot it fills, and that
 * slot's count of datagrams sent) and its send time (ns), so the client
 * matches every echo to the datagram still outstanding in that slot and
 * measures its round trip. An echo of a datagram already given up as lost
 * (or sent twice by the network) matches nothing and is not counted. */
#define UDP_HDR       16
#define UDP_LOST_NS   100000000u /* a slot without its echo for 100 ms: lost, sent anew */
#define UDP_BATCH_MAX 64         /* datagrams handled per socket per wake-up */
#define UDP_SLOT_BITS 48         /* the tag: slot << 48 | count in the slot */

/* epoll's data.ptr for the server's UDP socket (the listener's is NULL). */
static int udp_tag;

struct udp_slot {
	uint64_t tag;     /* of the datagram outstanding; 0: none */
	uint64_t sent_ns; /* when it was sent */
	uint64_t count;   /* datagrams this slot has sent */
};

struct udp_sock {
	int fd;
	struct udp_slot *slot; /* --window of them */
};

/* Server: the worker's echo socket on the TCP port's number. With several
 * workers each has its own (SO_REUSEPORT), as polyhostd's UDP services do. */
static int
udp_server_open(struct worker *w)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(w->o->port)};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &udp_tag};
	int one = 1;

	sin.sin_addr.s_addr = w->o->ip;
	w->udp_fd = ph_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (w->udp_fd < 0)
		return -1;
	if ((ph_worker_count() > 1 &&
	     ph_setsockopt(w->udp_fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
	    ph_bind(w->udp_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    ph_epoll_ctl(w->ep, EPOLL_CTL_ADD, w->udp_fd, &ev) < 0) {
		ph_close(w->udp_fd);
		w->udp_fd = -1;
		return -1;
	}
	return 0;
}

/* Server: send back what came, as it came. An echo the stack cannot take
 * now (EAGAIN) is not retried: the client counts it as lost. */
static void
udp_echo(struct worker *w)
{
	for (int k = 0; k < UDP_BATCH_MAX; k++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = ph_recvfrom(w->udp_fd, w->buf, w->buf_len, 0, (struct sockaddr *)&from,
		                        &fl);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fprintf(stderr, "ph-perf: udp recvfrom: %s\n", strerror(errno));
			return;
		}
		if (ph_sendto(w->udp_fd, w->buf, (size_t)n, 0, (struct sockaddr *)&from, fl) == n)
			w->udp_echoed++;
		else
			w->udp_lost++;
	}
}

/* Client: send slot I's next datagram. One the stack does not take (no
 * room, neighbour unresolved) leaves the slot empty: the tick fills it. */
static void
udp_send(struct worker *w, struct udp_sock *u, uint32_t i, uint64_t now)
{
	struct udp_slot *sl = &u->slot[i];
	uint32_t len = w->o->req;
	uint64_t tag =
	        (uint64_t)i << UDP_SLOT_BITS | ((sl->count + 1) & ((1ull << UDP_SLOT_BITS) - 1));

	put64(w->buf, tag);
	put64(w->buf + 8, now);
	sl->tag = 0;
	if (ph_send(u->fd, w->buf, len, 0) != (ssize_t)len)
		return;
	sl->count++;
	sl->tag = tag;
	sl->sent_ns = now;
	w->tx_bytes += len;
}

static void
udp_receive(struct worker *w, struct udp_sock *u, uint64_t deadline)
{
	for (int k = 0; k < UDP_BATCH_MAX; k++) {
		ssize_t n = ph_recv(u->fd, w->buf, w->buf_len, 0);
		uint64_t now, tag;
		uint32_t i;

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fprintf(stderr, "ph-perf: udp recv: %s\n", strerror(errno));
			return;
		}
		if (n < UDP_HDR)
			continue;
		tag = get64(w->buf);
		i = (uint32_t)(tag >> UDP_SLOT_BITS);
		if (tag == 0 || i >= w->o->window || u->slot[i].tag != tag)
			continue; /* given up already, or not ours */
		now = now_ns();
		u->slot[i].tag = 0;
		if (now >= deadline)
			continue;
		if (w->t_first == 0)
			w->t_first = now; /* the warm-up (ARP) is not measured */
		hist_add(&w->lat, now - u->slot[i].sent_ns);
		w->rx_bytes += (uint64_t)n;
		w->trans++;
		w->t_last = now;
		udp_send(w, u, i, now);
	}
}

/* Client, every 10 ms: a slot whose datagram is overdue counts it lost and
 * sends another; an empty slot (its send failed) tries again. */
static void
udp_tick(struct worker *w, struct udp_sock *u, uint64_t now)
{
	for (uint32_t i = 0; i < w->o->window && !ph_stopping(); i++) {
		struct udp_slot *sl = &u->slot[i];

		if (sl->tag != 0 && now - sl->sent_ns < UDP_LOST_NS)
			continue;
		if (sl->tag != 0)
			w->udp_lost++;
		udp_send(w, u, i, now);
	}
}

/* Client: --conns connected sockets per host, spread over the workers, each
 * keeping --window datagrams of --req bytes in flight for --seconds. */
static int
udp_client_worker(void *arg)
{
	struct run *r = arg;
	struct worker *w = &r->workers[worker_index()];
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(w->o->port)};
	struct udp_sock *us = calloc(w->n_conns ? w->n_conns : 1, sizeof(*us));
	struct epoll_event ev[64];
	uint64_t now = now_ns(), deadline, next_tick = 0;
	struct conn *c = &w->conns[0];

	sin.sin_addr.s_addr = w->o->ip;
	deadline = now + (uint64_t)(w->o->seconds * 1e9);
	if (us == NULL || worker_init(w) < 0) {
		worker_fail(w, "worker: %s", strerror(errno));
		deadline = 0;
		w->n_conns = 0;
	}
	for (unsigned i = 0; i < w->n_conns; i++)
		us[i].fd = -1;
	for (unsigned i = 0; i < w->n_conns && !c->failed; i++) {
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = &us[i]};

		us[i].slot = calloc(w->o->window, sizeof(*us[i].slot));
		us[i].fd = ph_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (us[i].slot == NULL || us[i].fd < 0 ||
		    ph_connect(us[i].fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
		    ph_epoll_ctl(w->ep, EPOLL_CTL_ADD, us[i].fd, &e) < 0) {
			worker_fail(w, "udp socket: %s", strerror(errno));
			deadline = 0;
			break;
		}
		udp_tick(w, &us[i], now);
	}
	while (now < deadline && !ph_stopping()) {
		int n = ph_epoll_wait(w->ep, ev, 64, 10);

		if (n < 0)
			break;
		for (int i = 0; i < n; i++)
			udp_receive(w, ev[i].data.ptr, deadline);
		now = now_ns();
		if (now < next_tick)
			continue;
		next_tick = now + 10000000u;
		for (unsigned i = 0; i < w->n_conns; i++)
			udp_tick(w, &us[i], now);
	}
	if (w->trans == 0 && w->n_conns > 0)
		worker_fail(w, "no datagram came back");
	for (unsigned i = 0; us != NULL && i < w->n_conns; i++) {
		if (us[i].fd >= 0)
			ph_close(us[i].fd);
		free(us[i].slot);
	}
	free(us);
	if (atomic_fetch_sub(&r->left, 1) == 1)
		ph_stop();
	return 0;
}

/* ---- HTTP/1.1 client ---- */

/* One slot of --test http (keep-alive: requests follow each other on one
 * connection) or http-close ("Connection: close": the server closes after
 * each response, the slot reconnects). Responses must be 200 with a
 * Content-Length, as a static file's are. */
enum hphase { HP_CONNECT, HP_HEAD, HP_BODY, HP_EOF, HP_DONE };

struct hslot {
	int fd;
	enum hphase phase;
	uint64_t t_open, t_req; /* ns: connect, request sent */
	char head[4096];        /* the response's header so far */
	uint32_t head_len;
	uint64_t body_left;
};

#define HTTP_REQ_MAX 512

static bool
is_http(int test)
{
	return test == TEST_HTTP || test == TEST_HTTP_CLOSE;
}

static void
hslot_close(struct worker *w, struct hslot *h)
{
	if (h->fd >= 0) {
		ph_epoll_ctl(w->ep, EPOLL_CTL_DEL, h->fd, NULL);
		ph_close(h->fd);
		h->fd = -1;
	}
}

#define http_fail(w, h, ...)                                                                       \
	do {                                                                                       \
		worker_fail(w, __VA_ARGS__);                                                       \
		hslot_close(w, h);                                                                 \
		(h)->phase = HP_DONE;                                                              \
	} while (0)

static void
http_open(struct worker *w, struct hslot *h)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(w->o->port)};
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = h};

	sin.sin_addr.s_addr = w->o->ip;
	h->fd = ph_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (h->fd < 0) {
		http_fail(w, h, "socket: %s", strerror(errno));
		return;
	}
	h->phase = HP_CONNECT;
	h->t_open = now_ns();
	if ((ph_connect(h->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) ||
	    ph_epoll_ctl(w->ep, EPOLL_CTL_ADD, h->fd, &ev) < 0)
		http_fail(w, h, "connect: %s", strerror(errno));
}

/* Send the request whole: it is far smaller than any send buffer. */
static void
http_send(struct worker *w, struct hslot *h, const char *req, size_t len)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = h};
	bool connected_now = h->phase == HP_CONNECT;
	ssize_t n = ph_send(h->fd, req, len, 0);

	if (n != (ssize_t)len) {
		http_fail(w, h, "send: %s", n < 0 ? strerror(errno) : "short");
		return;
	}
	w->tx_bytes += len;
	h->t_req = now_ns();
	h->head_len = 0;
	h->phase = HP_HEAD;
	/* From now on only input matters (a keep-alive request after the
	 * first needs no change: no extra system call on Linux). */
	if (connected_now && ph_epoll_ctl(w->ep, EPOLL_CTL_MOD, h->fd, &ev) < 0)
		http_fail(w, h, "epoll_ctl: %s", strerror(errno));
}

/* The header is in: check the status, find the body's length. Returns the
 * header's length, 0 if it is not complete yet, -1 on a bad response. */
static int
http_head(struct hslot *h)
{
	char *end = memmem(h->head, h->head_len, "\r\n\r\n", 4), *cl;

	if (end == NULL)
		return h->head_len >= sizeof(h->head) - 1 ? -1 : 0;
	*end = '\0';
	if (strncmp(h->head, "HTTP/1.1 200 ", 13) != 0)
		return -1;
	cl = strcasestr(h->head, "\r\nContent-Length:");
	if (cl == NULL)
		return -1;
	cl += 17;
	while (*cl == ' ' || *cl == '\t')
		cl++;
	if (*cl < '0' || *cl > '9')
		return -1;
	errno = 0;
	h->body_left = strtoull(cl, &cl, 10);
	/* The header's end was cut at its blank line: the last field ends in '\0'. */
	if (errno != 0 || (*cl != '\r' && *cl != '\0' && *cl != ' ' && *cl != '\t'))
		return -1;
	return (int)(end - h->head) + 4;
}

/* One response is whole. */
static void
http_done(struct worker *w, struct hslot *h, uint64_t deadline, const char *req, size_t len)
{
	uint64_t now = now_ns();

	if (w->t_first == 0)
		w->t_first = h->t_open;
	hist_add(&w->lat, now - h->t_req);
	w->trans++;
	w->t_last = now;
	if (w->o->test == TEST_HTTP_CLOSE) {
		h->phase = HP_EOF; /* the server closes; then the next connection */
		return;
	}
	if (now >= deadline) {
		hslot_close(w, h);
		h->phase = HP_DONE;
		return;
	}
	http_send(w, h, req, len);
}

static void
http_step(struct worker *w, struct hslot *h, uint32_t events, uint64_t deadline, const char *req,
          size_t len)
{
	if (h->phase == HP_CONNECT) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (ph_getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err != 0 || !(events & EPOLLOUT)) {
			http_fail(w, h, "connect: %s", strerror(err ? err : ECONNRESET));
			return;
		}
		http_send(w, h, req, len);
		return;
	}
	for (int turn = 0;
	     turn < 16 && (h->phase == HP_HEAD || h->phase == HP_BODY || h->phase == HP_EOF);
	     turn++) {
		ssize_t n;

		if (h->phase == HP_HEAD) {
			n = ph_recv(h->fd, h->head + h->head_len, sizeof(h->head) - 1 - h->head_len,
			            0);
		} else {
			size_t want = h->phase == HP_BODY && h->body_left < w->buf_len
			                      ? (size_t)h->body_left
			                      : w->buf_len;
			n = ph_recv(h->fd, w->buf, want, 0);
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				http_fail(w, h, "recv: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			if (h->phase != HP_EOF) {
				http_fail(w, h, "the server closed in the middle of a response");
				return;
			}
			hslot_close(w, h);
			if (now_ns() >= deadline)
				h->phase = HP_DONE;
			else
				http_open(w, h);
			return;
		}
		w->rx_bytes += (uint64_t)n;
		if (h->phase == HP_EOF) {
			http_fail(w, h, "bytes after the response to Connection: close");
			return;
		}
		if (h->phase == HP_BODY) {
			h->body_left -= (uint64_t)n;
		} else {
			int hl;

			h->head_len += (uint32_t)n;
			h->head[h->head_len] = '\0';
			hl = http_head(h);
			if (hl < 0) {
				http_fail(w, h, "not a 200 response with a Content-Length");
				return;
			}
			if (hl == 0)
				continue;
			if (h->head_len - (uint32_t)hl > h->body_left) {
				http_fail(w, h,
				          "more than the response (pipelining is not asked for)");
				return;
			}
			h->body_left -= h->head_len - (uint32_t)hl;
			h->phase = HP_BODY;
		}
		if (h->body_left == 0)
			http_done(w, h, deadline, req, len);
	}
}

/* Client: --conns slots per host, spread over the workers, each a request
 * (GET --path) at a time for --seconds. */
static int
http_client_worker(void *arg)
{
	struct run *r = arg;
	struct worker *w = &r->workers[worker_index()];
	const struct opts *o = w->o;
	struct hslot *hs = calloc(w->n_conns ? w->n_conns : 1, sizeof(*hs));
	struct epoll_event ev[64];
	char req[HTTP_REQ_MAX], host[INET_ADDRSTRLEN];
	uint64_t deadline = now_ns() + (uint64_t)(o->seconds * 1e9);
	int len;
	bool live = true;

	inet_ntop(AF_INET, &o->ip, host, sizeof(host));
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", o->path, host,
	               o->test == TEST_HTTP_CLOSE ? "Connection: close\r\n" : "");
	if (hs == NULL || worker_init(w) < 0) {
		worker_fail(w, "worker: %s", strerror(errno));
		w->n_conns = 0;
	}
	for (unsigned i = 0; i < w->n_conns; i++)
		hs[i].fd = -1;
	for (unsigned i = 0; i < w->n_conns; i++)
		http_open(w, &hs[i]);
	while (live && !ph_stopping()) {
		int n = ph_epoll_wait(w->ep, ev, 64, 10);

		if (n < 0)
			break;
		for (int i = 0; i < n; i++)
			http_step(w, ev[i].data.ptr, ev[i].events, deadline, req, (size_t)len);
		live = false;
		for (unsigned i = 0; i < w->n_conns; i++)
			live |= hs[i].phase != HP_DONE;
		if (now_ns() > deadline + (uint64_t)o->timeout_s * 1000000000u) {
			for (unsigned i = 0; i < w->n_conns; i++)
				if (hs[i].phase != HP_DONE)
					http_fail(w, &hs[i], "no response for %u s", o->timeout_s);
		}
	}
	if (w->trans == 0 && w->n_conns > 0)
		worker_fail(w, "no response");
	for (unsigned i = 0; i < w->n_conns; i++)
		hslot_close(w, &hs[i]);
	free(hs);
	if (!ph_stopping())
		worker_linger(w, 100);
	if (atomic_fetch_sub(&r->left, 1) == 1)
		ph_stop();
	return 0;
}

static void
server_accept(struct worker *w, struct run *r)
{
	for (int k = 0; k < 64; k++) {
		struct sockaddr_in sin;
		socklen_t l = sizeof(sin);
		struct epoll_event ev = {.events = EPOLLIN};
		int fd = ph_accept4(w->lfd, (struct sockaddr *)&sin, &l, SOCK_NONBLOCK);
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
				fprintf(stderr, "ph-perf: accept: %s\n", strerror(errno));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			ph_close(fd);
			continue;
		}
		conn_common_init(c, w);
		c->fd = fd;
		c->raw = w->o->raw;
		c->peer_ip = sin.sin_addr.s_addr;
		c->peer_port = ntohs(sin.sin_port);
		c->t_open = c->last_io = now_ns();
		sock_bufs(w->o, fd);
		if (c->raw) {
			/* Each raw connection is a test of its own: sink what comes,
			 * send --source bytes (or the file) if asked. */
			c->src = &r->src;
			c->check = w->o->verify == 1 ? r->pattern : NULL;
			c->hash_rx = c->hash_tx = w->o->hash || w->o->has_expect;
			c->tx_goal = w->o->source_set ? w->o->source : 0;
			c->idx = 0;
			c->phase = PH_RUN;
			c->t_start = c->t_open;
			c->rec = rec_get(0, true, c);
		} else {
			c->phase = PH_HDR_RX;
		}
		ev.data.ptr = c;
		if (w->o->raw && c->tx_goal > 0)
			ev.events |= EPOLLOUT;
		if (ph_epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			fprintf(stderr, "ph-perf: epoll_ctl: %s\n", strerror(errno));
			ph_close(fd);
			free(c);
			continue;
		}
		c->events = ev.events;
		c->next = w->list;
		w->list = c;
		w->active++;
		w->accepted++;
	}
}

static void
server_reap(struct worker *w)
{
	for (struct conn **pp = &w->list; *pp != NULL;) {
		struct conn *c = *pp;

		if (c->phase == PH_DONE) {
			*pp = c->next;
			free(c);
		} else {
			pp = &c->next;
		}
	}
}

/* --reuseport off: the host's one listener, made by the first worker to
 * get here; every worker accepts the connections its lcore owns from it. */
static pthread_mutex_t listen_lock = PTHREAD_MUTEX_INITIALIZER;
static int shared_lfd = -1;

static int
server_socket(const struct opts *o)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(o->port)};
	int one = 1, fd;

	sin.sin_addr.s_addr = o->ip;
	fd = ph_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (ph_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (o->reuseport && ph_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0))
		goto fail;
	sock_bufs(o, fd);
	if (ph_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || ph_listen(fd, 1024) < 0)
		goto fail;
	return fd;
fail:
	ph_close(fd);
	return -1;
}

static int
server_listen(struct worker *w)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

	if (w->o->reuseport) {
		w->lfd = server_socket(w->o); /* one listener per worker lcore */
	} else {
		pthread_mutex_lock(&listen_lock);
		if (shared_lfd < 0)
			shared_lfd = server_socket(w->o);
		w->lfd = shared_lfd;
		pthread_mutex_unlock(&listen_lock);
	}
	if (w->lfd < 0 || ph_epoll_ctl(w->ep, EPOLL_CTL_ADD, w->lfd, &ev) < 0)
		return -1;
	return 0;
}

/* Callgrind's collection on (the first event of any worker) or off (the
 * first worker out of its loop), once each. */
static atomic_int collect_state; /* 0: not yet, 1: on, 2: done */

static void
perf_collect(bool on)
{
	int from = on ? 0 : 1;

	if (atomic_compare_exchange_strong(&collect_state, &from, on ? 1 : 2))
		PERF_TOGGLE_COLLECT();
}

static int
server_worker(void *arg)
{
	struct run *r = arg;
	struct worker *w = &r->workers[worker_index()];
	struct epoll_event ev[64];
	uint64_t next_tick = 0;

	if (worker_init(w) < 0 || server_listen(w) < 0 ||
	    (w->o->udp_echo && udp_server_open(w) < 0)) {
		fprintf(stderr, "ph-perf: server: listen on port %u: %s\n", w->o->port,
		        strerror(errno));
		w->rc = 1;
		ph_stop();
		return 1;
	}
	if (atomic_fetch_add(&r->listening, 1) + 1 == r->n_workers) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &w->o->ip, a, sizeof(a));
		fprintf(w->o->json ? stderr : stdout,
		        "ph-perf: server listening on %s:%u, %u worker lcore%s%s%s\n", a,
		        w->o->port, r->n_workers, r->n_workers == 1 ? "" : "s",
		        w->o->raw ? ", raw" : "", w->o->udp_echo ? ", udp echo" : "");
	}
	for (;;) {
		int n = ph_epoll_wait(w->ep, ev, 64, 10);
		uint64_t now, stop_at;

		if (n < 0)
			break;
		if (n > 0)
			perf_collect(true);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL)
				server_accept(w, r);
			else if (ev[i].data.ptr == &udp_tag)
				udp_echo(w);
			else
				conn_step(ev[i].data.ptr, ev[i].events);
		}
		now = now_ns();
		if (now >= next_tick) {
			next_tick = now + 10000000u;
			for (struct conn *c = w->list; c != NULL; c = c->next)
				conn_tick(c, now);
			server_reap(w);
		}
		stop_at = atomic_load(&r->stop_at);
		if (stop_at != 0 && now >= stop_at)
			ph_stop();
	}
	perf_collect(false);
	/* Stopped: what is still open did not finish. */
	for (struct conn *c = w->list; c != NULL; c = c->next) {
		if (c->phase == PH_HDR_RX) {
			/* Not yet part of a test: nothing to report. */
			ph_close(c->fd);
			c->phase = PH_DONE;
		} else if (c->phase != PH_DONE) {
			conn_fail(c, "interrupted");
		}
	}
	server_reap(w);
	if (w->lfd >= 0)
		ph_close(w->lfd);
	if (w->udp_fd >= 0)
		ph_close(w->udp_fd);
	return 0;
}

/* ---- client summary ---- */

static int
client_report(struct run *r, int fini_rc)
{
	const struct opts *o = r->o;
	uint64_t tx = 0, rx = 0, trans = 0, t0 = UINT64_MAX, t1 = 0, data;
	unsigned failed = 0;
	struct hist *lat = calloc(1, sizeof(*lat));
	char sum[65] = "-", why[192] = "";
	bool hashed = false, same = true;
	uint8_t s0[32];
	double secs, gbps;
	const char *name = kind_name(o->test, o->reverse);

	if (lat == NULL)
		return 1;
	for (unsigned i = 0; i < r->n_workers; i++) {
		struct worker *w = &r->workers[i];

		tx += w->tx_bytes;
		rx += w->rx_bytes;
		trans += w->trans;
		failed += w->failed;
		if (w->t_first != 0 && w->t_first < t0)
			t0 = w->t_first;
		if (w->t_last > t1)
			t1 = w->t_last;
		hist_merge(lat, &w->lat);
		for (unsigned k = 0; k < w->n_conns; k++) {
			struct conn *c = &w->conns[k];

			char h[65] = "-";

			if (c->failed && why[0] == '\0')
				snprintf(why, sizeof(why), "conn %u: %s", c->idx, c->why);
			if (c->have_sum) {
				if (hashed && memcmp(s0, c->sum, 32) != 0)
					same = false;
				memcpy(s0, c->sum, 32);
				hashed = true;
				hex32(c->sum, h);
			}
			if (o->verbose)
				fprintf(o->json ? stderr : stdout,
				        "ph-perf: conn %u tx_bytes=%" PRIu64 " rx_bytes=%" PRIu64
				        " seconds=%.3f transactions=%" PRIu64
				        " sha256=%s result=%s\n",
				        c->idx, c->tx_off, c->rx_off,
				        (double)(c->t_end - c->t_start) / 1e9, c->trans, h,
				        c->failed ? "FAIL" : "ok");
		}
	}
	if (hashed)
		same ? hex32(s0, sum) : (void)snprintf(sum, sizeof(sum), "mixed");
	if (fini_rc < 0 && why[0] == '\0')
		snprintf(why, sizeof(why), "packet buffers missing at shutdown");
	secs = t1 > t0 && t0 != UINT64_MAX ? (double)(t1 - t0) / 1e9 : 0;
	data = is_rr(o->test) || o->test == TEST_UDP || is_http(o->test) ? tx + rx
	       : o->reverse                                              ? rx
	                                                                 : tx;
	gbps = secs > 0 ? (double)data * 8 / secs / 1e9 : 0;
	if (o->json) {
		printf("{\"role\":\"client\",\"test\":\"%s\",\"raw\":%s,\"conns\":%u,\"bytes\":"
		       "%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
		       ",\"seconds\":%.6f,\"gbps\":%.6f",
		       name, o->raw ? "true" : "false", o->conns, data, tx, rx, secs, gbps);
		if (is_rr(o->test) || o->test == TEST_UDP || is_http(o->test))
			printf(",\"req\":%u,\"resp\":%u,\"transactions\":%" PRIu64
			       ",\"tps\":%.1f,\"lat_us\":{\"mean\":%.2f,\"p50\":%.2f,\"p90\":%.2f,"
			       "\"p99\":%.2f,\"p999\":%.2f,\"max\":%.2f}",
			       o->req, o->resp, trans, secs > 0 ? (double)trans / secs : 0,
			       lat->n ? (double)lat->sum / (double)lat->n / 1e3 : 0,
			       hist_quantile(lat, 0.5) / 1e3, hist_quantile(lat, 0.9) / 1e3,
			       hist_quantile(lat, 0.99) / 1e3, hist_quantile(lat, 0.999) / 1e3,
			       (double)lat->max / 1e3);
		/* crr: a transaction is a connection, its latency the
		 * connection's, from connect to the response. */
		if (o->test == TEST_UDP) {
			uint64_t lost = 0;

			for (unsigned i = 0; i < r->n_workers; i++)
				lost += r->workers[i].udp_lost;
			printf(",\"lost\":%" PRIu64, lost);
		}
		if (o->test == TEST_CRR || o->test == TEST_HTTP_CLOSE)
			printf(",\"cps\":%.1f", secs > 0 ? (double)trans / secs : 0);
		printf(",\"sha256\":\"%s\",\"failed_conns\":%u,\"ok\":%s", sum, failed,
		       failed || fini_rc < 0 ? "false" : "true");
		if (why[0] != '\0')
			json_str(stdout, "error", why);
		printf("}\n");
	} else {
		printf("ph-perf: client %s conns=%u bytes=%" PRIu64 " seconds=%.3f gbps=%.3f", name,
		       o->conns, data, secs, gbps);
		if (is_rr(o->test) || o->test == TEST_UDP || is_http(o->test))
			printf(" req=%u resp=%u transactions=%" PRIu64
			       " tps=%.1f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f",
			       o->req, o->resp, trans, secs > 0 ? (double)trans / secs : 0,
			       hist_quantile(lat, 0.5) / 1e3, hist_quantile(lat, 0.99) / 1e3,
			       hist_quantile(lat, 0.999) / 1e3, (double)lat->max / 1e3);
		if (o->test == TEST_CRR)
			printf(" cps=%.1f", secs > 0 ? (double)trans / secs : 0);
		printf(" sha256=%s result=%s%s%s\n", sum, failed || fini_rc < 0 ? "FAIL" : "ok",
		       why[0] ? ": " : "", why);
	}
	free(lat);
	return failed || fini_rc < 0 ? 1 : 0;
}

/* ---- modes without a host: the pattern and a hash ---- */

static int
gen_main(int argc, char **argv)
{
	static const struct option lo[] = {
	        {"bytes", required_argument, NULL, 'b'},
	        {"seed", required_argument, NULL, 's'},
	        {NULL, 0, NULL, 0},
	};
	uint64_t bytes = 0, seed = 1;
	struct source s;
	int opt;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (opt == 'b' && parse_size(optarg, &bytes) == 0)
			continue;
		if (opt == 's' && parse_size(optarg, &seed) == 0)
			continue;
		fprintf(stderr, "usage: ph-perf gen --bytes N[KMG] [--seed S]\n");
		return 2;
	}
	if (optind != argc || pattern_make(&s, seed) < 0)
		return 2;
	for (uint64_t off = 0; off < bytes;) {
		size_t o = (size_t)(off % s.period), n = s.period - o;

		if (n > bytes - off)
			n = (size_t)(bytes - off);
		if (fwrite(s.data + o, 1, n, stdout) != n) {
			fprintf(stderr, "ph-perf: gen: %s\n", strerror(errno));
			return 1;
		}
		off += n;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
sha256_main(int argc, char **argv)
{
	static uint8_t buf[1 << 16];
	struct sha256 s;
	uint8_t sum[32];
	char hex[65];
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : stdin;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "ph-perf: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	sha256_init(&s);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sha256_update(&s, buf, n);
	if (ferror(f))
		return 1;
	sha256_final(&s, sum);
	hex32(sum, hex);
	printf("%s  %s\n", hex, argc > 1 ? argv[1] : "-");
	return 0;
}

/* ---- options and main ---- */

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: ph-perf -c CONFIG [--lcores L] [--eal ARGS] [--] server [ADDR:]PORT "
	        "[options]\n"
	        "       ph-perf -c CONFIG [--lcores L] [--eal ARGS] [--] client ADDR:PORT "
	        "[options]\n"
	        "       ph-perf gen --bytes N [--seed S]   the test pattern on stdout\n"
	        "       ph-perf sha256 [FILE]              sha256 of FILE or stdin\n"
	        "client:\n"
	        "  --test bulk|rr|crr bulk transfer (default), request/response, or\n"
	        "                     connect-request-response-close (a new connection per\n"
	        "                     transaction; the server closes first)\n"
	        "  --test udp         datagrams of --req bytes (16 or more) echoed by a server\n"
	        "                     run with --udp; --conns sockets, each keeping --window\n"
	        "                     (default 16) in flight; tps is echoes/s\n"
	        "  --test http|http-close  HTTP/1.1 GET --path (default /) from --conns slots,\n"
	        "                     keep-alive or a connection per request (Connection:\n"
	        "                     close); any server answering 200 with a Content-Length\n"
	        "  --reverse          bulk: the server sends, the client receives\n"
	        "  --req N --resp N   rr: request and response sizes (default 1 and 1)\n"
	        "  --conns N          parallel connections (default 1), spread over the workers;\n"
	        "                     crr: connections open at a time\n"
	        "  --bytes N[KMG]     bulk: bytes in all (split over the connections);\n"
	        "                     rr: stop after N bytes both ways\n"
	        "  --seconds S        stop after S seconds (default 10 when nothing else says)\n"
	        "  --transactions N   rr, crr: stop after N transactions (crr: connections) in "
	        "all\n"
	        "  --raw              no ph-perf header: for Linux peers (socat, nc);\n"
	        "                     bulk sends, --reverse only receives, rr expects an echo\n"
	        "  --file F           send the contents of F instead of the pattern\n"
	        "  --wait MS          retry a refused connect for MS (default 5000)\n"
	        "server:\n"
	        "  (from ph-perf clients: the header says the test; any number of tests)\n"
	        "  --raw              no header: every connection is a test of its own\n"
	        "  --sink             raw: count (and with --sha256 hash) what arrives (default)\n"
	        "  --source N[KMG]    raw: send N bytes of the pattern (or --file F) to each "
	        "client\n"
	        "  --count N, --once  exit after N tests (one); exit status says if all passed\n"
	        "  --reuseport        a listener per worker lcore (SO_REUSEPORT) instead of\n"
	        "                     the host's one listener with an accept queue per worker\n"
	        "  --udp              also echo UDP datagrams arriving on PORT\n"
	        "both:\n"
	        "  --sha256           hash the data stream (what was received, else what was "
	        "sent)\n"
	        "  --expect-sha256 H  fail unless each connection's stream hashes to H\n"
	        "  --verify, --no-verify  compare every received byte with the pattern (default:\n"
	        "                     on between ph-perf ends, off with --raw)\n"
	        "  --seed S           pattern seed (default 1)\n"
	        "  --chunk N          bytes per send call (default 128K)\n"
	        "  --sndbuf N --rcvbuf N  socket buffer sizes\n"
	        "  --nodelay, --no-nodelay  TCP_NODELAY (default: on for rr, off for bulk;\n"
	        "                     the server follows the test its client asks for)\n"
	        "  --timeout S        fail a connection on which nothing moved for S s (default "
	        "20)\n"
	        "  --json             one JSON object per result on stdout\n"
	        "  -v, --verbose      a line per connection\n");
}

enum {
	O_TEST = 256,
	O_REVERSE,
	O_REQ,
	O_RESP,
	O_CONNS,
	O_BYTES,
	O_SECONDS,
	O_TRANS,
	O_RAW,
	O_SINK,
	O_SOURCE,
	O_FILE,
	O_SHA,
	O_EXPECT,
	O_VERIFY,
	O_NOVERIFY,
	O_SEED,
	O_JSON,
	O_COUNT,
	O_ONCE,
	O_WAIT,
	O_TIMEOUT,
	O_CHUNK,
	O_SNDBUF,
	O_RCVBUF,
	O_NODELAY,
	O_NONODELAY,
	O_REUSEPORT,
	O_UDP,
	O_WINDOW,
	O_HTTP_PATH,
};

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	        {"test", required_argument, NULL, O_TEST},
	        {"reverse", no_argument, NULL, O_REVERSE},
	        {"req", required_argument, NULL, O_REQ},
	        {"resp", required_argument, NULL, O_RESP},
	        {"conns", required_argument, NULL, O_CONNS},
	        {"bytes", required_argument, NULL, O_BYTES},
	        {"seconds", required_argument, NULL, O_SECONDS},
	        {"transactions", required_argument, NULL, O_TRANS},
	        {"raw", no_argument, NULL, O_RAW},
	        {"sink", no_argument, NULL, O_SINK},
	        {"source", required_argument, NULL, O_SOURCE},
	        {"file", required_argument, NULL, O_FILE},
	        {"sha256", no_argument, NULL, O_SHA},
	        {"expect-sha256", required_argument, NULL, O_EXPECT},
	        {"verify", no_argument, NULL, O_VERIFY},
	        {"no-verify", no_argument, NULL, O_NOVERIFY},
	        {"seed", required_argument, NULL, O_SEED},
	        {"json", no_argument, NULL, O_JSON},
	        {"count", required_argument, NULL, O_COUNT},
	        {"once", no_argument, NULL, O_ONCE},
	        {"wait", required_argument, NULL, O_WAIT},
	        {"timeout", required_argument, NULL, O_TIMEOUT},
	        {"chunk", required_argument, NULL, O_CHUNK},
	        {"sndbuf", required_argument, NULL, O_SNDBUF},
	        {"rcvbuf", required_argument, NULL, O_RCVBUF},
	        {"nodelay", no_argument, NULL, O_NODELAY},
	        {"no-nodelay", no_argument, NULL, O_NONODELAY},
	        {"reuseport", no_argument, NULL, O_REUSEPORT},
	        {"udp", no_argument, NULL, O_UDP},
	        {"window", required_argument, NULL, O_WINDOW},
	        {"path", required_argument, NULL, O_HTTP_PATH},
	        {"verbose", no_argument, NULL, 'v'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *mode = argc > 1 ? argv[1] : "";
	uint32_t u;
	int opt;

	if (strcmp(mode, "server") == 0)
		o->server = true;
	else if (strcmp(mode, "client") != 0)
		return -1;
	/* The mode is consumed: getopt sees the program name and the options. */
	argv[1] = argv[0];
	argc--;
	argv++;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		int bad = 0;

		switch (opt) {
		case O_TEST:
			if (strcmp(optarg, "bulk") == 0)
				o->test = TEST_BULK;
			else if (strcmp(optarg, "rr") == 0)
				o->test = TEST_RR;
			else if (strcmp(optarg, "crr") == 0)
				o->test = TEST_CRR;
			else if (strcmp(optarg, "udp") == 0)
				o->test = TEST_UDP;
			else if (strcmp(optarg, "http") == 0)
				o->test = TEST_HTTP;
			else if (strcmp(optarg, "http-close") == 0)
				o->test = TEST_HTTP_CLOSE;
			else
				bad = 1;
			break;
		case O_REVERSE:
			o->reverse = true;
			break;
		case O_REQ:
			bad = parse_u32(optarg, 1, 1u << 30, &o->req);
			break;
		case O_RESP:
			bad = parse_u32(optarg, 1, 1u << 30, &o->resp);
			break;
		case O_CONNS:
			bad = parse_u32(optarg, 1, 65535, &u);
			o->conns = u;
			break;
		case O_BYTES:
			bad = parse_size(optarg, &o->bytes) || o->bytes == 0;
			break;
		case O_SECONDS: {
			char *end;

			o->seconds = strtod(optarg, &end);
			bad = *end != '\0' || !(o->seconds > 0 && o->seconds < 4e6);
			break;
		}
		case O_TRANS:
			bad = parse_size(optarg, &o->transactions) || o->transactions == 0;
			break;
		case O_RAW:
			o->raw = true;
			break;
		case O_SINK:
			o->sink = true;
			break;
		case O_SOURCE:
			bad = parse_size(optarg, &o->source);
			o->source_set = true;
			break;
		case O_FILE:
			o->file = optarg;
			break;
		case O_SHA:
			o->hash = true;
			break;
		case O_EXPECT:
			bad = unhex32(optarg, o->expect);
			o->has_expect = true;
			break;
		case O_VERIFY:
			o->verify = 1;
			break;
		case O_NOVERIFY:
			o->verify = 0;
			break;
		case O_SEED:
			bad = parse_size(optarg, &o->seed);
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_COUNT:
			bad = parse_u32(optarg, 1, UINT32_MAX, &u);
			o->count = u;
			break;
		case O_ONCE:
			o->count = 1;
			break;
		case O_WAIT:
			bad = parse_u32(optarg, 0, UINT32_MAX, &u);
			o->wait_ms = u;
			break;
		case O_TIMEOUT:
			bad = parse_u32(optarg, 0, 1000000, &u);
			o->timeout_s = u;
			break;
		case O_CHUNK:
			bad = parse_u32(optarg, 1, 1u << 24, &o->chunk);
			break;
		case O_SNDBUF:
			bad = parse_u32(optarg, 1, 1u << 30, &o->sndbuf);
			break;
		case O_RCVBUF:
			bad = parse_u32(optarg, 1, 1u << 30, &o->rcvbuf);
			break;
		case O_NODELAY:
			o->nodelay = 1;
			break;
		case O_NONODELAY:
			o->nodelay = 0;
			break;
		case O_REUSEPORT:
			o->reuseport = true;
			break;
		case O_UDP:
			o->udp_echo = true;
			break;
		case O_WINDOW:
			bad = parse_u32(optarg, 1, 4096, &o->window);
			break;
		case O_HTTP_PATH:
			o->path = optarg;
			bad = optarg[0] != '/' || strlen(optarg) > 256 ||
			      strpbrk(optarg, " \r\n") != NULL;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
		if (bad) {
			fprintf(stderr, "ph-perf: bad value for %s: %s\n", argv[optind - 1],
			        optarg);
			return -1;
		}
	}
	if (optind != argc - 1 || parse_addr(argv[optind], !o->server, &o->ip, &o->port) < 0) {
		fprintf(stderr, "ph-perf: %s needs %s\n", o->server ? "server" : "client",
		        o->server ? "[ADDR:]PORT" : "ADDR:PORT");
		return -1;
	}
	if (is_rr(o->test) && o->reverse) {
		fprintf(stderr, "ph-perf: --reverse is for bulk tests\n");
		return -1;
	}
	if (o->test == TEST_CRR && (o->raw || o->hash || o->has_expect || o->file != NULL)) {
		fprintf(stderr, "ph-perf: crr is between ph-perf ends, on the pattern, unhashed\n");
		return -1;
	}
	if (!o->server && o->raw && o->test == TEST_RR && o->req != o->resp && o->verify == 1) {
		fprintf(stderr, "ph-perf: --raw rr checks an echo: --req must equal --resp\n");
		return -1;
	}
	if (o->test == TEST_UDP &&
	    (o->raw || o->bytes || o->transactions || o->req < UDP_HDR || o->req > 65507)) {
		fprintf(stderr, "ph-perf: udp runs for --seconds with --req %u..65507 bytes\n",
		        UDP_HDR);
		return -1;
	}
	if (o->test == TEST_UDP)
		o->resp = o->req; /* an echo */
	if (is_http(o->test) && (o->raw || o->bytes || o->transactions || o->server)) {
		fprintf(stderr, "ph-perf: http tests are a client's, and run for --seconds\n");
		return -1;
	}
	if (!o->server && o->bytes == 0 && o->seconds == 0 && o->transactions == 0)
		o->seconds = 10;
	return 0;
}

/* The client's share of BYTES (or transactions) for connection I of N. */
static uint64_t
share(uint64_t total, unsigned i, unsigned n)
{
	return total / n + (i < total % n);
}

static int
client_setup(struct run *r)
{
	struct opts *o = r->o;
	uint64_t trans = o->transactions;

	if (is_rr(o->test) && trans == 0)
		trans = o->bytes > 0 ? (o->bytes + o->req + o->resp - 1) / (o->req + o->resp)
		                     : UINT64_MAX;
	if (!is_rr(o->test))
		trans = UINT64_MAX;
	else if (trans != UINT64_MAX && trans < o->conns)
		o->conns = (unsigned)trans; /* no connection without a transaction */
	atomic_store(&r->left, r->n_workers);
	r->test_id = arc4random();
	for (unsigned i = 0; i < r->n_workers; i++) {
		struct worker *w = &r->workers[i];

		w->n_conns = o->conns / r->n_workers + (i < o->conns % r->n_workers);
		w->conns = calloc(w->n_conns ? w->n_conns : 1, sizeof(*w->conns));
		if (w->conns == NULL)
			return -1;
		w->active = w->n_conns;
	}
	if (o->test == TEST_UDP || is_http(o->test))
		return 0; /* sockets of their own: udp_ or http_client_worker */
	for (unsigned i = 0; i < o->conns; i++) {
		struct worker *w = &r->workers[i % r->n_workers];
		struct conn *c = &w->conns[i / r->n_workers];

		conn_common_init(c, w);
		c->idx = i;
		conn_client_setup(
		        c, r,
		        o->test == TEST_BULK && o->bytes > 0 ? share(o->bytes, i, o->conns) : 0,
		        trans == UINT64_MAX ? UINT64_MAX : share(trans, i, o->conns));
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = {
	        .verify = -1,
	        .nodelay = -1,
	        .test = TEST_BULK,
	        .conns = 1,
	        .req = 1,
	        .resp = 1,
	        .seed = 1,
	        .wait_ms = 5000,
	        .timeout_s = 20,
	        .chunk = 128 * 1024,
	        .window = 16,
	        .path = "/",
	};
	struct run *r = &the_run;
	int used, rc = 0, fini;

	setvbuf(stdout, NULL, _IOLBF, 0);
	out = stdout;
	sha256_setup();
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "gen") == 0)
		return gen_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "sha256") == 0)
		return sha256_main(argc - 1, argv + 1);
	used = ph_init(argc, argv);
	if (used < 0) {
		fprintf(stderr, "ph-perf: %s\n", ph_init_error());
		return errno == EINVAL || errno == ENOENT ? 2 : 1;
	}
	/* What ph_init() left (after its "--", if any), behind the program name. */
	argv[used - 1] = argv[0];
	argc -= used - 1;
	argv += used - 1;
	if (parse_opts(argc, argv, &o) < 0) {
		usage(stderr);
		ph_fini(NULL);
		return 2;
	}
	r->o = &o;
	r->n_workers = ph_worker_count() ? ph_worker_count() : 1;
	r->workers = calloc(r->n_workers, sizeof(*r->workers));
	r->pattern = pattern_get(o.seed);
	if (r->workers == NULL || r->pattern == NULL) {
		ph_fini(NULL);
		return 1;
	}
	r->src = *r->pattern;
	if (o.file != NULL && file_source(&r->src, o.file) < 0) {
		ph_fini(NULL);
		return 2;
	}
	if (o.server && o.raw && o.file != NULL && !o.source_set) {
		o.source = r->src.period;
		o.source_set = true;
	}
	if (!o.server && o.file != NULL && o.bytes == 0 && o.seconds == 0)
		o.bytes = r->src.period;
	for (unsigned i = 0; i < r->n_workers; i++) {
		r->workers[i].o = &o;
		r->workers[i].idx = i;
	}
	ph_stop_on_signals();
	if (o.server) {
		rc = ph_run(server_worker, r);
	} else {
		if (client_setup(r) < 0) {
			ph_fini(NULL);
			return 1;
		}
		rc = ph_run(o.test == TEST_UDP ? udp_client_worker
		            : is_http(o.test)  ? http_client_worker
		                               : client_worker,
		            r);
	}
	/* The host's counters go to stderr: stdout carries the results. */
	fini = ph_fini(stderr);
	if (fini < 0)
		fprintf(stderr, "ph-perf: packet buffers missing at shutdown\n");
	if (o.server) {
		unsigned failed = tests_failed;

		for (struct test_rec *t = recs; t != NULL; t = t->next)
			failed++;
		for (unsigned i = 0; i < r->n_workers; i++)
			rc |= r->workers[i].rc;
		if (!o.json) {
			/* Where the connections were accepted: with one listener
			 * for the host, each worker takes the flows its lcore owns. */
			printf("ph-perf: server tests=%u failed=%u accepted=", tests_done, failed);
			for (unsigned i = 0; i < r->n_workers; i++)
				printf("%s%" PRIu64, i ? "," : "", r->workers[i].accepted);
			if (o.udp_echo) {
				uint64_t echoed = 0, lost = 0;

				for (unsigned i = 0; i < r->n_workers; i++) {
					echoed += r->workers[i].udp_echoed;
					lost += r->workers[i].udp_lost;
				}
				printf(" udp_echoed=%" PRIu64 " udp_not_sent=%" PRIu64, echoed,
				       lost);
			}
			printf(" result=%s\n", rc || failed || fini < 0 ? "FAIL" : "ok");
		}
		return rc || failed || fini < 0 ? 1 : 0;
	}
	for (unsigned i = 0; i < r->n_workers; i++)
		rc |= r->workers[i].rc;
	return client_report(r, fini) || rc ? 1 : 0;
}
