/* runtime/runtime.h -- the state every thread of the daemon shares: struct server and what it holds
 *
 * The folders of the daemon stand in layers, each calling only the ones below it:
 *   server/ (listeners, workers, the control thread)  ->  api/ (the HTTP API's answers)
 *   ->  provision/ (which zones exist: configuration, API, catalogs, autoprimary)
 *   ->  repl/ (secondaries kept current, NOTIFY out)  ->  runtime/ (this state, and zones at run time).
 * A lower layer that needs the control thread posts a message (runtime/inbox.h); it never calls up.
 */
#pragma once

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>

#include "conf/conf.h"
#include "query/query.h"
#include "store/store.h"
#include "tsig/tsig.h"
#include "wire/name.h"

typedef struct server server_t;

struct zonert;

/* What all workers share; owned by the server. */
typedef struct {
	server_t *srv;
	zoneset_t **zones;             /* the server's RCU-published zone set */
	const char *identity;
	uint16_t udp_payload;
	uint8_t cookie_secret[16];     /* server cookies (RFC 9018), random at start */
	unsigned tcp_idle_timeout;     /* seconds */
	unsigned tcp_max_clients;      /* over all workers */
	atomic_uint tcp_clients;
	struct rrl *rrl;               /* response rate limiting of UDP answers; NULL = off */
	struct metrics_cell *metrics;  /* one per worker, by id (runtime/metrics.h); NULL = none */
	atomic_bool stop;
} worker_shared_t;

/* A configuration in force, with its TSIG keys made ready; RCU-published, replaced at reload. */
typedef struct runconf {
	conf_t *conf;
	tsig_key_t *keys;         /* parallel to conf->keys */
	struct tsigkey **api;     /* the keys made through the API (runtime/tsigkeys.h), napi of them */
	size_t napi;
} runconf_t;

/* The TSIG key of a configured key or of one made through the API (NULL for NULL); runtime/tsigkeys.c. */
const tsig_key_t *runconf_key(const runconf_t *rc, const conf_key_t *key);

/* A message from another thread to the control thread (runtime/inbox.h). */
typedef enum {
	CTL_REFRESH,          /* refresh a secondary zone now (a NOTIFY came) */
	CTL_REFRESH_DONE,     /* a refresh job ended: schedule the next one */
	CTL_NOTIFY,           /* the zone changed: NOTIFY its secondaries */
	CTL_FILE_SYNC,        /* dynamic updates changed a primary with a file: write it back soon */
	CTL_COMPACT,          /* enough is pending in the zone's journal: fold it into the contents */
	CTL_CATALOG,          /* a consumed catalog changed: provision its members */
	CTL_AUTOPRIMARY,      /* a super-primary sent NOTIFY for a zone we lack (name, index) */
	CTL_AUTOPRIMARY_OK,   /* its NS set names us: create the zone (name, index) */
	CTL_AUTOPRIMARY_DONE, /* that check ended (after _OK when it named us): its slot is free */
	CTL_WORK_DONE,        /* a job of runtime/zonework.c ended: its zone reference dropped here */
	CTL_RELOAD_READY,     /* a zone file read and parsed by runtime/zonework.c: apply it (data) */
} ctl_kind_t;

typedef struct ctl_msg {
	struct ctl_msg *next;
	ctl_kind_t kind;
	struct zonert *zr;    /* holds a zone reference until handled; NULL for a zone by name */
	char name[NAME_TEXT_MAX];
	size_t index;
	struct zonework_reload *reload;   /* CTL_RELOAD_READY: the message's own until handled */
} ctl_msg_t;

/* What a reconfiguration did (server_t.reconfig). */
typedef struct reconfig_result {
	bool unchanged;           /* the configuration's text was the same: nothing to apply */
	size_t zones;             /* zones served after it */
	size_t added, removed;    /* zones new to the set, zones gone from it */
	size_t loaded;            /* zones kept whose role or zone file changed: loaded again */
} reconfig_result_t;

struct server {
	char *conf_path;          /* NULL = embedded default */
	/* Reads the configuration file again and applies it without looking at the zone files of the
	 * zones it keeps (server/server.c): set by the server for the modules under it (the API), which
	 * may not call up into server/. TDM_OK, or the configuration's error (nothing changed then). */
	int (*reconfig)(struct server *srv, reconfig_result_t *out);
	runconf_t *rc;            /* RCU-published: workers read keys and ACLs through it */
	store_t *store;
	zoneset_t *zones;         /* RCU-published */
	char *identity;
	worker_shared_t shared;
	struct worker **workers;
	size_t nworkers;

	/* The control thread (the main thread): timers, NOTIFY out, reloads, signals. */
	struct event_base *base;
	struct event *sig_hup, *sig_term, *sig_int, *inbox_ev;
	int inbox_fd;             /* eventfd: wakes the control thread */
	pthread_mutex_t inbox_lock;
	ctl_msg_t *inbox;
	int notify_fd4, notify_fd6;   /* UDP sockets for NOTIFY out, from source-address */
	struct event *notify_ev4, *notify_ev6;
	struct dueheap *notify_due;   /* NOTIFYs waiting for an answer, by when their next try is due */
	struct notify_pending **notify_by_dest;   /* the same, hashed by zone and address */
	struct notify_pending **notify_by_id;     /* the same, hashed by message ID */
	size_t notify_mask;       /* buckets of those two tables, less one (they grow with the NOTIFYs) */
	struct event *notify_timer;
	double notify_tokens;     /* NOTIFYs that may go out now (notify-rate, a bucket of a second's worth) */
	int64_t notify_refill_ms; /* ... as of this time */
	atomic_uint jobs_running; /* refresh jobs on their threads */
	struct primary_jobs *primary_jobs;   /* per primary (few): running jobs, zones waiting for a slot */
	size_t nprimary_jobs;
	bool kick_armed;          /* schedule.c: a pass over the primaries' queues is due */
	bool stopping;
	struct zonework *zonework;   /* the thread for compactions and file write-backs (runtime/zonework.h) */
	struct api *api;          /* the HTTP API, NULL when http.listen is unset */
	struct tsigkey *tsigkeys; /* TSIG keys made through the API (runtime/tsigkeys.c) */
	struct apikeys *apikeys;  /* named API keys (api/apikeys.c) */
	struct metrics *metrics;  /* counters for /metrics (runtime/metrics.c) */
	struct dynzone *dyn;      /* catalog members and autoprimary zones (provision/dynzone.h) */
	bool dyn_dead;            /* ... some marked dead, to free after the next grace period */
	struct namemap *dyn_names;    /* ... the live ones by name (provision/dynzone.c); NULL: the list is
	                               * walked (none made yet, or no memory for the map) */
	bool dyn_names_off;       /* ... the map failed once: walked from then on */
	uint64_t dyn_gen;         /* ... bumped at every change of them or their settings */
	struct namemap *cat_states;   /* consumed catalogs' last reconciliation (provision/catconsume.c) */
	struct apizone *apizones; /* zones made through the API (provision/apizone.c) */
	struct apizone *apizones_dead;   /* ... dropped, freed after the next grace period */
	struct ap_sched *ap;      /* autoprimary checks waiting and running (provision/autoprimary.c) */
	atomic_uint ap_inbox;     /* CTL_AUTOPRIMARY messages not handled yet (bounded) */
	struct event *verify_timer;   /* bulk verification (verify-interval) */
	int64_t verify_last;      /* unix time of the last one, 0 = never */
	size_t verify_zones;      /* secondary zones it checked */
	int64_t started;          /* unix time */
	struct tlsctx *tls;       /* TLS contexts in force (runtime/tlsctx.c) */
	struct xot *xot;          /* the TLS listener (server/xot.c) */
};
