#!/usr/bin/python3
"""bench/zones.py -- many small zones from the configuration: Tandem, NSD and Knot DNS in the same run
(issue 9, "5. Many zones").

    /usr/bin/python3 bench/zones.py [--zones N] [--quick] [--servers tandem,nsd,knot] [--keep]

N zones (default 100,000; --quick 10,000) of 8 records each (SOA, two NS, two glue A, www A and AAAA, MX),
one file each, all named in each server's configuration. The files are synced and read once, and the first
server is started once untimed (a warm-up thrown away: the first server started otherwise paid a fifth more
CPU, whichever it was). Then for every server, in turn, from an empty data directory:

1. "first start": seconds from starting the server until the last zone of the configuration answers its
   SOA (NOERROR, AA, an answer); then every zone is checked to answer (a sweep of SOA queries, not timed: a
   server that answers the last zone before the others is timed until the sweep finds them all);
2. "PSS": the server's proportional set size once every zone answers (/proc/PID/smaps_rollup, the whole
   process tree);
3. "restart": stopped (SIGTERM) and started again: seconds until the last zone answers (Tandem from its
   store; NSD and Knot read their zone files again, as they do);
4. "reload, one file changed": the last zone's file gets a new www address and serial; the server is asked
   to reload (SIGHUP for Tandem and NSD, `knotc reload` for Knot); seconds until www of that zone answers
   with the new address;
5. "add one zone": a new zone file and its zone appended to the configuration; the server is asked to read
   its configuration again (SIGHUP for Tandem, `nsd-control reconfig` for NSD, `knotc reload` for Knot);
   seconds until the new zone answers its SOA. Then Tandem again with `POST /api/v1/reconfig` (`tandem
   reconfig`: the configuration applied without the zone-file pass a SIGHUP makes, as NSD's reconfig);
   NSD's and Knot's figures are repeated on that row;
6. Tandem only (NSD and Knot have no HTTP API): ten quick zones created through the API beside the others,
   then deleted, each call timed (medians, in milliseconds).

Everything runs on 127.0.0.1 on free ports in a temp dir, every wait is bounded, and the servers are stopped
whatever happens. Nothing passes or fails: the table (with each figure's ratio to NSD's and Knot's) goes to
stdout, progress to stderr, the data to bench/out/zones-<time>.json.
"""

import argparse
import json
import os
import random
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import servers as srv  # noqa: E402

LIVE = []
SUFFIX = "zones.test."


def log(msg):
    print("[zones] " + msg, file=sys.stderr, flush=True)


def zone_name(i):
    return "z%06d.%s" % (i, SUFFIX)


def zone_text(name, serial=1, www="192.0.2.80"):
    return ("$ORIGIN %s\n$TTL 3600\n"
            "@ SOA ns1 hostmaster %d 7200 900 1209600 300\n"
            "@ NS ns1\n@ NS ns2\n@ MX 10 mail.example.net.\n"
            "ns1 A 192.0.2.1\nns2 A 192.0.2.2\n"
            "www A %s\nwww AAAA 2001:db8::80\n") % (name, serial, www)


def write_zone(zdir, i, **kw):
    path = os.path.join(zdir, "z%06d.zone" % i)
    with open(path, "w") as f:
        f.write(zone_text(zone_name(i), **kw))
    return path


# ---------------------------------------------------------------------------------------------- wire

def _qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def _query(name, qtype, qid):
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + _qname(name) + struct.pack("!HH", qtype, 1)


def _answer_a(msg):
    """The first A record's address of an answer section, or None."""
    try:
        qd, an = struct.unpack("!HH", msg[4:8])
        pos = 12
        for _ in range(qd):
            pos = _skip(msg, pos) + 4
        for _ in range(an):
            pos = _skip(msg, pos)
            rtype, _, _, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
            pos += 10
            if rtype == 1 and rdlen == 4:
                return socket.inet_ntoa(msg[pos:pos + 4])
            pos += rdlen
    except (struct.error, IndexError):
        pass
    return None


def _skip(msg, pos):
    while True:
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += n + 1


def wait_a(port, name, want, timeout, proc):
    """Seconds until name's A is `want` (asked every 5 ms over UDP); None on timeout or when proc exits.
    Every reply waiting is read each time (a late one must not hide the next), and any reply with the
    new address counts: the server served it."""
    start = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        while time.monotonic() - start < timeout:
            if proc is not None and proc.poll() is not None:
                return None
            try:
                s.send(_query(name, 1, random.getrandbits(16)))
            except OSError:
                pass
            end = time.monotonic() + 0.005
            while True:
                left = end - time.monotonic()
                if left <= 0 or not select.select([s], [], [], left)[0]:
                    break
                try:
                    m = s.recv(4096)
                except OSError:
                    break
                if len(m) >= 12 and _answer_a(m) == want:
                    return time.monotonic() - start
        return None
    finally:
        s.close()


def sweep(port, names, timeout=120.0, window=256):
    """The names (of names) that do not answer their SOA with NOERROR, AA and an answer, after asking each
    (again while unanswered) until timeout. Raw wire: about 50,000 names a second."""
    wires = [_query(n, 6, i & 0xFFFF) for i, n in enumerate(names)]
    todo = list(range(len(names)))
    deadline = time.monotonic() + timeout
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    bad = []
    try:
        s.connect(("127.0.0.1", port))
        while todo and time.monotonic() < deadline:
            missing = []
            for start in range(0, len(todo), window):
                waiting = {todo[j] & 0xFFFF: todo[j] for j in range(start, min(start + window, len(todo)))}
                for i in waiting.values():
                    try:
                        s.send(wires[i])
                    except OSError:
                        pass
                end = min(deadline, time.monotonic() + 0.5)
                while waiting:
                    left = end - time.monotonic()
                    if left <= 0 or not select.select([s], [], [], left)[0]:
                        break
                    try:
                        m = s.recv(4096)
                    except OSError:
                        break
                    if len(m) < 12:
                        continue
                    rid, flags, _, an = struct.unpack("!HHHH", m[:8])
                    i = waiting.get(rid)
                    if i is None or m[12:12 + len(wires[i]) - 16] != wires[i][12:-4]:
                        continue
                    del waiting[rid]
                    if not (flags & 0x0400 and flags & 0xF == 0 and an > 0):
                        bad.append(names[i])
                missing += list(waiting.values())
            todo = missing
            if todo:
                time.sleep(0.05)
    finally:
        s.close()
    return bad + [names[i] for i in todo]


# ---------------------------------------------------------------------------------------------- servers

class Many:
    """One server of a kind with many zones: its configuration written from the zone list."""

    def __init__(self, kind, tmp, zdir, count, tandemd):
        self.kind = kind
        self.dir = os.path.join(tmp, kind)
        os.makedirs(self.dir, exist_ok=True)
        self.zdir = zdir
        self.zones = [(zone_name(i), os.path.join(zdir, "z%06d.zone" % i)) for i in range(count)]
        self.port = srv.free_port()
        self.http_port = srv.free_port() if kind == "tandem" else None
        self.tandemd = tandemd
        self.proc = None
        self.starts = 0
        self.conf_path = os.path.join(self.dir, {"tandem": "tandem.yaml", "nsd": "nsd.conf",
                                                 "knot": "knot.conf"}[kind])

    def write_conf(self):
        d = self.dir
        if self.kind == "tandem":
            head = ("server:\n  listen: [\"127.0.0.1@%d\"]\n  data-dir: %s/data\n  workers: 2\n"
                    "http:\n  listen: \"127.0.0.1@%d\"\nzones:\n") % (self.port, d, self.http_port)
            body = "".join("  - name: %s\n    type: primary\n    file: %s\n" % z for z in self.zones)
        elif self.kind == "nsd":
            head = ("server:\n  ip-address: 127.0.0.1\n  port: %d\n  do-ip6: no\n  server-count: 2\n"
                    "  reuseport: yes\n  rrl-ratelimit: 0\n  minimal-responses: yes\n  username: \"\"\n"
                    "  chroot: \"\"\n  zonesdir: \"%s\"\n  database: \"\"\n  zonelistfile: \"%s/zone.list\"\n"
                    "  xfrdfile: \"%s/xfrd.state\"\n  xfrdir: \"%s\"\n  pidfile: \"%s/nsd.pid\"\n"
                    "  logfile: \"%s/nsd.log\"\n  verbosity: 1\n  zonefiles-write: 0\n"
                    "remote-control:\n  control-enable: yes\n  control-interface: %s/nsd.sock\n") % (
                        self.port, d, d, d, d, d, d, d)
            body = "".join("zone:\n  name: %s\n  zonefile: \"%s\"\n" % z for z in self.zones)
        else:
            head = ("server:\n  rundir: \"%s\"\n  listen: 127.0.0.1@%d\n  udp-workers: 2\n  tcp-workers: 2\n"
                    "  background-workers: 1\n  tcp-reuseport: on\ncontrol:\n  listen: %s/knot.sock\n"
                    "database:\n  storage: \"%s/db\"\n"
                    "log:\n  - target: stderr\n    any: notice\n"
                    "template:\n  - id: default\n    zonefile-sync: -1\n    journal-content: none\n"
                    "zone:\n") % (d, self.port, d, d)
            body = "".join("  - domain: %s\n    file: \"%s\"\n" % z for z in self.zones)
        with open(self.conf_path, "w") as f:
            f.write(head + body)

    def argv(self):
        return {"tandem": [self.tandemd, "-c", self.conf_path],
                "nsd": ["nsd", "-d", "-c", self.conf_path],
                "knot": ["knotd", "-c", self.conf_path]}[self.kind]

    def start(self):
        self.starts += 1
        self.log_path = os.path.join(self.dir, "server-%d.log" % self.starts)
        with open(self.log_path, "wb") as logf:
            t0 = time.monotonic()
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                         start_new_session=True, cwd=self.dir)
        LIVE.append(self)
        return t0

    def stop(self, timeout=60):
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout)
            except (subprocess.TimeoutExpired, OSError):
                pass
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None
        if self in LIVE:
            LIVE.remove(self)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n=10):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def ask_reload(self, reconfig):
        if self.kind == "knot":
            subprocess.run(["knotc", "-c", self.conf_path, "-t", "300", "reload"], capture_output=True,
                           timeout=600)
        elif self.kind == "nsd" and reconfig:
            subprocess.run(["nsd-control", "-c", self.conf_path, "reconfig"], capture_output=True,
                           timeout=600)
        else:
            os.kill(self.proc.pid, signal.SIGHUP)


def wait_last(server, t0, timeout):
    """Seconds from t0 until the last configured zone answers its SOA; None on timeout or death."""
    left = timeout - (time.monotonic() - t0)
    took = srv.wait_answer(server.port, server.zones[-1][0], "SOA", left, server.proc, interval=0.01)
    return None if took is None else time.monotonic() - t0


def start_and_wait(server, timeout, what):
    t0 = server.start()
    took = wait_last(server, t0, timeout)
    if took is None:
        raise RuntimeError("%s: %s: the last zone did not answer within %.0f s\n%s" % (
            server.kind, what, timeout, server.tail()))
    names = [z[0] for z in server.zones]
    bad = sweep(server.port, names)
    if bad:
        raise RuntimeError("%s: %s: %d zones do not answer (%s ...)" % (server.kind, what, len(bad), bad[0]))
    return took


def reconfig(s, timeout):
    """Tandem: POST /api/v1/reconfig, which answers once the configuration is applied."""
    with open(os.path.join(s.dir, "data", "api.key")) as f:
        key = f.read().strip()
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1/reconfig" % s.http_port, data=b"", method="POST",
                                 headers={"X-API-Key": key})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        r.read()


def api_zones(s, count, timeout):
    """Tandem only (NSD and Knot have no HTTP API): ten quick zones created through the API beside the
    `count` zones, then deleted; each call timed (a 201 means committed and served: checked on the last),
    medians in milliseconds."""
    with open(os.path.join(s.dir, "data", "api.key")) as f:
        key = f.read().strip()
    base = "http://127.0.0.1:%d/api/v1/zones" % s.http_port

    def call(method, url, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"X-API-Key": key, "Content-Type": "application/json"})
        t = time.monotonic()
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
        return (time.monotonic() - t) * 1000.0

    names = [zone_name(count + 10 + i) for i in range(10)]
    made = [call("POST", base, {"name": n, "quick": {"nameservers": ["ns1." + n], "address": "192.0.2.1"}})
            for n in names]
    if srv.wait_answer(s.port, names[-1], "SOA", timeout, s.proc) is None:
        raise RuntimeError("tandem: a zone created through the API does not answer")
    gone = [call("DELETE", "%s/%s" % (base, n)) for n in names]
    return round(statistics.median(made), 1), round(statistics.median(gone), 1)


def run_one(kind, tmp, zdir, count, args):
    s = Many(kind, tmp, zdir, count, args.tandemd)
    out = {"server": kind, "zones": count}
    try:
        s.write_conf()
        log("%s: first start with %d zones" % (kind, count))
        out["first_start_s"] = round(start_and_wait(s, args.timeout, "first start"), 2)
        pss, rss, _ = srv.tree_mem(s.proc.pid)
        out["pss_mib"] = round(pss / 1024.0, 1)
        out["rss_mib"] = round(rss / 1024.0, 1)
        out["cpu_first_s"] = round(srv.tree_cpu(s.proc.pid), 2)
        log("%s: first start %.2f s, PSS %.1f MiB" % (kind, out["first_start_s"], out["pss_mib"]))
        s.stop()
        out["restart_s"] = round(start_and_wait(s, args.timeout, "restart"), 2)
        out["restart_pss_mib"] = round(srv.tree_mem(s.proc.pid)[0] / 1024.0, 1)
        log("%s: restart %.2f s, PSS %.1f MiB" % (kind, out["restart_s"], out["restart_pss_mib"]))
        # One zone file changed: the last one, so a server that goes through its zones in order is timed
        # to the end of its reload. The mtime moves at least a second so that no server misses it.
        last = count - 1
        path = write_zone(zdir, last, serial=2, www="192.0.2.%d" % (100 + s.starts))
        st = os.stat(path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        t0 = time.monotonic()
        s.ask_reload(False)
        took = wait_a(s.port, "www." + zone_name(last), "192.0.2.%d" % (100 + s.starts), args.timeout, s.proc)
        out["reload_one_changed_s"] = None if took is None else round(time.monotonic() - t0, 3)
        log("%s: reload after one file changed %s s" % (kind, out["reload_one_changed_s"]))
        # One zone added to the configuration.
        new = count + {"tandem": 0, "nsd": 1, "knot": 2}[kind]
        s.zones.append((zone_name(new), write_zone(zdir, new)))
        s.write_conf()
        t0 = time.monotonic()
        s.ask_reload(True)
        took = srv.wait_answer(s.port, zone_name(new), "SOA", args.timeout, s.proc)
        out["add_one_s"] = None if took is None else round(time.monotonic() - t0, 3)
        log("%s: one zone added %s s" % (kind, out["add_one_s"]))
        # The same without the zone-file pass: Tandem's reconfig (POST /api/v1/reconfig, what `tandem
        # reconfig` asks). NSD's figure above is that already (nsd-control reconfig), and Knot has
        # nothing lighter than its reload: their figures are repeated on this row.
        if kind == "tandem":
            new = count + 3
            s.zones.append((zone_name(new), write_zone(zdir, new)))
            s.write_conf()
            t0 = time.monotonic()
            reconfig(s, args.timeout)
            took = srv.wait_answer(s.port, zone_name(new), "SOA", args.timeout, s.proc)
            out["add_one_reconfig_s"] = None if took is None else round(time.monotonic() - t0, 3)
            log("%s: one zone added by reconfig %s s" % (kind, out["add_one_reconfig_s"]))
        else:
            out["add_one_reconfig_s"] = out["add_one_s"]
        if kind == "tandem":
            out["api_create_ms"], out["api_delete_ms"] = api_zones(s, count, args.timeout)
            log("%s: a zone created through the API %.1f ms, deleted %.1f ms (medians of 10)"
                % (kind, out["api_create_ms"], out["api_delete_ms"]))
        out["pss_end_mib"] = round(srv.tree_mem(s.proc.pid)[0] / 1024.0, 1)
    finally:
        s.stop()
        # The last zone's file is written back for the next server.
        write_zone(zdir, count - 1)
    return out


FIGURES = [("first_start_s", "first start to the last zone answering (s)"),
           ("pss_mib", "PSS, all zones answering (MiB)"),
           ("restart_s", "restart to the last zone answering (s)"),
           ("restart_pss_mib", "PSS after the restart (MiB)"),
           ("reload_one_changed_s", "reload, one zone file changed (s)"),
           ("add_one_s", "one zone added to the configuration (s)"),
           ("add_one_reconfig_s", "... with Tandem's reconfig (s)"),
           ("api_create_ms", "one zone created through the API (ms)"),
           ("api_delete_ms", "one zone deleted through the API (ms)")]


def ratio(a, b):
    return "%.2fx" % (a / b) if a is not None and b else "-"


def report(results, count):
    by = {r["server"]: r for r in results}
    print("%d zones of 8 records from the configuration (bench/zones.py)" % count)
    cols = [k for k in ("tandem", "nsd", "knot") if k in by]
    head = "%-44s" % "" + "".join("%10s" % c for c in cols)
    if "tandem" in by:
        head += "".join("%12s" % ("T/" + c) for c in cols if c != "tandem")
    print(head)
    for key, label in FIGURES:
        line = "%-44s" % label + "".join("%10s" % by[c].get(key) for c in cols)
        if "tandem" in by:
            line += "".join("%12s" % ratio(by["tandem"].get(key), by[c].get(key)) for c in cols if c != "tandem")
        print(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zones", type=int, help="zones (default 100000; quick 10000)")
    ap.add_argument("--quick", action="store_true", help="10,000 zones")
    ap.add_argument("--servers", default="tandem,nsd,knot")
    ap.add_argument("--tandemd", default=os.path.join(ROOT, "build", "tandemd"))
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds any one wait may take")
    ap.add_argument("--out", help="JSON file (default bench/out/zones-<time>.json)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--workers", type=int, default=2, help="accepted for bench/run.py; always 2")
    args = ap.parse_args()
    count = args.zones or (10000 if args.quick else 100000)
    kinds = [k.strip() for k in args.servers.split(",") if k.strip()]
    tmp = tempfile.mkdtemp(prefix="tandem-zones-bench-")
    results = []
    status = 0
    old = signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        zdir = os.path.join(tmp, "zones")
        os.makedirs(zdir)
        log("writing %d zone files" % count)
        for i in range(count):
            write_zone(zdir, i)
        # Files written just now look "possibly changed since read" to a server comparing mtimes with
        # its own clock: give them an mtime in the past, as zone files usually have.
        past = time.time() - 3600
        for i in range(count):
            os.utime(os.path.join(zdir, "z%06d.zone" % i), (past, past))
        # The files on disk and every one read once: otherwise the first server started pays for
        # their writeback and for reading back what the page cache let go (on this machine a few
        # percent of 100,000 fresh files), and the same servers differed by a third with their order
        # swapped (Tandem 0.64x NSD's first start when NSD went first, 1.07x when Tandem did).
        os.sync()
        for i in range(count):
            with open(os.path.join(zdir, "z%06d.zone" % i), "rb") as f:
                f.read()
        # Setting the mtime changed the change time: let that age too (Tandem trusts neither when it
        # is under 2 s old, and would read such files again at the restart).
        time.sleep(3)
        # A first start of the first server, not timed, thrown away: whichever server came first used
        # a fifth more CPU on its first start than it did in second place, files warm or not (Tandem
        # 6.1-6.7 CPU-seconds first, 4.8-5.5 second; NSD 5.2-5.9 and 4.3-4.9), so that the order of
        # --servers decided the ratio.
        if kinds:
            warm = Many(kinds[0], os.path.join(tmp, "warm-up"), zdir, count, args.tandemd)
            try:
                warm.write_conf()
                log("%s: a first start to warm up, not timed" % kinds[0])
                start_and_wait(warm, args.timeout, "warm-up")
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                log("%s: warm-up failed: %s" % (kinds[0], e))
            finally:
                warm.stop()
                shutil.rmtree(warm.dir, ignore_errors=True)
        for kind in kinds:
            try:
                results.append(run_one(kind, tmp, zdir, count, args))
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                log("%s: failed: %s" % (kind, e))
                results.append({"server": kind, "zones": count, "error": str(e)})
                status = 1
    finally:
        for s in list(LIVE):
            s.stop()
        signal.signal(signal.SIGTERM, old)
        if args.keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    report(results, count)
    path = args.out
    if path is None:
        os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
        path = os.path.join(HERE, "out", "zones-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    with open(path, "w") as f:
        json.dump({"zones": count, "results": results}, f, indent=1)
    log("figures in %s" % path)
    return status


if __name__ == "__main__":
    sys.exit(main())
