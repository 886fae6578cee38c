/* provision/autoprimary.c -- autoprimary (PowerDNS's supermaster): zones made by a NOTIFY from a super-primary */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/thread.h"
#include "provision/autoprimary.h"
#include "provision/dynzone.h"
#include "provision/zones.h"
#include "runtime/inbox.h"
#include "runtime/tlsctx.h"
#include "xfr/in.h"

/*
 * DESIGN. A NOTIFY for a zone we lack costs the super-primary an NS query and us a thread, and a
 * keyless super-primary's address is easy to spoof: so checks are deduplicated (a name waiting or
 * being checked is not checked again), queued per super-primary (at most AP_PENDING_MAX waiting,
 * more are dropped and counted), started at most AP_RATE a second per super-primary (a token
 * bucket) and run at most AP_RUNNING_MAX at once for the whole server, the super-primaries taking
 * turns. The inbox itself holds at most AP_INBOX_MAX such NOTIFYs not yet looked at (inbox.c).
 * All of it lives on the control thread.
 */
#define AP_RUNNING_MAX 4
#define AP_PENDING_MAX 256
#define AP_RATE 10
#define AP_DROP_LOG_SECONDS 10

typedef struct {
	uint8_t apex[NAME_MAXLEN];   /* lowercase wire */
	uint32_t hash;
} ap_name_t;

typedef struct {
	char name[256];              /* the super-primary's name (follows reloads by name) */
	ap_name_t *queue;            /* ring of AP_PENDING_MAX */
	size_t head, count;
	double tokens;
	int64_t refilled_ms;
	unsigned long long dropped, refused;   /* since the last log line about them */
	int64_t logged;
} ap_source_t;

struct ap_sched {
	ap_source_t *src;
	size_t nsrc, turn;
	ap_name_t running[AP_RUNNING_MAX];
	size_t nrunning;
	struct event *timer;         /* tokens run out while checks wait: look again soon */
};

typedef struct {
	server_t *srv;
	char name[NAME_TEXT_MAX];
	size_t index;
	uint8_t apex[NAME_MAXLEN];
	sockaddr_t primary, source;
	tsig_key_t key;
	uint8_t secret[TSIG_SECRET_MAX];
	bool has_key;
	char *nameservers;           /* copy, space-separated */
	unsigned timeout_ms;
	tls_client_t *tls;           /* the super-primary's TLS profile (XoT): the NS query goes over it */
} ap_job_t;

static bool names_us(const ap_job_t *job, uint8_t (*ns)[NAME_MAXLEN], size_t count)
{
	char text[NAME_TEXT_MAX];
	for (size_t i = 0; i < count; i++) {
		name_to_text(ns[i], text, sizeof(text));
		for (const char *p = job->nameservers; *p != '\0';) {
			size_t len = strcspn(p, " ");
			if (len == strlen(text) && strncmp(p, text, len) == 0)
				return true;
			p += len + (p[len] == ' ');
		}
	}
	return false;
}

static void *ap_main(void *arg)
{
	ap_job_t *job = arg;
	uint8_t (*ns)[NAME_MAXLEN] = malloc(64 * NAME_MAXLEN);
	size_t count = 0;
	char why[160] = "", addr[SOCKADDR_STRLEN];
	xfr_peer_t peer = { .zone = job->apex, .primary = &job->primary, .source = &job->source,
	                    .key = job->has_key ? &job->key : NULL, .tls = job->tls,
	                    .timeout_ms = job->timeout_ms };
	sockaddr_format(&job->primary, addr, sizeof(addr));
	int ret = ns != NULL ? xfr_ns_query(&peer, ns, 64, &count, why, sizeof(why)) : TDM_ENOMEM;
	if (ret != TDM_OK)
		log_warn("%s: NOTIFY from super-primary %s, but its NS query failed (%s)", job->name,
		         addr, why);
	else if (!names_us(job, ns, count))
		log_warn("%s: NOTIFY from super-primary %s, but its NS set does not name us (%s): "
		         "not created", job->name, addr, job->nameservers);
	else
		inbox_post_name(job->srv, CTL_AUTOPRIMARY_OK, job->name, job->index);
	/* Always, and last: the control thread frees the check's slot. */
	inbox_post_name(job->srv, CTL_AUTOPRIMARY_DONE, job->name, job->index);
	atomic_fetch_sub(&job->srv->jobs_running, 1);
	free(ns);
	tls_client_unref(job->tls);
	free(job->nameservers);
	free(job);
	return NULL;
}

/* A name that is not one counts as taken: nothing is made for it. */
static bool zone_exists(server_t *srv, const char *name)
{
	uint8_t wire[NAME_MAXLEN];
	return name_from_text(name, NULL, wire) < 0 || zones_find(srv, name) != NULL;
}

static struct ap_sched *ap_sched(server_t *srv)
{
	if (srv->ap == NULL)
		srv->ap = calloc(1, sizeof(*srv->ap));
	return srv->ap;
}

/* The queue of the super-primary of that name; made on first use. NULL on OOM. */
static ap_source_t *ap_source(struct ap_sched *ap, const char *name)
{
	for (size_t i = 0; i < ap->nsrc; i++)
		if (strcmp(ap->src[i].name, name) == 0)
			return &ap->src[i];
	ap_source_t *p = realloc(ap->src, (ap->nsrc + 1) * sizeof(*p));
	if (p == NULL)
		return NULL;
	ap->src = p;
	p = &p[ap->nsrc];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->tokens = AP_RATE;
	p->refilled_ms = clock_ms();
	if ((p->queue = calloc(AP_PENDING_MAX, sizeof(ap_name_t))) == NULL)
		return NULL;
	ap->nsrc++;
	return p;
}

static bool same_name(const ap_name_t *a, const ap_name_t *b)
{
	return a->hash == b->hash && name_equal(a->apex, b->apex);
}

/* Whether the name waits or is being checked already (any super-primary). */
static bool ap_known(const struct ap_sched *ap, const ap_name_t *n)
{
	for (size_t i = 0; i < ap->nrunning; i++)
		if (same_name(&ap->running[i], n))
			return true;
	for (size_t s = 0; s < ap->nsrc; s++) {
		const ap_source_t *src = &ap->src[s];
		for (size_t i = 0; i < src->count; i++)
			if (same_name(&src->queue[(src->head + i) % AP_PENDING_MAX], n))
				return true;
	}
	return false;
}

/* One line per super-primary every AP_DROP_LOG_SECONDS at most, however many NOTIFYs were dropped. */
static void ap_log_drops(ap_source_t *src, bool force)
{
	int64_t now = clock_ms();
	if (src->dropped + src->refused == 0 ||
	    (!force && now - src->logged < AP_DROP_LOG_SECONDS * 1000))
		return;
	log_warn("NOTIFY from super-primary %s: %llu dropped (%d checks queued already, at most %d a "
	         "second), %llu for names never made (the root, or at or below a zone here)", src->name,
	         src->dropped, AP_PENDING_MAX, AP_RATE, src->refused);
	src->dropped = src->refused = 0;
	src->logged = now;
}

static void ap_refill(ap_source_t *src, int64_t now)
{
	src->tokens += (double)(now - src->refilled_ms) * AP_RATE / 1000.0;
	if (src->tokens > AP_RATE)
		src->tokens = AP_RATE;
	src->refilled_ms = now;
}

static int ap_start(server_t *srv, const conf_autoprimary_t *ap, size_t index, const uint8_t *apex)
{
	const conf_t *conf = srv->rc->conf;
	ap_job_t *job = calloc(1, sizeof(*job));
	if (job == NULL || (job->nameservers = strdup(ap->nameservers)) == NULL) {
		free(job);
		return TDM_ENOMEM;
	}
	job->srv = srv;
	name_to_text(apex, job->name, sizeof(job->name));
	job->index = index;
	name_copy_lower(job->apex, apex);
	job->primary = ap->remote->addresses[0];
	job->source = sockaddr_family(&job->primary) == AF_INET6 ? conf->server.source6
	                                                         : conf->server.source4;
	const tsig_key_t *key = runconf_key(srv->rc, ap->remote->key);
	if (key != NULL && key->secret_len <= sizeof(job->secret)) {
		job->key = *key;
		memcpy(job->secret, key->secret, key->secret_len);
		job->key.secret = job->secret;
		job->has_key = true;
	}
	job->timeout_ms = conf->server.xfr_timeout * 1000;
	/* RFC 9103: a super-primary reached over TLS is asked its NS set over TLS too, never in plain
	 * text on its TLS port; without its context (a profile that failed to load) nothing is asked. */
	if (ap->remote->tls != NULL && (job->tls = tlsctx_client(srv->tls, ap->remote->tls)) == NULL) {
		log_warn("%s: NOTIFY from super-primary %s, but its TLS profile is not loaded: not checked",
		         job->name, ap->name);
		free(job->nameservers);
		free(job);
		return TDM_EINVAL;
	}
	/* Counted as a job: a stop waits for it (it posts to the control thread at its end). */
	atomic_fetch_add(&srv->jobs_running, 1);
	int ret = thread_detached(ap_main, job);
	if (ret != TDM_OK) {
		atomic_fetch_sub(&srv->jobs_running, 1);
		log_err("%s: cannot start the super-primary check", job->name);
		tls_client_unref(job->tls);
		free(job->nameservers);
		free(job);
	}
	return ret;
}

static const conf_autoprimary_t *ap_by_name(const conf_t *conf, const char *name, size_t *index)
{
	for (size_t i = 0; i < conf->autoprimary_count; i++)
		if (strcmp(conf->autoprimaries[i].name, name) == 0) {
			*index = i;
			return &conf->autoprimaries[i];
		}
	return NULL;
}

static void ap_timer_cb(evutil_socket_t fd, short what, void *arg);

/* Starts what waits, as far as the limits allow, the super-primaries taking turns. */
static void ap_pump(server_t *srv)
{
	struct ap_sched *ap = srv->ap;
	bool waiting = false;
	int64_t now = clock_ms();
	while (ap != NULL && ap->nrunning < AP_RUNNING_MAX && !srv->stopping) {
		ap_source_t *pick = NULL;
		waiting = false;
		for (size_t k = 0; k < ap->nsrc && pick == NULL; k++) {
			ap_source_t *src = &ap->src[(ap->turn + k) % ap->nsrc];
			ap_refill(src, now);
			if (src->count > 0 && src->tokens < 1)
				waiting = true;
			if (src->count > 0 && src->tokens >= 1) {
				pick = src;
				ap->turn = (ap->turn + k + 1) % ap->nsrc;
			}
		}
		if (pick == NULL)
			break;
		ap_name_t n = pick->queue[pick->head];
		pick->head = (pick->head + 1) % AP_PENDING_MAX;
		pick->count--;
		pick->tokens -= 1;
		size_t index;
		const conf_autoprimary_t *conf_ap = ap_by_name(srv->rc->conf, pick->name, &index);
		int len = name_length(n.apex, NAME_MAXLEN);
		/* Gone from the configuration, or the zone came meanwhile: nothing to check. */
		if (conf_ap == NULL || zoneset_find_exact(srv->zones, n.apex, len) != NULL)
			continue;
		if (ap_start(srv, conf_ap, index, n.apex) == TDM_OK)
			ap->running[ap->nrunning++] = n;
	}
	if (waiting && ap->timer == NULL)
		ap->timer = evtimer_new(srv->base, ap_timer_cb, srv);
	if (waiting && ap->timer != NULL) {
		struct timeval tv = { .tv_sec = 0, .tv_usec = 1000000 / AP_RATE };
		evtimer_add(ap->timer, &tv);
	}
}

static void ap_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	ap_pump(arg);
}

void autoprimary_check(server_t *srv, const char *name, size_t index)
{
	const conf_t *conf = srv->rc->conf;
	if (index >= conf->autoprimary_count || zone_exists(srv, name))
		return;
	const conf_autoprimary_t *cap = &conf->autoprimaries[index];
	struct ap_sched *ap = ap_sched(srv);
	ap_source_t *src = ap != NULL ? ap_source(ap, cap->name) : NULL;
	ap_name_t n = { .hash = 0 };
	int len = name_from_text(name, NULL, n.apex);
	if (src == NULL || len < 0)
		return;
	name_copy_lower(n.apex, n.apex);
	n.hash = name_hash(n.apex, (size_t)len);
	char origin[300];
	snprintf(origin, sizeof(origin), "autoprimary from %s", cap->name);
	if (dynzone_refused(srv, n.apex, origin) != NULL) {
		src->refused++;
		ap_log_drops(src, false);
		return;
	}
	if (ap_known(ap, &n))
		return;   /* waiting or being checked: one check answers every NOTIFY for it */
	if (src->count == AP_PENDING_MAX) {
		src->dropped++;
		ap_log_drops(src, false);
		return;
	}
	src->queue[(src->head + src->count++) % AP_PENDING_MAX] = n;
	ap_pump(srv);
}

void autoprimary_done(server_t *srv, const char *name)
{
	struct ap_sched *ap = srv->ap;
	uint8_t apex[NAME_MAXLEN];
	if (ap == NULL || name_from_text(name, NULL, apex) < 0)
		return;
	name_copy_lower(apex, apex);
	for (size_t i = 0; i < ap->nrunning; i++) {
		if (!name_equal(ap->running[i].apex, apex))
			continue;
		ap->running[i] = ap->running[--ap->nrunning];
		break;
	}
	for (size_t s = 0; s < ap->nsrc; s++)
		ap_log_drops(&ap->src[s], false);
	ap_pump(srv);
}

void autoprimary_free(server_t *srv)
{
	struct ap_sched *ap = srv->ap;
	if (ap == NULL)
		return;
	for (size_t i = 0; i < ap->nsrc; i++)
		free(ap->src[i].queue);
	free(ap->src);
	if (ap->timer != NULL)
		event_free(ap->timer);
	free(ap);
	srv->ap = NULL;
}

void autoprimary_add(server_t *srv, const char *name, size_t index)
{
	const conf_t *conf = srv->rc->conf;
	if (index >= conf->autoprimary_count || zone_exists(srv, name))
		return;
	const conf_autoprimary_t *ap = &conf->autoprimaries[index];
	uint8_t apex[NAME_MAXLEN];
	char origin[300];
	snprintf(origin, sizeof(origin), "autoprimary from %s", ap->name);
	if (name_from_text(name, NULL, apex) < 0)
		return;
	name_copy_lower(apex, apex);
	/* Checked again: the zone set may have changed while the NS query ran. */
	const char *why = dynzone_refused(srv, apex, origin);
	if (why != NULL) {
		log_warn("%s: NOTIFY from super-primary %s, but %s: not created", name, ap->name, why);
		return;
	}
	dynzone_t *d = dynzone_new_autoprimary(srv, name, ap);
	if (d == NULL)
		return;
	dynzone_persist(srv, d);
	log_info("%s: created by NOTIFY from super-primary %s, transferring it", name, ap->name);
	/* The set in force with this zone more, not a pass over every zone (zones_add). */
	if (zones_add(srv, &d->confs[d->cur]) != TDM_OK)
		zones_rebuild(srv);
}

int autoprimary_remove(server_t *srv, const char *name)
{
	dynzone_t *d = dynzone_find(srv, name);
	if (d == NULL)
		return TDM_ENOENT;
	if (strncmp(d->catalog, DYNZONE_AUTOPRIMARY_PREFIX, strlen(DYNZONE_AUTOPRIMARY_PREFIX)) != 0)
		return TDM_EEXIST;   /* a catalog member: the catalog decides */
	log_info("%s: removed by the operator (it came from %s)", name, d->confs[d->cur].origin);
	d->dead = true;
	srv->dyn_dead = true;
	srv->dyn_gen++;
	store_member_delete(srv->store, name);
	zonert_t *zr = zones_find(srv, name);   /* the set less this zone (zones_remove) */
	if (zr == NULL || zones_remove(srv, zr) != TDM_OK)
		zones_rebuild(srv);
	return TDM_OK;
}
