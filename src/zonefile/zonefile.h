/* zonefile/zonefile.h -- zone files in master format: load (libzscanner), semantic checks, dump */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "zone/contents.h"
#include "zone/rrlist.h"

/* Receives one problem: file, line (0 when not tied to a line) and a message without file/line. */
typedef void (*zonefile_error_fn)(void *ctx, const char *file, unsigned line, const char *msg);

/* Prints "file:line: msg" to stderr; ctx unused. The default when fn is NULL. */
void zonefile_error_print(void *ctx, const char *file, unsigned line, const char *msg);

/*
 * Parses the zone file at path with origin (textual, "example.com.") into a new list, following
 * $ORIGIN, $TTL and $INCLUDE. Every syntax error is reported through fn (parsing goes on to find the
 * rest). Records outside the zone are reported and dropped. Returns TDM_OK and *out, TDM_EPARSE when
 * any error was reported (*out NULL), TDM_ENOMEM, or a negated errno when the file cannot be read.
 */
int zonefile_load(const char *path, const char *origin, rrlist_t **out, zonefile_error_fn fn,
                  void *ctx);

/*
 * Semantic checks of a zone's records (list, any order) for the zone at apex (wire, lowercase),
 * made on the version built from them (z; NULL = build one here): exactly one SOA, at the apex; NS
 * at the apex; a CNAME beside other data (RFC 1034 3.6.2; RRSIG/NSEC allowed); two CNAMEs at one
 * name; DNAME with names below it; records outside the zone; missing glue for in-zone NS targets
 * below a delegation. Each problem is reported through fn with the line of the record concerned.
 * Returns TDM_OK, TDM_ESEMCHECK when any problem was reported, or TDM_ENOMEM.
 */
int zonefile_check(const rrlist_t *list, const zone_contents_t *z, const uint8_t *apex,
                   const char *file, zonefile_error_fn fn, void *ctx);

/*
 * Writes the sorted list as a standard master file ($ORIGIN-free, absolute names, one record a line,
 * SOA first) that named-checkzone and kzonecheck accept and that zonefile_load reads back into the
 * same records. Returns TDM_OK, TDM_EIO, or TDM_ENOMEM.
 */
int zonefile_dump(const rrlist_t *list, const uint8_t *apex, FILE *out);
