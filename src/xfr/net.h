/* xfr/net.h -- blocking client sockets with timeouts, for SOA queries and transfers */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/sockaddr.h"

/*
 * Every call is bounded as a whole: timeout_ms is for the whole message (a peer sending a byte now and
 * then does not keep a call alive), and the _until forms end at an absolute time (clock_us()
 * units) that the caller may share across several calls: a whole transfer's deadline.
 */

/* Opens a socket of type (SOCK_STREAM connects, SOCK_DGRAM connects too) to `to`, bound to source
 * when it is set and of the same family. Returns the descriptor or a negated errno. */
int xfrnet_connect(const sockaddr_t *to, const sockaddr_t *source, int type, unsigned timeout_ms);
int xfrnet_connect_until(const sockaddr_t *to, const sockaddr_t *source, int type, int64_t until);

/* Sends a whole message; over TCP with its two-octet length. TDM_OK, TDM_ETIMEDOUT or a negated
 * errno. */
int xfrnet_send(int fd, int type, const uint8_t *msg, size_t len, unsigned timeout_ms);
int xfrnet_send_until(int fd, int type, const uint8_t *msg, size_t len, int64_t until);

/* Receives one message into buf (PKT_MAXLEN octets); over TCP reads the length first. Returns the
 * length, TDM_ETIMEDOUT, TDM_EIO (closed), or a negated errno. */
int xfrnet_recv(int fd, int type, uint8_t *buf, size_t cap, unsigned timeout_ms);
int xfrnet_recv_until(int fd, int type, uint8_t *buf, size_t cap, int64_t until);
