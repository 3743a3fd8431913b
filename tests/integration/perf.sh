#!/bin/bash
# TCP with ph-perf (apps/ph-perf), every transfer checked by sha256 at both
# ends against the pattern's own (`ph-perf gen | sha256sum`):
#  - net_tap in a namespace of this test's own, the Linux kernel as the peer:
#    ph-perf's raw client sending SIZE bytes to `socat -u TCP-LISTEN`; socat
#    sending SIZE bytes to ph-perf's raw sink; ph-perf's raw source to a
#    socat client; a socat source to ph-perf's raw client (--reverse); nc
#    both ways; request/response against a socat echo (PIPE), small and
#    larger than a segment;
#  - net_af_packet on one end of a veth pair, Linux (socat) in a second
#    namespace on the other: about 15x faster than the tap, fast enough that
#    frames are lost, so loss recovery and out-of-order data are exercised;
#    every byte received by polyhost compared with the pattern;
#  - stack to stack: two ph-perf processes over net_memif, one CPU each (the
#    server listens first): bulk SIZE each way, four parallel connections,
#    request/response, a connection per transaction (crr); then two workers
#    on each side: bulk and rr over four connections, crr to the server's
#    one listener with both workers accepting, every connection on its
#    owner at both ends;
#  - every ph-perf exits 0 with every mbuf back in its pool.
# Usage: perf.sh BUILD_DIR. LONG=1 raises SIZE from 64 MiB to 1 GiB.
# Exit 0 pass, 1 fail, 77 skip.
set -u
BUILD=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
NS=ph-$$-p
NS2=ph-$$-q
TAP=php$$
VA=phva$$
VB=phvb$$
PREFIX=ph-perf-$$
CONF=/tmp/ph-perf-$$.ini
CONF_V=/tmp/ph-perf-$$-v.ini
CONF_S=/tmp/ph-perf-$$-s.ini
CONF_C=/tmp/ph-perf-$$-c.ini
SOCK=/tmp/ph-perf-$$.sock
LOG=/tmp/ph-perf-$$.log
PERF=$BUILD/apps/ph-perf
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

if [ "${LONG:-0}" = 1 ]; then
	SIZE=1G RR_N=200000 CRR_N=100000 T=600
else
	SIZE=64M RR_N=20000 CRR_N=2000 T=120
fi

[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip socat nc taskset timeout sha256sum; do command -v $t >/dev/null || skip "$t missing"; done
[ -x "$PERF" ] || skip "$PERF not built"

cleanup() {
	# timeout passes SIGTERM on to ph-perf, which then shuts down cleanly.
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && sleep 1
	ns_cleanup
	ip netns del "$NS2" 2>/dev/null
	rm -rf "/var/run/dpdk/$PREFIX-s" "/var/run/dpdk/$PREFIX-c" "/var/run/dpdk/$PREFIX-v"
	rm -f "$CONF" "$CONF_V" "$CONF_S" "$CONF_C" "$SOCK"
	# The logs stay when something failed.
	[ "$FAILED" -eq 0 ] && rm -f "$LOG" "$LOG".*
}
trap cleanup EXIT

sum_of() { cut -d' ' -f1 "$1"; }
# bg_end PID OK: wait for a Linux helper; if the ph-perf side failed (OK is
# not 0), stop it first rather than wait for its timeout.
bg_end() {
	[ "$2" -eq 0 ] || kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

EXP=$("$PERF" gen --bytes "$SIZE" | sha256sum | cut -d' ' -f1)
check "ph-perf's sha256 agrees with sha256sum on $SIZE of the pattern" \
	[ "$("$PERF" gen --bytes "$SIZE" | "$PERF" sha256 | cut -d' ' -f1)" = "$EXP" ]
check "ph-perf's sha256 of \"abc\" is FIPS 180-4's" \
	[ "$(printf abc | "$PERF" sha256 | cut -d' ' -f1)" = \
	  ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad ]

# The stack on CPU 1 (it busy-polls), the Linux tools on CPU 0.
tap_host_conf 1 > "$CONF"

ip netns add "$NS" || skip "cannot create a network namespace"
nsx ip link set lo up

# perf_server LOG ARGS...: ph-perf's server in the namespace, up and listening.
perf_server() {
	local log=$1
	shift
	if ! ns_start "$NS" "$log" "listening" timeout -k 5 "$T" "$PERF" -c "$CONF" -- \
		server "$@"; then
		notok "ph-perf server $* started: $(tail -5 "$log")"
		return 1
	fi
	peer_up
}
# server_done LOG WHAT: wait for the server (--once) and check its exit.
server_done() {
	local rc=0
	wait "$PID" || rc=$?
	PID=
	if [ $rc -eq 0 ] && mbufs_back "$1"; then
		ok "$2: server exit 0, every mbuf back: $(perf_result "$1")"
	else
		notok "$2: server exit $rc: $(tail -5 "$1")"
	fi
}

# ---- ph-perf's client, Linux's sink ----
ns_bg taskset -c 0 timeout "$T" sh -c "socat -u TCP-LISTEN:5001,reuseaddr - | sha256sum > $LOG.sink"
SINK=$!
rc=0
perf_client "$LOG.c1" 198.18.0.1:5001 --raw --bytes "$SIZE" --sha256 --expect-sha256 "$EXP" || rc=$?
if [ $rc -eq 0 ]; then
	ok "ph-perf client -> socat: $(perf_result "$LOG.c1")"
else
	notok "ph-perf client -> socat: $(tail -1 "$LOG.c1")"
fi
bg_end "$SINK" $rc
check "socat received $SIZE with the pattern's sha256" [ "$(sum_of "$LOG.sink")" = "$EXP" ]
check "ph-perf client: every mbuf back" mbufs_back "$LOG.c1"

# ---- Linux's source, ph-perf's raw sink ----
if perf_server "$LOG.s2" 5002 --raw --sink --sha256 --expect-sha256 "$EXP" --once; then
	"$PERF" gen --bytes "$SIZE" | nsx taskset -c 0 timeout "$T" socat -u - TCP:198.18.0.2:5002
	server_done "$LOG.s2" "socat -> ph-perf sink"
	check "socat -> ph-perf sink: sha256 equal" grep -q "sha256=$EXP result=ok" "$LOG.s2"
fi

# ---- ph-perf's raw source, Linux's client ----
if perf_server "$LOG.s3" 5003 --raw --source "$SIZE" --sha256 --expect-sha256 "$EXP" --once; then
	nsx taskset -c 0 timeout "$T" socat -u TCP:198.18.0.2:5003 - | sha256sum > "$LOG.got3"
	check "ph-perf source -> socat: socat got the pattern's sha256" \
		[ "$(sum_of "$LOG.got3")" = "$EXP" ]
	server_done "$LOG.s3" "ph-perf source -> socat"
fi

# ---- Linux's source, ph-perf's client receiving (--reverse) ----
ns_bg taskset -c 0 timeout "$T" sh -c \
	"$PERF gen --bytes $SIZE | socat -u - TCP-LISTEN:5004,reuseaddr"
SRC=$!
rc=0
perf_client "$LOG.c4" 198.18.0.1:5004 --raw --reverse --verify --sha256 \
	--expect-sha256 "$EXP" || rc=$?
if [ $rc -eq 0 ]; then
	ok "socat -> ph-perf client, every byte checked: $(perf_result "$LOG.c4")"
else
	notok "socat -> ph-perf client: $(tail -1 "$LOG.c4")"
fi
bg_end "$SRC" $rc

# ---- nc both ways (8 MiB) ----
EXP8=$("$PERF" gen --bytes 8M | sha256sum | cut -d' ' -f1)
ns_bg taskset -c 0 timeout "$T" sh -c "nc -l 5005 < /dev/null | sha256sum > $LOG.nc"
NC=$!
rc=0
perf_client "$LOG.c5" 198.18.0.1:5005 --raw --bytes 8M || rc=$?
bg_end "$NC" $rc
if [ $rc -eq 0 ]; then
	check "ph-perf client -> nc -l: sha256 equal" [ "$(sum_of "$LOG.nc")" = "$EXP8" ]
else
	notok "ph-perf client -> nc -l: $(tail -1 "$LOG.c5")"
fi
if perf_server "$LOG.s6" 5006 --raw --sha256 --expect-sha256 "$EXP8" --once; then
	"$PERF" gen --bytes 8M | nsx taskset -c 0 timeout "$T" nc -N 198.18.0.2 5006
	server_done "$LOG.s6" "nc -> ph-perf sink, sha256 equal"
fi

# ---- request/response against a Linux echo (socat PIPE) ----
ns_bg taskset -c 0 timeout "$T" socat TCP-LISTEN:5007,reuseaddr,fork PIPE
rr_echo() { # SIZE CONNS TRANSACTIONS
	if perf_client "$LOG.c7" 198.18.0.1:5007 --raw --test rr --req "$1" --resp "$1" --conns "$2" \
		--transactions "$3" --verify; then
		ok "rr $1/$1 x $3 against socat's echo, every byte checked: $(perf_result "$LOG.c7")"
	else
		notok "rr $1/$1 against socat's echo: $(tail -1 "$LOG.c7")"
	fi
}
rr_echo 64 2 "$RR_N"
rr_echo 3000 2 2000 # larger than a segment each way

# ---- net_af_packet on a veth pair, Linux in a second namespace ----
# The kernel's end in NS2 (198.18.1.1) with offloads off (the raw socket
# cannot take GSO frames or unfinished checksums); polyhost's end in NS has
# no address of the kernel's, so only polyhost answers for 198.18.1.2.
ip netns add "$NS2" || skip "cannot create a second namespace"
ip link add "$VA" netns "$NS" type veth peer name "$VB" netns "$NS2"
for end in "$NS:$VA" "$NS2:$VB"; do
	ip netns exec "${end%%:*}" sysctl -qw "net.ipv6.conf.${end#*:}.disable_ipv6=1"
	ip netns exec "${end%%:*}" ethtool -K "${end#*:}" tx off tso off gso off gro off >/dev/null 2>&1
	ip netns exec "${end%%:*}" ip link set "${end#*:}" up
done
ip netns exec "$NS2" ip link set lo up
ip netns exec "$NS2" ip addr add 198.18.1.1/24 dev "$VB"
cat > "$CONF_V" <<INI
[eal]
args = --no-huge -m 512 --no-pci --no-shconf --file-prefix=$PREFIX-v --log-level=user1:notice
lcores = 1
[port p0]
device = net_af_packet0,iface=$VA
address = 198.18.1.2/24
INI
ns2() { ip netns exec "$NS2" taskset -c 0 timeout "$T" "$@"; }
# vperf LOG PATTERN ARGS...: ph-perf on the af_packet port, in the background
# (PID), started when LOG shows PATTERN ("" for a client: at once).
vperf() {
	local log=$1 pat=$2
	shift 2
	ip netns exec "$NS" timeout -k 5 "$T" "$PERF" -c "$CONF_V" -- "$@" > "$log" 2>&1 &
	PID=$!
	[ -z "$pat" ] && return 0
	for _ in $(seq 1 100); do
		grep -q "$pat" "$log" && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	notok "ph-perf $* started on af_packet: $(tail -3 "$log")"
	return 1
}
# vdone LOG WHAT: wait for the ph-perf in PID, judge its exit and mbufs.
vdone() {
	local rc=0
	wait "$PID" || rc=$?
	PID=
	if [ $rc -eq 0 ] && mbufs_back "$1"; then
		ok "$2: $(perf_result "$1")"
	else
		notok "$2: exit $rc: $(perf_result "$1" || tail -1 "$1")"
	fi
	return $rc
}
if vperf "$LOG.v1" listening server 5011 --raw --verify --sha256 --expect-sha256 "$EXP" --once; then
	"$PERF" gen --bytes "$SIZE" | ns2 socat -u - TCP:198.18.1.2:5011
	vdone "$LOG.v1" "af_packet: socat -> ph-perf sink at full speed, every byte checked"
	echo "# $(grep -E "tcp_ofo_queued|tcp_out_of_window" "$LOG.v1" | tr -s ' \n' ' ')"
fi
if vperf "$LOG.v2" listening server 5012 --raw --source "$SIZE" --sha256 --once; then
	ns2 socat -u TCP:198.18.1.2:5012 - | sha256sum > "$LOG.got"
	vdone "$LOG.v2" "af_packet: ph-perf source -> socat"
	check "af_packet: socat got the pattern's sha256" [ "$(sum_of "$LOG.got")" = "$EXP" ]
fi
ip netns exec "$NS2" taskset -c 0 timeout "$T" sh -c \
	"$PERF gen --bytes $SIZE | socat -u - TCP-LISTEN:5013,reuseaddr" &
SRC=$!
BG_PIDS="$BG_PIDS $SRC"
vperf "$LOG.v3" "" client 198.18.1.1:5013 --raw --reverse --verify --sha256 \
	--expect-sha256 "$EXP" --wait 5000
vdone "$LOG.v3" "af_packet: socat -> ph-perf client, every byte checked"
bg_end "$SRC" $?
ip netns exec "$NS2" taskset -c 0 timeout "$T" sh -c \
	"socat -u TCP-LISTEN:5014,reuseaddr - | sha256sum > $LOG.vsink" &
SINK=$!
BG_PIDS="$BG_PIDS $SINK"
vperf "$LOG.v4" "" client 198.18.1.1:5014 --raw --bytes "$SIZE" --sha256 --wait 5000
vdone "$LOG.v4" "af_packet: ph-perf client -> socat"
rc=$?
bg_end "$SINK" $rc
[ $rc -eq 0 ] && check "af_packet: socat received the pattern's sha256" \
	[ "$(sum_of "$LOG.vsink")" = "$EXP" ]

# ---- stack to stack over net_memif ----
# Two processes, one CPU each; the server listens before the client starts.
memif_conf() { # FILE PREFIX LCORE ROLE ADDRESS
	cat > "$1" <<INI
[eal]
args = --no-huge -m 512 --no-pci --no-shconf --file-prefix=$2 --log-level=user1:notice
lcores = $3
[port m0]
device = net_memif0,role=$4,id=0,socket=$SOCK,socket-abstract=no
address = $5/24
INI
}
memif_conf "$CONF_S" "$PREFIX-s" 0 server 198.18.2.1
memif_conf "$CONF_C" "$PREFIX-c" 1 client 198.18.2.2

# memif_pair NAME "SERVER ARGS" CLIENT ARGS...: a fresh pair of processes
# (the memif server must outlive its client), both must exit 0 with their
# mbufs back. The client's output is in $LOG.mc, the server's in $LOG.ms.
memif_pair() {
	local name=$1 sargs=$2 rc=0 src=0
	shift 2
	rm -f "$SOCK"
	# shellcheck disable=SC2086
	if ! ns_start "$NS" "$LOG.ms" "listening" timeout -k 5 "$T" "$PERF" -c "$CONF_S" -- \
		server 5001 --once $sargs; then
		notok "$name: server started: $(tail -5 "$LOG.ms")"
		return
	fi
	ip netns exec "$NS" timeout -k 5 "$T" "$PERF" -c "$CONF_C" -- client 198.18.2.1:5001 \
		--wait 15000 "$@" > "$LOG.mc" 2>&1 || rc=$?
	wait "$PID" || src=$?
	PID=
	if [ $rc -eq 0 ] && [ $src -eq 0 ] && mbufs_back "$LOG.mc" && mbufs_back "$LOG.ms"; then
		ok "$name: $(perf_result "$LOG.mc")"
	else
		notok "$name: client exit $rc, server exit $src: $(tail -3 "$LOG.mc") / $(tail -3 "$LOG.ms")"
	fi
}

memif_pair "memif bulk $SIZE client -> server" "--sha256 --expect-sha256 $EXP" \
	--bytes "$SIZE" --sha256 --expect-sha256 "$EXP"
check "memif bulk: the server's sha256 is the pattern's ($(perf_result "$LOG.ms"))" \
	grep -q "sha256=$EXP result=ok" "$LOG.ms"
memif_pair "memif bulk $SIZE server -> client" "--sha256 --expect-sha256 $EXP" \
	--reverse --bytes "$SIZE" --sha256 --expect-sha256 "$EXP"
check "memif bulk reverse: the server sent the pattern ($(perf_result "$LOG.ms"))" \
	grep -q "sha256=$EXP result=ok" "$LOG.ms"
memif_pair "memif bulk $SIZE over 4 connections, every byte checked" "" --bytes "$SIZE" --conns 4
memif_pair "memif rr 64/1024 x $RR_N over 2 connections" "" --test rr --req 64 --resp 1024 \
	--conns 2 --transactions "$RR_N"
memif_pair "memif rr 1/1 for 2 s" "" --test rr --seconds 2
# A connection per transaction, the server closing first (its TIME-WAIT
# entries are reused by the client's next SYNs on the same ports).
memif_pair "memif crr 64/64: $CRR_N connections, 16 at a time" "" --test crr --req 64 --resp 64 \
	--conns 16 --transactions "$CRR_N"
check "... the server saw $CRR_N connections" grep -q "connections=$CRR_N " "$LOG.ms"
# A client host that restarts: the second client process (a new host with
# the same address) reuses 4-tuples the server still holds in TIME-WAIT from
# the first. Its timestamps keep growing across the restart (the clock is
# the machine's uptime, the offsets keyed by the boot id), so each such SYN
# reopens the connection at once (RFC 6191) rather than meeting PAWS and
# waiting out the server's TIME-WAIT (a minute: the connect gives up first).
# 20000 connections take most of the ephemeral range, so the second run's
# ports meet the first's.
rm -f "$SOCK"
if ns_start "$NS" "$LOG.ms" "listening" timeout -k 5 "$T" "$PERF" -c "$CONF_S" -- \
	server 5001 --count 2; then
	rc1=0 rc2=0 src=0
	ip netns exec "$NS" timeout -k 5 "$T" "$PERF" -c "$CONF_C" -- client 198.18.2.1:5001 \
		--wait 3000 --test crr --conns 16 --transactions 20000 > "$LOG.mc" 2>&1 || rc1=$?
	ip netns exec "$NS" timeout -k 5 "$T" "$PERF" -c "$CONF_C" -- client 198.18.2.1:5001 \
		--wait 3000 --test crr --conns 16 --transactions 20000 > "$LOG.mc2" 2>&1 || rc2=$?
	wait "$PID" || src=$?
	PID=
	reused=$(perf_report "$LOG.ms" tcp_timewait_reused)
	check "memif crr from a restarted client: both runs ok (exit $rc1, $rc2, server $src)" \
		test $rc1 -eq 0 -a $rc2 -eq 0 -a $src -eq 0
	check "... TIME-WAIT entries reused ($reused), no SYN refused by PAWS" \
		sh -c "[ '${reused:-0}' -gt 0 ] && ! grep -q tcp_paws_rejected '$LOG.ms'"
else
	notok "memif crr from a restarted client: server started: $(tail -5 "$LOG.ms")"
fi

# Two workers on each side (three lcores on two CPUs). The sender picks the
# memif queue, so steering brings each segment to its flow's owner on both
# sides, and connect() picks ports whose replies come home.
memif_conf "$CONF_S" "$PREFIX-s" "0@0,1@1,2@1" server 198.18.2.1
memif_conf "$CONF_C" "$PREFIX-c" "0@1,1@0,2@0" client 198.18.2.2
# no_handoff: every segment found its connection on its owner, at both ends.
# (How many were steered depends on which queue each sender's lcore uses:
# shown, not asserted; a few connections may all land home by chance.)
no_handoff() {
	local f
	for f in "$LOG.mc" "$LOG.ms"; do
		[ "$(perf_report "$f" tcp_segs_off_owner)" -eq 0 ] || return 1
	done
}
memif_pair "memif, two workers a side: bulk 64M over 4 connections, every byte checked" "" \
	--bytes 64M --conns 4
check "... every connection on its owner (steered: client $(perf_report "$LOG.mc" steered_pkts), server $(perf_report "$LOG.ms" steered_pkts))" \
	no_handoff
memif_pair "memif, two workers a side: rr 64/1024 x $RR_N over 4 connections" "" --test rr \
	--req 64 --resp 1024 --conns 4 --transactions "$RR_N"
check "... every connection on its owner (steered: client $(perf_report "$LOG.mc" steered_pkts), server $(perf_report "$LOG.ms" steered_pkts))" \
	no_handoff
# The server's one listener (no SO_REUSEPORT): each worker accepts the
# connections its lcore owns, from its own queue.
memif_pair "memif, two workers a side: crr $CRR_N connections, 16 at a time, one listener" "" \
	--test crr --conns 16 --transactions "$CRR_N"
accepted=$(sed -n 's/.* accepted=\([0-9,]*\) .*/\1/p' "$LOG.ms")
check "... both server workers accepted from the one listener ($accepted)" \
	grep -qE " accepted=[1-9][0-9]*,[1-9][0-9]* " "$LOG.ms"
check "... every connection on its owner (steered: client $(perf_report "$LOG.mc" steered_pkts), server $(perf_report "$LOG.ms" steered_pkts))" \
	no_handoff

[ "$FAILED" -eq 0 ] || { echo "logs: $LOG.*"; exit 1; }
exit 0
