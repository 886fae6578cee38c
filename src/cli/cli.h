/* cli/cli.h -- the operator commands of `tandem` (status, zone, keygen, verify) as main.c calls them */
#pragma once

#include <stdio.h>

#include "cli/opts.h"

/*
 * Each takes the global options read in front of the command (o, which it may change: a command's
 * words may hold global options too) and the words after the command name. Output goes to stdout,
 * problems to stderr. Each returns the exit status (CLI_EXIT_*).
 */
int cli_status_main(cli_opts_t *o, int argc, char **argv);
int cli_zone_main(cli_opts_t *o, int argc, char **argv);
int cli_keygen_main(cli_opts_t *o, int argc, char **argv);
int cli_verify_main(cli_opts_t *o, int argc, char **argv);
int cli_backup_main(cli_opts_t *o, int argc, char **argv);        /* cli/backup.c */
int cli_reconfig_main(cli_opts_t *o, int argc, char **argv);      /* cli/reconfig.c */
int cli_key_main(cli_opts_t *o, int argc, char **argv);      /* cli/keys.c */
int cli_apikey_main(cli_opts_t *o, int argc, char **argv);   /* cli/keys.c */
