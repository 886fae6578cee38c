/* cli/zone.h -- `tandem zone`: the zone table, one zone's replication view, and actions on a zone */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Prints the answer of GET /api/v1/zones as a table: name, type, serial, state, records, source.
 * arg is unused. TDM_OK, TDM_ENOMEM or TDM_EIO. */
int cli_zone_list_print(FILE *out, const json_t *zones, void *arg);

/*
 * Prints the answer of GET /api/v1/zones/{zone} for a person: the zone, its secondary side (serial,
 * primary used, last and next refresh, expiry) and the secondaries seen with their serial, lag, last
 * contact and last transfer. Times relative to *(int64_t *)arg (Unix seconds) and in UTC.
 * TDM_OK or TDM_EIO.
 */
int cli_zone_show_print(FILE *out, const json_t *zone, void *arg);

/* What a POST was about, for its result line. */
typedef struct {
	const char *zone;            /* as the operator wrote it */
	const char *action;          /* "reload", "notify", "refresh", "retransfer" */
} cli_zone_action_t;

/*
 * Prints the result line of a POST on a zone ({"result": "..."}); arg points at a cli_zone_action_t.
 * A sentence from the API is printed as it is; a bare word (the action's name) or nothing becomes
 * "example.com.: notify started; `tandem zone show example.com.` shows how it went". TDM_OK or TDM_EIO.
 */
int cli_zone_result_print(FILE *out, const json_t *reply, void *arg);
