/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 server (see http_service.h), an application on the public API.
 *
 * A connection is a small state machine driven by its epoll events:
 *
 *   read   request bytes go to rbuf; complete request heads are parsed one
 *          after another (pipelining) and each one's response is appended
 *          to out, as long as out has room and the previous body is out;
 *   send   out goes to the socket, then the rest of the body: straight from
 *          memory (cached files, the generated pattern) or through out in
 *          chunks pread from disk (big files: nothing holds a whole one);
 *   close  after a response that ends the connection, the write side is
 *          shut and the input drained until the peer closes (RFC 9112 9.6),
 *          so that a close with unread input cannot reset the connection
 *          before the client has read the response.
 *
 * It reads only while nothing waits to be sent, so a client that does not
 * read its responses stops being read (its window closes) instead of making
 * the server buffer without bound. Each event does a bounded amount of work
 * (requests, bytes) and level-triggered epoll brings the connection back, so
 * one connection cannot starve the others of its lcore. A connection with no
 * progress for HTTP_IDLE_MS is closed by the worker's tick.
 *
 * Files are indexed at start-up: the paths under the root, and the contents
 * of the small ones. A path not in the index is 404, so a request can name
 * nothing outside the root. Big files are opened per request and read with
 * pread on the worker lcore: that blocks the lcore while the disk is slow,
 * which the page cache makes rare for the tests and benchmarks this serves.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <polyhost/polyhost.h>

#include "http_service.h"

/* Request head (request line and fields) limit, and the target's. */
#define HTTP_REQ_MAX     8192
#define HTTP_URI_MAX     4096
#define HTTP_MAX_HEADERS 100
/* The output buffer: response heads, small bodies, chunks of big files. */
#define HTTP_OUT_BUF (16 * 1024)
/* Room a response head needs in out before it is built. */
#define HTTP_HEAD_ROOM 1024
/* Per connection event: requests parsed, bytes sent. */
#define HTTP_REQ_BUDGET  32
#define HTTP_SEND_BUDGET (512 * 1024)
/* No progress for this long closes a connection; a closing one waits this
 * long for the peer's FIN. */
#define HTTP_IDLE_MS   60000
#define HTTP_LINGER_MS 2000
/* The index: files cached in memory up to these sizes, walk limits. */
#define HTTP_CACHE_FILE_MAX  (1024 * 1024)
#define HTTP_CACHE_TOTAL_MAX (256 * 1024 * 1024)
#define HTTP_MAX_FILES       100000
#define HTTP_MAX_DEPTH       16
/* The generated body: byte I is 'a' + I % 26, sent from a pattern buffer of
 * HTTP_GEN_CHUNK bytes plus one period, starting at offset I % 26. */
#define HTTP_GEN_CHUNK  65536
#define HTTP_GEN_PERIOD 26
#define HTTP_GEN_MAX    (1ull << 40)

struct http_file {
	char *path; /* "/dir/name", as requested */
	uint64_t size;
	char *data; /* the contents, or NULL: read from disk per request */
	const char *type;
};

/* ---- the site: files under the root ---- */

static const char *
content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	        {".html", "text/html; charset=utf-8"},
	        {".htm", "text/html; charset=utf-8"},
	        {".txt", "text/plain; charset=utf-8"},
	        {".css", "text/css"},
	        {".js", "text/javascript"}, /* RFC 9239 */
	        {".json", "application/json"},
	        {".png", "image/png"},
	        {".jpg", "image/jpeg"},
	        {".jpeg", "image/jpeg"},
	        {".gif", "image/gif"},
	        {".svg", "image/svg+xml"},
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static int
read_whole(const char *file, char *buf, size_t size)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -1;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n <= 0) {
			close(fd);
			errno = n == 0 ? EIO : errno; /* the file shrank under us */
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

static int
site_add(struct http_site *site, const char *rel, const char *abs, uint64_t size, char *err,
         size_t errlen)
{
	struct http_file *f;

	if (site->n_files == HTTP_MAX_FILES) {
		snprintf(err, errlen, "%s: more than %d files", site->root, HTTP_MAX_FILES);
		return -1;
	}
	f = reallocarray(site->files, site->n_files + 1, sizeof(*f));
	if (f == NULL)
		goto nomem;
	site->files = f;
	f = &site->files[site->n_files];
	*f = (struct http_file){.size = size, .type = content_type(rel)};
	f->path = strdup(rel);
	if (f->path == NULL)
		goto nomem;
	if (size <= HTTP_CACHE_FILE_MAX && site->cached_bytes + size <= HTTP_CACHE_TOTAL_MAX) {
		f->data = malloc(size > 0 ? size : 1);
		if (f->data == NULL) {
			free(f->path);
			goto nomem;
		}
		if (read_whole(abs, f->data, size) < 0) {
			snprintf(err, errlen, "%s: %s", abs, strerror(errno));
			free(f->data);
			free(f->path);
			return -1;
		}
		site->cached_bytes += size;
	}
	site->n_files++;
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", site->root);
	return -1;
}

/* Index directory REL (relative to the root, "" for the root itself). */
static int
site_walk(struct http_site *site, const char *rel, int depth, char *err, size_t errlen)
{
	char abs[8192];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(abs, sizeof(abs), "%s%s", site->root, rel);
	d = opendir(abs);
	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", abs, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char sub_rel[4096], sub_abs[8192];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(sub_rel, sizeof(sub_rel), "%s/%s", rel, de->d_name) >=
		    sizeof(sub_rel))
			continue; /* a path no request could name */
		snprintf(sub_abs, sizeof(sub_abs), "%s%s", site->root, sub_rel);
		/* stat, not lstat: links are served as what they point to. */
		if (stat(sub_abs, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			/* The depth bound also ends loops of directory links. */
			if (depth < HTTP_MAX_DEPTH)
				rc = site_walk(site, sub_rel, depth + 1, err, errlen);
		} else if (S_ISREG(st.st_mode)) {
			rc = site_add(site, sub_rel, sub_abs, (uint64_t)st.st_size, err, errlen);
		}
	}
	closedir(d);
	return rc;
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct http_file *)a)->path, ((const struct http_file *)b)->path);
}

int
http_site_load(struct http_site *site, const char *root, uint64_t body_size, char *err,
               size_t errlen)
{
	*site = (struct http_site){.body_size = body_size};
	site->gen = malloc(HTTP_GEN_CHUNK + HTTP_GEN_PERIOD);
	if (site->gen == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < HTTP_GEN_CHUNK + HTTP_GEN_PERIOD; i++)
		site->gen[i] = (char)('a' + i % HTTP_GEN_PERIOD);
	if (root == NULL || root[0] == '\0')
		return 0;
	if (strlen(root) >= sizeof(site->root)) {
		snprintf(err, errlen, "%s: path too long", root);
		http_site_free(site);
		return -1;
	}
	/* Without its trailing slashes: request paths bring their own. */
	strcpy(site->root, root);
	for (size_t n = strlen(site->root); n > 1 && site->root[n - 1] == '/'; n--)
		site->root[n - 1] = '\0';
	if (site_walk(site, "", 0, err, errlen) < 0) {
		http_site_free(site);
		return -1;
	}
	qsort(site->files, site->n_files, sizeof(*site->files), file_cmp);
	return 0;
}

void
http_site_free(struct http_site *site)
{
	for (size_t i = 0; i < site->n_files; i++) {
		free(site->files[i].path);
		free(site->files[i].data);
	}
	free(site->files);
	free(site->gen);
	*site = (struct http_site){0};
}

static const struct http_file *
site_lookup(const struct http_site *site, const char *path)
{
	struct http_file key = {.path = (char *)(uintptr_t)path};

	return bsearch(&key, site->files, site->n_files, sizeof(*site->files), file_cmp);
}

/* ---- connections ---- */

enum body_kind {
	BODY_NONE,
	BODY_MEM,  /* mem[0, body_len) */
	BODY_GEN,  /* the site's pattern */
	BODY_FILE, /* file_fd, through out */
};

struct http_worker;

struct http_sock {
	struct svc_handler h; /* first: epoll's data.ptr points here */
	struct http_worker *w;
	const struct http_listen *l;
	int fd;
};

struct http_conn {
	struct svc_conn sc; /* first */
	struct http_worker *w;
	const struct http_site *site;
	uint64_t last_ms;    /* last event, for the idle timer */
	bool close_after;    /* the response being sent ends the connection */
	bool lingering;      /* write side shut, draining input until the FIN */
	uint64_t linger_end; /* when lingering gives up */
	bool keep_alive_hdr; /* an HTTP/1.0 client asked for keep-alive */
	/* Input: rbuf[rpos, rlen) is not parsed yet; SKIP bytes of a request
	 * body are still to come and be dropped. */
	uint32_t rpos, rlen;
	uint64_t skip;
	/* Output: out[ooff, olen), then the body from body_off to body_len. */
	uint32_t ooff, olen;
	enum body_kind kind;
	const char *mem;
	int file_fd;
	uint64_t body_off, body_len;
	char rbuf[HTTP_REQ_MAX];
	char out[HTTP_OUT_BUF];
};

struct http_worker {
	const struct http_config *cfg;
	struct http_sock socks[HTTP_MAX_LISTEN];
	unsigned n_socks;
	struct svc_conns conns;
	uint64_t now_ms;   /* as of the last tick */
	uint64_t swept_ms; /* last look for idle connections */
	time_t date_sec;
	char date[40]; /* the Date field (RFC 9110 6.6.1), redone each second */
	uint64_t n_conns, n_requests, n_class[6], n_bytes;
};

/* What svc_conn_close() frees besides the descriptor and the memory. */
static void
conn_release(struct svc_conn *sc)
{
	struct http_conn *c = (struct http_conn *)sc;

	if (c->file_fd >= 0)
		close(c->file_fd);
}

/* Reason phrases and the bodies of error responses. */
static const struct http_status {
	int code;
	const char *reason, *body;
} statuses[] = {
        {200, "OK", ""},
        {400, "Bad Request", "400 Bad Request\n"},
        {404, "Not Found", "404 Not Found\n"},
        {405, "Method Not Allowed", "405 Method Not Allowed\n"},
        {414, "URI Too Long", "414 URI Too Long\n"},
        {431, "Request Header Fields Too Large", "431 Request Header Fields Too Large\n"},
        {500, "Internal Server Error", "500 Internal Server Error\n"},
        {501, "Not Implemented", "501 Not Implemented\n"},
        {505, "HTTP Version Not Supported", "505 HTTP Version Not Supported\n"},
};

static const struct http_status *
status_of(int code)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].code == code)
			return &statuses[i];
	return status_of(500);
}

/*
 * Append a response head to out and set up its body; HEAD (RFC 9110 9.3.2)
 * gets the same fields and no body. The first part of the body joins the
 * head in out, so a small response leaves in one send.
 */
static int
respond(struct http_conn *c, int status, const char *type, enum body_kind kind, const char *mem,
        uint64_t length, bool head, const char *extra)
{
	struct http_worker *w = c->w;
	uint32_t room;
	int n;

	n = snprintf(c->out + c->olen, sizeof(c->out) - c->olen,
	             "HTTP/1.1 %d %s\r\n"
	             "Server: polyhost\r\n"
	             "Date: %s\r\n"
	             "Content-Type: %s\r\n"
	             "Content-Length: %" PRIu64 "\r\n"
	             "%s%s\r\n",
	             status, status_of(status)->reason, w->date, type, length,
	             c->close_after      ? "Connection: close\r\n"
	             : c->keep_alive_hdr ? "Connection: keep-alive\r\n"
	                                 : "",
	             extra != NULL ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(c->out) - c->olen)
		return -1; /* cannot happen: HTTP_HEAD_ROOM was checked */
	c->olen += (uint32_t)n;
	w->n_requests++;
	w->n_class[status / 100 < 6 ? status / 100 : 5]++;
	c->kind = head ? BODY_NONE : kind;
	c->mem = mem;
	c->body_off = 0;
	c->body_len = head ? 0 : length;
	room = (uint32_t)sizeof(c->out) - c->olen;
	if (c->kind == BODY_MEM || c->kind == BODY_GEN) {
		uint32_t k = c->body_len < room ? (uint32_t)c->body_len : room;
		const char *src = c->kind == BODY_MEM ? c->mem : c->site->gen;

		memcpy(c->out + c->olen, src, k);
		c->olen += k;
		c->body_off = k;
	}
	return 0;
}

/* An error response with a short text body; CLOSE ends the connection
 * after it (the request's framing cannot be trusted). */
static void
respond_error(struct http_conn *c, int status, bool head, bool close)
{
	const char *body = status_of(status)->body;

	c->close_after |= close;
	respond(c, status, "text/plain; charset=utf-8", BODY_MEM, body, strlen(body), head,
	        status == 405 ? "Allow: GET, HEAD\r\n" : NULL);
}

/* ---- requests ---- */

struct http_req {
	const char *method, *target;
	size_t method_len, target_len;
	unsigned minor; /* HTTP/1.MINOR */
	bool conn_close, conn_keep_alive;
	unsigned n_host;
	bool has_length;
	uint64_t length;
	size_t head_len;
	bool line_done; /* the request line was complete */
};

/* RFC 9110 5.6.2: tchar. */
static bool
is_tchar(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static bool
is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

static bool
name_is(const char *s, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(s, name, n) == 0;
}

/* The next line of BUF[*POS, LEN): its start and length without CRLF or LF
 * (RFC 9112 2.2 lets a recipient take a bare LF as the end of a line). -1
 * when incomplete, -2 for a bare CR inside it. */
static int
next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *n)
{
	const char *eol = memchr(buf + *pos, '\n', len - *pos);

	if (eol == NULL)
		return -1;
	*line = buf + *pos;
	*n = (size_t)(eol - *line);
	*pos = (size_t)(eol - buf) + 1;
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	/* RFC 9112 2.2: a bare CR is invalid. */
	if (memchr(*line, '\r', *n) != NULL)
		return -2;
	return 0;
}

/* Connection: close, keep-alive (RFC 9110 7.6.1; tokens, any case). */
static void
parse_connection(struct http_req *r, const char *v, size_t n)
{
	while (n > 0) {
		const char *comma = memchr(v, ',', n);
		size_t k = comma != NULL ? (size_t)(comma - v) : n, t = k;
		const char *s = v;

		while (t > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			t--;
		}
		while (t > 0 && (s[t - 1] == ' ' || s[t - 1] == '\t'))
			t--;
		if (name_is(s, t, "close"))
			r->conn_close = true;
		else if (name_is(s, t, "keep-alive"))
			r->conn_keep_alive = true;
		if (comma == NULL)
			break;
		v += k + 1;
		n -= k + 1;
	}
}

/* One field line: 0, or the error status. */
static int
parse_field(struct http_req *r, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n), *v;
	size_t vn;

	/* RFC 9112 5.2: obsolete line folding may be rejected with 400. */
	if (line[0] == ' ' || line[0] == '\t')
		return 400;
	/* RFC 9112 5.1: whitespace before the colon MUST be rejected with 400. */
	if (colon == NULL || !is_token(line, (size_t)(colon - line)))
		return 400;
	v = colon + 1;
	vn = n - (size_t)(v - line);
	while (vn > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vn--;
	}
	while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	/* RFC 9110 5.5: a value with NUL (or CR, LF) MUST be rejected. */
	if (memchr(v, '\0', vn) != NULL)
		return 400;
	n = (size_t)(colon - line);
	if (name_is(line, n, "host")) {
		r->n_host++;
	} else if (name_is(line, n, "content-length")) {
		uint64_t len = 0;

		/* RFC 9112 6.3: an invalid or conflicting length is an
		 * unrecoverable framing error: 400. */
		if (vn == 0 || vn > 18)
			return 400;
		for (size_t i = 0; i < vn; i++) {
			if (v[i] < '0' || v[i] > '9')
				return 400;
			len = len * 10 + (uint64_t)(v[i] - '0');
		}
		if (r->has_length && r->length != len)
			return 400;
		r->has_length = true;
		r->length = len;
	} else if (name_is(line, n, "transfer-encoding")) {
		/* RFC 9112 6.1: a transfer coding the server does not
		 * understand gets 501; this one decodes none, so the body's
		 * end is unknown and the connection must close. */
		return 501;
	} else if (name_is(line, n, "connection")) {
		parse_connection(r, v, vn);
	}
	return 0;
}

/*
 * Parse the request head at BUF[0, LEN): 0 while it is incomplete, 200 when
 * R holds it, or the status of the error to answer with.
 */
static int
parse_head(const char *buf, size_t len, struct http_req *r)
{
	const char *line, *sp1, *sp2, *ver;
	size_t pos = 0, n;
	unsigned fields = 0;
	int rc;

	*r = (struct http_req){0};
	/* RFC 9112 2.2: empty lines before the request line are ignored. */
	do {
		rc = next_line(buf, len, &pos, &line, &n);
		if (rc == -1)
			return len > HTTP_URI_MAX + 64 ? 414 : 0;
		if (rc == -2)
			return 400;
	} while (n == 0);
	r->line_done = true;
	/* RFC 9112 3: method SP request-target SP HTTP-version. */
	sp1 = memchr(line, ' ', n);
	if (sp1 == NULL)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line));
	if (sp2 == NULL)
		return 400;
	r->method = line;
	r->method_len = (size_t)(sp1 - line);
	r->target = sp1 + 1;
	r->target_len = (size_t)(sp2 - r->target);
	ver = sp2 + 1;
	if (!is_token(r->method, r->method_len) || r->target_len == 0)
		return 400;
	if (r->target_len > HTTP_URI_MAX)
		return 414; /* RFC 9112 3: SHOULD answer 414 to a target too long */
	for (size_t i = 0; i < r->target_len; i++)
		if ((unsigned char)r->target[i] <= ' ' || r->target[i] == 0x7f)
			return 400;
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3). */
	if ((size_t)(line + n - ver) != 8 || strncmp(ver, "HTTP/", 5) != 0 || ver[5] < '0' ||
	    ver[5] > '9' || ver[6] != '.' || ver[7] < '0' || ver[7] > '9')
		return 400;
	if (ver[5] != '1')
		return 505;
	r->minor = (unsigned)(ver[7] - '0');
	for (;;) {
		rc = next_line(buf, len, &pos, &line, &n);
		if (rc == -1)
			return 0;
		if (rc == -2)
			return 400;
		if (n == 0)
			break;
		if (++fields > HTTP_MAX_HEADERS)
			return 431;
		if ((rc = parse_field(r, line, n)) != 0)
			return rc;
	}
	/* RFC 9112 3.2: an HTTP/1.1 request without Host, or with several,
	 * MUST get 400. */
	if ((r->minor >= 1 && r->n_host == 0) || r->n_host > 1)
		return 400;
	r->head_len = pos;
	return 200;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The path of the target, percent-decoded into OUT (HTTP_URI_MAX + 16
 * bytes): 0, or the error status. */
static int
target_path(const char *t, size_t n, char *out)
{
	size_t o = 0;

	/* Absolute form (RFC 9112 3.2.2): the path after the authority. */
	if (n > 0 && t[0] != '/') {
		size_t skip = n >= 7 && strncasecmp(t, "http://", 7) == 0    ? 7
		              : n >= 8 && strncasecmp(t, "https://", 8) == 0 ? 8
		                                                             : 0;
		const char *slash = memchr(t + skip, '/', n - skip);

		/* Not absolute either; the asterisk form is OPTIONS' only. */
		if (skip == 0)
			return 400;
		if (slash == NULL) {
			strcpy(out, "/");
			return 0;
		}
		n -= (size_t)(slash - t);
		t = slash;
	}
	if (n == 0)
		return 400;
	for (size_t i = 0; i < n && t[i] != '?' && t[i] != '#'; i++) {
		char ch = t[i];

		if (ch == '%') {
			int hi = i + 2 < n ? hexval(t[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(t[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return 400;
			ch = (char)(hi * 16 + lo);
			if (ch == '\0')
				return 400;
			i += 2;
		}
		out[o++] = ch;
	}
	out[o] = '\0';
	return 0;
}

/* A decimal N of "/bytes/N", at most HTTP_GEN_MAX; false if it is not one. */
static bool
parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || strlen(s) > 13)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > HTTP_GEN_MAX)
		return false;
	*out = v;
	return true;
}

/* Open a big file for its body; -1 when it cannot be served (404). */
static int
open_file(struct http_conn *c, const struct http_file *f, uint64_t *size)
{
	char abs[8192];
	struct stat st;
	int fd;

	snprintf(abs, sizeof(abs), "%s%s", c->site->root, f->path);
	fd = open(abs, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* The size now, not at start-up: Content-Length must be exact. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

/* Answer one parsed request. */
static void
serve(struct http_conn *c, const struct http_req *r)
{
	static const char *const known[] = {"POST",    "PUT",   "DELETE", "CONNECT",
	                                    "OPTIONS", "TRACE", "PATCH",  NULL};
	/* Methods are case-sensitive (RFC 9110 9.1). */
	bool head = r->method_len == 4 && strncmp(r->method, "HEAD", 4) == 0;
	bool get = r->method_len == 3 && strncmp(r->method, "GET", 3) == 0;
	const struct http_site *site = c->site;
	const struct http_file *f;
	char path[HTTP_URI_MAX + 16];
	uint64_t size;
	int st;

	/* RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". */
	if (r->conn_close || (r->minor == 0 && !r->conn_keep_alive))
		c->close_after = true;
	c->keep_alive_hdr = r->minor == 0 && !c->close_after;
	if (!get && !head) {
		bool is_known = false;

		for (const char *const *m = known; *m != NULL; m++)
			is_known |= r->method_len == strlen(*m) &&
			            strncmp(r->method, *m, r->method_len) == 0;
		/* RFC 9110 15.5.6: 405 lists the methods there are (Allow);
		 * 15.6.2: 501 for a method the server does not know. */
		respond_error(c, is_known ? 405 : 501, false, false);
		return;
	}
	if ((st = target_path(r->target, r->target_len, path)) != 0) {
		respond_error(c, st, head, true);
		return;
	}
	if (strncmp(path, "/bytes/", 7) == 0) {
		if (!parse_size(path + 7, &size))
			respond_error(c, 404, head, false);
		else
			respond(c, 200, "application/octet-stream", BODY_GEN, NULL, size, head,
			        NULL);
		return;
	}
	if (strcmp(path, "/") == 0 && site->body_size > 0) {
		respond(c, 200, "application/octet-stream", BODY_GEN, NULL, site->body_size, head,
		        NULL);
		return;
	}
	if (path[strlen(path) - 1] == '/')
		strcat(path, "index.html");
	f = site_lookup(site, path);
	if (f == NULL) {
		respond_error(c, 404, head, false);
		return;
	}
	if (f->data != NULL || head) {
		respond(c, 200, f->type, BODY_MEM, f->data, f->size, head, NULL);
		return;
	}
	c->file_fd = open_file(c, f, &size);
	if (c->file_fd < 0) {
		respond_error(c, 404, head, false);
		return;
	}
	respond(c, 200, f->type, BODY_FILE, NULL, size, false, NULL);
	if (size == 0) {
		close(c->file_fd);
		c->file_fd = -1;
	}
}

/*
 * Take the next request from rbuf and build its response: true when one was
 * built (maybe an error that ends the connection), false when more input is
 * needed first.
 */
static bool
next_request(struct http_conn *c)
{
	struct http_req r;
	int st;

	if (c->skip > 0) {
		/* The body of the previous request: this server needs none. */
		uint32_t k = c->rlen - c->rpos;

		if (c->skip < k)
			k = (uint32_t)c->skip;
		c->rpos += k;
		c->skip -= k;
		if (c->skip > 0) {
			c->rpos = c->rlen = 0;
			return false;
		}
	}
	st = parse_head(c->rbuf + c->rpos, c->rlen - c->rpos, &r);
	if (st == 0) {
		/* Incomplete: keep what came, at the start of the buffer. */
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
		if (c->rlen < sizeof(c->rbuf))
			return false;
		/* RFC 9112 3: a request line too long is 414; RFC 6585 5: a
		 * head too large is 431. */
		st = r.line_done ? 431 : 414;
	}
	if (st != 200) {
		c->rpos = c->rlen = 0;
		respond_error(c, st, false, true);
		return true;
	}
	c->rpos += (uint32_t)r.head_len;
	c->skip = r.has_length ? r.length : 0;
	serve(c, &r);
	return true;
}

/* ---- the connection's event handler ---- */

/* Send out, then the body. 1 when all is sent, 0 when the socket is full
 * (EPOLLOUT watched), -1 when C was closed. */
static int
conn_flush(struct http_conn *c, size_t *budget)
{
	for (;;) {
		const char *src;
		uint64_t want;
		ssize_t n;

		if (c->ooff < c->olen) {
			n = ph_send(c->sc.fd, c->out + c->ooff, c->olen - c->ooff, 0);
			if (n < 0)
				goto send_failed;
			c->ooff += (uint32_t)n;
			c->w->n_bytes += (uint64_t)n;
			*budget -= (size_t)n < *budget ? (size_t)n : *budget;
			if (c->ooff < c->olen)
				return svc_conn_watch(&c->sc, EPOLLOUT) ? 0 : -1;
			c->ooff = c->olen = 0;
		}
		if (c->body_off == c->body_len) {
			if (c->file_fd >= 0) {
				close(c->file_fd);
				c->file_fd = -1;
			}
			c->kind = BODY_NONE;
			return 1;
		}
		if (*budget == 0)
			return svc_conn_watch(&c->sc, EPOLLOUT) ? 0 : -1;
		want = c->body_len - c->body_off;
		if (c->kind == BODY_FILE) {
			ssize_t got = pread(c->file_fd, c->out,
			                    want < sizeof(c->out) ? want : sizeof(c->out),
			                    (off_t)c->body_off);

			if (got <= 0) {
				/* The file shrank or failed: the promised length
				 * cannot be kept, so the connection ends. */
				svc_conn_close(&c->sc);
				return -1;
			}
			c->olen = (uint32_t)got;
			c->body_off += (uint64_t)got;
			continue;
		}
		if (c->kind == BODY_MEM) {
			src = c->mem + c->body_off;
		} else {
			src = c->site->gen + c->body_off % HTTP_GEN_PERIOD;
			if (want > HTTP_GEN_CHUNK)
				want = HTTP_GEN_CHUNK;
		}
		if (want > *budget)
			want = *budget;
		n = ph_send(c->sc.fd, src, want, 0);
		if (n < 0)
			goto send_failed;
		c->body_off += (uint64_t)n;
		c->w->n_bytes += (uint64_t)n;
		*budget -= (size_t)n < *budget ? (size_t)n : *budget;
		if ((uint64_t)n < want)
			return svc_conn_watch(&c->sc, EPOLLOUT) ? 0 : -1;
	}
send_failed:
	if (errno == EAGAIN)
		return svc_conn_watch(&c->sc, EPOLLOUT) ? 0 : -1;
	svc_conn_close(&c->sc);
	return -1;
}

/* The response that ends the connection is out: shut the write side and
 * drain the input until the peer closes (RFC 9112 9.6). */
static void
conn_linger(struct http_conn *c)
{
	if (ph_shutdown(c->sc.fd, SHUT_WR) < 0) {
		svc_conn_close(&c->sc);
		return;
	}
	c->lingering = true;
	c->linger_end = c->w->now_ms + HTTP_LINGER_MS;
	svc_conn_watch(&c->sc, EPOLLIN);
}

static void
linger_event(struct http_conn *c)
{
	for (size_t budget = HTTP_SEND_BUDGET; budget > 0;) {
		ssize_t n = ph_recv(c->sc.fd, c->rbuf, sizeof(c->rbuf), 0);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			svc_conn_close(&c->sc);
			return;
		}
		budget -= (size_t)n < budget ? (size_t)n : budget;
	}
}

static void
conn_event(struct svc_handler *h, uint32_t events)
{
	struct http_conn *c = (struct http_conn *)h;
	size_t budget = HTTP_SEND_BUDGET;
	int reqs = HTTP_REQ_BUDGET;

	c->last_ms = c->w->now_ms;
	/* Reset, or both directions closed: nothing can be delivered. */
	if (events & (EPOLLERR | EPOLLHUP)) {
		svc_conn_close(&c->sc);
		return;
	}
	if (c->lingering) {
		linger_event(c);
		return;
	}
	for (;;) {
		ssize_t n;

		/* Responses for the requests already here, while they fit. */
		while (!c->close_after && c->body_off == c->body_len && reqs > 0 &&
		       sizeof(c->out) - c->olen >= HTTP_HEAD_ROOM && next_request(c))
			reqs--;
		if (c->ooff < c->olen || c->body_off < c->body_len) {
			int rc = conn_flush(c, &budget);

			if (rc <= 0)
				return;
			continue;
		}
		if (c->close_after) {
			conn_linger(c);
			return;
		}
		if (reqs == 0 || budget == 0) {
			/* More may be buffered: writable brings us back after
			 * the other connections had their turn. */
			svc_conn_watch(&c->sc, EPOLLOUT);
			return;
		}
		/* Everything answered: read more. */
		n = ph_recv(c->sc.fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);
		if (n > 0) {
			c->rlen += (uint32_t)n;
			budget -= (size_t)n < budget ? (size_t)n : budget;
		} else if (n < 0 && errno == EAGAIN) {
			svc_conn_watch(&c->sc, EPOLLIN);
			return;
		} else {
			/* The peer's FIN (what is left is an incomplete request,
			 * answered by nothing) or an error. */
			svc_conn_close(&c->sc);
			return;
		}
	}
}

/* A new connection of the listener ARG, before svc_accept() fills in the rest. */
static void
conn_init(struct svc_conn *sc, void *arg)
{
	struct http_conn *c = (struct http_conn *)sc;
	const struct http_sock *s = arg;

	/* Not a compound literal: the buffers need no zeroing. */
	memset(c, 0, offsetof(struct http_conn, rbuf));
	c->w = s->w;
	c->site = s->l->site;
	c->file_fd = -1;
	c->last_ms = s->w->now_ms;
}

static void
listener_event(struct svc_handler *h, uint32_t events)
{
	struct http_sock *s = (struct http_sock *)h;

	(void)events;
	s->w->n_conns +=
	        svc_accept(&s->w->conns, s->fd, sizeof(struct http_conn), conn_event, conn_init, s);
}

/* ---- the worker ---- */

static void
update_date(struct http_worker *w)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now == w->date_sec)
		return;
	w->date_sec = now;
	/* IMF-fixdate (RFC 9110 5.6.7); the C locale's names are English. */
	gmtime_r(&now, &tm);
	strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void
http_worker_tick(void *arg, uint64_t now_ms)
{
	struct http_worker *w = arg;
	struct svc_conn *next;

	w->now_ms = now_ms;
	update_date(w);
	if (now_ms - w->swept_ms < 1000)
		return;
	w->swept_ms = now_ms;
	for (struct svc_conn *sc = w->conns.head; sc != NULL; sc = next) {
		struct http_conn *c = (struct http_conn *)sc;

		next = sc->next;
		if ((c->lingering && now_ms >= c->linger_end) ||
		    now_ms - c->last_ms >= HTTP_IDLE_MS)
			svc_conn_close(&c->sc);
	}
}

static void
http_worker_stop(void *arg)
{
	struct http_worker *w = arg;

	if (w->n_conns > 0)
		printf("http: lcore %d: %" PRIu64 " connections, %" PRIu64
		       " responses (2xx %" PRIu64 ", 4xx %" PRIu64 ", 5xx %" PRIu64 "), %" PRIu64
		       " bytes\n",
		       ph_lcore_index(), w->n_conns, w->n_requests, w->n_class[2], w->n_class[4],
		       w->n_class[5], w->n_bytes);
	svc_conns_close(&w->conns);
	for (unsigned i = 0; i < w->n_socks; i++)
		ph_close(w->socks[i].fd);
	free(w);
}

static void *
http_worker_start(const void *arg, int ep)
{
	const struct http_config *cfg = arg;
	struct http_worker *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		fprintf(stderr, "http: lcore %d: out of memory\n", ph_lcore_index());
		return NULL;
	}
	w->cfg = cfg;
	w->conns = (struct svc_conns){.ep = ep, .release = conn_release};
	w->now_ms = svc_now_ms();
	update_date(w);
	for (unsigned i = 0; i < cfg->n_listen; i++) {
		const struct http_listen *l = &cfg->listen[i];
		struct http_sock *s = &w->socks[i];
		char ip[INET_ADDRSTRLEN];
		struct in_addr a = {.s_addr = htonl(l->ip)};
		const char *what;

		*s = (struct http_sock){.h.on_event = listener_event, .w = w, .l = l};
		s->fd = svc_listen(ep, &s->h, SOCK_STREAM, l->ip, l->port, l->ctx, 0, &what);
		if (s->fd < 0) {
			int err = errno;

			fprintf(stderr, "http: %s: tcp:%s:%u (context %d): %s\n", l->name,
			        inet_ntop(AF_INET, &a, ip, sizeof(ip)), l->port, l->ctx,
			        strerror(err));
			http_worker_stop(w);
			errno = err;
			return NULL;
		}
		w->n_socks++;
	}
	return w;
}

const struct svc_ops http_ops = {
        .start = http_worker_start,
        .tick = http_worker_tick,
        .stop = http_worker_stop,
};

int
http_service_worker(void *arg)
{
	struct svc_service s = {.ops = &http_ops, .cfg = arg};

	return svc_run("http", &s, 1);
}
