#!/usr/bin/python3
"""bench/update_ab.py -- two Tandem builds compared on UPDATE throughput over many paired runs.

On a shared 2-core machine one run of bench/update.py moves by 10-20% from one run to the next, and so does
the ratio of two builds measured in it: a change worth a few percent cannot be seen in one run. This script
runs bench/update.py N times with both builds (server "tandem" = NEW, server "baseline" = OLD, C client),
the order of the two servers swapped every other run, and prints per zone size each build's median rate
and CPU per update over the runs, and the per-run ratios NEW/OLD with their median: a change is real when
most per-run ratios lean the same way, not when one run says so.

    /usr/bin/python3 bench/update_ab.py --new build/tandemd --old /path/to/old/tandemd [--runs 6]
                                        [--sizes 100000,1000000] [--rounds 3] [--updates 1000]

Only loopback, free ports, bounded waits (bench/update.py's). Nothing passes or fails.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def one_run(args, order):
    """One bench/update.py run; returns {size: {server: figures}} for the C client."""
    out_dir = os.path.join(HERE, "out")
    before = set(glob.glob(os.path.join(out_dir, "update-*.json")))
    p = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "update.py"), "--sizes", args.sizes,
                        "--servers", order, "--tandemd", os.path.abspath(args.new),
                        "--baseline", os.path.abspath(args.old), "--rounds", str(args.rounds),
                        "--updates", str(args.updates)],
                       cwd=ROOT, capture_output=True, text=True, timeout=3600)
    made = sorted(set(glob.glob(os.path.join(out_dir, "update-*.json"))) - before)
    if p.returncode != 0 or not made:
        raise RuntimeError("bench/update.py failed (exit %d): %s" % (p.returncode, p.stderr[-2000:]))
    with open(made[-1]) as f:
        data = json.load(f)
    return {size: by_client["c"] for size, by_client in data["sizes"].items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--new", default=os.path.join(ROOT, "build", "tandemd"))
    ap.add_argument("--old", required=True, help="the other build's tandemd")
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--updates", type=int, default=1000)
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    figures = {}   # (size, server) -> {"rate": [...], "cpu": [...]}
    for i in range(args.runs):
        order = "tandem,baseline" if i % 2 == 0 else "baseline,tandem"
        for size, servers in one_run(args, order).items():
            for server, r in servers.items():
                f = figures.setdefault((int(size), server), {"rate": [], "cpu": []})
                f["rate"].append(r["median"])
                f["cpu"].append(r.get("server_cpu_us", 0.0))
        print("run %d/%d done (%s)" % (i + 1, args.runs, order), file=sys.stderr, flush=True)
    print("UPDATE throughput, NEW %s against OLD %s: %d runs of bench/update.py (%d rounds of %d each), C client"
          % (args.new, args.old, args.runs, args.rounds, args.updates))
    for size in sorted({s for s, _ in figures}):
        new, old = figures[(size, "tandem")], figures[(size, "baseline")]
        rate = [a / b for a, b in zip(new["rate"], old["rate"]) if b > 0]
        cpu = [a / b for a, b in zip(new["cpu"], old["cpu"]) if b > 0]
        print("  %s records: NEW %.0f/s, %.0f us CPU per update; OLD %.0f/s, %.0f us (medians over the runs)" % (
            format(size, ","), statistics.median(new["rate"]), statistics.median(new["cpu"]),
            statistics.median(old["rate"]), statistics.median(old["cpu"])))
        print("    NEW/OLD rate per run: %s; median %.3f, %d of %d runs above 1" % (
            " ".join("%.2f" % x for x in rate), statistics.median(rate), sum(x > 1 for x in rate), len(rate)))
        if cpu:
            print("    NEW/OLD CPU per update per run: %s; median %.3f" % (
                " ".join("%.2f" % x for x in cpu), statistics.median(cpu)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
