/* tandem/main.c -- the `tandem` operator CLI: startup and command dispatch; commands live in the library */
#include <stdio.h>
#include <string.h>

#include "lookup/lookup.h"

/* One row per command of SPEC.md "Programs"; run is NULL until the command exists (the HTTP API
 * commands come with the API). */
struct command {
	const char *name;
	const char *args;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "lookup", "NAME [TYPE] [CLASS] [@SERVER[@PORT]] [+tcp] [+axfr] [+norec] [+dnssec] [--json]",
	  lookup_main },
	{ "status", "", NULL },
	{ "zone", "list|show|add|quick|remove|reload|notify|refresh|retransfer|export|import ...", NULL },
	{ "record", "list|add|remove|replace ...", NULL },
	{ "verify", "ZONE", NULL },
	{ "keygen", "NAME [ALGORITHM]", NULL },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("usage: tandem COMMAND [ARGS...]\n\ncommands:\n", out);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  tandem %s %s%s\n", commands[i].name, commands[i].args,
		        commands[i].run == NULL ? "  (not available yet)" : "");
	fputs("\n`tandem COMMAND --help` tells more about one command.\n", out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	const char *name = argv[1];
	if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(name, commands[i].name) != 0)
			continue;
		if (commands[i].run == NULL) {
			fprintf(stderr, "tandem: '%s' is not available yet in this version\n", name);
			return 1;
		}
		return commands[i].run(argc - 2, argv + 2);
	}
	fprintf(stderr, "tandem: unknown command '%s'\n\n", name);
	usage(stderr);
	return 1;
}
