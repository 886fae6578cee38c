"""test_dnssec_replication.py -- Knot DNS signs a zone and is Tandem's primary; Tandem, its secondary, answers
DNSSEC questions exactly as Knot does, through the first AXFR, an incremental change and a whole re-sign.

Knot signs repl.test. itself (`dnssec-signing: on`, a policy with ECDSA P-256, algorithm 13: NSEC in one
run, NSEC3 without salt or extra iterations in the other) and NOTIFYs Tandem; every transfer and NOTIFY is
signed with an hmac-sha256 key, as in test_replication_interop.py. Then:

1. After the first AXFR (Knot's and Tandem's logs say so), Tandem holds what Knot holds (the whole zone
   transferred from both and compared record by record, TTLs included: an RRSIG has the TTL of the RRset
   it covers) and answers the same ~100 questions with the DO bit as Knot does (compare() of
   test_differential.py: rcode, flags, EDNS, every section as a set of RRsets): positive answers with their
   RRSIGs, a CNAME, NXDOMAIN and NODATA with their NSEC/NSEC3 proofs (also at an empty non-terminal and for
   names all over the hashed chain), wildcard answers and wildcard NODATA, referrals to an insecure
   delegation (no DS, the proof of that) and to a secure one (DS and its RRSIG), the DNSKEY and NSEC3PARAM
   sets. delv, with Knot's key-signing key (asked from Knot) as trust anchor, validates Tandem's answers.
2. A record added on Knot (knotc zone-begin / zone-set / zone-commit): Knot signs it, fixes the NSEC/NSEC3
   chain around it, raises the serial and NOTIFYs; Tandem fetches it by IXFR (its log says IXFR, and no
   AXFR) and answers as Knot does, the new record's RRSIG and the chain around it included.
3. `knotc zone-sign`: every signature made anew, a new serial, an IXFR carrying all of them; Tandem still
   answers as Knot does, and delv still validates.

The same test runs with a second knotd as the secondary: the reference that shows the zone, the questions,
the trust anchor and the waits are right, so that a difference with Tandem is Tandem's. The comparisons are
collected and reported together at the end, so one run shows every step; a transfer that does not happen
(a serial not reached, no IXFR in the logs, an AXFR where an IXFR should be) stops the test at once. Every
wait is bounded (serials polled, log lines waited for).
"""

import random
import shutil
import time

import dns.query
import dns.rdatatype
import pytest

from harness import Acl, Key, Knot, Remote, Tandem, Zone, secondary
from harness import dnsq, xfr
from harness.ports import free_port
from harness.resolvers import Anchor, delv, have, write_bind_anchors
from test_differential import compare

ZONE = "repl.test."
CHANGE_WAIT = 20.0     # NOTIFY, then an IXFR of at most a few hundred records, on loopback
POLICIES = {
    "nsec": {"algorithm": "ecdsap256sha256", "nsec3": "off"},
    "nsec3": {"algorithm": "ecdsap256sha256", "nsec3": "on", "nsec3-iterations": 0, "nsec3-salt-length": 0},
}
# A DS for the secure delegation (the child is not served: only the parent side, the referral, is asked).
CHILD_DS = "sdeleg DS 12345 13 2 " + "5F" * 32

pytestmark = pytest.mark.skipif(not shutil.which(str(Knot.binary)), reason="knotd is not installed")


def _zone_text(serial):
    return xfr.zone_text(ZONE, serial, [
        "host.ent A 192.0.2.90",                     # ent.repl.test.: an empty non-terminal
        "*.wild A 192.0.2.81",
        '*.wild TXT "wildcard"',
        "deleg NS ns1.deleg",                        # insecure delegation, glue below it
        "ns1.deleg A 192.0.2.53",
        "xdeleg NS ns.example.net.",                 # insecure delegation, out-of-zone name server
        "sdeleg NS ns1.sdeleg",                      # secure delegation: DS in the parent
        "ns1.sdeleg A 192.0.2.54",
        CHILD_DS,
    ], hosts=20)


def _questions(flavour, extra_names=()):
    """(qname, type) pairs: every kind of answer the zone gives, in NSEC or NSEC3 form."""
    z = ZONE
    qs = [(z, t) for t in ("SOA", "NS", "MX", "TXT", "DNSKEY", "NSEC3PARAM", "A", "DS")]
    for name in ("www", "mail", "ns1", "h0", "h7", "h19"):
        qs += [(name + "." + z, t) for t in ("A", "AAAA", "TXT")]
    qs += [("ftp." + z, "A"), ("ftp." + z, "CNAME"), ("_sip._tcp." + z, "SRV"), ("_tcp." + z, "A")]
    qs += [("ent." + z, "A"), ("host.ent." + z, "A"), ("x.host.ent." + z, "A")]
    qs += [("wild." + z, "A"), ("a.wild." + z, "A"), ("b.c.wild." + z, "TXT"), ("a.wild." + z, "MX")]
    qs += [("deleg." + z, "NS"), ("deleg." + z, "DS"), ("www.deleg." + z, "A"), ("xdeleg." + z, "A"),
           ("sdeleg." + z, "NS"), ("sdeleg." + z, "DS"), ("www.sdeleg." + z, "AAAA")]
    qs += [("x.www." + z, "A"), ("zzz." + z, "A"), ("a." + z, "A")]
    rnd = random.Random(4035)   # the same names each run: NXDOMAIN proofs all over the (hashed) chain
    qs += [("nx%d-%x.%s" % (i, rnd.getrandbits(20), z), "A") for i in range(30)]
    if flavour == "nsec":
        qs += [(n + "." + z if n != "@" else z, "NSEC") for n in ("@", "www", "h0", "ent", "host.ent")]
    for name in extra_names:
        qs += [(name + "." + z, t) for t in ("A", "TXT", "NSEC")]
    return qs


def _differences(knot, tandem, questions):
    problems = []
    for qname, rdtype in questions:
        try:
            k = dnsq.ask(knot, qname, rdtype, do=True)
            t = dnsq.ask(tandem, qname, rdtype, do=True)
        except Exception as e:
            problems.append("%s %s: no usable answer: %r" % (qname, rdtype, e))
            continue
        diff = compare(k, t, "udp", rdtype)
        if diff:
            problems.append("%s %s (DO):\n    %s" % (qname, rdtype, "\n    ".join(diff)))
    return problems


def _same_answers(primary, secondary, questions, when):
    """Problems (a list of text) where the secondary's DO answers differ from the primary's."""
    problems = _differences(primary, secondary, questions)
    if not problems:
        return []
    return ["%s: %s and Knot differ on %d of %d DO questions:\n%s" % (
        when, secondary.kind, len(problems), len(questions), "\n".join(problems[:20]))]


def _validates(server, anchor_file, cases, when):
    """Problems where delv, trusting Knot's KSK only, does not validate the server's answers as wanted."""
    if not have("delv"):
        return []
    wrong = []
    for qname, rdtype, want in cases:
        verdict, out = delv(server, qname, rdtype, anchor_file, ZONE)
        if verdict != want:
            wrong.append("%s %s: %s, wanted %s\n%s" % (qname, rdtype, verdict, want, out.strip()))
    return ["%s: delv against %s:\n%s" % (when, server.kind, "\n".join(wrong))] if wrong else []


def _knot_serial_after(knot, old, timeout=CHANGE_WAIT):
    """Waits (bounded) until Knot serves a serial other than old; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        s = xfr.soa_serial(knot, ZONE)
        if isinstance(s, int) and s != old:
            return s
        if time.monotonic() >= deadline:
            raise AssertionError("Knot still serves serial %s %.0fs later\n%s" % (s, timeout, knot.log_tail(30)))
        time.sleep(0.02)


def _records(server, key):
    """The zone by AXFR as a set of (owner, TTL, type, rdata) texts: every record, RRSIGs one by one."""
    out = set()
    for msg in dns.query.xfr(server.addr, ZONE, port=server.port, keyring=key.dns(), keyname=key.name,
                             lifetime=30.0, relativize=False):
        for rrset in msg.answer:
            for rd in rrset:
                out.add((rrset.name.to_text().lower(), rrset.ttl, dns.rdatatype.to_text(rrset.rdtype),
                         rd.to_text().lower()))
    return out


def _same_zone(knot, sec, key, when, problems):
    """Knot's records; a problem added when the secondary holds anything else (both transferred whole by
    the test and compared record by record, TTLs included: an RRSIG has the TTL of the RRset it covers)."""
    held, got = _records(knot, key), _records(sec, key)
    if held != got:
        lines = ["  only at knot:          %s" % " ".join(map(str, r)) for r in sorted(held - got)[:10]]
        lines += ["  only at the secondary: %s" % " ".join(map(str, r)) for r in sorted(got - held)[:10]]
        problems.append("%s: %s holds something else than Knot (%d and %d records differ):\n%s"
                        % (when, sec.kind, len(held - got), len(got - held), "\n".join(lines)))
    return held


def _sigs(records, owner):
    return {r for r in records if r[0] == owner and r[2] == "RRSIG"}


def _knotc(knot, *args):
    r = knot.knotc(*args)
    assert r.returncode == 0, "knotc %s: %s%s" % (" ".join(map(str, args)), r.stdout, r.stderr)
    return r.stdout


VALIDATE = [("www." + ZONE, "A", "secure"), ("nx." + ZONE, "A", "secure nxdomain"),
            ("mail." + ZONE, "TXT", "secure nodata"), ("ent." + ZONE, "A", "secure nodata"),
            ("a.wild." + ZONE, "A", "secure"),
            ("deleg." + ZONE, "DS", "secure nodata"), ("sdeleg." + ZONE, "DS", "secure")]


def _transferred(knot, sec, kind, old, new, mark, sec_mark):
    """The transfer that brought serial new: Knot logged it going out (AXFR from nothing, IXFR otherwise)
    and the secondary, when it is Tandem, logged it coming in; no AXFR after the first."""
    at = r"127\.0\.0\.1@\d+"
    if kind == "AXFR":
        knot.wait_log(r"\[repl\.test\.\] AXFR, outgoing, remote %s, started, serial %d" % (at, new), mark=mark)
    else:
        knot.wait_log(r"\[repl\.test\.\] IXFR, outgoing, remote %s, started, serial %d -> %d" % (at, old, new),
                      mark=mark)
        assert "AXFR, outgoing" not in knot.log_since(mark), knot.log_since(mark)
    if isinstance(sec, Tandem):
        sec.wait_log(r"repl\.test\.: %s from 127\.0\.0\.1@%d serial %d -> %d, " % (kind, knot.port, old or 0, new),
                     mark=sec_mark)
        if kind == "IXFR":
            since = sec.log_since(sec_mark)
            assert "AXFR from" not in since and "falling back" not in since, since


SECONDARIES = {"knot": Knot, "tandem": Tandem}


@pytest.mark.parametrize("flavour", ["nsec", "nsec3"])
@pytest.mark.parametrize("kind", ["knot", "tandem"])
def test_knot_signs_its_secondary_answers_the_same_through_axfr_ixfr_and_a_resign(kind, flavour, tmp_path):
    """kind "knot": another knotd as the secondary, the reference that shows the test itself is right."""
    key = Key.generate("xfr-key.", "hmac-sha256")
    sec_port = free_port()
    source = tmp_path / "repl.test.zone"
    source.write_text(_zone_text(1))
    zone = Zone(ZONE, source, notify=[Remote("127.0.0.1", sec_port, key)], acl=[Acl(["127.0.0.1"], key)])
    knot = Knot(tmp_path, [zone], policies={"p13": POLICIES[flavour]},
                zone_options={ZONE: {"dnssec-signing": "on", "dnssec-policy": "p13"}}, name="primary")
    problems = []
    with knot:
        anchor = Anchor.from_server(knot, ZONE)
        anchor_file = write_bind_anchors(tmp_path / "anchor.conf", [anchor])
        serial = xfr.soa_serial(knot, ZONE)
        assert isinstance(serial, int), serial
        mark = knot.log_mark()
        sec_zone = secondary(ZONE, [Remote.of(knot, key)], acl=[Acl(["127.0.0.1"], key)])
        with SECONDARIES[kind](tmp_path, [sec_zone], port=sec_port) as sec:
            # 1. The first transfer: the whole signed zone.
            xfr.wait_serial(sec, ZONE, serial, timeout=CHANGE_WAIT)
            _transferred(knot, sec, "AXFR", None, serial, mark, 0)
            held = _same_zone(knot, sec, key, "after the first AXFR", problems)
            assert any(r[2] == ("NSEC3" if flavour == "nsec3" else "NSEC") for r in held), \
                "Knot did not sign the zone as asked"
            problems += _same_answers(knot, sec, _questions(flavour), "after the first AXFR")
            problems += _validates(sec, anchor_file, VALIDATE + [("ftp." + ZONE, "A", "secure")],
                                   "after the first AXFR")

            # 2. A record added on Knot: signed there, the chain fixed around it, by IXFR to the secondary.
            mark, sec_mark = knot.log_mark(), sec.log_mark()
            _knotc(knot, "zone-begin", ZONE)
            _knotc(knot, "zone-set", ZONE, "m-new", 3600, "A", "192.0.2.99")
            _knotc(knot, "zone-set", ZONE, "www", 3600, "TXT", '"added"')
            _knotc(knot, "zone-commit", ZONE)
            new_serial = _knot_serial_after(knot, serial)
            xfr.wait_serial(sec, ZONE, new_serial, timeout=CHANGE_WAIT)
            _transferred(knot, sec, "IXFR", serial, new_serial, mark, sec_mark)
            held = _same_zone(knot, sec, key, "after the IXFR of a new record", problems)
            assert _sigs(held, "m-new.repl.test."), "Knot did not sign the new record"
            # The new name and its neighbours in the NSEC chain (canonical order: h9 < m-new < mail), names
            # the new NSEC records cover (m, m-new.x), and the NSEC3 chain through the 30 NXDOMAIN names.
            problems += _same_answers(knot, sec, _questions(flavour, ["m-new", "m", "m-new.x", "h9", "mail"]),
                                      "after an IXFR of a new record")
            problems += _validates(sec, anchor_file, VALIDATE + [("m-new." + ZONE, "A", "secure"),
                                                                 ("www." + ZONE, "TXT", "secure"),
                                                                 ("m-newer." + ZONE, "A", "secure nxdomain")],
                                   "after an IXFR of a new record")

            # 3. The whole zone signed again: every RRSIG new, by IXFR.
            serial = new_serial
            mark, sec_mark = knot.log_mark(), sec.log_mark()
            _knotc(knot, "zone-sign", ZONE)
            new_serial = _knot_serial_after(knot, serial)
            xfr.wait_serial(sec, ZONE, new_serial, timeout=CHANGE_WAIT)
            _transferred(knot, sec, "IXFR", serial, new_serial, mark, sec_mark)
            resigned = _same_zone(knot, sec, key, "after the IXFR of the re-signed zone", problems)
            assert not _sigs(resigned, "www.repl.test.") & _sigs(held, "www.repl.test."), \
                "knotc zone-sign made no new signatures"
            problems += _same_answers(knot, sec, _questions(flavour, ["m-new"]), "after an IXFR of a re-signed zone")
            problems += _validates(sec, anchor_file, VALIDATE + [("m-new." + ZONE, "A", "secure")],
                                   "after an IXFR of a re-signed zone")
    assert not problems, "\n\n".join(problems)
