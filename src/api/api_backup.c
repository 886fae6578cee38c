/* api/api_backup.c -- POST /api/v1/backup: a consistent copy of the store, taken while serving */
#include <stdio.h>

#include "api/api_call.h"
#include "lib/error.h"
#include "store/store.h"

/*
 * POST /backup?file=/ABSOLUTE/PATH: the server writes the copy itself (store_backup: VACUUM INTO
 * from a snapshot, the server's writes go on meanwhile), as its own user, on its own machine, and
 * never over an existing file. The copy holds every zone: only a key allowed every zone may ask.
 * The call returns when the copy is written and synced; the control thread waits for it (queries,
 * transfers and UPDATEs run on other threads and go on).
 */
static void route_backup(const api_call_t *call, api_reply_t *reply)
{
	char path[4096], msg[4400];
	int64_t bytes = 0;
	if (call->req->principal->zones != NULL)
		return api_error(reply, 403, "the key %s is limited to some zones: a backup holds them all",
		                 call->req->principal->name);
	int got = api_param(call, "file", path, sizeof(path));
	if (got != 1)
		return api_error(reply, 400, got < 0 ? "the file parameter is malformed or too long" :
		                 "say where to write the backup: ?file=/ABSOLUTE/PATH");
	int ret = store_backup(call->srv->store, path, &bytes, msg, sizeof(msg));
	if (ret == TDM_EEXIST)
		return api_error(reply, 409, "%s", msg);
	if (ret == TDM_EINVAL || ret == -ENOENT || ret == -ENOTDIR || ret == -ENAMETOOLONG)
		return api_error(reply, 400, "%s", msg);
	if (ret != TDM_OK)
		return api_error(reply, 500, "%s", msg);
	reply->status = 201;
	reply->body = json_pack("{s:s, s:I, s:i}", "file", path, "bytes", (json_int_t)bytes,
	                        "schema_version", store_schema_version());
}

const api_route_t api_routes_backup[] = {
	{ "POST", "backup", route_backup },
	{ NULL, NULL, NULL },
};
