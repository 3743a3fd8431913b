/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection on a port's bursts: the first thing a received frame meets
 * (host.c, straight after rte_eth_rx_burst) and the last thing a sent frame
 * meets (eth.c, before rte_eth_tx_buffer). This kernel has no netem, so a
 * lossy, reordering, corrupting or slow link is made here, seeded and so
 * reproducible, on any port (net_memif, net_tap, a NIC).
 *
 * Why our own wrappers and not ethdev RX/TX callbacks: a TX callback cannot
 * drop or hold a packet without lying to the caller about how many were sent,
 * and neither kind can hold packets across bursts.
 *
 * State is per (port, queue, direction), a struct fault_q, owned by the lcore
 * that polls (RX) or sends on (TX) that queue: no locks. Its counters are
 * written by that lcore only and read by telemetry with relaxed loads.
 * With no fault configured the port's pointer is NULL and the cost is one
 * predictable branch per RX burst and per TX packet.
 *
 * The spec, as in `fault = SPEC` of a [port NAME] section or `--fault
 * PORT=SPEC` on the command line: comma-separated items, or "none".
 * Probabilities are 0..1 or a percentage ("0.01" or "1%").
 *
 *   drop=P          lose a packet with probability P (uniform)
 *   ge=P:R[:B[:G]]  Gilbert-Elliott bursty loss: per packet, good->bad with
 *                   probability P, bad->good with R (mean burst 1/R packets);
 *                   loss B in the bad state (default 1), G in the good (0).
 *                   Mean loss P/(P+R)*B + R/(P+R)*G.
 *   dup=P           send a packet twice (a copy: the stack writes in place)
 *   delay=MS        hold every packet MS ms (order kept)
 *   reorder=P       hold a packet with probability P for `delay` ms (default
 *                   1 ms) so later ones overtake it; the others pass at once
 *   corrupt=P       flip one random bit of an IPv4 packet, past the Ethernet
 *                   header, so its checksums catch it (checksum offloads of
 *                   that packet are done in software first, or forgotten on RX)
 *   truncate=P      cut a random number of bytes (at least one of the IP
 *                   datagram) off the end of a frame
 *   rate=MBIT       token bucket of MBIT Mbit/s (frame bytes, no preamble/FCS)
 *   burst=BYTES     its depth (16384..67108864; default the larger of 64 KiB
 *                   and 2 ms at the rate)
 *   queue=N         packets over the rate wait in a queue of N (0..4096);
 *                   default 0: they are dropped (a policer)
 *   acks-only       every fault above applies only to pure TCP ACKs (ACK set,
 *                   no SYN/FIN/RST, no payload); other packets pass untouched
 *   blackhole=T1-T2 drop everything from T1 ms to T2 ms after the host started
 *   dir=rx|tx|both  which bursts (default both)
 *   seed=N          the seed (default 1); each queue's generator is seeded from
 *                   it, the port, the queue and the direction
 *
 * Order for one packet: selection (acks-only), black hole, Gilbert-Elliott,
 * drop, duplication; then for each copy: corruption, truncation, delay or
 * reorder, rate. Given the seed, the same packets in the same order on a
 * queue meet the same fate; what depends on time (delay, rate, black hole)
 * is as reproducible as the clock.
 *
 * Packets held (delay, reorder) are bounded by FAULT_HOLD_MAX per queue,
 * beyond which they are dropped and counted (fault_held_overflow); whatever
 * is held when the port closes is freed and counted as a shutdown drop.
 */
#ifndef PH_DRIVERS_FAULT_H
#define PH_DRIVERS_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rte_mbuf;
struct rte_mempool;
struct rte_eth_dev_tx_buffer;

#define FAULT_RX         1
#define FAULT_TX         2
#define FAULT_HOLD_MAX   4096 /* held packets per queue (a power of two) */
#define FAULT_QUEUE_MAX  4096 /* longest rate queue */
#define FAULT_BURST_MIN  16384
#define FAULT_BURST_MAX  (64u << 20)
#define FAULT_SPEC_LEN   512 /* longest spec text */
#define FAULT_REORDER_MS 1   /* hold time of reorder=P without delay=MS */

/* A parsed spec. Zero probabilities and rates are "off". */
struct fault_spec {
	double drop;
	bool ge;
	double ge_p, ge_r, ge_bad, ge_good; /* transitions, loss in each state */
	double dup;
	uint32_t delay_ms; /* 0: none (reorder then holds FAULT_REORDER_MS) */
	double reorder;
	double corrupt;
	double truncate;
	double rate_mbps; /* 0: no rate limit */
	uint32_t burst;   /* bytes; 0: the default */
	uint32_t queue;
	bool acks_only;
	bool blackhole;
	uint32_t bh_from_ms, bh_to_ms;
	uint8_t dir; /* FAULT_RX | FAULT_TX */
	uint64_t seed;
};

/* No faults, both directions, seed 1. */
void fault_spec_init(struct fault_spec *s);
/*
 * Parse TEXT over S: items given replace S's, "none" resets S. Needs no EAL.
 * 0, or -1 with what is wrong in ERR (S untouched), e.g.
 * "drop=1.5: not a probability (0..1 or 0%..100%)".
 */
int fault_spec_parse(struct fault_spec *s, const char *text, char *err, size_t errlen);
/* Whether S asks for any fault at all. */
bool fault_spec_active(const struct fault_spec *s);
/* S as a spec that parses back to it ("none" when inactive). */
void fault_spec_format(const struct fault_spec *s, char *buf, size_t len);
/* The most packet buffers one queue may hold under S (for pool sizing). */
unsigned fault_spec_mbufs(const struct fault_spec *s);
/* The bucket depth S gives, in bytes (burst=, or the default). */
uint32_t fault_spec_depth(const struct fault_spec *s);

/* ---- building blocks, exposed for the unit tests ---- */

/* xoshiro256** seeded through splitmix64. */
struct fault_rng {
	uint64_t s[4];
};

void fault_rng_seed(struct fault_rng *r, uint64_t seed, uint16_t port, uint16_t queue, uint8_t dir);

static inline uint64_t
fault_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
fault_rng_next(struct fault_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = fault_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = fault_rotl(s[3], 45);
	return out;
}

/* Probability P as a threshold on a 64-bit draw: 0 never, UINT64_MAX always. */
uint64_t fault_threshold(double p);

/* True with the probability of threshold T. Draws nothing for 0 and always. */
static inline bool
fault_chance(struct fault_rng *r, uint64_t t)
{
	return t != 0 && (t == UINT64_MAX || fault_rng_next(r) < t);
}

/* Gilbert-Elliott: the loss of one packet in the current state, then a step. */
struct fault_ge {
	uint64_t p, r, loss_bad, loss_good; /* thresholds */
	bool bad;
};

void fault_ge_init(struct fault_ge *g, const struct fault_spec *s);
bool fault_ge_lose(struct fault_ge *g, struct fault_rng *r);

/*
 * Token bucket in integers: the level is kept in bytes x HZ so that DT ticks
 * at RATE bytes/s add exactly RATE x DT, with no division on the way.
 */
struct fault_tb {
	uint64_t rate;  /* bytes per second, >= 1 */
	uint64_t hz;    /* clock ticks per second */
	uint64_t depth; /* bytes x hz */
	uint64_t level; /* bytes x hz */
	uint64_t last;  /* tick of the last refill */
};

/* Full at NOW. */
void fault_tb_init(struct fault_tb *tb, uint64_t bytes_per_s, uint32_t depth_bytes, uint64_t hz,
                   uint64_t now);
/* Take BYTES at NOW if the bucket holds them. */
bool fault_tb_take(struct fault_tb *tb, uint32_t bytes, uint64_t now);

/* ---- counters ---- */

/* clang-format off */
#define FAULT_COUNTERS(X)                                                                          \
	X(SELECTED,      "fault_selected")      /* packets the faults applied to */               \
	X(DROPPED,       "fault_dropped")       /* drop= and ge= */                               \
	X(DUPLICATED,    "fault_duplicated")                                                       \
	X(DELAYED,       "fault_delayed")       /* held by delay= */                              \
	X(REORDERED,     "fault_reordered")     /* held by reorder= */                            \
	X(CORRUPTED,     "fault_corrupted")                                                        \
	X(TRUNCATED,     "fault_truncated")                                                        \
	X(RATE_QUEUED,   "fault_rate_queued")   /* waited for tokens */                           \
	X(RATE_DROPPED,  "fault_rate_dropped")  /* over the rate, queue full or none */           \
	X(BLACKHOLED,    "fault_blackholed")                                                       \
	X(HELD_OVERFLOW, "fault_held_overflow") /* hold queue full: dropped */                    \
	X(COPY_FAILED,   "fault_copy_failed")   /* no mbuf for a copy: not duplicated/altered */
/* clang-format on */

enum fault_ctr {
#define FAULT_X(name, str) FAULT_CTR_##name,
	FAULT_COUNTERS(FAULT_X)
#undef FAULT_X
	        FAULT_CTR_MAX
};

extern const char *const fault_ctr_names[FAULT_CTR_MAX];

/* ---- one queue (needs mbufs, but no EAL: unit tests use a fake pool) ---- */

struct fault_q;

/*
 * State for queue QUEUE of port PORT (our index) in direction DIR (FAULT_RX
 * or FAULT_TX). Copies come from POOL; the clock ticks HZ times a second and
 * the black hole counts from START. NULL with errno set on failure.
 */
struct fault_q *fault_q_create(const struct fault_spec *s, uint8_t dir, uint16_t port,
                               uint16_t queue, struct rte_mempool *pool, uint64_t hz,
                               uint64_t start, int socket);
/* Free Q and every packet it holds; returns how many packets that was. */
unsigned fault_q_free(struct fault_q *q);

/*
 * Pass IN[0..N) through the faults at NOW; what goes on now lands in OUT
 * (returns how many), the rest is dropped, held or queued. OUT must have
 * room for fault_q_room()'s worth of inputs: extra outputs are dropped and
 * counted as fault_held_overflow.
 */
uint16_t fault_q_apply(struct fault_q *q, struct rte_mbuf **in, uint16_t n, struct rte_mbuf **out,
                       uint16_t cap, uint64_t now);
/* Packets whose time has come (rate queue, then held ones), at most CAP. */
uint16_t fault_q_release(struct fault_q *q, struct rte_mbuf **out, uint16_t cap, uint64_t now);
/* How many inputs fit in CAP outputs (half of it when duplicating). */
uint16_t fault_q_room(const struct fault_q *q, uint16_t cap);
/* Packets held or queued now. */
unsigned fault_q_held(const struct fault_q *q);
uint64_t fault_q_ctr(const struct fault_q *q, enum fault_ctr c);

/* ---- a port: its RX and TX queues ---- */

struct fault_port {
	struct fault_spec spec;
	uint16_t n_rxq, n_txq;
	struct fault_q **rx; /* [n_rxq]; NULL when the spec leaves RX alone */
	struct fault_q **tx; /* [n_txq]; NULL when it leaves TX alone */
};

struct fault_port *fault_port_create(const struct fault_spec *s, uint16_t port, uint16_t n_rxq,
                                     uint16_t n_txq, struct rte_mempool *pool, uint64_t hz,
                                     uint64_t start, int socket);
/* Free the packets every queue holds (the port is closing); how many. */
unsigned fault_port_drain(struct fault_port *fp);
/* Free FP (and anything still held). NULL is fine. */
void fault_port_free(struct fault_port *fp);
/* Counter C summed over the queues of DIRS (FAULT_RX | FAULT_TX). Any thread. */
uint64_t fault_port_ctr(const struct fault_port *fp, uint8_t dirs, enum fault_ctr c);
/* The shutdown report's lines for port NAME: the spec and non-zero counters. */
void fault_port_print(const struct fault_port *fp, const char *name, FILE *out);

/* ---- the ethdev side (fault_eth.c, needs EAL) ---- */

/* rte_eth_rx_burst() through FP's RX faults: at most CAP packets in PKTS. */
uint16_t fault_rx_burst(struct fault_port *fp, uint16_t port_id, uint16_t queue,
                        struct rte_mbuf **pkts, uint16_t cap, uint64_t now);
/* rte_eth_tx_buffer() through FP's TX faults. Consumes M. */
void fault_tx_buffer(struct fault_port *fp, uint16_t port_id, uint16_t queue,
                     struct rte_eth_dev_tx_buffer *b, struct rte_mbuf *m, uint64_t now);
/* Put the held TX packets whose time has come into B; how many. */
unsigned fault_tx_release(struct fault_port *fp, uint16_t port_id, uint16_t queue,
                          struct rte_eth_dev_tx_buffer *b, uint64_t now);

#endif
