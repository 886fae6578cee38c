"""test_hardening_misc.py -- issue 8: floods that must not turn into floods of log lines (11), and zone
files whose $INCLUDEd parts change (13).

Log floods: every packet that fails TSIG, or NOTIFYs a secondary zone, used to write a line from the
worker that read it. One address sending a few thousand such packets a second fills the disk. Each kind
of per-packet line is now limited (lib/log.h: LOG_LIMIT_LINES lines per LOG_LIMIT_WINDOW seconds per
kind), and what was dropped is counted on the next line of that kind.
"""

import math
import os
import re
import socket
import time

import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring

from hardening_util import rss_kib
from harness import Remote, Tandem, Zone, secondary, zones
from harness import dnsq
from harness.ports import free_port

# lib/log.h
LOG_LIMIT_LINES = 10
LOG_LIMIT_WINDOW = 5
FLOOD = 3000


def flood_udp(server, wire, count, other_check):
    """Sends the same datagram count times from one socket, reading (and dropping) answers as they come;
    every 500 datagrams another client must still get its answer. Then one more with another ID, and
    waits (bounded) for its answer: from the same socket it reaches the same worker after the others, so
    every line the flood caused is written by then. Returns the seconds the flood took."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    start = time.monotonic()
    try:
        for i in range(count):
            for _ in range(100):  # bounded retry when the socket buffer is full
                try:
                    s.sendto(wire, (server.addr, server.port))
                    break
                except BlockingIOError:
                    time.sleep(0.001)
            try:
                while True:
                    s.recv(65535)
            except BlockingIOError:
                pass
            if i % 500 == 499:
                other_check()
        took = time.monotonic() - start
        last = bytes([wire[0] ^ 0xff, wire[1]]) + wire[2:]
        s.settimeout(1)
        for _ in range(10):  # its answer may be lost behind the flood's (a full buffer): ask again
            s.sendto(last, (server.addr, server.port))
            try:
                while s.recv(65535)[:2] != last[:2]:
                    pass
                break
            except socket.timeout:
                continue
        else:
            raise AssertionError("no answer after the flood")
    finally:
        s.close()
    return took


def allowed_lines(seconds):
    """The most lines of one kind the limiter lets through in that long (window boundaries included)."""
    return LOG_LIMIT_LINES * (math.ceil(seconds / LOG_LIMIT_WINDOW) + 1)


def still_answers(server):
    r = dnsq.ask(server, "www.example.com.", "A")
    assert r.rcode() == dns.rcode.NOERROR and r.answer


def test_bad_tsig_flood_logs_a_few_lines_and_counts_the_rest(tmp_path):
    """3,000 queries signed with a key the server does not know: each answered NOTAUTH (BADKEY), but only
    a handful logged; the next such line after a quiet window says how many were suppressed."""
    with Tandem(tmp_path, zones("example.com.")) as t:
        unknown = dns.tsigkeyring.from_text({"nobody.example.": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"})
        q = dns.message.make_query("www.example.com.", "A")
        q.use_tsig(unknown, keyname="nobody.example.", algorithm=dns.tsig.HMAC_SHA256)
        wire = q.to_wire()
        # One signed with an unknown key is refused with BADKEY (RFC 8945 5.2), and logged.
        mark = t.log_mark()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            s.sendto(wire, (t.addr, t.port))
            assert dns.rcode.from_flags(s.recv(65535)[3], 0) == dns.rcode.NOTAUTH
        t.wait_log(r"TSIG from .* rejected", mark=mark)

        mark = t.log_mark()
        size0 = os.path.getsize(t.log_path)
        rss0 = rss_kib(t.proc.pid)
        took = flood_udp(t, wire, FLOOD, lambda: still_answers(t))
        still_answers(t)
        text = t.log_since(mark)
        lines = len(re.findall(r"TSIG from .* rejected", text))
        grown = os.path.getsize(t.log_path) - size0
        print("flood of %d bad TSIG datagrams in %.2f s: %d lines logged, log +%d bytes, RSS %d -> %d KiB"
              % (FLOOD, took, lines, grown, rss0, rss_kib(t.proc.pid)))
        assert 0 < lines <= allowed_lines(took + 1), text[-2000:]
        assert grown < 200 * (allowed_lines(took + 1) + 2)

        # After a quiet window (waited out: the limiter counts time), the next one logs again and
        # reports what was dropped.
        time.sleep(LOG_LIMIT_WINDOW + 0.5)
        mark = t.log_mark()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            s.sendto(wire, (t.addr, t.port))
            s.recv(65535)
        m = t.wait_log(r"(\d+) similar messages suppressed", mark=mark)
        assert int(m.group(1)) >= FLOOD // 2
        t.wait_log(r"TSIG from .* rejected", mark=mark)


def test_notify_flood_from_a_primary_logs_a_few_lines(tmp_path):
    """NOTIFY over UDP is easy to forge from a primary's address: thousands of them are each answered,
    but logged a few lines at a time."""
    primary = Remote("127.0.0.1", free_port())  # nobody there: the refreshes it triggers just fail
    sec = secondary("example.org.", [primary])
    with Tandem(tmp_path, zones("example.com.") + [sec]) as t:
        q = dns.message.make_query("example.org.", "SOA")
        q.set_opcode(dns.opcode.NOTIFY)
        wire = q.to_wire()
        mark = t.log_mark()
        took = flood_udp(t, wire, FLOOD, lambda: still_answers(t))
        still_answers(t)
        text = t.log_since(mark)
        lines = len(re.findall(r"NOTIFY from 127\.0\.0\.1", text))
        print("flood of %d NOTIFYs in %.2f s: %d lines logged" % (FLOOD, took, lines))
        assert 0 < lines <= allowed_lines(took + 1), text[-2000:]


ZONE_MAIN = """$ORIGIN inc.test.
$TTL 300
@   IN SOA ns1 hostmaster 1 3600 600 86400 300
    IN NS  ns1
ns1 IN A   192.0.2.1
$INCLUDE "%s"
"""


def a_of(server, name):
    r = dnsq.ask(server, name, "A")
    return sorted(rr.address for rrset in r.answer for rr in rrset if rr.rdtype == dns.rdatatype.A)


def test_edit_of_an_included_file_is_seen_on_reload_and_restart(tmp_path):
    """The zone file's digest decides whether it is parsed again. An edit to a file it $INCLUDEs (or to
    one that file includes) must count as an edit of the zone: on SIGHUP, and on a restart after the
    edit was made while the server was down."""
    zone = Zone("inc.test.", source=tmp_path / "src.zone")
    zone.source.write_text(ZONE_MAIN % "hosts.inc")
    t = Tandem(tmp_path, [zone])
    t.prepare()
    hosts = t.zone_dir / "hosts.inc"
    more = t.zone_dir / "sub" / "more.inc"
    more.parent.mkdir()
    hosts.write_text("www IN A 192.0.2.10\n$INCLUDE sub/more.inc\n")
    more.write_text("deep IN A 192.0.2.20\n")
    with t:
        assert a_of(t, "www.inc.test.") == ["192.0.2.10"]
        assert a_of(t, "deep.inc.test.") == ["192.0.2.20"]

        # SIGHUP after an edit of the included file (the zone file itself unchanged).
        hosts.write_text("www IN A 192.0.2.11\n$INCLUDE sub/more.inc\n")
        mark = t.log_mark()
        t.reload()
        # Versions a reload makes are published once their batch is stored, by "reloaded".
        t.wait_log(r"reloaded: ", mark=mark)
        assert re.search(r"inc\.test\.: loaded from (?!the store)", t.log_since(mark))
        assert a_of(t, "www.inc.test.") == ["192.0.2.11"]

        # An edit two levels down.
        more.write_text("deep IN A 192.0.2.21\n")
        mark = t.log_mark()
        t.reload()
        # Versions a reload makes are published once their batch is stored, by "reloaded".
        t.wait_log(r"reloaded: ", mark=mark)
        assert re.search(r"inc\.test\.: loaded from (?!the store)", t.log_since(mark))
        assert a_of(t, "deep.inc.test.") == ["192.0.2.21"]

    # Edited while the server is down: the restart must read the files, not the store.
    more.write_text("deep IN A 192.0.2.22\n")
    with t:
        assert a_of(t, "deep.inc.test.") == ["192.0.2.22"]
        assert a_of(t, "www.inc.test.") == ["192.0.2.11"]
    # Nothing changed: the next start serves from the store without parsing.
    mark = t.log_mark()
    with t:
        assert a_of(t, "deep.inc.test.") == ["192.0.2.22"]
        assert re.search(r"inc\.test\.: loaded from the store", t.log_since(mark))
