/* provision/apizone.c -- zones made through the API: their settings, bound to the configuration in force */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"
#include "provision/apizone.h"
#include "runtime/tsigkeys.h"
#include "wire/name.h"

/*
 * DESIGN. As a catalog member (provision/dynzone.c), an API zone holds two conf_zone_t buffers and
 * what each points at (remotes, inline ACLs): a bind writes the buffer readers cannot be using --
 * every bind is followed by a zone set published and a grace period (zones_rebuild, a reload) --
 * after freeing what that buffer held two binds ago. The settings themselves are the JSON the store
 * keeps; names of keys, ACLs and catalogs are looked up in the configuration at every bind.
 */

/* What one buffer's conf_zone_t points at. */
typedef struct {
	conf_remote_t *remotes;          /* primaries, then notify addresses: one address each */
	const conf_remote_t **primaries, **notify;
	size_t nprimaries, nnotify;
	conf_acl_t *inline_acls;
	size_t ninline;
	const conf_acl_t **acls;
	size_t nacls;
	char *member_of, *group;
} apibind_t;

struct apizone {
	struct apizone *next, **pprev;   /* the server's list of live zones, or of dead ones (next only) */
	conf_zone_t confs[2];
	apibind_t binds[2];
	int cur;
	char name[NAME_TEXT_MAX];
	json_t *settings;
	int64_t created;
	bool dead;
};

static void bind_free(apibind_t *b)
{
	for (size_t i = 0; i < b->nprimaries + b->nnotify; i++) {
		free(b->remotes[i].name);
		free(b->remotes[i].addresses);
	}
	for (size_t i = 0; i < b->ninline; i++) {
		free(b->inline_acls[i].name);
		free(b->inline_acls[i].prefixes);
		free(b->inline_acls[i].keys);
	}
	free(b->remotes);
	free(b->primaries);
	free(b->notify);
	free(b->inline_acls);
	free(b->acls);
	free(b->member_of);
	free(b->group);
	memset(b, 0, sizeof(*b));
}

/* ---- checking and binding settings ---- */

typedef struct {
	const conf_t *conf;
	server_t *srv;                   /* for the keys made through the API (NULL: the file's only) */
	bool strict;                     /* an API call: refuse; else (a reload) drop and log */
	const char *zone;
	char *field, *why;
	size_t field_size, why_size;
} ctx_t;

static int fail(ctx_t *c, const char *field, const char *fmt, const char *arg)
{
	snprintf(c->field, c->field_size, "%s", field);
	snprintf(c->why, c->why_size, fmt, arg);
	return TDM_EINVAL;
}

/* A name in its canonical text: lowercase, absolute. */
static bool norm_name(const char *text, char *out, size_t size)
{
	uint8_t wire[NAME_MAXLEN];
	if (text == NULL || *text == '\0' || name_from_text(text, NULL, wire) < 0)
		return false;
	name_copy_lower(wire, wire);
	return name_to_text(wire, out, size) >= 0;
}

static const conf_acl_t *acl_named(const conf_t *conf, const char *name)
{
	for (size_t i = 0; i < conf->acl_count; i++)
		if (strcmp(conf->acls[i].name, name) == 0)
			return &conf->acls[i];
	return NULL;
}

/* A TSIG key of the configuration, or one made through the API (runtime/tsigkeys.h). */
static const conf_key_t *key_find(ctx_t *c, const char *name)
{
	const conf_key_t *key = conf_key_find(c->conf, name);
	tsigkey_t *made = key == NULL && c->srv != NULL ? tsigkeys_find(c->srv, name) : NULL;
	return made != NULL ? &made->conf : key;
}

/* An optional string field: absent or null is NULL; anything but a string is refused. */
static int opt_string(ctx_t *c, json_t *s, const char *field, const char **out)
{
	json_t *v = json_object_get(s, field);
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return TDM_OK;
	if (!json_is_string(v))
		return fail(c, field, "%s must be a string", field);
	*out = json_string_value(v);
	return TDM_OK;
}

/* An optional whole number of seconds within [0, max] (absent or null: *given false). */
static int opt_seconds(ctx_t *c, json_t *s, const char *field, unsigned max, unsigned *out, bool *given)
{
	json_t *v = json_object_get(s, field);
	*out = 0;
	*given = false;
	if (v == NULL || json_is_null(v))
		return TDM_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (json_int_t)max) {
		char why[96];
		snprintf(why, sizeof(why), "%s: whole seconds from 0 to %u", field, max);
		return fail(c, field, "%s", why);
	}
	*out = (unsigned)json_integer_value(v);
	*given = true;
	return TDM_OK;
}

/* An optional array field (absent: empty); at most max items. */
static int opt_array(ctx_t *c, json_t *s, const char *field, size_t max, json_t **out)
{
	json_t *v = json_object_get(s, field);
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return TDM_OK;
	if (!json_is_array(v))
		return fail(c, field, "%s must be a list", field);
	if (json_array_size(v) > max)
		return fail(c, field, "%s: too many items", field);
	*out = v;
	return TDM_OK;
}

/* Addresses "192.0.2.1@53" into remotes (one address each), with the zone's key. */
static int bind_remotes(ctx_t *c, json_t *list, const char *field, const conf_key_t *key,
                        conf_remote_t *remotes, const conf_remote_t **ptrs, json_t *norm)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		char f[64], text[SOCKADDR_STRLEN];
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		sockaddr_t sa;
		if (!json_is_string(v) || sockaddr_parse(&sa, json_string_value(v), 53) != TDM_OK)
			return fail(c, f, "%s: an address is written 192.0.2.1@53 or 2001:db8::1@53", f);
		sockaddr_format(&sa, text, sizeof(text));
		conf_remote_t *r = &remotes[i];
		if ((r->name = strdup(text)) == NULL || (r->addresses = malloc(sizeof(sa))) == NULL)
			return TDM_ENOMEM;
		r->addresses[0] = sa;
		r->address_count = 1;
		r->key = key;
		ptrs[i] = r;
		if (norm != NULL && json_array_append_new(norm, json_string(text)) != 0)
			return TDM_ENOMEM;
	}
	return TDM_OK;
}

static const struct {
	const char *word;
	unsigned bit;
} allow_words[] = {
	{ "transfer", CONF_ALLOW_TRANSFER }, { "notify", CONF_ALLOW_NOTIFY }, { "update", CONF_ALLOW_UPDATE },
};

/* {"addresses": [..], "keys": [..], "allow": [..]} into acl. */
static int bind_inline_acl(ctx_t *c, json_t *o, const char *field, conf_acl_t *acl)
{
	char f[96];
	json_t *addrs = NULL, *keys = NULL, *allow = NULL, *v;
	size_t i;
	const char *k;
	json_object_foreach(o, k, v) {
		if (strcmp(k, "addresses") != 0 && strcmp(k, "keys") != 0 && strcmp(k, "allow") != 0) {
			snprintf(f, sizeof(f), "%s.%s", field, k);
			return fail(c, f, "%s: unknown (addresses, keys, allow)", f);
		}
	}
	snprintf(f, sizeof(f), "%s.addresses", field);
	int ret = opt_array(c, o, "addresses", APIZONE_ADDRS_MAX, &addrs);
	if (ret == TDM_OK && (ret = opt_array(c, o, "keys", APIZONE_ADDRS_MAX, &keys)) == TDM_OK)
		ret = opt_array(c, o, "allow", 3, &allow);
	if (ret != TDM_OK) {
		snprintf(f, sizeof(f), "%s.%s", field, c->field);
		snprintf(c->field, c->field_size, "%s", f);
		return ret;
	}
	if ((acl->name = strdup("(inline)")) == NULL ||
	    (acl->prefixes = calloc(json_array_size(addrs) + 1, sizeof(addr_prefix_t))) == NULL ||
	    (acl->keys = calloc(json_array_size(keys) + 1, sizeof(conf_key_t *))) == NULL)
		return TDM_ENOMEM;
	json_array_foreach(addrs, i, v) {
		snprintf(f, sizeof(f), "%s.addresses[%zu]", field, i);
		if (!json_is_string(v) ||
		    addr_prefix_parse(&acl->prefixes[acl->prefix_count], json_string_value(v)) != TDM_OK)
			return fail(c, f, "%s: an address or prefix (192.0.2.0/24, 2001:db8::/32)", f);
		acl->prefix_count++;
	}
	json_array_foreach(keys, i, v) {
		char name[NAME_TEXT_MAX];
		snprintf(f, sizeof(f), "%s.keys[%zu]", field, i);
		const conf_key_t *key = json_is_string(v) && norm_name(json_string_value(v), name,
		                                                         sizeof(name))
		                        ? key_find(c, name) : NULL;
		if (key == NULL && c->strict)
			return fail(c, f, "%s: no such TSIG key", f);
		if (key == NULL) {
			/* A key gone from the configuration: nobody matches this ACL any more. */
			log_warn("%s: ACL key %s is no longer configured: that ACL lets nobody in", c->zone,
			         json_is_string(v) ? json_string_value(v) : "?");
			acl->prefix_count = 0;
			acl->allow = 0;
			return TDM_OK;
		}
		acl->keys[acl->key_count++] = key;
	}
	json_array_foreach(allow, i, v) {
		snprintf(f, sizeof(f), "%s.allow[%zu]", field, i);
		size_t w = 0;
		while (w < 3 && !(json_is_string(v) &&
		                  strcmp(json_string_value(v), allow_words[w].word) == 0))
			w++;
		if (w == 3)
			return fail(c, f, "%s: one of transfer, notify, update", f);
		acl->allow |= allow_words[w].bit;
	}
	if (acl->allow == 0)
		return fail(c, field, "%s: allow lists nothing (transfer, notify, update)", field);
	return TDM_OK;
}

static int bind_acls(ctx_t *c, json_t *list, apibind_t *b)
{
	size_t n = json_array_size(list), i;
	json_t *v;
	if ((b->acls = calloc(n + 1, sizeof(conf_acl_t *))) == NULL ||
	    (b->inline_acls = calloc(n + 1, sizeof(conf_acl_t))) == NULL)
		return TDM_ENOMEM;
	json_array_foreach(list, i, v) {
		char f[32];
		snprintf(f, sizeof(f), "acl[%zu]", i);
		if (json_is_object(v)) {
			conf_acl_t *acl = &b->inline_acls[b->ninline++];
			int ret = bind_inline_acl(c, v, f, acl);
			if (ret != TDM_OK)
				return ret;
			b->acls[b->nacls++] = acl;
			continue;
		}
		const conf_acl_t *acl = json_is_string(v) ? acl_named(c->conf, json_string_value(v)) : NULL;
		if (!json_is_string(v))
			return fail(c, f, "%s: the name of a configured ACL, or {\"addresses\", \"keys\", "
			            "\"allow\"}", f);
		if (acl == NULL && c->strict)
			return fail(c, f, "%s: no such ACL in the configuration", f);
		if (acl == NULL)
			log_warn("%s: ACL %s is no longer configured: dropped", c->zone, json_string_value(v));
		else
			b->acls[b->nacls++] = acl;
	}
	return TDM_OK;
}

static const char *const known_fields[] = {
	"type", "primaries", "key", "notify", "acl", "member_of", "group", "serial_policy", "notify_delay",
};

static const char *const policies[] = { "increment", "unixtime", "dateserial" };

/* The settings into b and cz (type, serial policy); norm (when not NULL) gets the normalised object. */
static int bind_settings(ctx_t *c, json_t *s, apibind_t *b, conf_zone_t *cz, json_t *norm)
{
	const char *k, *type, *key_name, *member_of, *group, *policy;
	json_t *v, *prim, *notify, *acl;
	json_object_foreach(s, k, v) {
		size_t i = 0;
		while (i < sizeof(known_fields) / sizeof(known_fields[0]) && strcmp(k, known_fields[i]) != 0)
			i++;
		if (i == sizeof(known_fields) / sizeof(known_fields[0]))
			return fail(c, k, "%s: unknown setting", k);
	}
	int ret;
	if ((ret = opt_string(c, s, "type", &type)) != TDM_OK ||
	    (ret = opt_string(c, s, "key", &key_name)) != TDM_OK ||
	    (ret = opt_string(c, s, "member_of", &member_of)) != TDM_OK ||
	    (ret = opt_string(c, s, "group", &group)) != TDM_OK ||
	    (ret = opt_string(c, s, "serial_policy", &policy)) != TDM_OK ||
	    (ret = opt_array(c, s, "primaries", APIZONE_ADDRS_MAX, &prim)) != TDM_OK ||
	    (ret = opt_array(c, s, "notify", APIZONE_ADDRS_MAX, &notify)) != TDM_OK ||
	    (ret = opt_array(c, s, "acl", APIZONE_ACLS_MAX, &acl)) != TDM_OK ||
	    (ret = opt_seconds(c, s, "notify_delay", APIZONE_NOTIFY_DELAY_MAX, &cz->notify_delay,
	                       &cz->notify_delay_set)) != TDM_OK)
		return ret;
	if (type == NULL)
		type = "primary";
	if (strcmp(type, "primary") != 0 && strcmp(type, "secondary") != 0)
		return fail(c, "type", "type: primary or secondary, not %s", type);
	cz->type = strcmp(type, "primary") == 0 ? CONF_ZONE_PRIMARY : CONF_ZONE_SECONDARY;
	if (cz->type == CONF_ZONE_SECONDARY && json_array_size(prim) == 0)
		return fail(c, "primaries", "%s", "a secondary zone needs primaries (addresses)");
	size_t p = 0;
	while (policy != NULL && p < 3 && strcmp(policy, policies[p]) != 0)
		p++;
	if (p == 3)
		return fail(c, "serial_policy", "serial_policy: increment, unixtime or dateserial, not %s",
		            policy);
	cz->serial_policy = (conf_serial_policy_t)(policy != NULL ? p : 0);
	char key_norm[NAME_TEXT_MAX] = "", cat_norm[NAME_TEXT_MAX] = "";
	const conf_key_t *key = NULL;
	if (key_name != NULL) {
		if (!norm_name(key_name, key_norm, sizeof(key_norm)))
			return fail(c, "key", "key: %s is not a key name", key_name);
		key = key_find(c, key_norm);
		if (key == NULL && c->strict)
			return fail(c, "key", "key: no TSIG key %s (configuration or API)", key_norm);
		if (key == NULL)
			log_warn("%s: TSIG key %s is no longer configured: transfers and NOTIFYs go unsigned",
			         c->zone, key_norm);
	}
	if (member_of != NULL) {
		const conf_zone_t *cat = norm_name(member_of, cat_norm, sizeof(cat_norm))
		                         ? conf_zone_find(c->conf, cat_norm) : NULL;
		if ((cat == NULL || cat->catalog != CONF_CATALOG_PRODUCE) && c->strict)
			return fail(c, "member_of", "member_of: %s is not a catalog this server produces",
			            member_of);
		if (cat == NULL || cat->catalog != CONF_CATALOG_PRODUCE)
			log_warn("%s: catalog %s is no longer produced here: the zone leaves it", c->zone,
			         member_of);
		else if ((b->member_of = strdup(cat_norm)) == NULL)
			return TDM_ENOMEM;
	}
	if (group != NULL && (strlen(group) == 0 || strlen(group) >= 256))
		return fail(c, "group", "%s", "group: 1 to 255 characters");
	if (group != NULL && (b->group = strdup(group)) == NULL)
		return TDM_ENOMEM;
	size_t np = json_array_size(prim), nn = json_array_size(notify);
	json_t *prim_norm = json_array(), *notify_norm = json_array();
	if ((b->remotes = calloc(np + nn + 1, sizeof(conf_remote_t))) == NULL ||
	    (b->primaries = calloc(np + 1, sizeof(conf_remote_t *))) == NULL ||
	    (b->notify = calloc(nn + 1, sizeof(conf_remote_t *))) == NULL ||
	    prim_norm == NULL || notify_norm == NULL)
		ret = TDM_ENOMEM;
	if (ret == TDM_OK)
		ret = bind_remotes(c, prim, "primaries", key, b->remotes, b->primaries, prim_norm);
	b->nprimaries = np;   /* what bind_free releases: the entries made so far are zeroed beyond */
	if (ret == TDM_OK)
		ret = bind_remotes(c, notify, "notify", key, b->remotes + np, b->notify, notify_norm);
	b->nnotify = nn;
	if (ret == TDM_OK)
		ret = bind_acls(c, acl, b);
	if (ret == TDM_OK && norm != NULL) {
		json_object_set_new(norm, "type", json_string(type));
		json_object_set(norm, "primaries", prim_norm);
		json_object_set_new(norm, "key", key_name ? json_string(key_norm) : json_null());
		json_object_set(norm, "notify", notify_norm);
		json_object_set_new(norm, "acl", acl != NULL ? json_deep_copy(acl) : json_array());
		json_object_set_new(norm, "member_of", member_of ? json_string(cat_norm) : json_null());
		json_object_set_new(norm, "group", group ? json_string(group) : json_null());
		json_object_set_new(norm, "serial_policy", json_string(policies[cz->serial_policy]));
		json_object_set_new(norm, "notify_delay", cz->notify_delay_set
		                                              ? json_integer(cz->notify_delay) : json_null());
	}
	json_decref(prim_norm);
	json_decref(notify_norm);
	return ret;
}

/* Binds az's settings to conf into its other buffer and makes that one current. */
static int rebind(server_t *srv, apizone_t *az, const conf_t *conf, bool strict, json_t *settings,
                  char *field, size_t field_size, char *why, size_t why_size)
{
	int next = az->cur ^ 1;
	apibind_t *b = &az->binds[next];
	bind_free(b);
	conf_zone_t *cz = &az->confs[next];
	*cz = (conf_zone_t){ .name = az->name, .origin = APIZONE_ORIGIN, .owner = az };
	ctx_t c = { .conf = conf, .srv = srv, .strict = strict, .zone = az->name, .field = field,
	            .field_size = field_size, .why = why, .why_size = why_size };
	int ret = bind_settings(&c, settings, b, cz, NULL);
	if (ret != TDM_OK) {
		bind_free(b);
		return ret;
	}
	cz->primaries = b->primaries;
	cz->primary_count = b->nprimaries;
	cz->notify = b->notify;
	cz->notify_count = b->nnotify;
	cz->acls = b->acls;
	cz->acl_count = b->nacls;
	cz->member_of = b->member_of;
	cz->group = b->group;
	az->cur = next;
	return TDM_OK;
}

int apizone_settings_check(server_t *srv, json_t *settings, char *field, size_t field_size,
                           char *why, size_t why_size)
{
	apibind_t b = { 0 };
	conf_zone_t cz = { 0 };
	json_t *norm = json_object();
	ctx_t c = { .conf = srv->rc->conf, .srv = srv, .strict = true, .zone = "", .field = field,
	            .field_size = field_size, .why = why, .why_size = why_size };
	int ret = norm != NULL ? bind_settings(&c, settings, &b, &cz, norm) : TDM_ENOMEM;
	bind_free(&b);
	if (ret == TDM_OK && json_object_update(settings, norm) != 0)
		ret = TDM_ENOMEM;
	json_decref(norm);
	return ret;
}

/* ---- the list ---- */

apizone_t *apizone_of(const zonert_t *zr)
{
	const conf_zone_t *cz = zr->conf;
	if (cz == NULL || cz->origin == NULL || strcmp(cz->origin, APIZONE_ORIGIN) != 0)
		return NULL;
	apizone_t *az = cz->owner;
	return az != NULL && !az->dead ? az : NULL;
}

/* Out of the list of live zones, into the dead ones: freed by apizone_collect after a grace period
 * (their settings may still be read until then). */
static void kill_zone(server_t *srv, apizone_t *az)
{
	*az->pprev = az->next;
	if (az->next != NULL)
		az->next->pprev = az->pprev;
	az->dead = true;
	az->pprev = NULL;
	az->next = srv->apizones_dead;
	srv->apizones_dead = az;
}

const json_t *apizone_settings(const apizone_t *az)
{
	return az->settings;
}

int64_t apizone_created(const apizone_t *az)
{
	return az->created;
}

static apizone_t *make(server_t *srv, const char *name, json_t *settings, int64_t created,
                       const conf_t *conf, bool strict)
{
	char field[64], why[256];
	apizone_t *az = calloc(1, sizeof(*az));
	if (az == NULL)
		return NULL;
	snprintf(az->name, sizeof(az->name), "%s", name);
	az->created = created;
	if (rebind(srv, az, conf, strict, settings, field, sizeof(field), why, sizeof(why)) != TDM_OK) {
		if (!strict)
			log_err("%s: API zone settings unusable (%s): not served", name, why);
		free(az);
		return NULL;
	}
	az->settings = json_incref(settings);
	az->next = srv->apizones;
	if (az->next != NULL)
		az->next->pprev = &az->next;
	az->pprev = &srv->apizones;
	srv->apizones = az;
	return az;
}

int apizone_add(server_t *srv, const char *name, json_t *settings, int64_t created,
                const conf_zone_t **conf)
{
	apizone_t *az = make(srv, name, settings, created, srv->rc->conf, true);
	if (az == NULL)
		return TDM_ENOMEM;
	*conf = &az->confs[az->cur];
	return TDM_OK;
}

const conf_zone_t *apizone_conf(const apizone_t *az)
{
	return &az->confs[az->cur];
}

int apizone_update(server_t *srv, apizone_t *az, json_t *settings)
{
	char field[64], why[256];
	int ret = rebind(srv, az, srv->rc->conf, true, settings, field, sizeof(field), why, sizeof(why));
	if (ret != TDM_OK)
		return ret;
	json_decref(az->settings);
	az->settings = json_incref(settings);
	return TDM_OK;
}

void apizone_drop(server_t *srv, apizone_t *az)
{
	kill_zone(srv, az);
}

size_t apizone_count(server_t *srv)
{
	size_t n = 0;
	for (apizone_t *az = srv->apizones; az != NULL; az = az->next)
		n++;
	return n;
}

size_t apizone_zones(server_t *srv, const conf_zone_t **out)
{
	size_t n = 0;
	for (apizone_t *az = srv->apizones; az != NULL; az = az->next)
		out[n++] = &az->confs[az->cur];
	return n;
}

static void zone_free(apizone_t *az)
{
	bind_free(&az->binds[0]);
	bind_free(&az->binds[1]);
	json_decref(az->settings);
	free(az);
}

void apizone_collect(server_t *srv)
{
	while (srv->apizones_dead != NULL) {
		apizone_t *az = srv->apizones_dead;
		srv->apizones_dead = az->next;
		zone_free(az);
	}
}

void apizone_free_all(server_t *srv)
{
	apizone_collect(srv);
	while (srv->apizones != NULL) {
		apizone_t *az = srv->apizones;
		srv->apizones = az->next;
		zone_free(az);
	}
}

int apizone_restore(server_t *srv, const conf_t *conf)
{
	store_apizone_t *list = NULL;
	size_t count = 0;
	int ret = store_apizone_list(srv->store, &list, &count);
	for (size_t i = 0; ret == TDM_OK && i < count; i++) {
		if (conf_zone_find(conf, list[i].zone) != NULL) {
			log_warn("%s: made through the API, but now configured in %s: the file's settings "
			         "apply (data kept)", list[i].zone, conf->path);
			store_apizone_delete(srv->store, list[i].zone);
			continue;
		}
		json_error_t err;
		json_t *s = json_loads(list[i].settings, 0, &err);
		if (s == NULL || !json_is_object(s)) {
			log_err("%s: stored API zone settings unreadable (%s): not served", list[i].zone,
			        s == NULL ? err.text : "not an object");
			json_decref(s);
			continue;
		}
		make(srv, list[i].zone, s, list[i].created, conf, false);
		json_decref(s);
	}
	if (count > 0)
		log_info("%zu zones made through the API restored from the store", apizone_count(srv));
	store_apizone_free(list, count);
	return ret;
}

void apizone_bind(server_t *srv, const conf_t *conf)
{
	char field[64], why[256];
	for (apizone_t *az = srv->apizones, *next; az != NULL; az = next) {
		next = az->next;
		if (conf_zone_find(conf, az->name) != NULL) {
			log_warn("%s: made through the API, but now configured in %s: the file's settings "
			         "apply (data kept)", az->name, conf->path);
			store_apizone_delete(srv->store, az->name);
			kill_zone(srv, az);
			continue;
		}
		if (rebind(srv, az, conf, false, az->settings, field, sizeof(field), why, sizeof(why)) ==
		    TDM_OK)
			continue;
		/* The old buffer points into the configuration being replaced: the zone keeps its role
		 * and data, without primaries, ACLs or NOTIFY, until a reload binds it again. */
		log_err("%s: API zone settings unusable with the new configuration (%s): no transfers, "
		        "ACLs or NOTIFY until the next reload", az->name, why);
		int next = az->cur ^ 1;
		bind_free(&az->binds[next]);
		az->confs[next] = (conf_zone_t){ .name = az->name, .origin = APIZONE_ORIGIN, .owner = az,
		                                 .type = az->confs[az->cur].type };
		az->cur = next;
	}
}
