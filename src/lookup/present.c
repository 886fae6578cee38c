/* lookup/present.c -- presentation text for `tandem lookup`: records (libknot's dumper), flags, options */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lib/error.h"
#include "lookup/present.h"
#include "wire/pkt.h"

#define PRESENT_INITIAL 4096
#define PRESENT_MAX (16u << 20)   /* no rdata of 64 KiB needs more text than this */

int lookup_present_init(lookup_present_t *p)
{
	p->size = PRESENT_INITIAL;
	p->buf = malloc(p->size);
	if (p->buf == NULL)
		return TDM_ENOMEM;
	p->style = KNOT_DUMP_STYLE_DEFAULT;
	p->style.show_class = true;
	p->style.show_ttl = true;
	p->style.original_ttl = false;   /* the TTL the server sent, not an RRSIG's original TTL */
	p->style.wrap = false;
	p->style.human_timestamp = true;
	p->style.now = (uint64_t)time(NULL);
	return TDM_OK;
}

void lookup_present_free(lookup_present_t *p)
{
	free(p->buf);
	p->buf = NULL;
	p->size = 0;
}

/* knot_rrset_txt_dump_data() wants a fixed buffer: grow ours until the text fits. */
static int dump_data(lookup_present_t *p, const knot_rrset_t *set, const knot_dump_style_t *style)
{
	for (;;) {
		int n = knot_rrset_txt_dump_data(set, 0, p->buf, p->size, style);
		if (n != KNOT_ESPACE || p->size >= PRESENT_MAX)
			return n;
		char *bigger = realloc(p->buf, p->size * 2);
		if (bigger == NULL)
			return KNOT_ENOMEM;
		p->buf = bigger;
		p->size *= 2;
	}
}

static int dump(lookup_present_t *p, const knot_rrset_t *set, bool data_only,
                const knot_dump_style_t *style)
{
	if (data_only)
		return dump_data(p, set, style);
	return knot_rrset_txt_dump(set, &p->buf, &p->size, style);
}

int lookup_present_rr(lookup_present_t *p, const lookup_rr_t *rr, bool data_only)
{
	knot_rrset_t set;
	/* knot_rrset_t wants a mutable owner; the dumper only reads it. */
	knot_rrset_init(&set, (knot_dname_t *)rr->owner, rr->type, rr->rclass, rr->ttl);
	if (knot_rrset_add_rdata(&set, rr->rdata, rr->rdlen, NULL) != KNOT_EOK)
		return TDM_ENOMEM;
	int n = dump(p, &set, data_only, &p->style);
	if (n < 0 && n != KNOT_ENOMEM) {
		knot_dump_style_t generic = p->style;
		generic.generic = true;
		n = dump(p, &set, data_only, &generic);
	}
	knot_rdataset_clear(&set.rrs, NULL);
	/* The generic form cannot fail but for memory. */
	return n < 0 ? TDM_ENOMEM : n;
}

const char *lookup_present_class(uint16_t rclass, char *buf, size_t size)
{
	if (knot_rrclass_to_string(rclass, buf, size) < 0)
		snprintf(buf, size, "CLASS%u", rclass);
	return buf;
}

const char *lookup_present_type(uint16_t type, char *buf, size_t size)
{
	if (knot_rrtype_to_string(type, buf, size) < 0)
		snprintf(buf, size, "TYPE%u", type);
	return buf;
}

int lookup_present_flags(uint16_t flags, const char *names[LOOKUP_FLAGS_MAX])
{
	static const struct { uint16_t bit; const char *name; } table[LOOKUP_FLAGS_MAX] = {
		{ PKT_FLAG_QR, "qr" }, { PKT_FLAG_AA, "aa" }, { PKT_FLAG_TC, "tc" },
		{ PKT_FLAG_RD, "rd" }, { PKT_FLAG_RA, "ra" }, { 0x0040, "z" },
		{ PKT_FLAG_AD, "ad" }, { PKT_FLAG_CD, "cd" },
	};
	int n = 0;
	for (int i = 0; i < LOOKUP_FLAGS_MAX; i++)
		if (flags & table[i].bit)
			names[n++] = table[i].name;
	return n;
}

bool lookup_present_next_opt(const uint8_t *msg, const lookup_reply_t *r, size_t *off,
                             lookup_opt_t *opt)
{
	/* edns_parse() has checked that the options tile the rdata; check again rather than trust it. */
	if (!r->edns || *off + 4 > r->opt_len)
		return false;
	const uint8_t *p = msg + r->opt_pos + *off;
	opt->code = pkt_get16(p);
	opt->len = pkt_get16(p + 2);
	if (*off + 4 + opt->len > r->opt_len)
		return false;
	opt->data = p + 4;
	*off += 4 + (size_t)opt->len;
	return true;
}

char *lookup_present_hex(const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789ABCDEF";
	char *out = malloc(2 * len + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0x0F];
	}
	out[2 * len] = '\0';
	return out;
}

char *lookup_present_escape(const uint8_t *data, size_t len)
{
	char *out = malloc(4 * len + 1), *o = out;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = data[i];
		if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
			*o++ = (char)c;
		else
			o += sprintf(o, "\\%03u", c);
	}
	*o = '\0';
	return out;
}

const char *lookup_present_ede(uint16_t code)
{
	const knot_lookup_t *item = knot_lookup_by_id(knot_edns_ede_names, code);
	return item != NULL ? item->name : "";
}
