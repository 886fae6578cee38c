/* server/peerlimit.c -- how many of something (TCP connections, transfers out) one client address holds */
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lib/siphash.h"
#include "server/peerlimit.h"

static uint8_t key[16];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void key_init(void)
{
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		/* No randomness: a key from the clock still differs between runs. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(key, &ts, sizeof(ts) < sizeof(key) ? sizeof(ts) : sizeof(key));
	}
}

/* The prefix's cells: an IPv4 address whole, an IPv6 address's first 64 bits. */
static void cells(const struct sockaddr_storage *addr, uint16_t cell[2])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint8_t data[9] = { 0 };
	size_t len = 1;
	if (addr->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
		data[0] = 4;
		memcpy(data + 1, &a->sin_addr, 4);
		len = 5;
	} else if (addr->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
		if (memcmp(a->sin6_addr.s6_addr, mapped, sizeof(mapped)) == 0) {
			data[0] = 4;
			memcpy(data + 1, a->sin6_addr.s6_addr + 12, 4);
			len = 5;
		} else {
			data[0] = 6;
			memcpy(data + 1, a->sin6_addr.s6_addr, 8);
			len = 9;
		}
	}
	pthread_once(&key_once, key_init);
	uint64_t h = siphash24(key, data, len);
	cell[0] = (uint16_t)(h % PEERLIMIT_SLOTS);
	cell[1] = (uint16_t)((h >> 32) % PEERLIMIT_SLOTS);
}

bool peerlimit_acquire(peerlimit_t *t, const struct sockaddr_storage *addr, unsigned max,
                       peerlimit_ticket_t *ticket)
{
	cells(addr, ticket->cell);
	unsigned a = atomic_fetch_add(&t->count[0][ticket->cell[0]], 1);
	unsigned b = atomic_fetch_add(&t->count[1][ticket->cell[1]], 1);
	if (max != 0 && (a < b ? a : b) >= max) {
		peerlimit_release(t, ticket);
		return false;
	}
	return true;
}

void peerlimit_release(peerlimit_t *t, const peerlimit_ticket_t *ticket)
{
	atomic_fetch_sub(&t->count[0][ticket->cell[0]], 1);
	atomic_fetch_sub(&t->count[1][ticket->cell[1]], 1);
}

unsigned peerlimit_count(peerlimit_t *t, const struct sockaddr_storage *addr)
{
	uint16_t cell[2];
	cells(addr, cell);
	unsigned a = atomic_load(&t->count[0][cell[0]]), b = atomic_load(&t->count[1][cell[1]]);
	return a < b ? a : b;
}
