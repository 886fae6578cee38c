"""harness/fakes.py -- test peers written in Python (dnspython, threads, loopback), for what real servers will not
do on purpose:

- Proxy: forwards DNS over UDP and TCP to a real server, and can hold a zone transfer in the middle (after N
  bytes of answer), so that a test can kill the secondary while it provably is mid-transfer.
- FakePrimary: a primary that answers SOA, AXFR and IXFR for one zone from versions the test gives it, with
  IXFR answers broken in a chosen way (a record removed that never existed, garbage, a cut stream, an error
  rcode, a delta from another version) or legal but unusual (a whole zone, the SOA alone in the first
  message). It counts every query it gets, so a test can tell whether a refresh happened.
- ScriptedPrimary: a primary (or super-primary) whose every answer the test scripts, message by message, with
  pauses, raw bytes and streams that never end: what a hostile peer does (tests/integration/test_hardening_*).
"""

import os
import select
import socket
import struct
import threading
import time

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.zone

from .dnsq import tcp_read_msg
from .ports import free_port


def _read_msg(sock):
    """One length-prefixed message, None when the client closes; the socket's own timeout raises."""
    return tcp_read_msg(sock, timeout=None)


def _send_msg(sock, wire):
    sock.sendall(struct.pack("!H", len(wire)) + wire)


class _Peer:
    """What the fakes share: a UDP and a TCP socket on addr@port (a free port), a thread for each, and
    close(). A subclass sets up its own state, then calls _listen(); it gives _udp_loop() and
    _serve_tcp(conn, client) (one thread per connection). Every loop looks at close() at least every
    0.2 s."""

    backlog = 16

    def _listen(self, addr="127.0.0.1"):
        self.addr = addr
        self.port = free_port(host=addr)
        self._stop = threading.Event()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((self.addr, self.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((self.addr, self.port))
        self.tcp.listen(self.backlog)
        for target in (self._udp_loop, self._tcp_loop):
            threading.Thread(target=target, daemon=True).start()

    def _sockets(self):
        return [self.udp, self.tcp]

    def close(self):
        self._stop.set()
        for s in self._sockets():
            try:
                s.close()
            except OSError:
                pass

    @staticmethod
    def _readable(sock):
        r, _, _ = select.select([sock], [], [], 0.2)
        return bool(r)

    def _udp_queries(self):
        """(query, client) of every datagram that reads as a DNS message, until close()."""
        while not self._stop.is_set():
            try:
                if not self._readable(self.udp):
                    continue
                data, client = self.udp.recvfrom(65535)
                q = dns.message.from_wire(data)
            except Exception:  # a closed socket at the end, or a query it cannot parse
                if self._stop.is_set():
                    return
                continue
            yield q, client

    def _tcp_loop(self):
        while not self._stop.is_set():
            try:
                if not self._readable(self.tcp):
                    continue
                conn, client = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._serve_tcp, args=(conn, client), daemon=True).start()


class Proxy(_Peer):
    """127.0.0.1@port -> upstream, UDP and TCP. hold_after(n): answers over TCP stop flowing once n bytes have
    passed (the `held` event is set); release() lets them flow again. Every wait is bounded."""

    def __init__(self, upstream_addr, upstream_port):
        self.upstream = (upstream_addr, upstream_port)
        self.held = threading.Event()
        self._limit = None
        self._flow = threading.Event()
        self._flow.set()
        self._conns = []
        self._listen()

    def hold_after(self, nbytes):
        self.held.clear()
        self._limit = nbytes

    def release(self):
        self._limit = None
        self._flow.set()

    def close(self):
        self._stop.set()
        self._flow.set()
        super().close()

    def _sockets(self):
        return super()._sockets() + self._conns

    def _udp_loop(self):
        while not self._stop.is_set():
            try:
                if not self._readable(self.udp):
                    continue
                data, client = self.udp.recvfrom(65535)
            except OSError:
                return
            up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                up.settimeout(2.0)
                up.sendto(data, self.upstream)
                self.udp.sendto(up.recv(65535), client)
            except OSError:
                pass
            finally:
                up.close()

    def _serve_tcp(self, client, _):
        """Pumps one connection both ways, holding the answers as hold_after() says."""
        try:
            up = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            client.close()
            return
        self._conns += [client, up]
        passed = 0
        try:
            while not self._stop.is_set():
                r, _, _ = select.select([client, up], [], [], 0.2)
                if client in r:
                    data = client.recv(65536)
                    if not data:
                        break
                    up.sendall(data)
                if up in r:
                    limit = self._limit
                    if limit is not None and passed >= limit:
                        self._flow.clear()
                        self.held.set()
                        while not self._flow.wait(0.2):   # held: nothing more reaches the client
                            if self._stop.is_set():
                                return
                        continue
                    data = up.recv(16384)
                    if not data:
                        break
                    client.sendall(data)
                    passed += len(data)
        except OSError:
            pass
        finally:
            client.close()
            up.close()


class FakePrimary(_Peer):
    """A primary for one zone, on 127.0.0.1 (UDP and TCP), serving the version the test sets.

    versions: {serial: zone text}; set_serial() picks the current one. ixfr_mode says how IXFR is answered:
      "good"            a correct condensed IXFR (RFC 1995) from the requester's serial;
      "ghost-delete"    the real difference plus the removal of a record the old version never had;
      "garbage"         a correct first message, then random bytes in a well-framed message;
      "cut"             the first half of a correct answer, then the connection closed;
      "notimp"/"refused"/"servfail"  that rcode;
      "other-version"   a correct-looking delta that starts from a serial the requester does not have;
      "full"            the whole zone, AXFR-style, in one message (legal: RFC 1995 4);
      "soa-first"       the whole zone, AXFR-style, with the SOA alone in the first message (legal too).
    AXFR is always answered correctly, in messages of `per_msg` records."""

    def __init__(self, origin, versions, serial, ixfr_mode="good", per_msg=50):
        self.origin = dns.name.from_text(origin)
        self.versions = {s: self._parse(t) for s, t in versions.items()}
        self.serial = serial
        self.ixfr_mode = ixfr_mode
        self.per_msg = per_msg
        self.queries = []        # (proto, qtype name, source address), in order
        self._lock = threading.Lock()
        self._listen()

    # ---- the zone
    def _parse(self, text):
        """Zone text -> list of single-record RRsets, SOA first."""
        z = dns.zone.from_text(text, origin=self.origin, relativize=False, check_origin=True)
        out = []
        for name, node in z.nodes.items():
            for rdataset in node.rdatasets:
                for rd in rdataset:
                    rr = dns.rrset.RRset(name, rdataset.rdclass, rdataset.rdtype)
                    rr.add(rd, rdataset.ttl)
                    out.append(rr)
        out.sort(key=lambda rr: (rr.rdtype != dns.rdatatype.SOA, rr.name, rr.rdtype))
        return out

    def set_serial(self, serial):
        self.serial = serial

    def soa(self, serial=None):
        return self.versions[self.serial if serial is None else serial][0]

    def records(self, serial=None):
        """The version as axfr() in harness/xfr.py returns a zone: {(owner, type): (ttl, rdata texts)}."""
        out = {}
        for rr in self.versions[self.serial if serial is None else serial]:
            k = (rr.name.to_text().lower(), dns.rdatatype.to_text(rr.rdtype))
            ttl, rds = out.setdefault(k, (rr.ttl, set()))
            rds.update(rd.to_text().lower() for rd in rr)
        return out

    def count(self, qtype=None):
        with self._lock:
            return sum(1 for q in self.queries if qtype is None or q[1] == qtype)

    # ---- answers
    def _note(self, proto, q, source):
        with self._lock:
            self.queries.append((proto, dns.rdatatype.to_text(q.question[0].rdtype), source))

    def _response(self, q, records, rcode=dns.rcode.NOERROR):
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        r.set_rcode(rcode)
        for rr in records:
            r.answer.append(rr)
        return r.to_wire(max_size=65535)

    def _chunks(self, q, records):
        return [self._response(q, records[i:i + self.per_msg])
                for i in range(0, len(records), self.per_msg)] or [self._response(q, [])]

    def _axfr_records(self):
        v = self.versions[self.serial]
        return [v[0]] + v[1:] + [v[0]]

    def _diff(self, old, new):
        def key(rr):
            return (rr.name, rr.rdtype, rr[0].to_digestable())
        o = {key(rr): rr for rr in self.versions[old][1:]}
        n = {key(rr): rr for rr in self.versions[new][1:]}
        return [o[k] for k in o if k not in n], [n[k] for k in n if k not in o]

    def _ixfr(self, q, client_serial):
        mode = self.ixfr_mode
        if mode in ("notimp", "refused", "servfail"):
            return [self._response(q, [], dns.rcode.from_text(mode.upper()))]
        new = self.soa()
        if client_serial == self.serial:
            return [self._response(q, [new])]
        if mode == "full":
            return [self._response(q, self._axfr_records())]
        if mode == "soa-first":
            return [self._response(q, [new])] + self._chunks(q, self._axfr_records()[1:])
        old_serial = client_serial
        removed, added = self._diff(old_serial, self.serial)
        old = self.soa(old_serial)
        if mode == "ghost-delete":
            removed = removed + [dns.rrset.from_text(dns.name.from_text("ghost", self.origin), 3600, "IN", "A",
                                                     "192.0.2.66")]
        if mode == "other-version":
            old = dns.rrset.from_text(self.origin, old.ttl, "IN", "SOA",
                                      old[0].replace(serial=old_serial - 1).to_text())
        stream = [new, old] + removed + [new] + added + [new]
        msgs = self._chunks(q, stream)
        if mode == "garbage":
            return msgs[:1] + [os.urandom(120)]
        return msgs

    def _answer(self, q, proto, source):
        self._note(proto, q, source)
        qtype = q.question[0].rdtype
        if q.question[0].name != self.origin:
            return [self._response(q, [], dns.rcode.REFUSED)]
        if qtype == dns.rdatatype.SOA:
            return [self._response(q, [self.soa()])]
        if proto == "udp":
            return [self._response(q, [], dns.rcode.NOTIMP)]
        if qtype == dns.rdatatype.AXFR:
            return self._chunks(q, self._axfr_records())
        if qtype == dns.rdatatype.IXFR:
            client = [rr for rr in q.authority if rr.rdtype == dns.rdatatype.SOA]
            if not client:
                return [self._response(q, [], dns.rcode.FORMERR)]
            return self._ixfr(q, client[0][0].serial)
        return [self._response(q, [], dns.rcode.NOTIMP)]

    def _udp_loop(self):
        for q, client in self._udp_queries():
            try:
                for wire in self._answer(q, "udp", client[0])[:1]:
                    self.udp.sendto(wire, client)
            except Exception:  # a closed socket at the end
                if self._stop.is_set():
                    return

    def _serve_tcp(self, conn, client):
        source = client[0]
        conn.settimeout(5)
        try:
            while True:
                data = _read_msg(conn)
                if data is None:
                    return
                q = dns.message.from_wire(data)
                msgs = self._answer(q, "tcp", source)
                broken = q.question[0].rdtype == dns.rdatatype.IXFR and self.ixfr_mode in ("cut", "garbage")
                if broken and self.ixfr_mode == "cut":
                    # The length of the whole first message, half of its bytes, and the connection closed.
                    conn.sendall(struct.pack("!H", len(msgs[0])) + msgs[0][:len(msgs[0]) // 2])
                    msgs = []
                for wire in msgs:
                    _send_msg(conn, wire)
                if broken:
                    time.sleep(0.05)
                    return
        except Exception:
            return
        finally:
            conn.close()


class ScriptedPrimary(_Peer):
    """A peer on 127.0.0.1 (UDP and TCP) that answers every query with what `script(q, proto)` returns: an
    iterable (a generator may never end) of items, each

      bytes             one whole DNS message (framed with its length over TCP);
      ("raw", bytes)    bytes sent as they are (over TCP: a length prefix, a message cut, one byte...);
      ("sleep", secs)   a pause;
      ("close",)        the connection closed at once.

    Over UDP only the first message is sent. script returning None: no answer at all (the connection is
    held open until the client gives up or the fake is closed). Every query is counted in `queries`
    (proto, qname text, qtype text); `open_tcp` is the number of TCP connections being served. A stream
    stops when the client goes away or close() is called: every wait is bounded."""

    backlog = 128

    def __init__(self, script, addr="127.0.0.1"):
        self.script = script
        self.queries = []
        self.open_tcp = 0
        self.max_open_tcp = 0
        self._lock = threading.Lock()
        self._listen(addr)

    def count(self, qtype=None, proto=None):
        with self._lock:
            return sum(1 for q in self.queries
                       if (qtype is None or q[2] == qtype) and (proto is None or q[0] == proto))

    def _note(self, proto, q):
        with self._lock:
            self.queries.append((proto, q.question[0].name.to_text().lower(),
                                 dns.rdatatype.to_text(q.question[0].rdtype)))

    def _pause(self, secs):
        self._stop.wait(secs)

    def _udp_loop(self):
        for q, client in self._udp_queries():
            self._note("udp", q)
            for item in self.script(q, "udp") or ():
                if isinstance(item, bytes):
                    try:
                        self.udp.sendto(item, client)
                    except OSError:
                        pass
                    break

    def _client_gone(self, conn):
        r, _, _ = select.select([conn], [], [], 0)
        if not r:
            return False
        try:
            return conn.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _serve_tcp(self, conn, _):
        with self._lock:
            self.open_tcp += 1
            self.max_open_tcp = max(self.max_open_tcp, self.open_tcp)
        conn.settimeout(5)
        try:
            data = _read_msg(conn)
            if data is None:
                return
            q = dns.message.from_wire(data)
            self._note("tcp", q)
            items = self.script(q, "tcp")
            if items is None:   # hold the connection, answer nothing
                while not self._stop.is_set() and not self._client_gone(conn):
                    self._pause(0.1)
                return
            for item in items:
                if self._stop.is_set():
                    return
                if isinstance(item, bytes):
                    _send_msg(conn, item)
                elif item[0] == "raw":
                    conn.sendall(item[1])
                elif item[0] == "sleep":
                    self._pause(item[1])
                    if self._client_gone(conn):
                        return
                elif item[0] == "close":
                    return
        except Exception:
            return
        finally:
            with self._lock:
                self.open_tcp -= 1
            conn.close()
