/* tests/unit/zone/test_diff.c -- zone/diff.c: RFC 1982 serial arithmetic (at the wrap too), diffs between versions, applying them */
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
#include "zone/contents.h"
#include "zone/diff.h"
#include "zone/rrlist.h"
#include "testlib/testlib.h"

/* ---- helpers: records written by hand, compared as sorted text ---- */

static void add_a(rrlist_t *l, const char *owner, uint32_t ttl, uint8_t last)
{
	uint8_t rd[4] = { 192, 0, 2, last };
	add_raw(l, owner, PKT_TYPE_A, ttl, rd, 4);
}

static void add_txt(rrlist_t *l, const char *owner, uint32_t ttl, const char *s)
{
	uint8_t rd[256];
	rd[0] = (uint8_t)strlen(s);
	memcpy(rd + 1, s, rd[0]);
	add_raw(l, owner, PKT_TYPE_TXT, ttl, rd, (size_t)rd[0] + 1);
}

/* An RRSIG covering `covered`, told apart from others by its last octet (the "signature"). */
static void add_rrsig(rrlist_t *l, const char *owner, uint32_t ttl, uint16_t covered, uint8_t sig)
{
	uint8_t rd[64] = { 0 };
	size_t n = 0;
	pkt_put16(rd, covered);
	rd[2] = 13;                     /* algorithm */
	rd[3] = 2;                      /* labels */
	pkt_put32(rd + 4, ttl);         /* original TTL */
	pkt_put32(rd + 8, 2000000000);  /* expiration */
	pkt_put32(rd + 12, 1900000000); /* inception */
	pkt_put16(rd + 16, 4711);       /* key tag */
	n = 18;
	memcpy(rd + n, N("example.com."), 13);
	n += 13;
	rd[n++] = sig;
	add_raw(l, owner, PKT_TYPE_RRSIG, ttl, rd, n);
}

static zone_contents_t *build(rrlist_t *l)
{
	zone_contents_t *z = NULL;
	int ret = zone_contents_build(N("example.com."), l, &z);
	if (ret != TDM_OK)
		fail_msg("zone_contents_build: %d", ret);
	rrlist_free(l);
	return z;
}

/* A record as text, "owner type ttl rdata-in-hex": what the comparisons look at. */
static char *rr_text(const rr_t *rr)
{
	char owner[NAME_TEXT_MAX];
	name_to_text(rr->owner, owner, sizeof(owner));
	size_t size = strlen(owner) + 40 + (size_t)rr->rdlen * 2;
	char *s = malloc(size);
	assert_non_null(s);
	int n = snprintf(s, size, "%s %u %u ", owner, rr->type, rr->ttl);
	for (uint16_t i = 0; i < rr->rdlen; i++)
		n += snprintf(s + n, size - (size_t)n, "%02x", rr->rdata[i]);
	return s;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Both lists hold the same records, as multisets (order ignored, duplicates counted). */
static void assert_same_records(const rrlist_t *got, const rrlist_t *want, const char *what)
{
	size_t ng = rrlist_count(got), nw = rrlist_count(want);
	char **g = calloc(ng + 1, sizeof(char *)), **w = calloc(nw + 1, sizeof(char *));
	for (size_t i = 0; i < ng; i++)
		g[i] = rr_text(rrlist_at(got, i));
	for (size_t i = 0; i < nw; i++)
		w[i] = rr_text(rrlist_at(want, i));
	qsort(g, ng, sizeof(char *), str_cmp);
	qsort(w, nw, sizeof(char *), str_cmp);
	bool same = ng == nw;
	for (size_t i = 0; same && i < ng; i++)
		same = strcmp(g[i], w[i]) == 0;
	if (!same) {
		fprintf(stderr, "%s: got %zu records:\n", what, ng);
		for (size_t i = 0; i < ng; i++)
			fprintf(stderr, "    %s\n", g[i]);
		fprintf(stderr, "  want %zu:\n", nw);
		for (size_t i = 0; i < nw; i++)
			fprintf(stderr, "    %s\n", w[i]);
	}
	for (size_t i = 0; i < ng; i++)
		free(g[i]);
	for (size_t i = 0; i < nw; i++)
		free(w[i]);
	free(g);
	free(w);
	if (!same)
		fail_msg("%s: records differ", what);
}

static void assert_contents_equal(const zone_contents_t *z, const rrlist_t *want, const char *what)
{
	rrlist_t *l = rrlist_new();
	assert_int_equal(zone_contents_to_rrlist(z, l), TDM_OK);
	assert_same_records(l, want, what);
	rrlist_free(l);
}

/* ---- RFC 1982 serial arithmetic ---- */

static void test_serial_cmp_plain(void **state)
{
	assert_int_equal(serial_cmp(0, 0), 0);
	assert_int_equal(serial_cmp(7, 7), 0);
	assert_int_equal(serial_cmp(0xFFFFFFFFu, 0xFFFFFFFFu), 0);
	assert_true(serial_cmp(1, 2) < 0);
	assert_true(serial_cmp(2, 1) > 0);
	assert_true(serial_cmp(2024010101u, 2024010102u) < 0);
	assert_true(serial_cmp(2024010102u, 2024010101u) > 0);
}

/* RFC 1982 3.2: i1 < i2 when (i1 < i2 and i2 - i1 < 2^31) or (i1 > i2 and i1 - i2 > 2^31). */
static void test_serial_cmp_at_the_wrap(void **state)
{
	/* 0 comes after 0xFFFFFFFF: one increment across the wrap. */
	assert_true(serial_cmp(0xFFFFFFFFu, 0) < 0);
	assert_true(serial_cmp(0, 0xFFFFFFFFu) > 0);
	assert_true(serial_cmp(0xFFFFFFF0u, 5) < 0);
	assert_true(serial_cmp(5, 0xFFFFFFF0u) > 0);
	/* The largest step forward (2^31 - 1) from anywhere is still "after", wrap or not. */
	static const uint32_t from[] = { 0, 1, 0x7FFFFFFFu, 0x80000000u, 0x80000001u, 0xFFFFFFFEu,
	                                 0xFFFFFFFFu, 2024010101u };
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		uint32_t s = from[i];
		assert_true(serial_cmp(s, s + 1u) < 0);
		assert_true(serial_cmp(s + 1u, s) > 0);
		assert_true(serial_cmp(s, s + 0x7FFFFFFFu) < 0);
		assert_true(serial_cmp(s + 0x7FFFFFFFu, s) > 0);
		/* one more than the largest step: the other way round */
		assert_true(serial_cmp(s, s + 0x80000001u) > 0);
		assert_true(serial_cmp(s + 0x80000001u, s) < 0);
	}
	/* Plain integer order would get these wrong. */
	assert_true(serial_cmp(0x7FFFFFFFu, 0x80000000u) < 0);
	assert_true(serial_cmp(0x80000000u, 0xFFFFFFFFu) < 0);
	assert_true(serial_cmp(0xFFFFFFFFu, 0x7FFFFFFEu) < 0);
	assert_true(serial_cmp(0x7FFFFFFEu, 0xFFFFFFFFu) > 0);
}

/* RFC 1982 3.2 leaves exactly 2^31 apart undefined; diff.h chooses "after" both ways, so that a
 * serial is never taken for older than itself by a primary that jumped half the space. */
static void test_serial_cmp_undefined_half_way(void **state)
{
	static const uint32_t from[] = { 0, 1, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu };
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		uint32_t s = from[i];
		assert_true(serial_cmp(s, s + 0x80000000u) > 0);
		assert_true(serial_cmp(s + 0x80000000u, s) > 0);
	}
}

/* Antisymmetric everywhere else: a < b exactly when b > a. */
static void test_serial_cmp_antisymmetric(void **state)
{
	uint32_t x = 2463534242u;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		uint32_t a = x, b = x * 2654435761u + (uint32_t)i;
		if (b - a == 0x80000000u)
			continue;
		int ab = serial_cmp(a, b), ba = serial_cmp(b, a);
		assert_true((ab < 0 && ba > 0) || (ab > 0 && ba < 0) || (ab == 0 && ba == 0 && a == b));
		/* and the sign is the one RFC 1982 3.2 gives */
		uint32_t d = b - a;
		if (a != b)
			assert_true(d < 0x80000000u ? ab < 0 : ab > 0);
	}
}

/* ---- zone_diff ---- */

/* Version 1 of the zone the diff tests change. */
static rrlist_t *v1_list(void)
{
	rrlist_t *l = rrlist_new();
	add_soa(l, "example.com.", 3600, 1, 300);
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
	add_a(l, "ns1.example.com.", 3600, 1);
	add_a(l, "www.example.com.", 300, 10);
	add_a(l, "www.example.com.", 300, 11);
	add_a(l, "ttl.example.com.", 300, 20);
	add_a(l, "ttl.example.com.", 300, 21);
	add_a(l, "gone.example.com.", 300, 30);
	add_txt(l, "gone.example.com.", 300, "bye");
	add_a(l, "a.b.deep.example.com.", 300, 40);
	add_rrsig(l, "www.example.com.", 300, PKT_TYPE_A, 1);
	add_rrsig(l, "www.example.com.", 300, PKT_TYPE_TXT, 2);
	add_txt(l, "www.example.com.", 300, "hello");
	return l;
}

static void test_diff_of_identical_versions_is_empty(void **state)
{
	zone_contents_t *a = build(v1_list()), *b = build(v1_list());
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	assert_int_equal(zone_diff(a, b, removed, added), TDM_OK);
	assert_int_equal(rrlist_count(removed), 0);
	assert_int_equal(rrlist_count(added), 0);
	assert_false(zone_diff_beyond_soa(removed, added));
	rrlist_free(removed);
	rrlist_free(added);
	zone_contents_free(a);
	zone_contents_free(b);
}

static void test_diff_gives_each_change_exactly(void **state)
{
	zone_contents_t *old = build(v1_list());
	rrlist_t *l = rrlist_new();
	add_soa(l, "example.com.", 3600, 2, 300);   /* serial raised */
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
	add_a(l, "ns1.example.com.", 3600, 1);
	add_a(l, "www.example.com.", 300, 10);
	add_a(l, "www.example.com.", 300, 12);             /* .11 replaced by .12 */
	add_a(l, "ttl.example.com.", 600, 20);             /* TTL changed: the RRset goes and comes */
	add_a(l, "ttl.example.com.", 600, 21);
	add_a(l, "a.b.deep.example.com.", 300, 40);
	add_a(l, "new.example.com.", 300, 50);             /* a new name */
	add_txt(l, "www.example.com.", 300, "hello");
	add_rrsig(l, "www.example.com.", 300, PKT_TYPE_A, 3); /* the A's signature changed... */
	add_rrsig(l, "www.example.com.", 300, PKT_TYPE_TXT, 2); /* ...the TXT's did not */
	zone_contents_t *new = build(l);

	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	assert_int_equal(zone_diff(old, new, removed, added), TDM_OK);
	rrlist_t *want_removed = rrlist_new(), *want_added = rrlist_new();
	add_soa(want_removed, "example.com.", 3600, 1, 300);
	add_a(want_removed, "www.example.com.", 300, 11);
	add_a(want_removed, "ttl.example.com.", 300, 20);
	add_a(want_removed, "ttl.example.com.", 300, 21);
	add_a(want_removed, "gone.example.com.", 300, 30);
	add_txt(want_removed, "gone.example.com.", 300, "bye");
	add_rrsig(want_removed, "www.example.com.", 300, PKT_TYPE_A, 1);
	add_soa(want_added, "example.com.", 3600, 2, 300);
	add_a(want_added, "www.example.com.", 300, 12);
	add_a(want_added, "ttl.example.com.", 600, 20);
	add_a(want_added, "ttl.example.com.", 600, 21);
	add_a(want_added, "new.example.com.", 300, 50);
	add_rrsig(want_added, "www.example.com.", 300, PKT_TYPE_A, 3);
	assert_same_records(removed, want_removed, "removed");
	assert_same_records(added, want_added, "added");
	assert_true(zone_diff_beyond_soa(removed, added));

	/* And backwards: the same records, the other way round. */
	rrlist_t *back_removed = rrlist_new(), *back_added = rrlist_new();
	assert_int_equal(zone_diff(new, old, back_removed, back_added), TDM_OK);
	assert_same_records(back_removed, want_added, "removed, new -> old");
	assert_same_records(back_added, want_removed, "added, new -> old");

	rrlist_free(removed);
	rrlist_free(added);
	rrlist_free(want_removed);
	rrlist_free(want_added);
	rrlist_free(back_removed);
	rrlist_free(back_added);
	zone_contents_free(old);
	zone_contents_free(new);
}

static void test_diff_soa_only(void **state)
{
	zone_contents_t *old = build(v1_list());
	rrlist_t *l = v1_list();
	zone_contents_t *new = NULL;
	/* The same records, the SOA's serial raised after the build (zone_contents_set_serial). */
	assert_int_equal(zone_contents_build(N("example.com."), l, &new), TDM_OK);
	rrlist_free(l);
	zone_contents_set_serial(new, 0xFFFFFFFFu);
	assert_int_equal(zone_serial(new), 0xFFFFFFFFu);
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	assert_int_equal(zone_diff(old, new, removed, added), TDM_OK);
	rrlist_t *want_removed = rrlist_new(), *want_added = rrlist_new();
	add_soa(want_removed, "example.com.", 3600, 1, 300);
	add_soa(want_added, "example.com.", 3600, 0xFFFFFFFFu, 300);
	assert_same_records(removed, want_removed, "removed");
	assert_same_records(added, want_added, "added");
	assert_false(zone_diff_beyond_soa(removed, added));
	assert_false(zone_diff_beyond_soa(added, removed));
	/* One record besides the SOA is enough, on either side. */
	add_a(want_added, "x.example.com.", 1, 1);
	assert_true(zone_diff_beyond_soa(removed, want_added));
	assert_true(zone_diff_beyond_soa(want_added, removed));
	rrlist_free(removed);
	rrlist_free(added);
	rrlist_free(want_removed);
	rrlist_free(want_added);
	zone_contents_free(old);
	zone_contents_free(new);
}

/* zone_contents_set_serial patches the SOA in place, and the serial is read back from the rdata. */
static void test_set_serial_patches_the_soa(void **state)
{
	zone_contents_t *z = build(v1_list());
	zone_contents_set_serial(z, 0x80000000u);
	assert_int_equal(zone_serial(z), 0x80000000u);
	rrlist_t *want = v1_list();
	rrlist_t *with = rrlist_new();
	for (size_t i = 0; i < rrlist_count(want); i++) {
		const rr_t *rr = rrlist_at(want, i);
		if (rr->type != PKT_TYPE_SOA)
			assert_int_equal(rrlist_add(with, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, 0),
			                 TDM_OK);
	}
	add_soa(with, "example.com.", 3600, 0x80000000u, 300);
	assert_contents_equal(z, with, "after zone_contents_set_serial");
	rrlist_free(want);
	rrlist_free(with);
	zone_contents_free(z);
}

/* ---- zone_apply ---- */

static void test_apply_gives_the_next_version(void **state)
{
	zone_contents_t *old = build(v1_list());
	rrlist_t *removed = rrlist_new(), *added = rrlist_new(), *want = rrlist_new();
	add_soa(removed, "example.com.", 3600, 1, 300);
	add_a(removed, "www.example.com.", 300, 11);
	add_a(removed, "gone.example.com.", 300, 30);
	add_txt(removed, "gone.example.com.", 300, "bye");
	add_soa(added, "example.com.", 3600, 2, 300);
	add_a(added, "www.example.com.", 300, 12);
	add_a(added, "brand.new.example.com.", 60, 99);

	add_soa(want, "example.com.", 3600, 2, 300);
	add_name(want, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
	add_a(want, "ns1.example.com.", 3600, 1);
	add_a(want, "www.example.com.", 300, 10);
	add_a(want, "www.example.com.", 300, 12);
	add_a(want, "ttl.example.com.", 300, 20);
	add_a(want, "ttl.example.com.", 300, 21);
	add_a(want, "a.b.deep.example.com.", 300, 40);
	add_rrsig(want, "www.example.com.", 300, PKT_TYPE_A, 1);
	add_rrsig(want, "www.example.com.", 300, PKT_TYPE_TXT, 2);
	add_txt(want, "www.example.com.", 300, "hello");
	add_a(want, "brand.new.example.com.", 60, 99);

	rrlist_t *out = NULL;
	assert_int_equal(zone_apply(old, removed, added, &out), TDM_OK);
	assert_non_null(out);
	assert_same_records(out, want, "applied");
	/* It builds, and the new version says serial 2. */
	zone_contents_t *next = build(out);
	assert_int_equal(zone_serial(next), 2);
	rrlist_free(removed);
	rrlist_free(added);
	rrlist_free(want);
	zone_contents_free(old);
	zone_contents_free(next);
}

/* RFC 1995: a difference that removes what this version lacks was made for another version. */
static void test_apply_refuses_a_diff_for_another_version(void **state)
{
	zone_contents_t *old = build(v1_list());
	rrlist_t *out = NULL;

	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	add_soa(removed, "example.com.", 3600, 1, 300);
	add_a(removed, "ghost.example.com.", 300, 1);      /* never there */
	add_soa(added, "example.com.", 3600, 2, 300);
	assert_int_equal(zone_apply(old, removed, added, &out), TDM_EMALF);
	assert_null(out);
	rrlist_free(removed);

	/* An existing name and type, other rdata. */
	removed = rrlist_new();
	add_soa(removed, "example.com.", 3600, 1, 300);
	add_a(removed, "www.example.com.", 300, 99);
	assert_int_equal(zone_apply(old, removed, added, &out), TDM_EMALF);
	assert_null(out);
	rrlist_free(removed);

	/* The removed SOA is another version's. */
	removed = rrlist_new();
	add_soa(removed, "example.com.", 3600, 7, 300);
	assert_int_equal(zone_apply(old, removed, added, &out), TDM_EMALF);
	assert_null(out);
	rrlist_free(removed);
	rrlist_free(added);
	zone_contents_free(old);
}

/* zone_apply(old, zone_diff(old, new)) holds new's records, over a chain of generated versions
 * crossing the serial wrap. */
static rrlist_t *generated(uint32_t serial, unsigned seed)
{
	rrlist_t *l = rrlist_new();
	add_soa(l, "example.com.", 3600, serial, 300);
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
	add_a(l, "ns1.example.com.", 3600, 1);
	for (unsigned i = 0; i < 300; i++) {
		unsigned h = (i * 2654435761u) ^ (seed * 40503u);
		if (h % 3 == 0)
			continue;   /* this name is absent from this version */
		char owner[64];
		snprintf(owner, sizeof(owner), "h%u.example.com.", i);
		add_a(l, owner, 300 + (h >> 7) % 2 * 300, (uint8_t)(h >> 9));
		if (h % 5 == 0)
			add_txt(l, owner, 300, seed % 2 ? "odd" : "even");
	}
	return l;
}

static void test_diff_then_apply_round_trip(void **state)
{
	uint32_t serial = 0xFFFFFFFDu;
	zone_contents_t *cur = build(generated(serial, 0));
	for (unsigned step = 1; step <= 6; step++) {
		uint32_t next_serial = serial + 1u;   /* crosses 0xFFFFFFFF -> 0 at step 3 */
		rrlist_t *want = generated(next_serial, step);
		zone_contents_t *next = NULL;
		rrlist_t *copy = generated(next_serial, step);
		assert_int_equal(zone_contents_build(N("example.com."), copy, &next), TDM_OK);
		rrlist_free(copy);
		assert_true(serial_cmp(serial, next_serial) < 0);

		rrlist_t *removed = rrlist_new(), *added = rrlist_new(), *out = NULL;
		assert_int_equal(zone_diff(cur, next, removed, added), TDM_OK);
		assert_true(rrlist_count(removed) > 1 && rrlist_count(added) > 1);
		assert_int_equal(zone_apply(cur, removed, added, &out), TDM_OK);
		assert_same_records(out, want, "diff then apply");
		rrlist_free(out);
		rrlist_free(removed);
		rrlist_free(added);
		rrlist_free(want);
		zone_contents_free(cur);
		cur = next;
		serial = next_serial;
	}
	assert_int_equal(zone_serial(cur), 3);
	zone_contents_free(cur);
}

/* serial_next: each policy, and never a serial that is not after the current one (RFC 1982). */
static void test_serial_next_policies(void **state)
{
	(void)state;
	int64_t now = 1764892800;   /* 2025-12-05 00:00:00 UTC */
	assert_int_equal(serial_next(41, ZONE_SERIAL_INCREMENT, now), 42);
	assert_int_equal(serial_next(0xFFFFFFFFu, ZONE_SERIAL_INCREMENT, now), 0);
	assert_int_equal(serial_next(41, ZONE_SERIAL_UNIXTIME, now), 1764892800u);
	assert_int_equal(serial_next(1764892800u, ZONE_SERIAL_UNIXTIME, now), 1764892801u);
	assert_int_equal(serial_next(1800000000u, ZONE_SERIAL_UNIXTIME, now), 1800000001u);
	assert_int_equal(serial_next(41, ZONE_SERIAL_DATESERIAL, now), 2025120500u);
	assert_int_equal(serial_next(2025120500u, ZONE_SERIAL_DATESERIAL, now), 2025120501u);
	assert_int_equal(serial_next(2025120407u, ZONE_SERIAL_DATESERIAL, now), 2025120500u);
	assert_int_equal(serial_next(2099010100u, ZONE_SERIAL_DATESERIAL, now), 2099010101u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_cmp_plain),
		cmocka_unit_test(test_serial_cmp_at_the_wrap),
		cmocka_unit_test(test_serial_cmp_undefined_half_way),
		cmocka_unit_test(test_serial_cmp_antisymmetric),
		cmocka_unit_test(test_diff_of_identical_versions_is_empty),
		cmocka_unit_test(test_diff_gives_each_change_exactly),
		cmocka_unit_test(test_diff_soa_only),
		cmocka_unit_test(test_set_serial_patches_the_soa),
		cmocka_unit_test(test_apply_gives_the_next_version),
		cmocka_unit_test(test_apply_refuses_a_diff_for_another_version),
		cmocka_unit_test(test_diff_then_apply_round_trip),
		cmocka_unit_test(test_serial_next_policies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
