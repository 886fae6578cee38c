/* cli/importconf.h -- `tandem import-config`: another server's configuration as a Tandem one */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * DESIGN. Each reader (importconf_bind.c, importconf_knot.c, importconf_nsd.c) tokenizes its own
 * dialect and fills one model, ic_conf_t, close to tandem.yaml: keys, remotes, ACLs, zones, listen
 * addresses. importconf.c writes the model as YAML. What a reader meets and cannot map is reported
 * at once as "file:line: not mapped: ..." (ic_unmapped) and counted; what needs no mapping (a pid
 * file, recursion off) is passed over in silence, listed per reader. Strings and arrays belong to the
 * model; an allocation failure is sticky (ic->oom) and checked once at the end.
 */

#define IC_INPUT_MAX (4 * 1024 * 1024)   /* octets of one configuration file */
#define IC_INCLUDE_DEPTH 8
#define IC_LINE_MAX 1024                 /* a file:line prefix and message */

enum { IC_ALLOW_TRANSFER = 1, IC_ALLOW_NOTIFY = 2, IC_ALLOW_UPDATE = 4 };

typedef struct {
	char **v;
	size_t n, cap;
} ic_strs_t;

typedef struct {
	char *name, *algorithm, *secret;
} ic_key_t;

typedef struct {
	char *name;
	ic_strs_t addresses;          /* "address@port" */
	char *key;                    /* NULL: none */
} ic_remote_t;

typedef struct {
	char *name;
	ic_strs_t addresses;          /* prefixes */
	ic_strs_t keys;
	unsigned allow;
} ic_acl_t;

typedef struct {
	char *name;
	bool secondary;
	char *file;
	ic_strs_t primaries, notify, acls;   /* remote and ACL names */
	const char *notify_delay;     /* seconds (0 to 60), NULL: the server's */
} ic_zone_t;

typedef struct {
	ic_strs_t listen;             /* "address@port" */
	ic_key_t *keys;
	size_t nkeys;
	ic_remote_t *remotes;
	size_t nremotes;
	ic_acl_t *acls;
	size_t nacls;
	ic_zone_t *zones;
	size_t nzones;
	char *identity;
	const char *notify_delay;     /* seconds (0 to 60), NULL: Tandem's default */
	unsigned unmapped;            /* things reported as not mapped */
	bool oom;                     /* sticky: an allocation failed */
	bool failed;                  /* a reader could not go on (syntax, unreadable file) */
	ic_strs_t pool;               /* every string, freed with the model */
	FILE *err;
} ic_conf_t;

/* A copy of s (of n octets, or up to its NUL when n is (size_t)-1) kept by the model; "" on OOM. */
char *ic_strndup(ic_conf_t *ic, const char *s, size_t n);
char *ic_strdup(ic_conf_t *ic, const char *s);
char *ic_printf(ic_conf_t *ic, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ic_push(ic_conf_t *ic, ic_strs_t *list, const char *s);
bool ic_has(const ic_strs_t *list, const char *s);

/* New items, zeroed, or NULL on OOM (sticky). */
ic_key_t *ic_key_new(ic_conf_t *ic);
ic_acl_t *ic_acl_new(ic_conf_t *ic, const char *name);
ic_zone_t *ic_zone_new(ic_conf_t *ic, const char *name);
ic_remote_t *ic_remote_new(ic_conf_t *ic, const char *name);
ic_remote_t *ic_remote_find(ic_conf_t *ic, const char *name);
ic_acl_t *ic_acl_find(ic_conf_t *ic, const char *name);

/*
 * The remote for one address and key, made when there is none (named base, or "<base>N" when that
 * is taken by another address): readers with remotes by address (BIND, NSD) share one per peer.
 * Returns its name, or NULL on OOM.
 */
const char *ic_remote_for(ic_conf_t *ic, const char *base, const char *addr, const char *key);

/*
 * An ACL allowing allow to the addresses (prefixes; none: any address) with key (NULL: none): the
 * one already made with exactly these, else a new one named aclN. Its name, or NULL on OOM.
 */
const char *ic_acl_for(ic_conf_t *ic, const ic_strs_t *addresses, const char *key, unsigned allow);

/* Reports something that could not be mapped, at file:line, and counts it. */
void ic_unmapped(ic_conf_t *ic, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Reports an error that stops the reader (a syntax error, an unreadable include). */
void ic_error(ic_conf_t *ic, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Reads a whole file (at most IC_INPUT_MAX octets, no NUL inside) into a NUL-terminated buffer the
 * caller frees. TDM_OK or an error reported with ic_error.
 */
int ic_read_file(ic_conf_t *ic, const char *path, const char *from, int from_line, char **out,
                 size_t *len);

/* A path as the server would read it: absolute as it is, else joined to dir (may be NULL). */
char *ic_path(ic_conf_t *ic, const char *dir, const char *path);

/* "address" and "port" as "address@port": an IPv6 address stays bare (Tandem reads a@p for both). */
char *ic_addr_port(ic_conf_t *ic, const char *addr, unsigned port);

/* The readers: TDM_OK, or an error after which ic->failed is set. */
int ic_read_bind(ic_conf_t *ic, const char *path);
int ic_read_knot(ic_conf_t *ic, const char *path);
int ic_read_nsd(ic_conf_t *ic, const char *path);

/* Writes the model as tandem.yaml. data_dir may be NULL (the default: var/ beside the file). */
int ic_write_yaml(const ic_conf_t *ic, FILE *out, const char *source, const char *from,
                  const char *data_dir);

void ic_free(ic_conf_t *ic);

/* `tandem import-config FILE [--from bind|knot|nsd] [-o OUT] [--data-dir DIR]`: 0 when everything
 * mapped, 3 when something was left out (reported on stderr), 1 for a usage or input error. */
int cli_importconf_main(int argc, char **argv);
