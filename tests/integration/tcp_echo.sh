#!/bin/bash
# TCP echo with the Linux kernel as the peer, through net_tap in a namespace
# of this test's own:
#  - polyhostd's built-in echo and discard services over TCP (and UDP on the
#    same service): socat and nc, one line and 8 MiB compared byte for byte,
#    16 connections at once, discard answering nothing, a closed port
#    refused (RST), clean SIGTERM with every mbuf back;
#  - ph-echo --tcp as the server, Linux socat clients;
#  - ph-echo --tcp as the client, a Linux socat echo server: streaming with
#    several connections, and request/response (--window 1), every byte
#    checked.
# Usage: tcp_echo.sh BUILD_DIR [COUNT]. Exit 0 pass, 1 fail, 77 skip.
set -u
BUILD=$(realpath "$1")
COUNT=${2:-2000}
HERE=$(cd "$(dirname "$0")" && pwd)
NS=ph-$$-t
TAP=pht$$
PREFIX=ph-tcpecho-$$
CONF=/tmp/ph-tcpecho-$$.ini
LOG=/tmp/ph-tcpecho-$$.log
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip socat nc cmp; do command -v $t >/dev/null || skip "$t missing"; done

cleanup() {
	ns_cleanup
	rm -f "$CONF" "$LOG".*
	[ "$FAILED" -eq 0 ] && rm -f "$LOG"
}
trap cleanup EXIT

# roundtrip PORT FILE: FILE through the echo service on PORT, compared.
roundtrip() {
	nsx timeout 60 socat -b 65536 -t 30 - "TCP4:198.18.0.2:$1" < "$2" > "$2.back" 2> "$2.err" &&
		cmp -s "$2" "$2.back"
}
# parallel PORT N BYTES: N connections at once, each BYTES of its own.
parallel() {
	local port=$1 n=$2 bytes=$3 i pids="" rc=0
	for i in $(seq 1 "$n"); do
		head -c "$bytes" /dev/urandom > "$LOG.p$i"
		roundtrip "$port" "$LOG.p$i" &
		pids="$pids $!"
	done
	for i in $pids; do wait "$i" || rc=1; done
	return "$rc"
}

{ tap_host_conf 0-1; cat <<INI
[service echo]
type = echo
listen = tcp:198.18.0.2:7, udp:198.18.0.2:7
[service discard]
type = discard
listen = tcp:0.0.0.0:9
INI
} > "$CONF"

ip netns add "$NS" || skip "cannot create a network namespace"
nsx ip link set lo up

# ---- polyhostd's built-in services ----
if ! polyhostd_start "$NS" "$BUILD" "$CONF" "$LOG"; then
	cat "$LOG"; notok "polyhostd started"; exit 1
fi
ok "polyhostd started with echo on tcp and udp, discard on tcp"
peer_up
out=$(echo "one line" | nsx timeout 10 socat -t 5 - TCP4:198.18.0.2:7 2>&1)
check "socat: a line echoed over TCP ($out)" [ "$out" = "one line" ]
out=$(printf 'nc says hi' | nsx timeout 10 nc -N -w 5 198.18.0.2 7)
check "nc: echoed, closed after the peer's FIN" [ "$out" = "nc says hi" ]
head -c $((8 * 1024 * 1024)) /dev/urandom > "$LOG.big"
check "socat: 8 MiB echoed intact" roundtrip 7 "$LOG.big"
check "16 connections at once, 256 KiB each, all intact" parallel 7 16 262144
out=$(echo "a datagram" | nsx timeout 5 socat - UDP4:198.18.0.2:7)
check "the same service still echoes over UDP" [ "$out" = "a datagram" ]
out=$(head -c 100000 /dev/urandom | nsx timeout 10 nc -N -w 5 198.18.0.2 9 | wc -c)
check "discard: 100000 bytes taken, none answered, closed" [ "$out" -eq 0 ]
out=$(echo x | nsx timeout 10 socat - TCP4:198.18.0.2:5555 2>&1)
check "a closed port is refused (RST)" grep -q "Connection refused" <<< "$out"
check "polyhostd: clean shutdown, no mbuf lost" ns_stop
mbufs_back "$LOG" || notok "mempool report"

# ---- ph-echo --tcp: the server ----
if ! ns_start "$NS" "$LOG" "ph-echo: echo" "$BUILD/apps/ph-echo" -c "$CONF" -- --tcp -p 7000; then
	cat "$LOG"; notok "ph-echo --tcp started"; exit 1
fi
peer_up
out=$(echo "to ph-echo" | nsx timeout 10 socat -t 5 - TCP4:198.18.0.2:7000 2>&1)
check "ph-echo --tcp: a line echoed ($out)" [ "$out" = "to ph-echo" ]
head -c $((4 * 1024 * 1024)) /dev/urandom > "$LOG.big"
check "ph-echo --tcp: 4 MiB echoed intact" roundtrip 7000 "$LOG.big"
check "ph-echo --tcp: 8 connections at once, 512 KiB each" parallel 7000 8 524288
check "ph-echo --tcp: clean shutdown, no mbuf lost" ns_stop

# ---- ph-echo --tcp --client against Linux's socat ----
# Bound to every address: 198.18.0.1 exists only once the client's tap does.
ns_bg timeout 300 socat TCP4-LISTEN:7001,fork,reuseaddr PIPE
# client ADDR:PORT ARGS...: ph-echo's client in the namespace; the kernel side
# is configured once its tap exists, the client retries until it connects.
client() {
	local to=$1; shift
	# Not through nsx: PID must be the program's, not a subshell's. A run
	# that crawls is stopped (SIGTERM: ph-echo reports and fails) in 120 s.
	ip netns exec "$NS" timeout 120 "$BUILD/apps/ph-echo" -c "$CONF" -- --tcp --client "$to" \
		"$@" > "$LOG.phc" 2>&1 &
	PID=$!
	peer_up
	wait "$PID"
}
if client 198.18.0.1:7001 -n "$COUNT" --min 1 --max 16000 --conns 4 --window 8; then
	ok "$(grep 'client: tcp:' "$LOG.phc") (socat, streaming)"
else
	notok "ph-echo --tcp client vs socat: $(tail -25 "$LOG.phc")"
fi
PID=
check "ph-echo --tcp client: every mbuf back at exit" \
	mbufs_back "$LOG.phc"
if client 198.18.0.1:7001 -n 500 --min 1 --max 2000 --window 1; then
	ok "$(grep 'client: tcp:' "$LOG.phc") (socat, request/response)"
else
	notok "ph-echo --tcp client, --window 1: $(tail -25 "$LOG.phc")"
fi
PID=
if client 198.18.0.1:7999 -n 1 --wait 2000; then
	notok "ph-echo --tcp client reports success with no server"
else
	check "ph-echo --tcp client: a refused connection fails the run" \
		grep -q "Connection refused" "$LOG.phc"
fi
PID=

[ "$FAILED" -eq 0 ] || { echo "log: $LOG"; exit 1; }
exit 0
