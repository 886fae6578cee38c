/* cli/record.c -- `tandem record list|add|del|set` and `tandem zone export|import|edit|history|revert` */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "cli/record.h"
#include "lib/error.h"

#define TEXT_MAX (CLI_HTTP_BODY_MAX)

/* Percent-encodes a query value into out. */
static void qenc(const char *v, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (; *v && n + 4 < cap; v++) {
		unsigned char c = (unsigned char)*v;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

/* A reply that is not 2xx: one line, the exit status. */
static int failed(const cli_opts_t *o, const cli_http_reply_t *r)
{
	char msg[1024];
	fprintf(stderr, "tandem: %s\n", cli_api_status_message(o, r->status, r->body, msg, sizeof(msg)));
	json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
	const json_t *field = json_object_get(j, "field"), *errors = json_object_get(j, "errors");
	if (json_is_string(field))
		fprintf(stderr, "  (field %s)\n", json_string_value(field));
	for (size_t i = 1; i < json_array_size(errors); i++)
		fprintf(stderr, "  %s\n", json_string_value(json_array_get(errors, i)));
	json_decref(j);
	return cli_api_exit_status(r->status);
}

static int request(const cli_opts_t *o, const char *method, const char *path, const char *body,
                   size_t len, const char *ctype, const char *if_match, cli_http_reply_t *r)
{
	cli_http_request_t extra = { .body = body, .body_len = len, .content_type = ctype,
	                             .if_match = if_match };
	return cli_api_request(o, method, path, &extra, r, stderr);
}

/* The result of a write: "ZONE: serial A -> B", then the diff. */
static int print_result(const cli_opts_t *o, const char *zone, const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	if (j == NULL) {
		fprintf(stderr, "tandem: the API's answer is not JSON\n");
		return CLI_EXIT_API;
	}
	if (o->json) {
		cli_api_print_json(stdout, j);
	} else if (!json_is_true(json_object_get(j, "changed"))) {
		printf("%s: nothing to change (serial %lld)\n", zone,
		       (long long)json_integer_value(json_object_get(j, "serial")));
	} else {
		printf("%s: serial %lld -> %lld%s\n", zone,
		       (long long)json_integer_value(json_object_get(j, "serial_from")),
		       (long long)json_integer_value(json_object_get(j, "serial")),
		       json_is_true(json_object_get(j, "dry_run")) ? " (dry run: nothing changed)" : "");
		const char *keys[2] = { "removed", "added" };
		for (int k = 0; k < 2; k++) {
			size_t i;
			json_t *line;
			json_array_foreach(json_object_get(j, keys[k]), i, line)
				printf("%c %s\n", k == 0 ? '-' : '+', json_string_value(line));
		}
	}
	json_decref(j);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_API;
}

/* ---- record ---- */

static void record_usage(FILE *out)
{
	fputs("usage: tandem [GLOBAL OPTIONS] record SUBCOMMAND ...\n\n"
	      "  record list ZONE [--name NAME] [--type TYPE] [--json]   every RRset, in canonical order\n"
	      "  record add ZONE NAME TYPE [TTL] RDATA...   records join the RRset (TTL needed for a new one)\n"
	      "  record del ZONE NAME TYPE [RDATA...]       records (or, without RDATA, the RRset) go\n"
	      "  record set ZONE NAME TYPE [TTL] RDATA...   the RRset becomes these records (TTL 3600)\n\n"
	      "RDATA is master-file text, one argument per record (quote it: \"10 mail.example.com.\").\n"
	      "Names without a final dot are relative to the zone. --dry-run shows the change only.\n\n",
	      out);
	cli_opts_usage(out);
}

/* Takes "--NAME VALUE" out of argv (*argc shrinks); the value or NULL. */
static const char *take_value(int *argc, char **argv, const char *opt)
{
	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], opt) != 0 || i + 1 >= *argc)
			continue;
		const char *v = argv[i + 1];
		memmove(argv + i, argv + i + 2, (size_t)(*argc - i - 2) * sizeof(char *));
		*argc -= 2;
		return v;
	}
	return NULL;
}

static int record_list(cli_opts_t *o, const char *zone, const char *name, const char *type)
{
	char base[CLI_PATH_MAX], path[CLI_PATH_MAX + 1200], q[1100], cursor[1100] = "";
	if (cli_api_zone_path(zone, "records", base, sizeof(base)) != TDM_OK)
		return fprintf(stderr, "tandem record list: '%s' is not a zone name\n", zone), CLI_EXIT_USAGE;
	json_t *all = json_array();
	int status = CLI_EXIT_OK;
	for (;;) {
		int n = snprintf(path, sizeof(path), "%s?limit=1000", base);
		if (name != NULL) {
			qenc(name, q, sizeof(q));
			n += snprintf(path + n, sizeof(path) - (size_t)n, "&name=%s", q);
		}
		if (type != NULL) {
			qenc(type, q, sizeof(q));
			n += snprintf(path + n, sizeof(path) - (size_t)n, "&type=%s", q);
		}
		if (cursor[0] != '\0')
			snprintf(path + n, sizeof(path) - (size_t)n, "&cursor=%s", cursor);
		json_t *page;
		if ((status = cli_api_call(o, "GET", path, &page, stderr)) != CLI_EXIT_OK)
			break;
		json_array_extend(all, json_object_get(page, "rrsets"));
		const json_t *next = json_object_get(page, "next");
		if (json_is_string(next))
			snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
		json_decref(page);
		if (!json_is_string(next))
			break;
	}
	if (status == CLI_EXIT_OK && o->json) {
		cli_api_print_json(stdout, all);
	} else if (status == CLI_EXIT_OK) {
		size_t i, k;
		json_t *set, *rd;
		json_array_foreach(all, i, set)
			json_array_foreach(json_object_get(set, "records"), k, rd)
				printf("%s %lld IN %s %s\n", json_string_value(json_object_get(set, "name")),
				       (long long)json_integer_value(json_object_get(set, "ttl")),
				       json_string_value(json_object_get(set, "type")), json_string_value(rd));
	}
	json_decref(all);
	if (status == CLI_EXIT_OK && fflush(stdout) != 0)
		status = CLI_EXIT_API;
	return status;
}

static bool all_digits(const char *s)
{
	return *s != '\0' && strspn(s, "0123456789") == strlen(s) && strlen(s) <= 10;
}

/* add / del / set: one PATCH operation. */
static int record_change(cli_opts_t *o, const char *sub, int argc, char **argv, bool dry)
{
	const char *zone = argv[0], *name = argv[1], *type = argv[2];
	int first = 3;
	json_t *op = json_pack("{s:s, s:s}", "name", name, "type", type);
	bool del = strcmp(sub, "del") == 0;
	if (!del && argc > 4 && all_digits(argv[3])) {
		json_object_set_new(op, "ttl", json_integer(atoll(argv[3])));
		first = 4;
	} else if (strcmp(sub, "set") == 0) {
		json_object_set_new(op, "ttl", json_integer(3600));
	}
	if (!del && argc <= first) {
		json_decref(op);
		fprintf(stderr, "tandem record %s: which record data? (RDATA after the type)\n", sub);
		return CLI_EXIT_USAGE;
	}
	json_t *records = json_array();
	for (int i = first; i < argc; i++)
		json_array_append_new(records, json_string(argv[i]));
	const char *change = strcmp(sub, "add") == 0 ? "add" : strcmp(sub, "set") == 0 ? "replace"
	                   : argc > first ? "remove" : "delete";
	json_object_set_new(op, "changetype", json_string(change));
	json_object_set_new(op, "records", records);
	json_t *body = json_pack("{s:[o]}", "rrsets", op);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char path[CLI_PATH_MAX + 32];
	if (text == NULL || cli_api_zone_path(zone, "records", path, CLI_PATH_MAX) != TDM_OK) {
		free(text);
		fprintf(stderr, "tandem record %s: '%s' is not a zone name\n", sub, zone);
		return CLI_EXIT_USAGE;
	}
	if (dry)
		strcat(path, "?dry_run=true");
	cli_http_reply_t r;
	int status = request(o, "PATCH", path, text, strlen(text), NULL, NULL, &r);
	free(text);
	if (status != CLI_EXIT_OK)
		return status;
	status = r.status / 100 == 2 ? print_result(o, zone, r.body) : failed(o, &r);
	cli_http_reply_free(&r);
	return status;
}

int cli_record_main(cli_opts_t *o, int argc, char **argv)
{
	char err[512];
	int npos;
	const char *name = take_value(&argc, argv, "--name"), *type = take_value(&argc, argv, "--type");
	bool dry = false;
	cli_flag_t flags[] = { { "--dry-run", &dry } };
	if (cli_opts_parse(o, argc, argv, flags, 1, argv, &npos, err, sizeof(err)) != TDM_OK) {
		fprintf(stderr, "tandem record: %s\n\n", err);
		record_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (o->help || npos == 0) {
		record_usage(o->help ? stdout : stderr);
		return o->help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	const char *sub = argv[0];
	if (strcmp(sub, "list") == 0 && npos == 2)
		return record_list(o, argv[1], name, type);
	if ((strcmp(sub, "add") == 0 || strcmp(sub, "set") == 0 || strcmp(sub, "del") == 0) && npos >= 4)
		return record_change(o, sub, npos - 1, argv + 1, dry);
	fprintf(stderr, "tandem record: '%s' with these arguments is not a command\n\n", sub);
	record_usage(stderr);
	return CLI_EXIT_USAGE;
}

/* ---- zone export, import, edit, history, revert ---- */

static const char *const zonetext_subs[] = { "export", "import", "edit", "history", "revert" };

int cli_zonetext_known(const char *sub)
{
	for (size_t i = 0; i < sizeof(zonetext_subs) / sizeof(zonetext_subs[0]); i++)
		if (strcmp(sub, zonetext_subs[i]) == 0)
			return 1;
	return 0;
}

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
		if (n + 1 == cap) {
			char *b = cap < TEXT_MAX ? realloc(buf, cap * 2) : NULL;
			if (b == NULL) {
				free(buf);
				return NULL;
			}
			buf = b;
			cap *= 2;
		}
	}
	if (buf == NULL || ferror(f)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int zone_export(cli_opts_t *o, const char *zone, const char *file)
{
	char path[CLI_PATH_MAX];
	cli_http_reply_t r;
	if (cli_api_zone_path(zone, "text", path, sizeof(path)) != TDM_OK)
		return CLI_EXIT_USAGE;
	int status = request(o, "GET", path, NULL, 0, NULL, NULL, &r);
	if (status != CLI_EXIT_OK)
		return status;
	if (r.status / 100 != 2) {
		status = failed(o, &r);
	} else {
		FILE *f = file != NULL ? fopen(file, "w") : stdout;
		if (f == NULL || fwrite(r.body, 1, r.body_len, f) != r.body_len ||
		    (f != stdout ? fclose(f) : fflush(f)) != 0) {
			fprintf(stderr, "tandem zone export: cannot write %s: %s\n", file ? file : "stdout",
			        strerror(errno));
			status = CLI_EXIT_API;
		}
	}
	cli_http_reply_free(&r);
	return status;
}

static int put_text(cli_opts_t *o, const char *zone, const char *text, size_t len, const char *etag,
                    bool dry, cli_http_reply_t *r)
{
	char path[CLI_PATH_MAX + 16];
	if (cli_api_zone_path(zone, "text", path, CLI_PATH_MAX) != TDM_OK)
		return CLI_EXIT_USAGE;
	if (dry)
		strcat(path, "?dry_run=true");
	return request(o, "PUT", path, text, len, "text/dns", etag, r);
}

static int zone_import(cli_opts_t *o, const char *zone, const char *file, bool dry)
{
	FILE *f = file != NULL ? fopen(file, "r") : stdin;
	size_t len = 0;
	char *text = f != NULL ? read_all(f, &len) : NULL;
	if (f != NULL && f != stdin)
		fclose(f);
	if (text == NULL) {
		fprintf(stderr, "tandem zone import: cannot read %s: %s\n", file ? file : "stdin",
		        strerror(errno));
		return CLI_EXIT_USAGE;
	}
	cli_http_reply_t r;
	int status = put_text(o, zone, text, len, NULL, dry, &r);
	free(text);
	if (status != CLI_EXIT_OK)
		return status;
	status = r.status / 100 == 2 ? print_result(o, zone, r.body) : failed(o, &r);
	cli_http_reply_free(&r);
	return status;
}

static int run_editor(const char *file)
{
	const char *editor = getenv("VISUAL") ? getenv("VISUAL") : getenv("EDITOR");
	if (editor == NULL || *editor == '\0')
		editor = "vi";
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", editor, file, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* GET the text with its ETag, $EDITOR on a copy, show the diff (a dry run), PUT with If-Match. On a
 * conflict or an error the edited file stays, and its path is said. */
static int zone_edit(cli_opts_t *o, const char *zone)
{
	char path[CLI_PATH_MAX], file[] = "/tmp/tandem-edit-XXXXXX.zone", etag[CLI_HTTP_ETAG_MAX];
	cli_http_reply_t r;
	if (cli_api_zone_path(zone, "text", path, sizeof(path)) != TDM_OK)
		return CLI_EXIT_USAGE;
	int status = request(o, "GET", path, NULL, 0, NULL, NULL, &r);
	if (status != CLI_EXIT_OK)
		return status;
	if (r.status / 100 != 2) {
		status = failed(o, &r);
		cli_http_reply_free(&r);
		return status;
	}
	snprintf(etag, sizeof(etag), "%s", r.etag);
	int fd = mkstemps(file, 5);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	bool ok = f != NULL && fwrite(r.body, 1, r.body_len, f) == r.body_len;
	if (f != NULL && fclose(f) != 0)
		ok = false;
	char *orig = r.body;
	size_t orig_len = r.body_len;
	r.body = NULL;
	cli_http_reply_free(&r);
	if (!ok) {
		fprintf(stderr, "tandem zone edit: cannot write %s: %s\n", file, strerror(errno));
		free(orig);
		return CLI_EXIT_API;
	}
	if (run_editor(file) != 0) {
		fprintf(stderr, "tandem zone edit: the editor failed; nothing sent (your text: %s)\n", file);
		free(orig);
		return CLI_EXIT_USAGE;
	}
	f = fopen(file, "r");
	size_t len = 0;
	char *text = f != NULL ? read_all(f, &len) : NULL;
	if (f != NULL)
		fclose(f);
	if (text == NULL) {
		fprintf(stderr, "tandem zone edit: cannot read %s back\n", file);
		free(orig);
		return CLI_EXIT_API;
	}
	if (len == orig_len && memcmp(text, orig, len) == 0) {
		printf("%s: no change\n", zone);
		unlink(file);
		free(orig);
		free(text);
		return CLI_EXIT_OK;
	}
	free(orig);
	status = put_text(o, zone, text, len, etag, false, &r);
	free(text);
	if (status != CLI_EXIT_OK) {
		fprintf(stderr, "tandem zone edit: your text is kept in %s\n", file);
		return status;
	}
	if (r.status / 100 == 2) {
		status = print_result(o, zone, r.body);
		unlink(file);
	} else {
		status = failed(o, &r);
		if (r.status == 412)
			fprintf(stderr, "tandem zone edit: %s was changed by someone else meanwhile; nothing "
			        "sent. Your text is kept in %s: run `tandem zone edit %s` again and redo the "
			        "edit, or `tandem zone import %s %s` to force it\n", zone, file, zone, zone, file);
		else
			fprintf(stderr, "tandem zone edit: your text is kept in %s\n", file);
	}
	cli_http_reply_free(&r);
	return status;
}

static int zone_history(cli_opts_t *o, const char *zone)
{
	char path[CLI_PATH_MAX + 16];
	if (cli_api_zone_path(zone, "changes", path, CLI_PATH_MAX) != TDM_OK)
		return CLI_EXIT_USAGE;
	strcat(path, "?limit=100");
	json_t *j;
	int status = cli_api_call(o, "GET", path, &j, stderr);
	if (status != CLI_EXIT_OK)
		return status;
	if (o->json) {
		cli_api_print_json(stdout, j);
	} else {
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(j, "changes"), i, c) {
			time_t t = (time_t)json_integer_value(json_object_get(c, "time"));
			char when[32];
			struct tm tmv;
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tmv));
			printf("%lld  %s UTC  %lld -> %lld  -%lld +%lld  %s%s\n",
			       (long long)json_integer_value(json_object_get(c, "id")), when,
			       (long long)json_integer_value(json_object_get(c, "serial_from")),
			       (long long)json_integer_value(json_object_get(c, "serial_to")),
			       (long long)json_integer_value(json_object_get(c, "removed_count")),
			       (long long)json_integer_value(json_object_get(c, "added_count")),
			       json_string_value(json_object_get(c, "who")),
			       json_is_true(json_object_get(c, "revertable")) ? "" : " (summary only)");
		}
	}
	json_decref(j);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_API;
}

static int zone_revert(cli_opts_t *o, const char *zone, const char *id, bool force, bool dry)
{
	char path[CLI_PATH_MAX + 64], action[64];
	if (!all_digits(id)) {
		fprintf(stderr, "tandem zone revert: '%s' is not a change id (see `tandem zone history`)\n", id);
		return CLI_EXIT_USAGE;
	}
	snprintf(action, sizeof(action), "changes/%s/revert", id);
	if (cli_api_zone_path(zone, action, path, CLI_PATH_MAX) != TDM_OK)
		return CLI_EXIT_USAGE;
	strcat(path, force && dry ? "?force=true&dry_run=true" : force ? "?force=true"
	             : dry ? "?dry_run=true" : "");
	cli_http_reply_t r;
	int status = request(o, "POST", path, NULL, 0, NULL, NULL, &r);
	if (status != CLI_EXIT_OK)
		return status;
	status = r.status / 100 == 2 ? print_result(o, zone, r.body) : failed(o, &r);
	if (r.status == 409 && !force)
		fprintf(stderr, "tandem zone revert: --force reverts what still can be\n");
	cli_http_reply_free(&r);
	return status;
}

int cli_zonetext_main(cli_opts_t *o, const char *sub, int argc, char **argv)
{
	char err[512];
	int npos;
	bool force = false, dry = false;
	cli_flag_t flags[] = { { "--force", &force }, { "--dry-run", &dry } };
	if (cli_opts_parse(o, argc, argv, flags, 2, argv, &npos, err, sizeof(err)) != TDM_OK) {
		fprintf(stderr, "tandem zone %s: %s\n", sub, err);
		return CLI_EXIT_USAGE;
	}
	if (npos < 1) {
		fprintf(stderr, "tandem zone %s: which zone?\n", sub);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(sub, "export") == 0 && npos <= 2)
		return zone_export(o, argv[0], npos == 2 ? argv[1] : NULL);
	if (strcmp(sub, "import") == 0 && npos <= 2)
		return zone_import(o, argv[0], npos == 2 ? argv[1] : NULL, dry);
	if (strcmp(sub, "edit") == 0 && npos == 1)
		return zone_edit(o, argv[0]);
	if (strcmp(sub, "history") == 0 && npos == 1)
		return zone_history(o, argv[0]);
	if (strcmp(sub, "revert") == 0 && npos == 2)
		return zone_revert(o, argv[0], argv[1], force, dry);
	fprintf(stderr, "tandem zone %s: unexpected arguments (tandem zone --help)\n", sub);
	return CLI_EXIT_USAGE;
}
