/* runtime/zoneprep.c -- zone files read, parsed and checked ahead on helper threads during a load pass */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"
#include "runtime/zoneprep.h"

/* The store's metadata when the pass began, sorted by zone name. */
typedef struct {
	char *name;
	store_zone_meta_t meta;
} snap_entry_t;

typedef struct {
	snap_entry_t *v;
	size_t count, cap;
} snapshot_t;

struct zoneprep {
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* a slot filled, or the consumer moved on */
	const conf_zone_t *const *all;
	const bool *want;
	size_t count;
	snapshot_t snap;             /* read-only once the helpers run */
	zoneload_prep_t slots[ZONEPREP_AHEAD];   /* zone i in slots[i % ZONEPREP_AHEAD] */
	zoneload_prep_t taken;       /* the consumer's current one */
	size_t next;                 /* the next zone a helper takes */
	size_t consumed;             /* zones before this one are the consumer's */
	size_t ahead_records;        /* records of the versions waiting in slots */
	bool stop;
	bool consumer_waiting;       /* wakeups only for someone waiting: one a zone cost more than */
	int helpers_waiting;         /* the work on 100,000 small zones */
	int threads;
	pthread_t tid[ZONEPREP_THREADS_MAX];
};

static int snap_add(void *ctx, const char *zone, const store_zone_meta_t *meta)
{
	snapshot_t *s = ctx;
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		snap_entry_t *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return TDM_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	if ((s->v[s->count].name = strdup(zone)) == NULL)
		return TDM_ENOMEM;
	s->v[s->count++].meta = *meta;
	return 0;
}

static int snap_cmp(const void *a, const void *b)
{
	return strcmp(((const snap_entry_t *)a)->name, ((const snap_entry_t *)b)->name);
}

static void snap_free(snapshot_t *s)
{
	for (size_t i = 0; i < s->count; i++)
		free(s->v[i].name);
	free(s->v);
	*s = (snapshot_t){ 0 };
}

static const store_zone_meta_t *snap_find(const snapshot_t *s, const char *zone)
{
	snap_entry_t key = { .name = (char *)zone };
	const snap_entry_t *e = s->count > 0 ? bsearch(&key, s->v, s->count, sizeof(*s->v), snap_cmp)
	                                     : NULL;
	return e != NULL ? &e->meta : NULL;
}

static size_t prep_records(const zoneload_prep_t *p)
{
	return p->z != NULL ? zone_record_count(p->z) : 0;
}

/* Whether a helper may take zone `next` now: within the window, and not too many records ahead
 * (the consumer's next zone is always allowed, so that nothing waits forever). */
static bool may_go(const zoneprep_t *zp)
{
	if (zp->next >= zp->consumed + ZONEPREP_AHEAD)
		return false;
	return zp->next <= zp->consumed || zp->ahead_records < ZONEPREP_AHEAD_RECORDS;
}

/*
 * A helper runs ZONEPREP_NICE below the control thread. The control thread commits and publishes what
 * the helpers prepare, one zone after the other: it is the pass's critical path, and the helpers only
 * have to stay ahead of it. With more threads than cores (two helpers and the control thread on two),
 * equal priorities had the control thread waiting for a core behind a helper (400-500 ms of a 3 s first
 * start of 100,000 zones); with the helpers lower, first starts took about a tenth less (medians of
 * alternated starts, docs/benchmarks.md "Many zones"), and during a SIGHUP the query workers go before
 * the reload's helpers too. Linux gives each thread a nice value of its own (setpriority(2), NOTES),
 * which is what this relies on: elsewhere setpriority would lower the whole process, so it is not
 * called there.
 */
#define ZONEPREP_NICE 5

static void lower_priority(void)
{
#ifdef __linux__
	id_t self = (id_t)gettid();
	errno = 0;
	int nice_now = getpriority(PRIO_PROCESS, self);
	if ((nice_now == -1 && errno != 0) ||
	    setpriority(PRIO_PROCESS, self, nice_now + ZONEPREP_NICE) != 0)
		log_warn("zone files: a helper thread keeps the control thread's priority (%s)",
		         tdm_strerror(-errno));
#endif
}

static void *helper(void *arg)
{
	zoneprep_t *zp = arg;
	lower_priority();
	zonefile_parser_t *parser = zonefile_parser_new();   /* NULL: one per file, slower */
	pthread_mutex_lock(&zp->lock);
	for (;;) {
		while (!zp->stop && zp->next < zp->count && !may_go(zp)) {
			zp->helpers_waiting++;
			pthread_cond_wait(&zp->cond, &zp->lock);
			zp->helpers_waiting--;
		}
		if (zp->stop || zp->next >= zp->count)
			break;
		size_t i = zp->next++;
		if (!zp->want[i])
			continue;
		pthread_mutex_unlock(&zp->lock);
		zoneload_prep_t p;
		const conf_zone_t *cz = zp->all[i];
		zoneload_prepare(cz, snap_find(&zp->snap, cz->name), parser, &p);
		pthread_mutex_lock(&zp->lock);
		zp->slots[i % ZONEPREP_AHEAD] = p;
		zp->ahead_records += prep_records(&p);
		if (zp->consumer_waiting)
			pthread_cond_broadcast(&zp->cond);
	}
	pthread_mutex_unlock(&zp->lock);
	zonefile_parser_free(parser);
	return NULL;
}

static int helper_count(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		cpus = 1;
	return cpus < ZONEPREP_THREADS_MAX ? (int)cpus : ZONEPREP_THREADS_MAX;
}

zoneprep_t *zoneprep_start(store_t *store, const conf_zone_t *const *all, const bool *want,
                           size_t count)
{
	size_t wanted = 0;
	for (size_t i = 0; i < count; i++)
		wanted += want[i];
	if (wanted < 2)
		return NULL;
	zoneprep_t *zp = calloc(1, sizeof(*zp));
	if (zp == NULL)
		return NULL;
	zp->all = all;
	zp->want = want;
	zp->count = count;
	if (store_zone_meta_each(store, snap_add, &zp->snap) != TDM_OK) {
		snap_free(&zp->snap);
		free(zp);
		return NULL;
	}
	if (zp->snap.count > 0)   /* qsort's array may not be NULL, even when empty */
		qsort(zp->snap.v, zp->snap.count, sizeof(*zp->snap.v), snap_cmp);
	pthread_mutex_init(&zp->lock, NULL);
	pthread_cond_init(&zp->cond, NULL);
	int want_threads = helper_count();
	for (int t = 0; t < want_threads; t++) {
		if (pthread_create(&zp->tid[zp->threads], NULL, helper, zp) != 0)
			break;
		zp->threads++;
	}
	if (zp->threads == 0) {
		log_warn("zone files: no helper thread (%s): read one after the other",
		         tdm_strerror(TDM_ENOMEM));
		zoneprep_stop(zp);
		return NULL;
	}
	return zp;
}

/* Helpers waiting for room are woken once there is room for a run of zones, not for each. */
#define ZONEPREP_WAKE_RUN 64

zoneload_prep_t *zoneprep_take(zoneprep_t *zp, size_t i)
{
	pthread_mutex_lock(&zp->lock);
	zp->consumed = i;
	bool room = zp->next + ZONEPREP_WAKE_RUN <= zp->consumed + ZONEPREP_AHEAD ||
	            zp->next <= zp->consumed;
	if (zp->helpers_waiting > 0 && room)
		pthread_cond_broadcast(&zp->cond);
	if (i >= zp->count || !zp->want[i]) {
		pthread_mutex_unlock(&zp->lock);
		return NULL;
	}
	zoneload_prep_t *slot = &zp->slots[i % ZONEPREP_AHEAD];
	if (!slot->done && zp->next <= i) {
		/* No helper got to it (they are slower, or not scheduled on a busy machine): the control
		 * thread does it itself rather than wait for one. */
		zp->next = i + 1;
		pthread_mutex_unlock(&zp->lock);
		return NULL;
	}
	while (!slot->done) {
		zp->consumer_waiting = true;
		if (zp->helpers_waiting > 0)
			pthread_cond_broadcast(&zp->cond);   /* the records bound let the next one go */
		pthread_cond_wait(&zp->cond, &zp->lock);
		zp->consumer_waiting = false;
	}
	zoneload_prep_clear(&zp->taken);   /* normally emptied by zoneload_configured already */
	zp->taken = *slot;
	*slot = (zoneload_prep_t){ 0 };
	zp->ahead_records -= prep_records(&zp->taken);
	pthread_mutex_unlock(&zp->lock);
	return &zp->taken;
}

void zoneprep_stop(zoneprep_t *zp)
{
	if (zp == NULL)
		return;
	pthread_mutex_lock(&zp->lock);
	zp->stop = true;
	pthread_cond_broadcast(&zp->cond);
	pthread_mutex_unlock(&zp->lock);
	for (int t = 0; t < zp->threads; t++)
		pthread_join(zp->tid[t], NULL);
	for (size_t i = 0; i < ZONEPREP_AHEAD; i++)
		zoneload_prep_clear(&zp->slots[i]);
	zoneload_prep_clear(&zp->taken);
	snap_free(&zp->snap);
	pthread_mutex_destroy(&zp->lock);
	pthread_cond_destroy(&zp->cond);
	free(zp);
}
