/* tests/unit/zonefile/test_zonefile.c -- zone file load, semantic checks, dump and read back */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libknot/libknot.h>

#include "lib/error.h"
#include "zonefile/zonefile.h"
#include "testlib/testlib.h"

/* ---- helpers ---- */

struct report {
	char file[512];
	unsigned line;
	char msg[1024];
};

struct capture {
	int n;
	struct report r[64];
};

static void capture_fn(void *ctx, const char *file, unsigned line, const char *msg)
{
	struct capture *c = ctx;
	if (c->n >= 64)
		return;
	const char *base = strrchr(file, '/');
	snprintf(c->r[c->n].file, sizeof(c->r[c->n].file), "%s", base != NULL ? base + 1 : file);
	c->r[c->n].line = line;
	snprintf(c->r[c->n].msg, sizeof(c->r[c->n].msg), "%s", msg);
	c->n++;
}

/* Whether a report names file:line and contains text. */
static bool reported(const struct capture *c, const char *file, unsigned line, const char *text)
{
	for (int i = 0; i < c->n; i++) {
		if (strcmp(c->r[i].file, file) == 0 && c->r[i].line == line &&
		    strstr(c->r[i].msg, text) != NULL)
			return true;
	}
	return false;
}

static void print_reports(const struct capture *c)
{
	for (int i = 0; i < c->n; i++)
		print_message("  %s:%u: %s\n", c->r[i].file, c->r[i].line, c->r[i].msg);
}

static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = NULL;
	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const uint8_t *wire(const char *name, uint8_t buf[KNOT_DNAME_MAXLEN])
{
	assert_non_null(knot_dname_from_str(buf, name, KNOT_DNAME_MAXLEN));
	knot_dname_to_lower(buf);
	return buf;
}

static const rr_t *find(const rrlist_t *list, const char *owner, uint16_t type)
{
	uint8_t w[KNOT_DNAME_MAXLEN];
	wire(owner, w);
	for (size_t i = 0; i < rrlist_count(list); i++) {
		const rr_t *rr = rrlist_at(list, i);
		if (rr->type == type && knot_dname_is_equal(rr->owner, w))
			return rr;
	}
	return NULL;
}

/* Loads text as zone example.com. from a fresh directory; reports go to cap. */
static int load_text(const char *text, rrlist_t **out, struct capture *cap)
{
	char *dir = test_tmpdir("zonefile");
	char *path = write_file(dir, "zone", text);
	int ret = zonefile_load(path, "example.com.", out, capture_fn, cap);
	free(path);
	test_rmtree(dir);
	return ret;
}

/* ---- load ---- */

static const char sample_zone[] =
	"$ORIGIN example.com.\n"
	"$TTL 300\n"
	"@ IN SOA ns1 hostmaster (\n"
	"\t2024010101 ; serial\n"
	"\t3600 900 604800 300 )\n"
	"\tIN NS ns1\n"
	"\tIN NS ns2.example.net.\n"
	"ns1 A 192.0.2.1\n"
	"www 60 IN A 192.0.2.2\n"
	"WWW.Example.COM. AAAA 2001:db8::1\n"
	"$INCLUDE sub.inc\n"
	"mail MX 10 mail\n"
	"t TYPE65000 \\# 3 abcdef\n"
	"$ORIGIN sub.example.com.\n"
	"host A 192.0.2.5\n";

static const char sample_inc[] =
	"a A 192.0.2.3\n"
	"b TXT \"hello world\"\n";

static void test_load_sample(void **state)
{
	char *dir = test_tmpdir("zonefile");
	char *path = write_file(dir, "example.com.zone", sample_zone);
	free(write_file(dir, "sub.inc", sample_inc));
	struct capture cap = { 0 };
	rrlist_t *list = NULL;
	assert_int_equal(zonefile_load(path, "example.com.", &list, capture_fn, &cap), TDM_OK);
	print_reports(&cap);
	assert_int_equal(cap.n, 0);
	assert_int_equal(rrlist_count(list), 11);

	const rr_t *soa = find(list, "example.com.", KNOT_RRTYPE_SOA);
	assert_non_null(soa);
	assert_int_equal(soa->ttl, 300);
	assert_int_equal(soa->line, 5);   /* a record over several lines: its last line */
	assert_non_null(find(list, "example.com.", KNOT_RRTYPE_NS));
	const rr_t *www = find(list, "www.example.com.", KNOT_RRTYPE_A);
	assert_non_null(www);
	assert_int_equal(www->ttl, 60);
	assert_int_equal(www->line, 9);
	assert_int_equal(www->rdlen, 4);
	assert_memory_equal(www->rdata, "\xc0\x00\x02\x02", 4);
	/* The owner was written in capitals: stored lowercase. */
	const rr_t *aaaa = find(list, "www.example.com.", KNOT_RRTYPE_AAAA);
	assert_non_null(aaaa);
	assert_memory_equal(aaaa->owner, "\x03www\x07" "example\x03" "com", 17);

	const rr_t *a = find(list, "a.example.com.", KNOT_RRTYPE_A);
	assert_non_null(a);
	assert_int_equal(a->line, 1);
	assert_int_equal(a->ttl, 300);
	const rr_t *txt = find(list, "b.example.com.", KNOT_RRTYPE_TXT);
	assert_non_null(txt);
	assert_int_equal(txt->rdlen, 12);
	assert_memory_equal(txt->rdata, "\x0bhello world", 12);

	const rr_t *mx = find(list, "mail.example.com.", KNOT_RRTYPE_MX);
	assert_non_null(mx);
	assert_int_equal(mx->rdlen, 2 + 18);
	assert_memory_equal(mx->rdata, "\x00\x0a\x04mail\x07" "example\x03" "com", 20);
	const rr_t *unknown = find(list, "t.example.com.", 65000);
	assert_non_null(unknown);
	assert_int_equal(unknown->rdlen, 3);
	assert_memory_equal(unknown->rdata, "\xab\xcd\xef", 3);
	assert_non_null(find(list, "host.sub.example.com.", KNOT_RRTYPE_A));

	rrlist_free(list);
	free(path);
	test_rmtree(dir);
}

static void test_load_syntax_errors(void **state)
{
	char *dir = test_tmpdir("zonefile");
	char *path = write_file(dir, "bad.zone",
		"$TTL 300\n"
		"@ SOA ns1 hostmaster 1 3600 900 604800 300\n"
		"www A 192.0.2\n"
		"@ NS ns1\n"
		"mail MX ten mail\n"
		"ns1 A 192.0.2.1\n"
		"$INCLUDE bad.inc\n");
	free(write_file(dir, "bad.inc", "ok A 192.0.2.7\nbroken AAAA not-an-address\n"));
	struct capture cap = { 0 };
	rrlist_t *list = (rrlist_t *)&cap;
	assert_int_equal(zonefile_load(path, "example.com.", &list, capture_fn, &cap), TDM_EPARSE);
	assert_null(list);
	print_reports(&cap);
	assert_int_equal(cap.n, 4);
	assert_true(reported(&cap, "bad.zone", 3, "invalid IPv4 address"));
	assert_true(reported(&cap, "bad.zone", 5, "invalid number"));
	assert_true(reported(&cap, "bad.inc", 2, "invalid address character"));
	assert_true(reported(&cap, "bad.zone", 7, ""));   /* the $INCLUDE that failed */
	free(path);
	test_rmtree(dir);
}

static void test_load_missing_include(void **state)
{
	struct capture cap = { 0 };
	rrlist_t *list = NULL;
	assert_int_equal(load_text("@ 300 SOA ns1 h 1 2 3 4 5\n$INCLUDE nowhere.inc\n", &list, &cap),
	                 TDM_EPARSE);
	print_reports(&cap);
	assert_int_equal(cap.n, 1);
	assert_true(reported(&cap, "zone", 2, "nowhere.inc"));
}

static void test_load_missing_file(void **state)
{
	struct capture cap = { 0 };
	rrlist_t *list = (rrlist_t *)&cap;
	assert_int_equal(zonefile_load("/nonexistent/x.zone", "example.com.", &list, capture_fn, &cap),
	                 TDM_ENOENT);
	assert_null(list);
	assert_int_equal(cap.n, 1);
	assert_true(reported(&cap, "x.zone", 0, "cannot open"));
}

/* Truncates the file named by the context on the first report it gets. */
struct truncating {
	const char *path;
	int reports;
	unsigned last_line;
};

static void truncate_fn(void *ctx, const char *file, unsigned line, const char *msg)
{
	struct truncating *t = ctx;
	if (t->reports++ == 0)
		assert_int_equal(truncate(t->path, 0), 0);
	t->last_line = line;
}

/*
 * Regression: the loader let libzscanner mmap the zone file, so a file truncated while it was parsed
 * (an editor or a deploy rewriting it in place) killed the server with SIGBUS on the next page read.
 * Here the file is cut to nothing from the error callback, right after its second line: the parse
 * must go on over what was read, to the error on its last line, and fail cleanly.
 */
static void test_load_truncated_while_parsed(void **state)
{
	char *dir = test_tmpdir("zonefile");
	char *path = write_file(dir, "zone", "");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("$TTL 300\n@ bogus-type-here\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n", f);
	const unsigned hosts = 40000;   /* about 1 MB: hundreds of pages past the cut */
	for (unsigned i = 0; i < hosts; i++)
		fprintf(f, "host%u A 192.0.2.%u\n", i, i % 250);
	fputs("@ another-bogus-type\n", f);
	assert_int_equal(fclose(f), 0);
	struct truncating t = { .path = path };
	rrlist_t *list = NULL;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* In a child: a SIGBUS there fails this test instead of ending the test run (and not
		 * caught by cmocka's handler, which would go on with the other tests in the child). */
		signal(SIGBUS, SIG_DFL);
		int ret = zonefile_load(path, "example.com.", &list, truncate_fn, &t);
		_exit(ret == TDM_EPARSE && list == NULL && t.reports == 2 && t.last_line == hosts + 5 ? 0
		                                                                                  : 1);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("the loader died of signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0);   /* it was cut */
	free(path);
	test_rmtree(dir);
}

static void test_load_out_of_zone(void **state)
{
	struct capture cap = { 0 };
	rrlist_t *list = NULL;
	assert_int_equal(load_text("$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n"
	                           "www.example.net. A 192.0.2.1\nexample.com.evil. A 192.0.2.2\n",
	                           &list, &cap), TDM_OK);
	print_reports(&cap);
	assert_int_equal(cap.n, 2);
	assert_true(reported(&cap, "zone", 4, "www.example.net. outside zone example.com."));
	assert_true(reported(&cap, "zone", 5, "example.com.evil. outside zone"));
	assert_int_equal(rrlist_count(list), 2);
	rrlist_free(list);
}

static void test_load_class(void **state)
{
	struct capture cap = { 0 };
	rrlist_t *list = NULL;
	assert_int_equal(load_text("$TTL 300\n@ SOA ns1 h 1 2 3 4 5\nwww CH A 192.0.2.1\n", &list, &cap),
	                 TDM_EPARSE);
	assert_int_equal(cap.n, 1);
	assert_true(reported(&cap, "zone", 3, ""));
}

static void test_load_empty(void **state)
{
	struct capture cap = { 0 };
	rrlist_t *list = NULL;
	assert_int_equal(load_text("", &list, &cap), TDM_OK);
	assert_int_equal(rrlist_count(list), 0);
	rrlist_free(list);
}

static void test_error_print(void **state)
{
	char *dir = test_tmpdir("zonefile");
	char *path = NULL;
	assert_true(asprintf(&path, "%s/stderr", dir) > 0);
	fflush(stderr);
	int saved = dup(2);
	FILE *f = fopen(path, "w+");
	assert_non_null(f);
	dup2(fileno(f), 2);
	zonefile_error_print(NULL, "a.zone", 12, "bad thing");
	zonefile_error_print(NULL, "a.zone", 0, "no line");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char buf[256] = { 0 };
	rewind(f);
	assert_true(fread(buf, 1, sizeof(buf) - 1, f) > 0);
	fclose(f);
	assert_string_equal(buf, "a.zone:12: bad thing\na.zone: no line\n");
	free(path);
	test_rmtree(dir);
}

/* ---- semantic checks ---- */

static const char clean_zone[] =
	"$ORIGIN example.com.\n"
	"$TTL 300\n"
	"@ SOA ns1 hostmaster 1 3600 900 604800 300\n"
	"@ NS ns1\n"
	"@ NS ns.example.net.\n"
	"ns1 A 192.0.2.1\n"
	"sub NS ns.sub\n"
	"sub NS ns.example.net.\n"
	"ns.sub AAAA 2001:db8::53\n"
	"www CNAME ns1\n"
	"www RRSIG CNAME 13 3 300 20300101000000 20240101000000 1 example.com. AAAA\n"
	"www NSEC x.example.com. CNAME RRSIG NSEC\n"
	"dn DNAME example.net.\n"
	"*.wild A 192.0.2.9\n";

/* Loads clean_zone plus extra lines, sorts, runs the checks; returns the check's result. */
static int check_text(const char *extra, struct capture *cap)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s%s", clean_zone, extra);
	struct capture load = { 0 };
	rrlist_t *list = NULL;
	int ret = load_text(text, &list, &load);
	print_reports(&load);
	assert_int_equal(ret, TDM_OK);
	assert_int_equal(rrlist_sort(list), TDM_OK);
	uint8_t apex[KNOT_DNAME_MAXLEN];
	ret = zonefile_check(list, NULL, wire("example.com.", apex), "zone", capture_fn, cap);
	print_reports(cap);
	rrlist_free(list);
	return ret;
}

static void test_check_clean(void **state)
{
	struct capture cap = { 0 };
	assert_int_equal(check_text("", &cap), TDM_OK);
	assert_int_equal(cap.n, 0);
}

static void expect_one(const char *extra, unsigned line, const char *msg)
{
	struct capture cap = { 0 };
	assert_int_equal(check_text(extra, &cap), TDM_ESEMCHECK);
	assert_int_equal(cap.n, 1);
	assert_true(reported(&cap, "zone", line, msg));
}

static void test_check_soa_not_at_apex(void **state)
{
	expect_one("ns1 SOA ns1 hostmaster 1 3600 900 604800 300\n", 15,
	           "SOA record at ns1.example.com., not at the zone apex");
}

static void test_check_two_soa(void **state)
{
	expect_one("@ SOA ns1 hostmaster 2 3600 900 604800 300\n", 15,
	           "more than one SOA record at the zone apex");
}

static void test_check_cname_beside_data(void **state)
{
	expect_one("www TXT \"oops\"\n", 10, "CNAME at www.example.com. beside other data (TXT)");
}

static void test_check_two_cnames(void **state)
{
	expect_one("www CNAME mail1\n", 15, "more than one CNAME at www.example.com.");
}

static void test_check_dname_children(void **state)
{
	expect_one("a.b.dn A 192.0.2.1\n", 13,
	           "DNAME at dn.example.com. has names below it (a.b.dn.example.com.)");
}

static void test_check_missing_glue(void **state)
{
	expect_one("sub NS ns2.sub\n", 15,
	           "missing glue for NS target ns2.sub.example.com. below delegation sub.example.com.");
}

/* Glue is judged at the delegation's own name: an address elsewhere does not count. */
static void test_check_glue_is_exact(void **state)
{
	expect_one("deep NS ns.deep\nns.deep.deep TXT \"not glue\"\nx.ns.deep A 192.0.2.1\n", 15,
	           "missing glue for NS target ns.deep.example.com. below delegation deep.example.com.");
}

static void test_check_no_soa_no_ns(void **state)
{
	struct capture cap = { 0 };
	rrlist_t *list = NULL;
	assert_int_equal(load_text("$TTL 300\nwww A 192.0.2.1\n", &list, &cap), TDM_OK);
	assert_int_equal(rrlist_sort(list), TDM_OK);
	uint8_t apex[KNOT_DNAME_MAXLEN];
	assert_int_equal(zonefile_check(list, NULL, wire("example.com.", apex), "zone", capture_fn, &cap),
	                 TDM_ESEMCHECK);
	print_reports(&cap);
	assert_int_equal(cap.n, 2);
	assert_true(reported(&cap, "zone", 0, "no SOA record at the zone apex"));
	assert_true(reported(&cap, "zone", 0, "no NS records at the zone apex"));
	rrlist_free(list);
}

/* The loader drops out-of-zone data, so this list is built by hand, as the API would. */
static void test_check_out_of_zone(void **state)
{
	struct capture cap = { 0 };
	rrlist_t *list = NULL;
	assert_int_equal(load_text(clean_zone, &list, &cap), TDM_OK);
	uint8_t owner[KNOT_DNAME_MAXLEN], apex[KNOT_DNAME_MAXLEN];
	assert_int_equal(rrlist_add(list, wire("www.example.net.", owner), KNOT_RRTYPE_A, 300,
	                            (const uint8_t *)"\xc0\x00\x02\x01", 4, 42), TDM_OK);
	assert_int_equal(rrlist_sort(list), TDM_OK);
	assert_int_equal(zonefile_check(list, NULL, wire("example.com.", apex), NULL, capture_fn, &cap),
	                 TDM_ESEMCHECK);
	print_reports(&cap);
	assert_int_equal(cap.n, 1);
	/* No file: the zone is named instead. */
	assert_true(reported(&cap, "example.com.", 42, "record www.example.net. outside zone example.com."));
	rrlist_free(list);
}

/* ---- dump ---- */

static const char full_zone[] =
	"$ORIGIN example.com.\n"
	"$TTL 3600\n"
	"@ SOA ns1 hostmaster 2024010101 3600 900 604800 300\n"
	"@ NS ns1\n"
	"@ NS ns2.example.net.\n"
	"@ MX 10 mail\n"
	"@ TXT \"v=spf1 -all\" \"second string\" \"with \\\"quotes\\\" and \\\\ backslash\" \"semi;colon\"\n"
	"@ CAA 0 issue \"letsencrypt.org\"\n"
	"@ DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n"
	"@ 300 RRSIG SOA 13 2 300 20300101000000 20240101000000 12345 example.com. "
	"oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o=\n"
	"@ NSEC a.example.com. NS SOA MX TXT RRSIG NSEC DNSKEY CAA\n"
	"ns1 A 192.0.2.1\n"
	"ns1 AAAA 2001:db8::1\n"
	"mail A 192.0.2.2\n"
	"mail 60 A 192.0.2.3\n"
	"www CNAME @\n"
	"_sip._tcp SRV 10 60 5060 sip\n"
	"sip A 192.0.2.4\n"
	"_443._tcp.www2 TLSA 3 1 1 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6\n"
	"host SSHFP 1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac\n"
	"host HINFO \"PC\" \"Linux\"\n"
	"host LOC 52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m\n"
	"host RP admin.example.com. txt.example.com.\n"
	"naptr NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com.\n"
	"svc HTTPS 1 . alpn=h2,h3 ipv4hint=192.0.2.5\n"
	"svc2 SVCB 0 svc\n"
	"*.wild A 192.0.2.9\n"
	"sub NS ns.sub\n"
	"ns.sub A 192.0.2.10\n"
	"sub DS 12345 13 2 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6\n"
	"dn DNAME example.net.\n"
	"t TYPE65000 \\# 3 abcdef\n"
	"empty TYPE65001 \\# 0\n"
	"weird\\.label\\032x A 192.0.2.11\n"
	"ptr PTR www\n"
	"spf SPF \"v=spf1 a -all\"\n";

static void assert_same(const rrlist_t *a, const rrlist_t *b)
{
	assert_int_equal(rrlist_count(a), rrlist_count(b));
	for (size_t i = 0; i < rrlist_count(a); i++) {
		const rr_t *x = rrlist_at(a, i), *y = rrlist_at(b, i);
		assert_true(knot_dname_is_equal(x->owner, y->owner));
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->ttl, y->ttl);
		assert_int_equal(x->rdlen, y->rdlen);
		if (x->rdlen > 0)
			assert_memory_equal(x->rdata, y->rdata, x->rdlen);
	}
}

static void run_checker(const char *dir, const char *cmd)
{
	char *line = NULL;
	assert_true(asprintf(&line, "PATH=\"$PATH:/usr/sbin:/sbin\"; cd '%s' && %s >out.txt 2>&1",
	                     dir, cmd) > 0);
	int status = system(line);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *show = NULL;
		assert_true(asprintf(&show, "cat '%s/out.txt' >&2", dir) > 0);
		print_message("%s failed:\n", cmd);
		assert_int_equal(system(show), 0);
		free(show);
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(line);
}

/* Knot 3.2 in Debian ships no kzonecheck; `knotc zone-check` runs the same loader and checks
 * without a server. */
static void check_with_knot(const char *dir)
{
	char *conf = NULL;
	assert_true(asprintf(&conf,
		"server:\n  rundir: %s\n"
		"database:\n  storage: %s\n"
		"zone:\n  - domain: example.com.\n    file: %s/dump.zone\n", dir, dir, dir) > 0);
	free(write_file(dir, "knot.conf", conf));
	free(conf);
	run_checker(dir, "knotc -c knot.conf zone-check example.com.");
}

static void test_dump_roundtrip(void **state)
{
	char *dir = test_tmpdir("zonefile");
	char *src = write_file(dir, "src.zone", full_zone);
	char *dst = NULL;
	assert_true(asprintf(&dst, "%s/dump.zone", dir) > 0);
	struct capture cap = { 0 };
	rrlist_t *a = NULL, *b = NULL;
	assert_int_equal(zonefile_load(src, "example.com.", &a, capture_fn, &cap), TDM_OK);
	print_reports(&cap);
	assert_int_equal(rrlist_sort(a), TDM_OK);
	assert_int_equal(rrlist_count(a), 34);
	uint8_t apex[KNOT_DNAME_MAXLEN];
	wire("example.com.", apex);
	assert_int_equal(zonefile_check(a, NULL, apex, src, capture_fn, &cap), TDM_OK);

	FILE *f = fopen(dst, "w");
	assert_non_null(f);
	assert_int_equal(zonefile_dump(a, apex, f), TDM_OK);
	assert_int_equal(fclose(f), 0);

	/* The SOA comes first and every name is absolute. */
	f = fopen(dst, "r");
	char first[512];
	assert_non_null(fgets(first, sizeof(first), f));
	fclose(f);
	assert_non_null(strstr(first, "SOA"));
	assert_true(strncmp(first, "example.com.", 12) == 0);

	assert_int_equal(zonefile_load(dst, "example.com.", &b, capture_fn, &cap), TDM_OK);
	print_reports(&cap);
	assert_int_equal(cap.n, 0);
	assert_int_equal(rrlist_sort(b), TDM_OK);
	assert_same(a, b);

	run_checker(dir, "named-checkzone -q example.com dump.zone");
	run_checker(dir, "nsd-checkzone example.com dump.zone");
	check_with_knot(dir);

	rrlist_free(a);
	rrlist_free(b);
	free(src);
	free(dst);
	test_rmtree(dir);
}

/* A record whose rdata is not valid for its type still dumps (RFC 3597 form) and reads back. */
static void test_dump_bad_rdata(void **state)
{
	rrlist_t *list = rrlist_new();
	assert_non_null(list);
	uint8_t owner[KNOT_DNAME_MAXLEN], apex[KNOT_DNAME_MAXLEN];
	assert_int_equal(rrlist_add(list, wire("x.example.com.", owner), KNOT_RRTYPE_A, 300,
	                            (const uint8_t *)"\x01\x02\x03", 3, 0), TDM_OK);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(zonefile_dump(list, wire("example.com.", apex), f), TDM_OK);
	fclose(f);
	assert_non_null(strstr(buf, "\\# 3 010203"));
	free(buf);
	rrlist_free(list);
}

/* ---- one parser for many files ---- */

/* Files that leave a scanner in every state they can: directives that change the origin and the
 * default TTL, NSEC bitmaps, long rdata, comments, a multiline record left open, bad lines. */
static const struct {
	const char *origin;
	const char *text;
} reuse_files[] = {
	{ "example.com.",
	  "$TTL 60\n"
	  "@ SOA ns1 hostmaster 1 3600 900 604800 300 ; a comment after a record\n"
	  "@ NS ns1\n"
	  "ns1 A 192.0.2.1\n"
	  "a NSEC b A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY TYPE65000 CAA\n"
	  "t TXT \"" "0123456789012345678901234567890123456789012345678901234567890123456789\" \"two\"\n"
	  "k DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n"
	  "$ORIGIN other.example.com.\n"
	  "h 7 A 192.0.2.7\n"
	  "$TTL 5\n"
	  "m MX 10 h\n"
	  "open SOA ns1 hostmaster ( 2 3600\n" },
	{ "b.test.",
	  "@ SOA ns1 hostmaster 1 3600 900 604800 300\n"
	  "@ NS ns1\n"
	  "ns1 A 192.0.2.2\n"
	  "a NSEC @ A\n"
	  "t TXT short\n"
	  "m MX 10 ns1\n" },
	{ "c.test",
	  "@ SOA ns1 hostmaster 1 3600 900 604800 300\n"
	  "bad A 300.1.1.1\n"
	  "x A 192.0.2.3\n"
	  "y A (\n"
	  "  192.0.2.4 )\n"
	  "z TXT \"unclosed\n" },
	{ "b.test.",
	  "@ SOA ns1 hostmaster 1 3600 900 604800 300\n"
	  "a NSEC @ A\n"
	  "w AAAA 2001:db8::1\n" },
};

static int parse_with(zonefile_parser_t *p, int i, rrlist_t **out, struct capture *cap)
{
	return zonefile_parse(p, "zone", reuse_files[i].text, strlen(reuse_files[i].text), reuse_files[i].origin,
	                      out, capture_fn, cap);
}

/* A parser reused from file to file reads each as a parser of its own would: same records (owner, type,
 * TTL, rdata, line), same errors. Nothing of a file before -- its $ORIGIN, $TTL, bitmap types, rdata,
 * an open multiline record or an error -- reaches the next. */
static void test_parser_reused_reads_as_fresh(void **state)
{
	zonefile_parser_t *reused = zonefile_parser_new();
	assert_non_null(reused);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < (int)(sizeof(reuse_files) / sizeof(reuse_files[0])); i++) {
			zonefile_parser_t *fresh = zonefile_parser_new();
			assert_non_null(fresh);
			rrlist_t *a = NULL, *b = NULL;
			struct capture ca = { 0 }, cb = { 0 };
			int ra = parse_with(reused, i, &a, &ca);
			int rb = parse_with(fresh, i, &b, &cb);
			zonefile_parser_free(fresh);
			assert_int_equal(ra, rb);
			assert_int_equal(ca.n, cb.n);
			for (int e = 0; e < ca.n; e++) {
				assert_int_equal(ca.r[e].line, cb.r[e].line);
				assert_string_equal(ca.r[e].msg, cb.r[e].msg);
			}
			if (rb != TDM_OK) {
				assert_true(cb.n > 0);   /* the files meant to fail do, with reports */
				continue;
			}
			assert_int_equal(rrlist_count(a), rrlist_count(b));
			for (size_t r = 0; r < rrlist_count(b); r++) {
				const rr_t *x = rrlist_at(a, r), *y = rrlist_at(b, r);
				assert_true(knot_dname_is_equal(x->owner, y->owner));
				assert_int_equal(x->type, y->type);
				assert_int_equal(x->ttl, y->ttl);
				assert_int_equal(x->line, y->line);
				assert_int_equal(x->rdlen, y->rdlen);
				assert_memory_equal(x->rdata, y->rdata, y->rdlen);
			}
			rrlist_free(a);
			rrlist_free(b);
		}
	}
	/* And what the files say, checked against the text itself: b.test. after example.com. */
	rrlist_t *l = NULL;
	struct capture c = { 0 };
	assert_int_equal(parse_with(reused, 1, &l, &c), TDM_OK);
	uint8_t w[KNOT_DNAME_MAXLEN];
	const rr_t *ns1 = NULL, *nsec = NULL;
	for (size_t r = 0; r < rrlist_count(l); r++) {
		const rr_t *x = rrlist_at(l, r);
		if (x->type == KNOT_RRTYPE_A)
			ns1 = x;
		if (x->type == KNOT_RRTYPE_NSEC)
			nsec = x;
	}
	assert_non_null(ns1);
	assert_true(knot_dname_is_equal(ns1->owner, wire("ns1.b.test.", w)));
	assert_int_equal(ns1->ttl, 3600);   /* the default, not the 5 the file before ended with */
	assert_non_null(nsec);
	/* "@ A": the next name b.test. (8 octets), then window 0 with only A's bit */
	assert_int_equal(nsec->rdlen, 8 + 3);
	assert_memory_equal(nsec->rdata + 8, "\x00\x01\x40", 3);
	rrlist_free(l);
	zonefile_parser_free(reused);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_sample),
		cmocka_unit_test(test_load_syntax_errors),
		cmocka_unit_test(test_load_missing_include),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_load_truncated_while_parsed),
		cmocka_unit_test(test_load_out_of_zone),
		cmocka_unit_test(test_load_class),
		cmocka_unit_test(test_load_empty),
		cmocka_unit_test(test_error_print),
		cmocka_unit_test(test_check_clean),
		cmocka_unit_test(test_check_soa_not_at_apex),
		cmocka_unit_test(test_check_two_soa),
		cmocka_unit_test(test_check_cname_beside_data),
		cmocka_unit_test(test_check_two_cnames),
		cmocka_unit_test(test_check_dname_children),
		cmocka_unit_test(test_check_missing_glue),
		cmocka_unit_test(test_check_glue_is_exact),
		cmocka_unit_test(test_check_no_soa_no_ns),
		cmocka_unit_test(test_check_out_of_zone),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_dump_bad_rdata),
		cmocka_unit_test(test_parser_reused_reads_as_fresh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
