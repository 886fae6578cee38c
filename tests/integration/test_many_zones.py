"""test_many_zones.py -- a server with many small zones from its configuration (issue 9, "5. Many zones"):

- a reload after one of many zone files changed reads that file only: the others, whose size, mtime, ctime,
  inode and device are those recorded with their digest, are not read again (the server's own account in its log:
  "zone files: N unchanged ..., H read and hashed, P parsed"); a file touched without a change is read
  (hashed) but not parsed; a file just written is read again at the next look (its times are too recent to
  be trusted); a file rewritten with the same size and its old mtime put back is seen by its change time;
  a zone with $INCLUDE is always read, so an edit to the included file is seen;
- a SIGHUP whose configuration file holds the same text keeps the configuration in force (not parsed again)
  and still reads the zone files; a file touched without a change is kept too; any change of its text,
  even one of the same length, is parsed;
- the helper threads that read and parse the zone files of a pass run at a lower priority (nice +5) than
  the control thread that commits what they prepare, the pass's critical path; the control thread keeps
  the server's priority;
- a first start stores its zones in batches (one transaction for many zones): killed with SIGKILL while
  doing so, the server restarts and serves every zone with the data of its file, and the store holds no zone
  without its records (every batch committed whole or not at all).
"""

import os
import random
import re
import sqlite3
import time

import dns.rcode

from catalog_util import TandemC, sweep
from harness import dnsq


def zone_text(name, serial=1, www="192.0.2.80"):
    return ("$ORIGIN %s\n$TTL 3600\n@ SOA ns1 hostmaster %d 7200 900 1209600 300\n"
            "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\nwww A %s\n"
            "www AAAA 2001:db8::80\n@ MX 10 mail.example.net.\n") % (name, serial, www)


def make_zones(folder, count, past=3600):
    """count zone files z<i>.many.test. with an mtime `past` seconds ago; [(name, path)]."""
    folder.mkdir(exist_ok=True)
    out = []
    when = time.time() - past
    for i in range(count):
        name = "z%05d.many.test." % i
        path = folder / ("z%05d.zone" % i)
        path.write_text(zone_text(name))
        os.utime(path, (when, when))
        out.append((name, path))
    return out


def server(tmp_path, zones, name="many"):
    def conf(s):
        return {"server": s.server_section(),
                "zones": [{"name": n, "type": "primary", "file": str(p)} for n, p in zones]}
    return TandemC(tmp_path, name, conf, http=False, ready_zones=[zones[-1][0]])


def file_counts(t, mark):
    """The last "zone files:" account after mark: (unchanged, hashed, parsed)."""
    m = t.wait_log(r"zone files: (\d+) unchanged \(same size and time, not read\), (\d+) read and "
                   r"hashed, (\d+) parsed", timeout=60, mark=mark)
    found = re.findall(r"zone files: (\d+) unchanged \(same size and time, not read\), (\d+) read and "
                       r"hashed, (\d+) parsed", t.log_since(mark))
    assert m
    return tuple(int(x) for x in found[-1])


def www(t, zone):
    r = dnsq.ask(t, "www." + zone, "A")
    return r.answer[0][0].address if r.rcode() == dns.rcode.NOERROR and r.answer else None


def reload_and_count(t):
    mark = t.log_mark()
    t.reload()
    t.wait_log(r"reloaded: \d+ zones", timeout=60, mark=mark)
    return file_counts(t, mark)


def settle():
    """Past the window in which a file's times are too recent to stand for its octets (2 s)."""
    time.sleep(3.1)


def test_reload_after_one_file_changed_reads_only_that_file(tmp_path):
    zones = make_zones(tmp_path / "zones", 300)
    inc_zone = "inc.many.test."
    inc_part = tmp_path / "zones" / "inc-part.zone"
    inc_part.write_text("www A 192.0.2.10\n")
    inc_main = tmp_path / "zones" / "inc.zone"
    inc_main.write_text(zone_text(inc_zone).replace("www A 192.0.2.80\n", "") + "$INCLUDE %s\n" % inc_part)
    old = time.time() - 600
    for p in (inc_part, inc_main):
        os.utime(p, (old, old))
    all_zones = zones + [(inc_zone, inc_main)]
    settle()
    t = server(tmp_path, all_zones)
    with t:
        assert file_counts(t, 0) == (0, 301, 301)
        assert not sweep(t.addr, t.port, [n for n, _ in all_zones]) ^ {n for n, _ in all_zones}

        # Nothing changed: only the zone with $INCLUDE is read (its stat does not cover the included file).
        assert reload_and_count(t) == (300, 1, 0)

        # One file changed (new size and times): read and parsed, the others not read.
        name, path = zones[123]
        path.write_text(zone_text(name, serial=2, www="192.0.2.99"))
        assert reload_and_count(t) == (299, 2, 1)
        assert www(t, name) == "192.0.2.99"
        # Written just now: its times are too recent to stand for its octets, so it is read again (not
        # parsed: same digest) until they are older; then its stat is recorded.
        assert reload_and_count(t) == (299, 2, 0)
        settle()
        assert reload_and_count(t) == (299, 2, 0)
        assert reload_and_count(t) == (300, 1, 0)

        # Touched without a change: read (hashed) once, not parsed.
        os.utime(zones[7][1], (old, old))
        settle()
        assert reload_and_count(t) == (299, 2, 0)
        assert reload_and_count(t) == (300, 1, 0)

        # Rewritten in place with the same size and its old mtime put back (cp -p, rsync -t): the change
        # time still tells, and the new data is served.
        name, path = zones[9]
        st = os.stat(path)
        path.write_text(zone_text(name, serial=2, www="192.0.2.81"))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert os.stat(path).st_size == st.st_size
        settle()
        assert reload_and_count(t) == (299, 2, 1)
        assert www(t, name) == "192.0.2.81"

        # The included file edited (the including file untouched): seen.
        inc_part.write_text("www A 192.0.2.11\n")
        assert reload_and_count(t) == (300, 1, 1)
        assert www(t, inc_zone) == "192.0.2.11"

    # A restart reads no file either, and serves what the files say.
    mark = t.log_mark()
    with t:
        assert file_counts(t, mark) == (300, 1, 0)
        assert www(t, zones[123][0]) == "192.0.2.99"
        assert www(t, zones[9][0]) == "192.0.2.81"
        assert www(t, zones[0][0]) == "192.0.2.80"


def thread_nice(pid):
    """{tid: nice} of the process's threads now (/proc/PID/task/TID/stat, field 19); threads that end
    while they are read are left out."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(tid)] = int(fields[16])   # field 19 of the line; the list starts at field 3
    return out


def test_zone_file_helpers_run_below_the_control_thread(tmp_path):
    zones = make_zones(tmp_path / "zones", 3000)
    t = server(tmp_path, zones)
    with t:
        pid = t.proc.pid
        assert thread_nice(pid)[pid] == 0
        # Every file changed: the reload's pass reads and parses 3,000 files on the helpers, long enough
        # to see them. Their priority is looked at until the pass ends (bounded by the wait below).
        for name, path in zones:
            path.write_text(zone_text(name, serial=2))
        mark = t.log_mark()
        t.reload()
        seen = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not re.search(r"reloaded: \d+ zones", t.log_since(mark)):
            for tid, nice in thread_nice(pid).items():
                seen.setdefault(tid, set()).add(nice)
            time.sleep(0.002)
        assert re.search(r"reloaded: \d+ zones", t.log_since(mark))
        assert file_counts(t, mark)[2] == 3000
        lowered = [tid for tid, nices in seen.items() if 5 in nices]
        assert lowered, "no thread ran at nice 5 during the pass: %s" % seen
        assert pid not in lowered and seen[pid] == {0}
        assert www(t, zones[-1][0]) == "192.0.2.80"
        assert dnsq.ask(t, zones[-1][0], "SOA").answer[0][0].serial == 2


def test_first_start_killed_while_storing_batches_loses_nothing(tmp_path):
    count = 12000
    zones = make_zones(tmp_path / "zones", count)
    settle()
    t = server(tmp_path, zones)
    t.ready_timeout = 120
    # Over a thousand zones, each zone loaded is logged at debug level only: -v shows it.
    t.argv = lambda: [t.binary, "-v", "-c", t.conf_path]
    rng = random.Random(9)
    stored = []
    for attempt in range(3):
        t.start()
        # Killed once some zones are parsed: while batches are written and committed.
        t.wait_log(r"z0%d\d\d\d\.many\.test\.: loaded from" % rng.randint(1, 6), timeout=60,
                   mark=t.log_mark())
        time.sleep(rng.random() * 0.1)
        t.kill()
        db = sqlite3.connect(str(t.db()))
        try:
            half = db.execute("SELECT count(*) FROM zone WHERE id NOT IN (SELECT zone_id FROM rr_chunk)"
                              ).fetchone()[0]
            stored.append(db.execute("SELECT count(*) FROM zone").fetchone()[0])
        finally:
            db.close()
        assert half == 0, "zones stored without their records"
    # Some kill landed between two batches' commits: part of the zones was stored, part not.
    assert any(0 < n < count for n in stored), stored
    mark = t.log_mark()
    with t:
        assert not sweep(t.addr, t.port, [n for n, _ in zones], want_serial=1, timeout=30) ^ \
            {n for n, _ in zones}
        # What the killed starts committed is kept (not read again); the rest is parsed now.
        assert file_counts(t, mark) == (stored[-1], count - stored[-1], count - stored[-1])
        for i in (0, count // 2, count - 1):
            assert www(t, zones[i][0]) == "192.0.2.80"
    # Without -v, a start of that many zones says so in one line instead of one line a zone.
    t.argv = lambda: [t.binary, "-c", t.conf_path]
    mark = t.log_mark()
    with t:
        log = t.log_since(mark)
        assert re.search(r"%d zones looked at \(more than 1000" % count, log), log[-2000:]
        assert ": loaded from" not in log


KEPT = r"reload: \S+ unchanged: the configuration in force is kept"


def test_reload_keeps_an_unchanged_configuration(tmp_path):
    zones = make_zones(tmp_path / "zones", 20)
    # Same length as zones[3]'s file name, another www: a configuration that names it instead is a text of
    # the same length, whose change only a new parse can show.
    other = tmp_path / "zones" / "y00003.zone"
    other.write_text(zone_text(zones[3][0], serial=5, www="192.0.2.33"))
    assert len(str(other)) == len(str(zones[3][1]))
    settle()
    t = server(tmp_path, zones)
    with t:
        assert www(t, zones[3][0]) == "192.0.2.80"
        mark = t.log_mark()
        t.reload()
        t.wait_log(r"reloaded: \d+ zones", timeout=30, mark=mark)
        assert re.search(KEPT, t.log_since(mark))

        # Kept, and the zone files are still read: an edited one is served.
        name, path = zones[5]
        path.write_text(zone_text(name, serial=2, www="192.0.2.55"))
        mark = t.log_mark()
        t.reload()
        t.wait_log(r"reloaded: \d+ zones", timeout=30, mark=mark)
        assert re.search(KEPT, t.log_since(mark))
        assert www(t, name) == "192.0.2.55"

        # Touched without a change: kept.
        conf = t.conf_path
        text = conf.read_text()
        os.utime(conf, None)
        mark = t.log_mark()
        t.reload()
        t.wait_log(r"reloaded: \d+ zones", timeout=30, mark=mark)
        assert re.search(KEPT, t.log_since(mark))

        # The same length, another text: parsed, and what it says is served.
        changed = text.replace(str(zones[3][1]), str(other))
        assert changed != text and len(changed) == len(text)
        conf.write_text(changed)
        mark = t.log_mark()
        t.reload()
        t.wait_log(r"reloaded: \d+ zones", timeout=30, mark=mark)
        assert not re.search(KEPT, t.log_since(mark))
        assert www(t, zones[3][0]) == "192.0.2.33"
