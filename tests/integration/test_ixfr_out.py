"""test_ixfr_out.py -- Tandem as an IXFR primary, judged record by record (RFC 1995, issue 12).

A primary goes through several versions of a zone file (an operator's edits, each reloaded), then the test
asks IXFR from each older serial and reads the answer record by record, in order. What it must hold is
computed from the zone files alone (dnspython's zone reader; the last version also checked against what Knot
DNS serves from the same file), never from Tandem:

- RFC 1995 4: a difference sequence is the old version's SOA, the records removed, the new SOA, the records
  added; the answer starts and ends with the current SOA. RFC 1995 6 lets a server condense several versions
  into one sequence, and Tandem does (ARCHITECTURE.md: "condenses the entries into one change"): from any
  serial it keeps history for, exactly one sequence whose removals are what the old version had and the
  current one lacks, and whose additions the reverse -- a record added then removed in between appears
  nowhere, a record removed then put back neither, a TTL changed twice once with the first and the last TTL.
  The same after a restart (the history is in the store).
- A requester already at (or past, RFC 1982) the current serial gets the SOA alone.
- A serial the primary keeps no history for (trimmed by `journal-max-entries`, or never held) gets the whole
  zone (RFC 1995 4, docs/configuration.md), exactly the file's records between two SOAs.
- The same across the serial wrap (4294967295 -> 6 is a raise, RFC 1982).

Every transfer is signed (hmac-sha256) and the large changes span several messages: each one must carry a
TSIG record.
"""

import pytest

from harness import Acl, Key, Tandem, Zone
from harness import xfr

ZONE = "ixfr.test."
KEY = Key.generate("ixfr-key.", "hmac-sha256")

# The versions of the zone: serial -> (extra lines, generated hosts, SOA minimum). Read in order:
# 1 -> 2: "back" removed, "flash" added, "timed" TTL 300 -> 600, 6000 hosts added;
# 2 -> 3: "back" put back, "flash" removed, "timed" TTL 600 -> 900, 2000 hosts removed, SOA minimum 600;
# 3 -> 4: "gone" removed, "late" added, a second address for www.
# So from serial 1 the condensed change removes "timed" at TTL 300 and "gone", and adds "timed" at TTL 900,
# "late", www's second address and 4000 hosts (two messages or more); "back" and "flash" appear nowhere.
VERSIONS = {
    1: (["back A 192.0.2.50", "timed 300 A 192.0.2.60", "timed 300 A 192.0.2.61", 'gone TXT "bye"'], 0, 300),
    2: (["flash A 192.0.2.70", "timed 600 A 192.0.2.60", "timed 600 A 192.0.2.61", 'gone TXT "bye"'], 6000,
        300),
    3: (["back A 192.0.2.50", "timed 900 A 192.0.2.60", "timed 900 A 192.0.2.61", 'gone TXT "bye"'], 4000,
        600),
    4: (["back A 192.0.2.50", "timed 900 A 192.0.2.60", "timed 900 A 192.0.2.61", "late A 192.0.2.90",
         "www A 192.0.2.81"], 4000, 600),
}
# Across the wrap: the same edits as 1 -> 2 -> 3, at serials 4294967295 -> 6 -> 9.
WRAP = {4294967295: VERSIONS[1], 6: VERSIONS[2], 9: VERSIONS[3]}


def _text(serial, version):
    extra, hosts, minimum = version
    return xfr.zone_text(ZONE, serial, extra, hosts=hosts, minimum=minimum)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """{serial: (path, records)} for VERSIONS and WRAP, each file read by dnspython; the last version is
    also what Knot DNS serves from the same file."""
    d = tmp_path_factory.mktemp("versions")
    out = {}
    for serial, version in list(VERSIONS.items()) + list(WRAP.items()):
        path = d / ("v%d.zone" % serial)
        path.write_text(_text(serial, version))
        out[serial] = (path, xfr.file_records(path, ZONE))
    xfr.assert_same_records(xfr.knot_records(d, ZONE, out[4][0]), out[4][1], "Knot serving v4",
                            "dnspython reading v4")
    return out


def _primary(tmp_path, first, **kw):
    src = tmp_path / "first.zone"
    src.write_text(_text(first, (VERSIONS if first in VERSIONS else WRAP)[first]))
    return Tandem(tmp_path, [Zone(ZONE, src, acl=[Acl(["127.0.0.1"], KEY)])], **kw)


def _edit(t, serial, version):
    """The operator's edit: the file rewritten with the serial raised, a reload, the new serial served."""
    xfr.write_zone(t.zone_path(ZONE), _text(serial, version))
    t.reload()
    xfr.wait_serial(t, ZONE, serial, timeout=10)


def _soa(records):
    """The SOA record of an axfr()-style dict, as a stream gives records."""
    (owner, rtype), (ttl, rds) = next((k, v) for k, v in records.items() if k[1] == "SOA")
    return (owner, rtype, ttl, next(iter(rds)))


def _without_soa(records):
    return {r for r in xfr.flat(records) if r[1] != "SOA"}


def _sequences(stream):
    """The difference sequences of an IXFR answer (RFC 1995 4), as [(old SOA, removed, new SOA, added)],
    after checking that the answer starts and ends with the same SOA, and that SOAs alternate as the RFC
    says. The whole zone in answer (second record not an SOA) or the SOA alone give None."""
    recs = stream.records
    assert recs and recs[0][1] == "SOA", "the answer does not start with an SOA: %s" % recs[:3]
    if len(recs) == 1 or recs[1][1] != "SOA":
        return None
    final = recs[0]
    assert recs[-1] == final, "the answer ends with %s, not the first SOA %s" % (recs[-1], final)
    seqs, i = [], 1
    while i < len(recs) - 1:
        old = recs[i]
        assert old[1] == "SOA", "a difference sequence starts with %s, not an SOA" % (old,)
        j = i + 1
        while recs[j][1] != "SOA":
            j += 1
        removed, new = recs[i + 1:j], recs[j]
        k = j + 1
        while recs[k][1] != "SOA":
            k += 1
        seqs.append((old, removed, new, recs[j + 1:k]))
        i = k
    assert i == len(recs) - 1 and seqs[-1][2] == final, "the last sequence does not end at the current SOA"
    return seqs


def _ixfr(t, serial):
    s = xfr.xfr_stream(t, ZONE, "IXFR", serial=serial, key=KEY)
    assert all(s.signed), "messages without TSIG: %s of %d" % (
        [i + 1 for i, signed in enumerate(s.signed) if not signed], s.messages)
    return s


def _assert_one_condensed_sequence(t, files, old, new):
    """IXFR from old: exactly one difference sequence, from old's SOA (as its file has it, not the copy the
    request carried) to new's, removing and adding what the two files differ by."""
    s = _ixfr(t, old)
    seqs = _sequences(s)
    assert seqs is not None, "IXFR from %d: the whole zone or the SOA alone, not a difference" % old
    assert len(seqs) == 1, "IXFR from %d: %d difference sequences, Tandem condenses them into one" % (
        old, len(seqs))
    old_soa, removed, new_soa, added = seqs[0]
    assert old_soa == _soa(files[old][1]), "old SOA %s, the version had %s" % (old_soa, _soa(files[old][1]))
    assert new_soa == _soa(files[new][1]) == s.records[0]
    want_removed = _without_soa(files[old][1]) - _without_soa(files[new][1])
    want_added = _without_soa(files[new][1]) - _without_soa(files[old][1])
    for what, got, want in (("removed", removed, want_removed), ("added", added, want_added)):
        extra, missing = set(got) - want, want - set(got)
        assert not extra and not missing and len(got) == len(set(got)), (
            "IXFR %d -> %d, %s: not in the change %s, missing %s, %d repeated" % (
                old, new, what, sorted(extra)[:10], sorted(missing)[:10], len(got) - len(set(got))))
    return s, removed, added


def _assert_whole_zone(t, files, serial, asked):
    s = _ixfr(t, asked)
    assert _sequences(s) is None and len(s.records) > 1, "IXFR from %d: not the whole zone" % asked
    soa = _soa(files[serial][1])
    assert s.records[0] == soa and s.records[-1] == soa
    assert all(r[1] != "SOA" for r in s.records[1:-1])
    body = s.records[1:-1]
    assert len(body) == len(set(body)), "IXFR from %d: records sent twice" % asked
    xfr.assert_same_records(s.zone(), files[serial][1], "IXFR from %d (whole zone)" % asked,
                            "v%d's zone file" % serial)


def _assert_soa_only(t, files, serial, asked):
    s = _ixfr(t, asked)
    assert s.records == [_soa(files[serial][1])], "IXFR from %d at serial %d: %s" % (
        asked, serial, s.records[:5])


def test_ixfr_from_each_old_serial_is_one_condensed_difference(files, tmp_path):
    with _primary(tmp_path, 1) as t:
        for serial in (2, 3, 4):
            _edit(t, serial, VERSIONS[serial])
        xfr.assert_same_records(xfr.axfr(t, ZONE, KEY), files[4][1], "Tandem's AXFR", "v4's zone file")

        s, removed, added = _assert_one_condensed_sequence(t, files, 1, 4)
        # The cases of condensing, spelled out (the exact comparison above already holds them).
        owners = {r[0] for r in removed + added}
        assert "back.ixfr.test." not in owners, "removed then put back: no change"
        assert "flash.ixfr.test." not in owners, "added then removed: no change"
        assert [r[2] for r in removed if r[0] == "timed.ixfr.test."] == [300, 300]
        assert [r[2] for r in added if r[0] == "timed.ixfr.test."] == [900, 900]
        assert ("gone.ixfr.test.", "TXT", 3600, '"bye"') in removed
        assert len(added) == 4000 + 2 + 1 + 1
        assert s.messages >= 2, "4,000 records fit in one message?"

        _assert_one_condensed_sequence(t, files, 2, 4)
        _assert_one_condensed_sequence(t, files, 3, 4)
        _assert_soa_only(t, files, 4, 4)
        # RFC 1995 2 and RFC 1982: a requester ahead of us is told our SOA, nothing else.
        _assert_soa_only(t, files, 4, 5)
        # A serial this primary never held: the whole zone.
        _assert_whole_zone(t, files, 4, 0)

        # The history is in the store: after a restart the same answers.
        t.stop()
        t.start()
        t.wait_ready()
        for old in (1, 2, 3):
            _assert_one_condensed_sequence(t, files, old, 4)


def test_ixfr_falls_back_to_the_whole_zone_when_history_is_gone(files, tmp_path):
    """journal-max-entries 2: after three changes the step from 1 to 2 is forgotten."""
    with _primary(tmp_path, 1, extra_server={"journal-max-entries": 2}) as t:
        for serial in (2, 3, 4):
            _edit(t, serial, VERSIONS[serial])
        mark = t.log_mark()
        _assert_whole_zone(t, files, 4, 1)
        t.wait_log(r"ixfr\.test\.: AXFR to 127\.0\.0\.1@\d+ serial 4, %d records" % (
            len(xfr.flat(files[4][1])) + 1), mark=mark)
        _assert_one_condensed_sequence(t, files, 2, 4)
        _assert_one_condensed_sequence(t, files, 3, 4)
        _assert_soa_only(t, files, 4, 4)


def test_ixfr_across_the_serial_wrap(files, tmp_path):
    """RFC 1982: 4294967295 -> 6 -> 9 are raises; 4294967294 is older than all of them."""
    with _primary(tmp_path, 4294967295) as t:
        for serial in (6, 9):
            _edit(t, serial, WRAP[serial])
        _assert_one_condensed_sequence(t, files, 4294967295, 9)
        _assert_one_condensed_sequence(t, files, 6, 9)
        _assert_soa_only(t, files, 9, 9)
        _assert_soa_only(t, files, 9, 10)
        _assert_whole_zone(t, files, 9, 4294967294)
