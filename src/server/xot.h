/* server/xot.h -- zone transfers over TLS (RFC 9103, XoT): the TLS listener and its connections */
#pragma once

#include "conf/conf.h"
#include "tls/tls.h"

struct server;

/* Binds server.tls-listen and starts the listener's thread (nothing when none is configured). */
int xot_start(struct server *srv);
/* Stops accepting; connections end at their next request or idle timeout. */
void xot_stop(struct server *srv);
/* TLS connections open now. */
unsigned xot_running(struct server *srv);
void xot_free(struct server *srv);
