/* conf/conf.h -- the YAML configuration (SPEC.md "Configuration"): loaded, validated, immutable */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sockaddr.h"

#define CONF_DEFAULT_PORT 53

typedef enum {
	CONF_ALLOW_TRANSFER = 1 << 0,
	CONF_ALLOW_NOTIFY = 1 << 1,
	CONF_ALLOW_UPDATE = 1 << 2,
} conf_allow_t;

typedef enum { CONF_ZONE_PRIMARY, CONF_ZONE_SECONDARY } conf_zone_type_t;
typedef enum { CONF_CATALOG_NONE, CONF_CATALOG_PRODUCE, CONF_CATALOG_CONSUME } conf_catalog_t;
/* How a primary's serial moves when the server raises it (zone/diff.h serial_next): the values are
 * zone/diff.h's ZONE_SERIAL_*. */
typedef enum { CONF_SERIAL_INCREMENT, CONF_SERIAL_UNIXTIME, CONF_SERIAL_DATESERIAL } conf_serial_policy_t;
/* lib/log.h's enum log_format values. */
typedef enum { CONF_LOG_TEXT, CONF_LOG_JSON } conf_log_format_t;

typedef struct {
	char *name;              /* key name as a textual FQDN, lowercase, with the trailing dot */
	char *algorithm;         /* "hmac-md5", "hmac-sha1", "hmac-sha224", ... "hmac-sha512" */
	uint8_t *secret;         /* decoded from base64 */
	size_t secret_len;
	char *file;              /* a BIND key file the key was read from, NULL when given inline */
} conf_key_t;

/* How to reach a primary over TLS (RFC 9103) and check it: tls/tls.h says what each check means. */
typedef struct {
	char *name;
	char *hostname;          /* the name its certificate must carry; NULL = none */
	char *ca_file;           /* PEM CA bundle; NULL = the system's (with hostname) */
	char *pin;               /* base64 SHA-256 of its certificate's SubjectPublicKeyInfo; NULL = none */
	char *certificate;       /* ours, for mutual TLS; NULL = none */
	char *key;
} conf_tls_t;

typedef struct {
	char *name;
	sockaddr_t *addresses;   /* tried in order */
	size_t address_count;
	const conf_key_t *key;   /* NULL when none */
	const conf_tls_t *tls;   /* NULL = plain UDP and TCP */
} conf_remote_t;

/* Which connections an ACL matches. */
typedef enum { CONF_TRANSPORT_ANY, CONF_TRANSPORT_TLS } conf_transport_t;

typedef struct {
	char *name;
	addr_prefix_t *prefixes;
	size_t prefix_count;
	const conf_key_t **keys; /* when non-empty, the request must be signed with one of these */
	size_t key_count;
	unsigned allow;          /* conf_allow_t bits */
	conf_transport_t transport;   /* tls: only requests that came over TLS */
} conf_acl_t;

typedef struct {
	char *name;              /* textual FQDN, lowercase, with the trailing dot */
	conf_zone_type_t type;
	char *file;              /* NULL when none; relative paths resolved against the config file's folder */
	const conf_remote_t **primaries;
	size_t primary_count;
	const conf_remote_t **notify;
	size_t notify_count;
	const conf_acl_t **acls;
	size_t acl_count;
	conf_catalog_t catalog;
	char *member_of;         /* catalog zone name, NULL when none */
	conf_serial_policy_t serial_policy;
	char *group;             /* RFC 9432 group, NULL when none */
	int line;                /* where the zone is declared in the config file */
	const char *origin;      /* NULL for a configured zone; "catalog X", "autoprimary from Y" for
	                          * one the server made (not read from the file) */
	void *owner;             /* what made it, for the module named by origin (an API zone); NULL */
	unsigned max_zone_records;     /* records a transfer may bring; 0 = the server's */
	unsigned max_zone_size;        /* their octets, uncompressed; 0 = the server's */
	unsigned catalog_max_members;  /* a consumed catalog's members at most; 0 = the server's */
	unsigned notify_delay;         /* seconds changes after a NOTIFY wait (notify-delay), when... */
	bool notify_delay_set;         /* ...given; else the server's */
} conf_zone_t;

/* A super-primary (PowerDNS's "autoprimary"): a NOTIFY from it for a zone we do not have creates the
 * zone as a secondary of it, when the zone's NS set names one of our nameservers. */
typedef struct {
	char *name;
	const conf_remote_t *remote;   /* its addresses (NOTIFY from any port of them) and key */
	char *nameservers;             /* our names, space-separated, lowercase with the dot */
	size_t nameserver_count;
} conf_autoprimary_t;

/* Settings for the members of a consumed catalog whose RFC 9432 group has this template's name.
 * What a template leaves empty comes from the catalog zone itself. */
typedef struct {
	char *name;                    /* the group name it serves */
	const conf_remote_t **primaries;
	size_t primary_count;
	const conf_remote_t **notify;
	size_t notify_count;
	const conf_acl_t **acls;
	size_t acl_count;
} conf_template_t;

typedef struct {
	sockaddr_t *listen;
	size_t listen_count;
	sockaddr_t source4, source6;   /* unset (len 0) when not configured */
	char *data_dir;                /* resolved against the config file's folder */
	unsigned workers;              /* 0 = one per CPU */
	char *identity;                /* NULL = not disclosed */
	uint32_t refresh_min, refresh_max, retry_min, retry_max, expire_min, expire_max;
	unsigned tcp_idle_timeout;     /* seconds, default 10 */
	unsigned tcp_max_clients;      /* default 1000 */
	unsigned udp_payload;          /* our EDNS payload size, default 1232 */
	unsigned journal_max_entries;  /* IXFR history kept per zone, default 100 changes */
	unsigned notify_delay;         /* seconds the changes after a NOTIFY wait to be told together, 0 = none */
	unsigned notify_rate;          /* NOTIFY messages sent a second at most (tries and retries), 0 = any */
	unsigned xfr_per_primary;      /* concurrent transfers in from one primary, default 4 */
	unsigned xfr_out_max;          /* concurrent transfers out, default 32 */
	unsigned xfr_timeout;          /* seconds a transfer may wait for the network, default 10 */
	unsigned verify_interval;      /* seconds between bulk verifications of secondary zones, 0 = off */
	char *catalog;                 /* every primary zone without member-of goes into this catalog */
	unsigned max_zone_records;     /* records one transfer in may bring, default 10,000,000 */
	unsigned max_zone_size;        /* their octets, uncompressed, default 1 GiB */
	unsigned xfr_max_time;         /* seconds one refresh (SOA checks, transfers) may take, default 3600 */
	unsigned catalog_max_members;  /* members of one consumed catalog at most, default 100,000 */
	conf_log_format_t log_format;  /* text (default) or json; the journal's priorities either way */
	unsigned rate_limit;           /* RRL: UDP answers per second per bucket, 0 = off */
	unsigned rate_limit_slip;      /* every n-th limited answer goes out truncated, 0 = none */
	unsigned rate_limit_ipv4_prefix, rate_limit_ipv6_prefix;
	unsigned rate_limit_table_size;
	addr_prefix_t *rate_limit_exempt;
	size_t rate_limit_exempt_count;
	sockaddr_t *tls_listen;        /* XoT (RFC 9103) listeners, port 853 when omitted */
	size_t tls_listen_count;
	char *tls_certificate, *tls_key;   /* PEM files, required with tls-listen */
	char *tls_client_ca;           /* mutual TLS: clients must show a certificate from this CA */
	unsigned tls_max_clients;      /* TLS connections at once, default 64 */
	unsigned tls_max_per_address;  /* of them from one client address, default 8 */
	unsigned tls_handshake_timeout;    /* seconds, default 5 */
	unsigned tls_idle_timeout;     /* seconds without a request, default 10 */
} conf_server_t;

typedef struct {
	sockaddr_t listen;             /* len 0 = off */
	char *api_key_file;
	unsigned max_clients;          /* API connections at once, default 64 */
	unsigned max_body;             /* octets of a request body, default 1 MiB */
	unsigned timeout;              /* seconds for a request to arrive, a reply to be taken, default 10 */
} conf_http_t;

typedef struct {
	char *path;                    /* the file it came from, or "(default)" */
	conf_server_t server;
	conf_http_t http;
	conf_key_t *keys;
	size_t key_count;
	conf_remote_t *remotes;
	size_t remote_count;
	conf_acl_t *acls;
	size_t acl_count;
	conf_zone_t *zones;
	size_t zone_count;
	/* Positions in zones sorted by name, for conf_zone_find (NULL: it looks at each zone in turn). A
	 * catalog of 100,000 members asks for each of them. */
	size_t *zone_order;
	conf_autoprimary_t *autoprimaries;
	size_t autoprimary_count;
	conf_template_t *templates;
	size_t template_count;
	conf_tls_t *tls;
	size_t tls_count;
	/* Holders (conf_ref, conf_free): a reload whose file is unchanged keeps the one in force. */
	unsigned refs;
	/* The text it was read from: its length and SipHash under the process's random key. */
	size_t text_len;
	uint64_t text_hash;
} conf_t;

/* The template for a catalog group, or NULL. */
const conf_template_t *conf_template_find(const conf_t *conf, const char *group);

/*
 * Loads and validates a configuration file. On success returns TDM_OK and *out. On failure returns
 * TDM_ECONF (or TDM_ENOMEM, or a negated errno when the file cannot be read) after writing one line per
 * problem found, "file:line: problem", to the log at error level; *out is left NULL. Unknown keys,
 * wrong types, duplicate names and dangling references (a zone naming a missing remote) are errors.
 */
int conf_load(const char *path, conf_t **out);

/*
 * Like conf_load for a SIGHUP: when the file holds the text prev was read from (same length and
 * SipHash), *out is prev itself with a holder more, and nothing is parsed again -- the configuration of
 * 100,000 zones was half of a SIGHUP for one changed zone file. The configuration depends on its text
 * alone (files it names are read by their users), so the same text gives the same configuration.
 */
int conf_reload(const char *path, conf_t *prev, conf_t **out);

/* One holder more of conf; conf_free drops one, and frees it with the last. Callers on one thread. */
conf_t *conf_ref(conf_t *conf);

/* Same, from a string (used for the embedded default and by tests); name is used in messages. */
int conf_load_string(const char *text, const char *name, conf_t **out);

void conf_free(conf_t *conf);

const conf_zone_t *conf_zone_find(const conf_t *conf, const char *name);
const conf_key_t *conf_key_find(const conf_t *conf, const char *name);
