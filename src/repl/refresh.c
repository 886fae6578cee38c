/* repl/refresh.c -- keeping a secondary zone current: SOA check, then IXFR, AXFR as a fallback */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "change/change.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/netwait.h"
#include "lib/thread.h"
#include "repl/refresh.h"
#include "runtime/inbox.h"
#include "runtime/metrics.h"
#include "runtime/tlsctx.h"
#include "runtime/zoneload.h"
#include "xfr/in.h"
#include "zone/diff.h"

/*
 * One refresh of a secondary zone (RFC 1034 4.3.5, RFC 1995, RFC 5936), on its own thread:
 *
 *   SOA query to every primary address, in order --none answered--> failed: retry later
 *        | the highest serial wins (RFC 1982 comparison)
 *        v
 *   not newer than ours? --> up to date: timers restart
 *        v
 *   IXFR from that primary --fails in any way--> AXFR from it --fails--> failed: retry later
 *        v                                         v
 *   apply the change to our version          the whole zone
 *        v                                         v
 *   commit to the store (contents + journal entry, one transaction), then publish, then NOTIFY
 *
 * The job works from copies of the configuration it needs (a reload may replace it meanwhile) and
 * reports back to the control thread, which owns the timers. It is bounded: every message must come
 * within xfr-timeout, the whole job within xfr-max-time, a transfer may bring at most the zone's
 * max-zone-records and max-zone-size; past any of them it fails, its memory is freed and its slot
 * among the primary's jobs goes to the next zone waiting (as BIND's max-transfer-time-in, Knot's
 * zone-max-size).
 */

#define MAX_PRIMARY_ADDRS 16

/* One address of the zone's primaries, as a job tries it. */
typedef struct {
	sockaddr_t addr;
	tsig_key_t key;              /* its secret among the job's own octets (job_new) */
	bool has_key;
	tls_client_t *tls;           /* a reference; NULL = plain */
} job_primary_t;

/* A job is sized to its zone's primaries and their keys' secrets: a catalog's first provisioning makes
 * one for each of 100,000 members at once, and with room for 16 addresses and 16 secrets of the
 * longest length each (23 KiB) zeroing them was a sixth of the control thread's time. */
typedef struct {
	server_t *srv;
	zonert_t *zr;
	uint8_t apex[NAME_MAXLEN];
	size_t naddrs;
	sockaddr_t src4, src6;
	unsigned timeout_ms, journal_max;
	bool force_axfr;
	bool catalog;                /* a catalog we consume: its members follow each new version */
	uint32_t refresh_min, refresh_max, retry_min, retry_max, expire_min, expire_max;
	unsigned max_time;           /* seconds the whole job may take (xfr-max-time) */
	int64_t deadline;            /* clock_us() units, set when the job starts */
	uint64_t max_records, max_bytes;
	job_primary_t primaries[];   /* naddrs of them, then their keys' secrets */
} job_t;

/* The key of a primary, when a job can hold it (the configuration refuses longer secrets anyway). */
static const tsig_key_t *key_of(server_t *srv, const conf_remote_t *r)
{
	const tsig_key_t *key = runconf_key(srv->rc, r->key);
	return key != NULL && key->secret_len <= TSIG_SECRET_MAX ? key : NULL;
}

/* Control thread: what the job needs, copied out of the configuration in force. */
static job_t *job_new(server_t *srv, zonert_t *zr)
{
	const conf_t *conf = srv->rc->conf;
	const conf_zone_t *cz = zr->conf;
	size_t n = 0, octets = 0;   /* addresses (at most MAX_PRIMARY_ADDRS) and their secrets' octets */
	for (size_t i = 0; i < cz->primary_count; i++) {
		const tsig_key_t *key = key_of(srv, cz->primaries[i]);
		for (size_t j = 0; j < cz->primaries[i]->address_count && n < MAX_PRIMARY_ADDRS; j++, n++)
			octets += key != NULL ? key->secret_len : 0;
	}
	job_t *job = calloc(1, sizeof(*job) + n * sizeof(job_primary_t) + octets);
	if (job == NULL)
		return NULL;
	uint8_t *secret = (uint8_t *)(job->primaries + n);
	job->srv = srv;
	job->zr = zr;
	name_copy_lower(job->apex, zone_name(zr->zone));
	for (size_t i = 0; i < cz->primary_count; i++) {
		const conf_remote_t *r = cz->primaries[i];
		const tsig_key_t *key = key_of(srv, r);
		for (size_t j = 0; j < r->address_count && job->naddrs < n; j++) {
			job_primary_t *p = &job->primaries[job->naddrs];
			*p = (job_primary_t){ .addr = r->addresses[j] };
			/* RFC 9103: a TLS remote is only ever reached over TLS, even if its context is missing. */
			if (r->tls != NULL && (p->tls = tlsctx_client(srv->tls, r->tls)) == NULL)
				continue;
			if (key != NULL) {
				p->key = *key;
				memcpy(secret, key->secret, key->secret_len);
				p->key.secret = secret;
				secret += key->secret_len;
				p->has_key = true;
			}
			job->naddrs++;
		}
	}
	job->src4 = conf->server.source4;
	job->src6 = conf->server.source6;
	job->timeout_ms = conf->server.xfr_timeout * 1000;
	job->force_axfr = zr->force_axfr;
	job->catalog = cz->catalog == CONF_CATALOG_CONSUME;
	zr->force_axfr = false;
	job->journal_max = conf->server.journal_max_entries;
	job->refresh_min = conf->server.refresh_min;
	job->refresh_max = conf->server.refresh_max;
	job->retry_min = conf->server.retry_min;
	job->retry_max = conf->server.retry_max;
	job->expire_min = conf->server.expire_min;
	job->expire_max = conf->server.expire_max;
	job->max_time = conf->server.xfr_max_time;
	job->max_records = cz->max_zone_records ? cz->max_zone_records : conf->server.max_zone_records;
	job->max_bytes = cz->max_zone_size ? cz->max_zone_size : conf->server.max_zone_size;
	return job;
}

static void job_free(job_t *job)
{
	for (size_t i = 0; i < job->naddrs; i++)
		tls_client_unref(job->primaries[i].tls);
	free(job);
}

static xfr_peer_t peer_of(const job_t *job, size_t i)
{
	const job_primary_t *p = &job->primaries[i];
	const sockaddr_t *src = sockaddr_family(&p->addr) == AF_INET6 ? &job->src6 : &job->src4;
	return (xfr_peer_t){ .zone = job->apex, .primary = &p->addr, .source = src,
	                     .key = p->has_key ? &p->key : NULL, .tls = p->tls,
	                     .timeout_ms = job->timeout_ms, .deadline = job->deadline,
	                     .max_records = job->max_records, .max_bytes = job->max_bytes };
}

static uint32_t clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Up to a tenth less, so that zones loaded together do not refresh together. */
static int64_t jitter(uint32_t seconds)
{
	uint32_t r = 0;
	if (seconds >= 10 && getrandom(&r, sizeof(r), 0) == sizeof(r))
		return (int64_t)seconds - (int64_t)(r % (seconds / 10 + 1));
	return seconds;
}

/* SOA field at offset from the end of the rdata (RFC 1035 3.3.13). */
static uint32_t soa_field(const zone_contents_t *z, int from_end)
{
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(z, zone_soa(z), &rdlen);
	return pkt_get32(rd + rdlen - from_end);
}

/* The timers after a good refresh: the zone's SOA, clamped; EDNS EXPIRE when the primary sent it. */
static void timers_ok(const job_t *job, const zone_contents_t *z, const xfr_result_t *r,
                      store_state_t *st)
{
	int64_t now = (int64_t)time(NULL);
	uint32_t expire = r->has_expire ? r->expire : soa_field(z, 8);
	st->refresh_at = now + jitter(clamp(soa_field(z, 16), job->refresh_min, job->refresh_max));
	/* RFC 7314 4: the EXPIRE option's value stands in for the SOA's expire -- within the same clamps:
	 * a primary answering 0 (or a spoofed answer) must not expire the zone at once. */
	st->expire_at = now + clamp(expire, job->expire_min, job->expire_max);
	st->last_refresh = now;
}

static void set_result(store_state_t *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->last_result, sizeof(st->last_result), fmt, ap);
	va_end(ap);
}

/* Asks every primary address for the SOA; the index of the one with the highest serial, or -1. Its
 * EDNS EXPIRE (RFC 7314), when it answered one, goes to *expire (has_expire set). */
static int best_primary(const job_t *job, uint32_t *serial, bool *has_expire, uint32_t *expire,
                        char *why, size_t why_len)
{
	int best = -1;
	why[0] = '\0';
	for (size_t i = 0; i < job->naddrs; i++) {
		xfr_peer_t peer = peer_of(job, i);
		xfr_result_t r;
		uint32_t s;
		char addr[SOCKADDR_STRLEN];
		if (xfr_soa_query(&peer, &s, &r) != TDM_OK) {
			log_info("%s: SOA query to %s failed (%s)", job->zr->name,
			         sockaddr_format(&job->primaries[i].addr, addr, sizeof(addr)), r.error);
			snprintf(why, why_len, "SOA query to %.60s: %.80s", addr, r.error);
			continue;
		}
		if (best < 0 || serial_cmp(s, *serial) > 0) {
			best = (int)i;
			*serial = s;
			*has_expire = r.has_expire;
			*expire = r.expire;
		}
	}
	return best;
}

/* The new version from a whole zone transferred; list gets the records to store. */
static int build(const job_t *job, const zone_contents_t *current, const xfr_result_t *r,
                 rrlist_t **list, zone_contents_t **out)
{
	*list = r->records;
	int ret = zone_contents_build(job->apex, *list, out);
	if (ret == TDM_OK && zone_serial(*out) != r->serial) {
		zone_contents_free(*out);
		*out = NULL;
		ret = TDM_EMALF;
	}
	/* A whole zone is checked (a warning, never a refusal); an IXFR costs what it changes. */
	if (ret == TDM_OK)
		zoneload_dnssec_warnings(job->zr->name, *out);
	return ret;
}

/* Commits the new version with its journal entry, then publishes it. */
static int commit(job_t *job, const zone_contents_t *current, rrlist_t *list,
                  zone_contents_t *z, const xfr_result_t *r)
{
	store_zone_meta_t meta = { .serial = zone_serial(z), .updated = (int64_t)time(NULL) };
	snprintf(meta.source, sizeof(meta.source), "secondary");
	rrlist_t *removed = r->removed, *added = r->added;
	rrlist_t *drem = NULL, *dadd = NULL;
	int ret = TDM_OK;
	if (r->full && current != NULL) {
		/* A whole zone replacing ours still leaves a change to serve by IXFR downstream. */
		drem = rrlist_new();
		dadd = rrlist_new();
		if (drem == NULL || dadd == NULL || zone_diff(current, z, drem, dadd) != TDM_OK)
			ret = TDM_ENOMEM;
		removed = drem;
		added = dadd;
	}
	store_diff_t diff = { .serial_from = current ? zone_serial(current) : 0,
	                      .serial_to = zone_serial(z), .removed = removed, .added = added };
	if (ret == TDM_OK)
		/* Same serial, other contents (a retransfer): no change to journal, history restarts. */
		ret = store_zone_commit(job->srv->store, job->zr->name, list, &meta,
		                        current != NULL && diff.serial_from != diff.serial_to ? &diff
		                                                                              : NULL,
		                        job->journal_max);
	rrlist_free(drem);
	rrlist_free(dadd);
	return ret;
}

/* An incremental transfer through the change path: applied to our version (within the limits of a
 * whole transfer), appended to the journal. */
static int apply_change(job_t *job, int best, const zone_contents_t *current, const xfr_result_t *r,
                        change_t *chg, zone_contents_t **out)
{
	char addr[SOCKADDR_STRLEN], who[SOCKADDR_STRLEN + 16];
	sockaddr_format(&job->primaries[best].addr, addr, sizeof(addr));
	snprintf(who, sizeof(who), "IXFR from %s", addr);
	*chg = (change_t){ .store = job->srv->store, .zone = job->zr->name,
	                   .journal_max = job->journal_max, .max_records = job->max_records,
	                   .max_bytes = job->max_bytes, .check_serial = true, .serial = r->serial,
	                   .who = who };
	snprintf(chg->meta.source, sizeof(chg->meta.source), "secondary");
	int ret = change_commit(chg, current, r->removed, r->added, out);
	chg->who = NULL;   /* who was ours, on this stack */
	return ret;
}

/* One transfer attempt, IXFR (current given) or AXFR, through to a published version; *chg is set
 * (pending non-zero) when the change went through the change path. */
static int attempt(job_t *job, int best, const zone_contents_t *current, bool ixfr,
                   xfr_result_t *r, zone_contents_t **out, change_t *chg)
{
	xfr_peer_t peer = peer_of(job, (size_t)best);
	int ret = xfr_fetch(&peer, ixfr ? current : NULL, r);
	if (ret != TDM_OK || r->uptodate)
		return ret;
	/* RFC 1982: a version older than ours is a primary gone back in time (a backup restored, a rogue
	 * or spoofed answer): refused, unless the operator asked for it (retransfer). A whole zone at
	 * our own serial is nothing new. */
	if (current != NULL && !job->force_axfr) {
		int cmp = serial_cmp(r->serial, zone_serial(current));
		if (cmp < 0) {
			snprintf(r->error, sizeof(r->error), "serial %u is older than ours (%u): refused, "
			         "a retransfer takes it", r->serial, zone_serial(current));
			return TDM_ERANGE;
		}
		if (cmp == 0 && r->full) {
			r->uptodate = true;
			return TDM_OK;
		}
	}
	rrlist_t *list = NULL;
	zone_contents_t *z = NULL;
	if (!r->full) {
		ret = apply_change(job, best, current, r, chg, &z);
		if (ret == TDM_OK)
			*out = z;
		else
			snprintf(r->error, sizeof(r->error), "%s", ret == TDM_EMALF ?
			         "the change does not apply to our version" : ret == TDM_ERANGE ?
			         "the zone after the change is larger than max-zone-records or max-zone-size" :
			         ret == TDM_ESTORE ? "store: cannot commit the change" : tdm_strerror(ret));
		return ret;
	}
	if ((ret = build(job, current, r, &list, &z)) != TDM_OK) {
		snprintf(r->error, sizeof(r->error), "%s", ret == TDM_EMALF ?
		         "the change does not apply to our version" : ret == TDM_ERANGE ?
		         "the zone after the change is larger than max-zone-records or max-zone-size" :
		         tdm_strerror(ret));
		goto out;
	}
	if ((ret = commit(job, current, list, z, r)) != TDM_OK) {
		snprintf(r->error, sizeof(r->error), "store: %s", tdm_strerror(ret));
		zone_contents_free(z);
		goto out;
	}
	*out = z;
out:
	if (list != r->records)
		rrlist_free(list);
	return ret;
}

static bool still_secondary(zonert_t *zr)
{
	rcu_read_lock();
	const conf_zone_t *cz = rcu_dereference(zr->conf);
	bool yes = cz != NULL && cz->type == CONF_ZONE_SECONDARY;
	rcu_read_unlock();
	return yes;
}

/* Fetches and publishes; fills the state and says whether the zone changed. */
static bool transfer(job_t *job, int best, zone_contents_t *current, store_state_t *st)
{
	char addr[SOCKADDR_STRLEN];
	sockaddr_format(&job->primaries[best].addr, addr, sizeof(addr));
	struct timespec start;
	start = clock_now();
	xfr_result_t r;
	zone_contents_t *z = NULL;
	/* A retransfer asked for by the operator goes straight to AXFR. */
	const char *kind = current != NULL && !job->force_axfr ? "IXFR" : "AXFR";
	change_t chg = { 0 };
	int ret = attempt(job, best, current, current != NULL && !job->force_axfr, &r, &z, &chg);
	if (ret != TDM_OK && current != NULL && !job->force_axfr) {
		log_warn("%s: IXFR from %s failed (%s), falling back to AXFR", job->zr->name, addr,
		         r.error);
		metrics_event(job->srv, METRICS_XFR_IN_IXFR_FAILED);
		xfr_result_clear(&r);
		kind = "AXFR";
		chg = (change_t){ 0 };
		ret = attempt(job, best, current, false, &r, &z, &chg);
	}
	bool changed = false;
	if (ret != TDM_OK) {
		log_warn("%s: %s from %s failed (%s)", job->zr->name, kind, addr, r.error);
		metrics_event(job->srv, kind[0] == 'I' ? METRICS_XFR_IN_IXFR_FAILED
		                                       : METRICS_XFR_IN_AXFR_FAILED);
		set_result(st, "%s from %s failed: %s", kind, addr, r.error);
	} else if (r.uptodate || z == NULL) {
		timers_ok(job, current, &r, st);
		set_result(st, "ok: up to date at serial %u", zone_serial(current));
		zone_set_expired(job->zr->zone, false);
	} else {
		uint32_t from = current != NULL ? zone_serial(current) : 0;
		metrics_event(job->srv, kind[0] == 'I' ? METRICS_XFR_IN_IXFR_OK : METRICS_XFR_IN_AXFR_OK);
		/* An IXFR answered with the whole zone says so (RFC 1995 4 allows it). */
		if (r.full && strcmp(kind, "IXFR") == 0)
			kind = "IXFR (whole zone)";
		log_info("%s: %s from %s serial %u -> %u, %zu %s, %u messages, %.0f ms",
		         job->zr->name, kind, addr, from, zone_serial(z), r.changes,
		         r.full ? "records" : "changes", r.messages, clock_ms_since(&start));
		timers_ok(job, z, &r, st);
		set_result(st, "ok: %s serial %u -> %u", kind, from, zone_serial(z));
		snprintf(st->primary, sizeof(st->primary), "%s", addr);
		if (still_secondary(job->zr)) {
			job->zr->serial = zone_serial(z);
			bool compact = chg.store != NULL && change_compact_due(&chg, z);
			if (compact)
				zone_contents_ref(z);   /* pinned while the store is rewritten from it */
			zone_set_contents(job->zr->zone, z);
			zone_set_expired(job->zr->zone, false);
			changed = true;
			if (compact) {
				/* zoneload_compact asks again under the lock: a compaction begun while the
				 * zone was a primary may have folded the journal meanwhile. */
				zoneload_t zl = { .store = chg.store };
				zonert_compact_lock(job->zr);
				zoneload_compact(&zl, job->zr->name, z);
				zonert_compact_unlock(job->zr);
				zone_contents_unref(z);
			}
		} else {
			zone_contents_free(z);
		}
	}
	xfr_result_clear(&r);
	return changed;
}

/* After a failure: try again after the zone's retry interval (or the minimum before any data). */
static void timers_failed(const job_t *job, const zone_contents_t *current, store_state_t *st)
{
	int64_t now = (int64_t)time(NULL);
	uint32_t retry = current != NULL ? soa_field(current, 12) : job->retry_min;
	st->refresh_at = now + jitter(clamp(retry, job->retry_min, job->retry_max));
	st->last_refresh = now;
}

/* One refresh from start to end; reports to the control thread (slots: the job slots its end frees,
 * 1 for a job of its own, 0 or 1 within a batch) and frees the job. */
static void run_job(job_t *job, size_t slots)
{
	zonert_t *zr = job->zr;
	job->deadline = clock_us() + (int64_t)job->max_time * 1000000;
	zone_contents_t *current = zone_contents_pin(zr->zone);
	store_state_t st = zonert_state(zr);

	uint32_t serial = 0, expire = 0;
	bool has_expire = false;
	char why[160];
	/* Nothing held yet and one primary: nothing to compare, the AXFR is the check (a catalog's new
	 * members start a round trip sooner). */
	int best = current == NULL && job->naddrs == 1
	               ? 0 : best_primary(job, &serial, &has_expire, &expire, why, sizeof(why));
	bool changed = false, ok = true;
	if (best < 0) {
		set_result(&st, "no primary answered (%s)", job->naddrs ? why : "none configured");
		ok = false;
	} else if (current != NULL && !job->force_axfr &&
	           serial_cmp(serial, zone_serial(current)) <= 0) {
		/* RFC 7314 4: up to date, the EXPIRE the primary gave with its SOA still counts (a
		 * secondary of a secondary must not restart the clock from the SOA's field). */
		xfr_result_t none = { .has_expire = has_expire, .expire = expire };
		char addr[SOCKADDR_STRLEN];
		timers_ok(job, current, &none, &st);
		set_result(&st, "ok: up to date at serial %u", zone_serial(current));
		log_info("%s: up to date at serial %u (%s has %u)", zr->name, zone_serial(current),
		         sockaddr_format(&job->primaries[best].addr, addr, sizeof(addr)), serial);
		zone_set_expired(zr->zone, false);
	} else {
		changed = transfer(job, best, current, &st);
		ok = strncmp(st.last_result, "ok", 2) == 0;
	}
	if (!ok)
		timers_failed(job, current, &st);
	zonert_state_set(zr, &st);
	zone_set_expire_at(zr->zone, st.expire_at);
	/* Not stored yet (never transferred): the timers live in memory until it is. */
	store_state_set(job->srv->store, zr->name, &st);
	zone_contents_unref(current);
	if (changed)
		inbox_post(job->srv, CTL_NOTIFY, zr);
	if (changed && job->catalog)
		inbox_post(job->srv, CTL_CATALOG, zr);
	inbox_post_done(job->srv, zr, slots);
	zone_unref(zr->zone);
	job_free(job);
}

static void *job_main(void *arg)
{
	job_t *job = arg;
	server_t *srv = job->srv;
	rcu_register_thread();
	run_job(job, 1);
	atomic_fetch_sub(&srv->jobs_running, 1);
	rcu_unregister_thread();
	return NULL;
}

/*
 * First transfers in bulk: zones that hold nothing yet (a catalog's new members, zones added by
 * autoprimary) from one primary with a single address, up to REFRESH_BATCH_MAX of them in one job
 * that takes one of the primary's xfr-per-primary slots. Nothing to compare, so no SOA query: each
 * zone is asked for by AXFR, one after the other over one TCP connection as long as the primary
 * keeps it open (xfr_fetch_on), and all of them are committed to the store in one transaction (one
 * fsync), then published. Each zone keeps its own bounds (xfr-timeout per message, xfr-max-time
 * from the start of its own transfer, max-zone-records, max-zone-size) and its own result: one
 * that fails is retried later as any failed refresh, the others go on.
 */

typedef struct {
	job_t *job;
	xfr_result_t r;
	zone_contents_t *z;
	store_state_t st;
	double ms;
	bool stored;
} batch_item_t;

typedef struct {
	server_t *srv;
	size_t count;
	batch_item_t items[REFRESH_BATCH_MAX];
} batch_t;

static void batch_fetch(batch_item_t *it, xfr_conn_t *conn)
{
	job_t *job = it->job;
	struct timespec start;
	start = clock_now();
	job->deadline = clock_us() + (int64_t)job->max_time * 1000000;
	it->st = zonert_state(job->zr);
	xfr_peer_t peer = peer_of(job, 0);
	rrlist_t *list = NULL;
	int ret = xfr_fetch_on(&peer, NULL, conn, &it->r);
	if (ret == TDM_OK && (ret = build(job, NULL, &it->r, &list, &it->z)) != TDM_OK)
		snprintf(it->r.error, sizeof(it->r.error), "%s", ret == TDM_EMALF ?
		         "the zone does not build" : tdm_strerror(ret));
	it->ms = clock_ms_since(&start);
}

/* Inside the store batch: the zone and its timers, for each transfer that went through. */
static void batch_store(batch_item_t *it)
{
	job_t *job = it->job;
	char addr[SOCKADDR_STRLEN];
	sockaddr_format(&job->primaries[0].addr, addr, sizeof(addr));
	if (it->z != NULL) {
		int ret = commit(job, NULL, it->r.records, it->z, &it->r);
		if (ret == TDM_OK) {
			it->stored = true;
			timers_ok(job, it->z, &it->r, &it->st);
			set_result(&it->st, "ok: AXFR serial 0 -> %u", zone_serial(it->z));
			snprintf(it->st.primary, sizeof(it->st.primary), "%s", addr);
		} else {
			snprintf(it->r.error, sizeof(it->r.error), "store: %s", tdm_strerror(ret));
			zone_contents_free(it->z);
			it->z = NULL;
		}
	}
	if (it->z == NULL) {
		log_warn("%s: AXFR from %s failed (%s)", job->zr->name, addr, it->r.error);
		set_result(&it->st, "AXFR from %s failed: %s", addr, it->r.error);
		timers_failed(job, NULL, &it->st);
	}
	store_state_set(job->srv->store, job->zr->name, &it->st);
}

/* After the commit: served, logged, reported. */
static void batch_publish(batch_item_t *it, size_t slots)
{
	job_t *job = it->job;
	zonert_t *zr = job->zr;
	bool changed = false;
	if (it->z != NULL) {
		char addr[SOCKADDR_STRLEN];
		log_info("%s: AXFR from %s serial 0 -> %u, %zu records, %u messages, %.0f ms", zr->name,
		         sockaddr_format(&job->primaries[0].addr, addr, sizeof(addr)), zone_serial(it->z),
		         it->r.changes, it->r.messages, it->ms);
		if (still_secondary(zr)) {
			zr->serial = zone_serial(it->z);
			zone_set_contents(zr->zone, it->z);
			zone_set_expired(zr->zone, false);
			changed = true;
		} else {
			zone_contents_free(it->z);
		}
		it->z = NULL;
	}
	zonert_state_set(zr, &it->st);
	zone_set_expire_at(zr->zone, it->st.expire_at);
	if (changed)
		inbox_post(job->srv, CTL_NOTIFY, zr);
	if (changed && job->catalog)
		inbox_post(job->srv, CTL_CATALOG, zr);
	inbox_post_done(job->srv, zr, slots);
	xfr_result_clear(&it->r);
	zone_unref(zr->zone);
	job_free(job);
}

static void *batch_main(void *arg)
{
	batch_t *b = arg;
	server_t *srv = b->srv;
	rcu_register_thread();
	xfr_conn_t conn = XFR_CONN_NONE;
	bool keep = true;
	for (size_t i = 0; i < b->count; i++) {
		batch_fetch(&b->items[i], &conn);
		/* A primary that did not take a second request on a connection gets a new one for each
		 * zone: what it cost once (up to XFR_KEPT_WAIT_MS) is not paid again. */
		keep = keep && !b->items[i].r.reconnected;
		if (!keep)
			xfr_conn_close(&conn);
	}
	xfr_conn_close(&conn);
	bool batched = store_batch_begin(srv->store) == TDM_OK;
	for (size_t i = 0; i < b->count; i++)
		batch_store(&b->items[i]);
	if (batched && store_batch_commit(srv->store) != TDM_OK) {
		/* Nothing of the batch is stored: every zone of it failed, and is retried later. */
		for (size_t i = 0; i < b->count; i++) {
			batch_item_t *it = &b->items[i];
			if (it->z == NULL)
				continue;
			log_warn("%s: AXFR: the store did not commit it", it->job->zr->name);
			set_result(&it->st, "store: cannot commit the transfer");
			timers_failed(it->job, NULL, &it->st);
			zone_contents_free(it->z);
			it->z = NULL;
		}
	}
	for (size_t i = 0; i < b->count; i++)
		batch_publish(&b->items[i], i + 1 == b->count ? 1 : 0);
	atomic_fetch_sub(&srv->jobs_running, 1);
	free(b);
	rcu_unregister_thread();
	return NULL;
}

int refresh_start_batch(server_t *srv, zonert_t *const *zrs, size_t count)
{
	if (count == 0 || count > REFRESH_BATCH_MAX)
		return TDM_EINVAL;
	if (count == 1)
		return refresh_start(srv, zrs[0]);
	batch_t *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return TDM_ENOMEM;
	b->srv = srv;
	for (size_t i = 0; i < count; i++) {
		if ((b->items[i].job = job_new(srv, zrs[i])) == NULL)
			goto fail;
		b->count++;
	}
	for (size_t i = 0; i < count; i++)
		zone_ref(zrs[i]->zone);
	atomic_fetch_add(&srv->jobs_running, 1);
	if (thread_detached(batch_main, b) != TDM_OK) {
		log_err("%s: cannot start a transfer thread", zrs[0]->name);
		atomic_fetch_sub(&srv->jobs_running, 1);
		for (size_t i = 0; i < count; i++)
			zone_unref(zrs[i]->zone);
		goto fail;
	}
	return TDM_OK;
fail:
	for (size_t i = 0; i < b->count; i++)
		free(b->items[i].job);
	free(b);
	return TDM_ENOMEM;
}

bool refresh_batchable(const zonert_t *zr)
{
	const conf_zone_t *cz = zr->conf;
	if (cz == NULL || cz->type != CONF_ZONE_SECONDARY || cz->primary_count != 1 ||
	    cz->primaries[0]->address_count != 1 || zr->force_axfr)
		return false;
	rcu_read_lock();
	bool empty = zone_contents(zr->zone) == NULL;
	rcu_read_unlock();
	return empty;
}

int refresh_start(server_t *srv, zonert_t *zr)
{
	job_t *job = job_new(srv, zr);
	if (job == NULL)
		return TDM_ENOMEM;
	zone_ref(zr->zone);
	atomic_fetch_add(&srv->jobs_running, 1);
	int ret = thread_detached(job_main, job);
	if (ret != TDM_OK) {
		log_err("%s: cannot start a refresh thread", zr->name);
		atomic_fetch_sub(&srv->jobs_running, 1);
		zone_unref(zr->zone);
		job_free(job);
		return ret;
	}
	return TDM_OK;
}

void refresh_restore(server_t *srv, zonert_t *zr)
{
	store_state_t st;
	int64_t now = (int64_t)time(NULL);
	if (store_state_get(srv->store, zr->name, &st) != TDM_OK) {
		memset(&st, 0, sizeof(st));
		st.refresh_at = now;   /* never refreshed: at once */
	}
	zonert_state_set(zr, &st);
	zone_set_expire_at(zr->zone, st.expire_at);
	/* A zone whose expiry passed while we were down is not served until refreshed. */
	if (st.expire_at != 0 && now >= st.expire_at) {
		log_warn("%s: expired while the server was down: answering SERVFAIL until refreshed",
		         zr->name);
		zone_set_expired(zr->zone, true);
	}
}
