/* zone/contents_impl.h -- the layout of a version, shared by its reader (contents.c), builder and updater */
#pragma once

#include <stdatomic.h>
#include <urcu.h>

#include "zone/contents.h"
#include "zone/dnssec.h"
#include "zone/pages.h"

/* Elements per page: 1,024 nodes (20 KiB), 1,024 RRsets (12 KiB), 4,096 hash slots (16 KiB). A change
 * copies the pages it writes to (an added name: its hash slot's and its parent's), so the smaller the
 * page the less it copies; the cost of more pages is a directory entry each, shared by runs of 32
 * (zone/pages.h). At ZONE_PAGES_MAX pages a set, that is up to 67,108,864 nodes and RRsets. */
#define NODE_SHIFT 10
#define RRSET_SHIFT 10
#define HASH_SHIFT 12

struct zone_contents {
	zone_pages_t names;      /* lowercase owner names, runs of name_len octets */
	zone_pages_t nodes;      /* zone_node_t; a removed node stays as a dead slot */
	zone_pages_t hash;       /* uint32_t node indexes, ZONE_NODE_NONE when empty (linear probing) */
	zone_pages_t rrsets;     /* zone_rrset_t, each node's RRsets consecutive */
	zone_pages_t rdata;      /* per RRset: count entries of a 2-octet length and the rdata */
	uint32_t node_count;     /* node slots, dead ones included */
	uint32_t live_nodes;
	uint32_t rrset_count;    /* RRset slots, those left behind by changes included */
	uint32_t hash_mask;
	size_t records;
	size_t wire;             /* zone_wire_size */
	size_t garbage;          /* octets left behind by changes (for deciding to rebuild) */
	uint32_t apex;
	uint32_t serial;
	uint64_t lineage;        /* zone_contents_lineage: kept by zone_update_apply, new for a build */
	zone_dnssec_t *dnssec;   /* NULL unless signed */
	atomic_int refs;         /* the zone's reference plus one per pinned reader (AXFR out) */
	uint32_t shared_nodes;   /* nodes from this index on were appended by this version (0: built whole) */
	struct rcu_head retired; /* the version replaced: dropped after a grace period (zoneset.c) */
};

static inline zone_node_t *contents_node(const zone_contents_t *z, uint32_t idx)
{
	return zone_pages_elem(&z->nodes, sizeof(zone_node_t), NODE_SHIFT, idx);
}

/* Node idx made writable: a node this version appended is written where it is (zone/pages.h: its page
 * may still be shared, past what the older versions read); an older one is copied with its page if
 * shared. NULL when out of memory. */
static inline zone_node_t *contents_node_w(zone_contents_t *z, uint32_t idx)
{
	if (idx >= z->shared_nodes && idx < z->node_count)
		return zone_pages_elem_own(&z->nodes, sizeof(zone_node_t), NODE_SHIFT, idx);
	return zone_pages_elem_write(&z->nodes, sizeof(zone_node_t), NODE_SHIFT, idx);
}

/* The type an RRSIG rdata covers (its first field); 0 when too short to say. */
static inline uint16_t covered_of(const uint8_t *rdata, uint16_t rdlen)
{
	return rdlen >= 2 ? (uint16_t)(rdata[0] << 8 | rdata[1]) : 0;
}

static inline uint32_t contents_slot(const zone_contents_t *z, uint32_t i)
{
	return *(const uint32_t *)zone_pages_elem(&z->hash, sizeof(uint32_t), HASH_SHIFT, i);
}

/* Sort items of one node's records, and turning them into RRsets (build.c, used by update.c too). */
typedef struct {
	const rr_t *rr;
	uint32_t index;          /* order of arrival: the first record of an RRset gives its TTL */
} contents_item_t;

/* Sorts items (type, covered type, rdata) and writes them as the node's RRsets. */
int contents_emit_node(zone_contents_t *z, uint32_t node, contents_item_t *items, size_t n);

/* The hash table with room for `want` nodes at most half full (all nodes re-inserted). */
int contents_rehash(zone_contents_t *z, uint32_t size);
/* Inserts node idx into the hash table (which has room). */
int contents_hash_insert(zone_contents_t *z, uint32_t idx);

/* Flags that follow from a node's own RRsets (APEX, DELEG, CNAME, DNAME); the others are kept. */
void contents_own_flags(zone_contents_t *z, uint32_t idx);
/* Whether a node holds NSEC3 records and nothing else but their signatures: a hashed owner. */
bool contents_nsec3_only(const zone_contents_t *z, const zone_node_t *n);

/* Reads the serial of the apex SOA; TDM_ESEMCHECK when there is no usable SOA. */
int contents_read_serial(zone_contents_t *z);

/* The node of a lowercase name at or below the apex (apex_len octets), made with its missing
 * ancestors when absent (*created set then, when created is not NULL). */
int contents_node_get(zone_contents_t *z, const uint8_t *name, int len, int apex_len, uint32_t *out,
                      bool *created);
