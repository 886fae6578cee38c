/* lib/error.h -- the one error code space of Tandem: 0 is success, errno values negated, own codes from -1000 */
#pragma once

#include <errno.h>

enum {
	TDM_OK = 0,
	TDM_ENOMEM = -ENOMEM,
	TDM_EINVAL = -EINVAL,
	TDM_ENOENT = -ENOENT,
	TDM_EEXIST = -EEXIST,
	TDM_ERANGE = -ERANGE,
	TDM_EIO = -EIO,
	TDM_EAGAIN = -EAGAIN,
	TDM_ETIMEDOUT = -ETIMEDOUT,
	TDM_ECONNREFUSED = -ECONNREFUSED,

	TDM_ERROR = -1000,     /* generic failure */
	TDM_EMALF,             /* malformed wire data */
	TDM_ESPACE,            /* not enough space in the output buffer */
	TDM_ELABEL,            /* bad label (length or type) */
	TDM_ENAMELEN,          /* name longer than 255 octets */
	TDM_ECOMPRESS,         /* bad compression pointer (loop, forward, out of bounds) */
	TDM_ETRAIL,            /* trailing data after the message */
	TDM_ESEMCHECK,         /* a zone failed a semantic check */
	TDM_EPARSE,            /* text could not be parsed */
	TDM_ECONF,             /* configuration error */
	TDM_ESTORE,            /* the store failed */
	TDM_ENOZONE,           /* no such zone */
	TDM_ESCHEMA,           /* store schema is newer than this program */
	TDM_ERCODE,            /* the peer answered with an error rcode */
	TDM_ETSIG_BADSIG,      /* TSIG: the MAC does not verify (RFC 8945 error BADSIG) */
	TDM_ETSIG_BADKEY,      /* TSIG: key or algorithm unknown (BADKEY) */
	TDM_ETSIG_BADTIME,     /* TSIG: time signed outside the fudge (BADTIME) */
	TDM_ETSIG_BADTRUNC,    /* TSIG: MAC truncated more than policy allows (BADTRUNC) */
	TDM_ETSIG_UNSIGNED,    /* TSIG: a message that must be signed is not */
	TDM_ETLS,              /* TLS: a handshake, a certificate check or a record failed */
};

/* A message for any code of this space (errno values through strerror). Never NULL. */
const char *tdm_strerror(int code);
