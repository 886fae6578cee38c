/* tests/unit/cli/test_cli.c -- the operator commands: options, the HTTP client, API errors, output, verify */
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

#include "cli/api.h"
#include "cli/dnsq.h"
#include "cli/fmt.h"
#include "cli/http.h"
#include "cli/keygen.h"
#include "cli/opts.h"
#include "cli/status.h"
#include "cli/verify.h"
#include "cli/zone.h"
#include "lib/error.h"
#include "tsig/tsig_openssl.h"
#include "wire/name.h"
#include "wire/pkt.h"

/* ---- helpers ---- */

/* Splits a line into words (at most 32) in a buffer the caller keeps. */
static int words(char *copy, size_t size, const char *line, char **argv)
{
	int argc = 0;
	snprintf(copy, size, "%s", line);
	for (char *w = strtok(copy, " "); w != NULL && argc < 32; w = strtok(NULL, " "))
		argv[argc++] = w;
	return argc;
}

/* Output of a printer into a string the caller frees. */
struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void capture_start(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static char *capture_end(struct capture *c)
{
	fclose(c->f);
	return c->text;
}

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (j == NULL)
		fail_msg("bad test JSON: %s at %d", e.text, e.position);
	return j;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* ---- options ---- */

static void test_opts_defaults_and_env(void **state)
{
	cli_opts_t o;
	cli_opts_init(&o, NULL, "");
	assert_string_equal(o.server, "127.0.0.1@8053");
	assert_string_equal(o.key_file, "./var/api.key");
	assert_int_equal(o.key_source, CLI_KEY_DEFAULT_FILE);
	assert_false(o.json || o.help || o.server_given);
	cli_opts_init(&o, "192.0.2.1@9000", "sekrit");
	assert_string_equal(o.server, "192.0.2.1@9000");
	assert_true(o.server_given);
	assert_string_equal(o.api_key, "sekrit");
	assert_int_equal(o.key_source, CLI_KEY_ENV);
}

static void test_opts_leading(void **state)
{
	cli_opts_t o;
	char copy[256], *argv[32], err[256];
	int used;
	cli_opts_init(&o, NULL, NULL);
	int argc = words(copy, sizeof(copy), "--server ::1@8080 --api-key=k1 --json zone list", argv);
	assert_int_equal(cli_opts_leading(&o, argc, argv, &used, err, sizeof(err)), TDM_OK);
	assert_int_equal(used, 4);
	assert_string_equal(argv[used], "zone");
	assert_string_equal(o.server, "::1@8080");
	assert_string_equal(o.api_key, "k1");
	assert_int_equal(o.key_source, CLI_KEY_OPTION);
	assert_true(o.json);
	/* --key-file after --api-key: the explicit key still wins. */
	argc = words(copy, sizeof(copy), "--key-file /tmp/k --timeout 3 status", argv);
	assert_int_equal(cli_opts_leading(&o, argc, argv, &used, err, sizeof(err)), TDM_OK);
	assert_int_equal(o.key_source, CLI_KEY_OPTION);
	assert_string_equal(o.key_file, "/tmp/k");
	assert_int_equal(o.timeout, 3);
	argc = words(copy, sizeof(copy), "--server", argv);
	assert_int_equal(cli_opts_leading(&o, argc, argv, &used, err, sizeof(err)), TDM_EINVAL);
	assert_string_equal(err, "--server wants a value");
	argc = words(copy, sizeof(copy), "--bogus status", argv);
	assert_int_equal(cli_opts_leading(&o, argc, argv, &used, err, sizeof(err)), TDM_EINVAL);
	assert_non_null(strstr(err, "unknown option '--bogus'"));
	argc = words(copy, sizeof(copy), "--timeout 0 status", argv);
	assert_int_equal(cli_opts_leading(&o, argc, argv, &used, err, sizeof(err)), TDM_EINVAL);
	argc = words(copy, sizeof(copy), "--timeout 5x status", argv);
	assert_int_equal(cli_opts_leading(&o, argc, argv, &used, err, sizeof(err)), TDM_EINVAL);
}

static void test_opts_parse_words(void **state)
{
	cli_opts_t o;
	char copy[256], *argv[32], err[256];
	int npos;
	bool bind = false;
	const cli_flag_t flags[] = { { "--bind", &bind } };
	cli_opts_init(&o, NULL, NULL);
	int argc = words(copy, sizeof(copy), "xfr-key --bind hmac-sha512 --json -- --odd", argv);
	assert_int_equal(cli_opts_parse(&o, argc, argv, flags, 1, argv, &npos, err, sizeof(err)),
	                 TDM_OK);
	assert_int_equal(npos, 3);
	assert_string_equal(argv[0], "xfr-key");
	assert_string_equal(argv[1], "hmac-sha512");
	assert_string_equal(argv[2], "--odd");
	assert_true(bind && o.json);
	argc = words(copy, sizeof(copy), "show example.com. --server 127.0.0.1@1 -h", argv);
	assert_int_equal(cli_opts_parse(&o, argc, argv, NULL, 0, argv, &npos, err, sizeof(err)), TDM_OK);
	assert_int_equal(npos, 2);
	assert_string_equal(argv[1], "example.com.");
	assert_string_equal(o.server, "127.0.0.1@1");
	assert_true(o.help);
	argc = words(copy, sizeof(copy), "list --bind", argv);
	assert_int_equal(cli_opts_parse(&o, argc, argv, NULL, 0, argv, &npos, err, sizeof(err)),
	                 TDM_EINVAL);
	assert_string_equal(err, "unknown option '--bind'");
}

static void test_opts_key(void **state)
{
	cli_opts_t o;
	char key[CLI_KEY_MAX], err[512], path[] = "/tmp/tandem-test-key-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	cli_opts_init(&o, NULL, NULL);
	snprintf(o.key_file, sizeof(o.key_file), "%s", path);
	o.key_source = CLI_KEY_FILE;
	write_file(path, "  0123abcdef\n\nsecond line\n");
	assert_int_equal(cli_opts_key(&o, key, sizeof(key), err, sizeof(err)), TDM_OK);
	assert_string_equal(key, "0123abcdef");
	write_file(path, "\n");
	assert_int_equal(cli_opts_key(&o, key, sizeof(key), err, sizeof(err)), TDM_EINVAL);
	assert_non_null(strstr(err, "no API key in"));
	write_file(path, "two words\n");
	assert_int_equal(cli_opts_key(&o, key, sizeof(key), err, sizeof(err)), TDM_EINVAL);
	char big[CLI_KEY_MAX + 10];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file(path, big);
	assert_int_equal(cli_opts_key(&o, key, sizeof(key), err, sizeof(err)), TDM_ESPACE);
	unlink(path);
	assert_int_equal(cli_opts_key(&o, key, sizeof(key), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot read the API key from /tmp/tandem-test-key-"));
	assert_non_null(strstr(err, "(no such file or directory)"));
	/* --api-key needs no file. */
	snprintf(o.api_key, sizeof(o.api_key), "given");
	o.key_source = CLI_KEY_OPTION;
	assert_int_equal(cli_opts_key(&o, key, sizeof(key), err, sizeof(err)), TDM_OK);
	assert_string_equal(key, "given");
	snprintf(o.api_key, sizeof(o.api_key), "bad\r\nX-Evil: 1");
	assert_int_equal(cli_opts_key(&o, key, sizeof(key), err, sizeof(err)), TDM_EINVAL);
}

static void test_resolve(void **state)
{
	sockaddr_t sa;
	char host[CLI_HOST_MAX];
	assert_int_equal(cli_resolve("127.0.0.1@8053", 1, &sa, host), TDM_OK);
	assert_string_equal(host, "127.0.0.1:8053");
	assert_int_equal(cli_resolve("::1", 8053, &sa, host), TDM_OK);
	assert_string_equal(host, "[::1]:8053");
	assert_int_equal(sockaddr_port(&sa), 8053);
	assert_int_equal(cli_resolve("localhost@8080", 1, &sa, host), TDM_OK);
	assert_string_equal(host, "localhost:8080");
	assert_int_equal(cli_resolve("127.0.0.1@99999", 1, &sa, host), TDM_EINVAL);
	assert_int_equal(cli_resolve("localhost@x", 1, &sa, host), TDM_EINVAL);
	assert_int_equal(cli_resolve("@53", 1, &sa, host), TDM_EINVAL);
}

/* ---- HTTP: requests and parsing ---- */

static void test_http_build(void **state)
{
	char out[512];
	cli_http_request_t req = { .method = "GET", .path = "/api/v1/zones", .host = "127.0.0.1:8053",
	                           .api_key = "k3y" };
	int n = cli_http_build(&req, out, sizeof(out));
	assert_true(n > 0);
	assert_string_equal(out, "GET /api/v1/zones HTTP/1.1\r\nHost: 127.0.0.1:8053\r\n"
	                         "X-API-Key: k3y\r\nAccept: application/json\r\nUser-Agent: tandem\r\n"
	                         "Content-Length: 0\r\nConnection: close\r\n\r\n");
	req.method = "POST";
	req.body = "{}";
	req.body_len = 2;
	req.api_key = NULL;
	n = cli_http_build(&req, out, sizeof(out));
	assert_true(n > 0);
	assert_memory_equal(out + n - 6, "\r\n\r\n{}", 6);
	assert_non_null(strstr(out, "Content-Type: application/json\r\nContent-Length: 2\r\n"));
	assert_null(strstr(out, "X-API-Key"));
	req.api_key = "a\r\nb";
	assert_int_equal(cli_http_build(&req, out, sizeof(out)), TDM_EINVAL);
	req.api_key = NULL;
	req.path = "/a b";
	assert_int_equal(cli_http_build(&req, out, sizeof(out)), TDM_EINVAL);
	req.path = "/";
	assert_int_equal(cli_http_build(&req, out, 40), TDM_ESPACE);
}

static void test_http_parse_head(void **state)
{
	cli_http_head_t h;
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length:  12 \r\n"
	                 "\r\n{\"zones\":[]}";
	assert_int_equal(cli_http_parse_head(ok, strlen(ok), &h), TDM_OK);
	assert_int_equal(h.status, 200);
	assert_true(h.has_length);
	assert_int_equal(h.content_length, 12);
	assert_int_equal(h.head_len, strlen(ok) - 12);
	/* Every prefix of the head is incomplete, never an error. */
	for (size_t n = 0; n < h.head_len; n++)
		assert_int_equal(cli_http_parse_head(ok, n, &h), TDM_EAGAIN);
	const char *lf = "HTTP/1.0 404\nX: y\n\n";
	assert_int_equal(cli_http_parse_head(lf, strlen(lf), &h), TDM_OK);
	assert_int_equal(h.status, 404);
	assert_false(h.has_length);
	const char *chunked = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
	assert_int_equal(cli_http_parse_head(chunked, strlen(chunked), &h), TDM_OK);
	assert_true(h.chunked);
	static const char *const bad[] = {
		"SSH-2.0-OpenSSH\r\n\r\n",
		"HTTP/2 200\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\n folded: line\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cli_http_parse_head(bad[i], strlen(bad[i]), &h), TDM_EMALF);
	/* Not HTTP at all is known from the first octets. */
	assert_int_equal(cli_http_parse_head("\x00\x1c", 2, &h), TDM_EMALF);
}

static void test_http_dechunk(void **state)
{
	const char *text = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n";
	char buf[128];
	size_t len = strlen(text), out;
	memcpy(buf, text, len);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(cli_http_dechunk(buf, n, NULL, NULL), TDM_EAGAIN);
	assert_int_equal(cli_http_dechunk(buf, len, NULL, NULL), TDM_OK);
	assert_int_equal(cli_http_dechunk(buf, len, buf, &out), TDM_OK);
	assert_int_equal(out, 12);
	assert_memory_equal(buf, "hello, world", 12);
	static const char *const bad[] = {
		"x\r\n", "5\r\nhelloXX", "5 junk\r\nhello\r\n0\r\n\r\n", "fffffffffffffffff\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(buf, bad[i], strlen(bad[i]));
		assert_int_equal(cli_http_dechunk(buf, strlen(bad[i]), NULL, NULL), TDM_EMALF);
	}
	/* A chunk larger than any body we accept is refused before its data arrives. */
	assert_int_equal(cli_http_dechunk((char *)"10000000\r\n", 10, NULL, NULL), TDM_ESPACE);
}

/* ---- HTTP: a fake server on a thread ---- */

struct fake {
	int listen_fd;
	uint16_t port;
	const char *reply;       /* sent in pieces of `piece` octets; NULL = say nothing */
	size_t piece;
	bool hold;               /* keep the connection open after the reply */
	char request[4096];      /* what arrived, up to the empty line */
	pthread_t thread;
};

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	size_t len = 0;
	while (len < sizeof(f->request) - 1 && strstr(f->request, "\r\n\r\n") == NULL) {
		ssize_t n = recv(fd, f->request + len, sizeof(f->request) - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		f->request[len] = '\0';
	}
	size_t total = f->reply != NULL ? strlen(f->reply) : 0;
	for (size_t off = 0; off < total; off += f->piece) {
		size_t n = total - off < f->piece ? total - off : f->piece;
		if (send(fd, f->reply + off, n, MSG_NOSIGNAL) < 0)
			break;
		usleep(1000);
	}
	if (f->hold || f->reply == NULL)
		sleep(2);
	close(fd);
	return NULL;
}

static void fake_start(struct fake *f, const char *reply, size_t piece)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sin);
	memset(f->request, 0, sizeof(f->request));
	f->reply = reply;
	f->piece = piece > 0 ? piece : 1 << 20;
	f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->listen_fd >= 0);
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(f->listen_fd, 1), 0);
	assert_int_equal(getsockname(f->listen_fd, (struct sockaddr *)&sin, &slen), 0);
	f->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
}

static int fake_request(struct fake *f, unsigned timeout, cli_http_reply_t *r)
{
	sockaddr_t sa;
	char text[64];
	snprintf(text, sizeof(text), "127.0.0.1@%u", f->port);
	assert_int_equal(sockaddr_parse(&sa, text, 0), TDM_OK);
	cli_http_request_t req = { .method = "GET", .path = "/api/v1/status", .host = "h",
	                           .api_key = "k" };
	return cli_http_request(&sa, &req, timeout, r);
}

static void test_http_exchange(void **state)
{
	static const struct {
		const char *reply;
		size_t piece;
		const char *body;
		int status;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"a\": true}", 0, "{\"a\": true}", 200 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"a\": true}", 3, "{\"a\": true}", 200 },
		{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}",
		  0, "{}", 401 },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", 4,
		  "abcde", 200 },
		{ "HTTP/1.0 200 OK\r\n\r\nuntil the end", 5, "until the end", 200 },
		{ "HTTP/1.1 204 No Content\r\n\r\n", 0, "", 204 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f = { 0 };
		cli_http_reply_t r;
		fake_start(&f, cases[i].reply, cases[i].piece);
		assert_int_equal(fake_request(&f, 5, &r), TDM_OK);
		fake_stop(&f);
		assert_int_equal(r.status, cases[i].status);
		assert_string_equal(r.body, cases[i].body);
		assert_int_equal(r.body_len, strlen(cases[i].body));
		assert_non_null(strstr(f.request, "GET /api/v1/status HTTP/1.1\r\n"));
		assert_non_null(strstr(f.request, "\r\nX-API-Key: k\r\n"));
		cli_http_reply_free(&r);
	}
}

static void test_http_failures(void **state)
{
	struct fake f = { 0 };
	cli_http_reply_t r;
	/* Cut short: less body than Content-Length says, then close. */
	fake_start(&f, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}", 0);
	assert_int_equal(fake_request(&f, 5, &r), -EPIPE);
	fake_stop(&f);
	/* Not HTTP. */
	fake_start(&f, "SSH-2.0-OpenSSH_9.2\r\n", 0);
	assert_int_equal(fake_request(&f, 5, &r), TDM_EMALF);
	fake_stop(&f);
	/* Silence: the timeout ends the wait. */
	fake_start(&f, NULL, 0);
	assert_int_equal(fake_request(&f, 1, &r), TDM_ETIMEDOUT);
	fake_stop(&f);
	/* An announced body beyond the limit is refused without reading it. */
	fake_start(&f, "HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n", 0);
	assert_int_equal(fake_request(&f, 5, &r), TDM_ESPACE);
	fake_stop(&f);
	/* Nobody listening: the port of a socket just closed. */
	fake_start(&f, "", 0);
	int port = f.port;
	assert_int_equal(fake_request(&f, 5, &r), -EPIPE);
	fake_stop(&f);
	f.port = (uint16_t)port;
	assert_int_equal(fake_request(&f, 5, &r), TDM_ECONNREFUSED);
}

/* ---- API calls and their messages ---- */

static void test_api_messages(void **state)
{
	cli_opts_t o;
	char buf[1024];
	cli_opts_init(&o, NULL, NULL);
	assert_string_equal(cli_api_transport_message(TDM_ECONNREFUSED, "127.0.0.1@8053", 10, buf,
	                                              sizeof(buf)),
	                    "cannot connect to the API at 127.0.0.1@8053 (connection refused): is "
	                    "tandemd running with http.listen set?");
	assert_non_null(strstr(cli_api_transport_message(TDM_ETIMEDOUT, "x", 7, buf, sizeof(buf)),
	                       "did not answer within 7 s"));
	assert_string_equal(cli_api_status_message(&o, 401, "{\"error\": \"bad key\"}", buf, sizeof(buf)),
	                    "the API refused the key (401): check --key-file (default ./var/api.key)");
	o.key_source = CLI_KEY_OPTION;
	assert_string_equal(cli_api_status_message(&o, 401, NULL, buf, sizeof(buf)),
	                    "the API refused the key (401): check --api-key");
	o.key_source = CLI_KEY_FILE;
	snprintf(o.key_file, sizeof(o.key_file), "/etc/tandem/api.key");
	assert_string_equal(cli_api_status_message(&o, 401, NULL, buf, sizeof(buf)),
	                    "the API refused the key (401): check --key-file (/etc/tandem/api.key)");
	assert_string_equal(cli_api_status_message(&o, 404, "{\"error\": \"no zone nope.test.\"}", buf,
	                                           sizeof(buf)),
	                    "no zone nope.test. (404)");
	assert_string_equal(cli_api_status_message(&o, 409, "{\"error\": \"example.com. is a primary: "
	                                                    "nothing to refresh\"}", buf, sizeof(buf)),
	                    "example.com. is a primary: nothing to refresh (409)");
	assert_string_equal(cli_api_status_message(&o, 502, "<html>", buf, sizeof(buf)),
	                    "the API at 127.0.0.1@8053 answered HTTP 502");
	assert_int_equal(cli_api_exit_status(200), CLI_EXIT_OK);
	assert_int_equal(cli_api_exit_status(202), CLI_EXIT_OK);
	assert_int_equal(cli_api_exit_status(404), CLI_EXIT_NOTFOUND);
	assert_int_equal(cli_api_exit_status(401), CLI_EXIT_API);
	assert_int_equal(cli_api_exit_status(500), CLI_EXIT_API);
}

static void test_api_zone_path(void **state)
{
	char path[64];
	assert_int_equal(cli_api_zone_path("example.com.", NULL, path, sizeof(path)), TDM_OK);
	assert_string_equal(path, "/zones/example.com.");
	assert_int_equal(cli_api_zone_path("Example.COM", "retransfer", path, sizeof(path)), TDM_OK);
	assert_string_equal(path, "/zones/Example.COM/retransfer");
	assert_int_equal(cli_api_zone_path("0/24.2.0.192.in-addr.arpa.", NULL, path, sizeof(path)),
	                 TDM_OK);
	assert_string_equal(path, "/zones/0%2F24.2.0.192.in-addr.arpa.");
	assert_int_equal(cli_api_zone_path("a b?#", "notify", path, sizeof(path)), TDM_OK);
	assert_string_equal(path, "/zones/a%20b%3F%23/notify");
	assert_int_equal(cli_api_zone_path("", NULL, path, sizeof(path)), TDM_EINVAL);
	assert_int_equal(cli_api_zone_path("a-very-long-zone-name.example.", "retransfer", path, 40),
	                 TDM_ESPACE);
}

static void test_api_call(void **state)
{
	struct fake f = { 0 };
	cli_opts_t o;
	json_t *j;
	struct capture err;
	cli_opts_init(&o, NULL, "the-key");
	fake_start(&f, "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{\"zones\": [1]}", 0);
	snprintf(o.server, sizeof(o.server), "127.0.0.1@%u", f.port);
	capture_start(&err);
	assert_int_equal(cli_api_call(&o, "GET", "/zones", &j, err.f), CLI_EXIT_OK);
	fake_stop(&f);
	free(capture_end(&err));
	assert_int_equal(json_array_size(json_object_get(j, "zones")), 1);
	json_decref(j);
	assert_non_null(strstr(f.request, "GET /api/v1/zones HTTP/1.1\r\n"));
	assert_non_null(strstr(f.request, "X-API-Key: the-key\r\n"));
	assert_non_null(strstr(f.request, "Host: 127.0.0.1:"));

	fake_start(&f, "HTTP/1.1 404 Not Found\r\nContent-Length: 27\r\n\r\n"
	               "{\"error\": \"no zone nope.\"}\n", 0);
	snprintf(o.server, sizeof(o.server), "127.0.0.1@%u", f.port);
	capture_start(&err);
	assert_int_equal(cli_api_call(&o, "POST", "/zones/nope./refresh", &j, err.f), CLI_EXIT_NOTFOUND);
	fake_stop(&f);
	char *text = capture_end(&err);
	assert_string_equal(text, "tandem: no zone nope. (404)\n");
	free(text);
	assert_null(j);
	assert_non_null(strstr(f.request, "POST /api/v1/zones/nope./refresh HTTP/1.1\r\n"));

	fake_start(&f, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n{x}", 0);
	snprintf(o.server, sizeof(o.server), "127.0.0.1@%u", f.port);
	capture_start(&err);
	assert_int_equal(cli_api_call(&o, "GET", "/status", &j, err.f), CLI_EXIT_API);
	fake_stop(&f);
	text = capture_end(&err);
	assert_non_null(strstr(text, "sent a reply that is not JSON"));
	free(text);

	snprintf(o.server, sizeof(o.server), "not an address");
	capture_start(&err);
	assert_int_equal(cli_api_call(&o, "GET", "/status", &j, err.f), CLI_EXIT_USAGE);
	free(capture_end(&err));
}

/* ---- times and tables ---- */

static void test_fmt_times(void **state)
{
	char buf[CLI_TIME_MAX];
	static const struct { int64_t secs; const char *text; } durations[] = {
		{ 0, "0 s" }, { 12, "12 s" }, { 59, "59 s" }, { 60, "1 min" }, { 90, "1 min 30 s" },
		{ 3599, "59 min 59 s" }, { 3600, "1 h" }, { 7140, "1 h 59 min" }, { 7188, "1 h 59 min" },
		{ 86400, "1 d" }, { 1209588, "13 d 23 h" }, { 1209600, "14 d" }, { -12, "12 s" },
	};
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++)
		assert_string_equal(cli_fmt_duration(durations[i].secs, buf, sizeof(buf)),
		                    durations[i].text);
	assert_string_equal(cli_fmt_relative(100, 112, buf, sizeof(buf)), "12 s ago");
	assert_string_equal(cli_fmt_relative(7240, 100, buf, sizeof(buf)), "in 1 h 59 min");
	assert_string_equal(cli_fmt_relative(5, 5, buf, sizeof(buf)), "now");
	assert_string_equal(cli_fmt_utc(1795660000, buf, sizeof(buf)), "2026-11-26 02:26:40 UTC");
	assert_string_equal(cli_fmt_when(1795660000, 1795660012, buf, sizeof(buf)),
	                    "12 s ago (2026-11-26 02:26:40 UTC)");
}

static void test_fmt_json_fields(void **state)
{
	json_t *j = load("{\"s\": \"x\", \"i\": 7, \"r\": 2.9, \"n\": null, \"big\": 1e300}");
	int64_t v;
	char buf[32];
	assert_string_equal(cli_json_str(j, "s", "-"), "x");
	assert_string_equal(cli_json_str(j, "i", "-"), "-");
	assert_string_equal(cli_json_str(NULL, "s", "-"), "-");
	assert_true(cli_json_int(j, "i", &v) && v == 7);
	assert_true(cli_json_int(j, "r", &v) && v == 2);
	assert_false(cli_json_int(j, "n", &v));
	assert_false(cli_json_int(j, "missing", &v));
	assert_false(cli_json_int(j, "big", &v));
	assert_string_equal(cli_json_int_text(j, "n", "-", buf, sizeof(buf)), "-");
	assert_string_equal(cli_json_int_text(j, "i", "-", buf, sizeof(buf)), "7");
	json_decref(j);
}

static void test_fmt_table(void **state)
{
	static const char *const heads[3] = { "NAME", "SERIAL", "NOTE" };
	static const bool right[3] = { false, true, false };
	cli_table_t t;
	struct capture c;
	cli_table_init(&t, 3, heads, right);
	const char *r1[3] = { "example.com.", "2024010101", "" };
	const char *r2[3] = { "a.", NULL, "port unreachable" };
	assert_int_equal(cli_table_add(&t, r1), TDM_OK);
	assert_int_equal(cli_table_add(&t, r2), TDM_OK);
	capture_start(&c);
	assert_int_equal(cli_table_print(&t, c.f), TDM_OK);
	char *text = capture_end(&c);
	assert_string_equal(text, "NAME              SERIAL  NOTE\n"
	                          "example.com.  2024010101\n"
	                          "a.                     -  port unreachable\n");
	free(text);
	cli_table_free(&t);
}

/* ---- what the commands print from canned JSON ---- */

static void test_status_print(void **state)
{
	json_t *j = load("{\"version\": \"0.3.0\", \"uptime\": 11520, \"zones\": 12, \"workers\": 2,"
	                 " \"listen\": [\"127.0.0.1@5300\", \"::1@5300\"]}");
	int64_t now = 1795660000;
	struct capture c;
	capture_start(&c);
	assert_int_equal(cli_status_print(c.f, j, &now), TDM_OK);
	char *text = capture_end(&c);
	assert_string_equal(text, "version  0.3.0\n"
	                          "uptime   3 h 12 min (up since 2026-11-25 23:14:40 UTC)\n"
	                          "zones    12\n"
	                          "workers  2\n"
	                          "listen   127.0.0.1@5300, ::1@5300\n");
	free(text);
	json_decref(j);
	/* Missing fields print as "-", not as garbage. */
	j = load("{}");
	capture_start(&c);
	assert_int_equal(cli_status_print(c.f, j, &now), TDM_OK);
	text = capture_end(&c);
	assert_string_equal(text, "version  -\nuptime   -\nzones    -\nworkers  -\nlisten   -\n");
	free(text);
	json_decref(j);
}

static void test_zone_list_print(void **state)
{
	json_t *j = load("{\"zones\": ["
	                 "{\"name\": \"example.com.\", \"type\": \"primary\", \"serial\": 2026112602,"
	                 " \"records\": 29, \"state\": \"ok\", \"source\": \"config\"},"
	                 "{\"name\": \"example.net.\", \"type\": \"secondary\", \"serial\": null,"
	                 " \"records\": 0, \"state\": \"empty\", \"source\": \"api\"}]}");
	struct capture c;
	capture_start(&c);
	assert_int_equal(cli_zone_list_print(c.f, j, NULL), TDM_OK);
	char *text = capture_end(&c);
	assert_string_equal(text,
	                    "NAME          TYPE           SERIAL  STATE  RECORDS  SOURCE\n"
	                    "example.com.  primary    2026112602  ok          29  config\n"
	                    "example.net.  secondary           -  empty        0  api\n");
	free(text);
	json_decref(j);
	j = load("{\"zones\": []}");
	capture_start(&c);
	assert_int_equal(cli_zone_list_print(c.f, j, NULL), TDM_OK);
	text = capture_end(&c);
	assert_string_equal(text, "no zones\n");
	free(text);
	json_decref(j);
}

/* The example of docs/api.md, seen 12 s after its last refresh. */
static const char *const view_json =
	"{\"name\": \"example.com.\", \"type\": \"secondary\", \"serial\": 2026112602, \"records\": 29,"
	" \"state\": \"ok\", \"source\": \"config\","
	" \"secondary\": {\"primaries\": [\"ns1 127.0.0.1@5300\"], \"primary_used\": \"127.0.0.1@5300\","
	"  \"last_refresh\": 1795660000, \"last_result\": \"ok: IXFR serial 2026112601 -> 2026112602\","
	"  \"next_refresh\": 1795667200, \"expires_at\": 1796869600, \"expires_in\": 1209600},"
	" \"primary\": {\"notify\": [\"ns2 127.0.0.2@5300\"], \"secondaries\": ["
	"  {\"address\": \"127.0.0.2\", \"serial\": 2026112602, \"lag\": 0, \"last_seen\": 1795660000,"
	"   \"seen_by\": \"ixfr\", \"last_transfer\": 1795660000, \"last_transfer_type\": \"IXFR\"},"
	"  {\"address\": \"192.0.2.7\", \"serial\": null, \"lag\": null, \"last_seen\": 1795659000,"
	"   \"seen_by\": \"notify\", \"last_transfer\": null, \"last_transfer_type\": null}]}}";

static void test_zone_show_print(void **state)
{
	json_t *j = load(view_json);
	int64_t now = 1795660012;
	struct capture c;
	capture_start(&c);
	assert_int_equal(cli_zone_show_print(c.f, j, &now), TDM_OK);
	char *text = capture_end(&c);
	assert_string_equal(text,
		"zone     example.com.\n"
		"type     secondary\n"
		"serial   2026112602\n"
		"records  29\n"
		"state    ok\n"
		"source   config\n"
		"\n"
		"secondary side\n"
		"  primaries      ns1 127.0.0.1@5300\n"
		"  primary used   127.0.0.1@5300\n"
		"  last refresh   12 s ago (2026-11-26 02:26:40 UTC): ok: IXFR serial 2026112601 -> "
		"2026112602\n"
		"  next refresh   in 1 h 59 min (2026-11-26 04:26:40 UTC)\n"
		"  expires        in 13 d 23 h (2026-12-10 02:26:40 UTC)\n"
		"\n"
		"secondaries seen: 2 (notify: ns2 127.0.0.2@5300)\n"
		"  127.0.0.2      serial 2026112602, in sync\n"
		"    last seen      12 s ago (2026-11-26 02:26:40 UTC), by its IXFR request\n"
		"    last transfer  12 s ago (2026-11-26 02:26:40 UTC), IXFR\n"
		"  192.0.2.7      serial unknown, lag unknown\n"
		"    last seen      16 min 52 s ago (2026-11-26 02:10:00 UTC), by its answer to our NOTIFY\n"
		"    last transfer  none\n");
	free(text);
	json_decref(j);
}

static void test_zone_show_expired(void **state)
{
	json_t *j = load("{\"name\": \"example.net.\", \"type\": \"secondary\", \"serial\": 7,"
	                 " \"state\": \"expired\", \"secondary\": {\"last_refresh\": null,"
	                 " \"next_refresh\": 1000, \"expires_at\": 500},"
	                 " \"primary\": {\"secondaries\": [{\"address\": \"10.0.0.9\", \"serial\": 4,"
	                 " \"lag\": 3, \"last_seen\": 900}]}}");
	int64_t now = 1100;
	struct capture c;
	capture_start(&c);
	assert_int_equal(cli_zone_show_print(c.f, j, &now), TDM_OK);
	char *text = capture_end(&c);
	assert_non_null(strstr(text, "  last refresh   never\n"));
	assert_non_null(strstr(text, "  next refresh   due, 1 min 40 s ago (1970-01-01 00:16:40 UTC)\n"));
	assert_non_null(strstr(text, "  expires        EXPIRED 10 min ago (1970-01-01 00:08:20 UTC): "
	                             "answering SERVFAIL until a refresh succeeds\n"));
	assert_non_null(strstr(text, "  10.0.0.9       serial 4, 3 serials behind\n"));
	assert_non_null(strstr(text, "    last seen      3 min 20 s ago (1970-01-01 00:15:00 UTC)\n"));
	free(text);
	json_decref(j);
	/* A primary with nobody seen yet says how they come to be seen. */
	j = load("{\"name\": \"a.\", \"type\": \"primary\", \"primary\": {\"secondaries\": []}}");
	capture_start(&c);
	assert_int_equal(cli_zone_show_print(c.f, j, &now), TDM_OK);
	text = capture_end(&c);
	assert_null(strstr(text, "secondary side"));
	assert_non_null(strstr(text, "secondaries seen: 0\n  none yet: "));
	free(text);
	json_decref(j);
}

static void test_zone_result_print(void **state)
{
	cli_zone_action_t what = { .zone = "Example.COM", .action = "refresh" };
	json_t *j = load("{\"result\": \"example.com.: SOA check started\"}");
	struct capture c;
	capture_start(&c);
	assert_int_equal(cli_zone_result_print(c.f, j, &what), TDM_OK);
	json_decref(j);
	j = load("{\"result\": \"refresh\"}");
	assert_int_equal(cli_zone_result_print(c.f, j, &what), TDM_OK);
	json_decref(j);
	j = load("{}");
	what.action = "notify";
	assert_int_equal(cli_zone_result_print(c.f, j, &what), TDM_OK);
	char *text = capture_end(&c);
	assert_string_equal(text, "example.com.: SOA check started\n"
	                          "example.com.: refresh started; `tandem zone show example.com.` shows "
	                          "how it went\n"
	                          "example.com.: notify started; `tandem zone show example.com.` shows "
	                          "how it went\n");
	free(text);
	json_decref(j);
}

/* ---- keygen ---- */

static void test_keygen_format(void **state)
{
	uint8_t secret[32];
	char out[1024];
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	int n = cli_keygen_format("Xfr-Key", TSIG_ALG_HMAC_SHA256, secret, sizeof(secret), false, out,
	                          sizeof(out));
	assert_int_equal(n, (int)strlen(out));
	assert_string_equal(out, "keys:\n  - name: xfr-key.\n    algorithm: hmac-sha256\n"
	                         "    secret: \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\n");
	n = cli_keygen_format("xfr-key.", TSIG_ALG_HMAC_SHA256, secret, sizeof(secret), true, out,
	                      sizeof(out));
	assert_true(n > 0);
	assert_string_equal(out, "# Tandem (tandem.yaml)\n"
	                         "keys:\n  - name: xfr-key.\n    algorithm: hmac-sha256\n"
	                         "    secret: \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\n"
	                         "\n# BIND (named.conf)\n"
	                         "key \"xfr-key.\" {\n\talgorithm hmac-sha256;\n"
	                         "\tsecret \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\";\n};\n");
	assert_int_equal(cli_keygen_format("bad name", TSIG_ALG_HMAC_SHA256, secret, 32, false, out,
	                                   sizeof(out)), TDM_EPARSE);
	assert_int_equal(cli_keygen_format("k", TSIG_ALG_HMAC_SHA256, secret, 32, true, out, 60),
	                 TDM_ESPACE);
	json_t *j = cli_keygen_json("K.Example", TSIG_ALG_HMAC_SHA512, secret, 3);
	assert_non_null(j);
	assert_string_equal(cli_json_str(j, "name", ""), "k.example.");
	assert_string_equal(cli_json_str(j, "algorithm", ""), "hmac-sha512");
	assert_string_equal(cli_json_str(j, "secret", ""), "AAEC");
	json_decref(j);
}

/* ---- verify ---- */

static void test_verify_args(void **state)
{
	cli_verify_t v;
	char copy[256], *argv[32], err[256];
	uint8_t zone[NAME_MAXLEN];
	int argc = words(copy, sizeof(copy), "example.com", argv);
	assert_int_equal(cli_verify_args(&v, argc, argv, err, sizeof(err)), TDM_OK);
	name_from_text("example.com.", NULL, zone);
	assert_true(name_equal(v.zone, zone));
	assert_string_equal(v.server_text, "127.0.0.1@53");
	argc = words(copy, sizeof(copy), "@127.0.0.1@5300 example.com.", argv);
	assert_int_equal(cli_verify_args(&v, argc, argv, err, sizeof(err)), TDM_OK);
	assert_string_equal(v.server_text, "127.0.0.1@5300");
	assert_int_equal(v.timeout_ms, CLI_VERIFY_TIMEOUT_MS);
	argc = words(copy, sizeof(copy), "a. b.", argv);
	assert_int_equal(cli_verify_args(&v, argc, argv, err, sizeof(err)), TDM_EINVAL);
	assert_string_equal(err, "unexpected 'b.'");
	argc = words(copy, sizeof(copy), "@::1", argv);
	assert_int_equal(cli_verify_args(&v, argc, argv, err, sizeof(err)), TDM_EINVAL);
	assert_string_equal(err, "which zone?");
	argc = words(copy, sizeof(copy), "a. @1.2.3.4@0x", argv);
	assert_int_equal(cli_verify_args(&v, argc, argv, err, sizeof(err)), TDM_EINVAL);
	argc = words(copy, sizeof(copy), "a..b", argv);
	assert_int_equal(cli_verify_args(&v, argc, argv, err, sizeof(err)), TDM_EINVAL);
}

/* A reply to "example.com. NS": two NS in the answer, glue for one of them, an SOA elsewhere. */
static size_t ns_reply(uint8_t *buf, size_t cap, uint16_t rcode)
{
	pkt_writer_t w;
	uint8_t zone[NAME_MAXLEN], ns1[NAME_MAXLEN], ns2[NAME_MAXLEN], other[NAME_MAXLEN];
	name_from_text("example.com.", NULL, zone);
	name_from_text("ns1.example.com.", NULL, ns1);
	name_from_text("ns2.example.net.", NULL, ns2);
	name_from_text("other.example.", NULL, other);
	pkt_writer_init(&w, buf, cap);
	assert_int_equal(pkt_write_header(&w, 0x1234, PKT_FLAG_QR | PKT_FLAG_AA | rcode), TDM_OK);
	assert_int_equal(pkt_write_question(&w, zone, PKT_TYPE_NS, PKT_CLASS_IN), TDM_OK);
	pkt_begin_section(&w, PKT_SECTION_ANSWER);
	pkt_write_rr(&w, zone, 0, PKT_TYPE_NS, PKT_CLASS_IN, 3600, ns1, (uint16_t)name_length(ns1, 255));
	pkt_write_rr(&w, zone, 0, PKT_TYPE_NS, PKT_CLASS_IN, 3600, ns2, (uint16_t)name_length(ns2, 255));
	/* An NS of another owner is not the zone's. */
	pkt_write_rr(&w, other, 0, PKT_TYPE_NS, PKT_CLASS_IN, 3600, ns2, (uint16_t)name_length(ns2, 255));
	pkt_begin_section(&w, PKT_SECTION_ADDITIONAL);
	const uint8_t a[4] = { 192, 0, 2, 53 }, aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x53 };
	pkt_write_rr(&w, ns1, 0, PKT_TYPE_A, PKT_CLASS_IN, 3600, a, 4);
	pkt_write_rr(&w, ns1, 0, PKT_TYPE_AAAA, PKT_CLASS_IN, 3600, aaaa, 16);
	return pkt_writer_finish(&w);
}

static void test_dnsq_found(void **state)
{
	uint8_t buf[512], zone[NAME_MAXLEN], ns1[NAME_MAXLEN];
	char why[256], text[64];
	cli_dnsq_found_t f;
	name_from_text("EXAMPLE.com.", NULL, zone);
	name_from_text("ns1.example.com.", NULL, ns1);
	size_t len = ns_reply(buf, sizeof(buf), 0);
	assert_int_equal(cli_dnsq_found(buf, len, zone, 5300, &f, why, sizeof(why)), TDM_OK);
	assert_int_equal(f.rcode, PKT_RCODE_NOERROR);
	assert_true(f.aa);
	assert_int_equal(f.nns, 2);
	assert_true(name_equal(f.ns[0], ns1));
	assert_int_equal(f.naddrs, 2);
	assert_true(name_equal(f.addrs[0].owner, ns1));
	assert_string_equal(sockaddr_format(&f.addrs[0].addr, text, sizeof(text)), "192.0.2.53@5300");
	assert_string_equal(sockaddr_format(&f.addrs[1].addr, text, sizeof(text)),
	                    "2001:db8::53@5300");
	assert_false(f.has_soa);
	/* Every cut of the reply is malformed, never a crash. */
	for (size_t n = 0; n < len; n++)
		assert_int_not_equal(cli_dnsq_found(buf, n, zone, 53, &f, why, sizeof(why)), TDM_OK);
	len = ns_reply(buf, sizeof(buf), PKT_RCODE_REFUSED);
	assert_int_equal(cli_dnsq_found(buf, len, zone, 53, &f, why, sizeof(why)), TDM_OK);
	assert_int_equal(f.rcode, PKT_RCODE_REFUSED);
}

static void test_dnsq_soa(void **state)
{
	uint8_t buf[512], zone[NAME_MAXLEN], rdata[300];
	char why[256];
	cli_dnsq_found_t f;
	pkt_writer_t w;
	name_from_text("example.com.", NULL, zone);
	int m = name_from_text("ns1.example.com.", NULL, rdata);
	int r = name_from_text("hostmaster.example.com.", NULL, rdata + m);
	uint8_t *t = rdata + m + r;
	pkt_put32(t, 2024010101);
	pkt_put32(t + 4, 7200);
	pkt_put32(t + 8, 3600);
	pkt_put32(t + 12, 1209600);
	pkt_put32(t + 16, 300);
	pkt_writer_init(&w, buf, sizeof(buf));
	pkt_write_header(&w, 1, PKT_FLAG_QR);
	pkt_write_question(&w, zone, PKT_TYPE_SOA, PKT_CLASS_IN);
	pkt_begin_section(&w, PKT_SECTION_ANSWER);
	assert_int_equal(pkt_write_rr(&w, zone, 0, PKT_TYPE_SOA, PKT_CLASS_IN, 3600, rdata,
	                              (uint16_t)(m + r + 20)), TDM_OK);
	size_t len = pkt_writer_finish(&w);
	assert_int_equal(cli_dnsq_found(buf, len, zone, 53, &f, why, sizeof(why)), TDM_OK);
	assert_true(f.has_soa);
	assert_int_equal(f.serial, 2024010101);
	assert_false(f.aa);
}

static cli_verify_row_t *row(cli_verify_t *v, const char *ns, const char *addr,
                             cli_verify_status_t status, int64_t serial)
{
	cli_verify_row_t *r = &v->rows[v->nrows++];
	memset(r, 0, sizeof(*r));
	name_from_text(ns, NULL, r->ns);
	if (addr != NULL)
		sockaddr_parse(&r->addr, addr, 53);
	r->status = status;
	if (serial >= 0) {
		r->has_serial = true;
		r->serial = (uint32_t)serial;
	}
	return r;
}

static void test_verify_judge(void **state)
{
	cli_verify_t v;
	uint32_t ref;
	memset(&v, 0, sizeof(v));
	assert_false(cli_verify_judge(&v));
	/* The server's own serial is the reference. */
	v.has_serial = true;
	v.serial = 10;
	row(&v, "ns1.a.", "192.0.2.1", CLI_VERIFY_PENDING, 10);
	row(&v, "ns2.a.", "192.0.2.2", CLI_VERIFY_PENDING, 10);
	assert_true(cli_verify_judge(&v));
	assert_int_equal(v.rows[0].status, CLI_VERIFY_OK);
	row(&v, "ns3.a.", "192.0.2.3", CLI_VERIFY_PENDING, 11);
	assert_false(cli_verify_judge(&v));
	assert_int_equal(v.rows[2].status, CLI_VERIFY_DIFFERS);
	/* Without it, the highest in RFC 1982 order: 1 comes after 4294967295. */
	memset(&v, 0, sizeof(v));
	row(&v, "ns1.a.", "192.0.2.1", CLI_VERIFY_PENDING, 4294967295u);
	row(&v, "ns2.a.", "192.0.2.2", CLI_VERIFY_PENDING, 1);
	row(&v, "ns3.a.", NULL, CLI_VERIFY_NO_ADDRESS, -1);
	assert_true(cli_verify_reference(&v, &ref));
	assert_int_equal(ref, 1);
	assert_false(cli_verify_judge(&v));
	assert_int_equal(v.rows[0].status, CLI_VERIFY_DIFFERS);
	assert_int_equal(v.rows[1].status, CLI_VERIFY_OK);
	assert_int_equal(v.rows[2].status, CLI_VERIFY_NO_ADDRESS);
}

static void test_verify_output(void **state)
{
	cli_verify_t v;
	struct capture c;
	memset(&v, 0, sizeof(v));
	name_from_text("example.com.", NULL, v.zone);
	sockaddr_parse(&v.server, "127.0.0.1@5300", 53);
	snprintf(v.server_text, sizeof(v.server_text), "127.0.0.1@5300");
	v.has_serial = true;
	v.serial = 2024010101;
	v.nns = 3;
	row(&v, "ns1.example.com.", "127.0.0.1", CLI_VERIFY_PENDING, 2024010101);
	row(&v, "ns2.example.com.", "::1", CLI_VERIFY_PENDING, 2024010100);
	snprintf(row(&v, "ns3.example.net.", "127.0.0.3", CLI_VERIFY_NO_ANSWER, -1)->note, 300,
	         "port unreachable");
	snprintf(row(&v, "ns4.example.net.", NULL, CLI_VERIFY_NO_ADDRESS, -1)->note, 300,
	         "no A/AAAA from 127.0.0.1@5300");
	assert_false(cli_verify_judge(&v));
	capture_start(&c);
	assert_int_equal(cli_verify_print(c.f, &v), TDM_OK);
	char *text = capture_end(&c);
	assert_string_equal(text,
		"example.com. at 127.0.0.1@5300: serial 2024010101; 3 name servers, asked on port 5300\n"
		"\n"
		"NAME SERVER       ADDRESS        SERIAL  STATUS      NOTE\n"
		"ns1.example.com.  127.0.0.1  2024010101  OK\n"
		"ns2.example.com.  ::1        2024010100  DIFFERS\n"
		"ns3.example.net.  127.0.0.3           -  NO ANSWER   port unreachable\n"
		"ns4.example.net.  -                   -  NO ADDRESS  no A/AAAA from 127.0.0.1@5300\n"
		"\n"
		"3 of 4 addresses do not answer serial 2024010101\n");
	free(text);
	json_t *j = cli_verify_json(&v);
	assert_non_null(j);
	assert_true(json_is_false(json_object_get(j, "ok")));
	json_t *ns = json_object_get(j, "nameservers");
	assert_int_equal(json_array_size(ns), 4);
	assert_string_equal(cli_json_str(json_array_get(ns, 1), "status", ""), "DIFFERS");
	assert_true(json_is_null(json_object_get(json_array_get(ns, 3), "address")));
	assert_true(json_is_null(json_object_get(json_array_get(ns, 2), "serial")));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts_defaults_and_env),
		cmocka_unit_test(test_opts_leading),
		cmocka_unit_test(test_opts_parse_words),
		cmocka_unit_test(test_opts_key),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_http_build),
		cmocka_unit_test(test_http_parse_head),
		cmocka_unit_test(test_http_dechunk),
		cmocka_unit_test(test_http_exchange),
		cmocka_unit_test(test_http_failures),
		cmocka_unit_test(test_api_messages),
		cmocka_unit_test(test_api_zone_path),
		cmocka_unit_test(test_api_call),
		cmocka_unit_test(test_fmt_times),
		cmocka_unit_test(test_fmt_json_fields),
		cmocka_unit_test(test_fmt_table),
		cmocka_unit_test(test_status_print),
		cmocka_unit_test(test_zone_list_print),
		cmocka_unit_test(test_zone_show_print),
		cmocka_unit_test(test_zone_show_expired),
		cmocka_unit_test(test_zone_result_print),
		cmocka_unit_test(test_keygen_format),
		cmocka_unit_test(test_verify_args),
		cmocka_unit_test(test_dnsq_found),
		cmocka_unit_test(test_dnsq_soa),
		cmocka_unit_test(test_verify_judge),
		cmocka_unit_test(test_verify_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
