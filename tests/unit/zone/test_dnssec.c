/* tests/unit/zone/test_dnssec.c -- the DNSSEC index of a version: RRSIGs per covered type, NSEC order,
 * the NSEC3 chain and each node's NSEC3, hashed owners hidden, and the checks of a signed version */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dnssec/nsec3.h"
#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/contents.h"
#include "zone/dnssec.h"
#include "zone/rrlist.h"

static const uint8_t *N(const char *text)
{
	static uint8_t bufs[16][NAME_MAXLEN];
	static int next;
	uint8_t *b = bufs[next++ % 16];
	assert_true(name_from_text(text, NULL, b) > 0);
	name_copy_lower(b, b);
	return b;
}

static void add(rrlist_t *l, const char *owner, uint16_t type, uint32_t ttl, const uint8_t *rd,
                size_t rdlen)
{
	assert_int_equal(rrlist_add(l, N(owner), type, ttl, rd, (uint16_t)rdlen, 0), TDM_OK);
}

static void add_base(rrlist_t *l)
{
	static const uint8_t soa[] = "\x02ns\x00\x02hm\x00\x00\x00\x00\x01\x00\x00\x0e\x10\x00\x00\x03\x84"
	                             "\x00\x09\x3a\x80\x00\x00\x01\x2c";
	static const uint8_t key[] = { 1, 1, 3, 13, 0xAA, 0xBB };
	add(l, "t.", PKT_TYPE_SOA, 3600, soa, sizeof(soa) - 1);
	add(l, "t.", PKT_TYPE_NS, 3600, (const uint8_t *)"\x02ns\x01t\x00", 7);
	add(l, "t.", PKT_TYPE_DNSKEY, 3600, key, sizeof(key));
}

/* An RRSIG rdata covering type, valid between inception and expiration. */
static size_t rrsig(uint8_t *rd, uint16_t covered, uint32_t inception, uint32_t expiration, uint8_t tag)
{
	pkt_put16(rd, covered);
	rd[2] = 13;
	rd[3] = 1;
	pkt_put32(rd + 4, 3600);
	pkt_put32(rd + 8, expiration);
	pkt_put32(rd + 12, inception);
	pkt_put16(rd + 16, 1000);
	memcpy(rd + 18, "\x01t\x00", 3);
	rd[21] = tag;
	return 22;
}

static void add_sig(rrlist_t *l, const char *owner, uint16_t covered, uint32_t ttl, uint8_t tag)
{
	uint8_t rd[32];
	uint32_t now = (uint32_t)time(NULL);
	add(l, owner, PKT_TYPE_RRSIG, ttl, rd, rrsig(rd, covered, now - 3600, now + 86400, tag));
}

static void add_nsec(rrlist_t *l, const char *owner, const char *next)
{
	uint8_t rd[NAME_MAXLEN + 8];
	const uint8_t *n = N(next);
	int len = name_length(n, NAME_MAXLEN);
	memcpy(rd, n, (size_t)len);
	memcpy(rd + len, "\x00\x01\x40", 3);   /* a type bitmap; its contents do not matter here */
	add(l, owner, PKT_TYPE_NSEC, 300, rd, (size_t)len + 3);
	add_sig(l, owner, PKT_TYPE_NSEC, 300, 1);
}

static zone_contents_t *build(rrlist_t *l)
{
	zone_contents_t *z = NULL;
	assert_int_equal(zone_contents_build(N("t."), l, &z), TDM_OK);
	return z;
}

static const zone_node_t *node(const zone_contents_t *z, const char *name)
{
	const uint8_t *n = N(name);
	uint32_t idx = zone_lookup(z, n, (size_t)name_length(n, NAME_MAXLEN));
	assert_true(idx != ZONE_NODE_NONE);
	return zone_node(z, idx);
}

static const char *covering(const zone_contents_t *z, const char *name, char *buf)
{
	const zone_dnssec_t *d = zone_contents_dnssec(z);
	uint32_t idx = zone_nsec_covering(z, d, N(name));
	assert_true(idx != ZONE_NODE_NONE);
	name_to_text(zone_node_name(z, zone_node(z, idx)), buf, NAME_TEXT_MAX);
	return buf;
}

/* RRSIGs are one RRset per covered type, each keeping its own TTL (RFC 4034 3). */
static void test_rrsig_per_covered_type(void **state)
{
	rrlist_t *l = rrlist_new();
	add_base(l);
	static const uint8_t a[] = { 192, 0, 2, 1 };
	add(l, "www.t.", PKT_TYPE_A, 300, a, 4);
	add(l, "www.t.", PKT_TYPE_TXT, 60, (const uint8_t *)"\x01x", 2);
	add_sig(l, "www.t.", PKT_TYPE_TXT, 60, 1);
	add_sig(l, "www.t.", PKT_TYPE_A, 300, 2);
	add_sig(l, "www.t.", PKT_TYPE_A, 300, 3);
	zone_contents_t *z = build(l);
	const zone_node_t *n = node(z, "www.t.");
	const zone_rrset_t *sa = zone_node_rrsig(z, n, PKT_TYPE_A), *st = zone_node_rrsig(z, n, PKT_TYPE_TXT);
	assert_non_null(sa);
	assert_non_null(st);
	assert_int_equal(sa->count, 2);
	assert_int_equal(sa->ttl, 300);
	assert_int_equal(st->count, 1);
	assert_int_equal(st->ttl, 60);
	assert_int_equal(zone_rrset_covered(z, sa), PKT_TYPE_A);
	assert_null(zone_node_rrsig(z, n, PKT_TYPE_AAAA));
	assert_ptr_equal(zone_node_rrset_cov(z, n, PKT_TYPE_RRSIG, PKT_TYPE_TXT), st);
	assert_int_equal(zone_record_count(z), 3 + 2 + 3);
	zone_contents_free(z);
	rrlist_free(l);
}

static void test_unsigned_zone_has_no_index(void **state)
{
	rrlist_t *l = rrlist_new();
	static const uint8_t soa[] = "\x02ns\x00\x02hm\x00\x00\x00\x00\x01\x00\x00\x0e\x10\x00\x00\x03\x84"
	                             "\x00\x09\x3a\x80\x00\x00\x01\x2c";
	add(l, "t.", PKT_TYPE_SOA, 3600, soa, sizeof(soa) - 1);
	zone_contents_t *z = build(l);
	assert_null(zone_contents_dnssec(z));
	zone_contents_free(z);
	rrlist_free(l);
}

/* The NSEC chain in canonical order (RFC 4034 6.1): t. a.t. c.t. x.y.t. (y.t. is an empty
 * non-terminal, without an NSEC of its own). */
static rrlist_t *nsec_zone(void)
{
	rrlist_t *l = rrlist_new();
	add_base(l);
	add_sig(l, "t.", PKT_TYPE_SOA, 3600, 1);
	add_sig(l, "t.", PKT_TYPE_NS, 3600, 1);
	add_sig(l, "t.", PKT_TYPE_DNSKEY, 3600, 1);
	static const uint8_t a[] = { 192, 0, 2, 1 };
	const char *names[] = { "t.", "a.t.", "c.t.", "x.y.t." };
	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			add(l, names[i], PKT_TYPE_A, 300, a, 4);
			add_sig(l, names[i], PKT_TYPE_A, 300, 1);
		}
		add_nsec(l, names[i], names[(i + 1) % 4]);
	}
	return l;
}

static void test_nsec_covering(void **state)
{
	rrlist_t *l = nsec_zone();
	zone_contents_t *z = build(l);
	char buf[NAME_TEXT_MAX];
	const zone_dnssec_t *d = zone_contents_dnssec(z);
	assert_non_null(d);
	assert_false(zone_dnssec_nsec3(d));
	assert_string_equal(covering(z, "a.t.", buf), "a.t.");    /* a match */
	assert_string_equal(covering(z, "b.t.", buf), "a.t.");
	assert_string_equal(covering(z, "0.t.", buf), "t.");      /* before the first child */
	assert_string_equal(covering(z, "y.t.", buf), "c.t.");    /* the empty non-terminal */
	assert_string_equal(covering(z, "a.x.y.t.", buf), "x.y.t.");
	assert_string_equal(covering(z, "zzz.t.", buf), "x.y.t.");  /* after the last: wraps to apex */
	assert_string_equal(covering(z, "*.t.", buf), "t.");      /* '*' sorts before letters */
	uint32_t count;
	free(zone_dnssec_chain(d, &count));
	assert_int_equal(count, 4);
	zone_contents_free(z);
	rrlist_free(l);
}

static void collect(void *ctx, const char *problem)
{
	char *out = ctx;
	strncat(out, problem, 4000 - strlen(out) - 2);
	strcat(out, "\n");
}

static void test_check_good_nsec_zone(void **state)
{
	rrlist_t *l = nsec_zone();
	zone_contents_t *z = build(l);
	char out[4000] = "";
	assert_int_equal(zone_dnssec_check(z, zone_contents_dnssec(z), time(NULL), 10, collect, out), 0);
	assert_string_equal(out, "");
	zone_contents_free(z);
	rrlist_free(l);
}

static void test_check_finds_problems(void **state)
{
	rrlist_t *l = nsec_zone();
	uint8_t rd[32];
	/* an expired signature, an unsigned RRset, and an NSEC pointing past c.t. */
	add(l, "a.t.", PKT_TYPE_RRSIG, 300, rd, rrsig(rd, PKT_TYPE_TXT, 1000, 2000, 9));
	add(l, "a.t.", PKT_TYPE_TXT, 300, (const uint8_t *)"\x01x", 2);
	add(l, "c.t.", PKT_TYPE_AAAA, 300, (const uint8_t *)"0123456789abcdef", 16);
	zone_contents_t *z = build(l);
	char out[4000] = "";
	unsigned n = zone_dnssec_check(z, zone_contents_dnssec(z), time(NULL), 10, collect, out);
	assert_int_equal(n, 2);
	assert_non_null(strstr(out, "a.t. TXT: signature expired"));
	assert_non_null(strstr(out, "c.t. AAAA: RRset without RRSIG"));
	zone_contents_free(z);
	rrlist_free(l);

	l = nsec_zone();
	add_nsec(l, "b.t.", "c.t.");   /* b.t. is in the chain, but a.t.'s NSEC skips it */
	z = build(l);
	out[0] = 0;
	n = zone_dnssec_check(z, zone_contents_dnssec(z), time(NULL), 1, collect, out);
	assert_int_equal(n, 1);
	assert_non_null(strstr(out, "a.t.: NSEC chain broken"));
	zone_contents_free(z);
	rrlist_free(l);
}

/* NSEC3: hashed owners are flagged and indexed; every node finds its own NSEC3 at build time. */
static void add_nsec3(rrlist_t *l, const nsec3_params_t *p, const char *name, const uint8_t *next_hash)
{
	uint8_t label[NSEC3_LABEL_MAX], owner[NAME_MAXLEN];
	const uint8_t *n = N(name);
	assert_int_equal(nsec3_label(p, n, (size_t)name_length(n, NAME_MAXLEN), label), 32);
	owner[0] = 32;
	memcpy(owner + 1, label, 32);
	memcpy(owner + 33, "\x01t\x00", 3);
	uint8_t rd[64] = { 1, 0, 0, 0, 0, NSEC3_HASH_MAX };
	memcpy(rd + 6, next_hash, NSEC3_HASH_MAX);
	assert_int_equal(rrlist_add(l, owner, PKT_TYPE_NSEC3, 300, rd, 6 + NSEC3_HASH_MAX, 0), TDM_OK);
}

static void test_nsec3_index(void **state)
{
	nsec3_params_t p = { .alg = NSEC3_ALG_SHA1 };
	rrlist_t *l = rrlist_new();
	add_base(l);
	static const uint8_t param[] = { 1, 0, 0, 0, 0 };
	add(l, "t.", 51, 0, param, sizeof(param));
	static const uint8_t a[] = { 192, 0, 2, 1 };
	add(l, "www.t.", PKT_TYPE_A, 300, a, 4);
	add(l, "x.ent.t.", PKT_TYPE_A, 300, a, 4);
	const char *names[] = { "t.", "www.t.", "ent.t.", "x.ent.t." };
	uint8_t hashes[4][NSEC3_HASH_MAX];
	for (int i = 0; i < 4; i++) {
		const uint8_t *n = N(names[i]);
		nsec3_hash(&p, n, (size_t)name_length(n, NAME_MAXLEN), hashes[i]);
	}
	for (int i = 0; i < 4; i++)   /* the next hashes are not checked by the index itself */
		add_nsec3(l, &p, names[i], hashes[(i + 1) % 4]);
	zone_contents_t *z = build(l);
	const zone_dnssec_t *d = zone_contents_dnssec(z);
	assert_true(zone_dnssec_nsec3(d));
	uint32_t count;
	uint32_t *order = zone_dnssec_chain(d, &count);
	assert_int_equal(count, 4);
	for (uint32_t i = 1; i < count; i++) {
		const uint8_t *prev = zone_node_name(z, zone_node(z, order[i - 1]));
		const uint8_t *cur = zone_node_name(z, zone_node(z, order[i]));
		assert_true(memcmp(prev + 1, cur + 1, 32) < 0);
		assert_true(zone_node(z, order[i])->flags & ZONE_NODE_NSEC3);
	}
	/* Every name of the zone, the empty non-terminal included, knows its NSEC3. */
	for (int i = 0; i < 4; i++) {
		const uint8_t *n = N(names[i]);
		uint32_t idx = zone_lookup(z, n, (size_t)name_length(n, NAME_MAXLEN));
		uint32_t own = zone_nsec3_of(d, idx);
		assert_true(own != ZONE_NODE_NONE);
		uint8_t label[NSEC3_LABEL_MAX];
		nsec3_label(&p, n, (size_t)name_length(n, NAME_MAXLEN), label);
		assert_memory_equal(zone_node_name(z, zone_node(z, own)) + 1, label, 32);
	}
	/* A hash before the first wraps to the last (RFC 5155 3.1.7); one after the last is covered by it. */
	bool exact = true;
	uint32_t last = order[count - 1];
	assert_int_equal(zone_nsec3_find(z, d, (const uint8_t *)"00000000000000000000000000000000", 32,
	                                 &exact), last);
	assert_false(exact);
	assert_int_equal(zone_nsec3_find(z, d, (const uint8_t *)"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv", 32,
	                                 &exact), last);
	assert_false(exact);
	free(order);
	zone_contents_free(z);
	rrlist_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rrsig_per_covered_type),
		cmocka_unit_test(test_unsigned_zone_has_no_index),
		cmocka_unit_test(test_nsec_covering),
		cmocka_unit_test(test_check_good_nsec_zone),
		cmocka_unit_test(test_check_finds_problems),
		cmocka_unit_test(test_nsec3_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
