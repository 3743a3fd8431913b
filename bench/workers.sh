#!/bin/bash
# One host on 1, 2 and 4 workers: connections/s and requests/s between two
# polyhost processes over net_memif, ph-perf at both ends (apps/ph-perf):
#   crr   a connection per transaction (64 B each way; the server closes
#         first), 32 connections open at a time: connections/s
#   rr    64 B request, 64 B response, 32 connections: requests/s, p99
# Each side has W workers and a lead. The server listens with one socket
# for the host: each worker accepts the connections its lcore owns (RSS in
# software on memif, misdelivered segments steered to their owner), and the
# client's connect() picks ports whose replies come back to the connecting
# lcore. The table also shows how the server's accepts spread over its
# workers and how many packets each side steered.
# Every lcore busy-polls; with more lcores than CPUs they share CPUs, which
# this script reports next to the table (it shows ownership under load,
# scaling only where there are CPUs for it).
# Usage: [REPEAT=N] [WORKERS="1 2 4"] bench/workers.sh [BUILD_DIR] [SECONDS] [OUT]
# Run as root (EAL). One JSON object per run in OUT (default
# BUILD_DIR/bench-workers.jsonl): the client's --json line plus workers,
# run, rep, date, accepted and steered.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
BUILD=$(realpath "${1:-$ROOT/build}")
SECS=${2:-3}
OUT=${3:-$BUILD/bench-workers.jsonl}
REPEAT=${REPEAT:-3}
WORKERS=${WORKERS:-1 2 4}
PERF=$BUILD/apps/ph-perf
SOCK=/tmp/ph-bw-$$.sock
CONF_S=/tmp/ph-bw-$$-s.ini
CONF_C=/tmp/ph-bw-$$-c.ini
LOG=/tmp/ph-bw-$$
PIDS=
FAILED=0
NCPU=$(nproc)

for t in timeout jq column; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[ -x "$PERF" ] || { echo "build first: $PERF"; exit 2; }

cleanup() {
	# shellcheck disable=SC2086
	bench_stop $PIDS
	rm -rf "/var/run/dpdk/ph-bw-$$-s" "/var/run/dpdk/ph-bw-$$-c"
	rm -f "$SOCK" "$CONF_S" "$CONF_C" "$LOG".*
}
trap cleanup EXIT
: > "$OUT"

# lcores W FIRST: the --lcores map of a side with W workers. One worker: a
# single lcore (lead and worker) on CPU FIRST, as in bench/perf/tcp.sh.
# More: the lead on FIRST, the workers round-robin over the CPUs starting
# at the other one, so both sides spread the same way.
lcores() {
	local w=$1 first=$2 map i cpu
	if [ "$w" -eq 1 ]; then
		echo "0@$first"
		return
	fi
	map="0@$first"
	for i in $(seq 1 "$w"); do
		cpu=$(((first + i) % NCPU))
		map="$map,$i@$cpu"
	done
	echo "$map"
}

counter() { awk -v k="$2" '$1 == k {print $2; f=1} END {if (!f) print 0}' "$1" | head -1; }

TESTS=(
	"crr|--test crr --req 64 --resp 64 --conns 32 --seconds $SECS"
	"rr|--test rr --req 64 --resp 64 --conns 32 --seconds $SECS"
)

for W in $WORKERS; do
	bench_memif_conf "$CONF_S" "ph-bw-$$-s" "$(lcores "$W" 0)" server 198.18.4.1 "$SOCK"
	bench_memif_conf "$CONF_C" "ph-bw-$$-c" "$(lcores "$W" 1)" client 198.18.4.2 "$SOCK"
	for REP in $(seq 1 "$REPEAT"); do for t in "${TESTS[@]}"; do
		name=${t%%|*}
		printf '%s workers, %s, run %s of %s\n' "$W" "$name" "$REP" "$REPEAT" >&2
		rm -f "$SOCK"
		# The memif server listens before the client starts, and outlives it.
		timeout 120 "$PERF" -c "$CONF_S" -- server 5001 --once > "$LOG.s" 2>&1 &
		p=$!
		PIDS="$PIDS $p"
		if ! bench_wait_for "$LOG.s" listening; then
			echo "  server did not start: $(tail -3 "$LOG.s")" >&2
			FAILED=$((FAILED + 1))
			kill -TERM "$p" 2>/dev/null
			wait "$p"
			continue
		fi
		# shellcheck disable=SC2086
		timeout 120 "$PERF" -c "$CONF_C" -- client 198.18.4.1:5001 --json --wait 10000 \
			${t#*|} > "$LOG.c" 2>&1
		wait "$p"
		PIDS=${PIDS% "$p"}
		line=$(grep -h '^{"role":"client"' "$LOG.c" | tail -1)
		if [ -z "$line" ]; then
			line='{"ok":false,"error":"no result"}'
		fi
		if [ "$(jq -r .ok <<< "$line")" != true ]; then
			FAILED=$((FAILED + 1))
			echo "  failed: $(jq -r '.error // "?"' <<< "$line") $(tail -2 "$LOG.c" | tr '\n' ' ')" >&2
		fi
		accepted=$(sed -n 's/.* accepted=\([0-9,]*\) .*/\1/p' "$LOG.s")
		jq -c --arg run "$name" --argjson workers "$W" --argjson rep "$REP" \
			--arg date "$(date -u +%F)" --arg accepted "${accepted:-?}" \
			--argjson steered_c "$(counter "$LOG.c" steered_pkts)" \
			--argjson steered_s "$(counter "$LOG.s" steered_pkts)" \
			--argjson off_owner "$(($(counter "$LOG.c" tcp_segs_off_owner) + $(counter "$LOG.s" tcp_segs_off_owner)))" \
			'. + {run: $run, workers: $workers, rep: $rep, date: $date, accepted: $accepted,
			      steered_client: $steered_c, steered_server: $steered_s,
			      off_owner: $off_owner}' <<< "$line" >> "$OUT"
	done; done
done

echo
echo "One host, W workers a side, net_memif, $(date -u +%F), $NCPU CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $SECS s per run, median of $REPEAT (range)"
jq -rs '
	def r(x): x | round | tostring;
	def med(k): map(k) | sort | .[(length - 1) / 2 | floor];
	def cell(k): r(med(k)) + " (" + r(map(k) | min) + "-" + r(map(k) | max) + ")";
	def of(w; n): map(select(.workers == w and .run == n and .ok));
	(["workers", "lcores a side", "conn/s (crr)", "req/s (rr 64/64)", "rr p99 us",
	  "server accepts per worker", "steered/s", "off owner"] | @tsv),
	(group_by(.workers) | .[] | .[0].workers as $w |
		(of($w; "crr")) as $c | (of($w; "rr")) as $q |
		[($w | tostring), (if $w == 1 then "1" else ($w + 1 | tostring) end),
		 (if ($c | length) > 0 then ($c | cell(.cps)) else "-" end),
		 (if ($q | length) > 0 then ($q | cell(.tps)) else "-" end),
		 (if ($q | length) > 0 then ($q | r(med(.lat_us.p99))) else "-" end),
		 (if ($c | length) > 0 then ($c | .[length / 2 | floor].accepted) else "-" end),
		 (if ($q | length) > 0 then ($q | r(med((.steered_client + .steered_server) / .seconds))) else "-" end),
		 ((map(.off_owner) | add) | tostring)] | @tsv)
' "$OUT" | column -t -s "$(printf '\t')"
echo "lcores: $(for W in $WORKERS; do printf '%s workers: server %s, client %s; ' "$W" "$(lcores "$W" 0)" "$(lcores "$W" 1)"; done)"
[ "$FAILED" -eq 0 ] || { echo "$FAILED runs failed" >&2; exit 1; }
exit 0
