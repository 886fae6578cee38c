/* api/apiedit.c -- a change asked through the API, from the checks before it to its commit */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "api/api_call.h"
#include "api/apiedit.h"
#include "change/change.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/siphash.h"
#include "runtime/inbox.h"
#include "runtime/zoneload.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "wire/rdata.h"
#include "zone/diff.h"
#include "zone/update.h"
#include "zonefile/zonefile.h"

#define RECORD_TEXT_MAX (NAME_TEXT_MAX + 64 + 4 * 65536)

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

void apiedit_etag(const zone_contents_t *z, char out[API_ETAG_MAX + 1])
{
	/* A fixed key: the tag must survive a restart of the server. */
	static const uint8_t key[16] = "tandem-etag-v1..";
	uint8_t buf[20];
	put_be(buf, zone_serial(z), 4);
	put_be(buf + 4, zone_record_count(z), 8);
	put_be(buf + 12, zone_wire_size(z), 8);
	snprintf(out, API_ETAG_MAX + 1, "\"%u-%016llx\"", zone_serial(z),
	         (unsigned long long)siphash24(key, buf, sizeof(buf)));
}

bool apiedit_if_match(const char *if_match, const zone_contents_t *z)
{
	char tag[API_ETAG_MAX + 1];
	if (if_match == NULL)
		return true;
	apiedit_etag(z, tag);
	size_t tlen = strlen(tag);
	for (const char *p = if_match; *p != '\0';) {
		p += strspn(p, " \t,");
		size_t len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if ((len == 1 && *p == '*') || (len == tlen && memcmp(p, tag, len) == 0))
			return true;
		p += len;
		p += strcspn(p, ",");
	}
	return false;
}

const zone_contents_t *apiedit_begin(const api_call_t *call, api_reply_t *reply)
{
	zonert_t *zr = call->zr;
	const conf_zone_t *cz = zr->conf;
	if (cz->type != CONF_ZONE_PRIMARY) {
		api_error(reply, 409, "%s is a secondary zone: change it on its primary", zr->name);
		return NULL;
	}
	if (cz->catalog == CONF_CATALOG_PRODUCE) {
		api_error(reply, 409, "%s is a catalog this server writes from its configuration",
		          zr->name);
		return NULL;
	}
	if (!zonert_write_lock(zr, APIEDIT_LOCK_MS)) {
		api_error(reply, 503, "%s is being changed by something else (a reload?): try again",
		          zr->name);
		return NULL;
	}
	/* Under the write lock nobody else publishes: this version stays until apiedit_end. */
	const zone_contents_t *z = zone_contents(zr->zone);
	if (z == NULL) {
		api_error(reply, 409, "%s has no data yet", zr->name);
	} else if (zone_contents_dnssec(z) != NULL) {
		api_error(reply, 409, "%s is a signed zone: its signer changes it", zr->name);
	} else if (!apiedit_if_match(call->req->if_match, z)) {
		char tag[API_ETAG_MAX + 1];
		apiedit_etag(z, tag);
		api_error(reply, 412, "%s changed since (If-Match %s; the zone is now %s): read it again",
		          zr->name, call->req->if_match, tag);
		snprintf(reply->etag, sizeof(reply->etag), "%s", tag);
	} else {
		return z;
	}
	pthread_mutex_unlock(&zr->write_lock);
	return NULL;
}

void apiedit_end(const api_call_t *call)
{
	pthread_mutex_unlock(&call->zr->write_lock);
}

int apiedit_record_text(const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                        uint16_t rdlen, char *out, size_t cap)
{
	char name[NAME_TEXT_MAX], tname[16];
	name_to_text(owner, name, sizeof(name));
	int n = snprintf(out, cap, "%s %u IN %s ", name, ttl, rdata_type_name(type, tname, sizeof(tname)));
	if (n < 0 || (size_t)n >= cap)
		return TDM_ESPACE;
	int m = zonefile_rdata_text(type, rdata, rdlen, out + n, cap - (size_t)n);
	return m < 0 ? m : n + m;
}

json_t *apiedit_records_json(const rrlist_t *list)
{
	json_t *a = json_array();
	char *buf = malloc(RECORD_TEXT_MAX);
	if (a == NULL || buf == NULL) {
		json_decref(a);
		free(buf);
		return NULL;
	}
	for (size_t i = 0; i < rrlist_count(list); i++) {
		const rr_t *rr = rrlist_at(list, i);
		if (apiedit_record_text(rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, buf,
		                        RECORD_TEXT_MAX) < 0 ||
		    json_array_append_new(a, json_string(buf)) != 0) {
			json_decref(a);
			a = NULL;
			break;
		}
	}
	free(buf);
	return a;
}

bool apiedit_has(const zone_contents_t *z, const uint8_t *owner, uint16_t type, const uint8_t *rdata,
                 uint16_t rdlen)
{
	uint32_t idx = zone_lookup(z, owner, (size_t)name_length(owner, NAME_MAXLEN));
	if (idx == ZONE_NODE_NONE)
		return false;
	const zone_node_t *n = zone_node(z, idx);
	uint16_t covered = type == PKT_TYPE_RRSIG && rdlen >= 2 ? (uint16_t)(rdata[0] << 8 | rdata[1]) : 0;
	const zone_rrset_t *set = zone_node_rrset_cov(z, n, type, covered);
	if (set == NULL)
		return false;
	zone_rdata_iter_t it;
	const uint8_t *x;
	uint16_t xlen;
	zone_rdata_begin(z, set, &it);
	while (zone_rdata_next(&it, &x, &xlen))
		if (xlen == rdlen && memcmp(x, rdata, rdlen) == 0)
			return true;
	return false;
}

/* ---- the SOA and the serial ---- */

/* Offset of the serial in SOA rdata (after MNAME and RNAME), or -1. */
static int soa_serial_at(const uint8_t *rd, uint16_t len)
{
	int a = name_length(rd, len);
	if (a < 0)
		return -1;
	int b = name_length(rd + a, (size_t)(len - a));
	if (b < 0 || (size_t)(a + b) + 20 > len)
		return -1;
	return a + b;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Moves the SOA records out of from (a copy without them replaces it); the last one's rdata and TTL
 * go to *soa_rd / *soa_len / *soa_ttl (malloc'ed) when soa_rd is not NULL. */
static int take_soa(rrlist_t **from, uint8_t **soa_rd, uint16_t *soa_len, uint32_t *soa_ttl)
{
	rrlist_t *rest = rrlist_new();
	if (rest == NULL)
		return TDM_ENOMEM;
	for (size_t i = 0; i < rrlist_count(*from); i++) {
		const rr_t *rr = rrlist_at(*from, i);
		if (rr->type != PKT_TYPE_SOA) {
			if (rrlist_add(rest, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, rr->line)) {
				rrlist_free(rest);
				return TDM_ENOMEM;
			}
			continue;
		}
		if (soa_rd == NULL)
			continue;
		free(*soa_rd);
		if ((*soa_rd = malloc(rr->rdlen ? rr->rdlen : 1)) == NULL) {
			rrlist_free(rest);
			return TDM_ENOMEM;
		}
		memcpy(*soa_rd, rr->rdata, rr->rdlen);
		*soa_len = rr->rdlen;
		*soa_ttl = rr->ttl;
	}
	rrlist_free(*from);
	*from = rest;
	return TDM_OK;
}

/*
 * The SOA part of the change: the current SOA removed, a new one added -- the one the request gave
 * (SOA replace, zone text) or the current one -- with its serial from the serial policy, or the
 * given serial when keep_newer allows and it is after the current one. *changed says whether
 * anything besides the serial changes.
 */
static int put_soa(const zone_contents_t *z, const conf_zone_t *cz, rrlist_t **removed,
                   rrlist_t **added, bool keep_newer, bool *changed)
{
	uint8_t *given = NULL;
	uint16_t glen = 0, cur_len;
	uint32_t gttl = 0;
	int ret = take_soa(removed, NULL, NULL, NULL);
	if (ret == TDM_OK)
		ret = take_soa(added, &given, &glen, &gttl);
	if (ret != TDM_OK)
		goto out;
	const zone_rrset_t *soa = zone_soa(z);
	const uint8_t *cur = zone_rrset_first(z, soa, &cur_len);
	const uint8_t *apex = zone_apex(z);
	*changed = rrlist_count(*removed) + rrlist_count(*added) > 0;
	const uint8_t *base = given != NULL ? given : cur;
	uint16_t blen = given != NULL ? glen : cur_len;
	uint32_t ttl = given != NULL ? gttl : soa->ttl;
	int at = soa_serial_at(base, blen), cat = soa_serial_at(cur, cur_len);
	ret = TDM_EINVAL;
	if (at < 0 || cat < 0)
		goto out;
	if (given != NULL && (glen != cur_len || gttl != soa->ttl || memcmp(given, cur, (size_t)at) != 0 ||
	                      memcmp(given + at + 4, cur + cat + 4, 16) != 0))
		*changed = true;
	uint32_t from = zone_serial(z);
	uint32_t next = serial_next(from, (int)cz->serial_policy, (int64_t)time(NULL));
	if (given != NULL && keep_newer && serial_cmp(get32(given + at), from) > 0)
		next = get32(given + at);
	uint8_t rd[2 * NAME_MAXLEN + 20];
	if (blen > sizeof(rd))
		goto out;
	memcpy(rd, base, blen);
	put_be(rd + at, next, 4);
	ret = rrlist_add(*removed, apex, PKT_TYPE_SOA, soa->ttl, cur, cur_len, 0);
	if (ret == TDM_OK)
		ret = rrlist_add(*added, apex, PKT_TYPE_SOA, ttl, rd, blen, 0);
out:
	free(given);
	return ret;
}

/* ---- the next version checked ---- */

static bool other_data(uint16_t type)
{
	/* RFC 1034 3.6.2, RFC 4035 2.5: a CNAME may have its RRSIG and NSEC beside it. */
	return type != PKT_TYPE_CNAME && type != PKT_TYPE_RRSIG && type != PKT_TYPE_NSEC;
}

/* RFC 1034 3.6.2 and the apex: what a change may not leave behind, at the owners it added to. */
static bool check_next(const zone_contents_t *next, const rrlist_t *added, const apiedit_opts_t *o,
                       api_reply_t *reply)
{
	char name[NAME_TEXT_MAX];
	if (zone_node_rrset(next, zone_node(next, zone_apex_index(next)), PKT_TYPE_NS) == NULL) {
		api_error(reply, 422, "the apex NS RRset cannot be removed");
		return false;
	}
	for (size_t i = 0; i < rrlist_count(added); i++) {
		const rr_t *rr = rrlist_at(added, i);
		uint32_t idx = zone_lookup(next, rr->owner, (size_t)name_length(rr->owner, NAME_MAXLEN));
		if (idx == ZONE_NODE_NONE)
			continue;
		const zone_node_t *n = zone_node(next, idx);
		const zone_rrset_t *cname = zone_node_rrset(next, n, PKT_TYPE_CNAME), *sets;
		if (cname == NULL)
			continue;
		const char *why = cname->count > 1 ? "more than one CNAME at one name" : NULL;
		sets = zone_node_rrsets(next, n);
		for (uint16_t k = 0; why == NULL && k < n->rrset_count; k++)
			if (other_data(sets[k].type))
				why = "a CNAME beside other data (RFC 1034 3.6.2)";
		if (why == NULL)
			continue;
		name_to_text(rr->owner, name, sizeof(name));
		const char *field = o->blame != NULL ? o->blame(o->blame_ctx, rr->owner, rr->type) : NULL;
		api_error(reply, 422, "%s: %s", name, why);
		if (field != NULL)
			json_object_set_new(reply->body, "field", json_string(field));
		return false;
	}
	return true;
}

/* The addresses NOTIFY goes to (the zone's notify remotes). */
static json_t *notify_json(const conf_zone_t *cz)
{
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && i < cz->notify_count; i++) {
		for (size_t j = 0; j < cz->notify[i]->address_count; j++) {
			char addr[SOCKADDR_STRLEN];
			sockaddr_format(&cz->notify[i]->addresses[j], addr, sizeof(addr));
			json_array_append_new(a, json_string(addr));
		}
	}
	return a;
}

static int commit(const api_call_t *call, const zone_contents_t *z, const rrlist_t *removed,
                  const rrlist_t *added, zone_contents_t **next)
{
	server_t *srv = call->srv;
	zonert_t *zr = call->zr;
	const conf_zone_t *cz = zr->conf;
	char who[API_KEY_NAME_MAX + 100];
	snprintf(who, sizeof(who), "api key %s from %s", call->req->principal->name, call->req->peer);
	runconf_t *rc = srv->rc;
	change_t chg = { .store = srv->store, .zone = zr->name, .who = who,
	                 .journal_max = rc->conf->server.journal_max_entries };
	/* The row's source and file stat stay; a file-backed zone's file is behind the store until it is
	 * written back. */
	chg.meta.serial_only = true;
	if (cz->file != NULL)
		snprintf(chg.meta.file_digest, sizeof(chg.meta.file_digest), "%s", ZONELOAD_DIGEST_PENDING);
	int ret = change_commit(&chg, z, removed, added, next);
	if (ret != TDM_OK)
		return ret;
	pthread_mutex_lock(&zr->lock);
	zr->serial = zone_serial(*next);
	pthread_mutex_unlock(&zr->lock);
	zone_set_contents(zr->zone, *next);
	inbox_post(srv, CTL_NOTIFY, zr);
	if (cz->file != NULL)
		inbox_post(srv, CTL_FILE_SYNC, zr);
	if (change_compact_due(&chg, *next))
		inbox_post(srv, CTL_COMPACT, zr);
	return TDM_OK;
}

void apiedit_finish(const api_call_t *call, const zone_contents_t *z, rrlist_t *removed,
                    rrlist_t *added, const apiedit_opts_t *opts, api_reply_t *reply)
{
	zonert_t *zr = call->zr;
	const conf_zone_t *cz = zr->conf;
	bool dry = api_dry_run(call), changed = false;
	zone_contents_t *next = NULL;
	char tag[API_ETAG_MAX + 1];
	int ret = put_soa(z, cz, &removed, &added, opts->keep_newer_serial, &changed);
	if (ret != TDM_OK)
		return api_error(reply, 500, "cannot make the new SOA: %s", tdm_strerror(ret));
	if (!changed) {
		apiedit_etag(z, tag);
		snprintf(reply->etag, sizeof(reply->etag), "%s", tag);
		reply->body = json_pack("{s:b, s:b, s:I, s:I, s:[], s:[], s:[]}", "changed", false,
		                        "dry_run", dry, "serial_from", (json_int_t)zone_serial(z), "serial",
		                        (json_int_t)zone_serial(z), "removed", "added", "notify");
		goto out;
	}
	ret = zone_update_apply(z, removed, added, &next);
	if (ret != TDM_OK) {
		api_error(reply, 422, "the change cannot be made: %s", ret == TDM_ERANGE ?
		          "an RRset or a name would be too large for a DNS message" : ret == TDM_EMALF ?
		          "it removes records the zone does not hold" : tdm_strerror(ret));
		goto out;
	}
	if (!check_next(next, added, opts, reply))
		goto out;
	uint32_t to = zone_serial(next);
	if (!dry) {
		zone_contents_free(next);
		next = NULL;
		struct timespec t0, t1;
		t0 = clock_now();
		ret = commit(call, z, removed, added, &next);
		t1 = clock_now();
		if (ret != TDM_OK) {
			next = NULL;
			api_error(reply, ret == TDM_ERANGE ? 422 : 500, "not changed: %s", ret == TDM_ERANGE ?
			          "the zone would pass a limit" : tdm_strerror(ret));
			goto out;
		}
		log_info("%s: %s by API key %s: serial %u -> %u, %zu removed, %zu added, served in %.1f ms",
		         zr->name, opts->what, call->req->principal->name, zone_serial(z), to,
		         rrlist_count(removed) - 1, rrlist_count(added) - 1,
		         clock_ms_between(&t0, &t1));
	}
	apiedit_etag(dry ? z : next, tag);
	snprintf(reply->etag, sizeof(reply->etag), "%s", tag);
	reply->body = json_pack("{s:b, s:b, s:I, s:I, s:o, s:o, s:o}", "changed", true, "dry_run", dry,
	                        "serial_from", (json_int_t)zone_serial(z), "serial", (json_int_t)to,
	                        "removed", apiedit_records_json(removed), "added",
	                        apiedit_records_json(added), "notify", notify_json(cz));
	if (dry)
		zone_contents_free(next);
	next = NULL;
out:
	zone_contents_free(next);
	rrlist_free(removed);
	rrlist_free(added);
}
