"""dnssec_zones.py -- the signed zones of the DNSSEC tests, signed at test time.

The unsigned sources are in tests/data/zones/dnssec/ (each owner commented with the rule it exists for).
sign_all(folder) signs every zone there with BIND's dnssec-keygen and dnssec-signzone (Debian package
bind9-utils): ECDSAP256SHA256 (algorithm 13), one KSK and one ZSK per zone, the DNSKEY RRset (and CDS and
CDNSKEY) signed by the KSK only (-x), everything else by the ZSK, signatures valid from an hour ago for
30 days, NSEC or NSEC3 as each zone's spec says. The keys are new on every call, so signatures and key tags
change from run to run; everything else (owner names, NSEC/NSEC3 chains, hashes, TTLs) is the same.

    from dnssec_zones import sign_all, harness_zones
    signed = sign_all(tmp_path)                    # {"nsec.test.": SignedZone, ...}
    signed["nsec.test."].path                      # the signed zone file, for any server
    signed["nsec.test."].dnskey_text               # "nsec.test. 3600 IN DNSKEY 257 3 13 ..." (the KSK)
    signed["nsec.test."].ds_text                   # "nsec.test. 3600 IN DS 4711 13 2 ..." (its SHA-256 DS)
    bind_trust_anchors(signed.values())            # a trust-anchors { }; clause for delv -a / named
    unbound_trust_anchors(signed.values())         # trust-anchor: lines for unbound.conf
    harness_zones(signed)                          # [harness.Zone(name, source=path), ...]
"""

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import dns.rdatatype
import dns.zone

from harness import ZONES, Zone

SOURCES = ZONES / "dnssec"
KEYGEN = shutil.which("dnssec-keygen") or "/usr/bin/dnssec-keygen"
SIGNZONE = shutil.which("dnssec-signzone") or "/usr/bin/dnssec-signzone"
DSFROMKEY = shutil.which("dnssec-dsfromkey") or "/usr/bin/dnssec-dsfromkey"
ALGORITHM = "ECDSAP256SHA256"   # 13
KEY_TTL = 3600
VALIDITY = ("now-3600", "now+2592000")   # dnssec-signzone -s/-e: an hour ago, 30 days ahead


@dataclass(frozen=True)
class Spec:
    """How one zone is signed. nsec3=None means NSEC; else (iterations, salt hex or "-")."""
    name: str
    source: str
    nsec3: tuple = None
    optout: bool = False
    cds: bool = False            # publish CDS and CDNSKEY for the KSK (RFC 7344)


# The test zones. rules.zone is one body served under three names with three denial methods.
SPECS = (
    Spec("nsec.test.", "rules.zone", cds=True),
    Spec("nsec3.test.", "rules.zone", nsec3=(0, "-"), cds=True),
    Spec("nsec3-salt.test.", "rules.zone", nsec3=(5, "CAFE1234")),
    Spec("nsec3-optout.test.", "nsec3-optout.test.zone", nsec3=(0, "-"), optout=True),
)
ZONE_NAMES = tuple(s.name for s in SPECS)


@dataclass
class SignedZone:
    name: str                    # "nsec.test."
    path: Path                   # the signed zone file (text, absolute owner names)
    dnskey_text: str             # the KSK's DNSKEY record, one line: the trust anchor
    ds_text: str                 # the DS (SHA-256) of that KSK, one line, as the parent would publish it
    spec: Spec = None
    key_tags: dict = field(default_factory=dict)   # {"ksk": 12345, "zsk": 54321}

    @property
    def denial(self):
        """"nsec", "nsec3" or "nsec3-optout"."""
        if self.spec is None or self.spec.nsec3 is None:
            return "nsec"
        return "nsec3-optout" if self.spec.optout else "nsec3"

    def load(self):
        """The signed zone as a dnspython Zone (absolute names)."""
        return dns.zone.from_file(str(self.path), self.name, relativize=False, check_origin=False)


class SigningError(Exception):
    pass


def available():
    """True when BIND's signing tools are installed."""
    return all(Path(p).exists() for p in (KEYGEN, SIGNZONE, DSFROMKEY))


def _run(argv, cwd):
    r = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise SigningError("%s failed (%d):\n%s%s" % (" ".join(map(str, argv)), r.returncode,
                                                        r.stdout, r.stderr))
    return r.stdout


def _record_lines(text):
    """The records of a .key file or dsfromkey output (comments and blank lines dropped)."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith(";")]


def sign_zone(spec, folder, validity=VALIDITY, verify=True):
    """Signs one zone into folder/<name>/ and returns its SignedZone. validity is dnssec-signzone's (-s, -e);
    verify=False skips dnssec-signzone's own check of the result (for zones signed broken on purpose)."""
    work = Path(folder) / spec.name.rstrip(".")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ksk = _run([KEYGEN, "-q", "-K", work, "-a", ALGORITHM, "-L", KEY_TTL, "-n", "ZONE", "-f", "KSK", spec.name],
               work).strip()
    zsk = _run([KEYGEN, "-q", "-K", work, "-a", ALGORITHM, "-L", KEY_TTL, "-n", "ZONE", spec.name], work).strip()
    ksk_rr = _record_lines((work / (ksk + ".key")).read_text())[0]
    zsk_rr = _record_lines((work / (zsk + ".key")).read_text())[0]
    ds_rr = _record_lines(_run([DSFROMKEY, "-T", KEY_TTL, "-2", work / (ksk + ".key")], work))[0]

    # The unsigned input: the source, its DNSKEYs, and CDS/CDNSKEY where the spec asks for them.
    extra = ["", "; added by dnssec_zones.py before signing", ksk_rr, zsk_rr]
    if spec.cds:
        extra.append(_record_lines(_run([DSFROMKEY, "-T", KEY_TTL, "-C", "-2", work / (ksk + ".key")], work))[0])
        extra.append(ksk_rr.replace(" DNSKEY ", " CDNSKEY ", 1))
    unsigned = work / "unsigned.zone"
    unsigned.write_text((SOURCES / spec.source).read_text() + "\n".join(extra) + "\n")

    signed = work / (spec.name.rstrip(".") + ".zone")
    argv = [SIGNZONE, "-q", "-o", spec.name, "-f", signed, "-K", work, "-k", ksk + ".key",
            "-s", validity[0], "-e", validity[1], "-x", "-O", "full"]
    if not verify:
        argv.append("-P")
    if spec.nsec3 is not None:
        iterations, salt = spec.nsec3
        argv += ["-3", salt, "-H", str(iterations)]
        if spec.optout:
            argv.append("-A")
    argv += [unsigned, zsk + ".key"]
    _run(argv, work)
    tags = {"ksk": int(ksk.rsplit("+", 1)[1]), "zsk": int(zsk.rsplit("+", 1)[1])}
    return SignedZone(spec.name, signed, _one_line(ksk_rr), _one_line(ds_rr), spec, tags)


def _one_line(rr):
    return " ".join(rr.split())


def sign_all(folder, names=None):
    """Signs the test zones (all, or those named) into folder: {zone name: SignedZone}, in SPECS order."""
    if not available():
        raise SigningError("dnssec-keygen/dnssec-signzone not found (Debian package bind9-utils)")
    return {s.name: sign_zone(s, folder) for s in SPECS if names is None or s.name in names}


def harness_zones(signed):
    """harness.Zone objects (primary, from the signed files) for the servers of the harness."""
    return [Zone(sz.name, source=sz.path) for sz in signed.values()]


def bind_trust_anchors(signed_zones):
    """A trust-anchors clause (delv -a FILE, named.conf) with each zone's KSK as a static key."""
    lines = ["trust-anchors {"]
    for sz in signed_zones:
        owner, _ttl, _cls, _typ, flags, proto, alg, *key = sz.dnskey_text.split()
        lines.append('    %s static-key %s %s %s "%s";' % (owner, flags, proto, alg, "".join(key)))
    lines.append("};")
    return "\n".join(lines) + "\n"


def unbound_trust_anchors(signed_zones):
    """trust-anchor: lines (unbound.conf server: clause), one DS per zone."""
    return "".join('    trust-anchor: "%s"\n' % sz.ds_text for sz in signed_zones)


def nsec3_owners(signed_zone):
    """The NSEC3 owner names (hashed) of a signed zone, sorted."""
    z = signed_zone.load()
    return sorted(n for n, node in z.nodes.items() if node.get_rdataset(1, dns.rdatatype.NSEC3))


def owners(signed_zone, with_nsec3=False):
    """Every owner name of the signed zone (absolute), without the NSEC3 owners unless asked for."""
    z = signed_zone.load()
    out = []
    for n, node in z.nodes.items():
        if not with_nsec3 and node.get_rdataset(1, dns.rdatatype.NSEC3):
            continue
        out.append(n)
    return sorted(out)


if __name__ == "__main__":   # python3 dnssec_zones.py FOLDER: sign and print what came out
    import sys
    out = sign_all(sys.argv[1] if len(sys.argv) > 1 else "/tmp/dnssec-zones")
    for sz in out.values():
        print(sz.name, sz.denial, sz.path)
        print("   ", sz.ds_text)
