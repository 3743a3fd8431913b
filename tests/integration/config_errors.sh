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
P="[port p0]\ndevice = net_tap0\naddress = 198.18.0.2/24\n"
expect "$P[service e]\ntype = chargen\nlisten = udp:198.18.0.2:7\n" "$BAD:5: key 'type': 'chargen' is not a service type"
expect "$P[service e]\ntype = echo\nlisten = udp:198.18.0.2\n" "$BAD:6: key 'listen': 'udp:198.18.0.2' is not PROTO:ADDRESS:PORT"
expect "$P[service e]\ntype = echo\nlisten = udp:198.18.0.3:7\n" "$BAD:6: key 'listen': 198.18.0.3 is not an address of context 'default'"
expect "$P[service e]\ntype = echo\nlisten = udp:0.0.0.0:70000\n" "$BAD:6: key 'listen': port '70000'"
expect "$P[service e]\ntype = echo\nlisten = udp:0.0.0.0:7\ncontext = blue\n" "$BAD:7: key 'context': no "
expect "$P[service e]\nlisten = udp:0.0.0.0:7\n" "$BAD:4: key 'type': missing"
expect "$P[host]\nephemeral_ports = 60000-50000\n" "$BAD:5: key 'ephemeral_ports': "
out=$("$BUILD/apps/polyhostd" --bogus 2>&1); rc=$?
if [ "$rc" -eq 2 ] && echo "$out" | grep -q "unknown option '--bogus'"; then
	echo "ok - unknown option named"
else
	echo "not ok - unknown option: status $rc: $out"; FAILED=1
fi
out=$("$BUILD/apps/polyhostd" -c /nonexistent.ini 2>&1); rc=$?
if [ "$rc" -eq 2 ] && echo "$out" | grep -q "/nonexistent.ini: cannot open"; then
	echo "ok - missing file named"
else
	echo "not ok - missing file: status $rc: $out"; FAILED=1
fi
out=$("$BUILD/apps/polyhostd" 2>&1); rc=$?
if [ "$rc" -eq 2 ] && echo "$out" | grep -q "usage:"; then echo "ok - usage"; else echo "not ok - usage"; FAILED=1; fi
exit $FAILED
