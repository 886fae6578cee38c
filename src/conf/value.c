/* conf/value.c -- the value types of the configuration schema: text as written in, typed field out */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "conf/schema.h"
#include "lib/error.h"
#include "tsig/tsig.h"

/*
 * Fields are reached through their offset in the section's struct. Pointers are read and written with
 * memcpy, so one free routine serves every pointer field whatever it points to.
 */
#define FIELD(obj, off) ((void *)((char *)(obj) + (off)))

static_assert(sizeof(unsigned) == sizeof(uint32_t), "unsigned fields are stored as uint32_t");

typedef void (*set_fn)(struct conf_ctx *c, const struct conf_row *r, void *obj,
                       const struct conf_val *v, size_t n, const char *path);

static void store_ptr(void *obj, size_t off, const void *ptr)
{
	memcpy(FIELD(obj, off), &ptr, sizeof(ptr));
}

static void store_count(void *obj, size_t off, size_t n)
{
	memcpy(FIELD(obj, off), &n, sizeof(n));
}

static void *alloc(struct conf_ctx *c, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (p == NULL)
		c->nomem = true;
	return p;
}

static void store_str(struct conf_ctx *c, void *obj, size_t off, const char *text)
{
	char *s = strdup(text);
	if (s == NULL)
		c->nomem = true;
	store_ptr(obj, off, s);
}

/* Decimal digits, then for times an optional unit. Huge values saturate so they read "out of range". */
static bool parse_uint(const char *s, bool time, uint64_t *out)
{
	static const struct { char unit; uint32_t mult; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 },
	};
	uint64_t v = 0;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			v = (uint64_t)UINT32_MAX + 1;
	}
	for (size_t i = 0; time && *s != '\0' && i < sizeof(units) / sizeof(units[0]); i++) {
		if (*s == units[i].unit) {
			v *= units[i].mult;
			s++;
			break;
		}
	}
	*out = v;
	return *s == '\0';
}

static void set_uint(struct conf_ctx *c, const struct conf_row *r, void *obj,
                     const struct conf_val *v, size_t n, const char *path)
{
	uint64_t x;
	if (!parse_uint(v->text, r->type == OPT_TIME, &x)) {
		conf_error(c, v->line, "%s: '%s' is not %s", path, v->text, conf_value_what(r->type));
		return;
	}
	if (x < r->min || x > r->max) {
		conf_error(c, v->line, "%s: %s is out of range (%u to %u)", path, v->text,
		           (unsigned)r->min, (unsigned)r->max);
		return;
	}
	uint32_t x32 = (uint32_t)x;
	memcpy(FIELD(obj, r->off), &x32, sizeof(x32));
	if (r->flags & CONF_GIVEN)
		*(bool *)FIELD(obj, r->off2) = true;
}

static void set_str(struct conf_ctx *c, const struct conf_row *r, void *obj,
                    const struct conf_val *v, size_t n, const char *path)
{
	const char *problem = r->check ? r->check(v->text) : NULL;
	if (problem != NULL) {
		conf_error(c, v->line, "%s: '%s' %s", path, v->text, problem);
		return;
	}
	store_str(c, obj, r->off, v->text);
}

/* Relative paths are taken from the config file's folder, so the file means the same from any cwd. */
static void set_path(struct conf_ctx *c, const struct conf_row *r, void *obj,
                     const struct conf_val *v, size_t n, const char *path)
{
	const char *text = v->text;
	if (*text == '\0') {
		conf_error(c, v->line, "%s: empty path", path);
		return;
	}
	if (c->base == NULL || text[0] == '/') {
		store_str(c, obj, r->off, text);
		return;
	}
	while (text[0] == '.' && text[1] == '/')
		text += 2;
	char *joined = NULL;
	const char *sep = c->base[strlen(c->base) - 1] == '/' ? "" : "/";
	if (asprintf(&joined, "%s%s%s", c->base, sep, *text ? text : ".") < 0) {
		c->nomem = true;
		joined = NULL;
	}
	store_ptr(obj, r->off, joined);
}

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '/';
}

const char *conf_dname_norm(const char *text, char out[CONF_DNAME_BUF])
{
	size_t len = strlen(text), label = 0;
	if (len == 0)
		return "is empty";
	if (strcmp(text, ".") == 0) {
		strcpy(out, ".");
		return NULL;
	}
	/* Wire length is the text length plus one, with the trailing dot: at most 255 (RFC 1035 2.3.4). */
	if (len > CONF_DNAME_BUF - 2)
		return "is longer than 255 octets";
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (ch == '.' && label == 0)
			return "has an empty label";
		if (ch != '.' && !name_char(ch))
			return "has a character other than letters, digits, '-', '_', '/'";
		label = ch == '.' ? 0 : label + 1;
		if (label > 63)
			return "has a label longer than 63 octets";
		out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	if (text[len - 1] != '.')
		out[len++] = '.';
	out[len] = '\0';
	return len + 1 > 255 ? "is longer than 255 octets" : NULL;
}

static void set_dname(struct conf_ctx *c, const struct conf_row *r, void *obj,
                      const struct conf_val *v, size_t n, const char *path)
{
	char name[CONF_DNAME_BUF];
	const char *problem = conf_dname_norm(v->text, name);
	if (problem != NULL) {
		conf_error(c, v->line, "%s: '%s' is not a valid domain name: it %s", path, v->text, problem);
		return;
	}
	store_str(c, obj, r->off, name);
}

/* "primary, secondary" for messages. */
static const char *word_list(const struct conf_word *w, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (; w->word != NULL && used < size; w++) {
		int k = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", w->word);
		used += k > 0 ? (size_t)k : 0;
	}
	return buf;
}

static bool find_word(const struct conf_row *r, const struct conf_val *v, unsigned *value)
{
	for (const struct conf_word *w = r->words; w->word != NULL; w++) {
		if (strcasecmp(w->word, v->text) == 0) {
			*value = w->value;
			return true;
		}
	}
	return false;
}

static void set_words(struct conf_ctx *c, const struct conf_row *r, void *obj,
                      const struct conf_val *v, size_t n, const char *path)
{
	uint32_t bits = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned value;
		char list[128];
		if (!find_word(r, &v[i], &value)) {
			conf_error(c, v[i].line, "%s: '%s' is not one of: %s", path, v[i].text,
			           word_list(r->words, list, sizeof(list)));
			return;
		}
		bits = r->type == OPT_FLAGS ? bits | value : value;
	}
	memcpy(FIELD(obj, r->off), &bits, sizeof(bits));
}

static bool parse_addr(struct conf_ctx *c, const struct conf_row *r, const struct conf_val *v,
                       sockaddr_t *sa, const char *path)
{
	if (sockaddr_parse(sa, v->text, r->port) == TDM_OK)
		return true;
	conf_error(c, v->line, "%s: '%s' is not an address (ADDRESS or ADDRESS@PORT)", path, v->text);
	return false;
}

static void set_addr(struct conf_ctx *c, const struct conf_row *r, void *obj,
                     const struct conf_val *v, size_t n, const char *path)
{
	sockaddr_t sa;
	if (parse_addr(c, r, v, &sa, path))
		memcpy(FIELD(obj, r->off), &sa, sizeof(sa));
}

static void set_addrs(struct conf_ctx *c, const struct conf_row *r, void *obj,
                      const struct conf_val *v, size_t n, const char *path)
{
	sockaddr_t *list = alloc(c, n, sizeof(*list));
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		parse_addr(c, r, &v[i], &list[i], path);
	store_ptr(obj, r->off, list);
	store_count(obj, r->off2, n);
}

/* One source address per family: IPv4 into off, IPv6 into off2. */
static void set_source(struct conf_ctx *c, const struct conf_row *r, void *obj,
                       const struct conf_val *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++) {
		sockaddr_t sa;
		if (!parse_addr(c, r, &v[i], &sa, path))
			continue;
		sockaddr_t *dst = FIELD(obj, sockaddr_family(&sa) == AF_INET ? r->off : r->off2);
		if (dst->len != 0) {
			conf_error(c, v[i].line, "%s: a second IPv%c address; give at most one per family",
			           path, sockaddr_family(&sa) == AF_INET ? '4' : '6');
			continue;
		}
		*dst = sa;
	}
}

static void set_prefixes(struct conf_ctx *c, const struct conf_row *r, void *obj,
                         const struct conf_val *v, size_t n, const char *path)
{
	addr_prefix_t *list = alloc(c, n, sizeof(*list));
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		if (addr_prefix_parse(&list[i], v[i].text) != TDM_OK)
			conf_error(c, v[i].line, "%s: '%s' is not an address or a prefix such as "
			           "10.0.0.0/8 or 2001:db8::/32 (no bits set past the prefix)", path, v[i].text);
	}
	store_ptr(obj, r->off, list);
	store_count(obj, r->off2, n);
}

/* RFC 8945 6 names, with the old "hmac-md5.sig-alg.reg.int." spelling and a trailing dot tolerated. */
static void set_algo(struct conf_ctx *c, const struct conf_row *r, void *obj,
                     const struct conf_val *v, size_t n, const char *path)
{
	static const char *const algos[] = {
		"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512",
	};
	char name[32];
	size_t len = strlen(v->text);
	if (len > 0 && v->text[len - 1] == '.')
		len--;
	if (len < sizeof(name)) {
		memcpy(name, v->text, len);
		name[len] = '\0';
		if (strcasecmp(name, "hmac-md5.sig-alg.reg.int") == 0)
			name[8] = '\0';
		for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
			if (strcasecmp(name, algos[i]) == 0) {
				store_str(c, obj, r->off, algos[i]);
				return;
			}
		}
	}
	conf_error(c, v->line, "%s: unknown TSIG algorithm '%s' (hmac-md5, hmac-sha1, hmac-sha224, "
	           "hmac-sha256, hmac-sha384, hmac-sha512)", path, v->text);
}

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	return ch == '/' ? 63 : -1;
}

/* RFC 4648 4 base64; padding optional, but when present it must complete the last quantum. */
static bool b64_decode(const char *s, uint8_t *out, size_t *out_len)
{
	size_t n = strlen(s), pad = 0, o = 0;
	while (n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (n == 0 || n % 4 == 1 || (pad > 0 && (n + pad) % 4 != 0))
		return false;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		int val = b64_value(s[i]);
		if (val < 0)
			return false;
		acc = (acc << 6) | (uint32_t)val;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	*out_len = o;
	return true;
}

static void set_secret(struct conf_ctx *c, const struct conf_row *r, void *obj,
                       const struct conf_val *v, size_t n, const char *path)
{
	uint8_t *secret = alloc(c, strlen(v->text) / 4 * 3 + 3, 1);
	size_t len = 0;
	if (secret == NULL)
		return;
	if (!b64_decode(v->text, secret, &len)) {
		conf_error(c, v->line, "%s: not a base64 secret", path);
		free(secret);
		return;
	}
	/* Refused here rather than cut or dropped later: every job that signs copies the secret into
	 * a buffer of TSIG_SECRET_MAX octets, and a key that does not fit would go unused (unsigned). */
	if (len > TSIG_SECRET_MAX) {
		conf_error(c, v->line, "%s: %zu octets, longer than the %d Tandem can use", path, len,
		           TSIG_SECRET_MAX);
		free(secret);
		return;
	}
	store_ptr(obj, r->off, secret);
	store_count(obj, r->off2, len);
}

static void set_dnames(struct conf_ctx *c, const struct conf_row *r, void *obj,
                       const struct conf_val *v, size_t n, const char *path)
{
	char *joined = calloc(n ? n : 1, CONF_DNAME_BUF + 1);
	size_t used = 0, good = 0;
	if (joined == NULL) {
		c->nomem = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char name[CONF_DNAME_BUF];
		const char *problem = conf_dname_norm(v[i].text, name);
		if (problem != NULL) {
			conf_error(c, v[i].line, "%s[%zu]: '%s' is not a valid domain name: it %s", path, i,
			           v[i].text, problem);
			continue;
		}
		used += (size_t)sprintf(joined + used, "%s%s", good ? " " : "", name);
		good++;
	}
	store_ptr(obj, r->off, joined);
	store_count(obj, r->off2, good);
}

static const struct {
	set_fn set;
	size_t max;
	const char *what;
	bool owns;       /* the field at off is heap memory */
	bool counted;    /* a size_t count or length at off2 */
} types[] = {
	[OPT_UINT] = { set_uint, 1, "a number", false, false },
	[OPT_TIME] = { set_uint, 1, "a number of seconds (units s, m, h, d, w allowed)", false, false },
	[OPT_STR] = { set_str, 1, "a string", true, false },
	[OPT_PATH] = { set_path, 1, "a path", true, false },
	[OPT_DNAME] = { set_dname, 1, "a domain name", true, false },
	[OPT_ENUM] = { set_words, 1, "a single word", false, false },
	[OPT_FLAGS] = { set_words, SIZE_MAX, "a list of words", false, false },
	[OPT_ADDR] = { set_addr, 1, "an address", false, false },
	[OPT_ADDRS] = { set_addrs, SIZE_MAX, "a list of addresses", true, true },
	[OPT_SOURCE] = { set_source, 2, "one address per family", false, false },
	[OPT_PREFIXES] = { set_prefixes, SIZE_MAX, "a list of addresses and prefixes", true, true },
	[OPT_ALGO] = { set_algo, 1, "a TSIG algorithm", true, false },
	[OPT_SECRET] = { set_secret, 1, "a base64 secret", true, true },
	[OPT_REF] = { conf_ref_add, 1, "a name", false, false },
	[OPT_REFS] = { conf_ref_add, SIZE_MAX, "a list of names", true, true },
	[OPT_DNAMES] = { set_dnames, SIZE_MAX, "a list of domain names", true, true },
};

void conf_value_set(struct conf_ctx *c, const struct conf_row *row, void *obj,
                    const struct conf_val *v, size_t n, const char *path)
{
	/* Every single-value type needs its one value; an empty list is fine for lists. */
	if (n == 0 && types[row->type].max != SIZE_MAX)
		return;
	conf_value_free(row, obj);
	types[row->type].set(c, row, obj, v, n, path);
}

size_t conf_value_max(enum conf_type type)
{
	return types[type].max;
}

const char *conf_value_what(enum conf_type type)
{
	return types[type].what;
}

void conf_value_free(const struct conf_row *row, void *obj)
{
	if (types[row->type].owns) {
		void *p;
		memcpy(&p, FIELD(obj, row->off), sizeof(p));
		free(p);
		store_ptr(obj, row->off, NULL);
	}
	if (types[row->type].counted)
		store_count(obj, row->off2, 0);
}
