/* store/apizone.c -- the zones made through the API: one row per zone with its settings as JSON */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lib/error.h"
#include "store/store.h"
#include "store/store_impl.h"

/*
 * Statements are prepared per call: these run once per API call that makes, changes or deletes a
 * zone, and at start, so they stay out of the hot statement table. Each runs under the store's lock,
 * in a transaction of its own or as a savepoint of the batch its thread holds.
 */

static int run(store_t *st, const char *zone, const char *sql, const char *settings,
               int64_t created, const char *what)
{
	sqlite3_stmt *s = NULL;
	pthread_mutex_lock(&st->lock);
	int ret = store_tx_begin(st, true, zone);
	if (ret == TDM_OK && sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		ret = store_fail(st, zone, what);
	if (ret == TDM_OK) {
		sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
		if (settings != NULL) {
			sqlite3_bind_text(s, 2, settings, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 3, created);
		}
		if (sqlite3_step(s) != SQLITE_DONE)
			ret = store_fail(st, zone, what);
	}
	sqlite3_finalize(s);
	if (ret == TDM_OK)
		ret = store_tx_commit(st, zone);
	if (ret != TDM_OK)
		store_rollback(st, zone);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int store_apizone_set(store_t *st, const char *zone, const char *settings, int64_t created)
{
	return run(st, zone, "INSERT INTO api_zone (zone, settings, created) VALUES (?1, ?2, ?3)"
	           " ON CONFLICT (zone) DO UPDATE SET settings = excluded.settings",
	           settings, created, "recording a zone made through the API");
}

int store_apizone_delete(store_t *st, const char *zone)
{
	return run(st, zone, "DELETE FROM api_zone WHERE zone = ?1", NULL, 0,
	           "forgetting a zone made through the API");
}

void store_apizone_free(store_apizone_t *list, size_t count)
{
	for (size_t i = 0; list != NULL && i < count; i++)
		free(list[i].settings);
	free(list);
}

int store_apizone_list(store_t *st, store_apizone_t **out, size_t *count)
{
	size_t n = 0, cap = 16;
	store_apizone_t *list = malloc(cap * sizeof(*list));
	sqlite3_stmt *s = NULL;
	*out = NULL;
	*count = 0;
	if (list == NULL)
		return TDM_ENOMEM;
	pthread_mutex_lock(&st->lock);
	int ret = TDM_OK, rc = SQLITE_DONE;
	if (sqlite3_prepare_v2(st->db, "SELECT zone, settings, created FROM api_zone ORDER BY zone",
	                       -1, &s, NULL) != SQLITE_OK)
		ret = store_fail(st, NULL, "listing the zones made through the API");
	while (ret == TDM_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			store_apizone_t *p = realloc(list, cap * 2 * sizeof(*list));
			if (p == NULL) {
				ret = TDM_ENOMEM;
				break;
			}
			list = p;
			cap *= 2;
		}
		const char *zone = (const char *)sqlite3_column_text(s, 0);
		const char *settings = (const char *)sqlite3_column_text(s, 1);
		store_apizone_t *z = &list[n];
		snprintf(z->zone, sizeof(z->zone), "%s", zone != NULL ? zone : "");
		z->created = sqlite3_column_int64(s, 2);
		if ((z->settings = strdup(settings != NULL ? settings : "{}")) == NULL) {
			ret = TDM_ENOMEM;
			break;
		}
		n++;
	}
	if (ret == TDM_OK && rc != SQLITE_DONE)
		ret = store_fail(st, NULL, "listing the zones made through the API");
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	if (ret != TDM_OK) {
		store_apizone_free(list, n);
		return ret;
	}
	*out = list;
	*count = n;
	return TDM_OK;
}
