#!/usr/bin/python3
"""bench/api_zones.py -- zones made through the API among many made the same way (a hosting provider's case).

One tandemd with one zone of its file; --zones quick zones are created through the API, one call at a time
over one kept-alive connection (the whole run timed), then ten more are created and ten deleted beside them,
each call timed (medians, milliseconds). A call that costs a pass over every zone shows as a creation time
that grows with --zones and a whole run that grows with its square. --baseline runs another build the same
way, after this one, for a before/after in one run. With --catalog the configuration also has a catalog
the server produces (cat.api.test., RFC 9432) and every zone is made member_of it, as a super-primary's
are: a creation that writes the whole catalog shows the same way. Tandem only: NSD has no way to add a zone
at run time but its configuration, and bench/zones.py measures that beside NSD and Knot.

    /usr/bin/python3 bench/api_zones.py [--zones 50000] [--catalog] [--tandemd build/tandemd]
                                        [--baseline OTHER/tandemd]

Only loopback, free ports; every wait is bounded; the server is stopped whatever happens. Nothing passes or
fails: a table on stdout, the data in bench/out/api-zones-<time>.json.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = {"nameservers": ["ns1.example.com."], "address": "192.0.2.1"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(binary, count, timeout, catalog=False):
    d = tempfile.mkdtemp(prefix="tandem-api-zones-")
    dns_port, http_port = free_port(), free_port()
    with open(os.path.join(d, "z.zone"), "w") as f:
        f.write("$ORIGIN example.com.\n@ 3600 IN SOA ns1 h 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n")
    conf = os.path.join(d, "tandem.yaml")
    with open(conf, "w") as f:
        f.write("server:\n  listen: [127.0.0.1@%d]\n  data-dir: %s/var\nhttp:\n  listen: 127.0.0.1@%d\n"
                "zones:\n  - name: example.com.\n    file: %s/z.zone\n" % (dns_port, d, http_port, d))
        if catalog:
            f.write("  - name: cat.api.test.\n    catalog: produce\n")
    extra = {"member_of": "cat.api.test."} if catalog else {}
    log = open(os.path.join(d, "server.log"), "w")
    proc = subprocess.Popen([binary, "-c", conf], stdout=log, stderr=log)
    try:
        key_file = os.path.join(d, "var", "api.key")
        deadline = time.monotonic() + 30
        conn = None
        while conn is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("%s did not start (see %s)" % (binary, log.name))
            try:
                with open(key_file) as f:
                    key = f.read().strip()
                c = http.client.HTTPConnection("127.0.0.1", http_port, timeout=timeout)
                c.connect()
                conn = c
            except OSError:
                time.sleep(0.05)
        headers = {"X-API-Key": key, "Content-Type": "application/json"}

        def call(method, path, body=None):
            t = time.monotonic()
            conn.request(method, "/api/v1/" + path, json.dumps(body) if body is not None else None, headers)
            r = conn.getresponse()
            r.read()
            if r.status not in (200, 201):
                raise RuntimeError("%s %s: %d" % (method, path, r.status))
            return (time.monotonic() - t) * 1000.0

        t0 = time.monotonic()
        for i in range(count):
            call("POST", "zones", dict({"name": "z%06d.api.test." % i, "quick": QUICK}, **extra))
        made = time.monotonic() - t0
        create = [call("POST", "zones", dict({"name": "x%d.api.test." % i, "quick": QUICK}, **extra))
                  for i in range(10)]
        delete = [call("DELETE", "zones/x%d.api.test." % i) for i in range(10)]
        return {"zones": count, "all_made_s": round(made, 2),
                "create_ms": round(statistics.median(create), 2),
                "delete_ms": round(statistics.median(delete), 2)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zones", type=int, default=50000, help="zones made through the API first (default 50000)")
    ap.add_argument("--catalog", action="store_true",
                    help="every zone a member of a catalog the server produces")
    ap.add_argument("--tandemd", default=os.path.join(ROOT, "build", "tandemd"))
    ap.add_argument("--baseline", help="another tandemd, run the same way after this one")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds one call may take")
    ap.add_argument("--out", help="JSON file (default bench/out/api-zones-<time>.json)")
    args = ap.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    builds = [("tandem", os.path.abspath(args.tandemd))]
    if args.baseline:
        builds.append(("baseline", os.path.abspath(args.baseline)))
    results = {}
    for name, binary in builds:
        print("[api-zones] %s: %d zones through the API ..." % (name, args.zones), flush=True)
        results[name] = run(binary, args.zones, args.timeout, args.catalog)
    print("Zones made through the API beside %d made the same way%s (%s; load %s)" % (
        args.zones, ", members of a produced catalog" if args.catalog else "", started,
        " ".join(open("/proc/loadavg").read().split()[:3])))
    print("  %-10s %14s %12s %12s" % ("build", "all made (s)", "create (ms)", "delete (ms)"))
    for name, r in results.items():
        print("  %-10s %14.1f %12.2f %12.2f" % (name, r["all_made_s"], r["create_ms"], r["delete_ms"]))
    out = args.out or os.path.join(ROOT, "bench", "out", "api-zones-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"started": started, "zones": args.zones, "catalog": args.catalog, "results": results}, f,
                  indent=1)
    print("[api-zones] figures in %s" % out)


if __name__ == "__main__":
    main()
