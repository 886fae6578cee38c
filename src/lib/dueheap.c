/* lib/dueheap.c -- things due at a time, the soonest first: a binary heap of entries kept in their owners */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/dueheap.h"
#include "lib/error.h"

#define DUEHEAP_MIN 16

struct dueheap {
	dueheap_entry_t **v;
	size_t count, cap;
	uint64_t seq;   /* handed to each entry put or moved: ties go first in, first out */
};

dueheap_t *dueheap_new(void)
{
	return calloc(1, sizeof(dueheap_t));
}

void dueheap_free(dueheap_t *heap)
{
	if (heap == NULL)
		return;
	for (size_t i = 0; i < heap->count; i++)
		heap->v[i]->index = SIZE_MAX;
	free(heap->v);
	free(heap);
}

size_t dueheap_count(const dueheap_t *heap)
{
	return heap->count;
}

void dueheap_entry_init(dueheap_entry_t *e)
{
	*e = (dueheap_entry_t){ .index = SIZE_MAX };
}

static bool before(const dueheap_entry_t *a, const dueheap_entry_t *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void place(dueheap_t *heap, size_t i, dueheap_entry_t *e)
{
	heap->v[i] = e;
	e->index = i;
}

static void sift_up(dueheap_t *heap, size_t i)
{
	dueheap_entry_t *e = heap->v[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(e, heap->v[parent]))
			break;
		place(heap, i, heap->v[parent]);
		i = parent;
	}
	place(heap, i, e);
}

static void sift_down(dueheap_t *heap, size_t i)
{
	dueheap_entry_t *e = heap->v[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= heap->count)
			break;
		if (child + 1 < heap->count && before(heap->v[child + 1], heap->v[child]))
			child++;
		if (!before(heap->v[child], e))
			break;
		place(heap, i, heap->v[child]);
		i = child;
	}
	place(heap, i, e);
}

int dueheap_put(dueheap_t *heap, dueheap_entry_t *e, int64_t due)
{
	if (e->index != SIZE_MAX)
		return TDM_EINVAL;
	if (heap->count == heap->cap) {
		size_t cap = heap->cap ? heap->cap * 2 : DUEHEAP_MIN;
		dueheap_entry_t **v = realloc(heap->v, cap * sizeof(*v));
		if (v == NULL)
			return TDM_ENOMEM;
		heap->v = v;
		heap->cap = cap;
	}
	e->due = due;
	e->seq = heap->seq++;
	place(heap, heap->count++, e);
	sift_up(heap, e->index);
	return TDM_OK;
}

void dueheap_move(dueheap_t *heap, dueheap_entry_t *e, int64_t due)
{
	e->due = due;
	e->seq = heap->seq++;
	sift_up(heap, e->index);
	sift_down(heap, e->index);
}

void dueheap_remove(dueheap_t *heap, dueheap_entry_t *e)
{
	size_t i = e->index;
	if (i == SIZE_MAX)
		return;
	e->index = SIZE_MAX;
	dueheap_entry_t *last = heap->v[--heap->count];
	if (i == heap->count)
		return;
	place(heap, i, last);
	sift_up(heap, i);
	sift_down(heap, last->index);
}

dueheap_entry_t *dueheap_first(const dueheap_t *heap)
{
	return heap->count > 0 ? heap->v[0] : NULL;
}

dueheap_entry_t *dueheap_at(const dueheap_t *heap, size_t i)
{
	return i < heap->count ? heap->v[i] : NULL;
}
