/* server/net.h -- listening sockets: one UDP and one TCP socket per address per worker (SO_REUSEPORT) */
#pragma once

#include "lib/sockaddr.h"

/* Opens a non-blocking socket bound to addr: SOCK_DGRAM or SOCK_STREAM (listening), with
 * SO_REUSEPORT so each worker has its own and the kernel spreads the load. Returns the descriptor or
 * a negated errno (logged with the address). */
int net_bind(const sockaddr_t *addr, int type);
