/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP (RFC 792, RFC 1122 3.2.2) on the lead core: echo replies, and the
 * error messages the rest of the stack asks for, rate-limited host-wide by a
 * token bucket. IPv4 input on any lcore hands ICMP messages for us, and
 * packets that deserve an error, to the lead.
 */
#ifndef PH_ICMP_ICMP_H
#define PH_ICMP_ICMP_H

#include <stdint.h>

struct ph_lcore;
struct rte_mbuf;

/* The protocol handler IPv4 input calls (any lcore): hands the burst to the lead. */
void icmp_rx(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n);

/* An ICMP message for us; data at its IPv4 header. Consumes M. */
void icmp_input(struct ph_lcore *lead, struct rte_mbuf *m);

/*
 * Send the error meta.icmp_type/icmp_code about M (data at its IPv4 header)
 * unless RFC 1122 3.2.2 forbids it or the rate limit says no. Frees M; the
 * caller has already counted why M itself was not delivered.
 */
void icmp_error(struct ph_lcore *lead, struct rte_mbuf *m);

#endif
