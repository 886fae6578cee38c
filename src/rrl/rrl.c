/* rrl/rrl.c -- response rate limiting: buckets keyed by source prefix, kind of answer and name */
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/error.h"
#include "lib/siphash.h"
#include "rrl/rrl.h"
#include "wire/name.h"
#include "wire/pkt.h"

enum { KIND_POSITIVE, KIND_NXDOMAIN, KIND_NODATA, KIND_REFERRAL, KIND_ERROR };

struct rrl {
	rrl_conf_t conf;
	uint8_t key[16];
	_Atomic uint64_t *buckets;     /* fingerprint:32 | second:16 | count:16 */
	uint32_t mask;
	atomic_uint_fast64_t dropped, slipped;
};

rrl_t *rrl_new(const rrl_conf_t *conf)
{
	if (conf->rate == 0)
		return NULL;
	rrl_t *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->conf = *conf;
	r->conf.exempt = NULL;
	if (conf->exempt_count > 0) {
		addr_prefix_t *copy = malloc(conf->exempt_count * sizeof(*copy));
		if (copy == NULL) {
			free(r);
			return NULL;
		}
		memcpy(copy, conf->exempt, conf->exempt_count * sizeof(*copy));
		r->conf.exempt = copy;
	}
	uint32_t size = 1024;
	while (size < conf->table_size && size < (1u << 24))
		size *= 2;
	r->mask = size - 1;
	r->buckets = calloc(size, sizeof(*r->buckets));
	if (r->buckets == NULL || getrandom(r->key, sizeof(r->key), 0) != (ssize_t)sizeof(r->key)) {
		rrl_free(r);
		return NULL;
	}
	atomic_init(&r->dropped, 0);
	atomic_init(&r->slipped, 0);
	return r;
}

void rrl_free(rrl_t *r)
{
	if (r == NULL)
		return;
	free(r->buckets);
	free((void *)r->conf.exempt);
	free(r);
}

/* The source's network: the address cut to the configured prefix (IPv4-mapped IPv6 as IPv4). */
static size_t network_of(const rrl_t *r, const sockaddr_t *client, uint8_t out[17])
{
	const uint8_t *addr;
	size_t len;
	unsigned bits;
	if (client->ss.ss_family == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)&client->ss)->sin_addr;
		len = 4;
		bits = r->conf.ipv4_prefix;
	} else {
		addr = ((const struct sockaddr_in6 *)&client->ss)->sin6_addr.s6_addr;
		len = 16;
		bits = r->conf.ipv6_prefix;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(addr, mapped, 12) == 0) {
			addr += 12;
			len = 4;
			bits = r->conf.ipv4_prefix;
		}
	}
	out[0] = (uint8_t)len;
	for (size_t i = 0; i < len; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * (unsigned)i : 0;
		out[1 + i] = (uint8_t)(addr[i] & (uint8_t)(0xFF00 >> keep));
	}
	return 1 + len;
}

/* The kind of an answer and the name it is counted under (lowercase, into name). */
static int classify(const uint8_t *resp, size_t len, uint8_t *name, uint16_t *qtype)
{
	size_t pos = PKT_HEADER_LEN;
	pkt_question_t q;
	name[0] = 0;
	*qtype = 0;
	if (len < PKT_HEADER_LEN || pkt_qdcount(resp) != 1 || pkt_read_question(resp, len, &pos, &q) != TDM_OK)
		return KIND_ERROR;
	int rcode = pkt_rcode(resp);
	if (rcode != PKT_RCODE_NOERROR && rcode != PKT_RCODE_NXDOMAIN)
		return KIND_ERROR;
	if (pkt_ancount(resp) > 0 && rcode == PKT_RCODE_NOERROR) {
		name_copy_lower(name, q.qname);
		*qtype = q.qtype;
		return KIND_POSITIVE;
	}
	/* Negative answers and referrals count by the owner of the first authority record: the zone's
	 * SOA (so random names under one zone share a bucket) or the delegation's NS. */
	name_copy_lower(name, q.qname);
	pkt_rr_t rr;
	unsigned skip = pkt_ancount(resp);
	for (unsigned i = 0; i <= skip && pkt_nscount(resp) > 0; i++) {
		if (pkt_read_rr(resp, len, &pos, &rr) != TDM_OK)
			break;
		if (i == skip)
			name_copy_lower(name, rr.owner);
	}
	if (rcode == PKT_RCODE_NXDOMAIN)
		return KIND_NXDOMAIN;
	return (pkt_flags(resp) & PKT_FLAG_AA) ? KIND_NODATA : KIND_REFERRAL;
}

static bool exempt(const rrl_t *r, const sockaddr_t *client)
{
	for (size_t i = 0; i < r->conf.exempt_count; i++)
		if (addr_prefix_match(&r->conf.exempt[i], client))
			return true;
	return false;
}

rrl_action_t rrl_check(rrl_t *r, const sockaddr_t *client, const uint8_t *resp, size_t len,
                       uint32_t now)
{
	if (r == NULL || exempt(r, client))
		return RRL_PASS;
	uint8_t key[17 + 1 + 2 + NAME_MAXLEN], name[NAME_MAXLEN];
	uint16_t qtype;
	size_t n = network_of(r, client, key);
	key[n++] = (uint8_t)classify(resp, len, name, &qtype);
	pkt_put16(key + n, qtype);
	n += 2;
	int nlen = name_length(name, NAME_MAXLEN);
	memcpy(key + n, name, (size_t)(nlen > 0 ? nlen : 1));
	n += (size_t)(nlen > 0 ? nlen : 1);
	uint64_t h = siphash24(r->key, key, n);
	_Atomic uint64_t *b = &r->buckets[h & r->mask];
	uint64_t fp = (h >> 32) << 32, second = (uint64_t)(now & 0xFFFF) << 16;
	uint64_t old = atomic_load_explicit(b, memory_order_relaxed), count;
	for (int tries = 0;; tries++) {
		bool same = (old & 0xFFFFFFFF00000000u) == fp && (old & 0xFFFF0000u) == second;
		count = same ? (old & 0xFFFF) : 0;
		if (count < 0xFFFF)
			count++;
		/* Under contention the count may miss an increment: a bound, not an accountant. */
		if (atomic_compare_exchange_weak_explicit(b, &old, fp | second | count,
		                                          memory_order_relaxed, memory_order_relaxed) ||
		    tries == 4)
			break;
	}
	if (count <= r->conf.rate)
		return RRL_PASS;
	if (r->conf.slip > 0 && (count - r->conf.rate) % r->conf.slip == 0) {
		atomic_fetch_add_explicit(&r->slipped, 1, memory_order_relaxed);
		return RRL_SLIP;
	}
	atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
	return RRL_DROP;
}

size_t rrl_slip(uint8_t *resp, size_t len)
{
	size_t pos = PKT_HEADER_LEN;
	pkt_question_t q;
	if (len < PKT_HEADER_LEN || pkt_qdcount(resp) != 1 || pkt_read_question(resp, len, &pos, &q) != TDM_OK)
		return 0;
	/* RFC 2181 9 lets a truncated answer carry nothing; the question stays so the client matches it. */
	pkt_put16(resp + 2, pkt_flags(resp) | PKT_FLAG_TC);
	pkt_put16(resp + 6, 0);
	pkt_put16(resp + 8, 0);
	pkt_put16(resp + 10, 0);
	return pos;
}

void rrl_stats(const rrl_t *r, uint64_t *dropped, uint64_t *slipped)
{
	*dropped = r ? atomic_load(&r->dropped) : 0;
	*slipped = r ? atomic_load(&r->slipped) : 0;
}
