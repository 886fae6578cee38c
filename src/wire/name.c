/* wire/name.c -- domain names in wire form */
#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/siphash.h"
#include "wire/name.h"


int name_length(const uint8_t *name, size_t maxlen)
{
	size_t pos = 0;
	for (;;) {
		if (pos >= maxlen)
			return TDM_EMALF;
		uint8_t len = name[pos];
		if (len == 0)
			break;
		if (len > LABEL_MAXLEN)
			return TDM_ELABEL;
		pos += 1 + len;
		if (pos >= NAME_MAXLEN)
			return TDM_ENAMELEN;
	}
	return (int)pos + 1;
}

int name_labels(const uint8_t *name)
{
	int n = 0;
	while (*name != 0) {
		name += 1 + *name;
		n++;
	}
	return n;
}

int name_copy_lower(uint8_t *dst, const uint8_t *src)
{
	int pos = 0;
	for (;;) {
		uint8_t len = src[pos];
		dst[pos++] = len;
		if (len == 0)
			return pos;
		for (int i = 0; i < len; i++, pos++)
			dst[pos] = name_lower(src[pos]);
	}
}

bool name_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		uint8_t len = *a;
		if (len == 0)
			return true;
		a++, b++;
		for (int i = 0; i < len; i++)
			if (name_lower(a[i]) != name_lower(b[i]))
				return false;
		a += len, b += len;
	}
}

static int label_positions(const uint8_t *name, const uint8_t **labels)
{
	int n = 0;
	while (*name != 0) {
		labels[n++] = name;
		name += 1 + *name;
	}
	return n;
}

int name_cmp_canonical(const uint8_t *a, const uint8_t *b)
{
	const uint8_t *la[NAME_MAXLABELS], *lb[NAME_MAXLABELS];
	int na = label_positions(a, la), nb = label_positions(b, lb);
	while (na > 0 && nb > 0) {
		const uint8_t *x = la[--na], *y = lb[--nb];
		int n = *x < *y ? *x : *y;
		for (int i = 1; i <= n; i++) {
			int c = (int)name_lower(x[i]) - (int)name_lower(y[i]);
			if (c != 0)
				return c;
		}
		if (*x != *y)
			return (int)*x - (int)*y;
	}
	return na - nb;
}

const uint8_t *name_suffix(const uint8_t *name, int labels)
{
	int skip = name_labels(name) - labels;
	while (skip-- > 0)
		name += 1 + *name;
	return name;
}

bool name_in_zone(const uint8_t *name, const uint8_t *parent)
{
	int n = name_labels(name), p = name_labels(parent);
	if (n < p)
		return false;
	return name_equal(name_suffix(name, p), parent);
}

int name_unpack(const uint8_t *msg, size_t msglen, size_t *pos, uint8_t *out)
{
	size_t p = *pos, outlen = 0;
	bool jumped = false;
	unsigned hops = 0;
	for (;;) {
		if (p >= msglen)
			return TDM_EMALF;
		uint8_t len = msg[p];
		if ((len & 0xC0) == 0xC0) {
			if (p + 1 >= msglen)
				return TDM_EMALF;
			size_t target = ((size_t)(len & 0x3F) << 8) | msg[p + 1];
			/* Only backward pointers: each jump goes strictly lower, so no loop can form. And
			 * few of them: a chain of pointers to pointers would cost a hop for every two octets
			 * of the message, for every name that points into it. */
			if (target >= p || ++hops > NAME_MAXHOPS)
				return TDM_ECOMPRESS;
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			p = target;
			continue;
		}
		if (len > LABEL_MAXLEN)
			return TDM_ELABEL;
		if (outlen + 1 + len > NAME_MAXLEN)
			return TDM_ENAMELEN;
		if (p + 1 + len > msglen)
			return TDM_EMALF;
		memcpy(out + outlen, msg + p, 1 + (size_t)len);
		outlen += 1 + (size_t)len;
		p += 1 + (size_t)len;
		if (len == 0)
			break;
	}
	if (!jumped)
		*pos = p;
	return (int)outlen;
}

static int parse_escape(const char **tp, uint8_t *c)
{
	const char *t = *tp;
	if (t[0] >= '0' && t[0] <= '9') {
		if (!(t[1] >= '0' && t[1] <= '9' && t[2] >= '0' && t[2] <= '9'))
			return TDM_EPARSE;
		int v = (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
		if (v > 255)
			return TDM_EPARSE;
		*c = (uint8_t)v;
		*tp = t + 3;
		return TDM_OK;
	}
	if (t[0] == '\0')
		return TDM_EPARSE;
	*c = (uint8_t)t[0];
	*tp = t + 1;
	return TDM_OK;
}

int name_from_text(const char *text, const uint8_t *origin, uint8_t out[NAME_MAXLEN])
{
	static const uint8_t root[1] = { 0 };
	if (strcmp(text, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	size_t len = 0, label = 0;
	out[0] = 0;
	const char *t = text;
	if (*t == '\0')
		return TDM_EPARSE;
	while (*t != '\0') {
		uint8_t c = (uint8_t)*t;
		if (c == '.') {
			if (len == label)   /* empty label */
				return TDM_EPARSE;
			out[label] = (uint8_t)(len - label - 1);
			label = len;
			t++;
			if (len >= NAME_MAXLEN)
				return TDM_ENAMELEN;
			continue;
		}
		if (len == label)
			len++;   /* room for the length octet */
		if (c == '\\') {
			t++;
			if (parse_escape(&t, &c) != TDM_OK)
				return TDM_EPARSE;
		} else {
			t++;
		}
		if (len - label >= LABEL_MAXLEN + 1)
			return TDM_ELABEL;
		if (len >= NAME_MAXLEN - 1)
			return TDM_ENAMELEN;
		out[len++] = c;
	}
	if (len > label) {   /* relative: last label unterminated */
		out[label] = (uint8_t)(len - label - 1);
		if (origin == NULL)
			origin = root;
		int olen = name_length(origin, NAME_MAXLEN);
		if (olen < 0)
			return olen;
		if (len + (size_t)olen > NAME_MAXLEN)
			return TDM_ENAMELEN;
		memcpy(out + len, origin, (size_t)olen);
		return (int)len + olen;
	}
	out[len] = 0;
	return (int)len + 1;
}

int name_to_text(const uint8_t *name, char *out, size_t size)
{
	size_t n = 0;
	if (size == 0)
		return TDM_ESPACE;
	if (*name == 0) {
		if (size < 2)
			return TDM_ESPACE;
		strcpy(out, ".");
		return 1;
	}
	while (*name != 0) {
		uint8_t len = *name++;
		for (int i = 0; i < len; i++) {
			/* Written octet by octet: this runs for every owner of a dumped or listed zone, and
			 * snprintf per octet was most of a 100,000-zone start's name formatting. */
			uint8_t c = name[i];
			char tmp[4];
			size_t w = 0;
			if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' ||
			    c == '@' || c == '$') {
				tmp[w++] = '\\';
				tmp[w++] = (char)c;
			} else if (c <= 0x20 || c >= 0x7f) {
				tmp[w++] = '\\';
				tmp[w++] = (char)('0' + c / 100);
				tmp[w++] = (char)('0' + c / 10 % 10);
				tmp[w++] = (char)('0' + c % 10);
			} else {
				tmp[w++] = (char)c;
			}
			if (n + w + 1 >= size) {
				out[n] = '\0';
				return TDM_ESPACE;
			}
			memcpy(out + n, tmp, w);
			n += w;
		}
		name += len;
		if (n + 2 > size) {
			out[n] = '\0';
			return TDM_ESPACE;
		}
		out[n++] = '.';
	}
	out[n] = '\0';
	return (int)n;
}

uint32_t name_hash(const uint8_t *name, size_t len)
{
	/* Keyed: peers choose the names of zones, catalogs and queries, and an unkeyed hash (FNV-1a
	 * was here) lets them precompute names that all fall in one run of a table. SipHash-1-3 with
	 * the process's random key, case folded on the fly: faster than FNV's multiply per octet. */
	uint64_t h = siphash13(siphash_table_key(), name, len, true);
	return (uint32_t)(h ^ (h >> 32));
}
