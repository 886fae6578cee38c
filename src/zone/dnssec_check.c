/* zone/dnssec_check.c -- warnings about a signed version: expired signatures, unsigned RRsets, broken chains */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "wire/rdata.h"
#include "zone/diff.h"
#include "zone/dnssec.h"

typedef struct {
	const zone_contents_t *z;
	const zone_dnssec_t *d;
	unsigned found, max;
	zone_dnssec_report_fn fn;
	void *ctx;
} checker_t;

static void report(checker_t *c, const uint8_t *owner, const char *what, uint16_t type)
{
	if (c->found++ >= c->max)
		return;
	char name[NAME_TEXT_MAX], line[NAME_TEXT_MAX + 128], tname[32];
	if (name_to_text(owner, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "(bad name)");
	if (type != 0)
		snprintf(line, sizeof(line), "%s %s: %s", name, rdata_type_name(type, tname, sizeof(tname)),
		         what);
	else
		snprintf(line, sizeof(line), "%s: %s", name, what);
	c->fn(c->ctx, line);
}

/* RFC 4034 3.1.5: inception and expiration are compared with serial number arithmetic. */
static void check_times(checker_t *c, const uint8_t *owner, const zone_rrset_t *sigs, uint32_t now)
{
	zone_rdata_iter_t it;
	const uint8_t *rd;
	uint16_t rdlen;
	zone_rdata_begin(c->z, sigs, &it);
	while (zone_rdata_next(&it, &rd, &rdlen)) {
		if (rdlen < 18) {
			report(c, owner, "RRSIG too short", 0);
			continue;
		}
		uint16_t covered = pkt_get16(rd);
		if (serial_cmp(pkt_get32(rd + 8), now) < 0)
			report(c, owner, "signature expired", covered);
		else if (serial_cmp(pkt_get32(rd + 12), now) > 0)
			report(c, owner, "signature not yet valid", covered);
	}
}

/* RFC 4035 2.2: every authoritative RRset is signed; at a delegation only DS and NSEC are. */
static void check_node(checker_t *c, const zone_node_t *n, uint32_t now)
{
	const uint8_t *owner = zone_node_name(c->z, n);
	const zone_rrset_t *sets = zone_node_rrsets(c->z, n);
	if (n->flags & ZONE_NODE_NONAUTH)
		return;
	for (uint16_t i = 0; i < n->rrset_count; i++) {
		uint16_t type = sets[i].type;
		if (type == PKT_TYPE_RRSIG) {
			check_times(c, owner, &sets[i], now);
			continue;
		}
		if ((n->flags & ZONE_NODE_DELEG) && type != PKT_TYPE_DS && type != PKT_TYPE_NSEC)
			continue;
		if (zone_node_rrsig(c->z, n, type) == NULL)
			report(c, owner, "RRset without RRSIG", type);
	}
}

static const uint8_t *owner_of(const checker_t *c, uint32_t idx)
{
	return zone_node_name(c->z, zone_node(c->z, idx));
}

/* RFC 4034 4.1.1: each NSEC names the next owner in canonical order, the last one the apex. */
static void check_nsec_chain(checker_t *c, const uint32_t *order, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		const zone_node_t *n = zone_node(c->z, order[i]);
		uint16_t rdlen;
		const uint8_t *rd = zone_rrset_first(c->z, zone_node_rrset(c->z, n, PKT_TYPE_NSEC), &rdlen);
		if (name_length(rd, rdlen) < 0 || !name_equal(rd, owner_of(c, order[(i + 1) % count])))
			report(c, owner_of(c, order[i]), "NSEC chain broken: next owner is not the next name", 0);
	}
}

/* RFC 5155 3.1.7: each NSEC3 holds the next hash of the chain, the last one the first. */
static void check_nsec3_chain(checker_t *c, const uint32_t *order, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		const zone_node_t *n = zone_node(c->z, order[i]);
		uint16_t rdlen;
		const uint8_t *rd = zone_rrset_first(c->z, zone_node_rrset(c->z, n, PKT_TYPE_NSEC3), &rdlen);
		size_t at = 5 + (size_t)rd[4];
		const uint8_t *next = owner_of(c, order[(i + 1) % count]);
		uint8_t text[1 + 255];
		if (at >= rdlen || at + 1 + rd[at] > rdlen || (size_t)rd[at] * 8 / 5 + 1 > 255) {
			report(c, owner_of(c, order[i]), "NSEC3 record malformed", 0);
			continue;
		}
		size_t len = base32hex_encode(rd + at + 1, rd[at], text);
		if (len != next[0] || memcmp(text, next + 1, len) != 0)
			report(c, owner_of(c, order[i]), "NSEC3 chain broken: next hash is not the next owner", 0);
	}
}

unsigned zone_dnssec_check(const zone_contents_t *z, const zone_dnssec_t *d, int64_t now,
                           unsigned max, zone_dnssec_report_fn fn, void *ctx)
{
	checker_t c = { .z = z, .d = d, .max = max, .fn = fn, .ctx = ctx };
	if (d == NULL)
		return 0;
	for (uint32_t i = 0; i < zone_node_count(z); i++) {
		const zone_node_t *n = zone_node(z, i);
		if (n->rrset_count > 0)
			check_node(&c, n, (uint32_t)now);
	}
	uint32_t count;
	uint32_t *order = zone_dnssec_chain(d, &count);
	if (order == NULL)
		return c.found;
	if (zone_dnssec_nsec3(d) && zone_dnssec_params(d)->iterations > NSEC3_MAX_ITERATIONS)
		report(&c, zone_apex(z), "NSEC3 iterations above 500 (RFC 9276: validators call it insecure): "
		                         "served without NSEC3 proofs", 0);
	if (count == 0)
		report(&c, zone_apex(z), zone_dnssec_nsec3(d) ? "no NSEC3 chain for the NSEC3PARAM"
		                                              : "signed zone without NSEC or NSEC3 records", 0);
	else if (zone_dnssec_nsec3(d))
		check_nsec3_chain(&c, order, count);
	else
		check_nsec_chain(&c, order, count);
	free(order);
	if (c.found > max) {
		char more[64];
		snprintf(more, sizeof(more), "... and %u more DNSSEC problems", c.found - max);
		fn(ctx, more);
	}
	return c.found;
}
