/* server/control.h -- the control thread: its event loop, the inbox's messages handled, bulk verification */
#pragma once

#include "runtime/runtime.h"

/* Sets up the event loop (inbox, NOTIFY sockets). TDM_OK or an error. */
int control_init(server_t *srv);
/* Runs until the loop is broken (SIGTERM/SIGINT: server.c). */
void control_run(server_t *srv);
void control_free(server_t *srv);

/* (Re)arms the bulk verification timer from verify-interval (0: off). */
void control_verify_arm(server_t *srv);

/* Control thread: the API's name orders of the set's large zones, made ahead (after a start or a
 * reload: api/apiorder.h). */
void control_warm_orders(server_t *srv);
