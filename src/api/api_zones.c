/* api/api_zones.c -- zones made and changed through the API: create (empty, quick, from text, secondary), properties, delete */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <urcu.h>

#include "api/api_call.h"
#include "api/api_view.h"
#include "api/apiedit.h"
#include "api/apizone_text.h"
#include "lib/error.h"
#include "lib/log.h"
#include "provision/apizone.h"
#include "provision/autoprimary.h"
#include "provision/catproduce.h"
#include "provision/zones.h"
#include "repl/notify.h"
#include "repl/schedule.h"
#include "wire/name.h"

/*
 * An API call that makes, changes or removes a zone runs on the control thread, which alone changes
 * the zone set:
 *
 *   POST /zones     body checked whole (name, settings, data) -- nothing written before that
 *                   -> a primary's first version stored with the zone's row in one store batch
 *                      (one transaction, committed before the 201: a SIGKILL after it keeps the zone)
 *                   -> apizone_add -> zones_add: the set in force copied with the zone added and
 *                      published (the primary served from the store, NOTIFY sent; a secondary
 *                      refreshes at once) -- no pass over the other zones
 *                   -> produced catalogs written again, if the zone is in one (member_of, or the
 *                      server-wide catalog)
 *   PATCH /zones/Z  settings merged and checked -> stored -> apizone_update -> zones_rebind: the zone
 *                   bound to its new settings (a role change keeps the data: it is loaded in its new
 *                   role) -> produced catalogs written again
 *   DELETE /zones/Z row and data deleted in one batch -> apizone_drop -> zones_remove (the set copied
 *                   without it) -> its catalog written again
 */

static const char *const setting_fields[] = {
	"type", "primaries", "key", "notify", "acl", "member_of", "group", "serial_policy", "notify_delay",
};
#define NSETTINGS (sizeof(setting_fields) / sizeof(setting_fields[0]))

static bool is_setting(const char *k)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(k, setting_fields[i]) == 0)
			return true;
	return false;
}

/* 422 naming the field. */
static void invalid(api_reply_t *reply, const char *field, const char *why, json_t *problems)
{
	api_error(reply, 422, "%s", why);
	if (reply->body == NULL)
		return;
	json_object_set_new(reply->body, "field", json_string(field));
	if (problems != NULL)
		json_object_set(reply->body, "problems", problems);
}

/* 201/200 with the zone as GET /zones/{zone} shows it, and its ETag. */
static void reply_zone(server_t *srv, const char *name, int status, api_reply_t *reply)
{
	rcu_read_lock();
	zonert_t *zr = api_find_zone(srv, name);
	if (zr != NULL) {
		reply->body = api_zone_detail(zr);
		api_zone_etag(zr, reply->etag);
		reply->status = status;
	}
	rcu_read_unlock();
	if (zr == NULL)
		api_error(reply, 500, "%s was stored but is not in the zone set (see the log)", name);
}

/* Who owns a zone that is not the API's: 409 naming the file and line, or the catalog. */
static bool not_ours(const api_call_t *call, const char *what, api_reply_t *reply)
{
	const conf_zone_t *cz = call->zr->conf;
	if (cz->origin != NULL && strcmp(cz->origin, APIZONE_ORIGIN) == 0)
		return false;
	if (cz->origin == NULL)
		api_error(reply, 409, "%s is configured in %s:%d: %s it there and reload",
		          call->zr->name, call->srv->rc->conf->path, cz->line, what);
	else
		api_error(reply, 409, "%s comes from %s, which decides its settings", call->zr->name,
		          cz->origin);
	return true;
}

/* Produced catalogs follow the API zones' member_of (and the server-wide catalog): the catalog a
 * zone was in and the one it is in now change for that member alone. was: copied before the zone's
 * settings changed or went (NULL or "": none). */
static void catalogs_follow(server_t *srv, const char *zone, const char *was, const conf_zone_t *now)
{
	const char *names[2] = { was != NULL && was[0] != '\0' ? was : NULL,
	                         now != NULL ? catproduce_of(srv->rc->conf, now) : NULL };
	if (names[0] != NULL || names[1] != NULL)
		catproduce_member(srv, zone, names, 2);
}

/* The catalog a zone's settings make it a member of, copied into of ("" when none). */
static void catalog_copy(server_t *srv, const conf_zone_t *cz, char of[NAME_TEXT_MAX])
{
	const char *name = cz != NULL ? catproduce_of(srv->rc->conf, cz) : NULL;
	snprintf(of, NAME_TEXT_MAX, "%s", name != NULL ? name : "");
}

/* ---- POST /zones ---- */

/* The primary's first version from the body: quick, soa + nameservers, or zonefile (exactly one). */
static int primary_data(server_t *srv, const char *name, json_t *body, int policy, rrlist_t **list,
                        api_reply_t *reply)
{
	json_t *quick = json_object_get(body, "quick"), *text = json_object_get(body, "zonefile");
	json_t *soa = json_object_get(body, "soa"), *ns = json_object_get(body, "nameservers");
	int kinds = (quick != NULL) + (text != NULL) + (soa != NULL || ns != NULL);
	apizone_text_error_t err = { .problems = NULL };
	char *zone_text = NULL;
	zone_contents_t *z = NULL;
	if (kinds != 1) {
		invalid(reply, "quick", kinds == 0
		        ? "a primary zone needs its data: quick, zonefile, or soa and nameservers"
		        : "give one of quick, zonefile, or soa and nameservers", NULL);
		return TDM_EINVAL;
	}
	int ret;
	if (quick != NULL)
		ret = apizone_text_quick(name, quick, policy, &zone_text, &err);
	else if (text == NULL)
		ret = apizone_text_empty(name, soa, ns, policy, &zone_text, &err);
	else if (!json_is_string(text))
		ret = (snprintf(err.field, sizeof(err.field), "zonefile"),
		       snprintf(err.why, sizeof(err.why), "zonefile: the zone's text as a string"),
		       TDM_EINVAL);
	else
		ret = TDM_OK;
	if (ret == TDM_OK) {
		const char *t = zone_text != NULL ? zone_text : json_string_value(text);
		size_t len = zone_text != NULL ? strlen(zone_text) : json_string_length(text);
		ret = apizone_text_parse(srv->rc->conf->server.data_dir, name, t, len, list, &z, &err);
		/* Text we wrote ourselves must pass: if it does not, say which field fed it. */
		if (ret == TDM_EINVAL && zone_text != NULL)
			snprintf(err.field, sizeof(err.field), "%s", quick != NULL ? "quick" : "soa");
	}
	if (ret == TDM_EINVAL)
		invalid(reply, err.field, err.why, err.problems);
	else if (ret != TDM_OK)
		api_error(reply, 500, "%s: the zone's data could not be read (%s)", name,
		          tdm_strerror(ret));
	zone_contents_free(z);
	json_decref(err.problems);
	free(zone_text);
	return ret;
}

/* The zone's settings from the body: every setting field, checked against the configuration. */
static json_t *settings_of(server_t *srv, json_t *body, api_reply_t *reply)
{
	json_t *s = json_object();
	const char *k;
	json_t *v;
	if (s == NULL)
		return NULL;
	json_object_foreach(body, k, v) {
		if (is_setting(k))
			json_object_set(s, k, v);
	}
	char field[64], why[256];
	int ret = apizone_settings_check(srv, s, field, sizeof(field), why, sizeof(why));
	if (ret != TDM_OK) {
		if (ret == TDM_EINVAL)
			invalid(reply, field, why, NULL);
		json_decref(s);
		return NULL;
	}
	return s;
}

/* Stores a new zone: its row and (a primary) its first version, in one transaction. */
static int store_new(server_t *srv, const char *name, const json_t *settings, rrlist_t *list,
                     int64_t now)
{
	char *text = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL)
		return TDM_ENOMEM;
	int ret = store_batch_begin(srv->store);
	if (ret != TDM_OK) {
		free(text);
		return ret;
	}
	if (list != NULL) {
		store_zone_meta_t meta = { .updated = now };
		for (size_t i = 0; i < rrlist_count(list); i++) {
			const rr_t *rr = rrlist_at(list, i);
			if (rr->type == 6 && rr->rdlen >= 20)
				meta.serial = ((uint32_t)rr->rdata[rr->rdlen - 20] << 24) |
				              ((uint32_t)rr->rdata[rr->rdlen - 19] << 16) |
				              ((uint32_t)rr->rdata[rr->rdlen - 18] << 8) |
				              rr->rdata[rr->rdlen - 17];
		}
		snprintf(meta.source, sizeof(meta.source), APIZONE_ORIGIN);
		ret = store_zone_commit(srv->store, name, list, &meta, NULL,
		                        srv->rc->conf->server.journal_max_entries);
	}
	if (ret == TDM_OK)
		ret = store_apizone_set(srv->store, name, text, now);
	if (ret == TDM_OK)
		ret = store_batch_commit(srv->store);
	else
		store_batch_abort(srv->store);
	free(text);
	return ret;
}

static void create(const api_call_t *call, json_t *body, api_reply_t *reply)
{
	server_t *srv = call->srv;
	const char *k;
	json_t *v, *settings = NULL;
	rrlist_t *list = NULL;
	json_object_foreach(body, k, v) {
		if (!is_setting(k) && strcmp(k, "name") != 0 && strcmp(k, "quick") != 0 &&
		    strcmp(k, "zonefile") != 0 && strcmp(k, "soa") != 0 && strcmp(k, "nameservers") != 0) {
			char why[300];
			snprintf(why, sizeof(why), "%s: unknown field", k);
			return invalid(reply, k, why, NULL);
		}
	}
	json_t *jname = json_object_get(body, "name");
	uint8_t wire[NAME_MAXLEN];
	char name[NAME_TEXT_MAX];
	if (!json_is_string(jname) || name_from_text(json_string_value(jname), NULL, wire) <= 1)
		return invalid(reply, "name", "name: a zone name (example.com), not the root", NULL);
	name_copy_lower(wire, wire);
	name_to_text(wire, name, sizeof(name));
	if (!api_principal_zone_ok(call->req->principal, name))
		return api_error(reply, 403, "the key %s may not touch %s", call->req->principal->name,
		                 name);
	zonert_t *there = api_find_zone(srv, name);
	if (there != NULL)
		return api_error(reply, 409, "%s exists already (%s)", name,
		                 there->conf->origin != NULL ? there->conf->origin : "configuration file");
	if ((settings = settings_of(srv, body, reply)) == NULL)
		return;
	bool primary = strcmp(json_string_value(json_object_get(settings, "type")), "primary") == 0;
	if (!primary) {
		static const char *const data[] = { "quick", "zonefile", "soa", "nameservers" };
		for (size_t i = 0; i < 4; i++) {
			if (json_object_get(body, data[i]) == NULL)
				continue;
			char why[128];
			snprintf(why, sizeof(why), "%s: a secondary zone gets its data from its primaries",
			         data[i]);
			json_decref(settings);
			return invalid(reply, data[i], why, NULL);
		}
	}
	conf_zone_t policy_of = { 0 };
	const char *pol = json_string_value(json_object_get(settings, "serial_policy"));
	policy_of.serial_policy = strcmp(pol, "unixtime") == 0 ? CONF_SERIAL_UNIXTIME
	                          : strcmp(pol, "dateserial") == 0 ? CONF_SERIAL_DATESERIAL
	                          : CONF_SERIAL_INCREMENT;
	if (primary && primary_data(srv, name, body, (int)policy_of.serial_policy, &list, reply) !=
	               TDM_OK) {
		json_decref(settings);
		return;
	}
	int64_t now = (int64_t)time(NULL);
	int ret = store_new(srv, name, settings, list, now);
	rrlist_free(list);
	if (ret != TDM_OK) {
		json_decref(settings);
		return api_error(reply, ret == TDM_ESTORE ? 503 : 500, "%s not created: the store "
		                 "refused it (%s)", name, tdm_strerror(ret));
	}
	/* Stored: from here the zone exists (a restart would serve it). */
	const conf_zone_t *cz = NULL;
	ret = apizone_add(srv, name, settings, now, &cz);
	json_decref(settings);
	if (ret == TDM_OK)
		ret = zones_add(srv, cz);
	if (ret != TDM_OK)
		return api_error(reply, 500, "%s stored, but not served yet (%s): a restart serves it",
		                 name, tdm_strerror(ret));
	log_info("%s: created through the API by key %s (%s)", name, call->req->principal->name,
	         primary ? "primary" : "secondary");
	catalogs_follow(srv, name, NULL, cz);
	reply_zone(srv, name, 201, reply);
}

static void route_create(const api_call_t *call, api_reply_t *reply)
{
	json_t *body = api_body_json(call, reply);
	if (body == NULL)
		return;
	create(call, body, reply);
	json_decref(body);
}

/* ---- PATCH /zones/{zone} ---- */

static void patch(const api_call_t *call, json_t *body, api_reply_t *reply)
{
	server_t *srv = call->srv;
	zonert_t *zr = call->zr;
	const char *k;
	json_t *v;
	json_object_foreach(body, k, v) {
		if (!is_setting(k)) {
			char why[300];
			snprintf(why, sizeof(why), "%s: not a zone property (type, primaries, key, notify, "
			         "acl, member_of, group, serial_policy, notify_delay)", k);
			return invalid(reply, k, why, NULL);
		}
	}
	apizone_t *az = apizone_of(zr);
	if (az == NULL)
		return api_error(reply, 404, "no zone %s made through the API", zr->name);
	json_t *s = json_deep_copy(apizone_settings(az));
	if (s == NULL || json_object_update(s, body) != 0) {
		json_decref(s);
		return api_error(reply, 500, "out of memory");
	}
	char field[64], why[256];
	int ret = apizone_settings_check(srv, s, field, sizeof(field), why, sizeof(why));
	if (ret != TDM_OK) {
		json_decref(s);
		if (ret == TDM_EINVAL)
			return invalid(reply, field, why, NULL);
		return api_error(reply, 500, "out of memory");
	}
	bool to_primary = strcmp(json_string_value(json_object_get(s, "type")), "primary") == 0;
	bool was_primary = zr->conf->type == CONF_ZONE_PRIMARY;
	rcu_read_lock();
	bool has_data = zone_contents(zr->zone) != NULL;
	rcu_read_unlock();
	if (to_primary && !was_primary && !has_data) {
		json_decref(s);
		return api_error(reply, 409, "%s has no data yet (never transferred): a primary needs "
		                 "data; wait for a transfer, or delete and create it", zr->name);
	}
	char *text = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
	ret = text != NULL ? store_apizone_set(srv->store, zr->name, text, apizone_created(az))
	                   : TDM_ENOMEM;
	free(text);
	if (ret != TDM_OK) {
		json_decref(s);
		return api_error(reply, ret == TDM_ESTORE ? 503 : 500, "%s not changed: %s", zr->name,
		                 tdm_strerror(ret));
	}
	char was[NAME_TEXT_MAX];
	catalog_copy(srv, zr->conf, was);
	ret = apizone_update(srv, az, s);
	json_decref(s);
	char name[NAME_TEXT_MAX];
	snprintf(name, sizeof(name), "%s", zr->name);
	if (ret == TDM_OK)
		ret = zones_rebind(srv, zr, apizone_conf(az));
	if (ret != TDM_OK)
		return api_error(reply, 500, "%s: settings stored but not applied (%s): a restart applies "
		                 "them", name, tdm_strerror(ret));
	log_info("%s: settings changed through the API by key %s%s", name, call->req->principal->name,
	         to_primary != was_primary ? (to_primary ? ", now primary" : ", now secondary") : "");
	catalogs_follow(srv, name, was, apizone_conf(az));
	/* New primaries or key: ask them now; a primary tells its (maybe new) secondaries. */
	rcu_read_lock();
	zonert_t *now = api_find_zone(srv, name);
	rcu_read_unlock();
	if (now != NULL && now->conf->type == CONF_ZONE_SECONDARY && to_primary == was_primary)
		schedule_refresh(srv, now);
	else if (now != NULL && now->conf->type == CONF_ZONE_PRIMARY && now->conf->notify_count > 0)
		notify_zone(srv, now);
	reply_zone(srv, name, 200, reply);
}

static void route_patch(const api_call_t *call, api_reply_t *reply)
{
	if (not_ours(call, "change", reply))
		return;
	json_t *body = api_body_json(call, reply);
	if (body == NULL)
		return;
	patch(call, body, reply);
	json_decref(body);
}

/* ---- DELETE /zones/{zone} ---- */

static int store_gone(server_t *srv, const char *name)
{
	int ret = store_batch_begin(srv->store);
	if (ret != TDM_OK)
		return ret;
	ret = store_apizone_delete(srv->store, name);
	if (ret == TDM_OK) {
		int del = store_zone_delete(srv->store, name);
		if (del != TDM_OK && del != TDM_ENOENT)
			ret = del;
	}
	if (ret == TDM_OK)
		return store_batch_commit(srv->store);
	store_batch_abort(srv->store);
	return ret;
}

/* Removing a zone waits for readers (synchronize_rcu): never inside a read section. */
static void route_delete(const api_call_t *call, api_reply_t *reply)
{
	server_t *srv = call->srv;
	const conf_zone_t *cz = call->zr->conf;
	char name[NAME_TEXT_MAX];
	snprintf(name, sizeof(name), "%s", call->zr->name);
	if (cz->origin == NULL)
		return api_error(reply, 409, "%s is configured in %s:%d: remove it there and reload", name,
		                 srv->rc->conf->path, cz->line);
	if (strcmp(cz->origin, APIZONE_ORIGIN) == 0) {
		apizone_t *az = apizone_of(call->zr);
		int ret = az != NULL ? store_gone(srv, name) : TDM_ENOENT;
		if (ret == TDM_ENOENT)
			return api_error(reply, 404, "no zone %s", name);
		if (ret != TDM_OK)
			return api_error(reply, ret == TDM_ESTORE ? 503 : 500, "%s not removed: %s", name,
			                 tdm_strerror(ret));
		char was[NAME_TEXT_MAX];
		catalog_copy(srv, cz, was);
		apizone_drop(srv, az);
		log_info("%s: removed through the API by key %s", name, call->req->principal->name);
		if (zones_remove(srv, call->zr) != TDM_OK)
			zones_rebuild(srv);
		catalogs_follow(srv, name, was, NULL);
		reply->body = json_pack("{s:s}", "result", "removed");
		return;
	}
	/* Zones a super-primary made; a catalog's members belong to their catalog. */
	int ret = autoprimary_remove(srv, name);
	if (ret == TDM_EEXIST)
		return api_error(reply, 409, "%s comes from %s: remove it from that catalog", name,
		                 cz->origin);
	if (ret != TDM_OK)
		return api_error(reply, 404, "no zone %s", name);
	reply->body = json_pack("{s:s}", "result", "removed");
}

const api_route_t api_routes_zones[] = {
	{ "POST", "zones", route_create },
	{ "PATCH", "zones/{zone}", route_patch },
	{ "DELETE", "zones/{zone}", route_delete },
	{ NULL, NULL, NULL },
};
