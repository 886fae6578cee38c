"""test_roles.py -- a zone changes role at run time (SPEC.md "Replication"): a secondary promoted to
primary keeps its data and its journal; a primary turned into a secondary of another server keeps
serving and follows its new primary. Two tandemd, 127.0.0.1 and 127.0.0.2, driven by config reloads."""

import signal
import subprocess
import time

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
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

    def configure(self, zone_block, extra=""):
        (self.dir / "t.yaml").write_text(
            "server:\n  listen: [%s@%d]\n  source-address: %s\n  data-dir: var\n  workers: 1\n"
            "%s%s" % (self.addr, self.port, self.addr, extra, zone_block))

    def start(self):
        self.proc = subprocess.Popen([str(BUILD / "tandemd"), "-c", "t.yaml"], cwd=self.dir,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))

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


def test_promote_secondary_and_demote_primary(pair):
    a, b = pair
    (a.dir / "roles.zone").write_text(ZONE.format(serial=10, www=10))
    a.configure(primary_block(b))
    b.configure(secondary_block(a))
    a.start()
    b.start()
    assert b.wait_serial(10), b.log.read_text()
    (a.dir / "roles.zone").write_text(ZONE.format(serial=11, www=11))
    a.reload()
    assert b.wait_serial(11), b.log.read_text()
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
