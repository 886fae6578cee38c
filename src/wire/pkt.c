/* wire/pkt.c -- reading and writing DNS messages */
#include <string.h>

#include "lib/error.h"
#include "wire/pkt.h"
#include "wire/rdata.h"

int pkt_read_rr(const uint8_t *msg, size_t len, size_t *pos, pkt_rr_t *rr)
{
	size_t p = *pos;
	rr->start = p;
	int n = name_unpack(msg, len, &p, rr->owner);
	if (n < 0)
		return n;
	if (p + 10 > len)
		return TDM_EMALF;
	rr->type = pkt_get16(msg + p);
	rr->rclass = pkt_get16(msg + p + 2);
	rr->ttl = pkt_get32(msg + p + 4);
	rr->rdlen = pkt_get16(msg + p + 8);
	p += 10;
	if (p + rr->rdlen > len)
		return TDM_EMALF;
	rr->rdata_pos = p;
	*pos = p + rr->rdlen;
	return TDM_OK;
}

int pkt_read_question(const uint8_t *msg, size_t len, size_t *pos, pkt_question_t *q)
{
	size_t p = PKT_HEADER_LEN;
	if (len < PKT_HEADER_LEN)
		return TDM_EMALF;
	int n = name_unpack(msg, len, &p, q->qname);
	if (n < 0)
		return n;
	if (p + 4 > len)
		return TDM_EMALF;
	q->qname_len = n;
	q->qtype = pkt_get16(msg + p);
	q->qclass = pkt_get16(msg + p + 2);
	*pos = p + 4;
	return TDM_OK;
}

void pkt_writer_init(pkt_writer_t *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->pos = 0;
	w->section = PKT_SECTION_ANSWER;
	w->counts[0] = w->counts[1] = w->counts[2] = 0;
	w->ncomp = 0;
	w->compress = true;
}

int pkt_write_header(pkt_writer_t *w, uint16_t id, uint16_t flags)
{
	if (w->cap < PKT_HEADER_LEN)
		return TDM_ESPACE;
	memset(w->buf, 0, PKT_HEADER_LEN);
	pkt_put16(w->buf, id);
	pkt_put16(w->buf + 2, flags);
	w->pos = PKT_HEADER_LEN;
	return TDM_OK;
}

/* Whether the name at msg offset off (following pointers) equals the label sequence at name. */
static bool match_at(const uint8_t *msg, size_t off, const uint8_t *name)
{
	for (int hops = 0; hops < 128;) {
		uint8_t len = msg[off];
		if ((len & 0xC0) == 0xC0) {
			off = (size_t)(len & 0x3F) << 8 | msg[off + 1];
			hops++;
			continue;
		}
		if (len != *name)
			return false;
		if (len == 0)
			return true;
		for (int i = 1; i <= len; i++)
			if (name_lower(msg[off + i]) != name_lower(name[i]))
				return false;
		off += 1 + (size_t)len;
		name += 1 + len;
	}
	return false;
}

/* Only names already complete in the message are candidates (the first `known` entries): the labels of
 * the name being written are registered as they go, and a suffix matched against them would read octets
 * not written yet -- a pointer into the name itself, a compression loop ("www.example.com.example.com."). */
static int find_suffix(const pkt_writer_t *w, const uint8_t *suffix, uint16_t known)
{
	for (int i = 0; i < known; i++)
		if (match_at(w->buf, w->comp[i], suffix))
			return w->comp[i];
	return -1;
}

int pkt_write_name(pkt_writer_t *w, const uint8_t *name, bool compress)
{
	size_t start = w->pos;
	uint16_t ncomp = w->ncomp;
	const uint8_t *p = name;
	compress = compress && w->compress;
	while (*p != 0) {
		int ptr = compress ? find_suffix(w, p, ncomp) : -1;
		if (ptr >= 0) {
			if (w->pos + 2 > w->cap)
				goto nospace;
			pkt_put16(w->buf + w->pos, (uint16_t)(0xC000 | ptr));
			w->pos += 2;
			return TDM_OK;
		}
		size_t n = 1 + (size_t)*p;
		if (w->pos + n > w->cap)
			goto nospace;
		if (w->pos < 0x4000 && w->ncomp < PKT_COMPRESS_MAX)
			w->comp[w->ncomp++] = (uint16_t)w->pos;
		memcpy(w->buf + w->pos, p, n);
		w->pos += n;
		p += n;
	}
	if (w->pos + 1 > w->cap)
		goto nospace;
	w->buf[w->pos++] = 0;
	return TDM_OK;
nospace:
	w->pos = start;
	w->ncomp = ncomp;
	return TDM_ESPACE;
}

int pkt_write_question(pkt_writer_t *w, const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
	pkt_mark_t m;
	pkt_mark(w, &m);
	int ret = pkt_write_name(w, qname, true);
	if (ret != TDM_OK)
		return ret;
	if (w->pos + 4 > w->cap) {
		pkt_rollback(w, &m);
		return TDM_ESPACE;
	}
	pkt_put16(w->buf + w->pos, qtype);
	pkt_put16(w->buf + w->pos + 2, qclass);
	w->pos += 4;
	pkt_put16(w->buf + 4, 1);
	return TDM_OK;
}

void pkt_begin_section(pkt_writer_t *w, int section)
{
	w->section = section;
}

/* Copies rdata, compressing the names RFC 3597 4 allows (the RFC 1035 types only). */
static int write_rdata(pkt_writer_t *w, uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	const rdata_desc_t *d = rdata_desc(type);
	size_t p = 0;
	for (const int16_t *f = d->fields; *f != RDATA_END && p < rdlen; f++) {
		size_t n;
		if (*f == RDATA_CNAME) {
			int len = name_length(rdata + p, rdlen - p);
			if (len < 0)
				goto raw;
			int ret = pkt_write_name(w, rdata + p, true);
			if (ret != TDM_OK)
				return ret;
			p += (size_t)len;
			continue;
		}
		if (*f > 0)
			n = (size_t)*f;
		else if (*f == RDATA_STRING)
			n = 1 + (size_t)rdata[p];
		else if (*f == RDATA_REST)
			n = rdlen - p;
		else {
			int len = name_length(rdata + p, rdlen - p);
			if (len < 0)
				goto raw;
			n = (size_t)len;
		}
		if (p + n > rdlen)
			goto raw;
		if (w->pos + n > w->cap)
			return TDM_ESPACE;
		memcpy(w->buf + w->pos, rdata + p, n);
		w->pos += n;
		p += n;
	}
raw:
	/* Whatever the layout did not cover (or malformed stored rdata) goes out as it is. */
	if (p < rdlen) {
		if (w->pos + (rdlen - p) > w->cap)
			return TDM_ESPACE;
		memcpy(w->buf + w->pos, rdata + p, rdlen - p);
		w->pos += rdlen - p;
	}
	return TDM_OK;
}

int pkt_write_rr(pkt_writer_t *w, const uint8_t *owner, uint16_t owner_ptr, uint16_t type,
                 uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	pkt_mark_t m;
	pkt_mark(w, &m);
	int ret;
	if (owner_ptr != 0) {
		if (w->pos + 2 > w->cap)
			return TDM_ESPACE;
		pkt_put16(w->buf + w->pos, (uint16_t)(0xC000 | owner_ptr));
		w->pos += 2;
	} else if ((ret = pkt_write_name(w, owner, true)) != TDM_OK) {
		return ret;
	}
	if (w->pos + 10 > w->cap)
		goto nospace;
	uint8_t *hdr = w->buf + w->pos;
	pkt_put16(hdr, type);
	pkt_put16(hdr + 2, rclass);
	pkt_put32(hdr + 4, ttl);
	w->pos += 10;
	size_t rdstart = w->pos;
	if (write_rdata(w, type, rdata, rdlen) != TDM_OK)
		goto nospace;
	pkt_put16(hdr + 8, (uint16_t)(w->pos - rdstart));
	w->counts[w->section]++;
	return TDM_OK;
nospace:
	pkt_rollback(w, &m);
	return TDM_ESPACE;
}

size_t pkt_writer_finish(pkt_writer_t *w)
{
	pkt_put16(w->buf + 6, w->counts[0]);
	pkt_put16(w->buf + 8, w->counts[1]);
	pkt_put16(w->buf + 10, w->counts[2]);
	return w->pos;
}

void pkt_mark(const pkt_writer_t *w, pkt_mark_t *m)
{
	m->pos = w->pos;
	memcpy(m->counts, w->counts, sizeof(m->counts));
	m->ncomp = w->ncomp;
}

void pkt_rollback(pkt_writer_t *w, const pkt_mark_t *m)
{
	w->pos = m->pos;
	memcpy(w->counts, m->counts, sizeof(m->counts));
	w->ncomp = m->ncomp;
}
