/* api/api_records.c -- a zone's records through the API: list, change (PATCH, POST), zone text,
 * history and revert */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <urcu.h>

#include "api/api_call.h"
#include "api/apiedit.h"
#include "api/apiorder.h"
#include "api/apipatch.h"
#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "wire/rdata.h"
#include "zone/diff.h"
#include "zonefile/zonefile.h"

#define LIST_DEFAULT 100
#define LIST_MAX 1000
#define LIST_SCAN_MAX 200000      /* names looked at for one page of a filtered list */
#define TEXT_LINE_MAX (NAME_TEXT_MAX + 64 + 4 * 65536)
#define CHANGES_DEFAULT 20
#define CHANGES_MAX 100
#define TEXT_ERRORS_MAX 50

static void set_etag(api_reply_t *reply, const zone_contents_t *z)
{
	apiedit_etag(z, reply->etag);
}

/* ---- GET records ---- */

typedef struct {
	uint8_t name[NAME_MAXLEN];
	bool has_name;
	int type;                    /* -1: any */
	char q[256];                 /* lowercase; "" = none */
	unsigned limit;
	uint8_t from[NAME_MAXLEN];   /* the cursor: the first RRset of the page */
	bool has_from;
	uint16_t from_type, from_cov;
} list_args_t;

static bool bad(api_reply_t *reply, int status, const char *field, const char *msg)
{
	api_error(reply, status, "%s", msg);
	json_object_set_new(reply->body, "field", json_string(field));
	return false;
}

/* The cursor is the next RRset's owner (hex of its wire form), type and covered type. */
static void cursor_make(const uint8_t *owner, uint16_t type, uint16_t cov, char *out, size_t cap)
{
	int len = name_length(owner, NAME_MAXLEN);
	size_t n = 0;
	for (int i = 0; i < len && n + 3 < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%02x", owner[i]);
	snprintf(out + n, cap - n, "-%u-%u", type, cov);
}

static bool cursor_read(const char *text, list_args_t *a)
{
	size_t hex = strcspn(text, "-"), len = hex / 2;
	if (hex % 2 != 0 || len == 0 || len > NAME_MAXLEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		if (!isxdigit((unsigned char)text[2 * i]) || !isxdigit((unsigned char)text[2 * i + 1]) ||
		    sscanf(text + 2 * i, "%2x", &v) != 1)
			return false;
		a->from[i] = (uint8_t)v;
	}
	unsigned t, c;
	char tail;
	if (name_length(a->from, len) != (int)len ||
	    sscanf(text + hex, "-%u-%u%c", &t, &c, &tail) != 2 || t > 65535 || c > 65535)
		return false;
	name_copy_lower(a->from, a->from);
	a->from_type = (uint16_t)t;
	a->from_cov = (uint16_t)c;
	a->has_from = true;
	return true;
}

static bool list_args(const api_call_t *call, const zone_contents_t *z, list_args_t *a,
                      api_reply_t *reply)
{
	char v[1024];
	memset(a, 0, sizeof(*a));
	a->type = -1;
	a->limit = LIST_DEFAULT;
	int r = api_param(call, "name", v, sizeof(v));
	if (r < 0 || (r == 1 && name_from_text(v, zone_apex(z), a->name) < 0))
		return bad(reply, 422, "name", "name: not a valid domain name");
	if (r == 1) {
		name_copy_lower(a->name, a->name);
		a->has_name = true;
	}
	if ((r = api_param(call, "type", v, sizeof(v))) < 0 ||
	    (r == 1 && (a->type = rdata_type_from_text(v)) < 0))
		return bad(reply, 422, "type", "type: unknown type");
	if ((r = api_param(call, "q", a->q, sizeof(a->q))) < 0)
		return bad(reply, 422, "q", "q: at most 255 octets");
	for (char *p = a->q; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if ((r = api_param(call, "limit", v, sizeof(v))) < 0 ||
	    (r == 1 && (strspn(v, "0123456789") != strlen(v) || atol(v) < 1 || atol(v) > LIST_MAX)))
		return bad(reply, 422, "limit", "limit: a number from 1 to 1000");
	if (r == 1)
		a->limit = (unsigned)atol(v);
	if ((r = api_param(call, "cursor", v, sizeof(v))) < 0 || (r == 1 && !cursor_read(v, a)))
		return bad(reply, 400, "cursor", "cursor: not one this server gave (take it from \"next\")");
	return true;
}

static bool contains(const char *text, const char *q)
{
	size_t n = strlen(q);
	for (const char *p = text; *p; p++)
		if (strncasecmp(p, q, n) == 0)
			return true;
	return false;
}

/* One RRset as JSON, or NULL when the q filter rejects it (or out of memory: *oom). */
static json_t *rrset_json(const zone_contents_t *z, const uint8_t *owner, const zone_rrset_t *set,
                          const char *q, char *buf, bool *oom)
{
	char name[NAME_TEXT_MAX], tname[16];
	name_to_text(owner, name, sizeof(name));
	bool match = q[0] == '\0' || contains(name, q);
	json_t *records = json_array();
	zone_rdata_iter_t it;
	const uint8_t *rd;
	uint16_t len;
	zone_rdata_begin(z, set, &it);
	while (records != NULL && zone_rdata_next(&it, &rd, &len)) {
		if (zonefile_rdata_text(set->type, rd, len, buf, TEXT_LINE_MAX) < 0)
			snprintf(buf, TEXT_LINE_MAX, "(too long to show)");
		if (!match && contains(buf, q))
			match = true;
		json_array_append_new(records, json_string(buf));
	}
	if (records == NULL || !match) {
		*oom = records == NULL;
		json_decref(records);
		return NULL;
	}
	json_t *j = json_pack("{s:s, s:s, s:I, s:o}", "name", name, "type",
	                      rdata_type_name(set->type, tname, sizeof(tname)), "ttl",
	                      (json_int_t)set->ttl, "records", records);
	*oom = j == NULL;
	return j;
}

typedef struct {
	const zone_contents_t *z;
	const list_args_t *a;
	json_t *out;
	char *buf;
	char next[2 * NAME_MAXLEN + 16];
	bool full, oom;
} walk_t;

/* Adds the node's matching RRsets; false once the page is full (next set). */
static bool walk_node(walk_t *w, uint32_t idx, bool first)
{
	const zone_node_t *n = zone_node(w->z, idx);
	const uint8_t *owner = zone_node_name(w->z, n);
	const zone_rrset_t *sets = zone_node_rrsets(w->z, n);
	for (uint16_t k = 0; k < n->rrset_count; k++) {
		uint16_t cov = zone_rrset_covered(w->z, &sets[k]);
		if (first && w->a->has_from && name_equal(owner, w->a->from) &&
		    (sets[k].type < w->a->from_type ||
		     (sets[k].type == w->a->from_type && cov < w->a->from_cov)))
			continue;
		if (w->a->type >= 0 && sets[k].type != w->a->type)
			continue;
		if (json_array_size(w->out) >= w->a->limit) {
			cursor_make(owner, sets[k].type, cov, w->next, sizeof(w->next));
			w->full = true;
			return false;
		}
		json_t *j = rrset_json(w->z, owner, &sets[k], w->a->q, w->buf, &w->oom);
		if (w->oom)
			return false;
		if (j != NULL)
			json_array_append_new(w->out, j);
	}
	return true;
}

static void list_walk(walk_t *w, zone_contents_t *z, api_reply_t *reply)
{
	const list_args_t *a = w->a;
	if (a->has_name) {
		uint32_t idx = zone_lookup(z, a->name, (size_t)name_length(a->name, NAME_MAXLEN));
		if (idx != ZONE_NODE_NONE)
			walk_node(w, idx, true);
		return;
	}
	apiorder_t o;
	if (apiorder_get(z, &o) != TDM_OK) {
		w->oom = true;
		return;
	}
	uint32_t pos = a->has_from ? apiorder_seek(z, &o, a->from) : 0, scanned = 0;
	for (bool first = true; pos < o.count; pos++, first = false) {
		const zone_node_t *n = zone_node(z, o.nodes[pos]);
		if (n->flags & ZONE_NODE_DEAD)
			continue;
		if (++scanned > LIST_SCAN_MAX && json_array_size(w->out) < a->limit) {
			/* A filter that matches little: the page ends here, the client goes on. */
			cursor_make(zone_node_name(z, n), 0, 0, w->next, sizeof(w->next));
			w->full = true;
			return;
		}
		if (!walk_node(w, o.nodes[pos], first))
			return;
	}
}

static void route_list(const api_call_t *call, api_reply_t *reply)
{
	list_args_t a;
	rcu_read_lock();
	zone_contents_t *z = zone_contents(call->zr->zone);
	if (z == NULL) {
		rcu_read_unlock();
		return api_error(reply, 409, "%s has no data yet", call->zr->name);
	}
	if (!list_args(call, z, &a, reply)) {
		rcu_read_unlock();
		return;
	}
	walk_t w = { .z = z, .a = &a, .out = json_array(), .buf = malloc(TEXT_LINE_MAX) };
	if (w.out != NULL && w.buf != NULL)
		list_walk(&w, z, reply);
	if (w.out == NULL || w.buf == NULL || w.oom) {
		json_decref(w.out);
		api_error(reply, 500, "out of memory");
	} else {
		reply->body = json_pack("{s:s, s:I, s:o, s:o}", "zone", call->zr->name, "serial",
		                        (json_int_t)zone_serial(z), "rrsets", w.out, "next",
		                        w.full ? json_string(w.next) : json_null());
		set_etag(reply, z);
	}
	free(w.buf);
	rcu_read_unlock();
}

/* ---- PATCH and POST records ---- */

static void records_write(const api_call_t *call, api_reply_t *reply, bool post)
{
	json_t *body = api_body_json(call, reply);
	if (body == NULL)
		return;
	rcu_read_lock();
	const zone_contents_t *z = apiedit_begin(call, reply);
	if (z != NULL) {
		apipatch_t *p = apipatch_read(z, body, post, reply);
		rrlist_t *removed = NULL, *added = NULL;
		if (p != NULL && apipatch_diff(p, &removed, &added) != TDM_OK)
			api_error(reply, 500, "out of memory");
		else if (p != NULL) {
			apiedit_opts_t o = { .blame = apipatch_blame, .blame_ctx = p,
			                     .what = post ? "POST records" : "PATCH records" };
			apiedit_finish(call, z, removed, added, &o, reply);
		}
		apipatch_free(p);
		apiedit_end(call);
	}
	rcu_read_unlock();
	json_decref(body);
}

static void route_patch(const api_call_t *call, api_reply_t *reply)
{
	records_write(call, reply, false);
}

static void route_post(const api_call_t *call, api_reply_t *reply)
{
	records_write(call, reply, true);
}

/* ---- zone text ---- */

static void route_text_get(const api_call_t *call, api_reply_t *reply)
{
	rcu_read_lock();
	const zone_contents_t *z = zone_contents(call->zr->zone);
	if (z == NULL) {
		rcu_read_unlock();
		return api_error(reply, 409, "%s has no data yet", call->zr->name);
	}
	rrlist_t *list = rrlist_new();
	int ret = list == NULL ? TDM_ENOMEM : zone_contents_to_rrlist(z, list);
	char *text = NULL;
	size_t len = 0;
	set_etag(reply, z);
	uint8_t apex[NAME_MAXLEN];
	memcpy(apex, zone_apex(z), (size_t)name_length(zone_apex(z), NAME_MAXLEN));
	rcu_read_unlock();
	if (ret == TDM_OK)
		ret = rrlist_sort(list);
	FILE *f = ret == TDM_OK ? open_memstream(&text, &len) : NULL;
	if (ret == TDM_OK)
		ret = f == NULL ? TDM_ENOMEM : zonefile_dump(list, apex, f);
	if (f != NULL)
		fclose(f);
	rrlist_free(list);
	if (ret != TDM_OK) {
		free(text);
		return api_error(reply, 500, "cannot write the zone text: %s", tdm_strerror(ret));
	}
	reply->status = 200;
	reply->text = text;
	reply->text_len = len;
	reply->content_type = "text/dns";
}

typedef struct {
	json_t *errors;
} text_errors_t;

static void on_text_error(void *ctx, const char *file, unsigned line, const char *msg)
{
	text_errors_t *e = ctx;
	char buf[1300];
	if (json_array_size(e->errors) >= TEXT_ERRORS_MAX)
		return;
	if (line > 0)
		snprintf(buf, sizeof(buf), "%u: %s", line, msg);
	else
		snprintf(buf, sizeof(buf), "%s", msg);
	json_array_append_new(e->errors, json_string(buf));
}

static bool text_refused_types(const rrlist_t *list, text_errors_t *e)
{
	for (size_t i = 0; i < rrlist_count(list); i++) {
		uint16_t t = rrlist_at(list, i)->type;
		if (t == PKT_TYPE_RRSIG || t == PKT_TYPE_NSEC || t == PKT_TYPE_NSEC3 || t == 51 ||
		    t == PKT_TYPE_DNSKEY)
			on_text_error(e, "text", rrlist_at(list, i)->line,
			              "DNSSEC data is made by the zone's signer, not edited");
	}
	return json_array_size(e->errors) == 0;
}

/* The text's records as removed / added against z; false after a 422 with the lines at fault. */
static bool text_diff(const api_call_t *call, const zone_contents_t *z, rrlist_t **removed,
                      rrlist_t **added, api_reply_t *reply)
{
	text_errors_t e = { .errors = json_array() };
	rrlist_t *list = NULL;
	zone_contents_t *next = NULL;
	const uint8_t *apex = zone_apex(z);
	int ret = e.errors == NULL ? TDM_ENOMEM :
	          zonefile_parse_text(call->req->body, call->req->body_len, call->zr->name, &list,
	                              on_text_error, &e);
	if (ret == TDM_OK && !text_refused_types(list, &e))
		ret = TDM_EPARSE;
	if (ret == TDM_OK) {
		ret = zone_contents_build(apex, list, &next);
		if (ret == TDM_ESEMCHECK)
			on_text_error(&e, "text", 0, "no SOA record at the apex");
		else if (ret == TDM_ERANGE)
			on_text_error(&e, "text", 0, "an RRset or a name is too large for a DNS message");
	}
	if (ret == TDM_OK)
		ret = zonefile_check(list, next, apex, "text", on_text_error, &e);
	*removed = rrlist_new();
	*added = rrlist_new();
	if (ret == TDM_OK)
		ret = *removed && *added ? zone_diff(z, next, *removed, *added) : TDM_ENOMEM;
	zone_contents_free(next);
	rrlist_free(list);
	if (ret == TDM_OK) {
		json_decref(e.errors);
		return true;
	}
	rrlist_free(*removed);
	rrlist_free(*added);
	*removed = *added = NULL;
	if (ret == TDM_ENOMEM) {
		json_decref(e.errors);
		api_error(reply, 500, "out of memory");
		return false;
	}
	const char *first = json_string_value(json_array_get(e.errors, 0));
	api_error(reply, 422, "%s", first != NULL ? first : tdm_strerror(ret));
	json_object_set_new(reply->body, "errors", e.errors);
	return false;
}

static void route_text_put(const api_call_t *call, api_reply_t *reply)
{
	rcu_read_lock();
	const zone_contents_t *z = apiedit_begin(call, reply);
	if (z != NULL) {
		rrlist_t *removed, *added;
		if (text_diff(call, z, &removed, &added, reply)) {
			apiedit_opts_t o = { .keep_newer_serial = true, .what = "zone text" };
			apiedit_finish(call, z, removed, added, &o, reply);
		}
		apiedit_end(call);
	}
	rcu_read_unlock();
}

/* ---- history and revert ---- */

static json_t *change_json(const store_change_t *c)
{
	json_t *j = json_pack("{s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:b}", "id", (json_int_t)c->id,
	                      "time", (json_int_t)c->created, "who", c->who, "serial_from",
	                      (json_int_t)c->serial_from, "serial_to", (json_int_t)c->serial_to,
	                      "removed_count", (json_int_t)c->nremoved, "added_count",
	                      (json_int_t)c->nadded, "revertable", c->kept);
	if (j != NULL && c->kept) {
		json_object_set_new(j, "removed", apiedit_records_json(c->removed));
		json_object_set_new(j, "added", apiedit_records_json(c->added));
	}
	return j;
}

static bool number_param(const api_call_t *call, const char *name, long long min, long long max,
                         long long *out, api_reply_t *reply)
{
	char v[32], msg[96];
	int r = api_param(call, name, v, sizeof(v));
	if (r == 0)
		return true;
	if (r < 0 || v[0] == '\0' || strspn(v, "0123456789") != strlen(v) || atoll(v) < min ||
	    atoll(v) > max) {
		snprintf(msg, sizeof(msg), "%s: a number from %lld to %lld", name, min, max);
		return bad(reply, 422, name, msg);
	}
	*out = atoll(v);
	return true;
}

static void route_changes(const api_call_t *call, api_reply_t *reply)
{
	long long limit = CHANGES_DEFAULT, before = INT64_MAX;
	if (!number_param(call, "limit", 1, CHANGES_MAX, &limit, reply) ||
	    !number_param(call, "before", 1, INT64_MAX, &before, reply))
		return;
	store_change_t *v;
	size_t n;
	int ret = store_history_list(call->srv->store, call->zr->name, before, (unsigned)limit, true,
	                             &v, &n);
	if (ret == TDM_ENOENT) {
		v = NULL;
		n = 0;
	} else if (ret != TDM_OK) {
		return api_error(reply, 500, "cannot read the history: %s", tdm_strerror(ret));
	}
	json_t *list = json_array();
	for (size_t i = 0; list != NULL && i < n; i++)
		json_array_append_new(list, change_json(&v[i]));
	reply->body = json_pack("{s:s, s:o, s:o}", "zone", call->zr->name, "changes", list, "next",
	                        n == (size_t)limit && n > 0 ? json_sprintf("%lld", (long long)v[n - 1].id)
	                                                    : json_null());
	store_changes_free(v, n);
	rcu_read_lock();
	const zone_contents_t *z = zone_contents(call->zr->zone);
	if (z != NULL)
		set_etag(reply, z);
	rcu_read_unlock();
}

/* The inverse of a change as it applies to z: what it added and z still holds goes, what it
 * removed and z lacks comes back. Records that moved since are conflicts. */
static int inverse(const zone_contents_t *z, const store_change_t *c, rrlist_t *removed,
                   rrlist_t *added, json_t *conflicts)
{
	char *buf = malloc(TEXT_LINE_MAX);
	if (buf == NULL)
		return TDM_ENOMEM;
	int ret = TDM_OK;
	for (int pass = 0; pass < 2 && ret == TDM_OK; pass++) {
		const rrlist_t *from = pass == 0 ? c->added : c->removed;
		for (size_t i = 0; i < rrlist_count(from) && ret == TDM_OK; i++) {
			const rr_t *rr = rrlist_at(from, i);
			if (rr->type == PKT_TYPE_SOA)
				continue;
			bool has = apiedit_has(z, rr->owner, rr->type, rr->rdata, rr->rdlen);
			if (has == (pass == 0)) {
				ret = rrlist_add(pass == 0 ? removed : added, rr->owner, rr->type, rr->ttl,
				                 rr->rdata, rr->rdlen, 0);
				continue;
			}
			if (apiedit_record_text(rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, buf,
			                        TEXT_LINE_MAX) >= 0)
				json_array_append_new(conflicts, json_sprintf("%s %s", pass == 0 ?
				                      "already gone:" : "already back:", buf));
		}
	}
	free(buf);
	return ret;
}

static void route_revert(const api_call_t *call, api_reply_t *reply)
{
	const char *ids = call->params[0];
	char v[8], what[64];
	if (ids[0] == '\0' || strspn(ids, "0123456789") != strlen(ids) || strlen(ids) > 18)
		return api_error(reply, 404, "no change %s", ids);
	long long id = atoll(ids);
	bool force = api_param(call, "force", v, sizeof(v)) == 1 &&
	             (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
	store_change_t *c = NULL;
	size_t n = 0;
	int ret = store_history_list(call->srv->store, call->zr->name, id + 1, 1, true, &c, &n);
	if (ret != TDM_OK && ret != TDM_ENOENT)
		return api_error(reply, 500, "cannot read the history: %s", tdm_strerror(ret));
	if (n == 0 || c[0].id != id) {
		store_changes_free(c, n);
		return api_error(reply, 404, "no change %lld in the history of %s", id, call->zr->name);
	}
	if (!c[0].kept) {
		store_changes_free(c, n);
		return api_error(reply, 409, "change %lld was too large to keep (%u removed, %u added): "
		                 "only its summary is kept, it cannot be reverted", id, c[0].nremoved,
		                 c[0].nadded);
	}
	rcu_read_lock();
	const zone_contents_t *z = apiedit_begin(call, reply);
	if (z != NULL) {
		rrlist_t *removed = rrlist_new(), *added = rrlist_new();
		json_t *conflicts = json_array();
		ret = removed && added && conflicts ? inverse(z, &c[0], removed, added, conflicts)
		                                    : TDM_ENOMEM;
		if (ret != TDM_OK) {
			api_error(reply, 500, "out of memory");
		} else if (json_array_size(conflicts) > 0 && !force) {
			api_error(reply, 409, "the records change %lld touched have changed since; "
			          "?force=true reverts what still can be", id);
			json_object_set(reply->body, "conflicts", conflicts);
		} else {
			snprintf(what, sizeof(what), "revert of change %lld", id);
			apiedit_opts_t o = { .what = what };
			apiedit_finish(call, z, removed, added, &o, reply);
			removed = added = NULL;
			if (reply->status == 200 && reply->body != NULL)
				json_object_set(reply->body, "conflicts", conflicts);
		}
		rrlist_free(removed);
		rrlist_free(added);
		json_decref(conflicts);
		apiedit_end(call);
	}
	rcu_read_unlock();
	store_changes_free(c, n);
}

const api_route_t api_routes_records[] = {
	{ "GET", "zones/{zone}/records", route_list },
	{ "PATCH", "zones/{zone}/records", route_patch },
	{ "POST", "zones/{zone}/records", route_post },
	{ "GET", "zones/{zone}/text", route_text_get },
	{ "PUT", "zones/{zone}/text", route_text_put },
	{ "GET", "zones/{zone}/changes", route_changes },
	{ "POST", "zones/{zone}/changes/*/revert", route_revert },
	{ NULL, NULL, NULL },
};
