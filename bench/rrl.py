#!/usr/bin/python3
"""bench/rrl.py -- what response rate limiting costs: UDP queries per server CPU-second, Tandem with RRL off
and Tandem with RRL on, in the same run (issue 8: RRL on costs at most 5%).

    /usr/bin/python3 bench/rrl.py [--quick] [--rounds N] [--duration S]

Both servers load bench/run.py's zone (bench/zonegen.py, 100,000 names) and get its query file from dnsperf
(one thread, 64 sockets). "on" is `rate-limit: 1000000`: every answer is counted in the table (the whole cost
of the bookkeeping) but none is limited, so both answer the same queries and the ratio is the price of RRL
itself. Rounds are interleaved; medians are reported. Nothing here passes or fails.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run as runner  # noqa: E402
import servers as srv  # noqa: E402
import zonegen  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--duration", type=int)
    ap.add_argument("--names", type=int, default=100000)
    ap.add_argument("--tandemd", default=os.path.join(os.path.dirname(HERE), "build", "tandemd"))
    args = ap.parse_args()
    rounds = args.rounds or (2 if args.quick else 5)
    duration = args.duration or (3 if args.quick else 10)
    tmp = tempfile.mkdtemp(prefix="tandem-rrl-")
    servers = []
    try:
        zone, qfile = os.path.join(tmp, "bench.zone"), os.path.join(tmp, "queries.txt")
        info = zonegen.generate(zone, runner.ORIGIN, names=args.names, want_queries=True)
        zonegen.query_file(qfile, info, count=200000)
        for mode, extra in (("off", {}), ("on", {"rate-limit": 1000000})):
            s = srv.Tandem(os.path.join(tmp, mode), zone, runner.ORIGIN, srv.free_port(), workers=2,
                           binary=args.tandemd, extra_server=extra)
            s.name = "tandem-rrl-" + mode
            runner.start_server(s, 60)
            servers.append(s)
        for s in servers:
            runner.run_dnsperf(s, "udp", qfile, 2, None)   # warm-up
        figures = {s.name: [] for s in servers}
        for r in range(rounds):
            for s in servers[r % 2:] + servers[:r % 2]:
                res = runner.run_dnsperf(s, "udp", qfile, duration, None)
                figures[s.name].append(res)
                runner.log("round %d %s: %s q/s, %s q/CPU-s" % (r + 1, s.name, runner.fmt(res["qps"]),
                                                               runner.fmt(res["q_per_cpu"])))
        med = {n: {"qps": runner.median([x["qps"] for x in v if x["qps"]]),
                   "q_per_cpu": runner.median([x["q_per_cpu"] for x in v if x["q_per_cpu"]])}
               for n, v in figures.items()}
        off, on = med["tandem-rrl-off"], med["tandem-rrl-on"]
        print("\nRRL cost (UDP, %d rounds of %d s, medians)" % (rounds, duration))
        print("%-16s %12s %14s" % ("", "queries/s", "q/CPU-second"))
        for n in ("tandem-rrl-off", "tandem-rrl-on"):
            print("%-16s %12s %14s" % (n, runner.fmt(med[n]["qps"]), runner.fmt(med[n]["q_per_cpu"])))
        ratio = runner.ratio(on["q_per_cpu"], off["q_per_cpu"])
        print("on / off: %s of the queries per CPU-second (target: at least 0.95)" % runner.fx(ratio))
        out = os.path.join(HERE, "out")
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "rrl-%d.json" % int(time.time())), "w") as f:
            json.dump({"medians": med, "ratio": ratio, "rounds": figures}, f, indent=1)
        return 0
    finally:
        for s in servers:
            runner.stop_server(s)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
