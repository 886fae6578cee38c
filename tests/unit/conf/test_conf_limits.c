/* tests/unit/conf/test_conf_limits.c -- what the configuration refuses rather than cut: long TSIG secrets;
 * the HTTP API's bounds */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/error.h"
#include "tsig/tsig.h"

static char logged[32768];

static int load_logged(const char *yaml, conf_t **out)
{
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	FILE *capture = tmpfile();
	assert_non_null(capture);
	dup2(fileno(capture), STDERR_FILENO);
	int ret = conf_load_string(yaml, "t.yaml", out);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(capture);
	size_t n = fread(logged, 1, sizeof(logged) - 1, capture);
	logged[n] = '\0';
	fclose(capture);
	return ret;
}

static void assert_logged(const char *message)
{
	if (strstr(logged, message) == NULL)
		fail_msg("expected in the log: %s\nlog was:\n%s", message, logged);
}

/* base64 of n octets of 'A' (0x41): "QUFB" repeated, padded. */
static char *b64_of(size_t n)
{
	char *s = malloc(n / 3 * 4 + 8);
	size_t o = 0;
	for (size_t i = 0; i + 3 <= n; i += 3)
		o += (size_t)sprintf(s + o, "QUFB");
	if (n % 3 == 1)
		o += (size_t)sprintf(s + o, "QQ==");
	else if (n % 3 == 2)
		o += (size_t)sprintf(s + o, "QUE=");
	s[o] = '\0';
	return s;
}

static char *key_yaml(size_t octets)
{
	char *secret = b64_of(octets);
	char *yaml = malloc(strlen(secret) + 128);
	sprintf(yaml, "keys:\n  - name: k.\n    algorithm: hmac-sha256\n    secret: \"%s\"\n", secret);
	free(secret);
	return yaml;
}

/* The jobs that sign copy a secret into TSIG_SECRET_MAX octets: a longer one used to make them send
 * unsigned. It is refused at load, with its line. */
static void test_secret_longer_than_usable_is_refused(void **state)
{
	conf_t *conf = NULL;
	char *yaml = key_yaml(TSIG_SECRET_MAX + 1);
	assert_int_equal(load_logged(yaml, &conf), TDM_ECONF);
	assert_null(conf);
	assert_logged("t.yaml:4: keys[0].secret: 1025 octets, longer than the 1024 Tandem can use");
	free(yaml);

	yaml = key_yaml(TSIG_SECRET_MAX);
	assert_int_equal(load_logged(yaml, &conf), TDM_OK);
	assert_int_equal(conf->keys[0].secret_len, TSIG_SECRET_MAX);
	conf_free(conf);
	free(yaml);
}

static void test_http_limits(void **state)
{
	conf_t *conf = NULL;
	assert_int_equal(load_logged("http:\n  listen: 127.0.0.1\n", &conf), TDM_OK);
	assert_int_equal(conf->http.max_clients, 64);
	assert_int_equal(conf->http.max_body, 1048576);
	assert_int_equal(conf->http.timeout, 10);
	conf_free(conf);
	assert_int_equal(load_logged("http:\n  max-clients: 5\n  max-body: 4096\n  timeout: 1m\n", &conf),
	                 TDM_OK);
	assert_int_equal(conf->http.max_clients, 5);
	assert_int_equal(conf->http.max_body, 4096);
	assert_int_equal(conf->http.timeout, 60);
	conf_free(conf);
	assert_int_equal(load_logged("http:\n  max-clients: 0\n  max-body: 100\n  timeout: 2h\n", &conf),
	                 TDM_ECONF);
	assert_logged("t.yaml:2: http.max-clients");
	assert_logged("t.yaml:3: http.max-body");
	assert_logged("t.yaml:4: http.timeout");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_longer_than_usable_is_refused),
		cmocka_unit_test(test_http_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
