/* cli/zone.c -- `tandem zone`: the zone table, one zone's replication view, and actions on a zone */
#include <string.h>
#include <time.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "cli/fmt.h"
#include "cli/record.h"
#include "cli/zone.h"
#include "cli/zonecreate.h"
#include "lib/error.h"
#include "wire/name.h"

/* One row per subcommand; NULL action means "not available yet". */
struct subcommand {
	const char *name;
	const char *args;
	const char *what;
	int (*run)(cli_opts_t *o, const char *sub, const char *zone);
};

static int run_list(cli_opts_t *o, const char *sub, const char *zone);
static int run_show(cli_opts_t *o, const char *sub, const char *zone);
static int run_action(cli_opts_t *o, const char *sub, const char *zone);

static const struct subcommand subcommands[] = {
	{ "list", "", "the zones: name, type, serial, state, records, source", run_list },
	{ "show", "ZONE", "one zone and its replication view", run_show },
	{ "reload", "ZONE", "primary: re-read its zone file now", run_action },
	{ "notify", "ZONE", "send NOTIFY to its secondaries now", run_action },
	{ "refresh", "ZONE", "secondary: check the SOA (and transfer when behind) now", run_action },
	{ "retransfer", "ZONE", "secondary: a full AXFR now, whatever the serials say", run_action },
	{ "add", "...", NULL, NULL },
	{ "quick", "...", NULL, NULL },
	{ "remove", "...", NULL, NULL },
	/* zone text and history: cli/record.c */
	{ "export", "ZONE [FILE]", "the zone as master-file text (to FILE or stdout)", NULL },
	{ "import", "ZONE [FILE]", "replace the zone's records by the text (FILE or stdin) [--dry-run]", NULL },
	{ "edit", "ZONE", "$EDITOR on the zone text; shows the change, commits it with If-Match", NULL },
	{ "history", "ZONE", "the changes made to the zone: id, time, serials, who", NULL },
	{ "revert", "ZONE ID", "undo one change as a new change [--force] [--dry-run]", NULL },
};

#define NSUB (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *out)
{
	fputs("usage: tandem [GLOBAL OPTIONS] zone SUBCOMMAND [ZONE] [--json]\n\n", out);
	for (size_t i = 0; i < NSUB; i++) {
		if (subcommands[i].run != NULL || cli_zonetext_known(subcommands[i].name))
			fprintf(out, "  zone %-10s %-5s %s\n", subcommands[i].name, subcommands[i].args,
			        subcommands[i].what);
	}
	fputs("  zone create NAME ...     a zone made through the API (tandem zone create --help)\n"
	      "  zone set ZONE P=V ..     change an API zone's properties\n"
	      "  zone delete ZONE         remove an API zone (or one a super-primary made)\n", out);
	fputs("\nA POST (reload, notify, refresh, retransfer) starts the work and returns; watch it with\n"
	      "`tandem zone show ZONE`.\n\n", out);
	cli_opts_usage(out);
}

/* ---- list ---- */

static int add_zone_row(cli_table_t *t, const json_t *z)
{
	char serial[24], records[24];
	const char *cells[6] = {
		cli_json_str(z, "name", "?"),
		cli_json_str(z, "type", "-"),
		cli_json_int_text(z, "serial", "-", serial, sizeof(serial)),
		cli_json_str(z, "state", "-"),
		cli_json_int_text(z, "records", "-", records, sizeof(records)),
		cli_json_str(z, "source", "-"),
	};
	return cli_table_add(t, cells);
}

int cli_zone_list_print(FILE *out, const json_t *zones, void *arg)
{
	static const char *const heads[6] = { "NAME", "TYPE", "SERIAL", "STATE", "RECORDS", "SOURCE" };
	static const bool right[6] = { false, false, true, false, true, false };
	const json_t *list = json_is_array(zones) ? zones : json_object_get(zones, "zones");
	size_t i;
	json_t *z;
	if (json_array_size(list) == 0) {
		fputs("no zones\n", out);
		return ferror(out) ? TDM_EIO : TDM_OK;
	}
	cli_table_t t;
	cli_table_init(&t, 6, heads, right);
	json_array_foreach(list, i, z)
		add_zone_row(&t, z);
	int ret = cli_table_print(&t, out);
	cli_table_free(&t);
	return ret;
}

static int run_list(cli_opts_t *o, const char *sub, const char *zone)
{
	return cli_api_show(o, "/zones", cli_zone_list_print, NULL, stdout, stderr);
}

/* ---- show ---- */

static int run_show(cli_opts_t *o, const char *sub, const char *zone)
{
	char path[CLI_PATH_MAX];
	if (cli_api_zone_path(zone, NULL, path, sizeof(path)) != TDM_OK) {
		fprintf(stderr, "tandem zone show: '%s' is not a zone name\n", zone);
		return CLI_EXIT_USAGE;
	}
	int64_t now = (int64_t)time(NULL);
	return cli_api_show(o, path, cli_zone_show_print, &now, stdout, stderr);
}

/* ---- actions ---- */

int cli_zone_result_print(FILE *out, const json_t *reply, void *arg)
{
	const cli_zone_action_t *a = arg;
	const char *result = cli_json_str(reply, "result", "");
	char zone[NAME_TEXT_MAX];
	uint8_t wire[NAME_MAXLEN];
	if (strchr(result, ' ') != NULL) {
		fprintf(out, "%s\n", result);
		return ferror(out) ? TDM_EIO : TDM_OK;
	}
	/* The name as the server writes it: lowercase, absolute. */
	if (name_from_text(a->zone, NULL, wire) >= 0) {
		name_copy_lower(wire, wire);
		name_to_text(wire, zone, sizeof(zone));
	} else {
		snprintf(zone, sizeof(zone), "%s", a->zone);
	}
	fprintf(out, "%s: %s started; `tandem zone show %s` shows how it went\n", zone,
	        *result != '\0' ? result : a->action, zone);
	return ferror(out) ? TDM_EIO : TDM_OK;
}

static int run_action(cli_opts_t *o, const char *sub, const char *zone)
{
	char path[CLI_PATH_MAX];
	json_t *reply;
	if (cli_api_zone_path(zone, sub, path, sizeof(path)) != TDM_OK) {
		fprintf(stderr, "tandem zone %s: '%s' is not a zone name\n", sub, zone);
		return CLI_EXIT_USAGE;
	}
	int status = cli_api_call(o, "POST", path, &reply, stderr);
	if (status != CLI_EXIT_OK)
		return status;
	cli_zone_action_t what = { .zone = zone, .action = sub };
	int ret = o->json ? cli_api_print_json(stdout, reply) : cli_zone_result_print(stdout, reply, &what);
	json_decref(reply);
	if (ret == TDM_OK && fflush(stdout) != 0)
		ret = TDM_EIO;
	return ret == TDM_OK ? CLI_EXIT_OK : CLI_EXIT_API;
}

/* ---- dispatch ---- */

static int usage_error(const char *fmt, const char *arg)
{
	fputs("tandem zone: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n\n", stderr);
	usage(stderr);
	return CLI_EXIT_USAGE;
}

static const struct subcommand *find(const char *name)
{
	for (size_t i = 0; i < NSUB; i++) {
		if (strcmp(name, subcommands[i].name) == 0)
			return &subcommands[i];
	}
	return NULL;
}

int cli_zone_main(cli_opts_t *o, int argc, char **argv)
{
	char err[512];
	int npos;
	/* create, set and delete take options of their own (cli/zonecreate.c). */
	for (int i = 0; i < argc; i++) {
		if (argv[i][0] == '-') {
			/* A global option's value is not the subcommand. */
			static const char *const valued[] = { "--server", "--key-file", "--api-key",
			                                      "--timeout" };
			for (size_t v = 0; v < sizeof(valued) / sizeof(valued[0]); v++)
				if (strcmp(argv[i], valued[v]) == 0)
					i++;
			continue;
		}
		if (cli_zonecreate_handles(argv[i]))
			return cli_zonecreate_main(o, argv[i], argc, argv);
		break;
	}
	if (cli_opts_parse(o, argc, argv, NULL, 0, argv, &npos, err, sizeof(err)) != TDM_OK)
		return usage_error("%s", err);
	if (o->help || (npos > 0 && strcmp(argv[0], "help") == 0)) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (npos == 0)
		return usage_error("%s", "which subcommand?");
	if (cli_zonetext_known(argv[0]))
		return cli_zonetext_main(o, argv[0], argc - 1, argv + 1);
	const struct subcommand *sub = find(argv[0]);
	if (sub == NULL)
		return usage_error("unknown subcommand '%s'", argv[0]);
	if (sub->run == NULL) {
		fprintf(stderr, "tandem zone %s: not available yet in this version\n", sub->name);
		return CLI_EXIT_USAGE;
	}
	int want = sub->args[0] == '\0' ? 1 : 2;
	if (npos < want)
		return usage_error("%s wants a zone name", sub->name);
	if (npos > want)
		return usage_error("unexpected '%s'", argv[want]);
	return sub->run(o, sub->name, want == 2 ? argv[1] : NULL);
}
