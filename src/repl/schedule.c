/* repl/schedule.c -- when secondary zones refresh: their timers, and jobs within each primary's limit */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/log.h"
#include "repl/refresh.h"
#include "repl/schedule.h"

/*
 * DESIGN. The control thread owns every timer of a secondary zone and decides when it refreshes;
 * jobs (a refresh: SOA check, then IXFR or AXFR: refresh.c) run on their own threads, at most
 * xfr-per-primary at once for each primary, and report back through the inbox (inbox.h). Workers
 * post the NOTIFYs they accepted the same way. A zone never has two jobs: a request that comes while
 * one runs is remembered and run after it. Zones that hold no data yet go in batches
 * (refresh_start_batch): one job, one slot, up to REFRESH_BATCH_MAX zones; they wait in the queue
 * until the control thread has seen them all.
 */

/* The key that limits concurrent jobs: the zone's first primary. */
static const char *primary_key(const zonert_t *zr)
{
	const conf_zone_t *cz = zr->conf;
	return cz != NULL && cz->primary_count > 0 ? cz->primaries[0]->name : "";
}

/* Per primary: its running jobs and, in order, the zones waiting for one of its slots. A handful of
 * primaries serve thousands of zones (a catalog's members): a job that ends looks at its own
 * primary's queue only, so starting N waiting zones costs N, not N times the queue. */
struct primary_jobs {
	char *key;                   /* malloc'ed, never moves: zones running a job point at it */
	unsigned running;
	zonert_t *head, *tail;
	bool kick;                   /* run_waiting is due once the control thread is idle */
};

/* The entry of a primary, made on first use; NULL when out of memory. The array may move: callers
 * look it up again after anything that may add a primary. */
static struct primary_jobs *jobs_for(server_t *srv, const char *key)
{
	for (size_t i = 0; i < srv->nprimary_jobs; i++)
		if (strcmp(srv->primary_jobs[i].key, key) == 0)
			return &srv->primary_jobs[i];
	char *copy = strdup(key);
	struct primary_jobs *p = copy != NULL ? realloc(srv->primary_jobs,
	                                                (srv->nprimary_jobs + 1) * sizeof(*p)) : NULL;
	if (p == NULL) {
		free(copy);
		return NULL;
	}
	srv->primary_jobs = p;
	p = &p[srv->nprimary_jobs++];
	*p = (struct primary_jobs){ .key = copy };
	return p;
}

static void enqueue(struct primary_jobs *pj, zonert_t *zr)
{
	if (zr->queued)
		return;
	zr->queued = true;
	zone_ref(zr->zone);
	zr->next_waiting = NULL;
	if (pj->tail != NULL)
		pj->tail->next_waiting = zr;
	else
		pj->head = zr;
	pj->tail = zr;
}

static void run_waiting(server_t *srv, const char *key);

/* Zones that hold no data yet come by the thousand (a catalog's new members): they wait until the
 * control thread has seen them all, then leave in batches (refresh_start_batch). */
static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	server_t *srv = arg;
	srv->kick_armed = false;
	for (size_t i = 0; i < srv->nprimary_jobs; i++) {
		if (!srv->primary_jobs[i].kick)
			continue;
		srv->primary_jobs[i].kick = false;
		run_waiting(srv, srv->primary_jobs[i].key);
	}
}

static void kick_later(server_t *srv, struct primary_jobs *pj)
{
	pj->kick = true;
	struct timeval now = { 0, 0 };
	if (!srv->kick_armed && event_base_once(srv->base, -1, EV_TIMEOUT, kick_cb, srv, &now) == 0)
		srv->kick_armed = true;
}

/* Takes from the head of the primary's queue the zones that may join zr's batch (their queue
 * references go with them). */
static size_t take_batch(struct primary_jobs *pj, zonert_t **batch)
{
	size_t n = 1;
	while (n < REFRESH_BATCH_MAX && pj->head != NULL && !pj->head->refreshing &&
	       refresh_batchable(pj->head)) {
		zonert_t *zr = pj->head;
		pj->head = zr->next_waiting;
		if (pj->head == NULL)
			pj->tail = NULL;
		zr->queued = false;
		batch[n++] = zr;
	}
	return n;
}

/* now: zr was just taken from its queue (run_waiting), it starts if a slot is free. */
static void start_or_queue(server_t *srv, zonert_t *zr, bool now)
{
	if (zr->refreshing) {
		zr->refresh_again = true;
		return;
	}
	if (zr->queued)
		return;   /* its turn comes */
	struct primary_jobs *pj = jobs_for(srv, primary_key(zr));
	if (pj == NULL)
		return;
	unsigned max = srv->rc->conf->server.xfr_per_primary;
	bool batchable = refresh_batchable(zr);
	if (pj->running >= max || (batchable && !now)) {
		enqueue(pj, zr);
		if (pj->running < max)
			kick_later(srv, pj);
		return;
	}
	zonert_t *batch[REFRESH_BATCH_MAX] = { zr };
	size_t n = batchable ? take_batch(pj, batch) : 1;
	bool started = refresh_start_batch(srv, batch, n) == TDM_OK;
	if (started)
		pj->running++;
	for (size_t i = 0; i < n; i++) {
		if (started) {
			batch[i]->refreshing = true;
			batch[i]->job_key = pj->key;
		} else if (i > 0) {
			enqueue(pj, batch[i]);   /* back in line: a later end of a job starts it */
		}
		if (i > 0)
			zone_unref(batch[i]->zone);
	}
}

/* Starts, in order, the zones waiting for a slot of this primary, as far as its limit allows. */
static void run_waiting(server_t *srv, const char *key)
{
	for (;;) {
		struct primary_jobs *pj = jobs_for(srv, key);
		if (pj == NULL || pj->head == NULL || pj->running >= srv->rc->conf->server.xfr_per_primary)
			return;
		zonert_t *zr = pj->head;
		pj->head = zr->next_waiting;
		if (pj->head == NULL)
			pj->tail = NULL;
		zr->queued = false;
		if (zr->conf != NULL && zr->conf->type == CONF_ZONE_SECONDARY && !srv->stopping)
			start_or_queue(srv, zr, true);   /* its primary may have changed: queued there */
		zone_unref(zr->zone);
	}
}

void schedule_refresh(server_t *srv, zonert_t *zr)
{
	if (zr->conf == NULL || zr->conf->type != CONF_ZONE_SECONDARY || srv->stopping)
		return;
	start_or_queue(srv, zr, false);
}

static void timer_fired(evutil_socket_t fd, short what, void *arg)
{
	zonert_t *zr = arg;
	int64_t now = (int64_t)time(NULL);
	store_state_t st = zonert_state(zr);
	bool expire = st.expire_at != 0 && now >= st.expire_at;
	if (expire && !zone_expired(zr->zone)) {
		/* RFC 1035 4.3.5 / SPEC.md: past EXPIRE the zone is no longer served. */
		log_warn("%s: expired, no primary answered in time: answering SERVFAIL", zr->name);
		zone_set_expired(zr->zone, true);
	}
	/* The timer is armed again when the refresh ends (CTL_REFRESH_DONE). */
	schedule_refresh(zr->srv, zr);
}

void schedule_zone_changed(server_t *srv, zonert_t *zr)
{
	if (zr->conf == NULL || zr->conf->type != CONF_ZONE_SECONDARY) {
		if (zr->timer != NULL)
			evtimer_del(zr->timer);
		return;
	}
	if (zr->timer == NULL && (zr->timer = evtimer_new(srv->base, timer_fired, zr)) == NULL)
		return;
	int64_t now = (int64_t)time(NULL);
	store_state_t st = zonert_state(zr);
	int64_t at = st.refresh_at;
	if (st.expire_at != 0 && !zone_expired(zr->zone) && st.expire_at < at)
		at = st.expire_at;
	struct timeval tv = { .tv_sec = at > now ? at - now : 0 };
	evtimer_add(zr->timer, &tv);
}

void schedule_done(server_t *srv, zonert_t *zr, size_t slots)
{
	const char *key = zr->job_key != NULL ? zr->job_key : "";
	struct primary_jobs *pj = jobs_for(srv, key);
	if (pj != NULL && pj->running >= slots)
		pj->running -= (unsigned)slots;
	zr->refreshing = false;
	schedule_zone_changed(srv, zr);
	if (zr->refresh_again) {
		zr->refresh_again = false;
		schedule_refresh(srv, zr);
	}
	run_waiting(srv, key);
}

void schedule_free(server_t *srv)
{
	for (size_t i = 0; i < srv->nprimary_jobs; i++) {
		while (srv->primary_jobs[i].head != NULL) {
			zonert_t *zr = srv->primary_jobs[i].head;
			srv->primary_jobs[i].head = zr->next_waiting;
			zone_unref(zr->zone);
		}
		free(srv->primary_jobs[i].key);
	}
	free(srv->primary_jobs);
	srv->primary_jobs = NULL;
	srv->nprimary_jobs = 0;
}
