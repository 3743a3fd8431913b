#!/usr/bin/python3
# Malformed frames against a running polyhost (IPv4 input, ARP, ICMP): each
# case is sent COUNT times to the stack's unicast MAC from the Linux side of
# its tap, and the drop reason it must be counted under has to move by exactly
# COUNT. Cases that deserve an answer (protocol unreachable) check the answer.
# Runs inside the test's network namespace; prints one "ok"/"not ok" line per
# case and exits 1 if any failed.
import argparse
import sys

from phcounters import Counters

from scapy.all import (ARP, ICMP, IP, Dot1Q, Ether, IPOption_NOP, Raw, conf, get_if_hwaddr,
                       sendp, srp1)

ap = argparse.ArgumentParser()
ap.add_argument("--iface", required=True)
ap.add_argument("--mac", required=True, help="the stack's MAC")
ap.add_argument("--phctl", required=True)
ap.add_argument("--prefix", required=True)
ap.add_argument("--ip", default="198.18.0.2")
ap.add_argument("--peer", default="198.18.0.1")
ap.add_argument("--vlan", type=int, help="an 802.1Q interface of the host, in another context")
ap.add_argument("--vlan-ip", help="the host's address on it")
ap.add_argument("--vlan-peer", help="the address this script plays on it")
args = ap.parse_args()
conf.verb = 0
COUNT = 5
failed = 0


ctrs = Counters(args.phctl, args.prefix)
counter = ctrs.get
settle = ctrs.settle


def report(ok, what):
    global failed
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    if not ok:
        failed += 1


def eth():
    return Ether(dst=args.mac, type=0x0800)


def raw_ip(**fields):
    """An ICMP echo datagram as bytes, with header fields forced as given."""
    p = IP(src=args.peer, dst=args.ip, **fields) / ICMP(id=7, seq=1) / Raw(b"x" * 32)
    return bytes(p)


def expect_drop(reason, frame, exact=True):
    before = counter(reason)
    sendp([frame] * COUNT, iface=args.iface)
    after = settle(reason, before + COUNT)
    delta = after - before
    ok = delta == COUNT if exact else delta >= 1
    report(ok, f"{reason}: counted {delta} of {COUNT}")


good = raw_ip()

# IPv4 header validation, in Linux's order.
b = bytearray(good); b[0] = 0x44                            # IHL 4 (16 bytes)
expect_drop("ip_bad_header_length", eth() / Raw(bytes(b)))
b = bytearray(good); b[0] = 0x4f                            # IHL 15: 60 bytes, packet of 40
expect_drop("ip_bad_header_length", eth() / Raw(bytes(b[:40])))
b = bytearray(good); b[0] = 0x65                            # version 6 in an IPv4 frame
expect_drop("ip_bad_version", eth() / Raw(bytes(b)))
b = bytearray(bytes(IP(src=args.peer, dst=args.ip, len=12) / ICMP()))  # total < header
expect_drop("ip_bad_total_length", eth() / Raw(bytes(b)))
b = bytes(IP(src=args.peer, dst=args.ip, len=1400) / ICMP() / Raw(b"y" * 20))  # total > frame
expect_drop("ip_truncated", eth() / Raw(b))
expect_drop("ip_truncated", eth() / Raw(good[:12]))          # header cut short
b = bytearray(good); b[10] ^= 0x5a                          # header checksum
expect_drop("ip_bad_checksum", eth() / Raw(bytes(b)))
expect_drop("ip_martian_source", eth() / IP(src="127.0.0.1", dst=args.ip) / ICMP())
expect_drop("ip_martian_source", eth() / IP(src="224.0.0.5", dst=args.ip) / ICMP())
expect_drop("ip_not_for_us", eth() / IP(src=args.peer, dst="198.18.0.99") / ICMP())
if args.vlan:
    # Ours, but in another routing context than the untagged interface's.
    expect_drop("ip_not_for_us", eth() / IP(src=args.peer, dst=args.vlan_ip) / ICMP())
expect_drop("ip_bad_fragment", eth() / IP(src=args.peer, dst=args.ip, flags="MF", id=9) / Raw(b"z" * 13))

# ICMP
b = bytearray(good); b[22] ^= 0xff                          # ICMP checksum
expect_drop("icmp_bad_checksum", eth() / Raw(bytes(b)))
expect_drop("icmp_broadcast_echo_ignored",
            Ether(dst="ff:ff:ff:ff:ff:ff") / IP(src=args.peer, dst="198.18.0.255") / ICMP())

# Reassembly: two overlapping fragments of one datagram, then the tail.
for i in range(COUNT):
    before = counter("ip_reassembly_failed")
    frags = [IP(src=args.peer, dst=args.ip, id=0x4000 + i, flags="MF", frag=0, proto=1) / Raw(b"a" * 64),
             IP(src=args.peer, dst=args.ip, id=0x4000 + i, flags="MF", frag=4, proto=1) / Raw(b"b" * 64),
             IP(src=args.peer, dst=args.ip, id=0x4000 + i, frag=16, proto=1) / Raw(b"c" * 8)]
    sendp([eth() / f for f in frags], iface=args.iface)
    after = settle("ip_reassembly_failed", before + 1)
    if after <= before:
        break
report(after > before, "ip_reassembly_failed: overlapping fragments discarded")

# ARP
arp = bytes(ARP(op=1, hwsrc="02:00:00:00:00:01", psrc=args.peer, pdst=args.ip))
b = bytearray(arp); b[4] = 8                                # hardware length
expect_drop("arp_bad_hw_type_or_len", Ether(dst=args.mac, type=0x0806) / Raw(bytes(b)))
b = bytearray(arp); b[5] = 16                               # protocol length
expect_drop("arp_bad_proto_type_or_len", Ether(dst=args.mac, type=0x0806) / Raw(bytes(b)))
b = bytearray(arp); b[7] = 9                                # opcode
expect_drop("arp_bad_opcode", Ether(dst=args.mac, type=0x0806) / Raw(bytes(b)))
expect_drop("arp_truncated", Ether(dst=args.mac, type=0x0806) / Raw(arp[:20]))
expect_drop("arp_bad_sender", Ether(dst=args.mac, type=0x0806) /
            ARP(op=1, hwsrc="ff:ff:ff:ff:ff:ff", psrc=args.peer, pdst=args.ip))
expect_drop("arp_address_conflict", Ether(dst="ff:ff:ff:ff:ff:ff") /
            ARP(op=1, hwsrc="02:00:00:00:00:99", psrc=args.ip, pdst=args.ip))

# Unknown protocol: dropped, counted, answered with protocol unreachable.
before = counter("ip_unknown_protocol")
ans = srp1(eth() / IP(src=args.peer, dst=args.ip, proto=253) / Raw(b"q" * 20),
           iface=args.iface, timeout=2)
report(ans is not None and ans.haslayer(ICMP) and ans[ICMP].type == 3 and ans[ICMP].code == 2,
       "unknown protocol answered with ICMP protocol unreachable")
report(settle("ip_unknown_protocol", before + 1) == before + 1, "ip_unknown_protocol counted")

# 802.1Q: the VLAN interface answers ARP and echo with tagged frames, in its own
# context; an unconfigured VLAN is dropped.
if args.vlan:
    me = get_if_hwaddr(args.iface)
    tag = Dot1Q(vlan=args.vlan)
    ans = srp1(Ether(dst="ff:ff:ff:ff:ff:ff", src=me) / tag /
               ARP(op=1, hwsrc=me, psrc=args.vlan_peer, pdst=args.vlan_ip),
               iface=args.iface, timeout=2)
    report(ans is not None and ans.haslayer(Dot1Q) and ans[Dot1Q].vlan == args.vlan and
           ans.haslayer(ARP) and ans[ARP].op == 2 and ans[ARP].psrc == args.vlan_ip,
           f"ARP on VLAN {args.vlan} answered with a tagged reply")
    ok = 0
    for i in range(5):
        ans = srp1(Ether(dst=args.mac, src=me) / Dot1Q(vlan=args.vlan) /
                   IP(src=args.vlan_peer, dst=args.vlan_ip) / ICMP(id=10, seq=i),
                   iface=args.iface, timeout=2)
        if (ans is not None and ans.haslayer(Dot1Q) and ans[Dot1Q].vlan == args.vlan and
                ans.haslayer(ICMP) and ans[ICMP].type == 0 and ans[ICMP].seq == i):
            ok += 1
    report(ok == 5, f"echo on VLAN {args.vlan}: {ok} of 5 tagged replies")
    expect_drop("ip_not_for_us", Ether(dst=args.mac) / Dot1Q(vlan=args.vlan) /
                IP(src=args.vlan_peer, dst=args.ip) / ICMP())
    expect_drop("eth_no_interface", Ether(dst=args.mac) / Dot1Q(vlan=args.vlan + 1) /
                IP(src=args.vlan_peer, dst=args.vlan_ip) / ICMP())

# Echo with IP options (IHL 6): answered, the reply carries a plain header.
ans = srp1(eth() / IP(src=args.peer, dst=args.ip, options=[IPOption_NOP()] * 4) / ICMP(id=3, seq=4),
           iface=args.iface, timeout=2)
report(ans is not None and ans.haslayer(ICMP) and ans[ICMP].type == 0 and ans[ICMP].id == 3,
       "echo request with IP options answered")

sys.exit(1 if failed else 0)
