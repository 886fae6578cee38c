/* api/api_call.h -- what a route handler asks of its call: the zone named, parameters, the JSON body */
#pragma once

#include "api/api_impl.h"

/* The zone of that name (text, any case, with or without the trailing dot), or NULL. */
zonert_t *api_find_zone(server_t *srv, const char *name);

/* A query parameter of the call, decoded (api_query_get): 1 found, 0 absent, -1 malformed. */
int api_param(const api_call_t *call, const char *name, char *out, size_t cap);

/* true when the query asks for a dry run (dry_run=true or 1). */
bool api_dry_run(const api_call_t *call);

/*
 * The request body as a JSON object. NULL after filling reply with 400 (not JSON, with the line and
 * column) or 415 (a Content-Type other than JSON).
 */
json_t *api_body_json(const api_call_t *call, api_reply_t *reply);
