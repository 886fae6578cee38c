/* zone/dnssec.c -- the NSEC order and NSEC3 index of a signed version, built whole or carried through a change */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/dnssec.h"
#include "zone/pages.h"

/*
 * The chain is a list of node indexes in order, cut into pages of at most CHAIN_PAGE entries (built
 * three quarters full); counts[] says how many each page holds. A search is a binary search over the
 * pages' first entries, then within one page. A change rewrites the pages where owners join or leave the
 * chain (a full page splits in two, an empty one goes) and nothing else; the per-node NSEC3 table is
 * paged the same way (zone/pages.h) and a change writes the entries of the nodes it touched.
 */
#define CHAIN_PAGE 1024u
#define CHAIN_FILL 768u
#define OF_SHIFT 14

struct zone_dnssec {
	bool nsec3;
	bool hashed;           /* NSEC3: nsec3_of computed (a known algorithm, iterations allowed) */
	nsec3_params_t params;
	zone_pages_t chain;    /* uint32_t node indexes: NSEC owners in canonical order, or NSEC3 by hash */
	uint16_t *counts;      /* entries in each chain page */
	uint32_t counts_cap;
	uint32_t count;        /* entries in all */
	zone_pages_t of;       /* NSEC3 zones: per node, its NSEC3 node or ZONE_NODE_NONE */
	uint32_t nodes;        /* entries of `of` */
};

/* ---- comparing owners ---- */

/* NSEC3 owners compare by their first label: base32hex keeps the order of the hashes (RFC 5155 3). */
static int label_cmp(const uint8_t *a, const uint8_t *b)
{
	int n = a[0] < b[0] ? a[0] : b[0];
	int c = memcmp(a + 1, b + 1, (size_t)n);
	return c != 0 ? c : (int)a[0] - (int)b[0];
}

static int key_cmp(const zone_dnssec_t *d, const uint8_t *a, const uint8_t *b)
{
	return d->nsec3 ? label_cmp(a, b) : name_cmp_canonical(a, b);
}

static const uint8_t *name_of(const zone_contents_t *z, uint32_t idx)
{
	return zone_node_name(z, zone_node(z, idx));
}

/* ---- the chain's pages ---- */

static uint32_t *chain_page(const zone_dnssec_t *d, uint32_t page)
{
	return (uint32_t *)(void *)d->chain.dir[page];
}

static uint32_t chain_at(const zone_dnssec_t *d, uint32_t page, uint32_t i)
{
	return chain_page(d, page)[i];
}

static int counts_room(zone_dnssec_t *d, uint32_t need)
{
	if (need <= d->counts_cap)
		return TDM_OK;
	uint32_t cap = d->counts_cap ? d->counts_cap * 2 : 16;
	while (cap < need)
		cap *= 2;
	uint16_t *c = realloc(d->counts, (size_t)cap * sizeof(uint16_t));
	if (c == NULL)
		return TDM_ENOMEM;
	d->counts = c;
	d->counts_cap = cap;
	return TDM_OK;
}

/* The last position whose owner is not after key: *page and *i; false when key is before them all. */
static bool chain_find(const zone_contents_t *z, const zone_dnssec_t *d, const uint8_t *key,
                       uint32_t *page, uint32_t *i)
{
	if (d->count == 0 || key_cmp(d, name_of(z, chain_at(d, 0, 0)), key) > 0)
		return false;
	uint32_t lo = 0, hi = d->chain.count;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (key_cmp(d, name_of(z, chain_at(d, mid, 0)), key) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	uint32_t a = 0, b = d->counts[lo];
	while (b - a > 1) {
		uint32_t mid = a + (b - a) / 2;
		if (key_cmp(d, name_of(z, chain_at(d, lo, mid)), key) <= 0)
			a = mid;
		else
			b = mid;
	}
	*page = lo;
	*i = a;
	return true;
}

/* The chain's last entry. */
static uint32_t chain_last(const zone_dnssec_t *d)
{
	uint32_t page = d->chain.count - 1;
	return chain_at(d, page, d->counts[page] - 1u);
}

/* Appends entries in order into new pages (a build). */
static int chain_fill(zone_dnssec_t *d, const uint32_t *items, uint32_t n)
{
	for (uint32_t at = 0; at < n; at += CHAIN_FILL) {
		uint32_t k = n - at < CHAIN_FILL ? n - at : CHAIN_FILL;
		uint8_t *page = zone_pages_write(&d->chain, d->chain.count, CHAIN_PAGE * sizeof(uint32_t),
		                                 CHAIN_PAGE * sizeof(uint32_t));
		if (page == NULL || counts_room(d, d->chain.count) != TDM_OK)
			return TDM_ENOMEM;
		memcpy(page, items + at, (size_t)k * sizeof(uint32_t));
		d->counts[d->chain.count - 1] = (uint16_t)k;
	}
	d->count = n;
	return TDM_OK;
}

/* Inserts node idx at its place (after every owner not after it). */
static int chain_insert(const zone_contents_t *z, zone_dnssec_t *d, uint32_t idx)
{
	uint32_t page = 0, i = 0;
	if (d->count == 0)
		return chain_fill(d, &idx, 1);
	if (chain_find(z, d, name_of(z, idx), &page, &i))
		i++;
	if (d->counts[page] == CHAIN_PAGE) {   /* split: the upper half moves to a new page after it */
		uint8_t *next = zone_pages_insert(&d->chain, page + 1, CHAIN_PAGE * sizeof(uint32_t));
		uint32_t *cur = zone_pages_write(&d->chain, page, CHAIN_PAGE * sizeof(uint32_t),
		                                 CHAIN_PAGE * sizeof(uint32_t)) ? chain_page(d, page) : NULL;
		if (next == NULL || cur == NULL || counts_room(d, d->chain.count) != TDM_OK)
			return TDM_ENOMEM;
		memmove(d->counts + page + 2, d->counts + page + 1,
		        (size_t)(d->chain.count - page - 2) * sizeof(uint16_t));
		memcpy(next, cur + CHAIN_PAGE / 2, (CHAIN_PAGE / 2) * sizeof(uint32_t));
		d->counts[page] = CHAIN_PAGE / 2;
		d->counts[page + 1] = CHAIN_PAGE / 2;
		if (i > CHAIN_PAGE / 2) {
			page++;
			i -= CHAIN_PAGE / 2;
		}
	}
	if (zone_pages_write(&d->chain, page, CHAIN_PAGE * sizeof(uint32_t), CHAIN_PAGE * sizeof(uint32_t)) == NULL)
		return TDM_ENOMEM;
	uint32_t *p = chain_page(d, page);
	memmove(p + i + 1, p + i, (size_t)(d->counts[page] - i) * sizeof(uint32_t));
	p[i] = idx;
	d->counts[page]++;
	d->count++;
	return TDM_OK;
}

/* Removes node idx when the chain holds it (found by its name, which dead nodes keep). */
static int chain_remove(const zone_contents_t *z, zone_dnssec_t *d, uint32_t idx, bool *removed)
{
	uint32_t page, i;
	*removed = false;
	if (!chain_find(z, d, name_of(z, idx), &page, &i) || chain_at(d, page, i) != idx)
		return TDM_OK;
	if (d->counts[page] == 1) {
		if (zone_pages_remove(&d->chain, page) != TDM_OK)
			return TDM_ENOMEM;
		memmove(d->counts + page, d->counts + page + 1, (size_t)(d->chain.count - page) * sizeof(uint16_t));
	} else {
		if (zone_pages_write(&d->chain, page, CHAIN_PAGE * sizeof(uint32_t),
		                     CHAIN_PAGE * sizeof(uint32_t)) == NULL)
			return TDM_ENOMEM;
		uint32_t *p = chain_page(d, page);
		memmove(p + i, p + i + 1, (size_t)(d->counts[page] - i - 1) * sizeof(uint32_t));
		d->counts[page]--;
	}
	d->count--;
	*removed = true;
	return TDM_OK;
}

/* ---- membership and each node's own NSEC3 ---- */

/* The NSEC3 nodes of the chain the NSEC3PARAM names (another chain's records are served, not used). */
static bool in_chain(const zone_contents_t *z, const zone_dnssec_t *d, const zone_node_t *n)
{
	if (!(n->flags & ZONE_NODE_NSEC3) || (n->flags & ZONE_NODE_DEAD))
		return false;
	uint16_t rdlen;
	nsec3_params_t p;
	const uint8_t *rd = zone_rrset_first(z, zone_node_rrset(z, n, PKT_TYPE_NSEC3), &rdlen);
	return nsec3_params_read(rd, rdlen, &p) == TDM_OK && nsec3_params_same(&p, &d->params);
}

static bool member(const zone_contents_t *z, const zone_dnssec_t *d, uint32_t idx)
{
	const zone_node_t *n = zone_node(z, idx);
	if (n->flags & ZONE_NODE_DEAD)
		return false;
	return d->nsec3 ? in_chain(z, d, n) : zone_node_rrset(z, n, PKT_TYPE_NSEC) != NULL;
}

/* The NSEC3 node of node idx: "<its hash>.<apex>", one probe of the name table. *unusable when the
 * parameters allow no hashing (an unknown algorithm, too many iterations). */
static int own_nsec3(const zone_contents_t *z, const zone_dnssec_t *d, uint32_t idx, uint32_t *out,
                     bool *unusable)
{
	const zone_node_t *n = zone_node(z, idx);
	*out = ZONE_NODE_NONE;
	*unusable = false;
	const uint8_t *apex = zone_apex(z);
	int apex_len = name_length(apex, NAME_MAXLEN);
	if ((n->flags & (ZONE_NODE_NSEC3 | ZONE_NODE_NONAUTH | ZONE_NODE_DEAD)) || d->count == 0 ||
	    1 + NSEC3_LABEL_MAX + apex_len > NAME_MAXLEN)
		return TDM_OK;
	uint8_t owner[NAME_MAXLEN];
	int len = nsec3_label(&d->params, zone_node_name(z, n), n->name_len, owner + 1);
	if (len == TDM_ENOMEM)
		return TDM_ENOMEM;
	if (len != NSEC3_LABEL_MAX) {
		*unusable = true;
		return TDM_OK;
	}
	owner[0] = NSEC3_LABEL_MAX;
	memcpy(owner + 1 + NSEC3_LABEL_MAX, apex, (size_t)apex_len);
	uint32_t m = zone_lookup(z, owner, (size_t)(1 + NSEC3_LABEL_MAX + apex_len));
	if (m != ZONE_NODE_NONE && in_chain(z, d, zone_node(z, m)))
		*out = m;
	return TDM_OK;
}

static int of_set(zone_dnssec_t *d, uint32_t idx, uint32_t value)
{
	uint32_t *slot = zone_pages_elem_write(&d->of, sizeof(uint32_t), OF_SHIFT, idx);
	if (slot == NULL)
		return TDM_ENOMEM;
	*slot = value;
	return TDM_OK;
}

/* Every node's own NSEC3, found once so that answers about existing names hash nothing. */
static int build_of(const zone_contents_t *z, zone_dnssec_t *d)
{
	zone_pages_release(&d->of);
	d->nodes = 0;
	d->hashed = true;
	uint32_t count = zone_node_count(z);
	for (uint32_t i = 0; i < count; i++) {
		uint32_t m = ZONE_NODE_NONE;
		bool unusable = false;
		if (d->hashed && own_nsec3(z, d, i, &m, &unusable) != TDM_OK)
			return TDM_ENOMEM;
		if (unusable)
			d->hashed = false;   /* no proofs: every entry stays NONE */
		if (of_set(d, i, d->hashed ? m : ZONE_NODE_NONE) != TDM_OK)
			return TDM_ENOMEM;
		d->nodes = i + 1;
	}
	return TDM_OK;
}

/* ---- building whole ---- */

typedef struct {
	const uint8_t *name;
	uint32_t idx;
	bool nsec3;
} sort_item_t;

static int item_cmp(const void *pa, const void *pb)
{
	const sort_item_t *a = pa, *b = pb;
	return a->nsec3 ? label_cmp(a->name, b->name) : name_cmp_canonical(a->name, b->name);
}

static int build_chain(const zone_contents_t *z, zone_dnssec_t *d)
{
	uint32_t count = zone_node_count(z), n = 0;
	sort_item_t *items = malloc((size_t)(count ? count : 1) * sizeof(*items));
	uint32_t *order = malloc((size_t)(count ? count : 1) * sizeof(uint32_t));
	int ret = TDM_ENOMEM;
	if (items != NULL && order != NULL) {
		for (uint32_t i = 0; i < count; i++)
			if (member(z, d, i))
				items[n++] = (sort_item_t){ .name = name_of(z, i), .idx = i, .nsec3 = d->nsec3 };
		qsort(items, n, sizeof(*items), item_cmp);
		for (uint32_t i = 0; i < n; i++)
			order[i] = items[i].idx;
		ret = chain_fill(d, order, n);
	}
	free(items);
	free(order);
	return ret;
}

/* Whether the apex says signed, and how (NSEC3PARAM). */
static bool read_apex(const zone_contents_t *z, zone_dnssec_t *d)
{
	const zone_node_t *apex = zone_node(z, zone_apex_index(z));
	if (zone_node_rrset(z, apex, PKT_TYPE_DNSKEY) == NULL)
		return false;
	const zone_rrset_t *param = zone_node_rrset(z, apex, 51 /* NSEC3PARAM */);
	d->nsec3 = false;
	if (param != NULL) {
		uint16_t rdlen;
		const uint8_t *rd = zone_rrset_first(z, param, &rdlen);
		d->nsec3 = nsec3_params_read(rd, rdlen, &d->params) == TDM_OK;
	}
	return true;
}

int zone_dnssec_build(const zone_contents_t *z, zone_dnssec_t **out)
{
	*out = NULL;
	zone_dnssec_t *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return TDM_ENOMEM;
	if (!read_apex(z, d)) {
		free(d);
		return TDM_OK;
	}
	int ret = build_chain(z, d);
	if (ret == TDM_OK && d->nsec3)
		ret = build_of(z, d);
	if (ret != TDM_OK) {
		zone_dnssec_free(d);
		return ret;
	}
	*out = d;
	return TDM_OK;
}

/* ---- carried through a change ---- */

static zone_dnssec_t *share(const zone_dnssec_t *old)
{
	zone_dnssec_t *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->nsec3 = old->nsec3;
	d->hashed = old->hashed;
	d->params = old->params;
	d->count = old->count;
	d->nodes = old->nodes;
	if (zone_pages_share(&d->chain, &old->chain) != TDM_OK || zone_pages_share(&d->of, &old->of) != TDM_OK ||
	    counts_room(d, old->chain.count) != TDM_OK) {
		zone_dnssec_free(d);
		return NULL;
	}
	if (old->chain.count)
		memcpy(d->counts, old->counts, (size_t)old->chain.count * sizeof(uint16_t));
	return d;
}

static bool in_list(const uint32_t *list, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == x)
			return true;
	return false;
}

/* The per-node NSEC3 entries of the touched nodes. A chain node that joined or left is accounted for
 * by a touched node whose entry names it; one that is not (an NSEC3 added for a name the change did not
 * touch) makes the whole table be computed again. */
static int update_of(const zone_contents_t *z, zone_dnssec_t *d, const uint32_t *touched, size_t n,
                     const uint32_t *joined, size_t nj, const uint32_t *left, size_t nl, bool all)
{
	if (all || !d->hashed)
		return d->hashed || all ? build_of(z, d) : TDM_OK;
	uint32_t count = zone_node_count(z);
	for (uint32_t i = d->nodes; i < count; i++)
		if (of_set(d, i, ZONE_NODE_NONE) != TDM_OK)
			return TDM_ENOMEM;
	d->nodes = count;
	uint32_t *before = malloc((n ? n : 1) * sizeof(uint32_t)), *after = malloc((n ? n : 1) * sizeof(uint32_t));
	int ret = before && after ? TDM_OK : TDM_ENOMEM;
	for (size_t i = 0; i < n && ret == TDM_OK; i++) {
		bool unusable;
		before[i] = zone_nsec3_of(d, touched[i]);
		ret = own_nsec3(z, d, touched[i], &after[i], &unusable);
		if (ret == TDM_OK)
			ret = of_set(d, touched[i], after[i]);
	}
	bool accounted = true;
	for (size_t i = 0; i < nj && accounted; i++)
		accounted = in_list(after, n, joined[i]);
	for (size_t i = 0; i < nl && accounted; i++)
		accounted = in_list(before, n, left[i]);
	free(before);
	free(after);
	if (ret == TDM_OK && !accounted)
		ret = build_of(z, d);
	return ret;
}

int zone_dnssec_update(const zone_contents_t *z, const zone_dnssec_t *old, const uint32_t *touched,
                       size_t n, bool cuts_changed, zone_dnssec_t **out)
{
	*out = NULL;
	zone_dnssec_t probe = { 0 };
	if (!read_apex(z, &probe))
		return TDM_OK;
	/* A zone signed just now, another kind of chain, or other NSEC3 parameters: built whole; so is a
	 * change that touches a large part of the chain. */
	if (old == NULL || probe.nsec3 != old->nsec3 ||
	    (probe.nsec3 && !nsec3_params_same(&probe.params, &old->params)) || n > old->count / 4 + 64)
		return zone_dnssec_build(z, out);
	zone_dnssec_t *d = share(old);
	uint32_t *joined = malloc((n ? n : 1) * sizeof(uint32_t)), *left = malloc((n ? n : 1) * sizeof(uint32_t));
	size_t nj = 0, nl = 0;
	int ret = d && joined && left ? TDM_OK : TDM_ENOMEM;
	/* Owners that left first (dead nodes among them), then those that joined. */
	for (size_t i = 0; i < n && ret == TDM_OK; i++) {
		bool removed = false;
		if (!member(z, d, touched[i]) && (ret = chain_remove(z, d, touched[i], &removed)) == TDM_OK &&
		    removed)
			left[nl++] = touched[i];
	}
	for (size_t i = 0; i < n && ret == TDM_OK; i++) {
		uint32_t page, at;
		if (!member(z, d, touched[i]))
			continue;
		bool present = chain_find(z, d, name_of(z, touched[i]), &page, &at) &&
		               chain_at(d, page, at) == touched[i];
		if (!present && (ret = chain_insert(z, d, touched[i])) == TDM_OK)
			joined[nj++] = touched[i];
	}
	if (ret == TDM_OK && d->nsec3)
		ret = update_of(z, d, touched, n, joined, nj, left, nl, cuts_changed);
	free(joined);
	free(left);
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
	zone_pages_release(&d->chain);
	zone_pages_release(&d->of);
	free(d->counts);
	free(d);
}

size_t zone_dnssec_memory(const zone_dnssec_t *d)
{
	if (d == NULL)
		return 0;
	return sizeof(*d) + zone_pages_memory(&d->chain) + zone_pages_memory(&d->of) +
	       (size_t)d->counts_cap * sizeof(uint16_t);
}

size_t zone_dnssec_exclusive(const zone_dnssec_t *d)
{
	if (d == NULL)
		return 0;
	return sizeof(*d) + zone_pages_exclusive(&d->chain) + zone_pages_exclusive(&d->of) +
	       (size_t)d->counts_cap * sizeof(uint16_t);
}

/* ---- answering ---- */

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
	uint32_t page = 0, i = 0;
	chain_find(z, d, name, &page, &i);
	return chain_at(d, page, i);
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
	uint32_t page, i;
	if (!chain_find(z, d, key, &page, &i))
		return chain_last(d);
	uint32_t idx = chain_at(d, page, i);
	*exact = label_cmp(name_of(z, idx), key) == 0;
	return idx;
}

uint32_t *zone_dnssec_chain(const zone_dnssec_t *d, uint32_t *count)
{
	*count = 0;
	uint32_t *out = malloc((size_t)(d->count ? d->count : 1) * sizeof(uint32_t));
	if (out == NULL)
		return NULL;
	for (uint32_t p = 0, n = 0; p < d->chain.count; p++) {
		memcpy(out + n, chain_page(d, p), (size_t)d->counts[p] * sizeof(uint32_t));
		n += d->counts[p];
	}
	*count = d->count;
	return out;
}

uint32_t zone_nsec3_of(const zone_dnssec_t *d, uint32_t node)
{
	if (!d->nsec3 || node >= d->nodes)
		return ZONE_NODE_NONE;
	return *(const uint32_t *)zone_pages_elem(&d->of, sizeof(uint32_t), OF_SHIFT, node);
}
