/* repl/schedule.h -- when secondary zones refresh: their timers, and jobs within each primary's limit */
#pragma once

#include "runtime/runtime.h"
#include "runtime/zonert.h"

/* Control thread: the zone's role or data changed; (re)arm its timer or drop it. */
void schedule_zone_changed(server_t *srv, zonert_t *zr);
/* Control thread: asks for a refresh of a secondary zone now (coalesced with one running). */
void schedule_refresh(server_t *srv, zonert_t *zr);
/* Control thread: a refresh job ended (CTL_REFRESH_DONE), freeing slots of its primary's; the
 * zone's timer is armed again and the zones waiting for that primary start. */
void schedule_done(server_t *srv, zonert_t *zr, size_t slots);
/* Frees the per-primary queues (at the end), with the zone references they hold. */
void schedule_free(server_t *srv);
