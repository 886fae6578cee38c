/* lookup/print.h -- what `tandem lookup` shows as text: kdig-like, records in master-file format */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How a reply (or a whole transfer) came. */
typedef struct {
	const char *server;        /* "127.0.0.1@5300" */
	bool tcp;
	double ms;                 /* from sending the query to the last octet */
	size_t size;               /* octets received (all messages of a transfer) */
	unsigned messages;         /* a transfer: messages and records received; 0 otherwise */
	unsigned records;
} lookup_stats_t;

/*
 * Every function below takes a message that lookup_reply_read() accepted, and returns TDM_OK,
 * TDM_ENOMEM, or TDM_EIO when the output cannot be written. Record text comes from libknot's
 * dumper; rdata it cannot show as its type is shown in the RFC 3597 generic form.
 */

/* The whole reply: header and flags lines, the EDNS pseudosection, the sections, the "Received" line. */
int lookup_print_text(FILE *out, const uint8_t *msg, size_t len, const lookup_stats_t *st);

/* A transfer: a title line, then the answer records of each message, then the summary line. */
int lookup_print_axfr_title(FILE *out, const uint8_t *qname);
int lookup_print_answers(FILE *out, const uint8_t *msg, size_t len);
int lookup_print_axfr_end(FILE *out, const lookup_stats_t *st);
