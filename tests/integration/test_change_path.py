"""test_change_path.py -- the one change path (issue 9): a version made from the one before by a change
answers exactly as the same records loaded whole, on the primary that reloads a file and on the secondary
that applies the IXFR; what a restart rebuilds from the store (contents + journal) is the last committed
version; SIGKILL during a change or while the journal is folded into the contents loses nothing committed.

Each step edits the primary's zone file with one kind of change (records added, deleted, an RRset replaced,
a delegation added and removed, wildcards, CNAME and DNAME, apex records, empty non-terminals appearing and
vanishing); the primary reloads (a diff, applied to the served version), the secondary takes the IXFR, and a
third server started on the same file builds it whole: every question of a fixed set, asked of the three,
must get the same answer (rcode, flags, every section).
"""

import random
import re
import time

import pytest

import dns.flags
import dns.rcode

from harness import Acl, Remote, Tandem, Zone, secondary
from harness import dnsq, xfr
from harness.ports import free_port

ZONE = "change.test."

BASE = [
    "a.b.c A 192.0.2.31",               # b.c and c are empty non-terminals
    "mx2 MX 10 a.b.c", "a2.b.c A 192.0.2.32",   # its address is glue, not additional, below a cut
    "sub NS ns.sub", "ns.sub A 192.0.2.53",
    "*.wild A 192.0.2.99", "x.wild A 192.0.2.98",
    "alias CNAME www", "dn DNAME example.net.",
    "multi A 192.0.2.1", "multi A 192.0.2.2", "multi A 192.0.2.3",
    "txt TXT \"one\"", "@ TXT \"apex one\"",
]

# Each step: (what it shows, lines removed from the zone, lines added).
STEPS = [
    ("a record added", [], ["new A 192.0.2.200"]),
    ("a record deleted", ["txt TXT \"one\""], []),
    ("an RRset replaced", ["multi A 192.0.2.1", "multi A 192.0.2.2", "multi A 192.0.2.3"],
     ["multi A 198.51.100.1", "multi A 198.51.100.2"]),
    ("one record of an RRset removed, TTL kept", ["multi A 198.51.100.2"], []),
    ("a delegation added above existing names", [], ["c NS ns.elsewhere.net."]),
    ("the delegation removed again", ["c NS ns.elsewhere.net."], []),
    ("a delegation with glue removed", ["sub NS ns.sub", "ns.sub A 192.0.2.53"], []),
    ("a wildcard added", [], ["*.w2 TXT \"wild\"", "*.w2 A 192.0.2.77"]),
    ("a wildcard removed", ["*.wild A 192.0.2.99"], []),
    ("CNAME to A at one name", ["alias CNAME www"], ["alias A 192.0.2.66"]),
    ("DNAME moved", ["dn DNAME example.net."], ["dn2 DNAME example.org.", "below.dn A 192.0.2.5"]),
    ("apex records changed", ["@ TXT \"apex one\""], ["@ TXT \"apex two\"", "@ A 192.0.2.100"]),
    ("an empty non-terminal vanishes with its only leaf", ["a.b.c A 192.0.2.31"], []),
    ("an empty non-terminal appears", [], ["deep.e.n.t A 192.0.2.41"]),
    ("a name and its RRsets of several types", [], ["multi AAAA 2001:db8::1", "multi TXT \"t\""]),
    ("many names at once", [], ["bulk%d A 10.9.0.%d" % (i, i) for i in range(40)]),
    ("many names deleted", ["bulk%d A 10.9.0.%d" % (i, i) for i in range(0, 40, 2)], []),
]

NAMES = ["@", "www", "new", "multi", "a.b.c", "b.c", "c", "x.c", "a.b.c.d", "sub", "ns.sub", "x.sub",
         "wild", "x.wild", "y.wild", "z.y.wild", "w2", "q.w2", "alias", "dn", "x.dn", "dn2", "x.dn2",
         "below.dn", "txt", "e.n.t", "n.t", "t", "deep.e.n.t", "nothing", "mail", "ftp", "bulk1",
         "bulk2", "h3", "_sip._tcp", "mx2", "a2.b.c"]
TYPES = ["A", "AAAA", "NS", "CNAME", "TXT", "MX", "SOA", "ANY", "DS"]


def _text(serial, lines):
    return xfr.zone_text(ZONE, serial, lines, hosts=30)


def _answer(server, name, rdtype):
    qname = ZONE if name == "@" else "%s.%s" % (name, ZONE)
    r = dnsq.ask(server, qname, rdtype, tcp=True, timeout=3.0)
    return (dns.rcode.to_text(r.rcode()), bool(r.flags & dns.flags.AA), bool(r.flags & dns.flags.TC),
            dnsq.section_set(r.answer), dnsq.section_set(r.authority), dnsq.section_set(r.additional))


def _assert_same_answers(servers, what):
    for name in NAMES:
        for rdtype in TYPES:
            answers = [(s, _answer(s, name, rdtype)) for s in servers]
            ref = answers[-1][1]
            for s, got in answers[:-1]:
                assert got == ref, "%s: %s %s: %s answers\n  %r\nbut the version built whole answers\n  %r" % (
                    what, name, rdtype, s.dir.name, got, ref)


def _pair(tmp_path):
    p_port, s_port = free_port(), free_port()
    src = tmp_path / "change.zone"
    src.write_text(_text(1, BASE))
    primary = Tandem(tmp_path, [Zone(ZONE, src, notify=[Remote("127.0.0.1", s_port)],
                                     acl=[Acl(["127.0.0.1"], allow=["transfer"])])],
                     name="primary", port=p_port)
    sec = Tandem(tmp_path, [secondary(ZONE, [Remote("127.0.0.1", p_port)],
                                      acl=[Acl(["127.0.0.1"], allow=["transfer"])])],
                 name="secondary", port=s_port)
    return primary, sec


def _reference(tmp_path, serial, lines, step):
    src = tmp_path / ("ref%d.zone" % step)
    src.write_text(_text(serial, lines))
    return Tandem(tmp_path, [Zone(ZONE, src, acl=[Acl(["127.0.0.1"], allow=["transfer"])])],
                  name="reference%d" % step)


def test_every_kind_of_change_answers_as_a_whole_build(tmp_path):
    primary, sec = _pair(tmp_path)
    lines = list(BASE)
    with primary, sec:
        xfr.wait_serial(sec, ZONE, 1, timeout=10)
        for step, (what, removed, added) in enumerate(STEPS):
            serial = step + 2
            for line in removed:
                lines.remove(line)
            lines += added
            mark_p, mark_s = primary.log_mark(), sec.log_mark()
            xfr.write_zone(primary.zone_path(ZONE), _text(serial, lines))
            primary.reload()
            xfr.wait_serial(sec, ZONE, serial, timeout=10)
            # Both went through the change path: a diff on the primary, an IXFR on the secondary.
            sec.wait_log(r"change\.test\.: IXFR from 127\.0\.0\.1@\d+ serial %d -> %d" % (serial - 1, serial),
                         mark=mark_s)
            assert "falling back to AXFR" not in sec.log_since(mark_s), what
            assert "loaded from" in primary.log_since(mark_p), what
            with _reference(tmp_path, serial, lines, step) as ref:
                xfr.wait_serial(ref, ZONE, serial, timeout=10)
                _assert_same_answers([primary, sec, ref], what)
                xfr.assert_same_records(xfr.axfr(sec, ZONE), xfr.axfr(ref, ZONE),
                                        "the secondary", "the version built whole")

        # A restart rebuilds the last committed version from the store: contents + journal replayed.
        sec.stop()
        primary.stop()
        mark = sec.log_mark()
        sec.start()
        sec.wait_ready()
        assert xfr.soa_serial(sec, ZONE) == len(STEPS) + 1
        with _reference(tmp_path, len(STEPS) + 1, lines, 99) as ref:
            xfr.wait_serial(ref, ZONE, len(STEPS) + 1, timeout=10)
            _assert_same_answers([sec, ref], "after a restart")
        log = sec.log_since(mark)
        assert "loaded from the store" in log
        assert re.search(r"journal entries replayed|folded into the contents", sec.log_text()), sec.log_tail()


def test_sigkill_during_changes_and_compaction_loses_nothing_committed(tmp_path):
    """A secondary fed a change every few tens of milliseconds is killed with SIGKILL at random moments
    (some land during a commit, some while the journal is folded into the contents: with a small zone
    that happens every few changes); after each restart it serves a serial at least the last it was
    seen serving, with exactly that version's records."""
    primary, sec = _pair(tmp_path)
    rng = random.Random(9)
    lines = list(BASE)
    versions = {1: _text(1, lines)}
    serial = 1
    with primary:
        sec.start()
        sec.wait_ready()
        xfr.wait_serial(sec, ZONE, 1, timeout=10)
        for round_ in range(6):
            seen = xfr.soa_serial(sec, ZONE)
            deadline = time.monotonic() + rng.uniform(0.2, 0.8)
            while time.monotonic() < deadline:
                serial += 1
                lines.append("k%d A 10.8.%d.%d" % (serial, (serial >> 8) & 255, serial & 255))
                if serial % 3 == 0:
                    lines.remove(rng.choice([x for x in lines if x.startswith("k")]))
                versions[serial] = _text(serial, lines)
                xfr.write_zone(primary.zone_path(ZONE), versions[serial])
                primary.reload()
                time.sleep(0.03)
                try:
                    seen = max(seen, xfr.soa_serial(sec, ZONE, timeout=0.3) or 0)
                except Exception:
                    pass
            sec.kill()
            sec.start()
            sec.wait_ready()
            got = xfr.soa_serial(sec, ZONE)
            assert got is not None and got >= seen, "round %d: serving %s after restart, %s was served before" % (
                round_, got, seen)
            src = tmp_path / ("v%d.zone" % got)
            src.write_text(versions[got])
            xfr.assert_same_records(xfr.axfr(sec, ZONE), xfr.file_records(src, ZONE),
                                    "the restarted secondary", "version %d" % got)
        xfr.wait_serial(sec, ZONE, serial, timeout=15)
        assert "folded into the contents" in sec.log_text(), "no compaction happened: the test proves less"
    sec.stop()


CRASH_POINTS = {
    # point: the serial the restarted secondary must serve before any refresh
    "store-append-before-commit": 1,     # the change's transaction never committed: the old version
    "store-append-after-commit": 2,      # committed, not yet served: a restart serves it
    "store-compact-staged": 2,           # the new contents written in the other range, not yet current
    "store-compact-before-commit": 2,    # the change committed; the contents' move rolled back
    "store-compact-after-commit": 2,     # the contents rewritten: loaded without the journal
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_sigkill_at_each_step_of_a_change(point, tmp_path):
    """The secondary dies (SIGKILL, TANDEM_CRASH_AT) at one step of storing an IXFR or of folding
    the journal into the contents (the zone is small, so the first change makes a compaction due). Restarted,
    it serves exactly the committed version, then takes the change when told."""
    primary, sec = _pair(tmp_path)
    # Large beside the zone: the first change makes folding the journal into the contents due.
    v2 = BASE + ["crash%d A 192.0.2.%d" % (i, i) for i in range(60)]
    with primary:
        sec.env = {"TANDEM_CRASH_AT": point}
        sec.start()
        sec.wait_ready()
        xfr.wait_serial(sec, ZONE, 1, timeout=10)
        xfr.write_zone(primary.zone_path(ZONE), _text(2, v2))
        primary.reload()
        deadline = time.monotonic() + 15
        while sec.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sec.proc.poll() == -9, "the secondary did not die at %s:\n%s" % (point, sec.log_tail())
        assert "crash point %s reached" % point in sec.log_text()
        sec.kill()
        sec.env = {}
        sec.start()
        sec.wait_ready()
        want = CRASH_POINTS[point]
        assert xfr.soa_serial(sec, ZONE) == want
        src = tmp_path / "want.zone"
        src.write_text(_text(want, BASE if want == 1 else v2))
        xfr.assert_same_records(xfr.axfr(sec, ZONE), xfr.file_records(src, ZONE),
                                "the restarted secondary", "version %d" % want)
        # And the change arrives when the primary tells it.
        xfr.notify(sec, ZONE, source="127.0.0.1", serial=2)
        xfr.wait_serial(sec, ZONE, 2, timeout=10)
        src.write_text(_text(2, v2))
        xfr.assert_same_records(xfr.axfr(sec, ZONE), xfr.file_records(src, ZONE), "the secondary", "version 2")
    sec.stop()
