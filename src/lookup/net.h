/* lookup/net.h -- the sockets of `tandem lookup`: connect, send and receive before a deadline, UDP or TCP */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sockaddr.h"

/* Monotonic clock in microseconds; deadlines below are on this clock. */
int64_t lookup_net_now(void);

/*
 * Opens a non-blocking socket connected to server (a connected UDP socket only accepts datagrams
 * from the server, and reports ICMP port unreachable as a refused connection). Returns TDM_OK with
 * the descriptor in *fd, TDM_ETIMEDOUT, TDM_ECONNREFUSED or another negated errno.
 */
int lookup_net_open(const sockaddr_t *server, bool tcp, int64_t deadline, int *fd);

/* Sends one message; over TCP with its two-octet length (RFC 1035 4.2.2). TDM_OK, TDM_ETIMEDOUT,
 * TDM_ECONNREFUSED or another negated errno (-EPIPE: the server closed the connection). */
int lookup_net_send(int fd, bool tcp, const uint8_t *msg, size_t len, int64_t deadline);

/*
 * Receives one message into buf (cap octets; 65535 holds any): a datagram, or over TCP a length and
 * that many octets. TDM_OK with *len, TDM_ETIMEDOUT, TDM_ECONNREFUSED, -EPIPE when the server closed
 * the connection (before or inside a message), TDM_ESPACE when a TCP message is longer than cap,
 * or another negated errno.
 */
int lookup_net_recv(int fd, bool tcp, uint8_t *buf, size_t cap, int64_t deadline, size_t *len);
