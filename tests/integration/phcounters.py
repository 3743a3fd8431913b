# SPDX-License-Identifier: BSD-3-Clause
"""Counters of a running polyhost host, read through phctl, for the Python
peers of the integration tests (malformed.py, udp_peer.py)."""
import subprocess
import time


class Counters:
    def __init__(self, phctl, prefix):
        self.phctl = phctl
        self.prefix = prefix

    def get(self, name):
        """A host-wide counter or drop reason by name."""
        out = subprocess.run([self.phctl, "-p", self.prefix, "get", name],
                             capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            raise RuntimeError(f"phctl get {name}: {out.stderr.strip()}")
        return int(out.stdout)

    def settle(self, name, want, deadline=3.0):
        """Wait (bounded) for counter NAME to reach WANT; return its last value."""
        end = time.monotonic() + deadline
        v = self.get(name)
        while v < want and time.monotonic() < end:
            time.sleep(0.05)
            v = self.get(name)
        return v
