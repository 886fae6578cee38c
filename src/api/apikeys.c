/* api/apikeys.c -- named API keys: read or write, optionally limited to zones; kept hashed in the store */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/apikeys.h"
#include "lib/error.h"
#include "lib/log.h"
#include "store/keys.h"
#include "tsig/tsig_openssl.h"
#include "wire/name.h"

#define HASH_LEN 32
/* The HMAC key that turns an API key into what the store keeps (not a secret: a domain separator). */
static const char hash_label[] = "tandem API key v1";

typedef struct {
	char name[API_KEY_NAME_MAX + 1];
	bool write;
	char *zones;                   /* NULL or " a. b. " */
	uint8_t hash[HASH_LEN];
	int64_t created;
} apikey_t;

struct apikeys {
	apikey_t *v;
	size_t n, cap;
	tsig_hmac_t *hmac;             /* reused for every request */
};

static int hash_key(tsig_hmac_t *h, const char *key, uint8_t out[HASH_LEN])
{
	uint8_t mac[TSIG_DIGEST_MAX];
	size_t len;
	if (tsig_hmac_begin(h, TSIG_ALG_HMAC_SHA256, (const uint8_t *)hash_label,
	                    sizeof(hash_label) - 1) != TDM_OK)
		return TDM_ERROR;
	tsig_hmac_update(h, key, strlen(key));
	if (tsig_hmac_end(h, mac, &len) != TDM_OK || len != HASH_LEN)
		return TDM_ERROR;
	memcpy(out, mac, HASH_LEN);
	return TDM_OK;
}

static void hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static bool unhex(const char *in, uint8_t *out, size_t len)
{
	if (strlen(in) != 2 * len)
		return false;
	for (size_t i = 0; i < 2 * len; i++) {
		char c = in[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return false;
		out[i / 2] = (uint8_t)(i % 2 ? (out[i / 2] | v) : v << 4);
	}
	return true;
}

static int append(struct apikeys *ks, const apikey_t *k)
{
	if (ks->n == ks->cap) {
		size_t ncap = ks->cap ? ks->cap * 2 : 8;
		apikey_t *g = realloc(ks->v, ncap * sizeof(*g));
		if (g == NULL)
			return TDM_ENOMEM;
		ks->v = g;
		ks->cap = ncap;
	}
	size_t i = ks->n;   /* by name, as the store lists them */
	while (i > 0 && strcmp(ks->v[i - 1].name, k->name) > 0)
		i--;
	memmove(&ks->v[i + 1], &ks->v[i], (ks->n - i) * sizeof(ks->v[0]));
	ks->v[i] = *k;
	ks->n++;
	return TDM_OK;
}

int apikeys_load(server_t *srv)
{
	struct apikeys *ks = calloc(1, sizeof(*ks));
	if (ks == NULL || (ks->hmac = tsig_hmac_new()) == NULL) {
		free(ks);
		return TDM_ENOMEM;
	}
	srv->apikeys = ks;
	store_apikey_t *list;
	size_t count;
	int ret = store_apikey_list(srv->store, &list, &count);
	if (ret != TDM_OK)
		return ret;
	for (size_t i = 0; ret == TDM_OK && i < count; i++) {
		apikey_t k = { .write = list[i].write, .created = list[i].created };
		if (strlen(list[i].name) > API_KEY_NAME_MAX || !unhex(list[i].hash, k.hash, HASH_LEN)) {
			log_err("API key %s of the store: unusable, ignored", list[i].name);
			continue;
		}
		snprintf(k.name, sizeof(k.name), "%s", list[i].name);
		if (list[i].zones != NULL && (k.zones = strdup(list[i].zones)) == NULL)
			ret = TDM_ENOMEM;
		else if ((ret = append(ks, &k)) != TDM_OK)
			free(k.zones);
	}
	store_apikeys_free(list, count);
	return ret;
}

bool apikeys_auth(void *ctx, const char *key, api_principal_t *p)
{
	server_t *srv = ctx;
	struct apikeys *ks = srv->apikeys;
	uint8_t h[HASH_LEN];
	if (ks == NULL || ks->n == 0 || hash_key(ks->hmac, key, h) != TDM_OK)
		return false;
	/* Every stored hash is compared, in constant time each: the time says nothing of which. */
	const apikey_t *found = NULL;
	for (size_t i = 0; i < ks->n; i++)
		if (tsig_mac_equal(ks->v[i].hash, h, HASH_LEN) && found == NULL)
			found = &ks->v[i];
	if (found == NULL)
		return false;
	snprintf(p->name, sizeof(p->name), "%s", found->name);
	p->write = found->write;
	p->zones = NULL;
	if (found->zones != NULL && (p->zones = strdup(found->zones)) == NULL)
		return false;   /* out of memory: refused rather than widened to every zone */
	return true;
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > API_KEY_NAME_MAX || strcmp(name, "admin") == 0)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* " a. b. " from a JSON array of names; NULL with *err set on failure. */
static char *zones_text(const json_t *zones, size_t *bad, int *err)
{
	size_t cap = json_array_size(zones) * (NAME_TEXT_MAX + 1) + 2;
	char *out = malloc(cap);
	*err = TDM_ENOMEM;
	if (out == NULL)
		return NULL;
	strcpy(out, " ");
	for (size_t i = 0; i < json_array_size(zones); i++) {
		const char *z = json_string_value(json_array_get(zones, i));
		uint8_t wire[NAME_MAXLEN];
		char text[NAME_TEXT_MAX];
		if (z == NULL || name_from_text(z, NULL, wire) < 0 ||
		    (name_copy_lower(wire, wire), name_to_text(wire, text, sizeof(text))) < 0 ||
		    strchr(text, ' ') != NULL) {
			*bad = i;
			*err = TDM_EPARSE;
			free(out);
			return NULL;
		}
		size_t used = strlen(out);
		snprintf(out + used, cap - used, "%s ", text);
	}
	*err = TDM_OK;
	return out;
}

int apikeys_create(server_t *srv, const char *name, bool write, const json_t *zones, char *key,
                   size_t cap, size_t *bad)
{
	struct apikeys *ks = srv->apikeys;
	if (!name_ok(name))
		return TDM_EINVAL;
	for (size_t i = 0; i < ks->n; i++)
		if (strcmp(ks->v[i].name, name) == 0)
			return TDM_EEXIST;
	/* Every request without the admin key is compared with every key: their number is bounded. */
	if (ks->n >= APIKEYS_MAX)
		return TDM_ERANGE;
	int ret = TDM_OK;
	apikey_t k = { .write = write, .created = (int64_t)time(NULL) };
	snprintf(k.name, sizeof(k.name), "%s", name);
	if (zones != NULL && (k.zones = zones_text(zones, bad, &ret)) == NULL)
		return ret;
	uint8_t raw[32];
	char hashhex[2 * HASH_LEN + 1];
	if (cap < 2 * sizeof(raw) + 1 || tsig_random(raw, sizeof(raw)) != TDM_OK) {
		free(k.zones);
		return TDM_ERROR;
	}
	hex(raw, sizeof(raw), key);
	if (hash_key(ks->hmac, key, k.hash) != TDM_OK) {
		free(k.zones);
		return TDM_ERROR;
	}
	hex(k.hash, HASH_LEN, hashhex);
	store_apikey_t sk = { .name = k.name, .write = write, .zones = k.zones, .hash = hashhex,
	                      .created = k.created };
	if ((ret = store_apikey_add(srv->store, &sk)) != TDM_OK || (ret = append(ks, &k)) != TDM_OK) {
		if (ret == TDM_ENOMEM)
			store_apikey_delete(srv->store, name);
		free(k.zones);
		return ret;
	}
	log_info("API key %s (%s%s%.*s) made", name, write ? "write" : "read",
	         k.zones ? ", zones" : "", k.zones ? (int)strlen(k.zones) - 1 : 0,
	         k.zones ? k.zones : "");
	return TDM_OK;
}

int apikeys_delete(server_t *srv, const char *name)
{
	struct apikeys *ks = srv->apikeys;
	for (size_t i = 0; i < ks->n; i++) {
		if (strcmp(ks->v[i].name, name) != 0)
			continue;
		int ret = store_apikey_delete(srv->store, name);
		if (ret != TDM_OK && ret != TDM_ENOENT)
			return ret;
		free(ks->v[i].zones);
		memmove(&ks->v[i], &ks->v[i + 1], (ks->n - i - 1) * sizeof(ks->v[0]));
		ks->n--;
		log_info("API key %s deleted", name);
		return TDM_OK;
	}
	return TDM_ENOENT;
}

static json_t *zones_json(const char *zones)
{
	if (zones == NULL)
		return json_null();
	json_t *a = json_array();
	for (const char *p = zones; a != NULL && *p != '\0';) {
		p += strspn(p, " ");
		size_t n = strcspn(p, " ");
		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		p += n;
	}
	return a;
}

static json_t *key_json(const apikey_t *k)
{
	return json_pack("{s:s, s:s, s:o, s:I}", "name", k->name, "scope", k->write ? "write" : "read",
	                 "zones", zones_json(k->zones), "created", (json_int_t)k->created);
}

json_t *apikeys_json(server_t *srv)
{
	struct apikeys *ks = srv->apikeys;
	json_t *a = json_array();
	json_array_append_new(a, json_pack("{s:s, s:s, s:n, s:n, s:s}", "name", "admin", "scope",
	                                   "write", "zones", "created", "source", "api-key-file"));
	for (size_t i = 0; a != NULL && ks != NULL && i < ks->n; i++) {
		json_t *j = key_json(&ks->v[i]);
		if (j != NULL)
			json_object_set_new(j, "source", json_string("api"));
		json_array_append_new(a, j);
	}
	return json_pack("{s:o}", "apikeys", a);
}

json_t *apikeys_one_json(server_t *srv, const char *name)
{
	struct apikeys *ks = srv->apikeys;
	for (size_t i = 0; ks != NULL && i < ks->n; i++)
		if (strcmp(ks->v[i].name, name) == 0)
			return key_json(&ks->v[i]);
	return NULL;
}

void apikeys_free(server_t *srv)
{
	struct apikeys *ks = srv->apikeys;
	if (ks == NULL)
		return;
	for (size_t i = 0; i < ks->n; i++)
		free(ks->v[i].zones);
	free(ks->v);
	tsig_hmac_free(ks->hmac);
	free(ks);
	srv->apikeys = NULL;
}
