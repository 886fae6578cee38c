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
	                              * cannot be an apex: not hashed, not probed); a bit may outlive
	                              * the last such apex (zoneset_without): one probe more */
	bool handed_on;              /* its references went to a set made from it (zoneset_with/out) */
	zone_t *dropped;             /* ... but for this zone's, which it drops when freed */
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

zone_contents_t *zone_contents_pin(const zone_t *zone)
{
	rcu_read_lock();
	zone_contents_t *z = zone_contents(zone);
	if (z != NULL)
		zone_contents_ref(z);
	rcu_read_unlock();
	return z;
}


void zone_set_contents(zone_t *zone, zone_contents_t *contents)
{
	zone_contents_t *old = rcu_xchg_pointer(&zone->contents, contents);
	if (old != NULL)
		zone_contents_retire(old);   /* no allocation: a worker (UPDATE) may publish too */
}

/* Where the hash probes for a zone first. */
static uint32_t hash_home(const zoneset_t *set, const zone_t *zone)
{
	return name_hash(zone->apex, (size_t)zone->apex_len) & set->mask;
}

static void hash_put(zoneset_t *set, uint32_t i)
{
	uint32_t h = hash_home(set, set->zones[i]);
	while (set->hash[h] != UINT32_MAX)
		h = (h + 1) & set->mask;
	set->hash[h] = i;
	set->lengths[set->zones[i]->apex_len / 64] |= 1ull << (set->zones[i]->apex_len % 64);
}

/* A set of count zones (its array filled by the caller) with a hash of at least twice that. */
static zoneset_t *set_alloc(size_t count, uint32_t min_size)
{
	zoneset_t *set = calloc(1, sizeof(*set));
	if (set == NULL)
		return NULL;
	uint32_t size = min_size < 16 ? 16 : min_size;
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
	set->mask = size - 1;
	return set;
}

zoneset_t *zoneset_new(zone_t **zones, size_t count)
{
	zoneset_t *set = set_alloc(count, 16);
	if (set == NULL)
		return NULL;
	memset(set->hash, 0xFF, (set->mask + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < count; i++) {
		zone_ref(zones[i]);
		set->zones[set->count++] = zones[i];
		hash_put(set, (uint32_t)i);
	}
	return set;
}

/*
 * One zone more or less, without a pass over the others: the array and the hash are copied (memcpy)
 * and one entry put or taken out, instead of every zone hashed again -- the table doubles (and is
 * hashed again) only when it is half full. The new set takes over the old one's references, so none
 * is counted again; the old set is marked, and freeing it (after the grace period) frees its arrays
 * and drops only the reference of the zone taken out.
 */
int zoneset_with(zoneset_t *old, zone_t *zone, zoneset_t **out)
{
	if (old->handed_on)
		return TDM_EINVAL;
	if (zoneset_find_exact(old, zone->apex, zone->apex_len) != NULL)
		return TDM_EEXIST;
	size_t count = old->count + 1;
	zoneset_t *set = set_alloc(count, old->mask + 1);
	if (set == NULL)
		return TDM_ENOMEM;
	memcpy(set->zones, old->zones, old->count * sizeof(zone_t *));
	set->zones[old->count] = zone;
	set->count = count;
	memcpy(set->lengths, old->lengths, sizeof(set->lengths));
	if (set->mask == old->mask) {
		memcpy(set->hash, old->hash, (set->mask + 1) * sizeof(uint32_t));
		hash_put(set, (uint32_t)old->count);
	} else {
		memset(set->hash, 0xFF, (set->mask + 1) * sizeof(uint32_t));
		for (size_t i = 0; i < count; i++)
			hash_put(set, (uint32_t)i);
	}
	zone_ref(zone);
	old->handed_on = true;
	*out = set;
	return TDM_OK;
}

/* The slot holding index i (present). */
static uint32_t slot_of(const zoneset_t *set, uint32_t i)
{
	uint32_t h = hash_home(set, set->zones[i]);
	while (set->hash[h] != i)
		h = (h + 1) & set->mask;
	return h;
}

int zoneset_without(zoneset_t *old, const zone_t *zone, zoneset_t **out)
{
	if (old->handed_on)
		return TDM_EINVAL;
	zone_t *found = zoneset_find_exact(old, zone->apex, zone->apex_len);
	if (found != zone)
		return TDM_ENOENT;
	zoneset_t *set = set_alloc(old->count, old->mask + 1);   /* room for the copy, one left unused */
	if (set == NULL)
		return TDM_ENOMEM;
	memcpy(set->zones, old->zones, old->count * sizeof(zone_t *));
	memcpy(set->hash, old->hash, (set->mask + 1) * sizeof(uint32_t));
	memcpy(set->lengths, old->lengths, sizeof(set->lengths));
	set->count = old->count;
	/* Linear probing: the entries after the hole move back into it when their home allows (no
	 * tombstones), found with the old indexes, which still name the same zones here. */
	uint32_t hole = hash_home(set, found);
	while (set->zones[set->hash[hole]] != found)
		hole = (hole + 1) & set->mask;
	uint32_t idx = set->hash[hole];
	for (uint32_t j = (hole + 1) & set->mask; set->hash[j] != UINT32_MAX; j = (j + 1) & set->mask) {
		uint32_t home = hash_home(set, set->zones[set->hash[j]]);
		/* j's entry may fill the hole unless its home lies cyclically in (hole, j]. */
		bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!stays) {
			set->hash[hole] = set->hash[j];
			hole = j;
		}
	}
	set->hash[hole] = UINT32_MAX;
	/* The last zone takes the place of the one gone, in the array and in its hash slot. */
	uint32_t last = (uint32_t)(set->count - 1);
	if (idx != last) {
		set->hash[slot_of(set, last)] = idx;
		set->zones[idx] = set->zones[last];
	}
	set->count--;
	old->handed_on = true;
	old->dropped = found;
	*out = set;
	return TDM_OK;
}

void zoneset_free(zoneset_t *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; !set->handed_on && i < set->count; i++)
		zone_unref(set->zones[i]);
	zone_unref(set->dropped);
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
