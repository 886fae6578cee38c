/* server/worker.h -- query workers: a thread for each of its UDP sockets, an epoll loop for its TCP ones */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"

typedef struct worker worker_t;

/* A worker serving the given sockets (it takes ownership of them). NULL on OOM. */
worker_t *worker_new(worker_shared_t *shared, int id, const int *udp_fds, size_t udp_count,
                     const int *tcp_fds, size_t tcp_count);
int worker_start(worker_t *w);
/* Wakes the worker (shared->stop must be set first) and joins it. */
void worker_stop(worker_t *w);
void worker_free(worker_t *w);
