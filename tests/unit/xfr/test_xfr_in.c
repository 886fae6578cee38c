/* tests/unit/xfr/test_xfr_in.c -- transfers in from a hostile primary: bounded, and checked record by record */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/netwait.h"
#include "wire/pkt.h"
#include "xfr/in.h"

/*
 * A primary on 127.0.0.1 (one thread, one connection): it reads the request and answers as `mode`
 * says, until the client goes away. Every wait of the test is bounded: the client's (xfr_fetch's)
 * by its timeout and deadline, the primary's by the client closing.
 */
enum { M_GOOD, M_ENDLESS, M_EMPTY_CNAME, M_OUTSIDE, M_DRIP, M_SLOW_MESSAGES };

typedef struct {
	int lfd, mode;
	sockaddr_t addr;
	pthread_t thread;
} primary_t;

static const uint8_t apex[] = "\x07" "example";   /* with its terminating 0 */

static void soa_rdata(uint8_t *rd, uint32_t serial)
{
	memset(rd, 0, 22);   /* "." "." serial refresh retry expire minimum */
	pkt_put32(rd + 2, serial);
	pkt_put32(rd + 6, 3600);
	pkt_put32(rd + 10, 600);
	pkt_put32(rd + 14, 86400);
	pkt_put32(rd + 18, 300);
}

/* One answer message of the records the callback writes. */
typedef void (*fill_fn)(pkt_writer_t *w, int n);

static bool send_msg(int fd, uint16_t id, fill_fn fill, int n)
{
	static __thread uint8_t buf[PKT_MAXLEN + 2];
	pkt_writer_t w;
	pkt_writer_init(&w, buf + 2, PKT_MAXLEN);
	pkt_write_header(&w, id, PKT_FLAG_QR | PKT_FLAG_AA);
	pkt_write_question(&w, apex, PKT_TYPE_AXFR, PKT_CLASS_IN);
	fill(&w, n);
	size_t len = pkt_writer_finish(&w);
	pkt_put16(buf, (uint16_t)len);
	return send(fd, buf, len + 2, MSG_NOSIGNAL) == (ssize_t)(len + 2);
}

static void put_soa(pkt_writer_t *w, int n)
{
	uint8_t rd[22];
	soa_rdata(rd, 7);
	pkt_write_rr(w, apex, 0, PKT_TYPE_SOA, PKT_CLASS_IN, 3600, rd, 22);
}

static void put_a(pkt_writer_t *w, int n)
{
	static const uint8_t www[] = "\x03" "www\x07" "example";
	for (int i = 0; i < n; i++) {
		uint8_t a[4] = { 10, 0, (uint8_t)(i >> 8), (uint8_t)i };
		pkt_write_rr(w, www, 0, PKT_TYPE_A, PKT_CLASS_IN, 3600, a, 4);
	}
}

static void put_empty_cname(pkt_writer_t *w, int n)
{
	static const uint8_t bad[] = "\x03" "bad\x07" "example";
	pkt_write_rr(w, bad, 0, PKT_TYPE_CNAME, PKT_CLASS_IN, 3600, NULL, 0);
}

static void put_outside(pkt_writer_t *w, int n)
{
	static const uint8_t other[] = "\x03" "www\x05" "other";
	uint8_t a[4] = { 10, 0, 0, 1 };
	pkt_write_rr(w, other, 0, PKT_TYPE_A, PKT_CLASS_IN, 3600, a, 4);
}

static void pause_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* The SOA, one message of the records fill writes, the SOA again. */
static void three(int fd, uint16_t id, fill_fn fill, int n)
{
	if (send_msg(fd, id, put_soa, 0) && send_msg(fd, id, fill, n))
		send_msg(fd, id, put_soa, 0);
}

static void answer(primary_t *p, int fd, uint16_t id)
{
	switch (p->mode) {
	case M_GOOD:
		three(fd, id, put_a, 3);
		break;
	case M_ENDLESS:   /* never the closing SOA */
		if (send_msg(fd, id, put_soa, 0))
			while (send_msg(fd, id, put_a, 100))
				;
		break;
	case M_EMPTY_CNAME:
		three(fd, id, put_empty_cname, 1);
		break;
	case M_OUTSIDE:
		three(fd, id, put_outside, 1);
		break;
	case M_DRIP: {    /* a length, then a byte every 100 ms: each read makes progress, none ends */
		uint8_t head[2] = { 0x01, 0x00 };
		if (send(fd, head, 2, MSG_NOSIGNAL) != 2)
			break;
		for (int i = 0; i < 256; i++) {
			pause_ms(100);
			if (send(fd, "x", 1, MSG_NOSIGNAL) != 1)
				break;
		}
		break;
	}
	case M_SLOW_MESSAGES:   /* whole messages, quickly each, one record every 100 ms for ever */
		if (send_msg(fd, id, put_soa, 0))
			for (int i = 0; i < 600 && send_msg(fd, id, put_a, 1); i++)
				pause_ms(100);
		break;
	}
}

static void *primary_main(void *arg)
{
	primary_t *p = arg;
	int fd = accept(p->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	uint8_t buf[PKT_MAXLEN];
	size_t got = 0;
	/* The request: its length, then the message (the id is what the answers need). */
	while (got < 4) {
		ssize_t r = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (r <= 0)
			goto out;
		got += (size_t)r;
	}
	answer(p, fd, pkt_get16(buf + 2));
	/* Wait for the client to close (it decides when it has had enough). */
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
out:
	close(fd);
	return NULL;
}

static void primary_start(primary_t *p, int mode)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	p->mode = mode;
	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->lfd >= 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(p->lfd, 1), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sin, &len), 0);
	memset(&p->addr, 0, sizeof(p->addr));
	memcpy(&p->addr.ss, &sin, sizeof(sin));
	p->addr.len = sizeof(sin);
	assert_int_equal(pthread_create(&p->thread, NULL, primary_main, p), 0);
}

static void primary_stop(primary_t *p)
{
	pthread_join(p->thread, NULL);
	close(p->lfd);
}

static int fetch(int mode, unsigned timeout_ms, int64_t deadline_ms, uint64_t max_records,
                 xfr_result_t *r)
{
	primary_t p;
	primary_start(&p, mode);
	xfr_peer_t peer = { .zone = apex, .primary = &p.addr, .timeout_ms = timeout_ms,
	                    .deadline = deadline_ms ? clock_us() + deadline_ms * 1000 : 0,
	                    .max_records = max_records };
	int ret = xfr_fetch(&peer, NULL, r);
	primary_stop(&p);
	return ret;
}

static void test_a_good_axfr_is_read(void **state)
{
	xfr_result_t r;
	assert_int_equal(fetch(M_GOOD, 2000, 0, 0, &r), TDM_OK);
	assert_true(r.full);
	assert_int_equal(r.serial, 7);
	assert_int_equal(r.read_records, 5);
	xfr_result_clear(&r);
}

static void test_an_endless_axfr_stops_at_max_records(void **state)
{
	xfr_result_t r;
	assert_int_equal(fetch(M_ENDLESS, 2000, 0, 5000, &r), TDM_ERANGE);
	assert_non_null(strstr(r.error, "max-zone-records 5000"));
	assert_int_equal(r.read_records, 5001);
	xfr_result_clear(&r);
}

static void test_a_record_of_the_wrong_shape_fails_the_transfer_naming_it(void **state)
{
	xfr_result_t r;
	assert_int_equal(fetch(M_EMPTY_CNAME, 2000, 0, 0, &r), TDM_EMALF);
	assert_string_equal(r.error, "record bad.example. CNAME: empty rdata");
	xfr_result_clear(&r);
	assert_int_equal(fetch(M_OUTSIDE, 2000, 0, 0, &r), TDM_EMALF);
	assert_string_equal(r.error, "record www.other. A: outside the zone");
	xfr_result_clear(&r);
}

static void test_a_message_dripped_a_byte_at_a_time_times_out(void **state)
{
	xfr_result_t r;
	/* Each byte comes well within 500 ms; the message as a whole does not. */
	assert_int_equal(fetch(M_DRIP, 500, 0, 0, &r), TDM_ETIMEDOUT);
	assert_non_null(strstr(r.error, "no answer"));
	xfr_result_clear(&r);
}

static void test_a_transfer_past_its_deadline_ends(void **state)
{
	xfr_result_t r;
	/* Every message comes in time; the transfer as a whole does not. */
	assert_int_equal(fetch(M_SLOW_MESSAGES, 500, 800, 0, &r), TDM_ETIMEDOUT);
	assert_non_null(strstr(r.error, "xfr-max-time"));
	xfr_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_good_axfr_is_read),
		cmocka_unit_test(test_an_endless_axfr_stops_at_max_records),
		cmocka_unit_test(test_a_record_of_the_wrong_shape_fails_the_transfer_naming_it),
		cmocka_unit_test(test_a_message_dripped_a_byte_at_a_time_times_out),
		cmocka_unit_test(test_a_transfer_past_its_deadline_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
