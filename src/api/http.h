/* api/http.h -- the HTTP front of the API: a small HTTP/1.1 server, the API key, JSON replies, paths split */
#pragma once

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/sockaddr.h"

#define API_PATH_MAX 8
#define API_KEY_MAX 511          /* octets of an API key; `tandem` sends at most this much too */

#define API_KEY_NAME_MAX 63    /* octets of an API key's name */
#define API_ETAG_MAX 95         /* octets of an ETag, quotes included */

/*
 * Who sent a request: the API key it showed, by name. The key in http.api-key-file is "admin": it may
 * read and write everything. Other keys come from the server's own callback (api_set_auth).
 */
typedef struct {
	char name[API_KEY_NAME_MAX + 1];
	bool write;                    /* may change things (any method but GET) */
	char *zones;                   /* NULL: every zone; else the zones it may touch, each between
	                                * spaces (" a.example. b.example. "), lowercase; malloc'ed */
} api_principal_t;

/* true when p may touch zone (textual, lowercase, with the trailing dot). */
bool api_principal_zone_ok(const api_principal_t *p, const char *zone);

/* One request, already authenticated. */
typedef struct {
	const char *method;            /* "GET", "POST", ... */
	const char *segments[API_PATH_MAX];   /* the path after /api/v1/, split at '/', decoded;
	                                       * for /metrics: the one segment "metrics", with .metrics */
	int nsegments;
	bool metrics;                  /* the request is for /metrics (outside /api/v1/) */
	const char *query;             /* the raw query after '?', NULL when none: api_query_get */
	const char *if_match;          /* the If-Match header, NULL when absent */
	const char *content_type;      /* the Content-Type header, NULL when absent */
	const api_principal_t *principal;
	const char *peer;              /* "address@port" of the client */
	const char *body;              /* NUL-terminated (may be empty) */
	size_t body_len;
	void *conn;                    /* the connection (api_reply_later); not for handlers */
} api_request_t;

/*
 * What the handler answers: a status and a JSON body (the reply takes the reference), or a text body
 * (text, malloc'ed, taken by the reply, with its content_type) when text is not NULL. An etag that is
 * not empty is sent as the ETag header (give it with its quotes).
 */
typedef struct {
	int status;
	json_t *body;
	char *text;
	size_t text_len;
	const char *content_type;      /* for text; a static string */
	char etag[API_ETAG_MAX + 1];
	bool later;                    /* set by api_reply_later: nothing is sent now */
	const char *headers;           /* NULL, or more header lines, each ending in CRLF; a static
	                                * string (the console's Content-Security-Policy) */
} api_reply_t;

/*
 * Static files (the web console): GET and HEAD of paths outside /api/v1/ and /metrics, without a key
 * and without a body. Fills reply->text and content_type (and headers, when it has more to say), or
 * answers 404. The path is decoded.
 */
typedef void (*api_static_fn)(void *ctx, const char *path, api_reply_t *reply);

/* A key other than the admin key: fills *p and returns true when `key` is one the server knows. */
typedef bool (*api_auth_fn)(void *ctx, const char *key, api_principal_t *p);

typedef void (*api_handler_fn)(void *ctx, const api_request_t *req, api_reply_t *reply);

typedef struct api api_t;

/* The bounds on what clients may take (http.* in the configuration). */
typedef struct {
	unsigned max_clients;          /* connections at once; the next ones get 503 */
	size_t max_body;               /* octets of a request body; more is 413 */
	unsigned timeout;              /* seconds for a request to arrive whole, a reply to be taken,
	                                * and a kept-alive connection to stay idle */
} api_limits_t;

#define API_LIMITS_DEFAULT { .max_clients = 64, .max_body = 1024 * 1024, .timeout = 10 }

/*
 * Serves the API on `listen` from the event loop `base` (its thread runs every handler). The key is
 * read from key_file, which is created with a random key (mode 0600) when missing; a key file that
 * its group or others may read or write is refused, as is a key longer than API_KEY_MAX octets or
 * holding spaces or control characters. For each request, the head alone decides first: no right
 * X-API-Key is 401 before any body is read; then 405 (method), 411 (a transfer coding), 413 (body
 * over limits->max_body); /metrics and paths under /api/v1/ go to handler; other GET and HEAD
 * paths to the static files (without a key), the rest get 404. Every error is a
 * JSON object {"error": "..."}. Returns TDM_OK and *out, or an error (logged).
 */
int api_start(struct event_base *base, const sockaddr_t *listen, const char *key_file,
              const api_limits_t *limits, api_handler_fn handler, void *ctx, api_t **out);
void api_free(api_t *api);

/* Optional: other API keys (auth) and static files (files); NULL turns either off. */
void api_set_auth(api_t *api, api_auth_fn auth);
void api_set_static(api_t *api, api_static_fn files);

/*
 * A reply that comes later (work done off the loop, e.g. the lookup tool): the handler calls this
 * and returns with reply untouched but for reply->later; the connection reads nothing more until
 * api_reply_now(later, r) -- on the loop's thread, exactly once -- sends r (taking its body or text).
 * When the client went away meanwhile, api_reply_now just frees. NULL when out of memory (reply
 * then answers at once, as usual).
 */
typedef struct api_later api_later_t;
api_later_t *api_reply_later(const api_request_t *req, api_reply_t *reply);
void api_reply_now(api_later_t *later, api_reply_t *r);

/* Fills reply with {"error": message} and status. */
void api_error(api_reply_t *reply, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));   /* checked formats, as log_msg */
