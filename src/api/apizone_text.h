/* api/apizone_text.h -- a new primary zone's first records: a quick zone, SOA and NS given, or zone-file text */
#pragma once

#include <jansson.h>

#include "zone/contents.h"
#include "zone/rrlist.h"

/* What went wrong with a request's zone data: the field ("quick.address", "zonefile") and a
 * message; problems (zone-file text) holds "LINE: problem" strings, every one found. */
typedef struct {
	char field[128];
	char why[1024];
	json_t *problems;            /* array, or NULL */
} apizone_text_error_t;

/*
 * Master-file text for a quick zone (the seed's Quick Zone): quick is {"nameservers": [..],
 * "address": "192.0.2.10" | "2001:db8::10"}: SOA (mname the first name server, rname
 * hostmaster.ZONE, refresh 3600, retry 600, expire 1209600, minimum 300, serial from policy, TTL
 * 3600), NS for each name server, an address (A or AAAA) for the apex, www, mail and every name
 * server inside the zone, and MX 10 mail.ZONE. *text is malloc'ed. TDM_OK, TDM_EINVAL (err filled),
 * TDM_ENOMEM.
 */
int apizone_text_quick(const char *zone, const json_t *quick, int serial_policy, char **text,
                       apizone_text_error_t *err);

/*
 * Master-file text for an empty zone: soa is {"mname"?, "rname"?, "serial"?, "refresh"?, "retry"?,
 * "expire"?, "minimum"?, "ttl"?} (defaults as the quick zone's), nameservers the NS names (at least
 * one). TDM_OK, TDM_EINVAL (err filled), TDM_ENOMEM.
 */
int apizone_text_empty(const char *zone, const json_t *soa, const json_t *nameservers,
                       int serial_policy, char **text, apizone_text_error_t *err);

/*
 * Parses and checks zone-file text for zone (origin) as a zone file is (zonefile_load,
 * zonefile_check), through a temporary file in dir that is removed at once. $INCLUDE is refused.
 * On TDM_OK, *list and *z are the records and the built version. TDM_EINVAL with err (field
 * "zonefile", every problem "LINE: problem"), TDM_ENOMEM, or an I/O error.
 */
int apizone_text_parse(const char *dir, const char *zone, const char *text, size_t len,
                       rrlist_t **list, zone_contents_t **z, apizone_text_error_t *err);

/* The first serial of a new zone under a serial policy (CONF_SERIAL_*): 1, now, or YYYYMMDD01. */
uint32_t apizone_first_serial(int serial_policy);
