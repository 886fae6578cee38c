/* zone/diff.c -- differences between zone versions */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/siphash.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/diff.h"

int serial_cmp(uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	uint32_t d = b - a;
	return d < 0x80000000u ? -1 : 1;
}

uint32_t serial_next(uint32_t current, int policy, int64_t now)
{
	uint32_t candidate = current + 1;
	if (policy == ZONE_SERIAL_UNIXTIME) {
		candidate = (uint32_t)now;
	} else if (policy == ZONE_SERIAL_DATESERIAL) {
		time_t t = (time_t)now;
		struct tm tm;
		if (gmtime_r(&t, &tm) != NULL)
			candidate = (uint32_t)(tm.tm_year + 1900) * 1000000u + (uint32_t)(tm.tm_mon + 1) * 10000u +
			            (uint32_t)tm.tm_mday * 100u;
	}
	return serial_cmp(candidate, current) > 0 ? candidate : current + 1;
}

static bool rdata_equal(const uint8_t *a, uint16_t alen, const uint8_t *b, uint16_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool rrset_has(const zone_contents_t *z, const zone_rrset_t *set, const uint8_t *rd,
                      uint16_t rdlen)
{
	zone_rdata_iter_t it;
	const uint8_t *x;
	uint16_t xlen;
	zone_rdata_begin(z, set, &it);
	while (zone_rdata_next(&it, &x, &xlen))
		if (rdata_equal(x, xlen, rd, rdlen))
			return true;
	return false;
}

/* Adds to out every record of set that other (same owner and type in the other version, or NULL)
 * lacks, or all of them when the TTL differs. */
static int set_minus(const zone_contents_t *z, const uint8_t *owner, const zone_rrset_t *set,
                     const zone_contents_t *oz, const zone_rrset_t *other, rrlist_t *out)
{
	zone_rdata_iter_t it;
	const uint8_t *rd;
	uint16_t rdlen;
	bool all = other == NULL || other->ttl != set->ttl;
	zone_rdata_begin(z, set, &it);
	while (zone_rdata_next(&it, &rd, &rdlen)) {
		if (!all && rrset_has(oz, other, rd, rdlen))
			continue;
		if (rrlist_add(out, owner, set->type, set->ttl, rd, rdlen, 0) != TDM_OK)
			return TDM_ENOMEM;
	}
	return TDM_OK;
}

/* Every record of a that b lacks, into out. */
static int contents_minus(const zone_contents_t *a, const zone_contents_t *b, rrlist_t *out)
{
	for (uint32_t i = 0; i < zone_node_count(a); i++) {
		const zone_node_t *n = zone_node(a, i);
		const uint8_t *owner = zone_node_name(a, n);
		uint32_t j = zone_lookup(b, owner, n->name_len);
		const zone_node_t *m = j == ZONE_NODE_NONE ? NULL : zone_node(b, j);
		const zone_rrset_t *sets = zone_node_rrsets(a, n);
		for (uint16_t k = 0; k < n->rrset_count; k++) {
			const zone_rrset_t *other =
				m ? zone_node_rrset_cov(b, m, sets[k].type, zone_rrset_covered(a, &sets[k])) : NULL;
			int ret = set_minus(a, owner, &sets[k], b, other, out);
			if (ret != TDM_OK)
				return ret;
		}
	}
	return TDM_OK;
}

int zone_diff(const zone_contents_t *old, const zone_contents_t *new, rrlist_t *removed,
              rrlist_t *added)
{
	int ret = contents_minus(old, new, removed);
	return ret == TDM_OK ? contents_minus(new, old, added) : ret;
}

bool zone_diff_beyond_soa(const rrlist_t *removed, const rrlist_t *added)
{
	for (size_t i = 0; i < rrlist_count(removed); i++)
		if (rrlist_at(removed, i)->type != PKT_TYPE_SOA)
			return true;
	for (size_t i = 0; i < rrlist_count(added); i++)
		if (rrlist_at(added, i)->type != PKT_TYPE_SOA)
			return true;
	return false;
}

/* A hash set of records (owner, type, rdata) given by index into a list, to mark removals. */
typedef struct {
	const rrlist_t *list;
	uint32_t *slots;        /* index + 1, 0 = empty */
	uint8_t *hit;
	size_t mask;
} rrset_index_t;

static uint32_t rr_hash(const rr_t *rr)
{
	int olen = name_length(rr->owner, NAME_MAXLEN);
	/* Keyed (lib/siphash.h), rdata too: records come from primaries, who must not be able to send
	 * removals chosen to fall in one run of the table. */
	uint64_t rd = siphash13(siphash_table_key(), rr->rdata, rr->rdlen, false);
	return name_hash(rr->owner, (size_t)olen) ^ (uint32_t)rr->type * 2654435761u ^
	       (uint32_t)(rd ^ (rd >> 32));
}

static bool rr_same(const rr_t *a, const rr_t *b)
{
	return a->type == b->type && name_equal(a->owner, b->owner) &&
	       rdata_equal(a->rdata, a->rdlen, b->rdata, b->rdlen);
}

static int index_build(rrset_index_t *ix, const rrlist_t *list)
{
	size_t n = rrlist_count(list), size = 16;
	while (size < n * 2)
		size *= 2;
	ix->list = list;
	ix->mask = size - 1;
	ix->slots = calloc(size, sizeof(uint32_t));
	ix->hit = calloc(n ? n : 1, 1);
	if (ix->slots == NULL || ix->hit == NULL)
		return TDM_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t h = rr_hash(rrlist_at(list, i)) & ix->mask;
		while (ix->slots[h] != 0)
			h = (h + 1) & ix->mask;
		ix->slots[h] = (uint32_t)i + 1;
	}
	return TDM_OK;
}

/* Marks the removed records matching rr; true when there was one. */
static bool index_take(rrset_index_t *ix, const rr_t *rr)
{
	bool found = false;
	for (size_t h = rr_hash(rr) & ix->mask; ix->slots[h] != 0; h = (h + 1) & ix->mask) {
		uint32_t i = ix->slots[h] - 1;
		if (rr_same(rrlist_at(ix->list, i), rr)) {
			ix->hit[i] = 1;
			found = true;
		}
	}
	return found;
}

int zone_apply(const zone_contents_t *old, const rrlist_t *removed, const rrlist_t *added,
               rrlist_t **out)
{
	rrset_index_t ix = { 0 };
	rrlist_t *cur = rrlist_new(), *next = rrlist_new();
	int ret = TDM_ENOMEM;
	if (cur == NULL || next == NULL || zone_contents_to_rrlist(old, cur) != TDM_OK ||
	    index_build(&ix, removed) != TDM_OK)
		goto fail;
	for (size_t i = 0; i < rrlist_count(cur); i++) {
		const rr_t *rr = rrlist_at(cur, i);
		if (index_take(&ix, rr))
			continue;
		if (rrlist_add(next, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, 0) != TDM_OK)
			goto fail;
	}
	/* A removal of something this version does not hold: the diff is for another version. */
	ret = TDM_EMALF;
	for (size_t i = 0; i < rrlist_count(removed); i++)
		if (!ix.hit[i])
			goto fail;
	ret = TDM_ENOMEM;
	for (size_t i = 0; i < rrlist_count(added); i++) {
		const rr_t *rr = rrlist_at(added, i);
		if (rrlist_add(next, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, 0) != TDM_OK)
			goto fail;
	}
	free(ix.slots);
	free(ix.hit);
	rrlist_free(cur);
	*out = next;
	return TDM_OK;
fail:
	free(ix.slots);
	free(ix.hit);
	rrlist_free(cur);
	rrlist_free(next);
	return ret;
}
