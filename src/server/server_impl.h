/* server/server_impl.h -- the runtime's insides, shared by the files of server/ only */
#pragma once

#include <event2/event.h>
#include <pthread.h>

#include "conf/conf.h"
#include "server/server.h"
#include "server/worker.h"
#include "store/store.h"

struct zonert;

/* A message from another thread to the control thread. */
typedef enum {
	CTL_REFRESH,          /* refresh a secondary zone now (a NOTIFY came) */
	CTL_REFRESH_DONE,     /* a refresh job ended: schedule the next one */
	CTL_NOTIFY,           /* the zone changed: NOTIFY its secondaries */
} ctl_kind_t;

typedef struct ctl_msg {
	struct ctl_msg *next;
	ctl_kind_t kind;
	struct zonert *zr;    /* holds a zone reference until handled */
} ctl_msg_t;

struct server {
	char *conf_path;          /* NULL = embedded default */
	conf_t *conf;             /* RCU-published: workers read keys and ACLs through it */
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
	struct notify_pending *pending;   /* NOTIFYs waiting for an answer */
	struct event *notify_timer;
	unsigned jobs;            /* refresh jobs running */
	struct zonert *waiting;   /* zones waiting for a job slot, in order */
	bool stopping;
};

/* Posts a message to the control thread (any thread). Takes a reference on the zone. */
void control_post(server_t *srv, ctl_kind_t kind, struct zonert *zr);
