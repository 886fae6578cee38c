/* tests/fuzz/fuzz_util.h -- what the fuzz targets share: paths to test data, the test zones, framing */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query/query.h"
#include "zone/contents.h"
#include "zone/zoneset.h"

/*
 * The fuzz targets (tests/fuzz/fuzz_*.c) drive the library as the daemon does, through public
 * functions only. Test data is found under the source tree: FUZZ_ROOT (set by the Makefile), or the
 * TANDEM_SRC environment variable when set.
 */

/* root + "/" + rel, in one of a few rotating static buffers. */
const char *fuzz_path(const char *rel);

/* A new folder /tmp/tandem-fuzz-<what>-XXXXXX, removed with what it holds when the process exits
 * normally (a crash leaves it for a look). Returns its path (static); aborts when it cannot. */
const char *fuzz_tempdir(const char *what);

/* A zonefile_error_fn that drops every message (the fuzzers feed broken zones by the million). */
void fuzz_quiet(void *ctx, const char *file, unsigned line, const char *msg);

/* Loads and builds one zone from a file under the root; aborts when it cannot (a broken setup). */
zone_contents_t *fuzz_zone_load(const char *rel, const char *origin);

/* Every test zone (tests/data/zones and the pre-signed ones in tests/fuzz/data), as one zone set
 * built once and kept for the life of the process. Registers the calling thread with RCU. */
const zoneset_t *fuzz_zoneset(void);

/* The fuzzers' reader of length-prefixed messages (two octets, network order, as over TCP). */
typedef struct {
	const uint8_t *p;
	size_t left;
} fuzz_reader_t;

/* The next message; false when the input is used up (a short tail is one last message). */
bool fuzz_next(fuzz_reader_t *r, const uint8_t **msg, size_t *len);

/* A query (qname wire, type, class IN) with EDNS and DO when asked, into buf; returns its length. */
size_t fuzz_make_query(uint8_t *buf, size_t cap, const uint8_t *qname, uint16_t qtype, bool dnssec);
