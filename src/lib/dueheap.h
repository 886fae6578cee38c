/* lib/dueheap.h -- things due at a time, the soonest first: a binary heap of entries kept in their owners */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * For timers that are many and mostly not due (a NOTIFY to each of 100,000 zones, retried on its own
 * schedule): looking at what is due costs what is due, not everything waiting, and adding, moving or
 * removing one entry costs the logarithm of their number. An entry lives inside its owner (embed a
 * dueheap_entry_t and get the owner back with offsetof); the heap holds pointers to entries and each
 * entry knows its place, so it is moved or removed without a search. Entries due at the same time come
 * out in the order they were put in or last moved. Not thread-safe: one owner.
 */
typedef struct dueheap dueheap_t;

typedef struct {
	int64_t due;     /* read it; change it only through dueheap_move */
	uint64_t seq;    /* the heap's: order among the same due time */
	size_t index;    /* the heap's: place in its array, SIZE_MAX when in no heap */
} dueheap_entry_t;

/* An empty heap; NULL when out of memory. */
dueheap_t *dueheap_new(void);
/* Frees the heap, not the entries (take them out first, or keep pointers to them elsewhere). */
void dueheap_free(dueheap_t *heap);

size_t dueheap_count(const dueheap_t *heap);

/* Marks an entry as in no heap; call once before its first dueheap_put. */
void dueheap_entry_init(dueheap_entry_t *e);

/* Puts an entry in no heap into this one, due at `due`. TDM_OK; TDM_ENOMEM (nothing changed); TDM_EINVAL
 * for an entry in a heap already. */
int dueheap_put(dueheap_t *heap, dueheap_entry_t *e, int64_t due);

/* Makes an entry of this heap due at `due` instead (after those already due then). */
void dueheap_move(dueheap_t *heap, dueheap_entry_t *e, int64_t due);

/* Takes an entry out of this heap (it is then in none). Nothing for an entry in no heap. */
void dueheap_remove(dueheap_t *heap, dueheap_entry_t *e);

/* The entry due soonest, NULL when the heap is empty. */
dueheap_entry_t *dueheap_first(const dueheap_t *heap);

/* Entry i of the heap (i < dueheap_count), in no particular order: for walking all of them. */
dueheap_entry_t *dueheap_at(const dueheap_t *heap, size_t i);
