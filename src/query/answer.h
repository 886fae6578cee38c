/* query/answer.h -- the state of one answer being written, shared by the lookup and the DNSSEC proofs */
#pragma once

#include "query/query.h"
#include "zone/dnssec.h"

#define ANSWER_MAX_CHAIN 12        /* CNAME/DNAME hops followed inside a zone before we stop */
#define ANSWER_MAX_ADDITIONAL 64   /* targets remembered to keep ADDITIONAL free of repeats */
#define ANSWER_MAX_DEFERRED 8      /* RRsets whose targets' addresses go into ADDITIONAL */
#define ANSWER_MAX_PROOFS 8        /* NSEC/NSEC3 nodes already in AUTHORITY */

/* A wildcard that stood in for a name: its proof goes into AUTHORITY once the answer is complete. */
typedef struct {
	uint8_t name[NAME_MAXLEN];     /* the name it answered, lowercase */
	uint32_t ce;                   /* the closest encloser (the wildcard's parent) */
	uint32_t wild;                 /* the wildcard node */
	bool nodata;
} answer_wild_t;

/* An RRset whose targets' addresses are owed to ADDITIONAL (glue: a referral's, non-authoritative). */
typedef struct {
	const zone_rrset_t *set;
	bool glue;
} answer_deferred_t;

typedef struct {
	pkt_writer_t w;
	const query_t *q;
	const zone_contents_t *z;
	const zone_dnssec_t *sec;      /* DO set and the zone signed: RRSIGs and proofs go in */
	uint32_t qnode;                /* the question's node as the batch prefetch found it, or NONE */
	bool tcp;
	bool truncated;
	int rcode;
	bool aa;
	uint8_t chain[ANSWER_MAX_CHAIN + 1][NAME_MAXLEN];   /* names looked up, lowercase */
	int nchain;
	uint32_t additional[ANSWER_MAX_ADDITIONAL];   /* nodes whose addresses are in ADDITIONAL */
	int nadditional;
	answer_deferred_t deferred[ANSWER_MAX_DEFERRED];
	int ndeferred;
	answer_wild_t wild[ANSWER_MAX_CHAIN + 1];
	int nwild;
	uint32_t proofs[ANSWER_MAX_PROOFS];
	int nproofs;
} answer_t;

/*
 * Writes an RRset of node (owner: the given name, or the message offset owner_ptr when nonzero) into
 * the current section, with its RRSIGs when a->sec; ttl replaces the RRset's TTL. The RRset and its
 * signatures go whole or not at all: TDM_ESPACE leaves the message as it was.
 */
int answer_put_rrset(answer_t *a, const zone_node_t *node, const uint8_t *owner, uint16_t owner_ptr,
                     const zone_rrset_t *set, uint32_t ttl);

/* DNSSEC proofs in AUTHORITY (query/dnssec.c); each returns TDM_OK or TDM_ESPACE. Names are lowercase. */
/* NXDOMAIN: name does not exist, nor the wildcard below its closest encloser ce. */
int answer_deny_name(answer_t *a, const uint8_t *name, uint32_t ce);
/* NODATA at an existing node (an empty non-terminal, a delegation asked for DS, any other node). */
int answer_deny_type(answer_t *a, const uint8_t *name, uint32_t node);
/* A referral to a child without DS: proof that the delegation has none. */
int answer_deny_ds(answer_t *a, uint32_t cut);
/* A wildcard answer or wildcard NODATA. */
int answer_prove_wildcard(answer_t *a, const answer_wild_t *wild);
