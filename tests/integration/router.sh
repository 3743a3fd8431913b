#!/bin/bash
# polyhostd as an IPv4 router (RFC 1812) between Linux hosts, each in a
# network namespace of this test's own behind one net_tap port:
#   h1 198.18.1.1 -- p1 198.18.1.2 \
#   h2 198.18.2.1 -- p2 198.18.2.2  > context lan (forwarding = yes)
#   h3 198.18.3.1 -- p3 198.18.3.2 /  (p3's MTU is 1400)
#   h4 198.18.4.1 -- p4 198.18.4.2 -- context dmz (forwarding = yes)
# ping between the hosts of lan, traceroute (TTL decrement, ICMP time
# exceeded from the router's address), a TCP transfer (socat, sha256) forwarded,
# fragmentation and "fragmentation needed" by DF at the smaller MTU, ICMP
# net unreachable, directed broadcast not forwarded, and h4 unreachable from
# lan until phctl adds leak routes both ways (and again after it deletes them).
# Usage: router.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
set -u
BUILD=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
NS=ph-$$-r
PREFIX=ph-test-$$
CONF=/tmp/ph-test-$$.ini
LOG=/tmp/ph-test-$$.log
PHCTL="$BUILD/apps/phctl"
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip traceroute socat tcpdump; do
	command -v $t >/dev/null || skip "$t missing (make deps installs it)"
done

HOSTS="1 2 3 4"
tap() { echo "phr$$t$1"; }

cleanup() {
	ns_cleanup
	for h in $HOSTS; do ip netns del "$(hns "$h")" 2>/dev/null; done
	rm -f "$CONF" /tmp/ph-test-$$.cap /tmp/ph-test-$$.e[23].cap /tmp/ph-test-$$.src /tmp/ph-test-$$.dst
	[ "$FAILED" -eq 0 ] && rm -f "$LOG"
}
trap cleanup EXIT

eal_conf 0-1 > "$CONF"
cat >> "$CONF" <<INI
[port p1]
device = net_tap1,iface=$(tap 1)
context = lan
address = 198.18.1.2/24
[port p2]
device = net_tap2,iface=$(tap 2)
context = lan
address = 198.18.2.2/24
[port p3]
device = net_tap3,iface=$(tap 3)
context = lan
address = 198.18.3.2/24
mtu = 1400
[port p4]
device = net_tap4,iface=$(tap 4)
context = dmz
address = 198.18.4.2/24
[context lan]
forwarding = yes
[context dmz]
forwarding = yes
INI

ip netns add "$NS" || skip "cannot create a network namespace"
for h in $HOSTS; do ip netns add "$(hns "$h")" || skip "cannot create namespaces"; done
if ! polyhostd_start "$NS" "$BUILD" "$CONF" "$LOG"; then
	cat "$LOG"
	notok "polyhostd started"
	exit 1
fi
ok "polyhostd started"
# Each tap's kernel side goes to its host's namespace, as a cable would.
for h in $HOSTS; do
	hx "$h" ip link set lo up
	host_tap "$(tap "$h")" "$h" "198.18.$h.1/24" "02:00:00:00:0$h:01"
	hx "$h" ip route add default via "198.18.$h.2"
done

ping_ok() { # ping_ok FROM TO ARGS...: 0% loss
	local from=$1 to=$2 out
	shift 2
	out=$(hx "$from" ping -q -W 2 "$@" "$to" 2>&1)
	echo "$out" | tail -2
	echo "$out" | grep -q " 0% packet loss"
}
check "h1 -> h2 ping through the router: 0% loss" ping_ok 1 198.18.2.1 -c 50 -i 0.01
check "h2 -> h3 ping through the router: 0% loss" ping_ok 2 198.18.3.1 -c 50 -i 0.01
check "h1 pings the router's far address 198.18.3.2" ping_ok 1 198.18.3.2 -c 5 -i 0.05
ttl_ok() {
	local out
	out=$(hx 1 ping -c 1 -W 2 -t 1 198.18.3.1 2>&1)
	echo "$out" | head -2
	echo "$out" | grep -q "From 198.18.1.2 .*Time to live exceeded"
}
check "ping -t 1: time to live exceeded from 198.18.1.2" ttl_ok
trace_ok() {
	local out
	out=$(hx 1 traceroute -n -q 1 -w 2 -m 5 198.18.3.1 2>&1)
	echo "$out"
	echo "$out" | grep -Eq "^ *1 +198\.18\.1\.2 " && echo "$out" | grep -Eq "^ *2 +198\.18\.3\.1 "
}
check "traceroute h1 -> h3: hop 1 is the router, hop 2 is h3" trace_ok
ctr() { "$PHCTL" -p "$PREFIX" get "$1"; }
# ctx_stat CTX FIELD: one of phctl ctx CTX's counters ("" if phctl fails).
ctx_stat() {
	"$PHCTL" -p "$PREFIX" ctx "$1" | awk -v f="$2" '{for (i = 1; i < NF; i++) if ($i == f) {print $(i + 1); exit}}'
}
# Before h1 knows the path MTU: its 1500-byte first fragment must be cut
# again by the router for p3's 1400.
refrag_ok() {
	local before after
	before=$(ctr ipFragCreates)
	ping_ok 1 198.18.3.1 -c 10 -i 0.05 -s 2000 -M dont || return 1
	after=$(ctr ipFragCreates)
	echo "fragments the router made: $((after - before))"
	[ "$((after - before))" -ge 20 ]
}
check "ping -s 2000 h1 -> h3: fragments cut again by the router to MTU 1400, 0% loss" refrag_ok
frag_needed_ok() {
	local out
	out=$(hx 1 ping -c 1 -W 2 -s 1450 -M do 198.18.3.1 2>&1)
	echo "$out" | head -2
	echo "$out" | grep -q "From 198.18.1.2 .*Frag needed and DF set (mtu = 1400)"
}
check "ping -s 1450 -M do h1 -> h3: fragmentation needed, mtu = 1400" frag_needed_ok
xfer_ok() {
	local t0 t1 want got fn
	# What the ping taught h1 goes: TCP must learn it from the router.
	hx 1 ip route flush cache
	fn=$(ctx_stat lan needed)
	head -c 33554432 /dev/urandom > /tmp/ph-test-$$.src
	want=$(sha256sum < /tmp/ph-test-$$.src | cut -d' ' -f1)
	ns_bg_host 3 socat -u TCP-LISTEN:5202,bind=198.18.3.1,reuseaddr CREATE:/tmp/ph-test-$$.dst
	sleep 0.5
	t0=$(date +%s.%N)
	hx 1 timeout 60 socat -u OPEN:/tmp/ph-test-$$.src TCP:198.18.3.1:5202 || return 1
	for _ in $(seq 1 50); do
		[ "$(stat -c %s /tmp/ph-test-$$.dst 2>/dev/null)" = 33554432 ] && break
		sleep 0.1
	done
	t1=$(date +%s.%N)
	got=$(sha256sum < /tmp/ph-test-$$.dst | cut -d' ' -f1)
	echo "32 MiB in $(awk -v a="$t0" -v b="$t1" "BEGIN {printf \"%.2f\", b - a}") s, sha256 ${got:0:16}... (sent ${want:0:16}...)"
	echo "frag needed sent during the transfer: $(($(ctx_stat lan needed) - fn))"
	[ "$got" = "$want" ] && [ "$(ctx_stat lan needed)" -gt "$fn" ]
}
ns_bg_host() { local h=$1; shift; ip netns exec "$(hns "$h")" timeout 90 "$@" >/dev/null 2>&1 & BG_PIDS="$BG_PIDS $!"; }
check "TCP h1 -> h3: 32 MiB forwarded intact (path MTU 1400 found through the router)" xfer_ok
unreach_ok() { # unreach_ok FROM TO: the router answers net unreachable
	local out
	out=$(hx "$1" ping -c 1 -W 2 "$2" 2>&1)
	echo "$out" | head -2
	echo "$out" | grep -q "From 198.18.$1.2 .*Destination Net Unreachable"
}
check "h1 -> 203.0.113.1 (no route): net unreachable from the router" unreach_ok 1 203.0.113.1
check "h1 -> h4 (another context, no leak): net unreachable" unreach_ok 1 198.18.4.1
check "h4 -> h1 (another context, no leak): net unreachable" unreach_ok 4 198.18.1.1
bcast_not_forwarded() {
	local n all
	hx 2 timeout 6 tcpdump -n -U -i "$(tap 2)" -w /tmp/ph-test-$$.cap icmp >/dev/null 2>&1 &
	local cap=$!
	sleep 1
	hx 1 ping -b -c 3 -i 0.2 -W 1 198.18.2.255 >/dev/null 2>&1
	# A unicast ping in the same window: the capture works.
	hx 1 ping -c 1 -W 1 198.18.2.1 >/dev/null 2>&1
	wait $cap
	all=$(tcpdump -n -r /tmp/ph-test-$$.cap 2>/dev/null | wc -l)
	n=$(tcpdump -n -r /tmp/ph-test-$$.cap dst host 198.18.2.255 2>/dev/null | wc -l)
	echo "ICMP on h2's link: $all, to 198.18.2.255: $n"
	[ "$all" -ge 2 ] && [ "$n" -eq 0 ]
}
check "a ping to 198.18.2.255 (p2's directed broadcast) is not forwarded" bcast_not_forwarded

# ECMP: 198.19.9.0/24 through h2 and h3; each destination is a flow of its
# own, always on the same path. h2 and h3 only count what reaches them.
ecmp_ok() {
	local a b a5 b5
	"$PHCTL" -p "$PREFIX" route add 198.19.9.0/24 via 198.18.2.1 via 198.18.3.1 ctx lan ||
		return 1
	"$PHCTL" -p "$PREFIX" route show ctx lan | grep "^198.19.9.0/24"
	for h in 2 3; do
		hx "$h" timeout 8 tcpdump -n -U -i "$(tap "$h")" -w "/tmp/ph-test-$$.e$h.cap" \
			icmp and dst net 198.19.9.0/24 >/dev/null 2>&1 &
		CAP_PIDS="$CAP_PIDS $!"
	done
	sleep 1
	for i in $(seq 1 32); do hx 1 ping -c 1 -W 0.1 "198.19.9.$i" >/dev/null 2>&1; done
	for i in 1 2 3 4 5; do hx 1 ping -c 1 -W 0.1 198.19.9.77 >/dev/null 2>&1; done
	# shellcheck disable=SC2086
	wait $CAP_PIDS
	CAP_PIDS=
	a=$(tcpdump -n -r "/tmp/ph-test-$$.e2.cap" not dst host 198.19.9.77 2>/dev/null | wc -l)
	b=$(tcpdump -n -r "/tmp/ph-test-$$.e3.cap" not dst host 198.19.9.77 2>/dev/null | wc -l)
	a5=$(tcpdump -n -r "/tmp/ph-test-$$.e2.cap" dst host 198.19.9.77 2>/dev/null | wc -l)
	b5=$(tcpdump -n -r "/tmp/ph-test-$$.e3.cap" dst host 198.19.9.77 2>/dev/null | wc -l)
	echo "32 destinations: $a via h2, $b via h3; 198.19.9.77 five times: $a5 via h2, $b5 via h3"
	"$PHCTL" -p "$PREFIX" route del 198.19.9.0/24 ctx lan
	[ $((a + b)) -eq 32 ] && [ "$a" -ge 4 ] && [ "$b" -ge 4 ] &&
		{ [ "$a5" -eq 5 ] && [ "$b5" -eq 0 ] || [ "$a5" -eq 0 ] && [ "$b5" -eq 5 ]; }
}
CAP_PIDS=
check "ECMP via h2 and h3: flows spread over both paths, one flow on one path" ecmp_ok

# Leak routes: lan reaches 198.18.4.0/24 out of p4 in dmz, and back.
leak() { "$PHCTL" -p "$PREFIX" route "$1" 198.18.4.0/24 dev p4 leak dmz ctx lan &&
	"$PHCTL" -p "$PREFIX" route "$1" 198.18.1.0/24 dev p1 leak lan ctx dmz; }
check "phctl route add ... leak (both ways)" leak add
routes_ok() {
	local out
	out=$("$PHCTL" -p "$PREFIX" route show ctx lan)
	echo "$out"
	echo "$out" | grep -q "^198.18.4.0/24 dev p4 ctx dmz proto static"
}
check "phctl route show ctx lan lists the leaked route" routes_ok
check "h1 -> h4 through the leak: 0% loss" ping_ok 1 198.18.4.1 -c 20 -i 0.02
check "h1 -> the router's dmz address 198.18.4.2 through the leak: 0% loss" \
	ping_ok 1 198.18.4.2 -c 5 -i 0.05
leak_bcast_ok() {
	local before
	before=$(ctr ip_forward_directed_broadcast)
	hx 1 ping -b -c 3 -i 0.2 -W 1 198.18.4.255 >/dev/null 2>&1
	[ "$(ctr ip_forward_directed_broadcast)" -ge $((before + 3)) ]
}
check "h1 -> 198.18.4.255 (dmz's directed broadcast) through the leak: not forwarded" leak_bcast_ok
h2_h4_ok() { # h4 answers, but dmz has no route back to 198.18.2.0/24
	local before
	before=$(ctx_stat dmz route)
	! hx 2 ping -q -c 2 -W 1 198.18.4.1 >/dev/null 2>&1 &&
		[ "$(ctx_stat dmz route)" -ge $((before + 2)) ]
}
check "h2 -> h4: the request leaks, the reply finds no route in dmz" h2_h4_ok
check "phctl route del ... (both ways)" leak del
check "h1 -> h4 after the leak is gone: net unreachable" unreach_ok 1 198.18.4.1
errors_ok() {
	local out
	out=$("$PHCTL" -p "$PREFIX" route add 198.18.9.0/24 via 198.18.7.1 ctx lan 2>&1)
	echo "$out"
	echo "$out" | grep -q "not on a subnet of context 'lan'" || return 1
	out=$("$PHCTL" -p "$PREFIX" route del 198.18.9.0/24 ctx lan 2>&1)
	echo "$out"
	echo "$out" | grep -q "no such route" || return 1
	out=$("$PHCTL" -p "$PREFIX" route add 198.18.9.0/24 dev p1 ctx nowhere 2>&1)
	echo "$out"
	echo "$out" | grep -q "no such context"
}
check "phctl route errors say why" errors_ok
ctr_ok() {
	local out fwd ttl
	out=$("$PHCTL" -p "$PREFIX" ctx lan)
	echo "$out"
	fwd=$(ctx_stat lan forwarded)
	ttl=$(ctx_stat lan exceeded)
	[ -n "$fwd" ] && [ -n "$ttl" ] && [ "$fwd" -gt 20000 ] && [ "$ttl" -ge 2 ]
}
check "phctl ctx lan: forwarded and ttl-exceeded counters" ctr_ok
check "ipForwDatagrams counted" bash -c "[ \$($PHCTL -p $PREFIX get ipForwDatagrams) -gt 20000 ]"

if ns_stop; then ok "SIGTERM: clean exit"; else notok "SIGTERM: clean exit"; fi
check "every mbuf back in the pool" mbufs_back "$LOG"
[ "$FAILED" -eq 0 ] || cat "$LOG"
exit $((FAILED > 0))
