"""test_malformed.py -- hostile and broken input never takes Tandem down.

Story: an operator's tandemd gets malformed packets from the Internet (truncated headers, compression
loops, bad labels, bad OPT records, plain garbage, half-sent TCP messages); after every one it still answers
a good query correctly and the process is alive. Then a zone file is broken by hand: `tandemd --check`
names the file and line, and a SIGHUP with the broken file keeps the old version serving until it is fixed.
"""

import random
import re
import socket
import struct
import time

import dns.message
import dns.rcode
import pytest

from conftest import TEST_ZONES
from harness import Tandem, zones
from harness import dnsq

QNAME = b"\x03www\x07example\x03com\x00"


def header(qid=0x5151, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!6H", qid, flags, qd, an, ns, ar)


def question(name=QNAME, qtype=1, qclass=1):
    return name + struct.pack("!HH", qtype, qclass)


def opt(owner=b"\x00", payload=1232, rdata=b"", rdlen=None):
    return owner + struct.pack("!HHIH", 41, payload, 0, len(rdata) if rdlen is None else rdlen) + rdata


GOOD = header() + question()
# key. TSIG ANY, well formed (hmac-sha256, a 32-octet MAC of zeros): only its place makes it wrong.
_TSIG_RDATA = (b"\x0bhmac-sha256\x00" + b"\x00" * 6 + struct.pack("!HH", 300, 32) + b"\x00" * 32 +
               struct.pack("!HHH", 0x5151, 0, 0))
TSIG = b"\x03key\x00" + struct.pack("!HHIH", 250, 255, 0, len(_TSIG_RDATA)) + _TSIG_RDATA
A_RECORD = b"\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\xc0\x00\x02\x01"   # . A 192.0.2.1, well formed

# Each case: (id, bytes). Names are built by hand so the codec, not dnspython, decides what they mean.
CASES = [
    ("empty", b""),
    ("one-byte", b"\x51"),
    ("header-11-bytes", GOOD[:11]),
    ("header-only-qd1", header()),
    ("question-cut-in-name", header() + QNAME[:6]),
    ("question-cut-in-type", header() + QNAME + b"\x00"),
    ("compression-self-loop", header() + b"\xc0\x0c" + b"\x00\x01\x00\x01"),
    ("compression-two-step-loop", header() + b"\x01a\xc0\x0e\xc0\x0c" + b"\x00\x01\x00\x01"),
    ("compression-forward-pointer", header() + b"\xc0\x10\x00\x01\x00\x01" + b"\x03www\x00"),
    ("compression-pointer-past-end", header() + b"\xc0\xff\x00\x01\x00\x01"),
    ("compression-pointer-into-header", header() + b"\xc0\x02\x00\x01\x00\x01"),
    ("label-length-0x40", header() + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01"),
    ("label-length-0x7f", header() + b"\x7fabc\x00\x00\x01\x00\x01"),
    ("label-length-0x80", header() + b"\x80abc\x00\x00\x01\x00\x01"),
    ("label-length-0xbf", header() + b"\xbfabc\x00\x00\x01\x00\x01"),
    ("label-longer-than-data", header() + b"\x3fabc"),
    ("name-over-255", header() + (b"\x3f" + b"a" * 63) * 5 + b"\x00\x00\x01\x00\x01"),
    ("name-over-255-by-pointers", header(an=1) + question() +
     (b"\x3f" + b"b" * 63) * 3 + b"\x3d" + b"c" * 61 + b"\xc0\x0c" + b"\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00"),
    ("qdcount-0", header(qd=0)),
    ("qdcount-2", header(qd=2) + question() + question()),
    ("qdcount-65535", header(qd=65535) + question()),
    ("arcount-without-records", header(ar=3) + question()),
    ("two-opt-records", header(ar=2) + question() + opt() + opt()),
    ("opt-not-root", header(ar=1) + question() + opt(owner=b"\x01a\x00")),
    ("opt-option-longer-than-rdata", header(ar=1) + question() + opt(rdata=b"\x00\x03\x00\x09abc")),
    ("opt-rdlen-past-end", header(ar=1) + question() + opt(rdata=b"", rdlen=200)),
    ("opt-truncated-option-header", header(ar=1) + question() + opt(rdata=b"\x00\x03\x00")),
    ("opt-in-answer-section", header(an=1) + question() + opt()),
    ("opt-cookie-bad-length", header(ar=1) + question() + opt(rdata=b"\x00\x0a\x00\x03abc")),
    ("opt-payload-0", header(ar=1) + question() + opt(payload=0)),
    ("trailing-garbage", GOOD + b"\xde\xad\xbe\xef"),
    ("trailing-after-opt", header(ar=1) + question() + opt() + b"\xde\xad"),
    ("response-not-query", header(flags=0x8000) + question()),
    ("tsig-not-last", header(ar=2) + question() + TSIG + opt()),
    ("tsig-not-last-after-opt", header(ar=3) + question() + opt() + TSIG + A_RECORD),
]


# What docs/behaviour.md ("Errors") says each case gets. NOTHING: no reply at all (shorter than a header, or
# a response). Otherwise (rcode, question echoed, our OPT in the reply): an error carries no records but the
# question when it reads and our OPT when the request's OPT did (RFC 6891 7). "ANSWER": no error at all.
NOTHING = None
FORMERR_BARE = ("FORMERR", False, False)       # the question does not read: header only
FORMERR_Q = ("FORMERR", True, False)           # the question reads, a later part does not
FORMERR_Q_OPT = ("FORMERR", True, True)        # ... and the OPT before the broken part read fine
EXPECT = {
    "empty": NOTHING, "one-byte": NOTHING, "header-11-bytes": NOTHING, "response-not-query": NOTHING,
    "header-only-qd1": FORMERR_BARE, "question-cut-in-name": FORMERR_BARE, "question-cut-in-type": FORMERR_BARE,
    "compression-self-loop": FORMERR_BARE, "compression-two-step-loop": FORMERR_BARE,
    "compression-forward-pointer": FORMERR_BARE, "compression-pointer-past-end": FORMERR_BARE,
    # A pointer into the header is strictly backwards, so legal: it reads the flags' zero octet, the root
    # name, which is outside our zones.
    "compression-pointer-into-header": ("REFUSED", True, False),
    "label-length-0x40": FORMERR_BARE, "label-length-0x7f": FORMERR_BARE, "label-length-0x80": FORMERR_BARE,
    "label-length-0xbf": FORMERR_BARE, "label-longer-than-data": FORMERR_BARE, "name-over-255": FORMERR_BARE,
    "name-over-255-by-pointers": FORMERR_Q,
    "qdcount-0": FORMERR_BARE, "qdcount-2": FORMERR_BARE, "qdcount-65535": FORMERR_BARE,
    "arcount-without-records": FORMERR_Q,
    "two-opt-records": FORMERR_Q, "opt-not-root": FORMERR_Q, "opt-option-longer-than-rdata": FORMERR_Q,
    "opt-rdlen-past-end": FORMERR_Q, "opt-truncated-option-header": FORMERR_Q, "opt-in-answer-section": FORMERR_Q,
    "opt-cookie-bad-length": FORMERR_Q,
    # RFC 6891 6.2.5: a payload below 512 is taken as 512; the query is fine.
    "opt-payload-0": "ANSWER",
    "trailing-garbage": FORMERR_Q, "trailing-after-opt": FORMERR_Q_OPT,
    "tsig-not-last": FORMERR_Q, "tsig-not-last-after-opt": FORMERR_Q_OPT,
}
assert set(EXPECT) == {c for c, _ in CASES}
# The question an error echoes, uncompressed, where it is not www.example.com. A IN.
ECHO = {"compression-pointer-into-header": b"\x00" + struct.pack("!HH", 1, 1)}


@pytest.fixture(scope="module")
def healthy(tandem):
    """Checks that tandemd is alive and still answers a good query correctly, over UDP and TCP."""
    def check(after):
        assert tandem.alive(), "tandemd died after %s\n%s" % (after, tandem.log_tail())
        for tcp in (False, True):
            r = dnsq.ask(tandem, "www.example.com.", "A", tcp=tcp, timeout=3)
            assert r.rcode() == dns.rcode.NOERROR and r.answer, "after %s: %s" % (after, dnsq.sig(r))
            assert r.answer[0][0].address == "192.0.2.80"
    return check


def check_reply(data, wire, case):
    """The reply is exactly what EXPECT says: same ID and opcode, QR set, the rcode, no records but the
    question (as asked, when it reads) and our OPT (when the request's read); or the answer to the query."""
    want = EXPECT[case]
    assert wire is not None, "%s: no reply; want %s" % (case, want)
    assert len(wire) >= 12, "%s: reply shorter than a header" % case
    qid, flags, qd, an, ns, ar = struct.unpack("!6H", wire[:12])
    assert qid == struct.unpack("!H", data[:2])[0], "%s: reply with another ID" % case
    assert flags & 0x8000, "%s: reply without QR" % case
    assert (flags >> 11) & 0xF == (struct.unpack("!H", data[2:4])[0] >> 11) & 0xF, "%s: opcode changed" % case
    if want == "ANSWER":
        r = dns.message.from_wire(wire)
        assert r.rcode() == dns.rcode.NOERROR and r.edns == 0, "%s: %s" % (case, r.to_text())
        assert [rd.address for rrset in r.answer for rd in rrset] == ["192.0.2.80"], r.to_text()
        return
    rcode, with_question, with_opt = want
    got = dns.rcode.to_text(flags & 0xF)
    assert got == rcode, "%s: rcode %s, want %s" % (case, got, rcode)
    assert (an, ns) == (0, 0), "%s: an error with records: an=%d ns=%d" % (case, an, ns)
    assert qd == (1 if with_question else 0), "%s: %d questions in the reply" % (case, qd)
    assert ar == (1 if with_opt else 0), "%s: %d additional records in the reply" % (case, ar)
    if with_question:
        asked = ECHO.get(case, question())
        assert wire[12:12 + len(asked)] == asked, "%s: the question is not echoed as asked" % case
    if with_opt:
        r = dns.message.from_wire(wire)
        assert r.edns == 0 and r.payload == 1232, "%s: our OPT is missing\n%s" % (case, r.to_text())


GOOD_ID = 0x7777


def good_query():
    return dnsq.make("www.example.com.", "A", qid=GOOD_ID).to_wire()


def check_good_answer(wire, case):
    assert wire is not None, "%s: no answer to the good query that followed" % case
    qid = struct.unpack("!H", wire[:2])[0]
    assert qid == GOOD_ID, "%s: got a reply to the malformed query (id %04x) where none is due" % (case, qid)
    r = dns.message.from_wire(wire)
    assert [rd.address for rrset in r.answer for rd in rrset] == ["192.0.2.80"], r.to_text()


@pytest.mark.parametrize("case,data", CASES, ids=[c for c, _ in CASES])
def test_malformed_query_over_udp(tandem, healthy, case, data):
    """One socket sends the malformed datagram, then a good query: the first datagram back is the reply
    EXPECT names, or (no reply due) the good query's answer -- silence proven without waiting for it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((tandem.addr, tandem.port))
        s.settimeout(3)
        s.send(data)
        s.send(good_query())
        first = s.recv(65535)
        if EXPECT[case] is NOTHING:
            check_good_answer(first, case + " over UDP")
        else:
            check_reply(data, first, case)
            check_good_answer(s.recv(65535), case + " over UDP")
    finally:
        s.close()
    healthy(case + " over UDP")


@pytest.mark.parametrize("case,data", CASES, ids=[c for c, _ in CASES])
def test_malformed_query_over_tcp(tandem, healthy, case, data):
    """The same on one TCP connection: the malformed message, then a good one (RFC 7766: answered in
    order); the connection stays usable after a malformed message."""
    s = dnsq.tcp_connect(tandem, timeout=3)
    try:
        good = good_query()
        s.sendall(struct.pack("!H", len(data)) + data + struct.pack("!H", len(good)) + good)
        first = dnsq.tcp_read_msg(s, timeout=3)
        if EXPECT[case] is NOTHING:
            check_good_answer(first, case + " over TCP")
        else:
            check_reply(data, first, case)
            check_good_answer(dnsq.tcp_read_msg(s, timeout=3), case + " over TCP")
    finally:
        s.close()
    healthy(case + " over TCP")


def test_random_garbage_over_udp(tandem, healthy):
    rnd = random.Random(20240101)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((tandem.addr, tandem.port))
        for i in range(400):
            n = rnd.choice([rnd.randrange(0, 12), rnd.randrange(12, 64), rnd.randrange(64, 1500)])
            data = bytes(rnd.getrandbits(8) for _ in range(n))
            if i % 2:   # half of them look like queries (QR off, QDCOUNT 1): they get past the first check
                data = header(qid=i) + data
            s.send(data)
            if i % 50 == 0:
                time.sleep(0.01)    # pacing: let the workers keep up rather than measure the socket buffer
        try:
            s.send(bytes(rnd.getrandbits(8) for _ in range(65000)))
        except OSError:
            pass
        # A good query last: everything before its answer must be a response (QR set), never a
        # reflected query; its answer says the server got through the garbage. The socket buffers may
        # have dropped it after such a flood, so it goes again every half second (bounded).
        deadline = time.monotonic() + 10
        answered = False
        while not answered and time.monotonic() < deadline:
            s.send(good_query())
            s.settimeout(0.5)
            try:
                while True:
                    wire = s.recv(65535)
                    assert len(wire) >= 12 and wire[2] & 0x80, wire[:12].hex()
                    if struct.unpack("!H", wire[:2])[0] == GOOD_ID:
                        check_good_answer(wire, "400 random datagrams")
                        answered = True
                        break
            except socket.timeout:
                pass
        assert answered, "no answer to a good query within 10 s of the garbage"
    finally:
        s.close()
    healthy("400 random datagrams")


def finish_tcp(s, what):
    """Half-closes a connection and waits (bounded) until the server has read everything up to our EOF
    and closed its side: then it has processed whatever was sent."""
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        return      # already reset by the server
    assert dnsq.peer_closed(s, timeout=5), "%s: the server did not close after our EOF" % what


def test_random_garbage_over_tcp(tandem, healthy):
    rnd = random.Random(20240102)
    socks = []
    try:
        for i in range(60):
            data = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 700)))
            s = dnsq.tcp_connect(tandem)
            socks.append(s)
            try:
                s.sendall(struct.pack("!H", len(data)) + data if i % 2 else data)
            except OSError:
                pass
        for i, s in enumerate(socks):
            finish_tcp(s, "random TCP stream %d" % i)
    finally:
        for s in socks:
            s.close()
    healthy("60 random TCP streams")


def test_tcp_messages_cut_short_then_closed(tandem, healthy):
    for data in (struct.pack("!H", 500) + GOOD,          # length prefix larger than what follows
                 struct.pack("!H", 65535),                # a prefix and nothing else
                 b"\x00",                                  # half a length prefix
                 struct.pack("!H", 0),                    # a zero-length message
                 struct.pack("!H", len(GOOD)) + GOOD[:20]):
        s = dnsq.tcp_connect(tandem)
        try:
            s.sendall(data)
            finish_tcp(s, data[:4].hex())
        finally:
            s.close()
    healthy("TCP messages cut short")


def test_a_good_query_after_a_bad_one_on_the_same_tcp_connection(tandem, healthy):
    """Two messages at once on one connection, a malformed one (a compression loop) first: FORMERR for
    it, then the answer to the good one, in that order (RFC 7766 6.2.1.1: Tandem answers in order)."""
    s = dnsq.tcp_connect(tandem)
    try:
        bad = header(qid=1) + b"\xc0\x0c\x00\x01\x00\x01"
        good = dnsq.make("www.example.com.", "A", qid=2).to_wire()
        s.sendall(struct.pack("!H", len(bad)) + bad + struct.pack("!H", len(good)) + good)
        first, second = dnsq.tcp_read_msg(s, timeout=3), dnsq.tcp_read_msg(s, timeout=3)
        assert first is not None and second is not None, "want two replies, got %r, %r" % (first, second)
        assert struct.unpack("!H", first[:2])[0] == 1 and first[3] & 0xF == dns.rcode.FORMERR, first.hex()
        r = dns.message.from_wire(second)
        assert r.id == 2 and [rd.address for rrset in r.answer for rd in rrset] == ["192.0.2.80"], r.to_text()
    finally:
        s.close()
    healthy("a bad then a good query on one TCP connection")


def test_many_tcp_connections_opened_and_dropped(tandem, healthy):
    socks = []
    try:
        for _ in range(100):
            socks.append(dnsq.tcp_connect(tandem))
    finally:
        for s in socks:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))   # RST, not FIN
            s.close()
    healthy("100 TCP connections reset")


# ---- broken zone files

BROKEN_NET = """; example.net, broken by hand
$ORIGIN example.net.
$TTL 300
@	60	IN SOA	ns3.example.net. hostmaster.example.net. 8 3600 900 604800 600
	NS	ns3
ns3	A	198.51.100.3
www	A	198.51.100.999
mail	CNAME	www
mail	A	198.51.100.25
"""

FIXED_NET = """; example.net, fixed: a new serial and a new name
$ORIGIN example.net.
$TTL 300
@	60	IN SOA	ns3.example.net. hostmaster.example.net. 9 3600 900 604800 600
	NS	ns3
ns3	A	198.51.100.3
www	A	198.51.100.81
fresh	A	198.51.100.9
"""

ERROR_LINE = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+): .+", re.M)


def test_check_names_file_and_line_of_each_zone_file_error(tmp_path):
    t = Tandem(tmp_path, zones(*TEST_ZONES))
    t.prepare()
    ok = t.check()
    assert ok.returncode == 0, "a good configuration fails --check:\n%s%s" % (ok.stdout, ok.stderr)
    t.zone_path("example.net.").write_text(BROKEN_NET)
    bad = t.check()
    out = bad.stdout + bad.stderr
    assert bad.returncode != 0, "--check accepted a broken zone file:\n%s" % out
    errors = [(m.group("file"), int(m.group("line"))) for m in ERROR_LINE.finditer(out)]
    assert errors, "no file:line: lines in:\n%s" % out
    assert all(f.endswith("example.net.zone") for f, _ in errors), out
    lines = {n for _, n in errors}
    assert 7 in lines, "the bad address on line 7 is not reported:\n%s" % out


def test_check_names_file_and_line_of_a_config_error(tmp_path):
    t = Tandem(tmp_path, zones("example.com."), extra_server={"no-such-key": "1"})
    conf = t.prepare()
    res = t.check()
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    key_line = conf.read_text().splitlines().index("  no-such-key: 1") + 1
    assert re.search(r"tandem\.yaml:%d: " % key_line, out), "want tandem.yaml:%d: in:\n%s" % (key_line, out)


def wait_for(predicate, timeout, step=0.05):
    """Polls predicate until it is true or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def test_a_broken_zone_file_never_replaces_the_served_version(tmp_path):
    with Tandem(tmp_path, zones(*TEST_ZONES)) as t:
        def www():
            r = dnsq.ask(t, "www.example.net.", "A")
            return r.answer[0][0].address if r.answer else None

        def serial():
            return dnsq.ask(t, "example.net.", "SOA").answer[0][0].serial

        assert www() == "198.51.100.80" and serial() == 7
        # The operator breaks the file and reloads: the old version keeps serving.
        # The reload is over once it says so ("reloaded: N zones"); the refusal is logged before that.
        t.zone_path("example.net.").write_text(BROKEN_NET)
        mark = t.log_mark()
        t.reload()
        t.wait_log(r"reloaded: \d+ zones", mark=mark)
        assert re.search(r"example\.net\.: zone file \S+ not loaded", t.log_since(mark)), \
            "the log does not say why the reload failed:\n" + t.log_since(mark)
        assert t.alive()
        assert www() == "198.51.100.80" and serial() == 7
        assert dnsq.ask(t, "www.example.com.", "A").answer, "the other zones must keep serving"
        # Fixed and reloaded: the new version is served.
        t.zone_path("example.net.").write_text(FIXED_NET)
        t.reload()
        assert wait_for(lambda: serial() == 9, 10), "the fixed zone is not served 10 s after SIGHUP"
        assert www() == "198.51.100.81"
        assert dnsq.ask(t, "fresh.example.net.", "A").answer
        assert dnsq.ask(t, "mail.example.net.", "A").rcode() == dns.rcode.NXDOMAIN
        assert t.stop() == 0, "tandemd did not exit cleanly on SIGTERM"
