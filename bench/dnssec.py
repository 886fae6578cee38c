#!/usr/bin/python3
"""bench/dnssec.py -- DNSSEC answering cost: UDP queries with the DO bit to a signed 100,000-name zone,
Tandem against NSD and Knot DNS in the same run.

    /usr/bin/python3 bench/dnssec.py [--quick] [--denial nsec3|nsec] [--servers tandem,nsd,knot] [--keep]

The throughput zone of bench/run.py (bench/zonegen.py, same seed) is signed here with BIND's dnssec-keygen and
dnssec-signzone (ECDSA P-256, algorithm 13, a KSK and a ZSK; NSEC3 without salt or extra iterations by default)
and every server loads the same signed file. dnsperf then asks the zonegen query file (about 80% positive
answers, 10% NXDOMAIN, 5% NODATA, 5% referrals) with the DO bit (`-D`), and, for comparison on the same zone,
without it. Rounds are interleaved (each round runs every server and mode once, the order rotating) and the
medians are reported with the servers' CPU time (the figure to trust: queries per server CPU-second). The
table goes to stdout, the data to bench/out/dnssec-<time>.json. docs/benchmarks.md ("DNSSEC") explains it.
Nothing here passes or fails: it measures and reports.
"""

import argparse
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import run as runner  # noqa: E402  (bench/run.py: dnsperf runs, server start/stop, formatting)
import zonegen  # noqa: E402

ORIGIN = runner.ORIGIN
ORDER = runner.ORDER
PEERS = runner.PEERS
MODES = ("do", "plain")
# bench/run.py's UDP options (64 sockets, one thread, 500 outstanding); dnsperf's EDNS buffer is 4096 octets,
# so no answer is truncated.
DNSPERF_UDP = runner.DNSPERF["udp"]
log = runner.log


# ---------------------------------------------------------------------------------------------- signing

def _run(argv, cwd, timeout=1800):
    p = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (argv[0], p.returncode, p.stdout, p.stderr))
    return p.stdout


def sign(tmp, zone, denial):
    """Signs zone into tmp/signed.zone; returns (path, seconds, facts)."""
    d = os.path.join(tmp, "keys")
    os.makedirs(d, exist_ok=True)
    t = time.monotonic()
    _run(["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "-K", d, ORIGIN], d)
    _run(["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-K", d, ORIGIN], d)
    out = os.path.join(tmp, "signed.zone")
    # -P: dnssec-signzone's own verification of the result is skipped (it doubles the time); -S: the keys in d
    argv = ["dnssec-signzone", "-q", "-P", "-S", "-K", d, "-d", d, "-n", str(os.cpu_count() or 1), "-O", "full",
            "-o", ORIGIN, "-f", out]
    if denial == "nsec3":
        argv += ["-3", "-", "-H", "0"]
    _run(argv + [zone], d)
    took = time.monotonic() - t
    records = sigs = 0
    with open(out) as f:
        for line in f:
            if line.strip() and not line.startswith(";"):   # -O full: one record per line
                records += 1
                sigs += line.split(None, 4)[3] == "RRSIG"
    return out, took, {"denial": denial, "algorithm": "ECDSAP256SHA256 (13)", "records": records, "rrsigs": sigs,
                       "nsec3": "no salt, 0 extra iterations, no opt-out" if denial == "nsec3" else None}


# ---------------------------------------------------------------------------------------------- DO probe

def _skip_name(msg, pos):
    while True:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            return pos + 2
        if n == 0:
            return pos + 1
        pos += 1 + n


def probe_do(port, qname, qtype=1, timeout=2.0):
    """One UDP query with DO; returns (rcode, answer count, RRSIGs in the answer) or None."""
    qid = random.getrandbits(16)
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 1)
    for label in qname.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack("!HH", qtype, 1)
    q += b"\x00" + struct.pack("!HHIH", 41, 4096, 0x8000, 0)   # OPT: 4096 octets, DO
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(q, ("127.0.0.1", port))
        msg = s.recv(65535)
    except OSError:
        return None
    finally:
        s.close()
    rid, flags, qd, an = struct.unpack("!HHHH", msg[:8])
    if rid != qid:
        return None
    pos = 12
    for _ in range(qd):
        pos = _skip_name(msg, pos) + 4
    sigs = 0
    for _ in range(an):
        pos = _skip_name(msg, pos)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
        sigs += rtype == 46
        pos += 10 + rdlen
    return flags & 0xF, an, sigs


# ---------------------------------------------------------------------------------------------- the runs

def measure(args, tmp, results):
    zone = os.path.join(tmp, "bench.zone")
    qfile = os.path.join(tmp, "queries.txt")
    t = time.monotonic()
    info = zonegen.generate(zone, ORIGIN, names=args.names, want_queries=True)
    mix = zonegen.query_file(qfile, info, count=200000)
    log("zone: %d names, %d records; queries: %s (%.1fs)" % (info["names"], info["records"], mix,
                                                              time.monotonic() - t))
    signed, took, facts = sign(tmp, zone, args.denial)
    log("signed with %s in %.1fs: %d records, %d RRSIGs" % (args.denial.upper(), took, facts["records"],
                                                             facts["rrsigs"]))
    os.remove(zone)
    results["zone"] = dict(facts, names=info["names"], unsigned_records=info["records"], query_mix=mix,
                           queries_in_file=200000, signing_s=round(took, 1))
    errors = results.setdefault("errors", {})
    running = []
    for kind in args.servers:
        s = runner.make_server(kind, os.path.join(tmp, kind), signed, args)
        try:
            up = runner.start_server(s, args.start_timeout)
            probe = probe_do(s.port, "www." + ORIGIN)
            log("%s: answering on 127.0.0.1@%d after %.2fs (%s); www A with DO: %s"
                % (kind, s.port, up, s.version(), probe and "rcode %d, %d answers, %d RRSIG" % probe))
            results.setdefault("signs_answers", {})[kind] = bool(probe and probe[2])
            running.append(s)
        except (RuntimeError, OSError) as e:
            log("%s: SKIPPED: %s" % (kind, e))
            errors[kind] = str(e)
    if not running:
        raise RuntimeError("no server started")
    results["versions"] = {s.name: s.version() for s in running}
    modes = [m for m in MODES if m == "do" or not args.no_plain]
    opts = {m: DNSPERF_UDP + (["-D"] if m == "do" else []) for m in modes}
    for s in running:   # warm-up, not counted
        for m in modes:
            if s.alive():
                runner.run_dnsperf(s, "udp", qfile, args.warmup, opts[m])
    runs = {(s.name, m): [] for s in running for m in modes}
    for r in range(args.rounds):
        order = running[r % len(running):] + running[:r % len(running)]
        for s in order:
            for m in (modes if r % 2 == 0 else modes[::-1]):
                if not s.alive():
                    continue
                res = runner.run_dnsperf(s, "udp", qfile, args.duration, opts[m])
                res["round"] = r + 1
                runs[(s.name, m)].append(res)
                log("round %d/%d %-6s %-5s %9s q/s  server cpu %5ss  %9s q/cpu-s  size %s  lost %s%s"
                    % (r + 1, args.rounds, s.name, m, runner.fmt(res["qps"]), runner.fmt(res["server_cpu"], "{:.2f}"),
                       runner.fmt(res["q_per_cpu"]), runner.fmt(res["response_size"]), runner.fmt(res["lost"]),
                       "" if res["alive"] else "  SERVER DIED"))
    summary = {}
    for (name, m), rs in runs.items():
        ok = [x for x in rs if x["qps"] is not None]
        codes = {}
        for x in ok:
            for c, n in x["rcodes"].items():
                codes[c] = codes.get(c, 0) + n
        total = sum(codes.values()) or 1
        summary.setdefault(name, {})[m] = {
            "qps": runner.median([x["qps"] for x in ok]),
            "server_cpu": runner.median([x["server_cpu"] for x in ok]),
            "server_cpu_per_s": runner.median([x["server_cpu"] / x["elapsed"] for x in ok
                                               if x["server_cpu"] is not None and x["elapsed"]]),
            "q_per_cpu": runner.median([x["q_per_cpu"] for x in ok]),
            "client_cpu": runner.median([x["client_cpu"] for x in ok]),
            "response_size": runner.median([x["response_size"] for x in ok]),
            "lost_pct": runner.median([100.0 * x["lost"] / x["sent"] for x in ok if x["sent"]]),
            "rcodes_pct": {c: round(100.0 * n / total, 2) for c, n in sorted(codes.items())},
            "rounds_ok": len(ok),
        }
    results["udp"] = {"dnsperf": {m: opts[m] for m in modes}, "rounds": args.rounds, "seconds": args.duration,
                      "summary": summary, "runs": {"%s/%s" % k: v for k, v in runs.items()}}
    for s in running:
        if not s.alive():
            errors.setdefault(s.name, "died during the runs; log:\n" + s.log_tail())
        runner.stop_server(s)


# ---------------------------------------------------------------------------------------------- report

def report(results):
    lines = []
    w = lines.append
    m = results["machine"]
    w("Tandem DNSSEC benchmark %s  (%s; %s CPUs; load average at start %s)"
      % (results["started"], m["cpu"], m["cpus"], m["loadavg"]))
    for name, v in results.get("versions", {}).items():
        w("  %-7s %s" % (name, v))
    if "udp" in results:
        u, z = results["udp"], results["zone"]
        s = u["summary"]
        w("")
        w("UDP, signed zone %s: %s names, %s records (%s RRSIGs), %s, %s; dnsperf %s [-D], %d rounds x %ds "
          "interleaved, medians" % (ORIGIN, runner.fmt(z["names"]), runner.fmt(z["records"]), runner.fmt(z["rrsigs"]),
                                    z["algorithm"], z["denial"].upper() + (" (%s)" % z["nsec3"] if z["nsec3"] else ""),
                                    " ".join(DNSPERF_UDP), u["rounds"], u["seconds"]))
        w("  %-7s %-5s %10s %10s %9s %10s %7s %7s %5s %6s  %s" % (
            "server", "DO", "queries/s", "server CPU", "CPU cores", "q/CPU-s", "client", "lost", "size", "RRSIG",
            "answers"))
        for name in ORDER:
            for mode in MODES:
                x = s.get(name, {}).get(mode)
                if not x:
                    continue
                rc = ", ".join("%s %.1f%%" % (c, p) for c, p in x["rcodes_pct"].items())
                signs = results.get("signs_answers", {}).get(name)
                w("  %-7s %-5s %10s %9ss %9s %10s %6ss %6s%% %5s %6s  %s"
                  % (name, "yes" if mode == "do" else "no", runner.fmt(x["qps"]),
                     runner.fmt(x["server_cpu"], "{:.2f}"), runner.fmt(x["server_cpu_per_s"], "{:.2f}"),
                     runner.fmt(x["q_per_cpu"]), runner.fmt(x["client_cpu"], "{:.2f}"),
                     runner.fmt(x["lost_pct"], "{:.2f}"), runner.fmt(x["response_size"]),
                     ("yes" if signs else "NO") if mode == "do" else "", rc))
        t = s.get("tandem", {})
        for mode in MODES:
            tm = t.get(mode)
            peers = [p for p in PEERS if s.get(p, {}).get(mode, {}).get("qps")]
            if not tm or not peers:
                continue
            label = "DO" if mode == "do" else "no DO"
            for p in peers:
                pm = s[p][mode]
                w("  %-6s tandem/%-5s queries/s %s   q/CPU-s %s" % (
                    label, p, runner.fx(runner.ratio(tm["qps"], pm["qps"])),
                    runner.fx(runner.ratio(tm["q_per_cpu"], pm["q_per_cpu"]))))
            best_q = max(s[p][mode]["qps"] for p in peers)
            best_c = max(s[p][mode]["q_per_cpu"] or 0 for p in peers)
            w("  %-6s tandem/best  queries/s %s   q/CPU-s %s" % (label, runner.fx(runner.ratio(tm["qps"], best_q)),
                                                                 runner.fx(runner.ratio(tm["q_per_cpu"], best_c))))
        cost = []
        for name in ORDER:
            d, p = s.get(name, {}).get("do"), s.get(name, {}).get("plain")
            if d and p:
                cost.append("%s %s" % (name, runner.fx(runner.ratio(d["q_per_cpu"], p["q_per_cpu"]))))
        if cost:
            w("  DO against no DO on the same zone, q/CPU-s: %s" % ", ".join(cost))
        td = t.get("do")
        if td:
            if not results.get("signs_answers", {}).get("tandem"):
                w("  NOTE: Tandem's answers to DO queries carry no RRSIG: its figures answer other questions")
            for p in PEERS:
                pd = s.get(p, {}).get("do")
                if pd and td["response_size"] and pd["response_size"] and \
                        abs(td["response_size"] - pd["response_size"]) > 0.1 * pd["response_size"]:
                    w("  NOTE: with DO, Tandem's answers average %d bytes, %s's %d: they do not carry the same "
                      "records" % (td["response_size"], p, pd["response_size"]))
                if pd and td["rcodes_pct"] and pd["rcodes_pct"]:
                    diff = max(abs(td["rcodes_pct"].get(c, 0) - pd["rcodes_pct"].get(c, 0))
                               for c in set(td["rcodes_pct"]) | set(pd["rcodes_pct"]))
                    if diff > 1.0:
                        w("  NOTE: with DO, Tandem's rcode mix differs from %s's by %.1f points" % (p, diff))
    if results.get("errors"):
        w("")
        for k, v in results["errors"].items():
            w("ERROR %s: %s" % (k, v.splitlines()[0] if v else v))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 rounds x 3 s: a smoke test")
    ap.add_argument("--servers", default="tandem,nsd,knot", help="comma list (default: tandem,nsd,knot)")
    ap.add_argument("--denial", choices=("nsec3", "nsec"), default="nsec3", help="NSEC3 (default) or NSEC")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default 5; quick 2)")
    ap.add_argument("--duration", type=int, help="seconds per dnsperf run (default 10; quick 3)")
    ap.add_argument("--workers", type=int, default=2, help="query workers of every server (default 2)")
    ap.add_argument("--names", type=int, default=100000, help="names in the zone (default 100000)")
    ap.add_argument("--no-plain", action="store_true", help="only DO queries (no runs without DO)")
    ap.add_argument("--tandemd", default=os.path.join(ROOT, "build", "tandemd"))
    ap.add_argument("--out", help="JSON file (default bench/out/dnssec-<time>.json)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (zone, keys, configs, server logs)")
    args = ap.parse_args(argv)
    args.servers = [x.strip() for x in args.servers.split(",") if x.strip()]
    if set(args.servers) - set(ORDER):
        ap.error("--servers: unknown %s" % ", ".join(sorted(set(args.servers) - set(ORDER))))
    args.servers = [x for x in ORDER if x in args.servers]
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.duration = args.duration or (3 if args.quick else 10)
    args.warmup = 1 if args.quick else 2
    args.start_timeout = 300   # a signed zone of 100k names is about 1.6M records
    if "tandem" in args.servers and not os.access(args.tandemd, os.X_OK):
        log("tandem: SKIPPED: %s is missing (make all)" % args.tandemd)
        args.servers.remove("tandem")
    missing = [b for b, need in (("dnsperf", True), ("dnssec-signzone", True), ("dnssec-keygen", True),
                                 ("nsd", "nsd" in args.servers), ("knotd", "knot" in args.servers))
               if need and not shutil.which(b)]
    if missing:
        sys.exit("missing %s: scripts/deps.sh bench installs them (dnssec-signzone: bind9-utils)"
                 % ", ".join(missing))

    results = {"machine": runner.machine(), "quick": args.quick,
               "settings": {"workers": args.workers, "servers": args.servers, "denial": args.denial}}
    return runner.measured("dnssec", args, results, lambda tmp: measure(args, tmp, results), report)


if __name__ == "__main__":
    sys.exit(main())
