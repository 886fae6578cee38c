/* zone/pages.c -- paged storage shared between zone versions */
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "zone/pages.h"

/* Each page's data follows this header; the flexible member keeps the data aligned for any type. */
typedef struct {
	atomic_uint refs;
	atomic_uint claimed;     /* octets used by the versions holding it, as far as appends know */
	uint32_t size;           /* octets of data allocated */
	uint32_t block;          /* octets from the start of the block holding it; 0: a malloc of its own */
	max_align_t data[];
} page_head_t;

/* A block (zone_pages_pack): this head, then pages (head and data) back to back, then the packed
 * sets' directories; freed when the last of them goes. */
typedef struct {
	atomic_uint pages;       /* pages and directories of the block still referenced */
	max_align_t data[];
} block_head_t;

/* Who shares a run of CHUNK_PAGES pages (pages.h): the sets whose chunks[k] points here. */
struct zone_pages_chunk {
	atomic_uint refs;
};

#define CHUNK_PAGES (1u << ZONE_PAGES_CHUNK_SHIFT)

static void block_unref(block_head_t *b)
{
	if (atomic_fetch_sub(&b->pages, 1) == 1)
		free(b);
}

/* Frees a set's directory, wherever it lives. */
static void dir_free(zone_pages_t *p)
{
	if (p->dir_block != 0)
		block_unref((block_head_t *)(void *)((uint8_t *)p->dir - p->dir_block));
	else
		free(p->dir);
	p->dir = NULL;
	p->dir_block = 0;
}

static page_head_t *head_of(uint8_t *data)
{
	return (page_head_t *)(void *)(data - offsetof(page_head_t, data));
}

/* Octets of pages this thread allocated (zone_pages_made_by_thread). */
static _Thread_local size_t made_by_thread;

size_t zone_pages_made_by_thread(void)
{
	return made_by_thread;
}

static uint8_t *page_new(size_t size, size_t used)
{
	page_head_t *h = malloc(sizeof(page_head_t) + size);
	if (h == NULL)
		return NULL;
	made_by_thread += sizeof(page_head_t) + size;
	atomic_init(&h->refs, 1);
	atomic_init(&h->claimed, (unsigned)used);
	h->size = (uint32_t)size;
	h->block = 0;
	return (uint8_t *)h->data;
}

static void page_unref(uint8_t *data)
{
	if (data == NULL)
		return;
	page_head_t *h = head_of(data);
	if (atomic_fetch_sub(&h->refs, 1) != 1)
		return;
	if (h->block == 0) {
		free(h);
		return;
	}
	block_unref((block_head_t *)(void *)((uint8_t *)h - h->block));
}

static uint32_t chunk_count(uint32_t pages)
{
	return (pages + CHUNK_PAGES - 1) >> ZONE_PAGES_CHUNK_SHIFT;
}

/* The pages of chunk k that p uses (the last chunk may be partly used). */
static uint32_t chunk_used(const zone_pages_t *p, uint32_t k)
{
	uint32_t first = k << ZONE_PAGES_CHUNK_SHIFT;
	return p->count - first < CHUNK_PAGES ? p->count - first : CHUNK_PAGES;
}

/* A set of more than CHUNK_PAGES pages shares them by chunk; a smaller one page by page (a page's
 * references are then the sets holding it), which costs a small zone no chunk table. */
static bool chunked(const zone_pages_t *p)
{
	return p->chunks != NULL;
}

/* Whether another set may read page i of p: its chunk is shared, or the page itself is held by
 * another chunk or set (one that made the chunk its own, or held the page page by page). */
static bool page_shared(const zone_pages_t *p, uint32_t i)
{
	return (chunked(p) && atomic_load(&p->chunks[i >> ZONE_PAGES_CHUNK_SHIFT]->refs) > 1) ||
	       atomic_load(&head_of(p->dir[i])->refs) > 1;
}

/* Drops a reference on chunk c, whose pages are the n at pages; the last one drops theirs. Every set
 * holding a chunk has the same pages in its range: a set changes its range only once it holds the
 * chunk alone (own_chunk). */
static void chunk_drop(struct zone_pages_chunk *c, uint8_t *const *pages, uint32_t n)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	for (uint32_t i = 0; i < n; i++)
		page_unref(pages[i]);
	free(c);
}

/* Makes chunk k p's alone before p changes which pages it has there: a new chunk whose pages each
 * get a reference of their own, and the shared one dropped. TDM_OK or TDM_ENOMEM (nothing changed). */
static int own_chunk(zone_pages_t *p, uint32_t k)
{
	if (!chunked(p))
		return TDM_OK;   /* page by page: each page's references are already the sets' own */
	struct zone_pages_chunk *c = p->chunks[k];
	if (atomic_load(&c->refs) == 1)
		return TDM_OK;
	struct zone_pages_chunk *mine = malloc(sizeof(*mine));
	if (mine == NULL)
		return TDM_ENOMEM;
	atomic_init(&mine->refs, 1);
	uint8_t **pages = p->dir + ((size_t)k << ZONE_PAGES_CHUNK_SHIFT);
	uint32_t n = chunk_used(p, k);
	for (uint32_t i = 0; i < n; i++)
		atomic_fetch_add(&head_of(pages[i])->refs, 1);
	chunk_drop(c, pages, n);
	p->chunks[k] = mine;
	return TDM_OK;
}

/* Chunks k.. of p made its own (pages insert and remove move pages across them). */
static int own_chunks_from(zone_pages_t *p, uint32_t k)
{
	if (!chunked(p))
		return TDM_OK;
	for (uint32_t n = chunk_count(p->count); k < n; k++)
		if (own_chunk(p, k) != TDM_OK)
			return TDM_ENOMEM;
	return TDM_OK;
}

/* p, of CHUNK_PAGES pages and page by page, goes by chunk: one chunk of its own holds the references
 * the pages had for it. */
static int to_chunks(zone_pages_t *p)
{
	struct zone_pages_chunk **chunks = malloc(2 * sizeof(*chunks));
	struct zone_pages_chunk *c = malloc(sizeof(*c));
	if (chunks == NULL || c == NULL) {
		free(chunks);
		free(c);
		return TDM_ENOMEM;
	}
	atomic_init(&c->refs, 1);
	chunks[0] = c;
	p->chunks = chunks;
	p->chunk_cap = 2;
	return TDM_OK;
}

/* The reverse, when p is down to CHUNK_PAGES pages held alone by its one chunk. */
static void to_pages(zone_pages_t *p)
{
	free(p->chunks[0]);
	free(p->chunks);
	p->chunks = NULL;
	p->chunk_cap = 0;
}

int zone_pages_share(zone_pages_t *dst, const zone_pages_t *src)
{
	*dst = (zone_pages_t){ .tail = src->tail };
	if (src->count == 0)
		return TDM_OK;
	uint32_t chunks = chunked(src) ? chunk_count(src->count) : 0;
	dst->dir = malloc((size_t)src->count * sizeof(uint8_t *));
	dst->chunks = chunks ? malloc((size_t)chunks * sizeof(*dst->chunks)) : NULL;
	if (dst->dir == NULL || (chunks && dst->chunks == NULL)) {
		free(dst->dir);
		free(dst->chunks);
		*dst = (zone_pages_t){ 0 };
		return TDM_ENOMEM;
	}
	memcpy(dst->dir, src->dir, (size_t)src->count * sizeof(uint8_t *));
	dst->count = dst->cap = src->count;
	dst->bytes = src->bytes;
	if (!chunks) {
		for (uint32_t i = 0; i < src->count; i++)
			atomic_fetch_add(&head_of(src->dir[i])->refs, 1);
		return TDM_OK;
	}
	memcpy(dst->chunks, src->chunks, (size_t)chunks * sizeof(*dst->chunks));
	dst->chunk_cap = chunks;
	for (uint32_t k = 0; k < chunks; k++)
		atomic_fetch_add(&src->chunks[k]->refs, 1);
	return TDM_OK;
}

void zone_pages_release(zone_pages_t *p)
{
	if (!chunked(p)) {
		for (uint32_t i = 0; i < p->count; i++)
			page_unref(p->dir[i]);
	}
	for (uint32_t k = 0, n = chunked(p) ? chunk_count(p->count) : 0; k < n; k++)
		chunk_drop(p->chunks[k], p->dir + ((size_t)k << ZONE_PAGES_CHUNK_SHIFT), chunk_used(p, k));
	free(p->chunks);
	dir_free(p);
	*p = (zone_pages_t){ 0 };
}

/* The set's own structures: the directory, the chunk table and its chunks (each counted whole). */
static size_t fixed_octets(const zone_pages_t *p)
{
	if (!chunked(p))
		return (size_t)p->cap * sizeof(uint8_t *);
	return (size_t)p->cap * sizeof(uint8_t *) + (size_t)p->chunk_cap * sizeof(*p->chunks) +
	       (size_t)chunk_count(p->count) * sizeof(struct zone_pages_chunk);
}

size_t zone_pages_memory(const zone_pages_t *p)
{
	return fixed_octets(p) + p->bytes;
}

size_t zone_pages_exclusive(const zone_pages_t *p)
{
	size_t total = fixed_octets(p);
	for (uint32_t i = 0; i < p->count; i++)
		if (!page_shared(p, i))
			total += sizeof(page_head_t) + head_of(p->dir[i])->size;
	return total;
}

/* The page's data made writable for octets [pos, pos + len) (with room for them), copying a page
 * shared with another version. */
static uint8_t *write_at(zone_pages_t *p, uint32_t page, size_t pos, size_t len, size_t max)
{
	size_t size = pos + len;
	if (page > p->count || page >= ZONE_PAGES_MAX || size > UINT32_MAX)
		return NULL;
	if (page == p->count) {
		/* Past CHUNK_PAGES pages the set goes by chunk; a new page then joins the last chunk
		 * (held alone first) or starts one. */
		uint32_t k = page >> ZONE_PAGES_CHUNK_SHIFT;
		struct zone_pages_chunk *fresh = NULL;
		if (page == CHUNK_PAGES && !chunked(p) && to_chunks(p) != TDM_OK)
			return NULL;
		if (chunked(p) && (page & (CHUNK_PAGES - 1)) != 0 && own_chunk(p, k) != TDM_OK)
			return NULL;
		if (chunked(p) && k == p->chunk_cap) {
			uint32_t ncap = p->chunk_cap ? p->chunk_cap * 2 : 1;
			struct zone_pages_chunk **chunks = realloc(p->chunks, (size_t)ncap * sizeof(*chunks));
			if (chunks == NULL)
				return NULL;
			p->chunks = chunks;
			p->chunk_cap = ncap;
		}
		if (chunked(p) && (page & (CHUNK_PAGES - 1)) == 0) {
			if ((fresh = malloc(sizeof(*fresh))) == NULL)
				return NULL;
			atomic_init(&fresh->refs, 1);
		}
		if (p->count == p->cap) {
			uint32_t ncap = p->cap ? p->cap * 2 : 4;
			uint8_t **dir;
			if (p->dir_block != 0) {
				/* A packed directory cannot grow in place: it moves to a malloc of its own. */
				if ((dir = malloc((size_t)ncap * sizeof(uint8_t *))) == NULL) {
					free(fresh);
					return NULL;
				}
				memcpy(dir, p->dir, (size_t)p->count * sizeof(uint8_t *));
				dir_free(p);
			} else if ((dir = realloc(p->dir, (size_t)ncap * sizeof(uint8_t *))) == NULL) {
				free(fresh);
				return NULL;
			}
			p->dir = dir;
			p->cap = ncap;
		}
		uint8_t *data = page_new(size, size);
		if (data == NULL) {
			free(fresh);
			return NULL;
		}
		if (fresh != NULL)
			p->chunks[k] = fresh;
		p->dir[p->count++] = data;
		p->bytes += sizeof(page_head_t) + size;
		return data;
	}
	uint8_t *data = p->dir[page];
	page_head_t *h = head_of(data);
	if (!page_shared(p, page) && h->size >= size)
		return data;
	/* The page changes: this set holds its chunk alone first (the page is still shared then, with
	 * the set it came from, and is copied). */
	if (own_chunk(p, page >> ZONE_PAGES_CHUNK_SHIFT) != TDM_OK)
		return NULL;
	size_t nsize = h->size;
	if (nsize < size) {
		nsize = nsize ? nsize : 64;
		while (nsize < size)
			nsize *= 2;
		if (nsize > max)
			nsize = size > max ? size : max;
	}
	/* The copy is this set's alone: its claim is set exactly by its next append (append_at); until
	 * then it says less than may be in use, which only costs a later version a copy. */
	uint8_t *copy = page_new(nsize, size);
	if (copy == NULL)
		return NULL;
	memcpy(copy, data, h->size < nsize ? h->size : nsize);
	p->dir[page] = copy;
	p->bytes = p->bytes - h->size + nsize;
	page_unref(data);
	return copy;
}

uint8_t *zone_pages_write(zone_pages_t *p, uint32_t page, size_t size, size_t max)
{
	return write_at(p, page, 0, size, max);
}

/* Octets [pos, pos + len) of page, where pos is the end of this set's use of it: in place when the
 * page is shared but has room and no version used it past pos (the claim moved on atomically), else
 * as write_at; the claim of a page this set holds alone is then exactly its use. */
static uint8_t *append_at(zone_pages_t *p, uint32_t page, size_t pos, size_t len, size_t max)
{
	if (page >= p->count || pos + len > UINT32_MAX)
		return write_at(p, page, pos, len, max);   /* a new page (claimed: pos + len) or refused */
	page_head_t *h = head_of(p->dir[page]);
	unsigned expect = (unsigned)pos;
	if (page_shared(p, page) && h->size >= pos + len &&
	    atomic_compare_exchange_strong(&h->claimed, &expect, (unsigned)(pos + len)))
		return p->dir[page];
	uint8_t *data = write_at(p, page, pos, len, max);
	/* This set's alone (whoever else claimed the old page): its claim is its use. Relaxed: no other
	 * thread holds the page until the version is published, which orders it. */
	if (data != NULL && !page_shared(p, page))
		atomic_store_explicit(&head_of(data)->claimed, (unsigned)(pos + len), memory_order_relaxed);
	return data;
}

uint8_t *zone_pages_insert(zone_pages_t *p, uint32_t at, size_t size)
{
	if (at > p->count || own_chunks_from(p, at >> ZONE_PAGES_CHUNK_SHIFT) != TDM_OK ||
	    zone_pages_write(p, p->count, size, size) == NULL)
		return NULL;
	uint8_t *data = p->dir[p->count - 1];
	memmove(p->dir + at + 1, p->dir + at, (size_t)(p->count - 1 - at) * sizeof(uint8_t *));
	p->dir[at] = data;
	return data;
}

int zone_pages_remove(zone_pages_t *p, uint32_t at)
{
	if (at >= p->count)
		return TDM_EINVAL;
	/* Down to CHUNK_PAGES, the set goes page by page again: every chunk held alone first. */
	bool back = chunked(p) && p->count == CHUNK_PAGES + 1;
	if (own_chunks_from(p, back ? 0 : at >> ZONE_PAGES_CHUNK_SHIFT) != TDM_OK)
		return TDM_ENOMEM;
	p->bytes -= sizeof(page_head_t) + head_of(p->dir[at])->size;
	page_unref(p->dir[at]);
	memmove(p->dir + at, p->dir + at + 1, (size_t)(p->count - at - 1) * sizeof(uint8_t *));
	p->count--;
	/* The last chunk emptied (held alone, no page left) goes. */
	if (chunked(p) && (p->count & (CHUNK_PAGES - 1)) == 0)
		free(p->chunks[p->count >> ZONE_PAGES_CHUNK_SHIFT]);
	if (back)
		to_pages(p);
	return TDM_OK;
}

void *zone_pages_elem_write(zone_pages_t *p, size_t elem, unsigned shift, uint32_t i)
{
	uint32_t page = i >> shift;
	size_t pos = (size_t)(i & ((1u << shift) - 1)) * elem;
	uint8_t *data = write_at(p, page, pos, elem, elem << shift);
	return data == NULL ? NULL : data + pos;
}

void *zone_pages_elem_append(zone_pages_t *p, size_t elem, unsigned shift, uint32_t i)
{
	uint32_t page = i >> shift;
	size_t pos = (size_t)(i & ((1u << shift) - 1)) * elem;
	uint8_t *data = append_at(p, page, pos, elem, elem << shift);
	return data == NULL ? NULL : data + pos;
}

uint8_t *zone_pages_alloc(zone_pages_t *p, size_t len, uint32_t *off)
{
	uint32_t page = p->count ? p->count - 1 : 0;
	size_t pos = p->tail;
	if (p->count == 0 || pos + len > ZONE_PAGE_BYTES || pos >= ZONE_PAGE_BYTES) {
		page = p->count;
		pos = 0;
	}
	uint8_t *data = append_at(p, page, pos, len, len > ZONE_PAGE_BYTES ? len : ZONE_PAGE_BYTES);
	if (data == NULL)
		return NULL;
	/* A run larger than a page fills its page: the next run starts a new one. */
	p->tail = len > ZONE_PAGE_BYTES ? ZONE_PAGE_BYTES : (uint32_t)(pos + len);
	*off = page << 16 | (uint32_t)pos;
	return data + pos;
}

uint8_t *zone_pages_run_write(zone_pages_t *p, uint32_t off, size_t len)
{
	uint32_t page = off >> 16, pos = off & 0xFFFF;
	uint8_t *data = write_at(p, page, pos, len, ZONE_PAGE_BYTES);
	return data == NULL ? NULL : data + pos;
}

static size_t align_up(size_t n)
{
	return (n + _Alignof(max_align_t) - 1) & ~(size_t)(_Alignof(max_align_t) - 1);
}

/* The octets of page i of a set worth keeping: its last page's used part, the others whole. */
static size_t kept_size(const zone_pages_t *p, uint32_t i, size_t last_used)
{
	size_t size = head_of(p->dir[i])->size;
	return i + 1 == p->count && last_used < size ? last_used : size;
}

int zone_pages_pack(zone_pages_t *const *sets, const size_t *last_used, size_t n, size_t max)
{
	size_t total = sizeof(block_head_t), pages = 0, dirs = 0;
	for (size_t k = 0; k < n; k++) {
		for (uint32_t i = 0; i < sets[k]->count; i++) {
			if (page_shared(sets[k], i))
				return TDM_EINVAL;
			total += sizeof(page_head_t) + align_up(kept_size(sets[k], i, last_used[k]));
			pages++;
		}
		dirs += sets[k]->count;
	}
	size_t dir_at = total;
	total += dirs * sizeof(uint8_t *);
	if (pages == 0 || total > max || total > UINT32_MAX)
		return TDM_ERANGE;
	uint8_t *block = malloc(total);
	if (block == NULL)
		return TDM_ENOMEM;
	size_t refs = pages, pos = sizeof(block_head_t);
	for (size_t k = 0; k < n; k++)
		refs += sets[k]->count > 0;
	atomic_init(&((block_head_t *)(void *)block)->pages, (unsigned)refs);
	for (size_t k = 0; k < n; k++) {
		zone_pages_t *p = sets[k];
		if (p->count == 0)
			continue;
		uint8_t **dir = (uint8_t **)(void *)(block + dir_at);
		p->bytes = 0;
		for (uint32_t i = 0; i < p->count; i++) {
			size_t size = kept_size(p, i, last_used[k]);
			unsigned claimed = atomic_load(&head_of(p->dir[i])->claimed);
			page_head_t *h = (page_head_t *)(void *)(block + pos);
			atomic_init(&h->refs, 1);
			atomic_init(&h->claimed, claimed < size ? claimed : (unsigned)size);
			h->size = (uint32_t)size;
			h->block = (uint32_t)pos;
			p->bytes += sizeof(page_head_t) + size;
			memcpy(h->data, p->dir[i], size);
			page_unref(p->dir[i]);
			dir[i] = (uint8_t *)h->data;
			pos += sizeof(page_head_t) + align_up(size);
		}
		dir_free(p);
		p->dir = dir;
		p->dir_block = (uint32_t)dir_at;
		p->cap = p->count;
		dir_at += (size_t)p->count * sizeof(uint8_t *);
	}
	return TDM_OK;
}
