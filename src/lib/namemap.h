/* lib/namemap.h -- a map from names (octet strings, ASCII case ignored) to pointers, kept between calls */
#pragma once

#include <stddef.h>

/*
 * For sets that live as long as what they index and change one entry at a time (the members a catalog
 * lists, the zones catalogs and super-primaries made): a lookup, an insertion or a removal costs one
 * entry, never the whole set. Keys are copied in. Open addressing, linear probing under the process's
 * SipHash key (lib/siphash.h: peers choose the names), removals by backward shift (no tombstones).
 * A-Z and a-z are the same key (RFC 4343: only those fold), so text names and wire names both fit.
 * Not thread-safe: one owner.
 */
typedef struct namemap namemap_t;

/* An empty map; NULL when out of memory. */
namemap_t *namemap_new(void);
void namemap_free(namemap_t *map);

size_t namemap_count(const namemap_t *map);

/* The value under key, NULL when none. */
void *namemap_get(const namemap_t *map, const void *key, size_t len);

/* Adds key -> value (value not NULL). TDM_OK; TDM_EEXIST when key is there already (nothing
 * changed; *old, when not NULL, gets its value); TDM_ENOMEM (nothing changed); TDM_EINVAL for a NULL
 * value or a key over 65,535 octets. */
int namemap_put(namemap_t *map, const void *key, size_t len, void *value, void **old);

/* Sets the value of a key that is there. TDM_OK or TDM_ENOENT. */
int namemap_set(namemap_t *map, const void *key, size_t len, void *value);

/* Removes key. TDM_OK or TDM_ENOENT. */
int namemap_del(namemap_t *map, const void *key, size_t len);

/* Calls fn with every value, in no order; fn must not change the map. */
void namemap_each(const namemap_t *map, void (*fn)(void *value, void *ctx), void *ctx);
