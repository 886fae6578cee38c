/* repl/notify.c -- NOTIFY out (RFC 1996): told to every secondary of a zone, retried until answered */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/clock.h"
#include "lib/dueheap.h"
#include "lib/error.h"
#include "lib/log.h"
#include "repl/notify.h"
#include "runtime/metrics.h"
#include "xfr/net.h"

/*
 * DESIGN. The control thread sends every NOTIFY from one UDP socket per family (bound to
 * source-address, so that the secondaries' ACLs see the address they expect) and keeps each one
 * pending until its answer comes: the retry timer sends it again after 1, 2, 4 ... seconds (at most
 * a minute apart), NOTIFY_TRIES times in all (RFC 1996 3.6). A newer change to the same zone
 * replaces a pending NOTIFY to the same address. A signed NOTIFY needs a signed answer. A catalog
 * producer tells 100,000 member zones at once, so nothing here walks every NOTIFY pending: they are
 * found by zone and address (a new change) and by ID (an answer) through two hash tables that grow
 * with them, and the timer takes the tries that are due from a heap ordered by due time
 * (lib/dueheap.h) instead of looking at every one each tick.
 */
#define NOTIFY_BUCKETS_MIN 64
#define NOTIFY_ID_BUCKETS_MAX 65536   /* IDs have 16 bits: more buckets would stay empty */

#define NOTIFY_TRIES 10
#define NOTIFY_MAX_INTERVAL_MS 60000
#define NOTIFY_RESIGN_S 60   /* tries signed at one time for at most this long (the fudge is 300 s) */

/*
 * When a first try that waits for notify-rate is due (its place in the heap): before every retry, and
 * the newest first. A change just made is then told before the backlog of a start, a reload or a
 * catalog's members (100,000 first tries at 1,000 a second take 100 s) and before the retries of older
 * ones to a secondary that is down, which can fill the rate for minutes; retries among themselves go
 * the one due longest first. Retries are due at clock_ms() or later, never below 0.
 */
static int64_t first_try_due(void)
{
	return INT64_MIN / 2 - clock_ms();
}

typedef struct notify_pending {
	dueheap_entry_t due;         /* in srv->notify_due: when the next try goes (or may go, by the rate) */
	struct notify_pending *dest_next, *id_next;   /* hash chains */
	zonert_t *zr;                /* holds a zone reference */
	sockaddr_t addr;
	bool has_key;
	tsig_key_t key;
	uint8_t secret[TSIG_SECRET_MAX];
	tsig_ctx_t tsig;
	int64_t signed_at;           /* the time its tries are signed with (unix s), 0: not yet */
	uint16_t id;
	uint32_t serial;
	unsigned attempts;
} notify_pending_t;

static notify_pending_t *pending_of(dueheap_entry_t *e)
{
	return (notify_pending_t *)(void *)((char *)e - offsetof(notify_pending_t, due));
}

static void pending_free(notify_pending_t *p)
{
	tsig_ctx_clear(&p->tsig);
	zone_unref(p->zr->zone);
	free(p);
}

/* The NOTIFY itself: question (apex, SOA) and the SOA in the answer section (RFC 1996 3.7). */
static int build(notify_pending_t *p, const zone_contents_t *z, uint8_t *buf, size_t *len)
{
	pkt_writer_t w;
	uint16_t rdlen;
	const uint8_t *rd = zone_rrset_first(z, zone_soa(z), &rdlen);
	pkt_writer_init(&w, buf, PKT_MAXLEN - 512);
	uint16_t flags = PKT_FLAG_AA | (uint16_t)(PKT_OPCODE_NOTIFY << 11);
	int ret = pkt_write_header(&w, p->id, flags);
	if (ret == TDM_OK)
		ret = pkt_write_question(&w, zone_apex(z), PKT_TYPE_SOA, PKT_CLASS_IN);
	if (ret == TDM_OK)
		ret = pkt_write_rr(&w, NULL, PKT_HEADER_LEN, PKT_TYPE_SOA, PKT_CLASS_IN,
		                   zone_soa(z)->ttl, rd, rdlen);
	*len = pkt_writer_finish(&w);
	if (ret == TDM_OK && p->has_key) {
		/* The tries of one NOTIFY are the same message, signed at the same time while that is
		 * well inside the fudge (RFC 8945 5.2.3: 300 s): an answer to an earlier try, late under
		 * load, then verifies against this try's MAC. A new time every try made each such answer
		 * fail TSIG, and the NOTIFY go out again. */
		int64_t now = (int64_t)time(NULL);
		if (p->signed_at == 0 || now - p->signed_at > NOTIFY_RESIGN_S || now < p->signed_at)
			p->signed_at = now;
		tsig_ctx_clear(&p->tsig);
		tsig_ctx_init(&p->tsig, &p->key);
		ret = tsig_sign(&p->tsig, buf, len, PKT_MAXLEN, (uint64_t)p->signed_at);
	}
	return ret;
}

/* notify-rate: a bucket of a second's worth of NOTIFYs, refilled as time passes; false when this one
 * must wait for the timer (a first try then waits like a retry that is due). A burst of thousands of
 * zones (a start, a reload, a catalog's members) left at once overflows a secondary's receive queue:
 * the NOTIFYs it drops come back as retries, in waves, all at once again. */
static bool may_send(server_t *srv)
{
	unsigned rate = srv->rc->conf->server.notify_rate;
	if (rate == 0)
		return true;
	int64_t now = clock_ms();
	srv->notify_tokens += (double)(now - srv->notify_refill_ms) * rate / 1000.0;
	if (srv->notify_tokens > rate)
		srv->notify_tokens = rate;
	srv->notify_refill_ms = now;
	if (srv->notify_tokens < 1.0)
		return false;
	srv->notify_tokens -= 1.0;
	return true;
}

static void send_one(server_t *srv, notify_pending_t *p)
{
	uint8_t buf[PKT_MAXLEN];
	size_t len;
	rcu_read_lock();
	const zone_contents_t *z = zone_contents(p->zr->zone);
	int ret = z != NULL ? build(p, z, buf, &len) : TDM_ENOENT;
	rcu_read_unlock();
	int fd = sockaddr_family(&p->addr) == AF_INET6 ? srv->notify_fd6 : srv->notify_fd4;
	if (ret == TDM_OK && fd >= 0 &&
	    sendto(fd, buf, len, 0, (const struct sockaddr *)&p->addr.ss, p->addr.len) < 0)
		ret = -errno;
	char addr[SOCKADDR_STRLEN];
	metrics_event(srv, ret == TDM_OK ? METRICS_NOTIFY_OUT_SENT : METRICS_NOTIFY_OUT_FAILED);
	if (ret != TDM_OK)
		log_warn("%s: NOTIFY to %s not sent (%s)", p->zr->name,
		         sockaddr_format(&p->addr, addr, sizeof(addr)), tdm_strerror(ret));
	p->attempts++;
	int64_t wait = 1000LL << (p->attempts - 1 < 6 ? p->attempts - 1 : 6);
	dueheap_move(srv->notify_due, &p->due,
	             clock_ms() + (wait < NOTIFY_MAX_INTERVAL_MS ? wait : NOTIFY_MAX_INTERVAL_MS));
}

static bool same_dest(const sockaddr_t *a, const sockaddr_t *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static size_t dest_bucket(const server_t *srv, const zonert_t *zr, const sockaddr_t *addr)
{
	uint64_t h = (uint64_t)(uintptr_t)zr * 0x9E3779B97F4A7C15ull;
	const uint8_t *b = (const uint8_t *)&addr->ss;
	for (socklen_t i = 0; i < addr->len; i++)
		h = (h ^ b[i]) * 0x100000001B3ull;
	return (size_t)(h >> 32) & srv->notify_mask;
}

static size_t id_bucket(const server_t *srv, uint16_t id)
{
	return id & srv->notify_mask & (NOTIFY_ID_BUCKETS_MAX - 1);
}

static void unchain(notify_pending_t **head, notify_pending_t *p, bool by_id)
{
	for (notify_pending_t **pp = head; *pp != NULL; pp = by_id ? &(*pp)->id_next : &(*pp)->dest_next) {
		if (*pp == p) {
			*pp = by_id ? p->id_next : p->dest_next;
			return;
		}
	}
}

static void remove_pending(server_t *srv, notify_pending_t *p)
{
	dueheap_remove(srv->notify_due, &p->due);
	unchain(&srv->notify_by_dest[dest_bucket(srv, p->zr, &p->addr)], p, false);
	unchain(&srv->notify_by_id[id_bucket(srv, p->id)], p, true);
	pending_free(p);
}

/* Two buckets' chains made of every NOTIFY pending, for tables of mask + 1 buckets. */
static int tables_new(server_t *srv, size_t mask)
{
	notify_pending_t **by_dest = calloc(mask + 1, sizeof(*by_dest));
	notify_pending_t **by_id = calloc(mask < NOTIFY_ID_BUCKETS_MAX ? mask + 1 : NOTIFY_ID_BUCKETS_MAX,
	                                  sizeof(*by_id));
	if (by_dest == NULL || by_id == NULL) {
		free(by_dest);
		free(by_id);
		return TDM_ENOMEM;
	}
	free(srv->notify_by_dest);
	free(srv->notify_by_id);
	srv->notify_by_dest = by_dest;
	srv->notify_by_id = by_id;
	srv->notify_mask = mask;
	for (size_t i = 0; i < dueheap_count(srv->notify_due); i++) {
		notify_pending_t *p = pending_of(dueheap_at(srv->notify_due, i));
		size_t d = dest_bucket(srv, p->zr, &p->addr), b = id_bucket(srv, p->id);
		p->dest_next = by_dest[d];
		by_dest[d] = p;
		p->id_next = by_id[b];
		by_id[b] = p;
	}
	return TDM_OK;
}

static void queue(server_t *srv, zonert_t *zr, const sockaddr_t *addr, const tsig_key_t *key,
                  uint32_t serial)
{
	notify_pending_t *p = srv->notify_by_dest[dest_bucket(srv, zr, addr)];
	while (p != NULL && !(p->zr == zr && same_dest(&p->addr, addr)))
		p = p->dest_next;
	if (p == NULL) {
		/* The tables grow with what is pending (a chain a bucket on average); when they cannot,
		 * their chains grow longer and everything still works. */
		if (dueheap_count(srv->notify_due) >= srv->notify_mask + 1)
			(void)tables_new(srv, srv->notify_mask * 2 + 1);
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return;
		dueheap_entry_init(&p->due);
		if (dueheap_put(srv->notify_due, &p->due, first_try_due()) != TDM_OK) {
			free(p);
			return;
		}
		p->zr = zr;
		zone_ref(zr->zone);
		p->addr = *addr;
		tsig_ctx_init(&p->tsig, NULL);
		size_t b = dest_bucket(srv, zr, addr);
		p->dest_next = srv->notify_by_dest[b];
		srv->notify_by_dest[b] = p;
	} else {
		unchain(&srv->notify_by_id[id_bucket(srv, p->id)], p, true);   /* a new ID follows */
	}
	p->has_key = key != NULL && key->secret_len <= sizeof(p->secret);
	if (p->has_key) {
		p->key = *key;
		memcpy(p->secret, key->secret, key->secret_len);
		p->key.secret = p->secret;
	}
	if (getrandom(&p->id, sizeof(p->id), 0) != sizeof(p->id))
		p->id = (uint16_t)clock_ms();
	p->id_next = srv->notify_by_id[id_bucket(srv, p->id)];
	srv->notify_by_id[id_bucket(srv, p->id)] = p;
	p->serial = serial;
	p->attempts = 0;
	p->signed_at = 0;
	if (may_send(srv))
		send_one(srv, p);
	else   /* a tick sends it when the rate allows (first_try_due) */
		dueheap_move(srv->notify_due, &p->due, first_try_due());
}

void notify_zone(server_t *srv, zonert_t *zr)
{
	const conf_zone_t *cz = zr->conf;
	rcu_read_lock();
	const zone_contents_t *z = zone_contents(zr->zone);
	uint32_t serial = z != NULL ? zone_serial(z) : 0;
	rcu_read_unlock();
	if (cz == NULL || z == NULL)
		return;
	for (size_t i = 0; i < cz->notify_count; i++) {
		const conf_remote_t *r = cz->notify[i];
		for (size_t j = 0; j < r->address_count; j++)
			queue(srv, zr, &r->addresses[j], runconf_key(srv->rc, r->key), serial);
	}
	if (cz->notify_count > 0)
		log_info("%s: NOTIFY serial %u to %zu secondaries", zr->name, serial, cz->notify_count);
}

static void hold_ended(evutil_socket_t fd, short what, void *arg)
{
	zonert_t *zr = arg;
	if (zr->notify_held) {
		zr->notify_held = false;
		notify_changed(zr->srv, zr);   /* the newest serial, and a new hold behind it */
	}
}

/* After a change is told, further changes to the zone wait `notify-delay` seconds (the zone's, else the
 * server's: 1 by default) and go out together: a stream of UPDATEs or API edits (thousands a second)
 * costs its secondaries a NOTIFY, and very likely a transfer, a second each instead of one per change,
 * while a change alone is still told at once. RFC 1996 4.3 lets a primary delay a NOTIFY (up to the
 * SOA refresh); BIND's notify-delay holds changes back the same way. 0: every change told at once. */
void notify_changed(server_t *srv, zonert_t *zr)
{
	const conf_zone_t *cz = zr->conf;
	if (cz == NULL || cz->notify_count == 0)
		return;   /* no secondaries to tell */
	unsigned delay = cz->notify_delay_set ? cz->notify_delay : srv->rc->conf->server.notify_delay;
	if (delay == 0 ||
	    (zr->notify_hold == NULL && (zr->notify_hold = evtimer_new(srv->base, hold_ended, zr)) == NULL)) {
		notify_zone(srv, zr);   /* no hold wanted, or no timer to be had: told at once */
		return;
	}
	if (evtimer_pending(zr->notify_hold, NULL)) {
		zr->notify_held = true;
		return;
	}
	notify_zone(srv, zr);
	struct timeval tv = { .tv_sec = (time_t)delay };
	evtimer_add(zr->notify_hold, &tv);
}

/* Every tick: the tries that are due, soonest first, as many as the rate allows; the rest wait for the
 * next tick. A try sent is due again later, so the loop ends. */
static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	server_t *srv = arg;
	int64_t now = clock_ms();
	dueheap_entry_t *e;
	while ((e = dueheap_first(srv->notify_due)) != NULL && e->due <= now) {
		notify_pending_t *p = pending_of(e);
		if (p->attempts >= NOTIFY_TRIES) {
			char addr[SOCKADDR_STRLEN];
			log_warn("%s: NOTIFY serial %u to %s never answered, giving up after %u tries",
			         p->zr->name, p->serial, sockaddr_format(&p->addr, addr, sizeof(addr)),
			         p->attempts);
			metrics_event(srv, METRICS_NOTIFY_OUT_FAILED);
			remove_pending(srv, p);
		} else if (may_send(srv)) {
			send_one(srv, p);
		} else {
			break;
		}
	}
}

static const char *rcode_text(int rcode)
{
	static const char *names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
	                               "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH" };
	return rcode >= 0 && rcode < 10 ? names[rcode] : "error";
}

/* Answers that fail TSIG can come as fast as anyone forges them: a few lines (lib/log.h). */
static log_limit_t answer_tsig_failures = LOG_LIMIT_INIT("NOTIFY answers failing TSIG");

/* An answer to one of our NOTIFYs: the secondary has it (or refused it; either way, done). */
static void answer(server_t *srv, const uint8_t *msg, size_t len, const sockaddr_t *from)
{
	if (len < PKT_HEADER_LEN || !(pkt_flags(msg) & PKT_FLAG_QR) ||
	    pkt_opcode(msg) != PKT_OPCODE_NOTIFY)
		return;
	/* The ID, the address and the zone: a secondary told of thousands of zones at once has thousands
	 * of NOTIFYs pending, and their random 16-bit IDs repeat (200 give a repeat one run in three):
	 * matched by ID alone, an answer for one zone ended another's NOTIFY, perhaps one not yet sent. */
	size_t pos = PKT_HEADER_LEN;
	pkt_question_t q;
	if (pkt_qdcount(msg) != 1 || pkt_read_question(msg, len, &pos, &q) != TDM_OK)
		return;
	notify_pending_t *p = srv->notify_by_id[id_bucket(srv, pkt_id(msg))];
	while (p != NULL && !(p->id == pkt_id(msg) && same_dest(&p->addr, from) &&
	                      name_equal(q.qname, zone_name(p->zr->zone))))
		p = p->id_next;
	if (p == NULL)
		return;   /* late, or not ours */
	char addr[SOCKADDR_STRLEN];
	sockaddr_format(from, addr, sizeof(addr));
	if (p->has_key && tsig_verify(&p->tsig, msg, len, (uint64_t)time(NULL)) != TDM_OK) {
		log_limited(&answer_tsig_failures, LOG_WARN,
		            "%s: answer to NOTIFY from %s fails TSIG, ignored", p->zr->name, addr);
		return;
	}
	int rcode = pkt_rcode(msg);
	if (rcode == PKT_RCODE_NOERROR) {
		log_debug("%s: NOTIFY serial %u acknowledged by %s", p->zr->name, p->serial, addr);
		metrics_event(srv, METRICS_NOTIFY_OUT_ACKNOWLEDGED);
		zonert_peer_seen(p->zr, from, "notify", false, 0, NULL);
	} else {
		log_warn("%s: NOTIFY serial %u to %s answered %s", p->zr->name, p->serial, addr,
		         rcode_text(rcode));
		metrics_event(srv, METRICS_NOTIFY_OUT_FAILED);
	}
	remove_pending(srv, p);
}

static void readable(evutil_socket_t fd, short what, void *arg)
{
	server_t *srv = arg;
	uint8_t buf[PKT_MAXLEN];
	for (int i = 0; i < 64; i++) {
		sockaddr_t from = { .len = sizeof(from.ss) };
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from.ss,
		                     &from.len);
		if (n < 0)
			return;
		answer(srv, buf, (size_t)n, &from);
	}
}

static int open_socket(server_t *srv, int family, const sockaddr_t *source, struct event **ev)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;   /* no such family here: NOTIFYs to it fail when sent */
	if (source->len > 0 && sockaddr_family(source) == family &&
	    bind(fd, (const struct sockaddr *)&source->ss, source->len) != 0) {
		char addr[SOCKADDR_STRLEN];
		log_err("cannot bind the NOTIFY socket to %s (%s)",
		        sockaddr_format(source, addr, sizeof(addr)), strerror(errno));
		close(fd);
		return -1;
	}
	*ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, readable, srv);
	if (*ev != NULL)
		event_add(*ev, NULL);
	return fd;
}

int notify_init(server_t *srv)
{
	const conf_server_t *cs = &srv->rc->conf->server;
	if ((srv->notify_due = dueheap_new()) == NULL || tables_new(srv, NOTIFY_BUCKETS_MIN - 1) != TDM_OK)
		return TDM_ENOMEM;
	srv->notify_fd4 = open_socket(srv, AF_INET, &cs->source4, &srv->notify_ev4);
	srv->notify_fd6 = open_socket(srv, AF_INET6, &cs->source6, &srv->notify_ev6);
	srv->notify_timer = event_new(srv->base, -1, EV_PERSIST, retry_cb, srv);
	if (srv->notify_timer == NULL)
		return TDM_ENOMEM;
	srv->notify_tokens = cs->notify_rate;
	srv->notify_refill_ms = clock_ms();
	struct timeval tv = { .tv_sec = 0, .tv_usec = 250000 };
	event_add(srv->notify_timer, &tv);
	return TDM_OK;
}

void notify_free(server_t *srv)
{
	while (srv->notify_due != NULL && dueheap_count(srv->notify_due) > 0)
		remove_pending(srv, pending_of(dueheap_first(srv->notify_due)));
	dueheap_free(srv->notify_due);
	srv->notify_due = NULL;
	free(srv->notify_by_dest);
	free(srv->notify_by_id);
	srv->notify_by_dest = srv->notify_by_id = NULL;
	if (srv->notify_ev4 != NULL)
		event_free(srv->notify_ev4);
	if (srv->notify_ev6 != NULL)
		event_free(srv->notify_ev6);
	if (srv->notify_timer != NULL)
		event_free(srv->notify_timer);
	if (srv->notify_fd4 >= 0)
		close(srv->notify_fd4);
	if (srv->notify_fd6 >= 0)
		close(srv->notify_fd6);
}
