/* server/udp.h -- a UDP socket's query thread: it sleeps in recvmmsg and answers what came in batches */
#pragma once

#include "runtime/runtime.h"

typedef struct udp_thread udp_thread_t;

/* A thread for one UDP socket, counting its queries in shared->metrics[cell]. It takes ownership of
 * fd (made blocking here). NULL when out of memory (fd closed). */
udp_thread_t *udp_thread_new(worker_shared_t *shared, int fd, int cell);
/* TDM_OK or a negated errno (the thread did not start). */
int udp_thread_start(udp_thread_t *u);
/* Wakes the thread (shared->stop must be set first) and joins it; its socket receives nothing more. */
void udp_thread_stop(udp_thread_t *u);
void udp_thread_free(udp_thread_t *u);
