/* zone/diff.h -- differences between zone versions: computing, applying, serial arithmetic */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "zone/contents.h"
#include "zone/rrlist.h"
#include "zone/update.h"

/* RFC 1982 serial number arithmetic: <0 when a is before b, 0 when equal, >0 when after. The
 * undefined case (exactly 2^31 apart) counts as "after", so a serial never looks older than itself. */
int serial_cmp(uint32_t a, uint32_t b);

/* How the server raises a serial (a dynamic update, a file changed without a new serial, a catalog
 * written): the next one after current, at unix time now. INCREMENT: current + 1. UNIXTIME: now, or
 * current + 1 when that is not after current. DATESERIAL: YYYYMMDD00 of now (UTC), or current + 1 when
 * that is not after current (the nn part counting the changes of a day, as BIND's date format). */
enum { ZONE_SERIAL_INCREMENT, ZONE_SERIAL_UNIXTIME, ZONE_SERIAL_DATESERIAL };
uint32_t serial_next(uint32_t current, int policy, int64_t now);

/*
 * The records of old that new lacks go to removed, the records of new that old lacks to added; a
 * TTL change is a removal and an addition. With both SOAs differing, removed holds the old SOA and
 * added the new one, as RFC 1995 wants. Returns TDM_OK or TDM_ENOMEM.
 */
int zone_diff(const zone_contents_t *old, const zone_contents_t *new, rrlist_t *removed,
              rrlist_t *added);

/* Whether a diff changes anything besides the SOA. */
bool zone_diff_beyond_soa(const rrlist_t *removed, const rrlist_t *added);

/*
 * The records of old, less removed, plus added: the next version's records. Every removed record
 * must be in old (RFC 1995: otherwise the IXFR does not apply to this version) and the removed SOA
 * must be old's. Returns TDM_OK and *out, TDM_EMALF when the diff does not apply, or TDM_ENOMEM.
 */
int zone_apply(const zone_contents_t *old, const rrlist_t *removed, const rrlist_t *added,
               rrlist_t **out);

