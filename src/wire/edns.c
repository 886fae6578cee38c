/* wire/edns.c -- EDNS(0) OPT records */
#include <string.h>

#include "lib/error.h"
#include "wire/edns.h"

int edns_parse(const uint8_t *msg, const pkt_rr_t *rr, edns_t *e)
{
	memset(e, 0, sizeof(*e));
	e->present = true;
	e->payload = rr->rclass < EDNS_MIN_PAYLOAD ? EDNS_MIN_PAYLOAD : rr->rclass;
	e->ext_rcode = (uint8_t)(rr->ttl >> 24);
	e->version = (uint8_t)(rr->ttl >> 16);
	e->do_bit = (rr->ttl & 0x8000) != 0;
	if (rr->owner[0] != 0)   /* RFC 6891 6.1.2: the owner is the root */
		return TDM_EMALF;
	const uint8_t *p = msg + rr->rdata_pos, *end = p + rr->rdlen;
	while (p < end) {
		if (end - p < 4)
			return TDM_EMALF;
		uint16_t code = pkt_get16(p), len = pkt_get16(p + 2);
		p += 4;
		if (end - p < len)
			return TDM_EMALF;
		switch (code) {
		case EDNS_OPT_NSID:
			e->nsid = true;
			break;
		case EDNS_OPT_EXPIRE:
			e->expire = true;
			break;
		case EDNS_OPT_COOKIE:
			/* RFC 7873 5.2.2: a client cookie alone (8) or with a server cookie (16 to 40). */
			if (len != 8 && (len < 16 || len > 40))
				return TDM_EMALF;
			memcpy(e->cookie, p, len);
			e->cookie_len = (uint8_t)len;
			break;
		default:
			break;
		}
		p += len;
	}
	return TDM_OK;
}

size_t edns_size(const edns_t *e, const char *nsid)
{
	size_t n = 11;
	if (e->nsid && nsid != NULL)
		n += 4 + strlen(nsid);
	return n;
}

int edns_write(pkt_writer_t *w, const edns_t *req, uint16_t payload, int rcode, const char *nsid)
{
	uint8_t rdata[4 + 255];
	uint16_t rdlen = 0;
	if (req->nsid && nsid != NULL) {
		size_t n = strlen(nsid);
		if (n > 255)
			n = 255;
		pkt_put16(rdata, EDNS_OPT_NSID);
		pkt_put16(rdata + 2, (uint16_t)n);
		memcpy(rdata + 4, nsid, n);
		rdlen = (uint16_t)(4 + n);
	}
	uint32_t ttl = (uint32_t)((rcode >> 4) & 0xFF) << 24;   /* version 0 */
	if (req->do_bit)
		ttl |= 0x8000;
	static const uint8_t root[1] = { 0 };
	pkt_begin_section(w, PKT_SECTION_ADDITIONAL);
	bool compress = w->compress;
	w->compress = false;
	int ret = pkt_write_rr(w, root, 0, PKT_TYPE_OPT, payload, ttl, rdata, rdlen);
	w->compress = compress;
	return ret;
}
