/* api/apiorder.h -- the names of a version in canonical order, for paging through its records */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "zone/contents.h"

/*
 * DESIGN. A version's names live in a hash table: paging through a zone in canonical order (RFC 4034
 * 6.1) needs them sorted. The sort is made once per lineage of versions (zone_contents_lineage) and
 * carried to each next version at the cost of the names the changes added: indexes of nodes keep
 * their meaning within a lineage, new ones are merged in, and nodes a change removed stay in the
 * order as dead slots that the walk skips. Orders are kept for APIORDER_CACHE versions at a time,
 * each pinned (zone_contents_ref) so that the pointer names one version; control thread only.
 */
#define APIORDER_CACHE 8

typedef struct {
	const uint32_t *nodes;       /* node indexes in canonical order of their names (some dead) */
	uint32_t count;
} apiorder_t;

/* The order of z (current while z is the version held). TDM_OK or TDM_ENOMEM. */
int apiorder_get(zone_contents_t *z, apiorder_t *out);

/* The first position in the order whose name is at or after name (canonical order). */
uint32_t apiorder_seek(const zone_contents_t *z, const apiorder_t *o, const uint8_t *name);

/*
 * Control thread, when the HTTP API is on: makes z's order ahead on a thread of its own when z has at
 * least APIORDER_WARM_MIN names and no order of its lineage is kept (called once per lineage, when a
 * version is loaded or replaced whole); the next apiorder_get adopts it. Pins z while it works.
 */
#define APIORDER_WARM_MIN 50000
void apiorder_warm(zone_contents_t *z);

/* Drops every order kept, and waits for a warming under way (at exit). */
void apiorder_clear(void);
