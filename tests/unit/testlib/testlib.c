/* tests/unit/testlib/testlib.c -- what the unit tests share: names from text, records into lists, temp dirs */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "testlib/testlib.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "wire/pkt.h"

const uint8_t *N(const char *text)
{
	static uint8_t bufs[16][NAME_MAXLEN];
	static int next;
	uint8_t *b = bufs[next++ % 16];
	int ret = name_from_text(text, NULL, b);
	if (ret < 0)
		fail_msg("name_from_text(\"%s\") = %d", text, ret);
	return b;
}

int NL(const char *text)
{
	return name_length(N(text), NAME_MAXLEN);
}

void add_raw(rrlist_t *l, const char *owner, uint16_t type, uint32_t ttl, const void *rd, size_t rdlen)
{
	assert_true(rdlen <= UINT16_MAX);
	assert_int_equal(rrlist_add(l, N(owner), type, ttl, rd, (uint16_t)rdlen, 0), TDM_OK);
}

void add_name(rrlist_t *l, const char *owner, uint16_t type, uint32_t ttl, const char *target)
{
	add_raw(l, owner, type, ttl, N(target), (size_t)NL(target));
}

void add_mx(rrlist_t *l, const char *owner, uint32_t ttl, uint16_t pref, const char *target)
{
	uint8_t rd[2 + NAME_MAXLEN];
	pkt_put16(rd, pref);
	memcpy(rd + 2, N(target), (size_t)NL(target));
	add_raw(l, owner, PKT_TYPE_MX, ttl, rd, 2 + (size_t)NL(target));
}

void add_soa(rrlist_t *l, const char *owner, uint32_t ttl, uint32_t serial, uint32_t minimum)
{
	uint8_t rd[2 * NAME_MAXLEN + 20];
	size_t n = (size_t)NL("ns1.example.com.");
	memcpy(rd, N("ns1.example.com."), n);
	memcpy(rd + n, N("hostmaster.example.com."), (size_t)NL("hostmaster.example.com."));
	n += (size_t)NL("hostmaster.example.com.");
	const uint32_t timers[5] = { serial, 7200, 3600, 1209600, minimum };
	for (size_t i = 0; i < 5; i++, n += 4)
		pkt_put32(rd + n, timers[i]);
	add_raw(l, owner, PKT_TYPE_SOA, ttl, rd, n);
}

char *test_tmpdir(const char *prefix)
{
	char *dir = NULL;
	assert_true(asprintf(&dir, "/tmp/tdm-%s-XXXXXX", prefix) > 0);
	assert_non_null(mkdtemp(dir));
	return dir;
}

void test_rmtree(char *dir)
{
	char cmd[600];
	assert_true(strlen(dir) < sizeof(cmd) - 16 && strchr(dir, '\'') == NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}
