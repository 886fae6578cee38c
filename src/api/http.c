/* api/http.c -- the HTTP front of the API: connections, the API key before any body, bounded everything */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/http.h"
#include "api/http_parse.h"
#include "lib/error.h"
#include "lib/log.h"

/*
 * libevent's evhttp read a whole body (it allowed 64 MiB) before the handler could look at the key,
 * and took any number of connections and header octets. This server reads one request at a time per
 * connection and decides from the head alone before reading a body:
 *
 *   accept --(max_clients open)--> 503, close ............................. (API_REJECT_MAX such at once;
 *     |                                                                       beyond, accepting pauses)
 *     v
 *   HEAD: up to API_HEADER_MAX octets --more--> 431
 *     | parse --bad--> 400/505;  X-API-Key wrong or missing --> 401;  method --> 405;
 *     | Transfer-Encoding --> 411;  Content-Length > max_body --> 413   (each: reply, close)
 *     | Expect: 100-continue --> "100 Continue"
 *     v
 *   BODY: exactly Content-Length octets (reads stop there) --> handler --> REPLY
 *   REPLY: written whole --keep-alive--> HEAD;  else LINGER
 *   LINGER: our side shut, what the client still sends is read and dropped (so that closing does not
 *           reset the connection before it read our answer), for API_LINGER_SECONDS at most
 *
 * One timer per connection bounds every state: a request must arrive whole within `timeout` seconds
 * of the previous reply (or of the accept; 408 if it was started, a silent close if not), a reply
 * must be taken within `timeout`, lingering lasts API_LINGER_SECONDS. So a client holds a slot for
 * at most about twice `timeout`, and memory for at most API_HEADER_MAX before it has shown the key.
 */

#define API_PREFIX "/api/v1/"
#define API_REJECT_MAX 16          /* connections at once that only get their 503 */
#define API_LINGER_SECONDS 2
#define API_LINGER_MAX (256 * 1024)   /* octets dropped while lingering before we close anyway */
#define API_BACKLOG 128
#define API_KEY_FILE_MAX 4096      /* an API key file is one short line */
/* Replies written but not yet taken by their clients, all connections together: a zone's text can be
 * tens of MiB, and http.max-clients slow readers must not hold that many copies. A reply over
 * API_REPLY_SMALL that would pass the bound is answered 503 instead. */
#define API_QUEUED_MAX ((size_t)256 * 1024 * 1024)
#define API_REPLY_SMALL ((size_t)64 * 1024)

typedef enum { CONN_HEAD, CONN_BODY, CONN_WAIT, CONN_REPLY, CONN_LINGER } conn_state_t;

typedef struct conn conn_t;

struct api {
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *backoff;         /* accept failed (EMFILE...): resume a second later */
	bool backing_off, listening;
	char key[API_KEY_MAX + 1];
	api_limits_t limits;
	api_handler_fn handler;
	api_auth_fn auth;              /* keys other than the admin key; NULL = none */
	api_static_fn files;           /* the web console's files; NULL = none */
	void *ctx;
	conn_t *conns;                 /* every open connection, to free them with the API */
	size_t queued;                 /* octets of replies not yet taken, all connections */
	unsigned nconns, nrejects;
};

struct conn {
	api_t *api;
	struct bufferevent *bev;
	struct event *timer;
	conn_state_t state;
	bool reject;                   /* over max_clients: gets a 503 and nothing else */
	bool close_after;              /* the reply being written is the last */
	size_t scanned;                /* api_head_end's progress in the head */
	uint64_t body_len;
	size_t queued;                 /* octets of this connection's reply counted in api->queued */
	size_t dropped;                /* octets read and dropped while lingering */
	bool is_static;                /* a static file: no key, no body */
	bool head_only;                /* the request being answered is a HEAD: no body in the reply */
	char peer[SOCKADDR_STRLEN];
	conn_t *prev, *next;
	api_principal_t principal;     /* who the key says sent the request being served */
	struct api_later *later;       /* CONN_WAIT: the reply a handler will give later */
	api_head_t head;
};

struct api_later {
	conn_t *conn;                  /* NULL once the connection is gone */
};

/* Lines a client can cause, a few at a time (lib/log.h). */
static log_limit_t refused_keys = LOG_LIMIT_INIT("API requests without the right key");
static log_limit_t refused_conns = LOG_LIMIT_INIT("API connections over http.max-clients");

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

/* ---- the key ---- */

/* The key as it must be: one line of printable ASCII without spaces, 1 to API_KEY_MAX octets (white
 * space around it is dropped, as `tandem` drops it). */
static int check_key(const char *path, char *text, size_t len, char *key)
{
	size_t skip = strspn(text, " \t\r\n");
	text += skip;
	len -= skip;
	size_t n = strcspn(text, "\r\n");
	if (strspn(text + n, " \t\r\n") != len - n) {
		log_err("API key file %s: more than one line", path);
		return TDM_EINVAL;
	}
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (n == 0) {
		log_err("API key file %s is empty", path);
		return TDM_EINVAL;
	}
	if (n > API_KEY_MAX) {
		log_err("API key file %s: the key is longer than %d octets", path, API_KEY_MAX);
		return TDM_ESPACE;
	}
	for (size_t i = 0; i < n; i++) {
		if (text[i] <= ' ' || text[i] > '~') {
			log_err("API key file %s: the key holds spaces or control characters", path);
			return TDM_EINVAL;
		}
	}
	memcpy(key, text, n);
	key[n] = '\0';
	return TDM_OK;
}

/*
 * Refuses a key file its group or others may read or write, as ssh refuses such a private key: whoever
 * can read it controls the server, whoever can write it chooses the key. The file is checked once
 * opened (fstat), so what is checked is what is read.
 */
static int read_key(const char *path, int fd, char *key)
{
	struct stat st;
	char text[API_KEY_FILE_MAX + 1];
	size_t len = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_err("API key file %s is not a regular file", path);
		return TDM_EINVAL;
	}
	if ((st.st_mode & 077) != 0) {
		log_err("API key file %s may be read or written by others (mode %04o): chmod 600 %s "
		        "(or remove it: a new key is made at start)", path, (unsigned)(st.st_mode & 07777),
		        path);
		return -EPERM;
	}
	for (ssize_t got; len < sizeof(text) && (got = read(fd, text + len, sizeof(text) - len)) != 0;) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			log_err("cannot read the API key file %s (%s)", path, strerror(errno));
			return -errno;
		}
		len += (size_t)got;
	}
	if (len > API_KEY_FILE_MAX) {
		log_err("API key file %s: the key is longer than %d octets", path, API_KEY_MAX);
		return TDM_ESPACE;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		log_err("API key file %s: the key holds spaces or control characters", path);
		return TDM_EINVAL;
	}
	return check_key(path, text, len, key);
}

/* Reads the key, or makes one: 32 random octets as hex, in a new file of mode 0600. */
static int load_key(const char *path, char *key)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		int ret = read_key(path, fd, key);
		close(fd);
		return ret;
	}
	uint8_t raw[32];
	if (errno != ENOENT) {
		log_err("cannot read the API key file %s (%s)", path, strerror(errno));
		return -errno;
	}
	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return -errno;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(key + 2 * i, 3, "%02x", raw[i]);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
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

/* ---- connections ---- */

/* Accepting pauses while every slot, rejecting ones included, is taken, or after an accept error. */
static void update_listener(api_t *api)
{
	bool want = !api->backing_off &&
	            !(api->nconns >= api->limits.max_clients && api->nrejects >= API_REJECT_MAX);
	if (want != api->listening && api->listener != NULL) {
		if (want)
			evconnlistener_enable(api->listener);
		else
			evconnlistener_disable(api->listener);
		api->listening = want;
	}
}

static void conn_free(conn_t *c)
{
	api_t *api = c->api;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		api->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->reject)
		api->nrejects--;
	else
		api->nconns--;
	api->queued -= c->queued;
	free(c->principal.zones);
	if (c->later != NULL)
		c->later->conn = NULL;
	bufferevent_free(c->bev);   /* closes the socket */
	event_free(c->timer);
	free(c);
	update_listener(api);
}

static void arm(conn_t *c, unsigned seconds)
{
	struct timeval tv = { .tv_sec = seconds };
	evtimer_add(c->timer, &tv);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 428: return "Precondition Required";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

/* Queues one reply; reading stops until it is written (one request at a time per connection). */
static void send_reply(conn_t *c, api_reply_t *r, bool close_after)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	int status = r->status;
	char *json = NULL;
	const char *shown, *type = "application/json";
	size_t len;
	if (r->text != NULL) {
		shown = r->text;
		len = r->text_len;
		type = r->content_type != NULL ? r->content_type : "text/plain; charset=utf-8";
	} else {
		json = r->body != NULL ? json_dumps(r->body, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
		shown = json != NULL ? json : "{}";
		if (r->body != NULL && json == NULL) {   /* out of memory while writing the JSON */
			status = 500;
			shown = "{\"error\": \"out of memory\"}";
		}
		len = strlen(shown);
	}
	bool head_only = c->head_only;
	c->head_only = false;
	bool json_nl = r->text == NULL;   /* JSON bodies end with a newline, for terminals */
	const char *headers = r->headers;
	char busy[160];
	size_t body_bytes = head_only ? 0 : len + (json_nl ? 1 : 0);
	if (body_bytes > API_REPLY_SMALL && c->api->queued + body_bytes > API_QUEUED_MAX) {
		snprintf(busy, sizeof(busy), "{\"error\": \"replies not yet taken by clients hold %zu "
		         "MiB already: try again\"}", c->api->queued >> 20);
		status = 503;
		shown = busy;
		len = strlen(busy);
		type = "application/json";
		json_nl = true;
		headers = NULL;
		r->etag[0] = '\0';
		close_after = true;
	}
	char etag[API_ETAG_MAX + 16] = "";
	if (r->etag[0] != '\0')
		snprintf(etag, sizeof(etag), "ETag: %s\r\n", r->etag);
	/* Out of memory here leaves nothing to write: the timer armed below closes the connection. */
	if (evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	                        "%s%s%s%sConnection: %s\r\n\r\n", status, reason(status), type,
	                        len + (json_nl ? 1 : 0), etag, headers != NULL ? headers : "",
	                        status == 405 ? "Allow: GET, HEAD, POST, PUT, DELETE, PATCH\r\n" : "",
	                        c->is_static ? "Cache-Control: no-cache\r\n"
	                                     : "Cache-Control: no-store\r\n",
	                        close_after ? "close" : "keep-alive") < 0 ||
	    (!head_only && (evbuffer_add(out, shown, len) != 0 ||
	                    (json_nl && evbuffer_add(out, "\n", 1) != 0))))
		close_after = true;
	free(json);
	c->api->queued -= c->queued;
	c->queued = evbuffer_get_length(out);
	c->api->queued += c->queued;
	c->state = CONN_REPLY;
	c->close_after = close_after;
	bufferevent_disable(c->bev, EV_READ);
	arm(c, c->api->limits.timeout);
}

/* An error before or instead of the handler: JSON, and the connection closes after it. */
static void send_error(conn_t *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void send_error(conn_t *c, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_reply_t r = { .status = status, .body = json_pack("{s:s}", "error", msg) };
	send_reply(c, &r, true);
	json_decref(r.body);
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

bool api_principal_zone_ok(const api_principal_t *p, const char *zone)
{
	if (p->zones == NULL)
		return true;
	size_t n = strlen(zone);
	for (const char *z = strstr(p->zones, zone); z != NULL; z = strstr(z + 1, zone))
		if (z > p->zones && z[-1] == ' ' && z[n] == ' ')
			return true;
	return false;
}

/* A whole request: path, handler, reply. */
static void dispatch(conn_t *c, char *body)
{
	api_t *api = c->api;
	api_reply_t reply = { .status = 200 };
	api_request_t req = { .method = c->head.method, .body = body, .body_len = c->body_len,
	                      .query = api_target_query(c->head.target), .if_match = c->head.if_match,
	                      .content_type = c->head.content_type, .principal = &c->principal,
	                      .peer = c->peer, .conn = c };
	char path[API_HEADER_MAX + 1];
	if (!api_target_path(c->head.target, path, sizeof(path))) {
		api_error(&reply, 400, "malformed path: %s", c->head.target);
	} else if (c->is_static) {
		api->files(api->ctx, path, &reply);
	} else if (strcmp(path, "/metrics") == 0) {
		req.metrics = true;
		req.segments[0] = "metrics";
		req.nsegments = 1;
		api->handler(api->ctx, &req, &reply);
	} else if (strncmp(path, API_PREFIX, strlen(API_PREFIX)) != 0 ||
	           !split(path + strlen(API_PREFIX), &req)) {
		api_error(&reply, 404, "no such path: %s", c->head.target);
	} else {
		api->handler(api->ctx, &req, &reply);
	}
	if (reply.later) {
		/* api_reply_now sends it; until then nothing is read (one request at a time). */
		c->state = CONN_WAIT;
		bufferevent_disable(c->bev, EV_READ);
		json_decref(reply.body);
		free(reply.text);
		return;
	}
	send_reply(c, &reply, !c->head.keep_alive);
	json_decref(reply.body);
	free(reply.text);
	free(c->principal.zones);
	c->principal.zones = NULL;
}

static bool method_allowed(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
	       strcmp(m, "DELETE") == 0 || strcmp(m, "PATCH") == 0;
}

static void read_body(conn_t *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	if (evbuffer_get_length(in) < c->body_len)
		return;
	char *body = malloc((size_t)c->body_len + 1);
	if (body == NULL) {
		send_error(c, 500, "out of memory");
		return;
	}
	evbuffer_remove(in, body, (size_t)c->body_len);
	body[c->body_len] = '\0';
	evtimer_del(c->timer);
	dispatch(c, body);
	free(body);
}

/* Paths of the API (and /metrics) need the key; everything else is the console's files. */
static bool is_static_target(const char *target)
{
	size_t n = strcspn(target, "?#");
	if (n == strlen("/metrics") && strncmp(target, "/metrics", n) == 0)
		return false;
	/* "/api/v1" and anything under "/api/" are the API's, so their errors are JSON with 401/404 */
	return !(n >= 4 && strncmp(target, "/api", 4) == 0 && (n == 4 || target[4] == '/'));
}

/* The admin key, or one the server knows. Fills *p. */
static bool authenticate(api_t *api, const char *key, api_principal_t *p)
{
	memset(p, 0, sizeof(*p));
	if (key_ok(api->key, key)) {
		snprintf(p->name, sizeof(p->name), "admin");
		p->write = true;
		return true;
	}
	if (key == NULL || api->auth == NULL)
		return false;
	bool ok = api->auth(api->ctx, key, p);
	if (!ok) {
		free(p->zones);
		memset(p, 0, sizeof(*p));
	}
	return ok;
}

/* The head decides, before a single octet of body is read. */
static void read_head(conn_t *c)
{
	api_t *api = c->api;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t avail = evbuffer_get_length(in);
	size_t n = avail < API_HEADER_MAX ? avail : API_HEADER_MAX;
	if (avail == 0)
		return;
	const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	size_t end = data != NULL ? api_head_end(data, n, &c->scanned) : 0;
	if (end == 0) {
		if (avail >= API_HEADER_MAX)
			send_error(c, 431, "request head longer than %d octets", API_HEADER_MAX);
		return;
	}
	int status = api_head_parse(&c->head, data, end);
	evbuffer_drain(in, end);
	c->scanned = 0;
	c->is_static = false;
	c->head_only = status == 0 && strcmp(c->head.method, "HEAD") == 0;
	free(c->principal.zones);
	memset(&c->principal, 0, sizeof(c->principal));
	if (status == 0 && api->files != NULL && is_static_target(c->head.target) &&
	    (strcmp(c->head.method, "GET") == 0 || strcmp(c->head.method, "HEAD") == 0)) {
		if (c->head.content_length > 0 || c->head.transfer_coding) {
			send_error(c, 400, "a %s of a file takes no body", c->head.method);
			return;
		}
		c->is_static = true;
		c->body_len = 0;
		evtimer_del(c->timer);
		dispatch(c, NULL);
		return;
	}
	if (status != 0) {
		send_error(c, status, "%s", c->head.error);
	} else if (!authenticate(api, c->head.api_key, &c->principal)) {
		log_limited(&refused_keys, LOG_WARN, "API: %s %s from %s without the right X-API-Key",
		            c->head.method, c->head.target, c->peer);
		send_error(c, 401, "missing or wrong X-API-Key");
	} else if (!method_allowed(c->head.method)) {
		send_error(c, 405, "method %s not allowed", c->head.method);
	} else if (c->head.transfer_coding) {
		send_error(c, 411, "send the body with a Content-Length (no transfer coding)");
	} else if (c->head.content_length > api->limits.max_body) {
		send_error(c, 413, "request body over %zu octets (http.max-body)", api->limits.max_body);
	} else {
		if (c->head.expect_continue && c->head.content_length > 0 && c->head.minor >= 1)
			evbuffer_add_printf(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n");
		c->state = CONN_BODY;
		c->body_len = c->head.content_length;
		/* Read no further than the body (a high mark of 0 would mean no mark at all): what
		 * follows it, a pipelined request, waits in the socket. */
		bufferevent_setwatermark(c->bev, EV_READ, 0, c->body_len > 0 ? (size_t)c->body_len : 1);
		read_body(c);
	}
}

static void process(conn_t *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	switch (c->state) {
	case CONN_HEAD:
		read_head(c);
		break;
	case CONN_BODY:
		read_body(c);
		break;
	case CONN_LINGER:
		c->dropped += evbuffer_get_length(in);
		evbuffer_drain(in, evbuffer_get_length(in));
		if (c->dropped > API_LINGER_MAX)
			conn_free(c);
		break;
	case CONN_WAIT:
	case CONN_REPLY:
		break;
	}
}

api_later_t *api_reply_later(const api_request_t *req, api_reply_t *reply)
{
	conn_t *c = req->conn;
	api_later_t *l = c != NULL && c->later == NULL ? calloc(1, sizeof(*l)) : NULL;
	if (l == NULL)
		return NULL;
	l->conn = c;
	c->later = l;
	reply->later = true;
	return l;
}

void api_reply_now(api_later_t *l, api_reply_t *r)
{
	conn_t *c = l->conn;
	if (c != NULL) {
		c->later = NULL;
		if (r->body == NULL && r->text == NULL)
			api_error(r, 500, "out of memory");
		send_reply(c, r, !c->head.keep_alive);
		free(c->principal.zones);
		c->principal.zones = NULL;
	}
	json_decref(r->body);
	free(r->text);
	r->body = NULL;
	r->text = NULL;
	free(l);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	process(arg);
}

/* Our side shut: the client reads our answer, then closes (or the linger timer does). */
static void linger(conn_t *c)
{
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	c->state = CONN_LINGER;
	bufferevent_setwatermark(c->bev, EV_READ, 0, 64 * 1024);
	bufferevent_enable(c->bev, EV_READ);
	arm(c, API_LINGER_SECONDS);
	process(c);
}

/* The output is empty: a reply went out whole. */
static void on_write(struct bufferevent *bev, void *arg)
{
	conn_t *c = arg;
	c->api->queued -= c->queued;   /* the output is empty: the reply was taken */
	c->queued = 0;
	if (c->state != CONN_REPLY)
		return;
	if (c->close_after) {
		linger(c);
		return;
	}
	c->state = CONN_HEAD;
	bufferevent_setwatermark(c->bev, EV_READ, 0, API_HEADER_MAX);
	bufferevent_enable(c->bev, EV_READ);
	arm(c, c->api->limits.timeout);
	process(c);   /* a request that came pipelined is already here */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	/* End of file, an error, or a reply the client did not take within the write timeout. */
	conn_free(arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	conn_t *c = arg;
	bool started = evbuffer_get_length(bufferevent_get_input(c->bev)) > 0;
	if ((c->state == CONN_HEAD && started) || c->state == CONN_BODY)
		send_error(c, 408, "request not received whole within %u s (http.timeout)",
		           c->api->limits.timeout);
	else
		conn_free(c);   /* idle, a reply not taken, or lingering done */
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
	api_t *api = arg;
	bool reject = api->nconns >= api->limits.max_clients;
	if (reject && api->nrejects >= API_REJECT_MAX) {   /* cannot happen: accepting pauses first */
		close(fd);
		update_listener(api);
		return;
	}
	conn_t *c = calloc(1, sizeof(*c));
	struct bufferevent *bev = c != NULL ? bufferevent_socket_new(api->base, fd, BEV_OPT_CLOSE_ON_FREE)
	                                    : NULL;
	struct event *timer = c != NULL ? evtimer_new(api->base, on_timer, c) : NULL;
	if (bev == NULL || timer == NULL) {
		if (bev != NULL)
			bufferevent_free(bev);
		else
			close(fd);
		if (timer != NULL)
			event_free(timer);
		free(c);
		log_limited(&refused_conns, LOG_ERR, "API: out of memory, a connection dropped");
		return;
	}
	sockaddr_t peer = { .len = (socklen_t)salen };
	memcpy(&peer.ss, sa, (size_t)salen < sizeof(peer.ss) ? (size_t)salen : sizeof(peer.ss));
	sockaddr_format(&peer, c->peer, sizeof(c->peer));
	c->api = api;
	c->bev = bev;
	c->timer = timer;
	c->reject = reject;
	c->next = api->conns;
	if (api->conns != NULL)
		api->conns->prev = c;
	api->conns = c;
	if (reject)
		api->nrejects++;
	else
		api->nconns++;
	update_listener(api);
	struct timeval wtv = { .tv_sec = api->limits.timeout };
	bufferevent_set_timeouts(bev, NULL, &wtv);
	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(bev, EV_READ, 0, API_HEADER_MAX);
	if (reject) {
		log_limited(&refused_conns, LOG_WARN, "API: %u connections open (http.max-clients), "
		            "refusing one from %s", api->limits.max_clients, c->peer);
		send_error(c, 503, "too many connections (http.max-clients is %u): try again",
		           api->limits.max_clients);
		return;
	}
	bufferevent_enable(bev, EV_READ);
	arm(c, api->limits.timeout);
}

static void on_backoff(evutil_socket_t fd, short what, void *arg)
{
	api_t *api = arg;
	api->backing_off = false;
	update_listener(api);
}

/* EMFILE and the like: accepting again at once would spin; wait a second. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
	api_t *api = arg;
	int err = EVUTIL_SOCKET_ERROR();
	log_limited(&refused_conns, LOG_ERR, "API: cannot accept a connection (%s)", strerror(err));
	struct timeval tv = { .tv_sec = 1 };
	api->backing_off = true;
	update_listener(api);
	evtimer_add(api->backoff, &tv);
}

int api_start(struct event_base *base, const sockaddr_t *listen, const char *key_file,
              const api_limits_t *limits, api_handler_fn handler, void *ctx, api_t **out)
{
	api_t *api = calloc(1, sizeof(*api));
	if (api == NULL)
		return TDM_ENOMEM;
	api->base = base;
	api->handler = handler;
	api->ctx = ctx;
	api->limits = limits != NULL ? *limits : (api_limits_t)API_LIMITS_DEFAULT;
	char addr[SOCKADDR_STRLEN], host[SOCKADDR_STRLEN];
	sockaddr_format(listen, addr, sizeof(addr));
	snprintf(host, sizeof(host), "%s", addr);
	host[strcspn(host, "@")] = '\0';
	int ret = load_key(key_file, api->key);
	if (ret != TDM_OK)
		goto fail;
	ret = TDM_ENOMEM;
	if ((api->backoff = evtimer_new(base, on_backoff, api)) == NULL)
		goto fail;
	api->listener = evconnlistener_new_bind(base, on_accept, api, LEV_OPT_CLOSE_ON_FREE |
	                                        LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, API_BACKLOG,
	                                        (const struct sockaddr *)&listen->ss, (int)listen->len);
	if (api->listener == NULL) {
		log_err("cannot listen for the API on %s (%s)", addr, strerror(errno));
		ret = TDM_EIO;
		goto fail;
	}
	api->listening = true;
	evconnlistener_set_error_cb(api->listener, on_accept_error);
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
	if (api->listener != NULL)
		evconnlistener_free(api->listener);
	api->listener = NULL;
	while (api->conns != NULL)
		conn_free(api->conns);
	if (api->backoff != NULL)
		event_free(api->backoff);
	free(api);
}

void api_set_auth(api_t *api, api_auth_fn auth)
{
	api->auth = auth;
}

void api_set_static(api_t *api, api_static_fn files)
{
	api->files = files;
}
