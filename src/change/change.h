/* change/change.h -- the one path every change to a zone takes: apply, store, then publish and compact */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "zone/contents.h"
#include "zone/rrlist.h"

/*
 * DESIGN. Whoever changes a zone -- a reload that found a diff, an IXFR received, the catalog producer
 * -- hands the change as IXFR carries it (removed with the old SOA, added with the new one) to
 * change_commit: the next version is made from the served one sharing what the change leaves alone
 * (zone/update.h), the change is appended to the store's journal in one transaction (the contents are
 * not rewritten), and the caller publishes the version (RCU) and sends NOTIFY. Committed before
 * served: what is served is what a restart rebuilds. The contents are folded in later, once enough
 * is pending, by change_compact after the publication: that step costs the zone, the change did not.
 */
typedef struct {
	store_t *store;
	const char *zone;            /* textual, lowercase, trailing dot */
	unsigned journal_max;
	store_zone_meta_t meta;      /* source and digest of the new version (the serial is set here) */
	/* Checked on the new version before anything is stored (0 / false: not checked). */
	size_t max_records;
	uint64_t max_bytes;
	bool check_serial;
	uint32_t serial;             /* the serial the change must lead to (an IXFR's last SOA) */
	/* Who made the change, for the zone's history (store_history_list): "api key NAME from ADDR",
	 * "update from ADDR key K", "zone file PATH", "IXFR from ADDR". NULL: "unknown". */
	const char *who;
	bool quiet;                  /* the caller logs the change itself, with cost (an UPDATE: one line) */
	store_pending_t pending;     /* set by change_commit */
	char cost[128];              /* set by change_commit: the version's making and the commit, timed */
} change_t;

/*
 * Applies the change to current and commits it. Returns TDM_OK and *out (the version to publish),
 * TDM_EMALF (the change is for another version, or does not lead to c->serial), TDM_ESEMCHECK (no SOA
 * left), TDM_ERANGE (a limit of the version, or max_records / max_bytes), TDM_ESTORE (not committed: nothing to publish) or TDM_ENOMEM.
 */
int change_commit(change_t *c, const zone_contents_t *current, const rrlist_t *removed,
                  const rrlist_t *added, zone_contents_t **out);

/* Whether enough is pending that the stored contents should be rewritten: 1,000 changes or one per 50
 * records of z, whichever is more; 64 MiB; or a quarter of z's wire size. */
bool change_compact_due(const change_t *c, const zone_contents_t *z);

/* Rewrites the stored contents as z (published, pinned by the caller); what was committed after z
 * stays pending. Failures are logged: the journal still holds everything. */
void change_compact(const change_t *c, const zone_contents_t *z);

/* Commit latency (change_commit, from the version made to the change stored), for /metrics: the
 * bucket bounds in microseconds, ended by UINT64_MAX (+Inf). */
#define CHANGE_LATENCY_BUCKETS 13
extern const uint64_t change_latency_bounds_us[CHANGE_LATENCY_BUCKETS];

/* Cumulative counts per bucket (Prometheus "le"), their count and the sum in microseconds. */
void change_latency_read(uint64_t counts[CHANGE_LATENCY_BUCKETS], uint64_t *count, uint64_t *sum_us);
