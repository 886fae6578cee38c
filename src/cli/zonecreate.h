/* cli/zonecreate.h -- `tandem zone create|set|delete`: zones made, changed and removed through the API */
#pragma once

#include <stdbool.h>

#include "cli/opts.h"

/* Whether sub is one of create, set, delete. */
bool cli_zonecreate_handles(const char *sub);

/*
 * Runs `tandem zone SUB ...`; argv holds the words after "zone" (argv[0] is SUB), global options
 * among them. Returns the exit status (docs/cli.md): 0, 1 usage, 2 the API refused or could not be
 * reached, 3 no such zone.
 */
int cli_zonecreate_main(cli_opts_t *o, const char *sub, int argc, char **argv);
