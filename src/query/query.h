/* query/query.h -- one request in, one answer out: parsing, RFC 1034 4.3.2 lookup, EDNS, truncation */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/edns.h"
#include "wire/pkt.h"
#include "zone/zoneset.h"

typedef struct {
	const zoneset_t *zones;      /* read inside the caller's RCU read section */
	const char *identity;        /* NSID and CH TXT id.server; NULL = not disclosed */
	uint16_t udp_payload;        /* the most we send over UDP with EDNS (default 1232) */
	const uint8_t *cookie_secret;/* 16 octets for server cookies (RFC 9018); NULL = no cookies */
	const void *client;          /* the requester's sockaddr (for its cookie), may be NULL */
	size_t reserve;              /* octets to leave free at the end of a response (for TSIG) */
	const struct query_prefetch *prefetch; /* this request's, done (query_prefetch_step); NULL: none */
} query_env_t;

/* A request, parsed and checked. */
typedef struct {
	const uint8_t *msg;
	size_t len;
	pkt_question_t q;
	uint8_t qname_lower[NAME_MAXLEN];
	edns_t edns;
	size_t tsig_pos;             /* offset of a TSIG record (last in the message), 0 = none */
	int rcode;                   /* the rcode the parse calls for (FORMERR, BADVERS, ...), else 0 */
} query_t;

/*
 * Parses a request. Returns false when it deserves no answer at all: shorter than a header, or a
 * response (QR set). Otherwise fills q; q->rcode says whether it must be refused with FORMERR,
 * NOTIMP or BADVERS instead of answered.
 */
bool query_parse(const uint8_t *msg, size_t len, query_t *q);

/*
 * Answers a request: writes the response into resp (at most respcap octets; for UDP the caller passes
 * the whole buffer and the answer is limited to what the requester accepts). Returns the response
 * length, or 0 to send nothing. Allocates nothing; takes no lock.
 */
size_t query_answer(const query_env_t *env, const uint8_t *req, size_t reqlen, uint8_t *resp,
                    size_t respcap, bool tcp);

/* The same for a request already parsed by query_parse (which returned true). */
size_t query_answer_parsed(const query_env_t *env, const query_t *q, uint8_t *resp,
                           size_t respcap, bool tcp);

/*
 * Cache warming for a batch (query/prefetch.c): query_prefetch_begin on every request of a batch, then
 * query_prefetch_step on each in turn while any returns true, then the answers. It reads the request
 * no further than its question (within len) and changes nothing: the answers are the same without it,
 * only slower. Inside the caller's RCU read section, with req and *p alive until the last step.
 */
typedef struct query_prefetch {
	zone_prefetch_t zp;
	zone_t *zone;                /* the zone the question's name went to, or NULL: not looked for */
	uint8_t name[NAME_MAXLEN];   /* the question's name in lowercase */
} query_prefetch_t;

void query_prefetch_begin(query_prefetch_t *p, const zoneset_t *zones, const uint8_t *req,
                          size_t len);
bool query_prefetch_step(query_prefetch_t *p);
/* Once the steps are done: the node of name (lowercase, len octets) in z when the prefetch found it
 * there -- the answer then need not look it up again --, else ZONE_NODE_NONE. p may be NULL. */
uint32_t query_prefetch_node(const query_prefetch_t *p, const zone_contents_t *z,
                             const uint8_t *name, size_t len);
/* The zone the prefetch found for name (lowercase, len octets), else NULL. p may be NULL. */
zone_t *query_prefetch_zone(const query_prefetch_t *p, const uint8_t *name, size_t len);

/* The zone a question goes to (DS to the parent side), or NULL: the one the batch prefetch found
 * (env->prefetch) when it looked for this question's name in the same zone set. */
zone_t *query_find_zone(const query_env_t *env, const query_t *q);

/* Writes an error response (question echoed when readable, OPT when the request had one). */
size_t query_error(const query_env_t *env, const query_t *q, int rcode, uint8_t *resp,
                   size_t respcap);

/* What our OPT record carries for this request: NSID when configured, a server cookie when the
 * request has a client cookie. */
void query_edns_reply(const query_env_t *env, const query_t *q, edns_reply_t *reply);
