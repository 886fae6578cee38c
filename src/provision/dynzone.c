/* provision/dynzone.c -- zones the server makes from a peer's word: catalog members, autoprimary zones */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/namemap.h"
#include "provision/dynzone.h"

/*
 * DESIGN. A catalog member or an autoprimary zone is a dynzone: a name, the catalog (or
 * super-primary) that owns it, its unique ID and group, and a conf_zone_t built from the catalog's
 * own configuration, so that the rest of the server treats it as any secondary zone. The list
 * belongs to the control thread; catconsume.c and autoprimary.c add to it and mark what goes dead,
 * and a zone dropped is freed only after the zone set without it has been published and a grace
 * period has passed (dynzone_collect). Membership is kept in the store (catalog_member), so a
 * restart serves members before the catalog is transferred again.
 *
 * What a catalog or a super-primary says is a peer's word: a member never takes over a name this
 * server answers for otherwise (dynzone_refused), a catalog has at most catalog-max-members, what
 * is logged of it is escaped, and a change costs what it changes (zones_rebuild loads only new
 * zones).
 */

/*
 * A zone made from a peer's word (a catalog member, a zone a super-primary NOTIFYs) must not take
 * over a name this server answers for otherwise: answers go to the zone with the longest apex, so a
 * member below a zone configured here (or equal to one), or below a zone another catalog or
 * super-primary made, would answer for part of that zone. Nor is the root ever made: it would answer
 * every name no other zone holds. origin is what the new zone's conf_zone_t.origin would be. Control
 * thread (srv->zones is its own). NULL when the zone may be made, else why not.
 */
const char *dynzone_refused(server_t *srv, const uint8_t *name, const char *origin)
{
	int len = name_length(name, NAME_MAXLEN);
	if (len <= 1)
		return "the root zone is never made from a catalog or a NOTIFY";
	zone_t *z = srv->zones != NULL ? zoneset_find(srv->zones, name, len) : NULL;
	const conf_zone_t *cz = z != NULL ? zonert_of(z)->conf : NULL;
	if (cz == NULL)
		return NULL;
	bool exact = name_equal(zone_name(z), name);
	if (cz->origin == NULL)
		return exact ? "configured here" : "below a zone configured here";
	if (strcmp(cz->origin, "api") == 0)
		return exact ? "made through the API" : "below a zone made through the API";
	if (!exact && strcmp(cz->origin, origin) != 0)
		return "below a zone that another catalog or super-primary made";
	return NULL;
}

/* The configured zones' apexes, sorted: members checked against them at start and reload. */
typedef struct {
	uint8_t (*names)[NAME_MAXLEN];
	size_t count;
} apexes_t;

static int apex_cmp(const void *a, const void *b)
{
	return memcmp(a, b, NAME_MAXLEN);
}

static int apexes_of(const conf_t *conf, apexes_t *out)
{
	out->count = 0;
	out->names = calloc(conf->zone_count ? conf->zone_count : 1, NAME_MAXLEN);
	if (out->names == NULL)
		return TDM_ENOMEM;
	for (size_t i = 0; i < conf->zone_count; i++) {
		if (name_from_text(conf->zones[i].name, NULL, out->names[out->count]) < 0)
			continue;
		name_copy_lower(out->names[out->count], out->names[out->count]);
		out->count++;
	}
	qsort(out->names, out->count, NAME_MAXLEN, apex_cmp);
	return TDM_OK;
}

/* Whether the zone named by text is at or below a configured zone (or the root, or no name). */
static bool apexes_cover(const apexes_t *ax, const char *text)
{
	uint8_t name[NAME_MAXLEN] = { 0 }, key[NAME_MAXLEN];
	if (name_from_text(text, NULL, name) <= 1)
		return true;
	name_copy_lower(name, name);
	for (const uint8_t *p = name; *p != 0; p += 1 + *p) {
		memset(key, 0, sizeof(key));
		memcpy(key, p, (size_t)name_length(p, NAME_MAXLEN));
		if (bsearch(key, ax->names, ax->count, NAME_MAXLEN, apex_cmp) != NULL)
			return true;
	}
	return false;
}

static bool texts_are(const char *block, const char *origin, const char *catalog)
{
	return block != NULL && strcmp(block, origin) == 0 && strcmp(block + strlen(block) + 1, catalog) == 0;
}

/*
 * Buffer n's texts (dynzone_t.texts), n being the buffer readers are not using. Without memory for
 * them, the other buffer's are taken over when they say the same (a reload, a regroup: the same
 * catalog): buffer n then owns that block, and the other buffer's configuration, which still points
 * into it, is written again (at the next bind) before buffer n is, and so before the block is freed.
 */
static int texts_set(dynzone_t *d, int n, const char *origin, const char *catalog)
{
	if (texts_are(d->texts[n], origin, catalog))
		return TDM_OK;   /* reserved (dynzone_reserve_catalog), or bound so before */
	size_t lo = strlen(origin), lc = strlen(catalog);
	char *block = malloc(lo + lc + 2);
	if (block != NULL) {
		memcpy(block, origin, lo + 1);
		memcpy(block + lo + 1, catalog, lc + 1);
	} else if (texts_are(d->texts[n ^ 1], origin, catalog)) {
		block = d->texts[n ^ 1];
		d->texts[n ^ 1] = NULL;
	} else {
		return TDM_ENOMEM;
	}
	free(d->texts[n]);
	d->texts[n] = block;
	return TDM_OK;
}

/* Buffer n made current, with its texts. */
static void texts_use(dynzone_t *d, int n)
{
	d->cur = n;
	d->confs[n].origin = d->texts[n];
	d->catalog = d->texts[n] + strlen(d->texts[n]) + 1;
}

static int catalog_texts(dynzone_t *d, int n, const conf_zone_t *cat)
{
	char origin[NAME_TEXT_MAX + 16];
	snprintf(origin, sizeof(origin), "catalog %s", cat->name);
	return texts_set(d, n, origin, cat->name);
}

int dynzone_reserve_catalog(dynzone_t *d, const conf_zone_t *cat)
{
	return catalog_texts(d, d->cur ^ 1, cat);
}

/* A member's settings: its group's template (RFC 9432 4.4.2), and the catalog's for the rest. */
int dynzone_bind_catalog(dynzone_t *d, const conf_zone_t *cat, const conf_t *conf)
{
	const conf_template_t *t = d->group[0] ? conf_template_find(conf, d->group) : NULL;
	int n = d->cur ^ 1;
	if (catalog_texts(d, n, cat) != TDM_OK)
		return TDM_ENOMEM;
	conf_zone_t *c = &d->confs[n];
	*c = (conf_zone_t){ .name = d->name, .type = CONF_ZONE_SECONDARY,
	                         .primaries = cat->primaries, .primary_count = cat->primary_count,
	                         .acls = cat->acls, .acl_count = cat->acl_count,
	                         .notify = cat->notify, .notify_count = cat->notify_count,
	                         /* the catalog's own limits bound its members' transfers too */
	                         .max_zone_records = cat->max_zone_records,
	                         .max_zone_size = cat->max_zone_size };
	if (t != NULL && t->primary_count > 0) {
		c->primaries = t->primaries;
		c->primary_count = t->primary_count;
	}
	if (t != NULL && t->acl_count > 0) {
		c->acls = t->acls;
		c->acl_count = t->acl_count;
	}
	if (t != NULL && t->notify_count > 0) {
		c->notify = t->notify;
		c->notify_count = t->notify_count;
	}
	texts_use(d, n);
	return TDM_OK;
}

size_t dynzone_count(server_t *srv)
{
	size_t n = 0;
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next)
		n += !d->dead;
	return n;
}

size_t dynzone_confs(server_t *srv, const conf_zone_t **out)
{
	size_t n = 0;
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next)
		if (!d->dead)
			out[n++] = &d->confs[d->cur];
	return n;
}

/* The map of the live ones by name: d under its name (a dead one of that name replaced). Without
 * memory the map goes, and lookups walk the list from then on. */
static void names_put(server_t *srv, dynzone_t *d)
{
	if (srv->dyn_names_off)
		return;
	if (srv->dyn_names == NULL && (srv->dyn_names = namemap_new()) == NULL) {
		srv->dyn_names_off = true;
		return;
	}
	size_t len = strlen(d->name);
	int ret = namemap_put(srv->dyn_names, d->name, len, d, NULL);
	if (ret == TDM_EEXIST)
		ret = namemap_set(srv->dyn_names, d->name, len, d);
	if (ret != TDM_OK) {
		namemap_free(srv->dyn_names);
		srv->dyn_names = NULL;
		srv->dyn_names_off = true;
	}
}

dynzone_t *dynzone_find(server_t *srv, const char *name)
{
	if (srv->dyn_names != NULL) {
		dynzone_t *d = namemap_get(srv->dyn_names, name, strlen(name));
		return d != NULL && !d->dead ? d : NULL;
	}
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next)
		if (!d->dead && strcasecmp(d->name, name) == 0)
			return d;
	return NULL;
}

static void dynzone_free(dynzone_t *d)
{
	free(d->texts[0]);
	free(d->texts[1]);
	free(d);
}

void dynzone_collect(server_t *srv)
{
	if (!srv->dyn_dead)
		return;   /* nothing to free: no walk over every member (an API call beside many) */
	srv->dyn_dead = false;
	dynzone_t **p = &srv->dyn;
	while (*p != NULL) {
		dynzone_t *d = *p;
		if (d->dead) {
			*p = d->next;
			if (srv->dyn_names != NULL && namemap_get(srv->dyn_names, d->name, strlen(d->name)) == d)
				namemap_del(srv->dyn_names, d->name, strlen(d->name));
			dynzone_free(d);
		} else {
			p = &d->next;
		}
	}
}

void dynzone_free_all(server_t *srv)
{
	namemap_free(srv->dyn_names);
	srv->dyn_names = NULL;
	while (srv->dyn != NULL) {
		dynzone_t *d = srv->dyn;
		srv->dyn = d->next;
		dynzone_free(d);
	}
}

static const conf_autoprimary_t *autoprimary_named(const conf_t *conf, const char *owner)
{
	if (strncmp(owner, DYNZONE_AUTOPRIMARY_PREFIX, strlen(DYNZONE_AUTOPRIMARY_PREFIX)) != 0)
		return NULL;
	for (size_t i = 0; i < conf->autoprimary_count; i++)
		if (strcmp(conf->autoprimaries[i].name, owner + strlen(DYNZONE_AUTOPRIMARY_PREFIX)) == 0)
			return &conf->autoprimaries[i];
	return NULL;
}

/* An autoprimary zone: a secondary of the super-primary that created it. TDM_OK or TDM_ENOMEM. */
static int bind_ap(dynzone_t *d, const conf_autoprimary_t *ap)
{
	char origin[NAME_TEXT_MAX + 32], catalog[NAME_TEXT_MAX + 32];
	snprintf(origin, sizeof(origin), "autoprimary from %s", ap->name);
	snprintf(catalog, sizeof(catalog), DYNZONE_AUTOPRIMARY_PREFIX "%s", ap->name);
	int n = d->cur ^ 1;
	if (texts_set(d, n, origin, catalog) != TDM_OK)
		return TDM_ENOMEM;
	d->primary[n] = ap->remote;
	d->confs[n] = (conf_zone_t){ .name = d->name, .type = CONF_ZONE_SECONDARY,
	                             .primaries = &d->primary[n], .primary_count = 1 };
	texts_use(d, n);
	return TDM_OK;
}

static const conf_zone_t *consumer(const conf_t *conf, const char *name)
{
	const conf_zone_t *cz = conf_zone_find(conf, name);
	return cz != NULL && cz->catalog == CONF_CATALOG_CONSUME ? cz : NULL;
}

/* A zone of that name, in no list yet. */
static dynzone_t *dynzone_alloc(const char *name)
{
	size_t len = strlen(name);
	if (len >= NAME_TEXT_MAX)
		return NULL;
	dynzone_t *d = calloc(1, sizeof(*d) + len + 1);
	if (d != NULL)
		memcpy(d->name, name, len + 1);
	return d;
}

dynzone_t *dynzone_new_member(server_t *srv, const char *name, const conf_zone_t *cat)
{
	dynzone_t *d = dynzone_alloc(name);
	if (d == NULL)
		return NULL;
	if (dynzone_bind_catalog(d, cat, srv->rc->conf) != TDM_OK) {
		dynzone_free(d);
		return NULL;
	}
	d->next = srv->dyn;
	srv->dyn = d;
	srv->dyn_gen++;
	names_put(srv, d);
	return d;
}

dynzone_t *dynzone_new_autoprimary(server_t *srv, const char *name, const conf_autoprimary_t *ap)
{
	dynzone_t *d = dynzone_alloc(name);
	if (d == NULL)
		return NULL;
	if (bind_ap(d, ap) != TDM_OK) {
		dynzone_free(d);
		return NULL;
	}
	d->next = srv->dyn;
	srv->dyn = d;
	srv->dyn_gen++;
	names_put(srv, d);
	return d;
}

void dynzone_row(const dynzone_t *d, store_member_t *m)
{
	snprintf(m->zone, sizeof(m->zone), "%s", d->name);
	snprintf(m->catalog, sizeof(m->catalog), "%s", d->catalog);
	snprintf(m->unique_id, sizeof(m->unique_id), "%s", d->id);
	snprintf(m->group, sizeof(m->group), "%s", d->group);
}

void dynzone_persist(server_t *srv, const dynzone_t *d)
{
	store_member_t m;
	dynzone_row(d, &m);
	store_member_set(srv->store, &m);
}

int dynzone_restore(server_t *srv, const conf_t *conf)
{
	store_member_t *list = NULL;
	size_t count = 0;
	apexes_t ax = { 0 };
	int ret = store_member_list(srv->store, &list, &count);
	if (ret == TDM_OK)
		ret = apexes_of(conf, &ax);
	for (size_t i = 0; ret == TDM_OK && i < count; i++) {
		const conf_zone_t *cat = consumer(conf, list[i].catalog);
		const conf_autoprimary_t *ap = autoprimary_named(conf, list[i].catalog);
		bool covered = apexes_cover(&ax, list[i].zone);
		if (ap != NULL && !covered) {
			if (dynzone_new_autoprimary(srv, list[i].zone, ap) == NULL) {
				ret = TDM_ENOMEM;
				break;
			}
			continue;
		}
		if (cat == NULL || covered) {
			/* A zone configured under that name now owns the data kept under it. */
			bool configured = conf_zone_find(conf, list[i].zone) != NULL;
			log_info("%s: its catalog %s is no longer consumed here (or the zone is configured, "
			         "or below one configured), %s", list[i].zone, list[i].catalog,
			         configured ? "forgetting the membership" : "deleting it");
			if (!configured)
				store_zone_delete(srv->store, list[i].zone);
			store_member_delete(srv->store, list[i].zone);
			continue;
		}
		dynzone_t *d = dynzone_new_member(srv, list[i].zone, cat);
		if (d == NULL) {
			ret = TDM_ENOMEM;
			break;
		}
		snprintf(d->id, sizeof(d->id), "%s", list[i].unique_id);
		snprintf(d->group, sizeof(d->group), "%s", list[i].group);
		(void)dynzone_bind_catalog(d, cat, conf);   /* again (its group may have a template): the
		                                             * same catalog, so it cannot fail */
	}
	if (count > 0)
		log_info("%zu zones made by catalogs or super-primaries restored from the store",
		         dynzone_count(srv));
	free(ax.names);
	free(list);
	return ret;
}

void dynzone_bind(server_t *srv, const conf_t *conf)
{
	srv->dyn_gen++;   /* new settings: a consumed catalog looks at all its members again */
	apexes_t ax = { 0 };
	/* Without memory for the check, nothing is dropped for being configured: the zone set build
	 * that follows keeps the configured zone first (it comes first in the table). */
	bool check = apexes_of(conf, &ax) == TDM_OK;
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next) {
		bool covered = !d->dead && check && apexes_cover(&ax, d->name);
		const conf_autoprimary_t *ap = d->dead ? NULL : autoprimary_named(conf, d->catalog);
		if (ap != NULL && !covered) {
			/* Bound to the super-primary it had (the same name): that cannot fail; if it did, the
			 * zone is dropped (its store row kept) rather than left pointing at the configuration
			 * being replaced. */
			if (bind_ap(d, ap) != TDM_OK) {
				d->dead = true;
				srv->dyn_dead = true;
			}
			continue;
		}
		const conf_zone_t *cat = d->dead || ap != NULL ? NULL : consumer(conf, d->catalog);
		if (cat == NULL || covered) {
			if (!d->dead) {
				log_info("%s: %s is gone (or the zone is configured, or below one configured), "
				         "dropping it", d->name, d->confs[d->cur].origin);
				store_member_delete(srv->store, d->name);
			}
			d->dead = true;
			srv->dyn_dead = true;
			continue;
		}
		if (dynzone_bind_catalog(d, cat, conf) != TDM_OK) {   /* the same catalog: as above */
			d->dead = true;
			srv->dyn_dead = true;
		}
	}
	free(ax.names);
}

bool dynzone_member_info(server_t *srv, const char *name, const char **catalog, const char **id,
                         const char **group)
{
	dynzone_t *d = dynzone_find(srv, name);
	if (d == NULL ||
	    strncmp(d->catalog, DYNZONE_AUTOPRIMARY_PREFIX, strlen(DYNZONE_AUTOPRIMARY_PREFIX)) == 0)
		return false;
	*catalog = d->catalog;
	*id = d->id;
	*group = d->group;
	return true;
}
