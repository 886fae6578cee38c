/* cli/importconf_nsd.c -- import-config: nsd.conf (clauses at the margin, indented "key: value" lines) */
#include <stdlib.h>
#include <string.h>

#include "cli/importconf.h"
#include "lib/error.h"

/*
 * A clause starts with a word and a colon at the margin (server:, key:, zone:, pattern:), its options
 * are the "name: value" lines after it; '#' starts a comment outside quotes. `include: "file"` is
 * followed where it stands (relative paths from the including file's folder, no glob patterns).
 * Per zone, request-xfr makes it a secondary of that address, notify a remote told of changes,
 * provide-xfr and allow-notify ACLs of one address and key each (NOKEY: none; BLOCKED: not mapped).
 */

typedef enum { C_NONE, C_SERVER, C_KEY, C_ZONE, C_OTHER } clause_t;

typedef struct {
	ic_conf_t *ic;
	clause_t clause;
	ic_key_t *key;
	ic_zone_t *zone;
	unsigned port;               /* server: port, for ip-address without @ */
	ic_strs_t addrs;             /* server: ip-address as written */
	const char *zonesdir;
	const char *file;
	int line;
} nsd_t;

static const char *const quiet_server[] = {
	"server-count", "rrl-ratelimit", "username", "chroot", "pidfile", "database", "xfrdfile",
	"xfrdir", "zonelistfile", "logfile", "verbosity", "nsid", "tcp-timeout", "hide-version",
	"tcp-count", "ip-freebind", "reuseport", "do-ip4", "do-ip6", "ip-transparent", "statistics",
	"xfrd-reload-timeout", "zonefiles-check", "zonefiles-write", NULL,
};

static const char *const quiet_zone[] = {
	"store-ixfr", "create-ixfr", "allow-axfr-fallback", "ixfr-size", "ixfr-number", NULL,
};

static bool in(const char *const *list, const char *w)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], w) == 0)
			return true;
	return false;
}

/* Splits value into white-space separated words (quotes dropped); at most max. */
static size_t words(char *value, char **out, size_t max)
{
	size_t n = 0;
	for (char *p = value; *p != '\0' && n < max;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		if (*p == '"') {
			char *end = strchr(p + 1, '"');
			out[n++] = p + 1;
			if (end == NULL)
				break;
			*end = '\0';
			p = end + 1;
		} else {
			out[n++] = p;
			p += strcspn(p, " \t");
			if (*p != '\0')
				*p++ = '\0';
		}
	}
	return n;
}

/* "addr[@port]" as addr@port; the address part stripped of @port for ACLs. */
static const char *with_port(nsd_t *n, const char *a, unsigned dflt)
{
	return strchr(a, '@') != NULL ? ic_strdup(n->ic, a) : ic_addr_port(n->ic, a, dflt);
}

/* A zone's request-xfr, notify, provide-xfr, allow-notify: ADDRESS KEY|NOKEY|BLOCKED. */
static void zone_peer(nsd_t *n, const char *opt, char **w, size_t nw)
{
	ic_conf_t *ic = n->ic;
	ic_zone_t *z = n->zone;
	size_t at = nw > 0 && (strcmp(w[0], "AXFR") == 0 || strcmp(w[0], "UDP") == 0) ? 1 : 0;
	if (nw != at + 2) {
		ic_unmapped(ic, n->file, n->line, "%s: wants an address and a key name or NOKEY", opt);
		return;
	}
	const char *addr = w[at], *key = strcmp(w[at + 1], "NOKEY") == 0 ? NULL : w[at + 1];
	if (strcmp(w[at + 1], "BLOCKED") == 0 || strchr(addr, '&') != NULL || strchr(addr, '-') != NULL) {
		ic_unmapped(ic, n->file, n->line, "%s: %s %s (BLOCKED, masks and ranges have no "
		            "equivalent)", opt, addr, w[at + 1]);
		return;
	}
	if (strcmp(opt, "request-xfr") == 0) {
		z->secondary = true;
		ic_push(ic, &z->primaries, ic_remote_for(ic, "primary", with_port(n, addr, 53), key));
	} else if (strcmp(opt, "notify") == 0) {
		ic_push(ic, &z->notify, ic_remote_for(ic, "notify", with_port(n, addr, 53), key));
	} else {
		ic_strs_t one = { 0 };
		ic_push(ic, &one, ic_strndup(ic, addr, strcspn(addr, "@")));
		unsigned allow = strcmp(opt, "provide-xfr") == 0 ? IC_ALLOW_TRANSFER : IC_ALLOW_NOTIFY;
		ic_push(ic, &z->acls, ic_acl_for(ic, &one, key, allow));
		free(one.v);
	}
}

static void option(nsd_t *n, const char *name, char *value)
{
	ic_conf_t *ic = n->ic;
	char *w[8];
	size_t nw = words(value, w, 8);
	const char *v = nw > 0 ? w[0] : "";
	switch (n->clause) {
	case C_SERVER:
		if (strcmp(name, "ip-address") == 0 || strcmp(name, "interface") == 0)
			ic_push(ic, &n->addrs, v);
		else if (strcmp(name, "port") == 0)
			n->port = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(name, "zonesdir") == 0)
			n->zonesdir = ic_strdup(ic, v);
		else if (strcmp(name, "identity") == 0)
			ic->identity = ic_strdup(ic, v);
		else if (!in(quiet_server, name))
			ic_unmapped(ic, n->file, n->line, "server: %s", name);
		return;
	case C_KEY:
		if (strcmp(name, "name") == 0)
			n->key->name = ic_strdup(ic, v);
		else if (strcmp(name, "algorithm") == 0)
			n->key->algorithm = ic_strdup(ic, v);
		else if (strcmp(name, "secret") == 0)
			n->key->secret = ic_strdup(ic, v);
		else
			ic_unmapped(ic, n->file, n->line, "key: %s", name);
		return;
	case C_ZONE:
		if (strcmp(name, "name") == 0 && n->zone == NULL)
			n->zone = ic_zone_new(ic, v);
		else if (n->zone == NULL)
			ic_unmapped(ic, n->file, n->line, "zone: %s before the zone's name", name);
		else if (strcmp(name, "zonefile") == 0)
			n->zone->file = ic_strdup(ic, v);
		else if (strcmp(name, "request-xfr") == 0 || strcmp(name, "notify") == 0 ||
		         strcmp(name, "provide-xfr") == 0 || strcmp(name, "allow-notify") == 0)
			zone_peer(n, name, w, nw);
		else if (!in(quiet_zone, name))
			ic_unmapped(ic, n->file, n->line, "zone %s: %s", n->zone->name, name);
		return;
	case C_OTHER:
		return;      /* reported once at the clause */
	case C_NONE:
		ic_unmapped(ic, n->file, n->line, "%s: outside any clause", name);
		return;
	}
}

static void clause(nsd_t *n, const char *name, const char *value)
{
	ic_conf_t *ic = n->ic;
	n->zone = NULL;
	n->key = NULL;
	if (strcmp(name, "server") == 0) {
		n->clause = C_SERVER;
	} else if (strcmp(name, "key") == 0) {
		n->clause = C_KEY;
		n->key = ic_key_new(ic);
		if (n->key == NULL)
			n->clause = C_OTHER;
	} else if (strcmp(name, "zone") == 0) {
		n->clause = C_ZONE;
	} else {
		n->clause = C_OTHER;
		/* remote-control: off is what Tandem has (its API); anything else is reported. */
		if (strcmp(name, "remote-control") != 0)
			ic_unmapped(ic, n->file, n->line, "%s: (a clause with no equivalent%s)", name,
			            strcmp(name, "pattern") == 0 ? "; copy its options into the zones" : "");
	}
	(void)value;
}

static int read_file(nsd_t *n, const char *path, const char *from, int from_line, int depth);

static int line_of(nsd_t *n, char *s, const char *dir, int depth)
{
	bool margin = *s != ' ' && *s != '\t';
	/* Comments: '#' outside quotes. */
	bool quoted = false;
	for (char *p = s; *p != '\0'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '#' && !quoted) {
			*p = '\0';
			break;
		}
	}
	s += strspn(s, " \t");
	size_t end = strlen(s);
	while (end > 0 && strchr(" \t\r", s[end - 1]) != NULL)
		s[--end] = '\0';
	if (*s == '\0')
		return TDM_OK;
	char *colon = strchr(s, ':');
	if (colon == NULL) {
		ic_error(n->ic, n->file, n->line, "'%s' is not 'name: value'", s);
		return TDM_EPARSE;
	}
	*colon = '\0';
	char *value = colon + 1;
	value += strspn(value, " \t");
	if (strcmp(s, "include") == 0) {
		char *w[1];
		if (words(value, w, 1) != 1 || depth + 1 >= IC_INCLUDE_DEPTH) {
			ic_error(n->ic, n->file, n->line, "include: wants one file (at most %d deep)",
			         IC_INCLUDE_DEPTH);
			return TDM_EPARSE;
		}
		const char *file = n->file;
		int line = n->line;
		int ret = read_file(n, ic_path(n->ic, dir, w[0]), file, line, depth + 1);
		n->file = file;
		n->line = line;
		return ret;
	}
	if (margin && *value == '\0')
		clause(n, s, value);
	else
		option(n, s, value);
	return TDM_OK;
}

static int read_file(nsd_t *n, const char *path, const char *from, int from_line, int depth)
{
	char *text = NULL;
	size_t len;
	int ret = ic_read_file(n->ic, path, from, from_line, &text, &len);
	if (ret != TDM_OK)
		return ret;
	const char *slash = strrchr(path, '/');
	const char *dir = slash != NULL ? ic_strndup(n->ic, path, (size_t)(slash - path)) : NULL;
	n->file = ic_strdup(n->ic, path);
	n->line = 0;
	for (char *p = text, *nl; ret == TDM_OK && p != NULL && *p != '\0'; p = nl) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		n->line++;
		ret = line_of(n, p, dir, depth);
	}
	free(text);
	return ret;
}

int ic_read_nsd(ic_conf_t *ic, const char *path)
{
	nsd_t n = { .ic = ic, .port = 53 };
	int ret = read_file(&n, path, NULL, 0, 0);
	for (size_t i = 0; i < n.addrs.n; i++)
		ic_push(ic, &ic->listen, with_port(&n, n.addrs.v[i], n.port));
	if (n.addrs.n == 0 && n.port != 53) {
		ic_push(ic, &ic->listen, ic_addr_port(ic, "0.0.0.0", n.port));
		ic_push(ic, &ic->listen, ic_addr_port(ic, "::", n.port));
	}
	free(n.addrs.v);
	/* zonefile is relative to zonesdir. */
	for (size_t i = 0; i < ic->nzones; i++)
		if (ic->zones[i].file != NULL)
			ic->zones[i].file = ic_path(ic, n.zonesdir, ic->zones[i].file);
	for (size_t i = 0; i < ic->nkeys; i++)
		if (ic->keys[i].name == NULL || ic->keys[i].algorithm == NULL || ic->keys[i].secret == NULL)
			ic_error(ic, path, 0, "a key: clause lacks its name, algorithm or secret");
	return ret != TDM_OK ? ret : ic->failed ? TDM_EPARSE : TDM_OK;
}
