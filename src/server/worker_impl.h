/* server/worker_impl.h -- a worker's insides, shared by worker.c (threads, loop) and tcp.c (TCP) only */
#pragma once

#include <stdint.h>
#include <time.h>

#include "server/worker.h"

typedef enum { WORKER_SOCK_TCP, WORKER_SOCK_CONN, WORKER_SOCK_WAKE } worker_sock_kind_t;

/* What an epoll event points at: the first member of every registered object. */
typedef struct {
	worker_sock_kind_t kind;
	int fd;
} worker_sock_t;

struct tcp_conn;

struct worker {
	worker_shared_t *shared;
	int id;
	int cell;                      /* its TCP answers' metrics cell; its UDP threads' follow it */
	pthread_t thread;
	bool started;
	int epfd, evfd;
	worker_sock_t wake;
	worker_sock_t *socks;          /* its TCP listening sockets */
	size_t nsocks;
	struct udp_thread **udp;       /* a thread for each of its UDP sockets (server/udp.c) */
	size_t nudp;
	uint8_t *tcp_scratch;          /* one response being built (64 KiB) */
	struct tcp_conn *conns;        /* open TCP connections, most recently active first */
	struct tcp_conn *backlog;      /* connections with complete messages left after a batch */
	time_t last_sweep;
	int64_t accept_resume;         /* accept paused (out of descriptors) until then (ms); 0 = not */
	int64_t poll_until;            /* after an applied UPDATE: sockets polled, not slept on, until
	                                * then (monotonic us); 0 = not */
};

/* Called with every answer a worker sends (resp, len octets): an UPDATE answered NOERROR starts the
 * poll of poll_until (worker.c says why). */
void worker_answered(worker_t *w, const uint8_t *resp, size_t len);
