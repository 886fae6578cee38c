/* lib/sockaddr.c -- socket addresses written as "address@port", and address prefixes for ACLs */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/sockaddr.h"

/* Longest text we accept: an IPv6 address, a scope (interface name) and a port. */
#define TEXT_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 8)

static bool parse_number(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* "%eth0" or "%2" after a link-local IPv6 address. */
static bool parse_scope(const char *s, uint32_t *id)
{
	unsigned long v;
	if (parse_number(s, UINT32_MAX, &v)) {
		*id = (uint32_t)v;
		return true;
	}
	unsigned idx = if_nametoindex(s);
	if (idx == 0)
		return false;
	*id = idx;
	return true;
}

static int parse_v6(sockaddr_t *out, char *host, uint16_t port)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;
	char *pct = strchr(host, '%');
	if (pct != NULL)
		*pct = '\0';
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
		return TDM_EINVAL;
	if (pct != NULL && !parse_scope(pct + 1, &in6->sin6_scope_id))
		return TDM_EINVAL;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	out->len = sizeof(*in6);
	return TDM_OK;
}

/* A bare address (no port) into out; host is modified. */
static int parse_host(sockaddr_t *out, char *host, uint16_t port)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *in4 = (struct sockaddr_in *)&out->ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		out->len = sizeof(*in4);
		return TDM_OK;
	}
	int ret = parse_v6(out, host, port);
	if (ret != TDM_OK)
		memset(out, 0, sizeof(*out));
	return ret;
}

static bool copy_text(char *buf, const char *text)
{
	size_t len = strlen(text);
	if (len == 0 || len >= TEXT_MAX)
		return false;
	memcpy(buf, text, len + 1);
	return true;
}

int sockaddr_parse(sockaddr_t *out, const char *text, uint16_t default_port)
{
	char buf[TEXT_MAX];
	memset(out, 0, sizeof(*out));
	if (text == NULL || !copy_text(buf, text))
		return TDM_EINVAL;
	uint16_t port = default_port;
	char *at = strchr(buf, '@');
	if (at != NULL) {
		unsigned long v;
		if (!parse_number(at + 1, UINT16_MAX, &v))
			return TDM_EINVAL;
		port = (uint16_t)v;
		*at = '\0';
	}
	return parse_host(out, buf, port);
}

char *sockaddr_format(const sockaddr_t *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	if (size == 0)
		return buf;
	int family = sockaddr_family(sa);
	if (family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)&sa->ss;
		inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s@%u", host, sockaddr_port(sa));
	} else if (family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa->ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		if (in6->sin6_scope_id != 0)
			snprintf(buf, size, "%s%%%u@%u", host, (unsigned)in6->sin6_scope_id,
			         sockaddr_port(sa));
		else
			snprintf(buf, size, "%s@%u", host, sockaddr_port(sa));
	} else {
		snprintf(buf, size, "(unset)");
	}
	return buf;
}

uint16_t sockaddr_port(const sockaddr_t *sa)
{
	switch (sockaddr_family(sa)) {
	case AF_INET: return ntohs(((const struct sockaddr_in *)&sa->ss)->sin_port);
	case AF_INET6: return ntohs(((const struct sockaddr_in6 *)&sa->ss)->sin6_port);
	default: return 0;
	}
}

int sockaddr_family(const sockaddr_t *sa)
{
	if (sa == NULL || sa->len == 0)
		return AF_UNSPEC;
	return sa->ss.ss_family;
}

/* The address bytes of sa and their length in bits (0 when unset). */
static const uint8_t *addr_bytes(const sockaddr_t *sa, unsigned *bits)
{
	switch (sockaddr_family(sa)) {
	case AF_INET:
		*bits = 32;
		return (const uint8_t *)&((const struct sockaddr_in *)&sa->ss)->sin_addr;
	case AF_INET6:
		*bits = 128;
		return ((const struct sockaddr_in6 *)&sa->ss)->sin6_addr.s6_addr;
	default:
		*bits = 0;
		return NULL;
	}
}

static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return ((a[bytes] ^ b[bytes]) & mask) == 0;
}

/* Whether any bit after the first `bits` is set. */
static bool host_bits_set(const uint8_t *a, unsigned bits, unsigned total)
{
	for (unsigned i = bits; i < total; i++)
		if (a[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

int addr_prefix_parse(addr_prefix_t *out, const char *text)
{
	char buf[TEXT_MAX];
	memset(out, 0, sizeof(*out));
	if (text == NULL || !copy_text(buf, text))
		return TDM_EINVAL;
	char *slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (strchr(buf, '@') != NULL || parse_host(&out->addr, buf, 0) != TDM_OK)
		return TDM_EINVAL;
	unsigned total;
	const uint8_t *bytes = addr_bytes(&out->addr, &total);
	unsigned long len = total;
	/* Host bits set past the prefix ("10.1.2.3/8") are far more often a typo than a wish. */
	if (slash != NULL && (!parse_number(slash + 1, total, &len) ||
	                      host_bits_set(bytes, (unsigned)len, total))) {
		memset(out, 0, sizeof(*out));
		return TDM_EINVAL;
	}
	out->prefix = (uint8_t)len;
	return TDM_OK;
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool addr_prefix_match(const addr_prefix_t *prefix, const sockaddr_t *sa)
{
	unsigned pbits, abits;
	const uint8_t *p = addr_bytes(&prefix->addr, &pbits);
	const uint8_t *a = addr_bytes(sa, &abits);
	if (p == NULL || a == NULL || prefix->prefix > pbits)
		return false;
	if (pbits == abits)
		return bits_equal(p, a, prefix->prefix);
	/* A dual-stack socket shows an IPv4 client as ::ffff:a.b.c.d. */
	if (pbits == 32 && memcmp(a, v4mapped, sizeof(v4mapped)) == 0)
		return bits_equal(p, a + 12, prefix->prefix);
	/* And the converse: an IPv4 client against a prefix written in the mapped form. */
	if (pbits == 128 && prefix->prefix >= 96 && memcmp(p, v4mapped, sizeof(v4mapped)) == 0)
		return bits_equal(p + 12, a, prefix->prefix - 96u);
	return false;
}
