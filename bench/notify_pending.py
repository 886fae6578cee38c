#!/usr/bin/python3
"""bench/notify_pending.py -- what NOTIFYs waiting for an answer cost a primary while none is due.

A primary of many zones whose secondary is down keeps a NOTIFY pending per zone and tries each again after
1, 2, 4 ... seconds (RFC 1996 3.6). Between the waves of retries nothing is due, and the primary should
spend nothing on them. For each build given (--tandemd, default this tree's), in turn:

1. a Tandem primary with N zones (default 100,000; one small shared zone file), each NOTIFYing one
   address on 127.0.0.1 where a socket reads the NOTIFYs and never answers; notify-rate 0, so that the
   waves are short;
2. from the start, every 0.25 s: the NOTIFYs the socket got and the server's CPU time (/proc);
3. reported: the server's CPU per second over the quarter-seconds in which no NOTIFY came (the quiet
   between waves: the retry timer's cost with everything pending and nothing due), and the NOTIFYs
   received (a check that the waves came: N per try).

    /usr/bin/python3 bench/notify_pending.py [--zones N] [--seconds S] [--tandemd PATH ...]

Nothing passes or fails: a table to stdout, progress to stderr. 127.0.0.1 only, free ports, bounded waits,
the server stopped whatever happens.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import servers as srv  # noqa: E402

ZONE = """$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
@ IN NS ns1
ns1 IN A 192.0.2.1
"""


def log(msg):
    print("[notify-pending] " + msg, file=sys.stderr, flush=True)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid, "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_one(tandemd, tmp, zones, seconds):
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    sink_port = sink.getsockname()[1]
    port = srv.free_port()
    data = tempfile.mkdtemp(dir=tmp)
    zfile = os.path.join(tmp, "member.zone")
    with open(zfile, "w") as f:
        f.write(ZONE)
    lines = ["server:", '  listen: ["127.0.0.1@%d"]' % port, "  data-dir: %s" % data, "  workers: 1",
             "  notify-rate: 0", "remotes:", "  - name: down", '    address: ["127.0.0.1@%d"]' % sink_port,
             "zones:"]
    for i in range(zones):
        lines.append("  - {name: z%06d.pending.test., file: %s, notify: [down]}" % (i, zfile))
    conf = os.path.join(data, "tandem.yaml")
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    logf = open(os.path.join(data, "tandemd.log"), "wb")
    proc = subprocess.Popen([tandemd, "-c", conf], stdout=logf, stderr=logf, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    logf.close()
    got, quiet_cpu, quiet_time, per_tick = 0, 0.0, 0.0, []
    try:
        t_end = time.monotonic() + seconds
        last_cpu, last_t, last_got = None, None, 0
        while time.monotonic() < t_end:
            if proc.poll() is not None:
                raise RuntimeError("tandemd exited: see %s" % data)
            time.sleep(0.25)
            while True:
                try:
                    sink.recv(4096)
                    got += 1
                except BlockingIOError:
                    break
            cpu, t = cpu_seconds(proc.pid), time.monotonic()
            # Quiet: no NOTIFY in this quarter nor the one before (a wave's tail is not counted), and
            # every zone told at least once (the start is over).
            if last_cpu is not None and got == last_got and got >= zones:
                quiet_cpu += cpu - last_cpu
                quiet_time += t - last_t
                per_tick.append(cpu - last_cpu)
            last_cpu, last_t, last_got = cpu, t, got
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        sink.close()
    return {"received": got, "quiet_s": quiet_time,
            "cpu_per_s": quiet_cpu / quiet_time if quiet_time > 0 else None,
            "quarters": len(per_tick)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zones", type=int, default=100000)
    ap.add_argument("--seconds", type=float, default=40.0, help="how long each server runs (default 40)")
    ap.add_argument("--tandemd", action="append", help="a tandemd to measure (repeatable)")
    args = ap.parse_args()
    builds = args.tandemd or [os.path.join(ROOT, "build", "tandemd")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="tandem-bench-notify-") as tmp:
        for b in builds:
            log("%s: %d zones NOTIFYing a secondary that never answers, %.0f s" % (b, args.zones, args.seconds))
            r = run_one(b, tmp, args.zones, args.seconds)
            log("%s: %d NOTIFYs received, %.1f s quiet" % (b, r["received"], r["quiet_s"]))
            rows.append((b, r))
    print("%d zones, NOTIFYs pending to a secondary that never answers (notify-rate 0):" % args.zones)
    print("  %-40s %12s %14s %18s" % ("tandemd", "received", "quiet (s)", "CPU ms per quiet s"))
    for b, r in rows:
        cpu = "-" if r["cpu_per_s"] is None else "%.1f" % (r["cpu_per_s"] * 1000)
        print("  %-40s %12d %14.1f %18s" % (b[-40:], r["received"], r["quiet_s"], cpu))


if __name__ == "__main__":
    main()
