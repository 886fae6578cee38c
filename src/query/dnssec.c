/* query/dnssec.c -- denial of existence in answers: NSEC (RFC 4035 3.1.3) and NSEC3 (RFC 5155 7.2) proofs */
#include <string.h>

#include "lib/error.h"
#include "query/answer.h"

/*
 * Which records prove what, by case (the wildcard below the closest encloser CE is *.CE):
 *
 *   case                 NSEC (RFC 4035 3.1.3)               NSEC3 (RFC 5155 7.2)
 *   NXDOMAIN             covers QNAME, covers *.CE            matches CE, covers next closer, covers *.CE
 *   NODATA               at QNAME (an ENT: the one covering)  matches QNAME (none: CE proof, opt-out)
 *   wildcard answer      covers QNAME                         covers next closer
 *   wildcard NODATA      covers QNAME, at *.CE                matches CE, covers next closer, matches *.CE
 *   referral without DS  at the cut                           matches the cut (none: CE proof, opt-out)
 *
 * Each NSEC or NSEC3 goes in once, with its RRSIG, whatever number of cases ask for it.
 */

/* Writes the NSEC or NSEC3 of a node into AUTHORITY, once. */
static int put_proof(answer_t *a, uint32_t idx, uint16_t type)
{
	if (idx == ZONE_NODE_NONE)
		return TDM_OK;
	for (int i = 0; i < a->nproofs; i++)
		if (a->proofs[i] == idx)
			return TDM_OK;
	const zone_node_t *n = zone_node(a->z, idx);
	const zone_rrset_t *set = zone_node_rrset(a->z, n, type);
	if (set == NULL)
		return TDM_OK;
	pkt_begin_section(&a->w, PKT_SECTION_AUTHORITY);
	int ret = answer_put_rrset(a, n, zone_node_name(a->z, n), 0, set, set->ttl);
	if (ret == TDM_OK && a->nproofs < ANSWER_MAX_PROOFS)
		a->proofs[a->nproofs++] = idx;
	return ret;
}

static int put_nsec_covering(answer_t *a, const uint8_t *name)
{
	return put_proof(a, zone_nsec_covering(a->z, a->sec, name), PKT_TYPE_NSEC);
}

/* The NSEC3 matching or covering a name (hashed here: the name is not a node of ours). */
static int put_nsec3_for(answer_t *a, const uint8_t *name, int len)
{
	uint8_t label[NSEC3_LABEL_MAX];
	int n = nsec3_label(zone_dnssec_params(a->sec), name, (size_t)len, label);
	if (n < 0)
		return TDM_OK;   /* an algorithm we cannot compute: nothing to prove with */
	bool exact;
	return put_proof(a, zone_nsec3_find(a->z, a->sec, label, (size_t)n, &exact), PKT_TYPE_NSEC3);
}

/* "*." + the name of a node; its length, or -1 when that passes 255 octets. */
static int wildcard_of(const answer_t *a, uint32_t idx, uint8_t out[NAME_MAXLEN])
{
	const zone_node_t *n = zone_node(a->z, idx);
	if (n->name_len + 2 > NAME_MAXLEN)
		return -1;
	out[0] = 1;
	out[1] = '*';
	memcpy(out + 2, zone_node_name(a->z, n), n->name_len);
	return n->name_len + 2;
}

/* RFC 5155 7.2.1: the closest provable encloser of name (from node ce up: the first with an NSEC3;
 * with opt-out an empty non-terminal may have none), its NSEC3, the NSEC3 covering the next closer
 * name and, for NXDOMAIN, the one covering the wildcard. */
static int nsec3_encloser_proof(answer_t *a, const uint8_t *name, uint32_t ce, bool wildcard)
{
	uint32_t apex = zone_apex_index(a->z);
	while (ce != apex && zone_nsec3_of(a->sec, ce) == ZONE_NODE_NONE)
		ce = zone_node(a->z, ce)->parent;
	int ret = put_proof(a, zone_nsec3_of(a->sec, ce), PKT_TYPE_NSEC3);
	int ce_labels = name_labels(zone_node_name(a->z, zone_node(a->z, ce)));
	if (ret == TDM_OK && name_labels(name) > ce_labels) {
		const uint8_t *next = name_suffix(name, ce_labels + 1);
		ret = put_nsec3_for(a, next, name_length(next, NAME_MAXLEN));
	}
	uint8_t wild[NAME_MAXLEN];
	int wlen;
	if (ret == TDM_OK && wildcard && (wlen = wildcard_of(a, ce, wild)) > 0)
		ret = put_nsec3_for(a, wild, wlen);
	return ret;
}

int answer_deny_name(answer_t *a, const uint8_t *name, uint32_t ce)
{
	if (zone_dnssec_nsec3(a->sec))
		return nsec3_encloser_proof(a, name, ce, true);
	uint8_t wild[NAME_MAXLEN];
	int ret = put_nsec_covering(a, name);
	if (ret == TDM_OK && wildcard_of(a, ce, wild) > 0)
		ret = put_nsec_covering(a, wild);
	return ret;
}

int answer_deny_type(answer_t *a, const uint8_t *name, uint32_t node)
{
	if (zone_dnssec_nsec3(a->sec)) {
		uint32_t own = zone_nsec3_of(a->sec, node);
		if (own != ZONE_NODE_NONE)
			return put_proof(a, own, PKT_TYPE_NSEC3);
		/* RFC 5155 7.2.4: no NSEC3 of its own (opt-out): the closest provable encloser proof. */
		return nsec3_encloser_proof(a, name, zone_node(a->z, node)->parent, false);
	}
	const zone_node_t *n = zone_node(a->z, node);
	if (zone_node_rrset(a->z, n, PKT_TYPE_NSEC) != NULL)
		return put_proof(a, node, PKT_TYPE_NSEC);
	return put_nsec_covering(a, name);   /* an empty non-terminal: the NSEC that passes over it */
}

int answer_deny_ds(answer_t *a, uint32_t cut)
{
	const zone_node_t *n = zone_node(a->z, cut);
	return answer_deny_type(a, zone_node_name(a->z, n), cut);
}

int answer_prove_wildcard(answer_t *a, const answer_wild_t *wild)
{
	if (!zone_dnssec_nsec3(a->sec)) {
		int ret = put_nsec_covering(a, wild->name);
		if (ret == TDM_OK && wild->nodata)
			ret = put_proof(a, wild->wild, PKT_TYPE_NSEC);
		return ret;
	}
	/* RFC 5155 7.2.6: the next closer name is covered; 7.2.5 adds CE and the wildcard for NODATA. */
	if (!wild->nodata) {
		int ce_labels = name_labels(zone_node_name(a->z, zone_node(a->z, wild->ce)));
		const uint8_t *next = name_suffix(wild->name, ce_labels + 1);
		return put_nsec3_for(a, next, name_length(next, NAME_MAXLEN));
	}
	int ret = nsec3_encloser_proof(a, wild->name, wild->ce, false);
	if (ret == TDM_OK)
		ret = put_proof(a, zone_nsec3_of(a->sec, wild->wild), PKT_TYPE_NSEC3);
	return ret;
}
