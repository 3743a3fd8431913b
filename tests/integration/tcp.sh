#!/bin/bash
# TCP's behaviour as the Linux kernel sees it, through net_tap in a namespace
# of this test's own, with ph-perf (apps/ph-perf) as polyhost's end:
#  - a SYN to a port nobody listens on gets a RST (Linux: "Connection
#    refused"; tcpOutRsts moves);
#  - the kernel's TCP_INFO shows timestamps, SACK and window scaling
#    negotiated, and an MSS of 1448 (1500 - 40 - 12 for timestamps);
#  - `phctl conns` lists the listener and a connection while it runs;
#  - a Linux receiver that does not read for 3 s (4 KiB buffer): polyhost's
#    sender meets a zero window, probes it (tcp_persist_probes moves), and
#    every byte arrives (sha256);
#  - with iptables dropping 2% of the peer's packets (statistic match on the
#    kernel's OUTPUT: ACKs when polyhost sends, data when it receives), SIZE
#    bytes from polyhost to Linux and from Linux to polyhost, both checked
#    by sha256; polyhost keeps out-of-order data, and no connection resets;
#    polyhost's retransmissions cover what the router dropped on the way to
#    Linux (and not more than 4 times that, plus 50);
#  - with nft duplicating 2% of the packets each way, 32 MiB from Linux to
#    polyhost, checked by sha256;
#  - every ph-perf exits 0 with every mbuf back in its pool.
# Usage: tcp.sh BUILD_DIR. SIZE defaults to 256M (LONG=1: 1G).
# Exit 0 pass, 1 fail, 77 skip.
set -u
BUILD=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
NS=ph-$$-t
TAP=pht$$
PREFIX=ph-tcp-$$
CONF=/tmp/ph-tcp-$$.ini
LOG=/tmp/ph-tcp-$$.log
PERF=$BUILD/apps/ph-perf
PY=/usr/bin/python3
PEER="$HERE/tcp_peer.py"
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

if [ "${LONG:-0}" = 1 ]; then SIZE=${SIZE:-1G} T=1200; else SIZE=${SIZE:-256M} T=300; fi

[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip socat iptables taskset timeout sha256sum; do
	command -v $t >/dev/null || skip "$t missing"
done
[ -x "$PERF" ] || skip "$PERF not built"

cleanup() {
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && sleep 1
	ns_cleanup
	rm -f "$CONF"
	[ "$FAILED" -eq 0 ] && [ -z "${KEEP_LOGS:-}" ] && rm -f "$LOG" "$LOG".*
}
trap cleanup EXIT


tap_host_conf 1 > "$CONF"

ip netns add "$NS" || skip "cannot create a network namespace"
nsx ip link set lo up

# ---- a long-running sink: refused port, options, phctl ----
if ! ns_start "$NS" "$LOG.s" "listening" timeout -k 5 "$T" "$PERF" -c "$CONF" -- \
	server 5101 --raw --sink --sha256; then
	notok "ph-perf server started: $(tail -5 "$LOG.s")"
	exit 1
fi
SRV=$PID
peer_up

RSTS=$(counter tcpOutRsts)
out=$(nsx timeout 5 bash -c 'echo x > /dev/tcp/198.18.0.2/5999' 2>&1)
check "a SYN to a closed port is refused ($out)" grep -q "Connection refused" <<< "$out"
check "tcpOutRsts moved" [ "$(counter tcpOutRsts)" -gt "$RSTS" ]

info=$(nsx timeout 10 "$PY" "$PEER" info 198.18.0.2 5101 2>&1)
check "the kernel negotiated timestamps ($info)" grep -q "ts 1" <<< "$info"
check "the kernel negotiated SACK" grep -q "sack 1" <<< "$info"
# Our shift for a 256 KiB buffer is 3; the kernel's own is what it chose.
check "the kernel negotiated window scaling (ours: 3)" grep -qE "wscale 3,[0-9]+" <<< "$info"
check "MSS 1448 with timestamps on a 1500 MTU" grep -q "mss 1448" <<< "$info"

# A connection that stays open while phctl looks.
nsx taskset -c 0 timeout 20 sh -c 'sleep 3 | socat -u - TCP:198.18.0.2:5101' &
SLOW=$!
sleep 1
conns=$("$BUILD/apps/phctl" -p "$PREFIX" conns)
check "phctl conns shows the listener" grep -qE "^LISTEN .* 0\.0\.0\.0:5101" <<< "$conns"
check "phctl conns shows the connection with ts, sack, wscale" \
	grep -qE "^ESTAB .*198\.18\.0\.2:5101 +198\.18\.0\.1:" <<< "$conns"
check "... and its details" grep -qE "ts sack wscale:[0-9]+,3 rto:" <<< "$conns"
check "tcpCurrEstab counts it" [ "$(counter tcpCurrEstab)" -ge 1 ]
ports=$("$BUILD/apps/phctl" -p "$PREFIX" ports)
check "phctl ports shows TCP segmentation offload on the tap" grep -qw "tso" <<< "$ports"
wait "$SLOW"
PID=$SRV
if ns_stop; then
	check "sink: SIGTERM, exit 0, every mbuf back" mbufs_back "$LOG.s"
else
	notok "sink exited non-zero: $(tail -5 "$LOG.s")"
fi


# ---- persist: a receiver that stops reading ----
EXP8=$("$PERF" gen --bytes 8M | sha256sum | cut -d' ' -f1)
nsx taskset -c 0 timeout 60 "$PY" "$PEER" slow-sink 5102 3 4096 > "$LOG.slow" 2>&1 &
SLOW=$!
sleep 0.5
if perf_client "$LOG.c1" 198.18.0.1:5102 --raw --bytes 8M --timeout 30; then
	ok "8 MiB to a receiver that paused 3 s: $(perf_result "$LOG.c1")"
else
	notok "8 MiB to a paused receiver: $(tail -5 "$LOG.c1")"
fi
wait "$SLOW"
check "the paused receiver got every byte ($(cat "$LOG.slow" | tail -1))" \
	grep -q "bytes 8388608 sha256 $EXP8" "$LOG.slow"
check "zero-window probes were sent (tcp_persist_probes $(perf_report "$LOG.c1" tcp_persist_probes))" \
	[ "$(perf_report "$LOG.c1" tcp_persist_probes)" -gt 0 ]
check "client: every mbuf back" mbufs_back "$LOG.c1"

# ---- 2% loss each way, through a Linux router ----
# Packets a namespace's own TCP sends and iptables drops on OUTPUT never
# count as lost (the kernel sees the drop and sends again), so the Linux peer
# sits behind a router namespace (the tap's side) whose FORWARD chain drops
# 2% of the TCP packets in each direction: real loss for both ends.
R=ph-$$-r
ip netns add "$R" || skip "cannot create a second namespace"
ip link add "phv$$a" type veth peer name "phv$$b" || skip "no veth"
ip link set "phv$$b" netns "$R"
ip link set "phv$$a" netns "$NS"
nsx ip addr add 198.18.1.1/24 dev "phv$$a"
nsx ip link set "phv$$a" up
nsx sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$R" ip link set lo up
ip netns exec "$R" ip addr add 198.18.1.2/24 dev "phv$$b"
ip netns exec "$R" ip link set "phv$$b" up
ip netns exec "$R" ip route add default via 198.18.1.1
for dir in "-d 198.18.1.2" "-s 198.18.1.2"; do
	# shellcheck disable=SC2086
	nsx iptables -A FORWARD -p tcp $dir -m statistic --mode random --probability 0.02 -j DROP
done
rx() { ip netns exec "$R" "$@"; }
cat >> "$CONF" <<INI
[context default]
route = 198.18.1.0/24 via 198.18.0.1
INI

# fwd_drops: packets the FORWARD rule toward the Linux peer (-d) has dropped.
fwd_drops() {
	nsx iptables -L FORWARD -n -v -x | awk '/statistic/ && $9 == "198.18.1.2" {s += $1} END {print s + 0}'
}
EXP=$("$PERF" gen --bytes "$SIZE" | sha256sum | cut -d' ' -f1)
DROPS0=$(fwd_drops)
rx taskset -c 0 timeout "$T" sh -c "socat -u TCP-LISTEN:5103,reuseaddr - | sha256sum > $LOG.sink" &
SINK=$!
sleep 0.5
if perf_client "$LOG.c2" 198.18.1.2:5103 --raw --bytes "$SIZE" --sha256 --expect-sha256 "$EXP" \
	--timeout 60; then
	ok "polyhost -> Linux, $SIZE, 2% loss each way: $(perf_result "$LOG.c2")"
else
	notok "polyhost -> Linux with loss: $(tail -5 "$LOG.c2")"
fi
wait "$SINK"
check "Linux received $SIZE intact through the loss" [ "$(cut -d' ' -f1 "$LOG.sink")" = "$EXP" ]
check "polyhost retransmitted (tcpRetransSegs $(perf_report "$LOG.c2" tcpRetransSegs))" \
	[ "$(perf_report "$LOG.c2" tcpRetransSegs)" -gt 0 ]
check "no reset on the way" [ "$(perf_report "$LOG.c2" tcpEstabResets)" -eq 0 ]
# net_tap offers TSO: new data left in sends of several segments, which the
# tap cut (rte_gso) into frames the router and Linux took.
check "sends of several segments went through TSO (tcp_tso_sends $(perf_report "$LOG.c2" tcp_tso_sends))" \
	[ "$(perf_report "$LOG.c2" tcp_tso_sends)" -gt 0 ]
# Every segment the router dropped on its way to Linux was sent again, and not
# absurdly often: DROPS <= tcpRetransSegs <= 4 DROPS + 50. Besides data the
# rule can only have met the SYN, the FIN and the last ACK (3 of slack).
DROPS=$(($(fwd_drops) - DROPS0))
RETRANS=$(perf_report "$LOG.c2" tcpRetransSegs)
retrans_ok() { [ "$RETRANS" -ge $((DROPS - 3)) ] && [ "$RETRANS" -le $((4 * DROPS + 50)) ]; }
check "retransmissions cover the drops toward Linux (dropped $DROPS, tcpRetransSegs $RETRANS)" \
	retrans_ok

if ns_start "$NS" "$LOG.s3" "listening" timeout -k 5 "$T" "$PERF" -c "$CONF" -- \
	server 5104 --raw --sink --sha256 --expect-sha256 "$EXP" --once --timeout 60; then
	peer_up
	"$PERF" gen --bytes "$SIZE" | rx taskset -c 0 timeout "$T" socat -u - TCP:198.18.0.2:5104
	rc=0
	wait "$PID" || rc=$?
	PID=
	check "Linux -> polyhost, $SIZE, 2% loss each way: sha256 equal ($(perf_result "$LOG.s3"))" \
		grep -q "sha256=$EXP result=ok" "$LOG.s3"
	check "sink: exit 0, every mbuf back" clean_exit "$rc" "$LOG.s3"
	check "the sink kept out-of-order data (tcp_ofo_queued $(perf_report "$LOG.s3" tcp_ofo_queued))" \
		[ "$(perf_report "$LOG.s3" tcp_ofo_queued)" -gt 0 ]
else
	notok "ph-perf sink started: $(tail -5 "$LOG.s3")"
fi
drops=$(nsx iptables -L FORWARD -n -v -x | awk '/statistic/ {s += $1} END {print s + 0}')
check "the router dropped segments ($drops)" [ "$drops" -gt 100 ]

# ---- duplicates: the router copies 2% of the packets each way (nft dup) ----
# No loss now; 32 MiB from Linux to polyhost, so polyhost receives duplicated
# data and Linux duplicated ACKs.
if command -v nft >/dev/null; then
	nsx iptables -F FORWARD
	EXP32=$("$PERF" gen --bytes 32M | sha256sum | cut -d' ' -f1)
	if ns_start "$NS" "$LOG.s4" "listening" timeout -k 5 "$T" "$PERF" -c "$CONF" -- \
		server 5105 --raw --sink --sha256 --expect-sha256 "$EXP32" --once --timeout 60; then
		peer_up
		# After the start: the rule names the tap this ph-perf made.
		nsx nft -f - <<NFT
table ip phdup$$ {
	chain dup_copies {
		type filter hook forward priority 10;
		ip daddr 198.18.0.2 tcp dport 5105 numgen random mod 100 < 2 counter dup to 198.18.0.2 device $TAP
		ip daddr 198.18.1.2 tcp sport 5105 numgen random mod 100 < 2 counter dup to 198.18.1.2 device phv$$a
	}
}
NFT
		"$PERF" gen --bytes 32M | rx taskset -c 0 timeout "$T" socat -u - TCP:198.18.0.2:5105
		rc=0
		wait "$PID" || rc=$?
		PID=
		dups=$(nsx nft list table ip phdup$$ |
			awk '{for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1)} END {print s + 0}')
		check "Linux -> polyhost, 32 MiB, 2% duplicated each way: sha256 equal ($(perf_result "$LOG.s4"))" \
			grep -q "sha256=$EXP32 result=ok" "$LOG.s4"
		check "the router duplicated packets ($dups copies)" [ "$dups" -gt 10 ]
		check "sink: exit 0, every mbuf back" clean_exit "$rc" "$LOG.s4"
		nsx nft delete table ip phdup$$
	else
		notok "ph-perf sink started: $(tail -5 "$LOG.s4")"
	fi
else
	echo "SKIP: nft missing: the duplication transfer was not run"
fi
ip netns del "$R"

[ "$FAILED" -eq 0 ] || { echo "logs: $LOG.*"; exit 1; }
exit 0
