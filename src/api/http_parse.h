/* api/http_parse.h -- an HTTP/1.1 request head read from octets (RFC 9112): bounded, no I/O, no allocation */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The API server (api/http.c) reads a request's head, decides from it alone -- the API key above all --
 * and only then reads a body. Everything here works on one contiguous copy of the head, at most
 * API_HEADER_MAX octets, so a client costs at most that much before it has shown the key.
 */
#define API_HEADER_MAX 8192      /* request line and headers, blank line included: more is 431 */
#define API_HEADER_COUNT_MAX 64  /* header fields: more is 431 */

/* A parsed head. The strings point into buf, which holds the head, cut into NUL-terminated pieces. */
typedef struct {
	const char *method;          /* as sent ("GET") */
	const char *target;          /* the request-target, as sent ("/api/v1/status?x") */
	int minor;                   /* HTTP/1.minor */
	const char *api_key;         /* the X-API-Key value (or an Authorization: Bearer token), NULL
	                              * when absent */
	const char *if_match;        /* the If-Match value, NULL when absent */
	const char *content_type;    /* the Content-Type value, NULL when absent */
	uint64_t content_length;     /* 0 when absent */
	bool has_length;             /* a Content-Length was given */
	bool transfer_coding;        /* a Transfer-Encoding was given (we take none: 411) */
	bool keep_alive;             /* HTTP/1.1 without "Connection: close", or 1.0 with keep-alive */
	bool expect_continue;        /* "Expect: 100-continue" */
	const char *error;           /* why the head was refused (for the JSON error) */
	char buf[API_HEADER_MAX + 1];
} api_head_t;

/*
 * How long the head at the start of data is, blank line included, or 0 while it is not complete.
 * Empty lines before the request line are part of it (RFC 9112 2.2 asks servers to skip one); a bare
 * LF ends a line as CRLF does. *scanned keeps where the search stopped, so that a head arriving an
 * octet at a time is not searched from the start each time (start with 0).
 */
size_t api_head_end(const char *data, size_t len, size_t *scanned);

/*
 * Parses the head data[0..len) (len from api_head_end, at most API_HEADER_MAX). Returns 0, or the
 * HTTP status to refuse it with, h->error saying why: 400 (syntax, a control character, a header
 * twice that must be once, a bad Content-Length), 431 (more than API_HEADER_COUNT_MAX fields) or 505
 * (not HTTP/1.x).
 */
int api_head_parse(api_head_t *h, const char *data, size_t len);

/*
 * The path of a request-target ("/a%2Fb/c?q" -> "/a/b/c": query and fragment dropped, %XX decoded)
 * into out (cap octets). false when it is not an absolute path, holds a bad or a NUL escape, or does
 * not fit.
 */
bool api_target_path(const char *target, char *out, size_t cap);

/* The query of a request-target ("/a?x=1&y=2" -> "x=1&y=2", fragment dropped by the caller's use), or
 * NULL when it has none. */
const char *api_target_query(const char *target);

/*
 * Parameter `name` of a query ("x=1&y=a%20b"): its value, %XX and '+' decoded, into out (cap octets).
 * Returns 1 when found, 0 when absent (out is ""), -1 when its value is malformed or does not fit (a
 * NUL escape included). A parameter given without '=' has the value "". The first occurrence counts.
 */
int api_query_get(const char *query, const char *name, char *out, size_t cap);
