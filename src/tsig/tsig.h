/* tsig/tsig.h -- TSIG (RFC 8945): signing and verifying requests, responses and multi-message streams */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tsig/tsig_openssl.h"
#include "wire/name.h"

/*
 * One tsig_ctx_t follows one exchange, on either side: a request, then its response or the messages of
 * an AXFR/IXFR stream. The same context signs on one side and verifies on the other:
 *
 *   client (SOA, IXFR, AXFR, NOTIFY out)       server (requests in)
 *   tsig_ctx_init(&c, &key)                    tsig_ctx_init(&c, NULL)
 *   tsig_sign(&c, req, ...)         ------>    tsig_server_verify(&c, req, ..., lookup, ...)
 *                                                (failure: answer NOTAUTH, or FORMERR for TDM_EMALF)
 *   tsig_verify(&c, msg1, ...)      <------    tsig_sign(&c, msg1, ...)   (covers the request MAC)
 *   tsig_verify(&c, msg2, ...)      <------    tsig_sign(&c, msg2, ...)   (prior MAC + timers)
 *   ...                                        ...
 *   tsig_verify_end(&c)
 *   tsig_ctx_clear(&c)                         tsig_ctx_clear(&c)
 *
 * States: REQUEST (nothing yet: the next message is a request, no prior MAC), FIRST (a request was
 * signed or verified: the next message is the first answer, covering the request MAC with all TSIG
 * variables, RFC 8945 4.3.3), NEXT (later messages of a stream: prior MAC, the messages since it, timers
 * only, RFC 8945 4.3.1 and 5.3.1), FAILED (verification failed; only an error answer can follow).
 *
 * Times are seconds since the epoch, passed in by the caller (time(NULL) in the daemon) so tests can
 * fix them.
 */

#define TSIG_FUDGE_DEFAULT 300     /* RFC 8945 10 recommends 300 s */
#define TSIG_UNSIGNED_MAX 99       /* RFC 8945 5.3.1: unsigned messages accepted between signed ones */
#define TSIG_SECRET_MAX 1024       /* longest secret accepted anywhere (config, key files, keys) */

/* TSIG error field values (RFC 8945 3, IANA "DNS RCODEs"). */
enum {
	TSIG_ERROR_NONE = 0,
	TSIG_ERROR_BADSIG = 16,
	TSIG_ERROR_BADKEY = 17,
	TSIG_ERROR_BADTIME = 18,
	TSIG_ERROR_BADTRUNC = 22,
};

/* A key. The secret is borrowed (the configuration owns it) and must outlive the key. */
typedef struct {
	uint8_t name[NAME_MAXLEN];   /* wire form, lowercase */
	int alg;                     /* TSIG_ALG_* */
	const uint8_t *secret;
	size_t secret_len;
} tsig_key_t;

/*
 * Makes a key from its configuration (conf_key_t gives exactly these: name, algorithm, secret; tsig
 * sits below conf, so it takes the fields rather than the struct). Returns TDM_OK, TDM_EPARSE (name),
 * TDM_ENOENT (algorithm unknown), TDM_EINVAL (empty secret) or TDM_ESPACE (a secret longer than
 * TSIG_SECRET_MAX: the configuration refuses those, so that no key is ever dropped or cut later).
 */
int tsig_key_init(tsig_key_t *key, const char *name, const char *algorithm, const uint8_t *secret,
                  size_t secret_len);

typedef enum {
	TSIG_STATE_REQUEST,
	TSIG_STATE_FIRST,
	TSIG_STATE_NEXT,
	TSIG_STATE_FAILED,
} tsig_state_t;

/* The state of one exchange. Visible so it lives on the caller's stack; use the functions. */
typedef struct {
	const tsig_key_t *key;       /* NULL on a server until a request names a known key */
	uint16_t fudge;              /* written when signing; TSIG_FUDGE_DEFAULT */
	tsig_state_t state;
	uint16_t error;              /* TSIG error to answer a failed request with (TSIG_ERROR_*) */
	uint16_t peer_error;         /* error field of the last TSIG received (nonzero: the peer refused) */
	uint8_t mac[TSIG_DIGEST_MAX];
	uint16_t mac_len;            /* prior MAC: request MAC, then the last MAC sent or received */
	uint64_t time_signed;        /* of the last TSIG received or sent */
	unsigned unsigned_count;     /* unsigned messages since the last signed one (stream) */
	tsig_hmac_t *hmac;           /* allocated on first use; runs across unsigned messages */
	uint8_t req_name[NAME_MAXLEN];   /* key and algorithm names as the request wrote them, */
	uint8_t req_alg[NAME_MAXLEN];    /* echoed in an error answer when the key is unknown */
} tsig_ctx_t;

/* Starts an exchange with a key (client, or a server that knows the key), or NULL (a server that will
 * find the key with tsig_server_verify). */
void tsig_ctx_init(tsig_ctx_t *ctx, const tsig_key_t *key);

/* Frees what the context holds. Always call it, whatever happened; init may follow again. */
void tsig_ctx_clear(tsig_ctx_t *ctx);

/* Hands an exchange over (say, from the worker that verified a transfer request to the thread that
 * streams the answer): dst gets the state and the HMAC object, src keeps none, so clearing both is safe.
 * dst->key still points to src's key; point it to a copy when that may go away first. Never copy a
 * tsig_ctx_t by assignment: both copies would own the HMAC object. */
void tsig_ctx_move(tsig_ctx_t *dst, tsig_ctx_t *src);

/*
 * Appends a TSIG record to the complete message msg[0..*len) (capacity cap) and adds one to ARCOUNT:
 * in state REQUEST a request, in FIRST the first answer (covering the request MAC), in NEXT a later
 * message of a stream. The original ID is the header ID as it is now.
 * After a request failed verification (ctx->error set), writes the error record RFC 8945 5.3.2 asks
 * for instead: BADKEY and BADSIG unsigned (MAC size 0, key and algorithm names echoed from the
 * request), BADTIME signed over the request MAC, with the request's time signed and the server's time
 * in other data; the caller sets rcode NOTAUTH itself.
 * Returns TDM_OK (*len grows), TDM_ESPACE (the record does not fit; message unchanged), TDM_EINVAL
 * (no key, state FAILED, message shorter than a header or ARCOUNT full), TDM_ENOMEM or TDM_ERROR.
 */
int tsig_sign(tsig_ctx_t *ctx, uint8_t *msg, size_t *len, size_t cap, uint64_t now);

/* Sends a stream message unsigned (state NEXT only): it goes into the running digest that the next
 * signed message covers. RFC 8945 5.3.1 asks servers to sign every message; this exists for peers that
 * must be tested against the 99-message rule. TDM_OK, TDM_EINVAL (other state, or 99 already
 * unsigned), TDM_ENOMEM or TDM_ERROR. */
int tsig_sign_skip(tsig_ctx_t *ctx, const uint8_t *msg, size_t len);

/*
 * Verifies one received message with ctx->key, by the state: a request (REQUEST), the first answer
 * (FIRST) or a later message of a stream (NEXT). The TSIG record must be the last record, and the only
 * one (RFC 8945 5.2). Checks in the RFC's order: key name and algorithm, MAC size (RFC 8945 5.2.2.1:
 * at most the hash length, at least the larger of 10 and half of it), the MAC itself (computed over the
 * header with the original ID and ARCOUNT less one), then the time against the record's fudge.
 * In NEXT, an unsigned message is accepted and digested, up to 99 in a row (RFC 8945 5.3.1).
 * Returns:
 *   TDM_OK               verified (or an accepted unsigned stream message); state moves on
 *   TDM_ENOENT           REQUEST only: the message carries no TSIG (state unchanged)
 *   TDM_EMALF            malformed: TSIG not last, twice, bad rdata or MAC size -> answer FORMERR
 *   TDM_ETSIG_BADKEY     key name or algorithm not ctx->key's (error = BADKEY)
 *   TDM_ETSIG_BADSIG     MAC mismatch (error = BADSIG)
 *   TDM_ETSIG_BADTIME    time signed outside the fudge (error = BADTIME; the MAC was good)
 *   TDM_ETSIG_BADTRUNC   only reported by a peer (our policy accepts what RFC 8945 5.2.2.1 allows)
 *   TDM_ETSIG_UNSIGNED   FIRST: the answer is unsigned; NEXT: a 100th unsigned message in a row
 *   TDM_ERCODE           an answer whose TSIG carries an error code Tandem does not know
 *   TDM_EINVAL           state FAILED, or no key in a state that needs one
 *   TDM_ENOMEM, TDM_ERROR
 * On an answer (FIRST, NEXT), a nonzero TSIG error field set by the peer is reported as the matching
 * TDM_ETSIG_* code with ctx->peer_error set; its MAC is checked first when present. Any failure moves
 * to state FAILED, except a request that failed BADKEY, BADSIG or BADTIME: that moves to FIRST with
 * ctx->error set so that tsig_sign() writes the error answer.
 */
int tsig_verify(tsig_ctx_t *ctx, const uint8_t *msg, size_t len, uint64_t now);

/* End of a stream on the receiving side (RFC 8945 5.3.1: the last message must be signed). TDM_OK
 * when at least one answer was verified and the last one was signed, TDM_ETSIG_UNSIGNED when not,
 * TDM_EINVAL in state FAILED. */
int tsig_verify_end(const tsig_ctx_t *ctx);

/* Finds a configured key by its wire name (lowercase); NULL when there is none. */
typedef const tsig_key_t *(*tsig_lookup_t)(void *arg, const uint8_t *name);

/*
 * Server side: verifies a request with whichever key it names, found through lookup (called with the
 * lowercased key name), on a context made with tsig_ctx_init(ctx, NULL). ctx->key is the key found.
 * Returns what tsig_verify() returns in state REQUEST; an unknown name is TDM_ETSIG_BADKEY.
 */
int tsig_server_verify(tsig_ctx_t *ctx, const uint8_t *msg, size_t len, tsig_lookup_t lookup, void *arg,
                       uint64_t now);
