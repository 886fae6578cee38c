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
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time

import dns.rdatatype
import pytest

from harness import BUILD, Acl, Key, Knot, Remote, Tandem, Zone, secondary
from harness import dnsq, xfr
from harness.ports import free_port

ZONE = "rec.test."
KEY = Key.generate("upd-key.")
TANDEM = BUILD / "tandem"


class TandemApi(Tandem):
    """tandemd with http.listen on a free port; the API key file in its var/."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.http_port = free_port(host=self.addr)

    @property
    def api(self):
        return "%s@%d" % (self.addr, self.http_port)

    @property
    def key_file(self):
        return self.dir / "var" / "api.key"

    def write_config(self):
        path = super().write_config()
        path.write_text(path.read_text() + "http:\n  listen: %s\n  api-key-file: var/api.key\n" % self.api)
        return path

    def wait_api(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.key_file.exists() and self.key_file.stat().st_size > 0:
                try:
                    socket.create_connection((self.addr, self.http_port), timeout=0.5).close()
                    return self
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError("API not answering\n" + self.log_tail())

    def call(self, method, path, body=None, headers=None, raw=None):
        """One request under /api/v1; returns (status, headers dict lowercased, JSON or text)."""
        c = http.client.HTTPConnection(self.addr, self.http_port, timeout=30)
        h = {"X-API-Key": self.key_file.read_text().strip()}
        if body is not None:
            raw = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        c.request(method, "/api/v1" + path, body=raw, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        if hdrs.get("content-type", "").startswith("application/json"):
            return r.status, hdrs, json.loads(data)
        return r.status, hdrs, data.decode()

    def cli(self, *args, env=None, timeout=30):
        full = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_API")}
        full.update(env or {})
        return subprocess.run([str(TANDEM), "--server", self.api, "--key-file", str(self.key_file)] +
                              [str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                              env=full)


def primary(tmp_path, notify=(), extra_lines=(), hosts=0, port=None, name="primary"):
    src = tmp_path / ("%s.zone" % name)
    src.write_text(xfr.zone_text(ZONE, 10, ["old A 192.0.2.50", "alias CNAME www"] + list(extra_lines),
                                 hosts=hosts))
    z = Zone(ZONE, src, notify=list(notify),
             acl=[Acl(["127.0.0.1"], key=KEY, allow=["update"]), Acl(["127.0.0.1"], allow=["transfer"])])
    return TandemApi(tmp_path, [z], name=name, port=port)


def started(s):
    s.start()
    try:
        s.wait_ready()
        if isinstance(s, TandemApi):
            s.wait_api()
    except Exception:
        s.stop()
        raise
    return s


@contextlib.contextmanager
def running(*servers):
    done = []
    try:
        for s in servers:
            started(s)
            done.append(s)
        yield servers
    finally:
        for s in reversed(done):
            s.stop()


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
    st, _, j = s.call("GET", "/zones/%s/changes?limit=100" % ZONE)
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
        st, h, j = prim.call("GET", "/zones/%s/records?name=www.%s" % (ZONE, ZONE))
        assert st == 200 and re.fullmatch(r'"10-[0-9a-f]{16}"', h["etag"]), (st, h)
        # POST adds a record to an RRset.
        st, h, j = prim.call("POST", "/zones/%s/records" % ZONE,
                             {"name": "new.%s" % ZONE, "type": "A", "ttl": 300, "rdata": ["192.0.2.1"]})
        assert st == 200 and j["changed"] and j["serial"] == 11, j
        assert j["added"] == ["new.rec.test. 300 IN A 192.0.2.1", "rec.test. 3600 IN SOA ns1.rec.test. "
                              "hostmaster.rec.test. 11 3600 600 604800 300"], j
        assert answers(prim, "new." + ZONE) == ["192.0.2.1"]
        # PATCH: several operations at once.
        st, h, j = prim.call("PATCH", "/zones/%s/records" % ZONE, {"rrsets": [
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
        st, h, j = prim.call("PATCH", "/zones/%s/records" % ZONE, {"rrsets": [
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
    s = started(primary(tmp_path, notify=[Remote("127.0.0.1", free_port())]))
    try:
        st, h, j = s.call("GET", "/zones/%s/records?limit=1" % ZONE)
        tag = h["etag"]
        op = {"rrsets": [{"name": "a.%s" % ZONE, "type": "A", "ttl": 60, "changetype": "replace",
                          "records": ["192.0.2.9"]}]}
        st, h, j = s.call("PATCH", "/zones/%s/records" % ZONE, op, headers={"If-Match": tag})
        assert st == 200 and j["serial"] == 11 and h["etag"] != tag
        new_tag = h["etag"]
        before = history(s)
        # the old tag is stale now
        st, h, j = s.call("PATCH", "/zones/%s/records" % ZONE, {"rrsets": [
            {"name": "b.%s" % ZONE, "type": "A", "ttl": 60, "changetype": "replace",
             "records": ["192.0.2.10"]}]}, headers={"If-Match": tag})
        assert st == 412 and h["etag"] == new_tag, j
        st, h, j = s.call("PUT", "/zones/%s/text" % ZONE, raw=b"x", headers={"If-Match": tag})
        assert st == 412
        assert answers(s, "b." + ZONE) == [] and serial(s) == 11
        # dry run: the diff, the next serial, the secondaries; nothing committed
        st, h, j = s.call("PATCH", "/zones/%s/records?dry_run=true" % ZONE, {"rrsets": [
            {"name": "b.%s" % ZONE, "type": "A", "ttl": 60, "changetype": "replace",
             "records": ["192.0.2.10"]}]}, headers={"If-Match": new_tag})
        assert st == 200 and j["dry_run"] and j["serial"] == 12 and j["serial_from"] == 11, j
        assert "b.rec.test. 60 IN A 192.0.2.10" in j["added"] and len(j["notify"]) == 1
        assert h["etag"] == new_tag
        assert answers(s, "b." + ZONE) == [] and serial(s) == 11
        assert history(s) == before
        st, _, text = s.call("GET", "/zones/%s/text" % ZONE)
        assert "b.rec.test." not in text
        # a restart serves the same (nothing stored by the dry run)
        s.stop()
        started(s)
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
    s = started(primary(tmp_path))
    try:
        _, h0, before = s.call("GET", "/zones/%s/text" % ZONE)
        for body, status, field, part in BAD:
            st, h, j = s.call("PATCH", "/zones/%s/records" % ZONE, body)
            assert st == status, (body, st, j)
            assert part in j["error"], (body, j)
            if field is not None:
                assert j["field"] == field, (body, j)
        # POST names its own fields
        st, h, j = s.call("POST", "/zones/%s/records" % ZONE, {"name": "x", "type": "A", "ttl": 5,
                                                              "rdata": ["192.0.2.1", "nope"]})
        assert st == 422 and j["field"] == "rdata[1]", j
        # malformed JSON, not JSON, unknown zone, oversized body
        st, h, j = s.call("PATCH", "/zones/%s/records" % ZONE, raw=b"{not json",
                          headers={"Content-Type": "application/json"})
        assert st == 400 and "not JSON" in j["error"]
        st, h, j = s.call("PATCH", "/zones/%s/records" % ZONE, raw=b"x", headers={"Content-Type": "text/plain"})
        assert st == 415
        st, h, j = s.call("PATCH", "/zones/nope.test./records", {"rrsets": []})
        assert st == 404 and "no zone" in j["error"]
        st, h, j = s.call("PATCH", "/zones/%s/records" % ZONE, raw=b"[" * (2 * 1024 * 1024),
                          headers={"Content-Type": "application/json"})
        assert st == 413
        _, h1, after = s.call("GET", "/zones/%s/text" % ZONE)
        assert after == before and h1["etag"] == h0["etag"] and serial(s) == 10
        assert history(s) == []
    finally:
        s.stop()


def test_zone_text_get_put_minimal_diff_and_line_errors(tmp_path):
    s = started(primary(tmp_path))
    try:
        st, h, text = s.call("GET", "/zones/%s/text" % ZONE)
        assert st == 200 and h["content-type"].startswith("text/") and text.startswith("rec.test.")
        assert "old.rec.test." in text
        edited = text.replace("192.0.2.50", "192.0.2.51") + "added.rec.test. 300 IN AAAA 2001:db8::1\n"
        st, h2, j = s.call("PUT", "/zones/%s/text" % ZONE, raw=edited.encode(), headers={"If-Match": h["etag"]})
        assert st == 200 and j["serial"] == 11, j
        # minimal: only the changed records (and the SOA) in the diff
        assert sorted(j["removed"]) == sorted(["old.rec.test. 3600 IN A 192.0.2.50",
                                               [r for r in j["removed"] if " SOA " in r][0]])
        assert len(j["added"]) == 3
        assert answers(s, "old." + ZONE) == ["192.0.2.51"]
        assert answers(s, "added." + ZONE, "AAAA") == ["2001:db8::1"]
        # errors as line: problem; nothing changed
        bad = edited + "broken.rec.test. 300 IN A 999.1.1.1\nelse.example.org. 300 IN A 192.0.2.1\n"
        st, h, j = s.call("PUT", "/zones/%s/text" % ZONE, raw=bad.encode())
        n = len(edited.splitlines())
        assert st == 422 and j["error"].startswith("%d: " % (n + 1)), j
        assert any(e.startswith("%d: " % (n + 2)) and "outside" in e for e in j["errors"]), j
        st, h, j = s.call("PUT", "/zones/%s/text" % ZONE, raw=b"$INCLUDE /etc/passwd\n")
        assert st == 422 and "$INCLUDE" in j["error"]
        st, h, j = s.call("PUT", "/zones/%s/text" % ZONE, raw=b"www.rec.test. 300 IN A 192.0.2.1\n")
        assert st == 422 and "SOA" in j["error"]
        assert serial(s) == 11
    finally:
        s.stop()
