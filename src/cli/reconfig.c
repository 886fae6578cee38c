/* cli/reconfig.c -- `tandem reconfig`: the server reads its configuration again, zone files left alone */
#include <stdlib.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "cli/fmt.h"
#include "lib/error.h"

/* Beside a configuration of many zones the call takes the parse of the file (half a second at 100,000
 * zones) and the zones it adds: more than an ordinary call's timeout allows on a busy machine. */
#define RECONFIG_TIMEOUT 600

static void usage(FILE *out)
{
	fputs("usage: tandem [GLOBAL OPTIONS] reconfig [--json]\n\n"
	      "Asks tandemd to read its configuration file again and apply it, as SIGHUP does, except\n"
	      "that the zone files of the zones it keeps are not looked at: a zone added to the file is\n"
	      "loaded, a zone gone from it is removed with its data, a zone whose role or zone file\n"
	      "changed is loaded again, and every other setting takes effect. A configuration that does\n"
	      "not load changes nothing (`tandemd --check -c FILE` prints its problems). To read changed\n"
	      "zone files too, send SIGHUP, or `tandem zone reload ZONE` for one.\n\n", out);
	cli_opts_usage(out);
}

int cli_reconfig_main(cli_opts_t *o, int argc, char **argv)
{
	char err[512], b1[32], b2[32], b3[32], b4[32];
	int npos;
	json_t *reply = NULL;
	if (cli_opts_parse(o, argc, argv, NULL, 0, argv, &npos, err, sizeof(err)) != TDM_OK) {
		fprintf(stderr, "tandem reconfig: %s\n\n", err);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (o->help) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (npos != 0) {
		fprintf(stderr, "tandem reconfig: no arguments expected (the server reads its own file)\n\n");
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (o->timeout == 0)
		o->timeout = RECONFIG_TIMEOUT;
	int status = cli_api_call(o, "POST", "/reconfig", &reply, stderr);
	if (status != CLI_EXIT_OK)
		return status;
	int ret = TDM_OK;
	if (o->json) {
		ret = cli_api_print_json(stdout, reply);
	} else if (json_is_true(json_object_get(reply, "unchanged"))) {
		printf("%s: unchanged, nothing to apply (%s zones)\n", cli_json_str(reply, "file", "?"),
		       cli_json_int_text(reply, "zones", "?", b1, sizeof(b1)));
	} else {
		printf("%s: applied: %s zones, %s added, %s removed, %s loaded again (role or file changed)\n",
		       cli_json_str(reply, "file", "?"), cli_json_int_text(reply, "zones", "?", b1, sizeof(b1)),
		       cli_json_int_text(reply, "added", "?", b2, sizeof(b2)),
		       cli_json_int_text(reply, "removed", "?", b3, sizeof(b3)),
		       cli_json_int_text(reply, "loaded", "?", b4, sizeof(b4)));
	}
	json_decref(reply);
	if (ret == TDM_OK && fflush(stdout) != 0)
		ret = TDM_EIO;
	return ret == TDM_OK ? CLI_EXIT_OK : CLI_EXIT_API;
}
