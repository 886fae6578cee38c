/* conf/schema.h -- the configuration schema (one table row per option) and the loader's shared state */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

/* The top-level sections, in the order the tables list them. */
enum conf_sec { SEC_SERVER, SEC_HTTP, SEC_KEYS, SEC_REMOTES, SEC_ACLS, SEC_ZONES, SEC_AUTOPRIMARIES,
                SEC_TEMPLATES, SEC_TLS, SEC_COUNT };

/* Value types; each knows how to turn text into its field (conf/value.c). */
enum conf_type {
	OPT_UINT,      /* unsigned integer within [min, max] */
	OPT_TIME,      /* seconds, with an optional unit: s, m, h, d, w */
	OPT_STR,       /* char * */
	OPT_PATH,      /* char *, relative paths resolved against the config file's folder */
	OPT_DNAME,     /* char *, a domain name, lowercase with the trailing dot */
	OPT_ENUM,      /* one word of `words`, stored as an int */
	OPT_FLAGS,     /* a list of words of `words`, their values ORed into an unsigned */
	OPT_ADDR,      /* one sockaddr_t */
	OPT_ADDRS,     /* sockaddr_t * at off, size_t count at off2 */
	OPT_SOURCE,    /* up to two addresses, one per family: IPv4 at off, IPv6 at off2 */
	OPT_PREFIXES,  /* addr_prefix_t * at off, size_t count at off2 */
	OPT_ALGO,      /* char *, a TSIG algorithm name in its canonical form */
	OPT_SECRET,    /* uint8_t * at off, size_t length at off2, written in base64 */
	OPT_REF,       /* a pointer to one item of section `target`, by name */
	OPT_REFS,      /* a pointer array at off, size_t count at off2 */
	OPT_DNAMES,    /* domain names, lowercase, joined by one space into a char * at off; count at off2 */
};

struct conf_word {
	const char *word;
	unsigned value;
};

#define CONF_REQUIRED 1u   /* an error when missing */
#define CONF_GIVEN 2u      /* OPT_UINT, OPT_TIME: off2 is a bool made true when the key has a value (an
                            * option whose absence means "the server's", where 0 means something) */

/* A string check: returns a problem ("longer than 255 characters") or NULL when fine. */
typedef const char *(*conf_check_fn)(const char *text);

struct conf_row {
	const char *name;
	enum conf_type type;
	size_t off, off2;              /* the field(s) in the section's struct */
	size_t size;                   /* OPT_UINT, OPT_TIME, OPT_ENUM: sizeof the field */
	const char *def;               /* default, written as in the file; NULL = none */
	uint32_t min, max;             /* integer range */
	uint16_t port;                 /* default port of addresses */
	const struct conf_word *words; /* OPT_ENUM, OPT_FLAGS; ends with a NULL word */
	enum conf_sec target;          /* OPT_REF, OPT_REFS */
	unsigned flags;
	conf_check_fn check;
};

#define CONF_ROWS_MAX 64   /* rows of the largest section; schema.c checks each table at compile time */

struct conf_ctx;

/* Cross-field checks of one item, once everything is parsed and references are resolved. */
typedef void (*conf_item_check_fn)(struct conf_ctx *c, size_t i, void *item, const char *path);

struct conf_section {
	const char *name;
	bool list;                     /* a list of items (keys, zones...) or one mapping (server) */
	const struct conf_row *rows;   /* ends with a NULL name; in a list, row 0 is the item's unique name */
	size_t off, off_count;         /* the struct (or array and count) in conf_t */
	size_t item_size;
	conf_item_check_fn check;
};

extern const struct conf_section conf_sections[SEC_COUNT];

/* Lines (1-based) of one item and of each of its keys (0 = absent). */
struct conf_meta {
	int line;
	int at[CONF_ROWS_MAX];
};

/* A name that points at another item, resolved once the whole file is read. */
struct conf_ref {
	const struct conf_row *row;
	void *obj;
	char **names;
	int *lines;
	size_t n;
	char path[96];
};

/* Items of one list section sorted by name, for duplicate checks and look-ups. */
struct conf_index {
	const char *name;
	size_t i;
};

struct conf_ctx {
	conf_t *conf;
	const char *file;              /* for messages */
	const char *base;              /* folder for relative paths; NULL = the current folder */
	int errors;
	bool nomem;
	int sec_line[SEC_COUNT];
	struct conf_meta *meta[SEC_COUNT];
	struct conf_index *index[SEC_COUNT];
	size_t index_count[SEC_COUNT];
	struct conf_ref *refs;
	size_t ref_count, ref_cap;
};

/* A value as written: its text and its line. */
struct conf_val {
	const char *text;
	int line;
};

/* Logs "file:line: message" and counts the error. */
void conf_error(struct conf_ctx *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parses n values (n may be 0 for an empty list) into the field(s) of obj described by row. */
void conf_value_set(struct conf_ctx *c, const struct conf_row *row, void *obj,
                    const struct conf_val *v, size_t n, const char *path);
/* How many values a type takes: 1, 2, or SIZE_MAX for a list. */
size_t conf_value_max(enum conf_type type);
/* "an integer", "an address"...: for "expected ..." messages. */
const char *conf_value_what(enum conf_type type);
/* Frees what the row's field owns and clears it. */
void conf_value_free(const struct conf_row *row, void *obj);

/* Normalises a domain name into out (lowercase, trailing dot). Returns NULL or the problem. */
#define CONF_DNAME_BUF 256
const char *conf_dname_norm(const char *text, char out[CONF_DNAME_BUF]);

/* Records a reference (conf.c) to be resolved once every section is read. */
void conf_ref_add(struct conf_ctx *c, const struct conf_row *row, void *obj,
                  const struct conf_val *v, size_t n, const char *path);

/* The index of an item by name in a list section, or SIZE_MAX. */
size_t conf_ctx_find(const struct conf_ctx *c, enum conf_sec sec, const char *name);
/* The line of a key of item i of a section, or of the item itself when the key is absent. */
/* Whether the item's key was given in the file (even with a value that was refused). */
bool conf_ctx_given(const struct conf_ctx *c, enum conf_sec s, size_t i, const char *key);
int conf_ctx_line(const struct conf_ctx *c, enum conf_sec sec, size_t i, const char *key);
