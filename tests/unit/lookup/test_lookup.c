/* tests/unit/lookup/test_lookup.c -- `tandem lookup`: command line, query, printing, bad replies, no reply */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/error.h"
#include "lookup/args.h"
#include "lookup/json.h"
#include "lookup/lookup.h"
#include "lookup/print.h"
#include "lookup/reply.h"
#include "wire/edns.h"
#include "wire/name.h"
#include "wire/pkt.h"

/* ---- the command line ---- */

static int parse(lookup_args_t *a, char *err, const char *line)
{
	char copy[512], *argv[32];
	int argc = 0;
	snprintf(copy, sizeof(copy), "%s", line);
	for (char *w = strtok(copy, " "); w != NULL && argc < 32; w = strtok(NULL, " "))
		argv[argc++] = w;
	return lookup_args_parse(a, argc, argv, err, 256);
}

static void test_args_defaults(void **state)
{
	lookup_args_t a;
	char err[256];
	uint8_t name[NAME_MAXLEN];
	assert_int_equal(parse(&a, err, "example.com"), TDM_OK);
	name_from_text("example.com.", NULL, name);
	assert_true(name_equal(a.qname, name));
	assert_int_equal(a.qtype, PKT_TYPE_A);
	assert_int_equal(a.qclass, PKT_CLASS_IN);
	assert_string_equal(a.server_text, "127.0.0.1@53");
	assert_true(a.rd && a.edns);
	assert_false(a.tcp || a.axfr || a.dnssec || a.json || a.nsid || a.ignore_tc);
	assert_int_equal(a.bufsize, LOOKUP_DEFAULT_BUFSIZE);
	assert_int_equal(a.timeout, LOOKUP_DEFAULT_TIMEOUT);
	assert_int_equal(a.tries, LOOKUP_DEFAULT_TRIES);
}

static void test_args_everything(void **state)
{
	lookup_args_t a;
	char err[256];
	assert_int_equal(parse(&a, err, "version.bind TXT CH @::1@5300 +tcp +norec +dnssec +nsid "
	                                "+bufsize=4096 +timeout=5 +tries=1 +cdflag --json"), TDM_OK);
	assert_int_equal(a.qtype, PKT_TYPE_TXT);
	assert_int_equal(a.qclass, PKT_CLASS_CH);
	assert_string_equal(a.server_text, "::1@5300");
	assert_true(a.tcp && a.dnssec && a.nsid && a.json && a.cd);
	assert_false(a.rd);
	assert_int_equal(a.bufsize, 4096);
	assert_int_equal(a.timeout, 5);
	assert_int_equal(a.tries, 1);
	/* Class before type, and the make-run server. */
	assert_int_equal(parse(&a, err, "example.com IN MX @127.0.0.1@5300 +retry=0"), TDM_OK);
	assert_int_equal(a.qtype, PKT_TYPE_MX);
	assert_string_equal(a.server_text, "127.0.0.1@5300");
	assert_int_equal(a.tries, 1);
	assert_int_equal(parse(&a, err, "x TYPE65280 +noedns +ignore"), TDM_OK);
	assert_int_equal(a.qtype, 65280);
	assert_false(a.edns);
	assert_true(a.ignore_tc);
}

static void test_args_axfr(void **state)
{
	lookup_args_t a;
	char err[256];
	assert_int_equal(parse(&a, err, "example.com +axfr"), TDM_OK);
	assert_true(a.axfr && a.tcp);
	assert_int_equal(a.qtype, PKT_TYPE_AXFR);
	assert_int_equal(parse(&a, err, "example.com axfr"), TDM_OK);
	assert_true(a.axfr && a.tcp);
	assert_int_equal(parse(&a, err, "example.com AXFR +notcp"), TDM_OK);
	assert_true(a.tcp);   /* a transfer is always over TCP */
}

static void test_args_errors(void **state)
{
	static const struct { const char *line, *message; } cases[] = {
		{ "", "missing NAME" },
		{ "+tcp", "missing NAME" },
		{ "example.com +frob", "unknown option '+frob'" },
		{ "example.com -x", "unknown option '-x'" },
		{ "example.com NOSUCHTYPE", "'NOSUCHTYPE' is neither a type nor a class" },
		{ "example.com A MX", "more than one type ('MX')" },
		{ "example.com IN CH", "more than one class ('CH')" },
		{ "example.com @1.2.3.4 @5.6.7.8", "only one @SERVER" },
		{ "example.com @1.2.3.4@99999", "bad server '1.2.3.4@99999'" },
		{ "example.com +bufsize=65536", "+bufsize wants a number" },
		{ "example.com +bufsize=", "+bufsize wants a number" },
		{ "example.com +timeout=0", "+timeout wants seconds" },
		{ "example.com +tries=-1", "+tries wants a number" },
		{ "example.com IXFR", "IXFR is not supported" },
		{ "example.com MX +axfr", "+axfr cannot be combined" },
		{ "example.com +noedns +dnssec", "need EDNS" },
		{ "example.com +key=k", "+key wants [ALGORITHM:]NAME:SECRET" },
		{ "example.com +key=hmac-sha3:k:c2VjcmV0", "+key: bad name, algorithm or base64 secret" },
		{ "example.com +key=k:not*base64", "+key: bad name, algorithm or base64 secret" },
		{ "a..b", "bad name 'a..b'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lookup_args_t a;
		char err[256];
		assert_int_equal(parse(&a, err, cases[i].line), TDM_EINVAL);
		if (strstr(err, cases[i].message) == NULL)
			fail_msg("'%s': got '%s', want '%s'", cases[i].line, err, cases[i].message);
	}
}

/* +key parses as dig's -y: the algorithm is optional. */
static void test_args_key(void **state)
{
	lookup_args_t a;
	char err[256];
	assert_int_equal(parse(&a, err, "example.com +key=xfr.:c2VjcmV0"), TDM_OK);
	assert_true(a.has_key);
	assert_string_equal(a.key_alg, "hmac-sha256");
	assert_string_equal(a.key_name, "xfr.");
	assert_int_equal(a.key_secret_len, 6);
	assert_memory_equal(a.key_secret, "secret", 6);
	assert_int_equal(parse(&a, err, "example.com +key=hmac-sha512:k:c2VjcmV0"), TDM_OK);
	assert_string_equal(a.key_alg, "hmac-sha512");
	assert_string_equal(a.key_name, "k");
}

static void test_args_help(void **state)
{
	lookup_args_t a;
	char err[256];
	assert_int_equal(parse(&a, err, "--help"), TDM_OK);
	assert_true(a.help);
}

/* ---- the query ---- */

static void test_build_query(void **state)
{
	lookup_args_t a;
	char err[256];
	uint8_t buf[512];
	assert_int_equal(parse(&a, err, "Example.COM MX +dnssec +nsid +bufsize=4000 +norec"), TDM_OK);
	int n = lookup_build_query(&a, 0xBEEF, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(pkt_id(buf), 0xBEEF);
	assert_int_equal(pkt_flags(buf), 0);   /* +norec: no flag at all */
	assert_int_equal(pkt_qdcount(buf), 1);
	assert_int_equal(pkt_arcount(buf), 1);
	size_t pos;
	pkt_question_t q;
	assert_int_equal(pkt_read_question(buf, (size_t)n, &pos, &q), TDM_OK);
	assert_int_equal(q.qtype, PKT_TYPE_MX);
	assert_int_equal(q.qname[1], 'E');   /* case kept */
	pkt_rr_t rr;
	assert_int_equal(pkt_read_rr(buf, (size_t)n, &pos, &rr), TDM_OK);
	assert_int_equal(pos, (size_t)n);
	edns_t e;
	assert_int_equal(rr.type, PKT_TYPE_OPT);
	assert_int_equal(edns_parse(buf, &rr, &e), TDM_OK);
	assert_true(e.do_bit && e.nsid);
	assert_int_equal(rr.rclass, 4000);
	/* +noedns: no OPT; default: RD. */
	assert_int_equal(parse(&a, err, "example.com +noedns"), TDM_OK);
	n = lookup_build_query(&a, 1, buf, sizeof(buf));
	assert_int_equal(pkt_arcount(buf), 0);
	assert_int_equal(pkt_flags(buf), PKT_FLAG_RD);
}

/* ---- a canned reply ---- */

static void name(const char *text, uint8_t *out)
{
	assert_true(name_from_text(text, NULL, out) > 0);
}

/* example.com. A: two answers (A, MX with a compressed target), an NS in authority, an A in
 * additional, and an OPT with DO and NSID "ns1". */
static size_t canned(uint8_t *buf, size_t cap, uint16_t flags, int rcode)
{
	pkt_writer_t w;
	uint8_t apex[NAME_MAXLEN], mail[NAME_MAXLEN], mx[2 + NAME_MAXLEN];
	static const uint8_t addr[4] = { 192, 0, 2, 1 };
	name("example.com.", apex);
	name("mail.example.com.", mail);
	mx[0] = 0;
	mx[1] = 10;
	int mxlen = name_from_text("mail.example.com.", NULL, mx + 2);
	pkt_writer_init(&w, buf, cap);
	assert_int_equal(pkt_write_header(&w, 0x1234, flags | (rcode & 0x0F)), TDM_OK);
	assert_int_equal(pkt_write_question(&w, apex, PKT_TYPE_A, PKT_CLASS_IN), TDM_OK);
	assert_int_equal(pkt_write_rr(&w, apex, 0, PKT_TYPE_A, PKT_CLASS_IN, 3600, addr, 4), TDM_OK);
	assert_int_equal(pkt_write_rr(&w, apex, 0, PKT_TYPE_MX, PKT_CLASS_IN, 300, mx,
	                              (uint16_t)(2 + mxlen)), TDM_OK);
	pkt_begin_section(&w, PKT_SECTION_AUTHORITY);
	assert_int_equal(pkt_write_rr(&w, apex, 0, PKT_TYPE_NS, PKT_CLASS_IN, 86400, mail,
	                              (uint16_t)(mxlen)), TDM_OK);
	pkt_begin_section(&w, PKT_SECTION_ADDITIONAL);
	assert_int_equal(pkt_write_rr(&w, mail, 0, PKT_TYPE_A, PKT_CLASS_IN, 60, addr, 4), TDM_OK);
	edns_t req = { .present = true, .do_bit = true, .nsid = true };
	edns_reply_t opts = { .nsid = "ns1" };
	assert_int_equal(edns_write(&w, &req, 1232, rcode, &opts), TDM_OK);
	return pkt_writer_finish(&w);
}

static const lookup_stats_t stats = { .server = "127.0.0.1@5300", .tcp = false, .ms = 1.25,
                                      .size = 0 };

static char *print_text(const uint8_t *msg, size_t len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	assert_non_null(out);
	lookup_stats_t st = stats;
	st.size = len;
	assert_int_equal(lookup_print_text(out, msg, len, &st), TDM_OK);
	fclose(out);
	return text;
}

static void expect(const char *text, const char *line)
{
	if (strstr(text, line) == NULL)
		fail_msg("missing '%s' in:\n%s", line, text);
}

static void test_print_text(void **state)
{
	uint8_t buf[512];
	size_t len = canned(buf, sizeof(buf), PKT_FLAG_QR | PKT_FLAG_AA | PKT_FLAG_RD, 0);
	char *text = print_text(buf, len);
	expect(text, ";; ->>HEADER<<- opcode: QUERY; status: NOERROR; id: 4660\n");
	expect(text, ";; Flags: qr aa rd; QUERY: 1; ANSWER: 2; AUTHORITY: 1; ADDITIONAL: 2\n");
	expect(text, ";; Version: 0; flags: do; UDP size: 1232 B\n");
	expect(text, ";; NSID: 6E7331 \"ns1\"\n");
	expect(text, "\n;; QUESTION SECTION:\n;; example.com.");
	expect(text, "\tIN\tA\n");
	expect(text, "\n;; ANSWER SECTION:\nexample.com.");
	expect(text, "\t3600\tIN\tA\t192.0.2.1\n");
	expect(text, "\t300\tIN\tMX\t10 mail.example.com.\n");
	expect(text, "\n;; AUTHORITY SECTION:\n");
	expect(text, "\t86400\tIN\tNS\tmail.example.com.\n");
	expect(text, "\n;; ADDITIONAL SECTION:\nmail.example.com.");
	char want[128];
	snprintf(want, sizeof(want), ";; Received %zu B from 127.0.0.1@5300(UDP) in 1.2 ms\n", len);
	expect(text, want);
	assert_null(strstr(text, "OPT"));   /* the OPT record is the pseudosection, not a record */
	free(text);
}

/* RFC 6891 6.1.3: the OPT record holds the upper eight bits of the rcode. */
static void test_print_extended_rcode(void **state)
{
	uint8_t buf[512];
	size_t len = canned(buf, sizeof(buf), PKT_FLAG_QR, PKT_RCODE_BADVERS);
	char *text = print_text(buf, len);
	expect(text, "status: BADVERS;");
	expect(text, ";; Flags: qr;");
	free(text);
	len = canned(buf, sizeof(buf), PKT_FLAG_QR | PKT_FLAG_TC, PKT_RCODE_NXDOMAIN);
	text = print_text(buf, len);
	expect(text, "status: NXDOMAIN;");
	expect(text, ";; Flags: qr tc;");
	free(text);
}

static void test_print_json(void **state)
{
	uint8_t buf[512];
	size_t len = canned(buf, sizeof(buf), PKT_FLAG_QR | PKT_FLAG_AA, PKT_RCODE_NXDOMAIN);
	json_t *obj;
	char *text = NULL;
	size_t size = 0;
	assert_int_equal(lookup_json_reply(buf, len, &obj), TDM_OK);
	FILE *out = open_memstream(&text, &size);
	lookup_stats_t st = stats;
	st.size = len;
	assert_int_equal(lookup_json_print(out, obj, &st), TDM_OK);
	fclose(out);
	json_error_t error;
	json_t *j = json_loads(text, 0, &error);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 0x1234);
	assert_string_equal(json_string_value(json_object_get(j, "rcode")), "NXDOMAIN");
	assert_string_equal(json_string_value(json_object_get(j, "protocol")), "UDP");
	assert_string_equal(json_string_value(json_object_get(j, "server")), "127.0.0.1@5300");
	assert_int_equal(json_integer_value(json_object_get(j, "size")), (json_int_t)len);
	json_t *flags = json_object_get(j, "flags");
	assert_int_equal(json_array_size(flags), 2);
	assert_string_equal(json_string_value(json_array_get(flags, 1)), "aa");
	json_t *edns = json_object_get(j, "edns");
	assert_string_equal(json_string_value(json_object_get(edns, "nsid")), "ns1");
	json_t *sections = json_object_get(j, "sections");
	json_t *answer = json_object_get(sections, "answer");
	assert_int_equal(json_array_size(answer), 2);
	json_t *mx = json_array_get(answer, 1);
	assert_string_equal(json_string_value(json_object_get(mx, "name")), "example.com.");
	assert_int_equal(json_integer_value(json_object_get(mx, "ttl")), 300);
	assert_string_equal(json_string_value(json_object_get(mx, "class")), "IN");
	assert_string_equal(json_string_value(json_object_get(mx, "type")), "MX");
	assert_string_equal(json_string_value(json_object_get(mx, "data")), "10 mail.example.com.");
	assert_int_equal(json_array_size(json_object_get(sections, "authority")), 1);
	assert_int_equal(json_array_size(json_object_get(sections, "additional")), 1);  /* no OPT */
	assert_int_equal(json_array_size(json_object_get(j, "question")), 1);
	json_decref(j);
	free(text);
}

/* ---- bad replies ---- */

/* Every cut of a good reply is refused with a reason, and nothing reads past the cut (ASan). */
static void test_truncated_replies(void **state)
{
	uint8_t buf[512];
	size_t len = canned(buf, sizeof(buf), PKT_FLAG_QR, 0);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut + 1);
		assert_non_null(copy);
		memcpy(copy, buf, cut);
		lookup_reply_t r;
		char err[256] = "";
		assert_int_not_equal(lookup_reply_read(copy, cut, &r, NULL, NULL, err, sizeof(err)), TDM_OK);
		assert_true(err[0] != '\0');
		free(copy);
	}
}

/* Every single-octet change either parses or is refused, and printing what parses works. */
static void test_mutated_replies(void **state)
{
	uint8_t buf[512];
	size_t len = canned(buf, sizeof(buf), PKT_FLAG_QR, 0);
	static const uint8_t values[] = { 0x00, 0x01, 0x3F, 0x40, 0x80, 0xC0, 0xC0 | 0x0C, 0xFF };
	for (size_t i = 0; i < len; i++) {
		for (size_t v = 0; v < sizeof(values); v++) {
			uint8_t *copy = malloc(len);
			assert_non_null(copy);
			memcpy(copy, buf, len);
			copy[i] = values[v];
			lookup_reply_t r;
			char err[256];
			if (lookup_reply_read(copy, len, &r, NULL, NULL, err, sizeof(err)) == TDM_OK) {
				char *text = print_text(copy, len);
				free(text);
			}
			free(copy);
		}
	}
}

static void test_malformed_reasons(void **state)
{
	uint8_t buf[512];
	lookup_reply_t r;
	char err[256];
	size_t len = canned(buf, sizeof(buf), PKT_FLAG_QR, 0);
	/* A compression pointer to itself as the first answer's owner. */
	size_t pos = PKT_HEADER_LEN;
	pkt_question_t q;
	assert_int_equal(pkt_read_question(buf, len, &pos, &q), TDM_OK);
	pkt_put16(buf + pos, (uint16_t)(0xC000 | pos));
	assert_int_equal(lookup_reply_read(buf, len, &r, NULL, NULL, err, sizeof(err)), TDM_ECOMPRESS);
	assert_string_equal(err, "answer record 1: bad compression pointer");
	/* One answer more than there is. */
	len = canned(buf, sizeof(buf), PKT_FLAG_QR, 0);
	pkt_put16(buf + 10, 0);
	pkt_put16(buf + 6, 5);
	assert_int_equal(lookup_reply_read(buf, len, &r, NULL, NULL, err, sizeof(err)), TDM_EMALF);
	/* An OPT in the answer section: move ancount/arcount so the OPT is counted as an answer. */
	len = canned(buf, sizeof(buf), PKT_FLAG_QR, 0);
	pkt_put16(buf + 6, 5);
	pkt_put16(buf + 8, 0);
	pkt_put16(buf + 10, 0);
	assert_int_equal(lookup_reply_read(buf, len, &r, NULL, NULL, err, sizeof(err)), TDM_EMALF);
	assert_non_null(strstr(err, "OPT record outside the additional section"));
}

/* ---- no reply ---- */

static int bound_socket(int type, uint16_t *port)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sin);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static int run(const char *line, char **out_text, char **err_text)
{
	lookup_args_t a;
	char err[256];
	size_t n1 = 0, n2 = 0;
	assert_int_equal(parse(&a, err, line), TDM_OK);
	FILE *out = open_memstream(out_text, &n1), *errf = open_memstream(err_text, &n2);
	int status = lookup_run(&a, out, errf);
	fclose(out);
	fclose(errf);
	return status;
}

static void test_no_answer(void **state)
{
	uint16_t port;
	int fd = bound_socket(SOCK_DGRAM, &port);   /* bound, never read: silence */
	char line[128], *out, *err;
	snprintf(line, sizeof(line), "example.com @127.0.0.1@%u +timeout=1 +tries=1", port);
	assert_int_equal(run(line, &out, &err), LOOKUP_EXIT_NOREPLY);
	char want[128];
	snprintf(want, sizeof(want), "no answer from 127.0.0.1@%u (UDP) after 1 try of 1 s", port);
	expect(err, want);
	assert_string_equal(out, "");
	free(out);
	free(err);
	close(fd);
}

static void test_connection_refused(void **state)
{
	uint16_t port;
	close(bound_socket(SOCK_STREAM, &port));   /* a port nobody listens on */
	char line[128], want[128], *out, *err;
	snprintf(line, sizeof(line), "example.com @127.0.0.1@%u +tcp", port);
	assert_int_equal(run(line, &out, &err), LOOKUP_EXIT_NOREPLY);
	snprintf(want, sizeof(want), "connection refused by 127.0.0.1@%u (TCP)", port);
	expect(err, want);
	free(out);
	free(err);
}

/* ---- a reply from a tiny server thread ---- */

struct server {
	int fd;
	uint16_t flags;   /* of the reply */
};

static void *serve_once(void *arg)
{
	struct server *s = arg;
	uint8_t q[512], r[512];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom(s->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
	if (n < PKT_HEADER_LEN)
		return NULL;
	size_t len = canned(r, sizeof(r), s->flags, 0);
	memcpy(r, q, 2);   /* the query's ID */
	sendto(s->fd, r, len, 0, (struct sockaddr *)&from, flen);
	return NULL;
}

static void test_udp_answer(void **state)
{
	uint16_t port;
	struct server s = { .flags = PKT_FLAG_QR | PKT_FLAG_AA };
	s.fd = bound_socket(SOCK_DGRAM, &port);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, serve_once, &s), 0);
	char line[128], *out, *err;
	snprintf(line, sizeof(line), "example.com @127.0.0.1@%u +timeout=2 +tries=1", port);
	assert_int_equal(run(line, &out, &err), LOOKUP_EXIT_OK);
	pthread_join(t, NULL);
	expect(out, "status: NOERROR;");
	expect(out, "\t3600\tIN\tA\t192.0.2.1\n");
	expect(out, "(UDP) in ");
	assert_string_equal(err, "");
	free(out);
	free(err);
	close(s.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_defaults),
		cmocka_unit_test(test_args_everything),
		cmocka_unit_test(test_args_axfr),
		cmocka_unit_test(test_args_errors),
		cmocka_unit_test(test_args_key),
		cmocka_unit_test(test_args_help),
		cmocka_unit_test(test_build_query),
		cmocka_unit_test(test_print_text),
		cmocka_unit_test(test_print_extended_rcode),
		cmocka_unit_test(test_print_json),
		cmocka_unit_test(test_truncated_replies),
		cmocka_unit_test(test_mutated_replies),
		cmocka_unit_test(test_malformed_reasons),
		cmocka_unit_test(test_no_answer),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_udp_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
