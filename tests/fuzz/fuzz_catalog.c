/* tests/fuzz/fuzz_catalog.c -- fuzz target: catalog_read on a catalog zone built from fuzzed records */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "fuzz_util.h"
#include "lib/error.h"
#include "wire/pkt.h"
#include "wire/rdata.h"
#include "zone/contents.h"
#include "zone/rrlist.h"

/*
 * The input is a run of resource records in wire form, as the answer section of a transfer of the
 * catalog zone catz.example. holds them (names may be compressed against earlier records; offsets
 * count from a 12-octet header the target puts in front). Each record is read as xfr/in.c reads one
 * (pkt_read_rr, rdata_unpack); records outside the catalog and SOAs are dropped, and the target gives
 * the zone its own SOA and NS. The version built from them goes to catalog_read. When the catalog is
 * accepted and its IDs are plain labels, catalog_write of its members must read back the same members;
 * and each member node a record touches, read alone (catalog_read_member, what a consumer following the
 * catalog's changes reads), must give that member exactly, or no member where the whole read has none.
 */

#define CATZ "\x04" "catz" "\x07" "example"
#define MAX_RECORDS 4096

static const uint8_t apex[] = CATZ;

static bool plain_label(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const catalog_member_t *)a)->id, ((const catalog_member_t *)b)->id);
}

static zone_contents_t *build(rrlist_t *list)
{
	zone_contents_t *z = NULL;
	return zone_contents_build(apex, list, &z) == TDM_OK ? z : NULL;
}

/* catalog_write, then catalog_read: the same members, IDs, groups and coo. */
static void check_roundtrip(catalog_t *cat)
{
	if (cat->count == 0)
		return;
	for (size_t i = 0; i < cat->count; i++)
		if (!plain_label(cat->members[i].id))
			return;
	rrlist_t *list = rrlist_new();
	zone_contents_t *z = NULL;
	catalog_t again = { 0 };
	char why[256] = "";
	if (list == NULL || catalog_write(apex, 1, cat->members, cat->count, list) != TDM_OK ||
	    (z = build(list)) == NULL)
		goto out;
	int ret = catalog_read(z, &again, why, sizeof(why));
	if (ret == TDM_ENOMEM)
		goto out;
	if (ret != TDM_OK || again.count != cat->count) {
		fprintf(stderr, "catalog_write of %zu members reads back as %zu (%s)\n", cat->count,
		        again.count, why);
		abort();
	}
	qsort(cat->members, cat->count, sizeof(catalog_member_t), by_id);
	qsort(again.members, again.count, sizeof(catalog_member_t), by_id);
	for (size_t i = 0; i < cat->count; i++) {
		const catalog_member_t *a = &cat->members[i], *b = &again.members[i];
		if (strcmp(a->id, b->id) != 0 || !name_equal(a->zone, b->zone) ||
		    strcmp(a->group, b->group) != 0 || a->has_coo != b->has_coo ||
		    (a->has_coo && !name_equal(a->coo, b->coo))) {
			fprintf(stderr, "catalog member %s changed through catalog_write\n", a->id);
			abort();
		}
	}
out:
	catalog_clear(&again);
	zone_contents_free(z);
	rrlist_free(list);
}

static bool same_member(const catalog_member_t *a, const catalog_member_t *b)
{
	return strcmp(a->id, b->id) == 0 && name_equal(a->zone, b->zone) && strcmp(a->group, b->group) == 0 &&
	       a->has_coo == b->has_coo && (!a->has_coo || name_equal(a->coo, b->coo));
}

/* An accepted catalog read member by member, at the nodes its records touch. */
static void check_one_by_one(const zone_contents_t *z, const rrlist_t *list, const catalog_t *cat)
{
	for (size_t i = 0; i < rrlist_count(list); i++) {
		uint8_t node[NAME_MAXLEN];
		if (catalog_owner(apex, rrlist_at(list, i)->owner, node) != CATALOG_OWNER_MEMBER)
			continue;
		catalog_member_t m;
		char why[256] = "";
		int ret = catalog_read_member(z, node, &m, why, sizeof(why));
		const catalog_member_t *want = NULL;
		for (size_t j = 0; ret == TDM_OK && j < cat->count && want == NULL; j++)
			if (strcmp(cat->members[j].id, m.id) == 0)
				want = &cat->members[j];
		if (ret == TDM_ENOENT)
			continue;
		if (ret != TDM_OK || want == NULL || !same_member(&m, want)) {
			fprintf(stderr, "a member read alone (%d: %s) is not what the whole read gives\n", ret, why);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rdbuf[65536];
	static const uint8_t soa[] = "\x07invalid\x00\x07invalid\x00"
	                             "\x00\x00\x00\x01\x00\x00\x0e\x10\x00\x00\x02\x58"
	                             "\x00\x24\xea\x00\x00\x00\x00\x00";
	if (size > PKT_MAXLEN - PKT_HEADER_LEN)
		return 0;
	uint8_t *msg = malloc(PKT_HEADER_LEN + size);
	rrlist_t *list = rrlist_new();
	if (msg == NULL || list == NULL)
		goto out;
	memset(msg, 0, PKT_HEADER_LEN);
	memcpy(msg + PKT_HEADER_LEN, data, size);
	size_t len = PKT_HEADER_LEN + size, pos = PKT_HEADER_LEN;
	rrlist_add(list, apex, PKT_TYPE_SOA, 0, soa, sizeof(soa) - 1, 0);
	rrlist_add(list, apex, PKT_TYPE_NS, 0, (const uint8_t *)"\x07invalid", 9, 0);
	for (unsigned n = 0; pos < len && n < MAX_RECORDS; n++) {
		pkt_rr_t rr;
		if (pkt_read_rr(msg, len, &pos, &rr) != TDM_OK)
			break;
		int rdlen = rdata_unpack(msg, len, rr.rdata_pos, rr.rdlen, rr.type, rdbuf, sizeof(rdbuf));
		uint8_t owner[NAME_MAXLEN];
		name_copy_lower(owner, rr.owner);
		if (rdlen < 0 || rr.type == PKT_TYPE_SOA || rdata_is_meta(rr.type) ||
		    !name_in_zone(owner, apex))
			continue;
		rrlist_add(list, owner, rr.type, rr.ttl, rdbuf, (uint16_t)rdlen, 0);
	}
	zone_contents_t *z = build(list);
	if (z != NULL) {
		catalog_t cat = { 0 };
		char why[256];
		if (catalog_read(z, &cat, why, sizeof(why)) == TDM_OK) {
			check_one_by_one(z, list, &cat);
			check_roundtrip(&cat);
		}
		catalog_clear(&cat);
		zone_contents_free(z);
	}
out:
	rrlist_free(list);
	free(msg);
	return 0;
}
