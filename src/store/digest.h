/* store/digest.h -- a zone file's digest, to tell whether it (or a file it includes) changed since import */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Writes the lowercase hex digest of the zone file at path into out (64 digits and a NUL): the
 * SHA-256 of its octets when it has no $INCLUDE, else a SHA-256 over that and the path and digest of
 * every file it includes, recursively (store/digest.c says how), so that an edit to an included file
 * changes it too. An include tree too deep or too big to follow gives a random digest (the zone is
 * then parsed on every load). Returns TDM_OK, a negated errno when the file itself cannot be opened
 * or read (an included file that cannot be read only changes the digest), TDM_ENOMEM, or TDM_ERROR
 * when the digest itself fails.
 */
int store_file_digest(const char *path, char out[65]);

/* Like store_file_digest; *includes (when not NULL) says whether the file has any $INCLUDE, whose
 * files its own size and mtime do not cover. */
int store_file_digest_ex(const char *path, char out[65], bool *includes);

/* Like store_file_digest_ex for a zone file already read (text, len: its octets, as
 * zonefile_read gave them); path is where its relative $INCLUDEs are found. The same digest as the
 * file would get: a file is read once to be hashed and parsed. */
int store_text_digest(const char *path, const char *text, size_t len, char out[65],
                      bool *includes);
