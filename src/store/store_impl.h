/* store/store_impl.h -- the store's insides, shared by its files (store.c, journal.c) only */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>

#include "store/store.h"
#include "wire/name.h"

#define STORE_CHUNK (256 * 1024)
/* A zone's chunks are numbered from its chunk_base, 0 or this (store/journal.c: compaction). */
#define STORE_CHUNK_RANGE ((int64_t)1 << 40)

/* The schema step of store/apizone.c's table (a migration in store.c's list). */
#define STORE_APIZONE_MIGRATION \
	"CREATE TABLE api_zone (" \
	"  zone TEXT PRIMARY KEY," \
	"  settings TEXT NOT NULL," \
	"  created INTEGER NOT NULL DEFAULT 0);"
#define STORE_REC_MAX (NAME_MAXLEN + 8 + 65535)

enum {
	Q_BEGIN, Q_BEGIN_WRITE, Q_COMMIT, Q_ROLLBACK, Q_ZONE_ID, Q_META, Q_UPSERT, Q_CHUNK_DEL,
	Q_CHUNK_ADD, Q_CHUNK_GET, Q_ZONE_DEL, Q_NAMES, Q_JOURNAL_ADD, Q_JOURNAL_CLEAR, Q_JOURNAL_TRIM,
	Q_JOURNAL_GET, Q_STATE_GET, Q_STATE_SET, Q_MEMBER_SET, Q_MEMBER_DEL, Q_MEMBER_LIST, Q_BASE_SET,
	Q_BASE_AT, Q_PENDING_GET, Q_PENDING_SIZE, Q_SEQ_OF, Q_META_SET, Q_META_SERIAL, Q_FILE_SYNCED,
	Q_PENDING_ADD, Q_INSERT_NEW, Q_SAVEPOINT, Q_RELEASE, Q_ROLLBACK_TO, Q_HIST_ADD, Q_HIST_TRIM, Q_HIST_DROP,
	Q_APPEND_ROW, Q_HIST_OLDEST, Q_HIST_RECOUNT, Q_HIST_BYTES_ADD, Q_HIST_SPAN, Q_HIST_LIST, Q_CHUNK_DEL_RANGE,
	Q_CONTENTS_AT, Q_COUNT
};

struct store {
	bool group_append;           /* a journal append is in the group being committed (crash points) */
	sqlite3 *db;
	/* Recursive: a batch (store_batch_begin) holds it from begin to commit, and the operations it
	 * groups take it again on the same thread. */
	pthread_mutex_t lock;
	bool batch;                  /* a batch's transaction is open (under lock) */
	unsigned savepoints;         /* operations open inside the batch, each a savepoint */
	/* A group of one operation: its outermost level is the group's transaction itself, with no
	 * savepoint (whose statement journal copied every page the operation touched to a temporary
	 * file); undoing it rolls the whole transaction back, and single_undone says so. */
	bool single, single_undone;
	/* store_write_zone: the zone's row was just made and nothing else of it is stored yet (its
	 * `then` step reads it, and clears it when it adds a journal entry). */
	bool zone_created;
	/* Group commit (store_group_run): operations waiting, and whether a thread is running them. */
	pthread_mutex_t glock;
	pthread_cond_t gcond;
	/* Group commits waiting for lock: a long job done in steps (store_zone_compact) lets them in
	 * between its steps, instead of taking the lock again at once (a mutex is not fair). */
	atomic_uint lock_wanted;
	struct store_op *gqueue, **gtail;
	bool gleader;
	sqlite3_stmt *q[Q_COUNT];
	char *path;
	/* Health, under lock: the last failure, and whether no write succeeded since. */
	bool failing;
	char last_error[256];
	int64_t last_error_at;
};

/* Records packed back to back: owner (wire) | type (2) | ttl (4) | rdlen (2) | rdata. */
struct writer {
	store_t *st;
	const char *zone;
	int64_t zone_id, seq, count;
	uint8_t *buf;
	size_t used;
};

/* The history table's columns after its id (store/history.c), and its index. */
#define STORE_HISTORY_COLUMNS \
	"  zone_id INTEGER NOT NULL REFERENCES zone(id) ON DELETE CASCADE," \
	"  created INTEGER NOT NULL," \
	"  who TEXT NOT NULL," \
	"  serial_from INTEGER NOT NULL," \
	"  serial_to INTEGER NOT NULL," \
	"  nremoved INTEGER NOT NULL," \
	"  nadded INTEGER NOT NULL," \
	"  removed BLOB," \
	"  added BLOB);"
#define STORE_HISTORY_INDEX "CREATE INDEX change_history_zone ON change_history (zone_id, id);"

/* Schema step 8 (store.c's migrations): the history table, as released (ids under AUTOINCREMENT). */
#define STORE_HISTORY_SCHEMA \
	"CREATE TABLE change_history (" \
	"  id INTEGER PRIMARY KEY AUTOINCREMENT," \
	STORE_HISTORY_COLUMNS \
	STORE_HISTORY_INDEX

/* Schema step 12: the same table with a plain INTEGER PRIMARY KEY (no AUTOINCREMENT), rows kept. */
#define STORE_HISTORY_REBUILD \
	"CREATE TABLE change_history_next (" \
	"  id INTEGER PRIMARY KEY," \
	STORE_HISTORY_COLUMNS \
	"INSERT INTO change_history_next (id, zone_id, created, who, serial_from, serial_to, nremoved," \
	"  nadded, removed, added) SELECT id, zone_id, created, who, serial_from, serial_to, nremoved," \
	"  nadded, removed, added FROM change_history;" \
	"DROP TABLE change_history;" \
	"ALTER TABLE change_history_next RENAME TO change_history;" \
	STORE_HISTORY_INDEX

/* Whether the history keeps a change's packed records (rlen + alen octets) whole: when they fit
 * STORE_HISTORY_ENTRY_MAX; a larger change keeps its counts only. */
static inline bool store_history_keeps(size_t rlen, size_t alen)
{
	return rlen + alen <= STORE_HISTORY_ENTRY_MAX;
}

/* The octets of them the history keeps: all or none. */
static inline size_t store_history_kept(size_t rlen, size_t alen)
{
	return store_history_keeps(rlen, alen) ? rlen + alen : 0;
}

/* Adds the history entry of a journal entry being written (inside its transaction): the packed
 * removed and added records, kept whole when they fit STORE_HISTORY_ENTRY_MAX. The caller has added
 * store_history_kept() to the zone's history_bytes already (with the journal's counts, one
 * statement); kept_total is the count that made. */
int store_history_add(store_t *st, const char *zone, int64_t zone_id, const store_diff_t *diff,
                      const uint8_t *removed, size_t rlen, const uint8_t *added, size_t alen,
                      int64_t kept_total);

int store_fail(store_t *st, const char *zone, const char *what);
/* mkdir -p with mode 0750: TDM_OK or a negative errno. */
int store_mkdirs(const char *dir);
int store_run(store_t *st, int q, const char *zone, const char *what);

/*
 * Group commit: runs fn(st, arg) -- an operation written with store_tx_begin/commit, under the lock --
 * together with the operations other threads hand in at the same time, in one transaction and one
 * fsync. The first caller leads: it takes every operation waiting, runs each inside a savepoint (one
 * that fails is undone alone), commits, and goes on while more arrived meanwhile; the others wait
 * for their result. Each returns only once its operation is committed (or failed). Called inside a
 * batch of its own thread, fn runs in the batch at once. zone is named in the log if the commit fails.
 */
int store_group_run(store_t *st, const char *zone, int (*fn)(store_t *, void *), void *arg);

/* One operation's transaction (under lock): BEGIN (IMMEDIATE when it writes) and COMMIT, or inside a
 * batch a savepoint released into the batch's transaction. store_rollback undoes the operation only:
 * the whole transaction, or inside a batch what followed its savepoint. */
int store_tx_begin(store_t *st, bool write, const char *zone);
int store_tx_commit(store_t *st, const char *zone);
void store_rollback(store_t *st, const char *zone);
size_t store_pack_rr(uint8_t *p, const rr_t *rr);
int store_unpack(rrlist_t *list, const uint8_t *p, size_t len, int64_t count);
int store_zone_id(store_t *st, const char *zone, int64_t *id);
/* Binds a file's stat to parameters first .. first + 4 (size, mtime, inode, device, ctime). */
void store_bind_file_stat(sqlite3_stmt *s, int first, const store_file_stat_t *fs);
/* Writes a zone's row, creating it when missing (*created then says so: nothing of the zone is
 * stored yet, so nothing needs clearing). */
int store_upsert_zone(store_t *st, const char *zone, const store_zone_meta_t *meta, int64_t *id,
                      bool *created);
int store_write_records(struct writer *w, const rrlist_t *list);
/* The same from list's record *next on, stopping after max_chunks chunks are written (*next: where
 * to go on; the list's end when all are written, its last chunk flushed). */
int store_write_records_part(struct writer *w, const rrlist_t *list, size_t *next, int max_chunks);
/* The buffer store_write_records needs for list: a chunk and a record at most, less for a small zone
 * (a 320 KiB buffer for each of 100,000 small zones was mapped and unmapped each time). */
size_t store_writer_size(const rrlist_t *list);

/* Replaces a zone's contents and metadata in one transaction; `then` (when not NULL) runs inside
 * it before the commit (the journal step), and its failure rolls everything back. */
int store_write_zone(store_t *st, const char *zone, const rrlist_t *list,
                     const store_zone_meta_t *meta, int (*then)(store_t *, const char *, int64_t,
                                                                const void *),
                     const void *arg);
