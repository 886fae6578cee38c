/* cli/importconf.c -- `tandem import-config`: the model the readers fill, tandem.yaml written from it */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/importconf.h"
#include "cli/opts.h"
#include "lib/error.h"

#define IC_EXIT_PARTIAL 3

/* ---- the model ---- */

static void *grow(ic_conf_t *ic, void *array, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return array;
	size_t want = *cap ? *cap * 2 : 8;
	void *p = want < ((size_t)1 << 24) ? realloc(array, want * size) : NULL;
	if (p == NULL) {
		ic->oom = true;
		return NULL;
	}
	memset((char *)p + *cap * size, 0, (want - *cap) * size);
	*cap = want;
	return p;
}

static void pool_add(ic_conf_t *ic, char *s)
{
	char **v = grow(ic, ic->pool.v, &ic->pool.cap, ic->pool.n, sizeof(char *));
	if (v == NULL) {
		free(s);
		return;
	}
	ic->pool.v = v;
	ic->pool.v[ic->pool.n++] = s;
}

char *ic_strndup(ic_conf_t *ic, const char *s, size_t n)
{
	char *p = n == (size_t)-1 ? strdup(s) : strndup(s, n);
	if (p == NULL) {
		ic->oom = true;
		return (char *)"";
	}
	size_t before = ic->pool.n;
	pool_add(ic, p);
	return ic->pool.n > before ? p : (char *)"";
}

char *ic_strdup(ic_conf_t *ic, const char *s)
{
	return ic_strndup(ic, s, (size_t)-1);
}

char *ic_printf(ic_conf_t *ic, const char *fmt, ...)
{
	char *p = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0) {
		ic->oom = true;
		return (char *)"";
	}
	size_t before = ic->pool.n;
	pool_add(ic, p);
	return ic->pool.n > before ? p : (char *)"";
}

void ic_push(ic_conf_t *ic, ic_strs_t *list, const char *s)
{
	if (ic_has(list, s))
		return;
	char **v = grow(ic, list->v, &list->cap, list->n, sizeof(char *));
	if (v == NULL)
		return;
	list->v = v;
	list->v[list->n++] = ic_strdup(ic, s);
}

bool ic_has(const ic_strs_t *list, const char *s)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->v[i], s) == 0)
			return true;
	return false;
}

ic_key_t *ic_key_new(ic_conf_t *ic)
{
	size_t cap = ic->nkeys;   /* exact growth: capacity is not kept for these small arrays */
	ic_key_t *v = realloc(ic->keys, (cap + 1) * sizeof(*v));
	if (v == NULL) {
		ic->oom = true;
		return NULL;
	}
	ic->keys = v;
	memset(&v[ic->nkeys], 0, sizeof(*v));
	return &v[ic->nkeys++];
}

ic_acl_t *ic_acl_new(ic_conf_t *ic, const char *name)
{
	ic_acl_t *v = realloc(ic->acls, (ic->nacls + 1) * sizeof(*v));
	if (v == NULL) {
		ic->oom = true;
		return NULL;
	}
	ic->acls = v;
	memset(&v[ic->nacls], 0, sizeof(*v));
	v[ic->nacls].name = ic_strdup(ic, name);
	return &v[ic->nacls++];
}

ic_zone_t *ic_zone_new(ic_conf_t *ic, const char *name)
{
	ic_zone_t *v = realloc(ic->zones, (ic->nzones + 1) * sizeof(*v));
	if (v == NULL) {
		ic->oom = true;
		return NULL;
	}
	ic->zones = v;
	memset(&v[ic->nzones], 0, sizeof(*v));
	v[ic->nzones].name = ic_strdup(ic, name);
	return &v[ic->nzones++];
}

ic_remote_t *ic_remote_find(ic_conf_t *ic, const char *name)
{
	for (size_t i = 0; i < ic->nremotes; i++)
		if (strcmp(ic->remotes[i].name, name) == 0)
			return &ic->remotes[i];
	return NULL;
}

ic_acl_t *ic_acl_find(ic_conf_t *ic, const char *name)
{
	for (size_t i = 0; i < ic->nacls; i++)
		if (strcmp(ic->acls[i].name, name) == 0)
			return &ic->acls[i];
	return NULL;
}

ic_remote_t *ic_remote_new(ic_conf_t *ic, const char *name)
{
	ic_remote_t *v = realloc(ic->remotes, (ic->nremotes + 1) * sizeof(*v));
	if (v == NULL) {
		ic->oom = true;
		return NULL;
	}
	ic->remotes = v;
	memset(&v[ic->nremotes], 0, sizeof(*v));
	v[ic->nremotes].name = ic_strdup(ic, name);
	return &v[ic->nremotes++];
}

const char *ic_remote_for(ic_conf_t *ic, const char *base, const char *addr, const char *key)
{
	for (size_t i = 0; i < ic->nremotes; i++) {
		ic_remote_t *r = &ic->remotes[i];
		bool same_key = (r->key == NULL && key == NULL) ||
		                (r->key != NULL && key != NULL && strcmp(r->key, key) == 0);
		if (r->addresses.n == 1 && strcmp(r->addresses.v[0], addr) == 0 && same_key)
			return r->name;
	}
	const char *name = base;
	for (unsigned n = 2; ic_remote_find(ic, name) != NULL; n++)
		name = ic_printf(ic, "%s%u", base, n);
	ic_remote_t *r = ic_remote_new(ic, name);
	if (r == NULL)
		return NULL;
	ic_push(ic, &r->addresses, addr);
	r->key = key != NULL ? ic_strdup(ic, key) : NULL;
	return r->name;
}

static bool same_strs(const ic_strs_t *a, const ic_strs_t *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!ic_has(b, a->v[i]))
			return false;
	return true;
}

const char *ic_acl_for(ic_conf_t *ic, const ic_strs_t *addresses, const char *key, unsigned allow)
{
	ic_strs_t keys = { 0 };
	const char *name = NULL;
	if (key != NULL)
		ic_push(ic, &keys, key);
	for (size_t i = 0; i < ic->nacls && name == NULL; i++) {
		ic_acl_t *a = &ic->acls[i];
		if (a->allow == allow && same_strs(&a->addresses, addresses) && same_strs(&a->keys, &keys))
			name = a->name;
	}
	if (name == NULL) {
		const char *fresh = ic_printf(ic, "acl%zu", ic->nacls + 1);
		for (unsigned n = 2; ic_acl_find(ic, fresh) != NULL; n++)
			fresh = ic_printf(ic, "acl%zu-%u", ic->nacls + 1, n);
		ic_acl_t *a = ic_acl_new(ic, fresh);
		if (a != NULL) {
			for (size_t i = 0; i < addresses->n; i++)
				ic_push(ic, &a->addresses, addresses->v[i]);
			if (key != NULL)
				ic_push(ic, &a->keys, key);
			a->allow = allow;
			name = a->name;
		}
	}
	free(keys.v);
	return name;
}

static void report(ic_conf_t *ic, const char *what, const char *file, int line, const char *fmt,
                   va_list ap)
{
	char msg[IC_LINE_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(ic->err, "%s:%d: %s%s\n", file, line > 0 ? line : 1, what, msg);
}

void ic_unmapped(ic_conf_t *ic, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(ic, "not mapped: ", file, line, fmt, ap);
	va_end(ap);
	ic->unmapped++;
}

void ic_error(ic_conf_t *ic, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(ic, "", file, line, fmt, ap);
	va_end(ap);
	ic->failed = true;
}

int ic_read_file(ic_conf_t *ic, const char *path, const char *from, int from_line, char **out,
                 size_t *len)
{
	struct stat sb;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > IC_INPUT_MAX) {
		int ret = fd < 0 ? -errno : TDM_EINVAL;
		const char *why = fd < 0 ? tdm_strerror(ret) : "not a regular file of at most 4 MiB";
		if (fd >= 0)
			close(fd);
		if (from != NULL)
			ic_error(ic, from, from_line, "cannot read %s: %s", path, why);
		else
			ic_error(ic, path, 0, "cannot read: %s", why);
		return ret;
	}
	char *buf = malloc((size_t)sb.st_size + 1);
	size_t got = 0;
	while (buf != NULL && got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (buf == NULL) {
		ic->oom = true;
		return TDM_ENOMEM;
	}
	buf[got] = '\0';
	if (memchr(buf, '\0', got) != NULL) {
		free(buf);
		ic_error(ic, path, 0, "a NUL octet: not a text configuration");
		return TDM_EPARSE;
	}
	*out = buf;
	*len = got;
	return TDM_OK;
}

char *ic_path(ic_conf_t *ic, const char *dir, const char *path)
{
	if (path[0] == '/' || dir == NULL || dir[0] == '\0')
		return ic_strdup(ic, path);
	return ic_printf(ic, "%s/%s", dir, path);
}

char *ic_addr_port(ic_conf_t *ic, const char *addr, unsigned port)
{
	return ic_printf(ic, "%s@%u", addr, port);
}

void ic_free(ic_conf_t *ic)
{
	for (size_t i = 0; i < ic->nremotes; i++)
		free(ic->remotes[i].addresses.v);
	for (size_t i = 0; i < ic->nacls; i++) {
		free(ic->acls[i].addresses.v);
		free(ic->acls[i].keys.v);
	}
	for (size_t i = 0; i < ic->nzones; i++) {
		free(ic->zones[i].primaries.v);
		free(ic->zones[i].notify.v);
		free(ic->zones[i].acls.v);
	}
	free(ic->listen.v);
	free(ic->keys);
	free(ic->remotes);
	free(ic->acls);
	free(ic->zones);
	for (size_t i = 0; i < ic->pool.n; i++)
		free(ic->pool.v[i]);
	free(ic->pool.v);
}

/* ---- YAML out ---- */

/* A double-quoted YAML scalar: every string the way it was read, nothing YAML could reinterpret. */
static void q(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void list(FILE *out, const ic_strs_t *l)
{
	fputc('[', out);
	for (size_t i = 0; i < l->n; i++) {
		if (i > 0)
			fputs(", ", out);
		q(out, l->v[i]);
	}
	fputc(']', out);
}

static const char *const allow_words[] = { "transfer", "notify", "update" };

static void write_acl(FILE *out, const ic_acl_t *a)
{
	fputs("  - name: ", out);
	q(out, a->name);
	if (a->addresses.n > 0) {
		fputs("\n    address: ", out);
		list(out, &a->addresses);
	}
	if (a->keys.n > 0) {
		fputs("\n    key: ", out);
		list(out, &a->keys);
	}
	fputs("\n    allow: [", out);
	for (unsigned b = 0, first = 1; b < 3; b++) {
		if (a->allow & (1u << b)) {
			fprintf(out, "%s%s", first ? "" : ", ", allow_words[b]);
			first = 0;
		}
	}
	fputs("]\n", out);
}

static void write_zone(FILE *out, const ic_zone_t *z)
{
	fputs("  - name: ", out);
	q(out, z->name);
	fprintf(out, "\n    type: %s\n", z->secondary ? "secondary" : "primary");
	/* A secondary's copy lives in Tandem's store: the other server's file for it is not needed. */
	if (z->file != NULL && !z->secondary) {
		fputs("    file: ", out);
		q(out, z->file);
		fputc('\n', out);
	}
	const struct { const char *key; const ic_strs_t *l; } refs[] = {
		{ "primaries", &z->primaries }, { "notify", &z->notify }, { "acl", &z->acls },
	};
	for (size_t i = 0; i < 3; i++) {
		if (refs[i].l->n == 0)
			continue;
		fprintf(out, "    %s: ", refs[i].key);
		list(out, refs[i].l);
		fputc('\n', out);
	}
	if (z->notify_delay != NULL)
		fprintf(out, "    notify-delay: %s\n", z->notify_delay);
}

int ic_write_yaml(const ic_conf_t *ic, FILE *out, const char *source, const char *from,
                  const char *data_dir)
{
	fprintf(out, "# tandem.yaml written by `tandem import-config` from %s (%s); tandem.yaml(5).\n",
	        source, from);
	fputs("server:\n  listen: ", out);
	if (ic->listen.n > 0)
		list(out, &ic->listen);
	else
		fputs("[\"127.0.0.1@53\", \"::1@53\"]   # the source said none", out);
	fputc('\n', out);
	if (data_dir != NULL) {
		fputs("  data-dir: ", out);
		q(out, data_dir);
		fputc('\n', out);
	} else {
		fputs("  # data-dir: var/ beside this file unless set (the package's is /var/lib/tandem)\n", out);
	}
	if (ic->identity != NULL) {
		fputs("  identity: ", out);
		q(out, ic->identity);
		fputc('\n', out);
	}
	if (ic->notify_delay != NULL)
		fprintf(out, "  notify-delay: %s\n", ic->notify_delay);
	if (ic->nkeys > 0)
		fputs("keys:\n", out);
	for (size_t i = 0; i < ic->nkeys; i++) {
		fputs("  - name: ", out);
		q(out, ic->keys[i].name);
		fputs("\n    algorithm: ", out);
		q(out, ic->keys[i].algorithm);
		fputs("\n    secret: ", out);
		q(out, ic->keys[i].secret);
		fputc('\n', out);
	}
	if (ic->nremotes > 0)
		fputs("remotes:\n", out);
	for (size_t i = 0; i < ic->nremotes; i++) {
		fputs("  - name: ", out);
		q(out, ic->remotes[i].name);
		fputs("\n    address: ", out);
		list(out, &ic->remotes[i].addresses);
		if (ic->remotes[i].key != NULL) {
			fputs("\n    key: ", out);
			q(out, ic->remotes[i].key);
		}
		fputc('\n', out);
	}
	if (ic->nacls > 0)
		fputs("acls:\n", out);
	for (size_t i = 0; i < ic->nacls; i++)
		write_acl(out, &ic->acls[i]);
	fputs(ic->nzones > 0 ? "zones:\n" : "zones: []\n", out);
	for (size_t i = 0; i < ic->nzones; i++)
		write_zone(out, &ic->zones[i]);
	return ferror(out) ? TDM_EIO : TDM_OK;
}

/* ---- the command ---- */

static void usage(FILE *out)
{
	fputs("usage: tandem import-config FILE [--from bind|knot|nsd] [-o OUT] [--data-dir DIR]\n\n"
	      "Reads a BIND named.conf, a knot.conf or an nsd.conf and writes the equivalent\n"
	      "tandem.yaml (listen addresses, TSIG keys, remotes, ACLs, zones with their roles, files,\n"
	      "primaries and notify lists) to OUT (never over an existing file) or stdout. Each thing\n"
	      "that has no equivalent is reported on stderr with its file:line.\n"
	      "  --from FORMAT    the source's dialect; without it, told from the file's name and text\n"
	      "  -o, --output OUT write there instead of stdout\n"
	      "  --data-dir DIR   the data-dir to write (default: var/ beside the written file)\n\n"
	      "Exit status: 0 everything mapped, 3 something was left out (see stderr), 1 a usage\n"
	      "or input error (nothing written).\n", out);
}

/* The dialect from the file's name, else from its text. */
static const char *guess(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	if (strstr(base, "knot") != NULL)
		return "knot";
	if (strstr(base, "nsd") != NULL)
		return "nsd";
	if (strstr(base, "named") != NULL)
		return "bind";
	ic_conf_t scratch = { .err = stderr };
	char *text = NULL;
	size_t len;
	if (ic_read_file(&scratch, path, NULL, 0, &text, &len) != TDM_OK)
		return NULL;
	const char *kind = strstr(text, "- domain:") != NULL ? "knot" :
	                   strchr(text, '{') != NULL && strchr(text, ';') != NULL ? "bind" : "nsd";
	free(text);
	return kind;
}

static int write_out(const ic_conf_t *ic, const char *out_path, const char *source,
                     const char *from, const char *data_dir)
{
	if (out_path == NULL)
		return ic_write_yaml(ic, stdout, source, from, data_dir) == TDM_OK &&
		       fflush(stdout) == 0 ? TDM_OK : TDM_EIO;
	int fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		int ret = -errno;
		fprintf(stderr, "tandem import-config: cannot write %s: %s%s\n", out_path,
		        tdm_strerror(ret), ret == TDM_EEXIST ? " (never overwritten)" : "");
		return ret;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		unlink(out_path);
		return TDM_ENOMEM;
	}
	int ret = ic_write_yaml(ic, f, source, from, data_dir);
	if (fclose(f) != 0 && ret == TDM_OK)
		ret = TDM_EIO;
	if (ret != TDM_OK) {
		fprintf(stderr, "tandem import-config: writing %s failed: %s\n", out_path, tdm_strerror(ret));
		unlink(out_path);
	}
	return ret;
}

int cli_importconf_main(int argc, char **argv)
{
	const char *path = NULL, *from = NULL, *out_path = NULL, *data_dir = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **value = strcmp(a, "--from") == 0 ? &from :
		                     strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ? &out_path :
		                     strcmp(a, "--data-dir") == 0 ? &data_dir : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		if (value != NULL && i + 1 < argc) {
			*value = argv[++i];
		} else if (value != NULL || (a[0] == '-' && a[1] != '\0') || path != NULL) {
			fprintf(stderr, "tandem import-config: %s '%s'\n\n", value != NULL ?
			        "a value is missing after" : "unexpected", a);
			usage(stderr);
			return CLI_EXIT_USAGE;
		} else {
			path = a;
		}
	}
	if (path == NULL) {
		fprintf(stderr, "tandem import-config: which configuration? give a FILE\n\n");
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (from == NULL && (from = guess(path)) == NULL)
		return CLI_EXIT_USAGE;
	int (*reader)(ic_conf_t *, const char *) = strcmp(from, "bind") == 0 ? ic_read_bind :
	                                           strcmp(from, "knot") == 0 ? ic_read_knot :
	                                           strcmp(from, "nsd") == 0 ? ic_read_nsd : NULL;
	if (reader == NULL) {
		fprintf(stderr, "tandem import-config: --from wants bind, knot or nsd, not '%s'\n", from);
		return CLI_EXIT_USAGE;
	}
	ic_conf_t ic = { .err = stderr };
	int ret = reader(&ic, path);
	if (ic.oom)
		fprintf(stderr, "tandem import-config: out of memory\n");
	if (ret == TDM_OK && !ic.failed && !ic.oom)
		ret = write_out(&ic, out_path, path, from, data_dir);
	else if (ret == TDM_OK)
		ret = TDM_ERROR;
	unsigned unmapped = ic.unmapped;
	ic_free(&ic);
	if (ret != TDM_OK) {
		fprintf(stderr, "tandem import-config: nothing written\n");
		return CLI_EXIT_USAGE;
	}
	if (unmapped > 0) {
		fprintf(stderr, "tandem import-config: %u thing%s not mapped (above); the rest is written\n",
		        unmapped, unmapped == 1 ? "" : "s");
		return IC_EXIT_PARTIAL;
	}
	return CLI_EXIT_OK;
}
