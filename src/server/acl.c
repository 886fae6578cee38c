/* server/acl.c -- who may transfer a zone, send it NOTIFY or update it */
#include <netinet/in.h>
#include <string.h>

#include "server/acl.h"

static bool key_ok(const conf_key_t *const *keys, size_t count, const char *key_name)
{
	if (count == 0)
		return true;
	for (size_t i = 0; key_name != NULL && i < count; i++)
		if (strcmp(keys[i]->name, key_name) == 0)
			return true;
	return false;
}

static bool acl_match(const conf_acl_t *acl, const sockaddr_t *from, const char *key_name)
{
	bool addr = acl->prefix_count == 0;
	for (size_t i = 0; !addr && i < acl->prefix_count; i++)
		addr = addr_prefix_match(&acl->prefixes[i], from);
	return addr && key_ok(acl->keys, acl->key_count, key_name);
}

/* Same address (ports differ: a NOTIFY comes from any port). */
static bool same_host(const sockaddr_t *a, const sockaddr_t *b)
{
	addr_prefix_t p = { .addr = *a, .prefix = sockaddr_family(a) == AF_INET ? 32 : 128 };
	return addr_prefix_match(&p, b);
}

static bool from_primary(const conf_zone_t *cz, const sockaddr_t *from, const char *key_name)
{
	for (size_t i = 0; i < cz->primary_count; i++) {
		const conf_remote_t *r = cz->primaries[i];
		for (size_t j = 0; j < r->address_count; j++) {
			if (!same_host(&r->addresses[j], from))
				continue;
			if (r->key == NULL || (key_name != NULL && strcmp(r->key->name, key_name) == 0))
				return true;
		}
	}
	return false;
}

bool acl_allows(const conf_zone_t *cz, unsigned action, const sockaddr_t *from,
                const char *key_name)
{
	return acl_allows_over(cz, action, from, key_name, false);
}

bool acl_allows_over(const conf_zone_t *cz, unsigned action, const sockaddr_t *from,
                     const char *key_name, bool tls)
{
	if (cz == NULL)
		return false;
	if (action == CONF_ALLOW_NOTIFY && from_primary(cz, from, key_name))
		return true;
	for (size_t i = 0; i < cz->acl_count; i++) {
		const conf_acl_t *acl = cz->acls[i];
		if ((acl->allow & action) && (tls || acl->transport != CONF_TRANSPORT_TLS) &&
		    acl_match(acl, from, key_name))
			return true;
	}
	return false;
}
