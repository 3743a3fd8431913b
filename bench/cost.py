#!/usr/bin/env python3
"""Instructions per packet from a callgrind profile of a polyhost process.

bench/run profiles ph-perf's server with collection on from its first event
to the end of its loop, so start-up, the idle wait for the client and
shutdown are out. This takes that profile, leaves
out the NIC driver (the net_memif PMD: every instruction inside its
functions and in what they call), and divides the rest by the packets (or
transactions) the run handled. The result is one JSON object on stdout:

    {"ok": true, "unit": ..., "packets": N, "total_ir": ..., "driver_ir": ...,
     "ir_per_unit": ..., "top": [{"fn": ..., "ir_per_unit": ...}, ...]}

Usage: cost.py CALLGRIND_OUT PACKETS UNIT [DRIVER]
       (DRIVER: the object whose functions are left out, librte_net_memif
       by default)
"""
import json
import re
import subprocess
import sys

DRIVER = "librte_net_memif"
LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+([*> ]?)\s*(.*)$")


def annotate(path, *args):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no", *args, path],
                         check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            rows.append((int(m.group(1).replace(",", "")), m.group(2), m.group(3)))
    return rows


def name_of(desc):
    """'file:function [object]' -> ('function', 'object')."""
    obj = ""
    m = re.search(r"\s\[([^\]]+)\]$", desc)
    if m:
        obj = m.group(1)
        desc = desc[:m.start()]
    desc = re.sub(r"\s\(\d[\d,]*x\)$", "", desc)
    fn = desc.rsplit(":", 1)[-1] if ":" in desc else desc
    return fn.strip(), obj


def main():
    global DRIVER
    path, packets, unit = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if len(sys.argv) > 4:
        DRIVER = sys.argv[4]
    if packets <= 0:
        print(json.dumps({"ok": False, "error": "no packets counted", "unit": unit}))
        return 1
    flat = annotate(path)
    total = next((ir for ir, _, d in flat if d.startswith("PROGRAM TOTALS")), 0)
    # The driver: its functions' inclusive cost, less the calls between them.
    driver = 0
    block_is_driver = False
    for ir, mark, desc in annotate(path, "--inclusive=yes", "--tree=calling"):
        fn, obj = name_of(desc)
        if mark == "*":
            block_is_driver = DRIVER in obj
            if block_is_driver:
                driver += ir
        elif mark == ">" and block_is_driver and DRIVER in obj:
            driver -= ir
    # Self cost per function name (callgrind splits one function over the
    # files its inlined code comes from), the driver left out.
    per_fn = {}
    for ir, mark, desc in flat:
        if desc.startswith("PROGRAM TOTALS"):
            continue
        fn, obj = name_of(desc)
        if DRIVER in obj:
            continue
        per_fn[fn] = per_fn.get(fn, 0) + ir
    top = sorted(per_fn.items(), key=lambda kv: -kv[1])[:5]
    print(json.dumps({
        "ok": total > 0,
        "unit": unit,
        "packets": packets,
        "total_ir": total,
        "driver_ir": driver,
        "ir_per_unit": round((total - driver) / packets, 1),
        "top": [{"fn": f, "ir_per_unit": round(ir / packets, 1)} for f, ir in top],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
