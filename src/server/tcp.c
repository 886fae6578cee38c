/* server/tcp.c -- DNS over TCP (RFC 7766): pipelining, idle timeout, a connection limit */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/error.h"
#include "lib/log.h"
#include "server/server_impl.h"
#include "server/tcp.h"
#include "wire/pkt.h"

/*
 * DESIGN. A connection reads into a buffer that grows to the largest message seen (at most 2 + 65535
 * octets) and answers every complete message at once, in order (RFC 7766 6.2.1.1 pipelining). Answers
 * queue in an output buffer; while more than OUT_HIGH octets wait, we stop reading, so a client that
 * does not read cannot make us buffer without bound. The idle clock restarts with every complete
 * request and every write that makes progress: a client that sends nothing whole for
 * tcp-idle-timeout seconds (idle, or dribbling a message slowly) is closed.
 */

#define IN_INITIAL 1024
#define OUT_HIGH (256 * 1024)

typedef struct tcp_conn {
	worker_sock_t sock;       /* first: what epoll events point at */
	struct tcp_conn *prev, *next;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	time_t active;
	bool reading;             /* EPOLLIN registered */
	bool writing;             /* EPOLLOUT registered */
	bool eof;                 /* the client closed its side: finish writing, then close */
	sockaddr_t peer;
	struct xfrout *xfr;       /* a transfer that takes the connection over */
} tcp_conn_t;

static time_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void conn_close(worker_t *w, tcp_conn_t *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->sock.fd);   /* also removes it from the epoll set */
	free(c->in);
	free(c->out);
	free(c);
	atomic_fetch_sub(&w->shared->tcp_clients, 1);
}

static void conn_update_events(worker_t *w, tcp_conn_t *c)
{
	bool want_read = !c->eof && c->out_len - c->out_off < OUT_HIGH;
	bool want_write = c->out_len > c->out_off;
	if (want_read == c->reading && want_write == c->writing)
		return;
	struct epoll_event ev = { .events = (want_read ? EPOLLIN : 0) | (want_write ? EPOLLOUT : 0),
	                          .data.ptr = &c->sock };
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->sock.fd, &ev);
	c->reading = want_read;
	c->writing = want_write;
}

void tcp_accept(worker_t *w, int lfd)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		unsigned count = atomic_fetch_add(&w->shared->tcp_clients, 1);
		tcp_conn_t *c = count < w->shared->tcp_max_clients ? calloc(1, sizeof(*c)) : NULL;
		struct epoll_event ev = { .events = EPOLLIN };
		if (c != NULL) {
			c->sock = (worker_sock_t){ .kind = WORKER_SOCK_CONN, .fd = fd };
			c->peer.len = peer_len;
			memcpy(&c->peer.ss, &peer, sizeof(peer));
			c->active = mono_now();
			c->reading = true;
			ev.data.ptr = &c->sock;
		}
		if (c == NULL || epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			/* Over the limit (or out of memory): the client may retry later. */
			free(c);
			close(fd);
			atomic_fetch_sub(&w->shared->tcp_clients, 1);
			continue;
		}
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
	}
}

static int out_append(tcp_conn_t *c, const uint8_t *msg, size_t len)
{
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + 2 + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + 2 + len)
			cap *= 2;
		uint8_t *p = realloc(c->out, cap);
		if (p == NULL)
			return TDM_ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	pkt_put16(c->out + c->out_len, (uint16_t)len);
	memcpy(c->out + c->out_len + 2, msg, len);
	c->out_len += 2 + len;
	return TDM_OK;
}

/* Answers every complete message in the input buffer. */
static int answer_all(worker_t *w, tcp_conn_t *c)
{
	size_t off = 0;
	query_env_t env = { .identity = w->shared->identity, .udp_payload = w->shared->udp_payload,
	                    .cookie_secret = w->shared->cookie_secret, .client = &c->peer.ss };
	while (c->in_len - off >= 2) {
		size_t len = pkt_get16(c->in + off);
		if (c->in_len - off < 2 + len)
			break;
		struct xfrout *job = NULL;
		rcu_read_lock();
		env.zones = rcu_dereference(*w->shared->zones);
		size_t resp = dispatch_request(w->shared->srv, &env, c->in + off + 2, len,
		                               w->tcp_scratch, PKT_MAXLEN, true, &c->peer, &job);
		rcu_read_unlock();
		off += 2 + len;
		c->active = mono_now();
		if (job != NULL) {
			/* A transfer takes the connection over, with the answers still queued on it. */
			c->xfr = job;
			return TDM_OK;
		}
		if (resp > 0 && out_append(c, w->tcp_scratch, resp) != TDM_OK)
			return TDM_ENOMEM;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return TDM_OK;
}

static int conn_read(worker_t *w, tcp_conn_t *c)
{
	for (;;) {
		size_t need = c->in_len >= 2 ? 2 + (size_t)pkt_get16(c->in) : IN_INITIAL;
		if (need < IN_INITIAL)
			need = IN_INITIAL;
		if (need > c->in_cap) {
			uint8_t *p = realloc(c->in, need);
			if (p == NULL)
				return TDM_ENOMEM;
			c->in = p;
			c->in_cap = need;
		}
		ssize_t r = read(c->sock.fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (r == 0) {
			c->eof = true;   /* closed by the client; answers still pending go out */
			return TDM_OK;
		}
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? TDM_OK : TDM_EIO;
		c->in_len += (size_t)r;
		if (answer_all(w, c) != TDM_OK)
			return TDM_ENOMEM;
		if (c->xfr != NULL)
			return TDM_OK;
		if (c->out_len - c->out_off >= OUT_HIGH)
			return TDM_OK;
	}
}

static int conn_write(tcp_conn_t *c)
{
	while (c->out_off < c->out_len) {
		ssize_t r = send(c->sock.fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL);
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? TDM_OK : TDM_EIO;
		c->out_off += (size_t)r;
		c->active = mono_now();
	}
	return TDM_OK;
}

/* Gives the connection to its transfer job: out of this worker, socket and queued answers along. */
static void hand_over(worker_t *w, tcp_conn_t *c)
{
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->sock.fd, NULL);
	int fd = c->sock.fd;
	c->sock.fd = dup(fd);   /* conn_close closes the duplicate; the job keeps the original */
	if (c->sock.fd < 0) {
		xfrout_cancel(c->xfr);
		c->sock.fd = fd;
	} else {
		xfrout_start(c->xfr, fd, c->out + c->out_off, c->out_len - c->out_off);
	}
	c->xfr = NULL;
	conn_close(w, c);
}

void tcp_ready(worker_t *w, worker_sock_t *sock, uint32_t events)
{
	tcp_conn_t *c = (tcp_conn_t *)sock;
	int ret = TDM_OK;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		ret = conn_read(w, c);
	if (ret == TDM_OK && c->xfr != NULL) {
		hand_over(w, c);
		return;
	}
	/* Write what we can even when the client closed its side: it may still read. */
	if (conn_write(c) != TDM_OK || ret != TDM_OK || (c->eof && c->out_off == c->out_len)) {
		if (ret == TDM_ENOMEM)
			log_warn("TCP: out of memory, closing a connection");
		conn_close(w, c);
		return;
	}
	conn_update_events(w, c);
}

void tcp_sweep(worker_t *w, time_t now)
{
	time_t limit = (time_t)w->shared->tcp_idle_timeout;
	tcp_conn_t *c = w->conns;
	while (c != NULL) {
		tcp_conn_t *next = c->next;
		if (now - c->active >= limit)
			conn_close(w, c);
		c = next;
	}
}

void tcp_close_all(worker_t *w)
{
	while (w->conns != NULL)
		conn_close(w, w->conns);
}
