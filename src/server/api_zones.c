/* server/api_zones.c -- zones made and changed through the API: create (empty, quick, from text, secondary), properties, delete */
#include "server/api_impl.h"

const api_route_t api_routes_zones[] = {
	{ NULL, NULL, NULL },
};
