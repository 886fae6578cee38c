/* wire/rdata.c -- rdata descriptors for every type the zone parser knows */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"
#include "wire/name.h"
#include "wire/rdata.h"

#define F(...) { __VA_ARGS__, RDATA_END }
#define C RDATA_CNAME
#define D RDATA_DNAME
#define N RDATA_NAME
#define S RDATA_STRING
#define R RDATA_REST

static const rdata_desc_t descs[] = {
	[1] = { "A", F(4) },
	[2] = { "NS", F(C) },
	[3] = { "MD", F(C) },
	[4] = { "MF", F(C) },
	[5] = { "CNAME", F(C) },
	[6] = { "SOA", F(C, C, 20) },
	[7] = { "MB", F(C) },
	[8] = { "MG", F(C) },
	[9] = { "MR", F(C) },
	[10] = { "NULL", F(R) },
	[11] = { "WKS", F(R) },
	[12] = { "PTR", F(C) },
	[13] = { "HINFO", F(S, S) },
	[14] = { "MINFO", F(C, C) },
	[15] = { "MX", F(2, C) },
	[16] = { "TXT", F(R) },
	[17] = { "RP", F(D, D) },
	[18] = { "AFSDB", F(2, D) },
	[19] = { "X25", F(R) },
	[20] = { "ISDN", F(R) },
	[21] = { "RT", F(2, D) },
	[22] = { "NSAP", F(R) },
	[24] = { "SIG", F(18, D, R) },
	[25] = { "KEY", F(R) },
	[26] = { "PX", F(2, D, D) },
	[28] = { "AAAA", F(16) },
	[29] = { "LOC", F(R) },
	[30] = { "NXT", F(D, R) },
	[33] = { "SRV", F(6, D) },
	[35] = { "NAPTR", F(4, S, S, S, D) },
	[36] = { "KX", F(2, N) },
	[37] = { "CERT", F(R) },
	[39] = { "DNAME", F(N) },
	[42] = { "APL", F(R) },
	[43] = { "DS", F(R) },
	[44] = { "SSHFP", F(R) },
	[45] = { "IPSECKEY", F(R) },
	[46] = { "RRSIG", F(18, N, R) },
	[47] = { "NSEC", F(N, R) },
	[48] = { "DNSKEY", F(R) },
	[49] = { "DHCID", F(R) },
	[50] = { "NSEC3", F(R) },
	[51] = { "NSEC3PARAM", F(R) },
	[52] = { "TLSA", F(R) },
	[53] = { "SMIMEA", F(R) },
	[55] = { "HIP", F(R) },
	[59] = { "CDS", F(R) },
	[60] = { "CDNSKEY", F(R) },
	[61] = { "OPENPGPKEY", F(R) },
	[62] = { "CSYNC", F(R) },
	[63] = { "ZONEMD", F(R) },
	[64] = { "SVCB", F(2, N, R) },
	[65] = { "HTTPS", F(2, N, R) },
	[99] = { "SPF", F(R) },
	[104] = { "NID", F(10) },
	[105] = { "L32", F(6) },
	[106] = { "L64", F(10) },
	[107] = { "LP", F(2, N) },
	[108] = { "EUI48", F(6) },
	[109] = { "EUI64", F(8) },
	[249] = { "TKEY", F(N, R) },
	[250] = { "TSIG", F(N, R) },
	[251] = { "IXFR", F(R) },
	[252] = { "AXFR", F(R) },
	[255] = { "ANY", F(R) },
	[256] = { "URI", F(R) },
	[257] = { "CAA", F(R) },
};

static const rdata_desc_t desc_opt = { "OPT", F(R) };
static const rdata_desc_t desc_unknown = { NULL, F(R) };

const rdata_desc_t *rdata_desc(uint16_t type)
{
	if (type == 41)
		return &desc_opt;
	if (type < sizeof(descs) / sizeof(descs[0]) && descs[type].name != NULL)
		return &descs[type];
	return &desc_unknown;
}

int rdata_has_names(uint16_t type)
{
	for (const int16_t *f = rdata_desc(type)->fields; *f != RDATA_END; f++)
		if (*f == RDATA_CNAME || *f == RDATA_DNAME || *f == RDATA_NAME)
			return 1;
	return 0;
}

static int put(uint8_t *out, size_t outcap, size_t *outlen, const uint8_t *src, size_t n)
{
	if (*outlen + n > outcap)
		return TDM_ESPACE;
	memcpy(out + *outlen, src, n);
	*outlen += n;
	return TDM_OK;
}

static int unpack_field(int16_t f, const uint8_t *msg, size_t msglen, size_t *p, size_t end,
                        uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t name[NAME_MAXLEN];
	if (f > 0) {
		if (*p + (size_t)f > end)
			return TDM_EMALF;
		int ret = put(out, outcap, outlen, msg + *p, (size_t)f);
		*p += (size_t)f;
		return ret;
	}
	switch (f) {
	case RDATA_CNAME:
	case RDATA_DNAME: {
		int n = name_unpack(msg, end, p, name);   /* limit to end: the name must stay in the rdata */
		if (n < 0)
			return n;
		return put(out, outcap, outlen, name, (size_t)n);
	}
	case RDATA_NAME: {
		int n = name_length(msg + *p, end - *p);
		if (n < 0)
			return n;
		int ret = put(out, outcap, outlen, msg + *p, (size_t)n);
		*p += (size_t)n;
		return ret;
	}
	case RDATA_STRING: {
		if (*p >= end || *p + 1 + msg[*p] > end)
			return TDM_EMALF;
		size_t n = 1 + (size_t)msg[*p];
		int ret = put(out, outcap, outlen, msg + *p, n);
		*p += n;
		return ret;
	}
	default: {   /* RDATA_REST */
		int ret = put(out, outcap, outlen, msg + *p, end - *p);
		*p = end;
		return ret;
	}
	}
	(void)msglen;
}

int rdata_unpack(const uint8_t *msg, size_t msglen, size_t pos, uint16_t rdlen, uint16_t type,
                 uint8_t *out, size_t outcap)
{
	size_t end = pos + rdlen, outlen = 0, p = pos;
	if (end > msglen)
		return TDM_EMALF;
	const rdata_desc_t *d = rdata_desc(type);
	/* RFC 2136 2.4/2.5: an update may carry empty rdata as a marker; empty rdata passes as is. */
	if (rdlen == 0)
		return 0;
	for (const int16_t *f = d->fields; *f != RDATA_END; f++) {
		int ret = unpack_field(*f, msg, msglen, &p, end, out, outcap, &outlen);
		if (ret != TDM_OK)
			return ret;
	}
	if (p != end)
		return TDM_EMALF;
	return (int)outlen;
}

/* ---- checking rdata that enters a zone (transfers, UPDATE) ---- */

/* The descriptor walk over uncompressed rdata; *end is where the layout's last fixed field ended
 * (the start of an RDATA_REST tail). */
static int check_layout(const rdata_desc_t *d, const uint8_t *rd, size_t len, size_t *rest,
                        const char **why)
{
	size_t p = 0;
	*rest = len;
	for (const int16_t *f = d->fields; *f != RDATA_END; f++) {
		if (*f > 0) {
			if (len - p < (size_t)*f)
				return *why = p == 0 && len == 0 ? "empty rdata" : "rdata too short", TDM_EMALF;
			p += (size_t)*f;
		} else if (*f == RDATA_CNAME || *f == RDATA_DNAME || *f == RDATA_NAME) {
			int n = p < len ? name_length(rd + p, len - p) : TDM_EMALF;
			if (n < 0)
				return *why = len == 0 ? "empty rdata" : "bad domain name in the rdata",
				       TDM_EMALF;
			p += (size_t)n;
		} else if (*f == RDATA_STRING) {
			if (p >= len || len - p - 1 < rd[p])
				return *why = len == 0 ? "empty rdata" : "character-string past the rdata",
				       TDM_EMALF;
			p += 1 + (size_t)rd[p];
		} else {   /* RDATA_REST */
			*rest = p;
			return TDM_OK;
		}
	}
	if (p != len)
		return *why = "octets after the last field", TDM_EMALF;
	return TDM_OK;
}

/* One or more character-strings covering the rdata exactly (TXT, SPF: RFC 1035 3.3.14). */
static int check_strings(const uint8_t *rd, size_t len, size_t min, size_t max, const char **why)
{
	size_t p = 0, n = 0;
	while (p < len) {
		if (len - p - 1 < rd[p])
			return *why = "character-string past the rdata", TDM_EMALF;
		p += 1 + (size_t)rd[p];
		n++;
	}
	if (n < min || n > max)
		return *why = n == 0 ? "empty rdata" : "wrong number of character-strings", TDM_EMALF;
	return TDM_OK;
}

/* A type bitmap (RFC 4034 4.1.2): windows in increasing order, each 1 to 32 octets. */
static int check_bitmap(const uint8_t *rd, size_t len, const char **why)
{
	size_t p = 0;
	int last = -1;
	while (p < len) {
		if (len - p < 2 || rd[p + 1] == 0 || rd[p + 1] > 32 || len - p - 2 < rd[p + 1] ||
		    (int)rd[p] <= last)
			return *why = "malformed type bitmap", TDM_EMALF;
		last = rd[p];
		p += 2 + (size_t)rd[p + 1];
	}
	return TDM_OK;
}

/* NSEC3 (RFC 5155 3.2) and NSEC3PARAM (4.2): salt and hash inside the rdata. */
static int check_nsec3(const uint8_t *rd, size_t len, bool param, const char **why)
{
	if (len < 5 || len - 5 < rd[4])
		return *why = len == 0 ? "empty rdata" : "salt past the rdata", TDM_EMALF;
	size_t p = 5 + (size_t)rd[4];
	if (param)
		return p == len ? TDM_OK : (*why = "octets after the salt", TDM_EMALF);
	if (p >= len || rd[p] == 0 || len - p - 1 < rd[p])
		return *why = "bad next hashed owner length", TDM_EMALF;
	p += 1 + (size_t)rd[p];
	return check_bitmap(rd + p, len - p, why);
}

/* SVCB/HTTPS parameters (RFC 9460 2.2): key, length, value; keys strictly increasing. */
static int check_svc_params(const uint8_t *rd, size_t len, const char **why)
{
	size_t p = 0;
	long last = -1;
	while (p < len) {
		if (len - p < 4)
			return *why = "truncated SvcParam", TDM_EMALF;
		uint16_t key = (uint16_t)(rd[p] << 8 | rd[p + 1]), n = (uint16_t)(rd[p + 2] << 8 | rd[p + 3]);
		if ((long)key <= last || len - p - 4 < n)
			return *why = "SvcParams out of order or past the rdata", TDM_EMALF;
		last = key;
		p += 4 + (size_t)n;
	}
	return TDM_OK;
}

/* APL items (RFC 3123 4): family, prefix, N|AFDLENGTH, AFDPART. */
static int check_apl(const uint8_t *rd, size_t len, const char **why)
{
	for (size_t p = 0; p < len;) {
		if (len - p < 4 || len - p - 4 < (size_t)(rd[p + 3] & 0x7f))
			return *why = "APL item past the rdata", TDM_EMALF;
		p += 4 + (size_t)(rd[p + 3] & 0x7f);
	}
	return TDM_OK;
}

/* IPSECKEY (RFC 4025 2): the gateway's form follows its type. */
static int check_ipseckey(const uint8_t *rd, size_t len, const char **why)
{
	if (len < 3)
		return *why = len == 0 ? "empty rdata" : "rdata too short", TDM_EMALF;
	size_t need = rd[1] == 0 ? 0 : rd[1] == 1 ? 4 : rd[1] == 2 ? 16 : SIZE_MAX;
	if (rd[1] == 3)
		return name_length(rd + 3, len - 3) > 0 ? TDM_OK
		       : (*why = "bad gateway name", TDM_EMALF);
	if (need == SIZE_MAX || len - 3 < need)
		return *why = "bad gateway", TDM_EMALF;
	return TDM_OK;
}

/* HIP (RFC 8005 5): HIT and public key inside, then rendezvous servers, each a whole name. */
static int check_hip(const uint8_t *rd, size_t len, const char **why)
{
	if (len < 4)
		return *why = len == 0 ? "empty rdata" : "rdata too short", TDM_EMALF;
	size_t p = 4 + (size_t)rd[0] + (size_t)(rd[2] << 8 | rd[3]);
	if (rd[0] == 0 || p > len)
		return *why = "HIT or public key past the rdata", TDM_EMALF;
	while (p < len) {
		int n = name_length(rd + p, len - p);
		if (n < 0)
			return *why = "bad rendezvous server name", TDM_EMALF;
		p += (size_t)n;
	}
	return TDM_OK;
}

/* A least length for types the table leaves open (their fixed head), 0 when none. */
static size_t min_length(uint16_t type)
{
	switch (type) {
	case 11: return 5;           /* WKS: address, protocol (RFC 1035 3.4.2) */
	case 25: case 48: case 60:   /* KEY, DNSKEY, CDNSKEY: flags, protocol, algorithm */
	case 43: case 59:            /* DS, CDS: key tag, algorithm, digest type */
	case 256:                    /* URI: priority, weight */
		return 4;
	case 37: return 5;           /* CERT: type, key tag, algorithm */
	case 44: return 2;           /* SSHFP: algorithm, fingerprint type */
	case 52: case 53: return 3;  /* TLSA, SMIMEA: usage, selector, matching type */
	case 62: return 6;           /* CSYNC: serial, flags */
	case 63: return 6;           /* ZONEMD: serial, scheme, algorithm */
	default: return 0;
	}
}

/* The per-type part: framing inside RDATA_REST tails (rest: where the tail starts). */
static int check_type(uint16_t type, const uint8_t *rd, size_t len, size_t rest, const char **why)
{
	if (len < min_length(type))
		return *why = len == 0 ? "empty rdata" : "rdata too short", TDM_EMALF;
	switch (type) {
	case 16: case 99: return check_strings(rd, len, 1, SIZE_MAX, why);   /* TXT, SPF */
	case 19: return check_strings(rd, len, 1, 1, why);                   /* X25 */
	case 20: return check_strings(rd, len, 1, 2, why);                   /* ISDN */
	case 29: return len == 16 ? TDM_OK : (*why = "LOC is 16 octets", TDM_EMALF);
	case 42: return check_apl(rd, len, why);
	case 45: return check_ipseckey(rd, len, why);
	case 47: return check_bitmap(rd + rest, len - rest, why);            /* NSEC */
	case 50: return check_nsec3(rd, len, false, why);
	case 51: return check_nsec3(rd, len, true, why);
	case 55: return check_hip(rd, len, why);
	case 62: return check_bitmap(rd + 6, len - 6, why);                  /* CSYNC */
	case 64: case 65: return check_svc_params(rd + rest, len - rest, why);
	case 257:   /* CAA (RFC 8659 4.1): flags, a tag of 1 to 15 octets, the value */
		return len >= 2 && rd[1] >= 1 && rd[1] <= 15 && len - 2 >= rd[1] ? TDM_OK
		       : (*why = len == 0 ? "empty rdata" : "bad CAA tag", TDM_EMALF);
	default: return TDM_OK;
	}
}

int rdata_is_meta(uint16_t type)
{
	return type == 0 || type == 41 || (type >= 128 && type <= 255) || type == 65535;
}

int rdata_check(uint16_t type, const uint8_t *rdata, size_t len, const char **why)
{
	size_t rest;
	if (len > 65535)
		return *why = "rdata longer than 65535 octets", TDM_EMALF;
	if (rdata_is_meta(type))
		return *why = "a meta or question type, not zone data", TDM_EMALF;
	int ret = check_layout(rdata_desc(type), rdata, len, &rest, why);
	return ret != TDM_OK ? ret : check_type(type, rdata, len, rest, why);
}

int rdata_check_record(const uint8_t *apex, const uint8_t *owner, uint16_t type, const uint8_t *rdata,
                       size_t len, char *why, size_t why_len)
{
	const char *problem = NULL;
	if (!name_in_zone(owner, apex))
		problem = "outside the zone";
	else if (rdata_check(type, rdata, len, &problem) == TDM_OK)
		return TDM_OK;
	char name[NAME_TEXT_MAX], tname[16];
	name_to_text(owner, name, sizeof(name));
	snprintf(why, why_len, "record %s %s: %s", name, rdata_type_name(type, tname, sizeof(tname)),
	         problem);
	return TDM_EMALF;
}

const char *rdata_type_name(uint16_t type, char *buf, size_t size)
{
	const rdata_desc_t *d = rdata_desc(type);
	if (d->name != NULL)
		snprintf(buf, size, "%s", d->name);
	else
		snprintf(buf, size, "TYPE%u", type);
	return buf;
}

int rdata_type_from_text(const char *text)
{
	if (strncasecmp(text, "TYPE", 4) == 0 && text[4] >= '0' && text[4] <= '9') {
		char *end;
		unsigned long v = strtoul(text + 4, &end, 10);
		if (*end == '\0' && v <= 65535)
			return (int)v;
	}
	if (strcasecmp(text, "OPT") == 0)
		return 41;
	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++)
		if (descs[i].name != NULL && strcasecmp(descs[i].name, text) == 0)
			return (int)i;
	return -1;
}
