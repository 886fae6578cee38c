"""test_api_zones.py -- zones made, changed and removed through the HTTP API (docs/api.md "Zones").

The seed's story ("How to setup primary / secondary"), through HTTP: a quick zone made on one Tandem answers
in DNS at once; a second Tandem, given only the zone's name and the first one's address through ITS API,
transfers it as a secondary, and so does Knot (configured to follow it); the secondary made primary keeps its
data and serves it, and made secondary again follows its primary. Zones made this way survive a restart and a
SIGKILL right after the 201 (the creation is committed before it is acknowledged), join a catalog the server
produces and leave it when deleted. A zone of the configuration file cannot be changed or deleted through the
API (409 naming file:line). Every kind of bad input gets its status and changes nothing. The `tandem zone
create|set|delete` commands do the same from the command line.
"""

import json
import time

import dns.rcode
import pytest

from conftest import skip_peer
from harness import Acl, Knot, Remote, TandemApi, Zone, secondary
from harness import dnsq, xfr
from harness.notifysink import NotifySink
from harness.ports import free_port

WAIT = 10.0
JSON = {"Content-Type": "application/json"}


def answer(server, name, rdtype):
    """The rdata texts of the answer (sorted), or the rcode name when it is not NOERROR."""
    r = dnsq.ask(server, name, rdtype)
    if r.rcode() != dns.rcode.NOERROR:
        return dns.rcode.to_text(r.rcode())
    return sorted(rd.to_text() for rrset in r.answer for rd in rrset)


def wait_for(what, fn, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %.0f s" % (what, timeout))
        time.sleep(0.05)


QUICK = {"nameservers": ["ns1.quick.test.", "ns2.quick.test."], "address": "127.0.0.1"}


# ---- the seed's story

def test_quick_zone_then_tandem_and_knot_secondaries_and_role_changes(tmp_path):
    a = TandemApi(tmp_path, [Zone("example.com.")], name="primary").serve()
    b = TandemApi(tmp_path, [Zone("example.net.")], name="secondary", addr="127.0.0.2").serve()
    knot = None
    try:
        # The quick zone on the first: NOTIFY to the second, transfers allowed from loopback.
        st, z, headers = a.call("POST", "zones", {
            "name": "Quick.Test", "type": "primary", "quick": QUICK,
            "notify": ["127.0.0.2@%d" % b.port],
            "acl": [{"addresses": ["127.0.0.0/8"], "allow": ["transfer"]}]})
        assert st == 201, z
        assert z["name"] == "quick.test." and z["source"] == "api" and z["type"] == "primary"
        assert z["settings"]["notify"] == ["127.0.0.2@%d" % b.port]
        serial = z["serial"]
        assert serial == 1 and z["state"] == "ok"
        assert headers["ETag"].startswith('"1-')
        st, again, h2 = a.call("GET", "zones/quick.test")
        assert st == 200 and h2["ETag"] == headers["ETag"] and again["settings"] == z["settings"]
        # Served at once, as the seed's Quick Zone: SOA, NS, addresses, www, MX.
        assert answer(a, "quick.test.", "NS") == ["ns1.quick.test.", "ns2.quick.test."]
        assert answer(a, "ns1.quick.test.", "A") == ["127.0.0.1"]
        assert answer(a, "www.quick.test.", "A") == ["127.0.0.1"]
        assert answer(a, "quick.test.", "MX") == ["10 mail.quick.test."]
        assert answer(a, "mail.quick.test.", "A") == ["127.0.0.1"]
        soa = dnsq.ask(a, "quick.test.", "SOA").answer[0][0]
        assert str(soa.mname) == "ns1.quick.test." and str(soa.rname) == "hostmaster.quick.test."
        assert (soa.refresh, soa.retry, soa.expire, soa.minimum) == (3600, 600, 1209600, 300)
        assert a.api_zones()["quick.test."]["source"] == "api"

        # The second Tandem: the zone's name and the primary's address, through its own API.
        st, z, _ = b.call("POST", "zones", {"name": "quick.test.", "type": "secondary",
                                             "primaries": ["127.0.0.1@%d" % a.port]})
        assert st == 201, z
        assert z["type"] == "secondary" and z["secondary"]["primaries"] == ["127.0.0.1@%d 127.0.0.1@%d"
                                                                            % (a.port, a.port)]
        xfr.wait_serial(b, "quick.test.", serial)
        assert answer(b, "www.quick.test.", "A") == ["127.0.0.1"]
        assert b.api_zones()["quick.test."]["source"] == "api"

        # Knot follows the first as any secondary would.
        if not Knot.binary.exists():
            skip_peer("knotd not installed")
        knot = Knot(tmp_path, [secondary("quick.test.", [Remote.of(a)])], addr="127.0.0.3")
        knot.start()
        xfr.wait_serial(knot, "quick.test.", serial)
        for name, rdtype in (("quick.test.", "NS"), ("quick.test.", "MX"), ("www.quick.test.", "A"),
                             ("ns2.quick.test.", "A")):
            assert answer(knot, name, rdtype) == answer(a, name, rdtype)

        # The secondary made primary keeps its data and serves it; NOTIFYs nobody but answers.
        st, z, _ = b.call("PATCH", "zones/quick.test.", {"type": "primary"})
        assert st == 200, z
        assert z["type"] == "primary" and "secondary" not in z and z["serial"] == serial
        assert b.api_zones()["quick.test."]["type"] == "primary"
        assert answer(b, "www.quick.test.", "A") == ["127.0.0.1"]
        assert xfr.soa_serial(b, "quick.test.") == serial
        # Back to secondary: it follows the first again (its primaries were kept).
        st, z, _ = b.call("PATCH", "zones/quick.test.", {"type": "secondary"})
        assert st == 200, z
        assert z["type"] == "secondary" and z["serial"] == serial
        b.wait_log(r"quick\.test\.: .*(up to date|serial|AXFR|IXFR)", timeout=WAIT)
        assert answer(b, "mail.quick.test.", "A") == ["127.0.0.1"]

        # The primary made secondary without primaries is refused; with an unknown key too.
        st, e, _ = a.call("PATCH", "zones/quick.test.", {"type": "secondary"})
        assert st == 422 and e["field"] == "primaries", e
        st, e, _ = a.call("PATCH", "zones/quick.test.", {"key": "nope."})
        assert st == 422 and e["field"] == "key", e
        st, e, _ = a.call("PATCH", "zones/quick.test.", {"name": "other.test."})
        assert st == 422 and e["field"] == "name", e
        assert a.api_zones()["quick.test."]["type"] == "primary"

        # Deleted on the first: gone from DNS and from the list; on the second it stays (its own).
        st, r, _ = a.call("DELETE", "zones/quick.test.")
        assert st == 200 and r["result"] == "removed"
        assert answer(a, "www.quick.test.", "A") == "REFUSED"
        assert "quick.test." not in a.api_zones()
        assert st == 200 and "quick.test." in b.api_zones()
        st, e, _ = a.call("DELETE", "zones/quick.test.")
        assert st == 404
    finally:
        if knot is not None:
            knot.stop()
        b.stop()
        a.stop()


def test_zone_of_the_file_is_not_the_apis(tmp_path):
    a = TandemApi(tmp_path, [Zone("example.com."), Zone("example.net.")]).serve()
    try:
        for method, body in (("PATCH", {"notify": ["127.0.0.9@53"]}), ("DELETE", None)):
            st, e, _ = a.call(method, "zones/example.net.", body)
            assert st == 409, e
            assert "%s:" % a.conf_path in e["error"], e
            line = int(e["error"].split("%s:" % a.conf_path)[1].split(":")[0])
            assert a.conf_path.read_text().splitlines()[line - 1].strip() == "- name: example.net."
        st, e, _ = a.call("POST", "zones", {"name": "example.net.", "quick": QUICK})
        assert st == 409 and "exists" in e["error"]
        assert answer(a, "example.net.", "SOA") != "REFUSED"
    finally:
        a.stop()


def test_an_api_zones_notify_delay_sets_how_its_changes_are_told(tmp_path):
    """`notify_delay` of a zone made through the API (docs/api.md): 0 tells each change at once, so 10 edits
    sent back to back make about 10 NOTIFYs; set to 30 by PATCH, the next 10 make one (the first, told at once;
    the rest held). The secondary is a socket that answers every NOTIFY."""
    sink_port = free_port()
    sink = NotifySink("127.0.0.1", sink_port, answer=True)
    a = TandemApi(tmp_path, [Zone("example.com.")])
    try:
        a.serve()
        st, z, _ = a.call("POST", "zones", {"name": "told.test.", "quick": QUICK, "notify_delay": 0,
                                             "notify": ["127.0.0.1@%d" % sink_port]})
        assert st == 201, z

        def edits(first):
            for i in range(first, first + 10):
                st, j, _ = a.call("POST", "zones/told.test./records", {"name": "e%d.told.test." % i, "type": "A",
                                                                       "ttl": 60, "rdata": ["192.0.2.1"]})
                assert st in (200, 201), j
            return xfr.soa_serial(a, "told.test.")

        def told_until(serial):
            deadline = time.monotonic() + WAIT
            while serial not in sink.serials("told.test.") and time.monotonic() < deadline:
                time.sleep(0.02)
            return sink.serials("told.test.")

        start = xfr.soa_serial(a, "told.test.")
        told_until(start)
        last = edits(0)
        told = [x for x in told_until(last) if x > start]
        assert told and told[-1] == last and len(told) >= 8, told
        st, z, _ = a.call("PATCH", "zones/told.test.", {"notify_delay": 30})
        assert st == 200 and z["settings"]["notify_delay"] == 30, z
        time.sleep(0.5)
        before = len(sink.serials("told.test."))
        newest = edits(10)
        time.sleep(1.5)
        later = sink.serials("told.test.")[before:]
        assert len(later) == 1 and later[0] < newest, (later, newest)   # the rest waits for the 30 s hold
    finally:
        a.stop()
        sink.close()


def test_api_zones_survive_restart_and_sigkill(tmp_path):
    a = TandemApi(tmp_path, [Zone("example.com.")]).serve()
    try:
        st, z, _ = a.call("POST", "zones", {"name": "kept.test.", "quick": QUICK})
        assert st == 201, z
        st, z, _ = a.call("POST", "zones", {"name": "sec.test.", "type": "secondary",
                                             "primaries": ["127.0.0.1@%d" % a.port],
                                             "serial_policy": "unixtime", "notify_delay": 0})
        assert st == 201, z
        a.stop()
        a.serve()
        assert answer(a, "www.kept.test.", "A") == ["127.0.0.1"]
        zones = a.api_zones()
        assert zones["kept.test."]["source"] == zones["sec.test."]["source"] == "api"
        st, z, _ = a.call("GET", "zones/sec.test.")
        assert z["settings"]["serial_policy"] == "unixtime" and z["type"] == "secondary"
        assert z["settings"]["notify_delay"] == 0
        # SIGKILL right after the 201: the zone was committed before it was acknowledged.
        st, z, _ = a.call("POST", "zones", {"name": "killed.test.", "zonefile":
                                             xfr.zone_text("killed.test.", 7)})
        assert st == 201, z
        a.kill()
        a.serve()
        assert xfr.soa_serial(a, "killed.test.") == 7
        assert answer(a, "www.killed.test.", "A") == ["192.0.2.80"]
        # A deletion is kept too.
        st, _, _ = a.call("DELETE", "zones/kept.test.")
        assert st == 200
        a.kill()
        a.serve()
        assert "kept.test." not in a.api_zones() and "killed.test." in a.api_zones()
        assert answer(a, "kept.test.", "SOA") == "REFUSED"
    finally:
        a.stop()


BAD = [
    # (body, status, field or None)
    ({"name": "bad..name", "quick": QUICK}, 422, "name"),
    ({"name": ".", "quick": QUICK}, 422, "name"),
    ({"quick": QUICK}, 422, "name"),
    ({"name": "x.test.", "quick": QUICK, "colour": "red"}, 422, "colour"),
    ({"name": "x.test."}, 422, "quick"),
    ({"name": "x.test.", "quick": QUICK, "zonefile": "x"}, 422, "quick"),
    ({"name": "x.test.", "type": "tertiary", "quick": QUICK}, 422, "type"),
    ({"name": "x.test.", "quick": {"nameservers": ["ns1.x.test."], "address": "300.1.1.1"}}, 422,
     "quick.address"),
    ({"name": "x.test.", "quick": {"nameservers": [], "address": "192.0.2.1"}}, 422, "quick.nameservers"),
    ({"name": "x.test.", "quick": {"nameservers": ["a..b"], "address": "192.0.2.1"}}, 422,
     "quick.nameservers[0]"),
    ({"name": "x.test.", "type": "secondary"}, 422, "primaries"),
    ({"name": "x.test.", "type": "secondary", "primaries": ["192.0.2.1@99999"]}, 422, "primaries[0]"),
    ({"name": "x.test.", "type": "secondary", "primaries": ["192.0.2.1"], "quick": QUICK}, 422, "quick"),
    ({"name": "x.test.", "type": "secondary", "primaries": ["192.0.2.1"], "key": "nokey."}, 422, "key"),
    ({"name": "x.test.", "quick": QUICK, "acl": ["no-such-acl"]}, 422, "acl[0]"),
    ({"name": "x.test.", "quick": QUICK, "acl": [{"addresses": ["10.0.0.0/33"], "allow": ["transfer"]}]},
     422, "acl[0].addresses[0]"),
    ({"name": "x.test.", "quick": QUICK, "acl": [{"addresses": ["10.0.0.0/8"], "allow": ["dance"]}]},
     422, "acl[0].allow[0]"),
    ({"name": "x.test.", "quick": QUICK, "member_of": "nocat.test."}, 422, "member_of"),
    ({"name": "x.test.", "quick": QUICK, "member_of": "example.com."}, 422, "member_of"),
    ({"name": "x.test.", "quick": QUICK, "serial_policy": "random"}, 422, "serial_policy"),
    ({"name": "x.test.", "quick": QUICK, "notify": "127.0.0.1"}, 422, "notify"),
    ({"name": "x.test.", "zonefile": "@ 3600 IN SOA ns1 h 1 2 3 4 5\n@ NS ns1\nwww A 1.2.3\n"}, 422,
     "zonefile"),
    ({"name": "x.test.", "zonefile": "$INCLUDE /etc/passwd\n"}, 422, "zonefile"),
    ({"name": "x.test.", "zonefile": "@ 3600 IN NS ns1.x.test.\n"}, 422, "zonefile"),
    ({"name": "x.test.", "zonefile": "other.test. 3600 IN A 192.0.2.1\n"}, 422, "zonefile"),
    ({"name": "x.test.", "soa": {"refresh": -1}, "nameservers": ["ns1.x.test."]}, 422, "soa.refresh"),
    ({"name": "x.test.", "soa": {"colour": 1}, "nameservers": ["ns1.x.test."]}, 422, "soa.colour"),
    ({"name": "x.test.", "quick": QUICK, "notify_delay": 61}, 422, "notify_delay"),
    ({"name": "x.test.", "quick": QUICK, "notify_delay": -1}, 422, "notify_delay"),
    ({"name": "x.test.", "quick": QUICK, "notify_delay": "1"}, 422, "notify_delay"),
    ({"name": "x.test.", "quick": QUICK, "notify_delay": 1.5}, 422, "notify_delay"),
    ({"name": "example.com.", "quick": QUICK}, 409, None),
]


def test_bad_input_gets_its_status_and_changes_nothing(tmp_path):
    a = TandemApi(tmp_path, [Zone("example.com.")]).serve()
    try:
        before = a.api_zones()
        for body, status, field in BAD:
            st, e, _ = a.call("POST", "zones", body)
            assert st == status, (body, st, e)
            assert e["error"], e
            if field is not None:
                assert e["field"] == field, (body, e)
        # A zone file's problems, each with its line.
        st, e, _ = a.call("POST", "zones", BAD[21][0])
        assert any(p.startswith("3: ") for p in e["problems"]), e
        # Not JSON, not an object, not JSON's type: 400, 400, 415.
        assert a.call("POST", "zones", raw=b"{nope", headers=JSON)[0] == 400
        assert a.call("POST", "zones", raw=b"[1, 2]", headers=JSON)[0] == 400
        assert a.call("POST", "zones", raw=b"name=x", headers={"Content-Type": "text/plain"})[0] == 415
        # Without the key: 401; a PATCH of a zone we lack: 404.
        assert a.call("POST", "zones", {"name": "x.test.", "quick": QUICK}, key="wrong")[0] == 401
        assert a.call("PATCH", "zones/none.test.", {"group": "g"})[0] == 404
        assert a.api_zones() == before
        assert answer(a, "x.test.", "SOA") == "REFUSED"
        assert not list((a.dir / "var").glob(".api-zone-*"))   # no temporary file left behind
        # The store holds no trace: a restart serves the same zones.
        a.stop()
        a.serve()
        assert set(a.api_zones()) == set(before)
    finally:
        a.stop()


def test_member_of_a_produced_catalog(tmp_path):
    cat = Zone("cat.test.", extra={"catalog": "produce"}, acl=[Acl(("127.0.0.1",))])
    cat.source = None
    a = TandemApi(tmp_path, [Zone("example.com."), cat]).serve()
    try:
        def members():
            recs = xfr.axfr(a, "cat.test.")
            return sorted(v for (owner, t), (ttl, vals) in recs.items() if t == "PTR" for v in vals)
        assert members() == []
        st, z, _ = a.call("POST", "zones", {"name": "m1.test.", "quick": QUICK, "member_of": "cat.test",
                                             "group": "blue"})
        assert st == 201, z
        assert z["catalog"]["catalog"] == "cat.test." and z["catalog"]["group"] == "blue"
        assert members() == ["m1.test."]
        st, z, _ = a.call("POST", "zones", {"name": "m2.test.", "quick": QUICK})
        assert members() == ["m1.test."]
        st, z, _ = a.call("PATCH", "zones/m2.test.", {"member_of": "cat.test."})
        assert st == 200, z
        assert members() == ["m1.test.", "m2.test."]
        st, _, _ = a.call("DELETE", "zones/m1.test.")
        assert st == 200
        assert members() == ["m2.test."]
        st, z, _ = a.call("PATCH", "zones/m2.test.", {"member_of": None})
        assert st == 200 and z["settings"]["member_of"] is None
        assert members() == []
    finally:
        a.stop()


def test_api_catalog_changes_cost_one_member(tmp_path):
    """A zone made, changed or removed through the API changes the catalogs it was and is in by its own
    records alone (catproduce_member): each step's IXFR holds only that member's PTR and group TXT, the
    catalog's AXFR after it is the one before with that change applied, and a catalog the zone has no part
    in keeps its serial. After a restart, when each catalog is written whole from every member, nothing
    changes: the same serials and records (the one-member path gives what the whole writing gives)."""
    cats = []
    for name in ("cat1.test.", "cat2.test."):
        c = Zone(name, extra={"catalog": "produce"}, acl=[Acl(("127.0.0.1",))])
        c.source = None
        cats.append(c)
    a = TandemApi(tmp_path, [Zone("example.com."), *cats], extra_server={"catalog": "cat1.test."}).serve()
    try:
        state = {c: xfr.serial_and_records(a, c) for c in ("cat1.test.", "cat2.test.")}
        ptr_owner = {}

        def step(method, path, body, changes):
            """changes: {catalog: (removed, added)} as sets of (type, member, text); the others unchanged."""
            st, z, _ = a.call(method, path, body)
            assert st in (200, 201), z
            for cat, (serial, recs) in list(state.items()):
                now_serial, now = xfr.serial_and_records(a, cat)
                if cat not in changes:
                    assert (now_serial, now) == (serial, recs), cat
                    continue
                assert now_serial > serial, (cat, now_serial, serial)
                removed, added = xfr.ixfr_changes(a, cat, serial)
                assert recs - removed | added == now, cat   # the IXFR applied gives the AXFR
                want_removed, want_added = changes[cat]
                for got, want in ((removed, want_removed), (added, want_added)):
                    seen = set()
                    for owner, rtype, ttl, rdata in sorted(got, key=lambda r: r[1] != "PTR"):
                        assert ttl == 0
                        if rtype == "PTR":
                            assert owner.endswith(".zones." + cat), owner
                            ptr_owner[cat, rdata] = owner
                            seen.add(("PTR", rdata, ""))
                        else:
                            member = [m for (c, m), o in ptr_owner.items()
                                      if c == cat and owner == "group." + o]
                            assert rtype == "TXT" and len(member) == 1, (owner, rtype, ptr_owner)
                            seen.add(("TXT", member[0], rdata))
                    assert seen == want, (cat, seen, want)
                state[cat] = (now_serial, now)

        step("POST", "zones",
             {"name": "m1.test.", "quick": QUICK, "member_of": "cat2.test.", "group": "blue"},
             {"cat2.test.": (set(), {("PTR", "m1.test.", ""), ("TXT", "m1.test.", '"blue"')})})
        step("POST", "zones", {"name": "m2.test.", "quick": QUICK},   # the server-wide catalog
             {"cat1.test.": (set(), {("PTR", "m2.test.", "")})})
        step("POST", "zones", {"name": "m3.test.", "quick": QUICK, "member_of": "cat2.test."},
             {"cat2.test.": (set(), {("PTR", "m3.test.", "")})})
        step("PATCH", "zones/m1.test.", {"group": "red"},
             {"cat2.test.": ({("TXT", "m1.test.", '"blue"')}, {("TXT", "m1.test.", '"red"')})})
        step("PATCH", "zones/m1.test.", {"member_of": "cat1.test."},
             {"cat2.test.": ({("PTR", "m1.test.", ""), ("TXT", "m1.test.", '"red"')}, set()),
              "cat1.test.": (set(), {("PTR", "m1.test.", ""), ("TXT", "m1.test.", '"red"')})})
        step("PATCH", "zones/m1.test.", {"group": None},
             {"cat1.test.": ({("TXT", "m1.test.", '"red"')}, set())})
        # A secondary is in no catalog by the server-wide one: made secondary, m2 leaves cat1.
        step("PATCH", "zones/m2.test.", {"type": "secondary", "primaries": ["127.0.0.1@%d" % free_port()]},
             {"cat1.test.": ({("PTR", "m2.test.", "")}, set())})
        step("PATCH", "zones/m3.test.", {"member_of": "cat2.test."}, {})   # the same: nothing to write
        step("DELETE", "zones/m3.test.", None, {"cat2.test.": ({("PTR", "m3.test.", "")}, set())})
        step("DELETE", "zones/m1.test.", None, {"cat1.test.": ({("PTR", "m1.test.", "")}, set())})
        step("POST", "zones", {"name": "m1.test.", "quick": QUICK, "member_of": "cat2.test.", "group": "g"},
             {"cat2.test.": (set(), {("PTR", "m1.test.", ""), ("TXT", "m1.test.", '"g"')})})
        assert "catalog member m1.test. added" in a.log_text()
        # Written whole at the start from every member: the same catalogs, nothing new to commit.
        a.stop()
        a.serve()
        for cat, before in state.items():
            assert xfr.serial_and_records(a, cat) == before, (cat, a.log_tail(20))
    finally:
        a.stop()


def test_many_api_zones_come_and_go(tmp_path):
    """Zones made and removed one at a time join and leave the zone set in force (a copy with one zone
    more or less, not a rebuild): after every step each zone there answers and each one gone is REFUSED,
    the zones of the file stay, a name made again after its deletion is served again, and a restart
    serves exactly the same set. Members of the server-wide catalog come and go with them."""
    cat = Zone("cat.test.", extra={"catalog": "produce"}, acl=[Acl(("127.0.0.1",))])
    cat.source = None
    files = [Zone("example.com."), Zone("example.net."), cat]
    a = TandemApi(tmp_path, files, extra_server={"catalog": "cat.test."}).serve()
    try:
        alive, gone = [], []

        def make(n):
            st, z, _ = a.call("POST", "zones", {"name": n, "quick": QUICK})
            assert st == 201, z
            alive.append(n)
            if n in gone:
                gone.remove(n)

        def drop(n):
            st, e, _ = a.call("DELETE", "zones/" + n)
            assert st == 200, e
            alive.remove(n)
            gone.append(n)

        def check():
            for n in alive + ["example.com.", "example.net."]:
                assert answer(a, "www." + n, "A") != "REFUSED", n
            for n in gone:
                assert answer(a, "www." + n, "A") == "REFUSED", n
            zones = a.api_zones()
            assert sorted(n for n, z in zones.items() if z["source"] == "api") == sorted(alive)
            recs = xfr.axfr(a, "cat.test.")
            members = sorted(v for (owner, t), (ttl, vals) in recs.items() if t == "PTR" for v in vals)
            assert members == sorted(alive + ["example.com.", "example.net."])

        names = ["z%02d.many.test." % i for i in range(40)]
        for n in names[:30]:
            make(n)
        check()
        for n in names[:30:3]:          # every third, the first one among them
            drop(n)
        drop(names[29])                 # the last one made
        check()
        for n in names[30:] + names[:6:3]:   # new ones, and two names made again
            make(n)
        check()
        a.stop()
        a.serve()
        check()
    finally:
        a.stop()


def test_api_zone_taken_over_by_the_file_at_reload(tmp_path):
    """A zone made through the API whose name is then written into the configuration file: at the reload
    the file's settings apply (logged), the API's record of it goes, and the other API zones stay; after a
    restart it is still the file's."""
    a = TandemApi(tmp_path, [Zone("example.com.")]).serve()
    try:
        for n in ("first.test.", "both.test.", "last.test."):
            st, z, _ = a.call("POST", "zones", {"name": n, "quick": QUICK})
            assert st == 201, z
        src = tmp_path / "both.test.zone"
        src.write_text(xfr.zone_text("both.test.", 5))
        a.zones.append(Zone("both.test.", source=src))
        a.write_config()
        a.reload()
        wait_for("both.test. taken over by the file",
                 lambda: a.api_zones().get("both.test.", {}).get("source") not in (None, "api"))
        assert "made through the API, but now configured" in a.log_tail()
        zones = a.api_zones()
        assert zones["first.test."]["source"] == zones["last.test."]["source"] == "api"
        assert answer(a, "www.first.test.", "A") == ["127.0.0.1"]
        assert answer(a, "both.test.", "SOA") != "REFUSED"
        st, e, _ = a.call("DELETE", "zones/both.test.")
        assert st == 409 and a.conf_path.name in e["error"], e
        # Deleting the other API zones still works, and a restart keeps the file's zone the file's.
        st, _, _ = a.call("DELETE", "zones/first.test.")
        assert st == 200
        a.stop()
        a.serve()
        zones = a.api_zones()
        assert zones["both.test."]["source"] != "api" and "first.test." not in zones
        assert zones["last.test."]["source"] == "api"
    finally:
        a.stop()


# ---- the command line

def test_cli_zone_create_set_delete(tmp_path):
    a = TandemApi(tmp_path, [Zone("example.com.")]).serve()
    try:
        r = a.cli("zone", "create", "cli.test", "--quick", "--ns", "ns1.cli.test.", "--ns",
                  "ns.elsewhere.example.", "--address", "2001:db8::5")
        assert r.returncode == 0, r.stderr
        assert "cli.test." in r.stdout and "primary" in r.stdout
        assert answer(a, "www.cli.test.", "AAAA") == ["2001:db8::5"]
        assert answer(a, "cli.test.", "NS") == ["ns.elsewhere.example.", "ns1.cli.test."]

        zf = tmp_path / "file.zone"
        zf.write_text(xfr.zone_text("file.test.", 42))
        r = a.cli("zone", "create", "file.test.", "--file", zf, "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["serial"] == 42

        r = a.cli("zone", "create", "sec.test.", "--secondary", "--primary", "127.0.0.1@%d" % a.port)
        assert r.returncode == 0, r.stderr
        xfr.wait_serial(a, "sec.test.", "SERVFAIL", timeout=WAIT)   # no such zone on its primary

        r = a.cli("zone", "set", "file.test.", "serial_policy=dateserial", "notify=127.0.0.9@53",
                  "group=g1")
        assert r.returncode == 0, r.stderr
        st, z, _ = a.call("GET", "zones/file.test.")
        assert z["settings"]["serial_policy"] == "dateserial" and z["settings"]["notify"] == ["127.0.0.9@53"]
        assert z["settings"]["group"] == "g1" and z["settings"]["notify_delay"] is None
        r = a.cli("zone", "set", "file.test.", "notify_delay=5")
        assert r.returncode == 0, r.stderr
        assert a.call("GET", "zones/file.test.")[1]["settings"]["notify_delay"] == 5
        r = a.cli("zone", "set", "file.test.", "notify-delay=")   # empty: the server's again
        assert r.returncode == 0, r.stderr
        assert a.call("GET", "zones/file.test.")[1]["settings"]["notify_delay"] is None
        r = a.cli("zone", "set", "file.test.", "notify_delay=soon")
        assert r.returncode == 2 and "notify_delay: whole seconds from 0 to 60" in r.stderr, r.stderr

        # Errors: the server's (exit 2, its message), usage (exit 1), no such zone (exit 3).
        r = a.cli("zone", "set", "file.test.", "key=nokey.")
        assert r.returncode == 2 and "key" in r.stderr, r.stderr
        r = a.cli("zone", "set", "example.com.", "group=x")
        assert r.returncode == 2 and "tandem.yaml:" in r.stderr, r.stderr
        r = a.cli("zone", "create", "bad.test.", "--file", zf)
        assert r.returncode == 2 and "zonefile" in r.stderr, r.stderr
        r = a.cli("zone", "create", "x.test.", "--quick", "--ns", "ns1.x.test.")
        assert r.returncode == 1 and "--address" in r.stderr, r.stderr
        r = a.cli("zone", "set", "file.test.", "novalue")
        assert r.returncode == 1, r.stderr
        r = a.cli("zone", "delete", "none.test.")
        assert r.returncode == 3, r.stderr

        r = a.cli("zone", "delete", "cli.test.")
        assert r.returncode == 0, r.stderr
        assert "removed" in r.stdout
        assert "cli.test." not in a.api_zones()
    finally:
        a.stop()
