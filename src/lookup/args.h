/* lookup/args.h -- the command line of `tandem lookup`: NAME, TYPE, CLASS, @SERVER, +options, --json */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/sockaddr.h"
#include "tsig/tsig.h"
#include "wire/name.h"

/* Exit codes, dig's where dig has one (1 usage, 9 no reply). */
enum {
	LOOKUP_EXIT_OK = 0,          /* a reply arrived, whatever its rcode */
	LOOKUP_EXIT_USAGE = 1,
	LOOKUP_EXIT_NOREPLY = 9,     /* timeout, refused connection, connection closed */
	LOOKUP_EXIT_MALFORMED = 10,  /* the reply could not be parsed */
	LOOKUP_EXIT_INTERNAL = 11,   /* out of memory, socket failure, output error */
};

#define LOOKUP_DEFAULT_PORT 53
#define LOOKUP_DEFAULT_TIMEOUT 2     /* seconds per try, as kdig */
#define LOOKUP_DEFAULT_TRIES 3
#define LOOKUP_DEFAULT_BUFSIZE 1232  /* the EDNS payload DNS Flag Day 2020 settled on */
#define LOOKUP_MAX_TIMEOUT 3600
#define LOOKUP_MAX_TRIES 100

typedef struct {
	uint8_t qname[NAME_MAXLEN];
	uint16_t qtype, qclass;
	sockaddr_t server;
	char server_text[SOCKADDR_STRLEN];  /* "address@port", for messages */
	bool tcp;          /* +tcp, or implied by +axfr */
	bool axfr;         /* +axfr or type AXFR: read the whole transfer */
	bool rd;           /* on unless +norec */
	bool ad, cd;       /* +adflag, +cdflag */
	bool edns;         /* on unless +noedns */
	bool dnssec;       /* +dnssec: the DO bit */
	bool nsid;         /* +nsid: ask for the server's NSID */
	bool ignore_tc;    /* +ignore: show a truncated UDP reply instead of retrying over TCP */
	bool json;         /* --json */
	bool help;         /* -h / --help */
	uint16_t bufsize;  /* EDNS UDP payload we advertise */
	unsigned timeout;  /* seconds per try */
	unsigned tries;
	bool has_key;      /* +key=[ALGORITHM:]NAME:SECRET: sign the query, verify the reply (TSIG) */
	char key_name[NAME_TEXT_MAX];
	char key_alg[32];
	uint8_t key_secret[TSIG_SECRET_MAX];
	size_t key_secret_len;
} lookup_args_t;

/*
 * Parses the words after "lookup" into a (defaults first). The first plain word is the name, later
 * ones a type or a class; a server given as a host name is resolved here. Returns TDM_OK, or TDM_EINVAL
 * with a message for the user in err (usage error).
 */
int lookup_args_parse(lookup_args_t *a, int argc, char **argv, char *err, size_t errsize);

/* Prints the usage text of `tandem lookup`. */
void lookup_usage(FILE *out);
