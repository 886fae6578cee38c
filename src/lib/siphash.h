/* lib/siphash.h -- SipHash (Aumasson and Bernstein): 2-4 for server cookies (RFC 9018), 1-3 for tables */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The 64-bit SipHash-2-4 of data under a 16-octet key, as RFC 9018 4.4 uses it (little-endian). */
uint64_t siphash24(const uint8_t key[16], const uint8_t *data, size_t len);

/* A key split into its two little-endian words, ready for siphash13(). */
typedef struct {
	uint64_t k0, k1;
} siphash_key_t;

void siphash_key_set(siphash_key_t *key, const uint8_t bytes[16]);

/*
 * SipHash-1-3 (one compression round, three finalisation rounds: the variant Rust's HashMap and
 * CPython use for tables) of data under key. With nocase, ASCII A-Z are hashed as a-z (RFC 4343 3:
 * only those fold), so a name and its lowercase form hash the same without being copied first.
 */
uint64_t siphash13(const siphash_key_t *key, const uint8_t *data, size_t len, bool nocase);

/*
 * The key of this process's hash tables over data peers choose (names in zones, catalogs, queries):
 * drawn from getrandom() before main() runs, so before any thread, and never changed, so every thread
 * of the process hashes alike. Values differ from one run to the next: nothing may store them.
 */
const siphash_key_t *siphash_table_key(void);
