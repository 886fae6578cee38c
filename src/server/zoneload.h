/* server/zoneload.h -- bringing a configured zone's contents in: from its file (via the store) or the store */
#pragma once

#include "conf/conf.h"
#include "store/store.h"
#include "zone/contents.h"

typedef struct {
	store_t *store;
	unsigned journal_max;        /* journal entries kept per zone */
} zoneload_t;

/*
 * Brings a configured zone up to date. When the zone has a file whose digest differs from the one
 * recorded at its last import, the file is parsed, checked and compared with current (what is
 * served; NULL = nothing yet, then what the store holds): a change whose serial did not increase
 * gets a higher one (logged), and the new contents with the change as a journal entry are
 * committed to the store in one transaction. Without a file change, nothing happens when current is
 * set, and the stored contents are built when it is not. *out is the version to publish, or NULL
 * for "nothing new". Errors are logged naming the zone; the caller keeps serving what it had.
 * Returns TDM_OK, or an error (TDM_EPARSE, TDM_ESEMCHECK, TDM_ENOENT, TDM_ESTORE, ...).
 */
int zoneload_configured(const zoneload_t *zl, const conf_zone_t *cz,
                        const zone_contents_t *current, zone_contents_t **out);

/* Like zoneload_configured for contents the server generates (a catalog it produces): list (taken)
 * is compared with current (or the stored version after a restart); a change is committed with a
 * journal entry and a higher serial. *out is the version to publish, NULL for "nothing new". */
int zoneload_generated(const zoneload_t *zl, const conf_zone_t *cz, rrlist_t *list,
                       const zone_contents_t *current, zone_contents_t **out);

/* The stored contents of a zone (a secondary's, or a primary's without a file). TDM_ENOENT when
 * nothing is stored (logged as "no data yet"). */
int zoneload_stored(store_t *store, const conf_zone_t *cz, zone_contents_t **out);

/* The stored version from its contents (list, as store_zone_load gave them) and the journal entries
 * after them (store_zone_pending), applied in order. */
int zoneload_replay(store_t *store, const char *zone, const uint8_t *apex, const rrlist_t *list,
                    zone_contents_t **out);

/* After z was published: folds the journal into the stored contents when enough is pending
 * (change/change.h). Costs the zone, so it runs once the change is served. */
void zoneload_compact(const zoneload_t *zl, const char *zone, const zone_contents_t *z);

/* The store's file digest while dynamic updates are not yet written back to the zone file: the store
 * is ahead of the file, which a reload must not import (server/filesync.h). */
#define ZONELOAD_DIGEST_PENDING "write-back-pending"

/* Parses and checks a zone file without touching anything (tandemd --check). TDM_OK or an error;
 * each problem is printed as "file:line: problem". */
int zoneload_check_file(const conf_zone_t *cz);

/* Logs, as warnings naming the zone, what is wrong with a signed version's DNSSEC data: expired or
 * not yet valid signatures, unsigned RRsets, a broken NSEC/NSEC3 chain (at most a few lines). The
 * version is served all the same: a secondary serves what its primary sent. Returns the count. */
unsigned zoneload_dnssec_warnings(const char *zone, const zone_contents_t *z);
