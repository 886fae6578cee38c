/* server/api.c -- the API's answers: status, zones and their replication view, zone actions */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <urcu.h>

#include "api/http.h"
#include "api/http_parse.h"
#include "server/api_impl.h"
#include "lib/error.h"
#include "lib/log.h"
#include "rrl/rrl.h"
#include "server/api.h"
#include "catalog/catalog.h"
#include "console/console.h"
#include "server/catconsume.h"
#include "server/control.h"
#include "server/zones.h"
#include "wire/name.h"

#define TANDEM_VERSION "0.1.0"

static json_t *time_or_null(int64_t t)
{
	return t != 0 ? json_integer(t) : json_null();
}

static const char *state_of(zonert_t *zr, const zone_contents_t *z)
{
	if (z == NULL)
		return "empty";
	return zone_expired(zr->zone) ? "expired" : "ok";
}

static json_t *remotes_json(const conf_remote_t *const *list, size_t count)
{
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && i < count; i++) {
		for (size_t j = 0; j < list[i]->address_count; j++) {
			char addr[SOCKADDR_STRLEN], text[SOCKADDR_STRLEN + 300];
			sockaddr_format(&list[i]->addresses[j], addr, sizeof(addr));
			snprintf(text, sizeof(text), "%s %s", list[i]->name, addr);
			json_array_append_new(a, json_string(text));
		}
	}
	return a;
}

/* One line of zone list: name, type, serial, records, state, source. */
json_t *api_zone_summary(zonert_t *zr)
{
	const conf_zone_t *cz = zr->conf;
	const zone_contents_t *z = zone_contents(zr->zone);
	return json_pack("{s:s, s:s, s:o, s:I, s:s, s:s}", "name", zr->name, "type",
	                 cz != NULL && cz->type == CONF_ZONE_SECONDARY ? "secondary" : "primary",
	                 "serial", z != NULL ? json_integer(zone_serial(z)) : json_null(), "records",
	                 (json_int_t)(z != NULL ? zone_record_count(z) : 0), "state", state_of(zr, z),
	                 "source", cz != NULL && cz->origin != NULL ? cz->origin : "config");
}

static json_t *secondary_json(zonert_t *zr)
{
	const conf_zone_t *cz = zr->conf;
	pthread_mutex_lock(&zr->lock);
	store_state_t st = zr->state;
	pthread_mutex_unlock(&zr->lock);
	int64_t now = (int64_t)time(NULL);
	return json_pack("{s:o, s:s, s:o, s:s, s:o, s:o, s:o}", "primaries",
	                 remotes_json((const conf_remote_t *const *)cz->primaries, cz->primary_count),
	                 "primary_used", st.primary, "last_refresh", time_or_null(st.last_refresh),
	                 "last_result", st.last_result, "next_refresh", time_or_null(st.refresh_at),
	                 "expires_at", time_or_null(st.expire_at), "expires_in",
	                 st.expire_at != 0 ? json_integer(st.expire_at - now) : json_null());
}

static json_t *peer_json(const zonert_peer_t *p, const zone_contents_t *z)
{
	char addr[SOCKADDR_STRLEN];
	sockaddr_format(&p->addr, addr, sizeof(addr));
	addr[strcspn(addr, "@")] = '\0';
	json_t *lag = json_null(), *serial = json_null();
	if (p->serial_known) {
		serial = json_integer(p->serial);
		if (z != NULL)
			lag = json_integer((int64_t)(uint32_t)(zone_serial(z) - p->serial));
	}
	return json_pack("{s:s, s:o, s:o, s:I, s:s, s:o, s:o}", "address", addr, "serial", serial,
	                 "lag", lag, "last_seen", (json_int_t)p->last_seen, "seen_by", p->seen_by,
	                 "last_transfer", time_or_null(p->last_xfr), "last_transfer_type",
	                 p->last_xfr ? json_string(p->last_xfr_type) : json_null());
}

static json_t *primary_json(zonert_t *zr, const zone_contents_t *z)
{
	const conf_zone_t *cz = zr->conf;
	json_t *peers = json_array();
	pthread_mutex_lock(&zr->lock);
	for (int i = 0; peers != NULL && i < zr->npeers; i++)
		json_array_append_new(peers, peer_json(&zr->peers[i], z));
	pthread_mutex_unlock(&zr->lock);
	return json_pack("{s:o, s:o}", "notify",
	                 remotes_json((const conf_remote_t *const *)cz->notify, cz->notify_count),
	                 "secondaries", peers);
}

/* Catalog membership: as a member we consume, as a member we list, or as a catalog itself. */
static json_t *catalog_json(zonert_t *zr)
{
	const conf_zone_t *cz = zr->conf;
	const char *catalog, *id, *group;
	if (catalog_member_info(zr->srv, zr->name, &catalog, &id, &group))
		return json_pack("{s:s, s:s, s:s, s:s}", "role", "member (consumed)", "catalog", catalog,
		                 "member_id", id, "group", group);
	if (cz->member_of != NULL) {
		char mid[CATALOG_ID_MAX];
		catalog_member_id(zone_name(zr->zone), mid);
		return json_pack("{s:s, s:s, s:s, s:s}", "role", "member (produced)", "catalog",
		                 cz->member_of, "member_id", mid, "group", cz->group ? cz->group : "");
	}
	if (cz->catalog != CONF_CATALOG_NONE)
		return json_pack("{s:s}", "role", cz->catalog == CONF_CATALOG_PRODUCE ?
		                                  "catalog (produced here)" : "catalog (consumed here)");
	return NULL;
}

json_t *api_zone_detail(zonert_t *zr)
{
	json_t *j = api_zone_summary(zr);
	const zone_contents_t *z = zone_contents(zr->zone);
	if (j == NULL)
		return NULL;
	if (zr->conf->type == CONF_ZONE_SECONDARY)
		json_object_set_new(j, "secondary", secondary_json(zr));
	json_t *cat = catalog_json(zr);
	if (cat != NULL)
		json_object_set_new(j, "catalog", cat);
	json_object_set_new(j, "primary", primary_json(zr, z));
	api_zone_detail_settings(zr, j);
	return j;
}

zonert_t *api_find_zone(server_t *srv, const char *name)
{
	uint8_t wire[NAME_MAXLEN];
	int len = name_from_text(name, NULL, wire);
	if (len < 0)
		return NULL;
	name_copy_lower(wire, wire);
	zone_t *zone = zoneset_find_exact(srv->zones, wire, len);
	return zone != NULL && zonert_of(zone)->conf != NULL ? zonert_of(zone) : NULL;
}

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
	                           "last", time_or_null(srv->verify_last), "zones_checked",
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
	                          time_or_null(error_at));
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
		control_refresh(srv, zr);
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
		{ "reload", "zone file read again" },
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

/* ---- helpers for the route modules ---- */

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

/* ---- the router ---- */

static const api_route_t *const route_tables[] = {
	api_routes_zones, api_routes_records, api_routes_meta, api_routes_backup,
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
