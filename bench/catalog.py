#!/usr/bin/python3
"""bench/catalog.py -- 10,000 zones provisioned through an RFC 9432 catalog: Tandem and Knot DNS 3.2 as the
consumer of the same catalog, written by a Tandem producer (SPEC.md "Targets": all serving within 60 s; issue
4 asks for the consumer's memory and start-up time beside Knot's).

For each consumer, in turn, on 127.0.0.1 and free ports (transfers and NOTIFY signed with one TSIG key):

1. a fresh Tandem producer with N member zones (sharing one small zone file) and the catalog, NOTIFYing the
   consumer; the consumer starts with nothing but the catalog;
2. "provision": seconds from starting the consumer until every member answers its SOA (serial 1, AA);
   the consumer's PSS (/proc/PID/smaps_rollup) and CPU seconds at that moment;
3. "restart": the consumer stopped (SIGTERM) and started again: seconds until every member answers from
   what it kept (the producer stays up, so a consumer that re-transfers is measured doing so), and PSS.

"Every member answers" is checked the same way for both: SOA queries over UDP, 200 in flight, repeating only
the names not yet answered. Knot keeps member zones as Tandem does, in its database: its catalog template
uses `journal-content: all` and `zonefile-sync: -1` (no zone files), 2 UDP and 2 TCP workers.

    /usr/bin/python3 bench/catalog.py                 # 10,000 zones, both consumers
    /usr/bin/python3 bench/catalog.py --zones 2000 --only tandem --keep

This measures and reports; it asserts nothing (the 60 s target is asserted by
tests/integration/test_catalog.py). Prints a table to stdout, progress to stderr, and with --json FILE
writes the figures there.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))

from catalog_util import KEY, KnotC, TandemC, pss_kib, sweep  # noqa: E402
import test_catalog as tc  # noqa: E402  (its TandemPrimary and consumer_conf)

CAT = tc.CAT
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print("[catalog] " + msg, file=sys.stderr, flush=True)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid, "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def wait_all_serving(server, members, timeout):
    """Seconds (from now) until every member answers its SOA at serial 1; None after timeout."""
    started = time.monotonic()
    left = set(m.lower() for m in members)
    while left:
        if time.monotonic() - started > timeout:
            return None
        if not server.alive():
            raise RuntimeError("%s died\n%s" % (server.kind, server.log_tail(20)))
        left -= sweep(server.addr, server.port, sorted(left), want_serial=1, timeout=1.0)
        if left:
            time.sleep(0.05)
    return time.monotonic() - started


def knot_consumer(tmp, producer):
    def conf(s):
        lines = s.head()
        lines += ["remote:", "  - id: tandem", "    address: %s@%d" % (producer.addr, producer.port),
                  "    key: %s" % KEY.name,
                  "acl:", "  - id: notify", "    address: 127.0.0.0/8", "    key: %s" % KEY.name,
                  "    action: notify",
                  "template:",
                  "  - id: default", "    storage: %s" % (s.dir / "zones"), "    zonefile-sync: -1",
                  "    journal-content: all",
                  "  - id: member", "    storage: %s" % (s.dir / "zones"), "    master: tandem", "    acl: notify",
                  "    zonefile-sync: -1", "    journal-content: all",
                  "zone:", "  - domain: %s" % CAT, "    master: tandem", "    acl: notify",
                  "    catalog-role: interpret", "    catalog-template: member"]
        return "\n".join(lines) + "\n"
    return KnotC(tmp, "knot-consumer", conf)


def tandem_consumer(tmp, producer):
    t = TandemC(tmp, "tandem-consumer", None)
    t.config = tc.consumer_conf(producer)
    return t


def run_one(kind, tmp, n, timeout):
    members = ["m%05d.scale.test." % i for i in range(n)]
    holder = {}
    consumer_proxy = type("Peer", (), {})()   # the producer's notify target, known once the consumer exists
    p = tc.TandemPrimary(tmp, {m: None for m in members}, peers=[("consumer", consumer_proxy)], shared=True,
                         ready=False, name="producer-for-" + kind)
    consumer = (knot_consumer if kind == "knot" else tandem_consumer)(tmp, p.t)
    consumer_proxy.addr, consumer_proxy.port = consumer.addr, consumer.port
    p.t.ready_timeout = 300
    out = {"consumer": kind, "zones": n}
    log("%s: starting the producer with %d members" % (kind, n))
    t0 = time.monotonic()
    p.t.start()
    try:
        p.t.wait_ready()
        out["producer_ready_s"] = round(time.monotonic() - t0, 2)
        log("%s: producer ready in %.1fs; starting the consumer" % (kind, out["producer_ready_s"]))
        started = time.monotonic()
        consumer.start()
        holder["c"] = consumer
        consumer.wait_ready(30)
        took = wait_all_serving(consumer, members, timeout - (time.monotonic() - started))
        out["provision_s"] = None if took is None else round(time.monotonic() - started, 2)
        out["provision_pss_mib"] = round(pss_kib(consumer.pid) / 1024.0, 1)
        out["provision_cpu_s"] = round(cpu_seconds(consumer.pid), 2)
        log("%s: provisioned in %s s, PSS %.1f MiB" % (kind, out["provision_s"], out["provision_pss_mib"]))
        consumer.stop()
        started = time.monotonic()
        consumer.start()
        consumer.wait_ready(60)
        took = wait_all_serving(consumer, members, timeout)
        out["restart_s"] = None if took is None else round(time.monotonic() - started, 2)
        out["restart_pss_mib"] = round(pss_kib(consumer.pid) / 1024.0, 1)
        log("%s: after a restart all serving in %s s, PSS %.1f MiB" % (kind, out["restart_s"], out["restart_pss_mib"]))
    finally:
        if "c" in holder:
            consumer.stop()
        p.t.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zones", type=int, default=10000)
    ap.add_argument("--only", choices=["tandem", "knot"], help="one consumer only")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for all members")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tandem-catalog-bench-"))
    results = []
    try:
        for kind in ([args.only] if args.only else ["tandem", "knot"]):
            results.append(run_one(kind, tmp, args.zones, args.timeout))
    finally:
        if args.keep:
            log("kept %s" % tmp)
        else:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    print("catalog of %d members, Tandem producer; consumer:" % args.zones)
    print("%-8s %14s %14s %12s %14s %14s" % ("", "provision (s)", "PSS (MiB)", "CPU (s)", "restart (s)",
                                            "PSS after (MiB)"))
    for r in results:
        print("%-8s %14s %14s %12s %14s %14s" % (r["consumer"], r.get("provision_s"), r.get("provision_pss_mib"),
                                                r.get("provision_cpu_s"), r.get("restart_s"),
                                                r.get("restart_pss_mib")))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
