/* store/store.h -- the SQLite store in data-dir: zone contents and per-zone metadata (the only user of sqlite3) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone/rrlist.h"

typedef struct store store_t;

/* What stat() said of a zone file when its digest was taken: the same size, modification and change
 * times, inode and device later mean the same octets without reading them (runtime/zoneload.c says
 * when one is recorded). The change time cannot be set by hand: a copy that keeps the mtime (cp -p,
 * rsync -t) over the file still changes it. mtime_ns 0: nothing recorded, the file is hashed. */
typedef struct {
	int64_t size;
	int64_t mtime_ns;           /* nanoseconds since the epoch */
	int64_t ctime_ns;
	uint64_t ino, dev;
} store_file_stat_t;

typedef struct {
	uint32_t serial;            /* SOA serial of the stored contents */
	char source[32];            /* how the zone came to exist: "config", "api", ... */
	char file_digest[65];       /* hex SHA-256 of the zone file last imported, "" when none */
	int64_t updated;            /* unix time of the last change */
	store_file_stat_t file_stat; /* of the file behind file_digest; zero when none */
	/* store_zone_append only: the zone's row is written in part -- the serial, the time and, when not
	 * "", file_digest -- and keeps its source and file stat as stored. A change to a stored zone (an
	 * UPDATE, an API edit) then needs no read of the row first. */
	bool serial_only;
} store_zone_meta_t;

/* Opens (creating when missing) data_dir/tandem.db, creating data_dir too, and brings the schema up
 * to date by running the migrations it lacks. TDM_ESCHEMA when the file is newer than this program. */
int store_open(const char *data_dir, store_t **out);
void store_close(store_t *store);

/* The schema version this program writes (PRAGMA user_version of its stores). */
int store_schema_version(void);

/*
 * A consistent copy of the store, taken while it serves (store/backup.c): VACUUM INTO from a
 * connection of its own, which reads one snapshot (WAL) while the server's connection goes on
 * writing. path must be absolute, name no existing file (TDM_EEXIST) and lie in an existing folder
 * (TDM_ENOENT, TDM_ENOTDIR); the copy is fsynced. *bytes (when not NULL) is its size. Errors are
 * logged; msg (size bytes) gets a line for the API.
 */
int store_backup(store_t *store, const char *path, int64_t *bytes, char *msg, size_t size);

/*
 * tandemd --restore (offline): checks the backup (SQLite integrity check, a schema version from 1 to
 * store_schema_version()), then puts a copy of it in place of data_dir/tandem.db atomically (rename),
 * the previous store kept as tandem.db.bak (its WAL folded in first). Refuses (TDM_EBUSY) while
 * another process has the store open. Every problem is logged. *zones (when not NULL) is the number
 * of zones the backup holds.
 */
int store_restore(const char *data_dir, const char *backup, int64_t *zones);

/* The store's health: failing is true from a failed operation until a zone write succeeds; error is
 * the last failure ("" when none), at its unix time (0 when none). For status and metrics. */
void store_health(store_t *store, bool *failing, char *error, size_t size, int64_t *at);

/*
 * Batches: the writes of many operations (zones stored at a first start, say) in one transaction,
 * one fsync instead of one per zone. Each operation inside keeps its own all-or-nothing (a savepoint:
 * one that fails is undone alone and the batch goes on), and nothing of the batch is durable before
 * store_batch_commit returns TDM_OK: what it stored must not be served before then. A failed commit
 * undoes the whole batch. The batch holds the store's lock from begin to commit or abort: other
 * threads' calls wait for it, so keep batches short (a second at most), and begin and end one on the
 * same thread. store_batch_begin: TDM_OK, TDM_EINVAL (a batch is open) or TDM_ESTORE; nothing is held
 * on failure, and the operations then run as usual, each its own transaction.
 */
int store_batch_begin(store_t *store);
int store_batch_commit(store_t *store);
/* Undoes everything the batch wrote. */
void store_batch_abort(store_t *store);

/* Metadata of a zone (name textual, lowercase, trailing dot). TDM_ENOENT when not stored. */
int store_zone_meta(store_t *store, const char *zone, store_zone_meta_t *out);

/* Every stored zone's metadata in one query (a pass over thousands of zones, instead of one lookup
 * each): fn gets each zone's name and metadata; a nonzero return stops the walk and is returned.
 * TDM_OK, fn's code or TDM_ESTORE. */
int store_zone_meta_each(store_t *store, int (*fn)(void *ctx, const char *zone,
                                                   const store_zone_meta_t *meta), void *ctx);

/* Replaces the whole contents and metadata of a zone (creating it when missing) in one transaction:
 * after a crash either the old or the new version is there, never a mix. */
int store_zone_replace(store_t *store, const char *zone, const rrlist_t *list,
                       const store_zone_meta_t *meta);

/* A change between two versions, as IXFR carries it (RFC 1995): removed holds the old SOA, added the
 * new one. */
typedef struct {
	uint32_t serial_from, serial_to;
	const rrlist_t *removed, *added;
	const char *who;            /* for the history: "api key admin from ...", NULL = unknown */
} store_diff_t;

/*
 * Like store_zone_replace, and in the same transaction: appends diff to the zone's journal and keeps
 * at most journal_max entries (0 = no limit), or, with diff NULL, empties the journal (the history
 * no longer leads to these contents). After a crash either all of it happened or none.
 */
int store_zone_commit(store_t *store, const char *zone, const rrlist_t *list,
                      const store_zone_meta_t *meta, const store_diff_t *diff,
                      unsigned journal_max);

/* What the journal holds beyond the stored contents (entries replayed on load). */
typedef struct {
	uint64_t changes;
	uint64_t bytes;
} store_pending_t;

/*
 * A change stored by appending it, the contents left as they are: the metadata (serial, source,
 * digest) moves to meta and, when diff is not NULL, its entry joins the journal (trimmed to
 * journal_max entries, never past the contents). One transaction whatever the size of the zone.
 * *pending (when not NULL) says how much is now waiting to be folded in (store_zone_compact). The
 * zone must be stored: TDM_ENOENT otherwise.
 */
int store_zone_append(store_t *store, const char *zone, const store_zone_meta_t *meta,
                      const store_diff_t *diff, unsigned journal_max, store_pending_t *pending);

/*
 * Folds the journal into the contents: list is the whole version at serial, which a pending entry
 * leads to (TDM_ENOENT otherwise: nothing is written). Entries committed after it stay pending.
 * Written in steps of about 1 MiB, each its own transaction, so that changes committed meanwhile
 * wait for one step, not the whole zone; one transaction then makes them the contents: after a
 * crash the contents are the old ones or these, both with what follows them. TDM_EAGAIN: a whole
 * replacement came in between (nothing changed; the next compaction folds the journal).
 */
int store_zone_compact(store_t *store, const char *zone, const rrlist_t *list, uint32_t serial);

/* Receives one journal entry; the lists are the callee's to keep or free. A non-zero return stops
 * the walk and is returned by store_journal_read. */
typedef int (*store_journal_fn)(void *ctx, uint32_t serial_from, uint32_t serial_to,
                                rrlist_t *removed, rrlist_t *added);

/* Walks the journal from the entry that starts at serial `from` to the newest, in order, each entry
 * starting where the last ended. TDM_ENOENT when no entry starts at `from` (the history is gone).
 * Call with a NULL fn to learn only whether the chain exists. */
int store_journal_read(store_t *store, const char *zone, uint32_t from, store_journal_fn fn,
                       void *ctx);

/* Records the digest of a zone file just written from the stored version at serial: only when the
 * zone is still at that serial (TDM_ENOENT otherwise: a newer change will write the file again). */
int store_zone_file_synced(store_t *store, const char *zone, uint32_t serial, const char *digest);

/* How much is pending for a zone (TDM_ENOENT when not stored). */
int store_zone_pending_size(store_t *store, const char *zone, store_pending_t *out);

/* Walks the pending entries (those after the stored contents), oldest first: the contents from
 * store_zone_load with these applied in order are the zone's stored version. */
int store_zone_pending(store_t *store, const char *zone, store_journal_fn fn, void *ctx);

/* A secondary zone's timers and last refresh, persisted so a restart resumes them. */
typedef struct {
	int64_t refresh_at;          /* unix time of the next SOA check */
	int64_t expire_at;           /* unix time the data expires without a refresh; 0 = never loaded */
	int64_t last_refresh;        /* unix time of the last attempt, 0 = none */
	char last_result[160];       /* "ok", or what went wrong */
	char primary[64];            /* the primary the data came from, "address@port" */
} store_state_t;

/* TDM_ENOENT when nothing was saved for the zone (or the zone is not stored). */
int store_state_get(store_t *store, const char *zone, store_state_t *out);
/* The zone must be stored (TDM_ENOENT otherwise). */
int store_state_set(store_t *store, const char *zone, const store_state_t *state);

/* Reads a zone's stored contents into a new list (unsorted): the version at the last compaction;
 * store_zone_pending gives what follows. TDM_ENOENT when not stored. */
int store_zone_load(store_t *store, const char *zone, rrlist_t **out);

/* Deletes a zone with everything stored for it. TDM_ENOENT when not stored. */
int store_zone_delete(store_t *store, const char *zone);

/* Names of all stored zones: a NULL-terminated array of strings, freed with store_names_free. */
int store_zone_names(store_t *store, char ***out);
void store_names_free(char **names);

/* A member of a catalog we consume, as remembered across restarts. */
typedef struct {
	char zone[1024];             /* textual, lowercase, trailing dot */
	char catalog[1024];
	char unique_id[64];
	char group[256];
} store_member_t;

int store_member_set(store_t *store, const store_member_t *m);
/* Fills *out with member i of a batch (store_member_set_many). */
typedef void (*store_member_row_fn)(const void *ctx, size_t i, store_member_t *out);
/* Several at once, in one transaction: members 0 .. count-1, each made by row(ctx, i, out) into one
 * row reused, so that a catalog's 100,000 new members cost no array of rows (2.3 KiB each). */
int store_member_set_many(store_t *store, size_t count, store_member_row_fn row, const void *ctx);
/* TDM_OK even when there was none. */
int store_member_delete(store_t *store, const char *zone);
/* Every member: a malloc'ed array (free it) of *count entries. */
int store_member_list(store_t *store, store_member_t **out, size_t *count);

/* Zones made through the API (provision/apizone.c): their settings as a JSON text, by zone name. The
 * zone's contents are stored as any zone's; this row says that the zone exists and how it is set. */
typedef struct {
	char zone[1024];             /* textual, lowercase, trailing dot */
	char *settings;              /* JSON object, malloc'ed */
	int64_t created;             /* unix time */
} store_apizone_t;

/* Creates or replaces a zone's row. Inside a batch (store_batch_begin) it joins the batch's
 * transaction, so a zone's contents and its row are committed together. */
int store_apizone_set(store_t *store, const char *zone, const char *settings, int64_t created);
/* Deletes a zone's row (TDM_OK even when there was none). */
int store_apizone_delete(store_t *store, const char *zone);
/* Every row, in name order: a malloc'ed array of *count entries; free with store_apizone_free. */
int store_apizone_list(store_t *store, store_apizone_t **out, size_t *count);
void store_apizone_free(store_apizone_t *list, size_t count);

/*
 * The history of a zone's changes (every journal entry written is also kept here, with who made it),
 * kept beyond the IXFR journal: at most STORE_HISTORY_PER_ZONE entries per zone, oldest dropped
 * (down to 64 fewer at a time: store/history.c), and at most STORE_HISTORY_BYTES_PER_ZONE octets of
 * kept diffs (oldest dropped down to seven eighths of it); an entry whose records pack into more than
 * STORE_HISTORY_ENTRY_MAX octets keeps its counts only (not revertable). Deleted with the zone.
 */
#define STORE_HISTORY_PER_ZONE 1000
#define STORE_HISTORY_ENTRY_MAX (256 * 1024)
#define STORE_HISTORY_BYTES_PER_ZONE (16 * 1024 * 1024)

typedef struct {
	int64_t id;                 /* grows with each change, over all zones */
	int64_t created;            /* unix time */
	char who[256];
	uint32_t serial_from, serial_to;
	uint32_t nremoved, nadded;
	bool kept;                  /* the diff is kept (false: too large, counts only) */
	rrlist_t *removed, *added;  /* with_diff and kept: the records; else NULL */
} store_change_t;

/*
 * The zone's entries with an id below before (INT64_MAX: from the newest), newest first, at most
 * limit: a malloc'ed array of *count (free with store_changes_free). with_diff reads the records too.
 * TDM_ENOENT when the zone is not stored.
 */
int store_history_list(store_t *store, const char *zone, int64_t before, unsigned limit,
                       bool with_diff, store_change_t **out, size_t *count);
void store_changes_free(store_change_t *changes, size_t count);
