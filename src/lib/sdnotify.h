/* lib/sdnotify.h -- telling systemd (Type=notify) that the server is ready, reloading or stopping */
#pragma once

/*
 * The sd_notify protocol (sd_notify(3)): one datagram with "KEY=value" lines to the AF_UNIX socket named
 * by $NOTIFY_SOCKET (a path, or an abstract name written with a leading '@'). Written here rather than
 * linking libsystemd for one sendto: the protocol is a stable interface of systemd. Without
 * $NOTIFY_SOCKET (not started by systemd) nothing is sent. Failures are ignored: the service manager's
 * timeouts tell the operator.
 */
void sdnotify(const char *state);
