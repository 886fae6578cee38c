/* tests/unit/catalog/test_catalog_rw.c -- catalog/catalog.c: writing an RFC 9432 catalog, reading one back, refusing broken ones */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalog/catalog.h"
#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/contents.h"
#include "zone/rrlist.h"
#include "testlib/testlib.h"

#define CAT "cat.example."

/* ---- helpers: catalog zones written record by record ---- */

static void add_ptr(rrlist_t *l, const char *owner, const char *target)
{
	add_raw(l, owner, PKT_TYPE_PTR, 0, N(target), (size_t)NL(target));
}

/* A TXT of one or two character-strings. */
static void add_txt(rrlist_t *l, const char *owner, const char *s1, const char *s2)
{
	uint8_t rd[600];
	size_t n = 0;
	rd[n++] = (uint8_t)strlen(s1);
	memcpy(rd + n, s1, strlen(s1));
	n += strlen(s1);
	if (s2 != NULL) {
		rd[n++] = (uint8_t)strlen(s2);
		memcpy(rd + n, s2, strlen(s2));
		n += strlen(s2);
	}
	add_raw(l, owner, PKT_TYPE_TXT, 0, rd, n);
}

/* SOA and NS of the catalog, as RFC 9432 3 wants them ("invalid."). */
static rrlist_t *catalog_head(const char *version)
{
	rrlist_t *l = rrlist_new();
	uint8_t soa[64] = "\x07invalid\x00\x07invalid\x00";
	pkt_put32(soa + 18, 1);
	pkt_put32(soa + 22, 3600);
	pkt_put32(soa + 26, 600);
	pkt_put32(soa + 30, 2419200);
	pkt_put32(soa + 34, 0);
	add_raw(l, CAT, PKT_TYPE_SOA, 0, soa, 38);
	add_raw(l, CAT, PKT_TYPE_NS, 0, "\x07invalid", 9);
	if (version != NULL)
		add_txt(l, "version." CAT, version, NULL);
	return l;
}

static zone_contents_t *build(rrlist_t *l)
{
	zone_contents_t *z = NULL;
	int ret = zone_contents_build(N(CAT), l, &z);
	if (ret != TDM_OK)
		fail_msg("zone_contents_build: %d", ret);
	rrlist_free(l);
	return z;
}

static const catalog_member_t *member_by_zone(const catalog_t *cat, const char *zone)
{
	for (size_t i = 0; i < cat->count; i++)
		if (name_equal(cat->members[i].zone, N(zone)))
			return &cat->members[i];
	fail_msg("%s is not a member", zone);
	return NULL;
}

/* Reads the catalog and expects it refused, with a reason that names `needle`. */
static void assert_refused(rrlist_t *l, const char *needle)
{
	zone_contents_t *z = build(l);
	catalog_t cat = { 0 };
	char why[256] = "";
	assert_int_equal(catalog_read(z, &cat, why, sizeof(why)), TDM_EMALF);
	/* refused whole: nothing handed out */
	assert_int_equal(cat.count, 0);
	assert_null(cat.members);
	if (strstr(why, needle) == NULL)
		fail_msg("reason \"%s\" does not mention \"%s\"", why, needle);
	zone_contents_free(z);
}

static catalog_member_t member(const char *zone, const char *id, const char *group, const char *coo)
{
	catalog_member_t m;
	memset(&m, 0, sizeof(m));
	name_copy_lower(m.zone, N(zone));
	snprintf(m.id, sizeof(m.id), "%s", id);
	snprintf(m.group, sizeof(m.group), "%s", group ? group : "");
	m.coo[0] = 0;
	if (coo != NULL) {
		name_copy_lower(m.coo, N(coo));
		m.has_coo = true;
	}
	return m;
}

/* A record as text, "owner type ttl rdata-in-hex". */
static char *rr_text(const rr_t *rr)
{
	char owner[NAME_TEXT_MAX];
	name_to_text(rr->owner, owner, sizeof(owner));
	size_t size = strlen(owner) + 40 + (size_t)rr->rdlen * 2;
	char *s = malloc(size);
	int n = snprintf(s, size, "%s %u %u ", owner, rr->type, rr->ttl);
	for (uint16_t i = 0; i < rr->rdlen; i++)
		n += snprintf(s + n, size - (size_t)n, "%02x", rr->rdata[i]);
	return s;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void assert_same_records(const rrlist_t *got, const rrlist_t *want)
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
		for (size_t i = 0; i < ng; i++)
			fprintf(stderr, "  got  %s\n", g[i]);
		for (size_t i = 0; i < nw; i++)
			fprintf(stderr, "  want %s\n", w[i]);
	}
	for (size_t i = 0; i < ng; i++)
		free(g[i]);
	for (size_t i = 0; i < nw; i++)
		free(w[i]);
	free(g);
	free(w);
	assert_true(same);
}

/* ---- member IDs ---- */

/* RFC 9432 4.1: a unique ID per member. Tandem's is SipHash-2-4 of the wire name under the key
 * "tandem-catalog-1", in hex: the same on every run and every producer, so a restart does not
 * reset members. The expected values were computed apart from Tandem (a Python SipHash checked
 * against the reference test vector); a change here resets every member of every consumer. */
static void test_member_id_is_stable(void **state)
{
	char id[CATALOG_ID_MAX];
	catalog_member_id(N("example.com."), id);
	assert_string_equal(id, "76eb22a03bdbdb98");
	catalog_member_id(N("zone1.test."), id);
	assert_string_equal(id, "530b1b41598c211e");
	catalog_member_id(N("a.b.c.example.org."), id);
	assert_string_equal(id, "fa41355be560f180");
	/* one label of 16 hex digits */
	assert_int_equal(strlen(id), 16);
	assert_int_equal(strspn(id, "0123456789abcdef"), 16);
}

/* ---- writing ---- */

static void test_write_gives_the_rfc_9432_records(void **state)
{
	catalog_member_t m[3] = {
		member("one.test.", "id1", NULL, NULL),
		member("two.test.", "id2", "blue", NULL),
		member("three.test.", "id3", NULL, "other-cat.example."),
	};
	rrlist_t *got = rrlist_new();
	assert_int_equal(catalog_write(N(CAT), 2024, m, 3, got), TDM_OK);

	rrlist_t *want = rrlist_new();
	uint8_t soa[64] = "\x07invalid\x00\x07invalid\x00";
	pkt_put32(soa + 18, 2024);
	pkt_put32(soa + 22, 3600);
	pkt_put32(soa + 26, 600);
	pkt_put32(soa + 30, 2419200);
	pkt_put32(soa + 34, 0);
	add_raw(want, CAT, PKT_TYPE_SOA, 0, soa, 38);
	add_raw(want, CAT, PKT_TYPE_NS, 0, "\x07invalid", 9);
	add_txt(want, "version." CAT, "2", NULL);
	add_ptr(want, "id1.zones." CAT, "one.test.");
	add_ptr(want, "id2.zones." CAT, "two.test.");
	add_txt(want, "group.id2.zones." CAT, "blue", NULL);
	add_ptr(want, "id3.zones." CAT, "three.test.");
	add_ptr(want, "coo.id3.zones." CAT, "other-cat.example.");
	assert_same_records(got, want);
	rrlist_free(got);
	rrlist_free(want);
}

static void test_write_then_read_gives_the_members_back(void **state)
{
	enum { COUNT = 500 };
	catalog_member_t *m = calloc(COUNT, sizeof(*m));
	for (unsigned i = 0; i < COUNT; i++) {
		char zone[64], group[16];
		snprintf(zone, sizeof(zone), "member%u.test.", i);
		snprintf(group, sizeof(group), "g%u", i % 7);
		m[i] = member(zone, "", i % 3 == 0 ? group : NULL, i % 10 == 0 ? "next.example." : NULL);
		catalog_member_id(m[i].zone, m[i].id);
	}
	rrlist_t *l = rrlist_new();
	assert_int_equal(catalog_write(N(CAT), 7, m, COUNT, l), TDM_OK);
	zone_contents_t *z = build(l);
	assert_int_equal(zone_serial(z), 7);
	catalog_t cat = { 0 };
	char why[256] = "";
	assert_int_equal(catalog_read(z, &cat, why, sizeof(why)), TDM_OK);
	assert_int_equal(cat.count, COUNT);
	for (unsigned i = 0; i < COUNT; i++) {
		char zone[64];
		snprintf(zone, sizeof(zone), "member%u.test.", i);
		const catalog_member_t *got = member_by_zone(&cat, zone);
		assert_string_equal(got->id, m[i].id);
		assert_string_equal(got->group, m[i].group);
		assert_int_equal(got->has_coo, m[i].has_coo);
		if (m[i].has_coo)
			assert_true(name_equal(got->coo, N("next.example.")));
	}
	catalog_clear(&cat);
	assert_null(cat.members);
	assert_int_equal(cat.count, 0);
	zone_contents_free(z);
	free(m);
}

static void test_write_and_read_an_empty_catalog(void **state)
{
	rrlist_t *l = rrlist_new();
	assert_int_equal(catalog_write(N(CAT), 1, NULL, 0, l), TDM_OK);
	assert_int_equal(rrlist_count(l), 3);   /* SOA, NS, version */
	zone_contents_t *z = build(l);
	catalog_t cat = { 0 };
	char why[256] = "";
	assert_int_equal(catalog_read(z, &cat, why, sizeof(why)), TDM_OK);
	assert_int_equal(cat.count, 0);
	catalog_clear(&cat);
	zone_contents_free(z);
}

/* ---- reading catalogs written by others ---- */

static void test_read_a_hand_written_catalog(void **state)
{
	rrlist_t *l = catalog_head("2");
	add_ptr(l, "a1.zones." CAT, "Alpha.Test.");             /* case is not kept */
	add_ptr(l, "b2.zones." CAT, "beta.test.");
	add_txt(l, "group.b2.zones." CAT, "gold", NULL);
	add_ptr(l, "coo.b2.zones." CAT, "new-cat.example.");
	add_ptr(l, "c3.zones." CAT, "gamma.test.");
	/* RFC 9432 4.1: nothing but a PTR at a member node; another type alone is no member */
	add_txt(l, "notamember.zones." CAT, "x", NULL);
	/* properties of an ID that is not a member, and unknown properties: ignored */
	add_txt(l, "group.nobody.zones." CAT, "lost", NULL);
	add_txt(l, "colour.c3.zones." CAT, "red", NULL);
	/* other data outside zones. (RFC 9432 allows custom properties): ignored */
	add_txt(l, "ext." CAT, "whatever", NULL);
	add_ptr(l, "deep.under.c3.zones." CAT, "ignored.test.");
	zone_contents_t *z = build(l);
	catalog_t cat = { 0 };
	char why[256] = "";
	assert_int_equal(catalog_read(z, &cat, why, sizeof(why)), TDM_OK);
	assert_int_equal(cat.count, 3);
	const catalog_member_t *a = member_by_zone(&cat, "alpha.test.");
	assert_memory_equal(a->zone, "\x05" "alpha" "\x04" "test", 12);
	assert_string_equal(a->id, "a1");
	assert_string_equal(a->group, "");
	assert_false(a->has_coo);
	const catalog_member_t *b = member_by_zone(&cat, "beta.test.");
	assert_string_equal(b->id, "b2");
	assert_string_equal(b->group, "gold");
	assert_true(b->has_coo);
	assert_true(name_equal(b->coo, N("new-cat.example.")));
	const catalog_member_t *c = member_by_zone(&cat, "gamma.test.");
	assert_string_equal(c->id, "c3");
	assert_string_equal(c->group, "");
	assert_false(c->has_coo);
	catalog_clear(&cat);
	zone_contents_free(z);
}

/* ---- broken catalogs: refused whole, nothing handed out (catalog/catalog.h) ---- */

static void test_refused_without_a_version(void **state)
{
	rrlist_t *l = catalog_head(NULL);
	add_ptr(l, "a1.zones." CAT, "alpha.test.");
	assert_refused(l, "version");
}

static void test_refused_with_another_version(void **state)
{
	rrlist_t *l = catalog_head("1");
	add_ptr(l, "a1.zones." CAT, "alpha.test.");
	assert_refused(l, "version");

	/* two version records */
	l = catalog_head("2");
	add_txt(l, "version." CAT, "3", NULL);
	assert_refused(l, "version");

	/* "2" followed by another string */
	l = catalog_head(NULL);
	add_txt(l, "version." CAT, "2", "x");
	assert_refused(l, "version");
}

static void test_refused_with_two_ptrs_at_a_member(void **state)
{
	rrlist_t *l = catalog_head("2");
	add_ptr(l, "a1.zones." CAT, "alpha.test.");
	add_ptr(l, "a1.zones." CAT, "beta.test.");
	assert_refused(l, "more than one PTR");
}

static void test_refused_with_a_zone_under_two_ids(void **state)
{
	rrlist_t *l = catalog_head("2");
	add_ptr(l, "a1.zones." CAT, "alpha.test.");
	add_ptr(l, "b2.zones." CAT, "beta.test.");
	add_ptr(l, "c3.zones." CAT, "ALPHA.test.");
	assert_refused(l, "alpha.test");
}

/* The same among thousands of members (the check is a hash table of their names, not a sort). */
static void test_refused_with_a_zone_under_two_ids_among_many(void **state)
{
	rrlist_t *l = catalog_head("2");
	for (unsigned i = 0; i < 3000; i++) {
		char owner[64], zone[64];
		snprintf(owner, sizeof(owner), "m%u.zones." CAT, i);
		snprintf(zone, sizeof(zone), "member%u.test.", i);
		add_ptr(l, owner, zone);
	}
	add_ptr(l, "again.zones." CAT, "MEMBER1234.test.");
	assert_refused(l, "member1234.test");
}

static void test_refused_with_a_broken_group(void **state)
{
	rrlist_t *l = catalog_head("2");
	add_ptr(l, "a1.zones." CAT, "alpha.test.");
	add_txt(l, "group.a1.zones." CAT, "one", NULL);
	add_txt(l, "group.a1.zones." CAT, "two", NULL);
	assert_refused(l, "group");

	l = catalog_head("2");
	add_ptr(l, "a1.zones." CAT, "alpha.test.");
	add_txt(l, "group.a1.zones." CAT, "one", "two");
	assert_refused(l, "group");
}

static void test_refused_with_a_broken_coo(void **state)
{
	rrlist_t *l = catalog_head("2");
	add_ptr(l, "a1.zones." CAT, "alpha.test.");
	add_ptr(l, "coo.a1.zones." CAT, "cat1.example.");
	add_ptr(l, "coo.a1.zones." CAT, "cat2.example.");
	assert_refused(l, "coo");
}

/* One member read at its node is what the whole read gives for it; a node without a PTR, or no
 * node, is no member; a member the whole read would refuse the catalog for is refused. */
static void test_one_member_read_as_the_whole_read_reads_it(void **state)
{
	rrlist_t *l = catalog_head("2");
	add_ptr(l, "a1.zones." CAT, "a.example.");
	add_txt(l, "group.a1.zones." CAT, "blue", NULL);
	add_ptr(l, "coo.a1.zones." CAT, "other.cat.");
	add_ptr(l, "b1.zones." CAT, "b.example.");
	add_txt(l, "group.nomember.zones." CAT, "orphan", NULL);
	add_ptr(l, "two.zones." CAT, "c.example.");
	add_ptr(l, "two.zones." CAT, "d.example.");
	add_ptr(l, "bad.zones." CAT, "e.example.");
	add_txt(l, "group.bad.zones." CAT, "x", "y");
	zone_contents_t *z = build(l);
	catalog_member_t m, want = member("a.example.", "a1", "blue", "other.cat.");
	char why[256] = "";
	assert_int_equal(catalog_read_member(z, N("a1.zones." CAT), &m, why, sizeof(why)), TDM_OK);
	assert_true(name_equal(m.zone, want.zone));
	assert_string_equal(m.id, "a1");
	assert_string_equal(m.group, "blue");
	assert_true(m.has_coo && name_equal(m.coo, want.coo));
	assert_int_equal(catalog_read_member(z, N("b1.zones." CAT), &m, why, sizeof(why)), TDM_OK);
	assert_string_equal(m.group, "");
	assert_false(m.has_coo);
	assert_int_equal(catalog_read_member(z, N("nomember.zones." CAT), &m, why, sizeof(why)), TDM_ENOENT);
	assert_int_equal(catalog_read_member(z, N("gone.zones." CAT), &m, why, sizeof(why)), TDM_ENOENT);
	assert_int_equal(catalog_read_member(z, N("two.zones." CAT), &m, why, sizeof(why)), TDM_EMALF);
	assert_non_null(strstr(why, "more than one PTR"));
	assert_int_equal(catalog_read_member(z, N("bad.zones." CAT), &m, why, sizeof(why)), TDM_EMALF);
	assert_non_null(strstr(why, "group"));
	zone_contents_free(z);
}

/* Where a changed record stands: a member's node or property (the member node given), the version
 * (read whole), or nothing a reader follows. */
static void test_changed_records_classified(void **state)
{
	uint8_t member[NAME_MAXLEN];
	const uint8_t *apex = N(CAT);
	uint8_t a[NAME_MAXLEN];
	memcpy(a, apex, (size_t)NL(CAT));
	assert_int_equal(catalog_owner(a, N("m1.zones." CAT), member), CATALOG_OWNER_MEMBER);
	assert_true(name_equal(member, N("m1.zones." CAT)));
	assert_int_equal(catalog_owner(a, N("group.m1.zones." CAT), member), CATALOG_OWNER_MEMBER);
	assert_true(name_equal(member, N("m1.zones." CAT)));
	assert_int_equal(catalog_owner(a, N("ext.m1.zones." CAT), member), CATALOG_OWNER_MEMBER);
	assert_true(name_equal(member, N("m1.zones." CAT)));
	assert_int_equal(catalog_owner(a, N("version." CAT), member), CATALOG_OWNER_WHOLE);
	assert_int_equal(catalog_owner(a, N("VERSION." CAT), member), CATALOG_OWNER_WHOLE);
	assert_int_equal(catalog_owner(a, N(CAT), member), CATALOG_OWNER_OTHER);
	assert_int_equal(catalog_owner(a, N("zones." CAT), member), CATALOG_OWNER_OTHER);
	assert_int_equal(catalog_owner(a, N("x.group.m1.zones." CAT), member), CATALOG_OWNER_OTHER);
	assert_int_equal(catalog_owner(a, N("ext." CAT), member), CATALOG_OWNER_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_member_id_is_stable),
		cmocka_unit_test(test_write_gives_the_rfc_9432_records),
		cmocka_unit_test(test_write_then_read_gives_the_members_back),
		cmocka_unit_test(test_write_and_read_an_empty_catalog),
		cmocka_unit_test(test_read_a_hand_written_catalog),
		cmocka_unit_test(test_refused_without_a_version),
		cmocka_unit_test(test_refused_with_another_version),
		cmocka_unit_test(test_refused_with_two_ptrs_at_a_member),
		cmocka_unit_test(test_refused_with_a_zone_under_two_ids),
		cmocka_unit_test(test_refused_with_a_broken_group),
		cmocka_unit_test(test_refused_with_a_broken_coo),
		cmocka_unit_test(test_refused_with_a_zone_under_two_ids_among_many),
		cmocka_unit_test(test_one_member_read_as_the_whole_read_reads_it),
		cmocka_unit_test(test_changed_records_classified),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
