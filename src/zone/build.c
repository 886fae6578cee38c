/* zone/build.c -- a version built whole from a record list, and the node writing the updater shares */
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/contents_impl.h"

/* Build-time state: each node's records as a linked list through the list indexes. */
typedef struct {
	zone_contents_t *z;
	const rrlist_t *list;
	uint32_t *first_rr;      /* per node */
	size_t first_cap;
	uint32_t *next_rr;       /* per record */
	const uint8_t *apex;
	int apex_len;
} builder_t;

int contents_rehash(zone_contents_t *z, uint32_t size)
{
	zone_pages_t h;
	zone_pages_init(&h);
	for (uint32_t i = 0; i < size; i += 1u << HASH_SHIFT) {
		size_t n = size - i < (1u << HASH_SHIFT) ? size - i : (1u << HASH_SHIFT);
		uint8_t *page = zone_pages_write(&h, i >> HASH_SHIFT, n * sizeof(uint32_t),
		                                 n * sizeof(uint32_t));
		if (page == NULL) {
			zone_pages_release(&h);
			return TDM_ENOMEM;
		}
		memset(page, 0xFF, n * sizeof(uint32_t));
	}
	for (uint32_t idx = 0; idx < z->node_count; idx++) {
		const zone_node_t *n = contents_node(z, idx);
		if (n->flags & ZONE_NODE_DEAD)
			continue;
		uint32_t i = name_hash(zone_pages_at(&z->names, n->name_off), n->name_len) & (size - 1);
		uint32_t *slot;
		while (*(slot = zone_pages_elem(&h, sizeof(uint32_t), HASH_SHIFT, i)) != ZONE_NODE_NONE)
			i = (i + 1) & (size - 1);
		*slot = idx;
	}
	zone_pages_release(&z->hash);
	z->hash = h;
	z->hash_mask = size - 1;
	return TDM_OK;
}

int contents_hash_insert(zone_contents_t *z, uint32_t idx)
{
	const zone_node_t *n = contents_node(z, idx);
	uint32_t i = name_hash(zone_pages_at(&z->names, n->name_off), n->name_len) & z->hash_mask;
	while (contents_slot(z, i) != ZONE_NODE_NONE)
		i = (i + 1) & z->hash_mask;
	uint32_t *slot = zone_pages_elem_write(&z->hash, sizeof(uint32_t), HASH_SHIFT, i);
	if (slot == NULL)
		return TDM_ENOMEM;
	*slot = idx;
	return TDM_OK;
}

/* A new node (name lowercase, len octets) under parent (ZONE_NODE_NONE: its own parent, the apex). */
static int node_add(zone_contents_t *z, const uint8_t *name, int len, uint32_t parent, uint32_t *out)
{
	/* Keep the table at most half full. */
	if ((z->live_nodes + 1) * 2 > z->hash_mask + 1 && contents_rehash(z, (z->hash_mask + 1) * 2) != TDM_OK)
		return TDM_ENOMEM;
	uint32_t off;
	uint8_t *run = zone_pages_alloc(&z->names, (size_t)len, &off);
	if (run == NULL)
		return TDM_ENOMEM;
	memcpy(run, name, (size_t)len);
	uint32_t idx = z->node_count;
	zone_node_t *n = zone_pages_elem_append(&z->nodes, sizeof(zone_node_t), NODE_SHIFT, idx);
	if (n == NULL || idx == ZONE_NODE_NONE)
		return TDM_ENOMEM;
	*n = (zone_node_t){ .name_off = off, .parent = parent == ZONE_NODE_NONE ? idx : parent,
	                    .name_len = (uint8_t)len };
	z->node_count++;
	z->live_nodes++;
	if (parent != ZONE_NODE_NONE) {
		zone_node_t *p = contents_node_w(z, parent);
		if (p == NULL)
			return TDM_ENOMEM;
		p->children++;
	}
	*out = idx;
	return contents_hash_insert(z, idx);
}

int contents_node_get(zone_contents_t *z, const uint8_t *name, int len, int apex_len, uint32_t *out,
                      bool *created)
{
	uint32_t idx = zone_lookup(z, name, (size_t)len);
	if (idx != ZONE_NODE_NONE) {
		*out = idx;
		return TDM_OK;
	}
	uint32_t parent = ZONE_NODE_NONE;
	if (len > apex_len) {
		int ret = contents_node_get(z, name + 1 + name[0], len - 1 - name[0], apex_len, &parent,
		                            created);
		if (ret != TDM_OK)
			return ret;
	}
	if (created != NULL)
		*created = true;
	return node_add(z, name, len, parent, out);
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

static int item_cmp(const void *pa, const void *pb)
{
	const contents_item_t *a = pa, *b = pb;
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

/* Writes items[i..j) (one RRset, sorted) as RRset slot `slot`, the first not in use (an append);
 * *records counts what it kept. */
static int emit_rrset(zone_contents_t *z, uint32_t slot, const contents_item_t *items, size_t i,
                      size_t j, size_t *records)
{
	size_t rdlens = 0;
	size_t size = 0, count = 0;
	uint32_t first = items[i].index, ttl = items[i].rr->ttl;
	for (size_t k = i; k < j; k++) {
		if (k > i && same_rdata(items[k - 1].rr, items[k].rr))
			continue;   /* duplicate rdata (RFC 2181 5) */
		if (items[k].index < first) {
			first = items[k].index;
			ttl = items[k].rr->ttl;
		}
		size += 2 + (size_t)items[k].rr->rdlen;
		rdlens += items[k].rr->rdlen;
		count++;
	}
	if (count > UINT16_MAX)
		return TDM_ERANGE;
	uint32_t off;
	uint8_t *run = zone_pages_alloc(&z->rdata, size, &off);
	zone_rrset_t *set = zone_pages_elem_append(&z->rrsets, sizeof(zone_rrset_t), RRSET_SHIFT, slot);
	if (run == NULL || set == NULL)
		return TDM_ENOMEM;
	for (size_t k = i; k < j; k++) {
		if (k > i && same_rdata(items[k - 1].rr, items[k].rr))
			continue;
		pkt_put16(run, items[k].rr->rdlen);
		if (items[k].rr->rdlen)
			memcpy(run + 2, items[k].rr->rdata, items[k].rr->rdlen);
		run += 2 + items[k].rr->rdlen;
	}
	*set = (zone_rrset_t){ .type = items[i].rr->type, .count = (uint16_t)count, .ttl = ttl,
	                       .rdata_off = off };
	*records += count;
	z->wire += rdlens;
	return TDM_OK;
}

int contents_emit_node(zone_contents_t *z, uint32_t node, contents_item_t *items, size_t n)
{
	if (n > 1)
		qsort(items, n, sizeof(*items), item_cmp);
	/* A node's RRsets are read as one array: they must not straddle a page. */
	size_t sets = 0;
	for (size_t i = 0; i < n; i++)
		sets += i == 0 || !same_rrset(items[i - 1].rr, items[i].rr);
	const uint32_t per_page = 1u << RRSET_SHIFT;
	if (sets > per_page)
		return TDM_ERANGE;
	if ((z->rrset_count & (per_page - 1)) + sets > per_page) {
		if (z->rrset_count > UINT32_MAX - per_page)
			return TDM_ERANGE;
		z->garbage += (per_page - (z->rrset_count & (per_page - 1))) * sizeof(zone_rrset_t);
		z->rrset_count = (z->rrset_count | (per_page - 1)) + 1;
	}
	uint32_t first = z->rrset_count, count = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && same_rrset(items[i].rr, items[j].rr))
			j++;
		if (count == UINT16_MAX || z->rrset_count == UINT32_MAX)
			return TDM_ERANGE;
		size_t before = z->records;
		int ret = emit_rrset(z, z->rrset_count, items, i, j, &z->records);
		if (ret != TDM_OK)
			return ret;
		z->wire += (z->records - before) * (10 + (size_t)contents_node(z, node)->name_len);
		z->rrset_count++;
		count++;
		i = j;
	}
	zone_node_t *nd = contents_node_w(z, node);
	if (nd == NULL)
		return TDM_ENOMEM;
	nd->rrset_first = count ? first : 0;
	nd->rrset_count = (uint16_t)count;
	return TDM_OK;
}

static int build_node(builder_t *b, uint32_t idx, contents_item_t **items, size_t *cap)
{
	size_t n = 0;
	for (uint32_t r = b->first_rr[idx]; r != ZONE_NODE_NONE; r = b->next_rr[r]) {
		if (n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 16;
			contents_item_t *p = realloc(*items, ncap * sizeof(*p));
			if (p == NULL)
				return TDM_ENOMEM;
			*items = p;
			*cap = ncap;
		}
		(*items)[n++] = (contents_item_t){ .rr = rrlist_at(b->list, r), .index = r };
	}
	return contents_emit_node(b->z, idx, *items, n);
}

bool contents_nsec3_only(const zone_contents_t *z, const zone_node_t *n)
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

void contents_own_flags(zone_contents_t *z, uint32_t idx)
{
	zone_node_t *n = contents_node(z, idx);
	uint8_t f = n->flags & (uint8_t)~(ZONE_NODE_APEX | ZONE_NODE_DELEG | ZONE_NODE_CNAME |
	                                  ZONE_NODE_DNAME | ZONE_NODE_NSEC3);
	if (idx == z->apex)
		f |= ZONE_NODE_APEX;
	else if (zone_node_rrset(z, n, PKT_TYPE_NS) != NULL)
		f |= ZONE_NODE_DELEG;
	if (zone_node_rrset(z, n, PKT_TYPE_CNAME) != NULL)
		f |= ZONE_NODE_CNAME;
	if (zone_node_rrset(z, n, PKT_TYPE_DNAME) != NULL)
		f |= ZONE_NODE_DNAME;
	if (n->parent == z->apex && idx != z->apex && contents_nsec3_only(z, n))
		f |= ZONE_NODE_NSEC3;
	n->flags = f;
}

/* Every page is this version's alone while it is built: nodes are written in place. */
static void set_flags(zone_contents_t *z)
{
	for (uint32_t idx = 0; idx < z->node_count; idx++) {
		contents_own_flags(z, idx);
		zone_node_t *n = contents_node(z, idx);
		const uint8_t *name = zone_node_name(z, n);
		if (name[0] == 1 && name[1] == '*' && idx != z->apex)
			contents_node(z, n->parent)->flags |= ZONE_NODE_WILDCHILD;
	}
	for (uint32_t idx = 0; idx < z->node_count; idx++) {
		zone_node_t *n = contents_node(z, idx);
		for (uint32_t p = n->parent; p != z->apex && idx != z->apex; p = contents_node(z, p)->parent) {
			if (contents_node(z, p)->flags & ZONE_NODE_DELEG) {
				n->flags |= ZONE_NODE_NONAUTH;
				break;
			}
		}
	}
}

/* first_rr with an entry (no record yet) for every node made so far. */
static int track_nodes(builder_t *b, size_t *known)
{
	zone_contents_t *z = b->z;
	if (z->node_count > b->first_cap) {
		size_t ncap = b->first_cap ? b->first_cap : 16;
		while (ncap < z->node_count)
			ncap *= 2;
		uint32_t *p = realloc(b->first_rr, ncap * sizeof(uint32_t));
		if (p == NULL)
			return TDM_ENOMEM;
		b->first_rr = p;
		b->first_cap = ncap;
	}
	for (; *known < z->node_count; (*known)++)
		b->first_rr[*known] = ZONE_NODE_NONE;
	return TDM_OK;
}

static int fill(builder_t *b)
{
	zone_contents_t *z = b->z;
	size_t count = rrlist_count(b->list), known = 0;
	int ret = contents_node_get(z, b->apex, b->apex_len, b->apex_len, &z->apex, NULL);
	if (ret == TDM_OK)
		ret = track_nodes(b, &known);
	for (size_t i = 0; i < count && ret == TDM_OK; i++) {
		const rr_t *rr = rrlist_at(b->list, i);
		int len;
		uint32_t idx;
		b->next_rr[i] = ZONE_NODE_NONE;
		if (!in_zone(b, rr, &len))
			continue;
		if ((ret = contents_node_get(z, rr->owner, len, b->apex_len, &idx, NULL)) != TDM_OK ||
		    (ret = track_nodes(b, &known)) != TDM_OK)
			return ret;
		b->next_rr[i] = b->first_rr[idx];
		b->first_rr[idx] = (uint32_t)i;
	}
	contents_item_t *items = NULL;
	size_t cap = 0;
	for (uint32_t idx = 0; idx < z->node_count && ret == TDM_OK; idx++)
		ret = build_node(b, idx, &items, &cap);
	free(items);
	return ret;
}

/* Octets used in the last page of element pages holding `used` elements. */
static size_t last_elems(const zone_pages_t *p, size_t used, size_t elem, unsigned shift)
{
	if (p->count == 0)
		return 0;
	size_t before = (size_t)(p->count - 1) << shift;
	return used > before ? (used - before) * elem : 0;
}

/* A zone of a few records costs mostly its pages' overheads: a version built whole whose pages hold
 * less than this is packed into one allocation at their exact sizes (zone_pages_pack). */
#define BUILD_PACK_MAX (16u << 10)

static void pack_small(zone_contents_t *z)
{
	zone_pages_t *const sets[] = { &z->names, &z->nodes, &z->hash, &z->rrsets, &z->rdata };
	const size_t used[] = {
		z->names.tail,
		last_elems(&z->nodes, z->node_count, sizeof(zone_node_t), NODE_SHIFT),
		last_elems(&z->hash, (size_t)z->hash_mask + 1, sizeof(uint32_t), HASH_SHIFT),
		last_elems(&z->rrsets, z->rrset_count, sizeof(zone_rrset_t), RRSET_SHIFT),
		z->rdata.tail,
	};
	/* Not packed (too big, or no memory for the block): the pages work as they are. */
	(void)zone_pages_pack(sets, used, sizeof(sets) / sizeof(sets[0]), BUILD_PACK_MAX);
}

static zone_contents_t *contents_new(void)
{
	static atomic_uint_fast64_t lineages;
	zone_contents_t *z = calloc(1, sizeof(*z));
	if (z != NULL) {
		atomic_init(&z->refs, 1);
		z->lineage = atomic_fetch_add(&lineages, 1) + 1;
	}
	return z;
}

int zone_contents_build(const uint8_t *apex, const rrlist_t *list, zone_contents_t **out)
{
	*out = NULL;
	zone_contents_t *z = contents_new();
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
	if (b.apex_len < 0 || b.next_rr == NULL || contents_rehash(z, size) != TDM_OK)
		goto fail;
	if ((ret = fill(&b)) != TDM_OK)
		goto fail;
	set_flags(z);
	/* more than one SOA is zonefile_check's to report */
	if ((ret = contents_read_serial(z)) != TDM_OK)
		goto fail;
	if ((ret = zone_dnssec_build(z, &z->dnssec)) != TDM_OK)
		goto fail;
	pack_small(z);
	free(b.first_rr);
	free(b.next_rr);
	*out = z;
	return TDM_OK;
fail:
	free(b.first_rr);
	free(b.next_rr);
	zone_contents_free(z);
	return ret;
}
