/* cli/api.h -- one call to tandemd's HTTP API for the CLI, with errors a person can act on */
#pragma once

#include <stdio.h>

#include <jansson.h>

#include "cli/opts.h"

#define CLI_API_PREFIX "/api/v1"
#define CLI_PATH_MAX 2048

/*
 * Calls the API at o->server: method ("GET", "POST") on path under /api/v1 ("/zones"). On a 2xx
 * reply *out is its JSON (a new reference; json_null() for an empty body). Otherwise one line on err
 * says what went wrong and what to check, and *out is NULL. Returns the exit status: CLI_EXIT_OK,
 * CLI_EXIT_USAGE (no API key, a bad --server), CLI_EXIT_API or CLI_EXIT_NOTFOUND (404).
 */
int cli_api_call(const cli_opts_t *o, const char *method, const char *path, json_t **out, FILE *err);

/* The same with a JSON body (sent as application/json; NULL: none). */
int cli_api_call_body(const cli_opts_t *o, const char *method, const char *path, const json_t *body,
                      json_t **out, FILE *err);

/*
 * The message for a failure to get a reply (TDM_ECONNREFUSED, TDM_ETIMEDOUT, ...) from the API at
 * server: "cannot connect to the API at 127.0.0.1@8053 (connection refused): is tandemd running with
 * http.listen set?". Written to buf (always NUL-terminated); returns buf.
 */
const char *cli_api_transport_message(int code, const char *server, unsigned timeout, char *buf,
                                      size_t size);

/*
 * The message for an HTTP error status, using the API's {"error": "..."} when the body holds one
 * (body may be NULL or not JSON). 401 says which key to check. Returns buf.
 */
const char *cli_api_status_message(const cli_opts_t *o, int status, const char *body, char *buf,
                                   size_t size);

/* The exit status for an HTTP status: 2xx CLI_EXIT_OK, 404 CLI_EXIT_NOTFOUND, others CLI_EXIT_API. */
int cli_api_exit_status(int status);

/*
 * The path of a zone under /api/v1, or of an action on it: "/zones/example.com." or
 * "/zones/example.com./reload" (action NULL for the zone itself). The name is percent-encoded except
 * for letters, digits, '-', '.', '_' and '~'. Returns TDM_OK, TDM_EINVAL (empty name) or TDM_ESPACE.
 */
int cli_api_zone_path(const char *zone, const char *action, char *out, size_t cap);

/* Prints JSON as the API sent it, indented, keys in their order, with a final newline. TDM_OK or
 * TDM_EIO. */
int cli_api_print_json(FILE *out, const json_t *j);

/* Prints one API answer in a person's form; returns TDM_OK or an error (TDM_EIO, TDM_ENOMEM). */
typedef int (*cli_api_printer)(FILE *out, const json_t *j, void *arg);

/*
 * GETs path and shows the answer: as JSON (pretty) with --json, otherwise through print. Returns the
 * exit status, CLI_EXIT_API when printing fails.
 */
int cli_api_show(const cli_opts_t *o, const char *path, cli_api_printer print, void *arg, FILE *out,
                 FILE *err);
