#!/usr/bin/python3
"""tests/soak/soak.py -- a long run under mixed load (issue 8): does Tandem stay steady and lose nothing?

    /usr/bin/python3 tests/soak/soak.py [--minutes 30] [--kill-every 60] [--qps 2000] [--keep]

Two tandemd on loopback, the seed's setup: a primary on 127.0.0.1 and a secondary on 127.0.0.2 that
consumes the primary's catalog. For the whole run:
- queries: dnsperf sends UDP (and a second dnsperf TCP) questions to the secondary at a fixed rate, a mix
  of names that exist, names that do not and a wildcard;
- IXFR churn: every 2 s the primary's zone file changes a few records and the primary is reloaded (SIGHUP),
  so the secondary follows by NOTIFY and IXFR;
- catalog churn: every 10 s a member zone is added to or removed from the primary's catalog;
- SIGKILL: every --kill-every seconds the secondary is killed in the middle of all that; its store must pass
  `PRAGMA integrity_check`, and once restarted it must serve at least the serial it served before the kill
  (the last committed version, never an older one) and every catalog member it had.
At the end: the primary's RSS must be steady after the first minutes (the last sample within 10% + 4 MiB of
the sample at minute 3), no error may be logged by either server (warnings from the kills are expected and
listed), and every check above must have held. The summary goes to stdout and to --out (JSON); the exit
code is 0 only when everything held.
"""

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import dns.flags  # noqa: E402
import dns.rcode  # noqa: E402

from catalog_util import SHARED_MEMBER, TandemC, catalog_text, wait_for, write_file  # noqa: E402
from harness import dnsq  # noqa: E402

ZONE = "churn.test."
CAT = "cat.soak."
PRIMARY, SECONDARY = "127.0.0.1", "127.0.0.2"


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def churn_text(serial, extra):
    lines = ["$ORIGIN %s" % ZONE, "$TTL 300", "@ SOA ns1 hostmaster %d 3600 600 604800 300" % serial,
             "@ NS ns1", "ns1 A 192.0.2.1", "* A 192.0.2.9"]
    lines += ["host%d A 192.0.2.%d" % (i, i % 250 + 1) for i in range(2000)]
    lines += extra
    return "\n".join(lines) + "\n"


class Soak:
    def __init__(self, args, work):
        self.args, self.work = args, Path(work)
        self.serial = 1
        self.extra = []
        self.members = {}          # zone -> unique id
        self.next_member = 0
        self.log = []              # problems found
        self.checks = {"kills": 0, "integrity_ok": 0, "restart_ok": 0}
        self.rss = []              # (seconds, primary KiB, secondary KiB)
        zones = self.work / "zones"
        zones.mkdir(parents=True)
        write_file(zones / "churn.test.zone", churn_text(self.serial, self.extra))
        write_file(zones / "member.zone", SHARED_MEMBER)
        self.write_catalog()
        self.p = TandemC(self.work, "primary", self.primary_conf, addr=PRIMARY, ready_zones=[ZONE, CAT])
        self.s = TandemC(self.work, "secondary", self.secondary_conf, addr=SECONDARY)

    # configurations (written as JSON, which tandemd's YAML reader takes)
    def primary_conf(self, t):
        zones = [{"name": ZONE, "type": "primary", "file": str(self.work / "zones/churn.test.zone"),
                  "notify": ["s"], "acl": ["s"]},
                 {"name": CAT, "type": "primary", "file": str(self.work / "zones/cat.zone"),
                  "notify": ["s"], "acl": ["s"]}]
        zones += [{"name": m, "type": "primary", "file": str(self.work / "zones/member.zone"),
                   "notify": ["s"], "acl": ["s"]} for m in sorted(self.members)]
        return {"server": t.server_section(source=True), "http": t.http_section(),
                "remotes": [{"name": "s", "address": ["%s@%d" % (SECONDARY, self.s.port)]}],
                "acls": [{"name": "s", "address": [SECONDARY], "allow": ["transfer"]}],
                "zones": zones}

    def secondary_conf(self, t):
        return {"server": t.server_section(source=True), "http": t.http_section(),
                "remotes": [{"name": "p", "address": ["%s@%d" % (PRIMARY, self.p.port)]}],
                "acls": [{"name": "p", "address": [PRIMARY], "allow": ["notify"]}],
                "zones": [{"name": ZONE, "type": "secondary", "primaries": ["p"], "acl": ["p"]},
                          {"name": CAT, "type": "secondary", "catalog": "consume", "primaries": ["p"],
                           "acl": ["p"]}]}

    def write_catalog(self):
        members = [(m, uid) for m, uid in sorted(self.members.items())]
        write_file(self.work / "zones/cat.zone", catalog_text(CAT, self.serial, members))

    # churn
    def change_zone(self):
        self.serial += 1
        name = "churn%d" % random.randrange(50)
        line = "%s A 198.51.100.%d" % (name, random.randrange(1, 250))
        self.extra = [x for x in self.extra if not x.startswith(name + " ")] + [line]
        write_file(self.work / "zones/churn.test.zone", churn_text(self.serial, self.extra))
        self.p.reload()

    def change_catalog(self):
        self.serial += 1
        if self.members and (len(self.members) >= 20 or random.random() < 0.4):
            del self.members[random.choice(sorted(self.members))]
        else:
            name = "m%04d.soak." % self.next_member
            self.members[name] = "id%d" % self.next_member
            self.next_member += 1
        self.write_catalog()
        self.p.rewrite()
        self.p.reload()

    def served_serial(self, server, zone):
        r = dnsq.ask(server, zone, "SOA", timeout=1.0)
        if r.rcode() != dns.rcode.NOERROR or not r.answer:
            return None
        return r.answer[0][0].serial

    def kill_secondary(self):
        before = self.served_serial(self.s, ZONE)
        members_before = {m for m in self.members if self.served_serial(self.s, m) is not None}
        self.s.kill()
        self.checks["kills"] += 1
        c = sqlite3.connect(str(self.s.db()))
        try:
            ok = c.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            c.close()
        if ok == "ok":
            self.checks["integrity_ok"] += 1
        else:
            self.log.append("integrity_check after kill %d: %s" % (self.checks["kills"], ok))
        self.s.start()
        self.s.wait_ready()
        after = wait_for("the secondary serves %s again" % ZONE, lambda: self.served_serial(self.s, ZONE), 10)
        gone = {m for m in members_before if m in self.members and self.served_serial(self.s, m) is None}
        if before is not None and after < before:
            self.log.append("kill %d: served serial %s before, %s after the restart" % (
                self.checks["kills"], before, after))
        elif gone:
            self.log.append("kill %d: members not served after the restart: %s" % (
                self.checks["kills"], sorted(gone)))
        else:
            self.checks["restart_ok"] += 1

    def queries(self):
        path = self.work / "queries.txt"
        names = ["host%d.%s A" % (i, ZONE) for i in range(0, 2000, 7)]
        names += ["nx%d.nothere.%s A" % (i, ZONE) for i in range(50)]
        names += ["x%d.%s A" % (i, ZONE) for i in range(50)]   # the wildcard
        path.write_text("\n".join(names) + "\n")
        return path

    def start_load(self):
        if not shutil.which("dnsperf"):
            self.log.append("dnsperf missing: no query load")
            return []
        q = self.queries()
        secs = str(int(self.args.minutes * 60) + 60)
        base = ["dnsperf", "-s", SECONDARY, "-p", str(self.s.port), "-d", str(q), "-l", secs]
        udp = subprocess.Popen(base + ["-Q", str(self.args.qps)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        tcp = subprocess.Popen(base + ["-m", "tcp", "-Q", str(max(1, self.args.qps // 4))],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return [udp, tcp]

    def errors(self, server):
        text = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
        return [ln for ln in text.splitlines() if " error: " in ln]

    def run(self):
        self.p.start()
        self.p.wait_ready()
        self.s.start()
        self.s.wait_ready()
        wait_for("the secondary has the zone", lambda: self.served_serial(self.s, ZONE) == self.serial, 30)
        load = self.start_load()
        start = time.monotonic()
        end = start + self.args.minutes * 60
        next_zone = next_cat = next_rss = start
        next_kill = start + self.args.kill_every
        try:
            while time.monotonic() < end:
                now = time.monotonic()
                if now >= next_zone:
                    self.change_zone()
                    next_zone += 2
                if now >= next_cat:
                    self.change_catalog()
                    next_cat += 10
                if now >= next_rss:
                    self.rss.append((round(now - start), rss_kib(self.p.pid), rss_kib(self.s.pid)))
                    next_rss += 10
                if now >= next_kill:
                    self.kill_secondary()
                    next_kill += self.args.kill_every
                time.sleep(0.2)
            # the end: the secondary catches up with the last change
            wait_for("the secondary reaches serial %d" % self.serial,
                     lambda: self.served_serial(self.s, ZONE) == self.serial, 30)
        finally:
            for p in load:
                p.terminate()
            for p in load:
                p.wait(10)
        return self.summary()

    def summary(self):
        ok = True
        base = [r for r in self.rss if r[0] >= 180] or self.rss
        first, last = base[0][1], self.rss[-1][1]
        steady = last <= first * 1.10 + 4096
        if not steady:
            self.log.append("primary RSS grew from %d KiB (minute 3) to %d KiB" % (first, last))
        errors = {"primary": self.errors(self.p), "secondary": self.errors(self.s)}
        for who, lines in errors.items():
            if lines:
                self.log.append("%s logged %d error lines, first: %s" % (who, len(lines), lines[0]))
        ok = not self.log
        return {"ok": ok, "minutes": self.args.minutes, "serial": self.serial, "checks": self.checks,
                "rss_kib": self.rss, "problems": self.log, "members": len(self.members)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--kill-every", type=float, default=60)
    ap.add_argument("--qps", type=int, default=2000)
    ap.add_argument("--out", default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tandem-soak-")
    soak = Soak(args, work)
    try:
        result = soak.run()
    finally:
        for s in (soak.s, soak.p):
            try:
                s.stop()
            except Exception:
                pass
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
