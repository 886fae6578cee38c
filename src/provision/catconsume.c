/* provision/catconsume.c -- consuming catalogs (RFC 9432): their members become secondary zones */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "catalog/catalog.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/namemap.h"
#include "provision/catconsume.h"
#include "provision/dynzone.h"
#include "provision/zones.h"
#include "repl/schedule.h"
#include "runtime/inbox.h"

/* Members to write once a reconciliation is over, in one transaction (their rows made one at a time
 * as the store writes them: batch_row). */
typedef struct {
	const dynzone_t **items;
	size_t count, cap;
} member_batch_t;

static void batch_add(server_t *srv, member_batch_t *b, const dynzone_t *d)
{
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		const dynzone_t **p = realloc(b->items, cap * sizeof(*p));
		if (p == NULL) {
			dynzone_persist(srv, d);   /* no memory for the batch: this one alone */
			return;
		}
		b->items = p;
		b->cap = cap;
	}
	b->items[b->count++] = d;
}

static void batch_row(const void *ctx, size_t i, store_member_t *out)
{
	dynzone_row(((const member_batch_t *)ctx)->items[i], out);
}

/* Writes the batch (the members it names are alive: nothing frees them during a reconciliation). */
static void batch_write(server_t *srv, member_batch_t *b)
{
	store_member_set_many(srv->store, b->count, batch_row, b);
	free(b->items);
	*b = (member_batch_t){ 0 };
}

/* The zone set's changes of one reconciliation: members new to it, and members bound to new settings
 * (moved, regrouped); a list that would grow past SET_CHANGES_MAX is dropped for a rebuild. */
#define SET_CHANGES_MAX 64

typedef struct {
	dynzone_t *added[SET_CHANGES_MAX], *rebound[SET_CHANGES_MAX];
	size_t nadded, nrebound;
	bool rebuild;
	size_t lines, quiet_info, quiet_warn;   /* lines about single members (member_level) */
} set_changes_t;

/*
 * Lines about single members: the first MEMBER_LINES of a reconciliation at the level asked, the rest at
 * debug level, counted and told in one line at the end (member_lines_end), as a start or reload does
 * for zones past 1,000. A first provisioning of 100,000 members wrote 100,000 lines from the control
 * thread, a tenth of its time there, and a catalog that lists 100,000 zones this server may not take
 * (configured here, another catalog's) had a warning logged for each at every change.
 */
#define MEMBER_LINES 1000

static enum log_level member_level(set_changes_t *sc, enum log_level want)
{
	if (sc->lines < MEMBER_LINES) {
		sc->lines++;
		return want;
	}
	if (want == LOG_WARN)
		sc->quiet_warn++;
	else
		sc->quiet_info++;
	return LOG_DEBUG;
}

static void member_lines_end(const set_changes_t *sc, const char *catalog)
{
	if (sc->quiet_warn > 0)
		log_warn("%s: %zu more members listed but not taken over (past %d lines: each logged at debug "
		         "level)", catalog, sc->quiet_warn, MEMBER_LINES);
	if (sc->quiet_info > 0)
		log_info("%s: %zu more members added, moved, changed or removed (past %d lines: each logged at "
		         "debug level)", catalog, sc->quiet_info, MEMBER_LINES);
}

/* A member whose unique ID changed starts over (RFC 9432 5.4): data dropped, transferred afresh. */
static void reset(server_t *srv, set_changes_t *sc, dynzone_t *d, const char *id)
{
	char was[CATALOG_ID_MAX * 4], now[CATALOG_ID_MAX * 4];
	catalog_escape(d->id, was, sizeof(was));   /* IDs stored by older versions are raw */
	catalog_escape(id, now, sizeof(now));
	log_msg(member_level(sc, LOG_INFO), "%s: unique ID in catalog %s changed (%s -> %s): transferring it afresh",
	        d->name, d->catalog, was, now);
	snprintf(d->id, sizeof(d->id), "%s", id);
	store_zone_delete(srv->store, d->name);
	zonert_t *zr = zones_find(srv, d->name);
	if (zr != NULL) {
		zone_set_contents(zr->zone, NULL);
		zr->serial = 0;
		schedule_refresh(srv, zr);
	}
}

static void note_change(set_changes_t *sc, dynzone_t *d, bool added)
{
	size_t *n = added ? &sc->nadded : &sc->nrebound;
	if (*n == SET_CHANGES_MAX)
		sc->rebuild = true;
	else
		(added ? sc->added : sc->rebound)[(*n)++] = d;
}

/* One member as the catalog lists it; returns true when the zone set must change (noted in sc).
 * *refused is set when the member is not taken (it may be later: see catstate_t). */
static bool take_member(server_t *srv, const conf_zone_t *cat, const catalog_member_t *m,
                        member_batch_t *batch, set_changes_t *sc, bool *refused)
{
	char name[NAME_TEXT_MAX];
	name_to_text(m->zone, name, sizeof(name));
	dynzone_t *d = dynzone_find(srv, name);
	bool added = false, moved = false, reset_id = false;
	const char *why = NULL;
	if (d == NULL || strcmp(d->catalog, cat->name) != 0) {   /* not ours yet: may it be? */
		char origin[NAME_TEXT_MAX + 16];
		snprintf(origin, sizeof(origin), "catalog %s", cat->name);
		why = dynzone_refused(srv, m->zone, origin);
	}
	if (why != NULL) {
		log_msg(member_level(sc, LOG_WARN), "%s: listed in catalog %s but %s: not taken over", name,
		        cat->name, why);
		*refused = true;
		return false;
	}
	if (d != NULL && strcmp(d->catalog, cat->name) != 0) {
		uint8_t cat_wire[NAME_MAXLEN];
		name_from_text(cat->name, NULL, cat_wire);
		/* RFC 9432 5.6: the old catalog's coo names this one: the member moves, data kept. */
		if (!(d->has_coo && name_equal(d->coo, cat_wire))) {
			log_msg(member_level(sc, LOG_WARN), "%s: listed in catalog %s but a member of %s: not taken over",
			        name, cat->name, d->catalog);
			*refused = true;
			return false;
		}
		if (dynzone_reserve_catalog(d, cat) != TDM_OK) {
			log_warn("%s: no memory to move it from catalog %s to %s: tried again at the next version",
			         name, d->catalog, cat->name);
			*refused = true;
			return false;
		}
		log_msg(member_level(sc, LOG_INFO), "%s: moves from catalog %s to %s (coo)", name, d->catalog,
		        cat->name);
		moved = true;
		d->has_coo = false;
		snprintf(d->id, sizeof(d->id), "%s", m->id);
	} else if (d == NULL) {
		if ((d = dynzone_new_member(srv, name, cat)) == NULL) {
			*refused = true;
			return false;
		}
		snprintf(d->id, sizeof(d->id), "%s", m->id);
		log_msg(member_level(sc, LOG_INFO), "%s: added from catalog %s", name, cat->name);
		added = true;
	} else if (strcmp(d->id, m->id) != 0) {
		reset(srv, sc, d, m->id);
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
		log_msg(member_level(sc, LOG_INFO), "%s: group in catalog %s changed (\"%s\" -> \"%s\")", name,
		        cat->name, was, now);
	}
	snprintf(d->group, sizeof(d->group), "%s", m->group);
	if (added || moved || regroup)
		/* The group's template, the catalog's settings: to the catalog it has, or reserved for a move
		 * (above), so it cannot fail. */
		(void)dynzone_bind_catalog(d, cat, srv->rc->conf);
	if (added || moved || reset_id || regroup)
		batch_add(srv, batch, d);
	if (added || moved || regroup)   /* the zone set must point at the new settings */
		note_change(sc, d, added);
	if (moved || regroup || reset_id)
		srv->dyn_gen++;
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

/*
 * A consumed catalog's last reconciliation, kept while it stands for the whole catalog (RFC 9432's
 * checks are over the whole: a zone under two IDs, the number of members), so that the next version
 * costs what it changed: the serial it read, srv->dyn_gen once it was done (any other change of the
 * members made or their settings since -- a reload, another catalog, a super-primary -- and the next
 * version is read whole again), the names it lists (wire; the value is unused), and the members it
 * did not take (configured here, another catalog's, no memory): a whole read would try those again at
 * every change, so each change tries them again too.
 */
typedef struct {
	uint32_t serial;
	uint64_t gen;
	namemap_t *names;
	namemap_t *refused;   /* member name -> its node <id>.zones.<catalog> (wire, allocated) */
} catstate_t;

/* More members touched than this (and than a quarter of the catalog): the whole catalog is read. */
#define CHANGES_MAX_MEMBERS 64

static void free_each(void *value, void *ctx)
{
	(void)ctx;
	free(value);
}

static void state_free(catstate_t *st)
{
	if (st == NULL)
		return;
	namemap_free(st->names);
	if (st->refused != NULL)
		namemap_each(st->refused, free_each, NULL);
	namemap_free(st->refused);
	free(st);
}

static catstate_t *state_of(server_t *srv, const char *catalog)
{
	return srv->cat_states != NULL ? namemap_get(srv->cat_states, catalog, strlen(catalog)) : NULL;
}

static void state_drop(server_t *srv, const char *catalog)
{
	catstate_t *st = state_of(srv, catalog);
	if (st != NULL) {
		namemap_del(srv->cat_states, catalog, strlen(catalog));
		state_free(st);
	}
}

/* A member not taken, to try again at the next change; false without memory. */
static bool refused_note(catstate_t *st, const uint8_t *zone, const uint8_t *node)
{
	size_t len = (size_t)name_length(zone, NAME_MAXLEN), nlen = (size_t)name_length(node, NAME_MAXLEN);
	uint8_t *copy = malloc(nlen), *old = NULL;
	if (copy == NULL)
		return false;
	memcpy(copy, node, nlen);
	int ret = namemap_put(st->refused, zone, len, copy, (void **)&old);
	if (ret == TDM_EEXIST && namemap_set(st->refused, zone, len, copy) == TDM_OK) {
		free(old);
		return true;
	}
	if (ret != TDM_OK)
		free(copy);
	return ret == TDM_OK;
}

static void refused_forget(catstate_t *st, const uint8_t *zone)
{
	size_t len = (size_t)name_length(zone, NAME_MAXLEN);
	uint8_t *node = namemap_get(st->refused, zone, len);
	if (node != NULL) {
		namemap_del(st->refused, zone, len);
		free(node);
	}
}

/* The state after a whole read of c at serial (apex: the catalog's), refused[0..nrefused) the
 * indexes of the members not taken; without memory none is kept (the next is whole). */
static void state_keep(server_t *srv, const char *catalog, uint32_t serial, const catalog_t *c,
                       const uint8_t *apex, const size_t *refused, size_t nrefused)
{
	state_drop(srv, catalog);
	catstate_t *st = calloc(1, sizeof(*st));
	if (st == NULL || (st->names = namemap_new()) == NULL || (st->refused = namemap_new()) == NULL ||
	    (srv->cat_states == NULL && (srv->cat_states = namemap_new()) == NULL))
		goto fail;
	for (size_t i = 0; i < c->count; i++)
		if (namemap_put(st->names, c->members[i].zone, (size_t)name_length(c->members[i].zone, NAME_MAXLEN),
		                st, NULL) != TDM_OK)
			goto fail;
	for (size_t i = 0; i < nrefused; i++) {
		char text[CATALOG_ID_MAX + 8];
		uint8_t node[NAME_MAXLEN];
		snprintf(text, sizeof(text), "%s.zones", c->members[refused[i]].id);   /* the ID is escaped */
		if (name_from_text(text, apex, node) <= 0 || !refused_note(st, c->members[refused[i]].zone, node))
			goto fail;
	}
	st->serial = serial;
	st->gen = srv->dyn_gen;
	if (namemap_put(srv->cat_states, catalog, strlen(catalog), st, NULL) == TDM_OK)
		return;
fail:
	state_free(st);
}

static void state_free_each(void *value, void *ctx)
{
	(void)ctx;
	state_free(value);
}

void catalog_consume_forget(server_t *srv)
{
	if (srv->cat_states == NULL)
		return;
	namemap_each(srv->cat_states, state_free_each, NULL);
	namemap_free(srv->cat_states);
	srv->cat_states = NULL;
}

/* Milliseconds of the control thread's time since start (the log says what a reconciliation cost). */
/* A coo naming another catalog we consume: that catalog may have listed the member before this one
 * said it could go (the two arrive in any order), so it looks again. */
static void coo_look_again(server_t *srv, zonert_t *zr, const catalog_member_t *m)
{
	if (!m->has_coo)
		return;
	zone_t *to = zoneset_find_exact(srv->zones, m->coo, name_length(m->coo, NAME_MAXLEN));
	if (to != NULL && zonert_of(to)->conf != NULL &&
	    zonert_of(to)->conf->catalog == CONF_CATALOG_CONSUME && zonert_of(to) != zr)
		inbox_post(srv, CTL_CATALOG, zonert_of(to));
}

/* A member the catalog no longer lists: dropped with its data. */
static void drop_member(server_t *srv, const conf_zone_t *cat, dynzone_t *d, set_changes_t *sc,
                        zonert_t **gone, size_t *ngone)
{
	log_msg(member_level(sc, LOG_INFO), "%s: removed from catalog %s, deleting it", d->name, cat->name);
	d->dead = true;
	srv->dyn_dead = true;
	srv->dyn_gen++;
	store_member_delete(srv->store, d->name);
	if (*ngone < SET_CHANGES_MAX)
		gone[(*ngone)++] = zones_find(srv, d->name);
	else
		sc->rebuild = true;
}

static void consume_whole(server_t *srv, zonert_t *zr, const conf_zone_t *cat, unsigned max)
{
	struct timespec started;
	started = clock_now();
	catalog_t c = { 0 };
	char why[256] = "";
	uint32_t serial = 0;
	uint8_t apex[NAME_MAXLEN];
	rcu_read_lock();
	const zone_contents_t *z = zone_contents(zr->zone);
	int ret = z != NULL ? catalog_read_max(z, max, &c, why, sizeof(why)) : TDM_ENOENT;
	if (z != NULL) {
		serial = zone_serial(z);
		memcpy(apex, zone_apex(z), (size_t)name_length(zone_apex(z), NAME_MAXLEN));
	}
	rcu_read_unlock();
	if (ret == TDM_ENOENT)
		return;   /* not transferred yet: the members remembered stay */
	if (ret != TDM_OK) {
		log_err("%s: catalog refused (%s), keeping the members it had",
		        zr->name, ret == TDM_EMALF ? why : tdm_strerror(ret));
		return;
	}
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next)
		d->seen = false;
	bool changed = false, keep = true;
	member_batch_t batch = { 0 };
	set_changes_t sc = { .nadded = 0 };
	size_t *refused = NULL, nrefused = 0, cap = 0;
	for (size_t i = 0; i < c.count; i++) {
		bool r = false;
		changed |= take_member(srv, cat, &c.members[i], &batch, &sc, &r);
		if (!r)
			continue;
		if (nrefused == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			size_t *p = realloc(refused, ncap * sizeof(*p));
			if (p == NULL) {
				keep = false;   /* no state: the next version is read whole, all tried again */
				continue;
			}
			refused = p;
			cap = ncap;
		}
		refused[nrefused++] = i;
	}
	batch_write(srv, &batch);
	zonert_t *gone[SET_CHANGES_MAX];
	size_t ngone = 0;
	for (dynzone_t *d = srv->dyn; d != NULL; d = d->next) {
		if (d->dead || d->seen || strcmp(d->catalog, cat->name) != 0)
			continue;
		drop_member(srv, cat, d, &sc, gone, &ngone);
		changed = true;
	}
	for (size_t i = 0; i < c.count; i++)
		coo_look_again(srv, zr, &c.members[i]);
	if (changed)
		set_follow(srv, &sc, gone, ngone);
	if (keep)
		state_keep(srv, zr->name, serial, &c, apex, refused, nrefused);
	free(refused);
	member_lines_end(&sc, zr->name);
	log_info("%s: catalog at serial %u read whole, %zu members, %.1f ms", zr->name, serial, c.count,
	         clock_ms_since(&started));
	catalog_clear(&c);
}

/* What the journal says changed since the state's serial: the member nodes touched, the names no
 * longer listed (to drop unless listed again), the state's names updated as it goes. */
typedef struct {
	const uint8_t *apex;
	uint32_t until;       /* the serial served: the walk ends with the entry that reaches it */
	bool reached, whole;  /* whole: something only a whole read can judge */
	catstate_t *st;
	namemap_t *touched;   /* member node names, each once ... */
	uint8_t (*nodes)[NAME_MAXLEN];   /* ... and in the order the journal gave them */
	size_t nnodes, nodes_cap;
	uint8_t (*unlisted)[NAME_MAXLEN];
	size_t nunlisted, unlisted_cap;
	size_t limit;
} walk_t;

/* Appends a name to a growing array of them; false without memory. */
static bool push_name(uint8_t (**names)[NAME_MAXLEN], size_t *count, size_t *cap, const uint8_t *name)
{
	if (*count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *p = realloc(*names, ncap * NAME_MAXLEN);
		if (p == NULL)
			return false;
		*names = p;
		*cap = ncap;
	}
	memcpy((*names)[(*count)++], name, (size_t)name_length(name, NAME_MAXLEN));
	return true;
}

/* A record of the catalog added (listed) or removed: the member node it touches, its PTR's name in
 * or out of the names listed. False: the state does not follow (a whole read decides). */
static bool walk_record(walk_t *w, const rr_t *rr, bool added)
{
	uint8_t member[NAME_MAXLEN];
	catalog_owner_t k = catalog_owner(w->apex, rr->owner, member);
	if (k == CATALOG_OWNER_OTHER)
		return true;
	if (k == CATALOG_OWNER_WHOLE)
		return false;
	int ret = namemap_put(w->touched, member, (size_t)name_length(member, NAME_MAXLEN), w, NULL);
	if ((ret != TDM_OK && ret != TDM_EEXIST) || namemap_count(w->touched) > w->limit ||
	    (ret == TDM_OK && !push_name(&w->nodes, &w->nnodes, &w->nodes_cap, member)))
		return false;
	if (rr->type != PKT_TYPE_PTR || !name_equal(rr->owner, member))
		return true;   /* a property: the member is read again, the names stay */
	if (name_length(rr->rdata, rr->rdlen) != rr->rdlen)
		return false;
	if (added)   /* listed twice (RFC 9432 4.1): the whole read refuses it */
		return namemap_put(w->st->names, rr->rdata, rr->rdlen, w->st, NULL) == TDM_OK;
	if (namemap_del(w->st->names, rr->rdata, rr->rdlen) != TDM_OK)
		return false;   /* not what the state holds */
	return push_name(&w->unlisted, &w->nunlisted, &w->unlisted_cap, rr->rdata);
}

static int walk_entry(void *ctx, uint32_t from, uint32_t to, rrlist_t *removed, rrlist_t *added)
{
	walk_t *w = ctx;
	(void)from;
	for (size_t i = 0; !w->whole && i < rrlist_count(removed); i++)
		w->whole = !walk_record(w, rrlist_at(removed, i), false);
	for (size_t i = 0; !w->whole && i < rrlist_count(added); i++)
		w->whole = !walk_record(w, rrlist_at(added, i), true);
	rrlist_free(removed);
	rrlist_free(added);
	w->reached = to == w->until;
	return w->whole || w->reached ? 1 : 0;   /* non-zero: the walk stops */
}

/* The members the walk touched, read from the version served (still at serial `until`); false
 * when one is not what the state expects, or cannot be read: a whole read decides. */
typedef struct {
	catalog_member_t m;
	bool listed;
} touched_t;

static bool read_touched(zonert_t *zr, const walk_t *w, touched_t *out)
{
	char why[256];
	bool ok = true;
	rcu_read_lock();
	const zone_contents_t *z = zone_contents(zr->zone);
	ok = z != NULL && zone_serial(z) == w->until;
	for (size_t i = 0; ok && i < w->nnodes; i++) {
		int ret = catalog_read_member(z, w->nodes[i], &out[i].m, why, sizeof(why));
		out[i].listed = ret == TDM_OK;
		/* listed: its name must be one the state lists (as the journal said) */
		ok = (ret == TDM_OK && namemap_get(w->st->names, out[i].m.zone,
		                                   (size_t)name_length(out[i].m.zone, NAME_MAXLEN)) != NULL) ||
		     ret == TDM_ENOENT;
	}
	rcu_read_unlock();
	return ok;
}

/* namemap_each over the members not taken: each one whose node the changes did not touch is read
 * again with them (its node added to the walk's). */
static void retry_refused(void *value, void *ctx)
{
	const uint8_t *node = value;
	walk_t *w = ctx;
	if (namemap_get(w->touched, node, (size_t)name_length(node, NAME_MAXLEN)) == NULL &&
	    !push_name(&w->nodes, &w->nnodes, &w->nodes_cap, node))
		w->whole = true;
}

/*
 * A new version by its changes: true when done; false when only a whole read can say (the state
 * dropped then). Done here only when the result is the whole read's: the version, every listed
 * name once, at most max members, each touched member as catalog_read reads it; the rest of the
 * catalog is what the last reconciliation took.
 */
static bool consume_changes(server_t *srv, zonert_t *zr, const conf_zone_t *cat, unsigned max)
{
	catstate_t *st = state_of(srv, zr->name);
	if (st == NULL)
		return false;
	struct timespec started;
	started = clock_now();
	uint32_t now = 0;
	uint8_t apex[NAME_MAXLEN];
	rcu_read_lock();
	const zone_contents_t *z = zone_contents(zr->zone);
	if (z != NULL) {
		now = zone_serial(z);
		memcpy(apex, zone_apex(z), (size_t)name_length(zone_apex(z), NAME_MAXLEN));
	}
	rcu_read_unlock();
	if (z == NULL || st->gen != srv->dyn_gen || st->serial == now)
		goto whole;   /* the same version asked again: a coo elsewhere, a reload */
	size_t count = namemap_count(st->names);
	walk_t w = { .apex = apex, .until = now, .st = st, .touched = namemap_new(),
	             .limit = count / 4 > CHANGES_MAX_MEMBERS ? count / 4 : CHANGES_MAX_MEMBERS };
	touched_t *t = NULL;
	bool ok = w.touched != NULL;
	int ret = ok ? store_journal_read(srv->store, zr->name, st->serial, walk_entry, &w) : TDM_ENOMEM;
	ok = ok && (ret == TDM_OK || ret == 1) && w.reached && !w.whole &&
	     (max == 0 || namemap_count(st->names) <= max);
	/* The members not taken last time are tried again (read at their nodes), as a whole read would. */
	size_t nchanged = w.nnodes;
	if (ok) {
		namemap_each(st->refused, retry_refused, &w);
		ok = !w.whole;
	}
	ok = ok && (t = malloc(w.nnodes * sizeof(*t) + 1)) != NULL && read_touched(zr, &w, t);
	namemap_free(w.touched);
	if (!ok) {
		free(w.nodes);
		free(w.unlisted);
		free(t);
		goto whole;
	}
	bool changed = false, lost = false;
	member_batch_t batch = { 0 };
	set_changes_t sc = { .nadded = 0 };
	for (size_t i = 0; i < w.nnodes; i++) {
		if (!t[i].listed) {
			lost |= i >= nchanged;   /* a member not taken, untouched, gone: not what the state says */
			continue;
		}
		bool refused = false;
		changed |= take_member(srv, cat, &t[i].m, &batch, &sc, &refused);
		if (refused)
			lost |= !refused_note(st, t[i].m.zone, w.nodes[i]);
		else
			refused_forget(st, t[i].m.zone);
	}
	batch_write(srv, &batch);
	zonert_t *gone[SET_CHANGES_MAX];
	size_t ngone = 0, removed = 0;
	for (size_t i = 0; i < w.nunlisted; i++) {
		if (namemap_get(st->names, w.unlisted[i], (size_t)name_length(w.unlisted[i], NAME_MAXLEN)) != NULL)
			continue;   /* listed again (under another ID) */
		refused_forget(st, w.unlisted[i]);
		char name[NAME_TEXT_MAX];
		name_to_text(w.unlisted[i], name, sizeof(name));
		dynzone_t *d = dynzone_find(srv, name);
		if (d == NULL || strcmp(d->catalog, cat->name) != 0)
			continue;   /* not ours: refused when listed, or moved to another catalog (coo) */
		drop_member(srv, cat, d, &sc, gone, &ngone);
		changed = true;
		removed++;
	}
	for (size_t i = 0; i < w.nnodes; i++)
		if (t[i].listed)
			coo_look_again(srv, zr, &t[i].m);
	if (changed)
		set_follow(srv, &sc, gone, ngone);
	member_lines_end(&sc, zr->name);
	log_info("%s: catalog serial %u -> %u read by its changes: %zu member nodes touched, %zu members "
	         "removed, %zu listed, %zu not taken, %.1f ms", zr->name, st->serial, now, nchanged, removed,
	         namemap_count(st->names), namemap_count(st->refused), clock_ms_since(&started));
	st->serial = now;
	st->gen = srv->dyn_gen;
	free(w.nodes);
	free(w.unlisted);
	free(t);
	if (lost)   /* a member not taken could not be noted: the next version is read whole */
		state_drop(srv, zr->name);
	return true;
whole:
	state_drop(srv, zr->name);
	return false;
}

void catalog_consume(server_t *srv, zonert_t *zr)
{
	const conf_zone_t *cat = zr->conf;
	if (cat == NULL || cat->catalog != CONF_CATALOG_CONSUME)
		return;
	unsigned max = cat->catalog_max_members ? cat->catalog_max_members
	               : srv->rc->conf->server.catalog_max_members;
	if (!consume_changes(srv, zr, cat, max))
		consume_whole(srv, zr, cat, max);
}
