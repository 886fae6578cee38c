/* runtime/inbox.h -- messages any thread posts to the control thread, taken there in order */
#pragma once

#include "runtime/runtime.h"

/* Posts a message to the control thread (any thread). Takes a reference on the zone. */
void inbox_post(server_t *srv, ctl_kind_t kind, struct zonert *zr);
/* The same about a zone we do not have (by name), with an index (the autoprimary's). */
void inbox_post_name(server_t *srv, ctl_kind_t kind, const char *name, size_t index);
/* From any thread: a zone file read for a reload (CTL_RELOAD_READY), handed to the control thread
 * with the message (freed with it when nobody takes it). */
void inbox_post_reload(server_t *srv, struct zonert *zr, struct zonework_reload *reload);
/* From any thread: a refresh ended; slots says how many of its primary's job slots that frees (a
 * batch frees its one with its last zone). */
void inbox_post_done(server_t *srv, struct zonert *zr, size_t slots);

/* Control thread: takes every message posted so far, oldest first (the caller frees each with
 * inbox_msg_free once handled); clears the wakeup first, so that a post made meanwhile wakes it again. */
ctl_msg_t *inbox_take(server_t *srv);
/* Frees a message and drops the zone reference it holds. */
void inbox_msg_free(ctl_msg_t *m);
/* Frees what was posted and never taken (at the end). */
void inbox_drop_all(server_t *srv);
