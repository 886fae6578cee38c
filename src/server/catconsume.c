/* server/catconsume.c -- consuming catalogs (RFC 9432): their members become secondary zones */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "catalog/catalog.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/thread.h"
#include "server/catconsume.h"
#include "server/inbox.h"
#include "server/schedule.h"
#include "server/xot.h"
#include "server/zones.h"
#include "xfr/in.h"

/*
 * DESIGN. A member is a dynzone: a name, the catalog that owns it, its unique ID and group, and a
 * conf_zone_t built from the catalog's own configuration, so that the rest of the server treats it
 * as any secondary zone. The list belongs to the control thread; a member dropped is marked dead
 * and freed only after the zone set without it has been published and a grace period has passed.
 * Membership is kept in the store (catalog_member), so a restart serves members before the catalog
 * is transferred again.
 *
 * What a catalog or a super-primary says is a peer's word: a member never takes over a name this
 * server answers for otherwise (see refused_name), a catalog has at most catalog-max-members, what
 * is logged of it is escaped, and a change costs what it changes (zones_rebuild loads only new
 * zones).
 */

typedef struct dynzone {
	struct dynzone *next;
	/* Two buffers: a rebind writes the one readers cannot be using (the zone set published since
	 * the last rebind points at the other), then the zone set is rebuilt to point at it. */
	conf_zone_t confs[2];
	int cur;
	char name[NAME_TEXT_MAX];
	char catalog[NAME_TEXT_MAX];
	char id[CATALOG_ID_MAX];
	char group[CATALOG_GROUP_MAX];
	char origin[NAME_TEXT_MAX + 16];
	uint8_t coo[NAME_MAXLEN];
	bool has_coo;
	bool dead, seen;
	const conf_remote_t *primary[2];   /* an autoprimary zone's primary (one per buffer) */
} dynzone_t;

#define AUTOPRIMARY_PREFIX "autoprimary:"

/*
 * A zone made from a peer's word (a catalog member, a zone a super-primary NOTIFYs) must not take
 * over a name this server answers for otherwise: answers go to the zone with the longest apex, so a
 * member below a zone configured here (or equal to one), or below a zone another catalog or
 * super-primary made, would answer for part of that zone. Nor is the root ever made: it would answer
 * every name no other zone holds. origin is what the new zone's conf_zone_t.origin would be. Control
 * thread (srv->zones is its own). NULL when the zone may be made, else why not.
 */
static const char *refused_name(server_t *srv, const uint8_t *name, const char *origin)
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

/* A member's settings: its group's template (RFC 9432 4.4.2), and the catalog's for the rest. */
static void bind_conf(dynzone_t *d, const conf_zone_t *cat, const conf_t *conf)
{
	const conf_template_t *t = d->group[0] ? conf_template_find(conf, d->group) : NULL;
	d->cur ^= 1;
	conf_zone_t *c = &d->confs[d->cur];
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
	snprintf(d->catalog, sizeof(d->catalog), "%s", cat->name);
	snprintf(d->origin, sizeof(d->origin), "catalog %s", cat->name);
	c->origin = d->origin;
}

size_t catalog_dyn_count(server_t *srv)
{
	size_t n = 0;
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next)
		n += !d->dead;
	return n;
}

size_t catalog_dyn_zones(server_t *srv, const conf_zone_t **out)
{
	size_t n = 0;
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next)
		if (!d->dead)
			out[n++] = &d->confs[d->cur];
	return n;
}

void catalog_dyn_collect(server_t *srv)
{
	if (!srv->dyn_dead)
		return;   /* nothing to free: no walk over every member (an API call beside many) */
	srv->dyn_dead = false;
	dynzone_t **p = &srv->dyn;
	while (*p != NULL) {
		dynzone_t *d = *p;
		if (d->dead) {
			*p = d->next;
			free(d);
		} else {
			p = &d->next;
		}
	}
}

void catalog_dyn_free(server_t *srv)
{
	while (srv->dyn != NULL) {
		dynzone_t *d = srv->dyn;
		srv->dyn = d->next;
		free(d);
	}
}

static const conf_autoprimary_t *autoprimary_named(const conf_t *conf, const char *owner)
{
	if (strncmp(owner, AUTOPRIMARY_PREFIX, strlen(AUTOPRIMARY_PREFIX)) != 0)
		return NULL;
	for (size_t i = 0; i < conf->autoprimary_count; i++)
		if (strcmp(conf->autoprimaries[i].name, owner + strlen(AUTOPRIMARY_PREFIX)) == 0)
			return &conf->autoprimaries[i];
	return NULL;
}

/* An autoprimary zone: a secondary of the super-primary that created it. */
static void bind_ap(dynzone_t *d, const conf_autoprimary_t *ap)
{
	d->cur ^= 1;
	d->primary[d->cur] = ap->remote;
	d->confs[d->cur] = (conf_zone_t){ .name = d->name, .type = CONF_ZONE_SECONDARY,
	                                  .primaries = &d->primary[d->cur], .primary_count = 1 };
	snprintf(d->catalog, sizeof(d->catalog), AUTOPRIMARY_PREFIX "%s", ap->name);
	snprintf(d->origin, sizeof(d->origin), "autoprimary from %s", ap->name);
	d->confs[d->cur].origin = d->origin;
}

static const conf_zone_t *consumer(const conf_t *conf, const char *name)
{
	const conf_zone_t *cz = conf_zone_find(conf, name);
	return cz != NULL && cz->catalog == CONF_CATALOG_CONSUME ? cz : NULL;
}

static dynzone_t *dyn_new(server_t *srv, const char *name, const conf_zone_t *cat)
{
	dynzone_t *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	snprintf(d->name, sizeof(d->name), "%s", name);
	bind_conf(d, cat, srv->rc->conf);
	d->next = srv->dyn;
	srv->dyn = d;
	return d;
}

static void member_of(const dynzone_t *d, store_member_t *m)
{
	snprintf(m->zone, sizeof(m->zone), "%s", d->name);
	snprintf(m->catalog, sizeof(m->catalog), "%s", d->catalog);
	snprintf(m->unique_id, sizeof(m->unique_id), "%s", d->id);
	snprintf(m->group, sizeof(m->group), "%s", d->group);
}

static void persist(server_t *srv, const dynzone_t *d)
{
	store_member_t m;
	member_of(d, &m);
	store_member_set(srv->store, &m);
}

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
			persist(srv, d);   /* no memory for the batch: this one alone */
			return;
		}
		b->items = p;
		b->cap = cap;
	}
	member_of(d, &b->items[b->count++]);
}

int catalog_restore(server_t *srv, const conf_t *conf)
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
			dynzone_t *d = calloc(1, sizeof(*d));
			if (d == NULL) {
				ret = TDM_ENOMEM;
				break;
			}
			snprintf(d->name, sizeof(d->name), "%s", list[i].zone);
			bind_ap(d, ap);
			d->next = srv->dyn;
			srv->dyn = d;
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
		dynzone_t *d = dyn_new(srv, list[i].zone, cat);
		if (d == NULL) {
			ret = TDM_ENOMEM;
			break;
		}
		snprintf(d->id, sizeof(d->id), "%s", list[i].unique_id);
		snprintf(d->group, sizeof(d->group), "%s", list[i].group);
		bind_conf(d, cat, conf);   /* again: its group may have a template */
	}
	if (count > 0)
		log_info("%zu zones made by catalogs or super-primaries restored from the store",
		         catalog_dyn_count(srv));
	free(ax.names);
	free(list);
	return ret;
}

void catalog_bind(server_t *srv, const conf_t *conf)
{
	apexes_t ax = { 0 };
	/* Without memory for the check, nothing is dropped for being configured: the zone set build
	 * that follows keeps the configured zone first (it comes first in the table). */
	bool check = apexes_of(conf, &ax) == TDM_OK;
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next) {
		bool covered = !d->dead && check && apexes_cover(&ax, d->name);
		const conf_autoprimary_t *ap = d->dead ? NULL : autoprimary_named(conf, d->catalog);
		if (ap != NULL && !covered) {
			bind_ap(d, ap);
			continue;
		}
		const conf_zone_t *cat = d->dead || ap != NULL ? NULL : consumer(conf, d->catalog);
		if (cat == NULL || covered) {
			if (!d->dead) {
				log_info("%s: %s is gone (or the zone is configured, or below one configured), "
				         "dropping it", d->name, d->origin);
				store_member_delete(srv->store, d->name);
			}
			d->dead = true;
			srv->dyn_dead = true;
			continue;
		}
		bind_conf(d, cat, conf);
	}
	free(ax.names);
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
	uint8_t wire[NAME_MAXLEN];
	int len = name_from_text(d->name, NULL, wire);
	zone_t *zone = len > 0 ? zoneset_find_exact(srv->zones, wire, len) : NULL;
	if (zone != NULL) {
		zone_set_contents(zone, NULL);
		zonert_of(zone)->serial = 0;
		schedule_refresh(srv, zonert_of(zone));
	}
}

/* One member as the catalog lists it; returns true when the zone set must change. */
static bool take_member(server_t *srv, const conf_zone_t *cat, const catalog_member_t *m,
                        dyn_index_t *ix, member_batch_t *batch)
{
	char name[NAME_TEXT_MAX];
	name_to_text(m->zone, name, sizeof(name));
	dynzone_t *d = index_find(ix, name);
	bool added = false, moved = false, reset_id = false;
	char origin[NAME_TEXT_MAX + 16];
	snprintf(origin, sizeof(origin), "catalog %s", cat->name);
	const char *why = d == NULL || strcmp(d->catalog, cat->name) != 0
	                  ? refused_name(srv, m->zone, origin) : NULL;
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
		if ((d = dyn_new(srv, name, cat)) == NULL)
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
		bind_conf(d, cat, srv->rc->conf);   /* the group's template, the catalog's settings */
	if (added || moved || reset_id || regroup)
		batch_add(srv, batch, d);
	return added || moved || regroup;   /* the zone set must point at the new settings */
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
	for (size_t i = 0; i < c.count; i++)
		changed |= take_member(srv, cat, &c.members[i], &ix, &batch);
	store_member_set_many(srv->store, batch.items, batch.count);
	free(batch.items);
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next) {
		if (d->dead || d->seen || strcmp(d->catalog, cat->name) != 0)
			continue;
		log_info("%s: removed from catalog %s, deleting it", d->name, cat->name);
		d->dead = true;
		srv->dyn_dead = true;
		store_member_delete(srv->store, d->name);
		changed = true;
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
		zones_rebuild(srv);
}

/* ---- autoprimary (PowerDNS's supermaster): zones created by a NOTIFY from a super-primary ---- */

/*
 * DESIGN. A NOTIFY for a zone we lack costs the super-primary an NS query and us a thread, and a
 * keyless super-primary's address is easy to spoof: so checks are deduplicated (a name waiting or
 * being checked is not checked again), queued per super-primary (at most AP_PENDING_MAX waiting,
 * more are dropped and counted), started at most AP_RATE a second per super-primary (a token
 * bucket) and run at most AP_RUNNING_MAX at once for the whole server, the super-primaries taking
 * turns. The inbox itself holds at most AP_INBOX_MAX such NOTIFYs not yet looked at (control.c).
 * All of it lives on the control thread.
 */
#define AP_RUNNING_MAX 4
#define AP_PENDING_MAX 256
#define AP_RATE 10
#define AP_DROP_LOG_SECONDS 10

typedef struct {
	uint8_t apex[NAME_MAXLEN];   /* lowercase wire */
	uint32_t hash;
} ap_name_t;

typedef struct {
	char name[256];              /* the super-primary's name (follows reloads by name) */
	ap_name_t *queue;            /* ring of AP_PENDING_MAX */
	size_t head, count;
	double tokens;
	int64_t refilled_ms;
	unsigned long long dropped, refused;   /* since the last log line about them */
	int64_t logged;
} ap_source_t;

struct ap_sched {
	ap_source_t *src;
	size_t nsrc, turn;
	ap_name_t running[AP_RUNNING_MAX];
	size_t nrunning;
	struct event *timer;         /* tokens run out while checks wait: look again soon */
};

typedef struct {
	server_t *srv;
	char name[NAME_TEXT_MAX];
	size_t index;
	uint8_t apex[NAME_MAXLEN];
	sockaddr_t primary, source;
	tsig_key_t key;
	uint8_t secret[TSIG_SECRET_MAX];
	bool has_key;
	char *nameservers;           /* copy, space-separated */
	unsigned timeout_ms;
	tls_client_t *tls;           /* the super-primary's TLS profile (XoT): the NS query goes over it */
} ap_job_t;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool names_us(const ap_job_t *job, uint8_t (*ns)[NAME_MAXLEN], size_t count)
{
	char text[NAME_TEXT_MAX];
	for (size_t i = 0; i < count; i++) {
		name_to_text(ns[i], text, sizeof(text));
		for (const char *p = job->nameservers; *p != '\0';) {
			size_t len = strcspn(p, " ");
			if (len == strlen(text) && strncmp(p, text, len) == 0)
				return true;
			p += len + (p[len] == ' ');
		}
	}
	return false;
}

static void *ap_main(void *arg)
{
	ap_job_t *job = arg;
	uint8_t (*ns)[NAME_MAXLEN] = malloc(64 * NAME_MAXLEN);
	size_t count = 0;
	char why[160] = "", addr[SOCKADDR_STRLEN];
	xfr_peer_t peer = { .zone = job->apex, .primary = &job->primary, .source = &job->source,
	                    .key = job->has_key ? &job->key : NULL, .tls = job->tls,
	                    .timeout_ms = job->timeout_ms };
	sockaddr_format(&job->primary, addr, sizeof(addr));
	int ret = ns != NULL ? xfr_ns_query(&peer, ns, 64, &count, why, sizeof(why)) : TDM_ENOMEM;
	if (ret != TDM_OK)
		log_warn("%s: NOTIFY from super-primary %s, but its NS query failed (%s)", job->name,
		         addr, why);
	else if (!names_us(job, ns, count))
		log_warn("%s: NOTIFY from super-primary %s, but its NS set does not name us (%s): "
		         "not created", job->name, addr, job->nameservers);
	else
		inbox_post_name(job->srv, CTL_AUTOPRIMARY_OK, job->name, job->index);
	/* Always, and last: the control thread frees the check's slot. */
	inbox_post_name(job->srv, CTL_AUTOPRIMARY_DONE, job->name, job->index);
	atomic_fetch_sub(&job->srv->jobs_running, 1);
	free(ns);
	tls_client_unref(job->tls);
	free(job->nameservers);
	free(job);
	return NULL;
}

static bool zone_exists(server_t *srv, const char *name)
{
	uint8_t wire[NAME_MAXLEN];
	int len = name_from_text(name, NULL, wire);
	if (len < 0)
		return true;
	name_copy_lower(wire, wire);
	return zoneset_find_exact(srv->zones, wire, len) != NULL;
}

static struct ap_sched *ap_sched(server_t *srv)
{
	if (srv->ap == NULL)
		srv->ap = calloc(1, sizeof(*srv->ap));
	return srv->ap;
}

/* The queue of the super-primary of that name; made on first use. NULL on OOM. */
static ap_source_t *ap_source(struct ap_sched *ap, const char *name)
{
	for (size_t i = 0; i < ap->nsrc; i++)
		if (strcmp(ap->src[i].name, name) == 0)
			return &ap->src[i];
	ap_source_t *p = realloc(ap->src, (ap->nsrc + 1) * sizeof(*p));
	if (p == NULL)
		return NULL;
	ap->src = p;
	p = &p[ap->nsrc];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->tokens = AP_RATE;
	p->refilled_ms = now_ms();
	if ((p->queue = calloc(AP_PENDING_MAX, sizeof(ap_name_t))) == NULL)
		return NULL;
	ap->nsrc++;
	return p;
}

static bool same_name(const ap_name_t *a, const ap_name_t *b)
{
	return a->hash == b->hash && name_equal(a->apex, b->apex);
}

/* Whether the name waits or is being checked already (any super-primary). */
static bool ap_known(const struct ap_sched *ap, const ap_name_t *n)
{
	for (size_t i = 0; i < ap->nrunning; i++)
		if (same_name(&ap->running[i], n))
			return true;
	for (size_t s = 0; s < ap->nsrc; s++) {
		const ap_source_t *src = &ap->src[s];
		for (size_t i = 0; i < src->count; i++)
			if (same_name(&src->queue[(src->head + i) % AP_PENDING_MAX], n))
				return true;
	}
	return false;
}

/* One line per super-primary every AP_DROP_LOG_SECONDS at most, however many NOTIFYs were dropped. */
static void ap_log_drops(ap_source_t *src, bool force)
{
	int64_t now = now_ms();
	if (src->dropped + src->refused == 0 ||
	    (!force && now - src->logged < AP_DROP_LOG_SECONDS * 1000))
		return;
	log_warn("NOTIFY from super-primary %s: %llu dropped (%d checks queued already, at most %d a "
	         "second), %llu for names never made (the root, or at or below a zone here)", src->name,
	         src->dropped, AP_PENDING_MAX, AP_RATE, src->refused);
	src->dropped = src->refused = 0;
	src->logged = now;
}

static void ap_refill(ap_source_t *src, int64_t now)
{
	src->tokens += (double)(now - src->refilled_ms) * AP_RATE / 1000.0;
	if (src->tokens > AP_RATE)
		src->tokens = AP_RATE;
	src->refilled_ms = now;
}

static int ap_start(server_t *srv, const conf_autoprimary_t *ap, size_t index, const uint8_t *apex)
{
	const conf_t *conf = srv->rc->conf;
	ap_job_t *job = calloc(1, sizeof(*job));
	if (job == NULL || (job->nameservers = strdup(ap->nameservers)) == NULL) {
		free(job);
		return TDM_ENOMEM;
	}
	job->srv = srv;
	name_to_text(apex, job->name, sizeof(job->name));
	job->index = index;
	name_copy_lower(job->apex, apex);
	job->primary = ap->remote->addresses[0];
	job->source = sockaddr_family(&job->primary) == AF_INET6 ? conf->server.source6
	                                                         : conf->server.source4;
	const tsig_key_t *key = runconf_key(srv->rc, ap->remote->key);
	if (key != NULL && key->secret_len <= sizeof(job->secret)) {
		job->key = *key;
		memcpy(job->secret, key->secret, key->secret_len);
		job->key.secret = job->secret;
		job->has_key = true;
	}
	job->timeout_ms = conf->server.xfr_timeout * 1000;
	/* RFC 9103: a super-primary reached over TLS is asked its NS set over TLS too, never in plain
	 * text on its TLS port; without its context (a profile that failed to load) nothing is asked. */
	if (ap->remote->tls != NULL && (job->tls = xot_client(srv, ap->remote->tls)) == NULL) {
		log_warn("%s: NOTIFY from super-primary %s, but its TLS profile is not loaded: not checked",
		         job->name, ap->name);
		free(job->nameservers);
		free(job);
		return TDM_EINVAL;
	}
	/* Counted as a job: a stop waits for it (it posts to the control thread at its end). */
	atomic_fetch_add(&srv->jobs_running, 1);
	int ret = thread_detached(ap_main, job);
	if (ret != TDM_OK) {
		atomic_fetch_sub(&srv->jobs_running, 1);
		log_err("%s: cannot start the super-primary check", job->name);
		tls_client_unref(job->tls);
		free(job->nameservers);
		free(job);
	}
	return ret;
}

static const conf_autoprimary_t *ap_by_name(const conf_t *conf, const char *name, size_t *index)
{
	for (size_t i = 0; i < conf->autoprimary_count; i++)
		if (strcmp(conf->autoprimaries[i].name, name) == 0) {
			*index = i;
			return &conf->autoprimaries[i];
		}
	return NULL;
}

static void ap_timer_cb(evutil_socket_t fd, short what, void *arg);

/* Starts what waits, as far as the limits allow, the super-primaries taking turns. */
static void ap_pump(server_t *srv)
{
	struct ap_sched *ap = srv->ap;
	bool waiting = false;
	int64_t now = now_ms();
	while (ap != NULL && ap->nrunning < AP_RUNNING_MAX && !srv->stopping) {
		ap_source_t *pick = NULL;
		waiting = false;
		for (size_t k = 0; k < ap->nsrc && pick == NULL; k++) {
			ap_source_t *src = &ap->src[(ap->turn + k) % ap->nsrc];
			ap_refill(src, now);
			if (src->count > 0 && src->tokens < 1)
				waiting = true;
			if (src->count > 0 && src->tokens >= 1) {
				pick = src;
				ap->turn = (ap->turn + k + 1) % ap->nsrc;
			}
		}
		if (pick == NULL)
			break;
		ap_name_t n = pick->queue[pick->head];
		pick->head = (pick->head + 1) % AP_PENDING_MAX;
		pick->count--;
		pick->tokens -= 1;
		size_t index;
		const conf_autoprimary_t *conf_ap = ap_by_name(srv->rc->conf, pick->name, &index);
		int len = name_length(n.apex, NAME_MAXLEN);
		/* Gone from the configuration, or the zone came meanwhile: nothing to check. */
		if (conf_ap == NULL || zoneset_find_exact(srv->zones, n.apex, len) != NULL)
			continue;
		if (ap_start(srv, conf_ap, index, n.apex) == TDM_OK)
			ap->running[ap->nrunning++] = n;
	}
	if (waiting && ap->timer == NULL)
		ap->timer = evtimer_new(srv->base, ap_timer_cb, srv);
	if (waiting && ap->timer != NULL) {
		struct timeval tv = { .tv_sec = 0, .tv_usec = 1000000 / AP_RATE };
		evtimer_add(ap->timer, &tv);
	}
}

static void ap_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	ap_pump(arg);
}

void autoprimary_check(server_t *srv, const char *name, size_t index)
{
	const conf_t *conf = srv->rc->conf;
	if (index >= conf->autoprimary_count || zone_exists(srv, name))
		return;
	const conf_autoprimary_t *cap = &conf->autoprimaries[index];
	struct ap_sched *ap = ap_sched(srv);
	ap_source_t *src = ap != NULL ? ap_source(ap, cap->name) : NULL;
	ap_name_t n = { .hash = 0 };
	int len = name_from_text(name, NULL, n.apex);
	if (src == NULL || len < 0)
		return;
	name_copy_lower(n.apex, n.apex);
	n.hash = name_hash(n.apex, (size_t)len);
	char origin[300];
	snprintf(origin, sizeof(origin), "autoprimary from %s", cap->name);
	if (refused_name(srv, n.apex, origin) != NULL) {
		src->refused++;
		ap_log_drops(src, false);
		return;
	}
	if (ap_known(ap, &n))
		return;   /* waiting or being checked: one check answers every NOTIFY for it */
	if (src->count == AP_PENDING_MAX) {
		src->dropped++;
		ap_log_drops(src, false);
		return;
	}
	src->queue[(src->head + src->count++) % AP_PENDING_MAX] = n;
	ap_pump(srv);
}

void autoprimary_done(server_t *srv, const char *name)
{
	struct ap_sched *ap = srv->ap;
	uint8_t apex[NAME_MAXLEN];
	if (ap == NULL || name_from_text(name, NULL, apex) < 0)
		return;
	name_copy_lower(apex, apex);
	for (size_t i = 0; i < ap->nrunning; i++) {
		if (!name_equal(ap->running[i].apex, apex))
			continue;
		ap->running[i] = ap->running[--ap->nrunning];
		break;
	}
	for (size_t s = 0; s < ap->nsrc; s++)
		ap_log_drops(&ap->src[s], false);
	ap_pump(srv);
}

void autoprimary_free(server_t *srv)
{
	struct ap_sched *ap = srv->ap;
	if (ap == NULL)
		return;
	for (size_t i = 0; i < ap->nsrc; i++)
		free(ap->src[i].queue);
	free(ap->src);
	if (ap->timer != NULL)
		event_free(ap->timer);
	free(ap);
	srv->ap = NULL;
}

void autoprimary_add(server_t *srv, const char *name, size_t index)
{
	const conf_t *conf = srv->rc->conf;
	if (index >= conf->autoprimary_count || zone_exists(srv, name))
		return;
	const conf_autoprimary_t *ap = &conf->autoprimaries[index];
	uint8_t apex[NAME_MAXLEN];
	char origin[300];
	snprintf(origin, sizeof(origin), "autoprimary from %s", ap->name);
	if (name_from_text(name, NULL, apex) < 0)
		return;
	name_copy_lower(apex, apex);
	/* Checked again: the zone set may have changed while the NS query ran. */
	const char *why = refused_name(srv, apex, origin);
	if (why != NULL) {
		log_warn("%s: NOTIFY from super-primary %s, but %s: not created", name, ap->name, why);
		return;
	}
	dynzone_t *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return;
	snprintf(d->name, sizeof(d->name), "%s", name);
	bind_ap(d, ap);
	d->next = srv->dyn;
	srv->dyn = d;
	persist(srv, d);
	log_info("%s: created by NOTIFY from super-primary %s, transferring it", name, ap->name);
	zones_rebuild(srv);
}

int autoprimary_remove(server_t *srv, const char *name)
{
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next) {
		if (d->dead || strcmp(d->name, name) != 0)
			continue;
		if (strncmp(d->catalog, AUTOPRIMARY_PREFIX, strlen(AUTOPRIMARY_PREFIX)) != 0)
			return TDM_EEXIST;   /* a catalog member: the catalog decides */
		log_info("%s: removed by the operator (it came from %s)", name, d->origin);
		d->dead = true;
		srv->dyn_dead = true;
		store_member_delete(srv->store, name);
		zones_rebuild(srv);
		return TDM_OK;
	}
	return TDM_ENOENT;
}

bool catalog_member_info(server_t *srv, const char *name, const char **catalog, const char **id,
                         const char **group)
{
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next) {
		if (d->dead || strcmp(d->name, name) != 0 ||
		    strncmp(d->catalog, AUTOPRIMARY_PREFIX, strlen(AUTOPRIMARY_PREFIX)) == 0)
			continue;
		*catalog = d->catalog;
		*id = d->id;
		*group = d->group;
		return true;
	}
	return false;
}
