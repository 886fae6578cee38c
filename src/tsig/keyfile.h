/* tsig/keyfile.h -- TSIG keys as text: BIND key files (tsig-keygen output) in, Tandem YAML blocks out */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "tsig/tsig.h"

/* One key read from a key file. */
typedef struct {
	char name[NAME_TEXT_MAX];    /* as written ("xfr.example" or "xfr.example.") */
	int alg;                     /* TSIG_ALG_* */
	uint8_t secret[TSIG_SECRET_MAX];
	size_t secret_len;
	int line;                    /* where its "key" statement starts */
} tsig_keyfile_key_t;

/* Called once per key read; a nonzero return stops the parse and is returned by it. */
typedef int (*tsig_keyfile_cb)(void *arg, const tsig_keyfile_key_t *key);

/*
 * Reads key statements in BIND's syntax, as `tsig-keygen` and `rndc-confgen` write them:
 *
 *   key "xfr.example" {
 *       algorithm hmac-sha256;
 *       secret "base64...";
 *   };
 *
 * Any number of them, names quoted or not, comments as BIND allows (#, //, slash-star), white space
 * inside the secret ignored. Nothing else may appear. Returns TDM_OK, TDM_EPARSE (syntax, a bad name,
 * a missing or bad secret), TDM_ESPACE (a secret longer than TSIG_SECRET_MAX octets), TDM_ENOENT (an
 * algorithm Tandem does not implement) or cb's code; on an error *line (when not NULL) is the line it
 * was found on.
 */
int tsig_keyfile_parse(const char *text, size_t len, tsig_keyfile_cb cb, void *arg, int *line);

/*
 * Writes a key as a block for Tandem's configuration, NUL-terminated:
 *
 *   keys:
 *     - name: xfr.example.
 *       algorithm: hmac-sha256
 *       secret: "base64..."
 *
 * The name is written lowercase and absolute; like the configuration, it may hold only letters, digits,
 * '-', '_', '/' and dots. Returns the text length, TDM_EPARSE (name), TDM_EINVAL (algorithm) or
 * TDM_ESPACE.
 */
int tsig_key_yaml(const char *name, int alg, const uint8_t *secret, size_t secret_len, char *out,
                  size_t cap);

/*
 * `tandem keygen NAME [ALGORITHM]`: a new random secret as long as the algorithm's MAC (RFC 8945 6 asks
 * for keys at least that long), written by tsig_key_yaml(). algorithm NULL means hmac-sha256.
 * Returns the text length, TDM_EPARSE (name), TDM_ENOENT (algorithm), TDM_ESPACE or TDM_ERROR (no
 * randomness).
 */
int tsig_keygen(const char *name, const char *algorithm, char *out, size_t cap);
