/* api/api_view.c -- zones as the API shows them: list lines, details, ETags */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api_view.h"
#include "api/apiedit.h"
#include "catalog/catalog.h"
#include "provision/apizone.h"
#include "provision/dynzone.h"

void api_zone_etag(zonert_t *zr, char out[API_ETAG_MAX + 1])
{
	const zone_contents_t *z = zone_contents(zr->zone);
	if (z != NULL)
		apiedit_etag(z, out);
	else
		snprintf(out, API_ETAG_MAX + 1, "\"0-0000000000000000\"");
}

/* A zone made through the API shows its settings in its detail. */
static void detail_settings(zonert_t *zr, json_t *detail)
{
	apizone_t *az = apizone_of(zr);   /* NULL for a zone the API did not make */
	if (az == NULL)
		return;
	json_object_set_new(detail, "settings", json_deep_copy(apizone_settings(az)));
	json_object_set_new(detail, "created", json_integer(apizone_created(az)));
}

json_t *api_time_json(int64_t t)
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
	store_state_t st = zonert_state(zr);
	int64_t now = (int64_t)time(NULL);
	return json_pack("{s:o, s:s, s:o, s:s, s:o, s:o, s:o}", "primaries",
	                 remotes_json((const conf_remote_t *const *)cz->primaries, cz->primary_count),
	                 "primary_used", st.primary, "last_refresh", api_time_json(st.last_refresh),
	                 "last_result", st.last_result, "next_refresh", api_time_json(st.refresh_at),
	                 "expires_at", api_time_json(st.expire_at), "expires_in",
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
	                 "last_transfer", api_time_json(p->last_xfr), "last_transfer_type",
	                 p->last_xfr ? json_string(p->last_xfr_type) : json_null());
}

static json_t *primary_json(zonert_t *zr, const zone_contents_t *z)
{
	const conf_zone_t *cz = zr->conf;
	json_t *peers = json_array();
	pthread_mutex_lock(&zr->lock);
	for (int i = 0; peers != NULL && i < zr->npeers; i++)
		json_array_append_new(peers, peer_json(&zr->peers[i], z));
	/* The last reload of the file asked for: under way, ended (what it did), or none yet. */
	const zonert_reload_t *r = zr->reload;
	int64_t at = r != NULL ? r->at : 0;
	json_t *reload = json_pack("{s:s, s:o, s:o}", "state",
	                           r != NULL && r->pending > 0 ? "reading" : at != 0 ? "done" : "none",
	                           "last_result", at != 0 ? json_string(r->result) : json_null(),
	                           "last_at", api_time_json(at));
	pthread_mutex_unlock(&zr->lock);
	return json_pack("{s:o, s:o, s:o}", "notify",
	                 remotes_json((const conf_remote_t *const *)cz->notify, cz->notify_count),
	                 "secondaries", peers, "reload", reload);
}

/* Catalog membership: as a member we consume, as a member we list, or as a catalog itself. */
static json_t *catalog_json(zonert_t *zr)
{
	const conf_zone_t *cz = zr->conf;
	const char *catalog, *id, *group;
	if (dynzone_member_info(zr->srv, zr->name, &catalog, &id, &group))
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
	detail_settings(zr, j);
	return j;
}
