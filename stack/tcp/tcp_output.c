/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP output: what a connection sends, decided in one place. tcp_output()
 * is called after input, after the application queues data or reads (the
 * window opened), and from timers; it sends SYN / SYN-ACK, data within
 * min(SND.WND, cwnd), FIN, and ACKs that are due, and arms the
 * retransmission or persist timer.
 *
 * The rules it applies: Nagle (RFC 9293 3.7.4, RFC 1122 4.2.3.4) unless
 * TCP_NODELAY, TCP_CORK holding partial segments, sender and receiver SWS
 * avoidance (RFC 9293 3.8.6.2), timestamps on every segment once negotiated
 * (RFC 7323 3.2), SACK blocks while out-of-order data is held (RFC 2018 4),
 * and a window whose right edge never moves left (RFC 9293 3.8.6.2.2).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"
#include "wire/tcp.h"

uint32_t
tcp_data_mss(const struct tcp_conn *c)
{
	uint32_t mss = c->mss ? c->mss : 536;

	if (c->flags & TF_TS_OK)
		mss -= 12;
	return mss;
}

/* The window to put in a segment: receiver SWS avoidance, no shrinking,
 * scaled. Returns bytes (a multiple of 1 << rcv_ws). */
uint32_t
tcp_rcv_window(struct tcp_conn *c)
{
	uint32_t space = c->rbuf.cap ? tcp_ring_free_space(&c->rbuf) : c->rcvbuf;
	uint32_t cur = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t mss = c->adv_mss ? c->adv_mss : 536;
	uint32_t step = c->rbuf.cap / 2 < mss ? c->rbuf.cap / 2 : mss;
	uint32_t max = (uint32_t)65535 << c->rcv_ws;

	if (c->flags & TF_SHUT_RD)
		space = c->rcvbuf; /* data is dropped on arrival: never close the window */
	if (space > max)
		space = max;
	/* Do not open the window by less than min(buffer/2, MSS). */
	if (space < cur + step && space > cur)
		space = cur;
	if (space <= cur) {
		/* The right edge never moves left: round the window we keep up
		 * to the scale's unit, as Linux does. */
		uint32_t unit = (1u << c->rcv_ws) - 1;

		return (cur + unit) & ~unit;
	}
	return space & ~((1u << c->rcv_ws) - 1);
}

/* The options of a SYN or SYN-ACK into OPT: MSS, then SACK-permitted and
 * timestamps as Linux orders them, then window scale. Returns the length. */
static uint8_t
syn_options(uint8_t *opt, uint16_t mss, bool sack, bool ts, uint32_t tsval, uint32_t tsecr, bool ws,
            uint8_t wscale)
{
	uint8_t n = 0;

	opt[n++] = TCPOPT_MSS;
	opt[n++] = TCPOLEN_MSS;
	tcp_wr16(opt + n, mss);
	n += 2;
	if (sack) {
		opt[n++] = TCPOPT_SACK_OK;
		opt[n++] = TCPOLEN_SACK_OK;
	}
	if (ts) {
		if (!sack) {
			opt[n++] = TCPOPT_NOP;
			opt[n++] = TCPOPT_NOP;
		}
		opt[n++] = TCPOPT_TIMESTAMPS;
		opt[n++] = TCPOLEN_TIMESTAMPS;
		tcp_wr32(opt + n, tsval);
		tcp_wr32(opt + n + 4, tsecr);
		n += 8;
	} else if (sack) {
		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_NOP;
	}
	if (ws) {
		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_WSCALE;
		opt[n++] = TCPOLEN_WSCALE;
		opt[n++] = wscale;
	}
	return n;
}

static uint8_t
build_options(struct tcp_conn *c, uint8_t flags, uint8_t *opt)
{
	uint8_t n = 0;

	if (flags & TCP_SYN) {
		/* On a SYN-ACK only what the peer offered (RFC 7323 2.2, 3.2;
		 * RFC 2018 2); on a SYN what the configuration allows. */
		bool syn_ack = flags & TCP_ACK;
		bool ws = syn_ack ? (c->flags & TF_WS_OK) : c->st->cfg.window_scaling;
		bool ts = syn_ack ? (c->flags & TF_TS_OK) : c->st->cfg.timestamps;
		bool sack = syn_ack ? (c->flags & TF_SACK_OK) : c->st->cfg.sack;

		return syn_options(opt, c->adv_mss, sack, ts, (uint32_t)c->st->now + c->ts_offset,
		                   syn_ack ? c->ts_recent : 0, ws, c->rcv_ws);
	}
	if (c->flags & TF_TS_OK) {
		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_TIMESTAMPS;
		opt[n++] = TCPOLEN_TIMESTAMPS;
		tcp_wr32(opt + n, (uint32_t)c->st->now + c->ts_offset);
		tcp_wr32(opt + n + 4, c->ts_recent);
		n += 8;
	}
	if ((c->flags & TF_SACK_OK) && (c->ofo.n > 0 || (c->flags & TF_DSACK)) &&
	    !(flags & TCP_RST)) {
		/* A D-SACK first (RFC 2883 4), then the most recently changed
		 * range first (RFC 2018 4). */
		uint8_t max = (uint8_t)((TCP_MAX_OPT_LEN - n - 4) / 8);
		uint8_t k = 0, *len, d = 0;
		uint32_t below = UINT32_MAX;

		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_SACK;
		len = &opt[n++];
		if (c->flags & TF_DSACK) {
			tcp_wr32(opt + n, c->dsack_l);
			tcp_wr32(opt + n + 4, c->dsack_r);
			n += 8;
			d = 1;
			c->flags &= ~TF_DSACK; /* sent once (RFC 2883 4 (3)) */
			tcp_mib(c->st, PH_MIB_tcp_dsack_sent);
		}
		for (; k + d < max && k < c->ofo.n; k++) {
			int best = -1;

			/* Stamps are distinct: take the largest below the last. */
			for (uint8_t i = 0; i < c->ofo.n; i++)
				if (c->ofo.blk[i].stamp < below &&
				    (best < 0 || c->ofo.blk[i].stamp > c->ofo.blk[best].stamp))
					best = i;
			below = c->ofo.blk[best].stamp;
			tcp_wr32(opt + n, c->ofo.blk[best].l);
			tcp_wr32(opt + n + 4, c->ofo.blk[best].r);
			n += 8;
		}
		*len = (uint8_t)(2 + 8 * (k + d));
	}
	return n;
}

/* Fill and emit one segment of C. */
static int
send_segment(struct tcp_conn *c, uint32_t seq, uint8_t flags, uint32_t off, uint32_t len)
{
	struct tcp_stack *st = c->st;
	struct tcp_out o = {
	        .ctx = c->ctx,
	        .saddr = c->laddr,
	        .daddr = c->raddr,
	        .sport = c->lport,
	        .dport = c->rport,
	        .seq = seq,
	        .flags = flags,
	        .tos = c->tos,
	        .ttl = c->ttl,
	        .len = len,
	};
	uint32_t wnd = 0, segs = 1;
	int rc;

	if (flags & TCP_ACK) {
		o.ack = c->rcv_nxt;
		wnd = tcp_rcv_window(c);
		/* RFC 7323 2.2: the window in a SYN or SYN-ACK is never scaled. */
		if (flags & TCP_SYN)
			o.wnd = (uint16_t)(wnd > 65535 ? 65535 : wnd);
		else
			o.wnd = (uint16_t)(wnd >> c->rcv_ws);
	} else if (flags & TCP_SYN) {
		wnd = tcp_rcv_window(c);
		o.wnd = (uint16_t)(wnd > 65535 ? 65535 : wnd);
	}
	o.optlen = build_options(c, flags, o.opt);
	if (len > 0)
		tcp_ring_pieces(&c->sbuf, off, len, o.data, o.dlen);
	if (len > tcp_data_mss(c)) {
		/* Several segments in one send (TSO): the NIC repeats this
		 * header, options included, on each. */
		o.tso_segsz = (uint16_t)tcp_data_mss(c);
		segs = (len + o.tso_segsz - 1) / o.tso_segsz;
		tcp_mib(st, PH_MIB_tcp_tso_sends);
	}
	if (flags & TCP_ACK) {
		uint32_t edge =
		        c->rcv_nxt + ((flags & TCP_SYN) ? o.wnd : (uint32_t)o.wnd << c->rcv_ws);

		if (o.wnd == 0 && !(flags & TCP_SYN))
			tcp_mib(st, PH_MIB_tcp_zero_window_sent);
		if (seq_gt(edge, c->rcv_adv))
			c->rcv_adv = edge;
		c->last_ack_sent = c->rcv_nxt;
		c->segs_unacked = 0;
		c->flags &= ~(TF_ACKNOW | TF_WND_UPDATE);
		tcp_timer_stop(c, TCP_T_DELACK);
	}
	c->segs_out += segs;
	ph_mib_add(st->ctr, PH_MIB_tcpOutSegs, segs);
	if (flags & TCP_RST)
		tcp_mib(st, PH_MIB_tcpOutRsts);
	rc = st->ops->emit(st, c, &o);
	if (rc == -EMSGSIZE && o.tso_segsz != 0)
		c->tso_max = 0; /* the path no longer cuts sends: one segment each */
	return rc;
}

/* Sender SWS avoidance and Nagle (RFC 9293 3.8.6.2.1, 3.7.4). */
static bool
worth_sending(const struct tcp_conn *c, uint32_t len, uint32_t avail, uint32_t mss)
{
	uint32_t flight = c->snd_max - c->snd_una;

	if (len == 0)
		return false;
	if (len >= mss)
		return true;
	if (seq_lt(c->snd_nxt, c->snd_max))
		return true; /* retransmitting what was sent before */
	if (len < avail)
		/* More is queued than the windows allow: wait for a full
		 * segment unless half the peer's largest window fits. */
		return c->max_sndwnd > 0 && len >= c->max_sndwnd / 2;
	if (c->flags & (TF_CORK | TF_MORE))
		return (c->flags & TF_FIN_QUEUED) != 0;
	if ((c->flags & TF_NODELAY) || flight == 0 || (c->flags & TF_FIN_QUEUED))
		return true;
	/* Nagle as Minshall refined it (and Linux does): hold a short
	 * segment only while an earlier short one is unacknowledged, so the
	 * tail of a large write is not held for a delayed ACK. */
	return !seq_gt(c->snd_sml, c->snd_una);
}

void
tcp_retransmit_range(struct tcp_conn *c, uint32_t seq, uint32_t len)
{
	struct tcp_stack *st = c->st;
	uint32_t off = seq - c->snd_buf_seq;
	uint32_t dlen = off < c->sbuf.len ? c->sbuf.len - off : 0;
	uint8_t flags = TCP_ACK;
	uint32_t used;

	if (dlen > len)
		dlen = len;
	if ((c->flags & TF_FIN_QUEUED) && off + dlen == c->sbuf.len && dlen < len)
		flags |= TCP_FIN; /* the range runs past the data: the FIN is in it */
	used = dlen + ((flags & TCP_FIN) ? 1 : 0);
	if (used == 0) {
		/* Nothing of ours lies there (cannot happen below SND.MAX):
		 * step over it rather than loop. */
		tcp_rec_sent(c, seq, len);
		return;
	}
	if (dlen > 0 && off + dlen == c->sbuf.len)
		flags |= TCP_PSH;
	c->flags &= ~TF_RTT_TIMING; /* Karn */
	tcp_mib(st, PH_MIB_tcpRetransSegs);
	tcp_mib(st, PH_MIB_tcp_sack_retransmits);
	c->total_retrans++;
	send_segment(c, seq, flags, off, dlen);
	tcp_rec_sent(c, seq, used);
	/* Data was out already: the user timeout keeps counting from when it
	 * was last acknowledged (rexmt_since), a loss probe or not. */
	if (!tcp_timer_armed(c, TCP_T_REXMT))
		tcp_rexmt_arm(c);
}

void
tcp_output(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;

	if (c->state == TCPS_CLOSED || c->state == TCPS_LISTEN || (c->flags & TF_DEAD))
		return;
	if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED) {
		if (c->snd_nxt == c->iss) {
			uint8_t fl = c->state == TCPS_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK;

			if (seq_lt(c->iss, c->snd_max)) {
				tcp_mib(st, PH_MIB_tcpRetransSegs);
				c->total_retrans++;
			}
			c->snd_nxt = c->iss + 1;
			c->snd_max = seq_max(c->snd_max, c->snd_nxt);
			if (!tcp_timer_armed(c, TCP_T_REXMT))
				tcp_rexmt_arm(c);
			send_segment(c, c->iss, fl, 0, 0);
		} else if (c->flags & TF_ACKNOW) {
			send_segment(c, c->snd_nxt, TCP_ACK, 0, 0);
		}
		return;
	}
	if (c->state == TCPS_TIME_WAIT) {
		if (c->flags & TF_ACKNOW)
			send_segment(c, c->snd_nxt, TCP_ACK, 0, 0);
		return;
	}

	uint32_t mss = tcp_data_mss(c);
	for (unsigned budget = 0; budget < 4096; budget++) {
		uint32_t off = c->snd_nxt - c->snd_buf_seq;
		uint32_t avail = off < c->sbuf.len ? c->sbuf.len - off : 0;
		uint32_t flight = c->snd_nxt - c->snd_una;
		uint32_t usable = c->snd_wnd > flight ? c->snd_wnd - flight : 0;
		uint32_t cwnd_room = c->cwnd > flight ? c->cwnd - flight : 0;

		if (tcp_sack_recovery(c)) {
			/* RFC 6675 5 (C): while cwnd - pipe leaves a segment,
			 * lost holes first (NextSeg rule 1), then new data (2),
			 * then holes not known lost (3). */
			uint32_t pipe = tcp_rec_pipe(c), rs, rl;

			cwnd_room = c->cwnd > pipe ? c->cwnd - pipe : 0;
			if (cwnd_room >= mss && tcp_rec_next(c, true, &rs, &rl)) {
				tcp_retransmit_range(c, rs, rl);
				continue;
			}
			if (cwnd_room >= mss && (avail == 0 || usable == 0) &&
			    tcp_rec_next(c, false, &rs, &rl)) {
				tcp_retransmit_range(c, rs, rl);
				continue;
			}
		}
		if (cwnd_room < usable)
			usable = cwnd_room;
		uint32_t len = avail < usable ? avail : usable;
		uint8_t flags = TCP_ACK;
		bool fin = false, send;
		uint32_t seq = c->snd_nxt;
		bool rexmit, idle;

		if (off > c->sbuf.len) {
			/* Only our FIN lies past the data, and it is out. */
			off = c->sbuf.len;
			avail = len = 0;
		}
		rexmit = seq_lt(seq, c->snd_max);
		if (len > mss) {
			/* New data may go as several segments in one send when
			 * the NIC cuts them (TSO); whole segments only, so the
			 * short tail goes on its own under Nagle's rules. */
			uint32_t cap =
			        c->tso_max > mss && !rexmit ? c->tso_max - c->tso_max % mss : mss;

			if (len > cap)
				len = cap;
			len -= len % mss;
		}
		/* The FIN goes with (or after) the last byte of data. */
		if ((c->flags & TF_FIN_QUEUED) && len == avail &&
		    seq_leq(c->snd_nxt, c->snd_buf_seq + c->sbuf.len) &&
		    (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT ||
		     c->state == TCPS_FIN_WAIT_1 || c->state == TCPS_CLOSING ||
		     c->state == TCPS_LAST_ACK))
			fin = true;
		send = fin || (len > 0 && (c->flags & TF_FORCE)) ||
		       worth_sending(c, len, avail, mss);
		if (!send)
			len = 0; /* Nagle or SWS hold the data; an ACK may still be due */
		if (!send && !(c->flags & (TF_ACKNOW | TF_WND_UPDATE))) {
			/* Data waits behind a closed window (RFC 9293 3.8.6.1), or
			 * a window too small to use with nothing in flight to
			 * bring an update (the override timer of 3.8.6.2.1):
			 * probe it, unless something is out already. */
			if (avail > 0 && (c->snd_wnd == 0 || c->snd_una == c->snd_max) &&
			    !tcp_timer_armed(c, TCP_T_REXMT) &&
			    !tcp_timer_armed(c, TCP_T_PERSIST)) {
				c->persist_shift = 0;
				c->rexmt_since = st->now; /* the user timeout counts from here */
				tcp_timer_arm(c, TCP_T_PERSIST,
				              c->rto < st->cfg.rto_min_ms ? st->cfg.rto_min_ms
				                                          : c->rto);
			}
			return;
		}
		if (len > 0 && off + len == c->sbuf.len)
			flags |= TCP_PSH;
		if (fin)
			flags |= TCP_FIN;
		idle = c->snd_una == c->snd_max;
		if (rexmit && (len > 0 || fin)) {
			tcp_mib(st, PH_MIB_tcpRetransSegs);
			c->total_retrans++;
		}
		if (len > 0 && !rexmit && !(c->flags & (TF_TS_OK | TF_RTT_TIMING))) {
			c->flags |= TF_RTT_TIMING; /* Karn: time new data only */
			c->rtt_seq = seq;
			c->rtt_start = st->now;
		}
		send_segment(c, seq, flags, off, len);
		if (rexmit && (len > 0 || fin))
			tcp_rec_sent(c, seq,
			             len + (fin ? 1 : 0)); /* go-back-N: Eifel can undo it */
		if (len > 0 && len < mss)
			c->snd_sml = seq + len;
		c->snd_nxt += len + (fin ? 1 : 0);
		if (seq_gt(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (len > 0 || fin) {
			if (!tcp_timer_armed(c, TCP_T_REXMT)) {
				if (idle)
					c->rexmt_since = st->now;
				tcp_rexmt_arm(c);
			} else if (!rexmit && st->cfg.rack_tlp) {
				tcp_tlp_rearm(c);
			}
			tcp_timer_stop(c, TCP_T_PERSIST);
		}
		if (len == 0)
			return;
	}
}

void
tcp_retransmit_head(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	uint32_t off = c->snd_una - c->snd_buf_seq;
	uint32_t mss = tcp_data_mss(c), len = 0, end;
	uint8_t flags = TCP_ACK;

	if (off < c->sbuf.len)
		len = c->sbuf.len - off < mss ? c->sbuf.len - off : mss;
	/* With SACK, only the hole: what lies above it arrived. */
	if ((c->flags & TF_SACK_OK) && c->n_sacked > 0 && seq_gt(c->sacked[0].l, c->snd_una) &&
	    c->sacked[0].l - c->snd_una < len)
		len = c->sacked[0].l - c->snd_una;
	if ((c->flags & TF_FIN_QUEUED) && off + len == c->sbuf.len && c->state != TCPS_FIN_WAIT_2 &&
	    c->state != TCPS_TIME_WAIT)
		flags |= TCP_FIN;
	if (len == 0 && !(flags & TCP_FIN))
		return;
	if (len > 0 && off + len == c->sbuf.len)
		flags |= TCP_PSH;
	c->flags &= ~TF_RTT_TIMING; /* Karn: no sample from a retransmission */
	tcp_mib(st, PH_MIB_tcpRetransSegs);
	c->total_retrans++;
	send_segment(c, c->snd_una, flags, off, len);
	end = c->snd_una + len + ((flags & TCP_FIN) ? 1 : 0);
	tcp_rec_sent(c, c->snd_una, end - c->snd_una);
	if (seq_lt(c->snd_nxt, end))
		c->snd_nxt = end;
	if (!tcp_timer_armed(c, TCP_T_REXMT))
		tcp_rexmt_arm(c);
}

void
tcp_send_ack(struct tcp_conn *c)
{
	c->flags |= TF_ACKNOW;
	tcp_output(c);
}

void
tcp_send_challenge_ack(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	uint64_t sec = st->now / 1000;

	/* RFC 5961 7: a limit per second on challenge ACKs. The budget is
	 * per lcore and drawn at random each second around the configured
	 * limit (half of it plus up to all of it, as Linux since CVE-2016-5696):
	 * a fixed, shared count would let an off-path attacker learn from how
	 * many challenge ACKs it provokes whether another connection used some
	 * (RFC 5961 10). */
	if (sec != st->challenge_sec) {
		uint32_t lim = st->cfg.challenge_ack_limit ? st->cfg.challenge_ack_limit : 1000;

		st->challenge_sec = sec;
		st->challenge_acks = 0;
		st->challenge_budget = lim / 2 + arc4random_uniform(lim);
	}
	if (++st->challenge_acks > st->challenge_budget)
		return;
	tcp_mib(st, PH_MIB_tcp_challenge_acks);
	send_segment(c, c->snd_nxt, TCP_ACK, 0, 0);
}

void
tcp_send_rst(struct tcp_conn *c)
{
	if (c->state == TCPS_SYN_SENT || c->state == TCPS_CLOSED || c->state == TCPS_LISTEN ||
	    c->state == TCPS_TIME_WAIT)
		return;
	send_segment(c, c->snd_nxt, TCP_RST | TCP_ACK, 0, 0);
}

void
tcp_send_keepalive(struct tcp_conn *c)
{
	/* SEG.SEQ = SND.NXT - 1, no data: the peer must answer with an ACK
	 * (RFC 9293 3.8.4). */
	send_segment(c, c->snd_una - 1, TCP_ACK, 0, 0);
}

void
tcp_send_probe(struct tcp_conn *c)
{
	uint32_t off = c->snd_una - c->snd_buf_seq;

	/* One byte beyond the closed window: the peer ACKs it without taking
	 * it while its window stays shut. */
	if (off < c->sbuf.len) {
		send_segment(c, c->snd_una, TCP_ACK, off, 1);
		c->flags |= TF_PROBE_SENT;
		if (seq_gt(c->snd_una + 1, c->snd_max))
			c->snd_max = c->snd_una + 1;
	} else {
		send_segment(c, c->snd_una - 1, TCP_ACK, 0, 0);
	}
}

/* A segment answering SEG, with no connection: addresses and ports swapped. */
static struct tcp_out
reply_to(const struct tcp_seg *seg)
{
	struct tcp_out o = {
	        .ctx = seg->ctx,
	        .saddr = seg->daddr,
	        .daddr = seg->saddr,
	        .sport = seg->dport,
	        .dport = seg->sport,
	};

	return o;
}

void
tcp_respond_rst(struct tcp_stack *st, const struct tcp_seg *seg)
{
	struct tcp_out o = reply_to(seg);

	if (seg->flags & TCP_RST)
		return;
	/* RFC 9293 3.10.7.1 */
	if (seg->flags & TCP_ACK) {
		o.seq = seg->ack;
		o.flags = TCP_RST;
	} else {
		o.seq = 0;
		o.ack = seg->seq + seg->len + ((seg->flags & TCP_SYN) ? 1 : 0) +
		        ((seg->flags & TCP_FIN) ? 1 : 0);
		o.flags = TCP_RST | TCP_ACK;
	}
	tcp_mib(st, PH_MIB_tcpOutSegs);
	tcp_mib(st, PH_MIB_tcpOutRsts);
	st->ops->emit(st, NULL, &o);
}

void
tcp_send_cookie_synack(struct tcp_stack *st, struct tcp_conn *l, const struct tcp_seg *seg,
                       const struct tcp_opts *so)
{
	struct tcp_out o = reply_to(seg);
	struct tcp_path path = {.mtu = 1500};
	uint32_t tsval = 0;
	uint16_t adv, peer_mss = so->mss_ok && so->mss ? so->mss : 536;
	bool ts = so->ts_ok && st->cfg.timestamps;
	/* Window scale and SACK-permitted come back only in a timestamp. */
	bool ws = so->ws_ok && st->cfg.window_scaling && ts;
	bool sack = so->sack_ok && st->cfg.sack && ts;

	o.ack = seg->seq + 1;
	o.flags = TCP_SYN | TCP_ACK;
	o.tos = l->tos;
	o.ttl = l->ttl;
	if (st->ops->route(st, seg->ctx, seg->saddr, &path) != 0)
		return;
	adv = tcp_offer_mss(l, path.mtu);
	o.seq = tcp_cookie_make(st, seg, peer_mss < adv ? peer_mss : adv);
	o.wnd = (uint16_t)(l->rcvbuf > 65535 ? 65535 : l->rcvbuf);
	if (ts)
		tsval = tcp_cookie_tsval((uint32_t)st->now + tcp_ts_offset(st, seg->daddr,
		                                                           seg->dport, seg->saddr,
		                                                           seg->sport),
		                         ws, so->ws > 14 ? 14 : so->ws, sack);
	o.optlen =
	        syn_options(o.opt, adv, sack, ts, tsval, so->tsval, ws, tcp_wscale_for(l->rcvbuf));
	tcp_mib(st, PH_MIB_tcp_syncookies_sent);
	tcp_mib(st, PH_MIB_tcpOutSegs);
	st->ops->emit(st, NULL, &o);
}

void
tcp_send_tlp(struct tcp_conn *c)
{
	uint32_t off = c->snd_nxt - c->snd_buf_seq, mss = tcp_data_mss(c);
	uint32_t flight = c->snd_nxt - c->snd_una;

	if (c->flags & TF_RECOVERY)
		return; /* no probe in recovery (RFC 8985 7.2) */
	tcp_mib(c->st, PH_MIB_tcp_tlp_probes);
	if (off < c->sbuf.len && c->snd_wnd > flight + mss) {
		uint32_t cw = c->cwnd;

		/* One new segment beyond cwnd (RFC 8985 7.3). */
		c->cwnd = flight + mss;
		c->flags |= TF_FORCE;
		tcp_output(c);
		c->flags &= ~TF_FORCE;
		c->cwnd = cw;
		c->tlp_rx_pending = false; /* new data: it repairs nothing */
	} else {
		uint32_t end = c->snd_max, from = end - c->snd_una > mss ? end - mss : c->snd_una;

		tcp_retransmit_range(c, from, end - from);
		c->tlp_rx_l = from;
		c->tlp_rx_pending = true;
	}
	c->tlp_high = c->snd_max;
	c->tlp_out = true;
}
