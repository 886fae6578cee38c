/* bench/nullresp.c -- a UDP DNS responder that looks nothing up: the floor a real server is measured against
 *
 *   nullresp ADDRESS PORT [THREADS [fill|epoll|one]]
 *
 * THREADS (default 2, like the 2 workers every server gets in bench/) each own a socket bound to
 * ADDRESS@PORT with SO_REUSEPORT and a 4 MiB receive queue (as Tandem's, server/net.c), so the kernel
 * spreads clients over them as it does for Tandem, NSD and Knot. A thread receives up to 32 datagrams per
 * recvmmsg, turns every request into an answer in place of a fixed one (the request's id and question,
 * QR/AA/RD copied, NOERROR, one A record whose owner is a pointer to the question) and sends the batch back
 * with one sendmmsg. What it does per query is the least any server must do: the system calls and a copy
 * of the question. bench/udp_floor.py divides every server's queries per CPU-second by this one's.
 *
 * How a thread waits decides how full its batches are, and under load that is most of the cost:
 *   fill  (default) blocking recvmmsg that waits up to FILL_WAIT_US for each further datagram of a batch
 *         (SO_RCVTIMEO): under load every batch holds 32, the fewest system calls per query -- the floor.
 *   epoll Tandem's worker loop without the DNS: epoll_wait, then recvmmsg(MSG_DONTWAIT) again while a batch
 *         comes back full (at most 8 times): batches hold what arrived since the last one. Tandem's distance
 *         to this mode is its own work per query; this mode's distance to fill is the cost of waking up for
 *         small batches.
 *   one   blocking recvmmsg with MSG_WAITFORONE: sleeps until one datagram is there, then takes what else
 *         is queued without waiting: no epoll and no added latency, batches as small as epoll's.
 *
 * A request that is a response, has no question, or whose question is not readable within its length is
 * dropped. SIGTERM ends the process (the default action: there is nothing to clean up).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BATCH 32
#define BUFSIZE 4096
#define MAXTHREADS 64
#define FILL_WAIT_US 200
#define EPOLL_ROUNDS 8

static int epoll_mode, one_mode;

static struct sockaddr_in listen_addr;

/* Writes the answer to req (len octets) into resp (BUFSIZE octets); returns its length, 0 to drop the
 * request. The answer is the question (at most 12 + 255 + 4 octets) and 16 more: it always fits. */
static size_t answer(const uint8_t *req, size_t len, uint8_t *resp)
{
	if (len < 12 || (req[2] & 0x80) || req[4] != 0 || req[5] == 0)
		return 0;
	size_t pos = 12;
	for (;;) {   /* the question's name: uncompressed labels up to the root */
		if (pos >= len)
			return 0;
		uint8_t l = req[pos];
		if (l == 0)
			break;
		if (l > 63)
			return 0;
		pos += 1 + (size_t)l;
	}
	if (pos - 12 + 1 > 255)   /* RFC 1035 3.1: a name is at most 255 octets */
		return 0;
	pos += 1 + 4;   /* root label, QTYPE, QCLASS */
	if (pos > len)
		return 0;
	memcpy(resp, req, pos);
	resp[2] = (uint8_t)(0x80 | 0x04 | (req[2] & 0x01));   /* QR, AA, RD as asked; opcode QUERY */
	resp[3] = 0;                                           /* NOERROR */
	resp[4] = 0, resp[5] = 1;                              /* QDCOUNT 1 */
	resp[6] = 0, resp[7] = 1;                              /* ANCOUNT 1 */
	memset(resp + 8, 0, 4);                                /* NSCOUNT, ARCOUNT */
	static const uint8_t rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1 };
	memcpy(resp + pos, rr, sizeof(rr));
	return pos + sizeof(rr);
}

static void *serve(void *arg)
{
	(void)arg;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int one = 1, size = 4 * 1024 * 1024;   /* the receive queue Tandem asks for (server/net.c) */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) != 0 ||
	    bind(fd, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) != 0) {
		perror("nullresp: socket");
		exit(1);
	}
	struct timeval wait = { 0, FILL_WAIT_US };
	int ep = -1;
	struct epoll_event ev = { .events = EPOLLIN };
	if (epoll_mode ? (ep = epoll_create1(0)) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0
	               : !one_mode && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait)) != 0) {
		perror("nullresp: socket wait");
		exit(1);
	}
	struct batch {
		struct mmsghdr in[BATCH], out[BATCH];
		struct iovec iov_in[BATCH], iov_out[BATCH];
		struct sockaddr_storage addr[BATCH];
		uint8_t req[BATCH][BUFSIZE], resp[BATCH][BUFSIZE];
	} *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		fprintf(stderr, "nullresp: out of memory\n");
		exit(1);
	}
	struct mmsghdr *in = b->in, *out = b->out;
	struct iovec *iov_in = b->iov_in, *iov_out = b->iov_out;
	struct sockaddr_storage *addr = b->addr;
	uint8_t (*req)[BUFSIZE] = b->req, (*resp)[BUFSIZE] = b->resp;
	for (int round = 0;; round = (round + 1) % EPOLL_ROUNDS) {
		if (epoll_mode && round == 0 && epoll_wait(ep, &ev, 1, -1) < 0 && errno != EINTR) {
			perror("nullresp: epoll_wait");
			exit(1);
		}
		for (int i = 0; i < BATCH; i++) {
			iov_in[i] = (struct iovec){ .iov_base = req[i], .iov_len = BUFSIZE };
			in[i].msg_hdr = (struct msghdr){ .msg_name = &addr[i], .msg_namelen = sizeof(addr[i]),
			                                 .msg_iov = &iov_in[i], .msg_iovlen = 1 };
		}
		/* fill: a timeout after the first datagram ends the batch with what it has; before it, the
		 * call fails with EAGAIN and we wait again. */
		int n = recvmmsg(fd, in, BATCH, epoll_mode ? MSG_DONTWAIT : one_mode ? MSG_WAITFORONE : 0, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				perror("nullresp: recvmmsg");
				exit(1);
			}
			round = -1;   /* epoll: wait for readiness again */
			continue;
		}
		int m = 0;
		for (int i = 0; i < n; i++) {
			size_t len = answer(req[i], in[i].msg_len, resp[m]);
			if (len == 0)
				continue;
			iov_out[m] = (struct iovec){ .iov_base = resp[m], .iov_len = len };
			out[m].msg_hdr = (struct msghdr){ .msg_name = &addr[i], .msg_namelen = in[i].msg_hdr.msg_namelen,
			                                  .msg_iov = &iov_out[m], .msg_iovlen = 1 };
			m++;
		}
		for (int sent = 0; sent < m;) {
			int r = sendmmsg(fd, out + sent, (unsigned)(m - sent), 0);
			sent += r > 0 ? r : 1;   /* an answer that cannot go now is dropped, as Tandem does */
		}
		if (epoll_mode && n < BATCH)
			round = -1;   /* the queue is empty: back to epoll_wait */
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 5 ||
	    (argc == 5 && strcmp(argv[4], "fill") != 0 && strcmp(argv[4], "epoll") != 0 &&
	     strcmp(argv[4], "one") != 0)) {
		fprintf(stderr, "usage: nullresp ADDRESS PORT [THREADS [fill|epoll|one]]\n");
		return 2;
	}
	epoll_mode = argc == 5 && strcmp(argv[4], "epoll") == 0;
	one_mode = argc == 5 && strcmp(argv[4], "one") == 0;
	listen_addr.sin_family = AF_INET;
	listen_addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &listen_addr.sin_addr) != 1) {
		fprintf(stderr, "nullresp: %s is not an IPv4 address\n", argv[1]);
		return 2;
	}
	int threads = argc >= 4 ? atoi(argv[3]) : 2;
	if (threads < 1 || threads > MAXTHREADS) {
		fprintf(stderr, "nullresp: 1 to %d threads\n", MAXTHREADS);
		return 2;
	}
	pthread_t t[MAXTHREADS];
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, serve, NULL) != 0) {
			fprintf(stderr, "nullresp: cannot start a thread\n");
			return 1;
		}
	fprintf(stderr, "nullresp: answering on %s@%s with %d threads (%s)\n", argv[1], argv[2], threads,
	        epoll_mode ? "epoll" : one_mode ? "one" : "fill");
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return 0;
}
