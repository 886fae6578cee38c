/* lib/clock.h -- the monotonic clock: what time it is for timers, and what a piece of work took */
#pragma once

#include <stdint.h>
#include <time.h>

/* Milliseconds on the monotonic clock (timers, retries, rates: never the time of day). */
int64_t clock_ms(void);

/* Microseconds on the monotonic clock: the deadlines of network waits (lib/netwait.h), polls. */
int64_t clock_us(void);

/* Now on the monotonic clock, to time a piece of work with clock_ms_since or clock_ms_between. */
struct timespec clock_now(void);

/* Milliseconds from a to b (negative when b is before a). */
double clock_ms_between(const struct timespec *a, const struct timespec *b);

/* Milliseconds from start (clock_now) to now. */
double clock_ms_since(const struct timespec *start);
