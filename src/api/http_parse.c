/* api/http_parse.c -- request heads (RFC 9112 2-3, 5-6) and request-target paths, checked octet by octet */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/http_parse.h"

size_t api_head_end(const char *data, size_t len, size_t *scanned)
{
	/* Skip the empty lines a client may send before the request line (RFC 9112 2.2). */
	size_t start = 0;
	while (start < len && (data[start] == '\r' || data[start] == '\n'))
		start++;
	size_t i = *scanned > start ? *scanned : start;
	for (; i < len; i++) {
		if (data[i] != '\n')
			continue;
		/* A line ending right after another one ends the head: "\n\n" or "\n\r\n". */
		if (i >= start + 1 && data[i - 1] == '\n')
			return i + 1;
		if (i >= start + 2 && data[i - 1] == '\r' && data[i - 2] == '\n')
			return i + 1;
	}
	*scanned = len;
	return 0;
}

/* RFC 9110 5.6.2 token characters. */
static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Field values: visible characters, obs-text, spaces and tabs (RFC 9110 5.5); no other control. */
static bool value_ok(const char *v)
{
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static int refuse(api_head_t *h, int status, const char *why)
{
	h->error = why;
	return status;
}

/* Cuts buf at the end of the current line (CRLF or LF); returns the next line, NULL at the end. */
static char *line_end(char *p)
{
	char *nl = strchr(p, '\n');
	if (nl == NULL)
		return NULL;
	if (nl > p && nl[-1] == '\r')
		nl[-1] = '\0';
	*nl = '\0';
	return nl + 1;
}

/* "METHOD SP request-target SP HTTP/1.x" (RFC 9112 3). */
static int request_line(api_head_t *h, char *line)
{
	char *sp1 = strchr(line, ' ');
	char *sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL || sp1 == line || sp2 == sp1 + 1)
		return refuse(h, 400, "malformed request line");
	*sp1 = *sp2 = '\0';
	for (const char *m = line; *m != '\0'; m++)
		if (!tchar((unsigned char)*m))
			return refuse(h, 400, "malformed method");
	for (const char *t = sp1 + 1; *t != '\0'; t++)
		if ((unsigned char)*t <= ' ' || (unsigned char)*t >= 0x7f)
			return refuse(h, 400, "malformed request target");
	const char *v = sp2 + 1;
	if (strncmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' ||
	    v[7] > '9' || v[8] != '\0')
		return refuse(h, 400, "malformed HTTP version");
	if (v[5] != '1')
		return refuse(h, 505, "only HTTP/1.0 and HTTP/1.1 are served");
	h->method = line;
	h->target = sp1 + 1;
	h->minor = v[7] - '0';
	h->keep_alive = h->minor >= 1;
	return 0;
}

/* Whether a comma-separated list value holds the token (case-insensitive). */
static bool list_has(const char *value, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = value; *p != '\0';) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t len = strcspn(p, ",");
		size_t t = len;
		while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
			t--;
		if (t == n && strncasecmp(p, token, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* RFC 9110 8.6: digits only; the same value repeated is allowed, differing values are not. */
static int content_length(api_head_t *h, const char *v)
{
	uint64_t n = 0;
	if (*v == '\0')
		return refuse(h, 400, "empty Content-Length");
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9' || n > (UINT64_MAX - 9) / 10)
			return refuse(h, 400, "bad Content-Length");
		n = n * 10 + (uint64_t)(*v - '0');
	}
	if (h->has_length && h->content_length != n)
		return refuse(h, 400, "two different Content-Length values");
	h->has_length = true;
	h->content_length = n;
	return 0;
}

static int field(api_head_t *h, char *line)
{
	char *colon = strchr(line, ':');
	if (line[0] == ' ' || line[0] == '\t')   /* RFC 9112 5.2: obsolete line folding */
		return refuse(h, 400, "folded header line");
	if (colon == NULL || colon == line)
		return refuse(h, 400, "malformed header line");
	*colon = '\0';
	for (const char *n = line; *n != '\0'; n++)
		if (!tchar((unsigned char)*n))   /* also refuses a space before the colon (RFC 9112 5.1) */
			return refuse(h, 400, "malformed header name");
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t vl = strlen(v);
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		v[--vl] = '\0';
	if (!value_ok(v))
		return refuse(h, 400, "control character in a header value");
	if (strcasecmp(line, "X-API-Key") == 0) {
		if (h->api_key != NULL)   /* which one would count? neither */
			return refuse(h, 400, "X-API-Key given twice");
		h->api_key = v;
	} else if (strcasecmp(line, "Authorization") == 0 && strncasecmp(v, "Bearer ", 7) == 0) {
		/* The key as a bearer token (RFC 6750 2.1), for clients that cannot add a header of
		 * their own (Prometheus's scrape_config has `authorization`). */
		if (h->api_key != NULL)
			return refuse(h, 400, "the API key given twice (X-API-Key, Authorization)");
		h->api_key = v + 7 + strspn(v + 7, " ");
	} else if (strcasecmp(line, "If-Match") == 0) {
		if (h->if_match != NULL)
			return refuse(h, 400, "If-Match given twice");
		h->if_match = v;
	} else if (strcasecmp(line, "Content-Type") == 0) {
		h->content_type = v;
	} else if (strcasecmp(line, "Content-Length") == 0) {
		return content_length(h, v);
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		h->transfer_coding = true;
	} else if (strcasecmp(line, "Connection") == 0) {
		if (list_has(v, "close"))
			h->keep_alive = false;
		else if (list_has(v, "keep-alive"))
			h->keep_alive = true;
	} else if (strcasecmp(line, "Expect") == 0) {
		h->expect_continue = strcasecmp(v, "100-continue") == 0;
	}
	return 0;
}

int api_head_parse(api_head_t *h, const char *data, size_t len)
{
	memset(h, 0, offsetof(api_head_t, buf));
	h->buf[0] = '\0';
	if (len > API_HEADER_MAX)
		return refuse(h, 431, "request header fields too large");
	if (memchr(data, '\0', len) != NULL)
		return refuse(h, 400, "NUL in the request head");
	memcpy(h->buf, data, len);
	h->buf[len] = '\0';
	char *p = h->buf;
	while (*p == '\r' || *p == '\n')
		p++;
	char *next = line_end(p);
	if (next == NULL)
		return refuse(h, 400, "incomplete request head");
	int ret = request_line(h, p);
	if (ret != 0)
		return ret;
	unsigned count = 0;
	/* Up to the blank line; a line starting with a lone CR is no blank line (400 from field()). */
	for (p = next; p != NULL && *p != '\0' && *p != '\n' && strncmp(p, "\r\n", 2) != 0; p = next) {
		next = line_end(p);
		if (next == NULL)
			return refuse(h, 400, "incomplete request head");
		if (++count > API_HEADER_COUNT_MAX)
			return refuse(h, 431, "too many header fields");
		if ((ret = field(h, p)) != 0)
			return ret;
	}
	/* RFC 9112 6.3: with both, Transfer-Encoding wins; we take neither then (411 or 400). */
	if (h->transfer_coding && h->has_length)
		return refuse(h, 400, "both Transfer-Encoding and Content-Length");
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool api_target_path(const char *target, char *out, size_t cap)
{
	size_t n = 0;
	if (target[0] != '/' || cap == 0)
		return false;
	for (const char *p = target; *p != '\0' && *p != '?' && *p != '#'; p++) {
		char c = *p;
		if (c == '%') {
			int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0))   /* %00 would cut the C string short */
				return false;
			c = (char)(hi * 16 + lo);
			p += 2;
		}
		if (n + 1 >= cap)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

const char *api_target_query(const char *target)
{
	const char *q = strchr(target, '?');
	if (q == NULL)
		return NULL;
	const char *hash = strchr(target, '#');
	return hash != NULL && hash < q ? NULL : q + 1;
}

/* Decodes src[0..len) (%XX, '+' as a space) into out; false when malformed or too long. */
static bool query_decode(const char *src, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = src[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 1 < len ? hexval(src[i + 1]) : -1;
			int lo = hi >= 0 && i + 2 < len ? hexval(src[i + 2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0))
				return false;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (n + 1 >= cap)
			return false;
		out[n++] = c;
	}
	if (cap == 0)
		return false;
	out[n] = '\0';
	return true;
}

int api_query_get(const char *query, const char *name, char *out, size_t cap)
{
	if (cap > 0)
		out[0] = '\0';
	if (query == NULL)
		return 0;
	size_t nlen = strlen(name);
	for (const char *p = query; *p != '\0' && *p != '#';) {
		size_t plen = strcspn(p, "&#");
		const char *eq = memchr(p, '=', plen);
		size_t klen = eq != NULL ? (size_t)(eq - p) : plen;
		if (klen == nlen && memcmp(p, name, nlen) == 0) {
			const char *v = eq != NULL ? eq + 1 : p + plen;
			return query_decode(v, (size_t)(p + plen - v), out, cap) ? 1 : -1;
		}
		p += plen;
		if (*p == '&')
			p++;
	}
	return 0;
}
