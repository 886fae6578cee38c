#!/usr/bin/python3
"""bench/api.py -- the API's costs on a big zone (issue 10): one PATCH of one record until the new record is
served (a DNS query sees it) and NOTIFY has reached a listening socket, and the first page of the records
list. Medians of --rounds rounds, for each --records size (default 100000 and 1000000). The rounds are GAP
seconds apart, past the second for which the changes after a NOTIFY are held back and told together
(repl/notify.c): each PATCH is a change alone, as the issue's target has it. That also puts each PATCH just
after the zone file's write-back for the one before has begun (a second after an edit), which now runs on a
thread of its own (runtime/zonework.c) and no longer holds up the API.

Then --reloads rounds of a reload of the zone's file (POST .../reload after a record is appended to it): the
time until the new record is served, and the slowest answer meanwhile to a GET of another API resource polled
every 10 ms from a thread of its own (the file is read, parsed and compared on runtime/zonework.c's thread:
the control thread, which answers the API, only commits the change). Then --sighups rounds of the same with the
reload asked for by SIGHUP (a reload of the whole configuration, which leaves a large zone's file to that thread
too).

    /usr/bin/python3 bench/api.py [--records 100000,1000000] [--rounds 20] [--reloads 3] [--sighups 3]
                                  [--tandemd build/tandemd]
"""

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import dns.message  # noqa: E402
import dns.query  # noqa: E402

from harness import Remote, TandemApi, Zone  # noqa: E402

ZONE = "big.test."


def write_zone(path, records):
    with open(path, "w") as f:
        f.write("$ORIGIN %s\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n"
                % ZONE)
        for i in range(records - 3):
            f.write("h%d A 10.%d.%d.%d\n" % (i, (i >> 16) & 255, (i >> 8) & 255, i & 255))


def one_round(s, notify_sock, i):
    name = "bench%d.%s" % (i, ZONE)
    q = dns.message.make_query(name, "A")
    t0 = time.monotonic()
    st, j, _ = s.call("PATCH", "zones/%s/records" % ZONE, {"rrsets": [
        {"name": name, "type": "A", "ttl": 60, "changetype": "add", "records": ["192.0.2.9"]}]})
    assert st == 200, j
    served = notify = None
    deadline = t0 + 10
    while (served is None or notify is None) and time.monotonic() < deadline:
        if served is None:
            r = dns.query.udp(q, s.addr, port=s.port, timeout=2)
            if r.answer:
                served = time.monotonic() - t0
        if notify is None:
            try:
                data, _ = notify_sock.recvfrom(4096)
                if data:
                    notify = time.monotonic() - t0
            except BlockingIOError:
                pass
    t1 = time.monotonic()
    st, j, _ = s.call("GET", "zones/%s/records?limit=100" % ZONE)
    page = time.monotonic() - t1
    assert st == 200 and len(j["rrsets"]) == 100
    return served * 1e3, notify * 1e3, page * 1e3


def reload_round(s, path, i, sighup=False):
    """Appends a record to the zone file, asks for a reload (the API's, or SIGHUP); (ms until it is served, slowest
    API answer meanwhile in ms)."""
    name = "%s%d.%s" % ("hup" if sighup else "reload", i, ZONE)
    with open(path, "a") as f:
        f.write("%s 60 A 192.0.2.10\n" % name)
    q = dns.message.make_query(name, "A")
    slowest = [0.0]
    done = threading.Event()

    def poll():
        while not done.is_set():
            t = time.monotonic()
            st, _, _ = s.call("GET", "status")
            assert st == 200
            slowest[0] = max(slowest[0], time.monotonic() - t)
            time.sleep(0.01)

    th = threading.Thread(target=poll)
    th.start()
    try:
        t0 = time.monotonic()
        if sighup:
            s.reload()
        else:
            st, j, _ = s.call("POST", "zones/%s/reload" % ZONE)
            assert st == 202, j
        served = None
        while served is None and time.monotonic() < t0 + 60:
            if dns.query.udp(q, s.addr, port=s.port, timeout=2).answer:
                served = time.monotonic() - t0
            else:
                time.sleep(0.005)
        time.sleep(0.1)
    finally:
        done.set()
        th.join()
    assert served is not None, "reload not served within 60 s"
    return served * 1e3, slowest[0] * 1e3


SETTLE = 5   # seconds between the server answering and the first page asked for
GAP = 1.2    # seconds from one round's PATCH to the next: past the NOTIFY hold (1 s)
WRITE_BACK_WAIT = 4   # seconds: the write-back starts a second after the last edit, about half a second of work


def run(records, rounds, reloads, sighups, tandemd):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "big.zone")
        write_zone(src, records)
        ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        ns.bind(("127.0.0.1", 0))
        ns.setblocking(False)
        s = TandemApi(__import__("pathlib").Path(tmp),
                      [Zone(ZONE, __import__("pathlib").Path(src), notify=[Remote("127.0.0.1", ns.getsockname()[1])])],
                      name="api-bench")
        s.binary = tandemd
        s.ready_timeout = 600
        s.serve()
        try:
            # The order of a large zone's names is made ahead on a thread after the load
            # (api/apiorder.h): the first page asked for SETTLE s after the start finds it.
            time.sleep(SETTLE)
            t = time.monotonic()
            s.call("GET", "zones/%s/records?limit=100" % ZONE)
            first_sort = (time.monotonic() - t) * 1e3
            while True:   # NOTIFY of the load
                try:
                    ns.recvfrom(4096)
                except BlockingIOError:
                    break
            res = []
            for i in range(rounds):
                t = time.monotonic()
                res.append(one_round(s, ns, i))
                time.sleep(max(0.0, t + GAP - time.monotonic()))
            time.sleep(WRITE_BACK_WAIT)   # the write-back of the last PATCH, before the file is edited
            rel = [reload_round(s, s.zone_path(ZONE), i) for i in range(reloads)]
            hup = [reload_round(s, s.zone_path(ZONE), i, sighup=True) for i in range(sighups)]
        finally:
            s.stop()
        med = [statistics.median(r[k] for r in res) for k in range(3)]
        print("%d records: PATCH -> served %.1f ms, PATCH -> NOTIFY received %.1f ms, first page %.1f ms "
              "(medians of %d; the very first page, %d s after the start, %.1f ms)"
              % (records, med[0], med[1], med[2], rounds, SETTLE, first_sort))
        if rel:
            print("%d records: reload -> served %.0f ms, slowest API answer meanwhile %.0f ms (medians of %d)"
                  % (records, statistics.median(r[0] for r in rel), statistics.median(r[1] for r in rel),
                     len(rel)))
        if hup:
            print("%d records: SIGHUP -> served %.0f ms, slowest API answer meanwhile %.0f ms (medians of %d)"
                  % (records, statistics.median(r[0] for r in hup), statistics.median(r[1] for r in hup),
                     len(hup)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", default="100000,1000000")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--reloads", type=int, default=3)
    ap.add_argument("--sighups", type=int, default=3)
    ap.add_argument("--tandemd", default=os.path.join(ROOT, "build", "tandemd"))
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    for n in a.records.split(","):
        run(int(n), a.rounds, a.reloads, a.sighups, a.tandemd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
