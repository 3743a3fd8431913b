/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP input: a parsed segment (checksum checked by the glue) is matched to a
 * connection, else to a listener, else answered as a closed port; then it
 * goes through the steps of RFC 9293 3.10.7 in order:
 *
 *   LISTEN (3.10.7.2)    RST ignored, ACK answered with RST, SYN makes a
 *                        child in SYN-RECEIVED (bounded SYN + accept queue);
 *   SYN-SENT (3.10.7.3)  the ACK must cover our SYN, RST refuses, SYN(-ACK)
 *                        synchronizes (or starts a simultaneous open);
 *   other states (3.10.7.4), with RFC 5961 and RFC 7323 applied:
 *     1. PAWS, then trim the segment to the window, ACK what is unacceptable;
 *     2. RST: exact match resets, in-window draws a challenge ACK;
 *     3. SYN in a synchronized state: challenge ACK (TIME-WAIT: RFC 6191 reuse);
 *     4. ACK: SYN-RECEIVED -> ESTABLISHED, SND.UNA, RTT, congestion control,
 *        duplicate ACKs and fast retransmit, window update, FIN acknowledged;
 *     5. data: in order into the receive ring, else held as a range (and ACKed
 *        at once with SACK blocks); delayed ACK for in-order data;
 *     6. FIN once everything before it arrived.
 * Then tcp_output() sends what the segment made due.
 */
#include <errno.h>
#include <string.h>

#include <rte_jhash.h>

#include "tcp/tcp.h"
#include "wire/tcp.h"

/* RFC 7323 5.5: a ts_recent idle for 24 days is too old to compare with. */
#define TCP_PAWS_IDLE_MS (24ull * 24 * 3600 * 1000)

static uint32_t
conn_hash(uint16_t ctx, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	return rte_jhash_3words(laddr, raddr, (uint32_t)lport << 16 | rport, ctx);
}

struct tcp_conn *
tcp_lookup(struct tcp_stack *st, uint16_t ctx, uint32_t laddr, uint16_t lport, uint32_t raddr,
           uint16_t rport)
{
	struct tcp_conn_list *b =
	        &st->conns[conn_hash(ctx, laddr, lport, raddr, rport) & st->conn_mask];
	struct tcp_conn *c;

	LIST_FOREACH(c, b, hlink)
	if (c->lport == lport && c->rport == rport && c->laddr == laddr && c->raddr == raddr &&
	    c->ctx == ctx)
		return c;
	return NULL;
}

void tcp_hash_insert(struct tcp_conn *c);

void
tcp_hash_insert(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;

	LIST_INSERT_HEAD(&st->conns[conn_hash(c->ctx, c->laddr, c->lport, c->raddr, c->rport) &
	                            st->conn_mask],
	                 c, hlink);
	c->hashed = true;
}

struct tcp_conn *tcp_find_listener(struct tcp_stack *st, uint16_t ctx, uint32_t addr,
                                   uint16_t port);

struct tcp_conn *
tcp_find_listener(struct tcp_stack *st, uint16_t ctx, uint32_t addr, uint16_t port)
{
	struct tcp_conn_list *b = &st->binds[((uint32_t)ctx * 31 + port) & st->bind_mask];
	struct tcp_conn *c, *wild = NULL;

	LIST_FOREACH(c, b, hlink)
	{
		if (c->state != TCPS_LISTEN || c->lport != port || c->ctx != ctx)
			continue;
		if (c->laddr == addr)
			return c;
		if (c->laddr == 0 && wild == NULL)
			wild = c;
	}
	if (wild != NULL || ctx == TCP_CTX_ANY)
		return wild;
	/* None in the segment's context: a listener that opted in to every
	 * context (bound to the wildcard address only) takes it. */
	b = &st->binds[((uint32_t)TCP_CTX_ANY * 31 + port) & st->bind_mask];
	LIST_FOREACH(c, b, hlink)
	if (c->state == TCPS_LISTEN && c->lport == port && c->ctx == TCP_CTX_ANY)
		return c;
	return NULL;
}

/* ---- helpers ---- */

void
tcp_wakeup(struct tcp_conn *c)
{
	if (c->user != NULL)
		c->st->ops->wakeup(c->st, c);
	else if (c->parent != NULL && c->in_acceptq)
		c->st->ops->wakeup(c->st, c->parent);
}

static void
apply_syn_options(struct tcp_conn *c, const struct tcp_opts *o)
{
	struct tcp_stack *st = c->st;

	/* RFC 9293 3.7.1's default, also for an MSS of 0 (as Linux). */
	c->peer_mss = o->mss_ok && o->mss != 0 ? o->mss : 536;
	if (c->peer_mss < 88)
		c->peer_mss = 88; /* Linux's floor against tiny-MSS attacks */
	c->mss = c->peer_mss < c->adv_mss ? c->peer_mss : c->adv_mss;
	/* Both sides must offer it (RFC 7323 2.2); we offered in our SYN
	 * whenever the configuration allows, and answer a SYN in kind. */
	if (o->ws_ok && st->cfg.window_scaling) {
		c->flags |= TF_WS_OK;
		c->snd_ws = o->ws;
	} else {
		c->flags &= ~TF_WS_OK;
		c->snd_ws = 0;
		c->rcv_ws = 0;
	}
	if (o->ts_ok && st->cfg.timestamps) {
		c->flags |= TF_TS_OK;
		c->ts_recent = o->tsval;
		c->ts_recent_age = st->now;
	} else {
		c->flags &= ~TF_TS_OK;
	}
	if (o->sack_ok && st->cfg.sack)
		c->flags |= TF_SACK_OK;
	else
		c->flags &= ~TF_SACK_OK;
}

/* RFC 6298 2.2 and 2.3, in ms with BSD's fixed point. */
static void
rtt_sample(struct tcp_conn *c, uint32_t rtt)
{
	struct tcp_stack *st = c->st;
	uint32_t rto;

	if (c->srtt == 0) {
		c->srtt = rtt << 3;
		c->rttvar = rtt << 1;
	} else {
		int32_t delta = (int32_t)rtt - (int32_t)(c->srtt >> 3);

		c->srtt = (uint32_t)((int32_t)c->srtt + delta);
		if (delta < 0)
			delta = -delta;
		delta -= (int32_t)(c->rttvar >> 2);
		c->rttvar = (uint32_t)((int32_t)c->rttvar + delta);
	}
	if (c->srtt == 0)
		c->srtt = 1;
	/* RTO = SRTT + max(G, 4 * RTTVAR), G = 1 ms */
	rto = (c->srtt >> 3) + (c->rttvar > 1 ? c->rttvar : 1);
	if (rto < st->cfg.rto_min_ms)
		rto = st->cfg.rto_min_ms;
	if (rto > st->cfg.rto_max_ms)
		rto = st->cfg.rto_max_ms;
	c->rto = rto;
	c->backoff = 0;
}

/* The RTT a timestamp echo in O gives (RFC 7323 4.1), in *RTT; false
 * without one, or when it names no time we could have sent at. */
static bool
ts_rtt(const struct tcp_conn *c, const struct tcp_opts *o, uint32_t *rtt)
{
	if (!(c->flags & TF_TS_OK) || !o->ts_ok || o->tsecr == 0)
		return false;
	*rtt = (uint32_t)c->st->now - (o->tsecr - c->ts_offset);
	return *rtt < 3600 * 1000;
}

/* The ACK completing a passive open (options O): its RTT sample. */
static void
handshake_rtt(struct tcp_conn *c, const struct tcp_opts *o)
{
	uint32_t rtt;

	if (c->flags & TF_COOKIE)
		return;
	if (ts_rtt(c, o, &rtt))
		/* The echo names the SYN-ACK it answers, retransmitted or not. */
		rtt_sample(c, rtt);
	else if (c->rexmits == 0 && !(c->flags & TF_TS_OK))
		rtt_sample(c, (uint32_t)(c->st->now - c->rtt_start));
	else if (c->rexmits > 0 && c->srtt == 0 && c->rto < 3000)
		c->rto = 3000; /* RFC 6298 5.7 */
}

static void
established(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;

	tcp_set_state(c, TCPS_ESTABLISHED);
	c->established_at = st->now;
	c->last_rcv = st->now;
	c->rexmits = 0;
	c->backoff = 0;
	c->snd_buf_seq = c->iss + 1;
	c->recover = c->iss;
	c->high_rxt = c->snd_una;
	c->lost_below = c->snd_una;
	c->tlp_out = false;
	c->tlp_rx_pending = false;
	c->n_sacked = 0;
	c->n_rxt = 0;
	c->flags &= ~(TF_RECOVERY | TF_RTO_REC | TF_UNDO_OK);
	memset(c->cc_priv, 0, sizeof(c->cc_priv));
	c->cc->init(c);
	c->quickacks = (uint16_t)(st->cfg.quickack > UINT16_MAX ? UINT16_MAX : st->cfg.quickack);
	tcp_keep_arm(c);
}

/* ---- LISTEN ---- */

struct tcp_conn *tcp_child_new(struct tcp_conn *l, const struct tcp_seg *seg);

static void conn_input(struct tcp_conn *c, const struct tcp_seg *seg);

/* An ACK at listener L that may complete a cookie handshake: make the
 * connection the cookie describes and let the ACK establish it. False when
 * it is no cookie of ours (the caller resets). */
static bool
cookie_accept(struct tcp_stack *st, struct tcp_conn *l, const struct tcp_seg *seg)
{
	struct tcp_opts so = {0}, o;
	struct tcp_conn *c;
	uint16_t mss;

	if (tcp_cookie_check(st, seg, &mss) != 0) {
		tcp_mib(st, PH_MIB_tcp_syncookies_failed);
		return false;
	}
	if (tcp_opt_parse(seg->opt, seg->optlen, false, &o) != 0) {
		tcp_drop(st, PH_DROP_TCP_BAD_OPTIONS);
		return true;
	}
	if (l->n_acceptq >= l->backlog) {
		tcp_drop(st, PH_DROP_TCP_LISTEN_OVERFLOW);
		return true;
	}
	so.mss_ok = true;
	so.mss = mss;
	if (o.ts_ok && o.tsecr != 0 && st->cfg.timestamps) {
		uint32_t off = tcp_ts_offset(st, seg->daddr, seg->dport, seg->saddr, seg->sport);

		/* Our TSval must be from the last two cookie periods. */
		if ((uint32_t)st->now - (o.tsecr - off) <= 2 * 64000) {
			so.ts_ok = true;
			so.tsval = o.tsval;
			tcp_cookie_ts_decode(o.tsecr, &so.ws_ok, &so.ws, &so.sack_ok);
		}
	}
	c = tcp_child_new(l, seg);
	if (c == NULL) {
		tcp_drop(st, PH_DROP_TCP_CONN_LIMIT);
		return true;
	}
	tcp_mib(st, PH_MIB_tcp_syncookies_recv);
	/* No SYN-ACK was timed, and our TSval's low bits carry options: the
	 * handshake gives no RTT sample, and the RTO stays at its initial
	 * value until data gives one. */
	c->flags |= TF_COOKIE;
	c->irs = seg->seq - 1;
	c->rcv_nxt = seg->seq;
	c->rcv_adv = c->rcv_nxt;
	apply_syn_options(c, &so);
	c->iss = seg->ack - 1;
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->snd_buf_seq = c->iss + 1;
	c->snd_sml = c->iss;
	c->recover = c->iss;
	c->snd_wl1 = c->irs; /* so this ACK's window is taken */
	c->snd_wl2 = c->iss;
	c->last_rcv = st->now;
	conn_input(c, seg);
	return true;
}

static void
listen_input(struct tcp_stack *st, struct tcp_conn *l, const struct tcp_seg *seg)
{
	struct tcp_opts o;
	struct tcp_conn *c;

	if (seg->flags & TCP_RST) {
		tcp_drop(st, PH_DROP_TCP_LISTEN_BAD);
		return;
	}
	if (seg->flags & TCP_ACK) {
		/* Cookies are taken only while they are being given out (as
		 * Linux): at other times a blind 2^24 guess buys nothing. */
		if (!(seg->flags & TCP_SYN) &&
		    (st->cfg.syncookies == 2 || (st->cfg.syncookies == 1 && st->synq_full_at != 0 &&
		                                 st->now - st->synq_full_at < 2 * 64000)) &&
		    cookie_accept(st, l, seg))
			return;
		tcp_drop(st, PH_DROP_TCP_LISTEN_BAD);
		tcp_respond_rst(st, seg);
		return;
	}
	if (!(seg->flags & TCP_SYN)) {
		tcp_drop(st, PH_DROP_TCP_LISTEN_BAD);
		return;
	}
	if (tcp_opt_parse(seg->opt, seg->optlen, true, &o) != 0) {
		tcp_drop(st, PH_DROP_TCP_BAD_OPTIONS);
		return;
	}
	/* Both queues count against the backlog, as in BSD. A full SYN
	 * queue answers with a cookie instead (RFC 4987 3.6), unless the
	 * accept queue alone is full: then nobody accepts, and the client
	 * had better try again later. */
	if (st->cfg.syncookies == 2 || (l->n_synq + l->n_acceptq >= l->backlog &&
	                                st->cfg.syncookies == 1 && l->n_acceptq < l->backlog)) {
		st->synq_full_at = st->now ? st->now : 1;
		tcp_send_cookie_synack(st, l, seg, &o);
		return;
	}
	if (l->n_synq + l->n_acceptq >= l->backlog) {
		tcp_drop(st, PH_DROP_TCP_LISTEN_OVERFLOW);
		return;
	}
	c = tcp_child_new(l, seg);
	if (c == NULL) {
		tcp_drop(st, PH_DROP_TCP_CONN_LIMIT);
		return;
	}
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	apply_syn_options(c, &o);
	c->snd_wnd = seg->wnd; /* never scaled in a SYN */
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = c->iss;
	c->last_rcv = st->now;
	/* Data on a SYN is not kept (no TFO): the peer sends it again. */
	tcp_output(c);
}

static void data_input(struct tcp_conn *c, uint32_t seq, const uint8_t *data, uint32_t len,
                       bool fin);

/* ---- SYN-SENT ---- */

static void
syn_sent_input(struct tcp_conn *c, const struct tcp_seg *seg)
{
	struct tcp_stack *st = c->st;
	struct tcp_opts o;
	bool ack = seg->flags & TCP_ACK;

	if (ack && (seq_leq(seg->ack, c->iss) || seq_gt(seg->ack, c->snd_max))) {
		tcp_drop(st, PH_DROP_TCP_SYN_SENT_BAD);
		if (!(seg->flags & TCP_RST))
			tcp_respond_rst(st, seg);
		return;
	}
	if (seg->flags & TCP_RST) {
		if (ack) {
			tcp_mib(st, PH_MIB_tcpAttemptFails);
			tcp_conn_drop(c, ECONNREFUSED);
		} else {
			tcp_drop(st, PH_DROP_TCP_SYN_SENT_BAD);
		}
		return;
	}
	if (!(seg->flags & TCP_SYN)) {
		tcp_drop(st, PH_DROP_TCP_SYN_SENT_BAD);
		return;
	}
	if (tcp_opt_parse(seg->opt, seg->optlen, true, &o) != 0) {
		tcp_drop(st, PH_DROP_TCP_BAD_OPTIONS);
		return;
	}
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->last_rcv = st->now;
	apply_syn_options(c, &o);
	if (ack) {
		c->snd_una = seg->ack;
		c->snd_wnd = seg->wnd; /* a SYN-ACK's window is never scaled */
		c->max_sndwnd = c->snd_wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		tcp_timer_stop(c, TCP_T_REXMT);
		/* RFC 6298 5.7: a retransmitted SYN leaves RTO at 3 s. */
		if (c->rexmits > 0 && c->srtt == 0 && c->rto < 3000)
			c->rto = 3000;
		else if (c->rexmits == 0)
			rtt_sample(c, (uint32_t)(st->now - c->rtt_start));
		c->flags &= ~TF_RTT_TIMING;
		established(c);
		c->flags |= TF_ACKNOW;
		tcp_wakeup(c);
		/* Data (and a FIN) may ride on the SYN-ACK (RFC 9293 3.10.7.3:
		 * "continue processing at the sixth step"), within our window. */
		if (seg->len > 0 || (seg->flags & TCP_FIN)) {
			uint32_t room = tcp_ring_free_space(&c->rbuf);
			uint32_t len = seg->len < room ? seg->len : room;

			data_input(c, c->rcv_nxt, seg->data, len,
			           (seg->flags & TCP_FIN) && len == seg->len);
		}
		if (c->state != TCPS_CLOSED)
			tcp_output(c);
		return;
	}
	/* Simultaneous open (RFC 9293 3.5, figure 8). */
	c->snd_wnd = seg->wnd;
	c->snd_wl1 = seg->seq;
	tcp_set_state(c, TCPS_SYN_RECEIVED);
	c->snd_nxt = c->iss;
	tcp_output(c);
}

/* ---- synchronized states ---- */

/* Data we hold already arrived again: report it in the next ACK as a
 * D-SACK (RFC 2883), so the sender can tell a needless retransmission. */
static void
dsack_note(struct tcp_conn *c, uint32_t l, uint32_t r)
{
	if (!(c->flags & TF_SACK_OK))
		return;
	c->dsack_l = l;
	c->dsack_r = r;
	c->flags |= TF_DSACK | TF_ACKNOW;
}

/* Trim SEG to the window; false when nothing of it is acceptable. Sets the
 * bounds of the acceptable data in *SEQ / *LEN / *FIN / *SYN. */
static bool
trim_to_window(struct tcp_conn *c, const struct tcp_seg *seg, uint32_t *seq, uint32_t *off,
               uint32_t *len, bool *syn, bool *fin)
{
	uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t s = seg->seq, l = seg->len;
	int32_t before;

	*syn = seg->flags & TCP_SYN;
	*fin = seg->flags & TCP_FIN;
	*off = 0;
	/* Room the ring really has counts too: the advertised window never
	 * exceeds it, but a peer may send a probe beyond. */
	if (c->rbuf.cap) {
		uint32_t room = tcp_ring_free_space(&c->rbuf);

		if (room > wnd)
			wnd = room;
	}
	before = (int32_t)(c->rcv_nxt - s);
	if (before > 0) {
		/* Already received: the SYN, then data, then the FIN. */
		if (*syn) {
			*syn = false;
			s++;
			before--;
		}
		if (before > 0 && l > 0)
			dsack_note(c, s, s + ((uint32_t)before < l ? (uint32_t)before : l));
		if ((uint32_t)before >= l) {
			uint32_t dup = l;

			*off += dup;
			s += dup;
			l = 0;
			before -= (int32_t)dup;
			if (before > 0 && *fin) {
				*fin = false;
				before--;
			}
			/* A wholly old segment, or a keep-alive probe. */
			if (before > 0 || (seg->len == 0 && !(seg->flags & (TCP_SYN | TCP_FIN)) &&
			                   seg->seq != c->rcv_nxt)) {
				*seq = c->rcv_nxt;
				*len = 0;
				return false;
			}
			/* A duplicate that ends at RCV.NXT: our ACK of it was
			 * lost, so say it again (its ACK field still counts). */
			if (!*fin && (seg->len > 0 || (seg->flags & (TCP_SYN | TCP_FIN))))
				c->flags |= TF_ACKNOW;
		} else {
			*off += (uint32_t)before;
			s += (uint32_t)before;
			l -= (uint32_t)before;
		}
	}
	/* At or beyond the right edge. */
	if (seq_geq(s, c->rcv_nxt + wnd)) {
		if (s == c->rcv_nxt && (wnd == 0 || l == 0)) {
			/* An empty segment at RCV.NXT, or a zero-window probe:
			 * its ACK is still good; the probe is answered. */
			if (l > 0 || *fin)
				c->flags |= TF_ACKNOW;
			*seq = s;
			*len = 0;
			*fin = false;
			return true;
		}
		return false;
	}
	if (seq_gt(s + l, c->rcv_nxt + wnd)) {
		l = c->rcv_nxt + wnd - s;
		*fin = false;
	}
	*seq = s;
	*len = l;
	return true;
}

/* The ACK for an unacceptable segment SEG, at most one per 500 ms per
 * connection (RFC 9293 3.10.7.4 with RFC 5961 10; Linux's
 * tcp_invalid_ratelimit), so two confused ends cannot loop on ACKs. Data
 * is no such loop: a retransmission we hold already is answered every time
 * (with its D-SACK), as Linux does. */
static void
oow_ack(struct tcp_conn *c, const struct tcp_seg *seg)
{
	struct tcp_stack *st = c->st;

	if ((seg->len == 0 || (seg->flags & TCP_SYN)) && c->oow_ack_at != 0 &&
	    st->now - c->oow_ack_at < 500)
		return;
	c->oow_ack_at = st->now;
	tcp_send_ack(c);
}

static void
deliver_fin(struct tcp_conn *c)
{
	c->flags |= TF_RCVD_FIN;
	c->flags &= ~TF_OFO_FIN;
	c->rcv_nxt++;
	c->flags |= TF_ACKNOW;
	switch (c->state) {
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
		tcp_set_state(c, TCPS_CLOSE_WAIT);
		break;
	case TCPS_FIN_WAIT_1:
		/* Our FIN not yet acknowledged: both closing at once. */
		tcp_set_state(c, TCPS_CLOSING);
		break;
	case TCPS_FIN_WAIT_2:
		tcp_enter_time_wait(c);
		break;
	default:
		break;
	}
	tcp_wakeup(c);
}

/* In-order and out-of-order data (step 5). */
static void
data_input(struct tcp_conn *c, uint32_t seq, const uint8_t *data, uint32_t len, bool fin)
{
	struct tcp_stack *st = c->st;

	if (len > 0 && (c->flags & TF_ORPHAN)) {
		/* Nobody will read it (RFC 2525 2.17): reset. */
		tcp_drop(st, PH_DROP_TCP_DATA_AFTER_CLOSE);
		tcp_send_rst(c);
		tcp_conn_drop(c, ECONNRESET);
		return;
	}
	if (len > 0 && (c->flags & TF_SHUT_RD)) {
		/* Read side shut: acknowledged and thrown away, as Linux does. */
		c->flags |= TF_ACKNOW;
		if (seq != c->rcv_nxt)
			return; /* out of order: nothing to keep */
		c->rcv_nxt += len;
		c->bytes_received += len;
		seq = c->rcv_nxt;
		len = 0;
	}
	if (len > 0 && seq == c->rcv_nxt) {
		uint32_t had_ofo = c->ofo.n;

		tcp_ring_write(&c->rbuf, c->rbuf.len, data, len);
		c->rbuf.len += len;
		c->rcv_nxt += len;
		c->bytes_received += len;
		if (had_ofo) {
			uint32_t nxt = tcp_ofo_advance(&c->ofo, c->rcv_nxt);

			c->rbuf.len += nxt - c->rcv_nxt;
			c->bytes_received += nxt - c->rcv_nxt;
			c->rcv_nxt = nxt;
			/* Filling a hole is ACKed at once (RFC 5681 4.2). */
			c->flags |= TF_ACKNOW;
		}
		/* ACK at least every second full-sized segment (RFC 9293
		 * 3.8.6.3); delay the rest, well under 500 ms. The first
		 * segments of a connection are ACKed at once (Linux's quick-ACK
		 * mode): a write-write-read exchange at the start, and slow
		 * start, would otherwise wait for the delayed-ACK timer. */
		if (++c->segs_unacked >= 2 || c->quickacks > 0) {
			c->flags |= TF_ACKNOW;
			if (c->quickacks > 0)
				c->quickacks--;
		} else if (!(c->flags & TF_ACKNOW) && !tcp_timer_armed(c, TCP_T_DELACK))
			tcp_timer_arm(c, TCP_T_DELACK, st->cfg.delack_ms);
		tcp_wakeup(c);
	} else if (len > 0) {
		uint32_t off = c->rbuf.len + (seq - c->rcv_nxt);

		for (uint8_t i = 0; i < c->ofo.n; i++)
			if (seq_geq(seq, c->ofo.blk[i].l) && seq_leq(seq + len, c->ofo.blk[i].r))
				dsack_note(c, seq, seq + len);

		if (off + len > c->rbuf.cap || !tcp_ofo_add(&c->ofo, seq, seq + len)) {
			tcp_drop(st, PH_DROP_TCP_OFO_FULL);
		} else {
			tcp_ring_write(&c->rbuf, off, data, len);
			tcp_mib(st, PH_MIB_tcp_ofo_queued);
		}
		/* Out of order: a duplicate ACK now (RFC 5681 4.2). */
		c->flags |= TF_ACKNOW;
		if (fin) {
			c->flags |= TF_OFO_FIN;
			c->rcv_fin_seq = seq + len;
		}
		return;
	} else if (fin && seq != c->rcv_nxt) {
		c->flags |= TF_OFO_FIN | TF_ACKNOW;
		c->rcv_fin_seq = seq;
		return;
	}
	if (fin && !(c->flags & TF_RCVD_FIN))
		deliver_fin(c);
	else if ((c->flags & TF_OFO_FIN) && c->rcv_nxt == c->rcv_fin_seq && c->ofo.n == 0)
		deliver_fin(c);
}

static void
ack_input(struct tcp_conn *c, const struct tcp_seg *seg, const struct tcp_opts *o)
{
	struct tcp_stack *st = c->st;
	uint32_t ack = seg->ack;
	uint32_t wnd = (uint32_t)seg->wnd << c->snd_ws;
	uint32_t acked, flight, newly = 0;

	if (o->n_sack > 0) {
		ph_mib_add(st->ctr, PH_MIB_tcp_sack_blocks_received, o->n_sack);
		if (c->flags & TF_SACK_OK)
			newly = tcp_sack_receive(c, o, ack);
	}
	if (seq_gt(ack, c->snd_una)) {
		uint32_t data_end = c->snd_buf_seq + c->sbuf.len;
		uint32_t data_acked;

		acked = ack - c->snd_una;
		flight = c->snd_max - c->snd_una;
		/* RTT: timestamps echo (RFC 7323 4.1), else Karn's timed segment. */
		uint32_t rtt;

		if ((c->flags & TF_TS_OK) && o->ts_ok && o->tsecr != 0) {
			if (ts_rtt(c, o, &rtt) &&
			    !(c->backoff > 0 && c->rexmits > 0 && seq_lt(c->recover, c->snd_una)))
				rtt_sample(c, rtt);
		} else if ((c->flags & TF_RTT_TIMING) && seq_gt(ack, c->rtt_seq)) {
			rtt_sample(c, (uint32_t)(st->now - c->rtt_start));
			c->flags &= ~TF_RTT_TIMING;
		}
		data_acked = seq_gt(ack, data_end) ? c->sbuf.len : ack - c->snd_buf_seq;
		if (seq_lt(ack, c->snd_buf_seq))
			data_acked = 0;
		tcp_ring_consume(&c->sbuf, data_acked);
		c->snd_buf_seq += data_acked;
		c->snd_una = ack;
		if (seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		c->bytes_acked += acked;
		c->rexmits = 0;
		c->backoff = 0;
		c->flags &= ~TF_PROBE_SENT;
		c->rexmt_since = st->now;
		if (c->mss_clamped_at != 0 &&
		    st->now - c->mss_clamped_at > TCP_BLACKHOLE_RETRY_MS) {
			/* Try the path's MSS again, now and then (RFC 4821 7.7's
			 * spirit: a black hole may have been a passing outage). */
			c->mss = c->mss_unclamped;
			c->mss_clamped_at = 0;
		}
		tcp_rec_ack(c, o, acked, flight);
		if (newly > 0)
			tcp_rec_lost_retransmits(c);
		if (c->snd_una == c->snd_max)
			tcp_timer_stop(c, TCP_T_REXMT);
		else
			tcp_rexmt_arm(c);
		if (seq_geq(c->snd_nxt, c->snd_buf_seq + c->sbuf.len))
			tcp_timer_stop(c, TCP_T_PERSIST); /* nothing waits any more */
		if (data_acked > 0)
			tcp_wakeup(c);
	} else if (ack == c->snd_una && seg->len == 0 && !(seg->flags & (TCP_SYN | TCP_FIN)) &&
	           c->snd_max != c->snd_una && (wnd == c->snd_wnd || newly > 0) && c->snd_wnd > 0 &&
	           !(c->flags & TF_PROBE_SENT)) {
		/* A duplicate ACK (RFC 5681 2, DUPLICATE ACKNOWLEDGMENT); one
		 * that SACKs new data counts even when the window moved (RFC
		 * 6675 2's DupAck: a receiver such as Linux grows its window
		 * while it reports the hole). */
		tcp_rec_dupack(c);
		if (newly > 0)
			tcp_rec_lost_retransmits(c);
		/* New holes below SACKed data start the reordering window. */
		if (newly > 0 && !(c->flags & TF_RECOVERY) && st->cfg.rack_tlp)
			tcp_rexmt_arm(c);
	}
	c->persist_probes = 0; /* any ACK says the peer is there */
	/* Window update (RFC 9293 3.10.7.4, SND.WL1/WL2). */
	if (seq_lt(c->snd_wl1, seg->seq) || (c->snd_wl1 == seg->seq && seq_leq(c->snd_wl2, ack))) {
		bool opened = c->snd_wnd == 0 && wnd > 0;

		c->snd_wnd = wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = ack;
		if (wnd > c->max_sndwnd)
			c->max_sndwnd = wnd;
		if (opened) {
			tcp_timer_stop(c, TCP_T_PERSIST);
			c->persist_shift = 0;
			if (c->flags & TF_PROBE_SENT) {
				c->flags &= ~TF_PROBE_SENT;
				if (seq_lt(c->snd_nxt, c->snd_una))
					c->snd_nxt = c->snd_una;
			}
			tcp_wakeup(c);
		}
	}
}

/* Our FIN is acknowledged when SND.UNA passed it. */
static bool
fin_acked(const struct tcp_conn *c)
{
	return (c->flags & TF_FIN_QUEUED) && c->snd_una == c->snd_buf_seq + c->sbuf.len + 1;
}

static void
conn_input(struct tcp_conn *c, const struct tcp_seg *seg)
{
	struct tcp_stack *st = c->st;
	struct tcp_opts o;
	uint32_t seq, off, len;
	bool syn, fin, ok;

	c->segs_in++;
	if (c->state == TCPS_SYN_SENT) {
		syn_sent_input(c, seg);
		return;
	}
	if (tcp_opt_parse(seg->opt, seg->optlen, seg->flags & TCP_SYN, &o) != 0) {
		tcp_drop(st, PH_DROP_TCP_BAD_OPTIONS);
		return;
	}
	/* TIME-WAIT: a new SYN may reopen (RFC 6191 with timestamps, RFC 9293
	 * 3.6.1 without): only if it is newer than the old connection. */
	if (c->state == TCPS_TIME_WAIT && (seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
		bool newer = (c->flags & TF_TS_OK) && o.ts_ok ? seq_gt(o.tsval, c->ts_recent)
		                                              : seq_gt(seg->seq, c->rcv_nxt);
		struct tcp_conn *l =
		        newer ? tcp_find_listener(st, c->ctx, c->laddr, c->lport) : NULL;

		if (l != NULL) {
			tcp_mib(st, PH_MIB_tcp_timewait_reused);
			tcp_conn_drop(c, 0);
			tcp_reap(st);
			listen_input(st, l, seg);
			return;
		}
	}
	/* 1a. PAWS (RFC 7323 5.3). */
	if ((c->flags & TF_TS_OK) && o.ts_ok && !(seg->flags & TCP_RST) &&
	    seq_lt(o.tsval, c->ts_recent) && st->now - c->ts_recent_age < TCP_PAWS_IDLE_MS) {
		tcp_drop(st, PH_DROP_TCP_PAWS);
		oow_ack(c, seg);
		return;
	}
	/* Our SYN-ACK was lost and the peer sends its SYN again. */
	if (c->state == TCPS_SYN_RECEIVED && seg->seq == c->irs &&
	    (seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
		c->snd_nxt = c->iss;
		tcp_output(c);
		return;
	}
	/* 1b. Acceptability, trimming to the window. */
	ok = trim_to_window(c, seg, &seq, &off, &len, &syn, &fin);
	if (!ok) {
		if (seg->flags & TCP_RST) {
			tcp_drop(st, PH_DROP_TCP_RST_OUT_OF_WINDOW);
			return;
		}
		tcp_drop(st, PH_DROP_TCP_OUT_OF_WINDOW);
		oow_ack(c, seg);
		return;
	}
	/* RFC 7323 4.3: remember the newest timestamp of an in-window segment. */
	if ((c->flags & TF_TS_OK) && o.ts_ok && seq_leq(seg->seq, c->last_ack_sent) &&
	    seq_geq(o.tsval, c->ts_recent)) {
		c->ts_recent = o.tsval;
		c->ts_recent_age = st->now;
	}
	c->last_rcv = st->now;
	c->keep_probes = 0;
	/* 2. RST (RFC 5961 3.2). */
	if (seg->flags & TCP_RST) {
		/* RFC 1337: a RST must not cut TIME-WAIT short ("TIME-WAIT
		 * assassination": an old duplicate could then be taken into a
		 * new incarnation). Linux accepts it by default; we do not. */
		if (c->state == TCPS_TIME_WAIT) {
			tcp_drop(st, PH_DROP_TCP_RST_TIME_WAIT);
			return;
		}
		if (seg->seq != c->rcv_nxt) {
			tcp_drop(st, PH_DROP_TCP_RST_IN_WINDOW);
			tcp_send_challenge_ack(c);
			return;
		}
		switch (c->state) {
		case TCPS_SYN_RECEIVED:
			if (c->flags & TF_PASSIVE) {
				tcp_conn_drop(c, 0); /* back to the listener's care */
			} else {
				tcp_mib(st, PH_MIB_tcpAttemptFails);
				tcp_conn_drop(c, ECONNREFUSED);
			}
			return;
		case TCPS_ESTABLISHED:
		case TCPS_CLOSE_WAIT:
			tcp_mib(st, PH_MIB_tcpEstabResets);
			tcp_conn_drop(c, ECONNRESET);
			return;
		case TCPS_FIN_WAIT_1:
		case TCPS_FIN_WAIT_2:
			tcp_conn_drop(c, ECONNRESET);
			return;
		default:
			tcp_conn_drop(c, 0);
			return;
		}
	}
	/* 3. SYN in a synchronized state (RFC 5961 4.2): whatever its
	 * sequence number, also one trimming took as old (the peer's first
	 * SYN again: the ACK of it is what a restarted peer needs). */
	if (syn || ((seg->flags & TCP_SYN) && c->state != TCPS_SYN_RECEIVED)) {
		tcp_drop(st, PH_DROP_TCP_SYN_IN_WINDOW);
		tcp_send_challenge_ack(c);
		return;
	}
	/* 4. ACK */
	if (!(seg->flags & TCP_ACK)) {
		tcp_drop(st, PH_DROP_TCP_NO_ACK);
		return;
	}
	if (c->state == TCPS_SYN_RECEIVED) {
		if (seq_leq(seg->ack, c->snd_una) || seq_gt(seg->ack, c->snd_max)) {
			tcp_drop(st, PH_DROP_TCP_ACK_UNSENT);
			tcp_respond_rst(st, seg);
			return;
		}
		tcp_timer_stop(c, TCP_T_REXMT);
		handshake_rtt(c, &o);
		c->snd_una = seg->ack;
		c->snd_wnd = (uint32_t)seg->wnd << c->snd_ws;
		c->max_sndwnd = c->snd_wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		established(c);
		if (c->parent != NULL) {
			struct tcp_conn *l = c->parent;

			TAILQ_REMOVE(&l->synq, c, qlink);
			l->n_synq--;
			TAILQ_INSERT_TAIL(&l->acceptq, c, qlink);
			l->n_acceptq++;
			c->in_acceptq = true;
		}
		tcp_wakeup(c);
	}
	/* RFC 5961 5.2: an ACK too old or of unsent data. */
	if (seq_gt(seg->ack, c->snd_max)) {
		tcp_drop(st, PH_DROP_TCP_ACK_UNSENT);
		oow_ack(c, seg);
		return;
	}
	if (seq_lt(seg->ack, c->snd_una - c->max_sndwnd) && c->max_sndwnd > 0) {
		tcp_drop(st, PH_DROP_TCP_ACK_TOO_OLD);
		oow_ack(c, seg);
		return;
	}
	ack_input(c, seg, &o);
	if (c->state == TCPS_CLOSED)
		return;
	switch (c->state) {
	case TCPS_FIN_WAIT_1:
		if (fin_acked(c)) {
			tcp_set_state(c, TCPS_FIN_WAIT_2);
			tcp_timer_stop(c, TCP_T_REXMT);
			/* An orphan waits for the peer's FIN only so long. */
			if (c->flags & TF_ORPHAN)
				tcp_timer_arm(c, TCP_T_KEEP, 2 * (uint64_t)st->cfg.msl_ms);
		}
		break;
	case TCPS_CLOSING:
		if (fin_acked(c))
			tcp_enter_time_wait(c);
		break;
	case TCPS_LAST_ACK:
		if (fin_acked(c)) {
			tcp_conn_drop(c, 0);
			return;
		}
		break;
	case TCPS_TIME_WAIT:
		/* A retransmitted FIN: ACK it, restart 2 MSL (RFC 9293 3.10.7.4);
		 * anything else with data is a retransmission too: ACK it. */
		if (seg->flags & TCP_FIN)
			tcp_enter_time_wait(c);
		if ((seg->flags & TCP_FIN) || seg->len > 0)
			tcp_send_ack(c);
		return;
	default:
		break;
	}
	/* 5., 6. Data and FIN, in states that still receive. */
	if (c->state == TCPS_ESTABLISHED || c->state == TCPS_FIN_WAIT_1 ||
	    c->state == TCPS_FIN_WAIT_2) {
		data_input(c, seq, seg->data + off, len, fin);
	} else if (len > 0 || fin) {
		/* CLOSE-WAIT, CLOSING, LAST-ACK: the peer already sent its FIN;
		 * anything new is a retransmission: ACK it. */
		c->flags |= TF_ACKNOW;
	}
	if (c->state != TCPS_CLOSED)
		tcp_output(c);
}

void
tcp_icmp_input(struct tcp_stack *st, uint16_t ctx, uint32_t laddr, uint16_t lport, uint32_t raddr,
               uint16_t rport, uint32_t seq, uint8_t type, uint8_t code, uint16_t mtu)
{
	struct tcp_conn *c = tcp_lookup(st, ctx, laddr, lport, raddr, rport);
	int err;

	if (c == NULL || c->state == TCPS_LISTEN)
		return;
	/* RFC 5927 4.1: only for data in flight, else it may be forged. */
	if (!seq_in(seq, c->snd_una, c->snd_max + (c->snd_max == c->snd_una ? 1 : 0)))
		return;
	tcp_mib(st, PH_MIB_tcp_icmp_errors);
	if (type == 3 && code == 4) {
		/* RFC 1191: smaller segments from now on, the lost one again. */
		uint32_t mss = mtu >= 68 + 40 ? mtu - 40u : 0;

		if (mss < 88)
			return;
		/* Clamped for a black hole: the retry must not go above what
		 * the path now says. */
		if (c->mss_clamped_at != 0 && mss < c->mss_unclamped)
			c->mss_unclamped = (uint16_t)mss;
		if (mss >= c->mss)
			return;
		c->mss = (uint16_t)mss;
		tcp_mib(st, PH_MIB_tcp_pmtu_updates);
		if (c->state >= TCPS_ESTABLISHED && seq_lt(c->snd_una, c->snd_max)) {
			if (tcp_sack_recovery(c))
				c->high_rxt = c->snd_una; /* every hole again, smaller */
			else
				c->snd_nxt = c->snd_una;
			tcp_output(c);
			tcp_reap(st);
		}
		return;
	}
	if (type == 11)
		err = EHOSTUNREACH;
	else if (type != 3)
		return;
	else if (code == 2 || code == 3)
		err = ECONNREFUSED;
	else if (code == 0 || code == 6 || code == 11)
		err = ENETUNREACH;
	else
		err = EHOSTUNREACH;
	/* An opening connection fails at once, as Linux does; an open one
	 * only remembers it (RFC 1122 4.2.3.9: soft errors). */
	if (c->state == TCPS_SYN_SENT) {
		tcp_mib(st, PH_MIB_tcpAttemptFails);
		tcp_conn_drop(c, err);
		tcp_reap(st);
	} else {
		c->soft_error = err;
	}
}

bool
tcp_input_local(struct tcp_stack *st, const struct tcp_seg *seg)
{
	struct tcp_conn *c;
	uint8_t fl = seg->flags;

	/* RFC 9293 3.10.7.1 / RFC 1122 4.2.3.10: not to a broadcast address. */
	if (seg->not_unicast) {
		tcp_mib(st, PH_MIB_tcpInSegs);
		tcp_drop(st, PH_DROP_TCP_NOT_UNICAST);
		return true;
	}
	if ((fl & TCP_SYN) && (fl & (TCP_RST | TCP_FIN))) {
		/* Nonsense, dropped where a connection or listener is; a
		 * closed port still answers a SYN+FIN with a RST (RFC 9293
		 * 3.10.7.1), as Linux does, so it looks like any closed port. */
		if (tcp_lookup(st, seg->ctx, seg->daddr, seg->dport, seg->saddr, seg->sport) ==
		            NULL &&
		    tcp_find_listener(st, seg->ctx, seg->daddr, seg->dport) == NULL)
			return false;
		tcp_mib(st, PH_MIB_tcpInSegs);
		tcp_drop(st, PH_DROP_TCP_BAD_FLAGS);
		return true;
	}
	c = tcp_lookup(st, seg->ctx, seg->daddr, seg->dport, seg->saddr, seg->sport);
	if (c != NULL) {
		tcp_mib(st, PH_MIB_tcpInSegs);
		conn_input(c, seg);
	} else if ((fl & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
	           (c = tcp_find_listener(st, seg->ctx, seg->daddr, seg->dport)) != NULL) {
		tcp_mib(st, PH_MIB_tcpInSegs);
		listen_input(st, c, seg);
	} else {
		/* Anything but a SYN without a connection may belong to a
		 * connection another lcore's listener made. */
		return false;
	}
	tcp_reap(st);
	return true;
}

void
tcp_input(struct tcp_stack *st, const struct tcp_seg *seg)
{
	struct tcp_conn *l;

	if (tcp_input_local(st, seg))
		return;
	tcp_mib(st, PH_MIB_tcpInSegs);
	if ((l = tcp_find_listener(st, seg->ctx, seg->daddr, seg->dport)) != NULL) {
		listen_input(st, l, seg); /* RFC 9293 3.10.7.2 for a non-SYN */
		tcp_reap(st);
		return;
	}
	tcp_drop(st, PH_DROP_TCP_NO_SOCKET);
	tcp_respond_rst(st, seg);
}
