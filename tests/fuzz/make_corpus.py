#!/usr/bin/python3
"""tests/fuzz/make_corpus.py -- writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

    /usr/bin/python3 tests/fuzz/make_corpus.py            # every corpus, written again from scratch
    /usr/bin/python3 tests/fuzz/make_corpus.py query xfr  # only these
    /usr/bin/python3 tests/fuzz/make_corpus.py --sign     # also sign tests/fuzz/data/*.zone again

Each seed is a real input of its target's format (tests/fuzz/fuzz_<target>.c says which): requests,
zone files, catalog records, transfer streams, TSIG-signed messages, configurations, HTTP requests. The
output is the same on every run (fixed IDs, fixed TSIG time), so a rerun changes nothing unless this
script changed. Inputs the fuzzers found and that reproduce a fixed bug are not made here: they are
committed beside these as regressions, named crash-*, and kept when the corpus is written again.

--sign signs the DNSSEC test zones (tests/data/zones/dnssec/, with the keys and settings of
tests/integration/dnssec_zones.py) once more, valid for ten years, into tests/fuzz/data/. Needs
bind9-utils; the committed files make that unnecessary for fuzzing.

Needs python3-dnspython (Debian).
"""

import hashlib
import random
import shutil
import struct
import sys
import tempfile
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.renderer
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import dns.zone

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ZONES = REPO / "tests" / "data" / "zones"
DATA = HERE / "data"
CORPUS = HERE / "corpus"

SIGNED = ("nsec.test.", "nsec3.test.", "nsec3-salt.test.", "nsec3-optout.test.")
FUZZ_NOW = 1700000000           # fuzz_tsig.c's clock
TSIG_SECRET = b"tandem fuzz tsig secret: 32 oct"   # fuzz_tsig.c's keys, one per algorithm
TSIG_ALGS = ("hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512")
XFR_SECRET = b"fuzz transfer key, 32 octets.."    # fuzz_xfr.c's key (xfr-key., hmac-sha256)
API_KEY = "fuzz-api-key-0123456789"               # fuzz_api.c's


def mq(*args, **kw):
    """dns.message.make_query with a fixed ID (its random one would change the seeds on every run)."""
    m = dns.message.make_query(*args, **kw)
    m.id = 0x4242
    return m


def name(text):
    return dns.name.from_text(text)


def load(path, origin):
    return dns.zone.from_file(str(path), origin, relativize=False, check_origin=False)


class Writer:
    """Collects the seeds of one target and writes them (old seeds go, crash-* regressions stay)."""

    def __init__(self, target):
        random.seed(target)   # dnspython shuffles the records of an RRset when it writes them
        self.dir = CORPUS / target
        self.seeds = {}

    def add(self, label, data):
        if isinstance(data, str):
            data = data.encode()
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)[:60]
        digest = hashlib.sha1(data).hexdigest()[:8]
        self.seeds["%s-%s" % (safe, digest)] = data

    def write(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.iterdir():
            if not old.name.startswith("crash-"):
                old.unlink()
        for fname, data in sorted(self.seeds.items()):
            (self.dir / fname).write_bytes(data)
        print("%-9s %3d seeds, %6d octets" % (self.dir.name, len(self.seeds),
                                               sum(len(d) for d in self.seeds.values())))


def frame(messages):
    """Messages with their two-octet lengths, as over TCP."""
    return b"".join(struct.pack("!H", len(m)) + m for m in messages)


# ---- signing (--sign) ----

def sign():
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    import dnssec_zones
    dnssec_zones.VALIDITY = ("now-3600", "now+315360000")   # ten years
    DATA.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for spec in dnssec_zones.SPECS:
            sz = dnssec_zones.sign_zone(spec, tmp)
            text = sz.path.read_text()
            lines = [l for l in text.splitlines() if not l.startswith("; File written on")]
            head = ("; %s -- signed once by tests/fuzz/make_corpus.py --sign (dnssec_zones.py settings, "
                    "valid ten years)\n" % (spec.name.rstrip(".") + ".zone"))
            (DATA / (spec.name.rstrip(".") + ".zone")).write_text(head + "\n".join(lines) + "\n")
            print("signed", spec.name)


# ---- query: requests ----

def query_seeds():
    w = Writer("query")
    com = "example.com."
    plain = [
        ("www", "A"), ("www", "AAAA"), ("www", "TXT"), ("", "SOA"), ("", "NS"), ("", "MX"), ("", "ANY"),
        ("alias1", "A"), ("loop1", "A"), ("self", "CNAME"), ("dangling", "A"), ("out", "A"),
        ("foo.wild", "A"), ("foo.wild", "AAAA"), ("x.sub.wild", "A"), ("host.sub", "AAAA"),
        ("a.b.cwild", "A"), ("x.cwild-chain", "A"), ("q.selfloop", "A"), ("b.c.ent", "A"),
        ("www.dname", "A"), ("chain.dname-in", "A"), ("x.long-dname", "A"), ("child", "DS"),
        ("www.child", "A"), ("www.deleg", "A"), ("deleg", "NS"), ("noglue", "A"), ("mx-deleg", "MX"),
        ("_sip._tcp", "SRV"), ("big", "TXT"), ("nothere", "A"), ("MiXeD.CaSe", "A"), ("x.wild2", "A"),
    ]
    for i, (owner, rdtype) in enumerate(plain):
        qname = (owner + "." if owner else "") + com
        m = mq(qname, rdtype, use_edns=(i % 3 != 0), payload=1232 if i % 2 else 512)
        m.id = (0x4200 | (i % 32))      # low octet: the target's options (tcp, cookies, nsid, ...)
        w.add("q-%s-%s" % (owner or "apex", rdtype), m.to_wire())
    # signed zones, DO set: positive, NODATA, NXDOMAIN, wildcards, delegations, DNSSEC types
    dnssec_q = [
        ("", "DNSKEY"), ("", "SOA"), ("", "NSEC3PARAM"), ("www", "A"), ("www", "MX"), ("nothere", "A"),
        ("x.wild", "A"), ("txtonly", "A"), ("a.b.ent", "A"), ("b.ent", "TXT"), ("secure", "DS"),
        ("x.secure", "A"), ("", "CDS"), ("", "ANY"), ("ns1", "AAAA"),
    ]
    for zone in SIGNED:
        for j, (owner, rdtype) in enumerate(dnssec_q):
            if zone != "nsec3-optout.test." and j % 2:
                continue
            qname = (owner + "." if owner else "") + zone
            m = mq(qname, rdtype, want_dnssec=True, payload=1232)
            m.id = 0x4400 | (j % 32)
            w.add("do-%s-%s-%s" % (zone.rstrip("."), owner or "apex", rdtype), m.to_wire())
    # every owner name of three zones (NSEC3 owners aside), and a name below each: the names the
    # fuzzer cannot guess (a lookup is a hash probe; it gets no comparison to learn from)
    types = ("A", "AAAA", "TXT", "MX", "DS", "NS", "ANY", "CNAME", "SOA", "SRV", "RRSIG", "NSEC")
    for path, origin in ((ZONES / "example.com.zone", "example.com."),
                         (DATA / "nsec.test.zone", "nsec.test."),
                         (DATA / "nsec3-optout.test.zone", "nsec3-optout.test.")):
        signed = origin != "example.com."
        for k, (n, node) in enumerate(sorted(load(path, origin).nodes.items())):
            if node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC3) is not None:
                continue
            for below in (False, True):
                qname = dns.name.Name((b"x",) + n.labels) if below else n
                m = mq(qname, types[(k + below) % len(types)], want_dnssec=signed)
                m.id = 0x4600 | ((k * 7 + below) % 32)
                w.add("name-%s%s" % ("x." if below else "", n.to_text()), m.to_wire())
    # EDNS options: NSID, cookie, EXPIRE, unknown; BADVERS
    opts = [dns.edns.GenericOption(3, b""), dns.edns.GenericOption(10, b"\x01\x02\x03\x04\x05\x06\x07\x08"),
            dns.edns.GenericOption(9, b""), dns.edns.GenericOption(65001, b"abc")]
    m = mq("www.example.com.", "A", use_edns=0, options=opts)
    m.id = 0x4206
    w.add("edns-options", m.to_wire())
    m = mq("www.example.com.", "A", use_edns=1)
    m.id = 0x4200
    w.add("edns-badvers", m.to_wire())
    # other classes, opcodes and odd questions
    m = mq("id.server.", "TXT", rdclass="CH")
    m.id = 0x4204
    w.add("ch-id-server", m.to_wire())
    m = mq("www.example.com.", "A", rdclass="ANY")
    w.add("class-any", m.to_wire())
    m = mq("example.com.", "AXFR")
    w.add("axfr-over-udp", m.to_wire())
    m = mq("example.com.", "IXFR")
    w.add("ixfr-over-udp", m.to_wire())
    notify = mq("example.com.", "SOA")
    notify.set_opcode(dns.opcode.NOTIFY)
    w.add("notify", notify.to_wire())
    update = mq("example.com.", "SOA")
    update.set_opcode(dns.opcode.UPDATE)
    w.add("update", update.to_wire())
    hdr = struct.pack("!HHHHHH", 0x4201, 0x7800, 0, 0, 0, 0)
    w.add("opcode15-empty", hdr)
    # a TSIG-signed request (the query path sees only the record's place)
    ring = dns.tsigkeyring.from_text({"hmac-sha256.fuzz.": (
        "hmac-sha256", __import__("base64").b64encode(TSIG_SECRET).decode())})
    m = mq("www.example.com.", "A", use_edns=0)
    m.use_tsig(ring, keyname="hmac-sha256.fuzz.")
    with FixedTime():
        w.add("tsig-request", m.to_wire())
    # malformed: compression loops and chains, bad labels, wrong counts, trailing data
    q = bytearray(mq("www.example.com.", "A").to_wire())
    w.add("trailing", bytes(q) + b"\x00\x00")
    w.add("short-header", bytes(q[:7]))
    loop = struct.pack("!HHHHHH", 0x4200, 0, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01"
    w.add("pointer-loop", loop)
    # 100 records in additional, each owner one label on a pointer to the previous owner
    chain = bytearray(struct.pack("!HHHHHH", 0x4200, 0, 1, 0, 0, 100)) + b"\x00\x00\x01\x00\x01"
    prev = 12
    for _ in range(100):
        here = len(chain)
        chain += b"\x01x" + struct.pack("!HHHIH", 0xC000 | prev, 16, 1, 0, 0)
        prev = here
    w.add("pointer-chain", bytes(chain))
    w.add("bad-label", struct.pack("!HHHHHH", 0x4200, 0, 1, 0, 0, 0) + b"\x41abc\x00\x00\x01\x00\x01")
    w.add("counts-lie", struct.pack("!HHHHHH", 0x4200, 0, 1, 5, 5, 5) + b"\x03www\x00\x00\x01\x00\x01")
    two_opt = mq("www.example.com.", "A", use_edns=0).to_wire()
    opt = two_opt[-11:]
    w.add("two-opt", two_opt[:10] + b"\x00\x02" + two_opt[12:] + opt)
    w.write()


# ---- zonefile: zone files ----

ZONEFILE_EXTRA = """;origin types.example.
$ORIGIN types.example.
$TTL 300
@ IN SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 192.0.2.1
a AAAA 2001:db8::1
txt TXT "one" "two \\"quoted\\"" "\\065\\066"
mx MX 10 mail.example.net.
srv._tcp SRV 0 5 443 host
naptr NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
caa CAA 0 issue "ca.example.net"
sshfp SSHFP 4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789
tlsa._443._tcp TLSA 3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
loc LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
hinfo HINFO "PC" "Linux"
rp RP hostmaster info
svcb SVCB 1 svc alpn=h2,h3 port=8443 ipv4hint=192.0.2.9 ech=AEn+DQBF
https HTTPS 1 . alpn=h2 no-default-alpn mandatory=alpn
apl APL 1:192.0.2.0/24 !2:2001:db8::/32
ipseckey IPSECKEY 10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==
ds DS 12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118C8AF8E18B9F38DE69DA2E0E0
cds CDS 0 0 0 00
uri URI 10 1 "https://example.net/"
ptr PTR host.example.net.
dname DNAME example.net.
cname CNAME www
unknown TYPE65280 \\# 4 0A000001
null NULL \\# 0
"""

ZONEFILE_BROKEN = [
    ";origin broken.example.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ SOA ns hm 2 2 3 4 5\n@ NS ns\n",
    ";origin broken.example.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\nc CNAME x\nc A 192.0.2.1\nc CNAME y\n",
    ";origin broken.example.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nd DNAME x.example.\nx.d A 192.0.2.1\n",
    ";origin broken.example.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nsub NS ns.sub\n",
    ";origin broken.example.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nx A 300.1.1.1\ny MX mail\n",
    ";origin broken.example.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n@ CH TXT \"class\"\nout.example.org. A 192.0.2.1\n",
    ";origin broken.example.\n$TTL 60\n@ SOA ns hm ( 1 2\n3 4 5\n@ NS ns\n",
    "$ORIGIN example.com.\n$TTL 1h\n@ SOA ns1 hm 7 1h 15m 1w 5m\n@ NS ns1\nns1 A 192.0.2.53\n"
    "$INCLUDE fuzz_inc.zone\n$INCLUDE fuzz_inc.zone sub\n",
    "$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 hm 8 1 1 1 1\n@ NS ns1\n$GENERATE 1-20 host$ A 192.0.2.$\n",
    "$TTL 60\n@ SOA ns1 hm 9 1 1 1 1\n@ NS ns1\n" + "".join("n%d.deep.a.b.c A 192.0.2.%d\n" % (i, i)
                                                      for i in range(30)),
    "$TTL 60\n@ SOA ns1 hm 10 1 1 1 1\n@ NS ns1\n*.w A 192.0.2.1\nsub.*.w TXT \"x\"\n"
    "\\. TXT \"dot\"\n\\046escaped\\040label A 192.0.2.2\n",
]


def zonefile_seeds():
    w = Writer("zonefile")
    for path, origin in (("example.com.zone", "example.com."), ("example.net.zone", "example.net."),
                         ("child.example.com.zone", "child.example.com.")):
        text = (ZONES / path).read_text()
        w.add(path, ";origin %s\n%s" % (origin, text))
    for zone in SIGNED:
        w.add("signed-" + zone.rstrip("."), ";origin %s\n%s" % (zone, (DATA / (zone.rstrip(".") + ".zone")).read_text()))
    rules = (ZONES / "dnssec" / "rules.zone").read_text()
    w.add("unsigned-rules", ";origin rules.test.\n" + rules)
    w.add("unsigned-optout", ";origin nsec3-optout.test.\n" + (ZONES / "dnssec" / "nsec3-optout.test.zone").read_text())
    w.add("types", ZONEFILE_EXTRA)
    for i, text in enumerate(ZONEFILE_BROKEN):
        w.add("case%02d" % i, text)
    # example.com with one change each: what the diff check sees most
    base = (ZONES / "example.com.zone").read_text()
    w.add("example.com-serial", base.replace("2024010101", "2024010102"))
    w.add("example.com-ttl", base.replace("$TTL 3600", "$TTL 60"))
    w.write()


# ---- catalog: records of a catalog zone in wire form ----

CATZ = name("catz.example.")


def catalog_wire(records):
    """records: (owner relative to catz.example. or '@', type, rdata text) -> wire, compressed."""
    r = dns.renderer.Renderer(id=0, flags=0, max_size=65535)
    r.section = dns.renderer.ANSWER
    out = b""
    for owner, rdtype, text in records:
        o = CATZ if owner == "@" else name(owner + ".catz.example.") if not owner.endswith(".") else name(owner)
        rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), text, origin=CATZ, relativize=False)
        rrset = dns.rrset.from_rdata(o, 0, rd)
        r.add_rrset(dns.renderer.ANSWER, rrset)
    return r.get_wire()[12:]


def catalog_seeds():
    w = Writer("catalog")
    version = ("version", "TXT", '"2"')
    w.add("empty", catalog_wire([version]))
    members = [version]
    for i in range(5):
        members.append(("m%d.zones" % i, "PTR", "zone%d.example.org." % i))
    w.add("five-members", catalog_wire(members))
    w.add("group-coo", catalog_wire(members + [
        ("group.m0.zones", "TXT", '"blue"'), ("group.m1.zones", "TXT", '"red"'),
        ("coo.m2.zones", "PTR", "other.catz.example."), ("ext.m3.zones", "TXT", '"unknown property"'),
        ("ext", "TXT", '"catalog-wide"')]))
    w.add("no-version", catalog_wire(members[1:]))
    w.add("version-1", catalog_wire([("version", "TXT", '"1"')] + members[1:]))
    w.add("two-versions", catalog_wire([version, ("version", "TXT", '"3"')] + members[1:]))
    w.add("two-ptr", catalog_wire(members + [("m0.zones", "PTR", "second.example.org.")]))
    w.add("duplicate-member", catalog_wire(members + [("dup.zones", "PTR", "zone1.example.org.")]))
    w.add("group-two-strings", catalog_wire(members + [("group.m0.zones", "TXT", '"a" "b"')]))
    w.add("group-two-records", catalog_wire(members + [("group.m0.zones", "TXT", '"a"'),
                                                        ("group.m0.zones", "TXT", '"b"')]))
    w.add("coo-two", catalog_wire(members + [("coo.m0.zones", "PTR", "a.example."),
                                             ("coo.m0.zones", "PTR", "b.example.")]))
    w.add("member-root", catalog_wire([version, ("root.zones", "PTR", ".")]))
    w.add("member-is-catalog", catalog_wire([version, ("self.zones", "PTR", "catz.example.")]))
    w.add("deep-nodes", catalog_wire([version, ("a.b.c.zones", "PTR", "deep.example."),
                                      ("x.y.m0.zones", "TXT", '"too deep"'), members[1]]))
    w.add("odd-ids", catalog_wire([version, ("UPPER.zones", "PTR", "Upper.Example."),
                                   ("with\\.dot.zones", "PTR", "dot.example."),
                                   ("with\\000nul.zones", "PTR", "nul.example."),
                                   ("x" * 63 + ".zones", "PTR", "long.example.")]))
    w.add("other-types", catalog_wire([version, ("m9.zones", "A", "192.0.2.1"), ("m9.zones", "CNAME", "x.example."),
                                       ("zones", "PTR", "at-zones.example."), ("group.m9.zones", "TXT", '"lonely"')]))
    w.add("long-group", catalog_wire(members + [("group.m0.zones", "TXT", '"%s"' % ("g" * 255))]))
    big = [version] + [("id%03d.zones" % i, "PTR", "member%03d.example.net." % i) for i in range(200)]
    big += [("group.id%03d.zones" % i, "TXT", '"grp%d"' % (i % 7)) for i in range(0, 200, 3)]
    w.add("two-hundred", catalog_wire(big))
    w.write()


# ---- xfr: a primary's answer stream ----

def xfr_messages(records, question_type, split, zone="example.com."):
    """Answer messages (id 0: the target sets the request's) holding records, split in `split` parts."""
    out = []
    per = max(1, (len(records) + split - 1) // split)
    for k in range(0, len(records), per):
        m = dns.message.Message(id=0)
        m.flags = dns.flags.QR | dns.flags.AA
        if k == 0:
            m.question.append(dns.rrset.RRset(name(zone), dns.rdataclass.IN,
                                              dns.rdatatype.from_text(question_type)))
        for rrset in records[k:k + per]:
            m.answer.append(rrset)
        out.append(m.to_wire(max_size=65535))
    return out


def zone_rrsets(zone, origin):
    soa = None
    rest = []
    for n, node in sorted(zone.nodes.items()):
        for rds in node.rdatasets:
            rrset = dns.rrset.RRset(n, rds.rdclass, rds.rdtype)
            for rd in sorted(rds, key=lambda r: r.to_text()):   # a set: its order varies by run
                rrset.add(rd, rds.ttl)
            if rds.rdtype == dns.rdatatype.SOA and n == name(origin):
                soa = rrset
            else:
                rest.append(rrset)
    return soa, rest


def soa_with_serial(soa, serial):
    rd = soa[0].replace(serial=serial)
    s = dns.rrset.RRset(soa.name, soa.rdclass, soa.rdtype)
    s.add(rd, soa.ttl)
    return s


def rr(owner, rdtype, text, ttl=3600):
    return dns.rrset.from_text(owner, ttl, "IN", rdtype, text)


def xfr_seeds():
    w = Writer("xfr")
    com = load(ZONES / "example.com.zone", "example.com.")
    soa, rest = zone_rrsets(com, "example.com.")
    ours = soa[0].serial
    new = soa_with_serial(soa, ours + 1)
    F_IXFR, F_TSIG, F_KEEP, F_SOA, F_SKIP = 1, 2, 4, 8, 16
    axfr = [new] + rest[:40] + [new]
    for split in (1, 3):
        for flags in (0, F_TSIG):
            w.add("axfr-%d-%x" % (split, flags), bytes([flags]) + frame(xfr_messages(axfr, "AXFR", split)))
    w.add("axfr-tsig-skip", bytes([F_TSIG | F_SKIP]) + frame(xfr_messages(axfr, "AXFR", 3)))
    w.add("axfr-tsig-skip-last", bytes([F_TSIG | F_SKIP]) + frame(xfr_messages(axfr, "AXFR", 4)))
    w.add("axfr-whole", bytes([0]) + frame(xfr_messages([new] + rest + [new], "AXFR", 6)))
    w.add("axfr-soa-only", bytes([0]) + frame(xfr_messages([new, new], "AXFR", 1)))
    w.add("axfr-no-end", bytes([0]) + frame(xfr_messages([new] + rest[:10], "AXFR", 2)))
    w.add("axfr-wrong-end", bytes([0]) + frame(xfr_messages([new] + rest[:5] + [soa_with_serial(soa, 9)], "AXFR", 1)))
    w.add("axfr-outside", bytes([0]) + frame(xfr_messages([new, rr("www.example.org.", "A", "192.0.2.1"), new], "AXFR", 1)))
    w.add("axfr-bad-shapes", bytes([0]) + frame(xfr_messages(
        [new, rr("a.example.com.", "CNAME", "b.example.com."), rr("d.example.com.", "DNAME", "example.net."),
         rr("t.example.com.", "TXT", '""'), rr("n.example.com.", "NULL", "\\# 0"), new], "AXFR", 1)))
    # IXFR from our serial: one change, two changes, up to date, a whole zone in answer
    www_a = rr("www.example.com.", "A", "192.0.2.80")
    www_b = rr("www.example.com.", "A", "192.0.2.81")
    mid = soa_with_serial(soa, ours + 1)
    newer = soa_with_serial(soa, ours + 2)
    one = [mid, soa, www_a, mid, www_b, mid]
    two = [newer, soa, www_a, mid, www_b, mid, www_b, newer, rr("new.example.com.", "TXT", '"added"'), newer]
    for flags in (F_IXFR, F_IXFR | F_TSIG):
        w.add("ixfr-one-%x" % flags, bytes([flags]) + frame(xfr_messages(one, "IXFR", 1)))
        w.add("ixfr-two-%x" % flags, bytes([flags]) + frame(xfr_messages(two, "IXFR", 3)))
    w.add("ixfr-uptodate", bytes([F_IXFR]) + frame(xfr_messages([soa], "IXFR", 1)))
    w.add("ixfr-lone-newer", bytes([F_IXFR]) + frame(xfr_messages([newer], "IXFR", 1)))
    w.add("ixfr-as-axfr", bytes([F_IXFR]) + frame(xfr_messages([mid] + rest[:20] + [mid], "IXFR", 2)))
    w.add("ixfr-missing-record", bytes([F_IXFR]) + frame(xfr_messages(
        [mid, soa, rr("gone.example.com.", "A", "192.0.2.99"), mid, mid], "IXFR", 1)))
    w.add("ixfr-wrong-start", bytes([F_IXFR]) + frame(xfr_messages(
        [mid, soa_with_serial(soa, 5), www_a, mid, www_b, mid], "IXFR", 1)))
    # SOA queries (UDP, then TCP when truncated)
    ans = dns.message.Message(id=0)
    ans.flags = dns.flags.QR | dns.flags.AA
    ans.question.append(dns.rrset.RRset(name("example.com."), dns.rdataclass.IN, dns.rdatatype.SOA))
    ans.answer.append(new)
    ans.use_edns(0, options=[dns.edns.GenericOption(9, struct.pack("!I", 600))])
    w.add("soa", bytes([F_SOA]) + frame([ans.to_wire()]))
    w.add("soa-tsig", bytes([F_SOA | F_TSIG]) + frame([ans.to_wire()]))
    tc = dns.message.Message(id=0)
    tc.flags = dns.flags.QR | dns.flags.TC
    tc.question.append(dns.rrset.RRset(name("example.com."), dns.rdataclass.IN, dns.rdatatype.SOA))
    w.add("soa-truncated", bytes([F_SOA]) + frame([tc.to_wire(), ans.to_wire()]))
    for rcode in (dns.rcode.NOTAUTH, dns.rcode.REFUSED, dns.rcode.SERVFAIL):
        e = dns.message.Message(id=0)
        e.flags = dns.flags.QR
        e.set_rcode(rcode)
        w.add("rcode-%d" % rcode, bytes([0]) + frame([e.to_wire()]))
    w.add("keep-id", bytes([F_KEEP]) + frame(xfr_messages(axfr, "AXFR", 1)))
    w.add("garbage", bytes([0]) + frame([b"\x00\x00\x80\x00\x00\x01\x00\x05\x00\x00\x00\x00\x07example\x03com"]))
    w.write()


# ---- tsig: signed messages ----

def tsig_ring():
    import base64
    wire = {"hmac-md5": "hmac-md5.sig-alg.reg.int"}   # dnspython knows MD5 by its old name only
    return dns.tsigkeyring.from_text({"%s.fuzz." % a: (wire.get(a, a), base64.b64encode(TSIG_SECRET).decode())
                                      for a in TSIG_ALGS})


class FixedTime:
    """dnspython signs with time.time(): pinned to fuzz_tsig.c's clock while the seeds are made."""

    def __enter__(self):
        import time
        self.saved = time.time
        time.time = lambda: float(FUZZ_NOW)

    def __exit__(self, *exc):
        import time
        time.time = self.saved


def tsig_seeds():
    w = Writer("tsig")
    ring = tsig_ring()
    with FixedTime():
        for i, alg in enumerate(TSIG_ALGS):
            m = mq("example.com.", "AXFR")
            m.id = 0x1234
            m.use_tsig(ring, keyname="%s.fuzz." % alg)
            req = m.to_wire()
            w.add("request-%s" % alg, b"\x00" + frame([req]))
            if alg == "hmac-sha256":
                # a signed request with another key name, a bad MAC, a truncated MAC, a late one
                bad = bytearray(req)
                bad[-12] ^= 1
                w.add("request-badsig", b"\x00" + frame([bytes(bad)]))
                m2 = mq("example.com.", "SOA")
                m2.use_tsig(dns.tsigkeyring.from_text({"unknown.key.": ("hmac-sha256", "AAAA")}),
                            keyname="unknown.key.")
                w.add("request-badkey", b"\x00" + frame([m2.to_wire()]))
                m3 = mq("example.com.", "SOA", use_edns=0)
                m3.use_tsig(ring, keyname="hmac-sha256.fuzz.", fudge=0)
                w.add("request-edns-fudge0", b"\x00" + frame([m3.to_wire()]))
    w.add("request-unsigned", b"\x00" + frame([mq("example.com.", "SOA").to_wire()]))
    # client side: answers (never verify: the target's request MAC is its own), several messages
    a = dns.message.make_response(mq("example.com.", "AXFR"))
    a.answer.append(rr("example.com.", "SOA", "ns1.example.com. hm.example.com. 1 2 3 4 5"))
    with FixedTime():
        a.use_tsig(ring, keyname="hmac-sha256.fuzz.")
        signed = a.to_wire()
    for mode in (1 | (3 << 2), 3 | (3 << 2), 1 | (0 << 2), 1 | (5 << 2)):
        w.add("answers-mode%d" % mode, bytes([mode]) + frame([signed, signed[:-20], signed]))
    # mode 2: genuine streams; first octet of each message says how the server treats it
    msgs = []
    for k in range(6):
        m = dns.message.Message(id=0x1234)
        m.flags = dns.flags.QR | dns.flags.AA
        m.answer.append(rr("h%d.example.com." % k, "A", "192.0.2.%d" % k))
        msgs.append(m.to_wire())
    for alg_i in range(6):
        w.add("stream-%s" % TSIG_ALGS[alg_i], bytes([2 | (alg_i << 2)]) + frame([b"\x00" + x for x in msgs]))
    w.add("stream-unsigned-between", bytes([2 | (3 << 2)]) +
          frame([b"\x00" + msgs[0], b"\x01" + msgs[1], b"\x01" + msgs[2], b"\x00" + msgs[3]]))
    w.add("stream-unsigned-last", bytes([2 | (3 << 2)]) + frame([b"\x00" + msgs[0], b"\x01" + msgs[1]]))
    w.add("stream-tampered", bytes([2 | (3 << 2)]) + frame([b"\x00" + msgs[0], bytes([2 | (5 << 3)]) + msgs[1]]))
    w.add("stream-late", bytes([2 | (3 << 2)]) + frame([b"\x00" + msgs[0], b"\x04" + msgs[1]]))
    w.add("stream-many-unsigned", bytes([2 | (3 << 2)]) + frame([b"\x00" + msgs[0]] + [b"\x01" + msgs[1]] * 101))
    w.write()


# ---- conf: configurations ----

CONF_SEEDS = {
    "minimal": "server:\n  listen: [127.0.0.1@5300]\n",
    "etc": (REPO / "etc" / "tandem.yaml").read_text(),
    "full": """server:
  listen: [127.0.0.1@5300, "::1@5300"]
  source-address: [127.0.0.2, "::1"]
  data-dir: ./var
  workers: 2
  identity: ns1.example.
  refresh-min: 30
  refresh-max: 3600
  retry-min: 5
  retry-max: 600
  expire-min: 600
  expire-max: 86400
  tcp-idle-timeout: 5
  tcp-max-clients: 100
  udp-payload: 1400
  journal-max-entries: 50
  xfr-per-primary: 2
  xfr-out-max: 8
  xfr-timeout: 20
  verify-interval: 3600
  catalog: catalog.example.
  rate-limit: 20
  rate-limit-slip: 3
  rate-limit-ipv4-prefix: 24
  rate-limit-ipv6-prefix: 56
  rate-limit-table-size: 4096
  rate-limit-exempt: [127.0.0.0/8, "::1"]
http:
  listen: 127.0.0.1@8053
  api-key-file: ./var/api.key
keys:
  - name: xfr.key.
    algorithm: hmac-sha256
    secret: dGFuZGVtIGZ1enoga2V5IGZpbGUgc2VjcmV0IDMyIQ==
  - name: fuzz.key.
    file: /tmp/tandem-fuzz-conf.key
remotes:
  - name: primary
    address: [192.0.2.1@53, "2001:db8::1"]
    key: xfr.key.
  - name: secondary
    address: [192.0.2.2]
acls:
  - name: secondaries
    address: [192.0.2.0/24, "2001:db8::/32"]
    key: [xfr.key.]
    allow: [transfer, notify]
  - name: updaters
    address: [10.0.0.1]
    allow: [update]
zones:
  - name: example.com.
    file: zones/example.com.zone
    notify: [secondary]
    acl: [secondaries]
    member-of: catalog.example.
    group: blue
  - name: example.org.
    type: secondary
    primaries: [primary]
  - name: catalog.example.
    catalog: produce
  - name: catz.example.
    type: secondary
    catalog: consume
    primaries: [primary]
autoprimaries:
  - name: super
    remote: primary
    nameservers: [ns1.example., ns2.example.]
templates:
  - name: blue
    primaries: [primary]
    notify: [secondary]
    acl: [secondaries]
""",
    "flow-style": '{server: {listen: ["127.0.0.1@53"]}, zones: [{name: a.example., file: a.zone}, '
                  '{name: "b.example", type: secondary, primaries: [p]}], remotes: [{name: p, address: [192.0.2.9]}]}\n',
    "json": '{"server": {"listen": ["127.0.0.1@5300"], "data-dir": "/tmp/x"}, "zones": []}\n',
    "anchors": "defaults: &d\n  type: primary\nserver:\n  listen: [127.0.0.1]\nzones:\n  - <<: *d\n    name: x.example.\n",
    "errors-unknown-key": "server:\n  listen: [127.0.0.1]\n  lisen: [127.0.0.2]\nbogus: 1\n",
    "errors-types": "server:\n  listen: 127.0.0.1\n  workers: many\n  udp-payload: 100000\n  refresh-min: -1\n",
    "errors-refs": "zones:\n  - name: a.example.\n    type: secondary\n    primaries: [nowhere]\n    acl: [none]\n"
                   "  - name: a.example.\n    member-of: nocat.example.\n    group: g\n",
    "errors-keys": "keys:\n  - name: k.\n    algorithm: hmac-sha999\n    secret: '!!notbase64'\n  - name: k2.\n"
                   "    file: /nonexistent/key\n  - name: k3.\n    file: /tmp/tandem-fuzz-conf.key\n    algorithm: hmac-md5\n"
                   "  - name: k.\n    algorithm: hmac-md5\n    secret: YQ==\n",
    "errors-pairs": "server:\n  listen: [127.0.0.1]\n  refresh-min: 100\n  refresh-max: 10\n  expire-min: 5\n"
                    "  expire-max: 4\n  catalog: nothere.example.\n",
    "errors-yaml": "server:\n  listen: [127.0.0.1\n zones: - x\n\t: y\n",
    "two-documents": "server:\n  listen: [127.0.0.1]\n---\nserver:\n  listen: [127.0.0.2]\n",
    "acl-words": "acls:\n  - name: a\n    allow: [transfer, notify, update, fly]\n    address: [0.0.0.0/0, '::/0', 300.1.1.1/8, 10.0.0.0/33]\n",
    "names": "zones:\n  - name: '\\\\046.example.'\n  - name: 'a..b.'\n  - name: '%s.example.'\n  - name: EXAMPLE.COM\n"
             % ("x" * 64),
    "identity-long": "server:\n  listen: [127.0.0.1]\n  identity: '%s'\n" % ("i" * 300),
    "ipv6-forms": "server:\n  listen: ['::', '::ffff:127.0.0.1@53', 'fe80::1%%lo@53', '[::1]:53']\n",
    "catalog-roles": "zones:\n  - name: c.example.\n    catalog: consume\n  - name: p.example.\n    type: secondary\n"
                     "    catalog: produce\n  - name: m.example.\n    member-of: m.example.\n",
    "null-values": "server: ~\nhttp:\nkeys: []\nzones:\n  - ~\n  - name:\n",
    "scalars-as-lists": "server:\n  listen: 127.0.0.1@53\nzones: example.com.\n",
    "deep-nesting": "server:\n  listen: [[[[[[[[127.0.0.1]]]]]]]]\n",
    # XoT (RFC 9103): TLS profiles (pins only: no file to read), a remote over TLS, an ACL requiring
    # TLS, listener limits; then the refusals (no check, a bad pin, files that are not there).
    "xot": "server:\n  listen: [127.0.0.1@5300]\n  tls-max-clients: 4\n  tls-max-per-address: 2\n"
           "  tls-handshake-timeout: 2s\n  tls-idle-timeout: 1m\ntls:\n  - name: pinned\n"
           "    pin: \"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"\nremotes:\n  - name: p\n"
           "    address: [192.0.2.1@853]\n    tls: pinned\nacls:\n  - name: t\n    address: [127.0.0.1]\n"
           "    allow: [transfer]\n    transport: tls\nzones:\n  - name: a.example.\n    type: secondary\n"
           "    primaries: [p]\n    acl: [t]\n",
    "xot-errors": "server:\n  listen: [127.0.0.1]\n  tls-listen: [127.0.0.1@853]\n"
                  "  tls-certificate: /nonexistent/c.pem\n  tls-key: /nonexistent/k.pem\ntls:\n"
                  "  - name: none\n  - name: badpin\n    pin: abc\n  - name: ca-only\n"
                  "    ca-file: /nonexistent/ca.pem\nremotes:\n  - name: p\n    address: [192.0.2.1]\n"
                  "    tls: missing\nacls:\n  - name: t\n    address: [127.0.0.1]\n    allow: [transfer]\n"
                  "    transport: quic\n",
    "tags": "server:\n  listen: !!seq [127.0.0.1]\n  workers: !!int 3\n  identity: !!binary aGVsbG8=\n",
}


def conf_seeds():
    w = Writer("conf")
    for label, text in CONF_SEEDS.items():
        w.add(label, text)
    w.write()


# ---- api: HTTP requests ----

def http(method, path, body=b"", key=API_KEY, headers=(), version="HTTP/1.1"):
    lines = ["%s %s %s" % (method, path, version), "Host: 127.0.0.1"]
    if key is not None:
        lines.append("X-API-Key: %s" % key)
    lines += list(headers)
    if body:
        lines.append("Content-Length: %d" % len(body))
        lines.append("Content-Type: application/json")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def api_seeds():
    w = Writer("api")
    v1 = "/api/v1/"
    reqs = {
        "status": http("GET", v1 + "status"),
        "zones": http("GET", v1 + "zones"),
        "zone": http("GET", v1 + "zones/example.com."),
        "zone-nodot": http("GET", v1 + "zones/example.net"),
        "zone-catalog": http("GET", v1 + "zones/catalog.fuzz."),
        "zone-missing": http("GET", v1 + "zones/nothere.example."),
        "notify": http("POST", v1 + "zones/example.com./notify"),
        "refresh-primary": http("POST", v1 + "zones/example.com./refresh"),
        "retransfer": http("POST", v1 + "zones/example.net./retransfer"),
        "reload": http("POST", v1 + "zones/nsec.test./reload"),
        "reload-catalog": http("POST", v1 + "zones/catalog.fuzz./reload"),
        "action-unknown": http("POST", v1 + "zones/example.com./explode"),
        "delete": http("DELETE", v1 + "zones/example.com."),
        "delete-missing": http("DELETE", v1 + "zones/x.example."),
        "put": http("PUT", v1 + "zones/example.com.", b'{"records": []}'),
        "patch": http("PATCH", v1 + "zones", b'{"name": "x."}'),
        "post-body": http("POST", v1 + "zones", b'{"name": "new.example.", "type": "primary"}'),
        "no-key": http("GET", v1 + "status", key=None),
        "wrong-key": http("GET", v1 + "status", key="fuzz-api-key-0123456788"),
        "long-key": http("GET", v1 + "status", key="k" * 300),
        "outside": http("GET", "/index.html"),
        "root": http("GET", "/"),
        "encoded": http("GET", v1 + "zones/example%2Ecom%2E"),
        "encoded-slash": http("GET", v1 + "zones%2Fexample.com."),
        "many-segments": http("GET", v1 + "/".join("s%d" % i for i in range(12))),
        "empty-segments": http("GET", v1 + "//zones//example.com.//"),
        "query-string": http("GET", v1 + "zones?x=1&y=%00"),
        "percent-nul": http("GET", v1 + "zones/a%00b"),
        "absolute-uri": http("GET", "http://127.0.0.1:8053" + v1 + "status"),
        "http10": http("GET", v1 + "status", version="HTTP/1.0"),
        "options": http("OPTIONS", v1 + "status"),
        "head": http("HEAD", v1 + "status"),
        "chunked": http("POST", v1 + "zones/example.com./notify", headers=["Transfer-Encoding: chunked"])
                   + b"5\r\nhello\r\n0\r\n\r\n",
        "pipelined": http("GET", v1 + "status") + http("GET", v1 + "zones") + http("POST", v1 + "zones/example.com./notify"),
        "keepalive-close": http("GET", v1 + "zones", headers=["Connection: close"]),
        "big-header": http("GET", v1 + "status", headers=["X-Filler: " + "f" * 2000]),
        "body-without-length": b"POST /api/v1/zones HTTP/1.1\r\nX-API-Key: " + API_KEY.encode() + b"\r\n\r\n{}",
        "garbage": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
        "bad-length": http("POST", v1 + "zones", headers=["Content-Length: -5"]),
        "huge-length": http("POST", v1 + "zones", headers=["Content-Length: 99999999999999999999"]),
    }
    for label, data in reqs.items():
        w.add(label, data)
    w.write()


# ---- dictionaries (tests/fuzz/dict/<target>.dict): words the mutations splice in ----

def dict_line(data):
    if isinstance(data, str):
        data = data.encode()
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else "\\x%02x" % b
                         for b in data) + '"'


def write_dict(target, words):
    d = HERE / "dict"
    d.mkdir(exist_ok=True)
    lines = sorted({dict_line(x) for x in words})
    (d / (target + ".dict")).write_text("# %s.dict -- written by tests/fuzz/make_corpus.py\n" % target +
                                        "\n".join(lines) + "\n")
    print("%-9s dictionary of %d words" % (target, len(lines)))


def dictionaries():
    labels = set()
    for path, origin in [(ZONES / p, o) for p, o in (("example.com.zone", "example.com."),
                                                      ("example.net.zone", "example.net."),
                                                      ("child.example.com.zone", "child.example.com."))] + \
                        [(DATA / (z.rstrip(".") + ".zone"), z) for z in SIGNED]:
        for n in load(path, origin).nodes:
            for label in n.labels:
                if label and len(label) < 32:
                    labels.add(bytes([len(label)]) + label)
    types = [struct.pack("!H", t) for t in (1, 2, 5, 6, 12, 15, 16, 28, 33, 39, 41, 43, 46, 47, 48, 50, 51,
                                            64, 65, 250, 251, 252, 255)]
    opt = [b"\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00", b"\x00\x0a\x00\x08", b"\x00\x03\x00\x00"]
    write_dict("query", sorted(labels) + types + opt)
    # UPDATE: the same labels and types, and the classes of prerequisites and deletions (NONE, ANY).
    write_dict("update", sorted(labels) + types + [b"\x00\xfe", b"\x00\xff", b"\x00\x01", b"\x28\x00"])
    words = ["$ORIGIN ", "$TTL ", "$INCLUDE fuzz_inc.zone", "$GENERATE 1-3 h$ A 192.0.2.$", "( ", " )",
             "\\# ", " IN ", " CH ", "@ ", "* ", ";origin example.com.\n"]
    words += [" %s " % t for t in ("A", "AAAA", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "SRV", "DNAME", "DS",
                                   "RRSIG", "NSEC", "DNSKEY", "NSEC3", "NSEC3PARAM", "CDS", "CDNSKEY", "SVCB",
                                   "HTTPS", "CAA", "TLSA", "SSHFP", "LOC", "NAPTR", "APL", "IPSECKEY", "HIP",
                                   "URI", "HINFO", "RP", "NULL", "TYPE65280")]
    write_dict("zonefile", words)
    keys = ["server:", "http:", "keys:", "remotes:", "acls:", "zones:", "autoprimaries:", "templates:",
            "listen", "source-address", "data-dir", "workers", "identity", "refresh-min", "refresh-max",
            "retry-min", "retry-max", "expire-min", "expire-max", "tcp-idle-timeout", "tcp-max-clients",
            "udp-payload", "journal-max-entries", "xfr-per-primary", "xfr-out-max", "xfr-timeout",
            "catalog", "verify-interval", "rate-limit", "rate-limit-slip", "rate-limit-ipv4-prefix",
            "rate-limit-ipv6-prefix", "rate-limit-table-size", "rate-limit-exempt", "api-key-file",
            "tls:", "tls", "tls-listen", "tls-certificate", "tls-key", "tls-client-ca", "tls-max-clients",
            "tls-max-per-address", "tls-handshake-timeout", "tls-idle-timeout", "hostname", "ca-file", "pin",
            "certificate", "transport", "any",
            "name", "algorithm", "secret", "file", "address", "key", "allow", "type", "primaries",
            "notify", "acl", "member-of", "group", "remote", "nameservers", "primary", "secondary",
            "produce", "consume", "transfer", "update", "hmac-sha256", "hmac-md5", "hmac-sha512",
            "/tmp/tandem-fuzz-conf.key", "127.0.0.1@53", "::1", "192.0.2.0/24", "- name: ", ": ", "[", "]",
            "{", "}", "&a", "*a", "<<: ", "!!str ", "---", "...", "~", "\"", "'"]
    write_dict("conf", keys)
    api = ["GET ", "POST ", "PUT ", "DELETE ", "PATCH ", "HEAD ", "OPTIONS ", " HTTP/1.1\r\n", " HTTP/1.0\r\n",
           "/api/v1/", "status", "zones", "zones/example.com.", "/notify", "/refresh", "/retransfer",
           "/reload", "catalog.fuzz.", "nsec.test.", "example.net.", "X-API-Key: " + API_KEY + "\r\n",
           "Content-Length: ", "Transfer-Encoding: chunked\r\n", "Connection: close\r\n",
           "Connection: keep-alive\r\n", "Host: x\r\n", "\r\n\r\n", "%2F", "%2E", "%00", "%"]
    write_dict("api", api)


# ---- update: RFC 2136 UPDATE messages for example.com. ----

def update_seeds():
    import dns.update
    w = Writer("update")

    def upd(label, build, compress=True):
        u = dns.update.UpdateMessage("example.com.")
        u.id = 0x4242
        build(u)
        w.add(label, u.to_wire() if compress else u.to_wire(origin=None))

    upd("add", lambda u: u.add("new.example.com.", 300, "A", "192.0.2.1"))
    upd("add-several", lambda u: (u.add("new.example.com.", 300, "A", "192.0.2.1"),
                                  u.add("new.example.com.", 300, "TXT", "hello"),
                                  u.add("mx.example.com.", 300, "MX", "10 new.example.com.")))
    upd("delete-rr", lambda u: u.delete("www.example.com.", "A", "192.0.2.80"))
    upd("delete-rrset", lambda u: u.delete("www.example.com.", "A"))
    upd("delete-name", lambda u: u.delete("www.example.com."))
    upd("delete-apex", lambda u: (u.delete("example.com.", "NS"), u.delete("example.com.", "SOA"),
                                  u.delete("example.com.")))
    upd("soa-forward", lambda u: u.add("example.com.", 3600, "SOA",
                                       "ns1.example.com. hostmaster.example.com. 4000000000 1 1 1 1"))
    upd("cname-conflict", lambda u: (u.add("www.example.com.", 300, "CNAME", "example.com."),
                                     u.add("alias.example.com.", 300, "CNAME", "www.example.com."),
                                     u.add("alias.example.com.", 300, "A", "192.0.2.2")))
    upd("prereqs", lambda u: (u.absent("new.example.com."), u.present("www.example.com."),
                              u.present("www.example.com.", "A"), u.absent("www.example.com.", "TXT"),
                              u.add("new.example.com.", 300, "A", "192.0.2.1")))
    upd("prereq-value", lambda u: (u.present("www.example.com.", "A", "192.0.2.80"),
                                   u.delete("www.example.com.", "A")))
    upd("notzone", lambda u: u.add("x.example.org.", 300, "A", "192.0.2.1"))
    upd("ttl-change", lambda u: u.add("www.example.com.", 7, "A", "192.0.2.80"))
    w.write()


TARGETS = {
    "query": query_seeds, "zonefile": zonefile_seeds, "catalog": catalog_seeds, "xfr": xfr_seeds,
    "tsig": tsig_seeds, "conf": conf_seeds, "api": api_seeds, "update": update_seeds,
}


def main(argv):
    if "--sign" in argv:
        sign()
        argv = [a for a in argv if a != "--sign"]
    for t in argv or TARGETS:
        if t not in TARGETS:
            sys.exit("unknown target %s (%s)" % (t, ", ".join(TARGETS)))
        TARGETS[t]()
    if not argv:
        dictionaries()


if __name__ == "__main__":
    main(sys.argv[1:])
