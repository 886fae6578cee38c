/* tls/tls.c -- TLS for zone transfers (RFC 9103, XoT): contexts, peer checks, connections with deadlines */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/netwait.h"
#include "tls/tls.h"
#include "tsig/tsig_openssl.h"

/*
 * DESIGN. Every call works on a non-blocking socket and waits with lib/netwait.h: OpenSSL says
 * what it wants (WANT_READ, WANT_WRITE), we poll for it until the caller's deadline, and call
 * again. The contexts are immutable once made and shared between threads (OpenSSL allows that);
 * one connection belongs to one thread. OpenSSL's error queue is per thread: each call clears it
 * first, so a message read after a failure is that failure's.
 */

/* ALPN "dot", in the wire form of RFC 7301 3.1: a length, then the name. */
static const unsigned char alpn_dot[] = { 3, 'd', 'o', 't' };

struct tls_server {
	SSL_CTX *ctx;
	atomic_uint refs;
};

struct tls_client {
	SSL_CTX *ctx;
	atomic_uint refs;
	char *hostname;                /* NULL = none */
	bool verify_chain;             /* hostname given: chain and name checked by OpenSSL */
	bool has_pin;
	uint8_t pin[TLS_PIN_LEN];
};

struct tls_conn {
	SSL *ssl;
	int fd;
	char version[64];
	char why[256];                 /* why the last read or write failed */
	uint8_t out[2 + 65535];        /* one message with its prefix: one record, not two */
};

static void ssl_why(char *why, size_t len, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256] = "";
	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	if (what[0] == '\0' && e == 0)
		what = "TLS failed";
	snprintf(why, len, "%s%s%s", what, e != 0 && what[0] != '\0' ? ": " : "", buf);
	ERR_clear_error();
}

/* TLS 1.3 or later, no session tickets (a transfer connection is long, a resumption saves little). */
static SSL_CTX *ctx_new(const SSL_METHOD *method)
{
	SSL_CTX *ctx = SSL_CTX_new(method);
	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	return ctx;
}

/* Our certificate chain and key, checked to match. */
static int load_pair(SSL_CTX *ctx, const char *cert, const char *key, char *why, size_t why_len)
{
	char what[600];
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(what, sizeof(what), "%s: cannot use it as a PEM certificate chain", cert);
		ssl_why(why, why_len, what);
		return TDM_ETLS;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
			snprintf(why, why_len, "%s does not hold the key of the certificate in %s", key, cert);
			ERR_clear_error();
			return TDM_ETLS;
		}
		snprintf(what, sizeof(what), "%s: cannot use it as a PEM private key", key);
		ssl_why(why, why_len, what);
		return TDM_ETLS;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(what, sizeof(what), "%s does not hold the key of the certificate in %s", key, cert);
		ssl_why(why, why_len, what);
		return TDM_ETLS;
	}
	return TDM_OK;
}

static int load_ca(SSL_CTX *ctx, const char *file, char *why, size_t why_len)
{
	if (SSL_CTX_load_verify_locations(ctx, file, NULL) == 1)
		return TDM_OK;
	char what[600];
	snprintf(what, sizeof(what), "%s: cannot read it as a PEM CA bundle", file);
	ssl_why(why, why_len, what);
	return TDM_ETLS;
}

/* RFC 9103 7.1 and RFC 7301 3.2: "dot" when the client offers it, a fatal alert when it offers
 * only others. A client without ALPN (an older XoT client) is served. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	unsigned char *sel = NULL;
	if (SSL_select_next_proto(&sel, outlen, alpn_dot, sizeof(alpn_dot), in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

int tls_server_new(const tls_server_conf_t *conf, tls_server_t **out, char *why, size_t why_len)
{
	ERR_clear_error();
	tls_server_t *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->ctx = ctx_new(TLS_server_method())) == NULL) {
		free(s);
		return TDM_ENOMEM;
	}
	atomic_init(&s->refs, 1);
	int ret = load_pair(s->ctx, conf->certificate, conf->key, why, why_len);
	if (ret == TDM_OK && conf->client_ca != NULL) {
		ret = load_ca(s->ctx, conf->client_ca, why, why_len);
		STACK_OF(X509_NAME) *names = ret == TDM_OK ? SSL_load_client_CA_file(conf->client_ca) : NULL;
		if (names != NULL)
			SSL_CTX_set_client_CA_list(s->ctx, names);
		SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	SSL_CTX_set_alpn_select_cb(s->ctx, alpn_select, NULL);
	if (ret != TDM_OK) {
		tls_server_unref(s);
		return ret;
	}
	*out = s;
	return TDM_OK;
}

void tls_server_ref(tls_server_t *s)
{
	atomic_fetch_add(&s->refs, 1);
}

void tls_server_unref(tls_server_t *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	SSL_CTX_free(s->ctx);
	free(s);
}

int tls_pin_parse(const char *text, uint8_t pin[TLS_PIN_LEN])
{
	size_t len = strlen(text);
	return len == 44 && tsig_base64_decode(text, len, pin, TLS_PIN_LEN) == TLS_PIN_LEN
	       ? TDM_OK : TDM_EPARSE;
}

static int client_check_conf(const tls_client_conf_t *conf, char *why, size_t why_len)
{
	if (conf->ca_file != NULL && conf->hostname == NULL) {
		snprintf(why, why_len, "ca-file needs hostname: the CA vouches for a name");
		return TDM_ECONF;
	}
	if (conf->hostname == NULL && conf->pin == NULL) {
		snprintf(why, why_len, "give hostname (checked against the certificate) or pin (its key's "
		         "SHA-256): without either the primary is not authenticated");
		return TDM_ECONF;
	}
	if ((conf->certificate == NULL) != (conf->key == NULL)) {
		snprintf(why, why_len, "certificate and key go together (mutual TLS)");
		return TDM_ECONF;
	}
	return TDM_OK;
}

int tls_client_new(const tls_client_conf_t *conf, tls_client_t **out, char *why, size_t why_len)
{
	ERR_clear_error();
	int ret = client_check_conf(conf, why, why_len);
	if (ret != TDM_OK)
		return ret;
	tls_client_t *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->ctx = ctx_new(TLS_client_method())) == NULL) {
		free(c);
		return TDM_ENOMEM;
	}
	atomic_init(&c->refs, 1);
	if (conf->pin != NULL && tls_pin_parse(conf->pin, c->pin) != TDM_OK) {
		snprintf(why, why_len, "pin: not the base64 of a SHA-256 (44 characters)");
		ret = TDM_ECONF;
		goto fail;
	}
	c->has_pin = conf->pin != NULL;
	if (conf->hostname != NULL) {
		c->verify_chain = true;
		if ((c->hostname = strdup(conf->hostname)) == NULL) {
			ret = TDM_ENOMEM;
			goto fail;
		}
		if (conf->ca_file != NULL)
			ret = load_ca(c->ctx, conf->ca_file, why, why_len);
		else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
			ssl_why(why, why_len, "cannot load the system's CA store");
			ret = TDM_ETLS;
		}
		if (ret != TDM_OK)
			goto fail;
	}
	if (conf->certificate != NULL &&
	    (ret = load_pair(c->ctx, conf->certificate, conf->key, why, why_len)) != TDM_OK)
		goto fail;
	*out = c;
	return TDM_OK;
fail:
	tls_client_unref(c);
	return ret;
}

void tls_client_ref(tls_client_t *c)
{
	atomic_fetch_add(&c->refs, 1);
}

void tls_client_unref(tls_client_t *c)
{
	if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	SSL_CTX_free(c->ctx);
	free(c->hostname);
	free(c);
}

/* What to do after an SSL call returned r: wait for the socket, or the error to return. */
static int io_wait(tls_conn_t *c, int r, int64_t until)
{
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return netwait(c->fd, POLLIN, until);
	if (e == SSL_ERROR_WANT_WRITE)
		return netwait(c->fd, POLLOUT, until);
	if (e == SSL_ERROR_ZERO_RETURN) {
		snprintf(c->why, sizeof(c->why), "the peer closed the connection (close_notify)");
		return TDM_EIO;
	}
	if (e == SSL_ERROR_SYSCALL) {
		int err = errno;
		if (err != 0 && err != EPIPE && err != ECONNRESET) {
			snprintf(c->why, sizeof(c->why), "%s", tdm_strerror(-err));
			return -err;
		}
		snprintf(c->why, sizeof(c->why), "the peer closed the connection without close_notify%s",
		         err == ECONNRESET ? " (reset)" : "");
		return TDM_EIO;
	}
	ssl_why(c->why, sizeof(c->why), "");
	return TDM_ETLS;
}

static tls_conn_t *conn_new(SSL_CTX *ctx, int fd)
{
	tls_conn_t *c = malloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->version[0] = '\0';
	c->why[0] = '\0';
	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		SSL_free(c->ssl);
		free(c);
		return NULL;
	}
	return c;
}

/* Runs the handshake to its end; why says what failed. */
static int handshake(tls_conn_t *c, bool client, int64_t until, char *why, size_t why_len)
{
	for (;;) {
		ERR_clear_error();
		errno = 0;
		int r = client ? SSL_connect(c->ssl) : SSL_accept(c->ssl);
		if (r == 1)
			break;
		int ret = io_wait(c, r, until);
		if (ret == TDM_OK)
			continue;
		/* The verify result means something only where certificates are checked: a pin-only
		 * client's (self-signed is fine there) would mislead. */
		long v = SSL_get_verify_mode(c->ssl) & SSL_VERIFY_PEER ? SSL_get_verify_result(c->ssl)
		                                                      : X509_V_OK;
		if (v != X509_V_OK)
			snprintf(why, why_len, "certificate rejected: %s",
			         X509_verify_cert_error_string(v));
		else if (ret == TDM_ETLS)
			ssl_why(why, why_len, "TLS handshake failed");
		else if (ret == TDM_ETIMEDOUT)
			snprintf(why, why_len, "TLS handshake did not finish in time");
		else
			snprintf(why, why_len, "TLS handshake: %s", ret == TDM_EIO ? "connection closed"
			                                                           : tdm_strerror(ret));
		return ret == TDM_ETIMEDOUT || ret == TDM_EIO ? ret : TDM_ETLS;
	}
	snprintf(c->version, sizeof(c->version), "%s %s", SSL_get_version(c->ssl),
	         SSL_get_cipher_name(c->ssl));
	return TDM_OK;
}

/* The SHA-256 of the peer certificate's SubjectPublicKeyInfo against the pin. */
static int check_pin(const tls_client_t *cl, tls_conn_t *c, char *why, size_t why_len)
{
	X509 *cert = SSL_get1_peer_certificate(c->ssl);
	unsigned char *der = NULL;
	int len = cert != NULL ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der) : -1;
	uint8_t digest[32];
	unsigned dlen = 0;
	bool ok = len > 0 && EVP_Digest(der, (size_t)len, digest, &dlen, EVP_sha256(), NULL) == 1 &&
	          dlen == sizeof(digest) && CRYPTO_memcmp(digest, cl->pin, sizeof(digest)) == 0;
	if (!ok) {
		char got[64] = "none";
		if (len > 0 && dlen == sizeof(digest))
			tsig_base64_encode(digest, sizeof(digest), got, sizeof(got));
		snprintf(why, why_len, "pin mismatch (the key's is %s)", got);
	}
	OPENSSL_free(der);
	X509_free(cert);
	return ok ? TDM_OK : TDM_ETLS;
}

int tls_connect(tls_client_t *cl, int fd, int64_t until, tls_conn_t **out, char *why, size_t why_len)
{
	ERR_clear_error();
	tls_conn_t *c = conn_new(cl->ctx, fd);
	if (c == NULL)
		return TDM_ENOMEM;
	int ret = TDM_ENOMEM;
	if (SSL_set_alpn_protos(c->ssl, alpn_dot, sizeof(alpn_dot)) != 0)
		goto fail;
	if (cl->hostname != NULL) {
		/* SNI only for a DNS name (RFC 6066 3: not an address literal). */
		struct in6_addr a;
		bool literal = inet_pton(AF_INET, cl->hostname, &a) == 1 ||
		               inet_pton(AF_INET6, cl->hostname, &a) == 1;
		if (!literal && SSL_set_tlsext_host_name(c->ssl, cl->hostname) != 1)
			goto fail;
		/* An address literal is matched against the certificate's iPAddress names. */
		if (literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), cl->hostname) != 1
		            : SSL_set1_host(c->ssl, cl->hostname) != 1)
			goto fail;
	}
	SSL_set_verify(c->ssl, cl->verify_chain ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if ((ret = handshake(c, true, until, why, why_len)) != TDM_OK)
		goto fail;
	const unsigned char *proto = NULL;
	unsigned plen = 0;
	SSL_get0_alpn_selected(c->ssl, &proto, &plen);
	if (plen != 0 && (plen != 3 || memcmp(proto, "dot", 3) != 0)) {
		snprintf(why, why_len, "the primary chose an ALPN protocol other than dot");
		ret = TDM_ETLS;
		goto fail;
	}
	if (cl->has_pin && (ret = check_pin(cl, c, why, why_len)) != TDM_OK)
		goto fail;
	*out = c;
	return TDM_OK;
fail:
	if (ret == TDM_ENOMEM)
		snprintf(why, why_len, "out of memory");
	SSL_free(c->ssl);
	free(c);
	return ret;
}

int tls_accept(tls_server_t *s, int fd, int64_t until, tls_conn_t **out, char *why, size_t why_len)
{
	ERR_clear_error();
	tls_conn_t *c = conn_new(s->ctx, fd);
	if (c == NULL) {
		snprintf(why, why_len, "out of memory");
		return TDM_ENOMEM;
	}
	int ret = handshake(c, false, until, why, why_len);
	if (ret != TDM_OK) {
		SSL_free(c->ssl);
		free(c);
		return ret;
	}
	*out = c;
	return TDM_OK;
}

/* A write found the connection closed: the peer may have said why in an alert before it closed (a
 * server that requires a client certificate does so after a TLS 1.3 handshake the client thinks done).
 * One read without waiting picks it up for c->why. */
static void alert_after_write(tls_conn_t *c)
{
	uint8_t byte;
	size_t n = 0;
	ERR_clear_error();
	if (SSL_read_ex(c->ssl, &byte, 1, &n) != 1 && SSL_get_error(c->ssl, 0) == SSL_ERROR_SSL)
		ssl_why(c->why, sizeof(c->why), "");
	ERR_clear_error();
}

/* All of len octets written (out) or read (in), waiting on the socket as TLS asks, until the deadline. */
static int transfer_all(tls_conn_t *c, uint8_t *in, const uint8_t *out, size_t len, int64_t until)
{
	while (len > 0) {
		ERR_clear_error();
		errno = 0;
		size_t n = 0;
		int r = out != NULL ? SSL_write_ex(c->ssl, out, len, &n) : SSL_read_ex(c->ssl, in, len, &n);
		if (r == 1) {
			if (out != NULL)
				out += n;
			else
				in += n;
			len -= n;
			continue;
		}
		int ret = io_wait(c, r, until);
		if (ret == TDM_EIO && out != NULL)
			alert_after_write(c);
		if (ret != TDM_OK)
			return ret;
	}
	return TDM_OK;
}

int tls_write(tls_conn_t *c, const uint8_t *p, size_t len, int64_t until)
{
	return transfer_all(c, NULL, p, len, until);
}

int tls_write_msg(tls_conn_t *c, const uint8_t *msg, size_t len, int64_t until)
{
	if (len > 65535)
		return TDM_EINVAL;
	c->out[0] = (uint8_t)(len >> 8);
	c->out[1] = (uint8_t)len;
	memcpy(c->out + 2, msg, len);
	return tls_write(c, c->out, len + 2, until);
}

int tls_read(tls_conn_t *c, uint8_t *p, size_t len, int64_t until)
{
	return transfer_all(c, p, NULL, len, until);
}

bool tls_pending(const tls_conn_t *c)
{
	return SSL_pending(c->ssl) > 0;
}

const char *tls_conn_version(const tls_conn_t *c)
{
	return c->version;
}

const char *tls_conn_why(const tls_conn_t *c)
{
	return c->why[0] != '\0' ? c->why : "no failure";
}

void tls_conn_free(tls_conn_t *c)
{
	if (c == NULL)
		return;
	ERR_clear_error();
	SSL_shutdown(c->ssl);   /* one try: close_notify if the socket takes it now */
	ERR_clear_error();
	SSL_free(c->ssl);
	free(c);
}
