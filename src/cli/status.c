/* cli/status.c -- `tandem status`: what the server is, how long it has run, what it serves */
#include <stdlib.h>
#include <time.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "cli/fmt.h"
#include "cli/status.h"
#include "lib/error.h"

static void usage(FILE *out)
{
	fputs("usage: tandem [GLOBAL OPTIONS] status [--json]\n\n"
	      "Shows the server's version, uptime, number of zones, workers and listen addresses.\n\n",
	      out);
	cli_opts_usage(out);
}

/* The listen addresses on one line; anything but strings as compact JSON. */
static void print_listen(FILE *out, const json_t *listen)
{
	size_t i;
	json_t *v;
	if (!json_is_array(listen) || json_array_size(listen) == 0) {
		fputs("-\n", out);
		return;
	}
	json_array_foreach(listen, i, v) {
		if (i > 0)
			fputs(", ", out);
		if (json_is_string(v)) {
			fputs(json_string_value(v), out);
			continue;
		}
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		fputs(text != NULL ? text : "?", out);
		free(text);
	}
	fputc('\n', out);
}

int cli_status_print(FILE *out, const json_t *status, void *arg)
{
	int64_t now = *(const int64_t *)arg, uptime, n;
	char buf[64], when[CLI_TIME_MAX];
	fprintf(out, "version  %s\n", cli_json_str(status, "version", "-"));
	if (cli_json_int(status, "uptime", &uptime))
		fprintf(out, "uptime   %s (up since %s)\n", cli_fmt_duration(uptime, buf, sizeof(buf)),
		        cli_fmt_utc(now - uptime, when, sizeof(when)));
	else
		fputs("uptime   -\n", out);
	fprintf(out, "zones    %s\n", cli_json_int_text(status, "zones", "-", buf, sizeof(buf)));
	/* workers 0 in the config means one per CPU; the API reports the number running. */
	if (cli_json_int(status, "workers", &n))
		fprintf(out, "workers  %lld\n", (long long)n);
	else
		fputs("workers  -\n", out);
	fputs("listen   ", out);
	print_listen(out, json_object_get(status, "listen"));
	return ferror(out) ? TDM_EIO : TDM_OK;
}

int cli_status_main(cli_opts_t *o, int argc, char **argv)
{
	char **pos = argv, err[512];
	int npos;
	if (cli_opts_parse(o, argc, argv, NULL, 0, pos, &npos, err, sizeof(err)) != TDM_OK) {
		fprintf(stderr, "tandem status: %s\n", err);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (o->help) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (npos > 0) {
		fprintf(stderr, "tandem status: unexpected '%s'\n", pos[0]);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	int64_t now = (int64_t)time(NULL);
	return cli_api_show(o, "/status", cli_status_print, &now, stdout, stderr);
}
