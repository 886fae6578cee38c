/* wire/name.h -- domain names in wire form: validation, case-insensitive compare, canonical order, text */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAME_MAXLEN 255      /* RFC 1035 2.3.4, octets of the wire form */
#define LABEL_MAXLEN 63
#define NAME_MAXLABELS 128
#define NAME_TEXT_MAX 1024   /* enough for any name printed with \DDD escapes */
/* Compression pointers followed in one name. A writer puts at least one label between two pointers
 * (it points at names it wrote), so a real name needs at most one per label. */
#define NAME_MAXHOPS NAME_MAXLABELS

/* ASCII-only lowercase (RFC 4343: DNS case folding is for A-Z only). */
static inline uint8_t name_lower(uint8_t c)
{
	return (uint8_t)(c - 'A') < 26 ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Length of the uncompressed wire name at name (at most maxlen octets readable), validated: labels of
 * at most 63 octets, no compression or extended label types, total at most 255. Returns the length
 * (root = 1) or TDM_EMALF / TDM_ELABEL / TDM_ENAMELEN. */
int name_length(const uint8_t *name, size_t maxlen);

/* Number of labels, not counting the root ("example.com." = 2). name must be valid. */
int name_labels(const uint8_t *name);

/* Copies a valid name, lowercasing it. dst may equal src. Returns the length. */
int name_copy_lower(uint8_t *dst, const uint8_t *src);

/* Case-insensitive equality of two valid names. */
bool name_equal(const uint8_t *a, const uint8_t *b);

/* Canonical order (RFC 4034 6.1): <0, 0, >0. Case-insensitive. */
int name_cmp_canonical(const uint8_t *a, const uint8_t *b);

/* Whether name equals parent or lies below it (case-insensitive). */
bool name_in_zone(const uint8_t *name, const uint8_t *parent);

/* Pointer to the suffix of name that has `labels` labels (0 = the root). labels <= name_labels(name). */
const uint8_t *name_suffix(const uint8_t *name, int labels);

/* Reads a possibly compressed name from a message at *pos into out (NAME_MAXLEN octets, case kept),
 * advancing *pos past the name as it stands in the message. Pointers must point strictly backwards
 * (so no loops), inside the message, at most NAME_MAXHOPS of them; labels and total length are checked
 * before anything is read. So one name costs at most NAME_MAXHOPS jumps and NAME_MAXLEN octets copied,
 * whatever the message, and reading a message costs at most that per name it holds (its length / 2).
 * Returns the length of out or TDM_EMALF / TDM_ECOMPRESS / TDM_ELABEL / TDM_ENAMELEN. */
int name_unpack(const uint8_t *msg, size_t msglen, size_t *pos, uint8_t *out);

/* Parses presentation text ("www.Example.com.", "@"-free, with \. and \DDD escapes) into wire form.
 * A name without a trailing dot is made absolute against origin (wire; NULL = root). Returns the
 * length or TDM_EPARSE / TDM_ELABEL / TDM_ENAMELEN. */
int name_from_text(const char *text, const uint8_t *origin, uint8_t out[NAME_MAXLEN]);

/* Writes the presentation form, always absolute ("." for the root), escaping as RFC 1035 5.1 says.
 * Returns the text length, or TDM_ESPACE when size is too small (out then holds a truncated string). */
int name_to_text(const uint8_t *name, char *out, size_t size);

/* A hash of the lowercased name for hash tables: keyed with the process's random key (lib/siphash.h),
 * so it differs from run to run and must never be stored. */
uint32_t name_hash(const uint8_t *name, size_t len);
