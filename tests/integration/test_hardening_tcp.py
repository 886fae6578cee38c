"""test_hardening_tcp.py -- hostile TCP clients cost bounded memory, CPU, descriptors and threads (issue 8,
items 1, 8 and 10).

Story: tandemd faces clients that pipeline queries and never read their answers, that read them a few
octets at a time, that open connection after connection from one address, that ask for zone transfers
behind pipelined queries and then stop reading, and a machine where descriptors run out. Each attack is
measured on the process while it runs (RSS, CPU seconds, threads, descriptors) against a bound, and
another client is answered all along.
"""

import resource
import socket
import threading
import time

import dns.rcode
import dns.rdatatype
import pytest

from harness import Acl, Tandem
from harness import dnsq
from harness.xfr import xfr_rcode
from hardening_util import (ZONE, LimitedTandem, answered, connect, cpu_seconds, fds, frame, hard_zone,
                            query_wire, raw_axfr, rss_mb, threads, wait_until)


def start(tmp_path, zone_list=None, hosts=2000, **kw):
    kw.setdefault("tcp_idle_timeout", 2)
    return Tandem(tmp_path, zone_list or [hard_zone(tmp_path / "hard.zone", hosts)], **kw).serve()


def flood(socks, data, seconds):
    """Writes data again and again on every (non-blocking) socket until each one blocks for good or the
    time is up: what a client that pipelines and never reads manages to send. Returns octets sent."""
    for s in socks:
        s.setblocking(False)
    sent, live = 0, list(socks)
    deadline = time.monotonic() + seconds
    while live and time.monotonic() < deadline:
        progress = False
        for s in list(live):
            try:
                n = s.send(data)
                sent += n
                progress = progress or n > 0
            except BlockingIOError:
                continue
            except OSError:
                live.remove(s)   # closed by the server
        if not progress:
            time.sleep(0.05)
    return sent


# ---- item 1: output above its mark

def test_pipelining_clients_that_never_read_cost_bounded_memory(tmp_path):
    """50 clients send a 64 KiB message, then pipeline queries with 2 KiB answers without ever reading.
    Before: each connection grew by about 3.5 MB (every message of a 64 KiB read answered at once).
    Now: the server stops answering and reading a connection above its output mark, so the whole attack
    costs a few MB; another client is answered all along, and the attackers are closed after the idle
    timeout since they make no progress."""
    t = start(tmp_path, workers=2)
    try:
        pid = t.proc.pid
        assert answered(t) and answered(t, tcp=True)
        base_rss, base_fds = rss_mb(pid), fds(pid)
        socks = [connect(t, rcvbuf=4096) for _ in range(50)]
        junk = b"\x00" * 65535
        for s in socks:
            s.sendall(frame(junk))
        query = frame(query_wire("big." + ZONE, "TXT"))
        burst = query * 2000   # about 70 KiB of queries, 4 MB of answers
        peak, others_ok = base_rss, True
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            flood(socks, burst, 0.5)
            peak = max(peak, rss_mb(pid))
            others_ok = others_ok and answered(t) and answered(t, tcp=True)
        growth = peak - base_rss
        assert growth < 40, "50 clients that do not read grew tandemd by %.0f MB" % growth
        assert others_ok, "another client was not answered during the attack"
        # No progress: every attacker is closed after the idle timeout (2 s), descriptors come back.
        assert wait_until(lambda: fds(pid) <= base_fds, 8), \
            "attackers still connected: %d descriptors, %d before" % (fds(pid), base_fds)
        for s in socks:
            s.close()
        assert t.alive()
    finally:
        t.stop()


def test_a_fast_pipelining_client_does_not_starve_udp(tmp_path):
    """One worker; one client pipelines queries as fast as it can and reads every answer. Each wakeup
    answers a batch of its messages, then the UDP socket has its turn: UDP questions are answered
    promptly meanwhile."""
    t = start(tmp_path, workers=1)
    stop = threading.Event()
    counts = {"answers": 0}

    def reader(s):
        s.settimeout(0.5)
        while not stop.is_set():
            try:
                data = s.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            counts["answers"] += len(data)

    try:
        s = connect(t)
        rt = threading.Thread(target=reader, args=(s,), daemon=True)
        rt.start()
        query = frame(query_wire("www." + ZONE)) * 500

        def writer():
            while not stop.is_set():
                try:
                    s.sendall(query)
                except OSError:
                    return

        wt = threading.Thread(target=writer, daemon=True)
        wt.start()
        time.sleep(0.3)
        worst = 0.0
        for _ in range(30):
            t0 = time.monotonic()
            assert answered(t, timeout=2), "a UDP question went unanswered during the TCP flood"
            worst = max(worst, time.monotonic() - t0)
            time.sleep(0.02)
        assert counts["answers"] > 0, "the pipelining client got nothing"
        assert worst < 0.5, "a UDP answer took %.2f s while one TCP client pipelined" % worst
    finally:
        stop.set()
        t.stop()


def test_a_client_reading_its_answers_a_trickle_at_a_time_is_closed(tmp_path):
    """A client asks for a hundred 60 KiB answers (6 MB, more than the kernel buffers) and reads them at
    16 KiB/s, so that octets keep moving without a whole answer going out for seconds. Progress is an
    answer wholly sent, not a few octets of one: the server closes the connection soon after the idle
    timeout (2 s), whatever the kernel's buffers hold, rather than for as long as octets trickle out."""
    t = start(tmp_path, workers=1)
    try:
        pid = t.proc.pid
        base_fds = fds(pid)
        s = connect(t, rcvbuf=4096)
        s.sendall(frame(query_wire("huge." + ZONE, "TXT", qid=1)) * 100)
        got, closed_at = 0, None
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10 and closed_at is None:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                chunk = b"."
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            got += len(chunk)
            if fds(pid) <= base_fds:
                closed_at = time.monotonic() - t0
            time.sleep(0.25)
        s.close()
        assert closed_at is not None, "the trickling reader was still connected after 10 s"
        assert closed_at < 7, "the trickling reader was closed only after %.1f s" % closed_at
        assert got < 100 * 60000, "all the answers went to a client that took 16 KiB/s"
        assert answered(t, tcp=True)
    finally:
        t.stop()


def test_one_address_cannot_take_every_connection(tmp_path):
    """tcp-max-clients 50: one address may hold a tenth of them (5); its sixth connection is closed at
    once, while another address is still served."""
    t = start(tmp_path, extra_server={"tcp-max-clients": 50}, tcp_idle_timeout=10)
    try:
        held = [connect(t) for _ in range(5)]
        for i, s in enumerate(held):
            s.sendall(frame(query_wire("www." + ZONE, qid=i)))
            assert dnsq.tcp_read_msg(s, 2) is not None, "connection %d of 5 not answered" % (i + 1)
        extra = [connect(t) for _ in range(3)]
        for s in extra:
            try:
                s.sendall(frame(query_wire("www." + ZONE)))
            except OSError:
                pass
            assert dnsq.peer_closed(s, 2), "a sixth connection from one address was kept"
        other = connect(t, source="127.0.0.2")
        other.sendall(frame(query_wire("www." + ZONE)))
        assert dnsq.tcp_read_msg(other, 2) is not None, "another address was refused"
        t.wait_log(r"TCP: 127\.0\.0\.1 holds 5 connections")
        for s in held + extra + [other]:
            s.close()
        # Once they are closed, the address may connect again.
        assert wait_until(lambda: answered(t, tcp=True), 3)
    finally:
        t.stop()


# ---- item 8: transfers to readers that stall

def test_transfers_to_clients_that_stop_reading(tmp_path):
    """Six clients from one address each pipeline queries, then ask for an AXFR of a 300,000-record zone
    (7 MB, more than the kernel buffers), and never read (xfr-out-max 4, xfr-timeout 2 s). Nothing waits
    for them on a worker: UDP and TCP questions are answered all along. One address may run half of xfr-out-max transfers, so a secondary
    at another address still gets its AXFR; and every message must be taken within xfr-timeout, so the
    stalled transfers end, their threads with them, within seconds."""
    zone = hard_zone(tmp_path / "hard.zone", hosts=300000)
    zone.acl = [Acl(address=("127.0.0.0/8",))]
    t = start(tmp_path, zone_list=[zone], workers=2, tcp_idle_timeout=10,
              extra_server={"xfr-out-max": 4, "xfr-timeout": 2})
    try:
        pid = t.proc.pid
        base_threads = threads(pid)
        request = frame(query_wire("big." + ZONE, "TXT")) * 12 + frame(query_wire(ZONE, "AXFR", qid=99))
        attackers = []
        for _ in range(6):
            s = connect(t, rcvbuf=4096)
            s.sendall(request)
            attackers.append(s)
        assert wait_until(lambda: threads(pid) >= base_threads + 2, 5), "no transfer started"
        most = threads(pid)
        for _ in range(10):
            assert answered(t, timeout=1), "a UDP question went unanswered while transfers stalled"
            assert answered(t, tcp=True, timeout=1), "a TCP question went unanswered"
            most = max(most, threads(pid))
            time.sleep(0.1)
        assert most <= base_threads + 4, "%d threads, %d before" % (most, base_threads)
        # Another address has the slots the first one may not take.
        messages, records, last = raw_axfr(t, ZONE, source="127.0.0.2")
        assert records == 300252 and last.answer[-1].rdtype == dns.rdatatype.SOA, \
            "AXFR from another address: %d messages, %d records" % (messages, records)
        t.wait_log(r"transfer to 127\.0\.0\.1 refused: it has 2 running")
        # The stalled transfers end after xfr-timeout; their slots and threads come back.
        assert wait_until(lambda: threads(pid) <= base_threads, 10), \
            "%d threads 10 s after the transfers stalled, %d before" % (threads(pid), base_threads)
        t.wait_log(r"AXFR to 127\.0\.0\.1@\d+ (failed|not started)")
        assert xfr_rcode(t, ZONE) == dns.rcode.NOERROR
        for s in attackers:
            s.close()
    finally:
        t.stop()


# ---- item 10: descriptors

def test_descriptor_limit_raised_and_tcp_clients_fitted_to_it(tmp_path):
    """Started with RLIMIT_NOFILE 64 (soft) / 200 (hard): tandemd raises the soft limit to 200 and lowers
    tcp-max-clients so that clients cannot take the descriptors the rest of the server needs, and says so.
    120 clients from 30 addresses then never bring it to EMFILE."""
    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 200:
        pytest.skip("the hard descriptor limit here is below 200")
    t = LimitedTandem(tmp_path, [hard_zone(tmp_path / "hard.zone")], nofile=(64, 200), workers=2,
                      tcp_idle_timeout=10)
    t.start()
    try:
        t.wait_ready()
        pid = t.proc.pid
        limits = open("/proc/%d/limits" % pid).read()
        soft = [line.split()[3] for line in limits.splitlines() if line.startswith("Max open files")][0]
        assert soft == "200", limits
        m = t.wait_log(r"tcp-max-clients lowered from 1000 to (\d+)")
        fitted = int(m.group(1))
        assert 0 < fitted < 200 - 24
        t.wait_log(r"descriptors: limit 200 \(raised from 64\), tcp-max-clients %d" % fitted)
        socks = []
        for i in range(120):
            try:
                socks.append(connect(t, source="127.0.0.%d" % (10 + i % 30)))
            except OSError:
                pass
        time.sleep(0.5)
        assert fds(pid) <= 200
        assert answered(t), "UDP not answered with every TCP slot taken"
        kept = 0
        for s in socks:
            try:
                s.sendall(frame(query_wire("www." + ZONE)))
                kept += dnsq.tcp_read_msg(s, 1) is not None
            except OSError:
                pass
        assert 0 < kept <= fitted
        assert "cannot accept" not in t.log_text()
        for s in socks:
            s.close()
    finally:
        t.stop()


def test_out_of_descriptors_pauses_accept_instead_of_spinning(tmp_path):
    """The descriptor limit is lowered under a running tandemd until accept() fails with EMFILE. Before,
    the pending connection woke the workers again at once, forever (two CPUs spinning); now a worker
    stops accepting for 100 ms at a time. It uses little CPU, still answers UDP, and accepts the waiting
    clients once descriptors are back."""
    t = start(tmp_path, workers=2, tcp_idle_timeout=10)
    try:
        pid = t.proc.pid
        soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (fds(pid) + 2, hard))
        socks = [connect(t, source="127.0.0.%d" % (10 + i)) for i in range(20)]
        time.sleep(0.5)
        c0 = cpu_seconds(pid)
        time.sleep(2)
        used = cpu_seconds(pid) - c0
        assert used < 0.5, "%.1f CPU seconds in 2 s while out of descriptors" % used
        assert answered(t), "UDP not answered while out of descriptors"
        t.wait_log(r"TCP: cannot accept connections \(Too many open files\)")
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
        for s in socks:
            s.sendall(frame(query_wire("www." + ZONE)))
        for i, s in enumerate(socks):
            assert dnsq.tcp_read_msg(s, 3) is not None, "client %d not served once descriptors came back" % i
            s.close()
    finally:
        t.stop()
