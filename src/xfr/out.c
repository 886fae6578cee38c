/* xfr/out.c -- zone transfers out: AXFR and IXFR as a stream of messages */
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "xfr/out.h"

/* An OPT record with EXPIRE: root owner, type, class (payload), TTL, rdlength, one 8-octet option. */
#define EXPIRE_OPT_LEN (1 + 10 + 8)

static size_t opt_room(const xfr_out_t *x)
{
	return x->messages == 0 && x->expire ? EXPIRE_OPT_LEN : 0;
}

/* Messages are filled up to PKT_COMPRESS_REACH octets (the last record may go past it, up to the
 * 65535-octet TCP limit less what TSIG needs): RFC 5936 2.2 asks for enough records to amortize a
 * message's overhead, and every name of such a message can be pointed at, so each owner is written
 * once and its suffixes are shared (NSD and Knot send 16 KiB messages for the same reason). Only the
 * first carries the question (RFC 5936 2.2.1 allows it in all) and, when asked, the EXPIRE option
 * (RFC 7314 4: a secondary of a secondary counts from what is left). */
static int start_message(xfr_out_t *x)
{
	pkt_writer_init(&x->w, x->buf, PKT_MAXLEN - x->reserve - opt_room(x));
	if (x->table != NULL)
		pkt_writer_set_table(&x->w, x->table);
	int ret = pkt_write_header(&x->w, x->id, x->flags);
	if (ret == TDM_OK && x->messages == 0 && x->question != NULL)
		ret = pkt_write_question(&x->w, x->question->qname, x->question->qtype,
		                         x->question->qclass);
	x->open = ret == TDM_OK;
	x->owner_pos = 0;
	return ret;
}

static int flush_message(xfr_out_t *x, bool last)
{
	size_t room = opt_room(x);
	if (room > 0) {
		uint8_t opt[8] = { 0, 9 /* EXPIRE */, 0, 4 };
		pkt_put32(opt + 4, x->expire_value);
		x->w.cap += room;
		pkt_begin_section(&x->w, PKT_SECTION_ADDITIONAL);
		int ret = pkt_write_rr(&x->w, (const uint8_t *)"", 0, PKT_TYPE_OPT, 1232, 0, opt, sizeof(opt));
		if (ret != TDM_OK)
			return ret;
	}
	size_t len = pkt_writer_finish(&x->w);
	x->open = false;
	x->messages++;
	return x->send(x->ctx, x->buf, len, PKT_MAXLEN, last);
}

/* Where the owner of the last record of this message can be pointed at, or 0: its first octet, or
 * where it points if it is a pointer itself. */
static uint16_t last_owner_at(const xfr_out_t *x)
{
	size_t p = x->owner_pos;
	if (p == 0)
		return 0;
	if ((x->buf[p] & 0xC0) == 0xC0)
		return (uint16_t)(pkt_get16(x->buf + p) & 0x3FFF);
	return p < PKT_COMPRESS_REACH ? (uint16_t)p : 0;
}

/* One record; same_owner: the owner is the last record's (the caller knows it from the zone), so
 * when that one is in this message the owner is a pointer to it, with no lookup. */
static int put_rr(xfr_out_t *x, const uint8_t *owner, bool same_owner, uint16_t type, uint32_t ttl,
                  const uint8_t *rdata, uint16_t rdlen)
{
	int ret;
	if (x->open && x->w.pos >= PKT_COMPRESS_REACH && x->w.counts[0] > 0 &&
	    (ret = flush_message(x, false)) != TDM_OK)
		return ret;
	if (!x->open && (ret = start_message(x)) != TDM_OK)
		return ret;
	size_t at = x->w.pos;
	uint16_t ptr = same_owner ? last_owner_at(x) : 0;
	ret = pkt_write_rr(&x->w, owner, ptr, type, PKT_CLASS_IN, ttl, rdata, rdlen);
	if (ret == TDM_ESPACE && x->w.counts[0] > 0) {
		if ((ret = flush_message(x, false)) != TDM_OK || (ret = start_message(x)) != TDM_OK)
			return ret;
		at = x->w.pos;
		ret = pkt_write_rr(&x->w, owner, 0, type, PKT_CLASS_IN, ttl, rdata, rdlen);
	}
	if (ret == TDM_OK) {
		x->records++;
		x->owner_pos = at;
	}
	return ret;
}

int xfr_out_rr(xfr_out_t *x, const uint8_t *owner, uint16_t type, uint32_t ttl,
               const uint8_t *rdata, uint16_t rdlen)
{
	return put_rr(x, owner, false, type, ttl, rdata, rdlen);
}

int xfr_out_finish(xfr_out_t *x)
{
	int ret;
	if (!x->open && (ret = start_message(x)) != TDM_OK)
		return ret;
	return flush_message(x, true);
}

/* An RRset; same_owner: the last record written was the same node's. */
static int put_rrset(xfr_out_t *x, const zone_contents_t *z, const uint8_t *owner,
                     const zone_rrset_t *set, bool same_owner)
{
	zone_rdata_iter_t it;
	const uint8_t *rd;
	uint16_t rdlen;
	zone_rdata_begin(z, set, &it);
	while (zone_rdata_next(&it, &rd, &rdlen)) {
		int ret = put_rr(x, owner, same_owner, set->type, set->ttl, rd, rdlen);
		if (ret != TDM_OK)
			return ret;
		same_owner = true;
	}
	return TDM_OK;
}

static int put_soa(xfr_out_t *x, const zone_contents_t *z)
{
	return put_rrset(x, z, zone_apex(z), zone_soa(z), false);
}

/* A transfer's compression table: made for it unless the caller gave one, freed when it ends. */
static int table_begin(xfr_out_t *x, bool *made)
{
	*made = x->table == NULL;
	if (*made && (x->table = pkt_ctable_new()) == NULL)
		return TDM_ENOMEM;
	return TDM_OK;
}

static int table_end(xfr_out_t *x, bool made, int ret)
{
	if (made) {
		pkt_ctable_free(x->table);
		x->table = NULL;
	}
	return ret;
}

/* Whether the version's order already keeps the children of each parent together, looking at nodes
 * with records only (empty non-terminals send nothing) and leaving out the apex's children (the
 * apex's name is written once a message whatever the order). One pass; a bit per node. */
static bool order_groups_siblings(const zone_contents_t *z, uint32_t n, uint32_t apex, bool *ok)
{
	uint8_t *seen = calloc((size_t)n / 8 + 1, 1);
	*ok = seen != NULL;
	if (seen == NULL)
		return false;
	bool grouped = true;
	uint32_t last = apex;
	for (uint32_t i = 0; i < n && grouped; i++) {
		const zone_node_t *node = zone_node(z, i);
		if (i == apex || node->rrset_count == 0 || node->parent == apex || node->parent == last)
			continue;
		last = node->parent;
		grouped = !(seen[last / 8] & (1u << (last % 8)));
		seen[last / 8] |= (uint8_t)(1u << (last % 8));
	}
	free(seen);
	return grouped;
}

/*
 * The order nodes are sent in: depth first from the apex, each node's children together (in the
 * order of the version). A version keeps its nodes in the order the zone file or the store listed
 * them; names under one parent spread over the whole zone would each start a message's copy of
 * that parent, where NSD and Knot, walking their trees, write it once a message (the zonegen mix
 * with its 2,000 groups: 4.7% larger). The walk reads the nodes out of order, which costs (the mix:
 * 0.08 -> 0.12 s of CPU), so it is only made when the version's order does not group siblings.
 * NULL: the version's order (already grouped, memory short, or nodes that do not form one tree from
 * the apex), a correct transfer all the same.
 */
static uint32_t *send_order(const zone_contents_t *z)
{
	uint32_t n = zone_node_count(z), apex = zone_apex_index(z), emitted = 0, depth = 0;
	bool ok;
	if (order_groups_siblings(z, n, apex, &ok) || !ok)
		return NULL;
	uint32_t *end = calloc((size_t)n + 1, sizeof(uint32_t));
	uint32_t *kids = malloc(((size_t)n + 1) * sizeof(uint32_t));
	uint32_t *order = malloc(((size_t)n + 1) * sizeof(uint32_t));
	struct {
		uint32_t next, end;
	} stack[NAME_MAXLABELS + 1];
	if (end == NULL || kids == NULL || order == NULL)
		goto fail;
	/* end[p + 1] counts p's children, then end[p] is where they start, then (filled) where they
	 * end: p's children are kids[start(p) .. end[p]), start(p) = p ? end[p - 1] : 0. */
	for (uint32_t i = 0; i < n; i++)
		if (i != apex)
			end[zone_node(z, i)->parent + 1]++;
	for (uint32_t p = 0; p < n; p++)
		end[p + 1] += end[p];
	for (uint32_t i = 0; i < n; i++)
		if (i != apex)
			kids[end[zone_node(z, i)->parent]++] = i;
	order[emitted++] = apex;
	stack[0].next = apex ? end[apex - 1] : 0;
	stack[0].end = end[apex];
	for (;;) {
		if (stack[depth].next == stack[depth].end) {
			if (depth-- == 0)
				break;
			continue;
		}
		uint32_t c = kids[stack[depth].next++];
		if (emitted == n || depth + 1 > NAME_MAXLABELS)
			goto fail;
		order[emitted++] = c;
		depth++;
		stack[depth].next = c ? end[c - 1] : 0;
		stack[depth].end = end[c];
	}
	if (emitted != n)
		goto fail;
	free(end);
	free(kids);
	return order;
fail:
	free(end);
	free(kids);
	free(order);
	return NULL;
}

static int axfr(xfr_out_t *x, const zone_contents_t *z)
{
	int ret = put_soa(x, z);
	uint32_t apex = zone_apex_index(z), count = zone_node_count(z);
	uint32_t *order = send_order(z);
	for (uint32_t k = 0; k < count && ret == TDM_OK; k++) {
		uint32_t i = order != NULL ? order[k] : k;
		const zone_node_t *n = zone_node(z, i);
		const zone_rrset_t *sets = zone_node_rrsets(z, n);
		bool same_owner = false;
		for (uint16_t r = 0; r < n->rrset_count && ret == TDM_OK; r++)
			if (!(i == apex && sets[r].type == PKT_TYPE_SOA)) {
				ret = put_rrset(x, z, zone_node_name(z, n), &sets[r], same_owner);
				same_owner = true;
			}
	}
	free(order);
	if (ret == TDM_OK)
		ret = put_soa(x, z);
	return ret == TDM_OK ? xfr_out_finish(x) : ret;
}

static int put_list(xfr_out_t *x, const rrlist_t *list)
{
	for (size_t i = 0; i < rrlist_count(list); i++) {
		const rr_t *rr = rrlist_at(list, i);
		int ret = xfr_out_rr(x, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen);
		if (ret != TDM_OK)
			return ret;
	}
	return TDM_OK;
}

int xfr_out_axfr(xfr_out_t *x, const zone_contents_t *z)
{
	bool made;
	int ret = table_begin(x, &made);
	return table_end(x, made, ret == TDM_OK ? axfr(x, z) : ret);
}

static int ixfr(xfr_out_t *x, const zone_contents_t *z, const rr_t *old_soa,
                const rrlist_t *removed, const rrlist_t *added)
{
	int ret = put_soa(x, z);
	if (ret == TDM_OK)
		ret = xfr_out_rr(x, old_soa->owner, PKT_TYPE_SOA, old_soa->ttl, old_soa->rdata,
		                 old_soa->rdlen);
	if (ret == TDM_OK)
		ret = put_list(x, removed);
	if (ret == TDM_OK)
		ret = put_soa(x, z);
	if (ret == TDM_OK)
		ret = put_list(x, added);
	if (ret == TDM_OK)
		ret = put_soa(x, z);
	return ret == TDM_OK ? xfr_out_finish(x) : ret;
}

int xfr_out_ixfr(xfr_out_t *x, const zone_contents_t *z, const rr_t *old_soa,
                 const rrlist_t *removed, const rrlist_t *added)
{
	bool made;
	int ret = table_begin(x, &made);
	return table_end(x, made, ret == TDM_OK ? ixfr(x, z, old_soa, removed, added) : ret);
}

/* One message: the writer's own entries are enough. */
int xfr_out_soa_only(xfr_out_t *x, const zone_contents_t *z)
{
	int ret = put_soa(x, z);
	return ret == TDM_OK ? xfr_out_finish(x) : ret;
}

/* ---- condensing journal entries ---- */

struct xfr_condense {
	rrlist_t *ops;           /* every record of every entry, in order */
	uint8_t *added;          /* per op: 1 = added, 0 = removed */
	size_t cap;
};

xfr_condense_t *xfr_condense_new(void)
{
	xfr_condense_t *c = calloc(1, sizeof(*c));
	if (c != NULL && (c->ops = rrlist_new()) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void xfr_condense_free(xfr_condense_t *c)
{
	if (c == NULL)
		return;
	rrlist_free(c->ops);
	free(c->added);
	free(c);
}

static int push(xfr_condense_t *c, const rrlist_t *list, uint8_t added)
{
	for (size_t i = 0; i < rrlist_count(list); i++) {
		const rr_t *rr = rrlist_at(list, i);
		if (rr->type == PKT_TYPE_SOA)
			continue;
		size_t n = rrlist_count(c->ops);
		if (n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 256;
			uint8_t *p = realloc(c->added, cap);
			if (p == NULL)
				return TDM_ENOMEM;
			c->added = p;
			c->cap = cap;
		}
		/* The line field carries the op's position, so the sort can keep the order of ops. */
		if (rrlist_add(c->ops, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen,
		               (uint32_t)n) != TDM_OK)
			return TDM_ENOMEM;
		c->added[n] = added;
	}
	return TDM_OK;
}

int xfr_condense_add(xfr_condense_t *c, const rrlist_t *removed, const rrlist_t *added)
{
	int ret = push(c, removed, 0);
	return ret == TDM_OK ? push(c, added, 1) : ret;
}

typedef struct {
	const rr_t *rr;
} op_ref_t;

static int same_record(const rr_t *a, const rr_t *b)
{
	int c = name_cmp_canonical(a->owner, b->owner);
	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->ttl != b->ttl)
		return a->ttl < b->ttl ? -1 : 1;
	if (a->rdlen != b->rdlen)
		return a->rdlen < b->rdlen ? -1 : 1;
	return a->rdlen ? memcmp(a->rdata, b->rdata, a->rdlen) : 0;
}

static int op_cmp(const void *pa, const void *pb)
{
	const rr_t *a = ((const op_ref_t *)pa)->rr, *b = ((const op_ref_t *)pb)->rr;
	int c = same_record(a, b);
	if (c != 0)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

/*
 * For each distinct record, its first op says whether the old version had it (a removal means it
 * was there) and its last op whether the new one has it (an addition means it is).
 */
int xfr_condense_finish(xfr_condense_t *c, rrlist_t *removed, rrlist_t *added)
{
	size_t n = rrlist_count(c->ops);
	op_ref_t *refs = malloc((n ? n : 1) * sizeof(op_ref_t));
	if (refs == NULL)
		return TDM_ENOMEM;
	for (size_t i = 0; i < n; i++)
		refs[i].rr = rrlist_at(c->ops, i);
	qsort(refs, n, sizeof(op_ref_t), op_cmp);
	int ret = TDM_OK;
	for (size_t i = 0; i < n && ret == TDM_OK;) {
		size_t j = i;
		while (j + 1 < n && same_record(refs[i].rr, refs[j + 1].rr) == 0)
			j++;
		bool was = !c->added[refs[i].rr->line], is = c->added[refs[j].rr->line];
		const rr_t *rr = refs[i].rr;
		if (was && !is)
			ret = rrlist_add(removed, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, 0);
		else if (!was && is)
			ret = rrlist_add(added, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, 0);
		i = j + 1;
	}
	free(refs);
	return ret;
}
