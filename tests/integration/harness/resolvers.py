"""harness/resolvers.py -- validating clients for the DNSSEC tests: delv (BIND 9), unbound-host (libunbound)
and a real Unbound daemon, each given only the test zones' trust anchors and sending every query to a server
of ours on loopback.

Nothing here reaches past 127.0.0.1:

- delv sends all its queries (the question, then the DNSKEY and DS lookups of the chain of trust) to the one
  server named with @ADDR -p PORT, and validates from the anchor chosen with +root=ZONE in an -a file;
- unbound-host and the Unbound daemon get a configuration with a stub-zone per test zone pointing at our
  server, `do-not-query-localhost: no` (Unbound refuses to query loopback otherwise), `do-ip6: no`, a
  trust-anchor per test zone, and `local-zone: "." refuse` with the test zones `transparent`: any question
  outside the test zones is refused by the resolver itself. Belt and braces: queries leave from 127.0.0.1
  (`outgoing-interface`), and the root hints name only 127.0.0.127, where nothing listens.

Verdicts are one short string, the same for every tool, so a test compares them with an expectation:
"secure", "secure nxdomain", "secure nodata", "insecure" (also "insecure nxdomain" / "insecure nodata"),
"bogus", or "failed: ..." with the tool's own words.
"""

import re
import shutil
import subprocess
from pathlib import Path

import dns.flags
import dns.rcode
import dns.rdatatype

from . import dnsq
from .servers import Server

DELV = "delv"
UNBOUND_HOST = "unbound-host"
UNBOUND = "/usr/sbin/unbound"


def have(tool):
    return bool(shutil.which(tool))


class Anchor:
    """A trust anchor: a zone and its key-signing DNSKEY as "FLAGS PROTOCOL ALGORITHM BASE64"."""

    def __init__(self, zone, dnskey):
        self.zone = zone if zone.endswith(".") else zone + "."
        fields = dnskey.split()
        self.flags, self.protocol, self.algorithm = int(fields[0]), int(fields[1]), int(fields[2])
        self.key = "".join(fields[3:])

    @classmethod
    def from_rrset(cls, rrset):
        """The first secure entry point (flags 257) of a DNSKEY RRset (dnspython), e.g. as a server answers
        it."""
        for rd in rrset:
            if rd.flags & 1:
                return cls(rrset.name.to_text(), rd.to_text())
        raise ValueError("no DNSKEY with the SEP flag in %s" % rrset)

    @classmethod
    def from_server(cls, server, zone):
        """The zone's KSK as the server answers its DNSKEY query (over TCP: the RRset may be large)."""
        r = dnsq.ask(server, zone, "DNSKEY", tcp=True, do=True)
        rrset = dnsq.get_rrset(r.answer, zone, "DNSKEY")
        if rrset is None:
            raise AssertionError("%s answers no DNSKEY for %s: %s" % (server.kind, zone, dnsq.sig(r)))
        return cls.from_rrset(rrset)

    def unbound_line(self):
        return '"%s DNSKEY %d %d %d %s"' % (self.zone, self.flags, self.protocol, self.algorithm, self.key)

    def bind_line(self):
        return '%s static-key %d %d %d "%s";' % (self.zone, self.flags, self.protocol, self.algorithm, self.key)

    def __repr__(self):
        return "Anchor(%s %d %d)" % (self.zone, self.flags, self.algorithm)


def write_bind_anchors(path, anchors):
    """A named.conf-style trust-anchors file, as delv -a reads it."""
    path = Path(path)
    path.write_text("trust-anchors {\n%s\n};\n" % "\n".join("    " + a.bind_line() for a in anchors))
    return path


# Root hints that lead nowhere but loopback: should the resolver ever look past the stub zones (it has no
# reason to), it asks 127.0.0.127@53, where nothing listens, and never a real root server.
ROOT_HINTS = ".  3600000 IN NS a.root.invalid.\na.root.invalid.  3600000 IN A 127.0.0.127\n"


def unbound_conf_lines(stubs, anchors, folder, extra=()):
    """The resolver part of an unbound.conf (server: options after the caller's, then stub zones).

    stubs: {zone: (addr, port)}; the root hints file is written in folder. Also used by unbound-host (-C),
    which ignores what does not concern it."""
    hints = Path(folder) / "root.hints"
    hints.write_text(ROOT_HINTS)
    lines = ["    do-ip6: no",
             "    outgoing-interface: 127.0.0.1",
             "    root-hints: \"%s\"" % hints,
             "    do-not-query-localhost: no",
             "    trust-anchor-signaling: no",
             "    root-key-sentinel: no",
             "    val-log-level: 2",
             "    local-zone: \".\" refuse"]
    lines += ["    local-zone: \"%s\" transparent" % z for z in stubs]
    lines += ["    trust-anchor: %s" % a.unbound_line() for a in anchors]
    lines += list(extra)
    for zone, (addr, port) in stubs.items():
        lines += ["stub-zone:", "    name: \"%s\"" % zone, "    stub-addr: %s@%d" % (addr, port)]
    return lines


# ---- delv

def delv(server, qname, rdtype, anchor_file, root, tcp=False, timeout=30.0):
    """Runs delv against the server; returns (verdict, output)."""
    argv = [DELV, "@%s" % server.addr, "-p", str(server.port), "-a", str(anchor_file), "+root=%s" % root]
    argv += ["+tcp"] if tcp else []
    argv += [qname, rdtype]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return "failed: delv did not finish within %.0fs" % timeout, str(e.stdout or "")
    out = (p.stdout or "") + (p.stderr or "")
    return delv_verdict(out), out


def delv_verdict(out):
    negative = "nxdomain" if ";-$NXDOMAIN" in out else "nodata" if ";-$NXRRSET" in out else None
    if "; negative response, fully validated" in out:
        return "secure %s" % negative
    if "; fully validated" in out:
        return "secure"
    if "; negative response, unsigned answer" in out:
        return "insecure %s" % negative
    if "; unsigned answer" in out:
        return "insecure"
    m = re.search(r";; resolution failed: (.*)", out)
    if m and "RRSIG failed to verify" in out:   # a signature present, checked, and wrong
        return "bogus"
    return "failed: %s" % (m.group(1) if m else (out.strip().splitlines() or ["no output"])[-1])


# ---- unbound-host

def unbound_host(conf, qname, rdtype, timeout=30.0):
    """Runs unbound-host -C conf -v; returns (verdict, output)."""
    argv = [UNBOUND_HOST, "-C", str(conf), "-v", "-t", rdtype, qname]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return "failed: unbound-host did not finish within %.0fs" % timeout, str(e.stdout or "")
    out = (p.stdout or "") + (p.stderr or "")
    return unbound_host_verdict(out, rdtype), out


def unbound_host_verdict(out, rdtype):
    lines = [x for x in out.splitlines() if "libunbound[" not in x]
    text = "\n".join(lines)
    if "(BOGUS" in text:
        return "bogus"
    if re.search(r"not found: 3\(NXDOMAIN\)\. \(secure\)", text):
        return "secure nxdomain"
    if re.search(r"not found: 3\(NXDOMAIN\)\. \(insecure\)", text):
        return "insecure nxdomain"
    # NODATA: "NAME has no TYPE record", or in words for some ("has no address", "has no mail handler record")
    if re.search(r" has no [^()]+ \(secure\)", text):
        return "secure nodata"
    if re.search(r" has no [^()]+ \(insecure\)", text):
        return "insecure nodata"
    if "(secure)" in text and "not found" not in text:
        return "secure"
    if "(insecure)" in text and "not found" not in text:
        return "insecure"
    return "failed: %s" % (lines[-1] if lines else "no output")


def write_unbound_host_conf(path, stubs, anchors):
    """A configuration for unbound-host -C: the resolver lines only (libunbound runs no server)."""
    path = Path(path)
    path.write_text("\n".join(["server:", "    verbosity: 0", "    use-syslog: no"]
                              + unbound_conf_lines(stubs, anchors, path.parent)) + "\n")
    return path


# ---- the Unbound daemon

class Unbound(Server):
    """unbound in the foreground (-d), validating, on a free loopback port, with stub zones to our servers
    and the test zones' trust anchors only. stubs: {zone: (addr, port)}; anchors: [Anchor]."""

    kind = "unbound"
    binary = Path(UNBOUND)

    def __init__(self, workdir, stubs, anchors, extra=(), **kw):
        super().__init__(workdir, [], **kw)
        self.stubs = dict(stubs)
        self.anchors = list(anchors)
        self.extra = list(extra)

    def write_config(self):
        d = self.dir
        lines = ["server:",
                 "    interface: %s" % self.addr,
                 "    port: %d" % self.port,
                 "    num-threads: 1",
                 "    username: \"\"",
                 "    chroot: \"\"",
                 "    directory: \"%s\"" % d,
                 "    pidfile: \"%s\"" % (d / "unbound.pid"),
                 "    use-syslog: no",
                 "    logfile: \"\"",
                 "    log-time-ascii: yes",
                 "    verbosity: 1",
                 "    access-control: 127.0.0.0/8 allow"]
        lines += unbound_conf_lines(self.stubs, self.anchors, d, self.extra)
        lines += ["remote-control:", "    control-enable: no"]
        path = d / "unbound.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def argv(self):
        return [self.binary, "-d", "-c", self.conf_path]

    def ready_check(self, timeout=0.5):
        """Unbound answers `localhost. A` from its built-in local zone: up without asking anyone."""
        r = dnsq.ask(self, "localhost.", "A", timeout=timeout, rd=True)
        return r.rcode() == dns.rcode.NOERROR

    def ask(self, qname, rdtype, timeout=10.0):
        """A recursive question with DO, as a validating stub would ask it; the response Message."""
        return dnsq.ask(self, qname, rdtype, timeout=timeout, rd=True, do=True)

    def verdict(self, qname, rdtype, timeout=10.0):
        """(verdict, response): "secure..." when AD is set, "insecure..." when not, "bogus" on SERVFAIL."""
        try:
            r = self.ask(qname, rdtype, timeout)
        except Exception as e:  # a timeout
            return "failed: %r" % e, None
        return message_verdict(r, qname, rdtype), r


def message_verdict(r, qname, rdtype):
    """The verdict a validating resolver's answer carries: AD for secure, SERVFAIL for bogus."""
    rc = r.rcode()
    if rc == dns.rcode.SERVFAIL:
        return "bogus"
    sec = "secure" if r.flags & dns.flags.AD else "insecure"
    if rc == dns.rcode.NXDOMAIN:
        return sec + " nxdomain"
    if rc != dns.rcode.NOERROR:
        return "failed: rcode %s" % dns.rcode.to_text(rc)
    t = dns.rdatatype.from_text(rdtype)
    if any(rr.rdtype == t for rr in r.answer):
        return sec
    return sec + " nodata"
