/* tests/unit/lib/test_log.c -- the log limiter: a few lines per window and kind, the rest counted */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>

#include "lib/log.h"

static void test_a_burst_is_cut_and_counted(void **state)
{
	log_limit_t l = LOG_LIMIT_INIT("test lines");
	uint64_t report = 99;
	for (int i = 0; i < LOG_LIMIT_LINES; i++) {
		assert_true(log_limit_pass(&l, 1000, &report));
		assert_int_equal(report, 0);
	}
	for (int i = 0; i < 500; i++)
		assert_false(log_limit_pass(&l, 1000 + i % LOG_LIMIT_WINDOW, &report));
	/* The next window: a line again, carrying the count of what was dropped. */
	assert_true(log_limit_pass(&l, 1000 + LOG_LIMIT_WINDOW, &report));
	assert_int_equal(report, 500);
	assert_true(log_limit_pass(&l, 1000 + LOG_LIMIT_WINDOW, &report));
	assert_int_equal(report, 0);
}

static void test_a_clock_going_back_starts_a_window(void **state)
{
	log_limit_t l = LOG_LIMIT_INIT("test lines");
	uint64_t report;
	for (int i = 0; i < LOG_LIMIT_LINES + 3; i++)
		log_limit_pass(&l, 5000, &report);
	assert_true(log_limit_pass(&l, 10, &report));
	assert_int_equal(report, 3);
}

#define THREADS 4
#define CALLS 20000

static log_limit_t shared = LOG_LIMIT_INIT("shared");
static int passed[THREADS];
static uint64_t reported[THREADS];

static void *hammer(void *arg)
{
	int t = (int)(intptr_t)arg;
	for (int i = 0; i < CALLS; i++) {
		uint64_t report;
		if (log_limit_pass(&shared, 77, &report)) {
			passed[t]++;
			reported[t] += report;
		}
	}
	return NULL;
}

/* Workers share one limiter per kind: in one window, exactly LOG_LIMIT_LINES lines in all. */
static void test_threads_share_the_budget(void **state)
{
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, hammer, (void *)(intptr_t)t), 0);
	int total = 0;
	for (int t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		total += passed[t];
	}
	assert_int_equal(total, LOG_LIMIT_LINES);
	uint64_t report;
	assert_true(log_limit_pass(&shared, 77 + LOG_LIMIT_WINDOW, &report));
	assert_int_equal(report, (uint64_t)THREADS * CALLS - LOG_LIMIT_LINES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_burst_is_cut_and_counted),
		cmocka_unit_test(test_a_clock_going_back_starts_a_window),
		cmocka_unit_test(test_threads_share_the_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
