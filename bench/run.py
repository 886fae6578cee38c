#!/usr/bin/python3
"""bench/run.py -- Tandem against NSD and Knot DNS: UDP and TCP throughput, memory, start to first answer.

    /usr/bin/python3 bench/run.py [--quick] [--only udp,tcp,mem] [--servers tandem,nsd,knot] [--keep]

Everything runs on 127.0.0.1 in a temp dir, with the servers started by this script with equivalent settings
(bench/servers.py). Throughput rounds are interleaved (each round runs every server once, the order rotating)
and the medians are reported, with the servers' CPU time during each run. The table goes to stdout, the full
data to bench/out/bench-<time>.json (and bench/out/latest.json). docs/benchmarks.md explains every figure.
Nothing here passes or fails: it measures and reports.
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import servers as srv  # noqa: E402
import zonegen  # noqa: E402

ORIGIN = "bench.test."
ORDER = ("tandem", "nsd", "knot")
PEERS = ("nsd", "knot")
DNSPERF = {
    # one dnsperf thread (it takes about one of the two cores); enough sockets that SO_REUSEPORT spreads the
    # load over both workers, and enough outstanding queries that no server ever waits for work
    "udp": ["-m", "udp", "-c", "64", "-T", "1", "-q", "500", "-t", "2"],
    "tcp": ["-m", "tcp", "-c", "20", "-T", "1", "-q", "1000", "-t", "2"],
}

LIVE = []  # servers and dnsperf processes to stop whatever happens


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Abort(Exception):
    pass


def _on_signal(signum, frame):
    raise Abort("signal %d" % signum)


def stop_live(live=None):
    """Stops every server and process in live (LIVE by default), whatever state each is in."""
    live = LIVE if live is None else live
    for x in list(live):
        try:
            if isinstance(x, srv.Server):
                x.stop()
            else:
                x.kill()
                x.wait(5)
        except Exception:
            pass
    live.clear()


def measured(name, args, results, measure, report, live=None, latest=False):
    """The frame every benchmark script runs in: measure(tmp) in a temp dir of its own, every server in
    live (LIVE by default) stopped whatever happens (an error or a signal is kept in results["errors"] and
    ends the run), the temp dir removed unless args.keep, report(results) printed and everything written to
    bench/out/NAME-TIME.json (or args.out; latest: also bench/out/latest.json). measure may return an exit
    status of its own. Returns the run's exit status: 0, 1 on an error, 130 when interrupted."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    outdir = os.path.join(HERE, "out")
    os.makedirs(outdir, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results.setdefault("started", time.strftime("%Y-%m-%d %H:%M:%S"))
    tmp = tempfile.mkdtemp(prefix="tandem-bench-%s-" % name)
    log("temp dir %s" % tmp)
    status = 0
    try:
        status = measure(tmp) or 0
    except (Abort, KeyboardInterrupt) as e:
        log("interrupted (%s); stopping servers" % (e or "SIGINT"))
        results.setdefault("errors", {})["interrupted"] = str(e) or "SIGINT"
        status = 130
    except Exception as e:  # report what we have, then fail
        log("error: %s" % e)
        results.setdefault("errors", {})["run"] = str(e)
        status = 1
    finally:
        stop_live(live)
        if getattr(args, "keep", False):
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    text = report(results)
    results["report"] = text
    path = getattr(args, "out", None) or os.path.join(outdir, "%s-%s.json" % (name, stamp))
    with open(path, "w") as f:
        json.dump(results, f, indent=1, default=str)
    if latest:
        shutil.copyfile(path, os.path.join(outdir, "latest.json"))
    print(text)
    print("\n(full data: %s)" % os.path.relpath(path, os.getcwd()))
    return status


# ---------------------------------------------------------------------------------------------- helpers

def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(x, spec="{:,.0f}", none="-"):
    return none if x is None else spec.format(x)


def fx(x):
    return "-" if x is None else "%.2fx" % x


def parse_dnsperf(text):
    def num(pattern, cast=float):
        m = re.search(pattern, text)
        return cast(m.group(1)) if m else None
    codes = {}
    m = re.search(r"Response codes:\s+(.*)", text)
    if m:
        for name, count in re.findall(r"([A-Z]+) (\d+)", m.group(1)):
            codes[name] = int(count)
    return {
        "sent": num(r"Queries sent:\s+(\d+)", int),
        "completed": num(r"Queries completed:\s+(\d+)", int),
        "lost": num(r"Queries lost:\s+(\d+)", int),
        "qps": num(r"Queries per second:\s+([\d.]+)"),
        "elapsed": num(r"Run time \(s\):\s+([\d.]+)"),
        "latency_avg": num(r"Average Latency \(s\):\s+([\d.]+)"),
        "response_size": num(r"Average packet size:.*response (\d+)", int),
        "rcodes": codes,
    }


def run_dnsperf(server, proto, qfile, seconds, extra):
    """One dnsperf run against one server; returns the parsed figures plus server and client CPU seconds."""
    argv = ["dnsperf", "-s", "127.0.0.1", "-p", str(server.port), "-d", qfile, "-l", str(seconds)]
    argv += extra or DNSPERF[proto]
    cpu0 = srv.tree_cpu(server.pid)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    LIVE.append(p)
    try:
        out, _ = p.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate(timeout=10)
        out = (out or b"") + b"\n(dnsperf timed out)"
    except BaseException:  # interrupted: do not leave dnsperf running
        p.kill()
        p.wait(5)
        raise
    finally:
        LIVE.remove(p)
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu1 = srv.tree_cpu(server.pid) if server.alive() else None
    text = out.decode(errors="replace")
    r = parse_dnsperf(text)
    r["wall"] = round(wall, 3)
    r["server_cpu"] = None if cpu1 is None else round(cpu1 - cpu0, 3)
    r["client_cpu"] = round((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), 3)
    r["q_per_cpu"] = ratio(r["completed"], r["server_cpu"])
    r["rc"] = p.returncode
    r["alive"] = server.alive()
    if r["qps"] is None:
        r["output"] = text[-2000:]
    return r


def start_server(s, timeout, last=None):
    """Start s and wait for its first SOA answer; returns seconds from exec to that answer.

    With last=(name, type), also wait for that name (late in the zone file) to be answered and return
    (first answer, whole zone answered) instead.
    """
    t0 = s.start()
    LIVE.append(s)
    waited = s.wait_ready(timeout)
    first = time.monotonic() - t0
    full = None
    if waited is not None and last:
        waited = s.wait_ready(max(1.0, timeout - first), last[0], last[1])
        full = time.monotonic() - t0
    if waited is None:
        reason = "exited with %s" % s.proc.returncode if not s.alive() else \
            "no answer in %ds" % timeout
        tail = s.log_tail()
        s.stop()
        raise RuntimeError("%s did not start (%s)%s" % (s.name, reason, ("; log:\n" + tail) if tail else ""))
    return (first, full) if last else first


def stop_server(s):
    """Stop a server; returns its exit status after SIGTERM (None when it had to be killed)."""
    rc = s.stop()
    if s in LIVE:
        LIVE.remove(s)
    return rc


def make_server(kind, workdir, zone, args):
    port = srv.free_port()
    if kind == "tandem":
        return srv.Tandem(workdir, zone, ORIGIN, port, workers=args.workers, binary=args.tandemd)
    return srv.KINDS[kind](workdir, zone, ORIGIN, port, workers=args.workers)


# ---------------------------------------------------------------------------------------------- phases

def phase_throughput(args, tmp, protos, results):
    zone = os.path.join(tmp, "bench.zone")
    qfile = os.path.join(tmp, "queries.txt")
    t = time.monotonic()
    info = zonegen.generate(zone, ORIGIN, names=args.names, want_queries=True)
    mix = zonegen.query_file(qfile, info, count=200000)
    log("zone: %d names, %d records; queries: %s (%.1fs)" % (info["names"], info["records"], mix,
                                                              time.monotonic() - t))
    results["throughput_zone"] = {"names": info["names"], "records": info["records"], "query_mix": mix,
                                  "queries_in_file": 200000}
    running = []
    errors = results.setdefault("errors", {})
    for kind in args.servers:
        s = make_server(kind, os.path.join(tmp, kind), zone, args)
        try:
            took = start_server(s, args.start_timeout)
            log("%s: answering on 127.0.0.1@%d after %.2fs (%s)" % (kind, s.port, took, s.version()))
            running.append(s)
        except (RuntimeError, OSError) as e:
            log("%s: SKIPPED: %s" % (kind, e))
            errors[kind] = str(e)
    if not running:
        raise RuntimeError("no server started")
    results["versions"] = {s.name: s.version() for s in running}
    for proto in protos:
        extra = args.dnsperf_udp.split() if proto == "udp" and args.dnsperf_udp else \
            args.dnsperf_tcp.split() if proto == "tcp" and args.dnsperf_tcp else None
        opts = extra or DNSPERF[proto]
        for s in running:  # warm-up: caches, TCP accept paths, page faults; not counted
            if s.alive():
                run_dnsperf(s, proto, qfile, args.warmup, extra)
        rounds = {s.name: [] for s in running}
        for r in range(args.rounds):
            order = running[r % len(running):] + running[:r % len(running)]
            for s in order:
                if not s.alive():
                    continue
                res = run_dnsperf(s, proto, qfile, args.duration, extra)
                res["round"] = r + 1
                rounds[s.name].append(res)
                log("%s round %d/%d %-6s %9s q/s  server cpu %5ss  %9s q/cpu-s  client cpu %5ss  lost %s%s"
                    % (proto, r + 1, args.rounds, s.name, fmt(res["qps"]), fmt(res["server_cpu"], "{:.2f}"),
                       fmt(res["q_per_cpu"]), fmt(res["client_cpu"], "{:.2f}"), fmt(res["lost"]),
                       "" if res["alive"] else "  SERVER DIED"))
        summary = {}
        for name, runs in rounds.items():
            ok = [x for x in runs if x["qps"] is not None]
            codes = {}
            for x in ok:
                for c, n in x["rcodes"].items():
                    codes[c] = codes.get(c, 0) + n
            total = sum(codes.values()) or 1
            summary[name] = {
                "qps": median([x["qps"] for x in ok]),
                "server_cpu": median([x["server_cpu"] for x in ok]),
                "server_cpu_per_s": median([x["server_cpu"] / x["elapsed"] for x in ok
                                            if x["server_cpu"] is not None and x["elapsed"]]),
                "q_per_cpu": median([x["q_per_cpu"] for x in ok]),
                "client_cpu": median([x["client_cpu"] for x in ok]),
                "response_size": median([x["response_size"] for x in ok]),
                "lost_pct": median([100.0 * x["lost"] / x["sent"] for x in ok if x["sent"]]),
                "rcodes_pct": {c: round(100.0 * n / total, 2) for c, n in sorted(codes.items())},
                "rounds_ok": len(ok),
                "qps_all": [x["qps"] for x in runs],
            }
        results[proto] = {"dnsperf": opts, "rounds": args.rounds, "seconds": args.duration,
                          "summary": summary, "runs": rounds}
    for s in running:
        if s.alive():
            pss, rss, hwm = srv.tree_mem(s.pid)
            results.setdefault("throughput_mem_kib", {})[s.name] = {"pss": pss, "rss": rss, "peak_rss": hwm}
        else:
            errors.setdefault(s.name, "died during the throughput runs; log:\n" + s.log_tail())
        stop_server(s)


def phase_mem(args, tmp, results):
    zone = os.path.join(tmp, "big.zone")
    t = time.monotonic()
    info = zonegen.generate(zone, ORIGIN, records=args.big_records)
    log("big zone: %d names, %d records (%.1fs)" % (info["names"], info["records"], time.monotonic() - t))
    with open(zone, "rb") as f:  # into the page cache, so no server pays for the first read
        while f.read(1 << 20):
            pass
    out = {"zone": {"names": info["names"], "records": info["records"]}, "repeats": args.mem_reps,
           "servers": {}}
    results["mem"] = out
    errors = results.setdefault("errors", {})
    samples = {kind: {"first": [], "restart": []} for kind in args.servers}
    failed = set()
    for rep in range(args.mem_reps):
        kinds = args.servers[rep % len(args.servers):] + args.servers[:rep % len(args.servers)]
        for kind in kinds:
            if kind in failed:
                continue
            # a new directory each repeat: Tandem's first start always imports into a fresh data-dir
            s = make_server(kind, os.path.join(tmp, "big-%s-%d" % (kind, rep)), zone, args)
            for phase in ("first", "restart"):
                try:
                    took, full = start_server(s, args.big_timeout, info["last"])
                except (RuntimeError, OSError) as e:
                    log("%s (big zone, %s start): FAILED: %s" % (kind, phase, e))
                    errors["mem-%s-%s" % (kind, phase)] = str(e)
                    failed.add(kind)
                    break
                time.sleep(args.settle)
                pss, rss, hwm = srv.tree_mem(s.pid) if s.alive() else (None, None, None)
                samples[kind][phase].append({
                    "start_s": round(took, 3), "last_name_s": round(full, 3), "pss_kib": pss, "rss_kib": rss,
                    "peak_rss_kib": hwm, "processes": len(srv.tree_pids(s.pid)) if s.alive() else None})
                log("%s (%d records, %s start %d/%d): first answer after %.2fs (last name %.2fs), PSS %s MiB, "
                    "RSS %s MiB, peak RSS %s MiB"
                    % (kind, info["records"], phase, rep + 1, args.mem_reps, took, full,
                       fmt(pss and pss / 1024, "{:.1f}"), fmt(rss and rss / 1024, "{:.1f}"),
                       fmt(hwm and hwm / 1024, "{:.1f}")))
                rc = stop_server(s)
                samples[kind][phase][-1]["exit_status_after_sigterm"] = rc
                time.sleep(0.5)
            if kind == "tandem" and rep == args.mem_reps - 1:
                try:
                    out["servers"].setdefault(kind, {})["data_dir_kib"] = sum(
                        os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(s.data_dir) for f in fs) // 1024
                except OSError:
                    pass
            shutil.rmtree(s.dir, ignore_errors=True)
    for kind, phases in samples.items():
        entry = out["servers"].setdefault(kind, {})
        for phase, runs in phases.items():
            if runs:
                entry[phase] = {k: median([r[k] for r in runs])
                                for k in ("start_s", "last_name_s", "pss_kib", "rss_kib", "peak_rss_kib")}
                entry[phase]["samples"] = runs


# ---------------------------------------------------------------------------------------------- report

def report(results):
    lines = []
    w = lines.append
    m = results["machine"]
    w("Tandem benchmark %s  (%s; %s CPUs; load average at start %s)"
      % (results["started"], m["cpu"], m["cpus"], m["loadavg"]))
    for name, v in results.get("versions", {}).items():
        w("  %-7s %s" % (name, v))
    targets = []
    for proto in ("udp", "tcp"):
        if proto not in results:
            continue
        r = results[proto]
        s = r["summary"]
        tz = results["throughput_zone"]
        w("")
        w("%s: dnsperf %s, %d rounds x %ds interleaved, medians; zone %s names / %s records"
          % (proto.upper(), " ".join(r["dnsperf"]), r["rounds"], r["seconds"], fmt(tz["names"]),
             fmt(tz["records"])))
        w("  %-7s %10s %10s %9s %10s %7s %7s %5s  %s" % ("server", "queries/s", "server CPU", "CPU cores",
                                                         "q/CPU-s", "client", "lost", "size", "answers"))
        for name in ORDER:
            if name not in s:
                continue
            x = s[name]
            rc = ", ".join("%s %.1f%%" % (c, p) for c, p in x["rcodes_pct"].items())
            w("  %-7s %10s %9ss %9s %10s %6ss %6s%% %5s  %s"
              % (name, fmt(x["qps"]), fmt(x["server_cpu"], "{:.2f}"), fmt(x["server_cpu_per_s"], "{:.2f}"),
                 fmt(x["q_per_cpu"]), fmt(x["client_cpu"], "{:.2f}"), fmt(x["lost_pct"], "{:.2f}"),
                 fmt(x["response_size"]), rc))
        if "tandem" in s:
            t = s["tandem"]
            peers = [p for p in PEERS if p in s and s[p]["qps"]]
            for p in peers:
                w("  tandem/%-5s queries/s %s   q/CPU-s %s" % (p, fx(ratio(t["qps"], s[p]["qps"])),
                                                          fx(ratio(t["q_per_cpu"], s[p]["q_per_cpu"]))))
            if peers:
                best_q = max(s[p]["qps"] for p in peers)
                best_c = max(s[p]["q_per_cpu"] or 0 for p in peers)
                w("  tandem/best  queries/s %s   q/CPU-s %s" % (fx(ratio(t["qps"], best_q)),
                                                               fx(ratio(t["q_per_cpu"], best_c))))
                if proto == "udp":
                    targets.append(("UDP queries/s >= best of NSD and Knot", ratio(t["qps"], best_q), 1.0))
                    if "nsd" in s:
                        targets.append(("UDP q/CPU-s >= 1.05x NSD", ratio(t["q_per_cpu"], s["nsd"]["q_per_cpu"]),
                                        1.05))
                elif "knot" in s:
                    targets.append(("TCP queries/s >= 1.2x Knot", ratio(t["qps"], s["knot"]["qps"]), 1.2))
            ref = s.get("nsd") or s.get("knot")
            if ref and t["rcodes_pct"] and ref["rcodes_pct"]:
                diff = max(abs(t["rcodes_pct"].get(c, 0) - ref["rcodes_pct"].get(c, 0))
                           for c in set(t["rcodes_pct"]) | set(ref["rcodes_pct"]))
                if diff > 1.0:
                    w("  NOTE: Tandem's rcode mix differs from %s's by %.1f points: its figures answer other "
                      "questions" % ("NSD" if s.get("nsd") else "Knot", diff))
            for p in PEERS:
                if p in s and t["response_size"] and s[p]["response_size"] and \
                        abs(t["response_size"] - s[p]["response_size"]) > 0.1 * s[p]["response_size"]:
                    w("  NOTE: Tandem's answers average %d bytes, %s's %d: they do not carry the same records"
                      % (t["response_size"], p, s[p]["response_size"]))
    if "mem" in results:
        mm = results["mem"]
        w("")
        w("Memory and start-up, zone of %s records / %s names (PSS/RSS summed over the server's processes, "
          "read after the first answer and a settle delay; medians of %d starts)"
          % (fmt(mm["zone"]["records"]), fmt(mm["zone"]["names"]), mm["repeats"]))
        w("  %-7s %-8s %12s %10s %10s %10s %13s" % ("server", "start", "first answer", "last name", "PSS MiB",
                                                    "RSS MiB", "peak RSS MiB"))
        for name in ORDER:
            e = mm["servers"].get(name)
            if not e:
                continue
            for phase in ("first", "restart"):
                x = e.get(phase)
                if not x:
                    w("  %-7s %-8s %12s" % (name, phase, "failed"))
                    continue
                mib = lambda k: fmt(x[k] and x[k] / 1024, "{:,.1f}")  # noqa: E731
                w("  %-7s %-8s %11.2fs %9.2fs %10s %10s %13s"
                  % (name, phase, x["start_s"], x["last_name_s"], mib("pss_kib"), mib("rss_kib"),
                     mib("peak_rss_kib")))
        if "data_dir_kib" in mm["servers"].get("tandem", {}):
            w("  tandem data-dir after the runs: %.1f MiB" % (mm["servers"]["tandem"]["data_dir_kib"] / 1024))
        t, k = mm["servers"].get("tandem", {}), mm["servers"].get("knot", {})
        if t.get("first") and k.get("first"):
            pss = ratio(t["first"]["pss_kib"], k["first"]["pss_kib"])
            s1 = ratio(t["first"]["start_s"], k["first"]["start_s"])
            w("  tandem/knot  PSS %s   first answer: fresh data-dir %s" % (fx(pss), fx(s1)), )
            size = "1M" if mm["zone"]["records"] >= 1000000 else "%dk" % (mm["zone"]["records"] // 1000)
            targets.append(("PSS (%s records) <= 0.6x Knot" % size, pss, 0.6, "max"))
            targets.append(("start to first answer (%s) <= 0.8x Knot, fresh data-dir" % size, s1, 0.8, "max"))
            if t.get("restart") and k.get("restart"):
                s2 = ratio(t["restart"]["start_s"], k["restart"]["start_s"])
                lines[-1] += ", restart %s" % fx(s2)
                targets.append(("start to first answer (%s) <= 0.8x Knot, restart" % size, s2, 0.8, "max"))
    if targets:
        w("")
        w("SPEC.md Targets (informative; one run on this machine%s):"
          % ("; --quick: short runs and a smaller zone" if results.get("quick") else ""))
        for tgt in targets:
            label, value, goal = tgt[0], tgt[1], tgt[2]
            lower = len(tgt) > 3
            if value is None:
                verdict = "n/a"
            else:
                verdict = "met" if (value <= goal if lower else value >= goal) else "not met"
            w("  %-58s %7s  %s" % (label, fx(value), verdict))
        results["targets"] = [{"target": t[0], "ratio": t[1], "goal": t[2],
                               "direction": "max" if len(t) > 3 else "min"} for t in targets]
    if results.get("errors"):
        w("")
        for k, v in results["errors"].items():
            w("ERROR %s: %s" % (k, v.splitlines()[0] if v else v))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- main

def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(),
            "loadavg": " ".join(open("/proc/loadavg").read().split()[:3]),
            "dnsperf": _dnsperf_version()}


def _dnsperf_version():
    try:
        out = subprocess.run(["dnsperf", "-h"], capture_output=True, text=True, timeout=10)
        m = re.search(r"Version (\S+)", out.stdout + out.stderr)
        return m.group(1) if m else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short rounds and a smaller big zone: a smoke test")
    ap.add_argument("--only", default=",".join(PHASES),
                    help="comma list of %s (default: all; the last ones run their own scripts: %s)" % (
                        ", ".join(PHASES), ", ".join("%s %s" % (k, v[0]) for k, v in SCRIPTS.items())))
    ap.add_argument("--servers", default="tandem,nsd,knot", help="comma list (default: tandem,nsd,knot)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds per protocol (default 5; quick 2)")
    ap.add_argument("--duration", type=int, help="seconds per dnsperf run (default 10; quick 3)")
    ap.add_argument("--workers", type=int, default=2, help="query workers of every server (default 2)")
    ap.add_argument("--names", type=int, default=100000, help="names in the throughput zone (default 100000)")
    ap.add_argument("--big-records", type=int, help="records in the big zone (default 1000000; quick 200000)")
    ap.add_argument("--mem-repeats", type=int, help="start-up/memory measurements per server (default 3; quick 1)")
    ap.add_argument("--dnsperf-udp", help="dnsperf options replacing the UDP defaults")
    ap.add_argument("--dnsperf-tcp", help="dnsperf options replacing the TCP defaults")
    ap.add_argument("--tandemd", default=os.path.join(ROOT, "build", "tandemd"))
    ap.add_argument("--out", help="JSON file (default bench/out/bench-<time>.json)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (zones, configs, server logs)")
    args = ap.parse_args()
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    bad = only - set(PHASES)
    if bad:
        ap.error("--only: unknown %s" % ", ".join(sorted(bad)))
    args.servers = [x.strip() for x in args.servers.split(",") if x.strip()]
    if set(args.servers) - set(ORDER):
        ap.error("--servers: unknown %s" % ", ".join(sorted(set(args.servers) - set(ORDER))))
    args.servers = [x for x in ORDER if x in args.servers]
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.duration = args.duration or (3 if args.quick else 10)
    args.warmup = 1 if args.quick else 2
    args.big_records = args.big_records or (200000 if args.quick else 1000000)
    args.settle = 1.0 if args.quick else 3.0
    args.mem_reps = args.mem_repeats or (1 if args.quick else 3)
    args.start_timeout = 120
    args.big_timeout = 600
    if "tandem" in args.servers and not os.access(args.tandemd, os.X_OK):
        log("tandem: SKIPPED: %s is missing (make all)" % args.tandemd)
        args.servers.remove("tandem")
    missing = [b for b, need in (("dnsperf", only & {"udp", "tcp"}), ("nsd", "nsd" in args.servers),
                                 ("knotd", "knot" in args.servers)) if need and not shutil.which(b)]
    if missing:
        sys.exit("missing %s: scripts/deps.sh bench installs them" % ", ".join(missing))

    results = {"machine": machine(), "quick": args.quick,
               "settings": {"workers": args.workers, "servers": args.servers, "only": sorted(only)}}
    if "tandem" not in args.servers:
        results.setdefault("errors", {})["tandem"] = "not run (%s missing or not selected)" % args.tandemd

    def measure(tmp):
        protos = [p for p in ("udp", "tcp") if p in only]
        if protos:
            phase_throughput(args, tmp, protos, results)
        if "mem" in only:
            phase_mem(args, tmp, results)

    status = measured("bench", args, results, measure, report, latest=True)
    for phase in SCRIPTS:
        if phase in only and status == 0:
            status = run_script(args, phase)
    return status


LIB_PKGS = "libzscanner libknot liburcu libevent jansson yaml-0.1 sqlite3 libcrypto libssl"


def lib_binaries(source, libs, tmp):
    """bench/<source> (a C file of bench/) compiled against each build's libtandem.a, its headers from the src/
    beside that build folder: [(library, binary)]. For the benches that time the library itself."""
    flags = subprocess.run(["pkg-config", "--libs"] + LIB_PKGS.split(), capture_output=True, text=True,
                           check=True).stdout.split()
    out = []
    for i, lib in enumerate(libs):
        lib = os.path.abspath(lib)
        if not os.path.exists(lib):
            raise RuntimeError("%s missing: run make first" % lib)
        src = os.path.join(os.path.dirname(os.path.dirname(lib)), "src")
        binary = os.path.join(tmp, "%s-%d" % (os.path.splitext(source)[0], i))
        subprocess.run(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-I" + src,
                        "-o", binary, os.path.join(HERE, source), lib] + flags + ["-pthread"],
                       check=True, timeout=300)
        out.append((lib, binary))
    return out


def run_script(args, phase):
    """A phase with a script of its own (SCRIPTS), run in its own process with the same servers and settings.
    Its table follows this one; its data goes to bench/out/."""
    script, argv_of = SCRIPTS[phase]
    argv = [sys.executable, os.path.join(HERE, script)] + argv_of(args)
    argv += ["--quick"] if args.quick else []
    print("", flush=True)
    # The scripts built on the integration tests' harness (catalog.py) find tandemd through TANDEM_BUILD.
    env = dict(os.environ, TANDEM_BUILD=os.path.dirname(os.path.abspath(args.tandemd)))
    p = subprocess.Popen(argv, env=env)
    try:
        return p.wait()
    except BaseException:   # interrupted: the child got the same signal and stops its servers itself
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
        raise


# Phases run by scripts of their own, in this order after the throughput and memory tables: the script
# and its arguments. dnssec: DO queries to a signed zone (docs/benchmarks.md "DNSSEC"); floor: UDP queries
# per CPU-second against a responder that does no lookup (bench/udp_floor.py); axfr: AXFR out of five zone
# shapes, server CPU and stream size (bench/axfr_shapes.py); change: a change
# on a primary to the secondary serving it, Tandem beside Knot (bench/xfr.py); change-cost: one change
# through the change path, the store over 100,000 changes, a signed zone's index (bench/change.py);
# update: sequential RFC 2136 UPDATEs over one TCP connection, Tandem beside Knot and BIND (bench/update.py);
# catalog: 10,000 zones provisioned through a catalog, Tandem and Knot as consumers (bench/catalog.py; NSD 4.6
# consumes no catalogs);
# zones: 100,000 small zones from the configuration: first start, restart, PSS, reloads (bench/zones.py).
SCRIPTS = {
    "api": ("api.py", lambda a: ["--records", "100000,%d" % a.big_records, "--tandemd", a.tandemd]),
    "dnssec": ("dnssec.py", lambda a: ["--servers", ",".join(a.servers), "--workers", str(a.workers),
                                       "--rounds", str(a.rounds), "--duration", str(a.duration),
                                       "--names", str(a.names), "--tandemd", a.tandemd]
               + (["--keep"] if a.keep else [])),
    "floor": ("udp_floor.py", lambda a: ["--servers", ",".join(["null"] + a.servers),
                                         "--workers", str(a.workers), "--rounds", str(a.rounds),
                                         "--duration", str(a.duration), "--names", str(a.names),
                                         "--tandemd", a.tandemd] + (["--keep"] if a.keep else [])),
    "axfr": ("axfr_shapes.py", lambda a: ["--tandemd", a.tandemd]),
    "change": ("xfr.py", lambda a: ["--only", "change", "--servers", ",".join(a.servers),
                                    "--tandemd", a.tandemd]),
    "change-cost": ("change.py", lambda a: ["--build", os.path.dirname(a.tandemd)]),
    "update": ("update.py", lambda a: ["--tandemd", a.tandemd]),
    "catalog": ("catalog.py", lambda a: []),
    "zones": ("zones.py", lambda a: ["--servers", ",".join(a.servers), "--tandemd", a.tandemd]
              + (["--keep"] if a.keep else [])),
}
PHASES = ["udp", "tcp", "mem"] + list(SCRIPTS)

if __name__ == "__main__":
    sys.exit(main())
