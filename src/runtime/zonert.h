/* runtime/zonert.h -- what the server keeps for a zone besides its data: role, timers, peers seen */
#pragma once

#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "runtime/runtime.h"
#include "store/store.h"
#include "wire/name.h"
#include "zone/zoneset.h"

#define ZONERT_PEERS 32
#define ZONERT_WRITE_WAIT_MS 250

/* A secondary seen by this primary (SPEC.md "Replication view"). */
typedef struct {
	sockaddr_t addr;
	bool serial_known;
	uint32_t serial;          /* the serial it holds, as far as we know */
	int64_t last_seen;        /* unix time */
	int64_t last_xfr;         /* unix time of its last transfer, 0 = none */
	char last_xfr_type[5];    /* "AXFR", "IXFR" */
	char seen_by[8];          /* "notify", "soa", "ixfr", "axfr" */
} zonert_peer_t;

/* A primary's last reload of its file read on runtime/zonework.c's thread (POST .../reload, or a SIGHUP
 * of a large zone), for the zone view; made at the first one: most zones never have one, and 100,000
 * zones held 17 MB of empty ones. */
typedef struct {
	unsigned pending;             /* reload jobs queued or running, not ended */
	int64_t at;                   /* when the last one ended; 0: none yet */
	char result[160];             /* what it did: "serial 10 -> 11", "unchanged", "not loaded: ..." */
} zonert_reload_t;

typedef struct zonert {
	server_t *srv;
	zone_t *zone;                 /* not counted: the zone owns this */
	conf_zone_t *conf;            /* current (read-only); swapped at reload with rcu_assign_pointer */
	const char *name;             /* the zone's name as text (the zone's own string) */

	pthread_mutex_t lock;         /* guards what follows (the status reader is another thread) */
	zonert_peer_t *peers;         /* grown on demand: most zones have a few, or none */
	int npeers, peers_cap;
	store_state_t *state;         /* secondary: timers, last result, primary used (zonert_state);
	                               * NULL until the zone is first a secondary: 248 octets a primary
	                               * does not need, 24 MB at 100,000 zones */
	zonert_reload_t *reload;      /* primary: NULL until its first reload on the zone-work thread */
	uint32_t serial;              /* of the data served, 0 = none */
	bool loaded;

	/* Changes to the zone's data are made one at a time: an UPDATE (a worker, waiting at most
	 * ZONERT_WRITE_WAIT_MS), a reload or the catalog written (the control thread). */
	pthread_mutex_t write_lock;

	/* control thread only */
	bool refreshing, refresh_again, queued;
	bool force_axfr;              /* the next refresh transfers the whole zone (retransfer) */
	bool in_new_set;              /* zones_forget_removed's mark: kept by the set being published */
	const char *job_key;          /* the primary its running job counts against (control.c's key) */
	struct zonert *next_waiting;
	struct event *timer;          /* next refresh or expiry */
	unsigned retry_count;
	struct event *store_retry;    /* primary: a change the store refused, tried again */
	struct event *file_sync;      /* primary: the zone file written back after dynamic updates */
	int64_t file_sync_since;      /* monotonic ms of the first update the pending write-back is for */
	struct event *notify_hold;    /* pending while changes are not told one by one (repl/notify.c) */
	bool notify_held;             /* a change came during that hold: told when it ends */

	/* runtime/zonework.c's lock: a job of each kind (zonework_kind_t) waiting in its queue */
	bool work_queued[3];
	unsigned store_failures;
	uint64_t warmed_lineage;      /* the lineage (zone/contents.h) whose API order was last made ahead */
} zonert_t;

/*
 * One compaction of a zone's journal at a time: a secondary's runs on its refresh, a primary's on
 * runtime/zonework.c's thread, and a role change can have one of each running. Two at once would write
 * the same rows of the store. Taken around zoneload_compact, which asks again whether one is due once it
 * has the lock. The locks are shared by zones in stripes (a mutex in each zone cost 4 MB at 100,000
 * zones): two zones of one stripe only wait for each other's compaction. Never held with another.
 */
void zonert_compact_lock(zonert_t *zr);
void zonert_compact_unlock(zonert_t *zr);

/* A copy of the secondary's state, zeroes when it has none; and the state replaced (made on first use;
 * without memory it stays as it was, logged, and the store still gets what the caller writes there).
 * Any thread: both take zr->lock. */
store_state_t zonert_state(zonert_t *zr);
void zonert_state_set(zonert_t *zr, const store_state_t *st);

/* Takes the zone's write lock, waiting at most ms milliseconds; false when it did not get it. */
bool zonert_write_lock(zonert_t *zr, unsigned ms);

/* When the zone is a primary with a zone file: true, with the file's path copied into path (and its
 * serial policy into *policy, when not NULL). Any thread: the settings are read under RCU and copied,
 * since a reload may replace them while the caller works with the file. */
bool zonert_primary_file(zonert_t *zr, char *path, size_t size, conf_serial_policy_t *policy);

/* The runtime for a zone, attached to it (freed with it). NULL on OOM. */
zonert_t *zonert_attach(server_t *srv, zone_t *zone);
static inline zonert_t *zonert_of(const zone_t *zone)
{
	return zone_ext(zone);
}

/* Notes that a secondary talked to us about the zone (serial known or not). Any thread. */
void zonert_peer_seen(zonert_t *zr, const sockaddr_t *addr, const char *how, bool serial_known,
                      uint32_t serial, const char *xfr_type);
