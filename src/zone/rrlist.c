/* zone/rrlist.c -- a growable list of resource records in wire form */
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "wire/name.h"
#include "zone/rrlist.h"

#define CHUNK_SIZE (256 * 1024)

struct chunk {
	struct chunk *next;
	size_t used;
	uint8_t data[];
};

struct rrlist {
	rr_t *items;
	size_t count, capacity;
	struct chunk *chunks;
};

rrlist_t *rrlist_new(void)
{
	return calloc(1, sizeof(rrlist_t));
}

void rrlist_free(rrlist_t *list)
{
	if (list == NULL)
		return;
	struct chunk *c = list->chunks;
	while (c != NULL) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
	free(list->items);
	free(list);
}

static uint8_t *chunk_alloc(rrlist_t *list, size_t size)
{
	struct chunk *c = list->chunks;
	if (c == NULL || CHUNK_SIZE - c->used < size) {
		size_t cap = size > CHUNK_SIZE ? size : CHUNK_SIZE;
		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->used = 0;
		c->next = list->chunks;
		list->chunks = c;
	}
	uint8_t *p = c->data + c->used;
	c->used += size;
	return p;
}

int rrlist_add(rrlist_t *list, const uint8_t *owner, uint16_t type, uint32_t ttl,
               const uint8_t *rdata, uint16_t rdlen, uint32_t line)
{
	int olen = name_length(owner, NAME_MAXLEN);
	if (olen < 0)
		return TDM_EINVAL;
	if (list->count == list->capacity) {
		size_t cap = list->capacity ? list->capacity * 2 : 64;
		rr_t *items = realloc(list->items, cap * sizeof(rr_t));
		if (items == NULL)
			return TDM_ENOMEM;
		list->items = items;
		list->capacity = cap;
	}
	uint8_t *mem = chunk_alloc(list, (size_t)olen + rdlen);
	if (mem == NULL)
		return TDM_ENOMEM;
	name_copy_lower(mem, owner);
	if (rdlen > 0)
		memcpy(mem + olen, rdata, rdlen);
	list->items[list->count++] = (rr_t){ .owner = mem, .rdata = mem + olen, .ttl = ttl,
	                                     .type = type, .rdlen = rdlen, .line = line,
	                                     .sort_key = 0 };
	return TDM_OK;
}

size_t rrlist_count(const rrlist_t *list)
{
	return list->count;
}

const rr_t *rrlist_at(const rrlist_t *list, size_t i)
{
	return &list->items[i];
}

static int rdata_cmp(const rr_t *a, const rr_t *b)
{
	size_t n = a->rdlen < b->rdlen ? a->rdlen : b->rdlen;
	int c = n ? memcmp(a->rdata, b->rdata, n) : 0;
	if (c != 0)
		return c;
	return (int)a->rdlen - (int)b->rdlen;
}

static int rr_cmp(const void *pa, const void *pb)
{
	const rr_t *a = pa, *b = pb;
	if (a->sort_key != b->sort_key)
		return a->sort_key < b->sort_key ? -1 : 1;
	int c = name_cmp_canonical(a->owner, b->owner);
	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return rdata_cmp(a, b);
}

/* The longest label suffix of suf that name also ends with (a pointer into suf). */
static const uint8_t *common_suffix(const uint8_t *name, const uint8_t *suf)
{
	const uint8_t *la[NAME_MAXLABELS], *lb[NAME_MAXLABELS];
	int na = 0, nb = 0;
	for (const uint8_t *p = name; *p != 0; p += 1 + *p)
		la[na++] = p;
	for (const uint8_t *p = suf; *p != 0; p += 1 + *p)
		lb[nb++] = p;
	const uint8_t *common = suf + name_length(suf, NAME_MAXLEN) - 1;   /* the root */
	while (na > 0 && nb > 0) {
		const uint8_t *x = la[--na], *y = lb[--nb];
		if (*x != *y || memcmp(x + 1, y + 1, *x) != 0)
			break;
		common = y;
	}
	return common;
}

/*
 * The first 8 octets of the owner's canonical form below the suffix all owners share: labels from
 * the right, each followed by a zero octet, so that comparing keys as numbers agrees with RFC 4034
 * 6.1 order whenever they differ (owners are lowercase). Returns false when a label holds a zero
 * octet, which would make the encoding ambiguous.
 */
static bool make_key(rr_t *rr, int suffix_len)
{
	const uint8_t *labels[NAME_MAXLABELS];
	int n = 0, prefix = name_length(rr->owner, NAME_MAXLEN) - suffix_len;
	for (const uint8_t *p = rr->owner; p - rr->owner < prefix; p += 1 + *p)
		labels[n++] = p;
	uint8_t key[8] = { 0 };
	size_t k = 0;
	while (n > 0 && k < sizeof(key)) {
		const uint8_t *l = labels[--n];
		if (memchr(l + 1, 0, *l) != NULL)
			return false;
		for (int i = 1; i <= *l && k < sizeof(key); i++)
			key[k++] = l[i];
		if (k < sizeof(key))
			key[k++] = 0;
	}
	rr->sort_key = 0;
	for (size_t i = 0; i < sizeof(key); i++)
		rr->sort_key = rr->sort_key << 8 | key[i];
	return true;
}

/* Sort keys make most comparisons one integer compare: a million names sort several times faster
 * than with label-by-label comparisons alone. */
static void make_keys(rrlist_t *list)
{
	const uint8_t *suffix = list->items[0].owner;
	for (size_t i = 1; i < list->count; i++)
		if (!name_in_zone(list->items[i].owner, suffix))
			suffix = common_suffix(list->items[i].owner, suffix);
	int suffix_len = name_length(suffix, NAME_MAXLEN);
	for (size_t i = 0; i < list->count; i++) {
		if (!make_key(&list->items[i], suffix_len)) {
			for (size_t j = 0; j < list->count; j++)
				list->items[j].sort_key = 0;
			return;
		}
	}
}

int rrlist_sort(rrlist_t *list)
{
	if (list->count < 2)
		return TDM_OK;
	make_keys(list);
	qsort(list->items, list->count, sizeof(rr_t), rr_cmp);
	size_t out = 1;
	for (size_t i = 1; i < list->count; i++) {
		if (rr_cmp(&list->items[out - 1], &list->items[i]) == 0)
			continue;
		list->items[out++] = list->items[i];
	}
	list->count = out;
	return TDM_OK;
}
