/* server/api.c -- the API's answers: status, zones and their replication view, zone actions */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "api/http.h"
#include "lib/error.h"
#include "lib/log.h"
#include "rrl/rrl.h"
#include "server/api.h"
#include "catalog/catalog.h"
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
static json_t *zone_summary(zonert_t *zr)
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

static json_t *zone_detail(zonert_t *zr)
{
	json_t *j = zone_summary(zr);
	const zone_contents_t *z = zone_contents(zr->zone);
	if (j == NULL)
		return NULL;
	if (zr->conf->type == CONF_ZONE_SECONDARY)
		json_object_set_new(j, "secondary", secondary_json(zr));
	json_t *cat = catalog_json(zr);
	if (cat != NULL)
		json_object_set_new(j, "catalog", cat);
	json_object_set_new(j, "primary", primary_json(zr, z));
	return j;
}

static zonert_t *find(server_t *srv, const char *name)
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

static void get_zones(server_t *srv, api_reply_t *reply)
{
	json_t *list = json_array();
	for (size_t i = 0; list != NULL && i < zoneset_count(srv->zones); i++)
		json_array_append_new(list, zone_summary(zonert_of(zoneset_at(srv->zones, i))));
	reply->body = json_pack("{s:o}", "zones", list);
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

/* DELETE /zones/{zone}: zones a super-primary made; others belong to the file or their catalog. */
static void zone_remove(server_t *srv, zonert_t *zr, api_reply_t *reply)
{
	const char *origin = zr->conf->origin;
	if (origin == NULL)
		return api_error(reply, 409, "%s is configured in the file: remove it there and reload",
		                 zr->name);
	char name[NAME_TEXT_MAX];
	snprintf(name, sizeof(name), "%s", zr->name);
	int ret = autoprimary_remove(srv, name);
	if (ret == TDM_EEXIST)
		return api_error(reply, 409, "%s comes from %s: remove it from that catalog", name, origin);
	if (ret != TDM_OK)
		return api_error(reply, 404, "no zone %s", name);
	reply->body = json_pack("{s:s}", "result", "removed");
}

static void handle(void *ctx, const api_request_t *req, api_reply_t *reply)
{
	server_t *srv = ctx;
	const char *const *seg = req->segments;
	bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
	/* This thread publishes the zone set, so it may look at it outside a read section; removing a
	 * zone waits for readers (synchronize_rcu), which must not happen inside one. */
	if (req->nsegments == 2 && strcmp(seg[0], "zones") == 0 && strcmp(req->method, "DELETE") == 0) {
		zonert_t *zr = find(srv, seg[1]);
		if (zr == NULL)
			api_error(reply, 404, "no zone %s", seg[1]);
		else
			zone_remove(srv, zr, reply);
		return;
	}
	rcu_read_lock();
	zonert_t *zr = req->nsegments >= 2 && strcmp(seg[0], "zones") == 0 ? find(srv, seg[1]) : NULL;
	if (req->nsegments == 1 && strcmp(seg[0], "status") == 0 && get)
		get_status(srv, reply);
	else if (req->nsegments == 1 && strcmp(seg[0], "zones") == 0 && get)
		get_zones(srv, reply);
	else if (req->nsegments >= 2 && strcmp(seg[0], "zones") == 0 && zr == NULL)
		api_error(reply, 404, "no zone %s", seg[1]);
	else if (req->nsegments == 2 && zr != NULL && get)
		reply->body = zone_detail(zr);
	else if (req->nsegments == 3 && zr != NULL && post)
		zone_action(srv, zr, seg[2], reply);
	else if (req->nsegments <= 3 && (get || post))
		api_error(reply, 404, "no such path");
	else
		api_error(reply, 405, "%s is not allowed here", req->method);
	rcu_read_unlock();
	if (reply->body == NULL)
		api_error(reply, 500, "out of memory");
}

int server_api_start(server_t *srv)
{
	const conf_http_t *h = &srv->rc->conf->http;
	if (h->listen.len == 0)
		return TDM_OK;
	api_limits_t limits = { .max_clients = h->max_clients, .max_body = h->max_body,
	                        .timeout = h->timeout };
	return api_start(srv->base, &h->listen, h->api_key_file, &limits, handle, srv, &srv->api);
}
