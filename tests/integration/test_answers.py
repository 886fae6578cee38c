"""test_answers.py -- every answering rule of SPEC.md "Serving", asked of a running tandemd.

One tandemd serves tests/data/zones (example.com, example.net, child.example.com) on 127.0.0.1 and ::1 for
the whole module, with identity ns1.tandem.test and a 2 s TCP idle timeout. Each test is one rule, told
the way an operator would check it with dig.
"""

import re
import socket
import struct
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

from conftest import IDENTITY, skip_machine
from harness import Tandem, dnsq, have_ipv6, ports, zones
from harness.dnsq import get_rrset, types_in


def rrs(section):
    """A section as sorted text lines 'owner ttl type rdata', owners lower-cased, for exact assertions."""
    out = []
    for rrset in section:
        for rd in rrset:
            out.append("%s %d %s %s" % (rrset.name.to_text().lower(), rrset.ttl,
                                        dns.rdatatype.to_text(rrset.rdtype), rd.to_text().lower()))
    return sorted(out)


def owners_in_order(section):
    return [(r.name.to_text().lower(), dns.rdatatype.to_text(r.rdtype)) for r in section]


def aa(r):
    return bool(r.flags & dns.flags.AA)


def soa_only(r, zone="example.com.", ttl=300):
    """The authority section of a negative answer: the zone's SOA alone, with the negative TTL."""
    assert types_in(r.authority) == [(zone, "SOA")], r.to_text()
    assert r.authority[0].ttl == ttl, r.to_text()


@pytest.fixture(scope="module")
def ask(tandem):
    def ask(qname, rdtype="A", **kw):
        r = dnsq.ask(tandem, qname, rdtype, **kw)
        assert r.counts[1:] == (sum(len(x) for x in r.answer), sum(len(x) for x in r.authority),
                                sum(len(x) for x in r.additional) + (1 if r.edns >= 0 else 0)), \
            "an RR repeated on the wire: %s %s\n%s" % (qname, rdtype, r.to_text())
        return r
    return ask


# ---- RFC 1034 4.3.2: authoritative data, additional section

def test_an_authoritative_answer_has_aa_and_the_rrset(ask):
    r = ask("www.example.com.", "A")
    assert r.rcode() == dns.rcode.NOERROR and aa(r)
    assert rrs(r.answer) == ["www.example.com. 3600 A 192.0.2.80"]
    assert not r.authority and not r.additional


def test_apex_ns_brings_addresses_of_in_zone_name_servers(ask):
    r = ask("example.com.", "NS")
    assert aa(r)
    assert rrs(r.answer) == ["example.com. 3600 NS ns1.example.com.", "example.com. 3600 NS ns2.example.com.",
                             "example.com. 3600 NS ns3.example.net."]
    # ns3.example.net is in another zone: RFC 1034 4.3.2 step 6 adds only what this zone holds
    assert rrs(r.additional) == ["ns1.example.com. 3600 A 192.0.2.53", "ns1.example.com. 3600 AAAA 2001:db8::53",
                                 "ns2.example.com. 3600 A 192.0.2.54"]


def test_mx_and_srv_targets_get_their_addresses_in_additional(ask):
    r = ask("example.com.", "MX")
    assert rrs(r.additional) == ["mail.example.com. 3600 A 192.0.2.25", "mail.example.com. 3600 AAAA 2001:db8::25"]
    r = ask("_sip._tcp.example.com.", "SRV")
    assert len(r.answer[0]) == 2
    assert rrs(r.additional) == ["sip.example.com. 3600 A 192.0.2.60", "sip.example.com. 3600 AAAA 2001:db8::60"]
    r = ask("mx-out.example.com.", "MX")
    assert not r.additional


def test_unknown_and_opaque_types_are_served_as_written(ask):
    r = ask("unk.example.com.", "TYPE65000")
    assert aa(r) and r.answer[0][0].to_text() == r"\# 4 0a000001"
    r = ask("unk.example.com.", "TYPE65001")
    assert r.answer[0][0].to_text().strip() == r"\# 0"
    r = ask("asis.example.com.", "A")
    assert rrs(r.answer) == ["asis.example.com. 3600 A 192.0.2.2"]
    r = ask("types.example.com.", "CAA")
    assert rrs(r.answer) == ['types.example.com. 3600 CAA 0 issue "ca.example.net"']


def test_a_long_txt_record_comes_whole_over_udp_when_it_fits(ask):
    r = ask("longtxt.example.com.", "TXT")
    assert not (r.flags & dns.flags.TC)
    assert [len(s) for s in r.answer[0][0].strings] == [255] * 4


# ---- CNAME (RFC 1034 4.3.2 step 3a)

def test_a_cname_chain_inside_the_zone_is_followed_in_order(ask):
    r = ask("alias1.example.com.", "A")
    assert aa(r) and r.rcode() == dns.rcode.NOERROR
    assert owners_in_order(r.answer) == [("alias1.example.com.", "CNAME"), ("alias2.example.com.", "CNAME"),
                                         ("alias3.example.com.", "CNAME"), ("www.example.com.", "A")]


def test_a_cname_leaving_our_zones_is_not_followed(ask):
    for name in ("out.example.com.", "out-served.example.com."):   # the second points into example.net
        r = ask(name, "A")
        assert r.rcode() == dns.rcode.NOERROR and aa(r)
        assert owners_in_order(r.answer) == [(name, "CNAME")], r.to_text()
        assert not r.authority


def test_a_cname_to_a_missing_name_is_nxdomain_with_the_cname(ask):
    r = ask("dangling.example.com.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN and aa(r)       # RFC 6604: the rcode of the last name
    assert owners_in_order(r.answer) == [("dangling.example.com.", "CNAME")]
    soa_only(r)


def test_a_cname_loop_ends_with_each_record_once(ask):
    r = ask("loop1.example.com.", "A")
    assert r.rcode() == dns.rcode.NOERROR
    assert r.counts[1] == 2, "answer count %d:\n%s" % (r.counts[1], r.to_text())
    r = ask("self.example.com.", "A")
    assert r.counts[1] == 1, "answer count %d:\n%s" % (r.counts[1], r.to_text())


def test_asking_for_the_cname_itself_gives_only_the_cname(ask):
    r = ask("alias1.example.com.", "CNAME")
    assert rrs(r.answer) == ["alias1.example.com. 3600 CNAME alias2.example.com."]
    assert not r.additional


def test_a_cname_into_a_delegation_gives_the_referral_after_it(ask):
    r = ask("cname-deleg.example.com.", "A")
    assert owners_in_order(r.answer) == [("cname-deleg.example.com.", "CNAME")]
    assert types_in(r.authority) == [("deleg.example.com.", "NS")]
    assert aa(r), "the CNAME is our authoritative data: AA stays set (as Knot does)"


# ---- DNAME (RFC 6672)

def test_a_dname_inside_the_zone_is_synthesised_and_followed(ask):
    r = ask("www.dname-in.example.com.", "A")
    assert aa(r) and r.rcode() == dns.rcode.NOERROR
    assert owners_in_order(r.answer) == [("dname-in.example.com.", "DNAME"), ("www.dname-in.example.com.", "CNAME"),
                                         ("www.target-in.example.com.", "A")]
    cname = get_rrset(r.answer, "www.dname-in.example.com.", "CNAME")
    assert cname[0].target == dns.name.from_text("www.target-in.example.com.")
    assert cname.ttl == get_rrset(r.answer, "dname-in.example.com.", "DNAME").ttl   # RFC 6672 3.3


def test_a_dname_then_a_cname_then_an_address(ask):
    r = ask("chain.dname-in.example.com.", "A")
    assert owners_in_order(r.answer) == [("dname-in.example.com.", "DNAME"), ("chain.dname-in.example.com.", "CNAME"),
                                         ("chain.target-in.example.com.", "CNAME"), ("www.example.com.", "A")]


def test_a_cname_into_a_dname(ask):
    r = ask("cname-dname.example.com.", "A")
    assert owners_in_order(r.answer) == [("cname-dname.example.com.", "CNAME"), ("dname-in.example.com.", "DNAME"),
                                         ("www.dname-in.example.com.", "CNAME"), ("www.target-in.example.com.", "A")]


def test_a_dname_leaving_the_zone_stops_after_the_synthesised_cname(ask):
    r = ask("host.dname.example.com.", "A")
    assert r.rcode() == dns.rcode.NOERROR and aa(r)
    assert rrs(r.answer) == ["dname.example.com. 3600 DNAME example.net.",
                             "host.dname.example.com. 3600 CNAME host.example.net."]


def test_the_dname_owner_itself_is_not_rewritten(ask):
    assert rrs(ask("dname-in.example.com.", "A").answer) == ["dname-in.example.com. 3600 A 192.0.2.140"]
    assert rrs(ask("dname-in.example.com.", "DNAME").answer) == [
        "dname-in.example.com. 3600 DNAME target-in.example.com."]


def test_asking_for_a_cname_below_a_dname_stops_at_the_synthesised_cname(ask):
    r = ask("chain.dname-in.example.com.", "CNAME")
    assert r.rcode() == dns.rcode.NOERROR
    assert owners_in_order(r.answer) == [("dname-in.example.com.", "DNAME"), ("chain.dname-in.example.com.", "CNAME")]
    assert not r.authority


def test_a_dname_result_longer_than_255_octets_is_yxdomain(ask):
    qname = ("a" * 63) + "." + ("b" * 63) + ".long-dname.example.com."
    r = ask(qname, "A")
    assert r.rcode() == dns.rcode.YXDOMAIN
    assert owners_in_order(r.answer) == [("long-dname.example.com.", "DNAME")]


# ---- wildcards (RFC 4592)

def test_a_wildcard_answers_with_the_query_name_as_owner(ask):
    r = ask("anything.wild.example.com.", "A")
    assert aa(r) and rrs(r.answer) == ["anything.wild.example.com. 3600 A 192.0.2.100"]
    r = ask("a.b.c.wild.example.com.", "TXT")          # several labels in place of "*"
    assert rrs(r.answer) == ['a.b.c.wild.example.com. 3600 TXT "wildcard"']
    r = ask("m.wild.example.com.", "MX")               # additional processing of synthesised data
    assert rrs(r.additional) == ["mail.example.com. 3600 A 192.0.2.25", "mail.example.com. 3600 AAAA 2001:db8::25"]


def test_a_wildcard_without_the_type_is_nodata(ask):
    r = ask("anything.wild.example.com.", "AAAA")
    assert r.rcode() == dns.rcode.NOERROR and aa(r) and not r.answer
    soa_only(r)


def test_an_existing_name_blocks_the_wildcard(ask):
    r = ask("host.sub.example.com.", "AAAA")           # exists (A only): NODATA, not *.sub
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    r = ask("other.sub.example.com.", "A")             # a sibling with TXT only
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    r = ask("foo.sub.example.com.", "A")               # no such sibling: the wildcard
    assert rrs(r.answer) == ["foo.sub.example.com. 3600 A 192.0.2.110"]


def test_below_an_existing_name_the_closest_encloser_decides(ask):
    # closest encloser sub.wild exists and has no "*" child: NXDOMAIN, not *.wild
    r = ask("x.sub.wild.example.com.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN and aa(r) and not r.answer
    soa_only(r)
    r = ask("deep.host.sub.example.com.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN


def test_a_wildcard_under_empty_non_terminals(ask):
    r = ask("x.ent-wild.deep.example.com.", "A")
    assert rrs(r.answer) == ["x.ent-wild.deep.example.com. 3600 A 192.0.2.120"]
    for ent in ("deep.example.com.", "ent-wild.deep.example.com."):
        r = ask(ent, "A")
        assert r.rcode() == dns.rcode.NOERROR and not r.answer, ent
        soa_only(r)


def test_a_wildcard_that_is_an_empty_non_terminal_gives_nodata(ask):
    r = ask("foo.wild2.example.com.", "A")             # *.wild2 exists only as parent of sub.*.wild2
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    soa_only(r)


def test_a_wildcard_cname_is_synthesised_and_followed(ask):
    r = ask("x.cwild.example.com.", "A")
    assert owners_in_order(r.answer) == [("x.cwild.example.com.", "CNAME"), ("www.example.com.", "A")]
    r = ask("y.cwild-chain.example.com.", "A")         # wildcard CNAME to another wildcard
    assert rrs(r.answer) == ["x.wild.example.com. 3600 A 192.0.2.100",
                             "y.cwild-chain.example.com. 3600 CNAME x.wild.example.com."]
    r = ask("z.cwild-out.example.com.", "A")
    assert rrs(r.answer) == ["z.cwild-out.example.com. 3600 CNAME target.example.org."]


# ---- empty non-terminals

def test_an_empty_non_terminal_is_nodata_not_nxdomain(ask):
    for name in ("ent.example.com.", "c.ent.example.com.", "b.c.ent.example.com."):
        r = ask(name, "A")
        assert r.rcode() == dns.rcode.NOERROR and aa(r) and not r.answer, name
        soa_only(r)
    assert rrs(ask("a.b.c.ent.example.com.", "A").answer) == ["a.b.c.ent.example.com. 3600 A 192.0.2.130"]


# ---- referrals and DS

def test_a_name_below_a_delegation_gets_a_referral_with_glue(ask):
    r = ask("www.deleg.example.com.", "A")
    assert r.rcode() == dns.rcode.NOERROR and not aa(r) and not r.answer
    assert rrs(r.authority) == ["deleg.example.com. 3600 NS ns.example.net.",
                                "deleg.example.com. 3600 NS ns1.deleg.example.com.",
                                "deleg.example.com. 3600 NS ns1.example.com."]
    # glue below the cut, and the in-zone address of the sibling name server; nothing for example.net
    assert rrs(r.additional) == ["ns1.deleg.example.com. 3600 A 192.0.2.210",
                                 "ns1.deleg.example.com. 3600 AAAA 2001:db8::210",
                                 "ns1.example.com. 3600 A 192.0.2.53", "ns1.example.com. 3600 AAAA 2001:db8::53"]


def test_the_delegation_point_itself_is_a_referral(ask):
    r = ask("deleg.example.com.", "NS")
    assert not aa(r) and not r.answer and types_in(r.authority) == [("deleg.example.com.", "NS")]
    r = ask("ns1.deleg.example.com.", "A")             # glue is not authoritative data: a referral too
    assert not aa(r) and not r.answer


def test_a_delegation_without_glue_refers_with_an_empty_additional(ask):
    r = ask("host.noglue.example.com.", "A")
    assert not aa(r) and types_in(r.authority) == [("noglue.example.com.", "NS")]
    assert not r.additional


def test_ds_is_answered_from_the_parent_side(ask):
    r = ask("deleg.example.com.", "DS")
    assert aa(r) and types_in(r.answer) == [("deleg.example.com.", "DS")]
    # child.example.com is also served by us: its DS still comes from example.com
    r = ask("child.example.com.", "DS")
    assert aa(r) and rrs(r.answer) == [
        "child.example.com. 3600 DS 12345 13 2 2bb183af5f22588179a53b0a98631fad1a292118c8af8e18b9f38de69da2e0e0"]
    r = ask("noglue.example.com.", "DS")               # no DS at this cut: NODATA from the parent
    assert r.rcode() == dns.rcode.NOERROR and aa(r) and not r.answer
    soa_only(r)


def test_a_served_child_zone_answers_for_itself(ask):
    r = ask("child.example.com.", "SOA")
    assert aa(r) and r.answer[0].name == dns.name.from_text("child.example.com.")
    r = ask("www.child.example.com.", "A")
    assert aa(r) and rrs(r.answer) == ["www.child.example.com. 3600 A 192.0.2.201"]


# ---- negative answers (RFC 2308)

def test_nxdomain_carries_the_soa_with_the_negative_ttl(ask):
    r = ask("nothere.example.com.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN and aa(r) and not r.answer
    soa_only(r, ttl=300)                               # min(SOA TTL 3600, MINIMUM 300)
    r = ask("nothere.example.net.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN
    soa_only(r, zone="example.net.", ttl=60)           # min(SOA TTL 60, MINIMUM 600)


def test_nodata_carries_the_soa_with_the_negative_ttl(ask):
    r = ask("www.example.com.", "MX")
    assert r.rcode() == dns.rcode.NOERROR and aa(r) and not r.answer
    soa_only(r, ttl=300)
    r = ask("www.example.net.", "TXT")
    soa_only(r, zone="example.net.", ttl=60)


# ---- outside our zones, odd opcodes, odd questions

def test_names_outside_our_zones_are_refused(ask):
    for name in ("www.example.org.", ".", "com.", "xexample.com."):
        r = ask(name, "A")
        assert r.rcode() == dns.rcode.REFUSED and not aa(r), name
        assert not r.answer and not r.authority, name


def test_unknown_opcodes_get_notimp(tandem):
    for opcode in (2, 3, 15):                          # STATUS and two unassigned opcodes
        q = struct.pack("!6H", 0x4242, opcode << 11, 1, 0, 0, 0) + b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
        wire = dnsq.udp_raw(tandem, q)
        assert wire is not None, "no answer to opcode %d" % opcode
        qid, flags = struct.unpack("!HH", wire[:4])
        assert qid == 0x4242 and flags & 0x8000, "opcode %d" % opcode
        assert (flags >> 11) & 0xF == opcode and flags & 0xF == dns.rcode.NOTIMP, "opcode %d: %04x" % (opcode, flags)


def test_unknown_opcodes_get_notimp_whatever_their_question(tandem):
    """Regression (issue 8, item 16): an unknown opcode with no question, two questions or a question that does
    not parse got FORMERR; an opcode we do not implement says nothing of its sections, so it is NOTIMP (ISC's
    genreport checks this)."""
    www = b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
    cases = {
        "no question": struct.pack("!6H", 0x4245, 15 << 11, 0, 0, 0, 0),
        "two questions": struct.pack("!6H", 0x4246, 14 << 11, 2, 0, 0, 0) + www + www,
        "cut question": struct.pack("!6H", 0x4247, 3 << 11, 1, 0, 0, 0) + www[:6],
    }
    for label, q in cases.items():
        wire = dnsq.udp_raw(tandem, q)
        assert wire is not None, "no answer (%s)" % label
        qid, flags = struct.unpack("!HH", wire[:4])
        assert qid == struct.unpack("!H", q[:2])[0] and flags & 0x8000, label
        assert flags & 0xF == dns.rcode.NOTIMP, "%s: rcode %d" % (label, flags & 0xF)
    # A plain QUERY with no question is still malformed: FORMERR.
    wire = dnsq.udp_raw(tandem, struct.pack("!6H", 0x4248, 0, 0, 0, 0, 0))
    assert wire is not None and struct.unpack("!HH", wire[:4])[1] & 0xF == dns.rcode.FORMERR


def test_a_malformed_query_gets_formerr(tandem):
    header_only = struct.pack("!6H", 0x4243, 0, 0, 0, 0, 0)           # QDCOUNT 0
    trailing = struct.pack("!6H", 0x4244, 0, 1, 0, 0, 0) + b"\x03www\x07example\x03com\x00\x00\x01\x00\x01\x00\x00"
    claims_answer = struct.pack("!6H", 0x4245, 0, 1, 1, 0, 0) + b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
    for q in (header_only, trailing, claims_answer):
        wire = dnsq.udp_raw(tandem, q)
        assert wire is not None
        r = dns.message.from_wire(wire)
        assert r.id == struct.unpack("!H", q[:2])[0] and r.rcode() == dns.rcode.FORMERR, r.to_text()


def test_other_classes_are_refused_and_ch_id_server_tells_the_identity(ask):
    r = ask("www.example.com.", "A", rdclass="CH")
    assert r.rcode() == dns.rcode.REFUSED
    r = ask("id.server.", "TXT", rdclass="CH")
    assert r.rcode() == dns.rcode.NOERROR
    assert [s.decode() for s in r.answer[0][0].strings] == [IDENTITY]
    assert r.answer[0].rdclass == dns.rdataclass.CH


# ---- minimal ANY (RFC 8482)

# Over UDP the one RRset is the node's lowest type (docs/behaviour.md). The apex holds SOA, NS, MX, A, AAAA
# and TXT, written in that order: the lowest type (A) is not the first in the file.
ANY_LOWEST = [("example.com.", "A"), ("www.example.com.", "A"), ("types.example.com.", "HINFO"),
              ("unk.example.com.", "TYPE65000"), ("ns1.example.com.", "A")]


@pytest.mark.parametrize("name,lowest", ANY_LOWEST)
def test_any_over_udp_gives_the_lowest_type(ask, name, lowest):
    r = ask(name, "ANY")
    assert aa(r) and r.counts[1] >= 1 and types_in(r.answer) == [(name, lowest)], r.to_text()
    assert r.counts[1] == len(r.answer[0]), "more than one RRset:\n%s" % r.to_text()


def test_any_over_udp_gives_one_rrset_and_over_tcp_all(ask):
    r = ask("www.example.com.", "ANY")
    assert aa(r) and len(r.answer) == 1 and r.counts[1] == 1, r.to_text()
    assert r.answer[0].rdtype == dns.rdatatype.A
    r = ask("www.example.com.", "ANY", tcp=True)
    assert aa(r) and types_in(r.answer) == [("www.example.com.", "A"), ("www.example.com.", "AAAA"),
                                            ("www.example.com.", "TXT")]


def test_any_for_a_missing_name_is_still_nxdomain(ask):
    r = ask("nothere.example.com.", "ANY")
    assert r.rcode() == dns.rcode.NXDOMAIN
    soa_only(r)


# ---- names and case

def test_the_question_keeps_the_askers_case_and_matching_ignores_case(ask):
    r = ask("WwW.ExAmPlE.CoM.", "A")
    assert r.question[0].name.to_text() == "WwW.ExAmPlE.CoM."           # byte for byte
    assert rrs(r.answer) == ["www.example.com. 3600 A 192.0.2.80"]
    r = ask("upper.example.com.", "A")                                  # written UPPER in the file
    assert rrs(r.answer) == ["upper.example.com. 3600 A 192.0.2.70"]
    r = ask("MIXED.case.EXAMPLE.com.", "A")
    assert rrs(r.answer) == ["mixed.case.example.com. 3600 A 192.0.2.71"]
    r = ask("wWw2.example.com.", "A")                                  # WWW2 CNAME WWW in the file
    assert rrs(r.answer) == ["www.example.com. 3600 A 192.0.2.80", "www2.example.com. 3600 CNAME www.example.com."]


def test_a_wildcard_answer_keeps_the_askers_case_in_the_question(ask):
    r = ask("FoO.Wild.Example.Com.", "A")
    assert r.question[0].name.to_text() == "FoO.Wild.Example.Com."
    assert rrs(r.answer) == ["foo.wild.example.com. 3600 A 192.0.2.100"]


# ---- EDNS (RFC 6891, RFC 5001)

def test_edns_answers_advertise_1232_and_echo_do(ask):
    r = ask("www.example.com.", "A", payload=4096)
    assert r.edns == 0 and r.payload == 1232
    assert not (r.ednsflags & dns.flags.DO)
    r = ask("www.example.com.", "A", do=True)
    assert r.ednsflags & dns.flags.DO
    r = ask("www.example.com.", "A", edns=None)
    assert r.edns < 0, "no OPT in the query: none in the answer"


def test_an_answer_that_does_not_fit_sets_tc(ask):
    r = ask("bigA.example.com.", "A", payload=512)        # 60 addresses: about 1 KB
    assert r.flags & dns.flags.TC and r.rcode() == dns.rcode.NOERROR
    assert len(r.wire) <= 512
    r = ask("bigA.example.com.", "A", edns=None)           # no EDNS: 512 octets
    assert r.flags & dns.flags.TC and len(r.wire) <= 512
    r = ask("bigA.example.com.", "A")                      # fits in 1232
    assert not (r.flags & dns.flags.TC) and len(r.answer[0]) == 60
    r = ask("big.example.com.", "TXT", payload=4096)       # 3.3 KB: more than our 1232 even when asked for 4096
    assert r.flags & dns.flags.TC and len(r.wire) <= 1232
    r = ask("big.example.com.", "TXT", tcp=True)           # over TCP, all of it
    assert not (r.flags & dns.flags.TC) and len(r.answer[0]) == 30


def test_edns_version_1_gets_badvers(ask):
    r = ask("www.example.com.", "A", edns=1)
    assert r.rcode() == dns.rcode.BADVERS and r.edns == 0 and not r.answer


def test_nsid_tells_the_identity_when_asked(ask):
    r = ask("www.example.com.", "A", options=[dns.edns.GenericOption(dns.edns.NSID, b"")])
    nsid = [o for o in r.options if o.otype == dns.edns.NSID]
    assert len(nsid) == 1 and nsid[0].to_wire() == IDENTITY.encode()
    r = ask("www.example.com.", "A")
    assert not [o for o in r.options if o.otype == dns.edns.NSID]


# ---- transports

def test_the_same_answers_over_ipv6(tandem, ask):
    if not tandem.ipv6:
        skip_machine("no ::1 on this machine")
    r4 = ask("www.example.com.", "A")
    r6 = dnsq.ask(tandem, "www.example.com.", "A", addr="::1")
    r6t = dnsq.ask(tandem, "www.example.com.", "A", addr="::1", tcp=True)
    assert rrs(r4.answer) == rrs(r6.answer) == rrs(r6t.answer) and aa(r6)


def test_tcp_pipelining_answers_every_query_on_one_connection(tandem):
    names = ["www.example.com.", "mail.example.com.", "nothere.example.com.", "alias1.example.com.",
             "big.example.com.", "ns1.example.com.", "www.example.org.", "x.wild.example.com."] * 3
    queries = {}
    wire = b""
    for i, name in enumerate(names):
        q = dnsq.make(name, "TXT" if name.startswith("big") else "A", qid=1000 + i)
        queries[q.id] = name
        data = q.to_wire()
        wire += struct.pack("!H", len(data)) + data
    s = dnsq.tcp_connect(tandem)
    try:
        s.sendall(wire)                                      # all at once, before reading anything
        seen = {}
        for _ in names:
            data = dnsq.tcp_read_msg(s, timeout=3)
            assert data is not None, "only %d of %d answers came back" % (len(seen), len(names))
            r = dns.message.from_wire(data)
            assert r.id in queries and r.id not in seen
            assert r.question[0].name == dns.name.from_text(queries[r.id])
            seen[r.id] = r
    finally:
        s.close()
    # RFC 7766 6.2.1.1 lets a server answer out of order; Tandem answers in order (docs/behaviour.md).
    assert list(seen) == sorted(queries), "answers out of order: %s" % list(seen)
    assert seen[1000].answer and seen[1002].rcode() == dns.rcode.NXDOMAIN
    assert seen[1004].answer and len(seen[1004].answer[0]) == 30    # no TC over TCP


def test_tcp_connections_left_idle_are_closed(tandem):
    """tcp-idle-timeout: 2 -- an idle connection is closed by the server, after a query or before any."""
    start = time.monotonic()
    s1 = dnsq.tcp_connect(tandem)
    s2 = dnsq.tcp_connect(tandem)
    try:
        q = dnsq.make("www.example.com.", "A").to_wire()
        s2.sendall(struct.pack("!H", len(q)) + q)
        assert dnsq.tcp_read_msg(s2) is not None
        assert dnsq.peer_closed(s1, timeout=8), "silent connection still open after 8 s"
        assert dnsq.peer_closed(s2, timeout=8), "idle connection still open after 8 s"
        assert time.monotonic() - start >= 1.0, "closed before the idle timeout"
    finally:
        s1.close()
        s2.close()
    assert dnsq.ask(tandem, "www.example.com.", "A", tcp=True).answer


def test_udp_answers_go_back_from_the_address_asked(tandem):
    """A client connect()ed to 127.0.0.1 only accepts replies from it: the reply's source must match."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("127.0.0.1", tandem.port))
        s.settimeout(2)
        s.send(dnsq.make("www.example.com.", "A").to_wire())
        assert dns.message.from_wire(s.recv(4096)).answer
    finally:
        s.close()


class WildcardTandem(Tandem):
    """tandemd listening on the wildcard addresses 0.0.0.0 and :: (IPv6 where the machine has it); the
    harness asks it at 127.0.0.1."""

    def __init__(self, workdir, zone_list, port, v6, **kw):
        super().__init__(workdir, zone_list, port=port, **kw)
        self.v6 = v6

    def write_config(self):
        path = super().write_config()
        listen = ['"0.0.0.0@%d"' % self.port] + (['"::@%d"' % self.port] if self.v6 else [])
        text = re.sub(r"^  listen: \[.*\]$", "  listen: [%s]" % ", ".join(listen), path.read_text(), flags=re.M)
        path.write_text(text)
        return path


def wildcard_port(v6):
    """A port free for UDP and TCP on 0.0.0.0 (and on :: when v6); bounded."""
    for _ in range(50):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(("0.0.0.0", 0))
        port = probe.getsockname()[1]
        probe.close()
        families = [(socket.AF_INET, "0.0.0.0")] + ([(socket.AF_INET6, "::")] if v6 else [])
        ok = True
        for family, host in families:
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(family, kind)
                try:
                    if family == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind((host, port))
                except OSError:
                    ok = False
                finally:
                    s.close()
        if ok and port not in ports._given:
            ports._given.add(port)
            return port
    raise RuntimeError("no port free on the wildcard addresses")


@pytest.fixture(scope="module")
def wildcard(tmp_path_factory):
    v6 = have_ipv6()
    t = WildcardTandem(tmp_path_factory.mktemp("wildcard"), zones("example.com."), wildcard_port(v6), v6)
    with t:
        yield t


def ask_from(source, dest, port, qid):
    """A query from source to dest over UDP on an unconnected socket: (reply, the address it came from)."""
    family = socket.AF_INET6 if ":" in dest else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    try:
        s.bind((source, 0))
        s.settimeout(3)
        s.sendto(dnsq.make("www.example.com.", "A", qid=qid).to_wire(), (dest, port))
        while True:
            wire, frm = s.recvfrom(65535)
            if struct.unpack("!H", wire[:2])[0] == qid:
                return dns.message.from_wire(wire), frm[0]
    finally:
        s.close()


@pytest.mark.parametrize("source,dest", [("127.0.0.2", "127.0.0.1"), ("127.0.0.2", "127.0.0.3"),
                                         ("127.0.0.1", "127.0.0.54"), ("::1", "::1")])
def test_on_a_wildcard_address_udp_answers_leave_from_the_address_asked(wildcard, source, dest):
    """Listening on 0.0.0.0 and :: (IP_PKTINFO, IPV6_PKTINFO): a reply from another address than the one
    asked is dropped by clients that check (and by connected sockets). Without PKTINFO the kernel would
    pick 127.0.0.1 for every IPv4 reply here."""
    if ":" in dest and not wildcard.v6:
        skip_machine("no ::1 on this machine")
    r, frm = ask_from(source, dest, wildcard.port, qid=0x5a5a)
    assert frm == dest, "asked at %s, answered from %s" % (dest, frm)
    assert rrs(r.answer) == ["www.example.com. 3600 A 192.0.2.80"]
    tcp = dnsq.ask(wildcard, "www.example.com.", "A", tcp=True, addr=dest)
    assert rrs(tcp.answer) == ["www.example.com. 3600 A 192.0.2.80"]


def test_a_client_cookie_gets_a_server_cookie_back(ask):
    """RFC 7873 5.2: the client cookie is echoed, followed by a server cookie of 8 to 32 octets."""
    client = bytes.fromhex("0123456789abcdef")
    r = ask("www.example.com.", "A", options=[dns.edns.GenericOption(dns.edns.COOKIE, client)])
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    cookies = [o.to_wire() for o in r.options if o.otype == dns.edns.COOKIE]
    assert len(cookies) == 1, r.to_text()
    assert cookies[0][:8] == client and 16 <= len(cookies[0]) <= 40
    # RFC 7873 5.2.2: a COOKIE option of a malformed length is FORMERR
    r = ask("www.example.com.", "A", options=[dns.edns.GenericOption(dns.edns.COOKIE, b"\x01\x02\x03\x04\x05")])
    assert r.rcode() == dns.rcode.FORMERR


def test_a_name_with_repeated_labels_reads_back(tandem):
    """Regression (found by fuzz_query): the question `www.example.com.example.com.` -- what a stub resolver
    with a search list sends every day -- came back with its name compressed into itself (a pointer loop)
    and no client could read the answer."""
    for name in ("www.example.com.example.com.", "example.com.example.com.", "a.a.example.com."):
        r = dnsq.ask(tandem, name, "A")
        assert r.rcode() == dns.rcode.NXDOMAIN, dnsq.sig(r)
        assert r.question[0].name.to_text().lower() == name


class TwoAddressTandem(Tandem):
    """tandemd with 2 workers on 127.0.0.1 and 127.0.0.2: four UDP sockets, each with a thread of its own
    (server/udp.c), and two TCP loops."""

    def write_config(self):
        path = super().write_config()
        listen = '"127.0.0.1@%d", "127.0.0.2@%d"' % (self.port, self.port)
        text = re.sub(r"^  listen: \[.*\]$", "  listen: [%s]" % listen, path.read_text(), flags=re.M)
        path.write_text(text)
        return path


def two_address_port():
    """A port free for UDP and TCP on 127.0.0.1 (ports.free_port) and on 127.0.0.2; bounded."""
    for _ in range(50):
        port = ports.free_port()
        if ports.bindable("127.0.0.2", port):
            return port
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


def test_every_udp_socket_answers_and_a_stop_wakes_every_udp_thread(tmp_path):
    """Each worker's UDP socket per address is served by a thread that sleeps in recvmmsg itself. Queries
    from 64 source ports to each address (SO_REUSEPORT spreads them over both workers' sockets) are all
    answered; then SIGTERM while a client keeps sending to both addresses: every UDP thread is woken by its
    socket's shutdown, so the server exits cleanly (status 0) at once, not after the harness's SIGKILL."""
    import threading
    t = TwoAddressTandem(tmp_path, zones("example.com."), port=two_address_port())
    with t:
        for dest in ("127.0.0.1", "127.0.0.2"):
            socks = []
            try:
                for i in range(64):
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind(("127.0.0.9", 0))
                    s.settimeout(3)
                    socks.append(s)
                    s.sendto(dnsq.make("www.example.com.", "A", qid=i).to_wire(), (dest, t.port))
                for i, s in enumerate(socks):
                    wire, frm = s.recvfrom(65535)
                    r = dns.message.from_wire(wire)
                    assert frm[0] == dest and r.id == i
                    assert rrs(r.answer) == ["www.example.com. 3600 A 192.0.2.80"]
            finally:
                for s in socks:
                    s.close()
        stop = threading.Event()

        def flood():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            wire = dnsq.make("www.example.com.", "A").to_wire()
            deadline = time.monotonic() + 20
            try:
                while not stop.is_set() and time.monotonic() < deadline:
                    for dest in ("127.0.0.1", "127.0.0.2"):
                        s.sendto(wire, (dest, t.port))
            finally:
                s.close()

        sender = threading.Thread(target=flood)
        sender.start()
        try:
            time.sleep(0.5)
            started = time.monotonic()
            rc = t.stop()
            took = time.monotonic() - started
        finally:
            stop.set()
            sender.join(30)
        assert rc == 0, t.log_tail()
        assert took < 3.0, "stopped after %.1fs" % took
