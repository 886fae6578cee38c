/* server/tcp.h -- DNS over TCP (RFC 7766): pipelining, idle timeout, a connection limit */
#pragma once

#include "server/worker_impl.h"

/* Accepts what is pending on a listening socket. */
void tcp_accept(worker_t *w, int lfd);
/* Handles readiness of a connection (the epoll event's object and events). */
void tcp_ready(worker_t *w, worker_sock_t *sock, uint32_t events);
/* Closes connections idle longer than the timeout (now in seconds, monotonic). */
void tcp_sweep(worker_t *w, time_t now);
/* Closes every connection (on stop). */
void tcp_close_all(worker_t *w);
