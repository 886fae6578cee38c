/* cli/importconf_knot.c -- import-config: knot.conf (YAML, read with libyaml) */
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "cli/importconf.h"
#include "lib/error.h"

/*
 * knot.conf is YAML: sections server, key, remote, acl, template, zone; list sections hold maps
 * named by id (domain for zones). Knot's ids become Tandem's names as they are. A zone takes
 * master/primary, notify, acl and storage from its template (or the template "default") when it has
 * none of its own; a relative file is under the storage folder, and %s in it is the zone's name.
 * `include:` is not followed (reported).
 */

typedef struct {
	ic_conf_t *ic;
	yaml_document_t doc;
	const char *file;
} knot_t;

static int line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static const char *scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *get(knot_t *k, yaml_node_t *map, const char *key)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *name = scalar(yaml_document_get_node(&k->doc, p->key));
		if (name != NULL && strcmp(name, key) == 0)
			return yaml_document_get_node(&k->doc, p->value);
	}
	return NULL;
}

/* A scalar or a sequence of scalars, each pushed to out. */
static void values(knot_t *k, yaml_node_t *n, ic_strs_t *out, const char *what)
{
	if (n == NULL)
		return;
	if (scalar(n) != NULL) {
		ic_push(k->ic, out, scalar(n));
		return;
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
			const char *v = scalar(yaml_document_get_node(&k->doc, *i));
			if (v != NULL)
				ic_push(k->ic, out, v);
			else
				ic_unmapped(k->ic, k->file, line(n), "%s: a value that is not a word", what);
		}
		return;
	}
	ic_unmapped(k->ic, k->file, line(n), "%s: a map where a value or list belongs", what);
}

/* Every map of a list section. */
#define EACH_ITEM(k, sec, item)                                                                 \
	for (yaml_node_item_t *it_ = (sec) != NULL && (sec)->type == YAML_SEQUENCE_NODE ?       \
	                             (sec)->data.sequence.items.start : NULL;                   \
	     it_ != NULL && it_ < (sec)->data.sequence.items.top; it_++)                        \
		if (((item) = yaml_document_get_node(&(k)->doc, *it_)) != NULL &&               \
		    (item)->type == YAML_MAPPING_NODE)

/* Reports every key of map not in known. */
static void others(knot_t *k, yaml_node_t *map, const char *where, const char *const *known,
                   const char *const *quiet)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&k->doc, p->key);
		const char *name = scalar(kn);
		bool ok = false;
		for (size_t i = 0; name != NULL && known[i] != NULL && !ok; i++)
			ok = strcmp(known[i], name) == 0;
		for (size_t i = 0; name != NULL && quiet != NULL && quiet[i] != NULL && !ok; i++)
			ok = strcmp(quiet[i], name) == 0;
		if (!ok)
			ic_unmapped(k->ic, k->file, line(kn), "%s: %s", where, name != NULL ? name : "?");
	}
}

static const char *const quiet_server[] = {
	"rundir", "udp-workers", "tcp-workers", "background-workers", "tcp-reuseport", "user",
	"pidfile", "nsid", "version", "tcp-max-clients", "tcp-io-timeout", "tcp-idle-timeout",
	"udp-max-payload", "async-start", "edns-client-subnet", "answer-rotation", NULL,
};
static const char *const quiet_zone[] = {
	"journal-content", "zonefile-load", "zonefile-sync", "semantic-checks", "storage", "template",
	"journal-max-usage", "journal-max-depth", "serial-policy", NULL,
};

static void server(knot_t *k, yaml_node_t *s)
{
	static const char *const known[] = { "listen", "identity", NULL };
	if (s == NULL || s->type != YAML_MAPPING_NODE)
		return;
	ic_strs_t listen = { 0 };
	values(k, get(k, s, "listen"), &listen, "server.listen");
	for (size_t i = 0; i < listen.n; i++) {
		const char *a = listen.v[i];
		ic_push(k->ic, &k->ic->listen, strchr(a, '@') ? a : ic_addr_port(k->ic, a, 53));
	}
	free(listen.v);
	if (scalar(get(k, s, "identity")) != NULL)
		k->ic->identity = ic_strdup(k->ic, scalar(get(k, s, "identity")));
	others(k, s, "server", known, quiet_server);
}

static void keys(knot_t *k, yaml_node_t *sec)
{
	static const char *const known[] = { "id", "algorithm", "secret", NULL };
	yaml_node_t *m;
	EACH_ITEM(k, sec, m) {
		ic_key_t *key = ic_key_new(k->ic);
		if (key == NULL)
			return;
		key->name = ic_strdup(k->ic, scalar(get(k, m, "id")) ? scalar(get(k, m, "id")) : "");
		key->algorithm = scalar(get(k, m, "algorithm")) ?
		                 ic_strdup(k->ic, scalar(get(k, m, "algorithm"))) : NULL;
		key->secret = scalar(get(k, m, "secret")) ? ic_strdup(k->ic, scalar(get(k, m, "secret"))) :
		              NULL;
		if (key->name[0] == '\0' || key->algorithm == NULL || key->secret == NULL)
			ic_error(k->ic, k->file, line(m), "a key lacks its id, algorithm or secret");
		others(k, m, "key", known, NULL);
	}
}

static void remotes(knot_t *k, yaml_node_t *sec)
{
	static const char *const known[] = { "id", "address", "key", NULL };
	yaml_node_t *m;
	EACH_ITEM(k, sec, m) {
		const char *id = scalar(get(k, m, "id"));
		if (id == NULL) {
			ic_error(k->ic, k->file, line(m), "a remote without an id");
			continue;
		}
		ic_strs_t addrs = { 0 };
		values(k, get(k, m, "address"), &addrs, "remote.address");
		const char *key = scalar(get(k, m, "key"));
		ic_remote_t *r = ic_remote_new(k->ic, id);
		for (size_t i = 0; r != NULL && i < addrs.n; i++)
			ic_push(k->ic, &r->addresses, strchr(addrs.v[i], '@') ? addrs.v[i] :
			        ic_addr_port(k->ic, addrs.v[i], 53));
		if (r != NULL && key != NULL)
			r->key = ic_strdup(k->ic, key);
		free(addrs.v);
		others(k, m, "remote", known, NULL);
	}
}

static void acls(knot_t *k, yaml_node_t *sec)
{
	static const char *const known[] = { "id", "address", "key", "action", NULL };
	yaml_node_t *m;
	EACH_ITEM(k, sec, m) {
		const char *id = scalar(get(k, m, "id"));
		ic_acl_t *a = id != NULL ? ic_acl_new(k->ic, id) : NULL;
		if (a == NULL) {
			if (id == NULL)
				ic_error(k->ic, k->file, line(m), "an acl without an id");
			continue;
		}
		values(k, get(k, m, "address"), &a->addresses, "acl.address");
		values(k, get(k, m, "key"), &a->keys, "acl.key");
		ic_strs_t actions = { 0 };
		values(k, get(k, m, "action"), &actions, "acl.action");
		for (size_t i = 0; i < actions.n; i++) {
			const char *w = actions.v[i];
			if (strcmp(w, "transfer") == 0)
				a->allow |= IC_ALLOW_TRANSFER;
			else if (strcmp(w, "notify") == 0)
				a->allow |= IC_ALLOW_NOTIFY;
			else if (strcmp(w, "update") == 0)
				a->allow |= IC_ALLOW_UPDATE;
			else
				ic_unmapped(k->ic, k->file, line(m), "acl %s: action %s", id, w);
		}
		free(actions.v);
		for (size_t i = 0; i < a->addresses.n; i++)
			if (strchr(a->addresses.v[i], '-') != NULL)
				ic_unmapped(k->ic, k->file, line(m), "acl %s: the address range %s", id,
				            a->addresses.v[i]);
		others(k, m, "acl", known, (const char *const[]){ "deny", NULL });
		const char *deny = scalar(get(k, m, "deny"));
		if (deny != NULL && strcmp(deny, "off") != 0)
			ic_unmapped(k->ic, k->file, line(m), "acl %s: deny (Tandem's ACLs only allow)", id);
	}
}

/* The template of a zone: its own `template:`, else the one with id default. */
static yaml_node_t *template_of(knot_t *k, yaml_node_t *tpls, yaml_node_t *zone)
{
	const char *want = scalar(get(k, zone, "template"));
	yaml_node_t *m;
	EACH_ITEM(k, tpls, m) {
		const char *id = scalar(get(k, m, "id"));
		if (id != NULL && strcmp(id, want != NULL ? want : "default") == 0)
			return m;
	}
	return NULL;
}

static yaml_node_t *zone_opt(knot_t *k, yaml_node_t *zone, yaml_node_t *tpl, const char *key)
{
	yaml_node_t *v = get(k, zone, key);
	return v != NULL ? v : get(k, tpl, key);
}

static void zones(knot_t *k, yaml_node_t *sec, yaml_node_t *tpls)
{
	static const char *const known[] = { "domain", "file", "master", "primary", "notify", "acl", NULL };
	yaml_node_t *m;
	EACH_ITEM(k, sec, m) {
		const char *domain = scalar(get(k, m, "domain"));
		if (domain == NULL) {
			ic_error(k->ic, k->file, line(m), "a zone without a domain");
			continue;
		}
		yaml_node_t *tpl = template_of(k, tpls, m);
		ic_zone_t *z = ic_zone_new(k->ic, domain);
		if (z == NULL)
			return;
		yaml_node_t *prim = zone_opt(k, m, tpl, "master");
		values(k, prim != NULL ? prim : zone_opt(k, m, tpl, "primary"), &z->primaries, "zone.master");
		z->secondary = z->primaries.n > 0;
		values(k, zone_opt(k, m, tpl, "notify"), &z->notify, "zone.notify");
		values(k, zone_opt(k, m, tpl, "acl"), &z->acls, "zone.acl");
		/* file: %s is the zone's name without the final dot; relative under storage. */
		const char *file = scalar(zone_opt(k, m, tpl, "file"));
		const char *storage = scalar(zone_opt(k, m, tpl, "storage"));
		char *name = ic_strndup(k->ic, domain, strlen(domain) - (domain[strlen(domain) - 1] == '.'));
		const char *f = file != NULL ? file : "%s.zone";
		const char *pct = strstr(f, "%s");
		const char *path = pct != NULL ? ic_printf(k->ic, "%.*s%s%s", (int)(pct - f), f, name,
		                                           pct + 2) : f;
		z->file = ic_path(k->ic, storage, path);
		if (file != NULL && strchr(f, '%') != NULL && pct == NULL)
			ic_unmapped(k->ic, k->file, line(m), "zone %s: a file pattern other than %%s", domain);
		others(k, m, "zone", known, quiet_zone);
	}
}

int ic_read_knot(ic_conf_t *ic, const char *path)
{
	knot_t k = { .ic = ic, .file = path };
	char *text = NULL;
	size_t len;
	int ret = ic_read_file(ic, path, NULL, 0, &text, &len);
	if (ret != TDM_OK)
		return ret;
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		free(text);
		ic->oom = true;
		return TDM_ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &k.doc)) {
		ic_error(ic, path, (int)parser.problem_mark.line + 1, "not YAML: %s",
		         parser.problem != NULL ? parser.problem : "a syntax error");
		yaml_parser_delete(&parser);
		free(text);
		return TDM_EPARSE;
	}
	yaml_node_t *root = yaml_document_get_root_node(&k.doc);
	if (root != NULL && root->type == YAML_MAPPING_NODE) {
		static const char *const known[] = { "server", "key", "remote", "acl", "template", "zone",
		                                     NULL };
		static const char *const quiet[] = { "database", "control", "log", NULL };
		server(&k, get(&k, root, "server"));
		keys(&k, get(&k, root, "key"));
		remotes(&k, get(&k, root, "remote"));
		acls(&k, get(&k, root, "acl"));
		zones(&k, get(&k, root, "zone"), get(&k, root, "template"));
		others(&k, root, "section", known, quiet);
	} else if (root != NULL) {
		ic_error(ic, path, 1, "not a knot.conf: the top is not a map of sections");
	}
	yaml_document_delete(&k.doc);
	yaml_parser_delete(&parser);
	free(text);
	return ic->failed ? TDM_EPARSE : TDM_OK;
}
