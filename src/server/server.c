/* server/server.c -- the daemon: configuration, store, zones, listeners and workers; start, reload, signals, stop */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "api/api.h"
#include "api/apikeys.h"
#include "api/apilookup.h"
#include "api/apiorder.h"
#include "api/http.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/sdnotify.h"
#include "provision/apizone.h"
#include "provision/catproduce.h"
#include "provision/catconsume.h"
#include "provision/dynzone.h"
#include "provision/zones.h"
#include "rrl/rrl.h"
#include "runtime/filesync.h"
#include "runtime/inbox.h"
#include "runtime/zonework.h"
#include "runtime/metrics.h"
#include "runtime/runtime.h"
#include "runtime/tlsctx.h"
#include "runtime/tsigkeys.h"
#include "runtime/zoneload.h"
#include "server/control.h"
#include "server/net.h"
#include "server/server.h"
#include "server/tcp.h"
#include "server/worker.h"
#include "server/xfrout.h"
#include "server/xot.h"
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

static int setup_shared(server_t *srv)
{
	const conf_server_t *cs = &srv->rc->conf->server;
	srv->shared.srv = srv;
	srv->shared.zones = &srv->zones;
	if (getrandom(srv->shared.cookie_secret, sizeof(srv->shared.cookie_secret), 0) !=
	    (ssize_t)sizeof(srv->shared.cookie_secret)) {
		log_err("cannot get random bytes for the cookie secret");
		return TDM_ERROR;
	}
	if (cs->identity != NULL && (srv->identity = strdup(cs->identity)) == NULL)
		return TDM_ENOMEM;
	srv->shared.identity = srv->identity;
	srv->shared.udp_payload = (uint16_t)cs->udp_payload;
	srv->shared.tcp_idle_timeout = cs->tcp_idle_timeout;
	srv->shared.tcp_max_clients = cs->tcp_max_clients;
	rrl_conf_t rrl = { .rate = cs->rate_limit, .slip = cs->rate_limit_slip,
	                   .ipv4_prefix = cs->rate_limit_ipv4_prefix,
	                   .ipv6_prefix = cs->rate_limit_ipv6_prefix,
	                   .table_size = cs->rate_limit_table_size, .exempt = cs->rate_limit_exempt,
	                   .exempt_count = cs->rate_limit_exempt_count };
	srv->shared.rrl = rrl_new(&rrl);
	if (rrl.rate > 0 && srv->shared.rrl == NULL)
		return TDM_ENOMEM;
	if (rrl.rate > 0)
		log_info("response rate limiting: %u answers a second per /%u (IPv4) or /%u (IPv6) network, "
		         "slip %u", rrl.rate, rrl.ipv4_prefix, rrl.ipv6_prefix, rrl.slip);
	return TDM_OK;
}

/* Signals, handled on the control thread's loop: SIGHUP reloads, SIGTERM and SIGINT stop. */
static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	server_t *srv = arg;
	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading");
		sdnotify("RELOADING=1\nSTATUS=reloading");
		server_reload(srv);
		char status[64];
		snprintf(status, sizeof(status), "READY=1\nSTATUS=serving %zu zones", zoneset_count(srv->zones));
		sdnotify(status);
		return;
	}
	log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	sdnotify("STOPPING=1\nSTATUS=stopping");
	srv->stopping = true;
	event_base_loopbreak(srv->base);
}

static int signals_add(server_t *srv)
{
	srv->sig_hup = evsignal_new(srv->base, SIGHUP, signal_cb, srv);
	srv->sig_term = evsignal_new(srv->base, SIGTERM, signal_cb, srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, signal_cb, srv);
	if (srv->sig_hup == NULL || srv->sig_term == NULL || srv->sig_int == NULL)
		return TDM_ENOMEM;
	event_add(srv->sig_hup, NULL);
	event_add(srv->sig_term, NULL);
	event_add(srv->sig_int, NULL);
	return TDM_OK;
}

static void signals_free(server_t *srv)
{
	struct event **evs[] = { &srv->sig_hup, &srv->sig_term, &srv->sig_int };
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (*evs[i] != NULL)
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
}

int server_new(const char *conf_path, server_t **out)
{
	server_t *srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return TDM_ENOMEM;
	srv->notify_fd4 = srv->notify_fd6 = srv->inbox_fd = -1;
	srv->reconfig = server_reconfig;
	/* The control thread reads zones under RCU like the workers. */
	rcu_register_thread();
	conf_t *conf = NULL;
	int ret = TDM_ENOMEM;
	if (conf_path != NULL && (srv->conf_path = strdup(conf_path)) == NULL)
		goto fail;
	if ((ret = load_conf(conf_path, &conf)) != TDM_OK)
		goto fail;
	log_set_format(conf->server.log_format == CONF_LOG_JSON ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
	if ((ret = runconf_new(conf, &srv->rc)) != TDM_OK) {
		conf_free(conf);
		goto fail;
	}
	if ((ret = tlsctx_configure(&srv->tls, conf)) != TDM_OK)
		goto fail;
	if ((ret = store_open(conf->server.data_dir, &srv->store)) != TDM_OK) {
		log_err("cannot open the store in %s (%s)", conf->server.data_dir, tdm_strerror(ret));
		goto fail;
	}
	if ((ret = tsigkeys_load(srv)) != TDM_OK || (ret = apikeys_load(srv)) != TDM_OK ||
	    (ret = metrics_new(srv)) != TDM_OK || (ret = zonework_start(srv)) != TDM_OK)
		goto fail;
	if ((ret = control_init(srv)) != TDM_OK || (ret = signals_add(srv)) != TDM_OK ||
	    (ret = setup_shared(srv)) != TDM_OK || (ret = dynzone_restore(srv, conf)) != TDM_OK ||
	    (ret = apizone_restore(srv, conf)) != TDM_OK ||
	    (ret = zones_build(srv, conf, &srv->zones)) != TDM_OK)
		goto fail;
	zones_arm(srv);
	control_warm_orders(srv);
	control_verify_arm(srv);
	/* Members follow what the stored catalogs say, in case the list and the store disagree. */
	for (size_t i = 0; i < zoneset_count(srv->zones); i++) {
		zonert_t *zr = zonert_of(zoneset_at(srv->zones, i));
		if (zr->conf->catalog == CONF_CATALOG_CONSUME)
			inbox_post(srv, CTL_CATALOG, zr);
	}
	srv->started = (int64_t)time(NULL);
	if ((ret = server_api_start(srv)) != TDM_OK)
		goto fail;
	if (srv->api != NULL)
		api_set_auth(srv->api, apikeys_auth);
	*out = srv;
	return TDM_OK;
fail:
	server_free(srv);
	return ret;
}

/*
 * SIGHUP (zone_files: every zone file looked at) and a reconfiguration (not: only zones new to the set,
 * or whose role or file changed, are loaded; out, when not NULL, says what it did).
 */
static int reload(server_t *srv, bool zone_files, reconfig_result_t *out)
{
	conf_t *conf = NULL;
	runconf_t *rc = NULL, *old_rc = srv->rc;
	/* An unchanged file keeps the configuration in force (conf_reload); all that follows runs the
	 * same for a SIGHUP: keys, TLS certificates and zone files are read again. A reconfiguration
	 * has nothing to do then. */
	int ret = srv->conf_path != NULL ? conf_reload(srv->conf_path, old_rc->conf, &conf)
	                                 : load_conf(NULL, &conf);
	if (ret == TDM_OK && !zone_files && conf == old_rc->conf) {
		conf_free(conf);   /* conf_reload's reference */
		log_info("reconfig: %s unchanged: nothing to apply", old_rc->conf->path);
		if (out != NULL)
			*out = (reconfig_result_t){ .unchanged = true, .zones = zoneset_count(srv->zones) };
		return TDM_OK;
	}
	if (ret == TDM_OK && (ret = runconf_new(conf, &rc)) != TDM_OK)
		conf_free(conf);
	if (ret == TDM_OK && (ret = tsigkeys_attach(srv, rc)) != TDM_OK)
		runconf_free(rc);
	const char *what = zone_files ? "reload" : "reconfig";
	if (ret != TDM_OK) {
		log_err("%s: configuration not loaded (%s), keeping the running one", what,
		        tdm_strerror(ret));
		return ret;
	}
	if (conf == old_rc->conf)
		log_info("reload: %s unchanged: the configuration in force is kept (zone files, keys and "
		         "certificates are read again)", conf->path);
	tlsctx_configure(&srv->tls, conf);   /* a failure is logged; the running TLS contexts stay */
	rcu_assign_pointer(srv->rc, rc);
	dynzone_bind(srv, conf);
	catalog_consume_forget(srv);
	apizone_bind(srv, conf);
	zoneset_t *set = NULL;
	zones_changes_t changes = { 0 };
	ret = zone_files ? zones_build(srv, conf, &set) : zones_reconfigure(srv, conf, &set, &changes);
	if (ret != TDM_OK) {
		log_err("%s: %s, keeping the running zones", what, tdm_strerror(ret));
		/* Zones kept from the old set may point at the new configuration: keep both. */
		return ret;
	}
	zoneset_t *old = rcu_xchg_pointer(&srv->zones, set);
	changes.removed = zones_forget_removed(srv, old, set);
	catproduce_reconfigured(srv, old_rc->conf);   /* members may have come, gone or changed group */
	zones_arm(srv);
	control_warm_orders(srv);
	control_verify_arm(srv);
	/* Workers and jobs may still read the old configuration and set until every reader moved on. */
	synchronize_rcu();
	zoneset_free(old);
	dynzone_collect(srv);
	apizone_collect(srv);
	runconf_free(old_rc);
	if (zone_files) {
		log_info("reloaded: %zu zones", zoneset_count(set));
	} else {
		log_info("reconfigured: %zu zones, %zu added, %zu removed, %zu loaded again (role or file "
		         "changed); the other zones' files not looked at", zoneset_count(set), changes.added,
		         changes.removed, changes.loaded);
	}
	if (out != NULL)
		*out = (reconfig_result_t){ .zones = zoneset_count(set), .added = changes.added,
		                            .removed = changes.removed, .loaded = changes.loaded };
	return TDM_OK;
}

int server_reload(server_t *srv)
{
	return reload(srv, true, NULL);
}

int server_reconfig(server_t *srv, reconfig_result_t *out)
{
	return reload(srv, false, out);
}

/* Opens every worker's sockets: one UDP and one TCP socket per listen address each. */
static int make_worker(server_t *srv, int id, worker_t **out)
{
	const conf_server_t *cs = &srv->rc->conf->server;
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

/* Descriptors the server holds besides TCP clients, beyond each worker's sockets and the transfers
 * out: standard streams, the store, logs, the control loop, NOTIFY sockets, transfers in, the API. */
#define FD_RESERVE 64

/* Raises the soft descriptor limit to the hard one, then lowers tcp-max-clients to what the limit
 * leaves once everything else has its descriptors, so that running out shows as refused TCP clients,
 * not as failing transfers, store or API. */
static void fit_descriptors(server_t *srv, unsigned workers)
{
	const conf_server_t *cs = &srv->rc->conf->server;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rlim_t was = rl.rlim_cur;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_warn("cannot raise the descriptor limit from %llu to %llu (%s)",
			         (unsigned long long)was, (unsigned long long)rl.rlim_max, strerror(errno));
			rl.rlim_cur = was;
		}
	}
	unsigned long long limit = rl.rlim_cur == RLIM_INFINITY ? ~0ULL : (unsigned long long)rl.rlim_cur;
	unsigned long long reserve = (unsigned long long)workers * (2 * cs->listen_count + 2) +
	                             cs->xfr_out_max + FD_RESERVE;
	unsigned long long fit = limit > reserve + 1 ? limit - reserve : 1;
	unsigned max = srv->shared.tcp_max_clients;
	if (fit < max) {
		srv->shared.tcp_max_clients = (unsigned)fit;
		log_warn("tcp-max-clients lowered from %u to %u: %llu descriptors allowed (RLIMIT_NOFILE), "
		         "%llu kept for the rest of the server", max, (unsigned)fit, limit, reserve);
	}
	char raised[64] = "";
	if (was != rl.rlim_cur)
		snprintf(raised, sizeof(raised), " (raised from %llu)", (unsigned long long)was);
	log_info("descriptors: limit %llu%s, tcp-max-clients %u (%u per client address)", limit, raised,
	         srv->shared.tcp_max_clients, tcp_per_address_max(srv->shared.tcp_max_clients));
}

static int start_workers(server_t *srv)
{
	unsigned count = srv->rc->conf->server.workers;
	if (count == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		count = cpus > 0 ? (unsigned)cpus : 1;
	}
	const conf_server_t *cs = &srv->rc->conf->server;
	fit_descriptors(srv, count);
	for (size_t i = 0; i < cs->listen_count; i++) {
		int ret = net_probe(&cs->listen[i], SOCK_DGRAM);
		if (ret == TDM_OK)
			ret = net_probe(&cs->listen[i], SOCK_STREAM);
		if (ret != TDM_OK)
			return ret;
	}
	srv->workers = calloc(count, sizeof(worker_t *));
	/* A metrics cell for each thread that answers: a worker's TCP loop and its UDP threads. */
	if (srv->workers == NULL || metrics_workers(srv, count * (1 + cs->listen_count)) != TDM_OK)
		return TDM_ENOMEM;
	for (unsigned i = 0; i < count; i++) {
		int ret = make_worker(srv, (int)i, &srv->workers[i]);
		if (ret != TDM_OK)
			return ret;
		srv->nworkers++;
		if ((ret = worker_start(srv->workers[i])) != TDM_OK)
			return ret;
	}
	int ret = xot_start(srv);
	if (ret != TDM_OK)
		return ret;
	char text[SOCKADDR_STRLEN];
	for (size_t i = 0; i < srv->rc->conf->server.listen_count; i++)
		log_info("listening on %s (UDP and TCP)",
		         sockaddr_format(&srv->rc->conf->server.listen[i], text, sizeof(text)));
	log_info("serving %zu zones with %u workers", zoneset_count(srv->zones), count);
	char status[96];
	snprintf(status, sizeof(status), "READY=1\nSTATUS=serving %zu zones\nMAINPID=%ld", zoneset_count(srv->zones),
	         (long)getpid());
	sdnotify(status);   /* systemd (Type=notify): the zones are served from here on */
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

static bool jobs_left(server_t *srv)
{
	return atomic_load(&srv->jobs_running) > 0 || xfrout_running() > 0 || xot_running(srv) > 0;
}

/* Jobs on their own threads end by themselves (every wait they do is bounded); a stop waits a few
 * seconds for them, no more: what is committed is in the store, what is not is redone after. */
static void wait_jobs(server_t *srv)
{
	for (unsigned i = 0; i < 30 && jobs_left(srv); i++)
		usleep(100000);
}

int server_run(server_t *srv)
{
	signal(SIGPIPE, SIG_IGN);
	int ret = start_workers(srv);
	if (ret == TDM_OK)
		control_run(srv);
	srv->stopping = true;
	zonework_stop(srv);        /* the write-backs queued done, the compactions dropped */
	filesync_flush_all(srv);   /* dynamic updates not yet in their zone files */
	xot_stop(srv);
	stop_workers(srv);
	wait_jobs(srv);
	return ret;
}

void server_free(server_t *srv)
{
	if (srv == NULL)
		return;
	if (jobs_left(srv)) {
		/* They still use the zones and the store: leave both to the process's exit. */
		log_warn("stopping with transfers still running; they end with the process");
		return;
	}
	if (srv->workers != NULL)
		stop_workers(srv);
	zonework_free(srv);   /* its jobs hold zones */
	apiorder_clear();   /* the records routes' name orders pin versions: unpinned before they go */
	zoneset_t *zones = srv->zones;
	srv->zones = NULL;
	synchronize_rcu();
	/* Zones before the event loop: their timers belong to it. */
	zoneset_free(zones);
	rcu_barrier();   /* every deferred free has run */
	catalog_consume_forget(srv);
	dynzone_free_all(srv);
	apizone_free_all(srv);
	apilookup_wait(srv);
	api_free(srv->api);
	xot_free(srv);
	tlsctx_free(srv->tls);
	signals_free(srv);
	control_free(srv);
	if (srv->base != NULL)
		event_base_free(srv->base);
	store_close(srv->store);
	runconf_free(srv->rc);
	tsigkeys_free(srv);
	apikeys_free(srv);
	metrics_free(srv);
	free(srv->identity);
	rrl_free(srv->shared.rrl);
	free(srv->conf_path);
	free(srv);
	rcu_unregister_thread();
}
