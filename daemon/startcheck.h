/* startcheck.h — the host checks at daemon start (see backends/hostcheck.h). */
#pragma once

#include "daemon/daemon.h"

/* Log one line per check (info when fine, a warning with the fix when not).
 * Returns <0 only when the daemon would be useless: the linux backend on a
 * host without the namespaces every job needs. */
int sbd_startcheck_run(struct sbd_daemon *d);
