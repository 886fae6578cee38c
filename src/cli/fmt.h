/* cli/fmt.h -- output helpers of the CLI: times relative and in UTC, JSON fields, aligned tables */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define CLI_TIME_MAX 96          /* enough for cli_fmt_when() */

/* A length of time in its two largest units, a zero second one left out: "12 s", "1 min 30 s",
 * "2 min", "1 h 59 min", "13 d 23 h". Negative values count as their magnitude. Returns buf. */
char *cli_fmt_duration(int64_t secs, char *buf, size_t size);

/* t seen from now: "12 s ago", "in 1 h 59 min", "now". Returns buf. */
char *cli_fmt_relative(int64_t t, int64_t now, char *buf, size_t size);

/* "2026-11-26 10:00:00 UTC". Returns buf. */
char *cli_fmt_utc(int64_t t, char *buf, size_t size);

/* Both: "12 s ago (2026-11-26 10:00:00 UTC)". Returns buf. */
char *cli_fmt_when(int64_t t, int64_t now, char *buf, size_t size);

/* The string at key of object o, or dflt when missing, null or not a string. */
const char *cli_json_str(const json_t *o, const char *key, const char *dflt);

/* The number at key (a real is truncated): true with *v, false when missing, null or not a number. */
bool cli_json_int(const json_t *o, const char *key, int64_t *v);

/* The number at key as text, or dflt. Returns buf or dflt. */
const char *cli_json_int_text(const json_t *o, const char *key, const char *dflt, char *buf,
                              size_t size);

/*
 * A table printed with aligned columns, a header line in capitals, two spaces between columns. Cells
 * are copied. Errors are sticky: a failed add is reported by cli_table_print().
 */
#define CLI_TABLE_COLS 8
typedef struct {
	size_t ncols;
	const char *heads[CLI_TABLE_COLS];
	bool right[CLI_TABLE_COLS];       /* right-aligned (numbers) */
	size_t width[CLI_TABLE_COLS];
	char **cells;                     /* nrows * ncols, row by row */
	size_t nrows, cap;
	int error;
} cli_table_t;

/* ncols (at most CLI_TABLE_COLS) columns; heads are not copied. right may be NULL. */
void cli_table_init(cli_table_t *t, size_t ncols, const char *const *heads, const bool *right);

/* Adds a row of ncols cells (a NULL cell prints as "-"). TDM_OK or TDM_ENOMEM. */
int cli_table_add(cli_table_t *t, const char *const *cells);

/* Prints the header and every row. Returns the first error of an add, TDM_EIO, or TDM_OK. */
int cli_table_print(const cli_table_t *t, FILE *out);

void cli_table_free(cli_table_t *t);
