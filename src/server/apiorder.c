/* server/apiorder.c -- the names of a version in canonical order, for paging through its records */
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "server/apiorder.h"
#include "wire/name.h"

typedef struct {
	zone_contents_t *z;          /* pinned; NULL when the slot is free */
	uint64_t lineage;
	uint32_t node_count;         /* of z when the order was made */
	uint32_t *nodes;
	uint32_t count;
	uint64_t used;               /* for least recently used */
} slot_t;

static slot_t slots[APIORDER_CACHE];
static uint64_t clock_ticks;
static const zone_contents_t *sort_z;   /* qsort's context: control thread only */

static int by_name(const void *a, const void *b)
{
	const zone_contents_t *z = sort_z;
	return name_cmp_canonical(zone_node_name(z, zone_node(z, *(const uint32_t *)a)),
	                          zone_node_name(z, zone_node(z, *(const uint32_t *)b)));
}

static void slot_drop(slot_t *s)
{
	if (s->z != NULL)
		zone_contents_unref(s->z);
	free(s->nodes);
	memset(s, 0, sizeof(*s));
}

/* The live nodes of z from index first on, sorted: a new array. */
static int sorted_from(const zone_contents_t *z, uint32_t first, uint32_t **out, uint32_t *count)
{
	uint32_t total = zone_node_count(z), n = 0;
	uint32_t *v = malloc(((size_t)(total - first) + 1) * sizeof(uint32_t));
	if (v == NULL)
		return TDM_ENOMEM;
	for (uint32_t i = first; i < total; i++)
		if (!(zone_node(z, i)->flags & ZONE_NODE_DEAD))
			v[n++] = i;
	sort_z = z;
	qsort(v, n, sizeof(uint32_t), by_name);
	*out = v;
	*count = n;
	return TDM_OK;
}

/* The order of z made from the one of an earlier version of its lineage (s), merged with the
 * nodes added since. */
static int derive(slot_t *s, zone_contents_t *z)
{
	uint32_t *added, nadded;
	int ret = sorted_from(z, s->node_count, &added, &nadded);
	if (ret != TDM_OK)
		return ret;
	uint32_t *v = malloc(((size_t)s->count + nadded + 1) * sizeof(uint32_t));
	if (v == NULL) {
		free(added);
		return TDM_ENOMEM;
	}
	uint32_t i = 0, j = 0, n = 0;
	while (i < s->count || j < nadded) {
		/* Old entries compare by their name in z: a dead slot keeps its name, so its place. */
		if (j == nadded || (i < s->count &&
		    name_cmp_canonical(zone_node_name(z, zone_node(z, s->nodes[i])),
		                       zone_node_name(z, zone_node(z, added[j]))) <= 0))
			v[n++] = s->nodes[i++];
		else
			v[n++] = added[j++];
	}
	free(added);
	free(s->nodes);
	zone_contents_unref(s->z);
	zone_contents_ref(z);
	s->z = z;
	s->nodes = v;
	s->count = n;
	s->node_count = zone_node_count(z);
	return TDM_OK;
}

int apiorder_get(zone_contents_t *z, apiorder_t *out)
{
	slot_t *hit = NULL, *kin = NULL, *lru = &slots[0];
	for (size_t i = 0; i < APIORDER_CACHE; i++) {
		slot_t *s = &slots[i];
		if (s->z == z)
			hit = s;
		else if (s->z != NULL && s->lineage == zone_contents_lineage(z) &&
		         s->node_count <= zone_node_count(z))
			kin = s;
		if (s->used < lru->used)
			lru = s;
	}
	int ret = TDM_OK;
	if (hit == NULL && kin != NULL) {
		ret = derive(kin, z);
		hit = ret == TDM_OK ? kin : NULL;
	}
	if (hit == NULL && ret == TDM_OK) {
		uint32_t *v, n;
		if ((ret = sorted_from(z, 0, &v, &n)) == TDM_OK) {
			slot_drop(lru);
			zone_contents_ref(z);
			*lru = (slot_t){ .z = z, .lineage = zone_contents_lineage(z),
			                 .node_count = zone_node_count(z), .nodes = v, .count = n };
			hit = lru;
		}
	}
	if (hit == NULL)
		return ret;
	hit->used = ++clock_ticks;
	out->nodes = hit->nodes;
	out->count = hit->count;
	return TDM_OK;
}

uint32_t apiorder_seek(const zone_contents_t *z, const apiorder_t *o, const uint8_t *name)
{
	uint32_t lo = 0, hi = o->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (name_cmp_canonical(zone_node_name(z, zone_node(z, o->nodes[mid])), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void apiorder_clear(void)
{
	for (size_t i = 0; i < APIORDER_CACHE; i++)
		slot_drop(&slots[i]);
}
