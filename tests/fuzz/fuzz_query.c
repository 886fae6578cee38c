/* tests/fuzz/fuzz_query.c -- fuzz target: one request through query_answer on the test zones (signed ones too) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <urcu.h>

#include "fuzz_util.h"
#include "lib/error.h"
#include "query/query.h"
#include "wire/pkt.h"

/*
 * The input is the request, as a worker gets it from a socket. How it is answered (the worker's
 * side of the call) comes from the low octet of the message ID, which the answer only echoes:
 *   bit 0  over TCP                  bit 1  server cookies on (a secret is set)
 *   bit 2  identity (NSID) set       bit 3  16 octets reserved (room for a TSIG)
 *   bit 4  a 4096-octet buffer instead of 64 KiB
 * Every answer must then read back as a well-formed message of the length returned.
 */

/* Says what is wrong with the answer, shows it, and stops (libFuzzer keeps the input). */
static void bad(const uint8_t *resp, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad(const uint8_t *resp, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fuzz_query: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nanswer (%zu octets):", n);
	for (size_t i = 0; i < n && i < 1024; i++)
		fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", resp[i]);
	fprintf(stderr, "\n");
	abort();
}

static void check_answer(const uint8_t *req, size_t reqlen, const uint8_t *resp, size_t n,
                         size_t cap)
{
	if (n == 0)
		return;
	if (n > cap || n < PKT_HEADER_LEN)
		bad(resp, n > cap ? 0 : n, "answer of %zu octets in a buffer of %zu", n, cap);
	if (reqlen >= 2 && pkt_id(resp) != pkt_id(req))
		bad(resp, n, "answer with another id");
	size_t pos = PKT_HEADER_LEN;
	pkt_question_t q;
	if (pkt_qdcount(resp) > 1)
		bad(resp, n, "answer with %u questions", pkt_qdcount(resp));
	int ret;
	if (pkt_qdcount(resp) == 1 && (ret = pkt_read_question(resp, n, &pos, &q)) != TDM_OK)
		bad(resp, n, "answer with an unreadable question: %s", tdm_strerror(ret));
	unsigned total = pkt_ancount(resp) + pkt_nscount(resp) + pkt_arcount(resp);
	for (unsigned i = 0; i < total; i++) {
		pkt_rr_t rr;
		if ((ret = pkt_read_rr(resp, n, &pos, &rr)) != TDM_OK)
			bad(resp, n, "answer record %u of %u unreadable: %s", i, total, tdm_strerror(ret));
	}
	if (pos != n)
		bad(resp, n, "answer has %zu octets after its last record", n - pos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t resp[PKT_MAXLEN];
	static const uint8_t secret[16] = "fuzz-cookie-key!";
	const zoneset_t *set = fuzz_zoneset();
	unsigned opts = size >= 2 ? data[1] : 0;
	struct sockaddr_in client = { .sin_family = AF_INET, .sin_port = htons(40000),
	                              .sin_addr.s_addr = htonl(0xC0000201) };
	query_env_t env = {
		.zones = set,
		.identity = opts & 4 ? "fuzz.tandem" : NULL,
		.udp_payload = 1232,
		.cookie_secret = opts & 2 ? secret : NULL,
		.client = &client,
		.reserve = opts & 8 ? 16 : 0,
	};
	size_t cap = opts & 16 ? 4096 : sizeof(resp);
	/* libFuzzer hands the input in a heap block of its exact size: a read past it is caught. */
	rcu_read_lock();
	size_t n = query_answer(&env, data, size, resp, cap, opts & 1);
	rcu_read_unlock();
	check_answer(data, size, resp, n, cap);
	return 0;
}
