/* api/api_call.c -- what a route handler asks of its call: the zone named, parameters, the JSON body */
#include <string.h>
#include <strings.h>

#include "api/api_call.h"
#include "api/http_parse.h"
#include "provision/zones.h"

zonert_t *api_find_zone(server_t *srv, const char *name)
{
	zonert_t *zr = zones_find(srv, name);
	return zr != NULL && zr->conf != NULL ? zr : NULL;
}

int api_param(const api_call_t *call, const char *name, char *out, size_t cap)
{
	return api_query_get(call->req->query, name, out, cap);
}

bool api_dry_run(const api_call_t *call)
{
	char v[8];
	return api_param(call, "dry_run", v, sizeof(v)) == 1 &&
	       (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

json_t *api_body_json(const api_call_t *call, api_reply_t *reply)
{
	const char *type = call->req->content_type;
	if (type != NULL && strncasecmp(type, "application/json", 16) != 0) {
		api_error(reply, 415, "send JSON (Content-Type: application/json), not %s", type);
		return NULL;
	}
	json_error_t err;
	json_t *j = json_loadb(call->req->body, call->req->body_len, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL) {
		api_error(reply, 400, "the body is not JSON: line %d, column %d: %s", err.line,
		          err.column, err.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		api_error(reply, 400, "the body must be a JSON object");
		return NULL;
	}
	return j;
}
