# Shared by the bench/ scripts (sourced).

# bench_wait_for LOG PATTERN: until PATTERN shows in LOG, 10 s at most.
bench_wait_for() {
	for _ in $(seq 1 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# bench_stop PID...: SIGTERM (ph-perf and polyhostd then shut down cleanly),
# then wait for each.
bench_stop() {
	local p
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "$@"; do
		wait "$p" 2>/dev/null
	done
}

# bench_memif_conf FILE PREFIX LCORES ROLE ADDRESS SOCKET: a polyhost
# configuration with one net_memif port (ROLE server or client) on SOCKET.
bench_memif_conf() {
	cat > "$1" <<INI
[eal]
args = --no-huge -m 1024 --no-pci --no-shconf --file-prefix=$2 --log-level=*:warning
lcores = $3
[port m0]
device = net_memif0,role=$4,id=0,socket=$6,socket-abstract=no
address = $5/24
INI
}
