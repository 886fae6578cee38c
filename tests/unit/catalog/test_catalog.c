/* tests/unit/catalog/test_catalog.c -- reading a catalog that a peer wrote: bounded, escaped, refused whole */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "catalog/catalog.h"
#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/contents.h"
#include "zone/rrlist.h"
#include "testlib/testlib.h"

static const uint8_t apex[] = "\x03" "cat\x04" "test";

/* A catalog of count members m<i>.test. with IDs id<i> (catalog_write), plus extra records. */
static rrlist_t *catalog_of(size_t count)
{
	catalog_member_t m[16];
	rrlist_t *list = rrlist_new();
	assert_non_null(list);
	assert_true(count <= 16);
	memset(m, 0, sizeof(m));
	for (size_t i = 0; i < count; i++) {
		char name[32];
		snprintf(name, sizeof(name), "m%zu.test.", i);
		memcpy(m[i].zone, N(name), NAME_MAXLEN);
		snprintf(m[i].id, sizeof(m[i].id), "id%zu", i);
	}
	assert_int_equal(catalog_write(apex, 1, m, count, list), TDM_OK);
	return list;
}

static int read_list(rrlist_t *list, size_t max, catalog_t *out, char *why, size_t why_len)
{
	zone_contents_t *z = NULL;
	assert_int_equal(zone_contents_build(apex, list, &z), TDM_OK);
	int ret = catalog_read_max(z, max, out, why, why_len);
	zone_contents_free(z);
	rrlist_free(list);
	return ret;
}

static void test_more_members_than_the_cap_refuse_the_catalog(void **state)
{
	catalog_t c = { 0 };
	char why[256] = "";
	assert_int_equal(read_list(catalog_of(3), 3, &c, why, sizeof(why)), TDM_OK);
	assert_int_equal(c.count, 3);
	catalog_clear(&c);
	assert_int_equal(read_list(catalog_of(4), 3, &c, why, sizeof(why)), TDM_EMALF);
	assert_string_equal(why, "more than catalog-max-members 3 members");
	assert_int_equal(c.count, 0);
	assert_int_equal(read_list(catalog_of(4), 0, &c, why, sizeof(why)), TDM_OK);   /* 0: no cap */
	catalog_clear(&c);
}

static void test_unique_ids_are_kept_escaped(void **state)
{
	rrlist_t *list = catalog_of(0);
	/* An ID holding a newline, a dot and a NUL. */
	const uint8_t owner[] = "\x05" "a\nb.\0" "\x05" "zones\x03" "cat\x04" "test";
	const uint8_t *target = N("evil.test.");
	assert_int_equal(rrlist_add(list, owner, PKT_TYPE_PTR, 0, target,
	                            (uint16_t)name_length(target, NAME_MAXLEN), 0), TDM_OK);
	catalog_t c = { 0 };
	char why[256] = "";
	assert_int_equal(read_list(list, 0, &c, why, sizeof(why)), TDM_OK);
	assert_int_equal(c.count, 1);
	assert_string_equal(c.members[0].id, "a\\010b\\.\\000");
	/* Written back, the escaped ID is the same label again. */
	rrlist_t *again = rrlist_new();
	assert_int_equal(catalog_write(apex, 2, c.members, 1, again), TDM_OK);
	catalog_t d = { 0 };
	assert_int_equal(read_list(again, 0, &d, why, sizeof(why)), TDM_OK);
	assert_string_equal(d.members[0].id, c.members[0].id);
	catalog_clear(&c);
	catalog_clear(&d);
}

static void test_a_group_with_a_nul_is_broken(void **state)
{
	rrlist_t *list = catalog_of(1);
	const uint8_t *owner = N("group.id0.zones.cat.test.");
	assert_int_equal(rrlist_add(list, owner, PKT_TYPE_TXT, 0, (const uint8_t *)"\x03" "a\0b", 4, 0),
	                 TDM_OK);
	catalog_t c = { 0 };
	char why[256] = "";
	assert_int_equal(read_list(list, 0, &c, why, sizeof(why)), TDM_EMALF);
	assert_non_null(strstr(why, "broken group property"));
}

static void test_escape_for_logs(void **state)
{
	char out[64];
	catalog_escape("ok group", out, sizeof(out));
	assert_string_equal(out, "ok group");
	catalog_escape("a\nINJECTED\x7f\xc3\xa9", out, sizeof(out));
	assert_string_equal(out, "a\\010INJECTED\\127\\195\\169");
	catalog_escape("already\\010escaped", out, sizeof(out));
	assert_string_equal(out, "already\\010escaped");
	catalog_escape("\n\n\n\n", out, 10);   /* truncated, never a half escape */
	assert_string_equal(out, "\\010\\010");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_more_members_than_the_cap_refuse_the_catalog),
		cmocka_unit_test(test_unique_ids_are_kept_escaped),
		cmocka_unit_test(test_a_group_with_a_nul_is_broken),
		cmocka_unit_test(test_escape_for_logs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
