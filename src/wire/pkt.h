/* wire/pkt.h -- DNS messages: header fields, reading records, writing records with name compression */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/name.h"

#define PKT_HEADER_LEN 12
#define PKT_MAXLEN 65535

enum {
	PKT_FLAG_QR = 0x8000, PKT_FLAG_AA = 0x0400, PKT_FLAG_TC = 0x0200,
	PKT_FLAG_RD = 0x0100, PKT_FLAG_RA = 0x0080, PKT_FLAG_AD = 0x0020, PKT_FLAG_CD = 0x0010,
};
enum { PKT_OPCODE_QUERY = 0, PKT_OPCODE_IQUERY = 1, PKT_OPCODE_STATUS = 2, PKT_OPCODE_NOTIFY = 4,
       PKT_OPCODE_UPDATE = 5 };
enum { PKT_RCODE_NOERROR = 0, PKT_RCODE_FORMERR = 1, PKT_RCODE_SERVFAIL = 2, PKT_RCODE_NXDOMAIN = 3,
       PKT_RCODE_NOTIMP = 4, PKT_RCODE_REFUSED = 5, PKT_RCODE_YXDOMAIN = 6, PKT_RCODE_YXRRSET = 7,
       PKT_RCODE_NXRRSET = 8, PKT_RCODE_NOTAUTH = 9, PKT_RCODE_NOTZONE = 10, PKT_RCODE_BADVERS = 16 };
enum { PKT_CLASS_IN = 1, PKT_CLASS_CH = 3, PKT_CLASS_NONE = 254, PKT_CLASS_ANY = 255 };
enum { PKT_TYPE_A = 1, PKT_TYPE_NS = 2, PKT_TYPE_CNAME = 5, PKT_TYPE_SOA = 6, PKT_TYPE_PTR = 12,
       PKT_TYPE_MX = 15, PKT_TYPE_TXT = 16, PKT_TYPE_AAAA = 28, PKT_TYPE_SRV = 33,
       PKT_TYPE_DNAME = 39, PKT_TYPE_OPT = 41, PKT_TYPE_DS = 43, PKT_TYPE_RRSIG = 46,
       PKT_TYPE_NSEC = 47, PKT_TYPE_DNSKEY = 48, PKT_TYPE_NSEC3 = 50, PKT_TYPE_SVCB = 64, PKT_TYPE_HTTPS = 65,
       PKT_TYPE_TSIG = 250, PKT_TYPE_IXFR = 251, PKT_TYPE_AXFR = 252, PKT_TYPE_ANY = 255 };
enum { PKT_SECTION_ANSWER = 0, PKT_SECTION_AUTHORITY = 1, PKT_SECTION_ADDITIONAL = 2 };

static inline uint16_t pkt_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t pkt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void pkt_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void pkt_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Header accessors on a message of at least PKT_HEADER_LEN octets. */
#define pkt_id(m) pkt_get16((m))
#define pkt_flags(m) pkt_get16((m) + 2)
#define pkt_opcode(m) (((m)[2] >> 3) & 0x0F)
#define pkt_rcode(m) ((m)[3] & 0x0F)
#define pkt_qdcount(m) pkt_get16((m) + 4)
#define pkt_ancount(m) pkt_get16((m) + 6)
#define pkt_nscount(m) pkt_get16((m) + 8)
#define pkt_arcount(m) pkt_get16((m) + 10)

/* One record as read from a message. */
typedef struct {
	uint8_t owner[NAME_MAXLEN];  /* uncompressed, case kept */
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	size_t rdata_pos;            /* where the rdata starts in the message (still compressed) */
	size_t start;                /* where the record starts in the message */
} pkt_rr_t;

/* Reads one record at *pos, checking every length, and advances *pos past it. Returns TDM_OK or
 * TDM_EMALF / TDM_ECOMPRESS / TDM_ELABEL / TDM_ENAMELEN. */
int pkt_read_rr(const uint8_t *msg, size_t len, size_t *pos, pkt_rr_t *rr);

/* A parsed question. */
typedef struct {
	uint8_t qname[NAME_MAXLEN];  /* uncompressed, case as in the message */
	int qname_len;
	uint16_t qtype, qclass;
} pkt_question_t;

/* Reads the question at offset 12 (qdcount must be 1), advancing *pos. TDM_OK or TDM_EMALF... */
int pkt_read_question(const uint8_t *msg, size_t len, size_t *pos, pkt_question_t *q);

/*
 * A message being written. Visible so it lives on the caller's stack; use the functions.
 *
 * Compression (RFC 1035 4.1.4): a name reuses the longest suffix already in the message, through a
 * pointer; pointers only go back to names complete before the name being written. The writer keeps up
 * to PKT_COMPRESS_MAX label offsets itself (below PKT_COMPRESS_REACH), searched in order for each
 * suffix, longest first: nothing to set up per message, and the fastest for a UDP answer's few names.
 * A long message (a transfer) is given a table instead (pkt_writer_set_table): every label below
 * PKT_COMPRESS_REACH, each an entry (its offset, the offset of the name after it: 0 for the root) in a
 * hash index; a name is looked up from the root up, one label compare per level, before any of it is
 * written, so it costs one probe per label whatever the message holds.
 */
#define PKT_COMPRESS_MAX 64
#define PKT_COMPRESS_REACH 0x4000   /* a pointer has 14 bits: names past this cannot be pointed at */
typedef struct pkt_ctable pkt_ctable_t;
typedef struct {
	uint8_t *buf;
	size_t cap;        /* how far we may write: set lower than the buffer for UDP limits */
	size_t pos;
	int section;       /* current section */
	uint16_t counts[3];
	uint16_t ncomp;    /* entries, in comp or in table */
	uint16_t comp[PKT_COMPRESS_MAX];   /* offsets of labels */
	pkt_ctable_t *table;               /* NULL: comp */
	bool compress;
} pkt_writer_t;

/* A compression table for long messages (about 64 KiB), reused from message to message. NULL on
 * allocation failure. */
pkt_ctable_t *pkt_ctable_new(void);
void pkt_ctable_free(pkt_ctable_t *t);

/* Gives a writer the table, emptied, for its entries (those in the writer's own arrays move into it;
 * a writer that had a table already starts afresh). The table serves one writer at a time, until that
 * writer is initialised again. */
void pkt_writer_set_table(pkt_writer_t *w, pkt_ctable_t *t);

/* Starts an empty message in buf, of at most cap octets, compression on. */
void pkt_writer_init(pkt_writer_t *w, uint8_t *buf, size_t cap);

/* Writes the header (all counts zero) and the question; registers the qname for compression.
 * TDM_OK or TDM_ESPACE. */
int pkt_write_header(pkt_writer_t *w, uint16_t id, uint16_t flags);
int pkt_write_question(pkt_writer_t *w, const uint8_t *qname, uint16_t qtype, uint16_t qclass);

/* Moves on to a later section (records go into the current one). */
void pkt_begin_section(pkt_writer_t *w, int section);

/* Writes a valid name, compressed when w->compress. TDM_OK or TDM_ESPACE (nothing written then);
 * TDM_EMALF for more than NAME_MAXLABELS labels (no valid name has that many). */
int pkt_write_name(pkt_writer_t *w, const uint8_t *name, bool compress);

/*
 * Writes one record into the current section; names in rdata are compressed where RFC 3597 allows.
 * owner_ptr, when nonzero, is a compression pointer offset to use for the owner instead of the name
 * (a synthesized owner, e.g. the question name). On TDM_ESPACE the message is left as before the call.
 */
int pkt_write_rr(pkt_writer_t *w, const uint8_t *owner, uint16_t owner_ptr, uint16_t type,
                 uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);

/* Finishes: writes the section counts into the header. Returns the message length. */
size_t pkt_writer_finish(pkt_writer_t *w);

/* Rolls back to a previous position (with the compression table and counts as then). */
typedef struct {
	size_t pos;
	uint16_t counts[3];
	uint16_t ncomp;
} pkt_mark_t;
void pkt_mark(const pkt_writer_t *w, pkt_mark_t *m);
void pkt_rollback(pkt_writer_t *w, const pkt_mark_t *m);
