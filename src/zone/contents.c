/* zone/contents.c -- one immutable version of a zone's data: reading it, pinning and freeing it */
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/contents_impl.h"

uint32_t zone_lookup(const zone_contents_t *z, const uint8_t *name, size_t len)
{
	uint32_t i = name_hash(name, len) & z->hash_mask;
	for (;;) {
		uint32_t idx = contents_slot(z, i);
		if (idx == ZONE_NODE_NONE)
			return ZONE_NODE_NONE;
		const zone_node_t *n = contents_node(z, idx);
		if (n->name_len == len && memcmp(zone_pages_at(&z->names, n->name_off), name, len) == 0)
			return idx;
		i = (i + 1) & z->hash_mask;
	}
}

/* Slots a stage reads: at most half full, the table rarely has longer runs; a longer one is read on by
 * the stages again from where they stopped. */
#define PREFETCH_PROBES 4

/*
 * Prefetches are macros, not functions: GCC (12, -O2) judges a function whose only effect is a
 * prefetch to have no effect at all and drops calls to it (a helper that prefetched an RRset's rdata
 * did nothing). Written out in the function that changes *p, they stay: the object code of
 * zone_prefetch_step has a prefetcht0 for each.
 */
#define PREFETCH(addr) __builtin_prefetch((addr), 0, 3)

/* The octets [addr, addr + len) (len > 0): the lines of the first and the last octet (enough for the
 * names and RRset lists asked for here, which span two lines at most but rarely). */
#define PREFETCH_RUN(addr, len)                                             \
	do {                                                                \
		const uint8_t *run_ = (addr);                               \
		const uint8_t *last_ = run_ + (len) - 1;                    \
		PREFETCH(run_);                                             \
		if (((uintptr_t)run_ ^ (uintptr_t)last_) >= 64)             \
			PREFETCH(last_);                                    \
	} while (0)

/* Stage 1 next: the first hash slot of name is on its way. */
static void prefetch_start(zone_prefetch_t *p, const uint8_t *name, size_t len)
{
	p->name = name;
	p->len = (uint32_t)len;
	p->slot = name_hash(name, len) & p->z->hash_mask;
	p->stage = 1;
	PREFETCH(zone_pages_elem(&p->z->hash, sizeof(uint32_t), HASH_SHIFT, p->slot));
}

void zone_prefetch_begin(zone_prefetch_t *p, const zone_contents_t *z, const uint8_t *name,
                         size_t len, uint16_t type)
{
	p->z = z;
	p->node = ZONE_NODE_NONE;
	p->stage = 0;
	p->len = 0;
	p->full_len = (uint32_t)len;
	if (z == NULL || len == 0)
		return;
	p->type = type;
	prefetch_start(p, name, len);
}

uint32_t zone_prefetch_found(const zone_prefetch_t *p, const zone_contents_t *z)
{
	if (p->z != z || p->stage != 0 || p->len != p->full_len)
		return ZONE_NODE_NONE;
	return p->node;
}

/* The RRset a lookup of type at node n will read first: the type's, else the CNAME's. */
static const zone_rrset_t *prefetch_rrset(const zone_contents_t *z, const zone_node_t *n,
                                          uint16_t type)
{
	const zone_rrset_t *s = zone_node_rrset(z, n, type);
	return s != NULL ? s : zone_node_rrset(z, n, PKT_TYPE_CNAME);
}

bool zone_prefetch_step(zone_prefetch_t *p)
{
	const zone_contents_t *z = p->z;
	if (p->stage == 0)
		return false;
	/* Stages 1-3 walk the probe sequence as zone_lookup does, each going one read further. */
	uint32_t i = p->slot;
	bool run_ended = false;   /* an empty slot: the name is not in the table */
	for (int k = 0; k < PREFETCH_PROBES; k++, i = (i + 1) & z->hash_mask) {
		uint32_t idx = contents_slot(z, i);
		if (idx == ZONE_NODE_NONE) {
			run_ended = true;
			break;
		}
		const zone_node_t *n = contents_node(z, idx);
		if (p->stage == 1) {
			PREFETCH(n);
			continue;
		}
		if (n->name_len != p->len)
			continue;
		const uint8_t *name = zone_pages_at(&z->names, n->name_off);
		if (p->stage == 2) {
			/* The name, and with it what stage 3 reads if it is the one: its RRsets, and its
			 * parent (read by the answer's walk down from the apex). */
			PREFETCH_RUN(name, p->len);
			if (n->rrset_count > 0)
				PREFETCH_RUN((const uint8_t *)zone_node_rrsets(z, n),
				             n->rrset_count * sizeof(zone_rrset_t));
			PREFETCH(contents_node(z, n->parent));
			continue;
		}
		if (memcmp(name, p->name, p->len) == 0) {
			/* The RRsets are in: the first line of the rdata of the one asked for (its
			 * length is in the rdata, and reading it would wait for it). */
			const zone_rrset_t *s = prefetch_rrset(z, n, p->type);
			if (s != NULL)
				PREFETCH(zone_pages_at(&z->rdata, s->rdata_off));
			p->node = idx;
			p->stage = 0;
			return false;
		}
	}
	if (p->stage == 3 && !run_ended) {
		/* The run goes on past the slots read: the stages again from the next one (the table
		 * has empty slots, so the run ends). */
		p->slot = i;
		p->stage = 1;
		PREFETCH(zone_pages_elem(&z->hash, sizeof(uint32_t), HASH_SHIFT, i));
		return true;
	}
	if (p->stage == 3) {
		/* Not in the zone: the lookup walks down from the apex to the closest encloser, so its
		 * parent is read next (the name less its first label), until the apex (hot anyway). */
		size_t cut = 1 + (size_t)p->name[0];
		if (p->name[0] == 0 || p->len - cut <= contents_node(z, z->apex)->name_len) {
			p->stage = 0;
			return false;
		}
		prefetch_start(p, p->name + cut, p->len - cut);
		p->type = PKT_TYPE_NS;   /* if that is a zone cut, its NS RRset makes the referral */
		return true;
	}
	p->stage++;
	return true;
}

void zone_contents_free(zone_contents_t *z)
{
	if (z == NULL)
		return;
	zone_pages_release(&z->names);
	zone_pages_release(&z->nodes);
	zone_pages_release(&z->hash);
	zone_pages_release(&z->rrsets);
	zone_pages_release(&z->rdata);
	zone_dnssec_free(z->dnssec);
	free(z);
}

void zone_contents_ref(zone_contents_t *z)
{
	atomic_fetch_add(&z->refs, 1);
}

void zone_contents_unref(zone_contents_t *z)
{
	if (z != NULL && atomic_fetch_sub(&z->refs, 1) == 1)
		zone_contents_free(z);
}

static void retired_cb(struct rcu_head *head)
{
	zone_contents_unref(caa_container_of(head, zone_contents_t, retired));
}

void zone_contents_retire(zone_contents_t *z)
{
	call_rcu(&z->retired, retired_cb);
}

const zone_node_t *zone_node(const zone_contents_t *z, uint32_t idx)
{
	return contents_node(z, idx);
}

const uint8_t *zone_node_name(const zone_contents_t *z, const zone_node_t *node)
{
	return zone_pages_at(&z->names, node->name_off);
}

/* A node without RRsets has none to point at (its rrset_first means nothing). */
const zone_rrset_t *zone_node_rrsets(const zone_contents_t *z, const zone_node_t *node)
{
	if (node->rrset_count == 0)
		return NULL;
	return zone_pages_elem(&z->rrsets, sizeof(zone_rrset_t), RRSET_SHIFT, node->rrset_first);
}

const zone_rrset_t *zone_node_rrset(const zone_contents_t *z, const zone_node_t *node,
                                    uint16_t type)
{
	const zone_rrset_t *s = zone_node_rrsets(z, node);
	for (uint16_t i = 0; i < node->rrset_count; i++)
		if (s[i].type == type)
			return &s[i];
	return NULL;
}

uint16_t zone_rrset_covered(const zone_contents_t *z, const zone_rrset_t *rrset)
{
	if (rrset->type != PKT_TYPE_RRSIG)
		return 0;
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(z, rrset, &rdlen);
	return covered_of(rd, rdlen);
}

const zone_rrset_t *zone_node_rrset_cov(const zone_contents_t *z, const zone_node_t *node,
                                        uint16_t type, uint16_t covered)
{
	if (type != PKT_TYPE_RRSIG)
		return zone_node_rrset(z, node, type);
	return zone_node_rrsig(z, node, covered);
}

const zone_rrset_t *zone_node_rrsig(const zone_contents_t *z, const zone_node_t *node,
                                    uint16_t covered)
{
	const zone_rrset_t *s = zone_node_rrsets(z, node);
	for (uint16_t i = 0; i < node->rrset_count; i++)
		if (s[i].type == PKT_TYPE_RRSIG && zone_rrset_covered(z, &s[i]) == covered)
			return &s[i];
	return NULL;
}

const struct zone_dnssec *zone_contents_dnssec(const zone_contents_t *z)
{
	return z->dnssec;
}

uint64_t zone_contents_lineage(const zone_contents_t *z)
{
	return z->lineage;
}

const uint8_t *zone_apex(const zone_contents_t *z)
{
	return zone_node_name(z, contents_node(z, z->apex));
}

uint32_t zone_apex_index(const zone_contents_t *z)
{
	return z->apex;
}

uint32_t zone_node_count(const zone_contents_t *z)
{
	return z->node_count;
}

size_t zone_record_count(const zone_contents_t *z)
{
	return z->records;
}

size_t zone_wire_size(const zone_contents_t *z)
{
	return z->wire;
}

uint32_t zone_serial(const zone_contents_t *z)
{
	return z->serial;
}

int contents_read_serial(zone_contents_t *z)
{
	const zone_rrset_t *soa = zone_soa(z);
	if (soa == NULL)
		return TDM_ESEMCHECK;
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(z, soa, &rdlen);
	if (rdlen < 22)
		return TDM_ESEMCHECK;
	z->serial = pkt_get32(rd + rdlen - 20);
	return TDM_OK;
}

void zone_contents_serial_refresh(zone_contents_t *z)
{
	(void)contents_read_serial(z);
}

const zone_rrset_t *zone_soa(const zone_contents_t *z)
{
	return zone_node_rrset(z, contents_node(z, z->apex), PKT_TYPE_SOA);
}

const uint8_t *zone_rdata_at(const zone_contents_t *z, uint32_t rdata_off)
{
	return zone_pages_at(&z->rdata, rdata_off);
}

size_t zone_memory(const zone_contents_t *z)
{
	return sizeof(*z) + zone_pages_memory(&z->names) + zone_pages_memory(&z->nodes) +
	       zone_pages_memory(&z->hash) + zone_pages_memory(&z->rrsets) +
	       zone_pages_memory(&z->rdata) + zone_dnssec_memory(z->dnssec);
}

size_t zone_memory_exclusive(const zone_contents_t *z)
{
	return sizeof(*z) + zone_pages_exclusive(&z->names) + zone_pages_exclusive(&z->nodes) +
	       zone_pages_exclusive(&z->hash) + zone_pages_exclusive(&z->rrsets) +
	       zone_pages_exclusive(&z->rdata) + zone_dnssec_exclusive(z->dnssec);
}

size_t zone_garbage(const zone_contents_t *z)
{
	return z->garbage;
}

static int append_rrset(const zone_contents_t *z, const uint8_t *owner, const zone_rrset_t *s,
                        rrlist_t *list)
{
	zone_rdata_iter_t it;
	const uint8_t *rd;
	uint16_t rdlen;
	zone_rdata_begin(z, s, &it);
	while (zone_rdata_next(&it, &rd, &rdlen))
		if (rrlist_add(list, owner, s->type, s->ttl, rd, rdlen, 0) != TDM_OK)
			return TDM_ENOMEM;
	return TDM_OK;
}

int zone_contents_to_rrlist(const zone_contents_t *z, rrlist_t *list)
{
	int ret = append_rrset(z, zone_apex(z), zone_soa(z), list);
	for (uint32_t idx = 0; idx < z->node_count && ret == TDM_OK; idx++) {
		const zone_node_t *n = contents_node(z, idx);
		const zone_rrset_t *s = zone_node_rrsets(z, n);
		for (uint16_t i = 0; i < n->rrset_count && ret == TDM_OK; i++)
			if (!(idx == z->apex && s[i].type == PKT_TYPE_SOA))
				ret = append_rrset(z, zone_node_name(z, n), &s[i], list);
	}
	return ret;
}
