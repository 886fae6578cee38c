/* lookup/net.c -- the sockets of `tandem lookup`: connect, send and receive before a deadline, UDP or TCP */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/netwait.h"
#include "lookup/net.h"
#include "wire/pkt.h"

int64_t lookup_net_now(void)
{
	return clock_us();
}


int lookup_net_open(const sockaddr_t *server, bool tcp, int64_t deadline, int *fd)
{
	int type = (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
	int s = socket(sockaddr_family(server), type, 0);
	if (s < 0)
		return -errno;
	int ret = netwait_connect(s, (const struct sockaddr *)&server->ss, server->len, deadline);
	if (ret != TDM_OK)
		goto fail;
	*fd = s;
	return TDM_OK;
fail:
	close(s);
	return ret;
}

/* Writes all of buf on a stream (or one datagram). */
static int send_all(int fd, const uint8_t *buf, size_t len, int64_t deadline)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
		if (n >= 0) {
			done += (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		int ret = netwait(fd, POLLOUT, deadline);
		if (ret != TDM_OK)
			return ret;
	}
	return TDM_OK;
}

int lookup_net_send(int fd, bool tcp, const uint8_t *msg, size_t len, int64_t deadline)
{
	if (len > UINT16_MAX)
		return TDM_ESPACE;
	if (!tcp)
		return send_all(fd, msg, len, deadline);
	/* One write for length and message: two would meet Nagle and the peer's delayed ACK. */
	uint8_t buf[2 + UINT16_MAX];
	pkt_put16(buf, (uint16_t)len);
	memcpy(buf + 2, msg, len);
	return send_all(fd, buf, 2 + len, deadline);
}

/* Reads exactly len octets from a stream. */
static int read_all(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = recv(fd, buf + done, len - done, 0);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		int ret = netwait(fd, POLLIN, deadline);
		if (ret != TDM_OK)
			return ret;
	}
	return TDM_OK;
}

static int recv_datagram(int fd, uint8_t *buf, size_t cap, int64_t deadline, size_t *len)
{
	for (;;) {
		ssize_t n = recv(fd, buf, cap, 0);
		if (n >= 0) {
			*len = (size_t)n;
			return TDM_OK;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		int ret = netwait(fd, POLLIN, deadline);
		if (ret != TDM_OK)
			return ret;
	}
}

int lookup_net_recv(int fd, bool tcp, uint8_t *buf, size_t cap, int64_t deadline, size_t *len)
{
	if (!tcp)
		return recv_datagram(fd, buf, cap, deadline, len);
	uint8_t prefix[2];
	int ret = read_all(fd, prefix, 2, deadline);
	if (ret != TDM_OK)
		return ret;
	size_t n = (size_t)prefix[0] << 8 | prefix[1];
	if (n > cap)
		return TDM_ESPACE;
	if ((ret = read_all(fd, buf, n, deadline)) != TDM_OK)
		return ret;
	*len = n;
	return TDM_OK;
}
