/* catalog/catalog.c -- RFC 9432 catalog zones (version 2): reading one, and writing one */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "lib/error.h"
#include "lib/siphash.h"
#include "wire/pkt.h"

static int broken(char *why, size_t len, const char *fmt, const uint8_t *name)
{
	char text[NAME_TEXT_MAX];
	name_to_text(name, text, sizeof(text));
	snprintf(why, len, fmt, text);
	return TDM_EMALF;
}

/* "label.label..." + apex into out (wire); false when too long. */
static bool under(const uint8_t *apex, const char *prefix, uint8_t *out)
{
	return name_from_text(prefix, apex, out) > 0;
}

static bool txt_is(const zone_contents_t *z, const zone_rrset_t *set, const char *want)
{
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(z, set, &rdlen);
	size_t n = strlen(want);
	return set->count == 1 && rdlen == n + 1 && rd[0] == n && memcmp(rd + 1, want, n) == 0;
}

static int check_version(const zone_contents_t *z, char *why, size_t len)
{
	uint8_t name[NAME_MAXLEN];
	if (!under(zone_apex(z), "version", name))
		return TDM_EMALF;
	uint32_t idx = zone_lookup(z, name, (size_t)name_length(name, NAME_MAXLEN));
	const zone_rrset_t *txt = idx == ZONE_NODE_NONE ? NULL
	                          : zone_node_rrset(z, zone_node(z, idx), PKT_TYPE_TXT);
	if (txt == NULL || !txt_is(z, txt, "2"))
		return broken(why, len, "catalog %s: no version property \"2\" (RFC 9432 3)", zone_apex(z));
	return TDM_OK;
}

/* Properties of a member: group (TXT, one string) and coo (PTR, one name). */
static int read_property(const zone_contents_t *z, const zone_node_t *n, catalog_member_t *m,
                         const char *label, char *why, size_t len)
{
	const zone_rrset_t *sets = zone_node_rrsets(z, n);
	for (uint16_t i = 0; i < n->rrset_count; i++) {
		uint16_t rdlen;
		const uint8_t *rd = zone_rrset_first(z, &sets[i], &rdlen);
		if (strcmp(label, "group") == 0 && sets[i].type == PKT_TYPE_TXT) {
			if (sets[i].count != 1 || rdlen < 1 || rd[0] + 1 != rdlen ||
			    memchr(rd + 1, 0, rd[0]) != NULL)
				return broken(why, len, "catalog member %s: broken group property", m->zone);
			memcpy(m->group, rd + 1, rd[0]);
			m->group[rd[0]] = '\0';
		} else if (strcmp(label, "coo") == 0 && sets[i].type == PKT_TYPE_PTR) {
			if (sets[i].count != 1 || name_length(rd, rdlen) != rdlen)
				return broken(why, len, "catalog member %s: broken coo property", m->zone);
			name_copy_lower(m->coo, rd);
			m->has_coo = true;
		}
	}
	return TDM_OK;
}

static int push(catalog_t *cat, size_t *cap)
{
	if (cat->count < *cap)
		return TDM_OK;
	size_t ncap = *cap ? *cap * 2 : 16;
	catalog_member_t *p = realloc(cat->members, ncap * sizeof(*p));
	if (p == NULL)
		return TDM_ENOMEM;
	cat->members = p;
	*cap = ncap;
	return TDM_OK;
}

/* One octet as presentation text (RFC 1035 5.1): itself, \X for specials, \DDD for the rest. */
static size_t escape_octet(uint8_t c, char out[5])
{
	if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '@' || c == '$')
		return (size_t)snprintf(out, 5, "\\%c", c);
	if (c <= 0x20 || c >= 0x7f)
		return (size_t)snprintf(out, 5, "\\%03u", c);
	out[0] = (char)c;
	out[1] = '\0';
	return 1;
}

/* The first label of name as presentation text into out: IDs and property labels are any octets
 * (RFC 9432 4.1), so they are kept escaped -- safe to log, to store, to compare (a NUL inside
 * cannot cut one short). False when the text does not fit. */
static bool first_label(const uint8_t *name, char *out, size_t size)
{
	size_t n = 0;
	for (uint8_t i = 0; i < name[0]; i++) {
		char e[5];
		size_t w = escape_octet(name[1 + i], e);
		if (n + w + 1 > size) {
			out[n] = '\0';
			return false;
		}
		memcpy(out + n, e, w);
		n += w;
	}
	out[n] = '\0';
	return true;
}

void catalog_escape(const char *in, char *out, size_t size)
{
	size_t n = 0;
	if (size == 0)
		return;
	for (; *in != '\0'; in++) {
		char e[5];
		uint8_t c = (uint8_t)*in;
		/* Only what could break a log line or hide text: IDs read here are escaped already (their
		 * backslashes stay as they are), printable text stays readable. */
		size_t w = c >= 0x20 && c < 0x7f ? (e[0] = (char)c, e[1] = '\0', 1)
		                                 : (size_t)snprintf(e, sizeof(e), "\\%03u", c);
		if (n + w + 1 > size)
			break;
		memcpy(out + n, e, w);
		n += w;
	}
	out[n] = '\0';
}

static int read_member(const zone_contents_t *z, const zone_node_t *n, catalog_t *cat,
                       size_t *cap, size_t max, char *why, size_t len)
{
	const zone_rrset_t *ptr = zone_node_rrset(z, n, PKT_TYPE_PTR);
	if (ptr == NULL)
		return TDM_OK;   /* RFC 9432 4.1: nothing else belongs here; ignore */
	if (max != 0 && cat->count >= max) {
		snprintf(why, len, "more than catalog-max-members %zu members", max);
		return TDM_EMALF;
	}
	if (ptr->count != 1)
		return broken(why, len, "catalog member node %s has more than one PTR",
		              zone_node_name(z, n));
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(z, ptr, &rdlen);
	if (name_length(rd, rdlen) != rdlen || push(cat, cap) != TDM_OK)
		return rdlen && name_length(rd, rdlen) == rdlen ? TDM_ENOMEM
		       : broken(why, len, "catalog member node %s: bad PTR", zone_node_name(z, n));
	catalog_member_t *m = &cat->members[cat->count++];
	memset(m, 0, sizeof(*m));
	name_copy_lower(m->zone, rd);
	m->coo[0] = 0;
	if (!first_label(zone_node_name(z, n), m->id, sizeof(m->id)))
		return broken(why, len, "catalog member node %s: unique ID too long once escaped",
		              zone_node_name(z, n));
	return TDM_OK;
}

/* The member's properties (RFC 9432 4.4: group, coo) from the nodes below its own (n). */
static int read_properties(const zone_contents_t *z, const zone_node_t *n, catalog_member_t *m,
                           char *why, size_t len)
{
	static const char *const props[] = { "group", "coo" };
	const uint8_t *owner = zone_node_name(z, n);
	int olen = name_length(owner, NAME_MAXLEN), ret = TDM_OK;
	for (size_t k = 0; k < sizeof(props) / sizeof(props[0]) && ret == TDM_OK; k++) {
		uint8_t name[NAME_MAXLEN];
		size_t pl = strlen(props[k]);
		if (olen < 0 || 1 + pl + (size_t)olen > NAME_MAXLEN)
			continue;
		name[0] = (uint8_t)pl;
		memcpy(name + 1, props[k], pl);
		memcpy(name + 1 + pl, owner, (size_t)olen);
		uint32_t idx = zone_lookup(z, name, 1 + pl + (size_t)olen);
		if (idx != ZONE_NODE_NONE)
			ret = read_property(z, zone_node(z, idx), m, props[k], why, len);
	}
	return ret;
}

/* RFC 9432 4.1: a member zone listed under two IDs refuses the catalog. An open-addressing table of
 * the members by name (keyed hash: the names are the primary's to choose). */
static int check_duplicates(catalog_t *cat, char *why, size_t len)
{
	size_t size = 16;
	while (size < cat->count * 2)
		size *= 2;
	const catalog_member_t **slots = calloc(size, sizeof(*slots));
	if (slots == NULL)
		return TDM_ENOMEM;
	int ret = TDM_OK;
	for (size_t i = 0; i < cat->count && ret == TDM_OK; i++) {
		const catalog_member_t *m = &cat->members[i];
		size_t h = name_hash(m->zone, (size_t)name_length(m->zone, NAME_MAXLEN)) & (size - 1);
		for (; slots[h] != NULL && ret == TDM_OK; h = (h + 1) & (size - 1))
			if (name_equal(slots[h]->zone, m->zone))
				ret = broken(why, len, "catalog lists %s twice (RFC 9432 4.1)", m->zone);
		slots[h] = m;
	}
	free(slots);
	return ret;
}

catalog_owner_t catalog_owner(const uint8_t *apex, const uint8_t *owner, uint8_t *member)
{
	uint8_t zones[NAME_MAXLEN], version[NAME_MAXLEN];
	if (!under(apex, "zones", zones) || !under(apex, "version", version) || name_equal(owner, version))
		return CATALOG_OWNER_WHOLE;
	if (!name_in_zone(owner, zones))
		return CATALOG_OWNER_OTHER;
	int depth = name_labels(owner) - name_labels(zones);
	if (depth == 1 || depth == 2) {   /* <id>.zones, or a property <label>.<id>.zones */
		const uint8_t *m = depth == 2 ? owner + 1 + owner[0] : owner;
		memcpy(member, m, (size_t)name_length(m, NAME_MAXLEN));
		return CATALOG_OWNER_MEMBER;
	}
	return CATALOG_OWNER_OTHER;
}

int catalog_read_member(const zone_contents_t *z, const uint8_t *owner, catalog_member_t *m, char *why,
                        size_t why_len)
{
	uint32_t idx = zone_lookup(z, owner, (size_t)name_length(owner, NAME_MAXLEN));
	if (idx == ZONE_NODE_NONE)
		return TDM_ENOENT;
	const zone_node_t *n = zone_node(z, idx);
	catalog_t one = { .members = m, .count = 0 };
	size_t cap = 1;   /* room for the one: read_member does not grow the array */
	int ret = read_member(z, n, &one, &cap, 0, why, why_len);
	if (ret != TDM_OK)
		return ret;
	if (one.count == 0)
		return TDM_ENOENT;
	return read_properties(z, n, m, why, why_len);
}

int catalog_read(const zone_contents_t *z, catalog_t *out, char *why, size_t why_len)
{
	return catalog_read_max(z, 0, out, why, why_len);
}

int catalog_read_max(const zone_contents_t *z, size_t max, catalog_t *out, char *why, size_t why_len)
{
	uint8_t zones[NAME_MAXLEN];
	catalog_t cat = { 0 };
	size_t cap = 0;
	int ret = check_version(z, why, why_len);
	if (ret != TDM_OK || !under(zone_apex(z), "zones", zones))
		return ret != TDM_OK ? ret : TDM_EMALF;
	int zlabels = name_labels(zones);
	for (uint32_t i = 0; i < zone_node_count(z) && ret == TDM_OK; i++) {
		const zone_node_t *n = zone_node(z, i);
		if (n->flags & ZONE_NODE_DEAD)
			continue;
		const uint8_t *name = zone_node_name(z, n);
		if (name_labels(name) - zlabels != 1 || !name_in_zone(name, zones))
			continue;
		size_t before = cat.count;
		ret = read_member(z, n, &cat, &cap, max, why, why_len);
		if (ret == TDM_OK && cat.count > before)
			ret = read_properties(z, n, &cat.members[cat.count - 1], why, why_len);
	}
	if (ret == TDM_OK)
		ret = check_duplicates(&cat, why, why_len);
	if (ret != TDM_OK) {
		catalog_clear(&cat);
		return ret;
	}
	*out = cat;
	return TDM_OK;
}

void catalog_clear(catalog_t *cat)
{
	free(cat->members);
	cat->members = NULL;
	cat->count = 0;
}

void catalog_member_id(const uint8_t *zone, char id[CATALOG_ID_MAX])
{
	/* A fixed key: the ID must be the same on every run and every producer of this zone. */
	static const uint8_t key[16] = "tandem-catalog-1";
	int len = name_length(zone, NAME_MAXLEN);
	snprintf(id, CATALOG_ID_MAX, "%016llx",
	         (unsigned long long)siphash24(key, zone, len > 0 ? (size_t)len : 0));
}

static int add_text(rrlist_t *list, const uint8_t *apex, const char *prefix, uint16_t type,
                    const uint8_t *rdata, size_t rdlen)
{
	uint8_t owner[NAME_MAXLEN];
	if (prefix != NULL && !under(apex, prefix, owner))
		return TDM_ENAMELEN;
	return rrlist_add(list, prefix != NULL ? owner : apex, type, 0, rdata, (uint16_t)rdlen, 0);
}

int catalog_write(const uint8_t *apex, uint32_t serial, const catalog_member_t *members,
                  size_t count, rrlist_t *list)
{
	/* RFC 9432 3: SOA and NS as any zone (the NS points nowhere: "invalid."). TTL 0 throughout. */
	uint8_t soa[64] = "\x07invalid\x00\x07invalid\x00";
	pkt_put32(soa + 18, serial);
	pkt_put32(soa + 22, 3600);
	pkt_put32(soa + 26, 600);
	pkt_put32(soa + 30, 2419200);
	pkt_put32(soa + 34, 0);
	int ret = add_text(list, apex, NULL, PKT_TYPE_SOA, soa, 38);
	if (ret == TDM_OK)
		ret = add_text(list, apex, NULL, PKT_TYPE_NS, (const uint8_t *)"\x07invalid", 9);
	if (ret == TDM_OK)
		ret = add_text(list, apex, "version", PKT_TYPE_TXT, (const uint8_t *)"\x01" "2", 2);
	for (size_t i = 0; i < count && ret == TDM_OK; i++) {
		const catalog_member_t *m = &members[i];
		char prefix[CATALOG_ID_MAX + 32];
		snprintf(prefix, sizeof(prefix), "%s.zones", m->id);
		ret = add_text(list, apex, prefix, PKT_TYPE_PTR, m->zone,
		               (size_t)name_length(m->zone, NAME_MAXLEN));
		if (ret == TDM_OK && m->group[0] != '\0') {
			uint8_t txt[CATALOG_GROUP_MAX + 1];
			size_t n = strlen(m->group) > 255 ? 255 : strlen(m->group);
			txt[0] = (uint8_t)n;
			memcpy(txt + 1, m->group, n);
			snprintf(prefix, sizeof(prefix), "group.%s.zones", m->id);
			ret = add_text(list, apex, prefix, PKT_TYPE_TXT, txt, n + 1);
		}
		if (ret == TDM_OK && m->has_coo) {
			snprintf(prefix, sizeof(prefix), "coo.%s.zones", m->id);
			ret = add_text(list, apex, prefix, PKT_TYPE_PTR, m->coo,
			               (size_t)name_length(m->coo, NAME_MAXLEN));
		}
	}
	return ret;
}
