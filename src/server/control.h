/* server/control.h -- the control thread: signals, timers of secondary zones, jobs, NOTIFY out */
#pragma once

#include "server/server_impl.h"
#include "server/zonert.h"

/* Sets up the event loop (signals, inbox, NOTIFY sockets). TDM_OK or an error. */
int control_init(server_t *srv);
/* Runs until SIGTERM/SIGINT. */
void control_run(server_t *srv);
void control_free(server_t *srv);

/* Control thread: the zone's role or data changed; (re)arm its timer or drop it. */
void control_zone_changed(server_t *srv, zonert_t *zr);
/* Control thread: asks for a refresh of a secondary zone now (coalesced with one running). */
void control_refresh(server_t *srv, zonert_t *zr);

/* (Re)arms the bulk verification timer from verify-interval (0: off). */
void control_verify_arm(server_t *srv);

/* refresh.c: starts a refresh job for the zone on its own thread. TDM_OK or an error. */
int refresh_start(server_t *srv, zonert_t *zr);
/* refresh.c: first transfers of zones that hold no data yet (refresh_batchable), all from the same
 * primary, in one job on one thread: one slot of the primary, one connection while the primary keeps
 * it, one store commit. 1 <= count <= REFRESH_BATCH_MAX. TDM_OK or an error (nothing started). */
#define REFRESH_BATCH_MAX 64
int refresh_start_batch(server_t *srv, zonert_t *const *zrs, size_t count);
/* refresh.c: whether the zone's next refresh may join a batch: a secondary holding no data yet,
 * with one primary of one address, no retransfer asked for. Control thread. */
bool refresh_batchable(const zonert_t *zr);
/* control.c, from any thread: a refresh ended; slots says how many of its primary's job slots
 * that frees (a batch frees its one with its last zone). */
void control_post_done(server_t *srv, zonert_t *zr, size_t slots);
/* refresh.c: loads the persisted timers of a secondary zone at start (control thread). */
void refresh_restore(server_t *srv, zonert_t *zr);

/* notify.c: NOTIFY every secondary of the zone (control thread). */
void notify_zone(server_t *srv, zonert_t *zr);

/* Control thread: the API's name orders of the set's large zones, made ahead (after a start or a
 * reload: server/apiorder.h). */
void control_warm_orders(server_t *srv);
/* notify.c: sockets and retry timer. */
int notify_init(server_t *srv);
void notify_free(server_t *srv);
