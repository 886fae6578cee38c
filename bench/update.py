#!/usr/bin/python3
"""bench/update.py -- RFC 2136 dynamic update throughput (issue 10): Tandem beside Knot DNS and BIND 9 in one run.

For each zone size (default 100,000 and 1,000,000 records, bench/zonegen.py's zone) and each server, in turn:
the server loads the zone from a file with one TSIG key allowed to update it; a client opens ONE TCP connection
and sends --updates single-record UPDATEs (each adds one A record, a distinct name), each waited for before the
next; no update is sent after --round-limit seconds (a server that takes longer is measured on those it
answered). Reported: updates per second (the median of --rounds), the ratio to the best of Knot and BIND, a
check that the last record added is served, the server's CPU per update (the time on a CPU of every thread of
its process tree over a round, from /proc/PID/task/TID/schedstat, in nanoseconds: steadier than the rate on a
shared machine, where a change of a few percent is lost in the noise of the rate), and the slowest single update of all rounds (a server that stalls now and
then, for a compaction or a zone file flush, shows there). For Tandem also its compactions over the server's
run, from its log (count, changes folded, milliseconds): one per max(1,000, records/50) changes, so the rounds
at 100,000 records hold one or two and those at 1,000,000 none; the cost per change is printed beside the rates.

The client (--client; "c,dnspython" runs both against each server, started once): "c" (the default),
bench/updclient.c, compiled here with cc against build/libtandem.a (its message writer and TSIG) into the
run's temp dir: about 0.03 ms of CPU per update, a tenth of what any server here spends, so the figure is the
server's; "dnspython" (the issue's first measurement), about 0.5 ms of CPU per update, which caps every
server near 2,000/s. Both sign with hmac-sha256 and check each answer's id and rcode; the C client also
verifies each answer's TSIG. The report names the client and its own CPU per update.

Settings, each server's own defaults for a zone kept in a file and changed by updates:
  tandem  the change path: one journal entry per update in the store, the zone file written back a second
          after the burst (docs/behaviour.md "Dynamic update");
  knot    journal-content: changes, zonefile-sync: 0 (Knot's defaults: the file flushed after every update);
  knot-j  journal-content: changes, zonefile-sync: -1 (journal only, the file never written back);
  bind    allow-update with the key: BIND's .jnl journal, the file dumped later (its default).

    /usr/bin/python3 bench/update.py [--quick] [--sizes 100000,1000000] [--updates 1000] [--rounds 3]
                                     [--client c|dnspython|c,dnspython] [--round-limit 30]
                                     [--servers tandem,knot,knot-j,bind] [--tandemd PATH]
                                     [--baseline OTHER/tandemd]   (another build as server "baseline")

Only loopback, free ports; every wait is bounded; servers are stopped whatever happens. Nothing passes or
fails: a table on stdout, the data in bench/out/update-<time>.json.
"""

import argparse
import base64
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
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

import run as runner  # noqa: E402  (bench/run.py: the frame a run goes in)
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


KINDS = {"tandem": Tandem, "knot": Knot, "knot-j": KnotJournal, "bind": Bind, "baseline": Tandem}
PKGS = "libcrypto"   # what updclient.c needs of libtandem.a's dependencies (tsig_openssl.c)


def build_client(tmp, build):
    """bench/updclient.c compiled against build/libtandem.a into tmp; returns the binary's path."""
    lib = os.path.join(build, "libtandem.a")
    if not os.path.exists(lib):
        raise RuntimeError("%s missing: run make first" % lib)
    libs = subprocess.run(["pkg-config", "--libs", PKGS], capture_output=True, text=True,
                          check=True).stdout.split()
    out = os.path.join(tmp, "updclient")
    cc = os.environ.get("CC", "cc")
    p = subprocess.run([cc, "-O2", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                        "-I" + os.path.join(ROOT, "src"), "-o", out, os.path.join(HERE, "updclient.c"), lib]
                       + libs + ["-pthread"], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("%s bench/updclient.c failed: %s%s" % (cc, p.stdout, p.stderr))
    return out


def run_updates_c(binary, port, n, tag, limit):
    """bench/updclient.c: the same exchange as run_updates, timed and CPU-counted by the client itself.
    Returns (updates answered, seconds, failures, the client's CPU seconds, the slowest update in ms)."""
    secret = base64.b64decode(KEY_SECRET).hex()
    p = subprocess.run([binary, "127.0.0.1", str(port), ORIGIN, KEY_NAME, "hmac-sha256", secret, str(n), tag,
                        "30", str(limit)], capture_output=True, text=True, timeout=limit + 120)
    try:
        r = json.loads(p.stdout)
    except ValueError:
        raise RuntimeError("updclient: exit %d, %s%s" % (p.returncode, p.stdout, p.stderr))
    if r["failures"]:
        log("update: client: %d of %d failed, first: %s" % (r["failures"], r["answered"], r["why"]))
    if r["stopped"] == "error":   # the stream broke: no rate to report
        raise RuntimeError("updclient stopped after %d of %d updates: %s" % (r["answered"], n, r["why"]))
    return r["answered"], r["seconds"], r["failures"], r["cpu_seconds"], r["slowest_ms"]


def run_updates_py(port, n, tag, limit):
    """n single-record UPDATEs over one TCP connection, each waited for (dnspython), none sent after limit
    seconds. Returns (updates answered, seconds, failures, the client's own CPU seconds: building, signing
    and reading the messages), the slowest update in ms)."""
    keyring = dns.tsigkeyring.from_text({KEY_NAME: KEY_SECRET})
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    failures = 0
    try:
        t0, c0 = time.monotonic(), time.process_time()
        i, slowest = 0, 0.0
        while i < n and time.monotonic() - t0 < limit:
            a = time.monotonic()
            u = dns.update.UpdateMessage(ORIGIN, keyring=keyring, keyname=KEY_NAME,
                                         keyalgorithm=dns.name.from_text("hmac-sha256"))
            u.add("u%s-%d.%s" % (tag, i, ORIGIN), 300, "A", "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255,
                                                                           i & 255))
            r = dns.query.tcp(u, "127.0.0.1", port=port, timeout=30, sock=sock)
            if r.rcode() != dns.rcode.NOERROR:
                failures += 1
            slowest = max(slowest, (time.monotonic() - a) * 1e3)
            i += 1
        return i, time.monotonic() - t0, failures, time.process_time() - c0, slowest
    finally:
        sock.close()


def served(port, name):
    q = dns.message.make_query(name, "A")
    try:
        r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=5)
        return r.rcode() == dns.rcode.NOERROR and len(r.answer) > 0
    except Exception:
        return False


FOLDED = re.compile(rb"store: (\d+) changes folded into the contents at serial \d+, (\d+) ms")


def compactions(log_path):
    """Tandem's compactions over the server's whole run, from its log: how many, the changes they folded
    and their milliseconds. A compaction rewrites the zone once every max(1,000, records/50) changes, so
    at 1,000,000 records none falls inside the rounds; its cost per change is reported beside the rate."""
    try:
        with open(log_path, "rb") as f:
            found = FOLDED.findall(f.read())
    except OSError:
        found = []
    return {"count": len(found), "changes": sum(int(c) for c, _ in found), "ms": sum(int(m) for _, m in found)}


def bench_one(kind, zone, size, args, tmp):
    """One server started on a copy of the zone; every client's rounds run against it in turn. Returns
    {client: figures}."""
    d = os.path.join(tmp, "%s-%d" % (kind, size))
    os.makedirs(d, exist_ok=True)
    zfile = os.path.join(d, "zone")
    shutil.copyfile(zone, zfile)
    extra = {"binary": args.tandemd} if kind == "tandem" else {"binary": args.baseline} if kind == "baseline" \
        else {}
    s = KINDS[kind](d, zfile, ORIGIN, srv.free_port(), **extra)
    s.name = kind
    LIVE.append(s)
    s.start()
    try:
        if not s.wait_ready(600):
            raise RuntimeError("%s did not start: %s" % (kind, s.log_tail()))
        out = {}
        for client in args.clients:
            rates, failures, cpu_per, answered, slowest, server_cpu = [], 0, [], [], 0.0, []
            for r in range(args.rounds):
                tag = "%s%d" % (client[0], r)
                cpu0 = srv.tree_cpu_ns(s.pid)
                if client == "c":
                    done, secs, fails, cpu, slow = run_updates_c(args.client_binary, s.port, args.updates,
                                                                 tag, args.round_limit)
                else:
                    done, secs, fails, cpu, slow = run_updates_py(s.port, args.updates, tag, args.round_limit)
                server_cpu.append((srv.tree_cpu_ns(s.pid) - cpu0) / done if done else 0.0)
                slowest = max(slowest, slow)
                failures += fails
                answered.append(done)
                rates.append(done / secs if secs > 0 else 0.0)
                cpu_per.append(cpu / done if done else 0.0)
                log("update: %s %s records, client %s, round %d: %.0f updates/s (%d updates)%s" % (
                    kind, format(size, ","), client, r + 1, rates[-1], done,
                    ", %d failed" % fails if fails else ""))
            ok = served(s.port, "u%s%d-%d.%s" % (client[0], args.rounds - 1, answered[-1] - 1, ORIGIN))
            out[client] = {"rates": rates, "answered": answered, "median": statistics.median(rates),
                           "failures": failures, "last_served": ok,
                           "client_cpu_ms": statistics.median(cpu_per) * 1e3, "slowest_ms": slowest,
                           "server_cpu_us": statistics.median(server_cpu) * 1e6}
        if kind in ("tandem", "baseline"):
            for figures in out.values():
                figures["compactions"] = compactions(s.log_path)
        return out
    finally:
        s.stop()
        LIVE.remove(s)


def report(size, client, res, args):
    lines = ["Sequential single-record UPDATEs over one TCP connection, %s-record zone (%d rounds of %d, at most "
             "%d s each; medians), client %s" % (format(size, ","), args.rounds, args.updates, args.round_limit,
                                                 "bench/updclient.c" if client == "c" else "dnspython"),
             "  %-8s %12s %9s %10s %8s %18s %18s %14s" % ("server", "updates/s", "updates", "failed", "served",
                                                          "server CPU/update", "client CPU/update",
                                                          "slowest one")]
    for k, r in res.items():
        lines.append("  %-8s %12.0f %9d %10d %8s %15.0f us %15.4f ms %11.1f ms" % (
            k, r["median"], min(r["answered"]), r["failures"], "yes" if r["last_served"] else "NO",
            r.get("server_cpu_us", 0.0), r["client_cpu_ms"], r["slowest_ms"]))
    peers = [r["median"] for k, r in res.items() if k in ("knot", "knot-j", "bind")]
    for k in ("tandem", "baseline"):
        if k in res and peers:
            ratio = res[k]["median"] / max(peers)
            lines.append("  target: at least 2x the best of Knot and BIND: %s/best %.2f: %s" % (
                k, ratio, "met" if ratio >= 2 else "not met"))
    for k in ("tandem", "baseline"):
        c = res.get(k, {}).get("compactions")
        if c and c["count"]:
            lines.append("  %s: %d compaction(s) in the server's run (all clients): %d changes folded in %d ms, %.0f us "
                         "per change" % (k, c["count"], c["changes"], c["ms"], 1e3 * c["ms"] / max(c["changes"], 1)))
        elif c is not None:
            lines.append("  %s: no compaction in the server's run (one per max(1,000, records/50) changes): its "
                         "cost per change is not in these rates" % k)
    if "tandem" in res and peers and res["tandem"]["client_cpu_ms"] > 0:
        ceiling = 1e3 / res["tandem"]["client_cpu_ms"]
        lines.append("  the client alone (its CPU per update) allows at most %.0f updates/s: %.2fx the best peer"
                     % (ceiling, ceiling / max(peers)))
    return lines + [""]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a 100,000-record zone, 300 updates, 1 round")
    ap.add_argument("--sizes", help="comma list of zone sizes (default 100000,1000000)")
    ap.add_argument("--updates", type=int)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--servers", default="tandem,knot,knot-j,bind")
    ap.add_argument("--tandemd", default=os.path.join(ROOT, "build", "tandemd"))
    ap.add_argument("--baseline", help="another tandemd, run as server 'baseline' (a change's effect, one run)")
    ap.add_argument("--client", default="c",
                    help="c (bench/updclient.c, the default), dnspython, or both: c,dnspython (each server "
                         "started once, the clients' rounds in turn)")
    ap.add_argument("--round-limit", type=int, default=30,
                    help="no update sent after this many seconds of a round (default 30): a slow server's "
                         "rate is taken over the updates it answered")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="where libtandem.a is (for --client c)")
    args = ap.parse_args()
    if args.baseline and "baseline" not in args.servers.split(","):
        args.servers = args.servers.replace("tandem", "tandem,baseline", 1)
    sizes = [int(x) for x in (args.sizes or ("100000" if args.quick else "100000,1000000")).split(",")]
    args.updates = args.updates or (300 if args.quick else 1000)
    args.rounds = args.rounds or (1 if args.quick else 3)
    kinds = [k for k in args.servers.split(",") if k in KINDS]
    args.clients = [c for c in args.client.split(",") if c]
    if not args.clients or any(c not in ("c", "dnspython") for c in args.clients):
        ap.error("--client: c, dnspython or c,dnspython")
    results = {"updates": args.updates, "rounds": args.rounds, "clients": args.clients,
               "round_limit": args.round_limit, "sizes": {}}

    def measure(tmp):
        if "c" in args.clients:
            args.client_binary = build_client(tmp, args.build)
        for size in sizes:
            zone = os.path.join(tmp, "zone-%d" % size)
            zonegen.generate(zone, ORIGIN, records=size)
            results["sizes"][size] = {}
            for k in kinds:
                for client, figures in bench_one(k, zone, size, args, tmp).items():
                    results["sizes"][size].setdefault(client, {})[k] = figures

    def report_all(res):
        lines = []
        for size, by_client in res["sizes"].items():
            for client, figures in by_client.items():
                lines += report(size, client, figures, args)
        return "\n".join(lines)

    return runner.measured("update", args, results, measure, report_all, live=LIVE)


if __name__ == "__main__":
    sys.exit(main())
