/* tests/unit/lib/test_sockaddr.c -- "address@port" parsing and formatting, ACL prefixes and matching */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/error.h"
#include "lib/sockaddr.h"

static void check_round_trip(const char *text, uint16_t def, const char *expect, int family, uint16_t port)
{
	sockaddr_t sa;
	char buf[SOCKADDR_STRLEN];
	assert_int_equal(sockaddr_parse(&sa, text, def), TDM_OK);
	assert_int_equal(sockaddr_family(&sa), family);
	assert_int_equal(sockaddr_port(&sa), port);
	assert_int_equal(sa.len, family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	assert_string_equal(sockaddr_format(&sa, buf, sizeof(buf)), expect);
}

static void test_parse_v4(void **state)
{
	check_round_trip("192.0.2.1", 53, "192.0.2.1@53", AF_INET, 53);
	check_round_trip("192.0.2.1@5300", 53, "192.0.2.1@5300", AF_INET, 5300);
	check_round_trip("127.0.0.1@0", 53, "127.0.0.1@0", AF_INET, 0);
	check_round_trip("10.1.2.3@65535", 0, "10.1.2.3@65535", AF_INET, 65535);
	check_round_trip("0.0.0.0", 8053, "0.0.0.0@8053", AF_INET, 8053);

	sockaddr_t sa;
	assert_int_equal(sockaddr_parse(&sa, "198.51.100.7@853", 53), TDM_OK);
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)&sa.ss;
	assert_int_equal(ntohl(in4->sin_addr.s_addr), 0xc6336407);
	assert_int_equal(ntohs(in4->sin_port), 853);
}

static void test_parse_v6(void **state)
{
	check_round_trip("::1", 53, "::1@53", AF_INET6, 53);
	check_round_trip("::1@5300", 53, "::1@5300", AF_INET6, 5300);
	check_round_trip("2001:DB8::1@53", 0, "2001:db8::1@53", AF_INET6, 53);
	check_round_trip("::ffff:192.0.2.1", 53, "::ffff:192.0.2.1@53", AF_INET6, 53);
	check_round_trip("fe80::1%7@53", 53, "fe80::1%7@53", AF_INET6, 53);

	sockaddr_t sa;
	assert_int_equal(sockaddr_parse(&sa, "2001:db8::53@5353", 53), TDM_OK);
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa.ss;
	assert_int_equal(in6->sin6_addr.s6_addr[0], 0x20);
	assert_int_equal(in6->sin6_addr.s6_addr[1], 0x01);
	assert_int_equal(in6->sin6_addr.s6_addr[15], 0x53);
	assert_int_equal(in6->sin6_scope_id, 0);
}

static void test_parse_bad(void **state)
{
	static const char *bad[] = {
		"", "1.2.3", "1.2.3.4@", "1.2.3.4@65536", "1.2.3.4@-1", "1.2.3.4@5x", "[::1]:53", "[::1]",
		"::1@53@54", "example.com", "1.2.3.4 ", " 1.2.3.4", "256.1.1.1", "@53", "1.2.3.4/8",
		"::1::2", "fe80::1%", "fe80::1%nosuchinterface0", "01.2.3.4", "1.2.3.4@+53",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sockaddr_t sa;
		memset(&sa, 0xab, sizeof(sa));
		if (sockaddr_parse(&sa, bad[i], 53) != TDM_EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(sa.len, 0);
	}
	sockaddr_t sa;
	assert_int_equal(sockaddr_parse(&sa, NULL, 53), TDM_EINVAL);
}

static void test_unset(void **state)
{
	sockaddr_t sa = { .len = 0 };
	char buf[SOCKADDR_STRLEN];
	assert_int_equal(sockaddr_family(&sa), AF_UNSPEC);
	assert_int_equal(sockaddr_port(&sa), 0);
	assert_string_equal(sockaddr_format(&sa, buf, sizeof(buf)), "(unset)");
	/* A short buffer is truncated but stays a string. */
	assert_int_equal(sockaddr_parse(&sa, "2001:db8:1:2:3:4:5:6@65535", 53), TDM_OK);
	char small[8];
	assert_string_equal(sockaddr_format(&sa, small, sizeof(small)), "2001:db");
}

static void test_prefix_parse(void **state)
{
	addr_prefix_t p;
	assert_int_equal(addr_prefix_parse(&p, "10.0.0.0/8"), TDM_OK);
	assert_int_equal(p.prefix, 8);
	assert_int_equal(sockaddr_family(&p.addr), AF_INET);
	assert_int_equal(addr_prefix_parse(&p, "192.0.2.1"), TDM_OK);
	assert_int_equal(p.prefix, 32);
	assert_int_equal(addr_prefix_parse(&p, "2001:db8::/32"), TDM_OK);
	assert_int_equal(p.prefix, 32);
	assert_int_equal(sockaddr_family(&p.addr), AF_INET6);
	assert_int_equal(addr_prefix_parse(&p, "::1"), TDM_OK);
	assert_int_equal(p.prefix, 128);
	assert_int_equal(addr_prefix_parse(&p, "0.0.0.0/0"), TDM_OK);
	assert_int_equal(p.prefix, 0);
	assert_int_equal(addr_prefix_parse(&p, "::/0"), TDM_OK);
	assert_int_equal(p.prefix, 0);
	assert_int_equal(addr_prefix_parse(&p, "192.0.2.128/25"), TDM_OK);
	assert_int_equal(p.prefix, 25);

	static const char *bad[] = {
		"10.0.0.0/33", "10.1.2.3/8", "192.0.2.129/25", "2001:db8::/129", "2001:db8::1/64", "10.0.0.0/",
		"10.0.0.0/x", "10.0.0.0/-1", "1.2.3.4@53", "10.0.0.0@53/8", "/8", "", "10.0.0.0/8/8", "host/8",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (addr_prefix_parse(&p, bad[i]) != TDM_EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(p.addr.len, 0);
	}
}

static bool matches(const char *prefix, const char *addr)
{
	addr_prefix_t p;
	sockaddr_t sa;
	assert_int_equal(addr_prefix_parse(&p, prefix), TDM_OK);
	assert_int_equal(sockaddr_parse(&sa, addr, 53), TDM_OK);
	return addr_prefix_match(&p, &sa);
}

static void test_match_v4(void **state)
{
	assert_true(matches("10.0.0.0/8", "10.255.1.2"));
	assert_true(matches("10.0.0.0/8", "10.0.0.0@5300"));   /* the port does not matter */
	assert_false(matches("10.0.0.0/8", "11.0.0.1"));
	assert_false(matches("10.0.0.0/8", "9.255.255.255"));
	assert_true(matches("192.0.2.128/25", "192.0.2.200"));
	assert_false(matches("192.0.2.128/25", "192.0.2.127"));
	assert_true(matches("192.0.2.1", "192.0.2.1@1"));
	assert_false(matches("192.0.2.1", "192.0.2.2"));
	assert_true(matches("0.0.0.0/0", "203.0.113.9"));
	assert_false(matches("0.0.0.0/0", "2001:db8::1"));
	assert_false(matches("10.0.0.0/8", "::1"));
}

static void test_match_v6(void **state)
{
	assert_true(matches("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(matches("2001:db8::/32", "2001:db9::1"));
	assert_true(matches("2001:db8::/127", "2001:db8::1"));
	assert_false(matches("2001:db8::/127", "2001:db8::2"));
	assert_true(matches("::1", "::1@5300"));
	assert_false(matches("::1", "::2"));
	assert_true(matches("::/0", "2001:db8::1"));
	assert_false(matches("::/0", "127.0.0.1"));
	assert_false(matches("2001:db8::/32", "32.1.13.184"));
}

static void test_match_mapped(void **state)
{
	/* A dual-stack socket shows IPv4 clients as IPv4-mapped IPv6 addresses. */
	assert_true(matches("192.0.2.0/24", "::ffff:192.0.2.55"));
	assert_false(matches("192.0.2.0/24", "::ffff:192.0.3.55"));
	assert_true(matches("0.0.0.0/0", "::ffff:10.0.0.1"));
	assert_false(matches("192.0.2.0/24", "::192.0.2.55"));    /* deprecated compatible form: not mapped */
	assert_false(matches("192.0.2.0/24", "64:ff9b::192.0.2.55"));
	/* Written the other way round: an IPv4 client against a prefix in the mapped form. */
	assert_true(matches("::ffff:192.0.2.0/120", "192.0.2.7"));
	assert_false(matches("::ffff:192.0.2.0/120", "192.0.3.7"));
	assert_true(matches("::ffff:192.0.2.0/120", "::ffff:192.0.2.7"));
	/* An IPv6 prefix stays IPv6 for a mapped address: ::/0 covers every IPv6 socket address. */
	assert_true(matches("::/0", "::ffff:10.0.0.1"));

	addr_prefix_t p;
	sockaddr_t unset = { .len = 0 };
	assert_int_equal(addr_prefix_parse(&p, "0.0.0.0/0"), TDM_OK);
	assert_false(addr_prefix_match(&p, &unset));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_unset),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_match_v4),
		cmocka_unit_test(test_match_v6),
		cmocka_unit_test(test_match_mapped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
