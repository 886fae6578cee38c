/* zone/dnssec.c -- the NSEC order and NSEC3 index of a signed version, and the checks of its signatures */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/dnssec.h"

struct zone_dnssec {
	bool nsec3;
	nsec3_params_t params;
	uint32_t *order;       /* NSEC owners in canonical order, or NSEC3 owners by hash */
	uint32_t count;
	uint32_t *nsec3_of;    /* NSEC3 zones: per node, its NSEC3 node or ZONE_NODE_NONE */
	uint32_t nodes;
};

typedef struct {
	const uint8_t *name;
	uint32_t idx;
} sort_item_t;

static int canonical_cmp(const void *pa, const void *pb)
{
	return name_cmp_canonical(((const sort_item_t *)pa)->name, ((const sort_item_t *)pb)->name);
}

/* NSEC3 owners compare by their first label: base32hex keeps the order of the hashes (RFC 5155 3). */
static int label_cmp(const uint8_t *a, const uint8_t *b)
{
	int n = a[0] < b[0] ? a[0] : b[0];
	int c = memcmp(a + 1, b + 1, (size_t)n);
	return c != 0 ? c : (int)a[0] - (int)b[0];
}

static int hash_cmp(const void *pa, const void *pb)
{
	return label_cmp(((const sort_item_t *)pa)->name, ((const sort_item_t *)pb)->name);
}

/* The NSEC3 nodes of the chain the NSEC3PARAM names (another chain's records are served, not used). */
static bool in_chain(const zone_contents_t *z, const zone_dnssec_t *d, const zone_node_t *n)
{
	if (!(n->flags & ZONE_NODE_NSEC3))
		return false;
	uint16_t rdlen;
	nsec3_params_t p;
	const uint8_t *rd = zone_rrset_first(z, zone_node_rrset(z, n, PKT_TYPE_NSEC3), &rdlen);
	return nsec3_params_read(rd, rdlen, &p) == TDM_OK && nsec3_params_same(&p, &d->params);
}

static int build_order(const zone_contents_t *z, zone_dnssec_t *d)
{
	uint32_t count = zone_node_count(z), n = 0;
	sort_item_t *items = malloc((size_t)(count ? count : 1) * sizeof(*items));
	d->order = malloc((size_t)(count ? count : 1) * sizeof(uint32_t));
	if (items == NULL || d->order == NULL) {
		free(items);
		return TDM_ENOMEM;
	}
	for (uint32_t i = 0; i < count; i++) {
		const zone_node_t *node = zone_node(z, i);
		bool take = d->nsec3 ? in_chain(z, d, node)
		                     : zone_node_rrset(z, node, PKT_TYPE_NSEC) != NULL;
		if (take)
			items[n++] = (sort_item_t){ .name = zone_node_name(z, node), .idx = i };
	}
	qsort(items, n, sizeof(*items), d->nsec3 ? hash_cmp : canonical_cmp);
	for (uint32_t i = 0; i < n; i++)
		d->order[i] = items[i].idx;
	d->count = n;
	free(items);
	return TDM_OK;
}

/* Every node's own NSEC3, found once here so that answers about existing names hash nothing. The NSEC3
 * owner of a name is "<its hash>.<apex>": one probe of the name table finds it. */
static int build_nsec3_of(const zone_contents_t *z, zone_dnssec_t *d)
{
	d->nodes = zone_node_count(z);
	d->nsec3_of = malloc((size_t)(d->nodes ? d->nodes : 1) * sizeof(uint32_t));
	if (d->nsec3_of == NULL)
		return TDM_ENOMEM;
	const uint8_t *apex = zone_apex(z);
	int apex_len = name_length(apex, NAME_MAXLEN);
	uint8_t owner[NAME_MAXLEN];
	bool fits = 1 + NSEC3_LABEL_MAX + apex_len <= NAME_MAXLEN;
	if (fits)
		memcpy(owner + 1 + NSEC3_LABEL_MAX, apex, (size_t)apex_len);
	for (uint32_t i = 0; i < d->nodes; i++) {
		const zone_node_t *n = zone_node(z, i);
		d->nsec3_of[i] = ZONE_NODE_NONE;
		if ((n->flags & (ZONE_NODE_NSEC3 | ZONE_NODE_NONAUTH | ZONE_NODE_DEAD)) || d->count == 0 ||
		    !fits)
			continue;
		int len = nsec3_label(&d->params, zone_node_name(z, n), n->name_len, owner + 1);
		if (len == TDM_ENOMEM)
			return TDM_ENOMEM;
		if (len != NSEC3_LABEL_MAX)
			return TDM_OK;   /* an unknown algorithm, or too many iterations: no proofs */
		owner[0] = NSEC3_LABEL_MAX;
		uint32_t m = zone_lookup(z, owner, (size_t)(1 + NSEC3_LABEL_MAX + apex_len));
		if (m != ZONE_NODE_NONE && in_chain(z, d, zone_node(z, m)))
			d->nsec3_of[i] = m;
	}
	return TDM_OK;
}

int zone_dnssec_build(const zone_contents_t *z, zone_dnssec_t **out)
{
	*out = NULL;
	const zone_node_t *apex = zone_node(z, zone_apex_index(z));
	if (zone_node_rrset(z, apex, PKT_TYPE_DNSKEY) == NULL)
		return TDM_OK;
	zone_dnssec_t *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return TDM_ENOMEM;
	const zone_rrset_t *param = zone_node_rrset(z, apex, 51 /* NSEC3PARAM */);
	if (param != NULL) {
		uint16_t rdlen;
		const uint8_t *rd = zone_rrset_first(z, param, &rdlen);
		d->nsec3 = nsec3_params_read(rd, rdlen, &d->params) == TDM_OK;
	}
	int ret = build_order(z, d);
	if (ret == TDM_OK && d->nsec3)
		ret = build_nsec3_of(z, d);
	if (ret != TDM_OK) {
		zone_dnssec_free(d);
		return ret;
	}
	*out = d;
	return TDM_OK;
}

void zone_dnssec_free(zone_dnssec_t *d)
{
	if (d == NULL)
		return;
	free(d->order);
	free(d->nsec3_of);
	free(d);
}

size_t zone_dnssec_memory(const zone_dnssec_t *d)
{
	if (d == NULL)
		return 0;
	return sizeof(*d) + (size_t)d->count * sizeof(uint32_t) +
	       (d->nsec3_of ? (size_t)d->nodes * sizeof(uint32_t) : 0);
}

bool zone_dnssec_nsec3(const zone_dnssec_t *d)
{
	return d->nsec3;
}

const nsec3_params_t *zone_dnssec_params(const zone_dnssec_t *d)
{
	return &d->params;
}

uint32_t zone_nsec_covering(const zone_contents_t *z, const zone_dnssec_t *d, const uint8_t *name)
{
	if (d->nsec3 || d->count == 0)
		return ZONE_NODE_NONE;
	/* The last owner not after name; names below the apex always have the apex before them. */
	uint32_t lo = 0, hi = d->count;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (name_cmp_canonical(zone_node_name(z, zone_node(z, d->order[mid])), name) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	return d->order[lo];
}

uint32_t zone_nsec3_find(const zone_contents_t *z, const zone_dnssec_t *d, const uint8_t *label,
                         size_t len, bool *exact)
{
	*exact = false;
	if (!d->nsec3 || d->count == 0)
		return ZONE_NODE_NONE;
	uint8_t key[1 + 63];
	key[0] = (uint8_t)(len > 63 ? 63 : len);
	memcpy(key + 1, label, key[0]);
	/* The last hash not after ours; before the first one, the chain wraps to the last (RFC 5155 3.1.7). */
	uint32_t lo = 0, hi = d->count;
	if (label_cmp(zone_node_name(z, zone_node(z, d->order[0])), key) > 0)
		return d->order[d->count - 1];
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (label_cmp(zone_node_name(z, zone_node(z, d->order[mid])), key) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	*exact = label_cmp(zone_node_name(z, zone_node(z, d->order[lo])), key) == 0;
	return d->order[lo];
}

const uint32_t *zone_dnssec_order(const zone_dnssec_t *d, uint32_t *count)
{
	*count = d->count;
	return d->order;
}

uint32_t zone_nsec3_of(const zone_dnssec_t *d, uint32_t node)
{
	return d->nsec3_of != NULL && node < d->nodes ? d->nsec3_of[node] : ZONE_NODE_NONE;
}
