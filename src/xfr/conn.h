/* xfr/conn.h -- one client connection to a primary: plain UDP or TCP (xfr/net.h), or TLS (RFC 9103) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/sockaddr.h"
#include "tls/tls.h"

/*
 * What xfr/in.c talks through: the same calls whether the primary is reached over UDP, TCP or TLS.
 * The plain paths are xfr/net.c's calls (which the xfr fuzz target replaces at link time: this file is
 * apart from net.c so that its calls to them are the wrapped ones). A TLS connection is a TCP one with
 * a handshake on top; a failed handshake or certificate check is an error, never a fall back to
 * plain TCP.
 */
typedef struct {
	int fd;
	int type;                  /* SOCK_DGRAM or SOCK_STREAM */
	tls_conn_t *tls;           /* NULL when plain */
	char why[256];             /* a TLS failure (the handshake, a read, a write), said in full */
} xfr_conn_t;

/* No connection (yet): what a kept connection starts as (xfr_fetch_on). */
#define XFR_CONN_NONE { .fd = -1 }

/* Connects to `to` (from source when set), then, with tls (only for SOCK_STREAM), runs the handshake
 * and the primary's checks. TDM_OK; a negated errno, TDM_ETIMEDOUT; TDM_ETLS with c->why. c needs
 * no xfr_conn_close after a failure. */
int xfr_conn_open(xfr_conn_t *c, const sockaddr_t *to, const sockaddr_t *source, int type,
                  tls_client_t *tls, int64_t until);

/* One message (with its length over a stream). TDM_OK or an error as xfrnet_send. */
int xfr_conn_send(xfr_conn_t *c, const uint8_t *msg, size_t len, int64_t until);
/* One message into buf (at most cap octets): its length, or an error as xfrnet_recv. */
int xfr_conn_recv(xfr_conn_t *c, uint8_t *buf, size_t cap, int64_t until);

void xfr_conn_close(xfr_conn_t *c);
