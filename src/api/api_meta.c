/* api/api_meta.c -- the API's keys, metrics, lookup and its OpenAPI document */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_call.h"
#include "api/apikeys.h"
#include "api/apilookup.h"
#include "lib/error.h"
#include "runtime/metrics.h"
#include "runtime/tsigkeys.h"

/*
 * Who may manage keys: a key limited to some zones may not see or make keys (a new key is wider
 * than its maker otherwise), a read key may list them, a write key without a zone list may make and
 * delete them. TSIG secrets are shown once, in the answer that made the key, and then only to a
 * write key that asks with ?secrets=true.
 */
static bool key_admin(const api_call_t *call, api_reply_t *reply)
{
	const api_principal_t *p = call->req->principal;
	if (p->zones != NULL) {
		api_error(reply, 403, "the key %s is limited to some zones: keys are managed by keys "
		          "without a zone list", p->name);
		return false;
	}
	return true;
}

static void field_error(api_reply_t *reply, int status, const char *field, const char *msg)
{
	api_error(reply, status, "%s: %s", field, msg);
	json_object_set_new(reply->body, "field", json_string(field));
}

/* ---- TSIG keys ---- */

static json_t *tsig_json(const char *name, const char *alg, const char *source, int64_t created,
                         const char *secret)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "name", name, "algorithm", alg, "source", source);
	if (j != NULL && created != 0)
		json_object_set_new(j, "created", json_integer(created));
	if (j != NULL && secret != NULL)
		json_object_set_new(j, "secret", json_string(secret));
	return j;
}

static void route_keys(const api_call_t *call, api_reply_t *reply)
{
	if (!key_admin(call, reply))
		return;
	char v[8];
	bool secrets = api_param(call, "secrets", v, sizeof(v)) == 1 &&
	               (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
	if (secrets && !call->req->principal->write)
		return api_error(reply, 403, "the key %s may only read: secrets are shown to write keys",
		                 call->req->principal->name);
	const conf_t *conf = call->srv->rc->conf;
	json_t *list = json_array();
	for (size_t i = 0; list != NULL && i < conf->key_count; i++) {
		const conf_key_t *k = &conf->keys[i];
		char b64[(TSIG_SECRET_MAX + 2) / 3 * 4 + 1];
		if (secrets && tsig_base64_encode(k->secret, k->secret_len, b64, sizeof(b64)) < 0)
			b64[0] = '\0';
		json_array_append_new(list, tsig_json(k->name, k->algorithm, "config", 0,
		                                      secrets ? b64 : NULL));
	}
	for (tsigkey_t *k = call->srv->tsigkeys; list != NULL && k != NULL; k = k->next)
		if (conf_key_find(conf, k->conf.name) == NULL)
			json_array_append_new(list, tsig_json(k->conf.name, k->conf.algorithm, "api",
			                                      k->created, secrets ? k->secret_b64 : NULL));
	reply->body = json_pack("{s:o}", "keys", list);
}

static void route_key_create(const api_call_t *call, api_reply_t *reply)
{
	if (!key_admin(call, reply))
		return;
	json_t *body = api_body_json(call, reply);
	if (body == NULL)
		return;
	const char *name = json_string_value(json_object_get(body, "name"));
	json_t *ja = json_object_get(body, "algorithm"), *js = json_object_get(body, "secret");
	const char *alg = ja != NULL ? json_string_value(ja) : "hmac-sha256";
	const char *secret = js != NULL && !json_is_null(js) ? json_string_value(js) : NULL;
	tsigkey_t *k = NULL;
	int ret = TDM_EINVAL;
	if (name == NULL)
		field_error(reply, 422, "name", "a key name (a domain name) is required");
	else if (alg == NULL)
		field_error(reply, 422, "algorithm", "a string: hmac-sha256 (default), hmac-sha512, ...");
	else if (js != NULL && !json_is_null(js) && secret == NULL)
		field_error(reply, 422, "secret", "base64 text, or leave it out for a random one");
	else
		ret = tsigkeys_create(call->srv, name, alg, secret, &k);
	switch (ret) {
	case TDM_OK:
		reply->status = 201;
		reply->body = tsig_json(k->conf.name, k->conf.algorithm, "api", k->created,
		                        k->secret_b64);
		break;
	case TDM_EINVAL:
		if (reply->body == NULL)
			field_error(reply, 422, "secret", "not base64, empty, or over 1024 octets");
		break;
	case TDM_EPARSE: field_error(reply, 422, "name", "not a domain name"); break;
	case TDM_ENOENT:
		field_error(reply, 422, "algorithm", "unknown: hmac-md5, hmac-sha1, hmac-sha224, "
		            "hmac-sha256, hmac-sha384 or hmac-sha512");
		break;
	case TDM_EEXIST: api_error(reply, 409, "a TSIG key %s exists already", name); break;
	case TDM_ERANGE:
		api_error(reply, 409, "%d TSIG keys made through the API already: delete one first",
		          TSIGKEYS_MAX);
		break;
	default: api_error(reply, 500, "the key was not made: %s", tdm_strerror(ret)); break;
	}
	json_decref(body);
}

static void route_key_delete(const api_call_t *call, api_reply_t *reply)
{
	if (!key_admin(call, reply))
		return;
	const conf_key_t *ck = server_key_find(call->srv, call->params[0]);
	if (ck == NULL)
		return api_error(reply, 404, "no TSIG key %s", call->params[0]);
	if (conf_key_find(call->srv->rc->conf, ck->name) == ck)
		return api_error(reply, 409, "%s is configured in %s: remove it there and reload",
		                 ck->name, call->srv->rc->conf->path);
	char user[NAME_TEXT_MAX + 64], name[NAME_TEXT_MAX];
	snprintf(name, sizeof(name), "%s", ck->name);
	tsigkeys_user(call->srv, name, user, sizeof(user));
	if (user[0] != '\0')
		return api_error(reply, 409, "%s is in use by %s", name, user);
	int ret = tsigkeys_delete(call->srv, name);
	if (ret != TDM_OK)
		return api_error(reply, ret == TDM_ENOENT ? 404 : 500, "%s not deleted: %s", name,
		                 tdm_strerror(ret));
	reply->body = json_pack("{s:s}", "result", "deleted");
}

/* ---- API keys ---- */

static void route_apikeys(const api_call_t *call, api_reply_t *reply)
{
	if (key_admin(call, reply))
		reply->body = apikeys_json(call->srv);
}

static void route_apikey_create(const api_call_t *call, api_reply_t *reply)
{
	if (!key_admin(call, reply))
		return;
	json_t *body = api_body_json(call, reply);
	if (body == NULL)
		return;
	const char *name = json_string_value(json_object_get(body, "name"));
	const char *scope = json_string_value(json_object_get(body, "scope"));
	json_t *zones = json_object_get(body, "zones");
	char key[80];
	size_t bad = 0;
	if (name == NULL) {
		field_error(reply, 422, "name", "a name is required");
	} else if (scope == NULL || (strcmp(scope, "read") != 0 && strcmp(scope, "write") != 0)) {
		field_error(reply, 422, "scope", "\"read\" or \"write\"");
	} else if (zones != NULL && !json_is_null(zones) && !json_is_array(zones)) {
		field_error(reply, 422, "zones", "a list of zone names, or leave it out for every zone");
	} else {
		int ret = apikeys_create(call->srv, name, strcmp(scope, "write") == 0,
		                         json_is_array(zones) ? zones : NULL, key, sizeof(key), &bad);
		char field[32];
		switch (ret) {
		case TDM_OK:
			reply->status = 201;
			reply->body = apikeys_one_json(call->srv, name);
			if (reply->body != NULL)
				json_object_set_new(reply->body, "key", json_string(key));
			break;
		case TDM_EINVAL:
			field_error(reply, 422, "name", "1 to 63 of letters, digits, '.', '_', '-'; "
			            "not \"admin\"");
			break;
		case TDM_EPARSE:
			snprintf(field, sizeof(field), "zones[%zu]", bad);
			field_error(reply, 422, field, "not a zone name");
			break;
		case TDM_EEXIST: api_error(reply, 409, "an API key %s exists already", name); break;
		case TDM_ERANGE:
			api_error(reply, 409, "%d API keys already: delete one first", APIKEYS_MAX);
			break;
		default: api_error(reply, 500, "the key was not made: %s", tdm_strerror(ret)); break;
		}
	}
	json_decref(body);
}

static void route_apikey_delete(const api_call_t *call, api_reply_t *reply)
{
	if (!key_admin(call, reply))
		return;
	const char *name = call->params[0];
	if (strcmp(name, "admin") == 0)
		return api_error(reply, 409, "the admin key is the one in http.api-key-file: change "
		                 "that file (and restart) to replace it");
	int ret = apikeys_delete(call->srv, name);
	if (ret != TDM_OK)
		return api_error(reply, ret == TDM_ENOENT ? 404 : 500, "API key %s: %s", name,
		                 ret == TDM_ENOENT ? "no such key" : tdm_strerror(ret));
	reply->body = json_pack("{s:s}", "result", "deleted");
}

/* ---- metrics, OpenAPI ---- */

static void route_metrics(const api_call_t *call, api_reply_t *reply)
{
	reply->text = metrics_render(call->srv, &reply->text_len);
	reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
	if (reply->text == NULL)
		api_error(reply, 500, "out of memory");
}

/* docs/openapi.json, embedded at build time (the Makefile makes this object depend on it). */
__asm__(".section .rodata\n"
        ".global api_openapi_json\n"
        "api_openapi_json:\n"
        ".incbin \"docs/openapi.json\"\n"
        ".byte 0\n"
        ".previous\n");
extern const char api_openapi_json[];

static void route_openapi(const api_call_t *call, api_reply_t *reply)
{
	size_t len = strlen(api_openapi_json);
	reply->text = malloc(len + 1);
	if (reply->text == NULL)
		return api_error(reply, 500, "out of memory");
	memcpy(reply->text, api_openapi_json, len + 1);
	reply->text_len = len;
	reply->content_type = "application/json";
}

const api_route_t api_routes_meta[] = {
	{ "GET", "keys", route_keys },
	{ "POST", "keys", route_key_create },
	{ "DELETE", "keys/*", route_key_delete },
	{ "GET", "apikeys", route_apikeys },
	{ "POST", "apikeys", route_apikey_create },
	{ "DELETE", "apikeys/*", route_apikey_delete },
	{ "GET", "metrics", route_metrics },
	{ "GET", "lookup", apilookup_route },
	{ "GET", "openapi.json", route_openapi },
	{ NULL, NULL, NULL },
};
