/* server/net.h -- listening sockets: one UDP and one TCP socket per address per worker (SO_REUSEPORT) */
#pragma once

#include <stdbool.h>

#include "lib/sockaddr.h"

/* Opens a non-blocking socket bound to addr: SOCK_DGRAM or SOCK_STREAM (listening), with
 * SO_REUSEPORT so each worker has its own and the kernel spreads the load. Returns the descriptor or
 * a negated errno (logged with the address). */
int net_bind(const sockaddr_t *addr, int type);

/* Checks that nobody else holds the address (SO_REUSEPORT would otherwise let a second server
 * share the port silently). TDM_OK or a negated errno (logged). */
int net_probe(const sockaddr_t *addr, int type);

/* Whether a bound socket listens on a wildcard address (0.0.0.0 or ::); such UDP sockets are set to
 * report each datagram's destination (IP_PKTINFO) by net_bind. */
bool net_is_wildcard(int fd);
