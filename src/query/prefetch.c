/* query/prefetch.c -- warming the cache for a batch of UDP requests before they are answered */
#include <string.h>

#include "query/query.h"

/*
 * Under load the answer path's own time is mostly waiting for memory: the hash slot of the question's
 * name, its node, the node's name, its RRsets and their rdata, each read only once the one before it
 * is in (a zone of 100,000 names does not stay in the cache between queries). Answered one after the
 * other, a batch of 32 queries waits for about 32 x 5 misses in a row; started together, stage by stage
 * (zone_prefetch_step), the misses of all the batch overlap. Only the question's own name is fetched:
 * what an answer reads after it (a CNAME's target, additional addresses, the SOA of a negative answer,
 * which is hot anyway) is left to the answer.
 *
 * This reads the request only as far as the question, without judging it: whatever it makes of a
 * malformed request only decides what is fetched, and query_parse has the last word.
 */
void query_prefetch_begin(query_prefetch_t *p, const zoneset_t *zones, const uint8_t *req,
                          size_t len)
{
	zone_prefetch_begin(&p->zp, NULL, NULL, 0, 0);
	p->zone = NULL;
	if (len < PKT_HEADER_LEN || pkt_qdcount(req) != 1 || (pkt_flags(req) & PKT_FLAG_QR))
		return;
	size_t pos = PKT_HEADER_LEN, n = 0;
	for (;;) {   /* the question's name: plain labels only (a query's first name has no pointer) */
		if (pos >= len || n >= NAME_MAXLEN)
			return;
		uint8_t l = req[pos];
		if (l > 63 || n + 1 + l > NAME_MAXLEN || pos + 1 + l > len)
			return;
		p->name[n++] = l;
		for (size_t i = 1; i <= l; i++)
			p->name[n++] = name_lower(req[pos + i]);
		pos += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	if (pos + 4 > len)
		return;
	uint16_t qtype = pkt_get16(req + pos);
	/* DS goes to the parent side (query_find_zone): not worth its extra lookups here. */
	if (qtype == PKT_TYPE_DS)
		return;
	p->zone = zoneset_find(zones, p->name, (int)n);
	if (p->zone != NULL)
		zone_prefetch_begin(&p->zp, zone_contents(p->zone), p->name, n, qtype);
}

zone_t *query_prefetch_zone(const query_prefetch_t *p, const uint8_t *name, size_t len)
{
	/* A zone found for the same lowercase octets in the same zone set is the one zoneset_find
	 * gives: the prefetch ran in the caller's RCU read section, on the set the answer reads. */
	if (p == NULL || p->zone == NULL || p->zp.full_len != len || memcmp(p->name, name, len) != 0)
		return NULL;
	return p->zone;
}

bool query_prefetch_step(query_prefetch_t *p)
{
	return zone_prefetch_step(&p->zp);
}

uint32_t query_prefetch_node(const query_prefetch_t *p, const zone_contents_t *z,
                             const uint8_t *name, size_t len)
{
	if (p == NULL)
		return ZONE_NODE_NONE;
	uint32_t idx = zone_prefetch_found(&p->zp, z);
	/* The same octets as the question query_parse lowered: the node is the one zone_lookup gives. */
	if (idx == ZONE_NODE_NONE || p->zp.full_len != len || memcmp(p->name, name, len) != 0)
		return ZONE_NODE_NONE;
	return idx;
}
