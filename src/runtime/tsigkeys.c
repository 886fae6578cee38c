/* runtime/tsigkeys.c -- TSIG keys made through the API: kept in the store, used like configured keys */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <urcu.h>

#include "lib/error.h"
#include "lib/log.h"
#include "runtime/tsigkeys.h"
#include "runtime/zonert.h"
#include "store/keys.h"

/*
 * The keys hang off the server in one list, each in its own allocation, and every runconf carries a
 * snapshot array of pointers to them (rc->api). Adding or deleting a key publishes a new runconf
 * sharing the configuration (RCU); a deleted key is freed after a grace period, once no worker can
 * still verify a request with it.
 */

static void key_free(tsigkey_t *k)
{
	if (k == NULL)
		return;
	free(k->conf.name);
	free(k->conf.algorithm);
	free(k->conf.secret);
	free(k->secret_b64);
	free(k);
}

/* Lowercase absolute text of a key name; TDM_EPARSE when it is no domain name. */
static int normalize(const char *name, char *out, size_t cap)
{
	uint8_t wire[NAME_MAXLEN];
	if (name_from_text(name, NULL, wire) < 0)
		return TDM_EPARSE;
	name_copy_lower(wire, wire);
	return name_to_text(wire, out, cap) < 0 ? TDM_EPARSE : TDM_OK;
}

static tsigkey_t *key_make(const char *name, const char *algorithm, const char *b64, int64_t created,
                           int *err)
{
	uint8_t secret[TSIG_SECRET_MAX];
	size_t blen = strlen(b64);
	int slen = blen == 0 || blen > (TSIG_SECRET_MAX + 2) / 3 * 4 ? TDM_EINVAL
	                                                            : tsig_base64_decode(b64, blen, secret,
	                                                                                 sizeof(secret));
	*err = TDM_EINVAL;
	if (slen <= 0)
		return NULL;
	int alg = tsig_alg_from_text(algorithm);
	if (alg < 0) {
		*err = TDM_ENOENT;
		return NULL;
	}
	*err = TDM_ENOMEM;
	tsigkey_t *k = calloc(1, sizeof(*k));
	if (k == NULL)
		return NULL;
	k->conf.name = strdup(name);
	k->conf.algorithm = strdup(tsig_alg_name(alg));
	k->conf.secret = malloc((size_t)slen);
	k->secret_b64 = strdup(b64);
	k->created = created;
	if (k->conf.name == NULL || k->conf.algorithm == NULL || k->conf.secret == NULL ||
	    k->secret_b64 == NULL) {
		key_free(k);
		return NULL;
	}
	memcpy(k->conf.secret, secret, (size_t)slen);
	k->conf.secret_len = (size_t)slen;
	*err = tsig_key_init(&k->key, k->conf.name, k->conf.algorithm, k->conf.secret,
	                     k->conf.secret_len);
	if (*err != TDM_OK) {
		key_free(k);
		return NULL;
	}
	return k;
}

int tsigkeys_attach(server_t *srv, runconf_t *rc)
{
	size_t n = 0;
	for (tsigkey_t *k = srv->tsigkeys; k != NULL; k = k->next)
		n++;
	tsigkey_t **v = calloc(n ? n : 1, sizeof(*v));
	if (v == NULL)
		return TDM_ENOMEM;
	n = 0;
	for (tsigkey_t *k = srv->tsigkeys; k != NULL; k = k->next)
		if (conf_key_find(rc->conf, k->conf.name) == NULL)   /* the file's key wins */
			v[n++] = k;
	free(rc->api);
	rc->api = v;
	rc->napi = n;
	return TDM_OK;
}

/* A new runconf over the same configuration, with the keys as they are now; the old one is freed
 * (not its configuration) after a grace period. */
static int republish(server_t *srv)
{
	runconf_t *old = srv->rc;
	runconf_t *rc = calloc(1, sizeof(*rc));
	size_t nk = old->conf->key_count;
	if (rc == NULL || (rc->keys = calloc(nk ? nk : 1, sizeof(tsig_key_t))) == NULL) {
		free(rc);
		return TDM_ENOMEM;
	}
	memcpy(rc->keys, old->keys, nk * sizeof(tsig_key_t));
	rc->conf = old->conf;
	if (tsigkeys_attach(srv, rc) != TDM_OK) {
		free(rc->keys);
		free(rc);
		return TDM_ENOMEM;
	}
	rcu_assign_pointer(srv->rc, rc);
	synchronize_rcu();
	free(old->keys);
	free(old->api);
	free(old);
	return TDM_OK;
}

int tsigkeys_load(server_t *srv)
{
	store_tsig_key_t *list;
	size_t count;
	int ret = store_tsig_key_list(srv->store, &list, &count);
	if (ret != TDM_OK)
		return ret;
	tsigkey_t **tail = &srv->tsigkeys;
	for (size_t i = 0; i < count; i++) {
		int err;
		if (conf_key_find(srv->rc->conf, list[i].name) != NULL)
			log_warn("TSIG key %s: made through the API and also in %s: the file's is used",
			         list[i].name, srv->rc->conf->path);
		tsigkey_t *k = key_make(list[i].name, list[i].algorithm, list[i].secret,
		                        list[i].created, &err);
		if (k == NULL) {
			log_err("TSIG key %s of the store: unusable (%s)", list[i].name,
			        tdm_strerror(err));
			if (err == TDM_ENOMEM) {
				store_tsig_keys_free(list, count);
				return err;
			}
			continue;
		}
		*tail = k;
		tail = &k->next;
	}
	store_tsig_keys_free(list, count);
	return srv->tsigkeys != NULL ? republish(srv) : TDM_OK;
}

tsigkey_t *tsigkeys_find(server_t *srv, const char *name)
{
	for (tsigkey_t *k = srv->tsigkeys; k != NULL; k = k->next)
		if (strcmp(k->conf.name, name) == 0)
			return k;
	return NULL;
}

const conf_key_t *server_key_find(server_t *srv, const char *name)
{
	char lname[NAME_TEXT_MAX];
	if (normalize(name, lname, sizeof(lname)) != TDM_OK)
		return NULL;
	const conf_key_t *ck = conf_key_find(srv->rc->conf, lname);
	if (ck != NULL)
		return ck;
	tsigkey_t *k = tsigkeys_find(srv, lname);
	return k != NULL ? &k->conf : NULL;
}

int tsigkeys_create(server_t *srv, const char *name, const char *algorithm, const char *secret_b64,
                    tsigkey_t **out)
{
	char lname[NAME_TEXT_MAX], b64[(TSIG_SECRET_MAX + 2) / 3 * 4 + 1];
	int ret = normalize(name, lname, sizeof(lname));
	if (ret != TDM_OK)
		return ret;
	if (conf_key_find(srv->rc->conf, lname) != NULL || tsigkeys_find(srv, lname) != NULL)
		return TDM_EEXIST;
	size_t count = 0;
	for (const tsigkey_t *k = srv->tsigkeys; k != NULL; k = k->next)
		count++;
	if (count >= TSIGKEYS_MAX)   /* each one made republishes the key set: bounded */
		return TDM_ERANGE;
	int alg = tsig_alg_from_text(algorithm);
	if (alg < 0)
		return TDM_ENOENT;
	if (secret_b64 == NULL) {
		/* RFC 8945 6: a key at least as long as the MAC. */
		uint8_t secret[TSIG_DIGEST_MAX];
		size_t len = tsig_alg_digest_len(alg);
		if (tsig_random(secret, len) != TDM_OK || tsig_base64_encode(secret, len, b64, sizeof(b64)) < 0)
			return TDM_ERROR;
		secret_b64 = b64;
	}
	tsigkey_t *k = key_make(lname, algorithm, secret_b64, (int64_t)time(NULL), &ret);
	if (k == NULL)
		return ret;
	store_tsig_key_t sk = { .name = k->conf.name, .algorithm = k->conf.algorithm,
	                        .secret = k->secret_b64, .created = k->created };
	if ((ret = store_tsig_key_add(srv->store, &sk)) != TDM_OK) {
		key_free(k);
		return ret;
	}
	tsigkey_t **at = &srv->tsigkeys;   /* by name, as the store lists them */
	while (*at != NULL && strcmp((*at)->conf.name, lname) < 0)
		at = &(*at)->next;
	k->next = *at;
	*at = k;
	if ((ret = republish(srv)) != TDM_OK) {
		/* Stored: the next start or reload publishes it. */
		log_err("TSIG key %s: stored, not in use until a reload (%s)", lname, tdm_strerror(ret));
	}
	log_info("TSIG key %s (%s) made through the API", lname, k->conf.algorithm);
	*out = k;
	return TDM_OK;
}

static bool remote_uses(const conf_remote_t *r, const char *name)
{
	return r->key != NULL && strcmp(r->key->name, name) == 0;
}

static bool acl_uses(const conf_acl_t *a, const char *name)
{
	for (size_t i = 0; i < a->key_count; i++)
		if (strcmp(a->keys[i]->name, name) == 0)
			return true;
	return false;
}

static bool zone_uses(const conf_zone_t *cz, const char *name, const char **what)
{
	for (size_t i = 0; i < cz->primary_count; i++)
		if (remote_uses(cz->primaries[i], name))
			return *what = "primaries", true;
	for (size_t i = 0; i < cz->notify_count; i++)
		if (remote_uses(cz->notify[i], name))
			return *what = "notify", true;
	for (size_t i = 0; i < cz->acl_count; i++)
		if (acl_uses(cz->acls[i], name))
			return *what = "acl", true;
	return false;
}

void tsigkeys_user(server_t *srv, const char *name, char *user, size_t cap)
{
	const conf_t *conf = srv->rc->conf;
	const char *what;
	user[0] = '\0';
	for (size_t i = 0; i < zoneset_count(srv->zones); i++) {
		zonert_t *zr = zonert_of(zoneset_at(srv->zones, i));
		if (zr->conf != NULL && zone_uses(zr->conf, name, &what)) {
			snprintf(user, cap, "zone %s (%s)", zr->name, what);
			return;
		}
	}
	for (size_t i = 0; i < conf->remote_count; i++)
		if (remote_uses(&conf->remotes[i], name)) {
			snprintf(user, cap, "remote %s", conf->remotes[i].name);
			return;
		}
	for (size_t i = 0; i < conf->acl_count; i++)
		if (acl_uses(&conf->acls[i], name)) {
			snprintf(user, cap, "acl %s", conf->acls[i].name);
			return;
		}
}

int tsigkeys_delete(server_t *srv, const char *name)
{
	tsigkey_t **p = &srv->tsigkeys;
	while (*p != NULL && strcmp((*p)->conf.name, name) != 0)
		p = &(*p)->next;
	if (*p == NULL)
		return TDM_ENOENT;
	int ret = store_tsig_key_delete(srv->store, name);
	if (ret != TDM_OK && ret != TDM_ENOENT)
		return ret;
	tsigkey_t *k = *p;
	*p = k->next;
	if ((ret = republish(srv)) != TDM_OK) {
		/* Still in the configuration in force: keep it allocated (a small leak, logged). */
		log_err("TSIG key %s: removed from the store, in use until a reload (%s)", name,
		        tdm_strerror(ret));
		return TDM_OK;
	}
	log_info("TSIG key %s deleted through the API", name);
	key_free(k);
	return TDM_OK;
}

void tsigkeys_free(server_t *srv)
{
	while (srv->tsigkeys != NULL) {
		tsigkey_t *k = srv->tsigkeys;
		srv->tsigkeys = k->next;
		key_free(k);
	}
}

const tsig_key_t *runconf_key(const runconf_t *rc, const conf_key_t *key)
{
	if (key == NULL)
		return NULL;
	if (key >= rc->conf->keys && key < rc->conf->keys + rc->conf->key_count)
		return &rc->keys[key - rc->conf->keys];
	for (size_t i = 0; i < rc->napi; i++)   /* a key made through the API */
		if (&rc->api[i]->conf == key)
			return &rc->api[i]->key;
	return NULL;
}
