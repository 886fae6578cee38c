/* zonefile/load.c -- zone file loading: the libzscanner adapter from master format to an rrlist */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* One problem of the load: its file, its line and what is wrong. */
#define report(ld, file, line, ...) zonefile_report((ld)->fn, (ld)->ctx, (file), (line), __VA_ARGS__)

void zonefile_report(zonefile_error_fn fn, void *ctx, const char *file, unsigned line, const char *fmt,
                     ...)
{
	char msg[ZONEFILE_REPORT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(ctx, file, line, msg);
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

/* Bounds a zone file read whole into memory: bigger than any zone this server can hold (the rrlist
 * of a file this size would not fit either), small enough that a mistake (a device, a log file named
 * as the zone file) fails cleanly instead of eating memory. */
#define LOAD_FILE_MAX ((size_t)4 << 30)

int zonefile_read_fd(int fd, size_t hint, char **text, size_t *len)
{
	size_t cap = hint > 0 ? hint + 1 : 4096, used = 0;   /* + 1: the end seen without a realloc */
	char *buf = malloc(cap);
	*text = NULL;
	*len = 0;
	if (buf == NULL)
		return TDM_ENOMEM;
	for (;;) {
		if (used == cap) {
			/* Grown while read (or a file with no size): read on until the end. */
			if (cap >= LOAD_FILE_MAX) {
				free(buf);
				return TDM_ESPACE;
			}
			char *bigger = realloc(buf, cap * 2);
			if (bigger == NULL) {
				free(buf);
				return TDM_ENOMEM;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;
			free(buf);
			return err;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	*text = buf;
	*len = used;
	return TDM_OK;
}

int zonefile_read(const char *path, char **text, size_t *len, struct stat *sb)
{
	struct stat own;
	if (sb == NULL)
		sb = &own;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int ret = fstat(fd, sb) == 0 ? TDM_OK : -errno;
	if (ret == TDM_OK)
		ret = zonefile_read_fd(fd, S_ISREG(sb->st_mode) ? (size_t)sb->st_size : 0, text, len);
	close(fd);
	return ret;
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

static int check_includes(struct load *ld, const char *path);

/*
 * A parser is one scanner, set up for each file as zs_init would set it up, but without zs_init's
 * clearing of all its 200 KiB: that memset was 7% of the CPU of a start of 100,000 small zones. The
 * state zs_init leaves (origin ".") is kept once, apart from the three 64 KiB buffers -- the comment
 * and error text, the $INCLUDE name and the record's rdata -- which the scanner writes before it reads
 * them, as it already does from one record to the next of a file. A file then starts from a copy of
 * that state and its own $ORIGIN line, parsed as zs_init parses it.
 */
#define SCAN_HEAD_END offsetof(zs_scanner_t, buffer)
#define SCAN_MID_START offsetof(zs_scanner_t, path)
#define SCAN_MID_END offsetof(zs_scanner_t, r_data)

/* What is left out of the copy must be the three buffers and nothing else (libzscanner/scanner.h). */
_Static_assert(SCAN_MID_START - SCAN_HEAD_END < sizeof(((zs_scanner_t *)0)->buffer) +
               sizeof(((zs_scanner_t *)0)->include_filename) + sizeof(char *),
               "only buffer and include_filename lie between the head and path");
_Static_assert(SCAN_MID_END + sizeof(((zs_scanner_t *)0)->r_data) + sizeof(uint64_t) > sizeof(zs_scanner_t),
               "r_data is the scanner's last member");

struct zonefile_parser {
	zs_scanner_t s;
	bool primed;                                      /* head and mid hold zs_init's state */
	unsigned char head[SCAN_HEAD_END];
	unsigned char mid[SCAN_MID_END - SCAN_MID_START];
};

zonefile_parser_t *zonefile_parser_new(void)
{
	zonefile_parser_t *p = malloc(sizeof(*p));
	if (p != NULL)
		p->primed = false;
	return p;
}

void zonefile_parser_free(zonefile_parser_t *p)
{
	free(p);
}

static int scan_fail(const zs_scanner_t *s)
{
	return s->error.code == ZS_ENOMEM ? TDM_ENOMEM : TDM_EINVAL;
}

/* The scanner as zs_init(s, origin, CLASS_IN, LOAD_DEFAULT_TTL) leaves it, but for the buffers. */
static int scanner_start(zonefile_parser_t *p, const char *origin)
{
	zs_scanner_t *s = &p->s;
	if (!p->primed) {
		if (zs_init(s, ".", CLASS_IN, LOAD_DEFAULT_TTL) != 0) {
			int ret = scan_fail(s);
			zs_deinit(s);
			return ret;
		}
		free(s->path);
		s->path = NULL;
		s->input.start = s->input.current = s->input.end = NULL;   /* zs_init's own text */
		memcpy(p->head, s, sizeof(p->head));
		memcpy(p->mid, (unsigned char *)s + SCAN_MID_START, sizeof(p->mid));
		p->primed = true;
	}
	memcpy(s, p->head, sizeof(p->head));
	memcpy((unsigned char *)s + SCAN_MID_START, p->mid, sizeof(p->mid));
	char settings[NAME_TEXT_MAX + 16];
	size_t len = strlen(origin);
	int n = snprintf(settings, sizeof(settings), "$ORIGIN %s%s\n", origin,
	                 len > 0 && origin[len - 1] == '.' ? "" : ".");
	if (n <= 0 || (size_t)n >= sizeof(settings))
		return TDM_EINVAL;
	if ((s->path = strdup(".")) == NULL)
		return TDM_ENOMEM;
	if (zs_set_input_string(s, settings, (size_t)n) != 0 || zs_parse_all(s) != 0) {
		int ret = scan_fail(s);
		zs_deinit(s);
		return ret;
	}
	s->line_counter = 1;
	s->state = ZS_STATE_NONE;
	s->process.automatic = false;
	return TDM_OK;
}

/* Where libzscanner finds a relative $INCLUDE: the folder of the file's real path, as
 * zs_set_input_file would set it. The scanner's own copy is replaced (zs_deinit frees it). */
static int set_include_dir(zs_scanner_t *s, const char *path)
{
	char dir[PATH_MAX];
	int ret = zonefile_include_path(path, "", dir, sizeof(dir));
	if (ret != TDM_OK)
		return TDM_OK;   /* not resolvable: each $INCLUDE then fails and is reported */
	size_t n = strlen(dir);
	if (n > 1 && dir[n - 1] == '/')
		dir[n - 1] = '\0';
	char *copy = strdup(dir);
	if (copy == NULL)
		return TDM_ENOMEM;
	free(s->path);
	s->path = copy;
	return TDM_OK;
}

/*
 * Parses text (the file's octets, read once: the scanner never maps the file, so a file truncated or
 * rewritten meanwhile cannot fault the process or mix two versions). The scanner's input, file name
 * (for messages) and include folder are set as zs_set_input_file would.
 */
static int scan(struct load *ld, zonefile_parser_t *p, const char *path, const char *text, size_t len,
                bool includes)
{
	zs_scanner_t *s = &p->s;
	int ret = scanner_start(p, ld->origin);
	if (ret != TDM_OK)
		return ret;
	if (zs_set_input_string(s, text, len) != 0) {
		ret = s->error.code == ZS_ENOMEM ? TDM_ENOMEM : TDM_EIO;
		report(ld, path, 0, "cannot read: %s", zs_strerror(s->error.code));
		goto out;
	}
	ret = TDM_ENOMEM;
	if ((s->file.name = strdup(path)) == NULL ||
	    (includes && set_include_dir(s, path) != TDM_OK))
		goto out;
	ret = TDM_OK;
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

static int note_include(void *ctx, const char *name, unsigned line)
{
	(void)name;
	(void)line;
	*(bool *)ctx = true;
	return 1;   /* one is enough to know */
}

/* Whether text has a line that may be an $INCLUDE (the scan errs on the side of yes). */
static bool has_include(const char *text, size_t len)
{
	zonefile_include_scan_t scan;
	bool found = false;
	zonefile_include_scan_init(&scan);
	if (memchr(text, '$', len) == NULL)
		return false;
	int ret = zonefile_include_scan(&scan, text, len, note_include, &found);
	if (ret == 0)
		ret = zonefile_include_scan_end(&scan, note_include, &found);
	return found || ret == TDM_ESPACE;
}

int zonefile_parse(zonefile_parser_t *p, const char *path, const char *text, size_t len,
                   const char *origin, rrlist_t **out, zonefile_error_fn fn, void *ctx)
{
	struct load ld = { .origin = origin, .fn = fn != NULL ? fn : zonefile_error_print, .ctx = ctx };
	*out = NULL;
	int ret = set_apex(&ld, path, origin);
	if (ret != TDM_OK)
		return ret;
	bool includes = has_include(text, len);
	if (includes && (ret = check_includes(&ld, path)) != TDM_OK)
		return ret;
	if ((ld.list = rrlist_new()) == NULL)
		return TDM_ENOMEM;
	if ((ret = scan(&ld, p, path, text, len, includes)) != TDM_OK)
		goto fail;
	ret = ld.err != TDM_OK ? ld.err : ld.errors > 0 ? TDM_EPARSE : TDM_OK;
	if (ret != TDM_OK)
		goto fail;
	*out = ld.list;
	return TDM_OK;
fail:
	rrlist_free(ld.list);
	return ret;
}

int zonefile_load(const char *path, const char *origin, rrlist_t **out, zonefile_error_fn fn,
                  void *ctx)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	/* An unreadable file gives the caller its errno, not TDM_EPARSE. */
	int ret = zonefile_read(path, &text, &len, NULL);
	if (ret != TDM_OK) {
		struct load ld = { .fn = fn != NULL ? fn : zonefile_error_print, .ctx = ctx };
		report(&ld, path, 0, "cannot open: %s", tdm_strerror(ret));
		return ret;
	}
	zonefile_parser_t *p = zonefile_parser_new();
	ret = p != NULL ? zonefile_parse(p, path, text, len, origin, out, fn, ctx) : TDM_ENOMEM;
	zonefile_parser_free(p);
	free(text);
	return ret;
}

/* ---- $INCLUDE directives found without parsing ---- */

enum { INC_LINE, INC_DIRECTIVE, INC_BLANK, INC_BARE, INC_QUOTED, INC_SKIP };

void zonefile_include_scan_init(zonefile_include_scan_t *s)
{
	memset(s, 0, sizeof(*s));
	s->state = INC_LINE;
	s->line = 1;
}

static bool inc_blank(char c)
{
	return c == ' ' || c == '\t' || c == '(' || c == ')';
}

/* One octet of a file name, with libzscanner's escapes: \DDD is that octet, \X is X. */
static int inc_name_char(zonefile_include_scan_t *s, char c)
{
	if (s->digits > 0 || (s->escape && c >= '0' && c <= '9')) {
		s->escape = false;
		s->value = s->value * 10 + (unsigned)(c - '0');
		if (++s->digits < 3)
			return TDM_OK;
		c = (char)(uint8_t)s->value;
		s->digits = 0;
		s->value = 0;
	} else if (s->escape) {
		s->escape = false;
	} else if (c == '\\') {
		s->escape = true;
		return TDM_OK;
	}
	if (s->len + 1 >= sizeof(s->name))
		return TDM_ESPACE;
	s->name[s->len++] = c;
	return TDM_OK;
}

static int inc_name_done(zonefile_include_scan_t *s, zonefile_include_fn fn, void *ctx)
{
	s->name[s->len] = '\0';
	int ret = s->len > 0 ? fn(ctx, s->name, s->line) : 0;
	s->len = 0;
	s->escape = false;
	s->digits = s->value = 0;
	return ret;
}

/* One octet; the caller counts the line after it. */
static int inc_step(zonefile_include_scan_t *s, char c, zonefile_include_fn fn, void *ctx)
{
	static const char directive[] = "$INCLUDE";
	int ret = 0;
	switch (s->state) {
	case INC_LINE:
		if (c == '$') {
			s->matched = 1;
			s->state = INC_DIRECTIVE;
		} else if (c != ' ' && c != '\t' && c != '\n') {
			s->state = INC_SKIP;
		}
		return 0;
	case INC_DIRECTIVE:
		if (s->matched < sizeof(directive) - 1 && (c & ~0x20) == directive[s->matched]) {
			s->matched++;
			return 0;
		}
		s->state = s->matched == sizeof(directive) - 1 && inc_blank(c) ? INC_BLANK
		         : c == '\n' ? INC_LINE : INC_SKIP;
		return 0;
	case INC_BLANK:
		if (c == '\n' || c == ';')
			s->state = c == '\n' ? INC_LINE : INC_SKIP;
		else if (c == '"')
			s->state = INC_QUOTED;
		else if (!inc_blank(c) && (ret = inc_name_char(s, c)) == 0)
			s->state = INC_BARE;
		return ret;
	case INC_BARE:
		if (s->escape || s->digits > 0 || !(inc_blank(c) || c == '\n' || c == ';'))
			return inc_name_char(s, c);
		s->state = c == '\n' ? INC_LINE : INC_SKIP;
		return inc_name_done(s, fn, ctx);
	case INC_QUOTED:
		if (c == '\n' || (c == '"' && !s->escape && s->digits == 0)) {
			s->state = c == '\n' ? INC_LINE : INC_SKIP;
			return inc_name_done(s, fn, ctx);
		}
		return inc_name_char(s, c);
	default:   /* INC_SKIP */
		if (c == '\n')
			s->state = INC_LINE;
		return 0;
	}
}

int zonefile_include_scan(zonefile_include_scan_t *s, const char *buf, size_t len,
                          zonefile_include_fn fn, void *ctx)
{
	const char *p = buf, *end = buf + len;
	while (p < end) {
		/* Most lines are records: skip them whole (this scan reads every zone file once more). */
		if (s->state == INC_SKIP) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (nl == NULL)
				return 0;
			p = nl;
		}
		int ret = inc_step(s, *p, fn, ctx);
		if (*p++ == '\n')
			s->line++;
		if (ret != 0)
			return ret;
	}
	return 0;
}

int zonefile_include_scan_end(zonefile_include_scan_t *s, zonefile_include_fn fn, void *ctx)
{
	int ret = s->state == INC_BARE || s->state == INC_QUOTED ? inc_name_done(s, fn, ctx) : 0;
	s->state = INC_LINE;
	return ret;
}

int zonefile_include_path(const char *including, const char *name, char *out, size_t size)
{
	if (name[0] == '/')
		return snprintf(out, size, "%s", name) < (int)size ? TDM_OK : TDM_ESPACE;
	char real[PATH_MAX];
	if (realpath(including, real) == NULL)
		return -errno;
	char *slash = strrchr(real, '/');   /* realpath is absolute: there is one */
	int dir = slash != NULL && slash != real ? (int)(slash - real) : 0;
	return snprintf(out, size, "%.*s/%s", dir, real, name) < (int)size ? TDM_OK : TDM_ESPACE;
}

/* ---- include loops and nesting, refused before libzscanner follows them ---- */

typedef struct {
	char *name;
	unsigned line;
} inc_name_t;

typedef struct {
	inc_name_t *v;
	size_t count, cap;
} inc_list_t;

typedef struct {
	struct load *ld;
	char *stack[ZONEFILE_INCLUDE_DEPTH_MAX + 1];   /* real paths of the files being read */
	unsigned files;
	char buf[65536];
	zonefile_include_scan_t scan;
} incwalk_t;

static int inc_collect(void *ctx, const char *name, unsigned line)
{
	inc_list_t *l = ctx;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		inc_name_t *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return TDM_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if ((l->v[l->count].name = strdup(name)) == NULL)
		return TDM_ENOMEM;
	l->v[l->count++].line = line;
	return 0;
}

/* The $INCLUDE lines of one file; a file that cannot be read has none (the parse reports it). */
static int inc_read(incwalk_t *w, const char *path, inc_list_t *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return TDM_OK;
	int ret = TDM_OK;
	zonefile_include_scan_init(&w->scan);
	for (;;) {
		ssize_t n = read(fd, w->buf, sizeof(w->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((ret = zonefile_include_scan(&w->scan, w->buf, (size_t)n, inc_collect, out)) != 0)
			break;
	}
	close(fd);
	if (ret == TDM_OK)
		ret = zonefile_include_scan_end(&w->scan, inc_collect, out);
	if (ret == TDM_ESPACE) {
		w->ld->errors++;
		report(w->ld, path, w->scan.line, "$INCLUDE file name longer than %d octets",
		       ZONEFILE_INCLUDE_NAME_MAX - 1);
		ret = TDM_EPARSE;
	}
	return ret;
}

static int inc_walk(incwalk_t *w, const char *path, int depth);

/* One $INCLUDE of path (at depth): a loop, too deep or too many files is an error. */
static int inc_follow(incwalk_t *w, const char *path, int depth, const inc_name_t *inc)
{
	char target[PATH_MAX], real[PATH_MAX];
	if (zonefile_include_path(path, inc->name, target, sizeof(target)) != TDM_OK ||
	    realpath(target, real) == NULL)
		return TDM_OK;   /* libzscanner will say what is wrong with it */
	for (int i = 0; i <= depth; i++) {
		if (strcmp(w->stack[i], real) == 0) {
			w->ld->errors++;
			report(w->ld, path, inc->line, "$INCLUDE %s: a loop (it includes %s again)",
			       inc->name, real);
			return TDM_EPARSE;
		}
	}
	if (depth + 1 > ZONEFILE_INCLUDE_DEPTH_MAX || ++w->files > ZONEFILE_INCLUDE_FILES_MAX) {
		w->ld->errors++;
		report(w->ld, path, inc->line, "$INCLUDE %s: more than %d files nested, or %d in all",
		       inc->name, ZONEFILE_INCLUDE_DEPTH_MAX, ZONEFILE_INCLUDE_FILES_MAX);
		return TDM_EPARSE;
	}
	return inc_walk(w, target, depth + 1);
}

static int inc_walk(incwalk_t *w, const char *path, int depth)
{
	inc_list_t list = { 0 };
	if ((w->stack[depth] = realpath(path, NULL)) == NULL)
		return errno == ENOMEM ? TDM_ENOMEM : TDM_OK;   /* unreadable: the parse reports it */
	int ret = inc_read(w, path, &list);
	for (size_t i = 0; ret == TDM_OK && i < list.count; i++)
		ret = inc_follow(w, path, depth, &list.v[i]);
	for (size_t i = 0; i < list.count; i++)
		free(list.v[i].name);
	free(list.v);
	free(w->stack[depth]);
	w->stack[depth] = NULL;
	return ret;
}

/* The zone file and what it includes, as a tree: TDM_OK, TDM_EPARSE (reported) or TDM_ENOMEM. */
static int check_includes(struct load *ld, const char *path)
{
	incwalk_t *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return TDM_ENOMEM;
	w->ld = ld;
	w->files = 1;
	int ret = inc_walk(w, path, 0);
	free(w);
	return ret;
}
