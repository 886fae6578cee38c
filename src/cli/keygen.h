/* cli/keygen.h -- `tandem keygen NAME [ALGORITHM]`: a new TSIG key, ready to paste into a configuration */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * The key as Tandem's YAML `keys:` block (tsig_key_yaml()); with bind, BIND's `key` statement after it,
 * each under a comment saying where it goes. alg is a TSIG_ALG_* value. Returns the text length
 * (NUL-terminated in out), TDM_EPARSE (a name the configuration does not take), TDM_EINVAL or
 * TDM_ESPACE.
 */
int cli_keygen_format(const char *name, int alg, const uint8_t *secret, size_t secret_len, bool bind,
                      char *out, size_t cap);

/* The key as JSON: {"name": "xfr-key.", "algorithm": "hmac-sha256", "secret": "base64"}, the name
 * lowercase and absolute. NULL when out of memory or the name is not valid. */
json_t *cli_keygen_json(const char *name, int alg, const uint8_t *secret, size_t secret_len);
