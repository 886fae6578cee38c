/* repl/refresh.h -- keeping a secondary zone current: SOA check, then IXFR, AXFR as a fallback */
#pragma once

#include "runtime/runtime.h"
#include "runtime/zonert.h"

/* Starts a refresh job for the zone on its own thread. TDM_OK or an error. */
int refresh_start(server_t *srv, zonert_t *zr);
/* First transfers of zones that hold no data yet (refresh_batchable), all from the same primary, in
 * one job on one thread: one slot of the primary, one connection while the primary keeps it, one
 * store commit. 1 <= count <= REFRESH_BATCH_MAX. TDM_OK or an error (nothing started). */
#define REFRESH_BATCH_MAX 64
int refresh_start_batch(server_t *srv, zonert_t *const *zrs, size_t count);
/* Whether the zone's next refresh may join a batch: a secondary holding no data yet, with one
 * primary of one address, no retransfer asked for. Control thread. */
bool refresh_batchable(const zonert_t *zr);
/* Loads the persisted timers of a secondary zone at start (control thread). */
void refresh_restore(server_t *srv, zonert_t *zr);
