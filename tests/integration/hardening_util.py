"""hardening_util.py -- what the hardening tests (issue 8) measure on a running server, and the zone they
serve: the process's RSS, CPU seconds, threads and descriptors read from /proc, a zone with large answers
and many records, and a server started under a given RLIMIT_NOFILE."""

import os
import socket
import struct
import time

import dns.message
import dns.rcode
import dns.rdatatype

from harness import Tandem, Zone
from harness import dnsq
from harness.xfr import zone_text

ZONE = "hard.test."
CLK_TCK = os.sysconf("SC_CLK_TCK")


def hard_zone(path, hosts=2000):
    """hard.test.: `big` has a 2 KiB TXT RRset, `huge` one of about 60 KiB (a whole TCP message),
    and `hosts` A records make the AXFR long enough to fill the kernel's socket buffers."""
    big = ['big TXT "%s"' % (chr(ord("a") + i) * 250) for i in range(8)]
    huge = ['huge TXT "%03d%s"' % (i, "x" * 250) for i in range(230)]
    path.write_text(zone_text(ZONE, 1, extra=big + huge, hosts=hosts))
    return Zone(ZONE, source=path)


def status(pid, field):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(field + ":"):
            return line.split()[1]
    raise KeyError(field)


def rss_kib(pid):
    return int(status(pid, "VmRSS"))


def rss_mb(pid):
    return rss_kib(pid) / 1024.0


def threads(pid):
    return int(status(pid, "Threads"))


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def cpu_seconds(pid):
    """User and system CPU time the process used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def answered(server, qname="www." + ZONE, tcp=False, addr=None, timeout=1.0):
    """True when the server answers a query NOERROR within timeout."""
    try:
        r = dnsq.ask(server, qname, "A", tcp=tcp, timeout=timeout, addr=addr)
    except Exception:
        return False
    return r.rcode() == dns.rcode.NOERROR and bool(r.answer)


def frame(msg):
    return struct.pack("!H", len(msg)) + msg


def query_wire(qname, rdtype="A", qid=1):
    return dnsq.make(qname, rdtype, qid=qid).to_wire()


def connect(server, source=None, rcvbuf=None, timeout=2.0):
    """A TCP connection to the server, from a chosen 127/8 source address, with a small receive buffer
    when asked (so that the kernel holds few of the answers a client does not read)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source:
        s.bind((source, 0))
    s.settimeout(timeout)
    s.connect((server.addr, server.port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def wait_until(cond, timeout, interval=0.05):
    """Polls cond() until it is true (returns True) or timeout seconds pass (returns False)."""
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class LimitedTandem(Tandem):
    """tandemd started through prlimit(1) with RLIMIT_NOFILE soft:hard, as a service manager would."""

    def __init__(self, workdir, zone_list, nofile=(1024, 1024), **kw):
        super().__init__(workdir, zone_list, **kw)
        self.nofile = nofile

    def argv(self):
        return ["prlimit", "--nofile=%d:%d" % self.nofile, "--"] + super().argv()


def raw_axfr(server, zone, source=None, timeout=20.0):
    """An AXFR read as fast as the socket gives it (no parsing on the way, unlike dnspython): returns
    (messages, records, last message parsed). The server closes the connection after the last one."""
    s = connect(server, source=source, timeout=timeout)
    try:
        s.sendall(frame(query_wire(zone, "AXFR", qid=7)))
        buf, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    messages, records, off, last = 0, 0, 0, None
    while off + 2 <= len(buf):
        n = struct.unpack("!H", buf[off:off + 2])[0]
        if off + 2 + n > len(buf):
            break
        msg = buf[off + 2:off + 2 + n]
        messages += 1
        records += struct.unpack("!H", msg[6:8])[0]
        last = msg
        off += 2 + n
    return messages, records, dns.message.from_wire(last) if last else None
