#!/bin/bash
# `make run`: polyhostd with config/demo.ini on a net_tap port inside a network
# namespace made for the demo; the Linux kernel in that namespace is the peer
# (ARP, ping, fragmented ping, the UDP and TCP echo services with socat, the
# HTTP service with curl), phctl reports what the host saw, then SIGTERM,
# the shutdown counters, and the namespace is removed.
# Usage: demo.sh BUILD_DIR
set -u
BUILD=$(realpath "${1:-build}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONF=$ROOT/config/demo.ini
NS=ph-demo-$$
LOG=/tmp/ph-demo-$$.log
PREFIX=polyhost-demo
PID=
# shellcheck source=scripts/polyhostd-ns.sh
. "$ROOT/scripts/polyhostd-ns.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, tap devices)" >&2
	exit 1
fi
cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -TERM "$PID"
		for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$PID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	rm -f "$LOG"
	rm -rf "/var/run/dpdk/$PREFIX"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
nsx() { ip netns exec "$NS" "$@"; }
phctl() { "$BUILD/apps/phctl" -p "$PREFIX" "$@"; }

say "starting polyhostd -c config/demo.ini in network namespace $NS"
ip netns add "$NS"
nsx ip link set lo up
if ! polyhostd_start "$NS" "$BUILD" "$CONF" "$LOG"; then
	cat "$LOG"
	echo "demo: polyhostd did not start" >&2
	exit 1
fi
grep "^polyhostd:" "$LOG"

say "Linux peer: 198.18.0.1/24 on ph0 (the tap's kernel side, MAC 02:00:00:00:00:01)"
tap_peer_up "$NS" ph0 198.18.0.1/24 02:00:00:00:00:01

say "arping -c 3 198.18.0.2 (ARP, RFC 826)"
nsx arping -c 3 -w 5 -I ph0 198.18.0.2
say "ping -c 5 198.18.0.2 (ICMP echo)"
nsx ping -c 5 -i 0.2 198.18.0.2
say "ping -c 3 -s 8000 198.18.0.2 (6 fragments each way: reassembly and fragmentation)"
nsx ping -c 3 -i 0.2 -s 8000 198.18.0.2
say "ping -c 2 198.18.0.255 -b (broadcast echo: ignored, like Linux)"
nsx ping -c 2 -i 0.2 -W 1 -b 198.18.0.255 2>&1 | tail -2
say "UDP echo service (RFC 862) on 198.18.0.2:7: socat sends, polyhost echoes"
echo "hello from the Linux kernel" | nsx timeout 5 socat - UDP4:198.18.0.2:7
say "a 6000-byte datagram: fragmented both ways, every byte compared"
head -c 6000 /dev/urandom > "$LOG.in"
nsx timeout 5 socat -b 65536 - UDP4:198.18.0.2:7 < "$LOG.in" > "$LOG.out"
cmp "$LOG.in" "$LOG.out" && echo "6000 bytes echoed intact"
rm -f "$LOG.in" "$LOG.out"
say "a datagram to closed port 5555: ICMP port unreachable, so the kernel says 'Connection refused'"
echo x | nsx timeout 3 socat - UDP4:198.18.0.2:5555 2>&1 | sed 's/^.*socat\[[0-9]*\] //'

say "TCP echo service on 198.18.0.2:7: socat connects, sends a line, reads it back"
echo "hello over TCP" | nsx timeout 5 socat -t 2 - TCP4:198.18.0.2:7
say "TCP: 8 MiB through the echo service, every byte compared"
head -c 8M /dev/urandom > "$LOG.in"
nsx timeout 30 socat -b 65536 -t 5 - TCP4:198.18.0.2:7 < "$LOG.in" > "$LOG.out"
cmp "$LOG.in" "$LOG.out" && echo "8 MiB echoed intact"
rm -f "$LOG.in" "$LOG.out"
say "HTTP service on 198.18.0.2:80: curl GET /bytes/67108864 (64 MiB)"
nsx timeout 60 curl -s -o /dev/null -w 'HTTP %{http_code}, %{size_download} bytes in %{time_total} s\n' \
	http://198.18.0.2/bytes/67108864
say "TCP to closed port 5555: RST, so the kernel says 'Connection refused'"
nsx timeout 3 bash -c 'echo > /dev/tcp/198.18.0.2/5555' 2>&1 | tail -1
say "phctl conns (ss -tni for polyhost), with one connection held open by socat"
nsx timeout 10 sh -c 'sleep 2 | socat - TCP4:198.18.0.2:9' &
HELD=$!
sleep 1
phctl conns
wait "$HELD"

say "what the Linux peer knows: ip neigh"
nsx ip neigh show dev ph0

say "phctl info"; phctl info
say "phctl addr"; phctl addr
say "phctl route"; phctl route
say "phctl neigh"; phctl neigh
say "phctl socks"; phctl socks
say "phctl ports"; phctl ports
say "phctl stats"; phctl stats
say "phctl drops"; phctl drops
say "phctl mempool"; phctl mempool

say "SIGTERM: clean shutdown"
kill -TERM "$PID"
RC=0
wait "$PID" || RC=$?
PID=
sed -n '/^polyhostd: stopping/,$p' "$LOG"
say "polyhostd exited with status $RC; namespace $NS removed"
exit "$RC"
