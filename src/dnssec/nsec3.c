/* dnssec/nsec3.c -- NSEC3 hashing (RFC 5155 5) and base32hex; the only OpenSSL user of dnssec/ */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "dnssec/nsec3.h"
#include "lib/error.h"

/*
 * The query path hashes names for NXDOMAIN proofs and must not allocate per query: each thread keeps
 * one digest context, made on its first hash and freed when the thread ends (a pthread key destructor).
 */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;
static EVP_MD *sha1;

static void ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void init(void)
{
	sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	if (pthread_key_create(&ctx_key, ctx_free) != 0)
		sha1 = NULL;
}

static EVP_MD_CTX *thread_ctx(void)
{
	pthread_once(&once, init);
	if (sha1 == NULL)
		return NULL;
	EVP_MD_CTX *ctx = pthread_getspecific(ctx_key);
	if (ctx == NULL) {
		ctx = EVP_MD_CTX_new();
		if (ctx == NULL || pthread_setspecific(ctx_key, ctx) != 0) {
			EVP_MD_CTX_free(ctx);
			return NULL;
		}
	}
	return ctx;
}

int nsec3_params_read(const uint8_t *rdata, uint16_t rdlen, nsec3_params_t *out)
{
	if (rdlen < 5 || rdlen < 5 + rdata[4])
		return TDM_EMALF;
	out->alg = rdata[0];
	out->flags = rdata[1];
	out->iterations = (uint16_t)(rdata[2] << 8 | rdata[3]);
	out->salt_len = rdata[4];
	memcpy(out->salt, rdata + 5, out->salt_len);
	return TDM_OK;
}

bool nsec3_params_same(const nsec3_params_t *a, const nsec3_params_t *b)
{
	return a->alg == b->alg && a->iterations == b->iterations && a->salt_len == b->salt_len &&
	       memcmp(a->salt, b->salt, a->salt_len) == 0;
}

static bool digest(EVP_MD_CTX *ctx, const uint8_t *a, size_t alen, const uint8_t *salt,
                   size_t slen, uint8_t out[NSEC3_HASH_MAX])
{
	unsigned int n = 0;
	return EVP_DigestInit_ex2(ctx, sha1, NULL) == 1 && EVP_DigestUpdate(ctx, a, alen) == 1 &&
	       (slen == 0 || EVP_DigestUpdate(ctx, salt, slen) == 1) &&
	       EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == NSEC3_HASH_MAX;
}

int nsec3_hash(const nsec3_params_t *p, const uint8_t *name, size_t len, uint8_t out[NSEC3_HASH_MAX])
{
	if (p->alg != NSEC3_ALG_SHA1)
		return TDM_ENOENT;
	if (p->iterations > NSEC3_MAX_ITERATIONS)
		return TDM_ERANGE;
	EVP_MD_CTX *ctx = thread_ctx();
	if (ctx == NULL)
		return TDM_ENOMEM;
	/* IH(salt, x, 0) = H(x || salt); IH(salt, x, k) = H(IH(salt, x, k-1) || salt). */
	if (!digest(ctx, name, len, p->salt, p->salt_len, out))
		return TDM_ENOMEM;
	for (unsigned i = 0; i < p->iterations; i++)
		if (!digest(ctx, out, NSEC3_HASH_MAX, p->salt, p->salt_len, out))
			return TDM_ENOMEM;
	return TDM_OK;
}

size_t base32hex_encode(const uint8_t *in, size_t len, uint8_t *out)
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuv";
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[n++] = (uint8_t)alphabet[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[n++] = (uint8_t)alphabet[(acc << (5 - bits)) & 31];
	return n;
}

int nsec3_label(const nsec3_params_t *p, const uint8_t *name, size_t len, uint8_t out[NSEC3_LABEL_MAX])
{
	uint8_t hash[NSEC3_HASH_MAX];
	int ret = nsec3_hash(p, name, len, hash);
	if (ret != TDM_OK)
		return ret;
	return (int)base32hex_encode(hash, sizeof(hash), out);
}
