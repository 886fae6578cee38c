/* server/tcp.h -- DNS over TCP (RFC 7766): pipelining with bounded buffers, timeouts, connection limits */
#pragma once

#include "server/worker_impl.h"

/* Accepts what is pending on a listening socket (pausing accept for a while when out of descriptors). */
void tcp_accept(worker_t *w, int lfd);
/* Handles readiness of a connection (the epoll event's object and events). */
void tcp_ready(worker_t *w, worker_sock_t *sock, uint32_t events);
/* How long the worker may wait for events (ms): less than a second while accept is paused. */
int tcp_wait_ms(worker_t *w);
/* Called after every wait: resumes a paused accept when its time came; once a second, closes
 * connections that made no progress for the idle timeout and trims the others' buffers. */
void tcp_tick(worker_t *w);
/* Connections one client address (an IPv6 /64) may hold, for a tcp-max-clients. */
unsigned tcp_per_address_max(unsigned max_clients);
/* Closes every connection (on stop). */
void tcp_close_all(worker_t *w);
