/* lookup/reply.h -- reading a reply for `tandem lookup`: every length checked, records to a visitor */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { LOOKUP_SEC_QUESTION, LOOKUP_SEC_ANSWER, LOOKUP_SEC_AUTHORITY, LOOKUP_SEC_ADDITIONAL,
       LOOKUP_SEC_COUNT };

/* What the header and the OPT record of a reply say. */
typedef struct {
	uint16_t id, flags;            /* flags: the second header word as it stands (QR..CD) */
	uint8_t opcode;
	uint16_t rcode;                /* 12 bits when an OPT record brings the upper 8 (RFC 6891 6.1.3) */
	uint16_t counts[LOOKUP_SEC_COUNT];
	bool edns;                     /* an OPT record was present */
	uint8_t edns_version;
	bool edns_do;
	uint16_t edns_payload;         /* as the server wrote it */
	size_t opt_pos;                /* its option list: msg[opt_pos .. opt_pos + opt_len) */
	uint16_t opt_len;
	size_t end;                    /* where the last record ends; octets after it are trailing data */
} lookup_reply_t;

/* One question or record, rdata uncompressed. A question has ttl 0 and no rdata. */
typedef struct {
	int section;
	const uint8_t *owner;          /* wire form, case kept */
	uint16_t type, rclass;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
} lookup_rr_t;

/* Called for every question and record except the OPT record; a nonzero return stops the walk. */
typedef int (*lookup_rr_fn)(void *ctx, const lookup_rr_t *rr);

/*
 * Reads the whole reply msg[0..len): the header, every question and record (names, lengths, rdata
 * layout through rdata_unpack), and the OPT record (only one, in the additional section, with the
 * root owner and a well-formed option list). fn may be NULL to check only. Returns TDM_OK, the first
 * nonzero return of fn, or TDM_EMALF / TDM_ECOMPRESS / TDM_ELABEL / TDM_ENAMELEN with what is wrong
 * and where in err.
 */
int lookup_reply_read(const uint8_t *msg, size_t len, lookup_reply_t *r, lookup_rr_fn fn, void *ctx,
                      char *err, size_t errsize);

/* "NOERROR", "NXDOMAIN", ..., "RCODE4000" for codes without a name. Returns buf. */
const char *lookup_rcode_name(uint16_t rcode, char *buf, size_t size);

/* "QUERY", "NOTIFY", ..., "OPCODE9". Returns buf. */
const char *lookup_opcode_name(uint8_t opcode, char *buf, size_t size);
