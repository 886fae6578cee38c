/* provision/zones.c -- the zones of a configuration: created, loaded, their roles applied, at start and reload */
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <urcu.h>

#include "catalog/catalog.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "provision/apizone.h"
#include "provision/catproduce.h"
#include "provision/dynzone.h"
#include "provision/zones.h"
#include "repl/refresh.h"
#include "repl/schedule.h"
#include "runtime/inbox.h"
#include "runtime/tsigkeys.h"
#include "runtime/zoneload.h"
#include "runtime/zonework.h"
#include "runtime/zoneprep.h"
#include "wire/name.h"

int runconf_new(conf_t *conf, runconf_t **out)
{
	runconf_t *rc = calloc(1, sizeof(*rc));
	if (rc == NULL)
		return TDM_ENOMEM;
	rc->conf = conf;
	rc->keys = calloc(conf->key_count ? conf->key_count : 1, sizeof(tsig_key_t));
	if (rc->keys == NULL) {
		free(rc);
		return TDM_ENOMEM;
	}
	for (size_t i = 0; i < conf->key_count; i++) {
		const conf_key_t *k = &conf->keys[i];
		if (tsig_key_init(&rc->keys[i], k->name, k->algorithm, k->secret, k->secret_len) !=
		    TDM_OK) {
			log_err("key %s: unusable (algorithm %s)", k->name, k->algorithm);
			free(rc->keys);
			free(rc);
			return TDM_ECONF;
		}
	}
	*out = rc;
	return TDM_OK;
}

void runconf_free(runconf_t *rc)
{
	if (rc == NULL)
		return;
	conf_free(rc->conf);
	free(rc->keys);
	free(rc->api);
	free(rc);
}

static zone_t *current_zone(server_t *srv, const char *name)
{
	uint8_t wire[NAME_MAXLEN];
	int len = name_from_text(name, NULL, wire);
	if (len < 0 || srv->zones == NULL)
		return NULL;
	name_copy_lower(wire, wire);
	return zoneset_find_exact(srv->zones, wire, len);
}

static void store_retry_arm(server_t *srv, zonert_t *zr);

/*
 * Zones loaded at a start or a reload store their versions in batches (store_batch_begin): one
 * transaction, one fsync, for up to ZONES_BATCH_MAX zones, instead of one each (100,000 small zones took
 * 33 s, mostly fsyncs). Committed before served still holds: the versions of a batch wait in it and are
 * published once it commits; a batch whose commit fails publishes none of them and each zone tries
 * again (store_retry_arm), as a single failed commit does. A zone whose own write fails inside the
 * batch is undone alone (a savepoint) and the others go on. A batch is committed after ZONES_BATCH_MAX
 * zones, ZONES_BATCH_RECORDS records or ZONES_BATCH_MS milliseconds, whichever comes first, so that
 * other threads wait little for the store and a reload publishes as it goes.
 */
#define ZONES_BATCH_MAX 2000
/* A start or reload of more zones than this logs each zone it loads at debug level, and a summary at
 * info: 100,000 lines at every start help no one (docs/behaviour.md "Logs"). */
#define ZONES_QUIET_MIN 1000
#define ZONES_BATCH_RECORDS 500000
#define ZONES_BATCH_MS 500

typedef struct {
	zonert_t *zr;                /* its write lock held until the version is published (or dropped) */
	zone_contents_t *version;    /* committed in the batch, published when it commits */
	bool pending;                /* it has journal entries beyond the stored contents */
} batch_item_t;

typedef struct {
	server_t *srv;
	bool open;                   /* a store batch is open: versions wait in items */
	batch_item_t items[ZONES_BATCH_MAX];
	size_t count, records;
	struct timespec started;
	zoneload_stats_t stats;
	bool quiet;                  /* more than ZONES_QUIET_MIN zones: each loaded one logged at debug */
	zonefile_parser_t *parser;   /* one scanner for every file of the pass (NULL: one per file) */
	zoneload_prep_t *prep;       /* the next zone's file, prepared ahead (runtime/zoneprep.h) */
} zbatch_t;

/* Publishes a version that is in the store: served, announced, the journal folded in when due
 * (only a version with pending journal entries can need it: the others skip the store's count). */
static void publish(server_t *srv, zonert_t *zr, zone_contents_t *out, bool pending)
{
	zr->serial = zone_serial(out);
	zone_set_contents(zr->zone, out);
	/* Only a zone with secondaries to tell gets a message (about 1 KiB each: 100,000 zones at a
	 * first start left 100 MB of freed messages scattered through the heap). */
	if (zr->conf != NULL && zr->conf->notify_count > 0)
		inbox_post(srv, CTL_NOTIFY, zr);
	if (pending)   /* when due, on the version served by then (runtime/zonework.h) */
		zonework_post(srv, ZONEWORK_COMPACT, zr);
	if (zr->store_failures > 0) {
		log_info("%s: stored after %u failed attempts", zr->name, zr->store_failures);
		zr->store_failures = 0;
	}
}

static void batch_open(zbatch_t *b)
{
	b->open = store_batch_begin(b->srv->store) == TDM_OK;
	b->count = b->records = 0;
	b->started = clock_now();
}

/* Commits the batch and publishes what it held (or, when the commit failed, none of it). */
static void batch_flush(zbatch_t *b)
{
	if (!b->open)
		return;
	b->open = false;
	int ret = store_batch_commit(b->srv->store);
	char why[256] = "";
	if (ret != TDM_OK) {
		bool failing;
		int64_t at;
		store_health(b->srv->store, &failing, why, sizeof(why), &at);
		log_err("%zu zones not stored (%s): not served until they are", b->count, tdm_strerror(ret));
	}
	for (size_t i = 0; i < b->count; i++) {
		if (ret == TDM_OK) {
			publish(b->srv, b->items[i].zr, b->items[i].version, b->items[i].pending);
		} else {
			/* Each zone named, as its own failed commit would be. */
			log_err("%s: store: not stored (%s)", b->items[i].zr->name, why);
			zone_contents_unref(b->items[i].version);   /* never published: ours alone */
			store_retry_arm(b->srv, b->items[i].zr);
		}
		pthread_mutex_unlock(&b->items[i].zr->write_lock);
	}
	b->count = b->records = 0;
}

/* After a zone of the batch: commits it when it is full or old enough, and opens the next. */
static void batch_next(zbatch_t *b)
{
	double ms = clock_ms_since(&b->started);
	if (b->open && b->count < ZONES_BATCH_MAX && b->records < ZONES_BATCH_RECORDS &&
	    ms < ZONES_BATCH_MS)
		return;
	batch_flush(b);
	batch_open(b);
}

/* A primary zone: its file (or the store) brought in; a new version is announced. Inside an open
 * batch (b), the version waits for the batch's commit instead of being published now. Outside one,
 * prep is the file read ahead (runtime/zonework.c's reload), or NULL. *behind (when not NULL) says
 * the store holds dynamic updates the file lacks (the file is written again). */
static int load_primary(server_t *srv, zonert_t *zr, const conf_zone_t *cz, bool was_secondary,
                        zbatch_t *b, zoneload_prep_t *prep, bool *behind)
{
	bool pending = true;
	zoneload_t zl = { .store = srv->store,
	                  .journal_max = srv->rc->conf->server.journal_max_entries,
	                  .stats = b != NULL ? &b->stats : NULL, .pending = &pending,
	                  .quiet = b != NULL && b->quiet,
	                  .parser = b != NULL ? b->parser : NULL,
	                  .prep = b != NULL ? b->prep : prep };
	bool file_behind = false;
	zl.file_behind = &file_behind;
	zone_contents_t *out = NULL;
	/* One change at a time: an UPDATE waits (a little) for a reload and never applies to what the
	 * reload replaces; a version waiting in a batch keeps its zone locked until it is published. An
	 * UPDATE holding the lock may be waiting for the store, which an open batch holds: the batch is
	 * committed first, so neither waits for the other. */
	if (pthread_mutex_trylock(&zr->write_lock) != 0) {
		if (b != NULL && b->open) {
			batch_flush(b);
			batch_open(b);
		}
		pthread_mutex_lock(&zr->write_lock);
	}
	zone_contents_t *current = zone_contents_pin(zr->zone);
	zone_set_expire_at(zr->zone, 0);
	if (was_secondary) {
		log_info("%s: now primary, keeping serial %u and its journal", zr->name,
		         current ? zone_serial(current) : 0);
		zone_set_expired(zr->zone, false);
	}
	/* A zone that fails to load keeps what it served (or nothing: SERVFAIL). */
	int ret = zoneload_configured(&zl, cz, current, &out);
	bool batched = false;
	if (ret == TDM_OK && out != NULL) {
		if (b != NULL && b->open) {
			b->items[b->count++] = (batch_item_t){ .zr = zr, .version = out, .pending = pending };
			b->records += zone_record_count(out);
			batched = true;   /* batch_flush publishes it and unlocks the zone */
		} else {
			publish(srv, zr, out, pending);
		}
	}
	if (!batched)
		pthread_mutex_unlock(&zr->write_lock);
	if (file_behind)
		inbox_post(srv, CTL_FILE_SYNC, zr);   /* dynamic updates the file lacks (a restart) */
	if (behind != NULL)
		*behind = file_behind;
	if (ret == TDM_ESTORE)
		store_retry_arm(srv, zr);
	zone_contents_unref(current);
	if (b != NULL)
		batch_next(b);
	return ret;
}

static void store_retry_fired(evutil_socket_t fd, short what, void *arg)
{
	zonert_t *zr = arg;
	if (zr->conf == NULL || zr->conf->type != CONF_ZONE_PRIMARY)
		return;
	log_info("%s: trying to store the zone again (attempt %u)", zr->name, zr->store_failures + 1);
	load_primary(zr->srv, zr, zr->conf, false, NULL, NULL, NULL);
}

/* A change that could not be committed (disk full, I/O error) is not served, and not forgotten: the
 * load runs again after 2, 4, 8 ... 64 s until the store takes it (the file is still newer than what
 * the store recorded, so the retry parses it again and diffs against what is served). */
static void store_retry_arm(server_t *srv, zonert_t *zr)
{
	if (zr->store_retry == NULL &&
	    (zr->store_retry = evtimer_new(srv->base, store_retry_fired, zr)) == NULL)
		return;
	unsigned shift = zr->store_failures < 6 ? zr->store_failures : 5;
	zr->store_failures++;
	struct timeval tv = { .tv_sec = 2 << shift };
	log_warn("%s: the change is not served until it is stored; trying again in %ld s", zr->name,
	         (long)tv.tv_sec);
	evtimer_add(zr->store_retry, &tv);
}

/* A secondary zone: what the store holds is served at once; the timers go on from where they were. */
static void load_secondary(server_t *srv, zonert_t *zr, const conf_zone_t *cz, bool role_changed,
                           bool quiet)
{
	rcu_read_lock();
	bool have = zone_contents(zr->zone) != NULL;
	rcu_read_unlock();
	if (!have) {
		zone_contents_t *out = NULL;
		if (zoneload_stored(srv->store, cz, quiet, &out) == TDM_OK) {
			zr->serial = zone_serial(out);
			zone_set_contents(zr->zone, out);
		}
	}
	if (!have || role_changed) {
		if (role_changed)
			log_info("%s: now secondary of %s", zr->name,
			         cz->primary_count ? cz->primaries[0]->name : "(none)");
		refresh_restore(srv, zr);
		if (role_changed) {
			store_state_t st = zonert_state(zr);
			st.refresh_at = (int64_t)time(NULL);
			zonert_state_set(zr, &st);
		}
	}
}

/* Finds or makes the zone of cz, with its runtime (*made says which); NULL on OOM. */
/*
 * The zones of the set in force by the settings they are bound to (zr->conf): a rebuild (a zone
 * added or removed through the API, a catalog member) binds most zones to the settings they have
 * already, and finds them by that pointer instead of by name -- 100,000 name lookups were most of
 * the 80 ms an API zone creation took beside 100,000 zones. Open addressing, at most half full;
 * a miss (new settings: a reload, a changed API zone) falls back to the name.
 */
typedef struct {
	const conf_zone_t **keys;
	zone_t **zones;
	size_t mask;
} conf_map_t;

static size_t conf_slot(const conf_map_t *m, const conf_zone_t *cz)
{
	/* Fibonacci hashing of the address (objects are at least 8-aligned: the low bits say little). */
	return (size_t)(((uint64_t)(uintptr_t)cz >> 3) * 0x9E3779B97F4A7C15ull >> 20) & m->mask;
}

static void conf_map_init(conf_map_t *m, const zoneset_t *set)
{
	*m = (conf_map_t){ 0 };
	size_t n = set != NULL ? zoneset_count(set) : 0, size = 16;
	while (size < 2 * n)
		size *= 2;
	if (n == 0 || (m->keys = calloc(size, sizeof(*m->keys))) == NULL ||
	    (m->zones = calloc(size, sizeof(*m->zones))) == NULL) {
		free(m->keys);
		*m = (conf_map_t){ 0 };
		return;   /* no map: every zone is found by name, as without it */
	}
	m->mask = size - 1;
	for (size_t i = 0; i < n; i++) {
		zone_t *zone = zoneset_at(set, i);
		const conf_zone_t *cz = zonert_of(zone)->conf;
		if (cz == NULL)
			continue;
		size_t s = conf_slot(m, cz);
		while (m->keys[s] != NULL && m->keys[s] != cz)
			s = (s + 1) & m->mask;
		m->keys[s] = cz;
		m->zones[s] = zone;
	}
}

static zone_t *conf_map_find(const conf_map_t *m, const conf_zone_t *cz)
{
	if (m->keys == NULL)
		return NULL;
	for (size_t s = conf_slot(m, cz); m->keys[s] != NULL; s = (s + 1) & m->mask)
		if (m->keys[s] == cz)
			return m->zones[s];
	return NULL;
}

static void conf_map_free(conf_map_t *m)
{
	free(m->keys);
	free(m->zones);
}

/* A zone loaded as its settings say: a primary from its file or the store, a secondary from the store
 * (changed: its role just changed, its data kept); b: the start's or reload's batch, or NULL. */
static void load_in_role(server_t *srv, zonert_t *zr, const conf_zone_t *cz, bool changed, zbatch_t *b)
{
	if (cz->type == CONF_ZONE_PRIMARY)
		load_primary(srv, zr, cz, changed, b, NULL, NULL);
	else
		load_secondary(srv, zr, cz, changed, b != NULL && b->quiet);
}

static zone_t *zone_for(server_t *srv, const conf_map_t *map, const conf_zone_t *cz, bool *made)
{
	zone_t *zone = conf_map_find(map, cz);
	/* The same settings object is the same zone (checked by name all the same: cheap, and a freed
	 * object's address reused for another zone's settings would be caught). */
	if (zone == NULL || strcasecmp(zonert_of(zone)->name, cz->name) != 0)
		zone = current_zone(srv, cz->name);
	uint8_t apex[NAME_MAXLEN];
	*made = zone == NULL;
	if (zone != NULL) {
		zone_ref(zone);
		return zone;
	}
	if (name_from_text(cz->name, NULL, apex) < 0 || (zone = zone_new(apex)) == NULL)
		return NULL;
	if (zonert_attach(srv, zone) == NULL) {
		zone_unref(zone);
		return NULL;
	}
	return zone;
}

/* The configured zones, then the members of the catalogs we consume, then the zones made through
 * the API. */
static const conf_zone_t **all_zones(server_t *srv, const conf_t *conf, size_t *count)
{
	size_t ndyn = dynzone_count(srv), napi = apizone_count(srv), n = 0;
	const conf_zone_t **all = calloc(conf->zone_count + ndyn + napi + 1, sizeof(*all));
	if (all == NULL)
		return NULL;
	for (size_t i = 0; i < conf->zone_count; i++)
		all[n++] = &conf->zones[i];
	n += dynzone_confs(srv, all + n);
	n += apizone_zones(srv, all + n);
	*count = n;
	return all;
}

/*
 * A reload (SIGHUP) leaves the file of a large primary zone it serves already to the zone-work thread, as
 * a reload of that one zone does (zones_reload_one): reading, parsing and comparing 1,000,000 records take
 * about 1.5 s, and the pass held the control thread -- the API, NOTIFYs, timers and every zone's UPDATEs --
 * that long. Smaller files stay in the pass, where a batch stores thousands of them in one transaction and
 * each costs the control thread about a millisecond for every thousand records at most.
 */
#define ZONES_RELOAD_AHEAD_RECORDS 10000

/* Whether the zone serves a primary's file with at least ZONES_RELOAD_AHEAD_RECORDS records. */
static bool reads_ahead(zonert_t *zr)
{
	const conf_zone_t *cz = zr->conf;
	if (cz == NULL || cz->type != CONF_ZONE_PRIMARY || cz->file == NULL ||
	    cz->catalog == CONF_CATALOG_PRODUCE)
		return false;
	zone_contents_t *z = zone_contents_pin(zr->zone);
	bool large = z != NULL && zone_record_count(z) >= ZONES_RELOAD_AHEAD_RECORDS;
	zone_contents_unref(z);
	return large;
}

/* For a reload: which of all are primaries with a file that the set serves already as large primaries
 * (reads_ahead). NULL when it serves none, the usual case, which costs a look at each zone served (a few
 * milliseconds at 100,000 zones); else also a name lookup for each primary with a file. NULL without
 * memory too: the pass then reads their files itself, as before. */
static bool *read_ahead_marks(server_t *srv, const conf_zone_t **all, size_t total)
{
	size_t large = 0;
	for (size_t i = 0; srv->zones != NULL && i < zoneset_count(srv->zones); i++)
		large += reads_ahead(zonert_of(zoneset_at(srv->zones, i)));
	bool *marks = large > 0 ? calloc(total + 1, sizeof(bool)) : NULL;
	for (size_t i = 0; marks != NULL && i < total; i++) {
		const conf_zone_t *cz = all[i];
		if (cz->type != CONF_ZONE_PRIMARY || cz->file == NULL || cz->catalog == CONF_CATALOG_PRODUCE)
			continue;
		zone_t *zone = current_zone(srv, cz->name);
		marks[i] = zone != NULL && reads_ahead(zonert_of(zone));
	}
	return marks;
}

/* Whether two settings name the same zone file (or none). */
static bool same_file(const conf_zone_t *a, const conf_zone_t *b)
{
	return a->file == NULL ? b->file == NULL : b->file != NULL && strcmp(a->file, b->file) == 0;
}

/*
 * The zone table for conf. load_kept: every zone is (re)loaded, as a start or a reload does (zone
 * files looked at); otherwise only the zones new to the table are (and, for
 * a reconfiguration, a primary given another file), and the others just follow their (possibly
 * rebound) settings: a catalog member added or removed costs that member, not a look at every zone
 * file (zones_rebuild).
 */
static int build_set(server_t *srv, const conf_t *conf, bool load_kept, zoneset_t **out,
                     zones_changes_t *changes)
{
	size_t total = 0;
	const conf_zone_t **all = all_zones(srv, conf, &total);
	zone_t **zones = calloc(total + 1, sizeof(zone_t *));
	bool *made = calloc(total + 1, sizeof(bool));
	if (zones == NULL || all == NULL || made == NULL) {
		free(all);
		free(zones);
		free(made);
		return TDM_ENOMEM;
	}
	size_t n = 0;
	int ret = TDM_OK;
	zbatch_t *b = calloc(1, sizeof(*b));
	if (b != NULL) {
		b->srv = srv;
		b->quiet = load_kept && total > ZONES_QUIET_MIN;
		b->parser = zonefile_parser_new();
		batch_open(b);
	}
	/* A start or a reload looks at every zone file: helpers read and parse them ahead, except the
	 * files of large zones a reload leaves to the zone-work thread. */
	bool *ahead = load_kept ? read_ahead_marks(srv, all, total) : NULL;
	size_t ahead_count = 0;
	bool *want = load_kept && b != NULL ? calloc(total + 1, sizeof(bool)) : NULL;
	for (size_t i = 0; want != NULL && i < total; i++)
		want[i] = all[i]->type == CONF_ZONE_PRIMARY && all[i]->file != NULL &&
		          all[i]->catalog != CONF_CATALOG_PRODUCE && !(ahead != NULL && ahead[i]);
	zoneprep_t *zp = want != NULL ? zoneprep_start(srv->store, all, want, total) : NULL;
	conf_map_t map;
	conf_map_init(&map, load_kept ? NULL : srv->zones);
	for (size_t i = 0; i < total; i++) {
		const conf_zone_t *cz = all[i];
		if (zp != NULL)
			b->prep = zoneprep_take(zp, i);
		zone_t *zone = zone_for(srv, &map, cz, &made[n]);
		if (zone == NULL) {
			ret = TDM_ENOMEM;
			break;
		}
		zones[n++] = zone;
		zonert_t *zr = zonert_of(zone);
		const conf_zone_t *old = zr->conf;
		bool changed = old != NULL && old->type != cz->type;
		/* A primary told to serve another file (a reconfiguration) reads it, as a new zone would. */
		bool refiled = !load_kept && old != NULL && !changed && cz->type == CONF_ZONE_PRIMARY &&
		               !same_file(old, cz);
		rcu_assign_pointer(zr->conf, (conf_zone_t *)cz);
		if (changes != NULL) {
			changes->added += made[n - 1];
			changes->loaded += !made[n - 1] && (changed || refiled);
		}
		if (cz->type == CONF_ZONE_PRIMARY && cz->catalog == CONF_CATALOG_PRODUCE)
			continue;   /* written once every member is known, below */
		/* A rebuild loads the zones new to the set, and those whose role changed (an API zone
		 * made primary or secondary): their timers follow at once. */
		if (!load_kept && !made[n - 1] && !changed && !refiled)
			continue;
		/* A large zone served already, whose file a SIGHUP looks at or a reconfiguration changed, is
		 * read on the zone-work thread, as a reload of that one zone (zr->conf is the new file's). */
		if (((ahead != NULL && ahead[i]) || (refiled && reads_ahead(zr))) && !made[n - 1] &&
		    !changed) {
			zones_reload_one(srv, zr);   /* after the pass: zones_reload_ready */
			ahead_count++;
			continue;
		}
		load_in_role(srv, zr, cz, changed, b);
		if (changed && !load_kept)
			schedule_zone_changed(srv, zr);
	}
	zoneprep_stop(zp);
	conf_map_free(&map);
	free(want);
	free(ahead);
	if (ahead_count > 0)
		log_info("%zu large zone files (%d records or more) read on the zone-work thread: each zone "
		         "logs its load, and its view its last reload", ahead_count, ZONES_RELOAD_AHEAD_RECORDS);
	free(all);
	if (b != NULL) {
		batch_flush(b);
		if (b->quiet)
			log_info("%zu zones looked at (more than %d: each zone loaded is logged at debug "
			         "level)", total, ZONES_QUIET_MIN);
		if (b->stats.unchanged + b->stats.hashed > 0)
			log_info("zone files: %zu unchanged (same size and time, not read), %zu read and "
			         "hashed, %zu parsed", b->stats.unchanged, b->stats.hashed, b->stats.parsed);
		zonefile_parser_free(b->parser);
		free(b);
	}
	/* A produced catalog new to the table is written whole; the others follow their members' changes
	 * once the set is published (catproduce_reconfigured, catproduce_member). */
	for (size_t i = 0; ret == TDM_OK && i < n; i++) {
		zonert_t *zr = zonert_of(zones[i]);
		if (zr->conf->type == CONF_ZONE_PRIMARY && zr->conf->catalog == CONF_CATALOG_PRODUCE &&
		    made[i])
			catproduce_write(srv, zr, conf);
	}
	free(made);
	zoneset_t *set = ret == TDM_OK ? zoneset_new(zones, n) : NULL;
	for (size_t i = 0; i < n; i++)
		zone_unref(zones[i]);
	free(zones);
	if (set == NULL)
		return ret == TDM_OK ? TDM_ENOMEM : ret;
	*out = set;
	return TDM_OK;
}

int zones_build(server_t *srv, const conf_t *conf, zoneset_t **out)
{
	int ret = build_set(srv, conf, true, out, NULL);
	/* A pass over many zone files leaves the heap full of freed scraps (texts, lists, statements)
	 * between the versions kept: whole free pages go back to the system, as Knot does after a load. */
	malloc_trim(0);
	return ret;
}

int zones_reconfigure(server_t *srv, const conf_t *conf, zoneset_t **out, zones_changes_t *changes)
{
	return build_set(srv, conf, false, out, changes);
}

void zones_arm(server_t *srv)
{
	for (size_t i = 0; i < zoneset_count(srv->zones); i++)
		schedule_zone_changed(srv, zonert_of(zoneset_at(srv->zones, i)));
}

/* A zone no longer in the set: its timer goes now, on this thread (the zone itself may outlive it
 * a little), and its data. */
static void forget_zone(server_t *srv, zonert_t *zr)
{
	log_info("%s: removed, deleting its data", zr->name);
	if (zr->timer != NULL) {
		event_free(zr->timer);
		zr->timer = NULL;
	}
	rcu_assign_pointer(zr->conf, NULL);
	store_zone_delete(srv->store, zr->name);
	store_member_delete(srv->store, zr->name);
}

size_t zones_forget_removed(server_t *srv, zoneset_t *old, zoneset_t *set)
{
	size_t removed = 0;
	/* The zones kept are marked, not looked up by name: a zone added through the API among 100,000
	 * cost two name lookups per zone (about 80 ms a call). */
	for (size_t i = 0; i < zoneset_count(set); i++)
		zonert_of(zoneset_at(set, i))->in_new_set = true;
	for (size_t i = 0; old != NULL && i < zoneset_count(old); i++) {
		zonert_t *zr = zonert_of(zoneset_at(old, i));
		if (!zr->in_new_set) {
			forget_zone(srv, zr);
			removed++;
		}
	}
	for (size_t i = 0; i < zoneset_count(set); i++)
		zonert_of(zoneset_at(set, i))->in_new_set = false;
	return removed;
}

/* Frees the set replaced once no reader holds it; then what waited for that grace period (bindings
 * of API zones and catalog members dropped since the last one). */
static void retire(server_t *srv, zoneset_t *old)
{
	synchronize_rcu();
	zoneset_free(old);
	dynzone_collect(srv);
	apizone_collect(srv);
}

/*
 * One zone added or removed (the API's create and delete): the set is copied with one zone more or
 * less (zoneset_with/without) instead of built again from every zone's settings, so the call costs
 * that zone and a copy of the table, not a pass over every zone (zones_rebuild: about 50 ms beside
 * 100,000 zones). A zone whose name the set holds already is left to zones_rebuild.
 */
int zones_add(server_t *srv, const conf_zone_t *cz)
{
	if (srv->zones == NULL)
		return zones_rebuild(srv);
	conf_map_t map;
	conf_map_init(&map, NULL);
	bool made = false;
	zone_t *zone = zone_for(srv, &map, cz, &made);
	conf_map_free(&map);
	if (zone == NULL)
		return TDM_ENOMEM;
	if (!made) {
		zone_unref(zone);
		return zones_rebuild(srv);
	}
	zonert_t *zr = zonert_of(zone);
	rcu_assign_pointer(zr->conf, (conf_zone_t *)cz);
	if (cz->type == CONF_ZONE_PRIMARY && cz->catalog == CONF_CATALOG_PRODUCE)
		catproduce_write(srv, zr, srv->rc->conf);
	else
		load_in_role(srv, zr, cz, false, NULL);
	zoneset_t *set = NULL;
	int ret = zoneset_with(srv->zones, zone, &set);
	zone_unref(zone);   /* the set holds it now, or nothing does (a failure frees it) */
	if (ret != TDM_OK)
		return ret;
	zoneset_t *old = rcu_xchg_pointer(&srv->zones, set);
	schedule_zone_changed(srv, zr);
	retire(srv, old);
	return TDM_OK;
}

zonert_t *zones_find(server_t *srv, const char *name)
{
	uint8_t wire[NAME_MAXLEN];
	int len = name_from_text(name, NULL, wire);
	if (len < 0 || srv->zones == NULL)
		return NULL;
	name_copy_lower(wire, wire);
	zone_t *zone = zoneset_find_exact(srv->zones, wire, len);
	return zone != NULL ? zonert_of(zone) : NULL;
}

int zones_rebind(server_t *srv, zonert_t *zr, const conf_zone_t *cz)
{
	/* What build_set does for a zone it keeps: the new settings, and a zone whose role changed
	 * loaded in its new role (its data kept) with its timers following. */
	bool changed = zr->conf != NULL && zr->conf->type != cz->type;
	rcu_assign_pointer(zr->conf, (conf_zone_t *)cz);
	if (changed && !(cz->type == CONF_ZONE_PRIMARY && cz->catalog == CONF_CATALOG_PRODUCE)) {
		load_in_role(srv, zr, cz, true, NULL);
		schedule_zone_changed(srv, zr);
	}
	retire(srv, NULL);   /* the settings replaced may go at the next bind: no reader holds them then */
	return TDM_OK;
}

int zones_remove(server_t *srv, zonert_t *zr)
{
	zoneset_t *set = NULL;
	int ret = zoneset_without(srv->zones, zr->zone, &set);
	if (ret != TDM_OK)
		return ret;
	zoneset_t *old = rcu_xchg_pointer(&srv->zones, set);
	forget_zone(srv, zr);
	retire(srv, old);   /* the old set drops the zone's last reference */
	return TDM_OK;
}

int zones_rebuild(server_t *srv)
{
	zoneset_t *set = NULL;
	int ret = build_set(srv, srv->rc->conf, false, &set, NULL);
	if (ret != TDM_OK)
		return ret;
	zoneset_t *old = rcu_xchg_pointer(&srv->zones, set);
	zones_forget_removed(srv, old, set);
	/* Timers of the zones kept run on; only new ones need arming. */
	for (size_t i = 0; i < zoneset_count(set); i++) {
		zonert_t *zr = zonert_of(zoneset_at(set, i));
		if (zr->timer == NULL)
			schedule_zone_changed(srv, zr);
	}
	retire(srv, old);
	return TDM_OK;
}

/* The zone's reload view, made at its first reload (zr->lock held); NULL without memory: the view
 * then misses this one. */
static zonert_reload_t *reload_view(zonert_t *zr)
{
	if (zr->reload == NULL)
		zr->reload = calloc(1, sizeof(*zr->reload));
	return zr->reload;
}

void zones_reload_one(server_t *srv, zonert_t *zr)
{
	/* Each job queued answers once (zones_reload_ready); a request that finds one waiting is covered
	 * by it. */
	if (zonework_post(srv, ZONEWORK_RELOAD, zr)) {
		pthread_mutex_lock(&zr->lock);
		zonert_reload_t *r = reload_view(zr);
		if (r != NULL)
			r->pending++;
		pthread_mutex_unlock(&zr->lock);
	}
}

/* What the zone's view says of the reload that ended (zonert_t.reload); still reading while
 * another one asked for meanwhile is pending. */
static void reload_said(zonert_t *zr, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&zr->lock);
	zonert_reload_t *r = reload_view(zr);
	if (r != NULL) {
		va_start(ap, fmt);
		vsnprintf(r->result, sizeof(r->result), fmt, ap);
		va_end(ap);
		if (r->pending > 0)
			r->pending--;
		r->at = (int64_t)time(NULL);
	}
	pthread_mutex_unlock(&zr->lock);
}

void zones_reload_ready(server_t *srv, zonert_t *zr, zonework_reload_t *r)
{
	const conf_zone_t *cz = zr->conf;
	if (r == NULL) {
		reload_said(zr, "not read: %s", tdm_strerror(TDM_ENOMEM));
		return;
	}
	/* Removed, made a secondary, or given another file while its file was read: the file read is
	 * not this zone's any more (a zone removed must not be stored again). */
	if (cz == NULL || cz->type != CONF_ZONE_PRIMARY || cz->file == NULL ||
	    cz->catalog == CONF_CATALOG_PRODUCE || strcmp(cz->file, r->file) != 0) {
		log_info("%s: reload: the zone's settings changed while its file was read; not applied",
		         zr->name);
		reload_said(zr, "not applied: the zone's settings changed while its file was read");
		return;
	}
	uint32_t before = zr->serial;
	bool behind = false;
	int ret = load_primary(srv, zr, cz, false, NULL, &r->prep, &behind);
	if (ret != TDM_OK)
		reload_said(zr, "not loaded: %s (the server's log names the line); still serving serial %u",
		            tdm_strerror(ret), zr->serial);
	else if (behind)
		reload_said(zr, "not read: the zone has dynamic updates the file lacks; serving serial %u, "
		            "the file written again (an edit made to it is kept in its .bak)", zr->serial);
	else if (zr->serial != before)
		reload_said(zr, "serial %u -> %u", before, zr->serial);
	else
		reload_said(zr, "unchanged: serial %u", zr->serial);
}
