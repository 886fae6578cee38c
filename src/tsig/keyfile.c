/* tsig/keyfile.c -- BIND key statements read, Tandem YAML key blocks written, new keys generated */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"
#include "tsig/keyfile.h"

/* ---- reading BIND's key syntax ---- */

typedef enum { TOK_EOF, TOK_WORD, TOK_STRING, TOK_PUNCT, TOK_BAD } tok_type_t;

typedef struct {
	const char *p, *end;
	int line;
	tok_type_t type;
	const char *tok;             /* the token's text (inside the quotes for a string) */
	size_t len;
} lexer_t;

/* Skips white space and comments; false on an unterminated comment. */
static bool skip_space(lexer_t *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;
		bool slash2 = c == '/' && lx->end - lx->p > 1;
		if (c == '\n')
			lx->line++;
		if (isspace((unsigned char)c)) {
			lx->p++;
		} else if (c == '#' || (slash2 && lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (slash2 && lx->p[1] == '*') {
			for (lx->p += 2; lx->p < lx->end && !(*lx->p == '*' && lx->end - lx->p > 1 && lx->p[1] == '/');
			     lx->p++)
				lx->line += *lx->p == '\n';
			if (lx->p >= lx->end)
				return false;
			lx->p += 2;
		} else {
			break;
		}
	}
	return true;
}

static bool word_char(char c)
{
	return !isspace((unsigned char)c) && c != '{' && c != '}' && c != ';' && c != '"' && c != '#';
}

static tok_type_t next(lexer_t *lx)
{
	if (!skip_space(lx))
		return lx->type = TOK_BAD;
	lx->tok = lx->p;
	lx->len = 1;
	if (lx->p >= lx->end)
		return lx->type = TOK_EOF;
	if (*lx->p == '{' || *lx->p == '}' || *lx->p == ';') {
		lx->p++;
		return lx->type = TOK_PUNCT;
	}
	if (*lx->p == '"') {
		const char *q = memchr(lx->p + 1, '"', (size_t)(lx->end - lx->p - 1));
		if (q == NULL)
			return lx->type = TOK_BAD;
		lx->tok = lx->p + 1;
		lx->len = (size_t)(q - lx->tok);
		for (const char *c = lx->tok; c < q; c++)
			lx->line += *c == '\n';
		lx->p = q + 1;
		return lx->type = TOK_STRING;
	}
	while (lx->p < lx->end && word_char(*lx->p))
		lx->p++;
	lx->len = (size_t)(lx->p - lx->tok);
	return lx->type = TOK_WORD;
}

static bool is(const lexer_t *lx, tok_type_t type, const char *text)
{
	return lx->type == type && lx->len == strlen(text) && strncasecmp(lx->tok, text, lx->len) == 0;
}

/* The value of "algorithm X;" or "secret "X";" (a word or a string), up to the ';'. TDM_OK,
 * TDM_EPARSE, or TDM_ESPACE when it is longer than cap - 1 (never cut short). */
static int value(lexer_t *lx, char *out, size_t cap, bool drop_space)
{
	size_t n = 0;
	if (next(lx) != TOK_WORD && lx->type != TOK_STRING)
		return TDM_EPARSE;
	for (size_t i = 0; i < lx->len; i++) {
		if (drop_space && isspace((unsigned char)lx->tok[i]))
			continue;
		if (n + 1 >= cap)
			return TDM_ESPACE;
		out[n++] = lx->tok[i];
	}
	out[n] = '\0';
	next(lx);
	return is(lx, TOK_PUNCT, ";") ? TDM_OK : TDM_EPARSE;
}

static int key_name(lexer_t *lx, tsig_keyfile_key_t *k)
{
	uint8_t wire[NAME_MAXLEN];
	if ((next(lx) != TOK_WORD && lx->type != TOK_STRING) || lx->len >= sizeof(k->name))
		return TDM_EPARSE;
	memcpy(k->name, lx->tok, lx->len);
	k->name[lx->len] = '\0';
	return name_from_text(k->name, NULL, wire) < 0 ? TDM_EPARSE : TDM_OK;
}

/* One statement's body: "{ algorithm ...; secret ...; };". */
static int key_body(lexer_t *lx, tsig_keyfile_key_t *k)
{
	char text[TSIG_SECRET_MAX / 3 * 4 + 8];
	int ret;
	bool have_secret = false;
	k->alg = -1;
	next(lx);
	if (!is(lx, TOK_PUNCT, "{"))
		return TDM_EPARSE;
	for (next(lx); !is(lx, TOK_PUNCT, "}"); next(lx)) {
		if (is(lx, TOK_WORD, "algorithm")) {
			if ((ret = value(lx, text, sizeof(text), false)) != TDM_OK)
				return ret == TDM_ESPACE ? TDM_ENOENT : ret;   /* no algorithm is that long */
			if ((k->alg = tsig_alg_from_text(text)) < 0)
				return TDM_ENOENT;
		} else if (is(lx, TOK_WORD, "secret")) {
			/* A secret longer than TSIG_SECRET_MAX is TDM_ESPACE, whether its text or its
			 * octets overflow: refused, never cut (a cut key would sign nothing right). */
			if ((ret = value(lx, text, sizeof(text), true)) != TDM_OK)
				return ret;
			ret = tsig_base64_decode(text, strlen(text), k->secret, sizeof(k->secret));
			if (ret == TDM_ESPACE)
				return TDM_ESPACE;
			if (ret <= 0)
				return TDM_EPARSE;
			k->secret_len = (size_t)ret;
			have_secret = true;
		} else {
			return TDM_EPARSE;
		}
	}
	next(lx);
	return is(lx, TOK_PUNCT, ";") && have_secret && k->alg >= 0 ? TDM_OK : TDM_EPARSE;
}

int tsig_keyfile_parse(const char *text, size_t len, tsig_keyfile_cb cb, void *arg, int *line)
{
	lexer_t lx = { .p = text, .end = text + len, .line = 1 };
	tsig_keyfile_key_t k;
	int ret = TDM_OK;
	while (ret == TDM_OK && next(&lx) != TOK_EOF) {
		memset(&k, 0, sizeof(k));
		k.line = lx.line;
		if (!is(&lx, TOK_WORD, "key"))
			ret = TDM_EPARSE;
		if (ret == TDM_OK)
			ret = key_name(&lx, &k);
		if (ret == TDM_OK)
			ret = key_body(&lx, &k);
		if (ret == TDM_OK)
			ret = cb(arg, &k);
	}
	if (ret != TDM_OK && line != NULL)
		*line = lx.line;
	return ret;
}

/* ---- writing ---- */

/* Names as the configuration takes them (conf/value.c): letters, digits, '-', '_', '/' and dots, so
 * they go into YAML plain. */
static bool plain_name(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '/' && *s != '.')
			return false;
	}
	return true;
}

/* The name lowercase and absolute, as the configuration keeps it. */
static int yaml_name(const char *name, char *out, size_t cap)
{
	uint8_t wire[NAME_MAXLEN];
	if (name_from_text(name, NULL, wire) < 0)
		return TDM_EPARSE;
	name_copy_lower(wire, wire);
	if (name_to_text(wire, out, cap) < 0 || !plain_name(out))
		return TDM_EPARSE;
	return TDM_OK;
}

int tsig_key_yaml(const char *name, int alg, const uint8_t *secret, size_t secret_len, char *out,
                  size_t cap)
{
	char yname[NAME_TEXT_MAX];
	char b64[TSIG_SECRET_MAX / 3 * 4 + 8];
	if (alg < 0 || alg >= TSIG_ALG_COUNT)
		return TDM_EINVAL;
	int ret = yaml_name(name, yname, sizeof(yname));
	if (ret != TDM_OK)
		return ret;
	if (tsig_base64_encode(secret, secret_len, b64, sizeof(b64)) < 0)
		return TDM_ESPACE;
	int n = snprintf(out, cap, "keys:\n  - name: %s\n    algorithm: %s\n    secret: \"%s\"\n", yname,
	                 tsig_alg_name(alg), b64);
	return n >= 0 && (size_t)n < cap ? n : TDM_ESPACE;
}

int tsig_keygen(const char *name, const char *algorithm, char *out, size_t cap)
{
	uint8_t secret[TSIG_DIGEST_MAX];
	int alg = tsig_alg_from_text(algorithm != NULL ? algorithm : "hmac-sha256");
	if (alg < 0)
		return TDM_ENOENT;
	size_t len = tsig_alg_digest_len(alg);
	if (tsig_random(secret, len) != TDM_OK)
		return TDM_ERROR;
	return tsig_key_yaml(name, alg, secret, len, out, cap);
}
