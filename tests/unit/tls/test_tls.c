/* tests/unit/tls/test_tls.c -- TLS contexts, pins, and a real handshake over a socket pair (tls/) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/netwait.h"
#include "tls/tls.h"
#include "tsig/tsig_openssl.h"

/* A self-signed P-256 certificate for dns_name, written with its key into dir; its pin into pin. */
static char dir[64];
static char cert_path[128], key_path[128];
static char pin_b64[64];

static void make_cert(const char *dns_name)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	assert_non_null(pkey);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pkey);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)dns_name, -1, -1, 0);
	X509_set_issuer_name(x, name);
	char san[300];
	snprintf(san, sizeof(san), "DNS:%s", dns_name);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	FILE *f = fopen(cert_path, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(key_path, "w");
	assert_non_null(f);
	PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(pkey, &der);
	uint8_t digest[32];
	unsigned dlen = 0;
	assert_true(EVP_Digest(der, (size_t)len, digest, &dlen, EVP_sha256(), NULL) == 1);
	assert_true(tsig_base64_encode(digest, 32, pin_b64, sizeof(pin_b64)) > 0);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/tandem-test-tls-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
	snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
	make_cert("primary.test");
	return 0;
}

static int teardown(void **state)
{
	unlink(cert_path);
	unlink(key_path);
	rmdir(dir);
	return 0;
}

static void test_pin_parse(void **state)
{
	uint8_t pin[TLS_PIN_LEN];
	assert_int_equal(tls_pin_parse(pin_b64, pin), TDM_OK);
	assert_int_equal(tls_pin_parse("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", pin), TDM_OK);
	assert_int_equal(tls_pin_parse("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", pin), TDM_EPARSE);
	assert_int_equal(tls_pin_parse("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF==", pin), TDM_EPARSE);
	assert_int_equal(tls_pin_parse("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSu!U=", pin), TDM_EPARSE);
	assert_int_equal(tls_pin_parse("", pin), TDM_EPARSE);
	assert_int_equal(tls_pin_parse("AAAA", pin), TDM_EPARSE);
}

static void expect_client(const tls_client_conf_t *conf, int want, const char *in_why)
{
	tls_client_t *c = NULL;
	char why[512] = "";
	int ret = tls_client_new(conf, &c, why, sizeof(why));
	assert_int_equal(ret, want);
	if (in_why != NULL && strstr(why, in_why) == NULL)
		fail_msg("'%s' not in '%s'", in_why, why);
	tls_client_unref(c);
}

static void test_client_settings_must_make_a_check(void **state)
{
	expect_client(&(tls_client_conf_t){ 0 }, TDM_ECONF, "give hostname");
	expect_client(&(tls_client_conf_t){ .ca_file = cert_path }, TDM_ECONF, "ca-file needs hostname");
	expect_client(&(tls_client_conf_t){ .pin = pin_b64, .certificate = cert_path }, TDM_ECONF,
	              "certificate and key go together");
	expect_client(&(tls_client_conf_t){ .pin = "abc" }, TDM_ECONF, "pin");
	expect_client(&(tls_client_conf_t){ .pin = pin_b64 }, TDM_OK, NULL);
	expect_client(&(tls_client_conf_t){ .hostname = "primary.test", .ca_file = cert_path }, TDM_OK, NULL);
	expect_client(&(tls_client_conf_t){ .hostname = "primary.test", .ca_file = "/nonexistent/ca.pem" },
	              TDM_ETLS, "/nonexistent/ca.pem");
	expect_client(&(tls_client_conf_t){ .pin = pin_b64, .certificate = cert_path, .key = key_path },
	              TDM_OK, NULL);
}

static void test_server_files_are_named_when_bad(void **state)
{
	tls_server_t *s = NULL;
	char why[512] = "";
	assert_int_equal(tls_server_new(&(tls_server_conf_t){ .certificate = "/nonexistent/c.pem",
	                                                      .key = key_path }, &s, why, sizeof(why)),
	                 TDM_ETLS);
	assert_non_null(strstr(why, "/nonexistent/c.pem"));
	assert_int_equal(tls_server_new(&(tls_server_conf_t){ .certificate = cert_path, .key = cert_path },
	                                &s, why, sizeof(why)),
	                 TDM_ETLS);
	assert_non_null(strstr(why, cert_path));
	assert_int_equal(tls_server_new(&(tls_server_conf_t){ .certificate = cert_path, .key = key_path },
	                                &s, why, sizeof(why)),
	                 TDM_OK);
	tls_server_unref(s);
}

/* The server side of a socket pair on its own thread: handshake, then echo one message. */
typedef struct {
	tls_server_t *srv;
	int fd;
	int ret;
} echo_t;

static void *echo_main(void *arg)
{
	echo_t *e = arg;
	tls_conn_t *c = NULL;
	char why[300];
	int64_t until = clock_us() + 5000000;
	e->ret = tls_accept(e->srv, e->fd, until, &c, why, sizeof(why));
	if (e->ret != TDM_OK)
		return NULL;
	uint8_t prefix[2], msg[512];
	e->ret = tls_read(c, prefix, 2, until);
	size_t len = (size_t)(prefix[0] << 8 | prefix[1]);
	if (e->ret == TDM_OK && len <= sizeof(msg))
		e->ret = tls_read(c, msg, len, until);
	if (e->ret == TDM_OK)
		e->ret = tls_write_msg(c, msg, len, until);
	tls_conn_free(c);
	return NULL;
}

/* Connects a client with conf to a server on a socket pair; returns tls_connect's code. */
static int handshake(const tls_client_conf_t *conf, char *why, size_t why_len)
{
	tls_server_t *srv = NULL;
	tls_client_t *cl = NULL;
	char w[300];
	assert_int_equal(tls_server_new(&(tls_server_conf_t){ .certificate = cert_path, .key = key_path },
	                                &srv, w, sizeof(w)), TDM_OK);
	assert_int_equal(tls_client_new(conf, &cl, w, sizeof(w)), TDM_OK);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	echo_t e = { .srv = srv, .fd = sv[1] };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, echo_main, &e), 0);
	tls_conn_t *c = NULL;
	int64_t until = clock_us() + 5000000;
	int ret = tls_connect(cl, sv[0], until, &c, why, why_len);
	if (ret == TDM_OK) {
		static const uint8_t hello[] = "\x12\x34 a DNS message, more or less";
		uint8_t prefix[2], back[64];
		assert_int_equal(tls_write_msg(c, hello, sizeof(hello), until), TDM_OK);
		assert_int_equal(tls_read(c, prefix, 2, until), TDM_OK);
		assert_int_equal(prefix[0] << 8 | prefix[1], sizeof(hello));
		assert_int_equal(tls_read(c, back, sizeof(hello), until), TDM_OK);
		assert_memory_equal(back, hello, sizeof(hello));
		assert_non_null(strstr(tls_conn_version(c), "TLSv1.3"));
		tls_conn_free(c);
	}
	close(sv[0]);   /* ends the server's wait when the client gave up */
	pthread_join(t, NULL);
	close(sv[1]);
	if (ret == TDM_OK)
		assert_int_equal(e.ret, TDM_OK);
	tls_client_unref(cl);
	tls_server_unref(srv);
	return ret;
}

static void test_handshakes_pass_and_fail_on_the_checks(void **state)
{
	char why[300] = "";
	assert_int_equal(handshake(&(tls_client_conf_t){ .pin = pin_b64 }, why, sizeof(why)), TDM_OK);
	assert_int_equal(handshake(&(tls_client_conf_t){ .hostname = "primary.test", .ca_file = cert_path },
	                           why, sizeof(why)), TDM_OK);
	assert_int_equal(handshake(&(tls_client_conf_t){ .hostname = "primary.test", .ca_file = cert_path,
	                                                 .pin = pin_b64 }, why, sizeof(why)), TDM_OK);
	assert_int_equal(handshake(&(tls_client_conf_t){ .hostname = "other.test", .ca_file = cert_path },
	                           why, sizeof(why)), TDM_ETLS);
	assert_non_null(strstr(why, "hostname mismatch"));
	assert_int_equal(handshake(&(tls_client_conf_t){
	                                 .pin = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
	                           why, sizeof(why)), TDM_ETLS);
	assert_non_null(strstr(why, "pin mismatch"));
	assert_non_null(strstr(why, pin_b64));   /* the key's own pin, for the operator */
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);   /* as tandemd: OpenSSL writes to sockets with write() */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_parse),
		cmocka_unit_test(test_client_settings_must_make_a_check),
		cmocka_unit_test(test_server_files_are_named_when_bad),
		cmocka_unit_test(test_handshakes_pass_and_fail_on_the_checks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
