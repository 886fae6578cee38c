/* store/journal.c -- the IXFR journal and the replication state of each zone, in the store */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/crashpoint.h"
#include "lib/error.h"
#include "lib/log.h"
#include "store/store_impl.h"

/*
 * DESIGN. The journal holds every change as IXFR carries it (each entry packs its removed and added
 * records like the contents chunks). A change is stored by appending its entry (store_zone_append):
 * one small transaction whatever the size of the zone. The contents chunks hold the version reached
 * by entry base_seq; the entries after it are pending, and loading a zone is its contents plus those
 * entries replayed (runtime/zoneload.c). store_zone_compact writes the contents of a later version and
 * moves base_seq up to it; a whole replacement (store_zone_commit, after an AXFR or a first load)
 * writes the contents and leaves nothing pending. The journal is trimmed from its old end to
 * journal_max entries, never past base_seq: a pending entry is part of the stored version.
 */

/* Entries one change trims at most: a backlog a compaction made trimmable goes over the next changes
 * (256 a change; each change adds one), not all in one change's transaction. */
#define JOURNAL_TRIM_MAX 256

/* Packs a list into one malloc'ed blob. */
static int pack_list(const rrlist_t *list, uint8_t **out, size_t *len)
{
	size_t size = 0, n = rrlist_count(list);
	for (size_t i = 0; i < n; i++)
		size += NAME_MAXLEN + 8 + rrlist_at(list, i)->rdlen;
	uint8_t *buf = malloc(size ? size : 1);
	if (buf == NULL)
		return TDM_ENOMEM;
	size_t used = 0;
	for (size_t i = 0; i < n; i++)
		used += store_pack_rr(buf + used, rrlist_at(list, i));
	*out = buf;
	*len = used;
	return TDM_OK;
}

/* Counts the entry in the zone's row, one statement that answers the counts: with row (an UPDATE's
 * serial part, the zone found by its name) Q_APPEND_ROW, which sets *id, or Q_PENDING_ADD by *id.
 * *pending (when not NULL) gets the journal's counts, *kept_total the history's octets. */
static int count_entry(store_t *st, const char *zone, int64_t *id, const store_zone_meta_t *row,
                       size_t len, size_t kept, store_pending_t *pending, int64_t *kept_total)
{
	sqlite3_stmt *s = st->q[row != NULL ? Q_APPEND_ROW : Q_PENDING_ADD];
	int n = 2;
	if (row != NULL) {
		sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, row->serial);
		sqlite3_bind_int64(s, 3, row->updated != 0 ? row->updated : (int64_t)time(NULL));
		sqlite3_bind_text(s, 4, row->file_digest,
		                  (int)strnlen(row->file_digest, sizeof(row->file_digest)), SQLITE_STATIC);
		n = 5;
	} else {
		sqlite3_bind_int64(s, 1, *id);
	}
	sqlite3_bind_int64(s, n, (int64_t)len);
	sqlite3_bind_int64(s, n + 1, (int64_t)kept);
	int rc = sqlite3_step(s);   /* the change is made by the first step (RETURNING) */
	if (rc == SQLITE_ROW) {
		if (pending != NULL) {
			pending->changes = (uint64_t)sqlite3_column_int64(s, 0);
			pending->bytes = (uint64_t)sqlite3_column_int64(s, 1);
		}
		*kept_total = sqlite3_column_int64(s, 2);
		if (row != NULL)
			*id = sqlite3_column_int64(s, 3);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_ROW)
		return TDM_OK;
	/* No row: a zone not stored (found by name) or gone. */
	return rc == SQLITE_DONE ? TDM_ENOENT : store_fail(st, zone, "counting the journal");
}

/*
 * Appends the entry and its history row, and counts them in the zone's row. With row, that statement
 * also writes the row's serial part and finds the zone (*id is set); without, *id is the zone's. The
 * statements an UPDATE costs: the row, the entry, its history row, the trim (store.c's queries).
 */
static int journal_add(store_t *st, const char *zone, int64_t *id, const store_zone_meta_t *row,
                       const store_diff_t *diff, unsigned journal_max, store_pending_t *pending)
{
	uint8_t *removed = NULL, *added = NULL;
	size_t rlen, alen;
	int64_t kept_total = 0;
	int ret = pack_list(diff->removed, &removed, &rlen);
	if (ret == TDM_OK)
		ret = pack_list(diff->added, &added, &alen);
	if (ret == TDM_OK)
		ret = count_entry(st, zone, id, row, rlen + alen, store_history_kept(rlen, alen), pending,
		                  &kept_total);
	if (ret != TDM_OK)
		goto out;
	sqlite3_stmt *s = st->q[Q_JOURNAL_ADD];
	sqlite3_bind_int64(s, 1, *id);
	sqlite3_bind_int64(s, 2, diff->serial_from);
	sqlite3_bind_int64(s, 3, diff->serial_to);
	sqlite3_bind_blob(s, 4, removed, (int)rlen, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, added, (int)alen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, (int64_t)time(NULL));
	ret = store_run(st, Q_JOURNAL_ADD, zone, "writing the journal");
	sqlite3_clear_bindings(s);
	if (ret == TDM_OK)
		ret = store_history_add(st, zone, *id, diff, removed, rlen, added, alen, kept_total);
	if (ret == TDM_OK && journal_max > 0) {
		sqlite3_bind_int64(st->q[Q_JOURNAL_TRIM], 1, *id);
		sqlite3_bind_int64(st->q[Q_JOURNAL_TRIM], 2, journal_max);
		sqlite3_bind_int64(st->q[Q_JOURNAL_TRIM], 3, journal_max / 8 > 1 ? journal_max / 8 : 1);
		sqlite3_bind_int64(st->q[Q_JOURNAL_TRIM], 4, JOURNAL_TRIM_MAX);
		ret = store_run(st, Q_JOURNAL_TRIM, zone, "trimming the journal");
		sqlite3_clear_bindings(st->q[Q_JOURNAL_TRIM]);
	}
out:
	free(removed);
	free(added);
	return ret;
}

static int journal_clear(store_t *st, const char *zone, int64_t id)
{
	sqlite3_bind_int64(st->q[Q_JOURNAL_CLEAR], 1, id);
	int ret = store_run(st, Q_JOURNAL_CLEAR, zone, "clearing the journal");
	sqlite3_clear_bindings(st->q[Q_JOURNAL_CLEAR]);
	return ret;
}

/* The zone's contents chunks replaced by list (inside the caller's transaction). */
static int replace_chunks(struct writer *w, const rrlist_t *list)
{
	sqlite3_bind_int64(w->st->q[Q_CHUNK_DEL], 1, w->zone_id);
	int ret = store_run(w->st, Q_CHUNK_DEL, w->zone, "deleting old records");
	sqlite3_clear_bindings(w->st->q[Q_CHUNK_DEL]);
	return ret == TDM_OK ? store_write_records(w, list) : ret;
}

int store_write_zone(store_t *st, const char *zone, const rrlist_t *list,
                     const store_zone_meta_t *meta, int (*then)(store_t *, const char *, int64_t,
                                                                const void *),
                     const void *arg)
{
	struct writer w = { .st = st, .zone = zone };
	if (meta == NULL)
		return TDM_EINVAL;
	w.buf = malloc(store_writer_size(list));
	if (w.buf == NULL)
		return TDM_ENOMEM;
	pthread_mutex_lock(&st->lock);
	int ret = store_tx_begin(st, true, zone);
	if (ret != TDM_OK)
		goto fail;
	bool created;
	if ((ret = store_upsert_zone(st, zone, meta, &w.zone_id, &created)) != TDM_OK)
		goto fail;
	/* A zone just created (every zone of a first start) has no records, journal or pending entries
	 * to clear: three statements fewer each. */
	st->zone_created = created;
	if ((ret = created ? store_write_records(&w, list) : replace_chunks(&w, list)) != TDM_OK)
		goto fail;
	if (then != NULL && (ret = then(st, zone, w.zone_id, arg)) != TDM_OK)
		goto fail;
	/* The contents written are the newest version: nothing after them to replay (a zone just made
	 * without a journal entry has base 0 and nothing pending already). */
	if (!st->zone_created) {
		sqlite3_bind_int64(st->q[Q_BASE_SET], 1, w.zone_id);
		ret = store_run(st, Q_BASE_SET, zone, "marking the contents current");
		sqlite3_clear_bindings(st->q[Q_BASE_SET]);
		if (ret != TDM_OK)
			goto fail;
	}
	if ((ret = store_tx_commit(st, zone)) != TDM_OK)
		goto fail;
	st->failing = false;   /* a write went through: the store is healthy again */
	pthread_mutex_unlock(&st->lock);
	free(w.buf);
	return TDM_OK;
fail:
	store_rollback(st, zone);
	pthread_mutex_unlock(&st->lock);
	free(w.buf);
	return ret;
}

typedef struct {
	const store_diff_t *diff;
	unsigned journal_max;
} journal_step_t;

static int journal_step(store_t *st, const char *zone, int64_t id, const void *arg)
{
	const journal_step_t *j = arg;
	if (j->diff != NULL) {
		st->zone_created = false;   /* it has an entry now: store_write_zone sets its base */
		return journal_add(st, zone, &id, NULL, j->diff, j->journal_max, NULL);
	}
	return st->zone_created ? TDM_OK : journal_clear(st, zone, id);   /* a new zone has none */
}

typedef struct {
	const char *zone;
	const rrlist_t *list;
	const store_zone_meta_t *meta;
	journal_step_t j;
} commit_args_t;

static int commit_op(store_t *st, void *arg)
{
	commit_args_t *a = arg;
	return store_write_zone(st, a->zone, a->list, a->meta, journal_step, &a->j);
}

/* Committed with whatever other threads commit at the same time (refreshes of many zones at once):
 * one fsync for all (store_group_run). */
int store_zone_commit(store_t *st, const char *zone, const rrlist_t *list,
                      const store_zone_meta_t *meta, const store_diff_t *diff,
                      unsigned journal_max)
{
	commit_args_t a = { .zone = zone, .list = list, .meta = meta,
	                    .j = { .diff = diff, .journal_max = journal_max } };
	return store_group_run(st, zone, commit_op, &a);
}

static int meta_set(store_t *st, const char *zone, int64_t id, const store_zone_meta_t *meta)
{
	int64_t updated = meta->updated != 0 ? meta->updated : (int64_t)time(NULL);
	if (meta->serial_only) {
		sqlite3_stmt *s = st->q[Q_META_SERIAL];
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, meta->serial);
		sqlite3_bind_int64(s, 3, updated);
		sqlite3_bind_text(s, 4, meta->file_digest,
		                  (int)strnlen(meta->file_digest, sizeof(meta->file_digest)), SQLITE_STATIC);
		int ret = store_run(st, Q_META_SERIAL, zone, "writing the zone row");
		sqlite3_clear_bindings(s);
		return ret;
	}
	sqlite3_stmt *s = st->q[Q_META_SET];
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, meta->serial);
	sqlite3_bind_text(s, 3, meta->source, (int)strnlen(meta->source, sizeof(meta->source)),
	                  SQLITE_STATIC);
	sqlite3_bind_text(s, 4, meta->file_digest,
	                  (int)strnlen(meta->file_digest, sizeof(meta->file_digest)), SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, updated);
	store_bind_file_stat(s, 6, &meta->file_stat);
	int ret = store_run(st, Q_META_SET, zone, "writing the zone row");
	sqlite3_clear_bindings(s);
	return ret;
}

static int pending_size(store_t *st, const char *zone, int64_t id, store_pending_t *out)
{
	sqlite3_stmt *s = st->q[Q_PENDING_SIZE];
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->changes = (uint64_t)sqlite3_column_int64(s, 0);
		out->bytes = (uint64_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? TDM_OK : store_fail(st, zone, "measuring the journal");
}

typedef struct {
	const char *zone;
	const store_zone_meta_t *meta;
	const store_diff_t *diff;
	unsigned journal_max;
	store_pending_t *pending;
} append_args_t;

static int append_op(store_t *st, void *arg);

int store_zone_append(store_t *st, const char *zone, const store_zone_meta_t *meta,
                      const store_diff_t *diff, unsigned journal_max, store_pending_t *pending)
{
	append_args_t a = { .zone = zone, .meta = meta, .diff = diff, .journal_max = journal_max,
	                    .pending = pending };
	return store_group_run(st, zone, append_op, &a);
}

static int append_op(store_t *st, void *arg)
{
	const append_args_t *a = arg;
	const char *zone = a->zone;
	const store_zone_meta_t *meta = a->meta;
	const store_diff_t *diff = a->diff;
	unsigned journal_max = a->journal_max;
	store_pending_t *pending = a->pending;
	int64_t id;
	pthread_mutex_lock(&st->lock);
	int ret = store_tx_begin(st, true, zone);
	if (ret != TDM_OK)
		goto out;
	if (diff != NULL && meta->serial_only) {
		/* An UPDATE's or an API edit's: the row, found by name, written with the entry's counts. */
		if ((ret = journal_add(st, zone, &id, meta, diff, journal_max, pending)) != TDM_OK)
			goto fail;
	} else {
		if ((ret = store_zone_id(st, zone, &id)) != TDM_OK ||
		    (ret = meta_set(st, zone, id, meta)) != TDM_OK)
			goto fail;
		/* The entry's statement answers the counts; a change of the row alone reads them. */
		if (diff != NULL &&
		    (ret = journal_add(st, zone, &id, NULL, diff, journal_max, pending)) != TDM_OK)
			goto fail;
		if (diff == NULL && pending != NULL && (ret = pending_size(st, zone, id, pending)) != TDM_OK)
			goto fail;
	}
	/* The group's commit (store.c run_group) is where the test's crash points are. */
	st->group_append = true;
	if ((ret = store_tx_commit(st, zone)) != TDM_OK)
		goto fail;
	st->failing = false;
	goto out;
fail:
	store_rollback(st, zone);
out:
	pthread_mutex_unlock(&st->lock);
	return ret;
}

/* The newest pending entry that leads to serial, or TDM_ENOENT. */
static int seq_of(store_t *st, const char *zone, int64_t id, uint32_t serial, int64_t *seq)
{
	sqlite3_stmt *s = st->q[Q_SEQ_OF];
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, serial);
	int rc = sqlite3_step(s);
	bool found = rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL;
	*seq = found ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW)
		return store_fail(st, zone, "finding a journal entry");
	return found ? TDM_OK : TDM_ENOENT;
}

/*
 * Compaction in steps. Rewriting the contents of a 1,000,000-record zone in one transaction held the
 * store's writer for about a second, and every change committed meanwhile (an UPDATE, an API edit)
 * waited for it. The new contents go into the zone's other chunk range instead (chunk_base 0 or
 * STORE_CHUNK_RANGE), COMPACT_STEP_CHUNKS chunks a transaction with the lock let go between them, so
 * that a change waits at most one step; one short transaction then moves chunk_base and base_seq to
 * them (the crash points), and the old range is deleted COMPACT_DELETE_CHUNKS rows at a time. A crash
 * before the move leaves the old contents current (the rows written are cleared by the next
 * compaction, which writes into that range); after it, the new ones (the old rows: likewise). A whole
 * replacement in between (store_write_zone: an AXFR) bumps contents_gen, and the move, which
 * requires the generation it started from, then fails: its rows are dropped, the journal kept.
 */
#define COMPACT_STEP_CHUNKS 4      /* 1 MiB of records a transaction */
#define COMPACT_DELETE_CHUNKS 4

typedef struct {
	int64_t zone_id, base, gen, target;
} compact_t;

static int contents_at(store_t *st, const char *zone, compact_t *c)
{
	sqlite3_stmt *s = st->q[Q_CONTENTS_AT];
	sqlite3_bind_int64(s, 1, c->zone_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		c->base = sqlite3_column_int64(s, 0);
		c->gen = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? TDM_OK : store_fail(st, zone, "reading the contents' place");
}

/* Deletes the zone's chunks numbered [from, to) (inside the caller's transaction); *deleted: rows. */
static int delete_chunks(store_t *st, const char *zone, int64_t id, int64_t from, int64_t to,
                         int *deleted)
{
	sqlite3_stmt *s = st->q[Q_CHUNK_DEL_RANGE];
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, from);
	sqlite3_bind_int64(s, 3, to);
	int ret = store_run(st, Q_CHUNK_DEL_RANGE, zone, "deleting old records");
	sqlite3_clear_bindings(s);
	if (deleted != NULL)
		*deleted = ret == TDM_OK ? sqlite3_changes(st->db) : 0;
	return ret;
}

/* One step in its own transaction: fn under the lock, committed. Group commits waiting for the lock
 * (an UPDATE, an API edit) go first: taken again at once, the lock would go to this thread step
 * after step, and they would wait for the whole compaction after all. At most STEP_YIELD_MS. */
#define STEP_YIELD_MS 20
static int step(store_t *st, const char *zone, int (*fn)(store_t *, const char *, void *), void *arg)
{
	for (int i = 0; i < STEP_YIELD_MS * 10 && atomic_load(&st->lock_wanted) > 0; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
	pthread_mutex_lock(&st->lock);
	int ret = store_tx_begin(st, true, zone);
	if (ret == TDM_OK && (ret = fn(st, zone, arg)) == TDM_OK)
		ret = store_tx_commit(st, zone);
	if (ret != TDM_OK)
		store_rollback(st, zone);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

typedef struct {
	compact_t c;
	uint32_t serial;
	struct writer *w;
	const rrlist_t *list;
	size_t next;
	int deleted;
	int64_t from;
} compact_step_t;

/* The first step: where the contents are, the journal entry the new ones reach (TDM_ENOENT: none
 * pending leads to serial), and the other range cleared of a crashed compaction's rows. */
static int compact_begin(store_t *st, const char *zone, void *arg)
{
	compact_step_t *cs = arg;
	int64_t seq;
	int ret = store_zone_id(st, zone, &cs->c.zone_id);
	if (ret == TDM_OK)
		ret = seq_of(st, zone, cs->c.zone_id, cs->serial, &seq);
	if (ret == TDM_OK)
		ret = contents_at(st, zone, &cs->c);
	if (ret != TDM_OK)
		return ret;
	cs->c.target = cs->c.base == 0 ? STORE_CHUNK_RANGE : 0;
	return delete_chunks(st, zone, cs->c.zone_id, cs->c.target, cs->c.target + STORE_CHUNK_RANGE, NULL);
}

static int compact_write(store_t *st, const char *zone, void *arg)
{
	compact_step_t *cs = arg;
	return store_write_records_part(cs->w, cs->list, &cs->next, COMPACT_STEP_CHUNKS);
}

/* The move: the new range current and the base at the entry it reaches, if nothing replaced the
 * contents since the first step (TDM_EAGAIN otherwise: the next compaction writes them). */
static int compact_move(store_t *st, const char *zone, void *arg)
{
	compact_step_t *cs = arg;
	int64_t seq;
	int ret = seq_of(st, zone, cs->c.zone_id, cs->serial, &seq);
	if (ret != TDM_OK)
		return ret;
	sqlite3_stmt *s = st->q[Q_BASE_AT];
	sqlite3_bind_int64(s, 1, cs->c.zone_id);
	sqlite3_bind_int64(s, 2, seq);
	sqlite3_bind_int64(s, 3, cs->c.target);
	sqlite3_bind_int64(s, 4, cs->c.gen);
	ret = store_run(st, Q_BASE_AT, zone, "moving the contents on");
	sqlite3_clear_bindings(s);
	if (ret == TDM_OK && sqlite3_changes(st->db) == 0)
		return TDM_EAGAIN;
	if (ret == TDM_OK)
		crashpoint("store-compact-before-commit");
	return ret;
}

static int compact_drop(store_t *st, const char *zone, void *arg)
{
	compact_step_t *cs = arg;
	return delete_chunks(st, zone, cs->c.zone_id, cs->from, cs->from + COMPACT_DELETE_CHUNKS,
	                     &cs->deleted);
}

/* Deletes the chunks of a range from its start, a step at a time, until a step finds none. */
static int drop_range(store_t *st, const char *zone, compact_step_t *cs, int64_t base)
{
	int ret = TDM_OK;
	for (cs->from = base; ret == TDM_OK; cs->from += COMPACT_DELETE_CHUNKS) {
		if ((ret = step(st, zone, compact_drop, cs)) == TDM_OK && cs->deleted == 0)
			break;
	}
	return ret;
}

int store_zone_compact(store_t *st, const char *zone, const rrlist_t *list, uint32_t serial)
{
	struct writer w = { .st = st, .zone = zone };
	compact_step_t cs = { .serial = serial, .w = &w, .list = list };
	w.buf = malloc(store_writer_size(list));
	if (w.buf == NULL)
		return TDM_ENOMEM;
	int ret = step(st, zone, compact_begin, &cs);
	if (ret != TDM_OK)
		goto out;
	w.zone_id = cs.c.zone_id;
	w.seq = cs.c.target;
	size_t n = rrlist_count(list);
	do {
		ret = step(st, zone, compact_write, &cs);
		if (ret == TDM_OK) {
			crashpoint("store-compact-staged");
			pausepoint("store-compact-staged");
		}
	} while (ret == TDM_OK && cs.next < n);
	if (ret == TDM_OK)
		ret = step(st, zone, compact_move, &cs);
	if (ret == TDM_OK) {
		crashpoint("store-compact-after-commit");
		/* Done: old rows left by a failure here are cleared by the next compaction's first step. */
		if (drop_range(st, zone, &cs, cs.c.base) != TDM_OK)
			log_warn("%s: store: the old contents' rows are kept until the next compaction", zone);
	} else {
		drop_range(st, zone, &cs, cs.c.target);   /* the new rows go; the old contents stay */
	}
out:
	free(w.buf);
	return ret;
}

static int unpack_list(const void *blob, int len, rrlist_t **out)
{
	rrlist_t *list = rrlist_new();
	if (list == NULL)
		return TDM_ENOMEM;
	size_t n = 0, pos = 0;
	const uint8_t *p = blob;
	/* Count first: store_unpack checks the count it is given. */
	while (pos < (size_t)len) {
		int olen = name_length(p + pos, (size_t)len - pos);
		if (olen < 0 || (size_t)len - pos - (size_t)olen < 8)
			break;
		pos += (size_t)olen + 8 + (size_t)(p[pos + olen + 6] << 8 | p[pos + olen + 7]);
		n++;
	}
	int ret = store_unpack(list, p, (size_t)len, (int64_t)n);
	if (ret != TDM_OK) {
		rrlist_free(list);
		return ret;
	}
	*out = list;
	return TDM_OK;
}

/* Hands one row to fn; the lists become fn's. */
static int deliver(sqlite3_stmt *s, store_journal_fn fn, void *ctx)
{
	rrlist_t *removed = NULL, *added = NULL;
	int ret = unpack_list(sqlite3_column_blob(s, 2), sqlite3_column_bytes(s, 2), &removed);
	if (ret == TDM_OK)
		ret = unpack_list(sqlite3_column_blob(s, 3), sqlite3_column_bytes(s, 3), &added);
	if (ret != TDM_OK) {
		rrlist_free(removed);
		return ret == TDM_ENOMEM ? ret : TDM_ESTORE;
	}
	return fn(ctx, (uint32_t)sqlite3_column_int64(s, 0), (uint32_t)sqlite3_column_int64(s, 1),
	          removed, added);
}

static int walk(store_t *st, const char *zone, int64_t id, uint32_t from, store_journal_fn fn,
                void *ctx)
{
	sqlite3_stmt *s = st->q[Q_JOURNAL_GET];
	sqlite3_bind_int64(s, 1, id);
	bool found = false;
	uint32_t next = from;
	int ret = TDM_OK, rc;
	while (ret == TDM_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		uint32_t sfrom = (uint32_t)sqlite3_column_int64(s, 0);
		if (!found && sfrom != from)
			continue;
		if (found && sfrom != next)
			break;   /* a gap: should not happen, the chain ends here */
		found = true;
		next = (uint32_t)sqlite3_column_int64(s, 1);
		if (fn != NULL)
			ret = deliver(s, fn, ctx);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (ret == TDM_OK && !found)
		ret = TDM_ENOENT;
	return ret;
}

int store_zone_file_synced(store_t *st, const char *zone, uint32_t serial, const char *digest)
{
	pthread_mutex_lock(&st->lock);
	sqlite3_stmt *s = st->q[Q_FILE_SYNCED];
	sqlite3_bind_text(s, 1, zone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, serial);
	sqlite3_bind_text(s, 3, digest, -1, SQLITE_STATIC);
	int ret = store_run(st, Q_FILE_SYNCED, zone, "recording the zone file written");
	sqlite3_clear_bindings(s);
	if (ret == TDM_OK && sqlite3_changes(st->db) == 0)
		ret = TDM_ENOENT;
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int store_zone_pending_size(store_t *st, const char *zone, store_pending_t *out)
{
	int64_t id;
	*out = (store_pending_t){ 0 };
	pthread_mutex_lock(&st->lock);
	int ret = store_zone_id(st, zone, &id);
	if (ret == TDM_OK)
		ret = pending_size(st, zone, id, out);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int store_zone_pending(store_t *st, const char *zone, store_journal_fn fn, void *ctx)
{
	int64_t id;
	pthread_mutex_lock(&st->lock);
	int ret = store_tx_begin(st, false, zone);
	if (ret == TDM_OK && (ret = store_zone_id(st, zone, &id)) == TDM_OK) {
		sqlite3_stmt *s = st->q[Q_PENDING_GET];
		sqlite3_bind_int64(s, 1, id);
		int rc;
		while (ret == TDM_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
			ret = deliver(s, fn, ctx);
		if (ret == TDM_OK && rc != SQLITE_DONE)
			ret = store_fail(st, zone, "reading the journal");
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	if (ret == TDM_OK)
		ret = store_tx_commit(st, zone);
	else
		store_rollback(st, zone);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int store_journal_read(store_t *st, const char *zone, uint32_t from, store_journal_fn fn,
                       void *ctx)
{
	int64_t id;
	pthread_mutex_lock(&st->lock);
	int ret = store_tx_begin(st, false, zone);
	if (ret == TDM_OK && (ret = store_zone_id(st, zone, &id)) == TDM_OK)
		ret = walk(st, zone, id, from, fn, ctx);
	if (ret == TDM_OK)
		ret = store_tx_commit(st, zone);
	else
		store_rollback(st, zone);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
	snprintf(dst, size, "%s", src != NULL ? (const char *)src : "");
}

int store_state_get(store_t *st, const char *zone, store_state_t *out)
{
	int64_t id;
	pthread_mutex_lock(&st->lock);
	int ret = store_zone_id(st, zone, &id);
	if (ret == TDM_OK) {
		sqlite3_stmt *s = st->q[Q_STATE_GET];
		sqlite3_bind_int64(s, 1, id);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			memset(out, 0, sizeof(*out));
			out->refresh_at = sqlite3_column_int64(s, 0);
			out->expire_at = sqlite3_column_int64(s, 1);
			out->last_refresh = sqlite3_column_int64(s, 2);
			copy_text(out->last_result, sizeof(out->last_result), sqlite3_column_text(s, 3));
			copy_text(out->primary, sizeof(out->primary), sqlite3_column_text(s, 4));
		}
		ret = rc == SQLITE_ROW ? TDM_OK
		    : rc == SQLITE_DONE ? TDM_ENOENT : store_fail(st, zone, "reading the zone state");
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
	pthread_mutex_unlock(&st->lock);
	return ret;
}

typedef struct {
	const char *zone;
	const store_state_t *state;
} state_args_t;

static int state_op(store_t *st, void *arg);

int store_state_set(store_t *st, const char *zone, const store_state_t *state)
{
	state_args_t a = { .zone = zone, .state = state };
	return store_group_run(st, zone, state_op, &a);
}

static int state_op(store_t *st, void *arg)
{
	const char *zone = ((const state_args_t *)arg)->zone;
	const store_state_t *state = ((const state_args_t *)arg)->state;
	int64_t id;
	pthread_mutex_lock(&st->lock);
	int ret = store_zone_id(st, zone, &id);
	if (ret == TDM_OK) {
		sqlite3_stmt *s = st->q[Q_STATE_SET];
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, state->refresh_at);
		sqlite3_bind_int64(s, 3, state->expire_at);
		sqlite3_bind_int64(s, 4, state->last_refresh);
		sqlite3_bind_text(s, 5, state->last_result,
		                  (int)strnlen(state->last_result, sizeof(state->last_result)),
		                  SQLITE_STATIC);
		sqlite3_bind_text(s, 6, state->primary, (int)strnlen(state->primary, sizeof(state->primary)),
		                  SQLITE_STATIC);
		ret = store_run(st, Q_STATE_SET, zone, "writing the zone state");
		sqlite3_clear_bindings(s);
	}
	pthread_mutex_unlock(&st->lock);
	return ret;
}

static int member_set(store_t *st, const store_member_t *m)
{
	sqlite3_stmt *s = st->q[Q_MEMBER_SET];
	sqlite3_bind_text(s, 1, m->zone, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, m->catalog, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, m->unique_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, m->group, -1, SQLITE_STATIC);
	int ret = store_run(st, Q_MEMBER_SET, m->zone, "recording a catalog member");
	sqlite3_clear_bindings(s);
	return ret;
}

static void member_copy(const void *ctx, size_t i, store_member_t *out)
{
	(void)i;
	*out = *(const store_member_t *)ctx;
}

int store_member_set(store_t *st, const store_member_t *m)
{
	return store_member_set_many(st, 1, member_copy, m);
}

int store_member_set_many(store_t *st, size_t count, store_member_row_fn row, const void *ctx)
{
	if (count == 0)
		return TDM_OK;
	store_member_t m;
	row(ctx, 0, &m);
	pthread_mutex_lock(&st->lock);
	/* One transaction (one fsync) for a whole catalog's worth of new members. */
	int ret = store_tx_begin(st, true, m.zone);
	for (size_t i = 0; i < count && ret == TDM_OK; i++) {
		if (i > 0)
			row(ctx, i, &m);   /* the statement let go of the last row's octets (member_set) */
		ret = member_set(st, &m);
	}
	if (ret == TDM_OK)
		ret = store_tx_commit(st, m.zone);
	if (ret != TDM_OK)
		store_rollback(st, m.zone);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int store_member_delete(store_t *st, const char *zone)
{
	pthread_mutex_lock(&st->lock);
	sqlite3_bind_text(st->q[Q_MEMBER_DEL], 1, zone, -1, SQLITE_STATIC);
	int ret = store_run(st, Q_MEMBER_DEL, zone, "forgetting a catalog member");
	sqlite3_clear_bindings(st->q[Q_MEMBER_DEL]);
	pthread_mutex_unlock(&st->lock);
	return ret;
}

int store_member_list(store_t *st, store_member_t **out, size_t *count)
{
	size_t n = 0, cap = 16;
	store_member_t *list = malloc(cap * sizeof(*list));
	*out = NULL;
	*count = 0;
	if (list == NULL)
		return TDM_ENOMEM;
	pthread_mutex_lock(&st->lock);
	sqlite3_stmt *s = st->q[Q_MEMBER_LIST];
	int ret = TDM_OK, rc;
	while (ret == TDM_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			store_member_t *p = realloc(list, cap * 2 * sizeof(*list));
			if (p == NULL) {
				ret = TDM_ENOMEM;
				break;
			}
			list = p;
			cap *= 2;
		}
		store_member_t *m = &list[n++];
		copy_text(m->zone, sizeof(m->zone), sqlite3_column_text(s, 0));
		copy_text(m->catalog, sizeof(m->catalog), sqlite3_column_text(s, 1));
		copy_text(m->unique_id, sizeof(m->unique_id), sqlite3_column_text(s, 2));
		copy_text(m->group, sizeof(m->group), sqlite3_column_text(s, 3));
	}
	if (ret == TDM_OK && rc != SQLITE_DONE)
		ret = store_fail(st, NULL, "listing catalog members");
	sqlite3_reset(s);
	pthread_mutex_unlock(&st->lock);
	if (ret != TDM_OK) {
		free(list);
		return ret;
	}
	*out = list;
	*count = n;
	return TDM_OK;
}
