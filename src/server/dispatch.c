/* server/dispatch.c -- requests that need the server, not just a zone: TSIG, NOTIFY, transfers */
#include <string.h>
#include <time.h>
#include <urcu.h>

#include <errno.h>
#include <pthread.h>

#include "change/change.h"
#include "ddns/ddns.h"
#include "lib/error.h"
#include "lib/log.h"
#include "runtime/inbox.h"
#include "runtime/metrics.h"
#include "runtime/runtime.h"
#include "runtime/tsigkeys.h"
#include "runtime/zoneload.h"
#include "runtime/zonert.h"
#include "server/acl.h"
#include "server/dispatch.h"
#include "server/xfrout.h"
#include "wire/rdata.h"
#include "zone/diff.h"

/*
 * A request in a worker:
 *
 *   parse --> signed? -- verify TSIG (bad: NOTAUTH + TSIG error, RFC 8945 5.2) --+
 *     |                                                                          |
 *     +--> NOTIFY   --> our secondary zone, from a primary or an ACL? --> refresh (control thread)
 *     +--> AXFR/IXFR --> ACL allows it? --> over TCP: a transfer job takes the connection
 *     +--> UPDATE   --> our primary zone, ACL `update`? --> the zone's write lock, prerequisites and
 *                       updates (ddns/), the change path, published, NOTIFY (and the file written back)
 *     +--> anything else --> query_answer_parsed
 *   answer signed with the request's key when the request was signed
 */

typedef struct {
	server_t *srv;
	runconf_t *rc;
	query_env_t *env;
	const query_t *q;
	const sockaddr_t *peer;
	bool tcp;
	bool tls;                    /* over TLS (RFC 9103): ACLs with transport: tls match */
	tsig_ctx_t tsig;
	bool signed_req;
	const char *key_name;        /* the configured key that signed the request, or NULL */
	uint8_t *resp;
	size_t cap;
} request_t;

static const tsig_key_t *find_key(void *arg, const uint8_t *name)
{
	runconf_t *rc = arg;
	for (size_t i = 0; i < rc->conf->key_count; i++)
		if (name_equal(rc->keys[i].name, name))
			return &rc->keys[i];
	for (size_t i = 0; i < rc->napi; i++)   /* keys made through the API (runtime/tsigkeys.h) */
		if (name_equal(rc->api[i]->key.name, name))
			return &rc->api[i]->key;
	return NULL;
}

static const char *key_name_of(const runconf_t *rc, const tsig_key_t *key)
{
	if (key == NULL)
		return NULL;
	if (key >= rc->keys && key < rc->keys + rc->conf->key_count)
		return rc->conf->keys[key - rc->keys].name;
	for (size_t i = 0; i < rc->napi; i++)
		if (&rc->api[i]->key == key)
			return rc->api[i]->conf.name;
	return NULL;
}

/* Lines a packet causes go through limiters (lib/log.h), one per kind: a flood logs a few lines. */
static log_limit_t refusals = LOG_LIMIT_INIT("refused NOTIFY and transfer requests");
static log_limit_t tsig_failures = LOG_LIMIT_INIT("TSIG failures");
static log_limit_t notifies = LOG_LIMIT_INIT("NOTIFYs received");

/* Logs a refusal at most once a minute per source (a flood of strangers stays one line). */
static void log_refused(const char *what, const char *zone, const sockaddr_t *peer)
{
	static _Atomic int64_t last[64];
	char addr[SOCKADDR_STRLEN];
	sockaddr_format(peer, addr, sizeof(addr));
	addr[strcspn(addr, "@")] = '\0';   /* per address: a stranger's port changes every time */
	uint32_t slot = name_hash((const uint8_t *)addr, strlen(addr)) % 64;
	int64_t now = (int64_t)time(NULL), prev = last[slot];
	if (now - prev < 60)
		return;
	last[slot] = now;
	log_limited(&refusals, LOG_WARN, "%s: %s from %s refused", zone, what, addr);
}

/* The most the answer may take in all: over UDP what the requester accepts (512 octets without
 * EDNS, RFC 1035 4.2.1; its payload size with it, no more than ours, no less than 512). */
static size_t limit(const request_t *r)
{
	size_t max = r->cap;
	if (!r->tcp) {
		const edns_t *e = &r->q->edns;
		size_t udp = !e->present ? EDNS_MIN_PAYLOAD
		             : e->payload < r->env->udp_payload ? e->payload : r->env->udp_payload;
		udp = udp < EDNS_MIN_PAYLOAD ? EDNS_MIN_PAYLOAD : udp;
		max = udp < max ? udp : max;
	}
	return max;
}

static size_t wire_len(const uint8_t *name)
{
	int n = name_length(name, NAME_MAXLEN);
	return n > 0 ? (size_t)n : NAME_MAXLEN;
}

/* Octets the TSIG record of the answer takes (RFC 8945 4.2): owner (the key name), type, class, TTL
 * and length, then the algorithm name, time signed, fudge, MAC size, MAC, original ID, error, other
 * length and other data (six octets: the server's time in a BADTIME answer). */
static size_t tsig_space(const request_t *r)
{
	if (!r->signed_req)
		return 0;
	const tsig_key_t *key = r->tsig.key;
	size_t name = wire_len(key != NULL ? key->name : r->tsig.req_name);
	size_t alg = wire_len(key != NULL ? tsig_alg_wire(key->alg) : r->tsig.req_alg);
	size_t mac = key != NULL ? tsig_alg_digest_len(key->alg) : 0;
	return name + 10 + alg + 6 + 2 + 2 + mac + 2 + 2 + 2 + 6;
}

/* Room for the answer itself, the TSIG record left out. */
static size_t room(const request_t *r)
{
	size_t max = limit(r), tsig = tsig_space(r);
	return max > tsig ? max - tsig : 0;
}

/* Signs the answer when the request was signed; an answer that cannot be signed is not sent. */
static size_t finish(request_t *r, size_t len)
{
	if (!r->signed_req || len == 0)
		return len;
	if (tsig_sign(&r->tsig, r->resp, &len, limit(r), (uint64_t)time(NULL)) != TDM_OK)
		return 0;
	return len;
}

static size_t error(request_t *r, int rcode)
{
	return finish(r, query_error(r->env, r->q, rcode, r->resp, room(r)));
}

/* RFC 8945 5.2: a request that fails TSIG gets NOTAUTH with the TSIG error (or FORMERR). */
static bool verify(request_t *r, size_t *out)
{
	tsig_ctx_init(&r->tsig, NULL);
	int ret = tsig_server_verify(&r->tsig, r->q->msg, r->q->len, find_key, r->rc,
	                             (uint64_t)time(NULL));
	if (ret == TDM_OK) {
		r->signed_req = true;
		r->key_name = key_name_of(r->rc, r->tsig.key);
		return true;
	}
	char addr[SOCKADDR_STRLEN];
	log_limited(&tsig_failures, LOG_WARN, "TSIG from %s rejected (%s)",
	            sockaddr_format(r->peer, addr, sizeof(addr)), tdm_strerror(ret));
	if (ret == TDM_EMALF) {
		*out = query_error(r->env, r->q, PKT_RCODE_FORMERR, r->resp, r->cap);
		return false;
	}
	r->signed_req = r->tsig.error != 0;   /* the error record goes out through tsig_sign */
	*out = error(r, PKT_RCODE_NOTAUTH);
	return false;
}

static zonert_t *exact_zone(request_t *r)
{
	zone_t *zone = zoneset_find_exact(r->env->zones, r->q->qname_lower, r->q->q.qname_len);
	return zone != NULL ? zonert_of(zone) : NULL;
}

/* Same address, any port: a NOTIFY comes from whatever port its sender picked. */
static bool from_remote(const conf_remote_t *remote, const sockaddr_t *peer)
{
	for (size_t i = 0; i < remote->address_count; i++) {
		addr_prefix_t p = { .addr = remote->addresses[i],
		                    .prefix = sockaddr_family(&remote->addresses[i]) == AF_INET ? 32 : 128 };
		if (addr_prefix_match(&p, peer))
			return true;
	}
	return false;
}

static size_t answer_notify(request_t *r);

/* A NOTIFY for a zone we do not have: a super-primary may be telling us of a new one. */
static size_t notify_unknown(request_t *r)
{
	const conf_t *conf = r->rc->conf;
	for (size_t i = 0; i < conf->autoprimary_count; i++) {
		const conf_remote_t *remote = conf->autoprimaries[i].remote;
		if (!from_remote(remote, r->peer))
			continue;
		if (remote->key != NULL && (r->key_name == NULL ||
		                            strcmp(remote->key->name, r->key_name) != 0))
			continue;
		char name[NAME_TEXT_MAX];
		name_to_text(r->q->qname_lower, name, sizeof(name));
		inbox_post_name(r->srv, CTL_AUTOPRIMARY, name, i);
		return answer_notify(r);
	}
	char name[NAME_TEXT_MAX];
	name_to_text(r->q->qname_lower, name, sizeof(name));
	log_refused("NOTIFY for a zone not served here", name, r->peer);
	metrics_event(r->srv, METRICS_NOTIFY_IN_REFUSED);
	return error(r, PKT_RCODE_NOTAUTH);
}

/* The serial of the SOA a NOTIFY carries in its answer section for its own zone (RFC 1996 3.7: a hint
 * at the new SOA); false when it carries none, or one that does not parse. */
static bool notify_serial(const request_t *r, uint32_t *serial)
{
	const uint8_t *msg = r->q->msg;
	size_t len = r->q->len, pos = PKT_HEADER_LEN;
	pkt_question_t q;
	pkt_rr_t rr;
	uint8_t rd[2 * NAME_MAXLEN + 20];
	if (pkt_ancount(msg) == 0 || pkt_read_question(msg, len, &pos, &q) != TDM_OK ||
	    pkt_read_rr(msg, len, &pos, &rr) != TDM_OK || rr.type != PKT_TYPE_SOA ||
	    rr.rclass != q.qclass || !name_equal(rr.owner, q.qname))
		return false;
	int n = rdata_unpack(msg, len, rr.rdata_pos, rr.rdlen, PKT_TYPE_SOA, rd, sizeof(rd));
	if (n < 0)
		return false;
	int mname = name_length(rd, (size_t)n);
	int rname = mname > 0 ? name_length(rd + mname, (size_t)(n - mname)) : -1;
	if (rname < 0 || mname + rname + 20 != n)
		return false;
	*serial = pkt_get32(rd + mname + rname);
	return true;
}

static size_t notify_in(request_t *r)
{
	zonert_t *zr = exact_zone(r);
	const conf_zone_t *cz = zr != NULL ? rcu_dereference(zr->conf) : NULL;
	if (r->q->q.qtype != PKT_TYPE_SOA)
		return error(r, PKT_RCODE_FORMERR);
	if (cz == NULL)
		return notify_unknown(r);
	if (cz->type != CONF_ZONE_SECONDARY || !acl_allows_over(cz, CONF_ALLOW_NOTIFY, r->peer,
	                                                   r->key_name, r->tls)) {
		log_refused("NOTIFY", zr->name, r->peer);
		metrics_event(r->srv, METRICS_NOTIFY_IN_REFUSED);
		return error(r, PKT_RCODE_REFUSED);
	}
	char addr[SOCKADDR_STRLEN];
	/* A NOTIFY whose SOA is not newer than the version served asks for nothing (as BIND takes
	 * it): no SOA query, no job. A catalog's producer NOTIFYs every member, and each one's
	 * query to the primary cost more than the transfer that made it. The refresh timers still run. */
	uint32_t hint;
	const zone_contents_t *have = zone_contents(zr->zone);
	if (have != NULL && notify_serial(r, &hint) && serial_cmp(hint, zone_serial(have)) <= 0) {
		log_limited(&notifies, LOG_INFO, "%s: NOTIFY from %s with serial %u: up to date (serial %u here)",
		            zr->name, sockaddr_format(r->peer, addr, sizeof(addr)), hint, zone_serial(have));
		metrics_event(r->srv, METRICS_NOTIFY_IN_ACCEPTED);
		return answer_notify(r);
	}
	log_limited(&notifies, LOG_INFO, "%s: NOTIFY from %s, refreshing", zr->name,
	            sockaddr_format(r->peer, addr, sizeof(addr)));
	inbox_post(r->srv, CTL_REFRESH, zr);
	metrics_event(r->srv, METRICS_NOTIFY_IN_ACCEPTED);
	return answer_notify(r);
}

/* RFC 1996 4.7: the answer echoes the question, with AA. */
static size_t answer_notify(request_t *r)
{
	pkt_writer_t w;
	pkt_writer_init(&w, r->resp, room(r));
	uint16_t flags = PKT_FLAG_QR | PKT_FLAG_AA | (uint16_t)(PKT_OPCODE_NOTIFY << 11);
	if (pkt_write_header(&w, pkt_id(r->q->msg), flags) != TDM_OK ||
	    pkt_write_question(&w, r->q->q.qname, r->q->q.qtype, r->q->q.qclass) != TDM_OK)
		return 0;
	return finish(r, pkt_writer_finish(&w));
}

/* IXFR over UDP: the SOA alone, which tells the client to come back over TCP (RFC 1995 2). */
static size_t ixfr_udp(request_t *r, const zone_contents_t *z)
{
	pkt_writer_t w;
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(z, zone_soa(z), &rdlen);
	pkt_writer_init(&w, r->resp, room(r));
	if (pkt_write_header(&w, pkt_id(r->q->msg), PKT_FLAG_QR | PKT_FLAG_AA) != TDM_OK ||
	    pkt_write_question(&w, r->q->q.qname, r->q->q.qtype, r->q->q.qclass) != TDM_OK ||
	    pkt_write_rr(&w, NULL, PKT_HEADER_LEN, PKT_TYPE_SOA, PKT_CLASS_IN, zone_soa(z)->ttl, rd,
	                 rdlen) != TDM_OK)
		return 0;
	return finish(r, pkt_writer_finish(&w));
}

static size_t transfer(request_t *r, struct xfrout **job)
{
	/* RFC 5936 4.2: AXFR is not defined over UDP, whatever the zone or the asker: NOTIMP, as Knot. */
	if (!r->tcp && r->q->q.qtype == PKT_TYPE_AXFR)
		return error(r, PKT_RCODE_NOTIMP);
	zonert_t *zr = exact_zone(r);
	const conf_zone_t *cz = zr != NULL ? rcu_dereference(zr->conf) : NULL;
	const zone_contents_t *z = zr != NULL ? zone_contents(zr->zone) : NULL;
	/* RFC 5936 4.2.1 leaves it to us; like Knot, NOTAUTH for a zone we cannot give. */
	if (cz == NULL || z == NULL || zone_expired(zr->zone))
		return error(r, PKT_RCODE_NOTAUTH);
	const char *what = r->q->q.qtype == PKT_TYPE_AXFR ? "AXFR" : "IXFR";
	if (!acl_allows_over(cz, CONF_ALLOW_TRANSFER, r->peer, r->key_name, r->tls)) {
		log_refused(what, zr->name, r->peer);
		return error(r, PKT_RCODE_REFUSED);
	}
	if (!r->tcp)   /* RFC 1995 2: IXFR over UDP gets the SOA (or TC) */
		return ixfr_udp(r, z);
	*job = xfrout_new(r->srv, zr, r->q, r->peer, r->signed_req ? &r->tsig : NULL);
	if (*job == NULL)
		return error(r, PKT_RCODE_SERVFAIL);
	r->signed_req = false;   /* the job owns the TSIG state now */
	return 0;
}

static log_limit_t updates_refused = LOG_LIMIT_INIT("refused UPDATEs");

/* Applies a prepared change: committed through the change path, then published and notified. */
/* The change committed and published; cost (size octets) says what it cost, for the UPDATE's log line
 * (the one line an UPDATE logs). */
static int update_commit(request_t *r, zonert_t *zr, const conf_zone_t *cz, const zone_contents_t *z,
                         const rrlist_t *removed, const rrlist_t *added, char *cost, size_t size)
{
	char who[SOCKADDR_STRLEN + 300], addr[SOCKADDR_STRLEN];
	sockaddr_format(r->peer, addr, sizeof(addr));
	snprintf(who, sizeof(who), "update from %s%s%s", addr, r->key_name ? " key " : "",
	         r->key_name ? r->key_name : "");
	change_t chg = { .store = r->srv->store, .zone = zr->name,
	                 .journal_max = r->rc->conf->server.journal_max_entries, .who = who, .quiet = true };
	/* The row's source and file stat stay; a file-backed zone's file is now behind the store until it
	 * is written back. */
	chg.meta.serial_only = true;
	if (cz->file != NULL)
		snprintf(chg.meta.file_digest, sizeof(chg.meta.file_digest), "%s", ZONELOAD_DIGEST_PENDING);
	zone_contents_t *next = NULL;
	int ret = change_commit(&chg, z, removed, added, &next);
	if (ret != TDM_OK)
		return ret;
	snprintf(cost, size, "%s", chg.cost);
	zr->serial = zone_serial(next);
	zone_set_contents(zr->zone, next);
	inbox_post(r->srv, CTL_NOTIFY, zr);
	if (cz->file != NULL)
		inbox_post(r->srv, CTL_FILE_SYNC, zr);
	if (change_compact_due(&chg, next))   /* costs the zone: the control thread does it, later */
		inbox_post(r->srv, CTL_COMPACT, zr);
	return TDM_OK;
}

/* RFC 2136: a dynamic update of one of our primary zones. A secondary refuses it (decided in
 * docs/behaviour.md "Dynamic update": no forwarding, the client is told to ask the primary). */
static size_t update_in(request_t *r)
{
	char addr[SOCKADDR_STRLEN];
	sockaddr_format(r->peer, addr, sizeof(addr));
	/* RFC 2136 3.1.1: one zone, of type SOA. */
	if (pkt_qdcount(r->q->msg) != 1 || r->q->q.qtype != PKT_TYPE_SOA)
		return error(r, PKT_RCODE_FORMERR);
	if (r->q->q.qclass != 1)   /* only class IN is served */
		return error(r, PKT_RCODE_NOTAUTH);
	zonert_t *zr = exact_zone(r);
	const conf_zone_t *cz = zr != NULL ? rcu_dereference(zr->conf) : NULL;
	const zone_contents_t *z = zr != NULL ? zone_contents(zr->zone) : NULL;
	if (cz == NULL || z == NULL)
		return error(r, PKT_RCODE_NOTAUTH);
	const char *why = NULL;
	if (!acl_allows_over(cz, CONF_ALLOW_UPDATE, r->peer, r->key_name, r->tls)) {
		log_refused("UPDATE", zr->name, r->peer);
		return error(r, PKT_RCODE_REFUSED);
	}
	if (cz->type != CONF_ZONE_PRIMARY)
		why = "a secondary zone: send updates to its primary";
	else if (cz->catalog == CONF_CATALOG_PRODUCE)
		why = "a catalog this server writes from its configuration";
	else if (zone_contents_dnssec(z) != NULL)
		why = "a signed zone (its signer changes it)";
	if (why != NULL) {
		log_limited(&updates_refused, LOG_WARN, "%s: UPDATE from %s refused: %s", zr->name, addr, why);
		return error(r, PKT_RCODE_REFUSED);
	}
	/* A reload of a large file holds the lock longer: SERVFAIL, and the client tries again. */
	if (!zonert_write_lock(zr, ZONERT_WRITE_WAIT_MS))
		return error(r, PKT_RCODE_SERVFAIL);
	/* Under the lock, the version served is the one the change applies to. */
	z = zone_contents(zr->zone);
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	ddns_result_t res;
	uint32_t next = serial_next(zone_serial(z), (int)cz->serial_policy, (int64_t)time(NULL));
	int ret = removed && added ? ddns_prepare(z, r->q->msg, r->q->tsig_pos ? r->q->tsig_pos : r->q->len,
	                                          next, removed, added, &res) : TDM_ENOMEM;
	int rcode = ret == TDM_OK ? res.rcode : PKT_RCODE_SERVFAIL;
	if (ret == TDM_OK && rcode == PKT_RCODE_NOERROR && rrlist_count(added) + rrlist_count(removed) > 0) {
		uint32_t from = zone_serial(z);
		char cost[128];
		ret = update_commit(r, zr, cz, z, removed, added, cost, sizeof(cost));
		if (ret == TDM_OK)
			log_info("%s: UPDATE from %s%s%s: serial %u -> %u, %zu removed, %zu added; %s", zr->name,
			         addr, r->key_name ? " key " : "", r->key_name ? r->key_name : "", from, zr->serial,
			         rrlist_count(removed), rrlist_count(added), cost);
		else
			log_err("%s: UPDATE from %s not applied (%s)", zr->name, addr, tdm_strerror(ret));
		rcode = ret == TDM_OK ? PKT_RCODE_NOERROR : PKT_RCODE_SERVFAIL;
	} else if (ret == TDM_OK && rcode != PKT_RCODE_NOERROR) {
		log_limited(&updates_refused, LOG_INFO, "%s: UPDATE from %s: %s", zr->name, addr, res.why);
	}
	pthread_mutex_unlock(&zr->write_lock);
	rrlist_free(removed);
	rrlist_free(added);
	return error(r, rcode);
}

/* A secondary asking for the SOA of a zone it may transfer: note it in the replication view. */
static void note_soa_query(request_t *r)
{
	zonert_t *zr = exact_zone(r);
	const conf_zone_t *cz = zr != NULL ? rcu_dereference(zr->conf) : NULL;
	if (cz != NULL && acl_allows_over(cz, CONF_ALLOW_TRANSFER, r->peer, r->key_name, r->tls))
		zonert_peer_seen(zr, r->peer, "soa", false, 0, NULL);
}

size_t dispatch_request(server_t *srv, query_env_t *env, const uint8_t *req, size_t len,
                        uint8_t *resp, size_t cap, bool tcp, const sockaddr_t *peer,
                        struct xfrout **job)
{
	return dispatch_request_over(srv, env, req, len, resp, cap, tcp, false, peer, job);
}

size_t dispatch_request_over(server_t *srv, query_env_t *env, const uint8_t *req, size_t len,
                             uint8_t *resp, size_t cap, bool tcp, bool tls,
                             const sockaddr_t *peer, struct xfrout **job)
{
	query_t q;
	if (!query_parse(req, len, &q))
		return 0;
	int opcode = pkt_opcode(req);
	bool xfr = q.q.qtype == PKT_TYPE_AXFR || q.q.qtype == PKT_TYPE_IXFR;
	/* The common case goes straight to the answer. */
	if (q.tsig_pos == 0 && q.rcode == PKT_RCODE_NOERROR && opcode == PKT_OPCODE_QUERY && !xfr &&
	    q.q.qtype != PKT_TYPE_SOA)
		return query_answer_parsed(env, &q, resp, cap, tcp);
	request_t r = { .srv = srv, .rc = rcu_dereference(srv->rc), .env = env, .q = &q,
	                .peer = peer, .tcp = tcp, .tls = tls, .resp = resp, .cap = cap };
	size_t out = 0;
	if (q.rcode != PKT_RCODE_NOERROR)
		return query_answer_parsed(env, &q, resp, cap, tcp);
	if (q.tsig_pos != 0 && !verify(&r, &out))
		goto done;
	if (opcode == PKT_OPCODE_NOTIFY)
		out = notify_in(&r);
	else if (opcode == PKT_OPCODE_UPDATE)
		out = update_in(&r);
	else if (opcode == PKT_OPCODE_QUERY && xfr)
		out = transfer(&r, job);
	else {
		if (q.q.qtype == PKT_TYPE_SOA && opcode == PKT_OPCODE_QUERY)
			note_soa_query(&r);
		/* Room for the TSIG record: a signed answer that does not fit otherwise is truncated
		 * (TC) and still signed, and the client retries over TCP (RFC 8945 5.3). */
		env->reserve = tsig_space(&r);
		out = finish(&r, query_answer_parsed(env, &q, resp, limit(&r), tcp));
		env->reserve = 0;
	}
done:
	if (r.signed_req || q.tsig_pos != 0)
		tsig_ctx_clear(&r.tsig);
	return out;
}
