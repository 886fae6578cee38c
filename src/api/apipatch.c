/* api/apipatch.c -- RRset operations of the API (PATCH, POST of records) turned into a change */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/apipatch.h"
#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "wire/rdata.h"
#include "zonefile/zonefile.h"

/*
 * Each operation works on a copy of the RRset it names, as it stands after the operations before
 * it; the change is then the difference between each RRset's first and last state. So several
 * operations on one RRset compose, and a TTL change is the RRset removed and added again (RFC 2181
 * 5.2: an RRset has one TTL; the version keeps the TTL of an RRset that keeps any record).
 *   replace: the RRset becomes the records given (none: deleted); ttl required
 *   delete:  the RRset goes (nothing to delete is not an error)
 *   add:     the records join the RRset (ttl: the RRset's new TTL; required for a new RRset)
 *   remove:  the records leave it (a record it lacks is not an error)
 */

#define TTL_MAX 2147483647u   /* RFC 2181 8 */

typedef struct {
	uint8_t *data;
	uint16_t len;
} rd_t;

typedef struct {
	uint8_t owner[NAME_MAXLEN];
	uint16_t type;
	uint32_t ttl0, ttl;
	rd_t *orig, *cur;
	size_t norig, ncur, cap;
	int op;                      /* the last operation that touched it */
} wset_t;

struct apipatch {
	const zone_contents_t *z;
	bool post;
	wset_t *sets;
	size_t nsets, cap;
	char field[64];
};

enum { OP_REPLACE, OP_DELETE, OP_ADD, OP_REMOVE };

static void fail(api_reply_t *reply, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(api_reply_t *reply, const char *field, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(reply->body);
	reply->status = 422;
	reply->body = json_pack("{s:s, s:s}", "error", msg, "field", field);
}

void apipatch_free(apipatch_t *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nsets; i++) {
		for (size_t k = 0; k < p->sets[i].ncur; k++)
			free(p->sets[i].cur[k].data);
		free(p->sets[i].cur);
		free(p->sets[i].orig);
	}
	free(p->sets);
	free(p);
}

/* The working copy of owner/type, made from z on first use. */
static wset_t *wset_get(apipatch_t *p, const uint8_t *owner, uint16_t type)
{
	for (size_t i = 0; i < p->nsets; i++)
		if (p->sets[i].type == type && name_equal(p->sets[i].owner, owner))
			return &p->sets[i];
	if (p->nsets == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		wset_t *v = realloc(p->sets, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		p->sets = v;
		p->cap = cap;
	}
	wset_t *w = &p->sets[p->nsets];
	memset(w, 0, sizeof(*w));
	memcpy(w->owner, owner, (size_t)name_length(owner, NAME_MAXLEN));
	w->type = type;
	uint32_t idx = zone_lookup(p->z, owner, (size_t)name_length(owner, NAME_MAXLEN));
	const zone_rrset_t *set = idx == ZONE_NODE_NONE ? NULL :
	                          zone_node_rrset(p->z, zone_node(p->z, idx), type);
	if (set != NULL) {
		zone_rdata_iter_t it;
		const uint8_t *rd;
		uint16_t len;
		w->orig = calloc(set->count, sizeof(rd_t));
		w->cur = calloc(set->count, sizeof(rd_t));
		if (w->orig == NULL || w->cur == NULL) {
			free(w->orig);
			free(w->cur);
			return NULL;
		}
		w->cap = set->count;
		zone_rdata_begin(p->z, set, &it);
		while (zone_rdata_next(&it, &rd, &len)) {
			/* orig points into the version (kept under the write lock); cur owns copies. */
			w->orig[w->norig++] = (rd_t){ (uint8_t *)rd, len };
			uint8_t *copy = malloc(len ? len : 1);
			if (copy == NULL) {
				p->nsets++;   /* freed with the rest */
				return NULL;
			}
			memcpy(copy, rd, len);
			w->cur[w->ncur++] = (rd_t){ copy, len };
		}
		w->ttl0 = w->ttl = set->ttl;
	}
	p->nsets++;
	return w;
}

static ssize_t rd_find(const rd_t *v, size_t n, const uint8_t *rd, uint16_t len)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].len == len && (len == 0 || memcmp(v[i].data, rd, len) == 0))
			return (ssize_t)i;
	return -1;
}

static int rd_add(wset_t *w, const uint8_t *rd, uint16_t len)
{
	if (rd_find(w->cur, w->ncur, rd, len) >= 0)
		return TDM_OK;
	if (w->ncur == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 4;
		rd_t *v = realloc(w->cur, cap * sizeof(*v));
		if (v == NULL)
			return TDM_ENOMEM;
		w->cur = v;
		w->cap = cap;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL)
		return TDM_ENOMEM;
	memcpy(copy, rd, len);
	w->cur[w->ncur++] = (rd_t){ copy, len };
	return TDM_OK;
}

static void rd_clear(wset_t *w)
{
	for (size_t k = 0; k < w->ncur; k++)
		free(w->cur[k].data);
	w->ncur = 0;
}

/* ---- reading one operation ---- */

typedef struct {
	uint8_t owner[NAME_MAXLEN];
	uint16_t type;
	bool has_ttl;
	uint32_t ttl;
	int change;
	const json_t *records;
	char at[32];                 /* "rrsets[2]." or "" (POST) */
	const char *records_key;     /* "records" or "rdata" */
} op_t;

static const char *field(op_t *op, const char *what, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", op->at, what);
	return buf;
}

/* Types the API does not write: DNSSEC data is the signer's, and meta types are not data. */
static const char *type_refused(uint16_t type)
{
	switch (type) {
	case PKT_TYPE_RRSIG:
	case PKT_TYPE_NSEC:
	case PKT_TYPE_NSEC3:
	case 51:   /* NSEC3PARAM */
	case PKT_TYPE_DNSKEY:
		return "DNSSEC data is made by the zone's signer, not edited";
	}
	return rdata_is_meta(type) ? "not a type of zone data" : NULL;
}

static bool read_op(const zone_contents_t *z, const json_t *j, op_t *op, api_reply_t *reply)
{
	char f[96], text[NAME_TEXT_MAX];
	const uint8_t *apex = zone_apex(z);
	if (!json_is_object(j)) {
		snprintf(f, sizeof(f), "%.*s", (int)strcspn(op->at, "."), op->at);
		return fail(reply, op->at[0] ? f : "body", "each operation must be an object"), false;
	}
	const json_t *name = json_object_get(j, "name"), *type = json_object_get(j, "type");
	const json_t *ttl = json_object_get(j, "ttl");
	if (!json_is_string(name))
		return fail(reply, field(op, "name", f, sizeof(f)), "name: a string is needed"), false;
	const char *ns = json_string_value(name);
	int len = strcmp(ns, "@") == 0 ? name_copy_lower(op->owner, apex)
	                               : name_from_text(ns, apex, op->owner);
	if (len < 0)
		return fail(reply, field(op, "name", f, sizeof(f)), "'%s' is not a valid domain name", ns),
		       false;
	name_copy_lower(op->owner, op->owner);
	if (!name_in_zone(op->owner, apex)) {
		name_to_text(apex, text, sizeof(text));
		return fail(reply, field(op, "name", f, sizeof(f)), "%s is outside the zone %s", ns, text),
		       false;
	}
	int t = json_is_string(type) ? rdata_type_from_text(json_string_value(type)) : -1;
	if (t < 0)
		return fail(reply, field(op, "type", f, sizeof(f)), "%s", json_is_string(type) ?
		            "unknown type (a mnemonic such as AAAA, or TYPEnnn)" : "type: a string is needed"),
		       false;
	op->type = (uint16_t)t;
	const char *why = type_refused(op->type);
	if (why != NULL)
		return fail(reply, field(op, "type", f, sizeof(f)), "%s: %s", json_string_value(type), why),
		       false;
	if (ttl != NULL && !json_is_null(ttl)) {
		if (!json_is_integer(ttl) || json_integer_value(ttl) < 0 ||
		    json_integer_value(ttl) > (json_int_t)TTL_MAX)
			return fail(reply, field(op, "ttl", f, sizeof(f)),
			            "ttl: an integer from 0 to %u is needed (RFC 2181 8)", TTL_MAX), false;
		op->has_ttl = true;
		op->ttl = (uint32_t)json_integer_value(ttl);
	}
	op->records = json_object_get(j, op->records_key);
	if (op->records != NULL && !json_is_array(op->records))
		return fail(reply, field(op, op->records_key, f, sizeof(f)),
		            "%s: a list of record data in master-file text is needed", op->records_key),
		       false;
	return true;
}

static bool read_change(const json_t *j, op_t *op, api_reply_t *reply)
{
	static const char *const names[] = { "replace", "delete", "add", "remove" };
	char f[96];
	const json_t *c = json_object_get(j, "changetype");
	for (int i = 0; json_is_string(c) && i < 4; i++)
		if (strcasecmp(json_string_value(c), names[i]) == 0) {
			op->change = i;
			return true;
		}
	fail(reply, field(op, "changetype", f, sizeof(f)),
	     "changetype: one of replace, delete, add, remove");
	return false;
}

/* The first problem the parser reported. */
typedef struct {
	char msg[512];
	bool seen;
} perr_t;

static void on_parse_error(void *ctx, const char *file, unsigned line, const char *msg)
{
	perr_t *e = ctx;
	if (!e->seen)
		snprintf(e->msg, sizeof(e->msg), "%s", msg);
	e->seen = true;
}

/* One record's data (text) parsed as the op's type, into *out (a list of one record). */
static bool parse_record(const zone_contents_t *z, op_t *op, size_t k, const char *text,
                         rrlist_t **out, api_reply_t *reply)
{
	char f[96], sub[48], owner[NAME_TEXT_MAX], apex[NAME_TEXT_MAX], tname[16], line[NAME_TEXT_MAX + 96];
	snprintf(sub, sizeof(sub), "%s[%zu]", op->records_key, k);
	field(op, sub, f, sizeof(f));
	for (const char *c = text; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return fail(reply, f, "record data may not hold control characters or line breaks"),
			       false;
	if (strpbrk(text, "()") != NULL && strchr(text, '"') == NULL)
		return fail(reply, f, "record data on one line, without ( )"), false;
	name_to_text(op->owner, owner, sizeof(owner));
	name_to_text(zone_apex(z), apex, sizeof(apex));
	int n = snprintf(line, sizeof(line), "%s 0 IN %s ", owner,
	                 rdata_type_name(op->type, tname, sizeof(tname)));
	size_t tlen = strlen(text);
	char *buf = malloc((size_t)n + tlen + 2);
	if (buf == NULL)
		return api_error(reply, 500, "out of memory"), false;
	memcpy(buf, line, (size_t)n);
	memcpy(buf + n, text, tlen);
	buf[(size_t)n + tlen] = '\n';
	perr_t e = { .seen = false };
	int ret = zonefile_parse_text(buf, (size_t)n + tlen + 1, apex, out, on_parse_error, &e);
	free(buf);
	if (ret == TDM_ENOMEM)
		return api_error(reply, 500, "out of memory"), false;
	if (ret != TDM_OK || rrlist_count(*out) != 1 || rrlist_at(*out, 0)->type != op->type) {
		fail(reply, f, "'%s' is not valid %s data%s%s", text, tname, e.seen ? ": " : "",
		     e.seen ? e.msg : "");
		rrlist_free(*out);
		*out = NULL;
		return false;
	}
	const rr_t *rr = rrlist_at(*out, 0);
	char why[600];
	if (rdata_check_record(zone_apex(z), rr->owner, rr->type, rr->rdata, rr->rdlen, why,
	                       sizeof(why)) != TDM_OK) {
		fail(reply, f, "%s", why);
		rrlist_free(*out);
		*out = NULL;
		return false;
	}
	return true;
}

static bool apply_op(apipatch_t *p, op_t *op, int index, api_reply_t *reply)
{
	char f[96];
	const zone_contents_t *z = p->z;
	size_t nrec = json_array_size(op->records);
	bool apex = name_equal(op->owner, zone_apex(z));
	if (op->type == PKT_TYPE_SOA && (op->change != OP_REPLACE || nrec != 1 || !apex))
		return fail(reply, field(op, "changetype", f, sizeof(f)),
		            "the SOA is changed only by a replace with one record at the apex (its serial "
		            "follows the zone's serial-policy)"), false;
	if ((op->change == OP_ADD || op->change == OP_REMOVE) && nrec == 0)
		return fail(reply, field(op, op->records_key, f, sizeof(f)), "%s: at least one record",
		            op->records_key), false;
	wset_t *w = wset_get(p, op->owner, op->type);
	if (w == NULL)
		return api_error(reply, 500, "out of memory"), false;
	w->op = index;
	bool is_new = w->ncur == 0;
	if (op->change == OP_REPLACE && nrec > 0 && !op->has_ttl)
		return fail(reply, field(op, "ttl", f, sizeof(f)), "ttl: needed to replace an RRset"), false;
	if (op->change == OP_ADD && is_new && !op->has_ttl)
		return fail(reply, field(op, "ttl", f, sizeof(f)), "ttl: needed for a new RRset"), false;
	if (op->change == OP_REPLACE || op->change == OP_DELETE)
		rd_clear(w);
	if (op->has_ttl && op->change != OP_DELETE && op->change != OP_REMOVE)
		w->ttl = op->ttl;
	if (op->change == OP_DELETE)
		return true;
	for (size_t k = 0; k < nrec; k++) {
		const json_t *r = json_array_get(op->records, k);
		char sub[48];
		snprintf(sub, sizeof(sub), "%s[%zu]", op->records_key, k);
		if (!json_is_string(r))
			return fail(reply, field(op, sub, f, sizeof(f)), "a string of record data is needed"),
			       false;
		rrlist_t *one = NULL;
		if (!parse_record(z, op, k, json_string_value(r), &one, reply))
			return false;
		const rr_t *rr = rrlist_at(one, 0);
		int ret = TDM_OK;
		if (op->change == OP_REMOVE) {
			ssize_t at = rd_find(w->cur, w->ncur, rr->rdata, rr->rdlen);
			if (at >= 0) {
				free(w->cur[at].data);
				w->cur[at] = w->cur[--w->ncur];
			}
		} else {
			ret = rd_add(w, rr->rdata, rr->rdlen);
		}
		rrlist_free(one);
		if (ret != TDM_OK)
			return api_error(reply, 500, "out of memory"), false;
	}
	return true;
}

apipatch_t *apipatch_read(const zone_contents_t *z, const json_t *body, bool post, api_reply_t *reply)
{
	apipatch_t *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return api_error(reply, 500, "out of memory"), NULL;
	p->z = z;
	p->post = post;
	if (post) {
		op_t op = { .change = OP_ADD, .records_key = "rdata" };
		if (read_op(z, body, &op, reply) && apply_op(p, &op, 0, reply))
			return p;
		apipatch_free(p);
		return NULL;
	}
	const json_t *list = json_object_get(body, "rrsets");
	if (!json_is_array(list) || json_array_size(list) == 0) {
		fail(reply, "rrsets", "rrsets: a list of operations is needed");
		goto fail;
	}
	if (json_array_size(list) > APIPATCH_RRSETS_MAX) {
		fail(reply, "rrsets", "at most %d operations in one PATCH", APIPATCH_RRSETS_MAX);
		goto fail;
	}
	for (size_t i = 0; i < json_array_size(list); i++) {
		op_t op = { .records_key = "records" };
		snprintf(op.at, sizeof(op.at), "rrsets[%zu].", i);
		const json_t *j = json_array_get(list, i);
		if (!read_op(z, j, &op, reply) || !read_change(j, &op, reply) ||
		    !apply_op(p, &op, (int)i, reply))
			goto fail;
	}
	return p;
fail:
	apipatch_free(p);
	return NULL;
}

static int add_all(rrlist_t *out, const wset_t *w, const rd_t *v, size_t n, const rd_t *other,
                   size_t nother, uint32_t ttl)
{
	for (size_t i = 0; i < n; i++) {
		if (other != NULL && rd_find(other, nother, v[i].data, v[i].len) >= 0)
			continue;
		int ret = rrlist_add(out, w->owner, w->type, ttl, v[i].data, v[i].len, 0);
		if (ret != TDM_OK)
			return ret;
	}
	return TDM_OK;
}

int apipatch_diff(const apipatch_t *p, rrlist_t **removed, rrlist_t **added)
{
	*removed = rrlist_new();
	*added = rrlist_new();
	int ret = *removed && *added ? TDM_OK : TDM_ENOMEM;
	for (size_t i = 0; ret == TDM_OK && i < p->nsets; i++) {
		const wset_t *w = &p->sets[i];
		/* A new TTL on an RRset that stays: all of it goes and comes back. */
		bool whole = w->ttl != w->ttl0 && w->norig > 0 && w->ncur > 0;
		ret = add_all(*removed, w, w->orig, w->norig, whole ? NULL : w->cur, w->ncur, w->ttl0);
		if (ret == TDM_OK)
			ret = add_all(*added, w, w->cur, w->ncur, whole ? NULL : w->orig, w->norig, w->ttl);
	}
	if (ret != TDM_OK) {
		rrlist_free(*removed);
		rrlist_free(*added);
		*removed = *added = NULL;
	}
	return ret;
}

const char *apipatch_blame(void *arg, const uint8_t *owner, uint16_t type)
{
	apipatch_t *p = arg;
	int op = -1;
	for (size_t i = 0; i < p->nsets; i++)
		if (name_equal(p->sets[i].owner, owner) && p->sets[i].op > op)
			op = p->sets[i].op;
	if (op < 0)
		return NULL;
	if (p->post)
		return "name";
	snprintf(p->field, sizeof(p->field), "rrsets[%d]", op);
	return p->field;
}
