/* runtime/tsigkeys.h -- TSIG keys made through the API: kept in the store, used like configured keys */
#pragma once

#include <stdint.h>

#include "runtime/runtime.h"

/*
 * A key made by POST /api/v1/keys. Each lives in its own allocation until it is deleted, so its
 * conf_key_t may be pointed at from zones the API makes (remotes' key, ACL keys) exactly like a key
 * of the configuration file; runconf_key() and the TSIG verification of requests (dispatch.c) know
 * both kinds. The configuration file cannot name these keys (conf_load knows only its own).
 */
typedef struct tsigkey {
	conf_key_t conf;           /* name (lowercase, absolute), algorithm, secret: as a configured key */
	tsig_key_t key;            /* made from conf; its secret is conf.secret */
	char *secret_b64;
	int64_t created;
	struct tsigkey *next;      /* the server's list (srv->tsigkeys), by name */
} tsigkey_t;

/* At start, after the store opened: the stored keys, then the running configuration made to know
 * them. A stored key whose name the configuration file also has is ignored (logged): the file wins. */
int tsigkeys_load(server_t *srv);

/* Gives a new runconf the API's keys (at start and at every reload). TDM_OK or TDM_ENOMEM. */
int tsigkeys_attach(server_t *srv, runconf_t *rc);

/* A key by name, of the configuration file or of the API, as a conf_key_t; NULL when none. For the
 * route modules that make zones: remotes and ACLs point at what this returns. Control thread. */
const conf_key_t *server_key_find(server_t *srv, const char *name);

/* The API key of that name (lowercase absolute name), or NULL. */
tsigkey_t *tsigkeys_find(server_t *srv, const char *name);

/* TSIG keys made through the API at most (docs/limits.md). */
#define TSIGKEYS_MAX 1000

/*
 * Makes a key (algorithm by name; secret NULL: random, as long as its MAC), stores it, publishes a
 * configuration that knows it. *out is the key (owned by the server). TDM_EEXIST (a key of that name
 * exists, in the file or the store), TDM_ENOENT (algorithm), TDM_EPARSE (name), TDM_EINVAL (secret
 * not base64, empty or over TSIG_SECRET_MAX octets), TDM_ESTORE, TDM_ENOMEM.
 */
int tsigkeys_create(server_t *srv, const char *name, const char *algorithm, const char *secret_b64,
                    tsigkey_t **out);

/*
 * Who uses the key (a zone's primaries, notify or ACL, a remote, an autoprimary): "zone example.com.
 * (primaries)" in user, or "" when nobody does.
 */
void tsigkeys_user(server_t *srv, const char *name, char *user, size_t cap);

/* Deletes an API key (the caller checked tsigkeys_user): unstored, unpublished, freed once no reader
 * can hold it (synchronize_rcu: not inside a read section). TDM_ENOENT, TDM_ESTORE. */
int tsigkeys_delete(server_t *srv, const char *name);

/* Frees the list (server_free). */
void tsigkeys_free(server_t *srv);
