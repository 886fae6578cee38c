/* ddns/ddns.c -- RFC 2136 dynamic update: prerequisites checked and updates turned into a change */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddns/ddns.h"
#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "wire/rdata.h"
#include "zone/diff.h"

#define CLASS_IN 1
#define CLASS_NONE 254
#define CLASS_ANY 255
#define TYPE_ANY 255

typedef struct {
	const uint8_t *data;
	uint16_t len;
	bool owned;              /* a copy from the message; else the version's own memory */
} rd_t;

/* The working copy of one RRset the update names (RFC 2136 3.4.2), loaded from the version first. */
typedef struct {
	uint8_t owner[NAME_MAXLEN];  /* lowercase */
	int owner_len;
	uint16_t type;
	uint32_t ttl;
	rd_t *rd;
	size_t n, cap;
} wset_t;

typedef struct {
	const zone_contents_t *z;
	const uint8_t *msg;
	size_t len;
	const uint8_t *apex;
	int apex_len;
	wset_t *sets;
	size_t nsets, cap;
	ddns_result_t *res;
} ddns_t;

static int refuse(ddns_t *d, int rcode, const char *fmt, const uint8_t *owner, uint16_t type)
{
	char name[NAME_TEXT_MAX], tname[16];
	name_to_text(owner, name, sizeof(name));
	rdata_type_name(type, tname, sizeof(tname));
	d->res->rcode = rcode;
	snprintf(d->res->why, sizeof(d->res->why), fmt, name, tname);
	return TDM_OK;
}

static bool is_dnssec(uint16_t type)
{
	return type == PKT_TYPE_RRSIG || type == PKT_TYPE_NSEC || type == PKT_TYPE_NSEC3 ||
	       type == 51 /* NSEC3PARAM */ || type == PKT_TYPE_DNSKEY;
}

static const zone_rrset_t *zone_set(const ddns_t *d, const uint8_t *owner, int len, uint16_t type)
{
	uint32_t idx = zone_lookup(d->z, owner, (size_t)len);
	return idx == ZONE_NODE_NONE ? NULL : zone_node_rrset(d->z, zone_node(d->z, idx), type);
}

static wset_t *find_set(ddns_t *d, const uint8_t *owner, int len, uint16_t type)
{
	for (size_t i = 0; i < d->nsets; i++)
		if (d->sets[i].type == type && d->sets[i].owner_len == len &&
		    memcmp(d->sets[i].owner, owner, (size_t)len) == 0)
			return &d->sets[i];
	return NULL;
}

static int rd_push(wset_t *s, const uint8_t *data, uint16_t len, bool copy)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		rd_t *p = realloc(s->rd, cap * sizeof(*p));
		if (p == NULL)
			return TDM_ENOMEM;
		s->rd = p;
		s->cap = cap;
	}
	rd_t r = { .data = data, .len = len };
	if (copy && len > 0) {
		uint8_t *c = malloc(len);
		if (c == NULL)
			return TDM_ENOMEM;
		memcpy(c, data, len);
		r.data = c;
		r.owned = true;
	}
	s->rd[s->n++] = r;
	return TDM_OK;
}

/* The working copy of (owner, type): made on first use, from the version's RRset when load. */
static int find_or_add(ddns_t *d, const uint8_t *owner, int len, uint16_t type, bool load, wset_t **out)
{
	if ((*out = find_set(d, owner, len, type)) != NULL)
		return TDM_OK;
	if (d->nsets == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		wset_t *p = realloc(d->sets, cap * sizeof(*p));
		if (p == NULL)
			return TDM_ENOMEM;
		d->sets = p;
		d->cap = cap;
	}
	wset_t *s = &d->sets[d->nsets++];
	*s = (wset_t){ .owner_len = len, .type = type };
	memcpy(s->owner, owner, (size_t)len);
	const zone_rrset_t *old = load ? zone_set(d, owner, len, type) : NULL;
	if (old != NULL) {
		zone_rdata_iter_t it;
		const uint8_t *rd;
		uint16_t rdlen;
		s->ttl = old->ttl;
		zone_rdata_begin(d->z, old, &it);
		while (zone_rdata_next(&it, &rd, &rdlen))
			if (rd_push(s, rd, rdlen, false) != TDM_OK)
				return TDM_ENOMEM;
	}
	*out = s;
	return TDM_OK;
}

static int get_set(ddns_t *d, const uint8_t *owner, int len, uint16_t type, wset_t **out)
{
	return find_or_add(d, owner, len, type, true, out);
}

static ssize_t rd_find(const wset_t *s, const uint8_t *data, uint16_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->rd[i].len == len && (len == 0 || memcmp(s->rd[i].data, data, len) == 0))
			return (ssize_t)i;
	return -1;
}

static void rd_drop(wset_t *s, size_t i)
{
	if (s->rd[i].owned)
		free((void *)s->rd[i].data);
	s->rd[i] = s->rd[--s->n];
}

static void set_clear(wset_t *s)
{
	while (s->n > 0)
		rd_drop(s, s->n - 1);
}

/* Whether the name holds, in the working view, an RRset of another type than `type` (DNSSEC records
 * aside: they may stand beside a CNAME). */
static bool other_data(const ddns_t *d, const uint8_t *owner, int len, uint16_t type)
{
	for (size_t i = 0; i < d->nsets; i++) {
		const wset_t *s = &d->sets[i];
		if (s->type != type && !is_dnssec(s->type) && s->n > 0 && s->owner_len == len &&
		    memcmp(s->owner, owner, (size_t)len) == 0)
			return true;
	}
	uint32_t idx = zone_lookup(d->z, owner, (size_t)len);
	if (idx == ZONE_NODE_NONE)
		return false;
	const zone_node_t *n = zone_node(d->z, idx);
	const zone_rrset_t *sets = zone_node_rrsets(d->z, n);
	for (uint16_t i = 0; i < n->rrset_count; i++)
		if (sets[i].type != type && !is_dnssec(sets[i].type) &&
		    find_set((ddns_t *)d, owner, len, sets[i].type) == NULL)
			return true;
	return false;
}

static bool has_cname(const ddns_t *d, const uint8_t *owner, int len)
{
	const wset_t *s = find_set((ddns_t *)d, owner, len, PKT_TYPE_CNAME);
	return s != NULL ? s->n > 0 : zone_set(d, owner, len, PKT_TYPE_CNAME) != NULL;
}

static bool in_zone(const ddns_t *d, const uint8_t *owner, int len)
{
	if (len < d->apex_len || memcmp(owner + len - d->apex_len, d->apex, (size_t)d->apex_len) != 0)
		return false;
	const uint8_t *p = owner;
	while (p - owner < len - d->apex_len)
		p += 1 + *p;
	return p - owner == len - d->apex_len;
}

/* One record of a section, its owner lowercased and its rdata uncompressed into buf. */
typedef struct {
	pkt_rr_t rr;
	uint8_t owner[NAME_MAXLEN];
	int owner_len;
	uint8_t rdata[65535];
	int rdlen;
} rec_t;

static int read_rec(ddns_t *d, size_t *pos, rec_t *r)
{
	if (pkt_read_rr(d->msg, d->len, pos, &r->rr) != TDM_OK)
		return TDM_EMALF;
	name_copy_lower(r->owner, r->rr.owner);
	r->owner_len = name_length(r->owner, NAME_MAXLEN);
	r->rdlen = 0;
	if (r->rr.rdlen > 0) {
		r->rdlen = rdata_unpack(d->msg, d->len, r->rr.rdata_pos, r->rr.rdlen, r->rr.type, r->rdata,
		                        sizeof(r->rdata));
		if (r->rdlen < 0)
			return TDM_EMALF;
	}
	return TDM_OK;
}

/* RFC 2136 3.2: every prerequisite against the version as it is. Value-dependent ones (class IN) are
 * gathered per RRset and compared whole. */
static int prerequisites(ddns_t *d, size_t *pos, unsigned count, rec_t *r)
{
	ddns_t want = { .z = d->z, .apex = d->apex, .apex_len = d->apex_len };
	int ret = TDM_OK;
	for (unsigned i = 0; i < count && ret == TDM_OK && d->res->rcode == PKT_RCODE_NOERROR; i++) {
		if (read_rec(d, pos, r) != TDM_OK) {
			ret = refuse(d, PKT_RCODE_FORMERR, "%s %s: prerequisite unreadable", d->apex, 0);
			break;
		}
		uint16_t type = r->rr.type, cls = r->rr.rclass;
		if (r->rr.ttl != 0 || (cls != CLASS_IN && r->rr.rdlen != 0) ||
		    (cls != CLASS_IN && cls != CLASS_ANY && cls != CLASS_NONE))
			ret = refuse(d, PKT_RCODE_FORMERR, "%s %s: malformed prerequisite", r->owner, type);
		else if (!in_zone(d, r->owner, r->owner_len))
			ret = refuse(d, PKT_RCODE_NOTZONE, "%s %s: prerequisite outside the zone", r->owner, type);
		else if (cls == CLASS_ANY && type == TYPE_ANY) {
			uint32_t idx = zone_lookup(d->z, r->owner, (size_t)r->owner_len);
			if (idx == ZONE_NODE_NONE || zone_node(d->z, idx)->rrset_count == 0)
				ret = refuse(d, PKT_RCODE_NXDOMAIN, "%s %s: name not in use", r->owner, type);
		} else if (cls == CLASS_ANY) {
			if (zone_set(d, r->owner, r->owner_len, type) == NULL)
				ret = refuse(d, PKT_RCODE_NXRRSET, "%s %s: RRset does not exist", r->owner, type);
		} else if (cls == CLASS_NONE && type == TYPE_ANY) {
			uint32_t idx = zone_lookup(d->z, r->owner, (size_t)r->owner_len);
			if (idx != ZONE_NODE_NONE && zone_node(d->z, idx)->rrset_count != 0)
				ret = refuse(d, PKT_RCODE_YXDOMAIN, "%s %s: name in use", r->owner, type);
		} else if (cls == CLASS_NONE) {
			if (zone_set(d, r->owner, r->owner_len, type) != NULL)
				ret = refuse(d, PKT_RCODE_YXRRSET, "%s %s: RRset exists", r->owner, type);
		} else {
			wset_t *s;   /* what the request lists, nothing from the version */
			ret = find_or_add(&want, r->owner, r->owner_len, type, false, &s);
			if (ret == TDM_OK && rd_find(s, r->rdata, (uint16_t)r->rdlen) < 0)
				ret = rd_push(s, r->rdata, (uint16_t)r->rdlen, true);
		}
	}
	/* Each RRset asked for by value must be exactly the version's (RFC 2136 3.2.3). */
	for (size_t i = 0; i < want.nsets && ret == TDM_OK && d->res->rcode == PKT_RCODE_NOERROR; i++) {
		wset_t *s = &want.sets[i];
		const zone_rrset_t *old = zone_set(d, s->owner, s->owner_len, s->type);
		bool same = old != NULL && old->count == s->n;
		zone_rdata_iter_t it;
		const uint8_t *rd;
		uint16_t rdlen;
		if (same) {
			zone_rdata_begin(d->z, old, &it);
			while (same && zone_rdata_next(&it, &rd, &rdlen))
				same = rd_find(s, rd, rdlen) >= 0;
		}
		if (!same)
			ret = refuse(d, PKT_RCODE_NXRRSET, "%s %s: RRset differs", s->owner, s->type);
	}
	for (size_t i = 0; i < want.nsets; i++) {
		set_clear(&want.sets[i]);
		free(want.sets[i].rd);
	}
	free(want.sets);
	return ret;
}

/* RFC 2136 3.4.1: the update section checked whole before anything is applied. */
static int prescan(ddns_t *d, size_t pos, unsigned count, rec_t *r)
{
	for (unsigned i = 0; i < count; i++) {
		if (read_rec(d, &pos, r) != TDM_OK)
			return refuse(d, PKT_RCODE_FORMERR, "%s %s: update unreadable", d->apex, 0);
		uint16_t type = r->rr.type, cls = r->rr.rclass;
		if (!in_zone(d, r->owner, r->owner_len))
			return refuse(d, PKT_RCODE_NOTZONE, "%s %s: update outside the zone", r->owner, type);
		if (is_dnssec(type))
			return refuse(d, PKT_RCODE_REFUSED, "%s %s: DNSSEC records are the signer's, not updated",
			              r->owner, type);
		bool meta = rdata_is_meta(type) || type == 251 || type == 252 || type == 253 || type == 254;
		if (cls == CLASS_IN) {
			char why[160];
			if (meta)
				return refuse(d, PKT_RCODE_FORMERR, "%s %s: not a type of zone data", r->owner, type);
			if (rdata_check_record(d->apex, r->owner, type, r->rdata, (size_t)r->rdlen, why,
			                       sizeof(why)) != TDM_OK) {
				d->res->rcode = PKT_RCODE_FORMERR;
				snprintf(d->res->why, sizeof(d->res->why), "%s", why);
				return TDM_OK;
			}
		} else if (cls == CLASS_ANY) {
			if (r->rr.ttl != 0 || r->rr.rdlen != 0 || (meta && type != TYPE_ANY))
				return refuse(d, PKT_RCODE_FORMERR, "%s %s: malformed RRset deletion", r->owner, type);
		} else if (cls == CLASS_NONE) {
			if (r->rr.ttl != 0 || meta)
				return refuse(d, PKT_RCODE_FORMERR, "%s %s: malformed record deletion", r->owner, type);
		} else {
			return refuse(d, PKT_RCODE_FORMERR, "%s %s: class of no update", r->owner, type);
		}
	}
	return TDM_OK;
}

static bool at_apex(const ddns_t *d, const rec_t *r)
{
	return r->owner_len == d->apex_len && memcmp(r->owner, d->apex, (size_t)d->apex_len) == 0;
}

static uint32_t soa_serial(const uint8_t *rd, size_t len)
{
	return len >= 20 ? pkt_get32(rd + len - 20) : 0;
}

/* RFC 2136 3.4.2.2: an addition. */
static int add_rr(ddns_t *d, const rec_t *r)
{
	uint16_t type = r->rr.type;
	wset_t *s;
	if (type == PKT_TYPE_SOA) {
		if (!at_apex(d, r) || serial_cmp(soa_serial(r->rdata, (size_t)r->rdlen), zone_serial(d->z)) <= 0)
			return TDM_OK;   /* not forward: ignored */
		int ret = get_set(d, r->owner, r->owner_len, type, &s);
		if (ret != TDM_OK)
			return ret;
		set_clear(s);
		s->ttl = r->rr.ttl;
		return rd_push(s, r->rdata, (uint16_t)r->rdlen, true);
	}
	if (type == PKT_TYPE_CNAME ? other_data(d, r->owner, r->owner_len, PKT_TYPE_CNAME)
	                           : has_cname(d, r->owner, r->owner_len))
		return TDM_OK;   /* a CNAME stands alone: ignored */
	int ret = get_set(d, r->owner, r->owner_len, type, &s);
	if (ret != TDM_OK)
		return ret;
	/* One TTL an RRset (RFC 2181 5.2): the last record added sets it. A CNAME or DNAME is replaced. */
	s->ttl = r->rr.ttl;
	if (type == PKT_TYPE_CNAME || type == PKT_TYPE_DNAME)
		set_clear(s);
	if (rd_find(s, r->rdata, (uint16_t)r->rdlen) >= 0)
		return TDM_OK;
	return rd_push(s, r->rdata, (uint16_t)r->rdlen, true);
}

/* The types the name holds in the working view. */
static int clear_name(ddns_t *d, const rec_t *r)
{
	bool apex = at_apex(d, r);
	uint32_t idx = zone_lookup(d->z, r->owner, (size_t)r->owner_len);
	if (idx != ZONE_NODE_NONE) {
		const zone_node_t *n = zone_node(d->z, idx);
		const zone_rrset_t *sets = zone_node_rrsets(d->z, n);
		for (uint16_t i = 0; i < n->rrset_count; i++) {
			wset_t *s;
			if (is_dnssec(sets[i].type) || (apex && (sets[i].type == PKT_TYPE_SOA ||
			                                         sets[i].type == PKT_TYPE_NS)))
				continue;
			if (get_set(d, r->owner, r->owner_len, sets[i].type, &s) != TDM_OK)
				return TDM_ENOMEM;
		}
	}
	for (size_t i = 0; i < d->nsets; i++) {
		wset_t *s = &d->sets[i];
		if (s->owner_len == r->owner_len && memcmp(s->owner, r->owner, (size_t)r->owner_len) == 0 &&
		    !(apex && (s->type == PKT_TYPE_SOA || s->type == PKT_TYPE_NS)))
			set_clear(s);
	}
	return TDM_OK;
}

/* RFC 2136 3.4.2.3 and 3.4.2.4: deletions. */
static int delete_rr(ddns_t *d, const rec_t *r)
{
	uint16_t type = r->rr.type;
	bool apex = at_apex(d, r);
	if (r->rr.rclass == CLASS_ANY && type == TYPE_ANY)
		return clear_name(d, r);
	if (type == PKT_TYPE_SOA || (apex && r->rr.rclass == CLASS_ANY && type == PKT_TYPE_NS))
		return TDM_OK;   /* the apex keeps its SOA and NS RRsets */
	wset_t *s;
	int ret = get_set(d, r->owner, r->owner_len, type, &s);
	if (ret != TDM_OK)
		return ret;
	if (r->rr.rclass == CLASS_ANY) {
		set_clear(s);
		return TDM_OK;
	}
	ssize_t at = rd_find(s, r->rdata, (uint16_t)r->rdlen);
	if (at >= 0 && !(apex && type == PKT_TYPE_NS && s->n == 1))
		rd_drop(s, (size_t)at);
	return TDM_OK;
}

static int put_rr(rrlist_t *l, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd,
                  uint16_t len)
{
	return rrlist_add(l, owner, type, ttl, rd, len, 0) == TDM_OK ? TDM_OK : TDM_ENOMEM;
}

/* The change: per working set, what the version loses and gains (a TTL change replaces the set). */
static int diff_sets(ddns_t *d, rrlist_t *removed, rrlist_t *added, bool *soa_set)
{
	*soa_set = false;
	for (size_t i = 0; i < d->nsets; i++) {
		wset_t *s = &d->sets[i];
		const zone_rrset_t *old = zone_set(d, s->owner, s->owner_len, s->type);
		bool ttl_changed = old != NULL && s->n > 0 && old->ttl != s->ttl;
		size_t before = rrlist_count(added);
		if (old != NULL) {
			zone_rdata_iter_t it;
			const uint8_t *rd;
			uint16_t rdlen;
			zone_rdata_begin(d->z, old, &it);
			while (zone_rdata_next(&it, &rd, &rdlen))
				if ((ttl_changed || rd_find(s, rd, rdlen) < 0) &&
				    put_rr(removed, s->owner, s->type, old->ttl, rd, rdlen) != TDM_OK)
					return TDM_ENOMEM;
		}
		for (size_t k = 0; k < s->n; k++) {
			bool had = false;
			if (old != NULL && !ttl_changed) {
				zone_rdata_iter_t it;
				const uint8_t *rd;
				uint16_t rdlen;
				zone_rdata_begin(d->z, old, &it);
				while (!had && zone_rdata_next(&it, &rd, &rdlen))
					had = rdlen == s->rd[k].len && (rdlen == 0 || !memcmp(rd, s->rd[k].data, rdlen));
			}
			if (!had && put_rr(added, s->owner, s->type, s->ttl, s->rd[k].data, s->rd[k].len) != TDM_OK)
				return TDM_ENOMEM;
		}
		if (s->type == PKT_TYPE_SOA && rrlist_count(added) > before)
			*soa_set = true;
	}
	return TDM_OK;
}

/* Anything changed and the SOA not moved forward by the update: the serial goes to next. */
static int raise_serial(ddns_t *d, rrlist_t *removed, rrlist_t *added, uint32_t next_serial)
{
	const zone_rrset_t *soa = zone_soa(d->z);
	uint16_t len;
	const uint8_t *rd = zone_rrset_first(d->z, soa, &len);
	uint8_t next[512];
	if (len > sizeof(next) || len < 20)
		return TDM_EMALF;
	memcpy(next, rd, len);
	pkt_put32(next + len - 20, next_serial);
	if (put_rr(removed, d->apex, PKT_TYPE_SOA, soa->ttl, rd, len) != TDM_OK ||
	    put_rr(added, d->apex, PKT_TYPE_SOA, soa->ttl, next, len) != TDM_OK)
		return TDM_ENOMEM;
	d->res->serial = next_serial;
	return TDM_OK;
}

int ddns_prepare(const zone_contents_t *z, const uint8_t *msg, size_t len, uint32_t next_serial,
                 rrlist_t *removed, rrlist_t *added, ddns_result_t *res)
{
	*res = (ddns_result_t){ .rcode = PKT_RCODE_NOERROR, .serial = zone_serial(z) };
	ddns_t d = { .z = z, .msg = msg, .len = len, .apex = zone_apex(z), .res = res };
	d.apex_len = name_length(d.apex, NAME_MAXLEN);
	if (len < 12)
		return refuse(&d, PKT_RCODE_FORMERR, "%s %s: shorter than a header", d.apex, 0);
	unsigned prereqs = pkt_ancount(msg), updates = pkt_nscount(msg);
	if (prereqs + updates > DDNS_MAX_RECORDS)
		return refuse(&d, PKT_RCODE_REFUSED, "%s %s: too many records in one update", d.apex, 0);
	size_t pos = 12;
	pkt_question_t zq;
	rec_t *r = malloc(sizeof(*r));
	if (r == NULL)
		return TDM_ENOMEM;
	int ret = TDM_OK;
	if (pkt_read_question(msg, len, &pos, &zq) != TDM_OK)
		ret = refuse(&d, PKT_RCODE_FORMERR, "%s %s: zone section unreadable", d.apex, 0);
	if (ret == TDM_OK && res->rcode == PKT_RCODE_NOERROR)
		ret = prerequisites(&d, &pos, prereqs, r);
	if (ret == TDM_OK && res->rcode == PKT_RCODE_NOERROR)
		ret = prescan(&d, pos, updates, r);
	for (unsigned i = 0; i < updates && ret == TDM_OK && res->rcode == PKT_RCODE_NOERROR; i++) {
		if (read_rec(&d, &pos, r) != TDM_OK)
			ret = TDM_EMALF;   /* prescan read it: cannot happen */
		else
			ret = r->rr.rclass == CLASS_IN ? add_rr(&d, r) : delete_rr(&d, r);
	}
	bool soa_set = false;
	if (ret == TDM_OK && res->rcode == PKT_RCODE_NOERROR)
		ret = diff_sets(&d, removed, added, &soa_set);
	if (ret == TDM_OK && res->rcode == PKT_RCODE_NOERROR && rrlist_count(added) + rrlist_count(removed) > 0) {
		if (!soa_set)
			ret = raise_serial(&d, removed, added, next_serial);
		else
			for (size_t i = 0; i < rrlist_count(added); i++)
				if (rrlist_at(added, i)->type == PKT_TYPE_SOA)
					res->serial = soa_serial(rrlist_at(added, i)->rdata, rrlist_at(added, i)->rdlen);
	}
	for (size_t i = 0; i < d.nsets; i++) {
		set_clear(&d.sets[i]);
		free(d.sets[i].rd);
	}
	free(d.sets);
	free(r);
	if (ret == TDM_EMALF) {
		res->rcode = PKT_RCODE_FORMERR;
		snprintf(res->why, sizeof(res->why), "malformed update");
		ret = TDM_OK;
	}
	return ret;
}
