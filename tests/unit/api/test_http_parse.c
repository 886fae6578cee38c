/* tests/unit/api/test_http_parse.c -- request heads: where they end, what they say, what is refused */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_parse.h"

static api_head_t head;

static size_t end_of(const char *text)
{
	size_t scanned = 0;
	return api_head_end(text, strlen(text), &scanned);
}

static void test_head_end(void **state)
{
	assert_int_equal(end_of("GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY"), 27);
	assert_int_equal(end_of("GET / HTTP/1.1\nHost: x\n\nBODY"), 24);
	assert_int_equal(end_of("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 22);   /* empty lines first */
	assert_int_equal(end_of("GET / HTTP/1.1\r\nHost: x\r\n"), 0);
	assert_int_equal(end_of(""), 0);
	/* An octet at a time gives the same end, searching each octet once. */
	const char *text = "POST /api/v1/x HTTP/1.1\r\nX-API-Key: k\r\nContent-Length: 2\r\n\r\n{}";
	size_t scanned = 0, end = 0;
	for (size_t n = 1; n <= strlen(text) && end == 0; n++)
		end = api_head_end(text, n, &scanned);
	assert_int_equal(end, strlen(text) - 2);
}

static int parse(const char *text)
{
	return api_head_parse(&head, text, strlen(text));
}

static void test_parse_good(void **state)
{
	assert_int_equal(parse("POST /api/v1/zones/a%2Eb HTTP/1.1\r\nHost: x\r\nx-api-key:  k3y \r\n"
	                       "Content-Length: 12\r\nConnection: Keep-Alive, Upgrade\r\n"
	                       "EXPECT: 100-Continue\r\n\r\n"), 0);
	assert_string_equal(head.method, "POST");
	assert_string_equal(head.target, "/api/v1/zones/a%2Eb");
	assert_int_equal(head.minor, 1);
	assert_string_equal(head.api_key, "k3y");
	assert_true(head.has_length);
	assert_int_equal(head.content_length, 12);
	assert_true(head.keep_alive);
	assert_true(head.expect_continue);
	assert_false(head.transfer_coding);

	assert_int_equal(parse("GET / HTTP/1.0\n\n"), 0);
	assert_false(head.keep_alive);        /* 1.0 closes unless asked */
	assert_null(head.api_key);
	assert_int_equal(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), 0);
	assert_false(head.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"), 0);

	/* The key as a bearer token (Prometheus's `authorization`); other schemes are not a key. */
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nAuthorization: bearer  t0k\r\n\r\n"), 0);
	assert_string_equal(head.api_key, "t0k");
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nAuthorization: Basic dTpw\r\n\r\n"), 0);
	assert_null(head.api_key);
}

static void test_parse_refused(void **state)
{
	static const struct {
		const char *text;
		int status;
	} cases[] = {
		{ "GARBAGE\r\n\r\n", 400 },
		{ "GET /  HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1 x\r\n\r\n", 400 },
		{ "G(T / HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/2.0\r\n\r\n", 505 },
		{ "GET / HTTP/1.10\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nX-API-Key: a\r\nX-API-Key: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nX-API-Key: a\r\nAuthorization: Bearer a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nAuthorization: Bearer a\r\nX-API-Key: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\x01" "b\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n\rX: y\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nno colon\r\n\r\n", 400 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = parse(cases[i].text);
		if (got != cases[i].status)
			fail_msg("case %zu: %d, expected %d", i, got, cases[i].status);
		assert_non_null(head.error);
	}
	assert_int_equal(api_head_parse(&head, "GET / HTTP/1.1\r\n\0\r\n\r\n", 20), 400);
	/* More header fields than API_HEADER_COUNT_MAX: 431. */
	char text[API_HEADER_MAX];
	size_t o = (size_t)sprintf(text, "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= API_HEADER_COUNT_MAX; i++)
		o += (size_t)sprintf(text + o, "X%d: y\r\n", i);
	sprintf(text + o, "\r\n");
	assert_int_equal(parse(text), 431);
}

static void test_target_path(void **state)
{
	char out[64];
	assert_true(api_target_path("/api/v1/zones/example.com?x=1#f", out, sizeof(out)));
	assert_string_equal(out, "/api/v1/zones/example.com");
	assert_true(api_target_path("/a%2Fb%41", out, sizeof(out)));
	assert_string_equal(out, "/a/bA");
	assert_false(api_target_path("/a%00b", out, sizeof(out)));
	assert_false(api_target_path("/a%4", out, sizeof(out)));
	assert_false(api_target_path("/a%zz", out, sizeof(out)));
	assert_false(api_target_path("http://x/a", out, sizeof(out)));
	assert_false(api_target_path("/0123456789", out, 8));   /* does not fit: refused, not cut */
}

static void test_query(void **state)
{
	(void)state;
	char v[16];
	assert_null(api_target_query("/api/v1/zones"));
	const char *q = api_target_query("/api/v1/zones/x/records?name=www&type=A&q=a%20b+c&flag&x=%00");
	assert_string_equal(q, "name=www&type=A&q=a%20b+c&flag&x=%00");
	assert_int_equal(api_query_get(q, "name", v, sizeof(v)), 1);
	assert_string_equal(v, "www");
	assert_int_equal(api_query_get(q, "q", v, sizeof(v)), 1);
	assert_string_equal(v, "a b c");
	assert_int_equal(api_query_get(q, "flag", v, sizeof(v)), 1);
	assert_string_equal(v, "");
	assert_int_equal(api_query_get(q, "nam", v, sizeof(v)), 0);
	assert_int_equal(api_query_get(q, "x", v, sizeof(v)), -1);      /* a NUL escape */
	assert_int_equal(api_query_get("a=%4", "a", v, sizeof(v)), -1);  /* cut short */
	assert_int_equal(api_query_get("a=0123456789abcdef", "a", v, sizeof(v)), -1);   /* too long */
	assert_int_equal(api_query_get("a=1&a=2", "a", v, sizeof(v)), 1);
	assert_string_equal(v, "1");
	assert_int_equal(api_query_get(NULL, "a", v, sizeof(v)), 0);
	/* a '?' after a '#' starts no query */
	assert_null(api_target_query("/x#frag?a=1"));
}

static void test_if_match(void **state)
{
	(void)state;
	static api_head_t h;
	const char *ok = "PATCH /x HTTP/1.1\r\nIf-Match: \"5-abc\"\r\nContent-Type: application/json\r\n\r\n";
	assert_int_equal(api_head_parse(&h, ok, strlen(ok)), 0);
	assert_string_equal(h.if_match, "\"5-abc\"");
	assert_string_equal(h.content_type, "application/json");
	const char *twice = "PATCH /x HTTP/1.1\r\nIf-Match: \"a\"\r\nIf-Match: \"b\"\r\n\r\n";
	assert_int_equal(api_head_parse(&h, twice, strlen(twice)), 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_end),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_target_path),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_if_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
