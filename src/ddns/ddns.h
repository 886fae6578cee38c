/* ddns/ddns.h -- RFC 2136 dynamic update: prerequisites checked and updates turned into a change */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "zone/contents.h"
#include "zone/rrlist.h"

/*
 * DESIGN. An UPDATE message names a zone, prerequisites and updates (RFC 2136 2). ddns_prepare reads
 * both sections against one version of the zone: every prerequisite is checked against it as it is
 * (3.2), then the updates are applied in order to a working copy of the RRsets they name (3.4.2: the
 * apex SOA and NS cannot be deleted, a CNAME never joins other data nor other data a CNAME, an SOA
 * whose serial does not go forward is ignored), and the result is the change as IXFR carries it: what
 * the version loses and what it gains, the SOA's serial raised by the zone's policy (or as the update set it) when
 * anything else changed. Nothing is applied here: the caller commits the change through the change
 * path (change/change.h), so an UPDATE is atomic and costs what it changes.
 *
 * Records a signer keeps (RRSIG, NSEC, NSEC3, NSEC3PARAM, DNSKEY) are refused: Tandem does not sign,
 * and a signed zone is the signer's to change.
 */

/* At most this many records in the prerequisite and update sections together (a bound on the work an
 * UPDATE may ask, checked before any is read: REFUSED beyond it). */
#define DDNS_MAX_RECORDS 4096

typedef struct {
	int rcode;                 /* the answer's rcode: NOERROR, FORMERR, NOTZONE, NXDOMAIN, ... */
	char why[1280];            /* for the log when rcode is not NOERROR */
	uint32_t serial;           /* the serial the change leads to (when it changes anything) */
} ddns_result_t;

/*
 * Reads the prerequisite and update sections of msg (len octets; its zone section, already read,
 * names the zone of z) and checks them against z. On NOERROR, removed and added (empty lists given
 * by the caller) hold the change, both empty when the update changes nothing; the SOA gets
 * next_serial (the zone's serial policy, zone/diff.h serial_next) unless the update set it. Returns
 * TDM_OK (the outcome in *res, NOERROR or a refusal with its rcode) or TDM_ENOMEM.
 */
int ddns_prepare(const zone_contents_t *z, const uint8_t *msg, size_t len, uint32_t next_serial,
                 rrlist_t *removed, rrlist_t *added, ddns_result_t *res);
