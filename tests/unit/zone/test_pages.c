/* tests/unit/zone/test_pages.c -- zone/pages.c: packed pages stay pages (shared, copied on write, freed one by one) */
#include <setjmp.h>
#include <stdarg.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_then_share_write_grow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
