/* cli/opts.h -- what the operator commands of `tandem` share: global options, the API key, exit codes */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/sockaddr.h"

/* Exit codes of the operator commands (docs/cli.md). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_USAGE = 1,     /* a bad command line, or no API key to send */
	CLI_EXIT_API = 2,       /* the API could not be reached, or answered with an error */
	CLI_EXIT_NOTFOUND = 3,  /* no such zone (or path) */
	CLI_EXIT_DIFFERS = 4,   /* verify: the name servers do not all answer with one serial */
};

#define CLI_DEFAULT_SERVER "127.0.0.1@8053"   /* make run's http.listen */
#define CLI_DEFAULT_PORT 8053
#define CLI_DEFAULT_KEY_FILE "./var/api.key"  /* make run's http.api-key-file */
#define CLI_DEFAULT_TIMEOUT 10                /* seconds for one API call */
#define CLI_MAX_TIMEOUT 3600
#define CLI_KEY_MAX 512                       /* longest API key we send, NUL included */
#define CLI_TEXT_MAX 1024                     /* a server or key file as given */
#define CLI_HOST_MAX 300                      /* a Host header value */

/* Where the API key comes from, for messages that say what to check. */
typedef enum {
	CLI_KEY_DEFAULT_FILE,   /* ./var/api.key, nothing given */
	CLI_KEY_FILE,           /* --key-file */
	CLI_KEY_ENV,            /* TANDEM_API_KEY */
	CLI_KEY_OPTION,         /* --api-key */
} cli_key_source_t;

typedef struct {
	char server[CLI_TEXT_MAX];      /* "address@port" or "host@port", as given */
	bool server_given;              /* --server or TANDEM_API */
	char api_key[CLI_KEY_MAX];      /* from --api-key or TANDEM_API_KEY */
	bool api_key_too_long;          /* TANDEM_API_KEY did not fit: refused, never cut */
	char key_file[CLI_TEXT_MAX];
	cli_key_source_t key_source;
	unsigned timeout;               /* seconds; 0 = the command's default */
	bool json;                      /* --json: print the API's JSON as it is (pretty) */
	bool help;                      /* -h / --help */
} cli_opts_t;

/* A command's own flag (keygen's --bind): the option word and the field it sets. */
typedef struct {
	const char *name;
	bool *value;
} cli_flag_t;

/* Defaults, then the environment: env_server is TANDEM_API, env_key TANDEM_API_KEY (either may be
 * NULL or empty). */
void cli_opts_init(cli_opts_t *o, const char *env_server, const char *env_key);

/*
 * Reads the global options in front of the command (`tandem --server ADDR@PORT zone list`): stops at
 * the first word that is not an option. *used is the number of words read. Returns TDM_OK, or
 * TDM_EINVAL with a message for the user in err.
 */
int cli_opts_leading(cli_opts_t *o, int argc, char **argv, int *used, char *err, size_t errsize);

/*
 * Reads a command's words: global options may come anywhere, then the command's own flags; other
 * words (and every word after "--") go to pos in order, *npos of them. pos holds argc entries; it may
 * be argv itself (the words only move forward).
 * Returns TDM_OK, or TDM_EINVAL with a message in err (an unknown option, a missing value).
 */
int cli_opts_parse(cli_opts_t *o, int argc, char **argv, const cli_flag_t *flags, size_t nflags,
                   char **pos, int *npos, char *err, size_t errsize);

/*
 * The key to send: --api-key or TANDEM_API_KEY, else the first line of the key file (white space
 * around it dropped). It must be printable ASCII without spaces, so that it fits a header.
 * Returns TDM_OK, or an error (file unreadable, empty, too long, bad characters) with a message in err.
 */
int cli_opts_key(const cli_opts_t *o, char *key, size_t cap, char *err, size_t errsize);

/*
 * A server written "address@port" or "host@port" (port default_port when absent); a host name goes
 * through the system resolver. host (when not NULL, CLI_HOST_MAX octets) gets the Host header value:
 * "127.0.0.1:8053", "[::1]:8053", "api.example:8053". Returns TDM_OK or TDM_EINVAL.
 */
int cli_resolve(const char *text, uint16_t default_port, sockaddr_t *out, char *host);

/* The lines about the global options, for usage texts. */
void cli_opts_usage(FILE *out);
