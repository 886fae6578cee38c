/* provision/catconsume.c -- consuming catalogs (RFC 9432): their members become secondary zones */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "catalog/catalog.h"
#include "lib/error.h"
#include "lib/log.h"
#include "provision/catconsume.h"
#include "provision/dynzone.h"
#include "provision/zones.h"
#include "repl/schedule.h"
#include "runtime/inbox.h"

/* Members to write once a reconciliation is over, in one transaction. */
typedef struct {
	store_member_t *items;
	size_t count, cap;
} member_batch_t;

static void batch_add(server_t *srv, member_batch_t *b, const dynzone_t *d)
{
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		store_member_t *p = realloc(b->items, cap * sizeof(*p));
		if (p == NULL) {
			dynzone_persist(srv, d);   /* no memory for the batch: this one alone */
			return;
		}
		b->items = p;
		b->cap = cap;
	}
	dynzone_row(d, &b->items[b->count++]);
}

/* Members by name, for one reconciliation: an open-addressing table over the list. */
typedef struct {
	dynzone_t **slots;
	size_t mask;
} dyn_index_t;

static int index_build(server_t *srv, dyn_index_t *ix)
{
	size_t size = 64, n = 0;
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next)
		n++;
	while (size < n * 2 + 2)
		size *= 2;
	ix->slots = calloc(size, sizeof(dynzone_t *));
	ix->mask = size - 1;
	if (ix->slots == NULL)
		return TDM_ENOMEM;
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next) {
		size_t h = name_hash((const uint8_t *)d->name, strlen(d->name)) & ix->mask;
		while (ix->slots[h] != NULL)
			h = (h + 1) & ix->mask;
		ix->slots[h] = d;
	}
	return TDM_OK;
}

static dynzone_t *index_find(const dyn_index_t *ix, const char *name)
{
	for (size_t h = name_hash((const uint8_t *)name, strlen(name)) & ix->mask;
	     ix->slots[h] != NULL; h = (h + 1) & ix->mask)
		if (!ix->slots[h]->dead && strcmp(ix->slots[h]->name, name) == 0)
			return ix->slots[h];
	return NULL;
}

/* A member whose unique ID changed starts over (RFC 9432 5.4): data dropped, transferred afresh. */
static void reset(server_t *srv, dynzone_t *d, const char *id)
{
	char was[CATALOG_ID_MAX * 4], now[CATALOG_ID_MAX * 4];
	catalog_escape(d->id, was, sizeof(was));   /* IDs stored by older versions are raw */
	catalog_escape(id, now, sizeof(now));
	log_info("%s: unique ID in catalog %s changed (%s -> %s): transferring it afresh", d->name,
	         d->catalog, was, now);
	snprintf(d->id, sizeof(d->id), "%s", id);
	store_zone_delete(srv->store, d->name);
	zonert_t *zr = zones_find(srv, d->name);
	if (zr != NULL) {
		zone_set_contents(zr->zone, NULL);
		zr->serial = 0;
		schedule_refresh(srv, zr);
	}
}

/* The zone set's changes of one reconciliation: members new to it, and members bound to new settings
 * (moved, regrouped); a list that would grow past SET_CHANGES_MAX is dropped for a rebuild. */
#define SET_CHANGES_MAX 64

typedef struct {
	dynzone_t *added[SET_CHANGES_MAX], *rebound[SET_CHANGES_MAX];
	size_t nadded, nrebound;
	bool rebuild;
} set_changes_t;

static void note_change(set_changes_t *sc, dynzone_t *d, bool added)
{
	size_t *n = added ? &sc->nadded : &sc->nrebound;
	if (*n == SET_CHANGES_MAX)
		sc->rebuild = true;
	else
		(added ? sc->added : sc->rebound)[(*n)++] = d;
}

/* One member as the catalog lists it; returns true when the zone set must change (noted in sc). */
static bool take_member(server_t *srv, const conf_zone_t *cat, const catalog_member_t *m,
                        dyn_index_t *ix, member_batch_t *batch, set_changes_t *sc)
{
	char name[NAME_TEXT_MAX];
	name_to_text(m->zone, name, sizeof(name));
	dynzone_t *d = index_find(ix, name);
	bool added = false, moved = false, reset_id = false;
	const char *why = NULL;
	if (d == NULL || strcmp(d->catalog, cat->name) != 0) {   /* not ours yet: may it be? */
		char origin[NAME_TEXT_MAX + 16];
		snprintf(origin, sizeof(origin), "catalog %s", cat->name);
		why = dynzone_refused(srv, m->zone, origin);
	}
	if (why != NULL) {
		log_warn("%s: listed in catalog %s but %s: not taken over", name, cat->name, why);
		return false;
	}
	if (d != NULL && strcmp(d->catalog, cat->name) != 0) {
		uint8_t cat_wire[NAME_MAXLEN];
		name_from_text(cat->name, NULL, cat_wire);
		/* RFC 9432 5.6: the old catalog's coo names this one: the member moves, data kept. */
		if (!(d->has_coo && name_equal(d->coo, cat_wire))) {
			log_warn("%s: listed in catalog %s but a member of %s: not taken over", name,
			         cat->name, d->catalog);
			return false;
		}
		log_info("%s: moves from catalog %s to %s (coo)", name, d->catalog, cat->name);
		moved = true;
		d->has_coo = false;
		snprintf(d->id, sizeof(d->id), "%s", m->id);
	} else if (d == NULL) {
		if ((d = dynzone_new_member(srv, name, cat)) == NULL)
			return false;
		snprintf(d->id, sizeof(d->id), "%s", m->id);
		log_info("%s: added from catalog %s", name, cat->name);
		added = true;
	} else if (strcmp(d->id, m->id) != 0) {
		reset(srv, d, m->id);
		reset_id = true;
	}
	d->seen = true;
	d->has_coo = m->has_coo;
	memcpy(d->coo, m->coo, sizeof(d->coo));
	/* The store is written only for what changed: a catalog of thousands re-read costs nothing. */
	bool regroup = strcmp(d->group, m->group) != 0;
	if (regroup && !added) {
		char was[CATALOG_GROUP_MAX * 4], now[CATALOG_GROUP_MAX * 4];
		catalog_escape(d->group, was, sizeof(was));
		catalog_escape(m->group, now, sizeof(now));
		log_info("%s: group in catalog %s changed (\"%s\" -> \"%s\")", name, cat->name, was, now);
	}
	snprintf(d->group, sizeof(d->group), "%s", m->group);
	if (added || moved || regroup)
		dynzone_bind_catalog(d, cat, srv->rc->conf);   /* the group's template, the catalog's settings */
	if (added || moved || reset_id || regroup)
		batch_add(srv, batch, d);
	if (added || moved || regroup)   /* the zone set must point at the new settings */
		note_change(sc, d, added);
	return added || moved || regroup;
}

/*
 * The zone set after a reconciliation: a few members come, go or rebound change the set in force
 * one zone at a time (zones_add, zones_remove, zones_rebind: a copy of the table each, no pass over
 * every zone's settings); more than that, a rebuild. gone: the zones of the members removed, looked
 * up before any of them is dropped (a grace period frees the dead members).
 */
static void set_follow(server_t *srv, set_changes_t *sc, zonert_t **gone, size_t ngone)
{
	if (sc->rebuild || srv->zones == NULL) {
		zones_rebuild(srv);
		return;
	}
	bool failed = false;
	for (size_t i = 0; i < ngone && !failed; i++)
		failed = gone[i] == NULL || zones_remove(srv, gone[i]) != TDM_OK;
	for (size_t i = 0; i < sc->nadded && !failed; i++)
		failed = zones_add(srv, &sc->added[i]->confs[sc->added[i]->cur]) != TDM_OK;
	for (size_t i = 0; i < sc->nrebound && !failed; i++) {
		zonert_t *zr = zones_find(srv, sc->rebound[i]->name);
		failed = zr == NULL ||
		         zones_rebind(srv, zr, &sc->rebound[i]->confs[sc->rebound[i]->cur]) != TDM_OK;
	}
	if (failed)
		zones_rebuild(srv);
}

void catalog_consume(server_t *srv, zonert_t *zr)
{
	const conf_zone_t *cat = zr->conf;
	if (cat == NULL || cat->catalog != CONF_CATALOG_CONSUME)
		return;
	catalog_t c = { 0 };
	char why[256] = "";
	unsigned max = cat->catalog_max_members ? cat->catalog_max_members
	               : srv->rc->conf->server.catalog_max_members;
	rcu_read_lock();
	const zone_contents_t *z = zone_contents(zr->zone);
	int ret = z != NULL ? catalog_read_max(z, max, &c, why, sizeof(why)) : TDM_ENOENT;
	rcu_read_unlock();
	if (ret == TDM_ENOENT)
		return;   /* not transferred yet: the members remembered stay */
	if (ret != TDM_OK) {
		log_err("%s: catalog refused (%s), keeping the members it had",
		        zr->name, ret == TDM_EMALF ? why : tdm_strerror(ret));
		return;
	}
	dyn_index_t ix;
	if (index_build(srv, &ix) != TDM_OK) {
		catalog_clear(&c);
		return;
	}
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next)
		d->seen = false;
	bool changed = false;
	member_batch_t batch = { 0 };
	set_changes_t sc = { .nadded = 0 };
	for (size_t i = 0; i < c.count; i++)
		changed |= take_member(srv, cat, &c.members[i], &ix, &batch, &sc);
	store_member_set_many(srv->store, batch.items, batch.count);
	free(batch.items);
	zonert_t *gone[SET_CHANGES_MAX];
	size_t ngone = 0;
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next) {
		if (d->dead || d->seen || strcmp(d->catalog, cat->name) != 0)
			continue;
		log_info("%s: removed from catalog %s, deleting it", d->name, cat->name);
		d->dead = true;
		srv->dyn_dead = true;
		store_member_delete(srv->store, d->name);
		changed = true;
		if (ngone < SET_CHANGES_MAX)
			gone[ngone++] = zones_find(srv, d->name);
		else
			sc.rebuild = true;
	}
	free(ix.slots);
	/* A coo naming another catalog we consume: that catalog may have listed the member before this
	 * one said it could go (the two arrive in any order), so it looks again. */
	for (size_t i = 0; i < c.count; i++) {
		if (!c.members[i].has_coo)
			continue;
		zone_t *to = zoneset_find_exact(srv->zones, c.members[i].coo,
		                                name_length(c.members[i].coo, NAME_MAXLEN));
		if (to != NULL && zonert_of(to)->conf != NULL &&
		    zonert_of(to)->conf->catalog == CONF_CATALOG_CONSUME && zonert_of(to) != zr)
			inbox_post(srv, CTL_CATALOG, zonert_of(to));
	}
	catalog_clear(&c);
	if (changed)
		set_follow(srv, &sc, gone, ngone);
}
