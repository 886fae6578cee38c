/* tests/unit/zone/test_update.c -- zone/update.c: a version made by a change answers exactly as one built whole */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/contents.h"
#include "zone/diff.h"
#include "dnssec/nsec3.h"
#include "zone/dnssec.h"
#include "zone/rrlist.h"
#include "zone/update.h"
#include "testlib/testlib.h"

/* ---- a deterministic generator of owners, types and rdata ---- */

static uint32_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) % n;
}

static const char *OWNERS[] = {
	"example.com.", "www.example.com.", "a.b.c.example.com.", "b.c.example.com.", "*.example.com.",
	"*.w.example.com.", "x.w.example.com.", "sub.example.com.", "ns.sub.example.com.",
	"deep.ns.sub.example.com.", "other.example.com.", "ns.other.example.com.", "cn.example.com.",
	"dn.example.com.", "below.dn.example.com.", "e.n.t.example.com.", "t.example.com.",
	"mail.example.com.", "_tcp._srv.example.com.", "nothere.example.net.",
};
#define OWNER_COUNT (sizeof(OWNERS) / sizeof(OWNERS[0]))

/* One random record (never SOA): types chosen so delegations, CNAME, DNAME, wildcards and ENTs come
 * and go. */
static void random_rr(rrlist_t *l)
{
	const char *owner = OWNERS[rnd(OWNER_COUNT - 1) + 1];
	if (rnd(40) == 0)
		owner = OWNERS[OWNER_COUNT - 1];   /* outside the zone: ignored by both */
	uint32_t ttl = 300 + 100 * rnd(3);
	uint8_t rd[32];
	switch (rnd(9)) {
	case 8: {   /* an NSEC: its owner joins the chain of a signed version */
		const uint8_t *next = N("example.com.");
		size_t n = (size_t)name_length(next, NAME_MAXLEN);
		uint8_t nsec[300];
		memcpy(nsec, next, n);
		nsec[n] = 0;
		nsec[n + 1] = 1;
		nsec[n + 2] = (uint8_t)(0x40 | rnd(2));
		add_raw(l, owner, PKT_TYPE_NSEC, ttl, nsec, n + 3);
		break;
	}
	case 0:
		add_name(l, owner, PKT_TYPE_NS, ttl, rnd(2) ? "ns.sub.example.com." : "ns.elsewhere.net.");
		break;
	case 1:
		add_name(l, owner, PKT_TYPE_CNAME, ttl, "www.example.com.");
		break;
	case 2:
		add_name(l, owner, PKT_TYPE_DNAME, ttl, "example.net.");
		break;
	case 3:
		rd[0] = 5;
		memcpy(rd + 1, "hello", 5);
		rd[5] = (uint8_t)('a' + rnd(4));
		add_raw(l, owner, PKT_TYPE_TXT, ttl, rd, 6);
		break;
	case 4:
		memset(rd, 0, 16);
		rd[15] = (uint8_t)rnd(4);
		add_raw(l, owner, PKT_TYPE_AAAA, ttl, rd, 16);
		break;
	default:
		rd[0] = 192;
		rd[1] = 0;
		rd[2] = 2;
		rd[3] = (uint8_t)rnd(6);
		add_raw(l, owner, PKT_TYPE_A, ttl, rd, 4);
		break;
	}
}

/* ---- comparing two versions node by node ---- */

static void assert_same_node(const zone_contents_t *a, uint32_t ia, const zone_contents_t *b, uint32_t ib)
{
	const zone_node_t *x = zone_node(a, ia), *y = zone_node(b, ib);
	char text[1024];
	name_to_text(zone_node_name(a, x), text, sizeof(text));
	if (x->flags != y->flags || x->rrset_count != y->rrset_count || x->children != y->children)
		fail_msg("%s: flags %#x/%#x, rrsets %u/%u, children %u/%u", text, x->flags, y->flags,
		         x->rrset_count, y->rrset_count, x->children, y->children);
	assert_memory_equal(zone_node_name(a, zone_node(a, x->parent)), zone_node_name(b, zone_node(b, y->parent)),
	                    (size_t)name_length(zone_node_name(a, zone_node(a, x->parent)), NAME_MAXLEN));
	const zone_rrset_t *s = zone_node_rrsets(a, x), *t = zone_node_rrsets(b, y);
	for (uint16_t i = 0; i < x->rrset_count; i++) {
		if (s[i].type != t[i].type || s[i].ttl != t[i].ttl || s[i].count != t[i].count)
			fail_msg("%s: RRset %u: type %u/%u ttl %u/%u count %u/%u", text, i, s[i].type, t[i].type,
			         s[i].ttl, t[i].ttl, s[i].count, t[i].count);
		zone_rdata_iter_t p, q;
		const uint8_t *r1, *r2;
		uint16_t l1, l2;
		zone_rdata_begin(a, &s[i], &p);
		zone_rdata_begin(b, &t[i], &q);
		while (zone_rdata_next(&p, &r1, &l1)) {
			assert_true(zone_rdata_next(&q, &r2, &l2));
			assert_int_equal(l1, l2);
			assert_memory_equal(r1, r2, l1);
		}
	}
}

/* Every live node of each is in the other, the same in flags, RRsets (order too), children. */
static void assert_same_version(const zone_contents_t *got, const zone_contents_t *want)
{
	assert_int_equal(zone_serial(got), zone_serial(want));
	assert_int_equal(zone_record_count(got), zone_record_count(want));
	assert_int_equal(zone_wire_size(got), zone_wire_size(want));
	const zone_contents_t *pair[2][2] = { { got, want }, { want, got } };
	for (int k = 0; k < 2; k++) {
		const zone_contents_t *a = pair[k][0], *b = pair[k][1];
		for (uint32_t i = 0; i < zone_node_count(a); i++) {
			const zone_node_t *n = zone_node(a, i);
			if (n->flags & ZONE_NODE_DEAD) {
				assert_int_equal(zone_lookup(a, zone_node_name(a, n), n->name_len) == i, 0);
				continue;
			}
			assert_int_equal(zone_lookup(a, zone_node_name(a, n), n->name_len), i);
			uint32_t j = zone_lookup(b, zone_node_name(a, n), n->name_len);
			if (j == ZONE_NODE_NONE) {
				char text[1024];
				name_to_text(zone_node_name(a, n), text, sizeof(text));
				fail_msg("%s only in the %s version", text, k == 0 ? "updated" : "rebuilt");
			}
			assert_same_node(a, i, b, j);
		}
	}
	const zone_dnssec_t *d1 = zone_contents_dnssec(got), *d2 = zone_contents_dnssec(want);
	assert_int_equal(d1 == NULL, d2 == NULL);
	if (d1 != NULL) {
		uint32_t c1, c2;
		uint32_t *o1 = zone_dnssec_chain(d1, &c1), *o2 = zone_dnssec_chain(d2, &c2);
		assert_int_equal(c1, c2);
		for (uint32_t i = 0; i < c1; i++)
			assert_true(name_equal(zone_node_name(got, zone_node(got, o1[i])),
			                       zone_node_name(want, zone_node(want, o2[i]))));
		free(o1);
		free(o2);
		/* Every live node's own NSEC3 is the same node (by name) in both. */
		for (uint32_t i = 0; i < zone_node_count(got); i++) {
			const zone_node_t *n = zone_node(got, i);
			if (n->flags & ZONE_NODE_DEAD)
				continue;
			uint32_t a = zone_nsec3_of(d1, i);
			uint32_t b = zone_nsec3_of(d2, zone_lookup(want, zone_node_name(got, n), n->name_len));
			assert_int_equal(a == ZONE_NODE_NONE, b == ZONE_NODE_NONE);
			if (a != ZONE_NODE_NONE)
				assert_true(name_equal(zone_node_name(got, zone_node(got, a)),
				                       zone_node_name(want, zone_node(want, b))));
		}
	}
}

/* The reference: the records of old less removed plus added, built whole. */
static zone_contents_t *rebuilt(const zone_contents_t *old, const rrlist_t *removed, const rrlist_t *added)
{
	rrlist_t *list;
	zone_contents_t *z;
	assert_int_equal(zone_apply(old, removed, added, &list), TDM_OK);
	assert_int_equal(zone_contents_build(N("example.com."), list, &z), TDM_OK);
	rrlist_free(list);
	return z;
}

static zone_contents_t *base_version(void)
{
	rrlist_t *l = rrlist_new();
	add_soa(l, "example.com.", 3600, 1, 300);
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
	if (rng_state % 2 == 0) {   /* half the versions signed: the NSEC index follows the changes */
		uint8_t key[8] = { 1, 0, 3, 13, 1, 2, 3, 4 };
		add_raw(l, "example.com.", PKT_TYPE_DNSKEY, 3600, key, sizeof(key));
	}
	for (int i = 0; i < 60; i++)
		random_rr(l);
	zone_contents_t *z;
	assert_int_equal(zone_contents_build(N("example.com."), l, &z), TDM_OK);
	rrlist_free(l);
	return z;
}

/* Removes a few records the version holds (picked from its own list) and adds a few new ones. */
static void random_change(const zone_contents_t *z, uint32_t serial, rrlist_t *removed, rrlist_t *added)
{
	rrlist_t *all = rrlist_new();
	assert_int_equal(zone_contents_to_rrlist(z, all), TDM_OK);
	/* The SOA first: removed and added as IXFR carries it. */
	const rr_t *soa = rrlist_at(all, 0);
	assert_int_equal(rrlist_add(removed, soa->owner, soa->type, soa->ttl, soa->rdata, soa->rdlen, 0), TDM_OK);
	add_soa(added, "example.com.", 3600, serial, 300);
	unsigned drops = rnd(4), adds = rnd(4);
	for (unsigned i = 0; i < drops && rrlist_count(all) > 2; i++) {
		const rr_t *rr = rrlist_at(all, 1 + rnd((uint32_t)rrlist_count(all) - 1));
		if (rr->type == PKT_TYPE_SOA)
			continue;
		assert_int_equal(rrlist_add(removed, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, 0), TDM_OK);
	}
	for (unsigned i = 0; i < adds; i++)
		random_rr(added);
	rrlist_free(all);
}

static void test_random_changes_match_a_rebuild(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= 40; seed++) {
		rng_state = seed;
		zone_contents_t *z = base_version();
		for (uint32_t step = 0; step < 60; step++) {
			rrlist_t *removed = rrlist_new(), *added = rrlist_new();
			random_change(z, 2 + step, removed, added);
			zone_contents_t *want = rebuilt(z, removed, added), *got;
			assert_int_equal(zone_update_apply(z, removed, added, &got), TDM_OK);
			assert_same_version(got, want);
			zone_contents_free(want);
			zone_contents_free(z);   /* the old version goes: the new one must not need it */
			z = got;
			rrlist_free(removed);
			rrlist_free(added);
		}
		zone_contents_free(z);
	}
}

/* A zone of eight records built whole is packed (zone/pages.h zone_pages_pack): its pages at their exact
 * sizes in one allocation (unpacked, the pages grown by doubling and the directories of four entries
 * made it 1,072 octets; packed, 750). A change shares the packed pages; either version can be freed first. */
static void test_small_version_packed_and_shared(void **state)
{
	(void)state;
	for (int old_first = 0; old_first < 2; old_first++) {
		rrlist_t *l = rrlist_new();
		uint8_t a[4] = { 192, 0, 2, 1 }, b[4] = { 192, 0, 2, 2 }, w[4] = { 192, 0, 2, 80 };
		uint8_t aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x80 };
		add_soa(l, "example.com.", 3600, 1, 300);
		add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
		add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns2.example.com.");
		add_raw(l, "ns1.example.com.", PKT_TYPE_A, 3600, a, 4);
		add_raw(l, "ns2.example.com.", PKT_TYPE_A, 3600, b, 4);
		add_raw(l, "www.example.com.", PKT_TYPE_A, 3600, w, 4);
		add_raw(l, "www.example.com.", PKT_TYPE_AAAA, 3600, aaaa, 16);
		uint8_t mx[2 + NAME_MAXLEN] = { 0, 10 };
		const uint8_t *mail = N("mail.example.net.");
		int mlen = name_length(mail, NAME_MAXLEN);
		memcpy(mx + 2, mail, (size_t)mlen);
		add_raw(l, "example.com.", PKT_TYPE_MX, 3600, mx, 2 + (size_t)mlen);
		zone_contents_t *z;
		assert_int_equal(zone_contents_build(N("example.com."), l, &z), TDM_OK);
		assert_true(zone_memory(z) < 900);
		rrlist_t *removed = rrlist_new(), *added = rrlist_new();
		rng_state = 5;
		random_change(z, 2, removed, added);
		zone_contents_t *want = rebuilt(z, removed, added), *got;
		assert_int_equal(zone_update_apply(z, removed, added, &got), TDM_OK);
		if (old_first)
			zone_contents_free(z);
		assert_same_version(got, want);
		if (!old_first) {
			zone_contents_free(got);
			got = NULL;
			rrlist_t *again = rrlist_new();
			assert_int_equal(zone_contents_to_rrlist(z, again), TDM_OK);
			assert_int_equal(rrlist_count(again), 8);
			rrlist_free(again);
			zone_contents_free(z);
		}
		zone_contents_free(got);
		zone_contents_free(want);
		rrlist_free(removed);
		rrlist_free(added);
		rrlist_free(l);
	}
}

/* The old version is untouched by a change made from it, and both stay readable in any order of
 * freeing. */
static void test_old_version_unchanged(void **state)
{
	(void)state;
	rng_state = 99;
	zone_contents_t *z = base_version();
	rrlist_t *before = rrlist_new(), *after = rrlist_new();
	assert_int_equal(zone_contents_to_rrlist(z, before), TDM_OK);
	zone_contents_t *copy = rebuilt(z, after, after);   /* empty change: the same records */
	for (uint32_t step = 0; step < 30; step++) {
		rrlist_t *removed = rrlist_new(), *added = rrlist_new();
		random_change(z, 2 + step, removed, added);
		zone_contents_t *next;
		assert_int_equal(zone_update_apply(z, removed, added, &next), TDM_OK);
		zone_contents_free(next);
		rrlist_free(removed);
		rrlist_free(added);
	}
	assert_same_version(z, copy);
	zone_contents_free(copy);
	zone_contents_free(z);
	rrlist_free(before);
	rrlist_free(after);
}

/* Several versions made from one (changes tried again, each kept alive): appends to a shared page go
 * in place for the first of them only (zone/pages.h), so each must hold exactly its own change, and
 * the versions made from each of them too. */
static void test_sibling_versions_keep_their_own_appends(void **state)
{
	(void)state;
	for (unsigned seed = 200; seed < 220; seed++) {
		rng_state = seed;
		zone_contents_t *base = base_version(), *z;
		/* One change first: a version just built has its last pages at their exact size (packed),
		 * the next one has room to append in place. */
		rrlist_t *r0 = rrlist_new(), *a0 = rrlist_new();
		random_change(base, 2, r0, a0);
		random_rr(a0);
		assert_int_equal(zone_update_apply(base, r0, a0, &z), TDM_OK);
		zone_contents_free(base);
		rrlist_free(r0);
		rrlist_free(a0);
		rrlist_t *none = rrlist_new();
		zone_contents_t *copy = rebuilt(z, none, none);   /* the same records, built apart */
		rrlist_free(none);
		zone_contents_t *got[3], *want[3];
		for (int k = 0; k < 3; k++) {
			rrlist_t *removed = rrlist_new(), *added = rrlist_new();
			random_change(z, 3, removed, added);
			random_rr(added);   /* at least one record added: an append */
			want[k] = rebuilt(z, removed, added);
			assert_int_equal(zone_update_apply(z, removed, added, &got[k]), TDM_OK);
			rrlist_free(removed);
			rrlist_free(added);
		}
		for (int k = 0; k < 3; k++) {
			/* A version of each sibling, then each compared with its own rebuild. */
			rrlist_t *removed = rrlist_new(), *added = rrlist_new();
			random_change(got[k], 4, removed, added);
			random_rr(added);
			zone_contents_t *want2 = rebuilt(got[k], removed, added), *got2;
			assert_int_equal(zone_update_apply(got[k], removed, added, &got2), TDM_OK);
			assert_same_version(got2, want2);
			zone_contents_free(got2);
			zone_contents_free(want2);
			rrlist_free(removed);
			rrlist_free(added);
		}
		for (int k = 0; k < 3; k++) {
			assert_same_version(got[k], want[k]);
			zone_contents_free(got[k]);
			zone_contents_free(want[k]);
		}
		assert_same_version(z, copy);
		zone_contents_free(copy);
		zone_contents_free(z);
	}
}

/* A change that removes what the version does not hold is for another version: refused. */
static void test_change_for_another_version_refused(void **state)
{
	(void)state;
	rng_state = 7;
	zone_contents_t *z = base_version(), *out = NULL;
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	uint8_t rd[4] = { 198, 51, 100, 1 };
	add_raw(removed, "www.example.com.", PKT_TYPE_A, 300, rd, 4);
	assert_int_equal(zone_update_apply(z, removed, added, &out), TDM_EMALF);
	assert_null(out);
	rrlist_free(removed);
	removed = rrlist_new();
	add_raw(removed, "nowhere.example.com.", PKT_TYPE_A, 300, rd, 4);
	assert_int_equal(zone_update_apply(z, removed, added, &out), TDM_EMALF);
	/* Removing the SOA without a new one leaves no usable SOA. */
	rrlist_free(removed);
	removed = rrlist_new();
	rrlist_t *all = rrlist_new();
	assert_int_equal(zone_contents_to_rrlist(z, all), TDM_OK);
	const rr_t *soa = rrlist_at(all, 0);
	assert_int_equal(rrlist_add(removed, soa->owner, soa->type, soa->ttl, soa->rdata, soa->rdlen, 0), TDM_OK);
	assert_int_equal(zone_update_apply(z, removed, added, &out), TDM_ESEMCHECK);
	rrlist_free(all);
	rrlist_free(removed);
	rrlist_free(added);
	zone_contents_free(z);
}

/* A one-record change to a large version shares nearly everything: what the new version holds alone is
 * a few pages, not the zone. */
static void test_one_record_change_shares_the_rest(void **state)
{
	(void)state;
	rrlist_t *l = rrlist_new();
	add_soa(l, "example.com.", 3600, 1, 300);
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
	for (unsigned i = 0; i < 100000; i++) {
		char owner[64];
		uint8_t rd[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		snprintf(owner, sizeof(owner), "host%u.example.com.", i);
		add_raw(l, owner, PKT_TYPE_A, 300, rd, 4);
	}
	zone_contents_t *z, *next;
	assert_int_equal(zone_contents_build(N("example.com."), l, &z), TDM_OK);
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	uint8_t rd[4] = { 10, 0, 0, 7 }, nrd[4] = { 10, 9, 9, 9 };
	rrlist_t *all = rrlist_new();
	assert_int_equal(zone_contents_to_rrlist(z, all), TDM_OK);
	const rr_t *soa = rrlist_at(all, 0);
	assert_int_equal(rrlist_add(removed, soa->owner, soa->type, soa->ttl, soa->rdata, soa->rdlen, 0), TDM_OK);
	add_soa(added, "example.com.", 3600, 2, 300);
	add_raw(removed, "host7.example.com.", PKT_TYPE_A, 300, rd, 4);
	add_raw(added, "host7.example.com.", PKT_TYPE_A, 300, nrd, 4);
	add_raw(added, "new.example.com.", PKT_TYPE_A, 300, nrd, 4);
	assert_int_equal(zone_update_apply(z, removed, added, &next), TDM_OK);
	size_t whole = zone_memory(z), alone = zone_memory_exclusive(next);
	print_message("version %zu octets, the new one alone %zu octets\n", whole, alone);
	assert_true(alone * 10 < whole);
	assert_int_equal(zone_serial(next), 2);
	zone_contents_free(z);
	zone_contents_t *want = NULL;
	/* After the old one is gone, everything is the new one's. */
	assert_true(zone_memory_exclusive(next) > whole / 2);
	(void)want;
	zone_contents_free(next);
	rrlist_free(all);
	rrlist_free(removed);
	rrlist_free(added);
	rrlist_free(l);
}

/* Versions of many pages: nodes with several RRsets each fill the RRset pages unevenly, and no node's
 * RRsets may straddle two pages (they are read as one array). Built whole, every record reads back;
 * changed, the result still matches a whole build. */
static void test_many_pages_of_multi_rrset_nodes(void **state)
{
	(void)state;
	rrlist_t *l = rrlist_new();
	add_soa(l, "example.com.", 3600, 1, 300);
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
	size_t want = 2;
	for (unsigned i = 0; i < 12000; i++) {
		char owner[64];
		uint8_t rd[16] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		snprintf(owner, sizeof(owner), "n%u.example.com.", i);
		add_raw(l, owner, PKT_TYPE_A, 300, rd, 4);
		for (unsigned k = 0; k < i % 4; k++) {   /* 1 to 4 RRsets a node */
			rd[15] = (uint8_t)k;
			add_raw(l, owner, k == 0 ? PKT_TYPE_AAAA : k == 1 ? PKT_TYPE_TXT : PKT_TYPE_MX, 300, rd,
			        k == 0 ? 16 : 4);
		}
		want += 1 + i % 4;
	}
	zone_contents_t *z;
	assert_int_equal(zone_contents_build(N("example.com."), l, &z), TDM_OK);
	rrlist_t *back = rrlist_new();
	assert_int_equal(zone_contents_to_rrlist(z, back), TDM_OK);
	assert_int_equal(rrlist_count(back), want);
	for (size_t i = 0; i < rrlist_count(back); i++) {
		uint16_t t = rrlist_at(back, i)->type;
		assert_true(t == PKT_TYPE_A || t == PKT_TYPE_AAAA || t == PKT_TYPE_TXT || t == PKT_TYPE_MX ||
		            t == PKT_TYPE_SOA || t == PKT_TYPE_NS);
	}
	rng_state = 5;
	for (uint32_t step = 0; step < 20; step++) {
		rrlist_t *removed = rrlist_new(), *added = rrlist_new();
		random_change(z, 2 + step, removed, added);
		char owner[64];
		uint8_t rd[4] = { 172, 16, (uint8_t)step, 1 };
		for (unsigned k = 0; k < 50; k++) {   /* new multi-RRset nodes at the end of the pages */
			snprintf(owner, sizeof(owner), "s%u-%u.example.com.", step, k);
			add_raw(added, owner, PKT_TYPE_A, 300, rd, 4);
			add_raw(added, owner, PKT_TYPE_TXT, 300, rd, 4);
		}
		zone_contents_t *want_z = rebuilt(z, removed, added), *got;
		assert_int_equal(zone_update_apply(z, removed, added, &got), TDM_OK);
		assert_same_version(got, want_z);
		zone_contents_free(want_z);
		zone_contents_free(z);
		z = got;
		rrlist_free(removed);
		rrlist_free(added);
	}
	zone_contents_free(z);
	rrlist_free(back);
	rrlist_free(l);
}

/* NSEC3 records for a name (its hashed owner, a fixed next hash: the index does not follow it). */
static void add_nsec3_for(rrlist_t *l, const nsec3_params_t *p, const uint8_t *name, uint8_t salt_len)
{
	uint8_t label[NSEC3_LABEL_MAX], owner[NAME_MAXLEN];
	assert_int_equal(nsec3_label(p, name, (size_t)name_length(name, NAME_MAXLEN), label), 32);
	owner[0] = 32;
	memcpy(owner + 1, label, 32);
	memcpy(owner + 33, N("example.com."), 13);
	uint8_t rd[64] = { 1, 0, 0, 0, salt_len };
	memset(rd + 5, 0xAB, salt_len);
	rd[5 + salt_len] = NSEC3_HASH_MAX;
	assert_int_equal(rrlist_add(l, owner, PKT_TYPE_NSEC3, 300, rd, 6 + salt_len + NSEC3_HASH_MAX, 0), TDM_OK);
}

/* A signed NSEC3 version of thousands of names (several chain pages): names come and go with their
 * NSEC3, NSEC3 records come for names the change does not touch, and at the end the parameters change;
 * each step's index (chain order and every node's own NSEC3) equals a whole build's. */
static void test_nsec3_index_follows_changes(void **state)
{
	(void)state;
	nsec3_params_t p = { .alg = NSEC3_ALG_SHA1 };
	rrlist_t *l = rrlist_new();
	add_soa(l, "example.com.", 3600, 1, 300);
	add_name(l, "example.com.", PKT_TYPE_NS, 3600, "ns1.example.com.");
	uint8_t key[8] = { 1, 0, 3, 13, 1, 2, 3, 4 }, param[5] = { 1, 0, 0, 0, 0 };
	add_raw(l, "example.com.", PKT_TYPE_DNSKEY, 3600, key, sizeof(key));
	add_raw(l, "example.com.", 51, 0, param, sizeof(param));
	add_nsec3_for(l, &p, N("example.com."), 0);
	char owner[64];
	uint8_t a[4] = { 192, 0, 2, 1 };
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(owner, sizeof(owner), "n%u.example.com.", i);
		add_raw(l, owner, PKT_TYPE_A, 300, a, 4);
		if (i % 7 != 0)   /* some names without an NSEC3 (as opt-out leaves delegations) */
			add_nsec3_for(l, &p, N(owner), 0);
	}
	zone_contents_t *z;
	assert_int_equal(zone_contents_build(N("example.com."), l, &z), TDM_OK);
	assert_true(zone_dnssec_nsec3(zone_contents_dnssec(z)));
	rng_state = 11;
	for (uint32_t step = 0; step < 40; step++) {
		rrlist_t *removed = rrlist_new(), *added = rrlist_new();
		random_change(z, 2 + step, removed, added);
		for (unsigned k = 0; k < 30; k++) {   /* new names with their NSEC3: the chain pages split */
			snprintf(owner, sizeof(owner), "s%u-%u.x.example.com.", step, k);
			add_raw(added, owner, PKT_TYPE_A, 300, a, 4);
			add_nsec3_for(added, &p, N(owner), 0);
			if (k == 0)
				add_nsec3_for(added, &p, N(owner) + 1 + N(owner)[0], 0);   /* the new ENT's */
		}
		if (step % 5 == 1) {   /* an NSEC3 for an existing name the change leaves alone */
			snprintf(owner, sizeof(owner), "n%u.example.com.", 7 * step);
			add_nsec3_for(added, &p, N(owner), 0);
		}
		if (step % 3 == 2 && step > 2) {   /* a name of an earlier step goes, with its NSEC3 */
			snprintf(owner, sizeof(owner), "s%u-%u.x.example.com.", step - 3, 5);
			add_raw(removed, owner, PKT_TYPE_A, 300, a, 4);
			add_nsec3_for(removed, &p, N(owner), 0);
		}
		if (step == 39) {   /* new parameters (a salt): the chain of the new NSEC3PARAM */
			uint8_t np[7] = { 1, 0, 0, 0, 2, 0xAB, 0xAB };
			add_raw(removed, "example.com.", 51, 0, param, sizeof(param));
			add_raw(added, "example.com.", 51, 0, np, sizeof(np));
		}
		zone_contents_t *want = rebuilt(z, removed, added), *got;
		assert_int_equal(zone_update_apply(z, removed, added, &got), TDM_OK);
		assert_same_version(got, want);
		zone_contents_free(want);
		zone_contents_free(z);
		z = got;
		rrlist_free(removed);
		rrlist_free(added);
	}
	zone_contents_free(z);
	rrlist_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_changes_match_a_rebuild),
		cmocka_unit_test(test_old_version_unchanged),
		cmocka_unit_test(test_sibling_versions_keep_their_own_appends),
		cmocka_unit_test(test_small_version_packed_and_shared),
		cmocka_unit_test(test_change_for_another_version_refused),
		cmocka_unit_test(test_one_record_change_shares_the_rest),
		cmocka_unit_test(test_many_pages_of_multi_rrset_nodes),
		cmocka_unit_test(test_nsec3_index_follows_changes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
