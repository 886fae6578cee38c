/* wire/rdata.c -- rdata descriptors for every type the zone parser knows */
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
