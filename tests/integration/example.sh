#!/bin/bash
# The library from outside the tree: `meson install` into a staging root, build
# api/examples/udp_upper.c with nothing but
#     cc ... $(pkg-config --cflags --libs polyhost)
# against what was installed there (pkg-config's sysroot points it at the
# staging root), check it links the installed libpolyhost.so and no
# internal symbol leaks out of it, then run it on net_tap in a namespace of
# this test's own: datagrams from Linux's socat come back in upper case.
# Usage: example.sh BUILD_DIR. Exit 0 pass, 1 fail, 77 skip.
set -u
BUILD=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STAGE=/tmp/ph-example-$$
NS=ph-$$-x
TAP=phx$$
PREFIX=ph-example-$$
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"

command -v pkg-config >/dev/null || skip "pkg-config missing"
command -v cc >/dev/null || skip "cc missing"

cleanup() {
	ns_cleanup
	rm -rf "$STAGE"
}
trap cleanup EXIT

if ! meson install -C "$BUILD" --no-rebuild --quiet --destdir "$STAGE" > "$STAGE.log" 2>&1; then
	cat "$STAGE.log"; rm -f "$STAGE.log"; notok "meson install --destdir"; exit 1
fi
rm -f "$STAGE.log"
PC=$(find "$STAGE" -name polyhost.pc | head -1)
[ -n "$PC" ] || { notok "polyhost.pc installed"; exit 1; }
ok "meson install: ${PC#"$STAGE"}"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$PC")
export PKG_CONFIG_SYSROOT_DIR=$STAGE
LIBDIR=$STAGE$(pkg-config --variable=libdir polyhost | sed "s|^$STAGE||")
[ -f "$STAGE$(pkg-config --variable=includedir polyhost | sed "s|^$STAGE||")/polyhost/polyhost.h" ] &&
	ok "headers installed" || notok "headers installed under includedir"

# Exactly the line the example's header gives, from a directory outside the tree.
mkdir -p "$STAGE/app"
cp "$ROOT/api/examples/udp_upper.c" "$STAGE/app/"
# shellcheck disable=SC2046
if (cd "$STAGE/app" && cc -Wall -Wextra -Werror -o udp_upper udp_upper.c \
	$(pkg-config --cflags --libs polyhost)) 2> "$STAGE/cc.log"; then
	ok "cc udp_upper.c \$(pkg-config --cflags --libs polyhost)"
else
	cat "$STAGE/cc.log"; notok "the example builds from the installed files"; exit 1
fi
EXE=$STAGE/app/udp_upper
lib=$(LD_LIBRARY_PATH=$LIBDIR ldd "$EXE" | awk '/libpolyhost/ {print $3}')
case "$lib" in
"$LIBDIR"/*) ok "it runs on the installed library ($lib)" ;;
*) notok "it links the installed libpolyhost.so (ldd says '$lib')" ;;
esac
# Only the ph_ API is exported: nothing of the stack, nothing of DPDK.
leaks=$(nm -D --defined-only "$LIBDIR/libpolyhost.so" | awk '$2 ~ /[TDBR]/ {print $3}' |
	grep -v '^ph_' | grep -v '^POLYHOST_' | head -5)
[ -z "$leaks" ] && ok "libpolyhost.so exports only ph_ symbols" ||
	notok "libpolyhost.so exports internal symbols: $leaks"

if [ "$(id -u)" -ne 0 ] || ! ip netns add "$NS" 2>/dev/null; then
	echo "SKIP: running the example needs root for a network namespace"
	[ "$FAILED" -eq 0 ] && exit 77 || exit 1
fi
nsx ip link set lo up
cat > "$STAGE/host.ini" <<INI
[eal]
args = --no-huge -m 256 --no-pci --no-shconf --file-prefix=$PREFIX --log-level=user1:notice
lcores = 0-1
[port p0]
device = net_tap0,iface=$TAP
address = 198.18.0.2/24
INI
if ! ns_start "$NS" "$STAGE/run.log" "answering" env LD_LIBRARY_PATH="$LIBDIR" "$EXE" \
	-c "$STAGE/host.ini" --lcores 0 -- -p 5000; then
	cat "$STAGE/run.log"; notok "udp_upper started"; exit 1
fi
tap_peer_up "$NS" "$TAP" 198.18.0.1/24
out=$(echo "hello, polyhost" | nsx timeout 5 socat - UDP4:198.18.0.2:5000)
[ "$out" = "HELLO, POLYHOST" ] && ok "socat got its datagram back in upper case" ||
	notok "want 'HELLO, POLYHOST', got '$out'"
head -c 3000 /dev/urandom | base64 -w0 | head -c 3000 > "$STAGE/in"
tr '[:lower:]' '[:upper:]' < "$STAGE/in" > "$STAGE/want"
nsx timeout 5 socat -b 65536 - UDP4:198.18.0.2:5000 < "$STAGE/in" > "$STAGE/got"
cmp -s "$STAGE/want" "$STAGE/got" && ok "a 3000-byte datagram (fragmented both ways) intact" ||
	notok "3000-byte datagram: $(wc -c < "$STAGE/got") bytes back, not what was sent"
rc=0
ns_stop || rc=$?
grep -q "answered 2 datagrams" "$STAGE/run.log" && [ "$rc" -eq 0 ] &&
	grep -q "0 of .* mbufs in use after shutdown" "$STAGE/run.log" &&
	ok "SIGTERM: exit 0, 2 answered, every mbuf back" ||
	{ cat "$STAGE/run.log"; notok "clean exit (status $rc)"; }

[ "$FAILED" -eq 0 ] || exit 1
exit 0
