/* store/digest.h -- SHA-256 of a file, to tell whether a zone file changed since it was imported */
#pragma once

/*
 * Writes the lowercase hex SHA-256 of the file at path into out (64 digits and a NUL). Returns
 * TDM_OK, a negated errno when the file cannot be opened or read, TDM_ENOMEM, or TDM_ERROR when the
 * digest itself fails.
 */
int store_file_digest(const char *path, char out[65]);
