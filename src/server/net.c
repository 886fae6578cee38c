/* server/net.c -- listening sockets */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"
#include "server/net.h"

static int fail(int fd, const sockaddr_t *addr, const char *what)
{
	int err = errno;
	char text[SOCKADDR_STRLEN];
	log_err("cannot %s %s (%s)", what, sockaddr_format(addr, text, sizeof(text)), strerror(err));
	if (fd >= 0)
		close(fd);
	return -err;
}

static bool wildcard(const sockaddr_t *addr)
{
	if (sockaddr_family(addr) == AF_INET)
		return ((const struct sockaddr_in *)&addr->ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&addr->ss;
	return memcmp(&a6->sin6_addr, &in6addr_any, sizeof(in6addr_any)) == 0;
}

bool net_is_wildcard(int fd)
{
	sockaddr_t addr = { .len = sizeof(addr.ss) };
	if (getsockname(fd, (struct sockaddr *)&addr.ss, &addr.len) != 0)
		return false;
	return wildcard(&addr);
}

int net_probe(const sockaddr_t *addr, int type)
{
	/* Without SO_REUSEPORT: fails while any other socket (another tandemd, say) holds the port. */
	int fd = socket(sockaddr_family(addr), type | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		return fail(fd, addr, "open a socket for");
	if (sockaddr_family(addr) == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0)
		return fail(fd, addr, type == SOCK_STREAM ? "listen (TCP) on" : "listen (UDP) on");
	close(fd);
	return TDM_OK;
}

int net_bind(const sockaddr_t *addr, int type)
{
	int family = sockaddr_family(addr), one = 1;
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(fd, addr, "open a socket for");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		return fail(fd, addr, "set socket options for");
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
		return fail(fd, addr, "set IPV6_V6ONLY on");
	if (type == SOCK_DGRAM) {
		/* A larger receive queue absorbs bursts while a worker is busy with a batch. */
		int size = 4 * 1024 * 1024;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0)
		return fail(fd, addr, "bind to");
	if (type == SOCK_DGRAM && wildcard(addr)) {
		int ok = family == AF_INET
		         ? setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one))
		         : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		if (ok != 0)
			return fail(fd, addr, "set PKTINFO on");
	}
	if (type == SOCK_STREAM && listen(fd, 1024) != 0)
		return fail(fd, addr, "listen on");
	return fd;
}
