# Sourced by scripts/demo.sh and the integration tests: run a polyhost
# program inside a network namespace, and give the kernel's side of its
# net_tap port an address (the Linux peer).
#
# ns_start NS LOG PATTERN PROGRAM ARGS...
#   Runs PROGRAM in NS with its output in LOG, sets PID to the program's own
#   PID (ip netns exec execs it; a subshell or a shell function in the
#   background would hide it), and returns 0 once LOG shows PATTERN, 1 if the
#   program exits or 10 s pass first.
ns_start() {
	local ns=$1 log=$2 pat=$3
	shift 3
	ip netns exec "$ns" "$@" > "$log" 2>&1 &
	PID=$!
	for _ in $(seq 1 100); do
		grep -q "$pat" "$log" && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# polyhostd_start NS BUILD CONF LOG: polyhostd -c CONF, ready when it says so.
polyhostd_start() {
	ns_start "$1" "$4" "polyhostd: ready" "$2/apps/polyhostd" -c "$3"
}

# tap_peer_up NS TAP ADDR/LEN [MAC]
#   The Linux side of a net_tap port: waits (10 s at most) until the port has
#   started (net_tap brings the kernel side up then, after giving it the
#   port's own MAC, which must change or ARP between the two breaks), then
#   gives it MAC (default 02:00:00:00:00:01) and ADDR, without IPv6 chatter.
#   Every DPDK process makes its tap anew: call it after each start.
tap_peer_up() {
	local ns=$1 tap=$2 addr=$3 mac=${4:-02:00:00:00:00:01}
	for _ in $(seq 1 100); do
		ip netns exec "$ns" ip -o link show "$tap" 2>/dev/null | grep -q "[<,]UP[,>]" && break
		sleep 0.1
	done
	ip netns exec "$ns" ip link set "$tap" address "$mac" &&
		ip netns exec "$ns" ip addr add "$addr" dev "$tap" &&
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" &&
		ip netns exec "$ns" ip link set "$tap" up
}
