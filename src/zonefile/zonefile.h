/* zonefile/zonefile.h -- zone files in master format: load (libzscanner), semantic checks, dump */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "zone/contents.h"
#include "zone/rrlist.h"

/* Receives one problem: file, line (0 when not tied to a line) and a message without file/line. */
typedef void (*zonefile_error_fn)(void *ctx, const char *file, unsigned line, const char *msg);

/* Prints "file:line: msg" to stderr; ctx unused. The default when fn is NULL. */
void zonefile_error_print(void *ctx, const char *file, unsigned line, const char *msg);

/* The module's own reporter: formats one problem (at most ZONEFILE_REPORT_MAX octets, cut beyond)
 * and hands it to fn. The format attribute (GCC and Clang) has the compiler check every call's
 * arguments against its format, as it did for the three static reporters this one replaces. */
#define ZONEFILE_REPORT_MAX 2400
void zonefile_report(zonefile_error_fn fn, void *ctx, const char *file, unsigned line, const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));

/*
 * Parses the zone file at path with origin (textual, "example.com.") into a new list, following
 * $ORIGIN, $TTL and $INCLUDE. Every syntax error is reported through fn (parsing goes on to find the
 * rest). Records outside the zone are reported and dropped. Returns TDM_OK and *out, TDM_EPARSE when
 * any error was reported (*out NULL), TDM_ENOMEM, or a negated errno when the file cannot be read.
 */
int zonefile_load(const char *path, const char *origin, rrlist_t **out, zonefile_error_fn fn,
                  void *ctx);

/*
 * The same, for a file already read whole (zonefile_read): text holds its len octets, path names it in
 * messages and is where a relative $INCLUDE is found from. The file is never mapped, so a file
 * truncated or rewritten while it is parsed can neither fault the process nor mix two versions.
 * The parser keeps libzscanner's scanner (about 200 KiB) from one file to the next: make one per
 * thread and parse many files with it. Same returns as zonefile_load (which reads the file and makes
 * a parser of its own).
 */
typedef struct zonefile_parser zonefile_parser_t;

zonefile_parser_t *zonefile_parser_new(void);   /* NULL on OOM */
void zonefile_parser_free(zonefile_parser_t *p);
int zonefile_parse(zonefile_parser_t *p, const char *path, const char *text, size_t len,
                   const char *origin, rrlist_t **out, zonefile_error_fn fn, void *ctx);

/* Reads the whole of an open file into *text (malloc'ed, *len octets; hint: its expected size, 0 if
 * unknown). TDM_OK, TDM_ENOMEM, TDM_ESPACE (over 4 GiB) or a negated errno. */
int zonefile_read_fd(int fd, size_t hint, char **text, size_t *len);

/* Opens path, fstat()s it into *sb (when not NULL) before reading it whole. Same returns. */
int zonefile_read(const char *path, char **text, size_t *len, struct stat *sb);

/*
 * Finding the files a zone file $INCLUDEs without parsing it: store/digest.c folds them into the
 * file's digest (so that an edit to an included file counts as an edit of the zone), and
 * zonefile_load() refuses include loops and deep nesting before libzscanner (which follows a loop
 * until it runs out of descriptors, with a scanner of ~400 KiB per level) sees them. The scan is fed
 * the file in pieces of any size and reports every line whose first word is $INCLUDE (any case), with
 * its file name unquoted and unescaped as libzscanner reads it (\X and \DDD). It may report a line
 * libzscanner would not take as a directive (one inside parentheses or a quoted string): a file
 * hashed for nothing costs nothing, a file missed would let an edit go unseen.
 */
#define ZONEFILE_INCLUDE_NAME_MAX 4096
#define ZONEFILE_INCLUDE_DEPTH_MAX 16     /* files nested in one another, the zone file being 0 */
#define ZONEFILE_INCLUDE_FILES_MAX 1024   /* files in all, the zone file included */

/* Called with each file name as written and the line of its directive; a nonzero return stops the
 * scan and is returned by it. */
typedef int (*zonefile_include_fn)(void *ctx, const char *name, unsigned line);

typedef struct {
	int state;
	unsigned line;               /* of the octet being read, from 1 */
	unsigned matched;            /* octets of "$INCLUDE" matched so far */
	unsigned digits, value;      /* a \DDD escape in progress */
	bool escape;
	size_t len;
	char name[ZONEFILE_INCLUDE_NAME_MAX];
} zonefile_include_scan_t;

void zonefile_include_scan_init(zonefile_include_scan_t *s);

/* Feeds the next len octets. Returns 0, fn's nonzero code, or TDM_ESPACE for a file name longer than
 * ZONEFILE_INCLUDE_NAME_MAX - 1 octets (never cut short). */
int zonefile_include_scan(zonefile_include_scan_t *s, const char *buf, size_t len,
                          zonefile_include_fn fn, void *ctx);

/* The end of the file: reports a name on a last line without its newline. Same returns. */
int zonefile_include_scan_end(zonefile_include_scan_t *s, zonefile_include_fn fn, void *ctx);

/* The path libzscanner opens for `$INCLUDE name` in the file `including`: name itself when absolute,
 * else name in the folder of including's real path. TDM_OK, TDM_ESPACE (longer than PATH_MAX) or a
 * negated errno (realpath). */
int zonefile_include_path(const char *including, const char *name, char *out, size_t size);

/*
 * Semantic checks of a zone's records (list, any order) for the zone at apex (wire, lowercase),
 * made on the version built from them (z; NULL = build one here): exactly one SOA, at the apex; NS
 * at the apex; a CNAME beside other data (RFC 1034 3.6.2; RRSIG/NSEC allowed); two CNAMEs at one
 * name; DNAME with names below it; records outside the zone; missing glue for in-zone NS targets
 * below a delegation. Each problem is reported through fn with the line of the record concerned.
 * Returns TDM_OK, TDM_ESEMCHECK when any problem was reported, or TDM_ENOMEM.
 */
int zonefile_check(const rrlist_t *list, const zone_contents_t *z, const uint8_t *apex,
                   const char *file, zonefile_error_fn fn, void *ctx);

/*
 * Writes the sorted list as a standard master file ($ORIGIN-free, absolute names, one record a line,
 * SOA first) that named-checkzone and kzonecheck accept and that zonefile_load reads back into the
 * same records. Returns TDM_OK, TDM_EIO, or TDM_ENOMEM.
 */
int zonefile_dump(const rrlist_t *list, const uint8_t *apex, FILE *out);

/*
 * Parses master-format text held in memory (the API's zone text; records the API is given) for the
 * zone origin: $ORIGIN and $TTL work, $INCLUDE is refused (it would read the server's files), and a
 * record outside the zone is an error, not a notice. Every problem is reported through fn with the
 * file "text" and its line. Returns TDM_OK and *out, TDM_EPARSE when any problem was reported,
 * TDM_EINVAL (a bad origin) or TDM_ENOMEM.
 */
int zonefile_parse_text(const char *text, size_t len, const char *origin, rrlist_t **out,
                        zonefile_error_fn fn, void *ctx);

/* The rdata of one record as master-file text (no owner, TTL, class or type) into out (cap octets,
 * NUL-terminated). Returns its length, TDM_ESPACE when it does not fit, or TDM_ENOMEM. */
int zonefile_rdata_text(uint16_t type, const uint8_t *rdata, uint16_t rdlen, char *out, size_t cap);
