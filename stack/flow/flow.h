/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow ownership and steering, between IPv4 input and the transports. The
 * owner of a flow is the worker lcore whose RX queue the port's RSS sends it
 * to: drivers/rss.h holds the key and redirection table the port was
 * programmed with (or, for a device without RSS, the same key and a table
 * that stand for what it should have done), and only it says which queue a
 * hash lands in. A TCP or UDP packet that lands on another lcore (a device
 * that hashes by its own rule, like net_tap's kernel side, or none at all,
 * like net_memif and net_ring) is handed to its owner over a ring of that
 * pair of lcores (one producer, one consumer), in bursts; the owner carries
 * it on from IPv4 input. Fragments carry no ports: they go to the owner of
 * their address pair, which reassembles them and then hands the datagram to
 * the owner of its ports. So every TCP connection and every UDP flow is
 * handled by one lcore, without locks.
 */
#ifndef PH_FLOW_FLOW_H
#define PH_FLOW_FLOW_H

#include <stdbool.h>
#include <stdint.h>

/* Packets in flight from one lcore to another. */
#define FLOW_STEER_RING 1024

struct ipv4_repr;
struct ph_host;
struct ph_lcore;
struct ph_port;
struct rte_mbuf;

/* The lcore (index) that polls RX queue Q of every port: workers take
 * queues round-robin (host.c). */
static inline uint16_t
flow_lcore_of_queue(uint16_t n_lcores, uint16_t n_workers, uint16_t q)
{
	return (uint16_t)(q % n_workers + (n_lcores > 1 ? 1 : 0));
}

/* The owner of what hashes to HASH on port P. */
uint16_t flow_owner_hash(const struct ph_host *h, const struct ph_port *p, uint32_t hash);
/* The owner of the IPv4 TCP/UDP flow SRC:SPORT -> DST:DPORT arriving on P. */
uint16_t flow_owner_l4(const struct ph_host *h, const struct ph_port *p, uint32_t src, uint32_t dst,
                       uint16_t sport, uint16_t dport);
/* The owner of what arrives on P from SRC to DST with no ports (fragments). */
uint16_t flow_owner_l3(const struct ph_host *h, const struct ph_port *p, uint32_t src,
                       uint32_t dst);

/* The lcore that owns M, a datagram for us with header R (validated): the
 * owner of its flow on the port it came in by, for TCP, UDP and fragments;
 * LC itself for anything else, for what this host sent itself, and when one
 * worker owns everything. */
uint16_t flow_owner_of(const struct ph_lcore *lc, struct rte_mbuf *m, const struct ipv4_repr *r);

/* How the replies of a flow LC opens toward RADDR in CTX find their lcore. */
enum flow_reply {
	FLOW_REPLY_ANY,     /* one worker owns every flow: any source port is LC's */
	FLOW_REPLY_NEVER,   /* no source port brings them to LC: LC is no worker,
	                     * polls no queue of the way in, or RADDR is ours (the
	                     * answer loops on the lcore that holds the other end) */
	FLOW_REPLY_BY_PORT, /* by *PORT's RSS: see flow_owner_l4() */
};
enum flow_reply flow_reply_way(const struct ph_lcore *lc, uint16_t ctx, uint32_t raddr,
                               const struct ph_port **port);

/* Hand M (data at its validated IPv4 header, meta filled) to lcore OWNER:
 * staged here, enqueued by flow_flush(), counted as steered_pkts. A full
 * ring drops it (steer_ring_full). */
void flow_steer(struct ph_lcore *lc, struct rte_mbuf *m, uint16_t owner);
/* Enqueue what flow_steer() staged; once per loop iteration. */
void flow_flush(struct ph_lcore *lc);
/* Take what other lcores steered here and carry it on from IPv4 input.
 * Returns how many packets. */
unsigned flow_poll(struct ph_lcore *lc);

/* Rings between every pair of worker lcores; 0 or -errno. */
int flow_host_init(struct ph_host *h);
/* Free the rings; packets left in them or staged count as shutdown drops. */
void flow_host_fini(struct ph_host *h);

#endif
