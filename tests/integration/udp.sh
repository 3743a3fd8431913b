#!/bin/bash
# UDP with the Linux kernel as the peer, through net_tap in a namespace of
# this test's own:
#  - polyhostd's built-in echo service: socat and nc datagrams; COUNT
#    datagrams of 1..8000 bytes (fragmented above the MTU both ways) from a
#    Linux client, every echoed byte compared; ICMP port unreachable for a
#    closed port, seen by tshark on the Linux side and as ECONNREFUSED;
#    crafted datagrams (scapy): bad checksum, bad lengths, truncated header
#    each counted under its reason and not echoed; zero checksum and bytes
#    past the UDP length accepted as Linux does; ICMP errors rate-limited,
#    none for a broadcast;
#  - two worker lcores: the SO_REUSEPORT service bound on both, 32 flows each
#    steered to its RSS owner and served there (no hand-off between lcores);
#  - ph-echo with a tiny SO_RCVBUF under a flood: overflow counted
#    (udp_receive_buffer_full), the server alive and still echoing;
#  - ph-echo's client against Linux UDP echo servers (python, and socat
#    UDP-RECVFROM with fork), every byte compared;
#  - clean SIGTERM with every mbuf back, each time.
# Usage: udp.sh BUILD_DIR [COUNT]. Exit 0 pass, 1 fail, 77 skip.
set -u
BUILD=$(realpath "$1")
COUNT=${2:-100000}
HERE=$(cd "$(dirname "$0")" && pwd)
NS=ph-$$-u
TAP=phu$$
PREFIX=ph-udp-$$
CONF=/tmp/ph-udp-$$.ini
LOG=/tmp/ph-udp-$$.log
PY=/usr/bin/python3
PEER="$HERE/udp_peer.py"
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip socat nc tshark; do command -v $t >/dev/null || skip "$t missing"; done

cleanup() {
	ns_cleanup
	rm -f "$CONF" "$LOG".*
	[ "$FAILED" -eq 0 ] && rm -f "$LOG"
}
trap cleanup EXIT


cat > "$CONF" <<INI
[eal]
args = --no-huge -m 512 --no-pci --no-shconf --file-prefix=$PREFIX --log-level=user1:notice
lcores = 0-1
[host]
; what udp_peer.py's RATE_LIMIT expects
icmp_rate = 20
icmp_burst = 10
[port p0]
device = net_tap0,iface=$TAP
address = 198.18.0.2/24
[service echo]
type = echo
listen = udp:198.18.0.2:7
[service discard]
type = discard
listen = udp:0.0.0.0:9
INI

ip netns add "$NS" || skip "cannot create a network namespace"
nsx ip link set lo up

# ---- polyhostd's built-in echo service ----
if ! polyhostd_start "$NS" "$BUILD" "$CONF" "$LOG"; then
	cat "$LOG"; notok "polyhostd started"; exit 1
fi
ok "polyhostd started with an echo and a discard service"
peer_up
socks=$("$BUILD/apps/phctl" -p "$PREFIX" socks)
check "phctl socks lists both services on the worker lcore" \
	grep -Eq "^udp +default +198.18.0.2:7 +\*:\* +1 .*reuseport" <<< "$socks"
grep -Eq "^udp +default +\*:9 +\*:\* +1 " <<< "$socks" || notok "phctl socks: $socks"

out=$(echo "one datagram" | nsx timeout 5 socat - UDP4:198.18.0.2:7)
check "socat: datagram echoed" [ "$out" = "one datagram" ]
head -c 7000 /dev/urandom > "$LOG.in"
nsx timeout 5 socat -b 65536 - UDP4:198.18.0.2:7 < "$LOG.in" > "$LOG.out"
check "socat: 7000-byte datagram echoed intact (5 fragments each way)" cmp -s "$LOG.in" "$LOG.out"
out=$(printf 'nc says hi' | nsx timeout 3 nc -u -w 1 198.18.0.2 7)
check "nc: datagram echoed" [ "$out" = "nc says hi" ]
out=$(printf 'into the void' | nsx timeout 3 nc -u -w 1 198.18.0.2 9)
check "discard service answers nothing" [ -z "$out" ]

before=$(counter udpInDatagrams)
if nsx "$PY" "$PEER" client 198.18.0.2 7 "$COUNT" 1 8000 42 > "$LOG.client"; then
	ok "$(cat "$LOG.client")"
else
	notok "$(cat "$LOG.client")"
fi
after=$(counter udpInDatagrams)
check "udpInDatagrams counted every datagram ($before -> $after)" [ $((after - before)) -ge "$COUNT" ]
reasm=$(counter ipReasmOKs)
frags=$(counter ipFragOKs)
check "reassembled and fragmented (ipReasmOKs $reasm, ipFragOKs $frags)" \
	test $((reasm > 0 && frags > 0)) -eq 1

# A closed port: ICMP port unreachable on the wire, ECONNREFUSED for the sender.
ns_bg timeout 20 tshark -l -i "$TAP" -f "icmp" -c 1 -a duration:15 -T fields \
	-e icmp.type -e icmp.code -e udp.dstport > "$LOG.tshark" 2> "$LOG.tshark-err"
TSHARK=$!
# tshark takes seconds to load its dissectors: send only once it captures.
for _ in $(seq 1 100); do
	grep -q "Capturing on" "$LOG.tshark-err" && break
	sleep 0.1
done
refused=$(echo x | nsx timeout 3 socat - UDP4:198.18.0.2:5555 2>&1)
wait $TSHARK
check "tshark saw ICMP type 3 code 3 about port 5555 ($(tr '\t' ' ' < "$LOG.tshark"))" \
	grep -q "^3[[:space:]]3[[:space:]]5555" "$LOG.tshark"
check "the Linux sender got ECONNREFUSED" grep -q "Connection refused" <<< "$refused"
check "udp_no_port counted" [ "$(counter udp_no_port)" -ge 1 ]
# Crafted datagrams: each malformed kind counted under its reason, no echo.
STACK_MAC=$(stack_mac)
if nsx "$PY" "$PEER" malformed "$TAP" "$STACK_MAC" 198.18.0.2 198.18.0.1 7 \
	"$BUILD/apps/phctl" "$PREFIX" > "$LOG.mal" 2>&1; then
	cat "$LOG.mal"
else
	cat "$LOG.mal"; notok "malformed datagrams"
fi
out=$(echo "after the malformed ones" | nsx timeout 5 socat - UDP4:198.18.0.2:7)
check "the echo service still answers" [ "$out" = "after the malformed ones" ]
check "polyhostd: clean shutdown, no mbuf lost" ns_stop
mbufs_back "$LOG" || notok "mempool report"

# ---- two workers, SO_REUSEPORT: each datagram served on its flow's owner ----
# Three lcores on two CPUs (the lead and two workers); the kernel spreads the
# flows over the tap's queues by its own hash, and steering brings each to
# the worker polyhost's RSS names (stack/flow).
if ! ns_start "$NS" "$LOG" "polyhostd: ready" "$BUILD/apps/polyhostd" -c "$CONF" \
	--lcores 0@0,1@1,2@1; then
	cat "$LOG"; notok "polyhostd started on two workers"; exit 1
fi
peer_up
socks=$("$BUILD/apps/phctl" -p "$PREFIX" socks)
check "the echo service is bound on both workers (lcores 1 and 2)" \
	[ "$(grep -Ec "^udp +default +198.18.0.2:7 +\*:\* +[12] .*reuseport" <<< "$socks")" -eq 2 ]
if out=$(nsx "$PY" "$PEER" flows 198.18.0.2 7 32 10); then ok "$out"; else notok "$out"; fi
in1=$("$BUILD/apps/phctl" -p "$PREFIX" -l 1 get udpInDatagrams)
in2=$("$BUILD/apps/phctl" -p "$PREFIX" -l 2 get udpInDatagrams)
handoffs=$(counter sockInboxOut)
check "both workers served flows (udpInDatagrams $in1 + $in2), none handed to another lcore ($handoffs)" \
	test $((in1 > 0 && in2 > 0 && in1 + in2 >= 320 && handoffs == 0)) -eq 1
steered=$(counter steered_pkts)
check "datagrams were steered to their owners (steered_pkts $steered = steered_in)" \
	test $((steered > 0 && steered == $(counter steered_in))) -eq 1
check "polyhostd (two workers): clean shutdown, no mbuf lost" ns_stop

# ---- receive buffer overflow: counted, not fatal ----
if ! ns_start "$NS" "$LOG" "ph-echo: echo" "$BUILD/apps/ph-echo" -c "$CONF" --lcores 0 -- -p 7000 --copy \
	--rcvbuf 1; then
	cat "$LOG"; notok "ph-echo started"; exit 1
fi
peer_up
nsx "$PY" "$PEER" flood 198.18.0.2 7000 20000 1000
sleep 1
drops=$(counter udp_receive_buffer_full)
check "receive-buffer overflow counted (udp_receive_buffer_full $drops)" [ "${drops:-0}" -gt 0 ]
out=$(echo "still here" | nsx timeout 5 socat - UDP4:198.18.0.2:7000)
check "ph-echo still echoes after the flood" [ "$out" = "still here" ]
check "ph-echo: clean shutdown, no mbuf lost" ns_stop

# ---- polyhost's client, Linux's servers ----
ns_bg "$PY" "$PEER" echo 7000 120
ns_bg timeout 60 socat UDP4-RECVFROM:7001,fork EXEC:cat
sleep 0.5
# client ADDR:PORT ARGS...: ph-echo's client in the namespace, the kernel side
# configured once its tap exists; the client probes until the server answers.
client() {
	local to=$1; shift
	# Not through nsx: PID must be the program's, not a subshell's.
	ip netns exec "$NS" "$BUILD/apps/ph-echo" -c "$CONF" -- --client "$to" "$@" \
		> "$LOG.phc" 2>&1 &
	PID=$!
	peer_up
	wait "$PID"
}
if client 198.18.0.1:7000 -n "$COUNT" --min 1 --max 8000 --window 32; then
	ok "$(grep 'client: sent' "$LOG.phc") (Linux python echo)"
else
	notok "ph-echo client vs Linux python echo: $(tail -25 "$LOG.phc")"
fi
PID=
if client 198.18.0.1:7001 -n 300 --min 1 --max 8000 --window 4 --timeout 3000; then
	ok "$(grep 'client: sent' "$LOG.phc") (socat UDP-RECVFROM)"
else
	notok "ph-echo client vs socat UDP-RECVFROM: $(tail -25 "$LOG.phc")"
fi
PID=
check "ph-echo client: every mbuf back at exit" mbufs_back "$LOG.phc"

[ "$FAILED" -eq 0 ] || { echo "log: $LOG"; exit 1; }
exit 0
