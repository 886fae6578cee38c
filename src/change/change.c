/* change/change.c -- the one path every change to a zone takes: apply, store, then publish and compact */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "change/change.h"
#include "zone/pages.h"
#include "zone/update.h"

/* Fold the journal into the contents after this many pending changes or octets, or once the pending
 * octets pass a quarter of the zone's: a restart replays at most that much, and the store stays
 * within a few times the zone's size however many changes it sees. A compaction rewrites the whole
 * zone (0.6 s at 1,000,000 records), in steps of 1 MiB that let a waiting change in between them
 * (store/journal.c), so the count grows with the zone (one change per CHANGE_COMPACT_RECORDS_PER
 * records): its cost per change stays the same at any size, instead of a large zone's updates paying
 * for it every 1,000 (bench/update.py). */
#define CHANGE_COMPACT_CHANGES 1000
#define CHANGE_COMPACT_RECORDS_PER 50
#define CHANGE_COMPACT_BYTES (64u << 20)

const uint64_t change_latency_bounds_us[CHANGE_LATENCY_BUCKETS] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, UINT64_MAX,
};
/* Relaxed atomics: commits come from several threads, /metrics reads them now and then. */
static _Atomic uint64_t latency_buckets[CHANGE_LATENCY_BUCKETS], latency_count, latency_sum_us;

static void latency_observe(const struct timespec *a, const struct timespec *b)
{
	int64_t us = (int64_t)(b->tv_sec - a->tv_sec) * 1000000 + (b->tv_nsec - a->tv_nsec) / 1000;
	uint64_t u = us > 0 ? (uint64_t)us : 0;
	size_t i = 0;
	while (u > change_latency_bounds_us[i])
		i++;
	atomic_fetch_add_explicit(&latency_buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&latency_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&latency_sum_us, u, memory_order_relaxed);
}

void change_latency_read(uint64_t counts[CHANGE_LATENCY_BUCKETS], uint64_t *count, uint64_t *sum_us)
{
	uint64_t acc = 0;
	for (size_t i = 0; i < CHANGE_LATENCY_BUCKETS; i++) {
		acc += atomic_load_explicit(&latency_buckets[i], memory_order_relaxed);
		counts[i] = acc;
	}
	*count = acc;
	*sum_us = atomic_load_explicit(&latency_sum_us, memory_order_relaxed);
}

int change_commit(change_t *c, const zone_contents_t *current, const rrlist_t *removed,
                  const rrlist_t *added, zone_contents_t **out)
{
	zone_contents_t *z = NULL;
	struct timespec t0, t1, t2;
	*out = NULL;
	t0 = clock_now();
	size_t made = zone_pages_made_by_thread();
	int ret = zone_update_apply(current, removed, added, &z);
	made = zone_pages_made_by_thread() - made;
	t1 = clock_now();
	if (ret != TDM_OK)
		return ret;
	if (c->check_serial && zone_serial(z) != c->serial)
		ret = TDM_EMALF;
	else if ((c->max_records && zone_record_count(z) > c->max_records) ||
	         (c->max_bytes && zone_wire_size(z) > c->max_bytes))
		ret = TDM_ERANGE;
	if (ret != TDM_OK) {
		zone_contents_free(z);
		return ret;
	}
	c->meta.serial = zone_serial(z);
	if (c->meta.updated == 0)
		c->meta.updated = (int64_t)time(NULL);
	store_diff_t diff = { .serial_from = zone_serial(current), .serial_to = zone_serial(z),
	                      .removed = removed, .added = added, .who = c->who };
	/* The same serial (a retransfer of other contents) continues no history: nothing to journal,
	 * so the contents are written whole. */
	if (diff.serial_from == diff.serial_to) {
		/* The whole row is written here: a partial one (serial_only) is completed from the store. */
		if (c->meta.serial_only) {
			store_zone_meta_t stored;
			if (store_zone_meta(c->store, c->zone, &stored) == TDM_OK) {
				if (c->meta.file_digest[0] != '\0')
					memcpy(stored.file_digest, c->meta.file_digest, sizeof(stored.file_digest));
				stored.serial = c->meta.serial;
				stored.updated = c->meta.updated;
				c->meta = stored;
			} else {
				snprintf(c->meta.source, sizeof(c->meta.source), "config");
			}
			c->meta.serial_only = false;
		}
		rrlist_t *list = rrlist_new();
		ret = list == NULL ? TDM_ENOMEM : zone_contents_to_rrlist(z, list);
		if (ret == TDM_OK)
			ret = store_zone_commit(c->store, c->zone, list, &c->meta, NULL, c->journal_max);
		rrlist_free(list);
		c->pending = (store_pending_t){ 0 };
	} else {
		ret = store_zone_append(c->store, c->zone, &c->meta, &diff, c->journal_max, &c->pending);
	}
	if (ret != TDM_OK) {
		zone_contents_free(z);
		return ret;
	}
	t2 = clock_now();
	latency_observe(&t0, &t2);
	/* What the change cost: the version (the pages it made beside those it shares) and the commit. */
	size_t memory = zone_memory(z);
	made = made < memory ? made : memory;
	snprintf(c->cost, sizeof(c->cost), "version made in %.1f ms (%zu KiB of its own, %zu KiB shared), "
	         "stored in %.1f ms", clock_ms_between(&t0, &t1), made / 1024, (memory - made) / 1024,
	         clock_ms_between(&t1, &t2));
	if (!c->quiet)
		log_info("%s: change %u -> %u: %zu removed, %zu added; %s", c->zone, zone_serial(current),
		         zone_serial(z), rrlist_count(removed), rrlist_count(added), c->cost);
	*out = z;
	return TDM_OK;
}

bool change_compact_due(const change_t *c, const zone_contents_t *z)
{
	uint64_t changes = zone_record_count(z) / CHANGE_COMPACT_RECORDS_PER;
	if (changes < CHANGE_COMPACT_CHANGES)
		changes = CHANGE_COMPACT_CHANGES;
	return c->pending.changes >= changes || c->pending.bytes >= CHANGE_COMPACT_BYTES ||
	       (c->pending.changes > 0 && c->pending.bytes * 4 > zone_wire_size(z));
}

void change_compact(const change_t *c, const zone_contents_t *z)
{
	struct timespec t0, t1;
	t0 = clock_now();
	rrlist_t *list = rrlist_new();
	int ret = list == NULL ? TDM_ENOMEM : zone_contents_to_rrlist(z, list);
	if (ret == TDM_OK)
		ret = store_zone_compact(c->store, c->zone, list, zone_serial(z));
	rrlist_free(list);
	t1 = clock_now();
	double ms = clock_ms_between(&t0, &t1);
	if (ret == TDM_OK)
		log_info("%s: store: %llu changes folded into the contents at serial %u, %.0f ms", c->zone,
		         (unsigned long long)c->pending.changes, zone_serial(z), ms);
	else
		log_warn("%s: store: folding the journal into the contents failed (%s); kept pending",
		         c->zone, tdm_strerror(ret));
}
