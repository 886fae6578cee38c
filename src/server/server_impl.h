/* server/server_impl.h -- the runtime's insides, shared by the files of server/ only */
#pragma once

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>

#include "conf/conf.h"
#include "server/server.h"
#include "server/worker.h"
#include "store/store.h"

#include "tsig/tsig.h"
#include "wire/name.h"

struct zonert;
struct xfrout;

/* A configuration in force, with its TSIG keys made ready; RCU-published, replaced at reload. */
typedef struct runconf {
	conf_t *conf;
	tsig_key_t *keys;         /* parallel to conf->keys */
	struct tsigkey **api;     /* the keys made through the API (server/tsigkeys.h), napi of them */
	size_t napi;
} runconf_t;

/* The TSIG key of a configured key or of one made through the API (NULL for NULL); server/tsigkeys.c. */
const tsig_key_t *runconf_key(const runconf_t *rc, const conf_key_t *key);

/* A message from another thread to the control thread (server/inbox.h). */
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
} ctl_kind_t;

typedef struct ctl_msg {
	struct ctl_msg *next;
	ctl_kind_t kind;
	struct zonert *zr;    /* holds a zone reference until handled; NULL for a zone by name */
	char name[NAME_TEXT_MAX];
	size_t index;
} ctl_msg_t;

struct server {
	char *conf_path;          /* NULL = embedded default */
	runconf_t *rc;            /* RCU-published: workers read keys and ACLs through it */
	store_t *store;
	zoneset_t *zones;         /* RCU-published */
	char *identity;
	worker_shared_t shared;
	worker_t **workers;
	size_t nworkers;

	/* The control thread (the main thread): timers, NOTIFY out, reloads, signals. */
	struct event_base *base;
	struct event *sig_hup, *sig_term, *sig_int, *inbox_ev;
	int inbox_fd;             /* eventfd: wakes the control thread */
	pthread_mutex_t inbox_lock;
	ctl_msg_t *inbox;
	int notify_fd4, notify_fd6;   /* UDP sockets for NOTIFY out, from source-address */
	struct event *notify_ev4, *notify_ev6;
	struct notify_pending *pending;   /* NOTIFYs waiting for an answer (doubly linked) */
	struct notify_pending **notify_by_dest;   /* the same, hashed by zone and address */
	struct notify_pending **notify_by_id;     /* the same, hashed by message ID */
	struct event *notify_timer;
	atomic_uint jobs_running; /* refresh jobs on their threads */
	struct primary_jobs *primary_jobs;   /* per primary (few): running jobs, zones waiting for a slot */
	size_t nprimary_jobs;
	bool kick_armed;          /* schedule.c: a pass over the primaries' queues is due */
	bool stopping;
	struct api *api;          /* the HTTP API, NULL when http.listen is unset */
	struct tsigkey *tsigkeys; /* TSIG keys made through the API (server/tsigkeys.c) */
	struct apikeys *apikeys;  /* named API keys (server/apikeys.c) */
	struct metrics *metrics;  /* counters for /metrics (server/metrics.c) */
	struct dynzone *dyn;      /* catalog members and autoprimary zones (server/dynzone.h) */
	bool dyn_dead;            /* ... some marked dead, to free after the next grace period */
	struct apizone *apizones; /* zones made through the API (server/apizone.c) */
	struct apizone *apizones_dead;   /* ... dropped, freed after the next grace period */
	struct ap_sched *ap;      /* autoprimary checks waiting and running (server/autoprimary.c) */
	atomic_uint ap_inbox;     /* CTL_AUTOPRIMARY messages not handled yet (bounded) */
	struct event *verify_timer;   /* bulk verification (verify-interval) */
	int64_t verify_last;      /* unix time of the last one, 0 = never */
	size_t verify_zones;      /* secondary zones it checked */
	int64_t started;          /* unix time */
	struct xot *xot;          /* TLS contexts and listener (server/xot.c) */
};

/*
 * Answers one request in a worker (inside its RCU read section): TSIG verified and the answer
 * signed, NOTIFY taken, transfers allowed or refused, everything else answered from the zones.
 * For an allowed transfer over TCP, returns 0 and *job: the connection goes to that job.
 */
size_t dispatch_request(server_t *srv, query_env_t *env, const uint8_t *req, size_t len,
                        uint8_t *resp, size_t cap, bool tcp, const sockaddr_t *peer,
                        struct xfrout **job);

/* The same for a request that came over a TLS connection (server/xot.c): tcp is true, and ACLs
 * with transport: tls match. */
size_t dispatch_request_over(server_t *srv, query_env_t *env, const uint8_t *req, size_t len,
                             uint8_t *resp, size_t cap, bool tcp, bool tls,
                             const sockaddr_t *peer, struct xfrout **job);

/* Runs an accepted transfer out on its own thread, on connection fd (blocking from now on),
 * after writing `pending` (answers to earlier pipelined queries). Takes the fd in every case. */
void xfrout_start(struct xfrout *job, int fd, const uint8_t *pending, size_t pending_len);
void xfrout_cancel(struct xfrout *job);
