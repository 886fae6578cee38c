/* tests/unit/wire/test_wire.c -- domain names in wire form: limits, text, order, compression on input */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "wire/name.h"
#include "testlib/testlib.h"

/* ---- helpers ---- */

/* A label of n copies of c, as text. */
static char *label_text(char *out, int n, char c)
{
	memset(out, c, (size_t)n);
	out[n] = '\0';
	return out;
}

/* Wire name of `count` labels of `len` octets each, then one of `last` octets (0 = none). */
static size_t wire_labels(uint8_t *out, int count, int len, int last)
{
	size_t p = 0;
	for (int i = 0; i < count; i++) {
		out[p++] = (uint8_t)len;
		memset(out + p, 'a', (size_t)len);
		p += (size_t)len;
	}
	if (last > 0) {
		out[p++] = (uint8_t)last;
		memset(out + p, 'b', (size_t)last);
		p += (size_t)last;
	}
	out[p++] = 0;
	return p;
}

/* ---- name_length ---- */

static void test_length_basic(void **state)
{
	assert_int_equal(name_length((const uint8_t *)"", 1), 1);
	assert_int_equal(name_length((const uint8_t *)"\x07" "example\x03" "com", 13), 13);
	assert_int_equal(name_length((const uint8_t *)"\x07" "example\x03" "com", 64), 13);
}

static void test_length_label_63_ok_64_rejected(void **state)
{
	uint8_t w[300];
	size_t n = wire_labels(w, 1, 63, 0);
	assert_int_equal(n, 65);
	assert_int_equal(name_length(w, sizeof(w)), 65);
	n = wire_labels(w, 1, 64, 0);
	assert_int_equal(name_length(w, sizeof(w)), TDM_ELABEL);
}

static void test_length_255_ok_256_rejected(void **state)
{
	uint8_t w[600];
	/* 3 x 63 + 61: 3*64 + 62 + 1 = 255 */
	size_t n = wire_labels(w, 3, 63, 61);
	assert_int_equal(n, 255);
	assert_int_equal(name_length(w, sizeof(w)), 255);
	n = wire_labels(w, 3, 63, 62);
	assert_int_equal(n, 256);
	assert_int_equal(name_length(w, sizeof(w)), TDM_ENAMELEN);
	/* 127 one-octet labels: 255 octets; 128 of them: 257 */
	n = wire_labels(w, 127, 1, 0);
	assert_int_equal(n, 255);
	assert_int_equal(name_length(w, sizeof(w)), 255);
	n = wire_labels(w, 128, 1, 0);
	assert_int_equal(name_length(w, sizeof(w)), TDM_ENAMELEN);
}

static void test_length_missing_terminator(void **state)
{
	const uint8_t w[] = "\x03" "www\x07" "example";   /* no root label within 12 octets */
	assert_int_equal(name_length(w, 12), TDM_EMALF);
	assert_int_equal(name_length(w, 0), TDM_EMALF);
	/* a label that claims more octets than are there */
	const uint8_t v[] = { 5, 'a', 'b' };
	assert_int_equal(name_length(v, sizeof(v)), TDM_EMALF);
	/* exactly fitting */
	assert_int_equal(name_length((const uint8_t *)"\x01" "a", 3), 3);
	assert_int_equal(name_length((const uint8_t *)"\x01" "a", 2), TDM_EMALF);
}

static void test_length_rejects_pointers_and_ext_labels(void **state)
{
	const uint8_t ptr[] = { 0xC0, 0x0C };
	const uint8_t ext40[] = { 0x41, 0, 0 };
	const uint8_t ext80[] = { 0x80, 0, 0 };
	assert_true(name_length(ptr, sizeof(ptr)) < 0);
	assert_true(name_length(ext40, sizeof(ext40)) < 0);
	assert_true(name_length(ext80, sizeof(ext80)) < 0);
}

/* ---- name_from_text / name_to_text ---- */

static void test_from_text_absolute_and_relative(void **state)
{
	uint8_t out[NAME_MAXLEN];
	assert_int_equal(name_from_text("www.Example.com.", NULL, out), 17);
	assert_memory_equal(out, "\x03" "www\x07" "Example\x03" "com", 17);
	/* relative, no origin: the root */
	assert_int_equal(name_from_text("www.example.com", NULL, out), 17);
	assert_memory_equal(out, "\x03" "www\x07" "example\x03" "com", 17);
	/* relative with origin */
	const uint8_t *origin = N("example.com.");
	assert_int_equal(name_from_text("www", origin, out), 17);
	assert_memory_equal(out, "\x03" "www\x07" "example\x03" "com", 17);
	assert_int_equal(name_from_text("a.b", origin, out), 17);
	assert_memory_equal(out, "\x01" "a\x01" "b\x07" "example\x03" "com", 17);
	/* absolute ignores the origin */
	assert_int_equal(name_from_text("www.", origin, out), 5);
	assert_memory_equal(out, "\x03" "www", 5);
}

static void test_from_text_root(void **state)
{
	uint8_t out[NAME_MAXLEN];
	memset(out, 0xAA, sizeof(out));
	assert_int_equal(name_from_text(".", NULL, out), 1);
	assert_int_equal(out[0], 0);
	assert_int_equal(name_from_text(".", N("example.com."), out), 1);
	assert_int_equal(out[0], 0);
}

static void test_from_text_escapes(void **state)
{
	uint8_t out[NAME_MAXLEN];
	assert_int_equal(name_from_text("a\\.b.c.", NULL, out), 7);
	assert_memory_equal(out, "\x03" "a.b\x01" "c", 7);
	assert_int_equal(name_from_text("a\\\\b.", NULL, out), 5);
	assert_memory_equal(out, "\x03" "a\\b", 5);
	assert_int_equal(name_from_text("\\065bc.", NULL, out), 5);
	assert_memory_equal(out, "\x03" "Abc", 5);
	assert_int_equal(name_from_text("\\000\\255.", NULL, out), 4);
	assert_memory_equal(out, "\x02\x00\xff\x00", 4);
	/* \X for any other X means X */
	assert_int_equal(name_from_text("\\a.", NULL, out), 3);
	assert_memory_equal(out, "\x01" "a", 3);
}

static void test_from_text_bad(void **state)
{
	uint8_t out[NAME_MAXLEN];
	assert_int_equal(name_from_text("", NULL, out), TDM_EPARSE);
	assert_int_equal(name_from_text("..", NULL, out), TDM_EPARSE);
	assert_int_equal(name_from_text("a..b.", NULL, out), TDM_EPARSE);
	assert_int_equal(name_from_text(".a.", NULL, out), TDM_EPARSE);
	assert_int_equal(name_from_text("a.b..", NULL, out), TDM_EPARSE);
	assert_int_equal(name_from_text("a\\", NULL, out), TDM_EPARSE);
	assert_int_equal(name_from_text("a\\25", NULL, out), TDM_EPARSE);
	assert_int_equal(name_from_text("a\\256.", NULL, out), TDM_EPARSE);
	assert_int_equal(name_from_text("a\\2x5.", NULL, out), TDM_EPARSE);
}

static void test_from_text_label_63_64(void **state)
{
	uint8_t out[NAME_MAXLEN];
	char l[80], t[200];
	snprintf(t, sizeof(t), "%s.com.", label_text(l, 63, 'x'));
	assert_int_equal(name_from_text(t, NULL, out), 1 + 63 + 4 + 1);
	assert_int_equal(out[0], 63);
	snprintf(t, sizeof(t), "%s.com.", label_text(l, 64, 'x'));
	assert_int_equal(name_from_text(t, NULL, out), TDM_ELABEL);
	/* relative last label too */
	assert_int_equal(name_from_text(label_text(l, 63, 'y'), NULL, out), 65);
	assert_int_equal(name_from_text(label_text(l, 64, 'y'), NULL, out), TDM_ELABEL);
	/* a label made long with escapes */
	char esc[64 * 4 + 8] = "";
	for (int i = 0; i < 64; i++)
		strcat(esc, "\\097");
	strcat(esc, ".");
	assert_int_equal(name_from_text(esc, NULL, out), TDM_ELABEL);
	esc[63 * 4] = '.';
	esc[63 * 4 + 1] = '\0';
	assert_int_equal(name_from_text(esc, NULL, out), 65);
}

static void test_from_text_name_length(void **state)
{
	uint8_t out[NAME_MAXLEN];
	char a[80], b[80], t[600];
	label_text(a, 63, 'a');
	/* 3 x 63 + 61 = 255 octets */
	snprintf(t, sizeof(t), "%s.%s.%s.%s.", a, a, a, label_text(b, 61, 'b'));
	assert_int_equal(name_from_text(t, NULL, out), 255);
	assert_int_equal(name_length(out, NAME_MAXLEN), 255);
	/* the same, relative to the root */
	t[strlen(t) - 1] = '\0';
	assert_int_equal(name_from_text(t, NULL, out), 255);
	/* 256 */
	snprintf(t, sizeof(t), "%s.%s.%s.%s.", a, a, a, label_text(b, 62, 'b'));
	assert_int_equal(name_from_text(t, NULL, out), TDM_ENAMELEN);
	t[strlen(t) - 1] = '\0';
	assert_int_equal(name_from_text(t, NULL, out), TDM_ENAMELEN);
	/* far too long */
	snprintf(t, sizeof(t), "%s.%s.%s.%s.%s.", a, a, a, a, a);
	assert_int_equal(name_from_text(t, NULL, out), TDM_ENAMELEN);
	/* too long only with the origin appended */
	snprintf(t, sizeof(t), "%s.%s.%s.%s", a, a, a, label_text(b, 50, 'b'));   /* 243 + origin */
	assert_int_equal(name_from_text(t, N("example.com."), out), TDM_ENAMELEN);   /* 256 */
	assert_int_equal(name_from_text(t, N("xample.com."), out), 255);
	assert_int_equal(name_from_text(t, N("e.com."), out), 243 + 7);
	/* 127 one-octet labels = 255; 128 = 257 */
	char many[600] = "";
	for (int i = 0; i < 127; i++)
		strcat(many, "x.");
	assert_int_equal(name_from_text(many, NULL, out), 255);
	strcat(many, "x.");
	assert_int_equal(name_from_text(many, NULL, out), TDM_ENAMELEN);
}

static void round_trip(const char *text, const char *expect)
{
	uint8_t w[NAME_MAXLEN], w2[NAME_MAXLEN];
	char out[NAME_TEXT_MAX];
	int n = name_from_text(text, NULL, w);
	assert_true(n > 0);
	int t = name_to_text(w, out, sizeof(out));
	assert_int_equal(t, (int)strlen(expect));
	assert_string_equal(out, expect);
	assert_int_equal(name_from_text(out, NULL, w2), n);
	assert_memory_equal(w, w2, (size_t)n);
}

static void test_to_text_round_trip(void **state)
{
	round_trip(".", ".");
	round_trip("www.Example.COM.", "www.Example.COM.");
	round_trip("a\\.b.c.", "a\\.b.c.");
	round_trip("a\\\\b.", "a\\\\b.");
	round_trip("\\000\\032\\127\\255.", "\\000\\032\\127\\255.");
	round_trip("sp\\ ace.", "sp\\032ace.");
	round_trip("q\\\"\\;\\(\\)\\@\\$.", "q\\\"\\;\\(\\)\\@\\$.");
	round_trip("*.example.", "*.example.");
	round_trip("_sip._tcp.example.", "_sip._tcp.example.");
	/* every octet value survives */
	uint8_t w[NAME_MAXLEN], w2[NAME_MAXLEN];
	char out[NAME_TEXT_MAX];
	for (int c = 0; c < 256; c++) {
		w[0] = 1;
		w[1] = (uint8_t)c;
		w[2] = 0;
		assert_true(name_to_text(w, out, sizeof(out)) > 0);
		assert_int_equal(name_from_text(out, NULL, w2), 3);
		assert_memory_equal(w, w2, 3);
	}
}

static void test_to_text_space(void **state)
{
	char out[32];
	const uint8_t *w = N("ab.c.");
	assert_int_equal(name_to_text(w, out, 6), 5);
	assert_string_equal(out, "ab.c.");
	assert_int_equal(name_to_text(w, out, 5), TDM_ESPACE);
	assert_true(strlen(out) < 5);
	assert_int_equal(name_to_text(w, out, 1), TDM_ESPACE);
	assert_int_equal(name_to_text(w, out, 0), TDM_ESPACE);
	assert_int_equal(name_to_text((const uint8_t *)"", out, 2), 1);
	assert_int_equal(name_to_text((const uint8_t *)"", out, 1), TDM_ESPACE);
	/* the longest name with escapes fits NAME_TEXT_MAX */
	uint8_t big[NAME_MAXLEN];
	size_t n = wire_labels(big, 3, 63, 61);
	for (size_t i = 0; i < n; i++)
		if (big[i] == 'a' || big[i] == 'b')
			big[i] = 0xff;
	char text[NAME_TEXT_MAX];
	assert_true(name_to_text(big, text, sizeof(text)) > 0);
}

/* ---- compare ---- */

static void test_equal_case_insensitive(void **state)
{
	assert_true(name_equal(N("WWW.example.COM."), N("www.EXAMPLE.com.")));
	assert_true(name_equal(N("."), N(".")));
	assert_false(name_equal(N("www.example.com."), N("www.example.org.")));
	assert_false(name_equal(N("www.example.com."), N("example.com.")));
	assert_false(name_equal(N("ab.c."), N("a.bc.")));
	/* only A-Z fold (RFC 4343): 0xC4 and 0xE4 differ */
	assert_false(name_equal(N("\\196."), N("\\228.")));
	assert_false(name_equal(N("@."), N("`.")));   /* 0x40 vs 0x60 */
	assert_false(name_equal(N("[."), N("{.")));   /* 0x5B vs 0x7B */
}

static void test_cmp_canonical_rfc4034(void **state)
{
	/* RFC 4034 6.1, in order */
	static const char *names[] = {
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
		"z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example.",
	};
	const int n = sizeof(names) / sizeof(names[0]);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < n; j++) {
			uint8_t a[NAME_MAXLEN], b[NAME_MAXLEN];
			assert_true(name_from_text(names[i], NULL, a) > 0);
			assert_true(name_from_text(names[j], NULL, b) > 0);
			int c = name_cmp_canonical(a, b);
			if (i < j && c >= 0)
				fail_msg("%s should sort before %s (got %d)", names[i], names[j], c);
			if (i > j && c <= 0)
				fail_msg("%s should sort after %s (got %d)", names[i], names[j], c);
			if (i == j && c != 0)
				fail_msg("%s should equal itself", names[i]);
		}
	}
}

static void test_cmp_canonical_more(void **state)
{
	assert_true(name_cmp_canonical(N("."), N("com.")) < 0);
	assert_int_equal(name_cmp_canonical(N("EXAMPLE.com."), N("example.COM.")), 0);
	assert_true(name_cmp_canonical(N("a.com."), N("a.net.")) < 0);
	assert_true(name_cmp_canonical(N("b.a.com."), N("a.b.com.")) < 0);   /* rightmost first */
	/* uppercase sorts as lowercase: "Z" > "_" (0x5F) because it is "z" (0x7A) */
	assert_true(name_cmp_canonical(N("_.x."), N("Z.x.")) < 0);
	/* octets compare unsigned */
	assert_true(name_cmp_canonical(N("\\127.x."), N("\\128.x.")) < 0);
	/* a 127-label name */
	char many[600] = "";
	for (int i = 0; i < 127; i++)
		strcat(many, "x.");
	assert_true(name_cmp_canonical(N(many), N("x.")) > 0);
}

static void test_in_zone(void **state)
{
	assert_true(name_in_zone(N("example.com."), N("example.com.")));
	assert_true(name_in_zone(N("www.Example.COM."), N("example.com.")));
	assert_true(name_in_zone(N("a.b.example.com."), N("example.com.")));
	assert_false(name_in_zone(N("xexample.com."), N("example.com.")));
	assert_false(name_in_zone(N("com."), N("example.com.")));
	assert_false(name_in_zone(N("example.net."), N("example.com.")));
	assert_true(name_in_zone(N("anything."), N(".")));
	assert_true(name_in_zone(N("."), N(".")));
	assert_false(name_in_zone(N("."), N("com.")));
	/* a label holding the parent's bytes must not match: "\007example" inside one label */
	uint8_t tricky[] = "\x09z\x07" "example\x03" "com";
	assert_false(name_in_zone(tricky, N("example.com.")));
}

static void test_labels_suffix_copy_hash(void **state)
{
	assert_int_equal(name_labels(N(".")), 0);
	assert_int_equal(name_labels(N("a.b.c.")), 3);
	const uint8_t *n = N("a.b.c.");
	assert_ptr_equal(name_suffix(n, 3), n);
	assert_ptr_equal(name_suffix(n, 2), n + 2);
	assert_ptr_equal(name_suffix(n, 0), n + 6);
	uint8_t buf[NAME_MAXLEN];
	memcpy(buf, N("WwW.ExAmPlE.\\196."), 15);
	assert_int_equal(name_copy_lower(buf, buf), 15);
	assert_memory_equal(buf, "\x03" "www\x07" "example\x01\xc4", 15);
	const uint8_t *x = N("WWW.EXAMPLE.COM."), *y = N("www.example.com.");
	assert_int_equal(name_hash(x, 17), name_hash(y, 17));
}

/* ---- name_unpack ---- */

/* A message: header of 12 zero octets then the given octets. */
static size_t msg_with(uint8_t *msg, const uint8_t *body, size_t n)
{
	memset(msg, 0, 12);
	memcpy(msg + 12, body, n);
	return 12 + n;
}

static void test_unpack_plain_and_backward_pointer(void **state)
{
	/* 12: example.com.  25: www + ptr 12  31: ptr 25 */
	const uint8_t body[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	                         3, 'W', 'w', 'W', 0xC0, 12, 0xC0, 25, 0xAA };
	uint8_t msg[128], out[NAME_MAXLEN];
	size_t len = msg_with(msg, body, sizeof(body));
	size_t pos = 12;
	assert_int_equal(name_unpack(msg, len, &pos, out), 13);
	assert_int_equal(pos, 25);
	assert_memory_equal(out, "\x07" "example\x03" "com", 13);
	assert_int_equal(name_unpack(msg, len, &pos, out), 17);
	assert_int_equal(pos, 31);
	assert_memory_equal(out, "\x03" "WwW\x07" "example\x03" "com", 17);
	assert_int_equal(name_unpack(msg, len, &pos, out), 17);   /* pointer to a pointer */
	assert_int_equal(pos, 33);
	assert_memory_equal(out, "\x03" "WwW\x07" "example\x03" "com", 17);
}

static void test_unpack_bad_pointers(void **state)
{
	uint8_t msg[128], out[NAME_MAXLEN];
	size_t pos, len;
	/* pointer to itself */
	const uint8_t self[] = { 0xC0, 12 };
	len = msg_with(msg, self, sizeof(self));
	pos = 12;
	assert_int_equal(name_unpack(msg, len, &pos, out), TDM_ECOMPRESS);
	/* forward pointer */
	const uint8_t fwd[] = { 0xC0, 14, 0 };
	len = msg_with(msg, fwd, sizeof(fwd));
	pos = 12;
	assert_int_equal(name_unpack(msg, len, &pos, out), TDM_ECOMPRESS);
	/* pointer past the end */
	const uint8_t past[] = { 0xC0, 0x7F };
	len = msg_with(msg, past, sizeof(past));
	pos = 12;
	assert_true(name_unpack(msg, len, &pos, out) < 0);
	const uint8_t past2[] = { 0xFF, 0xFF };
	len = msg_with(msg, past2, sizeof(past2));
	pos = 12;
	assert_true(name_unpack(msg, len, &pos, out) < 0);
	/* loop: 12: "a" then pointer to 12 (backwards each time, but a cycle) */
	const uint8_t loop[] = { 1, 'a', 0xC0, 12 };
	len = msg_with(msg, loop, sizeof(loop));
	pos = 12;
	assert_true(name_unpack(msg, len, &pos, out) < 0);
	/* two pointers pointing at each other through labels */
	const uint8_t loop2[] = { 1, 'a', 0xC0, 16, 1, 'b', 0xC0, 12 };
	len = msg_with(msg, loop2, sizeof(loop2));
	pos = 16;
	assert_true(name_unpack(msg, len, &pos, out) < 0);
	/* pointer cut in half at the end of the message */
	const uint8_t half[] = { 1, 'a', 0xC0 };
	len = msg_with(msg, half, sizeof(half));
	pos = 12;
	assert_int_equal(name_unpack(msg, len, &pos, out), TDM_EMALF);
}

static void test_unpack_truncated_and_ext_labels(void **state)
{
	uint8_t msg[128], out[NAME_MAXLEN];
	size_t pos, len;
	const uint8_t trunc[] = { 5, 'a', 'b' };
	len = msg_with(msg, trunc, sizeof(trunc));
	pos = 12;
	assert_int_equal(name_unpack(msg, len, &pos, out), TDM_EMALF);
	const uint8_t noterm[] = { 1, 'a' };
	len = msg_with(msg, noterm, sizeof(noterm));
	pos = 12;
	assert_int_equal(name_unpack(msg, len, &pos, out), TDM_EMALF);
	pos = len;
	assert_int_equal(name_unpack(msg, len, &pos, out), TDM_EMALF);
	const uint8_t ext40[] = { 0x41, 'a', 0 };
	len = msg_with(msg, ext40, sizeof(ext40));
	pos = 12;
	assert_int_equal(name_unpack(msg, len, &pos, out), TDM_ELABEL);
	const uint8_t ext80[] = { 0x80, 'a', 0 };
	len = msg_with(msg, ext80, sizeof(ext80));
	pos = 12;
	assert_int_equal(name_unpack(msg, len, &pos, out), TDM_ELABEL);
	const uint8_t l64[] = { 64 };
	len = msg_with(msg, l64, sizeof(l64));
	pos = 12;
	assert_int_equal(name_unpack(msg, len, &pos, out), TDM_ELABEL);
}

static void test_unpack_too_long_via_pointers(void **state)
{
	/* 12: 63 a's label, root. Then names that each add a 63-octet label and point back. */
	uint8_t msg[1024], out[NAME_MAXLEN + 16];
	memset(msg, 0, 12);
	size_t p = 12, prev = 12;
	msg[p++] = 63;
	memset(msg + p, 'a', 63);
	p += 63;
	msg[p++] = 0;   /* 65 octets */
	size_t starts[4];
	for (int i = 0; i < 4; i++) {
		starts[i] = p;
		msg[p++] = 62;
		memset(msg + p, 'b' + i, 62);
		p += 62;
		msg[p++] = (uint8_t)(0xC0 | (prev >> 8));
		msg[p++] = (uint8_t)prev;
		prev = starts[i];
	}
	size_t pos = starts[2];   /* 3 x 63 + 65 = 254 */
	assert_int_equal(name_unpack(msg, p, &pos, out), 254);
	assert_int_equal(pos, starts[2] + 65);
	pos = starts[3];          /* 317 */
	assert_int_equal(name_unpack(msg, p, &pos, out), TDM_ENAMELEN);
}

static void test_unpack_exact_255(void **state)
{
	uint8_t msg[600], out[NAME_MAXLEN];
	memset(msg, 0, 12);
	size_t n = wire_labels(msg + 12, 3, 63, 61);
	size_t pos = 12;
	assert_int_equal(name_unpack(msg, 12 + n, &pos, out), 255);
	assert_int_equal(pos, 12 + 255);
	n = wire_labels(msg + 12, 3, 63, 62);
	pos = 12;
	assert_int_equal(name_unpack(msg, 12 + n, &pos, out), TDM_ENAMELEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_length_basic),
		cmocka_unit_test(test_length_label_63_ok_64_rejected),
		cmocka_unit_test(test_length_255_ok_256_rejected),
		cmocka_unit_test(test_length_missing_terminator),
		cmocka_unit_test(test_length_rejects_pointers_and_ext_labels),
		cmocka_unit_test(test_from_text_absolute_and_relative),
		cmocka_unit_test(test_from_text_root),
		cmocka_unit_test(test_from_text_escapes),
		cmocka_unit_test(test_from_text_bad),
		cmocka_unit_test(test_from_text_label_63_64),
		cmocka_unit_test(test_from_text_name_length),
		cmocka_unit_test(test_to_text_round_trip),
		cmocka_unit_test(test_to_text_space),
		cmocka_unit_test(test_equal_case_insensitive),
		cmocka_unit_test(test_cmp_canonical_rfc4034),
		cmocka_unit_test(test_cmp_canonical_more),
		cmocka_unit_test(test_in_zone),
		cmocka_unit_test(test_labels_suffix_copy_hash),
		cmocka_unit_test(test_unpack_plain_and_backward_pointer),
		cmocka_unit_test(test_unpack_bad_pointers),
		cmocka_unit_test(test_unpack_truncated_and_ext_labels),
		cmocka_unit_test(test_unpack_too_long_via_pointers),
		cmocka_unit_test(test_unpack_exact_255),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
