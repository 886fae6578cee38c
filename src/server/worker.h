/* server/worker.h -- query workers: one thread each, an epoll loop over its own UDP and TCP sockets */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query/query.h"

typedef struct worker worker_t;

struct server;

/* What all workers share; owned by the server. */
typedef struct {
	struct server *srv;
	zoneset_t **zones;             /* the server's RCU-published zone set */
	const char *identity;
	uint16_t udp_payload;
	uint8_t cookie_secret[16];     /* server cookies (RFC 9018), random at start */
	unsigned tcp_idle_timeout;     /* seconds */
	unsigned tcp_max_clients;      /* over all workers */
	atomic_uint tcp_clients;
	struct rrl *rrl;               /* response rate limiting of UDP answers; NULL = off */
	struct metrics_cell *metrics;  /* one per worker, by id (server/metrics.h); NULL = none */
	atomic_bool stop;
} worker_shared_t;

/* A worker serving the given sockets (it takes ownership of them). NULL on OOM. */
worker_t *worker_new(worker_shared_t *shared, int id, const int *udp_fds, size_t udp_count,
                     const int *tcp_fds, size_t tcp_count);
int worker_start(worker_t *w);
/* Wakes the worker (shared->stop must be set first) and joins it. */
void worker_stop(worker_t *w);
void worker_free(worker_t *w);
