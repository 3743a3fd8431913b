#!/bin/bash
# polyhostd with the Linux kernel as its peer: a namespace of this test's own,
# polyhostd on a net_tap port inside it, the kernel on the tap's other side.
# ping (plain and fragmented both ways), arping, the ARP entry in phctl,
# malformed frames counted under their reasons (malformed.py), and a clean
# SIGTERM with every mbuf back in the pool.
# Usage: host.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
set -u
BUILD=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
NS=ph-$$-a
TAP=pht$$
PREFIX=ph-test-$$
CONF=/tmp/ph-test-$$.ini
LOG=/tmp/ph-test-$$.log
PEER_MAC=02:00:00:00:00:01
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
command -v ip >/dev/null || skip "iproute2 missing"

cleanup() {
	ns_cleanup
	rm -f "$CONF"
	[ "$FAILED" -eq 0 ] && rm -f "$LOG"
}
trap cleanup EXIT

cat > "$CONF" <<INI
[eal]
args = --no-huge -m 512 --no-pci --no-shconf --file-prefix=$PREFIX --log-level=user1:notice
lcores = 0-1
[port p0]
device = net_tap0,iface=$TAP
address = 198.18.0.2/24
[vlan v10]
port = p0
id = 10
context = blue
address = 198.18.10.2/24
[context default]
route = 0.0.0.0/0 via 198.18.0.1
[context blue]
INI

ip netns add "$NS" || skip "cannot create a network namespace"
nsx ip link set lo up
if ! polyhostd_start "$NS" "$BUILD" "$CONF" "$LOG"; then
	cat "$LOG"
	notok "polyhostd started"
	exit 1
fi
ok "polyhostd started"
tap_peer_up "$NS" "$TAP" 198.18.0.1/24 $PEER_MAC
STACK_MAC=$(stack_mac)

ping_ok() { # ping_ok COUNT ARGS...: 0% loss
	local out
	out=$(nsx ping -q -W 2 "$@" 198.18.0.2 2>&1)
	echo "$out" | tail -2
	echo "$out" | grep -q " 0% packet loss"
}
check "ping -c 200: 0% loss" ping_ok -c 200 -i 0.01
check "ping -s 8000 (fragments both ways): 0% loss" ping_ok -c 20 -i 0.05 -s 8000
check "ping -s 1472 (exactly one MTU): 0% loss" ping_ok -c 10 -i 0.05 -s 1472 -M do
arping_ok() {
	local out
	out=$(nsx arping -c 3 -w 5 -I "$TAP" 198.18.0.2 2>&1)
	echo "$out" | tail -1
	echo "$out" | grep -qi "$STACK_MAC" && echo "$out" | grep -Eq "Received 3 response|3 packets received"
}
check "arping: 3 replies from $STACK_MAC" arping_ok
neigh_ok() {
	local out
	# Not tee /dev/stderr: reopening it truncates a log file both streams share.
	out=$("$BUILD/apps/phctl" -p "$PREFIX" neigh)
	echo "$out"
	echo "$out" | grep -q "198.18.0.1 dev p0 ctx default lladdr $PEER_MAC REACHABLE"
}
check "phctl neigh shows the peer" neigh_ok
kernel_neigh_ok() { nsx ip neigh show 198.18.0.2 | grep -qi "$STACK_MAC"; }
check "the kernel learned the stack's MAC" kernel_neigh_ok


if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import scapy" 2>/dev/null; then
	if nsx /usr/bin/python3 "$HERE/malformed.py" --iface "$TAP" --mac "$STACK_MAC" \
		--phctl "$BUILD/apps/phctl" --prefix "$PREFIX" --vlan 10 --vlan-ip 198.18.10.2 --vlan-peer 198.18.10.1; then
		ok "malformed frames each counted under their reason"
	else
		notok "malformed frames each counted under their reason"
	fi
	check "ping still works after the malformed frames" ping_ok -c 20 -i 0.02
	# This kernel has no 8021q module: malformed.py played the VLAN 10 peer.
	vlan_neigh_ok() {
		"$BUILD/apps/phctl" -p "$PREFIX" neigh | grep -q "198.18.10.1 dev v10 ctx blue lladdr"
	}
	check "phctl neigh shows the VLAN 10 peer in context blue" vlan_neigh_ok
	vlan_ctr_ok() { [ "$(counter ethInVlanFrames)" -ge 6 ]; }
	check "ethInVlanFrames counted" vlan_ctr_ok
else
	echo "SKIP: scapy (python3-scapy) missing: malformed-frame cases not run"
fi

mibs_ok() {
	[ "$(counter icmpInEchos)" -ge 250 ] && [ "$(counter ipReasmOKs)" -ge 20 ] &&
		[ "$(counter ipFragCreates)" -ge 120 ] && [ "$(counter arpOutReplies)" -ge 3 ]
}
check "MIB counters moved (icmpInEchos, ipReasmOKs, ipFragCreates, arpOutReplies)" mibs_ok

RC=0
ns_stop || RC=$?
check "SIGTERM: exit status 0 (got $RC)" [ "$RC" -eq 0 ]
pool_ok() { grep -Eq "mempool ph_pool: 0 of [0-9]+ mbufs in use after shutdown" "$LOG"; }
check "every mbuf back in the pool after shutdown" pool_ok
check "counters printed at shutdown" grep -q "icmpOutEchoReps" "$LOG"
if [ "$FAILED" -ne 0 ]; then
	echo "--- polyhostd log ($LOG) ---"
	cat "$LOG"
	exit 1
fi
exit 0
