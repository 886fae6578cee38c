/* wire/pkt.c -- reading and writing DNS messages */
#include <stdlib.h>
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

/* ---- writing: the compression table ---- */

/* Entries of a table: every label below PKT_COMPRESS_REACH (each takes at least two octets after the
 * 12 of the header) fits, so a table never fills. */
#define CTABLE_SIZE (PKT_COMPRESS_REACH / 2)
#define CTABLE_BUCKETS 4096
/* Entries looked at per lookup in a table: labels chosen to collide in the hash cost compression, not
 * time. */
#define CTABLE_PROBES 32

struct pkt_ctable {
	uint16_t head[CTABLE_BUCKETS];   /* entry index + 1 of the newest entry of a bucket; 0: none */
	uint16_t chain[CTABLE_SIZE];     /* the entry index + 1 before it in the same bucket; 0: none */
	uint16_t bucket[CTABLE_SIZE];
	uint16_t off[CTABLE_SIZE];
	uint16_t next[CTABLE_SIZE];
	/* The last owner written and where each of its suffixes is (0: nowhere a pointer can reach), so
	 * that the next owner -- in a transfer the same name or a sibling -- takes the suffixes they share
	 * without a lookup. owner_labels 0: nothing known (a new message, or entries rolled back). */
	int owner_labels;
	size_t owner_len;
	uint8_t owner[NAME_MAXLEN];
	uint8_t owner_label[NAME_MAXLABELS];   /* offset of each label in owner */
	uint16_t owner_at[NAME_MAXLABELS];
};

pkt_ctable_t *pkt_ctable_new(void)
{
	return calloc(1, sizeof(pkt_ctable_t));
}

void pkt_ctable_free(pkt_ctable_t *t)
{
	free(t);
}

/* Case-insensitive equality of two labels (length octet first). A loop, not memcmp: labels are
 * short, and the call cost more than the compare in a profile of UDP answers. */
static bool label_equal(const uint8_t *a, const uint8_t *b)
{
	if (a[0] != b[0])
		return false;
	for (int i = 1; i <= a[0]; i++)
		if (a[i] != b[i] && name_lower(a[i]) != name_lower(b[i]))
			return false;
	return true;
}

/*
 * The bucket of a label followed by the name at next. Eight octets at a time, each ORed with 0x20:
 * that maps A-Z to a-z and leaves every other octet's folding the same on both sides, so labels equal
 * without regard to case always share a bucket (a few others, '@' and '`' say, do too: only a
 * collision).
 */
static unsigned label_bucket(uint16_t next, const uint8_t *label)
{
	const uint64_t k = 0x9E3779B97F4A7C15u, fold = 0x2020202020202020u;
	uint64_t h = ((uint64_t)next << 8 | label[0]) * k;
	const uint8_t *p = label + 1;
	size_t n = label[0];
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		h = (h ^ (v | fold)) * k;
		h ^= h >> 29;
	}
	if (n > 0) {
		uint64_t v = 0;
		for (size_t i = 0; i < n; i++)   /* not memcpy: a call for a length not known here */
			v |= (uint64_t)p[i] << (8 * i);
		h = (h ^ (v | fold)) * k;
	}
	h ^= h >> 32;
	return (unsigned)(h ^ h >> 16) & (CTABLE_BUCKETS - 1);
}

static void table_add(pkt_ctable_t *t, uint16_t i, uint16_t off, uint16_t next, unsigned b)
{
	t->off[i] = off;
	t->next[i] = next;
	t->bucket[i] = (uint16_t)b;
	t->chain[i] = t->head[b];
	t->head[b] = (uint16_t)(i + 1);
}

/* Registers the label written at off, followed by the name at next (0: the root). bucket is the
 * label's when known (a lookup just missed it), else -1. */
static void comp_add(pkt_writer_t *w, uint16_t off, uint16_t next, int bucket)
{
	if (w->ncomp < CTABLE_SIZE)
		table_add(w->table, w->ncomp++, off, next,
		          bucket >= 0 ? (unsigned)bucket : label_bucket(next, w->buf + off));
}

/* Offset of an entry for label followed by the name at next, or 0; *bucket: the label's bucket. */
static uint16_t comp_find(const pkt_writer_t *w, uint16_t next, const uint8_t *label, int *bucket)
{
	const pkt_ctable_t *t = w->table;
	unsigned b = label_bucket(next, label);
	*bucket = (int)b;
	unsigned i = t->head[b];
	for (int probes = 0; i != 0 && probes < CTABLE_PROBES; i = t->chain[i - 1], probes++)
		if (t->next[i - 1] == next && label_equal(w->buf + t->off[i - 1], label))
			return t->off[i - 1];
	return 0;
}

/* Forgets the entries from n on (newest first, so each bucket's head is what it was). */
static void comp_truncate(pkt_writer_t *w, uint16_t n)
{
	if (n >= w->ncomp)
		return;
	if (w->table != NULL) {
		for (uint16_t i = w->ncomp; i > n; i--)
			w->table->head[w->table->bucket[i - 1]] = w->table->chain[i - 1];
		w->table->owner_labels = 0;
	}
	w->ncomp = n;
}

/* The offset of the name after the label at off, as an entry records it: where a pointer after the
 * label leads, 0 for the root, else the next label. */
static uint16_t after_label(const uint8_t *buf, uint16_t off)
{
	size_t p = (size_t)off + 1 + buf[off];
	if ((buf[p] & 0xC0) == 0xC0)
		return (uint16_t)(pkt_get16(buf + p) & 0x3FFF);
	return buf[p] == 0 ? 0 : (uint16_t)p;
}

void pkt_writer_set_table(pkt_writer_t *w, pkt_ctable_t *t)
{
	memset(t->head, 0, sizeof(t->head));
	t->owner_labels = 0;
	uint16_t n = w->table == NULL ? w->ncomp : 0;
	w->ncomp = 0;
	w->table = t;
	for (uint16_t i = 0; i < n; i++) {
		uint16_t next = after_label(w->buf, w->comp[i]);
		table_add(t, w->ncomp++, w->comp[i], next, label_bucket(next, w->buf + w->comp[i]));
	}
}

/* ---- writing ---- */

void pkt_writer_init(pkt_writer_t *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->pos = 0;
	w->section = PKT_SECTION_ANSWER;
	w->counts[0] = w->counts[1] = w->counts[2] = 0;
	w->ncomp = 0;
	w->table = NULL;
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

/* The suffixes the name shares with the last owner: lowers *j and sets *at as a lookup would. The
 * octets both names end with are counted once; a label of the name and one of the owner at the same
 * distance from the end, within those octets, start the same suffix. */
static void owner_shared(const pkt_ctable_t *t, const uint8_t *name, size_t name_len,
                         const uint8_t *const *label, int *j, uint16_t *at, uint16_t *found)
{
	size_t n = name_len < t->owner_len ? name_len : t->owner_len, same = 0;
	const uint8_t *a = name + name_len, *b = t->owner + t->owner_len;
	for (uint64_t x, y; same + 8 <= n; same += 8) {
		memcpy(&x, a - same - 8, 8);
		memcpy(&y, b - same - 8, 8);
		if (x != y)
			break;
	}
	while (same < n && a[-1 - (ptrdiff_t)same] == b[-1 - (ptrdiff_t)same])
		same++;
	for (int i = t->owner_labels; *j > 0 && i > 0; i--) {
		size_t da = name_len - (size_t)(label[*j - 1] - name), db = t->owner_len - t->owner_label[i - 1];
		if (da != db || da > same || t->owner_at[i - 1] == 0)
			return;
		*at = found[*j - 1] = t->owner_at[i - 1];
		(*j)--;
	}
}

/* Copies a few octets (a label, a name). memcpy with a length known only here compiled to "rep movs",
 * whose start-up cost was a quarter of writing a transfer's owner names in a profile, and 40% of writing a UDP answer's names. */
static void copy_short(uint8_t *dst, const uint8_t *src, size_t n)
{
	for (; n >= 8; dst += 8, src += 8, n -= 8)
		memcpy(dst, src, 8);
	while (n-- > 0)
		*dst++ = *src++;
}

static void owner_remember(pkt_ctable_t *t, const uint8_t *name, size_t name_len,
                           const uint8_t *const *label, int k, const uint16_t *found)
{
	copy_short(t->owner, name, name_len);
	t->owner_len = name_len;
	for (int i = 0; i < k; i++) {
		t->owner_label[i] = (uint8_t)(label[i] - name);
		t->owner_at[i] = found[i];
	}
	t->owner_labels = k;
}

/* ---- names: the writer's own entries, searched in order ---- */

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

/* A short message (a UDP answer): a few names, each suffix compared with the few entries, longest
 * first, so a name already there (the usual case) is found at once. Measured faster than the label
 * lookup below for such answers. */
static int write_name_linear(pkt_writer_t *w, const uint8_t *name, bool compress)
{
	size_t start = w->pos;
	uint16_t ncomp = w->ncomp;
	const uint8_t *p = name;
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
		if (w->pos < PKT_COMPRESS_REACH && w->ncomp < PKT_COMPRESS_MAX)
			w->comp[w->ncomp++] = (uint16_t)w->pos;
		copy_short(w->buf + w->pos, p, n);
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

/* ---- names: the table of a long message ---- */

/*
 * A sibling of the last owner (the same labels after a first label of the same length: the next name
 * of a transfer, most of the time): only that first label is new, and the rest is where the owner's
 * was. Returns 1 when it wrote the name, 0 when the name is not such a sibling, or TDM_ESPACE.
 */
static int write_sibling(pkt_writer_t *w, const uint8_t *name)
{
	pkt_ctable_t *t = w->table;
	if (t->owner_labels < 2 || t->owner_at[1] == 0 || name[0] == 0 || name[0] != t->owner[0])
		return 0;
	/* First the length octets, where the owner has them, in order: each one equal proves the name
	 * has the octets up to the next, so nothing is read past the name's end. Then the name has the n
	 * octets of the owner's suffix, compared eight at a time. */
	size_t a = 1 + (size_t)name[0], b = t->owner_label[1], n = t->owner_len - b;
	for (int i = 1; i < t->owner_labels; i++)
		if (name[a + t->owner_label[i] - b] != t->owner[t->owner_label[i]])
			return 0;
	if (name[a + n - 1] != 0)
		return 0;
	size_t i = 0;
	for (uint64_t x, y; i + 8 <= n; i += 8) {
		memcpy(&x, name + a + i, 8);
		memcpy(&y, t->owner + b + i, 8);
		if (x != y)
			return 0;
	}
	for (; i < n; i++)
		if (name[a + i] != t->owner[b + i])
			return 0;
	uint16_t at = t->owner_at[1];
	int bucket;
	uint16_t off = comp_find(w, at, name, &bucket);
	size_t need = off != 0 ? 2 : a + 2;
	if (w->pos > w->cap || need > w->cap - w->pos)
		return TDM_ESPACE;
	if (off != 0) {
		pkt_put16(w->buf + w->pos, (uint16_t)(0xC000 | off));
	} else {
		copy_short(w->buf + w->pos, name, a);
		pkt_put16(w->buf + w->pos + a, (uint16_t)(0xC000 | at));
		if (w->pos < PKT_COMPRESS_REACH) {
			off = (uint16_t)w->pos;
			comp_add(w, off, at, bucket);
		}
	}
	w->pos += need;
	copy_short(t->owner + 1, name + 1, name[0]);
	t->owner_at[0] = off;
	return 1;
}

/*
 * The name's labels [0, j) go out as they are, then a pointer to the suffix [j, k) found at `at`, or
 * (nothing found, or compression off) the rest of the name. New labels are registered only when what
 * follows them is the copy the lookups find (always, when compressing; when not, only if no suffix
 * was found), so each suffix has one entry and the lookup from the root up finds it.
 */
static int write_name(pkt_writer_t *w, const uint8_t *name, bool compress, bool owner)
{
	compress = compress && w->compress;
	if (w->table == NULL)
		return write_name_linear(w, name, compress);
	owner = owner && compress;
	int ret;
	if (owner && (ret = write_sibling(w, name)) != 0)
		return ret < 0 ? ret : TDM_OK;
	const uint8_t *label[NAME_MAXLABELS];
	uint16_t found[NAME_MAXLABELS];   /* where the suffix from each label is: 0 = not pointable */
	int k = 0;
	const uint8_t *p = name;
	/* A valid name has at most 127 labels; the bound only keeps a broken one inside the array. */
	while (*p != 0 && k < NAME_MAXLABELS) {
		label[k++] = p;
		p += 1 + *p;
	}
	if (*p != 0)
		return TDM_EMALF;
	size_t name_len = (size_t)(p - name) + 1;
	const pkt_ctable_t *t = w->table;
	if (owner && t->owner_labels > 0 && t->owner_at[0] != 0 && name_len == t->owner_len &&
	    memcmp(name, t->owner, name_len) == 0) {   /* the same owner again */
		if (w->pos > w->cap || 2 > w->cap - w->pos)
			return TDM_ESPACE;
		pkt_put16(w->buf + w->pos, (uint16_t)(0xC000 | t->owner_at[0]));
		w->pos += 2;
		return TDM_OK;
	}
	uint16_t at = 0;
	int j = k, bucket = -1;
	/* The suffix shared with the last owner is where the owner's was: for an owner, and as much for a
	 * name in its rdata (an NS or MX target below it, glue's name), without a lookup per label. */
	if (compress)
		owner_shared(t, name, name_len, label, &j, &at, found);
	while (j > 0) {
		uint16_t off = comp_find(w, at, label[j - 1], &bucket);
		if (off == 0)
			break;
		at = found[j - 1] = off;
		j--;
		bucket = -1;
	}
	bool pointer = compress && at != 0;
	size_t head = (size_t)((j < k ? label[j] : p) - name);
	size_t need = pointer ? head + 2 : name_len;
	if (w->pos > w->cap || need > w->cap - w->pos)
		return TDM_ESPACE;
	size_t start = w->pos;
	copy_short(w->buf + start, name, pointer ? head : name_len);
	for (int i = 0; i < j; i++)
		found[i] = 0;
	if (compress || j == k)
		for (int i = 0; i < j; i++) {
			size_t off = start + (size_t)(label[i] - name);
			size_t next = i + 1 < j ? start + (size_t)(label[i + 1] - name) : at;
			if (off >= PKT_COMPRESS_REACH || next >= PKT_COMPRESS_REACH)
				break;   /* and so are the labels after it */
			/* the last new label was looked up with the same next: its bucket is known */
			comp_add(w, (uint16_t)off, (uint16_t)next, i + 1 == j ? bucket : -1);
			found[i] = (uint16_t)off;
		}
	if (pointer)
		pkt_put16(w->buf + start + head, (uint16_t)(0xC000 | at));
	w->pos = start + need;
	if (owner)
		owner_remember(w->table, name, name_len, label, k, found);
	return TDM_OK;
}

int pkt_write_name(pkt_writer_t *w, const uint8_t *name, bool compress)
{
	return write_name(w, name, compress, false);
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
	if (type == PKT_TYPE_A || type == PKT_TYPE_AAAA) {
		/* No names in them: the octets as they are, what the walk below would write, without it
		 * (the commonest records of a transfer). The fixed sizes let memcpy be inlined. */
		if (w->pos > w->cap || rdlen > w->cap - w->pos)
			return TDM_ESPACE;
		if (rdlen == 4)
			memcpy(w->buf + w->pos, rdata, 4);
		else if (rdlen == 16)
			memcpy(w->buf + w->pos, rdata, 16);
		else
			memcpy(w->buf + w->pos, rdata, rdlen);
		w->pos += rdlen;
		return TDM_OK;
	}
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
	} else if ((ret = write_name(w, owner, true, true)) != TDM_OK) {
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
	comp_truncate(w, m->ncomp);
}
