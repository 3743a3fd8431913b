#!/bin/bash
# Stack to stack through the fault injector (drivers/fault.c): two ph-perf
# processes over net_memif, one CPU each (the memif server listens first),
# SIZE bytes up (client -> server) and then down (--reverse) for each
# profile:
#   loss1     1% uniform loss: up, on what each end receives (--fault on
#             both); down, on the data the client receives
#   mixed     5% loss + 5% reorder (1 ms) + 1% duplication + 0.1% corruption
#             + 0.1% truncation on the data path, at the server (its
#             configuration file's `fault =`, aimed by --fault dir=rx|tx)
#   bursty    Gilbert-Elliott bursty loss, mean 1.9% (2-packet bad spells
#             losing half their packets) on the data path, at the client
#   acks20    20% loss of pure ACKs only, both directions, on the server
#   blackhole everything dropped from 5 s to 15 s after the server started
#             (the client connects 2-4 s in), with a rate limit (queued) that
#             makes the transfer last past 5 s, both directions, on the server
# Each transfer: both ends exit 0 with every mbuf back in their pools, the
# sha256 of the stream is the pattern's at both ends, the fault counters the
# profile moves did move (from the shutdown reports), and one line of
# goodput: `fault profile NAME up|down SIZE MiB N Mbit/s in S s`. Also: bad
# specs are refused (command line and file), and /polyhost/fault answers
# while a transfer runs.
# Usage: fault.sh BUILD_DIR. SIZE: 32 MiB, LONG=1 256 MiB; PROFILES="loss1
# mixed" runs some only. Exit 0 pass, 1 fail, 77 skip.
# Functions reached only through the trap and $PROBE:
# shellcheck disable=SC2317
set -u
BUILD=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
NS=ph-$$-f
PREFIX=ph-fault-$$
CONF_S=/tmp/ph-fault-$$-s.ini
CONF_C=/tmp/ph-fault-$$-c.ini
BAD=/tmp/ph-fault-$$-bad.ini
SOCK=/tmp/ph-fault-$$.sock
LOG=/tmp/ph-fault-$$.log
PERF=$BUILD/apps/ph-perf
PHCTL=$BUILD/apps/phctl
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

if [ "${LONG:-0}" = 1 ]; then
	MIB=256 T=1200
else
	MIB=32 T=240
fi
SIZE=${MIB}M
# The black hole's rate: SIZE in about 6 s, so 5 s after the server started
# is mid-transfer.
RATE=$((MIB * 4 / 3))
PROFILES=${PROFILES:-loss1 mixed bursty acks20 blackhole}
CPID=

[ "$(id -u)" -eq 0 ] || skip "needs root for a network namespace"
for t in ip taskset timeout sha256sum awk; do command -v $t >/dev/null || skip "$t missing"; done
[ -x "$PERF" ] || skip "$PERF not built"

cleanup() {
	# timeout passes SIGTERM on to ph-perf, which then shuts down cleanly.
	if [ -n "$CPID" ] && kill -0 "$CPID" 2>/dev/null; then
		kill -TERM "$CPID" 2>/dev/null
		wait "$CPID" 2>/dev/null
	fi
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && sleep 1
	ns_cleanup
	rm -rf "/var/run/dpdk/$PREFIX-s" "/var/run/dpdk/$PREFIX-c"
	rm -f "$CONF_S" "$CONF_C" "$BAD" "$SOCK"
	# The logs stay when something failed.
	[ "$FAILED" -eq 0 ] && rm -f "$LOG" "$LOG".*
}
trap cleanup EXIT

EXP=$("$PERF" gen --bytes "$SIZE" | sha256sum | cut -d' ' -f1)

# memif_conf FILE PREFIX LCORE ROLE ADDRESS [FAULT]: as perf.sh's, with an
# optional `fault =` line.
memif_conf() {
	cat > "$1" <<INI
[eal]
args = --no-huge -m 512 --no-pci --no-shconf --file-prefix=$2 --log-level=user1:notice
lcores = $3
[port m0]
device = net_memif0,role=$4,id=0,socket=$SOCK,socket-abstract=no
address = $5/24
INI
	[ -n "${6:-}" ] && echo "fault = $6" >> "$1"
	return 0
}

# ---- bad specs are refused before anything starts ----
memif_conf "$CONF_S" "$PREFIX-s" 0 server 198.18.2.1
refused() { # WHAT WANT ARGS...: exit status 2 and WANT in the message
	local what=$1 want=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -eq 2 ] && [[ "$out" == *"$want"* ]]; then
		ok "$what refused: $out"
	else
		notok "$what: status $rc, want '$want': $out"
	fi
}
refused "--fault with a probability of 2" "--fault 'm0=drop=2': drop=2: not a probability" \
	"$PERF" -c "$CONF_S" --fault m0=drop=2 -- server 5001
refused "--fault on a port that does not exist" "--fault 'm9=drop=1%': no [port m9] in $CONF_S" \
	"$PERF" -c "$CONF_S" --fault m9=drop=1% -- server 5001
memif_conf "$BAD" "$PREFIX-s" 0 server 198.18.2.1 "drop=1%,bogus=3"
refused "fault = with an unknown item" "$BAD:7: key 'fault': unknown fault 'bogus'" \
	"$PERF" -c "$BAD" -- server 5001
if [ -x "$BUILD/apps/polyhostd" ]; then
	check "polyhostd's usage shows --fault" \
		sh -c "'$BUILD/apps/polyhostd' -h | grep -q -- '--fault PORT=SPEC'"
fi

ip netns add "$NS" || skip "cannot create a network namespace"
nsx ip link set lo up

# profile NAME up|down: the faults of a profile in one direction. S_OPTS and
# C_OPTS are ph_init() options of the server and the client, S_FILE and
# C_FILE the `fault =` of their configuration files, WANT the counters that
# must move (SIDE:COUNTER, SIDE s or c), PROBE a check run during the
# transfer.
#
# Loss that can hit the last segments of a transfer (the receiver's final
# ACK or FIN) strands the other end: ph-perf's client stops its host 100 ms
# after its last close and the server 500 ms after its last test, less than
# the RTOs it would take to repair them. So loss aims at the data path only
# where the end of the transfer would meet it; ACK-path loss is acks20's
# (pure ACKs only: a FIN always passes).
profile() {
	S_OPTS=() C_OPTS=() S_FILE='' C_FILE='' PROBE=''
	case $1:$2 in
	loss1:up)
		# Each end loses 1% of what it receives: data and ACKs.
		S_OPTS=(--fault 'm0=drop=1%,dir=rx,seed=11')
		C_OPTS=(--fault 'm0=drop=1%,dir=rx,seed=12')
		WANT="s:fault_dropped c:fault_dropped"
		;;
	loss1:down)
		C_OPTS=(--fault 'm0=drop=1%,dir=rx,seed=12')
		WANT="c:fault_dropped"
		;;
	mixed:*)
		# From the server's file, aimed by the command line (its items
		# replace the file's): at the data it receives, or sends.
		S_FILE="drop=5%,reorder=5%,delay=1,dup=1%,corrupt=0.1%,truncate=0.1%,seed=21"
		S_OPTS=(--fault "m0=dir=$([ "$2" = up ] && echo rx || echo tx)")
		WANT="s:fault_dropped s:fault_reordered s:fault_duplicated s:fault_corrupted"
		WANT="$WANT s:fault_truncated"
		;;
	bursty:*)
		# Mean loss 0.02/(0.02+0.5) * 0.5 = 1.9%; after a loss the next is
		# lost with about 0.25. The chain steps per packet, so long spells of
		# near-certain loss (ge=0.01:0.4:0.8) keep a sender that is down to
		# one retransmission per RTO in the bad state: 5 to 55 s here. On the
		# client's data path: what it sends (up), what it receives (down).
		C_OPTS=(--fault "m0=ge=0.02:0.5:0.5,seed=31,dir=$([ "$2" = up ] && echo tx || echo rx)")
		WANT="c:fault_dropped"
		;;
	acks20:*)
		S_OPTS=(--fault 'm0=drop=20%,acks-only,seed=41')
		WANT="s:fault_selected s:fault_dropped"
		;;
	blackhole:*)
		# Both ways: the hole closes long before the transfer ends.
		S_OPTS=(--fault "m0=rate=$RATE,queue=256,blackhole=5000-15000,seed=51")
		WANT="s:fault_blackholed s:fault_rate_queued"
		PROBE=probe_telemetry
		;;
	*)
		notok "unknown profile $1"
		return 1
		;;
	esac
}

# While the transfer runs: the server's /polyhost/fault lists its port's
# spec, and the port's counters move (10 s at most).
probe_telemetry() {
	local out sel
	for _ in $(seq 1 50); do
		out=$("$PHCTL" -p "$PREFIX-s" raw /polyhost/fault m0 2>/dev/null)
		sel=$(echo "$out" | awk -F'[:,]' '/"fault_selected"/ {gsub(/ /, "", $2); print $2; exit}')
		[ -n "$sel" ] && [ "$sel" -gt 0 ] && break
		kill -0 "$CPID" 2>/dev/null || break
		sleep 0.2
	done
	check "telemetry /polyhost/fault m0 while it runs: fault_selected=${sel:-none}" \
		positive "${sel:-0}" has "$out" "blackhole=5000-15000"
	out=$("$PHCTL" -p "$PREFIX-s" raw /polyhost/fault 2>/dev/null)
	check "telemetry /polyhost/fault lists port m0's spec" has "$out" '"m0": "rate='"$RATE"
}

# has STR SUB [STR SUB]...: every STR contains its SUB.
has() {
	while [ $# -ge 2 ]; do
		[[ "$1" == *"$2"* ]] || return 1
		shift 2
	done
}
# positive N [has ...]: N > 0, and the rest holds.
positive() {
	[ "$1" -gt 0 ] || return 1
	shift
	[ $# -eq 0 ] || "$@"
}

# counter LOG NAME: a fault counter of a shutdown report (0 when absent).
counter_of() { perf_report "$1" "$2"; }

SUMMARY=
# transfer PROFILE up|down: one transfer with the profile's faults.
transfer() {
	local prof=$1 dir=$2 rc=0 src=0 rev=() slog=$LOG.$1.$2.s clog=$LOG.$1.$2.c
	local line bytes secs mbit w side name log v
	[ "$dir" = down ] && rev=(--reverse)
	memif_conf "$CONF_S" "$PREFIX-s" 0 server 198.18.2.1 "$S_FILE"
	memif_conf "$CONF_C" "$PREFIX-c" 1 client 198.18.2.2 "$C_FILE"
	rm -f "$SOCK"
	if ! ns_start "$NS" "$slog" "listening" timeout -k 5 "$T" "$PERF" -c "$CONF_S" \
		"${S_OPTS[@]}" -- server 5001 --once --timeout 60 --sha256 --expect-sha256 "$EXP"; then
		notok "$prof $dir: server started: $(tail -5 "$slog")"
		kill -TERM "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
		PID=
		return
	fi
	# Not through nsx: CPID must be the program's (timeout's), not a subshell's.
	ip netns exec "$NS" timeout -k 5 "$T" "$PERF" -c "$CONF_C" "${C_OPTS[@]}" -- \
		client 198.18.2.1:5001 --wait 15000 --timeout 60 --bytes "$SIZE" --sha256 \
		--expect-sha256 "$EXP" "${rev[@]}" > "$clog" 2>&1 &
	CPID=$!
	[ -n "$PROBE" ] && $PROBE
	wait "$CPID" || rc=$?
	CPID=
	wait "$PID" || src=$?
	PID=
	if [ $rc -eq 0 ] && [ $src -eq 0 ] && mbufs_back "$clog" && mbufs_back "$slog"; then
		ok "$prof $dir: client and server exit 0, every mbuf back at both ends"
	else
		notok "$prof $dir: client exit $rc, server exit $src: $(tail -3 "$clog") / $(tail -3 "$slog")"
	fi
	line=$(perf_result "$clog")
	check "$prof $dir: sha256 equal at both ends" \
		has "$line" "sha256=$EXP result=ok" "$(perf_result "$slog")" "sha256=$EXP result=ok"
	for w in $WANT; do
		side=${w%%:*} name=${w#*:}
		log=$slog
		[ "$side" = c ] && log=$clog
		v=$(counter_of "$log" "$name")
		check "$prof $dir: $name moved on the $([ "$side" = c ] && echo client || echo server) ($v)" \
			positive "$v"
	done
	bytes=$(echo "$line" | sed -n 's/.* bytes=\([0-9]*\) .*/\1/p')
	secs=$(echo "$line" | sed -n 's/.* seconds=\([0-9.]*\) .*/\1/p')
	mbit=$(awk -v b="${bytes:-0}" -v s="${secs:-0}" 'BEGIN {printf "%.0f", (s > 0 ? b * 8 / s / 1e6 : 0)}')
	echo "fault profile $prof $dir $MIB MiB $mbit Mbit/s in ${secs:-?} s"
	SUMMARY="$SUMMARY
fault profile $prof $dir $MIB MiB $mbit Mbit/s in ${secs:-?} s"
	case $prof in
	blackhole)
		check "blackhole $dir: the transfer outlasted the 10 s hole (${secs:-?} s)" \
			awk -v s="${secs:-0}" 'BEGIN {exit !(s >= 10)}'
		;;
	mixed)
		# Every corrupted or truncated frame must fail a check at the receiver
		# (a frame both corrupted and truncated is two events, one drop).
		local mangled caught
		mangled=$(($(counter_of "$slog" fault_corrupted) + $(counter_of "$slog" fault_truncated)))
		caught=0
		for v in ip_bad_checksum tcp_bad_checksum ip_truncated tcp_truncated ip_bad_version \
			ip_bad_header_length ip_bad_total_length tcp_bad_data_offset; do
			caught=$((caught + $(counter_of "$slog" $v) + $(counter_of "$clog" $v)))
		done
		echo "# mixed $dir: $mangled corruptions and truncations, $caught frames dropped" \
			"by the receivers' checksum and length checks"
		check "mixed $dir: receivers caught mangled frames ($caught of $mangled)" \
			positive "$caught"
		;;
	esac
}

for p in $PROFILES; do
	for d in up down; do
		profile "$p" "$d" && transfer "$p" "$d"
	done
done

echo "# goodput (ph-perf's client: bytes over its transfer time):$SUMMARY" | sed 's/^fault/#   fault/'
[ "$FAILED" -eq 0 ] || { echo "logs: $LOG.*"; exit 1; }
exit 0
