/* tests/fuzz/fuzz_conf.c -- fuzz target: the configuration loader (conf_load_string) on fuzzed YAML */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

/*
 * The input is the text of a configuration file. It is loaded as tandemd loads its file (every
 * check, every default). A BIND key file is written to FUZZ_KEY_FILE for keys that name it with
 * file: (the target never changes folder: libFuzzer reads its corpus by relative paths). A
 * configuration that loads is then looked up the ways the server does (zones and keys by name,
 * templates by group). Problems are logged at error level: tests/fuzz/run.sh runs this target with
 * stderr closed (-close_fd_mask=2).
 */

#define FUZZ_KEY_FILE "/tmp/tandem-fuzz-conf.key"

static bool ready;

static void setup(void)
{
	FILE *f = fopen(FUZZ_KEY_FILE, "w");
	if (f == NULL)
		abort();
	fputs("key \"fuzz.key\" {\n\talgorithm hmac-sha256;\n"
	      "\tsecret \"dGFuZGVtIGZ1enoga2V5IGZpbGUgc2VjcmV0IDMyIQ==\";\n};\n", f);
	fclose(f);
	ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		setup();
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	conf_t *conf = NULL;
	if (conf_load_string(text, "fuzz.yaml", &conf) == 0) {
		for (size_t i = 0; i < conf->zone_count; i++) {
			if (conf_zone_find(conf, conf->zones[i].name) != &conf->zones[i])
				abort();   /* every zone is found by its own name (names are unique) */
			conf_template_find(conf, conf->zones[i].group);
		}
		for (size_t i = 0; i < conf->key_count; i++)
			if (conf_key_find(conf, conf->keys[i].name) != &conf->keys[i])
				abort();
	}
	conf_free(conf);
	free(text);
	return 0;
}
