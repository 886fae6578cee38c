/* cli/dnsq.h -- the DNS questions of `tandem verify`: one query, its reply checked, what it says for us */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sockaddr.h"
#include "wire/name.h"
#include "wire/pkt.h"

#define CLI_DNSQ_MAX_NS 32        /* NS records of the zone we use */
#define CLI_DNSQ_MAX_ADDRS 64     /* A/AAAA records one reply may give us */

typedef struct {
	uint8_t owner[NAME_MAXLEN];
	sockaddr_t addr;             /* port set by the caller of cli_dnsq_found() */
} cli_dnsq_addr_t;

/* What one reply says, as far as verify cares. */
typedef struct {
	uint16_t rcode;
	bool aa, tc;
	uint8_t ns[CLI_DNSQ_MAX_NS][NAME_MAXLEN];    /* answer: NS of the zone */
	size_t nns;
	cli_dnsq_addr_t addrs[CLI_DNSQ_MAX_ADDRS];   /* answer and additional: A and AAAA */
	size_t naddrs;
	bool has_soa;                                /* answer: the zone's SOA */
	uint32_t serial;
} cli_dnsq_found_t;

/* A question to one server: UDP (TCP when the reply is truncated), no recursion, EDNS 1232. */
typedef struct {
	sockaddr_t server;
	unsigned timeout_ms;         /* per try */
	unsigned tries;              /* over UDP, after timeouts only */
	uint8_t reply[PKT_MAXLEN];
	size_t rlen;
	char why[256];               /* what was wrong with a malformed reply */
} cli_dnsq_t;

/*
 * Asks q->server for qname/qtype (class IN) and reads the reply into q->reply: ID, QR and question must
 * match (stray datagrams are ignored). Returns TDM_OK, TDM_ETIMEDOUT, TDM_ECONNREFUSED, TDM_EMALF
 * (q->why says why) or another negated errno.
 */
int cli_dnsq_ask(cli_dnsq_t *q, const uint8_t *qname, uint16_t qtype);

/*
 * Reads a whole reply msg[0..len) (every length checked) and collects into f: the rcode and AA; NS
 * records owned by zone in the answer; the SOA of zone in the answer; A and AAAA records of class IN
 * in the answer and additional sections, with port as their port. Beyond the limits above, records
 * are left out. Returns TDM_OK or TDM_EMALF and friends with a message in why.
 */
int cli_dnsq_found(const uint8_t *msg, size_t len, const uint8_t *zone, uint16_t port,
                   cli_dnsq_found_t *f, char *why, size_t whysize);
