"""test_dnssec_differential.py -- DNSSEC answers (RFC 4035 3.1, RFC 5155 7.2) from Tandem, Knot and NSD.

Four zones from tests/data/zones/dnssec/ are signed at test time (dnssec_zones.py: BIND's dnssec-signzone,
ECDSAP256SHA256, KSK+ZSK): nsec.test. (NSEC), nsec3.test. (NSEC3, no salt, 0 iterations), nsec3-salt.test.
(NSEC3, salt, 5 iterations) and nsec3-optout.test. (NSEC3 opt-out). Knot 3.2, NSD 4.6 and Tandem serve the
same signed files as they are (nobody signs anything itself) and get the same few thousand questions with
the DO bit: every owner name, the empty non-terminals, names below each name (NXDOMAIN), names wildcards
match, the NSEC3 owner names themselves, each asked for the types the zone has and has not (DNSKEY, DS,
RRSIG, NSEC, NSEC3, NSEC3PARAM, CDS, CDNSKEY, ANY ...), over UDP with 1232 and 4096 octets, over TCP, with
512 octets (truncation), and some without DO (no DNSSEC records then).

Answers are compared as in test_differential.py: rcode, flags (AA, TC ...), the question, EDNS, the header
counts and every section as a set of RRsets (owner case-insensitive, TTLs and rdata exact; RRSIGs are
compared bit for bit, which works because every server serves the same signatures).

The reference is what Knot and NSD agree on. test_knot_and_nsd_agree_except_where_documented establishes
that first: every question where they differ must fall into one of the documented DISAGREEMENTS below
(each with its reason), or the test fails. Then test_tandem_answers_as_knot_and_nsd, one test per name:
where Knot and NSD agree, Tandem must give that answer; where they differ, Tandem must give Knot's answer
or NSD's, whole. The allowed differences are listed in docs/testing.md ("DNSSEC differential").
"""

import collections
import re
import shutil
from dataclasses import dataclass, field

import dns.dnssec
import dns.flags
import dns.name
import dns.rcode
import dns.rdatatype
import dns.zone
import pytest

import dnssec_zones
from harness import Knot, Nsd, Tandem, dnsq
from test_differential import _edns_text

pytestmark = [
    pytest.mark.skipif(not shutil.which(str(Knot.binary)), reason="knotd is not installed"),
    pytest.mark.skipif(not Nsd.binary.exists(), reason="nsd is not installed"),
    pytest.mark.skipif(not dnssec_zones.available(), reason="dnssec-signzone (bind9-utils) is not installed"),
]

# ---------------------------------------------------------------------------------------------------------
# The questions

# Every name is asked for each of these over UDP with DO and a 1232-octet buffer.
TYPES = ["A", "AAAA", "MX", "TXT", "NS", "SOA", "CNAME", "DNAME", "DS", "DNSKEY", "RRSIG", "NSEC", "NSEC3",
         "NSEC3PARAM", "CDS", "CDNSKEY", "ANY", "TYPE65000"]
CHILD_TYPES = ["A", "TXT", "DS", "NSEC"]          # names made up below existing ones (NXDOMAIN, referrals)
NSEC3_OWNER_TYPES = ["A", "NSEC3", "RRSIG", "DS"]  # the hashed owner names of NSEC3 zones
# ... and then some of them again in other ways: (label, types, query options)
VARIANTS = [
    ("udp4096", ["A", "TXT", "DS", "NSEC", "ANY"], {"do": True, "payload": 4096}),
    ("tcp", ["A", "MX", "DS", "ANY", "RRSIG"], {"do": True, "tcp": True}),
    ("udp512", ["A", "TXT"], {"do": True, "payload": 512}),
    ("no-do", ["A", "DS", "RRSIG", "NSEC"], {"payload": 1232}),   # no DNSSEC records without DO
]
BASE = ("udp1232", {"do": True, "payload": 1232})


@dataclass(frozen=True)
class Question:
    name: str          # the name this question belongs to (the test's id)
    label: str         # transport and buffer: udp1232, udp4096, tcp, udp512, no-do
    qname: str
    rdtype: str
    kw: tuple = ()     # dnsq.ask() options, as a sorted tuple of items

    @property
    def options(self):
        return dict(self.kw)

    def __str__(self):
        return "%s %s (%s)" % (self.qname, self.rdtype, self.label)


def _source(spec):
    path = dnssec_zones.SOURCES / spec.source
    return dns.zone.from_file(str(path), spec.name, relativize=False, check_origin=False)


def _zone_names(spec):
    """(owners, empty non-terminals, zone cuts, names below cuts) of one unsigned source zone."""
    z = _source(spec)
    apex = dns.name.from_text(spec.name)
    owners = sorted(z.nodes.keys())
    cuts = [n for n in owners if n != apex and z.nodes[n].get_rdataset(1, dns.rdatatype.NS)]
    below = [n for n in owners if any(n != c and n.is_subdomain(c) for c in cuts)]
    ents = set()
    for n in owners:
        p = n.parent()
        while p != apex and p.is_subdomain(apex):
            if p not in z.nodes:
                ents.add(p)
            p = p.parent()
    return owners, sorted(ents), cuts, below


def _nsec3_owner_names(spec):
    """The hashed names an NSEC3 zone holds (computed from the source: every authoritative name and empty
    non-terminal; with opt-out, also the unsigned delegations, whose hashes are then names that do not
    exist -- just as interesting to ask)."""
    if spec.nsec3 is None:
        return []
    iterations, salt = spec.nsec3
    owners, ents, cuts, below = _zone_names(spec)
    out = set()
    for n in list(owners) + list(ents):
        if n in below:
            continue
        h = dns.dnssec.nsec3_hash(n, None if salt == "-" else salt, iterations, 1)
        out.add("%s.%s" % (h.lower(), spec.name))
    return sorted(out)


def _names():
    """(name, [(label, qname, type, options)]) for every name of every zone, in a stable order."""
    out, seen = [], set()

    def add(name, types, variants=True):
        if name.lower() in seen:
            return
        seen.add(name.lower())
        qs = [(BASE[0], name, t, BASE[1]) for t in types]
        for label, vtypes, kw in VARIANTS if variants else ():
            qs += [(label, name, t, kw) for t in vtypes]
        out.append((name, qs))

    for spec in dnssec_zones.SPECS:
        owners, ents, cuts, below = _zone_names(spec)
        for n in owners + ents:
            add(n.to_text(), TYPES)
        for n in owners:
            if n.labels[0] == b"*":
                parent = n.parent().to_text()
                add("match." + parent, TYPES)                       # one label in place of "*": positive/NODATA
                add("a.b." + parent, CHILD_TYPES + ["MX", "AAAA"])  # several labels
            elif n not in below:
                add("nx." + n.to_text(), CHILD_TYPES)               # NXDOMAIN, or a referral below a cut
        for n in ents:
            add("nx." + n.to_text(), CHILD_TYPES)
        # DNAME substitutions, chains and odd spellings the generic names above do not reach
        for extra in ("www.dname", "chain.dname", "nx.dname", "a.b.dname", "www.dname-out", "x.y.cwild",
                      "nothere", "MaTcH.WiLd", "host.x.only-ent", "www.unsigned1"):
            add("%s.%s" % (extra, spec.name), ["A", "AAAA", "TXT", "DS", "CNAME"])
        # the NSEC3 owner names: not names of the zone (RFC 5155 7.2.8), whatever type is asked
        hashed = _nsec3_owner_names(spec)
        for h in hashed:
            add(h, NSEC3_OWNER_TYPES, variants=False)
        for h in hashed[::3]:
            add("nx." + h, ["A"], variants=False)
    return out


NAMES = _names()
QUESTIONS = [Question(name, label, qname, rdtype, tuple(sorted(kw.items())))
             for name, qs in NAMES for label, qname, rdtype, kw in qs]
BY_NAME = collections.defaultdict(list)
for _q in QUESTIONS:
    BY_NAME[_q.name].append(_q)


# ---------------------------------------------------------------------------------------------------------
# Asking and comparing

def ask(server, q, timeout=2.0):
    """The answer of one server to one Question (a Message), or the exception it raised."""
    kw = q.options
    tcp = kw.pop("tcp", False)
    try:
        return dnsq.ask(server, q.qname, q.rdtype, tcp=tcp, timeout=timeout, **kw)
    except Exception as e:   # a timeout or a malformed reply is an answer too, and differs from any other
        return e


def _rr_text(rrset):
    return rrset.to_text().replace("\n", " | ")


def diff(a, b, names=("knot", "tandem")):
    """Differences between two answers, as readable lines (empty when they match)."""
    an, bn = names
    if isinstance(a, Exception) or isinstance(b, Exception):
        if isinstance(a, Exception) and isinstance(b, Exception):
            return []
        return ["no usable answer from %s: %r" % ((an, a) if isinstance(a, Exception) else (bn, b))]
    lines = []
    if a.rcode() != b.rcode():
        lines.append("rcode: %s %s, %s %s" % (an, dns.rcode.to_text(a.rcode()),
                                               bn, dns.rcode.to_text(b.rcode())))
    if dns.flags.to_text(a.flags) != dns.flags.to_text(b.flags):
        lines.append("flags: %s [%s], %s [%s]" % (an, dns.flags.to_text(a.flags),
                                                   bn, dns.flags.to_text(b.flags)))
    aq = [(r.name.to_text(), dns.rdatatype.to_text(r.rdtype)) for r in a.question]
    bq = [(r.name.to_text(), dns.rdatatype.to_text(r.rdtype)) for r in b.question]
    if aq != bq:
        lines.append("question: %s %s, %s %s" % (an, aq, bn, bq))
    ae, be = _edns_text(a), _edns_text(b)
    if ae != be:
        lines.append("edns: %s %s; %s %s" % (an, ae, bn, be))
    # Both truncated: what a truncated answer still carries is up to each server (RFC 2181 9); the client
    # retries over TCP. Only the rcode, flags, question and EDNS are compared then.
    if (a.flags & dns.flags.TC) and (b.flags & dns.flags.TC):
        return lines
    if a.counts != b.counts:
        lines.append("header counts (qd, an, ns, ar): %s %s, %s %s" % (an, a.counts, bn, b.counts))
    for section in ("answer", "authority", "additional"):
        ak = {dnsq.rrset_key(r): r for r in getattr(a, section)}
        bk = {dnsq.rrset_key(r): r for r in getattr(b, section)}
        for key in sorted(set(ak) - set(bk)):
            lines.append("%s only from %s: %s" % (section, an, _rr_text(ak[key])))
        for key in sorted(set(bk) - set(ak)):
            lines.append("%s only from %s: %s" % (section, bn, _rr_text(bk[key])))
    return lines


# ---------------------------------------------------------------------------------------------------------
# Where Knot and NSD disagree
#
# Each kind of disagreement is said once, narrowly (a predicate on the question and the two answers), with
# its reason. test_knot_and_nsd_agree_except_where_documented fails on any disagreement none of them
# explains; for these questions Tandem must give Knot's answer or NSD's (docs/testing.md lists them).

SPEC_OF = {s.name: s for s in dnssec_zones.SPECS}
ZONE_APEXES = [dns.name.from_text(s.name) for s in dnssec_zones.SPECS]


def _zone_of(qname):
    """The spec of the zone a name is in (the deepest apex above it), or None."""
    n = dns.name.from_text(qname) if isinstance(qname, str) else qname
    best = None
    for apex in ZONE_APEXES:
        if n.is_subdomain(apex) and (best is None or len(apex) > len(best)):
            best = apex
    return SPEC_OF[best.to_text()] if best is not None else None


def _label_below_apex(qname):
    """The label right below the apex of qname's zone (lower case), or None for the apex itself."""
    spec = _zone_of(qname)
    n = dns.name.from_text(qname)
    if spec is None or len(n) == len(dns.name.from_text(spec.name)):
        return None
    return n.relativize(dns.name.from_text(spec.name)).labels[-1].decode().lower()


HASHED = {s.name: {h.split(".")[0] for h in _nsec3_owner_names(s)} for s in dnssec_zones.SPECS}


def _unproven_ents(spec):
    """Empty non-terminals of an opt-out zone with only unsigned delegations below them: opt-out leaves them
    without an NSEC3 of their own (RFC 5155 7.1), so the closest encloser of a name below them cannot be
    proven, only the apex above."""
    if not spec.optout:
        return []
    z = _source(spec)
    owners, ents, cuts, below = _zone_names(spec)
    insecure = [c for c in cuts if not z.nodes[c].get_rdataset(1, dns.rdatatype.DS)]
    out = []
    for e in ents:
        under = [o for o in owners if o.is_subdomain(e)]
        if all(o in below or o in insecure for o in under):
            out.append(e)
    return out


UNPROVEN_ENTS = [e for s in dnssec_zones.SPECS for e in _unproven_ents(s)]


def _keys(msg, section):
    return {dnsq.rrset_key(r) for r in getattr(msg, section)}


def _same_except(a, b, sections):
    """Same rcode, flags and EDNS, and the same records in every section not named."""
    if isinstance(a, Exception) or isinstance(b, Exception):
        return False
    if a.rcode() != b.rcode() or a.flags != b.flags or _edns_text(a) != _edns_text(b):
        return False
    return all(_keys(a, s) == _keys(b, s) for s in ("answer", "authority", "additional") if s not in sections)


def _types(msg, section="answer"):
    return {r.rdtype for r in getattr(msg, section)}


def _cname_targets(msg):
    return [rd.target for r in msg.answer if r.rdtype == dns.rdatatype.CNAME for rd in r]


def _nsd_minimal_additional(q, k, n):
    return _same_except(k, n, {"additional"}) and _keys(n, "additional") < _keys(k, "additional")


def _any_one_rrset_each(q, k, n):
    def one(m):
        return len({r.rdtype for r in m.answer if r.rdtype != dns.rdatatype.RRSIG}) == 1
    return q.rdtype == "ANY" and _same_except(k, n, {"answer", "additional"}) and one(k) and one(n)


def _rrsig_qtype(q, k, n):
    if q.rdtype != "RRSIG" or k.rcode() != n.rcode():
        return False
    if (k.flags ^ n.flags) & dns.flags.TC:
        return True    # NSD's bigger answer no longer fits
    return _same_except(k, n, {"answer"}) and _keys(k, "answer") <= _keys(n, "answer")


def _nsec_types_at_cname(q, k, n):
    return q.rdtype in ("NSEC", "NSEC3") and any(dns.rdatatype.CNAME in _types(m) for m in (k, n))


def _nsec_qtype_at_wildcard_match(q, k, n):
    return (q.rdtype == "NSEC" and _same_except(k, n, {"authority"})
            and _keys(k, "authority") < _keys(n, "authority"))


def _nsec3_owner_name(q, k, n):
    spec = _zone_of(q.qname)
    return spec is not None and _label_below_apex(q.qname) in HASHED[spec.name]


def _cname_into_another_zone(q, k, n):
    here = _zone_of(q.qname)
    return any(_zone_of(t) not in (None, here) for m in (k, n) for t in _cname_targets(m))


def _wildcard_owner_asked(q, k, n):
    spec = _zone_of(q.qname)
    return (q.qname.startswith("*.") and spec.nsec3 is not None and k.rcode() == n.rcode() == dns.rcode.NOERROR
            and not k.answer and not n.answer)


def _dname_nxdomain(q, k, n):
    return (k.rcode() == dns.rcode.NXDOMAIN and dns.rdatatype.DNAME in _types(k)
            and _same_except(k, n, {"authority"}) and _keys(n, "authority") < _keys(k, "authority"))


def _below_unproven_ent(q, k, n):
    name = dns.name.from_text(q.qname)
    return any(name.is_subdomain(e) for e in UNPROVEN_ENTS)


def _truncation_512(q, k, n):
    return q.label == "udp512" and k.rcode() == n.rcode() and bool((k.flags ^ n.flags) & dns.flags.TC)


@dataclass(frozen=True)
class Disagreement:
    id: str
    reason: str
    applies: object = field(repr=False)    # (Question, knot answer, nsd answer) -> bool


DISAGREEMENTS = [
    Disagreement(
        "nsec3-owner-name",
        "a question for an NSEC3 owner name (or a name below one): Knot answers as for any name that does not "
        "exist (RFC 5155 7.2.8: Name Error, with the closest encloser proof), NSD finds the hashed name in its "
        "tree and proves something else (NODATA, or NXDOMAIN from the hashed name as closest encloser).",
        _nsec3_owner_name),
    Disagreement(
        "cname-into-another-zone",
        "a CNAME whose target is in another zone the server is authoritative for: NSD follows it into that "
        "zone, Knot stops after the CNAME (RFC 1034 4.3.2 allows both; test_differential.py holds Tandem to "
        "Knot for unsigned zones).",
        _cname_into_another_zone),
    Disagreement(
        "below-unproven-ent",
        "a name at or below an empty non-terminal that has no NSEC3 because only unsigned delegations are below "
        "it (opt-out, RFC 5155 7.1): Knot proves the apex as closest encloser, NSD another NSEC3 set.",
        _below_unproven_ent),
    Disagreement(
        "nsec-types-at-cname",
        "qtype NSEC or NSEC3 at a name that owns a CNAME: Knot follows the CNAME for NSEC3 and not for "
        "NSEC, NSD the other way round (in an NSEC zone both answer the name's own NSEC, so there only NSEC3 "
        "differs).",
        _nsec_types_at_cname),
    Disagreement(
        "rrsig-qtype",
        "qtype RRSIG: Knot answers with the RRSIG of one RRset of the name, NSD with every RRSIG at the name "
        "(RFC 4035 3.1.5 only says RRSIGs are not to be answered as if they were ordinary data).",
        _rrsig_qtype),
    Disagreement(
        "any-one-rrset",
        "qtype ANY: both give one RRset of the name (RFC 8482), Knot and NSD pick different ones.",
        _any_one_rrset_each),
    Disagreement(
        "nsd-minimal-additional",
        "additional section: NSD with minimal-responses leaves out the addresses (and their RRSIGs) of MX and "
        "NS targets that Knot adds; RFC 1034 4.3.2 step 6 makes them optional.",
        _nsd_minimal_additional),
    Disagreement(
        "wildcard-owner-asked",
        "a NODATA question for a wildcard owner name itself (*.wild) in an NSEC3 zone: Knot gives the NSEC3 "
        "that matches \"*.wild\" (RFC 5155 7.2.3), NSD only the closest encloser's.",
        _wildcard_owner_asked),
    Disagreement(
        "dname-nxdomain",
        "NXDOMAIN after a DNAME: Knot proves both that the target does not exist and that no wildcard could "
        "match it (RFC 4035 3.1.3.2), NSD leaves out the wildcard NSEC.",
        _dname_nxdomain),
    Disagreement(
        "nsec-qtype-at-wildcard",
        "qtype NSEC at a name a wildcard matches (NSEC zone): both answer the wildcard's NSEC as if expanded, "
        "NSD adds the wildcard's own NSEC to the authority section.",
        _nsec_qtype_at_wildcard_match),
    Disagreement(
        "truncation-512",
        "512-octet buffer: one sets TC where the other leaves optional records (additional RRSIGs, glue) out "
        "without it (RFC 4035 3.1.1, RFC 2181 9 leave that to the server).",
        _truncation_512),
]


def classify(q, k, n):
    """The Disagreement that explains why Knot's and NSD's answers differ, or None."""
    if isinstance(k, Exception) or isinstance(n, Exception):
        return None
    for d in DISAGREEMENTS:
        if d.applies(q, k, n):
            return d
    return None


# ---------------------------------------------------------------------------------------------------------
# The servers

class SignedKnot(Knot):
    """knotd serving pre-signed zones as they are: automatic signing off (the default, said explicitly) and
    the semantic checks on, so that Knot also checks the signed files (NSEC/NSEC3 chains, RRSIGs present)
    and says so in its log if anything is wrong with them."""

    def write_config(self):
        path = super().write_config()
        text = path.read_text().replace("  - id: default\n",
                                        "  - id: default\n    dnssec-signing: off\n    semantic-checks: on\n", 1)
        path.write_text(text)
        return path


class MinimalNsd(Nsd):
    """nsd with minimal-responses: without it NSD adds the apex NS RRset (and its addresses) to the authority
    section of every positive answer, which neither Knot nor Tandem do (RFC 1034 4.3.2 leaves it open)."""

    def write_config(self):
        path = super().write_config()
        path.write_text(path.read_text().replace("server:\n", "server:\n    minimal-responses: yes\n", 1))
        return path


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """The test zones, signed afresh for this module."""
    return dnssec_zones.sign_all(tmp_path_factory.mktemp("signed"))


def _serve(cls, workdir, signed):
    return cls(workdir, dnssec_zones.harness_zones(signed)).serve()


@pytest.fixture(scope="module")
def knot_signed(tmp_path_factory, signed):
    s = _serve(SignedKnot, tmp_path_factory.mktemp("knot"), signed)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def nsd_signed(tmp_path_factory, signed):
    s = _serve(MinimalNsd, tmp_path_factory.mktemp("nsd"), signed)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def tandem_signed(tmp_path_factory, signed):
    s = _serve(Tandem, tmp_path_factory.mktemp("tandem"), signed)
    yield s
    s.stop()


class Reference(dict):
    """{Question: (Knot's answer, NSD's answer)}, with a short repr for pytest's failure reports."""

    def __repr__(self):
        return "Reference(%d questions)" % len(self)


@pytest.fixture(scope="module")
def reference(knot_signed, nsd_signed):
    """Knot's and NSD's answers to every question, asked once for the whole module."""
    return Reference((q, (ask(knot_signed, q), ask(nsd_signed, q))) for q in QUESTIONS)


# ---------------------------------------------------------------------------------------------------------
# The tests

def test_question_count():
    """A few thousand questions over a few hundred names (guards against a generator that shrank)."""
    assert len(NAMES) > 300 and len(QUESTIONS) > 5000, (len(NAMES), len(QUESTIONS))
    assert len({q.qname.lower() for q in QUESTIONS if _nsec3_owner_name(q, None, None)}) > 60


def test_knot_serves_the_signed_zones_as_they_are(signed, knot_signed, nsd_signed):
    """Knot loads the signed files without a complaint from its semantic checks (which check NSEC/NSEC3
    chains and signatures too) and serves the signatures of the file: it does not sign anything itself. NSD
    loads them without a complaint and serves the same."""
    for server in (knot_signed, nsd_signed):
        complaints = [line for line in server.log_text().splitlines()
                      if re.search(r"\b(warning|error)\b", line, re.I)]
        assert not complaints, "%s complains about the signed zones:\n%s" % (server.kind, "\n".join(complaints))
    log = knot_signed.log_text()
    for sz in signed.values():
        assert "[%s] loaded" % sz.name in log
        rrsigs = sz.load().find_rdataset(sz.name, dns.rdatatype.RRSIG, dns.rdatatype.SOA)
        for server in (knot_signed, nsd_signed):
            r = dnsq.ask(server, sz.name, "SOA", do=True)
            got = [rr for rr in r.answer if rr.rdtype == dns.rdatatype.RRSIG]
            assert got and set(got[0]) == set(rrsigs), (server.kind, sz.name, r.to_text())


def test_knot_and_nsd_agree_except_where_documented(reference):
    """The reference: every question where Knot and NSD differ is explained by one of DISAGREEMENTS, and
    they agree on most questions."""
    unexplained, counts = [], collections.Counter()
    for q in QUESTIONS:
        k, n = reference[q]
        lines = diff(k, n, ("knot", "nsd"))
        if not lines:
            counts["agree"] += 1
            continue
        d = classify(q, k, n)
        if d is None:
            unexplained.append("%s:\n    %s" % (q, "\n    ".join(lines)))
        else:
            counts[d.id] += 1
    print("\nKnot and NSD on %d questions: %s" % (len(QUESTIONS), ", ".join(
        "%s %d" % kv for kv in counts.most_common())))
    assert not unexplained, "Knot and NSD differ where no documented disagreement explains it (%d):\n%s" % (
        len(unexplained), "\n".join(unexplained))
    assert counts["agree"] > 0.85 * len(QUESTIONS), counts


def _any_over_tcp(q):
    """RFC 8482 minimal ANY: Knot and NSD answer ANY with one RRset over UDP and TCP; Tandem (the lead's
    decision, as in test_differential.py) gives one RRset over UDP and the whole node over TCP. So over TCP,
    the reference's answer and additional records must be part of Tandem's, the rest the same."""
    return q.rdtype == "ANY" and q.label == "tcp"


def _tandem_diff(ref, t, q, name):
    """diff() of a reference answer and Tandem's, with the ANY-over-TCP allowance."""
    if _any_over_tcp(q) and not isinstance(ref, Exception) and not isinstance(t, Exception):
        lines = []
        if not _same_except(ref, t, {"answer", "additional"}):
            lines = [l for l in diff(ref, t, (name, "tandem")) if not l.startswith("header counts")]
            lines = [l for l in lines if not re.match(r"(answer|additional) only from tandem", l)]
        for section in ("answer", "additional"):
            for key in sorted(_keys(ref, section) - _keys(t, section)):
                lines.append("%s only from %s (ANY over TCP: must be part of tandem's): %s"
                             % (section, name, dnsq.rrset_text(key)))
        return sorted(set(lines), key=lines.index)
    return diff(ref, t, (name, "tandem"))


def _stopped_at_zone_end(q, n, t):
    """Two disagreements at once: qtype NSEC or NSEC3 at a CNAME into another of our zones. Knot does not
    follow the CNAME for NSEC (nsec-types-at-cname) and NSD follows it into the other zone
    (cname-into-another-zone). Tandem may also do what it does for any other type at that name: follow the
    CNAME as NSD does, and stop at the end of the zone as Knot does -- the CNAME (and its RRSIG) alone,
    NOERROR, nothing in the other sections."""
    if q.rdtype not in ("NSEC", "NSEC3") or isinstance(n, Exception) or isinstance(t, Exception):
        return False
    here = _zone_of(q.qname)
    own = {dnsq.rrset_key(r) for r in n.answer if _zone_of(r.name) == here}
    return (t.rcode() == dns.rcode.NOERROR and t.flags == n.flags and _edns_text(t) == _edns_text(n)
            and dns.rdatatype.CNAME in _types(t) and _keys(t, "answer") == own
            and not t.authority and not t.additional)


@pytest.mark.parametrize("name", [n for n, _ in NAMES])
def test_tandem_answers_as_knot_and_nsd(reference, tandem_signed, name):
    """Every question about this name: where Knot and NSD agree, Tandem gives that answer; where they
    differ (a documented disagreement), Tandem gives one of the two."""
    problems = []
    for q in BY_NAME[name]:
        k, n = reference[q]
        t = ask(tandem_signed, q)
        vs_knot = _tandem_diff(k, t, q, "knot")
        if not vs_knot:
            continue
        if not diff(k, n, ("knot", "nsd")):
            problems.append("%s: Knot and NSD agree, Tandem differs:\n    %s" % (q, "\n    ".join(vs_knot)))
            continue
        vs_nsd = _tandem_diff(n, t, q, "nsd")
        if not vs_nsd:
            continue
        d = classify(q, k, n)
        if d is not None and d.id == "cname-into-another-zone" and _stopped_at_zone_end(q, n, t):
            continue
        problems.append("%s: Knot and NSD differ (%s), Tandem matches neither:\n  against Knot:\n    %s\n"
                        "  against NSD:\n    %s" % (q, d.id if d else "undocumented", "\n    ".join(vs_knot),
                                                    "\n    ".join(vs_nsd)))
    assert tandem_signed.alive(), "tandemd died"
    assert not problems, "Tandem differs on %d question(s) about %s:\n%s" % (len(problems), name,
                                                                            "\n".join(problems))
