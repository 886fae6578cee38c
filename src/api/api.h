/* api/api.h -- the API's answers: status, zones and their replication view, zone actions */
#pragma once

#include <stdio.h>

#include "runtime/runtime.h"

/* Starts the HTTP API when http.listen is set (on the control thread's loop). TDM_OK or an error. */
int server_api_start(server_t *srv);

/* Every route of the router's tables, "METHOD /api/v1/PATTERN" a line (`tandemd --api-routes`: the
 * test that holds docs/openapi.json to them reads this). */
void api_routes_print(FILE *out);
