/* tests/unit/store/test_store.c -- the SQLite store: replace, load, metadata, delete, reopen, schema */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
/* The store's own test may look inside the database; nothing else includes sqlite3.h. */
#include <sqlite3.h>

#include "lib/error.h"
#include "store/digest.h"
#include "store/keys.h"
#include "store/store.h"
#include "testlib/testlib.h"

/* ---- helpers ---- */

/* dir/data/sub: store_open must create the missing levels. */
static char *data_dir(const char *dir)
{
	char *path = NULL;
	assert_true(asprintf(&path, "%s/data/sub", dir) > 0);
	return path;
}

/* A store opened in a new directory (dir/data/sub); close_and_remove closes it and removes them. */
static store_t *open_new(char **dir, char **data)
{
	store_t *st = NULL;
	*dir = test_tmpdir("store");
	*data = data_dir(*dir);
	assert_int_equal(store_open(*data, &st), TDM_OK);
	return st;
}

static void close_and_remove(store_t *st, char *dir, char *data)
{
	store_close(st);
	free(data);
	test_rmtree(dir);
}

/* "www" -> \3www\7example\3com\0 */
static void add(rrlist_t *list, const char *label, uint16_t type, uint32_t ttl, const void *rdata,
                uint16_t rdlen)
{
	uint8_t owner[256];
	size_t n = strlen(label);
	owner[0] = (uint8_t)n;
	memcpy(owner + 1, label, n);
	memcpy(owner + 1 + n, "\x07" "example\x03" "com", 13);
	if (n == 0)
		memcpy(owner, "\x07" "example\x03" "com", 13);
	assert_int_equal(rrlist_add(list, owner, type, ttl, rdata, rdlen, 7), TDM_OK);
}

static rrlist_t *small_zone(const char *address)
{
	rrlist_t *list = rrlist_new();
	assert_non_null(list);
	add(list, "", 6, 3600, "\x03ns1\x00\x01h\x00\x00\x00\x00\x01\x00\x00\x0e\x10\x00\x00\x03\x84"
	    "\x00\x09\x3a\x80\x00\x00\x01\x2c", 28);
	add(list, "", 2, 3600, "\x03ns1\x07" "example\x03" "com", 17);
	add(list, "ns1", 1, 3600, address, 4);
	add(list, "WWW", 1, 60, address, 4);         /* stored lowercase */
	add(list, "empty", 65001, 300, NULL, 0);      /* empty rdata */
	return list;
}

/* The change most tests append: www's A record 192.0.2.1 replaced by 192.0.2.2. */
static void www_change(rrlist_t **removed, rrlist_t **added)
{
	*removed = rrlist_new();
	*added = rrlist_new();
	assert_non_null(*removed);
	assert_non_null(*added);
	add(*removed, "www", 1, 60, "\xc0\x00\x02\x01", 4);
	add(*added, "www", 1, 60, "\xc0\x00\x02\x02", 4);
}

static void assert_same(rrlist_t *a, rrlist_t *b)
{
	assert_int_equal(rrlist_sort(a), TDM_OK);
	assert_int_equal(rrlist_sort(b), TDM_OK);
	assert_int_equal(rrlist_count(a), rrlist_count(b));
	for (size_t i = 0; i < rrlist_count(a); i++) {
		const rr_t *x = rrlist_at(a, i), *y = rrlist_at(b, i);
		assert_string_equal((const char *)x->owner, (const char *)y->owner);
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->ttl, y->ttl);
		assert_int_equal(x->rdlen, y->rdlen);
		if (x->rdlen > 0)
			assert_memory_equal(x->rdata, y->rdata, x->rdlen);
	}
}

static void assert_loads_as(store_t *st, const char *zone, rrlist_t *want)
{
	rrlist_t *got = NULL;
	assert_int_equal(store_zone_load(st, zone, &got), TDM_OK);
	assert_non_null(got);
	assert_same(want, got);
	rrlist_free(got);
}

static sqlite3 *open_raw(const char *data)
{
	char *path = NULL;
	sqlite3 *db = NULL;
	assert_true(asprintf(&path, "%s/tandem.db", data) > 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	free(path);
	return db;
}

/* The first column of the one row sql answers. */
static int64_t query_i64(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int query_int(sqlite3 *db, const char *sql)
{
	return (int)query_i64(db, sql);
}

/* ---- tests ---- */

static void test_replace_load_meta(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *v1 = small_zone("\xc0\x00\x02\x01");
	store_zone_meta_t meta = { .serial = 1, .source = "config", .updated = 1700000000 };
	strcpy(meta.file_digest, "ab12");
	assert_int_equal(store_zone_replace(st, "example.com.", v1, &meta), TDM_OK);

	store_zone_meta_t got;
	assert_int_equal(store_zone_meta(st, "example.com.", &got), TDM_OK);
	assert_int_equal(got.serial, 1);
	assert_string_equal(got.source, "config");
	assert_string_equal(got.file_digest, "ab12");
	assert_int_equal(got.updated, 1700000000);
	assert_loads_as(st, "example.com.", v1);

	/* A second replace leaves only the new contents and metadata. */
	rrlist_t *v2 = small_zone("\xc0\x00\x02\x63");
	add(v2, "extra", 16, 300, "\x02hi", 3);
	store_zone_meta_t meta2 = { .serial = 4000000000u, .source = "api" };
	assert_int_equal(store_zone_replace(st, "example.com.", v2, &meta2), TDM_OK);
	assert_int_equal(store_zone_meta(st, "example.com.", &got), TDM_OK);
	assert_int_equal(got.serial, 4000000000u);
	assert_string_equal(got.source, "api");
	assert_string_equal(got.file_digest, "");
	assert_true(got.updated > 1700000000);   /* 0 means now */
	assert_loads_as(st, "example.com.", v2);

	rrlist_free(v1);
	rrlist_free(v2);
	close_and_remove(st, dir, data);
}

/* Zones made and replaced in turn: a new zone's row id is the row just made, never a row of the write
 * before it (the chunk rows of another zone come last), and a zone written again keeps its own. */
static void test_zones_made_and_replaced_in_turn(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *a = small_zone("\xc0\x00\x02\x01");
	rrlist_t *b = small_zone("\xc0\x00\x02\x02");
	rrlist_t *a2 = small_zone("\xc0\x00\x02\x03");
	add(a2, "extra", 16, 300, "\x02hi", 3);
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	assert_int_equal(store_zone_replace(st, "a.example.", a, &meta), TDM_OK);
	assert_int_equal(store_zone_replace(st, "b.example.", b, &meta), TDM_OK);
	sqlite3 *db = open_raw(data);
	int64_t id_a = query_i64(db, "SELECT id FROM zone WHERE name = 'a.example.'");
	int64_t id_b = query_i64(db, "SELECT id FROM zone WHERE name = 'b.example.'");
	assert_true(id_a != id_b);
	assert_int_equal(store_zone_replace(st, "a.example.", a2, &meta), TDM_OK);
	assert_int_equal(store_zone_replace(st, "c.example.", b, &meta), TDM_OK);
	assert_int_equal(query_i64(db, "SELECT id FROM zone WHERE name = 'a.example.'"), id_a);
	int64_t id_c = query_i64(db, "SELECT id FROM zone WHERE name = 'c.example.'");
	assert_true(id_c != id_a && id_c != id_b);
	assert_loads_as(st, "a.example.", a2);
	assert_loads_as(st, "b.example.", b);
	assert_loads_as(st, "c.example.", b);
	assert_int_equal(query_int(db, "SELECT COUNT(*) FROM zone"), 3);
	sqlite3_close(db);
	rrlist_free(a);
	rrlist_free(b);
	rrlist_free(a2);
	close_and_remove(st, dir, data);
}

static void test_missing_zone(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	store_zone_meta_t got;
	rrlist_t *list = (rrlist_t *)&got;
	assert_int_equal(store_zone_meta(st, "nowhere.", &got), TDM_ENOENT);
	assert_int_equal(store_zone_load(st, "nowhere.", &list), TDM_ENOENT);
	assert_null(list);
	assert_int_equal(store_zone_delete(st, "nowhere."), TDM_ENOENT);
	char **names = NULL;
	assert_int_equal(store_zone_names(st, &names), TDM_OK);
	assert_null(names[0]);
	store_names_free(names);
	close_and_remove(st, dir, data);
}

static void test_names_delete_reopen(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *list = small_zone("\xc0\x00\x02\x01");
	rrlist_t *empty = rrlist_new();
	store_zone_meta_t meta = { .serial = 7, .source = "api" };
	assert_int_equal(store_zone_replace(st, "example.com.", list, &meta), TDM_OK);
	assert_int_equal(store_zone_replace(st, "b.example.", list, &meta), TDM_OK);
	assert_int_equal(store_zone_replace(st, "a.example.", empty, &meta), TDM_OK);

	char **names = NULL;
	assert_int_equal(store_zone_names(st, &names), TDM_OK);
	assert_string_equal(names[0], "a.example.");
	assert_string_equal(names[1], "b.example.");
	assert_string_equal(names[2], "example.com.");
	assert_null(names[3]);
	store_names_free(names);

	assert_int_equal(store_zone_delete(st, "b.example."), TDM_OK);
	assert_int_equal(store_zone_delete(st, "b.example."), TDM_ENOENT);
	store_zone_meta_t got;
	assert_int_equal(store_zone_meta(st, "b.example.", &got), TDM_ENOENT);
	store_close(st);

	/* Everything committed is there after reopening; the deleted zone's records are gone too. */
	assert_int_equal(store_open(data, &st), TDM_OK);
	assert_loads_as(st, "example.com.", list);
	assert_loads_as(st, "a.example.", empty);
	assert_int_equal(store_zone_meta(st, "example.com.", &got), TDM_OK);
	assert_int_equal(got.serial, 7);
	assert_int_equal(store_zone_names(st, &names), TDM_OK);
	assert_string_equal(names[0], "a.example.");
	assert_string_equal(names[1], "example.com.");
	assert_null(names[2]);
	store_names_free(names);
	store_close(st);

	sqlite3 *db = open_raw(data);
	assert_int_equal(query_int(db, "SELECT count(*) FROM rr_chunk WHERE zone_id NOT IN "
	                               "(SELECT id FROM zone)"), 0);
	sqlite3_close(db);
	rrlist_free(list);
	rrlist_free(empty);
	free(data);
	test_rmtree(dir);
}

/* Enough records, some of them large, to fill several chunks. */
static void test_many_records(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *list = rrlist_new();
	static uint8_t big[65535];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	char label[32];
	for (int i = 0; i < 50000; i++) {
		snprintf(label, sizeof(label), "host%d", i);
		uint8_t addr[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		add(list, label, 1, 300, addr, 4);
		if (i % 10000 == 0)
			add(list, label, 65000, 300, big, i == 0 ? 65535 : 40000);
	}
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	assert_int_equal(store_zone_replace(st, "example.com.", list, &meta), TDM_OK);
	assert_loads_as(st, "example.com.", list);
	store_close(st);
	sqlite3 *db = open_raw(data);
	assert_true(query_int(db, "SELECT count(*) FROM rr_chunk") > 2);
	sqlite3_close(db);
	rrlist_free(list);
	free(data);
	test_rmtree(dir);
}

static void test_schema(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	store_close(st);

	sqlite3 *db = open_raw(data);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 12);
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'change_history'"), 1);
	/* Schema step 12: no AUTOINCREMENT (no sqlite_sequence row written at each change), index kept. */
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'change_history'"
	                               " AND sql LIKE '%AUTOINCREMENT%'"), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'change_history_zone'"), 1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('tsig_key', 'api_key')"), 2);
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN "
	                               "('zone', 'rr_chunk', 'journal', 'zone_state')"), 4);
	assert_int_equal(query_int(db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	sqlite3_close(db);

	/* Reopening runs no migration twice. */
	assert_int_equal(store_open(data, &st), TDM_OK);
	store_close(st);

	/* A store written by a newer Tandem is refused, not damaged. */
	db = open_raw(data);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	st = (store_t *)&db;
	assert_int_equal(store_open(data, &st), TDM_ESCHEMA);
	assert_null(st);
	db = open_raw(data);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 99);
	sqlite3_close(db);
	free(data);
	test_rmtree(dir);
}

/* Zones made through the API: rows set, replaced, listed in name order, deleted; inside a batch they
 * go with the batch (an abort leaves nothing), and they survive a reopen. */
static void test_apizone(void **state)
{
	char *dir = test_tmpdir("store"), *data = data_dir(dir);
	store_t *st = NULL;
	store_apizone_t *list = NULL;
	size_t n = 99;
	assert_int_equal(store_open(data, &st), TDM_OK);
	assert_int_equal(store_apizone_list(st, &list, &n), TDM_OK);
	assert_int_equal(n, 0);
	store_apizone_free(list, n);
	assert_int_equal(store_apizone_set(st, "b.test.", "{\"type\":\"primary\"}", 5), TDM_OK);
	assert_int_equal(store_apizone_set(st, "a.test.", "{}", 6), TDM_OK);
	assert_int_equal(store_apizone_set(st, "b.test.", "{\"type\":\"secondary\"}", 7), TDM_OK);
	/* A batch that is aborted leaves nothing behind. */
	assert_int_equal(store_batch_begin(st), TDM_OK);
	assert_int_equal(store_apizone_set(st, "c.test.", "{}", 8), TDM_OK);
	store_batch_abort(st);
	store_close(st);
	assert_int_equal(store_open(data, &st), TDM_OK);
	assert_int_equal(store_apizone_list(st, &list, &n), TDM_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].zone, "a.test.");
	assert_string_equal(list[1].zone, "b.test.");
	assert_string_equal(list[1].settings, "{\"type\":\"secondary\"}");
	assert_int_equal(list[1].created, 5);   /* a replace keeps the creation time */
	store_apizone_free(list, n);
	assert_int_equal(store_apizone_delete(st, "a.test."), TDM_OK);
	assert_int_equal(store_apizone_delete(st, "none.test."), TDM_OK);
	assert_int_equal(store_apizone_list(st, &list, &n), TDM_OK);
	assert_int_equal(n, 1);
	store_apizone_free(list, n);
	close_and_remove(st, dir, data);
}

static int count_entry(void *ctx, uint32_t from, uint32_t to, rrlist_t *removed, rrlist_t *added)
{
	uint32_t *serials = ctx;
	serials[serials[0] + 1] = to;
	serials[0]++;
	rrlist_free(removed);
	rrlist_free(added);
	return TDM_OK;
}

/* Changes are appended without rewriting the contents; they stay pending (and are never trimmed)
 * until a compaction writes a later version; entries after that version stay pending. */
static void test_append_then_compact(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *v1 = small_zone("\xc0\x00\x02\x01"), *v2 = small_zone("\xc0\x00\x02\x02");
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	assert_int_equal(store_zone_commit(st, "example.com.", v1, &meta, NULL, 2), TDM_OK);
	store_pending_t p;
	assert_int_equal(store_zone_pending_size(st, "example.com.", &p), TDM_OK);
	assert_int_equal(p.changes, 0);
	/* Three changes 1 -> 2 -> 3 -> 4 with a journal of at most 2 entries. */
	rrlist_t *removed, *added;
	www_change(&removed, &added);
	for (uint32_t s = 1; s <= 3; s++) {
		store_diff_t diff = { .serial_from = s, .serial_to = s + 1, .removed = removed, .added = added };
		meta.serial = s + 1;
		assert_int_equal(store_zone_append(st, "example.com.", &meta, &diff, 2, &p), TDM_OK);
		assert_int_equal(p.changes, s);
		assert_true(p.bytes > 0);
	}
	uint32_t serials[8] = { 0 };
	assert_int_equal(store_zone_pending(st, "example.com.", count_entry, serials), TDM_OK);
	assert_int_equal(serials[0], 3);   /* none trimmed: all are part of the stored version */
	assert_int_equal(serials[1], 2);
	assert_int_equal(serials[3], 4);
	/* The contents are still version 1; the metadata says 4. */
	assert_loads_as(st, "example.com.", v1);
	store_zone_meta_t got;
	assert_int_equal(store_zone_meta(st, "example.com.", &got), TDM_OK);
	assert_int_equal(got.serial, 4);
	/* A compaction to a serial no pending entry leads to writes nothing. */
	assert_int_equal(store_zone_compact(st, "example.com.", v2, 9), TDM_ENOENT);
	assert_loads_as(st, "example.com.", v1);
	/* Compacting to version 3: the entry 3 -> 4 stays pending, the journal is trimmed to 2. */
	assert_int_equal(store_zone_compact(st, "example.com.", v2, 3), TDM_OK);
	assert_loads_as(st, "example.com.", v2);
	memset(serials, 0, sizeof(serials));
	assert_int_equal(store_zone_pending(st, "example.com.", count_entry, serials), TDM_OK);
	assert_int_equal(serials[0], 1);
	assert_int_equal(serials[1], 4);
	/* A fourth change trims what the contents hold beyond journal_max. */
	store_diff_t diff = { .serial_from = 4, .serial_to = 5, .removed = removed, .added = added };
	meta.serial = 5;
	assert_int_equal(store_zone_append(st, "example.com.", &meta, &diff, 2, &p), TDM_OK);
	assert_int_equal(p.changes, 2);
	assert_int_equal(store_journal_read(st, "example.com.", 1, NULL, NULL), TDM_ENOENT);
	assert_int_equal(store_journal_read(st, "example.com.", 3, NULL, NULL), TDM_OK);
	/* Appending to a zone not stored is refused. */
	assert_int_equal(store_zone_append(st, "other.com.", &meta, &diff, 2, NULL), TDM_ENOENT);
	rrlist_free(v1);
	rrlist_free(v2);
	rrlist_free(removed);
	rrlist_free(added);
	close_and_remove(st, dir, data);
}

/* An append that writes the row in part (serial_only: an UPDATE, an API edit) keeps the source and
 * the file stat; one that fails (a trigger refuses the journal row) leaves nothing, and the store
 * goes on; the journal is trimmed in steps of journal_max / 8 entries, never below journal_max. */
static void test_append_partial_row_fail_and_trim_steps(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *v1 = small_zone("\xc0\x00\x02\x01");
	store_zone_meta_t meta = { .serial = 1, .source = "api", .file_digest = "abc",
	                           .file_stat = { .size = 42, .mtime_ns = 7, .ino = 9 } };
	assert_int_equal(store_zone_commit(st, "example.com.", v1, &meta, NULL, 0), TDM_OK);
	rrlist_t *removed, *added;
	www_change(&removed, &added);
	store_zone_meta_t part = { .serial = 2, .serial_only = true };
	store_diff_t diff = { .serial_from = 1, .serial_to = 2, .removed = removed, .added = added };
	store_pending_t p;
	assert_int_equal(store_zone_append(st, "example.com.", &part, &diff, 100, &p), TDM_OK);
	store_zone_meta_t got;
	assert_int_equal(store_zone_meta(st, "example.com.", &got), TDM_OK);
	assert_int_equal(got.serial, 2);
	assert_string_equal(got.source, "api");
	assert_string_equal(got.file_digest, "abc");
	assert_int_equal(got.file_stat.size, 42);
	assert_int_equal(got.file_stat.ino, 9);
	assert_true(got.updated > 0);
	/* With a digest, the digest is written too. */
	snprintf(part.file_digest, sizeof(part.file_digest), "pending");
	part.serial = 3;
	diff.serial_from = 2;
	diff.serial_to = 3;
	assert_int_equal(store_zone_append(st, "example.com.", &part, &diff, 100, &p), TDM_OK);
	assert_int_equal(store_zone_meta(st, "example.com.", &got), TDM_OK);
	assert_string_equal(got.file_digest, "pending");
	assert_string_equal(got.source, "api");
	/* A failing append: nothing of it stays (row, journal, history), and the next one works. */
	sqlite3 *db = open_raw(data);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER no_four BEFORE INSERT ON journal "
	                                  "WHEN NEW.serial_to = 4 BEGIN SELECT RAISE(ABORT, 'refused'); END",
	                              NULL, NULL, NULL), SQLITE_OK);
	int history_before = query_int(db, "SELECT count(*) FROM change_history");
	sqlite3_close(db);
	part.serial = 4;
	diff.serial_from = 3;
	diff.serial_to = 4;
	assert_int_equal(store_zone_append(st, "example.com.", &part, &diff, 100, &p), TDM_ESTORE);
	assert_int_equal(store_zone_meta(st, "example.com.", &got), TDM_OK);
	assert_int_equal(got.serial, 3);
	db = open_raw(data);
	assert_int_equal(query_int(db, "SELECT count(*) FROM change_history"), history_before);
	assert_int_equal(query_int(db, "SELECT count(*) FROM journal"), 2);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER no_four", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* Trim steps: journal_max 16 trims 2 at a time, once the contents hold them (compacted). */
	uint32_t serial = 3;
	int steps = 0;
	for (int i = 0; i < 40; i++, serial++) {
		part.serial = serial + 1;
		diff.serial_from = serial;
		diff.serial_to = serial + 1;
		assert_int_equal(store_zone_append(st, "example.com.", &part, &diff, 16, &p), TDM_OK);
		if (i >= 20)   /* only what the contents hold is trimmed */
			assert_int_equal(store_zone_compact(st, "example.com.", v1, serial + 1), TDM_OK);
		db = open_raw(data);
		int n = query_int(db, "SELECT count(*) FROM journal");
		sqlite3_close(db);
		if (i > 20) {
			assert_true(n >= 16 && n <= 17);
			steps += n == 16;
		}
	}
	assert_true(steps >= 8 && steps <= 11);   /* every other change */
	rrlist_free(v1);
	rrlist_free(removed);
	rrlist_free(added);
	close_and_remove(st, dir, data);
}

/* A zone written for the first time skips clearing what it cannot have; with a journal entry in the
 * same write (an IXFR's first commit), its contents still count as including the entry: loaded
 * once, nothing pending; written again, the old records are gone. */
static void test_new_zone_with_entry(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *v2 = small_zone("\xc0\x00\x02\x02"), *v3 = small_zone("\xc0\x00\x02\x03");
	rrlist_t *removed, *added;
	www_change(&removed, &added);
	store_diff_t diff = { .serial_from = 1, .serial_to = 2, .removed = removed, .added = added };
	store_zone_meta_t meta = { .serial = 2, .source = "config" };
	assert_int_equal(store_zone_commit(st, "new.test.", v2, &meta, &diff, 10), TDM_OK);
	store_pending_t p;
	assert_int_equal(store_zone_pending_size(st, "new.test.", &p), TDM_OK);
	assert_int_equal(p.changes, 0);
	assert_int_equal(store_journal_read(st, "new.test.", 1, NULL, NULL), TDM_OK);
	store_close(st);
	assert_int_equal(store_open(data, &st), TDM_OK);
	assert_loads_as(st, "new.test.", v2);
	/* Written again (not new any more): the records are replaced, not added to. */
	meta.serial = 3;
	assert_int_equal(store_zone_commit(st, "new.test.", v3, &meta, NULL, 10), TDM_OK);
	assert_loads_as(st, "new.test.", v3);
	assert_int_equal(store_journal_read(st, "new.test.", 1, NULL, NULL), TDM_ENOENT);
	rrlist_free(v2);
	rrlist_free(v3);
	rrlist_free(removed);
	rrlist_free(added);
	close_and_remove(st, dir, data);
}


/* Schema step 12 on a store of step 11 (history ids under AUTOINCREMENT): the rows and their ids are
 * kept, the table loses AUTOINCREMENT, and the next change's id follows the last. */
static void test_history_rebuild(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *v1 = small_zone("\xc0\x00\x02\x01");
	store_zone_meta_t meta = { .serial = 1, .source = "api" };
	assert_int_equal(store_zone_commit(st, "h.test.", v1, &meta, NULL, 0), TDM_OK);
	rrlist_t *removed, *added;
	www_change(&removed, &added);
	for (uint32_t s = 1; s <= 5; s++) {
		store_diff_t diff = { .serial_from = s, .serial_to = s + 1, .removed = removed, .added = added };
		meta.serial = s + 1;
		assert_int_equal(store_zone_append(st, "h.test.", &meta, &diff, 10, NULL), TDM_OK);
	}
	store_close(st);
	/* Back to step 11: the table as step 8 made it, the rows (ids 7 to 11) copied over. */
	sqlite3 *db = open_raw(data);
	assert_int_equal(sqlite3_exec(db, "UPDATE change_history SET id = id + 6;"
	                                  "CREATE TABLE old_history AS SELECT * FROM change_history;"
	                                  "DROP TABLE change_history;"
	                                  "CREATE TABLE change_history (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	                                  " zone_id INTEGER NOT NULL REFERENCES zone(id) ON DELETE CASCADE,"
	                                  " created INTEGER NOT NULL, who TEXT NOT NULL,"
	                                  " serial_from INTEGER NOT NULL, serial_to INTEGER NOT NULL,"
	                                  " nremoved INTEGER NOT NULL, nadded INTEGER NOT NULL,"
	                                  " removed BLOB, added BLOB);"
	                                  "CREATE INDEX change_history_zone ON change_history (zone_id, id);"
	                                  "INSERT INTO change_history SELECT * FROM old_history;"
	                                  "DROP TABLE old_history; PRAGMA user_version = 11",
	                              NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_sequence WHERE name = 'change_history'"), 1);
	sqlite3_close(db);
	assert_int_equal(store_open(data, &st), TDM_OK);
	db = open_raw(data);
	assert_int_equal(query_int(db, "PRAGMA user_version"), 12);
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'change_history'"
	                               " AND sql LIKE '%AUTOINCREMENT%'"), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_sequence WHERE name = 'change_history'"), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM change_history"), 5);
	assert_int_equal(query_int(db, "SELECT min(id) FROM change_history"), 7);
	assert_int_equal(query_int(db, "SELECT max(id) FROM change_history WHERE serial_to = 6"), 11);
	sqlite3_close(db);
	/* The history reads as before, newest first, and the next change's id follows. */
	store_change_t *c = NULL;
	size_t count = 0;
	assert_int_equal(store_history_list(st, "h.test.", INT64_MAX, 10, false, &c, &count), TDM_OK);
	assert_int_equal(count, 5);
	assert_int_equal(c[0].serial_to, 6);
	assert_int_equal(c[4].serial_to, 2);
	store_changes_free(c, count);
	store_diff_t diff = { .serial_from = 6, .serial_to = 7, .removed = removed, .added = added };
	meta.serial = 7;
	assert_int_equal(store_zone_append(st, "h.test.", &meta, &diff, 10, NULL), TDM_OK);
	db = open_raw(data);
	assert_int_equal(query_int(db, "SELECT id FROM change_history WHERE serial_to = 7"), 12);
	sqlite3_close(db);
	rrlist_free(v1);
	rrlist_free(removed);
	rrlist_free(added);
	close_and_remove(st, dir, data);
}

/* One number from the store, read by a connection of its own. */
static int64_t query_store(const char *data, const char *sql)
{
	sqlite3 *db = open_raw(data);
	int64_t n = query_i64(db, sql);
	sqlite3_close(db);
	return n;
}

static int history_rows(const char *data, const char *zone)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM change_history JOIN zone ON zone.id = zone_id "
	         "WHERE zone.name = '%s'", zone);
	return (int)query_store(data, sql);
}

/* The history stays within STORE_HISTORY_PER_ZONE per zone, newest kept, whether a zone changes alone
 * (trimmed 64 at a time) or its changes alternate with another zone's (ids far apart). */
static void test_history_bound(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *v1 = small_zone("\xc0\x00\x02\x01");
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	assert_int_equal(store_zone_commit(st, "a.test.", v1, &meta, NULL, 10), TDM_OK);
	assert_int_equal(store_zone_commit(st, "b.test.", v1, &meta, NULL, 10), TDM_OK);
	rrlist_t *removed, *added;
	www_change(&removed, &added);
	int max_a = 0;
	uint32_t sa = 1, sb = 1;
	for (int i = 0; i < STORE_HISTORY_PER_ZONE + 300; i++, sa++) {
		store_diff_t diff = { .serial_from = sa, .serial_to = sa + 1, .removed = removed, .added = added };
		meta.serial = sa + 1;
		assert_int_equal(store_zone_append(st, "a.test.", &meta, &diff, 10, NULL), TDM_OK);
		int n = history_rows(data, "a.test.");
		assert_true(n <= STORE_HISTORY_PER_ZONE);
		if (n > max_a)
			max_a = n;
	}
	assert_int_equal(max_a, STORE_HISTORY_PER_ZONE);
	assert_true(history_rows(data, "a.test.") >= STORE_HISTORY_PER_ZONE - 64);
	/* The newest entry is the last change. */
	store_change_t *c = NULL;
	size_t count = 0;
	assert_int_equal(store_history_list(st, "a.test.", INT64_MAX, 1, false, &c, &count), TDM_OK);
	assert_int_equal(count, 1);
	assert_int_equal(c[0].serial_to, sa);
	store_changes_free(c, count);
	/* Alternating: each zone's span of ids is twice its rows; still bounded. */
	for (int i = 0; i < 2 * STORE_HISTORY_PER_ZONE + 200; i++) {
		bool a = i % 2 == 0;
		uint32_t *sp = a ? &sa : &sb;
		store_diff_t diff = { .serial_from = *sp, .serial_to = *sp + 1, .removed = removed, .added = added };
		meta.serial = *sp + 1;
		assert_int_equal(store_zone_append(st, a ? "a.test." : "b.test.", &meta, &diff, 10, NULL), TDM_OK);
		(*sp)++;
	}
	assert_true(history_rows(data, "a.test.") <= STORE_HISTORY_PER_ZONE);
	assert_true(history_rows(data, "b.test.") <= STORE_HISTORY_PER_ZONE);
	assert_true(history_rows(data, "b.test.") >= STORE_HISTORY_PER_ZONE - 64);
	rrlist_free(v1);
	rrlist_free(removed);
	rrlist_free(added);
	close_and_remove(st, dir, data);
}

/* A zone of n TXT records of 250 octets each (about 270 octets stored: 1,000 fill a chunk). */
static rrlist_t *txt_zone(int n, char fill)
{
	rrlist_t *list = small_zone("\xc0\x00\x02\x01");
	uint8_t rdata[251];
	rdata[0] = 250;
	memset(rdata + 1, fill, 250);
	for (int i = 0; i < n; i++) {
		char label[16];
		snprintf(label, sizeof(label), "t%d", i);
		add(list, label, 16, 300, rdata, sizeof(rdata));
	}
	return list;
}

static int64_t chunk_rows(const char *data, const char *where)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM rr_chunk WHERE %s", where);
	return query_store(data, sql);
}

/* A compaction writes the new contents into the zone's other chunk range in steps (1 MiB each), then
 * moves to them and deletes the old rows: loads see the old contents plus the journal until the
 * move, the new ones after; rows a crashed compaction left in the range are cleared first; and a
 * whole replacement between its steps (a trigger bumps contents_gen as store_write_zone does) makes
 * it give up (TDM_EAGAIN), its rows dropped and the stored version unchanged. */
static void test_compact_in_steps(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *v1 = txt_zone(6000, 'a'), *v2 = txt_zone(6000, 'a');   /* 6 or 7 chunks: 2 steps */
	add(v2, "new", 1, 60, "\xc0\x00\x02\x09", 4);
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	add(added, "new", 1, 60, "\xc0\x00\x02\x09", 4);
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	assert_int_equal(store_zone_commit(st, "example.com.", v1, &meta, NULL, 100), TDM_OK);
	int64_t rows = chunk_rows(data, "seq < 1099511627776");
	assert_true(rows >= 6);
	assert_int_equal(chunk_rows(data, "seq >= 1099511627776"), 0);
	store_diff_t diff = { .serial_from = 1, .serial_to = 2, .removed = removed, .added = added };
	meta.serial = 2;
	assert_int_equal(store_zone_append(st, "example.com.", &meta, &diff, 100, NULL), TDM_OK);
	/* Rows of a compaction that died in the other range: cleared, never loaded. */
	sqlite3 *db = open_raw(data);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO rr_chunk (zone_id, seq, count, data) SELECT zone_id,"
	                                  " seq + 1099511627776, count, data FROM rr_chunk", NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO rr_chunk (zone_id, seq, count, data) SELECT id,"
	                                  " 1099511627776 + 50, 1, x'00' FROM zone", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	assert_loads_as(st, "example.com.", v1);   /* the contents; the journal adds "new" on load */
	assert_int_equal(store_zone_compact(st, "example.com.", v2, 2), TDM_OK);
	assert_loads_as(st, "example.com.", v2);
	assert_int_equal(chunk_rows(data, "seq < 1099511627776"), 0);
	assert_int_equal(chunk_rows(data, "seq >= 1099511627776"), rows);
	store_pending_t p;
	assert_int_equal(store_zone_pending_size(st, "example.com.", &p), TDM_OK);
	assert_int_equal(p.changes, 0);
	/* The next one goes back to the first range. */
	meta.serial = 3;
	diff = (store_diff_t){ .serial_from = 2, .serial_to = 3, .removed = added, .added = removed };
	assert_int_equal(store_zone_append(st, "example.com.", &meta, &diff, 100, NULL), TDM_OK);
	assert_int_equal(store_zone_compact(st, "example.com.", v1, 3), TDM_OK);
	assert_loads_as(st, "example.com.", v1);
	assert_int_equal(chunk_rows(data, "seq >= 1099511627776"), 0);
	/* A whole replacement between the steps: the compaction gives up and leaves nothing behind. */
	meta.serial = 4;
	diff = (store_diff_t){ .serial_from = 3, .serial_to = 4, .removed = removed, .added = added };
	assert_int_equal(store_zone_append(st, "example.com.", &meta, &diff, 100, NULL), TDM_OK);
	db = open_raw(data);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER replaced AFTER INSERT ON rr_chunk"
	                                  " BEGIN UPDATE zone SET contents_gen = contents_gen + 1; END",
	                              NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_zone_compact(st, "example.com.", v2, 4), TDM_EAGAIN);
	assert_int_equal(chunk_rows(data, "seq >= 1099511627776"), 0);
	assert_int_equal(chunk_rows(data, "seq < 1099511627776"), rows);
	assert_int_equal(store_zone_pending_size(st, "example.com.", &p), TDM_OK);
	assert_int_equal(p.changes, 1);   /* still pending: the load replays it */
	assert_loads_as(st, "example.com.", v1);
	rrlist_free(v1);
	rrlist_free(v2);
	rrlist_free(removed);
	rrlist_free(added);
	close_and_remove(st, dir, data);
}

/* The change serial -> serial + 1 appended (the journal kept to journal_max); *serial moves on. */
static void append_next(store_t *st, store_zone_meta_t *meta, uint32_t *serial, rrlist_t *removed,
                        rrlist_t *added, unsigned journal_max)
{
	store_diff_t diff = { .serial_from = *serial, .serial_to = *serial + 1, .removed = removed,
	                      .added = added };
	meta->serial = ++*serial;
	assert_int_equal(store_zone_append(st, "example.com.", meta, &diff, journal_max, NULL), TDM_OK);
}

struct compactor {
	store_t *st;
	rrlist_t *list;
	uint32_t serial;
	int ret;
	volatile int done;
};

static void *compact_thread(void *arg)
{
	struct compactor *c = arg;
	c->ret = store_zone_compact(c->st, "example.com.", c->list, c->serial);
	__atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* A change committed while a big compaction runs goes in between its steps: it is done while the
 * compaction is still writing (a mutex taken again at once would have kept it out to the end). */
static void test_change_during_compaction(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *v1 = txt_zone(60000, 'b');   /* about 16 MiB: 16 steps */
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	assert_int_equal(store_zone_commit(st, "example.com.", v1, &meta, NULL, 100), TDM_OK);
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	add(added, "new", 1, 60, "\xc0\x00\x02\x09", 4);
	uint32_t serial = 1;
	append_next(st, &meta, &serial, removed, added, 100);
	add(v1, "new", 1, 60, "\xc0\x00\x02\x09", 4);
	struct compactor c = { .st = st, .list = v1, .serial = 2 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, compact_thread, &c), 0);
	/* Once the compaction has written its first rows (a bounded wait: 10 s), one change. */
	for (int i = 0; i < 10000 && chunk_rows(data, "seq >= 1099511627776") == 0; i++)
		usleep(1000);
	assert_true(chunk_rows(data, "seq >= 1099511627776") > 0);
	append_next(st, &meta, &serial, added, removed, 100);
	assert_false(__atomic_load_n(&c.done, __ATOMIC_SEQ_CST));
	pthread_join(t, NULL);
	assert_int_equal(c.ret, TDM_OK);
	/* The change after the compacted version stays pending after it. */
	store_pending_t p;
	assert_int_equal(store_zone_pending_size(st, "example.com.", &p), TDM_OK);
	assert_int_equal(p.changes, 1);
	rrlist_free(v1);
	rrlist_free(removed);
	rrlist_free(added);
	close_and_remove(st, dir, data);
}

/* A compaction makes every entry it folded in trimmable at once: the changes after it trim 256 each
 * (one transaction never deletes thousands), until the journal is back within its bound. */
static void test_trim_after_compaction(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *v1 = small_zone("\xc0\x00\x02\x01");
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	assert_int_equal(store_zone_commit(st, "example.com.", v1, &meta, NULL, 100), TDM_OK);
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	add(removed, "www", 1, 60, "\xc0\x00\x02\x01", 4);
	add(added, "www", 1, 60, "\xc0\x00\x02\x01", 4);
	uint32_t serial = 1;
	for (int i = 0; i < 1000; i++)
		append_next(st, &meta, &serial, removed, added, 100);
	assert_int_equal(query_store(data, "SELECT count(*) FROM journal"), 1000);   /* all pending */
	assert_int_equal(store_zone_compact(st, "example.com.", v1, serial), TDM_OK);
	int64_t before = 1000;
	int changes = 0;
	while (before > 112 && changes < 10) {
		append_next(st, &meta, &serial, removed, added, 100);
		int64_t now = query_store(data, "SELECT count(*) FROM journal");
		assert_true(now >= before + 1 - 256);   /* at most 256 trimmed by one change */
		before = now;
		changes++;
	}
	assert_true(changes >= 4);   /* 900 to trim: four changes at least */
	assert_true(before <= 112);   /* back within journal_max and an eighth */
	rrlist_free(v1);
	rrlist_free(removed);
	rrlist_free(added);
	close_and_remove(st, dir, data);
}

/* A store written by the first schema gains the journal without losing its zones. */
static void test_migrate_from_v1(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *list = small_zone("\xc0\x00\x02\x01");
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	assert_int_equal(store_zone_replace(st, "example.com.", list, &meta), TDM_OK);
	store_close(st);
	sqlite3 *db = open_raw(data);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE tsig_key; DROP TABLE api_key;"
	                                  "DROP TABLE journal; DROP TABLE zone_state;"
	                                  "DROP TABLE change_history;"
	                                  "DROP TABLE catalog_member; ALTER TABLE zone DROP COLUMN"
	                                  " base_seq; ALTER TABLE zone DROP COLUMN pending_changes;"
	                                  " ALTER TABLE zone DROP COLUMN pending_bytes;"
	                                  " ALTER TABLE zone DROP COLUMN file_size;"
	                                  " ALTER TABLE zone DROP COLUMN file_mtime;"
	                                  " ALTER TABLE zone DROP COLUMN file_ino;"
	                                  " ALTER TABLE zone DROP COLUMN file_dev;"
	                                  " ALTER TABLE zone DROP COLUMN file_ctime; DROP TABLE api_zone;"
	                                  " ALTER TABLE zone DROP COLUMN history_bytes;"
	                                  " ALTER TABLE zone DROP COLUMN chunk_base;"
	                                  " ALTER TABLE zone DROP COLUMN contents_gen;"
	                                  " PRAGMA user_version = 1",
	                              NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(data, &st), TDM_OK);
	assert_loads_as(st, "example.com.", list);
	assert_int_equal(store_journal_read(st, "example.com.", 1, NULL, NULL), TDM_ENOENT);
	rrlist_free(list);
	close_and_remove(st, dir, data);
}

struct walk {
	int entries;
	uint32_t from[8], to[8];
	size_t removed[8], added[8];
};

static int collect(void *ctx, uint32_t from, uint32_t to, rrlist_t *removed, rrlist_t *added)
{
	struct walk *w = ctx;
	w->from[w->entries] = from;
	w->to[w->entries] = to;
	w->removed[w->entries] = rrlist_count(removed);
	w->added[w->entries] = rrlist_count(added);
	w->entries++;
	rrlist_free(removed);
	rrlist_free(added);
	return 0;
}

/* Commits append to the journal in the same transaction; the walk starts where asked; the limit
 * drops the oldest entries; a commit without a diff empties it. */
static void test_journal(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *v1 = small_zone("\xc0\x00\x02\x01"), *v2 = small_zone("\xc0\x00\x02\x02");
	rrlist_t *rm = rrlist_new(), *ad = rrlist_new();
	add(rm, "ns1", 1, 3600, "\xc0\x00\x02\x01", 4);
	add(ad, "ns1", 1, 3600, "\xc0\x00\x02\x02", 4);
	add(ad, "www", 1, 60, "\xc0\x00\x02\x02", 4);
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	assert_int_equal(store_zone_commit(st, "example.com.", v1, &meta, NULL, 0), TDM_OK);
	for (uint32_t serial = 1; serial <= 4; serial++) {
		store_diff_t diff = { .serial_from = serial, .serial_to = serial + 1, .removed = rm,
		                      .added = ad };
		meta.serial = serial + 1;
		assert_int_equal(store_zone_commit(st, "example.com.", v2, &meta, &diff, 3), TDM_OK);
	}
	struct walk w = { 0 };
	/* Entries 1->2 was trimmed (limit 3): 2->3, 3->4, 4->5 remain. */
	assert_int_equal(store_journal_read(st, "example.com.", 1, collect, &w), TDM_ENOENT);
	assert_int_equal(store_journal_read(st, "example.com.", 3, collect, &w), TDM_OK);
	assert_int_equal(w.entries, 2);
	assert_int_equal(w.from[0], 3);
	assert_int_equal(w.to[1], 5);
	assert_int_equal(w.removed[0], 1);
	assert_int_equal(w.added[1], 2);
	assert_loads_as(st, "example.com.", v2);
	meta.serial = 9;
	assert_int_equal(store_zone_commit(st, "example.com.", v1, &meta, NULL, 0), TDM_OK);
	assert_int_equal(store_journal_read(st, "example.com.", 4, NULL, NULL), TDM_ENOENT);
	rrlist_free(v1);
	rrlist_free(v2);
	rrlist_free(rm);
	rrlist_free(ad);
	close_and_remove(st, dir, data);
}

/* Timers survive a reopen; a zone that is not stored has no state. */
static void test_state(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	store_state_t in = { .refresh_at = 1000, .expire_at = 2000, .last_refresh = 900,
	                     .last_result = "ok", .primary = "127.0.0.1@53" }, out;
	assert_int_equal(store_state_set(st, "example.com.", &in), TDM_ENOENT);
	rrlist_t *list = small_zone("\xc0\x00\x02\x01");
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	assert_int_equal(store_zone_replace(st, "example.com.", list, &meta), TDM_OK);
	assert_int_equal(store_state_get(st, "example.com.", &out), TDM_ENOENT);
	assert_int_equal(store_state_set(st, "example.com.", &in), TDM_OK);
	store_close(st);
	assert_int_equal(store_open(data, &st), TDM_OK);
	assert_int_equal(store_state_get(st, "example.com.", &out), TDM_OK);
	assert_int_equal(out.refresh_at, 1000);
	assert_int_equal(out.expire_at, 2000);
	assert_int_equal(out.last_refresh, 900);
	assert_string_equal(out.last_result, "ok");
	assert_string_equal(out.primary, "127.0.0.1@53");
	/* Deleting the zone deletes its state. */
	assert_int_equal(store_zone_delete(st, "example.com."), TDM_OK);
	assert_int_equal(store_state_get(st, "example.com.", &out), TDM_ENOENT);
	rrlist_free(list);
	close_and_remove(st, dir, data);
}

static void test_corrupt_chunk(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *list = small_zone("\xc0\x00\x02\x01");
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	assert_int_equal(store_zone_replace(st, "example.com.", list, &meta), TDM_OK);
	sqlite3 *db = open_raw(data);
	assert_int_equal(sqlite3_exec(db, "UPDATE rr_chunk SET data = substr(data, 1, 30)", NULL, NULL,
	                              NULL), SQLITE_OK);
	sqlite3_close(db);
	rrlist_t *got = list;
	assert_int_equal(store_zone_load(st, "example.com.", &got), TDM_ESTORE);
	assert_null(got);
	rrlist_free(list);
	close_and_remove(st, dir, data);
}

/* A replace that fails half-way (here a trigger refuses the second chunk) leaves the old version. */
static void test_failed_replace_rolls_back(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *old = small_zone("\xc0\x00\x02\x01"), *big = rrlist_new();
	char label[32];
	for (int i = 0; i < 30000; i++) {
		snprintf(label, sizeof(label), "host%d", i);
		add(big, label, 1, 300, "\x0a\x00\x00\x01", 4);
	}
	store_zone_meta_t meta = { .serial = 1, .source = "config" }, meta2 = { .serial = 2 };
	assert_int_equal(store_zone_replace(st, "example.com.", old, &meta), TDM_OK);
	sqlite3 *db = open_raw(data);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER no_second BEFORE INSERT ON rr_chunk "
	                                  "WHEN NEW.seq = 1 BEGIN SELECT RAISE(ABORT, 'refused'); END",
	                              NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_zone_replace(st, "example.com.", big, &meta2), TDM_ESTORE);
	store_zone_meta_t got;
	assert_int_equal(store_zone_meta(st, "example.com.", &got), TDM_OK);
	assert_int_equal(got.serial, 1);
	assert_loads_as(st, "example.com.", old);
	/* The store is usable afterwards: no transaction was left open. */
	assert_int_equal(store_zone_replace(st, "other.", old, &meta2), TDM_OK);
	rrlist_free(old);
	rrlist_free(big);
	close_and_remove(st, dir, data);
}

/* The kept diffs of a zone's history stay within STORE_HISTORY_BYTES_PER_ZONE octets: changes of about
 * 200 KiB each (below the per-entry bound, so each is kept), 120 of them (24 MiB): the oldest go, the
 * newest stays, and the zone's count of octets is the sum of what is left (also after the count
 * bound trims, and for a store migrated from version 9, counted by the migration). */
static void test_history_byte_bound(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *v1 = small_zone("\xc0\x00\x02\x01");
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	assert_int_equal(store_zone_commit(st, "big.test.", v1, &meta, NULL, 10), TDM_OK);
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	char txt[201], label[32];
	memset(txt, 'x', sizeof(txt));
	txt[0] = (char)200;
	for (int i = 0; i < 900; i++) {
		snprintf(label, sizeof(label), "t%d", i);
		add(added, label, 16, 60, txt, sizeof(txt));
	}
	const char *sum = "SELECT COALESCE(SUM(LENGTH(removed) + LENGTH(added)), 0) FROM change_history";
	const char *counted = "SELECT history_bytes FROM zone WHERE name = 'big.test.'";
	int64_t peak = 0;
	for (uint32_t s = 1; s <= 120; s++) {
		store_diff_t diff = { .serial_from = s, .serial_to = s + 1, .removed = removed, .added = added };
		meta.serial = s + 1;
		assert_int_equal(store_zone_append(st, "big.test.", &meta, &diff, 10, NULL), TDM_OK);
		sqlite3 *db = open_raw(data);
		int64_t kept = query_i64(db, sum);
		assert_int_equal(query_i64(db, counted), kept);
		assert_true(kept <= STORE_HISTORY_BYTES_PER_ZONE);
		if (kept > peak)
			peak = kept;
		sqlite3_close(db);
	}
	assert_true(peak > STORE_HISTORY_BYTES_PER_ZONE / 8 * 7);   /* it filled up before trimming */
	int rows = history_rows(data, "big.test.");
	assert_true(rows < 120 && rows > 60);
	store_change_t *c = NULL;
	size_t count = 0;
	assert_int_equal(store_history_list(st, "big.test.", INT64_MAX, 1, false, &c, &count), TDM_OK);
	assert_int_equal(count, 1);
	assert_int_equal(c[0].serial_to, 121);
	assert_true(c[0].kept);
	store_changes_free(c, count);
	/* A count that says more than the rows hold (a hand edit): the next change drops the older
	 * entries, never the newest, and counts again from the rows. */
	sqlite3 *db = open_raw(data);
	assert_int_equal(sqlite3_exec(db, "UPDATE zone SET history_bytes = 1000000000", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	store_diff_t last = { .serial_from = 121, .serial_to = 122, .removed = removed, .added = added };
	meta.serial = 122;
	assert_int_equal(store_zone_append(st, "big.test.", &meta, &last, 10, NULL), TDM_OK);
	assert_int_equal(history_rows(data, "big.test."), 1);
	db = open_raw(data);
	assert_int_equal(query_i64(db, counted), query_i64(db, sum));
	sqlite3_close(db);
	store_close(st);
	/* A store of version 9 with history rows: the migration counts their octets. */
	db = open_raw(data);
	assert_int_equal(sqlite3_exec(db, "UPDATE zone SET history_bytes = 0; PRAGMA user_version = 9;"
	                                  "ALTER TABLE zone DROP COLUMN history_bytes;"
	                                  "ALTER TABLE zone DROP COLUMN chunk_base;"
	                                  "ALTER TABLE zone DROP COLUMN contents_gen",
	                              NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(data, &st), TDM_OK);
	db = open_raw(data);
	assert_int_equal(query_i64(db, counted), query_i64(db, sum));
	assert_true(query_i64(db, counted) > 0);
	sqlite3_close(db);
	rrlist_free(v1);
	rrlist_free(removed);
	rrlist_free(added);
	close_and_remove(st, dir, data);
}

/* A batch: the zones written inside it are one transaction, invisible to another connection until it
 * commits; a zone whose write fails inside it is undone alone, the others commit; an aborted batch
 * leaves nothing. The file's stat comes back with the metadata. */
static void test_batch(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *small = small_zone("\xc0\x00\x02\x01"), *big = rrlist_new();
	char label[32];
	for (int i = 0; i < 30000; i++) {
		snprintf(label, sizeof(label), "host%d", i);
		add(big, label, 1, 300, "\x0a\x00\x00\x01", 4);
	}
	store_zone_meta_t meta = { .serial = 1, .source = "config",
	                           .file_stat = { .size = 123, .mtime_ns = 1700000000123456789,
	                                          .ctime_ns = 1700000001000000001,
	                                          .ino = UINT64_MAX - 1, .dev = 2049 } };
	sqlite3 *db = open_raw(data);
	/* The second chunk of any zone is refused: the big zone's write fails half way. */
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER no_second BEFORE INSERT ON rr_chunk "
	                                  "WHEN NEW.seq = 1 BEGIN SELECT RAISE(ABORT, 'refused'); END",
	                              NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_batch_begin(st), TDM_OK);
	assert_int_equal(store_batch_begin(st), TDM_EINVAL);   /* one at a time */
	assert_int_equal(store_zone_commit(st, "a.", small, &meta, NULL, 0), TDM_OK);
	assert_int_equal(store_zone_commit(st, "big.", big, &meta, NULL, 0), TDM_ESTORE);
	assert_int_equal(store_zone_commit(st, "b.", small, &meta, NULL, 0), TDM_OK);
	/* Read back inside the batch (the same connection), not yet by another one. */
	assert_loads_as(st, "a.", small);
	assert_int_equal(query_int(db, "SELECT count(*) FROM zone"), 0);
	assert_int_equal(store_batch_commit(st), TDM_OK);
	assert_int_equal(query_int(db, "SELECT count(*) FROM zone"), 2);
	assert_int_equal(query_int(db, "SELECT count(*) FROM zone WHERE name = 'big.'"), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM rr_chunk"), 2);
	store_zone_meta_t got;
	assert_int_equal(store_zone_meta(st, "b.", &got), TDM_OK);
	assert_int_equal(got.file_stat.size, 123);
	assert_int_equal(got.file_stat.mtime_ns, 1700000000123456789);
	assert_true(got.file_stat.ino == UINT64_MAX - 1);
	assert_int_equal(got.file_stat.dev, 2049);
	assert_int_equal(got.file_stat.ctime_ns, 1700000001000000001);
	/* Aborted: nothing of it stays, and the store goes on. */
	assert_int_equal(store_batch_begin(st), TDM_OK);
	assert_int_equal(store_zone_commit(st, "c.", small, &meta, NULL, 0), TDM_OK);
	assert_int_equal(store_zone_delete(st, "a."), TDM_OK);
	store_batch_abort(st);
	assert_int_equal(store_zone_meta(st, "c.", &got), TDM_ENOENT);
	assert_loads_as(st, "a.", small);
	assert_int_equal(store_zone_commit(st, "d.", small, &meta, NULL, 0), TDM_OK);
	assert_int_equal(query_int(db, "SELECT count(*) FROM zone"), 3);
	sqlite3_close(db);
	rrlist_free(small);
	rrlist_free(big);
	close_and_remove(st, dir, data);
}

struct committer {
	store_t *st;
	int id;
	rrlist_t *list;
	int failures;
};

static void *commit_many(void *arg)
{
	struct committer *c = arg;
	char zone[64];
	for (int i = 0; i < 40; i++) {
		snprintf(zone, sizeof(zone), "t%d-z%d.", c->id, i);
		store_zone_meta_t meta = { .serial = (uint32_t)i + 1, .source = "secondary" };
		store_state_t state = { .refresh_at = i, .expire_at = 100 + i };
		snprintf(state.last_result, sizeof(state.last_result), "ok");
		if (store_zone_commit(c->st, zone, c->list, &meta, NULL, 0) != TDM_OK ||
		    store_state_set(c->st, zone, &state) != TDM_OK)
			c->failures++;
	}
	return NULL;
}

/* Commits from many threads at once are grouped (store_group_run): every one returns committed and
 * nothing is lost or mixed up; a batch open on one thread does not block its own commits. */
static void test_group_commit(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	rrlist_t *list = small_zone("\xc0\x00\x02\x07");
	struct committer c[6];
	pthread_t th[6];
	for (int i = 0; i < 6; i++) {
		c[i] = (struct committer){ .st = st, .id = i, .list = list };
		assert_int_equal(pthread_create(&th[i], NULL, commit_many, &c[i]), 0);
	}
	for (int i = 0; i < 6; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(c[i].failures, 0);
	}
	sqlite3 *db = open_raw(data);
	assert_int_equal(query_int(db, "SELECT count(*) FROM zone"), 240);
	assert_int_equal(query_int(db, "SELECT count(*) FROM zone_state"), 240);
	assert_int_equal(query_int(db, "SELECT count(*) FROM zone WHERE name = 't5-z39.' AND serial = 40"), 1);
	sqlite3_close(db);
	store_state_t got;
	assert_int_equal(store_state_get(st, "t3-z7.", &got), TDM_OK);
	assert_int_equal(got.expire_at, 107);
	assert_loads_as(st, "t0-z0.", list);
	/* Inside a batch of this thread, a commit runs in the batch. */
	assert_int_equal(store_batch_begin(st), TDM_OK);
	store_zone_meta_t meta = { .serial = 9 };
	assert_int_equal(store_zone_commit(st, "in-batch.", list, &meta, NULL, 0), TDM_OK);
	assert_int_equal(store_batch_commit(st), TDM_OK);
	assert_loads_as(st, "in-batch.", list);
	rrlist_free(list);
	close_and_remove(st, dir, data);
}

/* A committed replace survives the process being killed before it closes the store. */
static void test_survives_kill(void **state)
{
	char *dir = test_tmpdir("store"), *data = data_dir(dir);
	rrlist_t *list = small_zone("\xc0\x00\x02\x05");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		store_t *st = NULL;
		store_zone_meta_t meta = { .serial = 9, .source = "api" };
		if (store_open(data, &st) == TDM_OK &&
		    store_zone_replace(st, "example.com.", list, &meta) == TDM_OK)
			raise(SIGKILL);
		_exit(1);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	store_t *st = NULL;
	assert_int_equal(store_open(data, &st), TDM_OK);
	store_zone_meta_t got;
	assert_int_equal(store_zone_meta(st, "example.com.", &got), TDM_OK);
	assert_int_equal(got.serial, 9);
	assert_loads_as(st, "example.com.", list);
	rrlist_free(list);
	close_and_remove(st, dir, data);
}

static void test_open_fails(void **state)
{
	store_t *st = (store_t *)&st;
	assert_int_equal(store_open("/proc/nope/data", &st) < 0, 1);
	assert_null(st);
}

static void test_digest(void **state)
{
	char *dir = test_tmpdir("store"), *path = NULL;
	char out[65];
	assert_true(asprintf(&path, "%s/f", dir) > 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("abc", f);
	fclose(f);
	assert_int_equal(store_file_digest(path, out), TDM_OK);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	f = fopen(path, "w");
	fclose(f);
	assert_int_equal(store_file_digest(path, out), TDM_OK);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(store_file_digest("/nonexistent/file", out), TDM_ENOENT);
	free(path);
	test_rmtree(dir);
}

/* Keys made through the API: stored, listed by name, refused twice, deleted, kept across a reopen. */
static void test_keys(void **state)
{
	char *dir, *data;
	store_t *st = open_new(&dir, &data);
	store_tsig_key_t t1 = { .name = "b.key.", .algorithm = "hmac-sha256", .secret = "c2VjcmV0",
	                        .created = 5 };
	store_tsig_key_t t2 = { .name = "a.key.", .algorithm = "hmac-sha512", .secret = "eHl6",
	                        .created = 6 };
	assert_int_equal(store_tsig_key_add(st, &t1), TDM_OK);
	assert_int_equal(store_tsig_key_add(st, &t2), TDM_OK);
	assert_int_equal(store_tsig_key_add(st, &t1), TDM_EEXIST);
	store_apikey_t a1 = { .name = "ops", .write = true, .zones = " a.example. ", .hash = "ab",
	                      .created = 7 };
	store_apikey_t a2 = { .name = "ci", .write = false, .hash = "cd", .created = 8 };
	assert_int_equal(store_apikey_add(st, &a1), TDM_OK);
	assert_int_equal(store_apikey_add(st, &a2), TDM_OK);
	assert_int_equal(store_apikey_add(st, &a2), TDM_EEXIST);
	assert_int_equal(store_tsig_key_delete(st, "b.key."), TDM_OK);
	assert_int_equal(store_tsig_key_delete(st, "b.key."), TDM_ENOENT);
	assert_int_equal(store_apikey_delete(st, "nope"), TDM_ENOENT);
	store_close(st);

	assert_int_equal(store_open(data, &st), TDM_OK);
	store_tsig_key_t *tk;
	store_apikey_t *ak;
	size_t n;
	assert_int_equal(store_tsig_key_list(st, &tk, &n), TDM_OK);
	assert_int_equal(n, 1);
	assert_string_equal(tk[0].name, "a.key.");
	assert_string_equal(tk[0].algorithm, "hmac-sha512");
	assert_string_equal(tk[0].secret, "eHl6");
	assert_int_equal(tk[0].created, 6);
	store_tsig_keys_free(tk, n);
	assert_int_equal(store_apikey_list(st, &ak, &n), TDM_OK);
	assert_int_equal(n, 2);
	assert_string_equal(ak[0].name, "ci");
	assert_false(ak[0].write);
	assert_null(ak[0].zones);
	assert_string_equal(ak[1].name, "ops");
	assert_true(ak[1].write);
	assert_string_equal(ak[1].zones, " a.example. ");
	assert_string_equal(ak[1].hash, "ab");
	store_apikeys_free(ak, n);
	close_and_remove(st, dir, data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_load_meta),
		cmocka_unit_test(test_zones_made_and_replaced_in_turn),
		cmocka_unit_test(test_missing_zone),
		cmocka_unit_test(test_names_delete_reopen),
		cmocka_unit_test(test_many_records),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_compact_in_steps),
		cmocka_unit_test(test_change_during_compaction),
		cmocka_unit_test(test_trim_after_compaction),
		cmocka_unit_test(test_migrate_from_v1),
		cmocka_unit_test(test_append_then_compact),
		cmocka_unit_test(test_new_zone_with_entry),
		cmocka_unit_test(test_history_byte_bound),
		cmocka_unit_test(test_append_partial_row_fail_and_trim_steps),
		cmocka_unit_test(test_history_bound),
		cmocka_unit_test(test_history_rebuild),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_corrupt_chunk),
		cmocka_unit_test(test_failed_replace_rolls_back),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_survives_kill),
		cmocka_unit_test(test_open_fails),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_apizone),
		cmocka_unit_test(test_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
