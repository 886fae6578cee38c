/* zone/contents.c -- one immutable version of a zone's data */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/contents.h"
#include "zone/dnssec.h"

struct zone_contents {
	uint8_t *names;
	size_t names_len, names_cap;
	zone_node_t *nodes;
	uint32_t node_count, node_cap;
	uint32_t *hash;          /* node indexes, ZONE_NODE_NONE when empty */
	uint32_t hash_mask;
	zone_rrset_t *rrsets;
	uint32_t rrset_count, rrset_cap;
	uint8_t *rdata;
	size_t rdata_len, rdata_cap;
	size_t records;
	uint32_t apex;
	uint32_t serial;
	zone_dnssec_t *dnssec;   /* NULL unless signed */
	atomic_int refs;         /* the zone's reference plus one per pinned reader (AXFR out) */
};

/* Build-time state: each node's records as a linked list through the list indexes. */
typedef struct {
	zone_contents_t *z;
	const rrlist_t *list;
	uint32_t *first_rr;      /* per node */
	uint32_t *next_rr;       /* per record */
	const uint8_t *apex;
	int apex_len;
} builder_t;

static int grow(void **ptr, size_t elem, size_t need, size_t *cap)
{
	if (need <= *cap)
		return TDM_OK;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	void *p = realloc(*ptr, ncap * elem);
	if (p == NULL)
		return TDM_ENOMEM;
	*ptr = p;
	*cap = ncap;
	return TDM_OK;
}

uint32_t zone_lookup(const zone_contents_t *z, const uint8_t *name, size_t len)
{
	uint32_t i = name_hash(name, len) & z->hash_mask;
	for (;;) {
		uint32_t idx = z->hash[i];
		if (idx == ZONE_NODE_NONE)
			return ZONE_NODE_NONE;
		const zone_node_t *n = &z->nodes[idx];
		if (n->name_len == len && memcmp(z->names + n->name_off, name, len) == 0)
			return idx;
		i = (i + 1) & z->hash_mask;
	}
}

static int rehash(zone_contents_t *z, uint32_t size)
{
	uint32_t *h = malloc((size_t)size * sizeof(uint32_t));
	if (h == NULL)
		return TDM_ENOMEM;
	memset(h, 0xFF, (size_t)size * sizeof(uint32_t));
	for (uint32_t idx = 0; idx < z->node_count; idx++) {
		const zone_node_t *n = &z->nodes[idx];
		uint32_t i = name_hash(z->names + n->name_off, n->name_len) & (size - 1);
		while (h[i] != ZONE_NODE_NONE)
			i = (i + 1) & (size - 1);
		h[i] = idx;
	}
	free(z->hash);
	z->hash = h;
	z->hash_mask = size - 1;
	return TDM_OK;
}

/* Finds or creates the node for a lowercase name at or below the apex, with all its ancestors. */
static int node_get(builder_t *b, const uint8_t *name, int len, uint32_t *out)
{
	zone_contents_t *z = b->z;
	uint32_t idx = zone_lookup(z, name, (size_t)len);
	if (idx != ZONE_NODE_NONE) {
		*out = idx;
		return TDM_OK;
	}
	/* Keep the table at most half full. */
	if ((z->node_count + 1) * 2 > z->hash_mask + 1 && rehash(z, (z->hash_mask + 1) * 2) != TDM_OK)
		return TDM_ENOMEM;
	size_t ncap = z->node_cap;
	if (grow((void **)&z->nodes, sizeof(zone_node_t), z->node_count + 1, &ncap) != TDM_OK)
		return TDM_ENOMEM;
	size_t fcap = z->node_cap;
	if (grow((void **)&b->first_rr, sizeof(uint32_t), z->node_count + 1, &fcap) != TDM_OK)
		return TDM_ENOMEM;
	z->node_cap = (uint32_t)ncap;
	if (grow((void **)&z->names, 1, z->names_len + (size_t)len, &z->names_cap) != TDM_OK)
		return TDM_ENOMEM;
	memcpy(z->names + z->names_len, name, (size_t)len);
	idx = z->node_count++;
	z->nodes[idx] = (zone_node_t){ .name_off = (uint32_t)z->names_len, .parent = idx,
	                               .name_len = (uint8_t)len };
	b->first_rr[idx] = ZONE_NODE_NONE;
	z->names_len += (size_t)len;
	uint32_t i = name_hash(name, (size_t)len) & z->hash_mask;
	while (z->hash[i] != ZONE_NODE_NONE)
		i = (i + 1) & z->hash_mask;
	z->hash[i] = idx;
	if (len > b->apex_len) {
		uint32_t parent;
		int ret = node_get(b, name + 1 + name[0], len - 1 - name[0], &parent);
		if (ret != TDM_OK)
			return ret;
		z->nodes[idx].parent = parent;
	}
	*out = idx;
	return TDM_OK;
}

static bool in_zone(const builder_t *b, const rr_t *rr, int *len)
{
	int n = name_length(rr->owner, NAME_MAXLEN);
	if (n < b->apex_len)
		return false;
	if (memcmp(rr->owner + n - b->apex_len, b->apex, (size_t)b->apex_len) != 0)
		return false;
	/* The suffix must start on a label boundary. */
	const uint8_t *p = rr->owner;
	while (p - rr->owner < n - b->apex_len)
		p += 1 + *p;
	*len = n;
	return p - rr->owner == n - b->apex_len;
}

typedef struct {
	const rr_t *rr;
	uint32_t index;
} sort_item_t;

/* The type an RRSIG rdata covers (its first field); 0 when too short to say. */
static uint16_t covered_of(const uint8_t *rdata, uint16_t rdlen)
{
	return rdlen >= 2 ? pkt_get16(rdata) : 0;
}

static int item_cmp(const void *pa, const void *pb)
{
	const sort_item_t *a = pa, *b = pb;
	if (a->rr->type != b->rr->type)
		return a->rr->type < b->rr->type ? -1 : 1;
	if (a->rr->type == PKT_TYPE_RRSIG) {
		uint16_t ca = covered_of(a->rr->rdata, a->rr->rdlen), cb = covered_of(b->rr->rdata, b->rr->rdlen);
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	if (a->rr->rdlen != b->rr->rdlen)
		return a->rr->rdlen < b->rr->rdlen ? -1 : 1;
	int c = a->rr->rdlen ? memcmp(a->rr->rdata, b->rr->rdata, a->rr->rdlen) : 0;
	if (c != 0)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

static bool same_rdata(const rr_t *a, const rr_t *b)
{
	return a->rdlen == b->rdlen && (a->rdlen == 0 || memcmp(a->rdata, b->rdata, a->rdlen) == 0);
}

/* Whether two sorted records belong to one RRset: same type and, for RRSIGs, same covered type. */
static bool same_rrset(const rr_t *a, const rr_t *b)
{
	return a->type == b->type && (a->type != PKT_TYPE_RRSIG ||
	                              covered_of(a->rdata, a->rdlen) == covered_of(b->rdata, b->rdlen));
}

static int put_rdata(zone_contents_t *z, const rr_t *rr)
{
	if (grow((void **)&z->rdata, 1, z->rdata_len + 2 + rr->rdlen, &z->rdata_cap) != TDM_OK)
		return TDM_ENOMEM;
	pkt_put16(z->rdata + z->rdata_len, rr->rdlen);
	if (rr->rdlen)
		memcpy(z->rdata + z->rdata_len + 2, rr->rdata, rr->rdlen);
	z->rdata_len += 2 + (size_t)rr->rdlen;
	z->records++;
	return TDM_OK;
}

/* Turns one node's sorted records into RRsets. */
static int emit_rrsets(zone_contents_t *z, zone_node_t *node, sort_item_t *items, size_t n)
{
	node->rrset_first = z->rrset_count;
	for (size_t i = 0; i < n;) {
		size_t cap = z->rrset_cap;
		if (grow((void **)&z->rrsets, sizeof(zone_rrset_t), z->rrset_count + 1, &cap) != TDM_OK)
			return TDM_ENOMEM;
		z->rrset_cap = (uint32_t)cap;
		zone_rrset_t *set = &z->rrsets[z->rrset_count++];
		*set = (zone_rrset_t){ .type = items[i].rr->type, .rdata_off = (uint32_t)z->rdata_len };
		uint32_t first = items[i].index;
		set->ttl = items[i].rr->ttl;
		size_t j = i;
		for (; j < n && same_rrset(items[i].rr, items[j].rr); j++) {
			if (j > i && same_rdata(items[j - 1].rr, items[j].rr))
				continue;   /* duplicate rdata (RFC 2181 5) */
			if (items[j].index < first) {
				first = items[j].index;
				set->ttl = items[j].rr->ttl;
			}
			if (set->count == UINT16_MAX || put_rdata(z, items[j].rr) != TDM_OK)
				return set->count == UINT16_MAX ? TDM_ERANGE : TDM_ENOMEM;
			set->count++;
		}
		if (node->rrset_count == UINT16_MAX)
			return TDM_ERANGE;
		node->rrset_count++;
		i = j;
	}
	return TDM_OK;
}

static int build_node(builder_t *b, uint32_t idx, sort_item_t **items, size_t *cap)
{
	size_t n = 0;
	for (uint32_t r = b->first_rr[idx]; r != ZONE_NODE_NONE; r = b->next_rr[r]) {
		if (grow((void **)items, sizeof(sort_item_t), n + 1, cap) != TDM_OK)
			return TDM_ENOMEM;
		(*items)[n++] = (sort_item_t){ .rr = rrlist_at(b->list, r), .index = r };
	}
	if (n > 1)
		qsort(*items, n, sizeof(sort_item_t), item_cmp);
	return emit_rrsets(b->z, &b->z->nodes[idx], *items, n);
}

/* Whether a node holds NSEC3 records and nothing else but their signatures: a hashed owner. */
static bool nsec3_only(const zone_contents_t *z, const zone_node_t *n)
{
	const zone_rrset_t *s = zone_node_rrsets(z, n);
	bool nsec3 = false;
	for (uint16_t i = 0; i < n->rrset_count; i++) {
		if (s[i].type == PKT_TYPE_NSEC3)
			nsec3 = true;
		else if (zone_rrset_covered(z, &s[i]) != PKT_TYPE_NSEC3)
			return false;
	}
	return nsec3;
}

static void set_flags(zone_contents_t *z)
{
	for (uint32_t idx = 0; idx < z->node_count; idx++) {
		zone_node_t *n = &z->nodes[idx];
		if (idx == z->apex)
			n->flags |= ZONE_NODE_APEX;
		else if (zone_node_rrset(z, n, PKT_TYPE_NS) != NULL)
			n->flags |= ZONE_NODE_DELEG;
		if (zone_node_rrset(z, n, PKT_TYPE_CNAME) != NULL)
			n->flags |= ZONE_NODE_CNAME;
		if (zone_node_rrset(z, n, PKT_TYPE_DNAME) != NULL)
			n->flags |= ZONE_NODE_DNAME;
		if (n->parent == z->apex && idx != z->apex && nsec3_only(z, n))
			n->flags |= ZONE_NODE_NSEC3;
		const uint8_t *name = z->names + n->name_off;
		if (name[0] == 1 && name[1] == '*' && idx != z->apex)
			z->nodes[n->parent].flags |= ZONE_NODE_WILDCHILD;
	}
	for (uint32_t idx = 0; idx < z->node_count; idx++) {
		zone_node_t *n = &z->nodes[idx];
		for (uint32_t p = n->parent; p != z->apex && idx != z->apex; p = z->nodes[p].parent) {
			if (z->nodes[p].flags & ZONE_NODE_DELEG) {
				n->flags |= ZONE_NODE_NONAUTH;
				break;
			}
		}
	}
}

static int fill(builder_t *b)
{
	zone_contents_t *z = b->z;
	size_t count = rrlist_count(b->list);
	int ret = node_get(b, b->apex, b->apex_len, &z->apex);
	if (ret != TDM_OK)
		return ret;
	for (size_t i = 0; i < count; i++) {
		const rr_t *rr = rrlist_at(b->list, i);
		int len;
		uint32_t idx;
		b->next_rr[i] = ZONE_NODE_NONE;
		if (!in_zone(b, rr, &len))
			continue;
		if ((ret = node_get(b, rr->owner, len, &idx)) != TDM_OK)
			return ret;
		b->next_rr[i] = b->first_rr[idx];
		b->first_rr[idx] = (uint32_t)i;
	}
	sort_item_t *items = NULL;
	size_t cap = 0;
	for (uint32_t idx = 0; idx < z->node_count && ret == TDM_OK; idx++)
		ret = build_node(b, idx, &items, &cap);
	free(items);
	return ret;
}

int zone_contents_build(const uint8_t *apex, const rrlist_t *list, zone_contents_t **out)
{
	*out = NULL;
	zone_contents_t *z = calloc(1, sizeof(*z));
	builder_t b = { .z = z, .list = list, .apex = apex };
	if (z == NULL)
		return TDM_ENOMEM;
	b.apex_len = name_length(apex, NAME_MAXLEN);
	size_t count = rrlist_count(list);
	uint32_t size = 16;
	while (size < count * 2 && size < (1u << 31))
		size *= 2;
	int ret = TDM_ENOMEM;
	b.next_rr = malloc((count + 1) * sizeof(uint32_t));
	if (b.apex_len < 0 || b.next_rr == NULL || rehash(z, size) != TDM_OK)
		goto fail;
	if ((ret = fill(&b)) != TDM_OK)
		goto fail;
	set_flags(z);
	const zone_rrset_t *soa = zone_soa(z);
	ret = TDM_ESEMCHECK;
	if (soa == NULL)   /* more than one SOA is zonefile_check's to report */
		goto fail;
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(z, soa, &rdlen);
	if (rdlen < 22)
		goto fail;
	z->serial = pkt_get32(rd + rdlen - 20);
	if ((ret = zone_dnssec_build(z, &z->dnssec)) != TDM_OK)
		goto fail;
	free(b.first_rr);
	free(b.next_rr);
	atomic_init(&z->refs, 1);
	*out = z;
	return TDM_OK;
fail:
	free(b.first_rr);
	free(b.next_rr);
	zone_contents_free(z);
	return ret;
}

void zone_contents_free(zone_contents_t *z)
{
	if (z == NULL)
		return;
	free(z->names);
	free(z->nodes);
	free(z->hash);
	free(z->rrsets);
	free(z->rdata);
	zone_dnssec_free(z->dnssec);
	free(z);
}

void zone_contents_ref(zone_contents_t *z)
{
	atomic_fetch_add(&z->refs, 1);
}

void zone_contents_unref(zone_contents_t *z)
{
	if (z != NULL && atomic_fetch_sub(&z->refs, 1) == 1)
		zone_contents_free(z);
}

const zone_node_t *zone_node(const zone_contents_t *z, uint32_t idx)
{
	return &z->nodes[idx];
}

const uint8_t *zone_node_name(const zone_contents_t *z, const zone_node_t *node)
{
	return z->names + node->name_off;
}

/* A version without any RRset (an empty list, refused by the build) has no rrsets array at all:
 * NULL + 0 is undefined behaviour in C, so a node without RRsets never indexes it. */
const zone_rrset_t *zone_node_rrsets(const zone_contents_t *z, const zone_node_t *node)
{
	return node->rrset_count != 0 ? &z->rrsets[node->rrset_first] : NULL;
}

const zone_rrset_t *zone_node_rrset(const zone_contents_t *z, const zone_node_t *node,
                                    uint16_t type)
{
	const zone_rrset_t *s = zone_node_rrsets(z, node);
	for (uint16_t i = 0; i < node->rrset_count; i++)
		if (s[i].type == type)
			return &s[i];
	return NULL;
}

uint16_t zone_rrset_covered(const zone_contents_t *z, const zone_rrset_t *rrset)
{
	if (rrset->type != PKT_TYPE_RRSIG)
		return 0;
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(z, rrset, &rdlen);
	return covered_of(rd, rdlen);
}

const zone_rrset_t *zone_node_rrset_cov(const zone_contents_t *z, const zone_node_t *node,
                                        uint16_t type, uint16_t covered)
{
	if (type != PKT_TYPE_RRSIG)
		return zone_node_rrset(z, node, type);
	return zone_node_rrsig(z, node, covered);
}

const zone_rrset_t *zone_node_rrsig(const zone_contents_t *z, const zone_node_t *node,
                                    uint16_t covered)
{
	const zone_rrset_t *s = &z->rrsets[node->rrset_first];
	for (uint16_t i = 0; i < node->rrset_count; i++)
		if (s[i].type == PKT_TYPE_RRSIG && zone_rrset_covered(z, &s[i]) == covered)
			return &s[i];
	return NULL;
}

const struct zone_dnssec *zone_contents_dnssec(const zone_contents_t *z)
{
	return z->dnssec;
}

const uint8_t *zone_apex(const zone_contents_t *z)
{
	return z->names + z->nodes[z->apex].name_off;
}

uint32_t zone_apex_index(const zone_contents_t *z)
{
	return z->apex;
}

uint32_t zone_node_count(const zone_contents_t *z)
{
	return z->node_count;
}

size_t zone_record_count(const zone_contents_t *z)
{
	return z->records;
}

uint32_t zone_serial(const zone_contents_t *z)
{
	return z->serial;
}

void zone_contents_serial_refresh(zone_contents_t *z)
{
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(z, zone_soa(z), &rdlen);
	z->serial = pkt_get32(rd + rdlen - 20);
}

const zone_rrset_t *zone_soa(const zone_contents_t *z)
{
	return zone_node_rrset(z, &z->nodes[z->apex], PKT_TYPE_SOA);
}

const uint8_t *zone_rdata_base(const zone_contents_t *z)
{
	return z->rdata;
}

size_t zone_memory(const zone_contents_t *z)
{
	return sizeof(*z) + z->names_cap + (size_t)z->node_cap * sizeof(zone_node_t) +
	       ((size_t)z->hash_mask + 1) * sizeof(uint32_t) +
	       (size_t)z->rrset_cap * sizeof(zone_rrset_t) + z->rdata_cap + zone_dnssec_memory(z->dnssec);
}

static int append_rrset(const zone_contents_t *z, const uint8_t *owner, const zone_rrset_t *s,
                        rrlist_t *list)
{
	zone_rdata_iter_t it;
	const uint8_t *rd;
	uint16_t rdlen;
	zone_rdata_begin(z, s, &it);
	while (zone_rdata_next(&it, &rd, &rdlen))
		if (rrlist_add(list, owner, s->type, s->ttl, rd, rdlen, 0) != TDM_OK)
			return TDM_ENOMEM;
	return TDM_OK;
}

int zone_contents_to_rrlist(const zone_contents_t *z, rrlist_t *list)
{
	int ret = append_rrset(z, zone_apex(z), zone_soa(z), list);
	for (uint32_t idx = 0; idx < z->node_count && ret == TDM_OK; idx++) {
		const zone_node_t *n = &z->nodes[idx];
		const zone_rrset_t *s = zone_node_rrsets(z, n);
		for (uint16_t i = 0; i < n->rrset_count && ret == TDM_OK; i++)
			if (!(idx == z->apex && s[i].type == PKT_TYPE_SOA))
				ret = append_rrset(z, zone_node_name(z, n), &s[i], list);
	}
	return ret;
}
