/* tsig/tsig_openssl.c -- the one file that includes OpenSSL: TSIG algorithm table, HMAC, random, base64 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "lib/error.h"
#include "tsig/tsig_openssl.h"
#include "wire/name.h"

/* RFC 8945 6: names in wire form (lowercase, the canonical form the MAC covers) and MAC lengths. */
static const struct {
	const char *name;      /* as written in the configuration */
	const char *digest;    /* OpenSSL's name of the hash */
	size_t len;
	const uint8_t *wire;
} algs[TSIG_ALG_COUNT] = {
	[TSIG_ALG_HMAC_MD5] = { "hmac-md5", "MD5", 16,
		(const uint8_t *)"\x08" "hmac-md5" "\x07" "sig-alg" "\x03" "reg" "\x03" "int" },
	[TSIG_ALG_HMAC_SHA1] = { "hmac-sha1", "SHA1", 20, (const uint8_t *)"\x09" "hmac-sha1" },
	[TSIG_ALG_HMAC_SHA224] = { "hmac-sha224", "SHA224", 28, (const uint8_t *)"\x0b" "hmac-sha224" },
	[TSIG_ALG_HMAC_SHA256] = { "hmac-sha256", "SHA256", 32, (const uint8_t *)"\x0b" "hmac-sha256" },
	[TSIG_ALG_HMAC_SHA384] = { "hmac-sha384", "SHA384", 48, (const uint8_t *)"\x0b" "hmac-sha384" },
	[TSIG_ALG_HMAC_SHA512] = { "hmac-sha512", "SHA512", 64, (const uint8_t *)"\x0b" "hmac-sha512" },
};

int tsig_alg_from_text(const char *text)
{
	char name[32];
	size_t len = strlen(text);
	if (len > 0 && text[len - 1] == '.')
		len--;
	if (len >= sizeof(name))
		return TDM_ENOENT;
	memcpy(name, text, len);
	name[len] = '\0';
	if (strcasecmp(name, "hmac-md5.sig-alg.reg.int") == 0)
		return TSIG_ALG_HMAC_MD5;
	for (int i = 0; i < TSIG_ALG_COUNT; i++) {
		if (strcasecmp(name, algs[i].name) == 0)
			return i;
	}
	return TDM_ENOENT;
}

int tsig_alg_from_wire(const uint8_t *name)
{
	for (int i = 0; i < TSIG_ALG_COUNT; i++) {
		if (name_equal(name, algs[i].wire))
			return i;
	}
	return TDM_ENOENT;
}

const char *tsig_alg_name(int alg) { return algs[alg].name; }
const uint8_t *tsig_alg_wire(int alg) { return algs[alg].wire; }
size_t tsig_alg_digest_len(int alg) { return algs[alg].len; }

/* ---- HMAC through EVP_MAC (OpenSSL 3) ---- */

struct tsig_hmac {
	EVP_MAC_CTX *ctx;
	bool begun;
	bool failed;
};

/* Fetching an algorithm is costly in OpenSSL 3, so it is done once for the process. */
static EVP_MAC *hmac_method;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void)
{
	hmac_method = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

tsig_hmac_t *tsig_hmac_new(void)
{
	pthread_once(&hmac_once, hmac_fetch);
	if (hmac_method == NULL)
		return NULL;
	tsig_hmac_t *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->ctx = EVP_MAC_CTX_new(hmac_method);
	if (h->ctx == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

int tsig_hmac_begin(tsig_hmac_t *h, int alg, const uint8_t *secret, size_t secret_len)
{
	static const uint8_t empty[1];
	h->begun = false;
	h->failed = true;
	if (alg < 0 || alg >= TSIG_ALG_COUNT)
		return TDM_EINVAL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)algs[alg].digest, 0),
		OSSL_PARAM_construct_end(),
	};
	/* A NULL key would mean "keep the previous key" to OpenSSL: pass a real pointer even when empty. */
	if (EVP_MAC_init(h->ctx, secret_len > 0 ? secret : empty, secret_len, params) != 1)
		return TDM_ERROR;
	h->begun = true;
	h->failed = false;
	return TDM_OK;
}

void tsig_hmac_update(tsig_hmac_t *h, const void *data, size_t len)
{
	if (h->failed || len == 0)
		return;
	if (EVP_MAC_update(h->ctx, data, len) != 1)
		h->failed = true;
}

int tsig_hmac_end(tsig_hmac_t *h, uint8_t out[TSIG_DIGEST_MAX], size_t *len)
{
	bool ok = h->begun && !h->failed;
	h->begun = false;
	if (!ok || EVP_MAC_final(h->ctx, out, len, TSIG_DIGEST_MAX) != 1)
		return TDM_ERROR;
	return TDM_OK;
}

void tsig_hmac_free(tsig_hmac_t *h)
{
	if (h == NULL)
		return;
	EVP_MAC_CTX_free(h->ctx);
	free(h);
}

bool tsig_mac_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int tsig_random(uint8_t *buf, size_t len)
{
	if (len > INT_MAX)
		return TDM_EINVAL;
	return RAND_bytes(buf, (int)len) == 1 ? TDM_OK : TDM_ERROR;
}

/* ---- base64 ---- */

int tsig_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	if (len > INT_MAX / 2 || cap < (len + 2) / 3 * 4 + 1)
		return TDM_ESPACE;
	return EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/';
}

/* Checks the alphabet and the padding ourselves: EVP_DecodeBlock skips white space and counts padding
 * as data. Returns the number of '=' at the end, or -1. */
static int b64_check(const char *in, size_t len)
{
	if (len == 0 || len % 4 != 0)
		return -1;
	int pad = 0;
	while (pad < 2 && in[len - 1 - (size_t)pad] == '=')
		pad++;
	for (size_t i = 0; i < len - (size_t)pad; i++) {
		if (!b64_char(in[i]))
			return -1;
	}
	return pad;
}

int tsig_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	int pad = b64_check(in, len);
	if (pad < 0 || len > INT_MAX)
		return TDM_EPARSE;
	size_t n = len / 4 * 3 - (size_t)pad;
	if (n > cap)
		return TDM_ESPACE;
	/* EVP_DecodeBlock writes whole quanta: decode the last one apart so out needs only n octets. */
	size_t head = len - 4;
	if (head > 0 && EVP_DecodeBlock(out, (const unsigned char *)in, (int)head) < 0)
		return TDM_EPARSE;
	uint8_t tail[3];
	if (EVP_DecodeBlock(tail, (const unsigned char *)in + head, 4) < 0)
		return TDM_EPARSE;
	memcpy(out + head / 4 * 3, tail, 3 - (size_t)pad);
	return (int)n;
}
