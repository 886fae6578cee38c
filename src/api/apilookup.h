/* api/apilookup.h -- GET /api/v1/lookup: the lookup tool run from the server, off the control loop */
#pragma once

#include "api/api_impl.h"

/*
 * One lookup at a time (src/lookup keeps its 64 KiB session in static storage), on its own thread:
 * the handler answers later (api_reply_later) when the thread is done, so the control loop never
 * waits for the network. A second request while one runs gets 503. The query's time is bounded
 * (timeout at most APILOOKUP_TIMEOUT_MAX seconds a try, at most APILOOKUP_TRIES_MAX tries); zone
 * transfers are refused.
 */
#define APILOOKUP_TIMEOUT_MAX 5
#define APILOOKUP_TRIES_MAX 3

void apilookup_route(const api_call_t *call, api_reply_t *reply);

/* Waits for a running lookup's thread (server_free), dropping its answer. */
void apilookup_wait(server_t *srv);
