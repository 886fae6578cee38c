/* provision/autoprimary.h -- autoprimary (PowerDNS's supermaster): zones made by a NOTIFY from a super-primary */
#pragma once

#include "runtime/runtime.h"

/* Control thread: a NOTIFY from super-primary `index` for a zone we lack: ask it for the zone's NS
 * set (on a thread); when that names one of our nameservers, CTL_AUTOPRIMARY_OK follows, and
 * CTL_AUTOPRIMARY_DONE in every case. Deduplicated per name, at most a few at once, rate-limited
 * and queued (bounded) per super-primary; the root and names at or below a zone here are never
 * checked. */
void autoprimary_check(server_t *srv, const char *name, size_t index);
/* Control thread: creates the zone as a secondary of that super-primary, remembered in the store. */
void autoprimary_add(server_t *srv, const char *name, size_t index);
/* Control thread: the check of that name ended; the next one waiting may start. */
void autoprimary_done(server_t *srv, const char *name);
/* Control thread: the queues of checks (at the end). */
void autoprimary_free(server_t *srv);

/* Control thread: removes a zone an autoprimary made, with its data. TDM_OK, TDM_ENOENT (no such
 * zone made by a super-primary), TDM_EEXIST (a catalog member: its catalog decides). */
int autoprimary_remove(server_t *srv, const char *name);
