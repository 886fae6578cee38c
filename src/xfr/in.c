/* xfr/in.c -- the secondary's side: SOA checks and zone transfers in */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/netwait.h"
#include "wire/edns.h"
#include "wire/rdata.h"
#include "xfr/in.h"
#include "xfr/conn.h"
#include "xfr/net.h"
#include "xfr/out.h"
#include "zone/diff.h"

/*
 * Reading a transfer (RFC 1995 4, RFC 5936 2.2), record by record across messages:
 *
 *   FIRST --SOA(new)--> SECOND --not SOA--> AXFR --SOA(new)--> DONE        (a whole zone)
 *                         |
 *                         +--SOA(ours)--> DEL --SOA(next)--> ADD --SOA(new)--> DONE
 *                                          ^                   |
 *                                          +---SOA(next old)---+           (one or more changes)
 *
 * A stream that ends after FIRST is IXFR's "you are up to date" (or "use TCP").
 */
enum { S_FIRST, S_SECOND, S_AXFR, S_DEL, S_ADD, S_DONE };

typedef struct {
	const xfr_peer_t *peer;
	const zone_contents_t *current;
	xfr_result_t *r;
	int state;
	uint32_t serial_new, serial_cur, serial_ours;
	uint16_t soa_new_len;
	uint32_t soa_new_ttl;
	rrlist_t *del, *add;                    /* the change being read */
	xfr_condense_t *condense;
	uint16_t id;
	tsig_ctx_t tsig;                        /* when the peer has a key */
	uint8_t soa_new[65535];                 /* first SOA's rdata; last: not cleared */
} reader_t;

void xfr_result_clear(xfr_result_t *r)
{
	rrlist_free(r->records);
	rrlist_free(r->removed);
	rrlist_free(r->added);
	memset(r, 0, sizeof(*r));
}

static int fail(xfr_result_t *r, int ret, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return ret;
}

static uint32_t soa_serial(const uint8_t *rd, uint16_t rdlen)
{
	return pkt_get32(rd + rdlen - 20);
}

static int end_change(reader_t *rd)
{
	int ret = xfr_condense_add(rd->condense, rd->del, rd->add);
	rrlist_free(rd->del);
	rrlist_free(rd->add);
	rd->del = rrlist_new();
	rd->add = rrlist_new();
	if (ret != TDM_OK || rd->del == NULL || rd->add == NULL)
		return TDM_ENOMEM;
	return TDM_OK;
}

static int feed_soa(reader_t *rd, const uint8_t *owner, uint32_t ttl, const uint8_t *data,
                    uint16_t len)
{
	uint32_t serial = soa_serial(data, len);
	switch (rd->state) {
	case S_FIRST:
		rd->serial_new = serial;
		memcpy(rd->soa_new, data, len);
		rd->soa_new_len = len;
		rd->soa_new_ttl = ttl;
		rd->state = S_SECOND;
		return TDM_OK;
	case S_SECOND:
		if (rd->current == NULL) {   /* AXFR of a zone holding only its SOA */
			rd->r->full = true;
			rd->state = S_DONE;
			return rrlist_add(rd->r->records, owner, PKT_TYPE_SOA, ttl, data, len, 0);
		}
		if (serial != rd->serial_ours)
			return fail(rd->r, TDM_EMALF, "IXFR starts at serial %u, not at ours (%u)",
			            serial, rd->serial_ours);
		rd->state = S_DEL;
		return TDM_OK;
	case S_AXFR:
		if (serial != rd->serial_new)
			return fail(rd->r, TDM_EMALF, "AXFR ends with serial %u, not %u", serial,
			            rd->serial_new);
		rd->state = S_DONE;
		return TDM_OK;
	case S_DEL:
		rd->serial_cur = serial;
		rd->state = S_ADD;
		return TDM_OK;
	case S_ADD:
		if (end_change(rd) != TDM_OK)
			return TDM_ENOMEM;
		rd->state = serial == rd->serial_new ? S_DONE : S_DEL;
		if (rd->state == S_DEL && serial != rd->serial_cur)
			return fail(rd->r, TDM_EMALF, "IXFR change starts at %u after one ending at %u",
			            serial, rd->serial_cur);
		return TDM_OK;
	}
	return fail(rd->r, TDM_EMALF, "records after the closing SOA");
}

static int feed(reader_t *rd, const uint8_t *owner, uint16_t type, uint32_t ttl,
                const uint8_t *data, uint16_t len)
{
	if (type == PKT_TYPE_SOA) {
		if (len < 22 || !name_equal(owner, rd->peer->zone))
			return fail(rd->r, TDM_EMALF, "SOA not at the apex in the transfer");
		return feed_soa(rd, owner, ttl, data, len);
	}
	rd->r->changes++;
	switch (rd->state) {
	case S_FIRST:
		return fail(rd->r, TDM_EMALF, "transfer does not start with the SOA");
	case S_SECOND:
		rd->r->full = true;
		rd->state = S_AXFR;
		if (rrlist_add(rd->r->records, rd->peer->zone, PKT_TYPE_SOA, rd->soa_new_ttl,
		               rd->soa_new, rd->soa_new_len, 0) != TDM_OK)
			return TDM_ENOMEM;
		/* fall through */
	case S_AXFR:
		return rrlist_add(rd->r->records, owner, type, ttl, data, len, 0);
	case S_DEL:
		return rrlist_add(rd->del, owner, type, ttl, data, len, 0);
	case S_ADD:
		return rrlist_add(rd->add, owner, type, ttl, data, len, 0);
	}
	return fail(rd->r, TDM_EMALF, "records after the closing SOA");
}

/* The request: question, our SOA in authority for IXFR (RFC 1995 3), OPT with EXPIRE (RFC 7314). */
static int build_request(const xfr_peer_t *peer, uint16_t id, uint16_t qtype,
                         const zone_contents_t *current, uint8_t *buf, size_t *len)
{
	pkt_writer_t w;
	pkt_writer_init(&w, buf, PKT_MAXLEN);
	int ret = pkt_write_header(&w, id, 0);
	if (ret == TDM_OK)
		ret = pkt_write_question(&w, peer->zone, qtype, PKT_CLASS_IN);
	if (ret == TDM_OK && qtype == PKT_TYPE_IXFR) {
		uint16_t rdlen;
		const uint8_t *rd = zone_rrset_first(current, zone_soa(current), &rdlen);
		pkt_begin_section(&w, PKT_SECTION_AUTHORITY);
		ret = pkt_write_rr(&w, peer->zone, 0, PKT_TYPE_SOA, PKT_CLASS_IN, zone_soa(current)->ttl,
		                   rd, rdlen);
	}
	if (ret == TDM_OK) {
		static const uint8_t expire_opt[4] = { 0, EDNS_OPT_EXPIRE, 0, 0 };
		pkt_begin_section(&w, PKT_SECTION_ADDITIONAL);
		ret = pkt_write_rr(&w, (const uint8_t *)"", 0, PKT_TYPE_OPT, EDNS_DEFAULT_PAYLOAD, 0,
		                   expire_opt, sizeof(expire_opt));
	}
	*len = pkt_writer_finish(&w);
	return ret;
}

/* Signs the request when the peer has a key (RFC 8945: the answers must then be signed too). */
static int sign_request(reader_t *rd, uint8_t *buf, size_t *len)
{
	if (rd->peer->key == NULL)
		return TDM_OK;
	tsig_ctx_clear(&rd->tsig);
	tsig_ctx_init(&rd->tsig, rd->peer->key);
	return tsig_sign(&rd->tsig, buf, len, PKT_MAXLEN, (uint64_t)time(NULL));
}

/* Every message of a signed exchange is checked (up to 99 unsigned between signed ones). */
static int verify_message(reader_t *rd, const uint8_t *msg, size_t len)
{
	if (rd->peer->key == NULL)
		return TDM_OK;
	int ret = tsig_verify(&rd->tsig, msg, len, (uint64_t)time(NULL));
	if (ret != TDM_OK)
		return fail(rd->r, ret, "TSIG: %s", tdm_strerror(ret));
	return TDM_OK;
}

static const char *rcode_name(int rcode)
{
	static const char *names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
	                               "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
	                               "NOTZONE" };
	return rcode >= 0 && rcode < 11 ? names[rcode] : "error";
}

/* Header and question of one message of the answer. */
static int check_header(reader_t *rd, const uint8_t *msg, size_t len, uint16_t qtype,
                        size_t *pos)
{
	pkt_question_t q;
	if (len < PKT_HEADER_LEN || pkt_id(msg) != rd->id || !(pkt_flags(msg) & PKT_FLAG_QR))
		return fail(rd->r, TDM_EMALF, "answer with a wrong id or not a response");
	if (pkt_rcode(msg) != PKT_RCODE_NOERROR)
		return fail(rd->r, TDM_ERCODE, "%s", rcode_name(pkt_rcode(msg)));
	*pos = PKT_HEADER_LEN;
	if (pkt_qdcount(msg) > 1)
		return fail(rd->r, TDM_EMALF, "answer with %u questions", pkt_qdcount(msg));
	if (pkt_qdcount(msg) == 1) {
		if (pkt_read_question(msg, len, pos, &q) != TDM_OK)
			return fail(rd->r, TDM_EMALF, "malformed question in the answer");
		if (!name_equal(q.qname, rd->peer->zone) || q.qtype != qtype)
			return fail(rd->r, TDM_EMALF, "answer to another question");
	}
	return TDM_OK;
}

static void read_expire(reader_t *rd, const uint8_t *msg, const pkt_rr_t *rr)
{
	edns_t e;
	if (edns_parse(msg, rr, &e) != TDM_OK || !e.expire)
		return;
	/* edns_parse notes the option; its value is the 4 octets after the option header. */
	const uint8_t *p = msg + rr->rdata_pos, *end = p + rr->rdlen;
	while (end - p >= 4) {
		uint16_t code = pkt_get16(p), olen = pkt_get16(p + 2);
		if (end - p - 4 < olen)
			return;
		if (code == EDNS_OPT_EXPIRE && olen == 4) {
			rd->r->has_expire = true;
			rd->r->expire = pkt_get32(p + 4);
		}
		p += 4 + olen;
	}
}

/* A record that cannot be zone data fails the whole transfer: the zone keeps its version, and the log
 * names the record (rdata_check_record: the same check an UPDATE goes through). */
static int check_record(reader_t *rd, const uint8_t *owner, const pkt_rr_t *rr, const uint8_t *rdata,
                        int n)
{
	char why[NAME_TEXT_MAX + 96], name[NAME_TEXT_MAX], tname[16];
	if (n < 0 || rr->rclass != PKT_CLASS_IN) {
		name_to_text(owner, name, sizeof(name));
		return fail(rd->r, TDM_EMALF, "record %s %s: %s", name,
		            rdata_type_name(rr->type, tname, sizeof(tname)),
		            n < 0 ? "malformed rdata" : "not of class IN");
	}
	if (rdata_check_record(rd->peer->zone, owner, rr->type, rdata, (size_t)n, why, sizeof(why)) !=
	    TDM_OK)
		return fail(rd->r, TDM_EMALF, "%s", why);
	return TDM_OK;
}

/* Knot's zone-max-size, BIND's max-records: a primary that never ends a transfer holds no more than
 * this (the size counts records uncompressed, as they are kept: a compressed stream expands). */
static int count_record(reader_t *rd, size_t size)
{
	xfr_result_t *r = rd->r;
	r->read_records++;
	r->read_bytes += size;
	if (rd->peer->max_records != 0 && r->read_records > rd->peer->max_records)
		return fail(r, TDM_ERANGE, "more than max-zone-records %llu records in the transfer",
		            (unsigned long long)rd->peer->max_records);
	if (rd->peer->max_bytes != 0 && r->read_bytes > rd->peer->max_bytes)
		return fail(r, TDM_ERANGE, "more than max-zone-size %llu octets in the transfer",
		            (unsigned long long)rd->peer->max_bytes);
	return TDM_OK;
}

/* Every record of one message into the reader. */
static int read_message(reader_t *rd, const uint8_t *msg, size_t len, uint16_t qtype,
                        uint8_t *rdbuf)
{
	size_t pos;
	int ret = verify_message(rd, msg, len);
	if (ret == TDM_OK)
		ret = check_header(rd, msg, len, qtype, &pos);
	if (ret != TDM_OK)
		return ret;
	unsigned an = pkt_ancount(msg), total = an + pkt_nscount(msg) + pkt_arcount(msg);
	for (unsigned i = 0; i < total; i++) {
		pkt_rr_t rr;
		if (pkt_read_rr(msg, len, &pos, &rr) != TDM_OK)
			return fail(rd->r, TDM_EMALF, "malformed record in the answer");
		if (i >= an) {
			if (rr.type == PKT_TYPE_OPT)
				read_expire(rd, msg, &rr);
			continue;   /* TSIG was checked above */
		}
		uint8_t owner[NAME_MAXLEN];
		int olen = name_copy_lower(owner, rr.owner);
		int n = rdata_unpack(msg, len, rr.rdata_pos, rr.rdlen, rr.type, rdbuf, 65535);
		if ((ret = check_record(rd, owner, &rr, rdbuf, n)) != TDM_OK)
			return ret;
		if ((ret = count_record(rd, (size_t)olen + 10 + (size_t)n)) != TDM_OK)
			return ret;
		if ((ret = feed(rd, owner, rr.type, rr.ttl, rdbuf, (uint16_t)n)) != TDM_OK)
			return ret;
	}
	rd->r->messages++;
	rd->r->bytes += len;
	return TDM_OK;
}

static uint16_t random_id(void)
{
	uint16_t id = 0;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)time(NULL);
	return id;
}

/* The end of the next network wait: one message's timeout, or the exchange's deadline if sooner. */
static int64_t until(const xfr_peer_t *peer)
{
	int64_t t = clock_us() + (int64_t)peer->timeout_ms * 1000;
	return peer->deadline != 0 && peer->deadline < t ? peer->deadline : t;
}

static int net_fail(xfr_result_t *r, int ret, const xfr_peer_t *peer, const char *what,
                    const xfr_conn_t *c)
{
	char addr[SOCKADDR_STRLEN];
	sockaddr_format(peer->primary, addr, sizeof(addr));
	/* After the handshake (c->tls kept) the step is said too: "TLS: sending the request: error:0A00045C:
	 * SSL routines::tlsv13 alert certificate required"; a failed handshake says what failed in it. */
	if (c != NULL && c->why[0] != '\0' && c->tls != NULL)
		return fail(r, ret, "TLS: %s: %s", what, c->why);
	if (c != NULL && c->why[0] != '\0')
		return fail(r, ret, "TLS: %s", c->why);
	if (ret == TDM_ETLS)
		return fail(r, ret, "TLS: %s: failed", what);
	if (ret == TDM_ETIMEDOUT && peer->deadline != 0 && clock_us() >= peer->deadline)
		return fail(r, ret, "%s: %s took longer than xfr-max-time", what, addr);
	if (ret == TDM_ETIMEDOUT)
		return fail(r, ret, "%s: no answer from %s", what, addr);
	return fail(r, ret, "%s: %s", what, tdm_strerror(ret));
}

/* Sends the request and reads messages until the transfer is complete. */
static int exchange(reader_t *rd, xfr_conn_t *c, uint16_t qtype, uint8_t *buf, uint8_t *rdbuf)
{
	int type = c->type;
	size_t len;
	int ret = build_request(rd->peer, rd->id, qtype, rd->current, buf, &len);
	if (ret == TDM_OK)
		ret = sign_request(rd, buf, &len);
	if (ret != TDM_OK)
		return fail(rd->r, ret, "cannot build the request");
	if ((ret = xfr_conn_send(c, buf, len, until(rd->peer))) != TDM_OK)
		return net_fail(rd->r, ret, rd->peer, "sending the request", c);
	while (rd->state != S_DONE) {
		int n = xfr_conn_recv(c, buf, PKT_MAXLEN, until(rd->peer));
		if (n == TDM_EIO && rd->state == S_SECOND && qtype == PKT_TYPE_IXFR)
			break;   /* closed after the single SOA: up to date */
		if (n < 0)
			return net_fail(rd->r, n, rd->peer, "reading the answer", c);
		if (type == SOCK_DGRAM && n >= 2 && pkt_id(buf) != rd->id)
			continue;   /* not ours: a late answer to an earlier query */
		if ((ret = read_message(rd, buf, (size_t)n, qtype, rdbuf)) != TDM_OK)
			return ret;
		/* One message: an SOA answer, or IXFR's lone SOA saying we are up to date. A lone SOA
		 * with a newer serial is only the first message of a longer answer (PowerDNS). */
		if (type == SOCK_DGRAM || qtype == PKT_TYPE_SOA ||
		    (rd->state == S_SECOND && qtype == PKT_TYPE_IXFR && pkt_ancount(buf) == 1 &&
		     serial_cmp(rd->serial_new, rd->serial_ours) <= 0))
			break;
	}
	/* RFC 8945 5.3.1: the last message of a signed stream must be signed. */
	if (rd->peer->key != NULL && (ret = tsig_verify_end(&rd->tsig)) != TDM_OK)
		return fail(rd->r, ret, "TSIG: the answer does not end signed");
	return TDM_OK;
}

static int reader_init(reader_t *rd, const xfr_peer_t *peer, const zone_contents_t *current,
                       xfr_result_t *r)
{
	memset(r, 0, sizeof(*r));
	memset(rd, 0, offsetof(reader_t, soa_new));
	rd->peer = peer;
	rd->current = current;
	rd->r = r;
	rd->id = random_id();
	tsig_ctx_init(&rd->tsig, NULL);
	rd->serial_ours = current != NULL ? zone_serial(current) : 0;
	r->records = rrlist_new();
	rd->del = rrlist_new();
	rd->add = rrlist_new();
	rd->condense = xfr_condense_new();
	if (r->records == NULL || rd->del == NULL || rd->add == NULL || rd->condense == NULL)
		return TDM_ENOMEM;
	return TDM_OK;
}

static void reader_free(reader_t *rd)
{
	tsig_ctx_clear(&rd->tsig);
	rrlist_free(rd->del);
	rrlist_free(rd->add);
	xfr_condense_free(rd->condense);
}

int xfr_soa_query(const xfr_peer_t *peer, uint32_t *serial, xfr_result_t *r)
{
	reader_t *rd = calloc(1, sizeof(*rd));
	uint8_t *buf = malloc(PKT_MAXLEN), *rdbuf = malloc(65536);
	int ret = TDM_ENOMEM;
	if (rd == NULL || buf == NULL || rdbuf == NULL || reader_init(rd, peer, NULL, r) != TDM_OK)
		goto out;
	/* UDP gets a short wait (a lost datagram costs little), TCP the full one. A TLS primary is
	 * asked over TLS only (RFC 9103 9: the SOA query is part of what XoT protects). */
	xfr_peer_t udp_peer = *peer;
	udp_peer.timeout_ms = peer->timeout_ms < 2000 ? peer->timeout_ms : 2000;
	for (int type = peer->tls != NULL ? SOCK_STREAM : SOCK_DGRAM;; type = SOCK_STREAM) {
		rd->peer = type == SOCK_DGRAM ? &udp_peer : peer;
		xfr_conn_t c;
		ret = xfr_conn_open(&c, peer->primary, peer->source, type, peer->tls, until(peer));
		if (ret != TDM_OK) {
			ret = net_fail(r, ret, peer, "connecting", &c);
			break;
		}
		rd->state = S_FIRST;
		ret = exchange(rd, &c, PKT_TYPE_SOA, buf, rdbuf);
		bool tc = ret == TDM_OK && type == SOCK_DGRAM && (pkt_flags(buf) & PKT_FLAG_TC);
		xfr_conn_close(&c);
		/* Truncated, refused or unanswered over UDP (some primaries answer only over TCP:
		 * Knot 3.2 for a catalog it generates): once more over TCP. A closed port is not. */
		if (type == SOCK_STREAM || ret == TDM_ECONNREFUSED || (ret == TDM_OK && !tc))
			break;
		xfr_result_clear(r);
		r->records = rrlist_new();
		if (r->records == NULL)
			break;
	}
	if (ret == TDM_OK && rd->state != S_SECOND)
		ret = fail(r, TDM_EMALF, "SOA answer without the SOA");
	if (ret == TDM_OK)
		*serial = rd->serial_new;
out:
	if (rd != NULL)
		reader_free(rd);
	rrlist_free(r->records);
	r->records = NULL;
	free(rd);
	free(buf);
	free(rdbuf);
	return ret;
}

/* Turns what the reader collected into the result: a whole zone, nothing, or one change. */
static int finish(reader_t *rd, uint16_t qtype)
{
	xfr_result_t *r = rd->r;
	r->serial = rd->serial_new;
	if (rd->state == S_SECOND && qtype == PKT_TYPE_IXFR) {
		if (serial_cmp(rd->serial_new, rd->serial_ours) > 0)
			return fail(r, TDM_EMALF, "IXFR answered with a lone SOA of a newer serial");
		r->uptodate = true;
		return TDM_OK;
	}
	if (rd->state != S_DONE)
		return fail(r, TDM_EMALF, "transfer ended early");
	if (r->full)
		return TDM_OK;
	r->removed = rrlist_new();
	r->added = rrlist_new();
	if (r->removed == NULL || r->added == NULL)
		return TDM_ENOMEM;
	uint16_t rdlen;
	const uint8_t *rdata = zone_rrset_first(rd->current, zone_soa(rd->current), &rdlen);
	int ret = xfr_condense_finish(rd->condense, r->removed, r->added);
	if (ret == TDM_OK)
		ret = rrlist_add(r->removed, rd->peer->zone, PKT_TYPE_SOA,
		                 zone_soa(rd->current)->ttl, rdata, rdlen, 0);
	if (ret == TDM_OK)
		ret = rrlist_add(r->added, rd->peer->zone, PKT_TYPE_SOA, rd->soa_new_ttl,
		                 rd->soa_new, rd->soa_new_len, 0);
	return ret;
}

/* A connection kept from an earlier transfer failed before its first message: the primary closed
 * it (or never reads a second request), so a new one gets the request. */
static bool stale(int ret, const xfr_result_t *r)
{
	return r->messages == 0 && ret != TDM_EMALF && ret != TDM_ERANGE && ret != TDM_ERCODE &&
	       ret != TDM_ENOMEM;
}

int xfr_fetch_on(const xfr_peer_t *peer, const zone_contents_t *current, xfr_conn_t *conn,
                 xfr_result_t *r)
{
	reader_t *rd = calloc(1, sizeof(*rd));
	uint8_t *buf = malloc(PKT_MAXLEN), *rdbuf = malloc(65536);
	uint16_t qtype = current != NULL ? PKT_TYPE_IXFR : PKT_TYPE_AXFR;
	int ret = TDM_ENOMEM;
	if (rd == NULL || buf == NULL || rdbuf == NULL || reader_init(rd, peer, current, r) != TDM_OK)
		goto out;
	if (conn->fd >= 0) {
		/* A kept connection gets a short first wait: a primary that neither answers a second
		 * request nor closes costs that, not a whole xfr-timeout. */
		xfr_peer_t kept = *peer;
		kept.timeout_ms = peer->timeout_ms < XFR_KEPT_WAIT_MS ? peer->timeout_ms : XFR_KEPT_WAIT_MS;
		rd->peer = &kept;
		ret = exchange(rd, conn, qtype, buf, rdbuf);
		rd->peer = peer;
		if (ret == TDM_OK || !stale(ret, r))
			goto done;
		xfr_conn_close(conn);
		reader_free(rd);
		xfr_result_clear(r);
		memset(rd, 0, sizeof(*rd));
		if ((ret = reader_init(rd, peer, current, r)) != TDM_OK)
			goto out;
		r->reconnected = true;
	}
	ret = xfr_conn_open(conn, peer->primary, peer->source, SOCK_STREAM, peer->tls, until(peer));
	if (ret != TDM_OK) {
		ret = net_fail(r, ret, peer, "connecting", conn);
		conn->fd = -1;
		goto out;
	}
	ret = exchange(rd, conn, qtype, buf, rdbuf);
done:
	if (ret == TDM_OK)
		ret = finish(rd, qtype);
	/* Only a transfer read to its end leaves the connection at a message boundary. */
	if (ret != TDM_OK || rd->state != S_DONE)
		xfr_conn_close(conn);
out:
	if (rd != NULL)
		reader_free(rd);
	free(rd);
	free(buf);
	free(rdbuf);
	return ret;
}

int xfr_fetch(const xfr_peer_t *peer, const zone_contents_t *current, xfr_result_t *r)
{
	xfr_conn_t conn = XFR_CONN_NONE;
	int ret = xfr_fetch_on(peer, current, &conn, r);
	xfr_conn_close(&conn);
	return ret;
}

/* Collects the names an NS answer lists (lowercase, into names; at most max). */
static int collect_ns(const uint8_t *msg, size_t len, uint8_t (*names)[NAME_MAXLEN], size_t max,
                      size_t *count)
{
	size_t pos;
	pkt_question_t q;
	if (pkt_read_question(msg, len, &pos, &q) != TDM_OK)
		return TDM_EMALF;
	for (unsigned i = 0; i < pkt_ancount(msg); i++) {
		pkt_rr_t rr;
		uint8_t rd[NAME_MAXLEN];
		if (pkt_read_rr(msg, len, &pos, &rr) != TDM_OK)
			return TDM_EMALF;
		if (rr.type != PKT_TYPE_NS)
			continue;
		int n = rdata_unpack(msg, len, rr.rdata_pos, rr.rdlen, PKT_TYPE_NS, rd, sizeof(rd));
		if (n <= 0)
			return TDM_EMALF;
		if (*count < max)
			name_copy_lower(names[(*count)++], rd);
	}
	return TDM_OK;
}

int xfr_ns_query(const xfr_peer_t *peer, uint8_t (*names)[NAME_MAXLEN], size_t max,
                 size_t *count, char *why, size_t why_len)
{
	uint8_t *buf = malloc(PKT_MAXLEN);
	int ret = TDM_ENOMEM;
	xfr_conn_t c = { .fd = -1 };
	tsig_ctx_t tsig;
	tsig_ctx_init(&tsig, NULL);
	*count = 0;
	if (buf == NULL)
		goto out;
	pkt_writer_t w;
	uint16_t id = random_id();
	pkt_writer_init(&w, buf, PKT_MAXLEN);
	size_t len;
	if ((ret = pkt_write_header(&w, id, 0)) != TDM_OK ||
	    (ret = pkt_write_question(&w, peer->zone, PKT_TYPE_NS, PKT_CLASS_IN)) != TDM_OK)
		goto out;
	len = pkt_writer_finish(&w);
	if (peer->key != NULL) {
		tsig_ctx_init(&tsig, peer->key);
		if ((ret = tsig_sign(&tsig, buf, &len, PKT_MAXLEN, (uint64_t)time(NULL))) != TDM_OK)
			goto out;
	}
	/* Over TCP at once: an NS set with its glue may not fit a plain UDP answer. */
	if ((ret = xfr_conn_open(&c, peer->primary, peer->source, SOCK_STREAM, peer->tls,
	                         until(peer))) != TDM_OK)
		goto out;
	if ((ret = xfr_conn_send(&c, buf, len, until(peer))) != TDM_OK)
		goto out;
	int n = xfr_conn_recv(&c, buf, PKT_MAXLEN, until(peer));
	if (n < 0) {
		ret = n;
		goto out;
	}
	ret = TDM_EMALF;
	if ((size_t)n < PKT_HEADER_LEN || pkt_id(buf) != id ||
	    (peer->key != NULL && tsig_verify(&tsig, buf, (size_t)n, (uint64_t)time(NULL)) != TDM_OK))
		goto out;
	ret = pkt_rcode(buf) == PKT_RCODE_NOERROR ? collect_ns(buf, (size_t)n, names, max, count)
	                                          : TDM_ERCODE;
out:
	if (ret != TDM_OK)
		snprintf(why, why_len, "%s", ret == TDM_ERCODE ? rcode_name(pkt_rcode(buf))
		                             : c.why[0] != '\0' ? c.why : tdm_strerror(ret));
	xfr_conn_close(&c);
	tsig_ctx_clear(&tsig);
	free(buf);
	return ret;
}
