#!/bin/bash
# HTTP/1.1 with the Linux kernel as the peer, through net_tap in a namespace
# of this test's own:
#  - ph-httpd serving a directory: curl downloads of 1 KiB, 1 MiB and 64 MiB
#    files (SHA-256 compared; LONG=1 adds 1 GiB), a generated body checked
#    byte for byte, HEAD (head only), 404, 405, pipelined requests on one
#    connection, keep-alive (curl's second URL reuses the connection),
#    `ab -n 1000 -c 1`, `ab -n 1000 -c 100` and `ab -n 1000 -c 1000` (a
#    connection per request; the last opens all 1,000 at once),
#    ab with keep-alive and wrk: no failed request, no non-2xx answer;
#  - polyhostd with a `type = http` service beside a TCP echo service (one
#    loop on the worker serves both);
#  - clean SIGTERM with every mbuf back, each time.
# Usage: http.sh BUILD_DIR. LONG=1 in the environment adds the 1 GiB file.
# Exit 0 pass, 1 fail, 77 skip.
set -u
BUILD=$(realpath "$1")
LONG=${LONG:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
NS=ph-$$-h
TAP=phh$$
PREFIX=ph-http-$$
CONF=/tmp/ph-http-$$.ini
LOG=/tmp/ph-http-$$.log
WWW=/tmp/ph-http-$$.www
URL=http://198.18.0.2
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip curl ab nc socat sha256sum; do command -v $t >/dev/null || skip "$t missing"; done

cleanup() {
	ns_cleanup
	rm -rf "$CONF" "$LOG".* "$WWW"
	[ "$FAILED" -eq 0 ] && rm -f "$LOG"
}
trap cleanup EXIT

# fetch_sha URL: the SHA-256 of the body, or nothing if curl failed or the
# status was not 200 (the body goes straight to sha256sum: no copy on disk).
fetch_sha() {
	local out
	out=$( { nsx timeout 300 curl -sS --fail --max-time 280 "$1" || echo FAILED; } |
		sha256sum)
	# A failed curl appended FAILED: the sum is then of something else.
	echo "${out%% *}"
}
sha_of() { sha256sum < "$1" | cut -d' ' -f1; }
# The generated body: 'a' + I % 26 for byte I.
gen_sha() { yes abcdefghijklmnopqrstuvwxyz | tr -d '\n' | head -c "$1" | sha256sum | cut -d' ' -f1; }
# ab_ok LOGFILE N: ab completed N requests, none failed, all 2xx.
ab_ok() {
	grep -q "^Complete requests: *$2\$" "$1" && grep -q "^Failed requests: *0\$" "$1" &&
		! grep -q "Non-2xx" "$1"
}
# nc_closes REQUEST PORT OUT: REQUEST (printf %b escapes) to the server, the
# answer in OUT; true only if the server closed the connection (nc would
# otherwise wait 10 s, keeping its own side open).
nc_closes() {
	local t0=$SECONDS
	printf '%b' "$1" | nsx timeout 20 nc -w 10 198.18.0.2 "$2" > "$3"
	[ $((SECONDS - t0)) -lt 5 ]
}
ab_summary() { grep -E "^(Complete|Failed|Keep-Alive) requests|Requests per second" "$1" | tr -s ' ' | paste -sd';'; }

mkdir -p "$WWW/sub"
head -c 1024 /dev/urandom > "$WWW/f1k"
head -c $((1024 * 1024)) /dev/urandom > "$WWW/f1m"
head -c $((64 * 1024 * 1024)) /dev/urandom > "$WWW/f64m"
[ "$LONG" = 1 ] && head -c $((1024 * 1024 * 1024)) /dev/urandom > "$WWW/f1g"
echo "<h1>polyhost</h1>" > "$WWW/index.html"
echo "below" > "$WWW/sub/index.html"

{ tap_host_conf 0-1; cat <<INI
[service web]
type = http
listen = tcp:198.18.0.2:8080
root = $WWW
body_size = 4096
[service echo]
type = echo
listen = tcp:198.18.0.2:7
INI
} > "$CONF"

ip netns add "$NS" || skip "cannot create a network namespace"
nsx ip link set lo up

# ---- ph-httpd ----
if ! ns_start "$NS" "$LOG" "worker lcores" "$BUILD/apps/ph-httpd" -c "$CONF" -- \
	--listen 198.18.0.2:80 --root "$WWW"; then
	cat "$LOG"; notok "ph-httpd started"; exit 1
fi
ok "ph-httpd started: $(grep 'ph-httpd: root' "$LOG")"
peer_up
SIZES="f1k f1m f64m"
[ "$LONG" = 1 ] && SIZES="$SIZES f1g"
for f in $SIZES; do
	want=$(sha_of "$WWW/$f")
	got=$(fetch_sha "$URL/$f")
	check "curl GET /$f: SHA-256 matches" [ "$got" = "$want" ]
done
check "curl GET /bytes/1000000: the generated body" \
	[ "$(fetch_sha "$URL/bytes/1000000")" = "$(gen_sha 1000000)" ]
check "curl GET /: index.html" [ "$(fetch_sha "$URL/")" = "$(sha_of "$WWW/index.html")" ]
check "curl GET /sub/: its index.html" \
	[ "$(fetch_sha "$URL/sub/")" = "$(sha_of "$WWW/sub/index.html")" ]

# HEAD: the GET's fields, no body (nc shows every byte that came).
printf 'HEAD /f64m HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
	nsx timeout 10 nc -N -w 5 198.18.0.2 80 > "$LOG.head"
check "HEAD /f64m: 200 and Content-Length: 67108864" \
	grep -q $'^Content-Length: 67108864\r$' "$LOG.head"
check "HEAD /f64m: no body after the head" \
	[ "$(tail -c 4 "$LOG.head" | od -An -c | tr -d ' ')" = '\r\n\r\n' ]
out=$(nsx timeout 10 curl -s -o "$LOG.404" -w '%{http_code}' "$URL/no/such/file")
is_404() { [ "$out" = 404 ] && grep -q "404 Not Found" "$LOG.404"; }
check "GET of a missing file: 404 with a body ($out)" is_404
out=$(nsx timeout 10 curl -s -o /dev/null -D - -X POST -d x "$URL/f1k" | tr -d '\r')
is_405() { grep -q "^HTTP/1.1 405" <<< "$out" && grep -q "^Allow: GET, HEAD" <<< "$out"; }
check "POST: 405 with Allow: GET, HEAD" is_405
out=$(printf 'GET / HTTP/1.1\r\n\r\n' | nsx timeout 10 nc -N -w 5 198.18.0.2 80 | head -1)
check "HTTP/1.1 without Host: 400 (RFC 9112 3.2)" grep -q "^HTTP/1.1 400" <<< "$out"
out=$(nsx timeout 10 curl -s -o /dev/null -w '%{http_code}' "$URL/$(head -c 5000 /dev/zero | tr '\0' a)")
check "a 5000-byte target: 414 ($out)" [ "$out" = 414 ]

# Keep-alive: the second URL of one curl goes over the first's connection.
out=$(nsx timeout 20 curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' "$URL/f1k" "$URL/f1m")
check "keep-alive: curl reuses the connection (connects per URL: $out)" [ "$out" = "1 0 " ]
# Pipelining: three requests in one segment, three answers in order (the
# bodies end without a newline: a status line may follow one on its line),
# then the server closes as the last one asked.
pipelined() {
	nc_closes 'GET /bytes/3 HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\nGET /bytes/5 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' 80 "$LOG.pipe" &&
		[ "$(grep -ao 'HTTP/1.1 [0-9]*' "$LOG.pipe" | cut -d' ' -f2 | paste -sd' ')" = "200 404 200" ]
}
check "pipelining: 200, 404, 200 in order, then closed by the server" pipelined
# HTTP/1.0 without keep-alive: answered, then closed by the server.
http10() {
	nc_closes 'GET /bytes/7 HTTP/1.0\r\n\r\n' 80 "$LOG.10" && [ "$(tail -c 7 "$LOG.10")" = abcdefg ]
}
check "HTTP/1.0: answered and closed by the server" http10

nsx timeout 120 ab -n 1000 -c 1 "$URL/f1k" > "$LOG.ab" 2>&1
check "ab -n 1000 -c 1: $(ab_summary "$LOG.ab")" ab_ok "$LOG.ab" 1000
nsx timeout 120 ab -n 1000 -c 100 "$URL/f1k" > "$LOG.ab" 2>&1
check "ab -n 1000 -c 100: $(ab_summary "$LOG.ab")" ab_ok "$LOG.ab" 1000
# 1,000 connections open at once (the listener's backlog, the SYN and accept
# queues, the per-lcore connection table); ab needs the descriptors.
nsx bash -c "ulimit -n 4096; timeout 120 ab -n 1000 -c 1000 -s 60 $URL/f1k" > "$LOG.ab" 2>&1
check "ab -n 1000 -c 1000: $(ab_summary "$LOG.ab")" ab_ok "$LOG.ab" 1000
nsx timeout 120 ab -k -n 5000 -c 20 "$URL/bytes/100" > "$LOG.ab" 2>&1
ab_kept() { ab_ok "$LOG.ab" 5000 && grep -q "^Keep-Alive requests: *5000$" "$LOG.ab"; }
check "ab -k -n 5000 -c 20: $(ab_summary "$LOG.ab")" ab_kept
if command -v wrk > /dev/null; then
	nsx timeout 60 wrk -t 1 -c 50 -d 5s "$URL/f1k" > "$LOG.wrk" 2>&1
	reqs=$(awk '/requests in/ {print $1}' "$LOG.wrk")
	wrk_ok() { [ "${reqs:-0}" -gt 0 ] && ! grep -qE "Socket errors|Non-2xx" "$LOG.wrk"; }
	check "wrk -c 50 -d 5s: ${reqs:-no} requests, no socket error, all 2xx" wrk_ok
fi
check "curl still downloads /f1m after the load" \
	[ "$(fetch_sha "$URL/f1m")" = "$(sha_of "$WWW/f1m")" ]
# Stop with work in progress: a slow download, and a keep-alive connection
# idle after its first request and half of a second.
ip netns exec "$NS" timeout 60 curl -s --limit-rate 1M -o /dev/null "$URL/f64m" &
SLOW=$!
ip netns exec "$NS" timeout 60 sh -c \
	"(printf 'GET /f1k HTTP/1.1\r\nHost: t\r\n\r\nGET /f1' && sleep 50) | nc 198.18.0.2 80" \
	> /dev/null &
IDLE=$!
sleep 2
check "ph-httpd: clean shutdown during a download and with an idle connection, no mbuf lost" \
	ns_stop
kill -TERM "$SLOW" "$IDLE" 2>/dev/null
wait "$SLOW" "$IDLE" 2>/dev/null
mbufs_back "$LOG" || notok "mempool report"

# ---- polyhostd: a type = http service beside a TCP echo service ----
if ! polyhostd_start "$NS" "$BUILD" "$CONF" "$LOG"; then
	cat "$LOG"; notok "polyhostd started"; exit 1
fi
ok "polyhostd started: $(grep 'service web' "$LOG")"
peer_up
check "polyhostd http: GET /f1m, SHA-256 matches" \
	[ "$(fetch_sha "$URL:8080/f1m")" = "$(sha_of "$WWW/f1m")" ]
check "polyhostd http: GET /f64m, SHA-256 matches" \
	[ "$(fetch_sha "$URL:8080/f64m")" = "$(sha_of "$WWW/f64m")" ]
check "polyhostd http: GET / is the 4096-byte generated body (body_size)" \
	[ "$(fetch_sha "$URL:8080/")" = "$(gen_sha 4096)" ]
nsx timeout 120 ab -n 1000 -c 100 "$URL:8080/" > "$LOG.ab" 2>&1
check "polyhostd http: ab -n 1000 -c 100: $(ab_summary "$LOG.ab")" ab_ok "$LOG.ab" 1000
out=$(echo "beside http" | nsx timeout 10 socat -t 5 - TCP4:198.18.0.2:7 2>&1)
check "polyhostd: the TCP echo service answers in the same loop" [ "$out" = "beside http" ]
check "polyhostd: clean shutdown, no mbuf lost" ns_stop
mbufs_back "$LOG" || notok "mempool report"

[ "$FAILED" -eq 0 ] || { echo "log: $LOG"; exit 1; }
exit 0
