/* lib/clock.c -- the monotonic clock: what time it is for timers, and what a piece of work took */
#include "lib/clock.h"

struct timespec clock_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);   /* cannot fail: the clock is always there on Linux */
	return ts;
}

int64_t clock_ms(void)
{
	struct timespec ts = clock_now();
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_us(void)
{
	struct timespec ts = clock_now();
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double clock_ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

double clock_ms_since(const struct timespec *start)
{
	struct timespec now = clock_now();
	return clock_ms_between(start, &now);
}
