/* server/xfrout.h -- a transfer out (AXFR or IXFR) on its own thread, from a pinned zone version */
#pragma once

#include "query/query.h"
#include "runtime/runtime.h"
#include "runtime/zonert.h"
#include "tls/tls.h"
#include "tsig/tsig.h"

typedef struct xfrout xfrout_t;

/* A job for an allowed transfer request (copied), with the TSIG state of a signed request (taken
 * over: the caller must not clear it), or NULL when the limit of transfers out is reached or out
 * of memory. Pins the zone and its current version. */
xfrout_t *xfrout_new(server_t *srv, zonert_t *zr, const query_t *q, const sockaddr_t *peer,
                     tsig_ctx_t *tsig);

/* Transfers out running now (the server waits for them when it stops). */
unsigned xfrout_running(void);

/* Runs the job here, on the calling thread (a TLS connection's, server/xot.c), writing through tls;
 * frees the job. True when the whole answer went out; the connection stays the caller's (RFC 9103
 * allows more requests on it; after a failure it is of no use). */
bool xfrout_run_tls(xfrout_t *job, tls_conn_t *tls);

/* Runs an accepted transfer out on its own thread, on connection fd (blocking from now on),
 * after writing `pending` (answers to earlier pipelined queries). Takes the fd in every case. */
void xfrout_start(xfrout_t *job, int fd, const uint8_t *pending, size_t pending_len);
void xfrout_cancel(xfrout_t *job);
