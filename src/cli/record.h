/* cli/record.h -- `tandem record` and the zone-text commands of `tandem zone` (export, import, edit,
 * history, revert) */
#pragma once

#include "cli/opts.h"

int cli_record_main(cli_opts_t *o, int argc, char **argv);

/* Whether `tandem zone SUB` is one of these (export, import, edit, history, revert). */
int cli_zonetext_known(const char *sub);
/* Runs `tandem zone SUB WORDS...` (words after SUB, global options already read). */
int cli_zonetext_main(cli_opts_t *o, const char *sub, int argc, char **argv);
