/* catalog/catalog.h -- RFC 9432 catalog zones (version 2): reading one, and writing one */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "wire/name.h"
#include "zone/contents.h"
#include "zone/rrlist.h"

#define CATALOG_ID_MAX 64          /* a unique ID is one label, kept escaped: at most 63 characters */
#define CATALOG_GROUP_MAX 256

/* One member of a catalog. */
typedef struct {
	uint8_t zone[NAME_MAXLEN];     /* the member zone, wire, lowercase */
	char id[CATALOG_ID_MAX];       /* its unique ID label (RFC 9432 4.1), escaped as in a zone file */
	char group[CATALOG_GROUP_MAX]; /* group property, "" when none (RFC 9432 4.4.2) */
	uint8_t coo[NAME_MAXLEN];      /* change-of-ownership target catalog, root when none */
	bool has_coo;
} catalog_member_t;

typedef struct {
	catalog_member_t *members;
	size_t count;
} catalog_t;

/*
 * Reads a catalog from a zone version (RFC 9432 3 and 4): version.<catalog> TXT "2" is required;
 * each <id>.zones.<catalog> holds exactly one PTR naming a member; group (TXT) and coo (PTR)
 * properties below it. A catalog with no or another version, a member node with several PTRs,
 * the same member under two IDs, or a broken property is refused as a whole: returns TDM_EMALF
 * with why filled (a person-readable reason). TDM_OK, TDM_EMALF or TDM_ENOMEM.
 */
int catalog_read(const zone_contents_t *z, catalog_t *out, char *why, size_t why_len);
/* The same, refusing a catalog of more than max members (0: any number) before it costs more
 * (catalog-max-members). */
int catalog_read_max(const zone_contents_t *z, size_t max, catalog_t *out, char *why, size_t why_len);
void catalog_clear(catalog_t *cat);

/* Where a record of a catalog stands for a reader that follows its changes: a member's (its node
 * <id>.zones.<catalog> or a property below it: *member gets the member node's name), the version or
 * anything else a change to which needs the whole catalog read again, or nothing a reader looks at
 * (the apex's SOA and NS, other names). member: NAME_MAXLEN octets. */
typedef enum {
	CATALOG_OWNER_OTHER,
	CATALOG_OWNER_MEMBER,
	CATALOG_OWNER_WHOLE,
} catalog_owner_t;

catalog_owner_t catalog_owner(const uint8_t *apex, const uint8_t *owner, uint8_t *member);

/*
 * The member listed at its node owner (<id>.zones.<catalog>) in z, read and checked as catalog_read
 * reads each one: TDM_OK (*m filled), TDM_ENOENT (no member there: no node, or no PTR), TDM_EMALF
 * (why filled: catalog_read would refuse the catalog for it).
 */
int catalog_read_member(const zone_contents_t *z, const uint8_t *owner, catalog_member_t *m, char *why,
                        size_t why_len);

/* A string from a catalog (a group, an ID kept from an older store) made safe for one log line:
 * control characters and non-ASCII octets escaped as \DDD, the rest as it is. Truncated to size. */
void catalog_escape(const char *in, char *out, size_t size);

/* A member's unique ID: a stable function of its name (so every producer restart keeps it). */
void catalog_member_id(const uint8_t *zone, char id[CATALOG_ID_MAX]);

/*
 * Writes the records of a catalog (SOA with the serial given, NS invalid., version "2", one PTR per
 * member, their group and coo properties) into list. TDM_OK or TDM_ENOMEM.
 */
int catalog_write(const uint8_t *apex, uint32_t serial, const catalog_member_t *members,
                  size_t count, rrlist_t *list);
