/* sdnotify.h — the systemd service protocol: socket activation, readiness,
 * status text, watchdog pings and the stopping notice. Everything is a no-op
 * when the daemon does not run under a service manager ($NOTIFY_SOCKET,
 * $LISTEN_FDS and $WATCHDOG_USEC unset). */
#pragma once

#include "daemon/daemon.h"

/* The listening socket passed by socket activation: its fd (>= 3), or
 * -ENOENT when none was passed, or another -errno when what was passed is
 * not a listening AF_UNIX stream socket. Call once, before anything else
 * reads the environment; the LISTEN_* variables are removed. */
int sbd_notify_listen_fd(void);

/* After listening and the host checks: READY=1 with a STATUS= line, then
 * the watchdog pings (every WATCHDOG_USEC/2) and a rate-limited STATUS=
 * whenever the running job count changes. Handles are unreferenced so they
 * never keep the loop alive; the final uv_walk() closes them. */
int sbd_notify_ready(struct sbd_daemon *d);

/* On drain: STOPPING=1 and a status line. */
void sbd_notify_stopping(struct sbd_daemon *d);
