"""test_multimessage_tsig.py -- transfers that take several messages, every one signed (RFC 8945 5.3.1), with
the servers Tandem replicates with: Knot DNS, BIND 9, NSD and PowerDNS (issue 12).

The zone holds 7,500 records (A, AAAA and TXT for 2,500 names): about 330 KB, five or more 64 KiB messages
from Tandem, more from peers that write smaller ones. Every transfer and NOTIFY is signed with an hmac-sha256
key, which each side's ACL requires, so each message is signed by the sender and checked by the receiver with
a running MAC (a message lost, reordered or unsigned at the end breaks the chain).

- Tandem primary -> peer secondary: the first transfer is a whole zone (AXFR, Tandem logs its messages);
  then a change of 2,500 records reaches the peer by IXFR, again in several messages. What the peer holds
  after each is compared record for record with the zone file, read by dnspython's zone reader.
- Peer primary -> Tandem secondary: Tandem's first AXFR, every message of it checked; Tandem then holds
  the file's records, and says how many messages they came in; then the same change of 2,500 records on the
  peer reaches Tandem by NOTIFY and IXFR in several messages (the whole zone in answer from PowerDNS, which
  keeps no history, and from BIND, whose max-ixfr-ratio finds the difference too large), and Tandem holds
  the new file's records.

The test itself also reads Tandem's own signed AXFR and IXFR (dnspython) and requires a TSIG record on every
message, not only on the first and last as RFC 8945 would let a server do: Tandem signs each one.
"""

import re
import shutil

import pytest

from harness import Acl, Bind, Key, Knot, Nsd, PowerDns, Remote, Tandem, Zone, secondary
from harness import dnsq, xfr
from harness.ports import free_port

ZONE = "big.test."
PEERS = [Knot, Bind, Nsd, PowerDns]
NAMES = 2500
WAIT = 30.0   # a bound for a broken run only: each transfer takes well under a second on loopback


def _needs(cls):
    if not shutil.which(str(cls.binary)):
        pytest.skip("%s is not installed (scripts/deps.sh test)" % cls.binary)


def _zone_text(serial, flavour):
    """The zone: the common records of zone_text, then for each of NAMES names an A, an AAAA and a TXT of
    about 60 octets; `flavour` is written into every TXT, so that a new flavour changes 2,500 records."""
    lines = []
    for i in range(NAMES):
        lines += ["n%d A 10.%d.%d.%d" % (i, i >> 16 & 255, i >> 8 & 255, i & 255),
                  "n%d AAAA 2001:db8::%x" % (i, i),
                  'n%d TXT "%s record %d of the big zone, padded to be long enough"' % (i, flavour, i)]
    return xfr.zone_text(ZONE, serial, lines)


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """{serial: (path, records)}: version 1 and the change to version 2, each file read by dnspython; Knot
    serving version 1 must hold the same records (a check of the reading)."""
    d = tmp_path_factory.mktemp("big")
    out = {}
    for serial, flavour in ((1, "first"), (2, "second")):
        path = d / ("v%d.zone" % serial)
        path.write_text(_zone_text(serial, flavour))
        out[serial] = (path, xfr.file_records(path, ZONE))
        assert len(xfr.flat(out[serial][1])) > 3 * NAMES
    xfr.assert_same_records(xfr.knot_records(d, ZONE, out[1][0]), out[1][1], "Knot serving v1",
                            "dnspython reading v1")
    return out


def _messages(server, pattern, mark=0):
    """The record and message counts of the transfer line matching pattern in Tandem's log."""
    m = server.wait_log(pattern + r"(\d+) records, (\d+) messages", timeout=WAIT, mark=mark)
    return int(m.group(1)), int(m.group(2))


def _every_message_signed(server, key, rdtype="AXFR", serial=None, at_least=2):
    """Tandem's own transfer read by the test: a TSIG on every message, dnspython verifying each."""
    s = xfr.xfr_stream(server, ZONE, rdtype, serial=serial, key=key)
    assert s.messages >= at_least, "%s in %d messages" % (rdtype, s.messages)
    assert all(s.signed), "%s: messages %s of %d carry no TSIG" % (
        rdtype, [i + 1 for i, signed in enumerate(s.signed) if not signed], s.messages)
    return s


@pytest.mark.parametrize("peer_cls", PEERS, ids=lambda c: c.kind)
def test_tandem_sends_a_large_zone_signed_message_by_message(peer_cls, versions, tmp_path):
    _needs(peer_cls)
    key = Key.generate("big-key.", "hmac-sha256")
    peer_port = free_port()
    src = tmp_path / "big.zone"
    src.write_text(versions[1][0].read_text())
    with Tandem(tmp_path, [Zone(ZONE, src, notify=[Remote("127.0.0.1", peer_port, key)],
                                acl=[Acl(["127.0.0.1"], key)])]) as t:
        zone = secondary(ZONE, [Remote.of(t, key)], acl=[Acl(["127.0.0.1"], key)])
        mark = t.log_mark()
        with peer_cls(tmp_path, [zone], port=peer_port) as peer:
            xfr.wait_serial(peer, ZONE, 1, timeout=WAIT)
            records, messages = _messages(t, r"big\.test\.: AXFR to 127\.0\.0\.1@\d+ serial 1, ", mark=mark)
            assert records == len(xfr.flat(versions[1][1])) + 1 and messages >= 3, (records, messages)
            peer.settle(ZONE)
            xfr.assert_same_records(xfr.axfr(peer, ZONE, key), versions[1][1], "%s after AXFR" % peer.kind,
                                    "v1's zone file")

            # Every TXT changes: an IXFR of 5,000 records (2,500 out, 2,500 in) and the SOAs.
            mark = t.log_mark()
            xfr.write_zone(t.zone_path(ZONE), versions[2][0].read_text())
            t.reload()
            xfr.wait_serial(peer, ZONE, 2, timeout=WAIT)
            kinds = re.findall(r"big\.test\.: (\w+) to 127\.0\.0\.1@\d+ serial 2, ", t.log_since(mark))
            assert kinds and set(kinds) == {"IXFR"}, t.log_since(mark)
            records, messages = _messages(t, r"big\.test\.: IXFR to 127\.0\.0\.1@\d+ serial 2, ", mark=mark)
            assert records == 2 * NAMES + 4 and messages >= 2, (records, messages)
            peer.settle(ZONE)
            xfr.assert_same_records(xfr.axfr(peer, ZONE, key), versions[2][1], "%s after IXFR" % peer.kind,
                                    "v2's zone file")
        # The same transfers read by the test.
        s = _every_message_signed(t, key, at_least=3)
        xfr.assert_same_records(s.zone(), versions[2][1], "Tandem's AXFR", "v2's zone file")
        s = _every_message_signed(t, key, "IXFR", serial=1)
        assert len(s.records) == 2 * NAMES + 4


@pytest.mark.parametrize("peer_cls", PEERS, ids=lambda c: c.kind)
def test_tandem_receives_a_large_zone_signed_message_by_message(peer_cls, versions, tmp_path):
    _needs(peer_cls)
    key = Key.generate("big-key.", "hmac-sha256")
    tandem_port = free_port()
    src = tmp_path / "big.zone"
    src.write_text(versions[1][0].read_text())
    zone = Zone(ZONE, src, notify=[Remote("127.0.0.1", tandem_port, key)], acl=[Acl(["127.0.0.1"], key)])
    with peer_cls(tmp_path, [zone]) as peer:
        xfr.assert_same_records(xfr.axfr(peer, ZONE, key), versions[1][1], "%s, primary" % peer.kind,
                                "v1's zone file")
        zone = secondary(ZONE, [Remote.of(peer, key)], acl=[Acl(["127.0.0.1"], key)])
        with Tandem(tmp_path, [zone], port=tandem_port) as t:
            xfr.wait_serial(t, ZONE, 1, timeout=WAIT)
            records, messages = _messages(
                t, r"big\.test\.: AXFR from 127\.0\.0\.1@%d serial 0 -> 1, " % peer.port)
            # (counted without the SOAs)
            assert records == len(xfr.flat(versions[1][1])) - 1 and messages >= 2, (records, messages)
            xfr.assert_same_records(xfr.axfr(t, ZONE, key), versions[1][1], "Tandem, secondary of %s"
                                    % peer.kind, "v1's zone file")
            # And it answers from them: the first, a middle and the last name.
            for i in (0, NAMES // 2, NAMES - 1):
                r = dnsq.ask(t, "n%d.big.test." % i, "TXT")
                assert [rd.to_text() for rd in r.answer[0]] == [
                    '"first record %d of the big zone, padded to be long enough"' % i]

            # Every TXT changes on the peer: its NOTIFY, then an IXFR of several messages. The answer may be
            # the whole zone, as RFC 1995 4 allows: PowerDNS keeps no history, and BIND sends the zone when
            # the difference is larger than it (max-ixfr-ratio); Tandem reads either in the same transfer.
            mark = t.log_mark()
            xfr.write_zone(peer.zone_path(ZONE), versions[2][0].read_text())
            peer.reload_zone(ZONE)
            xfr.wait_serial(t, ZONE, 2, timeout=WAIT)
            m = t.wait_log(r"big\.test\.: IXFR (?:\(whole zone\) )?from 127\.0\.0\.1@%d serial 1 -> 2, "
                           r"\d+ \w+, (\d+) messages" % peer.port, timeout=WAIT, mark=mark)
            assert int(m.group(1)) >= 2, m.group(0)
            assert "falling back" not in t.log_since(mark), t.log_since(mark)
            xfr.assert_same_records(xfr.axfr(t, ZONE, key), versions[2][1], "Tandem, secondary of %s, after "
                                    "IXFR" % peer.kind, "v2's zone file")
