/* xfr/out.h -- zone transfers out: AXFR (RFC 5936) and IXFR (RFC 1995) as a stream of messages */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/pkt.h"
#include "zone/contents.h"
#include "zone/rrlist.h"

/* Sends one complete message (the caller signs it, frames it for TCP and writes it). last says it
 * ends the transfer. Returns TDM_OK or an error that aborts the transfer. */
typedef int (*xfr_send_fn)(void *ctx, uint8_t *msg, size_t len, size_t cap, bool last);

/* A transfer being written. Visible so it lives on the caller's stack. */
typedef struct {
	uint8_t *buf;                /* PKT_MAXLEN octets, the message being filled */
	size_t reserve;              /* octets kept free at the end of each message (for TSIG) */
	uint16_t id;
	uint16_t flags;              /* header flags of every message (QR, AA, ...) */
	const pkt_question_t *question;
	xfr_send_fn send;
	void *ctx;
	pkt_writer_t w;
	pkt_ctable_t *table;         /* compression for every message; NULL: xfr_out_axfr and _ixfr
	                              * make one for the transfer (else the writer uses its own) */
	bool expire;                 /* the first message carries EDNS EXPIRE (RFC 7314 2) ... */
	uint32_t expire_value;       /* ... with this value */
	bool open;                   /* a message is being filled */
	size_t owner_pos;            /* where the last record of the message starts (0: none yet) */
	unsigned messages;
	size_t records;
} xfr_out_t;

/* Writes one record, starting a new message when the current one is full: when the next record would
 * not fit, or when the message has reached PKT_COMPRESS_REACH octets (the names of records past that
 * offset can not be pointed at, so they would compress worse than in a new message). TDM_OK or an
 * error. */
int xfr_out_rr(xfr_out_t *x, const uint8_t *owner, uint16_t type, uint32_t ttl,
               const uint8_t *rdata, uint16_t rdlen);

/* Sends the last message. */
int xfr_out_finish(xfr_out_t *x);

/* AXFR: the SOA, every other record, the SOA again (RFC 5936 2.2). TDM_OK, TDM_ENOMEM or an error
 * of the writer or of send. */
int xfr_out_axfr(xfr_out_t *x, const zone_contents_t *z);

/* IXFR with one condensed difference (RFC 1995 4): new SOA, old SOA, removed, new SOA, added, new
 * SOA. removed and added exclude the SOAs; old_soa is the requester's version's SOA record. */
int xfr_out_ixfr(xfr_out_t *x, const zone_contents_t *z, const rr_t *old_soa,
                 const rrlist_t *removed, const rrlist_t *added);

/* A single SOA: "you are up to date" (RFC 1995 4), or the UDP answer telling a client to use TCP. */
int xfr_out_soa_only(xfr_out_t *x, const zone_contents_t *z);

/*
 * Condenses a sequence of journal differences into one: a record removed and later added back
 * (or the reverse) disappears; TTL counts as part of a record. SOA records are left out (the caller
 * knows both ends). The lists given are consumed by xfr_condense_add; xfr_condense_finish gives the
 * result. Returns TDM_OK or TDM_ENOMEM.
 */
typedef struct xfr_condense xfr_condense_t;
xfr_condense_t *xfr_condense_new(void);
int xfr_condense_add(xfr_condense_t *c, const rrlist_t *removed, const rrlist_t *added);
int xfr_condense_finish(xfr_condense_t *c, rrlist_t *removed, rrlist_t *added);
void xfr_condense_free(xfr_condense_t *c);
