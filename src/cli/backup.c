/* cli/backup.c -- `tandem backup FILE`: the server writes a consistent copy of its store to FILE */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "cli/fmt.h"
#include "lib/error.h"

/* A copy of a large store takes longer than one ordinary call. */
#define BACKUP_TIMEOUT 3600

static void usage(FILE *out)
{
	fputs("usage: tandem [GLOBAL OPTIONS] backup FILE [--json]\n\n"
	      "Asks tandemd for a consistent copy of its store (every zone, its journal and state),\n"
	      "taken while it serves. The server writes FILE itself, as its own user and on its own\n"
	      "machine; a relative FILE is taken from the current folder. An existing FILE is never\n"
	      "overwritten. `tandemd --restore FILE` puts a copy back.\n\n", out);
	cli_opts_usage(out);
}

/* Percent-encodes s for a query value: letters, digits and -._~/ stay. */
static int encode(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		             strchr("-._~/", c) != NULL;
		if (n + 4 > cap)
			return TDM_ESPACE;
		if (plain) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return TDM_OK;
}

int cli_backup_main(cli_opts_t *o, int argc, char **argv)
{
	char err[512], abs[PATH_MAX + 2], cwd[PATH_MAX], enc[CLI_PATH_MAX - 64], path[CLI_PATH_MAX];
	int npos;
	json_t *reply = NULL;
	if (cli_opts_parse(o, argc, argv, NULL, 0, argv, &npos, err, sizeof(err)) != TDM_OK) {
		fprintf(stderr, "tandem backup: %s\n\n", err);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (o->help) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (npos != 1 || argv[0][0] == '\0') {
		fprintf(stderr, "tandem backup: %s\n\n", npos == 0 ? "where to? give a FILE" :
		        "one FILE only");
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	int n;
	if (argv[0][0] == '/')
		n = snprintf(abs, sizeof(abs), "%s", argv[0]);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		n = snprintf(abs, sizeof(abs), "%s/%s", cwd, argv[0]);
	else
		n = -1;
	if (n < 0 || (size_t)n >= sizeof(abs) || encode(abs, enc, sizeof(enc)) != TDM_OK ||
	    snprintf(path, sizeof(path), "/backup?file=%s", enc) >= (int)sizeof(path)) {
		fprintf(stderr, "tandem backup: the path %s is too long\n", argv[0]);
		return CLI_EXIT_USAGE;
	}
	if (o->timeout == 0)
		o->timeout = BACKUP_TIMEOUT;
	int status = cli_api_call(o, "POST", path, &reply, stderr);
	if (status != CLI_EXIT_OK)
		return status;
	int ret = TDM_OK;
	if (o->json)
		ret = cli_api_print_json(stdout, reply);
	else
		printf("%s: backup written (%s bytes, schema version %s)\n",
		       cli_json_str(reply, "file", abs),
		       cli_json_int_text(reply, "bytes", "?", err, sizeof(err)),
		       cli_json_int_text(reply, "schema_version", "?", cwd, sizeof(cwd)));
	json_decref(reply);
	if (ret == TDM_OK && fflush(stdout) != 0)
		ret = TDM_EIO;
	return ret == TDM_OK ? CLI_EXIT_OK : CLI_EXIT_API;
}
