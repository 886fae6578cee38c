/* provision/catconsume.h -- consuming catalogs (RFC 9432): their members become secondary zones */
#pragma once

#include "runtime/runtime.h"
#include "runtime/zonert.h"

/* Control thread: a consumed catalog has a new version: members are added, reset (new unique ID),
 * moved (coo) or removed, and the zone set rebuilt. An invalid catalog is refused as a whole. */
void catalog_consume(server_t *srv, zonert_t *zr);
