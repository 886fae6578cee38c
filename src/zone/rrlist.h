/* zone/rrlist.h -- a growable list of resource records in wire form: what loaders produce and builders take */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * The exchange format between the zone file loader, the store and the zone builder. Owner names and
 * rdata are in uncompressed wire form; owners are lowercased on insertion (names compare
 * case-insensitively, and the tree keys on lowercase). Data lives in chunks owned by the list, so a
 * million records cost a million small copies and a handful of allocations.
 */
typedef struct {
	const uint8_t *owner;  /* wire name, lowercase */
	const uint8_t *rdata;  /* uncompressed wire rdata */
	uint32_t ttl;
	uint16_t type;
	uint16_t rdlen;
	uint32_t line;         /* line in the source file, 0 when unknown */
	uint64_t sort_key;     /* rrlist_sort's private: a prefix of the owner's canonical form */
} rr_t;

typedef struct rrlist rrlist_t;

/* A new empty list, or NULL on OOM. */
rrlist_t *rrlist_new(void);
void rrlist_free(rrlist_t *list);

/* Appends one record (copied). Returns TDM_OK, TDM_ENOMEM, or TDM_EINVAL for a bad owner name. */
int rrlist_add(rrlist_t *list, const uint8_t *owner, uint16_t type, uint32_t ttl,
               const uint8_t *rdata, uint16_t rdlen, uint32_t line);

size_t rrlist_count(const rrlist_t *list);

/* The i-th record; valid until the list is freed or sorted. */
const rr_t *rrlist_at(const rrlist_t *list, size_t i);

/* Sorts by owner in canonical order (RFC 4034 6.1), then type, then rdata; drops exact duplicates
 * (same owner, type and rdata; RFC 2181 5: an RRset holds no duplicates). Returns TDM_OK or TDM_ENOMEM. */
int rrlist_sort(rrlist_t *list);
