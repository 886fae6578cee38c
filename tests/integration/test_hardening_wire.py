"""test_hardening_wire.py -- requests whose cost or answer depends on the wire format (issue 8, items 2 and
12).

Story: an attacker sends requests made of chains of compression pointers, each name following thousands
of them; tandemd refuses a name after a bounded number of hops, so such a request costs about what its
size says, and another client is answered meanwhile. And an operator checks a signed zone with
`dig +noedns -y ...`: a signed question without EDNS (or with a 512-octet payload) gets a signed answer,
truncated when it does not fit, instead of no answer at all.
"""

import shutil
import struct
import subprocess

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from harness import Acl, Key, Tandem
from harness import dnsq
from hardening_util import ZONE, answered, connect, cpu_seconds, frame, hard_zone

KEY = Key("hard-key.", "hmac-sha256", "y2YlTmcqxBhkquxZEUtPdE2iJdATNlXcbdMmWqZtyh4=")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("hardwire")
    zone = hard_zone(d / "hard.zone")
    zone.acl = [Acl(address=("127.0.0.1",), key=KEY, allow=("transfer",))]
    t = Tandem(d, [zone], workers=2, tcp_idle_timeout=5).serve()
    yield t
    t.stop()


# ---- item 2: compression pointer chains

def chained_request(qid):
    """A 64 KiB query: its answer section's one record carries, in its rdata, a name and then a chain of
    pointers, each to the one before, as far as pointers reach (offset 0x3FFF); then 4,000 additional
    records, each owned by a pointer to the end of the chain. Reading every owner name follows the whole
    chain: some 30 million jumps for one message."""
    qname = b"\x03www\x04hard\x04test\x00"
    head = struct.pack("!6H", qid, 0, 1, 1, 0, 0) + qname + struct.pack("!HH", 1, 1)
    rdata_at = len(head) + 1 + 10
    chain = bytearray(b"\x01a\x00")
    prev = rdata_at
    while rdata_at + len(chain) + 2 <= 0x3FFF:
        here = rdata_at + len(chain)
        chain += struct.pack("!H", 0xC000 | prev)
        prev = here
    carrier = b"\x00" + struct.pack("!HHIH", 10, 1, 0, len(chain)) + bytes(chain)
    owner = struct.pack("!H", 0xC000 | prev)
    record = owner + struct.pack("!HHIH", 1, 1, 0, 0)
    count = (65535 - len(head) - len(carrier)) // len(record)
    msg = bytearray(head + carrier + record * count)
    struct.pack_into("!H", msg, 10, count)   # ARCOUNT
    return bytes(msg)


def test_compression_pointer_chains_cost_what_their_size_says(server):
    """24 such 64 KiB requests over TCP. Before, each took about a tenth of a CPU second to read
    (every owner walked the whole chain) and was then answered; now a name may follow 128 pointers, the
    first owner is refused (FORMERR), and the 24 cost next to nothing. UDP is answered meanwhile."""
    pid = server.proc.pid
    req = chained_request(0x2222)
    assert len(req) <= 65535
    c0 = cpu_seconds(pid)
    socks = [connect(server, timeout=20) for _ in range(4)]
    for s in socks:
        s.sendall(frame(req) * 6)
    replies = []
    for s in socks:
        for _ in range(6):
            wire = dnsq.tcp_read_msg(s, 20)
            assert wire is not None, "no reply to a chained request"
            replies.append(wire)
        s.close()
    used = cpu_seconds(pid) - c0
    assert used < 0.5, "24 chained requests took %.2f CPU seconds" % used
    assert all(w[3] & 0x0F == dns.rcode.FORMERR for w in replies), \
        "rcodes %s" % sorted({w[3] & 0x0F for w in replies})
    assert answered(server) and answered(server, tcp=True)


def test_names_as_writers_compress_them_are_still_read(server):
    """What writers do is still read: a query whose answer section holds 30 names, each a label in front
    of the one before it through a pointer (the last follows 29 pointers), is answered."""
    head = bytearray(dnsq.make("www." + ZONE, "A", edns=None, qid=0x3333).to_wire())
    body, prev = bytearray(), None
    for i in range(30):
        start = len(head) + len(body)
        body += b"\x01" + bytes([ord("a") + i % 26])
        body += struct.pack("!H", 0xC000 | prev) if prev is not None else b"\x00"
        body += struct.pack("!HHIH", 1, 1, 0, 4) + bytes([192, 0, 2, 1])
        prev = start
    struct.pack_into("!H", head, 6, 30)   # ANCOUNT
    wire = dnsq.udp_raw(server, bytes(head + body))
    assert wire is not None and wire[3] & 0x0F == dns.rcode.NOERROR, \
        "a query with a 29-pointer name was not answered: %r" % (wire and wire[:4])


# ---- item 12: signed UDP without EDNS

def signed(qname, rdtype, edns, payload=1232):
    q = dnsq.make(qname, rdtype, edns=edns, payload=payload, qid=0x4444)
    q.use_tsig(KEY.dns())
    return q


def ask_signed_udp(server, q):
    wire = dnsq.udp_raw(server, q.to_wire(), timeout=2)
    assert wire is not None, "no answer to a signed UDP question (%s)" % ("EDNS" if q.edns >= 0 else "no EDNS")
    assert len(wire) <= (512 if q.edns < 0 else max(512, q.payload)), "answer of %d octets" % len(wire)
    # dnspython checks the TSIG against the request's MAC.
    return dns.message.from_wire(wire, keyring=KEY.dns(), request_mac=q.mac)


@pytest.mark.parametrize("edns", [None, 0], ids=["no-edns", "edns-512"])
def test_signed_udp_question_without_room_gets_a_signed_answer(server, edns):
    r = ask_signed_udp(server, signed("www." + ZONE, "A", edns, payload=512))
    assert r.rcode() == dns.rcode.NOERROR and r.had_tsig
    assert [rd.address for rd in r.answer[0]] == ["192.0.2.80"]
    assert not r.flags & dns.flags.TC


@pytest.mark.parametrize("edns", [None, 0], ids=["no-edns", "edns-512"])
def test_signed_udp_answer_too_large_is_truncated_and_signed(server, edns):
    """2 KiB of TXT cannot go in 512 octets with a TSIG record: TC, signed, so the client retries over
    TCP (RFC 8945 5.3), where the whole answer comes, signed too."""
    r = ask_signed_udp(server, signed("big." + ZONE, "TXT", edns, payload=512))
    assert r.flags & dns.flags.TC and r.had_tsig and r.rcode() == dns.rcode.NOERROR
    q = signed("big." + ZONE, "TXT", edns, payload=512)
    full = dns.query.tcp(q, server.addr, port=server.port, timeout=3)
    assert full.had_tsig and len(full.answer[0]) == 8


@pytest.mark.skipif(shutil.which("dig") is None, reason="dig is not installed")
def test_dig_noedns_with_a_key(server):
    """What the issue asked with: `dig +noedns -y hmac-sha256:name:secret` gets its answer, verified;
    for the large RRset dig sees TC over UDP and gets the answer over TCP."""
    y = "hmac-sha256:%s:%s" % (KEY.name, KEY.secret)
    base = ["dig", "+noedns", "-y", y, "@" + server.addr, "-p", str(server.port), "+tries=1", "+time=2",
            "+norecurse"]
    out = subprocess.run(base + ["www." + ZONE, "A"], capture_output=True, text=True, timeout=20).stdout
    assert "status: NOERROR" in out and "192.0.2.80" in out, out
    assert "TSIG PSEUDOSECTION" in out and "NOERROR" in out.split("TSIG PSEUDOSECTION")[1], out
    assert "Couldn't verify" not in out and "failure" not in out.lower(), out
    out = subprocess.run(base + ["big." + ZONE, "TXT"], capture_output=True, text=True, timeout=20).stdout
    assert "Truncated, retrying in TCP mode" in out and out.count("\tTXT\t") == 8, out
    assert "Couldn't verify" not in out, out
