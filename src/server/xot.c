/* server/xot.c -- zone transfers over TLS (RFC 9103, XoT): the TLS listener and its connections */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/netwait.h"
#include "lib/thread.h"
#include "runtime/runtime.h"
#include "runtime/tlsctx.h"
#include "server/dispatch.h"
#include "server/net.h"
#include "server/peerlimit.h"
#include "server/xfrout.h"
#include "server/xot.h"

/*
 * DESIGN. TLS never runs on a DNS worker. One thread accepts on every tls-listen socket; each
 * connection it takes gets its own thread, which does the handshake (bounded by
 * tls-handshake-timeout), then reads requests, answers them through the same dispatch as TCP (TSIG,
 * ACLs -- transport: tls ones match here --, SOA, NOTIFY, UPDATE, queries), and runs a transfer
 * itself, writing through TLS (server/xfrout.c), then waits for the next request (tls-idle-timeout).
 *
 *   accept --full (tls-max-clients) or the address holds tls-max-per-address?--> closed at once
 *     | a thread
 *     v
 *   handshake (TLS 1.3, ALPN dot, client certificate with tls-client-ca) --fails/late--> closed
 *     v
 *   request <-----------------------------------------+
 *     |--> AXFR/IXFR allowed: xfrout streams it here --+
 *     |--> anything else: the answer ------------------+
 *     +--> idle too long, closed, malformed: closed
 *
 * A thread per connection keeps each one simple (blocking calls with deadlines, tls/tls.c) and is
 * cheap at this scale: XoT peers are a server's few secondaries, and tls-max-clients (64) bounds the
 * threads. A handshake flood fills those slots for tls-handshake-timeout at most and never reaches
 * the UDP/TCP workers, whose own limits are apart.
 *
 * The server context (certificate and key) is the one in force when a connection is taken
 * (runtime/tlsctx.c, replaced at reload); the connection keeps a reference to it.
 */

struct xot {
	server_t *srv;
	int *fds;
	size_t nfds;
	int wake_fd;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	atomic_uint conns;
	peerlimit_t per_addr;
};

typedef struct {
	struct xot *x;
	int fd;
	sockaddr_t peer;
	peerlimit_ticket_t ticket;
	tls_server_t *ctx;
	unsigned handshake_ms, idle_ms;
} conn_t;

static log_limit_t full_lines = LOG_LIMIT_INIT("TLS connections refused (tls-max-clients)");
static log_limit_t address_lines = LOG_LIMIT_INIT("TLS connections refused (per address)");
static log_limit_t handshake_lines = LOG_LIMIT_INIT("TLS handshakes failed");

/* ---- a connection ---- */

static void conn_end(conn_t *c)
{
	close(c->fd);
	peerlimit_release(&c->x->per_addr, &c->ticket);
	tls_server_unref(c->ctx);
	atomic_fetch_sub(&c->x->conns, 1);
	free(c);
}

/* Answers one request; false when the connection is to close. */
static bool serve_one(conn_t *c, tls_conn_t *tls, uint8_t *req, size_t len, uint8_t *resp)
{
	server_t *srv = c->x->srv;
	worker_shared_t *sh = &srv->shared;
	query_env_t env = { .identity = sh->identity, .udp_payload = sh->udp_payload,
	                    .cookie_secret = sh->cookie_secret, .client = &c->peer.ss };
	struct xfrout *job = NULL;
	rcu_read_lock();
	env.zones = rcu_dereference(*sh->zones);
	size_t n = dispatch_request_over(srv, &env, req, len, resp, PKT_MAXLEN, true, true, &c->peer,
	                                 &job);
	rcu_read_unlock();
	if (job != NULL)
		return xfrout_run_tls(job, tls);
	if (n == 0)
		return true;   /* nothing to say (as over TCP): wait for the next */
	return tls_write_msg(tls, resp, n, clock_us() + (int64_t)c->idle_ms * 1000) == TDM_OK;
}

static void serve(conn_t *c, tls_conn_t *tls, const char *addr)
{
	uint8_t *req = malloc(PKT_MAXLEN), *resp = malloc(PKT_MAXLEN);
	unsigned requests = 0;
	while (req != NULL && resp != NULL && !atomic_load(&c->x->stop)) {
		/* The whole next request within the idle time: a trickle does not keep the slot. */
		int64_t until = clock_us() + (int64_t)c->idle_ms * 1000;
		uint8_t prefix[2];
		if (tls_read(tls, prefix, 2, until) != TDM_OK)
			break;
		size_t len = (size_t)(prefix[0] << 8 | prefix[1]);
		if (len < PKT_HEADER_LEN || tls_read(tls, req, len, until) != TDM_OK)
			break;
		requests++;
		if (!serve_one(c, tls, req, len, resp))
			break;
	}
	log_debug("TLS connection from %s closed after %u requests", addr, requests);
	free(req);
	free(resp);
}

static void *conn_main(void *arg)
{
	conn_t *c = arg;
	rcu_register_thread();
	char addr[SOCKADDR_STRLEN], why[300];
	sockaddr_format(&c->peer, addr, sizeof(addr));
	tls_conn_t *tls = NULL;
	int ret = tls_accept(c->ctx, c->fd, clock_us() + (int64_t)c->handshake_ms * 1000, &tls, why,
	                     sizeof(why));
	if (ret != TDM_OK) {
		log_limited(&handshake_lines, LOG_INFO, "TLS connection from %s: %s", addr, why);
	} else {
		log_debug("TLS connection from %s: %s", addr, tls_conn_version(tls));
		serve(c, tls, addr);
		tls_conn_free(tls);
	}
	conn_end(c);
	rcu_unregister_thread();
	return NULL;
}

/* ---- the listener ---- */

/* Takes one connection; false when accept() ran out of descriptors. */
static bool take(struct xot *x, int lfd)
{
	sockaddr_t peer = { .len = sizeof(peer.ss) };
	int fd = accept4(lfd, (struct sockaddr *)&peer.ss, &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return errno != EMFILE && errno != ENFILE;
	tlsctx_limits_t lim;
	tls_server_t *ctx = tlsctx_server(x->srv->tls, &lim);
	unsigned max = lim.max_clients, per = lim.per_address;
	conn_t cn = { .x = x, .fd = fd, .peer = peer, .ctx = ctx, .handshake_ms = lim.handshake_ms,
	              .idle_ms = lim.idle_ms };
	char addr[SOCKADDR_STRLEN];
	sockaddr_format(&peer, addr, sizeof(addr));
	if (ctx == NULL || atomic_fetch_add(&x->conns, 1) >= max) {
		if (ctx != NULL)
			atomic_fetch_sub(&x->conns, 1);
		log_limited(&full_lines, LOG_WARN, "TLS connection from %s refused: %u open (tls-max-clients)",
		            addr, max);
		goto refuse;
	}
	if (!peerlimit_acquire(&x->per_addr, &peer.ss, per, &cn.ticket)) {
		atomic_fetch_sub(&x->conns, 1);
		log_limited(&address_lines, LOG_WARN,
		            "TLS connection from %s refused: its address has %u open (tls-max-per-address)",
		            addr, per);
		goto refuse;
	}
	conn_t *c = malloc(sizeof(*c));
	if (c != NULL) {
		*c = cn;
		if (thread_detached(conn_main, c) == TDM_OK)
			return true;
		free(c);
	}
	log_warn("TLS connection from %s: cannot start its thread", addr);
	peerlimit_release(&x->per_addr, &cn.ticket);
	atomic_fetch_sub(&x->conns, 1);
refuse:
	tls_server_unref(ctx);
	close(fd);
	return true;
}

static void *listen_main(void *arg)
{
	struct xot *x = arg;
	struct pollfd pfd[x->nfds + 1];
	for (size_t i = 0; i < x->nfds; i++)
		pfd[i] = (struct pollfd){ .fd = x->fds[i], .events = POLLIN };
	pfd[x->nfds] = (struct pollfd){ .fd = x->wake_fd, .events = POLLIN };
	while (!atomic_load(&x->stop)) {
		int n = poll(pfd, x->nfds + 1, 1000);
		if (n < 0 && errno != EINTR) {
			log_err("TLS listener: poll failed (%s)", strerror(errno));
			break;
		}
		bool fds_left = true;
		for (size_t i = 0; n > 0 && i < x->nfds; i++)
			if (pfd[i].revents & POLLIN)
				fds_left = take(x, x->fds[i]) && fds_left;
		/* Out of descriptors: a short pause instead of a busy loop on the pending connection. */
		if (!fds_left)
			usleep(100000);
	}
	return NULL;
}

int xot_start(server_t *srv)
{
	const conf_server_t *cs = &srv->rc->conf->server;
	if (cs->tls_listen_count == 0)
		return TDM_OK;
	struct xot *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return TDM_ENOMEM;
	x->srv = srv;
	x->wake_fd = -1;
	srv->xot = x;
	if ((x->fds = calloc(cs->tls_listen_count, sizeof(int))) == NULL)
		return TDM_ENOMEM;
	for (size_t i = 0; i < cs->tls_listen_count; i++) {
		int ret = net_probe(&cs->tls_listen[i], SOCK_STREAM);
		int fd = ret == TDM_OK ? net_bind(&cs->tls_listen[i], SOCK_STREAM) : ret;
		if (fd < 0)
			return fd;
		x->fds[x->nfds++] = fd;
	}
	if ((x->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return -errno;
	int ret = pthread_create(&x->thread, NULL, listen_main, x);
	if (ret != 0)
		return -ret;
	x->started = true;
	char text[SOCKADDR_STRLEN];
	for (size_t i = 0; i < cs->tls_listen_count; i++)
		log_info("listening on %s (TLS: zone transfers and queries, RFC 9103)",
		         sockaddr_format(&cs->tls_listen[i], text, sizeof(text)));
	return TDM_OK;
}

void xot_stop(server_t *srv)
{
	struct xot *x = srv->xot;
	if (x == NULL)
		return;
	atomic_store(&x->stop, true);
	if (x->started) {
		uint64_t one = 1;
		if (write(x->wake_fd, &one, sizeof(one)) < 0)
			log_debug("TLS listener: wake failed (%s)", strerror(errno));
		pthread_join(x->thread, NULL);
		x->started = false;
	}
	for (size_t i = 0; i < x->nfds; i++)
		close(x->fds[i]);
	x->nfds = 0;
}

unsigned xot_running(server_t *srv)
{
	return srv->xot != NULL ? atomic_load(&srv->xot->conns) : 0;
}

void xot_free(server_t *srv)
{
	struct xot *x = srv->xot;
	if (x == NULL)
		return;
	xot_stop(srv);
	if (x->wake_fd >= 0)
		close(x->wake_fd);
	free(x->fds);
	free(x);
	srv->xot = NULL;
}
