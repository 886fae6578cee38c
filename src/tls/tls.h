/* tls/tls.h -- TLS for zone transfers (RFC 9103, XoT): contexts from PEM files, peer checks, and
 * connections with deadlines over non-blocking sockets; the only file of Tandem that touches libssl */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Both sides speak TLS 1.3 or later only (RFC 9103 5: XoT needs TLS 1.3) and ALPN "dot" (RFC 9103
 * 7.1): a client offers it; a server accepts a client offering it or offering no ALPN at all, and
 * ends a handshake that offers only other protocols (RFC 7301 3.2, no_application_protocol).
 *
 * How a client checks the primary (tls_client_conf_t):
 *   hostname          the certificate must name it (SAN, RFC 6125) and chain to ca-file, or to the
 *                     system's store when no ca-file is given
 *   pin               the SHA-256 of the certificate's SubjectPublicKeyInfo, base64 (RFC 7469 2.4's
 *                     form, Knot's cert-key); given alone, it is the whole check (a self-signed
 *                     certificate is fine, as with Knot); with hostname, both must hold
 *   ca-file alone     is refused by tls_client_new: a CA vouches for names, so name the one expected
 * A configuration without hostname and pin is refused: there is no opportunistic mode.
 */

typedef struct tls_server tls_server_t;
typedef struct tls_client tls_client_t;
typedef struct tls_conn tls_conn_t;

/* A pin is base64 of 32 octets: 44 characters. */
#define TLS_PIN_LEN 32

typedef struct {
	const char *certificate;    /* PEM chain, the server's own first */
	const char *key;            /* PEM private key */
	const char *client_ca;      /* PEM CA bundle clients must chain to (mutual TLS); NULL = none */
} tls_server_conf_t;

typedef struct {
	const char *hostname;       /* name the certificate must carry; NULL = none */
	const char *ca_file;        /* PEM CA bundle; NULL = the system's store (with hostname) */
	const char *pin;            /* base64 SHA-256 of the SPKI; NULL = none */
	const char *certificate;    /* ours, for mutual TLS; NULL = none (key with it) */
	const char *key;
} tls_client_conf_t;

/* A server context from PEM files. TDM_OK and *out, or TDM_ETLS with why naming the file and what
 * is wrong with it ("server.pem: no certificate found"), TDM_ENOMEM. */
int tls_server_new(const tls_server_conf_t *conf, tls_server_t **out, char *why, size_t why_len);
/* Reference counting: a listener keeps the context it accepted with while a reload replaces it. */
void tls_server_ref(tls_server_t *s);
void tls_server_unref(tls_server_t *s);

/* A client context (checked as the comment above says). TDM_OK and *out, TDM_ECONF with why (the
 * settings do not make a check), TDM_ETLS with why (a file), TDM_ENOMEM. */
int tls_client_new(const tls_client_conf_t *conf, tls_client_t **out, char *why, size_t why_len);
void tls_client_ref(tls_client_t *c);
void tls_client_unref(tls_client_t *c);

/* Parses a pin (base64 of 32 octets). TDM_OK or TDM_EPARSE. */
int tls_pin_parse(const char *text, uint8_t pin[TLS_PIN_LEN]);

/*
 * A handshake on connected non-blocking socket fd, bounded by until (clock_us() units). The
 * connection does not own fd: the caller closes it after tls_conn_free. TDM_OK and *out;
 * TDM_ETIMEDOUT; TDM_EIO (the peer closed); TDM_ETLS with why saying what failed ("certificate
 * verification failed: hostname mismatch", "pin mismatch", "no ALPN dot"); TDM_ENOMEM.
 */
int tls_connect(tls_client_t *c, int fd, int64_t until, tls_conn_t **out, char *why, size_t why_len);
int tls_accept(tls_server_t *s, int fd, int64_t until, tls_conn_t **out, char *why, size_t why_len);

/* Writes all of p. TDM_OK, TDM_ETIMEDOUT, TDM_EIO, TDM_ETLS. OpenSSL writes with write(): the
 * process must ignore SIGPIPE (tandemd does) or a peer gone away ends it. */
int tls_write(tls_conn_t *c, const uint8_t *p, size_t len, int64_t until);
/* Writes a DNS message with its two-octet length prefix (RFC 7766 8) in one TLS record when it fits. */
int tls_write_msg(tls_conn_t *c, const uint8_t *msg, size_t len, int64_t until);
/* Reads exactly len octets. TDM_OK, TDM_ETIMEDOUT, TDM_EIO (closed: by close_notify or not),
 * TDM_ETLS. */
int tls_read(tls_conn_t *c, uint8_t *p, size_t len, int64_t until);
/* Whether decrypted octets wait in the connection (poll on the socket would not show them). */
bool tls_pending(const tls_conn_t *c);

/* "TLSv1.3" and the cipher, for logs. */
const char *tls_conn_version(const tls_conn_t *c);
/* Why the last tls_read or tls_write failed, for logs: the TLS error with the peer's alert ("tlsv13
 * alert certificate required"), or how the connection ended. */
const char *tls_conn_why(const tls_conn_t *c);
/* Sends close_notify if the socket takes it at once (no wait), then frees the connection. */
void tls_conn_free(tls_conn_t *c);
