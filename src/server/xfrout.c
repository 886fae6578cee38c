/* server/xfrout.c -- a transfer out (AXFR or IXFR) on its own thread, from a pinned zone version */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/netwait.h"
#include "lib/thread.h"
#include "query/query.h"
#include "runtime/metrics.h"
#include "server/dispatch.h"
#include "server/peerlimit.h"
#include "server/xfrout.h"
#include "tls/tls.h"
#include "wire/rdata.h"
#include "xfr/net.h"
#include "xfr/out.h"
#include "zone/diff.h"

/*
 * DESIGN. The worker that received the request checked TSIG and the ACL, then gave us the TCP
 * connection: a long transfer never holds up queries. The version being sent is pinned with a
 * reference (not an RCU read section, which would hold every grace period for as long as the
 * transfer takes). An IXFR reads the journal from the store here, off the workers; so are the answers
 * to queries pipelined before the transfer request, which the worker hands over unsent.
 *
 * Bounds: xfr-out-max transfers at once, half of them (at least one) for any one client address (an
 * IPv6 /64); every message, and the answers handed over, must be taken by the client within
 * xfr-timeout seconds, or the transfer ends and its slot is free: a reader that stalls or trickles
 * cannot keep a slot for longer than that per message.
 *
 * A client may ask for several transfers, one after the other, on one connection (RFC 5936 4.1,
 * RFC 7766 6.2.1: a secondary provisioning a catalog's new members asks for each of them so). Once a
 * transfer is through, its slot is freed and the thread waits up to XFROUT_NEXT_WAIT_MS for the next
 * request, which goes through the same checks as on a worker (dispatch_request: TSIG, ACL, the
 * limits above); anything but a transfer is answered and the connection closed. At most xfr-out-max
 * connections wait so at once; past that, a finished transfer closes its connection at once.
 */

#define XFROUT_NEXT_WAIT_MS 1000

static atomic_uint active;   /* transfers out running, over the whole server */
static atomic_uint idle;     /* connections waiting for another transfer request */
static peerlimit_t per_address;

struct xfrout {
	server_t *srv;
	zonert_t *zr;
	zone_contents_t *z;
	int fd;
	tls_conn_t *tls;             /* over TLS (server/xot.c): the connection's thread runs the job */
	sockaddr_t peer;
	peerlimit_ticket_t ticket;
	unsigned timeout_ms;         /* for each message to be taken by the client */
	uint8_t *pending;            /* answers queued before the request, sent first */
	size_t pending_len;
	uint8_t req[PKT_MAXLEN];
	size_t req_len;
	bool signed_req;
	tsig_ctx_t tsig;
	tsig_key_t key;              /* a copy: a reload may free the configuration's */
	uint8_t secret[TSIG_SECRET_MAX];
	uint8_t buf[PKT_MAXLEN];
};

/* Refusals are lines clients cause: through limiters (lib/log.h), a flood logs a few lines. */
static log_limit_t full_lines = LOG_LIMIT_INIT("transfers refused (xfr-out-max)");
static log_limit_t address_lines = LOG_LIMIT_INIT("transfers refused (per address)");

xfrout_t *xfrout_new(server_t *srv, zonert_t *zr, const query_t *q, const sockaddr_t *peer,
                     tsig_ctx_t *tsig)
{
	const conf_server_t *cs = &rcu_dereference(srv->rc)->conf->server;
	unsigned max = cs->xfr_out_max, per = max > 1 ? (max + 1) / 2 : 1;
	peerlimit_ticket_t ticket;
	if (atomic_fetch_add(&active, 1) >= max) {
		atomic_fetch_sub(&active, 1);
		log_limited(&full_lines, LOG_WARN,
		            "%s: transfer refused: %u transfers out already running (xfr-out-max)",
		            zr->name, max);
		return NULL;
	}
	if (!peerlimit_acquire(&per_address, &peer->ss, per, &ticket)) {
		atomic_fetch_sub(&active, 1);
		char addr[SOCKADDR_STRLEN];
		sockaddr_format(peer, addr, sizeof(addr));
		addr[strcspn(addr, "@")] = '\0';
		log_limited(&address_lines, LOG_WARN,
		            "%s: transfer to %s refused: it has %u running (half of xfr-out-max)",
		            zr->name, addr, per);
		return NULL;
	}
	xfrout_t *job = calloc(1, sizeof(*job));
	if (job == NULL) {
		peerlimit_release(&per_address, &ticket);
		atomic_fetch_sub(&active, 1);
		return NULL;
	}
	job->ticket = ticket;
	job->timeout_ms = cs->xfr_timeout * 1000;
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
	peerlimit_release(&per_address, &job->ticket);
	free(job->pending);
	free(job);
	atomic_fetch_sub(&active, 1);
}

unsigned xfrout_running(void)
{
	return atomic_load(&active) + atomic_load(&idle);
}

void xfrout_cancel(xfrout_t *job)
{
	job_free(job);
}

static int64_t deadline_of(const xfrout_t *job)
{
	return clock_us() + (int64_t)job->timeout_ms * 1000;
}

static int send_msg(void *ctx, uint8_t *msg, size_t len, size_t cap, bool last)
{
	xfrout_t *job = ctx;
	if (job->signed_req &&
	    tsig_sign(&job->tsig, msg, &len, cap, (uint64_t)time(NULL)) != TDM_OK)
		return TDM_ERROR;
	/* The whole message within the timeout: taking a few octets at a time does not keep it going. */
	int64_t deadline = deadline_of(job);
	if (job->tls != NULL)
		return tls_write_msg(job->tls, msg, len, deadline);
	uint8_t prefix[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	int ret = netwait_send_all(job->fd, prefix, 2, MSG_MORE, deadline);
	return ret == TDM_OK ? netwait_send_all(job->fd, msg, len, 0, deadline) : ret;
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

/* Runs one transfer and frees the job (its slot too); whether it all went out. Over plain TCP, *keep
 * is then the connection, to wait for another request on (else -1: closed); a TLS connection stays
 * its caller's (server/xot.c), *keep -1. */
static bool serve(xfrout_t *job, int *keep)
{
	*keep = -1;
	struct timespec start;
	start = clock_now();
	pkt_question_t q;
	size_t pos;
	pkt_read_question(job->req, job->req_len, &pos, &q);   /* checked by the worker */
	char addr[SOCKADDR_STRLEN];
	sockaddr_format(&job->peer, addr, sizeof(addr));
	if (job->pending_len > 0 &&
	    netwait_send_all(job->fd, job->pending, job->pending_len, 0, deadline_of(job)) != TDM_OK) {
		log_warn("%s: %s to %s not started: the answers before it were not taken within %u s",
		         job->zr->name, q.qtype == PKT_TYPE_AXFR ? "AXFR" : "IXFR", addr,
		         job->timeout_ms / 1000);
		job_free(job);
		return false;
	}
	free(job->pending);
	job->pending = NULL;
	xfr_out_t x = { .buf = job->buf, .reserve = job->signed_req ? 512 : 0,
	                .id = pkt_id(job->req), .question = &q, .send = send_msg, .ctx = job,
	                .flags = PKT_FLAG_QR | PKT_FLAG_AA };
	/* RFC 7314 4: EXPIRE asked with the transfer goes back with it, as with an SOA query. */
	query_t parsed;
	if (query_parse(job->req, job->req_len, &parsed) && parsed.edns.expire) {
		int64_t at = zone_expire_at(job->zr->zone), now = (int64_t)time(NULL);
		uint16_t rdlen;
		const uint8_t *rd = zone_rrset_first(job->z, zone_soa(job->z), &rdlen);
		x.expire = true;
		x.expire_value = at == 0 ? pkt_get32(rd + rdlen - 8) : (uint32_t)(at > now ? at - now : 0);
	}
	uint32_t client_serial = 0;
	bool known = false;
	const char *kind = stream(job, &x, &client_serial, &known);
	metrics_event(job->srv, q.qtype == PKT_TYPE_AXFR
	                            ? (kind != NULL ? METRICS_XFR_OUT_AXFR_OK : METRICS_XFR_OUT_AXFR_FAILED)
	                            : (kind != NULL ? METRICS_XFR_OUT_IXFR_OK : METRICS_XFR_OUT_IXFR_FAILED));
	if (kind == NULL) {
		log_warn("%s: %s to %s%s failed after %u messages", job->zr->name,
		         q.qtype == PKT_TYPE_AXFR ? "AXFR" : "IXFR", addr, job->tls ? " over TLS" : "",
		         x.messages);
	} else {
		log_info("%s: %s to %s%s serial %u, %zu records, %u messages, %.0f ms", job->zr->name,
		         kind, addr, job->tls ? " over TLS" : "", zone_serial(job->z), x.records,
		         x.messages, clock_ms_since(&start));
		/* Once the transfer is through, the secondary holds what we sent. */
		bool sent = strcmp(kind, "SOA") != 0;
		zonert_peer_seen(job->zr, &job->peer, q.qtype == PKT_TYPE_AXFR ? "axfr" : "ixfr",
		                 sent || known, sent ? zone_serial(job->z) : client_serial,
		                 sent ? kind : NULL);
		*keep = job->fd;
		job->fd = -1;
	}
	job_free(job);
	return kind != NULL;
}

/* Waits for another request on the connection and answers it: the job for a transfer allowed (fd
 * now its own), else NULL with the connection closed (after the answer to anything else). */
static xfrout_t *next_job(server_t *srv, int fd, const sockaddr_t *peer)
{
	rcu_read_lock();
	unsigned max = rcu_dereference(srv->rc)->conf->server.xfr_out_max;
	rcu_read_unlock();
	xfrout_t *job = NULL;
	uint8_t *msg = NULL, *resp = NULL;
	if (atomic_fetch_add(&idle, 1) >= max) {
		atomic_fetch_sub(&idle, 1);
		goto out;
	}
	/* Every message leaves whole (send_msg): the end of one transfer must not wait for an ACK. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	msg = malloc(PKT_MAXLEN);
	resp = malloc(PKT_MAXLEN);
	int n = msg == NULL || resp == NULL ? TDM_ENOMEM
	        : xfrnet_recv_until(fd, SOCK_STREAM, msg, PKT_MAXLEN,
	                            clock_us() + (int64_t)XFROUT_NEXT_WAIT_MS * 1000);
	if (n <= 0 || atomic_load(&srv->shared.stop)) {
		atomic_fetch_sub(&idle, 1);
		goto out;
	}
	query_env_t env = { .identity = srv->shared.identity, .udp_payload = srv->shared.udp_payload,
	                    .cookie_secret = srv->shared.cookie_secret, .client = &peer->ss };
	rcu_read_lock();
	env.zones = rcu_dereference(*srv->shared.zones);
	size_t len = dispatch_request(srv, &env, msg, (size_t)n, resp, PKT_MAXLEN, true, peer, &job);
	unsigned timeout_ms = rcu_dereference(srv->rc)->conf->server.xfr_timeout * 1000;
	rcu_read_unlock();
	atomic_fetch_sub(&idle, 1);
	if (job != NULL) {
		job->fd = fd;
		fd = -1;
	} else if (len > 0) {
		xfrnet_send_until(fd, SOCK_STREAM, resp, len, clock_us() + (int64_t)timeout_ms * 1000);
	}
out:
	if (fd >= 0)
		close(fd);
	free(msg);
	free(resp);
	return job;
}

static void *job_main(void *arg)
{
	xfrout_t *job = arg;
	server_t *srv = job->srv;
	sockaddr_t peer = job->peer;
	rcu_register_thread();
	for (;;) {
		int fd = -1;
		serve(job, &fd);
		if (fd < 0 || (job = next_job(srv, fd, &peer)) == NULL)
			break;
	}
	rcu_unregister_thread();
	return NULL;
}

bool xfrout_run_tls(xfrout_t *job, tls_conn_t *tls)
{
	int keep = -1;
	job->tls = tls;
	return serve(job, &keep);   /* frees the job; the connection stays the caller's */
}

void xfrout_start(xfrout_t *job, int fd, const uint8_t *pending, size_t pending_len)
{
	/* Nothing here may wait for the client: this runs on a worker. The job's thread sends. */
	job->fd = fd;
	if (pending_len > 0) {
		job->pending = malloc(pending_len);
		if (job->pending == NULL) {
			job_free(job);
			return;
		}
		memcpy(job->pending, pending, pending_len);
		job->pending_len = pending_len;
	}
	if (thread_detached(job_main, job) != TDM_OK) {
		log_err("%s: cannot start a transfer thread", job->zr->name);
		job_free(job);
	}
}
