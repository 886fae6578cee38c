/* server/xot.h -- zone transfers over TLS (RFC 9103, XoT): the TLS listener and the TLS contexts */
#pragma once

#include "conf/conf.h"
#include "tls/tls.h"

struct server;

/* Makes the TLS contexts of conf (the server's certificate, one client context per `tls:` profile)
 * and puts them in force, at start and at reload. TDM_OK, or an error logged with the file's name
 * (the running contexts stay). */
int xot_configure(struct server *srv, const conf_t *conf);

/* The client context of a TLS profile (a reference: tls_client_unref it), or NULL. */
tls_client_t *xot_client(struct server *srv, const conf_tls_t *tls);

/* Binds server.tls-listen and starts the listener's thread (nothing when none is configured). */
int xot_start(struct server *srv);
/* Stops accepting; connections end at their next request or idle timeout. */
void xot_stop(struct server *srv);
/* TLS connections open now. */
unsigned xot_running(struct server *srv);
void xot_free(struct server *srv);
