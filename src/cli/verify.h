/* cli/verify.h -- `tandem verify ZONE [@SERVER[@PORT]]`: does every name server of a zone hold one serial? */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/dnsq.h"
#include "lib/sockaddr.h"
#include "wire/name.h"

#define CLI_VERIFY_DEFAULT_PORT 53
#define CLI_VERIFY_TIMEOUT_MS 1000    /* per try: a name server that answers at all answers fast */
#define CLI_VERIFY_TRIES 2
#define CLI_VERIFY_MAX_ROWS 128       /* name server addresses asked */

typedef enum {
	CLI_VERIFY_OK,           /* answered with the reference serial */
	CLI_VERIFY_DIFFERS,      /* answered with another serial */
	CLI_VERIFY_NO_ANSWER,    /* timeout, port unreachable, network error */
	CLI_VERIFY_REFUSED,      /* rcode REFUSED: it does not serve the zone */
	CLI_VERIFY_NOT_AUTH,     /* a SOA without AA: a resolver or a lame delegation */
	CLI_VERIFY_ERROR,        /* another rcode, no SOA in the answer, a malformed reply */
	CLI_VERIFY_NO_ADDRESS,   /* the server knows no A/AAAA for the name server */
	CLI_VERIFY_PENDING,      /* answered a serial, not compared yet */
} cli_verify_status_t;

typedef struct {
	uint8_t ns[NAME_MAXLEN];       /* the name server */
	sockaddr_t addr;               /* len 0 with CLI_VERIFY_NO_ADDRESS */
	cli_verify_status_t status;
	bool has_serial;
	uint32_t serial;
	char note[300];                /* "timeout", "SERVFAIL", "no SOA in the answer", ... */
} cli_verify_row_t;

typedef struct {
	uint8_t zone[NAME_MAXLEN];
	sockaddr_t server;
	char server_text[SOCKADDR_STRLEN];
	bool has_serial;               /* the serial the server itself gives (authoritative) */
	uint32_t serial;
	size_t nns;                    /* name servers in the NS set */
	cli_verify_row_t rows[CLI_VERIFY_MAX_ROWS];
	size_t nrows;
	bool truncated;                /* more addresses than CLI_VERIFY_MAX_ROWS */
	unsigned timeout_ms, tries;
} cli_verify_t;

/* "OK", "DIFFERS", "NO ANSWER", "REFUSED", "NOT AUTH", "ERROR", "NO ADDRESS". */
const char *cli_verify_status_name(cli_verify_status_t s);

/*
 * Reads the words after "verify" (global options already taken out): ZONE and an optional
 * @SERVER[@PORT] (default 127.0.0.1@53, a host name resolved here). Fills zone, server and
 * server_text. TDM_OK or TDM_EINVAL with a message in err.
 */
int cli_verify_args(cli_verify_t *v, int npos, char **pos, char *err, size_t errsize);

/*
 * Compares: the reference is the serial the server gives, or, when it gave none, the highest (RFC
 * 1982) any name server gave. Rows still pending become OK or DIFFERS. Returns true when every row is
 * OK (and there is one at least).
 */
bool cli_verify_judge(cli_verify_t *v);

/* The reference serial cli_verify_judge() used; false when nobody gave one. */
bool cli_verify_reference(const cli_verify_t *v, uint32_t *serial);

/* The table for a person, with a summary line. TDM_OK, TDM_ENOMEM or TDM_EIO. */
int cli_verify_print(FILE *out, const cli_verify_t *v);

/* {"zone", "server", "serial", "ok", "nameservers": [{"name", "address", "serial", "status",
 * "note"}]}, or NULL when out of memory. */
json_t *cli_verify_json(const cli_verify_t *v);
