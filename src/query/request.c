/* query/request.c -- parsing and checking a request before it is answered */
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "query/query.h"

/* Reads every record after the question, checking each; picks up OPT and TSIG. */
static int parse_records(query_t *q, size_t pos)
{
	const uint8_t *m = q->msg;
	unsigned counts[3] = { pkt_ancount(m), pkt_nscount(m), pkt_arcount(m) };
	unsigned total = counts[0] + counts[1] + counts[2], seen = 0;
	bool opt = false;
	for (int s = 0; s < 3; s++) {
		for (unsigned i = 0; i < counts[s]; i++, seen++) {
			pkt_rr_t rr;
			int ret = pkt_read_rr(m, q->len, &pos, &rr);
			if (ret != TDM_OK)
				return ret;
			if (rr.type == PKT_TYPE_OPT) {
				/* RFC 6891 6.1.1: one OPT, in the additional section. */
				if (s != PKT_SECTION_ADDITIONAL || opt || edns_parse(m, &rr, &q->edns) != TDM_OK) {
					q->edns.present = false;
					return TDM_EMALF;
				}
				opt = true;
			} else if (rr.type == PKT_TYPE_TSIG) {
				/* RFC 8945 5.1: the TSIG record is the last one. */
				if (s != PKT_SECTION_ADDITIONAL || seen != total - 1)
					return TDM_EMALF;
				q->tsig_pos = rr.start;
			}
		}
	}
	return pos == q->len ? TDM_OK : TDM_ETRAIL;
}

/*
 * The question's name in lowercase, eight octets at a time. Only 'A'..'Z' fold (RFC 4343 3), and a
 * label length (below 64) is never one of them, so the whole wire name folds as plain octets. For each
 * octet y of w without its top bit, y + 0x3f sets bit 7 when y >= 'A' and y + 0x25 sets it when
 * y > 'Z', with no carry into the next octet; octets with the top bit set are not ASCII and stay.
 * (The same fold as siphash13's in lib/siphash.c: name_copy_lower's octet loop was 7% of the
 * answer path's instructions.)
 */
static void lower_qname(query_t *q)
{
	size_t len = (size_t)q->q.qname_len, i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, q->q.qname + i, sizeof(w));
		uint64_t y = w & 0x7f7f7f7f7f7f7f7fULL;
		uint64_t upper = (y + 0x3f3f3f3f3f3f3f3fULL) & ~(y + 0x2525252525252525ULL) & ~w &
		                 0x8080808080808080ULL;
		w |= upper >> 2;
		memcpy(q->qname_lower + i, &w, sizeof(w));
	}
	for (; i < len; i++)
		q->qname_lower[i] = name_lower(q->q.qname[i]);
}

bool query_parse(const uint8_t *msg, size_t len, query_t *q)
{
	q->msg = msg;
	q->len = len;
	q->rcode = PKT_RCODE_NOERROR;
	q->tsig_pos = 0;
	q->q.qname_len = 0;
	memset(&q->edns, 0, sizeof(q->edns));
	if (len < PKT_HEADER_LEN || (pkt_flags(msg) & PKT_FLAG_QR))
		return false;
	int opcode = pkt_opcode(msg);
	bool known = opcode == PKT_OPCODE_QUERY || opcode == PKT_OPCODE_NOTIFY || opcode == PKT_OPCODE_UPDATE;
	size_t pos;
	if (pkt_qdcount(msg) != 1 || pkt_read_question(msg, len, &pos, &q->q) != TDM_OK) {
		q->q.qname_len = 0;
		/* An opcode we do not know says nothing of its sections: NOTIMP whatever they hold
		 * (RFC 1035 4.1.1; ISC's EDNS compliance checks expect it), FORMERR otherwise. */
		q->rcode = known ? PKT_RCODE_FORMERR : PKT_RCODE_NOTIMP;
		return true;
	}
	/* Unknown opcodes: NOTIMP, with the question echoed (it was readable). */
	if (!known) {
		q->rcode = PKT_RCODE_NOTIMP;
		return true;
	}
	lower_qname(q);
	if (parse_records(q, pos) != TDM_OK) {
		q->rcode = PKT_RCODE_FORMERR;
		return true;
	}
	if (q->edns.present && q->edns.version != 0)
		q->rcode = PKT_RCODE_BADVERS;   /* RFC 6891 6.1.3 */
	return true;
}

size_t query_error(const query_env_t *env, const query_t *q, int rcode, uint8_t *resp,
                   size_t respcap)
{
	pkt_writer_t w;
	const uint8_t *m = q->msg;
	uint16_t flags = PKT_FLAG_QR | (pkt_flags(m) & (0x7800 | PKT_FLAG_RD | PKT_FLAG_CD));
	size_t cap = respcap < EDNS_MIN_PAYLOAD ? respcap : EDNS_MIN_PAYLOAD;
	pkt_writer_init(&w, resp, cap);
	if (pkt_write_header(&w, pkt_id(m), (uint16_t)(flags | (rcode & 0x0F))) != TDM_OK)
		return 0;
	if (q->q.qname_len > 0 && pkt_write_question(&w, q->q.qname, q->q.qtype, q->q.qclass) != TDM_OK)
		return 0;
	/* RFC 6891 7: an OPT that we could read goes back with the error, FORMERR included. */
	if (q->edns.present) {
		edns_reply_t reply;
		query_edns_reply(env, q, &reply);
		edns_write(&w, &q->edns, env->udp_payload, rcode, &reply);
	}
	return pkt_writer_finish(&w);
}

void query_edns_reply(const query_env_t *env, const query_t *q, edns_reply_t *reply)
{
	reply->nsid = env->identity;
	reply->cookie_len = 0;
	reply->expire = false;
	if (env->cookie_secret != NULL && q->edns.cookie_len > 0)
		edns_cookie(&q->edns, env->cookie_secret, env->client, (uint32_t)time(NULL), reply);
}
