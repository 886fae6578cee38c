"""test_replication_seed.py -- the seed's "how to set up primary / secondary" on one machine with two addresses:
two tandemd, the primary on 127.0.0.1 and the secondary on 127.0.0.2, the secondary sending everything from
127.0.0.2 (server.source-address) and the primary letting only that address transfer the zone and NOTIFYing it.
Both serve the same data; a change on the primary reaches the secondary by NOTIFY and IXFR, also when the
operator forgot to raise the serial.

Both are judged against the zone file (read by dnspython's zone reader, and served by Knot DNS as a check of
that reading), never against the primary's own AXFR alone: a record the primary's AXFR dropped would vanish
from both sides.
"""

import time

import dns.rcode
import pytest

from harness import Acl, Remote, Tandem, Zone, secondary
from harness import dnsq, xfr
from harness.ports import free_port

ZONE = "example.com."
PRIMARY, SECONDARY = "127.0.0.1", "127.0.0.2"
# The zone files the stories go through: name -> (serial, extra lines).
VERSIONS = {"v1": (1, ()), "v2": (2, ["shop A 192.0.2.44", "www A 192.0.2.81"]),
            "v7": (7, ()), "v7-forgot": (7, ["forgot A 192.0.2.77"])}


def _text(version):
    serial, extra = VERSIONS[version]
    return xfr.zone_text(ZONE, serial, extra)


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    """{version: (path, records)}: each zone file as dnspython reads it, checked against Knot serving it."""
    d = tmp_path_factory.mktemp("reference")
    out = {}
    for version in VERSIONS:
        path = d / (version + ".zone")
        path.write_text(_text(version))
        out[version] = (path, xfr.file_records(path, ZONE))
        xfr.assert_same_records(xfr.knot_records(d, ZONE, path), out[version][1], "Knot serving " + version,
                                "dnspython reading " + version)
    return out


def _holds(server, records, what, source=None):
    """The server's AXFR (asked from source) holds exactly the records, and its answers serve them."""
    xfr.assert_same_records(xfr.axfr(server, ZONE, source=source), records, "%s (AXFR)" % what)
    xfr.assert_serves(server, records)


def _pair(tmp_path, version="v1"):
    """The primary and the secondary of the seed's setup (not started)."""
    src = tmp_path / "example.com.zone"
    src.write_text(_text(version))
    sec_port = free_port(host=SECONDARY)
    primary = Tandem(tmp_path, [Zone(ZONE, src, notify=[Remote(SECONDARY, sec_port)],
                                     acl=[Acl([SECONDARY], allow=["transfer"])])],
                     name="primary", addr=PRIMARY, extra_server={"source-address": PRIMARY})
    second = Tandem(tmp_path, [secondary(ZONE, [Remote(PRIMARY, primary.port)])], name="secondary",
                    addr=SECONDARY, port=sec_port, extra_server={"source-address": SECONDARY})
    return primary, second


def test_two_tandems_on_one_machine_with_two_addresses(expected, tmp_path):
    primary, second = _pair(tmp_path)
    with primary as p, second as s:
        xfr.wait_serial(s, ZONE, 1, timeout=10)
        p.wait_log(r"example\.com\.: AXFR to 127\.0\.0\.2@\d+ serial 1, ")
        s.wait_log(r"example\.com\.: AXFR from 127\.0\.0\.1@%d serial 0 -> 1, " % p.port)
        # Only the secondary's address may transfer: the test may too, from 127.0.0.2, not from 127.0.0.1.
        assert xfr.xfr_rcode(p, ZONE, source=PRIMARY) == dns.rcode.REFUSED
        assert xfr.xfr_rcode(p, ZONE, source="127.0.0.3") == dns.rcode.REFUSED
        _holds(p, expected["v1"][1], "the primary", source=SECONDARY)
        xfr.assert_serves(s, expected["v1"][1])

        # The operator edits the zone file and reloads: the secondary is told and fetches the change.
        mark_p, mark_s = p.log_mark(), s.log_mark()
        xfr.write_zone(p.zone_path(ZONE), _text("v2"))
        p.reload()
        xfr.wait_serial(s, ZONE, 2, timeout=5)
        s.wait_log(r"example\.com\.: NOTIFY from 127\.0\.0\.1@\d+, refreshing", mark=mark_s)
        s.wait_log(r"example\.com\.: IXFR from 127\.0\.0\.1@%d serial 1 -> 2, " % p.port, mark=mark_s)
        p.wait_log(r"example\.com\.: IXFR to 127\.0\.0\.2@\d+ serial 2, ", mark=mark_p)
        r = dnsq.ask(s, "shop.example.com.", "A")
        assert r.rcode() == dns.rcode.NOERROR and [rd.address for rd in r.answer[0]] == ["192.0.2.44"]
        _holds(p, expected["v2"][1], "the primary", source=SECONDARY)
        xfr.assert_serves(s, expected["v2"][1])


def test_a_change_with_the_serial_forgotten_still_reaches_the_secondary(expected, tmp_path):
    """SPEC.md: every change bumps the serial, even when the operator forgot."""
    primary, second = _pair(tmp_path, "v7")
    with primary as p, second as s:
        xfr.wait_serial(s, ZONE, 7, timeout=10)
        xfr.assert_serves(s, expected["v7"][1])
        mark = s.log_mark()
        # Same serial, new content.
        xfr.write_zone(p.zone_path(ZONE), _text("v7-forgot"))
        p.reload()
        deadline = time.monotonic() + 5
        while xfr.soa_serial(p, ZONE) == 7 and time.monotonic() < deadline:
            time.sleep(0.02)
        new = xfr.soa_serial(p, ZONE)
        assert isinstance(new, int) and new != 7 and (new - 7) % 2**32 < 2**31, \
            "the primary did not raise the serial itself (%s)" % new
        xfr.wait_serial(s, ZONE, new, timeout=5)
        s.wait_log(r"example\.com\.: IXFR from 127\.0\.0\.1@%d serial 7 -> %d, " % (p.port, new), mark=mark)
        r = dnsq.ask(s, "forgot.example.com.", "A")
        assert [rd.address for rd in r.answer[0]] == ["192.0.2.77"]
        # The file's records, with the serial the primary chose.
        want = xfr.file_records(expected["v7-forgot"][0], ZONE, serial=new)
        _holds(p, want, "the primary", source=SECONDARY)
        xfr.assert_serves(s, want)


def test_secondary_sends_from_its_source_address(tmp_path):
    """Without source-address the secondary's queries leave from 127.0.0.1, which the primary's ACL does not
    let in: the setup only works because source-address is honoured."""
    primary, second = _pair(tmp_path)
    second.extra_server.pop("source-address")
    with primary as p:
        second.start()
        try:
            second.wait_ready()
            second.wait_log(r"example\.com\.: AXFR from 127\.0\.0\.1@%d failed \(REFUSED\)" % p.port)
            p.wait_log(r"example\.com\.: AXFR from 127\.0\.0\.1 refused")
            assert xfr.soa_serial(second, ZONE) == "SERVFAIL"
        finally:
            second.stop()
