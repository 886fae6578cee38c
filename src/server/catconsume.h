/* server/catconsume.h -- consuming catalogs (RFC 9432): their members become secondary zones */
#pragma once

#include "server/server_impl.h"
#include "server/zonert.h"

/* Members of consumed catalogs, as zones of their own: the configuration each one would have, made
 * from its catalog's (primaries, ACLs, notify). */
size_t catalog_dyn_count(server_t *srv);
/* Puts a pointer to each live member's configuration into out; returns how many. */
size_t catalog_dyn_zones(server_t *srv, const conf_zone_t **out);
/* Frees the members dropped since the last call (call after a grace period: workers may have read
 * their configuration). */
void catalog_dyn_collect(server_t *srv);
void catalog_dyn_free(server_t *srv);

/* At start: the members remembered in the store, for the catalogs conf consumes (others are
 * deleted with their data). */
int catalog_restore(server_t *srv, const conf_t *conf);
/* At reload: members follow their catalog's new configuration; a catalog gone takes its members. */
void catalog_bind(server_t *srv, const conf_t *conf);

/* Control thread: a consumed catalog has a new version: members are added, reset (new unique ID),
 * moved (coo) or removed, and the zone set rebuilt. An invalid catalog is refused as a whole. */
void catalog_consume(server_t *srv, zonert_t *zr);

/* Control thread: a NOTIFY from super-primary `index` for a zone we lack: ask it for the zone's NS
 * set (on a thread); when that names one of our nameservers, CTL_AUTOPRIMARY_OK follows, and
 * CTL_AUTOPRIMARY_DONE in every case. Deduplicated per name, at most a few at once, rate-limited
 * and queued (bounded) per super-primary; the root and names at or below a zone here are never
 * checked. */
void autoprimary_check(server_t *srv, const char *name, size_t index);
/* Control thread: creates the zone as a secondary of that super-primary, remembered in the store. */
void autoprimary_add(server_t *srv, const char *name, size_t index);
/* Control thread: the check of that name ended; the next one waiting may start. */
void autoprimary_done(server_t *srv, const char *name);
/* Control thread: the queues of checks (at the end). */
void autoprimary_free(server_t *srv);

/* Control thread: removes a zone an autoprimary made, with its data. TDM_OK, TDM_ENOENT (no such
 * zone made by a super-primary), TDM_EEXIST (a catalog member: its catalog decides). */
int autoprimary_remove(server_t *srv, const char *name);

/* Control thread: a consumed catalog's member: its catalog, unique ID and group. */
bool catalog_member_info(server_t *srv, const char *name, const char **catalog, const char **id,
                         const char **group);
