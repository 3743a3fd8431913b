# Sourced by scripts/demo.sh and the integration tests: start polyhostd inside
# a network namespace and wait until it is ready.
#
# polyhostd_start NS BUILD CONF LOG
#   Runs BUILD/apps/polyhostd -c CONF in NS with its output in LOG, sets PID
#   to polyhostd's own PID (ip netns exec execs it; a subshell would hide it),
#   and returns 0 once it says "ready", 1 if it exits or 10 s pass first.
polyhostd_start() {
	ip netns exec "$1" "$2/apps/polyhostd" -c "$3" > "$4" 2>&1 &
	PID=$!
	for _ in $(seq 1 100); do
		grep -q "polyhostd: ready" "$4" && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
