/* api/apiedit.h -- a change asked through the API, from the checks before it to its commit */
#pragma once

#include <stdbool.h>

#include "api/api_impl.h"
#include "zone/contents.h"
#include "zone/rrlist.h"

/*
 * DESIGN. Every API write (PATCH and POST of records, PUT of the zone text, a revert) runs the same
 * steps on the control thread:
 *
 *   apiedit_begin: primary, not a catalog we write, unsigned (409 otherwise) -> the zone's write lock
 *     (the one an UPDATE takes; waited for at most APIEDIT_LOCK_MS, else 503) -> If-Match against
 *     the version served (412) -> the route turns its request into removed / added records against
 *     that version (422 naming the field when it cannot) -> apiedit_finish: the SOA with the serial
 *     the zone's serial-policy gives, the next version made and checked (a CNAME beside other data,
 *     the apex NS), then either the dry run's answer or change_commit (store first), publication,
 *     NOTIFY, the zone file written back -> apiedit_end unlocks.
 *
 * A write never holds the lock across anything but its own work, so UPDATEs and API writes to one
 * zone take turns: none is lost, and no version has two SOAs.
 */

#define APIEDIT_LOCK_MS 2000

/* The ETag of a version: "SERIAL-HASH", HASH a keyed hash of the serial, the record count and the
 * octets of the records (enough to tell versions apart without reading them). */
void apiedit_etag(const zone_contents_t *z, char out[API_ETAG_MAX + 1]);

/* Whether an If-Match header value (NULL: none) allows a write to z: absent, "*", or one of its
 * comma-separated tags equal to z's ETag. */
bool apiedit_if_match(const char *if_match, const zone_contents_t *z);

/* The checks before a write and the write lock. Returns the version served (under the lock; it
 * cannot change until apiedit_end), or NULL after filling reply (409, 412, 503). */
const zone_contents_t *apiedit_begin(const api_call_t *call, api_reply_t *reply);
void apiedit_end(const api_call_t *call);

/* Names the request field that brought a record of owner into the change (for a 422): "rrsets[2]".
 * NULL: none known. */
typedef const char *(*apiedit_blame_fn)(void *ctx, const uint8_t *owner, uint16_t type);

typedef struct {
	bool keep_newer_serial;        /* an added SOA whose serial is after the current one keeps it */
	apiedit_blame_fn blame;
	void *blame_ctx;
	const char *what;              /* for the log: "PATCH", "zone text", "revert of change 12" */
} apiedit_opts_t;

/*
 * Finishes a write begun by apiedit_begin: removed and added (records of z, SOA among them or not;
 * both lists may be changed) become the change, with the SOA's serial from the zone's serial-policy.
 * Answers 200 with {"changed", "dry_run", "serial_from", "serial", "removed", "added", "notify"} and
 * the new ETag, or 422 / 500 with nothing changed.
 */
void apiedit_finish(const api_call_t *call, const zone_contents_t *z, rrlist_t *removed,
                    rrlist_t *added, const apiedit_opts_t *opts, api_reply_t *reply);

/* Records as master-file lines ("www.example.com. 300 IN A 192.0.2.1"), a JSON array; NULL on OOM. */
json_t *apiedit_records_json(const rrlist_t *list);

/* One record's line into out (cap octets). Returns its length or an error (TDM_ESPACE). */
int apiedit_record_text(const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                        uint16_t rdlen, char *out, size_t cap);

/* Whether z holds the record (owner lowercase; the TTL not compared). */
bool apiedit_has(const zone_contents_t *z, const uint8_t *owner, uint16_t type, const uint8_t *rdata,
                 uint16_t rdlen);
