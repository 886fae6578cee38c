"""test_xfr_connection.py -- several transfers over one TCP connection, and first transfers in batches.

RFC 5936 4.1 and RFC 7766 6.2.1 let a client ask for several transfers, one after the other, on one TCP
connection. The stories:

- Tandem as the primary: one connection, the AXFR of one zone, then of another, then an IXFR, each whole and
  signed, then an SOA query: answered, and the connection closed after it (a transfer thread answers nothing
  but transfers for long). A request the ACL refuses on a kept connection gets REFUSED, as on a new one.
- Tandem as the secondary of 40 zones it holds nothing of (what a catalog's new members are): they come in
  batches over kept connections -- the primary logs them from fewer client ports than zones -- and each
  holds exactly its file's records. The same 40 zones from NSD, Knot and BIND as primaries: whatever they do
  with a connection after a transfer, every zone arrives.
"""

import shutil
import socket
import struct

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.tsig
import pytest

from harness import Acl, Bind, Key, Knot, Nsd, Remote, Tandem, Zone, secondary
from harness import dnsq, xfr

KEY = Key.generate("conn-key.", "hmac-sha256")
ZONES = ["z%02d.conn.test." % i for i in range(40)]


def _file(tmp_path, zone, serial=1):
    path = tmp_path / (zone + "zone")
    path.write_text(xfr.zone_text(zone, serial, ['tag TXT "%s"' % zone], hosts=20))
    return path


def _ask(sock, zone, rdtype, key, serial=None):
    """Sends one request on the connection; returns the messages of its answer (a transfer read to its
    closing SOA), each verified against the key."""
    q = dns.message.make_query(zone, rdtype, use_edns=False)
    if serial is not None:
        q.authority.append(dns.rrset.from_text(zone, 0, "IN", "SOA", ". . %d 0 0 0 0" % serial))
    keyring = {dns.name.from_text(key.name): key.dns()}
    q.use_tsig(keyring, keyname=key.name)
    wire = q.to_wire()
    sock.sendall(struct.pack("!H", len(wire)) + wire)
    msgs, soas, ctx = [], 0, None
    while True:
        data = dnsq.tcp_read_msg(sock, timeout=None)
        assert data is not None, "%s %s: the connection closed before the answer ended" % (zone, rdtype)
        m = dns.message.from_wire(data, keyring=keyring, request_mac=q.mac if ctx is None else b"",
                                  xfr=rdtype in ("AXFR", "IXFR"), origin=None, tsig_ctx=ctx,
                                  multi=rdtype in ("AXFR", "IXFR"), one_rr_per_rrset=True)
        ctx = m.tsig_ctx
        msgs.append(m)
        if rdtype not in ("AXFR", "IXFR") or m.rcode() != dns.rcode.NOERROR:
            return msgs
        soas += sum(1 for rrset in m.answer if rrset.rdtype == dns.rdatatype.SOA)
        if soas >= 2 or (rdtype == "IXFR" and soas == 1 and len(m.answer) == 1):
            return msgs


def _records(msgs):
    out = {}
    for m in msgs:
        for rrset in m.answer:
            for rd in rrset:
                out.setdefault((rrset.name.to_text().lower(), dns.rdatatype.to_text(rrset.rdtype)),
                               (rrset.ttl, set()))[1].add(rd.to_text().lower())
    return out


def test_tandem_primary_answers_transfers_one_after_another_on_one_connection(tmp_path):
    a, b, other = ZONES[0], ZONES[1], ZONES[2]
    zones = [Zone(a, _file(tmp_path, a), acl=[Acl(["127.0.0.1"], KEY)]),
             Zone(b, _file(tmp_path, b), acl=[Acl(["127.0.0.1"], KEY)]),
             Zone(other, _file(tmp_path, other), acl=[Acl(["127.0.0.3"], KEY)])]
    with Tandem(tmp_path, zones) as t:
        with socket.create_connection((t.addr, t.port), timeout=10) as s:
            for zone in (a, b):
                got = _records(_ask(s, zone, "AXFR", KEY))
                xfr.assert_same_records(got, xfr.file_records(tmp_path / (zone + "zone"), zone),
                                        "AXFR of %s on the kept connection" % zone)
            # An IXFR from the current serial on the same connection: the SOA alone (RFC 1995 4).
            msgs = _ask(s, a, "IXFR", KEY, serial=1)
            assert [r.rdtype for m in msgs for r in m.answer] == [dns.rdatatype.SOA]
            # Refused by the ACL (another address only), as on a new connection.
            assert _ask(s, other, "AXFR", KEY)[0].rcode() == dns.rcode.REFUSED
        with socket.create_connection((t.addr, t.port), timeout=10) as s:
            _ask(s, a, "AXFR", KEY)
            # Anything but a transfer is answered, then the connection closes.
            soa = _ask(s, a, "SOA", KEY)[0]
            assert soa.rcode() == dns.rcode.NOERROR and soa.answer[0][0].serial == 1
            s.settimeout(10)
            assert s.recv(1) == b"", "the connection stays open after a query that is not a transfer"
        t.wait_log(r"z01\.conn\.test\.: AXFR to 127\.0\.0\.1@\d+ serial 1, ")


def _assert_all_held(t, tmp_path):
    for z in ZONES:
        xfr.wait_serial(t, z, 1, timeout=20)
    for z in (ZONES[0], ZONES[-1]):
        xfr.assert_same_records(xfr.axfr(t, z, KEY), xfr.file_records(tmp_path / (z + "zone"), z),
                                "Tandem, secondary of %s" % z)


def test_tandem_secondary_takes_first_transfers_in_batches_over_kept_connections(tmp_path):
    zones = [Zone(z, _file(tmp_path, z), acl=[Acl(["127.0.0.1"], KEY)]) for z in ZONES]
    with Tandem(tmp_path / "p", zones, name="primary") as p:
        # One remote for all of them, as an operator writes it (and as a catalog's members share theirs):
        # batches and xfr-per-primary go by the remote.
        primary = Remote.of(p, KEY)
        sec = [secondary(z, [primary], acl=[Acl(["127.0.0.1"], KEY)]) for z in ZONES]
        with Tandem(tmp_path / "s", sec, name="secondary") as t:
            _assert_all_held(t, tmp_path)
            for z in ZONES:
                p.wait_log(r"%s: AXFR to 127\.0\.0\.1@\d+ serial 1, " % z.replace(".", r"\."))
            log = p.log_text()
            used = {l.split("AXFR to 127.0.0.1@")[1].split()[0] for l in log.splitlines() if "AXFR to" in l}
            assert len(used) < len(ZONES) / 4, "%d client ports for %d zones: connections not kept" % (
                len(used), len(ZONES))


PEERS = [Nsd, Knot, Bind]


@pytest.mark.parametrize("peer_cls", PEERS, ids=lambda c: c.kind)
def test_tandem_secondary_gets_every_zone_whatever_the_primary_does_with_the_connection(peer_cls, tmp_path):
    if not shutil.which(str(peer_cls.binary)):
        pytest.skip("%s is not installed (scripts/deps.sh test)" % peer_cls.binary)
    zones = [Zone(z, _file(tmp_path, z), acl=[Acl(["127.0.0.1"], KEY)]) for z in ZONES]
    with peer_cls(tmp_path / "p", zones) as p:
        primary = Remote(p.addr, p.port, KEY)
        sec = [secondary(z, [primary], acl=[Acl(["127.0.0.1"], KEY)]) for z in ZONES]
        with Tandem(tmp_path / "s", sec, name="secondary") as t:
            _assert_all_held(t, tmp_path)
