/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP (RFC 768, RFC 1122 4.1): IPv4 input -> udp_input() -> the socket's
 * receive queue on its owner lcore; the socket API -> udp_send() ->
 * ipv4_output(). ICMP errors about our datagrams come back through
 * udp_icmp_error() on the lead core and end as SO_ERROR on connected sockets.
 *
 * Bindings are host-wide, keyed by (context, local address, local port), with
 * address 0 for a wildcard bind. Every lcore reads the table without locks
 * (rte_hash, lock-free readers); the lcores that bind and close write it under
 * one spinlock, replacing an entry rather than changing it in place, and the
 * replaced entry is freed after RCU quiescence. Sockets sharing a binding
 * (SO_REUSEADDR, SO_REUSEPORT) are its members; a datagram goes to the member
 * connected to its source, else to a member on the lcore it arrived on (so a
 * service bound with SO_REUSEPORT on every worker gets each flow on the lcore
 * that received it), else to one chosen by a hash of the flow.
 */
#ifndef PH_UDP_UDP_H
#define PH_UDP_UDP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct ph_host;
struct ph_lcore;
struct ph_sock;
struct rte_mbuf;

#define UDP_HDR_LEN     8
#define UDP_MAX_PAYLOAD (65535 - 20 - UDP_HDR_LEN)
/* Linux's default net.core.rmem_default / wmem_default, reported doubled. */
#define UDP_DEFAULT_BUF 212992u

int udp_init(struct ph_host *h);
void udp_fini(struct ph_host *h);

/* IPv4 protocol handler: data at the IPv4 header. */
void udp_input(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n);
/* An ICMP error on the lead core: M holds it from its IPv4 header; QUOTE is
 * the offset of the quoted IPv4 header. Consumes M. */
void udp_icmp_error(struct ph_lcore *lead, struct rte_mbuf *m, uint16_t quote);

/* The owner lcore's side of the inbox (see sock.h). Both consume M. */
void udp_deliver(struct ph_lcore *lc, int fd, struct rte_mbuf *m);
void udp_sock_error(struct ph_lcore *lc, int fd, struct rte_mbuf *m);

/* Socket operations; 0 (or a count) or -errno. */
void udp_sock_init(struct ph_sock *s, uint16_t ctx);
int udp_bind(struct ph_lcore *lc, struct ph_sock *s, uint32_t ip, uint16_t port);
/* IP 0 and PORT 0 dissolve the association (connect with AF_UNSPEC). */
int udp_connect(struct ph_lcore *lc, struct ph_sock *s, uint32_t ip, uint16_t port);
/* Send LEN bytes gathered from IOV to DST:DPORT (or to the peer if HAS_DST is false). */
ssize_t udp_send(struct ph_lcore *lc, struct ph_sock *s, const struct iovec *iov, int iovcnt,
                 size_t len, bool has_dst, uint32_t dst, uint16_t dport);
/* Send the payload in M (data at the payload, headroom for the headers).
 * On success M belongs to the stack; on failure it is the caller's, unchanged. */
int udp_send_mbuf(struct ph_lcore *lc, struct ph_sock *s, struct rte_mbuf *m, bool has_dst,
                  uint32_t dst, uint16_t dport);
/* Source address and port of a queued datagram (data at its payload). */
void udp_peer_of(const struct rte_mbuf *m, uint32_t *ip, uint16_t *port);
int udp_shutdown(struct ph_lcore *lc, struct ph_sock *s, int how);
/* S's SO_REUSEADDR/SO_REUSEPORT changed: later binds see the new ones. */
int udp_sock_changed(struct ph_lcore *lc, struct ph_sock *s);
void udp_close(struct ph_lcore *lc, struct ph_sock *s);
/* Move an unbound socket to another context. */
int udp_set_ctx(struct ph_lcore *lc, struct ph_sock *s, uint16_t ctx);

/* One bound socket, as `phctl socks` lists it. */
struct udp_sock_info {
	uint16_t ctx;
	uint32_t laddr; /* 0: every address of the context */
	uint16_t lport;
	uint32_t raddr; /* connected peer, or 0 */
	uint16_t rport;
	uint16_t lcore;
	int32_t fd;
	bool reuseaddr, reuseport;
};

/* Up to MAX bound sockets after the first SKIP, by (context, port, address);
 * *TOTAL gets how many there are. Any thread (it takes the writers' lock). */
unsigned udp_list(struct ph_host *h, unsigned skip, struct udp_sock_info *out, unsigned max,
                  unsigned *total);

#endif
