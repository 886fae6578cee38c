"""test_hardening_catalog.py -- a consumed catalog is a peer's word (issue 8, item 7).

- A member named `.`, or at or below a zone configured here (the catalog itself included), would win the
  longest-match lookup and answer for names it does not own: it is not taken over, the rest of the catalog
  is; members nested inside another member of the same catalog are fine.
- A catalog with more members than catalog-max-members is refused whole; the members it had stay.
- Unique IDs and groups are any octets: what is logged of them is escaped (no forged log lines).
- A membership change costs what it changes: the configured zones' files are not read again (measured as
  the octets the server reads, /proc/PID/io), so a zone file edited without a reload stays unread.

The catalog is served by the Python FakePrimary (harness/fakes.py), changes reach Tandem by NOTIFY and IXFR.
"""

import re

import dns.rcode
import pytest

from catalog_util import TandemC, catalog_text, wait_for
from harness import ZONES, dnsq, xfr
from harness.fakes import FakePrimary

CAT = "cat.test."
HERE = "example.com."


def consumer(tmp_path, fake, server=None, extra_zones=()):
    def config(s):
        srv = s.server_section()
        srv.update(server or {})
        zs = [{"name": HERE, "file": "zones/example.com.zone"}]
        zs += [{"name": n, "file": "zones/%s.zone" % n.rstrip(".")} for n in extra_zones]
        zs.append({"name": CAT, "type": "secondary", "primaries": ["fake"], "catalog": "consume"})
        return {"server": srv, "http": s.http_section(),
                "remotes": [{"name": "fake", "address": ["%s@%d" % (fake.addr, fake.port)]}], "zones": zs}
    t = TandemC(tmp_path, "tandem", config)
    (t.dir / "zones").mkdir(parents=True, exist_ok=True)
    (t.dir / "zones" / "example.com.zone").write_text((ZONES / "example.com.zone").read_text())
    t.ready_zones = [HERE]
    return t


def names(t):
    return set(t.api_zones())


@pytest.fixture
def catalog_primary():
    made = []

    def make(versions, serial):
        f = FakePrimary(CAT, versions, serial)
        made.append(f)
        return f
    yield make
    for f in made:
        f.close()


def change(t, fake, serial):
    """The fake primary moves to serial and NOTIFYs; returns once Tandem serves it."""
    fake.set_serial(serial)
    assert xfr.notify(t, CAT, source="127.0.0.1", serial=serial) == dns.rcode.NOERROR
    xfr.wait_serial(t, CAT, serial, timeout=10)


def test_a_member_named_root_or_at_or_below_a_zone_here_is_not_taken_over(catalog_primary, tmp_path):
    members = [(".", "root"), ("www.example.com.", "under"), ("example.com.", "same"),
               ("zones.cat.test.", "incat"), ("ok.test.", "ok"), ("sub.ok.test.", "nested")]
    fake = catalog_primary({1: catalog_text(CAT, 1, members)}, 1)
    t = consumer(tmp_path, fake)
    with t:
        wait_for("ok.test. and sub.ok.test. provisioned", lambda: {"ok.test.", "sub.ok.test."} <= names(t), 10)
        log = t.log_text()
        for name, why in ((r"\.", "the root zone"), (r"www\.example\.com\.", "below a zone configured here"),
                          (r"example\.com\.", "configured here"),
                          (r"zones\.cat\.test\.", "below a zone configured here")):
            assert re.search(r"%s: listed in catalog cat\.test\. but %s" % (name, why), log), name
        assert names(t) == {HERE, CAT, "ok.test.", "sub.ok.test."}
        # example.com. still answers for its whole tree, and names of no zone here are refused.
        r = dnsq.ask(t, "www.example.com.", "A")
        assert r.rcode() == dns.rcode.NOERROR and r.answer
        assert dnsq.ask(t, "nothing.example.org.", "A").rcode() == dns.rcode.REFUSED


def test_a_catalog_over_catalog_max_members_is_refused_whole(catalog_primary, tmp_path):
    five = [("m%d.test." % i, "id%d" % i) for i in range(5)]
    six = five + [("m5.test.", "id5")]
    fake = catalog_primary({1: catalog_text(CAT, 1, five), 2: catalog_text(CAT, 2, six)}, 1)
    t = consumer(tmp_path, fake, server={"catalog-max-members": 5})
    with t:
        wait_for("five members", lambda: len(names(t)) == 7, 10)
        mark = t.log_mark()
        change(t, fake, 2)
        t.wait_log(r"cat\.test\.: catalog refused \(more than catalog-max-members 5 members\), keeping the "
                   r"members it had", mark=mark)
        assert "m5.test." not in names(t) and "m4.test." in names(t)


def test_unique_ids_and_groups_are_logged_escaped(catalog_primary, tmp_path):
    v1 = catalog_text(CAT, 1, [("m.test.", "first", "plain")])
    # An ID and a group holding a newline and a forged log line after it.
    evil = "\\010INJECTED\\032ID\\032line"
    v2 = catalog_text(CAT, 2, [("m.test.", "second" + evil, "grp\\010INJECTED GROUP line")])
    fake = catalog_primary({1: v1, 2: v2}, 1)
    t = consumer(tmp_path, fake)
    with t:
        wait_for("m.test. provisioned", lambda: "m.test." in names(t), 10)
        mark = t.log_mark()
        change(t, fake, 2)
        # Owner names are kept lowercase: so is the ID (a label of one).
        t.wait_log(r"m\.test\.: unique ID in catalog cat\.test\. changed \(first -> second\\010injected"
                   r"\\032id\\032line\)", mark=mark)
        t.wait_log(r'm\.test\.: group in catalog cat\.test\. changed \("plain" -> "grp\\010INJECTED GROUP '
                   r'line"\)', mark=mark)
        lines = t.log_since(mark).splitlines()
        assert not [ln for ln in lines if ln.lower().startswith("injected")], lines
        assert t.get_json("zones/m.test.")["catalog"]["member_id"] == "second" + evil.lower()


def zone_file(origin, serial, hosts):
    return xfr.zone_text(origin, serial, hosts=hosts)


def rchar(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


def test_a_membership_change_reads_no_zone_file(catalog_primary, tmp_path):
    """40 configured zones of ~120 KB each. A member added by the catalog: the server reads (rchar) far less
    than those files, and example.com.'s file, edited without a reload, is not picked up; SIGHUP picks it up."""
    local = ["z%d.local." % i for i in range(40)]
    fake = catalog_primary({1: catalog_text(CAT, 1, [("a.test.", "a")]),
                            2: catalog_text(CAT, 2, [("a.test.", "a"), ("b.test.", "b")])}, 1)
    t = consumer(tmp_path, fake, extra_zones=local)
    for z in local:
        xfr.write_zone(t.dir / "zones" / ("%s.zone" % z.rstrip(".")), zone_file(z, 1, 4000))
    size = sum((t.dir / "zones" / ("%s.zone" % z.rstrip("."))).stat().st_size for z in local)
    with t:
        wait_for("a.test. provisioned", lambda: "a.test." in names(t), 15)
        before = xfr.soa_serial(t, HERE)
        path = t.dir / "zones" / "example.com.zone"
        xfr.write_zone(path, path.read_text().replace(str(before), str(before + 1), 1))
        read0 = rchar(t.pid)
        change(t, fake, 2)
        wait_for("b.test. provisioned", lambda: "b.test." in names(t), 10)
        read = rchar(t.pid) - read0
        print("zone files: %d KiB; read during the membership change: %d KiB" % (size // 1024, read // 1024))
        assert read < size // 4, "read %d octets of %d in zone files" % (read, size)
        assert xfr.soa_serial(t, HERE) == before
        t.reload()
        xfr.wait_serial(t, HERE, before + 1, timeout=10)
