# Sourced by the integration tests: TAP-style result lines, the namespace
# helpers of scripts/polyhostd-ns.sh, and a counter reader. The test sets NS,
# BUILD and PREFIX (its EAL --file-prefix) and counts failures in FAILED.
# shellcheck source=scripts/polyhostd-ns.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/polyhostd-ns.sh"
FAILED=0
PID=

skip() { echo "SKIP: $*"; exit 77; }
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
check() { # check "what" command...
	local what=$1
	shift
	if "$@"; then ok "$what"; else notok "$what"; fi
}
nsx() { ip netns exec "$NS" "$@"; }
# The Linux peer of the test's tap (TAP): 198.18.0.1/24, after each start.
peer_up() { tap_peer_up "$NS" "$TAP" 198.18.0.1/24; }
# mbufs_back LOG: the program's shutdown report says every buffer came back.
mbufs_back() { grep -q "0 of .* mbufs in use after shutdown" "$1"; }
# clean_exit RC LOG: it exited 0 and gave every buffer back.
clean_exit() { [ "$1" -eq 0 ] && mbufs_back "$2"; }
# tap_host_conf LCORES: the [eal] and [port p0] sections of a host on a
# net_tap port TAP with 198.18.0.2/24 (the test's own sections follow).
# Hosts behind the host under test, a namespace each (removed by the test):
# hns N names host N's namespace, hx N CMD... runs CMD in it.
hns() { echo "ph-$$-h$1"; }
hx() { local h=$1; shift; ip netns exec "$(hns "$h")" "$@"; }
# host_tap TAP N ADDR/LEN MAC: the kernel side of net_tap TAP, once the host
# under test (in NS) has started it, moved to host N's namespace as a cable
# would be, with ADDR and MAC, up, without IPv6 chatter.
host_tap() {
	local tap=$1 h=$2 addr=$3 mac=$4
	for _ in $(seq 1 100); do
		nsx ip -o link show "$tap" 2>/dev/null | grep -q "[<,]UP[,>]" && break
		sleep 0.1
	done
	nsx ip link set "$tap" netns "$(hns "$h")" &&
		hx "$h" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" &&
		hx "$h" ip link set "$tap" address "$mac" &&
		hx "$h" ip addr add "$addr" dev "$tap" &&
		hx "$h" ip link set "$tap" up
}
# eal_conf LCORES: the [eal] section of a test host (no hugepages, its PREFIX).
eal_conf() {
	cat <<INI
[eal]
args = --no-huge -m 512 --no-pci --no-shconf --file-prefix=$PREFIX --log-level=user1:notice
lcores = $1
INI
}
tap_host_conf() {
	eal_conf "$1"
	cat <<INI
[port p0]
device = net_tap0,iface=$TAP
address = 198.18.0.2/24
INI
}

# ph-perf (PERF, with CONF and the timeout T of the test):
# perf_result LOG...: the result line of a client or server.
perf_result() { grep -hE "^ph-perf: (client|server) [a-z-]+ .* result=" "$@" | head -1; }
# perf_report LOG NAME: a counter of its exit report (0 when absent).
perf_report() { awk -v k="$2" '$1 == k {print $2; f=1} END {if (!f) print 0}' "$1" | head -1; }
# perf_client LOG ARGS...: the client in NS; the kernel side is set up once
# the tap exists (the client retries its connect until then). Its status.
perf_client() {
	local log=$1 rc=0
	shift
	# Not through nsx: PID must be the program's (timeout's), not a subshell's.
	ip netns exec "$NS" timeout -k 5 "$T" "$PERF" -c "$CONF" -- client "$@" --wait 15000 \
		> "$log" 2>&1 &
	PID=$!
	peer_up
	wait "$PID" || rc=$?
	PID=
	return $rc
}
# A host-wide counter or drop reason of the running host, by name.
counter() { "$BUILD/apps/phctl" -p "$PREFIX" get "$1"; }
# The MAC of the host's first port (frames crafted for it must be unicast).
stack_mac() { "$BUILD/apps/phctl" -p "$PREFIX" addr | awk '/link\/ether/ {print $2; exit}'; }
# ns_stop: SIGTERM to PID and its exit status (0 says every mbuf came back).
ns_stop() {
	local rc=0
	kill -TERM "$PID"
	wait "$PID" || rc=$?
	PID=
	return $rc
}
# ns_bg CMD...: a helper (a Linux peer) in the namespace, killed at cleanup.
BG_PIDS=
ns_bg() {
	ip netns exec "$NS" "$@" &
	BG_PIDS="$BG_PIDS $!"
}
# Stop what this test started and is still running (by PID), remove the
# namespace. Helpers get SIGTERM, which `timeout` passes on to its child (a
# SIGKILL would orphan the child, holding the test's output open); the host
# under test gets SIGKILL, its shutdown having been tested already.
ns_cleanup() {
	local p
	for p in $BG_PIDS; do
		kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
	done
	for p in $BG_PIDS; do
		wait "$p" 2>/dev/null
	done
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	ip netns del "$NS" 2>/dev/null
	rm -rf "/var/run/dpdk/$PREFIX"
}
