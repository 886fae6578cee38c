/* server/acl.h -- who may transfer a zone, send it NOTIFY or update it */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"

/*
 * Whether a request from `from`, signed with the key named key_name (lowercase textual FQDN, NULL
 * when unsigned; the signature already verified), may do `action` (CONF_ALLOW_*) on zone cz.
 * Transfers and updates need an ACL of the zone that allows them (secure by default). NOTIFY is
 * also accepted from the zone's primaries: an address of a primary remote, signed with that
 * remote's key when it has one. An ACL matches when the address is in one of its prefixes (or it
 * has none) and, when it names keys, the request is signed with one of them.
 */
bool acl_allows(const conf_zone_t *cz, unsigned action, const sockaddr_t *from,
                const char *key_name);

/* The same for a request that came over TLS (tls true) or not: an ACL with `transport: tls` matches
 * only requests over TLS (RFC 9103: a zone whose transfers must not travel in the clear). */
bool acl_allows_over(const conf_zone_t *cz, unsigned action, const sockaddr_t *from,
                     const char *key_name, bool tls);
