/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP in the running host: IPv4 input -> tcp_ip_input() (checksum, parse,
 * the lcore's struct tcp_stack) and the stack's segments -> mbufs ->
 * ipv4_output(). Each lcore runs its own TCP; its timers turn in
 * ph_lcore_poll(). The socket API reaches a connection through the socket
 * that holds it (struct ph_sock.tcp) and calls tcp_glue_now() first so the
 * state machine sees the lcore's clock.
 */
#ifndef PH_TCP_TCP_GLUE_H
#define PH_TCP_TCP_GLUE_H

#include <stdint.h>

struct ph_host;
struct ph_lcore;
struct rte_mbuf;
struct ph_sock;

/* Host-wide TCP state (the listener registry). 0 or -ENOMEM. */
int tcp_host_init(struct ph_host *h);
void tcp_host_fini(struct ph_host *h);
int tcp_lcore_init(struct ph_lcore *lc);
void tcp_lcore_fini(struct ph_lcore *lc);

/* IPv4 protocol handler: data at the IPv4 header. */
void tcp_ip_input(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n);
/* An ICMP error on the lead core (ph_icmp_err_fn): M holds it from its IPv4
 * header. Every lcore looks for the quoted connection. Consumes M. */
void tcp_icmp_error(struct ph_lcore *lead, struct rte_mbuf *m, uint16_t quote);
/* A segment or ICMP error another lcore passed to this one
 * (PH_INBOX_TCP_SEG, PH_INBOX_TCP_ICMP). Consumes M. */
void tcp_inbox_input(struct ph_lcore *lc, struct rte_mbuf *m);
/* Refresh the stack's clock and run due timers. Returns how many fired. */
unsigned tcp_lcore_poll(struct ph_lcore *lc);
/* Refresh the stack's clock (before a user call). */
void tcp_glue_now(struct ph_lcore *lc);

/* One connection, as `phctl conns` lists it (like `ss -tni`). */
struct tcp_conn_info {
	uint16_t lcore, ctx;
	uint8_t state;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t recvq, sendq; /* bytes unread / not yet acknowledged */
	uint32_t rtt_us, rttvar_us, rto_ms;
	uint32_t cwnd, ssthresh, mss; /* cwnd and ssthresh in segments */
	uint8_t snd_ws, rcv_ws;
	bool ts, sack, ws;
	uint32_t retrans, backlog, accept_q;
	uint64_t bytes_acked, bytes_received, segs_in, segs_out;
};

/* Up to MAX connections of LC after the first SKIP; *TOTAL about how many it
 * has. Any thread: LC's list is walked under its lock, which LC takes only
 * to add or free a connection, and held for at most SKIP + MAX entries. */
unsigned tcp_conn_list(struct ph_lcore *lc, unsigned skip, struct tcp_conn_info *out, unsigned max,
                       unsigned *total);

#endif
