#!/bin/bash
# Two networks with the same addresses on one host, kept apart by routing
# contexts. Two Linux hosts, each in a network namespace of this test's own,
# both 198.18.0.1/24 with the same MAC, each behind its own net_tap port:
#   ha 198.18.0.1 -- pa 198.18.0.2 (context red)
#   hb 198.18.0.1 -- pb 198.18.0.2 (context blue)
# polyhostd serves HTTP and echo on 198.18.0.2 in both contexts (the same
# address and ports). Each host reaches its own context's servers and never
# the other's; a capture on one side never shows the other side's traffic;
# phctl shows each context's neighbours, routes and counters apart. Then a
# polyhost client (ph-echo -x CONTEXT) reaches the Linux server of its own
# context only, though both are 198.18.0.1:7007.
# Usage: contexts.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
set -u
BUILD=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
NS=ph-$$-c
PREFIX=ph-test-$$
CONF=/tmp/ph-test-$$.ini
LOG=/tmp/ph-test-$$.log
WWW=/tmp/ph-test-$$-www
PHCTL="$BUILD/apps/phctl"
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip curl socat tcpdump; do
	command -v $t >/dev/null || skip "$t missing (make deps installs it)"
done

SIDES="a b"
tap() { echo "phc$$$1"; }
ctx_of() { [ "$1" = a ] && echo red || echo blue; }

cleanup() {
	ns_cleanup
	for s in $SIDES; do ip netns del "$(hns "$s")" 2>/dev/null; done
	rm -rf "$CONF" "$WWW" /tmp/ph-test-$$.*.cap /tmp/ph-test-$$.*.udp
	[ "$FAILED" -eq 0 ] && rm -f "$LOG" "$LOG.echo"
}
trap cleanup EXIT

mkdir -p "$WWW/red" "$WWW/blue"
echo red > "$WWW/red/which.txt"
echo blue > "$WWW/blue/which.txt"
ports_conf() {
	eal_conf 0-1
	cat <<INI
[port pa]
device = net_tap0,iface=$(tap a)
context = red
address = 198.18.0.2/24
[port pb]
device = net_tap1,iface=$(tap b)
context = blue
address = 198.18.0.2/24
[context red]
[context blue]
INI
}
{
	ports_conf
	for c in red blue; do
		cat <<INI
[service web-$c]
type = http
listen = tcp:198.18.0.2:80
context = $c
root = $WWW/$c
[service echo-$c]
type = echo
listen = udp:198.18.0.2:7, tcp:198.18.0.2:7
context = $c
INI
	done
} > "$CONF"

# attach: each tap's kernel side goes to its host's namespace (as a cable
# would), with the same address and MAC on both sides. After each start.
attach() {
	for s in $SIDES; do
		host_tap "$(tap "$s")" "$s" 198.18.0.1/24 02:00:00:00:00:01 || return 1
	done
}

ip netns add "$NS" || skip "cannot create a network namespace"
for s in $SIDES; do
	ip netns add "$(hns "$s")" || skip "cannot create namespaces"
	hx "$s" ip link set lo up
done
if ! polyhostd_start "$NS" "$BUILD" "$CONF" "$LOG"; then
	cat "$LOG"
	notok "polyhostd started"
	exit 1
fi
ok "polyhostd started"
attach || notok "taps moved to the hosts' namespaces"

# capture SIDE: tcpdump on a side's link (all but ARP) for 8 s, in the background.
capture() {
	hx "$1" timeout 8 tcpdump -n -U -i "$(tap "$1")" -w "/tmp/ph-test-$$.$1.cap" not arp \
		>/dev/null 2>&1 &
	CAP_PIDS="$CAP_PIDS $!"
}
captured() { tcpdump -n -r "/tmp/ph-test-$$.$1.cap" 2>/dev/null | wc -l; }

web_ok() { # web_ok SIDE: 20 requests, every answer its own context's file
	local s=$1 want out
	want=$(ctx_of "$s")
	for i in $(seq 1 20); do
		out=$(hx "$s" curl -s -m 5 "http://198.18.0.2/which.txt") || return 1
		[ "$out" = "$want" ] || { echo "request $i: got '$out', want '$want'"; return 1; }
	done
	echo "20 x $want"
}
echo_ok() { # echo_ok SIDE: UDP and TCP echo on port 7
	local s=$1 out
	out=$(echo "hello from $s" | hx "$s" socat -t 2 - UDP:198.18.0.2:7) || return 1
	[ "$out" = "hello from $s" ] || return 1
	out=$(echo "tcp from $s" | hx "$s" socat -t 2 - TCP:198.18.0.2:7) || return 1
	[ "$out" = "tcp from $s" ]
}

CAP_PIDS=
capture a
capture b
sleep 1
check "ha (red): HTTP on 198.18.0.2:80 answers red's file" web_ok a
check "ha (red): UDP and TCP echo on 198.18.0.2:7" echo_ok a
hx a ping -q -c 5 -i 0.05 198.18.0.2 >/dev/null
# shellcheck disable=SC2086
wait $CAP_PIDS
CAP_PIDS=
isolated() { # isolated QUIET BUSY: BUSY's link saw traffic, QUIET's none
	local q b
	q=$(captured "$1")
	b=$(captured "$2")
	echo "packets captured: $2's link $b, $1's link $q"
	[ "$b" -gt 40 ] && [ "$q" -eq 0 ]
}
check "ha's traffic never appears on hb's link" isolated b a

capture a
capture b
sleep 1
check "hb (blue): HTTP on 198.18.0.2:80 answers blue's file" web_ok b
check "hb (blue): UDP and TCP echo on 198.18.0.2:7" echo_ok b
# shellcheck disable=SC2086
wait $CAP_PIDS
check "hb's traffic never appears on ha's link" isolated a b

neigh_ok() {
	local out
	out=$("$PHCTL" -p "$PREFIX" neigh)
	echo "$out"
	echo "$out" | grep -q "^198.18.0.1 dev pa ctx red lladdr 02:00:00:00:00:01" &&
		echo "$out" | grep -q "^198.18.0.1 dev pb ctx blue lladdr 02:00:00:00:00:01" &&
		! "$PHCTL" -p "$PREFIX" neigh ctx blue | grep -q "ctx red"
}
check "phctl neigh: 198.18.0.1 once in each context, ctx filters" neigh_ok
views_ok() {
	local out
	out=$("$PHCTL" -p "$PREFIX" ctx)
	echo "$out"
	echo "$out" | grep -Eq "^red +id [0-9]+ +forwarding off .*interfaces: pa$" &&
		echo "$out" | grep -Eq "^blue +id [0-9]+ +forwarding off .*interfaces: pb$" || return 1
	out=$("$PHCTL" -p "$PREFIX" route show ctx blue)
	echo "$out"
	[ "$out" = "198.18.0.0/24 dev pb proto kernel scope link" ] || return 1
	out=$("$PHCTL" -p "$PREFIX" addr ctx red)
	echo "$out" | grep -q "inet 198.18.0.2/24" && ! echo "$out" | grep -q "pb:"
}
check "phctl ctx, route show ctx blue, addr ctx red" views_ok
in_local() { "$PHCTL" -p "$PREFIX" ctx "$1" | awk '$1 == "in" {print $4}'; }
ctr_ok() {
	local r b
	r=$(in_local red)
	b=$(in_local blue)
	echo "datagrams for the host: red $r, blue $b"
	[ "$r" -gt 100 ] && [ "$b" -gt 100 ]
}
check "per-context counters: both contexts received their own traffic" ctr_ok
if ns_stop; then ok "polyhostd: SIGTERM, clean exit"; else notok "polyhostd: SIGTERM, clean exit"; fi
check "polyhostd: every mbuf back in the pool" mbufs_back "$LOG"

# A polyhost client in one context: Linux UDP echo servers on 198.18.0.1:7007
# on both sides, each keeping what it received.
ports_conf > "$CONF"
# udp_servers: on both sides, once the address is back (the taps went with
# the last host); their PIDs in SRV_PIDS.
udp_servers() {
	SRV_PIDS=
	for s in $SIDES; do
		ip netns exec "$(hns "$s")" timeout 60 socat UDP-RECVFROM:7007,bind=198.18.0.1,fork \
			SYSTEM:"tee -a /tmp/ph-test-$$.$s.udp" >/dev/null 2>&1 &
		SRV_PIDS="$SRV_PIDS $!"
	done
	BG_PIDS="$BG_PIDS $SRV_PIDS"
}
client_ok() { # client_ok CONTEXT SIDE OTHER: ph-echo -x CONTEXT, 50 echoes from SIDE only
	local rc=0 before
	before=$(wc -c < "/tmp/ph-test-$$.$3.udp" 2>/dev/null || echo 0)
	ip netns exec "$NS" timeout -k 5 60 "$BUILD/apps/ph-echo" -c "$CONF" -- \
		--client 198.18.0.1:7007 -x "$1" -n 50 --min 16 --max 64 --wait 15000 \
		> "$LOG.echo" 2>&1 &
	PID=$!
	attach
	udp_servers
	wait "$PID" || rc=$?
	PID=
	# shellcheck disable=SC2086
	kill $SRV_PIDS 2>/dev/null
	# shellcheck disable=SC2086
	wait $SRV_PIDS 2>/dev/null
	grep "client: sent" "$LOG.echo"
	[ "$rc" -eq 0 ] && grep -q "echoed intact 50," "$LOG.echo" && mbufs_back "$LOG.echo" &&
		[ -s "/tmp/ph-test-$$.$2.udp" ] &&
		[ "$(wc -c < "/tmp/ph-test-$$.$3.udp" 2>/dev/null || echo 0)" -eq "$before" ]
}
check "ph-echo -x red reaches ha's server, not hb's" client_ok red a b
check "ph-echo -x blue reaches hb's server, not ha's" client_ok blue b a

[ "$FAILED" -eq 0 ] || { cat "$LOG"; cat "$LOG.echo" 2>/dev/null; }
exit $((FAILED > 0))
