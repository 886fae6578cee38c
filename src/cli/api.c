/* cli/api.c -- one call to tandemd's HTTP API for the CLI, with errors a person can act on */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/http.h"
#include "lib/error.h"

#define MSG_MAX 1024

const char *cli_api_transport_message(int code, const char *server, unsigned timeout, char *buf,
                                      size_t size)
{
	char why[128];
	switch (code) {
	case TDM_ETIMEDOUT:
		snprintf(buf, size, "the API at %s did not answer within %u s: is tandemd running, and is "
		         "that its http.listen address?", server, timeout);
		return buf;
	case -EPIPE:
	case -ECONNRESET:
		snprintf(buf, size, "the API at %s closed the connection before its reply was complete: is "
		         "that tandemd's http.listen address?", server);
		return buf;
	case TDM_EMALF:
		snprintf(buf, size, "%s did not answer in HTTP/1.1 as tandemd's API does: is that "
		         "tandemd's http.listen address?", server);
		return buf;
	case TDM_ESPACE:
		snprintf(buf, size, "the reply of the API at %s is larger than %u MiB; giving up", server,
		         CLI_HTTP_BODY_MAX >> 20);
		return buf;
	case TDM_ENOMEM:
		snprintf(buf, size, "out of memory");
		return buf;
	}
	/* strerror()'s "Connection refused" reads better inside a sentence in lower case. */
	snprintf(why, sizeof(why), "%s", tdm_strerror(code));
	why[0] = (char)tolower((unsigned char)why[0]);
	snprintf(buf, size, "cannot connect to the API at %s (%s): is tandemd running with http.listen "
	         "set?", server, why);
	return buf;
}

/* The API's own words: {"error": "..."}. */
static const char *api_error(json_t *j)
{
	json_t *e = json_is_object(j) ? json_object_get(j, "error") : NULL;
	return json_is_string(e) && json_string_length(e) > 0 ? json_string_value(e) : NULL;
}

static const char *key_hint(const cli_opts_t *o, char *buf, size_t size)
{
	switch (o->key_source) {
	case CLI_KEY_OPTION:
		return "check --api-key";
	case CLI_KEY_ENV:
		return "check TANDEM_API_KEY";
	case CLI_KEY_FILE:
		snprintf(buf, size, "check --key-file (%s)", o->key_file);
		return buf;
	default:
		return "check --key-file (default " CLI_DEFAULT_KEY_FILE ")";
	}
}

const char *cli_api_status_message(const cli_opts_t *o, int status, const char *body, char *buf,
                                   size_t size)
{
	json_t *j = body != NULL ? json_loads(body, JSON_DECODE_ANY, NULL) : NULL;
	const char *said = api_error(j);
	char hint[CLI_TEXT_MAX + 32];
	if (status == 401) {
		snprintf(buf, size, "the API refused the key (401): %s", key_hint(o, hint, sizeof(hint)));
	} else if (said != NULL) {
		snprintf(buf, size, "%s (%d)", said, status);
	} else if (status == 404) {
		snprintf(buf, size, "not found (404): does this tandemd serve that zone, and is its API "
		         "as new as this tandem?");
	} else {
		snprintf(buf, size, "the API at %s answered HTTP %d", o->server, status);
	}
	json_decref(j);
	return buf;
}

int cli_api_exit_status(int status)
{
	if (status >= 200 && status <= 299)
		return CLI_EXIT_OK;
	return status == 404 ? CLI_EXIT_NOTFOUND : CLI_EXIT_API;
}

static bool unreserved(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int cli_api_zone_path(const char *zone, const char *action, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char prefix[] = "/zones/";
	if (*zone == '\0')
		return TDM_EINVAL;
	if (cap < sizeof(prefix))
		return TDM_ESPACE;
	memcpy(out, prefix, sizeof(prefix));
	size_t n = sizeof(prefix) - 1;
	for (const char *p = zone; *p != '\0'; p++) {
		if (n + 4 > cap)
			return TDM_ESPACE;
		if (unreserved(*p)) {
			out[n++] = *p;
			continue;
		}
		out[n++] = '%';
		out[n++] = hex[(unsigned char)*p >> 4];
		out[n++] = hex[(unsigned char)*p & 15];
	}
	int m = snprintf(out + n, cap - n, "%s%s", action != NULL ? "/" : "",
	                 action != NULL ? action : "");
	return m >= 0 && (size_t)m < cap - n ? TDM_OK : TDM_ESPACE;
}

int cli_api_print_json(FILE *out, const json_t *j)
{
	if (json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) != 0 ||
	    fputc('\n', out) == EOF)
		return TDM_EIO;
	return TDM_OK;
}

/* A 2xx body as JSON; an empty one is null. */
static int parse_body(const cli_opts_t *o, const cli_http_reply_t *r, json_t **out, FILE *err)
{
	json_error_t e;
	if (r->body_len == 0) {
		*out = json_null();
		return CLI_EXIT_OK;
	}
	*out = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, &e);
	if (*out == NULL) {
		fprintf(err, "tandem: the API at %s sent a reply that is not JSON (%s, at octet %d)\n",
		        o->server, e.text, e.position);
		return CLI_EXIT_API;
	}
	return CLI_EXIT_OK;
}

/* The key and the address, or a usage problem. */
static int prepare(const cli_opts_t *o, char *key, sockaddr_t *sa, char *host, FILE *err)
{
	char msg[MSG_MAX];
	if (cli_opts_key(o, key, CLI_KEY_MAX, msg, sizeof(msg)) != TDM_OK) {
		fprintf(err, "tandem: %s\n", msg);
		return CLI_EXIT_USAGE;
	}
	if (cli_resolve(o->server, CLI_DEFAULT_PORT, sa, host) != TDM_OK) {
		fprintf(err, "tandem: --server wants ADDRESS@PORT (like %s), not '%s'\n",
		        CLI_DEFAULT_SERVER, o->server);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

int cli_api_call(const cli_opts_t *o, const char *method, const char *path, json_t **out, FILE *err)
{
	return cli_api_send(o, method, path, NULL, out, err);
}

int cli_api_send(const cli_opts_t *o, const char *method, const char *path, const json_t *body,
                 json_t **out, FILE *err)
{
	char msg[MSG_MAX];
	cli_http_reply_t r;
	cli_http_request_t extra = { 0 };
	char *text = NULL;
	*out = NULL;
	if (body != NULL) {
		if ((text = json_dumps(body, JSON_COMPACT)) == NULL) {
			fprintf(err, "tandem: out of memory\n");
			return CLI_EXIT_API;
		}
		extra.body = text;
		extra.body_len = strlen(text);
	}
	int status = cli_api_request(o, method, path, &extra, &r, err);
	free(text);
	if (status != CLI_EXIT_OK)
		return status;
	status = cli_api_exit_status(r.status);
	if (status == CLI_EXIT_OK)
		status = parse_body(o, &r, out, err);
	else
		fprintf(err, "tandem: %s\n", cli_api_status_message(o, r.status, r.body, msg, sizeof(msg)));
	cli_http_reply_free(&r);
	return status;
}

int cli_api_request(const cli_opts_t *o, const char *method, const char *path,
                    const cli_http_request_t *extra, cli_http_reply_t *r, FILE *err)
{
	char key[CLI_KEY_MAX], host[CLI_HOST_MAX], url[CLI_PATH_MAX], msg[MSG_MAX];
	sockaddr_t sa;
	unsigned timeout = o->timeout != 0 ? o->timeout : CLI_DEFAULT_TIMEOUT;
	memset(r, 0, sizeof(*r));
	int status = prepare(o, key, &sa, host, err);
	if (status != CLI_EXIT_OK)
		return status;
	int n = snprintf(url, sizeof(url), "%s%s", CLI_API_PREFIX, path);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		fprintf(err, "tandem: the request path is too long\n");
		return CLI_EXIT_USAGE;
	}
	cli_http_request_t req = *extra;
	req.method = method;
	req.path = url;
	req.host = host;
	req.api_key = key;
	int ret = cli_http_request(&sa, &req, timeout, r);
	if (ret != TDM_OK) {
		fprintf(err, "tandem: %s\n", cli_api_transport_message(ret, o->server, timeout, msg,
		                                                        sizeof(msg)));
		return CLI_EXIT_API;
	}
	return CLI_EXIT_OK;
}

int cli_api_show(const cli_opts_t *o, const char *path, cli_api_printer print, void *arg, FILE *out,
                 FILE *err)
{
	json_t *j;
	int status = cli_api_call(o, "GET", path, &j, err);
	if (status != CLI_EXIT_OK)
		return status;
	int ret = o->json ? cli_api_print_json(out, j) : print(out, j, arg);
	if (ret == TDM_OK && fflush(out) != 0)
		ret = TDM_EIO;
	json_decref(j);
	if (ret != TDM_OK) {
		fprintf(err, "tandem: cannot show the answer: %s\n", tdm_strerror(ret));
		return CLI_EXIT_API;
	}
	return CLI_EXIT_OK;
}
