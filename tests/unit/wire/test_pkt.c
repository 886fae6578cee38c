/* tests/unit/wire/test_pkt.c -- messages: writer compression and rollback, reading records, rdata, EDNS */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/error.h"
#include "wire/edns.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "wire/rdata.h"
#include "testlib/testlib.h"

/* ---- helpers ---- */

/* Appends a wire name from text to buf at *n. */
static void put_name(uint8_t *buf, size_t *n, const char *text)
{
	int len = NL(text);
	memcpy(buf + *n, N(text), (size_t)len);
	*n += (size_t)len;
}

static void put_u16(uint8_t *buf, size_t *n, uint16_t v)
{
	pkt_put16(buf + *n, v);
	*n += 2;
}

static void put_u32(uint8_t *buf, size_t *n, uint32_t v)
{
	pkt_put32(buf + *n, v);
	*n += 4;
}

typedef struct {
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	uint8_t rdata[300];
	uint16_t rdlen;
} test_rr_t;

static test_rr_t mk_rr(const char *owner, uint16_t type, uint32_t ttl)
{
	test_rr_t r;
	memset(&r, 0, sizeof(r));
	r.owner = owner;
	r.type = type;
	r.ttl = ttl;
	return r;
}

static void rd_name(test_rr_t *r, const char *name)
{
	size_t n = r->rdlen;
	put_name(r->rdata, &n, name);
	r->rdlen = (uint16_t)n;
}

static void rd_u16(test_rr_t *r, uint16_t v)
{
	size_t n = r->rdlen;
	put_u16(r->rdata, &n, v);
	r->rdlen = (uint16_t)n;
}

static void rd_u32(test_rr_t *r, uint32_t v)
{
	size_t n = r->rdlen;
	put_u32(r->rdata, &n, v);
	r->rdlen = (uint16_t)n;
}

static void rd_bytes(test_rr_t *r, const void *b, size_t len)
{
	memcpy(r->rdata + r->rdlen, b, len);
	r->rdlen = (uint16_t)(r->rdlen + len);
}

/* A sample of records of many layouts. */
static int sample_rrs(test_rr_t *rrs)
{
	int n = 0;
	rrs[n] = mk_rr("www.example.com.", PKT_TYPE_A, 300);
	rd_bytes(&rrs[n++], "\xc0\x00\x02\x01", 4);
	rrs[n] = mk_rr("example.com.", PKT_TYPE_MX, 3600);
	rd_u16(&rrs[n], 10);
	rd_name(&rrs[n++], "mail.example.com.");
	rrs[n] = mk_rr("_sip._tcp.example.com.", PKT_TYPE_SRV, 60);
	rd_u16(&rrs[n], 1);
	rd_u16(&rrs[n], 2);
	rd_u16(&rrs[n], 5060);
	rd_name(&rrs[n++], "srv.example.com.");
	rrs[n] = mk_rr("example.com.", PKT_TYPE_SOA, 86400);
	rd_name(&rrs[n], "ns1.example.com.");
	rd_name(&rrs[n], "hostmaster.example.com.");
	for (int i = 0; i < 5; i++)
		rd_u32(&rrs[n], 1000u + (uint32_t)i);
	n++;
	rrs[n] = mk_rr("example.com.", PKT_TYPE_NS, 86400);
	rd_name(&rrs[n++], "ns1.example.com.");
	rrs[n] = mk_rr("alias.example.com.", PKT_TYPE_CNAME, 5);
	rd_name(&rrs[n++], "www.example.com.");
	rrs[n] = mk_rr("d.example.com.", PKT_TYPE_DNAME, 5);
	rd_name(&rrs[n++], "example.net.");
	rrs[n] = mk_rr("example.com.", PKT_TYPE_TXT, 5);
	rd_bytes(&rrs[n++], "\x05hello\x00\x03" "abc", 11);
	rrs[n] = mk_rr("example.com.", PKT_TYPE_AAAA, 5);
	rd_bytes(&rrs[n++], "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	rrs[n] = mk_rr("n.example.com.", 35 /* NAPTR */, 5);
	rd_u16(&rrs[n], 100);
	rd_u16(&rrs[n], 10);
	rd_bytes(&rrs[n], "\x01u\x07" "E2U+sip\x00", 11);
	rd_name(&rrs[n++], "example.com.");
	rrs[n] = mk_rr("example.com.", PKT_TYPE_RRSIG, 5);
	rd_u16(&rrs[n], PKT_TYPE_A);
	rd_bytes(&rrs[n], "\x08\x02\0\0\x0e\x10\x60\0\0\0\x5f\0\0\0\x12\x34", 16);
	rd_name(&rrs[n], "example.com.");
	rd_bytes(&rrs[n++], "sig", 3);
	rrs[n] = mk_rr("Mixed.EXAMPLE.com.", PKT_TYPE_PTR, 5);
	/* compression matches case-insensitively, so only the first label keeps its case */
	rd_name(&rrs[n++], "Target.example.com.");
	rrs[n] = mk_rr("example.com.", 65280, 5);
	rd_bytes(&rrs[n++], "\x03www\x07" "example\x03" "com\x00", 17);   /* unknown: opaque */
	rrs[n] = mk_rr("e.example.com.", PKT_TYPE_TXT, 5);   /* empty rdata */
	n++;
	return n;
}

/* Reads the message back and checks the question and every record against rrs. */
static void check_read_back(const uint8_t *msg, size_t len, const char *qname, const test_rr_t *rrs,
                            int n)
{
	pkt_question_t q;
	size_t pos;
	assert_int_equal(pkt_qdcount(msg), 1);
	assert_int_equal(pkt_ancount(msg) + pkt_nscount(msg) + pkt_arcount(msg), n);
	assert_int_equal(pkt_read_question(msg, len, &pos, &q), TDM_OK);
	assert_int_equal(q.qname_len, NL(qname));
	assert_memory_equal(q.qname, N(qname), (size_t)q.qname_len);
	for (int i = 0; i < n; i++) {
		pkt_rr_t rr;
		uint8_t rd[1024];
		assert_int_equal(pkt_read_rr(msg, len, &pos, &rr), TDM_OK);
		int olen = NL(rrs[i].owner);
		assert_int_equal(name_length(rr.owner, NAME_MAXLEN), olen);
		/* compression may fold the case to an earlier copy; compare case-insensitively */
		assert_true(name_equal(rr.owner, N(rrs[i].owner)));
		assert_int_equal(rr.type, rrs[i].type);
		assert_int_equal(rr.rclass, PKT_CLASS_IN);
		assert_int_equal(rr.ttl, rrs[i].ttl);
		int rdlen = rdata_unpack(msg, len, rr.rdata_pos, rr.rdlen, rr.type, rd, sizeof(rd));
		if (rdlen != rrs[i].rdlen)
			fail_msg("record %d (type %u): rdata %d octets, expected %u", i, rr.type, rdlen,
			         rrs[i].rdlen);
		/* names in rdata may be compressed against a copy in another case */
		uint8_t want[1024];
		for (int k = 0; k < rdlen; k++) {
			rd[k] = name_lower(rd[k]);
			want[k] = name_lower(rrs[i].rdata[k]);
		}
		assert_memory_equal(rd, want, rrs[i].rdlen);
	}
	assert_int_equal(pos, len);
}

/* ---- writer: compression ---- */

static void test_write_compression_layout(void **state)
{
	uint8_t buf[512];
	pkt_writer_t w;
	pkt_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(pkt_write_header(&w, 0x1234, PKT_FLAG_QR | PKT_FLAG_AA), TDM_OK);
	assert_int_equal(pkt_write_question(&w, N("www.example.com."), PKT_TYPE_A, PKT_CLASS_IN), TDM_OK);
	assert_int_equal(w.pos, 12 + 17 + 4);
	/* owner equal to the qname: a pointer to 12 */
	size_t at = w.pos;
	assert_int_equal(pkt_write_rr(&w, N("www.example.com."), 0, PKT_TYPE_A, PKT_CLASS_IN, 300,
	                              (const uint8_t *)"\xc0\0\2\1", 4), TDM_OK);
	assert_int_equal(buf[at], 0xC0);
	assert_int_equal(buf[at + 1], 12);
	assert_int_equal(w.pos, at + 2 + 10 + 4);
	/* owner example.com: pointer to 16; MX target mail + pointer to 16 */
	at = w.pos;
	uint8_t mx[32];
	size_t mxlen = 0;
	put_u16(mx, &mxlen, 10);
	put_name(mx, &mxlen, "mail.example.com.");
	assert_int_equal(pkt_write_rr(&w, N("example.com."), 0, PKT_TYPE_MX, PKT_CLASS_IN, 60, mx,
	                              (uint16_t)mxlen), TDM_OK);
	assert_int_equal(buf[at], 0xC0);
	assert_int_equal(buf[at + 1], 16);
	assert_int_equal(pkt_get16(buf + at + 2), PKT_TYPE_MX);
	assert_int_equal(pkt_get16(buf + at + 10), 2 + 5 + 2);
	assert_memory_equal(buf + at + 12, "\x00\x0a\x04mail\xc0\x10", 9);
	/* SRV target must go out whole (RFC 3597 4: compression only for RFC 1035 types) */
	at = w.pos;
	uint8_t srv[64];
	size_t srvlen = 0;
	put_u16(srv, &srvlen, 0);
	put_u16(srv, &srvlen, 5);
	put_u16(srv, &srvlen, 5060);
	put_name(srv, &srvlen, "mail.example.com.");
	assert_int_equal(pkt_write_rr(&w, N("_sip._tcp.example.com."), 0, PKT_TYPE_SRV, PKT_CLASS_IN,
	                              60, srv, (uint16_t)srvlen), TDM_OK);
	/* owner: _sip, _tcp, pointer 16 */
	assert_memory_equal(buf + at, "\x04_sip\x04_tcp\xc0\x10", 12);
	assert_int_equal(pkt_get16(buf + at + 12 + 8), srvlen);
	assert_memory_equal(buf + at + 12 + 10, srv, srvlen);
	/* the owner "_sip._tcp" labels are now registered: a PTR to it compresses fully */
	at = w.pos;
	uint8_t ptr[64];
	size_t ptrlen = 0;
	put_name(ptr, &ptrlen, "_sip._TCP.example.com.");
	assert_int_equal(pkt_write_rr(&w, N("x.example.com."), 0, PKT_TYPE_PTR, PKT_CLASS_IN, 60, ptr,
	                              (uint16_t)ptrlen), TDM_OK);
	assert_memory_equal(buf + at, "\x01x\xc0\x10", 4);
	assert_int_equal(pkt_get16(buf + at + 4 + 8), 2);
	/* DNAME target never compressed (RFC 6672 2.5 / RFC 3597 4) */
	at = w.pos;
	uint8_t dn[64];
	size_t dnlen = 0;
	put_name(dn, &dnlen, "example.com.");
	assert_int_equal(pkt_write_rr(&w, N("d.example.com."), 0, PKT_TYPE_DNAME, PKT_CLASS_IN, 60, dn,
	                              (uint16_t)dnlen), TDM_OK);
	assert_int_equal(pkt_get16(buf + at + 4 + 8), 13);
	assert_memory_equal(buf + at + 4 + 10, N("example.com."), 13);
	/* owner_ptr */
	at = w.pos;
	assert_int_equal(pkt_write_rr(&w, NULL, 12, PKT_TYPE_A, PKT_CLASS_IN, 1,
	                              (const uint8_t *)"\1\2\3\4", 4), TDM_OK);
	assert_int_equal(pkt_get16(buf + at), 0xC00C);
	size_t len = pkt_writer_finish(&w);
	assert_int_equal(len, w.pos);
	assert_int_equal(pkt_id(buf), 0x1234);
	assert_int_equal(pkt_flags(buf), PKT_FLAG_QR | PKT_FLAG_AA);
	assert_int_equal(pkt_qdcount(buf), 1);
	assert_int_equal(pkt_ancount(buf), 6);
	assert_int_equal(pkt_nscount(buf), 0);
	assert_int_equal(pkt_arcount(buf), 0);
}

/* Regression (found by fuzz_query): a name whose last labels repeat ("www.example.com.example.com.",
 * "a.a.") was compressed against its own labels, before they were all written: a pointer into the name
 * itself, a loop a client cannot read. Each name must read back as it was written, whatever the buffer
 * held before (zeros here: what made the false match). */
static void test_write_name_with_repeated_labels(void **state)
{
	static const char *names[] = { "www.example.com.example.com.", "a.a.", "a.a.a.a.a.", "x.y.x.y." };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint8_t buf[512] = { 0 };
		pkt_writer_t w;
		pkt_writer_init(&w, buf, sizeof(buf));
		assert_int_equal(pkt_write_header(&w, 1, PKT_FLAG_QR), TDM_OK);
		assert_int_equal(pkt_write_question(&w, N(names[i]), PKT_TYPE_A, PKT_CLASS_IN), TDM_OK);
		size_t len = pkt_writer_finish(&w), pos = PKT_HEADER_LEN;
		uint8_t out[NAME_MAXLEN];
		int n = name_unpack(buf, len, &pos, out);
		assert_true(n > 0);
		assert_true(name_equal(out, N(names[i])));
		/* The question's name is the first in the message: nothing before it to point at. */
		assert_int_equal(pos, PKT_HEADER_LEN + (size_t)name_length(N(names[i]), NAME_MAXLEN));
	}
}

static void test_write_sections_and_read_back(void **state)
{
	test_rr_t rrs[32];
	int n = sample_rrs(rrs);
	uint8_t buf[4096];
	pkt_writer_t w;
	pkt_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(pkt_write_header(&w, 7, PKT_FLAG_QR), TDM_OK);
	assert_int_equal(pkt_write_question(&w, N("Www.Example.com."), PKT_TYPE_ANY, PKT_CLASS_IN),
	                 TDM_OK);
	for (int i = 0; i < n; i++) {
		if (i == 4)
			pkt_begin_section(&w, PKT_SECTION_AUTHORITY);
		if (i == 9)
			pkt_begin_section(&w, PKT_SECTION_ADDITIONAL);
		assert_int_equal(pkt_write_rr(&w, N(rrs[i].owner), 0, rrs[i].type, PKT_CLASS_IN, rrs[i].ttl,
		                              rrs[i].rdata, rrs[i].rdlen), TDM_OK);
	}
	size_t len = pkt_writer_finish(&w);
	assert_int_equal(pkt_ancount(buf), 4);
	assert_int_equal(pkt_nscount(buf), 5);
	assert_int_equal(pkt_arcount(buf), n - 9);
	check_read_back(buf, len, "Www.Example.com.", rrs, n);
	/* and the same without compression */
	pkt_writer_init(&w, buf, sizeof(buf));
	w.compress = false;
	assert_int_equal(pkt_write_header(&w, 7, PKT_FLAG_QR), TDM_OK);
	assert_int_equal(pkt_write_question(&w, N("www.example.com."), PKT_TYPE_ANY, PKT_CLASS_IN),
	                 TDM_OK);
	for (int i = 0; i < n; i++)
		assert_int_equal(pkt_write_rr(&w, N(rrs[i].owner), 0, rrs[i].type, PKT_CLASS_IN, rrs[i].ttl,
		                              rrs[i].rdata, rrs[i].rdlen), TDM_OK);
	len = pkt_writer_finish(&w);
	check_read_back(buf, len, "www.example.com.", rrs, n);
}

static void test_write_many_names_and_far_offsets(void **state)
{
	/* more names than the compression table holds, and names past offset 0x4000 */
	static uint8_t buf[PKT_MAXLEN];
	static test_rr_t rrs[400];
	pkt_writer_t w;
	pkt_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(pkt_write_header(&w, 1, 0), TDM_OK);
	assert_int_equal(pkt_write_question(&w, N("example.org."), PKT_TYPE_A, PKT_CLASS_IN), TDM_OK);
	char owner[400][64];
	int n = 0;
	for (int i = 0; i < 400; i++, n++) {
		snprintf(owner[i], sizeof(owner[i]), "h%d.z%d.example.org.", i, i % 7);
		rrs[i] = mk_rr(owner[i], PKT_TYPE_TXT, (uint32_t)i);
		uint8_t txt[200];
		txt[0] = 150;
		memset(txt + 1, 'x', 150);
		if (i % 3 == 0) {
			rrs[i].type = PKT_TYPE_CNAME;
			char t[64];
			snprintf(t, sizeof(t), "h%d.z%d.example.org.", i / 2, (i / 2) % 7);
			rd_name(&rrs[i], t);
		} else {
			rd_bytes(&rrs[i], txt, 151);
		}
		int ret = pkt_write_rr(&w, N(rrs[i].owner), 0, rrs[i].type, PKT_CLASS_IN, rrs[i].ttl,
		                       rrs[i].rdata, rrs[i].rdlen);
		if (ret == TDM_ESPACE)
			break;
		assert_int_equal(ret, TDM_OK);
	}
	assert_true(w.pos > 0x4000);
	size_t len = pkt_writer_finish(&w);
	check_read_back(buf, len, "example.org.", rrs, n);
}

/* ---- writer: rollback ---- */

static void start_msg(pkt_writer_t *w, uint8_t *buf, size_t cap)
{
	pkt_writer_init(w, buf, cap);
	assert_int_equal(pkt_write_header(w, 9, PKT_FLAG_QR), TDM_OK);
	assert_int_equal(pkt_write_question(w, N("www.example.com."), PKT_TYPE_MX, PKT_CLASS_IN),
	                 TDM_OK);
	assert_int_equal(pkt_write_rr(w, N("www.example.com."), 0, PKT_TYPE_A, PKT_CLASS_IN, 1,
	                              (const uint8_t *)"\1\2\3\4", 4), TDM_OK);
}

static void test_rollback_on_espace_every_cap(void **state)
{
	test_rr_t rrs[32];
	int n = sample_rrs(rrs);
	for (int i = 0; i < n; i++) {
		/* how much room the record needs after the start */
		uint8_t full[1024];
		pkt_writer_t w;
		start_msg(&w, full, sizeof(full));
		size_t before = w.pos;
		assert_int_equal(pkt_write_rr(&w, N(rrs[i].owner), 0, rrs[i].type, PKT_CLASS_IN, rrs[i].ttl,
		                              rrs[i].rdata, rrs[i].rdlen), TDM_OK);
		size_t need = w.pos;
		for (size_t cap = before; cap < need; cap++) {
			uint8_t buf[1024], snap[1024];
			memset(buf, 0x5A, sizeof(buf));
			start_msg(&w, buf, sizeof(buf));
			w.cap = cap;
			pkt_writer_t saved = w;
			memcpy(snap, buf, sizeof(buf));
			int ret = pkt_write_rr(&w, N(rrs[i].owner), 0, rrs[i].type, PKT_CLASS_IN, rrs[i].ttl,
			                       rrs[i].rdata, rrs[i].rdlen);
			if (ret != TDM_ESPACE)
				fail_msg("record %d cap %zu (need %zu): got %d", i, cap, need, ret);
			assert_int_equal(w.pos, saved.pos);
			assert_int_equal(w.ncomp, saved.ncomp);
			assert_memory_equal(w.counts, saved.counts, sizeof(w.counts));
			assert_memory_equal(w.comp, saved.comp, sizeof(w.comp[0]) * w.ncomp);
			assert_memory_equal(buf, snap, saved.pos);
			/* nothing written past the limit either */
			assert_memory_equal(buf + cap, snap + cap, sizeof(buf) - cap);
			/* the writer still works: the next record compresses only against what is there */
			w.cap = sizeof(buf);
			assert_int_equal(pkt_write_rr(&w, N(rrs[i].owner), 0, rrs[i].type, PKT_CLASS_IN,
			                              rrs[i].ttl, rrs[i].rdata, rrs[i].rdlen), TDM_OK);
			size_t len = pkt_writer_finish(&w);
			test_rr_t two[2];
			two[0] = mk_rr("www.example.com.", PKT_TYPE_A, 1);
			rd_bytes(&two[0], "\1\2\3\4", 4);
			two[1] = rrs[i];
			check_read_back(buf, len, "www.example.com.", two, 2);
		}
	}
}

static void test_rollback_owner_ptr_and_question(void **state)
{
	uint8_t buf[64];
	pkt_writer_t w;
	pkt_writer_init(&w, buf, 11);
	assert_int_equal(pkt_write_header(&w, 1, 0), TDM_ESPACE);
	pkt_writer_init(&w, buf, 12 + 17 + 3);
	assert_int_equal(pkt_write_header(&w, 1, 0), TDM_OK);
	assert_int_equal(pkt_write_question(&w, N("www.example.com."), 1, 1), TDM_ESPACE);
	assert_int_equal(w.pos, 12);
	assert_int_equal(w.ncomp, 0);
	assert_int_equal(pkt_qdcount(buf), 0);
	w.cap = 12 + 17 + 4 + 2 + 10 + 3;
	assert_int_equal(pkt_write_question(&w, N("www.example.com."), 1, 1), TDM_OK);
	size_t pos = w.pos;
	assert_int_equal(pkt_write_rr(&w, NULL, 12, 1, 1, 0, (const uint8_t *)"\1\2\3\4", 4), TDM_ESPACE);
	assert_int_equal(w.pos, pos);
	assert_int_equal(w.counts[0], 0);
	w.cap = 1;   /* smaller than pos: nothing fits, nothing breaks */
	assert_int_equal(pkt_write_rr(&w, NULL, 12, 1, 1, 0, (const uint8_t *)"\1\2\3\4", 4), TDM_ESPACE);
	assert_int_equal(pkt_write_name(&w, N("a."), true), TDM_ESPACE);
	assert_int_equal(w.pos, pos);
}

static void test_mark_rollback(void **state)
{
	uint8_t buf[512];
	pkt_writer_t w;
	start_msg(&w, buf, sizeof(buf));
	pkt_mark_t m;
	pkt_mark(&w, &m);
	size_t pos = w.pos;
	uint16_t ncomp = w.ncomp;
	assert_int_equal(pkt_write_rr(&w, N("new.name.example.net."), 0, PKT_TYPE_A, PKT_CLASS_IN, 1,
	                              (const uint8_t *)"\1\2\3\4", 4), TDM_OK);
	assert_true(w.ncomp > ncomp);
	pkt_rollback(&w, &m);
	assert_int_equal(w.pos, pos);
	assert_int_equal(w.ncomp, ncomp);
	assert_int_equal(w.counts[0], 1);
	/* overwrite the rolled back area with something else; a later name must not point into it */
	assert_int_equal(pkt_write_rr(&w, N("zzzzzzzzz.example.com."), 0, PKT_TYPE_A, PKT_CLASS_IN, 1,
	                              (const uint8_t *)"\1\2\3\4", 4), TDM_OK);
	assert_int_equal(pkt_write_rr(&w, N("new.name.example.net."), 0, PKT_TYPE_A, PKT_CLASS_IN, 1,
	                              (const uint8_t *)"\1\2\3\4", 4), TDM_OK);
	size_t len = pkt_writer_finish(&w);
	test_rr_t rrs[3];
	rrs[0] = mk_rr("www.example.com.", PKT_TYPE_A, 1);
	rd_bytes(&rrs[0], "\1\2\3\4", 4);
	rrs[1] = mk_rr("zzzzzzzzz.example.com.", PKT_TYPE_A, 1);
	rd_bytes(&rrs[1], "\1\2\3\4", 4);
	rrs[2] = mk_rr("new.name.example.net.", PKT_TYPE_A, 1);
	rd_bytes(&rrs[2], "\1\2\3\4", 4);
	check_read_back(buf, len, "www.example.com.", rrs, 3);
}

/* ---- writer: the compression table of long messages ---- */

/* Every compression pointer of a name goes back before the name's first octet: to a complete name
 * written earlier (RFC 1035 4.1.4), never into the name itself. Follows the whole chain. */
static void assert_name_points_back(const uint8_t *msg, size_t len, size_t start)
{
	size_t p = start;
	for (int hops = 0;; hops++) {
		assert_true(p < len);
		assert_true(hops <= NAME_MAXHOPS);
		uint8_t c = msg[p];
		if (c == 0)
			return;
		if ((c & 0xC0) == 0xC0) {
			assert_true(p + 1 < len);
			size_t target = (size_t)(c & 0x3F) << 8 | msg[p + 1];
			if (target >= start)
				fail_msg("name at %zu: pointer at %zu to %zu, not before the name", start, p, target);
			p = target;
			continue;
		}
		p += 1 + (size_t)c;
	}
}

/* Skips a name as it stands in the message. */
static size_t skip_name(const uint8_t *msg, size_t p)
{
	while (msg[p] != 0 && (msg[p] & 0xC0) != 0xC0)
		p += 1 + (size_t)msg[p];
	return p + (msg[p] == 0 ? 1 : 2);
}

/* Every name of the message (question, owners, the names in NS, CNAME, PTR, MX and SOA rdata). */
static void assert_pointers_back(const uint8_t *msg, size_t len)
{
	size_t p = PKT_HEADER_LEN;
	if (pkt_qdcount(msg) == 1) {
		assert_name_points_back(msg, len, p);
		p = skip_name(msg, p) + 4;
	}
	unsigned n = pkt_ancount(msg) + pkt_nscount(msg) + pkt_arcount(msg);
	for (unsigned i = 0; i < n; i++) {
		assert_name_points_back(msg, len, p);
		p = skip_name(msg, p);
		uint16_t type = pkt_get16(msg + p), rdlen = pkt_get16(msg + p + 8);
		size_t rd = p + 10;
		if (type == PKT_TYPE_NS || type == PKT_TYPE_CNAME || type == PKT_TYPE_PTR) {
			assert_name_points_back(msg, len, rd);
		} else if (type == PKT_TYPE_MX) {
			assert_name_points_back(msg, len, rd + 2);
		} else if (type == PKT_TYPE_SOA) {
			assert_name_points_back(msg, len, rd);
			assert_name_points_back(msg, len, skip_name(msg, rd));
		}
		p = rd + rdlen;
	}
	assert_int_equal(p, len);
}

/*
 * A reference compressor, written for clarity: the octets a sequence of names takes when each one is
 * written as its labels up to the longest suffix already in the message, then a pointer. A suffix can
 * be pointed at when it is a complete name written earlier and its labels start below 0x4000 (the
 * writer registers a label only when the next one is below 0x4000 too). Suffixes are kept lowercased
 * and searched one by one.
 */
typedef struct {
	uint8_t (*suffix)[NAME_MAXLEN];
	size_t n, cap;
} ref_t;

static bool ref_has(const ref_t *r, const uint8_t *lower)
{
	int len = name_length(lower, NAME_MAXLEN);
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->suffix[i], lower, (size_t)len) == 0)
			return true;
	return false;
}

/* Returns the octets the name takes at offset pos. */
static size_t ref_name(ref_t *r, const uint8_t *name, size_t pos)
{
	uint8_t lower[NAME_MAXLEN];
	name_copy_lower(lower, name);
	const uint8_t *labels[NAME_MAXLABELS];
	int k = 0;
	for (const uint8_t *p = lower; *p != 0; p += 1 + *p)
		labels[k++] = p;
	int j = 0;   /* labels [0, j) written */
	while (j < k && !ref_has(r, labels[j]))
		j++;
	size_t head = (size_t)((j < k ? labels[j] : lower + name_length(lower, NAME_MAXLEN) - 1) - lower);
	if (j > 0 && pos + (size_t)(labels[j - 1] - lower) < 0x4000) {
		for (int i = 0; i < j; i++) {
			if (r->n == r->cap) {
				r->cap = r->cap ? r->cap * 2 : 256;
				r->suffix = realloc(r->suffix, r->cap * sizeof(*r->suffix));
				assert_non_null(r->suffix);
			}
			memcpy(r->suffix[r->n++], labels[i], (size_t)name_length(labels[i], NAME_MAXLEN));
		}
	}
	return head + (j < k ? 2 : 1);
}

/* The names of many records: hosts under 37 parents, each owner with two records, and CNAMEs to
 * earlier hosts in another case. */
static int many_rrs(test_rr_t *rrs, char (*names)[64], int count)
{
	int n = 0;
	for (int i = 0; n + 3 <= count; i++) {
		snprintf(names[n], 64, "h%d.z%d.example.org.", i, i % 37);
		rrs[n] = mk_rr(names[n], PKT_TYPE_A, 300);
		rd_bytes(&rrs[n], "\x0a\0\0\x01", 4);
		n++;
		rrs[n] = rrs[n - 1];
		rrs[n].type = PKT_TYPE_AAAA;
		rrs[n].rdlen = 0;
		rd_bytes(&rrs[n], "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
		n++;
		if (i % 5 == 0) {
			snprintf(names[n], 64, "alias%d.example.org.", i);
			rrs[n] = mk_rr(names[n], PKT_TYPE_CNAME, 300);
			char t[64];
			snprintf(t, sizeof(t), "H%d.Z%d.Example.ORG.", i / 2, (i / 2) % 37);
			rd_name(&rrs[n], t);
			n++;
		}
	}
	return n;
}

/* Writes rrs after a question for example.org. until the message is full; returns how many went. */
static int write_many(pkt_writer_t *w, uint8_t *buf, size_t cap, pkt_ctable_t *table,
                      const test_rr_t *rrs, int n)
{
	pkt_writer_init(w, buf, cap);
	if (table != NULL)
		pkt_writer_set_table(w, table);
	assert_int_equal(pkt_write_header(w, 1, PKT_FLAG_QR), TDM_OK);
	assert_int_equal(pkt_write_question(w, N("example.org."), PKT_TYPE_AXFR, PKT_CLASS_IN), TDM_OK);
	int i = 0;
	for (; i < n; i++) {
		int ret = pkt_write_rr(w, N(rrs[i].owner), 0, rrs[i].type, PKT_CLASS_IN, rrs[i].ttl,
		                       rrs[i].rdata, rrs[i].rdlen);
		if (ret == TDM_ESPACE)
			break;
		assert_int_equal(ret, TDM_OK);
	}
	return i;
}

/* Thousands of names in one message: with the table every name compresses exactly as well as the
 * reference does, every pointer goes back to a complete name, the records read back; with the
 * writer's own 64 entries fewer records fit (so the comparison can tell). */
static void test_table_compresses_like_the_reference(void **state)
{
	static uint8_t buf[PKT_MAXLEN], inl[PKT_MAXLEN];
	static test_rr_t rrs[6000];
	static char names[6000][64];
	int n = many_rrs(rrs, names, 6000);
	pkt_ctable_t *t = pkt_ctable_new();
	assert_non_null(t);
	pkt_writer_t w;
	int written = write_many(&w, buf, sizeof(buf), t, rrs, n);
	assert_true(written > 1000 && written < n);
	assert_true(w.pos > 0x4000);   /* names past the reach of pointers too */
	size_t len = pkt_writer_finish(&w);

	ref_t r = { 0 };
	size_t want = PKT_HEADER_LEN + ref_name(&r, N("example.org."), PKT_HEADER_LEN) + 4;
	for (int i = 0; i < written; i++) {
		want += ref_name(&r, N(rrs[i].owner), want) + 10;
		if (rrs[i].type == PKT_TYPE_CNAME)
			want += ref_name(&r, rrs[i].rdata, want);
		else
			want += rrs[i].rdlen;
	}
	free(r.suffix);
	assert_int_equal(len, want);
	assert_pointers_back(buf, len);
	check_read_back(buf, len, "example.org.", rrs, written);

	pkt_writer_t w2;
	int inl_written = write_many(&w2, inl, sizeof(inl), NULL, rrs, n);
	assert_true(inl_written < written);   /* fewer records fit */
	size_t inl_len = pkt_writer_finish(&w2);
	assert_pointers_back(inl, inl_len);
	check_read_back(inl, inl_len, "example.org.", rrs, inl_written);
	pkt_ctable_free(t);
}

/* While the inline entries suffice, the table writes the very same octets. */
static void test_table_writes_what_the_inline_entries_write(void **state)
{
	test_rr_t rrs[32];
	int n = sample_rrs(rrs);
	uint8_t a[4096], b[4096];
	pkt_ctable_t *t = pkt_ctable_new();
	assert_non_null(t);
	size_t len[2];
	for (int k = 0; k < 2; k++) {
		pkt_writer_t w;
		pkt_writer_init(&w, k ? b : a, sizeof(a));
		assert_int_equal(pkt_write_header(&w, 7, PKT_FLAG_QR), TDM_OK);
		assert_int_equal(pkt_write_question(&w, N("Www.Example.com."), PKT_TYPE_ANY, PKT_CLASS_IN),
		                 TDM_OK);
		if (k)   /* given after the question: its entries move into the table */
			pkt_writer_set_table(&w, t);
		for (int i = 0; i < n; i++)
			assert_int_equal(pkt_write_rr(&w, N(rrs[i].owner), 0, rrs[i].type, PKT_CLASS_IN,
			                              rrs[i].ttl, rrs[i].rdata, rrs[i].rdlen), TDM_OK);
		assert_true(w.ncomp < PKT_COMPRESS_MAX);
		len[k] = pkt_writer_finish(&w);
	}
	assert_int_equal(len[0], len[1]);
	assert_memory_equal(a, b, len[0]);
	assert_pointers_back(b, len[1]);
	check_read_back(b, len[1], "Www.Example.com.", rrs, n);
	pkt_ctable_free(t);
}

/* The repeated-labels regression with the table: nothing points into the name being written. */
static void test_table_name_with_repeated_labels(void **state)
{
	static const char *names[] = { "www.example.com.example.com.", "a.a.", "a.a.a.a.a.", "x.y.x.y." };
	pkt_ctable_t *t = pkt_ctable_new();
	assert_non_null(t);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint8_t buf[512] = { 0 };
		pkt_writer_t w;
		pkt_writer_init(&w, buf, sizeof(buf));
		pkt_writer_set_table(&w, t);
		assert_int_equal(pkt_write_header(&w, 1, PKT_FLAG_QR), TDM_OK);
		assert_int_equal(pkt_write_question(&w, N(names[i]), PKT_TYPE_A, PKT_CLASS_IN), TDM_OK);
		test_rr_t rrs[3];
		rrs[0] = mk_rr(names[i], PKT_TYPE_A, 1);
		rd_bytes(&rrs[0], "\1\2\3\4", 4);
		rrs[1] = mk_rr(names[(i + 1) % 4], PKT_TYPE_CNAME, 1);
		rd_name(&rrs[1], names[i]);
		rrs[2] = mk_rr(names[(i + 2) % 4], PKT_TYPE_NS, 1);
		rd_name(&rrs[2], names[(i + 3) % 4]);
		for (int k = 0; k < 3; k++)
			assert_int_equal(pkt_write_rr(&w, N(rrs[k].owner), 0, rrs[k].type, PKT_CLASS_IN, 1,
			                              rrs[k].rdata, rrs[k].rdlen), TDM_OK);
		size_t len = pkt_writer_finish(&w);
		assert_int_equal(pkt_get16(buf + PKT_HEADER_LEN + NL(names[i]) + 4), 0xC00C);
		assert_pointers_back(buf, len);
		check_read_back(buf, len, names[i], rrs, 3);
	}
	pkt_ctable_free(t);
}

/* Rolled back entries leave the table (and the last owner it remembers): a later name never points
 * into what was rolled back and then overwritten. And a record that does not fit leaves the writer
 * as it was, at every cap. */
static void test_table_rollback(void **state)
{
	uint8_t buf[512];
	pkt_ctable_t *t = pkt_ctable_new();
	assert_non_null(t);
	pkt_writer_t w;
	pkt_writer_init(&w, buf, sizeof(buf));
	pkt_writer_set_table(&w, t);
	assert_int_equal(pkt_write_header(&w, 9, PKT_FLAG_QR), TDM_OK);
	assert_int_equal(pkt_write_question(&w, N("www.example.com."), PKT_TYPE_A, PKT_CLASS_IN), TDM_OK);
	pkt_mark_t m;
	pkt_mark(&w, &m);
	assert_int_equal(pkt_write_rr(&w, N("new.name.example.net."), 0, PKT_TYPE_A, PKT_CLASS_IN, 1,
	                              (const uint8_t *)"\1\2\3\4", 4), TDM_OK);
	assert_true(w.ncomp > m.ncomp);
	pkt_rollback(&w, &m);
	assert_int_equal(w.ncomp, m.ncomp);
	assert_int_equal(pkt_write_rr(&w, N("zzzzzzzzz.example.com."), 0, PKT_TYPE_A, PKT_CLASS_IN, 1,
	                              (const uint8_t *)"\1\2\3\4", 4), TDM_OK);
	assert_int_equal(pkt_write_rr(&w, N("new.name.example.net."), 0, PKT_TYPE_A, PKT_CLASS_IN, 1,
	                              (const uint8_t *)"\1\2\3\4", 4), TDM_OK);
	test_rr_t rrs[4];
	rrs[0] = mk_rr("zzzzzzzzz.example.com.", PKT_TYPE_A, 1);
	rd_bytes(&rrs[0], "\1\2\3\4", 4);
	rrs[1] = mk_rr("new.name.example.net.", PKT_TYPE_A, 1);
	rd_bytes(&rrs[1], "\1\2\3\4", 4);
	/* the same owner again, then one that fails at every cap and rolls back */
	rrs[2] = rrs[1];
	assert_int_equal(pkt_write_rr(&w, N(rrs[2].owner), 0, PKT_TYPE_A, PKT_CLASS_IN, 1, rrs[2].rdata,
	                              rrs[2].rdlen), TDM_OK);
	rrs[3] = mk_rr("mail.other.example.net.", PKT_TYPE_MX, 1);
	rd_u16(&rrs[3], 10);
	rd_name(&rrs[3], "mx.other.example.net.");
	size_t pos = w.pos;
	uint16_t ncomp = w.ncomp;
	for (size_t cap = pos; cap < pos + 40; cap++) {
		w.cap = cap;
		int ret = pkt_write_rr(&w, N(rrs[3].owner), 0, rrs[3].type, PKT_CLASS_IN, 1, rrs[3].rdata,
		                       rrs[3].rdlen);
		if (ret == TDM_OK)
			break;
		assert_int_equal(ret, TDM_ESPACE);
		assert_int_equal(w.pos, pos);
		assert_int_equal(w.ncomp, ncomp);
		/* between the tries, another name takes the place (and is rolled back) */
		pkt_mark(&w, &m);
		w.cap = sizeof(buf);
		assert_int_equal(pkt_write_rr(&w, N("mail.zz.example.net."), 0, PKT_TYPE_A, PKT_CLASS_IN, 1,
		                              (const uint8_t *)"\1\2\3\4", 4), TDM_OK);
		pkt_rollback(&w, &m);
	}
	assert_true(w.pos > pos);
	size_t len = pkt_writer_finish(&w);
	assert_pointers_back(buf, len);
	check_read_back(buf, len, "www.example.com.", rrs, 4);

	/* The owner remembered is forgotten too: written, rolled back, its place taken by rdata, written
	 * again. */
	pkt_writer_init(&w, buf, sizeof(buf));
	pkt_writer_set_table(&w, t);
	assert_int_equal(pkt_write_header(&w, 9, PKT_FLAG_QR), TDM_OK);
	assert_int_equal(pkt_write_question(&w, N("www.example.com."), PKT_TYPE_A, PKT_CLASS_IN), TDM_OK);
	pkt_mark(&w, &m);
	assert_int_equal(pkt_write_rr(&w, N("new.name.example.net."), 0, PKT_TYPE_A, PKT_CLASS_IN, 1,
	                              (const uint8_t *)"\1\2\3\4", 4), TDM_OK);
	pkt_rollback(&w, &m);
	rrs[0] = mk_rr("www.example.com.", PKT_TYPE_TXT, 1);
	rd_bytes(&rrs[0], "\x1f" "0123456789abcdef0123456789abcde", 32);
	assert_int_equal(pkt_write_rr(&w, NULL, 12, PKT_TYPE_TXT, PKT_CLASS_IN, 1, rrs[0].rdata,
	                              rrs[0].rdlen), TDM_OK);
	assert_int_equal(pkt_write_rr(&w, N(rrs[1].owner), 0, PKT_TYPE_A, PKT_CLASS_IN, 1, rrs[1].rdata,
	                              rrs[1].rdlen), TDM_OK);
	len = pkt_writer_finish(&w);
	assert_pointers_back(buf, len);
	check_read_back(buf, len, "www.example.com.", rrs, 2);
	pkt_ctable_free(t);
}

/* ---- reading ---- */

static void test_read_rr_bounds(void **state)
{
	uint8_t msg[128];
	size_t n = 12;
	memset(msg, 0, 12);
	put_name(msg, &n, "a.example.");
	put_u16(msg, &n, PKT_TYPE_A);
	put_u16(msg, &n, PKT_CLASS_IN);
	put_u32(msg, &n, 77);
	put_u16(msg, &n, 4);
	memcpy(msg + n, "\1\2\3\4", 4);
	n += 4;
	pkt_rr_t rr;
	size_t pos = 12;
	assert_int_equal(pkt_read_rr(msg, n, &pos, &rr), TDM_OK);
	assert_int_equal(pos, n);
	assert_int_equal(rr.start, 12);
	assert_int_equal(rr.rdata_pos, n - 4);
	assert_int_equal(rr.ttl, 77);
	assert_int_equal(rr.rdlen, 4);
	/* one octet short */
	for (size_t cut = 12; cut < n; cut++) {
		pos = 12;
		assert_true(pkt_read_rr(msg, cut, &pos, &rr) < 0);
		assert_int_equal(pos, 12);   /* not advanced on failure */
	}
	/* rdlen far past the end */
	pkt_put16(msg + n - 6, 0xFFFF);
	pos = 12;
	assert_int_equal(pkt_read_rr(msg, n, &pos, &rr), TDM_EMALF);
	/* rdlen 0 at the very end */
	pkt_put16(msg + n - 6, 0);
	pos = 12;
	assert_int_equal(pkt_read_rr(msg, n - 4, &pos, &rr), TDM_OK);
	assert_int_equal(pos, n - 4);
}

static void test_read_question(void **state)
{
	uint8_t msg[64];
	size_t n = 12;
	memset(msg, 0, 12);
	msg[5] = 1;
	put_name(msg, &n, "WwW.example.");
	put_u16(msg, &n, 28);
	put_u16(msg, &n, 1);
	pkt_question_t q;
	size_t pos;
	assert_int_equal(pkt_read_question(msg, n, &pos, &q), TDM_OK);
	assert_int_equal(pos, n);
	assert_int_equal(q.qtype, 28);
	assert_int_equal(q.qclass, 1);
	assert_memory_equal(q.qname, "\x03WwW\x07" "example", 13);
	assert_int_equal(pkt_read_question(msg, n - 1, &pos, &q), TDM_EMALF);
	assert_int_equal(pkt_read_question(msg, 11, &pos, &q), TDM_EMALF);
	assert_int_equal(pkt_read_question(msg, 12, &pos, &q), TDM_EMALF);
}

/* ---- rdata ---- */

/* A message with a question for example.com, then rdata at the end; returns the rdata offset. */
static size_t rdata_msg(uint8_t *msg, size_t *len)
{
	size_t n = 12;
	memset(msg, 0, 12);
	put_name(msg, &n, "example.com.");   /* at 12; "com" at 20 */
	put_u16(msg, &n, 6);
	put_u16(msg, &n, 1);
	*len = n;
	return n;
}

static void test_rdata_soa_compressed(void **state)
{
	uint8_t msg[256], out[256];
	size_t n, start = rdata_msg(msg, &n);
	memcpy(msg + n, "\x03ns1\xc0\x0c\x0aHostmaster\xc0\x0c", 19);
	n += 19;
	for (int i = 0; i < 5; i++)
		put_u32(msg, &n, (uint32_t)(i + 1));
	int ret = rdata_unpack(msg, n, start, (uint16_t)(n - start), PKT_TYPE_SOA, out, sizeof(out));
	assert_int_equal(ret, 17 + 24 + 20);
	assert_memory_equal(out, "\x03ns1\x07" "example\x03" "com\x00\x0aHostmaster\x07" "example\x03" "com\x00",
	                    41);
	assert_int_equal(pkt_get32(out + 41), 1);
	assert_int_equal(pkt_get32(out + 57), 5);
	/* outcap too small */
	assert_int_equal(rdata_unpack(msg, n, start, (uint16_t)(n - start), PKT_TYPE_SOA, out, 60),
	                 TDM_ESPACE);
	/* 19 or 21 fixed octets */
	assert_int_equal(rdata_unpack(msg, n, start, (uint16_t)(n - start - 1), PKT_TYPE_SOA, out,
	                              sizeof(out)), TDM_EMALF);
	msg[n] = 0;
	assert_int_equal(rdata_unpack(msg, n + 1, start, (uint16_t)(n + 1 - start), PKT_TYPE_SOA, out,
	                              sizeof(out)), TDM_EMALF);
	/* rdlen past the message */
	assert_int_equal(rdata_unpack(msg, n, start, (uint16_t)(n - start + 1), PKT_TYPE_SOA, out,
	                              sizeof(out)), TDM_EMALF);
}

static void test_rdata_mx_srv_naptr_compressed(void **state)
{
	uint8_t msg[256], out[256];
	size_t n, start = rdata_msg(msg, &n);
	memcpy(msg + n, "\x00\x0a\x04mail\xc0\x0c", 9);
	n += 9;
	assert_int_equal(rdata_unpack(msg, n, start, 9, PKT_TYPE_MX, out, sizeof(out)), 2 + 18);
	assert_memory_equal(out, "\x00\x0a\x04mail\x07" "example\x03" "com\x00", 20);
	/* trailing octet */
	msg[n] = 1;
	assert_int_equal(rdata_unpack(msg, n + 1, start, 10, PKT_TYPE_MX, out, sizeof(out)), TDM_EMALF);
	/* SRV: decompressed on input (RFC 3597 4 allows it) */
	n = start;
	memcpy(msg + n, "\x00\x01\x00\x02\x13\xc4\x03srv\xc0\x14", 12);
	n += 12;
	assert_int_equal(rdata_unpack(msg, n, start, 12, PKT_TYPE_SRV, out, sizeof(out)), 6 + 9);
	assert_memory_equal(out, "\x00\x01\x00\x02\x13\xc4\x03srv\x03" "com\x00", 15);
	/* NAPTR: order, pref, flags, services, regexp, replacement (compressed) */
	n = start;
	memcpy(msg + n, "\x00\x64\x00\x0a\x01u\x07" "E2U+sip\x00\xc0\x0c", 17);
	n += 17;
	assert_int_equal(rdata_unpack(msg, n, start, 17, 35, out, sizeof(out)), 15 + 13);
	assert_memory_equal(out, "\x00\x64\x00\x0a\x01u\x07" "E2U+sip\x00\x07" "example\x03" "com\x00", 28);
	/* NAPTR with a string running past the rdata */
	n = start;
	memcpy(msg + n, "\x00\x64\x00\x0a\x01u\x09" "E2U+sip\x00\xc0\x0c", 17);
	n += 17;
	assert_true(rdata_unpack(msg, n, start, 17, 35, out, sizeof(out)) < 0);
	/* a name pointing forward or at itself */
	n = start;
	memcpy(msg + n, "\x00\x0a\xc0\x00", 4);
	msg[n + 3] = (uint8_t)(start + 2);
	assert_int_equal(rdata_unpack(msg, n + 4, start, 4, PKT_TYPE_MX, out, sizeof(out)), TDM_ECOMPRESS);
	/* a name running past the rdata (but not the message) */
	n = start;
	memcpy(msg + n, "\x00\x0a\x04mail\x00", 8);
	assert_true(rdata_unpack(msg, n + 8, start, 6, PKT_TYPE_MX, out, sizeof(out)) < 0);
}

static void test_rdata_exact_lengths(void **state)
{
	uint8_t msg[256], out[256];
	size_t n, start = rdata_msg(msg, &n);
	memcpy(msg + n, "\1\2\3\4\5\6\7\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11", 17);
	assert_int_equal(rdata_unpack(msg, n + 17, start, 4, PKT_TYPE_A, out, sizeof(out)), 4);
	assert_int_equal(rdata_unpack(msg, n + 17, start, 3, PKT_TYPE_A, out, sizeof(out)), TDM_EMALF);
	assert_int_equal(rdata_unpack(msg, n + 17, start, 5, PKT_TYPE_A, out, sizeof(out)), TDM_EMALF);
	assert_int_equal(rdata_unpack(msg, n + 17, start, 16, PKT_TYPE_AAAA, out, sizeof(out)), 16);
	assert_int_equal(rdata_unpack(msg, n + 17, start, 15, PKT_TYPE_AAAA, out, sizeof(out)), TDM_EMALF);
	assert_int_equal(rdata_unpack(msg, n + 17, start, 17, PKT_TYPE_AAAA, out, sizeof(out)), TDM_EMALF);
	assert_int_equal(rdata_unpack(msg, n + 17, start, 1, PKT_TYPE_MX, out, sizeof(out)), TDM_EMALF);
	/* unknown types and TXT take anything */
	assert_int_equal(rdata_unpack(msg, n + 17, start, 17, 65280, out, sizeof(out)), 17);
	assert_int_equal(rdata_unpack(msg, n + 17, start, 3, PKT_TYPE_TXT, out, sizeof(out)), 3);
	/* HINFO: two strings exactly */
	memcpy(msg + n, "\x01" "a\x01" "b", 4);
	assert_int_equal(rdata_unpack(msg, n + 4, start, 4, 13, out, sizeof(out)), 4);
	assert_int_equal(rdata_unpack(msg, n + 4, start, 2, 13, out, sizeof(out)), TDM_EMALF);
	memcpy(msg + n, "\x01" "a\x05" "b", 4);
	assert_int_equal(rdata_unpack(msg, n + 4, start, 4, 13, out, sizeof(out)), TDM_EMALF);
	/* RRSIG signer must not be compressed */
	size_t m = n;
	put_u16(msg, &m, 1);
	memcpy(msg + m, "\x08\x02\0\0\x0e\x10\x60\0\0\0\x5f\0\0\0\x12\x34", 16);
	m += 16;
	memcpy(msg + m, "\xc0\x0c" "sig", 5);
	m += 5;
	assert_true(rdata_unpack(msg, m, start, (uint16_t)(m - start), PKT_TYPE_RRSIG, out, sizeof(out)) < 0);
	/* DNAME target must not be compressed either */
	memcpy(msg + n, "\xc0\x0c", 2);
	assert_true(rdata_unpack(msg, n + 2, start, 2, PKT_TYPE_DNAME, out, sizeof(out)) < 0);
}

static void test_rdata_type_names(void **state)
{
	char buf[32];
	assert_string_equal(rdata_type_name(1, buf, sizeof(buf)), "A");
	assert_string_equal(rdata_type_name(28, buf, sizeof(buf)), "AAAA");
	assert_string_equal(rdata_type_name(41, buf, sizeof(buf)), "OPT");
	assert_string_equal(rdata_type_name(65, buf, sizeof(buf)), "HTTPS");
	assert_string_equal(rdata_type_name(257, buf, sizeof(buf)), "CAA");
	assert_string_equal(rdata_type_name(65280, buf, sizeof(buf)), "TYPE65280");
	assert_string_equal(rdata_type_name(0, buf, sizeof(buf)), "TYPE0");
	assert_string_equal(rdata_type_name(23, buf, sizeof(buf)), "TYPE23");
	assert_string_equal(rdata_type_name(258, buf, sizeof(buf)), "TYPE258");
	assert_int_equal(rdata_type_from_text("A"), 1);
	assert_int_equal(rdata_type_from_text("a"), 1);
	assert_int_equal(rdata_type_from_text("aAaA"), 28);
	assert_int_equal(rdata_type_from_text("Naptr"), 35);
	assert_int_equal(rdata_type_from_text("opt"), 41);
	assert_int_equal(rdata_type_from_text("TYPE65280"), 65280);
	assert_int_equal(rdata_type_from_text("type1"), 1);
	assert_int_equal(rdata_type_from_text("TYPE65535"), 65535);
	assert_int_equal(rdata_type_from_text("TYPE65536"), -1);
	assert_int_equal(rdata_type_from_text("TYPE99999999999999999999999"), -1);
	assert_int_equal(rdata_type_from_text("TYPE"), -1);
	assert_int_equal(rdata_type_from_text("TYPE1x"), -1);
	assert_int_equal(rdata_type_from_text("FOO"), -1);
	assert_int_equal(rdata_type_from_text(""), -1);
	assert_int_equal(rdata_type_from_text("AA"), -1);
	/* every named type maps back */
	for (int t = 0; t < 65536; t += (t < 300 ? 1 : 997)) {
		rdata_type_name((uint16_t)t, buf, sizeof(buf));
		assert_int_equal(rdata_type_from_text(buf), t);
	}
	/* descriptors */
	assert_null(rdata_desc(65280)->name);
	assert_int_equal(rdata_desc(65280)->fields[0], RDATA_REST);
	assert_true(rdata_has_names(PKT_TYPE_MX));
	assert_true(rdata_has_names(PKT_TYPE_SRV));
	assert_true(rdata_has_names(PKT_TYPE_RRSIG));
	assert_false(rdata_has_names(PKT_TYPE_A));
	assert_false(rdata_has_names(PKT_TYPE_TXT));
	assert_false(rdata_has_names(65280));
}

/* "TYPE" must be followed by decimal digits only (RFC 3597 5); strtoul also takes sign and blanks. */
static void test_rdata_type_from_text_digits_only(void **state)
{
	assert_int_equal(rdata_type_from_text("TYPE 1"), -1);
	assert_int_equal(rdata_type_from_text("TYPE+1"), -1);
	assert_int_equal(rdata_type_from_text("TYPE-0"), -1);
	assert_int_equal(rdata_type_from_text("TYPE\t28"), -1);
}

/* ---- EDNS ---- */

/* A message holding only an OPT record; returns its length. */
static size_t opt_msg(uint8_t *msg, const uint8_t *owner, uint16_t payload, uint32_t ttl,
                      const uint8_t *opts, uint16_t optlen)
{
	size_t n = 12;
	memset(msg, 0, 12);
	int olen = name_length(owner, NAME_MAXLEN);
	memcpy(msg + n, owner, (size_t)olen);
	n += (size_t)olen;
	put_u16(msg, &n, PKT_TYPE_OPT);
	put_u16(msg, &n, payload);
	put_u32(msg, &n, ttl);
	put_u16(msg, &n, optlen);
	if (optlen)
		memcpy(msg + n, opts, optlen);
	return n + optlen;
}

static int parse_opt(const uint8_t *owner, uint16_t payload, uint32_t ttl, const uint8_t *opts,
                     uint16_t optlen, edns_t *e)
{
	uint8_t msg[512];
	size_t len = opt_msg(msg, owner, payload, ttl, opts, optlen);
	pkt_rr_t rr;
	size_t pos = 12;
	assert_int_equal(pkt_read_rr(msg, len, &pos, &rr), TDM_OK);
	return edns_parse(msg, &rr, e);
}

static void test_edns_parse_header(void **state)
{
	edns_t e;
	const uint8_t *root = (const uint8_t *)"";
	assert_int_equal(parse_opt(root, 4096, 0, NULL, 0, &e), TDM_OK);
	assert_true(e.present);
	assert_int_equal(e.payload, 4096);
	assert_int_equal(e.version, 0);
	assert_false(e.do_bit);
	assert_false(e.nsid);
	assert_int_equal(e.cookie_len, 0);
	assert_int_equal(parse_opt(root, 100, 0x00008000, NULL, 0, &e), TDM_OK);
	assert_int_equal(e.payload, 512);
	assert_true(e.do_bit);
	assert_int_equal(parse_opt(root, 0, 0, NULL, 0, &e), TDM_OK);
	assert_int_equal(e.payload, 512);
	assert_int_equal(parse_opt(root, 512, 0, NULL, 0, &e), TDM_OK);
	assert_int_equal(e.payload, 512);
	assert_int_equal(parse_opt(root, 65535, 0x12017FFF, NULL, 0, &e), TDM_OK);
	assert_int_equal(e.payload, 65535);
	assert_int_equal(e.ext_rcode, 0x12);
	assert_int_equal(e.version, 1);
	assert_false(e.do_bit);
	/* owner not the root */
	assert_int_equal(parse_opt(N("example."), 4096, 0, NULL, 0, &e), TDM_EMALF);
}

static void test_edns_parse_options(void **state)
{
	edns_t e;
	const uint8_t *root = (const uint8_t *)"";
	uint8_t o[128];
	size_t n = 0;
	put_u16(o, &n, EDNS_OPT_NSID);
	put_u16(o, &n, 0);
	put_u16(o, &n, 65001);   /* unknown: skipped */
	put_u16(o, &n, 3);
	memcpy(o + n, "xyz", 3);
	n += 3;
	put_u16(o, &n, EDNS_OPT_EXPIRE);
	put_u16(o, &n, 0);
	assert_int_equal(parse_opt(root, 1232, 0, o, (uint16_t)n, &e), TDM_OK);
	assert_true(e.nsid);
	assert_true(e.expire);
	/* cookie lengths: 8 ok, 9..15 no, 16..40 ok, 41 no */
	for (int len = 0; len <= 44; len++) {
		n = 0;
		put_u16(o, &n, EDNS_OPT_COOKIE);
		put_u16(o, &n, (uint16_t)len);
		for (int i = 0; i < len; i++)
			o[n++] = (uint8_t)(i + 1);
		int ret = parse_opt(root, 1232, 0, o, (uint16_t)n, &e);
		bool ok = len == 8 || (len >= 16 && len <= 40);
		if (ok) {
			assert_int_equal(ret, TDM_OK);
			assert_int_equal(e.cookie_len, len);
			assert_memory_equal(e.cookie, o + 4, (size_t)len);
		} else if (ret != TDM_EMALF) {
			fail_msg("cookie of %d octets: got %d", len, ret);
		}
	}
	/* truncated option header */
	n = 0;
	put_u16(o, &n, EDNS_OPT_NSID);
	put_u16(o, &n, 0);
	o[n++] = 0;
	o[n++] = 3;
	assert_int_equal(parse_opt(root, 1232, 0, o, (uint16_t)n, &e), TDM_EMALF);
	/* option data past the rdata */
	n = 0;
	put_u16(o, &n, EDNS_OPT_NSID);
	put_u16(o, &n, 5);
	o[n++] = 'a';
	assert_int_equal(parse_opt(root, 1232, 0, o, (uint16_t)n, &e), TDM_EMALF);
}

static void test_edns_write(void **state)
{
	uint8_t buf[512];
	pkt_writer_t w;
	start_msg(&w, buf, sizeof(buf));
	edns_t req = { .present = true, .do_bit = true, .nsid = true, .payload = 4096 };
	edns_reply_t reply = { .nsid = "ns1.test" };
	edns_reply_t none = { .nsid = NULL };
	size_t before = w.pos;
	assert_int_equal(edns_write(&w, &req, 1232, PKT_RCODE_BADVERS, &reply), TDM_OK);
	assert_int_equal(w.pos - before, edns_size(&req, &reply));
	assert_int_equal(w.counts[PKT_SECTION_ADDITIONAL], 1);
	size_t len = pkt_writer_finish(&w);
	assert_int_equal(pkt_arcount(buf), 1);
	pkt_rr_t rr;
	size_t pos = before;
	assert_int_equal(pkt_read_rr(buf, len, &pos, &rr), TDM_OK);
	assert_int_equal(pos, len);
	assert_int_equal(rr.owner[0], 0);
	assert_int_equal(buf[before], 0);   /* the root, not a pointer */
	assert_int_equal(rr.type, PKT_TYPE_OPT);
	assert_int_equal(rr.rclass, 1232);
	assert_int_equal(rr.ttl >> 24, 1);              /* BADVERS upper bits */
	assert_int_equal((rr.ttl >> 16) & 0xFF, 0);     /* version 0 */
	assert_int_equal(rr.ttl & 0xFFFF, 0x8000);      /* DO echoed */
	assert_int_equal(rr.rdlen, 4 + 8);
	assert_int_equal(pkt_get16(buf + rr.rdata_pos), EDNS_OPT_NSID);
	assert_int_equal(pkt_get16(buf + rr.rdata_pos + 2), 8);
	assert_memory_equal(buf + rr.rdata_pos + 4, "ns1.test", 8);
	edns_t back;
	assert_int_equal(edns_parse(buf, &rr, &back), TDM_OK);
	assert_true(back.nsid);
	assert_true(back.do_bit);
	assert_int_equal(back.payload, 1232);

	/* no NSID unless asked; no DO unless set; compression setting kept */
	start_msg(&w, buf, sizeof(buf));
	edns_t plain = { .present = true, .payload = 512 };
	before = w.pos;
	assert_int_equal(edns_write(&w, &plain, 1232, 0, &reply), TDM_OK);
	assert_int_equal(w.pos - before, 11);
	assert_int_equal(edns_size(&plain, &reply), 11);
	assert_true(w.compress);
	len = pkt_writer_finish(&w);
	pos = before;
	assert_int_equal(pkt_read_rr(buf, len, &pos, &rr), TDM_OK);
	assert_int_equal(rr.ttl, 0);
	assert_int_equal(rr.rdlen, 0);
	/* asked, but nothing to tell */
	edns_t asked = { .present = true, .nsid = true, .payload = 512 };
	assert_int_equal(edns_size(&asked, &none), 11);
	/* no room: nothing written */
	start_msg(&w, buf, sizeof(buf));
	w.cap = w.pos + 10;
	before = w.pos;
	assert_int_equal(edns_write(&w, &plain, 1232, 0, &none), TDM_ESPACE);
	assert_int_equal(w.pos, before);
	assert_int_equal(w.counts[PKT_SECTION_ADDITIONAL], 0);
}

static void test_edns_write_cookie_and_long_nsid(void **state)
{
	uint8_t buf[1024];
	pkt_writer_t w;
	start_msg(&w, buf, sizeof(buf));
	edns_t req = { .present = true, .nsid = true, .payload = 1232, .cookie_len = 8 };
	char longid[301];
	memset(longid, 'n', 300);
	longid[300] = '\0';
	edns_reply_t reply = { .nsid = longid, .cookie_len = 24 };
	for (int i = 0; i < 24; i++)
		reply.cookie[i] = (uint8_t)i;
	size_t before = w.pos;
	assert_int_equal(edns_write(&w, &req, 1232, 0, &reply), TDM_OK);
	/* edns_size must cover what edns_write writes, or the OPT would not fit the space kept for it
	 * (it may count more: the NSID is cut to 255 octets when written) */
	assert_true(w.pos - before <= edns_size(&req, &reply));
	assert_int_equal(w.pos - before, 11 + 4 + 255 + 4 + 24);
	size_t len = pkt_writer_finish(&w);
	pkt_rr_t rr;
	size_t pos = before;
	assert_int_equal(pkt_read_rr(buf, len, &pos, &rr), TDM_OK);
	edns_t back;
	assert_int_equal(edns_parse(buf, &rr, &back), TDM_OK);
	assert_true(back.nsid);
	assert_int_equal(back.cookie_len, 24);
	assert_memory_equal(back.cookie, reply.cookie, 24);
}

static void unhex(const char *hex, uint8_t *out)
{
	for (size_t i = 0; hex[2 * i] != '\0'; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* RFC 9018 appendix A: the published server cookies. */
static void check_cookie(const char *secret_hex, const char *client_hex, int family, const char *ip,
                         uint32_t now, const char *want_hex)
{
	uint8_t secret[16], want[24];
	unhex(secret_hex, secret);
	unhex(want_hex, want);
	edns_t req = { .present = true, .cookie_len = 8 };
	unhex(client_hex, req.cookie);
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(9999);
		assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(9999);
		assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
	}
	edns_reply_t reply = { 0 };
	edns_cookie(&req, secret, &ss, now, &reply);
	assert_int_equal(reply.cookie_len, 24);
	assert_memory_equal(reply.cookie, want, 24);
}

static void test_edns_cookie_rfc9018_vectors(void **state)
{
	check_cookie("e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", AF_INET, "198.51.100.100",
	             1559731985, "2464c4abcf10c957010000005cf79f111f8130c3eee29480");
	check_cookie("e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", AF_INET, "198.51.100.100",
	             1559734385, "2464c4abcf10c957010000005cf7a871d4a564a1442aca77");
	check_cookie("e5e973e5a6b2a43f48e7dc849e37bfcf", "fc93fc62807ddb86", AF_INET, "203.0.113.203",
	             1559734700, "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e");
	check_cookie("445536bcd2513298075a5d379663c962", "22681ab97d52c298", AF_INET6,
	             "2001:db8:220:1:59de:d0f4:8769:82b8", 1559741961,
	             "22681ab97d52c298010000005cf7c609a6bb79d16625507a");
	/* no client cookie: nothing */
	edns_t req = { .present = true };
	edns_reply_t reply = { .cookie_len = 99 };
	uint8_t secret[16] = { 0 };
	edns_cookie(&req, secret, NULL, 1, &reply);
	assert_int_equal(reply.cookie_len, 0);
	/* a client cookie and an old server cookie: the new one is built from the client half only */
	edns_t req2 = { .present = true, .cookie_len = 24 };
	edns_t req3 = { .present = true, .cookie_len = 8 };
	for (int i = 0; i < 24; i++)
		req2.cookie[i] = (uint8_t)(i * 7);
	memcpy(req3.cookie, req2.cookie, 8);
	edns_reply_t r2, r3;
	edns_cookie(&req2, secret, NULL, 5, &r2);
	edns_cookie(&req3, secret, NULL, 5, &r3);
	assert_int_equal(r2.cookie_len, 24);
	assert_memory_equal(r2.cookie, r3.cookie, 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_compression_layout),
		cmocka_unit_test(test_write_sections_and_read_back),
		cmocka_unit_test(test_write_many_names_and_far_offsets),
		cmocka_unit_test(test_rollback_on_espace_every_cap),
		cmocka_unit_test(test_rollback_owner_ptr_and_question),
		cmocka_unit_test(test_mark_rollback),
		cmocka_unit_test(test_table_compresses_like_the_reference),
		cmocka_unit_test(test_table_writes_what_the_inline_entries_write),
		cmocka_unit_test(test_table_name_with_repeated_labels),
		cmocka_unit_test(test_table_rollback),
		cmocka_unit_test(test_read_rr_bounds),
		cmocka_unit_test(test_read_question),
		cmocka_unit_test(test_rdata_soa_compressed),
		cmocka_unit_test(test_rdata_mx_srv_naptr_compressed),
		cmocka_unit_test(test_rdata_exact_lengths),
		cmocka_unit_test(test_rdata_type_names),
		cmocka_unit_test(test_rdata_type_from_text_digits_only),
		cmocka_unit_test(test_edns_parse_header),
		cmocka_unit_test(test_edns_parse_options),
		cmocka_unit_test(test_write_name_with_repeated_labels),
		cmocka_unit_test(test_edns_write),
		cmocka_unit_test(test_edns_write_cookie_and_long_nsid),
		cmocka_unit_test(test_edns_cookie_rfc9018_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
