/* api/apilookup.c -- GET /api/v1/lookup: the lookup tool run from the server, off the control loop */
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/api_call.h"
#include "api/apilookup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lookup/lookup.h"
#include "runtime/tsigkeys.h"

#define ARGS_MAX 12
#define ARG_LEN 1100

/*
 *   handler (control thread)            thread                       control thread
 *   params -> argv, key copied  ---->   lookup_args_parse (may      pipe readable: join,
 *   api_reply_later, 1 running           resolve a host name),  -->  JSON or error reply,
 *                                        lookup_run (--json) into    api_reply_now, slot free
 *                                        memory, one byte on the pipe
 */
typedef struct {
	server_t *srv;
	api_later_t *later;
	pthread_t thread;
	int fds[2];
	struct event *ev;
	int argc;
	char args[ARGS_MAX][ARG_LEN];
	char *argv[ARGS_MAX];
	bool has_key;
	char key_name[NAME_TEXT_MAX], key_alg[32];
	uint8_t key_secret[TSIG_SECRET_MAX];
	size_t key_secret_len;
	/* results, written by the thread, read after the join */
	bool parse_failed;
	char parse_err[256];
	int status;
	char *out, *err;
	size_t out_len, err_len;
} job_t;

static job_t *running;   /* one at a time: the lookup module's session is static */

static void *run(void *arg)
{
	job_t *j = arg;
	lookup_args_t *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		j->status = LOOKUP_EXIT_INTERNAL;
	} else if (lookup_args_parse(a, j->argc, j->argv, j->parse_err, sizeof(j->parse_err)) !=
	           TDM_OK) {
		j->parse_failed = true;
	} else {
		if (j->has_key) {
			a->has_key = true;
			snprintf(a->key_name, sizeof(a->key_name), "%s", j->key_name);
			snprintf(a->key_alg, sizeof(a->key_alg), "%s", j->key_alg);
			memcpy(a->key_secret, j->key_secret, j->key_secret_len);
			a->key_secret_len = j->key_secret_len;
		}
		FILE *out = open_memstream(&j->out, &j->out_len);
		FILE *err = open_memstream(&j->err, &j->err_len);
		j->status = out != NULL && err != NULL ? lookup_run(a, out, err) : LOOKUP_EXIT_INTERNAL;
		if (out != NULL)
			fclose(out);
		if (err != NULL)
			fclose(err);
	}
	free(a);
	char one = 1;
	if (write(j->fds[1], &one, 1) != 1)
		log_err("lookup: cannot wake the control thread");
	return NULL;
}

static void job_free(job_t *j)
{
	if (j->ev != NULL)
		event_free(j->ev);
	if (j->fds[0] >= 0)
		close(j->fds[0]);
	if (j->fds[1] >= 0)
		close(j->fds[1]);
	free(j->out);
	free(j->err);
	free(j);
}

static void done(evutil_socket_t fd, short what, void *arg)
{
	job_t *j = arg;
	pthread_join(j->thread, NULL);
	running = NULL;
	api_reply_t reply = { .status = 200 };
	if (j->parse_failed) {
		api_error(&reply, 422, "%s", j->parse_err);
	} else if (j->status == LOOKUP_EXIT_OK && j->out != NULL) {
		json_error_t e;
		reply.body = json_loadb(j->out, j->out_len, 0, &e);
		if (reply.body == NULL)
			api_error(&reply, 500, "the lookup's answer is not JSON: %s", e.text);
	} else {
		char *msg = j->err != NULL ? j->err : "";
		size_t n = strlen(msg);
		while (n > 0 && msg[n - 1] == '\n')
			msg[--n] = '\0';
		api_error(&reply, j->status == LOOKUP_EXIT_NOREPLY || j->status == LOOKUP_EXIT_MALFORMED
		                  ? 502 : 500, "%s", n > 0 ? msg : "lookup failed");
		json_object_set_new(reply.body, "status", json_integer(j->status));
	}
	api_reply_now(j->later, &reply);
	job_free(j);
}

void apilookup_wait(server_t *srv)
{
	if (running == NULL || running->srv != srv)
		return;
	job_t *j = running;
	pthread_join(j->thread, NULL);
	running = NULL;
	api_reply_t reply = { 0 };
	api_error(&reply, 503, "the server is stopping");
	api_reply_now(j->later, &reply);
	job_free(j);
}

static bool add_arg(job_t *j, const char *fmt, const char *v)
{
	if (j->argc >= ARGS_MAX)
		return false;
	int n = snprintf(j->args[j->argc], ARG_LEN, fmt, v);
	if (n < 0 || n >= ARG_LEN)
		return false;
	j->argv[j->argc] = j->args[j->argc];
	j->argc++;
	return true;
}

/* A parameter that must be a whole number in [lo, hi]; def when absent. -1 after a 422. */
static long number(const api_call_t *call, const char *name, long def, long lo, long hi,
                   api_reply_t *reply)
{
	char v[16], *end;
	int got = api_param(call, name, v, sizeof(v));
	if (got == 0)
		return def;
	long n = got == 1 ? strtol(v, &end, 10) : -1;
	if (got != 1 || *end != '\0' || v[0] == '\0' || n < lo || n > hi) {
		api_error(reply, 422, "%s: a number from %ld to %ld", name, lo, hi);
		json_object_set_new(reply->body, "field", json_string(name));
		return -1;
	}
	return n;
}

static bool flag(const api_call_t *call, const char *name)
{
	char v[8];
	return api_param(call, name, v, sizeof(v)) == 1 &&
	       (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static void field_error(api_reply_t *reply, const char *field, const char *msg)
{
	api_error(reply, 422, "%s: %s", field, msg);
	json_object_set_new(reply->body, "field", json_string(field));
}

/* The question and where to ask, as the words `tandem lookup` takes. */
static bool build(const api_call_t *call, job_t *j, api_reply_t *reply)
{
	char name[NAME_TEXT_MAX], type[32] = "A", server[256] = "", key[NAME_TEXT_MAX];
	if (api_param(call, "name", name, sizeof(name)) != 1 || name[0] == '\0' || name[0] == '+' ||
	    name[0] == '@' || name[0] == '-')
		return field_error(reply, "name", "the name to ask about is missing or malformed"), false;
	char given[32];
	int tgot = api_param(call, "type", given, sizeof(given));
	if (tgot == 1)
		snprintf(type, sizeof(type), "%s", given);
	if (tgot < 0 || type[0] == '\0' || type[0] == '+' || type[0] == '@' || type[0] == '-')
		return field_error(reply, "type", "malformed"), false;
	if (strcasecmp(type, "AXFR") == 0 || strcasecmp(type, "IXFR") == 0)
		return field_error(reply, "type", "zone transfers are not run from the API"), false;
	if (api_param(call, "server", server, sizeof(server)) < 0 || strchr(server, '@') != NULL)
		return field_error(reply, "server", "an address or host name (the port apart)"), false;
	long port = number(call, "port", 0, 1, 65535, reply);
	long timeout = number(call, "timeout", 2, 1, APILOOKUP_TIMEOUT_MAX, reply);
	long tries = number(call, "tries", 2, 1, APILOOKUP_TRIES_MAX, reply);
	if (port < 0 || timeout < 0 || tries < 0)
		return false;
	if (server[0] == '\0') {
		/* Ourselves, on the first listening address, by default. */
		const conf_server_t *cs = &call->srv->rc->conf->server;
		char addr[SOCKADDR_STRLEN];
		if (cs->listen_count > 0) {
			sockaddr_format(&cs->listen[0], addr, sizeof(addr));
			char *at = strrchr(addr, '@');
			if (port == 0 && at != NULL)
				port = strtol(at + 1, NULL, 10);
			if (at != NULL)
				*at = '\0';
			snprintf(server, sizeof(server), "%s", addr);
		} else {
			snprintf(server, sizeof(server), "127.0.0.1");
		}
	}
	char at[300], num[16];
	snprintf(at, sizeof(at), port > 0 ? "@%s@%ld" : "@%s", server, port);
	bool ok = add_arg(j, "%s", name) && add_arg(j, "%s", type) && add_arg(j, "%s", at) &&
	          add_arg(j, "%s", "--json");
	snprintf(num, sizeof(num), "%ld", timeout);
	ok = ok && add_arg(j, "+timeout=%s", num);
	snprintf(num, sizeof(num), "%ld", tries);
	ok = ok && add_arg(j, "+tries=%s", num);
	if (flag(call, "tcp"))
		ok = ok && add_arg(j, "%s", "+tcp");
	if (flag(call, "dnssec"))
		ok = ok && add_arg(j, "%s", "+dnssec");
	if (flag(call, "norec"))
		ok = ok && add_arg(j, "%s", "+norec");
	if (!ok)
		return field_error(reply, "name", "too long"), false;
	int kgot = api_param(call, "key", key, sizeof(key));
	if (kgot < 0)
		return field_error(reply, "key", "malformed"), false;
	if (kgot == 1) {
		/* A TSIG key the server knows (file or API), by name: its secret never leaves. */
		const conf_key_t *k = server_key_find(call->srv, key);
		if (k == NULL) {
			api_error(reply, 404, "no TSIG key %s", key);
			return false;
		}
		j->has_key = true;
		snprintf(j->key_name, sizeof(j->key_name), "%s", k->name);
		snprintf(j->key_alg, sizeof(j->key_alg), "%s", k->algorithm);
		memcpy(j->key_secret, k->secret, k->secret_len);
		j->key_secret_len = k->secret_len;
	}
	return true;
}

void apilookup_route(const api_call_t *call, api_reply_t *reply)
{
	if (running != NULL)
		return api_error(reply, 503, "a lookup is running: one at a time, try again");
	job_t *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return api_error(reply, 500, "out of memory");
	j->fds[0] = j->fds[1] = -1;
	j->srv = call->srv;
	if (!build(call, j, reply)) {
		job_free(j);
		return;
	}
	if (pipe2(j->fds, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    (j->ev = event_new(call->srv->base, j->fds[0], EV_READ, done, j)) == NULL ||
	    event_add(j->ev, NULL) != 0) {
		job_free(j);
		return api_error(reply, 500, "cannot start the lookup");
	}
	if ((j->later = api_reply_later(call->req, reply)) == NULL) {
		job_free(j);
		return api_error(reply, 500, "out of memory");
	}
	if (pthread_create(&j->thread, NULL, run, j) != 0) {
		api_reply_t r = { 0 };
		api_error(&r, 503, "cannot start the lookup thread");
		api_reply_now(j->later, &r);
		job_free(j);
		return;
	}
	running = j;
}
