/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Internet checksum (RFC 1071) helpers the stack adds to DPDK's
 * rte_raw_cksum family: an incremental update (RFC 1624) for headers we
 * rewrite in place (echo replies today, TTL decrement when forwarding).
 */
#ifndef PH_WIRE_CSUM_H
#define PH_WIRE_CSUM_H

#include <stdint.h>

/*
 * New checksum after one 16-bit word of the covered data changes from OLD to
 * NEW. All three values are in the same byte order as on the wire (RFC 1624,
 * equation 3: HC' = ~(~HC + ~m + m')).
 */
static inline uint16_t
csum_update16(uint16_t csum, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~csum + (uint16_t)~old + (uint32_t) new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Same, for a 32-bit word (an address), as two 16-bit words. */
static inline uint16_t
csum_update32(uint16_t csum, uint32_t old, uint32_t new)
{
	csum = csum_update16(csum, (uint16_t)(old >> 16), (uint16_t)(new >> 16));
	return csum_update16(csum, (uint16_t)old, (uint16_t) new);
}

#endif
