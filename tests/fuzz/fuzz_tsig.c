/* tests/fuzz/fuzz_tsig.c -- fuzz target: TSIG verification of requests, answers and multi-message streams */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "lib/error.h"
#include "tsig/tsig.h"
#include "wire/pkt.h"

/*
 * The input is a mode octet, then messages (each with a two-octet length). Keys: one per algorithm,
 * named "<alg>.fuzz." (hmac-md5.fuzz., ... hmac-sha512.fuzz.) with the secret below; the clock stands
 * at FUZZ_NOW. tests/fuzz/make_corpus.py signs its seeds with the same keys and time.
 *   mode & 3 == 0  a server verifies the first message as a request (tsig_server_verify, any key),
 *                  then signs an answer to it (the error answer RFC 8945 5.3.2 asks for on failure)
 *   mode & 3 == 1  a client that signed a request verifies the messages as its answer stream
 *                  (tsig_verify in FIRST, then NEXT; tsig_verify_end)
 *   mode & 3 == 2  a genuine stream: the client signs a request, the server verifies it and signs
 *                  each message, the client verifies them. Each message's first octet says how:
 *                  bit 0 leave it unsigned (tsig_sign_skip), bit 1 flip one octet after signing (at
 *                  the offset in bits 3-7, counted back from the end), bit 2 verify 400 s late
 *   mode & 3 == 3  as 1, with the clock 400 s ahead
 * (mode >> 2) % 6 picks the algorithm of the client's key in modes 1 to 3.
 */

#define FUZZ_NOW 1700000000u

static const uint8_t secret[] = "tandem fuzz tsig secret: 32 oct";
static const char *const algs[] = { "hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256",
                                    "hmac-sha384", "hmac-sha512" };
static tsig_key_t keys[6];

static const tsig_key_t *lookup(void *arg, const uint8_t *name)
{
	(void)arg;
	for (int i = 0; i < 6; i++)
		if (name_equal(name, keys[i].name))
			return &keys[i];
	return NULL;
}

static void setup(void)
{
	for (int i = 0; i < 6; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s.fuzz.", algs[i]);
		if (tsig_key_init(&keys[i], name, algs[i], secret, sizeof(secret) - 1) != TDM_OK)
			abort();
	}
}

/* The request a client signs: example.com. AXFR. */
static size_t request(uint8_t *buf)
{
	return fuzz_make_query(buf, PKT_MAXLEN, (const uint8_t *)"\x07" "example" "\x03" "com",
	                       PKT_TYPE_AXFR, false);
}

static void server_side(fuzz_reader_t *in)
{
	static uint8_t buf[PKT_MAXLEN];
	const uint8_t *msg;
	size_t len;
	if (!fuzz_next(in, &msg, &len))
		return;
	tsig_ctx_t c;
	tsig_ctx_init(&c, NULL);
	int ret = tsig_server_verify(&c, msg, len, lookup, NULL, FUZZ_NOW);
	if (ret != TDM_ENOENT && c.state == TSIG_STATE_FIRST && len >= PKT_HEADER_LEN) {
		/* The answer: the request's header, no records, QR set. */
		memcpy(buf, msg, PKT_HEADER_LEN);
		memset(buf + 4, 0, 8);
		buf[2] |= 0x80;
		size_t n = PKT_HEADER_LEN;
		tsig_sign(&c, buf, &n, sizeof(buf), FUZZ_NOW);
	}
	tsig_ctx_clear(&c);
}

static void client_side(fuzz_reader_t *in, const tsig_key_t *key, uint64_t now)
{
	static uint8_t buf[PKT_MAXLEN];
	size_t len = request(buf);
	tsig_ctx_t c;
	tsig_ctx_init(&c, key);
	if (tsig_sign(&c, buf, &len, sizeof(buf), FUZZ_NOW) != TDM_OK)
		abort();
	const uint8_t *msg;
	while (fuzz_next(in, &msg, &len))
		tsig_verify(&c, msg, len, now);
	tsig_verify_end(&c);
	tsig_ctx_clear(&c);
}

/* Whether a message reads to its end, record by record, without a TSIG. */
static bool readable(const uint8_t *msg, size_t len)
{
	size_t pos = PKT_HEADER_LEN;
	pkt_question_t q;
	if (len < PKT_HEADER_LEN || pkt_qdcount(msg) > 1 ||
	    (pkt_qdcount(msg) == 1 && pkt_read_question(msg, len, &pos, &q) != TDM_OK))
		return false;
	unsigned total = pkt_ancount(msg) + pkt_nscount(msg) + pkt_arcount(msg);
	for (unsigned i = 0; i < total; i++) {
		pkt_rr_t rr;
		if (pkt_read_rr(msg, len, &pos, &rr) != TDM_OK || rr.type == PKT_TYPE_TSIG)
			return false;
	}
	return pos == len;
}

static void stream(fuzz_reader_t *in, const tsig_key_t *key)
{
	static uint8_t buf[PKT_MAXLEN];
	tsig_ctx_t client, server;
	tsig_ctx_init(&client, key);
	tsig_ctx_init(&server, NULL);
	size_t len = request(buf);
	if (tsig_sign(&client, buf, &len, sizeof(buf), FUZZ_NOW) != TDM_OK ||
	    tsig_server_verify(&server, buf, len, lookup, NULL, FUZZ_NOW) != TDM_OK) {
		fprintf(stderr, "fuzz_tsig: a request signed with %s does not verify\n", algs[key->alg]);
		abort();
	}
	const uint8_t *msg;
	bool clean = true;   /* every message so far well formed and untouched */
	while (fuzz_next(in, &msg, &len)) {
		if (len < 1)
			continue;
		unsigned how = msg[0];
		len--;
		memcpy(buf, msg + 1, len);
		/* Once a malformed message went by, the two sides may disagree on what was signed. */
		clean = clean && readable(buf, len);
		bool skip = (how & 1) && server.state == TSIG_STATE_NEXT;
		int ret = skip ? tsig_sign_skip(&server, buf, len)
		               : tsig_sign(&server, buf, &len, sizeof(buf), FUZZ_NOW);
		bool tampered = (how & 2) && len > 0;
		if (tampered)
			buf[len - 1 - (how >> 3) % len] ^= 0x55;
		clean = clean && !tampered;   /* an unsigned message changed spoils the next MAC */
		uint64_t now = how & 4 ? FUZZ_NOW + 400 : FUZZ_NOW;
		int vret = tsig_verify(&client, buf, len, now);
		if (getenv("FUZZ_VERBOSE") != NULL)   /* for whoever writes seeds: what each message did */
			fprintf(stderr, "fuzz_tsig: message of %zu octets, how %#x: signed %s, verified %s\n",
			        len, how, skip ? "(skipped)" : tdm_strerror(ret), tdm_strerror(vret));
		/* What the server signed, untouched and on time, the client must take, when the messages
		 * were ones a server could have written (readable to their end, no TSIG of their own). */
		if (ret == TDM_OK && !skip && !(how & 4) && vret != TDM_OK && clean) {
			fprintf(stderr, "fuzz_tsig: a message signed by the server fails: %s\n",
			        tdm_strerror(vret));
			abort();
		}
		if (vret != TDM_OK)
			break;
	}
	tsig_verify_end(&client);
	tsig_ctx_clear(&client);
	tsig_ctx_clear(&server);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (keys[0].secret == NULL)
		setup();
	if (size < 1)
		return 0;
	fuzz_reader_t in = { data + 1, size - 1 };
	const tsig_key_t *key = &keys[(data[0] >> 2) % 6];
	switch (data[0] & 3) {
	case 0:
		server_side(&in);
		break;
	case 1:
		client_side(&in, key, FUZZ_NOW);
		break;
	case 2:
		stream(&in, key);
		break;
	case 3:
		client_side(&in, key, FUZZ_NOW + 400);
		break;
	}
	return 0;
}
