/* zonefile/load.c -- zone file loading: the libzscanner adapter from master format to an rrlist */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libknot/libknot.h>
#include <libzscanner/scanner.h>

#include "lib/error.h"
#include "wire/name.h"
#include "zonefile/zonefile.h"

/* TTL of records before any $TTL, as Knot does (BIND warns and uses the SOA minimum). */
#define LOAD_DEFAULT_TTL 3600
#define CLASS_IN 1

/* Shared by the top scanner and those zscanner makes for each $INCLUDE (they get the same data). */
struct load {
	rrlist_t *list;
	uint8_t apex[NAME_MAXLEN];
	const char *origin;
	zonefile_error_fn fn;
	void *ctx;
	unsigned errors;
	int err;               /* sticky: the first failure that is not a syntax error (TDM_ENOMEM) */
};

void zonefile_error_print(void *ctx, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	if (line > 0)
		fprintf(stderr, "%s:%u: %s\n", file, line, msg);
	else
		fprintf(stderr, "%s: %s\n", file, msg);
}

static void report(struct load *ld, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct load *ld, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ld->fn(ld->ctx, file, line, msg);
}

/* The callback runs before the record's closing newline is counted: for a record spread over
 * several lines with ( ), this is its last line. */
static unsigned record_line(const zs_scanner_t *s)
{
	return (unsigned)s->line_counter;
}

static void on_record(zs_scanner_t *s)
{
	struct load *ld = s->process.data;
	if (ld->err != TDM_OK)
		return;
	unsigned line = record_line(s);
	char owner[NAME_TEXT_MAX];
	if (s->r_class != CLASS_IN) {
		ld->errors++;
		report(ld, s->file.name, line, "class %u not supported, only IN", s->r_class);
		return;
	}
	if (!name_in_zone(s->r_owner, ld->apex)) {
		/* Like BIND and Knot: out-of-zone data is ignored with a notice, not fatal. */
		name_to_text(s->r_owner, owner, sizeof(owner));
		report(ld, s->file.name, line, "record %s outside zone %s ignored", owner, ld->origin);
		return;
	}
	int ret = rrlist_add(ld->list, s->r_owner, s->r_type, s->r_ttl, s->r_data,
	                     (uint16_t)s->r_data_length, line);
	if (ret != TDM_OK) {
		ld->err = ret;
		s->state = ZS_STATE_STOP;
	}
}

static void on_error(zs_scanner_t *s)
{
	struct load *ld = s->process.data;
	int code = s->error.code;
	ld->errors++;
	const char *file = s->file.name != NULL ? s->file.name : "(zone)";
	unsigned line = (unsigned)s->line_counter;
	if (code == ZS_FILE_OPEN || code == ZS_FILE_ACCESS || code == ZS_FILE_INVALID)
		report(ld, file, line, "%s: %s", s->include_filename, zs_strerror(code));
	else
		report(ld, file, line, "%s", zs_strerror(code));
}

/* Opens the file once here, so an unreadable file gives the caller its errno, not TDM_EPARSE. */
static int check_readable(struct load *ld, const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		int err = -errno;
		report(ld, path, 0, "cannot open: %s", strerror(-err));
		return err;
	}
	close(fd);
	return TDM_OK;
}

static int set_apex(struct load *ld, const char *path, const char *origin)
{
	if (knot_dname_from_str(ld->apex, origin, sizeof(ld->apex)) == NULL) {
		report(ld, path, 0, "bad zone name %s", origin);
		return TDM_EINVAL;
	}
	name_copy_lower(ld->apex, ld->apex);
	return TDM_OK;
}

static int scan(struct load *ld, const char *path, zs_scanner_t *s)
{
	if (zs_init(s, ld->origin, CLASS_IN, LOAD_DEFAULT_TTL) != 0) {
		int code = s->error.code;
		zs_deinit(s);
		return code == ZS_ENOMEM ? TDM_ENOMEM : TDM_EINVAL;
	}
	int ret = TDM_OK;
	if (zs_set_input_file(s, path) != 0) {
		ret = s->error.code == ZS_ENOMEM ? TDM_ENOMEM : TDM_EIO;
		report(ld, path, 0, "cannot read: %s", zs_strerror(s->error.code));
		goto out;
	}
	zs_set_processing(s, on_record, on_error, ld);
	if (zs_parse_all(s) != 0 && ld->errors == 0 && ld->err == TDM_OK) {
		/* Failed without telling the callback (a fatal internal error). */
		ld->errors++;
		report(ld, path, 0, "%s", zs_strerror(s->error.code));
	}
out:
	zs_deinit(s);
	return ret;
}

int zonefile_load(const char *path, const char *origin, rrlist_t **out, zonefile_error_fn fn,
                  void *ctx)
{
	struct load ld = { .origin = origin, .fn = fn != NULL ? fn : zonefile_error_print, .ctx = ctx };
	zs_scanner_t *s = NULL;
	*out = NULL;
	int ret = check_readable(&ld, path);
	if (ret != TDM_OK)
		return ret;
	if ((ret = set_apex(&ld, path, origin)) != TDM_OK)
		return ret;
	ret = TDM_ENOMEM;
	ld.list = rrlist_new();
	s = malloc(sizeof(*s));   /* about 200 KiB of buffers: not for the stack */
	if (ld.list == NULL || s == NULL)
		goto fail;
	if ((ret = scan(&ld, path, s)) != TDM_OK)
		goto fail;
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
