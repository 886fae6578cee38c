"""harness/xfr.py -- replication from the outside: zones written by the test, SOA serials polled (bounded),
AXFR and NOTIFY sent by dnspython (signed or not, from a chosen loopback source address), and the check that
a secondary serves exactly what its primary holds."""

import os
import socket
import struct
import time

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset

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
