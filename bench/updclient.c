/* bench/updclient.c -- a C client for bench/update.py: N sequential TSIG-signed single-record UPDATEs over one TCP connection */
/*
 * Not a test: prints figures. The dnspython client spends about 0.5 ms of CPU on each UPDATE (building,
 * signing, parsing), which caps any server it measures near 2,000 updates/s; this client does the same
 * exchange in about 0.03 ms, so the figure is the server's. It links build/libtandem.a for the
 * message writer (wire/pkt.c) and TSIG (tsig/tsig.c), the code Tandem itself signs and verifies with;
 * the servers it measures (Knot, BIND) verify its requests independently.
 *
 * One connection; for i in 0..N-1, each sent only when the answer to the one before is in:
 *   UPDATE (RFC 2136 2): ID i+1, opcode UPDATE, zone section ZONE SOA IN, no prerequisite, update
 *   section u<TAG>-<i>.ZONE 300 IN A 10.x.y.z (a distinct name each), TSIG (RFC 8945) last
 *   answer: length prefix and message read whole (every length checked, one deadline per update), the
 *   ID and QR/opcode the request's, rcode NOERROR, its TSIG verified against the request's MAC
 * A wrong ID or a transport failure stops the run (the stream can no longer be trusted); an rcode or a
 * TSIG failure is counted and the run goes on.
 *
 * Usage: updclient ADDR PORT ZONE KEYNAME ALGORITHM SECRET_HEX N TAG [TIMEOUT_S [LIMIT_S]]
 *   TIMEOUT_S  the most one update may take, sent and answered (default 30)
 *   LIMIT_S    no update is sent after this many seconds (default: none): a slow server is measured on
 *              the updates it answered in that time
 * Output, one line on stdout (JSON): updates asked, answered, failed (bad rcode or TSIG), elapsed
 * seconds (wall clock, from the first send to the last answer), the client's own CPU seconds over the
 * same span, whether the run stopped early ("limit", "error") and the first failure.
 * Exit status 0 when every update sent was answered NOERROR with a good TSIG, 1 otherwise, 2 for bad
 * usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/netwait.h"
#include "tsig/tsig.h"
#include "wire/name.h"
#include "wire/pkt.h"

#define MSG_CAP 1024   /* an UPDATE of one A record and its TSIG: about 150 octets */

typedef struct {
	int fd;
	int64_t timeout_us;
	tsig_key_t key;
	uint8_t zone[NAME_MAXLEN];
	const char *zone_text;
	const char *tag;
	char why[256];            /* the first failure */
	unsigned long failures;
} client_t;

static void fail_note(client_t *c, const char *fmt, unsigned long i, const char *what)
{
	c->failures++;
	if (c->why[0] == '\0')
		snprintf(c->why, sizeof(c->why), fmt, i, what);
}

static int hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(hex);
	if (n == 0 || n % 2 != 0 || n / 2 > cap)
		return TDM_EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return TDM_EINVAL;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return TDM_OK;
}

static int open_conn(const char *addr, const char *port, int64_t deadline)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	char *end;
	long p = strtol(port, &end, 10);
	if (*end != '\0' || p <= 0 || p > 65535)
		return TDM_EINVAL;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		sl = sizeof(*s6);
	} else {
		return TDM_EINVAL;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int ret = netwait_connect(fd, (struct sockaddr *)&ss, sl, deadline);
	if (ret != TDM_OK) {
		close(fd);
		return ret;
	}
	return fd;
}

/* The i-th UPDATE, length-prefixed, signed with ctx (state REQUEST). */
static int build_update(client_t *c, tsig_ctx_t *ctx, unsigned long i, uint8_t *buf, size_t *len)
{
	char text[NAME_TEXT_MAX];
	uint8_t owner[NAME_MAXLEN];
	snprintf(text, sizeof(text), "u%s-%lu", c->tag, i);
	if (name_from_text(text, c->zone, owner) < 0)
		return TDM_EPARSE;
	uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
	pkt_writer_t w;
	pkt_writer_init(&w, buf + 2, MSG_CAP - 2);
	int ret = pkt_write_header(&w, (uint16_t)(i + 1), (uint16_t)(PKT_OPCODE_UPDATE << 11));
	if (ret == TDM_OK)   /* RFC 2136 2.3: the zone section is the question's place */
		ret = pkt_write_question(&w, c->zone, PKT_TYPE_SOA, PKT_CLASS_IN);
	if (ret != TDM_OK)
		return ret;
	pkt_begin_section(&w, PKT_SECTION_AUTHORITY);   /* RFC 2136 2.5: the update section */
	if ((ret = pkt_write_rr(&w, owner, 0, PKT_TYPE_A, PKT_CLASS_IN, 300, a, sizeof(a))) != TDM_OK)
		return ret;
	size_t n = pkt_writer_finish(&w);
	if ((ret = tsig_sign(ctx, buf + 2, &n, MSG_CAP - 2, (uint64_t)time(NULL))) != TDM_OK)
		return ret;
	pkt_put16(buf, (uint16_t)n);
	*len = n + 2;
	return TDM_OK;
}

/* Reads exactly want octets into buf before the deadline. */
static int read_full(int fd, uint8_t *buf, size_t want, int64_t deadline)
{
	size_t got = 0;
	while (got < want) {
		ssize_t r = recv(fd, buf + got, want - got, 0);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == 0)
			return TDM_EMALF;   /* closed by the server in the middle of an answer */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		int ret = netwait(fd, POLLIN, deadline);
		if (ret != TDM_OK)
			return ret;
	}
	return TDM_OK;
}

/* One exchange. TDM_OK when the answer was read and judged (a bad rcode or TSIG counted in
 * c->failures); anything else stops the run. */
static int exchange(client_t *c, unsigned long i)
{
	uint8_t req[MSG_CAP], resp[PKT_MAXLEN], lenbuf[2];
	size_t len;
	tsig_ctx_t ctx;
	tsig_ctx_init(&ctx, &c->key);
	int64_t deadline = clock_us() + c->timeout_us;
	int ret = build_update(c, &ctx, i, req, &len);
	if (ret == TDM_OK)
		ret = netwait_send_all(c->fd, req, len, 0, deadline);
	if (ret == TDM_OK)
		ret = read_full(c->fd, lenbuf, 2, deadline);
	size_t n = pkt_get16(lenbuf);
	if (ret == TDM_OK && n < PKT_HEADER_LEN)
		ret = TDM_EMALF;
	if (ret == TDM_OK)
		ret = read_full(c->fd, resp, n, deadline);
	if (ret != TDM_OK) {
		snprintf(c->why, sizeof(c->why), "update %lu: %s", i, tdm_strerror(ret));
		tsig_ctx_clear(&ctx);
		return ret;
	}
	if (pkt_id(resp) != (uint16_t)(i + 1) || !(pkt_flags(resp) & PKT_FLAG_QR) ||
	    pkt_opcode(resp) != PKT_OPCODE_UPDATE) {
		snprintf(c->why, sizeof(c->why), "update %lu: answer with id %u, flags 0x%04x", i, pkt_id(resp),
		         pkt_flags(resp));
		tsig_ctx_clear(&ctx);
		return TDM_EMALF;
	}
	int vret = tsig_verify(&ctx, resp, n, (uint64_t)time(NULL));
	if (pkt_rcode(resp) != PKT_RCODE_NOERROR) {
		char what[32];
		snprintf(what, sizeof(what), "%d", pkt_rcode(resp));
		fail_note(c, "update %lu: rcode %s", i, what);
	} else if (vret != TDM_OK) {
		fail_note(c, "update %lu: answer's TSIG: %s", i, tdm_strerror(vret));
	}
	tsig_ctx_clear(&ctx);
	return TDM_OK;
}

static double cpu_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int parse_seconds(const char *text, long *out)
{
	char *end;
	long t = strtol(text, &end, 10);
	if (*end != '\0' || t <= 0 || t > 3600)
		return TDM_EINVAL;
	*out = t;
	return TDM_OK;
}

int main(int argc, char **argv)
{
	if (argc < 9 || argc > 11) {
		fprintf(stderr, "usage: updclient ADDR PORT ZONE KEYNAME ALGORITHM SECRET_HEX N TAG "
		        "[TIMEOUT_S [LIMIT_S]]\n");
		return 2;
	}
	static uint8_t secret[TSIG_SECRET_MAX];
	size_t secret_len = 0;
	client_t c = { .fd = -1, .zone_text = argv[3], .tag = argv[8], .timeout_us = 30 * 1000000LL };
	char *end;
	unsigned long n = strtoul(argv[7], &end, 10);
	if (*end != '\0' || n == 0 || n > 65535) {   /* IDs 1..n, one per update */
		fprintf(stderr, "updclient: N must be 1..65535\n");
		return 2;
	}
	long timeout_s = 30, limit_s = 0;
	if ((argc >= 10 && parse_seconds(argv[9], &timeout_s) != TDM_OK) ||
	    (argc == 11 && parse_seconds(argv[10], &limit_s) != TDM_OK)) {
		fprintf(stderr, "updclient: TIMEOUT_S and LIMIT_S must be 1..3600\n");
		return 2;
	}
	c.timeout_us = timeout_s * 1000000LL;
	if (strlen(c.tag) > 32 || name_from_text(argv[3], NULL, c.zone) < 0 ||
	    hex_decode(argv[6], secret, sizeof(secret), &secret_len) != TDM_OK ||
	    tsig_key_init(&c.key, argv[4], argv[5], secret, secret_len) != TDM_OK) {
		fprintf(stderr, "updclient: bad zone, key name, algorithm, secret or tag\n");
		return 2;
	}
	int fd = open_conn(argv[1], argv[2], clock_us() + c.timeout_us);
	if (fd < 0) {
		fprintf(stderr, "updclient: connecting to %s port %s: %s\n", argv[1], argv[2], tdm_strerror(fd));
		return 1;
	}
	c.fd = fd;
	unsigned long done = 0;
	const char *stopped = "";
	double c0 = cpu_seconds();
	int64_t t0 = clock_us(), stop_at = limit_s ? t0 + limit_s * 1000000LL : INT64_MAX;
	int64_t slowest = 0;   /* the longest one exchange took (a server stalling now and then) */
	for (; done < n; done++) {
		int64_t a = clock_us();
		if (a >= stop_at) {
			stopped = "limit";
			break;
		}
		if (exchange(&c, done) != TDM_OK) {
			stopped = "error";
			break;
		}
		if (clock_us() - a > slowest)
			slowest = clock_us() - a;
	}
	int64_t t1 = clock_us();
	double c1 = cpu_seconds();
	close(fd);
	for (char *p = c.why; *p; p++)   /* kept valid JSON whatever tdm_strerror says */
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = ' ';
	printf("{\"updates\": %lu, \"answered\": %lu, \"failures\": %lu, \"seconds\": %.6f, "
	       "\"cpu_seconds\": %.6f, \"slowest_ms\": %.3f, \"stopped\": \"%s\", \"why\": \"%s\"}\n", n,
	       done, c.failures, (double)(t1 - t0) / 1e6, c1 - c0, (double)slowest / 1e3, stopped, c.why);
	return c.failures == 0 && strcmp(stopped, "error") != 0 ? 0 : 1;
}
