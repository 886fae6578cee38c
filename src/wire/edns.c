/* wire/edns.c -- EDNS(0) OPT records */
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/error.h"
#include "lib/siphash.h"
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

size_t edns_size(const edns_t *req, const edns_reply_t *reply)
{
	size_t n = 11;
	if (req->nsid && reply->nsid != NULL)
		n += 4 + strlen(reply->nsid);
	if (reply->cookie_len > 0)
		n += 4 + reply->cookie_len;
	if (reply->expire)
		n += 8;
	return n;
}

static size_t put_option(uint8_t *p, uint16_t code, const void *data, size_t len)
{
	pkt_put16(p, code);
	pkt_put16(p + 2, (uint16_t)len);
	memcpy(p + 4, data, len);
	return 4 + len;
}

int edns_write(pkt_writer_t *w, const edns_t *req, uint16_t payload, int rcode,
               const edns_reply_t *reply)
{
	uint8_t rdata[4 + 255 + 4 + 40 + 8];
	size_t rdlen = 0;
	if (req->nsid && reply->nsid != NULL) {
		size_t n = strlen(reply->nsid);
		rdlen += put_option(rdata, EDNS_OPT_NSID, reply->nsid, n > 255 ? 255 : n);
	}
	if (reply->cookie_len > 0)
		rdlen += put_option(rdata + rdlen, EDNS_OPT_COOKIE, reply->cookie, reply->cookie_len);
	if (reply->expire) {
		uint8_t v[4];
		pkt_put32(v, reply->expire_value);
		rdlen += put_option(rdata + rdlen, EDNS_OPT_EXPIRE, v, sizeof(v));
	}
	uint32_t ttl = (uint32_t)((rcode >> 4) & 0xFF) << 24;   /* version 0 */
	if (req->do_bit)
		ttl |= 0x8000;
	static const uint8_t root[1] = { 0 };
	pkt_begin_section(w, PKT_SECTION_ADDITIONAL);
	return pkt_write_rr(w, root, 0, PKT_TYPE_OPT, payload, ttl, rdata, (uint16_t)rdlen);
}

void edns_cookie(const edns_t *req, const uint8_t secret[16], const void *client, uint32_t now,
                 edns_reply_t *reply)
{
	reply->cookie_len = 0;
	if (req->cookie_len < 8)
		return;
	uint8_t input[8 + 8 + 16];
	size_t n = 0;
	memcpy(input, req->cookie, 8);
	input[8] = 1;                      /* version */
	input[9] = input[10] = input[11] = 0;
	pkt_put32(input + 12, now);
	n = 16;
	const struct sockaddr *sa = client;
	if (sa != NULL && sa->sa_family == AF_INET) {
		memcpy(input + n, &((const struct sockaddr_in *)client)->sin_addr, 4);
		n += 4;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		memcpy(input + n, &((const struct sockaddr_in6 *)client)->sin6_addr, 16);
		n += 16;
	}
	uint64_t hash = siphash24(secret, input, n);
	memcpy(reply->cookie, input, 16);
	for (int i = 0; i < 8; i++)
		reply->cookie[16 + i] = (uint8_t)(hash >> (8 * i));
	reply->cookie_len = 24;
}
