/* query/answer.c -- answering a query from a zone: RFC 1034 4.3.2 with wildcards, CNAME and DNAME */
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "query/answer.h"
#include "wire/rdata.h"

/*
 * The lookup, in the words of RFC 1034 4.3.2, for one name (the question, or a CNAME/DNAME target):
 *
 *   walk down from the apex, label by label -------> a zone cut on the way?  -> referral (step 3b)
 *        |                                   \----> a DNAME above the name? -> synthesize, go on
 *        v
 *   the name exists ---> CNAME (and not asked for)? -> add it, restart at the target (in this zone)
 *        |          \--> the type is there?         -> answer; else NODATA + SOA
 *        v
 *   no such name ---> '*' below the closest encloser? -> answer as if it were the name (RFC 4592)
 *                \--> NXDOMAIN + SOA (RFC 2308)
 */

/* Writes the RRSIGs of node that cover type, with the same owner (a wildcard's answer keeps the name it
 * answered: the RRSIG's label count tells the validator, RFC 4035 5.3.4). */
static int put_rrsigs(answer_t *a, const zone_node_t *node, const uint8_t *owner, uint16_t owner_ptr,
                      uint16_t type, uint32_t ttl)
{
	const zone_rrset_t *sigs = zone_node_rrsig(a->z, node, type);
	if (sigs == NULL)
		return TDM_OK;
	zone_rdata_iter_t it;
	const uint8_t *rd;
	uint16_t rdlen;
	uint32_t sig_ttl = sigs->ttl < ttl ? sigs->ttl : ttl;
	zone_rdata_begin(a->z, sigs, &it);
	while (zone_rdata_next(&it, &rd, &rdlen)) {
		int ret = pkt_write_rr(&a->w, owner, owner_ptr, PKT_TYPE_RRSIG, PKT_CLASS_IN, sig_ttl, rd,
		                       rdlen);
		if (ret != TDM_OK)
			return ret;
	}
	return TDM_OK;
}

int answer_put_rrset(answer_t *a, const zone_node_t *node, const uint8_t *owner, uint16_t owner_ptr,
                     const zone_rrset_t *set, uint32_t ttl)
{
	zone_rdata_iter_t it;
	const uint8_t *rd;
	uint16_t rdlen;
	pkt_mark_t m;
	pkt_mark(&a->w, &m);
	zone_rdata_begin(a->z, set, &it);
	int ret = TDM_OK;
	while (ret == TDM_OK && zone_rdata_next(&it, &rd, &rdlen))
		ret = pkt_write_rr(&a->w, owner, owner_ptr, set->type, PKT_CLASS_IN, ttl, rd, rdlen);
	/* RFC 4035 3.1.1: the RRSIGs go with their RRset, and the RRset whole or not at all. */
	if (ret == TDM_OK && a->sec != NULL && set->type != PKT_TYPE_RRSIG)
		ret = put_rrsigs(a, node, owner, owner_ptr, set->type, ttl < set->ttl ? ttl : UINT32_MAX);
	if (ret != TDM_OK)
		pkt_rollback(&a->w, &m);
	return ret;
}

static const zone_node_t *apex_node(const answer_t *a)
{
	return zone_node(a->z, zone_apex_index(a->z));
}

static int put_soa_negative(answer_t *a)
{
	const zone_rrset_t *soa = zone_soa(a->z);
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(a->z, soa, &rdlen);
	/* RFC 2308 3: the SOA's TTL is the lesser of its own TTL and its MINIMUM field. */
	uint32_t minimum = pkt_get32(rd + rdlen - 4), ttl = soa->ttl < minimum ? soa->ttl : minimum;
	pkt_begin_section(&a->w, PKT_SECTION_AUTHORITY);
	return answer_put_rrset(a, apex_node(a), zone_apex(a->z), 0, soa, ttl);
}

/* Where the target name sits in an rdata whose target's addresses go into the additional section
 * (RFC 1035 3.3.9/3.3.11, RFC 2782, RFC 9460 4.2), or NULL. A CNAME's target is followed instead. */
static const uint8_t *rdata_target(uint16_t type, const uint8_t *rd, uint16_t rdlen)
{
	size_t off;
	switch (type) {
	case PKT_TYPE_NS: off = 0; break;
	case PKT_TYPE_MX: off = 2; break;
	case PKT_TYPE_SRV: off = 6; break;
	case PKT_TYPE_SVCB: case PKT_TYPE_HTTPS: off = 2; break;
	default: return NULL;
	}
	if (off >= rdlen || name_length(rd + off, rdlen - off) < 0)
		return NULL;
	return rd + off;
}

/* Whether a node's addresses are not in the additional section yet (and marks them as there). */
static bool additional_first(answer_t *a, uint32_t idx)
{
	for (int i = 0; i < a->nadditional; i++)
		if (a->additional[i] == idx)
			return false;
	if (a->nadditional < ANSWER_MAX_ADDITIONAL)
		a->additional[a->nadditional++] = idx;
	return true;
}

/* Additional section: A and AAAA of the names an RRset points to, when this zone has them. */
static void put_additional(answer_t *a, const zone_rrset_t *set, bool glue)
{
	static const uint16_t types[2] = { PKT_TYPE_A, PKT_TYPE_AAAA };
	zone_rdata_iter_t it;
	const uint8_t *rd;
	uint16_t rdlen;
	zone_rdata_begin(a->z, set, &it);
	while (zone_rdata_next(&it, &rd, &rdlen)) {
		const uint8_t *target = rdata_target(set->type, rd, rdlen);
		if (target == NULL)
			continue;
		uint8_t lower[NAME_MAXLEN];
		int len = name_copy_lower(lower, target);
		uint32_t idx = zone_lookup(a->z, lower, (size_t)len);
		if (idx == ZONE_NODE_NONE)
			continue;
		const zone_node_t *n = zone_node(a->z, idx);
		/* Outside a referral, data below a cut is not ours to give (it is not authoritative). */
		if (((n->flags & ZONE_NODE_NONAUTH) && !glue) || !additional_first(a, idx))
			continue;
		pkt_begin_section(&a->w, PKT_SECTION_ADDITIONAL);
		for (int t = 0; t < 2; t++) {
			const zone_rrset_t *s = zone_node_rrset(a->z, n, types[t]);
			if (s != NULL &&
			    answer_put_rrset(a, n, zone_node_name(a->z, n), 0, s, s->ttl) != TDM_OK) {
				/* RFC 9471: glue that does not fit a referral means the answer is truncated. */
				if (glue && !a->tcp)
					a->truncated = true;
				return;
			}
		}
	}
}

/* ADDITIONAL comes after AUTHORITY, which DNSSEC proofs may still extend: remember the RRsets whose
 * targets' addresses go there, and write them at the end. */
static void defer_additional(answer_t *a, const zone_rrset_t *set, bool glue)
{
	switch (set->type) {
	case PKT_TYPE_NS: case PKT_TYPE_MX: case PKT_TYPE_SRV: case PKT_TYPE_SVCB: case PKT_TYPE_HTTPS:
		break;
	default:
		return;
	}
	if (a->ndeferred < ANSWER_MAX_DEFERRED)
		a->deferred[a->ndeferred++] = (answer_deferred_t){ .set = set, .glue = glue };
}

static int put_answer_rrset(answer_t *a, const zone_node_t *node, const uint8_t *owner,
                            uint16_t owner_ptr, const zone_rrset_t *set)
{
	pkt_begin_section(&a->w, PKT_SECTION_ANSWER);
	return answer_put_rrset(a, node, owner, owner_ptr, set, set->ttl);
}

static int answer_referral(answer_t *a, uint32_t cut_idx)
{
	const zone_node_t *cut = zone_node(a->z, cut_idx);
	/* AA covers the answer section: a CNAME we own that leads into a delegation keeps it. */
	if (a->w.counts[PKT_SECTION_ANSWER] == 0)
		a->aa = false;
	const zone_rrset_t *ns = zone_node_rrset(a->z, cut, PKT_TYPE_NS);
	pkt_begin_section(&a->w, PKT_SECTION_AUTHORITY);
	int ret = answer_put_rrset(a, cut, zone_node_name(a->z, cut), 0, ns, ns->ttl);
	if (ret != TDM_OK || a->sec == NULL)
		goto done;
	/* RFC 4035 3.1.4: the DS with its RRSIG, or the proof that there is none (an insecure child). */
	const zone_rrset_t *ds = zone_node_rrset(a->z, cut, PKT_TYPE_DS);
	if (ds != NULL)
		ret = answer_put_rrset(a, cut, zone_node_name(a->z, cut), 0, ds, ds->ttl);
	else
		ret = answer_deny_ds(a, cut_idx);
done:
	if (ret == TDM_OK)
		defer_additional(a, ns, true);
	return ret;
}

/* RFC 8482: over UDP, ANY gets one RRset (the first by type); over TCP, all of them. RRSIGs are not
 * RRsets of their own here: they come with what they sign when DO is set. Returns the RRsets given in
 * *given (none: the caller answers NODATA). */
static int answer_any(answer_t *a, const zone_node_t *n, const uint8_t *owner, uint16_t ptr,
                      uint16_t *given)
{
	const zone_rrset_t *sets = zone_node_rrsets(a->z, n);
	for (uint16_t i = 0; i < n->rrset_count && (a->tcp || *given == 0); i++) {
		if (sets[i].type == PKT_TYPE_RRSIG)
			continue;
		int ret = put_answer_rrset(a, n, owner, ptr, &sets[i]);
		if (ret != TDM_OK)
			return ret;
		defer_additional(a, &sets[i], false);
		(*given)++;
	}
	return TDM_OK;
}

/* RRSIG asked for: the signatures at the node, as data of their own (no CNAME is followed). Like ANY
 * (RFC 8482), one RRset over UDP -- the RRSIGs of the first type, as Knot does --, all over TCP. */
static int answer_rrsigs(answer_t *a, const zone_node_t *n, const uint8_t *owner, uint16_t ptr,
                         uint16_t *given)
{
	const zone_rrset_t *sets = zone_node_rrsets(a->z, n);
	for (uint16_t i = 0; i < n->rrset_count && (a->tcp || *given == 0); i++) {
		if (sets[i].type != PKT_TYPE_RRSIG)
			continue;
		int ret = put_answer_rrset(a, n, owner, ptr, &sets[i]);
		if (ret != TDM_OK)
			return ret;
		(*given)++;
	}
	return TDM_OK;
}

/* RFC 6672 2.2: the name with the DNAME owner's suffix replaced by the target. Returns the new length,
 * or -1 when the result would pass 255 octets (YXDOMAIN). */
static int dname_synth(const uint8_t *name, int len, int owner_len, const uint8_t *target,
                       uint8_t *out)
{
	int prefix = len - owner_len;
	int tlen = name_length(target, NAME_MAXLEN);
	if (tlen < 0 || prefix + tlen > NAME_MAXLEN)
		return -1;
	memmove(out, name, (size_t)prefix);
	memcpy(out + prefix, target, (size_t)tlen);
	return prefix + tlen;
}

static bool in_zone_of(const answer_t *a, const uint8_t *name)
{
	return name_in_zone(name, zone_apex(a->z));
}

typedef enum { STEP_DONE, STEP_FOLLOW } step_t;

/* Whether a name was already looked up in this answer's chain (case-insensitively). */
static bool chain_seen(const answer_t *a, const uint8_t *name)
{
	for (int i = 0; i < a->nchain; i++)
		if (name_equal(a->chain[i], name))
			return true;
	return false;
}

/* A wildcard that answers (or answers NODATA for) a name: its proof is owed once the answer is done. */
static void owe_wildcard_proof(answer_t *a, const uint8_t *lower, uint32_t ce, uint32_t wild,
                               bool nodata)
{
	if (a->sec == NULL || a->nwild > ANSWER_MAX_CHAIN)
		return;
	answer_wild_t *w = &a->wild[a->nwild++];
	name_copy_lower(w->name, lower);
	w->ce = ce;
	w->wild = wild;
	w->nodata = nodata;
}

/* NODATA: the SOA, and with DNSSEC the proof that the type is not there. */
static int answer_nodata(answer_t *a, const uint8_t *lower, uint32_t node, uint32_t ce, bool wild)
{
	int ret = put_soa_negative(a);
	if (ret != TDM_OK || a->sec == NULL)
		return ret;
	if (wild) {
		owe_wildcard_proof(a, lower, ce, node, true);
		return TDM_OK;
	}
	return answer_deny_type(a, lower, node);
}

/* An existing node, or a wildcard standing in for the name (wild; ce is then its parent): answer, or
 * follow its CNAME. lower is the name in lowercase. */
static step_t answer_node(answer_t *a, uint32_t node, uint8_t *name, const uint8_t *lower,
                          uint16_t *ptr, uint16_t qtype, bool wild, uint32_t ce, int *ret)
{
	const zone_node_t *n = zone_node(a->z, node);
	if (qtype == PKT_TYPE_ANY || qtype == PKT_TYPE_RRSIG) {
		uint16_t given = 0;
		*ret = qtype == PKT_TYPE_ANY ? answer_any(a, n, name, *ptr, &given)
		                             : answer_rrsigs(a, n, name, *ptr, &given);
		if (*ret == TDM_OK && given == 0)
			*ret = answer_nodata(a, lower, node, ce, wild);
		else if (*ret == TDM_OK && wild)
			owe_wildcard_proof(a, lower, ce, node, false);
		return STEP_DONE;
	}
	const zone_rrset_t *cname = zone_node_rrset(a->z, n, PKT_TYPE_CNAME);
	/* The NSEC of a CNAME's owner is its own data (RFC 4035 2.5 lets it stand beside the CNAME): asked
	 * for, it is given rather than the alias followed (as Knot and NSD do). */
	if (cname != NULL && qtype != PKT_TYPE_CNAME && qtype != PKT_TYPE_NSEC) {
		if ((*ret = put_answer_rrset(a, n, name, *ptr, cname)) != TDM_OK)
			return STEP_DONE;
		if (wild)
			owe_wildcard_proof(a, lower, ce, node, false);
		uint16_t rdlen;
		const uint8_t *rd = zone_rrset_first(a->z, cname, &rdlen);
		/* A loop ends where it comes back: each CNAME of the chain is given once, by owner (a
		 * wildcard's CNAME once per name it stands in for), as Knot and NSD do. */
		if (name_length(rd, rdlen) < 0 || !in_zone_of(a, rd) || chain_seen(a, rd))
			return STEP_DONE;
		memcpy(name, rd, (size_t)name_length(rd, rdlen));
		*ptr = 0;
		return STEP_FOLLOW;
	}
	const zone_rrset_t *set = zone_node_rrset(a->z, n, qtype);
	if (set == NULL) {
		*ret = answer_nodata(a, lower, node, ce, wild);
		return STEP_DONE;
	}
	if ((*ret = put_answer_rrset(a, n, name, *ptr, set)) == TDM_OK) {
		defer_additional(a, set, false);
		if (wild)
			owe_wildcard_proof(a, lower, ce, node, false);
	}
	return STEP_DONE;
}

/* A DNAME above the name: the DNAME, a synthesized CNAME, then on to the new name. */
static step_t answer_dname(answer_t *a, const zone_node_t *n, uint8_t *name, uint16_t *ptr,
                           uint16_t qtype, int *ret)
{
	const zone_rrset_t *dname = zone_node_rrset(a->z, n, PKT_TYPE_DNAME);
	if ((*ret = put_answer_rrset(a, n, zone_node_name(a->z, n), 0, dname)) != TDM_OK)
		return STEP_DONE;
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(a->z, dname, &rdlen);
	uint8_t target[NAME_MAXLEN];
	int len = name_length(name, NAME_MAXLEN);
	int tlen = dname_synth(name, len, n->name_len, rd, target);
	if (tlen < 0) {
		a->rcode = PKT_RCODE_YXDOMAIN;
		return STEP_DONE;
	}
	/* The synthesized CNAME is unsigned: validators check the DNAME's RRSIG (RFC 6672 5.3.1). */
	pkt_begin_section(&a->w, PKT_SECTION_ANSWER);
	*ret = pkt_write_rr(&a->w, name, *ptr, PKT_TYPE_CNAME, PKT_CLASS_IN, dname->ttl, target,
	                    (uint16_t)tlen);
	/* Asked for the CNAME itself: the synthesized one is the answer (RFC 6672 3.2). */
	if (*ret != TDM_OK || qtype == PKT_TYPE_CNAME || !in_zone_of(a, target))
		return STEP_DONE;
	memcpy(name, target, (size_t)tlen);
	*ptr = 0;
	return STEP_FOLLOW;
}

/*
 * The name itself first: most questions name a node that exists, and its parent links give every node
 * of the walk down from the apex, so the walk needs one hash probe instead of one per label. On return
 * 1: path[d] is the node of the name's suffix of d labels, for depth < d <= nlabels (what zone_lookup
 * of each suffix would give: a node's parent is the node of its name less the first label);
 * 0: the name is not in the zone; -1: the links do not lead to the apex (walk label by label).
 */
static int path_down(const answer_t *a, const uint8_t *lower, int len, int depth, int nlabels,
                     uint32_t known, uint32_t *path)
{
	/* known: the name's node found already (the batch prefetch), else ZONE_NODE_NONE */
	uint32_t idx = known != ZONE_NODE_NONE ? known : zone_lookup(a->z, lower, (size_t)len);
	if (idx == ZONE_NODE_NONE)
		return 0;
	for (int d = nlabels; d > depth; d--) {
		path[d] = idx;
		idx = zone_node(a->z, idx)->parent;
	}
	return idx == zone_apex_index(a->z) ? 1 : -1;
}

/* One pass of the lookup for name; STEP_FOLLOW when name was replaced by an alias target. */
static step_t lookup(answer_t *a, uint8_t *name, uint16_t *ptr, uint16_t qtype, int *ret)
{
	uint8_t lower[NAME_MAXLEN];
	int len;
	uint32_t known = a->nchain == 0 ? a->qnode : ZONE_NODE_NONE;
	if (a->nchain == 0) {   /* the question: query_parse lowered it already */
		len = a->q->q.qname_len;
		memcpy(lower, a->q->qname_lower, (size_t)len);
	} else {
		len = name_copy_lower(lower, name);
	}
	if (a->nchain <= ANSWER_MAX_CHAIN)
		memcpy(a->chain[a->nchain++], lower, (size_t)len);
	const uint8_t *labels[NAME_MAXLABELS];
	int nlabels = 0;
	for (const uint8_t *p = lower; *p != 0; p += 1 + *p)
		labels[nlabels++] = p;
	int depth = name_labels(zone_apex(a->z));
	uint32_t cur = zone_apex_index(a->z);
	/* RFC 6672 2.3: a DNAME may sit at the apex too; it redirects everything below. */
	if ((zone_node(a->z, cur)->flags & ZONE_NODE_DNAME) && depth < nlabels)
		return answer_dname(a, zone_node(a->z, cur), name, ptr, qtype, ret);
	uint32_t path[NAME_MAXLABELS + 1];
	int found = depth < nlabels ? path_down(a, lower, len, depth, nlabels, known, path) : -1;
	while (depth < nlabels) {
		uint32_t idx;
		if (found == 1) {
			idx = path[depth + 1];
		} else if (found == 0 && depth + 1 == nlabels) {
			idx = ZONE_NODE_NONE;   /* the name itself, already looked for */
		} else {
			const uint8_t *suffix = labels[nlabels - depth - 1];
			idx = zone_lookup(a->z, suffix, (size_t)(len - (suffix - lower)));
		}
		/* NSEC3 records sit at hashed names that are not names of the zone (RFC 5155 7.2.8). */
		if (idx == ZONE_NODE_NONE || (zone_node(a->z, idx)->flags & ZONE_NODE_NSEC3))
			break;
		cur = idx;
		depth++;
		const zone_node_t *n = zone_node(a->z, cur);
		if ((n->flags & ZONE_NODE_DELEG) && !(qtype == PKT_TYPE_DS && depth == nlabels)) {
			*ret = answer_referral(a, cur);
			return STEP_DONE;
		}
		if ((n->flags & ZONE_NODE_DNAME) && depth < nlabels)
			return answer_dname(a, n, name, ptr, qtype, ret);
	}
	const zone_node_t *n = zone_node(a->z, cur);
	if (depth == nlabels)
		return answer_node(a, cur, name, lower, ptr, qtype, false, n->parent, ret);
	/* RFC 4592 3.3.1: the source of synthesis is '*' directly below the closest encloser. */
	if (n->flags & ZONE_NODE_WILDCHILD) {
		uint8_t wild[NAME_MAXLEN];
		wild[0] = 1;
		wild[1] = '*';
		memcpy(wild + 2, zone_node_name(a->z, n), n->name_len);
		uint32_t w = zone_lookup(a->z, wild, (size_t)n->name_len + 2);
		if (w != ZONE_NODE_NONE)
			return answer_node(a, w, name, lower, ptr, qtype, true, cur, ret);
	}
	a->rcode = PKT_RCODE_NXDOMAIN;
	*ret = put_soa_negative(a);
	if (*ret == TDM_OK && a->sec != NULL)
		*ret = answer_deny_name(a, lower, cur);
	return STEP_DONE;
}

static void solve(answer_t *a, uint16_t qtype)
{
	uint8_t name[NAME_MAXLEN];
	memcpy(name, a->q->q.qname, (size_t)a->q->q.qname_len);
	uint16_t ptr = PKT_HEADER_LEN;   /* the question's name, with the requester's case */
	int ret = TDM_OK;
	for (int hop = 0; hop <= ANSWER_MAX_CHAIN; hop++) {
		if (lookup(a, name, &ptr, qtype, &ret) != STEP_FOLLOW)
			break;
	}
	/* The proofs owed by wildcards met on the way, then ADDITIONAL. */
	for (int i = 0; i < a->nwild && ret == TDM_OK; i++)
		ret = answer_prove_wildcard(a, &a->wild[i]);
	if (ret == TDM_ESPACE) {
		a->truncated = true;
		return;
	}
	for (int i = 0; i < a->ndeferred; i++)
		put_additional(a, a->deferred[i].set, a->deferred[i].glue);
}

/* CH TXT id.server and hostname.bind (RFC 4892) give the identity when configured. */
static size_t answer_chaos(const query_env_t *env, const query_t *q, uint8_t *resp, size_t cap)
{
	static const uint8_t id_server[] = "\x02id\x06server";
	static const uint8_t hostname_bind[] = "\x08hostname\x04""bind";
	if (env->identity == NULL || q->q.qtype != PKT_TYPE_TXT ||
	    !(name_equal(q->q.qname, id_server) || name_equal(q->q.qname, hostname_bind)))
		return query_error(env, q, PKT_RCODE_REFUSED, resp, cap);
	pkt_writer_t w;
	pkt_writer_init(&w, resp, cap < EDNS_MIN_PAYLOAD ? cap : EDNS_MIN_PAYLOAD);
	uint16_t flags = PKT_FLAG_QR | PKT_FLAG_AA | (pkt_flags(q->msg) & PKT_FLAG_RD);
	uint8_t txt[256];
	size_t n = strlen(env->identity);
	n = n > 255 ? 255 : n;
	txt[0] = (uint8_t)n;
	memcpy(txt + 1, env->identity, n);
	if (pkt_write_header(&w, pkt_id(q->msg), flags) != TDM_OK ||
	    pkt_write_question(&w, q->q.qname, q->q.qtype, q->q.qclass) != TDM_OK ||
	    pkt_write_rr(&w, NULL, PKT_HEADER_LEN, PKT_TYPE_TXT, PKT_CLASS_CH, 0, txt,
	                 (uint16_t)(n + 1)) != TDM_OK)
		return 0;
	if (q->edns.present) {
		edns_reply_t reply;
		query_edns_reply(env, q, &reply);
		edns_write(&w, &q->edns, env->udp_payload, 0, &reply);
	}
	return pkt_writer_finish(&w);
}

/* The zone a question goes to. DS is the parent side's data (RFC 4035 3.1.4.1): at a zone's apex it
 * comes from the parent zone when we have that one too. */
zone_t *query_find_zone(const query_env_t *env, const query_t *q)
{
	const uint8_t *name = q->qname_lower;
	int len = q->q.qname_len;
	if (q->q.qtype == PKT_TYPE_DS && name[0] != 0) {
		zone_t *z = zoneset_find_exact(env->zones, name, len);
		if (z != NULL) {
			zone_t *parent = zoneset_find(env->zones, name + 1 + name[0], len - 1 - name[0]);
			if (parent != NULL)
				return parent;
			return z;
		}
	}
	zone_t *found = query_prefetch_zone(env->prefetch, name, (size_t)len);
	return found != NULL ? found : zoneset_find(env->zones, name, len);
}

static size_t udp_limit(const query_env_t *env, const query_t *q)
{
	if (!q->edns.present)
		return EDNS_MIN_PAYLOAD;
	size_t limit = q->edns.payload < env->udp_payload ? q->edns.payload : env->udp_payload;
	return limit < EDNS_MIN_PAYLOAD ? EDNS_MIN_PAYLOAD : limit;
}

/* RFC 7314 2: EXPIRE on an SOA answer at the apex: the SOA's expire on a primary, what is left of
 * it on a secondary. */
static void expire_option(const zone_t *zone, const query_t *q, const zone_contents_t *z,
                          edns_reply_t *reply)
{
	if (!q->edns.expire || q->q.qtype != PKT_TYPE_SOA ||
	    !name_equal(q->qname_lower, zone_apex(z)))
		return;
	int64_t at = zone_expire_at(zone), now = (int64_t)time(NULL);
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(z, zone_soa(z), &rdlen);
	reply->expire = true;
	reply->expire_value = at == 0 ? pkt_get32(rd + rdlen - 8)
	                              : (uint32_t)(at > now ? at - now : 0);
}

static size_t answer_zone(const query_env_t *env, const query_t *q, const zone_t *zone,
                          const zone_contents_t *z, uint8_t *resp, size_t respcap, bool tcp)
{
	/* Field by field: the arrays of answer_t are large and need no zeroing. */
	answer_t a;
	a.q = q;
	a.z = z;
	a.sec = q->edns.do_bit ? zone_contents_dnssec(z) : NULL;
	a.qnode = query_prefetch_node(env->prefetch, z, q->qname_lower, (size_t)q->q.qname_len);
	a.tcp = tcp;
	a.truncated = false;
	a.rcode = PKT_RCODE_NOERROR;
	a.aa = true;
	a.nchain = a.nadditional = a.ndeferred = a.nwild = a.nproofs = 0;
	size_t cap = tcp ? PKT_MAXLEN : udp_limit(env, q);
	cap = cap < respcap ? cap : respcap;
	cap = cap > env->reserve ? cap - env->reserve : 0;
	edns_reply_t reply;
	query_edns_reply(env, q, &reply);
	expire_option(zone, q, z, &reply);
	size_t opt = q->edns.present ? edns_size(&q->edns, &reply) : 0;
	if (cap < PKT_HEADER_LEN + opt)
		return 0;
	pkt_writer_init(&a.w, resp, cap - opt);
	uint16_t flags = PKT_FLAG_QR | (pkt_flags(q->msg) & (PKT_FLAG_RD | PKT_FLAG_CD));
	if (pkt_write_header(&a.w, pkt_id(q->msg), flags) != TDM_OK ||
	    pkt_write_question(&a.w, q->q.qname, q->q.qtype, q->q.qclass) != TDM_OK)
		return 0;
	solve(&a, q->q.qtype);
	flags |= (uint16_t)(a.rcode & 0x0F);
	if (a.aa)
		flags |= PKT_FLAG_AA;
	if (a.truncated)
		flags |= PKT_FLAG_TC;
	pkt_put16(resp + 2, flags);
	a.w.cap = cap;
	if (q->edns.present)
		edns_write(&a.w, &q->edns, env->udp_payload, a.rcode, &reply);
	return pkt_writer_finish(&a.w);
}

size_t query_answer(const query_env_t *env, const uint8_t *req, size_t reqlen, uint8_t *resp,
                    size_t respcap, bool tcp)
{
	query_t q;
	if (!query_parse(req, reqlen, &q))
		return 0;
	return query_answer_parsed(env, &q, resp, respcap, tcp);
}

size_t query_answer_parsed(const query_env_t *env, const query_t *q, uint8_t *resp,
                           size_t respcap, bool tcp)
{
	if (q->rcode != PKT_RCODE_NOERROR)
		return query_error(env, q, q->rcode, resp, respcap);
	if (pkt_opcode(q->msg) == PKT_OPCODE_NOTIFY)   /* a NOTIFY the server did not take */
		return query_error(env, q, PKT_RCODE_NOTAUTH, resp, respcap);
	if (pkt_opcode(q->msg) != PKT_OPCODE_QUERY)
		return query_error(env, q, PKT_RCODE_NOTIMP, resp, respcap);
	if (q->q.qclass == PKT_CLASS_CH)
		return answer_chaos(env, q, resp, respcap);
	switch (q->q.qtype) {
	case PKT_TYPE_OPT: case PKT_TYPE_TSIG: case 249 /* TKEY */:
		return query_error(env, q, PKT_RCODE_FORMERR, resp, respcap);
	case 253: case 254: /* MAILB, MAILA (RFC 1035 3.2.3), obsolete */
		return query_error(env, q, PKT_RCODE_NOTIMP, resp, respcap);
	case PKT_TYPE_AXFR: case PKT_TYPE_IXFR:
		/* Transfers are handled before this; reaching here means nobody is allowed one. Over
		 * UDP, AXFR is not defined (RFC 5936 4.2): NOTIMP, as Knot says. */
		return query_error(env, q, tcp ? PKT_RCODE_REFUSED : PKT_RCODE_NOTIMP, resp, respcap);
	}
	/* QCLASS * (RFC 1035 3.2.5) is answered from our IN zones, as Knot does (AA set, records of
	 * class IN); NSD does the same without AA, BIND refuses it with FORMERR. */
	zone_t *zone = q->q.qclass == PKT_CLASS_IN || q->q.qclass == PKT_CLASS_ANY
	                   ? query_find_zone(env, q) : NULL;
	if (zone == NULL)
		return query_error(env, q, PKT_RCODE_REFUSED, resp, respcap);
	const zone_contents_t *z = zone_contents(zone);
	if (z == NULL || zone_expired(zone))
		return query_error(env, q, PKT_RCODE_SERVFAIL, resp, respcap);
	return answer_zone(env, q, zone, z, resp, respcap, tcp);
}
