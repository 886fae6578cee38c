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
    ("response-not-query", header(flags=0x8000) + question()),
    ("tsig-not-last", header(ar=2) + question() + b"\x03key\x00\x00\xfa\x00\xff\x00\x00\x00\x00\x00\x00" + opt()),
]


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
    """A reply to a malformed query, if any, is a well-formed error for the same ID, never an answer."""
    if wire is None or len(data) < 12:
        return
    assert len(wire) >= 12, "%s: reply shorter than a header" % case
    qid, flags = struct.unpack("!HH", wire[:4])
    assert qid == struct.unpack("!H", data[:2])[0], "%s: reply with another ID" % case
    assert flags & 0x8000, "%s: reply without QR" % case
    assert flags & 0xF in (dns.rcode.FORMERR, dns.rcode.NOTIMP, dns.rcode.REFUSED, dns.rcode.NOERROR), \
        "%s: rcode %d" % (case, flags & 0xF)


@pytest.mark.parametrize("case,data", CASES, ids=[c for c, _ in CASES])
def test_malformed_query_over_udp(tandem, healthy, case, data):
    wire = dnsq.udp_raw(tandem, data, timeout=0.5)
    if case == "response-not-query":
        assert wire is None, "a response must never be answered (reflection loops)"
    elif case in ("compression-self-loop", "compression-two-step-loop", "compression-forward-pointer",
                  "label-length-0x40", "label-length-0x80", "name-over-255", "two-opt-records",
                  "opt-option-longer-than-rdata", "qdcount-0"):
        assert wire is not None, "%s: no reply; a complete header deserves FORMERR" % case
        assert wire[3] & 0xF == dns.rcode.FORMERR, "%s: rcode %d, want FORMERR" % (case, wire[3] & 0xF)
    check_reply(data, wire, case)
    healthy(case + " over UDP")


@pytest.mark.parametrize("case,data", CASES, ids=[c for c, _ in CASES])
def test_malformed_query_over_tcp(tandem, healthy, case, data):
    try:
        wire = dnsq.tcp_raw(tandem, data, timeout=0.5)
    except (ConnectionResetError, BrokenPipeError):
        wire = None
    check_reply(data, wire, case)
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
                time.sleep(0.01)    # let the workers keep up rather than measure the socket buffer
        try:
            s.send(bytes(rnd.getrandbits(8) for _ in range(65000)))
        except OSError:
            pass
        # whatever comes back must at least be a response (QR set): never a reflected query
        s.settimeout(0.3)
        for _ in range(400):
            try:
                wire = s.recv(65535)
            except (socket.timeout, ConnectionRefusedError):
                break
            assert len(wire) >= 12 and wire[2] & 0x80, wire[:12].hex()
    finally:
        s.close()
    healthy("400 random datagrams")


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
        time.sleep(0.2)
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
        finally:
            s.close()
    healthy("TCP messages cut short")


def test_a_good_query_after_a_bad_one_on_the_same_tcp_connection(tandem, healthy):
    """A malformed message may end the connection, but never with a wrong answer to the next one."""
    s = dnsq.tcp_connect(tandem)
    try:
        bad = header(qid=1) + b"\xc0\x0c\x00\x01\x00\x01"
        good = dnsq.make("www.example.com.", "A", qid=2).to_wire()
        s.sendall(struct.pack("!H", len(bad)) + bad + struct.pack("!H", len(good)) + good)
        got = {}
        for _ in range(2):
            try:
                wire = dnsq.tcp_read_msg(s, timeout=2)
            except (ConnectionResetError, BrokenPipeError):
                break
            if wire is None:
                break
            got[struct.unpack("!H", wire[:2])[0]] = wire
        if 1 in got:
            assert got[1][3] & 0xF == dns.rcode.FORMERR
        if 2 in got:
            assert dns.message.from_wire(got[2]).answer
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


def wait_for(predicate, timeout, step=0.1):
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
        t.zone_path("example.net.").write_text(BROKEN_NET)
        size = len(t.log_text())
        t.reload()
        wait_for(lambda: len(t.log_text()) > size and "example.net" in t.log_text()[size:], 5)
        time.sleep(0.5)
        assert t.alive()
        assert www() == "198.51.100.80" and serial() == 7
        assert dnsq.ask(t, "www.example.com.", "A").answer, "the other zones must keep serving"
        assert "example.net" in t.log_text()[size:], "the log does not say why the reload failed"
        # Fixed and reloaded: the new version is served.
        t.zone_path("example.net.").write_text(FIXED_NET)
        t.reload()
        assert wait_for(lambda: serial() == 9, 10), "the fixed zone is not served 10 s after SIGHUP"
        assert www() == "198.51.100.81"
        assert dnsq.ask(t, "fresh.example.net.", "A").answer
        assert dnsq.ask(t, "mail.example.net.", "A").rcode() == dns.rcode.NXDOMAIN
        assert t.stop() == 0, "tandemd did not exit cleanly on SIGTERM"
