#!/usr/bin/python3
"""bench/update.py -- RFC 2136 dynamic update throughput (issue 10): Tandem beside Knot DNS and BIND 9 in one run.

For each zone size (default 100,000 and 1,000,000 records, bench/zonegen.py's zone) and each server, in turn:
the server loads the zone from a file with one TSIG key allowed to update it; a client (dnspython, as the
issue measured) opens ONE TCP connection and sends --updates single-record UPDATEs (each adds one A record),
each waited for before the next. Reported: updates per second (the median of --rounds), the ratio to the best
of Knot and BIND, and a check that the last record added is served.

Settings, each server's own defaults for a zone kept in a file and changed by updates:
  tandem  the change path: one journal entry per update in the store, the zone file written back a second
          after the burst (docs/behaviour.md "Dynamic update");
  knot    journal-content: changes, zonefile-sync: 0 (Knot's defaults: the file flushed after every update);
  knot-j  journal-content: changes, zonefile-sync: -1 (journal only, the file never written back);
  bind    allow-update with the key: BIND's .jnl journal, the file dumped later (its default).

    /usr/bin/python3 bench/update.py [--quick] [--sizes 100000,1000000] [--updates 1000] [--rounds 3]

Only loopback, free ports; every wait is bounded; servers are stopped whatever happens. Nothing passes or
fails: a table on stdout, the data in bench/out/update-<time>.json.
"""

import argparse
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import servers as srv  # noqa: E402
import zonegen  # noqa: E402

ORIGIN = "bench.test."
KEY_NAME = "bench-update."
KEY_SECRET = base64.b64encode(os.urandom(32)).decode()
LIVE = []


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Tandem(srv.Tandem):
    def config(self):
        argv, text, path = super().config()
        text = text.replace("zones:\n", "keys:\n  - name: %s\n    algorithm: hmac-sha256\n    secret: \"%s\"\n"
                            "acls:\n  - name: upd\n    key: [%s]\n    allow: [update]\nzones:\n"
                            % (KEY_NAME, KEY_SECRET, KEY_NAME))
        text += "    acl: [upd]\n"
        with open(path, "w") as f:
            f.write(text)
        return argv, text, path


class Knot(srv.Knot):
    name = "knot"
    sync = "0"

    def config(self):
        os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)   # its journal and timers live there
        argv, text, path = super().config()
        text = text.replace("    zonefile-sync: -1\n    journal-content: none\n",
                            "    zonefile-sync: %s\n    journal-content: changes\n    acl: upd\n" % self.sync)
        text = text.replace("zone:\n", "key:\n  - id: %s\n    algorithm: hmac-sha256\n    secret: %s\n"
                            "acl:\n  - id: upd\n    key: %s\n    action: update\nzone:\n"
                            % (KEY_NAME, KEY_SECRET, KEY_NAME))
        return argv, text, path


class KnotJournal(Knot):
    name = "knot-j"
    sync = "-1"


class Bind(srv.Server):
    name = "bind"

    def config(self):
        d = self.dir
        path = os.path.join(d, "named.conf")
        text = "\n".join([
            "options {", '  directory "%s";' % d, '  pid-file "%s/named.pid";' % d,
            '  session-keyfile "%s/session.key";' % d, '  managed-keys-directory "%s";' % d,
            "  listen-on port %d { 127.0.0.1; };" % self.port, "  listen-on-v6 { none; };",
            "  recursion no;", "  dnssec-validation no;", "  notify no;", "  check-names primary ignore;",
            "  check-integrity no;", "};", "controls { };",
            'key "%s" { algorithm hmac-sha256; secret "%s"; };' % (KEY_NAME, KEY_SECRET),
            'zone "%s" { type primary; file "%s"; allow-update { key "%s"; }; };' % (
                self.origin, self.zone_file, KEY_NAME), ""])
        return ["/usr/sbin/named", "-g", "-n", str(self.workers), "-c", path], text, path


KINDS = {"tandem": Tandem, "knot": Knot, "knot-j": KnotJournal, "bind": Bind}


def run_updates(port, n, tag):
    """n single-record UPDATEs over one TCP connection, each waited for. Returns (seconds, failures,
    the client's own CPU seconds: building, signing and reading the messages)."""
    keyring = dns.tsigkeyring.from_text({KEY_NAME: KEY_SECRET})
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    failures = 0
    try:
        t0, c0 = time.monotonic(), time.process_time()
        for i in range(n):
            u = dns.update.UpdateMessage(ORIGIN, keyring=keyring, keyname=KEY_NAME,
                                         keyalgorithm=dns.name.from_text("hmac-sha256"))
            u.add("u%s-%d.%s" % (tag, i, ORIGIN), 300, "A", "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255,
                                                                           i & 255))
            r = dns.query.tcp(u, "127.0.0.1", port=port, timeout=30, sock=sock)
            if r.rcode() != dns.rcode.NOERROR:
                failures += 1
        return time.monotonic() - t0, failures, time.process_time() - c0
    finally:
        sock.close()


def served(port, name):
    q = dns.message.make_query(name, "A")
    try:
        r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=5)
        return r.rcode() == dns.rcode.NOERROR and len(r.answer) > 0
    except Exception:
        return False


def bench_one(kind, zone, size, args, tmp):
    d = os.path.join(tmp, "%s-%d" % (kind, size))
    os.makedirs(d, exist_ok=True)
    zfile = os.path.join(d, "zone")
    shutil.copyfile(zone, zfile)
    extra = {"binary": args.tandemd} if kind == "tandem" else {}
    s = KINDS[kind](d, zfile, ORIGIN, srv.free_port(), **extra)
    LIVE.append(s)
    s.start()
    try:
        if not s.wait_ready(600):
            raise RuntimeError("%s did not start: %s" % (kind, s.log_tail()))
        rates, failures, client = [], 0, []
        for r in range(args.rounds):
            secs, fails, cpu = run_updates(s.port, args.updates, "%d" % r)
            failures += fails
            rates.append(args.updates / secs)
            client.append(cpu / args.updates)
            log("update: %s %s records round %d: %.0f updates/s%s" % (
                kind, format(size, ","), r + 1, rates[-1], ", %d failed" % fails if fails else ""))
        ok = served(s.port, "u%d-%d.%s" % (args.rounds - 1, args.updates - 1, ORIGIN))
        return {"rates": rates, "median": statistics.median(rates), "failures": failures, "last_served": ok,
                "client_cpu_ms": statistics.median(client) * 1e3}
    finally:
        s.stop()
        LIVE.remove(s)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a 100,000-record zone, 300 updates, 1 round")
    ap.add_argument("--sizes", help="comma list of zone sizes (default 100000,1000000)")
    ap.add_argument("--updates", type=int)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--servers", default="tandem,knot,knot-j,bind")
    ap.add_argument("--tandemd", default=os.path.join(ROOT, "build", "tandemd"))
    args = ap.parse_args()
    sizes = [int(x) for x in (args.sizes or ("100000" if args.quick else "100000,1000000")).split(",")]
    args.updates = args.updates or (300 if args.quick else 1000)
    args.rounds = args.rounds or (1 if args.quick else 3)
    kinds = [k for k in args.servers.split(",") if k in KINDS]
    tmp = tempfile.mkdtemp(prefix="tandem-update-bench-")
    results = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "updates": args.updates, "rounds": args.rounds,
               "sizes": {}}
    status = 0
    try:
        for size in sizes:
            zone = os.path.join(tmp, "zone-%d" % size)
            zonegen.generate(zone, ORIGIN, records=size)
            results["sizes"][size] = {}
            for k in kinds:
                results["sizes"][size][k] = bench_one(k, zone, size, args, tmp)
    except KeyboardInterrupt:
        status = 130
    except Exception as e:
        log("error: %s" % e)
        results["error"] = str(e)
        status = 1
    finally:
        for s in list(LIVE):
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    lines = []
    for size, res in results["sizes"].items():
        lines.append("Sequential single-record UPDATEs over one TCP connection, %s-record zone (%d x %d, "
                     "medians)" % (format(size, ","), args.rounds, args.updates))
        lines.append("  %-8s %12s %10s %8s %16s" % ("server", "updates/s", "failed", "served",
                                                     "client CPU/update"))
        for k, r in res.items():
            lines.append("  %-8s %12.0f %10d %8s %13.3f ms" % (k, r["median"], r["failures"],
                                                             "yes" if r["last_served"] else "NO",
                                                             r["client_cpu_ms"]))
        peers = [r["median"] for k, r in res.items() if k in ("knot", "knot-j", "bind")]
        if "tandem" in res and peers:
            ratio = res["tandem"]["median"] / max(peers)
            lines.append("  target: at least 2x the best of Knot and BIND: tandem/best %.2f: %s" % (
                ratio, "met" if ratio >= 2 else "not met"))
            ceiling = 1e3 / res["tandem"]["client_cpu_ms"]
            lines.append("  the client alone (its CPU per update) allows at most %.0f updates/s: %.2fx the best "
                         "peer" % (ceiling, ceiling / max(peers)))
    text = "\n".join(lines)
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    path = os.path.join(HERE, "out", "update-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    results["report"] = text
    with open(path, "w") as f:
        json.dump(results, f, indent=1, default=str)
    print(text)
    print("\n(full data: %s)" % os.path.relpath(path, os.getcwd()))
    return status


if __name__ == "__main__":
    sys.exit(main())
