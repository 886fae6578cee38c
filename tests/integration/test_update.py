"""test_update.py -- RFC 2136 dynamic update (issue 10, "Dynamic update"), driven by BIND's nsupdate and by
dnspython for what nsupdate cannot send:

- `nsupdate -y` adds, replaces and removes records of a primary loaded from a file: the answers change at
  once, the serial goes up by one per UPDATE, a Tandem secondary follows by IXFR, and the zone file is written
  back (so a reload keeps the change, and the previous file stays as .bak);
- prerequisites (RFC 2136 3.2) hold or the whole UPDATE fails with their rcode, changing nothing;
- without the key, with a wrong key, from a secondary zone, for a zone we do not serve, with records outside
  the zone or of meta types: refused with the right rcode, nothing changed;
- the rules of 3.4.2: the apex SOA and NS cannot be deleted, a CNAME never joins other data;
- SIGKILL right after an acknowledged UPDATE loses nothing: the restart serves it and writes the file.
"""

import re
import socket
import subprocess
import time

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.tsigkeyring
import dns.update
import pytest

from harness import Acl, Key, Remote, Tandem, TandemApi, Zone, secondary
from harness import dnsq, xfr
from harness.notifysink import NotifySink
from harness.ports import free_port

ZONE = "dyn.test."
KEY = Key.generate("update-key.")


def _primary(tmp_path, port=None, notify_port=None, extra=None, extra_server=None):
    src = tmp_path / "dyn.zone"
    src.write_text(xfr.zone_text(ZONE, 10, ["old A 192.0.2.50", "alias CNAME www"]))
    notify = [Remote("127.0.0.1", notify_port)] if notify_port else []
    return Tandem(tmp_path, [Zone(ZONE, src, notify=notify,
                                  acl=[Acl(["127.0.0.1"], key=KEY, allow=["update"]),
                                       Acl(["127.0.0.1"], allow=["transfer"])], extra=extra)],
                  name="primary", port=port, extra_server=extra_server)


def nsupdate(server, commands, key=KEY, timeout=20):
    """Runs nsupdate with the commands (a list of lines); returns (exit code, output)."""
    lines = ["server %s %d" % (server.addr, server.port), "zone %s" % ZONE] + list(commands) + ["send", ""]
    argv = ["nsupdate", "-t", "5"]
    if key is not None:
        argv += ["-y", "%s:%s:%s" % (key.algorithm, key.name, key.secret)]
    p = subprocess.run(argv, input="\n".join(lines), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def _rdatas(server, name, rdtype):
    r = dnsq.ask(server, name, rdtype, tcp=True)
    return sorted(rd.to_text() for rrset in r.answer if rrset.rdtype == dns.rdatatype.from_text(rdtype)
                  for rd in rrset)


def _update_msg(key=KEY):
    u = dns.update.UpdateMessage(ZONE)
    if key is not None:
        u.use_tsig(dns.tsigkeyring.from_text({key.name: key.secret}), keyname=key.name,
                   algorithm=dns.name.from_text(key.algorithm))
    return u


def _send(server, msg):
    return dns.query.tcp(msg, server.addr, port=server.port, timeout=5)


def test_nsupdate_changes_the_zone_and_a_secondary_follows(tmp_path):
    p_port, s_port = free_port(), free_port()
    primary = _primary(tmp_path, port=p_port, notify_port=s_port)
    sec = Tandem(tmp_path, [secondary(ZONE, [Remote("127.0.0.1", p_port)],
                                      acl=[Acl(["127.0.0.1"], allow=["transfer"])])],
                 name="secondary", port=s_port)
    with primary, sec:
        xfr.wait_serial(sec, ZONE, 10, timeout=10)
        rc, out = nsupdate(primary, ["update add new.%s 300 A 192.0.2.1" % ZONE,
                                     "update add new.%s 300 A 192.0.2.2" % ZONE,
                                     "update add new.%s 300 TXT \"hello\"" % ZONE])
        assert rc == 0, out
        assert _rdatas(primary, "new." + ZONE, "A") == ["192.0.2.1", "192.0.2.2"]
        assert xfr.soa_serial(primary, ZONE) == 11
        primary.wait_log(r"dyn\.test\.: UPDATE from 127\.0\.0\.1@\d+ key update-key\.: serial 10 -> 11, 1 removed, 4 added")
        xfr.wait_serial(sec, ZONE, 11, timeout=10)
        sec.wait_log(r"dyn\.test\.: IXFR from 127\.0\.0\.1@\d+ serial 10 -> 11")
        assert _rdatas(sec, "new." + ZONE, "TXT") == ['"hello"']

        # One record removed, an RRset replaced, a name deleted whole.
        rc, out = nsupdate(primary, ["update delete new.%s A 192.0.2.1" % ZONE,
                                     "update delete old.%s A" % ZONE,
                                     "update add old.%s 60 A 198.51.100.7" % ZONE,
                                     "update delete www.%s" % ZONE])
        assert rc == 0, out
        assert _rdatas(primary, "new." + ZONE, "A") == ["192.0.2.2"]
        assert _rdatas(primary, "old." + ZONE, "A") == ["198.51.100.7"]
        assert dnsq.ask(primary, "www." + ZONE, "AAAA").rcode() == dns.rcode.NXDOMAIN
        assert xfr.soa_serial(primary, ZONE) == 12
        xfr.wait_serial(sec, ZONE, 12, timeout=10)
        src = tmp_path / "want.zone"
        # The secondary holds exactly what the primary's file now says (written back within seconds).
        deadline = time.monotonic() + 10
        while "198.51.100.7" not in primary.zone_path(ZONE).read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        src.write_text(primary.zone_path(ZONE).read_text())
        xfr.assert_same_records(xfr.axfr(sec, ZONE), xfr.file_records(src, ZONE), "the secondary",
                                "the primary's file written back")
        assert primary.zone_path(ZONE).with_name(primary.zone_path(ZONE).name + ".bak").exists()
        primary.wait_log(r"zone file .* written back after dynamic updates \(serial 12")

        # A reload keeps what the updates did: the file holds it.
        mark = primary.log_mark()
        primary.reload()
        primary.wait_log(r"reloaded", mark=mark)
        assert _rdatas(primary, "old." + ZONE, "A") == ["198.51.100.7"]
        assert xfr.soa_serial(primary, ZONE) == 12


@pytest.mark.parametrize("delay,zone_delay", [(None, None), (0, None), (None, 0), (0, 1)],
                         ids=["default", "notify-delay-0", "zone-notify-delay-0", "zone-notify-delay-1"])
def test_a_stream_of_updates_is_told_to_secondaries_in_a_notify_a_second(tmp_path, delay, zone_delay):
    """A change is told to the secondaries at once; the changes that follow within a second are held back
    and told together, in one NOTIFY of the newest serial, when the second is up (repl/notify.c,
    `notify-delay`, 1 s by default; docs/behaviour.md). 60 UPDATEs sent back to back cost a NOTIFY a
    second, not one each, and the last change is always told; with `notify-delay: 0` each is told. A zone's
    own `notify-delay` wins over the server's, both ways. The secondary here is a socket that answers every
    NOTIFY, so none is sent twice."""
    sink_port = free_port()
    sink = NotifySink("127.0.0.1", sink_port, answer=True)
    extra = {"notify-delay": delay} if delay is not None else None
    zone_extra = {"notify-delay": zone_delay} if zone_delay is not None else None
    held = (zone_delay if zone_delay is not None else delay if delay is not None else 1) > 0
    try:
        with _primary(tmp_path, notify_port=sink_port, extra=zone_extra, extra_server=extra) as primary:
            deadline = time.monotonic() + 10
            while 10 not in sink.serials(ZONE) and time.monotonic() < deadline:   # the start's NOTIFY
                time.sleep(0.02)
            assert sink.serials(ZONE) == [10], sink.seen
            time.sleep(1.5)   # past the start's hold: the first update is told at once
            sock = socket.create_connection((primary.addr, primary.port), timeout=10)
            try:
                t0 = time.monotonic()
                for i in range(60):
                    u = _update_msg()
                    u.add("burst%d.%s" % (i, ZONE), 300, "A", "192.0.2.%d" % (i + 1))
                    assert dns.query.tcp(u, primary.addr, port=primary.port, timeout=10,
                                         sock=sock).rcode() == dns.rcode.NOERROR
                burst = time.monotonic() - t0
            finally:
                sock.close()
            deadline = time.monotonic() + 10
            while 70 not in sink.serials(ZONE) and time.monotonic() < deadline:
                time.sleep(0.02)
            told = sink.serials(ZONE)[1:]
            assert told and told[-1] == 70, "the last change (serial 70) was not told: %s" % told
            assert told == sorted(told), told
            if not held:   # every change told, a few perhaps merged by the control thread's inbox
                assert len(told) >= 40, "%d NOTIFYs for 60 UPDATEs with notify-delay 0: %s" % (len(told), told)
                return
            # One at the start of the stream, one per second it lasted, one for the changes of its last
            # second: without the hold it would be about 60.
            assert len(told) <= 3 + int(burst), "%d NOTIFYs for 60 UPDATEs in %.1f s: %s" % (len(told), burst, told)
            time.sleep(1.5)   # nothing more comes once the stream has been told
            assert sink.serials(ZONE)[1:] == told, sink.seen
    finally:
        sink.close()


def test_prerequisites_and_rules(tmp_path):
    with _primary(tmp_path) as t:
        # RFC 2136 3.2: each prerequisite kind, failing with its rcode and changing nothing.
        for prereq, rcode in [("prereq nxdomain old.%s" % ZONE, "YXDOMAIN"),
                              ("prereq yxdomain nothere.%s" % ZONE, "NXDOMAIN"),
                              ("prereq nxrrset old.%s A" % ZONE, "YXRRSET"),
                              ("prereq yxrrset old.%s AAAA" % ZONE, "NXRRSET"),
                              ("prereq yxrrset old.%s A 192.0.2.99" % ZONE, "NXRRSET")]:
            rc, out = nsupdate(t, [prereq, "update add p.%s 300 A 192.0.2.9" % ZONE])
            assert rc != 0 and rcode in out, (prereq, out)
            assert dnsq.ask(t, "p." + ZONE, "A").rcode() == dns.rcode.NXDOMAIN
        assert xfr.soa_serial(t, ZONE) == 10
        # By value, the RRset must be exactly the one listed: a subset is not enough (RFC 2136 3.2.3).
        rc, out = nsupdate(t, ["update add old.%s 3600 A 192.0.2.51" % ZONE])
        assert rc == 0, out
        rc, out = nsupdate(t, ["prereq yxrrset old.%s A 192.0.2.50" % ZONE, "update add p.%s 300 A 192.0.2.9" % ZONE])
        assert rc != 0 and "NXRRSET" in out, out
        rc, out = nsupdate(t, ["update delete old.%s A 192.0.2.51" % ZONE])
        assert rc == 0, out
        assert xfr.soa_serial(t, ZONE) == 12
        # ... and holding: the update goes through.
        rc, out = nsupdate(t, ["prereq nxdomain p.%s" % ZONE, "prereq yxrrset old.%s A 192.0.2.50" % ZONE,
                               "update add p.%s 300 A 192.0.2.9" % ZONE])
        assert rc == 0, out
        assert _rdatas(t, "p." + ZONE, "A") == ["192.0.2.9"]
        assert xfr.soa_serial(t, ZONE) == 13
        # 3.4.2: the apex SOA and NS stay, a CNAME does not join other data (and other data no CNAME).
        rc, out = nsupdate(t, ["update delete %s NS" % ZONE, "update delete %s SOA" % ZONE,
                               "update add p.%s 300 CNAME www.%s" % (ZONE, ZONE),
                               "update add alias.%s 300 A 192.0.2.8" % ZONE])
        assert rc == 0, out
        assert len(_rdatas(t, ZONE, "NS")) == 2
        assert _rdatas(t, "p." + ZONE, "A") == ["192.0.2.9"]
        r = dnsq.ask(t, "alias." + ZONE, "A")
        assert [rr.rdtype for rr in r.answer][0] == dns.rdatatype.CNAME
        # Nothing changed: no new serial.
        assert xfr.soa_serial(t, ZONE) == 13
        # An SOA whose serial goes forward is taken as the update says.
        rc, out = nsupdate(t, ["update add %s 3600 SOA ns1.%s hostmaster.%s 500 3600 600 604800 300"
                               % (ZONE, ZONE, ZONE)])
        assert rc == 0, out
        assert xfr.soa_serial(t, ZONE) == 500


def test_refusals_change_nothing(tmp_path):
    p_port = free_port()
    primary = _primary(tmp_path, port=p_port)
    sec = Tandem(tmp_path, [secondary(ZONE, [Remote("127.0.0.1", p_port)],
                                      acl=[Acl(["127.0.0.1"], key=KEY, allow=["update"])])],
                 name="secondary")
    with primary, sec:
        xfr.wait_serial(sec, ZONE, 10, timeout=10)
        add = ["update add x.%s 300 A 192.0.2.3" % ZONE]
        rc, out = nsupdate(primary, add, key=None)
        assert rc != 0 and "REFUSED" in out, out
        rc, out = nsupdate(primary, add, key=Key(KEY.name, KEY.algorithm, Key.generate().secret))
        assert rc != 0, out      # a wrong secret: NOTAUTH (BADSIG)
        rc, out = nsupdate(sec, add)
        assert rc != 0 and "REFUSED" in out, out
        sec.wait_log(r"UPDATE from 127\.0\.0\.1@\d+ refused: a secondary zone")
        # A zone we do not serve; records outside the zone; a meta type added; a TTL on a deletion.
        u = dns.update.UpdateMessage("other.test.")
        u.add("x.other.test.", 300, "A", "192.0.2.3")
        assert _send(primary, u).rcode() == dns.rcode.NOTAUTH
        u = _update_msg()
        u.add("x.example.org.", 300, "A", "192.0.2.3")
        assert _send(primary, u).rcode() == dns.rcode.NOTZONE
        u = _update_msg()
        u.add("x." + ZONE, 300, "ANY", "\\# 0")
        assert _send(primary, u).rcode() == dns.rcode.FORMERR
        u = _update_msg()
        u.add("x." + ZONE, 300, "A", "192.0.2.3")
        u.add("x." + ZONE, 300, "RRSIG", "A 13 3 300 20300101000000 20200101000000 1 %s AAAA" % ZONE)
        assert _send(primary, u).rcode() == dns.rcode.REFUSED
        assert dnsq.ask(primary, "x." + ZONE, "A").rcode() == dns.rcode.NXDOMAIN
        assert xfr.soa_serial(primary, ZONE) == 10
        assert xfr.soa_serial(sec, ZONE) == 10


def test_only_an_applied_update_makes_a_worker_poll(tmp_path):
    """After an UPDATE it applied, a worker polls its sockets for the client's next one (at most 100 us)
    instead of sleeping (server/worker.c). Only an UPDATE answered NOERROR starts that, so a client that
    may not update cannot make a worker spin: unsigned, badly signed, failed prerequisites, a zone we do
    not serve, refused updates leave tandem_update_polls_total where it was; applied ones, over TCP and
    UDP, move it one each."""
    src = tmp_path / "dyn.zone"
    src.write_text(xfr.zone_text(ZONE, 10, ["old A 192.0.2.50"]))
    primary = TandemApi(tmp_path, [Zone(ZONE, src, acl=[Acl(["127.0.0.1"], key=KEY, allow=["update"])])],
                        name="primary")

    def polls():
        st, text, _ = primary.call("GET", "/metrics")
        assert st == 200, text
        m = re.search(r"^tandem_update_polls_total (\d+)$", text, re.M)
        assert m, text
        return int(m.group(1))

    def add(name, key=KEY):
        u = _update_msg(key)
        u.add(name + "." + ZONE, 300, "A", "192.0.2.7")
        return u

    with primary:
        assert polls() == 0
        for _ in range(3):
            assert _send(primary, add("a", key=None)).rcode() == dns.rcode.REFUSED
            assert dns.query.udp(add("b", key=None), primary.addr, port=primary.port,
                                 timeout=5).rcode() == dns.rcode.REFUSED
        rc, out = nsupdate(primary, ["update add c.%s 300 A 192.0.2.3" % ZONE],
                           key=Key(KEY.name, KEY.algorithm, Key.generate().secret))
        assert rc != 0, out      # a wrong secret: NOTAUTH (BADSIG)
        u = add("d")
        u.present("missing." + ZONE)
        assert _send(primary, u).rcode() == dns.rcode.NXDOMAIN
        u = dns.update.UpdateMessage("other.test.")
        u.add("x.other.test.", 300, "A", "192.0.2.3")
        assert _send(primary, u).rcode() == dns.rcode.NOTAUTH
        assert polls() == 0
        assert xfr.soa_serial(primary, ZONE) == 10
        # Applied: two over TCP, one over UDP.
        assert _send(primary, add("e")).rcode() == dns.rcode.NOERROR
        assert _send(primary, add("f")).rcode() == dns.rcode.NOERROR
        assert dns.query.udp(add("g"), primary.addr, port=primary.port, timeout=5).rcode() == dns.rcode.NOERROR
        assert polls() == 3
        assert _rdatas(primary, "g." + ZONE, "A") == ["192.0.2.7"]


def test_sigkill_after_an_acknowledged_update(tmp_path):
    t = _primary(tmp_path)
    with t:
        rc, out = nsupdate(t, ["update add kept.%s 300 A 192.0.2.77" % ZONE])
        assert rc == 0, out
        t.kill()   # before the file was written back (that waits a second)
        assert "kept" not in t.zone_path(ZONE).read_text()
        mark = t.log_mark()
        t.start()
        t.wait_ready()
        assert _rdatas(t, "kept." + ZONE, "A") == ["192.0.2.77"]
        assert xfr.soa_serial(t, ZONE) == 11
        t.wait_log(r"zone file .* is behind the dynamic updates", mark=mark)
        t.wait_log(r"zone file .* written back after dynamic updates \(serial 11", mark=mark)
        assert "kept" in t.zone_path(ZONE).read_text()


def test_certbot_rfc2136_plugin_adds_and_removes_its_txt(tmp_path):
    """certbot's rfc2136 plugin (Debian python3-certbot-dns-rfc2136), its own client code as certbot runs
    it for a DNS-01 challenge: it finds the zone (SOA queries signed with the key), adds the TXT record,
    and removes it afterwards. Only the ACME server is left out (nothing leaves loopback)."""
    from certbot_dns_rfc2136._internal.dns_rfc2136 import _RFC2136Client
    with _primary(tmp_path) as t:
        client = _RFC2136Client(t.addr, t.port, KEY.name, KEY.secret, dns.name.from_text(KEY.algorithm), 5)
        name = "_acme-challenge.www." + ZONE
        client.add_txt_record(name, "token-one", 60)
        client.add_txt_record(name, "token-two", 60)   # a second domain's challenge, same name
        assert _rdatas(t, name, "TXT") == ['"token-one"', '"token-two"']
        client.del_txt_record(name, "token-one")
        assert _rdatas(t, name, "TXT") == ['"token-two"']
        client.del_txt_record(name, "token-two")
        assert dnsq.ask(t, name, "TXT").rcode() == dns.rcode.NXDOMAIN
        assert xfr.soa_serial(t, ZONE) == 14


def test_serial_policies(tmp_path):
    """serial-policy: increment (the default, tested above), unixtime and dateserial (YYYYMMDDnn, UTC):
    the serial an UPDATE leads to; a second UPDATE the same second / day still goes forward."""
    for policy in ("unixtime", "dateserial"):
        d = tmp_path / policy
        d.mkdir()
        with _primary(d, extra={"serial-policy": policy}) as t:
            before = time.time()
            rc, out = nsupdate(t, ["update add s1.%s 300 A 192.0.2.1" % ZONE])
            assert rc == 0, out
            first = xfr.soa_serial(t, ZONE)
            if policy == "unixtime":
                assert int(before) - 1 <= first <= int(time.time()) + 1
            else:
                assert first == int(time.strftime("%Y%m%d00", time.gmtime(before))) or \
                    first == int(time.strftime("%Y%m%d00", time.gmtime()))
            rc, out = nsupdate(t, ["update add s2.%s 300 A 192.0.2.2" % ZONE])
            assert rc == 0, out
            assert xfr.soa_serial(t, ZONE) == first + 1 or (policy == "unixtime" and
                                                             xfr.soa_serial(t, ZONE) > first)


def test_sigkill_during_a_stream_of_updates_loses_nothing_acknowledged(tmp_path):
    """A client sends UPDATEs one after another (each adds an A and a TXT at a new name); the server is
    killed with SIGKILL at a random moment, three times. After each restart every acknowledged UPDATE is
    served, and no UPDATE is served in part (both records or neither)."""
    import random
    import threading
    rng = random.Random(5)
    t = _primary(tmp_path)
    acked = []
    with t:
        # Updates commit on the workers; the control thread folds the journal into the contents when
        # enough is pending (the zone is small: after a few updates), with no restart involved.
        for i in range(20):
            u = _update_msg()
            u.add("warm%d.%s" % (i, ZONE), 300, "A", "192.0.2.1")
            assert _send(t, u).rcode() == dns.rcode.NOERROR
        t.wait_log(r"changes folded into the contents")
        for round_ in range(3):
            stop = threading.Event()

            def stream():
                i = 0
                while not stop.is_set():
                    u = _update_msg()
                    name = "k%d-%d.%s" % (round_, i, ZONE)
                    u.add(name, 300, "A", "192.0.2.%d" % (i % 250 + 1))
                    u.add(name, 300, "TXT", "n%d" % i)
                    try:
                        r = dns.query.tcp(u, t.addr, port=t.port, timeout=2)
                    except Exception:
                        return   # the server died under us: this one was not acknowledged
                    if r.rcode() == dns.rcode.NOERROR:
                        acked.append(name)
                    i += 1

            th = threading.Thread(target=stream)
            th.start()
            time.sleep(rng.uniform(0.3, 1.0))
            t.kill()
            stop.set()
            th.join(10)
            t.start()
            t.wait_ready()
            for name in acked:
                assert _rdatas(t, name, "A") and _rdatas(t, name, "TXT"), "%s acknowledged, lost" % name
            # The one in flight at the kill: both records or neither.
            n = len([a for a in acked if a.startswith("k%d-" % round_)])
            nxt = "k%d-%d.%s" % (round_, n, ZONE)
            assert bool(_rdatas(t, nxt, "A")) == bool(_rdatas(t, nxt, "TXT"))
        assert len(acked) > 10, "too few updates acknowledged for the test to prove anything"
