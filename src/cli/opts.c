/* cli/opts.c -- what the operator commands of `tandem` share: global options, the API key, exit codes */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/opts.h"
#include "lib/error.h"

#define MATCHED 1

static int fail(char *err, size_t size, const char *fmt, const char *arg)
{
	snprintf(err, size, fmt, arg);
	return TDM_EINVAL;
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

void cli_opts_init(cli_opts_t *o, const char *env_server, const char *env_key)
{
	memset(o, 0, sizeof(*o));
	copy(o->server, sizeof(o->server), CLI_DEFAULT_SERVER);
	copy(o->key_file, sizeof(o->key_file), CLI_DEFAULT_KEY_FILE);
	o->key_source = CLI_KEY_DEFAULT_FILE;
	if (env_server != NULL && *env_server != '\0') {
		copy(o->server, sizeof(o->server), env_server);
		o->server_given = true;
	}
	if (env_key != NULL && *env_key != '\0') {
		o->api_key_too_long = strlen(env_key) >= sizeof(o->api_key);
		copy(o->api_key, sizeof(o->api_key), env_key);
		o->key_source = CLI_KEY_ENV;
	}
}

/* "--name VALUE" or "--name=VALUE": *value points at the value, *i moves past it. */
static int option_value(int argc, char **argv, int *i, const char *name, const char **value,
                        char *err, size_t n)
{
	const char *word = argv[*i];
	size_t len = strlen(name);
	if (strncmp(word, name, len) != 0)
		return 0;
	if (word[len] == '=') {
		*value = word + len + 1;
		return MATCHED;
	}
	if (word[len] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return fail(err, n, "%s wants a value", name);
	*value = argv[++*i];
	return MATCHED;
}

static int set_text(char *dst, size_t cap, const char *name, const char *value, char *err, size_t n)
{
	if (*value == '\0')
		return fail(err, n, "%s wants a value", name);
	if (strlen(value) >= cap)
		return fail(err, n, "the value of %s is too long", name);
	copy(dst, cap, value);
	return MATCHED;
}

static int set_timeout(cli_opts_t *o, const char *value, char *err, size_t n)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(value, &end, 10);
	if (!isdigit((unsigned char)*value) || *end != '\0' || errno != 0 || v < 1 ||
	    v > CLI_MAX_TIMEOUT)
		return fail(err, n, "--timeout wants seconds from 1 to 3600, not '%s'", value);
	o->timeout = (unsigned)v;
	return MATCHED;
}

/* Stores the value of a global option that takes one. */
static int set_value(cli_opts_t *o, const char *name, const char *v, char *err, size_t n)
{
	if (strcmp(name, "--server") == 0) {
		o->server_given = true;
		return set_text(o->server, sizeof(o->server), name, v, err, n);
	}
	if (strcmp(name, "--api-key") == 0) {
		o->key_source = CLI_KEY_OPTION;
		return set_text(o->api_key, sizeof(o->api_key), name, v, err, n);
	}
	if (strcmp(name, "--key-file") == 0) {
		/* An explicit file wins over TANDEM_API_KEY, not over --api-key. */
		if (o->key_source != CLI_KEY_OPTION)
			o->key_source = CLI_KEY_FILE;
		return set_text(o->key_file, sizeof(o->key_file), name, v, err, n);
	}
	return set_timeout(o, v, err, n);
}

/* One global option at argv[*i]: MATCHED, 0 when the word is not one, or TDM_EINVAL. */
static int global_option(cli_opts_t *o, int argc, char **argv, int *i, char *err, size_t n)
{
	static const char *const with_value[] = { "--server", "--api-key", "--key-file", "--timeout" };
	const char *word = argv[*i], *v = NULL;
	if (strcmp(word, "--json") == 0) {
		o->json = true;
		return MATCHED;
	}
	if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
		o->help = true;
		return MATCHED;
	}
	for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++) {
		int r = option_value(argc, argv, i, with_value[k], &v, err, n);
		if (r != 0)
			return r == MATCHED ? set_value(o, with_value[k], v, err, n) : r;
	}
	return 0;
}

int cli_opts_leading(cli_opts_t *o, int argc, char **argv, int *used, char *err, size_t errsize)
{
	int i = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		int r = global_option(o, argc, argv, &i, err, errsize);
		if (r < 0)
			return r;
		if (r == 0)
			return fail(err, errsize, "unknown option '%s' (the global options are --server, "
			            "--api-key, --key-file, --timeout, --json)", argv[i]);
	}
	*used = i;
	return TDM_OK;
}

static bool own_flag(const cli_flag_t *flags, size_t nflags, const char *word)
{
	for (size_t f = 0; f < nflags; f++) {
		if (strcmp(word, flags[f].name) == 0) {
			*flags[f].value = true;
			return true;
		}
	}
	return false;
}

int cli_opts_parse(cli_opts_t *o, int argc, char **argv, const cli_flag_t *flags, size_t nflags,
                   char **pos, int *npos, char *err, size_t errsize)
{
	bool options = true;
	*npos = 0;
	for (int i = 0; i < argc; i++) {
		const char *word = argv[i];
		if (!options || word[0] != '-' || word[1] == '\0') {
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (strcmp(word, "--") == 0) {
			options = false;
			continue;
		}
		int r = global_option(o, argc, argv, &i, err, errsize);
		if (r < 0)
			return r;
		if (r == 0 && !own_flag(flags, nflags, word))
			return fail(err, errsize, "unknown option '%s'", word);
	}
	return TDM_OK;
}

/* ---- the API key ---- */

static bool key_chars_ok(const char *key)
{
	for (; *key != '\0'; key++) {
		if (*key <= ' ' || *key > '~')
			return false;
	}
	return true;
}

/* Reads at most cap - 1 octets; a longer file is an error, not a silent cut. */
static int read_key_file(const char *path, char *key, size_t cap, char *err, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		char why[128];
		snprintf(why, sizeof(why), "%s", strerror(e));
		why[0] = (char)tolower((unsigned char)why[0]);
		snprintf(err, n, "cannot read the API key from %s (%s): tandemd writes it to its "
		         "http.api-key-file on first start; give that file with --key-file PATH, or the "
		         "key with --api-key KEY", path, why);
		return -e;
	}
	size_t len = 0;
	ssize_t got;
	while (len < cap && (got = read(fd, key + len, cap - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			close(fd);
			snprintf(err, n, "cannot read the API key from %s (%s)", path, strerror(e));
			return -e;
		}
		len += (size_t)got;
	}
	close(fd);
	if (len >= cap) {
		snprintf(err, n, "%s is not an API key file: longer than %zu octets", path, cap - 1);
		return TDM_ESPACE;
	}
	key[len] = '\0';
	return TDM_OK;
}

/* Drops white space around the first line. */
static void trim_key(char *key)
{
	char *start = key;
	while (*start == ' ' || *start == '\t' || *start == '\r' || *start == '\n')
		start++;
	size_t len = strcspn(start, "\r\n");
	while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
		len--;
	memmove(key, start, len);
	key[len] = '\0';
}

int cli_opts_key(const cli_opts_t *o, char *key, size_t cap, char *err, size_t errsize)
{
	const char *from = o->key_source == CLI_KEY_OPTION ? "--api-key" : "TANDEM_API_KEY";
	if (o->key_source == CLI_KEY_OPTION || o->key_source == CLI_KEY_ENV) {
		if (strlen(o->api_key) >= cap || (o->key_source == CLI_KEY_ENV && o->api_key_too_long))
			return fail(err, errsize, "the key given by %s is too long", from);
		copy(key, cap, o->api_key);
	} else {
		int ret = read_key_file(o->key_file, key, cap, err, errsize);
		if (ret != TDM_OK)
			return ret;
		trim_key(key);
		from = o->key_file;
	}
	if (*key == '\0')
		return fail(err, errsize, "no API key in %s", from);
	if (!key_chars_ok(key))
		return fail(err, errsize, "the API key from %s holds spaces or control characters", from);
	return TDM_OK;
}

/* ---- servers ---- */

static void host_header(const sockaddr_t *sa, const char *name, char *host)
{
	char addr[INET6_ADDRSTRLEN] = "";
	uint16_t port = sockaddr_port(sa);
	if (name != NULL) {
		snprintf(host, CLI_HOST_MAX, "%s:%u", name, port);
		return;
	}
	if (sa->ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&sa->ss)->sin6_addr, addr, sizeof(addr));
		snprintf(host, CLI_HOST_MAX, "[%s]:%u", addr, port);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&sa->ss)->sin_addr, addr, sizeof(addr));
		snprintf(host, CLI_HOST_MAX, "%s:%u", addr, port);
	}
}

static bool parse_port(const char *s, uint16_t *port)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end != '\0' || errno != 0 || v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* "host" or "host@port" through the system resolver. */
static int resolve_name(const char *text, uint16_t port, sockaddr_t *out, char *name, size_t cap)
{
	const char *at = strrchr(text, '@');
	size_t len = at != NULL ? (size_t)(at - text) : strlen(text);
	if (len == 0 || len >= cap || (at != NULL && !parse_port(at + 1, &port)))
		return TDM_EINVAL;
	memcpy(name, text, len);
	name[len] = '\0';
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return TDM_EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	if (out->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&out->ss)->sin_port = htons(port);
	else if (out->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&out->ss)->sin6_port = htons(port);
	else
		return TDM_EINVAL;
	return TDM_OK;
}

int cli_resolve(const char *text, uint16_t default_port, sockaddr_t *out, char *host)
{
	char name[256];
	if (sockaddr_parse(out, text, default_port) == TDM_OK) {
		if (host != NULL)
			host_header(out, NULL, host);
		return TDM_OK;
	}
	int ret = resolve_name(text, default_port, out, name, sizeof(name));
	if (ret == TDM_OK && host != NULL)
		host_header(out, name, host);
	return ret;
}

void cli_opts_usage(FILE *out)
{
	fputs("global options (before the command, or among its words):\n"
	      "  --server ADDR@PORT  the API (default " CLI_DEFAULT_SERVER ", or $TANDEM_API)\n"
	      "  --api-key KEY       the API key (or $TANDEM_API_KEY)\n"
	      "  --key-file PATH     read the key from PATH (default " CLI_DEFAULT_KEY_FILE ")\n"
	      "  --timeout SECONDS   how long to wait for an answer\n"
	      "  --json              print the answer as JSON\n", out);
}
