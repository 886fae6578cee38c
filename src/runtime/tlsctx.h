/* runtime/tlsctx.h -- the TLS contexts in force: our certificate, a client context per `tls:` profile */
#pragma once

#include "conf/conf.h"
#include "tls/tls.h"

typedef struct tlsctx tlsctx_t;

/* What a TLS listener is allowed, read with its server context (conf server.tls-*). */
typedef struct {
	unsigned max_clients, per_address;
	unsigned handshake_ms, idle_ms;
} tlsctx_limits_t;

/* Makes the contexts of conf and puts them in force in *ctx (made on the first call), at start and at
 * reload. TDM_OK, or an error logged with the file's name (the running contexts stay). */
int tlsctx_configure(tlsctx_t **ctx, const conf_t *conf);

/* The client context of a TLS profile (a reference: tls_client_unref it), or NULL (ctx may be NULL). */
tls_client_t *tlsctx_client(tlsctx_t *ctx, const conf_tls_t *tls);

/* The server context (a reference: tls_server_unref it) and the limits in force with it; NULL when
 * no certificate is configured. */
tls_server_t *tlsctx_server(tlsctx_t *ctx, tlsctx_limits_t *limits);

void tlsctx_free(tlsctx_t *ctx);
