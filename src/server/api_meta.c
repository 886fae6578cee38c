/* server/api_meta.c -- the API's keys, metrics, lookup and its OpenAPI document */
#include "server/api_impl.h"

const api_route_t api_routes_meta[] = {
	{ NULL, NULL, NULL },
};
