/* cli/keygen.c -- `tandem keygen NAME [ALGORITHM]`: a new TSIG key, ready to paste into a configuration */
#include <stdio.h>
#include <string.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "cli/keygen.h"
#include "lib/error.h"
#include "tsig/keyfile.h"
#include "tsig/tsig_openssl.h"
#include "wire/name.h"

#define B64_MAX (TSIG_DIGEST_MAX / 3 * 4 + 8)
#define TEXT_MAX 4096

static void usage(FILE *out)
{
	fputs("usage: tandem keygen NAME [ALGORITHM] [--bind] [--json]\n\n"
	      "Prints a new random TSIG key as a block for Tandem's configuration (keys:), and with\n"
	      "--bind as BIND's key statement too. ALGORITHM is hmac-sha256 (default), hmac-sha512,\n"
	      "hmac-sha384, hmac-sha224, hmac-sha1 or hmac-md5; the secret is as long as its MAC.\n", out);
}

/* The name as the configuration keeps it: lowercase, absolute. */
static int key_name(const char *name, char *out, size_t cap)
{
	uint8_t wire[NAME_MAXLEN];
	if (name_from_text(name, NULL, wire) < 0)
		return TDM_EPARSE;
	name_copy_lower(wire, wire);
	return name_to_text(wire, out, cap) < 0 ? TDM_EPARSE : TDM_OK;
}

int cli_keygen_format(const char *name, int alg, const uint8_t *secret, size_t secret_len, bool bind,
                      char *out, size_t cap)
{
	static const char yaml_head[] = "# Tandem (tandem.yaml)\n";
	char lname[NAME_TEXT_MAX], b64[B64_MAX];
	size_t head = bind ? sizeof(yaml_head) - 1 : 0;
	if (cap <= head)
		return TDM_ESPACE;
	memcpy(out, yaml_head, head);
	int n = tsig_key_yaml(name, alg, secret, secret_len, out + head, cap - head);
	if (n < 0 || !bind)
		return n;
	/* tsig_key_yaml() accepted the name and the algorithm, so these cannot fail. */
	if (key_name(name, lname, sizeof(lname)) != TDM_OK ||
	    tsig_base64_encode(secret, secret_len, b64, sizeof(b64)) < 0)
		return TDM_ESPACE;
	size_t used = head + (size_t)n;
	int m = snprintf(out + used, cap - used,
	                 "\n# BIND (named.conf)\nkey \"%s\" {\n\talgorithm %s;\n\tsecret \"%s\";\n};\n",
	                 lname, tsig_alg_name(alg), b64);
	if (m < 0 || (size_t)m >= cap - used)
		return TDM_ESPACE;
	return (int)(used + (size_t)m);
}

json_t *cli_keygen_json(const char *name, int alg, const uint8_t *secret, size_t secret_len)
{
	char lname[NAME_TEXT_MAX], b64[B64_MAX];
	if (alg < 0 || alg >= TSIG_ALG_COUNT || key_name(name, lname, sizeof(lname)) != TDM_OK ||
	    tsig_base64_encode(secret, secret_len, b64, sizeof(b64)) < 0)
		return NULL;
	return json_pack("{s:s, s:s, s:s}", "name", lname, "algorithm", tsig_alg_name(alg), "secret",
	                 b64);
}

static int print_key(const cli_opts_t *o, const char *name, int alg, bool bind)
{
	uint8_t secret[TSIG_DIGEST_MAX];
	char text[TEXT_MAX];
	/* RFC 8945 6: a key at least as long as the MAC. */
	size_t len = tsig_alg_digest_len(alg);
	if (tsig_random(secret, len) != TDM_OK) {
		fputs("tandem keygen: no random numbers from the system\n", stderr);
		return CLI_EXIT_API;
	}
	int ret;
	if (o->json) {
		json_t *j = cli_keygen_json(name, alg, secret, len);
		ret = j != NULL ? cli_api_print_json(stdout, j) : TDM_ENOMEM;
		json_decref(j);
	} else {
		int n = cli_keygen_format(name, alg, secret, len, bind, text, sizeof(text));
		ret = n < 0 ? n : fputs(text, stdout) == EOF ? TDM_EIO : TDM_OK;
	}
	if (ret == TDM_OK && fflush(stdout) != 0)
		ret = TDM_EIO;
	if (ret != TDM_OK)
		fprintf(stderr, "tandem keygen: %s\n", tdm_strerror(ret));
	return ret == TDM_OK ? CLI_EXIT_OK : CLI_EXIT_API;
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("tandem keygen: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n\n", stderr);
	usage(stderr);
	return CLI_EXIT_USAGE;
}

int cli_keygen_main(cli_opts_t *o, int argc, char **argv)
{
	bool bind = false;
	const cli_flag_t flags[] = { { "--bind", &bind } };
	char err[512], lname[NAME_TEXT_MAX], yaml[TEXT_MAX];
	int npos;
	if (cli_opts_parse(o, argc, argv, flags, 1, argv, &npos, err, sizeof(err)) != TDM_OK)
		return usage_error("%s", err);
	if (o->help) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (npos == 0 || npos > 2)
		return usage_error("%s", npos == 0 ? "which key name?" : "too many words");
	int alg = tsig_alg_from_text(npos == 2 ? argv[1] : "hmac-sha256");
	if (alg < 0)
		return usage_error("unknown algorithm '%s' (hmac-sha256, hmac-sha512, hmac-sha384, "
		                   "hmac-sha224, hmac-sha1, hmac-md5)", argv[1]);
	/* The name check of the configuration, before any key is made. */
	uint8_t zero[1] = { 0 };
	if (key_name(argv[0], lname, sizeof(lname)) != TDM_OK ||
	    tsig_key_yaml(argv[0], alg, zero, sizeof(zero), yaml, sizeof(yaml)) < 0)
		return usage_error("'%s' is not a key name the configuration takes (letters, digits, "
		                   "'-', '_', '/' and dots)", argv[0]);
	return print_key(o, argv[0], alg, bind);
}
