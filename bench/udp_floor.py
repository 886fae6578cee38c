#!/usr/bin/python3
"""bench/udp_floor.py -- UDP queries per server CPU-second against the floor: a responder that looks nothing up.

    /usr/bin/python3 bench/udp_floor.py [--quick] [--servers null,null-epoll,null-one,tandem,nsd,knot] [--rounds N]
                                        [--baseline OTHER/tandemd] [--keep]
    /usr/bin/python3 bench/udp_floor.py --answer-only [--answer-lib A/libtandem.a --answer-lib B/libtandem.a]

bench/nullresp.c (compiled here with cc into the run's temp dir) answers every query with a fixed A record: the
request's id and question copied, 2 threads with SO_REUSEPORT sockets, recvmmsg batches of 32, one sendmmsg per
batch. It does per query what no server can avoid -- the system calls and a copy of the question -- so its
queries per CPU-second are the ceiling for a server on this machine and this kernel, and a server's fraction of
it says how much of its CPU goes to DNS work of its own (issue 9, item 3: Tandem at least 0.8x). "null" waits
for full batches (the floor); "null-epoll" (not run unless asked) wakes up as Tandem's workers do (epoll, then
recvmmsg without waiting), which separates the cost of Tandem's own work from that of its small batches;
"null-one" (likewise only when asked) sleeps in recvmmsg itself (MSG_WAITFORONE: no epoll, no added latency).

Tandem, NSD and Knot serve bench/run.py's throughput zone (bench/zonegen.py, same seed) with the same settings
(bench/servers.py); dnsperf asks the same query file with bench/run.py's UDP options. Rounds are interleaved
(each round runs every server once, the order rotating) and the medians are reported; server CPU is utime+stime
of the server's process tree from /proc/<pid>/stat. The table goes to stdout, the data to
bench/out/udp-floor-<time>.json. docs/benchmarks.md ("UDP floor") explains it. Nothing here passes or fails.

--answer-only starts no server: it compiles bench/answer_cost.c against each --answer-lib (a build's libtandem.a;
default build/libtandem.a) and times Tandem's answer path alone on the same zone and query file, batches of 8
requests as a worker receives them under dnsperf, rounds interleaved between the builds: the CPU per query of
the answer path moves by a few percent there, where a server's moves by ten.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import run as runner  # noqa: E402  (bench/run.py: dnsperf runs, server start/stop, formatting)
import servers as srv  # noqa: E402
import zonegen  # noqa: E402

ORIGIN = runner.ORIGIN
ORDER = ("null", "null-epoll", "null-one", "tandem", "baseline", "nsd", "knot")
DEFAULT = ("null", "tandem", "nsd", "knot")
DNSPERF_UDP = runner.DNSPERF["udp"]
TARGET = 0.8   # issue 9, item 3: Tandem's queries per CPU-second at least 0.8x the null responder's
log = runner.log


class NullResponder(srv.Server):
    """bench/nullresp.c as a bench/servers.py server (it has no configuration file: all is on its command line)."""
    def __init__(self, *a, binary=None, mode="fill", **kw):
        super().__init__(*a, **kw)
        self.binary = binary
        self.mode = mode
        self.name = "null" if mode == "fill" else "null-" + mode

    def config(self):
        path = os.path.join(self.dir, "nullresp.args")
        argv = [self.binary, "127.0.0.1", str(self.port), str(self.workers), self.mode]
        return argv, " ".join(argv) + "\n", path

    def version(self):
        return "bench/nullresp.c %s (recvmmsg/sendmmsg, fixed answer)" % self.mode


def tree_user_sys(root):
    """(user, system) CPU seconds of a server's process tree: the answer path's own work shows in user time,
    the kernel's (system calls, loopback delivery, wakeups) in system time, which moves most between runs."""
    user = system = 0
    for pid in srv.tree_pids(root):
        try:
            f = srv._stat_fields(pid)
            user += int(f[11])
            system += int(f[12])
        except (OSError, ValueError, IndexError):
            pass
    return user / srv.CLK_TCK, system / srv.CLK_TCK


def build_null(tmp):
    src = os.path.join(HERE, "nullresp.c")
    out = os.path.join(tmp, "nullresp")
    cc = os.environ.get("CC", "cc")
    p = subprocess.run([cc, "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", out, src],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("%s %s failed: %s%s" % (cc, src, p.stdout, p.stderr))
    return out


def make_server(kind, tmp, zone, args):
    if kind.startswith("null"):
        return NullResponder(os.path.join(tmp, kind), zone, ORIGIN, srv.free_port(), workers=args.workers,
                             binary=args.nullresp, mode="fill" if kind == "null" else kind[5:])
    if kind == "baseline":   # another build of Tandem (--baseline), to see a change's effect in one run
        s = srv.Tandem(os.path.join(tmp, kind), zone, ORIGIN, srv.free_port(), workers=args.workers,
                       binary=args.baseline)
        s.name = "baseline"
        return s
    return runner.make_server(kind, os.path.join(tmp, kind), zone, args)


def summarize(rs):
    ok = [x for x in rs if x["qps"] is not None]
    codes = {}
    for x in ok:
        for c, n in x["rcodes"].items():
            codes[c] = codes.get(c, 0) + n
    total = sum(codes.values()) or 1
    return {
        "qps": runner.median([x["qps"] for x in ok]),
        "server_cpu": runner.median([x["server_cpu"] for x in ok]),
        "server_cpu_per_s": runner.median([x["server_cpu"] / x["elapsed"] for x in ok
                                           if x["server_cpu"] is not None and x["elapsed"]]),
        "q_per_cpu": runner.median([x["q_per_cpu"] for x in ok]),
        "q_per_cpu_all": [x["q_per_cpu"] for x in rs],
        "user_ns_per_q": runner.median([x["user_ns_per_q"] for x in ok if x.get("user_ns_per_q") is not None]),
        "sys_ns_per_q": runner.median([x["sys_ns_per_q"] for x in ok if x.get("sys_ns_per_q") is not None]),
        "client_cpu": runner.median([x["client_cpu"] for x in ok]),
        "latency_ms": runner.median([x["latency_avg"] * 1000 for x in ok if x["latency_avg"] is not None]),
        "response_size": runner.median([x["response_size"] for x in ok]),
        "lost_pct": runner.median([100.0 * x["lost"] / x["sent"] for x in ok if x["sent"]]),
        "rcodes_pct": {c: round(100.0 * n / total, 2) for c, n in sorted(codes.items())},
        "rounds_ok": len(ok),
    }


ANSWER_BATCH = 8     # about what a worker's recvmmsg returns under bench/run.py's dnsperf load


def measure_answer(args, tmp, zone, qfile, results):
    """The answer path alone, each library's build in turn, round after round."""
    import json
    binaries = runner.lib_binaries("answer_cost.c", args.answer_lib, tmp)
    runs = {lib: [] for lib, _ in binaries}
    for r in range(args.rounds):
        for lib, binary in binaries[r % len(binaries):] + binaries[:r % len(binaries)]:
            p = subprocess.run([binary, zone, ORIGIN, qfile, str(ANSWER_BATCH), "5"], capture_output=True,
                               text=True, timeout=600)
            if p.returncode != 0:
                raise RuntimeError("answer_cost failed: %s" % p.stderr.strip())
            res = json.loads(p.stdout)
            runs[lib].append(res)
            log("round %d/%d %s: %.1f ns per query (fastest pass %.1f)" % (r + 1, args.rounds, lib, res["median_ns"],
                                                                         res["min_ns"]))
    results["answer"] = {"batch": ANSWER_BATCH, "rounds": args.rounds, "runs": runs,
                         "median_ns": {lib: runner.median([x["median_ns"] for x in rs]) for lib, rs in runs.items()}}


def measure(args, tmp, results):
    zone = os.path.join(tmp, "bench.zone")
    qfile = os.path.join(tmp, "queries.txt")
    t = time.monotonic()
    info = zonegen.generate(zone, ORIGIN, names=args.names, want_queries=True)
    mix = zonegen.query_file(qfile, info, count=200000)
    log("zone: %d names, %d records; queries: %s (%.1fs)" % (info["names"], info["records"], mix,
                                                              time.monotonic() - t))
    results["zone"] = {"names": info["names"], "records": info["records"], "query_mix": mix,
                       "queries_in_file": 200000}
    errors = results.setdefault("errors", {})
    if args.answer_only:
        measure_answer(args, tmp, zone, qfile, results)
        return
    nulls = [k for k in args.servers if k.startswith("null")]
    if nulls and args.nullresp:
        log("null: %s (prebuilt)" % args.nullresp)
    elif nulls:
        try:
            args.nullresp = build_null(tmp)
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            for k in nulls:
                log("%s: SKIPPED: %s" % (k, e))
                errors[k] = str(e)
                args.servers.remove(k)
    running = []
    for kind in args.servers:
        s = make_server(kind, tmp, zone, args)
        try:
            up = runner.start_server(s, args.start_timeout)
            log("%s: answering on 127.0.0.1@%d after %.2fs (%s)" % (kind, s.port, up, s.version()))
            running.append(s)
        except (RuntimeError, OSError) as e:
            log("%s: SKIPPED: %s" % (kind, e))
            errors[kind] = str(e)
    if not running:
        raise RuntimeError("no server started")
    results["versions"] = {s.name: s.version() for s in running}
    for s in running:   # warm-up: caches, page faults; not counted
        if s.alive():
            runner.run_dnsperf(s, "udp", qfile, args.warmup, DNSPERF_UDP)
    runs = {s.name: [] for s in running}
    for r in range(args.rounds):
        order = running[r % len(running):] + running[:r % len(running)]
        for s in order:
            if not s.alive():
                continue
            us0 = tree_user_sys(s.pid)
            res = runner.run_dnsperf(s, "udp", qfile, args.duration, DNSPERF_UDP)
            us1 = tree_user_sys(s.pid) if s.alive() else None
            res["round"] = r + 1
            done = res.get("completed") or 0
            res["user_ns_per_q"] = round((us1[0] - us0[0]) * 1e9 / done) if us1 and done else None
            res["sys_ns_per_q"] = round((us1[1] - us0[1]) * 1e9 / done) if us1 and done else None
            runs[s.name].append(res)
            log("round %d/%d %-6s %9s q/s  server cpu %5ss  %9s q/cpu-s  user %5s sys %5s ns/q  client cpu %5ss"
                "  lost %s%s"
                % (r + 1, args.rounds, s.name, runner.fmt(res["qps"]), runner.fmt(res["server_cpu"], "{:.2f}"),
                   runner.fmt(res["q_per_cpu"]), runner.fmt(res["user_ns_per_q"]), runner.fmt(res["sys_ns_per_q"]),
                   runner.fmt(res["client_cpu"], "{:.2f}"), runner.fmt(res["lost"]),
                   "" if res["alive"] else "  SERVER DIED"))
    results["udp"] = {"dnsperf": DNSPERF_UDP, "rounds": args.rounds, "seconds": args.duration,
                      "summary": {name: summarize(rs) for name, rs in runs.items()}, "runs": runs}
    for s in running:
        if not s.alive():
            errors.setdefault(s.name, "died during the runs; log:\n" + s.log_tail())
        runner.stop_server(s)


def report(results):
    lines = []
    w = lines.append
    m = results["machine"]
    w("Tandem UDP floor benchmark %s  (%s; %s CPUs; load average at start %s)"
      % (results["started"], m["cpu"], m["cpus"], m["loadavg"]))
    for name, v in results.get("versions", {}).items():
        w("  %-10s %s" % (name, v))
    if "udp" in results:
        u, z = results["udp"], results["zone"]
        s = u["summary"]
        w("")
        w("UDP: dnsperf %s, %d rounds x %ds interleaved, medians; zone %s names / %s records"
          % (" ".join(u["dnsperf"]), u["rounds"], u["seconds"], runner.fmt(z["names"]), runner.fmt(z["records"])))
        w("  %-10s %10s %10s %9s %10s %9s %8s %8s %7s %7s %7s %5s  %s" % (
            "server", "queries/s", "server CPU", "CPU cores", "q/CPU-s", "x null", "user/q", "sys/q", "client",
            "latency", "lost", "size", "answers"))
        null = s.get("null", {}).get("q_per_cpu")
        for name in ORDER:
            x = s.get(name)
            if not x:
                continue
            rc = ", ".join("%s %.1f%%" % (c, p) for c, p in x["rcodes_pct"].items())
            w("  %-10s %10s %9ss %9s %10s %9s %6sns %6sns %6ss %5sms %6s%% %5s  %s"
              % (name, runner.fmt(x["qps"]), runner.fmt(x["server_cpu"], "{:.2f}"),
                 runner.fmt(x["server_cpu_per_s"], "{:.2f}"), runner.fmt(x["q_per_cpu"]),
                 runner.fx(runner.ratio(x["q_per_cpu"], null)), runner.fmt(x.get("user_ns_per_q")),
                 runner.fmt(x.get("sys_ns_per_q")), runner.fmt(x["client_cpu"], "{:.2f}"),
                 runner.fmt(x.get("latency_ms"), "{:.2f}"), runner.fmt(x["lost_pct"], "{:.2f}"),
                 runner.fmt(x["response_size"]), rc))
        t = s.get("tandem")
        if t and t["q_per_cpu"]:
            for p in ("baseline", "nsd", "knot"):
                if p in s and s[p]["q_per_cpu"]:
                    w("  tandem/%-5s q/CPU-s %s" % (p, runner.fx(runner.ratio(t["q_per_cpu"], s[p]["q_per_cpu"]))))
            if null:
                own = 1e6 / t["q_per_cpu"] - 1e6 / null
                w("  Tandem's own cost per query above the floor: %.2f us (null %.2f us, tandem %.2f us of CPU)"
                  % (own, 1e6 / null, 1e6 / t["q_per_cpu"]))
                # Each round runs every server once, minutes apart at most: the ratio within a round is
                # less exposed to the machine's load drifting than the ratio of the medians.
                pairs = [a / b for a, b in zip(t["q_per_cpu_all"], s["null"]["q_per_cpu_all"]) if a and b]
                if pairs:
                    results["paired"] = pairs
                    w("  tandem/null round by round: %s (median %.2f)"
                      % (" ".join("%.2f" % r for r in pairs), runner.median(pairs)))
                value = runner.ratio(t["q_per_cpu"], null)
                results["target"] = {"target": "UDP q/CPU-s >= %.1fx the null responder" % TARGET, "ratio": value,
                                     "goal": TARGET}
                w("")
                w("Issue 9 item 3 target (informative; one run on this machine%s):"
                  % ("; --quick: short runs" if results.get("quick") else ""))
                w("  %-58s %7s  %s" % (results["target"]["target"], runner.fx(value),
                                       "met" if value >= TARGET else "not met"))
    if "answer" in results:
        a = results["answer"]
        w("")
        w("The answer path alone (bench/answer_cost.c: batches of %d, %d rounds interleaved, medians of each "
          "round's median of 5 passes over the query file)" % (a["batch"], a["rounds"]))
        first = None
        for lib, ns in a["median_ns"].items():
            first = first or ns
            w("  %-60s %7.1f ns per query  %s" % (lib, ns, runner.fx(runner.ratio(ns, first))))
    if results.get("errors"):
        w("")
        for k, v in results["errors"].items():
            w("ERROR %s: %s" % (k, v.splitlines()[0] if v else v))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds x 3 s: a smoke test")
    ap.add_argument("--servers", default=",".join(DEFAULT),
                    help="comma list of null, null-epoll, null-one, tandem, nsd, knot (default: null,tandem,nsd,knot)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default 5; quick 2)")
    ap.add_argument("--duration", type=int, help="seconds per dnsperf run (default 10; quick 3)")
    ap.add_argument("--workers", type=int, default=2, help="query workers (null: threads) of every server (default 2)")
    ap.add_argument("--names", type=int, default=100000, help="names in the zone (default 100000)")
    ap.add_argument("--tandemd", default=os.path.join(ROOT, "build", "tandemd"))
    ap.add_argument("--nullresp", help="a bench/nullresp.c binary built already (default: compiled here with cc)")
    ap.add_argument("--baseline", help="another tandemd binary measured in the same run as 'baseline' (before/after)")
    ap.add_argument("--out", help="JSON file (default bench/out/udp-floor-<time>.json)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (zone, configs, server logs)")
    ap.add_argument("--answer-only", action="store_true",
                    help="no servers: time Tandem's answer path on the library itself (bench/answer_cost.c)")
    ap.add_argument("--answer-lib", action="append",
                    help="a build's libtandem.a for --answer-only (repeat to compare; default build/libtandem.a)")
    args = ap.parse_args(argv)
    args.servers = [x.strip() for x in args.servers.split(",") if x.strip()]
    if set(args.servers) - set(ORDER):
        ap.error("--servers: unknown %s" % ", ".join(sorted(set(args.servers) - set(ORDER))))
    if args.baseline:
        args.servers.append("baseline")
    args.servers = [x for x in ORDER if x in args.servers]
    args.rounds = args.rounds or (2 if args.quick else 5)
    if args.answer_only:
        args.answer_lib = args.answer_lib or [os.path.join(ROOT, "build", "libtandem.a")]
        results = {"machine": runner.machine(), "quick": args.quick}
        return runner.measured("udp-answer", args, results, lambda tmp: measure(args, tmp, results), report)
    args.duration = args.duration or (3 if args.quick else 10)
    args.warmup = 1 if args.quick else 2
    args.start_timeout = 120
    if args.nullresp:
        args.nullresp = os.path.abspath(args.nullresp)
        if not os.access(args.nullresp, os.X_OK):
            ap.error("--nullresp: %s is not an executable" % args.nullresp)
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)
    if "baseline" in args.servers and not os.access(args.baseline, os.X_OK):
        log("baseline: SKIPPED: %s is missing" % args.baseline)
        args.servers.remove("baseline")
    if "tandem" in args.servers and not os.access(args.tandemd, os.X_OK):
        log("tandem: SKIPPED: %s is missing (make all)" % args.tandemd)
        args.servers.remove("tandem")
    missing = [b for b, need in (("dnsperf", True), ("cc", any(k.startswith("null") for k in args.servers) and not args.nullresp and "CC" not in os.environ),
                                 ("nsd", "nsd" in args.servers), ("knotd", "knot" in args.servers))
               if need and not shutil.which(b)]
    if missing:
        sys.exit("missing %s: scripts/deps.sh bench installs them" % ", ".join(missing))

    results = {"machine": runner.machine(), "quick": args.quick,
               "settings": {"workers": args.workers, "servers": list(args.servers)}}
    return runner.measured("udp-floor", args, results, lambda tmp: measure(args, tmp, results), report)


if __name__ == "__main__":
    sys.exit(main())
