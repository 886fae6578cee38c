/* lib/sockaddr.h -- socket addresses written as "address@port", and address prefixes for ACLs */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct {
	struct sockaddr_storage ss;
	socklen_t len;               /* 0 = unset */
} sockaddr_t;

typedef struct {
	sockaddr_t addr;             /* port ignored */
	uint8_t prefix;              /* prefix length in bits */
} addr_prefix_t;

/* Parses "192.0.2.1", "192.0.2.1@5300", "::1@53", "[::1]:53" is NOT accepted (the '@' form only).
 * A missing port gives default_port. Returns TDM_OK or TDM_EINVAL. */
int sockaddr_parse(sockaddr_t *out, const char *text, uint16_t default_port);

/* Writes "address@port" into buf (always NUL-terminated). Returns buf. */
char *sockaddr_format(const sockaddr_t *sa, char *buf, size_t size);
#define SOCKADDR_STRLEN 64

uint16_t sockaddr_port(const sockaddr_t *sa);
int sockaddr_family(const sockaddr_t *sa);

/* Parses "10.0.0.0/8", "2001:db8::/32" or a plain address (full-length prefix). TDM_OK or TDM_EINVAL. */
int addr_prefix_parse(addr_prefix_t *out, const char *text);

/* Whether the address (port ignored) lies inside the prefix; families must match
 * (an IPv4-mapped IPv6 address matches an IPv4 prefix). */
bool addr_prefix_match(const addr_prefix_t *prefix, const sockaddr_t *sa);
