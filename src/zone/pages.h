/* zone/pages.h -- paged storage shared between zone versions: copy-on-write by page, freed by count */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * DESIGN. A version's arrays (names, nodes, the hash table, RRsets, rdata) are cut into pages. A new
 * version made from an old one copies the page directory (pointers, read as they are by lookups) and
 * shares the pages by runs of 32 (ZONE_PAGES_CHUNK_SHIFT): one reference taken on each run's chunk,
 * not on each page. A set of 32 pages or fewer (every small zone's) has no chunks: it shares page by
 * page, which costs it no chunk table, and goes by runs once it grows past 32. Before a version
 * changes which pages it has in a run (a page copied, grown, added, inserted or removed), it makes
 * the run's chunk its own: a new chunk, and a reference of their own on the run's pages. Writing to
 * a page that another version also holds copies that page first. So
 * a new version costs a copy of the directory and a reference per 32 pages, and then 32 references per
 * run the change touches; freeing it drops a reference per chunk and those of the pages of the chunks
 * it held alone. Two versions alive at once cost the zone plus the pages the change touched.
 *
 * Element pages (nodes, RRsets, hash slots) hold 1 << shift elements each: element i lives in page
 * i >> shift. Byte pages (names, rdata) hand out runs that never straddle a page, addressed by an
 * offset "page << 16 | position": up to 65,536 pages, a run starts below 64 KiB into its page, and a
 * run larger than a page gets a page of its own. The last page of either kind is allocated as small as
 * its contents and grows on demand, so a zone of eight records takes a few hundred octets, not pages.
 *
 * Appends (zone_pages_alloc, zone_pages_elem_append) go past the end of what the older versions use
 * in a page, so they need no copy of a shared page: each page records how far the versions holding
 * it have used it ("claimed"), and a version whose own use ends exactly there may take the next
 * octets in place (compare-and-swap on the claim), where the older versions never read. A second
 * version made from the same old one (a change that failed, tried again) finds the claim past its
 * own end and copies, as any other write to a shared page does. An element a version appended is
 * its own wherever it lies: zone_pages_elem_own writes it in place. So a change that adds names copies
 * the pages of the entries it modifies (a parent node, a hash slot), not the last page of every array.
 */
typedef struct {
	uint8_t **dir;       /* the data of each page */
	uint32_t count;      /* pages in use */
	uint32_t cap;        /* entries of dir */
	uint32_t tail;       /* byte pages: octets used in the last page */
	uint32_t dir_block;  /* dir lives in a block (zone_pages_pack), this far from its start; 0: malloc */
	uint32_t chunk_cap;  /* entries of chunks */
	struct zone_pages_chunk **chunks;   /* page i's run is chunks[i >> ZONE_PAGES_CHUNK_SHIFT] */
	size_t bytes;        /* octets of the pages held, heads included: kept as pages come and go */
} zone_pages_t;

#define ZONE_PAGES_CHUNK_SHIFT 5      /* pages share by runs of 32 */

#define ZONE_PAGE_BYTES 65536u          /* a byte page's usual size, and the limit on run positions */
#define ZONE_PAGES_MAX 65536u

/* An empty set of pages. */
static inline void zone_pages_init(zone_pages_t *p)
{
	*p = (zone_pages_t){ 0 };
}

/* dst holds the same pages as src (one more reference each). TDM_OK or TDM_ENOMEM (dst empty). */
int zone_pages_share(zone_pages_t *dst, const zone_pages_t *src);

/* Drops every page reference and the directory. */
void zone_pages_release(zone_pages_t *p);

/* Octets the pages hold (each shared page counted whole), the directory included; reads no page. */
size_t zone_pages_memory(const zone_pages_t *p);
/* Octets of pages (heads included) the calling thread has allocated so far, all sets together: the
 * difference between two readings around zone_update_apply is what the change allocated, read
 * without walking the pages. */
size_t zone_pages_made_by_thread(void);
/* Octets of the pages held by p and by no other version (what freeing p would give back); reads
 * every page's head. */
size_t zone_pages_exclusive(const zone_pages_t *p);

/*
 * Makes page `page` writable by this version with room for at least `size` octets: a page shared with
 * another version is copied, a page too small grows (doubling, up to max octets), page == count adds a
 * page. Returns the page's data or NULL (out of memory, or the page limit).
 */
uint8_t *zone_pages_write(zone_pages_t *p, uint32_t page, size_t size, size_t max);

/* Element pages: element i of pages holding 1 << shift elements of `elem` octets. */
static inline void *zone_pages_elem(const zone_pages_t *p, size_t elem, unsigned shift, uint32_t i)
{
	return p->dir[i >> shift] + (size_t)(i & ((1u << shift) - 1)) * elem;
}

/* Element i made writable (and room for it); NULL when out of memory. */
void *zone_pages_elem_write(zone_pages_t *p, size_t elem, unsigned shift, uint32_t i);

/* The same for a new element: i is the count of elements this set uses (none at i or after it is
 * in use), so a shared page takes it in place when no other version used it further. */
void *zone_pages_elem_append(zone_pages_t *p, size_t elem, unsigned shift, uint32_t i);

/* Element i, which this set appended itself since it was made or shared (zone_pages_elem_append):
 * writable where it is, whether its page is shared or not. The caller knows which elements those are
 * (zone/contents_impl.h: the nodes from shared_nodes on). */
static inline void *zone_pages_elem_own(zone_pages_t *p, size_t elem, unsigned shift, uint32_t i)
{
	return zone_pages_elem(p, elem, shift, i);
}

/* Inserts a new page of size octets at index at (the pages from at on move up one), or removes the page
 * at index at: for pages whose order matters (zone/dnssec.c's chain). Insert: the page or NULL; remove:
 * TDM_OK, TDM_EINVAL (no such page) or TDM_ENOMEM. On failure the pages are as they were. */
uint8_t *zone_pages_insert(zone_pages_t *p, uint32_t at, size_t size);
int zone_pages_remove(zone_pages_t *p, uint32_t at);

/*
 * Packs the pages of n sets, every one of them held by this version alone (a version just built), into
 * one allocation: each set's last page cut to last_used[k] octets (what it holds; the others kept
 * whole), and the directories too, at their page count. A small zone's five arrays then cost one
 * malloc at their exact size instead of five pages grown by doubling and five directories. A
 * directory in a block is this version's alone like any other; growing it moves it to a malloc. The pages stay pages: shared, copied on
 * write and dropped one by one as before; the block is freed with the last of them. TDM_OK, TDM_EINVAL
 * (a page is shared), TDM_ERANGE (nothing to pack, or more than max octets) or TDM_ENOMEM; on failure
 * nothing changed.
 */
int zone_pages_pack(zone_pages_t *const *sets, const size_t *last_used, size_t n, size_t max);

/* Byte pages: the octets at an offset. */
static inline uint8_t *zone_pages_at(const zone_pages_t *p, uint32_t off)
{
	return p->dir[off >> 16] + (off & 0xFFFF);
}

/* Allocates a run of len octets (len > 0); *off is its offset. Returns the run or NULL (out of memory,
 * or the page limit). */
uint8_t *zone_pages_alloc(zone_pages_t *p, size_t len, uint32_t *off);

/* Makes the run of len octets at off writable; returns it or NULL when out of memory. */
uint8_t *zone_pages_run_write(zone_pages_t *p, uint32_t off, size_t len);
