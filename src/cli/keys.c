/* cli/keys.c -- `tandem key` (TSIG keys) and `tandem apikey` (API keys): list, create, delete through the API */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "cli/fmt.h"
#include "lib/error.h"

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tandem %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (tandem %s --help)\n", cmd);
	return CLI_EXIT_USAGE;
}

/* The path of one key: "/keys/NAME", the name percent-encoded but for unreserved characters. */
static int item_path(const char *kind, const char *name, char *out, size_t cap)
{
	int n = snprintf(out, cap, "/%s/", kind);
	size_t used = (size_t)n;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		             (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL;
		if (used + 4 >= cap)
			return TDM_ESPACE;
		used += (size_t)snprintf(out + used, cap - used, plain ? "%c" : "%%%02X", *p);
	}
	return TDM_OK;
}

/* Prints j as JSON (--json) or through print; the exit status. */
static int show(const cli_opts_t *o, json_t *j, int (*print)(FILE *, const json_t *))
{
	int ret = o->json ? cli_api_print_json(stdout, j) : print(stdout, j);
	if (ret == TDM_OK && fflush(stdout) != 0)
		ret = TDM_EIO;
	json_decref(j);
	if (ret != TDM_OK) {
		fprintf(stderr, "tandem: cannot show the answer: %s\n", tdm_strerror(ret));
		return CLI_EXIT_API;
	}
	return CLI_EXIT_OK;
}

static char *fmt_created(const json_t *o, char *buf, size_t size)
{
	int64_t t;
	if (!cli_json_int(o, "created", &t))
		return strcpy(buf, "-");
	return cli_fmt_utc(t, buf, size);
}

/* ---- tandem key ---- */

static int print_tsig_list(FILE *out, const json_t *j)
{
	static const char *const heads[4] = { "NAME", "ALGORITHM", "SOURCE", "CREATED" };
	static const bool right[4] = { false };
	const json_t *list = json_object_get(j, "keys");
	bool secrets = false;
	if (json_array_size(list) == 0) {
		fputs("no TSIG keys\n", out);
		return ferror(out) ? TDM_EIO : TDM_OK;
	}
	cli_table_t t;
	cli_table_init(&t, 4, heads, right);
	size_t i;
	json_t *k;
	int ret = TDM_OK;
	json_array_foreach(list, i, k) {
		char created[64];
		const char *cells[4] = { cli_json_str(k, "name", "?"), cli_json_str(k, "algorithm", "?"),
		                         cli_json_str(k, "source", "?"),
		                         fmt_created(k, created, sizeof(created)) };
		secrets |= json_object_get(k, "secret") != NULL;
		if (ret == TDM_OK)
			ret = cli_table_add(&t, cells);
	}
	if (ret == TDM_OK)
		ret = cli_table_print(&t, out);
	cli_table_free(&t);
	json_array_foreach(list, i, k) {
		if (secrets && ret == TDM_OK)
			fprintf(out, "%s secret %s\n", cli_json_str(k, "name", "?"),
			        cli_json_str(k, "secret", "-"));
	}
	return ret != TDM_OK ? ret : ferror(out) ? TDM_EIO : TDM_OK;
}

static int print_tsig_made(FILE *out, const json_t *k)
{
	fprintf(out, "TSIG key %s made (%s). Its secret, shown this once:\n\n"
	        "keys:\n  - name: %s\n    algorithm: %s\n    secret: \"%s\"\n",
	        cli_json_str(k, "name", "?"), cli_json_str(k, "algorithm", "?"),
	        cli_json_str(k, "name", "?"), cli_json_str(k, "algorithm", "?"),
	        cli_json_str(k, "secret", "?"));
	return ferror(out) ? TDM_EIO : TDM_OK;
}

static int print_deleted(FILE *out, const json_t *j)
{
	fputs("deleted\n", out);
	return ferror(out) ? TDM_EIO : TDM_OK;
}

static void key_usage(FILE *out)
{
	fputs("usage: tandem [GLOBAL OPTIONS] key SUBCOMMAND [--json]\n\n"
	      "  key list [--secrets]                   TSIG keys: name, algorithm, source, created\n"
	      "                                         (--secrets: with their secrets; a write key)\n"
	      "  key create NAME [ALGORITHM [SECRET]]   a key kept by the server (random secret of\n"
	      "                                         the algorithm's size unless given in base64;\n"
	      "                                         hmac-sha256 by default), shown once\n"
	      "  key delete NAME                        a key made through the API, not in use\n\n", out);
	cli_opts_usage(out);
}

int cli_key_main(cli_opts_t *o, int argc, char **argv)
{
	char err[512], path[CLI_PATH_MAX];
	bool secrets = false;
	const cli_flag_t flags[] = { { "--secrets", &secrets } };
	int npos;
	if (cli_opts_parse(o, argc, argv, flags, 1, argv, &npos, err, sizeof(err)) != TDM_OK)
		return usage_error("key", "%s", err);
	if (o->help || (npos > 0 && strcmp(argv[0], "help") == 0)) {
		key_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (npos == 0)
		return usage_error("key", "which subcommand? list, create or delete");
	json_t *j = NULL;
	int st;
	if (strcmp(argv[0], "list") == 0 && npos == 1) {
		st = cli_api_call(o, "GET", secrets ? "/keys?secrets=true" : "/keys", &j, stderr);
		return st == CLI_EXIT_OK ? show(o, j, print_tsig_list) : st;
	}
	if (strcmp(argv[0], "create") == 0 && npos >= 2 && npos <= 4) {
		json_t *body = json_pack("{s:s}", "name", argv[1]);
		if (body != NULL && npos >= 3)
			json_object_set_new(body, "algorithm", json_string(argv[2]));
		if (body != NULL && npos == 4)
			json_object_set_new(body, "secret", json_string(argv[3]));
		st = body != NULL ? cli_api_send(o, "POST", "/keys", body, &j, stderr) : CLI_EXIT_API;
		json_decref(body);
		return st == CLI_EXIT_OK ? show(o, j, print_tsig_made) : st;
	}
	if (strcmp(argv[0], "delete") == 0 && npos == 2) {
		if (item_path("keys", argv[1], path, sizeof(path)) != TDM_OK)
			return usage_error("key", "the name is too long");
		st = cli_api_call(o, "DELETE", path, &j, stderr);
		return st == CLI_EXIT_OK ? show(o, j, print_deleted) : st;
	}
	return usage_error("key", "'%s' with %d argument(s) is not a key command", argv[0], npos - 1);
}

/* ---- tandem apikey ---- */

static char *zones_text(const json_t *k, char *buf, size_t size)
{
	const json_t *z = json_object_get(k, "zones");
	if (!json_is_array(z))
		return strcpy(buf, "all");
	size_t used = 0, i;
	json_t *v;
	buf[0] = '\0';
	json_array_foreach(z, i, v) {
		int n = snprintf(buf + used, size - used, "%s%s", i ? " " : "", json_string_value(v));
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

static int print_apikey_list(FILE *out, const json_t *j)
{
	static const char *const heads[4] = { "NAME", "SCOPE", "ZONES", "CREATED" };
	static const bool right[4] = { false };
	const json_t *list = json_object_get(j, "apikeys");
	cli_table_t t;
	cli_table_init(&t, 4, heads, right);
	size_t i;
	json_t *k;
	int ret = TDM_OK;
	json_array_foreach(list, i, k) {
		char created[64], zones[1024];
		const char *cells[4] = { cli_json_str(k, "name", "?"), cli_json_str(k, "scope", "?"),
		                         zones_text(k, zones, sizeof(zones)),
		                         fmt_created(k, created, sizeof(created)) };
		if (ret == TDM_OK)
			ret = cli_table_add(&t, cells);
	}
	if (ret == TDM_OK)
		ret = cli_table_print(&t, out);
	cli_table_free(&t);
	return ret != TDM_OK ? ret : ferror(out) ? TDM_EIO : TDM_OK;
}

static int print_apikey_made(FILE *out, const json_t *k)
{
	char zones[1024];
	fprintf(out, "API key %s made (%s, zones: %s). The key, shown this once:\n%s\n",
	        cli_json_str(k, "name", "?"), cli_json_str(k, "scope", "?"),
	        zones_text(k, zones, sizeof(zones)), cli_json_str(k, "key", "?"));
	return ferror(out) ? TDM_EIO : TDM_OK;
}

static void apikey_usage(FILE *out)
{
	fputs("usage: tandem [GLOBAL OPTIONS] apikey SUBCOMMAND [--json]\n\n"
	      "  apikey list                           API keys: name, scope, zones, created\n"
	      "  apikey create NAME read|write [ZONE...]  a key for the API, limited to the zones\n"
	      "                                        when given; the key is shown once\n"
	      "  apikey delete NAME                    refused from then on\n\n", out);
	cli_opts_usage(out);
}

int cli_apikey_main(cli_opts_t *o, int argc, char **argv)
{
	char err[512], path[CLI_PATH_MAX];
	int npos;
	if (cli_opts_parse(o, argc, argv, NULL, 0, argv, &npos, err, sizeof(err)) != TDM_OK)
		return usage_error("apikey", "%s", err);
	if (o->help || (npos > 0 && strcmp(argv[0], "help") == 0)) {
		apikey_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (npos == 0)
		return usage_error("apikey", "which subcommand? list, create or delete");
	json_t *j = NULL;
	int st;
	if (strcmp(argv[0], "list") == 0 && npos == 1) {
		st = cli_api_call(o, "GET", "/apikeys", &j, stderr);
		return st == CLI_EXIT_OK ? show(o, j, print_apikey_list) : st;
	}
	if (strcmp(argv[0], "create") == 0 && npos >= 3) {
		if (strcmp(argv[2], "read") != 0 && strcmp(argv[2], "write") != 0)
			return usage_error("apikey", "the scope is read or write, not '%s'", argv[2]);
		json_t *body = json_pack("{s:s, s:s}", "name", argv[1], "scope", argv[2]);
		json_t *zones = npos > 3 ? json_array() : NULL;
		for (int i = 3; zones != NULL && i < npos; i++)
			json_array_append_new(zones, json_string(argv[i]));
		if (body != NULL && zones != NULL)
			json_object_set_new(body, "zones", zones);
		st = body != NULL ? cli_api_send(o, "POST", "/apikeys", body, &j, stderr) : CLI_EXIT_API;
		json_decref(body);
		return st == CLI_EXIT_OK ? show(o, j, print_apikey_made) : st;
	}
	if (strcmp(argv[0], "delete") == 0 && npos == 2) {
		if (item_path("apikeys", argv[1], path, sizeof(path)) != TDM_OK)
			return usage_error("apikey", "the name is too long");
		st = cli_api_call(o, "DELETE", path, &j, stderr);
		return st == CLI_EXIT_OK ? show(o, j, print_deleted) : st;
	}
	return usage_error("apikey", "'%s' with %d argument(s) is not an apikey command", argv[0],
	                   npos - 1);
}
