"""test_roles.py -- a zone changes role at run time (SPEC.md "Replication"): a secondary promoted to
primary keeps its data and its journal; a primary turned into a secondary of another server keeps
serving and follows its new primary. Two tandemd, 127.0.0.1 and 127.0.0.2, driven by config reloads."""

import os
import signal
import subprocess
import time

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.update
import pytest

from harness import BUILD, stop_process
from harness.ports import free_port

ZONE = """$ORIGIN roles.test.
$TTL 300
@ SOA ns1 hostmaster {serial} 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.{www}
"""


class Daemon:
    """One tandemd on addr@port in its own folder, reconfigured by rewriting its file and SIGHUP."""

    def __init__(self, tmp, name, addr):
        self.dir = tmp / name
        self.dir.mkdir()
        self.addr, self.port = addr, free_port(host=addr)
        self.proc = None
        self.log = self.dir / "log"
        self.env = {}   # more environment for the next start (a pause point)

    def configure(self, zone_block, extra=""):
        (self.dir / "t.yaml").write_text(
            "server:\n  listen: [%s@%d]\n  source-address: %s\n  data-dir: var\n  workers: 1\n"
            "%s%s" % (self.addr, self.port, self.addr, extra, zone_block))

    def start(self):
        self.proc = subprocess.Popen([str(BUILD / "tandemd"), "-c", "t.yaml"], cwd=self.dir,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "a"),
                                     env=dict(os.environ, **self.env))

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            stop_process(self.proc, 5)

    def ask(self, name, rdtype="A"):
        q = dns.message.make_query(name, rdtype)
        return dns.query.udp(q, self.addr, port=self.port, timeout=1)

    def serial(self):
        try:
            r = self.ask("roles.test.", "SOA")
        except Exception:
            return None
        if r.rcode() != dns.rcode.NOERROR or not r.answer:
            return None
        return r.answer[0][0].serial

    def wait_serial(self, want, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.serial() == want:
                return True
            time.sleep(0.05)
        return False

    def logged(self, text):
        return text in self.log.read_text()

    def wait_logged(self, text, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.logged(text):
            time.sleep(0.05)
        return self.logged(text)


@pytest.fixture
def pair(tmp_path):
    a, b = Daemon(tmp_path, "a", "127.0.0.1"), Daemon(tmp_path, "b", "127.0.0.2")
    yield a, b
    a.stop()
    b.stop()


def primary_block(peer, with_file=True):
    return ("remotes:\n  - name: peer\n    address: [%s@%d]\n"
            "acls:\n  - name: peer\n    address: [%s]\n    allow: [transfer, notify]\n"
            "zones:\n  - name: roles.test.\n    type: primary\n%s    notify: [peer]\n    acl: [peer]\n"
            % (peer.addr, peer.port, peer.addr, "    file: roles.zone\n" if with_file else ""))


def secondary_block(peer):
    return ("remotes:\n  - name: peer\n    address: [%s@%d]\n"
            "acls:\n  - name: peer\n    address: [%s]\n    allow: [transfer, notify]\n"
            "zones:\n  - name: roles.test.\n    type: secondary\n    primaries: [peer]\n    acl: [peer]\n"
            % (peer.addr, peer.port, peer.addr))


def one_change(a, b):
    """A primary of roles.test. (serial 10, from its file) and B its secondary, started; then one change on A
    (serial 11) that B takes by IXFR."""
    (a.dir / "roles.zone").write_text(ZONE.format(serial=10, www=10))
    a.configure(primary_block(b))
    b.configure(secondary_block(a))
    a.start()
    b.start()
    assert b.wait_serial(10), b.log.read_text()
    (a.dir / "roles.zone").write_text(ZONE.format(serial=11, www=11))
    a.reload()
    assert b.wait_serial(11), b.log.read_text()


def test_promote_secondary_and_demote_primary(pair):
    a, b = pair
    one_change(a, b)
    assert b.logged("IXFR from 127.0.0.1")

    # The operator swaps roles: B becomes the primary (no file: it keeps what it holds), A becomes
    # B's secondary. Neither restarts.
    b.configure(primary_block(a, with_file=False))
    b.reload()
    a.configure(secondary_block(b))
    a.reload()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (b.logged("now primary, keeping serial 11") and
                                                 a.logged("now secondary of peer")):
        time.sleep(0.05)
    assert b.logged("now primary, keeping serial 11"), b.log.read_text()
    assert a.logged("now secondary of peer"), a.log.read_text()
    # Both still answer the same data, with the same serial.
    assert b.ask("www.roles.test.").answer[0][0].address == "192.0.2.11"
    assert a.ask("www.roles.test.").answer[0][0].address == "192.0.2.11"
    assert a.wait_serial(11) and b.wait_serial(11)
    # A, now a secondary, checks B and finds itself up to date (no transfer needed).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "up to date" not in a.log.read_text():
        time.sleep(0.05)
    assert "up to date" in a.log.read_text()
    # B's journal came with it: A asking B for IXFR from 10 gets the change, not a whole zone.
    q = dns.message.make_query("roles.test.", "IXFR")
    q.authority = [dns.rrset.from_text("roles.test.", 300, "IN", "SOA",
                                       "ns1.roles.test. hostmaster.roles.test. 10 3600 600 86400 300")]
    r = dns.query.tcp(q, b.addr, port=b.port, timeout=2, source="127.0.0.1", one_rr_per_rrset=True)
    types = [rrset.rdtype for rrset in r.answer]
    # An incremental answer: SOA(11) SOA(10) ... SOA(11) ... SOA(11) -- more than two SOAs.
    assert types.count(dns.rdatatype.SOA) >= 3, r


def test_a_secondary_promoted_during_its_compaction_loses_nothing(pair):
    """A zone's journal is folded into its stored contents by a secondary's refresh, and by
    runtime/zonework.c's thread for a primary; a role change can have one of each running for the same zone,
    and two at once would write the same rows of the store (the second one's start clearing what the first
    one staged; the first then making the second's rows current, the second dropping them as stale). Here
    every compaction pauses 6 s once its rows are staged (TANDEM_PAUSE_AT=store-compact-staged:6): B, a
    secondary, compacts after an IXFR; meanwhile it is promoted (SIGHUP) and takes an UPDATE, whose compaction
    must wait for the first one (the zone's compaction lock) and then ask again whether it is due. After a
    restart B serves every record once, the UPDATE's included, at its serial."""
    a, b = pair
    b.env = {"TANDEM_PAUSE_AT": "store-compact-staged:6"}
    one_change(a, b)
    assert b.wait_logged("pause point store-compact-staged reached"), b.log.read_text()
    # Promoted while its compaction is paused, with an UPDATE ACL for this address.
    b.configure(primary_block(a, with_file=False).replace("allow: [transfer, notify]",
                                                          "allow: [transfer, notify, update]"))
    b.reload()
    assert b.wait_logged("now primary, keeping serial 11"), b.log.read_text()
    up = dns.update.UpdateMessage("roles.test.")
    up.add("added.roles.test.", 300, "A", "192.0.2.99")
    r = dns.query.tcp(up, b.addr, port=b.port, timeout=5, source=a.addr)   # the ACL names A
    assert r.rcode() == dns.rcode.NOERROR, r
    assert b.wait_serial(12)
    # The refresh's compaction (serial 11) ends, then the primary's (serial 12) runs and ends.
    assert b.wait_logged("changes folded into the contents at serial 12", 40), b.log.read_text()
    assert "folding the journal into the contents failed" not in b.log.read_text(), b.log.read_text()
    b.stop()
    b.env = {}
    b.start()
    assert b.wait_serial(12), b.log.read_text()
    rrs = [(rr.name.to_text(), rr.rdtype, rd.to_text())
           for m in dns.query.xfr(b.addr, "roles.test.", port=b.port, timeout=5, source=a.addr, relativize=False)
           for rr in m.answer for rd in rr]
    soa = [x for x in rrs if x[1] == dns.rdatatype.SOA]
    rest = sorted(x for x in rrs if x[1] != dns.rdatatype.SOA)
    assert len(soa) == 2 and " 12 " in soa[0][2], rrs
    assert rest == sorted([("roles.test.", dns.rdatatype.NS, "ns1.roles.test."),
                           ("ns1.roles.test.", dns.rdatatype.A, "192.0.2.1"),
                           ("www.roles.test.", dns.rdatatype.A, "192.0.2.11"),
                           ("added.roles.test.", dns.rdatatype.A, "192.0.2.99")]), rrs
