/* lookup/json.h -- what `tandem lookup --json` shows: one JSON object per reply or transfer */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "lookup/print.h"

/*
 * Each function takes messages that lookup_reply_read() accepted and returns TDM_OK, TDM_ENOMEM, or
 * TDM_EIO when the output cannot be written.
 *
 * lookup_json_reply() makes the object for a reply in *obj: id, opcode, rcode, flags, edns (when the
 * reply had an OPT record), question, and sections with answer/authority/additional arrays of
 * {name, ttl, class, type, data}.
 */
int lookup_json_reply(const uint8_t *msg, size_t len, json_t **obj);

/* Appends the answer records of a later message of a transfer to obj's answer array. */
int lookup_json_answers(json_t *obj, const uint8_t *msg, size_t len);

/* Adds server, protocol, size, time_ms (and messages, records for a transfer), writes obj to out
 * (indented, with a final newline), and frees it (also on failure). */
int lookup_json_print(FILE *out, json_t *obj, const lookup_stats_t *st);
