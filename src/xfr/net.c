/* xfr/net.c -- blocking client sockets with timeouts: each call bounded as a whole */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/netwait.h"
#include "xfr/net.h"


static int64_t after_ms(unsigned timeout_ms)
{
	return clock_us() + (int64_t)timeout_ms * 1000;
}

int xfrnet_connect(const sockaddr_t *to, const sockaddr_t *source, int type, unsigned timeout_ms)
{
	return xfrnet_connect_until(to, source, type, after_ms(timeout_ms));
}

int xfrnet_connect_until(const sockaddr_t *to, const sockaddr_t *source, int type, int64_t until)
{
	int fd = socket(sockaddr_family(to), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int ret = TDM_OK;
	if (source != NULL && source->len > 0 && sockaddr_family(source) == sockaddr_family(to) &&
	    bind(fd, (const struct sockaddr *)&source->ss, source->len) != 0) {
		ret = -errno;
		goto fail;
	}
	/* Requests are written whole (xfrnet_send_until): nothing gains from Nagle's wait. */
	int one = 1;
	if (type == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ret = netwait_connect(fd, (const struct sockaddr *)&to->ss, to->len, until);
	if (ret != TDM_OK)
		goto fail;
	return fd;
fail:
	close(fd);
	return ret;
}

int xfrnet_send(int fd, int type, const uint8_t *msg, size_t len, unsigned timeout_ms)
{
	return xfrnet_send_until(fd, type, msg, len, after_ms(timeout_ms));
}

int xfrnet_send_until(int fd, int type, const uint8_t *msg, size_t len, int64_t until)
{
	if (type == SOCK_DGRAM)
		return send(fd, msg, len, 0) == (ssize_t)len ? TDM_OK : -errno;
	/* MSG_MORE: the prefix leaves with the message, not as a segment of its own that Nagle's
	 * algorithm and a delayed ACK would hold the message behind (40 ms on a kept connection). */
	uint8_t prefix[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	int ret = netwait_send_all(fd, prefix, 2, MSG_MORE, until);
	return ret == TDM_OK ? netwait_send_all(fd, msg, len, 0, until) : ret;
}

static int recv_all(int fd, uint8_t *p, size_t len, int64_t until)
{
	while (len > 0) {
		ssize_t r = recv(fd, p, len, 0);
		if (r == 0)
			return TDM_EIO;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			int ret = netwait(fd, POLLIN, until);
			if (ret != TDM_OK)
				return ret;
			continue;
		}
		if (r < 0)
			return -errno;
		p += r;
		len -= (size_t)r;
	}
	return TDM_OK;
}

int xfrnet_recv(int fd, int type, uint8_t *buf, size_t cap, unsigned timeout_ms)
{
	return xfrnet_recv_until(fd, type, buf, cap, after_ms(timeout_ms));
}

int xfrnet_recv_until(int fd, int type, uint8_t *buf, size_t cap, int64_t until)
{
	int ret;
	if (type == SOCK_DGRAM) {
		if ((ret = netwait(fd, POLLIN, until)) != TDM_OK)
			return ret;
		ssize_t r = recv(fd, buf, cap, 0);
		return r < 0 ? -errno : (int)r;
	}
	uint8_t prefix[2];
	if ((ret = recv_all(fd, prefix, 2, until)) != TDM_OK)
		return ret;
	size_t len = (size_t)(prefix[0] << 8 | prefix[1]);
	if (len > cap)
		return TDM_EMALF;
	if ((ret = recv_all(fd, buf, len, until)) != TDM_OK)
		return ret;
	return (int)len;
}
