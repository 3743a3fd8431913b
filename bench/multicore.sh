#!/bin/bash
# Scaling with worker lcores: polyhostd's HTTP service (/bytes/N) on 1, 2 and
# 4 workers over a net_tap with a queue per worker, driven by wrk from the
# Linux side of the tap in a namespace of this script's own. Reports
# requests/s with keep-alive and connections/s with "Connection: close",
# each the median of REPEAT runs (range in brackets), and how many packets
# were steered between workers.
#
#   bench/multicore.sh [BUILD_DIR [SECONDS]]     REPEAT=3 by default
#
# net_tap costs a system call and a signal per packet, and this machine has
# two CPUs for the lead, the workers, wrk and the kernel alike: the figures
# say how ownership and steering behave as workers are added, not what a
# NIC would carry. Needs root (network namespaces).
set -u
BUILD=$(realpath "${1:-build}")
SECS=${2:-5}
REPEAT=${REPEAT:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
NS=ph-$$-b
TAP=phb$$
PREFIX=ph-bench-mc-$$
CONF=/tmp/ph-bench-mc-$$.ini
LOG=/tmp/ph-bench-mc-$$.log
PID=
# shellcheck source=scripts/polyhostd-ns.sh
. "$HERE/../scripts/polyhostd-ns.sh"

[ "$(id -u)" -eq 0 ] || { echo "bench/multicore.sh: needs root" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench/multicore.sh: wrk missing (make deps)" >&2; exit 1; }

cleanup() {
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "/var/run/dpdk/$PREFIX" "$CONF" "$LOG"
}
trap cleanup EXIT

cat > "$CONF" <<INI
[eal]
args = --no-huge -m 1024 --no-pci --no-shconf --file-prefix=$PREFIX --log-level=user1:notice
lcores = 0-1
[port p0]
device = net_tap0,iface=$TAP
address = 198.18.0.2/24
[service web]
type = http
listen = tcp:198.18.0.2:80
INI
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up

# median and range of the numbers on stdin: "M (LO-HI)"
stats() { sort -g | awk '{v[NR] = $1} END {printf "%.0f (%.0f-%.0f)", v[int((NR + 1) / 2)], v[1], v[NR]}'; }
# wrk_rate ARGS...: requests/s of one wrk run in the namespace
wrk_rate() {
	ip netns exec "$NS" taskset -c 0 wrk -t 1 -d "${SECS}s" --timeout 5s "$@" \
		http://198.18.0.2/bytes/100 2>/dev/null | awk '/^Requests\/sec/ {print $2}'
}

echo "| workers | requests/s, keep-alive (32 conns) | connections/s (Connection: close, 8 conns) | steered packets |"
echo "|---|---|---|---|"
for w in 1 2 4; do
	case $w in
	1) lcores=0@1 ;;
	2) lcores=0@0,1@1,2@1 ;;
	# net_tap (DPDK 22.11): 4 queues at most, the lead's frames relayed
	4) lcores=0@0,1@1,2@0,3@1,4@0 ;;
	esac
	if ! ns_start "$NS" "$LOG" "polyhostd: ready" "$BUILD/apps/polyhostd" -c "$CONF" \
		--lcores "$lcores"; then
		echo "polyhostd did not start on $w workers:" >&2
		tail -5 "$LOG" >&2
		exit 1
	fi
	tap_peer_up "$NS" "$TAP" 198.18.0.1/24
	sleep 0.5
	rps=$(for _ in $(seq 1 "$REPEAT"); do wrk_rate -c 32; done | stats)
	cps=$(for _ in $(seq 1 "$REPEAT"); do wrk_rate -c 8 -H "Connection: close"; done | stats)
	steered=$("$BUILD/apps/phctl" -p "$PREFIX" get steered_pkts)
	echo "| $w | $rps | $cps | $steered |"
	kill -TERM "$PID"
	wait "$PID"
	PID=
done
echo
echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, polyhost $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null), ${SECS} s per run, median of $REPEAT (range)"
