/* tests/unit/rrl/test_rrl.c -- response rate limiting: buckets per network, kind and name; slip; exemptions */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "lib/sockaddr.h"
#include "rrl/rrl.h"
#include "wire/pkt.h"

static sockaddr_t addr(const char *text)
{
	sockaddr_t sa;
	assert_int_equal(sockaddr_parse(&sa, text, 53), TDM_OK);
	return sa;
}

/* An answer: header with rcode/flags/counts, the question qname A, then one authority SOA owned by
 * soa_owner when nscount > 0. */
static size_t answer(uint8_t *buf, const char *qname, int rcode, uint16_t flags, uint16_t an,
                     const char *soa_owner)
{
	pkt_writer_t w;
	uint8_t q[NAME_MAXLEN], o[NAME_MAXLEN];
	name_from_text(qname, NULL, q);
	pkt_writer_init(&w, buf, 512);
	assert_int_equal(pkt_write_header(&w, 1, (uint16_t)(PKT_FLAG_QR | flags | rcode)), TDM_OK);
	assert_int_equal(pkt_write_question(&w, q, PKT_TYPE_A, PKT_CLASS_IN), TDM_OK);
	static const uint8_t a[4] = { 192, 0, 2, 1 };
	for (uint16_t i = 0; i < an; i++)
		assert_int_equal(pkt_write_rr(&w, q, 0, PKT_TYPE_A, PKT_CLASS_IN, 60, a, 4), TDM_OK);
	if (soa_owner != NULL) {
		name_from_text(soa_owner, NULL, o);
		pkt_begin_section(&w, PKT_SECTION_AUTHORITY);
		static const uint8_t soa[] = "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00"
		                             "\x00\x01\x00\x00\x00\x01";
		assert_int_equal(pkt_write_rr(&w, o, 0, PKT_TYPE_SOA, PKT_CLASS_IN, 60, soa, 22), TDM_OK);
	}
	return pkt_writer_finish(&w);
}

static rrl_t *limiter(unsigned rate, unsigned slip, const addr_prefix_t *exempt, size_t n)
{
	rrl_conf_t c = { .rate = rate, .slip = slip, .ipv4_prefix = 24, .ipv6_prefix = 56,
	                 .table_size = 4096, .exempt = exempt, .exempt_count = n };
	rrl_t *r = rrl_new(&c);
	assert_non_null(r);
	return r;
}

static void test_off_when_rate_zero(void **state)
{
	rrl_conf_t c = { .rate = 0 };
	assert_null(rrl_new(&c));
	uint8_t buf[512];
	size_t len = answer(buf, "www.t.", 0, PKT_FLAG_AA, 1, NULL);
	sockaddr_t a = addr("192.0.2.1");
	assert_int_equal(rrl_check(NULL, &a, buf, len, 100), RRL_PASS);
}

static void test_rate_then_slip_and_drop(void **state)
{
	rrl_t *r = limiter(3, 2, NULL, 0);
	uint8_t buf[512];
	size_t len = answer(buf, "www.t.", 0, PKT_FLAG_AA, 1, NULL);
	sockaddr_t a = addr("192.0.2.1");
	for (int i = 0; i < 3; i++)
		assert_int_equal(rrl_check(r, &a, buf, len, 100), RRL_PASS);
	assert_int_equal(rrl_check(r, &a, buf, len, 100), RRL_DROP);   /* 4th: 1 over */
	assert_int_equal(rrl_check(r, &a, buf, len, 100), RRL_SLIP);   /* 5th: 2 over */
	assert_int_equal(rrl_check(r, &a, buf, len, 100), RRL_DROP);
	/* Same /24: the same bucket. Another /24: its own. */
	sockaddr_t b = addr("192.0.2.200"), c = addr("192.0.3.1");
	assert_int_equal(rrl_check(r, &b, buf, len, 100), RRL_SLIP);
	assert_int_equal(rrl_check(r, &c, buf, len, 100), RRL_PASS);
	/* The next second starts over. */
	assert_int_equal(rrl_check(r, &a, buf, len, 101), RRL_PASS);
	uint64_t dropped, slipped;
	rrl_stats(r, &dropped, &slipped);
	assert_int_equal(dropped, 2);
	assert_int_equal(slipped, 2);
	rrl_free(r);
}

static void test_negative_answers_count_per_zone(void **state)
{
	rrl_t *r = limiter(2, 0, NULL, 0);
	uint8_t b1[512], b2[512], b3[512];
	size_t l1 = answer(b1, "a.t.", PKT_RCODE_NXDOMAIN, PKT_FLAG_AA, 0, "t.");
	size_t l2 = answer(b2, "b.t.", PKT_RCODE_NXDOMAIN, PKT_FLAG_AA, 0, "t.");
	size_t l3 = answer(b3, "c.u.", PKT_RCODE_NXDOMAIN, PKT_FLAG_AA, 0, "u.");
	sockaddr_t a = addr("2001:db8::1");
	assert_int_equal(rrl_check(r, &a, b1, l1, 7), RRL_PASS);
	assert_int_equal(rrl_check(r, &a, b2, l2, 7), RRL_PASS);
	assert_int_equal(rrl_check(r, &a, b1, l1, 7), RRL_DROP);   /* slip 0: never truncated */
	assert_int_equal(rrl_check(r, &a, b3, l3, 7), RRL_PASS);   /* another zone */
	/* A positive answer for a.t. is another kind: its own bucket. */
	uint8_t b4[512];
	size_t l4 = answer(b4, "a.t.", 0, PKT_FLAG_AA, 1, NULL);
	assert_int_equal(rrl_check(r, &a, b4, l4, 7), RRL_PASS);
	/* Same /56, other host: shared; another /56: not. */
	sockaddr_t b = addr("2001:db8:0:ff::9"), c = addr("2001:db8:0:100::1");
	assert_int_equal(rrl_check(r, &b, b2, l2, 7), RRL_DROP);
	assert_int_equal(rrl_check(r, &c, b2, l2, 7), RRL_PASS);
	rrl_free(r);
}

static void test_exempt(void **state)
{
	addr_prefix_t ex;
	assert_int_equal(addr_prefix_parse(&ex, "198.51.100.0/24"), TDM_OK);
	rrl_t *r = limiter(1, 2, &ex, 1);
	uint8_t buf[512];
	size_t len = answer(buf, "www.t.", 0, PKT_FLAG_AA, 1, NULL);
	sockaddr_t a = addr("198.51.100.7");
	for (int i = 0; i < 50; i++)
		assert_int_equal(rrl_check(r, &a, buf, len, 100), RRL_PASS);
	rrl_free(r);
}

static void test_slip_keeps_header_and_question(void **state)
{
	uint8_t buf[512];
	size_t len = answer(buf, "www.t.", 0, PKT_FLAG_AA, 3, "t.");
	size_t n = rrl_slip(buf, len);
	assert_int_equal(n, PKT_HEADER_LEN + 7 + 4);
	assert_true(pkt_flags(buf) & PKT_FLAG_TC);
	assert_int_equal(pkt_qdcount(buf), 1);
	assert_int_equal(pkt_ancount(buf) + pkt_nscount(buf) + pkt_arcount(buf), 0);
	assert_int_equal(rrl_slip(buf, 5), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_when_rate_zero),
		cmocka_unit_test(test_rate_then_slip_and_drop),
		cmocka_unit_test(test_negative_answers_count_per_zone),
		cmocka_unit_test(test_exempt),
		cmocka_unit_test(test_slip_keeps_header_and_question),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
