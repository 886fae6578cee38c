/* store/keys.h -- keys made through the API: TSIG keys and named API keys, kept across restarts */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/*
 * TSIG keys made by POST /api/v1/keys (table tsig_key) and API keys made by POST /api/v1/apikeys
 * (table api_key). The store only keeps them; api/apikeys.c and runtime/tsigkeys.c decide what they
 * mean. Names are given as the caller keeps them (TSIG: lowercase absolute text; API keys: as given).
 * Every call returns TDM_OK or TDM_ESTORE (logged), plus the codes each says.
 */

typedef struct {
	char *name;
	char *algorithm;        /* "hmac-sha256" */
	char *secret;           /* base64, as in a configuration file */
	int64_t created;        /* unix time */
} store_tsig_key_t;

typedef struct {
	char *name;
	bool write;             /* scope "write" (else "read") */
	char *zones;            /* NULL: every zone; else " a.example. b.example. " (lowercase) */
	char *hash;             /* SHA-256 of the key, 64 hex digits */
	int64_t created;
} store_apikey_t;

/* TDM_EEXIST when a key of that name is stored already. */
int store_tsig_key_add(store_t *store, const store_tsig_key_t *key);
/* TDM_ENOENT when none of that name is stored. */
int store_tsig_key_delete(store_t *store, const char *name);
/* Every stored key, by name; free with store_tsig_keys_free. */
int store_tsig_key_list(store_t *store, store_tsig_key_t **out, size_t *count);
void store_tsig_keys_free(store_tsig_key_t *keys, size_t count);

int store_apikey_add(store_t *store, const store_apikey_t *key);          /* TDM_EEXIST */
int store_apikey_delete(store_t *store, const char *name);                /* TDM_ENOENT */
int store_apikey_list(store_t *store, store_apikey_t **out, size_t *count);
void store_apikeys_free(store_apikey_t *keys, size_t count);
