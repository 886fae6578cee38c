"""harness/dnsq.py -- asking questions: well-formed queries through dnspython, raw bytes over UDP and TCP,
and a normalised view of an answer (sections as sets of RRsets, names case-insensitive) for comparisons.
"""

import socket
import struct
import time

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype


def make(qname, rdtype="A", rdclass="IN", edns=0, payload=1232, do=False, options=None, rd=False,
         opcode=None, qid=None):
    """A query message. edns=None or False means no OPT record; rd off by default (we are authoritative)."""
    use_edns = -1 if edns is None or edns is False else int(edns)
    q = dns.message.make_query(qname, rdtype, rdclass, use_edns=use_edns, payload=payload,
                               want_dnssec=do, options=options or [])
    if use_edns > 0:  # make_query() takes any int as "EDNS on, version 0"
        q.use_edns(use_edns, q.ednsflags, payload, options=q.options)
    if not rd:
        q.flags &= ~dns.flags.RD
    if opcode is not None:
        q.set_opcode(opcode)
    if qid is not None:
        q.id = qid
    return q


def ask(server, qname, rdtype="A", tcp=False, timeout=2.0, addr=None, **kw):
    """Sends one query to a harness server (or addr) and returns the response Message."""
    q = make(qname, rdtype, **kw)
    return send(server, q, tcp=tcp, timeout=timeout, addr=addr)


def send(server, q, tcp=False, timeout=2.0, addr=None):
    """Sends a Message; returns the response Message with .wire (the bytes) and .counts (the four header
    counts as sent, which dnspython's parsed sections hide when an RR is repeated)."""
    where = addr or server.addr
    data = q.to_wire()
    wire = _exchange_tcp(where, server.port, data, timeout) if tcp else _exchange_udp(where, server.port, q.id,
                                                                                       data, timeout)
    r = dns.message.from_wire(wire, ignore_trailing=False)
    r.wire = wire
    r.counts = struct.unpack("!4H", wire[4:12])
    if r.id != q.id:
        raise dns.exception.FormError("reply id %d, query id %d" % (r.id, q.id))
    return r


def _family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def _exchange_udp(addr, port, qid, data, timeout):
    deadline = time.monotonic() + timeout
    s = socket.socket(_family(addr), socket.SOCK_DGRAM)
    try:
        s.connect((addr, port))
        s.send(data)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise dns.exception.Timeout("no UDP reply from %s@%d in %.1fs" % (addr, port, timeout))
            s.settimeout(left)
            try:
                wire = s.recv(65535)
            except socket.timeout:
                continue
            if len(wire) >= 2 and struct.unpack("!H", wire[:2])[0] == qid:
                return wire
    finally:
        s.close()


def _exchange_tcp(addr, port, data, timeout):
    s = socket.create_connection((addr, port), timeout=timeout)
    try:
        s.sendall(struct.pack("!H", len(data)) + data)
        wire = tcp_read_msg(s, timeout)
        if wire is None:
            raise dns.exception.Timeout("no TCP reply from %s@%d in %.1fs" % (addr, port, timeout))
        return wire
    finally:
        s.close()


# ---- raw bytes, for malformed input

def udp_raw(server, data, timeout=1.0, expect_reply=True):
    """Sends bytes in one UDP datagram; returns the reply bytes, or None when nothing came in time."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(data, (server.addr, server.port))
        if not expect_reply:
            return None
        try:
            return s.recv(65535)
        except socket.timeout:
            return None
    finally:
        s.close()


def tcp_connect(server, timeout=2.0, addr=None):
    s = socket.create_connection((addr or server.addr, server.port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(sock, n, deadline=None):
    """n bytes from sock, or fewer when the peer closes or the deadline (time.monotonic()) passes. With no
    deadline the socket's own timeout applies, and raises socket.timeout."""
    buf = b""
    while len(buf) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(buf))
        except socket.timeout:
            if deadline is None:
                raise
            break
        if not chunk:
            break
        buf += chunk
    return buf


def tcp_read_msg(sock, timeout=2.0):
    """One length-prefixed DNS message from a TCP stream, or None on close/timeout. timeout None: the
    socket's own timeout applies (per read), and raises socket.timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    head = recv_exact(sock, 2, deadline)
    if len(head) < 2:
        return None
    (n,) = struct.unpack("!H", head)
    body = recv_exact(sock, n, deadline)
    return body if len(body) == n else None


def tcp_raw(server, data, timeout=1.0, frame=True):
    """Sends bytes over a fresh TCP connection (length-prefixed unless frame=False); returns the reply
    bytes, or None when the server closed or said nothing in time."""
    s = tcp_connect(server, timeout)
    try:
        s.sendall((struct.pack("!H", len(data)) + data) if frame else data)
        try:
            return tcp_read_msg(s, timeout)
        except (ConnectionResetError, BrokenPipeError):
            return None
    finally:
        s.close()


def peer_closed(sock, timeout):
    """True when the peer closes the connection (EOF or reset) within timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(4096)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not data:
            return True
    return False


# ---- normalised answers

def rrset_key(rrset):
    """An RRset as a hashable value: owner lower-cased, class, type, TTL, and the set of rdatas in
    canonical form (names inside rdata lower-cased where RFC 4034 6.2 says so)."""
    rdatas = frozenset(rd.to_digestable() for rd in rrset)
    return (rrset.name.to_text().lower(), dns.rdataclass.to_text(rrset.rdclass),
            dns.rdatatype.to_text(rrset.rdtype), rrset.ttl, rdatas)


def rrset_text(key):
    name, cls, typ, ttl, rdatas = key
    return "%s %d %s %s (%d rdata)" % (name, ttl, cls, typ, len(rdatas))


def section_set(section):
    return frozenset(rrset_key(r) for r in section)


def sig(msg):
    """Short one-line summary of a response: rcode, flags, counts."""
    fl = dns.flags.to_text(msg.flags)
    return "%s %s [%s] an=%d ns=%d ad=%d" % (dns.opcode.to_text(msg.opcode()), dns.rcode.to_text(msg.rcode()),
                                             fl, len(msg.answer), len(msg.authority), len(msg.additional))


def has_rrset(section, name, rdtype):
    n = dns.name.from_text(name)
    t = dns.rdatatype.from_text(rdtype) if isinstance(rdtype, str) else rdtype
    return any(r.name == n and r.rdtype == t for r in section)


def get_rrset(section, name, rdtype):
    n = dns.name.from_text(name)
    t = dns.rdatatype.from_text(rdtype) if isinstance(rdtype, str) else rdtype
    for r in section:
        if r.name == n and r.rdtype == t:
            return r
    return None


def types_in(section):
    return sorted((r.name.to_text().lower(), dns.rdatatype.to_text(r.rdtype)) for r in section)
