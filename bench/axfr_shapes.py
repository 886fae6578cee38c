#!/usr/bin/python3
"""bench/axfr_shapes.py -- AXFR out on several zone shapes: server CPU per transfer and stream size, Tandem
beside NSD and Knot in the same run.

    /usr/bin/python3 bench/axfr_shapes.py [--quick] [--rounds N] [--shapes a,b] [--servers tandem,nsd]
                                          [--tandemd PATH] [--keep]

The cost of a transfer depends on the zone's shape (how many names, how many records per name, how long the
names are, how much of the zone is delegations), so one zone is not enough to say "as fast as NSD". Shapes:

  hosts    500,000 names `hostN`, each one A and one AAAA (1,000,005 records)   quick: 50,000 names
  mix      bench/zonegen.py's zone, 1,000,000 records                            quick: 100,000 records
  rrsets   2,000 names with 200 A records each and 2,000 with 100 TXT each       quick: 200 + 200 names
  deep     300,000 names of 10 labels (a hierarchy of shared parents), one A each  quick: 30,000
  deleg    100,000 delegations: 2 NS in bailiwick, A and AAAA glue for both       quick: 10,000

For each shape the servers are started one after the other on 127.0.0.1 on free ports (only one shape's
servers run at a time), each loads the same zone file. A first AXFR from each walks every record to check the
transfer is complete (closing SOA) and counts records and octets; all servers must send the same number of
records. Then each round asks every server for --batch transfers in a row (the order of servers rotating) with
a reader that only frames messages and counts records, so the figure is the server's work, not a client's
formatting; the server's CPU time (user + system, from /proc, the whole process tree, counted in 10 ms ticks,
hence the batches) is read before and after and divided by the batch. Reported per shape and server:
median CPU seconds per AXFR, median wall seconds, stream octets (with the 2-octet TCP length prefixes), and
Tandem's ratio to NSD and to Knot. Targets (issue 9, item 2): Tandem's CPU at most NSD's and its stream within
5% of NSD's size on every shape.

--writer-only starts no server: it compiles bench/axfr_cost.c against each --writer-lib (a build's
libtandem.a, build/libtandem.a by default; the headers are taken from the src/ beside that build) and, on
each shape's zone file, times --rounds x --batch whole AXFRs written by Tandem's writer into a sink that only
counts octets, on the thread's CPU clock, the builds taking turns. That figure leaves out the kernel and
moves by a few percent (the median of the rounds' medians, printed against the first library's) where a
server's CPU moves by 10-20%: it is how two builds of the writer are compared, on a quiet machine.

Every wait is bounded, the servers are stopped whatever happens, the temp dir is removed unless --keep.
Nothing passes or fails: a table on stdout and the data in bench/out/axfr-shapes-<time>.json.
"""

import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import run as runner  # noqa: E402  (bench/run.py: the frame a run goes in)
import servers as srv  # noqa: E402
import xfr as xb  # noqa: E402  (the server classes with transfers allowed to 127.0.0.1)
import zonegen  # noqa: E402

LIVE = []
SOA = "@ SOA ns1 hostmaster 2024050101 7200 3600 1209600 3600\n@ NS ns1\n@ NS ns2\n" \
      "ns1 A 192.0.2.53\nns2 A 192.0.2.54\n"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------------------------------------- shapes
# Each writer takes (path, origin, quick) and returns (records, (last name, type)): a record late in the
# file, answered only once the whole zone is loaded.

def _head(f, origin):
    f.write("$ORIGIN %s\n$TTL 3600\n" % origin)
    f.write(SOA)
    return 5


def shape_hosts(path, origin, quick):
    n = 50000 if quick else 500000
    with open(path, "w", buffering=1 << 20) as f:
        rec = _head(f, origin)
        for i in range(n):
            f.write("host%d A 10.%d.%d.%d\nhost%d AAAA 2001:db8:%x:%x::1\n"
                    % (i, i >> 16 & 255, i >> 8 & 255, i & 255, i, i >> 16, i & 0xFFFF))
        rec += 2 * n
    return rec, ("host%d.%s" % (n - 1, origin), "AAAA")


def shape_mix(path, origin, quick):
    info = zonegen.generate(path, origin, records=100000 if quick else 1000000)
    return info["records"], info["last"]


def shape_rrsets(path, origin, quick):
    n = 200 if quick else 2000
    with open(path, "w", buffering=1 << 20) as f:
        rec = _head(f, origin)
        for i in range(n):
            for k in range(200):
                f.write("pool%d A 10.%d.%d.%d\n" % (i, i >> 8 & 255, i & 255, k))
            for k in range(100):
                f.write("txt%d TXT \"key=%d-%d\" \"v=%08x\"\n" % (i, i, k, (i * 7919 + k) & 0xFFFFFFFF))
            rec += 300
        # the RRsets do not fit a UDP answer (TC, no records): wait for a small one written last
        f.write("zz-last A 192.0.2.99\n")
    return rec + 1, ("zz-last.%s" % origin, "A")


def shape_deep(path, origin, quick):
    n = 30000 if quick else 300000
    with open(path, "w", buffering=1 << 20) as f:
        rec = _head(f, origin)
        for i in range(n):
            # 10 labels below the apex; the upper ones shared by 10, 100, 1000 ... names
            f.write("h%d.r%d.s%d.t%d.u%d.rack.dc.eu.svc.int A 10.%d.%d.%d\n"
                    % (i, i // 10, i // 100, i // 1000, i // 10000, i >> 16 & 255, i >> 8 & 255, i & 255))
        rec += n
    return rec, ("h%d.r%d.s%d.t%d.u%d.rack.dc.eu.svc.int.%s" % (
        n - 1, (n - 1) // 10, (n - 1) // 100, (n - 1) // 1000, (n - 1) // 10000, origin), "A")


def shape_deleg(path, origin, quick):
    n = 10000 if quick else 100000
    with open(path, "w", buffering=1 << 20) as f:
        rec = _head(f, origin)
        for i in range(n):
            f.write("cust%d NS ns1.cust%d\ncust%d NS ns2.cust%d\n" % (i, i, i, i))
            f.write("ns1.cust%d A 10.%d.%d.1\nns1.cust%d AAAA 2001:db8:%x:%x::1\n"
                    % (i, i >> 8 & 255, i & 255, i, i >> 16, i & 0xFFFF))
            f.write("ns2.cust%d A 10.%d.%d.2\nns2.cust%d AAAA 2001:db8:%x:%x::2\n"
                    % (i, i >> 8 & 255, i & 255, i, i >> 16, i & 0xFFFF))
        rec += 6 * n
    # a delegation is answered with a referral (no AA): wait for an authoritative name written last
    with open(path, "a") as f:
        f.write("zz-last A 192.0.2.99\n")
    return rec + 1, ("zz-last.%s" % origin, "A")


SHAPES = {"hosts": shape_hosts, "mix": shape_mix, "rrsets": shape_rrsets, "deep": shape_deep,
          "deleg": shape_deleg}


# ---------------------------------------------------------------------------------------------- wire

def _skip_name(msg, pos):
    while True:
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += n + 1


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def axfr(port, origin, expect=None, timeout=300):
    """One AXFR over TCP. With expect (records in the transfer), only frames messages and sums ANCOUNT until
    it is reached; without, walks every record to find the closing SOA. Returns (seconds, records, octets,
    messages)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    q = xb._query(origin, 252)
    try:
        start = time.monotonic()
        s.sendall(struct.pack("!H", len(q)) + q)
        records = nbytes = soas = messages = 0
        while True:
            (n,) = struct.unpack("!H", _recv_exact(s, 2))
            msg = _recv_exact(s, n)
            nbytes += n + 2
            messages += 1
            if msg[3] & 0x0F:
                raise RuntimeError("AXFR answered rcode %d" % (msg[3] & 0x0F))
            an = struct.unpack("!H", msg[6:8])[0]
            records += an
            if expect is not None:
                if records >= expect:
                    break
                continue
            pos = _skip_name(msg, 12) + 4 if struct.unpack("!H", msg[4:6])[0] else 12
            for _ in range(an):
                pos = _skip_name(msg, pos)
                rtype, _, _, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
                pos += 10 + rdlen
                if rtype == 6:
                    soas += 1
            if soas >= 2:
                break
        return time.monotonic() - start, records, nbytes, messages
    finally:
        s.close()


# ---------------------------------------------------------------------------------------------- run

def start(s, timeout, last):
    s.start()
    LIVE.append(s)
    if s.wait_ready(timeout, *last) is None:
        tail = s.log_tail()
        stop(s)
        raise RuntimeError("%s did not start; log:\n%s" % (s.name, tail))
    return s


def stop(s):
    s.stop()
    if s in LIVE:
        LIVE.remove(s)


def run_shape(name, args, tmp):
    origin = "%s.test." % name
    zone = os.path.join(tmp, "%s.zone" % name)
    t = time.monotonic()
    records, last = SHAPES[name](zone, origin, args.quick)
    log("%s: %d records written (%.1f s)" % (name, records, time.monotonic() - t))
    made = {"tandem": lambda d, p: xb.Tandem(d, zone, origin, p, binary=args.tandemd),
            "nsd": lambda d, p: xb.NSD(d, zone, origin, p), "knot": lambda d, p: xb.Knot(d, zone, origin, p)}
    out = {"records_in_zone_file": records, "servers": {}}
    live = {}
    try:
        for kind in args.servers:
            s = made[kind](os.path.join(tmp, "%s-%s" % (name, kind)), srv.free_port())
            log("%s: starting %s" % (name, kind))
            start(s, 300, last)
            live[kind] = s
        counts = {}
        for kind, s in live.items():
            secs, recs, nbytes, msgs = axfr(s.port, origin)
            counts[kind] = recs
            out["servers"][kind] = {"records": recs, "bytes": nbytes, "messages": msgs, "rounds": []}
            log("%s: %s complete: %d records, %d messages, %.2f MB, %.2f s" % (
                name, kind, recs, msgs, nbytes / 1e6, secs))
        if len(set(counts.values())) != 1:
            out["warning"] = "the servers sent different record counts: %s" % counts
            log("%s: WARNING %s" % (name, out["warning"]))
        order = list(live)
        for r in range(args.rounds):
            for kind in order[r % len(order):] + order[:r % len(order)]:
                s = live[kind]
                cpu0 = srv.tree_cpu(s.pid)
                t0 = time.monotonic()
                for _ in range(args.batch):
                    axfr(s.port, origin, expect=counts[kind])
                secs = (time.monotonic() - t0) / args.batch
                time.sleep(0.05)   # let the server's thread finish its accounting
                cpu = (srv.tree_cpu(s.pid) - cpu0) / args.batch
                out["servers"][kind]["rounds"].append({"seconds": secs, "cpu": cpu})
                log("%s: round %d %s %.3f s, server CPU %.2f s" % (name, r + 1, kind, secs, cpu))
    finally:
        for s in list(live.values()):
            stop(s)
        try:
            os.unlink(zone)
        except OSError:
            pass
    for r in out["servers"].values():
        r["median_seconds"] = median([x["seconds"] for x in r["rounds"]])
        r["median_cpu"] = median([x["cpu"] for x in r["rounds"]])
    return out


def run_writer_shape(name, args, tmp, binaries):
    origin = "%s.test." % name
    zone = os.path.join(tmp, "%s.zone" % name)
    records, _ = SHAPES[name](zone, origin, args.quick)
    out = {"records_in_zone_file": records, "writers": {}}
    try:
        # the libraries take turns, so that a slow moment of the machine falls on each of them alike
        runs = {lib: [] for lib, _ in binaries}
        for r in range(args.rounds):
            for lib, binary in binaries[r % len(binaries):] + binaries[:r % len(binaries)]:
                p = subprocess.run([binary, zone, origin, str(args.batch)], capture_output=True, text=True,
                                   timeout=600)
                if p.returncode != 0:
                    raise RuntimeError("axfr_cost failed: %s" % p.stderr.strip())
                runs[lib].append(json.loads(p.stdout))
                log("%s: round %d %s fastest %.2f ms" % (name, r + 1, lib, runs[lib][-1]["min_ms"]))
        for lib, rs in runs.items():
            out["writers"][lib] = {"records": rs[0]["records"], "octets": rs[0]["octets"],
                                   "messages": rs[0]["messages"], "rounds": rs,
                                   "min_ms": min(x["min_ms"] for x in rs),
                                   "median_ms": median([x["median_ms"] for x in rs])}
    finally:
        try:
            os.unlink(zone)
        except OSError:
            pass
    return out


def report_writer(results):
    lines = ["AXFR written by Tandem's writer alone (bench/axfr_cost.c: %d rounds of %d transfers, "
             "thread CPU ms per AXFR, no kernel)"
             % (results["settings"]["rounds"], results["settings"]["batch"])]
    lines.append("  %-7s %10s %9s %9s %10s %9s  %s" % ("shape", "records", "min ms", "median", "MB",
                                                      "vs first", "library"))
    for name, sh in results["shapes"].items():
        if "error" in sh:
            lines.append("  %-7s error: %s" % (name, sh["error"].splitlines()[0]))
            continue
        first = None
        for lib, r in sh["writers"].items():
            first = first or r["median_ms"]
            lines.append("  %-7s %10s %9.2f %9.2f %10.2f %9.3f  %s" % (
                name, format(r["records"], ","), r["min_ms"], r["median_ms"], r["octets"] / 1e6,
                r["median_ms"] / first, lib))
    return "\n".join(lines)


def report(results):
    if results["settings"].get("writer_only"):
        return report_writer(results)
    lines = ["AXFR out by zone shape (%d rounds of %d transfers, medians; CPU = server CPU seconds per AXFR)"
             % (results["settings"]["rounds"], results["settings"]["batch"])]
    lines.append("  %-7s %10s %-7s %8s %8s %10s %9s %10s %10s" % (
        "shape", "records", "server", "CPU s", "wall s", "MB", "messages", "CPU/nsd", "size/nsd"))
    met = True
    for name, sh in results["shapes"].items():
        if "error" in sh:
            lines.append("  %-7s error: %s" % (name, sh["error"].splitlines()[0]))
            met = False
            continue
        nsd = sh["servers"].get("nsd")
        for kind, r in sh["servers"].items():
            cr = sr = "-"
            if nsd and nsd["median_cpu"] and r["median_cpu"] is not None:
                cr = "%.2f" % (r["median_cpu"] / nsd["median_cpu"])
            if nsd:
                sr = "%.3f" % (r["bytes"] / nsd["bytes"])
            lines.append("  %-7s %10s %-7s %8.3f %8.3f %10.2f %9d %10s %10s" % (
                name, format(sh["records_in_zone_file"], ","), kind,
                r["median_cpu"] if r["median_cpu"] is not None else float("nan"),
                r["median_seconds"] if r["median_seconds"] is not None else float("nan"),
                r["bytes"] / 1e6, r["messages"], cr, sr))
        t = sh["servers"].get("tandem")
        if t and nsd:
            # /proc counts 10 ms ticks: a batch's figure moves by 0.01 / batch; below 5 of those steps
            # the comparison says nothing (the --quick zones)
            step = 0.01 / results["settings"]["batch"]
            ok_size = t["bytes"] <= nsd["bytes"] * 1.05
            if nsd["median_cpu"] < 5 * step:
                cpu_text = "too small to compare (%.3f s steps)" % step
                met = met and ok_size
            else:
                ok_cpu = t["median_cpu"] <= nsd["median_cpu"]
                cpu_text = "met" if ok_cpu else "NOT met"
                met = met and ok_cpu and ok_size
            lines.append("  %-7s target: CPU <= nsd %s, size <= 1.05 x nsd %s" % (
                "", cpu_text, "met" if ok_size else "NOT met"))
        if sh.get("warning"):
            lines.append("  WARNING: " + sh["warning"])
    lines.append("all targets: %s" % ("met" if met else "not met"))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller zones, 3 rounds of 10 transfers")
    ap.add_argument("--rounds", type=int, help="rounds per shape (default 5; quick 3)")
    ap.add_argument("--shapes", default=",".join(SHAPES), help="comma list of " + ", ".join(SHAPES))
    ap.add_argument("--batch", type=int, help="transfers per round and server, timed together: /proc counts "
                    "CPU in 10 ms ticks (default 4; quick 10)")
    ap.add_argument("--servers", default="tandem,nsd,knot")
    ap.add_argument("--tandemd", default=os.path.join(ROOT, "build", "tandemd"))
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (servers' logs and data)")
    ap.add_argument("--writer-only", action="store_true",
                    help="no servers: time Tandem's AXFR writer on the library itself (bench/axfr_cost.c)")
    ap.add_argument("--writer-lib", action="append",
                    help="with --writer-only: a build's libtandem.a (repeat to compare builds; default "
                    "build/libtandem.a)")
    args = ap.parse_args()
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.batch = args.batch or (10 if args.quick else (20 if args.writer_only else 4))
    args.writer_lib = args.writer_lib or [os.path.join(ROOT, "build", "libtandem.a")]
    args.servers = [x for x in ("tandem", "nsd", "knot") if x in args.servers.split(",")]
    shapes = [x for x in args.shapes.split(",") if x]
    for x in shapes:
        if x not in SHAPES:
            ap.error("unknown shape %r" % x)
    results = {"settings": vars(args).copy(), "shapes": {}, "versions": {}}

    def measure(tmp):
        status = 0
        binaries = runner.lib_binaries("axfr_cost.c", args.writer_lib, tmp) if args.writer_only else None
        for name in shapes:
            try:
                results["shapes"][name] = (run_writer_shape(name, args, tmp, binaries) if binaries is not None
                                           else run_shape(name, args, tmp))
            except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
                log("%s: error: %s" % (name, e))
                results["shapes"][name] = {"error": str(e)}
                status = 1
        return status

    return runner.measured("axfr-shapes", args, results, measure, report, live=LIVE)


if __name__ == "__main__":
    sys.exit(main())
