/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Zero-copy datagrams: receive the packet buffer the NIC filled, and send a
 * buffer without copying it. A struct ph_zbuf is one packet buffer (a chain of
 * segments when the datagram was reassembled from fragments).
 *
 * OWNERSHIP
 *  - ph_zc_recvfrom() gives the caller the buffer: it is the caller's until
 *    it passes it to ph_zc_sendto() or ph_zbuf_free(). Its data is the
 *    datagram's payload.
 *  - ph_zbuf_alloc() gives the caller a fresh buffer of LEN bytes to fill.
 *  - ph_zc_sendto() takes the buffer when it succeeds; the caller must not
 *    touch it again. When it fails (-1) the buffer is still the caller's,
 *    unchanged, to retry or free.
 *  - A received buffer may be sent back as it is (an echo): it has room in
 *    front for the headers.
 *  - Buffers come from the host's packet pool, which is finite: a buffer held
 *    is one the NIC cannot fill. Hold them briefly.
 * Buffers may be freed on any lcore; receive, allocate and send follow the
 * socket's rules.
 */
#ifndef POLYHOST_ZC_H
#define POLYHOST_ZC_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ph_zbuf;

/* The next datagram on FD, without a copy. Returns its length (0 and *BUF NULL
 * at end of file, after SHUT_RD). Flags: MSG_DONTWAIT only (EINVAL otherwise). */
ssize_t ph_zc_recvfrom(int fd, struct ph_zbuf **buf, int flags, struct sockaddr *from,
                       socklen_t *fromlen);
/* Send BUF's data to TO (or to the peer of a connected socket when TO is NULL). */
ssize_t ph_zc_sendto(int fd, struct ph_zbuf *buf, int flags, const struct sockaddr *to,
                     socklen_t tolen);

/* A buffer with LEN bytes of data to fill, for a socket of FD's lcore; LEN at
 * most ph_zbuf_max(). NULL with errno EMSGSIZE, ENOBUFS. */
struct ph_zbuf *ph_zbuf_alloc(int fd, size_t len);
size_t ph_zbuf_max(void);
void ph_zbuf_free(struct ph_zbuf *buf);

/* Total data length, and one segment's data and length. */
size_t ph_zbuf_len(const struct ph_zbuf *buf);
void *ph_zbuf_data(struct ph_zbuf *seg, size_t *seglen);
/* The next segment of a chain, or NULL. */
struct ph_zbuf *ph_zbuf_next(struct ph_zbuf *seg);

#ifdef __cplusplus
}
#endif

#endif
