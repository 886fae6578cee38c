/* zone/zoneset.h -- the zones a server holds, and each zone's current version, published through RCU */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "zone/contents.h"

/*
 * DESIGN. A zone_t lives as long as the server holds the zone; its current contents pointer is swapped
 * with rcu_xchg_pointer and the old version freed after a grace period (call_rcu). A zoneset_t is an
 * immutable table of zones keyed by apex; adding or removing a zone builds a new set (one zone more or
 * less: a copy of the tables, zoneset_with/without) and swaps the server's pointer the same way. Readers (query workers) hold rcu_read_lock() for one answer and never
 * block a writer; writers are serialised by the caller (the server's control thread).
 */
typedef struct zone zone_t;
typedef struct zoneset zoneset_t;

/* A new zone without contents (answers SERVFAIL until contents are set). NULL on OOM. */
zone_t *zone_new(const uint8_t *apex);
/* Reference counting: the set holds one reference per zone. */
void zone_ref(zone_t *zone);
void zone_unref(zone_t *zone);

/* A secondary zone past its EXPIRE timer keeps its data (for the next IXFR) but answers SERVFAIL. */
void zone_set_expired(zone_t *zone, bool expired);
bool zone_expired(const zone_t *zone);

/* A secondary's expiry (unix time), for the EDNS EXPIRE answer (RFC 7314); 0 for a primary, which
 * answers with its SOA's expire field. */
void zone_set_expire_at(zone_t *zone, int64_t t);
int64_t zone_expire_at(const zone_t *zone);

/* The server's own data for a zone (its runtime state), freed with the zone by ext_free. */
void zone_set_ext(zone_t *zone, void *ext, void (*ext_free)(void *));
void *zone_ext(const zone_t *zone);

const uint8_t *zone_name(const zone_t *zone);
/* The zone's name as text ("example.com."), for logs. */
const char *zone_name_text(const zone_t *zone);

/* Current version, or NULL (never loaded, or expired). Call inside an RCU read section. */
zone_contents_t *zone_contents(const zone_t *zone);
/* The current version with a reference taken (zone_contents_unref drops it), or NULL; for a caller
 * that keeps it beyond an RCU read section (a store rewrite, a file write, a change built on it). */
zone_contents_t *zone_contents_pin(const zone_t *zone);
/* Publishes a new version (may be NULL) and frees the old one after a grace period. */
void zone_set_contents(zone_t *zone, zone_contents_t *contents);

zoneset_t *zoneset_new(zone_t **zones, size_t count);
/* A new set: old's zones and zone (TDM_EEXIST: its apex is there already), or old's without zone
 * (TDM_ENOENT: not there). A copy of old's tables, not a pass over its zones. The new set takes over
 * old's references: old stays readable until freed (after a grace period), which drops only the
 * zone taken out; a set gives its references once (TDM_EINVAL the second time). TDM_ENOMEM. */
int zoneset_with(zoneset_t *old, zone_t *zone, zoneset_t **out);
int zoneset_without(zoneset_t *old, const zone_t *zone, zoneset_t **out);
/* Frees the set now (dropping its zone references); call only after a grace period. */
void zoneset_free(zoneset_t *set);
/* Frees the set after a grace period. */
void zoneset_free_rcu(zoneset_t *set);

size_t zoneset_count(const zoneset_t *set);
zone_t *zoneset_at(const zoneset_t *set, size_t i);
/* The zone whose apex equals name (lowercase wire), or NULL. */
zone_t *zoneset_find_exact(const zoneset_t *set, const uint8_t *name, int len);
/* The zone with the longest apex that name (lowercase wire, len octets) is at or below, or NULL. */
zone_t *zoneset_find(const zoneset_t *set, const uint8_t *name, int len);
