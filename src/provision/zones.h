/* provision/zones.h -- the zones of a configuration: created, loaded, their roles applied */
#pragma once

#include "runtime/runtime.h"
#include "runtime/zonert.h"
#include "runtime/zonework.h"

/* A configuration in force with its TSIG keys (takes conf). TDM_OK, TDM_ENOMEM or TDM_ECONF. */
int runconf_new(conf_t *conf, runconf_t **out);
void runconf_free(runconf_t *rc);

/*
 * Control thread: the zone table for conf. Zones kept from the current set keep their data; new ones
 * are created and loaded. Primary zones import a changed zone file (a new version is committed with
 * its journal entry, published and announced by NOTIFY); secondary zones serve what the store holds
 * and resume their timers. A zone whose role changed keeps its data. srv->rc must already be the
 * new configuration's (limits are read from it).
 */
int zones_build(server_t *srv, const conf_t *conf, zoneset_t **out);

/* What zones_reconfigure and zones_forget_removed did: zones new to the set, zones kept whose role or
 * zone file changed (loaded again), zones gone. */
typedef struct {
	size_t added, loaded, removed;
} zones_changes_t;

/* Control thread: as zones_build, for a configuration read again without a look at the zone files of
 * the zones kept (server_reconfig): only zones new to the set, or whose role or zone file changed, are
 * loaded; the others follow their new settings. *changes counts them (not removed: see below). */
int zones_reconfigure(server_t *srv, const conf_t *conf, zoneset_t **out, zones_changes_t *changes);

/* Control thread: arms the timers of every zone of the current set (after zones_build). */
void zones_arm(server_t *srv);

/* Control thread: zones of old that set no longer has lose their timers and data. Returns how many. */
size_t zones_forget_removed(server_t *srv, zoneset_t *old, zoneset_t *set);

/* Control thread: builds and publishes the zone set again for the configuration in force (after
 * catalog members came or went), frees the old one once no reader holds it. Only zones new to the set
 * are loaded; the others keep their data, timers and files unread (a reload reads those). */
int zones_rebuild(server_t *srv);

/* Control thread: one zone added to the set in force (cz: an API zone's settings, bound already) or
 * removed from it, without a pass over the others: created, loaded, published, its timer armed; or
 * its timer and data gone, published. TDM_ENOENT: zr is not in the set. */
int zones_add(server_t *srv, const conf_zone_t *cz);
int zones_remove(server_t *srv, zonert_t *zr);
/* The zone of the set in force named name (textual, any case), or NULL. */
zonert_t *zones_find(server_t *srv, const char *name);
/* Control thread: zr bound to new settings (an API zone's, bound already), as a rebuild would: a
 * role changed loads the zone in its new role, data kept; then a grace period. */
int zones_rebind(server_t *srv, zonert_t *zr, const conf_zone_t *cz);

/* Control thread: re-reads one primary zone's file now (tandem zone reload): the file is read and
 * parsed on runtime/zonework.c's thread, then zones_reload_ready makes the change from it. */
void zones_reload_one(server_t *srv, zonert_t *zr);
/* Control thread (CTL_RELOAD_READY): the change from a file read for zones_reload_one, when the zone
 * is still a primary of that file (r's prep is taken; r stays the caller's; NULL: nothing could be
 * read); the zone's view (zonert_t.reload) says what came of it. */
void zones_reload_ready(server_t *srv, zonert_t *zr, zonework_reload_t *r);
