/* runtime/zonert.c -- what the server keeps for a zone besides its data */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "lib/log.h"
#include "runtime/zonert.h"

static void zonert_free(void *p)
{
	zonert_t *zr = p;
	if (zr == NULL)
		return;
	if (zr->timer != NULL)
		event_free(zr->timer);
	if (zr->store_retry != NULL)
		event_free(zr->store_retry);
	if (zr->file_sync != NULL)
		event_free(zr->file_sync);
	if (zr->notify_hold != NULL)
		event_free(zr->notify_hold);
	free(zr->peers);
	free(zr->reload);
	free(zr->state);
	pthread_mutex_destroy(&zr->lock);
	pthread_mutex_destroy(&zr->write_lock);
	free(zr);
}

zonert_t *zonert_attach(server_t *srv, zone_t *zone)
{
	zonert_t *zr = calloc(1, sizeof(*zr));
	if (zr == NULL)
		return NULL;
	zr->srv = srv;
	zr->zone = zone;
	zr->name = zone_name_text(zone);
	pthread_mutex_init(&zr->lock, NULL);
	pthread_mutex_init(&zr->write_lock, NULL);
	zone_set_ext(zone, zr, zonert_free);
	return zr;
}

store_state_t zonert_state(zonert_t *zr)
{
	store_state_t st = { 0 };
	pthread_mutex_lock(&zr->lock);
	if (zr->state != NULL)
		st = *zr->state;
	pthread_mutex_unlock(&zr->lock);
	return st;
}

void zonert_state_set(zonert_t *zr, const store_state_t *st)
{
	pthread_mutex_lock(&zr->lock);
	if (zr->state == NULL)
		zr->state = malloc(sizeof(*zr->state));
	bool kept = zr->state != NULL;
	if (kept)
		*zr->state = *st;
	pthread_mutex_unlock(&zr->lock);
	if (!kept)
		log_err("%s: no memory for its refresh state: its timers are not kept", zr->name);
}

#define COMPACT_STRIPES 64   /* a power of two */

static pthread_mutex_t compact_locks[COMPACT_STRIPES];
static pthread_once_t compact_locks_once = PTHREAD_ONCE_INIT;

static void compact_locks_init(void)
{
	for (int i = 0; i < COMPACT_STRIPES; i++)
		pthread_mutex_init(&compact_locks[i], NULL);
}

/* The zone's stripe: from its address (the runtime lives as long as the zone, at one address). */
static pthread_mutex_t *compact_stripe(const zonert_t *zr)
{
	pthread_once(&compact_locks_once, compact_locks_init);
	uintptr_t a = (uintptr_t)zr;
	return &compact_locks[((a >> 4) ^ (a >> 12)) & (COMPACT_STRIPES - 1)];
}

void zonert_compact_lock(zonert_t *zr)
{
	pthread_mutex_lock(compact_stripe(zr));
}

void zonert_compact_unlock(zonert_t *zr)
{
	pthread_mutex_unlock(compact_stripe(zr));
}

static bool same_addr(const sockaddr_t *a, const sockaddr_t *b)
{
	if (sockaddr_family(a) != sockaddr_family(b))
		return false;
	if (sockaddr_family(a) == AF_INET)
		return memcmp(&((const struct sockaddr_in *)&a->ss)->sin_addr,
		              &((const struct sockaddr_in *)&b->ss)->sin_addr, 4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
	              &((const struct sockaddr_in6 *)&b->ss)->sin6_addr, 16) == 0;
}

void zonert_peer_seen(zonert_t *zr, const sockaddr_t *addr, const char *how, bool serial_known,
                      uint32_t serial, const char *xfr_type)
{
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&zr->lock);
	zonert_peer_t *p = NULL;
	for (int i = 0; i < zr->npeers && p == NULL; i++)
		if (same_addr(&zr->peers[i].addr, addr))
			p = &zr->peers[i];
	if (p == NULL && zr->npeers == zr->peers_cap && zr->peers_cap < ZONERT_PEERS) {
		int cap = zr->peers_cap ? zr->peers_cap * 2 : 2;
		zonert_peer_t *bigger = realloc(zr->peers, (size_t)cap * sizeof(*bigger));
		if (bigger != NULL) {
			zr->peers = bigger;
			zr->peers_cap = cap;
		}
	}
	if (p == NULL && zr->peers_cap == 0) {
		pthread_mutex_unlock(&zr->lock);   /* out of memory: this sighting is not recorded */
		return;
	}
	if (p == NULL) {
		/* Full: the peer seen longest ago makes room. */
		int slot = zr->npeers < zr->peers_cap ? zr->npeers++ : 0;
		for (int i = 0; zr->npeers == zr->peers_cap && i < zr->npeers; i++)
			if (zr->peers[i].last_seen < zr->peers[slot].last_seen)
				slot = i;
		p = &zr->peers[slot];
		memset(p, 0, sizeof(*p));
		p->addr = *addr;
	}
	p->last_seen = now;
	snprintf(p->seen_by, sizeof(p->seen_by), "%s", how);
	if (serial_known) {
		p->serial_known = true;
		p->serial = serial;
	}
	if (xfr_type != NULL) {
		p->last_xfr = now;
		snprintf(p->last_xfr_type, sizeof(p->last_xfr_type), "%s", xfr_type);
	}
	pthread_mutex_unlock(&zr->lock);
}

bool zonert_primary_file(zonert_t *zr, char *path, size_t size, conf_serial_policy_t *policy)
{
	rcu_read_lock();
	const conf_zone_t *cz = rcu_dereference(zr->conf);
	bool primary = cz != NULL && cz->type == CONF_ZONE_PRIMARY && cz->file != NULL &&
	               snprintf(path, size, "%s", cz->file) < (int)size;
	if (primary && policy != NULL)
		*policy = cz->serial_policy;
	rcu_read_unlock();
	return primary;
}

bool zonert_write_lock(zonert_t *zr, unsigned ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);   /* pthread_mutex_timedlock's clock */
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	until.tv_sec += ms / 1000 + until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	return pthread_mutex_timedlock(&zr->write_lock, &until) == 0;
}
