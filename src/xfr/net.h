/* xfr/net.h -- blocking client sockets with timeouts, for SOA queries and transfers */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/sockaddr.h"

/* Opens a socket of type (SOCK_STREAM connects, SOCK_DGRAM connects too) to `to`, bound to source
 * when it is set and of the same family. Returns the descriptor or a negated errno. */
int xfrnet_connect(const sockaddr_t *to, const sockaddr_t *source, int type, unsigned timeout_ms);

/* Sends a whole message; over TCP with its two-octet length. TDM_OK or a negated errno. */
int xfrnet_send(int fd, int type, const uint8_t *msg, size_t len, unsigned timeout_ms);

/* Receives one message into buf (PKT_MAXLEN octets); over TCP reads the length first. Returns the
 * length, TDM_ETIMEDOUT, TDM_EIO (closed), or a negated errno. */
int xfrnet_recv(int fd, int type, uint8_t *buf, size_t cap, unsigned timeout_ms);
