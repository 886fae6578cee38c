/* zone/dnssec.h -- what answering a signed zone needs, computed once per version: NSEC order, NSEC3 index */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dnssec/nsec3.h"
#include "zone/contents.h"

/*
 * DESIGN. A zone is signed when its apex holds a DNSKEY RRset; then its answers to DO queries carry
 * RRSIGs and denial-of-existence proofs (RFC 4035 3.1, RFC 5155 7.2). Finding the NSEC that covers a
 * name needs the owners in canonical order, and finding an NSEC3 needs the chain sorted by hash: both
 * are paged lists of node indexes made with the version (whole, or carried through a change by
 * rewriting only the pages where owners come or go), never per query. For NSEC3 zones every node's own
 * NSEC3 (the one whose hash matches it) is found at build time too, so a positive or NODATA answer
 * hashes nothing; only names that do not exist (NXDOMAIN, the next closer name, the wildcard) are hashed
 * when asked. NSEC3 records live at hashed owners one label below the apex; those nodes are flagged
 * ZONE_NODE_NSEC3 and are not names of the zone (a query for one gets NXDOMAIN, as with Knot and NSD).
 */
typedef struct zone_dnssec zone_dnssec_t;

/* Builds the index of a version whose apex has a DNSKEY (*out = NULL for an unsigned zone). Returns
 * TDM_OK or TDM_ENOMEM. */
int zone_dnssec_build(const zone_contents_t *z, zone_dnssec_t **out);
void zone_dnssec_free(zone_dnssec_t *d);
size_t zone_dnssec_memory(const zone_dnssec_t *d);

/* Whether denial of existence uses NSEC3 (an NSEC3PARAM at the apex) rather than NSEC. */
bool zone_dnssec_nsec3(const zone_dnssec_t *d);
const nsec3_params_t *zone_dnssec_params(const zone_dnssec_t *d);

/* NSEC: the node whose NSEC matches or covers a lowercase name (the greatest NSEC owner not after it in
 * canonical order), or ZONE_NODE_NONE when the zone has no NSEC. */
uint32_t zone_nsec_covering(const zone_contents_t *z, const zone_dnssec_t *d, const uint8_t *name);

/* NSEC3: the node whose NSEC3 matches (*exact) or covers a hash label (lowercase base32hex), or
 * ZONE_NODE_NONE when the zone has no NSEC3 chain. */
uint32_t zone_nsec3_find(const zone_contents_t *z, const zone_dnssec_t *d, const uint8_t *label,
                         size_t len, bool *exact);

/* NSEC3: the NSEC3 node of an existing node (its hashed name), or ZONE_NODE_NONE (an empty
 * non-terminal or delegation left out by opt-out, or no NSEC3 chain). */
uint32_t zone_nsec3_of(const zone_dnssec_t *d, uint32_t node);

/* The chain (NSEC owners in canonical order, or NSEC3 owners by hash) as a new array of *count node
 * indexes (malloc'ed: the caller frees it), or NULL when out of memory. */
uint32_t *zone_dnssec_chain(const zone_dnssec_t *d, uint32_t *count);

/*
 * The index of z, a version made by a change from the version old's index belongs to (node indexes
 * carry over): touched lists the n nodes the change wrote, made or removed; cuts_changed says a
 * delegation came or went (every node's "below a cut" may differ). Owners joining or leaving the chain
 * are inserted or removed where they sort, and the touched nodes' own NSEC3 found again; an NSEC3
 * added for a node the change did not touch, new NSEC3 parameters or a change to a large part of the
 * chain make it build whole. *out = NULL when z is not signed. TDM_OK or TDM_ENOMEM.
 */
int zone_dnssec_update(const zone_contents_t *z, const zone_dnssec_t *old, const uint32_t *touched,
                       size_t n, bool cuts_changed, zone_dnssec_t **out);

/* Octets of the index no other version shares. */
size_t zone_dnssec_exclusive(const zone_dnssec_t *d);

/* A problem found by zone_dnssec_check, as one line of text. */
typedef void (*zone_dnssec_report_fn)(void *ctx, const char *problem);

/*
 * Checks a signed version: signatures that have expired or are not yet valid at `now` (unix time),
 * authoritative RRsets without an RRSIG, and a broken NSEC or NSEC3 chain (a next owner that is not
 * the next name of the chain). Reports at most `max` problems (and how many more there were); returns
 * the number found. These are warnings: a signed zone is served as it came.
 */
unsigned zone_dnssec_check(const zone_contents_t *z, const zone_dnssec_t *d, int64_t now,
                           unsigned max, zone_dnssec_report_fn fn, void *ctx);
