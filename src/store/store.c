/* store/store.c -- the SQLite store: schema migrations, zone contents packed in chunks, metadata */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "lib/crashpoint.h"
#include "lib/error.h"
#include "lib/log.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "wire/name.h"

/*
 * DESIGN
 *
 * A zone's records are stored packed, many to a row: rr_chunk.data holds records back to back as
 * owner (wire) | type (2) | ttl (4) | rdlen (2) | rdata, integers in network order, about
 * STORE_CHUNK bytes a row. One row per record costs SQLite about 1.8 s to replace and 0.4 s to read
 * for a 1,000,000-record zone, before any of our own work; packed rows cost a few hundred
 * milliseconds to replace and far less to read, and the store only ever reads or writes a zone
 * whole. The zone row is updated in place (upsert), never deleted and re-inserted, so that tables
 * which reference zone(id) with ON DELETE CASCADE keep their rows across a replace.
 *
 * Durability: WAL with synchronous=FULL fsyncs the log at every commit, so a committed replace
 * survives kill -9 and power loss; a replace is one BEGIN IMMEDIATE ... COMMIT, so a crash leaves
 * the old contents or the new, never a mix.
 *
 * Calls are serialized by a mutex: the prepared statements are shared and SQLite statements are
 * not usable from two threads at once.
 */

#define STORE_BUSY_MS 10000

/* Schema steps, applied in order inside one transaction; PRAGMA user_version counts those applied.
 * Append new steps; never edit a released one. */
static const char *const migrations[] = {
	/* 1: zones and their contents */
	"CREATE TABLE zone ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  serial INTEGER NOT NULL DEFAULT 0,"
	"  source TEXT NOT NULL DEFAULT '',"
	"  file_digest TEXT NOT NULL DEFAULT '',"
	"  updated INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE rr_chunk ("
	"  zone_id INTEGER NOT NULL REFERENCES zone(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  UNIQUE (zone_id, seq));",
	/* 2: IXFR journal and the replication state of each zone */
	"CREATE TABLE journal ("
	"  zone_id INTEGER NOT NULL REFERENCES zone(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  serial_from INTEGER NOT NULL,"
	"  serial_to INTEGER NOT NULL,"
	"  removed BLOB NOT NULL,"
	"  added BLOB NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (zone_id, seq));"
	"CREATE TABLE zone_state ("
	"  zone_id INTEGER PRIMARY KEY REFERENCES zone(id) ON DELETE CASCADE,"
	"  refresh_at INTEGER NOT NULL DEFAULT 0,"
	"  expire_at INTEGER NOT NULL DEFAULT 0,"
	"  last_refresh INTEGER NOT NULL DEFAULT 0,"
	"  last_result TEXT NOT NULL DEFAULT '',"
	"  primary_used TEXT NOT NULL DEFAULT '');",
	/* 3: members of the catalogs we consume (RFC 9432), so that a restart serves them at once */
	"CREATE TABLE catalog_member ("
	"  zone TEXT PRIMARY KEY,"
	"  catalog TEXT NOT NULL,"
	"  unique_id TEXT NOT NULL,"
	"  grp TEXT NOT NULL DEFAULT '');",
	/* 4: changes appended instead of the contents rewritten: rr_chunk holds the version reached by
	 * the journal entry base_seq; entries after it are replayed on load (store/journal.c). */
	"ALTER TABLE zone ADD COLUMN base_seq INTEGER NOT NULL DEFAULT 0;"
	"UPDATE zone SET base_seq = (SELECT COALESCE(MAX(seq), 0) FROM journal"
	"  WHERE journal.zone_id = zone.id);",
	/* 5: what is pending after the contents, counted as it is appended (not by a scan per change) */
	"ALTER TABLE zone ADD COLUMN pending_changes INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE zone ADD COLUMN pending_bytes INTEGER NOT NULL DEFAULT 0;"
	"UPDATE zone SET pending_changes = (SELECT COUNT(*) FROM journal WHERE journal.zone_id = zone.id"
	"  AND seq > zone.base_seq), pending_bytes = (SELECT COALESCE(SUM(LENGTH(removed) + LENGTH(added)), 0)"
	"  FROM journal WHERE journal.zone_id = zone.id AND seq > zone.base_seq);",
	/* 6: the zone file's size, mtime, ctime, inode and device beside its digest: a file whose stat
	 * did not change is not read again (runtime/zoneload.c). file_mtime 0: nothing recorded. */
	"ALTER TABLE zone ADD COLUMN file_size INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE zone ADD COLUMN file_mtime INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE zone ADD COLUMN file_ctime INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE zone ADD COLUMN file_ino INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE zone ADD COLUMN file_dev INTEGER NOT NULL DEFAULT 0;",
	/* 7: zones made through the API, with their settings as JSON (store/apizone.c) */
	STORE_APIZONE_MIGRATION,
	/* 8: the history of changes (store/history.c): who made each, when, and its diff, kept beyond
	 * the IXFR journal; a diff too large is kept as counts only (removed/added NULL). */
	STORE_HISTORY_SCHEMA,
	/* 9: keys made through the API (store/keys.c): TSIG keys (secret in base64, as a configuration
	 * file holds it) and named API keys (only a SHA-256 of the key) */
	"CREATE TABLE tsig_key ("
	"  name TEXT PRIMARY KEY,"
	"  algorithm TEXT NOT NULL,"
	"  secret TEXT NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE api_key ("
	"  name TEXT PRIMARY KEY,"
	"  scope TEXT NOT NULL,"
	"  zones TEXT,"
	"  hash TEXT NOT NULL,"
	"  created INTEGER NOT NULL);",
	/* 10: the octets of each zone's kept history diffs, counted as they are added and dropped, so
	 * that the history is bounded in octets too (store/history.c) without a scan per change */
	"ALTER TABLE zone ADD COLUMN history_bytes INTEGER NOT NULL DEFAULT 0;"
	"UPDATE zone SET history_bytes = (SELECT COALESCE(SUM(LENGTH(removed) + LENGTH(added)), 0)"
	"  FROM change_history WHERE change_history.zone_id = zone.id);",
	/* 11: a zone's contents chunks are the rows with seq in [chunk_base, chunk_base + STORE_CHUNK_RANGE):
	 * a compaction writes the next contents into the other range in steps, then moves chunk_base
	 * (store/journal.c); contents_gen counts the contents written, so that a compaction finds out
	 * when a whole replacement came in between its steps. (In parentheses: two literals alone in an
	 * element look to clang like a missing comma, -Wstring-concatenation.) */
	("ALTER TABLE zone ADD COLUMN chunk_base INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE zone ADD COLUMN contents_gen INTEGER NOT NULL DEFAULT 0;"),
	/* 12: the history's ids without AUTOINCREMENT, which read and wrote sqlite_sequence at every
	 * change (a page more in each commit). An id is still above every id in the table when it is
	 * made, so a zone's ids still grow (store/history.c); the id of a newest row deleted with its zone
	 * may come again (docs/api.md, the history). */
	STORE_HISTORY_REBUILD,
};
#define STORE_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* A zone's row as store_upsert_zone binds it (bind_zone_row), up to what a conflict on the name does. */
#define ZONE_ROW_INSERT "INSERT INTO zone (name, serial, source, file_digest, updated, file_size," \
                        " file_mtime, file_ino, file_dev, file_ctime)" \
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (name)"

static const char *const queries[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN",
	[Q_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_ZONE_ID] = "SELECT id FROM zone WHERE name = ?1",
	[Q_META] = "SELECT serial, source, file_digest, updated, file_size, file_mtime, file_ino,"
	           " file_dev, file_ctime FROM zone WHERE name = ?1",
	[Q_UPSERT] = ZONE_ROW_INSERT " DO UPDATE SET serial = excluded.serial, source = excluded.source,"
	             " file_digest = excluded.file_digest, updated = excluded.updated,"
	             " file_size = excluded.file_size, file_mtime = excluded.file_mtime,"
	             " file_ino = excluded.file_ino, file_dev = excluded.file_dev,"
	             " file_ctime = excluded.file_ctime RETURNING id",
	/* A zone not stored yet (a first start: every zone): its row made, nothing of it to clear. Its id
	 * is the last rowid inserted, not RETURNING's: RETURNING runs the insert into a table of its own
	 * first, which was a third of the control thread's time in a start of 100,000 zones. */
	[Q_INSERT_NEW] = ZONE_ROW_INSERT " DO NOTHING",
	[Q_CHUNK_DEL] = "DELETE FROM rr_chunk WHERE zone_id = ?1",
	[Q_CHUNK_ADD] = "INSERT INTO rr_chunk (zone_id, seq, count, data) VALUES (?1, ?2, ?3, ?4)",
	[Q_CHUNK_GET] = "SELECT count, data FROM rr_chunk WHERE zone_id = ?1 AND seq >= (SELECT chunk_base"
	                " FROM zone WHERE id = ?1) AND seq < (SELECT chunk_base FROM zone WHERE id = ?1) + ?2"
	                " ORDER BY seq",
	[Q_CHUNK_DEL_RANGE] = "DELETE FROM rr_chunk WHERE zone_id = ?1 AND seq >= ?2 AND seq < ?3",
	[Q_CONTENTS_AT] = "SELECT chunk_base, contents_gen FROM zone WHERE id = ?1",
	[Q_ZONE_DEL] = "DELETE FROM zone WHERE name = ?1",
	[Q_NAMES] = "SELECT name FROM zone ORDER BY name",
	[Q_JOURNAL_ADD] = "INSERT INTO journal (zone_id, seq, serial_from, serial_to, removed, added,"
	                  " created) VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM journal"
	                  " WHERE zone_id = ?1), ?2, ?3, ?4, ?5, ?6)",
	[Q_JOURNAL_CLEAR] = "DELETE FROM journal WHERE zone_id = ?1",
	/* Only entries the contents already include: later ones are needed to rebuild the version. One
	 * bound (the lower of the two), so the index range ends there: with two, the rows up to one were
	 * each read and tested against the other -- every pending entry, at every change. And only once
	 * ?3 entries or more can go (the bound is NULL otherwise): each trim writes the oldest pages of
	 * the table and its index and the free list, so it is done in steps, not at every change. At most
	 * ?4 a change (seqs are consecutive): a compaction makes thousands trimmable at once, and one
	 * change deleting them all waited tens of milliseconds (45 ms after 20,000 at 1,000,000 records). */
	[Q_JOURNAL_TRIM] = "DELETE FROM journal WHERE zone_id = ?1 AND seq <= (SELECT b FROM (SELECT"
	                   " MIN((SELECT MAX(seq) FROM journal WHERE zone_id = ?1) - ?2, (SELECT base_seq"
	                   " FROM zone WHERE id = ?1)) AS b) WHERE b - (SELECT MIN(seq) FROM journal"
	                   " WHERE zone_id = ?1) + 1 >= ?3) AND seq < (SELECT MIN(seq) FROM journal"
	                   " WHERE zone_id = ?1) + ?4",
	[Q_BASE_SET] = "UPDATE zone SET base_seq = COALESCE((SELECT MAX(seq) FROM journal"
	               " WHERE zone_id = ?1), 0), pending_changes = 0, pending_bytes = 0, chunk_base = 0,"
	               " contents_gen = contents_gen + 1 WHERE id = ?1",
	/* The contents moved to entry ?2: what stays pending is what was committed after it. */
	[Q_BASE_AT] = "UPDATE zone SET base_seq = ?2, pending_changes = (SELECT COUNT(*) FROM journal"
	              " WHERE zone_id = ?1 AND seq > ?2), pending_bytes = (SELECT COALESCE(SUM(LENGTH(removed)"
	              " + LENGTH(added)), 0) FROM journal WHERE zone_id = ?1 AND seq > ?2), chunk_base = ?3,"
	              " contents_gen = contents_gen + 1 WHERE id = ?1 AND contents_gen = ?4",
	/* One statement for the zone row's counts at each entry: the journal's pending changes and
	 * octets, and the octets the history keeps (?3, 0 when it keeps counts only). */
	[Q_PENDING_ADD] = "UPDATE zone SET pending_changes = pending_changes + 1,"
	                  " pending_bytes = pending_bytes + ?2, history_bytes = history_bytes + ?3"
	                  " WHERE id = ?1 RETURNING pending_changes, pending_bytes, history_bytes",
	/* The same with the row's serial part (Q_META_SERIAL) and the zone found by name, which it
	 * answers too: an UPDATE's whole row in one statement. */
	[Q_APPEND_ROW] = "UPDATE zone SET serial = ?2, updated = ?3,"
	                 " file_digest = CASE WHEN ?4 = '' THEN file_digest ELSE ?4 END,"
	                 " pending_changes = pending_changes + 1, pending_bytes = pending_bytes + ?5,"
	                 " history_bytes = history_bytes + ?6 WHERE name = ?1"
	                 " RETURNING pending_changes, pending_bytes, history_bytes, id",
	[Q_PENDING_GET] = "SELECT serial_from, serial_to, removed, added FROM journal WHERE zone_id = ?1"
	                  " AND seq > (SELECT base_seq FROM zone WHERE id = ?1) ORDER BY seq",
	[Q_PENDING_SIZE] = "SELECT pending_changes, pending_bytes FROM zone WHERE id = ?1",
	[Q_SEQ_OF] = "SELECT MAX(seq) FROM journal WHERE zone_id = ?1 AND serial_to = ?2"
	             " AND seq > (SELECT base_seq FROM zone WHERE id = ?1)",
	[Q_FILE_SYNCED] = "UPDATE zone SET file_digest = ?3 WHERE name = ?1 AND serial = ?2",
	[Q_META_SET] = "UPDATE zone SET serial = ?2, source = ?3, file_digest = ?4, updated = ?5,"
	               " file_size = ?6, file_mtime = ?7, file_ino = ?8, file_dev = ?9, file_ctime = ?10"
	               " WHERE id = ?1",
	[Q_META_SERIAL] = "UPDATE zone SET serial = ?2, updated = ?3,"
	                  " file_digest = CASE WHEN ?4 = '' THEN file_digest ELSE ?4 END WHERE id = ?1",
	[Q_SAVEPOINT] = "SAVEPOINT op",
	[Q_RELEASE] = "RELEASE op",
	[Q_ROLLBACK_TO] = "ROLLBACK TO op",
	[Q_JOURNAL_GET] = "SELECT serial_from, serial_to, removed, added FROM journal"
	                  " WHERE zone_id = ?1 ORDER BY seq",
	[Q_STATE_GET] = "SELECT refresh_at, expire_at, last_refresh, last_result, primary_used"
	                " FROM zone_state WHERE zone_id = ?1",
	[Q_MEMBER_SET] = "INSERT OR REPLACE INTO catalog_member (zone, catalog, unique_id, grp)"
	                 " VALUES (?1, ?2, ?3, ?4)",
	[Q_MEMBER_DEL] = "DELETE FROM catalog_member WHERE zone = ?1",
	[Q_MEMBER_LIST] = "SELECT zone, catalog, unique_id, grp FROM catalog_member ORDER BY zone",
	[Q_HIST_ADD] = "INSERT INTO change_history (zone_id, created, who, serial_from, serial_to,"
	               " nremoved, nadded, removed, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	/* Both drops answer the kept octets of each row they delete (taken off the zone's count). */
	[Q_HIST_TRIM] = "DELETE FROM change_history WHERE zone_id = ?1 AND id <= (SELECT id FROM"
	                " change_history WHERE zone_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)"
	                " RETURNING COALESCE(LENGTH(removed) + LENGTH(added), 0)",
	[Q_HIST_DROP] = "DELETE FROM change_history WHERE zone_id = ?1 AND id <= ?2"
	                " RETURNING COALESCE(LENGTH(removed) + LENGTH(added), 0)",
	/* Oldest first, the newest never: it is the change being written. */
	[Q_HIST_OLDEST] = "SELECT id, COALESCE(LENGTH(removed) + LENGTH(added), 0) FROM change_history"
	                  " WHERE zone_id = ?1 AND id < (SELECT MAX(id) FROM change_history"
	                  " WHERE zone_id = ?1) ORDER BY id LIMIT ?2",
	[Q_HIST_RECOUNT] = "UPDATE zone SET history_bytes = (SELECT COALESCE(SUM(LENGTH(removed) +"
	                   " LENGTH(added)), 0) FROM change_history WHERE zone_id = ?1) WHERE id = ?1",
	[Q_HIST_BYTES_ADD] = "UPDATE zone SET history_bytes = history_bytes + ?2 WHERE id = ?1"
	                     " RETURNING history_bytes",
	/* Two subqueries, each answered from the index's end (one MIN and one MAX in one SELECT would
	 * read every row of the zone). */
	[Q_HIST_SPAN] = "SELECT (SELECT MAX(id) FROM change_history WHERE zone_id = ?1) -"
	                " (SELECT MIN(id) FROM change_history WHERE zone_id = ?1) + 1",
	[Q_HIST_LIST] = "SELECT id, created, who, serial_from, serial_to, nremoved, nadded,"
	                " removed IS NOT NULL, CASE WHEN ?4 THEN removed END, CASE WHEN ?4 THEN added END"
	                " FROM change_history WHERE zone_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
	[Q_STATE_SET] = "INSERT OR REPLACE INTO zone_state (zone_id, refresh_at, expire_at,"
	                " last_refresh, last_result, primary_used) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};


/* Logs the SQLite error of the last call, naming the zone, and gives the code callers see. */
int store_fail(store_t *st, const char *zone, const char *what)
{
	int code = sqlite3_errcode(st->db);
	/* SQLITE_FULL is ENOSPC (or a quota) under the database: name it as an operator would. */
	const char *full = code == SQLITE_FULL ? " (disk full)" : "";
	log_err("%s: store: %s failed: %s%s", zone != NULL ? zone : st->path, what,
	        sqlite3_errmsg(st->db), full);
	st->failing = true;
	st->last_error_at = (int64_t)time(NULL);
	snprintf(st->last_error, sizeof(st->last_error), "%s: %s failed: %s%s",
	         zone != NULL ? zone : "store", what, sqlite3_errmsg(st->db), full);
	return TDM_ESTORE;
}

void store_health(store_t *st, bool *failing, char *error, size_t size, int64_t *at)
{
	pthread_mutex_lock(&st->lock);
	*failing = st->failing;
	snprintf(error, size, "%s", st->last_error);
	*at = st->last_error_at;
	pthread_mutex_unlock(&st->lock);
}

/* Runs a statement that returns no rows, then resets it. */
int store_run(store_t *st, int q, const char *zone, const char *what)
{
	int rc = sqlite3_step(st->q[q]);
	sqlite3_reset(st->q[q]);
	return rc == SQLITE_DONE ? TDM_OK : store_fail(st, zone, what);
}

int store_tx_begin(store_t *st, bool write, const char *zone)
{
	if (!st->batch)
		return store_run(st, write ? Q_BEGIN_WRITE : Q_BEGIN, zone, "begin");
	if (st->single && st->savepoints == 0) {
		st->savepoints++;
		return TDM_OK;
	}
	int ret = store_run(st, Q_SAVEPOINT, zone, "savepoint");
	if (ret == TDM_OK)
		st->savepoints++;
	return ret;
}

int store_tx_commit(store_t *st, const char *zone)
{
	if (!st->batch)
		return store_run(st, Q_COMMIT, zone, "commit");
	if (st->single && st->savepoints == 1) {
		st->savepoints--;
		return TDM_OK;
	}
	int ret = store_run(st, Q_RELEASE, zone, "release");
	if (ret == TDM_OK)
		st->savepoints--;
	return ret;
}

void store_rollback(store_t *st, const char *zone)
{
	if (st->batch) {
		if (st->savepoints == 0)
			return;   /* the operation's savepoint was never made */
		st->savepoints--;
		if (st->single && st->savepoints == 0) {
			st->single_undone = true;
			if (store_run(st, Q_ROLLBACK, zone, "rollback") != TDM_OK)
				log_err("%s: store: transaction left open after a failed rollback", zone);
			return;
		}
		/* ROLLBACK TO keeps the savepoint open: RELEASE closes it, leaving the batch as it was. */
		if (store_run(st, Q_ROLLBACK_TO, zone, "rollback") != TDM_OK ||
		    store_run(st, Q_RELEASE, zone, "release") != TDM_OK)
			log_err("%s: store: an operation of the batch could not be undone", zone);
		return;
	}
	if (sqlite3_get_autocommit(st->db))
		return;
	if (store_run(st, Q_ROLLBACK, zone, "rollback") != TDM_OK)
		log_err("%s: store: transaction left open after a failed rollback", zone);
}

int store_mkdirs(const char *dir)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST)
			return -errno;
		if (c == '\0')
			return TDM_OK;
		*p = c;
	}
}

static int exec(store_t *st, const char *sql, const char *what)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return TDM_OK;
	log_err("%s: store: %s failed: %s", st->path, what, msg != NULL ? msg : "unknown error");
	sqlite3_free(msg);
	return TDM_ESTORE;
}

static int user_version(store_t *st, int *version)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return store_fail(st, NULL, "reading the schema version");
	int rc = sqlite3_step(s);
	*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? TDM_OK : store_fail(st, NULL, "reading the schema version");
}

int store_schema_version(void)
{
	return STORE_SCHEMA_VERSION;
}

/* A store written by a newer program is refused before anything could write to it (even the switch to
 * WAL writes the file's header): the operator can still start the newer program on it. */
static int refuse_newer(store_t *st, const char *data_dir)
{
	int version = 0, ret = user_version(st, &version);
	if (ret != TDM_OK || version <= STORE_SCHEMA_VERSION)
		return ret;
	log_err("%s: store: schema version %d is newer than this program's %d (written by a newer "
	        "tandemd): not started, and the data directory %s is left as it is; run the newer "
	        "tandemd, or restore a backup taken with this version (tandemd --restore)", st->path,
	        version, STORE_SCHEMA_VERSION, data_dir);
	return TDM_ESCHEMA;
}

/* Brings the schema up to date. BEGIN IMMEDIATE first, so two processes opening a new store at
 * once cannot both run the same step. */
static int migrate(store_t *st)
{
	int ret, version = 0;
	if ((ret = exec(st, "BEGIN IMMEDIATE", "schema transaction")) != TDM_OK)
		return ret;
	if ((ret = user_version(st, &version)) != TDM_OK)
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		log_err("%s: store: schema version %d is newer than this program's %d", st->path,
		        version, STORE_SCHEMA_VERSION);
		ret = TDM_ESCHEMA;
		goto fail;
	}
	for (; version < STORE_SCHEMA_VERSION; version++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		if ((ret = exec(st, migrations[version], "schema migration")) != TDM_OK ||
		    (ret = exec(st, sql, "schema version update")) != TDM_OK)
			goto fail;
		log_info("%s: store: schema migrated to version %d", st->path, version + 1);
	}
	if ((ret = exec(st, "COMMIT", "schema commit")) != TDM_OK)
		goto fail;
	return TDM_OK;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

/* PRAGMA journal_mode answers with the mode in force, which is not WAL where WAL cannot work. */
static int set_wal(store_t *st)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK)
		return store_fail(st, NULL, "enabling WAL");
	int rc = sqlite3_step(s);
	const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
	if (mode != NULL && strcmp((const char *)mode, "wal") != 0)
		log_warn("%s: store: journal mode is %s, not WAL", st->path, mode);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? TDM_OK : store_fail(st, NULL, "enabling WAL");
}

static int configure(store_t *st)
{
	int ret;
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	/* WAL + FULL: every commit is fsynced to the log before it returns (survives power loss). */
	if ((ret = set_wal(st)) != TDM_OK ||
	    (ret = exec(st, "PRAGMA synchronous = FULL", "PRAGMA synchronous")) != TDM_OK ||
	    (ret = exec(st, "PRAGMA foreign_keys = ON", "PRAGMA foreign_keys")) != TDM_OK ||
	    (ret = exec(st, "PRAGMA journal_size_limit = 67108864", "journal size limit")) != TDM_OK)
		return ret;
	return TDM_OK;
}

static int prepare_all(store_t *st)
{
	for (int i = 0; i < Q_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, queries[i], -1, SQLITE_PREPARE_PERSISTENT, &st->q[i],
		                       NULL) != SQLITE_OK)
			return store_fail(st, NULL, "preparing a statement");
	}
	return TDM_OK;
}

int store_open(const char *data_dir, store_t **out)
{
	*out = NULL;
	int ret = store_mkdirs(data_dir);
	if (ret != TDM_OK) {
		log_err("%s: store: cannot create the data directory: %s", data_dir, tdm_strerror(ret));
		return ret;
	}
	store_t *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return TDM_ENOMEM;
	pthread_mutexattr_t attr;
	if (pthread_mutexattr_init(&attr) != 0 ||
	    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE) != 0 ||
	    pthread_mutex_init(&st->lock, &attr) != 0) {
		free(st);
		return TDM_ENOMEM;
	}
	pthread_mutexattr_destroy(&attr);
	if (pthread_mutex_init(&st->glock, NULL) != 0 || pthread_cond_init(&st->gcond, NULL) != 0) {
		pthread_mutex_destroy(&st->lock);
		free(st);
		return TDM_ENOMEM;
	}
	st->gtail = &st->gqueue;
	ret = TDM_ENOMEM;
	if (asprintf(&st->path, "%s/tandem.db", data_dir) < 0) {
		st->path = NULL;
		goto fail;
	}
	ret = TDM_ESTORE;
	int rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		log_err("%s: store: cannot open: %s", st->path,
		        st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	if ((ret = refuse_newer(st, data_dir)) != TDM_OK || (ret = configure(st)) != TDM_OK ||
	    (ret = migrate(st)) != TDM_OK ||
	    (ret = prepare_all(st)) != TDM_OK)
		goto fail;
	*out = st;
	return TDM_OK;
fail:
	store_close(st);
	return ret;
}

void store_close(store_t *store)
{
	if (store == NULL)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(store->q[i]);
	if (store->db != NULL && sqlite3_close(store->db) != SQLITE_OK)
		log_err("%s: store: close failed: %s", store->path, sqlite3_errmsg(store->db));
	pthread_mutex_destroy(&store->lock);
	pthread_mutex_destroy(&store->glock);
	pthread_cond_destroy(&store->gcond);
	free(store->path);
	free(store);
}

/* A batch belongs to the thread that began it: its group operations run in it directly (waiting for
 * a group leader, which needs the lock the batch holds, would never end). */
static _Thread_local bool in_batch;

struct store_op {
	const char *zone;            /* named in the log when the group's commit fails */
	int (*fn)(store_t *, void *);
	void *arg;
	int ret;
	bool done;
	struct store_op *next;
};

/* The leader's part: a group of operations in one transaction. */
static void run_group(store_t *st, struct store_op *ops)
{
	atomic_fetch_add(&st->lock_wanted, 1);
	pthread_mutex_lock(&st->lock);
	atomic_fetch_sub(&st->lock_wanted, 1);
	int ret = store_run(st, Q_BEGIN_WRITE, "group", "begin");
	if (ret == TDM_OK) {
		st->batch = true;
		st->savepoints = 0;
		st->single = ops->next == NULL;
		st->single_undone = false;
		for (struct store_op *op = ops; op != NULL; op = op->next)
			op->ret = op->fn(st, op->arg);
		st->batch = false;
		st->single = false;
		if (st->single_undone) {
			/* The one operation failed and rolled the transaction back: nothing to commit. */
			st->group_append = false;
			pthread_mutex_unlock(&st->lock);
			return;
		}
		if (st->group_append)
			crashpoint("store-append-before-commit");
		int rc = sqlite3_step(st->q[Q_COMMIT]);
		sqlite3_reset(st->q[Q_COMMIT]);
		ret = rc == SQLITE_DONE ? TDM_OK : TDM_ESTORE;
		if (ret == TDM_OK && st->group_append)
			crashpoint("store-append-after-commit");
		st->group_append = false;
		/* Each zone whose write was in the group is told, as its own commit would have. */
		for (struct store_op *op = ops; ret != TDM_OK && op != NULL; op = op->next)
			if (op->ret == TDM_OK)
				store_fail(st, op->zone, "commit");
		if (ret != TDM_OK)
			store_rollback(st, "group");
		else
			st->failing = false;
	}
	for (struct store_op *op = ops; op != NULL; op = op->next)
		if (ret != TDM_OK && op->ret == TDM_OK)
			op->ret = ret;   /* not begun, or not committed */
	pthread_mutex_unlock(&st->lock);
}

int store_group_run(store_t *st, const char *zone, int (*fn)(store_t *, void *), void *arg)
{
	if (in_batch) {
		pthread_mutex_lock(&st->lock);
		int ret = fn(st, arg);
		pthread_mutex_unlock(&st->lock);
		return ret;
	}
	struct store_op op = { .zone = zone, .fn = fn, .arg = arg };
	pthread_mutex_lock(&st->glock);
	*st->gtail = &op;
	st->gtail = &op.next;
	while (!op.done) {
		if (st->gleader) {
			pthread_cond_wait(&st->gcond, &st->glock);
			continue;
		}
		st->gleader = true;
		while (st->gqueue != NULL) {
			struct store_op *group = st->gqueue;
			st->gqueue = NULL;
			st->gtail = &st->gqueue;
			pthread_mutex_unlock(&st->glock);
			run_group(st, group);
			pthread_mutex_lock(&st->glock);
			for (struct store_op *o = group, *next; o != NULL; o = next) {
				next = o->next;   /* o belongs to its waiting thread once done is set */
				o->done = true;
			}
			pthread_cond_broadcast(&st->gcond);
		}
		st->gleader = false;
	}
	pthread_mutex_unlock(&st->glock);
	return op.ret;
}

int store_batch_begin(store_t *st)
{
	pthread_mutex_lock(&st->lock);
	if (st->batch) {
		pthread_mutex_unlock(&st->lock);
		return TDM_EINVAL;
	}
	int ret = store_run(st, Q_BEGIN_WRITE, NULL, "beginning a batch");
	if (ret != TDM_OK) {
		pthread_mutex_unlock(&st->lock);
		return ret;
	}
	st->batch = true;
	st->savepoints = 0;
	in_batch = true;
	return TDM_OK;   /* the lock stays held until the batch ends */
}

int store_batch_commit(store_t *st)
{
	if (!st->batch || !in_batch)
		return TDM_EINVAL;
	st->batch = false;
	in_batch = false;
	int ret = store_run(st, Q_COMMIT, NULL, "committing a batch");
	if (ret == TDM_OK)
		st->failing = false;
	else
		store_rollback(st, "batch");
	pthread_mutex_unlock(&st->lock);
	return ret;
}

void store_batch_abort(store_t *st)
{
	if (!st->batch || !in_batch)
		return;
	st->batch = false;
	in_batch = false;
	store_rollback(st, "batch");
	pthread_mutex_unlock(&st->lock);
}

/* The metadata columns of Q_META, from column first on. */
static void meta_row(sqlite3_stmt *s, int first, store_zone_meta_t *out)
{
	const unsigned char *source = sqlite3_column_text(s, first + 1);
	const unsigned char *digest = sqlite3_column_text(s, first + 2);
	memset(out, 0, sizeof(*out));
	out->serial = (uint32_t)sqlite3_column_int64(s, first);
	snprintf(out->source, sizeof(out->source), "%s", source ? (const char *)source : "");
	snprintf(out->file_digest, sizeof(out->file_digest), "%s", digest ? (const char *)digest : "");
	out->updated = sqlite3_column_int64(s, first + 3);
	out->file_stat.size = sqlite3_column_int64(s, first + 4);
	out->file_stat.mtime_ns = sqlite3_column_int64(s, first + 5);
	out->file_stat.ino = (uint64_t)sqlite3_column_int64(s, first + 6);
	out->file_stat.dev = (uint64_t)sqlite3_column_int64(s, first + 7);
	out->file_stat.ctime_ns = sqlite3_column_int64(s, first + 8);
}

int store_zone_meta_each(store_t *st, int (*fn)(void *ctx, const char *zone,
                                                const store_zone_meta_t *meta), void *ctx)
{
	sqlite3_stmt *s = NULL;
	store_zone_meta_t meta;
	pthread_mutex_lock(&st->lock);
	int ret = TDM_OK, rc = sqlite3_prepare_v2(st->db, "SELECT serial, source, file_digest, updated,"
	                                          " file_size, file_mtime, file_ino, file_dev,"
	                                          " file_ctime, name FROM zone", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		ret = store_fail(st, NULL, "listing zones");
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 9);
		meta_row(s, 0, &meta);
		if (name != NULL && (ret = fn(ctx, (const char *)name, &meta)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = store_fail(st, NULL, "listing zones");
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int store_zone_meta(store_t *st, const char *zone, store_zone_meta_t *out)
{
	pthread_mutex_lock(&st->lock);
	sqlite3_stmt *s = st->q[Q_META];
	int ret = TDM_ENOENT;
	sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		meta_row(s, 0, out);
		ret = TDM_OK;
	} else if (rc != SQLITE_DONE) {
		ret = store_fail(st, zone, "reading metadata");
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

/* ---- packing records into chunks ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

size_t store_pack_rr(uint8_t *p, const rr_t *rr)
{
	int olen = name_length(rr->owner, NAME_MAXLEN);
	memcpy(p, rr->owner, (size_t)olen);
	p += olen;
	put16(p, rr->type);
	put32(p + 2, rr->ttl);
	put16(p + 6, rr->rdlen);
	if (rr->rdlen > 0)
		memcpy(p + 8, rr->rdata, rr->rdlen);
	return (size_t)olen + 8 + rr->rdlen;
}


static int flush_chunk(struct writer *w)
{
	sqlite3_stmt *s = w->st->q[Q_CHUNK_ADD];
	sqlite3_bind_int64(s, 1, w->zone_id);
	sqlite3_bind_int64(s, 2, w->seq++);
	sqlite3_bind_int64(s, 3, w->count);
	sqlite3_bind_blob(s, 4, w->buf, (int)w->used, SQLITE_STATIC);
	int ret = store_run(w->st, Q_CHUNK_ADD, w->zone, "writing records");
	sqlite3_clear_bindings(s);
	w->used = 0;
	w->count = 0;
	return ret;
}

size_t store_writer_size(const rrlist_t *list)
{
	size_t size = 0, n = rrlist_count(list);
	for (size_t i = 0; i < n && size < STORE_CHUNK + STORE_REC_MAX; i++)
		size += NAME_MAXLEN + 8 + rrlist_at(list, i)->rdlen;
	return size == 0 ? 1 : size < STORE_CHUNK + STORE_REC_MAX ? size : STORE_CHUNK + STORE_REC_MAX;
}

int store_write_records_part(struct writer *w, const rrlist_t *list, size_t *next, int max_chunks)
{
	size_t n = rrlist_count(list);
	int ret, flushed = 0;
	for (size_t i = *next; i < n; i++) {
		const rr_t *rr = rrlist_at(list, i);
		if (w->used > 0 && w->used + NAME_MAXLEN + 8 + rr->rdlen > STORE_CHUNK) {
			if ((ret = flush_chunk(w)) != TDM_OK)
				return ret;
			if (++flushed == max_chunks) {
				*next = i;   /* not packed yet: the next part starts with it */
				return TDM_OK;
			}
		}
		w->used += store_pack_rr(w->buf + w->used, rr);
		w->count++;
	}
	*next = n;
	return w->used > 0 ? flush_chunk(w) : TDM_OK;
}

int store_write_records(struct writer *w, const rrlist_t *list)
{
	size_t next = 0;
	return store_write_records_part(w, list, &next, INT_MAX);
}

void store_bind_file_stat(sqlite3_stmt *s, int first, const store_file_stat_t *fs)
{
	/* SQLite integers are signed 64-bit: inode and device numbers keep their bits. */
	sqlite3_bind_int64(s, first, fs->size);
	sqlite3_bind_int64(s, first + 1, fs->mtime_ns);
	sqlite3_bind_int64(s, first + 2, (int64_t)fs->ino);
	sqlite3_bind_int64(s, first + 3, (int64_t)fs->dev);
	sqlite3_bind_int64(s, first + 4, fs->ctime_ns);
}

/* Binds the zone's row to Q_INSERT_NEW or Q_UPSERT. */
static void bind_zone_row(sqlite3_stmt *s, const char *zone, const store_zone_meta_t *meta)
{
	sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, meta->serial);
	/* Bounded: the fixed arrays need not hold a NUL when full. */
	sqlite3_bind_text(s, 3, meta->source, (int)strnlen(meta->source, sizeof(meta->source)),
	                  SQLITE_STATIC);
	sqlite3_bind_text(s, 4, meta->file_digest,
	                  (int)strnlen(meta->file_digest, sizeof(meta->file_digest)), SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, meta->updated != 0 ? meta->updated : (int64_t)time(NULL));
	store_bind_file_stat(s, 6, &meta->file_stat);
}

/* The zone's row made if it has none: *id is the new row's, or 0 where the name was there already. */
static int insert_new_step(store_t *st, const char *zone, const store_zone_meta_t *meta, int64_t *id)
{
	sqlite3_stmt *s = st->q[Q_INSERT_NEW];
	bind_zone_row(s, zone, meta);
	int rc = sqlite3_step(s);
	/* Read before the reset: no other statement of this connection runs in between. */
	*id = rc == SQLITE_DONE && sqlite3_changes(st->db) == 1 ? sqlite3_last_insert_rowid(st->db) : 0;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? TDM_OK : store_fail(st, zone, "writing the zone row");
}

static int upsert_step(store_t *st, const char *zone, const store_zone_meta_t *meta, int64_t *id)
{
	sqlite3_stmt *s = st->q[Q_UPSERT];
	bind_zone_row(s, zone, meta);
	int rc = sqlite3_step(s);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	/* RETURNING: the row is only final once the statement has run to completion. */
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? TDM_OK : store_fail(st, zone, "writing the zone row");
}

int store_upsert_zone(store_t *st, const char *zone, const store_zone_meta_t *meta, int64_t *id,
                      bool *created)
{
	int ret = insert_new_step(st, zone, meta, id);
	*created = ret == TDM_OK && *id != 0;
	if (ret != TDM_OK || *created)
		return ret;
	return upsert_step(st, zone, meta, id);
}

int store_zone_replace(store_t *st, const char *zone, const rrlist_t *list,
                       const store_zone_meta_t *meta)
{
	return store_write_zone(st, zone, list, meta, NULL, NULL);
}

/* ---- reading ---- */

int store_unpack(rrlist_t *list, const uint8_t *p, size_t len, int64_t count)
{
	size_t pos = 0;
	int64_t n = 0;
	while (pos < len) {
		int olen = name_length(p + pos, len - pos);
		if (olen < 0 || len - pos - (size_t)olen < 8)
			return TDM_EMALF;
		const uint8_t *h = p + pos + olen;
		uint16_t rdlen = get16(h + 6);
		if (len - pos - (size_t)olen - 8 < rdlen)
			return TDM_EMALF;
		int ret = rrlist_add(list, p + pos, get16(h), get32(h + 2), h + 8, rdlen, 0);
		if (ret != TDM_OK)
			return ret == TDM_ENOMEM ? ret : TDM_EMALF;
		pos += (size_t)olen + 8 + rdlen;
		n++;
	}
	return n == count ? TDM_OK : TDM_EMALF;
}

int store_zone_id(store_t *st, const char *zone, int64_t *id)
{
	sqlite3_stmt *s = st->q[Q_ZONE_ID];
	sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return TDM_OK;
	return rc == SQLITE_DONE ? TDM_ENOENT : store_fail(st, zone, "finding the zone");
}

static int read_records(store_t *st, const char *zone, int64_t id, rrlist_t *list)
{
	sqlite3_stmt *s = st->q[Q_CHUNK_GET];
	int ret = TDM_OK, rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, STORE_CHUNK_RANGE);
	while (ret == TDM_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const uint8_t *data = sqlite3_column_blob(s, 1);
		size_t len = (size_t)sqlite3_column_bytes(s, 1);
		ret = store_unpack(list, data, len, sqlite3_column_int64(s, 0));
		if (ret == TDM_EMALF) {
			log_err("%s: store: stored records are corrupt", zone);
			ret = TDM_ESTORE;
		}
	}
	if (ret == TDM_OK && rc != SQLITE_DONE)
		ret = store_fail(st, zone, "reading records");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

int store_zone_load(store_t *st, const char *zone, rrlist_t **out)
{
	int64_t id;
	*out = NULL;
	rrlist_t *list = rrlist_new();
	if (list == NULL)
		return TDM_ENOMEM;
	pthread_mutex_lock(&st->lock);
	/* One read transaction: the zone row and its chunks from the same snapshot. */
	int ret = store_tx_begin(st, false, zone);
	if (ret != TDM_OK)
		goto fail;
	if ((ret = store_zone_id(st, zone, &id)) != TDM_OK ||
	    (ret = read_records(st, zone, id, list)) != TDM_OK ||
	    (ret = store_tx_commit(st, zone)) != TDM_OK)
		goto fail;
	pthread_mutex_unlock(&st->lock);
	*out = list;
	return TDM_OK;
fail:
	store_rollback(st, zone);
	pthread_mutex_unlock(&st->lock);
	rrlist_free(list);
	return ret;
}

int store_zone_delete(store_t *st, const char *zone)
{
	pthread_mutex_lock(&st->lock);
	/* rr_chunk rows (and any other table's) go with the zone row: ON DELETE CASCADE. */
	sqlite3_bind_text(st->q[Q_ZONE_DEL], 1, zone, -1, SQLITE_STATIC);
	int ret = store_run(st, Q_ZONE_DEL, zone, "deleting the zone");
	sqlite3_clear_bindings(st->q[Q_ZONE_DEL]);
	if (ret == TDM_OK && sqlite3_changes(st->db) == 0)
		ret = TDM_ENOENT;
	pthread_mutex_unlock(&st->lock);
	return ret;
}

/* Appends a copy of name, keeping the array NULL-terminated. */
static int add_name(char ***names, size_t *n, size_t *cap, const unsigned char *name)
{
	if (*n + 2 > *cap) {
		size_t ncap = *cap * 2;
		char **bigger = realloc(*names, ncap * sizeof(char *));
		if (bigger == NULL)
			return TDM_ENOMEM;
		*names = bigger;
		*cap = ncap;
	}
	if (((*names)[*n] = strdup(name != NULL ? (const char *)name : "")) == NULL)
		return TDM_ENOMEM;
	(*names)[++*n] = NULL;
	return TDM_OK;
}

int store_zone_names(store_t *st, char ***out)
{
	size_t n = 0, cap = 16;
	char **names = calloc(cap, sizeof(char *));
	*out = NULL;
	if (names == NULL)
		return TDM_ENOMEM;
	pthread_mutex_lock(&st->lock);
	sqlite3_stmt *s = st->q[Q_NAMES];
	int ret = TDM_OK, rc = SQLITE_DONE;
	while (ret == TDM_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		ret = add_name(&names, &n, &cap, sqlite3_column_text(s, 0));
	if (ret == TDM_OK && rc != SQLITE_DONE)
		ret = store_fail(st, NULL, "listing zones");
	sqlite3_reset(s);
	pthread_mutex_unlock(&st->lock);
	if (ret != TDM_OK) {
		store_names_free(names);
		return ret;
	}
	*out = names;
	return TDM_OK;
}

void store_names_free(char **names)
{
	if (names == NULL)
		return;
	for (char **p = names; *p != NULL; p++)
		free(*p);
	free(names);
}
