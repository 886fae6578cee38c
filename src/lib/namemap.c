/* lib/namemap.c -- a map from names (octet strings, ASCII case ignored) to pointers, kept between calls */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/namemap.h"
#include "lib/siphash.h"

#define NAMEMAP_MIN 16   /* slots of an empty map; a power of two */

typedef struct {
	void *value;
	uint16_t len;
	uint8_t key[];
} entry_t;

typedef struct {
	uint64_t hash;
	entry_t *entry;   /* NULL: free */
} slot_t;

struct namemap {
	slot_t *slots;
	size_t mask, count;
};

static uint64_t hash_of(const void *key, size_t len)
{
	return siphash13(siphash_table_key(), key, len, true);
}

static uint8_t fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

static bool same(const entry_t *e, const uint8_t *key, size_t len)
{
	if (e->len != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (e->key[i] != key[i] && fold(e->key[i]) != fold(key[i]))
			return false;
	return true;
}

namemap_t *namemap_new(void)
{
	namemap_t *map = calloc(1, sizeof(*map));
	if (map == NULL)
		return NULL;
	map->slots = calloc(NAMEMAP_MIN, sizeof(slot_t));
	if (map->slots == NULL) {
		free(map);
		return NULL;
	}
	map->mask = NAMEMAP_MIN - 1;
	return map;
}

void namemap_free(namemap_t *map)
{
	if (map == NULL)
		return;
	for (size_t i = 0; i <= map->mask; i++)
		free(map->slots[i].entry);
	free(map->slots);
	free(map);
}

size_t namemap_count(const namemap_t *map)
{
	return map->count;
}

/* The slot holding key, or the free one where the probe for it ends. */
static size_t find(const namemap_t *map, uint64_t h, const uint8_t *key, size_t len)
{
	size_t i = (size_t)h & map->mask;
	while (map->slots[i].entry != NULL &&
	       !(map->slots[i].hash == h && same(map->slots[i].entry, key, len)))
		i = (i + 1) & map->mask;
	return i;
}

void *namemap_get(const namemap_t *map, const void *key, size_t len)
{
	size_t i = find(map, hash_of(key, len), key, len);
	return map->slots[i].entry != NULL ? map->slots[i].entry->value : NULL;
}

/* Doubles the table (kept at most half full, so probes stay short). */
static int grow(namemap_t *map)
{
	size_t size = (map->mask + 1) * 2;
	slot_t *slots = calloc(size, sizeof(slot_t));
	if (slots == NULL)
		return TDM_ENOMEM;
	for (size_t i = 0; i <= map->mask; i++) {
		if (map->slots[i].entry == NULL)
			continue;
		size_t j = (size_t)map->slots[i].hash & (size - 1);
		while (slots[j].entry != NULL)
			j = (j + 1) & (size - 1);
		slots[j] = map->slots[i];
	}
	free(map->slots);
	map->slots = slots;
	map->mask = size - 1;
	return TDM_OK;
}

int namemap_put(namemap_t *map, const void *key, size_t len, void *value, void **old)
{
	if (value == NULL || len > UINT16_MAX)
		return TDM_EINVAL;
	uint64_t h = hash_of(key, len);
	size_t i = find(map, h, key, len);
	if (map->slots[i].entry != NULL) {
		if (old != NULL)
			*old = map->slots[i].entry->value;
		return TDM_EEXIST;
	}
	if ((map->count + 1) * 2 > map->mask + 1) {
		if (grow(map) != TDM_OK)
			return TDM_ENOMEM;
		i = find(map, h, key, len);
	}
	entry_t *e = malloc(sizeof(*e) + len);
	if (e == NULL)
		return TDM_ENOMEM;
	e->value = value;
	e->len = (uint16_t)len;
	memcpy(e->key, key, len);
	map->slots[i] = (slot_t){ .hash = h, .entry = e };
	map->count++;
	return TDM_OK;
}

int namemap_set(namemap_t *map, const void *key, size_t len, void *value)
{
	size_t i = find(map, hash_of(key, len), key, len);
	if (map->slots[i].entry == NULL || value == NULL)
		return value == NULL ? TDM_EINVAL : TDM_ENOENT;
	map->slots[i].entry->value = value;
	return TDM_OK;
}

int namemap_del(namemap_t *map, const void *key, size_t len)
{
	size_t i = find(map, hash_of(key, len), key, len);
	if (map->slots[i].entry == NULL)
		return TDM_ENOENT;
	free(map->slots[i].entry);
	map->count--;
	/* Backward shift: each entry after the hole that may move into it (its home is not between
	 * the hole and itself, cyclically) does, until a free slot ends the run. */
	for (size_t j = (i + 1) & map->mask; map->slots[j].entry != NULL; j = (j + 1) & map->mask) {
		size_t home = (size_t)map->slots[j].hash & map->mask;
		if (((j - home) & map->mask) >= ((j - i) & map->mask)) {
			map->slots[i] = map->slots[j];
			i = j;
		}
	}
	map->slots[i] = (slot_t){ .hash = 0, .entry = NULL };
	return TDM_OK;
}

void namemap_each(const namemap_t *map, void (*fn)(void *value, void *ctx), void *ctx)
{
	for (size_t i = 0; i <= map->mask; i++)
		if (map->slots[i].entry != NULL)
			fn(map->slots[i].entry->value, ctx);
}
