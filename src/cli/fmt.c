/* cli/fmt.c -- output helpers of the CLI: times relative and in UTC, JSON fields, aligned tables */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/fmt.h"
#include "lib/error.h"

/* ---- times ---- */

char *cli_fmt_duration(int64_t secs, char *buf, size_t size)
{
	static const struct { int64_t secs; const char *name; } units[] = {
		{ 86400, "d" }, { 3600, "h" }, { 60, "min" }, { 1, "s" },
	};
	uint64_t left = secs < 0 ? (uint64_t)0 - (uint64_t)secs : (uint64_t)secs;
	size_t u = 0;
	while (u < 3 && left < (uint64_t)units[u].secs)
		u++;
	uint64_t big = left / (uint64_t)units[u].secs;
	if (u == 3) {
		snprintf(buf, size, "%" PRIu64 " s", big);
		return buf;
	}
	uint64_t small = left % (uint64_t)units[u].secs / (uint64_t)units[u + 1].secs;
	if (small == 0)
		snprintf(buf, size, "%" PRIu64 " %s", big, units[u].name);
	else
		snprintf(buf, size, "%" PRIu64 " %s %" PRIu64 " %s", big, units[u].name, small,
		         units[u + 1].name);
	return buf;
}

char *cli_fmt_relative(int64_t t, int64_t now, char *buf, size_t size)
{
	char d[48];
	if (t == now)
		snprintf(buf, size, "now");
	else if (t < now)
		snprintf(buf, size, "%s ago", cli_fmt_duration(now - t, d, sizeof(d)));
	else
		snprintf(buf, size, "in %s", cli_fmt_duration(t - now, d, sizeof(d)));
	return buf;
}

char *cli_fmt_utc(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, size, "@%" PRId64, t);
	return buf;
}

char *cli_fmt_when(int64_t t, int64_t now, char *buf, size_t size)
{
	char rel[48], abs[48];
	snprintf(buf, size, "%s (%s)", cli_fmt_relative(t, now, rel, sizeof(rel)),
	         cli_fmt_utc(t, abs, sizeof(abs)));
	return buf;
}

/* ---- JSON fields ---- */

const char *cli_json_str(const json_t *o, const char *key, const char *dflt)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : dflt;
}

bool cli_json_int(const json_t *o, const char *key, int64_t *v)
{
	json_t *j = json_is_object(o) ? json_object_get(o, key) : NULL;
	if (json_is_integer(j)) {
		*v = (int64_t)json_integer_value(j);
		return true;
	}
	/* Bounds first: converting a real outside int64_t would be undefined. */
	if (json_is_real(j) && json_real_value(j) > -9.2e18 && json_real_value(j) < 9.2e18) {
		*v = (int64_t)json_real_value(j);
		return true;
	}
	return false;
}

const char *cli_json_int_text(const json_t *o, const char *key, const char *dflt, char *buf,
                              size_t size)
{
	int64_t v;
	if (!cli_json_int(o, key, &v))
		return dflt;
	snprintf(buf, size, "%" PRId64, v);
	return buf;
}

/* ---- tables ---- */

void cli_table_init(cli_table_t *t, size_t ncols, const char *const *heads, const bool *right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols < CLI_TABLE_COLS ? ncols : CLI_TABLE_COLS;
	for (size_t c = 0; c < t->ncols; c++) {
		t->heads[c] = heads[c];
		t->right[c] = right != NULL && right[c];
		t->width[c] = strlen(heads[c]);
	}
}

static int reserve(cli_table_t *t)
{
	if (t->nrows < t->cap)
		return TDM_OK;
	size_t cap = t->cap == 0 ? 16 : t->cap * 2;
	if (cap > SIZE_MAX / (t->ncols * sizeof(char *)))
		return TDM_ENOMEM;
	char **cells = realloc(t->cells, cap * t->ncols * sizeof(char *));
	if (cells == NULL)
		return TDM_ENOMEM;
	t->cells = cells;
	t->cap = cap;
	return TDM_OK;
}

int cli_table_add(cli_table_t *t, const char *const *cells)
{
	if (t->error != TDM_OK)
		return t->error;
	if ((t->error = reserve(t)) != TDM_OK)
		return t->error;
	char **row = t->cells + t->nrows * t->ncols;
	for (size_t c = 0; c < t->ncols; c++) {
		row[c] = strdup(cells[c] != NULL ? cells[c] : "-");
		if (row[c] == NULL) {
			while (c-- > 0)
				free(row[c]);
			return t->error = TDM_ENOMEM;
		}
		size_t w = strlen(row[c]);
		if (w > t->width[c])
			t->width[c] = w;
	}
	t->nrows++;
	return TDM_OK;
}

/* Aligned cells; nothing after the last non-empty one, so no line ends in spaces. */
static void print_row(const cli_table_t *t, FILE *out, const char *const *cells)
{
	size_t last = 0;
	for (size_t c = 0; c < t->ncols; c++) {
		if (cells[c][0] != '\0')
			last = c;
	}
	for (size_t c = 0; c <= last; c++) {
		int w = (int)t->width[c];
		if (t->right[c])
			fprintf(out, "%*s", w, cells[c]);
		else
			fprintf(out, "%-*s", c == last ? 0 : w, cells[c]);
		fputs(c == last ? "\n" : "  ", out);
	}
}

int cli_table_print(const cli_table_t *t, FILE *out)
{
	if (t->error != TDM_OK)
		return t->error;
	print_row(t, out, t->heads);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(t, out, (const char *const *)(t->cells + r * t->ncols));
	return ferror(out) ? TDM_EIO : TDM_OK;
}

void cli_table_free(cli_table_t *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}
