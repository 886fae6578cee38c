/* provision/dynzone.h -- zones the server makes from a peer's word: catalog members, autoprimary zones */
#pragma once

#include "catalog/catalog.h"
#include "runtime/runtime.h"
#include "runtime/zonert.h"

/* A zone made from a peer's word, as the control thread keeps it (provision/dynzone.c says how):
 * catconsume.c and autoprimary.c make and change them, the rest only reads their configuration. */
typedef struct dynzone {
	struct dynzone *next;
	/* Two buffers: a rebind writes the one readers cannot be using (the zone set published since
	 * the last rebind points at the other), then the zone set is rebuilt to point at it. */
	conf_zone_t confs[2];
	int cur;
	/* Per buffer, at their lengths: "ORIGIN\0CATALOG\0" (confs[i].origin points at the first; at
	 * NAME_TEXT_MAX each the two were half of a member's memory). Buffer i's is freed when buffer i
	 * is written again, as its configuration is. */
	char *texts[2];
	const char *catalog;         /* into texts[cur]: the catalog's name, or "autoprimary:" and its name */
	char id[CATALOG_ID_MAX];
	char group[CATALOG_GROUP_MAX];
	uint8_t coo[NAME_MAXLEN];
	bool has_coo;
	bool dead, seen;
	const conf_remote_t *primary[2];   /* an autoprimary zone's primary (one per buffer) */
	/* Its name, at its length: it never changes, and at NAME_TEXT_MAX a member of a catalog of 100,000
	 * held a kilobyte of it, a quarter of its memory. */
	char name[];
} dynzone_t;

/* What an autoprimary zone's `catalog` field holds before its super-primary's name. */
#define DYNZONE_AUTOPRIMARY_PREFIX "autoprimary:"

/* Members of consumed catalogs and autoprimary zones, as zones of their own: the configuration each
 * one would have, made from its catalog's (primaries, ACLs, notify) or its super-primary's. */
size_t dynzone_count(server_t *srv);
/* The live one of that name (text, any case), NULL when none: one lookup in a map kept beside the
 * list (a walk of the list when the map could not be made). */
dynzone_t *dynzone_find(server_t *srv, const char *name);
/* Puts a pointer to each live one's configuration into out; returns how many. */
size_t dynzone_confs(server_t *srv, const conf_zone_t **out);
/* Frees the ones dropped since the last call (call after a grace period: workers may have read
 * their configuration). */
void dynzone_collect(server_t *srv);
void dynzone_free_all(server_t *srv);

/* At start: the ones remembered in the store, for the catalogs conf consumes and its super-primaries
 * (others are deleted with their data). */
int dynzone_restore(server_t *srv, const conf_t *conf);
/* At reload: they follow their catalog's or super-primary's new configuration; one gone takes its
 * zones. */
void dynzone_bind(server_t *srv, const conf_t *conf);

/* Control thread: a consumed catalog's member: its catalog, unique ID and group. */
bool dynzone_member_info(server_t *srv, const char *name, const char **catalog, const char **id,
                         const char **group);

/* Control thread: NULL when a zone of that name (lowercase wire) may be made from a peer's word
 * with this origin ("catalog C", "autoprimary from S"), else why not. */
const char *dynzone_refused(server_t *srv, const uint8_t *name, const char *origin);
/* Control thread: a new member of catalog cat, first in the list; NULL when out of memory. */
dynzone_t *dynzone_new_member(server_t *srv, const char *name, const conf_zone_t *cat);
/* Control thread: a new zone of that super-primary, first in the list; NULL when out of memory. */
dynzone_t *dynzone_new_autoprimary(server_t *srv, const char *name, const conf_autoprimary_t *ap);
/* A member's settings from its catalog and its group's template, in the buffer readers are not
 * using (the zone set is rebuilt after). TDM_OK, or TDM_ENOMEM when it would move to another catalog
 * and there is no memory for its name (nothing changed); binding to the catalog it has never fails. */
int dynzone_bind_catalog(dynzone_t *d, const conf_zone_t *cat, const conf_t *conf);
/* Makes sure the next dynzone_bind_catalog to cat cannot fail (a move to another catalog): TDM_OK or
 * TDM_ENOMEM, nothing else changed. */
int dynzone_reserve_catalog(dynzone_t *d, const conf_zone_t *cat);
/* Its row in the store, and that row written. */
void dynzone_row(const dynzone_t *d, store_member_t *m);
void dynzone_persist(server_t *srv, const dynzone_t *d);
