/* runtime/zonework.h -- one thread for the work that costs a whole zone: journal compactions and zone
 * file write-backs, so that the control thread (the API, NOTIFY, timers) never waits for them */
#pragma once

#include "runtime/runtime.h"
#include "runtime/zonert.h"

/*
 * DESIGN. Folding a zone's journal into its stored contents and writing a primary's file back after
 * dynamic updates each read the whole zone: about half a second at 1,000,000 records. On the control
 * thread they held up everything else it does, the API first (an edit made a second after another
 * waited for the other's write-back). They run here instead, one at a time, in the order asked, each on
 * the version served when it starts. A zone is in the queue at most once per kind: asking again while
 * it waits changes nothing, asking while it runs queues it once more. Only this thread compacts a
 * primary's journal (a secondary's is compacted by its refresh, one at a time per zone), so two
 * compactions of one zone never overlap. At shutdown the write-backs still queued are done and the
 * compactions dropped (the journal stays pending; a restart replays it).
 */

typedef enum {
	ZONEWORK_COMPACT,     /* the zone's journal folded into its stored contents, when due */
	ZONEWORK_FILE,        /* a primary's zone file written back (runtime/filesync.h) */
	ZONEWORK_KINDS
} zonework_kind_t;

/* Starts the thread. TDM_OK, or an error: then every job is done at once by whoever asks for it. */
int zonework_start(server_t *srv);
/* Queues a job for zr (any thread; takes a zone reference until it is done). */
void zonework_post(server_t *srv, zonework_kind_t kind, zonert_t *zr);
/* Does the queued write-backs, drops the compactions, and joins the thread (at shutdown). */
void zonework_stop(server_t *srv);
void zonework_free(server_t *srv);
