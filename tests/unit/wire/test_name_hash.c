/* tests/unit/wire/test_name_hash.c -- name_hash is keyed: names chosen to collide cannot be precomputed */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/siphash.h"
#include "wire/name.h"

#define NAMES 64
#define LOW_BITS 0xffffu   /* a table of 65,536 slots: what a big zone's name table has */

/* The unkeyed FNV-1a that name_hash was: anyone could compute it offline. */
static uint32_t fnv1a_lower(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ name_lower(p[i])) * 16777619u;
	return h;
}

/*
 * An attacker's precomputation against FNV: 64 names whose hashes share their low 16 bits, so that
 * they would all land in one run of a linear-probing table (quadratic work to build, long probes to
 * answer). With a key drawn at start they must spread like any other names.
 */
static void test_precomputed_collisions_spread(void **state)
{
	static uint8_t names[NAMES][NAME_MAXLEN];
	static int lens[NAMES];
	int found = 0;
	uint32_t target = 0;
	for (uint32_t i = 0; found < NAMES && i < 100000000u; i++) {
		char text[64];
		snprintf(text, sizeof(text), "h%08x.example.com.", i);
		uint8_t wire[NAME_MAXLEN];
		int len = name_from_text(text, NULL, wire);
		assert_true(len > 0);
		uint32_t low = fnv1a_lower(wire, (size_t)len) & LOW_BITS;
		if (found == 0)
			target = low;
		if (low != target)
			continue;
		memcpy(names[found], wire, (size_t)len);
		lens[found++] = len;
	}
	assert_int_equal(found, NAMES);
	/* Keyed: 64 names in 65,536 slots collide in pairs about once in 30 runs; allow a few. */
	int distinct = 0;
	for (int i = 0; i < NAMES; i++) {
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = (name_hash(names[i], (size_t)lens[i]) & LOW_BITS) ==
			       (name_hash(names[j], (size_t)lens[j]) & LOW_BITS);
		distinct += !seen;
	}
	assert_true(distinct >= NAMES - 4);
}

static void test_case_insensitive_and_stable(void **state)
{
	uint8_t a[NAME_MAXLEN], b[NAME_MAXLEN], c[NAME_MAXLEN];
	int la = name_from_text("WwW.Example.COM.", NULL, a);
	int lb = name_from_text("www.example.com.", NULL, b);
	int lc = name_from_text("www.example.con.", NULL, c);
	assert_int_equal(la, lb);
	assert_int_equal(name_hash(a, (size_t)la), name_hash(b, (size_t)lb));
	assert_int_equal(name_hash(a, (size_t)la), name_hash(a, (size_t)la));
	assert_int_not_equal(name_hash(b, (size_t)lb), name_hash(c, (size_t)lc));
	/* Every length (the tail of 0..7 octets after whole 8-octet words) folds case the same way. */
	uint8_t up[40], low[40];
	for (size_t len = 0; len < sizeof(up); len++) {
		for (size_t i = 0; i < len; i++) {
			low[i] = (uint8_t)("abcdefghijklmnopqrstuvwxyz0123456789-_\xc1z"[i]);
			up[i] = low[i] >= 'a' && low[i] <= 'z' ? (uint8_t)(low[i] - 32) : low[i];
		}
		assert_int_equal(name_hash(up, len), name_hash(low, len));
	}
	/* Octets above 127 are not letters: 0xC1 is not 0xE1 (only A-Z fold, RFC 4343 3). */
	uint8_t x[1] = { 0xc1 }, y[1] = { 0xe1 };
	assert_int_not_equal(name_hash(x, 1), name_hash(y, 1));
}

/* SipHash-1-3 has no vectors of its own in the reference implementation: the word-at-a-time code is
 * checked against a plain rendering of the algorithm, octet by octet, at every length up to 64; and
 * SipHash-2-4, which shares the message loader, against the paper's vectors. */
static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void round1(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

static uint64_t plain_sip13(uint64_t k0, uint64_t k1, const uint8_t *p, size_t len)
{
	uint64_t v[4] = { 0x736f6d6570736575ULL ^ k0, 0x646f72616e646f6dULL ^ k1,
	                  0x6c7967656e657261ULL ^ k0, 0x7465646279746573ULL ^ k1 };
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t m = 0;
		for (int j = 7; j >= 0; j--)
			m = (m << 8) | p[i + (size_t)j];
		v[3] ^= m;
		round1(v);
		v[0] ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v[3] ^= b;
	round1(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	round1(v);
	round1(v);
	round1(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void test_siphash13_matches_the_algorithm(void **state)
{
	uint8_t kb[16], msg[64];
	for (int i = 0; i < 16; i++)
		kb[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	siphash_key_t key;
	siphash_key_set(&key, kb);
	for (size_t len = 0; len <= sizeof(msg); len++)
		assert_true(siphash13(&key, msg, len, false) ==
		            plain_sip13(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, msg, len));
	/* SipHash-2-4's published first vectors (empty and 15 octets), so the shared loader is right. */
	assert_true(siphash24(kb, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(siphash24(kb, msg, 15) == 0xa129ca6149be45e5ULL);
}

/* Case folding and the tail of the data: every length and alignment, from buffers of exactly that
 * size (ASan sees any read past the end). */
static void test_siphash13_nocase_every_length(void **state)
{
	siphash_key_t key = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	static const char text[] = "WWW-Mail.Example.COM.zZ@[`{AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\xc1";
	for (size_t len = 0; len < sizeof(text); len++) {
		for (size_t off = 0; off < 8 && off + len < sizeof(text); off++) {
			uint8_t *upper = malloc(len ? len : 1), *lower = malloc(len ? len : 1);
			assert_non_null(upper);
			assert_non_null(lower);
			for (size_t i = 0; i < len; i++) {
				upper[i] = (uint8_t)text[off + i];
				lower[i] = name_lower(upper[i]);
			}
			assert_true(siphash13(&key, upper, len, true) == siphash13(&key, lower, len, false));
			assert_true(siphash13(&key, lower, len, false) ==
			            plain_sip13(key.k0, key.k1, lower, len));
			free(upper);
			free(lower);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precomputed_collisions_spread),
		cmocka_unit_test(test_case_insensitive_and_stable),
		cmocka_unit_test(test_siphash13_matches_the_algorithm),
		cmocka_unit_test(test_siphash13_nocase_every_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
