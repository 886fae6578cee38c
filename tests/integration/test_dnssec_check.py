"""test_dnssec_check.py -- a signed zone whose signatures have expired, or whose NSEC chain is broken, is
reported (issue 7): `tandemd --check` prints a warning naming the zone and the problem and still accepts the
zone; a secondary that receives such a zone by AXFR logs the same warning and serves what its primary sent
(a secondary must serve exactly what its primary serves: refusing it would only make the zone vanish)."""

import re

import dns.flags
import dns.rcode
import dns.rdatatype
import pytest

import dnssec_zones
from harness import Acl, Remote, Tandem, Zone, secondary
from harness import dnsq, xfr

pytestmark = pytest.mark.skipif(not dnssec_zones.available(), reason="dnssec-signzone missing (bind9-utils)")

ZONE = "nsec.test."
SPEC = [s for s in dnssec_zones.SPECS if s.name == ZONE][0]
EXPIRED = ("20200101000000", "20200201000000")


def _check(tmp_path, path):
    s = Tandem(tmp_path, [Zone(ZONE, source=path)])
    r = s.check(s.prepare())
    return r.returncode, r.stdout + r.stderr


def test_check_warns_of_expired_signatures_and_accepts_the_zone(tmp_path):
    signed = dnssec_zones.sign_zone(SPEC, tmp_path / "keys", validity=EXPIRED, verify=False)
    rc, out = _check(tmp_path, signed.path)
    assert rc == 0, out
    assert re.search(r"nsec\.test\.: DNSSEC: nsec\.test\. SOA: signature expired", out), out
    assert "more DNSSEC problems" in out, out   # dozens of them, summed up after the first five


def test_check_is_quiet_about_a_good_signed_zone(tmp_path):
    signed = dnssec_zones.sign_zone(SPEC, tmp_path / "keys")
    rc, out = _check(tmp_path, signed.path)
    assert rc == 0 and "DNSSEC" not in out, out


def test_check_warns_of_a_broken_nsec_chain(tmp_path):
    signed = dnssec_zones.sign_zone(SPEC, tmp_path / "keys")
    # www.nsec.test. keeps its data but loses its NSEC and that NSEC's RRSIG: the previous NSEC now names
    # a next owner that is not the next NSEC owner of the chain.
    lines = signed.path.read_text().splitlines()
    def is_www_nsec(ln):
        t = ln.split()   # owner TTL class type rdata..., one record a line (-O full)
        return len(t) > 4 and t[0] == "www.nsec.test." and (t[3] == "NSEC" or t[3:5] == ["RRSIG", "NSEC"])
    cut = [ln for ln in lines if is_www_nsec(ln)]
    assert len(cut) == 2, cut
    broken = tmp_path / "broken.zone"
    broken.write_text("\n".join(ln for ln in lines if ln not in cut) + "\n")
    rc, out = _check(tmp_path, broken)
    assert rc == 0, out
    assert re.search(r"nsec\.test\.: DNSSEC: \S+: NSEC chain broken", out), out


def test_a_secondary_warns_and_serves_what_its_primary_sent(tmp_path):
    signed = dnssec_zones.sign_zone(SPEC, tmp_path / "keys", validity=EXPIRED, verify=False)
    primary = Tandem(tmp_path, [Zone(ZONE, source=signed.path, acl=[Acl(["127.0.0.1"])])], name="primary")
    with primary as p:
        second = Tandem(tmp_path, [secondary(ZONE, [Remote(p.addr, p.port)])], name="secondary")
        with second as s:
            serial = dnsq.ask(p, ZONE, "SOA").answer[0][0].serial
            xfr.wait_serial(s, ZONE, serial, timeout=10)
            s.wait_log(r"nsec\.test\.: DNSSEC: nsec\.test\. SOA: signature expired")
            r = dnsq.ask(s, ZONE, "SOA", do=True)
            assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
            assert dnsq.get_rrset(r.answer, ZONE, dns.rdatatype.RRSIG) is not None, r.to_text()
