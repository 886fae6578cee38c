/* cli/dnsq.c -- the DNS questions of `tandem verify`: one query, its reply checked, what it says for us */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli/dnsq.h"
#include "lib/error.h"
#include "lookup/lookup.h"
#include "lookup/net.h"
#include "lookup/reply.h"

#define QUERY_MAX 512
#define STRAY 1                  /* a datagram that is not our reply */
#define VERIFY_PAYLOAD 1232      /* enough for an NS set with its glue */

static uint16_t random_id(void)
{
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)lookup_net_now();
	return id;
}

/* Our reply: ID, QR, and the question we asked (RFC 5452 9.1). */
static int match(cli_dnsq_t *q, uint16_t id, const uint8_t *qname, uint16_t qtype)
{
	pkt_question_t question;
	size_t pos = PKT_HEADER_LEN;
	if (q->rlen < PKT_HEADER_LEN) {
		snprintf(q->why, sizeof(q->why), "%zu octets, shorter than a DNS header", q->rlen);
		return TDM_EMALF;
	}
	if (pkt_id(q->reply) != id || !(pkt_flags(q->reply) & PKT_FLAG_QR))
		return STRAY;
	/* A server may leave the question out of an error reply (FORMERR, NOTIMP); keep those. */
	if (pkt_qdcount(q->reply) == 0)
		return TDM_OK;
	if (pkt_read_question(q->reply, q->rlen, &pos, &question) != TDM_OK ||
	    !name_equal(question.qname, qname) || question.qtype != qtype ||
	    question.qclass != PKT_CLASS_IN)
		return STRAY;
	return TDM_OK;
}

static int once(cli_dnsq_t *q, bool tcp, const uint8_t *query, size_t qlen, const uint8_t *qname,
                uint16_t qtype)
{
	int64_t deadline = lookup_net_now() + (int64_t)q->timeout_ms * 1000;
	int fd, ret = lookup_net_open(&q->server, tcp, deadline, &fd);
	if (ret != TDM_OK)
		return ret;
	ret = lookup_net_send(fd, tcp, query, qlen, deadline);
	while (ret == TDM_OK) {
		ret = lookup_net_recv(fd, tcp, q->reply, sizeof(q->reply), deadline, &q->rlen);
		if (ret == TDM_OK)
			ret = match(q, pkt_id(query), qname, qtype);
		if (ret == STRAY) {
			snprintf(q->why, sizeof(q->why), "%s", "a reply that is not for our question");
			ret = tcp ? TDM_EMALF : TDM_OK;
			continue;
		}
		break;
	}
	close(fd);
	return ret;
}

static int exchange(cli_dnsq_t *q, bool tcp, const uint8_t *query, size_t qlen, const uint8_t *qname,
                    uint16_t qtype)
{
	int ret = TDM_ETIMEDOUT;
	unsigned tries = q->tries > 0 ? q->tries : 1;
	for (unsigned i = 0; i < tries && ret == TDM_ETIMEDOUT; i++)
		ret = once(q, tcp, query, qlen, qname, qtype);
	return ret;
}

int cli_dnsq_ask(cli_dnsq_t *q, const uint8_t *qname, uint16_t qtype)
{
	uint8_t query[QUERY_MAX];
	lookup_args_t a = { .qtype = qtype, .qclass = PKT_CLASS_IN, .edns = true,
	                    .bufsize = VERIFY_PAYLOAD };
	int n = name_length(qname, NAME_MAXLEN);
	if (n < 0)
		return n;
	memcpy(a.qname, qname, (size_t)n);
	int qlen = lookup_build_query(&a, random_id(), query, sizeof(query));
	if (qlen < 0)
		return qlen;
	q->why[0] = '\0';
	int ret = exchange(q, false, query, (size_t)qlen, qname, qtype);
	/* RFC 7766 5: a truncated reply over UDP means asking again over TCP. */
	if (ret == TDM_OK && (pkt_flags(q->reply) & PKT_FLAG_TC))
		ret = exchange(q, true, query, (size_t)qlen, qname, qtype);
	return ret;
}

/* ---- reading replies ---- */

struct collect {
	const uint8_t *zone;
	uint16_t port;
	cli_dnsq_found_t *f;
};

static void add_addr(struct collect *c, const lookup_rr_t *rr)
{
	cli_dnsq_found_t *f = c->f;
	if (f->naddrs >= CLI_DNSQ_MAX_ADDRS)
		return;
	cli_dnsq_addr_t *a = &f->addrs[f->naddrs];
	memset(a, 0, sizeof(*a));
	memcpy(a->owner, rr->owner, (size_t)name_length(rr->owner, NAME_MAXLEN));
	if (rr->type == PKT_TYPE_A && rr->rdlen == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->addr.ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(c->port);
		memcpy(&in->sin_addr, rr->rdata, 4);
		a->addr.len = sizeof(*in);
	} else if (rr->type == PKT_TYPE_AAAA && rr->rdlen == 16) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->addr.ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(c->port);
		memcpy(&in6->sin6_addr, rr->rdata, 16);
		a->addr.len = sizeof(*in6);
	} else {
		return;
	}
	f->naddrs++;
}

/* SOA rdata: MNAME, RNAME, then SERIAL (RFC 1035 3.3.13); rdata_unpack() checked the layout. */
static void take_soa(cli_dnsq_found_t *f, const lookup_rr_t *rr)
{
	int m = name_length(rr->rdata, rr->rdlen);
	int r = m > 0 ? name_length(rr->rdata + m, rr->rdlen - (size_t)m) : -1;
	if (r > 0 && (size_t)m + (size_t)r + 4 <= rr->rdlen) {
		f->serial = pkt_get32(rr->rdata + m + r);
		f->has_soa = true;
	}
}

static int visit(void *ctx, const lookup_rr_t *rr)
{
	struct collect *c = ctx;
	cli_dnsq_found_t *f = c->f;
	if (rr->section == LOOKUP_SEC_QUESTION || rr->section == LOOKUP_SEC_AUTHORITY ||
	    rr->rclass != PKT_CLASS_IN)
		return TDM_OK;
	if (rr->type == PKT_TYPE_A || rr->type == PKT_TYPE_AAAA) {
		add_addr(c, rr);
		return TDM_OK;
	}
	if (rr->section != LOOKUP_SEC_ANSWER || !name_equal(rr->owner, c->zone))
		return TDM_OK;
	if (rr->type == PKT_TYPE_SOA)
		take_soa(f, rr);
	if (rr->type == PKT_TYPE_NS && f->nns < CLI_DNSQ_MAX_NS &&
	    name_length(rr->rdata, rr->rdlen) == (int)rr->rdlen)
		memcpy(f->ns[f->nns++], rr->rdata, rr->rdlen);
	return TDM_OK;
}

int cli_dnsq_found(const uint8_t *msg, size_t len, const uint8_t *zone, uint16_t port,
                   cli_dnsq_found_t *f, char *why, size_t whysize)
{
	lookup_reply_t r;
	struct collect c = { .zone = zone, .port = port, .f = f };
	memset(f, 0, sizeof(*f));
	int ret = lookup_reply_read(msg, len, &r, visit, &c, why, whysize);
	if (ret != TDM_OK)
		return ret;
	f->rcode = r.rcode;
	f->aa = (r.flags & PKT_FLAG_AA) != 0;
	f->tc = (r.flags & PKT_FLAG_TC) != 0;
	return TDM_OK;
}
