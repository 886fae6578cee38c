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
"""

import shutil
import time

import dns.rcode
import pytest

from harness import Acl, Bind, Key, Knot, Nsd, PowerDns, Remote, Tandem, Zone, secondary
from harness import dnsq, xfr
from harness.ports import free_port

ZONE = "repl.test."
PEERS = [Knot, Bind, Nsd, PowerDns]
# NOTIFY, then a transfer, on loopback: well under a second for every peer; the bound only keeps a broken
# run short. The SOA refresh is an hour, so nothing but NOTIFY can bring a change this fast.
CHANGE_WAIT = 10.0


def _needs(cls):
    if not shutil.which(str(cls.binary)):
        pytest.skip("%s is not installed (scripts/deps.sh test)" % cls.binary)


def _zone_file(tmp_path, serial, extra=()):
    path = tmp_path / ("v%d.zone" % serial)
    path.write_text(xfr.zone_text(ZONE, serial, extra))
    return path


def _change(server, serial, extra):
    """The operator's change on a primary: the zone file edited (serial raised), then the reload."""
    xfr.write_zone(server.zone_path(ZONE), xfr.zone_text(ZONE, serial, extra))
    server.reload_zone(ZONE)


@pytest.mark.parametrize("peer_cls", PEERS, ids=lambda c: c.kind)
def test_tandem_primary_feeds_a_secondary_by_notify_and_ixfr(peer_cls, tmp_path):
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
            assert xfr.axfr(peer, ZONE, key) == xfr.axfr(t, ZONE, key)
            xfr.assert_serves(peer, xfr.axfr(t, ZONE, key))

            mark = t.log_mark()
            start = time.monotonic()
            _change(t, 2, ["new A 192.0.2.99", "www A 192.0.2.81"])
            xfr.wait_serial(peer, ZONE, 2, timeout=CHANGE_WAIT)
            took = time.monotonic() - start
            # Incremental: Tandem sent the difference, not the zone.
            t.wait_log(r"repl\.test\.: NOTIFY serial 2 to 1 secondaries", mark=mark)
            t.wait_log(r"repl\.test\.: IXFR to 127\.0\.0\.1@\d+ serial 2, ", mark=mark)
            assert "AXFR to" not in t.log_since(mark), t.log_since(mark)
            held = xfr.axfr(t, ZONE, key)
            assert ("new.repl.test.", "A") in held
            peer.settle(ZONE)
            assert xfr.axfr(peer, ZONE, key) == held, "the secondary holds something else than the primary"
            xfr.assert_serves(peer, held)
            assert took < CHANGE_WAIT


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
def test_peer_primary_feeds_tandem_secondary_by_notify_and_ixfr(peer_cls, tmp_path):
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
            assert xfr.axfr(t, ZONE, key) == xfr.axfr(peer, ZONE, key)
            xfr.assert_serves(t, xfr.axfr(peer, ZONE, key))

            # Strangers: a NOTIFY from an address that is not a primary, and one from the primary's
            # address without the key the remote has. Both refused; no refresh follows.
            mark = t.log_mark()
            assert xfr.notify(t, ZONE, source="127.0.0.3", serial=2) == dns.rcode.REFUSED
            assert xfr.notify(t, ZONE, serial=2) in (dns.rcode.REFUSED, dns.rcode.NOTAUTH)
            time.sleep(0.5)
            since = t.log_since(mark)
            assert "refreshing" not in since and "XFR from" not in since, since
            assert xfr.soa_serial(t, ZONE) == 1

            # The peer's change arrives by its signed NOTIFY and an incremental transfer.
            mark = t.log_mark()
            _change(peer, 2, ["new A 192.0.2.99", "www A 192.0.2.81"])
            xfr.wait_serial(t, ZONE, 2, timeout=CHANGE_WAIT)
            t.wait_log(r"repl\.test\.: NOTIFY from 127\.0\.0\.1@\d+, refreshing", mark=mark)
            # PowerDNS 4.7 (SQLite backend) keeps no change history: it answers IXFR with the whole
            # zone, SOA alone in the first message (RFC 1995 4 allows it). Tandem reads that as it
            # is, in the same transfer, and says so; the others send a condensed change.
            kind = r"IXFR \(whole zone\) from" if peer.kind == "pdns" else r"IXFR from"
            t.wait_log(r"repl\.test\.: %s %s serial 1 -> 2, " % (kind, at_peer), mark=mark)
            since = t.log_since(mark)
            assert "falling back" not in since and "AXFR from" not in since, since
            held = xfr.axfr(peer, ZONE, key)
            assert ("new.repl.test.", "A") in held
            assert xfr.axfr(t, ZONE, key) == held, "the secondary holds something else than the primary"
            xfr.assert_serves(t, held)
            r = dnsq.ask(t, "new.repl.test.", "A")
            assert [rd.address for rd in r.answer[0]] == ["192.0.2.99"]
