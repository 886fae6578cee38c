"""test_replication_ixfr.py -- IXFR in and out, against a primary written in Python (harness/fakes.py) that
does what real servers only do by accident.

- A primary whose IXFR answer is wrong in any way (a record removed that was never there, garbage, a stream
  cut short, an error rcode, a delta from another version): Tandem logs the failure, falls back to AXFR and
  ends with the primary's data, not a stale or half-applied zone.
- Legal answers Tandem must read as they are, without a fallback: the whole zone in answer to IXFR (what a
  primary without history sends), including with the SOA alone in the first message (what PowerDNS sends).
- NOTIFY from the primary triggers a refresh (an SOA query reaches the primary at once); the same NOTIFY
  from a stranger is refused and reaches nothing.
- IXFR out: the answer, record by record, with the old SOA the old version's, not the copy the requester sent.
"""

import time

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from harness import Acl, Remote, Tandem, Zone, secondary
from harness import dnsq, xfr
from harness.fakes import FakePrimary

ZONE = "fake.test."
V1 = xfr.zone_text(ZONE, 1, ["old A 192.0.2.10", "www A 192.0.2.81"], hosts=40)
V2 = xfr.zone_text(ZONE, 2, ["new A 192.0.2.20", "new AAAA 2001:db8::20"], hosts=60)


def _secondary_of(fake, tmp_path):
    return Tandem(tmp_path, [secondary(ZONE, [Remote(fake.addr, fake.port)])])


def _wait_count(fake, qtype, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while fake.count(qtype) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return fake.count(qtype)


@pytest.fixture
def fake_primary(request):
    fakes = []

    def make(mode):
        # Small messages, so that a broken stream breaks before the end of the change.
        f = FakePrimary(ZONE, {1: V1, 2: V2}, serial=1, ixfr_mode=mode, per_msg=5)
        fakes.append(f)
        return f
    yield make
    for f in fakes:
        f.close()


BROKEN = {
    "ghost-delete": "removes a record the zone never had",
    "garbage": "random bytes after the first message",
    "cut": "the connection closes in the middle of a message",
    "notimp": "NOTIMP",
    "refused": "REFUSED",
    "servfail": "SERVFAIL",
    "other-version": "a delta from a serial we do not have",
}


@pytest.mark.parametrize("mode", list(BROKEN), ids=list(BROKEN))
def test_broken_ixfr_falls_back_to_a_good_axfr(mode, fake_primary, tmp_path):
    fake = fake_primary(mode)
    with _secondary_of(fake, tmp_path) as t:
        xfr.wait_serial(t, ZONE, 1, timeout=10)
        assert fake.count("AXFR") == 1 and fake.count("IXFR") == 0
        xfr.assert_serves(t, fake.records(1))

        mark = t.log_mark()
        fake.set_serial(2)
        assert xfr.notify(t, ZONE, source="127.0.0.1", serial=2) == dns.rcode.NOERROR
        xfr.wait_serial(t, ZONE, 2, timeout=10)
        t.wait_log(r"fake\.test\.: IXFR from 127\.0\.0\.1@%d failed \(.+\), falling back to AXFR" % fake.port,
                   mark=mark)
        t.wait_log(r"fake\.test\.: AXFR from 127\.0\.0\.1@%d serial 1 -> 2, " % fake.port, mark=mark)
        assert fake.count("IXFR") >= 1 and fake.count("AXFR") == 2
        # The primary's version 2, whole: nothing of version 1 left over, no ghost.
        xfr.assert_serves(t, fake.records(2))
        for gone in ("old.fake.test.", "ghost.fake.test."):
            assert dnsq.ask(t, gone, "A").rcode() == dns.rcode.NXDOMAIN, gone
        assert dnsq.ask(t, "h59.fake.test.", "A").rcode() == dns.rcode.NOERROR
    # And the good version stays: a restart serves it from the store.
    with _secondary_of(fake, tmp_path) as t:
        assert xfr.soa_serial(t, ZONE) == 2
        xfr.assert_serves(t, fake.records(2))


@pytest.mark.parametrize("mode", ["good", "full", "soa-first"])
def test_legal_ixfr_answers_are_read_without_a_fallback(mode, fake_primary, tmp_path):
    """"good": a condensed delta; "full": the whole zone in one message, as a primary without history answers;
    "soa-first": the whole zone with the SOA alone in the first message, as PowerDNS answers IXFR."""
    fake = fake_primary(mode)
    with _secondary_of(fake, tmp_path) as t:
        xfr.wait_serial(t, ZONE, 1, timeout=10)
        mark = t.log_mark()
        fake.set_serial(2)
        assert xfr.notify(t, ZONE, source="127.0.0.1", serial=2) == dns.rcode.NOERROR
        xfr.wait_serial(t, ZONE, 2, timeout=10)
        # A whole zone in answer to IXFR is logged as such ("IXFR (whole zone) from ...").
        kind = r"IXFR from" if mode == "good" else r"IXFR \(whole zone\) from"
        t.wait_log(r"fake\.test\.: %s 127\.0\.0\.1@%d serial 1 -> 2, " % (kind, fake.port), mark=mark)
        since = t.log_since(mark)
        assert "falling back" not in since and "AXFR from" not in since, since
        assert fake.count("AXFR") == 1 and fake.count("IXFR") == 1
        xfr.assert_serves(t, fake.records(2))
        assert dnsq.ask(t, "old.fake.test.", "A").rcode() == dns.rcode.NXDOMAIN


def test_notify_from_a_stranger_does_not_refresh(fake_primary, tmp_path):
    fake = fake_primary("good")
    with _secondary_of(fake, tmp_path) as t:
        xfr.wait_serial(t, ZONE, 1, timeout=10)
        fake.set_serial(2)
        soa_before = _wait_count(fake, "SOA", 0)
        mark = t.log_mark()
        # From an address that is not the zone's primary: refused, and nothing reaches the primary. Tandem
        # decides before it answers, and logs the refusal or "refreshing" (then posts the refresh) first: once
        # the answer is in, the log says which it was.
        assert xfr.notify(t, ZONE, source="127.0.0.3", serial=2) == dns.rcode.REFUSED
        t.wait_log(r"fake\.test\.: NOTIFY from 127\.0\.0\.3 refused", mark=mark)
        assert "refreshing" not in t.log_since(mark)
        assert fake.count("SOA") == soa_before and fake.count("IXFR") == 0
        assert xfr.soa_serial(t, ZONE) == 1
        # The same NOTIFY from the primary's address: an SOA query at once, then the change.
        assert xfr.notify(t, ZONE, source="127.0.0.1", serial=2) == dns.rcode.NOERROR
        assert _wait_count(fake, "SOA", soa_before + 1, timeout=2) > soa_before
        xfr.wait_serial(t, ZONE, 2, timeout=5)


def test_notify_with_a_serial_not_newer_asks_the_primary_nothing(fake_primary, tmp_path):
    """RFC 1996 3.7: the SOA in a NOTIFY's answer section is a hint at the new version. One whose serial is not
    newer than the version served (the same, or older in RFC 1982 terms) is answered and costs nothing more:
    no SOA query to the primary (as BIND takes it; a catalog's producer NOTIFYs every member). A
    NOTIFY without an SOA, or with a newer one, refreshes at once as before."""
    fake = fake_primary("good")
    with _secondary_of(fake, tmp_path) as t:
        xfr.wait_serial(t, ZONE, 1, timeout=10)
        soa_before = fake.count("SOA")
        mark = t.log_mark()
        for serial in (1, 0xFFFFFFF0):   # the same; before 1 (RFC 1982: 0xFFFFFFF0 + 17 wraps to 1)
            assert xfr.notify(t, ZONE, source="127.0.0.1", serial=serial) == dns.rcode.NOERROR
            t.wait_log(r"fake\.test\.: NOTIFY from 127\.0\.0\.1@\d+ with serial %d: up to date \(serial 1 here\)"
                       % serial, mark=mark)
        # The line is written before the answer; a refresh would have been posted with it and asks the
        # primary within milliseconds: half a second without an SOA query shows none was.
        time.sleep(0.5)
        assert fake.count("SOA") == soa_before and fake.count("IXFR") == 0
        assert "refreshing" not in t.log_since(mark)
        # No SOA in the NOTIFY: no hint, so a refresh (an SOA query, up to date).
        assert xfr.notify(t, ZONE, source="127.0.0.1") == dns.rcode.NOERROR
        assert _wait_count(fake, "SOA", soa_before + 1, timeout=2) == soa_before + 1
        t.wait_log(r"fake\.test\.: NOTIFY from 127\.0\.0\.1@\d+, refreshing", mark=mark)
        # A newer serial: the change is fetched.
        fake.set_serial(2)
        assert xfr.notify(t, ZONE, source="127.0.0.1", serial=2) == dns.rcode.NOERROR
        xfr.wait_serial(t, ZONE, 2, timeout=5)
        assert fake.count("IXFR") == 1


def test_a_stranger_notifying_again_and_again_is_logged_once_a_minute(fake_primary, tmp_path):
    """Issue 3: anything refused is "logged once per source and minute". A source is an address: a stranger
    sends each NOTIFY from a new port, and a flood must not become a flood of log lines."""
    fake = fake_primary("good")
    with _secondary_of(fake, tmp_path) as t:
        xfr.wait_serial(t, ZONE, 1, timeout=10)
        mark = t.log_mark()
        for _ in range(6):
            assert xfr.notify(t, ZONE, source="127.0.0.3", serial=2) == dns.rcode.REFUSED
        # Each line is written before its answer is sent: after six answers the log holds all it will.
        refused = [line for line in t.log_since(mark).splitlines() if "NOTIFY from 127.0.0.3" in line]
        assert len(refused) == 1, "\n".join(refused)


def test_notify_from_an_address_an_acl_allows_refreshes(fake_primary, tmp_path):
    """SPEC.md: NOTIFY is accepted from a zone's primaries or an ACL that allows it (a hidden primary's
    NOTIFY relayed from another address, say)."""
    fake = fake_primary("good")
    zone = secondary(ZONE, [Remote(fake.addr, fake.port)], acl=[Acl(["127.0.0.3"], allow=["notify"])])
    with Tandem(tmp_path, [zone]) as t:
        xfr.wait_serial(t, ZONE, 1, timeout=10)
        fake.set_serial(2)
        mark = t.log_mark()
        assert xfr.notify(t, ZONE, source="127.0.0.3", serial=2) == dns.rcode.NOERROR
        xfr.wait_serial(t, ZONE, 2, timeout=5)
        t.wait_log(r"fake\.test\.: NOTIFY from 127\.0\.0\.3@\d+, refreshing", mark=mark)
        # 127.0.0.4 is neither a primary nor in the ACL.
        assert xfr.notify(t, ZONE, source="127.0.0.4", serial=2) == dns.rcode.REFUSED


def test_notify_for_a_zone_tandem_does_not_have_is_not_accepted(fake_primary, tmp_path):
    fake = fake_primary("good")
    with _secondary_of(fake, tmp_path) as t:
        xfr.wait_serial(t, ZONE, 1, timeout=10)
        rcode = xfr.notify(t, "other.test.", source="127.0.0.1")
        assert rcode in (dns.rcode.NOTAUTH, dns.rcode.REFUSED)


def test_ixfr_out_gives_the_old_soa_as_the_old_version_had_it(tmp_path):
    """RFC 1995 4: each difference sequence starts with the old version's SOA. A requester's copy of it may
    differ (PowerDNS sends its own; its TTL may be another): Tandem must send its own version's, or the
    secondary cannot match the record it is told to remove and ends up with two SOAs. The whole answer is
    checked record by record against the two zone files (test_ixfr_out.py does the same for longer
    histories)."""
    src = tmp_path / "v1.zone"
    src.write_text(xfr.zone_text(ZONE, 1, ["old A 192.0.2.10"]))
    v2 = tmp_path / "v2.zone"
    v2.write_text(xfr.zone_text(ZONE, 2, ["new A 192.0.2.20"]))
    want_old, want_new = xfr.flat(xfr.file_records(src, ZONE)), xfr.flat(xfr.file_records(v2, ZONE))
    with Tandem(tmp_path, [Zone(ZONE, src, acl=[Acl(["127.0.0.1"])])]) as t:
        xfr.write_zone(t.zone_path(ZONE), v2.read_text())
        t.reload()
        xfr.wait_serial(t, ZONE, 2, timeout=5)
        q = dns.message.make_query(ZONE, "IXFR")
        q.authority.append(dns.rrset.from_text(ZONE, 0, "IN", "SOA",
                                               "ns1.other. hostmaster.other. 1 1 1 1 1"))
        r = dnsq.send(t, q, tcp=True, timeout=5)
        r = dns.message.from_wire(r.wire, one_rr_per_rrset=True, xfr=True)
        got = [(rrset.name.to_text().lower(), dns.rdatatype.to_text(rrset.rdtype), rrset.ttl,
                rrset[0].to_text().lower()) for rrset in r.answer]
        soa_old = next(rec for rec in want_old if rec[1] == "SOA")
        soa_new = next(rec for rec in want_new if rec[1] == "SOA")
        assert soa_old == ("fake.test.", "SOA", 3600,
                           "ns1.fake.test. hostmaster.fake.test. 1 3600 600 604800 300")
        # New SOA, old SOA (the version's own, TTL 3600), removed, new SOA, added, new SOA.
        assert got == [soa_new, soa_old, ("old.fake.test.", "A", 3600, "192.0.2.10"),
                       soa_new, ("new.fake.test.", "A", 3600, "192.0.2.20"), soa_new], got
        assert {rec for rec in want_old - want_new} == {soa_old, ("old.fake.test.", "A", 3600, "192.0.2.10")}
