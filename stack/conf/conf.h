/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The host configuration: one INI file (rte_cfgfile) describing EAL, ports,
 * interfaces (a port, or a VLAN on a port), routing contexts with their
 * routes, and host-wide limits. Parsed before EAL starts (the EAL arguments
 * come from it), validated completely, and turned into a plain struct that
 * start-up builds the host from. Needs no EAL.
 *
 * Every error names the file, the line and the key:
 *     config/demo.ini:12: key 'mtu': 99999 is out of range 68..9600
 */
#ifndef PH_CONF_CONF_H
#define PH_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/fault.h"

#define PH_NAME_LEN          32
#define PH_CONF_MAX_PORTS    32
#define PH_CONF_MAX_IFACES   4096
#define PH_CONF_MAX_ADDRS    16
#define PH_CONF_MAX_CTX      1024
#define PH_CTX_DEFAULT_NAME  "default"
#define PH_CONF_MAX_SERVICES 64
#define PH_CONF_MAX_LISTEN   8

struct ph_conf_addr {
	uint32_t ip; /* host order */
	uint8_t plen;
	int line;
};

#define PH_CONF_ECMP_MAX 8 /* next hops of one route */
/* Routes of a context unless its max_routes says otherwise: its FIB's RIB
 * takes two nodes per route (about 200 bytes each, pool included) at start. */
#define PH_CONF_MAX_ROUTES_DEFAULT 16384

/* One next hop of a route: through a gateway, or on-link on an interface. */
struct ph_conf_hop {
	uint32_t gw;           /* host order; 0 when on-link */
	char dev[PH_NAME_LEN]; /* interface name, "" when resolved through GW */
};

/* "PREFIX HOP [HOP ...] [ctx OTHER]", HOP = "via GW [dev IF]" | "dev IF".
 * Several hops make an ECMP route. ctx OTHER leaks the route into another
 * context: its next hops are there. */
struct ph_conf_route {
	uint32_t prefix; /* host order, host bits cleared */
	uint8_t plen;
	struct ph_conf_hop hops[PH_CONF_ECMP_MAX];
	unsigned n_hops;
	char ctx[PH_NAME_LEN]; /* context of the next hops; "" for the route's own */
	int line;
};

/* How a context's FIB is laid out (rte_fib types). */
enum ph_fib_kind {
	PH_FIB_DIR24_8, /* rte_fib: one or two memory reads per lookup; 34 MiB and
	                 * three of DPDK's 2560 memzones per context */
	PH_FIB_RANGES,  /* address ranges, binary search: 8 bytes a route, no memzone */
};

struct ph_conf_ctx {
	char name[PH_NAME_LEN];
	uint16_t id;
	bool forwarding;     /* route datagrams not for us between its interfaces */
	uint8_t fib;         /* enum ph_fib_kind */
	uint32_t max_routes; /* its FIB's size; memory for it is taken at start */
	struct ph_conf_route *routes;
	unsigned n_routes;
	int line;
};

struct ph_conf_port {
	char name[PH_NAME_LEN];
	char device[256]; /* PCI address or vdev spec */
	bool is_pci;
	uint16_t queues; /* 0: one per worker lcore */
	uint16_t rx_desc, tx_desc;
	uint16_t mtu;
	bool tso;                /* use the device's TCP segmentation offload if it has one */
	struct fault_spec fault; /* fault injection (drivers/fault.h); none by default */
	int line;
};

/* An interface: a port's untagged side, or one VLAN on a port. */
struct ph_conf_iface {
	char name[PH_NAME_LEN];
	unsigned port; /* index in ph_conf.ports */
	uint16_t vlan; /* 0 for untagged */
	unsigned ctx;  /* index in ph_conf.ctxs */
	uint16_t mtu;
	struct ph_conf_addr addrs[PH_CONF_MAX_ADDRS];
	unsigned n_addrs;
	int line;
};

enum ph_rss_key_kind {
	PH_RSS_KEY_RANDOM,    /* new key each start: flows cannot be aimed at one core */
	PH_RSS_KEY_SYMMETRIC, /* 0x6d5a repeated: both directions of a flow hash alike */
	PH_RSS_KEY_GIVEN,
};

struct ph_conf_host {
	uint32_t mbufs; /* 0: sized from ports, queues and tables */
	uint32_t neigh_max;
	uint16_t neigh_queue;
	uint32_t neigh_queue_total;
	uint32_t neigh_reachable_ms;
	uint32_t neigh_retrans_ms;
	uint8_t neigh_mcast_probes;
	uint8_t neigh_ucast_probes;
	uint32_t frag_max_datagrams; /* per lcore */
	uint32_t frag_timeout_ms;
	uint32_t icmp_rate; /* ICMP errors per second, host-wide */
	uint32_t icmp_burst;
	uint32_t idle_sleep_us;              /* longest sleep of an idle worker */
	uint16_t ephemeral_lo, ephemeral_hi; /* ports picked for bind(0) (RFC 6056) */
	uint32_t sockets;                    /* descriptors per lcore */
	enum ph_rss_key_kind rss_key_kind;
	uint8_t rss_key[52];
	uint8_t rss_key_len;
};

/* [tcp]: the host's TCP defaults (RFC 9293, RFC 6298, RFC 7323). Sockets
 * start with these; per-socket options change them. */
struct ph_conf_tcp {
	uint32_t msl_ms;         /* TIME-WAIT lasts 2 * MSL; default 30000 (Linux's 60 s) */
	uint32_t rto_init_ms;    /* RFC 6298 2.1: 1000 */
	uint32_t rto_min_ms;     /* 200, as Linux (RFC 6298 2.4 says 1 s; SHOULD) */
	uint32_t rto_max_ms;     /* 120000 */
	uint32_t delack_ms;      /* delayed-ACK timer: 40 */
	uint32_t quickack;       /* segments ACKed at once when a connection starts: 16 */
	uint32_t rmem;           /* default receive buffer, bytes: 262144 */
	uint32_t wmem;           /* default send buffer, bytes: 262144 */
	uint32_t max_backlog;    /* listen() backlog ceiling (somaxconn): 4096 */
	uint32_t syn_retries;    /* SYN retransmissions before ETIMEDOUT: 6 */
	uint32_t synack_retries; /* SYN-ACK retransmissions: 5 */
	uint32_t retries;        /* data retransmissions before ETIMEDOUT: 15 */
	uint32_t keepidle_s;     /* SO_KEEPALIVE defaults: 7200 */
	uint32_t keepintvl_s;    /* 75 */
	uint32_t keepcnt;        /* 9 */
	uint32_t max_conns;      /* connections per lcore: 65536 */
	bool timestamps;         /* RFC 7323 timestamps: yes */
	bool window_scaling;     /* RFC 7323 window scale: yes */
	bool sack;               /* RFC 2018 SACK-permitted: yes */
	bool rack_tlp;           /* tail loss probes and the reordering window (RFC 8985): yes */
	char cc[16];             /* congestion control: "cubic" (or "newreno") */
	uint32_t syncookies;     /* RFC 4987: 0 never, 1 when the SYN queue is full (1), 2 always */
	uint32_t challenge_ack_limit; /* RFC 5961 7: challenge ACKs per second per lcore: 1000 */
};

/* One address a built-in service listens on: "udp:198.18.0.2:7". */
struct ph_conf_listen {
	uint8_t proto; /* IPPROTO_UDP or IPPROTO_TCP */
	uint32_t ip;   /* host order; 0 for every address of the context */
	uint16_t port;
};

/* [service NAME]: a service polyhostd runs on every worker lcore. */
struct ph_conf_service {
	char name[PH_NAME_LEN];
	char type[16]; /* echo | discard | http */
	unsigned ctx;  /* index in ph_conf.ctxs */
	struct ph_conf_listen listen[PH_CONF_MAX_LISTEN];
	unsigned n_listen;
	char root[256];     /* http: directory whose files are served; "" for none */
	uint64_t body_size; /* http: size of the generated body at "/"; 0 for none */
	int line;
};

struct ph_conf {
	char path[256];
	char eal_args[1024];
	char lcores[256];
	char file_prefix[64]; /* from --file-prefix in eal args, "rte" by default */
	struct ph_conf_host host;
	struct ph_conf_tcp tcp;
	struct ph_conf_port ports[PH_CONF_MAX_PORTS];
	unsigned n_ports;
	struct ph_conf_iface ifaces[PH_CONF_MAX_IFACES];
	unsigned n_ifaces;
	struct ph_conf_ctx *ctxs; /* PH_CONF_MAX_CTX slots */
	unsigned n_ctxs;
	struct ph_conf_service services[PH_CONF_MAX_SERVICES];
	unsigned n_services;
};

/*
 * Load and validate PATH into a new struct. Returns NULL on any error, with
 * "FILE:LINE: key 'K': what" (or "FILE: what") in ERR.
 */
struct ph_conf *ph_conf_load(const char *path, char *err, size_t errlen);
void ph_conf_free(struct ph_conf *c);

/* Defaults of the [host] section. */
void ph_conf_host_defaults(struct ph_conf_host *h);

/* Find an interface or context by name; -1 if none. */
int ph_conf_iface_by_name(const struct ph_conf *c, const char *name);
int ph_conf_ctx_by_name(const struct ph_conf *c, const char *name);

/*
 * Override what the file says with command-line values: LCORES replaces
 * [eal] lcores, EAL_ARGS is appended to [eal] args (either may be NULL).
 * 0, or -1 with ERR filled.
 */
int ph_conf_override(struct ph_conf *c, const char *lcores, const char *eal_args, char *err,
                     size_t errlen);

/*
 * Apply one `--fault PORT=SPEC` over the file: SPEC's items replace those of
 * [port PORT]'s `fault` key ("none" clears them). 0, or -1 with ERR filled.
 */
int ph_conf_fault_override(struct ph_conf *c, const char *arg, char *err, size_t errlen);

/* S without leading and trailing white space (trailing cut in place). */
char *ph_trim(char *s);

/* Parsers shared with phctl and tests. 0 or -1. */
int ph_parse_ipv4(const char *s, uint32_t *ip);
int ph_parse_prefix(const char *s, uint32_t *ip, uint8_t *plen);
int ph_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* The route grammar above (names are not checked against any host). 0, or -1
 * with ERR saying what is wrong. */
int ph_parse_route(const char *s, struct ph_conf_route *r, char *err, size_t errlen);

#endif
