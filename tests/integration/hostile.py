#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Hostile TCP segments against polyhost and against the Linux kernel (attack.sh).

Each case is sent to both listeners from a connection this script opened
itself (sequence numbers known: the script plays the whole client), and the
answer is classed:

  RST      a segment with RST
  SYN-ACK  a SYN+ACK
  ACK      an ACK that does not take the hostile segment (a challenge ACK,
           or the duplicate ACK that answers an unacceptable segment)
  ACCEPT   an ACK that acknowledges the hostile segment's data
  ICMP     an ICMP error about it
  drop     nothing within the wait

The RFC is the oracle, Linux the comparison: a case fails when polyhost's
class differs from the expected one (or a polyhost counter did not move as
it should); Linux's class is shown, and its differences are noted. Cases
marked SHOULD are reported but not failed.

  hostile.py serve --echo PORT --discard PORT
      The Linux listener (run in its own namespace): echo and discard.
  hostile.py corpus ARGS     the table of cases
  hostile.py budget ARGS     the per-second challenge-ACK budget of polyhost
                             (RFC 5961 7 and 10, CVE-2016-5696)

The frames are built byte for byte (scapy's Ether and IP around a TCP header
of our own, so malformed options and offsets are exact) and sent to the
listener's unicast MAC through an AF_PACKET socket; answers are captured on
the same interface. The client's own kernel would reset these connections:
the caller drops its outgoing RSTs from the script's ports (SPORT_BASE up).
Exit 0 when every polyhost check passed.
"""
import argparse
import collections
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time

FIN, SYN, RST, PSH, ACK, URG = 1, 2, 4, 8, 16, 32
SPORT_BASE = 40000  # the caller drops its kernel's RSTs from 40000:44999
WAIT = 0.4          # seconds to collect answers to one segment
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def u32(x):
    return x & 0xffffffff


def seq_gt(a, b):
    return 0 < u32(a - b) < 0x80000000


def cksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def opt_mss(v):
    return b"\x02\x04" + struct.pack("!H", v)


def opt_ws(v):
    return b"\x01\x03\x03" + bytes([v])


def opt_ts(val, ecr):
    return b"\x01\x01\x08\x0a" + struct.pack("!II", u32(val), u32(ecr))


def tcp_hdr(sport, dport, seq, ack, flags, opts=b"", data=b"", win=65535, doff=None):
    """A TCP header of our own making; DOFF overrides the data offset."""
    hl = 20 + len(opts)
    d = hl // 4 if doff is None else doff
    return struct.pack("!HHIIBBHHH", sport, dport, u32(seq), u32(ack), d << 4, flags, win, 0,
                       0) + opts + data


class Target:
    """One listener: the interface it is reached through, its MACs and address,
    a capture of what it sends back."""

    def __init__(self, name, iface, mac, ip, src_ip):
        from scapy.all import get_if_hwaddr
        self.name, self.iface, self.mac, self.ip, self.src_ip = name, iface, mac, ip, src_ip
        self.src_mac = get_if_hwaddr(iface)
        self.ip_b = socket.inet_aton(ip)
        self.tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.tx.bind((iface, 0))
        self.rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.rx.bind((iface, 0))
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.rx.settimeout(0.2)
        self.q = collections.deque()
        self.stop = False
        self.th = threading.Thread(target=self._capture, daemon=True)
        self.th.start()

    def _capture(self):
        while not self.stop:
            try:
                b, addr = self.rx.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            # IPv4 from the listener only (not our own frames going out)
            if addr[2] != PACKET_OUTGOING and b[12:14] == b"\x08\x00" and b[26:30] == self.ip_b:
                self.q.append((time.monotonic(), b))

    def close(self):
        self.stop = True
        self.th.join(1)
        self.tx.close()
        self.rx.close()

    def frame(self, tcp, bad_csum=False, ip_opts=None, dst=None):
        """TCP bytes (checksum field 0) in IPv4 and Ethernet to the listener."""
        from scapy.all import IP, Ether, IPOption, Raw
        dst = dst or self.ip
        ph = socket.inet_aton(self.src_ip) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6,
                                                                                   len(tcp))
        c = cksum(ph + tcp)
        if bad_csum:
            c ^= 0x5a5a
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = IP(src=self.src_ip, dst=dst, proto=6, ttl=64, id=random.randint(1, 65535))
        if ip_opts is not None:
            ip.options = [IPOption(ip_opts)]
        return bytes(Ether(src=self.src_mac, dst=self.mac) / ip / Raw(tcp))

    def send(self, *frames):
        for f in frames:
            self.tx.send(f)

    def take(self, sport, since):
        """Parsed answers about SPORT captured since SINCE (TCP to it, or ICMP
        quoting a segment from it)."""
        from scapy.all import ICMP, TCP, Ether, TCPerror
        out = []
        for t, b in list(self.q):
            if t < since:
                continue
            p = Ether(b)
            if TCP in p and p[TCP].dport == sport:
                out.append(p)
            elif ICMP in p and TCPerror in p and p[TCPerror].sport == sport:
                out.append(p)
        return out

    def drain(self, keep=2.0):
        now = time.monotonic()
        while self.q and self.q[0][0] < now - keep:
            self.q.popleft()


class Conn:
    """A client connection the script plays itself. snd_nxt is the
    listener's RCV.NXT, rcv_nxt its SND.NXT."""
    next_port = SPORT_BASE

    def __init__(self, t, dport, ts=False, syn_opts=None):
        self.t, self.dport, self.ts = t, dport, ts
        self.sport = Conn.next_port
        Conn.next_port += 1
        self.iss = random.randint(1, 0xffffffff)
        self.snd_nxt = u32(self.iss + 1)
        self.irs = self.rcv_nxt = None
        self.tsval, self.tsecr = 1_000_000, 0
        self.syn_opts = syn_opts if syn_opts is not None else opt_mss(1460)
        self.synack = None

    def opts(self):
        if not self.ts:
            return b""
        self.tsval += 1
        return opt_ts(self.tsval, self.tsecr)

    def seg(self, flags, seq=None, ack=None, data=b"", opts=None, **kw):
        seq = self.snd_nxt if seq is None else seq
        ack = (self.rcv_nxt or 0) if ack is None else ack
        opts = self.opts() if opts is None else opts
        return tcp_hdr(self.sport, self.dport, seq, ack, flags, opts, data, **kw)

    def syn(self):
        opts = self.syn_opts + (opt_ts(self.tsval, 0) if self.ts else b"")
        return tcp_hdr(self.sport, self.dport, self.iss, 0, SYN, opts)

    def wait_synack(self, since, timeout=2.0):
        from scapy.all import TCP
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for p in self.t.take(self.sport, since):
                if TCP in p and (p[TCP].flags & (SYN | ACK)) == SYN | ACK:
                    return p
            time.sleep(0.005)
        return None

    def open(self, data=b""):
        """Handshake (and DATA); False when the listener did not answer."""
        from scapy.all import TCP
        since = time.monotonic()
        self.t.send(self.t.frame(self.syn()))
        p = self.wait_synack(since)
        if p is None:
            return False
        self.synack = p
        self.irs = p[TCP].seq
        self.rcv_nxt = u32(self.irs + 1)
        for o in p[TCP].options:
            if o[0] == "Timestamp":
                self.tsecr = o[1][0]
        self.t.send(self.t.frame(self.seg(ACK)))
        if data:
            self.send_data(data)
        return True

    def send_data(self, data):
        self.t.send(self.t.frame(self.seg(ACK | PSH, data=data)))
        self.snd_nxt = u32(self.snd_nxt + len(data))
        time.sleep(0.05)

    def alive(self):
        """After the case: data at RCV.NXT. 'alive' (ACKed), 'reset' (RST) or 'silent'."""
        from scapy.all import TCP
        since = time.monotonic()
        self.t.send(self.t.frame(self.seg(ACK | PSH, data=b"alive?\n")))
        end = since + 1.0
        while time.monotonic() < end:
            for p in self.t.take(self.sport, since):
                if TCP not in p:
                    continue
                if p[TCP].flags & RST:
                    return "reset"
                if seq_gt(p[TCP].ack, self.snd_nxt):
                    self.snd_nxt = p[TCP].ack
                    return "alive"
            time.sleep(0.01)
        return "silent"

    def close(self):
        """Reset it at RCV.NXT (and at the highest ACK seen), leaving nothing;
        nothing to do if the listener never answered with a SYN-ACK."""
        from scapy.all import TCP
        if self.irs is None:
            return
        seqs = {self.snd_nxt}
        for p in self.t.take(self.sport, 0):
            if TCP in p and p[TCP].flags & ACK and seq_gt(p[TCP].ack, self.snd_nxt):
                seqs.add(p[TCP].ack)
        for s in seqs:
            self.t.send(self.t.frame(tcp_hdr(self.sport, self.dport, s, 0, RST)))


def classify(pkts, conn_snd_nxt):
    """The class of the answers PKTS to a segment; CONN_SND_NXT is the
    listener's RCV.NXT before it (an ACK beyond it took the data)."""
    from scapy.all import ICMP, TCP
    if any(ICMP in p for p in pkts):
        return "ICMP"
    tcp = [p[TCP] for p in pkts if TCP in p]
    if any(s.flags & RST for s in tcp):
        return "RST"
    if any((s.flags & (SYN | ACK)) == SYN | ACK for s in tcp):
        return "SYN-ACK"
    acks = [s for s in tcp if s.flags & ACK]
    if acks:
        if conn_snd_nxt is not None and any(seq_gt(s.ack, conn_snd_nxt) for s in acks):
            return "ACCEPT"
        return "ACK"
    return "drop"


# ---- Linux's view: /proc counters and ss in the listener's namespace ----

def linux_counters(ns):
    out = {}
    for f in ("/proc/net/netstat", "/proc/net/snmp"):
        r = subprocess.run(["ip", "netns", "exec", ns, "cat", f], capture_output=True, text=True,
                           timeout=10)
        lines = r.stdout.splitlines()
        for i in range(0, len(lines) - 1, 2):
            pre, names = lines[i].split(":", 1)
            _, vals = lines[i + 1].split(":", 1)
            if pre not in ("TcpExt", "Tcp"):
                continue
            for k, v in zip(names.split(), vals.split()):
                try:
                    out[k] = int(v)
                except ValueError:
                    pass
    return out


NOISE = {"InSegs", "OutSegs", "TCPPureAcks", "TCPHPAcks", "TCPHPHits", "DelayedACKs",
         "TCPOrigDataSent", "TCPDelivered", "CurrEstab", "PassiveOpens", "TCPRcvCoalesce",
         "TCPAutoCorking", "TCPBacklogCoalesce", "TCPTimeouts", "TCPSynRetrans",
         "TCPToZeroWindowAdv",
         "TCPFromZeroWindowAdv", "TCPWantZeroWindowAdv", "TCPWinProbe", "TCPKeepAlive",
         "IPReversePathFilter", "TCPMTUPFail", "TCPMTUPSuccess", "TCPAckCompressed",
         "TCPMigrateReqSuccess", "TCPDSACKRecvSegs", "TCPDSACKRecv", "TCPDSACKUndo",
         "TCPLossProbes", "TCPSpuriousRtxHostQueues", "RetransSegs", "ActiveOpens",
         "TCPDSACKOldSent", "TCPDSACKIgnoredNoUndo", "TCPRetransFail", "TCPHystartTrainDetect",
         "TCPHystartTrainCwnd", "TCPHystartDelayDetect", "TCPHystartDelayCwnd"}


def linux_moved(before, after):
    return " ".join(f"{k}+{after[k] - before.get(k, 0)}" for k in sorted(after)
                    if after[k] != before.get(k, 0) and k not in NOISE)


def ss_info(ns, sport):
    r = subprocess.run(["ip", "netns", "exec", ns, "ss", "-tinH", f"( dport = :{sport} )"],
                       capture_output=True, text=True, timeout=10)
    return r.stdout


def phctl_conns(phctl, prefix, sport):
    r = subprocess.run([phctl, "-p", prefix, "conns"], capture_output=True, text=True, timeout=10)
    lines = r.stdout.splitlines()
    for i, l in enumerate(lines):
        if re.search(rf":{sport}\b", l):
            return l + " " + (lines[i + 1] if i + 1 < len(lines) else "")
    return ""


def field(text, key):
    m = re.search(rf"\b{key}:([0-9]+)", text)
    return int(m.group(1)) if m else None


# ---- the corpus ----

class Case:
    """NAME: what is sent; EXPECT: the RFC's class; KIND: 'estab' (on an open
    connection), 'listen' (a new SYN or segment to the listener), 'closed' (to a
    port nobody listens on). RUN(conn) sends the case and returns the
    listener's RCV.NXT before it (for ACCEPT), or None. AFTER: what data sent
    afterwards must meet ('alive', 'reset'), or None. CTRS: polyhost counters
    that must move by exactly that much. SHOULD: reported, not failed. TS:
    timestamps on the connection; PRELUDE: data sent after the handshake;
    SYN_OPTS: the options of the SYN; DETAIL: what to read from the opened
    connection ('mss', 'wscale'); NOTE: how the stacks differ, and why."""

    def __init__(self, name, expect, kind, run, after=None, ctrs=None, ref="", note="",
                 should=False, ts=False, prelude=b"prelude\n", syn_opts=None, detail=None):
        self.name, self.expect, self.kind, self.run = name, expect, kind, run
        self.after, self.ctrs, self.ref, self.note = after, ctrs or {}, ref, note
        self.should, self.ts, self.prelude, self.syn_opts = should, ts, prelude, syn_opts
        self.detail = detail


def send_one(c, tcp, **kw):
    c.t.send(c.t.frame(tcp, **kw))
    return c.snd_nxt


def build_cases():
    D = b"0123456789"
    cases = [
        Case("RST in window, not RCV.NXT", "ACK", "estab",
             lambda c: send_one(c, c.seg(RST, seq=c.snd_nxt + 1000, ack=0, opts=b"")),
             after="alive", ctrs={"tcp_challenge_acks": 1, "tcp_rst_challenged": 1},
             ref="RFC 5961 3.2: challenge ACK"),
        Case("RST exactly at RCV.NXT", "drop", "estab",
             lambda c: send_one(c, c.seg(RST, ack=0, opts=b"")),
             after="reset", ctrs={"tcpEstabResets": 1},
             ref="RFC 5961 3.2: reset; later data gets RST"),
        Case("RST outside the window", "drop", "estab",
             lambda c: send_one(c, c.seg(RST, seq=c.snd_nxt + 0x40000000, ack=0, opts=b"")),
             after="alive", ctrs={"tcp_rst_out_of_window": 1},
             ref="RFC 5961 3.2: silently dropped"),
        Case("SYN on ESTABLISHED, in window", "ACK", "estab",
             lambda c: send_one(c, c.seg(SYN, seq=c.snd_nxt + 100, ack=0, opts=opt_mss(1460))),
             after="alive", ctrs={"tcp_challenge_acks": 1, "tcp_syn_challenged": 1},
             ref="RFC 5961 4.2: challenge ACK"),
        Case("SYN on ESTABLISHED, below window", "ACK", "estab",
             lambda c: send_one(c, c.seg(SYN, seq=c.snd_nxt - 5000, ack=0, opts=opt_mss(1460))),
             after="alive", ref="RFC 5961 4.2: challenge ACK whatever the sequence number"),
        Case("the original SYN again (seq IRS, no data yet)", "ACK", "estab",
             lambda c: send_one(c, c.seg(SYN, seq=c.iss, ack=0, opts=opt_mss(1460))),
             after="alive", prelude=b"",
             note=("polyhost: the SYN ends at RCV.NXT, trim_to_window takes it as a duplicate (SYN"
                  " cleared, ACK due), then 'no ACK flag' drops it before the ACK goes out"),
             ref="RFC 5961 4.2: challenge ACK whatever the sequence number"),
        Case("ACK beyond SND.NXT, with data", "ACK", "estab",
             lambda c: send_one(c, c.seg(ACK | PSH, ack=c.rcv_nxt + 100000, data=D)),
             after="alive", ctrs={"tcp_ack_of_unsent_data": 1},
             note="Linux answers it with a challenge ACK (TCPChallengeACK)",
             ref="RFC 9293 3.10.7.4, RFC 5961 5.2: send ACK, drop"),
        Case("old ACK < SND.UNA - MAX.SND.WND, data", "ACK", "estab",
             lambda c: send_one(c, c.seg(ACK | PSH, ack=c.rcv_nxt - 0x40000000, data=D)),
             after="alive", ctrs={"tcp_ack_too_old": 1},
             ref="RFC 5961 5.2: drop, send ACK"),
        Case("old ACK within MAX.SND.WND, data", "ACCEPT", "estab",
             lambda c: send_one(c, c.seg(ACK | PSH, ack=c.rcv_nxt - 10, data=D)),
             after="alive",
             note=("Linux bounds MAX.SND.WND by the bytes the peer has acknowledged (tcp_ack: "
                  "min(max_window, bytes_acked)); the listener has sent nothing, so any ACK below"
                  " SND.UNA is too old: challenge ACK, data dropped"),
             ref="RFC 5961 5.2: acceptable, data taken"),
        Case("PAWS: old TSval on ESTABLISHED, data", "ACK", "estab",
             lambda c: send_one(c, c.seg(ACK | PSH, data=D,
                                         opts=opt_ts(c.tsval - 50000, c.tsecr))),
             after="alive", ts=True, ctrs={"tcp_paws_drops": 1, "tcp_paws_rejected": 1},
             ref="RFC 7323 5.3: drop, send ACK"),
        Case("option length 0 (ESTABLISHED, data)", "drop", "estab",
             lambda c: send_one(c, c.seg(ACK | PSH, data=D, opts=b"\x01\x01\x22\x00")),
             after="alive", ctrs={"tcp_bad_options": 1, "tcpInErrs": 1},
             note=("Linux stops parsing options at a length below 2 or past the header "
                  "(tcp_parse_options) and takes the segment: data ACKed"),
             ref="RFC 9293 3.1 MUST-7: handle it; drop"),
        Case("bad checksum (ESTABLISHED, data)", "drop", "estab",
             lambda c: send_one(c, c.seg(ACK | PSH, data=D), bad_csum=True),
             after="alive", ctrs={"tcpInCsumErrors": 1, "tcpInErrs": 1},
             ref="RFC 9293 3.1: checksum failure: discard"),
        Case("data offset 4 (16-byte header)", "drop", "estab",
             lambda c: send_one(c, c.seg(ACK | PSH, data=D, doff=4)),
             after="alive", ctrs={"tcp_bad_data_offset": 1, "tcpInErrs": 1},
             ref="RFC 9293 3.1: offset < 5 is malformed: discard"),
        Case("data offset 15, 20-byte packet", "drop", "estab",
             lambda c: send_one(c, c.seg(ACK, doff=15)),
             after="alive", ctrs={"tcp_bad_data_offset": 1, "tcpInErrs": 1},
             ref="header past the packet: discard"),
        Case("no flags (ESTABLISHED, data)", "drop", "estab",
             lambda c: send_one(c, c.seg(0, data=D)),
             after="alive", ctrs={"tcp_no_ack_flag": 1},
             ref="RFC 9293 3.10.7.4: ACK bit off: drop"),
        Case("forged ICMP port unreachable (ESTABLISHED)", "drop", "estab",
             lambda c: icmp_unreach(c), after="alive",
             ref="RFC 1122 4.2.3.9, RFC 5927: soft error, no reset"),
        Case("SYN, MSS 0", "SYN-ACK", "listen", None, syn_opts=opt_mss(0), detail="mss",
             note=("Linux skips an MSS option of 0 (tcp_parse_options) and uses the default 536; "
                  "polyhost floors it at 88"),
             ref="RFC 9293 3.7.1: answered (MSS 0 is no usable MSS)"),
        Case("SYN, window scale 15", "SYN-ACK", "listen", None,
             syn_opts=opt_mss(1460) + opt_ws(15), detail="wscale",
             ref="RFC 7323 2.3: answered, shift used as 14"),
        Case("SYN, option length 0", "drop", "listen", None, detail="mss",
             syn_opts=opt_mss(1460) + b"\x01\x01\x22\x00", ctrs={"tcp_bad_options": 1},
             note=("Linux stops parsing at the bad option and answers the SYN with what it parsed "
                  "before it"),
             ref="RFC 9293 3.1 MUST-7: handle it; drop"),
        Case("SYN, option length 1", "drop", "listen", None, detail="mss",
             syn_opts=b"\x01\x01\x02\x01" + opt_mss(1460), ctrs={"tcp_bad_options": 1},
             note="Linux stops parsing at the bad option and answers the SYN",
             ref="RFC 9293 3.1 MUST-7: handle it; drop"),
        Case("SYN, option running past the header", "drop", "listen", None, detail="mss",
             syn_opts=b"\x01\x01\x02\x28", ctrs={"tcp_bad_options": 1},
             note="Linux ignores an option running past the header and answers the SYN",
             ref="RFC 9293 3.1 MUST-7: handle it; drop"),
        Case("SYN+FIN to the listener", "drop", "listen", None, ctrs={"tcp_bad_flags": 1},
             ref="no RFC rule; dropped by common practice (RFC 9293 would queue the FIN)"),
        Case("no flags to the listener", "drop", "listen", None, ctrs={"tcp_listen_not_syn": 1},
             ref="RFC 9293 3.10.7.2: neither SYN nor RST: drop"),
        Case("ACK to the listener", "RST", "listen", None,
             ref="RFC 9293 3.10.7.2: ACK in LISTEN: RST"),
        Case("SYN to a closed port", "RST", "closed", None, ref="RFC 9293 3.10.7.1"),
        Case("SYN+FIN to a closed port", "RST", "closed", None,
             note=("polyhost drops SYN+FIN before the lookup (tcp_bad_flags), so a closed port "
                  "stays silent"),
             ref="RFC 9293 3.10.7.1: no RST in it: send RST"),
        Case("no flags to a closed port", "RST", "closed", None,
             ref="RFC 9293 3.10.7.1: no RST in it: send RST"),
        Case("SYN with a bad IP option (length 1)", "ICMP", "listen", None, should=True,
             note=("Linux: ICMP parameter problem (ip_options_compile); polyhost does not parse IP"
                  " options"),
             ref="RFC 1122 3.2.2.5: SHOULD send Parameter Problem"),
    ]
    return cases


def icmp_unreach(c):
    """A port unreachable quoting the listener's own next segment to us."""
    from scapy.all import ICMP, IP, TCP, Ether, Raw
    quote = IP(src=c.t.ip, dst=c.t.src_ip, proto=6) / TCP(sport=c.dport, dport=c.sport,
                                                          seq=c.rcv_nxt, ack=c.snd_nxt, flags="A")
    f = Ether(src=c.t.src_mac, dst=c.t.mac) / IP(src=c.t.src_ip, dst=c.t.ip) / \
        ICMP(type=3, code=3) / Raw(bytes(quote)[:28])
    c.t.send(bytes(f))
    return c.snd_nxt


def run_listen_case(case, t, port, closed_port):
    """A segment that opens nothing: to the listener or a closed port. Returns
    its class and the connection (open if the case needs a DETAIL of it)."""
    dport = closed_port if case.kind == "closed" else port
    c = Conn(t, dport, syn_opts=case.syn_opts)
    since = time.monotonic()
    n = case.name
    if "SYN+FIN" in n:
        tcp = tcp_hdr(c.sport, dport, c.iss, 0, SYN | FIN, opt_mss(1460))
    elif "no flags" in n:
        tcp = tcp_hdr(c.sport, dport, c.iss, 0, 0, b"", b"x" * 10)
    elif "ACK to the" in n:
        tcp = tcp_hdr(c.sport, dport, c.iss, random.randint(1, 0xffffffff), ACK)
    else:
        tcp = c.syn()
    ip_opts = b"\x07\x01\x00\x00" if "IP option" in n else None
    t.send(t.frame(tcp, ip_opts=ip_opts))
    time.sleep(WAIT)
    pkts = t.take(c.sport, since)
    cls = classify(pkts, None)
    if cls == "SYN-ACK":
        from scapy.all import TCP
        p = [p for p in pkts if TCP in p][0]
        c.synack = p
        c.irs = p[TCP].seq  # close() resets what it opened
        c.rcv_nxt = u32(c.irs + 1)
        if case.detail:
            t.send(t.frame(c.seg(ACK)))  # complete it, then look at what was agreed
            time.sleep(0.1)
    return cls, c


def main_corpus(a):
    from phcounters import Counters
    ctrs = Counters(a.phctl, a.prefix)
    ph = Target("polyhost", a.tap, a.stack_mac, a.stack_ip, a.peer_ip)
    lx = Target("Linux", a.veth, a.linux_mac, a.linux_ip, a.veth_ip)
    failed = 0
    rows = []

    def report(ok, what):
        nonlocal failed
        print(("ok - " if ok else "not ok - ") + what, flush=True)
        if not ok:
            failed += 1

    # Both listeners answer a plain connection before anything else.
    for t in (ph, lx):
        c = Conn(t, a.port)
        report(c.open(b"hello\n") and c.alive() == "alive", f"{t.name}: a plain connection works")
        c.close()
    for case in build_cases():
        res = {}
        for t in (ph, lx):
            before_ph = {k: ctrs.get(k) for k in case.ctrs} if t is ph else {}
            before_lx = linux_counters(a.linux_ns) if t is lx else {}
            detail = ""
            if case.kind == "estab":
                c = Conn(t, a.port, ts=case.ts)
                if not c.open(case.prelude):
                    res[t.name] = ("no-conn", "", "", "")
                    continue
                time.sleep(0.05)
                since = time.monotonic()
                nxt = case.run(c)
                time.sleep(WAIT)
                cls = classify(t.take(c.sport, since), nxt)
            else:
                cls, c = run_listen_case(case, t, a.port, a.closed_port)
            if case.detail == "wscale" and cls == "SYN-ACK":
                info = (phctl_conns(a.phctl, a.prefix, c.sport) if t is ph
                        else ss_info(a.linux_ns, c.sport))
                m = re.search(r"wscale:([0-9]+),([0-9]+)", info)
                detail = f"peer shift used: {m.group(1)}" if m else f"wscale? ({info.strip()})"
                if t is ph:
                    report(m is not None and m.group(1) == "14",
                           f"polyhost: window scale 15 used as 14 ({detail})")
            if case.detail == "mss" and cls == "SYN-ACK":
                info = (phctl_conns(a.phctl, a.prefix, c.sport) if t is ph
                        else ss_info(a.linux_ns, c.sport))
                detail = f"send MSS {field(info, 'mss')}"
            after = c.alive() if case.after else ""
            moved = ""
            # Counters before the connection is reset: that is not the case's.
            if t is ph:
                for k, want in case.ctrs.items():
                    got = ctrs.settle(k, before_ph[k] + want, 1.0) - before_ph[k]
                    report(got == want, f"polyhost: {case.name}: {k} moved by {got} (want {want})")
            else:
                moved = linux_moved(before_lx, linux_counters(a.linux_ns))
            c.close()
            res[t.name] = (cls, after, detail, moved)
            t.drain()
        p, l = res["polyhost"], res["Linux"]
        exp_after = case.after or ""
        ok_cls = p[0] == case.expect
        ok_after = not case.after or p[1] == case.after
        if case.should:
            print(f"# {case.name}: polyhost {p[0]}, Linux {l[0]}, SHOULD {case.expect}"
                  f" ({case.ref}){'' if ok_cls else ': reported, not failed'}", flush=True)
        else:
            report(ok_cls and ok_after,
                   f"polyhost: {case.name}: {p[0]}{'/' + p[1] if p[1] else ''}"
                   f" (expected {case.expect}{'/' + exp_after if exp_after else ''}; {case.ref})")
        rows.append((case, p, l))
        time.sleep(0.05)

    # The table.
    def cell(r):
        return r[0] + ("/" + r[1] if r[1] else "")
    print()
    print(f"{'case':46} {'polyhost':16} {'Linux':16} {'expected (RFC)':16}")
    print("-" * 96)
    for case, p, l in rows:
        exp = case.expect + ("/" + case.after if case.after else "") + (" SHOULD" if case.should
                                                                       else "")
        mark = "" if cell(p) == exp.split(" ")[0] else "  <- polyhost differs"
        print(f"{case.name:46} {cell(p):16} {cell(l):16} {exp:16}{mark}")
    print("(X/alive, X/reset: the class, then what data sent afterwards met)")
    print()
    print("Details and Linux's own counters per case (TcpExt/Tcp that moved):")
    for case, p, l in rows:
        extra = []
        if p[2] or l[2]:
            extra.append(f"polyhost {p[2] or '-'}; Linux {l[2] or '-'}")
        if cell(l) != case.expect + ("/" + case.after if case.after else ""):
            extra.append("Linux differs from the RFC")
        if case.note:
            extra.append(case.note)
        extra.append(f"Linux moved: {l[3] or '-'}")
        print(f"  {case.name}: {'; '.join(extra)}")
    ph.close()
    lx.close()
    return failed


def main_budget(a):
    """In-window RSTs on one connection at RATE/s for SECONDS: RFC 5961 7 wants
    a limit on challenge ACKs, and since CVE-2016-5696 (the count of a fixed
    global limit leaks whether another connection's sequence was guessed)
    the budget of each second must not be a constant. The challenge ACKs come
    in one run at the start of each of the stack's seconds, then stop: the
    runs that are whole (not the first, not the last) are its budgets."""
    from phcounters import Counters
    ctrs = Counters(a.phctl, a.prefix)
    t = Target("polyhost", a.tap, a.stack_mac, a.stack_ip, a.peer_ip)
    c = Conn(t, a.port)
    if not c.open(b"budget\n"):
        print("not ok - budget: no connection")
        return 1
    time.sleep(0.1)
    rst = t.frame(c.seg(RST, seq=c.snd_nxt + 1000, ack=0, opts=b""))
    before = ctrs.get("tcp_challenge_acks")
    since = time.monotonic()
    sent = 0
    end = since + a.seconds
    batch = max(1, a.rate // 200)
    while time.monotonic() < end:
        for _ in range(batch):
            t.tx.send(rst)
        sent += batch
        # pace to RATE
        ahead = sent / a.rate - (time.monotonic() - since)
        if ahead > 0:
            time.sleep(ahead)
    elapsed = time.monotonic() - since
    time.sleep(0.3)
    from_ctr = ctrs.get("tcp_challenge_acks") - before
    times = []
    for ts, b in list(t.q):
        if ts < since:
            continue
        # TCP to our port with ACK only: a challenge ACK
        ihl = (b[14] & 0xf) * 4
        tcp = b[14 + ihl:]
        if b[23] == 6 and struct.unpack("!H", tcp[2:4])[0] == c.sport and tcp[13] == ACK:
            times.append(ts)
    c.close()
    t.close()
    runs, cur, last = [], 0, None
    for ts in times:
        if last is not None and ts - last > 0.15:
            runs.append(cur)
            cur = 0
        cur += 1
        last = ts
    if cur:
        runs.append(cur)
    whole = runs[1:-1]
    print(f"# budget: {sent} in-window RSTs in {elapsed:.1f} s ({sent / elapsed:.0f}/s); "
          f"{len(times)} challenge ACKs seen, tcp_challenge_acks +{from_ctr}; runs {runs}")
    failed = 0

    def report(ok, what):
        nonlocal failed
        print(("ok - " if ok else "not ok - ") + what, flush=True)
        if not ok:
            failed += 1
    report(len(times) < sent / 2, f"challenge ACKs are limited ({len(times)} for {sent} RSTs)")
    if len(times) < 5 * a.seconds:
        ok(True, "the connection's own limit keeps the global budget out of reach")
    elif len(whole) < 2:
        report(False, f"two whole seconds of budget seen (runs {runs})")
    else:
        report(len(set(whole)) > 1,
               f"the per-second challenge-ACK budget is not a constant (whole seconds: {whole}; "
               "RFC 5961 10, CVE-2016-5696)")
    return failed


def serve(a):
    """The Linux listener: echo on one port, discard on another."""
    def handle(conn, echo):
        conn.settimeout(120)
        try:
            while True:
                b = conn.recv(65536)
                if not b:
                    break
                if echo:
                    conn.sendall(b)
        except OSError:
            pass
        conn.close()

    def accept_loop(port, echo):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", port))
        ls.listen(128)
        while True:
            conn, _ = ls.accept()
            threading.Thread(target=handle, args=(conn, echo), daemon=True).start()

    threading.Thread(target=accept_loop, args=(a.echo, True), daemon=True).start()
    threading.Thread(target=accept_loop, args=(a.discard, False), daemon=True).start()
    print("serving", flush=True)
    while True:
        time.sleep(3600)


def ok(cond, what):
    print(("ok - " if cond else "not ok - ") + what, flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--echo", type=int, default=7)
    s.add_argument("--discard", type=int, default=9)
    for name in ("corpus", "budget"):
        p = sub.add_parser(name)
        p.add_argument("--tap", required=True)
        p.add_argument("--stack-mac", required=True)
        p.add_argument("--stack-ip", default="198.18.0.2")
        p.add_argument("--peer-ip", default="198.18.0.1")
        p.add_argument("--phctl", required=True)
        p.add_argument("--prefix", required=True)
        p.add_argument("--port", type=int, default=9)
        if name == "corpus":
            p.add_argument("--veth", required=True)
            p.add_argument("--linux-mac", required=True)
            p.add_argument("--linux-ip", default="198.18.2.2")
            p.add_argument("--veth-ip", default="198.18.2.1")
            p.add_argument("--linux-ns", required=True)
            p.add_argument("--closed-port", type=int, default=5009)
            p.add_argument("--sport-base", type=int, default=SPORT_BASE)
        else:
            p.add_argument("--rate", type=int, default=5000)
            p.add_argument("--seconds", type=float, default=4.2)
            p.add_argument("--sport-base", type=int, default=SPORT_BASE + 900)
    a = ap.parse_args()
    if a.mode == "serve":
        serve(a)
        return 0
    Conn.next_port = a.sport_base
    random.seed(os.getpid())
    return 1 if (main_corpus(a) if a.mode == "corpus" else main_budget(a)) else 0


if __name__ == "__main__":
    sys.exit(main())
