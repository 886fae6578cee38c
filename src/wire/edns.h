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

/* Octets the OPT record we write will need, given what we put in it. */
size_t edns_size(const edns_t *e, const char *nsid);

/*
 * Writes our OPT record into the additional section: payload, the upper rcode bits of rcode, the DO
 * bit echoed from the request, NSID when asked and nsid is not NULL. TDM_OK or TDM_ESPACE.
 */
int edns_write(pkt_writer_t *w, const edns_t *req, uint16_t payload, int rcode, const char *nsid);
