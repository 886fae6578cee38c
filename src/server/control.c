/* server/control.c -- the control thread: its event loop, the inbox's messages handled, bulk verification */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "api/apiorder.h"
#include "lib/error.h"
#include "lib/log.h"
#include "provision/autoprimary.h"
#include "provision/catconsume.h"
#include "provision/zones.h"
#include "repl/notify.h"
#include "repl/schedule.h"
#include "runtime/filesync.h"
#include "runtime/inbox.h"
#include "runtime/zonework.h"
#include "server/control.h"

/* The API's order of a large zone's names, made ahead (api/apiorder.h), once per lineage: a version
 * an UPDATE, an IXFR or a reload's diff made from the one before keeps its lineage, and the API carries
 * the order to it at the cost of the names it adds (apiorder_get: a kin), so only a version built
 * whole needs a new sort. Sorting again after every change kept a core busy through a burst of UPDATEs
 * (a third of tandemd's CPU at 100,000 records, bench/update.py). */
static void warm_order(zonert_t *zr)
{
	if (zr->srv->rc->conf->http.listen.len == 0)
		return;   /* no API: nobody will page through the records */
	rcu_read_lock();
	zone_contents_t *z = zone_contents(zr->zone);
	if (z != NULL && zone_contents_lineage(z) != zr->warmed_lineage) {
		zr->warmed_lineage = zone_contents_lineage(z);
		apiorder_warm(z);
	}
	rcu_read_unlock();
}

void control_warm_orders(server_t *srv)
{
	for (size_t i = 0; i < zoneset_count(srv->zones); i++)
		warm_order(zonert_of(zoneset_at(srv->zones, i)));
}

static void handle(server_t *srv, ctl_msg_t *m)
{
	zonert_t *zr = m->zr;
	if (zr == NULL && m->kind != CTL_AUTOPRIMARY && m->kind != CTL_AUTOPRIMARY_OK &&
	    m->kind != CTL_AUTOPRIMARY_DONE) {
		inbox_msg_free(m);
		return;
	}
	switch (m->kind) {
	case CTL_REFRESH:
		schedule_refresh(srv, zr);
		break;
	case CTL_REFRESH_DONE:
		schedule_done(srv, zr, m->index);
		break;
	case CTL_NOTIFY:   /* the zone's data changed */
		notify_changed(srv, zr);
		warm_order(zr);
		break;
	case CTL_FILE_SYNC:
		filesync_soon(srv, zr);
		break;
	case CTL_COMPACT:
		zonework_post(srv, ZONEWORK_COMPACT, zr);
		break;
	case CTL_WORK_DONE:   /* the reference the job held goes with the message */
		break;
	case CTL_RELOAD_READY:
		zones_reload_ready(srv, zr, m->reload);
		break;
	case CTL_CATALOG:
		catalog_consume(srv, zr);
		break;
	case CTL_AUTOPRIMARY:
		atomic_fetch_sub(&srv->ap_inbox, 1);
		autoprimary_check(srv, m->name, m->index);
		break;
	case CTL_AUTOPRIMARY_OK:
		autoprimary_add(srv, m->name, m->index);
		break;
	case CTL_AUTOPRIMARY_DONE:
		autoprimary_done(srv, m->name);
		break;
	}
	inbox_msg_free(m);
}

static void inbox_ready(evutil_socket_t fd, short what, void *arg)
{
	server_t *srv = arg;
	for (ctl_msg_t *m = inbox_take(srv); m != NULL;) {
		ctl_msg_t *next = m->next;
		handle(srv, m);
		m = next;
	}
}

/*
 * Bulk verification (the "verify zone lists" of Simple DNS Plus): every verify-interval seconds the
 * consumed catalogs are checked first (members missing or extra are provisioned or removed when
 * the catalog's new version arrives), then every secondary zone's serial against its primaries
 * (a zone behind is transferred). The refresh machinery does the work, within its job limits.
 */
static void verify_cb(evutil_socket_t fd, short what, void *arg)
{
	server_t *srv = arg;
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < zoneset_count(srv->zones); i++) {
			zonert_t *zr = zonert_of(zoneset_at(srv->zones, i));
			if (zr->conf == NULL || zr->conf->type != CONF_ZONE_SECONDARY ||
			    (zr->conf->catalog == CONF_CATALOG_CONSUME) != (pass == 0))
				continue;
			schedule_refresh(srv, zr);
			n++;
		}
	}
	srv->verify_last = (int64_t)time(NULL);
	srv->verify_zones = n;
	log_info("bulk verification: checking %zu secondary zones against their primaries", n);
	control_verify_arm(srv);
}

void control_verify_arm(server_t *srv)
{
	unsigned interval = srv->rc->conf->server.verify_interval;
	if (srv->verify_timer == NULL &&
	    (srv->verify_timer = evtimer_new(srv->base, verify_cb, srv)) == NULL)
		return;
	evtimer_del(srv->verify_timer);
	if (interval == 0)
		return;
	struct timeval tv = { .tv_sec = interval };
	evtimer_add(srv->verify_timer, &tv);
}

int control_init(server_t *srv)
{
	srv->base = event_base_new();
	srv->inbox_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&srv->inbox_lock, NULL);
	if (srv->base == NULL || srv->inbox_fd < 0)
		return TDM_ENOMEM;
	srv->inbox_ev = event_new(srv->base, srv->inbox_fd, EV_READ | EV_PERSIST, inbox_ready, srv);
	if (srv->inbox_ev == NULL)
		return TDM_ENOMEM;
	event_add(srv->inbox_ev, NULL);
	return notify_init(srv);
}

void control_run(server_t *srv)
{
	event_base_dispatch(srv->base);
}

void control_free(server_t *srv)
{
	if (srv->base == NULL)
		return;
	notify_free(srv);
	inbox_drop_all(srv);
	schedule_free(srv);
	autoprimary_free(srv);
	if (srv->verify_timer != NULL)
		event_free(srv->verify_timer);
	event_free(srv->inbox_ev);
	close(srv->inbox_fd);
	pthread_mutex_destroy(&srv->inbox_lock);
}
