/* provision/catproduce.c -- the catalogs we produce (RFC 9432): written whole, or one member at a time */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "catalog/catalog.h"
#include "change/change.h"
#include "lib/error.h"
#include "lib/log.h"
#include "provision/apizone.h"
#include "provision/catproduce.h"
#include "provision/zones.h"
#include "runtime/inbox.h"
#include "runtime/zoneload.h"
#include "runtime/zonework.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/diff.h"

/*
 * DESIGN. A catalog we produce holds, below its SOA, NS and version, one PTR per member at
 * <id>.zones (the ID a function of the member's name), its group TXT at group.<id>.zones and, for a
 * member moving to another catalog of ours, a coo PTR at coo.<id>.zones (RFC 9432 4.1, 4.4). Written
 * whole (catproduce_write), a catalog costs every member: right when the configuration is read,
 * since any zone may have come, gone or changed. A zone made, removed or changed through the API
 * touches only its own three owners, so catproduce_member reads those from the version served,
 * makes them what the whole writing would, and commits the difference through the change path: the
 * same records, serial policy, journal entry and NOTIFY, for the cost of one member. A configuration
 * read again (tandem reconfig) does the same for the zones whose part in a catalog changed, found by
 * comparing the two configurations, unless the catalogs themselves changed or most members did.
 */

/* A reconfiguration that changes this many members or more, and a quarter of a catalog's records or
 * more, writes the catalog whole (catproduce_reconfigured). */
#define CATPRODUCE_WHOLE_MIN 64

/*
 * RFC 9432 5.6: a zone that this catalog listed and that is now member-of another catalog we
 * produce stays here with a coo property naming the new one, so that consumers move it (data
 * kept) instead of deleting and adding it. It stays as long as it belongs to the other catalog.
 * Where the member (a configured zone) moves to, or NULL.
 */
static const conf_zone_t *moved_to(const conf_t *conf, const conf_zone_t *catalog, const char *member)
{
	const conf_zone_t *cz = conf_zone_find(conf, member);
	const conf_zone_t *to = cz && cz->member_of ? conf_zone_find(conf, cz->member_of) : NULL;
	return to != NULL && to != catalog && to->catalog == CONF_CATALOG_PRODUCE ? to : NULL;
}

/* The members of a catalog we produce that moved out of it, after the n in m. */
static size_t moved_members(const conf_t *conf, const conf_zone_t *catalog,
                            const zone_contents_t *current, catalog_member_t *m, size_t n)
{
	catalog_t before = { 0 };
	char why[64];
	if (current == NULL || catalog_read(current, &before, why, sizeof(why)) != TDM_OK)
		return n;
	for (size_t i = 0; i < before.count; i++) {
		char name[NAME_TEXT_MAX];
		name_to_text(before.members[i].zone, name, sizeof(name));
		const conf_zone_t *to = moved_to(conf, catalog, name);
		if (to == NULL)
			continue;
		m[n] = before.members[i];
		if (name_from_text(to->name, NULL, m[n].coo) < 0)
			continue;
		name_copy_lower(m[n].coo, m[n].coo);
		m[n].has_coo = true;
		n++;
	}
	catalog_clear(&before);
	return n;
}

const char *catproduce_of(const conf_t *conf, const conf_zone_t *cz)
{
	/* Its own member-of, or else the server-wide catalog for every primary zone. */
	if (cz->member_of != NULL)
		return cz->member_of;
	return cz->type == CONF_ZONE_PRIMARY && cz->catalog == CONF_CATALOG_NONE ? conf->server.catalog
	                                                                         : NULL;
}

/* The members of a catalog we produce: the configured zones that are member-of it, and those moving
 * out of it (coo). */
static int catalog_members(server_t *srv, const conf_t *conf, const conf_zone_t *catalog,
                           const zone_contents_t *current, catalog_member_t **out, size_t *count)
{
	size_t n = 0, napi = apizone_count(srv);
	catalog_member_t *m = calloc(conf->zone_count * 2 + napi + 1, sizeof(*m));
	const conf_zone_t **api = calloc(napi + 1, sizeof(*api));
	if (m == NULL || api == NULL) {
		free(m);
		free(api);
		return TDM_ENOMEM;
	}
	napi = apizone_zones(srv, api);
	/* The configured zones, then those made through the API (provision/apizone.c). */
	for (size_t i = 0; i < conf->zone_count + napi; i++) {
		const conf_zone_t *cz = i < conf->zone_count ? &conf->zones[i] : api[i - conf->zone_count];
		const char *of = catproduce_of(conf, cz);
		if (of == NULL || strcmp(of, catalog->name) != 0)
			continue;
		if (name_from_text(cz->name, NULL, m[n].zone) < 0)
			continue;
		name_copy_lower(m[n].zone, m[n].zone);
		catalog_member_id(m[n].zone, m[n].id);
		snprintf(m[n].group, sizeof(m[n].group), "%s", cz->group ? cz->group : "");
		n++;
	}
	free(api);
	*out = m;
	*count = moved_members(conf, catalog, current, m, n);
	return TDM_OK;
}

void catproduce_write(server_t *srv, zonert_t *zr, const conf_t *conf)
{
	const conf_zone_t *cz = zr->conf;
	zoneload_t zl = { .store = srv->store, .journal_max = conf->server.journal_max_entries };
	catalog_member_t *members = NULL;
	size_t count = 0;
	rrlist_t *list = rrlist_new();
	pthread_mutex_lock(&zr->write_lock);
	zone_contents_t *current = zone_contents_pin(zr->zone), *stored = NULL, *out = NULL;
	/* At a start, what the store holds: its members moving out stay (coo), its serial goes on. */
	if (current == NULL)
		zoneload_stored(srv->store, cz, false, &stored);
	const zone_contents_t *base = current != NULL ? current : stored;
	uint32_t serial = base != NULL ? zone_serial(base) : (uint32_t)time(NULL);
	int ret = list != NULL ? catalog_members(srv, conf, cz, base, &members, &count) : TDM_ENOMEM;
	if (ret == TDM_OK)
		ret = catalog_write(zone_name(zr->zone), serial, members, count, list);
	if (ret == TDM_OK) {
		ret = zoneload_generated(&zl, cz, list, base, &out);
		list = NULL;
	}
	if (ret == TDM_OK && out == NULL && stored != NULL) {   /* unchanged: served as stored */
		out = stored;
		stored = NULL;
	}
	if (ret != TDM_OK)
		log_err("%s: catalog not written (%s)", zr->name, tdm_strerror(ret));
	else if (out != NULL) {
		zr->serial = zone_serial(out);
		zone_set_contents(zr->zone, out);
		inbox_post(srv, CTL_NOTIFY, zr);
	}
	pthread_mutex_unlock(&zr->write_lock);
	if (ret == TDM_OK && out != NULL)   /* when due (runtime/zonework.h) */
		zonework_post(srv, ZONEWORK_COMPACT, zr);
	rrlist_free(list);
	free(members);
	zone_contents_free(stored);
	zone_contents_unref(current);
}

/* catproduce_write for every catalog we produce. */
static void write_all(server_t *srv)
{
	for (size_t i = 0; i < zoneset_count(srv->zones); i++) {
		zonert_t *zr = zonert_of(zoneset_at(srv->zones, i));
		if (zr->conf != NULL && zr->conf->type == CONF_ZONE_PRIMARY &&
		    zr->conf->catalog == CONF_CATALOG_PRODUCE)
			catproduce_write(srv, zr, srv->rc->conf);
	}
}

/* ---- one member at a time ---- */

/* The settings of zone (textual): a configured zone's, else an API zone's in the set; NULL when it
 * is neither (gone). The zones catproduce_write lists, looked up. */
static const conf_zone_t *settings_of(server_t *srv, const conf_t *conf, const char *zone,
                                      const uint8_t *wire)
{
	const conf_zone_t *cz = conf_zone_find(conf, zone);
	if (cz != NULL)
		return cz;
	zone_t *z = zoneset_find_exact(srv->zones, wire, name_length(wire, NAME_MAXLEN));
	apizone_t *az = z != NULL ? apizone_of(zonert_of(z)) : NULL;
	return az != NULL ? apizone_conf(az) : NULL;
}

/* prefix (one label) and name as one name; false when too long. */
static bool prepend(const char *label, const uint8_t *name, uint8_t out[NAME_MAXLEN])
{
	size_t ll = strlen(label);
	int nl = name_length(name, NAME_MAXLEN);
	if (nl < 0 || ll == 0 || ll > 63 || 1 + ll + (size_t)nl > NAME_MAXLEN)
		return false;
	out[0] = (uint8_t)ll;
	memcpy(out + 1, label, ll);
	memcpy(out + 1 + ll, name, (size_t)nl);
	return true;
}

/* The member's owners in the catalog at apex: <id>.zones, group.<id>.zones, coo.<id>.zones. */
static bool member_owners(const uint8_t *apex, const char *id, uint8_t owners[3][NAME_MAXLEN])
{
	uint8_t zones[NAME_MAXLEN];
	return prepend("zones", apex, zones) && prepend(id, zones, owners[0]) &&
	       prepend("group", owners[0], owners[1]) && prepend("coo", owners[0], owners[2]);
}

/* Appends the records a version holds at owner (every RRset). */
static int node_records(const zone_contents_t *z, const uint8_t *owner, rrlist_t *out)
{
	uint32_t idx = zone_lookup(z, owner, (size_t)name_length(owner, NAME_MAXLEN));
	if (idx == ZONE_NODE_NONE)
		return TDM_OK;
	const zone_node_t *node = zone_node(z, idx);
	const zone_rrset_t *sets = zone_node_rrsets(z, node);
	int ret = TDM_OK;
	for (uint16_t k = 0; k < node->rrset_count && ret == TDM_OK; k++) {
		zone_rdata_iter_t it;
		const uint8_t *rd;
		uint16_t len;
		zone_rdata_begin(z, &sets[k], &it);
		while (ret == TDM_OK && zone_rdata_next(&it, &rd, &len))
			ret = rrlist_add(out, owner, sets[k].type, sets[k].ttl, rd, len, 0);
	}
	return ret;
}

static bool same_rr(const rr_t *a, const rr_t *b)
{
	return a->type == b->type && a->ttl == b->ttl && a->rdlen == b->rdlen &&
	       name_equal(a->owner, b->owner) && memcmp(a->rdata, b->rdata, a->rdlen) == 0;
}

static bool holds(const rrlist_t *list, const rr_t *rr)
{
	for (size_t i = 0; i < rrlist_count(list); i++)
		if (same_rr(rrlist_at(list, i), rr))
			return true;
	return false;
}

/* Appends to out the records of a that b lacks. */
static int minus(const rrlist_t *a, const rrlist_t *b, rrlist_t *out)
{
	int ret = TDM_OK;
	for (size_t i = 0; i < rrlist_count(a) && ret == TDM_OK; i++) {
		const rr_t *rr = rrlist_at(a, i);
		if (!holds(b, rr))
			ret = rrlist_add(out, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, 0);
	}
	return ret;
}

/* The PTR at owner in list: 1 naming member, 0 none, -1 naming another zone. */
static int listed(const rrlist_t *list, const uint8_t *owner, const uint8_t *member)
{
	int found = 0;
	for (size_t i = 0; i < rrlist_count(list); i++) {
		const rr_t *rr = rrlist_at(list, i);
		if (rr->type != PKT_TYPE_PTR || !name_equal(rr->owner, owner))
			continue;
		if (name_length(rr->rdata, rr->rdlen) != (int)rr->rdlen || !name_equal(rr->rdata, member))
			return -1;
		found = 1;
	}
	return found;
}

/* What catproduce_write would give the member's owners (want), from what they hold (have). */
static int member_wanted(const conf_t *conf, const conf_zone_t *catalog, const uint8_t *apex,
                         const conf_zone_t *cz, catalog_member_t *m, uint8_t owners[3][NAME_MAXLEN],
                         const rrlist_t *have, rrlist_t *want)
{
	const char *of = cz != NULL ? catproduce_of(conf, cz) : NULL;
	char name[NAME_TEXT_MAX];
	name_to_text(m->zone, name, sizeof(name));
	if (of != NULL && strcmp(of, catalog->name) == 0) {
		snprintf(m->group, sizeof(m->group), "%s", cz->group ? cz->group : "");
		rrlist_t *all = rrlist_new();
		int ret = all != NULL ? catalog_write(apex, 0, m, 1, all) : TDM_ENOMEM;
		for (size_t i = 0; ret == TDM_OK && i < rrlist_count(all); i++) {
			const rr_t *rr = rrlist_at(all, i);
			if (name_in_zone(rr->owner, owners[0]))
				ret = rrlist_add(want, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, 0);
		}
		rrlist_free(all);
		return ret;
	}
	/* Listed here and moving to another catalog of ours: kept, with a coo naming that one. */
	const conf_zone_t *to = moved_to(conf, catalog, name);
	if (to == NULL || listed(have, owners[0], m->zone) != 1)
		return TDM_OK;
	uint8_t coo[NAME_MAXLEN];
	if (name_from_text(to->name, NULL, coo) < 0)
		return TDM_EINVAL;
	name_copy_lower(coo, coo);
	int ret = TDM_OK;
	for (size_t i = 0; i < rrlist_count(have) && ret == TDM_OK; i++) {
		const rr_t *rr = rrlist_at(have, i);
		if (!name_equal(rr->owner, owners[2]))
			ret = rrlist_add(want, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, 0);
	}
	if (ret == TDM_OK)   /* TTL 0, as catalog_write writes every record */
		ret = rrlist_add(want, owners[2], PKT_TYPE_PTR, 0, coo, (uint16_t)name_length(coo, NAME_MAXLEN),
		                 0);
	return ret;
}

/* The SOA of current, and the same with the serial policy's next serial, first in removed and added. */
static int soa_pair(const zone_contents_t *current, const conf_zone_t *catalog, rrlist_t *removed,
                    rrlist_t *added)
{
	const zone_rrset_t *soa = zone_soa(current);
	uint16_t len = 0;
	const uint8_t *rd = soa != NULL ? zone_rrset_first(current, soa, &len) : NULL;
	int l1 = rd != NULL ? name_length(rd, len) : -1;
	int l2 = l1 > 0 ? name_length(rd + l1, len - (size_t)l1) : -1;
	if (l2 <= 0 || (size_t)l1 + (size_t)l2 + 20 > len)
		return TDM_EMALF;
	uint8_t next[512];
	if (len > sizeof(next))
		return TDM_EMALF;
	memcpy(next, rd, len);
	pkt_put32(next + l1 + l2,
	          serial_next(zone_serial(current), (int)catalog->serial_policy, (int64_t)time(NULL)));
	const uint8_t *apex = zone_apex(current);
	int ret = rrlist_add(removed, apex, PKT_TYPE_SOA, soa->ttl, rd, len, 0);
	return ret == TDM_OK ? rrlist_add(added, apex, PKT_TYPE_SOA, soa->ttl, next, len, 0) : ret;
}

typedef enum { MEMBER_SAME, MEMBER_CHANGED, MEMBER_WHOLE } member_outcome_t;

/* One member's part of the change to a catalog: what its owners hold, and what they should, appended
 * to removed and added. *was and *is say whether it was listed and is. TDM_EEXIST: another zone
 * under its ID (not one of ours: left to the whole writing). */
static int member_change(server_t *srv, const conf_t *conf, const conf_zone_t *catalog,
                         const zone_contents_t *current, const char *zone, rrlist_t *removed,
                         rrlist_t *added, bool *was, bool *is)
{
	const uint8_t *apex = zone_apex(current);
	catalog_member_t m = { .has_coo = false };
	uint8_t owners[3][NAME_MAXLEN];
	if (name_from_text(zone, NULL, m.zone) < 0)
		return TDM_EINVAL;
	name_copy_lower(m.zone, m.zone);
	catalog_member_id(m.zone, m.id);
	if (!member_owners(apex, m.id, owners))
		return TDM_EEXIST;
	rrlist_t *have = rrlist_new(), *want = rrlist_new();
	int ret = have && want ? TDM_OK : TDM_ENOMEM;
	for (int k = 0; k < 3 && ret == TDM_OK; k++)
		ret = node_records(current, owners[k], have);
	if (ret == TDM_OK && listed(have, owners[0], m.zone) < 0)
		ret = TDM_EEXIST;
	if (ret == TDM_OK)
		ret = member_wanted(conf, catalog, apex, settings_of(srv, conf, zone, m.zone), &m, owners,
		                    have, want);
	if (ret == TDM_OK)
		ret = minus(have, want, removed);
	if (ret == TDM_OK)
		ret = minus(want, have, added);
	*was = ret == TDM_OK && rrlist_count(have) > 0;
	*is = ret == TDM_OK && rrlist_count(want) > 0;
	rrlist_free(have);
	rrlist_free(want);
	return ret;
}

/* The members' records in one catalog made what they should be, as one change; MEMBER_WHOLE: write
 * it whole instead. */
static member_outcome_t members_in(server_t *srv, zonert_t *zr, const conf_t *conf,
                                   const char *const *zones, size_t count)
{
	const conf_zone_t *catalog = zr->conf;
	pthread_mutex_lock(&zr->write_lock);
	zone_contents_t *current = zone_contents_pin(zr->zone), *next = NULL;
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	member_outcome_t outcome = MEMBER_SAME;
	int ret = current == NULL ? TDM_ENOENT : removed && added ? TDM_OK : TDM_ENOMEM;
	if (ret == TDM_OK)
		ret = soa_pair(current, catalog, removed, added);
	size_t came = 0, went = 0, changed = 0;
	const char *one = NULL;   /* the member changed, when it is one */
	for (size_t i = 0; i < count && ret == TDM_OK; i++) {
		size_t r = rrlist_count(removed), a = rrlist_count(added);
		bool was = false, is = false;
		ret = member_change(srv, conf, catalog, current, zones[i], removed, added, &was, &is);
		if (ret != TDM_OK || (rrlist_count(removed) == r && rrlist_count(added) == a))
			continue;
		came += !was && is;
		went += was && !is;
		changed += was && is;
		one = zones[i];
	}
	if (ret == TDM_OK && came + went + changed > 0) {
		char who[NAME_TEXT_MAX + 32];
		if (came + went + changed == 1)
			snprintf(who, sizeof(who), "catalog member %s", one);
		else
			snprintf(who, sizeof(who), "catalog members (%zu)", came + went + changed);
		change_t chg = { .store = srv->store, .zone = zr->name, .who = who,
		                 .journal_max = conf->server.journal_max_entries };
		chg.meta.serial_only = true;   /* the row's source stays: a catalog we write */
		ret = change_commit(&chg, current, removed, added, &next);
	}
	if (ret == TDM_OK && next != NULL) {
		pthread_mutex_lock(&zr->lock);
		zr->serial = zone_serial(next);
		pthread_mutex_unlock(&zr->lock);
		zone_set_contents(zr->zone, next);
		inbox_post(srv, CTL_NOTIFY, zr);
		if (came + went + changed == 1)
			log_info("%s: catalog member %s %s, serial %u", zr->name, one,
			         came ? "added" : went ? "removed" : "changed", zone_serial(next));
		else
			log_info("%s: catalog members: %zu added, %zu removed, %zu changed, serial %u", zr->name,
			         came, went, changed, zone_serial(next));
		outcome = MEMBER_CHANGED;
	} else if (ret != TDM_OK) {
		/* Written whole instead: no version yet, an ID another zone holds, or this change not
		 * committed (it then tries again whole, and logs why if that fails too). */
		if (ret != TDM_ENOENT && ret != TDM_EEXIST)
			log_err("%s: catalog members not written one by one (%s)", zr->name, tdm_strerror(ret));
		outcome = MEMBER_WHOLE;
	}
	pthread_mutex_unlock(&zr->write_lock);
	rrlist_free(removed);
	rrlist_free(added);
	zone_contents_unref(current);
	return outcome;
}

/* The catalog we produce named catalog (textual), or NULL. */
static zonert_t *produced(server_t *srv, const char *catalog)
{
	zonert_t *zr = catalog != NULL ? zones_find(srv, catalog) : NULL;
	if (zr == NULL || zr->conf == NULL || zr->conf->type != CONF_ZONE_PRIMARY ||
	    zr->conf->catalog != CONF_CATALOG_PRODUCE)
		return NULL;
	return zr;
}

/* The members changed in one catalog, or the catalog written whole when that is cheaper or needed. */
static void members_follow(server_t *srv, zonert_t *zr, const char *const *zones, size_t count)
{
	const conf_t *conf = srv->rc->conf;
	member_outcome_t done = members_in(srv, zr, conf, zones, count);
	if (done == MEMBER_WHOLE)
		catproduce_write(srv, zr, conf);
	else if (done == MEMBER_CHANGED)   /* when due (runtime/zonework.h) */
		zonework_post(srv, ZONEWORK_COMPACT, zr);
}

void catproduce_member(server_t *srv, const char *zone, const char *const *catalogs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		bool again = false;   /* named twice (old and new catalog the same) */
		for (size_t j = 0; j < i && !again; j++)
			again = catalogs[j] != NULL && catalogs[i] != NULL && strcmp(catalogs[j], catalogs[i]) == 0;
		zonert_t *zr = again ? NULL : produced(srv, catalogs[i]);
		if (zr != NULL)
			members_follow(srv, zr, &zone, 1);
	}
}

/* ---- a configuration read again ---- */

static bool same_text(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool produces(const conf_zone_t *cz)
{
	return cz != NULL && cz->type == CONF_ZONE_PRIMARY && cz->catalog == CONF_CATALOG_PRODUCE;
}

/* Whether a zone's part in the catalogs may differ between two configurations: the catalog it is in,
 * its group, its member-of (where it moves to). NULL: not in that configuration. */
static bool member_differs(const conf_t *before, const conf_zone_t *was, const conf_t *conf,
                           const conf_zone_t *is)
{
	if (was == NULL || is == NULL)   /* came or went: a member, or moving out of one, or neither */
		return (was != NULL && catproduce_of(before, was) != NULL) ||
		       (is != NULL && catproduce_of(conf, is) != NULL);
	return !same_text(catproduce_of(before, was), catproduce_of(conf, is)) ||
	       !same_text(was->group, is->group) || !same_text(was->member_of, is->member_of);
}

/*
 * The zones whose part in the catalogs may have changed, by a walk of both configurations in name order
 * (conf_t.zone_order); false when the catalogs themselves changed (made, dropped, the server-wide one)
 * or an order is missing: then every catalog is written whole.
 */
typedef struct {
	const char **members;        /* names borrowed from the two configurations */
	size_t count;
	const char **catalogs;       /* the catalogs we produce */
	size_t catalog_count;
} reconf_t;

static bool members_changed(const conf_t *before, const conf_t *conf, reconf_t *r)
{
	if (before->zone_order == NULL || conf->zone_order == NULL ||
	    !same_text(before->server.catalog, conf->server.catalog))
		return false;
	size_t most = before->zone_count + conf->zone_count + 1;
	r->members = malloc(most * sizeof(*r->members));
	r->catalogs = malloc(most * sizeof(*r->catalogs));
	if (r->members == NULL || r->catalogs == NULL)
		return false;
	size_t i = 0, j = 0;
	while (i < before->zone_count || j < conf->zone_count) {
		const conf_zone_t *was = i < before->zone_count ? &before->zones[before->zone_order[i]] : NULL;
		const conf_zone_t *is = j < conf->zone_count ? &conf->zones[conf->zone_order[j]] : NULL;
		int d = was == NULL ? 1 : is == NULL ? -1 : strcmp(was->name, is->name);
		if (d < 0)
			is = NULL, i++;
		else if (d > 0)
			was = NULL, j++;
		else
			i++, j++;
		if (produces(was) != produces(is))   /* a catalog made or dropped */
			return false;
		if (produces(is))
			r->catalogs[r->catalog_count++] = is->name;
		if (member_differs(before, was, conf, is))
			r->members[r->count++] = is != NULL ? is->name : was->name;
	}
	return true;
}

void catproduce_reconfigured(server_t *srv, const conf_t *before)
{
	const conf_t *conf = srv->rc->conf;
	reconf_t r = { .count = 0 };
	if (before == conf)
		return;
	if (!members_changed(before, conf, &r)) {
		write_all(srv);
	} else {
		for (size_t i = 0; r.count > 0 && i < r.catalog_count; i++) {
			zonert_t *zr = produced(srv, r.catalogs[i]);
			if (zr == NULL)
				continue;
			rcu_read_lock();
			const zone_contents_t *z = zone_contents(zr->zone);
			size_t records = z != NULL ? zone_record_count(z) : 0;
			rcu_read_unlock();
			/* Many members changed: one pass over every member costs less than their lookups. */
			if (r.count >= CATPRODUCE_WHOLE_MIN && r.count * 4 >= records)
				catproduce_write(srv, zr, conf);
			else
				members_follow(srv, zr, r.members, r.count);
		}
	}
	free(r.members);
	free(r.catalogs);
}
