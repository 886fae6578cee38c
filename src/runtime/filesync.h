/* runtime/filesync.h -- a primary's zone file written back after dynamic updates changed the zone */
#pragma once

#include "runtime/runtime.h"
#include "runtime/zonert.h"

/*
 * DESIGN. The store holds a zone's truth; for a primary loaded from a file, the file must follow what
 * dynamic updates did, or the next reload (or an operator reading the file) would undo them. An UPDATE
 * commits its change with the store's file digest set to ZONELOAD_DIGEST_PENDING ("the file is behind")
 * and asks for a write-back; runtime/zonework.c's thread writes the file FILESYNC_DELAY_MS after the
 * last update of a burst (one write for the burst; at most FILESYNC_MAX_DELAY_MS after its first
 * update while updates keep coming): the version served, sorted, as a master file (zonefile_dump) into
 * a temporary file, fsync'ed, the old file kept as <file>.bak (a hard link), renamed over it; then the
 * digest of what was written goes to the store, unless more updates came meanwhile (they asked for
 * another write-back). Comments, $INCLUDE and $ORIGIN of the original file do not survive a write-back.
 * A restart that finds the marker serves the store's version and writes the file again.
 */
#define FILESYNC_DELAY_MS 1000
#define FILESYNC_MAX_DELAY_MS 30000

/* Control thread: schedules the write-back of zr's file, FILESYNC_DELAY_MS after the latest call (once
 * for a burst), at most FILESYNC_MAX_DELAY_MS after the first call it has not written for. */
void filesync_soon(server_t *srv, zonert_t *zr);

/* Control thread: the write-back is due; runtime/zonework.c's thread does it (filesync_write). */
void filesync_now(server_t *srv, zonert_t *zr);

/* Writes zr's file from the version served now, if it is a primary with a file (the zonework thread;
 * the control thread at shutdown). A failure asks for another write-back later, unless stopping. */
void filesync_write(server_t *srv, zonert_t *zr, bool stopping);

/* Control thread, at shutdown (after zonework_stop, which did the queued ones): the write-backs whose
 * delay had not run out, done now. */
void filesync_flush_all(server_t *srv);
