/* wire/edns.h -- EDNS(0) (RFC 6891): reading the OPT record of a request, writing ours */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "wire/pkt.h"

enum { EDNS_OPT_NSID = 3, EDNS_OPT_EXPIRE = 9, EDNS_OPT_COOKIE = 10 };

#define EDNS_MIN_PAYLOAD 512
#define EDNS_DEFAULT_PAYLOAD 1232

typedef struct {
	bool present;
	uint8_t version;
	uint8_t ext_rcode;
	bool do_bit;
	uint16_t payload;        /* the requester's UDP payload size (at least 512) */
	bool nsid;               /* NSID asked for (RFC 5001) */
	bool expire;             /* EXPIRE asked for (RFC 7314) */
	uint8_t cookie[40];      /* client cookie (8) and server cookie (8..32), RFC 7873 */
	uint8_t cookie_len;      /* 0 = none */
} edns_t;

/* Reads the rdata of an OPT record (rr as read by pkt_read_rr) into e. Returns TDM_OK, or TDM_EMALF
 * for a malformed option list (the request then gets FORMERR, RFC 6891 6.1.1). */
int edns_parse(const uint8_t *msg, const pkt_rr_t *rr, edns_t *e);

/* What our OPT record carries besides payload, rcode and DO. */
typedef struct {
	const char *nsid;            /* sent when asked for; NULL = not disclosed */
	uint8_t cookie[24];          /* client cookie + our server cookie; cookie_len 0 = none */
	uint8_t cookie_len;
	bool expire;                 /* send EXPIRE (RFC 7314) with expire_value seconds */
	uint32_t expire_value;
} edns_reply_t;

/* Octets the OPT record we write will need. */
size_t edns_size(const edns_t *req, const edns_reply_t *reply);

/*
 * Writes our OPT record into the additional section: payload, the upper bits of rcode, the DO bit
 * echoed from the request, NSID when asked for and reply->nsid is set, the cookie when set.
 * TDM_OK or TDM_ESPACE.
 */
int edns_write(pkt_writer_t *w, const edns_t *req, uint16_t payload, int rcode,
               const edns_reply_t *reply);

/*
 * RFC 7873 / RFC 9018: when the request has a client cookie, puts it and a fresh server cookie
 * (version 1, timestamp now, SipHash-2-4 over client cookie, version, timestamp and client address
 * under secret) into reply. client is a sockaddr_in or sockaddr_in6, or NULL.
 */
void edns_cookie(const edns_t *req, const uint8_t secret[16], const void *client, uint32_t now,
                 edns_reply_t *reply);
