/* cli/status.h -- `tandem status`: what the server is, how long it has run, what it serves */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* Prints the answer of GET /api/v1/status for a person; arg points at the current time (int64_t Unix
 * seconds), from which "up since" is computed. TDM_OK or TDM_EIO. */
int cli_status_print(FILE *out, const json_t *status, void *arg);
