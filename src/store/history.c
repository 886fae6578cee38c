/* store/history.c -- the history of each zone's changes: when, who and the diff, beyond the journal */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "store/store_impl.h"

/*
 * DESIGN. The IXFR journal keeps what secondaries need and is trimmed to journal-max-entries; the
 * history keeps what an operator asks ("who changed this, and can I undo it?"). Each journal entry
 * written (store_zone_append, store_zone_commit with a diff) adds a row here in the same
 * transaction, so the history holds exactly what was committed. Rows are bounded per zone
 * (STORE_HISTORY_PER_ZONE) and per entry (STORE_HISTORY_ENTRY_MAX octets of packed records: a
 * larger change -- a zone file rewritten, a big IXFR -- keeps its counts only), and in octets per
 * zone (STORE_HISTORY_BYTES_PER_ZONE): a primary sending IXFRs of 256 KiB could otherwise make each
 * of a secondary's zones hold 1,000 of them, 256 MiB. The zone row counts the kept octets as entries
 * come and go (zone.history_bytes), so the bound costs no scan.
 *
 * Trimming: finding the entry STORE_HISTORY_PER_ZONE back reads that many index entries, which every
 * change paid (a tenth of an UPDATE's CPU). The ids of a zone's rows grow, so their count is at most
 * the span of its first and last id (two index probes); only a span over the bound trims, and then to
 * HISTORY_TRIM_TO, so a zone changed alone trims once every HISTORY_TRIM_SLACK changes.
 */
#define HISTORY_TRIM_SLACK 64
#define HISTORY_TRIM_TO (STORE_HISTORY_PER_ZONE - HISTORY_TRIM_SLACK)

/* Whether the zone may hold more than STORE_HISTORY_PER_ZONE rows. */
static int over_bound(store_t *st, const char *zone, int64_t zone_id, bool *over)
{
	sqlite3_stmt *s = st->q[Q_HIST_SPAN];
	sqlite3_bind_int64(s, 1, zone_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*over = sqlite3_column_type(s, 0) != SQLITE_NULL &&
		        sqlite3_column_int64(s, 0) > STORE_HISTORY_PER_ZONE;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? TDM_OK : store_fail(st, zone, "measuring the history");
}

/* Adds delta to the zone's count of kept octets; *total (when not NULL) gets the new count. */
static int bytes_add(store_t *st, const char *zone, int64_t zone_id, int64_t delta, int64_t *total)
{
	sqlite3_stmt *s = st->q[Q_HIST_BYTES_ADD];
	sqlite3_bind_int64(s, 1, zone_id);
	sqlite3_bind_int64(s, 2, delta);
	int rc = sqlite3_step(s);   /* the change is made by the first step (RETURNING) */
	if (rc == SQLITE_ROW && total != NULL)
		*total = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? TDM_OK : store_fail(st, zone, "counting the history");
}

/* Runs drop query q (Q_HIST_TRIM or Q_HIST_DROP, its ?2 = arg) and takes the kept octets of the rows
 * it deleted off the zone's count. */
static int drop_rows(store_t *st, const char *zone, int64_t zone_id, int q, int64_t arg)
{
	sqlite3_stmt *s = st->q[q];
	sqlite3_bind_int64(s, 1, zone_id);
	sqlite3_bind_int64(s, 2, arg);
	int64_t freed = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		freed += sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return store_fail(st, zone, "trimming the history");
	return freed != 0 ? bytes_add(st, zone, zone_id, -freed, NULL) : TDM_OK;
}

/* Over STORE_HISTORY_BYTES_PER_ZONE kept octets (total): the oldest entries go until seven eighths
 * of it is left, so that a zone of large changes trims now and then, not at each one. The newest
 * entry (at most STORE_HISTORY_ENTRY_MAX octets, far below the target) always stays. */
static int trim_bytes(store_t *st, const char *zone, int64_t zone_id, int64_t total)
{
	const int64_t target = (int64_t)STORE_HISTORY_BYTES_PER_ZONE / 8 * 7;
	sqlite3_stmt *s = st->q[Q_HIST_OLDEST];
	sqlite3_bind_int64(s, 1, zone_id);
	sqlite3_bind_int64(s, 2, STORE_HISTORY_PER_ZONE);
	int64_t cut = 0, freed = 0;
	int rc = SQLITE_DONE;
	while (total - freed > target && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		cut = sqlite3_column_int64(s, 0);
		freed += sqlite3_column_int64(s, 1);
	}
	bool failed = total - freed > target && rc != SQLITE_DONE;
	bool drifted = total - freed > target && rc == SQLITE_DONE;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (failed)
		return store_fail(st, zone, "trimming the history");
	int ret = cut != 0 ? drop_rows(st, zone, zone_id, Q_HIST_DROP, cut) : TDM_OK;
	if (ret == TDM_OK && drifted) {
		/* Every older entry gone and still over: the count says more than the rows hold (it
		 * cannot, short of a bug or a hand edit). Counted again from the rows. */
		sqlite3_bind_int64(st->q[Q_HIST_RECOUNT], 1, zone_id);
		ret = store_run(st, Q_HIST_RECOUNT, zone, "counting the history");
		sqlite3_clear_bindings(st->q[Q_HIST_RECOUNT]);
	}
	return ret;
}

int store_history_add(store_t *st, const char *zone, int64_t zone_id, const store_diff_t *diff,
                      const uint8_t *removed, size_t rlen, const uint8_t *added, size_t alen,
                      int64_t kept_total)
{
	sqlite3_stmt *s = st->q[Q_HIST_ADD];
	bool keep = store_history_keeps(rlen, alen);
	sqlite3_bind_int64(s, 1, zone_id);
	sqlite3_bind_int64(s, 2, (int64_t)time(NULL));
	sqlite3_bind_text(s, 3, diff->who != NULL ? diff->who : "unknown", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, diff->serial_from);
	sqlite3_bind_int64(s, 5, diff->serial_to);
	sqlite3_bind_int64(s, 6, (int64_t)rrlist_count(diff->removed));
	sqlite3_bind_int64(s, 7, (int64_t)rrlist_count(diff->added));
	if (keep) {
		/* A zero-length blob is stored as one, not as NULL (which means "not kept"). */
		sqlite3_bind_blob(s, 8, rlen ? (const void *)removed : "", (int)rlen, SQLITE_STATIC);
		sqlite3_bind_blob(s, 9, alen ? (const void *)added : "", (int)alen, SQLITE_STATIC);
	}
	int ret = store_run(st, Q_HIST_ADD, zone, "writing the history");
	sqlite3_clear_bindings(s);
	if (ret != TDM_OK)
		return ret;
	if (store_history_kept(rlen, alen) > 0 && kept_total > (int64_t)STORE_HISTORY_BYTES_PER_ZONE &&
	    (ret = trim_bytes(st, zone, zone_id, kept_total)) != TDM_OK)
		return ret;
	bool over = false;
	if ((ret = over_bound(st, zone, zone_id, &over)) != TDM_OK || !over)
		return ret;
	/* Down to HISTORY_TRIM_TO, oldest first. */
	return drop_rows(st, zone, zone_id, Q_HIST_TRIM, HISTORY_TRIM_TO);
}

static int read_list(sqlite3_stmt *s, int col, int64_t count, rrlist_t **out)
{
	*out = rrlist_new();
	if (*out == NULL)
		return TDM_ENOMEM;
	const uint8_t *p = sqlite3_column_blob(s, col);
	int len = sqlite3_column_bytes(s, col);
	return store_unpack(*out, p, (size_t)len, count);
}

static int read_row(sqlite3_stmt *s, bool with_diff, store_change_t *c)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(s, 0);
	c->created = sqlite3_column_int64(s, 1);
	const unsigned char *who = sqlite3_column_text(s, 2);
	snprintf(c->who, sizeof(c->who), "%s", who != NULL ? (const char *)who : "");
	c->serial_from = (uint32_t)sqlite3_column_int64(s, 3);
	c->serial_to = (uint32_t)sqlite3_column_int64(s, 4);
	c->nremoved = (uint32_t)sqlite3_column_int64(s, 5);
	c->nadded = (uint32_t)sqlite3_column_int64(s, 6);
	c->kept = sqlite3_column_int(s, 7) != 0;
	if (!with_diff || !c->kept)
		return TDM_OK;
	int ret = read_list(s, 8, c->nremoved, &c->removed);
	return ret == TDM_OK ? read_list(s, 9, c->nadded, &c->added) : ret;
}

void store_changes_free(store_change_t *changes, size_t count)
{
	for (size_t i = 0; changes != NULL && i < count; i++) {
		rrlist_free(changes[i].removed);
		rrlist_free(changes[i].added);
	}
	free(changes);
}

int store_history_list(store_t *st, const char *zone, int64_t before, unsigned limit,
                       bool with_diff, store_change_t **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	store_change_t *v = calloc(limit ? limit : 1, sizeof(*v));
	if (v == NULL)
		return TDM_ENOMEM;
	pthread_mutex_lock(&st->lock);
	int64_t id;
	int ret = store_zone_id(st, zone, &id);
	size_t n = 0;
	if (ret == TDM_OK) {
		sqlite3_stmt *s = st->q[Q_HIST_LIST];
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, before);
		sqlite3_bind_int64(s, 3, limit);
		sqlite3_bind_int(s, 4, with_diff);
		int rc;
		while (ret == TDM_OK && n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW)
			ret = read_row(s, with_diff, &v[n++]);
		if (ret == TDM_OK && n < limit && rc != SQLITE_DONE)
			ret = store_fail(st, zone, "reading the history");
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	pthread_mutex_unlock(&st->lock);
	if (ret != TDM_OK) {
		store_changes_free(v, n);
		return ret;
	}
	*out = v;
	*count = n;
	return TDM_OK;
}
