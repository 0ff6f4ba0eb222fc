/* server.h — the listening socket and peer admission. */
#pragma once

#include "daemon/daemon.h"

/* Before the backend is opened (its open() reaps a previous instance's
 * leftovers): take the socket the service manager passed, or create the
 * socket's directory and make sure no other daemon is serving the socket;
 * remove a stale one. Logs and returns <0 on failure. */
int sbd_server_prepare(struct sbd_daemon *d);
/* Listen (a bound socket gets its mode and group first). Logs and returns
 * <0 on failure. */
int sbd_server_listen(struct sbd_daemon *d);
/* Stop accepting and remove the socket file we bound. Idempotent. */
void sbd_server_close(struct sbd_daemon *d);
