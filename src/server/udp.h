/* server/udp.h -- a UDP socket's query thread: it sleeps in recvmmsg and answers what came in batches */
#pragma once

#include "runtime/runtime.h"

typedef struct udp_thread udp_thread_t;

/* After an UPDATE is applied (answered NOERROR, so its ACL and TSIG passed), the thread that answered it
 * polls its sockets without sleeping for this long: clients send updates one after another, each as soon
 * as the answer to the one before arrives (nsupdate, certbot, external-dns), and waking a thread that has
 * gone to sleep for that next one took about a sixth of a sequential UPDATE's time on the reference
 * machine (bench/update_ab.py, docs/benchmarks.md). At most this much CPU per applied update; a client
 * that may not update never starts it. */
#define POLL_AFTER_UPDATE_US 100

/* For an answer about to be sent (UDP here, TCP in server/tcp.c): when it answers an applied UPDATE, the
 * time until which its thread polls (monotonic us, counted in the metrics), else 0. */
int64_t udp_update_poll(server_t *srv, const uint8_t *resp, size_t len);

/* A thread for one UDP socket, counting its queries in shared->metrics[cell]. It takes ownership of
 * fd (made blocking here). NULL when out of memory (fd closed). */
udp_thread_t *udp_thread_new(worker_shared_t *shared, int fd, int cell);
/* TDM_OK or a negated errno (the thread did not start). */
int udp_thread_start(udp_thread_t *u);
/* Wakes the thread (shared->stop must be set first) and joins it; its socket receives nothing more. */
void udp_thread_stop(udp_thread_t *u);
void udp_thread_free(udp_thread_t *u);
