/* server/control.c -- the control thread: signals, timers of secondary zones, jobs */
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/sdnotify.h"
#include "server/catconsume.h"
#include "server/apiorder.h"
#include "server/control.h"
#include "server/filesync.h"
#include "server/zones.h"

/*
 * DESIGN. One thread owns every timer and decides when a zone refreshes; jobs (a refresh: SOA
 * check, then IXFR or AXFR) run on their own threads, at most xfr-per-primary at once for each
 * primary, and report back through the inbox. Workers post NOTIFYs they accepted the same way.
 * A zone never has two jobs: a request that comes while one runs is remembered and run after it.
 * Zones that hold no data yet go in batches (refresh_start_batch): one job, one slot, up to
 * REFRESH_BATCH_MAX zones; they wait in the queue until the control thread has seen them all.
 */

/* The eventfd is written only when the inbox was empty: inbox_ready clears it before it takes the
 * whole inbox, so a message added to a non-empty inbox is taken by a wakeup already due (an UPDATE
 * posts two messages; the second costs no system call and no second wakeup). */
static void post(server_t *srv, ctl_msg_t *m)
{
	pthread_mutex_lock(&srv->inbox_lock);
	bool wake = srv->inbox == NULL;
	m->next = srv->inbox;
	srv->inbox = m;
	pthread_mutex_unlock(&srv->inbox_lock);
	if (wake) {
		uint64_t one = 1;
		ssize_t w = write(srv->inbox_fd, &one, sizeof(one));
		(void)w;
	}
}

/* NOTIFYs for zones we lack, posted by workers and not looked at yet: a flood of them (spoofed from
 * a super-primary's address) costs this much memory at most; more are dropped (catconsume.c
 * deduplicates, queues and rate-limits what gets through). */
#define AP_INBOX_MAX 4096

void control_post_name(server_t *srv, ctl_kind_t kind, const char *name, size_t index)
{
	if (kind == CTL_AUTOPRIMARY && atomic_fetch_add(&srv->ap_inbox, 1) >= AP_INBOX_MAX) {
		atomic_fetch_sub(&srv->ap_inbox, 1);
		return;
	}
	ctl_msg_t *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		if (kind == CTL_AUTOPRIMARY)
			atomic_fetch_sub(&srv->ap_inbox, 1);
		log_err("%s: out of memory, an event was lost", name);
		return;
	}
	m->kind = kind;
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->index = index;
	post(srv, m);
}

static void post_zone(server_t *srv, ctl_kind_t kind, zonert_t *zr, size_t index)
{
	ctl_msg_t *m = malloc(sizeof(*m));
	if (m == NULL) {
		log_err("%s: out of memory, an event was lost", zr->name);
		return;
	}
	zone_ref(zr->zone);
	m->kind = kind;
	m->zr = zr;
	m->index = index;
	post(srv, m);
}

void control_post(server_t *srv, ctl_kind_t kind, zonert_t *zr)
{
	post_zone(srv, kind, zr, kind == CTL_REFRESH_DONE ? 1 : 0);
}

void control_post_done(server_t *srv, zonert_t *zr, size_t slots)
{
	post_zone(srv, CTL_REFRESH_DONE, zr, slots);
}

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

/* The API's order of a large zone's names, made ahead (server/apiorder.h), once per lineage: a version
 * an UPDATE, an IXFR or a reload's diff made from the one before keeps its lineage, and the API carries
 * the order to it at the cost of the names it adds (apiorder_get: a kin), so only a version built
 * whole needs a new sort. Sorting again after every change kept a core busy through a burst of UPDATEs
 * (a third of tandemd's CPU at 100,000 records, bench/update.py). */
static void warm_order(zonert_t *zr)
{
	if (zr->srv->rc->conf->http.listen.len == 0)
		return;   /* no API: nobody will page through the records */
	rcu_read_lock();
	zone_contents_t *z = zone_contents(zr->zone);
	if (z != NULL && zone_contents_lineage(z) != zr->warmed_lineage) {
		zr->warmed_lineage = zone_contents_lineage(z);
		apiorder_warm(z);
	}
	rcu_read_unlock();
}

void control_warm_orders(server_t *srv)
{
	for (size_t i = 0; i < zoneset_count(srv->zones); i++)
		warm_order(zonert_of(zoneset_at(srv->zones, i)));
}

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

void control_refresh(server_t *srv, zonert_t *zr)
{
	if (zr->conf == NULL || zr->conf->type != CONF_ZONE_SECONDARY || srv->stopping)
		return;
	start_or_queue(srv, zr, false);
}

static void timer_fired(evutil_socket_t fd, short what, void *arg)
{
	zonert_t *zr = arg;
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&zr->lock);
	bool expire = zr->state.expire_at != 0 && now >= zr->state.expire_at;
	pthread_mutex_unlock(&zr->lock);
	if (expire && !zone_expired(zr->zone)) {
		/* RFC 1035 4.3.5 / SPEC.md: past EXPIRE the zone is no longer served. */
		log_warn("%s: expired, no primary answered in time: answering SERVFAIL", zr->name);
		zone_set_expired(zr->zone, true);
	}
	/* The timer is armed again when the refresh ends (CTL_REFRESH_DONE). */
	control_refresh(zr->srv, zr);
}

void control_zone_changed(server_t *srv, zonert_t *zr)
{
	if (zr->conf == NULL || zr->conf->type != CONF_ZONE_SECONDARY) {
		if (zr->timer != NULL)
			evtimer_del(zr->timer);
		return;
	}
	if (zr->timer == NULL && (zr->timer = evtimer_new(srv->base, timer_fired, zr)) == NULL)
		return;
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&zr->lock);
	int64_t at = zr->state.refresh_at;
	if (zr->state.expire_at != 0 && !zone_expired(zr->zone) && zr->state.expire_at < at)
		at = zr->state.expire_at;
	pthread_mutex_unlock(&zr->lock);
	struct timeval tv = { .tv_sec = at > now ? at - now : 0 };
	evtimer_add(zr->timer, &tv);
}

static void handle(server_t *srv, ctl_msg_t *m)
{
	zonert_t *zr = m->zr;
	if (zr == NULL && m->kind != CTL_AUTOPRIMARY && m->kind != CTL_AUTOPRIMARY_OK &&
	    m->kind != CTL_AUTOPRIMARY_DONE) {
		free(m);
		return;
	}
	switch (m->kind) {
	case CTL_REFRESH:
		control_refresh(srv, zr);
		break;
	case CTL_REFRESH_DONE: {
		const char *key = zr->job_key != NULL ? zr->job_key : "";
		struct primary_jobs *pj = jobs_for(srv, key);
		if (pj != NULL && pj->running >= m->index)
			pj->running -= (unsigned)m->index;
		zr->refreshing = false;
		control_zone_changed(srv, zr);
		if (zr->refresh_again) {
			zr->refresh_again = false;
			control_refresh(srv, zr);
		}
		run_waiting(srv, key);
		break;
	}
	case CTL_NOTIFY:   /* the zone's data changed */
		notify_zone(srv, zr);
		warm_order(zr);
		break;
	case CTL_FILE_SYNC:
		filesync_soon(srv, zr);
		break;
	case CTL_COMPACT:
		zones_compact(srv, zr);
		break;
	case CTL_CATALOG:
		catalog_consume(srv, zr);
		break;
	case CTL_AUTOPRIMARY:
		atomic_fetch_sub(&srv->ap_inbox, 1);
		autoprimary_check(srv, m->name, m->index);
		break;
	case CTL_AUTOPRIMARY_OK:
		autoprimary_add(srv, m->name, m->index);
		break;
	case CTL_AUTOPRIMARY_DONE:
		autoprimary_done(srv, m->name);
		break;
	}
	if (zr != NULL)
		zone_unref(zr->zone);
	free(m);
}

static void inbox_ready(evutil_socket_t fd, short what, void *arg)
{
	server_t *srv = arg;
	uint64_t count;
	ssize_t r = read(srv->inbox_fd, &count, sizeof(count));
	(void)r;
	pthread_mutex_lock(&srv->inbox_lock);
	ctl_msg_t *list = srv->inbox;
	srv->inbox = NULL;
	pthread_mutex_unlock(&srv->inbox_lock);
	/* The list is newest first: turn it around to handle messages in order. */
	ctl_msg_t *ordered = NULL;
	while (list != NULL) {
		ctl_msg_t *next = list->next;
		list->next = ordered;
		ordered = list;
		list = next;
	}
	while (ordered != NULL) {
		ctl_msg_t *next = ordered->next;
		handle(srv, ordered);
		ordered = next;
	}
}

/*
 * Bulk verification (the "verify zone lists" of Simple DNS Plus): every verify-interval seconds the
 * consumed catalogs are checked first (members missing or extra are provisioned or removed when
 * the catalog's new version arrives), then every secondary zone's serial against its primaries
 * (a zone behind is transferred). The refresh machinery does the work, within its job limits.
 */
static void verify_cb(evutil_socket_t fd, short what, void *arg)
{
	server_t *srv = arg;
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < zoneset_count(srv->zones); i++) {
			zonert_t *zr = zonert_of(zoneset_at(srv->zones, i));
			if (zr->conf == NULL || zr->conf->type != CONF_ZONE_SECONDARY ||
			    (zr->conf->catalog == CONF_CATALOG_CONSUME) != (pass == 0))
				continue;
			control_refresh(srv, zr);
			n++;
		}
	}
	srv->verify_last = (int64_t)time(NULL);
	srv->verify_zones = n;
	log_info("bulk verification: checking %zu secondary zones against their primaries", n);
	control_verify_arm(srv);
}

void control_verify_arm(server_t *srv)
{
	unsigned interval = srv->rc->conf->server.verify_interval;
	if (srv->verify_timer == NULL &&
	    (srv->verify_timer = evtimer_new(srv->base, verify_cb, srv)) == NULL)
		return;
	evtimer_del(srv->verify_timer);
	if (interval == 0)
		return;
	struct timeval tv = { .tv_sec = interval };
	evtimer_add(srv->verify_timer, &tv);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	server_t *srv = arg;
	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading");
		sdnotify("RELOADING=1\nSTATUS=reloading");
		server_reload(srv);
		char status[64];
		snprintf(status, sizeof(status), "READY=1\nSTATUS=serving %zu zones", zoneset_count(srv->zones));
		sdnotify(status);
		return;
	}
	log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	sdnotify("STOPPING=1\nSTATUS=stopping");
	srv->stopping = true;
	event_base_loopbreak(srv->base);
}

int control_init(server_t *srv)
{
	srv->base = event_base_new();
	srv->inbox_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&srv->inbox_lock, NULL);
	if (srv->base == NULL || srv->inbox_fd < 0)
		return TDM_ENOMEM;
	srv->inbox_ev = event_new(srv->base, srv->inbox_fd, EV_READ | EV_PERSIST, inbox_ready, srv);
	srv->sig_hup = evsignal_new(srv->base, SIGHUP, signal_cb, srv);
	srv->sig_term = evsignal_new(srv->base, SIGTERM, signal_cb, srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, signal_cb, srv);
	if (srv->inbox_ev == NULL || srv->sig_hup == NULL || srv->sig_term == NULL ||
	    srv->sig_int == NULL)
		return TDM_ENOMEM;
	event_add(srv->inbox_ev, NULL);
	event_add(srv->sig_hup, NULL);
	event_add(srv->sig_term, NULL);
	event_add(srv->sig_int, NULL);
	return notify_init(srv);
}

void control_run(server_t *srv)
{
	event_base_dispatch(srv->base);
}

void control_free(server_t *srv)
{
	if (srv->base == NULL)
		return;
	notify_free(srv);
	ctl_msg_t *m = srv->inbox;
	while (m != NULL) {
		ctl_msg_t *next = m->next;
		if (m->zr != NULL)
			zone_unref(m->zr->zone);
		free(m);
		m = next;
	}
	for (size_t i = 0; i < srv->nprimary_jobs; i++) {
		while (srv->primary_jobs[i].head != NULL) {
			zonert_t *zr = srv->primary_jobs[i].head;
			srv->primary_jobs[i].head = zr->next_waiting;
			zone_unref(zr->zone);
		}
		free(srv->primary_jobs[i].key);
	}
	free(srv->primary_jobs);
	autoprimary_free(srv);
	if (srv->verify_timer != NULL)
		event_free(srv->verify_timer);
	event_free(srv->inbox_ev);
	event_free(srv->sig_hup);
	event_free(srv->sig_term);
	event_free(srv->sig_int);
	close(srv->inbox_fd);
	pthread_mutex_destroy(&srv->inbox_lock);
}
