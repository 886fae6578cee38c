/* cli/zonecreate.c -- `tandem zone create|set|delete`: zones made, changed and removed through the API */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "cli/fmt.h"
#include "cli/zonecreate.h"
#include "lib/error.h"

#define ZC_MAX_WORDS 64
#define ZC_FILE_MAX (64u * 1024 * 1024)

static void usage(FILE *out)
{
	fputs("usage: tandem [GLOBAL OPTIONS] zone create NAME --quick --ns NS [--ns NS ..] --address IP\n"
	      "       tandem [GLOBAL OPTIONS] zone create NAME --file ZONEFILE\n"
	      "       tandem [GLOBAL OPTIONS] zone create NAME --secondary --primary ADDR [--primary ADDR ..]"
	      " [--key KEY]\n"
	      "         more for create: --notify ADDR, --acl NAME, --member-of CATALOG, --group G,\n"
	      "         --serial-policy increment|unixtime|dateserial, --notify-delay SECONDS\n"
	      "       tandem [GLOBAL OPTIONS] zone set ZONE PROPERTY=VALUE ..\n"
	      "         type, primaries, key, notify, acl, member_of, group, serial_policy, notify_delay;\n"
	      "         lists are comma-separated; an empty value clears the property\n"
	      "       tandem [GLOBAL OPTIONS] zone delete ZONE\n\n", out);
	cli_opts_usage(out);
}

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "tandem zone %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fputs("\n\n", stderr);
	usage(stderr);
	return CLI_EXIT_USAGE;
}

/* A comma-separated list as a JSON array of strings. */
static json_t *list_of(const char *text)
{
	json_t *a = json_array();
	for (const char *p = text; a != NULL && *p != '\0';) {
		size_t len = strcspn(p, ",");
		if (len > 0)
			json_array_append_new(a, json_stringn(p, len));
		p += len + (p[len] == ',');
	}
	return a;
}

/* A property the API takes as a number (seconds): digits become one, anything else stays text for the
 * API to refuse with its own message. */
static json_t *scalar_of(const char *field, const char *text)
{
	bool number = strcmp(field, "notify_delay") == 0 && *text != '\0' && strlen(text) < 10 &&
	              strspn(text, "0123456789") == strlen(text);
	return number ? json_integer(strtol(text, NULL, 10)) : json_string(text);
}

/* Appends s to the array field of body (made when missing). */
static void add_to(json_t *body, const char *field, const char *s)
{
	json_t *a = json_object_get(body, field);
	if (a == NULL) {
		a = json_array();
		json_object_set_new(body, field, a);
	}
	json_array_append_new(a, json_string(s));
}

static int read_file(const char *path, json_t **out)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -errno;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int ret = TDM_OK;
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *p = ncap <= ZC_FILE_MAX ? realloc(buf, ncap) : NULL;
			if (p == NULL) {
				ret = ncap > ZC_FILE_MAX ? TDM_ESPACE : TDM_ENOMEM;
				break;
			}
			buf = p;
			cap = ncap;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				ret = TDM_EIO;
			break;
		}
	}
	fclose(f);
	if (ret == TDM_OK && (*out = json_stringn(buf, len)) == NULL)
		ret = TDM_EINVAL;   /* not UTF-8 */
	free(buf);
	return ret;
}

/* The reply: the zone as JSON with --json, else one line. */
static int print_zone(cli_opts_t *o, json_t *reply, const char *done)
{
	int ret;
	if (o->json) {
		ret = cli_api_print_json(stdout, reply);
	} else {
		json_t *sec = json_object_get(reply, "secondary");
		char serial[24];
		printf("%s: %s, %s, serial %s%s%s\n", cli_json_str(reply, "name", "?"), done,
		       cli_json_str(reply, "type", "?"),
		       cli_json_int_text(reply, "serial", "- (no data yet)", serial, sizeof(serial)),
		       sec != NULL ? "; `tandem zone show " : "",
		       sec != NULL ? "ZONE` shows its transfers" : "");
		ret = ferror(stdout) ? TDM_EIO : TDM_OK;
	}
	if (ret == TDM_OK && fflush(stdout) != 0)
		ret = TDM_EIO;
	return ret == TDM_OK ? CLI_EXIT_OK : CLI_EXIT_API;
}

/* create's own options, taken out of argv; the rest (global options, words) stays in rest. */
static int create_opts(int argc, char **argv, json_t *body, char **rest, int *nrest, bool *quick,
                       bool *secondary, const char **file)
{
	static const struct { const char *opt, *field; bool list; } valued[] = {
		{ "--ns", "nameservers", true }, { "--address", "address", false },
		{ "--primary", "primaries", true }, { "--key", "key", false },
		{ "--notify", "notify", true }, { "--acl", "acl", true },
		{ "--member-of", "member_of", false }, { "--group", "group", false },
		{ "--serial-policy", "serial_policy", false }, { "--notify-delay", "notify_delay", false },
		{ "--file", NULL, false },
	};
	json_t *quick_obj = json_object();
	*nrest = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			*quick = true;
			continue;
		}
		if (strcmp(argv[i], "--secondary") == 0) {
			*secondary = true;
			continue;
		}
		size_t v = 0, nv = sizeof(valued) / sizeof(valued[0]);
		while (v < nv && strcmp(argv[i], valued[v].opt) != 0)
			v++;
		if (v == nv) {
			rest[(*nrest)++] = argv[i];
			continue;
		}
		if (i + 1 >= argc) {
			json_decref(quick_obj);
			return usage_error("create", "%s wants a value", argv[i]);
		}
		const char *val = argv[++i];
		if (valued[v].field == NULL)
			*file = val;
		else if (strcmp(valued[v].field, "nameservers") == 0)
			add_to(quick_obj, "nameservers", val);
		else if (strcmp(valued[v].field, "address") == 0)
			json_object_set_new(quick_obj, "address", json_string(val));
		else if (valued[v].list)
			add_to(body, valued[v].field, val);
		else
			json_object_set_new(body, valued[v].field, scalar_of(valued[v].field, val));
	}
	json_object_set_new(body, "quick", quick_obj);
	return CLI_EXIT_OK;
}

static int run_create(cli_opts_t *o, int argc, char **argv)
{
	json_t *body = json_object(), *reply = NULL;
	char *rest[ZC_MAX_WORDS + 1], err[512];
	int nrest = 0, npos = 0;
	bool quick = false, secondary = false;
	const char *file = NULL;
	if (argc > ZC_MAX_WORDS)
		return usage_error("create", "%s", "too many words");
	int status = create_opts(argc, argv, body, rest, &nrest, &quick, &secondary, &file);
	if (status == CLI_EXIT_OK &&
	    cli_opts_parse(o, nrest, rest, NULL, 0, rest, &npos, err, sizeof(err)) != TDM_OK)
		status = usage_error("create", "%s", err);
	json_t *q = json_object_get(body, "quick");
	if (status == CLI_EXIT_OK && npos != 2)
		status = usage_error("create", "%s", npos < 2 ? "which zone name?" : "one zone at a time");
	else if (status == CLI_EXIT_OK && quick + secondary + (file != NULL) != 1)
		status = usage_error("create", "%s", "give one of --quick, --file or --secondary");
	else if (status == CLI_EXIT_OK && quick &&
	         (json_object_get(q, "address") == NULL || json_object_get(q, "nameservers") == NULL))
		status = usage_error("create", "%s", "--quick wants --ns (one or more) and --address");
	else if (status == CLI_EXIT_OK && !quick && json_object_size(q) > 0)
		status = usage_error("create", "%s", "--ns and --address go with --quick");
	else if (status == CLI_EXIT_OK && secondary && json_object_get(body, "primaries") == NULL)
		status = usage_error("create", "%s", "--secondary wants --primary ADDR");
	else if (status == CLI_EXIT_OK && !secondary && json_object_get(body, "primaries") != NULL)
		status = usage_error("create", "%s", "--primary goes with --secondary");
	if (status != CLI_EXIT_OK) {
		json_decref(body);
		return status;
	}
	json_object_set_new(body, "name", json_string(rest[1]));
	json_object_set_new(body, "type", json_string(secondary ? "secondary" : "primary"));
	if (!quick)
		json_object_del(body, "quick");
	if (file != NULL) {
		json_t *text = NULL;
		int ret = read_file(file, &text);
		if (ret != TDM_OK) {
			fprintf(stderr, "tandem zone create: cannot read %s (%s)\n", file,
			        ret == TDM_EINVAL ? "not UTF-8 text" : tdm_strerror(ret));
			json_decref(body);
			return CLI_EXIT_USAGE;
		}
		json_object_set_new(body, "zonefile", text);
	}
	status = cli_api_send(o, "POST", "/zones", body, &reply, stderr);
	json_decref(body);
	if (status == CLI_EXIT_OK)
		status = print_zone(o, reply, "created");
	json_decref(reply);
	return status;
}

static int run_set(cli_opts_t *o, int argc, char **argv)
{
	static const char *const lists[] = { "primaries", "notify", "acl" };
	char err[512], path[CLI_PATH_MAX];
	int npos = 0;
	if (cli_opts_parse(o, argc, argv, NULL, 0, argv, &npos, err, sizeof(err)) != TDM_OK)
		return usage_error("set", "%s", err);
	if (npos < 3)
		return usage_error("set", "%s", npos < 2 ? "which zone?" : "which PROPERTY=VALUE?");
	if (cli_api_zone_path(argv[1], NULL, path, sizeof(path)) != TDM_OK)
		return usage_error("set", "'%s' is not a zone name", argv[1]);
	json_t *body = json_object(), *reply = NULL;
	for (int i = 2; i < npos; i++) {
		char *eq = strchr(argv[i], '=');
		if (eq == NULL || eq == argv[i]) {
			json_decref(body);
			return usage_error("set", "'%s' is not PROPERTY=VALUE", argv[i]);
		}
		*eq = '\0';
		const char *k = argv[i], *v = eq + 1;
		for (char *p = argv[i]; *p; p++)
			if (*p == '-')
				*p = '_';   /* member-of as member_of */
		bool list = false;
		for (size_t j = 0; j < sizeof(lists) / sizeof(lists[0]); j++)
			list |= strcmp(k, lists[j]) == 0;
		json_object_set_new(body, k, *v == '\0' ? json_null() : list ? list_of(v) : scalar_of(k, v));
	}
	int status = cli_api_send(o, "PATCH", path, body, &reply, stderr);
	json_decref(body);
	if (status == CLI_EXIT_OK)
		status = print_zone(o, reply, "changed");
	json_decref(reply);
	return status;
}

static int run_delete(cli_opts_t *o, int argc, char **argv)
{
	char err[512], path[CLI_PATH_MAX];
	int npos = 0;
	if (cli_opts_parse(o, argc, argv, NULL, 0, argv, &npos, err, sizeof(err)) != TDM_OK)
		return usage_error("delete", "%s", err);
	if (npos != 2)
		return usage_error("delete", "%s", npos < 2 ? "which zone?" : "one zone at a time");
	if (cli_api_zone_path(argv[1], NULL, path, sizeof(path)) != TDM_OK)
		return usage_error("delete", "'%s' is not a zone name", argv[1]);
	json_t *reply = NULL;
	int status = cli_api_call(o, "DELETE", path, &reply, stderr);
	if (status == CLI_EXIT_OK) {
		if (o->json)
			status = cli_api_print_json(stdout, reply) == TDM_OK ? CLI_EXIT_OK : CLI_EXIT_API;
		else
			printf("%s: %s\n", argv[1], cli_json_str(reply, "result", "removed"));
		if (fflush(stdout) != 0)
			status = CLI_EXIT_API;
	}
	json_decref(reply);
	return status;
}

bool cli_zonecreate_handles(const char *sub)
{
	return strcmp(sub, "create") == 0 || strcmp(sub, "set") == 0 || strcmp(sub, "delete") == 0;
}

int cli_zonecreate_main(cli_opts_t *o, const char *sub, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
	}
	if (strcmp(sub, "create") == 0)
		return run_create(o, argc, argv);
	if (strcmp(sub, "set") == 0)
		return run_set(o, argc, argv);
	return run_delete(o, argc, argv);
}
