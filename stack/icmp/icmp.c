/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP input and error output on the lead core (see icmp.h).
 */
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "core/host.h"
#include "core/pkt.h"
#include "host/lead.h"
#include "icmp/icmp.h"
#include "ipv4/ipv4.h"
#include "wire/csum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

/* An error datagram is at most 576 bytes (RFC 1812 4.3.2.3): this much of the
 * offending datagram fits after our IPv4 and ICMP headers. */
#define ICMP_ERR_QUOTE_MAX (576 - IPV4_MIN_HDR - ICMP_HDR_LEN)
/* Precedence "internetwork control", as Linux marks its ICMP errors. */
#define ICMP_ERR_TOS 0xc0

void
icmp_rx(struct ph_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		ph_to_lead(lc, pkts[i], PH_LEAD_ICMP_INPUT);
}

static void
icmp_echo_reply(struct ph_lcore *lead, struct rte_mbuf *m, uint16_t hl)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	struct ph_pkt_meta *meta = ph_pkt_meta(m);
	struct ipv4_out o = {
	        .src = meta->local,
	        .dst = rte_be_to_cpu_32(ip->src_addr),
	        .ctx = meta->ctx,
	        .proto = IPPROTO_ICMP,
	        .tos = ip->type_of_service,
	};
	uint8_t *icmp = rte_pktmbuf_mtod_offset(m, uint8_t *, hl);
	uint16_t old, new, csum;

	/* Type and code form the first 16-bit word: update the checksum for it. */
	memcpy(&old, icmp, 2);
	icmp[0] = ICMP_ECHOREPLY;
	memcpy(&new, icmp, 2);
	memcpy(&csum, icmp + 2, 2);
	csum = csum_update16(csum, old, new);
	memcpy(icmp + 2, &csum, 2);

	rte_pktmbuf_adj(m, hl);
	m->ol_flags = 0;
	ph_mib(lead, PH_MIB_icmpOutMsgs);
	ph_mib(lead, PH_MIB_icmpOutEchoReps);
	ipv4_output(lead, m, &o);
}

/* An error about a datagram we sent: the transport that sent it decides
 * (RFC 1122 3.2.2: "MUST be passed to the transport layer"). */
static void
icmp_error_input(struct ph_lcore *lead, struct rte_mbuf *m, uint16_t hl, const struct icmp_repr *r)
{
	struct ph_pkt_meta *meta = ph_pkt_meta(m);
	uint16_t quote = (uint16_t)(hl + ICMP_HDR_LEN);
	uint8_t proto_buf;
	const uint8_t *proto = rte_pktmbuf_read(m, quote + 9, 1, &proto_buf);
	ph_icmp_err_fn fn;

	if (proto == NULL || (fn = lead->host->icmp_err[*proto]) == NULL) {
		ph_drop(lead, m, PH_DROP_ICMP_UNHANDLED);
		return;
	}
	meta->icmp_type = r->type;
	meta->icmp_code = r->code;
	fn(lead, m, quote);
}

void
icmp_input(struct ph_lcore *lead, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	struct ph_pkt_meta *meta = ph_pkt_meta(m);
	uint16_t hl = (uint16_t)rte_ipv4_hdr_len(ip);
	uint32_t len = rte_pktmbuf_pkt_len(m) - hl;
	struct icmp_repr r;
	uint16_t sum = 0;
	enum ph_drop why;

	ph_mib(lead, PH_MIB_icmpInMsgs);
	/* The fixed header must be in the first segment, where it is rewritten. */
	if (rte_pktmbuf_data_len(m) < hl + ICMP_HDR_LEN)
		why = PH_DROP_ICMP_TRUNCATED;
	else
		why = icmp_parse(rte_pktmbuf_mtod_offset(m, const uint8_t *, hl), len, &r);
	if (why == PH_DROP_NONE && (rte_raw_cksum_mbuf(m, hl, len, &sum) != 0 || sum != 0xffff))
		why = PH_DROP_ICMP_BAD_CSUM;
	if (why != PH_DROP_NONE) {
		ph_drop(lead, m, why);
		return;
	}
	switch (r.type) {
	case ICMP_ECHO:
		ph_mib(lead, PH_MIB_icmpInEchos);
		/* Linux's default (icmp_echo_ignore_broadcasts): no smurf amplifier. */
		if (meta->flags & (PH_PKT_IP_BCAST | PH_PKT_L2_BCAST | PH_PKT_L2_MCAST)) {
			ph_drop(lead, m, PH_DROP_ICMP_BCAST_ECHO);
			return;
		}
		icmp_echo_reply(lead, m, hl);
		return;
	case ICMP_ECHOREPLY:
		ph_mib(lead, PH_MIB_icmpInEchoReps);
		break;
	case ICMP_DEST_UNREACH:
		ph_mib(lead, PH_MIB_icmpInDestUnreachs);
		icmp_error_input(lead, m, hl, &r);
		return;
	case ICMP_TIME_EXCEEDED:
		ph_mib(lead, PH_MIB_icmpInTimeExcds);
		icmp_error_input(lead, m, hl, &r);
		return;
	case ICMP_PARAMETERPROB:
		icmp_error_input(lead, m, hl, &r);
		return;
	default:
		break;
	}
	ph_drop(lead, m, PH_DROP_ICMP_UNHANDLED);
}

/* Token bucket: ICMP_RATE errors per second, bursts of ICMP_BURST. */
static bool
icmp_rate_ok(struct ph_lcore *lead)
{
	struct ph_lead *l = lead->lead;
	const struct ph_conf_host *c = &lead->host->conf->host;
	uint64_t cap = (uint64_t)c->icmp_burst * 1000;

	l->icmp_tokens += (lead->now_ms - l->icmp_last_ms) * c->icmp_rate;
	l->icmp_last_ms = lead->now_ms;
	if (l->icmp_tokens > cap)
		l->icmp_tokens = cap;
	if (l->icmp_tokens < 1000)
		return false;
	l->icmp_tokens -= 1000;
	return true;
}

/* RFC 1122 3.2.2: never an error about an error, a broadcast or multicast, or
 * a fragment other than the first. */
static bool
icmp_error_allowed(struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint16_t hl = (uint16_t)rte_ipv4_hdr_len(ip);

	if (ph_pkt_meta(m)->flags & (PH_PKT_IP_BCAST | PH_PKT_L2_BCAST | PH_PKT_L2_MCAST))
		return false;
	if ((rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) != 0)
		return false;
	if (ip->next_proto_id == IPPROTO_ICMP) {
		uint8_t type;
		const uint8_t *t = rte_pktmbuf_read(m, hl, 1, &type);

		if (t == NULL || icmp_is_error(*t))
			return false;
	}
	return !ipv4_is_martian_src(rte_be_to_cpu_32(ip->src_addr));
}

void
icmp_error(struct ph_lcore *lead, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	struct ph_pkt_meta *meta = ph_pkt_meta(m);
	uint32_t quote = RTE_MIN(rte_pktmbuf_pkt_len(m), (uint32_t)ICMP_ERR_QUOTE_MAX);
	struct ipv4_out o = {
	        .src = meta->local,
	        .dst = rte_be_to_cpu_32(ip->src_addr),
	        .ctx = meta->ctx,
	        .proto = IPPROTO_ICMP,
	        .tos = ICMP_ERR_TOS,
	};
	uint8_t type = meta->icmp_type;
	struct rte_mbuf *e;
	const void *q;
	uint8_t *p;
	uint16_t csum;

	if (!icmp_error_allowed(m)) {
		rte_pktmbuf_free(m);
		return;
	}
	if (!icmp_rate_ok(lead)) {
		ph_mib(lead, PH_MIB_icmpOutRateLimited);
		rte_pktmbuf_free(m);
		return;
	}
	e = rte_pktmbuf_alloc(lead->host->pool);
	if (e == NULL) {
		ph_mib(lead, PH_MIB_icmpOutErrors);
		rte_pktmbuf_free(m);
		return;
	}
	p = (uint8_t *)rte_pktmbuf_append(e, (uint16_t)(ICMP_HDR_LEN + quote));
	if (p == NULL) { /* cannot happen with the pool's 2 KiB buffers */
		ph_mib(lead, PH_MIB_icmpOutErrors);
		rte_pktmbuf_free(e);
		rte_pktmbuf_free(m);
		return;
	}
	memset(p, 0, ICMP_HDR_LEN);
	p[0] = type;
	p[1] = meta->icmp_code;
	if (type == ICMP_DEST_UNREACH && meta->icmp_code == ICMP_FRAG_NEEDED) {
		/* RFC 1191 4: the next-hop MTU in the low half of the second word. */
		p[6] = (uint8_t)(meta->nexthop >> 8);
		p[7] = (uint8_t)meta->nexthop;
	}
	q = rte_pktmbuf_read(m, 0, quote, p + ICMP_HDR_LEN);
	if (q != p + ICMP_HDR_LEN) /* contiguous data is not copied */
		memcpy(p + ICMP_HDR_LEN, q, quote);
	csum = (uint16_t)~rte_raw_cksum(p, ICMP_HDR_LEN + quote);
	memcpy(p + 2, &csum, 2);
	rte_pktmbuf_free(m);

	ph_mib(lead, PH_MIB_icmpOutMsgs);
	if (type == ICMP_DEST_UNREACH)
		ph_mib(lead, PH_MIB_icmpOutDestUnreachs);
	ipv4_output(lead, e, &o);
}
