/* tandemd/main.c -- the server's startup: arguments, --check, then the runtime */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "conf/conf.h"
#include "lib/error.h"
#include "lib/log.h"
#include "runtime/zoneload.h"
#include "server/server.h"
#include "store/store.h"
#include "wire/name.h"
#include "zonefile/zonefile.h"

#define TANDEM_VERSION "0.1.0"

static void usage(FILE *out)
{
	fprintf(out, "usage: tandemd [-c FILE] [--check | --export ZONE | --restore BACKUP | --api-routes] [-v] [-V]\n"
	             "  -c, --config FILE  configuration (YAML); without it, the embedded default\n"
	             "      --check        validate the configuration and every zone file, then exit\n"
	             "      --export ZONE  write the stored zone to stdout in master format, then exit\n"
	             "      --restore BACKUP  put a backup (tandem backup) in place of the store in\n"
	             "                     data-dir, the old one kept as tandem.db.bak; the server\n"
	             "                     must be stopped\n"
	             "      --api-routes   print the HTTP API's routes (method and path), then exit\n"
	             "  -v, --verbose      log debug messages too\n"
	             "  -V, --version      print the version\n");
}

/* tandemd --check: every problem as "file:line: problem"; non-zero exit when there is any. */
static int check(const char *path)
{
	conf_t *conf = NULL;
	if (path == NULL) {
		fprintf(stderr, "tandemd: --check needs -c FILE\n");
		return 2;
	}
	if (conf_load(path, &conf) != TDM_OK)
		return 1;
	int failed = 0;
	for (size_t i = 0; i < conf->zone_count; i++)
		if (zoneload_check_file(&conf->zones[i]) != TDM_OK)
			failed++;
	if (failed == 0)
		printf("%s: configuration and %zu zones OK\n", path, conf->zone_count);
	conf_free(conf);
	return failed ? 1 : 0;
}

/* tandemd --export ZONE: the zone as the store holds it (what a restart would serve). */
static int export_zone(const char *path, const char *zone)
{
	conf_t *conf = NULL;
	int ret = path ? conf_load(path, &conf) : TDM_EINVAL;
	if (ret != TDM_OK) {
		fprintf(stderr, "tandemd: --export needs a valid -c FILE\n");
		return 2;
	}
	uint8_t apex[NAME_MAXLEN];
	char name[NAME_TEXT_MAX];
	store_t *store = NULL;
	rrlist_t *list = NULL, *current = NULL;
	zone_contents_t *z = NULL;
	if (name_from_text(zone, NULL, apex) < 0) {
		fprintf(stderr, "tandemd: '%s' is not a domain name\n", zone);
		ret = TDM_EINVAL;
		goto out;
	}
	name_copy_lower(apex, apex);
	name_to_text(apex, name, sizeof(name));
	/* The stored version: the contents and the journal entries after them. */
	if ((ret = store_open(conf->server.data_dir, &store)) != TDM_OK ||
	    (ret = store_zone_load(store, name, &list)) != TDM_OK ||
	    (ret = zoneload_replay(store, name, apex, list, &z)) != TDM_OK ||
	    (ret = (current = rrlist_new()) == NULL ? TDM_ENOMEM : TDM_OK) != TDM_OK ||
	    (ret = zone_contents_to_rrlist(z, current)) != TDM_OK ||
	    (ret = rrlist_sort(current)) != TDM_OK || (ret = zonefile_dump(current, apex, stdout)) != TDM_OK)
		fprintf(stderr, "tandemd: cannot export %s (%s)\n", name, tdm_strerror(ret));
out:
	zone_contents_free(z);
	rrlist_free(current);
	rrlist_free(list);
	store_close(store);
	conf_free(conf);
	return ret == TDM_OK ? 0 : 1;
}

/* tandemd --restore BACKUP: offline, into the data-dir of the configuration (store_restore). */
static int restore(const char *path, const char *backup)
{
	conf_t *conf = NULL;
	int64_t zones = 0;
	if (path == NULL || conf_load(path, &conf) != TDM_OK) {
		fprintf(stderr, "tandemd: --restore needs a valid -c FILE (it names the data-dir)\n");
		return 2;
	}
	int ret = store_restore(conf->server.data_dir, backup, &zones);
	if (ret == TDM_OK)
		printf("%s/tandem.db: restored from %s (%lld zones); start tandemd to serve it\n",
		       conf->server.data_dir, backup, (long long)zones);
	else
		fprintf(stderr, "tandemd: nothing restored (%s)\n", tdm_strerror(ret));
	conf_free(conf);
	return ret == TDM_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "check", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },      { "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },         { "export", required_argument, NULL, 'E' },
		{ "restore", required_argument, NULL, 'R' },
		{ "api-routes", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	bool check_only = false;
	const char *export_name = NULL, *restore_from = NULL;
	int opt;
	const char *env = getenv("TANDEM_LOG");
	if (env != NULL && strcmp(env, "debug") == 0)
		log_set_level(LOG_DEBUG);
	while ((opt = getopt_long(argc, argv, "c:vVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'C': check_only = true; break;
		case 'E': export_name = optarg; break;
		case 'R': restore_from = optarg; break;
		case 'A': api_routes_print(stdout); return 0;
		case 'v': log_set_level(LOG_DEBUG); break;
		case 'V': printf("tandemd %s\n", TANDEM_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (check_only)
		return check(path);
	if (export_name != NULL)
		return export_zone(path, export_name);
	if (restore_from != NULL)
		return restore(path, restore_from);
	server_t *srv = NULL;
	int ret = server_new(path, &srv);
	if (ret != TDM_OK) {
		log_err("not started: %s", tdm_strerror(ret));
		return 1;
	}
	ret = server_run(srv);
	server_free(srv);
	return ret == TDM_OK ? 0 : 1;
}
