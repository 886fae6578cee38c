/* xfr/conn.c -- one client connection to a primary: plain UDP or TCP (xfr/net.h), or TLS (RFC 9103) */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/error.h"
#include "xfr/conn.h"
#include "xfr/net.h"

int xfr_conn_open(xfr_conn_t *c, const sockaddr_t *to, const sockaddr_t *source, int type,
                  tls_client_t *tls, int64_t until)
{
	c->tls = NULL;
	c->type = type;
	c->why[0] = '\0';
	c->fd = xfrnet_connect_until(to, source, type, until);
	if (c->fd < 0)
		return c->fd;
	if (tls == NULL || type != SOCK_STREAM)
		return TDM_OK;
	int ret = tls_connect(tls, c->fd, until, &c->tls, c->why, sizeof(c->why));
	if (ret != TDM_OK) {
		close(c->fd);
		c->fd = -1;
		c->tls = NULL;
	}
	return ret;
}

/* A TLS read or write's failure, kept in c->why with what the TLS layer says of it. */
static int tls_said(xfr_conn_t *c, int ret)
{
	if (ret != TDM_OK)
		snprintf(c->why, sizeof(c->why), "%s", tls_conn_why(c->tls));
	return ret;
}

int xfr_conn_send(xfr_conn_t *c, const uint8_t *msg, size_t len, int64_t until)
{
	if (c->tls == NULL)
		return xfrnet_send_until(c->fd, c->type, msg, len, until);
	c->why[0] = '\0';   /* a new exchange: a kept connection's earlier end (IXFR's lone SOA) is past */
	return tls_said(c, tls_write_msg(c->tls, msg, len, until));
}

int xfr_conn_recv(xfr_conn_t *c, uint8_t *buf, size_t cap, int64_t until)
{
	if (c->tls == NULL)
		return xfrnet_recv_until(c->fd, c->type, buf, cap, until);
	uint8_t prefix[2];
	int ret = tls_read(c->tls, prefix, 2, until);
	if (ret != TDM_OK)
		return tls_said(c, ret);
	size_t len = (size_t)(prefix[0] << 8 | prefix[1]);
	if (len > cap)
		return TDM_EMALF;
	if ((ret = tls_read(c->tls, buf, len, until)) != TDM_OK)
		return tls_said(c, ret);
	return (int)len;
}

void xfr_conn_close(xfr_conn_t *c)
{
	tls_conn_free(c->tls);
	c->tls = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
