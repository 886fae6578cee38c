/* store/store.h -- the SQLite store in data-dir: zone contents and per-zone metadata (the only user of sqlite3) */
#pragma once

#include <stdint.h>

#include "zone/rrlist.h"

typedef struct store store_t;

typedef struct {
	uint32_t serial;            /* SOA serial of the stored contents */
	char source[32];            /* how the zone came to exist: "config", "api", ... */
	char file_digest[65];       /* hex SHA-256 of the zone file last imported, "" when none */
	int64_t updated;            /* unix time of the last change */
} store_zone_meta_t;

/* Opens (creating when missing) data_dir/tandem.db, creating data_dir too, and brings the schema up
 * to date by running the migrations it lacks. TDM_ESCHEMA when the file is newer than this program. */
int store_open(const char *data_dir, store_t **out);
void store_close(store_t *store);

/* Metadata of a zone (name textual, lowercase, trailing dot). TDM_ENOENT when not stored. */
int store_zone_meta(store_t *store, const char *zone, store_zone_meta_t *out);

/* Replaces the whole contents and metadata of a zone (creating it when missing) in one transaction:
 * after a crash either the old or the new version is there, never a mix. */
int store_zone_replace(store_t *store, const char *zone, const rrlist_t *list,
                       const store_zone_meta_t *meta);

/* Reads a zone's records into a new list (unsorted). TDM_ENOENT when not stored. */
int store_zone_load(store_t *store, const char *zone, rrlist_t **out);

/* Deletes a zone with everything stored for it. TDM_ENOENT when not stored. */
int store_zone_delete(store_t *store, const char *zone);

/* Names of all stored zones: a NULL-terminated array of strings, freed with store_names_free. */
int store_zone_names(store_t *store, char ***out);
void store_names_free(char **names);
