/* server/server.h -- the daemon: configuration, store, zones, listeners and workers; start, reload, signals, stop */
#pragma once

#include <stdbool.h>

#include "conf/conf.h"
#include "zone/zoneset.h"

typedef struct server server_t;
struct reconfig_result;   /* runtime/runtime.h */

/*
 * Loads the configuration (path; NULL = the embedded default), opens the store and loads every zone:
 * a zone file that changed since it was last imported is parsed, checked and committed to the store
 * before it is served; otherwise the zone comes from the store. A zone that cannot be loaded is
 * logged and left without contents (it answers SERVFAIL). Returns TDM_OK and *out, or an error.
 */
int server_new(const char *conf_path, server_t **out);

/* Binds every listen address, starts the workers, and serves until SIGTERM or SIGINT; SIGHUP
 * reloads. Returns TDM_OK after a clean stop, or an error when a listener cannot be set up. */
int server_run(server_t *srv);

void server_free(server_t *srv);

/* Reloads the configuration and changed zone files; keeps serving the old state for anything that
 * fails. Returns TDM_OK or the first error (which was logged). Called from the control thread. */
int server_reload(server_t *srv);

/* Reads the configuration file again and applies it as SIGHUP does, except that the zone files of the
 * zones it keeps are not looked at: zones new to it are loaded, zones gone from it removed, a zone whose
 * role or zone file changed loaded again, every other setting applied (NSD's `nsd-control reconfig`).
 * The API's POST /reconfig (server_t.reconfig). TDM_OK, or the configuration's error, nothing changed. */
int server_reconfig(server_t *srv, struct reconfig_result *out);

/* The zone set currently published (inside an RCU read section). */
zoneset_t *server_zones(server_t *srv);
