/* server/api_records.c -- a zone's records through the API: list, change (PATCH), zone text, history */
#include "server/api_impl.h"

const api_route_t api_routes_records[] = {
	{ NULL, NULL, NULL },
};
