/* api/api_impl.h -- what the API's route modules share: a call and a route (helpers: api_call.h, api_view.h) */
#pragma once

#include "api/http.h"
#include "runtime/runtime.h"
#include "runtime/zonert.h"

/*
 * A route is a method and a pattern of path segments under /api/v1/: literals, "{zone}" (a zone we
 * serve, looked up before the handler runs: 404 when there is none, 403 when the key may not touch
 * it) and "*" (any one segment, in call->params). Every table ends with an entry whose method is NULL.
 * The router (api/api.c) answers 404 for a path no route has, 405 for a method no route of that
 * path takes, and 403 for a write (any method but GET and HEAD) by a read-only key, before the
 * handler runs; it logs every write with the key's name and the status.
 *
 * Handlers run on the control thread, which alone changes the zone set: they may look at the set and
 * at zonert_t fields outside an RCU read section, but must take rcu_read_lock() around reading a
 * zone's contents (zone_contents) and must not call synchronize_rcu inside it.
 */
typedef struct {
	server_t *srv;
	const api_request_t *req;
	zonert_t *zr;                  /* the route's {zone}, NULL when it has none */
	const char *params[API_PATH_MAX];   /* the segments that matched '*', in order */
	int nparams;
} api_call_t;

typedef void (*api_route_fn)(const api_call_t *call, api_reply_t *reply);

typedef struct {
	const char *method;            /* "GET" (also answers HEAD), "POST", "PUT", "PATCH", "DELETE" */
	const char *pattern;           /* "zones/{zone}/records", "keys/ *" (no space) */
	api_route_fn fn;
} api_route_t;

/* The tables, one per module, each ended by { NULL }. */
extern const api_route_t api_routes_core[];      /* api/api.c: status, zones list/detail, actions */
extern const api_route_t api_routes_zones[];     /* api/api_zones.c: create, properties, delete */
extern const api_route_t api_routes_records[];   /* api/api_records.c: records, text, history */
extern const api_route_t api_routes_meta[];      /* api/api_meta.c: keys, metrics, lookup, OpenAPI */
extern const api_route_t api_routes_backup[];    /* api/api_backup.c: POST backup */
extern const api_route_t api_routes_reconfig[];  /* api/api_reconfig.c: POST reconfig */
