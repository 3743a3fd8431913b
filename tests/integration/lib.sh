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
