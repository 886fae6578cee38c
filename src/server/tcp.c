/* server/tcp.c -- DNS over TCP (RFC 7766): pipelining with bounded buffers, timeouts, connection limits */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "runtime/metrics.h"
#include "runtime/runtime.h"
#include "server/dispatch.h"
#include "server/peerlimit.h"
#include "server/tcp.h"
#include "server/xfrout.h"
#include "wire/pkt.h"

/*
 * DESIGN. A connection answers the complete messages it has, in order (RFC 7766 6.2.1.1 pipelining),
 * one at a time, and reads more only when none is left. Everything it may hold is bounded:
 *
 *   - input: the buffer grows as octets arrive (doubling), up to the message in progress (at most
 *     2 + 65535 octets), and goes back to IN_INITIAL within a second once no large message is in it;
 *   - output: answers queue until OUT_HIGH octets wait; above that mark the connection neither answers
 *     nor reads until the client has taken some, so at most OUT_HIGH + one answer is ever queued; a
 *     buffer larger than OUT_KEEP is freed within a second once drained (not at once: a client that
 *     pipelines would make us allocate and free it for every batch);
 *   - time: the clock restarts only on progress, a request answered or an answer wholly sent; a
 *     connection without either for tcp-idle-timeout seconds is closed (idle, dribbling a request, or
 *     reading its answers a few octets at a time);
 *   - turns: at most TCP_BATCH messages per wakeup; a connection with more complete messages waits in
 *     the worker's backlog, served after the other ready sockets (UDP included) had their turn;
 *   - count: tcp-max-clients over all workers, and a tenth of that (at least 1) per client address
 *     (an IPv6 /64), so one address cannot take every slot;
 *   - descriptors: when accept() runs out of them (EMFILE, ENFILE), the worker stops accepting for
 *     ACCEPT_PAUSE_MS instead of being woken again at once by the same pending connection.
 *
 * So a connection holds at most 2 + 65535 octets of input and OUT_MAX of output, about 160 KiB in all,
 * and an idle one no buffer at all.
 */

#define IN_INITIAL 4096           /* input buffer between messages */
#define OUT_HIGH (32 * 1024)      /* queued answers above this: stop answering and reading */
#define OUT_MAX (OUT_HIGH + 2 + PKT_MAXLEN)   /* the most ever queued */
#define OUT_KEEP (16 * 1024)      /* an output buffer larger than this is freed once drained */
#define TCP_BATCH 64              /* messages answered per wakeup */
#define ACCEPT_PAUSE_MS 100       /* out of descriptors: no accept() for this long */

typedef struct tcp_conn {
	worker_sock_t sock;           /* first: what epoll events point at */
	struct tcp_conn *prev, *next;
	struct tcp_conn *bprev, *bnext;   /* in the worker's backlog */
	bool queued;                  /* in the backlog: complete messages left after a full batch */
	uint8_t *in;
	size_t in_off, in_len, in_cap;    /* input not answered yet: in[in_off, in_len) */
	uint8_t *out;
	size_t out_off, out_len, out_cap; /* output not sent yet: out[out_off, out_len) */
	size_t out_next;              /* end of the first answer not wholly sent; 0 = none */
	time_t active;                /* last progress (monotonic seconds) */
	bool reading;                 /* EPOLLIN registered */
	bool writing;                 /* EPOLLOUT registered */
	bool eof;                     /* the client closed its side: finish answering, then close */
	sockaddr_t peer;
	peerlimit_ticket_t ticket;    /* its count in per_address */
	struct xfrout *xfr;           /* a transfer that takes the connection over */
} tcp_conn_t;

static peerlimit_t per_address;   /* connections per client address, over all workers */

static time_t mono_now(void)
{
	return clock_now().tv_sec;
}

/* Lines clients cause go through limiters (lib/log.h): a flood of connections logs a few lines. */
static log_limit_t full_lines = LOG_LIMIT_INIT("TCP connections refused (tcp-max-clients)");
static log_limit_t address_lines = LOG_LIMIT_INIT("TCP connections refused (per address)");
static log_limit_t accept_lines = LOG_LIMIT_INIT("TCP accept paused");

unsigned tcp_per_address_max(unsigned max_clients)
{
	return max_clients / 10 > 0 ? max_clients / 10 : 1;
}

static size_t out_pending(const tcp_conn_t *c)
{
	return c->out_len - c->out_off;
}

/* Length (prefix included) of the complete message at the head of the input, or 0. */
static size_t in_complete(const tcp_conn_t *c)
{
	size_t avail = c->in_len - c->in_off;
	if (avail < 2)
		return 0;
	size_t n = 2 + (size_t)pkt_get16(c->in + c->in_off);
	return avail >= n ? n : 0;
}

static void backlog_remove(worker_t *w, tcp_conn_t *c)
{
	if (!c->queued)
		return;
	if (c->bprev)
		c->bprev->bnext = c->bnext;
	else
		w->backlog = c->bnext;
	if (c->bnext)
		c->bnext->bprev = c->bprev;
	c->bprev = c->bnext = NULL;
	c->queued = false;
}

static void backlog_add(worker_t *w, tcp_conn_t *c)
{
	if (c->queued)
		return;
	c->bprev = NULL;
	c->bnext = w->backlog;
	if (w->backlog)
		w->backlog->bprev = c;
	w->backlog = c;
	c->queued = true;
}

static void conn_close(worker_t *w, tcp_conn_t *c)
{
	backlog_remove(w, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->sock.fd);   /* also removes it from the epoll set */
	free(c->in);
	free(c->out);
	peerlimit_release(&per_address, &c->ticket);
	free(c);
	atomic_fetch_sub(&w->shared->tcp_clients, 1);
}

static void conn_update_events(worker_t *w, tcp_conn_t *c)
{
	bool below = out_pending(c) < OUT_HIGH;
	/* Complete messages left unanswered after a full batch: the backlog brings us back to them. */
	if (below && in_complete(c) > 0)
		backlog_add(w, c);
	else
		backlog_remove(w, c);
	bool want_read = !c->eof && below;
	bool want_write = out_pending(c) > 0;
	if (want_read == c->reading && want_write == c->writing)
		return;
	struct epoll_event ev = { .events = (want_read ? EPOLLIN : 0) | (want_write ? EPOLLOUT : 0),
	                          .data.ptr = &c->sock };
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->sock.fd, &ev);
	c->reading = want_read;
	c->writing = want_write;
}

/* Out of descriptors: the pending connection would wake us at once, again and again. */
static void accept_pause(worker_t *w, int err)
{
	for (size_t i = 0; i < w->nsocks; i++) {
		if (w->socks[i].kind != WORKER_SOCK_TCP)
			continue;
		struct epoll_event ev = { .events = 0, .data.ptr = &w->socks[i] };
		epoll_ctl(w->epfd, EPOLL_CTL_MOD, w->socks[i].fd, &ev);
	}
	w->accept_resume = clock_ms() + ACCEPT_PAUSE_MS;
	log_limited(&accept_lines, LOG_WARN, "TCP: cannot accept connections (%s); not accepting for %d ms",
	            strerror(err), ACCEPT_PAUSE_MS);
}

static void accept_resume(worker_t *w)
{
	for (size_t i = 0; i < w->nsocks; i++) {
		if (w->socks[i].kind != WORKER_SOCK_TCP)
			continue;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->socks[i] };
		epoll_ctl(w->epfd, EPOLL_CTL_MOD, w->socks[i].fd, &ev);
	}
	w->accept_resume = 0;
}

void tcp_accept(worker_t *w, int lfd)
{
	unsigned max = w->shared->tcp_max_clients, per = tcp_per_address_max(max);
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int err = errno;
			if (err == EINTR || err == ECONNABORTED)
				continue;
			if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
				accept_pause(w, err);
			return;
		}
		unsigned count = atomic_fetch_add(&w->shared->tcp_clients, 1);
		peerlimit_ticket_t ticket;
		bool full = count >= max;
		bool over = !full && !peerlimit_acquire(&per_address, &peer, per, &ticket);
		tcp_conn_t *c = !full && !over ? calloc(1, sizeof(*c)) : NULL;
		struct epoll_event ev = { .events = EPOLLIN };
		if (c != NULL) {
			c->sock = (worker_sock_t){ .kind = WORKER_SOCK_CONN, .fd = fd };
			c->peer.len = peer_len;
			memcpy(&c->peer.ss, &peer, sizeof(peer));
			c->ticket = ticket;
			c->active = mono_now();
			c->reading = true;
			ev.data.ptr = &c->sock;
		}
		if (c == NULL || epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			/* Over a limit (or out of memory): the client may retry later. */
			if (full)
				log_limited(&full_lines, LOG_WARN,
				            "TCP: %u connections open (tcp-max-clients), refusing more", max);
			if (over) {
				char addr[SOCKADDR_STRLEN];
				sockaddr_t sa = { .len = peer_len };
				memcpy(&sa.ss, &peer, sizeof(peer));
				sockaddr_format(&sa, addr, sizeof(addr));
				addr[strcspn(addr, "@")] = '\0';
				log_limited(&address_lines, LOG_WARN, "TCP: %s holds %u connections (a tenth "
				            "of tcp-max-clients), refusing more", addr, per);
			}
			if (!full && !over)
				peerlimit_release(&per_address, &ticket);
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

/* Queues an answer with its length prefix. Called only below OUT_HIGH, so the buffer stays within
 * OUT_MAX octets. */
static int out_append(tcp_conn_t *c, const uint8_t *msg, size_t len)
{
	size_t pending = out_pending(c);
	if (pending == 0) {
		c->out_off = c->out_len = 0;
	} else if (c->out_off > 0 && c->out_len + 2 + len > c->out_cap) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_next -= c->out_off;   /* out_next > out_off: the answer it ends is not sent */
		c->out_off = 0;
		c->out_len = pending;
	}
	if (c->out_len + 2 + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + 2 + len)
			cap *= 2;
		cap = cap > OUT_MAX ? OUT_MAX : cap;
		uint8_t *p = realloc(c->out, cap);
		if (p == NULL)
			return TDM_ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	pkt_put16(c->out + c->out_len, (uint16_t)len);
	memcpy(c->out + c->out_len + 2, msg, len);
	c->out_len += 2 + len;
	if (c->out_next == 0)
		c->out_next = c->out_len;
	return TDM_OK;
}

static int in_resize(tcp_conn_t *c, size_t cap)
{
	uint8_t *p = realloc(c->in, cap);
	if (p == NULL)
		return TDM_ENOMEM;
	c->in = p;
	c->in_cap = cap;
	return TDM_OK;
}

/* Moves unanswered input to the front of the buffer. */
static void in_compact(tcp_conn_t *c)
{
	size_t avail = c->in_len - c->in_off;
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, avail);
		c->in_off = 0;
		c->in_len = avail;
	}
}

/* Makes room to read: the buffer doubles when full, up to the message in progress. */
static int in_prepare(tcp_conn_t *c)
{
	in_compact(c);
	size_t avail = c->in_len;
	size_t need = avail >= 2 ? 2 + (size_t)pkt_get16(c->in) : 2;
	if (c->in_cap < IN_INITIAL)
		return in_resize(c, IN_INITIAL);
	if (avail == c->in_cap && need > c->in_cap)
		return in_resize(c, 2 * c->in_cap < need ? 2 * c->in_cap : need);
	return TDM_OK;
}

/* Gives back what a connection no longer needs: an input buffer grown for a large message that is
 * gone (or any, when nothing is in it), an output buffer grown for answers that are sent. */
static void conn_trim(tcp_conn_t *c)
{
	if (c->out_cap > OUT_KEEP && out_pending(c) == 0) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
		c->out_off = c->out_len = c->out_next = 0;
	}
	size_t avail = c->in_len - c->in_off;
	if (avail == 0) {
		free(c->in);
		c->in = NULL;
		c->in_cap = c->in_off = c->in_len = 0;
		return;
	}
	size_t need = avail >= 2 ? 2 + (size_t)pkt_get16(c->in + c->in_off) : 2;
	if (c->in_cap > IN_INITIAL && avail <= IN_INITIAL && need <= IN_INITIAL) {
		in_compact(c);
		in_resize(c, IN_INITIAL);   /* a failure to shrink leaves it as it was */
	}
}

/* Answers the complete message at the head of the input (n octets with the prefix). */
static int answer_one(worker_t *w, tcp_conn_t *c, size_t n, query_env_t *env, time_t now)
{
	struct xfrout *job = NULL;
	rcu_read_lock();
	env->zones = rcu_dereference(*w->shared->zones);
	size_t resp = dispatch_request(w->shared->srv, env, c->in + c->in_off + 2, n - 2,
	                               w->tcp_scratch, PKT_MAXLEN, true, &c->peer, &job);
	rcu_read_unlock();
	c->in_off += n;
	c->active = now;
	if (job != NULL) {
		/* A transfer takes the connection over, with the answers still queued on it. */
		c->xfr = job;
		return TDM_OK;
	}
	if (w->shared->metrics != NULL)
		metrics_query(&w->shared->metrics[w->cell], true, w->tcp_scratch, resp);
	if (resp == 0)
		return TDM_OK;
	worker_answered(w, w->tcp_scratch, resp);
	return out_append(c, w->tcp_scratch, resp);
}

/* Answers what is complete and reads more, within the batch and below the output mark. */
static int conn_serve(worker_t *w, tcp_conn_t *c, time_t now)
{
	query_env_t env = { .identity = w->shared->identity, .udp_payload = w->shared->udp_payload,
	                    .cookie_secret = w->shared->cookie_secret, .client = &c->peer.ss };
	unsigned answered = 0;
	for (;;) {
		if (out_pending(c) >= OUT_HIGH)
			return TDM_OK;   /* the client takes some first */
		size_t n = in_complete(c);
		if (n > 0) {
			if (answered++ == TCP_BATCH)
				return TDM_OK;   /* others' turn; the backlog brings us back */
			int ret = answer_one(w, c, n, &env, now);
			if (ret != TDM_OK || c->xfr != NULL)
				return ret;
			continue;
		}
		if (c->eof)
			return TDM_OK;
		int ret = in_prepare(c);
		if (ret != TDM_OK)
			return ret;
		ssize_t r = read(c->sock.fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (r == 0) {
			c->eof = true;   /* closed by the client; answers still pending go out */
			return TDM_OK;
		}
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? TDM_OK : TDM_EIO;
		c->in_len += (size_t)r;
	}
}

static int conn_write(tcp_conn_t *c, time_t now)
{
	int ret = TDM_OK;
	while (c->out_off < c->out_len) {
		ssize_t r = send(c->sock.fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL);
		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				ret = TDM_EIO;
			break;
		}
		c->out_off += (size_t)r;
	}
	/* Progress is an answer wholly sent, not a few octets of one. */
	while (c->out_next != 0 && c->out_off >= c->out_next) {
		c->active = now;
		c->out_next = c->out_next < c->out_len
		              ? c->out_next + 2 + (size_t)pkt_get16(c->out + c->out_next) : 0;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	return ret;
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
		xfrout_start(c->xfr, fd, c->out + c->out_off, out_pending(c));
	}
	c->xfr = NULL;
	conn_close(w, c);
}

static void conn_ready(worker_t *w, tcp_conn_t *c, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* Reset, or both sides shut: nobody will read an answer. */
		conn_close(w, c);
		return;
	}
	time_t now = mono_now();
	int ret = conn_write(c, now);
	if (ret == TDM_OK)
		ret = conn_serve(w, c, now);
	if (ret == TDM_OK && c->xfr != NULL) {
		hand_over(w, c);
		return;
	}
	/* Write what we can even when the client closed its side: it may still read. */
	if (ret == TDM_OK)
		ret = conn_write(c, now);
	if (ret != TDM_OK || (c->eof && out_pending(c) == 0 && in_complete(c) == 0)) {
		if (ret == TDM_ENOMEM)
			log_warn("TCP: out of memory, closing a connection");
		conn_close(w, c);
		return;
	}
	conn_update_events(w, c);
}

void tcp_ready(worker_t *w, worker_sock_t *sock, uint32_t events)
{
	conn_ready(w, (tcp_conn_t *)sock, events);
}

int tcp_wait_ms(worker_t *w)
{
	if (w->backlog != NULL)
		return 0;
	if (w->accept_resume == 0)
		return 1000;
	int64_t left = w->accept_resume - clock_ms();
	return left <= 0 ? 0 : left > 1000 ? 1000 : (int)left;
}

void tcp_tick(worker_t *w)
{
	/* One more batch for each connection left with complete messages, in turn with the sockets. */
	tcp_conn_t *c = w->backlog;
	w->backlog = NULL;
	while (c != NULL) {
		tcp_conn_t *next = c->bnext;
		c->queued = false;
		c->bprev = c->bnext = NULL;
		if (next != NULL)
			next->bprev = NULL;
		conn_ready(w, c, 0);
		c = next;
	}
	if (w->accept_resume != 0 && clock_ms() >= w->accept_resume)
		accept_resume(w);
	time_t now = mono_now();
	if (now == w->last_sweep)
		return;
	w->last_sweep = now;
	time_t limit = (time_t)w->shared->tcp_idle_timeout;
	c = w->conns;
	while (c != NULL) {
		tcp_conn_t *next = c->next;
		if (now - c->active >= limit)
			conn_close(w, c);
		else
			conn_trim(c);
		c = next;
	}
}

void tcp_close_all(worker_t *w)
{
	while (w->conns != NULL)
		conn_close(w, w->conns);
}
