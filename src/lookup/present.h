/* lookup/present.h -- presentation text for `tandem lookup`: records (libknot's dumper), flags, options */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

#include "lookup/reply.h"

/* A growing text buffer and the dump style (kdig's: class shown, the record's own TTL). */
typedef struct {
	char *buf;
	size_t size;
	knot_dump_style_t style;
} lookup_present_t;

/* TDM_OK or TDM_ENOMEM. */
int lookup_present_init(lookup_present_t *p);
void lookup_present_free(lookup_present_t *p);

/*
 * Presentation text of one record into p->buf: the line "owner TTL CLASS TYPE rdata\n", or with
 * data_only the rdata alone. rdata libknot cannot show as its type (malformed for it) comes out in
 * the RFC 3597 generic form. Returns the text length, or TDM_ENOMEM.
 */
int lookup_present_rr(lookup_present_t *p, const lookup_rr_t *rr, bool data_only);

/* Class and type mnemonics ("IN", "CLASS7", "AAAA", "TYPE65280"). Return buf. */
const char *lookup_present_class(uint16_t rclass, char *buf, size_t size);
const char *lookup_present_type(uint16_t type, char *buf, size_t size);

/* The names of the header flags set in flags ("qr", "aa", "tc", "rd", "ra", "z", "ad", "cd"), in
 * that order, into names. Returns how many. */
#define LOOKUP_FLAGS_MAX 8
int lookup_present_flags(uint16_t flags, const char *names[LOOKUP_FLAGS_MAX]);

/* One EDNS option of a reply. */
typedef struct {
	uint16_t code, len;
	const uint8_t *data;
} lookup_opt_t;

enum { LOOKUP_OPT_PADDING = 12, LOOKUP_OPT_EDE = 15 };

/* Steps through the options of the reply's OPT record (already checked); *off starts at 0.
 * Returns false after the last one. */
bool lookup_present_next_opt(const uint8_t *msg, const lookup_reply_t *r, size_t *off,
                             lookup_opt_t *opt);

/* Allocated strings (NULL when out of memory): uppercase hex, and text with printable ASCII kept
 * and the rest (and '"', '\\') written as \DDD. */
char *lookup_present_hex(const uint8_t *data, size_t len);
char *lookup_present_escape(const uint8_t *data, size_t len);

/* The name of an EDE info code (RFC 8914), or "" when unknown. */
const char *lookup_present_ede(uint16_t code);
