/* tsig/tsig_openssl.h -- TSIG algorithm table, HMAC, randomness and base64: the only door to OpenSSL */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Everything cryptographic Tandem does for TSIG goes through this header; tsig_openssl.c is the only
 * file that includes OpenSSL's headers (STYLE.md "Crypto behind one file"). The rest of the tsig module
 * sees algorithms as small integers and an HMAC as an opaque object fed in parts.
 */

#define TSIG_DIGEST_MAX 64   /* the longest MAC: HMAC-SHA512 */

/* The algorithms of RFC 8945 6 that Tandem implements; the values index the table. */
enum {
	TSIG_ALG_HMAC_MD5,
	TSIG_ALG_HMAC_SHA1,
	TSIG_ALG_HMAC_SHA224,
	TSIG_ALG_HMAC_SHA256,
	TSIG_ALG_HMAC_SHA384,
	TSIG_ALG_HMAC_SHA512,
	TSIG_ALG_COUNT
};

/* An algorithm by its configuration name: "hmac-sha256" (case-insensitive, one trailing dot allowed;
 * "hmac-md5.sig-alg.reg.int" is accepted for hmac-md5). Returns the TSIG_ALG_* value or TDM_ENOENT. */
int tsig_alg_from_text(const char *text);

/* An algorithm by its wire name as found in a TSIG record (case-insensitive; name must be a valid
 * uncompressed wire name). Returns the TSIG_ALG_* value or TDM_ENOENT. */
int tsig_alg_from_wire(const uint8_t *name);

/* The configuration name ("hmac-sha256"), the wire name in lowercase ("hmac-sha256." in wire form;
 * hmac-md5 is "hmac-md5.sig-alg.reg.int."), and the MAC length in octets. alg must be a TSIG_ALG_*
 * value below TSIG_ALG_COUNT. */
const char *tsig_alg_name(int alg);
const uint8_t *tsig_alg_wire(int alg);
size_t tsig_alg_digest_len(int alg);

/*
 * An HMAC computed in parts, reusable: begin, any number of updates, end, then begin again.
 * Errors are sticky: an update that fails is remembered and reported by tsig_hmac_end().
 */
typedef struct tsig_hmac tsig_hmac_t;

/* A new HMAC object, or NULL when out of memory. */
tsig_hmac_t *tsig_hmac_new(void);

/* Starts a MAC with a key. Returns TDM_OK, TDM_EINVAL (bad algorithm) or TDM_ERROR (OpenSSL failed). */
int tsig_hmac_begin(tsig_hmac_t *h, int alg, const uint8_t *secret, size_t secret_len);

/* Feeds data; does nothing after a failure (the failure is reported at the end). */
void tsig_hmac_update(tsig_hmac_t *h, const void *data, size_t len);

/* Finishes: writes the MAC to out and its length to *len. Returns TDM_OK or TDM_ERROR (an earlier
 * step failed, or the HMAC was not begun). */
int tsig_hmac_end(tsig_hmac_t *h, uint8_t out[TSIG_DIGEST_MAX], size_t *len);

/* Frees; NULL is allowed. */
void tsig_hmac_free(tsig_hmac_t *h);

/* Compares two MACs of len octets in constant time. */
bool tsig_mac_equal(const uint8_t *a, const uint8_t *b, size_t len);

/* Fills buf with len random octets from a cryptographic generator. TDM_OK or TDM_ERROR. */
int tsig_random(uint8_t *buf, size_t len);

/* Base64 (RFC 4648 4, with padding) of len octets into out, NUL-terminated. Returns the text length or
 * TDM_ESPACE when cap is below 4 * ceil(len / 3) + 1. */
int tsig_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/* Decodes len characters of base64 (padded to a multiple of 4 characters, no white space). Returns
 * the number of octets written or TDM_EPARSE (not base64) / TDM_ESPACE (more than cap octets). */
int tsig_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap);
