/* cli/http.h -- a small blocking HTTP/1.1 client for the API: one request per connection, bounded sizes */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/sockaddr.h"

#define CLI_HTTP_HEAD_MAX 16384              /* status line and headers of a reply */
#define CLI_HTTP_BODY_MAX (64u * 1024 * 1024)  /* a reply body: tens of thousands of zones fit */
#define CLI_HTTP_REQUEST_MAX 4096            /* a request without its body */

typedef struct {
	const char *method;          /* "GET", "POST" */
	const char *path;            /* "/api/v1/zones", already percent-encoded */
	const char *host;            /* Host header value ("127.0.0.1:8053") */
	const char *api_key;         /* X-API-Key; NULL = none */
	const char *body;            /* NULL = none (Content-Length: 0) */
	size_t body_len;
	const char *content_type;    /* of the body; NULL = application/json */
	const char *if_match;        /* If-Match header; NULL = none */
} cli_http_request_t;

#define CLI_HTTP_ETAG_MAX 128

typedef struct {
	int status;                  /* 200, 401, ... */
	char *body;                  /* NUL-terminated (the NUL not counted); free with cli_http_reply_free */
	size_t body_len;
	char etag[CLI_HTTP_ETAG_MAX]; /* the ETag header, "" when none (or too long) */
} cli_http_reply_t;

/* What the head of a reply says. */
typedef struct {
	int status;
	size_t head_len;             /* octets up to and including the empty line */
	bool has_length;
	size_t content_length;       /* when has_length (may exceed CLI_HTTP_BODY_MAX: checked later) */
	bool chunked;                /* Transfer-Encoding ends in chunked: this wins over Content-Length */
	char etag[CLI_HTTP_ETAG_MAX];
} cli_http_head_t;

/*
 * Writes a request head (and body) into out: request line, Host, X-API-Key, Accept, Content-Type when a
 * body is given, Content-Length, Connection: close. Returns its length, TDM_EINVAL when a field holds
 * CR, LF or other control characters (no header injection through a key file), or TDM_ESPACE.
 */
int cli_http_build(const cli_http_request_t *req, char *out, size_t cap);

/*
 * Parses the head of a reply from buf[0..len): "HTTP/1.x NNN reason", then headers up to the empty line
 * (lines end in CRLF or LF). Returns TDM_OK, TDM_EAGAIN when the empty line has not arrived yet, or
 * TDM_EMALF (no HTTP status line, a bad header line, a bad or conflicting Content-Length).
 */
int cli_http_parse_head(const char *buf, size_t len, cli_http_head_t *h);

/*
 * Decodes a chunked body (RFC 9112 7.1) from buf[0..len). With out NULL it only checks: TDM_OK once
 * the last chunk and the trailers have arrived, TDM_EAGAIN before. With out (which may be buf: the data
 * only moves backwards) it writes the data and its length to *out_len. TDM_EMALF for a bad chunk size
 * or a chunk not followed by CRLF; TDM_ESPACE when the data passes CLI_HTTP_BODY_MAX.
 */
int cli_http_dechunk(char *buf, size_t len, char *out, size_t *out_len);

/*
 * Connects to server, sends the request and reads the whole reply, all within timeout_s seconds.
 * Returns TDM_OK with *reply filled (any status), TDM_ECONNREFUSED, TDM_ETIMEDOUT, -EPIPE (closed
 * before the reply was complete), TDM_EMALF (not HTTP), TDM_ESPACE (reply too large), TDM_EINVAL
 * (a request field holds control characters), TDM_ENOMEM or another negated errno.
 */
int cli_http_request(const sockaddr_t *server, const cli_http_request_t *req, unsigned timeout_s,
                     cli_http_reply_t *reply);

/* Frees the body; the reply may be reused. */
void cli_http_reply_free(cli_http_reply_t *reply);
