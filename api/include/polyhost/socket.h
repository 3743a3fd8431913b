/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sockets, shaped like BSD sockets: the same arguments, the same structs
 * (struct sockaddr_in, struct msghdr), the same errno values, with a ph_
 * prefix. Descriptors are polyhost's own, not the kernel's: never pass them to
 * read(2) or close(2). The threading rules are in <polyhost/polyhost.h>.
 *
 * Supported: AF_INET, SOCK_DGRAM (UDP) and SOCK_STREAM (TCP). SOCK_NONBLOCK in
 * the type, or O_NONBLOCK through ph_fcntl(), makes calls that would wait fail
 * with EAGAIN (a TCP connect: EINPROGRESS, then EPOLLOUT and SO_ERROR).
 *
 * Options: SOL_SOCKET SO_REUSEADDR, SO_REUSEPORT (Linux's rules: two binds
 * that overlap need both to set one of them), SO_RCVBUF, SO_SNDBUF (doubled
 * on set, as Linux does; SO_SNDBUF is reported but limits nothing, since a
 * datagram goes to the NIC's queue when it is sent and none waits in the
 * socket), SO_ERROR (read and cleared), SO_BROADCAST, SO_TYPE; IPPROTO_IP
 * IP_TOS, IP_TTL (-1 restores the default, 64); PH_SOL_POLYHOST
 * PH_SO_CONTEXT (int: the routing context; only before bind, else EISCONN).
 *
 * A listener of every context is an explicit opt-in: PH_SO_CONTEXT =
 * PH_CTX_ANY on a TCP socket before bind, then bind to INADDR_ANY (a given
 * address is EADDRNOTAVAIL: addresses belong to one context) and listen. It
 * takes the connections of every context that has no listener of its own on
 * the port (one that has is preferred), and each accepted socket carries the
 * context its connection arrived in, as PH_SO_CONTEXT then reports. Such a
 * socket cannot connect (ENETUNREACH); UDP sockets have no such option.
 *
 * connect(AF_UNSPEC) dissolves the association and gives back a port that
 * connect or send chose (not one the application bound), as Linux does.
 * shutdown() of an unconnected socket fails with ENOTCONN but takes effect.
 *
 * SO_REUSEPORT on every worker lcore: each worker binds its own socket to the
 * same address and port; a datagram goes to the socket on the lcore that
 * received it, so a flow never changes lcore.
 *
 * One listen() for the whole host: a TCP listener without SO_REUSEPORT, on a
 * host with two or more workers, gets an accept queue on every worker lcore.
 * A connection waits in the queue of the worker that owns its flow (the one
 * RSS or the stack's steering brings its packets to), so it never crosses
 * lcores. On a worker that did not create the listener its descriptor names
 * that worker's queue: ph_accept(), ph_epoll_ctl(), ph_getsockname(),
 * ph_getsockopt() and ph_setsockopt() act on it there. Options, the backlog
 * and O_NONBLOCK that the creating lcore sets reach every queue; what another
 * worker sets stays on its own. The creator's ph_close() ends the listener
 * everywhere (a blocking accept on another worker returns -1 with EINVAL);
 * another worker's ph_close() gives up only its queue (EBADF there
 * afterwards) and its flows' connections go to the lcores still listening.
 * So: accept on every worker (one thread per lcore), or set SO_REUSEPORT to
 * keep a listener, and every connection, on the lcore that made it.
 */
#ifndef POLYHOST_SOCKET_H
#define POLYHOST_SOCKET_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Socket option level and options of polyhost's own. */
#define PH_SOL_POLYHOST 0x5048
#define PH_SO_CONTEXT   1
/* PH_SO_CONTEXT's value for a TCP listener that accepts from every context
 * (as Linux's tcp_l3mdev_accept): see above. */
#define PH_CTX_ANY (-1)

int ph_socket(int domain, int type, int protocol);
int ph_bind(int fd, const struct sockaddr *addr, socklen_t len);
/* AF_UNSPEC dissolves a datagram socket's association. */
int ph_connect(int fd, const struct sockaddr *addr, socklen_t len);
/* TCP: listen with a backlog (bounded by the host's limit; <= 0 means 1). */
int ph_listen(int fd, int backlog);
/* TCP: the next established connection. FLAGS of accept4: SOCK_NONBLOCK
 * (SOCK_CLOEXEC is accepted and ignored). The new socket belongs to the
 * calling lcore: the listener's, or any worker's for a host-wide listener
 * (above), which takes it from that worker's own queue. */
int ph_accept(int fd, struct sockaddr *addr, socklen_t *len);
int ph_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/* Flags: MSG_DONTWAIT; on receive also MSG_PEEK and MSG_TRUNC. */
ssize_t ph_send(int fd, const void *buf, size_t len, int flags);
ssize_t ph_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
                  socklen_t tolen);
ssize_t ph_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t ph_recv(int fd, void *buf, size_t len, int flags);
ssize_t ph_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                    socklen_t *fromlen);
ssize_t ph_recvmsg(int fd, struct msghdr *msg, int flags);

int ph_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int ph_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int ph_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int ph_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int ph_shutdown(int fd, int how);
int ph_close(int fd);
/* FIONREAD (int *: size of the next datagram, 0 if none), FIONBIO (int *). */
int ph_ioctl(int fd, unsigned long request, ...);
/* F_GETFL, F_SETFL (O_NONBLOCK). */
int ph_fcntl(int fd, int cmd, ...);

#ifdef __cplusplus
}
#endif

#endif
