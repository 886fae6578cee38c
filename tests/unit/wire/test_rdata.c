/* tests/unit/wire/test_rdata.c -- rdata checked against its type's layout before it enters a zone */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "wire/rdata.h"

/* rdata_check of type on the octets given (a string literal, with its length). */
#define OK(type, lit) check_ok(type, (const uint8_t *)(lit), sizeof(lit) - 1, __LINE__)
#define BAD(type, lit) check_bad(type, (const uint8_t *)(lit), sizeof(lit) - 1, __LINE__)

static void check_ok(uint16_t type, const uint8_t *rd, size_t len, int line)
{
	const char *why = NULL;
	int ret = rdata_check(type, rd, len, &why);
	if (ret != TDM_OK)
		fail_msg("line %d: type %u refused (%s)", line, type, why ? why : "?");
}

static void check_bad(uint16_t type, const uint8_t *rd, size_t len, int line)
{
	const char *why = NULL;
	if (rdata_check(type, rd, len, &why) != TDM_EMALF)
		fail_msg("line %d: type %u accepted", line, type);
	if (why == NULL || why[0] == '\0')
		fail_msg("line %d: no reason given", line);
}

/* The reported case: a CNAME or DNAME with empty rdata (answering it read past the record). */
static void test_empty_rdata_of_types_with_names(void **state)
{
	BAD(PKT_TYPE_CNAME, "");
	BAD(39, "");                /* DNAME */
	BAD(PKT_TYPE_NS, "");
	BAD(PKT_TYPE_PTR, "");
	BAD(PKT_TYPE_MX, "");
	BAD(PKT_TYPE_SOA, "");
	BAD(PKT_TYPE_SRV, "");
	OK(PKT_TYPE_CNAME, "\x03www\x07" "example\x00");
	OK(39, "\x00");             /* DNAME to the root is a name */
}

static void test_fixed_fields_exact(void **state)
{
	OK(PKT_TYPE_A, "\x0a\x00\x00\x01");
	BAD(PKT_TYPE_A, "\x0a\x00\x00");
	BAD(PKT_TYPE_A, "\x0a\x00\x00\x01\x02");
	OK(PKT_TYPE_AAAA, "0123456789abcdef");
	BAD(PKT_TYPE_AAAA, "0123456789abcde");
	BAD(PKT_TYPE_MX, "\x00");                         /* preference cut */
	BAD(PKT_TYPE_MX, "\x00\x0a");                     /* no exchange */
	OK(PKT_TYPE_MX, "\x00\x0a\x04mail\x00");
	BAD(PKT_TYPE_MX, "\x00\x0a\x04mail\x00X");        /* left over */
	BAD(PKT_TYPE_SRV, "\x00\x01\x00\x02\x00\x35");    /* no target */
	OK(PKT_TYPE_SRV, "\x00\x01\x00\x02\x00\x35\x00");
	/* SOA: two names and 20 octets, exactly. */
	OK(PKT_TYPE_SOA, "\x00\x00" "01234567890123456789");
	BAD(PKT_TYPE_SOA, "\x00\x00" "0123456789012345678");
}

static void test_names_must_be_whole_and_uncompressed(void **state)
{
	BAD(PKT_TYPE_CNAME, "\x03www");            /* no root label */
	BAD(PKT_TYPE_CNAME, "\xc0\x0c");           /* a pointer: nothing to point at here */
	BAD(PKT_TYPE_CNAME, "\x40" "aaaa");        /* label of 64 */
	BAD(PKT_TYPE_NS, "\x03www\x00\x00");        /* octets after the name */
}

static void test_character_strings(void **state)
{
	OK(PKT_TYPE_TXT, "\x03" "abc");
	OK(PKT_TYPE_TXT, "\x00");                  /* one empty string */
	OK(PKT_TYPE_TXT, "\x01" "a\x02" "bc");
	BAD(PKT_TYPE_TXT, "");                     /* at least one string (RFC 1035 3.3.14) */
	BAD(PKT_TYPE_TXT, "\x05" "abc");
	OK(13, "\x01" "a\x01" "b");               /* HINFO */
	BAD(13, "\x01" "a");
	BAD(13, "\x01" "a\x01" "bX");
}

static void test_dnssec_types(void **state)
{
	OK(43, "\x12\x34\x08\x02" "digest");       /* DS */
	BAD(43, "\x12\x34");
	BAD(48, "\x01\x01");                       /* DNSKEY */
	OK(48, "\x01\x01\x03\x08" "key");
	/* NSEC3PARAM: alg, flags, iterations, salt length, salt -- exactly. */
	OK(51, "\x01\x00\x00\x00\x00");
	OK(51, "\x01\x00\x00\x05\x02\xca\xfe");
	BAD(51, "\x01\x00\x00");
	BAD(51, "\x01\x00\x00\x05\x03\xca\xfe");
	BAD(51, "\x01\x00\x00\x05\x01\xca\xfe");
	/* NSEC3: ..., hash length, hash, bitmap. */
	OK(50, "\x01\x00\x00\x00\x00\x02\xaa\xbb");
	OK(50, "\x01\x00\x00\x00\x00\x02\xaa\xbb\x00\x01\x40");
	BAD(50, "\x01\x00\x00\x00\x00\x00");       /* empty hash */
	BAD(50, "\x01\x00\x00\x00\x00\x05\xaa");   /* hash past the end */
	BAD(50, "\x01\x00\x00\x00\x00\x01\xaa\x00\x00"); /* a window of 0 octets */
	/* NSEC: next name, bitmap. */
	OK(47, "\x01" "a\x00\x00\x01\x40");
	BAD(47, "\x01" "a\x00\x00\x21" "0123456789012345678901234567890123");   /* 33 octets */
	BAD(47, "\x01" "a\x00\x01\x01\x40\x00\x01\x40");   /* windows out of order */
	BAD(47, "\x01" "a\x00\x00\x02\x40");               /* window past the end */
	/* RRSIG: 18 octets, signer, signature. */
	OK(46, "012345678901234567\x00" "sig");
	BAD(46, "01234567890123456");
}

static void test_other_open_layouts(void **state)
{
	OK(29, "0123456789abcdef");                /* LOC */
	BAD(29, "0123456789abcde");
	OK(257, "\x00\x05issue" "ca.example");     /* CAA */
	BAD(257, "\x00\x00");
	BAD(257, "\x00\x09issue");
	OK(64, "\x00\x01\x00\x00\x01\x00\x03\x02h2\x00\x03\x00\x02\x01\xbb");   /* SVCB */
	BAD(64, "\x00\x01\x00\x00\x03\x00\x02\x01\xbb\x00\x01\x00\x03\x02h2");  /* keys out of order */
	BAD(64, "\x00\x01\x00\x00\x01\x00\x09\x02h2");                         /* value past the end */
	OK(45, "\x0a\x01\x02\x0a\x00\x00\x01" "key"); /* IPSECKEY, IPv4 gateway */
	BAD(45, "\x0a\x01\x02\x0a\x00");
	BAD(45, "\x0a\x07\x02");                   /* unknown gateway type */
	OK(42, "\x00\x01\x18\x03\xc0\x00\x02");    /* APL */
	BAD(42, "\x00\x01\x18\x05\xc0\x00\x02");
}

static void test_empty_allowed_where_the_type_allows_it(void **state)
{
	OK(10, "");                                /* NULL */
	OK(65280, "");                             /* unknown types: RFC 3597 */
	OK(65280, "anything");
}

static void test_meta_types_are_not_zone_data(void **state)
{
	BAD(0, "");
	BAD(41, "");                               /* OPT */
	BAD(250, "\x00");                          /* TSIG */
	BAD(252, "");                              /* AXFR */
	BAD(255, "");                              /* ANY */
	BAD(128, "x");
	assert_true(rdata_is_meta(251));
	assert_false(rdata_is_meta(PKT_TYPE_A));
}

static void test_check_record_names_the_record_and_refuses_outside(void **state)
{
	uint8_t apex[NAME_MAXLEN], owner[NAME_MAXLEN], out[NAME_MAXLEN];
	char why[256];
	name_from_text("example.", NULL, apex);
	name_from_text("www.example.", NULL, owner);
	name_from_text("www.other.", NULL, out);
	const uint8_t a[4] = { 10, 0, 0, 1 };
	assert_int_equal(rdata_check_record(apex, owner, PKT_TYPE_A, a, 4, why, sizeof(why)), TDM_OK);
	assert_int_equal(rdata_check_record(apex, owner, PKT_TYPE_CNAME, a, 0, why, sizeof(why)),
	                 TDM_EMALF);
	assert_string_equal(why, "record www.example. CNAME: empty rdata");
	assert_int_equal(rdata_check_record(apex, out, PKT_TYPE_A, a, 4, why, sizeof(why)), TDM_EMALF);
	assert_string_equal(why, "record www.other. A: outside the zone");
	/* A name with a newline in it is logged escaped, on one line. */
	uint8_t evil[NAME_MAXLEN];
	name_from_text("a\\010b.example.", NULL, evil);
	assert_int_equal(rdata_check_record(apex, evil, PKT_TYPE_CNAME, a, 0, why, sizeof(why)),
	                 TDM_EMALF);
	assert_null(strchr(why, '\n'));
	assert_non_null(strstr(why, "a\\010b.example."));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_rdata_of_types_with_names),
		cmocka_unit_test(test_fixed_fields_exact),
		cmocka_unit_test(test_names_must_be_whole_and_uncompressed),
		cmocka_unit_test(test_character_strings),
		cmocka_unit_test(test_dnssec_types),
		cmocka_unit_test(test_other_open_layouts),
		cmocka_unit_test(test_empty_allowed_where_the_type_allows_it),
		cmocka_unit_test(test_meta_types_are_not_zone_data),
		cmocka_unit_test(test_check_record_names_the_record_and_refuses_outside),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
