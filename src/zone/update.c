/* zone/update.c -- the next version of a zone made from the one before and a change */
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/contents_impl.h"
#include "zone/update.h"

/* One record of the change, sorted by owner so that each owner is rewritten once. */
typedef struct {
	const rr_t *rr;
	uint32_t seq;            /* order in the change: removals first, then additions in their order */
	uint8_t add;
	uint8_t len;             /* owner length */
} change_t;

typedef struct {
	const zone_contents_t *old;
	zone_contents_t *z;
	int apex_len;
	bool cuts_changed;       /* a delegation appeared or vanished: "below a cut" flags redone */
	uint32_t *created;       /* nodes made by this change (their flags are settled at the end) */
	size_t created_n, created_cap;
	uint32_t *touched;       /* nodes written, made or removed (for the DNSSEC index) */
	size_t touched_n, touched_cap;
	rr_t *olds;              /* scratch: a node's current records */
	size_t olds_cap;
	contents_item_t *items;  /* scratch: a node's next records */
	size_t items_cap;
	uint8_t *taken;          /* scratch: which current records the change removes */
} update_t;

static int change_cmp(const void *pa, const void *pb)
{
	const change_t *a = pa, *b = pb;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	int c = memcmp(a->rr->owner, b->rr->owner, a->len);
	if (c != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool under_apex(const update_t *u, const uint8_t *owner, int len)
{
	if (len < u->apex_len || memcmp(owner + len - u->apex_len, zone_apex(u->old), (size_t)u->apex_len))
		return false;
	const uint8_t *p = owner;
	while (p - owner < len - u->apex_len)
		p += 1 + *p;
	return p - owner == len - u->apex_len;
}

static zone_node_t *node_w(zone_contents_t *z, uint32_t idx)
{
	return contents_node_w(z, idx);
}

static uint32_t home_slot(const zone_contents_t *z, uint32_t idx)
{
	const zone_node_t *n = contents_node(z, idx);
	return name_hash(zone_pages_at(&z->names, n->name_off), n->name_len) & z->hash_mask;
}

/* Takes node idx out of the hash table (backward shift: no tombstones, probes stay short). */
static int hash_remove(zone_contents_t *z, uint32_t idx)
{
	uint32_t i = home_slot(z, idx), mask = z->hash_mask;
	while (contents_slot(z, i) != idx)
		i = (i + 1) & mask;
	for (uint32_t j = i;;) {
		j = (j + 1) & mask;
		uint32_t at = contents_slot(z, j);
		if (at == ZONE_NODE_NONE)
			break;
		uint32_t k = home_slot(z, at);
		/* The entry at j may move to i when its home is not cyclically in (i, j]. */
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (stays)
			continue;
		uint32_t *slot = zone_pages_elem_write(&z->hash, sizeof(uint32_t), HASH_SHIFT, i);
		if (slot == NULL)
			return TDM_ENOMEM;
		*slot = at;
		i = j;
	}
	uint32_t *slot = zone_pages_elem_write(&z->hash, sizeof(uint32_t), HASH_SHIFT, i);
	if (slot == NULL)
		return TDM_ENOMEM;
	*slot = ZONE_NODE_NONE;
	return TDM_OK;
}

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

static int touch(update_t *u, uint32_t idx)
{
	if (grow((void **)&u->touched, sizeof(uint32_t), u->touched_n + 1, &u->touched_cap) != TDM_OK)
		return TDM_ENOMEM;
	u->touched[u->touched_n++] = idx;
	return TDM_OK;
}

/* Removes a node without RRsets or children, then its ancestors that are left as empty leaves. */
static int prune(update_t *u, uint32_t idx)
{
	zone_contents_t *z = u->z;
	while (idx != z->apex) {
		const zone_node_t *n = contents_node(z, idx);
		if (n->rrset_count != 0 || n->children != 0)
			return TDM_OK;
		uint32_t parent = n->parent;
		const uint8_t *name = zone_pages_at(&z->names, n->name_off);
		bool wild = name[0] == 1 && name[1] == '*';
		int ret = hash_remove(z, idx);
		zone_node_t *w = ret == TDM_OK ? node_w(z, idx) : NULL;
		zone_node_t *p = w != NULL ? node_w(z, parent) : NULL;
		if (p == NULL)
			return TDM_ENOMEM;
		z->garbage += sizeof(zone_node_t) + w->name_len;
		w->flags = ZONE_NODE_DEAD;
		if (touch(u, idx) != TDM_OK)
			return TDM_ENOMEM;
		p->children--;
		if (wild)
			p->flags &= (uint8_t)~ZONE_NODE_WILDCHILD;
		z->live_nodes--;
		idx = parent;
	}
	return TDM_OK;
}

/* The records a node holds in the old version, in its order (rdata stays in old's pages). */
static int read_old(update_t *u, uint32_t idx, const uint8_t *owner, size_t *count)
{
	*count = 0;
	if (idx == ZONE_NODE_NONE || idx >= u->old->node_count)
		return TDM_OK;
	const zone_node_t *n = contents_node(u->old, idx);
	const zone_rrset_t *s = zone_node_rrsets(u->old, n);
	size_t total = 0;
	for (uint16_t i = 0; i < n->rrset_count; i++)
		total += s[i].count;
	if (grow((void **)&u->olds, sizeof(rr_t), total, &u->olds_cap) != TDM_OK)
		return TDM_ENOMEM;
	for (uint16_t i = 0; i < n->rrset_count; i++) {
		zone_rdata_iter_t it;
		const uint8_t *rd;
		uint16_t rdlen;
		zone_rdata_begin(u->old, &s[i], &it);
		while (zone_rdata_next(&it, &rd, &rdlen))
			u->olds[(*count)++] = (rr_t){ .owner = owner, .rdata = rd, .ttl = s[i].ttl,
			                              .type = s[i].type, .rdlen = rdlen };
	}
	return TDM_OK;
}

static bool rr_match(const rr_t *a, const rr_t *b)
{
	return a->type == b->type && a->rdlen == b->rdlen &&
	       (a->rdlen == 0 || memcmp(a->rdata, b->rdata, a->rdlen) == 0);
}

/* What the node's RRsets leave behind when replaced. */
static void retire_rrsets(zone_contents_t *z, const zone_node_t *n)
{
	const zone_rrset_t *s = zone_node_rrsets(z, n);
	for (uint16_t i = 0; i < n->rrset_count; i++) {
		zone_rdata_iter_t it;
		const uint8_t *rd;
		uint16_t rdlen;
		zone_rdata_begin(z, &s[i], &it);
		while (zone_rdata_next(&it, &rd, &rdlen)) {
			z->garbage += 2 + (size_t)rdlen;
			z->wire -= 10 + (size_t)n->name_len + rdlen;
		}
		z->records -= s[i].count;
		z->garbage += sizeof(zone_rrset_t);
	}
}

/* Rewrites the node of one owner: changes[0..n) all name it. */
static int apply_owner(update_t *u, const change_t *ch, size_t n)
{
	zone_contents_t *z = u->z;
	const uint8_t *owner = ch[0].rr->owner;
	int len = ch[0].len;
	bool inside = under_apex(u, owner, len);
	uint32_t idx = inside ? zone_lookup(z, owner, (size_t)len) : ZONE_NODE_NONE;
	size_t olds = 0, items = 0;
	int ret = read_old(u, idx, owner, &olds);
	if (ret != TDM_OK)
		return ret;
	free(u->taken);
	if ((u->taken = calloc(olds ? olds : 1, 1)) == NULL)
		return TDM_ENOMEM;
	size_t adds = 0;
	for (size_t i = 0; i < n; i++) {
		if (ch[i].add) {
			adds++;
			continue;
		}
		size_t k = 0;
		while (k < olds && !rr_match(&u->olds[k], ch[i].rr))
			k++;
		if (k == olds)
			return TDM_EMALF;   /* not in this version: the change is for another one */
		u->taken[k] = 1;
	}
	if (!inside)
		return TDM_OK;   /* only additions outside the zone: ignored, as a build ignores them */
	if (grow((void **)&u->items, sizeof(contents_item_t), olds + adds, &u->items_cap) != TDM_OK)
		return TDM_ENOMEM;
	for (size_t k = 0; k < olds; k++)
		if (!u->taken[k])
			u->items[items++] = (contents_item_t){ .rr = &u->olds[k], .index = (uint32_t)k };
	for (size_t i = 0; i < n; i++)
		if (ch[i].add)
			u->items[items++] = (contents_item_t){ .rr = ch[i].rr, .index = (uint32_t)(olds + i) };
	if (idx == ZONE_NODE_NONE) {
		if (items == 0)
			return TDM_OK;
		size_t before = z->node_count;
		if ((ret = contents_node_get(z, owner, len, u->apex_len, &idx, NULL)) != TDM_OK)
			return ret;
		for (uint32_t k = (uint32_t)before; k < z->node_count; k++) {
			if (grow((void **)&u->created, sizeof(uint32_t), u->created_n + 1, &u->created_cap) ||
			    touch(u, k) != TDM_OK)
				return TDM_ENOMEM;
			u->created[u->created_n++] = k;
		}
	} else if (touch(u, idx) != TDM_OK) {
		return TDM_ENOMEM;
	}
	const zone_node_t *n0 = contents_node(z, idx);
	bool was_cut = n0->flags & ZONE_NODE_DELEG;
	retire_rrsets(z, n0);
	if ((ret = contents_emit_node(z, idx, u->items, items)) != TDM_OK)
		return ret;
	if (node_w(z, idx) == NULL)
		return TDM_ENOMEM;
	contents_own_flags(z, idx);
	if (was_cut != ((contents_node(z, idx)->flags & ZONE_NODE_DELEG) != 0))
		u->cuts_changed = true;
	return items == 0 ? prune(u, idx) : TDM_OK;
}

/* Flags that depend on other nodes: WILDCHILD of the parents of new '*' nodes, NONAUTH. */
static int settle_flags(update_t *u)
{
	zone_contents_t *z = u->z;
	for (size_t i = 0; i < u->created_n; i++) {
		uint32_t idx = u->created[i];
		const zone_node_t *n = contents_node(z, idx);
		const uint8_t *name = zone_node_name(z, n);
		if ((n->flags & ZONE_NODE_DEAD) || !(name[0] == 1 && name[1] == '*'))
			continue;
		zone_node_t *p = node_w(z, n->parent);
		if (p == NULL)
			return TDM_ENOMEM;
		p->flags |= ZONE_NODE_WILDCHILD;
	}
	uint32_t count = u->cuts_changed ? z->node_count : (uint32_t)u->created_n;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t idx = u->cuts_changed ? i : u->created[i];
		const zone_node_t *n = contents_node(z, idx);
		if ((n->flags & ZONE_NODE_DEAD) || idx == z->apex)
			continue;
		bool below = false;
		for (uint32_t p = n->parent; p != z->apex && !below; p = contents_node(z, p)->parent)
			below = contents_node(z, p)->flags & ZONE_NODE_DELEG;
		if (below == ((n->flags & ZONE_NODE_NONAUTH) != 0))
			continue;
		zone_node_t *w = node_w(z, idx);
		if (w == NULL)
			return TDM_ENOMEM;
		w->flags ^= ZONE_NODE_NONAUTH;
	}
	return TDM_OK;
}

static int collect(const rrlist_t *removed, const rrlist_t *added, change_t **out, size_t *count)
{
	size_t nr = rrlist_count(removed), na = rrlist_count(added), n = 0;
	change_t *ch = malloc((nr + na + 1) * sizeof(*ch));
	if (ch == NULL)
		return TDM_ENOMEM;
	for (size_t i = 0; i < nr + na; i++) {
		const rr_t *rr = i < nr ? rrlist_at(removed, i) : rrlist_at(added, i - nr);
		int len = name_length(rr->owner, NAME_MAXLEN);
		if (len <= 0) {
			free(ch);
			return TDM_EMALF;
		}
		ch[n++] = (change_t){ .rr = rr, .seq = (uint32_t)i, .add = i >= nr, .len = (uint8_t)len };
	}
	qsort(ch, n, sizeof(*ch), change_cmp);
	*out = ch;
	*count = n;
	return TDM_OK;
}

static zone_contents_t *share(const zone_contents_t *old)
{
	zone_contents_t *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return NULL;
	z->node_count = old->node_count;
	z->live_nodes = old->live_nodes;
	z->rrset_count = old->rrset_count;
	z->hash_mask = old->hash_mask;
	z->records = old->records;
	z->wire = old->wire;
	z->garbage = old->garbage;
	z->apex = old->apex;
	z->serial = old->serial;
	z->lineage = old->lineage;
	z->shared_nodes = old->node_count;   /* the nodes appended from here on are this version's own */
	atomic_init(&z->refs, 1);
	if (zone_pages_share(&z->names, &old->names) != TDM_OK ||
	    zone_pages_share(&z->nodes, &old->nodes) != TDM_OK ||
	    zone_pages_share(&z->hash, &old->hash) != TDM_OK ||
	    zone_pages_share(&z->rrsets, &old->rrsets) != TDM_OK ||
	    zone_pages_share(&z->rdata, &old->rdata) != TDM_OK) {
		zone_contents_free(z);
		return NULL;
	}
	return z;
}

static int idx_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The DNSSEC index carried from the old version through what the change touched. */
static int carry_dnssec(update_t *u, const zone_contents_t *old)
{
	size_t n = 0;
	if (u->touched_n > 1)
		qsort(u->touched, u->touched_n, sizeof(uint32_t), idx_cmp);
	for (size_t i = 0; i < u->touched_n; i++)
		if (n == 0 || u->touched[n - 1] != u->touched[i])
			u->touched[n++] = u->touched[i];
	return zone_dnssec_update(u->z, old->dnssec, u->touched, n, u->cuts_changed, &u->z->dnssec);
}

/* A version whose leftovers outweigh half of it is built again from its records. */
static int maybe_rebuild(zone_contents_t **z, bool *rebuilt)
{
	if ((*z)->garbage < 65536 || (*z)->garbage * 2 < zone_memory(*z))
		return TDM_OK;
	rrlist_t *list = rrlist_new();
	zone_contents_t *fresh = NULL;
	int ret = list == NULL ? TDM_ENOMEM : zone_contents_to_rrlist(*z, list);
	if (ret == TDM_OK)
		ret = zone_contents_build(zone_apex(*z), list, &fresh);
	rrlist_free(list);
	if (ret != TDM_OK)
		return ret;
	zone_contents_free(*z);
	*z = fresh;
	*rebuilt = true;
	return TDM_OK;
}

int zone_update_apply(const zone_contents_t *old, const rrlist_t *removed, const rrlist_t *added,
                      zone_contents_t **out)
{
	*out = NULL;
	update_t u = { .old = old, .apex_len = name_length(zone_apex(old), NAME_MAXLEN) };
	change_t *ch = NULL;
	size_t count = 0;
	int ret = collect(removed, added, &ch, &count);
	if (ret != TDM_OK)
		return ret;
	if ((u.z = share(old)) == NULL) {
		free(ch);
		return TDM_ENOMEM;
	}
	for (size_t i = 0; i < count && ret == TDM_OK;) {
		size_t j = i + 1;
		while (j < count && ch[j].len == ch[i].len &&
		       memcmp(ch[j].rr->owner, ch[i].rr->owner, ch[i].len) == 0)
			j++;
		ret = apply_owner(&u, &ch[i], j - i);
		i = j;
	}
	if (ret == TDM_OK)
		ret = settle_flags(&u);
	if (ret == TDM_OK)
		ret = contents_read_serial(u.z);
	bool rebuilt = false;
	if (ret == TDM_OK)
		ret = maybe_rebuild(&u.z, &rebuilt);
	if (ret == TDM_OK && !rebuilt)
		ret = carry_dnssec(&u, old);
	free(ch);
	free(u.created);
	free(u.touched);
	free(u.olds);
	free(u.items);
	free(u.taken);
	if (ret != TDM_OK) {
		zone_contents_free(u.z);
		return ret;
	}
	*out = u.z;
	return TDM_OK;
}

int zone_contents_set_serial(zone_contents_t *z, uint32_t serial)
{
	const zone_rrset_t *soa = zone_soa(z);
	uint16_t rdlen;
	zone_rrset_first(z, soa, &rdlen);
	/* The version is not published yet: nobody reads it while we write. */
	uint8_t *run = zone_pages_run_write(&z->rdata, soa->rdata_off, 2 + (size_t)rdlen);
	if (run == NULL)
		return TDM_ENOMEM;
	pkt_put32(run + 2 + rdlen - 20, serial);
	z->serial = serial;
	return TDM_OK;
}
