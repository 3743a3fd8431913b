#!/usr/bin/env python3
"""bench/run's report: runs.jsonl -> table.md and PNG plots (gnuplot).

Every figure is the median of its runs with the range (min-max). A ratio
polyhost/Linux is computed for each pair of runs taken back to back (same
case, same repetition), and the table shows the median of those ratios with
their range: the two sides are never compared across different moments.

Usage: report.py RUNS.jsonl OUTDIR --machine M --rev R --seconds S --repeat N
       [--no-plots]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from datetime import datetime, timezone

# case -> (title, what polyhost ran, what Linux ran)
CASES = [
    ("bulk-1", "TCP bulk, 1 stream",
     "ph-perf to ph-perf, net_memif, 1 lcore each", "iperf3 to iperf3, veth, -P 1"),
    ("bulk-4", "TCP bulk, 4 streams",
     "ph-perf to ph-perf, net_memif, 1 lcore each", "iperf3 to iperf3, veth, -P 4"),
    ("rr-64-1", "TCP rr 64 B, 1 conn", "ph-perf, net_memif", "ph-perf on Linux sockets, veth"),
    ("rr-64-32", "TCP rr 64 B, 32 conns", "ph-perf, net_memif", "ph-perf on Linux sockets, veth"),
    ("rr-1024-1", "TCP rr 1 KiB, 1 conn", "ph-perf, net_memif", "ph-perf on Linux sockets, veth"),
    ("rr-1024-32", "TCP rr 1 KiB, 32 conns", "ph-perf, net_memif",
     "ph-perf on Linux sockets, veth"),
    ("http-keepalive-tap", "HTTP keep-alive, wrk, 32 conns",
     "wrk -> ph-httpd, net_tap, 1 lcore", "wrk -> nginx-light, veth, 1 worker"),
    ("http-close-tap", "HTTP Connection: close, wrk, 32 conns",
     "wrk -> ph-httpd, net_tap, 1 lcore", "wrk -> nginx-light, veth, 1 worker"),
    ("http-keepalive-memif", "HTTP keep-alive, ph-perf, 32 conns",
     "ph-perf -> ph-httpd, net_memif, 1 lcore each",
     "ph-perf on Linux sockets -> nginx-light, veth"),
    ("http-close-memif", "HTTP Connection: close, ph-perf, 32 conns",
     "ph-perf -> ph-httpd, net_memif, 1 lcore each",
     "ph-perf on Linux sockets -> nginx-light, veth"),
    ("crr", "TCP connect+64 B rr+close, 32 at a time",
     "ph-perf to ph-perf, net_memif", "ph-perf on Linux sockets, veth"),
    ("udp-64", "UDP 64 B echo, 32 in flight",
     "ph-perf to ph-perf, net_memif", "ph-perf on Linux sockets, veth"),
]
# metric key -> (label, unit, digits)
METRICS = {
    "gbps": ("throughput", "Gbit/s", 2),
    "cpu_s_per_gb": ("CPU time (all CPUs)", "s/GB", 2),
    "tps": ("rate", "/s", 0),
    "rps": ("requests", "/s", 0),
    "cps": ("connections", "/s", 0),
    "p50": ("latency p50", "us", 1),
    "p99": ("latency p99", "us", 1),
    "p999": ("latency p99.9", "us", 1),
}
CASE_METRICS = {
    "bulk": ["gbps", "cpu_s_per_gb"],
    "rr": ["tps", "p50", "p99", "p999"],
    "udp": ["tps", "p50", "p99"],
    "http": ["rps", "p50", "p99"],
    "crr": ["cps", "p50", "p99"],
}


def metrics_of(case):
    return CASE_METRICS[case.split("-")[0]]


def fmt(v, digits):
    if v is None:
        return "-"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def stats(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return statistics.median(vals), min(vals), max(vals)


def cell(st, digits):
    if st is None:
        return "-"
    med, lo, hi = st
    if lo == hi:
        return fmt(med, digits)
    return f"{fmt(med, digits)} ({fmt(lo, digits)}-{fmt(hi, digits)})"


def load(path):
    runs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                runs.append(json.loads(line))
    return runs


def side_values(runs, case, side, key):
    return {r["rep"]: r.get(key) for r in runs
            if r["case"] == case and r["side"] == side and r.get("ok")}


def summarize(runs):
    """case -> metric -> {polyhost, linux, ratio} stats."""
    out = {}
    for case, *_ in CASES:
        if not any(r["case"] == case for r in runs):
            continue
        out[case] = {}
        for m in metrics_of(case):
            ph = side_values(runs, case, "polyhost", m)
            lx = side_values(runs, case, "linux", m)
            ratios = [ph[k] / lx[k] for k in ph if k in lx and ph[k] is not None and
                      lx[k] not in (None, 0)]
            out[case][m] = {"polyhost": stats(list(ph.values())),
                            "linux": stats(list(lx.values())),
                            "ratio": stats(ratios)}
    return out


def fwd_summary(runs):
    """[((contexts, fib), {mpps, ns, adds: stats, routes}), ...] in run order."""
    out = {}
    for r in runs:
        if r["case"].startswith("fwd-") and r.get("ok"):
            out.setdefault((r["contexts"], r["fib"]), []).append(r)
    return [(k, {"mpps": stats([r["mpps"] for r in v]),
                 "ns": stats([r["ns_per_pkt"] for r in v]),
                 "adds": stats([r["route_adds_per_s"] for r in v]),
                 "routes": v[0]["routes"]}) for k, v in out.items()]


def table(summary, runs, args):
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    lines = [
        f"Measured {date} on {args.machine}; polyhost {args.rev}; "
        f"{args.seconds} s per run; each cell is the median of {args.repeat} "
        f"run{'s' if args.repeat != 1 else ''} (min-max). The ratio is polyhost/Linux, "
        "computed for each pair of runs taken back to back, then its median (min-max): "
        "above 1 means polyhost's figure is higher (better for rates, worse for "
        "latency and CPU time).",
        "",
        "| case | metric | polyhost | Linux | polyhost/Linux |",
        "|---|---|---|---|---|",
    ]
    for case, title, _, _ in CASES:
        if case not in summary:
            continue
        for m in metrics_of(case):
            label, unit, digits = METRICS[m]
            s = summary[case][m]
            lines.append(f"| {title} | {label} ({unit}) | {cell(s['polyhost'], digits)} | "
                         f"{cell(s['linux'], digits)} | {cell(s['ratio'], 2)} |")
    lines += ["", "What each side ran:", "",
              "| case | polyhost | Linux |", "|---|---|---|"]
    for case, title, ph, lx in CASES:
        if case in summary:
            lines.append(f"| {title} | {ph} | {lx} |")
    fwd = fwd_summary(runs)
    if fwd:
        lines += ["", "IPv4 forwarding, one lcore (ph-fwdbench: 64-byte UDP datagrams over "
                  "net_ring, contexts in turn packet by packet, destinations spread over "
                  "every route, 8 gateways; only the time inside ph_poll() counts; "
                  "polyhost alone):", "",
                  "| contexts | FIB | routes each | Mpps per core | ns per datagram | "
                  "route adds/s |", "|---|---|---|---|---|---|"]
        for (n, fib), s in fwd:
            lines.append(f"| {n} | {fib} | {s['routes']:,} | {cell(s['mpps'], 2)} | "
                         f"{cell(s['ns'], 1)} | {cell(s['adds'], 0)} |")
    costs = [r for r in runs if r["case"].startswith("cost-") and r.get("ok")]
    if costs:
        lines += ["", "Instructions per packet (callgrind, polyhost's server process: "
                  "the stack, its socket API and ph-perf's loop; the net_memif driver "
                  "left out. ipv4-forward: ph-fwdbench's ph_poll() only, the net_ring "
                  "driver left out):", "",
                  "| path | per | instructions | most expensive functions (instructions) |",
                  "|---|---|---|---|"]
        for r in costs:
            top = ", ".join(f"{t['fn']} {t['ir_per_unit']:,.0f}" for t in r["top"][:3])
            lines.append(f"| {r['case'][5:]} | {r['unit']} | {r['ir_per_unit']:,.0f} | {top} |")
    return "\n".join(lines) + "\n"


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def bars(path, title, ylabel, rows, log=False):
    """rows: (label, polyhost (med, lo, hi) or None, linux ... or None)."""
    dat = path + ".dat"
    # A polyhost-only chart (no Linux figure in any row) has no Linux bars.
    linux = (', \\\n     "" using 5:6:7 title "Linux" lc rgb "#ff7f0e"'
             if any(lx for _, _, lx in rows) else "")
    with open(dat, "w") as f:
        for label, ph, lx in rows:
            ph = ph or (0, 0, 0)
            lx = lx or (0, 0, 0)
            f.write('"%s" %g %g %g %g %g %g\n' % (label, *ph, *lx))
    gnuplot(f"""
set terminal pngcairo noenhanced size 1200,600 font "sans,10"
set output "{path}"
set title "{title}"
set ylabel "{ylabel}"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -20 scale 0
set key outside right top
set grid ytics
{"set logscale y" if log else "set yrange [0:*]"}
plot "{dat}" using 2:3:4:xtic(1) title "polyhost" lc rgb "#1f77b4"{linux}
""")
    os.unlink(dat)


def plots(summary, runs, outdir):
    made = []

    def rows(cases, metric):
        return [(title, summary[c][metric]["polyhost"], summary[c][metric]["linux"])
                for c, title, *_ in CASES if c in cases and c in summary]

    if any(c in summary for c in ("bulk-1", "bulk-4")):
        p = os.path.join(outdir, "bulk.png")
        bars(p, "TCP bulk throughput (median, min-max)", "Gbit/s",
             rows(("bulk-1", "bulk-4"), "gbps"))
        made.append(p)
        p = os.path.join(outdir, "bulk-cpu.png")
        bars(p, "CPU seconds per GB moved (all CPUs; polling cores count whole)", "s/GB",
             rows(("bulk-1", "bulk-4"), "cpu_s_per_gb"))
        made.append(p)
    rate_rows = []
    for c, title, *_ in CASES:
        if c in summary and not c.startswith("bulk"):
            m = metrics_of(c)[0]
            rate_rows.append((title, summary[c][m]["polyhost"], summary[c][m]["linux"]))
    if rate_rows:
        p = os.path.join(outdir, "rates.png")
        bars(p, "Transactions, requests, connections or datagrams per second", "per second",
             rate_rows, log=True)
        made.append(p)
    lat = [c for c, *_ in CASES if c in summary and "p99" in summary[c]]
    if lat:
        lat_rows = []
        for c, title, *_ in CASES:
            if c in lat:
                for q in ("p50", "p99"):
                    lat_rows.append((f"{title} {q}", summary[c][q]["polyhost"],
                                     summary[c][q]["linux"]))
        p = os.path.join(outdir, "latency.png")
        bars(p, "Latency (median of runs, min-max)", "microseconds", lat_rows, log=True)
        made.append(p)
    fwd = fwd_summary(runs)
    if fwd:
        p = os.path.join(outdir, "fwd.png")
        bars(p, "IPv4 forwarding on one core, 64 B (median of runs, min-max)", "Mpps",
             [(f"{n} ctx, {fib}", s["mpps"], None) for (n, fib), s in fwd])
        made.append(p)
    costs = [r for r in runs if r["case"].startswith("cost-") and r.get("ok")]
    if costs:
        dat = os.path.join(outdir, "cost.dat")
        with open(dat, "w") as f:
            for r in costs:
                f.write('"%s" %g\n' % (r["case"][5:], r["ir_per_unit"]))
        p = os.path.join(outdir, "cost.png")
        gnuplot(f"""
set terminal pngcairo size 800,450 font "sans,10"
set output "{p}"
set title "polyhost: instructions per packet, transaction or connection (callgrind)"
set style data histogram
set style fill solid 0.8 border -1
set boxwidth 0.7
set yrange [0:*]
set grid ytics
plot "{dat}" using 2:xtic(1) notitle lc rgb "#1f77b4"
""")
        os.unlink(dat)
        made.append(p)
    return made


BEGIN, END = "<!-- bench/run table: begin -->", "<!-- bench/run table: end -->"


def update_readme(path, md):
    """Put MD between the markers in PATH (the README carries the latest)."""
    with open(path) as f:
        text = f.read()
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        raise SystemExit(f"report.py: {path} has no {BEGIN} ... {END}")
    with open(path, "w") as f:
        f.write(text[:i + len(BEGIN)] + "\n" + md + text[j:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs")
    ap.add_argument("outdir")
    ap.add_argument("--machine", default="")
    ap.add_argument("--rev", default="")
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=0)
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--readme", help="replace the table between the bench markers of this file")
    args = ap.parse_args()
    runs = load(args.runs)
    summary = summarize(runs)
    md = table(summary, runs, args)
    with open(os.path.join(args.outdir, "table.md"), "w") as f:
        f.write(md)
    sys.stdout.write(md)
    if args.readme:
        update_readme(args.readme, md)
    if not args.no_plots:
        for p in plots(summary, runs, args.outdir):
            print(f"plot: {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
