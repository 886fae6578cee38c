/* provision/catproduce.h -- the catalogs we produce (RFC 9432): written whole, or one member at a time */
#pragma once

#include <stddef.h>

#include "conf/conf.h"
#include "runtime/runtime.h"
#include "runtime/zonert.h"

/* The catalog a zone is a member of (its member-of, else the server-wide catalog for a primary), or
 * NULL: whether a catalog we produce changes when the zone comes or goes. */
const char *catproduce_of(const conf_t *conf, const conf_zone_t *cz);

/*
 * Control thread: writes the catalog zr produces whole, from conf's zones and the API's that are
 * member-of it (and those moving out of it, with a coo property), then commits the difference from
 * what it serves like any change (serial, journal, store, publish, NOTIFY). Costs every member: for
 * a start, a configuration read again, a catalog made or given other settings.
 */
void catproduce_write(server_t *srv, zonert_t *zr, const conf_t *conf);

/*
 * Control thread: one zone came, went or changed its member_of or group (the API's create, delete and
 * settings change). Each catalog named in catalogs (count of them; NULL entries and names of zones
 * that are not catalogs we produce are passed over) is brought up to date for that zone alone: the
 * member's records there (its PTR, group and coo) are made what catproduce_write would make them, and
 * the difference committed as one change. Costs the member, not the catalog. A catalog with no
 * version yet is written whole.
 */
void catproduce_member(server_t *srv, const char *zone, const char *const *catalogs, size_t count);

/* Control thread, after a configuration was read again (SIGHUP, tandem reconfig; before: the one
 * replaced, still alive): the zones whose part in a catalog changed -- came, went,
 * another member-of or group -- change it for themselves alone, as catproduce_member does; every
 * catalog is written whole when the catalogs themselves changed (one made or dropped, the server-wide
 * catalog), or when most of a catalog's members did. */
void catproduce_reconfigured(server_t *srv, const conf_t *before);
