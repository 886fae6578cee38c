/* server/api.h -- the API's answers: status, zones and their replication view, zone actions */
#pragma once

#include "server/server_impl.h"

/* Starts the HTTP API when http.listen is set (on the control thread's loop). TDM_OK or an error. */
int server_api_start(server_t *srv);
