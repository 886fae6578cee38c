/* zone/zoneset.c -- the zones a server holds, published through RCU */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "lib/error.h"
#include "wire/name.h"
#include "zone/zoneset.h"

struct zone {
	uint8_t apex[NAME_MAXLEN];
	int apex_len;
	char *text;                  /* the name as text, for logs (exact size: thousands of zones) */
	zone_contents_t *contents;   /* RCU-protected */
	atomic_int refs;
	atomic_bool expired;
	_Atomic int64_t expire_at;
	_Atomic uint64_t generation; /* versions published so far (the API's ETag) */
	void *ext;
	void (*ext_free)(void *);
};

struct zoneset {
	struct rcu_head rcu;
	size_t count;
	zone_t **zones;
	uint32_t *hash;              /* indexes into zones, UINT32_MAX = empty */
	uint32_t mask;
	uint64_t lengths[4];         /* bit n: some apex is n octets long (a suffix of another length
	                              * cannot be an apex: not hashed, not probed) */
};

zone_t *zone_new(const uint8_t *apex)
{
	zone_t *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return NULL;
	z->apex_len = name_copy_lower(z->apex, apex);
	char text[NAME_TEXT_MAX];
	name_to_text(z->apex, text, sizeof(text));
	if ((z->text = strdup(text)) == NULL) {
		free(z);
		return NULL;
	}
	atomic_init(&z->refs, 1);
	return z;
}

void zone_ref(zone_t *zone)
{
	atomic_fetch_add(&zone->refs, 1);
}

void zone_unref(zone_t *zone)
{
	if (zone == NULL || atomic_fetch_sub(&zone->refs, 1) != 1)
		return;
	/* The last reference goes after the grace period of the set that held it: no reader is left. */
	zone_contents_unref(zone->contents);
	if (zone->ext_free != NULL)
		zone->ext_free(zone->ext);
	free(zone->text);
	free(zone);
}

void zone_set_expired(zone_t *zone, bool expired)
{
	atomic_store(&zone->expired, expired);
}

bool zone_expired(const zone_t *zone)
{
	return atomic_load(&((zone_t *)zone)->expired);
}

void zone_set_expire_at(zone_t *zone, int64_t t)
{
	atomic_store(&zone->expire_at, t);
}

int64_t zone_expire_at(const zone_t *zone)
{
	return atomic_load(&((zone_t *)zone)->expire_at);
}

void zone_set_ext(zone_t *zone, void *ext, void (*ext_free)(void *))
{
	zone->ext = ext;
	zone->ext_free = ext_free;
}

void *zone_ext(const zone_t *zone)
{
	return zone->ext;
}

const uint8_t *zone_name(const zone_t *zone)
{
	return zone->apex;
}

const char *zone_name_text(const zone_t *zone)
{
	return zone->text;
}

zone_contents_t *zone_contents(const zone_t *zone)
{
	return rcu_dereference(((zone_t *)zone)->contents);
}


uint64_t zone_generation(const zone_t *zone)
{
	return atomic_load(&((zone_t *)zone)->generation);
}

void zone_set_contents(zone_t *zone, zone_contents_t *contents)
{
	zone_contents_t *old = rcu_xchg_pointer(&zone->contents, contents);
	atomic_fetch_add(&zone->generation, 1);
	if (old != NULL)
		zone_contents_retire(old);   /* no allocation: a worker (UPDATE) may publish too */
}

zoneset_t *zoneset_new(zone_t **zones, size_t count)
{
	zoneset_t *set = calloc(1, sizeof(*set));
	if (set == NULL)
		return NULL;
	uint32_t size = 16;
	while (size < count * 2)
		size *= 2;
	set->zones = malloc((count ? count : 1) * sizeof(zone_t *));
	set->hash = malloc(size * sizeof(uint32_t));
	if (set->zones == NULL || set->hash == NULL) {
		free(set->zones);
		free(set->hash);
		free(set);
		return NULL;
	}
	memset(set->hash, 0xFF, size * sizeof(uint32_t));
	set->mask = size - 1;
	for (size_t i = 0; i < count; i++) {
		zone_ref(zones[i]);
		set->zones[set->count++] = zones[i];
		uint32_t h = name_hash(zones[i]->apex, (size_t)zones[i]->apex_len) & set->mask;
		while (set->hash[h] != UINT32_MAX)
			h = (h + 1) & set->mask;
		set->hash[h] = (uint32_t)i;
		set->lengths[zones[i]->apex_len / 64] |= 1ull << (zones[i]->apex_len % 64);
	}
	return set;
}

void zoneset_free(zoneset_t *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->count; i++)
		zone_unref(set->zones[i]);
	free(set->zones);
	free(set->hash);
	free(set);
}

static void zoneset_free_cb(struct rcu_head *head)
{
	zoneset_free(caa_container_of(head, zoneset_t, rcu));
}

void zoneset_free_rcu(zoneset_t *set)
{
	if (set != NULL)
		call_rcu(&set->rcu, zoneset_free_cb);
}

size_t zoneset_count(const zoneset_t *set)
{
	return set->count;
}

zone_t *zoneset_at(const zoneset_t *set, size_t i)
{
	return set->zones[i];
}

zone_t *zoneset_find_exact(const zoneset_t *set, const uint8_t *name, int len)
{
	uint32_t h = name_hash(name, (size_t)len) & set->mask;
	for (;;) {
		uint32_t i = set->hash[h];
		if (i == UINT32_MAX)
			return NULL;
		zone_t *z = set->zones[i];
		if (z->apex_len == len && memcmp(z->apex, name, (size_t)len) == 0)
			return z;
		h = (h + 1) & set->mask;
	}
}

zone_t *zoneset_find(const zoneset_t *set, const uint8_t *name, int len)
{
	/* Longest match first: walk the suffixes from the full name down to the root. */
	while (len > 0) {
		if (len < 256 && (set->lengths[len / 64] >> (len % 64) & 1)) {
			zone_t *z = zoneset_find_exact(set, name, len);
			if (z != NULL)
				return z;
		}
		if (*name == 0)
			break;
		len -= 1 + *name;
		name += 1 + *name;
	}
	return NULL;
}
