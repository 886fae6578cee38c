/* lib/siphash.c -- SipHash-2-4 and SipHash-1-3, and the process's random table key */
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lib/siphash.h"

/* OpenSSL 3 offers SipHash through EVP_MAC, but fetching a MAC context per query costs more than the
 * whole answer; the function is small enough to keep here. */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* Little-endian, as the SipHash paper defines the message words (one mov on x86). */
static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

#define ROUND(v0, v1, v2, v3)                                                        \
	do {                                                                         \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);           \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                               \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                               \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);           \
	} while (0)

uint64_t siphash24(const uint8_t key[16], const uint8_t *data, size_t len)
{
	uint64_t k0 = load64(key), k1 = load64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	size_t full = len - len % 8;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = load64(data + i);
		v3 ^= m;
		ROUND(v0, v1, v2, v3);
		ROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < len % 8; i++)
		b |= (uint64_t)data[full + i] << (8 * i);
	v3 ^= b;
	ROUND(v0, v1, v2, v3);
	ROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

void siphash_key_set(siphash_key_t *key, const uint8_t bytes[16])
{
	key->k0 = load64(bytes);
	key->k1 = load64(bytes + 8);
}

/*
 * 'A'..'Z' to lowercase in all eight octets at once. For each octet y of w without its top bit,
 * y + 0x3f sets bit 7 when y >= 'A' and y + 0x25 sets it when y > 'Z', with no carry into the next
 * octet (at most 0x7f + 0x3f); octets with the top bit set are not ASCII and stay as they are.
 */
static inline uint64_t fold_case(uint64_t w)
{
	uint64_t y = w & 0x7f7f7f7f7f7f7f7fULL;
	uint64_t upper = (y + 0x3f3f3f3f3f3f3f3fULL) & ~(y + 0x2525252525252525ULL) & ~w &
	                 0x8080808080808080ULL;
	return w | (upper >> 2);
}

uint64_t siphash13(const siphash_key_t *key, const uint8_t *data, size_t len, bool nocase)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0, v1 = 0x646f72616e646f6dULL ^ key->k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0, v3 = 0x7465646279746573ULL ^ key->k1;
	uint64_t mask = nocase ? ~0ULL : 0;   /* branch-free: fold, then keep the fold or not */
	size_t full = len - len % 8;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = load64(data + i);
		m = (fold_case(m) & mask) | (m & ~mask);
		v3 ^= m;
		ROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* The last len % 8 octets, in the low end of a word. A name is usually 8 octets or more: then one
	 * load of its last 8 (inside the data) and a shift instead of a loop of up to 7 octet loads. */
	size_t rem = len % 8;
	uint64_t t = 0;
	if (rem != 0 && len >= 8) {
		t = load64(data + len - 8) >> (8 * (8 - rem));
	} else {
		for (size_t i = 0; i < rem; i++)
			t |= (uint64_t)data[full + i] << (8 * i);
	}
	uint64_t b = ((fold_case(t) & mask) | (t & ~mask)) | (uint64_t)len << 56;
	v3 ^= b;
	ROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	ROUND(v0, v1, v2, v3);
	ROUND(v0, v1, v2, v3);
	ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

static siphash_key_t table_key;

/*
 * Before main(): no thread exists yet, so every thread sees the key without a lock or a fence, and
 * it never changes. getrandom() only blocks before the kernel's pool is first seeded (early boot);
 * should it fail anyway, the clock, the pid and this code's address still make a key no peer knows
 * in advance.
 */
__attribute__((constructor)) static void table_key_init(void)
{
	uint8_t bytes[16];
	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)getpid();
		uint64_t b = (uint64_t)(uintptr_t)&table_key ^ (uint64_t)(uintptr_t)bytes;
		memcpy(bytes, &a, 8);
		memcpy(bytes + 8, &b, 8);
	}
	siphash_key_set(&table_key, bytes);
}

const siphash_key_t *siphash_table_key(void)
{
	return &table_key;
}
