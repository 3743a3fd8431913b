/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control behind struct tcp_cc_ops, called from ACK processing
 * and the retransmission timer. NewReno (RFC 5681, RFC 6582) is the first:
 * slow start and congestion avoidance with appropriate byte counting
 * (RFC 3465, L = 2), fast retransmit on the third duplicate ACK, and fast
 * recovery that stays in recovery across partial ACKs until RECOVER is
 * acknowledged.
 */
#include <string.h>

#include "tcp/tcp.h"

/* RFC 5681 3.1 (as updated by RFC 6928 with IW10, which Linux uses). */
static uint32_t
nr_initial_window(const struct tcp_conn *c)
{
	uint32_t mss = tcp_data_mss(c);

	return 10 * mss;
}

static void
nr_init(struct tcp_conn *c)
{
	c->cwnd = nr_initial_window(c);
	c->ssthresh = UINT32_MAX;
	c->dupacks = 0;
}

static void
nr_ack(struct tcp_conn *c, uint32_t acked, uint32_t flight)
{
	uint32_t mss = tcp_data_mss(c);

	/* Grow only a window that is in use (RFC 7661): an application that
	 * sends less than cwnd allows has not shown the path takes more. */
	if (flight < c->cwnd / 2)
		return;
	if (c->cwnd < c->ssthresh) {
		/* Slow start, at most 2 SMSS per ACK (RFC 3465 2.2). */
		c->cwnd += acked < 2 * mss ? acked : 2 * mss;
	} else {
		/* Congestion avoidance: about one SMSS per RTT (RFC 5681 eq. 3). */
		uint32_t inc = (uint32_t)((uint64_t)mss * mss / c->cwnd);

		c->cwnd += inc ? inc : 1;
	}
	if (c->cwnd > (1u << 30))
		c->cwnd = 1u << 30;
}

static uint32_t
nr_half_flight(const struct tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una;
	uint32_t mss = tcp_data_mss(c);

	return flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
}

static bool
nr_dupack(struct tcp_conn *c, bool sack_hole)
{
	uint32_t mss = tcp_data_mss(c);

	if (c->flags & TF_RECOVERY) {
		/* Fast recovery: each further duplicate inflates the window
		 * (RFC 5681 3.2 step 4), never past the cap. */
		if (c->cwnd < (1u << 30))
			c->cwnd += mss;
		return false;
	}
	if (++c->dupacks < 3)
		return false;
	/* RFC 6582 3.2 step 2: only when the ACK covers more than RECOVER,
	 * so the duplicates of one loss episode do not start another. */
	/* RECOVER is one past the highest byte sent. Below it, duplicates may
	 * answer our own go-back-N resends after a timeout, unless SACK says
	 * the receiver holds data beyond a hole (RFC 6675's view of loss). */
	if (!seq_geq(c->snd_una, c->recover) && !sack_hole)
		return false;
	c->ssthresh = nr_half_flight(c);
	c->recover = c->snd_max;
	c->cwnd = c->ssthresh + 3 * mss;
	c->flags |= TF_RECOVERY;
	return true;
}

static bool
nr_recovery_ack(struct tcp_conn *c, uint32_t acked)
{
	uint32_t mss = tcp_data_mss(c);

	if (seq_geq(c->snd_una, c->recover)) {
		/* Full ACK: deflate (RFC 6582 3.2 step 3, option 1). */
		uint32_t flight = c->snd_max - c->snd_una;
		uint32_t cap = (flight > mss ? flight : mss) + mss;

		c->cwnd = c->ssthresh < cap ? c->ssthresh : cap;
		c->flags &= ~TF_RECOVERY;
		c->dupacks = 0;
		return true;
	}
	/* Partial ACK: deflate by what it acknowledged, add back one SMSS. */
	c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
	if (acked >= mss)
		c->cwnd += mss;
	if (c->cwnd < mss)
		c->cwnd = mss;
	return false;
}

static void
nr_timeout(struct tcp_conn *c)
{
	/* RFC 5681 3.1 eq. 4 and the loss window of one segment. */
	c->ssthresh = nr_half_flight(c);
	c->cwnd = tcp_data_mss(c);
	c->flags &= ~TF_RECOVERY;
	c->dupacks = 0;
	/* RFC 6582 3.2 step 4: duplicates of what the timeout resends must
	 * not start fast recovery. */
	c->recover = c->snd_max;
}

const struct tcp_cc_ops tcp_cc_newreno = {
        .name = "newreno",
        .init = nr_init,
        .ack = nr_ack,
        .dupack = nr_dupack,
        .recovery_ack = nr_recovery_ack,
        .timeout = nr_timeout,
};

const struct tcp_cc_ops *
tcp_cc_find(const char *name)
{
	static const struct tcp_cc_ops *const all[] = {&tcp_cc_newreno};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}
