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
	                                     .type = type, .rdlen = rdlen, .line = line };
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
	int c = name_cmp_canonical(a->owner, b->owner);
	if (c != 0)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return rdata_cmp(a, b);
}

int rrlist_sort(rrlist_t *list)
{
	if (list->count < 2)
		return TDM_OK;
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
