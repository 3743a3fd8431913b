#!/usr/bin/python3
"""The Linux side of tcp.sh: small TCP peers that report what the kernel saw.

  tcp_peer.py slow-sink PORT PAUSE_S RCVBUF
      Accept one connection with a tiny receive buffer, read nothing for
      PAUSE_S seconds (the sender meets a zero window and must probe), then
      read to the end. Prints "bytes N sha256 HEX".
  tcp_peer.py info HOST PORT
      Connect, send a line, close, and print what the kernel negotiated, from
      TCP_INFO: "ts 1 sack 1 wscale S,R mss M" (iproute2 6.1's ss does not
      print ts/sack for this kernel, so the struct is read directly).
"""
import hashlib
import socket
import struct
import sys
import time

TCPI_OPT_TIMESTAMPS, TCPI_OPT_SACK, TCPI_OPT_WSCALE = 1, 2, 4


def slow_sink(port, pause, rcvbuf):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Set before listen so the window offered in the SYN-ACK is small too.
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    ls.settimeout(30)
    c, _ = ls.accept()
    print("accepted", flush=True)
    time.sleep(pause)
    h, n = hashlib.sha256(), 0
    c.settimeout(60)
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(f"bytes {n} sha256 {h.hexdigest()}", flush=True)


def info(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"hello\n")
    ti = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    # struct tcp_info: u8 state, ca_state, retransmits, probes, backoff,
    # options, wscale (snd:4 | rcv:4), ...; u32 rto, ato, snd_mss, rcv_mss
    opts, ws = ti[5], ti[6]
    snd_mss = struct.unpack_from("I", ti, 16)[0]
    print(f"ts {int(bool(opts & TCPI_OPT_TIMESTAMPS))} sack {int(bool(opts & TCPI_OPT_SACK))} "
          f"wscale {ws & 15},{ws >> 4} mss {snd_mss}", flush=True)
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "slow-sink":
        slow_sink(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "info":
        info(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(f"unknown mode {sys.argv[1]}")
