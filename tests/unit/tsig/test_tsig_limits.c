/* tests/unit/tsig/test_tsig_limits.c -- secrets Tandem cannot use are refused, never cut or dropped */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "tsig/keyfile.h"
#include "tsig/tsig.h"

static void test_key_init_refuses_a_secret_over_the_limit(void **state)
{
	static uint8_t secret[TSIG_SECRET_MAX + 1];
	tsig_key_t key;
	assert_int_equal(tsig_key_init(&key, "k.", "hmac-sha256", secret, TSIG_SECRET_MAX), TDM_OK);
	assert_int_equal(tsig_key_init(&key, "k.", "hmac-sha256", secret, TSIG_SECRET_MAX + 1),
	                 TDM_ESPACE);
}

static int count(void *arg, const tsig_keyfile_key_t *key)
{
	(*(int *)arg)++;
	return 0;
}

/* A key file statement whose secret has n octets ('A' each), on line 3. */
static char *key_file(size_t n)
{
	char *text = malloc(n / 3 * 4 + 256);
	size_t o = (size_t)sprintf(text, "key \"k\" {\n\talgorithm hmac-sha256;\n\tsecret \"");
	for (size_t i = 0; i + 3 <= n; i += 3)
		o += (size_t)sprintf(text + o, "QUFB");
	o += (size_t)sprintf(text + o, "%s\";\n};\n", n % 3 == 1 ? "QQ==" : n % 3 == 2 ? "QUE=" : "");
	return text;
}

static void test_keyfile_secret_over_the_limit_is_espace(void **state)
{
	int n = 0, line = 0;
	char *ok = key_file(TSIG_SECRET_MAX);
	assert_int_equal(tsig_keyfile_parse(ok, strlen(ok), count, &n, &line), TDM_OK);
	assert_int_equal(n, 1);
	free(ok);
	/* One octet over, and far over (the text itself longer than the reader's buffer). */
	size_t sizes[] = { TSIG_SECRET_MAX + 1, TSIG_SECRET_MAX * 3 };
	for (size_t i = 0; i < 2; i++) {
		char *text = key_file(sizes[i]);
		n = 0;
		line = 0;
		assert_int_equal(tsig_keyfile_parse(text, strlen(text), count, &n, &line), TDM_ESPACE);
		assert_int_equal(n, 0);
		assert_int_equal(line, 3);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_init_refuses_a_secret_over_the_limit),
		cmocka_unit_test(test_keyfile_secret_over_the_limit_is_espace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
