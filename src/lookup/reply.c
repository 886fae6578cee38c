/* lookup/reply.c -- reading a reply for `tandem lookup`: every length checked, records to a visitor */
#include <stdio.h>
#include <string.h>

#include <libknot/libknot.h>

#include "lib/error.h"
#include "lookup/reply.h"
#include "wire/edns.h"
#include "wire/pkt.h"
#include "wire/rdata.h"

static const char *const section_names[LOOKUP_SEC_COUNT] = {
	"question", "answer", "authority", "additional",
};

/* A walk over one message; rdata holds the uncompressed rdata of the current record. */
struct walk {
	const uint8_t *msg;
	size_t len, pos;
	lookup_reply_t *r;
	lookup_rr_fn fn;
	void *ctx;
	char *err;
	size_t errsize;
	uint8_t rdata[UINT16_MAX];
};

static int where(struct walk *w, int section, unsigned i, const char *what, int code)
{
	snprintf(w->err, w->errsize, "%s %s %u: %s", section_names[section],
	         section == LOOKUP_SEC_QUESTION ? "entry" : "record", i + 1, what);
	return code;
}

static int read_question(struct walk *w, unsigned i)
{
	uint8_t qname[NAME_MAXLEN];
	int n = name_unpack(w->msg, w->len, &w->pos, qname);
	if (n < 0)
		return where(w, LOOKUP_SEC_QUESTION, i, tdm_strerror(n), n);
	if (w->len - w->pos < 4)
		return where(w, LOOKUP_SEC_QUESTION, i, "cut short", TDM_EMALF);
	lookup_rr_t rr = { .section = LOOKUP_SEC_QUESTION, .owner = qname,
	                   .type = pkt_get16(w->msg + w->pos), .rclass = pkt_get16(w->msg + w->pos + 2) };
	w->pos += 4;
	return w->fn != NULL ? w->fn(w->ctx, &rr) : TDM_OK;
}

/* RFC 6891 6.1.1: at most one OPT, in the additional section, owned by the root. */
static int read_opt(struct walk *w, int section, unsigned i, const pkt_rr_t *rr)
{
	lookup_reply_t *r = w->r;
	edns_t e;
	if (section != LOOKUP_SEC_ADDITIONAL)
		return where(w, section, i, "an OPT record outside the additional section", TDM_EMALF);
	if (r->edns)
		return where(w, section, i, "a second OPT record", TDM_EMALF);
	if (edns_parse(w->msg, rr, &e) != TDM_OK)
		return where(w, section, i, "a malformed OPT record", TDM_EMALF);
	r->edns = true;
	r->edns_version = e.version;
	r->edns_do = e.do_bit;
	r->edns_payload = rr->rclass;
	r->opt_pos = rr->rdata_pos;
	r->opt_len = rr->rdlen;
	r->rcode = (uint16_t)(e.ext_rcode << 4 | (r->rcode & 0x0F));
	return TDM_OK;
}

static int read_record(struct walk *w, int section, unsigned i)
{
	pkt_rr_t rr;
	int ret = pkt_read_rr(w->msg, w->len, &w->pos, &rr);
	if (ret != TDM_OK)
		return where(w, section, i, ret == TDM_EMALF ? "cut short" : tdm_strerror(ret), ret);
	if (rr.type == PKT_TYPE_OPT)
		return read_opt(w, section, i, &rr);
	int n = rdata_unpack(w->msg, w->len, rr.rdata_pos, rr.rdlen, rr.type, w->rdata,
	                     sizeof(w->rdata));
	if (n < 0) {
		char type[16], what[64];
		snprintf(what, sizeof(what), "%s rdata: %s", rdata_type_name(rr.type, type, sizeof(type)),
		         tdm_strerror(n == TDM_ESPACE ? TDM_EMALF : n));
		return where(w, section, i, what, n == TDM_ESPACE ? TDM_EMALF : n);
	}
	lookup_rr_t out = { .section = section, .owner = rr.owner, .type = rr.type,
	                    .rclass = rr.rclass, .ttl = rr.ttl, .rdata = w->rdata,
	                    .rdlen = (uint16_t)n };
	return w->fn != NULL ? w->fn(w->ctx, &out) : TDM_OK;
}

static void read_header(lookup_reply_t *r, const uint8_t *msg)
{
	memset(r, 0, sizeof(*r));
	r->id = pkt_id(msg);
	r->flags = pkt_flags(msg);
	r->opcode = pkt_opcode(msg);
	r->rcode = pkt_rcode(msg);
	r->counts[LOOKUP_SEC_QUESTION] = pkt_qdcount(msg);
	r->counts[LOOKUP_SEC_ANSWER] = pkt_ancount(msg);
	r->counts[LOOKUP_SEC_AUTHORITY] = pkt_nscount(msg);
	r->counts[LOOKUP_SEC_ADDITIONAL] = pkt_arcount(msg);
}

int lookup_reply_read(const uint8_t *msg, size_t len, lookup_reply_t *r, lookup_rr_fn fn, void *ctx,
                      char *err, size_t errsize)
{
	static struct walk w;   /* 64 KiB of rdata space: static, the CLI reads one reply at a time */
	if (len < PKT_HEADER_LEN) {
		snprintf(err, errsize, "%zu octets, shorter than a DNS header", len);
		return TDM_EMALF;
	}
	read_header(r, msg);
	w.msg = msg;
	w.len = len;
	w.pos = PKT_HEADER_LEN;
	w.r = r;
	w.fn = fn;
	w.ctx = ctx;
	w.err = err;
	w.errsize = errsize;
	for (int s = 0; s < LOOKUP_SEC_COUNT; s++) {
		for (unsigned i = 0; i < r->counts[s]; i++) {
			int ret = s == LOOKUP_SEC_QUESTION ? read_question(&w, i) : read_record(&w, s, i);
			if (ret != TDM_OK)
				return ret;
		}
	}
	r->end = w.pos;
	return TDM_OK;
}

const char *lookup_rcode_name(uint16_t rcode, char *buf, size_t size)
{
	const knot_lookup_t *item = knot_lookup_by_id(knot_rcode_names, rcode);
	if (item != NULL)
		snprintf(buf, size, "%s", item->name);
	else
		snprintf(buf, size, "RCODE%u", rcode);
	return buf;
}

const char *lookup_opcode_name(uint8_t opcode, char *buf, size_t size)
{
	const knot_lookup_t *item = knot_lookup_by_id(knot_opcode_names, opcode);
	if (item != NULL)
		snprintf(buf, size, "%s", item->name);
	else
		snprintf(buf, size, "OPCODE%u", opcode);
	return buf;
}
