/* store/keys.c -- keys made through the API: TSIG keys and named API keys, kept across restarts */
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "store/keys.h"
#include "store/store_impl.h"

/*
 * These tables change a few times in a server's life, so each call prepares its statement instead of
 * holding one in st->q (the zone paths' table). Calls take the store's lock like every other; a
 * batch open on this thread (the lock is recursive) simply includes them.
 */

static int prepare(store_t *st, const char *sql, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK)
		return store_fail(st, NULL, "preparing a key statement");
	return TDM_OK;
}

/* Runs an INSERT; a UNIQUE conflict is TDM_EEXIST. Finalizes s. */
static int run_insert(store_t *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	int ext = sqlite3_extended_errcode(st->db);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return TDM_OK;
	if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
		return TDM_EEXIST;
	return store_fail(st, NULL, what);
}

static int run_delete(store_t *st, const char *sql, const char *name, const char *what)
{
	sqlite3_stmt *s;
	pthread_mutex_lock(&st->lock);
	int ret = prepare(st, sql, &s);
	if (ret == TDM_OK) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			ret = store_fail(st, NULL, what);
		else if (sqlite3_changes(st->db) == 0)
			ret = TDM_ENOENT;
	}
	pthread_mutex_unlock(&st->lock);
	return ret;
}

static char *column_dup(sqlite3_stmt *s, int col, bool *oom)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	if (t == NULL)
		return NULL;
	char *d = strdup((const char *)t);
	if (d == NULL)
		*oom = true;
	return d;
}

int store_tsig_key_add(store_t *st, const store_tsig_key_t *key)
{
	sqlite3_stmt *s;
	pthread_mutex_lock(&st->lock);
	int ret = prepare(st, "INSERT INTO tsig_key (name, algorithm, secret, created) "
	                      "VALUES (?, ?, ?, ?)", &s);
	if (ret == TDM_OK) {
		sqlite3_bind_text(s, 1, key->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, key->algorithm, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, key->secret, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, key->created);
		ret = run_insert(st, s, "storing a TSIG key");
	}
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int store_tsig_key_delete(store_t *st, const char *name)
{
	return run_delete(st, "DELETE FROM tsig_key WHERE name = ?", name, "deleting a TSIG key");
}

void store_tsig_keys_free(store_tsig_key_t *keys, size_t count)
{
	for (size_t i = 0; keys != NULL && i < count; i++) {
		free(keys[i].name);
		free(keys[i].algorithm);
		free(keys[i].secret);
	}
	free(keys);
}

int store_tsig_key_list(store_t *st, store_tsig_key_t **out, size_t *count)
{
	sqlite3_stmt *s;
	store_tsig_key_t *list = NULL;
	size_t n = 0, cap = 0;
	bool oom = false;
	int rc = SQLITE_DONE;
	pthread_mutex_lock(&st->lock);
	int ret = prepare(st, "SELECT name, algorithm, secret, created FROM tsig_key ORDER BY name", &s);
	while (ret == TDM_OK && !oom && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			store_tsig_key_t *g = realloc(list, ncap * sizeof(*g));
			if (g == NULL) {
				oom = true;
				break;
			}
			list = g;
			cap = ncap;
		}
		store_tsig_key_t *k = &list[n++];
		k->name = column_dup(s, 0, &oom);
		k->algorithm = column_dup(s, 1, &oom);
		k->secret = column_dup(s, 2, &oom);
		k->created = sqlite3_column_int64(s, 3);
	}
	if (ret == TDM_OK) {
		sqlite3_finalize(s);
		if (oom)
			ret = TDM_ENOMEM;
		else if (rc != SQLITE_DONE)
			ret = store_fail(st, NULL, "listing TSIG keys");
	}
	pthread_mutex_unlock(&st->lock);
	if (ret != TDM_OK) {
		store_tsig_keys_free(list, n);
		return ret;
	}
	*out = list;
	*count = n;
	return TDM_OK;
}

int store_apikey_add(store_t *st, const store_apikey_t *key)
{
	sqlite3_stmt *s;
	pthread_mutex_lock(&st->lock);
	int ret = prepare(st, "INSERT INTO api_key (name, scope, zones, hash, created) "
	                      "VALUES (?, ?, ?, ?, ?)", &s);
	if (ret == TDM_OK) {
		sqlite3_bind_text(s, 1, key->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, key->write ? "write" : "read", -1, SQLITE_STATIC);
		if (key->zones != NULL)
			sqlite3_bind_text(s, 3, key->zones, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 3);
		sqlite3_bind_text(s, 4, key->hash, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, key->created);
		ret = run_insert(st, s, "storing an API key");
	}
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int store_apikey_delete(store_t *st, const char *name)
{
	return run_delete(st, "DELETE FROM api_key WHERE name = ?", name, "deleting an API key");
}

void store_apikeys_free(store_apikey_t *keys, size_t count)
{
	for (size_t i = 0; keys != NULL && i < count; i++) {
		free(keys[i].name);
		free(keys[i].zones);
		free(keys[i].hash);
	}
	free(keys);
}

int store_apikey_list(store_t *st, store_apikey_t **out, size_t *count)
{
	sqlite3_stmt *s;
	store_apikey_t *list = NULL;
	size_t n = 0, cap = 0;
	bool oom = false;
	int rc = SQLITE_DONE;
	pthread_mutex_lock(&st->lock);
	int ret = prepare(st, "SELECT name, scope, zones, hash, created FROM api_key ORDER BY name", &s);
	while (ret == TDM_OK && !oom && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			store_apikey_t *g = realloc(list, ncap * sizeof(*g));
			if (g == NULL) {
				oom = true;
				break;
			}
			list = g;
			cap = ncap;
		}
		store_apikey_t *k = &list[n++];
		k->name = column_dup(s, 0, &oom);
		const unsigned char *scope = sqlite3_column_text(s, 1);
		k->write = scope != NULL && strcmp((const char *)scope, "write") == 0;
		k->zones = column_dup(s, 2, &oom);
		k->hash = column_dup(s, 3, &oom);
		k->created = sqlite3_column_int64(s, 4);
	}
	if (ret == TDM_OK) {
		sqlite3_finalize(s);
		if (oom)
			ret = TDM_ENOMEM;
		else if (rc != SQLITE_DONE)
			ret = store_fail(st, NULL, "listing API keys");
	}
	pthread_mutex_unlock(&st->lock);
	if (ret != TDM_OK) {
		store_apikeys_free(list, n);
		return ret;
	}
	*out = list;
	*count = n;
	return TDM_OK;
}
