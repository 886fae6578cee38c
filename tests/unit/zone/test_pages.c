/* tests/unit/zone/test_pages.c -- zone/pages.c: packed pages stay pages (shared, copied on write, freed one
 * by one); appends to a shared page in place, once */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "zone/pages.h"

/* Two sets packed into one block: an element set of 100 uint32_t (one page of 1024 grown to fit) and
 * a byte set with a few runs. */
static void make_sets(zone_pages_t *elems, zone_pages_t *bytes, uint32_t offs[3])
{
	zone_pages_init(elems);
	zone_pages_init(bytes);
	for (uint32_t i = 0; i < 100; i++) {
		uint32_t *e = zone_pages_elem_write(elems, sizeof(uint32_t), 10, i);
		assert_non_null(e);
		*e = i * 7;
	}
	for (int i = 0; i < 3; i++) {
		uint8_t *run = zone_pages_alloc(bytes, 10, &offs[i]);
		assert_non_null(run);
		memset(run, 'a' + i, 10);
	}
}

static void check_sets(const zone_pages_t *elems, const zone_pages_t *bytes, const uint32_t offs[3])
{
	for (uint32_t i = 0; i < 100; i++)
		assert_int_equal(*(uint32_t *)zone_pages_elem(elems, sizeof(uint32_t), 10, i), i * 7);
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 10; k++)
			assert_int_equal(zone_pages_at(bytes, offs[i])[k], 'a' + i);
}

/* Packed, then every way of touching it: shared with a copy, written (copy on write), grown past its
 * exact size and by a new page (its directory moving to a malloc), released in either order. ASan
 * tells a block freed too early or never. */
static void test_pack_then_share_write_grow(void **state)
{
	(void)state;
	for (int order = 0; order < 2; order++) {
		zone_pages_t e, b, e2, b2;
		uint32_t offs[3];
		make_sets(&e, &b, offs);
		zone_pages_t *const sets[] = { &e, &b };
		const size_t used[] = { 100 * sizeof(uint32_t), b.tail };
		size_t before = zone_pages_memory(&e) + zone_pages_memory(&b);
		assert_int_equal(zone_pages_pack(sets, used, 2, 1 << 20), TDM_OK);
		assert_true(zone_pages_memory(&e) + zone_pages_memory(&b) < before);
		check_sets(&e, &b, offs);
		/* A shared page is refused: only a version's own pages are packed. */
		assert_int_equal(zone_pages_share(&e2, &e), TDM_OK);
		assert_int_equal(zone_pages_share(&b2, &b), TDM_OK);
		assert_int_equal(zone_pages_pack(sets, used, 2, 1 << 20), TDM_EINVAL);
		/* The copy writes: its pages are copied, the packed ones keep their data. */
		*(uint32_t *)zone_pages_elem_write(&e2, sizeof(uint32_t), 10, 5) = 1;
		*(uint32_t *)zone_pages_elem_write(&e2, sizeof(uint32_t), 10, 1100) = 2;   /* a new page */
		assert_non_null(zone_pages_run_write(&b2, offs[1], 10));
		check_sets(&e, &b, offs);
		if (order == 0) {
			zone_pages_release(&e);
			zone_pages_release(&b);
			assert_int_equal(*(uint32_t *)zone_pages_elem(&e2, sizeof(uint32_t), 10, 6), 42);
			zone_pages_release(&e2);
			zone_pages_release(&b2);
		} else {
			zone_pages_release(&e2);
			zone_pages_release(&b2);
			/* The packed sets grow themselves: past the exact size of their last page, and by new
			 * pages, which moves their directories out of the block. */
			*(uint32_t *)zone_pages_elem_write(&e, sizeof(uint32_t), 10, 100) = 700;
			*(uint32_t *)zone_pages_elem_write(&e, sizeof(uint32_t), 10, 1500) = 5;
			uint32_t off;
			assert_non_null(zone_pages_alloc(&b, 70000, &off));
			assert_non_null(zone_pages_alloc(&b, 5, &off));
			check_sets(&e, &b, offs);
			assert_int_equal(*(uint32_t *)zone_pages_elem(&e, sizeof(uint32_t), 10, 100), 700);
			zone_pages_release(&b);
			zone_pages_release(&e);
		}
	}
}

/* Elements 0..n-1 of set hold base + i. */
static void fill(zone_pages_t *p, uint32_t from, uint32_t to, uint32_t base)
{
	for (uint32_t i = from; i < to; i++) {
		uint32_t *e = zone_pages_elem_append(p, sizeof(uint32_t), 10, i);
		assert_non_null(e);
		*e = base + i;
	}
}

static void check_elems(const zone_pages_t *p, uint32_t from, uint32_t to, uint32_t base)
{
	for (uint32_t i = from; i < to; i++)
		assert_int_equal(*(uint32_t *)zone_pages_elem(p, sizeof(uint32_t), 10, i), base + i);
}

/* Appends to a shared page go in place, past what the older version reads, and only for the first
 * version to claim them: a second version made from the same old one copies, and neither sees the
 * other's octets. A version's writes to what it took in place copy nothing; to older octets, they
 * copy. The counter of octets allocated tells a copy from none. */
static void test_append_in_place_once(void **state)
{
	(void)state;
	zone_pages_t old, first, second;
	zone_pages_init(&old);
	fill(&old, 0, 200, 0);                 /* one page of 1,024 octets (grown by doubling): 256 elements */
	const uint8_t *page0 = old.dir[0];
	assert_int_equal(zone_pages_share(&first, &old), TDM_OK);
	size_t made = zone_pages_made_by_thread();
	fill(&first, 200, 230, 1000);                           /* in place: nothing allocated */
	assert_int_equal(zone_pages_made_by_thread(), made);
	assert_ptr_equal(first.dir[0], page0);
	/* Its own elements stay writable in place (zone_pages_elem_own); an element the old version
	 * reads is copied. */
	*(uint32_t *)zone_pages_elem_own(&first, sizeof(uint32_t), 10, 220) = 1220;
	assert_int_equal(zone_pages_made_by_thread(), made);
	check_elems(&old, 0, 200, 0);
	check_elems(&first, 200, 230, 1000);
	/* A second version from the old one (a change tried again): the page is claimed past its end. */
	assert_int_equal(zone_pages_share(&second, &old), TDM_OK);
	fill(&second, 200, 220, 5000);
	assert_true(zone_pages_made_by_thread() > made);
	assert_true(second.dir[0] != page0);
	check_elems(&second, 0, 200, 0);
	check_elems(&second, 200, 220, 5000);
	check_elems(&first, 200, 230, 1000);
	/* The first version writes an element the old one reads: copied, the old one unchanged. */
	*(uint32_t *)zone_pages_elem_write(&first, sizeof(uint32_t), 10, 7) = 77;
	assert_true(first.dir[0] != page0);
	check_elems(&old, 0, 200, 0);
	assert_int_equal(*(uint32_t *)zone_pages_elem(&first, sizeof(uint32_t), 10, 7), 77);
	check_elems(&first, 200, 230, 1000);
	zone_pages_release(&second);
	/* The first version's next append sets the claim of its copy exactly: a version made from it
	 * appends in place again. */
	fill(&first, 230, 231, 1000);
	zone_pages_release(&old);
	zone_pages_t third;
	assert_int_equal(zone_pages_share(&third, &first), TDM_OK);
	made = zone_pages_made_by_thread();
	fill(&third, 231, 240, 1000);
	assert_int_equal(zone_pages_made_by_thread(), made);
	check_elems(&third, 200, 240, 1000);
	check_elems(&first, 200, 231, 1000);
	/* Byte runs: the same for zone_pages_alloc. */
	zone_pages_t b, b2;
	uint32_t off, off2;
	zone_pages_init(&b);
	memset(zone_pages_alloc(&b, 100, &off), 'x', 100);
	assert_non_null(zone_pages_alloc(&b, 800, &off));       /* the page grows to 1,024 octets */
	assert_int_equal(zone_pages_share(&b2, &b), TDM_OK);
	made = zone_pages_made_by_thread();
	memset(zone_pages_alloc(&b2, 20, &off2), 'y', 20);
	assert_int_equal(zone_pages_made_by_thread(), made);
	assert_non_null(zone_pages_run_write(&b2, 0, 10));      /* the old version's run: copied */
	assert_true(zone_pages_made_by_thread() > made);
	assert_int_equal(zone_pages_at(&b2, off2)[19], 'y');
	assert_int_equal(zone_pages_at(&b, 0)[99], 'x');
	zone_pages_release(&b);
	zone_pages_release(&b2);
	zone_pages_release(&first);
	zone_pages_release(&third);
}

/* The memory a set holds is kept as its pages come and go (zone_pages_memory reads no page): it must
 * equal what walking every page head gives, which zone_pages_exclusive does when the set holds all its
 * pages alone. Checked after each kind of change: new pages, pages grown, copies on write, runs larger
 * than a page, pages inserted and removed, a pack, growth after the pack, a failed pack. */
static void alone_sum(const zone_pages_t *p)
{
	assert_int_equal(zone_pages_memory(p), zone_pages_exclusive(p));
}

static void test_memory_kept_without_reading(void **state)
{
	(void)state;
	zone_pages_t a, b, c;
	zone_pages_init(&a);
	alone_sum(&a);
	assert_int_equal(zone_pages_memory(&a), 0);
	fill(&a, 0, 3000, 1);   /* three pages, the last grown by doubling */
	alone_sum(&a);
	uint32_t off;
	zone_pages_init(&b);
	for (int i = 0; i < 50; i++)
		assert_non_null(zone_pages_alloc(&b, (size_t)(i % 7 == 0 ? 70000 : 3000), &off));
	alone_sum(&b);
	/* Shared: the same pages, counted whole on both sides; the copy holds none of them alone. */
	assert_int_equal(zone_pages_share(&c, &a), TDM_OK);
	assert_int_equal(c.bytes, a.bytes);
	assert_int_equal(zone_pages_exclusive(&c), zone_pages_memory(&c) - c.bytes);
	*(uint32_t *)zone_pages_elem_write(&c, sizeof(uint32_t), 10, 5) = 9;      /* copy on write */
	*(uint32_t *)zone_pages_elem_write(&c, sizeof(uint32_t), 10, 2500) = 9;   /* another */
	fill(&c, 3000, 5000, 1);                                                  /* appended, new pages */
	zone_pages_release(&a);
	alone_sum(&c);
	/* Pages put in the middle and taken out (the DNSSEC chain's way). */
	assert_non_null(zone_pages_insert(&c, 1, 4096));
	assert_non_null(zone_pages_insert(&c, 0, 100));
	alone_sum(&c);
	assert_int_equal(zone_pages_remove(&c, 2), TDM_OK);
	assert_int_equal(zone_pages_remove(&c, 0), TDM_OK);
	alone_sum(&c);
	/* Packed: each set counted at its pages' new sizes; then grown again. */
	zone_pages_t *const sets[] = { &c, &b };
	const size_t used[] = { ((5000 - 1) & 1023) * sizeof(uint32_t) + sizeof(uint32_t), b.tail };
	assert_int_equal(zone_pages_pack(sets, used, 2, 1 << 30), TDM_OK);
	alone_sum(&c);
	alone_sum(&b);
	fill(&c, 5000, 7000, 1);
	assert_non_null(zone_pages_alloc(&b, 100000, &off));
	alone_sum(&c);
	alone_sum(&b);
	/* A pack refused (a page shared) changes no count. */
	zone_pages_t d;
	assert_int_equal(zone_pages_share(&d, &b), TDM_OK);
	size_t before = zone_pages_memory(&b);
	assert_int_equal(zone_pages_pack(sets, used, 2, 1 << 30), TDM_EINVAL);
	assert_int_equal(zone_pages_memory(&b), before);
	zone_pages_release(&d);
	alone_sum(&b);
	zone_pages_release(&b);
	zone_pages_release(&c);
	assert_int_equal(zone_pages_memory(&c), 0);
}

/* Random histories of element sets against a model: versions shared from any live one (the writer's
 * newest, or an older one as a failed change retried does), then written, appended to, pages inserted
 * and removed, and older versions freed in any order. Pages of 4 elements, so a set goes past 32 pages
 * (sharing by chunk, pages.h) and back under it often. After every step every live version reads as its
 * model; a set that holds all its pages alone counts its memory as the walk does; ASan tells a page freed
 * too early or never. */
#define MODEL_SHIFT 2
#define MODEL_PER (1u << MODEL_SHIFT)
#define MODEL_MAX 600
#define MODEL_LIVE 6

typedef struct {
	zone_pages_t p;
	uint32_t vals[MODEL_MAX];
	uint32_t n;
	bool frozen;   /* shared from: no longer written */
} model_t;

static uint32_t model_rng = 1;
static uint32_t model_rand(uint32_t n)
{
	model_rng = model_rng * 1103515245u + 12345u;
	return (model_rng >> 8) % n;
}

static void model_check(const model_t *m)
{
	for (uint32_t i = 0; i < m->n; i++)
		assert_int_equal(*(uint32_t *)zone_pages_elem(&m->p, sizeof(uint32_t), MODEL_SHIFT, i), m->vals[i]);
	assert_int_equal(m->p.count, (m->n + MODEL_PER - 1) / MODEL_PER);
}

/* One change to m (not frozen): a write, appends, or a page inserted or removed; grow says which way
 * the page count tends, so that it crosses 32 pages both ways again and again. */
static void model_change(model_t *m, bool grow)
{
	uint32_t op = model_rand(10), v = model_rand(1u << 30);
	uint32_t misaligned = m->n % MODEL_PER;
	if (op < 3 && m->n > 0) {
		uint32_t i = model_rand(m->n);
		uint32_t *e = zone_pages_elem_write(&m->p, sizeof(uint32_t), MODEL_SHIFT, i);
		assert_non_null(e);
		*e = m->vals[i] = v;
	} else if ((misaligned || (grow && op < 7)) && m->n + 3 * MODEL_PER <= MODEL_MAX) {
		/* Appends: back to a page boundary, then whole pages; now and then a part of one. */
		uint32_t many = misaligned ? MODEL_PER - misaligned : MODEL_PER * (1 + model_rand(2));
		if (!misaligned && model_rand(4) == 0)
			many = 1 + model_rand(MODEL_PER - 1);
		for (uint32_t k = 0; k < many; k++, m->n++) {
			uint32_t *e = zone_pages_elem_append(&m->p, sizeof(uint32_t), MODEL_SHIFT, m->n);
			assert_non_null(e);
			*e = m->vals[m->n] = v + k;
		}
	} else if (grow && m->n + MODEL_PER <= MODEL_MAX) {
		/* A full page put in at a page boundary (every page full here, so that the elements stay
		 * where their index says). */
		uint32_t at = model_rand(m->p.count + 1);
		uint32_t *page = (uint32_t *)(void *)zone_pages_insert(&m->p, at, MODEL_PER * sizeof(uint32_t));
		assert_non_null(page);
		memmove(m->vals + (at + 1) * MODEL_PER, m->vals + at * MODEL_PER,
		        (m->n - at * MODEL_PER) * sizeof(uint32_t));
		for (uint32_t k = 0; k < MODEL_PER; k++)
			page[k] = m->vals[at * MODEL_PER + k] = v + k;
		m->n += MODEL_PER;
	} else if (!grow && m->p.count > 0) {
		uint32_t at = model_rand(m->p.count);
		assert_int_equal(zone_pages_remove(&m->p, at), TDM_OK);
		memmove(m->vals + at * MODEL_PER, m->vals + (at + 1) * MODEL_PER,
		        (m->n - (at + 1) * MODEL_PER) * sizeof(uint32_t));
		m->n -= MODEL_PER;
	}
}

static void test_versions_against_model(void **state)
{
	(void)state;
	static model_t live[MODEL_LIVE];
	for (int round = 0; round < 4; round++) {
		size_t nlive = 1;
		memset(&live[0], 0, sizeof(live[0]));
		zone_pages_init(&live[0].p);
		for (int step = 0; step < 3000; step++) {
			model_t *w = &live[nlive - 1];   /* the newest: the one written */
			uint32_t op = model_rand(20);
			if (op == 0 && nlive < MODEL_LIVE) {
				/* A new version from any live one. */
				model_t *from = &live[model_rand((uint32_t)nlive)];
				model_t *to = &live[nlive++];
				assert_int_equal(zone_pages_share(&to->p, &from->p), TDM_OK);
				memcpy(to->vals, from->vals, from->n * sizeof(uint32_t));
				to->n = from->n;
				to->frozen = false;
				from->frozen = true;
				w->frozen = true;
			} else if (op == 1 && nlive > 1) {
				/* An older version freed, in any order. */
				size_t k = model_rand((uint32_t)nlive - 1);
				zone_pages_release(&live[k].p);
				memmove(&live[k], &live[k + 1], (nlive - k - 1) * sizeof(live[0]));
				nlive--;
			} else if (!w->frozen) {
				/* The page count swings between about 10 and 60 pages. */
				bool grow = (step / 150) % 2 == 0 ? w->p.count < 60 : w->p.count < 10;
				model_change(w, grow);
			}
			for (size_t k = 0; k < nlive; k++)
				model_check(&live[k]);
			if (nlive == 1)
				alone_sum(&live[0].p);
		}
		for (size_t k = 0; k < nlive; k++)
			zone_pages_release(&live[k].p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_then_share_write_grow),
		cmocka_unit_test(test_append_in_place_once),
		cmocka_unit_test(test_memory_kept_without_reading),
		cmocka_unit_test(test_versions_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
