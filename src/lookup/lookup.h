/* lookup/lookup.h -- `tandem lookup`: ask one server one question (or transfer a zone) and show the reply */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lookup/args.h"

/* The query for a, with id: header (RD, AD, CD as asked), the question, and an OPT record unless
 * +noedns (payload, DO, an empty NSID option for +nsid). Returns its length or TDM_ESPACE. */
int lookup_build_query(const lookup_args_t *a, uint16_t id, uint8_t *buf, size_t cap);

/*
 * Asks a->server: over UDP with a->tries tries of a->timeout seconds, retrying over TCP when the
 * reply is truncated (unless +ignore); over TCP for +tcp; or a whole AXFR. Prints the reply (text
 * or JSON) on out and problems on err. Returns the exit status: LOOKUP_EXIT_OK when a reply
 * arrived whatever its rcode, LOOKUP_EXIT_NOREPLY, LOOKUP_EXIT_MALFORMED or LOOKUP_EXIT_INTERNAL.
 */
int lookup_run(const lookup_args_t *a, FILE *out, FILE *err);

/* `tandem lookup ARGS...` (argv holds the words after "lookup"): parse, run, report. Returns the
 * exit status (LOOKUP_EXIT_USAGE on a bad command line). */
int lookup_main(int argc, char **argv);
