/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loss detection and recovery, between ACK processing (tcp_input.c), the
 * retransmission timer (tcp_timer.c) and output (tcp_output.c), which asks
 * here what to resend. Congestion control (tcp_cc.c) only says how far
 * cwnd falls and how it grows again.
 *
 * With SACK (RFC 2018) the sender keeps a scoreboard of SACKed ranges and
 * recovers per RFC 6675: loss is entered on the third duplicate ACK or as
 * soon as the scoreboard shows data lost (IsLost), cwnd = ssthresh, and
 * output sends while pipe (the bytes believed in flight) leaves a segment
 * of room: lost holes first, then new data, then holes not yet lost. After
 * an RTO everything not SACKed counts as lost and is resent through the same
 * path in slow start (RFC 6675 5.1), skipping what the receiver holds.
 * Without SACK, NewReno (RFC 6582): fast retransmit, window inflation, a
 * retransmission per partial ACK, and go-back-N after an RTO.
 *
 * Spurious retransmissions are undone (cwnd and ssthresh restored): by the
 * timestamp an ACK echoes (Eifel detection, RFC 3522: the ACK answers the
 * original, sent before the retransmission), or when D-SACKs (RFC 2883,
 * RFC 3708) show that every retransmission of the episode was needless.
 */
#include <string.h>

#include "tcp/tcp.h"

/* RFC 6675 DupThresh. */
#define DUPTHRESH 3

static inline uint32_t
min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* ---- the scoreboard ---- */

static uint32_t
sacked_total(const struct tcp_conn *c)
{
	uint32_t n = 0;

	for (uint8_t i = 0; i < c->n_sacked; i++)
		n += c->sacked[i].r - c->sacked[i].l;
	return n;
}

/* Forget what lies below SND.UNA. */
static void
sack_trim(struct tcp_conn *c)
{
	uint8_t k = 0;

	for (uint8_t i = 0; i < c->n_sacked; i++) {
		struct tcp_sack_blk b = c->sacked[i];

		if (seq_leq(b.r, c->snd_una))
			continue;
		if (seq_lt(b.l, c->snd_una))
			b.l = c->snd_una;
		c->sacked[k++] = b;
	}
	c->n_sacked = k;
	if (seq_lt(c->high_rxt, c->snd_una))
		c->high_rxt = c->snd_una;
}

/* Merge [L, R) into the sorted, disjoint scoreboard. */
static void
sack_insert(struct tcp_conn *c, uint32_t l, uint32_t r)
{
	struct tcp_sack_blk *b = c->sacked;
	uint8_t i = 0, j;

	while (i < c->n_sacked && seq_lt(b[i].r, l))
		i++;
	/* b[i] is the first range that ends at or after L: those from i on
	 * that start at or before R overlap or touch [L, R). */
	j = i;
	while (j < c->n_sacked && seq_leq(b[j].l, r)) {
		if (seq_lt(b[j].l, l))
			l = b[j].l;
		if (seq_gt(b[j].r, r))
			r = b[j].r;
		j++;
	}
	if (j > i) {
		/* Replace b[i..j) by one range. */
		b[i].l = l;
		b[i].r = r;
		memmove(&b[i + 1], &b[j], (c->n_sacked - j) * sizeof(*b));
		c->n_sacked = (uint8_t)(c->n_sacked - (j - i - 1));
		return;
	}
	if (c->n_sacked == TCP_SACK_MAX) {
		if (i == TCP_SACK_MAX)
			return; /* above all we keep: forget it */
		c->n_sacked--;  /* forget the highest */
	}
	memmove(&b[i + 1], &b[i], (c->n_sacked - i) * sizeof(*b));
	b[i].l = l;
	b[i].r = r;
	c->n_sacked++;
}

static void undo(struct tcp_conn *c, enum ph_mib why);

/* Did the episode resend all of [L, R)? A D-SACK of anything else (a
 * segment the network duplicated) says nothing of our retransmissions. */
static bool
undo_log_covers(const struct tcp_conn *c, uint32_t l, uint32_t r)
{
	if (c->n_undo_log > TCP_UNDO_LOG)
		return false;
	for (uint8_t i = 0; i < c->n_undo_log; i++)
		if (seq_leq(c->undo_log[i].l, l) && seq_geq(c->undo_log[i].r, r))
			return true;
	return false;
}

/* Add [L, R) to the episode's log, merging with a range it touches. */
static void
undo_log_add(struct tcp_conn *c, uint32_t l, uint32_t r)
{
	if (c->n_undo_log > TCP_UNDO_LOG)
		return;
	for (uint8_t i = 0; i < c->n_undo_log; i++) {
		struct tcp_sack_blk *b = &c->undo_log[i];

		if (seq_leq(b->l, r) && seq_geq(b->r, l)) {
			b->l = seq_min(b->l, l);
			b->r = seq_max(b->r, r);
			return;
		}
	}
	if (c->n_undo_log == TCP_UNDO_LOG) {
		c->n_undo_log = TCP_UNDO_LOG + 1; /* too scattered to judge */
		return;
	}
	c->undo_log[c->n_undo_log++] = (struct tcp_sack_blk){l, r};
}

/* A D-SACK for [L, R): one of our retransmissions was needless, if the
 * episode whose reduction may be undone resent that data. */
static void
dsack_receive(struct tcp_conn *c, uint32_t l, uint32_t r)
{
	tcp_mib(c->st, PH_MIB_tcp_dsack_received);
	if (c->tlp_rx_pending && seq_geq(l, c->tlp_rx_l) && seq_leq(r, c->tlp_high))
		c->tlp_rx_pending = false; /* the original arrived: the probe was needless */
	if (!(c->flags & TF_UNDO_OK) || seq_lt(l, c->undo_marker) || !seq_lt(l, r) ||
	    !undo_log_covers(c, l, r))
		return;
	c->undo_retrans--;
	c->flags |= TF_UNDO_DSACK;
	/* Every retransmission came back twice: the loss never was. Undo once
	 * recovery is over (RFC 3708 leaves the response open; this is
	 * Linux's), or at once after an RTO, whose go-back-N is all waste. */
	if (c->undo_retrans <= 0 && (!(c->flags & TF_RECOVERY) || (c->flags & TF_RTO_REC)))
		undo(c, PH_MIB_tcp_undo_dsack);
}

uint32_t
tcp_sack_receive(struct tcp_conn *c, const struct tcp_opts *o, uint32_t ack)
{
	uint32_t before = sacked_total(c);
	uint32_t base = seq_gt(ack, c->snd_una) ? ack : c->snd_una;

	for (uint8_t i = 0; i < o->n_sack; i++) {
		uint32_t l = o->sack[i].l, r = o->sack[i].r;

		if (!seq_lt(l, r))
			continue; /* empty or reversed: nonsense */
		if (i == 0 && (seq_leq(r, ack) || (o->n_sack > 1 && seq_geq(l, o->sack[1].l) &&
		                                   seq_leq(r, o->sack[1].r)))) {
			dsack_receive(c, l, r);
			continue;
		}
		/* Only what we sent and is not yet acknowledged (a block beyond
		 * SND.MAX comes from a confused or lying receiver). */
		if (seq_gt(r, c->snd_max) || seq_lt(l, c->snd_una - (1u << 30)))
			continue;
		if (seq_lt(l, base))
			l = base;
		if (seq_lt(l, r))
			sack_insert(c, l, r);
	}
	uint32_t after = sacked_total(c);

	/* Forgetting a range when the table is full may shrink the total. */
	return after > before ? after - before : 0;
}

/*
 * The holes in [SND.UNA, SND.MAX): the gaps below, between and above the
 * SACKed ranges. For each, whether it is lost (RFC 6675 IsLost: DupThresh
 * discontiguous ranges or more than (DupThresh - 1) * SMSS bytes SACKed
 * above it; everything after an RTO) and whether it lies below the highest
 * SACKed byte. The callback returns true to stop.
 */
struct hole {
	uint32_t l, r;
	bool lost, below_sacked;
};

typedef bool (*hole_fn)(const struct tcp_conn *c, const struct hole *h, void *arg);

static void
holes_walk(const struct tcp_conn *c, hole_fn fn, void *arg)
{
	uint32_t mss = tcp_data_mss(c), above = sacked_total(c), pos = c->snd_una;
	bool all_lost = c->flags & TF_RTO_REC;

	for (uint8_t i = 0; i <= c->n_sacked; i++) {
		struct hole h = {.l = pos, .r = i < c->n_sacked ? c->sacked[i].l : c->snd_max};

		if (seq_lt(h.l, h.r)) {
			bool by_rule = c->n_sacked - i >= DUPTHRESH ||
			               above > (DUPTHRESH - 1) * mss ||
			               (i < c->n_sacked && seq_gt(c->lost_below, c->snd_una) &&
			                seq_lt(h.l, c->lost_below));

			h.below_sacked = i < c->n_sacked;
			/* After an RTO, what was out then is lost (up to RECOVER);
			 * data sent since is in flight like any (RFC 6675 5.1). */
			if (all_lost && seq_lt(h.l, c->recover) && seq_gt(h.r, c->recover)) {
				struct hole before = h;

				before.r = c->recover;
				before.lost = true;
				if (fn(c, &before, arg))
					return;
				h.l = c->recover;
			}
			h.lost = by_rule || (all_lost && seq_lt(h.l, c->recover));
			if (fn(c, &h, arg))
				return;
		}
		if (i < c->n_sacked) {
			above -= c->sacked[i].r - c->sacked[i].l;
			pos = c->sacked[i].r;
		}
	}
}

static bool
pipe_add(const struct tcp_conn *c, const struct hole *h, void *arg)
{
	uint32_t *pipe = arg;
	/* What was resent of it is in flight (RFC 6675 SetPipe (b)); the
	 * original copy too, unless it is lost (a). */
	uint32_t rx = seq_gt(c->high_rxt, h->l) ? seq_min(c->high_rxt, h->r) - h->l : 0;

	*pipe += rx + (h->lost ? 0 : h->r - h->l);
	return false;
}

uint32_t
tcp_rec_pipe(const struct tcp_conn *c)
{
	uint32_t pipe = 0;

	holes_walk(c, pipe_add, &pipe);
	return pipe;
}

struct next_arg {
	bool lost_only, found;
	uint32_t seq, len, mss;
};

static bool
next_find(const struct tcp_conn *c, const struct hole *h, void *arg)
{
	struct next_arg *a = arg;
	uint32_t from = seq_gt(c->high_rxt, h->l) ? c->high_rxt : h->l;

	if (!seq_lt(from, h->r))
		return false; /* all of it resent already */
	if (!h->lost && (a->lost_only || !h->below_sacked))
		return false;
	a->found = true;
	a->seq = from;
	a->len = min32(h->r - from, a->mss);
	return true;
}

bool
tcp_rec_next(const struct tcp_conn *c, bool lost_only, uint32_t *seq, uint32_t *len)
{
	struct next_arg a = {.lost_only = lost_only, .mss = tcp_data_mss(c)};

	holes_walk(c, next_find, &a);
	if (a.found) {
		*seq = a.seq;
		*len = a.len;
	}
	return a.found;
}

/* ---- episodes ---- */

/* Remember the window before a reduction, so it can be undone. */
static void
undo_save(struct tcp_conn *c)
{
	c->prior_cwnd = c->cwnd;
	c->prior_ssthresh = c->ssthresh;
	c->undo_marker = c->snd_una;
	c->undo_tsval = 0;
	c->undo_retrans = 0;
	c->n_undo_log = 0;
	c->tlp_rx_pending = false; /* this reduction covers a probe's loss too */
	c->flags |= TF_UNDO_OK;
	c->flags &= ~TF_UNDO_DSACK;
}

static void
undo(struct tcp_conn *c, enum ph_mib why)
{
	if (c->cwnd < c->prior_cwnd)
		c->cwnd = c->prior_cwnd;
	if (c->ssthresh < c->prior_ssthresh)
		c->ssthresh = c->prior_ssthresh;
	c->flags &= ~(TF_RECOVERY | TF_RTO_REC | TF_UNDO_OK);
	c->dupacks = 0;
	c->high_rxt = c->snd_una;
	/* Go-back-N after a spurious RTO: what follows SND.UNA was not lost,
	 * so new data goes next (RFC 4138's response, as F-RTO has it). */
	if (seq_lt(c->snd_nxt, c->snd_max))
		c->snd_nxt = c->snd_max;
	tcp_mib(c->st, why);
	if (c->cc->undo)
		c->cc->undo(c);
}

/* Is all of [L, R) SACKed? */
static bool
sacked_all(const struct tcp_conn *c, uint32_t l, uint32_t r)
{
	for (uint8_t i = 0; i < c->n_sacked; i++)
		if (seq_leq(c->sacked[i].l, l) && seq_geq(c->sacked[i].r, r))
			return true;
	return false;
}

void
tcp_rec_lost_retransmits(struct tcp_conn *c)
{
	struct tcp_rxt lost[TCP_RXT_MAX];
	uint32_t mss = tcp_data_mss(c), top;
	uint8_t k = 0, n_lost = 0;

	if (!tcp_sack_recovery(c) || c->n_sacked == 0 || !c->st->cfg.rack_tlp)
		return;
	top = c->sacked[c->n_sacked - 1].r;
	for (uint8_t i = 0; i < c->n_rxt; i++) {
		struct tcp_rxt x = c->rxt[i];

		if (!seq_gt(x.r, c->snd_una) || sacked_all(c, x.l, x.r))
			continue; /* delivered: forget it */
		/* Data sent DupThresh segments after it arrived, and it did
		 * not: the retransmission was lost too. */
		if (seq_gt(top, x.at_max + (DUPTHRESH - 1) * mss))
			lost[n_lost++] = x;
		else
			c->rxt[k++] = x;
	}
	c->n_rxt = k;
	for (uint8_t i = 0; i < n_lost; i++) {
		uint32_t l = seq_gt(lost[i].l, c->snd_una) ? lost[i].l : c->snd_una;

		tcp_mib(c->st, PH_MIB_tcp_lost_retransmits);
		tcp_retransmit_range(c, l, lost[i].r - l); /* records it again */
	}
}

void
tcp_rec_sent(struct tcp_conn *c, uint32_t seq, uint32_t len)
{
	struct tcp_rxt x = {seq, seq + len, c->snd_max};

	if (c->n_rxt == TCP_RXT_MAX) {
		memmove(&c->rxt[0], &c->rxt[1], (TCP_RXT_MAX - 1) * sizeof(c->rxt[0]));
		c->n_rxt--;
	}
	c->rxt[c->n_rxt++] = x;
	if (seq_gt(seq + len, c->high_rxt))
		c->high_rxt = seq + len;
	if (c->flags & TF_UNDO_OK) {
		c->undo_retrans++;
		undo_log_add(c, seq, seq + len);
		if (c->undo_tsval == 0 && (c->flags & TF_TS_OK))
			c->undo_tsval = (uint32_t)c->st->now + c->ts_offset;
	}
}

/* RFC 6675 5 step 4: fast retransmit and enter loss recovery. */
static void
enter_sack_recovery(struct tcp_conn *c)
{
	undo_save(c);
	c->ssthresh = c->cc->ssthresh(c);
	c->cwnd = c->ssthresh;
	c->recover = c->snd_max;
	c->high_rxt = c->snd_una;
	c->flags |= TF_RECOVERY;
	c->flags &= ~TF_RTO_REC;
	tcp_mib(c->st, PH_MIB_tcp_sack_recoveries);
	tcp_mib(c->st, PH_MIB_tcp_fast_retransmits);
	tcp_retransmit_head(c);
	tcp_rexmt_arm(c); /* an RTO now, no longer a probe or a reordering wait */
	                  /* The rest of the window goes from tcp_output (step C), after input. */
}

/* RFC 6582 3.2 step 2. */
static void
enter_newreno_recovery(struct tcp_conn *c)
{
	uint32_t mss = tcp_data_mss(c);

	undo_save(c);
	c->ssthresh = c->cc->ssthresh(c);
	c->recover = c->snd_max;
	c->cwnd = c->ssthresh + DUPTHRESH * mss;
	c->flags |= TF_RECOVERY;
	tcp_mib(c->st, PH_MIB_tcp_fast_retransmits);
	tcp_retransmit_head(c);
}

void
tcp_rec_dupack(struct tcp_conn *c)
{
	uint32_t mss = tcp_data_mss(c);
	bool sack = c->flags & TF_SACK_OK;

	if (c->flags & TF_RECOVERY) {
		/* NewReno inflates the window by what left the network (RFC 5681
		 * 3.2 step 4); with SACK, pipe already knows (tcp_output). */
		if (!sack && c->cwnd < (1u << 30))
			c->cwnd += mss;
		return;
	}
	c->dupacks++;
	if (sack) {
		uint32_t s, l;

		/* RFC 6675 5 (1) and (2): DupThresh duplicates, or a head the
		 * scoreboard already calls lost. */
		if (c->dupacks >= DUPTHRESH || (tcp_rec_next(c, true, &s, &l) && s == c->snd_una)) {
			enter_sack_recovery(c);
			return;
		}
	} else if (c->dupacks >= DUPTHRESH) {
		/* Only when the ACK covers more than RECOVER (RFC 6582 3.2 step
		 * 2): below it, duplicates may answer our own go-back-N resends
		 * after a timeout. */
		if (c->dupacks == DUPTHRESH && seq_geq(c->snd_una, c->recover))
			enter_newreno_recovery(c);
		return;
	}
	if (c->dupacks < DUPTHRESH) {
		/* Limited transmit (RFC 3042): a new segment on each of the
		 * first two duplicates, so a small window still yields the
		 * three a fast retransmit needs. */
		uint32_t cw = c->cwnd;

		c->cwnd += c->dupacks * mss;
		c->flags |= TF_FORCE;
		tcp_output(c);
		c->flags &= ~TF_FORCE;
		c->cwnd = cw;
	}
}

void
tcp_rec_ack(struct tcp_conn *c, const struct tcp_opts *o, uint32_t acked, uint32_t flight)
{
	uint32_t mss = tcp_data_mss(c);

	sack_trim(c);
	if (c->tlp_rx_pending && seq_gt(c->snd_una, c->tlp_high)) {
		/* Data sent after the probe is acknowledged and no D-SACK
		 * showed the probe a duplicate: it repaired a loss (RFC 8985
		 * 7.4.2), a congestion event like a fast recovery. */
		c->tlp_rx_pending = false;
		if (!(c->flags & TF_RECOVERY)) {
			c->ssthresh = c->cc->ssthresh(c);
			c->cwnd = c->ssthresh;
			tcp_mib(c->st, PH_MIB_tcp_tlp_recoveries);
			if (c->cc->recovered)
				c->cc->recovered(c);
		}
	}
	if (c->tlp_out && seq_geq(c->snd_una, c->tlp_high))
		c->tlp_out = false; /* the probe's episode is over */
	if (seq_lt(c->lost_below, c->snd_una))
		c->lost_below = c->snd_una;
	/* Eifel (RFC 3522): the first ACK after a retransmission echoes a
	 * timestamp older than it, so it answers the original. */
	/* Only once nothing resent is still out (as Linux's partial undo):
	 * an early original says nothing of the other holes. */
	if ((c->flags & TF_UNDO_OK) && c->undo_tsval != 0 && o->ts_ok && o->tsecr != 0 &&
	    seq_lt(o->tsecr, c->undo_tsval) && seq_geq(c->snd_una, c->high_rxt)) {
		undo(c, PH_MIB_tcp_undo_eifel);
		c->dupacks = 0;
		return;
	}
	if (!(c->flags & TF_RECOVERY)) {
		c->dupacks = 0;
		c->cc->cong_avoid(c, acked, flight);
		return;
	}
	if (seq_geq(c->snd_una, c->recover)) {
		/* Recovery is over. After an RTO, slow start simply goes on;
		 * after fast recovery, cwnd = ssthresh (RFC 6675 leaves it
		 * there; RFC 6582 3.2 step 3 deflates NewReno's inflation to
		 * min(ssthresh, max(FlightSize, SMSS) + SMSS)). */
		if (c->flags & TF_RTO_REC) {
			c->cc->cong_avoid(c, acked, flight);
		} else if (c->flags & TF_SACK_OK) {
			c->cwnd = c->ssthresh;
		} else {
			uint32_t fl = c->snd_max - c->snd_una;
			uint32_t cap = (fl > mss ? fl : mss) + mss;

			c->cwnd = c->ssthresh < cap ? c->ssthresh : cap;
		}
		bool rto = c->flags & TF_RTO_REC;
		c->flags &= ~(TF_RECOVERY | TF_RTO_REC);
		c->dupacks = 0;
		if (!rto && c->cc->recovered)
			c->cc->recovered(c);
		if ((c->flags & (TF_UNDO_OK | TF_UNDO_DSACK)) == (TF_UNDO_OK | TF_UNDO_DSACK) &&
		    c->undo_retrans <= 0)
			undo(c, PH_MIB_tcp_undo_dsack);
		return;
	}
	if (c->flags & TF_RTO_REC) {
		c->cc->cong_avoid(c, acked, flight); /* slow start while resending */
	} else if (!(c->flags & TF_SACK_OK)) {
		/* NewReno partial ACK: deflate by what it acknowledged, add back
		 * one SMSS, and resend the next hole now (RFC 6582 3.2 step 5). */
		c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
		if (acked >= mss)
			c->cwnd += mss;
		if (c->cwnd < mss)
			c->cwnd = mss;
		tcp_retransmit_head(c);
	}
	/* With SACK, a partial ACK frees pipe: tcp_output sends on. */
}

void
tcp_rec_reorder_timeout(struct tcp_conn *c)
{
	if (c->n_sacked == 0 || (c->flags & TF_RECOVERY))
		return;
	tcp_mib(c->st, PH_MIB_tcp_reorder_timeouts);
	c->lost_below = c->sacked[c->n_sacked - 1].r;
	enter_sack_recovery(c);
}

void
tcp_rec_timeout(struct tcp_conn *c)
{
	/* The first RTO since progress is a congestion event (RFC 5681 3.1
	 * eq. 4); repeated ones keep ssthresh. Inside fast recovery the
	 * reduction was made already. */
	if (c->backoff <= 1 && !((c->flags & TF_RECOVERY) && !(c->flags & TF_RTO_REC))) {
		undo_save(c);
		c->ssthresh = c->cc->ssthresh(c);
	}
	/* Full-sized segments that keep vanishing while the path answered
	 * the handshake: perhaps a PMTU black hole (ICMP "fragmentation
	 * needed" filtered), so try smaller segments. */
	if (c->backoff >= TCP_BLACKHOLE_RTOS && c->state >= TCPS_ESTABLISHED &&
	    c->mss > TCP_BLACKHOLE_MSS_MIN && c->snd_max - c->snd_una > TCP_BLACKHOLE_MSS_MIN) {
		if (c->mss_clamped_at == 0)
			c->mss_unclamped = c->mss;
		c->mss = c->mss / 2 > TCP_BLACKHOLE_MSS_MIN ? c->mss / 2 : TCP_BLACKHOLE_MSS_MIN;
		c->mss_clamped_at = c->st->now;
		tcp_mib(c->st, PH_MIB_tcp_blackhole_mss_clamps);
	}
	c->cwnd = tcp_data_mss(c);
	c->dupacks = 0;
	c->tlp_rx_pending = false;
	c->recover = c->snd_max;
	c->high_rxt = c->snd_una;
	if (c->flags & TF_SACK_OK) {
		/* A second timeout with no progress: the receiver may have
		 * thrown away what it SACKed (RFC 2018 8), so resend it all. */
		if (c->backoff > 1 && c->n_sacked > 0) {
			c->n_sacked = 0;
			tcp_mib(c->st, PH_MIB_tcp_sack_reneging);
		}
		c->flags |= TF_RECOVERY | TF_RTO_REC;
	} else {
		/* NewReno: go back N. Duplicates of what this resends must not
		 * start fast recovery (RFC 6582 3.2 step 4): RECOVER above. */
		c->flags &= ~TF_RECOVERY;
		c->snd_nxt = c->snd_una;
	}
	if (c->cc->rto)
		c->cc->rto(c);
}
