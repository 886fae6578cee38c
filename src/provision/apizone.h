/* provision/apizone.h -- zones made through the API: their settings, bound to the configuration in force */
#pragma once

#include <jansson.h>

#include "runtime/runtime.h"
#include "runtime/zonert.h"

/*
 * An API zone is a name, its settings (a JSON object, as the store keeps it) and the conf_zone_t
 * made from them, so that the rest of the server treats it as any zone of the file (origin "api").
 * Settings name keys (of the configuration, or made through the API), ACLs and catalogs of the
 * configuration by name; they are bound again at every reload. The list belongs to the control
 * thread.
 *
 * Settings, normalised (apizone_settings_check fills in what is absent):
 *   {"type": "primary" | "secondary", "primaries": ["192.0.2.1@53", ..], "key": "k." | null,
 *    "notify": ["192.0.2.2@53", ..], "acl": ["configured-acl", {"addresses": ["10.0.0.0/8", ..],
 *    "keys": ["k.", ..], "allow": ["transfer", "notify", "update"]}, ..], "member_of": "cat." | null,
 *    "group": "g" | null, "serial_policy": "increment" | "unixtime" | "dateserial",
 *    "notify_delay": 0..60 | null (the server's)}
 */
typedef struct apizone apizone_t;

#define APIZONE_ORIGIN "api"
#define APIZONE_ADDRS_MAX 16          /* primaries, notify addresses, ACL prefixes: at most this many each */
#define APIZONE_ACLS_MAX 16
#define APIZONE_NOTIFY_DELAY_MAX 60   /* seconds, as the configuration's notify-delay */

/*
 * Checks settings (an object; fields absent are filled in with their defaults, names are
 * normalised) against the configuration and the API's keys. TDM_OK, TDM_EINVAL with the field ("primaries[1]") and the reason in
 * field/why, or TDM_ENOMEM. The object is changed in place (normalised) only on TDM_OK.
 */
int apizone_settings_check(server_t *srv, json_t *settings, char *field, size_t field_size,
                           char *why, size_t why_size);

/* Control thread: the API zone a zone of the set is (its settings' owner), or NULL. */
apizone_t *apizone_of(const zonert_t *zr);
/* Its settings (borrowed) and creation time. */
const json_t *apizone_settings(const apizone_t *az);
int64_t apizone_created(const apizone_t *az);

/* Control thread: a new zone with checked settings (a reference is taken) joins the list; conf is
 * its settings as the zone set takes them (zones_add). TDM_OK or TDM_ENOMEM. */
int apizone_add(server_t *srv, const char *name, json_t *settings, int64_t created,
                const conf_zone_t **conf);
/* Its settings as the zone set takes them (the buffer the last bind wrote). */
const conf_zone_t *apizone_conf(const apizone_t *az);
/* Control thread: new checked settings for the zone (a reference is taken); zones_rebind next. */
int apizone_update(server_t *srv, apizone_t *az, json_t *settings);
/* Control thread: the zone leaves the list of live ones (freed by apizone_collect after the next
 * grace period: zones_remove, zones_rebuild). */
void apizone_drop(server_t *srv, apizone_t *az);

/* The zones' configurations, for the zone set (zones.c): count, then pointers into out. */
size_t apizone_count(server_t *srv);
size_t apizone_zones(server_t *srv, const conf_zone_t **out);

/* At start: the zones the store remembers, bound to conf; a zone configured in conf now is the
 * file's (the API's record of it is dropped, its data kept). */
int apizone_restore(server_t *srv, const conf_t *conf);
/* At reload: bound to the new configuration (a key, ACL or catalog gone is dropped, logged). */
void apizone_bind(server_t *srv, const conf_t *conf);
/* After a grace period: frees the zones dropped. */
void apizone_collect(server_t *srv);
void apizone_free_all(server_t *srv);
