"""test_claims.py -- what README.md, ARCHITECTURE.md and docs/behaviour.md claim and no other test showed, each
seen from the outside, on loopback:

- EDNS EXPIRE (RFC 7314): a primary answers its SOA's EXPIRE; a secondary answers what is left of its
  expire timer, counting down, and takes the EXPIRE its own primary (a Knot secondary here) sends instead
  of the SOA's field;
- NOTIFY is retried while a secondary is down (seen on the wire), and reaches it once it is back;
- a secondary's SOA timers survive a restart: with its primary up, a restarted secondary keeps its next
  refresh time instead of refreshing at once (its API view, its log);
- TCP: beyond tcp-max-clients connections new ones are closed at once; a connection that dribbles a
  request is closed after tcp-idle-timeout; UDP requests over 4096 octets are dropped;
- SIGHUP with a broken configuration file: an error naming file and line, and the running configuration
  keeps serving;
- transfers and NOTIFY over IPv6 (::1), both ways.

Where Tandem does not do what it claims, the test is marked xfail(strict=True) with the reason: it turns
into a failure the day the server is fixed, so the mark goes with the fix.
"""

import re
import socket
import struct
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype
import pytest

from catalog_util import TandemC, wait_for
from conftest import skip_machine, skip_peer
from harness import Acl, Key, Knot, Remote, Tandem, Zone, dnsq, have_ipv6, secondary, xfr, zones
from harness.notifysink import NotifySink
from harness.ports import free_port

EXPIRE = dns.edns.GenericOption(dns.edns.EXPIRE, b"")   # RFC 7314 2: empty in a query


def expire_of(server, name, rdtype="SOA", addr=None, ask_expire=True):
    """The EXPIRE option's value in the answer (seconds), or None when the answer has none."""
    r = dnsq.ask(server, name, rdtype, addr=addr, options=[EXPIRE] if ask_expire else [])
    assert r.rcode() == dns.rcode.NOERROR, dnsq.sig(r)
    values = [o.to_wire() for o in r.options if o.otype == dns.edns.EXPIRE]
    assert len(values) <= 1 and all(len(v) == 4 for v in values), values
    return struct.unpack("!I", values[0])[0] if values else None


def zone_file(tmp_path, name, serial, **kw):
    path = tmp_path / (name.rstrip(".") + "-src.zone")
    path.write_text(xfr.zone_text(name, serial, **kw))
    return path


# ---------------------------------------------------------------------------------------------- EDNS EXPIRE

EXP = "exp.test."


def test_edns_expire_a_primary_answers_its_soa_expire(tmp_path):
    """RFC 7314 3: the primary's answer carries the SOA EXPIRE field; only on an SOA answer at the apex,
    and only when asked."""
    with Tandem(tmp_path, [Zone(EXP, zone_file(tmp_path, EXP, 1, expire=3000))]) as p:
        assert expire_of(p, EXP) == 3000
        assert expire_of(p, EXP) == 3000, "a primary's EXPIRE does not count down"
        assert expire_of(p, EXP, ask_expire=False) is None
        assert expire_of(p, "www." + EXP, "A") is None
        assert expire_of(p, EXP, "NS") is None


@pytest.fixture
def expire_chain(tmp_path):
    """Tandem primary (SOA EXPIRE 3000) -> Knot secondary whose expire-max-interval is 600 -> Tandem
    secondary of Knot, whose expire-min (60) lets such a value through (an EXPIRE option is clamped like
    the SOA field). Yields (primary, knot, secondary), the last one started and holding serial 1."""
    if not Knot.binary.exists():
        skip_peer("knotd")
    p_port, k_port, s_port = free_port(), free_port(), free_port()
    primary = Tandem(tmp_path, [Zone(EXP, zone_file(tmp_path, EXP, 1, expire=3000),
                                     notify=[Remote("127.0.0.1", k_port)], acl=[Acl(["127.0.0.1"])])],
                     name="primary", port=p_port)
    knot = Knot(tmp_path, [secondary(EXP, [Remote("127.0.0.1", p_port)], acl=[Acl(["127.0.0.1"])])],
                port=k_port, zone_options={EXP: {"expire-max-interval": 600}})
    sec = Tandem(tmp_path, [secondary(EXP, [Remote("127.0.0.1", k_port)])], name="secondary", port=s_port,
                 extra_server={"expire-min": 60})
    with primary, knot:
        xfr.wait_serial(knot, EXP, 1)
        with sec:
            xfr.wait_serial(sec, EXP, 1)
            yield primary, knot, sec


def test_edns_expire_a_secondary_counts_down_and_takes_its_primarys_expire(expire_chain):
    """RFC 7314 4: the secondary's expire timer comes from the EXPIRE its primary answered (Knot's 600 or
    less, not the SOA's 3000), and its own answers count it down."""
    primary, knot, sec = expire_chain
    assert expire_of(primary, EXP) == 3000
    knot_left = expire_of(knot, EXP)
    assert knot_left is not None and knot_left <= 600, knot_left
    first = expire_of(sec, EXP)
    assert first is not None and 0 < first <= 600, "the secondary's EXPIRE is %s, its primary said <= 600" % first
    # One second later, less is left (bounded wait on an event: the value going down).
    lower = wait_for("the secondary's EXPIRE going down from %d" % first,
                     lambda: (lambda v: v if v < first else None)(expire_of(sec, EXP)), 5, interval=0.2)
    assert first - 3 <= lower < first


def test_edns_expire_an_up_to_date_refresh_keeps_its_primarys_expire(expire_chain):
    """RFC 7314 4: a refresh "based on a SOA query" takes the EXPIRE of the answer too."""
    primary, knot, sec = expire_chain
    mark = sec.log_mark()
    # From 127.0.0.1, its primary's address, without an SOA: a NOTIFY saying serial 1, which it has,
    # would be answered with no refresh at all (RFC 1996 3.7's hint, docs/behaviour.md).
    assert xfr.notify(sec, EXP) == dns.rcode.NOERROR
    sec.wait_log(r"exp\.test\.: up to date at serial 1", mark=mark)
    left = expire_of(sec, EXP)
    assert left <= 600, "after an up-to-date refresh the secondary's EXPIRE is %d, its primary's <= 600" % left


def test_edns_expire_passes_through_a_tandem_secondary(tmp_path):
    """RFC 7314 1: secondaries honour the primary's EXPIRE "even when using other secondaries". A Tandem
    secondary with expire-max 100 feeds another Tandem secondary: the second must not count from 3000."""
    p_port, s1_port, s2_port = free_port(), free_port(), free_port()
    primary = Tandem(tmp_path, [Zone(EXP, zone_file(tmp_path, EXP, 1, expire=3000), acl=[Acl(["127.0.0.1"])])],
                     name="primary", port=p_port)
    s1 = Tandem(tmp_path, [secondary(EXP, [Remote("127.0.0.1", p_port)], acl=[Acl(["127.0.0.1"])])],
                name="s1", port=s1_port, extra_server={"expire-min": 10, "expire-max": 100})
    s2 = Tandem(tmp_path, [secondary(EXP, [Remote("127.0.0.1", s1_port)])], name="s2", port=s2_port,
                extra_server={"expire-min": 10})
    with primary, s1:
        xfr.wait_serial(s1, EXP, 1)
        assert expire_of(s1, EXP) <= 100
        with s2:
            xfr.wait_serial(s2, EXP, 1)
            left = expire_of(s2, EXP)
            assert left <= 100, "the second secondary's EXPIRE is %d, the first's <= 100" % left


# ---------------------------------------------------------------------------------------------- NOTIFY retries

NTF = "ntf.test."


def test_notify_is_retried_while_a_secondary_is_down_and_reaches_it_once_back(tmp_path):
    """RFC 1996 3.6: an unanswered NOTIFY is sent again (1, 2, 4 ... s apart). The secondary is stopped, a
    change is made on the primary: the NOTIFY comes again and again to the silent address; the secondary
    restarts (its refresh timer an hour away, kept in its store) and the next retry brings the change."""
    p_port, s_port = free_port(), free_port()
    primary = Tandem(tmp_path, [Zone(NTF, zone_file(tmp_path, NTF, 1), notify=[Remote("127.0.0.1", s_port)],
                                     acl=[Acl(["127.0.0.1"])])], name="primary", port=p_port)
    sec = Tandem(tmp_path, [secondary(NTF, [Remote("127.0.0.1", p_port)])], name="secondary", port=s_port)
    with primary:
        with sec:
            xfr.wait_serial(sec, NTF, 1)
            # The primary's own NOTIFY of serial 1 answered: nothing of it pending any more. (It refreshes,
            # or, when serial 1 is here already, is up to date.)
            sec.wait_log(r"ntf\.test\.: NOTIFY from 127\.0\.0\.1@\d+(, refreshing| with serial 1: up to date)")
        sink = NotifySink("127.0.0.1", s_port)
        try:
            xfr.write_zone(primary.zone_path(NTF), xfr.zone_text(NTF, 2, ["changed A 192.0.2.2"]))
            mark = primary.log_mark()
            primary.reload()
            primary.wait_log(r"ntf\.test\.: NOTIFY serial 2 to 1 secondaries", mark=mark)
            wait_for("two NOTIFYs of serial 2 at the silent address (a first one and a retry)",
                     lambda: len([s for s in sink.seen if s[1:] == (NTF, 2)]) >= 2, 15, interval=0.05)
        finally:
            sink.close()
        mark = sec.log_mark()
        sec.start()
        try:   # started by hand, so stopped by hand (it outlived the suite before)
            sec.wait_ready()
            xfr.wait_serial(sec, NTF, 2, timeout=30)
            since = sec.log_since(mark)
            notified = since.find("ntf.test.: NOTIFY from 127.0.0.1@")
            assert notified >= 0, "serial 2 came without a NOTIFY:\n" + since
            assert "ntf.test.: IXFR from 127.0.0.1@%d serial 1 -> 2" % p_port in since[notified:], since
            assert dnsq.ask(sec, "changed." + NTF, "A").answer
        finally:
            sec.stop()


def test_a_secondary_tries_each_primary_with_that_primarys_own_key(tmp_path):
    """A refresh tries the primaries' addresses in order, each with its own remote's key (repl/refresh.c
    sizes a job to its primaries and their keys): nothing listens at the first primary, whose key is A; the
    second lets only key B transfer. The zone comes from the second, signed with B. Then a secondary that
    signs with A's secret under B's name is refused by the same primary: the secret sent is the one of that
    address's remote, and it matters."""
    ka, kb = Key.generate("first-primary."), Key.generate("second-primary.")
    p_port, dead = free_port(), free_port()
    z = "keys.order.test."
    primary = Tandem(tmp_path, [Zone(z, zone_file(tmp_path, z, 3), acl=[Acl(["127.0.0.1"], key=kb)])],
                     name="primary", port=p_port)
    primaries = [Remote("127.0.0.1", dead, key=ka), Remote("127.0.0.1", p_port, key=kb)]
    sec = Tandem(tmp_path, [secondary(z, primaries)], name="secondary", extra_server={"xfr-timeout": 1})
    with primary, sec:
        xfr.wait_serial(sec, z, 3, timeout=30)
        log = sec.log_since(0)
        assert "%s: SOA query to 127.0.0.1@%d failed" % (z, dead) in log, log
        assert "%s: AXFR from 127.0.0.1@%d serial 0 -> 3" % (z, p_port) in log, log
        wrong = Key(kb.name, kb.algorithm, ka.secret)
        bad = Tandem(tmp_path, [secondary(z, [Remote("127.0.0.1", p_port, key=wrong)])], name="wrong-key",
                     extra_server={"xfr-timeout": 1})
        with bad:
            bad.wait_log(r"keys\.order\.test\.: AXFR from 127\.0\.0\.1@%d failed \(TSIG" % p_port, timeout=20)
            assert dnsq.ask(bad, z, "SOA").rcode() != 0, "a zone transferred with the wrong secret"


def test_a_late_answer_to_a_signed_notify_ends_its_retries(tmp_path):
    """RFC 1996 3.6 with TSIG (RFC 8945): the tries of one signed NOTIFY are one message, signed at one time,
    so an answer to the first try that comes after the second went out (a secondary slow under load, as at a
    catalog's provisioning) verifies and ends the retries. Each try used to be signed anew: such an answer
    failed TSIG ("fails TSIG, ignored") and the NOTIFY went out again and again."""
    key = Key.generate("late-answer.")
    keyring = {dns.name.from_text(key.name): key.dns()}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    try:
        fake = Remote("127.0.0.1", sock.getsockname()[1], key=key)
        with Tandem(tmp_path, [Zone(NTF, zone_file(tmp_path, NTF, 1), notify=[fake])]) as t:
            first, peer = sock.recvfrom(65535)
            asked = dns.message.from_wire(first, keyring=keyring)   # raises unless signed with the key
            second, _ = sock.recvfrom(65535)                        # the retry, about a second later
            assert second == first, "a retry is the first try again, signed at the same time"
            mark = t.log_mark()
            sock.sendto(dns.message.make_response(asked).to_wire(), peer)   # answers the first try, late
            # The next try would come 2 s after the second: 3.5 s of silence shows the answer was taken.
            sock.settimeout(3.5)
            with pytest.raises(socket.timeout):
                sock.recvfrom(65535)
            assert "fails TSIG" not in t.log_since(mark), t.log_since(mark)
    finally:
        sock.close()


def test_notifies_leave_at_notify_rate(tmp_path):
    """notify-rate (docs/behaviour.md, "NOTIFY out"): a start NOTIFYs every zone; with notify-rate 50 the 200
    zones' NOTIFYs reach the secondary spread over about 3 s (the first second's 50 at once, then 50 a second),
    not in one burst, and every zone is told."""
    sink_port = free_port()
    sink = NotifySink("127.0.0.1", sink_port, answer=True)
    names = ["r%d.rate.test." % i for i in range(200)]
    zs = [Zone(n, zone_file(tmp_path, n, 1), notify=[Remote("127.0.0.1", sink_port)]) for n in names]
    try:
        with Tandem(tmp_path, zs, extra_server={"notify-rate": 50}):
            wait_for("every zone told", lambda: {z for _, z, _ in sink.seen} >= set(names), 20, interval=0.1)
            first = {}
            for (_, zone, _), at in zip(list(sink.seen), list(sink.times)):
                first.setdefault(zone, at)
            ts = sorted(first[n] for n in names)
            spread = ts[-1] - ts[0]
            # 150 beyond the first second's 50, at 50 a second: 3 s; without the rate, a few milliseconds.
            assert spread >= 2.0, "200 NOTIFYs within %.2f s at notify-rate 50" % spread
            early = sum(1 for t in ts if t - ts[0] < 0.5)
            assert early <= 80, "%d NOTIFYs in the first half second at notify-rate 50" % early
    finally:
        sink.close()


def test_changes_are_told_before_the_backlog_of_a_start(tmp_path):
    """notify-rate (docs/behaviour.md, "NOTIFY out"): what waits for the rate goes first tries before
    retries, the newest first. 400 zones told at a start with notify-rate 50 take 8 s to go out; 100 of
    them changed by a reload once the first 60 have gone are all told before the start's backlog is
    through. (Taken in the order they came, all but the few the bucket held at once waited for the whole
    backlog: at 100,000 catalog members a new member's NOTIFY waited more than a minute.)"""
    sink_port = free_port()
    sink = NotifySink("127.0.0.1", sink_port, answer=True)
    names = ["b%d.backlog.test." % i for i in range(400)]
    zs = [Zone(n, zone_file(tmp_path, n, 1), notify=[Remote("127.0.0.1", sink_port)]) for n in names]
    try:
        with Tandem(tmp_path, zs, extra_server={"notify-rate": 50}) as t:
            wait_for("the start's first NOTIFYs", lambda: len(sink.seen) >= 60, 10, interval=0.05)
            changed = set(names[:100])
            for n in changed:
                xfr.write_zone(t.zone_path(n), xfr.zone_text(n, 2, ["new A 192.0.2.2"]))
            t.reload()

            def all_changes_told():
                return {z for _, z, s in list(sink.seen) if s == 2} >= changed
            wait_for("the 100 changes told", all_changes_told, 30, interval=0.05)
            seen = list(sink.seen)
            last = max(i for i, (_, z, s) in enumerate(seen) if s == 2)
            backlog = set(names[100:])   # the zones not changed: their start's NOTIFY only
            told_before = {z for _, z, s in seen[:last] if z in backlog}
            assert len(told_before) < len(backlog) * 3 // 4, \
                "the changes waited for %d of the start's %d other zones" % (len(told_before), len(backlog))
            wait_for("every zone told", lambda: {z for _, z, _ in sink.seen} >= set(names), 20, interval=0.1)
    finally:
        sink.close()


def test_an_answer_ends_only_the_notify_of_its_own_zone(tmp_path):
    """An answer to a NOTIFY is matched by ID, address and zone (RFC 1996 4.7: it echoes the question). With
    thousands of NOTIFYs pending to one secondary their random 16-bit IDs repeat; matched by ID alone, an
    answer for one zone ended another zone's NOTIFY, which was then never sent again (with notify-rate, at
    times never sent at all). Here an answer carries zone B's ID and zone A's question: B's NOTIFY must still
    be retried."""
    za, zb = "a.match.test.", "b.match.test."
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    fake = Remote("127.0.0.1", sock.getsockname()[1])
    try:
        with Tandem(tmp_path, [Zone(z, zone_file(tmp_path, z, 1), notify=[fake]) for z in (za, zb)]):
            first = {}
            while len(first) < 2:
                wire, peer = sock.recvfrom(65535)
                m = dns.message.from_wire(wire)
                first.setdefault(m.question[0].name.to_text(), (m, peer))
            asked_a, peer = first[za]
            forged = dns.message.make_response(asked_a)
            forged.id = first[zb][0].id
            sock.sendto(forged.to_wire(), peer)
            retried = set()
            deadline = time.monotonic() + 4
            while zb not in retried and time.monotonic() < deadline:
                try:
                    wire, _ = sock.recvfrom(65535)
                except socket.timeout:
                    break
                retried.add(dns.message.from_wire(wire).question[0].name.to_text())
            assert zb in retried, "zone B's NOTIFY ended by an answer for zone A (retried: %s)" % retried
    finally:
        sock.close()


# ---------------------------------------------------------------------------------------------- SOA timers

def test_soa_timers_survive_a_restart_with_the_primary_up(tmp_path):
    """SPEC.md: SOA timers survive restarts. The secondary holds t1.test. (SOA refresh 3600) and is
    restarted with its primary up and a second zone, t2.test., added meanwhile: t2 (never refreshed) is
    transferred at once; t1 keeps its last and next refresh times (API) and is not refreshed (log)."""
    p_port = free_port()
    t1, t2 = "t1.test.", "t2.test."
    primary = Tandem(tmp_path, [Zone(z, zone_file(tmp_path, z, 1, refresh=3600), acl=[Acl(["127.0.0.1"])])
                                for z in (t1, t2)], name="primary", port=p_port)
    held = [t1]

    def conf(s):
        return {"server": s.server_section(), "http": s.http_section(),
                "remotes": [{"name": "p", "address": ["127.0.0.1@%d" % p_port]}],
                "zones": [{"name": z, "type": "secondary", "primaries": ["p"]} for z in held]}
    sec = TandemC(tmp_path, "secondary", conf)
    with primary:
        with sec:
            xfr.wait_serial(sec, t1, 1)
            before = wait_for("t1's timers set", lambda: (lambda v: v if v.get("next_refresh") else None)(
                sec.get_json("zones/" + t1)["secondary"]), 10)
            assert before["next_refresh"] - before["last_refresh"] > 3000, before
            # A refresh at restart would move last_refresh: make sure the clock can tell it moved.
            wait_for("a second past the last refresh", lambda: time.time() >= before["last_refresh"] + 1.5, 5)
        held.append(t2)
        sec.rewrite()
        mark = sec.log_mark()
        with sec:
            # The refreshes due at start run now: t2's ends in its AXFR; t1 would have been asked together.
            sec.wait_log(r"t2\.test\.: AXFR from 127\.0\.0\.1@%d serial 0 -> 1" % p_port, mark=mark)
            xfr.wait_serial(sec, t2, 1)
            after = sec.get_json("zones/" + t1)["secondary"]
            assert (after["last_refresh"], after["next_refresh"]) == \
                (before["last_refresh"], before["next_refresh"]), (before, after)
            assert xfr.soa_serial(sec, t1) == 1
            since = sec.log_since(mark)
            assert "t1.test.: up to date" not in since and "t1.test.: SOA query" not in since and \
                "t1.test.: AXFR" not in since and "t1.test.: IXFR" not in since, since


# ---------------------------------------------------------------------------------------------- TCP and UDP limits

def read_until_closed(sock, timeout):
    """Reads until the peer closes (EOF or reset) or timeout: (closed, bytes read)."""
    deadline = time.monotonic() + timeout
    got = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(4096)
        except socket.timeout:
            return False, got
        except (ConnectionResetError, BrokenPipeError):
            return True, got
        if not data:
            return True, got
        got += data
    return False, got


def query_frame(qid=0x4444):
    q = dnsq.make("www.example.com.", "A", qid=qid).to_wire()
    return struct.pack("!H", len(q)) + q


def connect_from(server, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(3)
    s.connect((server.addr, server.port))
    return s


def answered(sock, qid=0x4444):
    sock.sendall(query_frame(qid))
    wire = dnsq.tcp_read_msg(sock, timeout=3)
    return wire is not None and struct.unpack("!H", wire[:2])[0] == qid


def test_tcp_connections_beyond_tcp_max_clients_are_closed_at_once(tmp_path):
    """docs/behaviour.md: beyond tcp-max-clients connections, new ones are closed at once; a slot freed is
    usable again. Each connection comes from its own address (a per-address limit, if any, stays out)."""
    with Tandem(tmp_path, zones("example.com."), extra_server={"tcp-max-clients": 3},
                tcp_idle_timeout=60) as t:
        held = [connect_from(t, "127.0.0.%d" % (21 + i)) for i in range(3)]
        try:
            for s in held:
                assert answered(s), "a connection within the limit is not answered"
            extra = connect_from(t, "127.0.0.24")
            try:
                try:
                    extra.sendall(query_frame())
                except (ConnectionResetError, BrokenPipeError):
                    pass
                closed, got = read_until_closed(extra, 10)
                assert closed and not got, "a connection beyond tcp-max-clients was %s" % (
                    "answered" if got else "kept open")
            finally:
                extra.close()
            held.pop().close()      # a slot frees once the server has seen the close: poll (bounded)

            def a_new_one_is_served():
                s = connect_from(t, "127.0.0.25")
                try:
                    return answered(s)
                except OSError:
                    return False
                finally:
                    s.close()
            wait_for("a new connection served after one closed", a_new_one_is_served, 10, interval=0.1)
            assert all(answered(s, qid=0x4545) for s in held), "the connections held were disturbed"
        finally:
            for s in held:
                s.close()


def test_a_tcp_connection_that_dribbles_a_request_is_closed(tmp_path):
    """docs/behaviour.md: a connection that completes no message for tcp-idle-timeout seconds (idle or
    dribbling) is closed. One octet every quarter second never leaves it idle, yet completes nothing: the
    server closes it long before the last octet (the request takes ~15 s to send, the timeout is 2 s)."""
    with Tandem(tmp_path, zones("example.com."), tcp_idle_timeout=2) as t:
        frame = query_frame()
        assert len(frame) * 0.25 > 10
        s = dnsq.tcp_connect(t)
        try:
            sent = 0
            closed = False
            while sent < len(frame) - 1:        # never the last octet: the request stays incomplete
                try:
                    s.sendall(frame[sent:sent + 1])
                except (ConnectionResetError, BrokenPipeError):
                    closed = True
                    break
                sent += 1
                closed, got = read_until_closed(s, 0.25)
                assert not got, "an answer to an incomplete request: %r" % got
                if closed:
                    break
            assert closed, "a connection dribbling %d octets over %.0f s was never closed" % (sent, sent * 0.25)
            assert sent < len(frame) - 4, "closed only after %d of %d octets" % (sent, len(frame))
        finally:
            s.close()
        assert dnsq.ask(t, "www.example.com.", "A", tcp=True).answer


def padded_query(size, qid):
    """A good query for www.example.com. A padded (EDNS PADDING, RFC 7830) to exactly size octets."""
    base = len(dnsq.make("www.example.com.", "A", qid=qid,
                         options=[dns.edns.GenericOption(dns.edns.PADDING, b"")]).to_wire())
    wire = dnsq.make("www.example.com.", "A", qid=qid,
                     options=[dns.edns.GenericOption(dns.edns.PADDING, b"\0" * (size - base))]
                     ).to_wire(max_size=65535)
    assert len(wire) == size
    return wire


def test_udp_requests_over_4096_octets_are_dropped(tmp_path):
    """docs/behaviour.md: UDP requests larger than 4096 octets are dropped. The same query padded to 4096
    octets is answered, to 4097 not: the good query sent after it on the same socket is answered first."""
    with Tandem(tmp_path, zones("example.com.")) as t:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect((t.addr, t.port))
            s.settimeout(3)
            s.send(padded_query(4096, 0x1096))
            r = dns.message.from_wire(s.recv(65535))
            assert r.id == 0x1096 and [rd.address for rrset in r.answer for rd in rrset] == ["192.0.2.80"], \
                r.to_text()
            s.send(padded_query(4097, 0x1097))
            s.send(dnsq.make("www.example.com.", "A", qid=0x2000).to_wire())
            first = s.recv(65535)
            assert struct.unpack("!H", first[:2])[0] == 0x2000, \
                "the 4097-octet request got an answer (%s)" % dns.message.from_wire(first).to_text()
        finally:
            s.close()


# ---------------------------------------------------------------------------------------------- SIGHUP

def test_sighup_with_a_broken_configuration_keeps_the_running_one(tmp_path):
    """A configuration file broken by hand, then SIGHUP: the error is logged with file and line, tandemd
    keeps running its previous configuration (every zone served). Fixed (one zone less), it applies."""
    with Tandem(tmp_path, zones("example.com.", "example.net.")) as t:
        good = t.conf_path.read_text()
        lines = good.splitlines()
        broken_at = lines.index("zones:") + 1
        # The zone list with example.net. gone and a line YAML cannot read: nothing of it may apply.
        broken = "\n".join(lines[:broken_at] + ["  - name: [example.com.", "    type: primary"]) + "\n"
        t.conf_path.write_text(broken)
        mark = t.log_mark()
        t.reload()
        t.wait_log(r"reload: configuration not loaded \(.*\), keeping the running one", mark=mark)
        assert "tandem.yaml:%d" % (broken_at + 1) in t.log_since(mark) or \
            "tandem.yaml:%d" % (broken_at + 2) in t.log_since(mark), \
            "the error does not name the file and line:\n" + t.log_since(mark)
        assert t.alive()
        assert xfr.soa_serial(t, "example.com.") == 2024010101
        assert xfr.soa_serial(t, "example.net.") == 7, "a zone of the broken file's choosing went"
        # Fixed, with example.net. taken out: the reload applies (so the first one was refused, not lost).
        t.zones = zones("example.com.")
        t.prepare()
        mark = t.log_mark()
        t.reload()
        t.wait_log(r"reloaded: 1 zones", mark=mark)
        assert dnsq.ask(t, "example.net.", "SOA").rcode() == dns.rcode.REFUSED
        assert xfr.soa_serial(t, "example.com.") == 2024010101
        assert "not loaded" not in t.log_since(mark), t.log_since(mark)


# ---------------------------------------------------------------------------------------------- IPv6

V6 = "v6.test."


def test_transfers_and_notify_over_ipv6(tmp_path):
    """A primary and its secondary that know each other only by ::1: the first AXFR, then a change told by
    NOTIFY and fetched by IXFR, all over IPv6 (both logs name ::1)."""
    if not have_ipv6():
        skip_machine("no ::1 on this machine")
    p_port, s_port = free_port(ipv6=True), free_port(ipv6=True)
    src = zone_file(tmp_path, V6, 1)

    def primary_conf(s):
        return {"server": {"listen": ["::1@%d" % p_port], "data-dir": "var", "workers": 1},
                "remotes": [{"name": "s", "address": ["::1@%d" % s_port]}],
                "acls": [{"name": "s", "address": ["::1"], "allow": ["transfer"]}],
                "zones": [{"name": V6, "file": str(src), "notify": ["s"], "acl": ["s"]}]}

    def secondary_conf(s):
        return {"server": {"listen": ["::1@%d" % s_port], "data-dir": "var", "workers": 1},
                "remotes": [{"name": "p", "address": ["::1@%d" % p_port]}],
                "zones": [{"name": V6, "type": "secondary", "primaries": ["p"]}]}
    primary = TandemC(tmp_path, "primary", primary_conf, ready_zones=[V6], addr="::1", port=p_port, http=False)
    sec = TandemC(tmp_path, "secondary", secondary_conf, addr="::1", port=s_port, http=False)
    with primary, sec:
        xfr.wait_serial(sec, V6, 1)
        sec.wait_log(r"v6\.test\.: AXFR from ::1@%d serial 0 -> 1" % p_port)
        mark, pmark = sec.log_mark(), primary.log_mark()
        xfr.write_zone(src, xfr.zone_text(V6, 2, ["over6 AAAA 2001:db8::6"]))
        primary.reload()
        xfr.wait_serial(sec, V6, 2)
        sec.wait_log(r"v6\.test\.: NOTIFY from ::1@\d+, refreshing", mark=mark)
        sec.wait_log(r"v6\.test\.: IXFR from ::1@%d serial 1 -> 2" % p_port, mark=mark)
        primary.wait_log(r"v6\.test\.: IXFR to ::1@\d+", mark=pmark)
        r = dnsq.ask(sec, "over6." + V6, "AAAA")
        assert [rd.address for rrset in r.answer for rd in rrset] == ["2001:db8::6"]
        assert r.flags & dns.flags.AA
