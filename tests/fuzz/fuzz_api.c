/* tests/fuzz/fuzz_api.c -- fuzz target: HTTP requests to the API (api/http.c, api/http_parse.c, api/api.c) */
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "lib/log.h"
#include "server/server.h"

/*
 * The input is what a client writes on an API connection: one or more HTTP requests, as bytes. The
 * target starts a real server (server_new: configuration, store, zones, the API on the control
 * thread's event loop) once, with its workers never started. evconnlistener_new_bind is replaced at
 * link time (-Wl,--wrap=evconnlistener_new_bind) by a listener on a Unix socket in the target's temp
 * folder, which also tells the event loop; so every request goes through the API's HTTP server and
 * parser (api/http.c, api/http_parse.c: head, API key, limits, path decoding and splitting) and the
 * handler of api/api.c, with no network socket. The client writes the input, closes its side, and reads
 * until the server closes; the event loop runs between its steps.
 * The API key is FUZZ_API_KEY; the zones are the test zones, with a produced catalog, one NOTIFY
 * target (127.0.0.1@9: a POST .../notify sends a datagram to loopback), no secondaries (no transfer
 * jobs on other threads).
 */

#define FUZZ_API_KEY "fuzz-api-key-0123456789"

static struct event_base *base;
static server_t *srv;            /* kept for the life of the process */
static char sock_path[108];

/* api/http.c listens with evconnlistener_new_bind: the same listener, on a Unix socket. */
struct evconnlistener *__wrap_evconnlistener_new_bind(struct event_base *b, evconnlistener_cb cb,
                                                      void *ptr, unsigned flags, int backlog,
                                                      const struct sockaddr *addr, int socklen)
{
	(void)addr, (void)socklen;
	base = b;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0)
		return NULL;
	return evconnlistener_new(b, cb, ptr, flags, backlog, fd);
}

static void setup(void)
{
	const char *dir = fuzz_tempdir("api");
	char path[256], text[4096];
	snprintf(sock_path, sizeof(sock_path), "%s/api.sock", dir);
	snprintf(path, sizeof(path), "%s/var", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/api.key", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fprintf(f, "%s\n", FUZZ_API_KEY);
	fclose(f);
	chmod(path, 0600);
	snprintf(text, sizeof(text),
	         "server:\n  listen: [127.0.0.1@5300]\n  data-dir: %s/var\n  identity: fuzz\n"
	         "  catalog: catalog.fuzz.\n"
	         "http:\n  listen: 127.0.0.1@8053\n  api-key-file: %s/api.key\n"
	         "remotes:\n  - name: nowhere\n    address: [127.0.0.1@9]\n"
	         "zones:\n"
	         "  - name: example.com.\n    file: %s\n    notify: [nowhere]\n    group: g1\n"
	         "    member-of: catalog.fuzz.\n"
	         "  - name: example.net.\n    file: %s\n"
	         "  - name: nsec.test.\n    file: %s\n"
	         "  - name: catalog.fuzz.\n    catalog: produce\n",
	         dir, dir, fuzz_path("tests/data/zones/example.com.zone"),
	         fuzz_path("tests/data/zones/example.net.zone"), fuzz_path("tests/fuzz/data/nsec.test.zone"));
	snprintf(path, sizeof(path), "%s/tandem.yaml", dir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	if (server_new(path, &srv) != 0 || base == NULL) {
		fprintf(stderr, "fuzz_api: the server does not start on %s\n", path);
		abort();
	}
	log_set_level(LOG_ERR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (base == NULL)
		setup();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c < 0)
		return 0;
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(c);
		event_base_loop(base, EVLOOP_NONBLOCK);
		return 0;
	}
	size_t off = 0;
	bool shut = false;
	char buf[65536];
	for (int round = 0; round < 10000; round++) {
		if (off < size) {
			ssize_t n = send(c, data + off, size - off, MSG_NOSIGNAL);
			if (n > 0)
				off += (size_t)n;
		}
		if (off == size && !shut) {
			shutdown(c, SHUT_WR);
			shut = true;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		ssize_t n;
		while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
			if (getenv("FUZZ_VERBOSE") != NULL)   /* for whoever writes seeds: the answer */
				fwrite(buf, 1, (size_t)n, stderr);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			break;   /* the server closed the connection */
	}
	close(c);
	event_base_loop(base, EVLOOP_NONBLOCK);
	return 0;
}
