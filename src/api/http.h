/* api/http.h -- the HTTP front of the API: a small HTTP/1.1 server, the API key, JSON replies, paths split */
#pragma once

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>

#include "lib/sockaddr.h"

#define API_PATH_MAX 8
#define API_KEY_MAX 511          /* octets of an API key; `tandem` sends at most this much too */

/* One request, already authenticated. */
typedef struct {
	const char *method;            /* "GET", "POST", ... */
	const char *segments[API_PATH_MAX];   /* the path after /api/v1/, split at '/', decoded */
	int nsegments;
	const char *body;              /* NUL-terminated (may be empty) */
	size_t body_len;
} api_request_t;

/* What the handler answers: a status and a JSON body (the reply takes the reference). */
typedef struct {
	int status;
	json_t *body;
} api_reply_t;

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
 * over limits->max_body); paths outside /api/v1/ get 404; the rest go to handler. Every error is a
 * JSON object {"error": "..."}. Returns TDM_OK and *out, or an error (logged).
 */
int api_start(struct event_base *base, const sockaddr_t *listen, const char *key_file,
              const api_limits_t *limits, api_handler_fn handler, void *ctx, api_t **out);
void api_free(api_t *api);

/* Fills reply with {"error": message} and status. */
void api_error(api_reply_t *reply, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));   /* checked formats, as log_msg */
