#!/bin/bash
# TCP benchmarks: polyhost against the Linux kernel on the same paths, with
# the same program at both ends (ph-perf; for the kernel it is built on
# bench/perf/linux_shim.c, which maps the ph_* calls onto Linux sockets):
#   memif      polyhost <-> polyhost: two processes over net_memif, one CPU each
#   veth       Linux <-> Linux between two namespaces: the kernel's baseline
#   afpacket   polyhost (net_af_packet on one end of the same veth pair) <->
#              Linux, polyhost as the client, then as the server
# Each path: bulk one way and the other, bulk over 4 connections, rr 1/1 and
# rr 64/1024, SECONDS each. Offloads are off on both veth ends for every
# run (the raw socket cannot take GSO frames), so the kernel's baseline has
# no TSO/GRO either.
# Each run is repeated REPEAT times (default 3; two shared vCPUs are noisy):
# the table shows the median and the range. One JSON object per run goes
# to OUT (default BUILD_DIR/bench-tcp.jsonl: ph-perf's own --json, plus
# path, run and repetition).
# Usage: [REPEAT=N] bench/perf/tcp.sh [BUILD_DIR] [SECONDS] [OUT]; root; two
# CPUs are assumed (the stack and ph-perf's client on CPU 1, the peer on CPU 0).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
BUILD=$(realpath "${1:-$ROOT/build}")
SECS=${2:-3}
REPEAT=${REPEAT:-3}
OUT=${3:-$BUILD/bench-tcp.jsonl}
PERF=$BUILD/apps/ph-perf
LPERF=/tmp/ph-bench-$$-linux-perf
NSA=ph-$$-ba
NSB=ph-$$-bb
VA=phba$$
VB=phbb$$
SOCK=/tmp/ph-bench-$$.sock
CONF_A=/tmp/ph-bench-$$-a.ini
CONF_MS=/tmp/ph-bench-$$-ms.ini
CONF_MC=/tmp/ph-bench-$$-mc.ini
LOG=/tmp/ph-bench-$$
PIDS=
FAILED=0

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
for t in ip ethtool taskset timeout jq cc; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[ -x "$PERF" ] || { echo "build first: $PERF"; exit 2; }

cleanup() {
	# shellcheck disable=SC2086
	bench_stop $PIDS
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "/var/run/dpdk/ph-bench-$$-a" "/var/run/dpdk/ph-bench-$$-ms" \
		"/var/run/dpdk/ph-bench-$$-mc"
	rm -f "$LPERF" "$SOCK" "$CONF_A" "$CONF_MS" "$CONF_MC" "$LOG".*
}
trap cleanup EXIT

cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$ROOT/api/include" "$ROOT/apps/ph-perf/main.c" \
	"$ROOT/bench/perf/linux_shim.c" -o "$LPERF" -lm || exit 2
: > "$OUT"

# The tests, each a line of ph-perf client options.
TESTS=(
	"bulk|--seconds $SECS"
	"bulk-reverse|--seconds $SECS --reverse"
	"bulk-4conns|--seconds $SECS --conns 4"
	"rr-1/1|--seconds $SECS --test rr --req 1 --resp 1"
	"rr-64/1024|--seconds $SECS --test rr --req 64 --resp 1024"
)

# record PATH RUN FILE: keep the client's JSON line, tagged.
record() {
	local line
	line=$(grep -h '^{"role":"client"' "$3" | tail -1)
	if [ -z "$line" ]; then
		line='{"ok":false,"error":"no result"}'
		FAILED=$((FAILED + 1))
		echo "  $1 $2: no result: $(tail -2 "$3" | tr '\n' ' ')" >&2
	elif [ "$(jq -r .ok <<< "$line")" != true ]; then
		FAILED=$((FAILED + 1))
		echo "  $1 $2: $(jq -r .error <<< "$line")" >&2
	fi
	jq -c --arg path "$1" --arg run "$2" --arg date "$(date -u +%F)" --argjson rep "$REP" \
		'. + {path: $path, run: $run, rep: $rep, date: $date}' <<< "$line" >> "$OUT"
}

# ---- veth between two namespaces ----
ip netns add "$NSA" && ip netns add "$NSB" || exit 77
ip link add "$VA" netns "$NSA" type veth peer name "$VB" netns "$NSB"
for ns in "$NSA:$VA" "$NSB:$VB"; do
	n=${ns%%:*} i=${ns#*:}
	ip netns exec "$n" ip link set lo up
	ip netns exec "$n" sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1"
	ip netns exec "$n" ethtool -K "$i" tx off tso off gso off gro off >/dev/null 2>&1
	ip netns exec "$n" ip link set "$i" up
done
ip netns exec "$NSB" ip addr add 198.18.3.2/24 dev "$VB"

# The kernel's server in B on CPU 0, for every veth and afpacket run.
ip netns exec "$NSB" taskset -c 0 "$LPERF" server 5001 > "$LOG.lsrv" 2>&1 &
PIDS="$PIDS $!"
bench_wait_for "$LOG.lsrv" listening || { echo "Linux server did not start"; exit 1; }

echo "veth: Linux <-> Linux" >&2
ip netns exec "$NSA" ip addr add 198.18.3.1/24 dev "$VA"
for REP in $(seq 1 "$REPEAT"); do for t in "${TESTS[@]}"; do
	# shellcheck disable=SC2086
	ip netns exec "$NSA" taskset -c 1 timeout 60 "$LPERF" client 198.18.3.2:5001 --json \
		${t#*|} > "$LOG.run" 2>&1
	record veth "${t%%|*}" "$LOG.run"
done; done
# From here polyhost owns 198.18.3.1 on VA: the kernel in A must not answer.
ip netns exec "$NSA" ip addr del 198.18.3.1/24 dev "$VA"

cat > "$CONF_A" <<INI
[eal]
args = --no-huge -m 512 --no-pci --no-shconf --file-prefix=ph-bench-$$-a --log-level=*:warning
lcores = 1
[port p0]
device = net_af_packet0,iface=$VA
address = 198.18.3.1/24
INI
echo "afpacket: polyhost client -> Linux server" >&2
for REP in $(seq 1 "$REPEAT"); do for t in "${TESTS[@]}"; do
	# shellcheck disable=SC2086
	ip netns exec "$NSA" timeout 60 "$PERF" -c "$CONF_A" -- client 198.18.3.2:5001 --json \
		--wait 5000 ${t#*|} > "$LOG.run" 2>&1
	record afpacket-client "${t%%|*}" "$LOG.run"
done; done
echo "afpacket: Linux client -> polyhost server" >&2
for REP in $(seq 1 "$REPEAT"); do for t in "${TESTS[@]}"; do
	ip netns exec "$NSA" timeout 60 "$PERF" -c "$CONF_A" -- server 5002 --once \
		> "$LOG.psrv" 2>&1 &
	p=$!
	bench_wait_for "$LOG.psrv" listening
	# shellcheck disable=SC2086
	ip netns exec "$NSB" taskset -c 0 timeout 60 "$LPERF" client 198.18.3.1:5002 --json \
		--wait 5000 ${t#*|} > "$LOG.run" 2>&1
	wait "$p"
	record afpacket-server "${t%%|*}" "$LOG.run"
done; done

# ---- memif: two polyhost processes ----
bench_memif_conf "$CONF_MS" "ph-bench-$$-ms" 0 server 198.18.4.1 "$SOCK"
bench_memif_conf "$CONF_MC" "ph-bench-$$-mc" 1 client 198.18.4.2 "$SOCK"
echo "memif: polyhost <-> polyhost" >&2
for REP in $(seq 1 "$REPEAT"); do for t in "${TESTS[@]}"; do
	rm -f "$SOCK"
	# The memif server listens before the client starts, and outlives it.
	timeout 60 "$PERF" -c "$CONF_MS" -- server 5001 --once > "$LOG.msrv" 2>&1 &
	p=$!
	bench_wait_for "$LOG.msrv" listening
	# shellcheck disable=SC2086
	timeout 60 "$PERF" -c "$CONF_MC" -- client 198.18.4.1:5001 --json --wait 10000 \
		${t#*|} > "$LOG.run" 2>&1
	wait "$p"
	record memif "${t%%|*}" "$LOG.run"
done; done

# ---- the table ----
echo
echo "TCP, $(date -u +%F), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $SECS s per run, median of $REPEAT (range)"
jq -rs '
	def r(x): x * 100 | round / 100 | tostring;
	def med(k): map(k) | sort | .[(length - 1) / 2 | floor];
	def cell(k): if (.[0] | k) == null then "-"
		else r(med(k)) + " (" + r(map(k) | min) + "-" + r(map(k) | max) + ")" end;
	(["path", "run", "Gbit/s", "trans/s", "p50 us", "p99 us", "ok"] | @tsv),
	(group_by(.path + " " + .run) | sort_by(.[0].path) | .[] |
		map(select(.ok)) as $good | if ($good | length) == 0 then
			[.[0].path, .[0].run, "-", "-", "-", "-", "0/\(length)"]
		else ($good | [.[0].path, .[0].run,
			(if .[0].test == "rr" then "-" else cell(.gbps) end), cell(.tps), cell(.lat_us.p50),
			cell(.lat_us.p99), "\($good | length)/\(length)"]) end | @tsv)
' "$OUT" | column -t -s "$(printf '\t')"
[ "$FAILED" -eq 0 ] || { echo "$FAILED runs failed" >&2; exit 1; }
exit 0
