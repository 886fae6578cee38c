/* zone/update.h -- a change applied to a version: the next version, sharing all the change leaves alone */
#pragma once

#include "zone/contents.h"
#include "zone/rrlist.h"

/*
 * DESIGN. Every change to a zone (an IXFR received, a reload that found a diff, later the API and
 * UPDATE) becomes a removed and an added list, as IXFR carries it, and zone_update_apply makes the next
 * version from the served one. The new version shares every page the change does not write
 * (zone/pages.h): the nodes of the owners it names, their new RRsets and rdata, and the hash slots of
 * nodes that appear or vanish. It answers exactly as zone_contents_build would answer for the same
 * records (the tests build both and compare). What costs more than the change, and when:
 *   - a delegation added or removed re-derives the "below a cut" flag of every node (one pass);
 *   - the hash table doubles when the zone outgrows it;
 *   - a signed zone's NSEC/NSEC3 index is maintained per owner, except when the NSEC3 parameters change;
 *   - once the octets changes left behind exceed half of the version, the version is rebuilt whole
 *     (zone_garbage), so a zone changed forever stays the size of its data.
 */

/*
 * The records of old, less removed, plus added, as a new version. Every removed record (owner, type,
 * rdata; the TTL is not compared) must be in old, or the change is for another version (RFC 1995):
 * TDM_EMALF. Records of owners outside the zone are ignored. An RRset that keeps any of its records
 * keeps its TTL; one made only of added records takes the first one's. Returns TDM_OK and *out,
 * TDM_EMALF, TDM_ESEMCHECK (no usable SOA left), TDM_ERANGE or TDM_ENOMEM; old is not changed.
 */
int zone_update_apply(const zone_contents_t *old, const rrlist_t *removed, const rrlist_t *added,
                      zone_contents_t **out);

/* Sets the serial of a version not yet published (its SOA rdata is rewritten, copied first when the
 * page is shared with another version). Returns TDM_OK or TDM_ENOMEM. */
int zone_contents_set_serial(zone_contents_t *z, uint32_t serial);
