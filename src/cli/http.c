/* cli/http.c -- a small blocking HTTP/1.1 client for the API: one request per connection, bounded sizes */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/http.h"
#include "lib/netwait.h"
#include "lib/error.h"
#include "lookup/net.h"

#define CHUNK_LINE_MAX 1024     /* a chunk-size line with its extensions */
#define BUF_START 16384
/* Raw octets we accept: the head, the body, and the framing of a chunked body. */
#define RAW_MAX ((size_t)CLI_HTTP_HEAD_MAX + CLI_HTTP_BODY_MAX + CLI_HTTP_BODY_MAX / 8)

/* ---- requests ---- */

/* No control characters (CR, LF above all) and, where asked, no spaces. */
static bool clean(const char *s, bool spaces_ok)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || (c == ' ' && !spaces_ok))
			return false;
	}
	return true;
}

int cli_http_build(const cli_http_request_t *req, char *out, size_t cap)
{
	if (!clean(req->method, false) || !clean(req->path, false) || !clean(req->host, false) ||
	    (req->api_key != NULL && !clean(req->api_key, false)) || cap > INT_MAX ||
	    (req->if_match != NULL && !clean(req->if_match, false)) ||
	    (req->content_type != NULL && !clean(req->content_type, false)))
		return TDM_EINVAL;
	char extra[CLI_HTTP_ETAG_MAX + 160] = "";
	if (req->body != NULL || req->if_match != NULL)
		snprintf(extra, sizeof(extra), "%s%s%s%s%s%s", req->body ? "Content-Type: " : "",
		         req->body ? (req->content_type ? req->content_type : "application/json") : "",
		         req->body ? "\r\n" : "", req->if_match ? "If-Match: " : "",
		         req->if_match ? req->if_match : "", req->if_match ? "\r\n" : "");
	size_t body_len = req->body != NULL ? req->body_len : 0;
	int n = snprintf(out, cap,
	                 "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%sAccept: application/json\r\n"
	                 "User-Agent: tandem\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
	                 req->method, req->path, req->host, req->api_key != NULL ? "X-API-Key: " : "",
	                 req->api_key != NULL ? req->api_key : "", req->api_key != NULL ? "\r\n" : "",
	                 extra, body_len);
	if (n < 0 || (size_t)n >= cap || body_len > cap - (size_t)n)
		return TDM_ESPACE;
	if (body_len > 0)
		memcpy(out + n, req->body, body_len);
	return n + (int)body_len;
}

/* ---- reply heads ---- */

/* The line at buf[pos..len): its length without CR LF, and where the next one starts. */
static bool next_line(const char *buf, size_t len, size_t pos, size_t *line_len, size_t *next)
{
	const char *lf = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
	if (lf == NULL)
		return false;
	size_t end = (size_t)(lf - buf);
	*next = end + 1;
	if (end > pos && buf[end - 1] == '\r')
		end--;
	*line_len = end - pos;
	return true;
}

/* "HTTP/1.1 200 OK" or "HTTP/1.0 404" */
static int parse_status(const char *line, size_t n, int *status)
{
	if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ' || (n > 12 && line[12] != ' '))
		return TDM_EMALF;
	int v = 0;
	for (int i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return TDM_EMALF;
		v = v * 10 + (line[i] - '0');
	}
	if (v < 100)
		return TDM_EMALF;
	*status = v;
	return TDM_OK;
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

static int content_length(const char *v, size_t n, cli_http_head_t *h)
{
	size_t value = 0;
	if (n == 0 || n > 18)   /* 18 digits cannot overflow a 64-bit size_t */
		return TDM_EMALF;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return TDM_EMALF;
		value = value * 10 + (size_t)(v[i] - '0');
	}
	/* RFC 9112 6.3: differing Content-Length values make the message unusable. */
	if (h->has_length && h->content_length != value)
		return TDM_EMALF;
	h->has_length = true;
	h->content_length = value;
	return TDM_OK;
}

static int parse_header(const char *line, size_t n, cli_http_head_t *h)
{
	const char *colon = memchr(line, ':', n);
	if (colon == NULL || colon == line || line[0] == ' ' || line[0] == '\t')
		return TDM_EMALF;
	size_t name_len = (size_t)(colon - line);
	const char *v = colon + 1, *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	size_t vlen = (size_t)(end - v);
	if (name_is(line, name_len, "content-length"))
		return content_length(v, vlen, h);
	if (name_is(line, name_len, "etag") && vlen < sizeof(h->etag)) {
		memcpy(h->etag, v, vlen);
		h->etag[vlen] = '\0';
	}
	if (name_is(line, name_len, "transfer-encoding")) {
		/* Only chunked is understood; it must be the last coding (RFC 9112 6.1). */
		if (vlen < 7 || strncasecmp(end - 7, "chunked", 7) != 0)
			return TDM_EMALF;
		h->chunked = true;
	}
	return TDM_OK;
}

int cli_http_parse_head(const char *buf, size_t len, cli_http_head_t *h)
{
	size_t n, next;
	memset(h, 0, sizeof(*h));
	if (memcmp(buf, "HTTP/", len < 5 ? len : 5) != 0)
		return TDM_EMALF;
	if (!next_line(buf, len, 0, &n, &next))
		return TDM_EAGAIN;
	int ret = parse_status(buf, n, &h->status);
	while (ret == TDM_OK) {
		size_t pos = next;
		if (!next_line(buf, len, pos, &n, &next))
			return TDM_EAGAIN;
		if (n == 0) {
			h->head_len = next;
			return TDM_OK;
		}
		ret = parse_header(buf + pos, n, h);
	}
	return ret;
}

/* ---- chunked bodies ---- */

/* "1a2b" with optional extensions after ';'. */
static int chunk_size(const char *line, size_t n, size_t *size)
{
	size_t i = 0, v = 0;
	for (; i < n && i < 16; i++) {
		char c = line[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			break;
		v = v * 16 + (size_t)d;
	}
	if (i == 0 || i == 16)   /* no digits, or a size past 2^60 */
		return TDM_EMALF;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < n && line[i] != ';')
		return TDM_EMALF;
	*size = v;
	return TDM_OK;
}

/* The CRLF (or LF) after a chunk's data. */
static int chunk_end(const char *buf, size_t len, size_t *pos)
{
	if (*pos >= len)
		return TDM_EAGAIN;
	if (buf[*pos] == '\n') {
		*pos += 1;
		return TDM_OK;
	}
	if (buf[*pos] != '\r')
		return TDM_EMALF;
	if (*pos + 1 >= len)
		return TDM_EAGAIN;
	if (buf[*pos + 1] != '\n')
		return TDM_EMALF;
	*pos += 2;
	return TDM_OK;
}

/* Trailer fields up to the empty line: read past, not used. */
static int skip_trailers(const char *buf, size_t len, size_t pos)
{
	size_t n, next;
	for (;;) {
		if (!next_line(buf, len, pos, &n, &next))
			return len - pos > CLI_HTTP_HEAD_MAX ? TDM_EMALF : TDM_EAGAIN;
		if (n == 0)
			return TDM_OK;
		pos = next;
	}
}

int cli_http_dechunk(char *buf, size_t len, char *out, size_t *out_len)
{
	size_t pos = 0, w = 0, n, next, size;
	for (;;) {
		if (!next_line(buf, len, pos, &n, &next))
			return len - pos > CHUNK_LINE_MAX ? TDM_EMALF : TDM_EAGAIN;
		int ret = chunk_size(buf + pos, n, &size);
		if (ret != TDM_OK)
			return ret;
		pos = next;
		if (size == 0)
			break;
		if (size > CLI_HTTP_BODY_MAX - w)
			return TDM_ESPACE;
		if (len - pos < size)
			return TDM_EAGAIN;
		/* w <= pos always (every chunk has a size line before it): data only moves back. */
		if (out != NULL)
			memmove(out + w, buf + pos, size);
		w += size;
		pos += size;
		if ((ret = chunk_end(buf, len, &pos)) != TDM_OK)
			return ret;
	}
	int ret = skip_trailers(buf, len, pos);
	if (ret == TDM_OK && out_len != NULL)
		*out_len = w;
	return ret;
}

/* ---- the connection ---- */

struct conn {
	int fd;
	int64_t deadline;
	char *buf;
	size_t len, cap;
};


static int send_all(struct conn *c, const char *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = send(c->fd, buf + done, len - done, MSG_NOSIGNAL);
		if (n >= 0) {
			done += (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		int ret = netwait(c->fd, POLLOUT, c->deadline);
		if (ret != TDM_OK)
			return ret;
	}
	return TDM_OK;
}

static int grow(struct conn *c)
{
	if (c->len < c->cap)
		return TDM_OK;
	if (c->cap >= RAW_MAX)
		return TDM_ESPACE;
	size_t cap = c->cap == 0 ? BUF_START : c->cap * 2;
	if (cap > RAW_MAX)
		cap = RAW_MAX;
	char *p = realloc(c->buf, cap);
	if (p == NULL)
		return TDM_ENOMEM;
	c->buf = p;
	c->cap = cap;
	return TDM_OK;
}

/* Reads what has arrived (at least one octet). -EPIPE when the server has closed. */
static int fill(struct conn *c)
{
	int ret = grow(c);
	while (ret == TDM_OK) {
		ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			return TDM_OK;
		}
		if (n == 0)
			return -EPIPE;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		ret = netwait(c->fd, POLLIN, c->deadline);
	}
	return ret;
}

/* Reads until a final (non-1xx) head is complete; 1xx interim replies are dropped. */
static int read_head(struct conn *c, cli_http_head_t *h)
{
	for (;;) {
		int ret = c->len > 0 ? cli_http_parse_head(c->buf, c->len, h) : TDM_EAGAIN;
		if (ret == TDM_OK && h->status < 200) {
			memmove(c->buf, c->buf + h->head_len, c->len - h->head_len);
			c->len -= h->head_len;
			continue;
		}
		if (ret != TDM_EAGAIN)
			return ret;
		if (c->len >= CLI_HTTP_HEAD_MAX)
			return TDM_EMALF;
		ret = fill(c);
		if (ret != TDM_OK)
			return ret == -EPIPE && c->len > 0 ? TDM_EMALF : ret;
	}
}

/* Reads the body that follows the head; *body_len is its length once decoded at buf + head_len. */
static int read_body(struct conn *c, const cli_http_head_t *h, size_t *body_len)
{
	size_t head = h->head_len;
	if (h->status == 204 || h->status == 304) {
		*body_len = 0;
		return TDM_OK;
	}
	if (h->chunked) {
		int ret;
		while ((ret = cli_http_dechunk(c->buf + head, c->len - head, NULL, NULL)) == TDM_EAGAIN) {
			if ((ret = fill(c)) != TDM_OK)
				return ret;
		}
		if (ret != TDM_OK)
			return ret;
		return cli_http_dechunk(c->buf + head, c->len - head, c->buf + head, body_len);
	}
	if (h->has_length) {
		if (h->content_length > CLI_HTTP_BODY_MAX)
			return TDM_ESPACE;
		while (c->len - head < h->content_length) {
			int ret = fill(c);
			if (ret != TDM_OK)
				return ret;
		}
		*body_len = h->content_length;
		return TDM_OK;
	}
	/* Neither: the body ends when the server closes the connection (RFC 9112 6.3). */
	int ret;
	while ((ret = fill(c)) == TDM_OK) {
		if (c->len - head > CLI_HTTP_BODY_MAX)
			return TDM_ESPACE;
	}
	*body_len = c->len - head;
	return ret == -EPIPE ? TDM_OK : ret;
}

static int exchange(struct conn *c, const cli_http_request_t *req, cli_http_reply_t *reply)
{
	size_t cap = CLI_HTTP_REQUEST_MAX + (req->body != NULL ? req->body_len : 0);
	char *out = malloc(cap);
	if (out == NULL)
		return TDM_ENOMEM;
	int n = cli_http_build(req, out, cap);
	int ret = n < 0 ? n : send_all(c, out, (size_t)n);
	free(out);
	cli_http_head_t h;
	size_t body_len = 0;
	if (ret == TDM_OK)
		ret = read_head(c, &h);
	if (ret == TDM_OK)
		ret = read_body(c, &h, &body_len);
	if (ret != TDM_OK)
		return ret;
	/* The body moves to the front; body_len < len <= cap leaves room for the NUL. */
	memmove(c->buf, c->buf + h.head_len, body_len);
	c->buf[body_len] = '\0';
	reply->status = h.status;
	memcpy(reply->etag, h.etag, sizeof(reply->etag));
	reply->body = c->buf;
	reply->body_len = body_len;
	c->buf = NULL;
	return TDM_OK;
}

int cli_http_request(const sockaddr_t *server, const cli_http_request_t *req, unsigned timeout_s,
                     cli_http_reply_t *reply)
{
	struct conn c = { .fd = -1, .deadline = lookup_net_now() + (int64_t)timeout_s * 1000000 };
	memset(reply, 0, sizeof(*reply));
	int ret = lookup_net_open(server, true, c.deadline, &c.fd);
	if (ret != TDM_OK)
		return ret;
	ret = exchange(&c, req, reply);
	close(c.fd);
	free(c.buf);
	return ret;
}

void cli_http_reply_free(cli_http_reply_t *reply)
{
	free(reply->body);
	reply->body = NULL;
	reply->body_len = 0;
}
