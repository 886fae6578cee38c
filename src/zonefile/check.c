/* zonefile/check.c -- semantic checks of a zone's records before it is served */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libknot/libknot.h>

#include "lib/error.h"
#include "wire/name.h"
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
	unsigned problems;
	unsigned apex_soa, apex_ns;
};

/* What one owner name holds: the records [first, end) of the sorted list. */
struct group {
	size_t first, end;
	const rr_t *soa2, *cname, *cname2, *dname, *other;
};

static void problem(struct check *c, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct check *c, unsigned line, const char *fmt, ...)
{
	char msg[2400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->problems++;
	c->fn(c->ctx, c->file, line, msg);
}

static const char *text(const uint8_t *name, char buf[NAME_TEXT_MAX])
{
	if (name_to_text(name, buf, NAME_TEXT_MAX) < 0)
		snprintf(buf, NAME_TEXT_MAX, "(bad name)");
	return buf;
}

/* Index of the first record whose owner is not before name in canonical order. */
static size_t lower_bound(const struct check *c, const uint8_t *name)
{
	size_t lo = 0, hi = c->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (name_cmp_canonical(rrlist_at(c->list, mid)->owner, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool has_address(const struct check *c, const uint8_t *name)
{
	for (size_t i = lower_bound(c, name); i < c->count; i++) {
		const rr_t *rr = rrlist_at(c->list, i);
		if (!name_equal(rr->owner, name))
			break;
		if (rr->type == T_A || rr->type == T_AAAA)
			return true;
	}
	return false;
}

/* An NS at a delegation point whose target lies at or below it can only be reached through glue. */
static void check_glue(struct check *c, const rr_t *ns)
{
	uint8_t target[NAME_MAXLEN];
	char b1[NAME_TEXT_MAX], b2[NAME_TEXT_MAX];
	if (name_length(ns->rdata, ns->rdlen) < 0)
		return;
	name_copy_lower(target, ns->rdata);
	if (!name_in_zone(target, ns->owner) || has_address(c, target))
		return;
	problem(c, ns->line, "missing glue for NS target %s below delegation %s", text(target, b1),
	        text(ns->owner, b2));
}

static void scan_group(struct check *c, struct group *g)
{
	const uint8_t *owner = rrlist_at(c->list, g->first)->owner;
	bool apex = name_equal(owner, c->apex);
	size_t i = g->first;
	for (; i < c->count; i++) {
		const rr_t *rr = rrlist_at(c->list, i);
		if (!name_equal(rr->owner, owner))
			break;
		if (rr->type == T_SOA && apex && c->apex_soa++ == 1)
			g->soa2 = rr;
		else if (rr->type == T_NS && apex)
			c->apex_ns++;
		else if (rr->type == T_CNAME && g->cname == NULL)
			g->cname = rr;
		else if (rr->type == T_CNAME && g->cname2 == NULL)
			g->cname2 = rr;
		else if (rr->type == T_DNAME)
			g->dname = rr;
		if (rr->type != T_CNAME && rr->type != T_RRSIG && rr->type != T_NSEC && g->other == NULL)
			g->other = rr;
	}
	g->end = i;
}

static void check_out_of_zone(struct check *c, const struct group *g)
{
	char b1[NAME_TEXT_MAX], b2[NAME_TEXT_MAX];
	for (size_t i = g->first; i < g->end; i++) {
		const rr_t *rr = rrlist_at(c->list, i);
		problem(c, rr->line, "record %s outside zone %s", text(rr->owner, b1), text(c->apex, b2));
	}
}

static void check_group(struct check *c, const struct group *g)
{
	const rr_t *first = rrlist_at(c->list, g->first);
	char b1[NAME_TEXT_MAX], b2[NAME_TEXT_MAX], type[32];
	bool apex = name_equal(first->owner, c->apex);
	for (size_t i = g->first; i < g->end; i++) {
		const rr_t *rr = rrlist_at(c->list, i);
		if (rr->type == T_SOA && !apex)
			problem(c, rr->line, "SOA record at %s, not at the zone apex", text(rr->owner, b1));
		if (rr->type == T_NS && !apex)
			check_glue(c, rr);
	}
	if (g->soa2 != NULL)
		problem(c, g->soa2->line, "more than one SOA record at the zone apex");
	if (g->cname2 != NULL)
		problem(c, g->cname2->line, "more than one CNAME at %s", text(first->owner, b1));
	if (g->cname != NULL && g->other != NULL) {
		/* RFC 1034 3.6.2 (and RFC 2181 10.1): a CNAME stands alone, DNSSEC records aside. */
		knot_rrtype_to_string(g->other->type, type, sizeof(type));
		problem(c, g->cname->line, "CNAME at %s beside other data (%s)", text(first->owner, b1),
		        type);
	}
	/* RFC 6672 2.4: no names below a DNAME. In canonical order they follow it immediately. */
	if (g->dname != NULL && g->end < c->count) {
		const rr_t *next = rrlist_at(c->list, g->end);
		if (name_in_zone(next->owner, first->owner))
			problem(c, g->dname->line, "DNAME at %s has names below it (%s)",
			        text(first->owner, b1), text(next->owner, b2));
	}
}

int zonefile_check(const rrlist_t *list, const uint8_t *apex, const char *file,
                   zonefile_error_fn fn, void *ctx)
{
	char zone[NAME_TEXT_MAX];
	/* Records from the store or the API have no file: name the zone instead. */
	struct check c = { .list = list, .count = rrlist_count(list), .apex = apex,
	                   .file = file != NULL ? file : text(apex, zone),
	                   .fn = fn != NULL ? fn : zonefile_error_print, .ctx = ctx };
	struct group g;
	for (size_t i = 0; i < c.count; i = g.end) {
		memset(&g, 0, sizeof(g));
		g.first = i;
		scan_group(&c, &g);
		if (!name_in_zone(rrlist_at(list, i)->owner, apex))
			check_out_of_zone(&c, &g);
		else
			check_group(&c, &g);
	}
	if (c.apex_soa == 0)
		problem(&c, 0, "no SOA record at the zone apex");
	if (c.apex_ns == 0)
		problem(&c, 0, "no NS records at the zone apex");
	return c.problems > 0 ? TDM_ESEMCHECK : TDM_OK;
}
