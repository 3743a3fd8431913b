/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP (RFC 9293) as a state machine owned by one lcore: IPv4 input hands a
 * parsed segment to tcp_input(); what the connection sends comes out through
 * the stack's emit callback; the application's calls (tcp_connect, tcp_send,
 * tcp_recv, ...) and the lcore's clock (tcp_timers_run) are the other inputs.
 * Nothing here needs EAL, a NIC or a real clock: time is the stack's `now`,
 * set by the caller, so unit tests drive it with a virtual clock and read
 * every segment the stack emits.
 *
 * Files: tcp_input.c (segment arrival, RFC 9293 3.10.7), tcp_output.c (what
 * to send and when: Nagle, SWS avoidance, persist), tcp_timer.c (one timer
 * slot per connection on a timing wheel, a handler per timer kind),
 * tcp_cc.c (congestion control behind struct tcp_cc_ops: CUBIC, NewReno),
 * tcp_recovery.c (loss detection and recovery: the SACK scoreboard, RFC
 * 6675, NewReno's partial ACKs, RTO, undo), tcp_syncookie.c (SYN cookies),
 * tcp_opt.c (options), tcp_buf.c (send and receive rings, the out-of-order
 * ranges), tcp_user.c (user calls, the connection tables, ISN and ports),
 * tcp_glue.c (mbufs, IPv4 and sockets: the only part that needs DPDK).
 *
 * Data is copied into a per-connection send ring by tcp_send() and out of a
 * receive ring by tcp_recv(); out-of-order data is written into the receive
 * ring at its place and tracked as ranges, so its memory is bounded by the
 * window we advertise. No allocation happens per segment.
 */
#ifndef PH_TCP_TCP_H
#define PH_TCP_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <bsd/sys/queue.h>
#include <rte_spinlock.h>

#include "conf/conf.h"
#include "core/counters.h"
#include "tcp/tcp_seq.h"

struct tcp_stack;
struct tcp_conn;
struct tcp_info;

enum tcp_state {
	TCPS_CLOSED = 0,
	TCPS_LISTEN,
	TCPS_SYN_SENT,
	TCPS_SYN_RECEIVED,
	TCPS_ESTABLISHED,
	TCPS_FIN_WAIT_1,
	TCPS_FIN_WAIT_2,
	TCPS_CLOSE_WAIT,
	TCPS_CLOSING,
	TCPS_LAST_ACK,
	TCPS_TIME_WAIT,
	TCPS_MAX
};

extern const char *const tcp_state_names[TCPS_MAX];

/* A segment as it arrives, parsed once, host order. DATA is contiguous. */
struct tcp_seg {
	uint16_t ctx;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd; /* as on the wire: not yet scaled */
	const uint8_t *opt;
	uint8_t optlen;
	const uint8_t *data;
	uint32_t len;
	bool not_unicast; /* sent to a broadcast or multicast address */
};

/* Options of one segment (tcp_opt_parse). */
struct tcp_opts {
	bool mss_ok, ws_ok, ts_ok, sack_ok;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	uint8_t n_sack;
	struct {
		uint32_t l, r;
	} sack[4];
};

/* A segment to send, as the emit callback gets it. The payload is in up to
 * two pieces (the send ring may wrap). */
struct tcp_out {
	uint16_t ctx;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint8_t tos, ttl;
	uint8_t optlen;
	uint8_t opt[40];
	const uint8_t *data[2];
	uint32_t dlen[2];
	uint32_t len;
	uint16_t tso_segsz; /* LEN above it: the NIC cuts segments of this much (TSO) */
};

/* ---- byte rings and out-of-order ranges (tcp_buf.c) ---- */

struct tcp_ring {
	uint8_t *buf;
	uint32_t cap;
	uint32_t head; /* index of the first byte */
	uint32_t len;  /* bytes from head */
};

/* The context of a listener that accepts from every context (PH_CTX_ANY):
 * never a real context's number. */
#define TCP_CTX_ANY    UINT16_MAX
#define TCP_OFO_MAX    8 /* ranges held beyond a hole; more are dropped */

#define TCP_RING_CACHE 64 /* free rings a stack keeps for new connections */

/* SACKed ranges the sender keeps; beyond, the highest are forgotten (which
 * costs needless retransmissions, never correctness). */
#define TCP_SACK_MAX 16
/* Retransmissions remembered to detect their loss; older ones wait for
 * the RTO. */
#define TCP_RXT_MAX 8
/* Ranges an episode resent, kept while its reduction may be undone: a
 * D-SACK is evidence only for one of these (RFC 3708 2). More ranges than
 * this and the episode gives up D-SACK undo (Eifel still works). */
#define TCP_UNDO_LOG 8

/* PMTU black hole (RFC 4821 fallback, RFC 2923 2.1): after this many RTOs
 * in a row with no progress, the MSS halves (down to 536), and is tried
 * again at full size after the retry time. */
#define TCP_BLACKHOLE_RTOS     3
#define TCP_BLACKHOLE_MSS_MIN  536
#define TCP_BLACKHOLE_RETRY_MS 600000

struct tcp_sack_blk {
	uint32_t l, r; /* [l, r) */
};

struct tcp_ofo {
	uint8_t n;
	struct {
		uint32_t l, r;  /* sequence numbers, [l, r) */
		uint32_t stamp; /* when a segment last went into it (o->clock) */
	} blk[TCP_OFO_MAX];
	uint32_t clock;
};

int tcp_ring_alloc(struct tcp_ring *r, uint32_t cap);
void tcp_ring_free(struct tcp_ring *r);
/* Copy N bytes from SRC to offset OFF from head (OFF + N <= cap). */
void tcp_ring_write(struct tcp_ring *r, uint32_t off, const void *src, uint32_t n);
/* Copy N bytes at offset OFF from head into DST. */
void tcp_ring_read(const struct tcp_ring *r, uint32_t off, void *dst, uint32_t n);
/* Up to two pieces for N bytes at OFF; returns how many pieces. */
int tcp_ring_pieces(const struct tcp_ring *r, uint32_t off, uint32_t n, const uint8_t *p[2],
                    uint32_t l[2]);
void tcp_ring_consume(struct tcp_ring *r, uint32_t n);
static inline uint32_t
tcp_ring_free_space(const struct tcp_ring *r)
{
	return r->cap - r->len;
}

/* Record [L, R) as held. false when it fits no range and the table is full. */
bool tcp_ofo_add(struct tcp_ofo *o, uint32_t l, uint32_t r);
/* RCV.NXT moved to NXT: return how far the first range carries it on. */
uint32_t tcp_ofo_advance(struct tcp_ofo *o, uint32_t nxt);

/* ---- options (tcp_opt.c) ---- */

/* Parse OPT (LEN bytes). Malformed lengths: -1 (the segment is dropped, as
 * Linux does for a length that runs past the header). */
int tcp_opt_parse(const uint8_t *opt, uint8_t len, bool syn, struct tcp_opts *o);

/* ---- congestion control (tcp_cc.c) ---- */

struct tcp_cc_ops {
	const char *name;
	/* A connection became established: cwnd to the initial window
	 * (tcp_initial_window), ssthresh to "infinity", private state. */
	void (*init)(struct tcp_conn *c);
	/* ACKED bytes of new data acknowledged outside fast recovery (slow
	 * start or congestion avoidance); FLIGHT was outstanding before. */
	void (*cong_avoid)(struct tcp_conn *c, uint32_t acked, uint32_t flight);
	/* A congestion event (fast retransmit, or the first RTO of an
	 * episode): the new ssthresh. Loss recovery (tcp_recovery.c) sets
	 * cwnd from it. */
	uint32_t (*ssthresh)(struct tcp_conn *c);
	/* Optional. Fast recovery ended (cwnd already set); an RTO fired (cwnd
	 * is one segment); the last reduction was spurious and was undone
	 * (cwnd and ssthresh restored). */
	void (*recovered)(struct tcp_conn *c);
	void (*rto)(struct tcp_conn *c);
	void (*undo)(struct tcp_conn *c);
};

/* Room in each connection for its congestion control's own state. */
#define TCP_CC_PRIV_SIZE 64

extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;
const struct tcp_cc_ops *tcp_cc_find(const char *name);
/* TCP_CONGESTION: switch C to the algorithm NAME (at any time, as Linux
 * allows: an established connection starts it from its current window).
 * 0 or -ENOENT. */
int tcp_cc_set(struct tcp_conn *c, const char *name);
/* RFC 6928: min(10 * MSS, max(2 * MSS, 14600)). */
uint32_t tcp_initial_window(const struct tcp_conn *c);

/* ---- timers (tcp_timer.c) ---- */

/* The retransmission timer stands for one of three deadlines (RFC 8985):
 * the RTO; a tail loss probe (TLP) after about two RTTs of silence, whose
 * ACK brings the SACK information a lost tail never would; or the end of
 * a reordering window after SACK showed holes too few for DupThresh, when
 * the holes below the SACKed data count as lost (RACK's rule, applied to
 * what the sequence order tells: data SACKed above a hole was sent after
 * it). */
enum tcp_rexmt_mode { TCP_REXMT_RTO, TCP_REXMT_TLP, TCP_REXMT_REO };

enum tcp_timer {
	TCP_T_REXMT,   /* retransmission, and SYN / SYN-ACK retries */
	TCP_T_PERSIST, /* zero-window probes */
	TCP_T_DELACK,
	TCP_T_KEEP, /* keep-alive; also the FIN-WAIT-2 limit of an orphan */
	TCP_T_2MSL, /* TIME-WAIT */
	TCP_T_MAX
};

#define TCP_WHEEL_SLOTS 4096 /* of 1 ms: deadlines further out wait a turn */

/* ---- the connection ---- */

/* c->flags */
#define TF_ACKNOW     0x00000001 /* send an ACK at the next output */
#define TF_NODELAY    0x00000002 /* TCP_NODELAY */
#define TF_CORK       0x00000004 /* TCP_CORK */
#define TF_FIN_QUEUED 0x00000008 /* the application is done sending */
#define TF_COOKIE     0x00000010 /* made from a SYN cookie: the handshake was not timed */
#define TF_RCVD_FIN   0x00000020
#define TF_TS_OK      0x00000040 /* RFC 7323 timestamps negotiated */
#define TF_WS_OK      0x00000080 /* window scale negotiated */
#define TF_SACK_OK    0x00000100 /* SACK-permitted negotiated */
#define TF_KEEPALIVE  0x00000200
#define TF_LINGER0    0x00000400 /* SO_LINGER with a zero timeout: close aborts */
#define TF_RECOVERY   0x00000800 /* in loss recovery (fast recovery, or after an RTO with SACK) */
#define TF_SHUT_RD    0x00001000
#define TF_BOUND      0x00002000 /* in the bind table */
#define TF_REUSEADDR  0x00004000
#define TF_REUSEPORT  0x00008000
#define TF_DEAD       0x00010000 /* closed and unowned: freed by the reaper */
#define TF_OFO_FIN    0x00020000 /* a FIN arrived ahead of a hole */
#define TF_PASSIVE    0x00040000 /* opened by a listener */
#define TF_ESTAB_SEEN 0x00080000 /* counted in tcpCurrEstab */
#define TF_RTT_TIMING 0x00100000 /* timing rtt_seq (no timestamps) */
#define TF_ORPHAN     0x00200000 /* the application closed it */
#define TF_PROBE_SENT 0x00400000 /* a zero-window probe byte is out */
#define TF_WND_UPDATE 0x00800000 /* the window opened: tell the peer */
#define TF_STARTED    0x01000000 /* it has sent or answered a SYN */
#define TF_FORCE      0x02000000 /* send what the window allows, Nagle or not */
#define TF_MORE       0x04000000 /* MSG_MORE: hold the short tail until the next send */
#define TF_USER_MSS   0x08000000 /* TCP_MAXSEG set: adv_mss holds the user's value */
#define TF_RTO_REC    0x10000000 /* with TF_RECOVERY: after an RTO, all not SACKed is lost */
#define TF_UNDO_OK    0x20000000 /* the last reduction may still prove spurious */
#define TF_DSACK      0x40000000 /* a D-SACK block (dsack_l, dsack_r) goes in the next ACK */
#define TF_UNDO_DSACK 0x80000000 /* with TF_UNDO_OK: a D-SACK came for that episode */

struct tcp_conn {
	LIST_ENTRY(tcp_conn) hlink;   /* connection table, or bind table */
	LIST_ENTRY(tcp_conn) tlink;   /* timer wheel slot */
	TAILQ_ENTRY(tcp_conn) qlink;  /* listener's SYN or accept queue */
	LIST_ENTRY(tcp_conn) alink;   /* every connection of the stack */
	TAILQ_ENTRY(tcp_conn) twlink; /* the stack's TIME-WAIT list, oldest first */
	struct tcp_stack *st;
	struct tcp_conn *parent; /* the listener, until accepted */
	void *user;              /* the socket; NULL once closed or before accept */

	uint16_t ctx;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint8_t state;
	uint8_t tos, ttl;
	bool hashed;     /* in the connection table */
	bool in_acceptq; /* else in the SYN queue, when parent != NULL */
	uint32_t flags;
	int error;      /* positive errno for the application (SO_ERROR) */
	int soft_error; /* from ICMP: reported instead of ETIMEDOUT if it times out */

	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, max_sndwnd, snd_wl1, snd_wl2;
	uint32_t snd_buf_seq; /* sequence number of the first byte in sbuf */
	uint32_t snd_sml;     /* end of the last segment shorter than the MSS (Minshall) */
	uint16_t mss;         /* data bytes per segment (options excluded) */
	uint16_t peer_mss;
	uint16_t adv_mss; /* what we offered */
	uint32_t tso_max; /* payload bytes one send of new data may carry (TSO); 0: an MSS */
	uint8_t snd_ws, rcv_ws;

	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_adv, last_ack_sent;
	uint32_t rcv_fin_seq;  /* with TF_OFO_FIN */
	uint16_t segs_unacked; /* segments received since our last ACK */
	uint16_t quickacks;    /* in-order segments still to ACK at once */

	/* RFC 7323 */
	uint32_t ts_recent;
	uint64_t ts_recent_age; /* ms */
	uint32_t ts_offset;     /* random per connection (RFC 7323 5.4) */

	/* RFC 6298, in ms, srtt << 3 and rttvar << 2 as BSD keeps them */
	uint32_t srtt, rttvar, rto;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	uint8_t backoff, rexmits;
	uint32_t total_retrans;
	uint64_t rexmt_since; /* when the oldest unacked data was last acknowledged */

	/* congestion control */
	const struct tcp_cc_ops *cc;
	uint32_t cwnd, ssthresh, recover, dupacks;
	uint64_t cc_priv[TCP_CC_PRIV_SIZE / 8];

	/* loss recovery (tcp_recovery.c) */
	struct tcp_sack_blk
	        sacked[TCP_SACK_MAX]; /* the scoreboard: above SND.UNA, sorted, disjoint */
	uint8_t n_sacked;
	uint32_t high_rxt;                   /* RFC 6675 HighRxt */
	uint32_t prior_cwnd, prior_ssthresh; /* before the last reduction */
	uint32_t undo_marker;                /* SND.UNA when that reduction happened */
	uint32_t undo_tsval;                 /* TSval of its first retransmission; 0: none yet */
	int32_t undo_retrans;                /* its retransmissions no D-SACK has shown needless */
	struct tcp_sack_blk undo_log[TCP_UNDO_LOG]; /* what it resent, merged, sorted */
	uint8_t n_undo_log;                         /* TCP_UNDO_LOG + 1: overflowed */
	uint32_t dsack_l, dsack_r;                  /* with TF_DSACK: the duplicate we received */
	struct tcp_rxt {
		uint32_t l, r;   /* retransmitted [l, r) */
		uint32_t at_max; /* SND.MAX when it went */
	} rxt[TCP_RXT_MAX];      /* recent retransmissions, to see them lost (RACK) */
	uint8_t n_rxt;
	uint8_t rexmt_mode; /* what TCP_T_REXMT means now (enum tcp_rexmt_mode) */
	uint32_t tlp_high;  /* SND.MAX when a loss probe went (with tlp_out) */
	bool tlp_out;       /* a loss probe is unanswered */
	/* The probe resent [tlp_rx_l, tlp_high): if SND.UNA passes tlp_high
	 * with no D-SACK of it, it repaired a loss, and cwnd is cut as for
	 * fast recovery (RFC 8985 7.4.2). */
	bool tlp_rx_pending;
	uint32_t tlp_rx_l;
	uint32_t lost_below;     /* holes below this are lost (reordering window passed) */
	uint16_t mss_unclamped;  /* the MSS before a black-hole clamp */
	uint64_t mss_clamped_at; /* ms; 0: not clamped */

	/* persist and keep-alive */
	uint8_t persist_shift;
	uint8_t persist_probes; /* unanswered zero-window probes */
	uint64_t oow_ack_at;    /* when we last answered an unacceptable segment */
	uint8_t keep_probes;
	uint32_t keepidle_ms, keepintvl_ms, keepcnt;
	uint32_t user_timeout_ms;
	uint64_t last_rcv; /* ms, for keep-alive idle time */

	/* timers: one slot on the wheel at the earliest of t_when[] */
	uint64_t t_when[TCP_T_MAX]; /* 0: not armed */
	uint64_t t_deadline;        /* 0: not on the wheel */

	struct tcp_ring sbuf, rbuf;
	uint32_t sndbuf, rcvbuf; /* sizes the rings get */
	struct tcp_ofo ofo;

	/* listener */
	TAILQ_HEAD(, tcp_conn) synq, acceptq;
	uint32_t backlog, n_synq, n_acceptq;

	/* statistics for TCP_INFO and phctl */
	uint64_t segs_in, segs_out, bytes_acked, bytes_received;
	uint64_t established_at;
};

/* The way to a peer, as the host sees it (tcp_ops.route). */
struct tcp_path {
	uint32_t saddr;   /* our source address toward it */
	uint32_t mtu;     /* path MTU */
	uint32_t tso_max; /* payload bytes one send may carry for the NIC to cut
	                   * into segments (TSO); 0: one segment per send */
};

/* What the stack asks of its host. */
struct tcp_ops {
	/* Send one segment; 0 or -errno (the segment counts as lost). */
	int (*emit)(struct tcp_stack *st, struct tcp_conn *c, const struct tcp_out *o);
	/* C's readiness changed (or, for a child, its listener's). */
	void (*wakeup)(struct tcp_stack *st, struct tcp_conn *c);
	/* The path toward DADDR in CTX; 0 or -ENETUNREACH. */
	int (*route)(struct tcp_stack *st, uint16_t ctx, uint32_t daddr, struct tcp_path *path);
	/* Is ADDR one of the host's unicast addresses in CTX? */
	bool (*local_addr)(struct tcp_stack *st, uint16_t ctx, uint32_t addr);
	/* C started (ON) or stopped listening; may be NULL. */
	void (*listening)(struct tcp_stack *st, const struct tcp_conn *c, bool on);
	/* Do the replies of LADDR:LPORT -> RADDR:RPORT in CTX come to this
	 * stack (1), to another (0), or can no port bring them here (-1)?
	 * May be NULL (1). connect() takes ports of the rss range for which
	 * it says 1 (RSS-aware active opens). */
	int (*flow_ours)(struct tcp_stack *st, uint16_t ctx, uint32_t laddr, uint16_t lport,
	                 uint32_t raddr, uint16_t rport);
};

LIST_HEAD(tcp_conn_list, tcp_conn);

/* One lcore's TCP. */
struct tcp_stack {
	struct ph_conf_tcp cfg;
	const struct tcp_ops *ops;
	const struct tcp_cc_ops *cc; /* cfg.cc, for new connections */
	void *arg;                   /* the host's (struct ph_lcore * in the stack) */
	struct ph_counters *ctr;     /* the lcore's counters */
	uint64_t now;                /* ms, set by the caller before every call */
	uint64_t now_us;             /* µs, for ISNs (RFC 6528's M) */
	uint16_t eph_lo, eph_hi;     /* this stack's own slice of the ephemeral ports */
	/* Ports connect() may take, shared with other stacks, when ops->flow_ours
	 * says the replies come here (0, 0: none). A tuple has one owner, so
	 * two stacks never take the same one. */
	uint16_t rss_lo, rss_hi;

	struct tcp_conn_list *conns; /* by 4-tuple and context */
	uint32_t conn_mask;
	struct tcp_conn_list *binds; /* bound sockets and listeners, by (ctx, port) */
	uint32_t bind_mask;
	/* Every connection, for listing: changed by the owner under the lock,
	 * walked under it by the telemetry thread (which reads the fields it
	 * shows without it: a torn value is a display glitch, a freed
	 * connection would not be). */
	struct tcp_conn_list all;
	rte_spinlock_t all_lock;

	struct tcp_conn_list wheel[TCP_WHEEL_SLOTS];
	uint64_t wheel_now; /* last ms the wheel was run to */

	uint8_t secret[16]; /* RFC 6528 and RFC 6056 key, from arc4random */
	/* Timestamps: TSval = now + ts_base + a per-connection offset keyed
	 * with ts_secret (RFC 7323 5.4). The running host sets both so that a
	 * 4-tuple's TSval keeps growing across restarts of the process within
	 * one boot (ts_base: the machine's uptime at now == 0; ts_secret: from
	 * the boot id), as the kernel's does: a peer holding the previous
	 * incarnation in TIME-WAIT then takes our SYN (RFC 6191). Random by
	 * default, as in the unit tests. */
	uint8_t ts_secret[16];
	uint32_t ts_base;
	/* Rings of ended connections, kept for the next ones: a connection a
	 * transaction would otherwise cost two mallocs and frees of 256 KiB,
	 * which glibc serves by moving the heap's end (brk, page faults) or
	 * by mmap. Bounded, so idle memory stays bounded too. */
	struct {
		uint8_t *buf;
		uint32_t cap;
	} ring_cache[TCP_RING_CACHE];
	unsigned n_ring_cache;
	uint16_t eph_table[256]; /* RFC 6056 algorithm 4 perturbation table */
	uint32_t n_conns;
	/* Connections in TIME-WAIT, in the order they entered it: when the
	 * table is full, the oldest unowned one makes room for a new
	 * connection rather than a SYN or socket() being refused. */
	TAILQ_HEAD(, tcp_conn) time_wait;
	uint64_t mem;              /* ring bytes held by connections */
	struct tcp_conn_list reap; /* closed and unowned, freed after the call */
	uint32_t challenge_acks;   /* this second (RFC 5961 7) */
	uint32_t challenge_budget; /* drawn at random each second */
	uint64_t synq_full_at;     /* ms a SYN queue last overflowed into cookies; 0: never */
	uint64_t challenge_sec;
};

/* ---- loss recovery (tcp_recovery.c) ---- */

/* SACK blocks of an ACK (RFC 2018) into the scoreboard; a first block at or
 * below ACK, or inside the second, is a D-SACK (RFC 2883). Returns the bytes
 * newly SACKed. */
uint32_t tcp_sack_receive(struct tcp_conn *c, const struct tcp_opts *o, uint32_t ack);
/* SND.UNA advanced by ACKED (FLIGHT was outstanding before): recovery
 * progress or exit, spurious-retransmission undo, window growth. */
void tcp_rec_ack(struct tcp_conn *c, const struct tcp_opts *o, uint32_t acked, uint32_t flight);
/* A duplicate ACK: fast retransmit, limited transmit. */
void tcp_rec_dupack(struct tcp_conn *c);
/* The reordering window passed with holes below SACKed data: they are lost. */
void tcp_rec_reorder_timeout(struct tcp_conn *c);
/* Send a tail loss probe: new data if the windows allow, else the last
 * segment again (RFC 8985 7.3). */
void tcp_send_tlp(struct tcp_conn *c);
/* The retransmission timer fired on data (not a SYN). */
void tcp_rec_timeout(struct tcp_conn *c);
/* RFC 6675 SetPipe(): bytes believed in the network. */
uint32_t tcp_rec_pipe(const struct tcp_conn *c);
/* RFC 6675 NextSeg() rules 1 (LOST_ONLY) or 3: the next range to resend. */
bool tcp_rec_next(const struct tcp_conn *c, bool lost_only, uint32_t *seq, uint32_t *len);
/* Retransmissions that SACKs of later data show lost are sent again
 * (RACK, RFC 8985 6.2, by sequence order). */
void tcp_rec_lost_retransmits(struct tcp_conn *c);
/* Resend [SEQ, SEQ + LEN) (LEN <= MSS; the FIN when the range covers it). */
void tcp_retransmit_range(struct tcp_conn *c, uint32_t seq, uint32_t len);
/* SEQ..SEQ+LEN (FIN included) was retransmitted. */
void tcp_rec_sent(struct tcp_conn *c, uint32_t seq, uint32_t len);
/* Is C in RFC 6675 recovery (SACK negotiated and loss recovery on)? */
static inline bool
tcp_sack_recovery(const struct tcp_conn *c)
{
	return (c->flags & (TF_RECOVERY | TF_SACK_OK)) == (TF_RECOVERY | TF_SACK_OK);
}

/* ---- the stack (tcp_user.c) ---- */

/* The [tcp] defaults (what the configuration starts from). */
void tcp_conf_defaults(struct ph_conf_tcp *cfg);

int tcp_stack_init(struct tcp_stack *st, const struct ph_conf_tcp *cfg, uint16_t eph_lo,
                   uint16_t eph_hi, const struct tcp_ops *ops, void *arg, struct ph_counters *ctr);
/* Abort everything (at shutdown) and free the tables. */
void tcp_stack_fini(struct tcp_stack *st);

/* A segment arrived (its checksum checked). */
void tcp_input(struct tcp_stack *st, const struct tcp_seg *seg);
/* The same, but false (and nothing done) when no connection or listener
 * of this stack wants it: the host may know another lcore that does. */
bool tcp_input_local(struct tcp_stack *st, const struct tcp_seg *seg);
/* An ICMP error about a segment we sent (RFC 5927, RFC 1122 4.2.3.9):
 * LADDR:LPORT -> RADDR:RPORT quoted with sequence number SEQ; MTU is the
 * next-hop MTU of a "fragmentation needed". */
void tcp_icmp_input(struct tcp_stack *st, uint16_t ctx, uint32_t laddr, uint16_t lport,
                    uint32_t raddr, uint16_t rport, uint32_t seq, uint8_t type, uint8_t code,
                    uint16_t mtu);
/* Run the timers due at st->now. Returns how many fired. */
unsigned tcp_timers_run(struct tcp_stack *st);

/* ---- user calls (tcp_user.c): 0 / a count, or -errno ---- */

struct tcp_conn *tcp_conn_new(struct tcp_stack *st, uint16_t ctx, void *user);
int tcp_bind(struct tcp_conn *c, uint32_t addr, uint16_t port);
int tcp_listen(struct tcp_conn *c, int backlog);

/* What a connection takes from its listener: the socket options that shape
 * it (buffers, Nagle and cork, keep-alive, linger, MSS, timeouts, TOS/TTL,
 * congestion control). A host-wide listener hands them to its per-worker
 * accept queues the same way. */
struct tcp_conn_opts {
	uint32_t flags; /* of TCP_OPTS_FLAGS */
	uint32_t sndbuf, rcvbuf;
	uint16_t adv_mss; /* with TF_USER_MSS */
	uint8_t tos, ttl;
	uint32_t keepidle_ms, keepintvl_ms, keepcnt;
	uint32_t user_timeout_ms;
	const struct tcp_cc_ops *cc;
};
#define TCP_OPTS_FLAGS (TF_NODELAY | TF_KEEPALIVE | TF_LINGER0 | TF_CORK | TF_USER_MSS)
void tcp_opts_get(const struct tcp_conn *c, struct tcp_conn_opts *o);
void tcp_opts_set(struct tcp_conn *c, const struct tcp_conn_opts *o);
/* Start an active open; -EINPROGRESS is the normal answer. */
int tcp_connect(struct tcp_conn *c, uint32_t addr, uint16_t port);
/* The next established child, detached from C's accept queue, or NULL. */
struct tcp_conn *tcp_accept(struct tcp_conn *c, void *user);
ssize_t tcp_send(struct tcp_conn *c, const struct iovec *iov, int iovcnt, bool more);
/* Copy up to LEN bytes into IOV; PEEK leaves them queued. 0 at end of stream. */
ssize_t tcp_recv(struct tcp_conn *c, const struct iovec *iov, int iovcnt, size_t len, bool peek);
int tcp_shutdown(struct tcp_conn *c, int how);
/* The application lets go of C: orderly close (or abort, with linger 0). */
void tcp_close(struct tcp_conn *c);
/* Send RST and drop the connection (the user keeps C until tcp_close). */
void tcp_abort(struct tcp_conn *c);
/* Options that need the connection to act at once. */
void tcp_set_nodelay(struct tcp_conn *c, bool on);
void tcp_set_cork(struct tcp_conn *c, bool on);
void tcp_set_keepalive(struct tcp_conn *c, bool on);
int tcp_set_bufsize(struct tcp_conn *c, bool rcv, uint32_t bytes);

/* Does this stack listen on PORT (in any context)? */
bool tcp_port_listening(struct tcp_stack *st, uint16_t port);

/* Readiness as epoll reports it (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR). */
uint32_t tcp_poll(const struct tcp_conn *c);
void tcp_get_info(const struct tcp_conn *c, struct tcp_info *ti);
/* Bytes readable, bytes waiting to be sent (FIONREAD, TIOCOUTQ). */
uint32_t tcp_readable(const struct tcp_conn *c);

/* ---- inside the module ---- */

void tcp_output(struct tcp_conn *c);
/* Send the segment at SND.UNA again now, whatever cwnd and the peer's
 * window say: fast retransmit, a NewReno partial ACK, a timeout under a
 * zero window (RFC 5681 3.2, RFC 6582 3.2, RFC 9293 3.8.6.1). */
void tcp_retransmit_head(struct tcp_conn *c);
/* Send an ACK now (challenge ACKs, keep-alive probes use their own). */
void tcp_send_ack(struct tcp_conn *c);
/* Send a RST for C's current state (abort). */
void tcp_send_rst(struct tcp_conn *c);
/* Reply to SEG with a RST, as RFC 9293 3.10.7.1 says for a closed port. */
void tcp_respond_rst(struct tcp_stack *st, const struct tcp_seg *seg);
void tcp_send_challenge_ack(struct tcp_conn *c);
void tcp_send_keepalive(struct tcp_conn *c);
/* Send the zero-window probe byte. */
void tcp_send_probe(struct tcp_conn *c);

void tcp_timer_arm(struct tcp_conn *c, enum tcp_timer t, uint64_t delay_ms);
void tcp_timer_stop(struct tcp_conn *c, enum tcp_timer t);
void tcp_timers_stop(struct tcp_conn *c);
static inline bool
tcp_timer_armed(const struct tcp_conn *c, enum tcp_timer t)
{
	return c->t_when[t] != 0;
}
/* (Re)arm the retransmission timer at the current RTO with back-off. */
void tcp_rexmt_arm(struct tcp_conn *c);
/* After new data: restart the loss probe's timer if that is what it is. */
void tcp_tlp_rearm(struct tcp_conn *c);
uint32_t tcp_rto_backed_off(const struct tcp_conn *c);
void tcp_keep_arm(struct tcp_conn *c);

void tcp_set_state(struct tcp_conn *c, enum tcp_state s);
/* The connection ends with ERR (0 for an orderly end): unhashed, timers off,
 * the application told; freed once nobody holds it. */
void tcp_conn_drop(struct tcp_conn *c, int err);
/* The connection with this 4-tuple in context CTX, or NULL. */
struct tcp_conn *tcp_lookup(struct tcp_stack *st, uint16_t ctx, uint32_t laddr, uint16_t lport,
                            uint32_t raddr, uint16_t rport);
void tcp_enter_time_wait(struct tcp_conn *c);
/* The receive window we would advertise now (bytes, before scaling). */
uint32_t tcp_rcv_window(struct tcp_conn *c);
/* Data segment size for the current options. */
uint32_t tcp_data_mss(const struct tcp_conn *c);
void tcp_wakeup(struct tcp_conn *c);
void tcp_reap(struct tcp_stack *st);

static inline void
tcp_mib(struct tcp_stack *st, enum ph_mib m)
{
	ph_mib_inc(st->ctr, m);
}

static inline void
tcp_drop(struct tcp_stack *st, enum ph_drop why)
{
	ph_drop_count(st->ctr, why, 1);
}

/* Keyed hashes (SipHash-2-4) for ISNs and ephemeral ports. */
uint64_t tcp_siphash(const uint8_t key[16], const void *data, size_t len);

/* ---- SYN cookies (tcp_syncookie.c) ---- */

/* The ISN that answers SYN SEG with a cookie for MSS (rounded down). */
uint32_t tcp_cookie_make(const struct tcp_stack *st, const struct tcp_seg *seg, uint16_t mss);
/* Is SEG (an ACK at a listener) the answer to one of our cookies? 0 and the
 * MSS it encodes, or -1. */
int tcp_cookie_check(const struct tcp_stack *st, const struct tcp_seg *seg, uint16_t *mss);
/* TSVAL with its low bits carrying the peer's window scale and SACK-permitted. */
uint32_t tcp_cookie_tsval(uint32_t tsval, bool ws_ok, uint8_t ws, bool sack_ok);
void tcp_cookie_ts_decode(uint32_t tsecr, bool *ws_ok, uint8_t *ws, bool *sack_ok);
/* The RFC 7323 timestamp offset of a 4-tuple (keyed, so found again). */
uint32_t tcp_ts_offset(const struct tcp_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
                       uint16_t rport);
/* The MSS C (or its listener) offers on a path of MTU: TCP_MAXSEG lowers it. */
uint16_t tcp_offer_mss(const struct tcp_conn *c, uint32_t mtu);
/* The window scale for a receive buffer of RCVBUF bytes. */
uint8_t tcp_wscale_for(uint32_t rcvbuf);
/* Answer SYN SEG (options O) to listener L with a cookie SYN-ACK. */
void tcp_send_cookie_synack(struct tcp_stack *st, struct tcp_conn *l, const struct tcp_seg *seg,
                            const struct tcp_opts *o);
uint32_t tcp_isn(struct tcp_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
                 uint16_t rport);

#endif
