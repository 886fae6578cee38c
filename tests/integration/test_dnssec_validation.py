"""test_dnssec_validation.py -- Tandem's DNSSEC answers, judged by validators that are not ours: delv (BIND 9),
unbound-host (libunbound) and a running Unbound resolver (RFC 4035 3.1, RFC 5155 7.2).

The zones are signed here with BIND's dnssec-keygen and dnssec-signzone (ECDSA P-256, algorithm 13):

- sec.test. with NSEC, sec3.test. with NSEC3 (no salt, 0 extra iterations, no opt-out), the same names in
  each: an A/AAAA owner, a CNAME, a name under an empty non-terminal, a wildcard, a secure delegation (a
  signed child served too, its DS in the parent) and an insecure one (an unsigned child served too, no DS);
- bad.test., signed with NSEC, then one record changed in the signed file: its RRSIG no longer verifies.

Each server serves all of them on loopback, and each validator gets the three zones' key-signing keys as
trust anchors and nothing else. For every case the validator must reach the expected verdict: a positive
answer, a CNAME, a wildcard answer and the DS of the secure child "fully validated" (AD=1 from Unbound);
NXDOMAIN, NODATA (at a name, at an empty non-terminal, at a wildcard, the DS of the insecure child) proven
by NSEC/NSEC3; the insecure child's answer proven insecure (not bogus); and the tampered record bogus
(SERVFAIL from Unbound), after checking that the server does send its RRSIG, so that the failure is the
validator's doing.

They are signed by a small helper here rather than by dnssec_zones.py, whose zones are fixed files: these
tests need children served by the same server (so that a validator reaches them without following a
referral to port 53) and a tampered copy.

Knot DNS serves the same files as the reference: every check passes against it, which shows the zones,
the anchors and the validators' configurations are right; a Tandem failure is then Tandem's.
"""

import re
import shutil
import subprocess

import dns.rdatatype
import pytest

from harness import Knot, Tandem, Zone
from harness import dnsq
from harness.resolvers import (UNBOUND, Anchor, Unbound, delv, have, unbound_host, write_bind_anchors,
                               write_unbound_host_conf)

SIGNER = ("dnssec-keygen", "dnssec-signzone")
pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in SIGNER),
                                reason="dnssec-keygen/dnssec-signzone missing (bind9-utils)")

ALG = "ECDSAP256SHA256"


# ---- signing (a small private helper: BIND's tools, keys in the test's folder)

def _run(argv, cwd):
    p = subprocess.run([str(a) for a in argv], cwd=str(cwd), capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(map(str, argv)), p.returncode, p.stdout, p.stderr))
    return p.stdout


class Signed:
    """A zone signed here: the signed file, the KSK as a trust anchor, the DS lines for the parent."""

    def __init__(self, zone, path, anchor, ds):
        self.zone, self.path, self.anchor, self.ds = zone, path, anchor, ds


def sign(workdir, zone, text, nsec3=False):
    """Writes the zone, makes a KSK and a ZSK, signs (one record per line, full names) and returns Signed."""
    d = workdir / ("sign-" + zone.rstrip("."))
    d.mkdir(parents=True, exist_ok=True)
    src = d / "unsigned.zone"
    src.write_text(text)
    ksk = _run(["dnssec-keygen", "-q", "-a", ALG, "-f", "KSK", "-K", d, zone], d).strip()
    _run(["dnssec-keygen", "-q", "-a", ALG, "-K", d, zone], d)
    out = d / "signed.zone"
    argv = ["dnssec-signzone", "-q", "-S", "-K", d, "-d", d, "-O", "full", "-o", zone, "-f", out]
    if nsec3:
        argv += ["-3", "-", "-H", "0"]
    _run(argv + [src], d)
    key = [x for x in (d / (ksk + ".key")).read_text().splitlines() if x and not x.startswith(";")][0]
    anchor = Anchor(zone, " ".join(key.split()[3:]))   # "zone IN DNSKEY 257 3 13 base64..."
    ds = [x for x in (d / ("dsset-" + zone)).read_text().splitlines() if x.strip()]
    return Signed(zone, out, anchor, ds)


def _child_text(zone, addr_last):
    return "\n".join(["$ORIGIN %s" % zone, "$TTL 3600",
                      "@ SOA ns hostmaster 1 3600 600 604800 300",
                      "@ NS ns",
                      "ns A 127.0.0.1",
                      "www A 192.0.2.%d" % addr_last]) + "\n"


def _parent_text(zone, ds_lines):
    """The parent: every case of the tests has its owner here."""
    return "\n".join(["$ORIGIN %s" % zone, "$TTL 3600",
                      "@ SOA ns1 hostmaster 1 3600 600 604800 300",
                      "@ NS ns1",
                      "@ MX 10 mail",
                      "ns1 A 127.0.0.1",
                      "mail A 192.0.2.25",
                      "www A 192.0.2.80",
                      "www AAAA 2001:db8::80",
                      "alias CNAME www",
                      "host.ent A 192.0.2.90",            # ent.ZONE is an empty non-terminal
                      "*.wild A 192.0.2.81",
                      '*.wild TXT "wildcard"',
                      "insecure NS ns.insecure",          # an unsigned child: no DS
                      "ns.insecure A 127.0.0.1",
                      "secure NS ns.secure",              # a signed child: DS below
                      "ns.secure A 127.0.0.1"] + ds_lines) + "\n"


PARENTS = (("nsec", "sec.test."), ("nsec3", "sec3.test."))
BAD = "bad.test."


class Case:
    def __init__(self, flavour, label, qname, rdtype, want, root):
        self.flavour, self.label, self.qname, self.rdtype, self.want, self.root = \
            flavour, label, qname, rdtype, want, root

    @property
    def id(self):
        return "%s-%s" % (self.flavour, self.label)


def _cases():
    out = []
    for flavour, z in PARENTS:
        for label, qname, rdtype, want in (
                ("positive", "www." + z, "A", "secure"),
                ("apex-dnskey", z, "DNSKEY", "secure"),
                ("apex-mx", z, "MX", "secure"),
                ("cname", "alias." + z, "A", "secure"),
                ("nxdomain", "nx." + z, "A", "secure nxdomain"),
                ("nxdomain-below-a-name", "x.www." + z, "AAAA", "secure nxdomain"),
                ("nodata", "www." + z, "TXT", "secure nodata"),
                ("nodata-empty-non-terminal", "ent." + z, "A", "secure nodata"),
                ("wildcard", "host.wild." + z, "A", "secure"),
                ("wildcard-nodata", "host.wild." + z, "MX", "secure nodata"),
                ("ds-of-secure-child", "secure." + z, "DS", "secure"),
                ("secure-delegation", "www.secure." + z, "A", "secure"),
                ("no-ds-of-insecure-child", "insecure." + z, "DS", "secure nodata"),
                ("insecure-delegation", "www.insecure." + z, "A", "insecure")):
            out.append(Case(flavour, label, qname, rdtype, want, z))
    out.append(Case("nsec", "tampered-record-is-bogus", "www." + BAD, "A", "bogus", BAD))
    return out


CASES = _cases()


class Signing:
    """Everything signed once per module: the Zone list every server serves, and the trust anchors."""

    def __init__(self, tmp):
        self.zones, self.anchors = [], []
        for flavour, z in PARENTS:
            nsec3 = flavour == "nsec3"
            child = sign(tmp, "secure." + z, _child_text("secure." + z, 101), nsec3=nsec3)
            parent = sign(tmp, z, _parent_text(z, child.ds), nsec3=nsec3)
            insecure = tmp / ("insecure." + z + "zone")
            insecure.write_text(_child_text("insecure." + z, 100))
            self.zones += [Zone(z, parent.path), Zone("secure." + z, child.path), Zone("insecure." + z, insecure)]
            self.anchors.append(parent.anchor)
        bad = sign(tmp, BAD, _child_text(BAD, 80))
        # The record changed after signing: its RRSIG (kept) no longer matches.
        text, n = re.subn(r"(?m)^(www\.bad\.test\.\s+\d+\s+IN\s+A\s+)192\.0\.2\.80$", r"\g<1>192.0.2.66",
                          bad.path.read_text())
        assert n == 1, "the signed bad.test. file is not as expected:\n" + text
        bad.path.write_text(text)
        self.zones.append(Zone(BAD, bad.path))
        self.anchors.append(bad.anchor)
        self.anchor_file = write_bind_anchors(tmp / "anchors.conf", self.anchors)


@pytest.fixture(scope="module")
def signing(tmp_path_factory):
    return Signing(tmp_path_factory.mktemp("signing"))


@pytest.fixture(scope="module", params=["knot", "tandem"])
def server(request, signing, tmp_path_factory):
    """Knot (the reference: every check must pass against it) or Tandem, serving every zone signed here."""
    cls = {"knot": Knot, "tandem": Tandem}[request.param]
    if not shutil.which(str(cls.binary)):
        pytest.skip("%s is not installed" % cls.binary)
    s = cls(tmp_path_factory.mktemp(request.param), signing.zones).serve()
    yield s
    s.stop()


def _stubs(server):
    return {z: (server.addr, server.port) for z in [z for _, z in PARENTS] + [BAD]}


@pytest.fixture(scope="module")
def unbound(server, signing, tmp_path_factory):
    if not have(UNBOUND):
        pytest.skip("unbound is not installed")
    u = Unbound(tmp_path_factory.mktemp("unbound-" + server.kind), _stubs(server), signing.anchors).serve()
    yield u
    u.stop()


@pytest.fixture(scope="module")
def unbound_host_conf(server, signing, tmp_path_factory):
    if not have("unbound-host"):
        pytest.skip("unbound-host is not installed")
    return write_unbound_host_conf(tmp_path_factory.mktemp("ubhost-" + server.kind) / "unbound.conf",
                                   _stubs(server), signing.anchors)


def _tampered_record_is_signed(server, case):
    """For the bogus case: the server must send the record with its RRSIG; a resolver that fails on a
    record without any RRSIG proves nothing about validation."""
    if case.want != "bogus":
        return
    r = dnsq.ask(server, case.qname, case.rdtype, do=True)
    covered = [rd.type_covered for rr in r.answer if rr.rdtype == dns.rdatatype.RRSIG for rd in rr]
    assert dns.rdatatype.from_text(case.rdtype) in covered, \
        "%s sends no RRSIG with %s %s (DO set): %s\n%s" % (server.kind, case.qname, case.rdtype, dnsq.sig(r),
                                                           r.to_text())


def _show(server, case):
    """The server's own answer with DO, for a failure message."""
    try:
        r = dnsq.ask(server, case.qname, case.rdtype, do=True)
        return "%s's own answer (DO):\n%s" % (server.kind, r.to_text())
    except Exception as e:
        return "%s's own answer: %r" % (server.kind, e)


@pytest.mark.skipif(not have("delv"), reason="delv is not installed (bind9-dnsutils)")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_delv(server, signing, case):
    """delv, with the zone's KSK as its only trust anchor, asks the server everything it needs."""
    _tampered_record_is_signed(server, case)
    verdict, out = delv(server, case.qname, case.rdtype, signing.anchor_file, case.root)
    assert verdict == case.want, "delv %s %s against %s: %s, wanted %s\n%s\n%s" % (
        case.qname, case.rdtype, server.kind, verdict, case.want, out, _show(server, case))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_unbound_host(server, unbound_host_conf, case):
    """unbound-host (libunbound) with stub zones to the server and the trust anchors."""
    _tampered_record_is_signed(server, case)
    verdict, out = unbound_host(unbound_host_conf, case.qname, case.rdtype)
    assert verdict == case.want, "unbound-host %s %s against %s: %s, wanted %s\n%s\n%s" % (
        case.qname, case.rdtype, server.kind, verdict, case.want, out, _show(server, case))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_unbound_resolver(server, unbound, case):
    """A running Unbound validating resolver: AD=1 for what is secure, AD=0 for the insecure child,
    SERVFAIL for the tampered record."""
    _tampered_record_is_signed(server, case)
    verdict, r = unbound.verdict(case.qname, case.rdtype)
    # (the resolver's log, with its reason for a SERVFAIL, is added to the report by conftest.py)
    assert verdict == case.want, "unbound resolver, %s %s through %s: %s, wanted %s\n%s\n%s" % (
        case.qname, case.rdtype, server.kind, verdict, case.want, r and r.to_text(), _show(server, case))
    if case.want == "bogus":    # a SERVFAIL for the reason wanted, not a server that did not answer
        unbound.wait_log(r"validation failure <%s %s IN>: signature crypto failed"
                         % (re.escape(case.qname), case.rdtype), timeout=5.0)
    if case.want == "secure":   # the data itself came through
        t = dns.rdatatype.from_text(case.rdtype)
        assert any(rr.rdtype == t for rr in r.answer), r.to_text()
