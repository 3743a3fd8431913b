#!/bin/bash
# polyhostd refuses a bad configuration before touching EAL: exit status 2 and
# one line naming the file, the line and the key. Usage: config_errors.sh BUILD_DIR
set -u
BUILD=$(realpath "$1")
BAD=/tmp/ph-bad-$$.ini
FAILED=0
trap 'rm -f "$BAD"' EXIT

expect() { # expect "config text" "expected message start"
	local out rc
	printf '%b' "$1" > "$BAD"
	out=$("$BUILD/apps/polyhostd" -c "$BAD" 2>&1)
	rc=$?
	if [ "$rc" -eq 2 ] && [ "${out#polyhostd: $2}" != "$out" ]; then
		echo "ok - $2"
	else
		echo "not ok - want '$2', got status $rc: $out"
		FAILED=1
	fi
}
expect "[eal]\nargs = --no-huge\n[port p0]\ndevice = net_tap0\nmtu = 70000\n" "$BAD:5: key 'mtu': "
expect "[port p0]\ndevice = net_tap0\naddress = 198.18.0.2/24\n[context default]\nroute = 198.19.0.0/16 via 198.18.5.1\n" "$BAD:5: key 'route': "
expect "[port p0]\ndevice = net_tap0\nspeed = 10G\n" "$BAD:3: key 'speed': unknown key"
expect "[prot p0]\n" "$BAD:1: "
out=$("$BUILD/apps/polyhostd" -c /nonexistent.ini 2>&1); rc=$?
if [ "$rc" -eq 2 ] && echo "$out" | grep -q "/nonexistent.ini: cannot open"; then
	echo "ok - missing file named"
else
	echo "not ok - missing file: status $rc: $out"; FAILED=1
fi
out=$("$BUILD/apps/polyhostd" 2>&1); rc=$?
if [ "$rc" -eq 2 ] && echo "$out" | grep -q "usage:"; then echo "ok - usage"; else echo "not ok - usage"; FAILED=1; fi
exit $FAILED
