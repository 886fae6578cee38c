/* api/api_reconfig.c -- POST /api/v1/reconfig: the configuration file read again, zone files left alone */
#include "api/api_call.h"
#include "lib/error.h"

/*
 * POST /reconfig: the server reads its configuration file again and applies it as SIGHUP does, except
 * that the zone files of the zones it keeps are not looked at (server_reconfig, called through
 * server_t.reconfig: the API may not call up into server/). A zone added to the file is loaded, a zone
 * gone from it removed with its data, a zone whose role or zone file changed loaded again. The cost is
 * the configuration's parse and the zones that changed, where a SIGHUP also stats every zone file.
 * It changes every zone's settings: only a key allowed every zone may ask. A configuration that does not
 * load changes nothing (422; its problems, each with file and line, are in the server's log and
 * printed by `tandemd --check`).
 */
static void route_reconfig(const api_call_t *call, api_reply_t *reply)
{
	server_t *srv = call->srv;
	if (call->req->principal->zones != NULL)
		return api_error(reply, 403, "the key %s is limited to some zones: the configuration holds "
		                 "them all", call->req->principal->name);
	if (srv->reconfig == NULL)
		return api_error(reply, 500, "this server cannot be reconfigured");
	if (srv->conf_path == NULL)
		return api_error(reply, 409, "the server runs on its embedded configuration: there is no "
		                 "file to read again (start it with -c FILE)");
	reconfig_result_t r;
	int ret = srv->reconfig(srv, &r);
	if (ret == TDM_ENOMEM)
		return api_error(reply, 500, "out of memory: the running configuration is kept");
	if (ret != TDM_OK)
		return api_error(reply, 422, "%s not loaded (%s): the running configuration is kept; its "
		                 "problems are in the server's log, and `tandemd --check -c %s` prints them",
		                 srv->conf_path, tdm_strerror(ret), srv->conf_path);
	reply->body = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I}", "file", srv->conf_path,
	                        "unchanged", r.unchanged, "zones", (json_int_t)r.zones,
	                        "added", (json_int_t)r.added, "removed", (json_int_t)r.removed,
	                        "loaded", (json_int_t)r.loaded);
}

const api_route_t api_routes_reconfig[] = {
	{ "POST", "reconfig", route_reconfig },
	{ NULL, NULL, NULL },
};
