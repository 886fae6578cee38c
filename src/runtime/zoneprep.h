/* runtime/zoneprep.h -- zone files read, parsed and checked ahead on helper threads during a load pass */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"
#include "runtime/zoneload.h"
#include "store/store.h"

/*
 * A pass over thousands of zone files (a first start, a reload) spends about half its time on what
 * needs neither the store nor the served versions: stat, read, digest, parse, build, check
 * (zoneload_prepare). Helper threads do that part ahead, in configuration order, while the control
 * thread stores and publishes the zones before them (zoneload_configured with the prepared file), so
 * that the two halves run on two cores. What is committed before it is served stays as it was: the
 * control thread commits every version before publishing it, in the same batches.
 *
 * The helpers judge each file against a snapshot of the store's metadata taken when the pass begins
 * (one query); zoneload_configured checks it against the metadata as it is then and does the work
 * itself when they differ (an UPDATE committed meanwhile, say). They run at most ZONEPREP_AHEAD
 * zones, or ZONEPREP_AHEAD_RECORDS records, ahead of the control thread, so that the memory of the
 * versions waiting stays bounded whatever the zones' sizes. They run at a lower priority (nice +5)
 * than the control thread, whose commits set the pace of the pass (zoneprep.c says why).
 */
#define ZONEPREP_AHEAD 512
#define ZONEPREP_AHEAD_RECORDS 1000000
#define ZONEPREP_THREADS_MAX 4

typedef struct zoneprep zoneprep_t;

/* Starts helpers for the zones all[i] (count of them) with want[i] set (primaries with a file). NULL
 * when fewer than two are wanted or the helpers cannot start: the pass then does it all itself. */
zoneprep_t *zoneprep_start(store_t *store, const conf_zone_t *const *all, const bool *want,
                           size_t count);

/* Zone i's prepared file (waiting for a helper that is at it), for zoneload_t.prep; NULL when i is not
 * wanted, or when no helper has begun it (the caller then does it itself: on a busy machine the helpers
 * may not be scheduled for a while, and waiting for them would make the pass slower than alone). Called
 * for every i in increasing order: calling it for i tells the helpers that everything before i is
 * done with. The result is valid until the next call. */
zoneload_prep_t *zoneprep_take(zoneprep_t *zp, size_t i);

/* Stops the helpers, waits for them and frees what they prepared that was not taken. */
void zoneprep_stop(zoneprep_t *zp);
