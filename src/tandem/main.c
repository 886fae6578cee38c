/* tandem/main.c -- the `tandem` operator CLI: startup and command dispatch; commands live in the library */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/importconf.h"
#include "cli/opts.h"
#include "cli/record.h"
#include "lookup/lookup.h"

/* One row per command of SPEC.md "Programs". A command takes either its own words only (run) or the
 * global options too (run_cli); neither set means the command does not exist yet. */
struct command {
	const char *name;
	const char *args;
	int (*run)(int argc, char **argv);
	int (*run_cli)(cli_opts_t *o, int argc, char **argv);
};

static const struct command commands[] = {
	{ "lookup", "NAME [TYPE] [CLASS] [@SERVER[@PORT]] [+tcp] [+axfr] [+norec] [+dnssec] [--json]",
	  lookup_main, NULL },
	{ "status", "[--json]", NULL, cli_status_main },
	{ "zone", "list|show|reload|notify|refresh|retransfer|create|set|delete|export|import|edit|history|"
	  "revert [ZONE] [--json]", NULL, cli_zone_main },
	{ "record", "list|add|del|set ZONE ...", NULL, cli_record_main },
	{ "verify", "ZONE [@SERVER[@PORT]] [--json]", NULL, cli_verify_main },
	{ "keygen", "NAME [ALGORITHM] [--bind] [--json]", NULL, cli_keygen_main },
	{ "backup", "FILE [--json]", NULL, cli_backup_main },
	{ "reconfig", "[--json]", NULL, cli_reconfig_main },
	{ "import-config", "FILE [--from bind|knot|nsd] [-o OUT] [--data-dir DIR]", cli_importconf_main,
	  NULL },
	{ "key", "list [--secrets]|create NAME [ALGORITHM [SECRET]]|delete NAME [--json]", NULL,
	  cli_key_main },
	{ "apikey", "list|create NAME read|write [ZONE...]|delete NAME [--json]", NULL, cli_apikey_main },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("usage: tandem [GLOBAL OPTIONS] COMMAND [ARGS...]\n\ncommands:\n", out);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  tandem %s %s%s\n", commands[i].name, commands[i].args,
		        commands[i].run == NULL && commands[i].run_cli == NULL ? "  (not available yet)"
		                                                              : "");
	fputc('\n', out);
	cli_opts_usage(out);
	fputs("\n`tandem COMMAND --help` tells more about one command.\n", out);
}

static int dispatch(const struct command *c, cli_opts_t *o, bool globals, int argc, char **argv)
{
	if (c->run_cli != NULL)
		return c->run_cli(o, argc, argv);
	if (c->run == NULL) {
		fprintf(stderr, "tandem: '%s' is not available yet in this version\n", c->name);
		return CLI_EXIT_USAGE;
	}
	if (globals) {
		fprintf(stderr, "tandem %s: the global options are for the API commands; put this "
		        "command's own options after it (tandem %s --help)\n", c->name, c->name);
		return CLI_EXIT_USAGE;
	}
	return c->run(argc, argv);
}

int main(int argc, char **argv)
{
	cli_opts_t o;
	char err[512];
	int used;
	cli_opts_init(&o, getenv("TANDEM_API"), getenv("TANDEM_API_KEY"));
	if (cli_opts_leading(&o, argc - 1, argv + 1, &used, err, sizeof(err)) != 0) {
		fprintf(stderr, "tandem: %s\n\n", err);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (used == argc - 1) {
		usage(o.help ? stdout : stderr);
		return o.help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1 + used], "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	const char *name = argv[1 + used];
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(name, commands[i].name) == 0)
			return dispatch(&commands[i], &o, used > 0, argc - 2 - used, argv + 2 + used);
	}
	fprintf(stderr, "tandem: unknown command '%s'\n\n", name);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
