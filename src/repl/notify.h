/* repl/notify.h -- NOTIFY out (RFC 1996): told to every secondary of a zone, retried until answered */
#pragma once

#include "runtime/runtime.h"
#include "runtime/zonert.h"

/* NOTIFY every secondary of the zone (control thread). */
void notify_zone(server_t *srv, zonert_t *zr);
/* Sockets and retry timer. */
int notify_init(server_t *srv);
void notify_free(server_t *srv);
