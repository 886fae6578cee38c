/* lib/netwait.h -- waiting for a socket with a bound: the one poll loop every client of Tandem uses */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Waits until fd is ready for events (POLLIN, POLLOUT) or the deadline (clock_us() units)
 * passes. TDM_OK, TDM_ETIMEDOUT, or a negated errno. */
int netwait(int fd, short events, int64_t deadline);

/* Connects a non-blocking socket and waits (until deadline) for the connection to be made. TDM_OK,
 * TDM_ETIMEDOUT, or a negated errno (the refusal, say). */
int netwait_connect(int fd, const struct sockaddr *to, socklen_t len, int64_t deadline);

/* Sends all of p on a non-blocking socket (send flags, e.g. MSG_MORE; MSG_NOSIGNAL always), waiting
 * while the peer does not take it, until the deadline: one deadline for the whole, so a peer that takes
 * one octet at a time does not push it back. TDM_OK, TDM_ETIMEDOUT, or a negated errno. */
int netwait_send_all(int fd, const uint8_t *p, size_t len, int flags, int64_t deadline);
