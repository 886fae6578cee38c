/* api/apizone_text.c -- a new primary zone's first records: a quick zone, SOA and NS given, or zone-file text */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/apizone_text.h"
#include "conf/conf.h"
#include "lib/error.h"
#include "wire/name.h"
#include "zonefile/zonefile.h"

/*
 * Every way of making a primary goes through master-file text and the zone file loader and checks,
 * so that a zone made through the API holds exactly what the same text in a zone file would. Names
 * taken from the request are parsed and printed again (escaped) before they go into the text, and
 * numbers are range-checked: nothing of the request reaches the text unparsed.
 */

#define SOA_REFRESH 3600
#define SOA_RETRY 600
#define SOA_EXPIRE 1209600
#define SOA_MINIMUM 300
#define ZONE_TTL 3600
#define TEXT_PROBLEMS_MAX 50       /* problems listed; the rest are counted */

static int fail(apizone_text_error_t *err, const char *field, const char *fmt, const char *arg)
{
	snprintf(err->field, sizeof(err->field), "%s", field);
	snprintf(err->why, sizeof(err->why), fmt, arg);
	return TDM_EINVAL;
}

uint32_t apizone_first_serial(int serial_policy)
{
	time_t now = time(NULL);
	struct tm tm;
	if (serial_policy == CONF_SERIAL_UNIXTIME)
		return (uint32_t)now;
	if (serial_policy == CONF_SERIAL_DATESERIAL && gmtime_r(&now, &tm) != NULL)
		return (uint32_t)(tm.tm_year + 1900) * 1000000u + (uint32_t)(tm.tm_mon + 1) * 10000u +
		       (uint32_t)tm.tm_mday * 100u + 1u;
	return 1;
}

/* A name from the request, absolute (relative ones are under the zone), printed escaped. */
static bool name_of(const json_t *v, const uint8_t *apex, char *out, size_t size, uint8_t *wire)
{
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    name_from_text(json_string_value(v), apex, wire) < 0)
		return false;
	name_copy_lower(wire, wire);
	return name_to_text(wire, out, size) >= 0;
}

/* Whether name is the apex or below it. */
static bool in_zone(const uint8_t *name, const uint8_t *apex)
{
	int n = name_length(name, NAME_MAXLEN), a = name_length(apex, NAME_MAXLEN);
	return n >= a && name_equal(name + (n - a), apex) &&
	       (n == a || name_length(name + (n - a), NAME_MAXLEN) == a);
}

/* The NS records, and the names inside the zone that need an address (apex, www, mail excluded). */
static int put_nameservers(FILE *f, const json_t *list, const char *field, const uint8_t *apex,
                           const char *zone, const char *addr_type, const char *addr,
                           char *first, size_t first_size, apizone_text_error_t *err)
{
	size_t i;
	json_t *v;
	if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 16)
		return fail(err, field, "%s: a list of 1 to 16 name server names", field);
	json_array_foreach(list, i, v) {
		char name[NAME_TEXT_MAX], f_name[64], www[NAME_TEXT_MAX + 8], mail[NAME_TEXT_MAX + 8];
		uint8_t wire[NAME_MAXLEN];
		snprintf(f_name, sizeof(f_name), "%s[%zu]", field, i);
		if (!name_of(v, NULL, name, sizeof(name), wire) || name_length(wire, NAME_MAXLEN) <= 1)
			return fail(err, f_name, "%s: not a host name", f_name);
		if (i == 0)
			snprintf(first, first_size, "%s", name);
		fprintf(f, "%s %u IN NS %s\n", zone, ZONE_TTL, name);
		snprintf(www, sizeof(www), "www.%s", zone);
		snprintf(mail, sizeof(mail), "mail.%s", zone);
		/* Glue-like addresses for name servers of the zone: the quick zone's own address. */
		if (addr != NULL && in_zone(wire, apex) && strcmp(name, zone) != 0 &&
		    strcmp(name, www) != 0 && strcmp(name, mail) != 0)
			fprintf(f, "%s %u IN %s %s\n", name, ZONE_TTL, addr_type, addr);
	}
	return TDM_OK;
}

static FILE *text_open(char **text, size_t *len)
{
	*text = NULL;
	return open_memstream(text, len);
}

static int text_close(FILE *f, char **text, int ret)
{
	if (fclose(f) != 0 && ret == TDM_OK)
		ret = TDM_ENOMEM;
	if (ret != TDM_OK) {
		free(*text);
		*text = NULL;
	}
	return ret;
}

int apizone_text_quick(const char *zone, const json_t *quick, int serial_policy, char **text,
                       apizone_text_error_t *err)
{
	uint8_t apex[NAME_MAXLEN];
	if (!json_is_object(quick))
		return fail(err, "quick", "%s", "quick: {\"nameservers\": [..], \"address\": \"192.0.2.10\"}");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)quick, k, v) {
		if (strcmp(k, "nameservers") != 0 && strcmp(k, "address") != 0) {
			char f[80];
			snprintf(f, sizeof(f), "quick.%s", k);
			return fail(err, f, "%s: unknown (nameservers, address)", f);
		}
	}
	const json_t *a = json_object_get(quick, "address");
	unsigned char buf[16];
	const char *addr = json_is_string(a) ? json_string_value(a) : "";
	const char *type = inet_pton(AF_INET, addr, buf) == 1 ? "A"
	                   : inet_pton(AF_INET6, addr, buf) == 1 ? "AAAA" : NULL;
	if (type == NULL)
		return fail(err, "quick.address", "%s", "quick.address: an IPv4 or IPv6 address");
	char printed[INET6_ADDRSTRLEN];
	inet_ntop(type[1] == '\0' ? AF_INET : AF_INET6, buf, printed, sizeof(printed));
	if (name_from_text(zone, NULL, apex) < 0)
		return fail(err, "name", "%s", "name: not a zone name");
	size_t len;
	FILE *f = text_open(text, &len);
	if (f == NULL)
		return TDM_ENOMEM;
	char first[NAME_TEXT_MAX] = "";
	/* The NS lines first, into a second buffer: the SOA names the first name server. */
	char *ns_text = NULL;
	size_t ns_len;
	FILE *nsf = open_memstream(&ns_text, &ns_len);
	int ret = nsf != NULL ? put_nameservers(nsf, json_object_get(quick, "nameservers"),
	                                        "quick.nameservers", apex, zone, type, printed, first,
	                                        sizeof(first), err) : TDM_ENOMEM;
	if (nsf != NULL && fclose(nsf) != 0 && ret == TDM_OK)
		ret = TDM_ENOMEM;
	if (ret == TDM_OK) {
		fprintf(f, "%s %u IN SOA %s hostmaster.%s %u %u %u %u %u\n", zone, ZONE_TTL, first, zone,
		        apizone_first_serial(serial_policy), SOA_REFRESH, SOA_RETRY, SOA_EXPIRE,
		        SOA_MINIMUM);
		fputs(ns_text, f);
		fprintf(f, "%s %u IN %s %s\n", zone, ZONE_TTL, type, printed);
		fprintf(f, "www.%s %u IN %s %s\n", zone, ZONE_TTL, type, printed);
		fprintf(f, "mail.%s %u IN %s %s\n", zone, ZONE_TTL, type, printed);
		fprintf(f, "%s %u IN MX 10 mail.%s\n", zone, ZONE_TTL, zone);
	}
	free(ns_text);
	return text_close(f, text, ret);
}

/* An optional 32-bit number of the soa object. */
static int soa_number(const json_t *soa, const char *key, uint32_t def, uint32_t *out,
                      apizone_text_error_t *err)
{
	const json_t *v = json_object_get(soa, key);
	char f[32];
	snprintf(f, sizeof(f), "soa.%s", key);
	*out = def;
	if (v == NULL)
		return TDM_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
		return fail(err, f, "%s: a number from 0 to 4294967295", f);
	*out = (uint32_t)json_integer_value(v);
	return TDM_OK;
}

int apizone_text_empty(const char *zone, const json_t *soa, const json_t *nameservers,
                       int serial_policy, char **text, apizone_text_error_t *err)
{
	static const char *const keys[] = { "mname", "rname", "serial", "refresh", "retry", "expire",
	                                    "minimum", "ttl" };
	uint8_t apex[NAME_MAXLEN], wire[NAME_MAXLEN];
	if (soa != NULL && !json_is_object(soa))
		return fail(err, "soa", "%s", "soa: an object (mname, rname, serial, refresh, retry, "
		            "expire, minimum, ttl)");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)soa, k, v) {
		size_t i = 0;
		while (i < 8 && strcmp(k, keys[i]) != 0)
			i++;
		if (i == 8) {
			char f[80];
			snprintf(f, sizeof(f), "soa.%s", k);
			return fail(err, f, "%s: unknown (mname, rname, serial, refresh, retry, expire, "
			            "minimum, ttl)", f);
		}
	}
	if (name_from_text(zone, NULL, apex) < 0)
		return fail(err, "name", "%s", "name: not a zone name");
	uint32_t serial, refresh, retry, expire, minimum, ttl;
	int ret;
	if ((ret = soa_number(soa, "serial", apizone_first_serial(serial_policy), &serial, err)) ||
	    (ret = soa_number(soa, "refresh", SOA_REFRESH, &refresh, err)) ||
	    (ret = soa_number(soa, "retry", SOA_RETRY, &retry, err)) ||
	    (ret = soa_number(soa, "expire", SOA_EXPIRE, &expire, err)) ||
	    (ret = soa_number(soa, "minimum", SOA_MINIMUM, &minimum, err)) ||
	    (ret = soa_number(soa, "ttl", ZONE_TTL, &ttl, err)))
		return ret;
	if (ttl > INT32_MAX)
		return fail(err, "soa.ttl", "%s", "soa.ttl: at most 2147483647");
	char rname[NAME_TEXT_MAX], mname[NAME_TEXT_MAX] = "", first[NAME_TEXT_MAX] = "";
	const json_t *r = json_object_get(soa, "rname"), *m = json_object_get(soa, "mname");
	if (r != NULL && !name_of(r, NULL, rname, sizeof(rname), wire))
		return fail(err, "soa.rname", "%s", "soa.rname: a mailbox as a name (hostmaster.example.com.)");
	if (r == NULL)
		snprintf(rname, sizeof(rname), "hostmaster.%s", zone);
	if (m != NULL && !name_of(m, NULL, mname, sizeof(mname), wire))
		return fail(err, "soa.mname", "%s", "soa.mname: a host name");
	size_t len;
	char *ns_text = NULL;
	size_t ns_len;
	FILE *nsf = open_memstream(&ns_text, &ns_len);
	ret = nsf != NULL ? put_nameservers(nsf, nameservers, "nameservers", apex, zone, NULL, NULL,
	                                    first, sizeof(first), err) : TDM_ENOMEM;
	if (nsf != NULL && fclose(nsf) != 0 && ret == TDM_OK)
		ret = TDM_ENOMEM;
	FILE *f = ret == TDM_OK ? text_open(text, &len) : NULL;
	if (ret == TDM_OK && f == NULL)
		ret = TDM_ENOMEM;
	if (ret == TDM_OK) {
		fprintf(f, "$TTL %u\n%s %u IN SOA %s %s %u %u %u %u %u\n", ttl, zone, ttl,
		        mname[0] ? mname : first, rname, serial, refresh, retry, expire, minimum);
		fputs(ns_text, f);
	}
	free(ns_text);
	return f != NULL ? text_close(f, text, ret) : ret;
}

/* ---- zone-file text ---- */

typedef struct {
	apizone_text_error_t *err;
	size_t count;
} problems_t;

static void collect(void *ctx, const char *file, unsigned line, const char *msg)
{
	problems_t *p = ctx;
	char text[600];
	if (line > 0)
		snprintf(text, sizeof(text), "%u: %s", line, msg);
	else
		snprintf(text, sizeof(text), "%s", msg);
	if (p->count == 0)
		snprintf(p->err->why, sizeof(p->err->why), "zonefile: %s", text);
	if (p->count < TEXT_PROBLEMS_MAX && p->err->problems != NULL)
		json_array_append_new(p->err->problems, json_string(text));
	p->count++;
}

static int no_include(void *ctx, const char *name, unsigned line)
{
	collect(ctx, NULL, line, "$INCLUDE is not allowed in zone text sent to the API");
	return TDM_EINVAL;
}

/* Writes the text to a new temporary file in dir; *path gets its name. */
static int write_temp(const char *dir, const char *text, size_t len, char *path, size_t size)
{
	if ((size_t)snprintf(path, size, "%s/.api-zone-XXXXXX", dir) >= size)
		return TDM_ESPACE;
	int fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	int ret = TDM_OK;
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		done += (size_t)n;
	}
	if (close(fd) != 0 && ret == TDM_OK)
		ret = -errno;
	if (ret != TDM_OK)
		unlink(path);
	return ret;
}

int apizone_text_parse(const char *dir, const char *zone, const char *text, size_t len,
                       rrlist_t **list, zone_contents_t **z, apizone_text_error_t *err)
{
	uint8_t apex[NAME_MAXLEN];
	char path[4096];
	problems_t p = { .err = err };
	*list = NULL;
	*z = NULL;
	snprintf(err->field, sizeof(err->field), "zonefile");
	if (err->problems == NULL && (err->problems = json_array()) == NULL)
		return TDM_ENOMEM;
	if (name_from_text(zone, NULL, apex) < 0)
		return fail(err, "name", "%s", "name: not a zone name");
	name_copy_lower(apex, apex);
	if (memchr(text, '\0', len) != NULL) {
		collect(&p, NULL, 0, "the text holds a NUL character");
		return TDM_EINVAL;
	}
	zonefile_include_scan_t scan;
	zonefile_include_scan_init(&scan);
	if (zonefile_include_scan(&scan, text, len, no_include, &p) != TDM_OK ||
	    zonefile_include_scan_end(&scan, no_include, &p) != TDM_OK) {
		if (p.count == 0)
			collect(&p, NULL, 0, "a $INCLUDE line too long");
		return TDM_EINVAL;
	}
	int ret = write_temp(dir, text, len, path, sizeof(path));
	if (ret != TDM_OK)
		return ret;
	ret = zonefile_load(path, zone, list, collect, &p);
	unlink(path);
	if (ret == TDM_OK) {
		ret = zone_contents_build(apex, *list, z);
		if (ret == TDM_OK || ret == TDM_ESEMCHECK)
			ret = zonefile_check(*list, *z, apex, "zonefile", collect, &p);
	}
	if (ret == TDM_EPARSE || ret == TDM_ESEMCHECK || (ret == TDM_OK && p.count > 0)) {
		if (p.count == 0)
			collect(&p, NULL, 0, "the text does not make a valid zone");
		ret = TDM_EINVAL;
	}
	if (ret != TDM_OK) {
		zone_contents_free(*z);
		rrlist_free(*list);
		*z = NULL;
		*list = NULL;
	}
	if (p.count > TEXT_PROBLEMS_MAX)
		json_array_append_new(err->problems, json_sprintf("... %zu problems in all", p.count));
	return ret;
}
