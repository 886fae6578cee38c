"""test_rrl.py -- response rate limiting (issue 8): one source network flooding the server with UDP questions
gets at most `rate-limit` full answers a second per kind of answer, every `rate-limit-slip`-th limited answer as
an empty truncated one (a real client retries over TCP), the others dropped; another network is answered in
full meanwhile; exempt sources and TCP are never limited; it is off unless configured.

The flood is a burst sent faster than the one-second window (a few hundred datagrams from one socket), so
the bounds below hold however slow the machine is: at most two windows' worth of full answers.
"""

import random
import select
import socket
import time

import dns.flags
import dns.message
import dns.rcode
import pytest

from harness import Tandem, zones
from harness import dnsq

RATE = 20
FLOOD = 300


def _flood(server, qnames, source="127.0.0.1", rdtype="A"):
    """Sends one datagram per name from one socket as fast as it can, then collects replies (bounded).
    Returns (full answers, truncated answers)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    try:
        for i, name in enumerate(qnames):
            s.sendto(dnsq.make(name, rdtype, qid=i).to_wire(), (server.addr, server.port))
        full = truncated = 0
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            ready, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            r = dns.message.from_wire(s.recv(65535))
            if r.flags & dns.flags.TC:
                assert not r.answer and not r.authority, r.to_text()
                truncated += 1
            else:
                full += 1
        return full, truncated
    finally:
        s.close()


def _ask_from(server, source, qname):
    """One question from another source address; the reply, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.settimeout(2.0)
    try:
        s.sendto(dnsq.make(qname).to_wire(), (server.addr, server.port))
        return dns.message.from_wire(s.recv(65535))
    except socket.timeout:
        return None
    finally:
        s.close()


def _start(tmp_path, **extra):
    s = Tandem(tmp_path, zones("example.com."), extra_server=extra)
    s.start()
    s.wait_ready()
    return s


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    s = _start(tmp_path_factory.mktemp("rrl"), **{"rate-limit": RATE, "rate-limit-slip": 2})
    yield s
    s.stop()


def test_a_flood_of_one_answer_is_limited_and_slips(limited):
    full, truncated = _flood(limited, ["www.example.com."] * FLOOD)
    # RATE a second, and the burst may straddle one second boundary.
    assert 1 <= full <= 2 * RATE + 2, (full, truncated)
    # Of the limited answers, every second one goes out truncated, the rest are dropped.
    limited_count = FLOOD - full
    assert truncated >= limited_count // 2 - 4 and truncated <= limited_count // 2 + 4, (full, truncated)
    assert limited.alive()


def test_another_network_is_answered_in_full_during_a_flood(limited):
    # 127.0.1.1 is outside 127.0.0.0/24, the flooding network.
    import threading
    results = []
    t = threading.Thread(target=lambda: results.append(_flood(limited, ["www.example.com."] * FLOOD)))
    t.start()
    answers = [_ask_from(limited, "127.0.1.1", "www.example.com.") for _ in range(5)]
    t.join(10)
    assert all(r is not None and not (r.flags & dns.flags.TC) and r.answer for r in answers), \
        [r and r.to_text() for r in answers]
    assert results and results[0][0] <= 2 * RATE + 2, results


def test_random_names_share_the_zone_bucket(limited):
    """A random-subdomain flood: every NXDOMAIN of one zone counts in one bucket (the SOA owner), so
    changing the name does not get around the limit."""
    names = ["r%08x.example.com." % random.getrandbits(32) for _ in range(FLOOD)]
    full, truncated = _flood(limited, names)
    assert 1 <= full <= 2 * RATE + 2, (full, truncated)
    assert truncated > 0


def test_tcp_is_never_limited(limited):
    _flood(limited, ["www.example.com."] * FLOOD)
    for _ in range(3 * RATE):
        r = dnsq.ask(limited, "www.example.com.", tcp=True)
        assert r.rcode() == dns.rcode.NOERROR and r.answer


def test_exempt_sources_are_never_limited(tmp_path):
    s = _start(tmp_path, **{"rate-limit": RATE, "rate-limit-exempt": "[127.0.0.1]"})
    try:
        full, truncated = _flood(s, ["www.example.com."] * 100)
        assert truncated == 0 and full >= 95, (full, truncated)   # a datagram may be lost, none limited
    finally:
        s.stop()


def test_off_unless_configured(tmp_path):
    s = _start(tmp_path)
    try:
        full, truncated = _flood(s, ["www.example.com."] * 100)
        assert truncated == 0 and full >= 95, (full, truncated)
    finally:
        s.stop()


def test_bad_settings_are_refused(tmp_path):
    s = Tandem(tmp_path, zones("example.com."), extra_server={"rate-limit-ipv4-prefix": 33})
    r = s.check(s.prepare())
    assert r.returncode != 0 and "rate-limit-ipv4-prefix" in (r.stdout + r.stderr), r.stdout + r.stderr
