"""harness/xfr.py -- replication from the outside: zones written by the test, SOA serials polled (bounded),
AXFR, IXFR and NOTIFY sent by dnspython (signed or not, from a chosen loopback source address), and the checks
that a server holds and serves a zone file's records.

What a server should hold is never taken from Tandem's own output: file_records() reads the zone file with
dnspython's zone reader, knot_records() asks Knot DNS serving the same file, and assert_same_records()
compares either with what a server gives by AXFR."""

import os
import socket
import struct
import time

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.rrset
import dns.zone

from . import dnsq


# ---- zones written by the tests

def zone_text(origin, serial, extra=(), hosts=0, refresh=3600, retry=600, expire=604800, minimum=300):
    """A plain zone every implementation loads: SOA, two NS with addresses, a few common types, then
    `hosts` generated A records (h0..hN) and any extra lines ("name TYPE rdata", relative names)."""
    origin = origin if origin.endswith(".") else origin + "."
    lines = ["$ORIGIN %s" % origin, "$TTL 3600",
             "@ IN SOA ns1 hostmaster %d %d %d %d %d" % (serial, refresh, retry, expire, minimum),
             "@ NS ns1", "@ NS ns2",
             "ns1 A 192.0.2.1", "ns2 A 192.0.2.2",
             "@ MX 10 mail",
             "mail A 192.0.2.25", "mail AAAA 2001:db8::25",
             "www A 192.0.2.80", "www AAAA 2001:db8::80",
             "ftp CNAME www",
             '@ TXT "v=spf1 mx -all"',
             "_sip._tcp SRV 10 5 5060 www"]
    lines += list(extra)
    lines += ["h%d A 10.%d.%d.%d" % (i, (i >> 16) & 255, (i >> 8) & 255, i & 255) for i in range(hosts)]
    return "\n".join(lines) + "\n"


def write_zone(path, text):
    """Writes a zone file and moves its mtime forward, so servers that look at mtime (NSD, Knot) see the
    change even within the same second."""
    path = str(path)
    old = os.stat(path).st_mtime if os.path.exists(path) else 0
    with open(path, "w") as f:
        f.write(text)
    t = max(time.time(), old + 1)
    os.utime(path, (t, t))


# ---- serials

def soa_serial(server, zone, timeout=1.0, addr=None):
    """The serial the server answers for the zone (UDP, no RD), or the rcode's name when it has none."""
    r = dnsq.ask(server, zone, "SOA", timeout=timeout, addr=addr)
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return dns.rcode.to_text(r.rcode())
    return r.answer[0][0].serial


def wait_serial(server, zone, serial, timeout=10.0, interval=0.02):
    """Polls the zone's SOA until the server answers `serial`; returns the seconds it took. Bounded."""
    start = time.monotonic()
    deadline = start + timeout
    last = None
    while True:
        try:
            last = soa_serial(server, zone, timeout=0.5)
        except Exception as e:  # a timeout while the server is busy
            last = repr(e)
        if last == serial:
            return time.monotonic() - start
        if time.monotonic() >= deadline:
            raise AssertionError("%s: %s serial %s not served within %.0fs (last answer: %s)\n%s"
                                 % (server.kind, zone, serial, timeout, last, server.log_tail(30)))
        time.sleep(interval)


def wait_rcode(server, zone, rcode, timeout=10.0, interval=0.05):
    """Polls the zone's SOA until the answer's rcode is `rcode` (a dns.rcode value); the seconds it took."""
    start = time.monotonic()
    deadline = start + timeout
    last = None
    while True:
        try:
            last = dnsq.ask(server, zone, "SOA", timeout=0.5).rcode()
        except Exception as e:
            last = repr(e)
        if last == rcode:
            return time.monotonic() - start
        if time.monotonic() >= deadline:
            raise AssertionError("%s: %s SOA never answered %s within %.0fs (last: %s)\n%s"
                                 % (server.kind, zone, dns.rcode.to_text(rcode), timeout, last,
                                    server.log_tail(30)))
        time.sleep(interval)


# ---- transfers and NOTIFY sent by the test

def axfr(server, zone, key=None, source=None, timeout=30.0):
    """The whole zone by AXFR (dnspython checks every message's TSIG when key is given): a dict
    {(owner, type): (ttl, set of rdata texts)}, the SOA included once."""
    out = {}
    keyring = key.dns() if key else None
    for msg in dns.query.xfr(server.addr, zone, port=server.port, keyring=keyring, keyname=key and key.name,
                             source=source, lifetime=timeout, relativize=False):
        for rrset in msg.answer:
            k = (rrset.name.to_text().lower(), dns.rdatatype.to_text(rrset.rdtype))
            ttl, rds = out.setdefault(k, (rrset.ttl, set()))
            rds.update(rd.to_text().lower() for rd in rrset)
    return out


def xfr_rcode(server, zone, rdtype="AXFR", key=None, source=None, serial=None, timeout=5.0):
    """Asks for a transfer over TCP (signed with key, from source) and returns the first answer's rcode
    (dns.rcode value), read from the header so that an answer signed with an unknown key, or carrying a
    TSIG error, can still be read. None when the server closed without answering."""
    q = dns.message.make_query(zone, rdtype)
    q.flags &= ~dns.flags.RD
    if rdtype == "IXFR":
        q.authority.append(dns.rrset.from_text(zone, 0, "IN", "SOA",
                                               ". . %d 0 0 0 0" % (serial or 0)))
    if key:
        q.use_tsig(key.dns())
    data = q.to_wire()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        if source:
            s.bind((source, 0))
        s.connect((server.addr, server.port))
        s.sendall(struct.pack("!H", len(data)) + data)
        wire = dnsq.tcp_read_msg(s, timeout)
    except (ConnectionResetError, BrokenPipeError):
        return None
    finally:
        s.close()
    if wire is None:
        return None
    return wire[3] & 0x0F


def notify(server, zone, key=None, source=None, serial=None, timeout=2.0):
    """Sends a NOTIFY (RFC 1996) for the zone over UDP, from source, signed when key is given; returns the
    answer's rcode (read from the header), or None when nothing came back in time."""
    q = dns.message.make_query(zone, "SOA")
    q.flags = dns.flags.AA
    q.set_opcode(dns.opcode.NOTIFY)   # after the flags: the opcode lives in them
    if serial is not None:
        q.answer.append(dns.rrset.from_text(zone, 3600, "IN", "SOA", ". . %d 0 0 0 0" % serial))
    if key:
        q.use_tsig(key.dns())
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        if source:
            s.bind((source, 0))
        s.sendto(q.to_wire(), (server.addr, server.port))
        try:
            wire, _ = s.recvfrom(65535)
        except socket.timeout:
            return None
    finally:
        s.close()
    return wire[3] & 0x0F


def xfr_stream(server, zone, rdtype="AXFR", serial=None, key=None, source=None, timeout=30.0):
    """A transfer as it came: a Stream with .records, every record in the order sent, as (owner, type, ttl,
    rdata text) with owner and rdata lowercased; .messages, how many; .signed, for each message whether it
    carried a TSIG record (dnspython verifies each one that does, and the chain of MACs across them, when key
    is given). IXFR asks from `serial` (RFC 1995 3)."""
    out = Stream()
    keyring = key.dns() if key else None
    kw = {"serial": serial or 0} if rdtype == "IXFR" else {}
    for msg in dns.query.xfr(server.addr, zone, rdtype=rdtype, port=server.port, keyring=keyring,
                             keyname=key and key.name, source=source, lifetime=timeout, relativize=False,
                             **kw):
        out.messages += 1
        out.signed.append(msg.had_tsig)
        for rrset in msg.answer:
            for rd in rrset:
                out.records.append((rrset.name.to_text().lower(), dns.rdatatype.to_text(rrset.rdtype),
                                    rrset.ttl, rd.to_text().lower()))
    return out


class Stream:
    """What xfr_stream() returns."""

    def __init__(self):
        self.records, self.messages, self.signed = [], 0, []

    def zone(self):
        """The records as axfr() gives them (a dict by owner and type)."""
        return records_dict(self.records)


def records_dict(records):
    """{(owner, type): (ttl, set of rdata texts)} from (owner, type, ttl, rdata) tuples."""
    out = {}
    for owner, rtype, ttl, rdata in records:
        out.setdefault((owner, rtype), (ttl, set()))[1].add(rdata)
    return out


def flat(records):
    """The set of (owner, type, ttl, rdata) tuples of an axfr()-style dict."""
    return {(owner, rtype, ttl, rd) for (owner, rtype), (ttl, rds) in records.items() for rd in rds}


def serial_and_records(server, zone):
    """(serial, records but the SOA, as flat() gives them) of a zone, by AXFR."""
    recs = axfr(server, zone)
    serial = int(next(iter(recs.pop((zone, "SOA"))[1])).split()[2])
    return serial, flat(recs)


def ixfr_changes(server, zone, serial):
    """(removed, added) records but the SOAs of an IXFR from serial (RFC 1995 4: the new SOA, then for each
    version the old SOA and what went, the next SOA and what came, then the new SOA again)."""
    recs = xfr_stream(server, zone, rdtype="IXFR", serial=serial).records
    assert recs[0][1] == "SOA" and recs[-1] == recs[0], recs
    removed, added, soas = set(), set(), 0
    for owner, rtype, ttl, rdata in recs[1:-1]:
        if rtype == "SOA":
            soas += 1
            continue
        (added if soas % 2 == 0 else removed).add((owner, rtype, ttl, rdata))
    assert soas >= 2 and soas % 2 == 0, recs   # incremental, not a whole zone
    return removed, added


# ---- what a server should hold, found without the server under test

def file_records(path, origin, serial=None):
    """The records of a zone file as dnspython's zone reader parses it (no server involved), in axfr()'s
    form. serial replaces the SOA's (a primary that raised a forgotten serial itself)."""
    origin = origin if origin.endswith(".") else origin + "."
    z = dns.zone.from_file(str(path), origin=origin, relativize=False, check_origin=True)
    out = {}
    for name, rdataset in z.iterate_rdatasets():
        rds = rdataset
        if serial is not None and rdataset.rdtype == dns.rdatatype.SOA:
            rds = [rd.replace(serial=serial) for rd in rdataset]
        out[(name.to_text().lower(), dns.rdatatype.to_text(rdataset.rdtype))] = (
            rdataset.ttl, {_as_received(rd) for rd in rds})
    return out


def _as_received(rd):
    """An rdata's text as it reads after a trip through wire form, as every transfer gives it (dnspython
    keeps some text as written in a file: "2001:db8::0" stays so until it is wire)."""
    wire = rd.to_wire()
    return dns.rdata.from_wire(rd.rdclass, rd.rdtype, wire, 0, len(wire)).to_text().lower()


_knot_runs = [0]


def knot_records(workdir, origin, path):
    """What Knot DNS serves from the same zone file: a knotd started on it (own folder under workdir), its
    AXFR, then stopped. The second opinion beside file_records()."""
    from .servers import Acl, Knot, Zone
    _knot_runs[0] += 1
    with Knot(workdir, [Zone(origin, path, acl=[Acl(["127.0.0.1"])])],
              name="knot-reference-%d" % _knot_runs[0]) as k:
        return axfr(k, origin)


def record_diff(got, want, got_what="got", want_what="want", limit=20):
    """Lines saying which records only one side has (at most `limit` of each), empty when both hold the
    same; TTLs count."""
    g, w = flat(got), flat(want)
    lines = ["only in %s: %s %s %d %s" % ((got_what,) + r) for r in sorted(g - w)[:limit]]
    lines += ["only in %s: %s %s %d %s" % ((want_what,) + r) for r in sorted(w - g)[:limit]]
    return lines


def assert_same_records(got, want, got_what="the server", want_what="the zone file"):
    """Both hold exactly the same records (TTLs included), or fail listing the differences."""
    lines = record_diff(got, want, got_what, want_what)
    assert not lines, "%s does not hold what %s holds:\n  %s" % (got_what, want_what, "\n  ".join(lines))


# ---- the secondary serves what the primary holds

def assert_serves(server, records, skip=()):
    """Asks the server for every (owner, type) of `records` (as axfr() returns them) over UDP and checks the
    answer holds exactly those rdatas, authoritatively. skip: types not asked (e.g. CNAME targets chase)."""
    wrong = []
    for (owner, rtype), (ttl, rdatas) in sorted(records.items()):
        if rtype in skip:
            continue
        r = dnsq.ask(server, owner, rtype, timeout=2.0)
        got = set()
        for rrset in r.answer:
            if rrset.name.to_text().lower() == owner and dns.rdatatype.to_text(rrset.rdtype) == rtype:
                got.update(rd.to_text().lower() for rd in rrset)
        if r.rcode() != dns.rcode.NOERROR or not (r.flags & dns.flags.AA) or got != rdatas:
            wrong.append("%s %s: want %s, got %s %s" % (owner, rtype, sorted(rdatas),
                                                       dns.rcode.to_text(r.rcode()), sorted(got)))
    assert not wrong, "%s does not serve the zone as its primary holds it:\n  %s" % (
        server.kind, "\n  ".join(wrong[:20]))
