#!/bin/bash
# TCP under attack, with the Linux kernel as the comparison and the RFCs as
# the oracle. polyhostd (discard on 9, echo on 7 and 17, [tcp] max_backlog
# 16) runs on net_tap in a namespace of this test's own (NS); a second
# namespace (LN), behind a veth pair, holds a Linux listener with the same
# services (hostile.py serve). From NS:
#  1. hostile.py corpus: hostile segments on connections the script opened
#     itself (RST in and out of the window, SYN on an established connection,
#     ACKs of unsent and of too old data, PAWS, bad option lengths, data
#     offsets 4 and 15, MSS 0, window scale 15, SYN+FIN, no flags, a bad
#     checksum, a forged ICMP error), each answer classed (RST, SYN-ACK, ACK,
#     ACCEPT, ICMP, drop) at both listeners, polyhost's counters checked;
#     then hostile.py budget: in-window RSTs at 5000/s, the per-second
#     challenge-ACK budget must not be a constant (RFC 5961 10);
#  2. nmap -sS -sF -sX -sN -sA against one open and three closed ports of
#     both, polyhost's verdicts compared with RFC 9293's;
#  3. a SYN flood (hping3, a fixed spoofed source in 198.19.0.0/16 that
#     nothing routes back) on echo while a legitimate client makes 200
#     connections to it: >= 99% must succeed, tcp_syncookies_sent must move;
#  4. polyhost still serves (1 MiB through echo on 17), exits 0 on SIGTERM
#     with every mbuf back.
# The script's own kernel would reset the connections scapy plays: NS drops
# its outgoing RSTs from ports 40000-44999 (the script's), in NS only.
# Usage: attack.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
set -u
BUILD=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
NS=ph-$$-k
LN=ph-$$-l
TAP=pht$$
VA=phv$$a
VB=phv$$b
PREFIX=ph-attack-$$
CONF=/tmp/ph-attack-$$.ini
LOG=/tmp/ph-attack-$$.log
PY=/usr/bin/python3
HOSTILE="$HERE/hostile.py"
PHCTL=$BUILD/apps/phctl
FLOOD_N=${FLOOD_N:-20000}      # SYNs
FLOOD_GAP=${FLOOD_GAP:-200}    # µs between them (~5000/s)
LEGIT_N=${LEGIT_N:-200}        # connections of the legitimate client
SPOOF=198.19.66.6              # routed nowhere: polyhost's SYN-ACKs die in NS
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip iptables nmap hping3 socat ethtool taskset timeout ss cmp; do
	command -v $t >/dev/null || skip "$t missing"
done
$PY -c "import scapy.all" 2>/dev/null || skip "scapy missing under $PY (python3-scapy)"
{ [ -x "$BUILD/apps/polyhostd" ] && [ -x "$PHCTL" ]; } || skip "polyhostd or phctl not built"

cleanup() {
	ns_cleanup
	ip netns del "$LN" 2>/dev/null
	rm -f "$CONF"
	[ "$FAILED" -eq 0 ] && [ -z "${KEEP_LOGS:-}" ] && rm -f "$LOG" "$LOG".*
}
trap cleanup EXIT
lx() { ip netns exec "$LN" "$@"; }

{ tap_host_conf 1; cat <<INI
[tcp]
max_backlog = 16
[context default]
route = 198.19.0.0/16 via 198.18.0.1
[service discard]
type = discard
listen = tcp:0.0.0.0:9
[service echo]
type = echo
listen = tcp:198.18.0.2:7
[service after]
type = echo
listen = tcp:198.18.0.2:17
INI
} > "$CONF"

ip netns add "$NS" || skip "cannot create a network namespace"
ip netns add "$LN" || skip "cannot create a second namespace"
nsx ip link set lo up
lx ip link set lo up
if ! polyhostd_start "$NS" "$BUILD" "$CONF" "$LOG"; then
	cat "$LOG"
	notok "polyhostd started"
	exit 1
fi
SRV=$PID
peer_up
STACK_MAC=$(stack_mac)
[ -n "$STACK_MAC" ] || { notok "phctl addr gave the stack's MAC"; exit 1; }

# The Linux listener: 198.18.2.2 in LN, reached from NS (198.18.2.1) over veth.
ip link add "$VA" type veth peer name "$VB" || skip "no veth"
ip link set "$VA" netns "$NS"
ip link set "$VB" netns "$LN"
nsx ip addr add 198.18.2.1/24 dev "$VA"
lx ip addr add 198.18.2.2/24 dev "$VB"
# veth_up RUN IF: checksums in software both ways (a veth would pass a frame
# from a packet socket as already verified; scapy would see unfinished ones).
veth_up() {
	$1 sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
	$1 ethtool -K "$2" rx off tx off tso off gso off gro off >/dev/null 2>&1
	$1 ip link set "$2" up
}
veth_up nsx "$VA"
veth_up lx "$VB"
LINUX_MAC=$(lx cat "/sys/class/net/$VB/address")
# Not through lx: the PID kept for cleanup must be timeout's, not a subshell's.
ip netns exec "$LN" timeout 300 "$PY" "$HOSTILE" serve --echo 7 --discard 9 > "$LOG.lx" 2>&1 &
BG_PIDS="$BG_PIDS $!"
# The kernel of NS must not reset what scapy plays (its ports only).
nsx iptables -A OUTPUT -p tcp --sport 40000:44999 --tcp-flags RST RST -j DROP
for _ in $(seq 1 50); do grep -q serving "$LOG.lx" && break; sleep 0.1; done
nsx ping -q -c 1 -W 2 198.18.2.2 >/dev/null || notok "the Linux listener answers ping"
nsx ping -q -c 1 -W 2 198.18.0.2 >/dev/null || notok "polyhost answers ping"

# ---- 1. the corpus ----
echo "# 1. hostile segments: polyhost (198.18.0.2) and Linux (198.18.2.2), port 9"
if nsx taskset -c 0 timeout 150 "$PY" "$HOSTILE" corpus --tap "$TAP" --stack-mac "$STACK_MAC" \
	--phctl "$PHCTL" --prefix "$PREFIX" --veth "$VA" --linux-mac "$LINUX_MAC" \
	--linux-ns "$LN" > "$LOG.corpus" 2>&1; then
	rc=0
else
	rc=$?
fi
grep -v "^ok - " "$LOG.corpus" | grep -v "^not ok - "
grep -E "^(not )?ok - " "$LOG.corpus" | while read -r l; do echo "    $l"; done
check "hostile segments: polyhost answered each as the RFC says (status $rc)" [ "$rc" -eq 0 ]
check "polyhostd alive after the corpus" kill -0 "$SRV"

echo "# challenge-ACK budget: in-window RSTs at 5000/s on one connection"
if nsx taskset -c 0 timeout 60 "$PY" "$HOSTILE" budget --tap "$TAP" --stack-mac "$STACK_MAC" \
	--phctl "$PHCTL" --prefix "$PREFIX" > "$LOG.budget" 2>&1; then
	rc=0
else
	rc=$?
fi
sed 's/^/    /' "$LOG.budget"
check "challenge ACKs: limited, budget not a constant (status $rc)" [ "$rc" -eq 0 ]

# ---- 2. nmap ----
# scan TYPE ADDR: "port:state ..." from nmap's grepable output.
PORTS=9,5001,5002,5003
scan() {
	nsx taskset -c 0 timeout 90 nmap -n -Pn "$1" -p "$PORTS" --max-retries 1 -T4 \
		--host-timeout 60s -oG - "$2" 2>/dev/null |
		sed -n 's/.*Ports: //p' | tr ',' '\n' |
		awk -F/ '{gsub(/ /, "", $1); printf "%s:%s ", $1, $2}'
}
echo "# 2. nmap -p $PORTS (9 open, the others closed)"
printf "    %-4s %-52s %s\n" scan "polyhost" "Linux"
for s in sS sF sX sN sA; do
	case $s in
	sS) want="9:open 5001:closed 5002:closed 5003:closed " ;;
	sA) want="9:unfiltered 5001:unfiltered 5002:unfiltered 5003:unfiltered " ;;
	*) want="9:open|filtered 5001:closed 5002:closed 5003:closed " ;;
	esac
	p=$(scan "-$s" 198.18.0.2)
	l=$(scan "-$s" 198.18.2.2)
	printf "    %-4s %-52s %s\n" "-$s" "$p" "$l"
	check "nmap -$s: polyhost as RFC 9293 says ($want)" [ "$p" = "$want" ]
	[ "$l" = "$want" ] || echo "    # Linux differs from RFC 9293 on -$s"
done
check "polyhostd alive after the scans" kill -0 "$SRV"

# ---- 3. SYN flood with a legitimate client alongside ----
ctr() { counter "$1" 2>/dev/null || echo missing; }
names="tcp_syncookies_sent tcp_syncookies_recv tcp_syncookies_failed tcp_listen_overflows tcpPassiveOpens"
declare -A B
for n in $names; do B[$n]=$(ctr "$n"); done
echo "# 3. SYN flood: $FLOOD_N SYNs from $SPOOF at one per ${FLOOD_GAP} µs to echo (backlog 16),"
echo "#    and $LEGIT_N connections of a legitimate client"
# shellcheck disable=SC2016 # the inner shell expands them
ip netns exec "$NS" taskset -c 0 timeout 120 bash -c 'hping3 -q -S -p 7 -a "$0" -c "$1" -i "u$2" 198.18.0.2
	echo "flood took $SECONDS s"' "$SPOOF" "$FLOOD_N" "$FLOOD_GAP" > "$LOG.hping" 2>&1 &
FLOOD=$!
BG_PIDS="$BG_PIDS $FLOOD"
sleep 1 # the SYN queue fills first
# The client: one shell in NS, each connection a line through echo and back,
# at most 5 s each, 60 s in all; prints how many it tried and got back.
start=$SECONDS
# shellcheck disable=SC2016 # the inner shell expands them
read -r tried good < <(nsx taskset -c 0 timeout 75 bash -c '
	good=0 tried=0 start=$SECONDS
	for i in $(seq 1 '"$LEGIT_N"'); do
		[ $((SECONDS - start)) -lt 60 ] || break
		tried=$i
		out=$(echo "legit $i" | timeout 6 socat -T 5 - TCP4:198.18.0.2:7,connect-timeout=5 2>/dev/null)
		[ "$out" = "legit $i" ] && good=$((good + 1))
	done
	echo "$tried $good"')
tried=${tried:-0} good=${good:-0}
took=$((SECONDS - start))
flood_busy=0
kill -0 "$FLOOD" 2>/dev/null && flood_busy=1
wait "$FLOOD" 2>/dev/null
echo "    hping3: $(grep -E "packets transmitted" "$LOG.hping" | head -1)," \
	"$(grep -o "flood took .*" "$LOG.hping")"
echo "    legitimate: $good of $LEGIT_N succeeded ($tried tried in ${took} s;" \
	"the flood $([ $flood_busy = 1 ] && echo "outlasted them" || echo "ended first"))"
for n in $names; do
	a=$(ctr "$n")
	if [ "$a" = missing ] || [ "${B[$n]}" = missing ]; then
		echo "    $n: no such counter"
	else
		echo "    $n: ${B[$n]} -> $a (+$((a - B[$n])))"
	fi
done
check "SYN flood: >= 99% of the legitimate connections succeeded ($good/$LEGIT_N)" \
	[ $((good * 100)) -ge $((LEGIT_N * 99)) ]
moved() { local a; a=$(ctr "$1"); [ "$a" != missing ] && [ "${B[$1]}" != missing ] && [ "$a" -gt "${B[$1]}" ]; }
check "SYN flood: tcp_syncookies_sent moved" moved tcp_syncookies_sent
check "SYN flood: tcp_syncookies_recv moved (legitimate ACKs carried valid cookies)" \
	moved tcp_syncookies_recv
check "polyhostd alive after the flood" kill -0 "$SRV"

# ---- 4. still serving, clean exit ----
head -c $((1024 * 1024)) /dev/urandom > "$LOG.1m"
roundtrip() {
	nsx taskset -c 0 timeout 30 socat -b 65536 -t 10 - TCP4:198.18.0.2:17 < "$LOG.1m" \
		> "$LOG.1m.back" 2>/dev/null && cmp -s "$LOG.1m" "$LOG.1m.back"
}
check "afterwards: 1 MiB echoed intact by a fresh service" roundtrip
rc=0
ns_stop || rc=$?
check "SIGTERM: exit 0 (got $rc), every mbuf back" clean_exit "$rc" "$LOG"
if [ "$FAILED" -ne 0 ]; then
	echo "logs: $LOG*"
	exit 1
fi
exit 0
