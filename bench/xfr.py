#!/usr/bin/python3
"""bench/xfr.py -- zone transfer figures: AXFR out of a 1,000,000-record zone from Tandem, NSD and Knot, and
the time from a one-record change on a primary to the new serial served by its secondary (Tandem to Tandem,
Knot to Knot).

    /usr/bin/python3 bench/xfr.py [--quick] [--rounds N] [--records N] [--keep]

AXFR: the three servers load the same zone (bench/zonegen.py, 1M records) and stay up; each round asks every
server for the zone over TCP once (the order rotating) with a reader that only frames messages and counts
records, so the figure is the server's, not a client's formatting; the medians are reported, with the server's
CPU time per transfer. Every server's transfer is first checked complete (the closing SOA, the same record
count for all three), and `kdig +tcp AXFR > /dev/null` is timed once per server as the figure an operator sees.

Change to serial: a primary and a secondary of the same implementation, a 10,000-record zone, NOTIFY and IXFR
on loopback. Each round edits the primary's zone file (serial + 1, one new record), asks the primary to
reload (SIGHUP for Tandem, `knotc zone-reload` for Knot), and polls the secondary's SOA every 2 ms until it
serves the new serial (bounded). Reported: reload to the primary serving it, and reload to the secondary
serving it (medians).

Everything runs on 127.0.0.1 on free ports in a temp dir, every wait is bounded, the servers are stopped
whatever happens. Nothing passes or fails; the table goes to stdout and the data to bench/out/xfr-<time>.json.
Only Python's standard library, plus kdig (knot-dnsutils) for the one timing that uses it.
"""

import argparse
import os
import re
import shutil
import signal
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
import zonegen  # noqa: E402

ORIGIN = "bench.test."
LIVE = []


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------------------------------------- wire

def _qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def _query(name, qtype, qid=0x5454):
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + _qname(name) + struct.pack("!HH", qtype, 1)


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


def axfr(port, expect=None, timeout=300):
    """One AXFR over TCP. With expect (records in the transfer), only frames messages and sums ANCOUNT until
    it is reached; without, walks every record to find the closing SOA. Returns (seconds, records, bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    q = _query(ORIGIN, 252)
    try:
        start = time.monotonic()
        s.sendall(struct.pack("!H", len(q)) + q)
        records = nbytes = soas = 0
        while True:
            (n,) = struct.unpack("!H", _recv_exact(s, 2))
            msg = _recv_exact(s, n)
            nbytes += n + 2
            rcode = msg[3] & 0x0F
            if rcode:
                raise RuntimeError("AXFR answered rcode %d" % rcode)
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
        return time.monotonic() - start, records, nbytes
    finally:
        s.close()


def soa_serial(port, timeout=0.2):
    """The serial a server answers for ORIGIN SOA over UDP, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(_query(ORIGIN, 6), ("127.0.0.1", port))
        msg = s.recv(4096)
    except OSError:
        return None
    finally:
        s.close()
    if len(msg) < 12 or msg[3] & 0x0F or struct.unpack("!H", msg[6:8])[0] == 0:
        return None
    pos = _skip_name(msg, 12) + 4
    pos = _skip_name(msg, pos)
    rtype = struct.unpack("!H", msg[pos:pos + 2])[0]
    if rtype != 6:
        return None
    pos = _skip_name(msg, _skip_name(msg, pos + 10))
    return struct.unpack("!I", msg[pos:pos + 4])[0]


# ---------------------------------------------------------------------------------------------- servers

class Tandem(srv.Tandem):
    """tandemd as the benchmark's other phases run it, plus what transfers need: an ACL letting 127.0.0.1
    transfer, a secondary zone, NOTIFY to a secondary."""

    def __init__(self, *a, role="primary", primary_port=None, notify_port=None, **kw):
        super().__init__(*a, **kw)
        self.role, self.primary_port, self.notify_port = role, primary_port, notify_port

    def config(self):
        path = os.path.join(self.dir, "tandem.yaml")
        lines = ["server:", "  listen: [\"127.0.0.1@%d\"]" % self.port, "  data-dir: %s" % self.data_dir,
                 "  workers: %d" % self.workers,
                 "acls:", "  - name: local", "    address: [127.0.0.1]", "    allow: [transfer, notify]"]
        remotes = []
        if self.primary_port:
            remotes += ["  - name: primary", "    address: [127.0.0.1@%d]" % self.primary_port]
        if self.notify_port:
            remotes += ["  - name: secondary", "    address: [127.0.0.1@%d]" % self.notify_port]
        if remotes:
            lines += ["remotes:"] + remotes
        lines += ["zones:", "  - name: %s" % self.origin, "    type: %s" % self.role, "    acl: [local]"]
        if self.role == "primary":
            lines.append("    file: %s" % self.zone_file)
        else:
            lines.append("    primaries: [primary]")
        if self.notify_port:
            lines.append("    notify: [secondary]")
        return [self.binary, "-c", path], "\n".join(lines) + "\n", path

    def reload(self):
        os.kill(self.proc.pid, signal.SIGHUP)


class Knot(srv.Knot):
    """knotd with transfers allowed to 127.0.0.1; as a primary it journals the differences of a reloaded zone
    file (IXFR out), as a secondary it takes the zone from its primary."""

    def __init__(self, *a, role="primary", primary_port=None, notify_port=None, **kw):
        super().__init__(*a, **kw)
        self.role, self.primary_port, self.notify_port = role, primary_port, notify_port

    def config(self):
        path = os.path.join(self.dir, "knot.conf")
        d = self.dir
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        lines = ["server:", "  rundir: \"%s\"" % d, "  listen: 127.0.0.1@%d" % self.port,
                 "  udp-workers: %d" % self.workers, "  tcp-workers: %d" % self.workers,
                 "  background-workers: 1", "  tcp-reuseport: on",
                 "database:", "  storage: \"%s/db\"" % d,
                 "control:", "  listen: \"%s/knot.sock\"" % d,
                 "log:", "  - target: stderr", "    any: info",
                 "acl:", "  - id: local", "    address: 127.0.0.1", "    action: [transfer, notify]"]
        remotes = []
        if self.primary_port:
            remotes += ["  - id: primary", "    address: 127.0.0.1@%d" % self.primary_port]
        if self.notify_port:
            remotes += ["  - id: secondary", "    address: 127.0.0.1@%d" % self.notify_port]
        if remotes:
            lines += ["remote:"] + remotes
        lines += ["zone:", "  - domain: %s" % self.origin, "    acl: local", "    zonefile-sync: -1"]
        if self.role == "primary":
            lines += ["    file: \"%s\"" % self.zone_file]
            if self.notify_port:
                lines += ["    notify: secondary", "    journal-content: changes",
                          "    zonefile-load: difference"]
            else:
                lines += ["    journal-content: none"]
        else:
            lines += ["    file: \"%s/secondary.zone\"" % d, "    master: primary", "    journal-content: none"]
        return ["knotd", "-c", path], "\n".join(lines) + "\n", path

    def reload(self):
        subprocess.run(["knotc", "-s", os.path.join(self.dir, "knot.sock"), "zone-reload", self.origin],
                       capture_output=True, timeout=30)


class NSD(srv.NSD):
    """nsd with provide-xfr for 127.0.0.1."""

    def config(self):
        argv, text, path = super().config()
        return argv, text + "  provide-xfr: 127.0.0.1 NOKEY\n", path


def start(s, timeout, last=None):
    """Starts a server and waits for it to answer (for `last`, a (name, type) late in the zone file, when
    given: then the whole zone is loaded)."""
    s.start()
    LIVE.append(s)
    if s.wait_ready(timeout, *(last or ())) is None:
        tail = s.log_tail()
        stop(s)
        raise RuntimeError("%s did not start; log:\n%s" % (s.name, tail))
    return s


def stop(s):
    s.stop()
    if s in LIVE:
        LIVE.remove(s)


# ---------------------------------------------------------------------------------------------- phases

def phase_axfr(args, tmp, results):
    zone = os.path.join(tmp, "big.zone")
    log("axfr: writing a %d-record zone" % args.records)
    info = zonegen.generate(zone, ORIGIN, records=args.records)
    with open(zone, "rb") as f:   # warm the page cache for every server alike
        while f.read(1 << 20):
            pass
    made = {"tandem": lambda d, p: Tandem(d, zone, ORIGIN, p, binary=args.tandemd),
            "nsd": lambda d, p: NSD(d, zone, ORIGIN, p), "knot": lambda d, p: Knot(d, zone, ORIGIN, p)}
    live = {}
    for name in args.servers:
        s = made[name](os.path.join(tmp, "axfr-" + name), srv.free_port())
        log("axfr: starting %s" % name)
        start(s, 600, info["last"])
        live[name] = s
    out = {"records_in_zone_file": info["records"], "servers": {}}
    counts = {}
    for name, s in live.items():
        secs, records, nbytes = axfr(s.port)
        counts[name] = records
        out["servers"][name] = {"check_seconds": secs, "records": records, "bytes": nbytes, "rounds": []}
        log("axfr: %s complete: %d records, %.1f MB, %.2f s" % (name, records, nbytes / 1e6, secs))
    if len(set(counts.values())) != 1:
        out["warning"] = "the servers sent different record counts: %s" % counts
        log("axfr: WARNING " + out["warning"])
    order = list(live)
    for r in range(args.rounds):
        for name in order[r % len(order):] + order[:r % len(order)]:
            s = live[name]
            cpu0 = srv.tree_cpu(s.pid)
            secs, records, nbytes = axfr(s.port, expect=counts[name])
            cpu = srv.tree_cpu(s.pid) - cpu0
            out["servers"][name]["rounds"].append({"seconds": secs, "cpu": cpu})
            log("axfr: round %d %s %.3f s (server CPU %.2f s)" % (r + 1, name, secs, cpu))
    if shutil.which("kdig"):
        for name, s in live.items():
            t0 = time.monotonic()
            with open(os.devnull, "wb") as null:
                p = subprocess.run(["kdig", "@127.0.0.1", "-p", str(s.port), "+tcp", "AXFR", ORIGIN],
                                   stdout=null, stderr=subprocess.PIPE, timeout=600)
            out["servers"][name]["kdig_seconds"] = time.monotonic() - t0 if p.returncode == 0 else None
    for name, r in out["servers"].items():
        r["median_seconds"] = median([x["seconds"] for x in r["rounds"]])
        r["median_cpu"] = median([x["cpu"] for x in r["rounds"]])
    for s in list(live.values()):
        stop(s)
    results["axfr"] = out


def _bump(path, serial, n):
    """The operator's one-record change: serial raised, one A record added."""
    with open(path) as f:
        text = f.read()
    text = re.sub(r"(@ SOA ns1 hostmaster )(\d+)", lambda m: m.group(1) + str(serial), text, count=1)
    text += "change-%d A 192.0.2.%d\n" % (n, n % 250 + 1)
    with open(path, "w") as f:
        f.write(text)
    t = time.time() + 1
    os.utime(path, (t, t))   # a new mtime even within the same second


CHANGE_LINE = re.compile(r"change \d+ -> \d+: .*version made in ([\d.]+) ms \((\d+) KiB of its own, (\d+) KiB "
                         r"shared\), stored in ([\d.]+) ms")


def _change_lines(server):
    """Tandem's own account of each change it applied (change/change.c): ms to make the version, KiB of
    its own and shared, ms to store it."""
    try:
        with open(server.log_path, errors="replace") as f:
            return [tuple(float(x) for x in m.groups()) for m in CHANGE_LINE.finditer(f.read())]
    except (OSError, TypeError):
        return []


NOTIFY_GAP = 1.2   # seconds from one change served on the primary to the next round: past notify-delay (1 s)
POLL_SLEEP = 0.002   # seconds between two polls of the secondary's SOA
# One poll (the sleep, plus the query itself over loopback: a few tenths of a millisecond) is the resolution
# of the secondary's part: two figures under it (0.4 ms and 2.5 ms in one run, 2.5 ms and 0.4 ms in the
# next) are not told apart.
POLL_RESOLUTION_MS = 2.5


def phase_change(args, tmp, results):
    sizes = [int(x) for x in str(args.change_records).split(",")]
    results["change_sizes"] = {}
    for n in sizes:
        args.change_size = n
        phase_change_one(args, tmp, results)
        results["change_sizes"][n] = results.pop("change")


def phase_change_one(args, tmp, results):
    out = {}
    for kind, cls in (("tandem", Tandem), ("knot", Knot)):
        if kind not in args.servers:
            continue
        d = os.path.join(tmp, "change-%s-%d" % (kind, args.change_size))
        os.makedirs(d, exist_ok=True)
        zone = os.path.join(d, "primary.zone")
        zonegen.generate(zone, ORIGIN, records=args.change_size)
        pport, sport = srv.free_port(), srv.free_port()
        extra = {"binary": args.tandemd} if kind == "tandem" else {}
        p = cls(os.path.join(d, "primary"), zone, ORIGIN, pport, notify_port=sport, **extra)
        s = cls(os.path.join(d, "secondary"), zone, ORIGIN, sport, role="secondary", primary_port=pport,
                **extra)
        log("change: starting %s primary and secondary" % kind)
        start(p, 120)
        start(s, 120)
        serial = soa_serial(pport)
        rounds = []
        told = time.monotonic()   # when the primary last served a change (and so sent its NOTIFY)
        try:
            for r in range(args.change_rounds):
                serial = (serial + 1) % 2**32
                _bump(zone, serial, r)
                # Let the previous round's chatter settle, and start past Tandem's notify-delay (1 s) after
                # the last change was told: a change alone is told at once, the changes within that second
                # of one are held and told together (docs/behaviour.md), and this measures a change alone.
                time.sleep(max(0.3, told + NOTIFY_GAP - time.monotonic()))
                t0 = time.monotonic()
                p.reload()
                at_primary = at_secondary = None
                deadline = t0 + 30
                while time.monotonic() < deadline and at_secondary is None:
                    now = time.monotonic()
                    if at_primary is None and soa_serial(pport, 0.05) == serial:
                        at_primary = now - t0
                    if soa_serial(sport, 0.05) == serial:
                        at_secondary = time.monotonic() - t0
                        at_primary = at_primary if at_primary is not None else at_secondary
                        break
                    time.sleep(POLL_SLEEP)
                told = t0 + (at_primary if at_primary is not None else 0.0)
                rounds.append({"primary": at_primary, "secondary": at_secondary})
                log("change: %s round %d: primary %s, secondary %s" % (
                    kind, r + 1, "%.1f ms" % (at_primary * 1e3) if at_primary is not None else "-",
                    "%.1f ms" % (at_secondary * 1e3) if at_secondary is not None else "timeout"))
        finally:
            stop(s)
            stop(p)
        # The secondary's part: from the primary serving the serial to the secondary serving it
        # (NOTIFY, SOA query, IXFR, the change applied, stored and published).
        own = [x["secondary"] - x["primary"] for x in rounds
               if x["secondary"] is not None and x["primary"] is not None]
        lines = _change_lines(s) if kind == "tandem" else []
        out[kind] = {"rounds": rounds, "median_primary": median([x["primary"] for x in rounds]),
                     "median_secondary": median([x["secondary"] for x in rounds]),
                     "median_secondary_own": median(own),
                     "secondary_changes": [{"apply_ms": a, "own_kib": o, "shared_kib": sh, "store_ms": st}
                                           for a, o, sh, st in lines],
                     "zone_records": args.change_size}
    results["change"] = out


# ---------------------------------------------------------------------------------------------- report

def report(results):
    lines = []
    a = results.get("axfr")
    if a:
        lines.append("AXFR out of a %s-record zone (%d rounds, medians)" % (
            format(a["records_in_zone_file"], ","), len(next(iter(a["servers"].values()))["rounds"])))
        lines.append("  %-8s %10s %12s %10s %10s %12s" % ("server", "seconds", "records/s", "MB", "CPU s",
                                                         "kdig s"))
        for name, r in a["servers"].items():
            secs = r["median_seconds"]
            lines.append("  %-8s %10.3f %12s %10.1f %10.2f %12s" % (
                name, secs, format(int(r["records"] / secs), ","), r["bytes"] / 1e6, r["median_cpu"],
                "%.2f" % r["kdig_seconds"] if r.get("kdig_seconds") else "-"))
        if "tandem" in a["servers"] and "nsd" in a["servers"]:
            ratio = a["servers"]["tandem"]["median_seconds"] / a["servers"]["nsd"]["median_seconds"]
            lines.append("  target: AXFR no slower than NSD: tandem/nsd time %.2f: %s" % (
                ratio, "met" if ratio <= 1.0 else "not met"))
        if a.get("warning"):
            lines.append("  WARNING: " + a["warning"])
    sizes = results.get("change_sizes") or {}
    own_by_size = {}
    for size, c in sizes.items():
        lines.append("One-record change, %s-record zone (reload on the primary -> serial served; medians)" % format(
            int(size), ","))
        lines.append("  %-14s %15s %20s %18s %8s" % ("pair", "primary serves", "secondary serves",
                                                     "secondary's part", "timeouts"))
        for name, r in c.items():
            ms = [r["median_primary"], r["median_secondary"], r["median_secondary_own"]]
            lines.append("  %-14s %12s ms %17s ms %15s ms %8d" % (
                "%s->%s" % (name, name), *["%.1f" % (x * 1e3) if x is not None else "-" for x in ms],
                sum(1 for x in r["rounds"] if x["secondary"] is None)))
        t = c.get("tandem")
        if t and t["secondary_changes"]:
            ch = t["secondary_changes"]
            lines.append("  tandem secondary, per IXFR: version made in %.1f ms, stored in %.1f ms; the new "
                         "version's own pages %.0f KiB beside %.0f KiB shared (medians)" % (
                             median([x["apply_ms"] for x in ch]), median([x["store_ms"] for x in ch]),
                             median([x["own_kib"] for x in ch]), median([x["shared_kib"] for x in ch])))
        if t and t["median_secondary_own"] is not None:
            own_by_size[int(size)] = t["median_secondary_own"] * 1e3
    if own_by_size:
        small = own_by_size[min(own_by_size)]
        for size, v in sorted(own_by_size.items()):
            if size >= 100000:
                lines.append("  target: IXFR applied and served on the secondary under 20 ms and within 2x of the "
                             "%s-record figure (%.1f ms): %s records %.1f ms: %s" % (
                                 format(min(own_by_size), ","), small, format(size, ","), v,
                                 "met" if v < 20 and v <= 2 * max(small, POLL_RESOLUTION_MS) else "not met"))
        lines.append("  (the secondary is polled every %.1f ms or so: figures under that are not told apart, "
                     "and the 2x is taken of at least that much)" % POLL_RESOLUTION_MS)
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a 200,000-record zone and fewer rounds")
    ap.add_argument("--only", default="axfr,change", help="comma list of axfr, change")
    ap.add_argument("--servers", default="tandem,nsd,knot")
    ap.add_argument("--records", type=int, help="records in the AXFR zone (default 1000000; quick 200000)")
    ap.add_argument("--rounds", type=int, help="AXFR rounds (default 5; quick 2)")
    ap.add_argument("--change-records", default="10000,100000,1000000",
                    help="comma list of zone sizes for the change phase (quick: 10000,100000)")
    ap.add_argument("--change-rounds", type=int, help="changes per pair (default 9; quick 3)")
    ap.add_argument("--tandemd", default=os.path.join(ROOT, "build", "tandemd"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.records = args.records or (200000 if args.quick else 1000000)
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.change_rounds = args.change_rounds or (3 if args.quick else 9)
    if args.quick and args.change_records == ap.get_default("change_records"):
        args.change_records = "10000,100000"
    args.servers = [x for x in ("tandem", "nsd", "knot") if x in args.servers.split(",")]
    only = set(args.only.split(","))
    results = {"settings": vars(args).copy()}

    def measure(tmp):
        if "axfr" in only:
            phase_axfr(args, tmp, results)
        if "change" in only:
            phase_change(args, tmp, results)

    return runner.measured("xfr", args, results, measure, report, live=LIVE)


if __name__ == "__main__":
    sys.exit(main())
