/* api/apikeys.h -- named API keys: read or write, optionally limited to zones; kept hashed in the store */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "api/http.h"
#include "runtime/runtime.h"

/*
 * The key of http.api-key-file is "admin" (api/http.c). The others are made by POST /api/v1/apikeys:
 * a random key shown once, stored only as HMAC-SHA256 under a fixed label (a keyed SHA-256: the
 * store never holds a key that could be shown). The HTTP layer asks apikeys_auth for every request
 * whose key is not the admin's, before reading any body: one HMAC and a constant-time comparison
 * per stored key. Control thread only (the API's loop), so no lock.
 */

/* At start, after the store opened: the stored keys, and the HTTP layer told to ask them. */
int apikeys_load(server_t *srv);

/* The api_auth_fn for api_set_auth: ctx is the server. */
bool apikeys_auth(void *ctx, const char *key, api_principal_t *p);

/* API keys made through the API at most (docs/limits.md). */
#define APIKEYS_MAX 1000

/*
 * Makes a key. name: 1 to API_KEY_NAME_MAX of [A-Za-z0-9._-], not "admin"; zones: a JSON array of
 * zone names or NULL (every zone). The key itself is written to key (cap >= 65). TDM_EEXIST,
 * TDM_EINVAL (name), TDM_EPARSE (a zone name, its index in *bad), TDM_ESTORE, TDM_ENOMEM.
 */
int apikeys_create(server_t *srv, const char *name, bool write, const json_t *zones, char *key,
                   size_t cap, size_t *bad);

/* TDM_ENOENT when no key has that name. */
int apikeys_delete(server_t *srv, const char *name);

/* {"apikeys": [{"name", "scope", "zones" (array or null), "created"}]}, the admin key first. */
json_t *apikeys_json(server_t *srv);

/* One key as in that list; NULL when none. */
json_t *apikeys_one_json(server_t *srv, const char *name);

void apikeys_free(server_t *srv);
