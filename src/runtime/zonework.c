/* runtime/zonework.c -- one thread for whole-zone work: compactions, file write-backs, reload reads */
#include <pthread.h>
#include <stdlib.h>
#include <urcu.h>

#include "lib/crashpoint.h"
#include "lib/error.h"
#include "lib/log.h"
#include "runtime/filesync.h"
#include "runtime/inbox.h"
#include "runtime/zoneload.h"
#include "runtime/zonework.h"

/* zonert_t's work_queued holds a flag per kind (runtime/zonert.h cannot include this file's header). */
_Static_assert(ZONEWORK_KINDS == sizeof(((zonert_t *)0)->work_queued) / sizeof(bool),
               "zonert_t.work_queued: one flag per zonework_kind_t");

typedef struct job {
	struct job *next;
	zonework_kind_t kind;
	zonert_t *zr;               /* holds a zone reference */
} job_t;

struct zonework {
	server_t *srv;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;       /* guards what follows and the zones' work_queued flags */
	pthread_cond_t wake;
	job_t *head, *tail;
	bool stopping;
};

void zonework_reload_free(zonework_reload_t *r)
{
	if (r == NULL)
		return;
	zoneload_prep_clear(&r->prep);
	free(r);
}

/* A reload's file read, hashed, parsed and checked, for the control thread to apply. The zone's name
 * and file are copied first: a configuration reload may replace its settings meanwhile. */
static void reload_read(server_t *srv, zonert_t *zr)
{
	/* A result goes back whatever happens: the zone's view says a reload is under way until it does. */
	zonework_reload_t *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		log_err("%s: reload: %s", zr->name, tdm_strerror(TDM_ENOMEM));
		inbox_post_reload(srv, zr, NULL);
		return;
	}
	/* zoneload_prepare and zoneload_prepare_change read only these of the settings. */
	conf_zone_t copy = { .name = (char *)zr->name, .file = r->file, .type = CONF_ZONE_PRIMARY };
	if (!zonert_primary_file(zr, r->file, sizeof(r->file), &copy.serial_policy)) {
		r->file[0] = '\0';   /* zones_reload_ready says why nothing was read */
		inbox_post_reload(srv, zr, r);
		return;
	}
	store_zone_meta_t meta;
	bool stored = store_zone_meta(srv->store, zr->name, &meta) == TDM_OK;
	pausepoint("reload-read");
	zoneload_prepare(&copy, stored ? &meta : NULL, NULL, &r->prep);
	/* The change from the version served now, made here too: the control thread then checks that
	 * it is still the one served, and commits. */
	zoneload_prepare_change(&copy, &r->prep, zone_contents_pin(zr->zone));
	inbox_post_reload(srv, zr, r);
}

/* The job itself, on the version served now. stopping: at shutdown (a failed write-back is not
 * tried again later). */
static void run(server_t *srv, zonework_kind_t kind, zonert_t *zr, bool stopping)
{
	if (kind == ZONEWORK_FILE) {
		filesync_write(srv, zr, stopping);
		return;
	}
	if (kind == ZONEWORK_RELOAD) {
		reload_read(srv, zr);
		return;
	}
	zoneload_t zl = { .store = srv->store };
	zone_contents_t *z = zone_contents_pin(zr->zone);
	if (z != NULL) {
		zonert_compact_lock(zr);
		zoneload_compact(&zl, zr->name, z);
		zonert_compact_unlock(zr);
		zone_contents_unref(z);
	}
}

/* The job's zone reference goes back through the control thread: the zone's last reference frees its
 * timers, which only the control thread may touch. */
static void done(server_t *srv, zonert_t *zr)
{
	inbox_post(srv, CTL_WORK_DONE, zr);
	zone_unref(zr->zone);
}

static void *work_main(void *arg)
{
	struct zonework *w = arg;
	rcu_register_thread();
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		job_t *j = w->head;
		if (j == NULL)
			break;   /* stopping, and nothing left */
		w->head = j->next;
		if (w->head == NULL)
			w->tail = NULL;
		j->zr->work_queued[j->kind] = false;   /* asked again from now on: queued again */
		bool stopping = w->stopping;
		pthread_mutex_unlock(&w->lock);
		if (!stopping || j->kind == ZONEWORK_FILE)
			run(w->srv, j->kind, j->zr, stopping);
		done(w->srv, j->zr);
		free(j);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	rcu_unregister_thread();
	return NULL;
}

int zonework_start(server_t *srv)
{
	struct zonework *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return TDM_ENOMEM;
	w->srv = srv;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	int ret = pthread_create(&w->thread, NULL, work_main, w);
	if (ret != 0) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return -ret;
	}
	w->started = true;
	srv->zonework = w;
	return TDM_OK;
}

bool zonework_post(server_t *srv, zonework_kind_t kind, zonert_t *zr)
{
	struct zonework *w = srv->zonework;
	job_t *j = w != NULL ? malloc(sizeof(*j)) : NULL;
	if (j == NULL) {   /* no thread (or no memory for the job): done here and now */
		run(srv, kind, zr, srv->stopping);
		return true;
	}
	pthread_mutex_lock(&w->lock);
	if (zr->work_queued[kind] || (w->stopping && kind != ZONEWORK_FILE)) {
		pthread_mutex_unlock(&w->lock);
		free(j);
		return false;
	}
	zr->work_queued[kind] = true;
	zone_ref(zr->zone);
	*j = (job_t){ .kind = kind, .zr = zr };
	if (w->tail != NULL)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return true;
}

void zonework_stop(server_t *srv)
{
	struct zonework *w = srv->zonework;
	if (w == NULL || !w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->started = false;
}

void zonework_free(server_t *srv)
{
	struct zonework *w = srv->zonework;
	if (w == NULL)
		return;
	zonework_stop(srv);
	while (w->head != NULL) {   /* posted after the thread ended: nothing does them now */
		job_t *j = w->head;
		w->head = j->next;
		j->zr->work_queued[j->kind] = false;
		zone_unref(j->zr->zone);
		free(j);
	}
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
	srv->zonework = NULL;
}
