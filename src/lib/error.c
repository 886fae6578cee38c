/* lib/error.c -- messages for the error code space */
#include <string.h>

#include "lib/error.h"

const char *tdm_strerror(int code)
{
	switch (code) {
	case TDM_OK: return "ok";
	case TDM_ERROR: return "failed";
	case TDM_EMALF: return "malformed data";
	case TDM_ESPACE: return "not enough space";
	case TDM_ELABEL: return "bad label";
	case TDM_ENAMELEN: return "name too long";
	case TDM_ECOMPRESS: return "bad compression pointer";
	case TDM_ETRAIL: return "trailing data";
	case TDM_ESEMCHECK: return "semantic check failed";
	case TDM_EPARSE: return "parse error";
	case TDM_ECONF: return "configuration error";
	case TDM_ESTORE: return "store error";
	case TDM_ENOZONE: return "no such zone";
	case TDM_ESCHEMA: return "store schema is newer than this program";
	case TDM_ERCODE: return "error rcode";
	case TDM_ETSIG_BADSIG: return "TSIG signature does not verify";
	case TDM_ETSIG_BADKEY: return "TSIG key unknown";
	case TDM_ETSIG_BADTIME: return "TSIG time outside the fudge";
	case TDM_ETSIG_BADTRUNC: return "TSIG MAC truncated too much";
	case TDM_ETSIG_UNSIGNED: return "TSIG missing";
	case TDM_ETLS: return "TLS failed";
	}
	if (code < 0 && code > -1000)
		return strerror(-code);
	return "unknown error";
}
