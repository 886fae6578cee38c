"""test_replication_interop.py -- Tandem replicating with the servers operators mix it with: Knot DNS, BIND 9,
NSD and PowerDNS, each started here on loopback (SPEC.md "Replication", issue 3).

The stories, for each peer:

- Tandem is the primary of repl.test. and the peer its secondary: the peer gets the zone by AXFR and serves
  it; a change to Tandem's zone file (and SIGHUP) reaches the peer by NOTIFY and an incremental transfer
  (Tandem logs "IXFR to"), well before the SOA refresh (an hour) could have caused it. Every transfer and
  NOTIFY is signed with an hmac-sha256 key: Tandem's ACL asks for it, and so do Knot's, NSD's and
  PowerDNS's for NOTIFY.
- The peer is the primary and Tandem its secondary: Tandem gets the zone by AXFR, then the peer's change by
  NOTIFY and IXFR (Tandem logs "IXFR from"), all signed. A NOTIFY from a stranger (127.0.0.3, unsigned) or
  an unsigned one from the primary's own address is refused and refreshes nothing.

And, whatever the peer: Tandem as primary refuses a transfer without the key, with a wrong key, or from an
address outside the ACL.

What each side holds is judged against the zone file, never against Tandem's own AXFR: the file read by
dnspython's zone reader, and (once per module, as a check of that reading) what Knot DNS serves from the same
file. A record Tandem's AXFR dropped would be missing from the secondary and from Tandem's AXFR alike, and a
comparison of the two would pass.
"""

import shutil

import dns.rcode
import pytest

from harness import Acl, Bind, Key, Knot, Nsd, PowerDns, Remote, Tandem, Zone, secondary
from harness import dnsq, xfr
from harness.ports import free_port

ZONE = "repl.test."
PEERS = [Knot, Bind, Nsd, PowerDns]
# NOTIFY, then a transfer, on loopback: well under a second for every peer; the bound only keeps a broken
# run short. The SOA refresh is an hour, so nothing but NOTIFY can bring the change at all.
CHANGE_WAIT = 10.0
# The two versions of the zone every story goes through.
CHANGE = ["new A 192.0.2.99", "www A 192.0.2.81"]
VERSIONS = {1: (), 2: CHANGE}


def _needs(cls):
    if not shutil.which(str(cls.binary)):
        pytest.skip("%s is not installed (scripts/deps.sh test)" % cls.binary)


def _zone_file(tmp_path, serial):
    path = tmp_path / ("v%d.zone" % serial)
    path.write_text(xfr.zone_text(ZONE, serial, VERSIONS[serial]))
    return path


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    """{serial: records} of each version, read from its zone file by dnspython; Knot serving the same file
    must hold exactly that too (else the reading, not the server, would be judged)."""
    d = tmp_path_factory.mktemp("reference")
    out = {}
    for serial in VERSIONS:
        path = _zone_file(d, serial)
        out[serial] = xfr.file_records(path, ZONE)
        xfr.assert_same_records(xfr.knot_records(d, ZONE, path), out[serial], "Knot serving v%d" % serial,
                                "dnspython reading v%d" % serial)
    assert ("new.repl.test.", "A") in out[2] and ("new.repl.test.", "A") not in out[1]
    return out


def _holds(server, key, records, what):
    """The server's AXFR (signed with key) holds exactly the records, and its answers serve them."""
    xfr.assert_same_records(xfr.axfr(server, ZONE, key), records, "%s (AXFR)" % what)
    xfr.assert_serves(server, records)


def _change(server, serial):
    """The operator's change on a primary: the zone file edited (serial raised), then the reload."""
    xfr.write_zone(server.zone_path(ZONE), xfr.zone_text(ZONE, serial, VERSIONS[serial]))
    server.reload_zone(ZONE)


@pytest.mark.parametrize("peer_cls", PEERS, ids=lambda c: c.kind)
def test_tandem_primary_feeds_a_secondary_by_notify_and_ixfr(peer_cls, expected, tmp_path):
    _needs(peer_cls)
    key = Key.generate("xfr-key.", "hmac-sha256")
    peer_port = free_port()
    to_peer = Remote("127.0.0.1", peer_port, key)
    primary = Tandem(tmp_path, [Zone(ZONE, _zone_file(tmp_path, 1), notify=[to_peer],
                                     acl=[Acl(["127.0.0.1"], key, allow=["transfer"])])])
    with primary as t:
        # The secondary lets the test transfer the zone too, so that what it holds can be compared whole.
        zone = secondary(ZONE, [Remote.of(t, key)], acl=[Acl(["127.0.0.1"], key)])
        with peer_cls(tmp_path, [zone], port=peer_port) as peer:
            # The first transfer is a whole zone, asked with the key.
            xfr.wait_serial(peer, ZONE, 1, timeout=CHANGE_WAIT)
            t.wait_log(r"repl\.test\.: AXFR to 127\.0\.0\.1@\d+ serial 1, ")
            peer.settle(ZONE)
            _holds(peer, key, expected[1], "%s, secondary" % peer.kind)
            _holds(t, key, expected[1], "Tandem, primary")

            mark = t.log_mark()
            _change(t, 2)
            xfr.wait_serial(peer, ZONE, 2, timeout=CHANGE_WAIT)
            # Incremental: Tandem sent the difference, not the zone.
            t.wait_log(r"repl\.test\.: NOTIFY serial 2 to 1 secondaries", mark=mark)
            t.wait_log(r"repl\.test\.: IXFR to 127\.0\.0\.1@\d+ serial 2, ", mark=mark)
            assert "AXFR to" not in t.log_since(mark), t.log_since(mark)
            peer.settle(ZONE)
            _holds(peer, key, expected[2], "%s, secondary" % peer.kind)
            _holds(t, key, expected[2], "Tandem, primary")


def test_tandem_primary_refuses_transfers_without_the_key_or_from_outside_the_acl(tmp_path):
    key = Key.generate("xfr-key.", "hmac-sha256")
    same_name_other_secret = Key.generate("xfr-key.", "hmac-sha256")
    unknown = Key.generate("stranger-key.", "hmac-sha256")
    with Tandem(tmp_path, [Zone(ZONE, _zone_file(tmp_path, 1), acl=[Acl(["127.0.0.1"], key)])]) as t:
        assert xfr.xfr_rcode(t, ZONE, key=key) == dns.rcode.NOERROR
        assert len(xfr.axfr(t, ZONE, key)) > 5
        # No key: the ACL wants one.
        assert xfr.xfr_rcode(t, ZONE) == dns.rcode.REFUSED
        assert xfr.xfr_rcode(t, ZONE, "IXFR", serial=0) == dns.rcode.REFUSED
        # A key that does not verify (BADSIG) or that Tandem does not know (BADKEY): NOTAUTH (RFC 8945 5.2).
        assert xfr.xfr_rcode(t, ZONE, key=same_name_other_secret) == dns.rcode.NOTAUTH
        assert xfr.xfr_rcode(t, ZONE, key=unknown) == dns.rcode.NOTAUTH
        # The right key from an address outside the ACL.
        assert xfr.xfr_rcode(t, ZONE, key=key, source="127.0.0.3") == dns.rcode.REFUSED
        assert xfr.xfr_rcode(t, ZONE, "IXFR", key=key, source="127.0.0.3", serial=0) == dns.rcode.REFUSED
        # Still serving, and the refusals are in the log.
        assert xfr.soa_serial(t, ZONE) == 1
        assert "refused" in t.log_text()


def test_tandem_primary_without_an_acl_transfers_to_nobody(tmp_path):
    """Secure by default: a primary zone with no ACL gives no transfer, to loopback or anyone."""
    with Tandem(tmp_path, [Zone(ZONE, _zone_file(tmp_path, 1))]) as t:
        assert xfr.xfr_rcode(t, ZONE) == dns.rcode.REFUSED
        assert xfr.xfr_rcode(t, ZONE, "IXFR", serial=0) == dns.rcode.REFUSED


@pytest.mark.parametrize("peer_cls", PEERS, ids=lambda c: c.kind)
def test_peer_primary_feeds_tandem_secondary_by_notify_and_ixfr(peer_cls, expected, tmp_path):
    _needs(peer_cls)
    key = Key.generate("xfr-key.", "hmac-sha256")
    tandem_port = free_port()
    to_tandem = Remote("127.0.0.1", tandem_port, key)
    zone = Zone(ZONE, _zone_file(tmp_path, 1), notify=[to_tandem], acl=[Acl(["127.0.0.1"], key)])
    with peer_cls(tmp_path, [zone]) as peer:
        zone = secondary(ZONE, [Remote.of(peer, key)], acl=[Acl(["127.0.0.1"], key)])
        with Tandem(tmp_path, [zone], port=tandem_port) as t:
            at_peer = r"127\.0\.0\.1@%d" % peer.port
            xfr.wait_serial(t, ZONE, 1, timeout=CHANGE_WAIT)
            t.wait_log(r"repl\.test\.: AXFR from %s serial 0 -> 1, " % at_peer)
            _holds(peer, key, expected[1], "%s, primary" % peer.kind)
            _holds(t, key, expected[1], "Tandem, secondary")

            # Strangers: a NOTIFY from an address that is not a primary, and one from the primary's
            # address without the key the remote has. Both refused, and no refresh follows: Tandem decides
            # before it answers and logs either the refusal or "refreshing" first, so the log is read as
            # soon as the answers are in.
            mark = t.log_mark()
            assert xfr.notify(t, ZONE, source="127.0.0.3", serial=2) == dns.rcode.REFUSED
            assert xfr.notify(t, ZONE, serial=2) in (dns.rcode.REFUSED, dns.rcode.NOTAUTH)
            t.wait_log(r"repl\.test\.: NOTIFY from 127\.0\.0\.3 refused", mark=mark)
            since = t.log_since(mark)
            assert "refreshing" not in since and "XFR from" not in since, since
            assert xfr.soa_serial(t, ZONE) == 1

            # The peer's change arrives by its signed NOTIFY and an incremental transfer.
            _change(peer, 2)
            xfr.wait_serial(t, ZONE, 2, timeout=CHANGE_WAIT)
            t.wait_log(r"repl\.test\.: NOTIFY from 127\.0\.0\.1@\d+, refreshing", mark=mark)
            # PowerDNS 4.7 (SQLite backend) keeps no change history: it answers IXFR with the whole
            # zone, SOA alone in the first message (RFC 1995 4 allows it). Tandem reads that as it
            # is, in the same transfer, and says so; the others send a condensed change.
            kind = r"IXFR \(whole zone\) from" if peer.kind == "pdns" else r"IXFR from"
            t.wait_log(r"repl\.test\.: %s %s serial 1 -> 2, " % (kind, at_peer), mark=mark)
            since = t.log_since(mark)
            assert "falling back" not in since and "AXFR from" not in since, since
            _holds(peer, key, expected[2], "%s, primary" % peer.kind)
            _holds(t, key, expected[2], "Tandem, secondary")
            r = dnsq.ask(t, "new.repl.test.", "A")
            assert [rd.address for rd in r.answer[0]] == ["192.0.2.99"]
