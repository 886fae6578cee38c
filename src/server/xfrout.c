/* server/xfrout.c -- a transfer out (AXFR or IXFR) on its own thread, from a pinned zone version */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/thread.h"
#include "wire/rdata.h"
#include "server/xfrout.h"
#include "xfr/net.h"
#include "xfr/out.h"
#include "zone/diff.h"

/*
 * DESIGN. The worker that received the request checked TSIG and the ACL, then gave us the TCP
 * connection: a long transfer never holds up queries. The version being sent is pinned with a
 * reference (not an RCU read section, which would hold every grace period for as long as the
 * transfer takes). An IXFR reads the journal from the store here, off the workers.
 */

#define XFR_SEND_TIMEOUT_MS 30000

static atomic_uint active;   /* transfers out running, over the whole server */

struct xfrout {
	server_t *srv;
	zonert_t *zr;
	zone_contents_t *z;
	int fd;
	sockaddr_t peer;
	uint8_t req[PKT_MAXLEN];
	size_t req_len;
	bool signed_req;
	tsig_ctx_t tsig;
	tsig_key_t key;              /* a copy: a reload may free the configuration's */
	uint8_t secret[TSIG_SECRET_MAX];
	uint8_t buf[PKT_MAXLEN];
};

xfrout_t *xfrout_new(server_t *srv, zonert_t *zr, const query_t *q, const sockaddr_t *peer,
                     tsig_ctx_t *tsig)
{
	unsigned max = rcu_dereference(srv->rc)->conf->server.xfr_out_max;
	if (atomic_fetch_add(&active, 1) >= max) {
		atomic_fetch_sub(&active, 1);
		log_warn("%s: transfer refused: %u transfers out already running", zr->name, max);
		return NULL;
	}
	xfrout_t *job = calloc(1, sizeof(*job));
	if (job == NULL) {
		atomic_fetch_sub(&active, 1);
		return NULL;
	}
	job->srv = srv;
	job->zr = zr;
	zone_ref(zr->zone);
	job->z = zone_contents(zr->zone);
	zone_contents_ref(job->z);
	job->peer = *peer;
	memcpy(job->req, q->msg, q->len);
	job->req_len = q->len;
	job->fd = -1;
	if (tsig != NULL && tsig->key != NULL && tsig->key->secret_len <= sizeof(job->secret)) {
		job->signed_req = true;
		tsig_ctx_move(&job->tsig, tsig);   /* takes over its HMAC object */
		job->key = *tsig->key;
		memcpy(job->secret, tsig->key->secret, tsig->key->secret_len);
		job->key.secret = job->secret;
		job->tsig.key = &job->key;
	}
	return job;
}

static void job_free(xfrout_t *job)
{
	if (job->fd >= 0)
		close(job->fd);
	if (job->signed_req)
		tsig_ctx_clear(&job->tsig);
	zone_contents_unref(job->z);
	zone_unref(job->zr->zone);
	free(job);
	atomic_fetch_sub(&active, 1);
}

unsigned xfrout_running(void)
{
	return atomic_load(&active);
}

void xfrout_cancel(xfrout_t *job)
{
	job_free(job);
}

static int send_msg(void *ctx, uint8_t *msg, size_t len, size_t cap, bool last)
{
	xfrout_t *job = ctx;
	if (job->signed_req &&
	    tsig_sign(&job->tsig, msg, &len, cap, (uint64_t)time(NULL)) != TDM_OK)
		return TDM_ERROR;
	return xfrnet_send(job->fd, SOCK_STREAM, msg, len, XFR_SEND_TIMEOUT_MS);
}

/* The serial of the requester's SOA in an IXFR's authority section (RFC 1995 3), or false. */
static bool ixfr_serial(const uint8_t *msg, size_t len, rr_t *soa, uint8_t *owner,
                        uint8_t *rdata)
{
	size_t pos;
	pkt_question_t q;
	if (pkt_read_question(msg, len, &pos, &q) != TDM_OK || pkt_ancount(msg) != 0 ||
	    pkt_nscount(msg) != 1)
		return false;
	pkt_rr_t rr;
	if (pkt_read_rr(msg, len, &pos, &rr) != TDM_OK || rr.type != PKT_TYPE_SOA)
		return false;
	int n = rdata_unpack(msg, len, rr.rdata_pos, rr.rdlen, PKT_TYPE_SOA, rdata, NAME_MAXLEN * 2 + 20);
	if (n < 22)
		return false;
	name_copy_lower(owner, rr.owner);
	*soa = (rr_t){ .owner = owner, .rdata = rdata, .rdlen = (uint16_t)n, .ttl = rr.ttl,
	               .type = PKT_TYPE_SOA };
	return true;
}

typedef struct {
	xfr_condense_t *condense;
	uint32_t last;               /* serial the entries read so far lead to */
	rrlist_t *old_soa;           /* the first entry's removed SOA: the old version's own */
} journal_walk_t;

static int condense_entry(void *ctx, uint32_t from, uint32_t to, rrlist_t *removed,
                          rrlist_t *added)
{
	journal_walk_t *walk = ctx;
	for (size_t i = 0; rrlist_count(walk->old_soa) == 0 && i < rrlist_count(removed); i++) {
		const rr_t *rr = rrlist_at(removed, i);
		if (rr->type == PKT_TYPE_SOA &&
		    rrlist_add(walk->old_soa, rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, 0))
			return TDM_ENOMEM;
	}
	int ret = xfr_condense_add(walk->condense, removed, added);
	rrlist_free(removed);
	rrlist_free(added);
	walk->last = to;
	(void)from;
	return ret;
}

/* RFC 1995 4: the changes from the requester's serial to ours, condensed; false when the journal
 * cannot give them (the caller sends the whole zone instead). */
static bool journal_diff(xfrout_t *job, uint32_t from, rrlist_t *removed, rrlist_t *added,
                         rrlist_t *old_soa)
{
	journal_walk_t walk = { .condense = xfr_condense_new(), .last = from, .old_soa = old_soa };
	bool ok = walk.condense != NULL &&
	          store_journal_read(job->srv->store, job->zr->name, from, condense_entry, &walk) ==
	                  TDM_OK &&
	          walk.last == zone_serial(job->z) && rrlist_count(old_soa) == 1 &&
	          xfr_condense_finish(walk.condense, removed, added) == TDM_OK;
	xfr_condense_free(walk.condense);
	return ok;
}

/* Sends the answer; returns what was sent ("AXFR", "IXFR", "SOA") or NULL on failure. */
static const char *stream(xfrout_t *job, xfr_out_t *x, uint32_t *client_serial, bool *known)
{
	const char *kind = NULL;
	rr_t soa;
	uint8_t owner[NAME_MAXLEN], rdata[NAME_MAXLEN * 2 + 20];
	*known = false;
	if (x->question->qtype == PKT_TYPE_IXFR && ixfr_serial(job->req, job->req_len, &soa, owner,
	                                                       rdata)) {
		*client_serial = pkt_get32(soa.rdata + soa.rdlen - 20);
		*known = true;
		if (serial_cmp(*client_serial, zone_serial(job->z)) >= 0)
			return xfr_out_soa_only(x, job->z) == TDM_OK ? "SOA" : NULL;
		/* RFC 1995 4: the old SOA is the old version's, as journaled, not the requester's copy. */
		rrlist_t *removed = rrlist_new(), *added = rrlist_new(), *old_soa = rrlist_new();
		if (removed != NULL && added != NULL && old_soa != NULL &&
		    journal_diff(job, *client_serial, removed, added, old_soa))
			kind = xfr_out_ixfr(x, job->z, rrlist_at(old_soa, 0), removed, added) == TDM_OK
			       ? "IXFR" : NULL;
		rrlist_free(removed);
		rrlist_free(added);
		rrlist_free(old_soa);
		if (kind != NULL || x->messages > 0)
			return kind;
	}
	/* AXFR, or an IXFR whose history we lack: the whole zone (RFC 1995 4). */
	return xfr_out_axfr(x, job->z) == TDM_OK ? "AXFR" : NULL;
}

static double ms_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1000.0 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static void *job_main(void *arg)
{
	xfrout_t *job = arg;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	pkt_question_t q;
	size_t pos;
	pkt_read_question(job->req, job->req_len, &pos, &q);   /* checked by the worker */
	xfr_out_t x = { .buf = job->buf, .reserve = job->signed_req ? 512 : 0,
	                .id = pkt_id(job->req), .question = &q, .send = send_msg, .ctx = job,
	                .flags = PKT_FLAG_QR | PKT_FLAG_AA };
	uint32_t client_serial = 0;
	bool known = false;
	const char *kind = stream(job, &x, &client_serial, &known);
	char addr[SOCKADDR_STRLEN];
	sockaddr_format(&job->peer, addr, sizeof(addr));
	if (kind == NULL) {
		log_warn("%s: %s to %s failed after %u messages", job->zr->name,
		         q.qtype == PKT_TYPE_AXFR ? "AXFR" : "IXFR", addr, x.messages);
	} else {
		log_info("%s: %s to %s serial %u, %zu records, %u messages, %.0f ms", job->zr->name,
		         kind, addr, zone_serial(job->z), x.records, x.messages, ms_since(&start));
		/* Once the transfer is through, the secondary holds what we sent. */
		bool sent = strcmp(kind, "SOA") != 0;
		zonert_peer_seen(job->zr, &job->peer, q.qtype == PKT_TYPE_AXFR ? "axfr" : "ixfr",
		                 sent || known, sent ? zone_serial(job->z) : client_serial,
		                 sent ? kind : NULL);
	}
	job_free(job);
	return NULL;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w <= 0)
			return TDM_EIO;
		p += w;
		len -= (size_t)w;
	}
	return TDM_OK;
}

void xfrout_start(xfrout_t *job, int fd, const uint8_t *pending, size_t pending_len)
{
	job->fd = fd;
	/* Blocking from now on, with a bound on every write: a reader that stalls is dropped. */
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	struct timeval tv = { .tv_sec = XFR_SEND_TIMEOUT_MS / 1000 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (pending_len > 0 && write_all(fd, pending, pending_len) != TDM_OK) {
		job_free(job);
		return;
	}
	if (thread_detached(job_main, job) != TDM_OK) {
		log_err("%s: cannot start a transfer thread", job->zr->name);
		job_free(job);
	}
}
