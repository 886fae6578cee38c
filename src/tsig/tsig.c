/* tsig/tsig.c -- TSIG (RFC 8945): reading and writing the record, the digests, the state of an exchange */
#include <string.h>

#include "lib/error.h"
#include "tsig/tsig.h"
#include "wire/pkt.h"

/*
 * What the MAC covers (RFC 8945 4.3), fed to the HMAC in parts, never copied:
 *
 *   request          message                 + all variables
 *   first answer     request MAC (len + MAC) + message + all variables
 *   later messages   prior MAC   (len + MAC) + [unsigned messages, whole] + message + timers
 *
 * "message" is the message as its signer saw it: header ID replaced by the TSIG original ID (a
 * forwarder may have changed the header ID, RFC 8945 5.5), ARCOUNT without the TSIG, up to the TSIG
 * record. "all variables" are key name, class ANY, TTL 0, algorithm name (names lowercase), time
 * signed, fudge, error, other length and other data; "timers" are time signed and fudge.
 */

/* A TSIG record as read from a message; pointers point into the message. */
typedef struct {
	size_t start;                /* offset of the record: the MAC covers what precedes it */
	uint8_t owner[NAME_MAXLEN];  /* key name, uncompressed, case kept */
	const uint8_t *alg;          /* algorithm name, uncompressed in the rdata */
	uint64_t time_signed;
	uint16_t fudge, mac_len, orig_id, error, other_len;
	const uint8_t *mac, *other;
} tsig_rr_t;

/* The variables a MAC covers; names lowercase. */
typedef struct {
	const uint8_t *name, *alg;
	uint64_t time;
	uint16_t fudge, error, other_len;
	const uint8_t *other;
} tsig_vars_t;

static uint64_t get48(const uint8_t *p)
{
	return (uint64_t)pkt_get16(p) << 32 | pkt_get32(p + 2);
}

static void put48(uint8_t *p, uint64_t v)
{
	pkt_put16(p, (uint16_t)(v >> 32));
	pkt_put32(p + 2, (uint32_t)v);
}

static size_t wire_len(const uint8_t *name)
{
	return (size_t)name_length(name, NAME_MAXLEN);
}

/* ---- keys and contexts ---- */

int tsig_key_init(tsig_key_t *key, const char *name, const char *algorithm, const uint8_t *secret,
                  size_t secret_len)
{
	uint8_t wire[NAME_MAXLEN];
	int alg = tsig_alg_from_text(algorithm);
	if (alg < 0)
		return TDM_ENOENT;
	if (secret_len == 0)
		return TDM_EINVAL;
	if (secret_len > TSIG_SECRET_MAX)   /* the jobs that sign copy it into that much */
		return TDM_ESPACE;
	if (name_from_text(name, NULL, wire) < 0)
		return TDM_EPARSE;
	name_copy_lower(key->name, wire);
	key->alg = alg;
	key->secret = secret;
	key->secret_len = secret_len;
	return TDM_OK;
}

void tsig_ctx_init(tsig_ctx_t *ctx, const tsig_key_t *key)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->key = key;
	ctx->fudge = TSIG_FUDGE_DEFAULT;
	ctx->state = TSIG_STATE_REQUEST;
}

void tsig_ctx_clear(tsig_ctx_t *ctx)
{
	tsig_hmac_free(ctx->hmac);
	ctx->hmac = NULL;
	ctx->unsigned_count = 0;
}

void tsig_ctx_move(tsig_ctx_t *dst, tsig_ctx_t *src)
{
	*dst = *src;
	src->hmac = NULL;
}

/* ---- reading the record ---- */

static int parse_rdata(const uint8_t *msg, const pkt_rr_t *rr, tsig_rr_t *t)
{
	const uint8_t *p = msg + rr->rdata_pos, *end = p + rr->rdlen;
	int n = name_length(p, rr->rdlen);   /* RFC 3597 4: no compression in TSIG rdata */
	if (n < 0)
		return TDM_EMALF;
	t->alg = p;
	p += n;
	if (end - p < 10)
		return TDM_EMALF;
	t->time_signed = get48(p);
	t->fudge = pkt_get16(p + 6);
	t->mac_len = pkt_get16(p + 8);
	p += 10;
	if ((size_t)(end - p) < (size_t)t->mac_len + 6)
		return TDM_EMALF;
	t->mac = p;
	p += t->mac_len;
	t->orig_id = pkt_get16(p);
	t->error = pkt_get16(p + 2);
	t->other_len = pkt_get16(p + 4);
	p += 6;
	if ((size_t)(end - p) != t->other_len)
		return TDM_EMALF;
	t->other = p;
	t->start = rr->start;
	memcpy(t->owner, rr->owner, NAME_MAXLEN);
	return TDM_OK;
}

static int skip_questions(const uint8_t *msg, size_t len, size_t *pos)
{
	uint8_t name[NAME_MAXLEN];
	for (unsigned i = 0, n = pkt_qdcount(msg); i < n; i++) {
		if (name_unpack(msg, len, pos, name) < 0 || len - *pos < 4)
			return TDM_EMALF;
		*pos += 4;
	}
	return TDM_OK;
}

/* Finds the TSIG record of a message. TDM_OK, TDM_ENOENT (none) or TDM_EMALF. */
static int find_tsig(const uint8_t *msg, size_t len, tsig_rr_t *t)
{
	size_t pos = PKT_HEADER_LEN;
	if (len < PKT_HEADER_LEN || skip_questions(msg, len, &pos) != TDM_OK)
		return TDM_EMALF;
	unsigned before = (unsigned)pkt_ancount(msg) + pkt_nscount(msg);
	unsigned total = before + pkt_arcount(msg);
	for (unsigned i = 0; i < total; i++) {
		pkt_rr_t rr;
		if (pkt_read_rr(msg, len, &pos, &rr) != TDM_OK)
			return TDM_EMALF;
		if (rr.type != PKT_TYPE_TSIG)
			continue;
		/* RFC 8945 5.2: exactly one TSIG, the last record of the additional section. */
		if (i + 1 != total || i < before || pos != len || rr.rclass != PKT_CLASS_ANY)
			return TDM_EMALF;
		return parse_rdata(msg, &rr, t);
	}
	return TDM_ENOENT;
}

/* ---- digests ---- */

static void feed_mac(tsig_hmac_t *h, const uint8_t *mac, size_t len)
{
	uint8_t n[2];
	pkt_put16(n, (uint16_t)len);
	tsig_hmac_update(h, n, 2);
	tsig_hmac_update(h, mac, len);
}

static void feed_message(tsig_hmac_t *h, const uint8_t *msg, size_t end, uint16_t id, uint16_t arcount)
{
	uint8_t hdr[PKT_HEADER_LEN];
	memcpy(hdr, msg, PKT_HEADER_LEN);
	pkt_put16(hdr, id);
	pkt_put16(hdr + 10, arcount);
	tsig_hmac_update(h, hdr, PKT_HEADER_LEN);
	tsig_hmac_update(h, msg + PKT_HEADER_LEN, end - PKT_HEADER_LEN);
}

static void feed_vars(tsig_hmac_t *h, const tsig_vars_t *v, bool timers_only)
{
	uint8_t buf[2 * NAME_MAXLEN + 22];
	size_t n = 0;
	if (!timers_only) {
		memcpy(buf, v->name, wire_len(v->name));
		n = wire_len(v->name);
		pkt_put16(buf + n, PKT_CLASS_ANY);
		pkt_put32(buf + n + 2, 0);
		memcpy(buf + n + 6, v->alg, wire_len(v->alg));
		n += 6 + wire_len(v->alg);
	}
	put48(buf + n, v->time);
	pkt_put16(buf + n + 6, v->fudge);
	n += 8;
	if (!timers_only) {
		pkt_put16(buf + n, v->error);
		pkt_put16(buf + n + 2, v->other_len);
		n += 4;
	}
	tsig_hmac_update(h, buf, n);
	if (!timers_only)
		tsig_hmac_update(h, v->other, v->other_len);
}

/* Starts the digest of the next message with the prior MAC, unless unsigned stream messages have
 * already started it (RFC 8945 5.3.1). */
static int digest_start(tsig_ctx_t *ctx)
{
	if (ctx->state == TSIG_STATE_NEXT && ctx->unsigned_count > 0)
		return TDM_OK;
	if (ctx->hmac == NULL && (ctx->hmac = tsig_hmac_new()) == NULL)
		return TDM_ENOMEM;
	const tsig_key_t *k = ctx->key;
	int ret = tsig_hmac_begin(ctx->hmac, k->alg, k->secret, k->secret_len);
	if (ret == TDM_OK && ctx->state != TSIG_STATE_REQUEST)
		feed_mac(ctx->hmac, ctx->mac, ctx->mac_len);
	return ret;
}

/* The MAC of one message, msg[0..end) seen with header ID id and ARCOUNT arcount. */
static int compute(tsig_ctx_t *ctx, const uint8_t *msg, size_t end, uint16_t id, uint16_t arcount,
                   const tsig_vars_t *v, uint8_t mac[TSIG_DIGEST_MAX], size_t *mac_len)
{
	int ret = digest_start(ctx);
	if (ret != TDM_OK)
		return ret;
	feed_message(ctx->hmac, msg, end, id, arcount);
	feed_vars(ctx->hmac, v, ctx->state == TSIG_STATE_NEXT);
	return tsig_hmac_end(ctx->hmac, mac, mac_len);
}

/* An unsigned stream message goes whole into the running digest. */
static int digest_unsigned(tsig_ctx_t *ctx, const uint8_t *msg, size_t len)
{
	int ret = digest_start(ctx);
	if (ret != TDM_OK)
		return ret;
	tsig_hmac_update(ctx->hmac, msg, len);
	ctx->unsigned_count++;
	return TDM_OK;
}

/* A MAC sent or verified becomes the prior MAC of the next message. */
static void remember(tsig_ctx_t *ctx, const uint8_t *mac, size_t len, uint64_t time)
{
	memcpy(ctx->mac, mac, len);
	ctx->mac_len = (uint16_t)len;
	ctx->time_signed = time;
	ctx->unsigned_count = 0;
	ctx->state = ctx->state == TSIG_STATE_REQUEST ? TSIG_STATE_FIRST : TSIG_STATE_NEXT;
}

/* ---- signing ---- */

static size_t rr_size(const uint8_t *owner, const tsig_vars_t *v, size_t mac_len)
{
	return wire_len(owner) + 10 + wire_len(v->alg) + 16 + mac_len + v->other_len;
}

/* Writes the record after the message (room checked) and counts it in ARCOUNT. */
static void append(uint8_t *msg, size_t *len, const uint8_t *owner, const tsig_vars_t *v,
                   const uint8_t *mac, size_t mac_len)
{
	uint8_t *p = msg + *len;
	size_t n = wire_len(owner), a = wire_len(v->alg);
	memcpy(p, owner, n);
	pkt_put16(p + n, PKT_TYPE_TSIG);
	pkt_put16(p + n + 2, PKT_CLASS_ANY);
	pkt_put32(p + n + 4, 0);
	pkt_put16(p + n + 8, (uint16_t)(a + 16 + mac_len + v->other_len));
	p += n + 10;
	memcpy(p, v->alg, a);
	p += a;
	put48(p, v->time);
	pkt_put16(p + 6, v->fudge);
	pkt_put16(p + 8, (uint16_t)mac_len);
	if (mac_len > 0)
		memcpy(p + 10, mac, mac_len);
	p += 10 + mac_len;
	pkt_put16(p, pkt_id(msg));
	pkt_put16(p + 2, v->error);
	pkt_put16(p + 4, v->other_len);
	if (v->other_len > 0)
		memcpy(p + 6, v->other, v->other_len);
	*len += rr_size(owner, v, mac_len);
	pkt_put16(msg + 10, (uint16_t)(pkt_arcount(msg) + 1));
}

static int sign_with(tsig_ctx_t *ctx, uint8_t *msg, size_t *len, size_t cap, const tsig_vars_t *v)
{
	uint8_t mac[TSIG_DIGEST_MAX];
	size_t mac_len = tsig_alg_digest_len(ctx->key->alg);
	if (cap - *len < rr_size(ctx->key->name, v, mac_len))
		return TDM_ESPACE;
	int ret = compute(ctx, msg, *len, pkt_id(msg), pkt_arcount(msg), v, mac, &mac_len);
	if (ret != TDM_OK) {
		ctx->state = TSIG_STATE_FAILED;
		return ret;
	}
	append(msg, len, ctx->key->name, v, mac, mac_len);
	remember(ctx, mac, mac_len, v->time);
	return TDM_OK;
}

/* RFC 8945 5.3.2: the answer to a request that failed its check. */
static int sign_error(tsig_ctx_t *ctx, uint8_t *msg, size_t *len, size_t cap, uint64_t now)
{
	uint8_t other[6];
	int ret;
	if (ctx->state != TSIG_STATE_FIRST)
		return TDM_EINVAL;
	if (ctx->error == TSIG_ERROR_BADTIME && ctx->key != NULL) {
		/* Signed (5.2.3), over the request MAC; the request's own time so that the client's time
		 * check passes and it can read the error, the server's time in other data. */
		put48(other, now);
		tsig_vars_t v = { ctx->key->name, tsig_alg_wire(ctx->key->alg), ctx->time_signed, ctx->fudge,
		                  TSIG_ERROR_BADTIME, 6, other };
		ret = sign_with(ctx, msg, len, cap, &v);
	} else {
		/* Key and MAC errors: no MAC at all (MAC size 0), names as the request wrote them. */
		tsig_vars_t v = { ctx->req_name, ctx->req_alg, now, ctx->fudge, ctx->error, 0, NULL };
		ret = cap - *len < rr_size(ctx->req_name, &v, 0) ? TDM_ESPACE : TDM_OK;
		if (ret == TDM_OK)
			append(msg, len, ctx->req_name, &v, NULL, 0);
	}
	if (ret == TDM_OK)
		ctx->state = TSIG_STATE_FAILED;
	return ret;
}

int tsig_sign(tsig_ctx_t *ctx, uint8_t *msg, size_t *len, size_t cap, uint64_t now)
{
	if (ctx->state == TSIG_STATE_FAILED || *len < PKT_HEADER_LEN || *len > cap ||
	    pkt_arcount(msg) == 0xFFFF)
		return TDM_EINVAL;
	if (ctx->error != TSIG_ERROR_NONE)
		return sign_error(ctx, msg, len, cap, now);
	if (ctx->key == NULL)
		return TDM_EINVAL;
	tsig_vars_t v = { ctx->key->name, tsig_alg_wire(ctx->key->alg), now, ctx->fudge, 0, 0, NULL };
	return sign_with(ctx, msg, len, cap, &v);
}

int tsig_sign_skip(tsig_ctx_t *ctx, const uint8_t *msg, size_t len)
{
	if (ctx->state != TSIG_STATE_NEXT || ctx->key == NULL || ctx->unsigned_count >= TSIG_UNSIGNED_MAX)
		return TDM_EINVAL;
	int ret = digest_unsigned(ctx, msg, len);
	if (ret != TDM_OK)
		ctx->state = TSIG_STATE_FAILED;
	return ret;
}

/* ---- verifying ---- */

static int fail(tsig_ctx_t *ctx, int ret)
{
	ctx->state = TSIG_STATE_FAILED;
	return ret;
}

static int error_code(uint16_t error)
{
	switch (error) {
	case TSIG_ERROR_BADSIG: return TDM_ETSIG_BADSIG;
	case TSIG_ERROR_BADKEY: return TDM_ETSIG_BADKEY;
	case TSIG_ERROR_BADTIME: return TDM_ETSIG_BADTIME;
	case TSIG_ERROR_BADTRUNC: return TDM_ETSIG_BADTRUNC;
	}
	return TDM_ERCODE;
}

/* A check failed: a request gets an error answer (state FIRST, error set), an answer ends it all. */
static int refuse(tsig_ctx_t *ctx, bool request, uint16_t error)
{
	if (!request)
		return fail(ctx, error_code(error));
	ctx->error = error;
	ctx->state = TSIG_STATE_FIRST;
	return error_code(error);
}

/* RFC 8945 5.2.2.1: a MAC longer than the hash, or shorter than the larger of 10 octets and half the
 * hash, is FORMERR. The one exception, an error answer with no MAC (5.3.2), is handled before. */
static bool mac_size_ok(int alg, size_t mac_len)
{
	size_t full = tsig_alg_digest_len(alg), min = full / 2 > 10 ? full / 2 : 10;
	return mac_len <= full && mac_len >= min;
}

static bool time_ok(uint64_t now, uint64_t signed_at, uint16_t fudge)
{
	uint64_t diff = now > signed_at ? now - signed_at : signed_at - now;
	return diff <= fudge;
}

static int verify_signed(tsig_ctx_t *ctx, const uint8_t *msg, const tsig_rr_t *t, uint64_t now)
{
	bool request = ctx->state == TSIG_STATE_REQUEST;
	if (request) {
		memcpy(ctx->req_name, t->owner, wire_len(t->owner));
		memcpy(ctx->req_alg, t->alg, wire_len(t->alg));
	}
	ctx->peer_error = request ? 0 : t->error;
	int alg = tsig_alg_from_wire(t->alg);
	if (ctx->key == NULL || alg != ctx->key->alg || !name_equal(t->owner, ctx->key->name))
		return refuse(ctx, request, TSIG_ERROR_BADKEY);
	if (!request && t->error != TSIG_ERROR_NONE && t->mac_len == 0)
		return fail(ctx, error_code(t->error));
	if (!mac_size_ok(alg, t->mac_len))
		return fail(ctx, TDM_EMALF);
	uint8_t mac[TSIG_DIGEST_MAX];
	size_t mac_len;
	tsig_vars_t v = { ctx->key->name, tsig_alg_wire(alg), t->time_signed, t->fudge, t->error,
	                  t->other_len, t->other };
	int ret = compute(ctx, msg, t->start, t->orig_id, (uint16_t)(pkt_arcount(msg) - 1), &v, mac, &mac_len);
	if (ret != TDM_OK)
		return fail(ctx, ret);
	/* A truncated MAC is compared on its length only (5.2.2.1), and is the prior MAC as received. */
	if (!tsig_mac_equal(mac, t->mac, t->mac_len))
		return refuse(ctx, request, TSIG_ERROR_BADSIG);
	remember(ctx, t->mac, t->mac_len, t->time_signed);
	if (!request && t->error != TSIG_ERROR_NONE)
		return fail(ctx, error_code(t->error));
	if (!time_ok(now, t->time_signed, t->fudge))
		return refuse(ctx, request, TSIG_ERROR_BADTIME);
	return TDM_OK;
}

static int verify_unsigned(tsig_ctx_t *ctx, const uint8_t *msg, size_t len)
{
	if (ctx->state == TSIG_STATE_REQUEST)
		return TDM_ENOENT;
	/* RFC 8945 5.3.1: the first answer must be signed, and at most 99 unsigned in a row after it. */
	if (ctx->state != TSIG_STATE_NEXT || ctx->unsigned_count >= TSIG_UNSIGNED_MAX)
		return fail(ctx, TDM_ETSIG_UNSIGNED);
	int ret = digest_unsigned(ctx, msg, len);
	return ret == TDM_OK ? ret : fail(ctx, ret);
}

int tsig_verify(tsig_ctx_t *ctx, const uint8_t *msg, size_t len, uint64_t now)
{
	tsig_rr_t t;
	if (ctx->state == TSIG_STATE_FAILED || (ctx->key == NULL && ctx->state != TSIG_STATE_REQUEST))
		return TDM_EINVAL;
	int ret = find_tsig(msg, len, &t);
	if (ret == TDM_ENOENT)
		return verify_unsigned(ctx, msg, len);
	if (ret != TDM_OK)
		return fail(ctx, ret);
	return verify_signed(ctx, msg, &t, now);
}

int tsig_verify_end(const tsig_ctx_t *ctx)
{
	if (ctx->state == TSIG_STATE_FAILED)
		return TDM_EINVAL;
	return ctx->state == TSIG_STATE_NEXT && ctx->unsigned_count == 0 ? TDM_OK : TDM_ETSIG_UNSIGNED;
}

int tsig_server_verify(tsig_ctx_t *ctx, const uint8_t *msg, size_t len, tsig_lookup_t lookup, void *arg,
                       uint64_t now)
{
	tsig_rr_t t;
	uint8_t name[NAME_MAXLEN];
	if (ctx->state != TSIG_STATE_REQUEST)
		return TDM_EINVAL;
	int ret = find_tsig(msg, len, &t);
	if (ret == TDM_ENOENT)
		return ret;
	if (ret != TDM_OK)
		return fail(ctx, ret);
	name_copy_lower(name, t.owner);
	ctx->key = lookup(arg, name);
	return verify_signed(ctx, msg, &t, now);
}
