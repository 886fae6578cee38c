/* dnssec/nsec3.h -- NSEC3 (RFC 5155): parameters, the hashed owner name, base32hex */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSEC3_ALG_SHA1 1
#define NSEC3_HASH_MAX 20          /* SHA-1, the only algorithm defined (RFC 5155 11) */
#define NSEC3_LABEL_MAX 32         /* base32hex of 20 octets */
#define NSEC3_FLAG_OPTOUT 0x01
/* The most extra iterations hashed. Each costs a SHA-1 per name hashed, and the zone (a primary) sets
 * them: 65535 would make every NXDOMAIN answer cost tens of milliseconds and a 1M-name zone's load
 * hours. RFC 9276 3.2: validators treat far fewer (100-150) as insecure, so nothing is lost above this;
 * such a zone is served without NSEC3 proofs, with a warning. */
#define NSEC3_MAX_ITERATIONS 500

/* The hash parameters shared by NSEC3PARAM and the first fields of an NSEC3 rdata (RFC 5155 3.2, 4.2). */
typedef struct {
	uint8_t alg;
	uint8_t flags;
	uint16_t iterations;
	uint8_t salt_len;
	uint8_t salt[255];
} nsec3_params_t;

/* Reads the parameters at the front of an NSEC3 or NSEC3PARAM rdata. TDM_OK or TDM_EMALF (too short). */
int nsec3_params_read(const uint8_t *rdata, uint16_t rdlen, nsec3_params_t *out);

/* Whether two parameter sets hash the same way (algorithm, iterations, salt; flags aside). */
bool nsec3_params_same(const nsec3_params_t *a, const nsec3_params_t *b);

/*
 * The hashed owner name (RFC 5155 5): IH(salt, name, iterations), name in lowercase wire form.
 * Writes NSEC3_HASH_MAX octets to out. TDM_OK, TDM_ENOENT for an unknown algorithm, TDM_ERANGE for
 * more than NSEC3_MAX_ITERATIONS iterations, or TDM_ENOMEM
 * (the per-thread digest context could not be made). Allocates only on a thread's first call.
 */
int nsec3_hash(const nsec3_params_t *p, const uint8_t *name, size_t len, uint8_t out[NSEC3_HASH_MAX]);

/* Base32 with the extended hex alphabet (RFC 4648 7), lowercase, no padding. Returns the text length;
 * out needs (len * 8 + 4) / 5 octets. */
size_t base32hex_encode(const uint8_t *in, size_t len, uint8_t *out);

/* The NSEC3 owner label for name: the lowercase base32hex of its hash (NSEC3_LABEL_MAX octets for
 * SHA-1). Returns the label length or a negative code from nsec3_hash. */
int nsec3_label(const nsec3_params_t *p, const uint8_t *name, size_t len, uint8_t out[NSEC3_LABEL_MAX]);
