/* server/worker.c -- query workers: epoll loop, batched UDP */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/netwait.h"
#include "lib/sockaddr.h"
#include "rrl/rrl.h"
#include "runtime/metrics.h"
#include "runtime/runtime.h"
#include "server/dispatch.h"
#include "server/net.h"
#include "server/tcp.h"
#include "server/worker.h"
#include "server/worker_impl.h"
#include "wire/pkt.h"

#define UDP_BATCH 32
#define UDP_BUFSIZE 4096       /* larger UDP requests are dropped: no client needs more for a query */
#define UDP_ROUNDS 8           /* batches per readiness before looking at other sockets */

/* After an UPDATE is applied (answered NOERROR, so its ACL and TSIG passed), the worker polls its
 * sockets without sleeping for this long: clients send updates one after another, each as soon as
 * the answer to the one before arrives (nsupdate, certbot, external-dns), and waking a worker that has
 * gone to sleep for that next one took about a sixth of a sequential UPDATE's time on the reference
 * machine (bench/update_ab.py, docs/benchmarks.md). At most this much CPU per applied update; a
 * client that may not update never starts it. */
#define POLL_AFTER_UPDATE_US 100

struct udp_batch {
	int fd_current;
	/* The receive headers are set up once (udp_batch_init); a receive changes only the lengths and
	 * flags of the ones it filled, so only those [0, used) are reset before the next, and all when
	 * a socket with the other PKTINFO setting comes. */
	int used;
	bool pktinfo;
	struct mmsghdr in[UDP_BATCH], out[UDP_BATCH];
	struct iovec iov_in[UDP_BATCH], iov_out[UDP_BATCH];
	sockaddr_t addr[UDP_BATCH];    /* received into directly: the answer path reads it in place */
	/* Destination address of each request (IP_PKTINFO), on sockets bound to a wildcard address, so
	 * the answer leaves from the address the client asked. */
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctrl[UDP_BATCH];
	uint8_t req[UDP_BATCH][UDP_BUFSIZE];
	uint8_t resp[UDP_BATCH][UDP_BUFSIZE];
	query_prefetch_t prefetch[UDP_BATCH];
};

static void udp_batch_init(struct udp_batch *b)
{
	for (int i = 0; i < UDP_BATCH; i++) {
		b->iov_in[i] = (struct iovec){ .iov_base = b->req[i], .iov_len = UDP_BUFSIZE };
		b->in[i].msg_hdr = (struct msghdr){ .msg_name = &b->addr[i].ss,
		                                    .msg_namelen = sizeof(b->addr[i].ss),
		                                    .msg_iov = &b->iov_in[i], .msg_iovlen = 1,
		                                    .msg_control = b->ctrl[i].buf };
	}
	b->used = 0;
	b->pktinfo = false;
}

worker_t *worker_new(worker_shared_t *shared, int id, const int *udp_fds, size_t udp_count,
                     const int *tcp_fds, size_t tcp_count)
{
	worker_t *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->shared = shared;
	w->id = id;
	w->epfd = w->evfd = -1;
	w->udp = malloc(sizeof(struct udp_batch));
	w->socks = calloc(udp_count + tcp_count, sizeof(worker_sock_t));
	w->tcp_scratch = malloc(PKT_MAXLEN);
	if (w->udp == NULL || w->socks == NULL || w->tcp_scratch == NULL)
		goto fail;
	udp_batch_init(w->udp);
	for (size_t i = 0; i < udp_count; i++)
		w->socks[w->nsocks++] = (worker_sock_t){ .kind = WORKER_SOCK_UDP, .fd = udp_fds[i],
		                                         .pktinfo = net_is_wildcard(udp_fds[i]) };
	for (size_t i = 0; i < tcp_count; i++)
		w->socks[w->nsocks++] = (worker_sock_t){ .kind = WORKER_SOCK_TCP, .fd = tcp_fds[i] };
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->epfd < 0 || w->evfd < 0)
		goto fail;
	w->wake = (worker_sock_t){ .kind = WORKER_SOCK_WAKE, .fd = w->evfd };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->wake };
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev) != 0)
		goto fail;
	for (size_t i = 0; i < w->nsocks; i++) {
		ev.data.ptr = &w->socks[i];
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->socks[i].fd, &ev) != 0)
			goto fail;
	}
	return w;
fail:
	worker_free(w);
	return NULL;
}

/* Sets the reply's source to the request's destination, from the IP_PKTINFO/IPV6_PKTINFO we got. */
static void reply_from(struct msghdr *in, struct msghdr *out)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(c);
			pi->ipi_spec_dst = pi->ipi_addr;
			pi->ipi_ifindex = 0;
		} else if (!(c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)) {
			continue;   /* the IPv6 one goes back as it came: address and interface */
		}
		/* Only PKTINFO was asked for, so the whole control block is this one message. */
		out->msg_control = in->msg_control;
		out->msg_controllen = in->msg_controllen;
		return;
	}
}

/* RRL (rrl/rrl.h): the answer as it may go out -- whole, truncated (slip) or not at all (0). */
static size_t rate_limit(rrl_t *rrl, const sockaddr_t *peer, uint8_t *resp, size_t len)
{
	switch (rrl_check(rrl, peer, resp, len, (uint32_t)time(NULL))) {
	case RRL_PASS: return len;
	case RRL_SLIP: return rrl_slip(resp, len);
	default: return 0;
	}
}

/*
 * Starts fetching what the batch's answers will read, all its requests together (query/prefetch.c):
 * each round advances every request by one stage, so that a request's next read has had the other
 * requests' stages' time to arrive, and the answers then find their data in the cache.
 */
static void udp_prefetch(struct udp_batch *b, int n, const zoneset_t *zones)
{
	for (int i = 0; i < n; i++) {
		bool whole = !(b->in[i].msg_hdr.msg_flags & MSG_TRUNC);
		query_prefetch_begin(&b->prefetch[i], zones, b->req[i], whole ? b->in[i].msg_len : 0);
	}
	for (bool more = true; more;) {
		more = false;
		for (int i = 0; i < n; i++)
			more |= query_prefetch_step(&b->prefetch[i]);
	}
}

/* Answers what the batch received; the answers go out with one sendmmsg. */
static void udp_answer(worker_t *w, struct udp_batch *b, int n, query_env_t *env)
{
	int out = 0;
	rcu_read_lock();
	env->zones = rcu_dereference(*w->shared->zones);
	bool prefetch = n > 1;   /* a request alone has no misses to overlap */
	if (prefetch)
		udp_prefetch(b, n, env->zones);
	for (int i = 0; i < n; i++) {
		env->prefetch = prefetch ? &b->prefetch[i] : NULL;
		if (b->in[i].msg_hdr.msg_flags & MSG_TRUNC)
			continue;
		sockaddr_t *peer = &b->addr[i];
		peer->len = b->in[i].msg_hdr.msg_namelen;
		env->client = &peer->ss;
		struct xfrout *job = NULL;
		size_t len = dispatch_request(w->shared->srv, env, b->req[i], b->in[i].msg_len,
		                              b->resp[out], UDP_BUFSIZE, false, peer, &job);
		if (w->shared->metrics != NULL)   /* before RRL: what was answered, sent or not */
			metrics_query(&w->shared->metrics[w->id], false, b->resp[out], len);
		if (len > 0 && w->shared->rrl != NULL)
			len = rate_limit(w->shared->rrl, peer, b->resp[out], len);
		if (len == 0)
			continue;
		worker_answered(w, b->resp[out], len);
		b->iov_out[out] = (struct iovec){ .iov_base = b->resp[out], .iov_len = len };
		b->out[out].msg_hdr = (struct msghdr){ .msg_name = &peer->ss, .msg_namelen = peer->len,
		                                       .msg_iov = &b->iov_out[out], .msg_iovlen = 1 };
		if (b->in[i].msg_hdr.msg_controllen > 0)
			reply_from(&b->in[i].msg_hdr, &b->out[out].msg_hdr);
		out++;
	}
	env->prefetch = NULL;
	rcu_read_unlock();
	for (int sent = 0; sent < out;) {
		int r = sendmmsg(b->fd_current, b->out + sent, (unsigned)(out - sent), 0);
		if (r <= 0) {
			/* A reply that cannot be sent now (full buffer, unreachable peer) is dropped:
			 * the client retries, as it would after a lost datagram. */
			sent++;
			continue;
		}
		sent += r;
	}
}

static void udp_ready(worker_t *w, int fd, bool pktinfo)
{
	struct udp_batch *b = w->udp;
	query_env_t env = { .identity = w->shared->identity, .udp_payload = w->shared->udp_payload,
	                    .cookie_secret = w->shared->cookie_secret };
	b->fd_current = fd;
	if (pktinfo != b->pktinfo) {
		b->pktinfo = pktinfo;
		b->used = UDP_BATCH;
	}
	for (int round = 0; round < UDP_ROUNDS; round++) {
		for (int i = 0; i < b->used; i++) {
			b->in[i].msg_hdr.msg_namelen = sizeof(b->addr[i].ss);
			b->in[i].msg_hdr.msg_controllen = pktinfo ? sizeof(b->ctrl[i].buf) : 0;
		}
		b->used = 0;
		int n = recvmmsg(fd, b->in, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		b->used = n;
		udp_answer(w, b, n, &env);
		if (n < UDP_BATCH)
			return;
	}
}

void worker_answered(worker_t *w, const uint8_t *resp, size_t len)
{
	if (len >= PKT_HEADER_LEN && pkt_opcode(resp) == PKT_OPCODE_UPDATE &&
	    pkt_rcode(resp) == PKT_RCODE_NOERROR) {
		w->poll_until = clock_us() + POLL_AFTER_UPDATE_US;
		metrics_event(w->shared->srv, METRICS_UPDATE_POLLS);
	}
}

/* How long the next epoll_wait may sleep (ms): not at all while an UPDATE's poll lasts. */
static int wait_ms(worker_t *w)
{
	if (w->poll_until != 0 && clock_us() < w->poll_until)
		return 0;
	w->poll_until = 0;
	return tcp_wait_ms(w);
}

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	struct epoll_event events[64];
	rcu_register_thread();
	while (!atomic_load(&w->shared->stop)) {
		int n = epoll_wait(w->epfd, events, 64, wait_ms(w));
		if (n < 0 && errno != EINTR) {
			log_err("worker %d: epoll_wait failed (%s)", w->id, strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			worker_sock_t *s = events[i].data.ptr;
			switch (s->kind) {
			case WORKER_SOCK_UDP: udp_ready(w, s->fd, s->pktinfo); break;
			case WORKER_SOCK_TCP: tcp_accept(w, s->fd); break;
			case WORKER_SOCK_CONN: tcp_ready(w, s, events[i].events); break;
			case WORKER_SOCK_WAKE: break;
			}
		}
		tcp_tick(w);
	}
	tcp_close_all(w);
	rcu_unregister_thread();
	return NULL;
}

int worker_start(worker_t *w)
{
	int ret = pthread_create(&w->thread, NULL, worker_main, w);
	if (ret != 0)
		return -ret;
	w->started = true;
	return TDM_OK;
}

void worker_stop(worker_t *w)
{
	uint64_t one = 1;
	ssize_t r = write(w->evfd, &one, sizeof(one));
	(void)r;
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = false;
}

void worker_free(worker_t *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->nsocks; i++)
		close(w->socks[i].fd);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->evfd >= 0)
		close(w->evfd);
	free(w->socks);
	free(w->udp);
	free(w->tcp_scratch);
	free(w);
}
