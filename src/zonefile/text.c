/* zonefile/text.c -- master-format text held in memory: parsed into records (the API's zone text and
 * record data), and one record's rdata shown as text */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>
#include <libzscanner/scanner.h>

#include "lib/error.h"
#include "wire/name.h"
#include "zonefile/zonefile.h"

#define TEXT_DEFAULT_TTL 3600
#define TEXT_CLASS_IN 1

struct text_load {
	rrlist_t *list;
	uint8_t apex[NAME_MAXLEN];
	zonefile_error_fn fn;
	void *ctx;
	unsigned errors;
	int err;
};

/* One problem of the text (its "file" is "text"), counted. */
#define text_report(ld, line, ...) \
	((ld)->errors++, zonefile_report((ld)->fn, (ld)->ctx, "text", (line), __VA_ARGS__))

static void text_record(zs_scanner_t *s)
{
	struct text_load *ld = s->process.data;
	unsigned line = (unsigned)s->line_counter;
	if (ld->err != TDM_OK)
		return;
	if (s->r_class != TEXT_CLASS_IN)
		return text_report(ld, line, "class %u not supported, only IN", s->r_class);
	if (!name_in_zone(s->r_owner, ld->apex)) {
		/* Unlike a zone file read at start: text sent to change a zone must not lose a record
		 * quietly. */
		char owner[NAME_TEXT_MAX];
		name_to_text(s->r_owner, owner, sizeof(owner));
		return text_report(ld, line, "%s is outside the zone", owner);
	}
	int ret = rrlist_add(ld->list, s->r_owner, s->r_type, s->r_ttl, s->r_data,
	                     (uint16_t)s->r_data_length, line);
	if (ret != TDM_OK) {
		ld->err = ret;
		s->state = ZS_STATE_STOP;
	}
}

static void text_error(zs_scanner_t *s)
{
	struct text_load *ld = s->process.data;
	text_report(ld, (unsigned)s->line_counter, "%s", zs_strerror(s->error.code));
}

/* $INCLUDE would read a file of the server's: text from a client never may. */
static int refuse_include(void *ctx, const char *name, unsigned line)
{
	struct text_load *ld = ctx;
	text_report(ld, line, "$INCLUDE %s: not allowed in zone text sent to the server", name);
	return 0;
}

int zonefile_parse_text(const char *text, size_t len, const char *origin, rrlist_t **out,
                        zonefile_error_fn fn, void *ctx)
{
	struct text_load ld = { .fn = fn != NULL ? fn : zonefile_error_print, .ctx = ctx };
	zonefile_include_scan_t scan;
	*out = NULL;
	if (knot_dname_from_str(ld.apex, origin, sizeof(ld.apex)) == NULL)
		return TDM_EINVAL;
	name_copy_lower(ld.apex, ld.apex);
	zonefile_include_scan_init(&scan);
	if (zonefile_include_scan(&scan, text, len, refuse_include, &ld) != 0 ||
	    zonefile_include_scan_end(&scan, refuse_include, &ld) != 0)
		text_report(&ld, scan.line, "$INCLUDE file name too long");
	if (ld.errors > 0)
		return TDM_EPARSE;
	zs_scanner_t *s = malloc(sizeof(*s));   /* about 200 KiB of buffers: not for the stack */
	ld.list = rrlist_new();
	int ret = TDM_ENOMEM;
	if (s == NULL || ld.list == NULL)
		goto fail;
	if (zs_init(s, origin, TEXT_CLASS_IN, TEXT_DEFAULT_TTL) != 0) {
		ret = s->error.code == ZS_ENOMEM ? TDM_ENOMEM : TDM_EINVAL;
		zs_deinit(s);
		goto fail;
	}
	if (zs_set_input_string(s, text, len) != 0 ||
	    zs_set_processing(s, text_record, text_error, &ld) != 0) {
		zs_deinit(s);
		goto fail;
	}
	if (zs_parse_all(s) != 0 && ld.errors == 0 && ld.err == TDM_OK)
		text_report(&ld, (unsigned)s->line_counter, "%s", zs_strerror(s->error.code));
	zs_deinit(s);
	ret = ld.err != TDM_OK ? ld.err : ld.errors > 0 ? TDM_EPARSE : TDM_OK;
	if (ret != TDM_OK)
		goto fail;
	free(s);
	*out = ld.list;
	return TDM_OK;
fail:
	free(s);
	rrlist_free(ld.list);
	return ret;
}

int zonefile_rdata_text(uint16_t type, const uint8_t *rdata, uint16_t rdlen, char *out, size_t cap)
{
	static const uint8_t root[1] = { 0 };
	knot_rrset_t set;
	knot_dump_style_t style = KNOT_DUMP_STYLE_DEFAULT;
	style.wrap = false;
	style.human_timestamp = true;
	knot_rrset_init(&set, (knot_dname_t *)root, type, KNOT_CLASS_IN, 0);
	if (knot_rrset_add_rdata(&set, rdata, rdlen, NULL) != KNOT_EOK)
		return TDM_ENOMEM;
	int len = knot_rrset_txt_dump_data(&set, 0, out, cap, &style);
	if (len < 0) {
		/* rdata that does not parse as its type: RFC 3597 generic form. */
		style.generic = true;
		len = knot_rrset_txt_dump_data(&set, 0, out, cap, &style);
	}
	knot_rdataset_clear(&set.rrs, NULL);
	return len < 0 ? TDM_ESPACE : len;
}
