/* api/apipatch.h -- RRset operations of the API (PATCH, POST of records) turned into a change */
#pragma once

#include <stdbool.h>

#include "api/apiedit.h"

#define APIPATCH_RRSETS_MAX 1000   /* operations in one PATCH */

typedef struct apipatch apipatch_t;

/*
 * Reads the operations -- PATCH's {"rrsets": [{"name", "type", "ttl", "changetype", "records"}]}, or
 * with post a POST's {"name", "type", "ttl", "rdata": [..]} (an "add") -- and applies them in order
 * to working copies of the RRsets of z they name. Returns the state (free with apipatch_free), or
 * NULL after filling reply: 422 {"error", "field": "rrsets[2].records[0]"} (the name, type, TTL,
 * changetype or record data that is wrong), 500 when out of memory.
 */
apipatch_t *apipatch_read(const zone_contents_t *z, const json_t *body, bool post, api_reply_t *reply);

/* The change the operations make: removed and added records (new lists, taken by the caller). */
int apipatch_diff(const apipatch_t *p, rrlist_t **removed, rrlist_t **added);

/* For apiedit_opts_t.blame: the operation that last touched owner ("rrsets[2]", "name" for POST). */
const char *apipatch_blame(void *p, const uint8_t *owner, uint16_t type);

void apipatch_free(apipatch_t *p);
