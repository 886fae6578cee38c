/* conf/schema.c -- every configuration option as one table row, and the checks that span options */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"
#include "tls/tls.h"
#include "tsig/keyfile.h"

#include "conf/schema.h"

/*
 * Adding an option is adding a row: the loader (conf.c) walks these tables, the value types (value.c)
 * parse and free the fields, and docs/configuration.md describes them. Defaults are written as they
 * would be in the file and go through the same parser, so a default can never bypass a check.
 */

#define ROW(key, t, field, ...) { .name = key, .type = t, .off = field, __VA_ARGS__ }
#define SIZE(type, f) .size = sizeof(((type *)0)->f)
#define SECONDS(key, field, d) \
	ROW(key, OPT_TIME, offsetof(conf_server_t, field), SIZE(conf_server_t, field), \
	    .def = d, .min = 1, .max = INT32_MAX)
#define SRV(f) offsetof(conf_server_t, f)
#define HTTP(f) offsetof(conf_http_t, f)
#define KEY(f) offsetof(conf_key_t, f)
#define REM(f) offsetof(conf_remote_t, f)
#define ACL(f) offsetof(conf_acl_t, f)
#define ZONE(f) offsetof(conf_zone_t, f)
#define AP(f) offsetof(conf_autoprimary_t, f)
#define TPL(f) offsetof(conf_template_t, f)
#define TLS(f) offsetof(conf_tls_t, f)
#define END { .name = NULL }

static const struct conf_word zone_types[] = {
	{ "primary", CONF_ZONE_PRIMARY }, { "secondary", CONF_ZONE_SECONDARY }, { NULL, 0 },
};
static const struct conf_word catalog_roles[] = {
	{ "produce", CONF_CATALOG_PRODUCE }, { "consume", CONF_CATALOG_CONSUME }, { NULL, 0 },
};
static const struct conf_word log_formats[] = {
	{ "text", CONF_LOG_TEXT }, { "json", CONF_LOG_JSON }, { NULL, 0 },
};
static const struct conf_word serial_policies[] = {
	{ "increment", CONF_SERIAL_INCREMENT }, { "unixtime", CONF_SERIAL_UNIXTIME },
	{ "dateserial", CONF_SERIAL_DATESERIAL }, { NULL, 0 },
};
static const struct conf_word transports[] = {
	{ "any", CONF_TRANSPORT_ANY }, { "tls", CONF_TRANSPORT_TLS }, { NULL, 0 },
};
static const struct conf_word allow_words[] = {
	{ "transfer", CONF_ALLOW_TRANSFER }, { "notify", CONF_ALLOW_NOTIFY },
	{ "update", CONF_ALLOW_UPDATE }, { NULL, 0 },
};

/* NSID may be longer, but CH TXT id.server holds one character-string (RFC 1035 3.3: 255 octets). */
static const char *check_text255(const char *text)
{
	size_t len = strlen(text);
	return len == 0 ? "is empty" : len > 255 ? "is longer than 255 characters" : NULL;
}

/* Remote and ACL names are labels for people; they only have to be writable in a YAML list. */
static const char *check_label(const char *text)
{
	if (*text == '\0')
		return "is empty";
	for (const char *p = text; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "contains a space or a control character";
	return strlen(text) > 255 ? "is longer than 255 characters" : NULL;
}

static const struct conf_row server_rows[] = {
	ROW("listen", OPT_ADDRS, SRV(listen), .off2 = SRV(listen_count), .def = "127.0.0.1@53",
	    .port = CONF_DEFAULT_PORT),
	ROW("source-address", OPT_SOURCE, SRV(source4), .off2 = SRV(source6), .port = 0),
	ROW("data-dir", OPT_PATH, SRV(data_dir), .def = "./var"),
	ROW("workers", OPT_UINT, SRV(workers), SIZE(conf_server_t, workers), .def = "0", .max = 1024),
	ROW("identity", OPT_STR, SRV(identity), .check = check_text255),
	SECONDS("refresh-min", refresh_min, "60"),
	SECONDS("refresh-max", refresh_max, "86400"),
	SECONDS("retry-min", retry_min, "10"),
	SECONDS("retry-max", retry_max, "3600"),
	SECONDS("expire-min", expire_min, "3600"),
	SECONDS("expire-max", expire_max, "1209600"),
	ROW("tcp-idle-timeout", OPT_TIME, SRV(tcp_idle_timeout), SIZE(conf_server_t, tcp_idle_timeout),
	    .def = "10", .min = 1, .max = 86400),
	ROW("tcp-max-clients", OPT_UINT, SRV(tcp_max_clients), SIZE(conf_server_t, tcp_max_clients),
	    .def = "1000", .min = 1, .max = 1000000),
	ROW("udp-payload", OPT_UINT, SRV(udp_payload), SIZE(conf_server_t, udp_payload),
	    .def = "1232", .min = 512, .max = 4096),
	ROW("journal-max-entries", OPT_UINT, SRV(journal_max_entries),
	    SIZE(conf_server_t, journal_max_entries), .def = "100", .min = 1, .max = 1000000),
	ROW("notify-delay", OPT_TIME, SRV(notify_delay), SIZE(conf_server_t, notify_delay),
	    .def = "1", .min = 0, .max = 60),
	ROW("notify-rate", OPT_UINT, SRV(notify_rate), SIZE(conf_server_t, notify_rate),
	    .def = "1000", .min = 0, .max = 1000000),
	ROW("xfr-per-primary", OPT_UINT, SRV(xfr_per_primary), SIZE(conf_server_t, xfr_per_primary),
	    .def = "4", .min = 1, .max = 1000),
	ROW("xfr-out-max", OPT_UINT, SRV(xfr_out_max), SIZE(conf_server_t, xfr_out_max),
	    .def = "32", .min = 1, .max = 10000),
	ROW("xfr-timeout", OPT_TIME, SRV(xfr_timeout), SIZE(conf_server_t, xfr_timeout),
	    .def = "10", .min = 1, .max = 3600),
	ROW("catalog", OPT_DNAME, SRV(catalog)),
	ROW("log-format", OPT_ENUM, SRV(log_format), SIZE(conf_server_t, log_format), .words = log_formats,
	    .def = "text"),
	ROW("verify-interval", OPT_TIME, SRV(verify_interval), SIZE(conf_server_t, verify_interval),
	    .def = "0", .min = 0, .max = 604800),
	ROW("max-zone-records", OPT_UINT, SRV(max_zone_records), SIZE(conf_server_t, max_zone_records),
	    .def = "10000000", .min = 1, .max = UINT32_MAX),
	ROW("max-zone-size", OPT_UINT, SRV(max_zone_size), SIZE(conf_server_t, max_zone_size),
	    .def = "1073741824", .min = 512, .max = UINT32_MAX),
	ROW("xfr-max-time", OPT_TIME, SRV(xfr_max_time), SIZE(conf_server_t, xfr_max_time),
	    .def = "3600", .min = 1, .max = 604800),
	ROW("catalog-max-members", OPT_UINT, SRV(catalog_max_members),
	    SIZE(conf_server_t, catalog_max_members), .def = "100000", .min = 1, .max = 10000000),
	ROW("rate-limit", OPT_UINT, SRV(rate_limit), SIZE(conf_server_t, rate_limit),
	    .def = "0", .min = 0, .max = 1000000),
	ROW("rate-limit-slip", OPT_UINT, SRV(rate_limit_slip), SIZE(conf_server_t, rate_limit_slip),
	    .def = "2", .min = 0, .max = 100),
	ROW("rate-limit-ipv4-prefix", OPT_UINT, SRV(rate_limit_ipv4_prefix),
	    SIZE(conf_server_t, rate_limit_ipv4_prefix), .def = "24", .min = 8, .max = 32),
	ROW("rate-limit-ipv6-prefix", OPT_UINT, SRV(rate_limit_ipv6_prefix),
	    SIZE(conf_server_t, rate_limit_ipv6_prefix), .def = "56", .min = 16, .max = 128),
	ROW("rate-limit-table-size", OPT_UINT, SRV(rate_limit_table_size),
	    SIZE(conf_server_t, rate_limit_table_size), .def = "65536", .min = 1024, .max = 16777216),
	ROW("rate-limit-exempt", OPT_PREFIXES, SRV(rate_limit_exempt), .off2 = SRV(rate_limit_exempt_count)),
	ROW("tls-listen", OPT_ADDRS, SRV(tls_listen), .off2 = SRV(tls_listen_count), .port = 853),
	ROW("tls-certificate", OPT_PATH, SRV(tls_certificate)),
	ROW("tls-key", OPT_PATH, SRV(tls_key)),
	ROW("tls-client-ca", OPT_PATH, SRV(tls_client_ca)),
	ROW("tls-max-clients", OPT_UINT, SRV(tls_max_clients), SIZE(conf_server_t, tls_max_clients),
	    .def = "64", .min = 1, .max = 10000),
	ROW("tls-max-per-address", OPT_UINT, SRV(tls_max_per_address),
	    SIZE(conf_server_t, tls_max_per_address), .def = "8", .min = 1, .max = 10000),
	ROW("tls-handshake-timeout", OPT_TIME, SRV(tls_handshake_timeout),
	    SIZE(conf_server_t, tls_handshake_timeout), .def = "5", .min = 1, .max = 300),
	ROW("tls-idle-timeout", OPT_TIME, SRV(tls_idle_timeout), SIZE(conf_server_t, tls_idle_timeout),
	    .def = "10", .min = 1, .max = 86400),
	END,
};

static const struct conf_row http_rows[] = {
	ROW("listen", OPT_ADDR, HTTP(listen), .port = 8053),
	ROW("api-key-file", OPT_PATH, HTTP(api_key_file)),
	ROW("max-clients", OPT_UINT, HTTP(max_clients), SIZE(conf_http_t, max_clients), .def = "64",
	    .min = 1, .max = 10000),
	ROW("max-body", OPT_UINT, HTTP(max_body), SIZE(conf_http_t, max_body), .def = "1048576",
	    .min = 1024, .max = 1073741824),
	ROW("timeout", OPT_TIME, HTTP(timeout), SIZE(conf_http_t, timeout), .def = "10", .min = 1,
	    .max = 3600),
	END,
};

static const struct conf_row key_rows[] = {
	ROW("name", OPT_DNAME, KEY(name), .flags = CONF_REQUIRED),
	ROW("algorithm", OPT_ALGO, KEY(algorithm)),
	ROW("secret", OPT_SECRET, KEY(secret), .off2 = KEY(secret_len)),
	ROW("file", OPT_PATH, KEY(file)),
	END,
};

static const struct conf_row remote_rows[] = {
	ROW("name", OPT_STR, REM(name), .flags = CONF_REQUIRED, .check = check_label),
	ROW("address", OPT_ADDRS, REM(addresses), .off2 = REM(address_count),
	    .port = CONF_DEFAULT_PORT, .flags = CONF_REQUIRED),
	ROW("key", OPT_REF, REM(key), .target = SEC_KEYS),
	ROW("tls", OPT_REF, REM(tls), .target = SEC_TLS),
	END,
};

static const struct conf_row acl_rows[] = {
	ROW("name", OPT_STR, ACL(name), .flags = CONF_REQUIRED, .check = check_label),
	ROW("address", OPT_PREFIXES, ACL(prefixes), .off2 = ACL(prefix_count)),
	ROW("key", OPT_REFS, ACL(keys), .off2 = ACL(key_count), .target = SEC_KEYS),
	ROW("allow", OPT_FLAGS, ACL(allow), SIZE(conf_acl_t, allow), .words = allow_words,
	    .flags = CONF_REQUIRED),
	ROW("transport", OPT_ENUM, ACL(transport), SIZE(conf_acl_t, transport), .words = transports,
	    .def = "any"),
	END,
};

static const struct conf_row zone_rows[] = {
	ROW("name", OPT_DNAME, ZONE(name), .flags = CONF_REQUIRED),
	ROW("type", OPT_ENUM, ZONE(type), SIZE(conf_zone_t, type), .words = zone_types, .def = "primary"),
	ROW("file", OPT_PATH, ZONE(file)),
	ROW("primaries", OPT_REFS, ZONE(primaries), .off2 = ZONE(primary_count), .target = SEC_REMOTES),
	ROW("notify", OPT_REFS, ZONE(notify), .off2 = ZONE(notify_count), .target = SEC_REMOTES),
	ROW("acl", OPT_REFS, ZONE(acls), .off2 = ZONE(acl_count), .target = SEC_ACLS),
	ROW("catalog", OPT_ENUM, ZONE(catalog), SIZE(conf_zone_t, catalog), .words = catalog_roles),
	ROW("member-of", OPT_DNAME, ZONE(member_of)),
	ROW("serial-policy", OPT_ENUM, ZONE(serial_policy), SIZE(conf_zone_t, serial_policy),
	    .words = serial_policies, .def = "increment"),
	ROW("group", OPT_STR, ZONE(group), .check = check_text255),
	ROW("max-zone-records", OPT_UINT, ZONE(max_zone_records), SIZE(conf_zone_t, max_zone_records),
	    .min = 1, .max = UINT32_MAX),
	ROW("max-zone-size", OPT_UINT, ZONE(max_zone_size), SIZE(conf_zone_t, max_zone_size),
	    .min = 512, .max = UINT32_MAX),
	ROW("catalog-max-members", OPT_UINT, ZONE(catalog_max_members),
	    SIZE(conf_zone_t, catalog_max_members), .min = 1, .max = 10000000),
	ROW("notify-delay", OPT_TIME, ZONE(notify_delay), SIZE(conf_zone_t, notify_delay),
	    .off2 = ZONE(notify_delay_set), .flags = CONF_GIVEN, .min = 0, .max = 60),
	END,
};

static const struct conf_row autoprimary_rows[] = {
	ROW("name", OPT_STR, AP(name), .flags = CONF_REQUIRED, .check = check_label),
	ROW("remote", OPT_REF, AP(remote), .target = SEC_REMOTES, .flags = CONF_REQUIRED),
	ROW("nameservers", OPT_DNAMES, AP(nameservers), .off2 = AP(nameserver_count),
	    .flags = CONF_REQUIRED),
	END,
};

static const struct conf_row template_rows[] = {
	ROW("name", OPT_STR, TPL(name), .flags = CONF_REQUIRED, .check = check_text255),
	ROW("primaries", OPT_REFS, TPL(primaries), .off2 = TPL(primary_count), .target = SEC_REMOTES),
	ROW("notify", OPT_REFS, TPL(notify), .off2 = TPL(notify_count), .target = SEC_REMOTES),
	ROW("acl", OPT_REFS, TPL(acls), .off2 = TPL(acl_count), .target = SEC_ACLS),
	END,
};

static const struct conf_row tls_rows[] = {
	ROW("name", OPT_STR, TLS(name), .flags = CONF_REQUIRED, .check = check_label),
	ROW("hostname", OPT_STR, TLS(hostname), .check = check_text255),
	ROW("ca-file", OPT_PATH, TLS(ca_file)),
	ROW("pin", OPT_STR, TLS(pin)),
	ROW("certificate", OPT_PATH, TLS(certificate)),
	ROW("key", OPT_PATH, TLS(key)),
	END,
};

/* Each table (with its END row) must fit the per-item bookkeeping of conf.c. */
#define FITS(rows) _Static_assert(sizeof(rows) / sizeof(rows[0]) <= CONF_ROWS_MAX, #rows " too long")
FITS(server_rows);
FITS(http_rows);
FITS(key_rows);
FITS(remote_rows);
FITS(acl_rows);
FITS(zone_rows);
FITS(autoprimary_rows);
FITS(template_rows);
FITS(tls_rows);


static void check_pair(struct conf_ctx *c, const conf_server_t *s, const char *min_key,
                       const char *max_key, uint32_t min, uint32_t max)
{
	/* 0 is below every range: that value failed to parse and was reported already. */
	if (min <= max || min == 0 || max == 0)
		return;
	int line = conf_ctx_line(c, SEC_SERVER, 0, max_key);
	if (line == conf_ctx_line(c, SEC_SERVER, 0, NULL))
		line = conf_ctx_line(c, SEC_SERVER, 0, min_key);
	conf_error(c, line, "server.%s: %u is greater than server.%s (%u)", min_key, (unsigned)min,
	           max_key, (unsigned)max);
}

/* server.catalog: every primary zone without its own member-of goes into this produced catalog. */
static void check_server_catalog(struct conf_ctx *c)
{
	const char *name = c->conf->server.catalog;
	if (name == NULL)
		return;
	size_t k = conf_ctx_find(c, SEC_ZONES, name);
	if (k == SIZE_MAX || c->conf->zones[k].catalog != CONF_CATALOG_PRODUCE)
		conf_error(c, conf_ctx_line(c, SEC_SERVER, 0, "catalog"),
		           "server.catalog: '%s' is not a zone with catalog: produce", name);
}

static void check_server_tls(struct conf_ctx *c, const conf_server_t *s);

static void check_server(struct conf_ctx *c, size_t i, void *item, const char *path)
{
	const conf_server_t *s = item;
	check_pair(c, s, "refresh-min", "refresh-max", s->refresh_min, s->refresh_max);
	check_pair(c, s, "retry-min", "retry-max", s->retry_min, s->retry_max);
	check_pair(c, s, "expire-min", "expire-max", s->expire_min, s->expire_max);
	check_server_catalog(c);
	check_server_tls(c, s);
	int line = conf_ctx_line(c, SEC_SERVER, 0, "listen");
	if (s->listen_count == 0)
		conf_error(c, line, "server.listen: no address to listen on");
	for (size_t a = 0; a < s->listen_count; a++) {
		for (size_t b = 0; b < a; b++) {
			char x[SOCKADDR_STRLEN], y[SOCKADDR_STRLEN];
			sockaddr_format(&s->listen[a], x, sizeof(x));
			if (s->listen[a].len != 0 && strcmp(x, sockaddr_format(&s->listen[b], y, sizeof(y))) == 0)
				conf_error(c, line, "server.listen: %s is listed twice", x);
		}
	}
}

/* XoT listeners need a certificate and its key, read now so that a bad file is a configuration
 * error with its name (tandemd --check, a reload that keeps the running configuration). */
static void check_server_tls(struct conf_ctx *c, const conf_server_t *s)
{
	int line = conf_ctx_line(c, SEC_SERVER, 0, "tls-listen");
	bool files = s->tls_certificate != NULL || s->tls_key != NULL;
	if (s->tls_listen_count == 0 && !files && s->tls_client_ca == NULL)
		return;
	if (s->tls_listen_count == 0) {
		conf_error(c, conf_ctx_line(c, SEC_SERVER, 0, files ? "tls-certificate" : "tls-client-ca"),
		           "server.tls-certificate, tls-key, tls-client-ca: only with server.tls-listen");
		return;
	}
	if (s->tls_certificate == NULL || s->tls_key == NULL) {
		conf_error(c, line, "server.tls-listen: needs server.tls-certificate and server.tls-key");
		return;
	}
	for (size_t a = 0; a < s->tls_listen_count; a++)
		for (size_t b = 0; b < s->listen_count; b++) {
			char x[SOCKADDR_STRLEN], y[SOCKADDR_STRLEN];
			sockaddr_format(&s->tls_listen[a], x, sizeof(x));
			if (strcmp(x, sockaddr_format(&s->listen[b], y, sizeof(y))) == 0)
				conf_error(c, line, "server.tls-listen: %s is also in server.listen", x);
		}
	tls_server_conf_t tc = { .certificate = s->tls_certificate, .key = s->tls_key,
	                         .client_ca = s->tls_client_ca };
	tls_server_t *srv = NULL;
	char why[512];
	int ret = tls_server_new(&tc, &srv, why, sizeof(why));
	if (ret == TDM_ENOMEM)
		c->nomem = true;
	else if (ret != TDM_OK)
		conf_error(c, conf_ctx_line(c, SEC_SERVER, 0, "tls-certificate"), "server.tls: %s", why);
	tls_server_unref(srv);
}

/* The API key file sits in the data folder unless told otherwise. */
static void check_http(struct conf_ctx *c, size_t i, void *item, const char *path)
{
	conf_http_t *h = item;
	const char *dir = c->conf->server.data_dir;
	if (h->api_key_file != NULL || dir == NULL)
		return;
	if (asprintf(&h->api_key_file, "%s/api.key", dir) < 0) {
		h->api_key_file = NULL;
		c->nomem = true;
	}
}

struct key_find {
	const char *want;            /* the configured name, lowercase with its dot */
	tsig_keyfile_key_t found;
	bool hit;
};

static int key_match(void *arg, const tsig_keyfile_key_t *key)
{
	struct key_find *f = arg;
	char name[NAME_TEXT_MAX + 1];
	snprintf(name, sizeof(name), "%s", key->name);
	size_t len = strlen(name);
	if (len > 0 && name[len - 1] != '.' && len + 1 < sizeof(name))
		strcat(name, ".");
	if (strcasecmp(name, f->want) == 0 && !f->hit) {
		f->found = *key;
		f->hit = true;
	}
	return 0;
}

/* A key file is read whole (a key cut off at a buffer's end would just be "missing"), up to this. */
#define KEY_FILE_MAX (1024 * 1024)

/* The whole file, NUL-terminated, in a new buffer; NULL with an error reported. */
static char *read_key_file(struct conf_ctx *c, int line, const char *path, const char *file,
                           size_t *len)
{
	FILE *f = fopen(file, "r");
	char *text = NULL;
	if (f == NULL) {
		conf_error(c, line, "%s.file: cannot read %s (%s)", path, file, strerror(errno));
		return NULL;
	}
	if ((text = malloc(KEY_FILE_MAX + 1)) == NULL) {
		c->nomem = true;
		goto out;
	}
	*len = fread(text, 1, KEY_FILE_MAX + 1, f);
	if (ferror(f) || *len > KEY_FILE_MAX) {
		conf_error(c, line, "%s.file: %s: %s", path, file,
		           ferror(f) ? "read error" : "larger than 1 MiB: not a key file");
		free(text);
		text = NULL;
		goto out;
	}
	text[*len] = '\0';
out:
	fclose(f);
	return text;
}

/* A key from a BIND key file (tsig-keygen's output, as it is): the statement with the key's name. */
static void key_from_file(struct conf_ctx *c, size_t i, conf_key_t *k, const char *path)
{
	int line = conf_ctx_line(c, SEC_KEYS, i, "file");
	size_t len = 0;
	char *text = read_key_file(c, line, path, k->file, &len);
	if (text == NULL)
		return;
	struct key_find find = { .want = k->name };
	int err_line = 0;
	int ret = tsig_keyfile_parse(text, len, key_match, &find, &err_line);
	free(text);
	if (ret == TDM_ESPACE) {
		conf_error(c, line, "%s.file: %s:%d: secret longer than %d octets: Tandem cannot use it",
		           path, k->file, err_line, TSIG_SECRET_MAX);
		return;
	}
	if (ret != TDM_OK) {
		conf_error(c, line, "%s.file: %s:%d: not a key file BIND would read", path, k->file,
		           err_line);
		return;
	}
	if (!find.hit) {
		conf_error(c, line, "%s.file: %s has no key named %s", path, k->file, k->name);
		return;
	}
	free(k->algorithm);
	free(k->secret);
	k->algorithm = strdup(tsig_alg_name(find.found.alg));
	k->secret = malloc(find.found.secret_len);
	if (k->algorithm == NULL || k->secret == NULL) {
		c->nomem = true;
		return;
	}
	memcpy(k->secret, find.found.secret, find.found.secret_len);
	k->secret_len = find.found.secret_len;
}

static void check_key(struct conf_ctx *c, size_t i, void *item, const char *path)
{
	conf_key_t *k = item;
	int line = conf_ctx_line(c, SEC_KEYS, i, NULL);
	if (k->file != NULL && (k->algorithm != NULL || k->secret != NULL))
		conf_error(c, line, "%s: give either file, or algorithm and secret", path);
	else if (k->file != NULL && k->name == NULL)
		return;   /* a bad or missing name is reported already; the file's statements need one to match */
	else if (k->file != NULL)
		key_from_file(c, i, k, path);
	else if (!conf_ctx_given(c, SEC_KEYS, i, "algorithm"))   /* given but bad: reported already */
		conf_error(c, line, "%s: missing 'algorithm' (or give the key's file)", path);
	else if (!conf_ctx_given(c, SEC_KEYS, i, "secret"))
		conf_error(c, line, "%s: missing 'secret' (or give the key's file)", path);
}

static void check_remote(struct conf_ctx *c, size_t i, void *item, const char *path)
{
	const conf_remote_t *r = item;
	if (r->address_count == 0 && conf_ctx_line(c, SEC_REMOTES, i, "address") != 0)
		conf_error(c, conf_ctx_line(c, SEC_REMOTES, i, "address"), "%s.address: no address", path);
}

/* A TLS profile must make a check (tls/tls.h) and its files must load. */
static void check_tls(struct conf_ctx *c, size_t i, void *item, const char *path)
{
	const conf_tls_t *t = item;
	tls_client_conf_t tc = { .hostname = t->hostname, .ca_file = t->ca_file, .pin = t->pin,
	                         .certificate = t->certificate, .key = t->key };
	tls_client_t *cl = NULL;
	char why[512];
	int ret = tls_client_new(&tc, &cl, why, sizeof(why));
	if (ret == TDM_ENOMEM)
		c->nomem = true;
	else if (ret != TDM_OK)
		conf_error(c, conf_ctx_line(c, SEC_TLS, i, NULL), "%s: %s", path, why);
	tls_client_unref(cl);
}

static void check_acl(struct conf_ctx *c, size_t i, void *item, const char *path)
{
	const conf_acl_t *a = item;
	/* Secure by default: an ACL must say whom it lets in; "everyone" is written 0.0.0.0/0, ::/0. */
	if (a->prefix_count == 0 && a->key_count == 0)
		conf_error(c, conf_ctx_line(c, SEC_ACLS, i, NULL),
		           "%s: give an address or a key (for anyone, address: [0.0.0.0/0, \"::/0\"])", path);
	if (a->allow == 0 && conf_ctx_line(c, SEC_ACLS, i, "allow") != 0)
		conf_error(c, conf_ctx_line(c, SEC_ACLS, i, "allow"),
		           "%s.allow: empty (transfer, notify, update)", path);
}

static void check_member(struct conf_ctx *c, size_t i, const conf_zone_t *z, const char *path)
{
	int line = conf_ctx_line(c, SEC_ZONES, i, "member-of");
	if (z->member_of == NULL) {
		if (z->group != NULL)
			conf_error(c, conf_ctx_line(c, SEC_ZONES, i, "group"),
			           "%s.group: only a zone with member-of has a catalog group", path);
		return;
	}
	size_t k = conf_ctx_find(c, SEC_ZONES, z->member_of);
	if (z->catalog != CONF_CATALOG_NONE)
		conf_error(c, line, "%s.member-of: a catalog zone cannot be a member of a catalog", path);
	else if (k == SIZE_MAX)
		conf_error(c, line, "%s.member-of: unknown zone '%s'", path, z->member_of);
	else if (c->conf->zones[k].catalog != CONF_CATALOG_PRODUCE)
		conf_error(c, line, "%s.member-of: zone '%s' is not a catalog we produce (catalog: produce)",
		           path, z->member_of);
}

static void check_zone(struct conf_ctx *c, size_t i, void *item, const char *path)
{
	conf_zone_t *z = item;
	bool secondary = z->type == CONF_ZONE_SECONDARY;
	z->line = conf_ctx_line(c, SEC_ZONES, i, NULL);
	if (secondary && z->primary_count == 0)
		conf_error(c, conf_ctx_line(c, SEC_ZONES, i, "primaries"),
		           "%s: a secondary zone needs primaries", path);
	if (!secondary && z->primary_count > 0)
		conf_error(c, conf_ctx_line(c, SEC_ZONES, i, "primaries"),
		           "%s.primaries: only a secondary zone has primaries (this one is primary)", path);
	int line = conf_ctx_line(c, SEC_ZONES, i, "catalog");
	if (z->catalog == CONF_CATALOG_CONSUME && !secondary)
		conf_error(c, line, "%s.catalog: only a secondary zone can consume a catalog", path);
	if (z->catalog == CONF_CATALOG_PRODUCE && secondary)
		conf_error(c, line, "%s.catalog: only a primary zone can produce a catalog", path);
	check_member(c, i, z, path);
}

#define LIST(key, rows, arr, count, type, check) \
	{ key, true, rows, offsetof(conf_t, arr), offsetof(conf_t, count), sizeof(type), check }

const struct conf_section conf_sections[SEC_COUNT] = {
	[SEC_SERVER] = { "server", false, server_rows, offsetof(conf_t, server), 0,
	                 sizeof(conf_server_t), check_server },
	[SEC_HTTP] = { "http", false, http_rows, offsetof(conf_t, http), 0, sizeof(conf_http_t), check_http },
	[SEC_KEYS] = LIST("keys", key_rows, keys, key_count, conf_key_t, check_key),
	[SEC_REMOTES] = LIST("remotes", remote_rows, remotes, remote_count, conf_remote_t, check_remote),
	[SEC_ACLS] = LIST("acls", acl_rows, acls, acl_count, conf_acl_t, check_acl),
	[SEC_ZONES] = LIST("zones", zone_rows, zones, zone_count, conf_zone_t, check_zone),
	[SEC_AUTOPRIMARIES] = LIST("autoprimaries", autoprimary_rows, autoprimaries,
	                           autoprimary_count, conf_autoprimary_t, NULL),
	[SEC_TEMPLATES] = LIST("templates", template_rows, templates, template_count, conf_template_t,
	                       NULL),
	[SEC_TLS] = LIST("tls", tls_rows, tls, tls_count, conf_tls_t, check_tls),
};
