/* server/dispatch.h -- requests that need the server, not just a zone: TSIG, NOTIFY, UPDATE, transfers */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sockaddr.h"
#include "query/query.h"
#include "runtime/runtime.h"

struct xfrout;

/*
 * Answers one request in a worker (inside its RCU read section): TSIG verified and the answer
 * signed, NOTIFY taken, transfers allowed or refused, everything else answered from the zones.
 * For an allowed transfer over TCP, returns 0 and *job: the connection goes to that job.
 */
size_t dispatch_request(server_t *srv, query_env_t *env, const uint8_t *req, size_t len,
                        uint8_t *resp, size_t cap, bool tcp, const sockaddr_t *peer,
                        struct xfrout **job);

/* The same for a request that came over a TLS connection (server/xot.c): tcp is true, and ACLs
 * with transport: tls match. */
size_t dispatch_request_over(server_t *srv, query_env_t *env, const uint8_t *req, size_t len,
                             uint8_t *resp, size_t cap, bool tcp, bool tls,
                             const sockaddr_t *peer, struct xfrout **job);
