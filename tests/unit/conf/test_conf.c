/* tests/unit/conf/test_conf.c -- the YAML configuration: SPEC.md's example, defaults, and every error */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/error.h"

/* SPEC.md's example, with the two things it leaves out: a real secret and the remote ns1. */
static const char spec_example[] =
	"server:\n"
	"  listen: [127.0.0.1@5300, \"::1@5300\"]\n"
	"  source-address: 127.0.0.1\n"
	"  data-dir: ./var\n"
	"  workers: 0\n"
	"  identity: ns1.example.net\n"
	"  refresh-min: 60\n"
	"  refresh-max: 86400\n"
	"http:\n"
	"  listen: 127.0.0.1@8053\n"
	"  api-key-file: ./var/api.key\n"
	"keys:\n"
	"  - name: xfr-key.\n"
	"    algorithm: hmac-sha256\n"
	"    secret: \"c2VjcmV0LWtleS1ieXRlcw==\"\n"   /* "secret-key-bytes" */
	"remotes:\n"
	"  - name: ns1\n"
	"    address: 192.0.2.1\n"
	"  - name: ns2\n"
	"    address: [127.0.0.2@5300]\n"
	"    key: xfr-key.\n"
	"acls:\n"
	"  - name: secondaries\n"
	"    address: [127.0.0.2, 10.0.0.0/8]\n"
	"    key: [xfr-key.]\n"
	"    allow: [transfer, notify, update]\n"
	"zones:\n"
	"  - name: example.com.\n"                      /* line 28 */
	"    type: primary\n"
	"    file: zones/example.com.zone\n"
	"    notify: [ns2]\n"
	"    acl: [secondaries]\n"
	"  - name: example.net.\n"
	"    type: secondary\n"
	"    primaries: [ns1]\n"
	"  - name: catalog.example.\n"
	"    type: primary\n"
	"    catalog: produce\n"
	"  - name: example.org.\n"
	"    type: primary\n"
	"    file: zones/example.org.zone\n"
	"    member-of: catalog.example.\n"
	"  - name: catalog.upstream.\n"
	"    type: secondary\n"
	"    catalog: consume\n"
	"    primaries: [ns1]\n";

/* What conf_load*() logged, read back from stderr. */
static char logged[32768];
static FILE *capture;
static int saved_stderr;

static void capture_begin(void)
{
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	capture = tmpfile();
	assert_non_null(capture);
	dup2(fileno(capture), STDERR_FILENO);
}

static void capture_end(void)
{
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	rewind(capture);
	size_t n = fread(logged, 1, sizeof(logged) - 1, capture);
	logged[n] = '\0';
	fclose(capture);
}

static int load_logged(const char *yaml, conf_t **out)
{
	capture_begin();
	int ret = conf_load_string(yaml, "t.yaml", out);
	capture_end();
	return ret;
}

static void assert_logged(const char *message)
{
	if (strstr(logged, message) == NULL)
		fail_msg("expected in the log: %s\nlog was:\n%s", message, logged);
}

/* The text must be refused with TDM_ECONF, *out left NULL, and message logged. */
static void expect_error(const char *yaml, const char *message)
{
	conf_t *conf = (conf_t *)&conf;
	assert_int_equal(load_logged(yaml, &conf), TDM_ECONF);
	assert_null(conf);
	assert_logged(message);
}

static conf_t *expect_ok(const char *yaml)
{
	conf_t *conf = NULL;
	int ret = load_logged(yaml, &conf);
	if (ret != TDM_OK)
		fail_msg("load failed (%s):\n%s", tdm_strerror(ret), logged);
	assert_non_null(conf);
	return conf;
}

static void assert_addr(const sockaddr_t *sa, const char *text)
{
	char buf[SOCKADDR_STRLEN];
	assert_string_equal(sockaddr_format(sa, buf, sizeof(buf)), text);
}

static void test_spec_example_server(void **state)
{
	conf_t *c = expect_ok(spec_example);
	assert_string_equal(c->path, "t.yaml");
	assert_int_equal(c->server.listen_count, 2);
	assert_addr(&c->server.listen[0], "127.0.0.1@5300");
	assert_addr(&c->server.listen[1], "::1@5300");
	assert_addr(&c->server.source4, "127.0.0.1@0");
	assert_int_equal(c->server.source6.len, 0);
	assert_string_equal(c->server.data_dir, "./var");
	assert_int_equal(c->server.workers, 0);
	assert_string_equal(c->server.identity, "ns1.example.net");
	assert_int_equal(c->server.refresh_min, 60);
	assert_int_equal(c->server.refresh_max, 86400);
	assert_addr(&c->http.listen, "127.0.0.1@8053");
	assert_string_equal(c->http.api_key_file, "./var/api.key");
	conf_free(c);
}

static void test_spec_example_peers(void **state)
{
	conf_t *c = expect_ok(spec_example);
	assert_int_equal(c->key_count, 1);
	const conf_key_t *k = &c->keys[0];
	assert_string_equal(k->name, "xfr-key.");
	assert_string_equal(k->algorithm, "hmac-sha256");
	assert_int_equal(k->secret_len, 16);
	assert_memory_equal(k->secret, "secret-key-bytes", 16);
	assert_ptr_equal(conf_key_find(c, "XFR-KEY"), k);

	assert_int_equal(c->remote_count, 2);
	assert_string_equal(c->remotes[0].name, "ns1");
	assert_int_equal(c->remotes[0].address_count, 1);
	assert_addr(&c->remotes[0].addresses[0], "192.0.2.1@53");
	assert_null(c->remotes[0].key);
	assert_addr(&c->remotes[1].addresses[0], "127.0.0.2@5300");
	assert_ptr_equal(c->remotes[1].key, k);

	assert_int_equal(c->acl_count, 1);
	const conf_acl_t *a = &c->acls[0];
	assert_string_equal(a->name, "secondaries");
	assert_int_equal(a->prefix_count, 2);
	assert_int_equal(a->prefixes[0].prefix, 32);
	assert_int_equal(a->prefixes[1].prefix, 8);
	assert_int_equal(a->key_count, 1);
	assert_ptr_equal(a->keys[0], k);
	assert_int_equal(a->allow, CONF_ALLOW_TRANSFER | CONF_ALLOW_NOTIFY | CONF_ALLOW_UPDATE);
	conf_free(c);
}

static void test_spec_example_zones(void **state)
{
	conf_t *c = expect_ok(spec_example);
	assert_int_equal(c->zone_count, 5);
	const conf_zone_t *z = &c->zones[0];
	assert_string_equal(z->name, "example.com.");
	assert_int_equal(z->type, CONF_ZONE_PRIMARY);
	assert_string_equal(z->file, "zones/example.com.zone");
	assert_int_equal(z->line, 28);
	assert_int_equal(z->notify_count, 1);
	assert_ptr_equal(z->notify[0], &c->remotes[1]);
	assert_int_equal(z->acl_count, 1);
	assert_ptr_equal(z->acls[0], &c->acls[0]);
	assert_int_equal(z->primary_count, 0);
	assert_int_equal(z->catalog, CONF_CATALOG_NONE);
	assert_null(z->member_of);

	z = conf_zone_find(c, "Example.NET");
	assert_ptr_equal(z, &c->zones[1]);
	assert_int_equal(z->type, CONF_ZONE_SECONDARY);
	assert_null(z->file);
	assert_int_equal(z->primary_count, 1);
	assert_ptr_equal(z->primaries[0], &c->remotes[0]);

	assert_int_equal(c->zones[2].catalog, CONF_CATALOG_PRODUCE);
	assert_string_equal(c->zones[3].member_of, "catalog.example.");
	assert_null(c->zones[3].group);
	assert_int_equal(c->zones[4].catalog, CONF_CATALOG_CONSUME);
	assert_int_equal(c->zones[4].type, CONF_ZONE_SECONDARY);
	assert_null(conf_zone_find(c, "example.edu."));
	assert_null(conf_zone_find(c, "bad..name"));
	conf_free(c);
}

/* SPEC.md's example word for word: it names a remote it never defines and has a placeholder secret. */
static const char spec_verbatim[] =
	"server:\n"
	"  listen: [127.0.0.1@5300, \"::1@5300\"]   # any number of addresses; the same answers on each\n"
	"  source-address: 127.0.0.1              # source of our NOTIFY, SOA queries and transfers (per family)\n"
	"  data-dir: ./var                        # the store (SQLite) and anything else Tandem keeps\n"
	"  workers: 0                             # query threads; 0 = one per CPU\n"
	"  identity: ns1.example.net              # NSID and CH TXT id.server; unset = not disclosed\n"
	"  refresh-min: 60                        # clamps on the SOA timers of secondary zones, in seconds\n"
	"  refresh-max: 86400                     #   (also retry-min/-max, expire-min/-max)\n"
	"http:\n"
	"  listen: 127.0.0.1@8053                 # API and web console; unset = off\n"
	"  api-key-file: ./var/api.key            # created on first start when missing; sent as X-API-Key\n"
	"keys:\n"
	"  - name: xfr-key.\n"
	"    algorithm: hmac-sha256               # hmac-md5, hmac-sha1, hmac-sha224/256/384/512\n"
	"    secret: \"base64...\"\n"
	"remotes:\n"
	"  - name: ns2\n"
	"    address: [127.0.0.2@5300]            # several = tried in order\n"
	"    key: xfr-key.                        # sign what we send it, require it on what it sends\n"
	"acls:\n"
	"  - name: secondaries\n"
	"    address: [127.0.0.2, 10.0.0.0/8]     # addresses and prefixes, IPv4 and IPv6\n"
	"    key: [xfr-key.]                      # when present, the request must also be signed with one of these\n"
	"    allow: [transfer, notify, update]\n"
	"zones:\n"
	"  - name: example.com.\n"
	"    type: primary\n"
	"    file: zones/example.com.zone         # optional: a zone file that seeds and backs the zone\n"
	"    notify: [ns2]                        # secondaries to NOTIFY on every change\n"
	"    acl: [secondaries]\n"
	"  - name: example.net.\n"
	"    type: secondary\n"
	"    primaries: [ns1]                     # NOTIFY is accepted from these, transfers come from these\n"
	"  - name: catalog.example.\n"
	"    type: primary\n"
	"    catalog: produce                     # Tandem writes this zone: one member per zone that is member-of it\n"
	"  - name: example.org.\n"
	"    type: primary\n"
	"    file: zones/example.org.zone\n"
	"    member-of: catalog.example.          # listed in that catalog (group: NAME sets its RFC 9432 group)\n"
	"  - name: catalog.upstream.\n"
	"    type: secondary\n"
	"    catalog: consume                     # members become secondary zones of the same primaries\n"
	"    primaries: [ns1]\n";

static void test_spec_example_verbatim(void **state)
{
	expect_error(spec_verbatim, "t.yaml:15: keys[0].secret: not a base64 secret");
	assert_logged("t.yaml:33: zones[1].primaries: unknown remote 'ns1'");
	assert_logged("t.yaml:44: zones[4].primaries: unknown remote 'ns1'");
	int lines = 0;
	for (const char *p = logged; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 3);
}

static void check_defaults(const char *yaml)
{
	conf_t *c = expect_ok(yaml);
	assert_int_equal(c->server.listen_count, 1);
	assert_addr(&c->server.listen[0], "127.0.0.1@53");
	assert_int_equal(c->server.source4.len, 0);
	assert_int_equal(c->server.source6.len, 0);
	assert_string_equal(c->server.data_dir, "./var");
	assert_int_equal(c->server.workers, 0);
	assert_null(c->server.identity);
	assert_int_equal(c->server.refresh_min, 60);
	assert_int_equal(c->server.refresh_max, 86400);
	assert_int_equal(c->server.retry_min, 10);
	assert_int_equal(c->server.retry_max, 3600);
	assert_int_equal(c->server.expire_min, 3600);
	assert_int_equal(c->server.expire_max, 1209600);
	assert_int_equal(c->server.tcp_idle_timeout, 10);
	assert_int_equal(c->server.tcp_max_clients, 1000);
	assert_int_equal(c->server.udp_payload, 1232);
	assert_int_equal(c->http.listen.len, 0);
	assert_string_equal(c->http.api_key_file, "./var/api.key");
	assert_int_equal(c->key_count + c->remote_count + c->acl_count + c->zone_count, 0);
	assert_null(c->zones);
	conf_free(c);
}

static void test_defaults(void **state)
{
	check_defaults("");
	check_defaults("# nothing but comments\n\n   # here\n");
	check_defaults("---\n");
	check_defaults("---\n...\n");
	check_defaults("server:\nhttp:\nkeys:\nzones: []\n");
	check_defaults("server: {}\nhttp: ~\n");
	check_defaults("server:\n  identity: ~\n  workers:\n");
}

static void test_server_options(void **state)
{
	conf_t *c = expect_ok("server:\n"
	                      "  listen: 0.0.0.0@5353\n"
	                      "  source-address: [\"2001:db8::1\", 192.0.2.1@4000]\n"
	                      "  workers: 4\n"
	                      "  refresh-min: 1m\n"
	                      "  refresh-max: 2h\n"
	                      "  retry-min: 30s\n"
	                      "  retry-max: 1d\n"
	                      "  expire-min: 7d\n"
	                      "  expire-max: 2w\n"
	                      "  tcp-idle-timeout: 30\n"
	                      "  tcp-max-clients: 50\n"
	                      "  udp-payload: 4096\n"
	                      "http:\n"
	                      "  listen: \"::1\"\n");
	assert_int_equal(c->server.listen_count, 1);
	assert_addr(&c->server.listen[0], "0.0.0.0@5353");
	assert_addr(&c->server.source4, "192.0.2.1@4000");
	assert_addr(&c->server.source6, "2001:db8::1@0");
	assert_int_equal(c->server.workers, 4);
	assert_int_equal(c->server.refresh_min, 60);
	assert_int_equal(c->server.refresh_max, 7200);
	assert_int_equal(c->server.retry_min, 30);
	assert_int_equal(c->server.retry_max, 86400);
	assert_int_equal(c->server.expire_min, 604800);
	assert_int_equal(c->server.expire_max, 1209600);
	assert_int_equal(c->server.tcp_idle_timeout, 30);
	assert_int_equal(c->server.tcp_max_clients, 50);
	assert_int_equal(c->server.udp_payload, 4096);
	assert_addr(&c->http.listen, "::1@8053");
	conf_free(c);
}

static void test_names_and_keys(void **state)
{
	conf_t *c = expect_ok("keys:\n"
	                      "  - {name: Key-One, algorithm: HMAC-SHA512, secret: YQ}\n"
	                      "  - {name: k2., algorithm: hmac-md5.sig-alg.reg.int., secret: \"AAEC/w==\"}\n"
	                      "  - {name: k3, algorithm: hmac-sha1, secret: YWI=}\n"
	                      "zones:\n"
	                      "  - name: EXAMPLE.Com\n"
	                      "  - name: .\n"
	                      "  - name: 0/25.2.0.192.in-addr.arpa\n"
	                      "  - name: _tcp.example\n");
	assert_string_equal(c->keys[0].name, "key-one.");
	assert_string_equal(c->keys[0].algorithm, "hmac-sha512");
	assert_int_equal(c->keys[0].secret_len, 1);
	assert_memory_equal(c->keys[0].secret, "a", 1);
	assert_string_equal(c->keys[1].algorithm, "hmac-md5");
	assert_int_equal(c->keys[1].secret_len, 4);
	assert_memory_equal(c->keys[1].secret, "\x00\x01\x02\xff", 4);
	assert_memory_equal(c->keys[2].secret, "ab", 2);
	assert_ptr_equal(conf_key_find(c, "key-one"), &c->keys[0]);
	assert_ptr_equal(conf_key_find(c, "K2."), &c->keys[1]);
	assert_null(conf_key_find(c, "k4"));
	assert_string_equal(c->zones[0].name, "example.com.");
	assert_int_equal(c->zones[0].type, CONF_ZONE_PRIMARY);   /* the default type */
	assert_string_equal(c->zones[1].name, ".");
	assert_string_equal(c->zones[2].name, "0/25.2.0.192.in-addr.arpa.");
	assert_string_equal(c->zones[3].name, "_tcp.example.");
	assert_ptr_equal(conf_zone_find(c, "Example.com."), &c->zones[0]);
	assert_ptr_equal(conf_zone_find(c, "."), &c->zones[1]);
	conf_free(c);
}

/* conf_zone_find by the sorted index: every zone of a file listing them out of order, in any case and
 * with or without the final dot; names between, before and after them are not found. */
static void test_zone_find_many(void **state)
{
	(void)state;
	enum { ZONES = 300 };   /* prime to 7 */
	size_t cap = 64 + ZONES * 40, n = 0;
	char *yaml = malloc(cap);
	assert_non_null(yaml);
	n += (size_t)snprintf(yaml + n, cap - n, "zones:\n");
	for (int i = 0; i < ZONES; i++)   /* 0, 7, 14, ... modulo ZONES: not the sorted order */
		n += (size_t)snprintf(yaml + n, cap - n, "  - name: z%03d.example.\n", (i * 7) % ZONES);
	conf_t *c = expect_ok(yaml);
	free(yaml);
	assert_non_null(c->zone_order);
	for (int k = 0; k < ZONES; k++) {
		char name[32], upper[32];
		snprintf(name, sizeof(name), "z%03d.example.", k);
		snprintf(upper, sizeof(upper), "Z%03d.EXAMPLE", k);
		const conf_zone_t *z = conf_zone_find(c, name);
		assert_non_null(z);
		assert_string_equal(z->name, name);
		assert_ptr_equal(conf_zone_find(c, upper), z);
		snprintf(name, sizeof(name), "z%03da.example.", k);
		assert_null(conf_zone_find(c, name));
	}
	assert_null(conf_zone_find(c, "a.example."));
	assert_null(conf_zone_find(c, "zzz.example."));
	assert_null(conf_zone_find(c, "example."));
	conf_free(c);
}

static void test_single_or_list(void **state)
{
	conf_t *c = expect_ok("keys:\n  - {name: k, algorithm: hmac-sha256, secret: YQ==}\n"
	                      "remotes:\n  - name: p\n    address: 192.0.2.1@5300\n    key: k\n"
	                      "  - name: q\n    address: [\"2001:db8::1\", 192.0.2.2]\n"
	                      "acls:\n  - name: a\n    key: k\n    allow: transfer\n"
	                      "zones:\n  - name: s.example\n    type: secondary\n    primaries: p\n"
	                      "    notify: [q, p]\n    acl: a\n    file: /abs/s.zone\n");
	assert_int_equal(c->remotes[1].address_count, 2);
	assert_addr(&c->remotes[1].addresses[0], "2001:db8::1@53");
	assert_addr(&c->remotes[1].addresses[1], "192.0.2.2@53");
	assert_int_equal(c->acls[0].prefix_count, 0);
	assert_int_equal(c->acls[0].key_count, 1);
	assert_int_equal(c->acls[0].allow, CONF_ALLOW_TRANSFER);
	const conf_zone_t *z = &c->zones[0];
	assert_int_equal(z->primary_count, 1);
	assert_ptr_equal(z->primaries[0], &c->remotes[0]);
	assert_int_equal(z->notify_count, 2);
	assert_ptr_equal(z->notify[0], &c->remotes[1]);
	assert_ptr_equal(z->notify[1], &c->remotes[0]);
	assert_ptr_equal(z->acls[0], &c->acls[0]);
	assert_string_equal(z->file, "/abs/s.zone");
	conf_free(c);
}

static void test_catalog_member(void **state)
{
	conf_t *c = expect_ok("zones:\n"
	                      "  - name: member.example\n    member-of: CATALOG.example\n    group: blue\n"
	                      "  - name: catalog.example\n    catalog: produce\n");
	assert_string_equal(c->zones[0].member_of, "catalog.example.");
	assert_string_equal(c->zones[0].group, "blue");
	assert_int_equal(c->zones[0].line, 2);
	assert_int_equal(c->zones[1].line, 5);
	conf_free(c);
}

static void test_errors_syntax(void **state)
{
	expect_error("server:\n  listen: [1.2.3.4\nzones: x\n", "t.yaml:3: YAML syntax error:");
	expect_error("server:\n  workers: 1\n bad: 2\n", "t.yaml:3: YAML syntax error:");
	expect_error("zones:\n  - name: \"unterminated\n", "YAML syntax error");
	expect_error("server: {}\n---\nzones: []\n", "t.yaml:3: a second YAML document");
	expect_error("- server\n", "t.yaml:1: expected a mapping at the top");
	expect_error("just text\n", "t.yaml:1: expected a mapping at the top");
}

/* Anchors and aliases: an alias reads as the node its anchor names, in a list or as a whole value; an
 * alias to no anchor is refused, and one inside the node it names is that node (a list of zones where
 * a value is expected: refused, no loop). Quoted "null" is text, not null. */
static void test_yaml_anchors_and_aliases(void **state)
{
	conf_t *c = expect_ok("remotes:\n"
	                      "  - name: ns1\n"
	                      "    address: &addr 192.0.2.1\n"
	                      "  - name: ns2\n"
	                      "    address: *addr\n"
	                      "zones:\n"
	                      "  - name: a.example.\n"
	                      "    type: secondary\n"
	                      "    primaries: &both [ns1, ns2]\n"
	                      "  - name: b.example.\n"
	                      "    type: secondary\n"
	                      "    primaries: *both\n");
	assert_int_equal(c->remote_count, 2);
	assert_int_equal(c->zone_count, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(c->zones[i].primary_count, 2);
		assert_ptr_equal(c->zones[i].primaries[0], &c->remotes[0]);
		assert_ptr_equal(c->zones[i].primaries[1], &c->remotes[1]);
	}
	conf_free(c);
	expect_error("zones:\n  - name: a.example.\n    type: primary\n    file: *nowhere\n",
	             "t.yaml:4: YAML syntax error: found undefined alias");
	expect_error("zones: &z\n  - name: a.example.\n    acl: *z\n",
	             "t.yaml:2: zones[0].acl[0]: expected a single value here, not a mapping");
	expect_error("zones:\n  - name: a.example.\n    type: primary\n    file: \"null\"\n    notify: \"null\"\n",
	             "t.yaml:5: zones[0].notify");
}

static void test_errors_keys_and_types(void **state)
{
	expect_error("serve:\n  workers: 1\n", "t.yaml:1: unknown key 'serve'");
	expect_error("server:\n  lissen: 127.0.0.1\n", "t.yaml:2: server: unknown key 'lissen'");
	expect_error("zones:\n  - name: a.\n    primary: [x]\n", "t.yaml:3: zones[0]: unknown key 'primary'");
	expect_error("server:\n  workers: [1, 2]\n", "t.yaml:2: server.workers: expected a number, not a list");
	expect_error("server:\n  identity: {a: b}\n", "server.identity: expected a string, not a mapping");
	expect_error("server:\n  listen: {a: b}\n", "server.listen: expected a list of addresses, not a mapping");
	expect_error("server:\n  listen: [127.0.0.1, [a]]\n", "t.yaml:2: server.listen[1]: expected a single");
	expect_error("server:\n  listen: [127.0.0.1, ~]\n", "server.listen[1]: expected a single value here");
	expect_error("server: [1]\n", "t.yaml:1: server: expected a mapping");
	expect_error("zones:\n  name: a.\n", "t.yaml:2: zones: expected a list");
	expect_error("zones:\n  - a.example\n", "t.yaml:2: zones[0]: expected a mapping");
	expect_error("server:\n  workers: 1\n  workers: 2\n", "t.yaml:3: server.workers: given twice (first at line 2)");
	expect_error("server: {}\nserver: {}\n", "t.yaml:2: server: given twice (first at line 1)");
	expect_error("zones:\n  - type: primary\n", "t.yaml:2: zones[0]: missing 'name'");
	expect_error("zones:\n  - name: ~\n", "zones[0]: missing 'name'");
	expect_error("server:\n  identity: \"a\\0b\"\n", "server.identity: the value contains a NUL");
}

static void test_errors_values(void **state)
{
	expect_error("server:\n  workers: many\n", "t.yaml:2: server.workers: 'many' is not a number");
	expect_error("server:\n  workers: -1\n", "server.workers: '-1' is not a number");
	expect_error("server:\n  udp-payload: 511\n", "server.udp-payload: 511 is out of range (512 to 4096)");
	expect_error("server:\n  udp-payload: 4097\n", "server.udp-payload: 4097 is out of range");
	expect_error("server:\n  tcp-max-clients: 0\n", "server.tcp-max-clients: 0 is out of range");
	expect_error("server:\n  refresh-min: 99999999999\n", "server.refresh-min: 99999999999 is out of range");
	expect_error("server:\n  refresh-min: 1x\n", "server.refresh-min: '1x' is not a number of seconds");
	expect_error("server:\n  refresh-min: 1hm\n", "server.refresh-min: '1hm' is not a number of seconds");
	expect_error("server:\n  refresh-min: 100\n  refresh-max: 50\n",
	             "t.yaml:3: server.refresh-min: 100 is greater than server.refresh-max (50)");
	expect_error("server:\n  retry-min: 4000\n", "t.yaml:2: server.retry-min: 4000 is greater than server.retry-max");
	expect_error("server:\n  expire-max: 60\n", "server.expire-min: 3600 is greater than server.expire-max (60)");
	expect_error("server:\n  listen: 1.2.3.4@99999\n", "t.yaml:2: server.listen: '1.2.3.4@99999' is not an address");
	expect_error("server:\n  listen: []\n", "server.listen: no address to listen on");
	expect_error("server:\n  listen: [127.0.0.1, 127.0.0.1@53]\n", "server.listen: 127.0.0.1@53 is listed twice");
	expect_error("server:\n  source-address: [192.0.2.1, 192.0.2.2]\n",
	             "server.source-address: a second IPv4 address");
	expect_error("server:\n  source-address: [192.0.2.1, \"::1\", \"::2\"]\n", "server.source-address: at most 2");
	expect_error("server:\n  identity: \"\"\n", "server.identity: '' is empty");
	expect_error("server:\n  data-dir: \"\"\n", "server.data-dir: empty path");
	expect_error("http:\n  listen: [127.0.0.1, 127.0.0.2]\n", "http.listen: expected an address, not a list");
	expect_error("http:\n  listen: localhost\n", "http.listen: 'localhost' is not an address");
}

static void test_errors_names(void **state)
{
	expect_error("zones:\n  - name: a..example\n", "t.yaml:2: zones[0].name: 'a..example' is not a valid domain "
	             "name: it has an empty label");
	expect_error("zones:\n  - name: \"a b.example\"\n", "zones[0].name: 'a b.example' is not a valid domain name");
	expect_error("zones:\n  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\n",
	             "has a label longer than 63 octets");
	char long_name[400] = "zones:\n  - name: ";
	for (int i = 0; i < 26; i++)
		strcat(long_name, "abcdefghi.");
	strcat(long_name, "\n");
	expect_error(long_name, "is longer than 255 octets");
	expect_error("zones:\n  - name: \"\"\n", "zones[0].name: '' is not a valid domain name: it is empty");
	expect_error("zones:\n  - name: .example\n", "it has an empty label");
	expect_error("zones:\n  - name: a.example\n  - name: b.example\n  - name: A.Example.\n",
	             "t.yaml:4: zones[2].name: duplicate zone 'a.example.' (first at line 2)");
	expect_error("keys:\n  - {name: k, algorithm: hmac-sha1, secret: YQ==}\n"
	             "  - {name: k., algorithm: hmac-sha1, secret: YQ==}\n",
	             "t.yaml:3: keys[1].name: duplicate key 'k.' (first at line 2)");
	expect_error("remotes:\n  - {name: r, address: 192.0.2.1}\n  - {name: r, address: 192.0.2.2}\n",
	             "t.yaml:3: remotes[1].name: duplicate remote 'r'");
	expect_error("acls:\n  - {name: a, address: 10.0.0.0/8, allow: notify}\n"
	             "  - {name: a, address: 10.0.0.0/8, allow: notify}\n", "t.yaml:3: acls[1].name: duplicate acl 'a'");
	expect_error("remotes:\n  - {name: \"my remote\", address: 192.0.2.1}\n",
	             "remotes[0].name: 'my remote' contains a space");
}

static void test_errors_keys(void **state)
{
	expect_error("keys:\n  - {name: k, algorithm: hmac-sha3, secret: YQ==}\n",
	             "t.yaml:2: keys[0].algorithm: unknown TSIG algorithm 'hmac-sha3'");
	expect_error("keys:\n  - {name: k, algorithm: hmac-sha256, secret: \"Y Q==\"}\n", "keys[0].secret: not a base64");
	expect_error("keys:\n  - {name: k, algorithm: hmac-sha256, secret: \"Y\"}\n", "keys[0].secret: not a base64");
	expect_error("keys:\n  - {name: k, algorithm: hmac-sha256, secret: \"YQ=\"}\n", "keys[0].secret: not a base64");
	expect_error("keys:\n  - {name: k, algorithm: hmac-sha256, secret: \"YQ===\"}\n", "keys[0].secret: not a base64");
	expect_error("keys:\n  - {name: k, algorithm: hmac-sha256, secret: \"=\"}\n", "keys[0].secret: not a base64");
	expect_error("keys:\n  - {name: k, algorithm: hmac-sha256}\n", "t.yaml:2: keys[0]: missing 'secret'");
	expect_error("keys:\n  - {name: k, secret: YQ==}\n", "keys[0]: missing 'algorithm'");
}

static void test_errors_references(void **state)
{
	expect_error("remotes:\n  - name: ns1\n    address: 192.0.2.1\n"
	             "zones:\n  - name: a.example\n    type: secondary\n    primaries: [ns1,\n      ns9]\n",
	             "t.yaml:8: zones[0].primaries: unknown remote 'ns9'");
	expect_error("zones:\n  - name: a.example\n    notify: ns2\n", "t.yaml:3: zones[0].notify: unknown remote 'ns2'");
	expect_error("zones:\n  - name: a.example\n    acl: [nobody]\n", "zones[0].acl: unknown acl 'nobody'");
	expect_error("remotes:\n  - name: r\n    address: 192.0.2.1\n    key: k\n", "t.yaml:4: remotes[0].key: unknown key 'k'");
	expect_error("acls:\n  - name: a\n    key: [k]\n    allow: notify\n", "t.yaml:3: acls[0].key: unknown key 'k'");
	expect_error("remotes:\n  - {name: r, address: 192.0.2.1}\nzones:\n  - name: a.example\n    notify: [r, r]\n",
	             "zones[0].notify: 'r' is listed twice");
	expect_error("remotes:\n  - name: r\n    address: [192.0.2.1, nowhere]\n", "remotes[0].address: 'nowhere' is not");
	expect_error("remotes:\n  - name: r\n", "remotes[0]: missing 'address'");
	expect_error("remotes:\n  - name: r\n    address: []\n", "remotes[0].address: no address");
	expect_error("remotes:\n  - name: r\n    address: 192.0.2.1\n    key: [a, b]\n",
	             "remotes[0].key: expected a name, not a list");
}

static void test_errors_acls(void **state)
{
	expect_error("acls:\n  - name: a\n    allow: transfer\n", "t.yaml:2: acls[0]: give an address or a key");
	expect_error("acls:\n  - name: a\n    address: 10.0.0.0/8\n", "acls[0]: missing 'allow'");
	expect_error("acls:\n  - name: a\n    address: 10.0.0.0/8\n    allow: []\n", "acls[0].allow: empty");
	expect_error("acls:\n  - name: a\n    address: 10.0.0.0/8\n    allow: [transfer, query]\n",
	             "t.yaml:4: acls[0].allow: 'query' is not one of: transfer, notify, update");
	expect_error("acls:\n  - name: a\n    address: [10.1.2.3/8]\n    allow: notify\n",
	             "acls[0].address: '10.1.2.3/8' is not an address or a prefix");
	expect_error("acls:\n  - name: a\n    address: [10.0.0.0/33]\n    allow: notify\n",
	             "acls[0].address: '10.0.0.0/33' is not an address or a prefix");
}

static void test_errors_zones(void **state)
{
	static const char remotes[] = "remotes:\n  - {name: p, address: 192.0.2.1}\nzones:\n";
	char text[512];
	expect_error("zones:\n  - name: a.example\n    type: secondary\n", "t.yaml:2: zones[0]: a secondary zone needs primaries");
	snprintf(text, sizeof(text), "%s  - name: a.example\n    primaries: [p]\n", remotes);
	expect_error(text, "t.yaml:5: zones[0].primaries: only a secondary zone has primaries");
	expect_error("zones:\n  - name: a.example\n    type: master\n", "zones[0].type: 'master' is not one of: primary, secondary");
	snprintf(text, sizeof(text), "%s  - name: c.example\n    catalog: consume\n", remotes);
	expect_error(text, "t.yaml:5: zones[0].catalog: only a secondary zone can consume a catalog");
	snprintf(text, sizeof(text), "%s  - {name: c.example, type: secondary, primaries: p, catalog: produce}\n", remotes);
	expect_error(text, "t.yaml:4: zones[0].catalog: only a primary zone can produce a catalog");
	expect_error("zones:\n  - name: c.example\n    catalog: yes\n", "zones[0].catalog: 'yes' is not one of: produce, consume");
	expect_error("zones:\n  - name: m.example\n    member-of: cat.example\n",
	             "t.yaml:3: zones[0].member-of: unknown zone 'cat.example.'");
	expect_error("zones:\n  - name: m.example\n    member-of: n.example\n  - name: n.example\n",
	             "zones[0].member-of: zone 'n.example.' is not a catalog we produce");
	expect_error("zones:\n  - name: c.example\n    catalog: produce\n    member-of: c.example\n",
	             "zones[0].member-of: a catalog zone cannot be a member of a catalog");
	expect_error("zones:\n  - name: m.example\n    group: blue\n", "t.yaml:3: zones[0].group: only a zone with member-of");
	expect_error("zones:\n  - name: m.example\n    file: \"\"\n", "zones[0].file: empty path");
}

/* Every problem is reported, not just the first; each on its own line with its own line number. */
static void test_errors_all_reported(void **state)
{
	expect_error("server:\n"
	             "  workers: lots\n"
	             "  udp-payload: 1\n"
	             "bogus: 1\n"
	             "zones:\n"
	             "  - name: a.example\n"
	             "    type: secondary\n"
	             "    primaries: [ghost]\n"
	             "  - name: a.example\n",
	             "t.yaml:2: server.workers: 'lots' is not a number");
	assert_logged("t.yaml:3: server.udp-payload: 1 is out of range");
	assert_logged("t.yaml:4: unknown key 'bogus'");
	assert_logged("t.yaml:8: zones[0].primaries: unknown remote 'ghost'");
	assert_logged("t.yaml:9: zones[1].name: duplicate zone 'a.example.' (first at line 6)");
	int lines = 0;
	for (const char *p = logged; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 5);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Relative paths are resolved against the config file's folder. */
/* A key file written by BIND's tsig-keygen is taken as it is. */
static void test_bind_key_file(void **state)
{
	char dir[] = "/tmp/tandem-conf-XXXXXX", key[128], yaml[512];
	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/xfr.key", dir);
	write_file(key, "key \"xfr.example\" {\n\talgorithm hmac-sha512;\n"
	                "\tsecret \"YWJjZGVm\";\n};\n");
	snprintf(yaml, sizeof(yaml), "keys:\n  - name: xfr.example.\n    file: %s\n", key);
	conf_t *c = NULL;
	assert_int_equal(load_logged(yaml, &c), TDM_OK);
	assert_string_equal(c->keys[0].algorithm, "hmac-sha512");
	assert_int_equal(c->keys[0].secret_len, 6);
	assert_memory_equal(c->keys[0].secret, "abcdef", 6);
	conf_free(c);
	snprintf(yaml, sizeof(yaml), "keys:\n  - name: other.\n    file: %s\n", key);
	expect_error(yaml, "keys[0].file: ");
	assert_logged("has no key named other.");
	snprintf(yaml, sizeof(yaml), "keys:\n  - name: xfr.example.\n    file: %s\n"
	         "    algorithm: hmac-sha256\n", key);
	expect_error(yaml, "give either file, or algorithm and secret");
	expect_error("keys:\n  - name: k.\n    file: /nonexistent/k.key\n", "cannot read /nonexistent/k.key");
	unlink(key);
	rmdir(dir);
}

static void test_load_file(void **state)
{
	char dir[] = "/tmp/tandem-conf-XXXXXX", path[128], etc[160];
	assert_non_null(mkdtemp(dir));
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	assert_int_equal(mkdir(etc, 0700), 0);
	snprintf(path, sizeof(path), "%s/etc/tandem.yaml", dir);
	write_file(path, "server:\n  data-dir: ../var\n"
	                 "zones:\n  - name: example.com\n    file: zones/example.com.zone\n"
	                 "  - name: example.net\n    file: ./net.zone\n");
	conf_t *c = NULL;
	assert_int_equal(conf_load(path, &c), TDM_OK);
	char want[256];
	assert_string_equal(c->path, path);
	snprintf(want, sizeof(want), "%s/etc/../var", dir);
	assert_string_equal(c->server.data_dir, want);
	snprintf(want, sizeof(want), "%s/etc/../var/api.key", dir);
	assert_string_equal(c->http.api_key_file, want);
	snprintf(want, sizeof(want), "%s/etc/zones/example.com.zone", dir);
	assert_string_equal(c->zones[0].file, want);
	snprintf(want, sizeof(want), "%s/etc/net.zone", dir);
	assert_string_equal(c->zones[1].file, want);
	conf_free(c);

	write_file(path, "server:\n  workers: x\n");
	c = (conf_t *)&c;
	capture_begin();
	int ret = conf_load(path, &c);
	capture_end();
	assert_int_equal(ret, TDM_ECONF);
	assert_null(c);
	snprintf(want, sizeof(want), "%s:2: server.workers: 'x' is not a number", path);
	assert_logged(want);
	unlink(path);
	capture_begin();
	ret = conf_load(path, &c);
	capture_end();
	assert_int_equal(ret, TDM_ENOENT);
	assert_null(c);
	assert_logged("cannot read the configuration: No such file or directory");
	rmdir(etc);
	rmdir(dir);
}

/* The default config of `make run` loads, and its paths lead where the Makefile expects. */
static void test_shipped_config(void **state)
{
	conf_t *c = NULL;
	if (access("etc/tandem.yaml", R_OK) != 0)
		skip();
	assert_int_equal(conf_load("etc/tandem.yaml", &c), TDM_OK);
	assert_addr(&c->server.listen[0], "127.0.0.1@5300");
	assert_string_equal(c->server.data_dir, "etc/../var");
	assert_addr(&c->http.listen, "127.0.0.1@8053");
	assert_string_equal(c->http.api_key_file, "etc/../var/api.key");
	const conf_zone_t *z = conf_zone_find(c, "example.com");
	assert_non_null(z);
	assert_string_equal(z->file, "etc/zones/example.com.zone");
	assert_int_equal(access(z->file, R_OK), 0);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example_server),
		cmocka_unit_test(test_spec_example_peers),
		cmocka_unit_test(test_spec_example_zones),
		cmocka_unit_test(test_spec_example_verbatim),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_server_options),
		cmocka_unit_test(test_names_and_keys),
		cmocka_unit_test(test_single_or_list),
		cmocka_unit_test(test_catalog_member),
		cmocka_unit_test(test_errors_syntax),
		cmocka_unit_test(test_yaml_anchors_and_aliases),
		cmocka_unit_test(test_errors_keys_and_types),
		cmocka_unit_test(test_errors_values),
		cmocka_unit_test(test_errors_names),
		cmocka_unit_test(test_errors_keys),
		cmocka_unit_test(test_errors_references),
		cmocka_unit_test(test_errors_acls),
		cmocka_unit_test(test_errors_zones),
		cmocka_unit_test(test_errors_all_reported),
		cmocka_unit_test(test_zone_find_many),
		cmocka_unit_test(test_bind_key_file),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_shipped_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
