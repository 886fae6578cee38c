/* tests/unit/query/test_query.c -- answering from zones in memory: RFC 1034 4.3.2 lookups, aliases, wildcards, referrals */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <urcu.h>

#include "lib/error.h"
#include "query/query.h"
#include "wire/edns.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "wire/rdata.h"
#include "zone/contents.h"
#include "zone/rrlist.h"
#include "zone/zoneset.h"
#include "testlib/testlib.h"

/* ---- names and records ---- */

static void add_a(rrlist_t *l, const char *owner, uint32_t ttl, uint8_t last)
{
	uint8_t rd[4] = { 192, 0, 2, last };
	add_raw(l, owner, PKT_TYPE_A, ttl, rd, 4);
}

static void add_aaaa(rrlist_t *l, const char *owner, uint32_t ttl, uint8_t last)
{
	uint8_t rd[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	memset(rd + 4, 0, 12);
	rd[15] = last;
	add_raw(l, owner, PKT_TYPE_AAAA, ttl, rd, 16);
}

static void add_txt(rrlist_t *l, const char *owner, uint32_t ttl, const char *text)
{
	uint8_t rd[256];
	size_t n = strlen(text);
	rd[0] = (uint8_t)n;
	memcpy(rd + 1, text, n);
	add_raw(l, owner, PKT_TYPE_TXT, ttl, rd, n + 1);
}

/* A text name of `labels` labels of `len` octets, then suffix ("" or "x.example."). */
static char *long_name(char *out, int labels, int len, const char *suffix)
{
	char *p = out;
	for (int i = 0; i < labels; i++) {
		memset(p, 'a' + (i % 26), (size_t)len);
		p += len;
		*p++ = '.';
	}
	strcpy(p, suffix);
	return out;
}

/* ---- the zones ---- */

#define DNAME_TTL 77
#define LONG_TARGET_LABELS 3   /* three 60-octet labels + "target." = 191 octets */

static rrlist_t *example_com(void)
{
	rrlist_t *l = rrlist_new();
	char longt[300];
	add_soa(l, "example.com.", 3600, 2024010101, 300);
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns2.example.net.");
	add_mx(l, "example.com.", 3600, 10, "mail.example.com.");
	add_a(l, "ns1.example.com.", 3600, 1);
	add_aaaa(l, "ns1.example.com.", 3600, 1);
	add_a(l, "www.example.com.", 300, 10);
	add_a(l, "mail.example.com.", 300, 25);
	/* two MX naming one host: its address once in additional */
	add_mx(l, "dupmx.example.com.", 300, 10, "mail.example.com.");
	add_mx(l, "dupmx.example.com.", 300, 20, "mail.example.com.");
	/* aliases */
	add_name(l, "alias.example.com.", PKT_TYPE_CNAME, 60, "www.example.com.");
	add_name(l, "chain1.example.com.", PKT_TYPE_CNAME, 60, "chain2.example.com.");
	add_name(l, "chain2.example.com.", PKT_TYPE_CNAME, 60, "CHAIN3.example.com.");
	add_name(l, "chain3.example.com.", PKT_TYPE_CNAME, 60, "www.example.com.");
	add_name(l, "out.example.com.", PKT_TYPE_CNAME, 60, "www.example.org.");
	add_name(l, "nxalias.example.com.", PKT_TYPE_CNAME, 60, "nothere.example.com.");
	add_name(l, "loop1.example.com.", PKT_TYPE_CNAME, 60, "loop2.example.com.");
	add_name(l, "loop2.example.com.", PKT_TYPE_CNAME, 60, "loop1.example.com.");
	add_name(l, "self.example.com.", PKT_TYPE_CNAME, 60, "self.example.com.");
	add_name(l, "*.wcloop.example.com.", PKT_TYPE_CNAME, 60, "b.wcloop.example.com.");
	add_name(l, "todeleg.example.com.", PKT_TYPE_CNAME, 60, "host.deleg.example.com.");
	add_name(l, "mxalias.example.com.", PKT_TYPE_CNAME, 60, "multi.example.com.");
	/* wildcards */
	add_a(l, "*.w.example.com.", 30, 99);
	add_txt(l, "*.w.example.com.", 30, "wild");
	add_a(l, "x.ent.w.example.com.", 30, 98);
	add_name(l, "*.wc.example.com.", PKT_TYPE_CNAME, 30, "www.example.com.");
	/* DNAMEs */
	add_name(l, "d.example.com.", PKT_TYPE_DNAME, DNAME_TTL, "example.net.");
	add_name(l, "dd.example.com.", PKT_TYPE_DNAME, DNAME_TTL, "inside.example.com.");
	add_a(l, "host.inside.example.com.", 300, 44);
	add_name(l, "long.example.com.", PKT_TYPE_DNAME, DNAME_TTL,
	         long_name(longt, LONG_TARGET_LABELS, 60, "target."));
	add_name(l, "selfd.example.com.", PKT_TYPE_DNAME, DNAME_TTL, "x.selfd.example.com.");
	/* delegations */
	add_name(l, "deleg.example.com.", PKT_TYPE_NS, 86400, "ns.deleg.example.com.");
	add_name(l, "deleg.example.com.", PKT_TYPE_NS, 86400, "ns.other.net.");
	add_a(l, "ns.deleg.example.com.", 86400, 53);
	add_aaaa(l, "ns.deleg.example.com.", 86400, 53);
	add_raw(l, "deleg.example.com.", PKT_TYPE_DS, 86400, "\x12\x34\x08\x02\xaa\xbb", 6);
	add_name(l, "nods.example.com.", PKT_TYPE_NS, 86400, "ns.nods.example.com.");
	add_a(l, "ns.nods.example.com.", 86400, 54);
	add_name(l, "sub.example.com.", PKT_TYPE_NS, 86400, "ns.sub.example.com.");
	add_a(l, "ns.sub.example.com.", 86400, 55);
	add_raw(l, "sub.example.com.", PKT_TYPE_DS, 86400, "\x56\x78\x08\x02\xcc\xdd", 6);
	/* a delegation whose glue cannot all fit 512 octets */
	for (int i = 0; i < 8; i++) {
		char ns[80];
		snprintf(ns, sizeof(ns), "ns%d-aaaaaaaaaaaaaaaaa.manyns.example.com.", i);
		add_name(l, "manyns.example.com.", PKT_TYPE_NS, 3600, ns);
		add_a(l, ns, 3600, (uint8_t)(100 + i));
		add_aaaa(l, ns, 3600, (uint8_t)(100 + i));
	}
	/* a big RRset: 20 x 101 octets */
	for (int i = 0; i < 20; i++) {
		char t[120];
		memset(t, 'a' + i, 100);
		t[100] = '\0';
		add_txt(l, "big.example.com.", 300, t);
	}
	/* several RRsets at one name */
	add_a(l, "multi.example.com.", 300, 1);
	add_aaaa(l, "multi.example.com.", 300, 1);
	add_txt(l, "multi.example.com.", 300, "multi");
	add_mx(l, "multi.example.com.", 300, 5, "mail.example.com.");
	return l;
}

typedef struct {
	zone_t *zones[16];
	int nzones;
	zoneset_t *set;
	query_env_t env;
	uint8_t secret[16];
} fixture_t;

static fixture_t F;

static void add_zone(const char *apex, rrlist_t *l)
{
	zone_t *zone = zone_new(N(apex));
	assert_non_null(zone);
	if (l != NULL) {
		zone_contents_t *z = NULL;
		int ret = zone_contents_build(N(apex), l, &z);
		if (ret != TDM_OK)
			fail_msg("%s: build %d", apex, ret);
		zone_set_contents(zone, z);
		rrlist_free(l);
	}
	F.zones[F.nzones++] = zone;
}

static int setup(void **state)
{
	rcu_register_thread();
	memset(&F, 0, sizeof(F));
	add_zone("example.com.", example_com());

	rrlist_t *l = rrlist_new();   /* the child of example.com, served here too */
	add_soa(l, "sub.example.com.", 600, 7, 600);
	add_name(l, "sub.example.com.", PKT_TYPE_NS, 600, "ns.sub.example.com.");
	add_a(l, "ns.sub.example.com.", 600, 55);
	add_a(l, "www.sub.example.com.", 600, 56);
	add_zone("sub.example.com.", l);

	l = rrlist_new();             /* SOA TTL below its MINIMUM */
	add_soa(l, "example.net.", 60, 1, 600);
	add_name(l, "example.net.", PKT_TYPE_NS, 60, "ns1.example.com.");
	add_a(l, "www.example.net.", 60, 80);
	add_zone("example.net.", l);

	l = rrlist_new();             /* a DNAME at the apex (RFC 6672 2.3 allows it) */
	add_soa(l, "dnapex.test.", 600, 1, 600);
	add_name(l, "dnapex.test.", PKT_TYPE_NS, 600, "ns1.example.com.");
	add_name(l, "dnapex.test.", PKT_TYPE_DNAME, DNAME_TTL, "example.com.");
	add_zone("dnapex.test.", l);

	l = rrlist_new();             /* a signed zone (a DNSKEY at the apex) with a secure delegation */
	add_soa(l, "signed.test.", 600, 1, 600);
	add_name(l, "signed.test.", PKT_TYPE_NS, 600, "ns1.example.com.");
	add_raw(l, "signed.test.", PKT_TYPE_DNSKEY, 600, "\x01\x01\x03\x08key", 7);
	add_name(l, "kid.signed.test.", PKT_TYPE_NS, 600, "ns.kid.signed.test.");
	add_a(l, "ns.kid.signed.test.", 600, 57);
	add_raw(l, "kid.signed.test.", PKT_TYPE_DS, 600, "\x12\x34\x08\x02\xaa\xbb", 6);
	add_zone("signed.test.", l);

	l = rrlist_new();             /* a zone whose parent we do not serve */
	add_soa(l, "orphan.test.", 600, 1, 100);
	add_name(l, "orphan.test.", PKT_TYPE_NS, 600, "ns1.example.com.");
	add_zone("orphan.test.", l);

	l = rrlist_new();             /* names several labels down (query/answer.c path_down) */
	add_soa(l, "walk.test.", 600, 1, 600);
	add_name(l, "walk.test.", PKT_TYPE_NS, 600, "ns1.example.com.");
	add_a(l, "a.b.c.walk.test.", 600, 1);
	add_name(l, "cut.walk.test.", PKT_TYPE_NS, 600, "ns.cut.walk.test.");
	add_a(l, "ns.cut.walk.test.", 600, 2);
	add_a(l, "x.y.cut.walk.test.", 600, 3);         /* below the cut: not ours */
	add_name(l, "dn.walk.test.", PKT_TYPE_DNAME, DNAME_TTL, "c.walk.test.");
	add_a(l, "q.p.dn.walk.test.", 600, 4);          /* occluded by the DNAME */
	add_zone("walk.test.", l);

	add_zone("empty.test.", NULL);   /* never loaded */

	F.set = zoneset_new(F.zones, (size_t)F.nzones);
	assert_non_null(F.set);
	for (int i = 0; i < F.nzones; i++)
		zone_unref(F.zones[i]);
	F.env.zones = F.set;
	F.env.identity = "tandem-test";
	F.env.udp_payload = 1232;
	return 0;
}

static int teardown(void **state)
{
	zoneset_free(F.set);
	rcu_barrier();
	rcu_unregister_thread();
	return 0;
}

/* ---- requests ---- */

typedef struct {
	bool edns;
	uint16_t payload;
	uint8_t version;
	bool do_bit;
	bool nsid;
	int cookie_len;
	uint16_t id;
	uint16_t flags;
	uint16_t qclass;
	uint8_t opcode;
} qopt_t;

static size_t mkreq(uint8_t *buf, const char *qname, uint16_t qtype, const qopt_t *o)
{
	pkt_writer_t w;
	pkt_writer_init(&w, buf, PKT_MAXLEN);
	w.compress = false;
	uint16_t flags = (uint16_t)(o->flags | ((o->opcode & 0x0F) << 11));
	assert_int_equal(pkt_write_header(&w, o->id, flags), TDM_OK);
	assert_int_equal(pkt_write_question(&w, N(qname), qtype, o->qclass ? o->qclass : PKT_CLASS_IN),
	                 TDM_OK);
	if (o->edns) {
		uint8_t opts[64];
		size_t n = 0;
		if (o->nsid) {
			pkt_put16(opts + n, EDNS_OPT_NSID);
			pkt_put16(opts + n + 2, 0);
			n += 4;
		}
		if (o->cookie_len > 0) {
			pkt_put16(opts + n, EDNS_OPT_COOKIE);
			pkt_put16(opts + n + 2, (uint16_t)o->cookie_len);
			for (int i = 0; i < o->cookie_len; i++)
				opts[n + 4 + (size_t)i] = (uint8_t)(0xA0 + i);
			n += 4 + (size_t)o->cookie_len;
		}
		uint32_t ttl = (uint32_t)o->version << 16 | (o->do_bit ? 0x8000u : 0);
		pkt_begin_section(&w, PKT_SECTION_ADDITIONAL);
		assert_int_equal(pkt_write_rr(&w, (const uint8_t *)"", 0, PKT_TYPE_OPT, o->payload, ttl,
		                              opts, (uint16_t)n), TDM_OK);
	}
	return pkt_writer_finish(&w);
}

/* ---- responses ---- */

typedef struct {
	int section;
	pkt_rr_t rr;
	uint8_t rd[2048];
	int rdlen;
} rec_t;

typedef struct {
	size_t len;
	uint8_t msg[PKT_MAXLEN];
	uint16_t id, flags;
	int opcode, rcode;   /* rcode with the OPT's upper bits */
	unsigned qd, an, ns, ar;
	pkt_question_t q;
	int nrec;
	rec_t rec[160];
	bool opt;
	pkt_rr_t optrr;
	edns_t edns;
} resp_t;

static resp_t R;

/* Parses R.msg completely: every record and every rdata must read back. */
static void parse_resp(void)
{
	const uint8_t *m = R.msg;
	assert_true(R.len >= PKT_HEADER_LEN);
	R.id = pkt_id(m);
	R.flags = pkt_flags(m);
	R.opcode = pkt_opcode(m);
	R.rcode = pkt_rcode(m);
	R.qd = pkt_qdcount(m);
	R.an = pkt_ancount(m);
	R.ns = pkt_nscount(m);
	R.ar = pkt_arcount(m);
	R.nrec = 0;
	R.opt = false;
	size_t pos = PKT_HEADER_LEN;
	assert_true(R.qd <= 1);
	if (R.qd == 1)
		assert_int_equal(pkt_read_question(m, R.len, &pos, &R.q), TDM_OK);
	unsigned counts[3] = { R.an, R.ns, R.ar };
	for (int s = 0; s < 3; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			assert_true(R.nrec < (int)(sizeof(R.rec) / sizeof(R.rec[0])));
			rec_t *r = &R.rec[R.nrec++];
			r->section = s;
			int ret = pkt_read_rr(m, R.len, &pos, &r->rr);
			if (ret != TDM_OK)
				fail_msg("record %d of section %d unreadable: %d", i, s, ret);
			r->rdlen = rdata_unpack(m, R.len, r->rr.rdata_pos, r->rr.rdlen, r->rr.type, r->rd,
			                        sizeof(r->rd));
			if (r->rdlen < 0)
				fail_msg("rdata of record %d of section %d (type %u) unreadable: %d", i, s,
				         r->rr.type, r->rdlen);
			if (r->rr.type == PKT_TYPE_OPT) {
				assert_int_equal(s, PKT_SECTION_ADDITIONAL);
				assert_false(R.opt);
				R.opt = true;
				R.optrr = r->rr;
				assert_int_equal(edns_parse(m, &r->rr, &R.edns), TDM_OK);
				R.rcode |= R.edns.ext_rcode << 4;
			}
		}
	}
	assert_int_equal(pos, R.len);
}

/* Answers req and parses the response into R; returns the response length (0 = dropped). */
static size_t answer_raw(const uint8_t *req, size_t len, bool tcp)
{
	static uint8_t out[PKT_MAXLEN];
	memset(out, 0xEE, sizeof(out));
	rcu_read_lock();
	size_t n = query_answer(&F.env, req, len, out, sizeof(out), tcp);
	rcu_read_unlock();
	R.len = n;
	if (n == 0)
		return 0;
	assert_true(n <= PKT_MAXLEN);
	memcpy(R.msg, out, n);
	parse_resp();
	return n;
}

/* Answers a request built from o and checks what every answer must hold. */
static resp_t *askx(const char *qname, uint16_t qtype, qopt_t o, bool tcp)
{
	static uint8_t req[PKT_MAXLEN];
	if (o.id == 0)
		o.id = 0x4242;
	size_t len = mkreq(req, qname, qtype, &o);
	size_t n = answer_raw(req, len, tcp);
	assert_true(n > 0);
	assert_int_equal(R.id, o.id);
	assert_true(R.flags & PKT_FLAG_QR);
	assert_int_equal(R.opcode, o.opcode);
	assert_int_equal(R.flags & PKT_FLAG_RD, o.flags & PKT_FLAG_RD);
	if (!tcp) {
		size_t limit = 512;
		if (o.edns) {
			limit = o.payload < 512 ? 512 : o.payload;
			limit = limit < F.env.udp_payload ? limit : F.env.udp_payload;
		}
		if (n > limit)
			fail_msg("UDP answer of %zu octets, limit %zu", n, limit);
	}
	if (R.qd == 1) {
		/* the question comes back as asked, case and all */
		assert_int_equal(R.q.qname_len, NL(qname));
		assert_memory_equal(R.q.qname, N(qname), (size_t)NL(qname));
		assert_int_equal(R.q.qtype, qtype);
	}
	/* an OPT in the answer exactly when there was one in the request (FORMERR aside) */
	if (!o.edns)
		assert_false(R.opt);
	return &R;
}

static resp_t *ask(const char *qname, uint16_t qtype)
{
	qopt_t o = { .flags = PKT_FLAG_RD };
	return askx(qname, qtype, o, false);
}

static resp_t *ask_tcp(const char *qname, uint16_t qtype)
{
	qopt_t o = { .flags = PKT_FLAG_RD };
	return askx(qname, qtype, o, true);
}

static int count(const resp_t *r, int section, uint16_t type)
{
	int n = 0;
	for (int i = 0; i < r->nrec; i++)
		if (r->rec[i].section == section && (type == 0 || r->rec[i].rr.type == type))
			n++;
	return n;
}

/* The first record of a section with this owner (case-insensitive) and type, or NULL. */
static const rec_t *find(const resp_t *r, int section, const char *owner, uint16_t type)
{
	for (int i = 0; i < r->nrec; i++)
		if (r->rec[i].section == section && r->rec[i].rr.type == type &&
		    name_equal(r->rec[i].rr.owner, N(owner)))
			return &r->rec[i];
	return NULL;
}

static const rec_t *expect(const resp_t *r, int section, const char *owner, uint16_t type)
{
	const rec_t *rec = find(r, section, owner, type);
	if (rec == NULL)
		fail_msg("no %s type %u in section %d (rcode %d, %u/%u/%u)", owner, type, section, r->rcode,
		         r->an, r->ns, r->ar);
	return rec;
}

/* Whether the i-th record's rdata holds a name equal to text at offset off. */
static bool rdata_name_is(const rec_t *rec, size_t off, const char *text)
{
	return (size_t)rec->rdlen > off && name_length(rec->rd + off, (size_t)rec->rdlen - off) > 0 &&
	       name_equal(rec->rd + off, N(text));
}

static void expect_soa_negative(const resp_t *r, const char *apex, uint32_t ttl)
{
	assert_int_equal(count(r, PKT_SECTION_AUTHORITY, 0), 1);
	const rec_t *soa = expect(r, PKT_SECTION_AUTHORITY, apex, PKT_TYPE_SOA);
	assert_int_equal(soa->rr.ttl, ttl);
	assert_int_equal(soa->rr.rclass, PKT_CLASS_IN);
}

#define AA(r) (((r)->flags & PKT_FLAG_AA) != 0)
#define TC(r) (((r)->flags & PKT_FLAG_TC) != 0)

/* ---- positive answers ---- */

static void test_exact_match(void **state)
{
	resp_t *r = ask("www.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_false(TC(r));
	assert_int_equal(r->an, 1);
	const rec_t *a = expect(r, PKT_SECTION_ANSWER, "www.example.com.", PKT_TYPE_A);
	assert_int_equal(a->rr.ttl, 300);
	assert_int_equal(a->rr.rclass, PKT_CLASS_IN);
	assert_memory_equal(a->rd, "\xc0\x00\x02\x0a", 4);
	/* the owner points at the question */
	assert_int_equal(pkt_get16(r->msg + a->rr.start), 0xC00C);
	/* RD echoed, RA not claimed; CD echoed */
	qopt_t o = { .flags = PKT_FLAG_CD, .id = 0x0101 };
	r = askx("www.example.com.", PKT_TYPE_A, o, false);
	assert_true(r->flags & PKT_FLAG_CD);
	assert_false(r->flags & PKT_FLAG_RD);
	assert_false(r->flags & PKT_FLAG_RA);
	assert_int_equal(r->an, 1);
	/* the apex */
	r = ask("example.com.", PKT_TYPE_SOA);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
	const rec_t *soa = expect(r, PKT_SECTION_ANSWER, "example.com.", PKT_TYPE_SOA);
	assert_int_equal(soa->rr.ttl, 3600);
	assert_int_equal(pkt_get32(soa->rd + soa->rdlen - 20), 2024010101);
}

static void test_case_preserved(void **state)
{
	resp_t *r = ask("WwW.ExAmPlE.CoM.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
	/* the question as asked (checked in askx) and the owner the same octets */
	assert_memory_equal(r->rec[0].rr.owner, N("WwW.ExAmPlE.CoM."), 17);
	r = ask("FOO.W.Example.COM.", PKT_TYPE_A);   /* a wildcard answer too */
	assert_int_equal(r->an, 1);
	assert_memory_equal(r->rec[0].rr.owner, N("FOO.W.Example.COM."), 19);
}

static void test_additional_for_mx_and_ns(void **state)
{
	resp_t *r = ask("example.com.", PKT_TYPE_MX);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
	assert_true(rdata_name_is(expect(r, PKT_SECTION_ANSWER, "example.com.", PKT_TYPE_MX), 2,
	                          "mail.example.com."));
	expect(r, PKT_SECTION_ADDITIONAL, "mail.example.com.", PKT_TYPE_A);
	r = ask("example.com.", PKT_TYPE_NS);
	assert_true(AA(r));
	assert_int_equal(r->an, 2);
	expect(r, PKT_SECTION_ADDITIONAL, "ns1.example.com.", PKT_TYPE_A);
	expect(r, PKT_SECTION_ADDITIONAL, "ns1.example.com.", PKT_TYPE_AAAA);
	assert_int_equal(count(r, PKT_SECTION_ADDITIONAL, 0), 2);   /* nothing for ns2.example.net */
}

/* RFC 2181 5 / RFC 1035 7.3: one RRset appears once; two MX naming one host give its address once. */
static void test_additional_no_duplicate_rrsets(void **state)
{
	resp_t *r = ask("dupmx.example.com.", PKT_TYPE_MX);
	assert_int_equal(r->an, 2);
	assert_int_equal(count(r, PKT_SECTION_ADDITIONAL, PKT_TYPE_A), 1);
}

/* ---- negative answers ---- */

static void test_nodata(void **state)
{
	resp_t *r = ask("www.example.com.", PKT_TYPE_MX);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 0);
	expect_soa_negative(r, "example.com.", 300);   /* min(3600, MINIMUM 300) */
	/* SOA TTL below MINIMUM: the TTL wins */
	r = ask("www.example.net.", PKT_TYPE_AAAA);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 0);
	expect_soa_negative(r, "example.net.", 60);
	/* an empty non-terminal is NODATA, not NXDOMAIN */
	r = ask("inside.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 0);
	expect_soa_negative(r, "example.com.", 300);
	/* ANY at an empty non-terminal */
	r = ask("inside.example.com.", PKT_TYPE_ANY);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 0);
	expect_soa_negative(r, "example.com.", 300);
}

static void test_nxdomain(void **state)
{
	resp_t *r = ask("nope.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	assert_true(AA(r));
	assert_int_equal(r->an, 0);
	assert_int_equal(r->ar, 0);
	expect_soa_negative(r, "example.com.", 300);
	r = ask("a.b.c.nope.example.com.", PKT_TYPE_TXT);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	expect_soa_negative(r, "example.com.", 300);
	r = ask("nope.example.net.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	expect_soa_negative(r, "example.net.", 60);
	/* below a name that exists */
	r = ask("x.www.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	/* a 255-octet name */
	char big[400];
	long_name(big, 121, 1, "example.com.");
	assert_int_equal(NL(big), 255);
	r = ask(big, PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	expect_soa_negative(r, "example.com.", 300);
}

/* ---- CNAME ---- */

static void test_cname_chain(void **state)
{
	resp_t *r = ask("alias.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 2);
	assert_int_equal(r->rec[0].rr.type, PKT_TYPE_CNAME);
	assert_true(name_equal(r->rec[0].rr.owner, N("alias.example.com.")));
	assert_true(rdata_name_is(&r->rec[0], 0, "www.example.com."));
	assert_int_equal(r->rec[1].rr.type, PKT_TYPE_A);
	assert_true(name_equal(r->rec[1].rr.owner, N("www.example.com.")));

	r = ask("chain1.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 4);
	static const char *owners[] = { "chain1.example.com.", "chain2.example.com.",
	                                "chain3.example.com.", "www.example.com." };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(r->rec[i].section, PKT_SECTION_ANSWER);
		assert_int_equal(r->rec[i].rr.type, i < 3 ? PKT_TYPE_CNAME : PKT_TYPE_A);
		assert_true(name_equal(r->rec[i].rr.owner, N(owners[i])));
	}
	/* asking for the CNAME itself: no following */
	r = ask("alias.example.com.", PKT_TYPE_CNAME);
	assert_int_equal(r->an, 1);
	assert_int_equal(r->rec[0].rr.type, PKT_TYPE_CNAME);
	/* the target lacks the type: CNAME, then NODATA for the target */
	r = ask("alias.example.com.", PKT_TYPE_MX);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 1);
	expect_soa_negative(r, "example.com.", 300);
}

static void test_cname_then_additional(void **state)
{
	/* the additional section serves the last RRset of the chain */
	resp_t *r = ask("mxalias.example.com.", PKT_TYPE_MX);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 2);
	assert_int_equal(r->rec[0].rr.type, PKT_TYPE_CNAME);
	assert_true(rdata_name_is(expect(r, PKT_SECTION_ANSWER, "multi.example.com.", PKT_TYPE_MX), 2,
	                          "mail.example.com."));
	expect(r, PKT_SECTION_ADDITIONAL, "mail.example.com.", PKT_TYPE_A);
}

static void test_cname_out_of_zone(void **state)
{
	resp_t *r = ask("out.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
	assert_true(rdata_name_is(expect(r, PKT_SECTION_ANSWER, "out.example.com.", PKT_TYPE_CNAME), 0,
	                          "www.example.org."));
	assert_int_equal(r->ns, 0);
	assert_int_equal(r->ar, 0);
}

static void test_cname_to_nxdomain(void **state)
{
	/* RFC 6604: the rcode is that of the last name in the chain */
	resp_t *r = ask("nxalias.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
	expect(r, PKT_SECTION_ANSWER, "nxalias.example.com.", PKT_TYPE_CNAME);
	expect_soa_negative(r, "example.com.", 300);
}

static void test_cname_loop_bounded(void **state)
{
	/* a loop ends where it comes back: each CNAME once */
	resp_t *r = ask("loop1.example.com.", PKT_TYPE_A);
	assert_true(r->rcode == PKT_RCODE_NOERROR || r->rcode == PKT_RCODE_SERVFAIL);
	assert_int_equal(r->an, 2);
	for (int i = 0; i < r->nrec; i++)
		if (r->rec[i].section == PKT_SECTION_ANSWER)
			assert_int_equal(r->rec[i].rr.type, PKT_TYPE_CNAME);
	r = ask("self.example.com.", PKT_TYPE_A);
	assert_int_equal(r->an, 1);
	r = ask_tcp("loop2.example.com.", PKT_TYPE_AAAA);
	assert_int_equal(r->an, 2);
	/* through a wildcard: w1.loop.wcl -> *.wcl (CNAME x.wcl... ) stays bounded */
	r = ask("a.wcloop.example.com.", PKT_TYPE_A);
	assert_true(r->an >= 1 && r->an <= 14);
}

/* RFC 1035 4.1.1: AA speaks for the query name (the first owner in the answer); a CNAME from our
 * zone stays authoritative even when its target lies below a delegation. */
static void test_cname_into_delegation_keeps_aa(void **state)
{
	resp_t *r = ask("todeleg.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	expect(r, PKT_SECTION_ANSWER, "todeleg.example.com.", PKT_TYPE_CNAME);
	expect(r, PKT_SECTION_AUTHORITY, "deleg.example.com.", PKT_TYPE_NS);
	assert_true(AA(r));
}

/* ---- wildcards ---- */

static void test_wildcard_synthesis(void **state)
{
	resp_t *r = ask("foo.w.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
	const rec_t *a = expect(r, PKT_SECTION_ANSWER, "foo.w.example.com.", PKT_TYPE_A);
	assert_int_equal(a->rd[3], 99);
	assert_int_equal(a->rr.ttl, 30);
	/* more than one label below the closest encloser */
	r = ask("a.b.c.w.example.com.", PKT_TYPE_TXT);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	expect(r, PKT_SECTION_ANSWER, "a.b.c.w.example.com.", PKT_TYPE_TXT);
	/* the wildcard has no MX: NODATA, not NXDOMAIN */
	r = ask("foo.w.example.com.", PKT_TYPE_MX);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 0);
	expect_soa_negative(r, "example.com.", 300);
	/* the '*' name itself */
	r = ask("*.w.example.com.", PKT_TYPE_A);
	assert_int_equal(r->an, 1);
	/* ANY over TCP at a wildcard: both RRsets with the query name */
	r = ask_tcp("any.w.example.com.", PKT_TYPE_ANY);
	assert_int_equal(r->an, 2);
	expect(r, PKT_SECTION_ANSWER, "any.w.example.com.", PKT_TYPE_A);
	expect(r, PKT_SECTION_ANSWER, "any.w.example.com.", PKT_TYPE_TXT);
	/* no wildcard at the apex: NXDOMAIN */
	r = ask("foo.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
}

static void test_wildcard_blocked_by_ent(void **state)
{
	/* RFC 4592 2.2.2: ent.w.example.com exists (an empty non-terminal), so no synthesis for it */
	resp_t *r = ask("ent.w.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 0);
	expect_soa_negative(r, "example.com.", 300);
	/* and below it the closest encloser is ent.w, which has no '*' child */
	r = ask("z.ent.w.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	/* the real name still answers */
	r = ask("x.ent.w.example.com.", PKT_TYPE_A);
	assert_int_equal(r->an, 1);
	assert_int_equal(r->rec[0].rd[3], 98);
}

static void test_wildcard_cname(void **state)
{
	resp_t *r = ask("Foo.wc.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 2);
	assert_int_equal(r->rec[0].rr.type, PKT_TYPE_CNAME);
	assert_memory_equal(r->rec[0].rr.owner, N("Foo.wc.example.com."), 20);
	assert_int_equal(r->rec[1].rr.type, PKT_TYPE_A);
	assert_true(name_equal(r->rec[1].rr.owner, N("www.example.com.")));
}

/* ---- DNAME ---- */

static void test_dname_synthesis(void **state)
{
	resp_t *r = ask("x.D.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 2);
	assert_int_equal(r->rec[0].rr.type, PKT_TYPE_DNAME);
	assert_true(name_equal(r->rec[0].rr.owner, N("d.example.com.")));
	assert_true(rdata_name_is(&r->rec[0], 0, "example.net."));
	assert_int_equal(r->rec[1].rr.type, PKT_TYPE_CNAME);
	assert_memory_equal(r->rec[1].rr.owner, N("x.D.example.com."), 17);
	assert_int_equal(r->rec[1].rr.ttl, DNAME_TTL);
	assert_true(rdata_name_is(&r->rec[1], 0, "x.example.net."));
	/* example.net is another zone: we stop after the CNAME */
	assert_int_equal(r->ns, 0);

	/* target inside the zone: followed */
	r = ask("host.dd.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 3);
	assert_int_equal(r->rec[0].rr.type, PKT_TYPE_DNAME);
	assert_int_equal(r->rec[1].rr.type, PKT_TYPE_CNAME);
	assert_true(rdata_name_is(&r->rec[1], 0, "host.inside.example.com."));
	expect(r, PKT_SECTION_ANSWER, "host.inside.example.com.", PKT_TYPE_A);
	/* followed to a name that does not exist */
	r = ask("nohost.dd.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	assert_int_equal(r->an, 2);
	expect_soa_negative(r, "example.com.", 300);

	/* asking for the CNAME: the synthesized one is the answer, not followed (RFC 6672 3.2) */
	r = ask("host.dd.example.com.", PKT_TYPE_CNAME);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 2);
	assert_int_equal(r->rec[1].rr.type, PKT_TYPE_CNAME);
	assert_int_equal(r->ns, 0);
	/* the DNAME owner itself is not redirected */
	r = ask("d.example.com.", PKT_TYPE_DNAME);
	assert_int_equal(r->an, 1);
	assert_int_equal(r->rec[0].rr.type, PKT_TYPE_DNAME);
	r = ask("d.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 0);
}

static void test_dname_yxdomain(void **state)
{
	char q[400], t[300];
	const int tlen = NL(long_name(t, LONG_TARGET_LABELS, 60, "target."));   /* 191 */
	/* 2 + 191 octets: fine, a CNAME out of the zone */
	resp_t *r = ask("a.long.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 2);
	assert_int_equal(r->rec[1].rr.type, PKT_TYPE_CNAME);
	assert_int_equal(r->rec[1].rdlen, 2 + tlen);
	/* 64 prefix octets + 191 = 255: still fine (over TCP: DNAME and CNAME pass 512 octets) */
	r = ask_tcp(long_name(q, 1, 63, "long.example.com."), PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 2);
	assert_int_equal(r->rec[1].rdlen, 64 + tlen);
	/* over UDP without EDNS it does not fit: TC, and the DNAME alone */
	r = ask(long_name(q, 1, 63, "long.example.com."), PKT_TYPE_A);
	assert_true(TC(r));
	assert_int_equal(count(r, PKT_SECTION_ANSWER, PKT_TYPE_CNAME), 0);
	assert_int_equal(64 + tlen, 255);
	/* 66 + 191 = 257: YXDOMAIN (RFC 6672 2.2) */
	r = ask(long_name(q, 1, 63, "b.long.example.com."), PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_YXDOMAIN);
	assert_true(AA(r));
	assert_int_equal(count(r, PKT_SECTION_ANSWER, PKT_TYPE_CNAME), 0);
	r = ask(long_name(q, 3, 50, "long.example.com."), PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_YXDOMAIN);
	/* a DNAME whose target is below itself grows the name until it no longer fits */
	r = ask("a.selfd.example.com.", PKT_TYPE_A);
	assert_true(r->rcode == PKT_RCODE_YXDOMAIN || r->rcode == PKT_RCODE_NOERROR ||
	            r->rcode == PKT_RCODE_SERVFAIL);
	assert_true(r->an <= 40);
}

/* RFC 6672 2.3: a DNAME may sit at a zone's apex; names below the apex are redirected. */
static void test_dname_at_apex(void **state)
{
	resp_t *r = ask("www.dnapex.test.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	const rec_t *d = expect(r, PKT_SECTION_ANSWER, "dnapex.test.", PKT_TYPE_DNAME);
	assert_true(rdata_name_is(d, 0, "example.com."));
	const rec_t *c = expect(r, PKT_SECTION_ANSWER, "www.dnapex.test.", PKT_TYPE_CNAME);
	assert_true(rdata_name_is(c, 0, "www.example.com."));
	assert_int_equal(c->rr.ttl, DNAME_TTL);
}

static void test_dname_at_apex_apex_itself(void **state)
{
	/* the apex itself answers normally */
	resp_t *r = ask("dnapex.test.", PKT_TYPE_SOA);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 1);
	r = ask("dnapex.test.", PKT_TYPE_DNAME);
	assert_int_equal(r->an, 1);
}

/* query_parse lowers the question eight octets at a time: the same as name_copy_lower for names of
 * every length, with the octets around 'A'..'Z' and non-ASCII ones left as they are. */
static void test_parse_lowers_qname(void **state)
{
	static const char chars[] = "@AZ[`az{\xc1\xdaMn0-";
	uint8_t req[PKT_MAXLEN], name[NAME_MAXLEN], want[NAME_MAXLEN];
	for (int labels = 1; labels <= 4; labels++) {
		for (int llen = 1; llen <= 20; llen++) {
			size_t pos = 0;
			for (int l = 0; l < labels; l++) {
				name[pos++] = (uint8_t)llen;
				for (int i = 0; i < llen; i++)
					name[pos++] = (uint8_t)chars[(size_t)(l * 7 + i) % (sizeof(chars) - 1)];
			}
			name[pos++] = 0;
			pkt_writer_t w;
			pkt_writer_init(&w, req, sizeof(req));
			w.compress = false;
			assert_int_equal(pkt_write_header(&w, 1, 0), TDM_OK);
			assert_int_equal(pkt_write_question(&w, name, PKT_TYPE_A, PKT_CLASS_IN), TDM_OK);
			size_t len = pkt_writer_finish(&w);
			query_t q;
			assert_true(query_parse(req, len, &q));
			assert_int_equal(q.rcode, PKT_RCODE_NOERROR);
			assert_int_equal(name_copy_lower(want, name), (int)pos);
			assert_int_equal(q.q.qname_len, (int)pos);
			assert_memory_equal(q.qname_lower, want, pos);
			assert_memory_equal(q.q.qname, name, pos);   /* the requester's case kept */
		}
	}
}

/* The lookup starts from the name itself and takes the nodes above it from their parent links: what
 * sits above an existing name (a cut, a DNAME) must still decide the answer, as the walk down from the
 * apex label by label decides it. */
static void test_deep_names_walked_from_the_apex(void **state)
{
	resp_t *r = ask("A.b.c.walk.test.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
	expect(r, PKT_SECTION_ANSWER, "a.b.c.walk.test.", PKT_TYPE_A);
	/* empty non-terminals on the way: NODATA; a missing name below one: NXDOMAIN */
	r = ask("b.c.walk.test.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 0);
	expect_soa_negative(r, "walk.test.", 600);
	r = ask("z.b.c.walk.test.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	r = ask("z.a.b.c.walk.test.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	r = ask("z.y.x.walk.test.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	/* a name that exists two labels below a cut: the referral at the cut */
	r = ask("x.y.cut.walk.test.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_false(AA(r));
	assert_int_equal(r->an, 0);
	expect(r, PKT_SECTION_AUTHORITY, "cut.walk.test.", PKT_TYPE_NS);
	r = ask("x.y.cut.walk.test.", PKT_TYPE_DS);
	assert_false(AA(r));
	assert_int_equal(r->an, 0);
	/* a name that exists below a DNAME: synthesized from the DNAME, the data below is occluded */
	r = ask("q.p.dn.walk.test.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);   /* q.p.c.walk.test. does not exist */
	assert_int_equal(r->an, 2);
	assert_int_equal(r->rec[0].rr.type, PKT_TYPE_DNAME);
	assert_int_equal(r->rec[1].rr.type, PKT_TYPE_CNAME);
	assert_true(rdata_name_is(&r->rec[1], 0, "q.p.c.walk.test."));
	r = ask("a.b.dn.walk.test.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 3);
	expect(r, PKT_SECTION_ANSWER, "a.b.c.walk.test.", PKT_TYPE_A);
}

/* ---- delegations ---- */

static void test_referral(void **state)
{
	resp_t *r = ask("host.deleg.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_false(AA(r));
	assert_int_equal(r->an, 0);
	assert_int_equal(count(r, PKT_SECTION_AUTHORITY, PKT_TYPE_NS), 2);
	assert_int_equal(count(r, PKT_SECTION_AUTHORITY, PKT_TYPE_SOA), 0);
	assert_int_equal(count(r, PKT_SECTION_AUTHORITY, PKT_TYPE_DS), 0);   /* no DO */
	expect(r, PKT_SECTION_AUTHORITY, "deleg.example.com.", PKT_TYPE_NS);
	expect(r, PKT_SECTION_ADDITIONAL, "ns.deleg.example.com.", PKT_TYPE_A);
	expect(r, PKT_SECTION_ADDITIONAL, "ns.deleg.example.com.", PKT_TYPE_AAAA);
	assert_int_equal(r->ar, 2);
	/* at the cut, for NS or anything else */
	r = ask("deleg.example.com.", PKT_TYPE_NS);
	assert_false(AA(r));
	assert_int_equal(r->an, 0);
	assert_int_equal(count(r, PKT_SECTION_AUTHORITY, PKT_TYPE_NS), 2);
	r = ask("deleg.example.com.", PKT_TYPE_A);
	assert_false(AA(r));
	assert_int_equal(r->an, 0);
	/* the glue name itself is not ours to answer */
	r = ask("ns.deleg.example.com.", PKT_TYPE_A);
	assert_false(AA(r));
	assert_int_equal(r->an, 0);
	assert_int_equal(count(r, PKT_SECTION_AUTHORITY, PKT_TYPE_NS), 2);
	/* DS below the cut: a referral too */
	r = ask("x.deleg.example.com.", PKT_TYPE_DS);
	assert_false(AA(r));
	assert_int_equal(r->an, 0);
	/* example.com is not signed (no DNSKEY): no DS in its referrals, DO or not */
	qopt_t o = { .edns = true, .payload = 1232, .do_bit = true };
	r = askx("host.deleg.example.com.", PKT_TYPE_A, o, false);
	assert_false(AA(r));
	assert_int_equal(count(r, PKT_SECTION_AUTHORITY, PKT_TYPE_DS), 0);
	assert_true(r->opt);
	assert_true(r->edns.do_bit);
}

/* RFC 4035 3.1.4: in a signed zone the DS goes along with the NS when DO is set. */
static void test_referral_signed_ds(void **state)
{
	qopt_t o = { .edns = true, .payload = 1232, .do_bit = true };
	resp_t *r = askx("www.kid.signed.test.", PKT_TYPE_A, o, false);
	assert_false(AA(r));
	assert_int_equal(r->an, 0);
	expect(r, PKT_SECTION_AUTHORITY, "kid.signed.test.", PKT_TYPE_NS);
	expect(r, PKT_SECTION_AUTHORITY, "kid.signed.test.", PKT_TYPE_DS);
	expect(r, PKT_SECTION_ADDITIONAL, "ns.kid.signed.test.", PKT_TYPE_A);
	/* NS before DS in the authority section */
	for (int i = 0, ns_seen = 0; i < r->nrec; i++) {
		if (r->rec[i].rr.type == PKT_TYPE_NS)
			ns_seen = 1;
		if (r->rec[i].rr.type == PKT_TYPE_DS)
			assert_true(ns_seen);
	}
	/* without DO: NS only */
	o.do_bit = false;
	r = askx("www.kid.signed.test.", PKT_TYPE_A, o, false);
	assert_int_equal(count(r, PKT_SECTION_AUTHORITY, PKT_TYPE_DS), 0);
	assert_int_equal(count(r, PKT_SECTION_AUTHORITY, PKT_TYPE_NS), 1);
	/* the DS itself, from the parent */
	r = ask("kid.signed.test.", PKT_TYPE_DS);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
}

static void test_referral_glue_truncates_udp(void **state)
{
	/* RFC 9471: in-domain glue that does not fit sets TC */
	resp_t *r = ask("host.manyns.example.com.", PKT_TYPE_A);
	assert_false(AA(r));
	assert_int_equal(count(r, PKT_SECTION_AUTHORITY, PKT_TYPE_NS), 8);
	assert_true(TC(r));
	r = ask_tcp("host.manyns.example.com.", PKT_TYPE_A);
	assert_false(TC(r));
	assert_int_equal(count(r, PKT_SECTION_ADDITIONAL, PKT_TYPE_A), 8);
	assert_int_equal(count(r, PKT_SECTION_ADDITIONAL, PKT_TYPE_AAAA), 8);
}

static void test_ds_at_delegation(void **state)
{
	/* RFC 4035 3.1.4.1: the parent answers DS at the cut with authority */
	resp_t *r = ask("deleg.example.com.", PKT_TYPE_DS);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
	const rec_t *ds = expect(r, PKT_SECTION_ANSWER, "deleg.example.com.", PKT_TYPE_DS);
	assert_memory_equal(ds->rd, "\x12\x34\x08\x02\xaa\xbb", 6);
	assert_int_equal(count(r, PKT_SECTION_AUTHORITY, PKT_TYPE_NS), 0);
	/* none there: NODATA with the parent's SOA */
	r = ask("nods.example.com.", PKT_TYPE_DS);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 0);
	expect_soa_negative(r, "example.com.", 300);
}

static void test_ds_at_child_apex_goes_to_parent(void **state)
{
	/* we serve example.com and sub.example.com: DS for sub comes from example.com */
	resp_t *r = ask("SUB.example.com.", PKT_TYPE_DS);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
	const rec_t *ds = expect(r, PKT_SECTION_ANSWER, "sub.example.com.", PKT_TYPE_DS);
	assert_memory_equal(ds->rd, "\x56\x78\x08\x02\xcc\xdd", 6);
	/* everything else at and below sub comes from the child */
	r = ask("sub.example.com.", PKT_TYPE_SOA);
	assert_true(AA(r));
	assert_int_equal(pkt_get32(r->rec[0].rd + r->rec[0].rdlen - 20), 7);
	r = ask("sub.example.com.", PKT_TYPE_NS);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
	r = ask("www.sub.example.com.", PKT_TYPE_A);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
	assert_int_equal(r->rec[0].rd[3], 56);
	r = ask("nope.sub.example.com.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	expect_soa_negative(r, "sub.example.com.", 600);
	/* DS below the child's apex: the child's (NODATA) */
	r = ask("www.sub.example.com.", PKT_TYPE_DS);
	assert_true(AA(r));
	expect_soa_negative(r, "sub.example.com.", 600);
	/* a zone whose parent we lack answers DS at its apex itself */
	r = ask("orphan.test.", PKT_TYPE_DS);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 0);
	expect_soa_negative(r, "orphan.test.", 100);
}

/* ---- other rcodes ---- */

static void test_refused_and_servfail(void **state)
{
	resp_t *r = ask("www.example.org.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_REFUSED);
	assert_false(AA(r));
	assert_int_equal(r->qd, 1);
	assert_int_equal(r->an + r->ns + r->ar, 0);
	r = ask("com.", PKT_TYPE_NS);
	assert_int_equal(r->rcode, PKT_RCODE_REFUSED);
	r = ask(".", PKT_TYPE_NS);
	assert_int_equal(r->rcode, PKT_RCODE_REFUSED);
	/* a class we do not serve */
	qopt_t o = { .qclass = 4 };
	r = askx("www.example.com.", PKT_TYPE_A, o, false);
	assert_int_equal(r->rcode, PKT_RCODE_REFUSED);
	/* a zone without data */
	r = ask("www.empty.test.", PKT_TYPE_A);
	assert_int_equal(r->rcode, PKT_RCODE_SERVFAIL);
	assert_false(AA(r));
	/* transfers are not for this path */
	r = ask_tcp("example.com.", PKT_TYPE_AXFR);
	assert_int_equal(r->rcode, PKT_RCODE_REFUSED);
	r = ask("example.com.", PKT_TYPE_AXFR);   /* not defined over UDP (RFC 5936 4.2) */
	assert_true(r->rcode == PKT_RCODE_NOTIMP || r->rcode == PKT_RCODE_REFUSED);
	r = ask_tcp("example.com.", PKT_TYPE_IXFR);
	assert_int_equal(r->rcode, PKT_RCODE_REFUSED);
	/* meta types */
	r = ask("example.com.", PKT_TYPE_OPT);
	assert_int_equal(r->rcode, PKT_RCODE_FORMERR);
	r = ask("example.com.", 254);
	assert_int_equal(r->rcode, PKT_RCODE_NOTIMP);
}

static void test_notimp_opcodes(void **state)
{
	for (int op = 1; op < 16; op++) {
		qopt_t o = { .opcode = (uint8_t)op, .edns = true, .payload = 1232 };
		resp_t *r = askx("www.example.com.", PKT_TYPE_A, o, false);
		if (op == PKT_OPCODE_STATUS || op == PKT_OPCODE_IQUERY || op == 3 || op >= 6)
			assert_int_equal(r->rcode, PKT_RCODE_NOTIMP);
		else if (op == PKT_OPCODE_NOTIFY)   /* secondary for nothing */
			assert_true(r->rcode == PKT_RCODE_NOTAUTH || r->rcode == PKT_RCODE_NOTIMP ||
			            r->rcode == PKT_RCODE_REFUSED);
		else
			assert_int_not_equal(r->rcode, PKT_RCODE_NOERROR);
		assert_int_equal(r->an, 0);
		assert_false(AA(r));
	}
}

static void test_drop(void **state)
{
	uint8_t req[512];
	qopt_t o = { .flags = PKT_FLAG_QR, .id = 5 };
	size_t len = mkreq(req, "www.example.com.", PKT_TYPE_A, &o);
	assert_int_equal(answer_raw(req, len, false), 0);
	assert_int_equal(answer_raw(req, len, true), 0);
	o.flags = 0;
	len = mkreq(req, "www.example.com.", PKT_TYPE_A, &o);
	for (size_t n = 0; n < PKT_HEADER_LEN; n++)
		assert_int_equal(answer_raw(req, n, false), 0);
	/* a bare header (qdcount 0) is answered: FORMERR */
	memset(req + 4, 0, 8);
	assert_true(answer_raw(req, PKT_HEADER_LEN, false) > 0);
	assert_int_equal(R.rcode, PKT_RCODE_FORMERR);
}

/* Answers a hand-made request and checks it is FORMERR without an OPT. */
static void expect_formerr(const uint8_t *req, size_t len, const char *what)
{
	size_t n = answer_raw(req, len, false);
	if (n == 0)
		fail_msg("%s: no answer", what);
	if (R.rcode != PKT_RCODE_FORMERR)
		fail_msg("%s: rcode %d", what, R.rcode);
	assert_int_equal(R.id, pkt_id(req));
	assert_true(R.flags & PKT_FLAG_QR);
	assert_false(R.flags & PKT_FLAG_AA);
	assert_int_equal(R.an + R.ns, 0);
	assert_false(R.opt);
}

static void test_formerr(void **state)
{
	uint8_t req[1024];
	qopt_t o = { .id = 77 };
	size_t len = mkreq(req, "www.example.com.", PKT_TYPE_A, &o);
	/* qdcount 0 with a question after the header */
	req[5] = 0;
	expect_formerr(req, len, "qdcount 0");
	/* qdcount 2 */
	req[5] = 2;
	expect_formerr(req, len, "qdcount 2 with one question");
	uint8_t two[1024];
	memcpy(two, req, len);
	memcpy(two + len, req + 12, len - 12);
	expect_formerr(two, len + len - 12, "qdcount 2");
	req[5] = 1;
	/* trailing garbage */
	req[len] = 0;
	expect_formerr(req, len + 1, "one trailing octet");
	memcpy(req + len, "garbage", 7);
	expect_formerr(req, len + 7, "trailing garbage");
	/* the question cut short */
	expect_formerr(req, len - 1, "short question");
	expect_formerr(req, 14, "short qname");
	/* counts claiming records that are not there */
	req[7] = 1;
	expect_formerr(req, len, "ancount 1, no record");
	req[7] = 0;
	/* two OPT records */
	qopt_t e = { .id = 78, .edns = true, .payload = 1232 };
	len = mkreq(req, "www.example.com.", PKT_TYPE_A, &e);
	memcpy(req + len, req + len - 11, 11);
	req[11] = 2;
	expect_formerr(req, len + 11, "two OPTs");
	/* an OPT in the answer section */
	len = mkreq(req, "www.example.com.", PKT_TYPE_A, &e);
	req[11] = 0;
	req[7] = 1;
	expect_formerr(req, len, "OPT in the answer section");
	/* an OPT whose owner is not the root */
	len = mkreq(req, "www.example.com.", PKT_TYPE_A, &o);
	req[11] = 1;
	memcpy(req + len, "\x01x\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", 13);
	expect_formerr(req, len + 13, "OPT owner not the root");
	/* a malformed cookie (9 octets) */
	qopt_t c = { .id = 79, .edns = true, .payload = 1232, .cookie_len = 9 };
	len = mkreq(req, "www.example.com.", PKT_TYPE_A, &c);
	expect_formerr(req, len, "cookie of 9 octets");
	/* a compression loop in the question */
	memset(req, 0, 12);
	req[5] = 1;
	memcpy(req + 12, "\xc0\x0c\x00\x01\x00\x01", 6);
	expect_formerr(req, 18, "qname pointing at itself");
	/* a TSIG that is not last */
	len = mkreq(req, "www.example.com.", PKT_TYPE_A, &o);
	static const uint8_t rr[] = { 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0 };   /* root TSIG, empty */
	static const uint8_t a[] = { 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4 };
	memcpy(req + len, rr, sizeof(rr));
	memcpy(req + len + sizeof(rr), a, sizeof(a));
	req[11] = 2;
	expect_formerr(req, len + sizeof(rr) + sizeof(a), "TSIG not last");
}

static void test_badvers(void **state)
{
	qopt_t o = { .edns = true, .payload = 4096, .version = 1, .do_bit = true };
	resp_t *r = askx("www.example.com.", PKT_TYPE_A, o, false);
	/* RFC 6891 6.1.3: BADVERS is 16: 0 in the header, 1 in the OPT */
	assert_int_equal(pkt_rcode(r->msg), 0);
	assert_true(r->opt);
	assert_int_equal(r->edns.ext_rcode, 1);
	assert_int_equal(r->edns.version, 0);
	assert_int_equal(r->rcode, PKT_RCODE_BADVERS);
	assert_int_equal(r->an, 0);
	assert_false(AA(r));
	assert_int_equal(r->qd, 1);
	/* version 0 is answered */
	o.version = 0;
	r = askx("www.example.com.", PKT_TYPE_A, o, false);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->an, 1);
	assert_true(r->opt);
	assert_int_equal(r->edns.ext_rcode, 0);
}

/* ---- EDNS, sizes and truncation ---- */

static void test_edns_answer_opt(void **state)
{
	qopt_t o = { .edns = true, .payload = 4096, .do_bit = true, .nsid = true };
	resp_t *r = askx("www.example.com.", PKT_TYPE_A, o, false);
	assert_int_equal(r->an, 1);
	assert_true(r->opt);
	assert_int_equal(r->optrr.rclass, 1232);   /* our payload */
	assert_true(r->edns.do_bit);
	assert_int_equal(r->edns.version, 0);
	/* NSID: the identity */
	const uint8_t *p = r->msg + r->optrr.rdata_pos;
	assert_int_equal(pkt_get16(p), EDNS_OPT_NSID);
	assert_int_equal(pkt_get16(p + 2), strlen("tandem-test"));
	assert_memory_equal(p + 4, "tandem-test", strlen("tandem-test"));
	/* no NSID unless asked, no DO unless set */
	qopt_t plain = { .edns = true, .payload = 512 };
	r = askx("www.example.com.", PKT_TYPE_A, plain, false);
	assert_true(r->opt);
	assert_false(r->edns.do_bit);
	assert_int_equal(r->optrr.rdlen, 0);
	/* the OPT goes on errors too (but FORMERR) */
	r = askx("www.example.org.", PKT_TYPE_A, plain, false);
	assert_int_equal(r->rcode, PKT_RCODE_REFUSED);
	assert_true(r->opt);
	r = askx("nope.example.com.", PKT_TYPE_A, plain, false);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
	assert_true(r->opt);
	assert_int_equal(r->ar, 1);
}

static void test_edns_cookie_answer(void **state)
{
	for (int i = 0; i < 16; i++)
		F.secret[i] = (uint8_t)(i + 1);
	F.env.cookie_secret = F.secret;
	qopt_t o = { .edns = true, .payload = 1232, .cookie_len = 8 };
	resp_t *r = askx("www.example.com.", PKT_TYPE_A, o, false);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_int_equal(r->edns.cookie_len, 24);
	for (int i = 0; i < 8; i++)
		assert_int_equal(r->edns.cookie[i], 0xA0 + i);   /* the client cookie echoed */
	assert_int_equal(r->edns.cookie[8], 1);              /* version 1 */
	/* client and server cookie in, a fresh one out */
	o.cookie_len = 24;
	r = askx("www.example.com.", PKT_TYPE_A, o, false);
	assert_int_equal(r->edns.cookie_len, 24);
	/* none asked, none given */
	o.cookie_len = 0;
	r = askx("www.example.com.", PKT_TYPE_A, o, false);
	assert_int_equal(r->edns.cookie_len, 0);
	/* on an error with an OPT too */
	o.cookie_len = 8;
	r = askx("www.example.org.", PKT_TYPE_A, o, false);
	assert_int_equal(r->rcode, PKT_RCODE_REFUSED);
	assert_int_equal(r->edns.cookie_len, 24);
	F.env.cookie_secret = NULL;
}

static void test_truncation(void **state)
{
	/* 20 x 101-octet TXT: too big for 512 */
	resp_t *r = ask("big.example.com.", PKT_TYPE_TXT);
	assert_true(TC(r));
	assert_true(AA(r));
	assert_int_equal(r->an, 0);   /* an RRset goes whole or not at all */
	assert_true(r->len <= 512);
	r = ask_tcp("big.example.com.", PKT_TYPE_TXT);
	assert_false(TC(r));
	assert_int_equal(r->an, 20);
	/* with EDNS 4096 the limit is ours (1232): still too big */
	qopt_t o = { .edns = true, .payload = 4096 };
	r = askx("big.example.com.", PKT_TYPE_TXT, o, false);
	assert_true(TC(r));
	assert_true(r->opt);
	assert_true(r->len <= 1232);
	/* EDNS below 512 counts as 512 */
	o.payload = 100;
	r = askx("big.example.com.", PKT_TYPE_TXT, o, false);
	assert_true(TC(r));
	assert_true(r->len <= 512);
	assert_true(r->opt);
	/* a larger server limit lets it through */
	F.env.udp_payload = 4096;
	o.payload = 4096;
	r = askx("big.example.com.", PKT_TYPE_TXT, o, false);
	assert_false(TC(r));
	assert_int_equal(r->an, 20);
	assert_int_equal(r->optrr.rclass, 4096);
	F.env.udp_payload = 1232;
	/* small answers never carry TC */
	r = ask("www.example.com.", PKT_TYPE_A);
	assert_false(TC(r));
}

static void test_truncation_with_nsid_fills_exactly(void **state)
{
	/* every payload from 512 to 2600: the answer never passes it, the OPT always fits */
	for (uint16_t p = 512; p < 2600; p += 7) {
		F.env.udp_payload = 4096;
		qopt_t o = { .edns = true, .payload = p, .nsid = true };
		resp_t *r = askx("big.example.com.", PKT_TYPE_TXT, o, false);
		assert_true(r->len <= p);
		assert_true(r->opt);
		assert_true(r->an == 0 || r->an == 20);
		assert_true(TC(r) == (r->an == 0));
	}
	F.env.udp_payload = 1232;
}

static void test_any(void **state)
{
	/* RFC 8482: one RRset over UDP */
	resp_t *r = ask("multi.example.com.", PKT_TYPE_ANY);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_true(r->an >= 1);
	uint16_t t = r->rec[0].rr.type;
	assert_int_equal(count(r, PKT_SECTION_ANSWER, t), (int)r->an);
	/* all of them over TCP */
	r = ask_tcp("multi.example.com.", PKT_TYPE_ANY);
	assert_int_equal(r->an, 4);
	expect(r, PKT_SECTION_ANSWER, "multi.example.com.", PKT_TYPE_A);
	expect(r, PKT_SECTION_ANSWER, "multi.example.com.", PKT_TYPE_AAAA);
	expect(r, PKT_SECTION_ANSWER, "multi.example.com.", PKT_TYPE_TXT);
	expect(r, PKT_SECTION_ANSWER, "multi.example.com.", PKT_TYPE_MX);
	expect(r, PKT_SECTION_ADDITIONAL, "mail.example.com.", PKT_TYPE_A);
	/* ANY at a name that does not exist */
	r = ask("nope.example.com.", PKT_TYPE_ANY);
	assert_int_equal(r->rcode, PKT_RCODE_NXDOMAIN);
}

/* ---- prefetching (query/prefetch.c) ---- */

/* Runs a request's prefetch to the end (a bounded number of stages) into *p; returns the node it
 * reached in the contents it looked at (*z), ZONE_NODE_NONE when none. */
static uint32_t prefetch_run(query_prefetch_t *p, const uint8_t *req, size_t len,
                             const zone_contents_t **z)
{
	query_prefetch_begin(p, F.set, req, len);
	*z = p->zp.z;
	int steps = 0;
	while (query_prefetch_step(p))
		assert_true(++steps < 4 * NAME_MAXLABELS);
	return *z == NULL ? ZONE_NODE_NONE : p->zp.node;
}

static uint32_t prefetch_all(const uint8_t *req, size_t len, const zone_contents_t **z)
{
	query_prefetch_t p;
	return prefetch_run(&p, req, len, z);
}

/* The node a staged prefetch reaches is the one the answer will read: the question's own, else its
 * closest existing ancestor below the apex (where a referral or NXDOMAIN comes from), else none. */
static void test_prefetch_finds_the_answers_node(void **state)
{
	static const struct {
		const char *qname, *node;   /* node NULL: nothing below the apex */
		uint16_t qtype;
	} cases[] = {
		{ "www.example.com.", "www.example.com.", PKT_TYPE_A },
		{ "WWW.Example.COM.", "www.example.com.", PKT_TYPE_A },
		{ "alias.example.com.", "alias.example.com.", PKT_TYPE_A },   /* its CNAME */
		{ "example.com.", "example.com.", PKT_TYPE_MX },
		{ "a.b.c.walk.test.", "a.b.c.walk.test.", PKT_TYPE_AAAA },
		{ "nope.a.b.c.walk.test.", "a.b.c.walk.test.", PKT_TYPE_A },
		{ "x.z.y.cut.walk.test.", "y.cut.walk.test.", PKT_TYPE_A },
		{ "deeper.q.cut.walk.test.", "cut.walk.test.", PKT_TYPE_A },   /* the referral's cut */
		{ "nothere.walk.test.", NULL, PKT_TYPE_A },
		{ "www.sub.example.com.", "www.sub.example.com.", PKT_TYPE_A },   /* the child zone's */
	};
	uint8_t req[PKT_MAXLEN];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = mkreq(req, cases[i].qname, cases[i].qtype, &(qopt_t){ .edns = true });
		const zone_contents_t *z;
		query_prefetch_t p;
		uint32_t got = prefetch_run(&p, req, len, &z);
		assert_non_null(z);
		uint32_t want = ZONE_NODE_NONE;
		uint8_t lower[NAME_MAXLEN];
		if (cases[i].node != NULL) {
			int n = name_copy_lower(lower, N(cases[i].node));
			want = zone_lookup(z, lower, (size_t)n);
			assert_int_not_equal(want, ZONE_NODE_NONE);
		}
		if (got != want)
			fail_msg("%s: prefetch reached node %u, the answer reads %u", cases[i].qname, got, want);
		/* The question's own node is handed to the answer (only for that name and version); the
		 * answer is the same octets with it as without. */
		int qlen = name_copy_lower(lower, N(cases[i].qname));
		bool own = cases[i].node != NULL && name_equal(N(cases[i].qname), N(cases[i].node));
		assert_int_equal(query_prefetch_node(&p, z, lower, (size_t)qlen), own ? want : ZONE_NODE_NONE);
		assert_int_equal(query_prefetch_node(&p, NULL, lower, (size_t)qlen), ZONE_NODE_NONE);
		assert_int_equal(query_prefetch_node(NULL, z, lower, (size_t)qlen), ZONE_NODE_NONE);
		uint8_t plain[PKT_MAXLEN], hinted[PKT_MAXLEN];
		F.env.prefetch = NULL;
		size_t n1 = query_answer(&F.env, req, len, plain, sizeof(plain), false);
		F.env.prefetch = &p;
		size_t n2 = query_answer(&F.env, req, len, hinted, sizeof(hinted), false);
		F.env.prefetch = NULL;
		assert_true(n1 > 0);
		assert_int_equal(n1, n2);
		assert_memory_equal(plain, hinted, n1);
	}
	/* Nothing to do: a name in no zone, DS (the parent side), a response, two questions. */
	const zone_contents_t *z;
	size_t len = mkreq(req, "www.example.org.", PKT_TYPE_A, &(qopt_t){ 0 });
	assert_int_equal(prefetch_all(req, len, &z), ZONE_NODE_NONE);
	assert_null(z);
	len = mkreq(req, "sub.example.com.", PKT_TYPE_DS, &(qopt_t){ 0 });
	prefetch_all(req, len, &z);
	assert_null(z);
	len = mkreq(req, "www.example.com.", PKT_TYPE_A, &(qopt_t){ .flags = PKT_FLAG_QR });
	prefetch_all(req, len, &z);
	assert_null(z);
	len = mkreq(req, "www.example.com.", PKT_TYPE_A, &(qopt_t){ 0 });
	req[5] = 2;
	prefetch_all(req, len, &z);
	assert_null(z);
}

/* The prefetch reads a request only within its length, whatever it holds: every cut of a good request
 * and random octets, each in a heap block of exactly its size (ASan sees any read past it). */
static void test_prefetch_reads_within_the_request(void **state)
{
	uint8_t req[PKT_MAXLEN];
	size_t full = mkreq(req, "a.b.c.walk.test.", PKT_TYPE_A, &(qopt_t){ .edns = true });
	const zone_contents_t *z;
	for (size_t len = 0; len <= full; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, req, len);
		prefetch_all(copy, len, &z);
		if (len < PKT_HEADER_LEN + (size_t)NL("a.b.c.walk.test.") + 4)   /* the question is cut */
			assert_null(z);
		free(copy);
	}
	/* A pointer in the question's name: left alone (query_parse decides what it is). */
	static const uint8_t ptr[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1 };
	prefetch_all(ptr, sizeof(ptr), &z);
	assert_null(z);
	srand(9);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand() % 80);
		uint8_t *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		for (size_t i = 0; i < len; i++)
			/* QDCOUNT 1, QR clear, then octets that are often label lengths, and zero */
			copy[i] = (uint8_t)(i == 4 ? 0 : i == 5 ? 1 : i == 2 ? rand() & 0x7F
			                    : rand() % 8 == 0 ? 0 : rand() % 70);
		prefetch_all(copy, len, &z);
		free(copy);
	}
}

static void test_chaos(void **state)
{
	qopt_t o = { .qclass = PKT_CLASS_CH };
	resp_t *r = askx("id.server.", PKT_TYPE_TXT, o, false);
	assert_int_equal(r->rcode, PKT_RCODE_NOERROR);
	assert_true(AA(r));
	assert_int_equal(r->an, 1);
	assert_int_equal(r->rec[0].rr.type, PKT_TYPE_TXT);
	assert_int_equal(r->rec[0].rr.rclass, PKT_CLASS_CH);
	assert_int_equal(r->rec[0].rd[0], strlen("tandem-test"));
	assert_memory_equal(r->rec[0].rd + 1, "tandem-test", strlen("tandem-test"));
	assert_int_equal(r->q.qclass, PKT_CLASS_CH);
	r = askx("HOSTNAME.BIND.", PKT_TYPE_TXT, o, false);
	assert_int_equal(r->an, 1);
	assert_memory_equal(r->rec[0].rr.owner, N("HOSTNAME.BIND."), 15);
	/* with EDNS */
	qopt_t e = { .qclass = PKT_CLASS_CH, .edns = true, .payload = 1232 };
	r = askx("id.server.", PKT_TYPE_TXT, e, false);
	assert_int_equal(r->an, 1);
	assert_true(r->opt);
	/* other names and types */
	r = askx("version.bind.", PKT_TYPE_TXT, o, false);
	assert_int_equal(r->rcode, PKT_RCODE_REFUSED);
	assert_int_equal(r->an, 0);
	r = askx("id.server.", PKT_TYPE_A, o, false);
	assert_int_equal(r->rcode, PKT_RCODE_REFUSED);
	/* identity not disclosed */
	F.env.identity = NULL;
	r = askx("id.server.", PKT_TYPE_TXT, o, false);
	assert_int_equal(r->rcode, PKT_RCODE_REFUSED);
	assert_int_equal(r->an, 0);
	/* and no NSID either */
	qopt_t n = { .edns = true, .payload = 1232, .nsid = true };
	r = askx("www.example.com.", PKT_TYPE_A, n, false);
	assert_true(r->opt);
	assert_int_equal(r->optrr.rdlen, 0);
	F.env.identity = "tandem-test";
}

static void test_small_respcap(void **state)
{
	/* a caller's buffer smaller than the answer: no overrun, a valid (truncated) message */
	uint8_t req[512];
	qopt_t o = { .id = 3 };
	size_t len = mkreq(req, "big.example.com.", PKT_TYPE_TXT, &o);
	static uint8_t out[1024];
	for (size_t cap = 40; cap < 600; cap += 13) {
		memset(out, 0xEE, sizeof(out));
		rcu_read_lock();
		size_t n = query_answer(&F.env, req, len, out, cap, true);
		rcu_read_unlock();
		assert_true(n <= cap);
		for (size_t i = cap; i < sizeof(out); i++)
			if (out[i] != 0xEE)
				fail_msg("respcap %zu: octet %zu written", cap, i);
		if (n > 0) {
			memcpy(R.msg, out, n);
			R.len = n;
			parse_resp();
			assert_true(TC(&R));
		}
	}
}

/* The same with EDNS: the room kept for the OPT must not be taken from a buffer smaller than it. */
static void test_small_respcap_edns(void **state)
{
	uint8_t req[512];
	qopt_t o = { .id = 4, .edns = true, .payload = 4096, .nsid = true };
	size_t len = mkreq(req, "www.example.com.", PKT_TYPE_A, &o);
	for (size_t cap = 0; cap < 120; cap++) {
		for (int tcp = 0; tcp < 2; tcp++) {
			uint8_t *out = malloc(cap + 64);
			memset(out, 0xEE, cap + 64);
			rcu_read_lock();
			size_t n = query_answer(&F.env, req, len, out, cap, tcp);
			rcu_read_unlock();
			size_t over = 0;
			for (size_t i = cap; i < cap + 64; i++)
				if (out[i] != 0xEE)
					over = i + 1 - cap;
			free(out);
			if (n > cap || over > 0)
				fail_msg("respcap %zu (%s): answer of %zu octets, %zu written past the buffer",
				         cap, tcp ? "TCP" : "UDP", n, over);
		}
	}
}

/* Every test starts from the same environment, whatever the one before changed. */
static int reset_env(void **state)
{
	F.env.zones = F.set;
	F.env.identity = "tandem-test";
	F.env.udp_payload = 1232;
	F.env.cookie_secret = NULL;
	F.env.client = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_exact_match, reset_env),
		cmocka_unit_test_setup(test_case_preserved, reset_env),
		cmocka_unit_test_setup(test_additional_for_mx_and_ns, reset_env),
		cmocka_unit_test_setup(test_additional_no_duplicate_rrsets, reset_env),
		cmocka_unit_test_setup(test_nodata, reset_env),
		cmocka_unit_test_setup(test_deep_names_walked_from_the_apex, reset_env),
		cmocka_unit_test_setup(test_parse_lowers_qname, reset_env),
		cmocka_unit_test_setup(test_nxdomain, reset_env),
		cmocka_unit_test_setup(test_cname_chain, reset_env),
		cmocka_unit_test_setup(test_cname_then_additional, reset_env),
		cmocka_unit_test_setup(test_cname_out_of_zone, reset_env),
		cmocka_unit_test_setup(test_cname_to_nxdomain, reset_env),
		cmocka_unit_test_setup(test_cname_loop_bounded, reset_env),
		cmocka_unit_test_setup(test_cname_into_delegation_keeps_aa, reset_env),
		cmocka_unit_test_setup(test_wildcard_synthesis, reset_env),
		cmocka_unit_test_setup(test_wildcard_blocked_by_ent, reset_env),
		cmocka_unit_test_setup(test_wildcard_cname, reset_env),
		cmocka_unit_test_setup(test_dname_synthesis, reset_env),
		cmocka_unit_test_setup(test_dname_yxdomain, reset_env),
		cmocka_unit_test_setup(test_dname_at_apex, reset_env),
		cmocka_unit_test_setup(test_dname_at_apex_apex_itself, reset_env),
		cmocka_unit_test_setup(test_referral, reset_env),
		cmocka_unit_test_setup(test_referral_signed_ds, reset_env),
		cmocka_unit_test_setup(test_referral_glue_truncates_udp, reset_env),
		cmocka_unit_test_setup(test_ds_at_delegation, reset_env),
		cmocka_unit_test_setup(test_ds_at_child_apex_goes_to_parent, reset_env),
		cmocka_unit_test_setup(test_refused_and_servfail, reset_env),
		cmocka_unit_test_setup(test_notimp_opcodes, reset_env),
		cmocka_unit_test_setup(test_drop, reset_env),
		cmocka_unit_test_setup(test_formerr, reset_env),
		cmocka_unit_test_setup(test_badvers, reset_env),
		cmocka_unit_test_setup(test_edns_answer_opt, reset_env),
		cmocka_unit_test_setup(test_edns_cookie_answer, reset_env),
		cmocka_unit_test_setup(test_truncation, reset_env),
		cmocka_unit_test_setup(test_truncation_with_nsid_fills_exactly, reset_env),
		cmocka_unit_test_setup(test_any, reset_env),
		cmocka_unit_test_setup(test_chaos, reset_env),
		cmocka_unit_test_setup(test_prefetch_finds_the_answers_node, reset_env),
		cmocka_unit_test_setup(test_prefetch_reads_within_the_request, reset_env),
		cmocka_unit_test_setup(test_small_respcap, reset_env),
		cmocka_unit_test_setup(test_small_respcap_edns, reset_env),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
