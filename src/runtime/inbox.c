/* runtime/inbox.c -- messages any thread posts to the control thread, taken there in order */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/log.h"
#include "runtime/inbox.h"
#include "runtime/zonert.h"
#include "runtime/zonework.h"

/* The eventfd is written only when the inbox was empty: inbox_take clears it before it takes the
 * whole inbox, so a message added to a non-empty inbox is taken by a wakeup already due (an UPDATE
 * posts two messages; the second costs no system call and no second wakeup). */
static void post(server_t *srv, ctl_msg_t *m)
{
	pthread_mutex_lock(&srv->inbox_lock);
	bool wake = srv->inbox == NULL;
	m->next = srv->inbox;
	srv->inbox = m;
	pthread_mutex_unlock(&srv->inbox_lock);
	if (wake) {
		uint64_t one = 1;
		ssize_t w = write(srv->inbox_fd, &one, sizeof(one));
		(void)w;
	}
}

/* NOTIFYs for zones we lack, posted by workers and not looked at yet: a flood of them (spoofed from
 * a super-primary's address) costs this much memory at most; more are dropped (autoprimary.c
 * deduplicates, queues and rate-limits what gets through). */
#define AP_INBOX_MAX 4096

void inbox_post_name(server_t *srv, ctl_kind_t kind, const char *name, size_t index)
{
	if (kind == CTL_AUTOPRIMARY && atomic_fetch_add(&srv->ap_inbox, 1) >= AP_INBOX_MAX) {
		atomic_fetch_sub(&srv->ap_inbox, 1);
		return;
	}
	ctl_msg_t *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		if (kind == CTL_AUTOPRIMARY)
			atomic_fetch_sub(&srv->ap_inbox, 1);
		log_err("%s: out of memory, an event was lost", name);
		return;
	}
	m->kind = kind;
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->index = index;
	post(srv, m);
}

static void post_zone(server_t *srv, ctl_kind_t kind, zonert_t *zr, size_t index,
                      struct zonework_reload *reload)
{
	ctl_msg_t *m = malloc(sizeof(*m));
	if (m == NULL) {
		log_err("%s: out of memory, an event was lost", zr->name);
		zonework_reload_free(reload);
		return;
	}
	zone_ref(zr->zone);
	m->kind = kind;
	m->zr = zr;
	m->index = index;
	m->reload = reload;
	post(srv, m);
}

void inbox_post(server_t *srv, ctl_kind_t kind, zonert_t *zr)
{
	post_zone(srv, kind, zr, kind == CTL_REFRESH_DONE ? 1 : 0, NULL);
}

void inbox_post_reload(server_t *srv, zonert_t *zr, struct zonework_reload *reload)
{
	post_zone(srv, CTL_RELOAD_READY, zr, 0, reload);
}

void inbox_post_done(server_t *srv, zonert_t *zr, size_t slots)
{
	post_zone(srv, CTL_REFRESH_DONE, zr, slots, NULL);
}

ctl_msg_t *inbox_take(server_t *srv)
{
	uint64_t count;
	ssize_t r = read(srv->inbox_fd, &count, sizeof(count));
	(void)r;
	pthread_mutex_lock(&srv->inbox_lock);
	ctl_msg_t *list = srv->inbox;
	srv->inbox = NULL;
	pthread_mutex_unlock(&srv->inbox_lock);
	/* The list is newest first: turn it around. */
	ctl_msg_t *ordered = NULL;
	while (list != NULL) {
		ctl_msg_t *next = list->next;
		list->next = ordered;
		ordered = list;
		list = next;
	}
	return ordered;
}

void inbox_msg_free(ctl_msg_t *m)
{
	if (m->zr != NULL)
		zone_unref(m->zr->zone);
	zonework_reload_free(m->reload);
	free(m);
}

void inbox_drop_all(server_t *srv)
{
	ctl_msg_t *m = srv->inbox;
	while (m != NULL) {
		ctl_msg_t *next = m->next;
		inbox_msg_free(m);
		m = next;
	}
	srv->inbox = NULL;
}
