/* tests/unit/wire/test_compress_hops.c -- compression pointers: how many one name may follow (issue 8.2) */
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

static uint8_t msg[PKT_MAXLEN];

/* A header, then "\x01a\x00" at 12, then `hops` pointers each to the one before (the first to the
 * name): the last pointer starts a name that takes `hops` jumps to read. Returns its offset. */
static size_t chain(size_t hops, size_t *len)
{
	memset(msg, 0, PKT_HEADER_LEN);
	size_t p = PKT_HEADER_LEN, prev = p;
	memcpy(msg + p, "\x01" "a\x00", 3);
	p += 3;
	for (size_t i = 0; i < hops; i++) {
		pkt_put16(msg + p, (uint16_t)(0xC000 | prev));
		prev = p;
		p += 2;
	}
	*len = p;
	return prev;
}

static void test_pointer_chain_up_to_the_cap(void **state)
{
	(void)state;
	uint8_t out[NAME_MAXLEN];
	size_t len, pos = chain(NAME_MAXHOPS, &len), start = pos;
	assert_int_equal(name_unpack(msg, len, &pos, out), 3);
	assert_memory_equal(out, "\x01" "a\x00", 3);
	assert_int_equal(pos, start + 2);   /* past the first pointer, not where the jumps led */
}

static void test_pointer_chain_over_the_cap(void **state)
{
	(void)state;
	uint8_t out[NAME_MAXLEN];
	size_t len, pos = chain(NAME_MAXHOPS + 1, &len);
	assert_int_equal(name_unpack(msg, len, &pos, out), TDM_ECOMPRESS);
	/* The longest chain a message can hold: refused after the cap, not walked to its end. */
	pos = chain((PKT_MAXLEN - PKT_HEADER_LEN - 3) / 2, &len);
	assert_int_equal(name_unpack(msg, len, &pos, out), TDM_ECOMPRESS);
}

/* What writers do: each name adds a label to one written before and points at it. The deepest such
 * name (127 labels, 255 octets) follows 126 pointers and must still be read. */
static void test_deepest_real_name(void **state)
{
	(void)state;
	uint8_t out[NAME_MAXLEN];
	memset(msg, 0, PKT_HEADER_LEN);
	size_t p = PKT_HEADER_LEN, prev = p;
	memcpy(msg + p, "\x01" "a\x00", 3);
	p += 3;
	for (int i = 1; i < 127; i++) {
		size_t here = p;
		msg[p++] = 1;
		msg[p++] = (uint8_t)('a' + i % 26);
		pkt_put16(msg + p, (uint16_t)(0xC000 | prev));
		p += 2;
		prev = here;
	}
	size_t pos = prev;
	assert_int_equal(name_unpack(msg, p, &pos, out), 255);
	assert_int_equal(name_labels(out), 127);
	assert_int_equal(pos, prev + 4);
}

/* A record whose owner is a chain over the cap is refused as a whole; one at the cap is read. */
static void test_record_owner_chain(void **state)
{
	(void)state;
	pkt_rr_t rr;
	size_t len, pos = chain(NAME_MAXHOPS + 1, &len);
	memset(msg + len, 0, 10);
	pkt_put16(msg + len, PKT_TYPE_A);
	len += 10;
	/* The owner is the last pointer of the chain; the record's fields follow it. */
	size_t p = pos;
	assert_int_equal(pkt_read_rr(msg, len, &p, &rr), TDM_ECOMPRESS);
	pos = chain(NAME_MAXHOPS, &len);
	memset(msg + len, 0, 10);
	pkt_put16(msg + len, PKT_TYPE_A);
	len += 10;
	p = pos;
	assert_int_equal(pkt_read_rr(msg, len, &p, &rr), TDM_OK);
	assert_int_equal(rr.type, PKT_TYPE_A);
	assert_int_equal(p, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pointer_chain_up_to_the_cap),
		cmocka_unit_test(test_pointer_chain_over_the_cap),
		cmocka_unit_test(test_deepest_real_name),
		cmocka_unit_test(test_record_owner_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
