/* lookup/lookup.c -- `tandem lookup`: ask one server one question (or transfer a zone) and show the reply */
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

#include "lib/error.h"
#include "lookup/json.h"
#include "lookup/lookup.h"
#include "lookup/net.h"
#include "lookup/print.h"
#include "lookup/reply.h"
#include "wire/edns.h"
#include "wire/pkt.h"

#define QUERY_MAX 1024       /* header, a name of 255, the question, an OPT, a TSIG record */
#define MISMATCH 1           /* a datagram that is not the reply to our query */

/* One run: the query, the last message received, what to report. */
struct session {
	const lookup_args_t *a;
	FILE *out, *err;
	uint16_t id;
	uint8_t query[QUERY_MAX];
	size_t qlen;
	uint8_t reply[PKT_MAXLEN];
	size_t rlen;
	lookup_stats_t st;
	int64_t start;           /* when the query left */
	char why[256];           /* what was wrong with a malformed reply */
	tsig_key_t key;          /* +key */
	tsig_ctx_t tsig;
};

/* With +key, every message received must verify (RFC 8945; a transfer may leave up to 99 unsigned). */
static int verify(struct session *s)
{
	if (!s->a->has_key)
		return TDM_OK;
	int ret = tsig_verify(&s->tsig, s->reply, s->rlen, (uint64_t)time(NULL));
	if (ret != TDM_OK)
		snprintf(s->why, sizeof(s->why), "TSIG: %s", tdm_strerror(ret));
	return ret == TDM_OK ? TDM_OK : TDM_EMALF;
}

int lookup_build_query(const lookup_args_t *a, uint16_t id, uint8_t *buf, size_t cap)
{
	pkt_writer_t w;
	uint16_t flags = (a->rd ? PKT_FLAG_RD : 0) | (a->ad ? PKT_FLAG_AD : 0) |
	                 (a->cd ? PKT_FLAG_CD : 0);
	pkt_writer_init(&w, buf, cap);
	int ret = pkt_write_header(&w, id, flags);
	if (ret == TDM_OK)
		ret = pkt_write_question(&w, a->qname, a->qtype, a->qclass);
	if (ret == TDM_OK && a->edns) {
		edns_t req = { .present = true, .do_bit = a->dnssec, .nsid = a->nsid };
		/* An NSID option with no data is the request (RFC 5001 2.3). */
		edns_reply_t opts = { .nsid = a->nsid ? "" : NULL };
		ret = edns_write(&w, &req, a->bufsize, 0, &opts);
	}
	if (ret != TDM_OK)
		return ret;
	return (int)pkt_writer_finish(&w);
}

static uint16_t random_id(void)
{
	uint16_t id;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)(lookup_net_now() ^ (lookup_net_now() >> 16));
	return id;
}

static const char *proto(bool tcp)
{
	return tcp ? "TCP" : "UDP";
}

/* Whether the message answers our query: ID, QR, and the question when there is one. */
static int check_match(struct session *s)
{
	size_t pos = PKT_HEADER_LEN;
	pkt_question_t q;
	if (s->rlen < PKT_HEADER_LEN) {
		snprintf(s->why, sizeof(s->why), "%zu octets, shorter than a DNS header", s->rlen);
		return TDM_EMALF;
	}
	if (pkt_id(s->reply) != s->id) {
		snprintf(s->why, sizeof(s->why), "reply ID %u does not match the query's %u",
		         pkt_id(s->reply), s->id);
		return MISMATCH;
	}
	snprintf(s->why, sizeof(s->why), "%s", "the reply is not for our question");
	if (!(pkt_flags(s->reply) & PKT_FLAG_QR))
		return MISMATCH;
	/* A question that does not parse is left for lookup_reply_read() to describe. */
	if (pkt_qdcount(s->reply) == 0 || pkt_read_question(s->reply, s->rlen, &pos, &q) != TDM_OK)
		return TDM_OK;
	if (!name_equal(q.qname, s->a->qname) || q.qtype != s->a->qtype || q.qclass != s->a->qclass)
		return MISMATCH;
	return TDM_OK;
}

/* Receives until the reply to our query arrives. Over UDP, strays are ignored (RFC 5452 9.1
 * says to match ID, address and question); over TCP there is nobody else to answer. */
static int receive(struct session *s, int fd, bool tcp, int64_t deadline)
{
	for (;;) {
		int ret = lookup_net_recv(fd, tcp, s->reply, sizeof(s->reply), deadline, &s->rlen);
		if (ret != TDM_OK)
			return ret;
		ret = check_match(s);
		if (ret == TDM_OK)
			return verify(s);
		if (ret != MISMATCH)
			return ret;
		if (tcp)
			return TDM_EMALF;
		fprintf(s->err, ";; ignoring a datagram from %s: %s\n", s->a->server_text, s->why);
	}
}

static int exchange_once(struct session *s, bool tcp)
{
	int64_t deadline = lookup_net_now() + (int64_t)s->a->timeout * 1000000;
	int fd, ret = lookup_net_open(&s->a->server, tcp, deadline, &fd);
	if (ret != TDM_OK)
		return ret;
	int64_t start = lookup_net_now();
	ret = lookup_net_send(fd, tcp, s->query, s->qlen, deadline);
	if (ret == TDM_OK)
		ret = receive(s, fd, tcp, deadline);
	close(fd);
	s->st.ms = (double)(lookup_net_now() - start) / 1000.0;
	s->st.size = s->rlen;
	s->st.tcp = tcp;
	return ret;
}

/* Tries again only after a timeout: a refused connection will be refused again. */
static int exchange(struct session *s, bool tcp)
{
	int ret = TDM_ETIMEDOUT;
	for (unsigned i = 0; i < s->a->tries && ret == TDM_ETIMEDOUT; i++)
		ret = exchange_once(s, tcp);
	return ret;
}

/* Says what went wrong on the way to a reply and returns the exit status for it. */
static int report(struct session *s, int ret, bool tcp)
{
	const char *server = s->a->server_text, *p = proto(tcp);
	unsigned tries = s->a->tries;
	switch (ret) {
	case TDM_EMALF:
		fprintf(s->err, "tandem lookup: malformed reply from %s (%s): %s\n", server, p, s->why);
		return LOOKUP_EXIT_MALFORMED;
	case TDM_ETIMEDOUT:
		fprintf(s->err, "tandem lookup: no answer from %s (%s) after %u %s of %u s\n", server, p,
		        tries, tries == 1 ? "try" : "tries", s->a->timeout);
		return LOOKUP_EXIT_NOREPLY;
	case TDM_ECONNREFUSED:
		fprintf(s->err, "tandem lookup: connection refused by %s (%s)\n", server, p);
		return LOOKUP_EXIT_NOREPLY;
	case -EPIPE:
	case -ECONNRESET:
		fprintf(s->err, "tandem lookup: %s (%s) closed the connection before replying\n", server,
		        p);
		return LOOKUP_EXIT_NOREPLY;
	case TDM_ENOMEM:
		fprintf(s->err, "tandem lookup: out of memory\n");
		return LOOKUP_EXIT_INTERNAL;
	default:
		fprintf(s->err, "tandem lookup: cannot reach %s (%s): %s\n", server, p, tdm_strerror(ret));
		return LOOKUP_EXIT_NOREPLY;
	}
}

/* Checks the whole reply, then prints it. */
static int show(struct session *s)
{
	lookup_reply_t r;
	int ret = lookup_reply_read(s->reply, s->rlen, &r, NULL, NULL, s->why, sizeof(s->why));
	if (ret != TDM_OK)
		return report(s, TDM_EMALF, s->st.tcp);
	if (r.end < s->rlen)
		fprintf(s->err, ";; warning: %zu octets of trailing data after the reply\n", s->rlen - r.end);
	if (s->a->json) {
		json_t *obj;
		ret = lookup_json_reply(s->reply, s->rlen, &obj);
		if (ret == TDM_OK)
			ret = lookup_json_print(s->out, obj, &s->st);
	} else {
		ret = lookup_print_text(s->out, s->reply, s->rlen, &s->st);
	}
	if (ret != TDM_OK) {
		fprintf(s->err, "tandem lookup: cannot print the reply: %s\n", tdm_strerror(ret));
		return LOOKUP_EXIT_INTERNAL;
	}
	return LOOKUP_EXIT_OK;
}

/* Signs the query afresh with +key (a new exchange: the signature covers a new time). */
static int sign(struct session *s)
{
	if (!s->a->has_key)
		return TDM_OK;
	int n = lookup_build_query(s->a, s->id, s->query, sizeof(s->query));
	if (n < 0)
		return n;
	s->qlen = (size_t)n;
	tsig_ctx_clear(&s->tsig);
	tsig_ctx_init(&s->tsig, &s->key);
	return tsig_sign(&s->tsig, s->query, &s->qlen, sizeof(s->query), (uint64_t)time(NULL));
}

static int run_query(struct session *s)
{
	bool tcp = s->a->tcp;
	int ret = exchange(s, tcp);
	if (ret != TDM_OK)
		return report(s, ret, tcp);
	if (!tcp && (pkt_flags(s->reply) & PKT_FLAG_TC) && !s->a->ignore_tc) {
		/* RFC 7766 5: a truncated UDP reply means ask again over TCP. */
		fprintf(s->err, ";; truncated, retrying over TCP\n");
		tcp = true;
		if ((ret = sign(s)) != TDM_OK || (ret = exchange(s, tcp)) != TDM_OK)
			return report(s, ret, tcp);
	}
	return show(s);
}

/*
 * AXFR (RFC 5936 2.2): the answer sections of the messages, in order, hold the zone from its SOA to
 * the same SOA again. Records are printed as each message arrives, so a large zone streams.
 */
struct axfr {
	unsigned records, soas;
	bool bad_start;          /* the first record is not a SOA */
	bool done;               /* the closing SOA arrived */
	unsigned after;          /* records after it */
	json_t *obj;             /* --json: the object the messages go into */
};

static int axfr_count(void *ctx, const lookup_rr_t *rr)
{
	struct axfr *x = ctx;
	if (rr->section != LOOKUP_SEC_ANSWER)
		return TDM_OK;
	if (x->done)
		x->after++;
	if (x->records == 0 && rr->type != PKT_TYPE_SOA)
		x->bad_start = true;
	x->records++;
	if (rr->type == PKT_TYPE_SOA && ++x->soas == 2)
		x->done = true;
	return TDM_OK;
}

/* Timeouts and closed connections in the middle of a transfer name how far it got. */
static int axfr_fail(struct session *s, int ret)
{
	const char *server = s->a->server_text;
	char what[64];
	if (ret == TDM_EMALF || ret == TDM_ENOMEM)
		return report(s, ret, true);
	if (ret == TDM_ETIMEDOUT)
		snprintf(what, sizeof(what), "nothing received for %u s", s->a->timeout);
	else if (ret == -EPIPE || ret == -ECONNRESET)
		snprintf(what, sizeof(what), "the server closed the connection");
	else
		snprintf(what, sizeof(what), "%s", tdm_strerror(ret));
	if (s->st.messages == 0)
		fprintf(s->err, "tandem lookup: no transfer from %s (TCP): %s\n", server, what);
	else
		fprintf(s->err, "tandem lookup: transfer from %s (TCP) stopped after %u messages, before "
		                "the closing SOA: %s\n", server, s->st.messages, what);
	return LOOKUP_EXIT_NOREPLY;
}

/* A reply with an error rcode ends the transfer; shown in full, it is still an answer. */
static int axfr_refused(struct session *s, struct axfr *x, const lookup_reply_t *r)
{
	char rcode[16];
	int ret;
	lookup_rcode_name(r->rcode, rcode, sizeof(rcode));
	fprintf(s->err, ";; transfer failed: %s\n", rcode);
	if (!s->a->json)
		ret = lookup_print_text(s->out, s->reply, s->rlen, &s->st);
	else if (x->obj == NULL && (ret = lookup_json_reply(s->reply, s->rlen, &x->obj)) != TDM_OK)
		return report(s, ret, true);
	else if (json_object_set_new(x->obj, "rcode", json_string(rcode)) != 0)
		ret = TDM_ENOMEM;
	else
		ret = lookup_json_print(s->out, x->obj, &s->st);
	x->obj = NULL;   /* lookup_json_print() freed it */
	return ret == TDM_OK ? LOOKUP_EXIT_OK : report(s, ret, true);
}

/* Shows one message of a successful transfer. */
static int axfr_show(struct session *s, struct axfr *x)
{
	if (!s->a->json) {
		if (s->st.messages == 1 && lookup_print_axfr_title(s->out, s->a->qname) != TDM_OK)
			return TDM_EIO;
		return lookup_print_answers(s->out, s->reply, s->rlen);
	}
	if (x->obj == NULL)
		return lookup_json_reply(s->reply, s->rlen, &x->obj);
	return lookup_json_answers(x->obj, s->reply, s->rlen);
}

static int axfr_message(struct session *s, int fd, struct axfr *x)
{
	lookup_reply_t r;
	int ret = receive(s, fd, true, lookup_net_now() + (int64_t)s->a->timeout * 1000000);
	if (ret != TDM_OK)
		return axfr_fail(s, ret);
	ret = lookup_reply_read(s->reply, s->rlen, &r, axfr_count, x, s->why, sizeof(s->why));
	if (ret != TDM_OK)
		return report(s, TDM_EMALF, true);
	s->st.messages++;
	s->st.size += s->rlen;
	s->st.ms = (double)(lookup_net_now() - s->start) / 1000.0;
	if (r.rcode != PKT_RCODE_NOERROR)
		return axfr_refused(s, x, &r);
	if (x->bad_start) {
		snprintf(s->why, sizeof(s->why), "%s", "the transfer does not start with a SOA record");
		return report(s, TDM_EMALF, true);
	}
	if ((ret = axfr_show(s, x)) != TDM_OK)
		return report(s, ret, true);
	return -1;   /* go on */
}

static int axfr_end(struct session *s, struct axfr *x)
{
	int ret;
	if (s->a->has_key && tsig_verify_end(&s->tsig) != TDM_OK) {
		snprintf(s->why, sizeof(s->why), "%s", "TSIG: the transfer does not end signed");
		return report(s, TDM_EMALF, true);
	}
	s->st.records = x->records;
	if (x->after > 0)
		fprintf(s->err, ";; warning: %u records after the closing SOA\n", x->after);
	if (s->a->json) {
		ret = lookup_json_print(s->out, x->obj, &s->st);
		x->obj = NULL;
	} else {
		ret = lookup_print_axfr_end(s->out, &s->st);
	}
	return ret == TDM_OK ? LOOKUP_EXIT_OK : report(s, ret, true);
}

static int lookup_axfr(struct session *s)
{
	struct axfr x = { 0 };
	int fd, ret = TDM_ETIMEDOUT;
	for (unsigned i = 0; i < s->a->tries && ret == TDM_ETIMEDOUT; i++)
		ret = lookup_net_open(&s->a->server, true,
		                      lookup_net_now() + (int64_t)s->a->timeout * 1000000, &fd);
	if (ret != TDM_OK)
		return report(s, ret, true);
	s->st.tcp = true;
	s->start = lookup_net_now();
	ret = lookup_net_send(fd, true, s->query, s->qlen, s->start + (int64_t)s->a->timeout * 1000000);
	int status = ret != TDM_OK ? axfr_fail(s, ret) : -1;
	while (status < 0 && !x.done)
		status = axfr_message(s, fd, &x);
	close(fd);
	if (status < 0)
		status = axfr_end(s, &x);
	json_decref(x.obj);
	return status;
}

int lookup_run(const lookup_args_t *a, FILE *out, FILE *err)
{
	static struct session s;   /* 64 KiB of reply: static, one run at a time */
	memset(&s, 0, sizeof(s));
	s.a = a;
	s.out = out;
	s.err = err;
	s.id = random_id();
	s.st.server = a->server_text;
	int n = lookup_build_query(a, s.id, s.query, sizeof(s.query));
	if (n < 0) {
		fprintf(err, "tandem lookup: cannot build the query: %s\n", tdm_strerror(n));
		return LOOKUP_EXIT_INTERNAL;
	}
	s.qlen = (size_t)n;
	tsig_ctx_init(&s.tsig, NULL);
	if (a->has_key)
		tsig_key_init(&s.key, a->key_name, a->key_alg, a->key_secret, a->key_secret_len);
	if (sign(&s) != TDM_OK) {
		fprintf(err, "tandem lookup: cannot sign the query\n");
		tsig_ctx_clear(&s.tsig);
		return LOOKUP_EXIT_INTERNAL;
	}
	int status = a->axfr ? lookup_axfr(&s) : run_query(&s);
	tsig_ctx_clear(&s.tsig);
	return status;
}

int lookup_main(int argc, char **argv)
{
	lookup_args_t a;
	char err[256];
	if (lookup_args_parse(&a, argc, argv, err, sizeof(err)) != TDM_OK) {
		fprintf(stderr, "tandem lookup: %s\n", err);
		fprintf(stderr, "usage: tandem lookup NAME [TYPE] [CLASS] [@SERVER[@PORT]] [+OPTION...] "
		                "[--json]  (tandem lookup --help for more)\n");
		return LOOKUP_EXIT_USAGE;
	}
	if (a.help) {
		lookup_usage(stdout);
		return LOOKUP_EXIT_OK;
	}
	return lookup_run(&a, stdout, stderr);
}
