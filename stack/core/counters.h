/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every counter the stack keeps, in two X-macro lists.
 *
 * PH_DROPS names every reason a packet can be discarded anywhere on the
 * receive or transmit path: each entry gives the enum name, the string shown by
 * telemetry and phctl, and the MIB counter (below) that the drop also moves, so
 * a call site cannot bump one and forget the other. PH_MIBS are the counters
 * with the names of RFC 4293 (IP-MIB) where one exists, plus our own (ARP,
 * Ethernet) in the same style.
 *
 * Counters live in the per-lcore struct: only the owning lcore writes them,
 * the telemetry thread reads them (relaxed atomic loads), sums are taken at
 * read time. No counter is shared between lcores.
 */
#ifndef PH_CORE_COUNTERS_H
#define PH_CORE_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

/* clang-format off */
/*   name                   string                     MIB it also moves */
#define PH_DROPS(X)                                                                                \
	X(NONE,                 "none",                    NONE)                                   \
	/* Ethernet and interfaces */                                                             \
	X(ETH_TRUNCATED,        "eth_truncated",           NONE)                                   \
	X(ETH_OTHER_HOST,       "eth_other_host",          NONE)                                   \
	X(ETH_UNKNOWN_TYPE,     "eth_unknown_ethertype",   NONE)                                   \
	X(ETH_NO_IFACE,         "eth_no_interface",        NONE)                                   \
	/* ARP (RFC 826) */                                                                        \
	X(ARP_TRUNCATED,        "arp_truncated",           NONE)                                   \
	X(ARP_BAD_HW,           "arp_bad_hw_type_or_len",  NONE)                                   \
	X(ARP_BAD_PROTO,        "arp_bad_proto_type_or_len", NONE)                                 \
	X(ARP_BAD_OP,           "arp_bad_opcode",          NONE)                                   \
	X(ARP_BAD_SENDER,       "arp_bad_sender",          NONE)                                   \
	X(ARP_OTHER_TARGET,     "arp_other_target",        NONE)                                   \
	X(ARP_ADDR_CONFLICT,    "arp_address_conflict",    NONE)                                   \
	/* IPv4 input (RFC 791, RFC 1122 3.2.1) */                                                 \
	X(IP_TRUNCATED,         "ip_truncated",            ipInTruncatedPkts)                      \
	X(IP_BAD_VERSION,       "ip_bad_version",          ipInHdrErrors)                          \
	X(IP_BAD_IHL,           "ip_bad_header_length",    ipInHdrErrors)                          \
	X(IP_BAD_TOTLEN,        "ip_bad_total_length",     ipInHdrErrors)                          \
	X(IP_BAD_CSUM,          "ip_bad_checksum",         ipInHdrErrors)                          \
	X(IP_MARTIAN_SRC,       "ip_martian_source",       ipInAddrErrors)                         \
	X(IP_MARTIAN_DST,       "ip_martian_destination",  ipInAddrErrors)                         \
	X(IP_NOT_FOR_US,        "ip_not_for_us",           ipInAddrErrors)                         \
	X(IP_MULTICAST,         "ip_multicast_not_joined", ipInDiscards)                           \
	X(IP_L2_BCAST_UNICAST,  "ip_unicast_in_link_broadcast", ipInAddrErrors)                    \
	X(IP_BAD_FRAG,          "ip_bad_fragment",         ipInHdrErrors)                          \
	X(IP_REASM_FAIL,        "ip_reassembly_failed",    NONE)                                   \
	X(IP_UNKNOWN_PROTO,     "ip_unknown_protocol",     ipInUnknownProtos)                      \
	/* IPv4 forwarding (RFC 1812) */                                                           \
	X(IP_FWD_TTL,           "ip_forward_ttl_exceeded", ipInHdrErrors)                          \
	X(IP_FWD_NO_ROUTE,      "ip_forward_no_route",     ipInNoRoutes)                           \
	X(IP_FWD_LINK_LOCAL,    "ip_forward_link_local",   ipInAddrErrors)                         \
	X(IP_FWD_BCAST,         "ip_forward_directed_broadcast", ipInAddrErrors)                   \
	/* IPv4 output */                                                                          \
	X(IP_NO_ROUTE,          "ip_no_route",             ipOutNoRoutes)                          \
	X(IP_FRAG_DF,           "ip_too_big_dont_fragment", ipFragFails)                           \
	X(IP_TSO_NO_OFFLOAD,    "ip_tso_port_cannot",      ipOutDiscards)                          \
	X(IP_FRAG_FAIL,         "ip_fragmentation_failed", ipFragFails)                            \
	X(IP_NO_SOURCE,         "ip_no_source_address",    ipOutDiscards)                          \
	/* ICMP (RFC 792, RFC 1122 3.2.2) */                                                       \
	X(ICMP_TRUNCATED,       "icmp_truncated",          icmpInErrors)                           \
	X(ICMP_BAD_CSUM,        "icmp_bad_checksum",       icmpInErrors)                           \
	X(ICMP_BCAST_ECHO,      "icmp_broadcast_echo_ignored", NONE)                               \
	X(ICMP_UNHANDLED,       "icmp_unhandled_type",     NONE)                                   \
	/* UDP (RFC 768, RFC 1122 4.1) */                                                          \
	X(UDP_TRUNCATED,        "udp_truncated",           udpInErrors)                            \
	X(UDP_BAD_LEN,          "udp_bad_length",          udpInErrors)                            \
	X(UDP_BAD_CSUM,         "udp_bad_checksum",        udpInCsumErrors)                        \
	X(UDP_NO_PORT,          "udp_no_port",             udpNoPorts)                             \
	X(UDP_RCVBUF_FULL,      "udp_receive_buffer_full", udpRcvbufErrors)                        \
	X(UDP_SHUT_RD,          "udp_socket_shut_for_reading", udpInErrors)                        \
	X(UDP_SOCK_GONE,        "udp_socket_closed_in_flight", udpInErrors)                        \
	/* TCP (RFC 9293, RFC 5961, RFC 7323) */                                                   \
	X(TCP_TRUNCATED,        "tcp_truncated",           tcpInErrs)                              \
	X(TCP_BAD_OFFSET,       "tcp_bad_data_offset",     tcpInErrs)                              \
	X(TCP_BAD_CSUM,         "tcp_bad_checksum",        tcpInCsumErrors)                        \
	X(TCP_BAD_FLAGS,        "tcp_bad_flags",           tcpInErrs)                              \
	X(TCP_BAD_OPTIONS,      "tcp_bad_options",         tcpInErrs)                              \
	X(TCP_NOT_UNICAST,      "tcp_to_broadcast",        tcpInErrs)                              \
	X(TCP_NO_SOCKET,        "tcp_closed_port",         NONE)                                   \
	X(TCP_LISTEN_BAD,       "tcp_listen_not_syn",      NONE)                                   \
	X(TCP_LISTEN_OVERFLOW,  "tcp_listen_overflow",     tcp_listen_overflows)                   \
	X(TCP_CONN_LIMIT,       "tcp_connection_limit",    NONE)                                   \
	X(TCP_SYN_SENT_BAD,     "tcp_syn_sent_unacceptable", NONE)                                 \
	X(TCP_PAWS,             "tcp_paws_rejected",       tcp_paws_drops)                         \
	X(TCP_OUT_OF_WINDOW,    "tcp_out_of_window",       NONE)                                   \
	X(TCP_RST_IN_WINDOW,    "tcp_rst_challenged",      NONE)                                   \
	X(TCP_RST_OUT_OF_WINDOW, "tcp_rst_out_of_window",  NONE)                                   \
	X(TCP_RST_TIME_WAIT,    "tcp_rst_in_time_wait",    NONE)                                   \
	X(TCP_SYN_IN_WINDOW,    "tcp_syn_challenged",      NONE)                                   \
	X(TCP_NO_ACK,           "tcp_no_ack_flag",         NONE)                                   \
	X(TCP_ACK_UNSENT,       "tcp_ack_of_unsent_data",  NONE)                                   \
	X(TCP_ACK_TOO_OLD,      "tcp_ack_too_old",         NONE)                                   \
	X(TCP_OFO_FULL,         "tcp_ofo_queue_full",      NONE)                                   \
	X(TCP_DATA_AFTER_CLOSE, "tcp_data_after_close",    NONE)                                   \
	X(TCP_SEG_TOO_BIG,      "tcp_segment_too_big",     NONE)                                   \
	X(INBOX_FULL,           "lcore_inbox_full",        NONE)                                   \
	X(STEER_RING_FULL,      "steer_ring_full",         NONE)                                   \
	X(LOOP_FULL,            "loopback_queue_full",     ipOutDiscards)                          \
	/* neighbour resolution */                                                                 \
	X(NEIGH_QUEUE_FULL,     "neigh_pending_queue_full", ipOutDiscards)                         \
	X(NEIGH_FAILED,         "neigh_resolution_failed", ipOutDiscards)                          \
	X(NEIGH_TABLE_FULL,     "neigh_table_full",        ipOutDiscards)                          \
	/* infrastructure */                                                                       \
	X(NO_MBUF,              "no_mbuf",                 NONE)                                   \
	X(TX_FULL,              "tx_queue_full",           NONE)                                   \
	X(LEAD_RING_FULL,       "lead_ring_full",          NONE)                                   \
	X(LEAD_BAD_REQUEST,     "lead_unknown_request",    NONE)                                   \
	X(SHUTDOWN,             "shutdown",                NONE)

#define PH_MIBS(X)                                                                                 \
	X(NONE)                                                                                    \
	/* Ethernet */                                                                             \
	X(ethInFrames)                                                                             \
	X(ethInVlanFrames)                                                                         \
	X(ethOutFrames)                                                                            \
	/* ARP */                                                                                  \
	X(arpInRequests)                                                                           \
	X(arpInReplies)                                                                            \
	X(arpOutRequests)                                                                          \
	X(arpOutReplies)                                                                           \
	X(arpOutGratuitous)                                                                        \
	/* IP-MIB (RFC 4293), ipSystemStats* */                                                    \
	X(ipInReceives)                                                                            \
	X(ipInHdrErrors)                                                                           \
	X(ipInTruncatedPkts)                                                                       \
	X(ipInAddrErrors)                                                                          \
	X(ipInNoRoutes)                                                                            \
	X(ipForwDatagrams)                                                                         \
	X(ipInUnknownProtos)                                                                       \
	X(ipInDiscards)                                                                            \
	X(ipInDelivers)                                                                            \
	X(ipOutRequests)                                                                           \
	X(ipOutNoRoutes)                                                                           \
	X(ipOutDiscards)                                                                           \
	X(ipOutTransmits)                                                                          \
	X(ipReasmReqds)                                                                            \
	X(ipReasmOKs)                                                                              \
	X(ipReasmFails)                                                                            \
	X(ipFragOKs)                                                                               \
	X(ipFragFails)                                                                             \
	X(ipFragCreates)                                                                           \
	/* ICMP (RFC 4293 icmpStatsTable / icmpMsgStatsTable) */                                   \
	X(icmpInMsgs)                                                                              \
	X(icmpInErrors)                                                                            \
	X(icmpInDestUnreachs)                                                                      \
	X(icmpInTimeExcds)                                                                         \
	X(icmpInEchos)                                                                             \
	X(icmpInEchoReps)                                                                          \
	X(icmpOutMsgs)                                                                             \
	X(icmpOutErrors)                                                                           \
	X(icmpOutDestUnreachs)                                                                     \
	X(icmpOutEchoReps)                                                                         \
	X(icmpOutRateLimited)                                                                      \
	/* UDP-MIB (RFC 4113), plus Linux's receive-buffer and checksum errors */                 \
	X(udpInDatagrams)                                                                          \
	X(udpNoPorts)                                                                              \
	X(udpInErrors)                                                                             \
	X(udpInCsumErrors)                                                                         \
	X(udpRcvbufErrors)                                                                         \
	X(udpOutDatagrams)                                                                         \
	/* TCP-MIB (RFC 4022), plus Linux's checksum errors and our own */                        \
	X(tcpActiveOpens)                                                                          \
	X(tcpPassiveOpens)                                                                         \
	X(tcpAttemptFails)                                                                         \
	X(tcpEstabResets)                                                                          \
	X(tcpCurrEstab)                                                                            \
	X(tcpInSegs)                                                                               \
	X(tcpOutSegs)                                                                              \
	X(tcpRetransSegs)                                                                          \
	X(tcpInErrs)                                                                               \
	X(tcpOutRsts)                                                                              \
	X(tcpInCsumErrors)                                                                         \
	X(tcp_ofo_queued)                                                                          \
	X(tcp_persist_probes)                                                                      \
	X(tcp_delayed_acks)                                                                        \
	X(tcp_paws_drops)                                                                          \
	X(tcp_challenge_acks)                                                                      \
	X(tcp_keepalive_probes)                                                                    \
	X(tcp_keepalive_timeouts)                                                                  \
	X(tcp_fast_retransmits)                                                                    \
	X(tcp_rto_timeouts)                                                                        \
	X(tcp_listen_overflows)                                                                    \
	X(tcp_timewait_reused)                                                                     \
	X(tcp_timewait_recycled)                                                                   \
	X(tcp_sack_blocks_received)                                                                \
	X(tcp_zero_window_sent)                                                                    \
	X(tcp_icmp_errors)                                                                         \
	X(tcp_pmtu_updates)                                                                        \
	X(tcp_tso_sends)                                                                           \
	X(tcp_tlp_recoveries)                                                                      \
	X(tcp_sack_recoveries)                                                                     \
	X(tcp_sack_retransmits)                                                                    \
	X(tcp_sack_reneging)                                                                       \
	X(tcp_dsack_sent)                                                                          \
	X(tcp_dsack_received)                                                                      \
	X(tcp_undo_eifel)                                                                          \
	X(tcp_undo_dsack)                                                                          \
	X(tcp_syncookies_sent)                                                                     \
	X(tcp_syncookies_recv)                                                                     \
	X(tcp_syncookies_failed)                                                                   \
	X(tcp_blackhole_mss_clamps)                                                                \
	X(tcp_tlp_probes)                                                                          \
	X(tcp_lost_retransmits)                                                                    \
	X(tcp_reorder_timeouts)                                                                    \
	/* sockets */                                                                              \
	X(steered_pkts)                                                                            \
	X(steered_in)                                                                              \
	X(tcp_segs_off_owner)                                                                      \
	X(tcp_share_full)                                                                          \
	X(tcp_share_refused)                                                                       \
	X(sockInboxIn)                                                                             \
	X(sockInboxOut)                                                                            \
	X(ipLoopback)

/* clang-format on */

enum ph_drop {
#define PH_X(name, str, mib) PH_DROP_##name,
	PH_DROPS(PH_X)
#undef PH_X
	        PH_DROP_MAX
};

enum ph_mib {
#define PH_X(name) PH_MIB_##name,
	PH_MIBS(PH_X)
#undef PH_X
	        PH_MIB_MAX
};

/* One lcore's counters. Written only by that lcore. */
struct ph_counters {
	uint64_t drop[PH_DROP_MAX];
	uint64_t mib[PH_MIB_MAX];
};

/* One lcore's counters of one routing context (written by that lcore; the
 * lcore keeps PH_CTX_STATS of them, by context number). */
#define PH_CTX_STATS 1024
struct ph_ctx_stats {
	uint64_t in_pkts;  /* IPv4 datagrams received on its interfaces */
	uint64_t in_local; /* for the host itself */
	uint64_t fwd_pkts; /* forwarded (out of this or, leaked, another context) */
	uint64_t fwd_bytes;
	uint64_t fwd_no_route;    /* no route: ICMP net unreachable */
	uint64_t fwd_ttl;         /* TTL ran out: ICMP time exceeded */
	uint64_t fwd_frag_needed; /* too big with DF: ICMP fragmentation needed */
	uint64_t fwd_refused;     /* not forwarded: forwarding off, link broadcast, martian */
};

extern const char *const ph_drop_names[PH_DROP_MAX];
extern const char *const ph_mib_names[PH_MIB_MAX];
extern const uint8_t ph_drop_mib[PH_DROP_MAX];

/*
 * A store of the incremented value rather than a plain ++ keeps the owner's
 * write a single untorn store the telemetry thread may read concurrently.
 */
static inline void
ph_ctr_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

static inline void
ph_mib_add(struct ph_counters *c, enum ph_mib m, uint64_t n)
{
	ph_ctr_add(&c->mib[m], n);
}

static inline void
ph_mib_inc(struct ph_counters *c, enum ph_mib m)
{
	ph_ctr_add(&c->mib[m], 1);
}

/* Count a discard under its reason (and the MIB counter that goes with it). */
static inline void
ph_drop_count(struct ph_counters *c, enum ph_drop why, uint64_t n)
{
	ph_ctr_add(&c->drop[why], n);
	if (ph_drop_mib[why] != PH_MIB_NONE)
		ph_ctr_add(&c->mib[ph_drop_mib[why]], n);
}

static inline uint64_t
ph_ctr_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* The two lists as data, for code that shows every counter (telemetry, the
 * shutdown report): names, how many (entry 0 is "none"), where in ph_counters. */
struct ph_ctr_family {
	const char *title;
	const char *const *names;
	unsigned n;
	size_t offset;
};

#define PH_CTR_FAMILIES 2 /* MIB counters, then drops */
extern const struct ph_ctr_family ph_ctr_families[PH_CTR_FAMILIES];

#endif
