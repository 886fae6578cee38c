/* zone/contents.h -- one immutable version of a zone's data: a compact name table with RRsets */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone/rrlist.h"

/*
 * DESIGN. A version never changes once published: readers need no locks, and a new version replaces it
 * (published by the zone with an RCU pointer swap). A version is built whole from a record list
 * (zone_contents_build) or made from the one before by a change (zone_update_apply, zone/update.h),
 * sharing every page of data the change does not touch (zone/pages.h). Everything lives in five paged
 * arrays -- lowercase owner names, nodes, an open-addressing hash of node indexes, RRsets and rdata --
 * so a record costs a few dozen octets and a lookup is one hash probe per label (closest encloser
 * search walks the query name's suffixes). Empty non-terminals are real nodes without RRsets, so "does
 * this name exist" is one probe. Node indexes stay valid from a version to the next; a node a change
 * removed stays as a dead slot (ZONE_NODE_DEAD, no RRsets, not in the hash table).
 */
typedef struct zone_contents zone_contents_t;

enum {
	ZONE_NODE_APEX = 1 << 0,
	ZONE_NODE_DELEG = 1 << 1,     /* NS below the apex: a zone cut */
	ZONE_NODE_NONAUTH = 1 << 2,   /* strictly below a zone cut: glue or occluded data */
	ZONE_NODE_WILDCHILD = 1 << 3, /* has a child named '*' */
	ZONE_NODE_CNAME = 1 << 4,
	ZONE_NODE_DNAME = 1 << 5,
	ZONE_NODE_NSEC3 = 1 << 6,     /* an NSEC3 owner only (a hashed name): not a name of the zone */
	ZONE_NODE_DEAD = 1 << 7,      /* a slot left by a removed node: skipped by every walk */
};

typedef struct {
	uint32_t name_off;
	uint32_t rrset_first;
	uint32_t parent;      /* node index; the apex is its own parent */
	uint32_t children;    /* live nodes whose parent this is */
	uint16_t rrset_count;
	uint8_t flags;
	uint8_t name_len;     /* 1..255 */
} zone_node_t;

/* An RRset. RRSIGs are kept as one RRset per covered type (each with its own TTL, RFC 4034 3), so a node
 * may hold several RRsets of type RRSIG: zone_node_rrsig finds the one for a type. */
typedef struct {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t rdata_off;   /* count entries of: 2-octet length, then the rdata (zone/pages.h offset) */
} zone_rrset_t;

#define ZONE_NODE_NONE UINT32_MAX

/*
 * Builds a version for the zone at apex (wire) from the list (any order; duplicates dropped; owners
 * must be at or below apex, others are skipped). When the RRs of one RRset disagree on TTL, the first
 * one's wins (RFC 2181 5.2). apex must be lowercase. Returns TDM_OK and *out, TDM_ENOMEM, TDM_ERANGE
 * (an RRset or node too large for a message), or TDM_ESEMCHECK when there is no usable SOA at the
 * apex (zonefile_check reports the other rules, a second SOA among them).
 */
int zone_contents_build(const uint8_t *apex, const rrlist_t *list, zone_contents_t **out);
void zone_contents_free(zone_contents_t *z);

/* Pinning: a reader that keeps a version beyond its RCU read section (a transfer streaming it)
 * takes a reference inside the section and drops it when done; the last reference frees it. A new
 * version starts with one reference, the zone's. */
void zone_contents_ref(zone_contents_t *z);
void zone_contents_unref(zone_contents_t *z);

/* Drops the zone's reference once every reader that may hold the version has left its RCU read
 * section (call_rcu, with no allocation: safe inside a read section, and it cannot fail). */
void zone_contents_retire(zone_contents_t *z);

/* Node index of a lowercase name (len octets), or ZONE_NODE_NONE. */
uint32_t zone_lookup(const zone_contents_t *z, const uint8_t *name, size_t len);

/*
 * A lookup in stages, to overlap the cache misses of many: zone_prefetch_begin for each name of a
 * batch, then zone_prefetch_step on each in turn, round after round, while any returns true. Each stage
 * reads what the previous one asked the CPU to fetch and asks for the next thing: the hash slots, the
 * nodes they name, those nodes' names with their RRsets and parents (fetched together: the node's
 * RRsets are wanted as soon as its name matches), then the rdata of `type` (or of its CNAME).
 * It changes nothing and remembers nothing beyond *p: a later zone_lookup of the same name, and the
 * reads of its RRset, then find their data in the cache instead of waiting for memory one miss after
 * the other (the larger part of the answer path's own CPU time). name (lowercase) must stay valid
 * until the last step; the version must stay published (the caller's RCU read section).
 */
typedef struct {
	const zone_contents_t *z;   /* NULL: no zone to look in */
	const uint8_t *name;        /* the name looked for now: the one given, then its parents */
	uint32_t len;
	uint32_t full_len;          /* the length of the name given */
	uint32_t slot;              /* the name's first hash slot */
	uint32_t node;              /* the name's node once found */
	uint16_t type;
	uint8_t stage;              /* 0: done */
} zone_prefetch_t;

void zone_prefetch_begin(zone_prefetch_t *p, const zone_contents_t *z, const uint8_t *name,
                         size_t len, uint16_t type);
/* Runs the next stage; false when there is no further one. */
bool zone_prefetch_step(zone_prefetch_t *p);
/* Once the steps are done: the node of the name given to zone_prefetch_begin when the staged lookup
 * found it in z (what zone_lookup would give for it), else ZONE_NODE_NONE (another version, not found,
 * or only a parent found). */
uint32_t zone_prefetch_found(const zone_prefetch_t *p, const zone_contents_t *z);

const zone_node_t *zone_node(const zone_contents_t *z, uint32_t idx);
const uint8_t *zone_node_name(const zone_contents_t *z, const zone_node_t *node);
/* The node's RRsets (rrset_count of them; NULL when it has none). */
const zone_rrset_t *zone_node_rrsets(const zone_contents_t *z, const zone_node_t *node);
/* The node's RRset of a type, or NULL. */
const zone_rrset_t *zone_node_rrset(const zone_contents_t *z, const zone_node_t *node,
                                    uint16_t type);

/* The RRSIGs at a node that cover a type, or NULL. */
const zone_rrset_t *zone_node_rrsig(const zone_contents_t *z, const zone_node_t *node,
                                    uint16_t covered);
/* The type an RRSIG RRset covers; 0 for any other RRset. */
uint16_t zone_rrset_covered(const zone_contents_t *z, const zone_rrset_t *rrset);
/* The RRset of a node matching another (same type and, for RRSIGs, the same covered type), or NULL. */
const zone_rrset_t *zone_node_rrset_cov(const zone_contents_t *z, const zone_node_t *node,
                                        uint16_t type, uint16_t covered);

/* The DNSSEC index of a signed version (zone/dnssec.h), NULL when the apex has no DNSKEY. */
struct zone_dnssec;
const struct zone_dnssec *zone_contents_dnssec(const zone_contents_t *z);

/* Iterating the rdata of an RRset: zone_rdata_begin, then zone_rdata_next until it gives false. */
typedef struct {
	const uint8_t *next;
	uint16_t left;
} zone_rdata_iter_t;

/* The rdata of an RRset (its first length octet). */
const uint8_t *zone_rdata_at(const zone_contents_t *z, uint32_t rdata_off);

static inline void zone_rdata_begin(const zone_contents_t *z, const zone_rrset_t *rrset,
                                    zone_rdata_iter_t *it)
{
	it->next = zone_rdata_at(z, rrset->rdata_off);
	it->left = rrset->count;
}

/* The first rdata of an RRset (every RRset has at least one). */
static inline const uint8_t *zone_rrset_first(const zone_contents_t *z, const zone_rrset_t *rrset,
                                              uint16_t *rdlen)
{
	const uint8_t *p = zone_rdata_at(z, rrset->rdata_off);
	*rdlen = (uint16_t)(p[0] << 8 | p[1]);
	return p + 2;
}

static inline bool zone_rdata_next(zone_rdata_iter_t *it, const uint8_t **rdata, uint16_t *rdlen)
{
	if (it->left == 0)
		return false;
	*rdlen = (uint16_t)(it->next[0] << 8 | it->next[1]);
	*rdata = it->next + 2;
	it->next += 2 + *rdlen;
	it->left--;
	return true;
}

const uint8_t *zone_apex(const zone_contents_t *z);
uint32_t zone_apex_index(const zone_contents_t *z);
/* Node slots (indexes 0 .. count-1), dead ones (ZONE_NODE_DEAD) included. */
uint32_t zone_node_count(const zone_contents_t *z);
size_t zone_record_count(const zone_contents_t *z);
/* Octets of the records in wire form, uncompressed (owner + 10 + rdata each): what max-zone-size
 * bounds. */
size_t zone_wire_size(const zone_contents_t *z);
uint32_t zone_serial(const zone_contents_t *z);
/* SOA RRset at the apex (always present). */
const zone_rrset_t *zone_soa(const zone_contents_t *z);
/* Re-reads the serial from the SOA rdata (after zone_contents_set_serial patched it). */
void zone_contents_serial_refresh(zone_contents_t *z);
/* Octets held by the version (for status, a change's log line and the rebuild rule), pages shared with
 * other versions included: kept as the pages change, read in constant time. zone_memory_exclusive
 * counts only what no other version holds, and reads every page's head to know. */
size_t zone_memory(const zone_contents_t *z);
size_t zone_memory_exclusive(const zone_contents_t *z);
/* Octets of names, RRsets and rdata that changes left behind (reclaimed by a rebuild). */
size_t zone_garbage(const zone_contents_t *z);

/*
 * A version made by zone_update_apply from another without a rebuild has the other's lineage; a
 * version built whole (zone_contents_build, or a rebuild) starts a new one. Within a lineage node
 * indexes keep their meaning: a later version's nodes are the earlier one's (some now ZONE_NODE_DEAD)
 * plus nodes at indexes from the earlier node count on. Indexes kept beside a version (the API's
 * canonical order of names) can be carried to the next one at the cost of what it added.
 */
uint64_t zone_contents_lineage(const zone_contents_t *z);

/* Appends every record to list (SOA first). Returns TDM_OK or TDM_ENOMEM. */
int zone_contents_to_rrlist(const zone_contents_t *z, rrlist_t *list);
