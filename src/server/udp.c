/* server/udp.c -- a UDP socket's query thread: it sleeps in recvmmsg and answers what came in batches */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/sockaddr.h"
#include "rrl/rrl.h"
#include "runtime/metrics.h"
#include "server/dispatch.h"
#include "server/net.h"
#include "server/udp.h"
#include "wire/pkt.h"

#define UDP_BATCH 32
#define UDP_BUFSIZE 4096       /* larger UDP requests are dropped: no client needs more for a query */

struct udp_thread {
	worker_shared_t *shared;
	int fd;
	int cell;                      /* this thread's metrics cell (shared->metrics[cell]) */
	bool pktinfo;                  /* bound to a wildcard address: replies name their source */
	bool started;
	pthread_t thread;
	int64_t poll_until;            /* after an applied UPDATE: no sleeping until then (us); 0 = not */
	/* The receive headers are set up once (batch_init); a receive changes only the lengths and
	 * flags of the ones it filled, so only those [0, used) are reset before the next. */
	int used;
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

udp_thread_t *udp_thread_new(worker_shared_t *shared, int fd, int cell)
{
	udp_thread_t *u = malloc(sizeof(*u));
	int flags = fcntl(fd, F_GETFL);
	/* The thread sleeps in recvmmsg itself: the socket blocks (sends do not: MSG_DONTWAIT). */
	if (u == NULL || flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		free(u);
		close(fd);
		return NULL;
	}
	u->shared = shared;
	u->fd = fd;
	u->cell = cell;
	u->pktinfo = net_is_wildcard(fd);
	u->started = false;
	u->poll_until = 0;
	for (int i = 0; i < UDP_BATCH; i++) {
		u->iov_in[i] = (struct iovec){ .iov_base = u->req[i], .iov_len = UDP_BUFSIZE };
		u->in[i].msg_hdr = (struct msghdr){ .msg_name = &u->addr[i].ss,
		                                    .msg_iov = &u->iov_in[i], .msg_iovlen = 1,
		                                    .msg_control = u->ctrl[i].buf };
	}
	u->used = UDP_BATCH;
	return u;
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
static void prefetch_batch(udp_thread_t *u, int n, const zoneset_t *zones)
{
	for (int i = 0; i < n; i++) {
		bool whole = !(u->in[i].msg_hdr.msg_flags & MSG_TRUNC);
		query_prefetch_begin(&u->prefetch[i], zones, u->req[i], whole ? u->in[i].msg_len : 0);
	}
	for (bool more = true; more;) {
		more = false;
		for (int i = 0; i < n; i++)
			more |= query_prefetch_step(&u->prefetch[i]);
	}
}

int64_t udp_update_poll(server_t *srv, const uint8_t *resp, size_t len)
{
	if (len < PKT_HEADER_LEN || pkt_opcode(resp) != PKT_OPCODE_UPDATE || pkt_rcode(resp) != PKT_RCODE_NOERROR)
		return 0;
	metrics_event(srv, METRICS_UPDATE_POLLS);
	return clock_us() + POLL_AFTER_UPDATE_US;
}

/* Answers what the batch received; the answers go out with one sendmmsg. */
static void answer_batch(udp_thread_t *u, int n, query_env_t *env)
{
	int out = 0;
	rcu_read_lock();
	env->zones = rcu_dereference(*u->shared->zones);
	bool prefetch = n > 1;   /* a request alone has no misses to overlap */
	if (prefetch)
		prefetch_batch(u, n, env->zones);
	for (int i = 0; i < n; i++) {
		env->prefetch = prefetch ? &u->prefetch[i] : NULL;
		if (u->in[i].msg_hdr.msg_flags & MSG_TRUNC)
			continue;
		sockaddr_t *peer = &u->addr[i];
		peer->len = u->in[i].msg_hdr.msg_namelen;
		env->client = &peer->ss;
		struct xfrout *job = NULL;
		size_t len = dispatch_request(u->shared->srv, env, u->req[i], u->in[i].msg_len,
		                              u->resp[out], UDP_BUFSIZE, false, peer, &job);
		if (u->shared->metrics != NULL)   /* before RRL: what was answered, sent or not */
			metrics_query(&u->shared->metrics[u->cell], false, u->resp[out], len);
		if (len > 0 && u->shared->rrl != NULL)
			len = rate_limit(u->shared->rrl, peer, u->resp[out], len);
		if (len == 0)
			continue;
		int64_t poll = udp_update_poll(u->shared->srv, u->resp[out], len);
		if (poll != 0)
			u->poll_until = poll;
		u->iov_out[out] = (struct iovec){ .iov_base = u->resp[out], .iov_len = len };
		u->out[out].msg_hdr = (struct msghdr){ .msg_name = &peer->ss, .msg_namelen = peer->len,
		                                       .msg_iov = &u->iov_out[out], .msg_iovlen = 1 };
		if (u->in[i].msg_hdr.msg_controllen > 0)
			reply_from(&u->in[i].msg_hdr, &u->out[out].msg_hdr);
		out++;
	}
	env->prefetch = NULL;
	rcu_read_unlock();
	for (int sent = 0; sent < out;) {
		int r = sendmmsg(u->fd, u->out + sent, (unsigned)(out - sent), MSG_DONTWAIT);
		if (r <= 0) {
			/* A reply that cannot be sent now (full buffer, unreachable peer) is dropped:
			 * the client retries, as it would after a lost datagram. */
			sent++;
			continue;
		}
		sent += r;
	}
}

/*
 * The thread sleeps in recvmmsg itself, which returns as soon as one datagram is in, with up to a batch
 * of those that came meanwhile (MSG_WAITFORONE). On this kernel that costs less per query than waking
 * from epoll and then receiving: bench/nullresp.c's "one" mode against its "epoll" mode, and Tandem's
 * threads against its earlier epoll workers (docs/benchmarks.md, "UDP floor").
 */
static void *udp_main(void *arg)
{
	udp_thread_t *u = arg;
	query_env_t env = { .identity = u->shared->identity, .udp_payload = u->shared->udp_payload,
	                    .cookie_secret = u->shared->cookie_secret };
	rcu_register_thread();
	while (!atomic_load(&u->shared->stop)) {
		for (int i = 0; i < u->used; i++) {
			u->in[i].msg_hdr.msg_namelen = sizeof(u->addr[i].ss);
			u->in[i].msg_hdr.msg_controllen = u->pktinfo ? sizeof(u->ctrl[i].buf) : 0;
		}
		u->used = 0;
		int flags = MSG_WAITFORONE;
		if (u->poll_until != 0) {
			if (clock_us() < u->poll_until)
				flags = MSG_DONTWAIT;
			else
				u->poll_until = 0;
		}
		int n = recvmmsg(u->fd, u->in, UDP_BATCH, flags, NULL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			/* Nothing a datagram can cause (ICMP errors are not asked for); a broken socket
			 * would spin, so the thread waits a little before it tries again. */
			log_err("UDP receive failed (%s)", strerror(errno));
			struct timespec pause = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
			nanosleep(&pause, NULL);
			continue;
		}
		if (n <= 0)
			continue;
		u->used = n;
		answer_batch(u, n, &env);
	}
	rcu_unregister_thread();
	return NULL;
}

int udp_thread_start(udp_thread_t *u)
{
	int ret = pthread_create(&u->thread, NULL, udp_main, u);
	if (ret != 0)
		return -ret;
	u->started = true;
	return TDM_OK;
}

void udp_thread_stop(udp_thread_t *u)
{
	/* A receive shut down returns at once (and every one after it): the thread sees the stop. */
	shutdown(u->fd, SHUT_RD);
	if (u->started)
		pthread_join(u->thread, NULL);
	u->started = false;
}

void udp_thread_free(udp_thread_t *u)
{
	if (u == NULL)
		return;
	close(u->fd);
	free(u);
}
