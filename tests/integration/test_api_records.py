"""test_api_records.py -- a zone's records through the HTTP API and the `tandem` CLI (issue 10: records,
zone text, ETag/If-Match, dry run, history and revert; docs/api.md "Records").

The stories:

- records added, edited and removed through POST and PATCH: the serial goes up by the serial policy, DNS
  answers at once, a Tandem secondary and a Knot secondary follow by IXFR (their logs say IXFR), the zone file
  is written back;
- a stale If-Match gets 412 and changes nothing; concurrent writers (API and nsupdate) lose nothing and never
  make two SOAs;
- a dry run answers the diff, the next serial and the secondaries to notify, and changes nothing (store,
  serial, answers, history);
- every kind of bad input gets its status, its message and the field at fault, and changes nothing;
- the zone text: GET with ETag, PUT as one minimal diff, errors as `line: problem`;
- the history says who did what (API key, UPDATE with its key and address, zone file reload) and a revert
  undoes a change (409 when the records moved since, unless ?force=true);
- paging over a zone of a few thousand records visits every RRset once;
- SIGKILL during a stream of API writes and UPDATEs loses nothing acknowledged;
- every CLI command (`record list|add|del|set`, `zone export|import|edit|history|revert`).
"""

import contextlib
import json
import os
import re
import socket
import subprocess
import threading
import time

import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from harness import Acl, Key, Knot, Remote, Tandem, TandemApi, Zone, secondary
from harness import dnsq, xfr
from harness.api import TANDEM_CLI
from harness.ports import free_port

ZONE = "rec.test."
KEY = Key.generate("upd-key.")


def primary(tmp_path, notify=(), extra_lines=(), hosts=0, port=None, name="primary"):
    src = tmp_path / ("%s.zone" % name)
    src.write_text(xfr.zone_text(ZONE, 10, ["old A 192.0.2.50", "alias CNAME www"] + list(extra_lines),
                                 hosts=hosts))
    z = Zone(ZONE, src, notify=list(notify),
             acl=[Acl(["127.0.0.1"], key=KEY, allow=["update"]), Acl(["127.0.0.1"], allow=["transfer"])])
    return TandemApi(tmp_path, [z], name=name, port=port)


@contextlib.contextmanager
def running(*servers):
    """Each server started and ready (a TandemApi's API too), stopped in reverse order at the end."""
    with contextlib.ExitStack() as stack:
        for s in servers:
            stack.enter_context(s)
        yield servers


def answers(server, name, rdtype="A"):
    r = dnsq.ask(server, name, rdtype, tcp=True)
    t = dns.rdatatype.from_text(rdtype)
    return sorted(rd.to_text() for rrset in r.answer if rrset.rdtype == t for rd in rrset)


def soa_count(server):
    rrs = xfr.axfr(server, ZONE) if hasattr(xfr, "axfr") else None
    return rrs


def serial(server):
    return xfr.soa_serial(server, ZONE)


def history(s):
    st, j, _ = s.call("GET", "zones/%s/changes?limit=100" % ZONE)
    assert st == 200, j
    return j["changes"]


# ---- the story: add, edit, remove; secondaries follow by IXFR

def test_records_added_edited_removed_and_secondaries_follow(tmp_path):
    p_port, t_port, k_port = free_port(), free_port(), free_port()
    prim = primary(tmp_path, notify=[Remote("127.0.0.1", t_port), Remote("127.0.0.1", k_port)], port=p_port)
    sec = Tandem(tmp_path, [secondary(ZONE, [Remote("127.0.0.1", p_port)],
                                      acl=[Acl(["127.0.0.1"], allow=["transfer"])])],
                 name="tsec", port=t_port)
    knot = Knot(tmp_path, [secondary(ZONE, [Remote("127.0.0.1", p_port)])], name="ksec", port=k_port)
    with running(prim, sec, knot):
        xfr.wait_serial(sec, ZONE, 10)
        xfr.wait_serial(knot, ZONE, 10)
        st, j, h = prim.call("GET", "zones/%s/records?name=www.%s" % (ZONE, ZONE))
        assert st == 200 and re.fullmatch(r'"10-[0-9a-f]{16}"', h["etag"]), (st, h)
        # POST adds a record to an RRset.
        st, j, h = prim.call("POST", "zones/%s/records" % ZONE,
                             {"name": "new.%s" % ZONE, "type": "A", "ttl": 300, "rdata": ["192.0.2.1"]})
        assert st == 200 and j["changed"] and j["serial"] == 11, j
        assert j["added"] == ["new.rec.test. 300 IN A 192.0.2.1", "rec.test. 3600 IN SOA ns1.rec.test. "
                              "hostmaster.rec.test. 11 3600 600 604800 300"], j
        assert answers(prim, "new." + ZONE) == ["192.0.2.1"]
        # PATCH: several operations at once.
        st, j, h = prim.call("PATCH", "zones/%s/records" % ZONE, {"rrsets": [
            {"name": "new.%s" % ZONE, "type": "A", "changetype": "add", "records": ["192.0.2.2"]},
            {"name": "old.%s" % ZONE, "type": "A", "changetype": "delete"},
            {"name": "txt.%s" % ZONE, "type": "TXT", "ttl": 60, "changetype": "replace",
             "records": ['"hello world"', '"v=spf1 -all"']},
            {"name": "www", "type": "A", "ttl": 120, "changetype": "replace", "records": ["192.0.2.80"]},
        ]})
        assert st == 200 and j["serial"] == 12, j
        assert answers(prim, "new." + ZONE) == ["192.0.2.1", "192.0.2.2"]
        assert answers(prim, "old." + ZONE) == []
        assert answers(prim, "txt." + ZONE, "TXT") == ['"hello world"', '"v=spf1 -all"']
        r = dnsq.ask(prim, "www." + ZONE, "A", tcp=True)
        assert [rr.ttl for rr in r.answer] == [120] and r.answer[0][0].to_text() == "192.0.2.80"
        # remove one record
        st, j, h = prim.call("PATCH", "zones/%s/records" % ZONE, {"rrsets": [
            {"name": "new.%s" % ZONE, "type": "A", "changetype": "remove", "records": ["192.0.2.1"]}]})
        assert st == 200 and j["serial"] == 13 and j["removed"][0] == "new.rec.test. 300 IN A 192.0.2.1", j
        for s in (sec, knot):
            xfr.wait_serial(s, ZONE, 13)
            assert answers(s, "new." + ZONE) == ["192.0.2.2"]
            assert answers(s, "txt." + ZONE, "TXT") == ['"hello world"', '"v=spf1 -all"']
        # Both asked by IXFR (the primary logs who took what).
        sec.wait_log(r"IXFR")
        assert "IXFR" in knot.log_text()
        # The file was written back: a reload keeps the change.
        prim.wait_log(r"written back|wrote", timeout=10)
        assert "192.0.2.2" in (prim.zone_dir / "rec.test.zone").read_text()


def test_stale_if_match_412_and_dry_run_change_nothing(tmp_path):
    s = primary(tmp_path, notify=[Remote("127.0.0.1", free_port())]).serve()
    try:
        st, j, h = s.call("GET", "zones/%s/records?limit=1" % ZONE)
        tag = h["etag"]
        op = {"rrsets": [{"name": "a.%s" % ZONE, "type": "A", "ttl": 60, "changetype": "replace",
                          "records": ["192.0.2.9"]}]}
        st, j, h = s.call("PATCH", "zones/%s/records" % ZONE, op, headers={"If-Match": tag})
        assert st == 200 and j["serial"] == 11 and h["etag"] != tag
        new_tag = h["etag"]
        before = history(s)
        # the old tag is stale now
        st, j, h = s.call("PATCH", "zones/%s/records" % ZONE, {"rrsets": [
            {"name": "b.%s" % ZONE, "type": "A", "ttl": 60, "changetype": "replace",
             "records": ["192.0.2.10"]}]}, headers={"If-Match": tag})
        assert st == 412 and h["etag"] == new_tag, j
        st, j, h = s.call("PUT", "zones/%s/text" % ZONE, raw=b"x", headers={"If-Match": tag})
        assert st == 412
        assert answers(s, "b." + ZONE) == [] and serial(s) == 11
        # dry run: the diff, the next serial, the secondaries; nothing committed
        st, j, h = s.call("PATCH", "zones/%s/records?dry_run=true" % ZONE, {"rrsets": [
            {"name": "b.%s" % ZONE, "type": "A", "ttl": 60, "changetype": "replace",
             "records": ["192.0.2.10"]}]}, headers={"If-Match": new_tag})
        assert st == 200 and j["dry_run"] and j["serial"] == 12 and j["serial_from"] == 11, j
        assert "b.rec.test. 60 IN A 192.0.2.10" in j["added"] and len(j["notify"]) == 1
        assert h["etag"] == new_tag
        assert answers(s, "b." + ZONE) == [] and serial(s) == 11
        assert history(s) == before
        st, text, _ = s.call("GET", "zones/%s/text" % ZONE)
        assert "b.rec.test." not in text
        # a restart serves the same (nothing stored by the dry run)
        s.stop()
        s.serve()
        assert serial(s) == 11 and answers(s, "b." + ZONE) == []
    finally:
        s.stop()


BAD = [
    # (body, status, field, message part)
    ({"rrsets": [{"name": "bad..name", "type": "A", "ttl": 1, "changetype": "add", "records": ["192.0.2.1"]}]},
     422, "rrsets[0].name", "not a valid domain name"),
    ({"rrsets": [{"name": "x.example.org.", "type": "A", "ttl": 1, "changetype": "add", "records": ["192.0.2.1"]}]},
     422, "rrsets[0].name", "outside the zone"),
    ({"rrsets": [{"name": "ok", "type": "A", "ttl": 1, "changetype": "add", "records": ["192.0.2.1"]},
                 {"name": "x", "type": "A", "ttl": 1, "changetype": "add", "records": ["192.0.2.1", "300.1.1.1"]}]},
     422, "rrsets[1].records[1]", "not valid A data"),
    ({"rrsets": [{"name": "x", "type": "A", "ttl": -1, "changetype": "add", "records": ["192.0.2.1"]}]},
     422, "rrsets[0].ttl", "ttl"),
    ({"rrsets": [{"name": "x", "type": "A", "ttl": 2147483648, "changetype": "add", "records": ["192.0.2.1"]}]},
     422, "rrsets[0].ttl", "ttl"),
    ({"rrsets": [{"name": "www", "type": "CNAME", "ttl": 60, "changetype": "add", "records": ["old"]}]},
     422, "rrsets[0]", "CNAME beside other data"),
    ({"rrsets": [{"name": "alias", "type": "A", "ttl": 60, "changetype": "add", "records": ["192.0.2.1"]}]},
     422, "rrsets[0]", "CNAME beside other data"),
    ({"rrsets": [{"name": "x", "type": "BOGUS", "ttl": 60, "changetype": "add", "records": ["1"]}]},
     422, "rrsets[0].type", "unknown type"),
    ({"rrsets": [{"name": "x", "type": "RRSIG", "ttl": 60, "changetype": "add", "records": ["1"]}]},
     422, "rrsets[0].type", "signer"),
    ({"rrsets": [{"name": "@", "type": "SOA", "changetype": "delete"}]},
     422, "rrsets[0].changetype", "SOA"),
    ({"rrsets": [{"name": "@", "type": "NS", "changetype": "delete"}]},
     422, None, "apex NS"),
    ({"rrsets": [{"name": "x", "type": "A", "ttl": 60, "changetype": "upsert", "records": ["192.0.2.1"]}]},
     422, "rrsets[0].changetype", "changetype"),
    ({"rrsets": [{"name": "x", "type": "TXT", "ttl": 60, "changetype": "add", "records": ['"a"\nb A 192.0.2.1']}]},
     422, "rrsets[0].records[0]", "line breaks"),
    ({"rrsets": []}, 422, "rrsets", "rrsets"),
]


def test_bad_input_named_and_nothing_changed(tmp_path):
    s = primary(tmp_path).serve()
    try:
        _, before, h0 = s.call("GET", "zones/%s/text" % ZONE)
        for body, status, field, part in BAD:
            st, j, h = s.call("PATCH", "zones/%s/records" % ZONE, body)
            assert st == status, (body, st, j)
            assert part in j["error"], (body, j)
            if field is not None:
                assert j["field"] == field, (body, j)
        # POST names its own fields
        st, j, h = s.call("POST", "zones/%s/records" % ZONE, {"name": "x", "type": "A", "ttl": 5,
                                                              "rdata": ["192.0.2.1", "nope"]})
        assert st == 422 and j["field"] == "rdata[1]", j
        # malformed JSON, not JSON, unknown zone, oversized body
        st, j, h = s.call("PATCH", "zones/%s/records" % ZONE, raw=b"{not json",
                          headers={"Content-Type": "application/json"})
        assert st == 400 and "not JSON" in j["error"]
        st, j, h = s.call("PATCH", "zones/%s/records" % ZONE, raw=b"x", headers={"Content-Type": "text/plain"})
        assert st == 415
        st, j, h = s.call("PATCH", "zones/nope.test./records", {"rrsets": []})
        assert st == 404 and "no zone" in j["error"]
        st, j, h = s.call("PATCH", "zones/%s/records" % ZONE, raw=b"[" * (2 * 1024 * 1024),
                          headers={"Content-Type": "application/json"})
        assert st == 413
        _, after, h1 = s.call("GET", "zones/%s/text" % ZONE)
        assert after == before and h1["etag"] == h0["etag"] and serial(s) == 10
        assert history(s) == []
    finally:
        s.stop()


def test_zone_text_get_put_minimal_diff_and_line_errors(tmp_path):
    s = primary(tmp_path).serve()
    try:
        st, text, h = s.call("GET", "zones/%s/text" % ZONE)
        assert st == 200 and h["content-type"].startswith("text/") and text.startswith("rec.test.")
        assert "old.rec.test." in text
        edited = text.replace("192.0.2.50", "192.0.2.51") + "added.rec.test. 300 IN AAAA 2001:db8::1\n"
        st, j, h2 = s.call("PUT", "zones/%s/text" % ZONE, raw=edited.encode(), headers={"If-Match": h["etag"]})
        assert st == 200 and j["serial"] == 11, j
        # minimal: only the changed records (and the SOA) in the diff
        assert sorted(j["removed"]) == sorted(["old.rec.test. 3600 IN A 192.0.2.50",
                                               [r for r in j["removed"] if " SOA " in r][0]])
        assert len(j["added"]) == 3
        assert answers(s, "old." + ZONE) == ["192.0.2.51"]
        assert answers(s, "added." + ZONE, "AAAA") == ["2001:db8::1"]
        # errors as line: problem; nothing changed
        bad = edited + "broken.rec.test. 300 IN A 999.1.1.1\nelse.example.org. 300 IN A 192.0.2.1\n"
        st, j, h = s.call("PUT", "zones/%s/text" % ZONE, raw=bad.encode())
        n = len(edited.splitlines())
        assert st == 422 and j["error"].startswith("%d: " % (n + 1)), j
        assert any(e.startswith("%d: " % (n + 2)) and "outside" in e for e in j["errors"]), j
        st, j, h = s.call("PUT", "zones/%s/text" % ZONE, raw=b"$INCLUDE /etc/passwd\n")
        assert st == 422 and "$INCLUDE" in j["error"]
        st, j, h = s.call("PUT", "zones/%s/text" % ZONE, raw=b"www.rec.test. 300 IN A 192.0.2.1\n")
        assert st == 422 and "SOA" in j["error"]
        assert serial(s) == 11
    finally:
        s.stop()


def nsupdate(server, commands, key=KEY):
    lines = ["server %s %d" % (server.addr, server.port), "zone %s" % ZONE] + list(commands) + ["send", ""]
    argv = ["nsupdate", "-t", "5", "-y", "%s:%s:%s" % (key.algorithm, key.name, key.secret)]
    p = subprocess.run(argv, input="\n".join(lines), capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout + p.stderr


def add(s, name, addr, headers=None):
    return s.call("PATCH", "zones/%s/records" % ZONE, {"rrsets": [
        {"name": name, "type": "A", "ttl": 60, "changetype": "add", "records": [addr]}]}, headers=headers)


def test_an_edit_is_answered_while_the_zone_file_is_written_back(tmp_path):
    """The write-back of a zone file (a second after an edit; half a second of work at 1,000,000 records)
    runs on a thread of its own (runtime/zonework.c), not on the control thread that answers the API. The
    write-back here is made to pause for 6 s where it starts writing (TANDEM_PAUSE_AT): an edit sent during
    the pause is answered and served before the write-back ends, and the file then holds both edits."""
    s = primary(tmp_path)
    s.env = {"TANDEM_PAUSE_AT": "filesync-write:6"}
    with running(s):
        mark = s.log_mark()
        st, j, _ = add(s, "first." + ZONE, "192.0.2.31")
        assert st == 200, j
        s.wait_log(r"pause point filesync-write reached", mark=mark, timeout=10)
        st, j, _ = add(s, "second." + ZONE, "192.0.2.32")
        assert st == 200, j
        assert answers(s, "second." + ZONE) == ["192.0.2.32"]
        assert "written back after dynamic updates" not in s.log_since(mark), s.log_since(mark)
        # The paused write-back ends, then the second edit's own one (paused too) writes both.
        s.wait_log(r"zone file .* written back after dynamic updates \(serial %d," % serial(s), mark=mark,
                   timeout=30)
        text = s.zone_path(ZONE).read_text()
        assert "192.0.2.31" in text and "192.0.2.32" in text, text



def two_zones(tmp_path):
    """ZONE (primary()'s) and other.test., both primaries with a file, one TandemApi."""
    src = tmp_path / "other.zone"
    src.write_text(xfr.zone_text("other.test.", 1, []))
    s = primary(tmp_path)
    s.zones.append(Zone("other.test.", src))
    return s


def reload_edit(s, serial_to, extra=()):
    """ZONE's file with a new serial and reloaded.ZONE added (and extra lines), then POST .../reload."""
    s.zone_path(ZONE).write_text(xfr.zone_text(ZONE, serial_to, ["old A 192.0.2.50", "alias CNAME www",
                                                                "reloaded A 192.0.2.77"] + list(extra)))
    st, j, _ = s.call("POST", "zones/%s/reload" % ZONE)
    assert st == 202, j


def reload_view(s):
    st, j, _ = s.call("GET", "zones/%s" % ZONE)
    assert st == 200, j
    return j["primary"]["reload"]


def wait_reload_done(s, timeout=30):
    """The zone's view of its last reload once it says done (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = reload_view(s)
        if view["state"] == "done":
            return view
        time.sleep(0.05)
    raise AssertionError("reload still %s after %d s" % (view, timeout))


@contextlib.contextmanager
def reload_paused(s):
    """s running with its reloads made to pause 6 s where the file is read (TANDEM_PAUSE_AT), ZONE's file edited
    to serial 11 and its reload asked for: yields the log mark from before, once the pause is reached."""
    s.env = {"TANDEM_PAUSE_AT": "reload-read:6"}
    with running(s):
        mark = s.log_mark()
        reload_edit(s, 11)
        s.wait_log(r"pause point reload-read reached", mark=mark, timeout=10)
        yield mark


def test_a_reload_reads_the_zone_file_off_the_control_thread(tmp_path):
    """A zone's reload (POST .../reload, `tandem zone reload`) reads, parses, checks and compares the file on
    runtime/zonework.c's thread (about 1.3 s at 1,000,000 records, which held the API and every other zone's
    UPDATEs and timers that long on the control thread); the control thread only commits the change. The read
    is made to pause 6 s here (TANDEM_PAUSE_AT=reload-read:6): meanwhile an API edit of another zone is answered
    and served and the zone reloaded still serves its old version; then the file's change is served, made from
    the comparison done on that thread ("compared in"), and journaled as a change from the zone file."""
    s = two_zones(tmp_path)
    with reload_paused(s) as mark:
        assert reload_view(s)["state"] == "reading"
        # Asked again while the file is read: the view says reading until that second read is done too.
        st, j, _ = s.call("POST", "zones/%s/reload" % ZONE)
        assert st == 202, j
        st, j, _ = s.call("PATCH", "zones/other.test./records", {"rrsets": [
            {"name": "new.other.test.", "type": "A", "ttl": 60, "changetype": "add", "records": ["192.0.2.9"]}]})
        assert st == 200, j
        assert answers(s, "new.other.test.") == ["192.0.2.9"]
        assert answers(s, "reloaded." + ZONE) == [] and serial(s) == 10
        assert "loaded from" not in s.log_since(mark), s.log_since(mark)
        xfr.wait_serial(s, ZONE, 11, timeout=30)
        assert reload_view(s)["state"] == "reading"   # the second read, paused in its turn
        assert answers(s, "reloaded." + ZONE) == ["192.0.2.77"]
        assert re.search(r"rec\.test\.: loaded from \S+ \(parsed and checked in \d+ ms, compared in \d+ ms\), "
                         r"serial 11,", s.log_since(mark)), s.log_since(mark)
        assert history(s)[0]["who"].startswith("zone file ") and history(s)[0]["serial_to"] == 11
        assert wait_reload_done(s)["last_result"] == "unchanged: serial 11"
        # Edited again without raising its serial: the change gets the next one anyway, and the warning says so.
        mark = s.log_mark()
        reload_edit(s, 11, ["again A 192.0.2.78"])
        xfr.wait_serial(s, ZONE, 12, timeout=30)
        assert answers(s, "again." + ZONE) == ["192.0.2.78"]
        assert "zone file %s changed but its serial 11 did not increase: serving it as 12" % s.zone_path(ZONE) \
            in s.log_since(mark), s.log_since(mark)
        assert wait_reload_done(s)["last_result"] == "serial 11 -> 12"
        r = s.cli("zone", "show", ZONE)
        assert r.returncode == 0 and re.search(r"^last reload: .*: serial 11 -> 12$", r.stdout, re.M), r.stdout


def test_a_reload_of_a_broken_file_says_why_and_changes_nothing(tmp_path):
    """A reload of a file that does not parse: the zone serves on what it had, and its view (and `tandem zone
    show`) says, once the reload is done, that it did not load and why (the log has the file and line)."""
    s = primary(tmp_path)
    with running(s):
        assert reload_view(s) == {"state": "none", "last_result": None, "last_at": None}
        mark = s.log_mark()
        s.zone_path(ZONE).write_text(s.zone_path(ZONE).read_text() + "broken A not-an-address\n")
        st, j, _ = s.call("POST", "zones/%s/reload" % ZONE)
        assert st == 202, j
        view = wait_reload_done(s)
        assert view["last_result"].startswith("not loaded: ") and view["last_result"].endswith(
            "still serving serial 10"), view
        assert isinstance(view["last_at"], int) and view["last_at"] > 0, view
        assert serial(s) == 10 and answers(s, "old." + ZONE) == ["192.0.2.50"]
        assert re.search(r"zone\S*:\d+: ", s.log_since(mark)), s.log_since(mark)
        r = s.cli("zone", "show", ZONE)
        assert r.returncode == 0 and "last reload: " in r.stdout and "not loaded: " in r.stdout, r.stdout


def test_a_reload_whose_zone_changed_meanwhile_loses_nothing(tmp_path):
    """An API edit of the zone committed while its file is read for a reload (paused 6 s): the comparison made
    on the other thread is from a version no longer served, so it is not used; the control thread looks at the
    file again against what the store holds now. The store is ahead of the file (the edit is not written back
    yet), so the edit stays served and the file is written again from the store (the file's edit kept in
    FILE.bak), as docs/behaviour.md says of a reload while a write-back is due."""
    s = primary(tmp_path)
    with reload_paused(s) as mark:
        st, j, _ = add(s, "during." + ZONE, "192.0.2.33")
        assert st == 200, j
        assert answers(s, "during." + ZONE) == ["192.0.2.33"] and serial(s) == 11
        s.wait_log(r"zone file .* written back after dynamic updates \(serial 11,", mark=mark, timeout=40)
        assert "compared in" not in s.log_since(mark), s.log_since(mark)
        assert wait_reload_done(s)["last_result"].startswith(
            "not read: the zone has dynamic updates the file lacks; serving serial 11"), reload_view(s)
        assert answers(s, "during." + ZONE) == ["192.0.2.33"] and serial(s) == 11
        text = s.zone_path(ZONE).read_text()
        assert "192.0.2.33" in text, text
        bak = s.zone_path(ZONE).with_name(s.zone_path(ZONE).name + ".bak").read_text()
        assert "192.0.2.77" in bak, bak


def test_a_reload_of_a_zone_removed_meanwhile_is_dropped(tmp_path):
    """The zone is removed from the configuration (SIGHUP) while its file is read for a reload (paused 6 s):
    what was read is not applied ("not applied" in the log), so the zone removed is not stored again: it stays
    REFUSED, after a restart too, while the other zone serves on."""
    s = two_zones(tmp_path)
    with reload_paused(s) as mark:
        s.zones = [z for z in s.zones if z.name != ZONE]
        s.prepare()
        s.reload()
        s.wait_log(r"reloaded: 1 zones", mark=mark, timeout=10)
        s.wait_log(r"rec\.test\.: reload: the zone's settings changed while its file was read; not applied",
                   mark=mark, timeout=30)
        assert dnsq.ask(s, ZONE, "SOA").rcode() == dns.rcode.REFUSED
        assert "loaded from" not in s.log_since(mark), s.log_since(mark)
        s.stop()
        s.env = {}
        s.start()
        s.wait_ready()
        assert dnsq.ask(s, ZONE, "SOA").rcode() == dns.rcode.REFUSED
        assert dnsq.ask(s, "other.test.", "SOA").rcode() == dns.rcode.NOERROR


def test_a_sighup_reads_a_large_zone_file_off_the_control_thread(tmp_path):
    """A reload of the configuration (SIGHUP) leaves the file of a primary it serves with 10,000 records or more
    to runtime/zonework.c's thread, as a reload of that one zone does; the pass, which holds the control thread
    (the API, NOTIFYs, timers, every zone's UPDATEs), reads only the smaller files. The large zone's read is made
    to pause 6 s (TANDEM_PAUSE_AT=reload-read:6): meanwhile the pass has ended, the small zone's edit it read is
    served, an API edit is answered and served, and the large zone still serves its old version and says it is
    reading; then its change is served, compared on that thread, and its view says what the reload did. A pass
    that read the large file itself would never reach the pause."""
    s = primary(tmp_path, hosts=10000)
    other = tmp_path / "other.zone"
    other.write_text(xfr.zone_text("other.test.", 1, []))
    s.zones.append(Zone("other.test.", other))
    s.env = {"TANDEM_PAUSE_AT": "reload-read:6"}
    with running(s):
        mark = s.log_mark()
        xfr.write_zone(s.zone_path(ZONE), xfr.zone_text(ZONE, 11, ["old A 192.0.2.50", "alias CNAME www",
                                                                  "reloaded A 192.0.2.77"], hosts=10000))
        xfr.write_zone(s.zone_path("other.test."), xfr.zone_text("other.test.", 2, ["fresh A 192.0.2.88"]))
        s.reload()
        s.wait_log(r"pause point reload-read reached", mark=mark, timeout=10)
        s.wait_log(r"reloaded: 2 zones", mark=mark, timeout=10)
        assert "1 large zone files (10000 records or more) read on the zone-work thread" in s.log_since(mark)
        assert answers(s, "fresh.other.test.") == ["192.0.2.88"]
        assert reload_view(s)["state"] == "reading"
        st, j, _ = s.call("PATCH", "zones/other.test./records", {"rrsets": [
            {"name": "new.other.test.", "type": "A", "ttl": 60, "changetype": "add", "records": ["192.0.2.9"]}]})
        assert st == 200, j
        assert answers(s, "new.other.test.") == ["192.0.2.9"]
        assert answers(s, "reloaded." + ZONE) == [] and serial(s) == 10
        assert not re.search(r"rec\.test\.: loaded from", s.log_since(mark)), s.log_since(mark)
        xfr.wait_serial(s, ZONE, 11, timeout=30)
        assert answers(s, "reloaded." + ZONE) == ["192.0.2.77"] and answers(s, "h9999." + ZONE) == ["10.0.39.15"]
        assert re.search(r"rec\.test\.: loaded from \S+ \(parsed and checked in \d+ ms, compared in \d+ ms\), "
                         r"serial 11,", s.log_since(mark)), s.log_since(mark)
        assert wait_reload_done(s)["last_result"] == "serial 10 -> 11"
        # Unchanged at the next SIGHUP: read on that thread again (its size and time are recent, so hashed), and
        # nothing changes.
        mark = s.log_mark()
        s.reload()
        s.wait_log(r"reloaded: 2 zones", mark=mark, timeout=10)
        s.wait_log(r"pause point reload-read reached", mark=mark, timeout=10)
        time.sleep(6.5)
        assert wait_reload_done(s)["last_result"] == "unchanged: serial 11"
        assert serial(s) == 11 and "loaded from" not in s.log_since(mark), s.log_since(mark)


# ---- history and revert

def test_history_says_who_and_revert_undoes(tmp_path):
    s = primary(tmp_path).serve()
    try:
        st, j, _ = add(s, "h1", "192.0.2.1")
        assert st == 200
        rc, out = nsupdate(s, ["update add h2.%s 60 A 192.0.2.2" % ZONE])
        assert rc == 0, out
        zf = s.zone_dir / "rec.test.zone"
        s.wait_log("written back|wrote", timeout=10)
        changes = history(s)
        assert [c["serial_to"] for c in changes] == [12, 11]
        assert changes[0]["who"].startswith("update from 127.0.0.1") and "upd-key." in changes[0]["who"]
        assert changes[1]["who"].startswith("api key admin from 127.0.0.1")
        assert "h1.rec.test. 60 IN A 192.0.2.1" in changes[1]["added"]
        # a zone file edit and reload is in the history too
        time.sleep(0.01)
        zf.write_text(zf.read_text().replace("192.0.2.50", "192.0.2.55"))
        st, _, _ = s.call("POST", "zones/%s/reload" % ZONE)
        xfr.wait_serial(s, ZONE, 13)
        assert history(s)[0]["who"].startswith("zone file ")
        # revert the API change: h1 goes, a new serial
        st, j, _ = s.call("POST", "zones/%s/changes/%d/revert" % (ZONE, changes[1]["id"]))
        assert st == 200 and j["serial"] == 14 and j["removed"][0] == "h1.rec.test. 60 IN A 192.0.2.1", j
        assert answers(s, "h1." + ZONE) == [] and answers(s, "h2." + ZONE) == ["192.0.2.2"]
        assert history(s)[0]["who"].startswith("api key admin")
        # reverting it again: the record is already gone -> 409, unless forced
        st, j, _ = s.call("POST", "zones/%s/changes/%d/revert" % (ZONE, changes[1]["id"]))
        assert st == 409 and j["conflicts"] == ["already gone: h1.rec.test. 60 IN A 192.0.2.1"], j
        st, j, _ = s.call("POST", "zones/%s/changes/%d/revert?force=true" % (ZONE, changes[1]["id"]))
        assert st == 200 and j["changed"] is False and serial(s) == 14
        st, j, _ = s.call("POST", "zones/%s/changes/999999/revert" % ZONE)
        assert st == 404
        # paging through the history
        st, j, _ = s.call("GET", "zones/%s/changes?limit=2" % ZONE)
        assert len(j["changes"]) == 2 and j["next"] is not None
        st, j2, _ = s.call("GET", "zones/%s/changes?limit=2&before=%s" % (ZONE, j["next"]))
        assert [c["id"] for c in j2["changes"]] == [changes[0]["id"], changes[1]["id"]]
    finally:
        s.stop()


def test_history_is_bounded_in_octets(tmp_path):
    """Changes of about 180 KiB each (each kept whole: below 256 KiB an entry), 100 of them: the zone's
    history keeps at most 16 MiB of diffs (docs/limits.md), so the oldest go long before the bound of
    1,000 entries; the newest stays and can be reverted."""
    s = primary(tmp_path).serve()
    try:
        txt = '"%s"' % ("x" * 190)
        for n in range(100):
            body = {"rrsets": [{"name": "big%d.%s" % (n, ZONE), "type": "TXT", "ttl": 60,
                                "changetype": "replace",
                                "records": ["%s \"%04d\"" % (txt, i) for i in range(900)]}]}
            st, j, _ = s.call("PATCH", "zones/%s/records" % ZONE, body)
            assert st == 200 and j["changed"], (n, st, j)
        st, j, _ = s.call("GET", "zones/%s/changes?limit=100" % ZONE)
        assert st == 200 and j["next"] is None, (st, j.get("next"))
        changes = j["changes"]
        # 100 changes of about 180 KiB: 16 MiB holds about 90, and a trim leaves seven eighths.
        assert 60 < len(changes) < 100, len(changes)
        assert changes[0]["serial_to"] == serial(s)
        assert all(c["revertable"] for c in changes), [c["id"] for c in changes if not c["revertable"]]
        st, j, _ = s.call("POST", "zones/%s/changes/%d/revert" % (ZONE, changes[0]["id"]))
        gone = [r for r in j.get("removed", []) if r.startswith("big99.")]
        assert st == 200 and len(gone) == 900, (st, len(gone))
        assert answers(s, "big99." + ZONE, "TXT") == []
    finally:
        s.stop()


# ---- paging

def test_paging_visits_every_rrset_once(tmp_path):
    s = primary(tmp_path, hosts=3000).serve()
    try:
        _, text, _ = s.call("GET", "zones/%s/text" % ZONE)
        want = {(l.split()[0], l.split()[3]) for l in text.splitlines() if l.strip()}
        seen, cursor, pages = [], None, 0
        while True:
            path = "zones/%s/records?limit=250" % ZONE + ("&cursor=" + cursor if cursor else "")
            st, j, _ = s.call("GET", path)
            assert st == 200, j
            seen += [(r["name"], r["type"]) for r in j["rrsets"]]
            pages += 1
            cursor = j["next"]
            if cursor is None:
                break
            # a change between pages does not make the walk skip or repeat what stays
            if pages == 3:
                assert add(s, "zzz-new", "192.0.2.77")[0] == 200
                want.add(("zzz-new.rec.test.", "A"))
                want = {(n, t) for n, t in want if not (n == "rec.test." and t == "SOA")} | {("rec.test.", "SOA")}
        assert len(seen) == len(set(seen)), "an RRset came twice"
        assert set(seen) == want
        assert pages >= 12
        # filters
        st, j, _ = s.call("GET", "zones/%s/records?type=NS" % ZONE)
        assert [(r["name"], r["type"]) for r in j["rrsets"]] == [("rec.test.", "NS")]
        st, j, _ = s.call("GET", "zones/%s/records?q=192.0.2.77" % ZONE)
        assert [r["name"] for r in j["rrsets"]] == ["zzz-new.rec.test."]
        st, j, _ = s.call("GET", "zones/%s/records?cursor=zz" % ZONE)
        assert st == 400 and j["field"] == "cursor"
        st, j, _ = s.call("GET", "zones/%s/records?limit=1001" % ZONE)
        assert st == 422 and j["field"] == "limit"
    finally:
        s.stop()


def walk(s, limit=1000):
    """Every RRset of the zone through the records pages: (name, type) in the order served."""
    seen, cursor = [], None
    for _ in range(10000):
        path = "zones/%s/records?limit=%d" % (ZONE, limit) + ("&cursor=" + cursor if cursor else "")
        st, j, _ = s.call("GET", path)
        assert st == 200, j
        seen += [(r["name"], r["type"]) for r in j["rrsets"]]
        cursor = j["next"]
        if cursor is None:
            return seen
    raise AssertionError("the walk never ended")


def test_a_large_zone_pages_in_canonical_order_from_its_first_page(tmp_path):
    """Over 50,000 names the order is made ahead on a thread of its own (api/apiorder.h): the
    first walk, started at once, and a walk after a change both list every RRset once, in RFC 4034
    canonical order."""
    s = primary(tmp_path, hosts=60000).serve()
    try:
        first = walk(s)
        names = [dns.name.from_text(n) for n, _ in first]
        assert all(a <= b for a, b in zip(names, names[1:])), "not in canonical order"
        assert len(first) == len(set(first)) and len(first) > 60000
        assert add(s, "Aaa-new", "192.0.2.78")[0] == 200
        second = walk(s)
        assert set(second) == set(first) | {("aaa-new.rec.test.", "A")}
        names = [dns.name.from_text(n) for n, _ in second]
        assert all(a <= b for a, b in zip(names, names[1:]))
    finally:
        s.stop()


# ---- concurrency and crashes

def test_concurrent_writers_lose_nothing_and_one_soa(tmp_path):
    s = primary(tmp_path).serve()
    try:
        done, errors = [], []

        def api_writer(k):
            for i in range(15):
                st, j, _ = add(s, "api%d-%d" % (k, i), "192.0.2.%d" % (i + 1))
                (done if st == 200 else errors).append(("api", k, i, st, j))

        def ddns_writer():
            for i in range(15):
                rc, out = nsupdate(s, ["update add upd%d.%s 60 A 192.0.2.%d" % (i, ZONE, i + 1)])
                (done if rc == 0 else errors).append(("upd", i, rc, out))

        threads = [threading.Thread(target=api_writer, args=(k,)) for k in range(2)]
        threads.append(threading.Thread(target=ddns_writer))
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors[:3]
        assert len(done) == 45
        assert serial(s) == 10 + 45
        rrs = dnsq.axfr_records(s, ZONE) if hasattr(dnsq, "axfr_records") else None
        _, text, _ = s.call("GET", "zones/%s/text" % ZONE)
        assert sum(1 for l in text.splitlines() if l.split()[3:4] == ["SOA"]) == 1
        for k in range(2):
            for i in range(15):
                assert "api%d-%d.rec.test." % (k, i) in text
        for i in range(15):
            assert "upd%d.rec.test." % i in text
        # a write with the If-Match of a version before another's write: 412, never a lost update
        st, _, h = s.call("GET", "zones/%s/records?limit=1" % ZONE)
        assert add(s, "x1", "192.0.2.1")[0] == 200
        assert add(s, "x2", "192.0.2.2", headers={"If-Match": h["etag"]})[0] == 412
    finally:
        s.stop()


def test_sigkill_during_writes_loses_nothing_acknowledged(tmp_path):
    s = primary(tmp_path).serve()
    acked = []
    stop = threading.Event()

    def api_writer():
        i = 0
        while not stop.is_set():
            try:
                st, j, _ = add(s, "k%d" % i, "192.0.2.1")
            except Exception:
                return
            if st == 200:
                acked.append("k%d.rec.test." % i)
            i += 1

    def ddns_writer():
        i = 0
        while not stop.is_set():
            rc, _ = nsupdate(s, ["update add u%d.%s 60 A 192.0.2.2" % (i, ZONE)])
            if rc == 0 and not stop.is_set():
                acked.append("u%d.rec.test." % i)
            i += 1

    threads = [threading.Thread(target=api_writer), threading.Thread(target=ddns_writer)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acked) < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    s.kill()
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acked) >= 20
    s.serve()
    try:
        _, text, _ = s.call("GET", "zones/%s/text" % ZONE)
        names = {l.split()[0] for l in text.splitlines() if l.strip()}
        missing = [n for n in acked if n not in names]
        assert not missing, missing
        assert sum(1 for l in text.splitlines() if l.split()[3:4] == ["SOA"]) == 1
        # served whole: every name of the text answers
        for n in acked[:10]:
            assert answers(s, n) != []
    finally:
        s.stop()


# ---- the CLI

def test_cli_record_and_zone_commands(tmp_path):
    s = primary(tmp_path).serve()
    try:
        r = s.cli("record", "add", ZONE, "mail", "MX", "300", "10 mx1.rec.test.")
        assert r.returncode == 0 and "serial 10 -> 11" in r.stdout and "+ mail.rec.test. 300 IN MX 10 mx1.rec.test." in r.stdout, r.stderr
        r = s.cli("record", "set", ZONE, "www", "A", "120", "192.0.2.81", "192.0.2.82")
        assert r.returncode == 0, r.stderr
        assert answers(s, "www." + ZONE) == ["192.0.2.81", "192.0.2.82"]
        r = s.cli("record", "del", ZONE, "www", "A", "192.0.2.81")
        assert r.returncode == 0 and answers(s, "www." + ZONE) == ["192.0.2.82"]
        r = s.cli("record", "del", ZONE, "old", "A")
        assert r.returncode == 0 and answers(s, "old." + ZONE) == []
        r = s.cli("record", "add", ZONE, "bad", "A", "60", "300.0.0.1")
        assert r.returncode == 2 and "not valid A data" in r.stderr and "rdata" not in r.stdout, r.stderr
        r = s.cli("record", "list", ZONE)
        assert r.returncode == 0 and "www.rec.test. 120 IN A 192.0.2.82" in r.stdout.splitlines()
        r = s.cli("record", "list", ZONE, "--type", "MX", "--json")
        assert {"name": "mail.rec.test.", "type": "MX", "ttl": 300, "records": ["10 mx1.rec.test."]} in json.loads(r.stdout)
        r = s.cli("record", "list", "nope.test.")
        assert r.returncode == 3
        # export / import
        out = tmp_path / "export.zone"
        r = s.cli("zone", "export", ZONE, out)
        assert r.returncode == 0 and "mail.rec.test." in out.read_text()
        out.write_text(out.read_text() + "imported.rec.test. 300 IN A 192.0.2.99\n")
        r = s.cli("zone", "import", ZONE, out)
        assert r.returncode == 0 and "+ imported.rec.test. 300 IN A 192.0.2.99" in r.stdout, r.stderr
        assert answers(s, "imported." + ZONE) == ["192.0.2.99"]
        # edit with a scripted $EDITOR
        editor = tmp_path / "ed.sh"
        editor.write_text("#!/bin/sh\nsed -i 's/192.0.2.99/192.0.2.98/' \"$1\"\n")
        editor.chmod(0o755)
        r = s.cli("zone", "edit", ZONE, env={"EDITOR": str(editor)})
        assert r.returncode == 0 and "+ imported.rec.test. 300 IN A 192.0.2.98" in r.stdout, r.stderr
        assert answers(s, "imported." + ZONE) == ["192.0.2.98"]
        # a conflict: the editor script changes the zone through the API meanwhile
        editor.write_text("#!/bin/sh\nsed -i 's/192.0.2.98/192.0.2.97/' \"$1\"\n%s --server %s --key-file %s "
                          "record add %s other A 60 192.0.2.5 >/dev/null\n" % (TANDEM_CLI, s.api_addr, s.key_file, ZONE))
        r = s.cli("zone", "edit", ZONE, env={"EDITOR": str(editor)})
        assert r.returncode == 2 and "changed by someone else" in r.stderr, r.stderr
        kept = re.search(r"kept in (/\S+?\.zone)", r.stderr).group(1)
        assert "192.0.2.97" in open(kept).read()
        assert answers(s, "imported." + ZONE) == ["192.0.2.98"]
        os.unlink(kept)
        # history and revert
        r = s.cli("zone", "history", ZONE)
        assert r.returncode == 0 and "api key admin" in r.stdout
        first = r.stdout.splitlines()[-1].split()[0]
        j = json.loads(s.cli("zone", "history", ZONE, "--json").stdout)
        assert str(j["changes"][-1]["id"]) == first
        r = s.cli("zone", "revert", ZONE, first)
        assert r.returncode == 0 and "- mail.rec.test. 300 IN MX 10 mx1.rec.test." in r.stdout, r.stdout + r.stderr
        assert answers(s, "mail." + ZONE, "MX") == []
        r = s.cli("zone", "revert", ZONE, first)
        assert r.returncode == 2 and "--force" in r.stderr
    finally:
        s.stop()


def test_replies_not_taken_are_bounded_across_connections(tmp_path):
    """A zone's text is tens of MiB on a large zone: clients that ask for it and never read must not
    make the server hold a copy each. Replies not yet taken are bounded all connections together
    (256 MiB, api/http.c): beyond, a large reply is 503 and the connection closes; small answers
    still go out, and once the readers go, the text is served again."""
    s = primary(tmp_path, hosts=250000)
    s.http["timeout"] = 300   # the readers are dropped after http.timeout: keep them for the test
    s.serve()
    conns = []
    try:
        key = s.key()
        request = ("GET /api/v1/zones/%s/text HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\n\r\n"
                   % (ZONE, key)).encode()
        statuses = []
        for _ in range(40):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            c.settimeout(30)
            c.connect((s.addr, s.http_port))
            c.sendall(request)
            head = b""
            while b"\r\n" not in head:
                chunk = c.recv(64)
                assert chunk, "closed without a status line"
                head += chunk
            statuses.append(int(head.split()[1]))
            conns.append(c)
            if statuses[-1] == 503:
                break
        assert statuses[-1] == 503 and set(statuses[:-1]) == {200}, statuses
        assert 20 <= len(statuses) <= 40, statuses   # about 10 MiB each against 256 MiB
        st, j, _ = s.call("GET", "zones/%s" % ZONE)   # a small answer still goes out
        assert st == 200, j
    finally:
        for c in conns:
            c.close()
    try:
        deadline = time.monotonic() + 30
        while True:   # the closed readers' replies are dropped: the text is served again
            st, text, _ = s.call("GET", "zones/%s/text" % ZONE, timeout=60)
            if st == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert st == 200 and text.count("\n") > 250000
    finally:
        s.stop()
