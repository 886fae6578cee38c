/* xfr/in.h -- the secondary's side: SOA checks and zone transfers in (IXFR, AXFR) from a primary */
#pragma once

#include "xfr/conn.h"

#include <stdbool.h>
#include <stdint.h>

#include "lib/sockaddr.h"
#include "zone/contents.h"
#include "zone/rrlist.h"

#include "tls/tls.h"
#include "tsig/tsig.h"

/* Where and how to ask. */
typedef struct {
	const uint8_t *zone;              /* apex, wire, lowercase */
	const sockaddr_t *primary;
	const sockaddr_t *source;         /* bind to this (port 0 allowed), or NULL / len 0 */
	const tsig_key_t *key;             /* sign requests and require signed answers; NULL = none */
	tls_client_t *tls;                 /* over TLS (RFC 9103), checked so; NULL = plain UDP/TCP */
	unsigned timeout_ms;              /* per message: each must come whole within it */
	int64_t deadline;                 /* the whole exchange ends by then (clock_us()); 0 = none */
	uint64_t max_records;             /* records one transfer may carry (max-zone-records); 0 = any */
	uint64_t max_bytes;               /* their octets, uncompressed (max-zone-size); 0 = any */
} xfr_peer_t;

/* What a transfer brought. */
typedef struct {
	bool full;                        /* AXFR (or an IXFR answered with the whole zone) */
	bool uptodate;                    /* IXFR answered with our own serial: nothing to do */
	rrlist_t *records;                /* full: every record */
	rrlist_t *removed, *added;        /* incremental: one condensed change, SOAs included */
	uint32_t serial;                  /* the serial transferred */
	unsigned messages;
	size_t bytes, changes;
	bool has_expire;                  /* the primary answered EDNS EXPIRE (RFC 7314) */
	uint32_t expire;
	uint64_t read_records, read_bytes; /* what was read: counted against the peer's limits */
	bool reconnected;                 /* xfr_fetch_on: the kept connection failed, a new one served */
	char error[384];                  /* why it failed, for logs and the replication view */
} xfr_result_t;

void xfr_result_clear(xfr_result_t *r);

/* Asks the primary for the zone's SOA over UDP (TCP when truncated; over TLS only, when the peer
 * has tls: RFC 9103 leaves nothing of the zone to plain transports then), with EDNS EXPIRE. Returns
 * TDM_OK with *serial (and the expire in r when answered), TDM_ERCODE when the primary answered
 * with an error rcode, TDM_ETIMEDOUT, or another error; r->error says what happened. */
int xfr_soa_query(const xfr_peer_t *peer, uint32_t *serial, xfr_result_t *r);

/*
 * Fetches the zone over TCP: IXFR from current's serial when current is not NULL (RFC 1995),
 * AXFR otherwise (RFC 5936). Every message is checked (id, question, rcode, every record parsed with
 * its names decompressed, then checked against its type's layout and the zone: rdata_check_record);
 * an incremental answer is checked to start at current's serial. A transfer that carries more than
 * the peer's max_records or max_bytes, or outlives its deadline, is cut there (its memory freed).
 * Returns TDM_OK and r filled, or an error with r->error saying why, naming a refused record
 * (TDM_EMALF), a limit (TDM_ERANGE), the deadline (TDM_ETIMEDOUT); the caller falls back to AXFR.
 */
int xfr_fetch(const xfr_peer_t *peer, const zone_contents_t *current, xfr_result_t *r);

/*
 * Like xfr_fetch, over the connection *conn when it is open (fd >= 0: kept from an earlier transfer
 * from the same primary; RFC 5936 4.1 and RFC 7766 6.2.1 let a client send several requests on one
 * connection), else over a new one. A kept connection that fails before the first message of the
 * answer (closed by the primary, or no answer within XFR_KEPT_WAIT_MS) is replaced by a new one
 * once. On return *conn is the connection to keep for the next transfer (plain TCP or TLS, as the
 * peer asks), or closed (fd -1) after a failure or an IXFR answered without a whole stream. Start
 * with XFR_CONN_NONE; the caller closes a kept connection (xfr_conn_close).
 */
#define XFR_KEPT_WAIT_MS 2000
int xfr_fetch_on(const xfr_peer_t *peer, const zone_contents_t *current, xfr_conn_t *conn,
                 xfr_result_t *r);

/* Asks the primary (over TCP, signed when the peer has a key) for the zone's NS set: the target
 * names, lowercase, into names (at most max; *count says how many). TDM_OK, TDM_ERCODE, or a
 * network error; why says what happened. */
int xfr_ns_query(const xfr_peer_t *peer, uint8_t (*names)[NAME_MAXLEN], size_t max,
                 size_t *count, char *why, size_t why_len);
