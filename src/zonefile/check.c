/* zonefile/check.c -- semantic checks of a zone's records before it is served */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#include "lib/error.h"
#include "wire/name.h"
#include "zone/contents.h"
#include "zonefile/zonefile.h"

enum { T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_AAAA = 28, T_DNAME = 39, T_RRSIG = 46,
       T_NSEC = 47 };

struct check {
	const rrlist_t *list;
	size_t count;
	const uint8_t *apex;
	const char *file;
	zonefile_error_fn fn;
	void *ctx;
	const zone_contents_t *z;
	unsigned problems;
};


/* One problem found, counted. */
#define problem(c, line, ...) \
	((c)->problems++, zonefile_report((c)->fn, (c)->ctx, (c)->file, (line), __VA_ARGS__))

static const char *text(const uint8_t *name, char buf[NAME_TEXT_MAX])
{
	if (name_to_text(name, buf, NAME_TEXT_MAX) < 0)
		snprintf(buf, NAME_TEXT_MAX, "(bad name)");
	return buf;
}

/* The line of the record matching owner and type (and rdata when given); with last, the latest one. */
static unsigned find_line(const struct check *c, const uint8_t *owner, uint16_t type,
                          const uint8_t *rdata, uint16_t rdlen, bool last)
{
	unsigned line = 0;
	for (size_t i = 0; i < c->count; i++) {
		const rr_t *rr = rrlist_at(c->list, i);
		if (rr->type != type || !name_equal(rr->owner, owner))
			continue;
		if (rdata != NULL && (rr->rdlen != rdlen || memcmp(rr->rdata, rdata, rdlen) != 0))
			continue;
		if (!last)
			return rr->line;
		line = rr->line > line ? rr->line : line;
	}
	return line;
}

/* An NS at a delegation point whose target lies at or below it can only be reached through glue. */
static void check_glue(struct check *c, const uint8_t *cut, const zone_rrset_t *ns)
{
	zone_rdata_iter_t it;
	const uint8_t *rd;
	uint16_t rdlen;
	char b1[NAME_TEXT_MAX], b2[NAME_TEXT_MAX];
	zone_rdata_begin(c->z, ns, &it);
	while (zone_rdata_next(&it, &rd, &rdlen)) {
		uint8_t target[NAME_MAXLEN];
		if (name_length(rd, rdlen) < 0)
			continue;
		int len = name_copy_lower(target, rd);
		if (!name_in_zone(target, cut))
			continue;
		uint32_t idx = zone_lookup(c->z, target, (size_t)len);
		const zone_node_t *n = idx == ZONE_NODE_NONE ? NULL : zone_node(c->z, idx);
		if (n != NULL && (zone_node_rrset(c->z, n, T_A) || zone_node_rrset(c->z, n, T_AAAA)))
			continue;
		problem(c, find_line(c, cut, T_NS, rd, rdlen, false),
		        "missing glue for NS target %s below delegation %s", text(target, b1),
		        text(cut, b2));
	}
}

/* RFC 6672 2.4: no names below a DNAME. Names the first record found below it. */
static void check_dname(struct check *c, const uint8_t *owner)
{
	char b1[NAME_TEXT_MAX], b2[NAME_TEXT_MAX];
	for (size_t i = 0; i < c->count; i++) {
		const rr_t *rr = rrlist_at(c->list, i);
		if (!name_equal(rr->owner, owner) && name_in_zone(rr->owner, owner)) {
			problem(c, find_line(c, owner, T_DNAME, NULL, 0, false),
			        "DNAME at %s has names below it (%s)", text(owner, b1), text(rr->owner, b2));
			return;
		}
	}
}

static void check_node(struct check *c, const zone_node_t *n, bool has_children)
{
	const uint8_t *owner = zone_node_name(c->z, n);
	const zone_rrset_t *sets = zone_node_rrsets(c->z, n), *cname = NULL, *other = NULL;
	char b1[NAME_TEXT_MAX], type[32];
	bool apex = (n->flags & ZONE_NODE_APEX) != 0;
	for (uint16_t i = 0; i < n->rrset_count; i++) {
		const zone_rrset_t *s = &sets[i];
		if (s->type == T_SOA && !apex)
			problem(c, find_line(c, owner, T_SOA, NULL, 0, false),
			        "SOA record at %s, not at the zone apex", text(owner, b1));
		else if (s->type == T_SOA && s->count > 1)
			problem(c, find_line(c, owner, T_SOA, NULL, 0, true),
			        "more than one SOA record at the zone apex");
		if (s->type == T_NS && (n->flags & ZONE_NODE_DELEG))
			check_glue(c, owner, s);
		if (s->type == T_CNAME)
			cname = s;
		else if (s->type != T_RRSIG && s->type != T_NSEC && other == NULL)
			other = s;
	}
	if (cname != NULL && cname->count > 1)
		problem(c, find_line(c, owner, T_CNAME, NULL, 0, true), "more than one CNAME at %s",
		        text(owner, b1));
	if (cname != NULL && other != NULL) {
		/* RFC 1034 3.6.2 (and RFC 2181 10.1): a CNAME stands alone, DNSSEC records aside. */
		knot_rrtype_to_string(other->type, type, sizeof(type));
		problem(c, find_line(c, owner, T_CNAME, NULL, 0, false),
		        "CNAME at %s beside other data (%s)", text(owner, b1), type);
	}
	if ((n->flags & ZONE_NODE_DNAME) && has_children)
		check_dname(c, owner);
}

static void check_out_of_zone(struct check *c)
{
	char b1[NAME_TEXT_MAX], b2[NAME_TEXT_MAX];
	for (size_t i = 0; i < c->count; i++) {
		const rr_t *rr = rrlist_at(c->list, i);
		if (!name_in_zone(rr->owner, c->apex))
			problem(c, rr->line, "record %s outside zone %s", text(rr->owner, b1),
			        text(c->apex, b2));
	}
}

static int check_contents(struct check *c)
{
	uint32_t count = zone_node_count(c->z);
	uint8_t *parents = calloc(count ? count : 1, 1);
	if (parents == NULL)
		return TDM_ENOMEM;
	for (uint32_t i = 0; i < count; i++)
		if (zone_node(c->z, i)->parent != i && !(zone_node(c->z, i)->flags & ZONE_NODE_DEAD))
			parents[zone_node(c->z, i)->parent] = 1;
	for (uint32_t i = 0; i < count; i++)
		if (!(zone_node(c->z, i)->flags & ZONE_NODE_DEAD))
			check_node(c, zone_node(c->z, i), parents[i] != 0);
	free(parents);
	const zone_node_t *apex = zone_node(c->z, zone_apex_index(c->z));
	if (zone_node_rrset(c->z, apex, T_NS) == NULL)
		problem(c, 0, "no NS records at the zone apex");
	return TDM_OK;
}

int zonefile_check(const rrlist_t *list, const zone_contents_t *z, const uint8_t *apex,
                   const char *file, zonefile_error_fn fn, void *ctx)
{
	char zone[NAME_TEXT_MAX];
	/* Records from the store or the API have no file: name the zone instead. */
	struct check c = { .list = list, .count = rrlist_count(list), .apex = apex, .z = z,
	                   .file = file != NULL ? file : text(apex, zone),
	                   .fn = fn != NULL ? fn : zonefile_error_print, .ctx = ctx };
	zone_contents_t *built = NULL;
	check_out_of_zone(&c);
	if (c.z == NULL) {
		int ret = zone_contents_build(apex, list, &built);
		if (ret != TDM_OK && ret != TDM_ESEMCHECK)
			return ret;
		c.z = built;
	}
	if (c.z == NULL) {
		/* The only reason a version cannot be built: no SOA at the apex. */
		problem(&c, 0, "no SOA record at the zone apex");
		bool ns = false;
		for (size_t i = 0; i < c.count && !ns; i++)
			ns = rrlist_at(list, i)->type == T_NS && name_equal(rrlist_at(list, i)->owner, apex);
		if (!ns)
			problem(&c, 0, "no NS records at the zone apex");
	} else if (check_contents(&c) != TDM_OK) {
		zone_contents_free(built);
		return TDM_ENOMEM;
	}
	zone_contents_free(built);
	return c.problems > 0 ? TDM_ESEMCHECK : TDM_OK;
}
