/* lookup/print.c -- what `tandem lookup` shows as text: kdig-like, records in master-file format */
#include <stdlib.h>

#include "lib/error.h"
#include "lookup/present.h"
#include "lookup/print.h"
#include "lookup/reply.h"
#include "wire/edns.h"
#include "wire/name.h"
#include "wire/pkt.h"

static const char *const titles[LOOKUP_SEC_COUNT] = {
	"QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL",
};

struct text {
	FILE *out;
	lookup_present_t pr;
	int section;          /* the section whose title was printed last; -1 = none yet */
	bool answers_only;    /* a transfer: records only, no titles */
};

/* As kdig: the record header with an empty TTL column, so the question lines up with the records. */
static int put_question(struct text *t, const lookup_rr_t *rr)
{
	char line[NAME_TEXT_MAX + 64];
	knot_rrset_t set;
	knot_dump_style_t style = t->pr.style;
	style.empty_ttl = true;
	knot_rrset_init(&set, (knot_dname_t *)rr->owner, rr->type, rr->rclass, 0);
	int n = knot_rrset_txt_dump_header(&set, 0, line, sizeof(line), &style);
	if (n < 0)
		return TDM_ENOMEM;   /* the buffer holds any name; only an allocation can fail */
	while (n > 0 && line[n - 1] == '\t')
		line[--n] = '\0';
	fprintf(t->out, ";; %s\n", line);
	return TDM_OK;
}

static int visit(void *ctx, const lookup_rr_t *rr)
{
	struct text *t = ctx;
	if (t->answers_only && rr->section != LOOKUP_SEC_ANSWER)
		return TDM_OK;
	if (!t->answers_only && rr->section != t->section) {
		fprintf(t->out, "\n;; %s SECTION:\n", titles[rr->section]);
		t->section = rr->section;
	}
	if (rr->section == LOOKUP_SEC_QUESTION)
		return put_question(t, rr);
	int n = lookup_present_rr(&t->pr, rr, false);
	if (n < 0)
		return n;
	if (fwrite(t->pr.buf, 1, (size_t)n, t->out) != (size_t)n)
		return TDM_EIO;
	return TDM_OK;
}

static void put_header(FILE *out, const lookup_reply_t *r)
{
	char opcode[16], rcode[16];
	const char *flags[LOOKUP_FLAGS_MAX];
	fprintf(out, ";; ->>HEADER<<- opcode: %s; status: %s; id: %u\n",
	        lookup_opcode_name(r->opcode, opcode, sizeof(opcode)),
	        lookup_rcode_name(r->rcode, rcode, sizeof(rcode)), r->id);
	fputs(";; Flags:", out);
	int n = lookup_present_flags(r->flags, flags);
	for (int i = 0; i < n; i++)
		fprintf(out, " %s", flags[i]);
	fprintf(out, "; QUERY: %u; ANSWER: %u; AUTHORITY: %u; ADDITIONAL: %u\n",
	        r->counts[LOOKUP_SEC_QUESTION], r->counts[LOOKUP_SEC_ANSWER],
	        r->counts[LOOKUP_SEC_AUTHORITY], r->counts[LOOKUP_SEC_ADDITIONAL]);
}

/* RFC 8914: an info code, then optional UTF-8 text. */
static int put_ede(FILE *out, const lookup_opt_t *opt)
{
	if (opt->len < 2) {
		fputs(";; EDE: (too short)\n", out);
		return TDM_OK;
	}
	uint16_t code = (uint16_t)(opt->data[0] << 8 | opt->data[1]);
	char *text = lookup_present_escape(opt->data + 2, opt->len - 2u);
	if (text == NULL)
		return TDM_ENOMEM;
	fprintf(out, ";; EDE: %u (%s)%s%s%s\n", code, lookup_present_ede(code),
	        *text != '\0' ? ": '" : "", text, *text != '\0' ? "'" : "");
	free(text);
	return TDM_OK;
}

static int put_option(FILE *out, const lookup_opt_t *opt)
{
	if (opt->code == LOOKUP_OPT_EDE)
		return put_ede(out, opt);
	if (opt->code == LOOKUP_OPT_PADDING) {
		fprintf(out, ";; PADDING: %u B\n", opt->len);
		return TDM_OK;
	}
	char *hex = lookup_present_hex(opt->data, opt->len);
	char *text = opt->code == EDNS_OPT_NSID ? lookup_present_escape(opt->data, opt->len) : NULL;
	int ret = TDM_ENOMEM;
	if (hex == NULL || (opt->code == EDNS_OPT_NSID && text == NULL))
		goto done;
	if (opt->code == EDNS_OPT_NSID)
		fprintf(out, ";; NSID: %s \"%s\"\n", hex, text);
	else if (opt->code == EDNS_OPT_COOKIE)
		fprintf(out, ";; COOKIE: %s\n", hex);
	else if (opt->code == EDNS_OPT_EXPIRE && opt->len == 4)
		fprintf(out, ";; EXPIRE: %u\n", pkt_get32(opt->data));
	else
		fprintf(out, ";; OPTION %u: %s\n", opt->code, hex);
	ret = TDM_OK;
done:
	free(hex);
	free(text);
	return ret;
}

static int put_edns(FILE *out, const uint8_t *msg, const lookup_reply_t *r)
{
	if (!r->edns)
		return TDM_OK;
	fprintf(out, "\n;; EDNS PSEUDOSECTION:\n;; Version: %u; flags: %s; UDP size: %u B\n",
	        r->edns_version, r->edns_do ? "do" : "", r->edns_payload);
	lookup_opt_t opt;
	size_t off = 0;
	while (lookup_present_next_opt(msg, r, &off, &opt)) {
		int ret = put_option(out, &opt);
		if (ret != TDM_OK)
			return ret;
	}
	return TDM_OK;
}

int lookup_print_text(FILE *out, const uint8_t *msg, size_t len, const lookup_stats_t *st)
{
	lookup_reply_t r;
	char err[256];
	struct text t = { .out = out, .section = -1 };
	int ret = lookup_present_init(&t.pr);
	if (ret != TDM_OK)
		return ret;
	/* A first pass for the full rcode, whose upper bits sit in the OPT record at the end. */
	if ((ret = lookup_reply_read(msg, len, &r, NULL, NULL, err, sizeof(err))) != TDM_OK)
		goto done;
	put_header(out, &r);
	if ((ret = put_edns(out, msg, &r)) != TDM_OK)
		goto done;
	if ((ret = lookup_reply_read(msg, len, &r, visit, &t, err, sizeof(err))) != TDM_OK)
		goto done;
	fprintf(out, "\n;; Received %zu B from %s(%s) in %.1f ms\n", st->size, st->server,
	        st->tcp ? "TCP" : "UDP", st->ms);
done:
	lookup_present_free(&t.pr);
	if (ret == TDM_OK && (fflush(out) != 0 || ferror(out)))
		ret = TDM_EIO;
	return ret;
}

int lookup_print_axfr_title(FILE *out, const uint8_t *qname)
{
	char name[NAME_TEXT_MAX];
	name_to_text(qname, name, sizeof(name));
	fprintf(out, ";; AXFR for %s\n", name);
	return ferror(out) ? TDM_EIO : TDM_OK;
}

int lookup_print_answers(FILE *out, const uint8_t *msg, size_t len)
{
	lookup_reply_t r;
	char err[256];
	struct text t = { .out = out, .section = -1, .answers_only = true };
	int ret = lookup_present_init(&t.pr);
	if (ret != TDM_OK)
		return ret;
	ret = lookup_reply_read(msg, len, &r, visit, &t, err, sizeof(err));
	lookup_present_free(&t.pr);
	if (ret == TDM_OK && ferror(out))
		ret = TDM_EIO;
	return ret;
}

int lookup_print_axfr_end(FILE *out, const lookup_stats_t *st)
{
	fprintf(out, "\n;; Received %zu B (%u %s, %u %s) from %s(%s) in %.1f ms\n", st->size,
	        st->messages, st->messages == 1 ? "message" : "messages", st->records,
	        st->records == 1 ? "record" : "records", st->server, st->tcp ? "TCP" : "UDP", st->ms);
	return fflush(out) != 0 || ferror(out) ? TDM_EIO : TDM_OK;
}
