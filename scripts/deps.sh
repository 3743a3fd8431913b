#!/bin/sh
# Install what polyhost needs from Debian's packages, and nothing when all is there.
# Called by `make deps` (and so by `make run`, `make test`). Non-interactive.
set -eu

# Build: compiler, meson/ninja, DPDK 22.11, libbsd (queue/tree/strlcpy/arc4random),
# cmocka (unit tests), jansson (phctl reads telemetry JSON), clang-format (make lint).
BUILD_PKGS="gcc make meson ninja-build pkg-config dpdk libdpdk-dev libbsd-dev libcmocka-dev
libjansson-dev clang-format"
# Real peers for the tests and the demo: the Linux kernel in a namespace, driven by these.
PEER_PKGS="iproute2 iputils-ping iputils-arping python3-scapy tshark socat netcat-openbsd
ethtool procps curl apache2-utils wrk iperf3 iptables nftables hping3 nmap valgrind jq
traceroute tcpdump"
# The benchmarks' Linux side and plots (bench/run; make test runs it once, quick).
BENCH_PKGS="nginx-light gnuplot-nox"

missing=""
for p in $BUILD_PKGS $PEER_PKGS $BENCH_PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "deps: need root (or sudo) to install:$missing" >&2; exit 1; }
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, quietly.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
