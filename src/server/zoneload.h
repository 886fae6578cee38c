/* server/zoneload.h -- bringing a configured zone's contents in: from its file (via the store) or the store */
#pragma once

#include "conf/conf.h"
#include "store/store.h"
#include "zone/contents.h"

/*
 * Loads the contents of a configured zone. When the zone has a file whose digest differs from the
 * one recorded at its last import, the file is parsed, checked, committed to the store and built;
 * otherwise the stored contents are built -- unless `loaded` says the caller already serves them, in
 * which case nothing is done and *out stays NULL. Errors are logged naming the zone; the caller keeps
 * serving what it had. Returns TDM_OK (and *out, or NULL for "nothing new"), or an error
 * (TDM_EPARSE, TDM_ESEMCHECK, TDM_ENOENT, TDM_ESTORE, ...).
 */
int zoneload_configured(store_t *store, const conf_zone_t *cz, bool loaded, zone_contents_t **out);

/* Parses and checks a zone file without touching anything (tandemd --check). TDM_OK or an error;
 * each problem is printed as "file:line: problem". */
int zoneload_check_file(const conf_zone_t *cz);
