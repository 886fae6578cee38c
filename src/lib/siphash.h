/* lib/siphash.h -- SipHash-2-4 (Aumasson and Bernstein): a keyed hash for server cookies (RFC 9018) */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The 64-bit SipHash-2-4 of data under a 16-octet key, as RFC 9018 4.4 uses it (little-endian). */
uint64_t siphash24(const uint8_t key[16], const uint8_t *data, size_t len);
