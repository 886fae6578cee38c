/* tests/unit/xfr/test_xfr_out.c -- xfr/out.c: AXFR and IXFR streams split into messages, and journal entries condensed */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "wire/rdata.h"
#include "xfr/out.h"
#include "zone/contents.h"
#include "zone/diff.h"
#include "zone/rrlist.h"
#include "testlib/testlib.h"

/* ---- helpers: records written by hand ---- */

static void add_a(rrlist_t *l, const char *owner, uint32_t ttl, uint32_t addr)
{
	uint8_t rd[4];
	pkt_put32(rd, addr);
	add_raw(l, owner, PKT_TYPE_A, ttl, rd, 4);
}

/* A TXT of `len` octets of `fill` in strings of at most 255. */
static void add_txt(rrlist_t *l, const char *owner, uint32_t ttl, size_t len, char fill)
{
	static uint8_t rd[65535];
	size_t n = 0;
	while (len > 0) {
		size_t k = len > 255 ? 255 : len;
		rd[n++] = (uint8_t)k;
		memset(rd + n, fill, k);
		n += k;
		len -= k;
	}
	add_raw(l, owner, PKT_TYPE_TXT, ttl, rd, n);
}

static rrlist_t *copy_list(const rrlist_t *l)
{
	rrlist_t *c = rrlist_new();
	for (size_t i = 0; i < rrlist_count(l); i++) {
		const rr_t *rr = rrlist_at(l, i);
		assert_int_equal(rrlist_add(c, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, 0), TDM_OK);
	}
	return c;
}

static zone_contents_t *build(const rrlist_t *l)
{
	zone_contents_t *z = NULL;
	rrlist_t *c = copy_list(l);   /* the builder may reorder the list it is given */
	int ret = zone_contents_build(N("example.com."), c, &z);
	rrlist_free(c);
	if (ret != TDM_OK)
		fail_msg("zone_contents_build: %d", ret);
	return z;
}

/* A record as text, "owner type ttl rdata-in-hex", owner lowercase. */
static char *rr_text(const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
	uint8_t lower[NAME_MAXLEN];
	char text[NAME_TEXT_MAX];
	name_copy_lower(lower, owner);
	name_to_text(lower, text, sizeof(text));
	size_t size = strlen(text) + 40 + rdlen * 2;
	char *s = malloc(size);
	assert_non_null(s);
	int n = snprintf(s, size, "%s %u %u ", text, type, ttl);
	for (size_t i = 0; i < rdlen; i++)
		n += snprintf(s + n, size - (size_t)n, "%02x", rd[i]);
	return s;
}

static char *rr_text_of(const rr_t *rr)
{
	return rr_text(rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen);
}

/* A list of record texts. */
typedef struct {
	char **v;
	size_t n, cap;
	size_t *wire;   /* uncompressed wire size of each record */
} texts_t;

static void texts_push(texts_t *t, char *s, size_t wire)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = realloc(t->v, t->cap * sizeof(char *));
		t->wire = realloc(t->wire, t->cap * sizeof(size_t));
		assert_non_null(t->v);
		assert_non_null(t->wire);
	}
	t->wire[t->n] = wire;
	t->v[t->n++] = s;
}

static void texts_free(texts_t *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->wire);
	memset(t, 0, sizeof(*t));
}

static texts_t texts_of(const rrlist_t *l, bool skip_soa)
{
	texts_t t = { 0 };
	for (size_t i = 0; i < rrlist_count(l); i++) {
		const rr_t *rr = rrlist_at(l, i);
		if (!(skip_soa && rr->type == PKT_TYPE_SOA))
			texts_push(&t, rr_text_of(rr), 0);
	}
	return t;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The same records as multisets (order ignored, duplicates counted). */
static void assert_same_set(char **got, size_t ng, char **want, size_t nw, const char *what)
{
	char **g = malloc((ng + 1) * sizeof(char *)), **w = malloc((nw + 1) * sizeof(char *));
	if (ng > 0)
		memcpy(g, got, ng * sizeof(char *));
	if (nw > 0)
		memcpy(w, want, nw * sizeof(char *));
	qsort(g, ng, sizeof(char *), str_cmp);
	qsort(w, nw, sizeof(char *), str_cmp);
	size_t i = 0;
	while (i < ng && i < nw && strcmp(g[i], w[i]) == 0)
		i++;
	bool same = ng == nw && i == ng;
	if (!same)
		fprintf(stderr, "%s: %zu records, want %zu; first difference at %zu: got %s, want %s\n", what,
		        ng, nw, i, i < ng ? g[i] : "(end)", i < nw ? w[i] : "(end)");
	free(g);
	free(w);
	if (!same)
		fail_msg("%s: the records differ", what);
}

static void assert_same_list(const rrlist_t *got, const rrlist_t *want, const char *what)
{
	texts_t g = texts_of(got, false), w = texts_of(want, false);
	assert_same_set(g.v, g.n, w.v, w.n, what);
	texts_free(&g);
	texts_free(&w);
}

/* ---- a transfer captured message by message, then read back with the wire reader ---- */

typedef struct {
	uint8_t *msg[256];
	size_t len[256];
	size_t cap[256];
	bool last[256];
	unsigned count;
	unsigned fail_at;   /* send fails on this message (1-based); 0 = never */
} capture_t;

static int capture_send(void *ctx, uint8_t *msg, size_t len, size_t cap, bool last)
{
	capture_t *c = ctx;
	assert_true(c->count < 256);
	if (c->fail_at != 0 && c->count + 1 == c->fail_at)
		return TDM_EIO;
	c->msg[c->count] = malloc(len);
	memcpy(c->msg[c->count], msg, len);
	c->len[c->count] = len;
	c->cap[c->count] = cap;
	c->last[c->count] = last;
	c->count++;
	return TDM_OK;
}

static void capture_free(capture_t *c)
{
	for (unsigned i = 0; i < c->count; i++)
		free(c->msg[i]);
	memset(c, 0, sizeof(*c));
}

static uint8_t out_buf[PKT_MAXLEN];
static pkt_question_t question;

static xfr_out_t new_out(capture_t *c, size_t reserve, uint16_t qtype)
{
	memset(&question, 0, sizeof(question));
	/* Lowercase: names in rdata may be compressed against the question, and take its case. */
	question.qname_len = name_copy_lower(question.qname, N("example.com."));
	question.qtype = qtype;
	question.qclass = PKT_CLASS_IN;
	return (xfr_out_t){ .buf = out_buf, .reserve = reserve, .id = 0x4242,
	                    .flags = PKT_FLAG_QR | PKT_FLAG_AA, .question = &question,
	                    .send = capture_send, .ctx = c };
}

/*
 * Every message checked (id, flags, the question in the first only, nothing but answers, no trailing
 * octets, within cap less reserve, `last` on the last only) and its records read back in order,
 * with their uncompressed wire size.
 */
static texts_t read_stream(const capture_t *c, size_t reserve, bool with_question)
{
	texts_t t = { 0 };
	assert_true(c->count >= 1);
	for (unsigned m = 0; m < c->count; m++) {
		const uint8_t *msg = c->msg[m];
		size_t len = c->len[m], pos = PKT_HEADER_LEN;
		assert_true(len >= PKT_HEADER_LEN);
		assert_true(len <= PKT_MAXLEN - reserve);
		assert_int_equal(c->cap[m], PKT_MAXLEN);
		assert_int_equal(c->last[m], m + 1 == c->count);
		assert_int_equal(pkt_id(msg), 0x4242);
		assert_int_equal(pkt_flags(msg), PKT_FLAG_QR | PKT_FLAG_AA);
		assert_int_equal(pkt_nscount(msg), 0);
		assert_int_equal(pkt_arcount(msg), 0);
		/* RFC 5936 2.2.1: the question in the first message (Tandem leaves it out of the others). */
		assert_int_equal(pkt_qdcount(msg), m == 0 && with_question ? 1 : 0);
		if (pkt_qdcount(msg) == 1) {
			pkt_question_t q;
			assert_int_equal(pkt_read_question(msg, len, &pos, &q), TDM_OK);
			assert_true(name_equal(q.qname, N("example.com.")));
			assert_int_equal(q.qtype, question.qtype);
			assert_int_equal(q.qclass, PKT_CLASS_IN);
		}
		for (unsigned i = 0; i < pkt_ancount(msg); i++) {
			pkt_rr_t rr;
			uint8_t rd[65535];
			assert_int_equal(pkt_read_rr(msg, len, &pos, &rr), TDM_OK);
			assert_int_equal(rr.rclass, PKT_CLASS_IN);
			int n = rdata_unpack(msg, len, rr.rdata_pos, rr.rdlen, rr.type, rd, sizeof(rd));
			assert_true(n >= 0);
			size_t wire = (size_t)name_length(rr.owner, NAME_MAXLEN) + 10 + (size_t)n;
			texts_push(&t, rr_text(rr.owner, rr.type, rr.ttl, rd, (size_t)n), wire);
		}
		assert_int_equal(pos, len);
	}
	return t;
}

/*
 * RFC 5936 2.2: messages hold enough records to amortize their overhead. A message is filled up to
 * PKT_COMPRESS_REACH octets (names further on cannot be pointed at): every record of it starts below
 * that offset, and it is only closed when it has reached the offset or the next record (counted
 * uncompressed, the most it can take) would not have fitted in it.
 */
static void assert_messages_full(const capture_t *c, const texts_t *t, size_t reserve)
{
	size_t first = 0;
	for (unsigned m = 0; m < c->count; m++) {
		const uint8_t *msg = c->msg[m];
		size_t pos = PKT_HEADER_LEN;
		pkt_question_t q;
		if (pkt_qdcount(msg) == 1)
			assert_int_equal(pkt_read_question(msg, c->len[m], &pos, &q), TDM_OK);
		for (unsigned i = 0; i < pkt_ancount(msg); i++) {
			pkt_rr_t rr;
			assert_int_equal(pkt_read_rr(msg, c->len[m], &pos, &rr), TDM_OK);
			if (rr.start >= PKT_COMPRESS_REACH)
				fail_msg("message %u: record %u starts at %zu", m + 1, i, rr.start);
		}
		first += pkt_ancount(msg);
		if (m + 1 == c->count)
			break;
		assert_true(first < t->n);
		if (c->len[m] < PKT_COMPRESS_REACH && c->len[m] + t->wire[first] <= PKT_MAXLEN - reserve)
			fail_msg("message %u closed at %zu octets, but the next record (%zu octets) fits in %zu",
			         m + 1, c->len[m], t->wire[first], (size_t)(PKT_MAXLEN - reserve));
	}
}

/* The zone of the transfer tests: SOA, NS, MX, n A records, TXTs of several sizes (one of 20,000
 * octets: a third of a message alone). */
static rrlist_t *big_list(uint32_t serial, unsigned n)
{
	rrlist_t *l = rrlist_new();
	add_soa(l, "example.com.", 3600, serial, 300);
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns2.example.net.");
	add_mx(l, "example.com.", 3600, 10, "mail.example.com.");
	add_a(l, "ns1.example.com.", 3600, 0xC0000201);
	add_a(l, "mail.example.com.", 3600, 0xC0000219);
	for (unsigned i = 0; i < n; i++) {
		char owner[64];
		snprintf(owner, sizeof(owner), "host-%u.hosts.example.com.", i);
		add_a(l, owner, 300, 0x0A000000 + i);
		if (i % 50 == 0)
			add_txt(l, owner, 300, 10 + i % 700, (char)('a' + i % 26));
	}
	add_txt(l, "huge.example.com.", 60, 20000, 'x');
	return l;
}

/* ---- AXFR ---- */

static void check_axfr(unsigned n, size_t reserve, unsigned min_messages)
{
	rrlist_t *l = big_list(2024, n);
	zone_contents_t *z = build(l);
	capture_t c = { 0 };
	xfr_out_t x = new_out(&c, reserve, PKT_TYPE_AXFR);
	assert_int_equal(xfr_out_axfr(&x, z), TDM_OK);
	assert_true(c.count >= min_messages);
	assert_int_equal(x.messages, c.count);
	texts_t t = read_stream(&c, reserve, true);
	assert_int_equal(x.records, t.n);

	/* RFC 5936 2.2: the SOA first and last, every other record once in between. */
	rrlist_t *soa = rrlist_new();
	add_soa(soa, "example.com.", 3600, 2024, 300);
	char *soa_text = rr_text_of(rrlist_at(soa, 0));
	assert_string_equal(t.v[0], soa_text);
	assert_string_equal(t.v[t.n - 1], soa_text);
	texts_t want = texts_of(l, true);
	assert_same_set(t.v + 1, t.n - 2, want.v, want.n, "AXFR between the SOAs");
	assert_messages_full(&c, &t, reserve);

	free(soa_text);
	rrlist_free(soa);
	texts_free(&want);
	texts_free(&t);
	capture_free(&c);
	zone_contents_free(z);
	rrlist_free(l);
}

/* Ten hosts and one TXT of 20,000 octets: the TXT starts below PKT_COMPRESS_REACH and goes past it,
 * so the closing SOA takes a second message. */
static void test_axfr_small_zone(void **state)
{
	check_axfr(10, 0, 2);
}

static void test_axfr_splits_into_full_messages(void **state)
{
	check_axfr(20000, 0, 20);
}

/* With room kept for TSIG, messages stop short of 65535 by that much, and nothing is lost. */
static void test_axfr_keeps_the_tsig_reserve(void **state)
{
	check_axfr(20000, 512, 5);
	check_axfr(20000, 30000, 12);
}

static void test_axfr_without_a_question(void **state)
{
	rrlist_t *l = big_list(7, 5000);
	zone_contents_t *z = build(l);
	capture_t c = { 0 };
	xfr_out_t x = new_out(&c, 0, PKT_TYPE_AXFR);
	x.question = NULL;
	assert_int_equal(xfr_out_axfr(&x, z), TDM_OK);
	assert_true(c.count >= 2);
	texts_t t = read_stream(&c, 0, false);
	texts_t want = texts_of(l, true);
	assert_same_set(t.v + 1, t.n - 2, want.v, want.n, "AXFR between the SOAs");
	texts_free(&want);
	texts_free(&t);
	capture_free(&c);
	zone_contents_free(z);
	rrlist_free(l);
}

/* A failing send ends the transfer with its error: nothing is sent after it. */
static void test_a_send_error_aborts_the_transfer(void **state)
{
	rrlist_t *l = big_list(7, 20000);
	zone_contents_t *z = build(l);
	capture_t c = { .fail_at = 2 };
	xfr_out_t x = new_out(&c, 0, PKT_TYPE_AXFR);
	assert_int_equal(xfr_out_axfr(&x, z), TDM_EIO);
	assert_int_equal(c.count, 1);
	assert_false(c.last[0]);
	capture_free(&c);
	zone_contents_free(z);
	rrlist_free(l);
}

/* A record that does not fit even in an empty message is an error, not a loop or an empty message. */
static void test_a_record_too_large_for_any_message(void **state)
{
	capture_t c = { 0 };
	xfr_out_t x = new_out(&c, 20000, PKT_TYPE_AXFR);
	static uint8_t rd[50000];
	memset(rd, 1, sizeof(rd));
	assert_int_equal(xfr_out_rr(&x, N("big.example.com."), PKT_TYPE_TXT, 1, rd, 1000), TDM_OK);
	assert_int_equal(xfr_out_rr(&x, N("big.example.com."), PKT_TYPE_TXT, 1, rd, sizeof(rd)),
	                 TDM_ESPACE);
	/* the record that fitted went out in its own message */
	assert_int_equal(c.count, 1);
	assert_int_equal(pkt_ancount(c.msg[0]), 1);
	/* trying again with nothing else in the message sends nothing */
	assert_int_equal(xfr_out_rr(&x, N("big.example.com."), PKT_TYPE_TXT, 1, rd, sizeof(rd)),
	                 TDM_ESPACE);
	assert_int_equal(c.count, 1);
	capture_free(&c);

	/* the same as the first record of a transfer: no message at all, not an empty one */
	x = new_out(&c, 20000, PKT_TYPE_AXFR);
	assert_int_equal(xfr_out_rr(&x, N("big.example.com."), PKT_TYPE_TXT, 1, rd, sizeof(rd)),
	                 TDM_ESPACE);
	assert_int_equal(c.count, 0);
	capture_free(&c);
}

/* Follows a name's pointers: each must go back before the name's first octet, to a complete name
 * written earlier (RFC 1035 4.1.4). Returns the octets the name takes where it stands. */
static size_t name_points_back(const uint8_t *msg, size_t len, size_t start)
{
	size_t p = start, here = 0;
	for (int hops = 0;; hops++) {
		assert_true(p < len && hops <= NAME_MAXHOPS);
		if (msg[p] == 0)
			return here ? here : p + 1 - start;
		if ((msg[p] & 0xC0) == 0xC0) {
			size_t target = (size_t)(msg[p] & 0x3F) << 8 | msg[p + 1];
			if (target >= start)
				fail_msg("name at %zu: pointer at %zu to %zu, not before the name", start, p, target);
			if (here == 0)
				here = p + 2 - start;
			p = target;
			continue;
		}
		p += 1 + (size_t)msg[p];
	}
}

/*
 * A zone of hosts, each one A and one AAAA (the shape that was slowest): in every message each
 * owner is written once (its first label, then a pointer to its parent), its second record points at
 * it, and every name points back to a complete one.
 */
static void test_axfr_owners_once_a_message(void **state)
{
	rrlist_t *l = rrlist_new();
	add_soa(l, "example.com.", 3600, 5, 300);
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
	char owner[64];
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(owner, sizeof(owner), "host%u.hosts.example.com.", i);
		add_a(l, owner, 300, 0x0A000000 + i);
		pkt_put32(v6 + 12, i);
		add_raw(l, owner, PKT_TYPE_AAAA, 300, v6, 16);
	}
	zone_contents_t *z = build(l);
	capture_t c = { 0 };
	xfr_out_t x = new_out(&c, 0, PKT_TYPE_AXFR);
	assert_int_equal(xfr_out_axfr(&x, z), TDM_OK);
	assert_null(x.table);   /* the transfer's own, freed */
	assert_true(c.count >= 30);
	size_t total = 0, hosts = 0;
	for (unsigned m = 0; m < c.count; m++) {
		const uint8_t *msg = c.msg[m];
		size_t len = c.len[m], pos = PKT_HEADER_LEN;
		total += len;
		if (pkt_qdcount(msg) == 1)
			pos += name_points_back(msg, len, pos) + 4;
		uint8_t prev[NAME_MAXLEN] = { 0 };
		bool parent_seen = false;
		for (unsigned i = 0; i < pkt_ancount(msg); i++) {
			size_t olen = name_points_back(msg, len, pos);
			pkt_rr_t rr;
			assert_int_equal(pkt_read_rr(msg, len, &pos, &rr), TDM_OK);
			if (rr.type == PKT_TYPE_NS || rr.type == PKT_TYPE_SOA)
				name_points_back(msg, len, rr.rdata_pos);
			if (rr.type == PKT_TYPE_SOA)
				name_points_back(msg, len, rr.rdata_pos + (size_t)name_length(N("ns1.example.com."),
				                                                              NAME_MAXLEN));
			if (rr.type != PKT_TYPE_A && rr.type != PKT_TYPE_AAAA)
				continue;
			hosts++;
			if (name_equal(rr.owner, prev))
				assert_int_equal(olen, 2);
			else if (parent_seen)   /* "hostN", then a pointer to hosts.example.com. */
				assert_int_equal(olen, 1 + (size_t)rr.owner[0] + 2);
			parent_seen = true;
			name_copy_lower(prev, rr.owner);
		}
		assert_int_equal(pos, len);
	}
	assert_int_equal(hosts, 40000);
	/* about 27.5 octets a record, as NSD sends this shape; 64 KiB messages took 32 */
	assert_true(total < 40000 * 28);
	capture_free(&c);
	zone_contents_free(z);
	rrlist_free(l);
}

/*
 * Names under a few parents listed in turn (the version keeps that order): the transfer sends each
 * parent's children together, as a tree walk does, so each parent's name is written once a message;
 * the records are all there. A zone listed parent by parent is sent in its own order.
 */
static void test_axfr_sends_siblings_together(void **state)
{
	for (int grouped = 0; grouped < 2; grouped++) {
		rrlist_t *l = rrlist_new();
		add_soa(l, "example.com.", 3600, 5, 300);
		add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
		char owner[64];
		for (unsigned i = 0; i < 3000; i++) {
			unsigned g = grouped ? i / 500 : i % 6, h = grouped ? i % 500 : i / 6;
			snprintf(owner, sizeof(owner), "h%u.group-%u.example.com.", h, g);
			add_a(l, owner, 300, i);
			if (i % 3 == 0) {   /* and names right under the apex in between */
				snprintf(owner, sizeof(owner), "top%u.example.com.", i);
				add_a(l, owner, 300, i);
			}
		}
		zone_contents_t *z = build(l);
		capture_t c = { 0 };
		xfr_out_t x = new_out(&c, 0, PKT_TYPE_AXFR);
		assert_int_equal(xfr_out_axfr(&x, z), TDM_OK);
		texts_t t = read_stream(&c, 0, true);
		texts_t want = texts_of(l, true);
		assert_same_set(t.v + 1, t.n - 2, want.v, want.n, "AXFR between the SOAs");
		/* the group of each h-record in stream order: once a group is left it never comes back */
		int last = -1, runs = 0;
		unsigned first_h[6] = { 0 };
		for (size_t i = 0; i < t.n; i++) {
			unsigned h, g;
			if (sscanf(t.v[i], "h%u.group-%u.", &h, &g) != 2)
				continue;
			if ((int)g != last) {
				runs++;
				last = (int)g;
				first_h[g] = h;
			}
		}
		assert_int_equal(runs, 6);
		/* in the version's order within a parent */
		for (unsigned g = 0; g < 6; g++)
			assert_int_equal(first_h[g], 0);
		texts_free(&want);
		texts_free(&t);
		capture_free(&c);
		zone_contents_free(z);
		rrlist_free(l);
	}
}

/* ---- IXFR ---- */

/* The records of an IXFR stream in order, checked against RFC 1995 4's one difference sequence:
 * new SOA, old SOA, removed..., new SOA, added..., new SOA. */
static void check_ixfr_stream(const texts_t *t, const char *new_soa, const char *old_soa,
                              const rrlist_t *removed, const rrlist_t *added)
{
	size_t nr = rrlist_count(removed), na = rrlist_count(added);
	assert_int_equal(t->n, 4 + nr + na);
	assert_string_equal(t->v[0], new_soa);
	assert_string_equal(t->v[1], old_soa);
	assert_string_equal(t->v[2 + nr], new_soa);
	assert_string_equal(t->v[t->n - 1], new_soa);
	texts_t r = texts_of(removed, false), a = texts_of(added, false);
	assert_same_set(t->v + 2, nr, r.v, r.n, "removed");
	assert_same_set(t->v + 3 + nr, na, a.v, a.n, "added");
	texts_free(&r);
	texts_free(&a);
}

static void check_ixfr(unsigned n_removed, unsigned n_added, unsigned min_messages)
{
	rrlist_t *l = big_list(9, 10);
	zone_contents_t *z = build(l);
	rrlist_t *old = rrlist_new(), *removed = rrlist_new(), *added = rrlist_new(), *news = rrlist_new();
	add_soa(old, "example.com.", 1800, 8, 300);   /* the old version's SOA, with its own TTL */
	add_soa(news, "example.com.", 3600, 9, 300);
	for (unsigned i = 0; i < n_removed; i++) {
		char owner[64];
		snprintf(owner, sizeof(owner), "old-%u.example.com.", i);
		add_a(removed, owner, 300, i);
	}
	for (unsigned i = 0; i < n_added; i++) {
		char owner[64];
		snprintf(owner, sizeof(owner), "new-%u.example.com.", i);
		add_a(added, owner, 300, i);
	}
	capture_t c = { 0 };
	xfr_out_t x = new_out(&c, 512, PKT_TYPE_IXFR);
	assert_int_equal(xfr_out_ixfr(&x, z, rrlist_at(old, 0), removed, added), TDM_OK);
	assert_true(c.count >= min_messages);
	texts_t t = read_stream(&c, 512, true);
	char *new_soa = rr_text_of(rrlist_at(news, 0)), *old_soa = rr_text_of(rrlist_at(old, 0));
	check_ixfr_stream(&t, new_soa, old_soa, removed, added);
	assert_messages_full(&c, &t, 512);
	free(new_soa);
	free(old_soa);
	texts_free(&t);
	capture_free(&c);
	rrlist_free(old);
	rrlist_free(news);
	rrlist_free(removed);
	rrlist_free(added);
	zone_contents_free(z);
	rrlist_free(l);
}

static void test_ixfr_one_difference_sequence(void **state)
{
	check_ixfr(3, 5, 1);
}

/* A change with nothing but the SOA: new, old, new, new. */
static void test_ixfr_soa_only_change(void **state)
{
	check_ixfr(0, 0, 1);
}

/* Removed and added lists longer than a message: the sequence runs on across messages. */
static void test_ixfr_over_several_messages(void **state)
{
	check_ixfr(9000, 11000, 4);
}

/* RFC 1995 4: "up to date" is the SOA alone, one message. */
static void test_soa_only_answer(void **state)
{
	rrlist_t *l = big_list(77, 10);
	zone_contents_t *z = build(l);
	capture_t c = { 0 };
	xfr_out_t x = new_out(&c, 0, PKT_TYPE_IXFR);
	assert_int_equal(xfr_out_soa_only(&x, z), TDM_OK);
	assert_int_equal(c.count, 1);
	texts_t t = read_stream(&c, 0, true);
	rrlist_t *soa = rrlist_new();
	add_soa(soa, "example.com.", 3600, 77, 300);
	char *s = rr_text_of(rrlist_at(soa, 0));
	assert_int_equal(t.n, 1);
	assert_string_equal(t.v[0], s);
	free(s);
	rrlist_free(soa);
	texts_free(&t);
	capture_free(&c);
	zone_contents_free(z);
	rrlist_free(l);
}

/* ---- condensing journal entries ---- */

typedef struct {
	rrlist_t *removed, *added;
} entry_t;

static entry_t entry(void)
{
	return (entry_t){ rrlist_new(), rrlist_new() };
}

static void entry_free(entry_t *e)
{
	rrlist_free(e->removed);
	rrlist_free(e->added);
}

/* Condenses the entries; the result in *out. */
static void condense(entry_t *entries, size_t n, entry_t *out)
{
	xfr_condense_t *c = xfr_condense_new();
	assert_non_null(c);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(xfr_condense_add(c, entries[i].removed, entries[i].added), TDM_OK);
	*out = entry();
	assert_int_equal(xfr_condense_finish(c, out->removed, out->added), TDM_OK);
	xfr_condense_free(c);
}

static void test_condense_one_entry_is_itself_without_soa(void **state)
{
	entry_t e = entry(), got, want = entry();
	add_soa(e.removed, "example.com.", 3600, 1, 300);
	add_a(e.removed, "a.example.com.", 300, 1);
	add_a(e.removed, "a.example.com.", 300, 2);
	add_soa(e.added, "example.com.", 3600, 2, 300);
	add_a(e.added, "b.example.com.", 300, 1);
	add_txt(e.added, "b.example.com.", 300, 10, 't');
	add_a(want.removed, "a.example.com.", 300, 1);
	add_a(want.removed, "a.example.com.", 300, 2);
	add_a(want.added, "b.example.com.", 300, 1);
	add_txt(want.added, "b.example.com.", 300, 10, 't');
	condense(&e, 1, &got);
	assert_same_list(got.removed, want.removed, "removed");
	assert_same_list(got.added, want.added, "added");
	entry_free(&e);
	entry_free(&got);
	entry_free(&want);
}

/* The cases of condensing two or three entries: what the old version had and the new one has. */
static void test_condense_cancels_and_keeps(void **state)
{
	entry_t e[3] = { entry(), entry(), entry() }, got, want = entry();
	for (int i = 0; i < 3; i++) {
		add_soa(e[i].removed, "example.com.", 3600, (uint32_t)i + 1, 300);
		add_soa(e[i].added, "example.com.", 3600, (uint32_t)i + 2, 300);
	}
	/* added, then removed: never seen by either end */
	add_a(e[0].added, "flash.example.com.", 300, 1);
	add_a(e[1].removed, "flash.example.com.", 300, 1);
	/* removed, then added back: unchanged */
	add_a(e[0].removed, "back.example.com.", 300, 2);
	add_a(e[1].added, "back.example.com.", 300, 2);
	/* added, removed, added again: added */
	add_a(e[0].added, "again.example.com.", 300, 3);
	add_a(e[1].removed, "again.example.com.", 300, 3);
	add_a(e[2].added, "again.example.com.", 300, 3);
	/* removed, added, removed again: removed */
	add_a(e[0].removed, "drop.example.com.", 300, 4);
	add_a(e[1].added, "drop.example.com.", 300, 4);
	add_a(e[2].removed, "drop.example.com.", 300, 4);
	/* TTL 300 -> 600 -> 900: the old TTL removed, the last one added, nothing in between */
	add_a(e[0].removed, "ttl.example.com.", 300, 5);
	add_a(e[0].added, "ttl.example.com.", 600, 5);
	add_a(e[1].removed, "ttl.example.com.", 600, 5);
	add_a(e[1].added, "ttl.example.com.", 900, 5);
	/* TTL 300 -> 600 -> 300: unchanged */
	add_a(e[0].removed, "round.example.com.", 300, 6);
	add_a(e[0].added, "round.example.com.", 600, 6);
	add_a(e[1].removed, "round.example.com.", 600, 6);
	add_a(e[1].added, "round.example.com.", 300, 6);
	/* plain changes in the last entry */
	add_a(e[2].removed, "late.example.com.", 300, 7);
	add_a(e[2].added, "late.example.com.", 300, 8);
	/* owners compare without case */
	add_a(e[0].added, "Case.Example.COM.", 300, 9);
	add_a(e[1].removed, "case.example.com.", 300, 9);

	add_a(want.added, "again.example.com.", 300, 3);
	add_a(want.removed, "drop.example.com.", 300, 4);
	add_a(want.removed, "ttl.example.com.", 300, 5);
	add_a(want.added, "ttl.example.com.", 900, 5);
	add_a(want.removed, "late.example.com.", 300, 7);
	add_a(want.added, "late.example.com.", 300, 8);

	condense(e, 3, &got);
	assert_same_list(got.removed, want.removed, "removed");
	assert_same_list(got.added, want.added, "added");
	for (int i = 0; i < 3; i++)
		entry_free(&e[i]);
	entry_free(&got);
	entry_free(&want);
}

static void test_condense_nothing(void **state)
{
	entry_t got;
	condense(NULL, 0, &got);
	assert_int_equal(rrlist_count(got.removed), 0);
	assert_int_equal(rrlist_count(got.added), 0);
	entry_free(&got);
	xfr_condense_free(NULL);
}

/* A version of a generated zone: which names exist, their TTLs and addresses vary with step. */
static rrlist_t *version(uint32_t serial, unsigned step)
{
	rrlist_t *l = rrlist_new();
	add_soa(l, "example.com.", 3600, serial, 300);
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
	add_a(l, "ns1.example.com.", 3600, 1);
	for (unsigned i = 0; i < 400; i++) {
		unsigned h = (i * 2654435761u) ^ (step * 0x9E3779B9u);
		if ((h >> 3) % 4 == 0)
			continue;
		char owner[64];
		snprintf(owner, sizeof(owner), "n%u.example.com.", i);
		add_a(l, owner, 300 + (h >> 11) % 2 * 300, (h >> 13) % 3);
		if ((h >> 17) % 3 == 0)
			add_txt(l, owner, 300, 5 + (h >> 19) % 3, 'q');
	}
	return l;
}

/* Journal entries made by zone_diff between successive versions, condensed, equal the diff between
 * the first and the last version (less the SOAs), and applied to the first give the last: RFC 1995
 * 6's condensation loses nothing but the versions in between. Serials cross the wrap. */
static void test_condensed_journal_equals_the_direct_diff(void **state)
{
	enum { STEPS = 8 };
	zone_contents_t *v[STEPS + 1];
	rrlist_t *lists[STEPS + 1];
	uint32_t serial = 0xFFFFFFFCu;
	for (unsigned i = 0; i <= STEPS; i++) {
		lists[i] = version(serial + i, i);
		v[i] = build(lists[i]);
	}
	entry_t e[STEPS];
	for (unsigned i = 0; i < STEPS; i++) {
		e[i] = entry();
		assert_int_equal(zone_diff(v[i], v[i + 1], e[i].removed, e[i].added), TDM_OK);
	}
	for (unsigned from = 0; from < STEPS; from++) {
		entry_t got, direct = entry();
		condense(e + from, STEPS - from, &got);
		assert_int_equal(zone_diff(v[from], v[STEPS], direct.removed, direct.added), TDM_OK);
		texts_t gr = texts_of(got.removed, false), ga = texts_of(got.added, false);
		texts_t dr = texts_of(direct.removed, true), da = texts_of(direct.added, true);
		assert_same_set(gr.v, gr.n, dr.v, dr.n, "condensed removed vs direct diff");
		assert_same_set(ga.v, ga.n, da.v, da.n, "condensed added vs direct diff");
		/* with the SOAs put back, it applies to the old version and gives the new one */
		add_soa(got.removed, "example.com.", 3600, serial + from, 300);
		add_soa(got.added, "example.com.", 3600, serial + STEPS, 300);
		rrlist_t *out = NULL;
		assert_int_equal(zone_apply(v[from], got.removed, got.added, &out), TDM_OK);
		assert_same_list(out, lists[STEPS], "condensed diff applied");
		rrlist_free(out);
		texts_free(&gr);
		texts_free(&ga);
		texts_free(&dr);
		texts_free(&da);
		entry_free(&got);
		entry_free(&direct);
	}
	for (unsigned i = 0; i < STEPS; i++)
		entry_free(&e[i]);
	for (unsigned i = 0; i <= STEPS; i++) {
		zone_contents_free(v[i]);
		rrlist_free(lists[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_axfr_small_zone),
		cmocka_unit_test(test_axfr_splits_into_full_messages),
		cmocka_unit_test(test_axfr_keeps_the_tsig_reserve),
		cmocka_unit_test(test_axfr_without_a_question),
		cmocka_unit_test(test_a_send_error_aborts_the_transfer),
		cmocka_unit_test(test_a_record_too_large_for_any_message),
		cmocka_unit_test(test_axfr_owners_once_a_message),
		cmocka_unit_test(test_axfr_sends_siblings_together),
		cmocka_unit_test(test_ixfr_one_difference_sequence),
		cmocka_unit_test(test_ixfr_soa_only_change),
		cmocka_unit_test(test_ixfr_over_several_messages),
		cmocka_unit_test(test_soa_only_answer),
		cmocka_unit_test(test_condense_one_entry_is_itself_without_soa),
		cmocka_unit_test(test_condense_cancels_and_keeps),
		cmocka_unit_test(test_condense_nothing),
		cmocka_unit_test(test_condensed_journal_equals_the_direct_diff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
