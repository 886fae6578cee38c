/* api/apiorder.c -- the names of a version in canonical order, for paging through its records */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/apiorder.h"
#include "lib/error.h"
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
static _Thread_local const zone_contents_t *sort_z;   /* qsort's context, per sorting thread */

/*
 * Warming: a large version's order made ahead, on a thread of its own, so that the first page asked
 * for after a load or a whole transfer does not pay the sort (about a second for a million records).
 * One thread at a time; a version asked for while it runs waits in `next` (the latest wins). The
 * finished order waits in `done` until the control thread adopts it into a slot (apiorder_get).
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t ended;        /* a sort ended (`done` filled or given up) */
	pthread_t thread;
	bool running, joinable, stop;
	const zone_contents_t *current;   /* the version being sorted, NULL when none */
	zone_contents_t *next;       /* pinned, NULL when none */
	slot_t done;                 /* .z NULL when none */
} warm = { .lock = PTHREAD_MUTEX_INITIALIZER, .ended = PTHREAD_COND_INITIALIZER };

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

static void *warm_main(void *arg)
{
	zone_contents_t *z = arg;
	while (z != NULL) {
		uint32_t *v = NULL, n = 0;
		bool ok = sorted_from(z, 0, &v, &n) == TDM_OK;
		pthread_mutex_lock(&warm.lock);
		slot_drop(&warm.done);
		if (ok)
			warm.done = (slot_t){ .z = z, .lineage = zone_contents_lineage(z),
			                      .node_count = zone_node_count(z), .nodes = v, .count = n };
		else
			zone_contents_unref(z);
		z = warm.stop ? NULL : warm.next;
		warm.next = NULL;
		warm.current = z;
		if (z == NULL)
			warm.running = false;
		pthread_cond_broadcast(&warm.ended);
		pthread_mutex_unlock(&warm.lock);
	}
	return NULL;
}

void apiorder_warm(zone_contents_t *z)
{
	if (z == NULL || zone_node_count(z) < APIORDER_WARM_MIN)
		return;
	for (size_t i = 0; i < APIORDER_CACHE; i++)
		if (slots[i].z == z || (slots[i].z != NULL &&
		                        slots[i].lineage == zone_contents_lineage(z)))
			return;   /* made already, or derived cheaply from a kin */
	zone_contents_ref(z);
	pthread_mutex_lock(&warm.lock);
	if (warm.running) {
		zone_contents_unref(warm.next);
		warm.next = z;
		z = NULL;
	} else {
		if (warm.joinable)
			pthread_join(warm.thread, NULL);   /* ended: running is false */
		warm.joinable = pthread_create(&warm.thread, NULL, warm_main, z) == 0;
		warm.running = warm.joinable;
		if (warm.running) {
			warm.current = z;
			z = NULL;
		}
	}
	pthread_mutex_unlock(&warm.lock);
	zone_contents_unref(z);   /* a thread could not start: the order is made when asked for */
}

/* A warmed order waiting: into the least recently used slot, unless a slot holds that version. When
 * z itself is being sorted, waits for it rather than sorting it a second time. */
static void adopt_warmed(const zone_contents_t *z)
{
	pthread_mutex_lock(&warm.lock);
	while (warm.current == z && warm.running)
		pthread_cond_wait(&warm.ended, &warm.lock);
	slot_t done = warm.done;
	memset(&warm.done, 0, sizeof(warm.done));
	pthread_mutex_unlock(&warm.lock);
	if (done.z == NULL)
		return;
	slot_t *lru = &slots[0];
	for (size_t i = 0; i < APIORDER_CACHE; i++) {
		if (slots[i].z == done.z) {
			slot_drop(&done);
			return;
		}
		if (slots[i].used < lru->used)
			lru = &slots[i];
	}
	slot_drop(lru);
	done.used = ++clock_ticks;
	*lru = done;
}

int apiorder_get(zone_contents_t *z, apiorder_t *out)
{
	adopt_warmed(z);
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
	pthread_mutex_lock(&warm.lock);
	warm.stop = true;
	zone_contents_unref(warm.next);
	warm.next = NULL;
	bool joinable = warm.joinable;
	warm.joinable = false;
	pthread_mutex_unlock(&warm.lock);
	if (joinable)
		pthread_join(warm.thread, NULL);
	slot_drop(&warm.done);
	for (size_t i = 0; i < APIORDER_CACHE; i++)
		slot_drop(&slots[i]);
}
