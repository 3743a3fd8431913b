/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host configuration loader (see conf.h).
 *
 * rte_cfgfile reads the values but does not say where they came from, and it
 * skips some malformed lines silently. So a first pass reads the file line by
 * line with the same rules (';' starts a comment unless escaped, blanks are
 * trimmed), rejects anything that is neither "[section]" nor "key = value",
 * and keeps an index of (section, key, occurrence) -> line; every later error
 * is reported at the line this index gives.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <bsd/string.h>
#include <rte_cfgfile.h>

#include "conf/conf.h"
#include "tcp/tcp.h"
#include "wire/ipv4.h"

static void find_file_prefix(struct ph_conf *c);

struct conf_loc {
	unsigned section; /* index in sections */
	char key[CFG_NAME_LEN];
	int line;
};

struct conf_section {
	char name[CFG_NAME_LEN];
	int line;
};

struct parser {
	const char *path;
	char *err;
	size_t errlen;
	struct ph_conf *c;
	struct rte_cfgfile *cf;
	struct conf_section *secs;
	unsigned n_secs;
	struct conf_loc *locs;
	unsigned n_locs;
};

static int __attribute__((format(printf, 4, 5)))
perr(struct parser *p, int line, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0 && key != NULL)
		snprintf(p->err, p->errlen, "%s:%d: key '%s': %s", p->path, line, key, msg);
	else if (line > 0)
		snprintf(p->err, p->errlen, "%s:%d: %s", p->path, line, msg);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->path, msg);
	return -1;
}

char *
ph_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* First pass: syntax and the line index. */
static int
conf_index(struct parser *p)
{
	FILE *f = fopen(p->path, "r");
	char buf[1024];
	int line = 0;
	int cur = -1;

	if (f == NULL)
		return perr(p, 0, NULL, "cannot open: %s", strerror(errno));
	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *s, *semi, *eq;

		line++;
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			fclose(f);
			return perr(p, line, NULL, "line longer than %zu characters",
			            sizeof(buf) - 2);
		}
		for (semi = buf; (semi = strchr(semi, ';')) != NULL; semi++)
			if (semi == buf || semi[-1] != '\\') {
				*semi = '\0';
				break;
			}
		s = ph_trim(buf);
		if (*s == '\0')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			char *name;

			if (end == NULL || end[1] != '\0') {
				fclose(f);
				return perr(p, line, NULL,
				            "syntax error: a section header is '[name]'");
			}
			*end = '\0';
			name = ph_trim(s + 1);
			if (*name == '\0' || strlen(name) >= CFG_NAME_LEN) {
				fclose(f);
				return perr(p, line, NULL, "section name empty or longer than %d",
				            CFG_NAME_LEN - 1);
			}
			for (unsigned i = 0; i < p->n_secs; i++)
				if (strcmp(p->secs[i].name, name) == 0) {
					fclose(f);
					return perr(p, line, NULL,
					            "section [%s] appears twice (first on line %d)",
					            name, p->secs[i].line);
				}
			p->secs = reallocarray(p->secs, p->n_secs + 1, sizeof(*p->secs));
			if (p->secs == NULL) {
				fclose(f);
				return perr(p, line, NULL, "out of memory");
			}
			strlcpy(p->secs[p->n_secs].name, name, CFG_NAME_LEN);
			p->secs[p->n_secs].line = line;
			cur = (int)p->n_secs++;
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			fclose(f);
			return perr(p, line, NULL,
			            "syntax error: expected '[section]' or 'key = value'");
		}
		*eq = '\0';
		char *key = ph_trim(s), *val = ph_trim(eq + 1);

		if (*key == '\0') {
			fclose(f);
			return perr(p, line, NULL, "syntax error: no key before '='");
		}
		if (strlen(key) >= CFG_NAME_LEN) {
			fclose(f);
			return perr(p, line, key, "key longer than %d", CFG_NAME_LEN - 1);
		}
		if (*val == '\0') {
			fclose(f);
			return perr(p, line, key, "no value");
		}
		if (strlen(val) >= CFG_VALUE_LEN) {
			fclose(f);
			return perr(p, line, key, "value longer than %d", CFG_VALUE_LEN - 1);
		}
		if (cur < 0) {
			fclose(f);
			return perr(p, line, key, "outside any [section]");
		}
		p->locs = reallocarray(p->locs, p->n_locs + 1, sizeof(*p->locs));
		if (p->locs == NULL) {
			fclose(f);
			return perr(p, line, NULL, "out of memory");
		}
		p->locs[p->n_locs].section = (unsigned)cur;
		strlcpy(p->locs[p->n_locs].key, key, CFG_NAME_LEN);
		p->locs[p->n_locs].line = line;
		p->n_locs++;
	}
	fclose(f);
	return 0;
}

/* Line of the NTH occurrence of KEY in section SEC. */
static int
conf_line(const struct parser *p, unsigned sec, const char *key, unsigned nth)
{
	for (unsigned i = 0; i < p->n_locs; i++)
		if (p->locs[i].section == sec && strcmp(p->locs[i].key, key) == 0 && nth-- == 0)
			return p->locs[i].line;
	return p->secs[sec].line;
}

int
ph_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '\0' || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
ph_parse_ipv4(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

int
ph_parse_prefix(const char *s, uint32_t *ip, uint8_t *plen)
{
	char buf[64];
	char *slash;
	uint32_t len;

	if (strcmp(s, "default") == 0) {
		*ip = 0;
		*plen = 0;
		return 0;
	}
	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -1;
	slash = strchr(buf, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	if (ph_parse_ipv4(buf, ip) < 0 || ph_parse_u32(slash + 1, 0, 32, &len) < 0)
		return -1;
	*plen = (uint8_t)len;
	return 0;
}

int
ph_parse_route(const char *s, struct ph_conf_route *r, char *err, size_t errlen)
{
	char buf[1024];
	char *tok[3 + 4 * PH_CONF_ECMP_MAX], *save = NULL;
	int n = 0, j = 1;

	*r = (struct ph_conf_route){.line = r->line};
	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf)) {
		snprintf(err, errlen, "route longer than %zu characters", sizeof(buf) - 1);
		return -1;
	}
	for (char *t = strtok_r(buf, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
		if (n == (int)(sizeof(tok) / sizeof(tok[0]))) {
			snprintf(err, errlen, "too many words in '%s'", s);
			return -1;
		}
		tok[n++] = t;
	}
	if (n < 3 || n % 2 == 0 || ph_parse_prefix(tok[0], &r->prefix, &r->plen) < 0) {
		snprintf(err, errlen, "'%s' is not 'PREFIX via GATEWAY' or 'PREFIX dev INTERFACE'",
		         s);
		return -1;
	}
	if ((r->prefix & ~ipv4_mask(r->plen)) != 0) {
		snprintf(err, errlen, "prefix %s has host bits set", tok[0]);
		return -1;
	}
	while (j < n) {
		const char *kw = tok[j], *arg = tok[j + 1];
		struct ph_conf_hop *hop;

		if (strcmp(kw, "ctx") == 0 || strcmp(kw, "leak") == 0) {
			if (r->ctx[0] != '\0' ||
			    strlcpy(r->ctx, arg, sizeof(r->ctx)) >= sizeof(r->ctx)) {
				snprintf(err, errlen, "'ctx %s': one context name, shorter than %d",
				         arg, PH_NAME_LEN);
				return -1;
			}
			j += 2;
			continue;
		}
		if (strcmp(kw, "via") != 0 && strcmp(kw, "dev") != 0) {
			snprintf(err, errlen, "'%s': expected 'via', 'dev' or 'ctx'", kw);
			return -1;
		}
		/* A hop is one "via" and one "dev" in either order, as Linux's
		 * "dev IF via GW"; a keyword the current hop has starts the next. */
		if (r->ctx[0] != '\0') {
			snprintf(err, errlen, "'ctx %s' comes after the next hops", r->ctx);
			return -1;
		}
		hop = r->n_hops > 0 ? &r->hops[r->n_hops - 1] : NULL;
		if (hop == NULL || (kw[0] == 'v' ? hop->gw != 0 : hop->dev[0] != '\0')) {
			if (r->n_hops == PH_CONF_ECMP_MAX) {
				snprintf(err, errlen, "more than %d next hops", PH_CONF_ECMP_MAX);
				return -1;
			}
			hop = &r->hops[r->n_hops++];
		}
		if (kw[0] == 'v' && (ph_parse_ipv4(arg, &hop->gw) < 0 || hop->gw == 0 ||
		                     ipv4_is_martian_src(hop->gw))) {
			snprintf(err, errlen, "gateway '%s' is not a unicast address", arg);
			return -1;
		}
		if (kw[0] == 'd' && strlcpy(hop->dev, arg, sizeof(hop->dev)) >= sizeof(hop->dev)) {
			snprintf(err, errlen, "interface name '%s' longer than %d", arg,
			         PH_NAME_LEN - 1);
			return -1;
		}
		j += 2;
	}
	if (r->n_hops == 0) {
		snprintf(err, errlen, "'%s' has no next hop ('via GATEWAY' or 'dev INTERFACE')", s);
		return -1;
	}
	return 0;
}

void
ph_conf_host_defaults(struct ph_conf_host *h)
{
	*h = (struct ph_conf_host){
	        .mbufs = 0,
	        .neigh_max = 4096,
	        .neigh_queue = 32,
	        .neigh_queue_total = 1024,
	        .neigh_reachable_ms = 30000,
	        .neigh_retrans_ms = 1000,
	        .neigh_mcast_probes = 3,
	        .neigh_ucast_probes = 3,
	        .frag_max_datagrams = 256,
	        .frag_timeout_ms = 30000,
	        .icmp_rate = 1000,
	        .icmp_burst = 50,
	        .idle_sleep_us = 100,
	        .ephemeral_lo = 32768, /* Linux's ip_local_port_range */
	        .ephemeral_hi = 60999,
	        .sockets = 4096,
	        .rss_key_kind = PH_RSS_KEY_RANDOM,
	};
}

int
ph_conf_iface_by_name(const struct ph_conf *c, const char *name)
{
	for (unsigned i = 0; i < c->n_ifaces; i++)
		if (strcmp(c->ifaces[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
ph_conf_ctx_by_name(const struct ph_conf *c, const char *name)
{
	for (unsigned i = 0; i < c->n_ctxs; i++)
		if (strcmp(c->ctxs[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Entries of one section, with the line of each. */
struct entries {
	unsigned sec;
	int n;
	struct rte_cfgfile_entry *e;
	int *line;
};

static int
entries_load(struct parser *p, unsigned sec, struct entries *en)
{
	const char *name = p->secs[sec].name;
	int n = rte_cfgfile_section_num_entries(p->cf, name);

	en->sec = sec;
	en->n = n < 0 ? 0 : n;
	en->e = calloc((size_t)en->n + 1, sizeof(*en->e));
	en->line = calloc((size_t)en->n + 1, sizeof(*en->line));
	if (en->e == NULL || en->line == NULL)
		return perr(p, p->secs[sec].line, NULL, "out of memory");
	if (en->n > 0 && rte_cfgfile_section_entries(p->cf, name, en->e, en->n) != en->n)
		return perr(p, p->secs[sec].line, NULL, "cannot read section [%s]", name);
	for (int i = 0; i < en->n; i++) {
		unsigned nth = 0;

		for (int j = 0; j < i; j++)
			if (strcmp(en->e[j].name, en->e[i].name) == 0)
				nth++;
		en->line[i] = conf_line(p, sec, en->e[i].name, nth);
	}
	return 0;
}

static void
entries_free(struct entries *en)
{
	free(en->e);
	free(en->line);
	en->e = NULL;
	en->line = NULL;
}

/*
 * Check every key of the section is one of ALLOWED (a NULL-terminated list)
 * and that the keys not in REPEATABLE appear once.
 */
static int
entries_check(struct parser *p, const struct entries *en, const char *const *allowed,
              const char *const *repeatable)
{
	for (int i = 0; i < en->n; i++) {
		const char *k = en->e[i].name;
		bool ok = false, rep = false;

		for (const char *const *a = allowed; *a != NULL; a++)
			ok |= strcmp(*a, k) == 0;
		if (!ok) {
			char list[256] = "";

			for (const char *const *a = allowed; *a != NULL; a++) {
				strlcat(list, a == allowed ? "" : ", ", sizeof(list));
				strlcat(list, *a, sizeof(list));
			}
			return perr(p, en->line[i], k, "unknown key in [%s] (known: %s)",
			            p->secs[en->sec].name, list);
		}
		for (const char *const *r = repeatable; r != NULL && *r != NULL; r++)
			rep |= strcmp(*r, k) == 0;
		if (rep)
			continue;
		for (int j = 0; j < i; j++)
			if (strcmp(en->e[j].name, k) == 0)
				return perr(p, en->line[i], k, "given twice (first on line %d)",
				            en->line[j]);
	}
	return 0;
}

static int
get_u32(struct parser *p, const struct entries *en, int i, uint32_t min, uint32_t max,
        uint32_t *out)
{
	if (ph_parse_u32(en->e[i].value, min, max, out) < 0)
		return perr(p, en->line[i], en->e[i].name, "'%s' is not a number in %u..%u",
		            en->e[i].value, min, max);
	return 0;
}

static int
parse_eal(struct parser *p, unsigned sec)
{
	static const char *const keys[] = {"args", "lcores", NULL};
	struct entries en;
	int rc;

	if ((rc = entries_load(p, sec, &en)) == 0)
		rc = entries_check(p, &en, keys, NULL);
	for (int i = 0; rc == 0 && i < en.n; i++) {
		const char *k = en.e[i].name, *v = en.e[i].value;

		if (strcmp(k, "args") == 0) {
			strlcpy(p->c->eal_args, v, sizeof(p->c->eal_args));
		} else {
			if (strspn(v, "0123456789,-@() ") != strlen(v))
				rc = perr(p, en.line[i], k,
				          "'%s' is not an lcore list (like 0-1 or 1,3)", v);
			strlcpy(p->c->lcores, v, sizeof(p->c->lcores));
		}
	}
	entries_free(&en);
	return rc;
}

static int
parse_rss_key(struct parser *p, const struct entries *en, int i)
{
	struct ph_conf_host *h = &p->c->host;
	const char *v = en->e[i].value;
	size_t len = strlen(v);

	if (strcmp(v, "random") == 0) {
		h->rss_key_kind = PH_RSS_KEY_RANDOM;
		return 0;
	}
	if (strcmp(v, "symmetric") == 0) {
		h->rss_key_kind = PH_RSS_KEY_SYMMETRIC;
		return 0;
	}
	if (len != 80 && len != 104)
		return perr(p, en->line[i], "rss_key",
		            "expected random, symmetric, or 40 or 52 bytes in hex");
	for (size_t j = 0; j < len / 2; j++) {
		unsigned b;

		if (!isxdigit((unsigned char)v[2 * j]) || !isxdigit((unsigned char)v[2 * j + 1]) ||
		    sscanf(v + 2 * j, "%2x", &b) != 1)
			return perr(p, en->line[i], "rss_key", "'%s' is not hex", v);
		h->rss_key[j] = (uint8_t)b;
	}
	h->rss_key_len = (uint8_t)(len / 2);
	h->rss_key_kind = PH_RSS_KEY_GIVEN;
	return 0;
}

/* "32768-60999" */
static int
parse_port_range(struct parser *p, const struct entries *en, int i, uint16_t *lo, uint16_t *hi)
{
	char buf[32], *dash;
	uint32_t a, b;

	strlcpy(buf, en->e[i].value, sizeof(buf));
	dash = strchr(buf, '-');
	if (dash != NULL)
		*dash = '\0';
	if (dash == NULL || ph_parse_u32(ph_trim(buf), 1024, 65535, &a) < 0 ||
	    ph_parse_u32(ph_trim(dash + 1), 1024, 65535, &b) < 0 || a > b)
		return perr(p, en->line[i], en->e[i].name,
		            "'%s' is not a range LOW-HIGH within 1024-65535", en->e[i].value);
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static int
parse_host(struct parser *p, unsigned sec)
{
	static const char *const keys[] = {"mbufs",
	                                   "neigh_max",
	                                   "neigh_queue",
	                                   "neigh_queue_total",
	                                   "neigh_reachable_ms",
	                                   "neigh_retrans_ms",
	                                   "neigh_mcast_probes",
	                                   "neigh_ucast_probes",
	                                   "frag_max_datagrams",
	                                   "frag_timeout_ms",
	                                   "icmp_rate",
	                                   "icmp_burst",
	                                   "idle_sleep_us",
	                                   "rss_key",
	                                   "ephemeral_ports",
	                                   "sockets",
	                                   NULL};
	struct ph_conf_host *h = &p->c->host;
	struct entries en;
	int rc;

	if ((rc = entries_load(p, sec, &en)) == 0)
		rc = entries_check(p, &en, keys, NULL);
	for (int i = 0; rc == 0 && i < en.n; i++) {
		const char *k = en.e[i].name;
		uint32_t v = 0;

		if (strcmp(k, "rss_key") == 0) {
			rc = parse_rss_key(p, &en, i);
		} else if (strcmp(k, "mbufs") == 0) {
			rc = get_u32(p, &en, i, 0, 1u << 24, &h->mbufs);
			if (rc == 0 && h->mbufs != 0 && h->mbufs < 1024)
				rc = perr(p, en.line[i], k, "at least 1024 (or 0 for automatic)");
		} else if (strcmp(k, "neigh_max") == 0) {
			rc = get_u32(p, &en, i, 16, 1u << 20, &h->neigh_max);
		} else if (strcmp(k, "neigh_queue") == 0) {
			rc = get_u32(p, &en, i, 1, 1024, &v);
			h->neigh_queue = (uint16_t)v;
		} else if (strcmp(k, "neigh_queue_total") == 0) {
			rc = get_u32(p, &en, i, 1, 1u << 20, &h->neigh_queue_total);
		} else if (strcmp(k, "neigh_reachable_ms") == 0) {
			rc = get_u32(p, &en, i, 1000, 3600000, &h->neigh_reachable_ms);
		} else if (strcmp(k, "neigh_retrans_ms") == 0) {
			rc = get_u32(p, &en, i, 100, 60000, &h->neigh_retrans_ms);
		} else if (strcmp(k, "neigh_mcast_probes") == 0) {
			rc = get_u32(p, &en, i, 1, 10, &v);
			h->neigh_mcast_probes = (uint8_t)v;
		} else if (strcmp(k, "neigh_ucast_probes") == 0) {
			rc = get_u32(p, &en, i, 0, 10, &v);
			h->neigh_ucast_probes = (uint8_t)v;
		} else if (strcmp(k, "frag_max_datagrams") == 0) {
			rc = get_u32(p, &en, i, 16, 65536, &h->frag_max_datagrams);
		} else if (strcmp(k, "frag_timeout_ms") == 0) {
			rc = get_u32(p, &en, i, 100, 120000, &h->frag_timeout_ms);
		} else if (strcmp(k, "icmp_rate") == 0) {
			rc = get_u32(p, &en, i, 1, 1000000, &h->icmp_rate);
		} else if (strcmp(k, "icmp_burst") == 0) {
			rc = get_u32(p, &en, i, 1, 1000000, &h->icmp_burst);
		} else if (strcmp(k, "idle_sleep_us") == 0) {
			rc = get_u32(p, &en, i, 0, 100000, &h->idle_sleep_us);
		} else if (strcmp(k, "ephemeral_ports") == 0) {
			rc = parse_port_range(p, &en, i, &h->ephemeral_lo, &h->ephemeral_hi);
		} else if (strcmp(k, "sockets") == 0) {
			rc = get_u32(p, &en, i, 16, 65536, &h->sockets);
		}
	}
	entries_free(&en);
	return rc;
}

static int
get_bool(struct parser *p, const struct entries *en, int i, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	const char *v = en->e[i].value;

	for (size_t j = 0; j < sizeof(yes) / sizeof(yes[0]); j++) {
		if (strcasecmp(v, yes[j]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[j]) == 0) {
			*out = false;
			return 0;
		}
	}
	return perr(p, en->line[i], en->e[i].name, "'%s' is not yes or no", v);
}

/*
 * [tcp]: the numeric keys, each a uint32_t field of struct ph_conf_tcp named
 * like the key, with the range it may take.
 */
static const struct tcp_key {
	const char *name;
	size_t off;
	uint32_t min, max;
} tcp_keys[] = {
#define TCP_KEY(f, lo, hi)                                                                         \
	{                                                                                          \
#f, offsetof(struct ph_conf_tcp, f), lo, hi                                        \
	}
        TCP_KEY(msl_ms, 100, 600000),
        TCP_KEY(rto_init_ms, 10, 60000),
        TCP_KEY(rto_min_ms, 1, 60000),
        /* RFC 6298 2.5 allows a ceiling of 60 s or more; lower ones are
         * accepted for tests on a lossy path. */
        TCP_KEY(rto_max_ms, 1000, 3600000),
        /* RFC 9293 3.8.6.3 (RFC 1122 4.2.3.2): the delay MUST be under 0.5 s. */
        TCP_KEY(delack_ms, 1, 499),
        /* Segments ACKed at once at the start of a connection; 0: none. */
        TCP_KEY(quickack, 0, 65535),
        /* A window scale of 14 (RFC 7323 2.3) reaches 1 GiB. */
        TCP_KEY(rmem, 4096, 1u << 30),
        TCP_KEY(wmem, 4096, 1u << 30),
        TCP_KEY(max_backlog, 1, 65535),
        TCP_KEY(syn_retries, 1, 127),
        TCP_KEY(synack_retries, 1, 127),
        TCP_KEY(retries, 1, 255),
        /* Linux's limits for TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT. */
        TCP_KEY(keepidle_s, 1, 32767),
        TCP_KEY(keepintvl_s, 1, 32767),
        TCP_KEY(keepcnt, 1, 127),
        /* Linux's net.ipv4.tcp_syncookies values. */
        TCP_KEY(syncookies, 0, 2),
        TCP_KEY(challenge_ack_limit, 1, 1000000),
        TCP_KEY(max_conns, 16, 1u << 24),
#undef TCP_KEY
};

/* The line of KEY in the section, or 0 when the key is not given. */
static int
entries_line(const struct entries *en, const char *key)
{
	for (int i = 0; i < en->n; i++)
		if (strcmp(en->e[i].name, key) == 0)
			return en->line[i];
	return 0;
}

static int
parse_tcp(struct parser *p, unsigned sec)
{
	static const char *const keys[] = {"msl_ms",
	                                   "rto_init_ms",
	                                   "rto_min_ms",
	                                   "rto_max_ms",
	                                   "delack_ms",
	                                   "rmem",
	                                   "wmem",
	                                   "max_backlog",
	                                   "syn_retries",
	                                   "synack_retries",
	                                   "retries",
	                                   "keepidle_s",
	                                   "keepintvl_s",
	                                   "keepcnt",
	                                   "max_conns",
	                                   "timestamps",
	                                   "window_scaling",
	                                   "sack",
	                                   "cc",
	                                   "quickack",
	                                   "syncookies",
	                                   "challenge_ack_limit",
	                                   NULL};
	struct ph_conf_tcp *t = &p->c->tcp;
	struct entries en;
	int rc, l_min, l_init, l_max;

	if ((rc = entries_load(p, sec, &en)) == 0)
		rc = entries_check(p, &en, keys, NULL);
	for (int i = 0; rc == 0 && i < en.n; i++) {
		const char *k = en.e[i].name, *v = en.e[i].value;

		if (strcmp(k, "timestamps") == 0) {
			rc = get_bool(p, &en, i, &t->timestamps);
		} else if (strcmp(k, "window_scaling") == 0) {
			rc = get_bool(p, &en, i, &t->window_scaling);
		} else if (strcmp(k, "sack") == 0) {
			rc = get_bool(p, &en, i, &t->sack);
		} else if (strcmp(k, "rack_tlp") == 0) {
			rc = get_bool(p, &en, i, &t->rack_tlp);
		} else if (strcmp(k, "cc") == 0) {
			/* A name tcp_cc_find knows (tcp_cc.c). */
			if (tcp_cc_find(v) == NULL)
				rc = perr(p, en.line[i], k,
				          "unknown congestion control '%s' (newreno, cubic)", v);
			else
				strlcpy(t->cc, v, sizeof(t->cc));
		} else {
			for (size_t j = 0; j < sizeof(tcp_keys) / sizeof(tcp_keys[0]); j++) {
				const struct tcp_key *tk = &tcp_keys[j];

				if (strcmp(k, tk->name) == 0)
					rc = get_u32(p, &en, i, tk->min, tk->max,
					             (uint32_t *)((char *)t + tk->off));
			}
		}
	}
	/* The timeouts must nest, whichever of them the file gives: an error
	 * names the given key (the other one is its default). */
	l_min = entries_line(&en, "rto_min_ms");
	l_init = entries_line(&en, "rto_init_ms");
	l_max = entries_line(&en, "rto_max_ms");
	if (rc == 0 && t->rto_min_ms > t->rto_init_ms)
		rc = perr(p, l_min ? l_min : l_init, l_min ? "rto_min_ms" : "rto_init_ms",
		          "rto_min_ms %u is above rto_init_ms %u", t->rto_min_ms, t->rto_init_ms);
	if (rc == 0 && t->rto_init_ms > t->rto_max_ms)
		rc = perr(p, l_init ? l_init : l_max, l_init ? "rto_init_ms" : "rto_max_ms",
		          "rto_init_ms %u is above rto_max_ms %u", t->rto_init_ms, t->rto_max_ms);
	entries_free(&en);
	return rc;
}

/* "198.18.0.2/24": a unicast address of this host and its subnet. */
static int
parse_addr(struct parser *p, const struct entries *en, int i, struct ph_conf_iface *ifc)
{
	struct ph_conf_addr *a;
	uint32_t ip, mask;
	uint8_t plen;

	if (ph_parse_prefix(en->e[i].value, &ip, &plen) < 0 || plen == 0)
		return perr(p, en->line[i], "address", "'%s' is not ADDRESS/PREFIXLEN",
		            en->e[i].value);
	if (ipv4_is_martian_src(ip))
		return perr(p, en->line[i], "address",
		            "'%s' is not a unicast address a host may use", en->e[i].value);
	mask = ipv4_mask(plen);
	if (plen < 31 && ((ip & ~mask) == 0 || (ip & ~mask) == ~mask))
		return perr(p, en->line[i], "address",
		            "'%s' is the network or broadcast address of its subnet",
		            en->e[i].value);
	if (ifc->n_addrs == PH_CONF_MAX_ADDRS)
		return perr(p, en->line[i], "address", "more than %d addresses on one interface",
		            PH_CONF_MAX_ADDRS);
	a = &ifc->addrs[ifc->n_addrs++];
	a->ip = ip;
	a->plen = plen;
	a->line = en->line[i];
	return 0;
}

static int
parse_iface_ctx(struct parser *p, const struct entries *en, int i, struct ph_conf_iface *ifc)
{
	int ctx = ph_conf_ctx_by_name(p->c, en->e[i].value);

	if (ctx < 0)
		return perr(p, en->line[i], "context", "no [context %s] section", en->e[i].value);
	ifc->ctx = (unsigned)ctx;
	return 0;
}

static bool
is_pci_address(const char *s)
{
	unsigned dom, bus, dev, fn;
	char tail;

	/* DDDD:BB:DD.F or BB:DD.F, as EAL's allow-list takes them. */
	if (sscanf(s, "%4x:%2x:%2x.%1u%c", &dom, &bus, &dev, &fn, &tail) == 4)
		return true;
	return sscanf(s, "%2x:%2x.%1u%c", &bus, &dev, &fn, &tail) == 3;
}

static int
new_iface(struct parser *p, unsigned sec, const char *name, struct ph_conf_iface **out)
{
	struct ph_conf_iface *ifc;

	if (strlen(name) >= PH_NAME_LEN)
		return perr(p, p->secs[sec].line, NULL, "name '%s' longer than %d", name,
		            PH_NAME_LEN - 1);
	if (ph_conf_iface_by_name(p->c, name) >= 0)
		return perr(p, p->secs[sec].line, NULL, "interface name '%s' used twice", name);
	if (p->c->n_ifaces == PH_CONF_MAX_IFACES)
		return perr(p, p->secs[sec].line, NULL, "more than %d interfaces",
		            PH_CONF_MAX_IFACES);
	ifc = &p->c->ifaces[p->c->n_ifaces++];
	strlcpy(ifc->name, name, sizeof(ifc->name));
	ifc->ctx = (unsigned)ph_conf_ctx_by_name(p->c, PH_CTX_DEFAULT_NAME);
	ifc->line = p->secs[sec].line;
	*out = ifc;
	return 0;
}

static int
parse_port(struct parser *p, unsigned sec, const char *name)
{
	static const char *const keys[] = {"device",  "context", "address", "mtu", "queues",
	                                   "rx_desc", "tx_desc", "fault",   "tso", NULL};
	static const char *const rep[] = {"address", NULL};
	struct ph_conf_port *port;
	struct ph_conf_iface *ifc;
	struct entries en;
	int rc;

	if (p->c->n_ports == PH_CONF_MAX_PORTS)
		return perr(p, p->secs[sec].line, NULL, "more than %d ports", PH_CONF_MAX_PORTS);
	port = &p->c->ports[p->c->n_ports];
	*port = (struct ph_conf_port){.rx_desc = 1024,
	                              .tx_desc = 1024,
	                              .mtu = 1500,
	                              .tso = true,
	                              .line = p->secs[sec].line};
	strlcpy(port->name, name, sizeof(port->name));
	fault_spec_init(&port->fault);
	if ((rc = new_iface(p, sec, name, &ifc)) != 0)
		return rc;
	ifc->port = p->c->n_ports++;
	if ((rc = entries_load(p, sec, &en)) == 0)
		rc = entries_check(p, &en, keys, rep);
	for (int i = 0; rc == 0 && i < en.n; i++) {
		const char *k = en.e[i].name, *v = en.e[i].value;
		uint32_t u;

		if (strcmp(k, "device") == 0) {
			if (strlcpy(port->device, v, sizeof(port->device)) >= sizeof(port->device))
				rc = perr(p, en.line[i], k, "too long");
			port->is_pci = is_pci_address(v);
		} else if (strcmp(k, "context") == 0) {
			rc = parse_iface_ctx(p, &en, i, ifc);
		} else if (strcmp(k, "address") == 0) {
			rc = parse_addr(p, &en, i, ifc);
		} else if (strcmp(k, "mtu") == 0) {
			rc = get_u32(p, &en, i, 68, 9600, &u);
			port->mtu = (uint16_t)u;
		} else if (strcmp(k, "queues") == 0) {
			if (strcmp(v, "auto") == 0)
				port->queues = 0;
			else if ((rc = get_u32(p, &en, i, 1, 128, &u)) == 0)
				port->queues = (uint16_t)u;
		} else if (strcmp(k, "rx_desc") == 0) {
			rc = get_u32(p, &en, i, 32, 16384, &u);
			port->rx_desc = (uint16_t)u;
		} else if (strcmp(k, "tx_desc") == 0) {
			rc = get_u32(p, &en, i, 32, 16384, &u);
			port->tx_desc = (uint16_t)u;
		} else if (strcmp(k, "tso") == 0) {
			rc = get_bool(p, &en, i, &port->tso);
		} else if (strcmp(k, "fault") == 0) {
			char msg[256];

			if (fault_spec_parse(&port->fault, v, msg, sizeof(msg)) < 0)
				rc = perr(p, en.line[i], k, "%s", msg);
		}
	}
	if (rc == 0 && port->device[0] == '\0')
		rc = perr(p, p->secs[sec].line, "device",
		          "missing in [%s] (a PCI address or a vdev like net_tap0,iface=ph0)",
		          p->secs[sec].name);
	ifc->mtu = port->mtu;
	entries_free(&en);
	return rc;
}

static int
parse_vlan(struct parser *p, unsigned sec, const char *name)
{
	static const char *const keys[] = {"port", "id", "context", "address", "mtu", NULL};
	static const char *const rep[] = {"address", NULL};
	struct ph_conf_iface *ifc;
	struct entries en;
	int port = -1, mtu_line = 0;
	uint32_t id = 0, mtu = 0;
	int rc;

	if ((rc = new_iface(p, sec, name, &ifc)) != 0)
		return rc;
	if ((rc = entries_load(p, sec, &en)) == 0)
		rc = entries_check(p, &en, keys, rep);
	for (int i = 0; rc == 0 && i < en.n; i++) {
		const char *k = en.e[i].name, *v = en.e[i].value;

		if (strcmp(k, "port") == 0) {
			for (unsigned j = 0; j < p->c->n_ports; j++)
				if (strcmp(p->c->ports[j].name, v) == 0)
					port = (int)j;
			if (port < 0)
				rc = perr(p, en.line[i], k, "no [port %s] section", v);
		} else if (strcmp(k, "id") == 0) {
			rc = get_u32(p, &en, i, 1, 4094, &id);
		} else if (strcmp(k, "context") == 0) {
			rc = parse_iface_ctx(p, &en, i, ifc);
		} else if (strcmp(k, "address") == 0) {
			rc = parse_addr(p, &en, i, ifc);
		} else if (strcmp(k, "mtu") == 0) {
			rc = get_u32(p, &en, i, 68, 9600, &mtu);
			mtu_line = en.line[i];
		}
	}
	if (rc == 0 && port < 0)
		rc = perr(p, p->secs[sec].line, "port", "missing in [%s]", p->secs[sec].name);
	if (rc == 0 && id == 0)
		rc = perr(p, p->secs[sec].line, "id", "missing in [%s] (a VLAN id, 1..4094)",
		          p->secs[sec].name);
	if (rc == 0) {
		ifc->port = (unsigned)port;
		ifc->vlan = (uint16_t)id;
		for (unsigned j = 0; j + 1 < p->c->n_ifaces; j++)
			if (p->c->ifaces[j].port == ifc->port && p->c->ifaces[j].vlan == id)
				rc = perr(p, p->secs[sec].line, "id",
				          "VLAN %u on port %s is already interface %s", id,
				          p->c->ports[port].name, p->c->ifaces[j].name);
	}
	if (rc == 0) {
		/* The tag takes 4 bytes of the port's frame, not of the IP MTU. */
		uint16_t port_mtu = p->c->ports[port].mtu;

		if (mtu > port_mtu)
			rc = perr(p, mtu_line, "mtu", "%u is above port %s's MTU %u", mtu,
			          p->c->ports[port].name, port_mtu);
		ifc->mtu = mtu != 0 ? (uint16_t)mtu : port_mtu;
	}
	entries_free(&en);
	return rc;
}

/* [context NAME]: its number; routes are read once all interfaces are known. */
static int
parse_ctx_header(struct parser *p, unsigned sec, const char *name)
{
	static const char *const keys[] = {"id", "route", "forwarding", "fib", "max_routes", NULL};
	static const char *const rep[] = {"route", NULL};
	struct ph_conf_ctx *ctx;
	struct entries en;
	int rc;

	if (strlen(name) >= PH_NAME_LEN)
		return perr(p, p->secs[sec].line, NULL, "context name '%s' longer than %d", name,
		            PH_NAME_LEN - 1);
	rc = ph_conf_ctx_by_name(p->c, name);
	if (rc >= 0) {
		ctx = &p->c->ctxs[rc]; /* "default", created implicitly */
	} else {
		if (p->c->n_ctxs == PH_CONF_MAX_CTX)
			return perr(p, p->secs[sec].line, NULL, "more than %d contexts",
			            PH_CONF_MAX_CTX);
		ctx = &p->c->ctxs[p->c->n_ctxs++];
		strlcpy(ctx->name, name, sizeof(ctx->name));
		ctx->max_routes = PH_CONF_MAX_ROUTES_DEFAULT;
		ctx->id = UINT16_MAX;
	}
	ctx->line = p->secs[sec].line;
	if ((rc = entries_load(p, sec, &en)) == 0)
		rc = entries_check(p, &en, keys, rep);
	for (int i = 0; rc == 0 && i < en.n; i++) {
		uint32_t id;

		if (strcmp(en.e[i].name, "forwarding") == 0) {
			rc = get_bool(p, &en, i, &ctx->forwarding);
			continue;
		}
		if (strcmp(en.e[i].name, "max_routes") == 0) {
			rc = get_u32(p, &en, i, 16, 1u << 22, &ctx->max_routes);
			continue;
		}
		if (strcmp(en.e[i].name, "fib") == 0) {
			if (strcmp(en.e[i].value, "dir24_8") == 0)
				ctx->fib = PH_FIB_DIR24_8;
			else if (strcmp(en.e[i].value, "ranges") == 0)
				ctx->fib = PH_FIB_RANGES;
			else
				rc = perr(p, en.line[i], "fib", "'%s' is not dir24_8 or ranges",
				          en.e[i].value);
			continue;
		}
		if (strcmp(en.e[i].name, "id") != 0)
			continue;
		if ((rc = get_u32(p, &en, i, 0, PH_CONF_MAX_CTX - 1, &id)) != 0)
			break;
		if (strcmp(name, PH_CTX_DEFAULT_NAME) == 0 && id != 0)
			rc = perr(p, en.line[i], "id", "the default context is number 0");
		for (unsigned j = 0; rc == 0 && j < p->c->n_ctxs; j++)
			if (&p->c->ctxs[j] != ctx && p->c->ctxs[j].id == id)
				rc = perr(p, en.line[i], "id", "%u is already context '%s'", id,
				          p->c->ctxs[j].name);
		ctx->id = (uint16_t)id;
	}
	entries_free(&en);
	return rc;
}

/* The interface of context CTX whose subnet holds IP, or -1. */
static int
connected_iface(const struct ph_conf *c, unsigned ctx, uint32_t ip)
{
	for (unsigned i = 0; i < c->n_ifaces; i++) {
		const struct ph_conf_iface *ifc = &c->ifaces[i];

		if (ifc->ctx != ctx)
			continue;
		for (unsigned j = 0; j < ifc->n_addrs; j++) {
			uint32_t m = ipv4_mask(ifc->addrs[j].plen);

			if ((ip & m) == (ifc->addrs[j].ip & m))
				return (int)i;
		}
	}
	return -1;
}

/* A route (ph_parse_route's grammar) whose names must exist: interfaces in the
 * context of its next hops, gateways on their subnets. */
static int
parse_route(struct parser *p, const struct entries *en, int i, unsigned ctx_idx)
{
	struct ph_conf_ctx *ctx = &p->c->ctxs[ctx_idx];
	struct ph_conf_route r = {.line = en->line[i]};
	unsigned nh_ctx = ctx_idx;
	char why[256], ip[IPV4_STR_LEN];

	if (ph_parse_route(en->e[i].value, &r, why, sizeof(why)) < 0)
		return perr(p, r.line, "route", "%s", why);
	if (r.ctx[0] != '\0') {
		int c = ph_conf_ctx_by_name(p->c, r.ctx);

		if (c < 0)
			return perr(p, r.line, "route", "no [context %s] section", r.ctx);
		nh_ctx = (unsigned)c;
	}
	for (unsigned h = 0; h < r.n_hops; h++) {
		const struct ph_conf_hop *hop = &r.hops[h];

		if (hop->dev[0] != '\0') {
			int ifc = ph_conf_iface_by_name(p->c, hop->dev);

			if (ifc < 0)
				return perr(p, r.line, "route", "no interface '%s'", hop->dev);
			if (p->c->ifaces[ifc].ctx != nh_ctx)
				return perr(p, r.line, "route",
				            "interface '%s' is not in context '%s'", hop->dev,
				            p->c->ctxs[nh_ctx].name);
		} else if (connected_iface(p->c, nh_ctx, hop->gw) < 0) {
			return perr(
			        p, r.line, "route",
			        "gateway %s is not on a subnet of context '%s' (add 'dev IFACE')",
			        ipv4_str(hop->gw, ip), p->c->ctxs[nh_ctx].name);
		}
	}
	for (unsigned j = 0; j < ctx->n_routes; j++)
		if (ctx->routes[j].prefix == r.prefix && ctx->routes[j].plen == r.plen)
			return perr(p, r.line, "route", "%s/%u given twice (first on line %d)",
			            ipv4_str(r.prefix, ip), r.plen, ctx->routes[j].line);
	ctx->routes = reallocarray(ctx->routes, ctx->n_routes + 1, sizeof(r));
	if (ctx->routes == NULL)
		return perr(p, r.line, "route", "out of memory");
	ctx->routes[ctx->n_routes++] = r;
	return 0;
}

static int
parse_routes(struct parser *p, unsigned sec, const char *name)
{
	unsigned ctx_idx = (unsigned)ph_conf_ctx_by_name(p->c, name);
	struct entries en;
	int rc = entries_load(p, sec, &en);

	for (int i = 0; rc == 0 && i < en.n; i++)
		if (strcmp(en.e[i].name, "route") == 0)
			rc = parse_route(p, &en, i, ctx_idx);
	entries_free(&en);
	return rc;
}

/* Two addresses of one context may not be the same, wherever they are. */
static int
check_addrs(struct parser *p)
{
	const struct ph_conf *c = p->c;

	for (unsigned i = 0; i < c->n_ifaces; i++)
		for (unsigned a = 0; a < c->ifaces[i].n_addrs; a++)
			for (unsigned j = 0; j <= i; j++)
				for (unsigned b = 0; b < (j == i ? a : c->ifaces[j].n_addrs); b++) {
					const struct ph_conf_addr *x = &c->ifaces[i].addrs[a];
					const struct ph_conf_addr *y = &c->ifaces[j].addrs[b];

					if (c->ifaces[i].ctx == c->ifaces[j].ctx && x->ip == y->ip)
						return perr(p, x->line, "address",
						            "already on interface %s (line %d)",
						            c->ifaces[j].name, y->line);
				}
	return 0;
}

/* Two listen addresses overlap when a segment or datagram could match both. */
static bool
listen_overlap(const struct ph_conf_service *a, const struct ph_conf_listen *x,
               const struct ph_conf_service *b, const struct ph_conf_listen *y)
{
	return a->ctx == b->ctx && x->proto == y->proto && x->port == y->port &&
	       (x->ip == y->ip || x->ip == 0 || y->ip == 0);
}

/* "udp:198.18.0.2:7", "tcp:0.0.0.0:80": the address is 0.0.0.0 or one of the
 * context's, and no other listen address of any service overlaps it. */
static int
parse_listen_one(struct parser *p, int line, char *spec, struct ph_conf_service *svc)
{
	struct ph_conf_listen *l = &svc->listen[svc->n_listen];
	char *addr = strchr(spec, ':'), *port = strrchr(spec, ':');
	uint32_t v;

	if (svc->n_listen == PH_CONF_MAX_LISTEN)
		return perr(p, line, "listen", "more than %d addresses", PH_CONF_MAX_LISTEN);
	if (addr == NULL || port == addr)
		return perr(p, line, "listen", "'%s' is not PROTO:ADDRESS:PORT (udp:198.18.0.2:7)",
		            spec);
	*addr++ = '\0';
	*port++ = '\0';
	if (strcmp(spec, "udp") == 0)
		l->proto = IPPROTO_UDP;
	else if (strcmp(spec, "tcp") == 0)
		l->proto = IPPROTO_TCP;
	else
		return perr(p, line, "listen", "protocol '%s' is not udp or tcp", spec);
	if (ph_parse_ipv4(addr, &l->ip) < 0)
		return perr(p, line, "listen", "'%s' is not an IPv4 address", addr);
	if (ph_parse_u32(port, 1, 65535, &v) < 0)
		return perr(p, line, "listen", "port '%s' is not in 1..65535", port);
	l->port = (uint16_t)v;
	if (l->ip != 0) {
		bool found = false;

		for (unsigned f = 0; f < p->c->n_ifaces; f++) {
			const struct ph_conf_iface *ifc = &p->c->ifaces[f];

			for (unsigned a = 0; ifc->ctx == svc->ctx && a < ifc->n_addrs; a++)
				found |= ifc->addrs[a].ip == l->ip;
		}
		if (!found)
			return perr(p, line, "listen",
			            "%s is not an address of context '%s' (or use 0.0.0.0)", addr,
			            p->c->ctxs[svc->ctx].name);
	}
	/* Every worker binds each address with SO_REUSEPORT, so the stack would
	 * not refuse an overlap: two services would share the traffic at random. */
	for (unsigned i = 0; i < p->c->n_services; i++) {
		const struct ph_conf_service *o = &p->c->services[i];
		for (unsigned k = 0; k < o->n_listen; k++) {
			const struct ph_conf_listen *x = &o->listen[k];
			struct in_addr in = {.s_addr = htonl(x->ip)};
			char ip[INET_ADDRSTRLEN];

			if (listen_overlap(svc, l, o, x))
				return perr(p, line, "listen",
				            "%s:%s:%s overlaps %s:%s:%u of [service %s]", spec,
				            addr, port, spec,
				            inet_ntop(AF_INET, &in, ip, sizeof(ip)), x->port,
				            o->name);
		}
	}
	svc->n_listen++;
	return 0;
}

/* strtoull for the 64-bit sizes: decimal (or 0x hex), nothing after it. */
static int
get_u64(struct parser *p, const struct entries *en, int i, uint64_t max, uint64_t *out)
{
	const char *s = en->e[i].value;
	unsigned long long v;
	char *end;

	errno = 0;
	v = (*s >= '0' && *s <= '9') ? strtoull(s, &end, 0) : 0;
	if (*s < '0' || *s > '9' || errno != 0 || *end != '\0' || v > max)
		return perr(p, en->line[i], en->e[i].name, "'%s' is not a number in 0..%llu", s,
		            (unsigned long long)max);
	*out = v;
	return 0;
}

/* Generated bodies up to 1 TiB: enough for any benchmark, and small enough
 * that the digits of Content-Length never matter. */
#define SERVICE_BODY_MAX (1ull << 40)

static int
parse_service(struct parser *p, unsigned sec, const char *name)
{
	static const char *const keys[] = {"type", "listen", "context", "root", "body_size", NULL};
	static const char *const rep[] = {"listen", NULL};
	struct ph_conf_service *svc;
	struct entries en;
	int rc, listen_i = -1, root_i = -1, body_i = -1;

	if (strlen(name) >= PH_NAME_LEN)
		return perr(p, p->secs[sec].line, NULL, "service name '%s' longer than %d", name,
		            PH_NAME_LEN - 1);
	if (p->c->n_services == PH_CONF_MAX_SERVICES)
		return perr(p, p->secs[sec].line, NULL, "more than %d services",
		            PH_CONF_MAX_SERVICES);
	svc = &p->c->services[p->c->n_services++];
	strlcpy(svc->name, name, sizeof(svc->name));
	svc->line = p->secs[sec].line;
	if ((rc = entries_load(p, sec, &en)) == 0)
		rc = entries_check(p, &en, keys, rep);
	/* The context first: listen addresses are checked against it. */
	for (int i = 0; rc == 0 && i < en.n; i++) {
		const char *k = en.e[i].name, *v = en.e[i].value;

		if (strcmp(k, "context") == 0) {
			int c = ph_conf_ctx_by_name(p->c, v);

			if (c < 0)
				rc = perr(p, en.line[i], k, "no [context %s]", v);
			else
				svc->ctx = (unsigned)c;
		} else if (strcmp(k, "type") == 0) {
			if (strcmp(v, "echo") != 0 && strcmp(v, "discard") != 0 &&
			    strcmp(v, "http") != 0)
				rc = perr(p, en.line[i], k,
				          "'%s' is not a service type (echo, discard, http)", v);
			strlcpy(svc->type, v, sizeof(svc->type));
		} else if (strcmp(k, "root") == 0) {
			struct stat st;

			root_i = i;
			if (strlcpy(svc->root, v, sizeof(svc->root)) >= sizeof(svc->root))
				rc = perr(p, en.line[i], k, "longer than %zu characters",
				          sizeof(svc->root) - 1);
			else if (stat(v, &st) < 0)
				rc = perr(p, en.line[i], k, "'%s': %s", v, strerror(errno));
			else if (!S_ISDIR(st.st_mode))
				rc = perr(p, en.line[i], k, "'%s' is not a directory", v);
		} else if (strcmp(k, "body_size") == 0) {
			body_i = i;
			rc = get_u64(p, &en, i, SERVICE_BODY_MAX, &svc->body_size);
		}
	}
	if (rc == 0 && svc->type[0] == '\0')
		rc = perr(p, svc->line, "type", "missing in [service %s] (echo, discard, http)",
		          name);
	if (rc == 0 && strcmp(svc->type, "http") != 0 && (root_i >= 0 || body_i >= 0)) {
		int i = root_i >= 0 ? root_i : body_i;

		rc = perr(p, en.line[i], en.e[i].name, "only for type = http, not %s", svc->type);
	}
	for (int i = 0; rc == 0 && i < en.n; i++) {
		char list[512], *save = NULL;

		if (strcmp(en.e[i].name, "listen") != 0)
			continue;
		listen_i = i;
		strlcpy(list, en.e[i].value, sizeof(list));
		for (char *t = strtok_r(list, ", \t", &save); rc == 0 && t != NULL;
		     t = strtok_r(NULL, ", \t", &save)) {
			rc = parse_listen_one(p, en.line[i], t, svc);
			/* HTTP runs over TCP only (RFC 9112 2). */
			if (rc == 0 && strcmp(svc->type, "http") == 0 &&
			    svc->listen[svc->n_listen - 1].proto != IPPROTO_TCP)
				rc = perr(p, en.line[i], "listen",
				          "http is served over tcp, not udp (tcp:ADDRESS:PORT)");
		}
	}
	if (rc == 0 && listen_i < 0)
		rc = perr(p, svc->line, "listen", "missing in [service %s] (PROTO:ADDRESS:PORT)",
		          name);
	entries_free(&en);
	return rc;
}

int
ph_conf_override(struct ph_conf *c, const char *lcores, const char *eal_args, char *err,
                 size_t errlen)
{
	if (lcores != NULL && strlcpy(c->lcores, lcores, sizeof(c->lcores)) >= sizeof(c->lcores)) {
		snprintf(err, errlen, "--lcores: '%s' is too long", lcores);
		return -1;
	}
	if (eal_args != NULL &&
	    (strlcat(c->eal_args, " ", sizeof(c->eal_args)) >= sizeof(c->eal_args) ||
	     strlcat(c->eal_args, eal_args, sizeof(c->eal_args)) >= sizeof(c->eal_args))) {
		snprintf(err, errlen, "--eal: the EAL arguments are too long");
		return -1;
	}
	find_file_prefix(c);
	return 0;
}

int
ph_conf_fault_override(struct ph_conf *c, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char msg[256];
	size_t n;

	if (eq == NULL || eq == arg) {
		snprintf(err, errlen, "--fault '%s': give PORT=SPEC (PORT names a [port] of %s)",
		         arg, c->path);
		return -1;
	}
	n = (size_t)(eq - arg);
	for (unsigned i = 0; i < c->n_ports; i++) {
		struct ph_conf_port *port = &c->ports[i];

		if (strlen(port->name) != n || strncmp(port->name, arg, n) != 0)
			continue;
		if (fault_spec_parse(&port->fault, eq + 1, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "--fault '%s': %s", arg, msg);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "--fault '%s': no [port %.*s] in %s", arg, (int)n, arg, c->path);
	return -1;
}

static void
find_file_prefix(struct ph_conf *c)
{
	char buf[sizeof(c->eal_args)];
	char *save = NULL;
	bool next = false;

	strlcpy(c->file_prefix, "rte", sizeof(c->file_prefix));
	strlcpy(buf, c->eal_args, sizeof(buf));
	for (char *t = strtok_r(buf, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
		if (next) {
			strlcpy(c->file_prefix, t, sizeof(c->file_prefix));
			next = false;
		} else if (strncmp(t, "--file-prefix=", 14) == 0) {
			strlcpy(c->file_prefix, t + 14, sizeof(c->file_prefix));
		} else if (strcmp(t, "--file-prefix") == 0) {
			next = true;
		}
	}
}

static int
section_kind(const char *name, const char *kind, const char **rest)
{
	size_t n = strlen(kind);

	if (strncmp(name, kind, n) != 0)
		return 0;
	if (name[n] == '\0') {
		*rest = NULL;
		return 1;
	}
	if (!isspace((unsigned char)name[n]))
		return 0;
	*rest = name + n;
	while (isspace((unsigned char)**rest))
		(*rest)++;
	return 1;
}

static int
conf_parse(struct parser *p)
{
	struct ph_conf *c = p->c;
	const char *rest;
	int rc;

	if (conf_index(p) != 0)
		return -1;
	p->cf = rte_cfgfile_load(p->path, 0);
	if (p->cf == NULL)
		return perr(p, 0, NULL, "cannot be read as an INI file");

	/* Pass 1: section names, EAL, host limits, and context names and numbers. */
	for (unsigned s = 0; s < p->n_secs; s++) {
		const char *name = p->secs[s].name;

		if (strcmp(name, "eal") == 0)
			rc = parse_eal(p, s);
		else if (strcmp(name, "host") == 0)
			rc = parse_host(p, s);
		else if (strcmp(name, "tcp") == 0)
			rc = parse_tcp(p, s);
		else if (section_kind(name, "context", &rest) && rest != NULL)
			rc = parse_ctx_header(p, s, rest);
		else if ((section_kind(name, "port", &rest) || section_kind(name, "vlan", &rest)) &&
		         rest != NULL)
			rc = 0;
		else if (section_kind(name, "service", &rest) && rest != NULL)
			rc = 0;
		else
			rc = perr(
			        p, p->secs[s].line, NULL,
			        "unknown section [%s] (expected [eal], [host], [tcp], [port NAME], "
			        "[vlan NAME], [context NAME], [service NAME])",
			        name);
		if (rc != 0)
			return rc;
	}
	/* Contexts without a number get the lowest free ones. */
	for (unsigned i = 0; i < c->n_ctxs; i++) {
		uint16_t id = 1;

		if (c->ctxs[i].id != UINT16_MAX)
			continue;
		for (bool used = true; used; id++) {
			used = false;
			for (unsigned j = 0; j < c->n_ctxs; j++)
				used |= c->ctxs[j].id == id;
			if (!used)
				break;
		}
		c->ctxs[i].id = id;
	}
	/* Pass 2: ports, then VLANs (they name ports). */
	for (unsigned s = 0; s < p->n_secs; s++)
		if (section_kind(p->secs[s].name, "port", &rest) && rest != NULL &&
		    (rc = parse_port(p, s, rest)) != 0)
			return rc;
	for (unsigned s = 0; s < p->n_secs; s++)
		if (section_kind(p->secs[s].name, "vlan", &rest) && rest != NULL &&
		    (rc = parse_vlan(p, s, rest)) != 0)
			return rc;
	if ((rc = check_addrs(p)) != 0)
		return rc;
	/* Pass 3: routes, which name interfaces and need their subnets. */
	for (unsigned s = 0; s < p->n_secs; s++)
		if (section_kind(p->secs[s].name, "context", &rest) && rest != NULL &&
		    (rc = parse_routes(p, s, rest)) != 0)
			return rc;
	/* Pass 4: services, which name contexts and addresses. */
	for (unsigned s = 0; s < p->n_secs; s++)
		if (section_kind(p->secs[s].name, "service", &rest) && rest != NULL &&
		    (rc = parse_service(p, s, rest)) != 0)
			return rc;
	if (c->n_ports == 0)
		return perr(p, 0, NULL, "no [port NAME] section: the host needs at least one port");
	find_file_prefix(c);
	return 0;
}

struct ph_conf *
ph_conf_load(const char *path, char *err, size_t errlen)
{
	struct parser p = {.path = path, .err = err, .errlen = errlen};
	struct ph_conf *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL || (c->ctxs = calloc(PH_CONF_MAX_CTX, sizeof(*c->ctxs))) == NULL) {
		free(c);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	p.c = c;
	strlcpy(c->path, path, sizeof(c->path));
	strlcpy(c->lcores, "0", sizeof(c->lcores));
	ph_conf_host_defaults(&c->host);
	tcp_conf_defaults(&c->tcp); /* one table of TCP defaults, in tcp_user.c */
	strlcpy(c->ctxs[0].name, PH_CTX_DEFAULT_NAME, sizeof(c->ctxs[0].name));
	c->ctxs[0].id = 0;
	c->ctxs[0].max_routes = PH_CONF_MAX_ROUTES_DEFAULT;
	c->n_ctxs = 1;

	rc = conf_parse(&p);
	if (p.cf != NULL)
		rte_cfgfile_close(p.cf);
	free(p.secs);
	free(p.locs);
	if (rc != 0) {
		ph_conf_free(c);
		return NULL;
	}
	return c;
}

void
ph_conf_free(struct ph_conf *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n_ctxs; i++)
		free(c->ctxs[i].routes);
	free(c->ctxs);
	free(c);
}
