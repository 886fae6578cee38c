/* zonefile/dump.c -- zone files out in master format (libknot prints the rdata) */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libknot/libknot.h>

#include "lib/error.h"
#include "wire/name.h"
#include "zonefile/zonefile.h"

#define DUMP_SOA 6

struct dump {
	FILE *out;
	char *buf;             /* grown by knot_rrset_txt_dump as needed */
	size_t size;
	knot_dump_style_t style;
};

/* One record a line, with its own TTL: the TTLs of an RRset may differ in a list; keep each. */
static int put_rr(struct dump *d, const rr_t *rr)
{
	knot_rrset_t set;
	/* knot_rrset_t wants a mutable owner; the dump functions only read it. */
	knot_rrset_init(&set, (knot_dname_t *)rr->owner, rr->type, KNOT_CLASS_IN, rr->ttl);
	if (knot_rrset_add_rdata(&set, rr->rdata, rr->rdlen, NULL) != KNOT_EOK)
		return TDM_ENOMEM;
	int len = knot_rrset_txt_dump(&set, &d->buf, &d->size, &d->style);
	if (len < 0) {
		/* rdata that does not parse as its type (say, from a peer): RFC 3597 generic form. */
		knot_dump_style_t generic = d->style;
		generic.generic = true;
		len = knot_rrset_txt_dump(&set, &d->buf, &d->size, &generic);
	}
	knot_rdataset_clear(&set.rrs, NULL);
	if (len < 0)
		return len == KNOT_ENOMEM ? TDM_ENOMEM : TDM_EINVAL;
	if (fwrite(d->buf, 1, (size_t)len, d->out) != (size_t)len)
		return TDM_EIO;
	return TDM_OK;
}

/* The apex SOA goes first: RFC 1035 5.2 and every loader expect it there. */
static size_t find_soa(const rrlist_t *list, const uint8_t *apex)
{
	size_t n = rrlist_count(list);
	for (size_t i = 0; i < n; i++) {
		const rr_t *rr = rrlist_at(list, i);
		if (rr->type == DUMP_SOA && name_equal(rr->owner, apex))
			return i;
	}
	return n;
}

int zonefile_dump(const rrlist_t *list, const uint8_t *apex, FILE *out)
{
	struct dump d = { .out = out, .style = KNOT_DUMP_STYLE_DEFAULT };
	d.style.show_class = true;
	d.style.show_ttl = true;
	d.style.original_ttl = false;   /* the record's TTL, not the RRSIG's original TTL field */
	d.style.wrap = false;
	d.style.human_timestamp = true;
	d.style.now = (uint64_t)time(NULL);
	d.size = 4096;
	d.buf = malloc(d.size);
	if (d.buf == NULL)
		return TDM_ENOMEM;
	int ret = TDM_OK;
	size_t n = rrlist_count(list), soa = find_soa(list, apex);
	if (soa < n && (ret = put_rr(&d, rrlist_at(list, soa))) != TDM_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (i != soa && (ret = put_rr(&d, rrlist_at(list, i))) != TDM_OK)
			goto fail;
	}
	if (fflush(out) != 0 || ferror(out))
		ret = TDM_EIO;
fail:
	free(d.buf);
	return ret;
}
