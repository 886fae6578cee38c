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

/* Type mnemonic ("A", "TYPE65280" for unknown ones) into buf; returns buf. */
const char *rdata_type_name(uint16_t type, char *buf, size_t size);

/* Parses a type mnemonic or TYPEnnn (case-insensitive). Returns the type, or -1. */
int rdata_type_from_text(const char *text);
