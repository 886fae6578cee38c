/* cli/zoneview.c -- `tandem zone show`: one zone's replication view as a person reads it */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/fmt.h"
#include "cli/zone.h"
#include "lib/error.h"

/*
 * The layout, for a secondary zone that feeds one secondary of its own:
 *
 *   zone     example.com.
 *   type     secondary
 *   serial   2026112602
 *   ...
 *
 *   secondary side
 *     primaries      ns1 127.0.0.1@5300
 *     primary used   127.0.0.1@5300
 *     last refresh   12 s ago (2026-11-26 10:00:00 UTC): ok: IXFR serial 2026112601 -> 2026112602
 *     next refresh   in 1 h 59 min (2026-11-26 12:00:00 UTC)
 *     expires        in 13 d 23 h (2026-12-10 10:00:00 UTC)
 *
 *   secondaries seen: 1 (notify: ns2 127.0.0.2@5300)
 *     127.0.0.2      serial 2026112602, in sync
 *       last seen      12 s ago (2026-11-26 10:00:00 UTC), by its IXFR request
 *       last transfer  12 s ago (2026-11-26 10:00:00 UTC), IXFR
 */

/* A time field: relative and UTC, or `none` when missing, null or 0 (never happened). */
static const char *when(const json_t *o, const char *key, int64_t now, const char *none, char *buf,
                        size_t size)
{
	int64_t t;
	if (!cli_json_int(o, key, &t) || t <= 0)
		return none;
	return cli_fmt_when(t, now, buf, size);
}

/* A list of strings on one line, "ns1 127.0.0.1@5300, ns2 ..." (or "-"), then end. */
static void print_list(FILE *out, const json_t *list, const char *end)
{
	size_t i;
	json_t *v;
	if (json_array_size(list) == 0)
		fputs("-", out);
	json_array_foreach(list, i, v) {
		fputs(i > 0 ? ", " : "", out);
		fputs(json_is_string(v) ? json_string_value(v) : "?", out);
	}
	fputs(end, out);
}

static void print_zone(FILE *out, const json_t *z)
{
	char buf[32];
	fprintf(out, "zone     %s\n", cli_json_str(z, "name", "?"));
	fprintf(out, "type     %s\n", cli_json_str(z, "type", "-"));
	fprintf(out, "serial   %s\n", cli_json_int_text(z, "serial", "- (no data yet)", buf, sizeof(buf)));
	fprintf(out, "records  %s\n", cli_json_int_text(z, "records", "-", buf, sizeof(buf)));
	fprintf(out, "state    %s\n", cli_json_str(z, "state", "-"));
	fprintf(out, "source   %s\n", cli_json_str(z, "source", "-"));
	const json_t *cat = json_object_get(z, "catalog");
	if (!json_is_object(cat))
		return;
	const char *of = cli_json_str(cat, "catalog", NULL), *group = cli_json_str(cat, "group", "");
	fprintf(out, "catalog  %s%s%s\n", cli_json_str(cat, "role", "-"), of ? " of " : "",
	        of ? of : "");
	if (json_object_get(cat, "member_id") != NULL)
		fprintf(out, "         member id %s%s%s\n", cli_json_str(cat, "member_id", "-"),
		        *group ? ", group " : "", group);
}

/* RFC 1035 3.3.13: past EXPIRE a secondary stops answering for the zone. */
static void print_expiry(FILE *out, const json_t *z, const json_t *s, int64_t now)
{
	char buf[CLI_TIME_MAX];
	int64_t at, in;
	bool have = cli_json_int(s, "expires_at", &at) && at > 0;
	if (!have && cli_json_int(s, "expires_in", &in)) {
		at = now + in;
		have = true;
	}
	bool expired = strcmp(cli_json_str(z, "state", ""), "expired") == 0 || (have && at <= now);
	if (!have)
		fprintf(out, "  expires        %s\n", expired ? "EXPIRED" : "-");
	else if (expired)
		fprintf(out, "  expires        EXPIRED %s: answering SERVFAIL until a refresh succeeds\n",
		        cli_fmt_when(at, now, buf, sizeof(buf)));
	else
		fprintf(out, "  expires        %s\n", cli_fmt_when(at, now, buf, sizeof(buf)));
}

static void print_secondary_side(FILE *out, const json_t *z, const json_t *s, int64_t now)
{
	char buf[CLI_TIME_MAX];
	int64_t next;
	const char *result = cli_json_str(s, "last_result", NULL);
	fputs("\nsecondary side\n  primaries      ", out);
	print_list(out, json_object_get(s, "primaries"), "\n");
	fprintf(out, "  primary used   %s\n", cli_json_str(s, "primary_used", "-"));
	fprintf(out, "  last refresh   %s", when(s, "last_refresh", now, "never", buf, sizeof(buf)));
	fprintf(out, "%s%s\n", result != NULL ? ": " : "", result != NULL ? result : "");
	if (cli_json_int(s, "next_refresh", &next) && next > 0 && next < now)
		fprintf(out, "  next refresh   due, %s\n", cli_fmt_when(next, now, buf, sizeof(buf)));
	else
		fprintf(out, "  next refresh   %s\n", when(s, "next_refresh", now, "-", buf, sizeof(buf)));
	print_expiry(out, z, s, now);
}

/* How we learned of a secondary (docs/api.md: NOTIFY answers, SOA queries, IXFR requests). */
static const char *seen_by(const char *how)
{
	if (how == NULL)
		return NULL;
	if (strcasecmp(how, "notify") == 0)
		return "its answer to our NOTIFY";
	if (strcasecmp(how, "soa") == 0)
		return "its SOA query";
	if (strcasecmp(how, "ixfr") == 0)
		return "its IXFR request";
	if (strcasecmp(how, "axfr") == 0)
		return "its AXFR request";
	return how;
}

static void print_seen(FILE *out, const json_t *sec, int64_t now)
{
	char serial[32], lag[48], buf[CLI_TIME_MAX];
	int64_t v;
	if (cli_json_int(sec, "serial", &v))
		snprintf(serial, sizeof(serial), "serial %" PRId64, v);
	else
		snprintf(serial, sizeof(serial), "serial unknown");
	if (!cli_json_int(sec, "lag", &v))
		snprintf(lag, sizeof(lag), "lag unknown");
	else if (v == 0)
		snprintf(lag, sizeof(lag), "in sync");
	else
		snprintf(lag, sizeof(lag), "%" PRId64 " serial%s behind", v, v == 1 ? "" : "s");
	fprintf(out, "  %-14s %s, %s\n", cli_json_str(sec, "address", "?"), serial, lag);
	const char *how = seen_by(cli_json_str(sec, "seen_by", NULL));
	fprintf(out, "    last seen      %s", when(sec, "last_seen", now, "-", buf, sizeof(buf)));
	fprintf(out, "%s%s\n", how != NULL ? ", by " : "", how != NULL ? how : "");
	const char *type = cli_json_str(sec, "last_transfer_type", NULL);
	fprintf(out, "    last transfer  %s", when(sec, "last_transfer", now, "none", buf, sizeof(buf)));
	fprintf(out, "%s%s\n", type != NULL ? ", " : "", type != NULL ? type : "");
}

static void print_primary_side(FILE *out, const json_t *z, const json_t *p, int64_t now)
{
	const json_t *list = json_object_get(p, "secondaries");
	size_t i, n = json_array_size(list);
	json_t *sec;
	fprintf(out, "\nsecondaries seen: %zu", n);
	if (json_array_size(json_object_get(p, "notify")) > 0) {
		fputs(" (notify: ", out);
		print_list(out, json_object_get(p, "notify"), ")\n");
	} else {
		fputc('\n', out);
	}
	if (n == 0 && strcmp(cli_json_str(z, "type", ""), "primary") == 0)
		fputs("  none yet: a secondary shows up when it answers our NOTIFY, asks for the SOA or "
		      "transfers\n", out);
	json_array_foreach(list, i, sec)
		print_seen(out, sec, now);
	const json_t *reload = json_object_get(p, "reload");
	const char *state = cli_json_str(reload, "state", "none");
	char buf[CLI_TIME_MAX];
	if (strcmp(state, "reading") == 0)
		fputs("last reload: the zone file is being read now\n", out);
	else if (strcmp(state, "done") == 0)
		fprintf(out, "last reload: %s: %s\n", when(reload, "last_at", now, "-", buf, sizeof(buf)),
		        cli_json_str(reload, "last_result", "-"));
}

int cli_zone_show_print(FILE *out, const json_t *zone, void *arg)
{
	int64_t now = *(const int64_t *)arg;
	const json_t *s = json_object_get(zone, "secondary");
	const json_t *p = json_object_get(zone, "primary");
	print_zone(out, zone);
	if (json_is_object(s))
		print_secondary_side(out, zone, s, now);
	if (json_is_object(p))
		print_primary_side(out, zone, p, now);
	return ferror(out) ? TDM_EIO : TDM_OK;
}
