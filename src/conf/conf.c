/* conf/conf.c -- loads the YAML configuration: walks the document against the schema, then validates */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "conf/schema.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/siphash.h"

/*
 * DESIGN
 * libyaml's document API gives every node its line. Loading runs in four passes, and each reports every
 * problem it finds rather than stopping at the first:
 *   1. walk: each top-level key picks a section, each key of an item picks a row of the section's table
 *      (schema.c), and the row's type (value.c) parses the text into the field; absent rows get their
 *      default, parsed the same way.
 *   2. index: list sections are sorted by name; duplicates are reported.
 *   3. references (a zone's primaries, a remote's key) are resolved to pointers into the final arrays,
 *      which never move once allocated.
 *   4. each section's check looks at what spans several options (a secondary needs primaries...).
 * Any error frees the half-built conf_t; the caller gets TDM_ECONF, or TDM_ENOMEM which takes priority.
 */

#define FIELD(obj, off) ((void *)((char *)(obj) + (off)))

void conf_error(struct conf_ctx *c, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("%s:%d: %s", c->file, line > 0 ? line : 1, msg);
	c->errors++;
}

static int line_of(const yaml_node_t *node)
{
	return (int)node->start_mark.line + 1;
}

static const char *text_of(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* YAML's null: an empty value, "~" or "null"; it means "not given" here. */
static bool is_null(const yaml_node_t *node)
{
	if (node == NULL)
		return true;
	if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = text_of(node);
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	       strcmp(s, "NULL") == 0;
}

static bool scalar_ok(struct conf_ctx *c, const yaml_node_t *node, const char *path)
{
	if (strlen(text_of(node)) == node->data.scalar.length)
		return true;
	conf_error(c, line_of(node), "%s: the value contains a NUL character", path);
	return false;
}

static void *get_ptr(const void *obj, size_t off)
{
	void *p;
	memcpy(&p, (const char *)obj + off, sizeof(p));
	return p;
}

static size_t section_count(const struct conf_ctx *c, enum conf_sec s)
{
	size_t n;
	memcpy(&n, (const char *)c->conf + conf_sections[s].off_count, sizeof(n));
	return n;
}

static void *section_item(const struct conf_ctx *c, enum conf_sec s, size_t i)
{
	const struct conf_section *sec = &conf_sections[s];
	if (!sec->list)
		return FIELD(c->conf, sec->off);
	return (char *)get_ptr(c->conf, sec->off) + i * sec->item_size;
}

static int find_row(const struct conf_row *rows, const char *name)
{
	for (int r = 0; rows[r].name != NULL; r++)
		if (strcmp(rows[r].name, name) == 0)
			return r;
	return -1;
}

/* A list element must be one plain value. */
static bool element_ok(struct conf_ctx *c, const yaml_node_t *node, const char *path, size_t i)
{
	if (node != NULL && node->type == YAML_SCALAR_NODE && !is_null(node))
		return scalar_ok(c, node, path);
	conf_error(c, node ? line_of(node) : 0, "%s[%zu]: expected a single value here, not %s", path, i,
	           node == NULL || node->type == YAML_SCALAR_NODE ? "an empty one" :
	           node->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
	return false;
}

static void set_list(struct conf_ctx *c, yaml_document_t *doc, const struct conf_row *row, void *obj,
                     yaml_node_t *node, const char *path)
{
	size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (n > conf_value_max(row->type)) {
		conf_error(c, line_of(node), "%s: at most %zu values", path, conf_value_max(row->type));
		return;
	}
	struct conf_val *v = calloc(n ? n : 1, sizeof(*v));
	if (v == NULL) {
		c->nomem = true;
		return;
	}
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_document_get_node(doc, node->data.sequence.items.start[i]);
		if (!element_ok(c, item, path, i)) {
			ok = false;
			continue;
		}
		v[i] = (struct conf_val){ text_of(item), line_of(item) };
	}
	if (ok)
		conf_value_set(c, row, obj, v, n, path);
	free(v);
}

/* One key's value: a scalar, or a list where the row's type takes several values. */
static void set_row(struct conf_ctx *c, yaml_document_t *doc, const struct conf_row *row, void *obj,
                    yaml_node_t *node, const char *path)
{
	if (node->type == YAML_SCALAR_NODE) {
		struct conf_val v = { text_of(node), line_of(node) };
		if (scalar_ok(c, node, path))
			conf_value_set(c, row, obj, &v, 1, path);
	} else if (node->type == YAML_SEQUENCE_NODE && conf_value_max(row->type) > 1) {
		set_list(c, doc, row, obj, node, path);
	} else {
		conf_error(c, line_of(node), "%s: expected %s, not a %s", path, conf_value_what(row->type),
		           node->type == YAML_MAPPING_NODE ? "mapping" : "list");
	}
}

static void apply_defaults(struct conf_ctx *c, const struct conf_row *rows, void *obj,
                           const struct conf_meta *meta, const bool *given, const char *path)
{
	for (int r = 0; rows[r].name != NULL; r++) {
		if (given[r])
			continue;
		if (rows[r].def != NULL) {
			struct conf_val v = { rows[r].def, meta->line };
			conf_value_set(c, &rows[r], obj, &v, 1, path);
		} else if (rows[r].flags & CONF_REQUIRED) {
			conf_error(c, meta->line, "%s: missing '%s'", path, rows[r].name);
		}
	}
}

/* The keys of one mapping (the server section, or one zone) against the section's rows. */
static void parse_item(struct conf_ctx *c, yaml_document_t *doc, const struct conf_row *rows,
                       void *obj, struct conf_meta *meta, yaml_node_t *node, const char *path)
{
	bool given[CONF_ROWS_MAX] = { false };
	for (yaml_node_pair_t *p = node ? node->data.mapping.pairs.start : NULL;
	     p != NULL && p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *key = yaml_document_get_node(doc, p->key);
		yaml_node_t *value = yaml_document_get_node(doc, p->value);
		int r = key->type == YAML_SCALAR_NODE ? find_row(rows, text_of(key)) : -1;
		if (r < 0) {
			conf_error(c, line_of(key), "%s: unknown key '%s'", path,
			           key->type == YAML_SCALAR_NODE ? text_of(key) : "(not a string)");
			continue;
		}
		if (meta->at[r] != 0) {
			conf_error(c, line_of(key), "%s.%s: given twice (first at line %d)", path,
			           rows[r].name, meta->at[r]);
			continue;
		}
		meta->at[r] = line_of(key);
		if (is_null(value))
			continue;
		given[r] = true;
		char sub[128];
		snprintf(sub, sizeof(sub), "%s.%s", path, rows[r].name);
		set_row(c, doc, &rows[r], obj, value, sub);
	}
	apply_defaults(c, rows, obj, meta, given, path);
}

static void parse_list(struct conf_ctx *c, yaml_document_t *doc, enum conf_sec s, yaml_node_t *node)
{
	const struct conf_section *sec = &conf_sections[s];
	size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (n == 0)
		return;
	void *items = calloc(n, sec->item_size);
	c->meta[s] = calloc(n, sizeof(struct conf_meta));
	if (items == NULL || c->meta[s] == NULL) {
		free(items);
		c->nomem = true;
		return;
	}
	memcpy(FIELD(c->conf, sec->off), &items, sizeof(items));
	memcpy(FIELD(c->conf, sec->off_count), &n, sizeof(n));
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_document_get_node(doc, node->data.sequence.items.start[i]);
		char path[32];
		snprintf(path, sizeof(path), "%s[%zu]", sec->name, i);
		c->meta[s][i].line = line_of(item);
		if (item->type != YAML_MAPPING_NODE) {
			conf_error(c, line_of(item), "%s: expected a mapping (name: ...)", path);
			continue;
		}
		parse_item(c, doc, sec->rows, section_item(c, s, i), &c->meta[s][i], item, path);
	}
}

static void parse_section(struct conf_ctx *c, yaml_document_t *doc, enum conf_sec s, yaml_node_t *node)
{
	const struct conf_section *sec = &conf_sections[s];
	yaml_node_type_t want = sec->list ? YAML_SEQUENCE_NODE : YAML_MAPPING_NODE;
	if (!is_null(node) && node->type != want) {
		conf_error(c, line_of(node), "%s: expected %s", sec->name,
		           sec->list ? "a list (- name: ...)" : "a mapping (key: value)");
		node = NULL;
	}
	if (sec->list) {
		if (!is_null(node))
			parse_list(c, doc, s, node);
		return;
	}
	/* A mapping section is always filled, if only with its defaults. */
	c->meta[s] = calloc(1, sizeof(struct conf_meta));
	if (c->meta[s] == NULL) {
		c->nomem = true;
		return;
	}
	c->meta[s]->line = c->sec_line[s];
	parse_item(c, doc, sec->rows, section_item(c, s, 0), c->meta[s], is_null(node) ? NULL : node,
	           sec->name);
}

static int find_section(const char *name)
{
	for (int s = 0; s < SEC_COUNT; s++)
		if (strcmp(conf_sections[s].name, name) == 0)
			return s;
	return -1;
}

static void walk(struct conf_ctx *c, yaml_document_t *doc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_t *found[SEC_COUNT] = { NULL };
	if (!is_null(root) && root->type != YAML_MAPPING_NODE) {
		conf_error(c, line_of(root), "expected a mapping at the top (server:, zones: ...)");
		root = NULL;
	}
	for (yaml_node_pair_t *p = is_null(root) ? NULL : root->data.mapping.pairs.start;
	     p != NULL && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *key = yaml_document_get_node(doc, p->key);
		int s = key->type == YAML_SCALAR_NODE ? find_section(text_of(key)) : -1;
		if (s < 0) {
			conf_error(c, line_of(key), "unknown key '%s' (server, http, keys, remotes, acls, zones)",
			           key->type == YAML_SCALAR_NODE ? text_of(key) : "(not a string)");
		} else if (c->sec_line[s] != 0) {
			conf_error(c, line_of(key), "%s: given twice (first at line %d)", text_of(key),
			           c->sec_line[s]);
		} else {
			c->sec_line[s] = line_of(key);
			found[s] = yaml_document_get_node(doc, p->value);
		}
	}
	for (int s = 0; s < SEC_COUNT && !c->nomem; s++)
		parse_section(c, doc, (enum conf_sec)s, found[s]);
}

/* "zones" -> "zone", for messages ("tls" stays). */
static int noun_len(enum conf_sec s)
{
	return (int)strlen(conf_sections[s].name) - (s == SEC_TLS ? 0 : 1);
}

static int index_cmp(const void *a, const void *b)
{
	const struct conf_index *x = a, *y = b;
	int d = strcmp(x->name, y->name);
	return d != 0 ? d : (x->i > y->i) - (x->i < y->i);
}

static void build_index(struct conf_ctx *c, enum conf_sec s)
{
	const struct conf_section *sec = &conf_sections[s];
	size_t n = section_count(c, s), k = 0;
	struct conf_index *ix = calloc(n ? n : 1, sizeof(*ix));
	if (ix == NULL) {
		c->nomem = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = get_ptr(section_item(c, s, i), sec->rows[0].off);
		if (name != NULL)
			ix[k++] = (struct conf_index){ name, i };
	}
	qsort(ix, k, sizeof(*ix), index_cmp);
	for (size_t j = 1; j < k; j++) {
		if (strcmp(ix[j - 1].name, ix[j].name) != 0)
			continue;
		conf_error(c, conf_ctx_line(c, s, ix[j].i, "name"), "%s[%zu].name: duplicate %.*s '%s' "
		           "(first at line %d)", sec->name, ix[j].i, noun_len(s), sec->name, ix[j].name,
		           conf_ctx_line(c, s, ix[j - 1].i, "name"));
	}
	c->index[s] = ix;
	c->index_count[s] = k;
}

size_t conf_ctx_find(const struct conf_ctx *c, enum conf_sec s, const char *name)
{
	char norm[CONF_DNAME_BUF];
	if (conf_sections[s].rows[0].type == OPT_DNAME) {
		if (conf_dname_norm(name, norm) != NULL)
			return SIZE_MAX;
		name = norm;
	}
	struct conf_index key = { name, 0 }, *ix = c->index[s];
	size_t lo = 0, hi = c->index_count[s];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(ix[mid].name, key.name);
		if (d == 0)
			return ix[mid].i;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

int conf_ctx_line(const struct conf_ctx *c, enum conf_sec s, size_t i, const char *key)
{
	const struct conf_meta *m = c->meta[s] ? &c->meta[s][i] : NULL;
	if (m == NULL)
		return c->sec_line[s];
	int r = key ? find_row(conf_sections[s].rows, key) : -1;
	return r >= 0 && m->at[r] != 0 ? m->at[r] : m->line;
}

bool conf_ctx_given(const struct conf_ctx *c, enum conf_sec s, size_t i, const char *key)
{
	const struct conf_meta *m = c->meta[s] ? &c->meta[s][i] : NULL;
	int r = find_row(conf_sections[s].rows, key);
	return m != NULL && r >= 0 && m->at[r] != 0;
}

void conf_ref_add(struct conf_ctx *c, const struct conf_row *row, void *obj,
                  const struct conf_val *v, size_t n, const char *path)
{
	if (c->ref_count == c->ref_cap) {
		size_t cap = c->ref_cap ? c->ref_cap * 2 : 16;
		struct conf_ref *refs = realloc(c->refs, cap * sizeof(*refs));
		if (refs == NULL) {
			c->nomem = true;
			return;
		}
		c->refs = refs;
		c->ref_cap = cap;
	}
	struct conf_ref *f = &c->refs[c->ref_count++];
	*f = (struct conf_ref){ .row = row, .obj = obj };
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->names = calloc(n ? n : 1, sizeof(*f->names));
	f->lines = calloc(n ? n : 1, sizeof(*f->lines));
	if (f->names == NULL || f->lines == NULL) {
		c->nomem = true;
		return;
	}
	f->n = n;
	for (size_t i = 0; i < n; i++) {
		f->names[i] = strdup(v[i].text);
		f->lines[i] = v[i].line;
		if (f->names[i] == NULL)
			c->nomem = true;
	}
}

/* Typed stores, so each pointer array holds pointers of its declared type. */
static void put_ptr(conf_t *cf, enum conf_sec s, void *arr, size_t i, size_t k)
{
	switch (s) {
	case SEC_KEYS: ((const conf_key_t **)arr)[i] = &cf->keys[k]; break;
	case SEC_REMOTES: ((const conf_remote_t **)arr)[i] = &cf->remotes[k]; break;
	case SEC_ACLS: ((const conf_acl_t **)arr)[i] = &cf->acls[k]; break;
	case SEC_ZONES: ((const conf_zone_t **)arr)[i] = &cf->zones[k]; break;
	case SEC_TLS: ((const conf_tls_t **)arr)[i] = &cf->tls[k]; break;
	default: break;
	}
}

static void resolve(struct conf_ctx *c, const struct conf_ref *f)
{
	enum conf_sec t = f->row->target;
	bool list = f->row->type == OPT_REFS;
	size_t *found = calloc(f->n ? f->n : 1, sizeof(*found));
	void *arr = list ? calloc(f->n ? f->n : 1, sizeof(void *)) : FIELD(f->obj, f->row->off);
	if (arr == NULL || found == NULL) {
		if (list)
			free(arr);
		free(found);
		c->nomem = true;
		return;
	}
	for (size_t i = 0; i < f->n && f->names[i] != NULL; i++) {
		found[i] = conf_ctx_find(c, t, f->names[i]);
		if (found[i] == SIZE_MAX)
			conf_error(c, f->lines[i], "%s: unknown %.*s '%s'", f->path, noun_len(t),
			           conf_sections[t].name, f->names[i]);
		else
			put_ptr(c->conf, t, arr, i, found[i]);
		for (size_t j = 0; j < i && found[i] != SIZE_MAX; j++)
			if (found[j] == found[i])
				conf_error(c, f->lines[i], "%s: '%s' is listed twice", f->path, f->names[i]);
	}
	if (list) {
		memcpy(FIELD(f->obj, f->row->off), &arr, sizeof(arr));
		memcpy(FIELD(f->obj, f->row->off2), &f->n, sizeof(f->n));
	}
	free(found);
}

static void check_all(struct conf_ctx *c)
{
	for (int s = 0; s < SEC_COUNT; s++) {
		const struct conf_section *sec = &conf_sections[s];
		size_t n = sec->list ? section_count(c, (enum conf_sec)s) : 1;
		for (size_t i = 0; sec->check != NULL && i < n && !c->nomem; i++) {
			char path[32];
			if (sec->list)
				snprintf(path, sizeof(path), "%s[%zu]", sec->name, i);
			else
				snprintf(path, sizeof(path), "%s", sec->name);
			sec->check(c, i, section_item(c, (enum conf_sec)s, i), path);
		}
	}
}

static void finish(struct conf_ctx *c)
{
	for (int s = 0; s < SEC_COUNT && !c->nomem; s++)
		if (conf_sections[s].list)
			build_index(c, (enum conf_sec)s);
	for (size_t i = 0; i < c->ref_count && !c->nomem; i++)
		resolve(c, &c->refs[i]);
	if (!c->nomem)
		check_all(c);
}

/* libyaml's reader errors carry an offset, the others a mark. */
static void syntax_error(struct conf_ctx *c, const yaml_parser_t *p, const char *text, size_t len)
{
	if (p->error == YAML_MEMORY_ERROR) {
		c->nomem = true;
		return;
	}
	int line = (int)p->problem_mark.line + 1;
	if (p->error == YAML_READER_ERROR) {
		line = 1;
		for (size_t i = 0; i < p->problem_offset && i < len; i++)
			line += text[i] == '\n';
	}
	const char *problem = p->problem ? p->problem : "unknown problem";
	if (p->context != NULL)
		conf_error(c, line, "YAML syntax error: %s (%s at line %d)", problem, p->context,
		           (int)p->context_mark.line + 1);
	else
		conf_error(c, line, "YAML syntax error: %s", problem);
}

/* Returns whether a document was read and walked. */
static bool parse_text(struct conf_ctx *c, const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&p)) {
		c->nomem = true;
		return false;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	bool ok = yaml_parser_load(&p, &doc);
	if (!ok) {
		syntax_error(c, &p, text, len);
	} else {
		walk(c, &doc);
		yaml_document_delete(&doc);
		if (!yaml_parser_load(&p, &doc)) {
			syntax_error(c, &p, text, len);
		} else {
			yaml_node_t *root = yaml_document_get_root_node(&doc);
			if (root != NULL)
				conf_error(c, line_of(root), "a second YAML document; the file holds only one");
			yaml_document_delete(&doc);
		}
	}
	yaml_parser_delete(&p);
	return ok;
}

static void ctx_free(struct conf_ctx *c)
{
	for (int s = 0; s < SEC_COUNT; s++) {
		free(c->meta[s]);
		free(c->index[s]);
	}
	for (size_t i = 0; i < c->ref_count; i++) {
		for (size_t j = 0; c->refs[i].names != NULL && j < c->refs[i].n; j++)
			free(c->refs[i].names[j]);
		free(c->refs[i].names);
		free(c->refs[i].lines);
	}
	free(c->refs);
}

static uint64_t text_hash(const char *text, size_t len)
{
	return siphash13(siphash_table_key(), (const uint8_t *)text, len, false);
}

/* The zones' index (build_index: sorted by name, every zone named once the load has no error) kept as
 * conf_t.zone_order. */
static void keep_zone_order(struct conf_ctx *c)
{
	size_t n = c->index_count[SEC_ZONES];
	if (c->index[SEC_ZONES] == NULL || n != c->conf->zone_count)
		return;
	size_t *order = malloc((n ? n : 1) * sizeof(*order));
	if (order == NULL) {
		c->nomem = true;
		return;
	}
	for (size_t j = 0; j < n; j++)
		order[j] = c->index[SEC_ZONES][j].i;
	c->conf->zone_order = order;
}

/* hash: text_hash(text, len), which a reload has already taken. */
static int load(const char *text, size_t len, uint64_t hash, const char *file, const char *base,
                conf_t **out)
{
	struct conf_ctx c = { .file = file, .base = base };
	*out = NULL;
	c.conf = calloc(1, sizeof(*c.conf));
	if (c.conf == NULL)
		return TDM_ENOMEM;
	c.conf->refs = 1;
	c.conf->text_len = len;
	c.conf->text_hash = hash;
	c.conf->path = strdup(file);
	if (c.conf->path == NULL)
		c.nomem = true;
	else if (parse_text(&c, text, len) && !c.nomem)
		finish(&c);
	if (!c.nomem && c.errors == 0)
		keep_zone_order(&c);
	ctx_free(&c);
	int ret = c.nomem ? TDM_ENOMEM : c.errors > 0 ? TDM_ECONF : TDM_OK;
	if (c.nomem)
		log_err("%s: out of memory while loading the configuration", file);
	if (ret != TDM_OK)
		conf_free(c.conf);
	else
		*out = c.conf;
	return ret;
}

int conf_load_string(const char *text, const char *name, conf_t **out)
{
	size_t len = strlen(text);
	return load(text, len, text_hash(text, len), name ? name : "(default)", NULL, out);
}

static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		char *bigger = realloc(buf, cap * 2);
		if (bigger == NULL)
			free(buf);
		buf = bigger;
		cap *= 2;
	}
	int ret = buf == NULL ? TDM_ENOMEM : ferror(f) ? TDM_EIO : TDM_OK;
	fclose(f);
	if (ret != TDM_OK)
		free(buf);
	*text = ret == TDM_OK ? buf : NULL;
	*len = n;
	return ret;
}

/* The folder of path; NULL for the current folder ("tandem.yaml"), or on failure (*nomem). */
static char *dir_of(const char *path, bool *nomem)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return NULL;
	char *dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	*nomem = dir == NULL;
	return dir;
}

int conf_load(const char *path, conf_t **out)
{
	return conf_reload(path, NULL, out);
}

int conf_reload(const char *path, conf_t *prev, conf_t **out)
{
	char *text = NULL;
	size_t len = 0;
	bool nomem = false;
	*out = NULL;
	int ret = read_file(path, &text, &len);
	if (ret != TDM_OK) {
		log_err("%s: cannot read the configuration: %s", path, tdm_strerror(ret));
		return ret;
	}
	uint64_t hash = text_hash(text, len);
	if (prev != NULL && prev->path != NULL && strcmp(prev->path, path) == 0 && prev->text_len == len &&
	    prev->text_hash == hash) {
		free(text);
		*out = conf_ref(prev);
		return TDM_OK;
	}
	char *base = dir_of(path, &nomem);
	ret = nomem ? TDM_ENOMEM : load(text, len, hash, path, base, out);
	free(base);
	free(text);
	return ret;
}

conf_t *conf_ref(conf_t *conf)
{
	conf->refs++;
	return conf;
}

static void free_rows(const struct conf_row *rows, void *obj)
{
	for (int r = 0; rows[r].name != NULL; r++)
		conf_value_free(&rows[r], obj);
}

void conf_free(conf_t *conf)
{
	if (conf == NULL || --conf->refs > 0)
		return;
	for (int s = 0; s < SEC_COUNT; s++) {
		const struct conf_section *sec = &conf_sections[s];
		if (!sec->list) {
			free_rows(sec->rows, FIELD(conf, sec->off));
			continue;
		}
		char *items = get_ptr(conf, sec->off);
		size_t n;
		memcpy(&n, FIELD(conf, sec->off_count), sizeof(n));
		for (size_t i = 0; items != NULL && i < n; i++)
			free_rows(sec->rows, items + i * sec->item_size);
		free(items);
	}
	free(conf->zone_order);
	free(conf->path);
	free(conf);
}

const conf_zone_t *conf_zone_find(const conf_t *conf, const char *name)
{
	char norm[CONF_DNAME_BUF];
	if (conf == NULL || name == NULL || conf_dname_norm(name, norm) != NULL)
		return NULL;
	if (conf->zone_order != NULL) {
		size_t lo = 0, hi = conf->zone_count;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const conf_zone_t *cz = &conf->zones[conf->zone_order[mid]];
			int d = strcmp(cz->name, norm);
			if (d == 0)
				return cz;
			if (d < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return NULL;
	}
	for (size_t i = 0; i < conf->zone_count; i++)
		if (conf->zones[i].name != NULL && strcmp(conf->zones[i].name, norm) == 0)
			return &conf->zones[i];
	return NULL;
}

const conf_key_t *conf_key_find(const conf_t *conf, const char *name)
{
	char norm[CONF_DNAME_BUF];
	if (conf == NULL || name == NULL || conf_dname_norm(name, norm) != NULL)
		return NULL;
	for (size_t i = 0; i < conf->key_count; i++)
		if (conf->keys[i].name != NULL && strcmp(conf->keys[i].name, norm) == 0)
			return &conf->keys[i];
	return NULL;
}

const conf_template_t *conf_template_find(const conf_t *conf, const char *group)
{
	for (size_t i = 0; conf != NULL && group != NULL && i < conf->template_count; i++)
		if (strcmp(conf->templates[i].name, group) == 0)
			return &conf->templates[i];
	return NULL;
}
