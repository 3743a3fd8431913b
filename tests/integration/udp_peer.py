#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Linux-side UDP peers for the integration test (runs in the test's namespace).

  udp_peer.py client ADDR PORT COUNT MIN MAX SEED
      Send COUNT datagrams of random sizes in [MIN, MAX] to an echo server,
      at most 64 in flight, and compare every echoed byte. A datagram not
      echoed within 2 s is sent again (at most 3 times). Prints one summary
      line; exits 0 only if every datagram came back intact.
  udp_peer.py echo PORT SECONDS
      A Linux UDP echo server for polyhost's client.
  udp_peer.py flood ADDR PORT COUNT SIZE
      Send COUNT datagrams back to back, without waiting.
  udp_peer.py flows ADDR PORT FLOWS EACH
      FLOWS sockets (so FLOWS source ports), EACH datagrams apiece, one at
      a time; exits 0 only if every one was echoed.
  udp_peer.py malformed IFACE MAC ADDR PEER PORT PHCTL PREFIX
      Crafted datagrams (scapy) to the echo service at ADDR:PORT from PEER,
      sent to the stack's MAC: each malformed kind must move its drop counter
      by exactly the number sent and get no echo, as Linux would drop it;
      zero checksums and trailing bytes past the UDP length are echoed
      (trimmed) as Linux accepts them; a burst to a closed port gets
      rate-limited ICMP; a broadcast to a closed port gets none.
"""
import random
import select
import socket
import struct
import sys
import time

RATE_LIMIT = (20, 10)  # [host] icmp_rate, icmp_burst of udp.sh's configuration


def payload(seq, size, rng):
    body = rng.randbytes(max(0, size - 4)) if size > 4 else b""
    head = struct.pack("!I", seq)[:size]
    return head + body


def client(addr, port, count, lo, hi, seed):
    rng = random.Random(seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.connect((addr, port))
    s.setblocking(False)
    pending = {}  # seq -> [data, sent_at, tries]
    short = {}  # datagrams under 4 bytes are matched by content
    nxt = intact = corrupt = resent = bytes_total = 0
    t0 = time.monotonic()
    deadline = t0 + 600
    while (nxt < count or pending) and time.monotonic() < deadline:
        while nxt < count and len(pending) < 64:
            size = rng.randint(lo, hi)
            data = payload(nxt, size, rng)
            pending[nxt] = [data, time.monotonic(), 1]
            if size < 4:
                short.setdefault(data, []).append(nxt)
            s.send(data)
            nxt += 1
        r, _, _ = select.select([s], [], [], 0.05)
        if r:
            while True:
                try:
                    got = s.recv(70000)
                except BlockingIOError:
                    break
                if len(got) >= 4:
                    seq = struct.unpack("!I", got[:4])[0]
                elif short.get(got):
                    seq = short[got].pop(0)
                else:
                    corrupt += 1
                    continue
                ent = pending.pop(seq, None)
                if ent is None:
                    continue  # a duplicate after a resend
                if ent[0] == got:
                    intact += 1
                    bytes_total += len(got)
                else:
                    corrupt += 1
        now = time.monotonic()
        for seq, ent in list(pending.items()):
            if now - ent[1] > 2.0:
                if ent[2] >= 3:
                    del pending[seq]
                    continue
                ent[1], ent[2] = now, ent[2] + 1
                resent += 1
                s.send(ent[0])
    dt = time.monotonic() - t0
    lost = count - intact - corrupt
    print(f"udp client: {count} datagrams ({lo}..{hi} bytes, {bytes_total} bytes) "
          f"in {dt:.1f} s: intact {intact}, corrupted {corrupt}, lost {lost}, "
          f"resent {resent}")
    return 0 if intact == count else 1


def echo(port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", port))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.2)
        if r:
            data, peer = s.recvfrom(70000)
            s.sendto(data, peer)
    return 0


def flood(addr, port, count, size):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    data = bytes(size)
    for _ in range(count):
        s.sendto(data, (addr, port))
    return 0


def flows(addr, port, nflows, each):
    echoed = 0
    for f in range(nflows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.connect((addr, port))
        for k in range(each):
            data = b"flow %d datagram %d" % (f, k)
            s.send(data)
            try:
                echoed += s.recv(100) == data
            except socket.timeout:
                pass
        s.close()
    print(f"udp flows: {nflows} flows x {each}: {echoed} of {nflows * each} echoed")
    return 0 if echoed == nflows * each else 1


def malformed(iface, mac, addr, peer, port, phctl, prefix):
    from phcounters import Counters
    from scapy.all import IP, UDP, Ether, Raw, conf, sendp
    conf.verb = 0
    n = 5
    failed = 0

    ctrs = Counters(phctl, prefix)
    counter, settle = ctrs.get, ctrs.settle

    def report(ok, what):
        nonlocal failed
        print(("ok - " if ok else "not ok - ") + what, flush=True)
        failed += not ok

    # The echoes come back through Linux's UDP to this socket.
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind((peer, 40000))
    rx.settimeout(0.5)

    def echoes(limit=1.0):
        got, end = [], time.monotonic() + limit
        while time.monotonic() < end:
            try:
                got.append(rx.recv(70000))
            except socket.timeout:
                break
        return got

    def udp_bytes(payload, dport=port, **kw):
        """UDP header and payload with a correct checksum unless KW says otherwise."""
        return bytes(IP(src=peer, dst=addr) / UDP(sport=40000, dport=dport, **kw) /
                     Raw(payload))[20:]

    def frame(l4):
        return Ether(dst=mac) / IP(src=peer, dst=addr, proto=17) / Raw(l4)

    def expect_drop(reason, what, f):
        before = counter(reason)
        sendp([f] * n, iface=iface)
        delta = settle(reason, before + n) - before
        back = echoes(0.3)
        report(delta == n and not back,
               f"{what}: {reason} counted {delta} of {n}, {len(back)} echoed")

    good = udp_bytes(b"polyhost")
    bad = bytearray(good)
    bad[6] ^= 0x55
    expect_drop("udp_bad_checksum", "bad checksum", frame(bytes(bad)))
    expect_drop("udp_bad_length", "UDP length 7", frame(udp_bytes(b"polyhost", len=7)))
    expect_drop("udp_bad_length", "UDP length past the IP payload",
                frame(udp_bytes(b"polyhost", len=40)))
    expect_drop("udp_truncated", "4 bytes of UDP header", frame(good[:4]))

    sendp([frame(udp_bytes(b"no checksum", chksum=0))] * n, iface=iface)
    back = echoes()
    report(back == [b"no checksum"] * n,
           f"zero checksum (RFC 768: none computed): {len(back)} of {n} echoed intact")
    sendp([frame(udp_bytes(b"counted") + b"TRAILER")] * n, iface=iface)
    back = echoes()
    report(back == [b"counted"] * n,
           f"bytes past the UDP length: trimmed, {len(back)} of {n} echoed without them")

    before_nb = counter("udp_no_port")
    before_un = counter("icmpOutDestUnreachs")
    sendp([Ether(dst="ff:ff:ff:ff:ff:ff") / IP(src=peer, dst="198.18.0.255") /
           UDP(sport=40000, dport=5557) / Raw(b"anyone?")] * n, iface=iface)
    nb = settle("udp_no_port", before_nb + n) - before_nb
    un = counter("icmpOutDestUnreachs") - before_un
    report(nb == n and un == 0,
           f"broadcast to a closed port: udp_no_port {nb} of {n}, {un} ICMP errors "
           "(RFC 1122 3.2.2: none)")

    burst = 100
    before_un = counter("icmpOutDestUnreachs")
    before_rl = counter("icmpOutRateLimited")
    t0 = time.monotonic()
    sendp([frame(udp_bytes(b"closed", dport=5556))] * burst, iface=iface)
    dt = time.monotonic() - t0
    time.sleep(0.5)
    un = counter("icmpOutDestUnreachs") - before_un
    rl = counter("icmpOutRateLimited") - before_rl
    rate, cap = RATE_LIMIT
    most = cap + rate * (dt + 0.5) + 1
    report(1 <= un <= most and un + rl == burst,
           f"{burst} datagrams to a closed port in {dt:.2f} s: {un} port unreachable "
           f"(at most {most:.0f} at {rate}/s, burst {cap}), {rl} rate-limited")
    return 1 if failed else 0


def main(argv):
    if argv[1] == "client":
        return client(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6]),
                      int(argv[7]))
    if argv[1] == "echo":
        return echo(int(argv[2]), float(argv[3]))
    if argv[1] == "flows":
        return flows(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    if argv[1] == "malformed":
        return malformed(argv[2], argv[3], argv[4], argv[5], int(argv[6]), argv[7], argv[8])
    if argv[1] == "flood":
        return flood(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
