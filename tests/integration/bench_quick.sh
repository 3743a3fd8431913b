#!/bin/bash
# `bench/run --quick` once, as `make test` promises: every case runs on both
# sides (forwarding: polyhost's, with every datagram checked) and yields a figure, the table has every row filled, and the plots
# are PNG files. Nothing about speed is asserted.
set -u
BUILD=$(realpath "${1:-build}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$BUILD/bench-quick
FAILED=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
rm -rf "$OUT"
start=$(date +%s)
"$ROOT/bench/run" --quick --build "$BUILD" --out "$OUT"
rc=$?
secs=$(($(date +%s) - start))
# The time is reported, not asserted: a loaded CI machine may be slower.
[ $rc -eq 0 ] && ok "bench/run --quick exited 0 in $secs s" || notok "bench/run --quick: status $rc"
for c in bulk-1 bulk-4 rr-64-1 rr-64-32 rr-1024-1 rr-1024-32 http-keepalive-tap http-close-tap http-keepalive-memif http-close-memif crr udp-64; do
	for side in polyhost linux; do
		n=$(jq -s --arg c "$c" --arg s "$side" '[.[] | select(.case == $c and .side == $s and .ok)] | length' \
			"$OUT/runs.jsonl" 2>/dev/null)
		[ "${n:-0}" -ge 1 ] && ok "$c $side: a result" || notok "$c $side: no result"
	done
done
for c in 1-dir24_8 16-dir24_8 1-ranges 16-ranges 1024-ranges; do
	v=$(jq -s --arg c "fwd-$c" '[.[] | select(.case == $c and .ok) | .mpps][0] // 0' \
		"$OUT/runs.jsonl" 2>/dev/null)
	awk -v v="${v:-0}" 'BEGIN {exit !(v > 0)}' && ok "fwd $c: $v Mpps" || notok "fwd $c: no rate"
done
for c in udp-echo tcp-bulk-rx tcp-rr tcp-conn ipv4-forward; do
	v=$(jq -s --arg c "cost-$c" '[.[] | select(.case == $c and .ok) | .ir_per_unit][0] // 0' \
		"$OUT/runs.jsonl" 2>/dev/null)
	awk -v v="${v:-0}" 'BEGIN {exit !(v > 0)}' && ok "cost $c: $v instructions" ||
		notok "cost $c: no count"
done
# Every row has both columns: no "-" cell in the comparison table.
rows=$(grep -c '^| [A-Z].* | .* | .* | .* | .* |$' "$OUT/table.md" 2>/dev/null)
dash=$(awk -F' \\| ' '/^\| [A-Z]/ && NF == 5 && ($3 == "-" || $4 == "-")' "$OUT/table.md" | wc -l)
[ "${rows:-0}" -ge 10 ] && [ "$dash" -eq 0 ] && ok "table.md: $rows rows, all filled" ||
	notok "table.md: $rows rows, $dash with a side missing"
for p in bulk bulk-cpu rates latency fwd cost; do
	head -c 8 "$OUT/$p.png" 2>/dev/null | grep -q PNG && ok "$p.png rendered" || notok "$p.png missing"
done
[ "$FAILED" -eq 0 ]
