/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 reassembly (RFC 791 3.2, RFC 815), inside IPv4 input: a fragment for
 * one of our addresses goes in, a whole datagram comes out when its last
 * missing piece arrives. Built on rte_ip_frag with tables per lcore (one per
 * routing context that has had fragments: its key has no context), so no
 * lock is taken; pure logic apart from rte_ip_frag's table allocation, which
 * unit tests provide.
 *
 * Policy (rte_ip_frag's, checked by our unit tests): a datagram may have at
 * most RTE_LIBRTE_IP_FRAG_MAX_FRAG (8 in Debian's DPDK) fragments; an
 * overlapping or duplicate fragment discards the whole datagram (RFC 5722's
 * rule for IPv6, the safe choice for IPv4 too); an incomplete datagram is
 * discarded after the timeout; when the table is full, new datagrams are
 * refused. Every discarded fragment is counted (ip_reassembly_failed), every
 * failure event moves ipReasmFails.
 */
#ifndef PH_IPV4_FRAG_H
#define PH_IPV4_FRAG_H

#include <stdint.h>

#include "wire/ipv4.h"

struct ph_lcore;
struct rte_mbuf;

/*
 * Add fragment M (data at its IPv4 header, R its parsed header, already
 * checked with ipv4_fragment_valid()), received in context CTX. Returns the whole datagram (a chain,
 * data at a header with the total length updated) when complete, else NULL:
 * the fragment is held, or was discarded and counted.
 */
struct rte_mbuf *ipv4_reassemble(struct ph_lcore *lc, struct rte_mbuf *m, const struct ipv4_repr *r,
                                 uint16_t ctx);

#endif
