/* runtime/zonework.h -- one thread for the work that costs a whole zone: journal compactions, zone
 * file write-backs and a reload's reading of one zone file, so that the control thread (the API,
 * NOTIFY, timers, UPDATEs) never waits for them */
#pragma once

#include <limits.h>

#include "runtime/runtime.h"
#include "runtime/zoneload.h"
#include "runtime/zonert.h"

/*
 * DESIGN. Folding a zone's journal into its stored contents and writing a primary's file back after
 * dynamic updates each read the whole zone: about half a second at 1,000,000 records. On the control
 * thread they held up everything else it does, the API first (an edit made a second after another
 * waited for the other's write-back). They run here instead, one at a time, in the order asked, each on
 * the version served when it starts. A zone is in the queue at most once per kind: asking again while
 * it waits changes nothing, asking while it runs queues it once more. Only this thread compacts a
 * primary's journal (a secondary's is compacted by its refresh, one at a time per zone); a role change
 * can have one of each due for the same zone, and the zone's compaction lock (zonert_compact_lock) keeps
 * them from overlapping. At shutdown the write-backs still queued are done and the
 * compactions dropped (the journal stays pending; a restart replays it).
 *
 * A reload of one zone (POST .../reload, `tandem zone reload`) reads, hashes, parses and checks the
 * file here (zoneload_prepare) against the zone's stored metadata of that moment and compares it with
 * the version served (zoneload_prepare_change): about 1.3 s at 1,000,000 records, without the zone's
 * write lock. The result goes to the control thread (CTL_RELOAD_READY), which commits and publishes
 * the change (provision/zones.c zones_reload_ready), at the cost of the change. It checks there that
 * the zone is still a primary of that file; zoneload_configured checks that the store's metadata and
 * the version served are still those the file was judged against (an UPDATE or an API edit committed
 * meanwhile) and looks at the file again itself when they are not. Reloads queued at shutdown are
 * dropped.
 */

typedef enum {
	ZONEWORK_COMPACT,     /* the zone's journal folded into its stored contents, when due */
	ZONEWORK_FILE,        /* a primary's zone file written back (runtime/filesync.h) */
	ZONEWORK_RELOAD,      /* a primary's zone file read for a reload, then CTL_RELOAD_READY */
	ZONEWORK_KINDS
} zonework_kind_t;

/* What ZONEWORK_RELOAD hands the control thread. */
typedef struct zonework_reload {
	char file[PATH_MAX];         /* the zone's file when it was read */
	zoneload_prep_t prep;        /* what was found there (zoneload_configured takes it) */
} zonework_reload_t;

/* Frees a reload's result (NULL: nothing). */
void zonework_reload_free(zonework_reload_t *r);

/* Starts the thread. TDM_OK, or an error: then every job is done at once by whoever asks for it. */
int zonework_start(server_t *srv);
/* Queues a job for zr (any thread; takes a zone reference until it is done). true: queued (or done
 * now, without the thread); false: one of that kind waits already and will do (or shutting down). */
bool zonework_post(server_t *srv, zonework_kind_t kind, zonert_t *zr);
/* Does the queued write-backs, drops the compactions, and joins the thread (at shutdown). */
void zonework_stop(server_t *srv);
void zonework_free(server_t *srv);
