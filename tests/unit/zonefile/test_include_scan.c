/* tests/unit/zonefile/test_include_scan.c -- $INCLUDE lines found without parsing; the digest follows them */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "store/digest.h"
#include "zonefile/zonefile.h"

typedef struct {
	char got[8][256];
	unsigned line[8];
	int n;
} found_t;

static int collect(void *ctx, const char *name, unsigned line)
{
	found_t *f = ctx;
	if (f->n < 8) {
		f->line[f->n] = line;
		snprintf(f->got[f->n++], sizeof(f->got[0]), "%s", name);
	}
	return 0;
}

/* The same text fed whole and one octet at a time must give the same names. */
static void scan_both_ways(const char *text, found_t *whole)
{
	found_t bytes = { 0 };
	zonefile_include_scan_t s;
	memset(whole, 0, sizeof(*whole));
	zonefile_include_scan_init(&s);
	assert_int_equal(zonefile_include_scan(&s, text, strlen(text), collect, whole), 0);
	assert_int_equal(zonefile_include_scan_end(&s, collect, whole), 0);
	zonefile_include_scan_init(&s);
	for (size_t i = 0; text[i] != '\0'; i++)
		assert_int_equal(zonefile_include_scan(&s, text + i, 1, collect, &bytes), 0);
	assert_int_equal(zonefile_include_scan_end(&s, collect, &bytes), 0);
	assert_int_equal(bytes.n, whole->n);
	for (int i = 0; i < whole->n; i++) {
		assert_string_equal(bytes.got[i], whole->got[i]);
		assert_int_equal(bytes.line[i], whole->line[i]);
	}
}

static void test_names_as_libzscanner_reads_them(void **state)
{
	found_t f;
	scan_both_ways("$ORIGIN example.\n"
	               "@ IN SOA ns hm 1 2 3 4 5 ; $INCLUDE not-this\n"
	               "$INCLUDE plain.inc\n"
	               "$include lower.inc sub.example. ; with an origin\n"
	               "  $INCLUDE\t\"quoted name.inc\"\n"
	               "$INCLUDE esc\\032aped\\.inc\n"
	               "$INCLUDEX not-a-directive\n"
	               "; $INCLUDE a-comment\n"
	               "www IN TXT \"$INCLUDE not-at-line-start\"\n"
	               "$INCLUDE /abs/last.inc", &f);
	assert_int_equal(f.n, 5);
	assert_string_equal(f.got[0], "plain.inc");
	assert_string_equal(f.got[1], "lower.inc");
	assert_string_equal(f.got[2], "quoted name.inc");
	assert_string_equal(f.got[3], "esc aped.inc");
	assert_string_equal(f.got[4], "/abs/last.inc");
	assert_int_equal(f.line[0], 3);
	assert_int_equal(f.line[2], 5);
	assert_int_equal(f.line[4], 10);
}

static void test_a_name_too_long_is_an_error_not_cut(void **state)
{
	size_t n = ZONEFILE_INCLUDE_NAME_MAX + 10;
	char *text = malloc(n + 16);
	assert_non_null(text);
	memcpy(text, "$INCLUDE ", 9);
	memset(text + 9, 'a', n);
	strcpy(text + 9 + n, "\n");
	found_t f = { 0 };
	zonefile_include_scan_t s;
	zonefile_include_scan_init(&s);
	assert_int_equal(zonefile_include_scan(&s, text, strlen(text), collect, &f), TDM_ESPACE);
	assert_int_equal(f.n, 0);
	free(text);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The digest changes with an included file's contents (two levels down too), not otherwise. */
static void test_digest_follows_includes(void **state)
{
	char dir[] = "/tmp/tandem-digest-XXXXXX", a[128], b[128], c[128], sub[128];
	char d1[65], d2[65], d3[65], d4[65], plain[65];
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(a, sizeof(a), "%s/main.zone", dir);
	snprintf(b, sizeof(b), "%s/sub/b.inc", dir);
	snprintf(c, sizeof(c), "%s/sub/c.inc", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(a, "@ IN SOA ns hm 1 2 3 4 5\n$INCLUDE sub/b.inc\n");
	write_file(b, "www IN A 192.0.2.1\n$INCLUDE c.inc\n");   /* relative to sub/ */
	write_file(c, "deep IN A 192.0.2.2\n");
	assert_int_equal(store_file_digest(a, d1), TDM_OK);
	assert_int_equal(store_file_digest(a, d2), TDM_OK);
	assert_string_equal(d1, d2);
	write_file(c, "deep IN A 192.0.2.3\n");
	assert_int_equal(store_file_digest(a, d3), TDM_OK);
	assert_string_not_equal(d1, d3);
	unlink(c);   /* a missing include changes it too (the parse will say what is wrong) */
	assert_int_equal(store_file_digest(a, d4), TDM_OK);
	assert_string_not_equal(d3, d4);
	/* A file without $INCLUDE keeps the plain SHA-256 stores already hold. */
	write_file(c, "abc");
	assert_int_equal(store_file_digest(c, plain), TDM_OK);
	assert_string_equal(plain, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* A file that includes itself: never the same digest twice, so always parsed (and refused). */
	write_file(b, "$INCLUDE b.inc\n");
	assert_int_equal(store_file_digest(b, d1), TDM_OK);
	assert_int_equal(store_file_digest(b, d2), TDM_OK);
	assert_string_not_equal(d1, d2);
	unlink(a);
	unlink(b);
	unlink(c);
	rmdir(sub);
	rmdir(dir);
}

typedef struct {
	char first[512];
	int n;
} errors_t;

static void on_error(void *ctx, const char *file, unsigned line, const char *msg)
{
	errors_t *e = ctx;
	if (e->n++ == 0)
		snprintf(e->first, sizeof(e->first), "%u: %s", line, msg);
}

/* libzscanner follows an include loop until it runs out of descriptors (4 GB of scanners here):
 * the loader refuses loops and deep nesting first, with the line of the directive. */
static void test_loader_refuses_loops_and_deep_nesting(void **state)
{
	char dir[] = "/tmp/tandem-inc-XXXXXX", path[128], text[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/loop.zone", dir);
	write_file(path, "@ 300 IN SOA ns hm 1 2 3 4 5\n@ 300 IN NS ns\nns 300 IN A 192.0.2.1\n"
	                 "$INCLUDE loop.zone\n");
	rrlist_t *list = NULL;
	errors_t e = { 0 };
	assert_int_equal(zonefile_load(path, "x.test.", &list, on_error, &e), TDM_EPARSE);
	assert_null(list);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.first, "4: $INCLUDE loop.zone: a loop"));
	unlink(path);
	/* A chain of 20 files: the 17th level is refused. */
	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		snprintf(text, sizeof(text), "%s$INCLUDE f%d\n",
		         i == 0 ? "@ 300 IN SOA ns hm 1 2 3 4 5\n@ 300 IN NS ns\n" : "", i + 1);
		write_file(path, i == 19 ? "ns 300 IN A 192.0.2.1\n" : text);
	}
	snprintf(path, sizeof(path), "%s/f0", dir);
	memset(&e, 0, sizeof(e));
	assert_int_equal(zonefile_load(path, "x.test.", &list, on_error, &e), TDM_EPARSE);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.first, "$INCLUDE f17: more than 16 files nested"));
	/* Sixteen levels are fine. */
	snprintf(path, sizeof(path), "%s/f16", dir);
	write_file(path, "ns 300 IN A 192.0.2.1\n");
	snprintf(path, sizeof(path), "%s/f0", dir);
	assert_int_equal(zonefile_load(path, "x.test.", &list, on_error, &e), TDM_OK);
	assert_int_equal(rrlist_count(list), 3);
	rrlist_free(list);
	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_as_libzscanner_reads_them),
		cmocka_unit_test(test_a_name_too_long_is_an_error_not_cut),
		cmocka_unit_test(test_digest_follows_includes),
		cmocka_unit_test(test_loader_refuses_loops_and_deep_nesting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
