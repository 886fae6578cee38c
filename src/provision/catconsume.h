/* provision/catconsume.h -- consuming catalogs (RFC 9432): their members become secondary zones */
#pragma once

#include "runtime/runtime.h"
#include "runtime/zonert.h"

/* Control thread: a consumed catalog has a new version: members are added, reset (new unique ID),
 * moved (coo) or removed, and the zone set rebuilt. An invalid catalog is refused as a whole. */
void catalog_consume(server_t *srv, zonert_t *zr);

/* Control thread: what each catalog's last reconciliation left is forgotten (a reload: the next
 * version of every catalog is read whole), and its memory freed (at the end). */
void catalog_consume_forget(server_t *srv);
