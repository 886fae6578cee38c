/* api/http.c -- the HTTP front of the API */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/http.h"
#include "lib/error.h"
#include "lib/log.h"

#define API_PREFIX "/api/v1/"
#define API_BODY_MAX (64 * 1024 * 1024)   /* a zone file import may be large */

struct api {
	struct evhttp *http;
	char key[128];
	api_handler_fn handler;
	void *ctx;
};

void api_error(api_reply_t *reply, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply->status = status;
	json_decref(reply->body);
	reply->body = json_pack("{s:s}", "error", msg);
}

/* Reads the key, or makes one: 32 random octets as hex. */
static int load_key(const char *path, char *key, size_t size)
{
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		bool ok = fgets(key, (int)size, f) != NULL;
		fclose(f);
		key[strcspn(key, "\r\n")] = '\0';
		if (!ok || key[0] == '\0') {
			log_err("API key file %s is empty", path);
			return TDM_EINVAL;
		}
		return TDM_OK;
	}
	uint8_t raw[32];
	if (errno != ENOENT || getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return -errno;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(key + 2 * i, 3, "%02x", raw[i]);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_err("cannot create the API key file %s (%s)", path, strerror(errno));
		return -errno;
	}
	bool ok = write(fd, key, strlen(key)) == (ssize_t)strlen(key) && write(fd, "\n", 1) == 1;
	close(fd);
	if (!ok)
		return TDM_EIO;
	log_info("API key created in %s", path);
	return TDM_OK;
}

/* Constant time, so the key cannot be guessed octet by octet from response times. */
static bool key_ok(const char *want, const char *got)
{
	if (got == NULL)
		return false;
	size_t n = strlen(want), m = strlen(got);
	unsigned diff = m != n;
	/* Every octet of the key is compared, reading got only within its own length. */
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned)(want[i] ^ (i < m ? got[i] : 0));
	return diff == 0;
}

static void send_reply(struct evhttp_request *r, api_reply_t *reply)
{
	struct evbuffer *out = evbuffer_new();
	char *text = reply->body != NULL ? json_dumps(reply->body, JSON_INDENT(2) | JSON_SORT_KEYS)
	                                 : NULL;
	if (out == NULL) {
		free(text);
		evhttp_send_error(r, 500, "out of memory");
		return;
	}
	evbuffer_add_printf(out, "%s\n", text != NULL ? text : "{}");
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(r), "Content-Type", "application/json");
	evhttp_send_reply(r, reply->status, NULL, out);
	evbuffer_free(out);
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

/* Splits the decoded path after the prefix into segments (in place, in buf). */
static bool split(char *buf, api_request_t *req)
{
	req->nsegments = 0;
	for (char *p = buf; *p != '\0';) {
		char *slash = strchr(p, '/');
		if (slash != NULL)
			*slash = '\0';
		if (*p != '\0') {
			if (req->nsegments == API_PATH_MAX)
				return false;
			req->segments[req->nsegments++] = p;
		}
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	return true;
}

static void on_request(struct evhttp_request *r, void *arg)
{
	api_t *api = arg;
	api_reply_t reply = { .status = 200 };
	const char *uri = evhttp_request_get_uri(r);
	const struct evhttp_uri *parsed = evhttp_request_get_evhttp_uri(r);
	const char *path = parsed != NULL ? evhttp_uri_get_path(parsed) : NULL;
	char *decoded = path != NULL ? evhttp_uridecode(path, 0, NULL) : NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(r);
	size_t len = evbuffer_get_length(in);
	char *body = NULL;
	api_request_t req = { .method = method_name(evhttp_request_get_command(r)) };
	if (!key_ok(api->key, evhttp_find_header(evhttp_request_get_input_headers(r), "X-API-Key"))) {
		api_error(&reply, 401, "missing or wrong X-API-Key");
	} else if (decoded == NULL || strncmp(decoded, API_PREFIX, strlen(API_PREFIX)) != 0 ||
	           !split(decoded + strlen(API_PREFIX), &req)) {
		api_error(&reply, 404, "no such path: %s", uri);
	} else if ((body = malloc(len + 1)) == NULL) {
		api_error(&reply, 500, "out of memory");
	} else {
		evbuffer_remove(in, body, len);
		body[len] = '\0';
		req.body = body;
		req.body_len = len;
		api->handler(api->ctx, &req, &reply);
	}
	send_reply(r, &reply);
	json_decref(reply.body);
	free(body);
	free(decoded);
}

int api_start(struct event_base *base, const sockaddr_t *listen, const char *key_file,
              api_handler_fn handler, void *ctx, api_t **out)
{
	api_t *api = calloc(1, sizeof(*api));
	if (api == NULL)
		return TDM_ENOMEM;
	api->handler = handler;
	api->ctx = ctx;
	char addr[SOCKADDR_STRLEN], host[SOCKADDR_STRLEN];
	sockaddr_format(listen, addr, sizeof(addr));
	snprintf(host, sizeof(host), "%s", addr);
	host[strcspn(host, "@")] = '\0';
	int ret = load_key(key_file, api->key, sizeof(api->key));
	if (ret != TDM_OK)
		goto fail;
	ret = TDM_ENOMEM;
	if ((api->http = evhttp_new(base)) == NULL)
		goto fail;
	evhttp_set_max_body_size(api->http, API_BODY_MAX);
	evhttp_set_timeout(api->http, 30);
	evhttp_set_allowed_methods(api->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	                                          EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(api->http, on_request, api);
	if (evhttp_bind_socket(api->http, host, sockaddr_port(listen)) != 0) {
		log_err("cannot listen for the API on %s", addr);
		ret = TDM_EIO;
		goto fail;
	}
	log_info("HTTP API on http://%s%s%s:%u/api/v1/", strchr(host, ':') ? "[" : "", host,
	         strchr(host, ':') ? "]" : "", sockaddr_port(listen));
	*out = api;
	return TDM_OK;
fail:
	api_free(api);
	return ret;
}

void api_free(api_t *api)
{
	if (api == NULL)
		return;
	if (api->http != NULL)
		evhttp_free(api->http);
	free(api);
}
