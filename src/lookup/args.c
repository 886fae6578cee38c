/* lookup/args.c -- the command line of `tandem lookup`: NAME, TYPE, CLASS, @SERVER, +options, --json */
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libknot/libknot.h>

#include "lib/error.h"
#include "lookup/args.h"
#include "wire/pkt.h"
#include "wire/rdata.h"

/* A +flag and the field it sets; "+noFLAG" clears it. */
struct plus_flag {
	const char *name;
	size_t field;
};

static const struct plus_flag plus_flags[] = {
	{ "tcp", offsetof(lookup_args_t, tcp) },
	{ "axfr", offsetof(lookup_args_t, axfr) },
	{ "rec", offsetof(lookup_args_t, rd) },
	{ "recurse", offsetof(lookup_args_t, rd) },
	{ "adflag", offsetof(lookup_args_t, ad) },
	{ "cdflag", offsetof(lookup_args_t, cd) },
	{ "edns", offsetof(lookup_args_t, edns) },
	{ "dnssec", offsetof(lookup_args_t, dnssec) },
	{ "nsid", offsetof(lookup_args_t, nsid) },
	{ "ignore", offsetof(lookup_args_t, ignore_tc) },
	{ "json", offsetof(lookup_args_t, json) },
};

/* What the plain words gave so far. */
struct words {
	bool name, type, rclass, server;
};

static int fail(char *err, size_t size, const char *fmt, const char *arg)
{
	snprintf(err, size, fmt, arg);
	return TDM_EINVAL;
}

static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool set_flag(lookup_args_t *a, const char *word)
{
	bool value = true;
	if (strncasecmp(word, "no", 2) == 0 && word[2] != '\0') {
		value = false;
		word += 2;
	}
	for (size_t i = 0; i < sizeof(plus_flags) / sizeof(plus_flags[0]); i++) {
		if (strcasecmp(word, plus_flags[i].name) == 0) {
			*(bool *)((char *)a + plus_flags[i].field) = value;
			return true;
		}
	}
	return false;
}

/* +key=[ALGORITHM:]NAME:SECRET, as dig's -y: hmac-sha256 when the algorithm is left out. */
static int set_key(lookup_args_t *a, const char *value, char *err, size_t n)
{
	const char *c1 = strchr(value, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const char *name = c2 ? c1 + 1 : value, *secret = c2 ? c2 + 1 : c1 ? c1 + 1 : NULL;
	size_t name_len = (size_t)((c2 ? c2 : c1 ? c1 : value) - name);
	if (secret == NULL || name_len == 0 || name_len >= sizeof(a->key_name))
		return fail(err, n, "+key wants [ALGORITHM:]NAME:SECRET, not '%s'", value);
	snprintf(a->key_alg, sizeof(a->key_alg), "%.*s", c2 ? (int)(c1 - value) : 11,
	         c2 ? value : "hmac-sha256");
	snprintf(a->key_name, sizeof(a->key_name), "%.*s", (int)name_len, name);
	int len = tsig_base64_decode(secret, strlen(secret), a->key_secret, sizeof(a->key_secret));
	tsig_key_t probe;
	if (len <= 0 || tsig_key_init(&probe, a->key_name, a->key_alg, a->key_secret, (size_t)len))
		return fail(err, n, "+key: bad name, algorithm or base64 secret in '%s'", value);
	a->key_secret_len = (size_t)len;
	a->has_key = true;
	return TDM_OK;
}

/* +name=value options. */
static int set_value(lookup_args_t *a, const char *word, const char *value, char *err, size_t n)
{
	unsigned long v;
	size_t len = (size_t)(value - word - 1);
	if (len == 7 && strncasecmp(word, "bufsize", len) == 0) {
		if (!parse_uint(value, 0, 65535, &v))
			return fail(err, n, "+bufsize wants a number from 0 to 65535, not '%s'", value);
		a->bufsize = (uint16_t)v;
		a->edns = true;
	} else if (len == 7 && strncasecmp(word, "timeout", len) == 0) {
		if (!parse_uint(value, 1, LOOKUP_MAX_TIMEOUT, &v))
			return fail(err, n, "+timeout wants seconds from 1 to 3600, not '%s'", value);
		a->timeout = (unsigned)v;
	} else if (len == 5 && strncasecmp(word, "tries", len) == 0) {
		if (!parse_uint(value, 1, LOOKUP_MAX_TRIES, &v))
			return fail(err, n, "+tries wants a number from 1 to 100, not '%s'", value);
		a->tries = (unsigned)v;
	} else if (len == 5 && strncasecmp(word, "retry", len) == 0) {
		if (!parse_uint(value, 0, LOOKUP_MAX_TRIES - 1, &v))
			return fail(err, n, "+retry wants a number from 0 to 99, not '%s'", value);
		a->tries = (unsigned)v + 1;
	} else if (len == 3 && strncasecmp(word, "key", len) == 0) {
		return set_key(a, value, err, n);
	} else {
		return fail(err, n, "unknown option '+%s'", word);
	}
	return TDM_OK;
}

static int parse_plus(lookup_args_t *a, const char *word, char *err, size_t n)
{
	const char *eq = strchr(word, '=');
	if (eq != NULL)
		return set_value(a, word, eq + 1, err, n);
	if (!set_flag(a, word))
		return fail(err, n, "unknown option '+%s'", word);
	return TDM_OK;
}

/* "host" or "host@port" through the system resolver, for servers given by name. */
static int resolve_server(sockaddr_t *out, const char *text)
{
	char host[NI_MAXHOST];
	unsigned long port = LOOKUP_DEFAULT_PORT;
	const char *at = strrchr(text, '@');
	size_t len = at != NULL ? (size_t)(at - text) : strlen(text);
	if (len == 0 || len >= sizeof(host) || (at != NULL && !parse_uint(at + 1, 0, 65535, &port)))
		return TDM_EINVAL;
	memcpy(host, text, len);
	host[len] = '\0';
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM }, *res;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return TDM_ENOENT;
	memset(out, 0, sizeof(*out));
	int ret = TDM_OK;
	if (res->ai_family == AF_INET && res->ai_addrlen == sizeof(struct sockaddr_in)) {
		memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
		((struct sockaddr_in *)&out->ss)->sin_port = htons((uint16_t)port);
	} else if (res->ai_family == AF_INET6 && res->ai_addrlen == sizeof(struct sockaddr_in6)) {
		memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
		((struct sockaddr_in6 *)&out->ss)->sin6_port = htons((uint16_t)port);
	} else {
		ret = TDM_ENOENT;
	}
	if (ret == TDM_OK)
		out->len = res->ai_addrlen;
	freeaddrinfo(res);
	return ret;
}

static int parse_server(lookup_args_t *a, const char *text, struct words *w, char *err, size_t n)
{
	if (w->server)
		return fail(err, n, "only one @SERVER, not also '@%s'", text);
	w->server = true;
	int ret = sockaddr_parse(&a->server, text, LOOKUP_DEFAULT_PORT);
	if (ret != TDM_OK)
		ret = resolve_server(&a->server, text);
	if (ret == TDM_ENOENT)
		return fail(err, n, "cannot resolve server '%s'", text);
	if (ret != TDM_OK)
		return fail(err, n, "bad server '%s' (want ADDRESS or ADDRESS@PORT)", text);
	return TDM_OK;
}

static bool parse_class(const char *word, uint16_t *rclass)
{
	/* ANY is a class too, but people who write it mean the type. */
	if (strcasecmp(word, "ANY") == 0)
		return false;
	return knot_rrclass_from_string(word, rclass) == 0;
}

static bool parse_type(const char *word, uint16_t *type)
{
	int t = rdata_type_from_text(word);
	if (t >= 0) {
		*type = (uint16_t)t;
		return true;
	}
	return knot_rrtype_from_string(word, type) == 0;
}

/* NAME first, then TYPE and CLASS in any order. */
static int parse_plain(lookup_args_t *a, const char *word, struct words *w, char *err, size_t n)
{
	if (!w->name) {
		int len = name_from_text(word, NULL, a->qname);
		if (len < 0) {
			snprintf(err, n, "bad name '%s': %s", word, tdm_strerror(len));
			return TDM_EINVAL;
		}
		w->name = true;
		return TDM_OK;
	}
	uint16_t v;
	if (parse_class(word, &v)) {
		if (w->rclass)
			return fail(err, n, "more than one class ('%s')", word);
		a->qclass = v;
		w->rclass = true;
	} else if (parse_type(word, &v)) {
		if (w->type)
			return fail(err, n, "more than one type ('%s')", word);
		a->qtype = v;
		w->type = true;
	} else {
		return fail(err, n, "'%s' is neither a type nor a class", word);
	}
	return TDM_OK;
}

static int parse_word(lookup_args_t *a, const char *word, struct words *w, char *err, size_t n)
{
	if (strcmp(word, "--json") == 0 || strcmp(word, "-j") == 0) {
		a->json = true;
		return TDM_OK;
	}
	if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
		a->help = true;
		return TDM_OK;
	}
	if (word[0] == '+')
		return parse_plus(a, word + 1, err, n);
	if (word[0] == '@')
		return parse_server(a, word + 1, w, err, n);
	if (word[0] == '-' && word[1] != '\0')
		return fail(err, n, "unknown option '%s'", word);
	return parse_plain(a, word, w, err, n);
}

static void set_defaults(lookup_args_t *a)
{
	memset(a, 0, sizeof(*a));
	a->qtype = PKT_TYPE_A;
	a->qclass = PKT_CLASS_IN;
	a->rd = true;
	a->edns = true;
	a->bufsize = LOOKUP_DEFAULT_BUFSIZE;
	a->timeout = LOOKUP_DEFAULT_TIMEOUT;
	a->tries = LOOKUP_DEFAULT_TRIES;
	sockaddr_parse(&a->server, "127.0.0.1", LOOKUP_DEFAULT_PORT);
}

/* Rules between options, checked once every word is in. */
static int finish(lookup_args_t *a, const struct words *w, char *err, size_t n)
{
	if (!w->name)
		return fail(err, n, "%s", "missing NAME");
	if (a->qtype == PKT_TYPE_IXFR)
		return fail(err, n, "%s", "IXFR is not supported (it needs a serial); use +axfr");
	if (a->axfr || a->qtype == PKT_TYPE_AXFR) {
		if (w->type && a->qtype != PKT_TYPE_AXFR)
			return fail(err, n, "%s cannot be combined with another type", "+axfr");
		a->axfr = true;
		a->qtype = PKT_TYPE_AXFR;
		a->tcp = true;   /* RFC 5936 4.2: AXFR is a TCP exchange */
	}
	if (!a->edns && (a->dnssec || a->nsid))
		return fail(err, n, "%s", "+dnssec and +nsid need EDNS (drop +noedns)");
	sockaddr_format(&a->server, a->server_text, sizeof(a->server_text));
	return TDM_OK;
}

int lookup_args_parse(lookup_args_t *a, int argc, char **argv, char *err, size_t errsize)
{
	struct words w = { 0 };
	set_defaults(a);
	err[0] = '\0';
	for (int i = 0; i < argc; i++) {
		int ret = parse_word(a, argv[i], &w, err, errsize);
		if (ret != TDM_OK)
			return ret;
	}
	if (a->help)
		return TDM_OK;
	return finish(a, &w, err, errsize);
}

void lookup_usage(FILE *out)
{
	fputs("usage: tandem lookup NAME [TYPE] [CLASS] [@SERVER[@PORT]] [+OPTION...] [--json]\n"
	      "\n"
	      "  NAME              the name to ask about (absolute; a trailing dot is optional)\n"
	      "  TYPE              A (default), AAAA, MX, SOA, TXT, AXFR, TYPE65280, ...\n"
	      "  CLASS             IN (default), CH, ...\n"
	      "  @SERVER[@PORT]    default 127.0.0.1@53; `make run` serves on @127.0.0.1@5300\n"
	      "  +tcp              ask over TCP (UDP by default; a truncated UDP reply is retried over TCP)\n"
	      "  +axfr             transfer the whole zone over TCP and print every record\n"
	      "  +norec            clear the RD flag (set by default)\n"
	      "  +key=[ALG:]NAME:SECRET  sign with TSIG (hmac-sha256 unless ALG) and verify the reply\n"
	      "  +dnssec           set the DO bit\n"
	      "  +nsid             ask for the server's NSID\n"
	      "  +bufsize=N        EDNS UDP payload to advertise (default 1232)\n"
	      "  +noedns           send no OPT record\n"
	      "  +adflag +cdflag   set AD or CD in the query\n"
	      "  +ignore           show a truncated UDP reply instead of retrying over TCP\n"
	      "  +timeout=S        seconds to wait for each try (default 2)\n"
	      "  +tries=N          attempts before giving up (default 3)\n"
	      "  --json            print the reply as a JSON object\n"
	      "\n"
	      "Exit status: 0 a reply arrived (whatever its rcode), 1 usage error, 9 no reply,\n"
	      "10 malformed reply, 11 internal error.\n",
	      out);
}
