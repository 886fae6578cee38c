/* repl/notify.h -- NOTIFY out (RFC 1996): told to every secondary of a zone, retried until answered */
#pragma once

#include "runtime/runtime.h"
#include "runtime/zonert.h"

/* NOTIFY every secondary of the zone now (control thread): an operator's request, a new setting. */
void notify_zone(server_t *srv, zonert_t *zr);
/* The zone's data changed (control thread): its secondaries are told at once, unless the zone's last
 * change was told less than `notify-delay` seconds ago; the changes made meanwhile are then told
 * together, in one NOTIFY of the newest serial, when that time is up (notify.c says why). */
void notify_changed(server_t *srv, zonert_t *zr);
/* Sockets and retry timer. */
int notify_init(server_t *srv);
void notify_free(server_t *srv);
