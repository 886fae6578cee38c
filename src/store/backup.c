/* store/backup.c -- a consistent copy of the store while it serves, and putting one back offline */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"
#include "store/store_impl.h"

/*
 * DESIGN. A backup is VACUUM INTO run on a read-only connection of its own: in WAL mode a reader
 * holds one snapshot for the whole statement and never blocks the server's writer, so UPDATEs,
 * transfers and reloads go on while the copy is written, and the copy is exactly one committed
 * state of every zone (a transaction is in it whole or not at all). Unlike the online backup API
 * (sqlite3_backup_step), which starts again whenever another connection writes between its steps,
 * it cannot be starved by a steady stream of changes. The copy is compact (no free pages) and
 * self-contained (no WAL beside it).
 *
 * A restore is offline: the copy is checked (integrity, schema), written next to the store, and
 * renamed over it, so a crash leaves the old store or the new one. The old one is kept as
 * tandem.db.bak, with its WAL folded in first: a WAL left beside the new file would be replayed
 * into it.
 */

#define STORE_FILE "tandem.db"
#define BACKUP_BUSY_MS 10000

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int ret = fsync(fd) == 0 ? TDM_OK : -errno;
	close(fd);
	return ret;
}

static int fsync_parent(const char *path)
{
	char dir[4096];
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	return fsync_path(dirname(dir), O_RDONLY | O_DIRECTORY);
}

/* The target of a backup: absolute, new, in an existing folder. */
static int check_target(const char *path, char *msg, size_t size)
{
	struct stat sb;
	char dir[4096];
	if (path[0] != '/') {
		snprintf(msg, size, "%s: the backup's path must be absolute", path);
		return TDM_EINVAL;
	}
	if (lstat(path, &sb) == 0) {
		snprintf(msg, size, "%s exists: a backup never overwrites a file", path);
		return TDM_EEXIST;
	}
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(msg, size, "the backup's path is too long");
		return -ENAMETOOLONG;
	}
	const char *parent = dirname(dir);
	if (stat(parent, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		int ret = stat(parent, &sb) != 0 ? -errno : -ENOTDIR;
		snprintf(msg, size, "%s: not a folder the server can write to (%s)", parent,
		         tdm_strerror(ret));
		return ret;
	}
	return TDM_OK;
}

int store_backup(store_t *st, const char *path, int64_t *bytes, char *msg, size_t size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct stat sb;
	int ret = check_target(path, msg, size);
	if (ret != TDM_OK) {
		log_err("backup: %s", msg);
		return ret;
	}
	ret = TDM_ESTORE;
	if (sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, BACKUP_BUSY_MS) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE) {
		snprintf(msg, size, "backup of %s to %s failed: %s", st->path, path,
		         db != NULL ? sqlite3_errmsg(db) : "out of memory");
		log_err("backup: %s", msg);
		/* VACUUM INTO created the file: a half-written copy must not pass for a backup. */
		if (s != NULL && lstat(path, &sb) == 0)
			unlink(path);
		goto out;
	}
	if ((ret = fsync_path(path, O_RDONLY)) != TDM_OK || (ret = fsync_parent(path)) != TDM_OK ||
	    (ret = stat(path, &sb) == 0 ? TDM_OK : -errno) != TDM_OK) {
		snprintf(msg, size, "backup %s written but not synced: %s", path, tdm_strerror(ret));
		log_err("backup: %s", msg);
		goto out;
	}
	if (bytes != NULL)
		*bytes = sb.st_size;
	snprintf(msg, size, "%s written (%lld bytes)", path, (long long)sb.st_size);
	log_info("backup: %s", msg);
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return ret;
}

/* Runs a query of one integer row on db. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int ret = TDM_ESTORE;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		ret = TDM_OK;
	}
	sqlite3_finalize(s);
	return ret;
}

/* The backup is a store this program can open: intact, a schema it knows (older ones migrate). */
static int check_backup(const char *backup, int64_t *zones)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t version = 0;
	int ret = TDM_ESTORE;
	if (sqlite3_open_v2(backup, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		log_err("%s: cannot open the backup: %s", backup,
		        db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		log_err("%s: not a store backup: %s", backup, sqlite3_errmsg(db));
		goto out;
	}
	const char *verdict = (const char *)sqlite3_column_text(s, 0);
	if (verdict == NULL || strcmp(verdict, "ok") != 0) {
		log_err("%s: the backup is damaged (SQLite integrity check: %s)", backup,
		        verdict != NULL ? verdict : "no answer");
		goto out;
	}
	if (query_int(db, "PRAGMA user_version", &version) != TDM_OK || version < 1) {
		log_err("%s: not a Tandem store (no schema version)", backup);
		goto out;
	}
	if (version > store_schema_version()) {
		log_err("%s: the backup's schema version %lld is newer than this program's %d: restore it "
		        "with the tandemd that wrote it", backup, (long long)version,
		        store_schema_version());
		ret = TDM_ESCHEMA;
		goto out;
	}
	if (query_int(db, "SELECT COUNT(*) FROM zone", zones) != TDM_OK) {
		log_err("%s: not a Tandem store (no zone table): %s", backup, sqlite3_errmsg(db));
		goto out;
	}
	ret = TDM_OK;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return ret;
}

/* Copies src to a new file dst (O_EXCL), fsynced. */
static int copy_file(const char *src, const char *dst)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, ret = TDM_OK;
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (out < 0) {
		ret = -errno;
		goto done;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : TDM_OK;
			break;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				ret = -errno;
				goto done;
			}
			off += w;
		}
	}
	if (ret == TDM_OK && fsync(out) != 0)
		ret = -errno;
done:
	if (out >= 0 && close(out) != 0 && ret == TDM_OK)
		ret = -errno;
	close(in);
	if (ret != TDM_OK && out >= 0)
		unlink(dst);
	return ret;
}

/*
 * Folds the current store's WAL into it. When the last connection closes SQLite deletes the WAL; one
 * still there afterwards means another process (a running tandemd) has the store open.
 */
static int quiesce_current(const char *db_path)
{
	char wal[4200];
	sqlite3 *db = NULL;
	struct stat sb;
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK) {
		log_err("%s: cannot open the current store to keep it: %s", db_path,
		        db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return TDM_ESTORE;
	}
	sqlite3_close(db);
	if (lstat(wal, &sb) == 0) {
		log_err("%s is in use by another process (is tandemd running?): stop it before a restore",
		        db_path);
		return -EBUSY;
	}
	return TDM_OK;
}

int store_restore(const char *data_dir, const char *backup, int64_t *zones)
{
	char db[4096], tmp[4200], bak[4200];
	int64_t n = 0;
	struct stat sb;
	int ret = check_backup(backup, &n);
	if (ret != TDM_OK)
		return ret;
	if (snprintf(db, sizeof(db), "%s/%s", data_dir, STORE_FILE) >= (int)sizeof(db))
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.restore", db);
	snprintf(bak, sizeof(bak), "%s.bak", db);
	if ((ret = store_mkdirs(data_dir)) != TDM_OK) {
		log_err("%s: cannot create the data directory: %s", data_dir, tdm_strerror(ret));
		return ret;
	}
	/* A .restore left by an interrupted restore is ours to replace. */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		ret = -errno;
		log_err("%s: cannot remove: %s", tmp, tdm_strerror(ret));
		return ret;
	}
	if ((ret = copy_file(backup, tmp)) != TDM_OK) {
		log_err("%s: cannot copy the backup to %s: %s", backup, tmp, tdm_strerror(ret));
		return ret;
	}
	bool had_store = lstat(db, &sb) == 0;
	if (had_store) {
		if ((ret = quiesce_current(db)) != TDM_OK)
			goto fail;
		/* A hard link keeps the old store under .bak while the rename below replaces the name in
		 * one step: there is never a moment without a tandem.db. */
		if ((unlink(bak) != 0 && errno != ENOENT) || link(db, bak) != 0) {
			ret = -errno;
			log_err("%s: cannot keep the current store as %s: %s", db, bak, tdm_strerror(ret));
			goto fail;
		}
	}
	if (rename(tmp, db) != 0) {
		ret = -errno;
		log_err("%s: cannot put the backup in place: %s", db, tdm_strerror(ret));
		goto fail;
	}
	if ((ret = fsync_path(data_dir, O_RDONLY | O_DIRECTORY)) != TDM_OK)
		log_warn("%s: fsync of the data directory failed: %s", data_dir, tdm_strerror(ret));
	log_info("%s restored from %s (%lld zones)%s%s", db, backup, (long long)n,
	         had_store ? "; the previous store is " : "", had_store ? bak : "");
	if (zones != NULL)
		*zones = n;
	return TDM_OK;
fail:
	unlink(tmp);
	return ret;
}
