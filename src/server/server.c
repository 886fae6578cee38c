/* server/server.c -- the runtime: configuration, store, zones, listeners, workers, signals */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/error.h"
#include "lib/log.h"
#include "server/net.h"
#include "server/server.h"
#include "server/worker.h"
#include "server/zoneload.h"
#include "store/store.h"
#include "wire/name.h"

/* The configuration tandemd runs on without -c: SPEC.md "Programs". */
static const char default_conf[] =
	"server:\n"
	"  listen: [127.0.0.1@5300]\n"
	"  data-dir: ./var\n"
	"http:\n"
	"  listen: 127.0.0.1@8053\n"
	"  api-key-file: ./var/api.key\n";

struct server {
	char *conf_path;          /* NULL = embedded default */
	conf_t *conf;
	store_t *store;
	zoneset_t *zones;         /* RCU-published */
	char *identity;
	worker_shared_t shared;
	worker_t **workers;
	size_t nworkers;
};

static int load_conf(const char *path, conf_t **out)
{
	if (path == NULL)
		return conf_load_string(default_conf, "(default)", out);
	return conf_load(path, out);
}

zoneset_t *server_zones(server_t *srv)
{
	return rcu_dereference(srv->zones);
}

/* Finds a zone of the current set by its textual name, or NULL. */
static zone_t *current_zone(server_t *srv, const char *name)
{
	uint8_t wire[NAME_MAXLEN];
	int len = name_from_text(name, NULL, wire);
	if (len < 0 || srv->zones == NULL)
		return NULL;
	name_copy_lower(wire, wire);
	return zoneset_find_exact(srv->zones, wire, len);
}

/* Builds the zone table for conf: zones kept from the current set, new ones created and loaded. */
static int build_zones(server_t *srv, const conf_t *conf, zoneset_t **out)
{
	zone_t **zones = calloc(conf->zone_count ? conf->zone_count : 1, sizeof(zone_t *));
	if (zones == NULL)
		return TDM_ENOMEM;
	size_t n = 0;
	int ret = TDM_OK;
	for (size_t i = 0; i < conf->zone_count; i++) {
		const conf_zone_t *cz = &conf->zones[i];
		zone_t *zone = current_zone(srv, cz->name);
		uint8_t apex[NAME_MAXLEN];
		if (zone != NULL) {
			zone_ref(zone);
		} else if (name_from_text(cz->name, NULL, apex) < 0 || (zone = zone_new(apex)) == NULL) {
			ret = TDM_ENOMEM;
			break;
		}
		zones[n++] = zone;
		zone_contents_t *contents = NULL;
		/* A zone that fails to load keeps what it served (or nothing: SERVFAIL). */
		if (zoneload_configured(srv->store, cz, zone_contents(zone) != NULL, &contents) ==
		        TDM_OK && contents != NULL)
			zone_set_contents(zone, contents);
	}
	zoneset_t *set = ret == TDM_OK ? zoneset_new(zones, n) : NULL;
	for (size_t i = 0; i < n; i++)
		zone_unref(zones[i]);
	free(zones);
	if (set == NULL)
		return ret == TDM_OK ? TDM_ENOMEM : ret;
	*out = set;
	return TDM_OK;
}

/* Config zones follow the config file: a zone dropped from it is dropped from the store too. */
static void forget_removed(server_t *srv, const conf_t *conf)
{
	zoneset_t *old = srv->zones;
	for (size_t i = 0; old != NULL && i < zoneset_count(old); i++) {
		const char *name = zone_name_text(zoneset_at(old, i));
		if (conf_zone_find(conf, name) != NULL)
			continue;
		log_info("%s: removed from the configuration, deleting its data", name);
		store_zone_delete(srv->store, name);
	}
}

int server_new(const char *conf_path, server_t **out)
{
	server_t *srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return TDM_ENOMEM;
	int ret = TDM_ENOMEM;
	if (conf_path != NULL && (srv->conf_path = strdup(conf_path)) == NULL)
		goto fail;
	if ((ret = load_conf(conf_path, &srv->conf)) != TDM_OK)
		goto fail;
	if ((ret = store_open(srv->conf->server.data_dir, &srv->store)) != TDM_OK) {
		log_err("cannot open the store in %s (%s)", srv->conf->server.data_dir,
		        tdm_strerror(ret));
		goto fail;
	}
	if ((ret = build_zones(srv, srv->conf, &srv->zones)) != TDM_OK)
		goto fail;
	srv->shared.zones = &srv->zones;
	if (getrandom(srv->shared.cookie_secret, sizeof(srv->shared.cookie_secret), 0) !=
	    (ssize_t)sizeof(srv->shared.cookie_secret)) {
		log_err("cannot get random bytes for the cookie secret");
		ret = TDM_ERROR;
		goto fail;
	}
	if (srv->conf->server.identity != NULL &&
	    (srv->identity = strdup(srv->conf->server.identity)) == NULL) {
		ret = TDM_ENOMEM;
		goto fail;
	}
	srv->shared.identity = srv->identity;
	srv->shared.udp_payload = (uint16_t)srv->conf->server.udp_payload;
	srv->shared.tcp_idle_timeout = srv->conf->server.tcp_idle_timeout;
	srv->shared.tcp_max_clients = srv->conf->server.tcp_max_clients;
	*out = srv;
	return TDM_OK;
fail:
	server_free(srv);
	return ret;
}

int server_reload(server_t *srv)
{
	conf_t *conf = NULL;
	int ret = load_conf(srv->conf_path, &conf);
	if (ret != TDM_OK) {
		log_err("reload: configuration not loaded (%s), keeping the running one",
		        tdm_strerror(ret));
		return ret;
	}
	zoneset_t *set = NULL;
	if ((ret = build_zones(srv, conf, &set)) != TDM_OK) {
		log_err("reload: %s, keeping the running zones", tdm_strerror(ret));
		conf_free(conf);
		return ret;
	}
	forget_removed(srv, conf);
	zoneset_t *old = rcu_xchg_pointer(&srv->zones, set);
	zoneset_free_rcu(old);
	/* Listen addresses, workers and identity are read at start only (docs/configuration.md). */
	conf_free(srv->conf);
	srv->conf = conf;
	log_info("reloaded: %zu zones", zoneset_count(set));
	return TDM_OK;
}

/* Opens every worker's sockets: one UDP and one TCP socket per listen address each. */
static int make_worker(server_t *srv, int id, worker_t **out)
{
	const conf_server_t *cs = &srv->conf->server;
	int udp[cs->listen_count ? cs->listen_count : 1], tcp[cs->listen_count ? cs->listen_count : 1];
	size_t n = 0;
	int ret = TDM_OK;
	for (; n < cs->listen_count; n++) {
		udp[n] = net_bind(&cs->listen[n], SOCK_DGRAM);
		tcp[n] = udp[n] >= 0 ? net_bind(&cs->listen[n], SOCK_STREAM) : -1;
		if (udp[n] < 0 || tcp[n] < 0) {
			ret = udp[n] < 0 ? udp[n] : tcp[n];
			if (udp[n] >= 0)
				close(udp[n]);
			break;
		}
	}
	if (ret == TDM_OK && (*out = worker_new(&srv->shared, id, udp, n, tcp, n)) != NULL)
		return TDM_OK;
	if (ret == TDM_OK)
		ret = TDM_ENOMEM;   /* worker_new closed the sockets */
	else
		for (size_t i = 0; i < n; i++)
			close(udp[i]), close(tcp[i]);
	return ret;
}

static int start_workers(server_t *srv)
{
	unsigned count = srv->conf->server.workers;
	if (count == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		count = cpus > 0 ? (unsigned)cpus : 1;
	}
	srv->workers = calloc(count, sizeof(worker_t *));
	if (srv->workers == NULL)
		return TDM_ENOMEM;
	for (unsigned i = 0; i < count; i++) {
		int ret = make_worker(srv, (int)i, &srv->workers[i]);
		if (ret != TDM_OK)
			return ret;
		srv->nworkers++;
		if ((ret = worker_start(srv->workers[i])) != TDM_OK)
			return ret;
	}
	char text[SOCKADDR_STRLEN];
	for (size_t i = 0; i < srv->conf->server.listen_count; i++)
		log_info("listening on %s (UDP and TCP)",
		         sockaddr_format(&srv->conf->server.listen[i], text, sizeof(text)));
	log_info("serving %zu zones with %u workers", zoneset_count(srv->zones), count);
	return TDM_OK;
}

static void stop_workers(server_t *srv)
{
	atomic_store(&srv->shared.stop, true);
	for (size_t i = 0; i < srv->nworkers; i++)
		worker_stop(srv->workers[i]);
	for (size_t i = 0; i < srv->nworkers; i++)
		worker_free(srv->workers[i]);
	free(srv->workers);
	srv->workers = NULL;
	srv->nworkers = 0;
}

int server_run(server_t *srv)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Blocked here, before any thread starts, so only this thread ever takes them (sigwaitinfo). */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int ret = start_workers(srv);
	while (ret == TDM_OK) {
		siginfo_t info;
		int sig = sigwaitinfo(&set, &info);
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading");
			server_reload(srv);
		} else if (sig == SIGTERM || sig == SIGINT) {
			log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
	}
	stop_workers(srv);
	return ret;
}

void server_free(server_t *srv)
{
	if (srv == NULL)
		return;
	if (srv->workers != NULL)
		stop_workers(srv);
	zoneset_t *zones = srv->zones;
	srv->zones = NULL;
	if (zones != NULL) {
		synchronize_rcu();
		zoneset_free(zones);
	}
	rcu_barrier();   /* every deferred free has run */
	store_close(srv->store);
	conf_free(srv->conf);
	free(srv->identity);
	free(srv->conf_path);
	free(srv);
}
