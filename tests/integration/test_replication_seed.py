"""test_replication_seed.py -- the seed's "how to set up primary / secondary" on one machine with two addresses:
two tandemd, the primary on 127.0.0.1 and the secondary on 127.0.0.2, the secondary sending everything from
127.0.0.2 (server.source-address) and the primary letting only that address transfer the zone and NOTIFYing it.
Both serve the same data; a change on the primary is served by the secondary within a second, also when the
operator forgot to raise the serial.
"""

import time

import dns.rcode

from harness import Acl, Remote, Tandem, Zone, secondary
from harness import dnsq, xfr
from harness.ports import free_port

ZONE = "example.com."
PRIMARY, SECONDARY = "127.0.0.1", "127.0.0.2"


def _pair(tmp_path, serial=1):
    """The primary and the secondary of the seed's setup (not started)."""
    src = tmp_path / "example.com.zone"
    src.write_text(xfr.zone_text(ZONE, serial))
    sec_port = free_port(host=SECONDARY)
    primary = Tandem(tmp_path, [Zone(ZONE, src, notify=[Remote(SECONDARY, sec_port)],
                                     acl=[Acl([SECONDARY], allow=["transfer"])])],
                     name="primary", addr=PRIMARY, extra_server={"source-address": PRIMARY})
    second = Tandem(tmp_path, [secondary(ZONE, [Remote(PRIMARY, primary.port)])], name="secondary",
                    addr=SECONDARY, port=sec_port, extra_server={"source-address": SECONDARY})
    return primary, second


def test_two_tandems_on_one_machine_with_two_addresses(tmp_path):
    primary, second = _pair(tmp_path)
    with primary as p, second as s:
        xfr.wait_serial(s, ZONE, 1, timeout=10)
        p.wait_log(r"example\.com\.: AXFR to 127\.0\.0\.2@\d+ serial 1, ")
        s.wait_log(r"example\.com\.: AXFR from 127\.0\.0\.1@%d serial 0 -> 1, " % p.port)
        # Only the secondary's address may transfer: the test may too, from 127.0.0.2, not from 127.0.0.1.
        held = xfr.axfr(p, ZONE, source=SECONDARY)
        assert xfr.xfr_rcode(p, ZONE, source=PRIMARY) == dns.rcode.REFUSED
        assert xfr.xfr_rcode(p, ZONE, source="127.0.0.3") == dns.rcode.REFUSED
        xfr.assert_serves(s, held)

        # The operator edits the zone file and reloads: within a second the secondary serves it.
        mark_p, mark_s = p.log_mark(), s.log_mark()
        xfr.write_zone(p.zone_path(ZONE), xfr.zone_text(ZONE, 2, ["shop A 192.0.2.44", "www A 192.0.2.81"]))
        start = time.monotonic()
        p.reload()
        xfr.wait_serial(s, ZONE, 2, timeout=5)
        took = time.monotonic() - start
        assert took < 1.0, "the change took %.2fs to reach the secondary" % took
        s.wait_log(r"example\.com\.: NOTIFY from 127\.0\.0\.1@\d+, refreshing", mark=mark_s)
        s.wait_log(r"example\.com\.: IXFR from 127\.0\.0\.1@%d serial 1 -> 2, " % p.port, mark=mark_s)
        p.wait_log(r"example\.com\.: IXFR to 127\.0\.0\.2@\d+ serial 2, ", mark=mark_p)
        r = dnsq.ask(s, "shop.example.com.", "A")
        assert r.rcode() == dns.rcode.NOERROR and [rd.address for rd in r.answer[0]] == ["192.0.2.44"]
        xfr.assert_serves(s, xfr.axfr(p, ZONE, source=SECONDARY))


def test_a_change_with_the_serial_forgotten_still_reaches_the_secondary(tmp_path):
    """SPEC.md: every change bumps the serial, even when the operator forgot."""
    primary, second = _pair(tmp_path, serial=7)
    with primary as p, second as s:
        xfr.wait_serial(s, ZONE, 7, timeout=10)
        mark = s.log_mark()
        # Same serial, new content.
        xfr.write_zone(p.zone_path(ZONE), xfr.zone_text(ZONE, 7, ["forgot A 192.0.2.77"]))
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


def test_secondary_sends_from_its_source_address(tmp_path):
    """Without source-address the secondary's queries leave from 127.0.0.1, which the primary's ACL does not
    let in: the setup only works because source-address is honoured."""
    primary, second = _pair(tmp_path)
    second.extra_server.pop("source-address")
    with primary as p:
        second.start()
        try:
            second.wait_ready()
            time.sleep(1.0)
            assert xfr.soa_serial(second, ZONE) == "SERVFAIL"
            assert "AXFR from 127.0.0.1@%d failed (REFUSED)" % p.port in second.log_text()
        finally:
            second.stop()
