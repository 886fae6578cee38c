/* tests/unit/lib/test_namemap.c -- the name map: lookups, case, removals by backward shift, growth */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/namemap.h"

static int put(namemap_t *m, const char *key, void *value)
{
	return namemap_put(m, key, strlen(key), value, NULL);
}

static void *get(const namemap_t *m, const char *key)
{
	return namemap_get(m, key, strlen(key));
}

static void test_put_get_case_and_duplicates(void **state)
{
	int a, b;
	namemap_t *m = namemap_new();
	assert_non_null(m);
	assert_null(get(m, "example.com."));
	assert_int_equal(put(m, "Example.COM.", &a), TDM_OK);
	assert_ptr_equal(get(m, "example.com."), &a);
	assert_ptr_equal(get(m, "EXAMPLE.com."), &a);
	assert_null(get(m, "example.com"));   /* the length is part of the key */
	void *old = NULL;
	assert_int_equal(namemap_put(m, "example.com.", 12, &b, &old), TDM_EEXIST);
	assert_ptr_equal(old, &a);
	assert_ptr_equal(get(m, "example.com."), &a);
	assert_int_equal(namemap_set(m, "example.com.", 12, &b), TDM_OK);
	assert_ptr_equal(get(m, "example.com."), &b);
	assert_int_equal(namemap_set(m, "other.", 6, &b), TDM_ENOENT);
	assert_int_equal(put(m, "x.", NULL), TDM_EINVAL);
	/* Octets are keys as they are: only A-Z fold, '@' (0x40) is not '`' (0x60). */
	assert_int_equal(put(m, "@", &a), TDM_OK);
	assert_null(get(m, "`"));
	assert_int_equal(namemap_count(m), 2);
	namemap_free(m);
}

/* Many keys in, every other one out, in orders that leave runs with holes: whatever remains is
 * found and whatever left is not (a wrong backward shift loses entries behind the hole). */
static void test_removals_keep_every_other_entry_reachable(void **state)
{
	enum { N = 5000 };
	static int values[N];
	namemap_t *m = namemap_new();
	assert_non_null(m);
	char key[32];
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "m%d.zones.cat.", i);
		assert_int_equal(put(m, key, &values[i]), TDM_OK);
	}
	assert_int_equal(namemap_count(m), N);
	for (int i = N - 1; i >= 0; i -= 2) {   /* from the end: every odd one when N is even */
		snprintf(key, sizeof(key), "M%d.ZONES.cat.", i);
		assert_int_equal(namemap_del(m, key, strlen(key)), TDM_OK);
		assert_int_equal(namemap_del(m, key, strlen(key)), TDM_ENOENT);
	}
	assert_int_equal(namemap_count(m), N / 2);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "m%d.zones.cat.", i);
		if (i % 2 == 0)
			assert_ptr_equal(get(m, key), &values[i]);
		else
			assert_null(get(m, key));
	}
	/* In again, then all out: the map ends empty and still works. */
	for (int i = 1; i < N; i += 2) {
		snprintf(key, sizeof(key), "m%d.zones.cat.", i);
		assert_int_equal(put(m, key, &values[i]), TDM_OK);
	}
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "m%d.zones.cat.", (i * 7919) % N);
		assert_ptr_equal(get(m, key), &values[(i * 7919) % N]);
		assert_int_equal(namemap_del(m, key, strlen(key)), TDM_OK);
	}
	assert_int_equal(namemap_count(m), 0);
	assert_null(get(m, "m0.zones.cat."));
	assert_int_equal(put(m, "again.", &values[0]), TDM_OK);
	assert_ptr_equal(get(m, "again."), &values[0]);
	namemap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_case_and_duplicates),
		cmocka_unit_test(test_removals_keep_every_other_entry_reachable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
