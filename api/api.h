/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the public API: the one host a process runs, and the checks every
 * call starts with (which lcore is calling, whether it owns the descriptor).
 */
#ifndef PH_API_API_H
#define PH_API_API_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct ph_host;
struct ph_lcore;
struct ph_sock;

/* Set by ph_init(), cleared by ph_fini(). */
extern struct ph_host *api_host;

/* The calling lcore, online for RCU; NULL with errno ENODEV (no host) or
 * EPERM (not one of the host's lcores). */
struct ph_lcore *api_lcore(void);

/* FD on the calling lcore; NULL with errno EBADF, EPERM (another lcore's). */
struct ph_sock *api_sock(int fd, struct ph_lcore **lc);

/* The calling thread's routing context. */
uint16_t api_ctx(void);

/* Wait on LC, driving its stack, until READY(S) or the host stops. 0, or
 * -1 with errno EINTR. */
int api_wait(struct ph_lcore *lc, struct ph_sock *s, int (*ready)(const struct ph_sock *s));

/* An AF_INET address from SA (host order): 0, -EINVAL or -EAFNOSUPPORT. */
struct sockaddr;
int api_sin(const struct sockaddr *sa, socklen_t len, uint32_t *ip, uint16_t *port);
/* Write IP:PORT (host order) to SA as getsockname does (truncated to *LEN). */
void api_put_sin(struct sockaddr *sa, socklen_t *len, uint32_t ip, uint16_t port);

/* IPPROTO_IP options both transports share: 0 or -errno; the value or -errno. */
int api_ip_setopt(int name, int v, uint8_t *tos, uint8_t *ttl);
int api_ip_getopt(int name, uint8_t tos, uint8_t ttl);

/* SOCK_STREAM (api/socket_tcp.c): called by the generic calls once they
 * know the socket is TCP; -1 with errno like them. */
struct sockaddr;
struct msghdr;
int api_tcp_socket(struct ph_lcore *lc, int type);
int api_tcp_bind(struct ph_lcore *lc, struct ph_sock *s, const struct sockaddr *addr,
                 socklen_t len);
int api_tcp_connect(struct ph_lcore *lc, struct ph_sock *s, const struct sockaddr *addr,
                    socklen_t len);
ssize_t api_tcp_sendmsg(struct ph_lcore *lc, struct ph_sock *s, const struct msghdr *msg, int flags,
                        size_t len);
ssize_t api_tcp_recvmsg(struct ph_lcore *lc, struct ph_sock *s, struct msghdr *msg, int flags);
int api_tcp_getname(struct ph_sock *s, struct sockaddr *addr, socklen_t *len, bool peer);
int api_tcp_setsockopt(struct ph_lcore *lc, struct ph_sock *s, int level, int name, const void *val,
                       socklen_t len);
int api_tcp_getsockopt(struct ph_lcore *lc, struct ph_sock *s, int level, int name, void *val,
                       socklen_t *len);
int api_tcp_shutdown(struct ph_lcore *lc, struct ph_sock *s, int how);
void api_tcp_close(struct ph_lcore *lc, struct ph_sock *s);
int api_tcp_ioctl(struct ph_sock *s, unsigned long request, int *arg);

#endif
