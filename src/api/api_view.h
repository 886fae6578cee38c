/* api/api_view.h -- zones as the API shows them: list lines, details, ETags */
#pragma once

#include <jansson.h>

#include "api/api_impl.h"

/* A unix time as JSON, null for 0 (never). */
json_t *api_time_json(int64_t t);

/* One line of the zone list (name, type, serial, records, state, source). */
json_t *api_zone_summary(zonert_t *zr);

/* One zone as GET /zones/{zone} shows it (inside an RCU read section). */
json_t *api_zone_detail(zonert_t *zr);

/*
 * The ETag of a zone's answers: "SERIAL-X" (quotes included), X a keyed hash of
 * the serial, the record count and the records' octets (api/apiedit.c apiedit_etag), the same
 * after a restart. A zone with no data has "0-0000000000000000".
 */
void api_zone_etag(zonert_t *zr, char out[API_ETAG_MAX + 1]);
