/* api/console_files.h -- the table of the web console's files that scripts/embed.py generates from www/ */
#pragma once

#include <stddef.h>

typedef struct {
	const char *path;              /* "/index.html": the file's path under www/, with a leading slash */
	const char *content_type;      /* from the file's extension */
	const unsigned char *data;
	size_t len;
} console_file_t;

/* Generated at build time into $(BUILD)/gen/console_files.c, sorted by path. */
extern const console_file_t console_files[];
extern const size_t console_file_count;
