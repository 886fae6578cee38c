/* wire/rdata.h -- rdata descriptors: where names sit inside each type's rdata, for compression and checks */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One field of an rdata layout. Positive values are fixed-length octet runs. */
enum {
	RDATA_END = 0,
	RDATA_CNAME = -1,    /* a name that may be compressed on output (RFC 1035 types, RFC 3597 4) */
	RDATA_DNAME = -2,    /* a name that may be compressed on input only (RFC 3597 4: SRV, RP, ...) */
	RDATA_NAME = -3,     /* a name never compressed (RRSIG signer, NSEC next, DNAME, SVCB target) */
	RDATA_STRING = -4,   /* a <character-string>: length octet plus data */
	RDATA_REST = -5,     /* everything up to the end of the rdata */
};

#define RDATA_MAXFIELDS 8

typedef struct {
	const char *name;                /* mnemonic, "A"; NULL for types we know nothing of */
	int16_t fields[RDATA_MAXFIELDS]; /* the layout, ended by RDATA_END */
} rdata_desc_t;

/* The descriptor for a type; unknown types get an RDATA_REST layout with a NULL name (RFC 3597). */
const rdata_desc_t *rdata_desc(uint16_t type);

/* Whether the type's rdata holds a name field of any kind (needed to decompress/lowercase it). */
int rdata_has_names(uint16_t type);

/*
 * Reads rdata of `type` at msg[pos..pos+rdlen) into out (uncompressed), expanding compressed names
 * where RFC 3597 allows them (RDATA_CNAME, RDATA_DNAME fields). Checks that every field fits in rdlen
 * and that fixed layouts are exact. Returns the uncompressed length, or TDM_EMALF / TDM_ECOMPRESS /
 * TDM_ESPACE (outcap too small).
 */
int rdata_unpack(const uint8_t *msg, size_t msglen, size_t pos, uint16_t rdlen, uint16_t type,
                 uint8_t *out, size_t outcap);

/*
 * Checks uncompressed rdata of `type` against its layout before it enters a zone: fixed fields exact,
 * names valid and uncompressed, character-strings inside the rdata, nothing left over; and for the types
 * the table leaves open (RDATA_REST) their own framing: TXT strings (RFC 1035 3.3.14), DNSSEC records
 * (RFC 4034, RFC 5155: type bitmaps, salt and hash lengths), SVCB parameters (RFC 9460 2.2), APL, CAA,
 * IPSECKEY, HIP, LOC. Empty rdata passes only where the type allows it (NULL, unknown types: RFC 3597).
 * TDM_OK, or TDM_EMALF with *why (a static string) saying what is wrong.
 */
int rdata_check(uint16_t type, const uint8_t *rdata, size_t len, const char **why);

/* Whether the type is a meta or question type (RFC 6895 3.1: OPT, 128-255, 0, 65535): never zone data. */
int rdata_is_meta(uint16_t type);

/*
 * One record about to enter the zone at apex, by transfer or (later) UPDATE: owner at or below apex,
 * a type that is zone data, rdata of its type's layout (rdata_check). TDM_OK, or TDM_EMALF with why
 * filled for a log line, the record named with its text escaped ("bad.example. CNAME: empty rdata").
 */
int rdata_check_record(const uint8_t *apex, const uint8_t *owner, uint16_t type, const uint8_t *rdata,
                       size_t len, char *why, size_t why_len);

/* Type mnemonic ("A", "TYPE65280" for unknown ones) into buf; returns buf. */
const char *rdata_type_name(uint16_t type, char *buf, size_t size);

/* Parses a type mnemonic or TYPEnnn (case-insensitive). Returns the type, or -1. */
int rdata_type_from_text(const char *text);
