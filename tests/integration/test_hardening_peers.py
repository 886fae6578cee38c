"""test_hardening_peers.py -- hostile primaries and super-primaries cost bounded memory, threads and time
(issue 8, items 4, 5, 6 and 15). The peers are scripted in Python (harness/fakes.py ScriptedPrimary): they
do on purpose what no real server does by accident.

- A primary that never ends an AXFR, or streams IXFR changes forever: the transfer is cut at the zone's
  max-zone-records / max-zone-size (per zone, or the server's default), the memory it held is freed, the slot
  goes to the primary's next zone.
- A primary that sends its answer a message at a time, slowly, or a byte at a time: the transfer is cut at
  xfr-max-time (the whole refresh) or xfr-timeout (one message), and the primary's other zones get the slot.
- A transfer carrying a record of the wrong shape (a CNAME or DNAME with empty rdata, a short MX, a type that
  is no zone data): refused whole, the zone keeps its version, the log names zone, primary and record.
- An AXFR older than what we serve is refused unless the operator asked for a retransfer; an EDNS EXPIRE of 0
  is clamped to expire-min instead of expiring the zone at once.
- Spoofed NOTIFYs from a keyless super-primary's address for thousands of names: checks are deduplicated,
  capped and rate-limited (threads and NS queries bounded) while another client is served meanwhile.

Each attack is measured on the running server (RSS from /proc/PID/status, threads from /proc/PID/task) while
it runs, and a bound asserted; another zone is answered meanwhile.
"""

import os
import re
import socket
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from catalog_util import TandemC, wait_for
from hardening_util import rss_kib, threads
from harness import ZONES, dnsq, xfr
from harness.fakes import ScriptedPrimary

KEEP = "example.com."          # a primary zone of the server: it must be answered during every attack


# ---------------------------------------------------------------------------------------------- peers

def soa(origin, serial, expire=604800):
    return dns.rrset.from_text(origin, 3600, "IN", "SOA",
                               "ns1.%s hostmaster.%s %d 3600 600 %d 300" % (origin, origin, serial, expire))


def body(origin, hosts=20):
    """A plain zone's records besides the SOA."""
    rrs = [dns.rrset.from_text(origin, 3600, "IN", "NS", "ns1." + origin),
           dns.rrset.from_text("ns1." + origin, 3600, "IN", "A", "192.0.2.1"),
           dns.rrset.from_text("www." + origin, 3600, "IN", "A", "192.0.2.80")]
    rrs += [dns.rrset.from_text("h%d.%s" % (i, origin), 3600, "IN", "A", "10.0.%d.%d" % (i >> 8, i & 255))
            for i in range(hosts)]
    return rrs


def answer(q, rrsets, rcode=dns.rcode.NOERROR, expire=None):
    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA
    r.set_rcode(rcode)
    for rr in rrsets:
        r.answer.append(rr)
    if expire is not None:
        r.use_edns(0, payload=1232, options=[dns.edns.GenericOption(dns.edns.EXPIRE, expire.to_bytes(4, "big"))])
    return r.to_wire(max_size=65535)


def chunks(q, rrsets, per_msg=50, expire=None):
    return [answer(q, rrsets[i:i + per_msg], expire=expire) for i in range(0, len(rrsets), per_msg)]


class Zones:
    """What a scripted primary serves, per zone: {origin: {"serial": n, "axfr": fn(q) -> items or None}}.
    SOA queries are answered from "soa_serial" (default "serial"), or with "soa_rcode"; IXFR is refused (so AXFR follows) unless
    the zone has an "ixfr" script; a zone without "axfr" gets its plain records."""

    def __init__(self):
        self.z = {}

    def add(self, origin, serial, **kw):
        self.z[origin] = dict(serial=serial, **kw)

    def __call__(self, q, proto):
        origin = q.question[0].name.to_text().lower()
        qtype = q.question[0].rdtype
        z = self.z.get(origin)
        if z is None:
            return [answer(q, [], dns.rcode.REFUSED)]
        if qtype == dns.rdatatype.SOA:
            if "soa_rcode" in z:
                return [answer(q, [], z["soa_rcode"])]
            return [answer(q, [soa(origin, z.get("soa_serial", z["serial"]))])]
        if proto == "udp":
            return [answer(q, [], dns.rcode.NOTIMP)]
        if qtype == dns.rdatatype.IXFR:
            return z["ixfr"](q) if "ixfr" in z else [answer(q, [], dns.rcode.REFUSED)]
        if qtype == dns.rdatatype.AXFR:
            if "axfr" in z:
                return z["axfr"](q)
            s = soa(origin, z["serial"])
            return chunks(q, [s] + body(origin) + [s])
        return [answer(q, [], dns.rcode.REFUSED)]


# ---------------------------------------------------------------------------------------------- server

def connections_to(port, pid):
    """TCP connections the process pid holds established to 127.0.0.1@port, all open at one moment.

    /proc/net/tcp is handed out a page at a time, so one reading can show a socket closed after its page
    beside one made before the next page: two that never stood open together (the more sockets the
    machine has, the more pages). So the established ones to port are taken from the table first (their
    client side, by inode), and only those the process still holds afterwards (its /proc/PID/fd) count:
    each of them was open from its line of the table to the end of the reading, so all were open at once
    when the reading ended."""
    established = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            remote, state, inode = fields[2], fields[3], fields[9]
            if state == "01" and int(remote.split(":")[1], 16) == port and inode != "0":
                established.add(inode)
    held = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue   # closed meanwhile
        if target.startswith("socket:["):
            held.add(target[len("socket:["):-1])
    return len(established & held)


def tandem(tmp_path, fake, secondaries, server=None, zone_extra=None, autoprimaries=None, http=False,
           remotes=()):
    """A Tandem serving KEEP from a file and the given secondary zones of `fake`."""
    def config(s):
        srv = s.server_section()
        srv.update(server or {})
        zs = [{"name": KEEP, "file": "zones/example.com.zone"}]
        for name in secondaries:
            z = {"name": name, "type": "secondary", "primaries": ["fake"]}
            z.update((zone_extra or {}).get(name, {}))
            zs.append(z)
        conf = {"server": srv, "remotes": [{"name": "fake", "address": ["%s@%d" % (fake.addr, fake.port)]}]
                + list(remotes), "zones": zs}
        if autoprimaries:
            conf["autoprimaries"] = autoprimaries
        if http:
            conf["http"] = s.http_section()
        return conf
    t = TandemC(tmp_path, "tandem", config, http=http)
    (t.dir / "zones").mkdir(parents=True, exist_ok=True)
    (t.dir / "zones" / "example.com.zone").write_text((ZONES / "example.com.zone").read_text())
    t.ready_zones = [KEEP]
    return t


def kept_answered(t):
    r = dnsq.ask(t, "www." + KEEP, "A", timeout=1.0)
    return r.rcode() == dns.rcode.NOERROR and bool(r.answer)


@pytest.fixture
def fakes():
    made = []

    def make(script):
        f = ScriptedPrimary(script)
        made.append(f)
        return f
    yield make
    for f in made:
        f.close()


# ---------------------------------------------------------------------------------------------- item 4

def endless_axfr(origin, per_msg=200):
    """AXFR: the SOA, then messages of A records for ever (never the closing SOA)."""
    def script(q):
        rrs = [dns.rrset.from_text("x%d.%s" % (i, origin), 3600, "IN", "A", "10.1.%d.%d" % (i >> 8, i & 255))
               for i in range(per_msg)]
        first = answer(q, [soa(origin, 2)] + body(origin))
        msg = answer(q, rrs)

        def gen():
            yield first
            while True:
                yield msg
        return gen()
    return script


def endless_ixfr(origin, per_msg=100):
    """IXFR from serial 1 to 2 whose changes never reach 2: deltas 1 -> 3 -> 4 -> ... for ever."""
    def script(q):
        def gen():
            yield answer(q, [soa(origin, 2)])
            n = 1
            while True:
                rrs = [dns.rrset.from_text("y%d-%d.%s" % (n, i, origin), 3600, "IN", "A", "10.2.0.%d" % (i % 250))
                       for i in range(per_msg)]
                nxt = n + 2 if n == 1 else n + 1
                yield answer(q, [soa(origin, n), soa(origin, nxt)] + rrs)
                n = nxt
        return gen()
    return script


@pytest.mark.parametrize("kind", ["axfr", "ixfr"])
def test_a_transfer_that_never_ends_is_cut_at_max_zone_records_and_its_memory_freed(kind, fakes, tmp_path):
    zone, other = "endless.test.", "other.test."
    z = Zones()
    fake = fakes(z)
    z.add(other, 1)
    if kind == "axfr":
        z.add(zone, 2, axfr=endless_axfr(zone))
    else:
        z.add(zone, 1)
    t = tandem(tmp_path, fake, [zone, other],
               server={"xfr-per-primary": 1, "max-zone-records": 100000, "retry-min": 1})
    with t:
        xfr.wait_serial(t, other, 1, timeout=15)
        if kind == "ixfr":
            xfr.wait_serial(t, zone, 1, timeout=15)
            z.z[zone].update(serial=2, ixfr=endless_ixfr(zone))
        base = rss_kib(t.pid)
        mark = t.log_mark()
        if kind == "ixfr":
            assert xfr.notify(t, zone, source="127.0.0.1", serial=2) == dns.rcode.NOERROR
        peak, served = base, 0
        deadline = time.monotonic() + 30
        rx = r"endless\.test\.: %s from 127\.0\.0\.1@%d failed \([^)]*max-zone-records" % (
            "AXFR" if kind == "axfr" else "IXFR", fake.port)
        while time.monotonic() < deadline:
            peak = max(peak, rss_kib(t.pid))
            served += kept_answered(t)
            if re.search(rx, t.log_since(mark)):
                break
            time.sleep(0.05)
        t.wait_log(rx, mark=mark, timeout=1)
        print("RSS before %d KiB, peak %d KiB during the endless %s" % (base, peak, kind.upper()))
        assert peak - base < 150 * 1024, "RSS grew by %d KiB" % (peak - base)
        assert served > 0
        # The slot is free again: the primary's other zone still refreshes.
        z.z[other]["serial"] = 2
        assert xfr.notify(t, other, source="127.0.0.1", serial=2) == dns.rcode.NOERROR
        xfr.wait_serial(t, other, 2, timeout=15)


def test_max_zone_records_and_size_per_zone_override_the_servers(fakes, tmp_path):
    small, big, sized = "small.test.", "big.test.", "sized.test."
    z = Zones()
    for name in (small, big, sized):
        z.add(name, 1)
    fake = fakes(z)
    t = tandem(tmp_path, fake, [small, big, sized], server={"max-zone-records": 1000},
               zone_extra={small: {"max-zone-records": 10}, sized: {"max-zone-size": 512}})
    with t:
        xfr.wait_serial(t, big, 1, timeout=15)
        t.wait_log(r"small\.test\.: AXFR from 127\.0\.0\.1@%d failed \(.*max-zone-records 10\b" % fake.port)
        t.wait_log(r"sized\.test\.: AXFR from 127\.0\.0\.1@%d failed \(.*max-zone-size 512\b" % fake.port)
        assert xfr.soa_serial(t, small) == "SERVFAIL"
        assert xfr.soa_serial(t, sized) == "SERVFAIL"


def slow_messages(origin):
    """AXFR: the SOA, then one record a message, a message every 0.3 s, for ever: every message arrives
    whole and in time, only the whole transfer is too long."""
    def script(q):
        def gen():
            yield answer(q, [soa(origin, 1)] + body(origin, hosts=0))
            i = 0
            while True:
                yield ("sleep", 0.3)
                yield answer(q, [dns.rrset.from_text("s%d.%s" % (i, origin), 3600, "IN", "A", "10.3.0.1")])
                i += 1
        return gen()
    return script


def slow_bytes(origin):
    """AXFR: a correct first message, sent a byte at a time, a byte a second."""
    def script(q):
        s = soa(origin, 1)
        wire = answer(q, [s] + body(origin) + [s])
        data = len(wire).to_bytes(2, "big") + wire

        def gen():
            for b in data:
                yield ("raw", bytes([b]))
                yield ("sleep", 1.0)
        return gen()
    return script


@pytest.mark.parametrize("kind", ["slow-messages", "slow-bytes"])
def test_a_slow_primary_frees_its_slot_for_its_other_zones(kind, fakes, tmp_path):
    """xfr-per-primary 1: while the slow zone's transfer holds the only slot of the primary, its other zone
    waits; the slow transfer is cut (xfr-max-time for the whole, xfr-timeout for one message) and the other
    zone is transferred."""
    slow, other = "slow.test.", "other.test."
    z = Zones()
    fake = fakes(z)
    z.add(slow, 1, axfr=(slow_messages if kind == "slow-messages" else slow_bytes)(slow))
    z.add(other, 1)
    t = tandem(tmp_path, fake, [slow, other],
               server={"xfr-per-primary": 1, "xfr-max-time": 4, "xfr-timeout": 3, "retry-min": 1})
    with t:
        xfr.wait_serial(t, other, 1, timeout=20)
        # Both have been asked for; now the slow zone retries every second and holds the slot each time.
        wait_for("the slow AXFR running", lambda: fake.count("AXFR") >= 2 and any(
            q[1] == slow and q[2] == "AXFR" for q in fake.queries), 10)
        mark = t.log_mark()
        z.z[other]["serial"] = 2
        assert xfr.notify(t, other, source="127.0.0.1", serial=2) == dns.rcode.NOERROR
        xfr.wait_serial(t, other, 2, timeout=20)
        t.wait_log(r"slow\.test\.: AXFR from 127\.0\.0\.1@%d failed" % fake.port, timeout=10, mark=mark)
        assert kept_answered(t)


# ---------------------------------------------------------------------------------------------- item 5

def bad(rtype, wire_rdata, owner="bad"):
    """A record of rtype with the given rdata octets, at owner (relative to the zone, or absolute)."""
    def make(origin):
        rd = dns.rdata.GenericRdata(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), wire_rdata)
        name = owner if owner.endswith(".") else owner + "." + origin
        rr = dns.rrset.RRset(dns.name.from_text(name), dns.rdataclass.IN, dns.rdatatype.from_text(rtype))
        rr.add(rd, 3600)
        return rr
    return make


BAD = {
    "cname-empty": bad("CNAME", b""),
    "dname-empty": bad("DNAME", b""),
    "ns-empty": bad("NS", b"", owner="sub"),
    "mx-short": bad("MX", b"\x00"),
    "srv-no-target": bad("SRV", b"\x00\x01\x00\x02\x00\x35"),
    "txt-empty": bad("TXT", b""),
    "txt-string-too-long": bad("TXT", b"\x05abc"),
    "a-short": bad("A", b"\x0a\x00\x00"),
    "nsec3param-short": bad("NSEC3PARAM", b"\x01\x00\x00"),
    "ds-short": bad("DS", b"\x00\x01"),
    "meta-type": bad("TYPE255", b""),
    "outside-the-zone": bad("A", b"\x0a\x00\x00\x01", owner="www.elsewhere.test."),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_a_transfer_with_a_malformed_record_is_refused_whole(case, fakes, tmp_path):
    zone = "shape.test."
    z = Zones()
    fake = fakes(z)
    z.add(zone, 1)
    t = tandem(tmp_path, fake, [zone])
    with t:
        xfr.wait_serial(t, zone, 1, timeout=15)
        rr = BAD[case](zone)
        s2 = soa(zone, 2)
        z.z[zone].update(serial=2, axfr=lambda q: chunks(q, [s2] + body(zone) + [rr, s2]))
        mark = t.log_mark()
        assert xfr.notify(t, zone, source="127.0.0.1", serial=2) == dns.rcode.NOERROR
        m = t.wait_log(r"shape\.test\.: AXFR from 127\.0\.0\.1@%d failed \(([^\n]*)\)" % fake.port, mark=mark)
        owner = rr.name.to_text()
        assert owner in m.group(1), m.group(0)
        assert xfr.soa_serial(t, zone) == 1   # the zone keeps its version
        assert kept_answered(t)


# ---------------------------------------------------------------------------------------------- item 15

def test_an_axfr_older_than_ours_is_refused_unless_a_retransfer_was_asked(fakes, tmp_path):
    zone = "older.test."
    z = Zones()
    fake = fakes(z)
    z.add(zone, 4)
    t = tandem(tmp_path, fake, [zone], http=True)
    with t:
        xfr.wait_serial(t, zone, 4, timeout=15)
        # The primary says 5 in its SOA, but its AXFR carries serial 3 (a restored backup, a rogue).
        s3 = soa(zone, 3)
        z.z[zone].update(soa_serial=5, axfr=lambda q: chunks(q, [s3] + body(zone, hosts=3) + [s3]))
        mark = t.log_mark()
        assert xfr.notify(t, zone, source="127.0.0.1", serial=5) == dns.rcode.NOERROR
        t.wait_log(r"older\.test\.: AXFR from 127\.0\.0\.1@%d failed \(.*serial 3 is older than ours \(4\)"
                   % fake.port, mark=mark)
        assert xfr.soa_serial(t, zone) == 4
        # The operator asks for it: taken.
        assert t.call("POST", "zones/%s/retransfer" % zone, raw=b"")[0] in (200, 202)
        xfr.wait_serial(t, zone, 3, timeout=15)


def test_an_edns_expire_of_zero_is_clamped_to_expire_min(fakes, tmp_path):
    zone = "expire.test."
    z = Zones()
    fake = fakes(z)
    s1 = soa(zone, 1)
    z.add(zone, 1, axfr=lambda q: chunks(q, [s1] + body(zone) + [s1], expire=0))
    t = tandem(tmp_path, fake, [zone], server={"expire-min": 600}, http=True)
    with t:
        xfr.wait_serial(t, zone, 1, timeout=15)
        t.wait_log(r"expire\.test\.: AXFR from")
        # From now on the primary refuses our SOA checks: the zone lives on its timers alone.
        z.z[zone]["soa_rcode"] = dns.rcode.REFUSED
        view = t.get_json("zones/%s" % zone)
        expires_in = view["secondary"]["expires_in"]
        assert expires_in is not None and expires_in >= 590, view
        # Still served a while later (before the fix it expired at once: SERVFAIL from then on).
        end = time.monotonic() + 2
        while time.monotonic() < end:
            assert xfr.soa_serial(t, zone) == 1
            time.sleep(0.1)
        assert "expired" not in t.log_text()


# ---------------------------------------------------------------------------------------------- item 6

def notify_wire(name):
    """A NOTIFY for name (RFC 1996), as bytes."""
    q = dns.message.make_query(name, "SOA")
    q.flags = dns.flags.AA
    q.set_opcode(dns.opcode.NOTIFY)
    return q.to_wire()


def test_spoofed_notifies_from_a_super_primary_cost_bounded_threads(fakes, tmp_path):
    """A keyless super-primary: anyone who can send from its address can NOTIFY any name. 600 NOTIFYs for
    300 names (each twice) and 100 for one name: at most a few NS checks at once, one per name, at a bounded
    rate; threads stay bounded; the server's own zone is answered meanwhile, and another super-primary's new
    zone is created all the same (the super-primaries take turns)."""
    def script(q, proto):
        if q.question[0].rdtype == dns.rdatatype.NS:
            return None       # hold the check: the worst case for the server
        return [answer(q, [], dns.rcode.REFUSED)]
    fake = fakes(script)
    real = "real.test."
    z2 = Zones()
    z2.add(real, 1)

    def script2(q, proto):
        if q.question[0].rdtype == dns.rdatatype.NS:
            return [answer(q, [dns.rrset.from_text(real, 3600, "IN", "NS", "ns1.tandem.test.")])]
        return z2(q, proto)
    other = ScriptedPrimary(script2, addr="127.0.0.2")
    t = tandem(tmp_path, fake, [], server={"xfr-timeout": 2},
               autoprimaries=[{"name": "sp", "remote": "fake", "nameservers": ["ns1.tandem.test."]},
                              {"name": "sp2", "remote": "other", "nameservers": ["ns1.tandem.test."]}],
               remotes=[{"name": "other", "address": ["127.0.0.2@%d" % other.port]}])
    try:
        run_flood(t, fake, other, real)
    finally:
        other.close()


def run_flood(t, fake, other, real):
    with t:
        base = threads(t.pid)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        peak, served, conns = base, 0, 0
        names = ["spoof%d.test." % i for i in range(300)]
        try:
            for rnd in range(2):
                for i, n in enumerate(names):
                    s.sendto(notify_wire(n), (t.addr, t.port))
                    if i % 6 == 0:
                        s.sendto(notify_wire("same.test."), (t.addr, t.port))
                    if i % 25 == 0:
                        peak = max(peak, threads(t.pid))
                        conns = max(conns, connections_to(fake.port, t.pid))
                        time.sleep(0.01)
            end = time.monotonic() + 3
            while time.monotonic() < end:
                peak = max(peak, threads(t.pid))
                conns = max(conns, connections_to(fake.port, t.pid))
                served += kept_answered(t)
                time.sleep(0.05)
        finally:
            s.close()
        checks = fake.count("NS")
        same = sum(1 for q in fake.queries if q[1] == "same.test." and q[2] == "NS")
        print("threads: %d before, peak %d; NS checks %d (same.test. %d); %d connections to the "
              "super-primary at most" % (base, peak, checks, same, conns))
        assert peak - base <= 6, "threads grew from %d to %d" % (base, peak)
        assert conns <= 4
        assert same <= 1
        assert served > 0
        t.wait_log(r"NOTIFY from super-primary sp: \d+ dropped", timeout=15)
        # The other super-primary's zone, while sp's checks still wait in their queue.
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.2", 0))
            s.sendto(notify_wire(real), (t.addr, t.port))
        finally:
            s.close()
        xfr.wait_serial(t, real, 1, timeout=15)
