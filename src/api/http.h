/* api/http.h -- the HTTP front of the API: libevent's evhttp, the API key, JSON replies, paths split */
#pragma once

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>

#include "lib/sockaddr.h"

#define API_PATH_MAX 8

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

/*
 * Serves the API on `listen` from the event loop `base` (its thread runs every handler). The key is
 * read from key_file, which is created with a random key (mode 0600) when missing. Requests without
 * the right X-API-Key get 401; paths outside /api/v1/ get 404; the rest go to handler.
 * Returns TDM_OK and *out, or an error (logged).
 */
int api_start(struct event_base *base, const sockaddr_t *listen, const char *key_file,
              api_handler_fn handler, void *ctx, api_t **out);
void api_free(api_t *api);

/* Fills reply with {"error": message} and status. */
void api_error(api_reply_t *reply, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));   /* checked formats, as log_msg */
