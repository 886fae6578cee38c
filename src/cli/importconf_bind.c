/* cli/importconf_bind.c -- import-config: BIND's named.conf (statements, braces and semicolons) */
#include <stdlib.h>
#include <string.h>

#include "cli/importconf.h"
#include "lib/error.h"

/*
 * named.conf is read in two steps: a tokenizer (words, "quoted strings", { } ; and !, with the three
 * comment styles # // and C's) builds a tree of statements -- words, then optionally a block of
 * statements, ended by ';' --, following `include "file";` where it stands (at most
 * IC_INCLUDE_DEPTH deep, relative paths from the including file's folder); then the statements are
 * mapped. An address match list becomes one ACL per kind of element: its plain addresses together,
 * each key alone, and BIND's "address and key" idiom `!{ !{ ADDRS; }; any; }; key K;` as one ACL with
 * both (Tandem's ACLs require every part they name).
 */

typedef struct bstmt bstmt_t;
struct bstmt {
	const char *file;
	int line;
	char **words;            /* in the model's pool */
	size_t nwords;
	bstmt_t *block;          /* NULL: none; else nblock statements */
	size_t nblock;
	bool has_block;
};

typedef struct {
	ic_conf_t *ic;
	const char *file, *dir;
	const char *p;
	int line, depth;
} lexer_t;

enum { T_EOF, T_WORD, T_LBRACE, T_RBRACE, T_SEMI, T_ERR };

static void free_stmts(bstmt_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].words);
		free_stmts(v[i].block, v[i].nblock);
	}
	free(v);
}

/* Skips white space and comments; false (and reported) for a comment never closed. */
static bool skip(lexer_t *lx)
{
	for (;;) {
		while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r' || *lx->p == '\n') {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (*lx->p == '#' || (lx->p[0] == '/' && lx->p[1] == '/')) {
			while (*lx->p != '\0' && *lx->p != '\n')
				lx->p++;
		} else if (lx->p[0] == '/' && lx->p[1] == '*') {
			int start = lx->line;
			for (lx->p += 2; *lx->p != '\0' && !(lx->p[0] == '*' && lx->p[1] == '/'); lx->p++)
				if (*lx->p == '\n')
					lx->line++;
			if (*lx->p == '\0') {
				ic_error(lx->ic, lx->file, start, "a /* comment is never closed");
				return false;
			}
			lx->p += 2;
		} else {
			return true;
		}
	}
}

static int next(lexer_t *lx, char **word)
{
	if (!skip(lx))
		return T_ERR;
	char c = *lx->p;
	switch (c) {
	case '\0': return T_EOF;
	case '{': lx->p++; return T_LBRACE;
	case '}': lx->p++; return T_RBRACE;
	case ';': lx->p++; return T_SEMI;
	case '!': lx->p++; *word = ic_strdup(lx->ic, "!"); return T_WORD;
	case '"': {
		const char *start = ++lx->p;
		while (*lx->p != '\0' && *lx->p != '"' && *lx->p != '\n') {
			if (*lx->p == '\\' && lx->p[1] != '\0' && lx->p[1] != '\n')
				lx->p++;
			lx->p++;
		}
		if (*lx->p != '"') {
			ic_error(lx->ic, lx->file, lx->line, "a quoted string is not closed on its line");
			return T_ERR;
		}
		*word = ic_strndup(lx->ic, start, (size_t)(lx->p - start));
		lx->p++;
		return T_WORD;
	}
	default: {
		const char *start = lx->p;
		while (*lx->p != '\0' && strchr(" \t\r\n{};\"!#", *lx->p) == NULL &&
		       !(lx->p[0] == '/' && (lx->p[1] == '/' || lx->p[1] == '*')))
			lx->p++;
		*word = ic_strndup(lx->ic, start, (size_t)(lx->p - start));
		return T_WORD;
	}
	}
}

static int parse_file(ic_conf_t *ic, const char *path, const char *from, int from_line, int depth,
                      bstmt_t **v, size_t *n, size_t *cap);

static bool push_stmt(ic_conf_t *ic, bstmt_t **v, size_t *n, size_t *cap, const bstmt_t *s)
{
	if (*n == *cap) {
		size_t want = *cap ? *cap * 2 : 8;
		bstmt_t *p = want < 1000000 ? realloc(*v, want * sizeof(**v)) : NULL;
		if (p == NULL) {
			ic->oom = true;
			return false;
		}
		*v = p;
		*cap = want;
	}
	(*v)[(*n)++] = *s;
	return true;
}

static bool push_word(ic_conf_t *ic, bstmt_t *s, char *w)
{
	char **p = realloc(s->words, (s->nwords + 1) * sizeof(char *));
	if (p == NULL) {
		ic->oom = true;
		return false;
	}
	s->words = p;
	s->words[s->nwords++] = w;
	return true;
}

/* Statements up to '}' (inner) or the end of the text (top); appended to v. */
static int parse_list(lexer_t *lx, bool inner, bstmt_t **v, size_t *n, size_t *cap)
{
	bstmt_t s;
	for (;;) {
		s = (bstmt_t){ .file = lx->file };
		char *w = NULL;
		int t = next(lx, &w);
		s.line = lx->line;
		if (t == T_ERR)
			return TDM_EPARSE;
		if (t == T_EOF) {
			if (!inner)
				return TDM_OK;
			ic_error(lx->ic, lx->file, lx->line, "the file ends inside a { block");
			return TDM_EPARSE;
		}
		if (t == T_RBRACE) {
			if (inner)
				return TDM_OK;
			ic_error(lx->ic, lx->file, lx->line, "a } closes nothing");
			return TDM_EPARSE;
		}
		if (t == T_SEMI)
			continue;      /* an empty statement */
		while (t == T_WORD) {
			if (!push_word(lx->ic, &s, w))
				goto fail;
			t = next(lx, &w);
		}
		if (t == T_LBRACE) {
			size_t bcap = 0;
			s.has_block = true;
			if (parse_list(lx, true, &s.block, &s.nblock, &bcap) != TDM_OK)
				goto fail;
			t = next(lx, &w);
		}
		if (t != T_SEMI) {
			ic_error(lx->ic, lx->file, lx->line, "a ';' is missing after '%s'",
			         s.nwords > 0 ? s.words[0] : "{ }");
			goto fail;
		}
		if (s.nwords == 2 && !s.has_block && strcmp(s.words[0], "include") == 0) {
			const char *path = ic_path(lx->ic, lx->dir, s.words[1]);
			free(s.words);
			if (lx->depth + 1 >= IC_INCLUDE_DEPTH) {
				ic_error(lx->ic, lx->file, s.line, "includes nest deeper than %d",
				         IC_INCLUDE_DEPTH);
				return TDM_EPARSE;
			}
			int ret = parse_file(lx->ic, path, lx->file, s.line, lx->depth + 1, v, n, cap);
			if (ret != TDM_OK)
				return ret;
			continue;
		}
		if (!push_stmt(lx->ic, v, n, cap, &s))
			goto fail;
	}
fail:
	free(s.words);
	free_stmts(s.block, s.nblock);
	return TDM_EPARSE;
}

static int parse_file(ic_conf_t *ic, const char *path, const char *from, int from_line, int depth,
                      bstmt_t **v, size_t *n, size_t *cap)
{
	char *text = NULL;
	size_t len;
	int ret = ic_read_file(ic, path, from, from_line, &text, &len);
	if (ret != TDM_OK)
		return ret;
	const char *slash = strrchr(path, '/');
	lexer_t lx = { .ic = ic, .file = ic_strdup(ic, path), .p = text, .line = 1, .depth = depth,
	               .dir = slash != NULL ? ic_strndup(ic, path, (size_t)(slash - path)) : NULL };
	ret = parse_list(&lx, false, v, n, cap);
	free(text);
	return ret;
}

/* ---- mapping ---- */

typedef struct {
	ic_conf_t *ic;
	bstmt_t *top;
	size_t ntop;
	const char *directory;       /* options { directory }: where relative zone files are */
	const bstmt_t *def_transfer, *def_notify, *def_also_notify, *def_update;
} bind_t;

static bool is(const bstmt_t *s, const char *word)
{
	return s->nwords > 0 && strcmp(s->words[0], word) == 0;
}

/* A top-level `acl NAME { }` or `primaries/masters NAME { }`. */
static const bstmt_t *named(bind_t *b, const char *kind, const char *name)
{
	for (size_t i = 0; i < b->ntop; i++) {
		const bstmt_t *s = &b->top[i];
		bool kind_ok = strcmp(kind, "acl") == 0 ? is(s, "acl") :
		               is(s, "primaries") || is(s, "masters");
		if (kind_ok && s->nwords >= 2 && s->has_block && strcmp(s->words[1], name) == 0)
			return s;
	}
	return NULL;
}

static bool looks_address(const char *w)
{
	return w[0] != '\0' && strspn(w, "0123456789abcdefABCDEF:./%") == strlen(w) &&
	       (strchr(w, '.') != NULL || strchr(w, ':') != NULL);
}

/* The idiom !{ !{ ADDRS; }; any; }: its ADDRS statement list, or NULL. */
static const bstmt_t *and_idiom(const bstmt_t *s, size_t *n)
{
	if (!(s->nwords == 1 && is(s, "!") && s->has_block && s->nblock == 2))
		return NULL;
	const bstmt_t *in = &s->block[0], *any = &s->block[1];
	if (!(in->nwords == 1 && is(in, "!") && in->has_block) || !(any->nwords == 1 && is(any, "any")))
		return NULL;
	*n = in->nblock;
	return in->block;
}

/* The addresses of a plain list (for the idiom's inner part); false when something else is there. */
static bool plain_addresses(bind_t *b, const bstmt_t *v, size_t n, ic_strs_t *out)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].nwords != 1 || v[i].has_block || !looks_address(v[i].words[0]))
			return false;
		ic_push(b->ic, out, v[i].words[0]);
	}
	return true;
}

/* An address match list (the block of s) as ACLs allowing `allow`, their names added to zone. */
static void match_list(bind_t *b, const bstmt_t *v, size_t n, unsigned allow, ic_zone_t *zone,
                       int depth)
{
	ic_conf_t *ic = b->ic;
	ic_strs_t plain = { 0 };
	for (size_t i = 0; i < n; i++) {
		const bstmt_t *e = &v[i];
		size_t ninner;
		const bstmt_t *inner = and_idiom(e, &ninner);
		if (inner != NULL && i + 1 < n && is(&v[i + 1], "key") && v[i + 1].nwords == 2) {
			ic_strs_t addrs = { 0 };
			if (plain_addresses(b, inner, ninner, &addrs))
				ic_push(ic, &zone->acls, ic_acl_for(ic, &addrs, v[i + 1].words[1], allow));
			else
				ic_unmapped(ic, e->file, e->line, "an address match list this form of '!' "
				            "cannot say (only !{ !{ ADDRESSES; }; any; }; key K;)");
			free(addrs.v);
			i++;
		} else if (e->nwords == 2 && is(e, "key") && !e->has_block) {
			ic_strs_t none = { 0 };
			ic_push(ic, &zone->acls, ic_acl_for(ic, &none, e->words[1], allow));
		} else if (e->nwords == 1 && !e->has_block && strcmp(e->words[0], "any") == 0) {
			ic_push(ic, &plain, "0.0.0.0/0");
			ic_push(ic, &plain, "::/0");
		} else if (e->nwords == 1 && !e->has_block && strcmp(e->words[0], "none") == 0) {
			continue;
		} else if (e->nwords == 1 && !e->has_block && strcmp(e->words[0], "localhost") == 0) {
			ic_push(ic, &plain, "127.0.0.1");
			ic_push(ic, &plain, "::1");
		} else if (e->nwords == 1 && !e->has_block && looks_address(e->words[0])) {
			ic_push(ic, &plain, e->words[0]);
		} else if (e->nwords == 1 && !e->has_block && named(b, "acl", e->words[0]) != NULL &&
		           depth < IC_INCLUDE_DEPTH) {
			const bstmt_t *acl = named(b, "acl", e->words[0]);
			match_list(b, acl->block, acl->nblock, allow, zone, depth + 1);
		} else {
			ic_unmapped(ic, e->file, e->line, "address match element '%s%s' (negations, "
			            "localnets and nested lists have no equivalent)",
			            e->nwords > 0 ? e->words[0] : "{ ... }", e->nwords > 1 ? " ..." : "");
		}
	}
	if (plain.n > 0)
		ic_push(ic, &zone->acls, ic_acl_for(ic, &plain, NULL, allow));
	free(plain.v);
}

/* `primaries [port P] { ADDR [port P] [key K]; NAME; ... }` as remotes added to list. */
static void remote_list(bind_t *b, const bstmt_t *s, ic_strs_t *list, const char *base, int depth)
{
	ic_conf_t *ic = b->ic;
	unsigned def_port = 53;
	for (size_t w = 1; w + 1 < s->nwords; w++)
		if (strcmp(s->words[w], "port") == 0)
			def_port = (unsigned)strtoul(s->words[w + 1], NULL, 10);
	for (size_t i = 0; i < s->nblock; i++) {
		const bstmt_t *e = &s->block[i];
		if (e->nwords == 0 || e->has_block) {
			ic_unmapped(ic, e->file, e->line, "a nested list in %s", s->words[0]);
			continue;
		}
		if (!looks_address(e->words[0])) {
			const bstmt_t *group = named(b, "primaries", e->words[0]);
			if (group != NULL && depth < IC_INCLUDE_DEPTH)
				remote_list(b, group, list, base, depth + 1);
			else
				ic_unmapped(ic, e->file, e->line, "'%s' names no primaries list", e->words[0]);
			continue;
		}
		unsigned port = def_port;
		const char *key = NULL;
		for (size_t w = 1; w < e->nwords; w++) {
			if (strcmp(e->words[w], "port") == 0 && w + 1 < e->nwords)
				port = (unsigned)strtoul(e->words[++w], NULL, 10);
			else if (strcmp(e->words[w], "key") == 0 && w + 1 < e->nwords)
				key = e->words[++w];
			else
				ic_unmapped(ic, e->file, e->line, "'%s' after the address of %s (TLS and "
				            "source options have no equivalent)", e->words[w], e->words[0]);
		}
		const char *name = ic_remote_for(ic, base, ic_addr_port(ic, e->words[0], port), key);
		if (name != NULL)
			ic_push(ic, list, name);
	}
}

/* Options and zone statements that need no mapping: Tandem does this anyway, or it only concerns
 * how BIND runs. */
static const char *const quiet[] = {
	"directory", "pid-file", "session-keyfile", "managed-keys-directory", "dnssec-validation",
	"check-names", "check-integrity", "check-mx-cname", "check-srv-cname",
	"check-wildcard", "check-sibling", "check-mx", "check-dup-records", "ixfr-from-differences",
	"minimal-responses", "version", "hostname", "dump-file", "statistics-file",
	"memstatistics-file", "zone-statistics", "querylog", "auth-nxdomain", "empty-zones-enable",
	"bindkeys-file", "key-directory", "serial-update-method", NULL,
};

static bool is_quiet(const bstmt_t *s)
{
	for (size_t i = 0; quiet[i] != NULL; i++)
		if (is(s, quiet[i]))
			return true;
	/* recursion no, notify explicit: what Tandem does. */
	return (is(s, "recursion") && s->nwords == 2 && strcmp(s->words[1], "no") == 0) ||
	       (is(s, "notify") && s->nwords == 2 && (strcmp(s->words[1], "explicit") == 0 ||
	                                             strcmp(s->words[1], "no") == 0));
}

/* BIND's notify-delay (seconds; BIND's own default is 5) as Tandem's, which is at most 60: a larger one
 * becomes 60 and is reported. NULL when it is not a number. */
static const char *notify_delay(bind_t *b, const bstmt_t *s)
{
	const char *v = s->words[1];
	if (*v == '\0' || strspn(v, "0123456789") != strlen(v) || strlen(v) > 9) {
		ic_unmapped(b->ic, s->file, s->line, "notify-delay '%s' (not a number of seconds)", v);
		return NULL;
	}
	if (strtoul(v, NULL, 10) <= 60)
		return v;
	ic_unmapped(b->ic, s->file, s->line, "notify-delay %s as it is (Tandem's is at most 60, so 60 was "
	            "written)", v);
	return "60";
}

static void listen_on(bind_t *b, const bstmt_t *s)
{
	unsigned port = 53;
	bool v6 = is(s, "listen-on-v6");
	for (size_t w = 1; w + 1 < s->nwords; w++)
		if (strcmp(s->words[w], "port") == 0)
			port = (unsigned)strtoul(s->words[w + 1], NULL, 10);
	for (size_t i = 0; i < s->nblock; i++) {
		const bstmt_t *e = &s->block[i];
		const char *a = e->nwords == 1 ? e->words[0] : "";
		if (strcmp(a, "none") == 0)
			continue;
		if (strcmp(a, "any") == 0)
			a = v6 ? "::" : "0.0.0.0";
		if (looks_address(a) && strchr(a, '/') == NULL)
			ic_push(b->ic, &b->ic->listen, ic_addr_port(b->ic, a, port));
		else
			ic_unmapped(b->ic, e->file, e->line, "listen address '%s' (only addresses, any "
			            "and none)", e->nwords > 0 ? e->words[0] : "{ ... }");
	}
}

static void options(bind_t *b, const bstmt_t *o)
{
	for (size_t i = 0; i < o->nblock; i++) {
		const bstmt_t *s = &o->block[i];
		if (is(s, "directory") && s->nwords == 2)
			b->directory = s->words[1];
		if (is_quiet(s))
			continue;
		if ((is(s, "listen-on") || is(s, "listen-on-v6")) && s->has_block)
			listen_on(b, s);
		else if (is(s, "server-id") && s->nwords == 2)
			b->ic->identity = s->words[1];
		else if (is(s, "notify-delay") && s->nwords == 2)
			b->ic->notify_delay = notify_delay(b, s);
		else if (is(s, "allow-transfer") && s->has_block)
			b->def_transfer = s;
		else if (is(s, "allow-notify") && s->has_block)
			b->def_notify = s;
		else if (is(s, "allow-update") && s->has_block)
			b->def_update = s;
		else if (is(s, "also-notify") && s->has_block)
			b->def_also_notify = s;
		else
			ic_unmapped(b->ic, s->file, s->line, "options { %s }", s->nwords ? s->words[0] : "");
	}
}

static void key(bind_t *b, const bstmt_t *s)
{
	ic_key_t *k = ic_key_new(b->ic);
	if (k == NULL)
		return;
	k->name = s->words[1];
	for (size_t i = 0; i < s->nblock; i++) {
		const bstmt_t *e = &s->block[i];
		if (is(e, "algorithm") && e->nwords == 2)
			k->algorithm = e->words[1];
		else if (is(e, "secret") && e->nwords == 2)
			k->secret = e->words[1];
		else
			ic_unmapped(b->ic, e->file, e->line, "key %s { %s }", k->name,
			            e->nwords ? e->words[0] : "");
	}
	if (k->algorithm == NULL || k->secret == NULL) {
		ic_error(b->ic, s->file, s->line, "key %s lacks its algorithm or secret", k->name);
	}
}

static void zone(bind_t *b, const bstmt_t *s)
{
	ic_conf_t *ic = b->ic;
	const bstmt_t *transfer = b->def_transfer, *notify_acl = b->def_notify, *update = b->def_update;
	const bstmt_t *also = b->def_also_notify;
	const char *type = NULL;
	for (size_t i = 0; i < s->nblock; i++)
		if (is(&s->block[i], "type") && s->block[i].nwords == 2)
			type = s->block[i].words[1];
	if (type == NULL || (strcmp(type, "primary") != 0 && strcmp(type, "master") != 0 &&
	                     strcmp(type, "secondary") != 0 && strcmp(type, "slave") != 0)) {
		ic_unmapped(ic, s->file, s->line, "zone %s of type %s (only primary and secondary)",
		            s->words[1], type != NULL ? type : "(none)");
		return;
	}
	ic_zone_t *z = ic_zone_new(ic, s->words[1]);
	if (z == NULL)
		return;
	z->secondary = type[0] == 's';
	for (size_t i = 0; i < s->nblock; i++) {
		const bstmt_t *e = &s->block[i];
		if (is(e, "type") || is_quiet(e))
			continue;
		if (is(e, "file") && e->nwords == 2)
			z->file = ic_path(ic, b->directory, e->words[1]);
		else if ((is(e, "primaries") || is(e, "masters")) && e->has_block)
			remote_list(b, e, &z->primaries, "primary", 0);
		else if (is(e, "also-notify") && e->has_block)
			also = e;
		else if (is(e, "notify-delay") && e->nwords == 2)
			z->notify_delay = notify_delay(b, e);
		else if (is(e, "allow-transfer") && e->has_block)
			transfer = e;
		else if (is(e, "allow-notify") && e->has_block)
			notify_acl = e;
		else if (is(e, "allow-update") && e->has_block)
			update = e;
		else
			ic_unmapped(ic, e->file, e->line, "zone %s { %s }", z->name,
			            e->nwords ? e->words[0] : "");
	}
	if (also != NULL)
		remote_list(b, also, &z->notify, "notify", 0);
	if (transfer != NULL)
		match_list(b, transfer->block, transfer->nblock, IC_ALLOW_TRANSFER, z, 0);
	if (notify_acl != NULL)
		match_list(b, notify_acl->block, notify_acl->nblock, IC_ALLOW_NOTIFY, z, 0);
	if (update != NULL)
		match_list(b, update->block, update->nblock, IC_ALLOW_UPDATE, z, 0);
}

int ic_read_bind(ic_conf_t *ic, const char *path)
{
	bind_t b = { .ic = ic };
	size_t cap = 0;
	int ret = parse_file(ic, path, NULL, 0, 0, &b.top, &b.ntop, &cap);
	if (ret != TDM_OK) {
		free_stmts(b.top, b.ntop);
		return ret;
	}
	/* Options first (defaults for every zone), then keys, then zones in their order. */
	for (size_t i = 0; i < b.ntop; i++)
		if (is(&b.top[i], "options") && b.top[i].has_block)
			options(&b, &b.top[i]);
	for (size_t i = 0; i < b.ntop; i++) {
		const bstmt_t *s = &b.top[i];
		if (is(s, "key") && s->nwords == 2 && s->has_block)
			key(&b, s);
	}
	for (size_t i = 0; i < b.ntop; i++) {
		const bstmt_t *s = &b.top[i];
		if (is(s, "zone") && s->nwords >= 2 && s->has_block)
			zone(&b, s);
		else if (is(s, "options") || is(s, "key") || is(s, "acl") || is(s, "primaries") ||
		         is(s, "masters"))
			continue;
		else if (is(s, "controls") && s->nblock == 0)
			continue;      /* no control channel: the API is Tandem's */
		else
			ic_unmapped(ic, s->file, s->line, "%s %s(a top-level statement with no equivalent)",
			            s->nwords ? s->words[0] : "{ }", s->nwords > 1 ? "... " : "");
	}
	free_stmts(b.top, b.ntop);
	return ic->failed ? TDM_EPARSE : TDM_OK;
}
