/* tests/unit/dnssec/test_nsec3.c -- NSEC3 hashing against published vectors, base32hex, parameters */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dnssec/nsec3.h"
#include "lib/error.h"
#include "wire/name.h"

static void params(nsec3_params_t *p, const char *salt_hex, uint16_t iterations)
{
	memset(p, 0, sizeof(*p));
	p->alg = NSEC3_ALG_SHA1;
	p->iterations = iterations;
	for (size_t i = 0; salt_hex[i] && salt_hex[i + 1]; i += 2) {
		unsigned v;
		assert_int_equal(sscanf(salt_hex + i, "%2x", &v), 1);
		p->salt[p->salt_len++] = (uint8_t)v;
	}
}

static void expect_label(const nsec3_params_t *p, const char *name, const char *want)
{
	uint8_t wire[NAME_MAXLEN], label[NSEC3_LABEL_MAX + 1];
	int len = name_from_text(name, NULL, wire);
	assert_true(len > 0);
	name_copy_lower(wire, wire);
	int n = nsec3_label(p, wire, (size_t)len, label);
	assert_int_equal(n, 32);
	label[n] = 0;
	assert_string_equal((const char *)label, want);
}

/* RFC 5155 Appendix A: salt aabbccdd, 12 iterations; the hashes of its example zone. */
static void test_rfc5155_appendix_a(void **state)
{
	nsec3_params_t p;
	params(&p, "aabbccdd", 12);
	expect_label(&p, "example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
	expect_label(&p, "a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl");
	expect_label(&p, "x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s");
	expect_label(&p, "*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en");
	/* Names are hashed in lowercase: the caller lowercases, so upper case input is a caller bug,
	 * but the same name lowercased must give the same hash. */
	expect_label(&p, "A.EXAMPLE.", "35mthgpgcu1qg68fab165klnsnk3dpvl");
}

/* Knot's knsec3hash examples: a salt with 10 iterations; no salt, no iterations (RFC 9276 values). */
static void test_other_vectors(void **state)
{
	nsec3_params_t p;
	params(&p, "c01dcafe", 10);
	expect_label(&p, "knot-dns.cz.", "7ptvge7qv67em61ros9238p5rakr2dm7");
	params(&p, "", 0);
	expect_label(&p, "net.", "a1rt98bs5qgc9nfi51s9hci47uljg6jh");
}

/* A primary sets the iterations: past the cap nothing is hashed (the cost is bounded), not cut short. */
static void test_iterations_capped(void **state)
{
	nsec3_params_t p;
	uint8_t out[NSEC3_HASH_MAX];
	params(&p, "aabbccdd", NSEC3_MAX_ITERATIONS);
	assert_int_equal(nsec3_hash(&p, (const uint8_t *)"\0", 1, out), TDM_OK);
	p.iterations = NSEC3_MAX_ITERATIONS + 1;
	assert_int_equal(nsec3_hash(&p, (const uint8_t *)"\0", 1, out), TDM_ERANGE);
	p.iterations = 65535;
	assert_int_equal(nsec3_hash(&p, (const uint8_t *)"\0", 1, out), TDM_ERANGE);
}

static void test_unknown_algorithm(void **state)
{
	nsec3_params_t p;
	params(&p, "", 0);
	p.alg = 2;
	uint8_t out[NSEC3_HASH_MAX];
	assert_int_equal(nsec3_hash(&p, (const uint8_t *)"\0", 1, out), TDM_ENOENT);
}

/* RFC 4648 10 test vectors, base32hex, lowercase, without padding. */
static void test_base32hex(void **state)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "f", "co" }, { "fo", "cpng" }, { "foo", "cpnmu" }, { "foob", "cpnmuog" },
		{ "fooba", "cpnmuoj1" }, { "foobar", "cpnmuoj1e8" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t out[32];
		size_t n = base32hex_encode((const uint8_t *)v[i].in, strlen(v[i].in), out);
		assert_int_equal(n, strlen(v[i].out));
		assert_memory_equal(out, v[i].out, n);
	}
}

static void test_params_read(void **state)
{
	static const uint8_t rd[] = { 1, 1, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd, 20 };
	nsec3_params_t p, q;
	assert_int_equal(nsec3_params_read(rd, sizeof(rd), &p), TDM_OK);
	assert_int_equal(p.alg, 1);
	assert_int_equal(p.flags, NSEC3_FLAG_OPTOUT);
	assert_int_equal(p.iterations, 12);
	assert_int_equal(p.salt_len, 4);
	params(&q, "aabbccdd", 12);
	assert_true(nsec3_params_same(&p, &q));
	q.iterations = 11;
	assert_false(nsec3_params_same(&p, &q));
	/* A salt length past the end of the rdata is refused before anything is read. */
	assert_int_equal(nsec3_params_read(rd, 8, &p), TDM_EMALF);
	assert_int_equal(nsec3_params_read(rd, 4, &p), TDM_EMALF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5155_appendix_a),
		cmocka_unit_test(test_other_vectors),
		cmocka_unit_test(test_iterations_capped),
		cmocka_unit_test(test_unknown_algorithm),
		cmocka_unit_test(test_base32hex),
		cmocka_unit_test(test_params_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
