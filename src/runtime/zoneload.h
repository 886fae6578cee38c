/* runtime/zoneload.h -- bringing a configured zone's contents in: from its file (via the store) or the store */
#pragma once

#include "conf/conf.h"
#include "store/store.h"
#include "zone/contents.h"
#include "zonefile/zonefile.h"

/* What a pass over the configured zones did with their files (counted when zoneload_t.stats is set). */
typedef struct {
	size_t unchanged;            /* the same size, mtime, inode and device as recorded: not read */
	size_t hashed;               /* read to compare their digest with the recorded one */
	size_t parsed;               /* parsed (new, or their digest changed) */
} zoneload_stats_t;

/*
 * A zone file looked at before zoneload_configured runs, possibly on another thread
 * (runtime/zoneprep.h): everything that needs neither the store nor the served version -- stat, read,
 * digest, parse, build, check -- judged against a snapshot of the zone's stored metadata. Problems are
 * logged as they are found. zoneload_configured uses it only when the store's metadata is still the
 * snapshot's, and does the work itself otherwise -- except for a zone served whose file was found
 * unchanged, which needs no work whatever the store got since.
 */
typedef enum {
	ZONELOAD_PREP_FAILED,        /* ret says why: not stat-able, not readable, not parsed */
	ZONELOAD_PREP_BEHIND,        /* the store holds dynamic updates the file lacks: not read */
	ZONELOAD_PREP_UNCHANGED,     /* the stat recorded: not read */
	ZONELOAD_PREP_SAME,          /* read, and its digest is the recorded one */
	ZONELOAD_PREP_PARSED,        /* changed (or new): list and z hold it, checked */
} zoneload_prep_kind_t;

typedef struct {
	bool done;                   /* set by zoneload_prepare */
	bool stored;                 /* the snapshot had the zone, with meta */
	bool parsed;                 /* a parse was tried */
	zoneload_prep_kind_t kind;
	int ret;
	store_zone_meta_t meta;
	store_file_stat_t fs;        /* the stat to record with the digest (zero: not recordable) */
	char digest[65];
	rrlist_t *list;
	zone_contents_t *z;
	double ms;                   /* parse, build and check */
	/* A parsed file's change from a served version, made ahead too (zoneload_prepare_change):
	 * list and z are gone then. Used only while base is still the version served. */
	zone_contents_t *base;       /* a reference, or NULL: not compared */
	rrlist_t *removed, *added;
	bool same;                   /* the same records: only the digest to record */
	uint32_t serial;             /* the new version's (raised by serial-policy when it had to be) */
	uint32_t file_serial;        /* the file's own */
	double diff_ms;
} zoneload_prep_t;

/* Looks at cz's file against meta (NULL: not stored) with parser (NULL: one made here). Touches no
 * shared state but the log: any thread. */
void zoneload_prepare(const conf_zone_t *cz, const store_zone_meta_t *meta,
                      zonefile_parser_t *parser, zoneload_prep_t *prep);
/* After zoneload_prepare found the file changed (ZONELOAD_PREP_PARSED): the change from base (a
 * reference, taken) to it, made now (cz's name, file and serial_policy are read), so that the thread
 * that commits it only has to check that base is still what is served. Costs the zone; any thread. */
void zoneload_prepare_change(const conf_zone_t *cz, zoneload_prep_t *prep, zone_contents_t *base);
/* Frees what a prepared file holds and empties it. */
void zoneload_prep_clear(zoneload_prep_t *prep);

typedef struct {
	store_t *store;
	unsigned journal_max;        /* journal entries kept per zone */
	zoneload_stats_t *stats;     /* NULL: not counted */
	bool quiet;                  /* one of many zones (a start or reload of more than a thousand,
	                              * provision/zones.c): a zone loaded is logged at debug, not info */
	/* When not NULL, zoneload_configured sets it to whether the version it hands out has journal
	 * entries beyond the stored contents (a change appended, entries replayed): only then can
	 * zoneload_compact have anything to do. */
	bool *pending;
	/* When not NULL, set when the store holds dynamic updates its zone file lacks (a write-back due:
	 * runtime/filesync.h). */
	bool *file_behind;
	/* The parser for zone files (one thread's: zonefile.h); NULL: one is made for each file. */
	zonefile_parser_t *parser;
	/* The zone's file prepared ahead (zoneload_prepare), or NULL; zoneload_configured uses it when
	 * it is still current and empties it either way. */
	zoneload_prep_t *prep;
} zoneload_t;

/*
 * Brings a configured zone up to date. A zone file whose size, mtime, ctime, inode and device are
 * those recorded with its digest is taken as unchanged without being read; the stat is recorded only
 * for a regular file without $INCLUDE last modified or changed (mtime, ctime) more than
 * ZONELOAD_RACY_S seconds before it was read
 * (a write within the same timestamp tick could otherwise go unseen). When the zone has a file whose
 * digest differs from the one recorded at its last import, the file is parsed, checked and compared with current (what is
 * served; NULL = nothing yet, then what the store holds): a change whose serial did not increase
 * gets a higher one (logged), and the new contents with the change as a journal entry are
 * committed to the store in one transaction. Without a file change, nothing happens when current is
 * set, and the stored contents are built when it is not. *out is the version to publish, or NULL
 * for "nothing new". Errors are logged naming the zone; the caller keeps serving what it had.
 * Returns TDM_OK, or an error (TDM_EPARSE, TDM_ESEMCHECK, TDM_ENOENT, TDM_ESTORE, ...).
 */
#define ZONELOAD_RACY_S 2

int zoneload_configured(const zoneload_t *zl, const conf_zone_t *cz,
                        const zone_contents_t *current, zone_contents_t **out);

/* Like zoneload_configured for contents the server generates (a catalog it produces): list (taken)
 * is compared with current (what is served, or else what is stored: zoneload_stored; NULL: nothing
 * yet); a change is committed with a journal entry and the serial policy's next serial, the list's own
 * serial aside. *out is the version to publish, NULL for "nothing new". */
int zoneload_generated(const zoneload_t *zl, const conf_zone_t *cz, rrlist_t *list,
                       const zone_contents_t *current, zone_contents_t **out);

/* The stored contents of a zone (a secondary's, or a primary's without a file). TDM_ENOENT when
 * nothing is stored (logged as "no data yet"). */
int zoneload_stored(store_t *store, const conf_zone_t *cz, bool quiet, zone_contents_t **out);

/* The stored version from its contents (list, as store_zone_load gave them) and the journal entries
 * after them (store_zone_pending), applied in order. */
int zoneload_replay(store_t *store, const char *zone, const uint8_t *apex, const rrlist_t *list,
                    zone_contents_t **out);

/* After z was published: folds the journal into the stored contents when enough is pending
 * (change/change.h). Costs the zone, so it runs once the change is served. */
void zoneload_compact(const zoneload_t *zl, const char *zone, const zone_contents_t *z);

/* The store's file digest while dynamic updates are not yet written back to the zone file: the store
 * is ahead of the file, which a reload must not import (runtime/filesync.h). */
#define ZONELOAD_DIGEST_PENDING "write-back-pending"

/* Parses and checks a zone file without touching anything (tandemd --check). TDM_OK or an error;
 * each problem is printed as "file:line: problem". */
int zoneload_check_file(const conf_zone_t *cz);

/* Logs, as warnings naming the zone, what is wrong with a signed version's DNSSEC data: expired or
 * not yet valid signatures, unsigned RRsets, a broken NSEC/NSEC3 chain (at most a few lines). The
 * version is served all the same: a secondary serves what its primary sent. Returns the count. */
unsigned zoneload_dnssec_warnings(const char *zone, const zone_contents_t *z);
