/* tests/unit/lib/test_dueheap.c -- the due heap: soonest first, ties in order, moves and removals */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>

#include "lib/dueheap.h"
#include "lib/error.h"

typedef struct {
	int id;
	dueheap_entry_t due;
} item_t;

static item_t *item_of(dueheap_entry_t *e)
{
	return (item_t *)(void *)((char *)e - offsetof(item_t, due));
}

static void test_soonest_first_and_ties_in_order(void **state)
{
	(void)state;
	dueheap_t *h = dueheap_new();
	assert_non_null(h);
	assert_null(dueheap_first(h));
	item_t it[6];
	const int64_t due[6] = { 30, 10, 20, 10, 5, 10 };
	for (int i = 0; i < 6; i++) {
		it[i].id = i;
		dueheap_entry_init(&it[i].due);
		assert_int_equal(dueheap_put(h, &it[i].due, due[i]), TDM_OK);
	}
	assert_int_equal(dueheap_put(h, &it[0].due, 1), TDM_EINVAL);   /* in the heap already */
	assert_int_equal(dueheap_count(h), 6);
	/* 5, then the three at 10 in the order they came (1, 3, 5), then 20 and 30. */
	const int order[6] = { 4, 1, 3, 5, 2, 0 };
	for (int k = 0; k < 6; k++) {
		dueheap_entry_t *e = dueheap_first(h);
		assert_non_null(e);
		assert_int_equal(item_of(e)->id, order[k]);
		dueheap_remove(h, e);
		assert_true(e->index == SIZE_MAX);
	}
	assert_null(dueheap_first(h));
	dueheap_remove(h, &it[0].due);   /* in no heap: nothing */
	assert_int_equal(dueheap_count(h), 0);
	dueheap_free(h);
}

static void test_a_moved_entry_goes_after_those_due_then(void **state)
{
	(void)state;
	dueheap_t *h = dueheap_new();
	assert_non_null(h);
	item_t a = { .id = 1 }, b = { .id = 2 };
	dueheap_entry_init(&a.due);
	dueheap_entry_init(&b.due);
	assert_int_equal(dueheap_put(h, &a.due, 100), TDM_OK);
	assert_int_equal(dueheap_put(h, &b.due, 100), TDM_OK);
	assert_ptr_equal(dueheap_first(h), &a.due);
	dueheap_move(h, &a.due, 100);   /* the same time again: now behind b */
	assert_ptr_equal(dueheap_first(h), &b.due);
	dueheap_move(h, &a.due, 50);
	assert_ptr_equal(dueheap_first(h), &a.due);
	assert_true(a.due.due == 50);
	dueheap_free(h);
	assert_true(a.due.index == SIZE_MAX && b.due.index == SIZE_MAX);
}

/* The model: the same items in an array, the soonest found by a scan (due, then sequence). */
#define N 3000

static int model_first(const item_t *it, const bool *in, const uint64_t *seq, const int64_t *due)
{
	int best = -1;
	for (int i = 0; i < N; i++)
		if (in[i] && (best < 0 || due[i] < due[best] || (due[i] == due[best] && seq[i] < seq[best])))
			best = i;
	(void)it;
	return best;
}

static void test_random_histories_agree_with_a_scan(void **state)
{
	(void)state;
	static item_t it[N];
	static bool in[N];
	static uint64_t seq[N];
	static int64_t due[N];
	uint64_t next_seq = 0;
	srand(20261207);
	dueheap_t *h = dueheap_new();
	assert_non_null(h);
	for (int i = 0; i < N; i++) {
		it[i].id = i;
		dueheap_entry_init(&it[i].due);
		in[i] = false;
	}
	size_t count = 0;
	for (int step = 0; step < 60000; step++) {
		int i = rand() % N;
		int64_t when = rand() % 200;   /* few distinct times: many ties */
		switch (rand() % 4) {
		case 0:
		case 1:
			if (!in[i]) {
				assert_int_equal(dueheap_put(h, &it[i].due, when), TDM_OK);
				in[i] = true;
				count++;
			} else {
				dueheap_move(h, &it[i].due, when);
			}
			due[i] = when;
			seq[i] = next_seq++;
			break;
		case 2:
			if (in[i]) {
				dueheap_remove(h, &it[i].due);
				in[i] = false;
				count--;
			}
			break;
		default: {   /* the first one taken out, as a timer does */
			int want = model_first(it, in, seq, due);
			dueheap_entry_t *e = dueheap_first(h);
			if (want < 0) {
				assert_null(e);
				break;
			}
			assert_non_null(e);
			assert_int_equal(item_of(e)->id, want);
			dueheap_remove(h, e);
			in[want] = false;
			count--;
		}
		}
		assert_int_equal(dueheap_count(h), count);
		if (step % 1000 == 0)   /* every entry knows its place */
			for (size_t k = 0; k < dueheap_count(h); k++)
				assert_true(dueheap_at(h, k)->index == k);
	}
	/* Emptied in order. */
	while (count > 0) {
		int want = model_first(it, in, seq, due);
		assert_int_equal(item_of(dueheap_first(h))->id, want);
		dueheap_remove(h, dueheap_first(h));
		in[want] = false;
		count--;
	}
	assert_int_equal(dueheap_count(h), 0);
	dueheap_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soonest_first_and_ties_in_order),
		cmocka_unit_test(test_a_moved_entry_goes_after_those_due_then),
		cmocka_unit_test(test_random_histories_agree_with_a_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
