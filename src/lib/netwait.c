/* lib/netwait.c -- waiting for a socket with a bound */
#include <errno.h>
#include <poll.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/netwait.h"

int netwait(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - clock_us();
		if (left <= 0)
			return TDM_ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)((left + 999) / 1000));
		if (r > 0)
			return TDM_OK;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

int netwait_connect(int fd, const struct sockaddr *to, socklen_t len, int64_t deadline)
{
	if (connect(fd, to, len) == 0)
		return TDM_OK;
	if (errno != EINPROGRESS)
		return -errno;
	int ret = netwait(fd, POLLOUT, deadline), err = 0;
	socklen_t elen = sizeof(err);
	if (ret != TDM_OK)
		return ret;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
		err = errno;
	return -err;
}

int netwait_send_all(int fd, const uint8_t *p, size_t len, int flags, int64_t deadline)
{
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL | flags);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int ret = netwait(fd, POLLOUT, deadline);
			if (ret != TDM_OK)
				return ret;
			continue;
		}
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return TDM_OK;
}
