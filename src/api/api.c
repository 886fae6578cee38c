/* api/api.c -- the API's router and its core routes: status, zone list and detail, zone actions */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <urcu.h>

#include "api/api.h"
#include "api/api_call.h"
#include "api/api_view.h"
#include "api/console.h"
#include "api/http.h"
#include "api/http_parse.h"
#include "lib/error.h"
#include "lib/log.h"
#include "provision/zones.h"
#include "repl/notify.h"
#include "repl/schedule.h"
#include "rrl/rrl.h"

#define TANDEM_VERSION "0.1.0"

static void get_status(server_t *srv, api_reply_t *reply)
{
	const conf_server_t *cs = &srv->rc->conf->server;
	json_t *listen = json_array();
	for (size_t i = 0; listen != NULL && i < cs->listen_count; i++) {
		char addr[SOCKADDR_STRLEN];
		json_array_append_new(listen, json_string(sockaddr_format(&cs->listen[i], addr,
		                                                                sizeof(addr))));
	}
	json_t *verify = json_pack("{s:I, s:o, s:I}", "interval", (json_int_t)cs->verify_interval,
	                           "last", api_time_json(srv->verify_last), "zones_checked",
	                           (json_int_t)srv->verify_zones);
	uint64_t dropped, slipped;
	rrl_stats(srv->shared.rrl, &dropped, &slipped);
	json_t *rrl = json_pack("{s:I, s:I, s:I}", "rate", (json_int_t)cs->rate_limit, "dropped",
	                        (json_int_t)dropped, "slipped", (json_int_t)slipped);
	bool failing;
	char error[256];
	int64_t error_at;
	store_health(srv->store, &failing, error, sizeof(error), &error_at);
	json_t *store = json_pack("{s:b, s:o, s:o}", "ok", !failing, "last_error",
	                          error[0] ? json_string(error) : json_null(), "last_error_at",
	                          api_time_json(error_at));
	reply->body = json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "version", TANDEM_VERSION,
	                        "uptime", (json_int_t)(time(NULL) - srv->started), "zones",
	                        (json_int_t)zoneset_count(srv->zones), "workers",
	                        (json_int_t)srv->nworkers, "listen", listen, "bulk_verification",
	                        verify, "rate_limit", rrl, "store", store);
}

/* POST /zones/{zone}/{action} */
static void zone_action(server_t *srv, zonert_t *zr, const char *action, api_reply_t *reply)
{
	bool secondary = zr->conf->type == CONF_ZONE_SECONDARY;
	reply->status = 202;
	if (strcmp(action, "notify") == 0) {
		notify_zone(srv, zr);
	} else if (strcmp(action, "refresh") == 0 || strcmp(action, "retransfer") == 0) {
		if (!secondary)
			return api_error(reply, 409, "%s is a primary zone: nothing to %s", zr->name,
			                 action);
		zr->force_axfr = strcmp(action, "retransfer") == 0;
		schedule_refresh(srv, zr);
	} else if (strcmp(action, "reload") == 0) {
		if (secondary || zr->conf->file == NULL)
			return api_error(reply, 409, "%s has no zone file to reload", zr->name);
		zones_reload_one(srv, zr);
	} else {
		return api_error(reply, 404, "no action '%s' (notify, refresh, retransfer, reload)",
		                 action);
	}
	static const struct { const char *action, *said; } said[] = {
		{ "notify", "NOTIFY sent to the zone's secondaries" },
		{ "refresh", "refresh started: SOA check, then a transfer when behind" },
		{ "retransfer", "full transfer (AXFR) started" },
		{ "reload", "zone file being read again: its change is served once it is parsed" },
	};
	for (size_t i = 0; i < sizeof(said) / sizeof(said[0]); i++)
		if (strcmp(said[i].action, action) == 0)
			reply->body = json_pack("{s:s}", "result", said[i].said);
}

/* ---- the core routes ---- */

static void route_status(const api_call_t *call, api_reply_t *reply)
{
	rcu_read_lock();
	get_status(call->srv, reply);
	rcu_read_unlock();
}

/* GET /zones: the zones the key may see. */
static void route_zones(const api_call_t *call, api_reply_t *reply)
{
	server_t *srv = call->srv;
	json_t *list = json_array();
	rcu_read_lock();
	for (size_t i = 0; list != NULL && i < zoneset_count(srv->zones); i++) {
		zonert_t *zr = zonert_of(zoneset_at(srv->zones, i));
		if (zr->conf != NULL && api_principal_zone_ok(call->req->principal, zr->name))
			json_array_append_new(list, api_zone_summary(zr));
	}
	rcu_read_unlock();
	reply->body = json_pack("{s:o}", "zones", list);
}

static void route_zone(const api_call_t *call, api_reply_t *reply)
{
	rcu_read_lock();
	reply->body = api_zone_detail(call->zr);
	if (reply->body != NULL)
		api_zone_etag(call->zr, reply->etag);
	rcu_read_unlock();
}

static void route_action(const api_call_t *call, api_reply_t *reply)
{
	zone_action(call->srv, call->zr, call->params[0], reply);
}

const api_route_t api_routes_core[] = {
	{ "GET", "status", route_status },
	{ "GET", "zones", route_zones },
	{ "GET", "zones/{zone}", route_zone },
	{ "POST", "zones/{zone}/*", route_action },
	{ NULL, NULL, NULL },
};

/* ---- the router ---- */

static const api_route_t *const route_tables[] = {
	api_routes_zones, api_routes_records, api_routes_meta, api_routes_backup, api_routes_reconfig,
	api_routes_core,   /* "*" routes last */
};

void api_routes_print(FILE *out)
{
	for (size_t t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++)
		for (const api_route_t *r = route_tables[t]; r->method != NULL; r++)
			fprintf(out, "%s /api/v1/%s\n", r->method, r->pattern);
}

/* Whether the path matches pattern; fills call's params (not the zone). */
static bool match(const char *pattern, const api_request_t *req, api_call_t *call, int *zone_at)
{
	int n = 0;
	*zone_at = -1;
	call->nparams = 0;
	for (const char *p = pattern; *p != '\0'; n++) {
		size_t len = strcspn(p, "/");
		if (n >= req->nsegments)
			return false;
		const char *seg = req->segments[n];
		if (len == 6 && strncmp(p, "{zone}", 6) == 0)
			*zone_at = n;
		else if (len == 1 && *p == '*')
			call->params[call->nparams++] = seg;
		else if (strlen(seg) != len || strncmp(p, seg, len) != 0)
			return false;
		p += len;
		if (*p == '/')
			p++;
	}
	return n == req->nsegments;
}

static void route(server_t *srv, const api_request_t *req, api_reply_t *reply)
{
	bool head = strcmp(req->method, "HEAD") == 0;
	const char *method = head ? "GET" : req->method;
	bool path_known = false;
	api_call_t call = { .srv = srv, .req = req };
	for (size_t t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++) {
		for (const api_route_t *r = route_tables[t]; r->method != NULL; r++) {
			int zone_at;
			if (!match(r->pattern, req, &call, &zone_at))
				continue;
			path_known = true;
			if (strcmp(r->method, method) != 0)
				continue;
			if (strcmp(method, "GET") != 0 && !req->principal->write)
				return api_error(reply, 403, "the key %s may only read",
				                 req->principal->name);
			if (zone_at >= 0) {
				const char *name = req->segments[zone_at];
				call.zr = api_find_zone(srv, name);
				if (call.zr == NULL)
					return api_error(reply, 404, "no zone %s", name);
				if (!api_principal_zone_ok(req->principal, call.zr->name))
					return api_error(reply, 403, "the key %s may not touch %s",
					                 req->principal->name, call.zr->name);
			}
			r->fn(&call, reply);
			return;
		}
	}
	if (path_known)
		api_error(reply, 405, "%s is not allowed here", req->method);
	else
		api_error(reply, 404, "no such path");
}

static void handle(void *ctx, const api_request_t *req, api_reply_t *reply)
{
	server_t *srv = ctx;
	route(srv, req, reply);
	if (reply->later)
		return;   /* the handler answers later (api_reply_later) */
	if (reply->body == NULL && reply->text == NULL)
		api_error(reply, 500, "out of memory");
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		char path[256] = "";
		for (int i = 0; i < req->nsegments; i++) {
			size_t n = strlen(path);
			snprintf(path + n, sizeof(path) - n, "/%s", req->segments[i]);
		}
		log_info("API: %s %s by key %s from %s: %d", req->method, path, req->principal->name,
		         req->peer, reply->status);
	}
}

int server_api_start(server_t *srv)
{
	const conf_http_t *h = &srv->rc->conf->http;
	if (h->listen.len == 0)
		return TDM_OK;
	api_limits_t limits = { .max_clients = h->max_clients, .max_body = h->max_body,
	                        .timeout = h->timeout };
	int ret = api_start(srv->base, &h->listen, h->api_key_file, &limits, handle, srv, &srv->api);
	if (ret == TDM_OK)
		api_set_static(srv->api, console_serve);   /* the web console at / (docs/console.md) */
	return ret;
}
