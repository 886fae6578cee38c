/* server/peerlimit.h -- how many of something (TCP connections, transfers out) one client address holds */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Counts per client prefix (an IPv4 address, an IPv6 /64; an IPv4-mapped IPv6 address counts as its
 * IPv4 address) in a fixed table shared by every thread, with no lock and no allocation: a count-min
 * sketch of two rows indexed by SipHash under a random key. A prefix's count is never below what it
 * holds, so no prefix ever gets more than its limit; it is above only when both its cells collide with
 * other busy prefixes (about 1 in 16 million pairs, and without the key a client cannot aim at another's
 * cells). A zeroed peerlimit_t is ready.
 */

#define PEERLIMIT_SLOTS 4096

typedef struct {
	atomic_uint count[2][PEERLIMIT_SLOTS];
} peerlimit_t;

/* Where one acquired unit was counted, for the release. */
typedef struct {
	uint16_t cell[2];
} peerlimit_ticket_t;

/* Counts one more for the address's prefix unless it holds max already (max 0 = no limit). True and
 * *ticket when counted. */
bool peerlimit_acquire(peerlimit_t *t, const struct sockaddr_storage *addr, unsigned max,
                       peerlimit_ticket_t *ticket);

/* Gives back what peerlimit_acquire counted. */
void peerlimit_release(peerlimit_t *t, const peerlimit_ticket_t *ticket);

/* What the prefix holds now (the smaller of its two cells). */
unsigned peerlimit_count(peerlimit_t *t, const struct sockaddr_storage *addr);
